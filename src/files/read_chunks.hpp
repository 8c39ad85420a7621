#pragma once

// Reading a file descriptor to its end in pieces, for the file code of this directory.

#include "common/result.hpp"

#include <cerrno>
#include <string>
#include <string_view>
#include <unistd.h>

namespace otad::files {

/// Reads `fd` to its end through `buffer`, whose size is the largest piece, and hands each
/// piece to `consume(std::string_view) -> Status`. Returns Ok at the end of the file, the first
/// failure of `consume`, or `on_error(errno)` when a read fails (interrupted reads are repeated).
template <typename Consume, typename OnError>
Status ReadChunks(int fd, std::string& buffer, Consume&& consume, OnError&& on_error) {
    while (true) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return on_error(errno);
        }
        if (n == 0) {
            return Ok();
        }
        OTA_TRY(consume(std::string_view(buffer.data(), static_cast<size_t>(n))));
    }
}

}  // namespace otad::files
