#pragma once

#include "common/http_message.hpp"

#include <string>
#include <string_view>

namespace otad::files {

/// A new request id in the shape OSS uses (24 upper-case hex digits).
std::string NewOssRequestId();

/// Escapes text for XML element content.
std::string XmlEscape(std::string_view text);

/// An OSS-style error: `<Error><Code/><Message/><RequestId/><HostId/></Error>` as XML, with
/// the request id also in x-oss-request-id.
HttpResponse OssError(int status,
                      std::string_view code,
                      std::string_view message,
                      const std::string& request_id);

}  // namespace otad::files
