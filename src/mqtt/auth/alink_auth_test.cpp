#include "mqtt/auth/alink_auth.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace otad::mqtt {
namespace {

// Device of the worked example (a) of the device protocol notes, used by the C SDK runs.
const DeviceIdentity kSdkDevice{"a1TestPK01", "dev001"};
constexpr std::string_view kSdkSecret = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t12";
constexpr std::string_view kSdk400ClientId =
    "a1TestPK01.dev001|timestamp=2524608000000,_ss=1,_v=sdk-c-4.0.0,securemode=3,"
    "signmethod=hmacsha256,ext=3,|";
constexpr std::string_view kSdk400Password =
    "5454B52C880C00A1061C7F6B5A9E232378A839EA5C31F7D72551890DDA2D1DC9";

// Device of the worked example (b), a client that signs with a real timestamp.
const DeviceIdentity kDocDevice{"a1FakePK123", "device1"};
constexpr std::string_view kDocSecret = "0123456789abcdef0123456789abcdef";

std::string DocClientId(std::string_view sign_method) {
    return "device1-mac001|securemode=3,signmethod=" + std::string(sign_method) +
           ",timestamp=1700000000000|";
}

TEST(AlinkLogin, LinkSdk4UpperCaseSha256) {
    std::optional<AlinkClientId> parsed = ParseClientId(kSdk400ClientId);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->prefix, "a1TestPK01.dev001");
    EXPECT_EQ(parsed->sign_method, SignMethod::kHmacSha256);
    EXPECT_EQ(parsed->timestamp, "2524608000000");
    EXPECT_EQ(ExpectedPassword(*parsed, kSdkDevice, kSdkSecret),
              "5454b52c880c00a1061c7f6b5a9e232378a839ea5c31f7d72551890dda2d1dc9");
    EXPECT_EQ(CheckDeviceLogin(kSdk400ClientId, kSdkDevice, kSdkSecret, kSdk400Password),
              LoginCheck::kOk);
}

TEST(AlinkLogin, DocExampleAllSignMethods) {
    struct Case {
        std::string_view sign_method;
        std::string_view password;
    };
    for (const Case& c : {
             Case{"hmacsha256", "9370f7b3168e03bb6da1abc92efb64ef2a722addd8bafb7d0db1b528ecca20e3"},
             Case{"hmacsha1", "1e108b758bde35e416492515c9bd2b0c11428c77"},
             Case{"hmacmd5", "6f700b5f3e6365e35d2f616bb52ac371"},
         }) {
        SCOPED_TRACE(c.sign_method);
        std::string client_id = DocClientId(c.sign_method);
        EXPECT_EQ(CheckDeviceLogin(client_id, kDocDevice, kDocSecret, c.password), LoginCheck::kOk);
        std::string upper(c.password);
        for (char& ch : upper) {
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        EXPECT_EQ(CheckDeviceLogin(client_id, kDocDevice, kDocSecret, upper), LoginCheck::kOk);
    }
}

TEST(AlinkLogin, ClientIdsSeenFromEachSdk) {
    // Link SDK 4.2 adds a per-connection `_conn` item; the password does not change.
    EXPECT_EQ(CheckDeviceLogin("a1TestPK01.dev001|timestamp=2524608000000,_ss=1,_v=sdk-c-4.2.0,"
                               "securemode=3,signmethod=hmacsha256,ext=3,_conn=tcp_0|",
                               kSdkDevice,
                               kSdkSecret,
                               kSdk400Password),
              LoginCheck::kOk);
    EXPECT_EQ(CheckDeviceLogin("a1TestPK01.dev001|timestamp=2524608000000,_ss=1,_v=sdk-c-4.2.0,"
                               "securemode=3,signmethod=hmacsha256,ext=3,"
                               "_conn=tls_18c2f3a1b_-4e21|",
                               kSdkDevice,
                               kSdkSecret,
                               kSdk400Password),
              LoginCheck::kOk);

    // iotkit-embedded 3.2, lower-case hex. Expected values computed independently with
    // `openssl dgst -hmac`.
    const DeviceIdentity dev003{"a1TestPK01", "dev003"};
    EXPECT_EQ(CheckDeviceLogin("a1TestPK01.dev003|timestamp=2524608000000,_v=sdk-c-3.2.0,"
                               "securemode=3,signmethod=hmacsha256,lan=C,_ss=1,gw=0,ext=0|",
                               dev003,
                               kSdkSecret,
                               "7d5cc0df65ff472d7f3bc7b7f03d517788baac238c8f5408c8d792b77539441b"),
              LoginCheck::kOk);

    // The Node SDK: `<id>` is `pk&dn`, sha1, a real timestamp.
    const DeviceIdentity dev002{"a1TestPK01", "dev002"};
    std::string node_id =
        "a1TestPK01&dev002|securemode=3,signmethod=hmacsha1,timestamp=1712345678901,lan=NodeJS,"
        "_v=1.2.8|";
    std::optional<AlinkClientId> parsed = ParseClientId(node_id);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->prefix, "a1TestPK01&dev002");
    EXPECT_EQ(parsed->sign_method, SignMethod::kHmacSha1);
    EXPECT_EQ(
        CheckDeviceLogin(node_id, dev002, kSdkSecret, "43a164fc8269b77ebe6e96e50fb2b36c341d7aa1"),
        LoginCheck::kOk);
}

TEST(AlinkLogin, TimestampOmittedWhenAbsentAndMd5ByDefault) {
    std::optional<AlinkClientId> parsed = ParseClientId("device1-mac001|securemode=3|");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->sign_method, SignMethod::kHmacMd5);
    EXPECT_FALSE(parsed->timestamp.has_value());
    // HMAC-MD5 of "clientIddevice1-mac001deviceNamedevice1productKeya1FakePK123".
    EXPECT_EQ(ExpectedPassword(*parsed, kDocDevice, kDocSecret),
              "ab4b14fda11e9aa2f703e0258231ca83");
}

TEST(AlinkLogin, SignMethodIgnoresCase) {
    std::optional<AlinkClientId> parsed = ParseClientId("x|signmethod=HmacSHA1|");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->sign_method, SignMethod::kHmacSha1);
}

TEST(AlinkLogin, EmptyPrefixIsSigned) {
    std::optional<AlinkClientId> parsed =
        ParseClientId("|timestamp=2524608000000,signmethod=hmacsha256|");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->prefix, "");
}

TEST(AlinkLogin, MalformedClientIdsRefused) {
    for (std::string_view id : {
             "a1TestPK01.dev001",                          // no bars
             "a1TestPK01.dev001|securemode=3",             // no closing bar
             "a1TestPK01.dev001|",                         // one bar only
             "a|b|c|",                                     // a third bar
             "a|securemode|",                              // item without '='
             "a|signmethod=hmacsha512|",                   // unknown method
             "a|signmethod=|",                             // empty method
             "a|signmethod=hmacmd5,signmethod=hmacsha1|",  // twice
             "a|timestamp=|",                              // empty timestamp
             "a|timestamp=12a|",                           // not digits
             "a|timestamp=1,timestamp=1|",                 // twice
             "a|timestamp=123456789012345678901|",         // 21 digits
         }) {
        SCOPED_TRACE(id);
        EXPECT_FALSE(ParseClientId(id).has_value());
    }
    EXPECT_EQ(CheckDeviceLogin("nobars", kSdkDevice, kSdkSecret, kSdk400Password),
              LoginCheck::kBadClientId);
}

TEST(AlinkLogin, ClientIdLimits) {
    std::string long_prefix(kMaxClientIdPrefixBytes, 'p');
    EXPECT_TRUE(ParseClientId(long_prefix + "|securemode=3|").has_value());
    EXPECT_FALSE(ParseClientId(long_prefix + "p|securemode=3|").has_value());

    std::string many = "a|";
    for (size_t i = 0; i < kMaxClientIdParams; ++i) {
        many += "k=v,";
    }
    EXPECT_TRUE(ParseClientId(many + "|").has_value());
    EXPECT_FALSE(ParseClientId(many + "k=v|").has_value());

    std::string huge = "a|x=" + std::string(kMaxClientIdBytes, 'v') + "|";
    EXPECT_FALSE(ParseClientId(huge).has_value());
}

TEST(AlinkLogin, WrongPasswordsRefused) {
    std::string client_id(kSdk400ClientId);
    EXPECT_EQ(CheckDeviceLogin(client_id, kSdkDevice, "another-secret", kSdk400Password),
              LoginCheck::kBadPassword);
    // Same device, other DeviceName in the username.
    EXPECT_EQ(CheckDeviceLogin(
                  client_id, DeviceIdentity{"a1TestPK01", "dev002"}, kSdkSecret, kSdk400Password),
              LoginCheck::kBadPassword);
    // Another timestamp changes the signed text.
    EXPECT_EQ(CheckDeviceLogin("a1TestPK01.dev001|timestamp=2524608000001,signmethod=hmacsha256|",
                               kSdkDevice,
                               kSdkSecret,
                               kSdk400Password),
              LoginCheck::kBadPassword);
    // The client id claims sha256 but the password is the sha1 one.
    EXPECT_EQ(CheckDeviceLogin(DocClientId("hmacsha256"),
                               kDocDevice,
                               kDocSecret,
                               "1e108b758bde35e416492515c9bd2b0c11428c77"),
              LoginCheck::kBadPassword);
    EXPECT_EQ(CheckDeviceLogin(client_id, kSdkDevice, kSdkSecret, ""), LoginCheck::kBadPassword);
    EXPECT_EQ(CheckDeviceLogin(client_id, kSdkDevice, kSdkSecret, kSdk400Password.substr(1)),
              LoginCheck::kBadPassword);
}

TEST(AlinkLogin, PasswordMatchesIgnoresCaseOnly) {
    EXPECT_TRUE(PasswordMatches("00ff", "00FF"));
    EXPECT_TRUE(PasswordMatches("00ff", "00Ff"));
    EXPECT_FALSE(PasswordMatches("00ff", "00fe"));
    EXPECT_FALSE(PasswordMatches("00ff", "00ff0"));
    EXPECT_FALSE(PasswordMatches("00ff", ""));
}

TEST(AlinkUsername, Parses) {
    std::optional<DeviceIdentity> device = ParseUsername("dev001&a1TestPK01");
    ASSERT_TRUE(device.has_value());
    EXPECT_EQ(device->product_key, "a1TestPK01");
    EXPECT_EQ(device->device_name, "dev001");
    EXPECT_TRUE(ParseUsername("a-b_c.d@e:f&pk").has_value());
}

TEST(AlinkUsername, Refuses) {
    for (std::string_view username :
         {"", "dev001", "&pk", "dev&", "a&b&c", "de/v&pk", "dev&p+k", "dev&pk#", "otad"}) {
        SCOPED_TRACE(username);
        EXPECT_FALSE(ParseUsername(username).has_value());
    }
    EXPECT_FALSE(ParseUsername(std::string(kMaxNameBytes + 1, 'd') + "&pk").has_value());
    EXPECT_TRUE(ParseUsername(std::string(kMaxNameBytes, 'd') + "&pk").has_value());
}

const DeviceIdentity kMe{"pk1", "dev1"};

TEST(AlinkTopics, OwnTopicsMayBePublished) {
    for (std::string_view topic : {
             "/sys/pk1/dev1/thing/event/property/post",
             "/sys/pk1/dev1/thing/ota/firmware/get",
             "/ota/device/inform/pk1/dev1",
             "/ota/device/progress/pk1/dev1",
             "/ota/device/request/pk1/dev1",
             "/shadow/update/pk1/dev1",
             "/ext/session/pk1/dev1/combine/login",
             "/pk1/dev1/user/update",
             "/pk1/dev1/user/a/b/c",
         }) {
        SCOPED_TRACE(topic);
        EXPECT_TRUE(DeviceMayPublish(kMe, topic));
        EXPECT_TRUE(DeviceMaySubscribe(kMe, topic));
    }
}

TEST(AlinkTopics, OtherTopicsRefused) {
    for (std::string_view topic : {
             "/sys/pk1/dev2/thing/event/property/post",  // another device
             "/sys/pk2/dev1/thing/event/property/post",  // same name, other product
             "/sys/pk1/dev1",                            // no tail
             "/ota/device/inform/pk1/dev2",
             "/ota/device/inform/pk1/dev1/extra",
             "/ota/device//pk1/dev1",
             "/ota/device/inform/pk1",
             "/shadow/update/pk1/dev2",
             "/ext/session/pk1/dev2/combine/login",
             "/ext/ntp/pk1/dev2/request",
             "/pk1/dev2/user/update",
             "/pk1/dev1/other/update",
             "/pk1/dev1/user",
             "sys/pk1/dev1/thing/event/property/post",  // no leading slash
             "/as/mqtt/status/pk1/dev1",
             "$SYS/broker/uptime",
             "",
             "/",
         }) {
        SCOPED_TRACE(topic);
        EXPECT_FALSE(DeviceMayPublish(kMe, topic));
        EXPECT_FALSE(DeviceMaySubscribe(kMe, topic));
    }
}

TEST(AlinkTopics, WildcardsStayInsideTheDevice) {
    for (std::string_view filter : {
             "/sys/pk1/dev1/#",
             "/sys/pk1/dev1/thing/+/property/post_reply",
             "/sys/pk1/dev1/+",
             "/ota/device/+/pk1/dev1",
             "/shadow/+/pk1/dev1",
             "/ext/session/pk1/dev1/#",
             "/pk1/dev1/user/#",
             "/pk1/dev1/user/+/x",
         }) {
        SCOPED_TRACE(filter);
        EXPECT_TRUE(DeviceMaySubscribe(kMe, filter));
        EXPECT_FALSE(DeviceMayPublish(kMe, filter));
    }
    for (std::string_view filter : {
             "#",
             "/#",
             "/sys/#",
             "/sys/pk1/#",
             "/sys/pk1/+/thing/event/property/post",
             "/sys/+/dev1/thing/event/property/post",
             "/+/pk1/dev1/thing",
             "/ota/device/upgrade/pk1/+",
             "/ota/device/upgrade/+/dev1",
             "/ota/device/#",
             "/ota/device/upgrade/#",
             "/ota/+/upgrade/pk1/dev1",
             "/ota/device/up+/pk1/dev1",
             "/shadow/#",
             "/shadow/update/pk1/#",
             "/ext/session/+/dev1/x",
             "/+/+/user/#",
             "/pk1/+/user/#",
             "/pk1/dev1/#",
             "/sys/pk1/dev1/#/x",
             "/sys/pk1/dev1/a#",
             "$share/g/sys/pk1/dev1/#",
         }) {
        SCOPED_TRACE(filter);
        EXPECT_FALSE(DeviceMaySubscribe(kMe, filter));
    }
}

TEST(AlinkTopics, DeviceWithUnusableNamesOwnsNothing) {
    EXPECT_FALSE(DeviceMayPublish(DeviceIdentity{"+", "dev1"}, "/sys/+/dev1/thing/x"));
    EXPECT_FALSE(DeviceMaySubscribe(DeviceIdentity{"pk1", ""}, "/sys/pk1//thing/x"));
}

TEST(AlinkTopics, TopicDepthIsBounded) {
    std::string deep = "/sys/pk1/dev1";
    for (int i = 0; i < 70; ++i) {
        deep += "/x";
    }
    EXPECT_FALSE(DeviceMayPublish(kMe, deep));
}

TEST(AlinkDownlink, DownlinkTopicsNameTheirDevice) {
    for (std::string_view topic : {
             "/ota/device/upgrade/pk1/dev1",
             "/ota/device/request/pk1/dev1",
             "/sys/pk1/dev1/thing/ota/firmware/get_reply",
             "/sys/pk1/dev1/thing/file/download_reply",
             "/sys/pk1/dev1/thing/config/push",
             "/sys/pk1/dev1/thing/config/get_reply",
         }) {
        SCOPED_TRACE(topic);
        std::optional<DeviceIdentity> target = DeviceDownlinkTarget(topic);
        ASSERT_TRUE(target.has_value());
        EXPECT_EQ(*target, kMe);
    }
}

TEST(AlinkDownlink, OtherTopicsAreNotDownlinks) {
    for (std::string_view topic : {
             "/ota/device/inform/pk1/dev1",
             "/ota/device/progress/pk1/dev1",
             "/ota/device/upgrade/pk1/dev1/x",
             "/ota/device/upgrade/pk1",
             "/ota/device/upgrade/+/dev1",
             "/ota/device/upgrade/pk1/#",
             "/ota/device/upgrade//dev1",
             "/sys/pk1/dev1/thing/ota/firmware/get",
             "/sys/pk1/dev1/thing/file/download",
             "/sys/pk1/dev1/thing/config/get",
             "/sys/pk1/dev1/thing/config/push/x",
             "/sys/pk1/dev1/thing/event/property/post_reply",
             "/as/mqtt/status/pk1/dev1",
             "ota/device/upgrade/pk1/dev1",
             "",
         }) {
        SCOPED_TRACE(topic);
        EXPECT_FALSE(DeviceDownlinkTarget(topic).has_value());
    }
}

TEST(AlinkPresence, Topic) {
    EXPECT_EQ(PresenceTopic(kMe), "/as/mqtt/status/pk1/dev1");
}

}  // namespace
}  // namespace otad::mqtt
