#pragma once

#include "common/error.hpp"

#include <string>

namespace otad::rpc {

/// How an Error travels on the wire.
struct WireError {
    /// Gateway errors answer 4xx/5xx with Code and Message; service errors answer 200 with
    /// Success:false, Code and ErrorMessage.
    bool gateway = false;
    int http_status = 200;
    std::string code;
    std::string message;
};

/// The only place that knows Alibaba's codes, statuses and default messages.
WireError MapError(const Error& error);

}  // namespace otad::rpc
