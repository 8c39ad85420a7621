#include "mqtt/auth/alink_auth.hpp"

#include "common/crypto.hpp"

#include <array>
#include <initializer_list>
#include <span>
#include <vector>

namespace otad::mqtt {
namespace {

// Deeper topics are refused outright; Alink topics have fewer than ten levels.
constexpr size_t kMaxTopicLevels = 64;

constexpr char kParamsBar = '|';

char AsciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (AsciiLower(a[i]) != AsciiLower(b[i])) {
            return false;
        }
    }
    return true;
}

bool AllDigits(std::string_view text) {
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

std::optional<SignMethod> ParseSignMethod(std::string_view text) {
    if (EqualsIgnoringCase(text, "hmacsha256")) {
        return SignMethod::kHmacSha256;
    }
    if (EqualsIgnoringCase(text, "hmacsha1")) {
        return SignMethod::kHmacSha1;
    }
    if (EqualsIgnoringCase(text, "hmacmd5")) {
        return SignMethod::kHmacMd5;
    }
    return std::nullopt;
}

crypto::HashAlgorithm HashOf(SignMethod method) {
    switch (method) {
        case SignMethod::kHmacSha256:
            return crypto::HashAlgorithm::kSha256;
        case SignMethod::kHmacSha1:
            return crypto::HashAlgorithm::kSha1;
        case SignMethod::kHmacMd5:
            return crypto::HashAlgorithm::kMd5;
    }
    return crypto::HashAlgorithm::kMd5;
}

// A ProductKey or DeviceName that can stand as one topic level: non-empty, bounded, and without
// the characters that separate levels, act as wildcards or separate the username parts.
bool IsValidName(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameBytes) {
        return false;
    }
    for (char c : name) {
        if (c == '/' || c == '+' || c == '#' || c == '&' || c == '\0') {
            return false;
        }
    }
    return true;
}

bool HasWildcard(std::string_view level) {
    return level.find_first_of("+#") != std::string_view::npos;
}

// Splits a topic at '/'. Nothing when it has more than kMaxTopicLevels levels.
std::optional<std::vector<std::string_view>> SplitLevels(std::string_view topic) {
    std::vector<std::string_view> levels;
    size_t start = 0;
    while (true) {
        if (levels.size() == kMaxTopicLevels) {
            return std::nullopt;
        }
        size_t slash = topic.find('/', start);
        if (slash == std::string_view::npos) {
            levels.push_back(topic.substr(start));
            return levels;
        }
        levels.push_back(topic.substr(start, slash - start));
        start = slash + 1;
    }
}

// One level of a device topic pattern.
enum class Part {
    kEmpty,       // the empty level before the leading '/'
    kWord,        // a fixed word, given separately
    kProductKey,  // the device's own ProductKey
    kDeviceName,  // the device's own DeviceName
    kKind,        // any single non-empty level (`upgrade`, `inform`, `update`, ...)
    kTail,        // one or more further levels; must be the last part
};

struct PatternLevel {
    Part part;
    std::string_view word = {};
};

using Pattern = std::span<const PatternLevel>;

constexpr PatternLevel kEmpty{Part::kEmpty};
constexpr PatternLevel kPk{Part::kProductKey};
constexpr PatternLevel kDn{Part::kDeviceName};
constexpr PatternLevel kKind{Part::kKind};
constexpr PatternLevel kTail{Part::kTail};
constexpr PatternLevel Word(std::string_view word) {
    return PatternLevel{Part::kWord, word};
}

// The places where the Alink protocol puts a device's names.
constexpr std::array kSysTopic{kEmpty, Word("sys"), kPk, kDn, kTail};
constexpr std::array kOtaTopic{kEmpty, Word("ota"), Word("device"), kKind, kPk, kDn};
constexpr std::array kShadowTopic{kEmpty, Word("shadow"), kKind, kPk, kDn};
constexpr std::array kSessionTopic{kEmpty, Word("ext"), Word("session"), kPk, kDn, kTail};
constexpr std::array kUserTopic{kEmpty, kPk, kDn, Word("user"), kTail};

enum class Use { kPublish, kSubscribe };

// A level that is free for the device to choose: in a subscription it may be the single-level
// wildcard, and the multi-level wildcard when it is the last level of the filter.
bool FreeLevelAllowed(std::string_view level, Use use, bool last) {
    if (!HasWildcard(level)) {
        return true;
    }
    if (use == Use::kPublish) {
        return false;
    }
    return level == "+" || (level == "#" && last);
}

bool Matches(const DeviceIdentity& device,
             const std::vector<std::string_view>& levels,
             Pattern pattern,
             Use use) {
    size_t i = 0;
    for (const PatternLevel& expected : pattern) {
        if (expected.part == Part::kTail) {
            if (i >= levels.size()) {
                return false;
            }
            for (; i < levels.size(); ++i) {
                if (!FreeLevelAllowed(levels[i], use, i + 1 == levels.size())) {
                    return false;
                }
            }
            return true;
        }
        if (i >= levels.size()) {
            return false;
        }
        std::string_view level = levels[i];
        bool ok = false;
        switch (expected.part) {
            case Part::kEmpty:
                ok = level.empty();
                break;
            case Part::kWord:
                ok = level == expected.word;
                break;
            case Part::kProductKey:
                ok = level == device.product_key;
                break;
            case Part::kDeviceName:
                ok = level == device.device_name;
                break;
            case Part::kKind:
                // `#` would also cover the levels that name the device.
                ok = !level.empty() && FreeLevelAllowed(level, use, false);
                break;
            case Part::kTail:
                break;
        }
        if (!ok) {
            return false;
        }
        ++i;
    }
    return i == levels.size();
}

bool DeviceMayUse(const DeviceIdentity& device, std::string_view topic, Use use) {
    // A device whose own names could not be a topic level owns no topic.
    if (!IsValidName(device.product_key) || !IsValidName(device.device_name)) {
        return false;
    }
    std::optional<std::vector<std::string_view>> levels = SplitLevels(topic);
    if (!levels) {
        return false;
    }
    for (Pattern pattern : std::initializer_list<Pattern>{
             kSysTopic, kOtaTopic, kShadowTopic, kSessionTopic, kUserTopic}) {
        if (Matches(device, *levels, pattern, use)) {
            return true;
        }
    }
    return false;
}

bool LevelsAre(const std::vector<std::string_view>& levels,
               size_t first,
               std::initializer_list<std::string_view> words) {
    if (levels.size() != first + words.size()) {
        return false;
    }
    size_t i = first;
    for (std::string_view word : words) {
        if (levels[i++] != word) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<AlinkClientId> ParseClientId(std::string_view client_id) {
    if (client_id.size() > kMaxClientIdBytes) {
        return std::nullopt;
    }
    size_t first_bar = client_id.find(kParamsBar);
    if (first_bar == std::string_view::npos || first_bar > kMaxClientIdPrefixBytes) {
        return std::nullopt;
    }
    std::string_view params = client_id.substr(first_bar + 1);
    if (params.empty() || params.back() != kParamsBar) {
        return std::nullopt;
    }
    params.remove_suffix(1);
    if (params.find(kParamsBar) != std::string_view::npos) {
        return std::nullopt;
    }

    AlinkClientId parsed;
    parsed.prefix = std::string(client_id.substr(0, first_bar));
    bool have_sign_method = false;
    size_t items = 0;
    while (!params.empty()) {
        size_t comma = params.find(',');
        std::string_view item = params.substr(0, comma);
        params = comma == std::string_view::npos ? std::string_view() : params.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        if (++items > kMaxClientIdParams) {
            return std::nullopt;
        }
        size_t equals = item.find('=');
        if (equals == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view key = item.substr(0, equals);
        std::string_view value = item.substr(equals + 1);
        if (key == "signmethod") {
            std::optional<SignMethod> method = ParseSignMethod(value);
            if (have_sign_method || !method) {
                return std::nullopt;
            }
            parsed.sign_method = *method;
            have_sign_method = true;
        } else if (key == "timestamp") {
            if (parsed.timestamp || value.empty() || value.size() > kMaxTimestampDigits ||
                !AllDigits(value)) {
                return std::nullopt;
            }
            parsed.timestamp = std::string(value);
        }
    }
    return parsed;
}

std::optional<DeviceIdentity> ParseUsername(std::string_view username) {
    size_t amp = username.find('&');
    if (amp == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view device_name = username.substr(0, amp);
    std::string_view product_key = username.substr(amp + 1);
    // IsValidName refuses a second '&'.
    if (!IsValidName(device_name) || !IsValidName(product_key)) {
        return std::nullopt;
    }
    return DeviceIdentity{std::string(product_key), std::string(device_name)};
}

std::string ExpectedPassword(const AlinkClientId& client_id,
                             const DeviceIdentity& device,
                             std::string_view device_secret) {
    // The platform signs the login fields as key-value pairs in alphabetical key order, with
    // no separators.
    std::string message;
    message.reserve(64 + client_id.prefix.size() + device.device_name.size() +
                    device.product_key.size());
    message += "clientId";
    message += client_id.prefix;
    message += "deviceName";
    message += device.device_name;
    message += "productKey";
    message += device.product_key;
    if (client_id.timestamp) {
        message += "timestamp";
        message += *client_id.timestamp;
    }
    return crypto::HexLower(crypto::Hmac(HashOf(client_id.sign_method), device_secret, message));
}

bool PasswordMatches(std::string_view expected_lower_hex, std::string_view given) {
    if (given.size() != expected_lower_hex.size()) {
        return false;
    }
    std::string lowered(given);
    for (char& c : lowered) {
        c = AsciiLower(c);
    }
    return crypto::ConstantTimeEquals(expected_lower_hex, lowered);
}

LoginCheck CheckDeviceLogin(std::string_view client_id,
                            const DeviceIdentity& device,
                            std::string_view device_secret,
                            std::string_view password) {
    std::optional<AlinkClientId> parsed = ParseClientId(client_id);
    if (!parsed) {
        return LoginCheck::kBadClientId;
    }
    std::string expected = ExpectedPassword(*parsed, device, device_secret);
    return PasswordMatches(expected, password) ? LoginCheck::kOk : LoginCheck::kBadPassword;
}

bool DeviceMayPublish(const DeviceIdentity& device, std::string_view topic) {
    return DeviceMayUse(device, topic, Use::kPublish);
}

bool DeviceMaySubscribe(const DeviceIdentity& device, std::string_view filter) {
    return DeviceMayUse(device, filter, Use::kSubscribe);
}

std::optional<DeviceIdentity> DeviceDownlinkTarget(std::string_view topic) {
    std::optional<std::vector<std::string_view>> split = SplitLevels(topic);
    if (!split) {
        return std::nullopt;
    }
    const std::vector<std::string_view>& levels = *split;
    // Shortest downlink topic: /ota/device/<kind>/<pk>/<dn>.
    if (levels.size() < 6 || !levels[0].empty()) {
        return std::nullopt;
    }
    std::string_view product_key;
    std::string_view device_name;
    if (levels[1] == "ota") {
        if (levels.size() != 6 || levels[2] != "device" ||
            (levels[3] != "upgrade" && levels[3] != "request")) {
            return std::nullopt;
        }
        product_key = levels[4];
        device_name = levels[5];
    } else if (levels[1] == "sys" && levels[4] == "thing") {
        bool downlink = LevelsAre(levels, 5, {"ota", "firmware", "get_reply"}) ||
                        LevelsAre(levels, 5, {"file", "download_reply"}) ||
                        LevelsAre(levels, 5, {"config", "push"}) ||
                        LevelsAre(levels, 5, {"config", "get_reply"});
        if (!downlink) {
            return std::nullopt;
        }
        product_key = levels[2];
        device_name = levels[3];
    } else {
        return std::nullopt;
    }
    if (!IsValidName(product_key) || !IsValidName(device_name)) {
        return std::nullopt;
    }
    return DeviceIdentity{std::string(product_key), std::string(device_name)};
}

std::string PresenceTopic(const DeviceIdentity& device) {
    return "/as/mqtt/status/" + device.product_key + "/" + device.device_name;
}

}  // namespace otad::mqtt
