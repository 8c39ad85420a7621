#include "protocol.hpp"

#include "common/crypto.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace otad::devsim {
namespace {

using nlohmann::json;

// The C SDKs sign with this fixed timestamp (1 Jan 2050), so their password never changes.
constexpr std::string_view kCSdkTimestamp = "2524608000000";

std::string Quote(std::string_view text) {
    return json(std::string(text)).dump();
}

std::string ToUpper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

bool IsHex(std::string_view s) {
    for (char c : s) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return !s.empty();
}

crypto::HashAlgorithm HashOf(HmacMethod method) {
    switch (method) {
        case HmacMethod::kSha256:
            return crypto::HashAlgorithm::kSha256;
        case HmacMethod::kSha1:
            return crypto::HashAlgorithm::kSha1;
        case HmacMethod::kMd5:
            return crypto::HashAlgorithm::kMd5;
    }
    return crypto::HashAlgorithm::kSha256;
}

// A string member, or nothing when absent or of another type.
std::optional<std::string> StringField(const json& object, const char* name) {
    auto it = object.find(name);
    if (it == object.end() || !it->is_string()) {
        return std::nullopt;
    }
    return it->get<std::string>();
}

// A non-negative size given as a JSON number or as a string of digits.
std::optional<uint64_t> SizeField(const json& object, const char* name) {
    auto it = object.find(name);
    if (it == object.end()) {
        return std::nullopt;
    }
    if (it->is_number_unsigned()) {
        return it->get<uint64_t>();
    }
    if (it->is_number_integer()) {
        const int64_t v = it->get<int64_t>();
        return v < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(v));
    }
    if (it->is_string()) {
        const std::string s = it->get<std::string>();
        if (s.empty() || s.size() > 19) {
            return std::nullopt;
        }
        uint64_t v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        return v;
    }
    return std::nullopt;
}

Downlink Ignore(std::string reason) {
    Downlink d;
    d.outcome = Downlink::Outcome::kIgnored;
    d.reason = std::move(reason);
    return d;
}

// Sets the digest method and comparison of `package` from `data`, or explains why the
// imitated SDK would reject the package.
std::optional<std::string> ChooseDigest(Style style, const json& data, Package& package) {
    const std::optional<std::string> method = StringField(data, "signMethod");
    switch (style) {
        case Style::k4x:
            // 4.x compares with strcmp: "MD5" or "sha256" make it drop the push.
            if (!method) {
                return "signMethod missing";
            }
            if (*method == "Md5") {
                package.method = DigestMethod::kMd5;
            } else if (*method == "SHA256" || *method == "Sha256") {
                package.method = DigestMethod::kSha256;
            } else {
                return "signMethod '" + *method + "' not accepted by Link SDK 4.x";
            }
            package.compare = DigestCompare::kAnyCase;
            return std::nullopt;
        case Style::k3x:
            // 3.x reads only the md5 field.
            package.method = DigestMethod::kMd5;
            package.compare = DigestCompare::kExactLower;
            return std::nullopt;
        case Style::kNode:
            package.compare = DigestCompare::kAnyCase;
            package.method = DigestMethod::kMd5;
            if (method) {
                std::string lower = *method;
                for (char& c : lower) {
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                }
                if (lower == "sha256") {
                    package.method = DigestMethod::kSha256;
                } else if (lower != "md5") {
                    return "signMethod '" + *method + "' unknown";
                }
            }
            return std::nullopt;
    }
    return "unknown style";
}

size_t DigestHexLength(DigestMethod method) {
    return method == DigestMethod::kMd5 ? 32 : 64;
}

// The single-file form: size, url, and the digest field the imitated SDK reads.
std::optional<std::string> ParseSingleFile(Style style,
                                           const json& data,
                                           Package& package,
                                           FileSpec& file) {
    const std::optional<uint64_t> size = SizeField(data, "size");
    if (!size) {
        return "size missing";
    }
    const std::optional<std::string> url = StringField(data, "url");
    if (!url || url->empty()) {
        return "url missing";
    }
    std::optional<std::string> digest;
    if (style == Style::k3x) {
        digest = StringField(data, "md5");
        if (!digest || digest->size() != 32) {
            return "md5 missing or not 32 characters";
        }
    } else if (style == Style::k4x) {
        digest = StringField(data, "sign");
        if (!digest) {
            return "sign missing";
        }
    } else {
        digest = StringField(data, "sign");
        if (!digest && package.method == DigestMethod::kMd5) {
            digest = StringField(data, "md5");
        }
        if (!digest) {
            return "sign and md5 missing";
        }
    }
    if (style != Style::k3x &&
        (digest->size() != DigestHexLength(package.method) || !IsHex(*digest))) {
        return "sign has the wrong length for its signMethod";
    }
    file.size = *size;
    file.url = *url;
    file.digest = *digest;
    const size_t slash = url->rfind('/');
    const size_t query = url->find('?', slash == std::string::npos ? 0 : slash);
    file.name = slash == std::string::npos ? *url : url->substr(slash + 1, query - slash - 1);
    return std::nullopt;
}

std::optional<std::string> ParseFileEntry(const json& entry, Package& package, FileSpec& file) {
    if (!entry.is_object()) {
        return "files entry is not an object";
    }
    const std::optional<std::string> name = StringField(entry, "fileName");
    const std::optional<uint64_t> size = SizeField(entry, "fileSize");
    const std::optional<std::string> url = StringField(entry, "fileUrl");
    const std::optional<std::string> sign = StringField(entry, "fileSign");
    if (!name || !size || !url || url->empty() || !sign) {
        return "files entry lacks fileName, fileSize, fileUrl or fileSign";
    }
    if (sign->size() != DigestHexLength(package.method) || !IsHex(*sign)) {
        return "fileSign has the wrong length for its signMethod";
    }
    file.name = *name;
    file.size = *size;
    file.url = *url;
    file.digest = *sign;
    return std::nullopt;
}

std::optional<std::string> ParseFiles(Style style, const json& data, Package& package) {
    auto files = data.find("files");
    // 4.2 handles a one-element list through the single-file keys at data level.
    if (files == data.end() || !files->is_array() || files->size() <= 1) {
        FileSpec file;
        if (auto why = ParseSingleFile(style, data, package, file)) {
            return why;
        }
        package.files.push_back(std::move(file));
        return std::nullopt;
    }
    if (style == Style::k3x) {
        return "iotkit 3.x has no multi-file packages";
    }
    if (files->size() > kMaxFiles) {
        return "more than 20 files";
    }
    for (const json& entry : *files) {
        FileSpec file;
        if (auto why = ParseFileEntry(entry, package, file)) {
            return why;
        }
        package.files.push_back(std::move(file));
    }
    return std::nullopt;
}

}  // namespace

std::optional<Style> ParseStyle(std::string_view text) {
    if (text == "4x") {
        return Style::k4x;
    }
    if (text == "3x") {
        return Style::k3x;
    }
    if (text == "node") {
        return Style::kNode;
    }
    return std::nullopt;
}

std::string_view StyleName(Style style) {
    switch (style) {
        case Style::k4x:
            return "4x";
        case Style::k3x:
            return "3x";
        case Style::kNode:
            return "node";
    }
    return "?";
}

std::string SignPassword(HmacMethod method,
                         HexCase hex_case,
                         const DeviceIdentity& identity,
                         std::string_view id,
                         std::string_view timestamp) {
    std::string text;
    text.reserve(64 + id.size() + identity.device_name.size() + identity.product_key.size());
    text += "clientId";
    text += id;
    text += "deviceName";
    text += identity.device_name;
    text += "productKey";
    text += identity.product_key;
    if (!timestamp.empty()) {
        text += "timestamp";
        text += timestamp;
    }
    std::string hex = crypto::HexLower(crypto::Hmac(HashOf(method), identity.device_secret, text));
    return hex_case == HexCase::kUpper ? ToUpper(std::move(hex)) : hex;
}

MqttCredentials BuildCredentials(Style style, const DeviceIdentity& identity, int64_t now_ms) {
    MqttCredentials c;
    c.username = identity.device_name + "&" + identity.product_key;
    const std::string dotted = identity.product_key + "." + identity.device_name;
    switch (style) {
        case Style::k4x:
            c.client_id = dotted + "|timestamp=" + std::string(kCSdkTimestamp) +
                          ",_ss=1,_v=sdk-c-4.0.0,securemode=3,signmethod=hmacsha256,ext=3,|";
            c.password = SignPassword(
                HmacMethod::kSha256, HexCase::kUpper, identity, dotted, kCSdkTimestamp);
            break;
        case Style::k3x:
            c.client_id = dotted + "|timestamp=" + std::string(kCSdkTimestamp) +
                          ",_v=sdk-c-3.2.0,securemode=3,signmethod=hmacsha256,lan=C,_ss=1,gw=0,"
                          "ext=0|";
            c.password = SignPassword(
                HmacMethod::kSha256, HexCase::kLower, identity, dotted, kCSdkTimestamp);
            break;
        case Style::kNode: {
            const std::string id = identity.product_key + "&" + identity.device_name;
            const std::string ts = std::to_string(now_ms);
            c.client_id =
                id + "|securemode=3,signmethod=hmacsha1,timestamp=" + ts + ",lan=NodeJS,_v=1.2.8|";
            c.password = SignPassword(HmacMethod::kSha1, HexCase::kLower, identity, id, ts);
            break;
        }
    }
    return c;
}

int DefaultKeepaliveSeconds(Style style) {
    switch (style) {
        case Style::k4x:
            return 1200;
        case Style::k3x:
            return 120;
        case Style::kNode:
            return 60;
    }
    return 60;
}

bool DefaultCleanSession(Style style) {
    return style == Style::k4x;
}

std::string TopicName(Topic topic, std::string_view product_key, std::string_view device_name) {
    const std::string pk(product_key);
    const std::string dn(device_name);
    switch (topic) {
        case Topic::kInform:
            return "/ota/device/inform/" + pk + "/" + dn;
        case Topic::kUpgrade:
            return "/ota/device/upgrade/" + pk + "/" + dn;
        case Topic::kProgress:
            return "/ota/device/progress/" + pk + "/" + dn;
        case Topic::kFirmwareGet:
            return "/sys/" + pk + "/" + dn + "/thing/ota/firmware/get";
        case Topic::kFirmwareGetReply:
            return "/sys/" + pk + "/" + dn + "/thing/ota/firmware/get_reply";
        case Topic::kRequest:
            return "/ota/device/request/" + pk + "/" + dn;
    }
    return {};
}

std::optional<Topic> ClassifyDownlink(std::string_view topic,
                                      std::string_view product_key,
                                      std::string_view device_name) {
    for (Topic t : {Topic::kUpgrade, Topic::kFirmwareGetReply, Topic::kRequest}) {
        if (topic == TopicName(t, product_key, device_name)) {
            return t;
        }
    }
    return std::nullopt;
}

std::string InformPayload(Style style,
                          uint32_t id,
                          std::string_view version,
                          std::string_view module) {
    std::string out;
    if (style == Style::k4x) {
        out = "{\"id\":" + std::to_string(id) + ", \"params\":{\"version\":" + Quote(version);
    } else {
        out = "{\"id\":\"" + std::to_string(id) + "\",\"params\":{\"version\":" + Quote(version);
    }
    if (!module.empty()) {
        out += ",\"module\":" + Quote(module);
    }
    out += "}}";
    return out;
}

std::string ProgressPayload(
    Style style, uint32_t id, int step, std::string_view desc, std::string_view module) {
    std::string out;
    const std::string params =
        "\"params\":{\"step\":\"" + std::to_string(step) + "\",\"desc\":" + Quote(desc);
    switch (style) {
        case Style::k4x:
            out = "{\"id\":" + std::to_string(id) + ", " + params;
            break;
        case Style::k3x:
            // iotkit 3.x sends every progress report with id 0.
            out = "{\"id\":0," + params;
            break;
        case Style::kNode:
            out = "{\"id\":\"" + std::to_string(id) + "\"," + params;
            break;
    }
    if (!module.empty()) {
        out += ",\"module\":" + Quote(module);
    }
    out += "}}";
    return out;
}

std::string FirmwareGetPayload(uint32_t id, std::string_view module) {
    if (module.empty()) {
        return "{\"id\":" + std::to_string(id) + ", \"params\":{}}";
    }
    return "{\"id\":" + std::to_string(id) + ", \"params\":{\"module\":" + Quote(module) + "}}";
}

std::string LegacyRequestPayload(uint32_t id, std::string_view version) {
    return "{\"id\":\"" + std::to_string(id) + "\",\"params\":{\"version\":" + Quote(version) +
           "}}";
}

int InformQos(Style style) {
    return style == Style::k3x ? 1 : 0;
}

int ProgressQos(Style) {
    return 0;
}

int RequestQos(Style) {
    return 1;
}

std::string ModuleKey(std::string_view pushed_module) {
    if (pushed_module == "default") {
        return {};
    }
    return std::string(pushed_module);
}

Downlink ParseDownlink(DownlinkKind kind, Style style, std::string_view payload) {
    if (payload.size() > kMaxDownlinkBytes) {
        return Ignore("payload larger than 64 KiB");
    }
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        return Ignore("payload is not a JSON object");
    }
    // iotkit 3.x drops a push whose message is not "success"; 4.x does not look at it.
    if (style == Style::k3x && kind != DownlinkKind::kGetReply) {
        const std::optional<std::string> message = StringField(doc, "message");
        if (!message || *message != "success") {
            return Ignore("message is not \"success\"");
        }
    }
    auto data_it = doc.find("data");
    if (data_it == doc.end() || (data_it->is_object() && data_it->empty())) {
        if (kind == DownlinkKind::kGetReply) {
            Downlink d;
            d.outcome = Downlink::Outcome::kNothingPending;
            return d;
        }
        return Ignore("no data");
    }
    const json& data = *data_it;
    if (!data.is_object()) {
        return Ignore("data is not an object");
    }
    if (auto protocol = StringField(data, "dProtocol"); protocol && *protocol == "mqtt") {
        return Ignore("MQTT download is not simulated");
    }
    Downlink d;
    Package& package = d.package;
    const std::optional<std::string> version = StringField(data, "version");
    if (!version || version->empty()) {
        return Ignore("version missing");
    }
    package.version = *version;
    package.module = StringField(data, "module").value_or("");
    if (auto is_diff = data.find("isDiff"); is_diff != data.end()) {
        package.is_diff = (is_diff->is_number() && is_diff->get<double>() == 1.0) ||
                          (is_diff->is_string() && is_diff->get<std::string>() == "1");
    }
    if (auto why = ChooseDigest(style, data, package)) {
        return Ignore(*why);
    }
    if (auto why = ParseFiles(style, data, package)) {
        return Ignore(*why);
    }
    for (const FileSpec& file : package.files) {
        if (file.url.size() > kMaxUrlBytes) {
            return Ignore("url longer than 254 bytes");
        }
    }
    d.outcome = Downlink::Outcome::kPackage;
    return d;
}

}  // namespace otad::devsim
