#include "common/log.hpp"

#include "common/clock.hpp"
#include "common/time_format.hpp"

#include <atomic>
#include <string>
#include <unistd.h>

namespace otad::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::string_view LevelName(Level level) {
    switch (level) {
        case Level::kDebug:
            return "DEBUG";
        case Level::kInfo:
            return "INFO";
        case Level::kWarn:
            return "WARN";
        case Level::kError:
            return "ERROR";
        case Level::kOff:
            return "OFF";
    }
    return "?";
}

}  // namespace

bool ParseLevel(std::string_view text, Level& out) {
    if (text == "debug") {
        out = Level::kDebug;
    } else if (text == "info") {
        out = Level::kInfo;
    } else if (text == "warn") {
        out = Level::kWarn;
    } else if (text == "error") {
        out = Level::kError;
    } else if (text == "off") {
        out = Level::kOff;
    } else {
        return false;
    }
    return true;
}

void SetLevel(Level level) {
    g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool Enabled(Level level) {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view message) {
    std::string line = FormatUtcMs(SystemClock::Instance().NowMs());
    line += ' ';
    line += LevelName(level);
    line += ' ';
    line += message;
    line += '\n';
    // One write(2) per line: atomic with respect to other lines for pipes up to PIPE_BUF and
    // in practice for files and terminals.
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) {
            return;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace otad::log
