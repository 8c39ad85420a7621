#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otad::text {

/// Decodes one UTF-8 code point at `pos`, advancing `pos`. Returns nothing (and advances by
/// one byte) on an invalid or overlong sequence.
std::optional<char32_t> NextCodePoint(std::string_view s, size_t& pos);

/// True when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

/// Number of code points; nothing when `s` is not valid UTF-8.
std::optional<size_t> CodePointCount(std::string_view s);

/// True for CJK ideographs, kana and full-width forms: the characters Alibaba counts twice
/// in product and device display names.
bool IsWide(char32_t c);

/// True for letters of any script as far as names need them: ASCII letters, CJK, kana, and
/// Latin letters with diacritics.
bool IsLetter(char32_t c);

bool IsAsciiDigit(char32_t c);
bool IsAsciiAlnum(char32_t c);

/// Parses a decimal integer with optional leading '-', no spaces, no '+'; nothing on overflow
/// or any other character.
std::optional<int64_t> ParseInt64(std::string_view s);

/// Unsigned decimal digits only (no sign, no blanks), at most 19 of them; nothing otherwise.
std::optional<uint64_t> ParseDigits(std::string_view s);

/// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimBlanks(std::string_view s);

/// "true"/"false" in any letter case.
std::optional<bool> ParseBool(std::string_view s);

}  // namespace otad::text
