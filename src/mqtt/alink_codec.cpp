#include "mqtt/alink_codec.hpp"

#include "common/text.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <utility>
#include <vector>

namespace otad::mqtt {
namespace {

using Json = nlohmann::json;
// Pushes keep the field order of the documentation, which makes them easy to compare by eye.
using OrderedJson = nlohmann::ordered_json;
using domain::DeviceEvent;
using domain::DeviceEventKind;

enum class UplinkKind { kInform, kProgress, kFirmwareGet, kLegacyRequest, kStatus };

struct TopicMatch {
    UplinkKind kind = UplinkKind::kInform;
    std::string_view product_key;
    std::string_view device_name;
};

Error Reject(std::string reason) {
    return MakeError(ErrorCode::kInvalidParameter, std::move(reason));
}

// Splits on '/' into at most N + 1 pieces; the caller checks the count.
std::vector<std::string_view> SplitTopic(std::string_view topic) {
    constexpr size_t kMaxLevels = 9;
    std::vector<std::string_view> levels;
    size_t start = 0;
    while (levels.size() <= kMaxLevels) {
        const size_t slash = topic.find('/', start);
        if (slash == std::string_view::npos) {
            levels.push_back(topic.substr(start));
            break;
        }
        levels.push_back(topic.substr(start, slash - start));
        start = slash + 1;
    }
    return levels;
}

bool ValidTopicName(std::string_view name) {
    return !name.empty() && name.size() <= kMaxTopicNameBytes &&
           name.find_first_of("+#") == std::string_view::npos;
}

std::optional<TopicMatch> MatchTopic(std::string_view topic) {
    const std::vector<std::string_view> l = SplitTopic(topic);
    // Every OTA topic starts with '/', so the first level is empty.
    if (l.empty() || !l[0].empty()) {
        return std::nullopt;
    }
    if (l.size() == 6 && l[1] == "ota" && l[2] == "device") {
        static constexpr std::array<std::pair<std::string_view, UplinkKind>, 3> kOta = {{
            {"inform", UplinkKind::kInform},
            {"progress", UplinkKind::kProgress},
            {"request", UplinkKind::kLegacyRequest},
        }};
        for (const auto& [name, kind] : kOta) {
            if (l[3] == name) {
                return TopicMatch{kind, l[4], l[5]};
            }
        }
        return std::nullopt;
    }
    if (l.size() == 8 && l[1] == "sys" && l[4] == "thing" && l[5] == "ota" && l[6] == "firmware" &&
        l[7] == "get") {
        return TopicMatch{UplinkKind::kFirmwareGet, l[2], l[3]};
    }
    if (l.size() == 6 && l[1] == "as" && l[2] == "mqtt" && l[3] == "status") {
        return TopicMatch{UplinkKind::kStatus, l[4], l[5]};
    }
    return std::nullopt;
}

// Rejects deep nesting before the parser sees it, so that a hostile body cannot make the
// parser or the document's destructor recurse without bound.
bool NestingWithin(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) {
                return false;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

Result<Json> ParseObject(std::string_view payload) {
    if (!NestingWithin(payload, kMaxJsonDepth)) {
        return Reject("body nested too deeply");
    }
    Json doc = Json::parse(payload.begin(), payload.end(), nullptr, false);
    if (doc.is_discarded()) {
        return Reject("body is not JSON");
    }
    if (!doc.is_object()) {
        return Reject("body is not a JSON object");
    }
    return doc;
}

// An integer from a JSON number (integral value) or a decimal string.
std::optional<int64_t> LooseInteger(const Json& v) {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
            return std::nullopt;
        }
        return v.get<int64_t>();
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) {
            return static_cast<int64_t>(d);
        }
        return std::nullopt;
    }
    if (v.is_string()) {
        return text::ParseInt64(v.get_ref<const std::string&>());
    }
    return std::nullopt;
}

// The Alink request id: a number or a string; absent is accepted as empty.
Result<std::string> RequestId(const Json& doc) {
    const auto it = doc.find("id");
    if (it == doc.end() || it->is_null()) {
        return std::string();
    }
    std::string id;
    if (it->is_string()) {
        id = it->get<std::string>();
    } else if (it->is_number_unsigned()) {
        id = std::to_string(it->get<uint64_t>());
    } else if (it->is_number_integer()) {
        id = std::to_string(it->get<int64_t>());
    } else {
        return Reject("id is neither a number nor a string");
    }
    if (id.size() > kMaxRequestIdBytes) {
        return Reject("id is too long");
    }
    return id;
}

// `params`, which must be an object when present; an absent one reads as empty.
Result<Json> Params(const Json& doc, bool required) {
    const auto it = doc.find("params");
    if (it == doc.end() || it->is_null()) {
        if (required) {
            return Reject("params is missing");
        }
        return Json::object();
    }
    if (!it->is_object()) {
        return Reject("params is not an object");
    }
    return *it;
}

// An optional string field; absent or null reads as empty.
Result<std::string> OptionalString(const Json& object, const char* key, size_t max_bytes) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return std::string();
    }
    if (!it->is_string()) {
        return Reject(std::string(key) + " is not a string");
    }
    std::string value = it->get<std::string>();
    if (value.size() > max_bytes) {
        return Reject(std::string(key) + " is too long");
    }
    return value;
}

Result<std::string> Module(const Json& params) {
    return OptionalString(params, "module", kMaxModuleBytes);
}

// Cuts free text to `max_bytes` without splitting a UTF-8 sequence.
std::string CutText(std::string text, size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return text;
    }
    size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    text.resize(end);
    return text;
}

Result<DeviceEvent> DecodeVersion(const Json& doc, DeviceEvent event) {
    OTA_ASSIGN_OR_RETURN(Json params, Params(doc, true));
    OTA_ASSIGN_OR_RETURN(event.version, OptionalString(params, "version", kMaxVersionBytes));
    if (event.version.empty()) {
        return Reject("params.version is missing or empty");
    }
    OTA_ASSIGN_OR_RETURN(event.module_name, Module(params));
    event.kind = DeviceEventKind::kVersion;
    return event;
}

Result<DeviceEvent> DecodeProgress(const Json& doc, DeviceEvent event) {
    OTA_ASSIGN_OR_RETURN(Json params, Params(doc, true));
    const auto step = params.find("step");
    if (step == params.end()) {
        return Reject("params.step is missing");
    }
    const std::optional<int64_t> value = LooseInteger(*step);
    if (!value || *value < -4 || *value > 100) {
        return Reject("params.step is not an integer from -4 to 100");
    }
    event.step = *value;
    // The description is free text; a long one is kept in part rather than losing the report.
    const auto desc = params.find("desc");
    if (desc != params.end() && desc->is_string()) {
        event.desc = CutText(desc->get<std::string>(), kMaxDescBytes);
    } else if (desc != params.end() && !desc->is_null()) {
        return Reject("params.desc is not a string");
    }
    OTA_ASSIGN_OR_RETURN(event.module_name, Module(params));
    event.kind = DeviceEventKind::kProgress;
    return event;
}

Result<DeviceEvent> DecodePull(const Json& doc, DeviceEvent event, domain::PullStyle style) {
    OTA_ASSIGN_OR_RETURN(event.request_id, RequestId(doc));
    // The legacy topic carries otad's answers too; one that comes back is not a request.
    if (doc.contains("data") || doc.contains("code")) {
        return Reject("a reply, not a request");
    }
    OTA_ASSIGN_OR_RETURN(Json params, Params(doc, false));
    // The legacy request names no module (it is always the default one); the version it
    // carries is the device's current one, which inform reports already tell.
    if (style == domain::PullStyle::kFirmwareGet) {
        OTA_ASSIGN_OR_RETURN(event.module_name, Module(params));
    }
    event.kind = DeviceEventKind::kPull;
    event.pull_style = style;
    return event;
}

Result<DeviceEvent> DecodeStatus(std::string_view payload, DeviceEvent event) {
    // The broker clears the retained status with an empty payload when the device's current
    // connection closes.
    if (payload.empty()) {
        event.kind = DeviceEventKind::kOffline;
        return event;
    }
    OTA_ASSIGN_OR_RETURN(Json doc, ParseObject(payload));
    OTA_ASSIGN_OR_RETURN(std::string status, OptionalString(doc, "status", 32));
    if (status == "online") {
        event.kind = DeviceEventKind::kOnline;
    } else if (status == "offline") {
        event.kind = DeviceEventKind::kOffline;
    } else {
        return Reject("status is neither online nor offline");
    }
    OTA_ASSIGN_OR_RETURN(std::string pk, OptionalString(doc, "productKey", kMaxTopicNameBytes));
    OTA_ASSIGN_OR_RETURN(std::string dn, OptionalString(doc, "deviceName", kMaxTopicNameBytes));
    if ((!pk.empty() && pk != event.product_key) || (!dn.empty() && dn != event.device_name)) {
        return Reject("status names another device than its topic");
    }
    if (const auto time = doc.find("time"); time != doc.end() && !time->is_null()) {
        const std::optional<int64_t> ms = LooseInteger(*time);
        if (!ms || *ms < 0) {
            return Reject("time is not a non-negative integer");
        }
        event.at_ms = *ms;
    }
    if (event.kind == DeviceEventKind::kOnline) {
        OTA_ASSIGN_OR_RETURN(event.ip_address, OptionalString(doc, "clientIp", 64));
    }
    return event;
}

std::string Lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

bool IsDefaultModule(const std::string& module) {
    return module.empty() || module == "default";
}

const char* SignMethodName(domain::SignMethod method) {
    return method == domain::SignMethod::kMd5 ? "Md5" : "SHA256";
}

OrderedJson NoticeData(const domain::UpgradeNotice& notice) {
    OrderedJson data = OrderedJson::object();
    const bool md5 = notice.sign_method == domain::SignMethod::kMd5;
    if (notice.files.size() >= 2) {
        // The multi-file form: version and signMethod at data level, one entry per file.
        data["version"] = notice.version;
        data["module"] = IsDefaultModule(notice.module_name) ? "default" : notice.module_name;
        data["signMethod"] = SignMethodName(notice.sign_method);
        OrderedJson files = OrderedJson::array();
        for (const domain::NoticeFile& f : notice.files) {
            files.push_back(OrderedJson{{"fileName", f.name},
                                        {"fileSize", f.size},
                                        {"fileUrl", f.url},
                                        {"fileSign", Lower(f.sign)}});
        }
        data["files"] = std::move(files);
    } else {
        const domain::NoticeFile file =
            notice.files.empty() ? domain::NoticeFile{} : notice.files.front();
        data["size"] = file.size;
        data["version"] = notice.version;
        data["url"] = file.url;
        // Older SDKs compare only `md5`, as a lower-case string; newer ones read only `sign`.
        if (md5) {
            data["md5"] = Lower(file.md5.empty() ? file.sign : file.md5);
        }
        data["sign"] = Lower(file.sign);
        data["signMethod"] = SignMethodName(notice.sign_method);
        if (!IsDefaultModule(notice.module_name)) {
            data["module"] = notice.module_name;
        }
    }
    if (notice.is_diff) {
        data["isDiff"] = 1;
    }
    OrderedJson ext = OrderedJson::object();
    for (const domain::Tag& tag : notice.tags) {
        ext[tag.key] = tag.value;
    }
    if (!notice.udi.empty()) {
        ext["_package_udi"] = notice.udi;
    }
    if (!ext.empty()) {
        data["extData"] = std::move(ext);
    }
    return data;
}

OrderedJson PushDocument(const domain::UpgradeNotice& notice, int64_t message_id) {
    OrderedJson doc = OrderedJson::object();
    doc["code"] = "1000";
    doc["message"] = "success";
    doc["id"] = message_id;
    doc["data"] = NoticeData(notice);
    return doc;
}

// Text that is not valid UTF-8 is sent with replacement characters rather than failing.
std::string Dump(const OrderedJson& doc) {
    return doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

std::string DeviceTopic(std::string_view prefix,
                        std::string_view product_key,
                        std::string_view device_name) {
    std::string topic;
    topic.reserve(prefix.size() + product_key.size() + device_name.size() + 1);
    topic.append(prefix).append(product_key).append("/").append(device_name);
    return topic;
}

}  // namespace

Result<DeviceEvent> DecodeUplink(std::string_view topic, std::string_view payload) {
    const std::optional<TopicMatch> match = MatchTopic(topic);
    if (!match) {
        return Reject("not an OTA uplink topic");
    }
    if (!ValidTopicName(match->product_key) || !ValidTopicName(match->device_name)) {
        return Reject("topic names no valid device");
    }
    if (payload.size() > kMaxUplinkPayloadBytes) {
        return Reject("body larger than " + std::to_string(kMaxUplinkPayloadBytes) + " bytes");
    }
    DeviceEvent event;
    event.product_key = std::string(match->product_key);
    event.device_name = std::string(match->device_name);
    if (match->kind == UplinkKind::kStatus) {
        return DecodeStatus(payload, std::move(event));
    }
    OTA_ASSIGN_OR_RETURN(Json doc, ParseObject(payload));
    switch (match->kind) {
        case UplinkKind::kInform:
            return DecodeVersion(doc, std::move(event));
        case UplinkKind::kProgress:
            return DecodeProgress(doc, std::move(event));
        case UplinkKind::kFirmwareGet:
            return DecodePull(doc, std::move(event), domain::PullStyle::kFirmwareGet);
        case UplinkKind::kLegacyRequest:
            return DecodePull(doc, std::move(event), domain::PullStyle::kLegacy);
        case UplinkKind::kStatus:
            break;
    }
    return Reject("not an OTA uplink topic");
}

std::string UpgradeTopic(std::string_view product_key, std::string_view device_name) {
    return DeviceTopic("/ota/device/upgrade/", product_key, device_name);
}

std::string FirmwareGetReplyTopic(std::string_view product_key, std::string_view device_name) {
    std::string topic = DeviceTopic("/sys/", product_key, device_name);
    topic.append("/thing/ota/firmware/get_reply");
    return topic;
}

std::string LegacyRequestTopic(std::string_view product_key, std::string_view device_name) {
    return DeviceTopic("/ota/device/request/", product_key, device_name);
}

std::string RenderNoticeData(const domain::UpgradeNotice& notice) {
    return Dump(NoticeData(notice));
}

Outgoing RenderPush(const domain::UpgradeNotice& notice, int64_t message_id) {
    return Outgoing{UpgradeTopic(notice.product_key, notice.device_name),
                    Dump(PushDocument(notice, message_id))};
}

std::optional<Outgoing> RenderPullReply(const domain::PullReply& reply, int64_t message_id) {
    if (reply.style == domain::PullStyle::kLegacy) {
        if (!reply.notice) {
            return std::nullopt;
        }
        return Outgoing{LegacyRequestTopic(reply.product_key, reply.device_name),
                        Dump(PushDocument(*reply.notice, message_id))};
    }
    OrderedJson doc = OrderedJson::object();
    doc["id"] = reply.request_id;
    doc["code"] = 200;
    doc["data"] = reply.notice ? NoticeData(*reply.notice) : OrderedJson::object();
    return Outgoing{FirmwareGetReplyTopic(reply.product_key, reply.device_name), Dump(doc)};
}

}  // namespace otad::mqtt
