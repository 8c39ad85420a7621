#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otad {

/// "2019-11-04T06:21:54.607Z": ISO-8601 UTC with milliseconds, as the OTA Utc* fields.
std::string FormatUtcMs(int64_t epoch_ms);

/// "2024-05-20T08:30:00Z": the request timestamp format of both signature schemes.
std::string FormatUtcSeconds(int64_t epoch_ms);

/// "2020-10-13T09:46Z": minute precision, as module GmtCreate.
std::string FormatUtcMinutes(int64_t epoch_ms);

/// "2018-08-06 10:47:50": wall-clock time in UTC+8, as QueryDeviceDetail's Gmt* fields.
std::string FormatGmtPlus8(int64_t epoch_ms);

/// Parses "YYYY-MM-DDThh:mm:ssZ", optionally with a fraction ".s" to ".sssssssss" before the Z.
/// Returns epoch milliseconds, or nothing when the text is not exactly of that shape or names
/// an impossible date.
std::optional<int64_t> ParseUtcTimestamp(std::string_view text);

}  // namespace otad
