#include "files/oss_response.hpp"

#include "common/crypto.hpp"

#include <algorithm>

namespace otad::files {

std::string NewOssRequestId() {
    std::string id = crypto::HexLower(crypto::RandomBytes(12));
    std::transform(id.begin(), id.end(), id.begin(), [](char c) {
        return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    });
    return id;
}

std::string XmlEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

HttpResponse OssError(int status,
                      std::string_view code,
                      std::string_view message,
                      const std::string& request_id) {
    HttpResponse response;
    response.status = status;
    response.content_type = "application/xml";
    response.headers.push_back({"x-oss-request-id", request_id});
    response.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>" +
                    XmlEscape(code) + "</Code>\n  <Message>" + XmlEscape(message) +
                    "</Message>\n  <RequestId>" + request_id +
                    "</RequestId>\n  <HostId>otad</HostId>\n</Error>\n";
    response.log.request_id = request_id;
    response.log.code = std::string(code);
    return response;
}

}  // namespace otad::files
