#pragma once

#include "common/clock.hpp"
#include "common/http_message.hpp"
#include "domain/file_service.hpp"
#include "files/blob_store.hpp"

#include <cstdint>
#include <string_view>

namespace otad::files {

/// What a Range header asks of a file of known size.
struct RangeRequest {
    enum class Kind {
        kWhole,          ///< no Range, or one the server ignores (several ranges, bad syntax)
        kPartial,        ///< one satisfiable range: first..last inclusive
        kUnsatisfiable,  ///< answer 416
    };
    Kind kind = Kind::kWhole;
    uint64_t first = 0;
    uint64_t last = 0;
};

/// Interprets a Range header value (`bytes=N-`, `bytes=N-M`, `bytes=-N`) for a file of
/// `total` bytes.
RangeRequest ParseRange(std::string_view header, uint64_t total);

/// Serves `GET|HEAD /fw/...` from signed download URLs (FileService::DownloadUrl): the file
/// with Content-Length and Accept-Ranges, one byte range per request (206 with Content-Range,
/// 416 with `Content-Range: bytes */total` when it cannot be met), identity encoding only.
/// 403 for a bad or expired signature, 404 for a missing file. Thread-safe.
class DownloadHandler {
  public:
    DownloadHandler(domain::FileService& files, DiskBlobStore& blobs, const Clock& clock);

    HttpResponse Handle(const HttpRequest& request);

    /// True for GET or HEAD of a path under /fw/.
    static bool IsDownload(const HttpRequest& request);

  private:
    domain::FileService& files_;
    DiskBlobStore& blobs_;
    const Clock& clock_;
};

}  // namespace otad::files
