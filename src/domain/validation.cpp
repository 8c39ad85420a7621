#include "domain/validation.hpp"

#include "common/text.hpp"

#include <set>
#include <string>

namespace otad::domain {
namespace {

Error Invalid(std::string message) {
    return MakeError(ErrorCode::kInvalidFormattedParameter, std::move(message));
}

// Counts the display width of a name where CJK and kana count two; nothing when a character is
// outside `allowed`.
template <typename Allowed>
std::optional<size_t> WeightedLength(std::string_view s, Allowed allowed) {
    size_t pos = 0;
    size_t n = 0;
    while (pos < s.size()) {
        const auto c = text::NextCodePoint(s, pos);
        if (!c || !allowed(*c)) {
            return std::nullopt;
        }
        n += text::IsWide(*c) ? 2 : 1;
    }
    return n;
}

bool IsNameChar(char32_t c) {
    return text::IsLetter(c) || text::IsAsciiDigit(c);
}

}  // namespace

Status ValidateProductName(std::string_view name) {
    if (name.empty()) {
        return MakeError(ErrorCode::kNullProductName);
    }
    const auto len = WeightedLength(name, [](char32_t c) {
        return IsNameChar(c) || c == '_' || c == '-' || c == '@' || c == '(' || c == ')';
    });
    if (!len || *len < 4 || *len > 30) {
        return MakeError(ErrorCode::kInvalidProductName);
    }
    return Ok();
}

Status ValidateProductDescription(std::string_view description) {
    const auto n = text::CodePointCount(description);
    if (!n || *n > 100) {
        return MakeError(ErrorCode::kLongProductDesc);
    }
    return Ok();
}

Status ValidateDeviceName(std::string_view name) {
    if (name.size() < 4 || name.size() > 32) {
        return MakeError(ErrorCode::kInvalidDeviceName);
    }
    for (char c : name) {
        const bool ok = text::IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                        c == '@' || c == '.' || c == ':';
        if (!ok) {
            return MakeError(ErrorCode::kInvalidDeviceName);
        }
    }
    return Ok();
}

Status ValidateNickname(std::string_view nickname) {
    const auto len = WeightedLength(nickname, [](char32_t c) { return IsNameChar(c) || c == '_'; });
    if (!len || *len < 4 || *len > 64) {
        return MakeError(ErrorCode::kInvalidNickname);
    }
    return Ok();
}

Status ValidateFirmwareName(std::string_view name) {
    size_t pos = 0;
    size_t n = 0;
    while (pos < name.size()) {
        const auto c = text::NextCodePoint(name, pos);
        if (!c) {
            return MakeError(ErrorCode::kInvalidFirmwareName);
        }
        const bool first_ok = IsNameChar(*c);
        const bool ok = first_ok || *c == '-' || *c == '_' || *c == '(' || *c == ')';
        if ((n == 0 && !first_ok) || !ok) {
            return MakeError(ErrorCode::kInvalidFirmwareName);
        }
        ++n;
    }
    if (n < 1 || n > 40) {
        return MakeError(ErrorCode::kInvalidFirmwareName);
    }
    return Ok();
}

Status ValidateVersion(std::string_view version, std::string_view param) {
    bool ok = !version.empty() && version.size() <= 64;
    for (char c : version) {
        ok = ok && (text::IsAsciiAlnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                    c == '-');
    }
    if (!ok) {
        return MakeError(ErrorCode::kInvalidVersionString,
                         std::string(param) +
                             " must be 1 to 64 characters of letters, digits, "
                             "'.', '_' and '-'.",
                         std::string(param));
    }
    return Ok();
}

Status ValidateTextLength(std::string_view text, size_t max_chars, std::string_view param) {
    const auto n = text::CodePointCount(text);
    if (!n || *n > max_chars) {
        return Invalid(std::string(param) + " must be valid UTF-8 of at most " +
                       std::to_string(max_chars) + " characters.");
    }
    return Ok();
}

Status ValidateTags(const std::vector<Tag>& tags) {
    if (tags.size() > 10) {
        return Invalid("At most 10 tags are allowed.");
    }
    size_t total = 0;
    std::set<std::string_view> keys;
    for (const Tag& tag : tags) {
        if (tag.key.empty() || tag.key.size() > 30) {
            return Invalid("Tag keys must be 1 to 30 characters.");
        }
        for (char c : tag.key) {
            if (!text::IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '.') {
                return Invalid("Tag keys may contain only letters, digits and '.'.");
            }
        }
        const auto value_len = text::CodePointCount(tag.value);
        if (!value_len || *value_len < 1 || *value_len > 1024) {
            return Invalid("Tag values must be 1 to 1024 characters.");
        }
        if (!keys.insert(tag.key).second) {
            return Invalid("Tag keys must be unique.");
        }
        total += tag.key.size() + *value_len;
    }
    if (total > 4096) {
        return Invalid("Tag keys and values together must not exceed 4096 characters.");
    }
    return Ok();
}

}  // namespace otad::domain
