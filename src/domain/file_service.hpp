#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// otad's own file storage, as the OTA API sees it: upload forms in the shape of OSS PostObject,
// the records of uploaded files, URLs that resolve to them, and short signed download URLs for
// devices. The bytes live behind the BlobStore port; this class does no I/O of its own.

namespace otad::domain {

struct FileServiceOptions {
    /// Scheme, host and port the upload form is posted to (the form's `Host`), without a
    /// trailing slash, e.g. "http://127.0.0.1:8080". Object URLs are this plus "/" + key.
    std::string upload_base_url;
    /// Base of device download URLs, e.g. "http://ota.example.com"; empty = upload_base_url.
    std::string download_base_url;
    /// Server secret (at least 32 random bytes). Form signatures, the public access key id and
    /// download signatures are all derived from it, each under its own label.
    std::string secret;
    /// How long a form may be used.
    int64_t form_ttl_ms = 60'000;
    /// How long an upload may stay unreferenced before it is collected.
    int64_t unreferenced_ttl_ms = 60 * 60'000;
    /// Largest firmware file a form accepts (1,000 MB as OSS counts, 1000 * 2^20).
    int64_t max_upload_bytes = int64_t{1000} * 1024 * 1024;
    /// Largest device-list file, and most names in it.
    int64_t max_device_list_bytes = 5 * 1024 * 1024;
    size_t max_device_names = 1'000'000;
};

/// An upload form: the record as stored plus the OSS PostObject fields handed to the client.
struct UploadForm {
    StoredFile file;
    std::string host;           ///< where to POST
    std::string object_url;     ///< FirmwareUrl / FileUrl
    std::string policy;         ///< Base64 POST policy
    std::string signature;      ///< Base64 HMAC-SHA1 of `policy`
    std::string access_key_id;  ///< OSSAccessKeyId / AccessKeyId (public)
};

/// The form fields of a PostObject request, as received.
struct PostedForm {
    std::string object_key;  ///< `key`
    std::string policy;
    std::string signature;
    std::string access_key_id;  ///< `OSSAccessKeyId`
};

/// What the upload handler measured of the received file.
struct UploadedContent {
    int64_t size = 0;
    std::string md5;     ///< lower-case hex
    std::string sha256;  ///< lower-case hex
};

struct AcceptedUpload {
    Scope scope;
    StoredFile file;
};

/// What a verified download URL points at.
struct DownloadTarget {
    std::string sha256;
    int64_t size = -1;  ///< -1 when only the blob itself knows
    std::string file_name;
};

class FileService {
  public:
    /// `blobs` holds the bytes; the caller keeps `store`, `blobs` and `clock` alive.
    FileService(Store& store, BlobStore& blobs, const Clock& clock, FileServiceOptions options);

    /// Sets the base URLs once the listening address is known (port 0 resolved). Thread-safe.
    void SetBaseUrls(std::string upload_base_url, std::string download_base_url);
    std::string upload_base_url() const;
    std::string download_base_url() const;
    /// The public id the forms carry.
    const std::string& access_key_id() const { return access_key_id_; }
    const FileServiceOptions& options() const { return options_; }

    /// Hands out a form for one file of `kind` and records it. `file_suffix` applies to
    /// firmware only (empty = "bin"); kInvalidFormattedParameter for a suffix outside bin, dav,
    /// apk, tar, gz, tar.gz, zip, gzip, tar.xz, pack. Device lists are always ".csv".
    Result<UploadForm> GenerateForm(const Scope& scope,
                                    FileKind kind,
                                    std::string_view file_suffix);

    /// Checks a posted form and records the upload. `store_blob`, when given, runs after the
    /// checks and before the record is written, serialized with CollectExpired, so that a
    /// blob is never collected between being stored and being recorded; its failure fails the
    /// upload. Errors:
    ///  - kAccessKeyNotFound: not our access key id;
    ///  - kSignatureDoesNotMatch: the policy is not signed by this server;
    ///  - kFileNotFound: no such form (never handed out, or collected);
    ///  - kInvalidFormattedParameter: the policy is not the one of this form, or the file is
    ///    already used by a package or batch;
    ///  - kTimestampExpired: the form's validity has passed;
    ///  - kInvalidParameter (param "file"): size outside the policy's content-length-range.
    /// A second upload to the same key replaces the first.
    Result<AcceptedUpload> AcceptUpload(const PostedForm& form,
                                        const UploadedContent& content,
                                        int64_t now_ms,
                                        const std::function<Status()>& store_blob = {});

    /// The uploaded file that `url` names, when `url` is one of otad's object URLs (upload or
    /// download base + "/" + key; a query is ignored). Nothing when the URL points elsewhere.
    /// kFileNotFound when it is ours but not a file of this scope, not uploaded yet, or
    /// expired. The caller checks the kind, and marks the file referenced (UpdateFile) in its
    /// own write transaction, passing that transaction here.
    Result<std::optional<StoredFile>> ResolveUrl(ReadTx& tx,
                                                 const Scope& scope,
                                                 std::string_view url) const;

    /// The uploaded file that a package's stored URL names, matched by its object key
    /// whatever the scheme, host and port: otad's address may have changed since the package
    /// was created. Nothing when the URL names no uploaded file of this scope (a file hosted
    /// elsewhere).
    Result<std::optional<StoredFile>> FindPackageFile(ReadTx& tx,
                                                      const Scope& scope,
                                                      std::string_view url) const;

    /// Device names in an uploaded device-list file (FileUrl of GenerateDeviceNameListURL):
    /// separated by line breaks or commas, blanks trimmed, empty entries skipped, in file
    /// order (duplicates kept). kFileNotFound when the URL is not such a file of this scope;
    /// kTooManyTargetDevices beyond max_device_names. The caller validates each name.
    Result<std::vector<std::string>> ReadDeviceList(const Scope& scope, std::string_view url);

    /// A signed URL through which a device downloads a blob until `expires_ms`:
    /// "<download base>/fw/<sha256>/<file name>?e=<unix s>&s=<32 hex>", or, when `ref` is an
    /// object key, "<download base>/fw/<object key>?e=…&s=…". The file name is dropped when
    /// the URL would otherwise reach 255 bytes; kInternal if it still would.
    Result<std::string> DownloadUrl(std::string_view ref,
                                    std::string_view file_name,
                                    int64_t expires_ms) const;

    /// Checks a download request: `path` is the request path starting with "/fw/", `expires`
    /// and `signature` the e and s query values. kSignatureDoesNotMatch for a malformed or
    /// wrongly signed URL, kTimestampExpired when it expired, kFileNotFound when an object key
    /// no longer names an uploaded file.
    Result<DownloadTarget> VerifyDownload(std::string_view path,
                                          std::string_view expires,
                                          std::string_view signature,
                                          int64_t now_ms);

    /// Deletes forms and uploads that expired unreferenced, and their blobs when no other
    /// record uses them. Returns how many records were deleted.
    Result<int64_t> CollectExpired(int64_t now_ms);

  private:
    std::string PolicyFor(const StoredFile& file) const;
    std::string SignPolicy(std::string_view policy) const;
    std::string SignDownload(std::string_view path_ref, std::string_view expires) const;
    int64_t MaxBytes(FileKind kind) const;
    /// The object key in `url` when it is one of our object URLs.
    std::optional<std::string> ObjectKeyOf(std::string_view url) const;

    Store& store_;
    BlobStore& blobs_;
    const Clock& clock_;
    const FileServiceOptions options_;
    std::string form_key_;
    std::string download_key_;
    std::string access_key_id_;

    mutable std::mutex url_mu_;
    std::string upload_base_url_;    // guarded by url_mu_
    std::string download_base_url_;  // guarded by url_mu_

    /// Serializes storing a blob plus recording it with collecting records plus removing blobs.
    std::mutex blob_mu_;
};

/// Splits the text of a device-list file into names (see FileService::ReadDeviceList).
/// kTooManyTargetDevices when there are more than `max_names`.
Result<std::vector<std::string>> ParseDeviceList(std::string_view text, size_t max_names);

}  // namespace otad::domain
