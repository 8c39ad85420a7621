#pragma once

#include <string>
#include <string_view>

namespace otad::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

/// Parses "debug", "info", "warn", "error", "off"; nothing on other text.
bool ParseLevel(std::string_view text, Level& out);

void SetLevel(Level level);
bool Enabled(Level level);

/// Writes one line "<utc time> <LEVEL> <message>" to stderr. Thread-safe; a line is never
/// interleaved with another. Callers must never pass secrets.
void Write(Level level, std::string_view message);

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
