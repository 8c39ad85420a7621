#pragma once

// Firmware download over plain HTTP/1.1 the way the device SDKs do it: one GET per byte range
// with a `Range` header, strict checks on the response head (device-protocol §1 item 7 and §5),
// resumption after a broken connection, and an incremental digest.

#include "common/result.hpp"
#include "protocol.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace otad::devsim {

struct HttpUrl {
    std::string host;
    /// Explicit port of the URL, if it has one (real SDKs would fail on it; see §1 item 5).
    std::optional<uint16_t> port;
    /// Path and query, starting with '/'.
    std::string target;
};

/// Splits "http://host[:port][/path][?query]". https and other schemes are refused: the
/// simulator speaks plain HTTP only.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

/// `bytes=first-` when `last` is empty, else `bytes=first-last` (inclusive).
struct ByteRange {
    uint64_t first = 0;
    std::optional<uint64_t> last;
};

/// The request head the imitated SDK writes (4.x: Accept, Range, Content-Length: 0; 3.x adds
/// Accept-Encoding).
std::string BuildGetRequest(Style style, const HttpUrl& url, const ByteRange& range);

struct ContentRange {
    uint64_t first = 0;
    uint64_t last = 0;
    uint64_t total = 0;
};

struct ResponseHead {
    int status = 0;
    uint64_t content_length = 0;
    std::optional<ContentRange> content_range;
};

/// Limits the device SDKs impose on a response head.
inline constexpr size_t kMaxHeaderLineBytes = 128;  // including CRLF, Link SDK 4.x
inline constexpr size_t kMaxHeadBytes = 16 * 1024;

/// Parses a response head (status line and header lines, with or without the blank line).
/// Fails, with a message for the progress report, when a Link SDK 4.x device would give up:
/// a status line not starting "HTTP/1.1 ", a status other than 200 or 206, a header line over
/// 128 bytes, no "Content-Length: " (that exact spelling), chunked or compressed bodies, or a
/// 206 without a valid Content-Range.
Result<ResponseHead> ParseResponseHead(std::string_view head);

struct FetchOptions {
    /// Port for URLs that carry none (the SDK's AIOT_DLOPT_NETWORK_PORT).
    uint16_t default_port = 80;
    /// When not empty, the address connected to instead of the URL's host; Host still names
    /// the URL's host.
    std::string connect_host;
    /// Connect, send and receive deadline of each request, in milliseconds.
    int timeout_ms = 30000;
    /// Further requests after a connection breaks in the middle of a body, per file.
    uint32_t max_resumes = 5;
    /// Fetch `bytes=0-n` and `bytes=n+1-` as two requests, as some demo apps do.
    bool split_ranges = false;
    /// Check a download of up to kMaxRememberedFileBytes that is byte-for-byte equal to a file
    /// this process has already hashed by that comparison instead of hashing it again. False:
    /// every download is hashed.
    bool remember_verified = true;
};

/// Largest file that FetchOptions::remember_verified applies to, and how many are remembered.
inline constexpr uint64_t kMaxRememberedFileBytes = 1024 * 1024;
inline constexpr size_t kMaxRememberedFiles = 4;

struct FetchResult {
    enum class Status { kOk, kDigestMismatch, kFailed };
    Status status = Status::kFailed;
    /// Why it failed; empty on success.
    std::string detail;
    /// Requests made after a broken connection.
    uint32_t resumes = 0;
};

/// Called with the number of file bytes received so far (monotonic except after a server
/// answers a resumed range with the whole file, which restarts the count).
using BytesCallback = std::function<void(uint64_t received, uint64_t delta)>;

/// Downloads `file` with blocking sockets and checks its size and digest. Runs on the calling
/// thread; thread-safe for concurrent calls with separate arguments.
FetchResult FetchFile(Style style,
                      const FileSpec& file,
                      DigestMethod method,
                      DigestCompare compare,
                      const FetchOptions& options,
                      const BytesCallback& on_bytes);

}  // namespace otad::devsim
