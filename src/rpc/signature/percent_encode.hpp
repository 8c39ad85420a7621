#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otad::rpc {

/// RFC 3986 encoding as both signature schemes use it: the bytes A-Z a-z 0-9 - _ . ~ are kept,
/// every other byte (UTF-8 multi-byte sequences included) becomes "%XX" with upper-case hex.
/// A space is "%20", never '+'.
std::string PercentEncode(std::string_view in);

/// Appends PercentEncode(in) to `out`.
void AppendPercentEncoded(std::string& out, std::string_view in);

/// Appends PercentEncode(PercentEncode(in)) to `out` in one pass: kept bytes stay, every other
/// byte becomes "%25XX". The V1 string-to-sign encodes the already encoded canonical query.
void AppendDoublePercentEncoded(std::string& out, std::string_view in);

/// Length of PercentEncode(in), computed without building it (for exact reservations).
size_t PercentEncodedSize(std::string_view in);

/// True for the bytes PercentEncode() keeps as they are.
bool IsUnreserved(char c);

}  // namespace otad::rpc
