#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace otad::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

/// Parses "debug", "info", "warn", "error", "off"; nothing on other text.
bool ParseLevel(std::string_view text, Level& out);

void SetLevel(Level level);
bool Enabled(Level level);

/// Writes one line "<utc time> <LEVEL> <message>" to stderr. Thread-safe; a line is never
/// interleaved with another, and lines reach stderr in the order they were logged. Callers must
/// never pass secrets.
void Write(Level level, std::string_view message);

/// Writes whatever buffered lines are waiting (see Buffering). Cheap when there are none.
void Flush();

/// While an instance lives, debug and info lines are collected in memory and written by a
/// background thread at least every `interval` (or by the logging thread itself once
/// `max_pending_bytes` are waiting), instead of one write(2) per line; a warning or an error is
/// written at once, after the lines logged before it. The destructor writes what is pending and
/// stops the thread. A process that dies without running it loses at most `interval` of debug
/// and info lines. One instance at a time; create and destroy it from one thread.
class Buffering {
  public:
    explicit Buffering(std::chrono::milliseconds interval,
                       size_t max_pending_bytes = size_t{256} * 1024);
    ~Buffering();
    Buffering(const Buffering&) = delete;
    Buffering& operator=(const Buffering&) = delete;
};

inline void Debug(std::string_view m) {
    if (Enabled(Level::kDebug)) {
        Write(Level::kDebug, m);
    }
}
inline void Info(std::string_view m) {
    if (Enabled(Level::kInfo)) {
        Write(Level::kInfo, m);
    }
}
inline void Warn(std::string_view m) {
    if (Enabled(Level::kWarn)) {
        Write(Level::kWarn, m);
    }
}
inline void Error(std::string_view m) {
    if (Enabled(Level::kError)) {
        Write(Level::kError, m);
    }
}

}  // namespace otad::log
