#include "mqtt/alink_codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace otad::mqtt {
namespace {

using domain::DeviceEvent;
using domain::DeviceEventKind;
using domain::PullStyle;
using Json = nlohmann::json;

constexpr char kPk[] = "a1TestPK01";
constexpr char kDn[] = "dev001";

std::string Topic(const std::string& prefix, const std::string& suffix = "") {
    return prefix + kPk + "/" + kDn + suffix;
}

DeviceEvent MustDecode(const std::string& topic, const std::string& payload) {
    Result<DeviceEvent> r = DecodeUplink(topic, payload);
    EXPECT_TRUE(r.ok()) << topic << " " << payload << ": "
                        << (r.ok() ? std::string() : r.error().message);
    return r.ok() ? *r : DeviceEvent{};
}

void ExpectRejected(const std::string& topic, const std::string& payload) {
    Result<DeviceEvent> r = DecodeUplink(topic, payload);
    EXPECT_FALSE(r.ok()) << topic << " " << payload;
    if (!r.ok()) {
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
        EXPECT_FALSE(r.error().message.empty());
    }
}

const std::string kInform = Topic("/ota/device/inform/");
const std::string kProgress = Topic("/ota/device/progress/");
const std::string kRequest = Topic("/ota/device/request/");
const std::string kGet = std::string("/sys/") + kPk + "/" + kDn + "/thing/ota/firmware/get";
const std::string kStatus = Topic("/as/mqtt/status/");

TEST(DecodeUplink, VersionReportsOfEverySdk) {
    // Link SDK 4.x: numeric id, default module.
    DeviceEvent e = MustDecode(kInform, R"({"id":1, "params":{"version":"1.0.0"}})");
    EXPECT_EQ(e.kind, DeviceEventKind::kVersion);
    EXPECT_EQ(e.product_key, kPk);
    EXPECT_EQ(e.device_name, kDn);
    EXPECT_EQ(e.version, "1.0.0");
    EXPECT_EQ(e.module_name, "");

    e = MustDecode(kInform, R"({"id":14, "params":{"version":"2.0.1","module":"MCU"}})");
    EXPECT_EQ(e.version, "2.0.1");
    EXPECT_EQ(e.module_name, "MCU");

    // iotkit 3.x and the Node SDK: string ids; unknown fields are ignored.
    e = MustDecode(kInform,
                   R"({"id":"1","params":{"version":"app-1.0.0-20180101.1000"},"x":[1,2]})");
    EXPECT_EQ(e.version, "app-1.0.0-20180101.1000");
    e = MustDecode(kInform, R"({"params":{"version":"2.0.0","module":null}})");
    EXPECT_EQ(e.module_name, "");
}

TEST(DecodeUplink, VersionReportsWithoutAVersionAreRefused) {
    ExpectRejected(kInform, R"({"id":1,"params":{}})");
    ExpectRejected(kInform, R"({"id":1,"params":{"version":""}})");
    ExpectRejected(kInform, R"({"id":1,"params":{"version":2}})");
    ExpectRejected(kInform, R"({"id":1,"params":"1.0.0"})");
    ExpectRejected(kInform, R"({"id":1})");
    ExpectRejected(kInform, R"({"id":1,"params":{"version":"1","module":7}})");
    ExpectRejected(kInform, R"({"id":1,"params":{"version":")" + std::string(300, 'v') + "\"}}");
}

TEST(DecodeUplink, ProgressAcceptsStepAsStringOrNumber) {
    DeviceEvent e = MustDecode(kProgress, R"({"id":3, "params":{"step":"0","desc":""}})");
    EXPECT_EQ(e.kind, DeviceEventKind::kProgress);
    EXPECT_EQ(e.step, 0);
    EXPECT_EQ(e.desc, "");
    EXPECT_EQ(e.module_name, "");

    e = MustDecode(kProgress, R"({"id":9, "params":{"step":"60","desc":"","module":"MCU"}})");
    EXPECT_EQ(e.step, 60);
    EXPECT_EQ(e.module_name, "MCU");

    e = MustDecode(kProgress, R"({"id":0,"params":{"step":42,"desc":"hello"}})");
    EXPECT_EQ(e.step, 42);
    EXPECT_EQ(e.desc, "hello");

    e = MustDecode(kProgress,
                   R"({"id":"123","params":{"step":"-1","desc":"cannot fetch package"}})");
    EXPECT_EQ(e.step, -1);
    EXPECT_EQ(e.desc, "cannot fetch package");

    EXPECT_EQ(MustDecode(kProgress, R"({"params":{"step":-4}})").step, -4);
    EXPECT_EQ(MustDecode(kProgress, R"({"params":{"step":100}})").step, 100);
    EXPECT_EQ(MustDecode(kProgress, R"({"params":{"step":50.0}})").step, 50);
}

TEST(DecodeUplink, ProgressOutOfRangeOrMalformedIsRefused) {
    for (const char* step : {R"("-5")",
                             R"("101")",
                             "-5",
                             "101",
                             R"("abc")",
                             R"("")",
                             "12.5",
                             "true",
                             "null",
                             R"(" 5")",
                             R"("+5")"}) {
        ExpectRejected(kProgress, std::string(R"({"id":1,"params":{"step":)") + step + "}}");
    }
    ExpectRejected(kProgress, R"({"id":1,"params":{"desc":"no step"}})");
    ExpectRejected(kProgress, R"({"id":1,"params":{"step":"5","desc":5}})");
}

TEST(DecodeUplink, LongProgressDescriptionIsCutAtACharacterBoundary) {
    // Three-byte characters: the cut must not split one.
    std::string desc;
    while (desc.size() < kMaxDescBytes + 10) {
        desc += "\xE6\x96\x87";
    }
    const DeviceEvent e =
        MustDecode(kProgress, R"({"params":{"step":"-2","desc":")" + desc + "\"}}");
    EXPECT_LE(e.desc.size(), kMaxDescBytes);
    EXPECT_EQ(e.desc.size() % 3, 0u);
    EXPECT_EQ(e.desc, desc.substr(0, e.desc.size()));
}

TEST(DecodeUplink, FirmwareGetInTheSdkAndTheDocumentedForms) {
    DeviceEvent e = MustDecode(kGet, R"({"id":2, "params":{}})");
    EXPECT_EQ(e.kind, DeviceEventKind::kPull);
    EXPECT_EQ(e.pull_style, PullStyle::kFirmwareGet);
    EXPECT_EQ(e.request_id, "2");
    EXPECT_EQ(e.module_name, "");

    e = MustDecode(kGet, R"({"id":7,"params":{"module":"MCU"}})");
    EXPECT_EQ(e.request_id, "7");
    EXPECT_EQ(e.module_name, "MCU");

    e = MustDecode(
        kGet,
        R"({"id":"123","version":"1.0","params":{"module":"MCU"},"method":"thing.ota.firmware.get"})");
    EXPECT_EQ(e.request_id, "123");
    EXPECT_EQ(e.module_name, "MCU");

    // No params at all still asks for the default module.
    e = MustDecode(kGet, R"({"id":4294967295})");
    EXPECT_EQ(e.request_id, "4294967295");
    EXPECT_EQ(e.module_name, "");
}

TEST(DecodeUplink, MalformedRequestIdsAreRefused) {
    ExpectRejected(kGet, R"({"id":{"n":1},"params":{}})");
    ExpectRejected(kGet, R"({"id":[1],"params":{}})");
    ExpectRejected(kGet, R"({"id":true,"params":{}})");
    ExpectRejected(kGet, R"({"id":")" + std::string(kMaxRequestIdBytes + 1, '1') + R"("})");
    ExpectRejected(kGet, R"({"id":1,"params":[]})");
}

TEST(DecodeUplink, LegacyRequestAndItsOwnEcho) {
    DeviceEvent e = MustDecode(kRequest, R"({"id":"5","params":{"version":"1.0.0"}})");
    EXPECT_EQ(e.kind, DeviceEventKind::kPull);
    EXPECT_EQ(e.pull_style, PullStyle::kLegacy);
    EXPECT_EQ(e.request_id, "5");
    EXPECT_EQ(e.module_name, "");
    // The answer travels on the same topic; should it come back, it is not a request.
    ExpectRejected(kRequest,
                   R"({"code":"1000","message":"success","id":1,"data":{"url":"http://h/x"}})");
}

TEST(DecodeUplink, PresenceFromTheBrokerPlugin) {
    DeviceEvent e = MustDecode(
        kStatus,
        R"({"status":"online","productKey":"a1TestPK01","deviceName":"dev001","time":1716193800123,"clientIp":"10.0.0.7"})");
    EXPECT_EQ(e.kind, DeviceEventKind::kOnline);
    EXPECT_EQ(e.at_ms, 1716193800123);
    EXPECT_EQ(e.ip_address, "10.0.0.7");
    EXPECT_EQ(e.product_key, kPk);
    EXPECT_EQ(e.device_name, kDn);

    e = MustDecode(kStatus, R"({"status":"online","time":"1716193800124"})");
    EXPECT_EQ(e.at_ms, 1716193800124);
    EXPECT_EQ(e.ip_address, "");

    // The retained status is cleared when the device's connection closes.
    e = MustDecode(kStatus, "");
    EXPECT_EQ(e.kind, DeviceEventKind::kOffline);
    EXPECT_EQ(e.at_ms, 0);

    // The platform's own offline document is understood too.
    e = MustDecode(kStatus, R"({"status":"offline","time":5})");
    EXPECT_EQ(e.kind, DeviceEventKind::kOffline);
    EXPECT_EQ(e.at_ms, 5);
}

TEST(DecodeUplink, MalformedPresenceIsRefused) {
    ExpectRejected(kStatus, R"({"status":"sleeping"})");
    ExpectRejected(kStatus, R"({"time":1})");
    ExpectRejected(kStatus, R"({"status":"online","deviceName":"other"})");
    ExpectRejected(kStatus, R"({"status":"online","productKey":"otherPK"})");
    ExpectRejected(kStatus, R"({"status":"online","time":-1})");
    ExpectRejected(kStatus, R"({"status":"online","time":"soon"})");
    ExpectRejected(kStatus, "online");
}

TEST(DecodeUplink, TopicsMustNameOneDevice) {
    const std::string body = R"({"id":1,"params":{"version":"1"}})";
    ExpectRejected("/ota/device/inform/+/dev001", body);
    ExpectRejected("/ota/device/inform/a1TestPK01/#", body);
    ExpectRejected("/ota/device/inform/a1TestPK01/", body);
    ExpectRejected("/ota/device/inform//dev001", body);
    ExpectRejected("/ota/device/inform/a1TestPK01/dev001/extra", body);
    ExpectRejected("/ota/device/inform/a1TestPK01", body);
    ExpectRejected("ota/device/inform/a1TestPK01/dev001", body);
    ExpectRejected("/ota/device/upgrade/a1TestPK01/dev001", body);
    ExpectRejected("/sys/a1TestPK01/dev001/thing/ota/firmware/get_reply", body);
    ExpectRejected("/sys/a1TestPK01/dev001/thing/event/property/post", body);
    ExpectRejected("/as/mqtt/status/a1TestPK01", "");
    ExpectRejected("/ota/device/inform/" + std::string(kMaxTopicNameBytes + 1, 'p') + "/dev001",
                   body);
    ExpectRejected("", body);
    ExpectRejected("/", body);
}

TEST(DecodeUplink, BodiesThatAreNotSmallJsonObjectsAreRefused) {
    ExpectRejected(kInform, "");
    ExpectRejected(kInform, "not json");
    ExpectRejected(kInform, R"([{"id":1}])");
    ExpectRejected(kInform, R"("text")");
    ExpectRejected(kInform, R"({"id":1,"params":{"version":"1"})");
    ExpectRejected(kInform, R"({"id":1,"params":{"version":"1",}})");
    // Oversized, even when well-formed.
    ExpectRejected(kInform,
                   R"({"id":1,"params":{"version":"1"},"pad":")" +
                       std::string(kMaxUplinkPayloadBytes, 'x') + "\"}");
    // Deeply nested.
    std::string deep = R"({"id":1,"params":{"version":"1"},"x":)";
    deep += std::string(1000, '[') + std::string(1000, ']') + "}";
    ExpectRejected(kInform, deep);
    // Brackets inside strings do not count as nesting.
    const DeviceEvent e = MustDecode(
        kInform, R"({"id":1,"params":{"version":"[[[[[[[[[[[[[[[[[[[[[[\"{{{{{{{{{{{{{{{{{{"}})");
    EXPECT_EQ(e.version, R"([[[[[[[[[[[[[[[[[[[[[["{{{{{{{{{{{{{{{{{{)");
}

domain::UpgradeNotice SingleFileNotice() {
    domain::UpgradeNotice n;
    n.product_key = kPk;
    n.device_name = kDn;
    n.task_id = "task-1";
    n.module_name = "default";
    n.version = "2.0.0";
    n.sign_method = domain::SignMethod::kMd5;
    n.files.push_back({"fw-2.0.0.bin",
                       "https://ota.example.internal/fw/8f3a/fw-2.0.0.bin?e=1767225600&s=3b1c",
                       300000,
                       "4632c3b6af74914f2ad25caa58e6774e",
                       "4632C3B6AF74914F2AD25CAA58E6774E"});
    return n;
}

TEST(RenderPush, SingleFileMd5PackageForTheDefaultModule) {
    const Outgoing out = RenderPush(SingleFileNotice(), 1700000000123);
    EXPECT_EQ(out.topic, "/ota/device/upgrade/a1TestPK01/dev001");
    // Field order as documented; module omitted for the default module; digests lower-case.
    EXPECT_EQ(out.payload,
              R"({"code":"1000","message":"success","id":1700000000123,"data":{"size":300000,)"
              R"("version":"2.0.0","url":"https://ota.example.internal/fw/8f3a/fw-2.0.0.bin?)"
              R"(e=1767225600&s=3b1c","md5":"4632c3b6af74914f2ad25caa58e6774e",)"
              R"("sign":"4632c3b6af74914f2ad25caa58e6774e","signMethod":"Md5"}})");
}

TEST(RenderPush, Sha256DiffPackageOfAModuleWithTagsAndUdi) {
    domain::UpgradeNotice n = SingleFileNotice();
    n.sign_method = domain::SignMethod::kSha256;
    n.module_name = "MCU";
    n.is_diff = true;
    n.files[0].md5 = "";
    n.files[0].sign = std::string(64, 'a');
    n.tags = {{"key1", "value1"}, {"key2", "value2"}};
    n.udi = R"({"ota_notice":"fixes camera blur"})";
    const Json doc = Json::parse(RenderPush(n, 77).payload);
    EXPECT_EQ(doc["code"], "1000");
    EXPECT_EQ(doc["message"], "success");
    EXPECT_EQ(doc["id"], 77);
    const Json& data = doc["data"];
    EXPECT_FALSE(data.contains("md5"));
    EXPECT_EQ(data["sign"], std::string(64, 'a'));
    EXPECT_EQ(data["signMethod"], "SHA256");
    EXPECT_EQ(data["module"], "MCU");
    EXPECT_EQ(data["isDiff"], 1);
    EXPECT_EQ(data["size"], 300000);
    EXPECT_EQ(data["extData"],
              Json::parse(R"({"key1":"value1","key2":"value2",)"
                          R"("_package_udi":"{\"ota_notice\":\"fixes camera blur\"}"})"));
}

TEST(RenderPush, OptionalFieldsAreOmittedWhenEmpty) {
    domain::UpgradeNotice n = SingleFileNotice();
    n.module_name = "";
    const Json data = Json::parse(RenderPush(n, 1).payload)["data"];
    EXPECT_FALSE(data.contains("module"));
    EXPECT_FALSE(data.contains("isDiff"));
    EXPECT_FALSE(data.contains("extData"));
    n.udi = "text";
    EXPECT_EQ(Json::parse(RenderPush(n, 1).payload)["data"]["extData"],
              Json::parse(R"({"_package_udi":"text"})"));
}

TEST(RenderPush, MultiFilePackage) {
    domain::UpgradeNotice n = SingleFileNotice();
    n.version = "3.1.0";
    n.files = {{"app.bin", "https://h/fw/a1/app.bin?e=1&s=2", 120000, "", std::string(32, 'B')},
               {"res.pak", "https://h/fw/a1/res.pak?e=1&s=3", 40000, "", std::string(32, 'c')}};
    const Json data = Json::parse(RenderPush(n, 1).payload)["data"];
    EXPECT_EQ(data["version"], "3.1.0");
    EXPECT_EQ(data["module"], "default");
    EXPECT_EQ(data["signMethod"], "Md5");
    EXPECT_FALSE(data.contains("url"));
    EXPECT_FALSE(data.contains("size"));
    ASSERT_EQ(data["files"].size(), 2u);
    EXPECT_EQ(data["files"][0],
              Json::parse(R"({"fileName":"app.bin","fileSize":120000,)"
                          R"("fileUrl":"https://h/fw/a1/app.bin?e=1&s=2","fileSign":")" +
                          std::string(32, 'b') + "\"}"));
    EXPECT_EQ(data["files"][1]["fileName"], "res.pak");
    EXPECT_EQ(data["files"][1]["fileSize"], 40000);
}

TEST(RenderPullReply, FirmwareGetWithAndWithoutAPendingUpdate) {
    domain::PullReply reply;
    reply.product_key = kPk;
    reply.device_name = kDn;
    reply.style = PullStyle::kFirmwareGet;
    reply.request_id = "2";
    std::optional<Outgoing> out = RenderPullReply(reply, 99);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->topic, "/sys/a1TestPK01/dev001/thing/ota/firmware/get_reply");
    EXPECT_EQ(out->payload, R"({"id":"2","code":200,"data":{}})");

    reply.notice = SingleFileNotice();
    out = RenderPullReply(reply, 99);
    ASSERT_TRUE(out.has_value());
    const Json doc = Json::parse(out->payload);
    EXPECT_EQ(doc["id"], "2");
    EXPECT_EQ(doc["code"], 200);
    EXPECT_EQ(doc["data"], Json::parse(RenderNoticeData(*reply.notice)));
    EXPECT_EQ(doc["data"]["url"], reply.notice->files[0].url);
}

TEST(RenderPullReply, LegacyPullIsAnsweredWithThePushDocumentOnItsTopic) {
    domain::PullReply reply;
    reply.product_key = kPk;
    reply.device_name = kDn;
    reply.style = PullStyle::kLegacy;
    reply.request_id = "5";
    EXPECT_FALSE(RenderPullReply(reply, 1).has_value());

    reply.notice = SingleFileNotice();
    const std::optional<Outgoing> out = RenderPullReply(reply, 1700000000999);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->topic, "/ota/device/request/a1TestPK01/dev001");
    EXPECT_EQ(out->payload, RenderPush(*reply.notice, 1700000000999).payload);
}

TEST(Topics, DownlinkTopicsOfADevice) {
    EXPECT_EQ(UpgradeTopic("pk", "dn"), "/ota/device/upgrade/pk/dn");
    EXPECT_EQ(FirmwareGetReplyTopic("pk", "dn"), "/sys/pk/dn/thing/ota/firmware/get_reply");
    EXPECT_EQ(LegacyRequestTopic("pk", "dn"), "/ota/device/request/pk/dn");
}

}  // namespace
}  // namespace otad::mqtt
