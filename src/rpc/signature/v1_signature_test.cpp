#include "rpc/signature/v1_signature.hpp"

#include "common/crypto.hpp"
#include "rpc/signature/percent_encode.hpp"
#include "rpc/signature/test_vectors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otad::rpc {
namespace {

using vectors::kSecret;

// The decoded, merged parameters of the Node v2 Pub request, already sorted.
std::vector<Param> PubParams() {
    return {
        {"AccessKeyId", "LTAItestAccessKeyId01"},
        {"Action", "Pub"},
        {"DeviceName", "device-01"},
        {"Format", "json"},
        {"IotInstanceId", "iot-cn-fake01"},
        {"MessageContent", "aGVsbG8gd29ybGQ="},
        {"ProductKey", "a1FakeProdKey"},
        {"Qos", "0"},
        {"Signature", "Ojg0D8w19E+3LF3PfOiFjmzSBDM="},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", "e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00"},
        {"SignatureVersion", "1.0"},
        {"Timestamp", "2024-05-20T08:30:00Z"},
        {"TopicFullName", "/a1FakeProdKey/device-01/user/get"},
        {"UserProp.1.Key", "trace id"},
        {"UserProp.1.Value", "x*y~z!(1)'"},
        {"Version", "2018-01-20"},
    };
}

constexpr std::string_view kPubCanonical =
    "AccessKeyId=LTAItestAccessKeyId01&Action=Pub&DeviceName=device-01&Format=json&"
    "IotInstanceId=iot-cn-fake01&MessageContent=aGVsbG8gd29ybGQ%3D&ProductKey=a1FakeProdKey&"
    "Qos=0&SignatureMethod=HMAC-SHA1&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "SignatureVersion=1.0&Timestamp=2024-05-20T08%3A30%3A00Z&"
    "TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&UserProp.1.Key=trace%20id&"
    "UserProp.1.Value=x%2Ay~z%21%281%29%27&Version=2018-01-20";

constexpr std::string_view kPubStringToSign =
    "POST&%2F&AccessKeyId%3DLTAItestAccessKeyId01%26Action%3DPub%26DeviceName%3Ddevice-01%26"
    "Format%3Djson%26IotInstanceId%3Diot-cn-fake01%26MessageContent%3DaGVsbG8gd29ybGQ%253D%26"
    "ProductKey%3Da1FakeProdKey%26Qos%3D0%26SignatureMethod%3DHMAC-SHA1%26"
    "SignatureNonce%3De2c1a0f4b7d94c3e8a1f5b6c7d8e9f00%26SignatureVersion%3D1.0%26"
    "Timestamp%3D2024-05-20T08%253A30%253A00Z%26"
    "TopicFullName%3D%252Fa1FakeProdKey%252Fdevice-01%252Fuser%252Fget%26"
    "UserProp.1.Key%3Dtrace%2520id%26UserProp.1.Value%3Dx%252Ay~z%2521%25281%2529%2527%26"
    "Version%3D2018-01-20";

TEST(V1Signature, NodeV2PubWorkedExample) {
    const std::vector<Param> params = PubParams();
    EXPECT_EQ(V1CanonicalQuery(params), kPubCanonical);
    const std::string sts = V1StringToSign("POST", params);
    EXPECT_EQ(sts, kPubStringToSign);
    EXPECT_EQ(crypto::HexLower(
                  crypto::Hmac(crypto::HashAlgorithm::kSha1, std::string(kSecret) + "&", sts)),
              "3a38340fcc35f44fb72c5dcf7ce8858e6cd20433");
    EXPECT_EQ(V1Signature(sts, kSecret), "Ojg0D8w19E+3LF3PfOiFjmzSBDM=");
}

TEST(V1Signature, MethodIsSigned) {
    EXPECT_EQ(V1Signature(V1StringToSign("GET", PubParams()), kSecret),
              "8sKDDao+k9aDGfDi95YsosShrv4=");
}

TEST(V1Signature, GoCliVariantSignsEmptySignatureType) {
    std::vector<Param> params = PubParams();
    params[3].value = "JSON";          // Format
    params.erase(params.begin() + 8);  // Signature
    params.insert(params.begin() + 8, Param{"RegionId", "cn-shanghai"});
    params.insert(params.begin() + 11, Param{"SignatureType", ""});
    const std::string canonical = V1CanonicalQuery(params);
    EXPECT_EQ(canonical,
              "AccessKeyId=LTAItestAccessKeyId01&Action=Pub&DeviceName=device-01&Format=JSON&"
              "IotInstanceId=iot-cn-fake01&MessageContent=aGVsbG8gd29ybGQ%3D&"
              "ProductKey=a1FakeProdKey&Qos=0&RegionId=cn-shanghai&SignatureMethod=HMAC-SHA1&"
              "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&SignatureType=&"
              "SignatureVersion=1.0&Timestamp=2024-05-20T08%3A30%3A00Z&"
              "TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&"
              "UserProp.1.Key=trace%20id&UserProp.1.Value=x%2Ay~z%21%281%29%27&"
              "Version=2018-01-20");
    const std::string sts = V1StringToSign("POST", params);
    EXPECT_EQ(crypto::HexLower(
                  crypto::Hmac(crypto::HashAlgorithm::kSha1, std::string(kSecret) + "&", sts)),
              "bc7777e5d5cf91088ede73953669280a80f54594");
    EXPECT_EQ(V1Signature(sts, kSecret), "vHd35dXPkQiO3nOVNmkoCoD1RZQ=");

    // Dropping the empty parameter changes the signature.
    params.erase(params.begin() + 11);
    EXPECT_NE(V1Signature(V1StringToSign("POST", params), kSecret), "vHd35dXPkQiO3nOVNmkoCoD1RZQ=");
}

TEST(V1Signature, Utf8ValuesAreDoubleEncoded) {
    const std::vector<Param> params = {
        {"AccessKeyId", "LTAItestAccessKeyId01"},
        {"Action", "QueryDeviceDetail"},
        {"DeviceName", "\xE6\xB8\xA9\xE5\xBA\xA6\xE8\xAE\xA1 01"},
        {"Format", "json"},
        {"ProductKey", "a1FakeProdKey"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", "e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00"},
        {"SignatureVersion", "1.0"},
        {"Timestamp", "2024-05-20T08:30:00Z"},
        {"Version", "2018-01-20"},
    };
    const std::string sts = V1StringToSign("POST", params);
    EXPECT_NE(sts.find("DeviceName%3D%25E6%25B8%25A9%25E5%25BA%25A6%25E8%25AE%25A1%252001"),
              std::string::npos);
    EXPECT_EQ(V1Signature(sts, kSecret), "A3X68rSh7sDr3WNXgFLZGAazS8U=");
}

TEST(V1Signature, SignatureParamIsExcludedAndOtherNamesKept) {
    const std::vector<Param> params = {{"A", "1"}, {"Signature", "x"}, {"SignatureX", ""}};
    EXPECT_EQ(V1CanonicalQuery(params), "A=1&SignatureX=");
    EXPECT_EQ(V1StringToSign("GET", params), "GET&%2F&A%3D1%26SignatureX%3D");
    EXPECT_EQ(V1CanonicalQuery({}), "");
    EXPECT_EQ(V1StringToSign("POST", {}), "POST&%2F&");
}

TEST(V1Signature, StringToSignMatchesEncodingTheCanonicalQueryTwice) {
    const std::vector<Param> params = PubParams();
    EXPECT_EQ(V1StringToSign("POST", params),
              "POST&%2F&" + PercentEncode(V1CanonicalQuery(params)));
}

}  // namespace
}  // namespace otad::rpc
