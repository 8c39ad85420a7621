#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"

#include <string_view>
#include <vector>

// Format rules of names, versions and tags. Each returns Ok() or the business error that
// Alibaba Cloud's IoT service answers for that violation.

namespace otad::domain {

/// 4-30 characters (CJK and kana count two) of letters, digits, CJK, kana and `_-@()`.
Status ValidateProductName(std::string_view name);
/// At most 100 characters.
Status ValidateProductDescription(std::string_view description);
/// 4-32 characters of [A-Za-z0-9-_@.:].
Status ValidateDeviceName(std::string_view name);
/// 4-64 characters (CJK and kana count two) of letters, digits, CJK, kana and `_`.
Status ValidateNickname(std::string_view nickname);
/// 1-40 characters of letters of any script, digits, `-_()`, starting with a letter or digit.
Status ValidateFirmwareName(std::string_view name);
/// 1-64 characters of [A-Za-z0-9._-]. `param` names the parameter in the error.
Status ValidateVersion(std::string_view version, std::string_view param);
/// At most `max_chars` characters of valid UTF-8. `param` names the parameter in the error.
Status ValidateTextLength(std::string_view text, size_t max_chars, std::string_view param);
/// At most 10 tags; key 1-30 of [A-Za-z0-9.]; value 1-1024 characters; keys+values at most
/// 4096 characters; keys unique.
Status ValidateTags(const std::vector<Tag>& tags);

}  // namespace otad::domain
