// Unit tests of the simulator's pure parts: login material against the vectors of
// device-protocol §2.2, uplink payloads, downlink parsing, HTTP heads, the command line.

#include "http_fetch.hpp"
#include "options.hpp"
#include "protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otad::devsim {
namespace {

TEST(Credentials, LinkSdk4xVectorA) {
    const DeviceIdentity id{"a1TestPK01", "dev001", "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t12"};
    const MqttCredentials c = BuildCredentials(Style::k4x, id, 123);
    EXPECT_EQ(c.client_id,
              "a1TestPK01.dev001|timestamp=2524608000000,_ss=1,_v=sdk-c-4.0.0,securemode=3,"
              "signmethod=hmacsha256,ext=3,|");
    EXPECT_EQ(c.username, "dev001&a1TestPK01");
    EXPECT_EQ(c.password, "5454B52C880C00A1061C7F6B5A9E232378A839EA5C31F7D72551890DDA2D1DC9");
}

TEST(Credentials, IotKit3xIsLowerCaseOfTheSameHmac) {
    const DeviceIdentity id{"a1TestPK01", "dev001", "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t12"};
    const MqttCredentials c = BuildCredentials(Style::k3x, id, 123);
    EXPECT_EQ(c.client_id,
              "a1TestPK01.dev001|timestamp=2524608000000,_v=sdk-c-3.2.0,securemode=3,"
              "signmethod=hmacsha256,lan=C,_ss=1,gw=0,ext=0|");
    EXPECT_EQ(c.password, "5454b52c880c00a1061c7f6b5a9e232378a839ea5c31f7d72551890dda2d1dc9");
}

TEST(Credentials, GenericVectorB) {
    const DeviceIdentity id{"a1FakePK123", "device1", "0123456789abcdef0123456789abcdef"};
    EXPECT_EQ(
        SignPassword(HmacMethod::kSha256, HexCase::kLower, id, "device1-mac001", "1700000000000"),
        "9370f7b3168e03bb6da1abc92efb64ef2a722addd8bafb7d0db1b528ecca20e3");
    EXPECT_EQ(
        SignPassword(HmacMethod::kSha1, HexCase::kLower, id, "device1-mac001", "1700000000000"),
        "1e108b758bde35e416492515c9bd2b0c11428c77");
    EXPECT_EQ(
        SignPassword(HmacMethod::kMd5, HexCase::kLower, id, "device1-mac001", "1700000000000"),
        "6f700b5f3e6365e35d2f616bb52ac371");
}

TEST(Credentials, NodeSignsItsRealTimestampWithSha1) {
    const DeviceIdentity id{"a1FakePK123", "device1", "0123456789abcdef0123456789abcdef"};
    const MqttCredentials c = BuildCredentials(Style::kNode, id, 1700000000000);
    EXPECT_EQ(c.client_id,
              "a1FakePK123&device1|securemode=3,signmethod=hmacsha1,timestamp=1700000000000,"
              "lan=NodeJS,_v=1.2.8|");
    EXPECT_EQ(c.username, "device1&a1FakePK123");
    EXPECT_EQ(c.password,
              SignPassword(
                  HmacMethod::kSha1, HexCase::kLower, id, "a1FakePK123&device1", "1700000000000"));
}

TEST(Topics, NamesAndClassification) {
    EXPECT_EQ(TopicName(Topic::kInform, "pk", "dn"), "/ota/device/inform/pk/dn");
    EXPECT_EQ(TopicName(Topic::kFirmwareGetReply, "pk", "dn"),
              "/sys/pk/dn/thing/ota/firmware/get_reply");
    EXPECT_EQ(ClassifyDownlink("/ota/device/upgrade/pk/dn", "pk", "dn"), Topic::kUpgrade);
    EXPECT_EQ(ClassifyDownlink("/ota/device/request/pk/dn", "pk", "dn"), Topic::kRequest);
    EXPECT_FALSE(ClassifyDownlink("/ota/device/upgrade/pk/other", "pk", "dn").has_value());
    EXPECT_FALSE(ClassifyDownlink("/ota/device/inform/pk/dn", "pk", "dn").has_value());
}

TEST(Payloads, ByteForByteAsTheSdksWriteThem) {
    EXPECT_EQ(InformPayload(Style::k4x, 1, "1.0.0", ""),
              R"({"id":1, "params":{"version":"1.0.0"}})");
    EXPECT_EQ(InformPayload(Style::k4x, 14, "2.0.1", "MCU"),
              R"({"id":14, "params":{"version":"2.0.1","module":"MCU"}})");
    EXPECT_EQ(InformPayload(Style::k3x, 1, "app-1.0", ""),
              R"({"id":"1","params":{"version":"app-1.0"}})");
    EXPECT_EQ(ProgressPayload(Style::k4x, 3, 0, "", ""),
              R"({"id":3, "params":{"step":"0","desc":""}})");
    EXPECT_EQ(ProgressPayload(Style::k4x, 9, 60, "", "MCU"),
              R"({"id":9, "params":{"step":"60","desc":"","module":"MCU"}})");
    EXPECT_EQ(ProgressPayload(Style::k3x, 5, 42, "hello", ""),
              R"({"id":0,"params":{"step":"42","desc":"hello"}})");
    EXPECT_EQ(ProgressPayload(Style::kNode, 123, -1, "cannot \"fetch\"", "MCU"),
              R"({"id":"123","params":{"step":"-1","desc":"cannot \"fetch\"","module":"MCU"}})");
    EXPECT_EQ(FirmwareGetPayload(2, ""), R"({"id":2, "params":{}})");
    EXPECT_EQ(FirmwareGetPayload(7, "MCU"), R"({"id":7, "params":{"module":"MCU"}})");
    EXPECT_EQ(LegacyRequestPayload(4, "1.0.0"), R"({"id":"4","params":{"version":"1.0.0"}})");
    EXPECT_EQ(InformQos(Style::k3x), 1);
    EXPECT_EQ(InformQos(Style::k4x), 0);
}

constexpr const char* kMd5 = "4632c3b6af74914f2ad25caa58e6774e";
constexpr const char* kSha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string SingleFilePush(const std::string& extra) {
    return std::string(R"({"code":"1000","message":"success","id":1700000000123,"data":{)") +
           R"("size":300000,"version":"2.0.0","url":"http://ota.example/fw/8f/fw.bin?e=1&s=2",)" +
           R"("md5":")" + kMd5 + R"(","sign":")" + kMd5 + R"(","signMethod":"Md5")" + extra + "}}";
}

TEST(Downlink, SingleFilePush) {
    const Downlink d =
        ParseDownlink(DownlinkKind::kUpgrade,
                      Style::k4x,
                      SingleFilePush(R"(,"module":"MCU","isDiff":1,"extData":{"k":"v"})"));
    ASSERT_EQ(d.outcome, Downlink::Outcome::kPackage) << d.reason;
    EXPECT_EQ(d.package.version, "2.0.0");
    EXPECT_EQ(d.package.module, "MCU");
    EXPECT_TRUE(d.package.is_diff);
    EXPECT_EQ(d.package.method, DigestMethod::kMd5);
    ASSERT_EQ(d.package.files.size(), 1u);
    EXPECT_EQ(d.package.files[0].size, 300000u);
    EXPECT_EQ(d.package.files[0].url, "http://ota.example/fw/8f/fw.bin?e=1&s=2");
    EXPECT_EQ(d.package.files[0].name, "fw.bin");
    EXPECT_EQ(d.package.files[0].digest, kMd5);
}

TEST(Downlink, NumericAndStringIdsAndCodesAreAccepted) {
    for (const char* head : {R"({"code":"1000","id":"77","message":"success","data":)",
                             R"({"code":200,"id":77,"message":"success","data":)"}) {
        const std::string body = std::string(head) +
                                 R"({"size":"10","version":"2","url":"http://h/f","md5":")" + kMd5 +
                                 R"(","sign":")" + kSha + R"(","signMethod":"SHA256"}})";
        for (Style style : {Style::k4x, Style::k3x, Style::kNode}) {
            const Downlink d = ParseDownlink(DownlinkKind::kUpgrade, style, body);
            ASSERT_EQ(d.outcome, Downlink::Outcome::kPackage) << d.reason;
            EXPECT_EQ(d.package.files[0].size, 10u);
            // 3.x reads md5 only; 4.x and Node follow signMethod.
            EXPECT_EQ(d.package.method,
                      style == Style::k3x ? DigestMethod::kMd5 : DigestMethod::kSha256);
            EXPECT_EQ(d.package.compare,
                      style == Style::k3x ? DigestCompare::kExactLower : DigestCompare::kAnyCase);
        }
    }
}

TEST(Downlink, MultiFilePush) {
    const std::string body =
        std::string(R"({"code":"1000","message":"success","id":"77","data":{)") +
        R"("version":"3.1.0","module":"default","signMethod":"Md5","files":[)" +
        R"({"fileName":"app.bin","fileSize":120000,"fileUrl":"http://h/fw/a1/app.bin","fileSign":")" +
        kMd5 + R"("},)" +
        R"({"fileName":"res.pak","fileSize":40000,"fileUrl":"http://h/fw/a1/res.pak","fileSign":")" +
        kMd5 + R"("}]}})";
    const Downlink d = ParseDownlink(DownlinkKind::kUpgrade, Style::k4x, body);
    ASSERT_EQ(d.outcome, Downlink::Outcome::kPackage) << d.reason;
    EXPECT_EQ(ModuleKey(d.package.module), "");
    ASSERT_EQ(d.package.files.size(), 2u);
    EXPECT_EQ(d.package.files[0].name, "app.bin");
    EXPECT_EQ(d.package.files[1].size, 40000u);
    EXPECT_EQ(d.package.files[1].url, "http://h/fw/a1/res.pak");
    // iotkit 3.x has no multi-file packages.
    EXPECT_EQ(ParseDownlink(DownlinkKind::kUpgrade, Style::k3x, body).outcome,
              Downlink::Outcome::kIgnored);
    // A file entry without its sign is dropped whole.
    std::string broken = body;
    const std::string sign_member = std::string(R"(,"fileSign":")") + kMd5 + "\"";
    broken.erase(broken.find(sign_member), sign_member.size());
    EXPECT_EQ(ParseDownlink(DownlinkKind::kUpgrade, Style::k4x, broken).outcome,
              Downlink::Outcome::kIgnored);
}

TEST(Downlink, MissingOrWrongFieldsAreIgnored) {
    auto outcome = [](Style style, const std::string& body) {
        return ParseDownlink(DownlinkKind::kUpgrade, style, body).outcome;
    };
    const auto ignored = Downlink::Outcome::kIgnored;
    EXPECT_EQ(outcome(Style::k4x, "not json"), ignored);
    EXPECT_EQ(outcome(Style::k4x, "[1,2]"), ignored);
    EXPECT_EQ(outcome(Style::k4x, R"({"code":"1000","message":"success"})"), ignored);
    EXPECT_EQ(outcome(Style::k4x, R"({"message":"success","data":{"size":1,"url":"http://h/f"}})"),
              ignored);
    // No url, no size.
    EXPECT_EQ(outcome(Style::k4x,
                      R"({"data":{"version":"2","sign":")" + std::string(kMd5) +
                          R"(","signMethod":"Md5"}})"),
              ignored);
    // 4.x compares signMethod with strcmp.
    std::string upper = SingleFilePush("");
    upper.replace(upper.find("\"Md5\""), 5, "\"MD5\"");
    EXPECT_EQ(outcome(Style::k4x, upper), ignored);
    EXPECT_EQ(outcome(Style::kNode, upper), Downlink::Outcome::kPackage);
    // 3.x drops a push whose message is not "success"; 4.x does not look.
    std::string failure = SingleFilePush("");
    failure.replace(failure.find("\"success\""), 9, "\"failure\"");
    EXPECT_EQ(outcome(Style::k3x, failure), ignored);
    EXPECT_EQ(outcome(Style::k4x, failure), Downlink::Outcome::kPackage);
    // A sign of the wrong length for its method.
    std::string short_sign = SingleFilePush("");
    short_sign.replace(short_sign.find(R"("sign":")") + 8, 32, "abcd");
    EXPECT_EQ(outcome(Style::k4x, short_sign), ignored);
    // URL too long for 4.x's 8-bit length.
    std::string long_url = SingleFilePush("");
    long_url.replace(long_url.find("?e=1"), 0, std::string(300, 'x'));
    EXPECT_EQ(outcome(Style::k4x, long_url), ignored);
    // MQTT download is not simulated.
    EXPECT_EQ(outcome(Style::k4x, SingleFilePush(R"(,"dProtocol":"mqtt")")), ignored);
    // Over-size payloads.
    EXPECT_EQ(outcome(Style::k4x, std::string(kMaxDownlinkBytes + 1, ' ')), ignored);
}

TEST(Downlink, PullReplies) {
    EXPECT_EQ(
        ParseDownlink(DownlinkKind::kGetReply, Style::k4x, R"({"id":"2","code":200,"data":{}})")
            .outcome,
        Downlink::Outcome::kNothingPending);
    EXPECT_EQ(
        ParseDownlink(DownlinkKind::kGetReply, Style::k4x, R"({"id":2,"code":"200"})").outcome,
        Downlink::Outcome::kNothingPending);
    const std::string full = SingleFilePush("");
    const std::string reply = R"({"id":2,"code":200,)" + full.substr(full.find(R"("data")"));
    const Downlink d = ParseDownlink(DownlinkKind::kGetReply, Style::k4x, reply);
    EXPECT_EQ(d.outcome, Downlink::Outcome::kPackage) << d.reason;
    // The legacy request's own echo carries no package.
    EXPECT_EQ(
        ParseDownlink(DownlinkKind::kRequest, Style::k3x, LegacyRequestPayload(1, "1.0")).outcome,
        Downlink::Outcome::kIgnored);
    EXPECT_EQ(ParseDownlink(DownlinkKind::kRequest, Style::k3x, full).outcome,
              Downlink::Outcome::kPackage);
}

TEST(Http, UrlParsing) {
    Result<HttpUrl> u = ParseHttpUrl("http://ota.example/fw/1/a.bin?e=1&s=2");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->host, "ota.example");
    EXPECT_FALSE(u->port.has_value());
    EXPECT_EQ(u->target, "/fw/1/a.bin?e=1&s=2");
    u = ParseHttpUrl("http://127.0.0.1:8080/x");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 8080);
    u = ParseHttpUrl("http://h");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->target, "/");
    EXPECT_FALSE(ParseHttpUrl("https://h/x").ok());
    EXPECT_FALSE(ParseHttpUrl("http://h:0/x").ok());
    EXPECT_FALSE(ParseHttpUrl("http:///x").ok());
}

TEST(Http, RequestHead) {
    const HttpUrl url{"ota.example", std::nullopt, "/fw/a.bin?e=1"};
    EXPECT_EQ(BuildGetRequest(Style::k4x, url, ByteRange{0, std::nullopt}),
              "GET /fw/a.bin?e=1 HTTP/1.1\r\nHost: ota.example\r\n"
              "Accept: text/xml,text/javascript,text/html,application/json\r\n"
              "Range: bytes=0-\r\nContent-Length: 0\r\n\r\n");
    const std::string r = BuildGetRequest(Style::k3x, url, ByteRange{10, 19});
    EXPECT_NE(r.find("Range: bytes=10-19\r\n"), std::string::npos);
    EXPECT_NE(r.find("Accept-Encoding: gzip, deflate\r\n"), std::string::npos);
}

TEST(Http, ResponseHead206) {
    Result<ResponseHead> h = ParseResponseHead(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: 100\r\n"
        "content-range: bytes 200-299/1000\r\nAccept-Ranges: bytes\r\n\r\n");
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(h->status, 206);
    EXPECT_EQ(h->content_length, 100u);
    ASSERT_TRUE(h->content_range.has_value());
    EXPECT_EQ(h->content_range->first, 200u);
    EXPECT_EQ(h->content_range->last, 299u);
    EXPECT_EQ(h->content_range->total, 1000u);
}

TEST(Http, ResponseHead200) {
    Result<ResponseHead> h = ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->status, 200);
    EXPECT_FALSE(h->content_range.has_value());
}

TEST(Http, ResponseHeadsDevicesRefuse) {
    const std::vector<std::string> bad = {
        "HTTP/1.0 206 Partial Content\r\nContent-Length: 1\r\nContent-Range: bytes 0-0/1\r\n\r\n",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 9-5/10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Long: " + std::string(120, 'a') + "\r\n\r\n",
        "",
    };
    for (const std::string& head : bad) {
        EXPECT_FALSE(ParseResponseHead(head).ok()) << head;
    }
}

TEST(Options, ParsesFlagsAndDefaults) {
    Result<Config> c = ParseArgs({"--devices",
                                  "d.csv",
                                  "--broker",
                                  "10.0.0.1:1884",
                                  "--style",
                                  "mix",
                                  "--fail-rate=0.25",
                                  "--pull",
                                  "--modules",
                                  "MCU=1.0.0,WIFI=2.1",
                                  "--http-port",
                                  "8080",
                                  "--split-ranges",
                                  "--until-version",
                                  "2.0.0",
                                  "--max-seconds",
                                  "60"});
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->broker_host, "10.0.0.1");
    EXPECT_EQ(c->broker_port, 1884);
    EXPECT_EQ(c->style, StyleChoice::kMix);
    EXPECT_DOUBLE_EQ(c->faults.fail, 0.25);
    EXPECT_TRUE(c->pull);
    ASSERT_EQ(c->modules.size(), 2u);
    EXPECT_EQ(c->modules[1].module, "WIFI");
    EXPECT_EQ(c->modules[1].version, "2.1");
    EXPECT_EQ(c->fetch.default_port, 8080);
    EXPECT_TRUE(c->fetch.split_ranges);
    EXPECT_EQ(c->max_seconds, 60);

    EXPECT_FALSE(ParseArgs({}).ok());
    EXPECT_FALSE(ParseArgs({"--devices", "d", "--fail-rate", "1.5"}).ok());
    EXPECT_FALSE(ParseArgs({"--devices", "d", "--style", "5x"}).ok());
    EXPECT_FALSE(ParseArgs({"--devices", "d", "--keepalive", "10"}).ok());
    EXPECT_FALSE(ParseArgs({"--devices", "d", "--bogus", "1"}).ok());
    EXPECT_FALSE(ParseArgs({"--devices"}).ok());
    EXPECT_FALSE(ParseArgs({"--devices", "d", "--max-seconds", "5"}).ok());
    EXPECT_FALSE(ParseModules("MCU").ok());
    EXPECT_FALSE(ParseModules("MCU=1,MCU=2").ok());
    EXPECT_FALSE(ParseModules("default=1").ok());
    EXPECT_TRUE(ParseArgs({"--help"})->help);
}

TEST(Options, DeviceList) {
    Config c;
    c.style = StyleChoice::kMix;
    c.default_version = "0.9";
    Result<std::vector<DeviceSpec>> d =
        ParseDevices("# comment\npk1,dn1,s1\r\n\npk1,dn2,s2,1.2.3\npk2,dn1,s3\n", c);
    ASSERT_TRUE(d.ok()) << d.error().message;
    ASSERT_EQ(d->size(), 3u);
    EXPECT_EQ((*d)[0].version, "0.9");
    EXPECT_EQ((*d)[0].identity.device_secret, "s1");
    EXPECT_EQ((*d)[1].version, "1.2.3");
    EXPECT_EQ((*d)[0].style, Style::k4x);
    EXPECT_EQ((*d)[1].style, Style::k3x);
    EXPECT_EQ((*d)[2].style, Style::kNode);
    EXPECT_FALSE(ParseDevices("pk,dn\n", c).ok());
    EXPECT_FALSE(ParseDevices("pk,dn,s\npk,dn,s\n", c).ok());
    EXPECT_FALSE(ParseDevices("pk,,s\n", c).ok());
    EXPECT_FALSE(ParseDevices("\n# nothing\n", c).ok());
}

TEST(Faults, DeterministicAndCloseToTheRates) {
    const FaultRates rates{0.1, 0.2, 0.3, 0.05};
    int fail = 0;
    int timeout = 0;
    int offline = 0;
    int wrong = 0;
    int steps[5] = {};
    constexpr int kN = 20000;
    for (int i = 0; i < kN; ++i) {
        const FaultPlan p = DrawFaults(42, static_cast<uint64_t>(i), rates);
        const FaultPlan again = DrawFaults(42, static_cast<uint64_t>(i), rates);
        ASSERT_EQ(p.fail, again.fail);
        ASSERT_EQ(p.timeout, again.timeout);
        fail += p.fail;
        timeout += p.timeout;
        offline += p.offline;
        wrong += p.wrong_version;
        ASSERT_TRUE(p.fail_step == -1 || p.fail_step == -2 || p.fail_step == -4);
        ++steps[-p.fail_step];
    }
    EXPECT_NEAR(static_cast<double>(fail) / kN, 0.1, 0.01);
    EXPECT_NEAR(static_cast<double>(timeout) / kN, 0.2, 0.015);
    EXPECT_NEAR(static_cast<double>(offline) / kN, 0.3, 0.015);
    EXPECT_NEAR(static_cast<double>(wrong) / kN, 0.05, 0.01);
    EXPECT_GT(steps[1], kN / 4);
    EXPECT_GT(steps[2], kN / 4);
    EXPECT_GT(steps[4], kN / 4);
    const FaultPlan none = DrawFaults(42, 7, FaultRates{});
    EXPECT_FALSE(none.Designated() || none.offline);
}

}  // namespace
}  // namespace otad::devsim
