#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Transport-neutral HTTP messages: the http module fills and sends them, the rpc module reads
// and builds them, and neither needs the other's types.

namespace otad {

struct HttpHeader {
    std::string name;  ///< as received or to be sent; compare case-insensitively
    std::string value;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct HttpRequest {
    std::string method;  ///< upper-case, e.g. "GET"
    std::string target;  ///< request-target as sent, e.g. "/?Action=..."
    std::vector<HttpHeader> headers;
    std::string body;  ///< de-chunked body bytes, unless the body was spooled to a file
    /// When set, the body is in this file instead of `body` (large bodies and uploads). The
    /// server removes the file once the handler has returned.
    std::string body_file;
    std::string remote_address;

    /// First header with that name (case-insensitive), or nullptr.
    const std::string* FindHeader(std::string_view name) const;
    /// Path part of the target (before '?').
    std::string_view Path() const;
    /// Query part of the target (after the first '?'), empty if none.
    std::string_view Query() const;
};

/// Facts about a handled request that only the access log needs.
struct AccessLogFields {
    std::string request_id;
    std::string action;
    std::string access_key_id;
    std::string code;  ///< error code sent, empty on success
};

struct HttpResponse {
    int status = 200;
    std::string content_type;
    std::vector<HttpHeader> headers;
    std::string body;
    /// When set, the body is `file_length` bytes of this file from `file_offset`, and `body` is
    /// ignored. The server opens the file when it writes the response.
    std::string body_file;
    uint64_t file_offset = 0;
    uint64_t file_length = 0;
    AccessLogFields log;
};

}  // namespace otad
