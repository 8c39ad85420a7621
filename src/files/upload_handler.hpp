#pragma once

#include "common/clock.hpp"
#include "common/http_message.hpp"
#include "domain/file_service.hpp"
#include "files/blob_store.hpp"
#include "files/multipart.hpp"

namespace otad::files {

/// Receives OSS PostObject uploads: a multipart/form-data POST with the fields of a form from
/// GenerateOTAUploadURL or GenerateDeviceNameListURL (`key`, `policy`, `OSSAccessKeyId`,
/// `Signature`, optionally `success_action_status`) and a `file` part. The file is streamed to
/// the staging directory while its digests are computed, checked against the form by
/// FileService, and then becomes a blob. Answers as OSS does: 204 (or 200, or 201 with an XML
/// PostResponse, as `success_action_status` asks) and OSS XML errors with 400 or 403.
/// Thread-safe.
class UploadHandler {
  public:
    UploadHandler(domain::FileService& files,
                  DiskBlobStore& blobs,
                  const Clock& clock,
                  MultipartLimits limits = {});

    /// The body may be in memory or spooled (HttpRequest::body_file).
    HttpResponse Handle(const HttpRequest& request);

    /// True for a POST whose Content-Type is multipart/form-data.
    static bool IsUpload(const HttpRequest& request);

  private:
    domain::FileService& files_;
    DiskBlobStore& blobs_;
    const Clock& clock_;
    const MultipartLimits limits_;
};

}  // namespace otad::files
