#pragma once

// Requests from the Alibaba Cloud SDKs, byte for byte, for the signature tests. Fake
// credentials: AccessKeyId LTAItestAccessKeyId01, secret testAccessKeySecret01; every request
// was made at 2024-05-20T08:30:00Z with nonce e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00.
//
// "Captured" requests were recorded on the wire from the official Node.js SDKs. "Derived"
// was produced by re-implementing the Go SDK signer. "Reconstructed" requests carry a
// signature recorded from an SDK while the rest of the request was rebuilt from the recorded
// parameter set in the shape that SDK uses; the signature only matches if the rebuilt
// parameters (V1) or query and signed headers (V3) are exactly what the SDK signed.
// A body-less request ends with the blank line; a chunked body is shown de-chunked.

#include "common/http_message.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace otad::rpc::vectors {

inline constexpr std::string_view kAccessKeyId = "LTAItestAccessKeyId01";
inline constexpr std::string_view kSecret = "testAccessKeySecret01";
inline constexpr std::string_view kNonce = "e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00";
/// 2024-05-20T08:30:00Z.
inline constexpr int64_t kCaptureTimeMs = 1716193800000;

/// Splits a raw request: "METHOD TARGET [HTTP/1.1]", header lines "Name: value" (value with
/// surrounding blanks removed, as an HTTP parser delivers it), a blank line, then the body.
inline HttpRequest ParseRawRequest(std::string_view raw) {
    HttpRequest req;
    size_t eol = raw.find('\n');
    std::string_view line = raw.substr(0, eol);
    const size_t sp1 = line.find(' ');
    req.method = std::string(line.substr(0, sp1));
    std::string_view target = line.substr(sp1 + 1);
    target = target.substr(0, target.find(' '));
    req.target = std::string(target);
    raw.remove_prefix(eol + 1);
    while (!raw.empty()) {
        eol = raw.find('\n');
        line = raw.substr(0, eol);
        raw.remove_prefix(eol == std::string_view::npos ? raw.size() : eol + 1);
        if (line.empty()) {
            break;
        }
        const size_t colon = line.find(':');
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        req.headers.push_back(HttpHeader{std::string(line.substr(0, colon)), std::string(value)});
    }
    req.body = std::string(raw);
    return req;
}

/// Replaces the value of the first header called `name` (case-insensitive).
inline void SetHeader(HttpRequest& req, std::string_view name, std::string value) {
    for (HttpHeader& h : req.headers) {
        if (EqualsIgnoreCase(h.name, name)) {
            h.value = std::move(value);
            return;
        }
    }
    req.headers.push_back(HttpHeader{std::string(name), std::move(value)});
}

// Captured: Node SDK default (V3), Pub.
inline constexpr std::string_view kCapturedPubV3 =
    "POST /?DeviceName=device-01&IotInstanceId=iot-cn-fake01&ProductKey=a1FakeProdKey&Qos=0&"
    "TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&UserProp.1.Key=trace%20id&"
    "UserProp.1.Value=x*y~z!(1)%27 HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: Pub\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-date: 2024-05-20T08:30:00Z\n"
    "x-acs-signature-nonce: e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00\n"
    "accept: application/json\n"
    "content-type: application/x-www-form-urlencoded\n"
    "x-acs-content-sha256: 6f8fa19ad9d28b5de468addb599cdd298a11d7c16a086fc752636406773ccd2b\n"
    "x-acs-credentials-provider: static_ak\n"
    "Authorization: ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,"
    "SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;"
    "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,"
    "Signature=76e8083158f1de369973810751c9b1141b10cceceb581981a97a6c20daad72c2\n"
    "Connection: keep-alive\n"
    "Transfer-Encoding: chunked\n"
    "\n"
    "MessageContent=aGVsbG8gd29ybGQ%3D";

// Captured: Node SDK signatureAlgorithm v2 (V1), Pub.
inline constexpr std::string_view kCapturedPubNodeV1 =
    "POST /?Action=Pub&Format=json&Version=2018-01-20&Timestamp=2024-05-20T08%3A30%3A00Z&"
    "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&DeviceName=device-01&"
    "IotInstanceId=iot-cn-fake01&ProductKey=a1FakeProdKey&Qos=0&"
    "TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&UserProp.1.Key=trace%20id&"
    "UserProp.1.Value=x*y~z!(1)%27&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&"
    "AccessKeyId=LTAItestAccessKeyId01&Signature=Ojg0D8w19E%2B3LF3PfOiFjmzSBDM%3D HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: Pub\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "content-type: application/x-www-form-urlencoded\n"
    "x-acs-credentials-provider: static_ak\n"
    "Connection: keep-alive\n"
    "Transfer-Encoding: chunked\n"
    "\n"
    "MessageContent=aGVsbG8gd29ybGQ%3D";

// Captured: pop-core default GET, QueryDeviceDetail.
inline constexpr std::string_view kCapturedQueryDeviceDetailPopCoreGet =
    "GET /?AccessKeyId=LTAItestAccessKeyId01&Action=QueryDeviceDetail&DeviceName=device-01&"
    "Format=JSON&ProductKey=a1FakeProdKey&SignatureMethod=HMAC-SHA1&"
    "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&SignatureVersion=1.0&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&Version=2018-01-20&"
    "Signature=NnJpRuAgwQespMDwSIstoTOG3xw%3D HTTP/1.1\n"
    "x-sdk-client: Node.js(v20.20.2), @alicloud/pop-core: 1.8.0\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.8.0\n"
    "x-acs-action: QueryDeviceDetail\n"
    "x-acs-version: 2018-01-20\n"
    "Host: 127.0.0.1:18080\n"
    "Connection: keep-alive\n"
    "\n";

// Captured: pop-core POST, Pub, everything in the body.
inline constexpr std::string_view kCapturedPubPopCorePost =
    "POST / HTTP/1.1\n"
    "x-sdk-client: Node.js(v20.20.2), @alicloud/pop-core: 1.8.0\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.8.0\n"
    "x-acs-action: Pub\n"
    "x-acs-version: 2018-01-20\n"
    "content-type: application/x-www-form-urlencoded\n"
    "Host: 127.0.0.1:18080\n"
    "Connection: keep-alive\n"
    "Content-Length: 480\n"
    "\n"
    "AccessKeyId=LTAItestAccessKeyId01&Action=Pub&DeviceName=device-01&Format=JSON&"
    "IotInstanceId=iot-cn-fake01&MessageContent=aGVsbG8gd29ybGQ%3D&ProductKey=a1FakeProdKey&"
    "Qos=0&SignatureMethod=HMAC-SHA1&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "SignatureVersion=1.0&Timestamp=2024-05-20T08%3A30%3A00Z&"
    "TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&UserProp.1.Key=trace%20id&"
    "UserProp.1.Value=x%2Ay~z%21%281%29%27&Version=2018-01-20&"
    "Signature=ZEf1G1WliYlzVeMcU7px08a6Aek%3D";

// Derived from the Go SDK signer (not captured), Pub.
inline constexpr std::string_view kDerivedPubGo =
    "POST /?AccessKeyId=LTAItestAccessKeyId01&Action=Pub&DeviceName=device-01&Format=JSON&"
    "IotInstanceId=iot-cn-fake01&ProductKey=a1FakeProdKey&Qos=0&RegionId=cn-shanghai&"
    "Signature=vHd35dXPkQiO3nOVNmkoCoD1RZQ%3D&SignatureMethod=HMAC-SHA1&"
    "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&SignatureType=&SignatureVersion=1.0&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&"
    "TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&UserProp.1.Key=trace+id&"
    "UserProp.1.Value=x%2Ay~z%21%281%29%27&Version=2018-01-20\n"
    "Content-Type: application/x-www-form-urlencoded\n"
    "x-acs-action: Pub\n"
    "x-acs-version: 2018-01-20\n"
    "\n"
    "MessageContent=aGVsbG8gd29ybGQ%3D";

// Captured: Node SDK V3, QueryDeviceDetail, POST without body.
inline constexpr std::string_view kCapturedQueryDeviceDetailV3 =
    "POST /?DeviceName=device-01&ProductKey=a1FakeProdKey HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: QueryDeviceDetail\n"
    "x-acs-date: 2024-05-20T08:30:00Z\n"
    "x-acs-signature-nonce: e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00\n"
    "accept: application/json\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-acs-credentials-provider: static_ak\n"
    "Authorization: ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host;"
    "x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
    "x-acs-signature-nonce;x-acs-version,"
    "Signature=697846d6293a8acfa1df9b2855cf0e4ab56cf1bdb71dbe3682a3047f18e35242\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK v2 (V1), QueryDeviceDetail, POST without body.
inline constexpr std::string_view kNodeV1QueryDeviceDetail =
    "POST /?Action=QueryDeviceDetail&Format=json&Version=2018-01-20&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "DeviceName=device-01&ProductKey=a1FakeProdKey&SignatureMethod=HMAC-SHA1&"
    "SignatureVersion=1.0&AccessKeyId=LTAItestAccessKeyId01&"
    "Signature=r9%2Fx8WnfwvC9lHJ8lOGn3xKqTzE%3D HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: QueryDeviceDetail\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-credentials-provider: static_ak\n"
    "Connection: keep-alive\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK v2 (V1), ListOTAModuleByProduct, GET.
inline constexpr std::string_view kNodeV1ListOtaModule =
    "GET /?Action=ListOTAModuleByProduct&Format=json&Version=2018-01-20&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "ProductKey=a1FakeProdKey&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&"
    "AccessKeyId=LTAItestAccessKeyId01&Signature=QRhWc6ysFIIvdIxOjfH6%2F26XEok%3D HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: ListOTAModuleByProduct\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-credentials-provider: static_ak\n"
    "Connection: keep-alive\n"
    "\n";

// Reconstructed: Node SDK v2 (V1), CreateOTAStaticUpgradeJob, POST without body.
inline constexpr std::string_view kNodeV1CreateStaticJob =
    "POST /?Action=CreateOTAStaticUpgradeJob&Format=json&Version=2018-01-20&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "FirmwareId=fw-001&ProductKey=a1FakeProdKey&Tag.1.Key=env&Tag.1.Value=prod&Tag.2.Key=k2&"
    "Tag.2.Value=v%202&TargetDeviceName.1=device-01&TargetDeviceName.2=device-02&"
    "TargetSelection=SPECIFIC&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&"
    "AccessKeyId=LTAItestAccessKeyId01&Signature=X%2F1%2B5emBWSPPaP4d2hrllGrrRxE%3D HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: CreateOTAStaticUpgradeJob\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-credentials-provider: static_ak\n"
    "Connection: keep-alive\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK v2 (V1), QueryDeviceDetail with an STS token.
inline constexpr std::string_view kNodeV1Sts =
    "POST /?Action=QueryDeviceDetail&Format=json&Version=2018-01-20&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "DeviceName=device-01&ProductKey=a1FakeProdKey&SignatureMethod=HMAC-SHA1&"
    "SignatureVersion=1.0&AccessKeyId=LTAItestAccessKeyId01&"
    "SecurityToken=FakeStsToken%2F%2B%3D&"
    "Signature=vis8ZE%2BeHFwzlQ%2F2Dg40EXBgGnw%3D HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: QueryDeviceDetail\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-credentials-provider: static_ak\n"
    "Connection: keep-alive\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK v2 (V1), QueryDeviceDetail with a Chinese DeviceName.
inline constexpr std::string_view kNodeV1Utf8 =
    "POST /?Action=QueryDeviceDetail&Format=json&Version=2018-01-20&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&"
    "DeviceName=%E6%B8%A9%E5%BA%A6%E8%AE%A1%2001&ProductKey=a1FakeProdKey&"
    "SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=LTAItestAccessKeyId01&"
    "Signature=A3X68rSh7sDr3WNXgFLZGAazS8U%3D HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: QueryDeviceDetail\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-credentials-provider: static_ak\n"
    "Connection: keep-alive\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK V3, ListOTAModuleByProduct, GET.
inline constexpr std::string_view kV3ListOtaModule =
    "GET /?ProductKey=a1FakeProdKey HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: ListOTAModuleByProduct\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-date: 2024-05-20T08:30:00Z\n"
    "x-acs-signature-nonce: e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00\n"
    "accept: application/json\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-acs-credentials-provider: static_ak\n"
    "Authorization: ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host;"
    "x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
    "x-acs-signature-nonce;x-acs-version,"
    "Signature=611155d30c4bfb0773b73386b7f3ab72e4d31ef6f4040b73136563914a1a73b7\n"
    "\n";

// Reconstructed: Node SDK V3, CreateOTAStaticUpgradeJob, POST without body.
inline constexpr std::string_view kV3CreateStaticJob =
    "POST /?FirmwareId=fw-001&ProductKey=a1FakeProdKey&Tag.1.Key=env&Tag.1.Value=prod&"
    "Tag.2.Key=k2&Tag.2.Value=v%202&TargetDeviceName.1=device-01&"
    "TargetDeviceName.2=device-02&TargetSelection=SPECIFIC HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: CreateOTAStaticUpgradeJob\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-date: 2024-05-20T08:30:00Z\n"
    "x-acs-signature-nonce: e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00\n"
    "accept: application/json\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-acs-credentials-provider: static_ak\n"
    "Authorization: ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host;"
    "x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
    "x-acs-signature-nonce;x-acs-version,"
    "Signature=4e138f5bb4a389efdea426c28b8e902e36af525ddb7b2d30e13d8db700b9c956\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK V3, QueryDeviceDetail with an STS token.
inline constexpr std::string_view kV3Sts =
    "POST /?DeviceName=device-01&ProductKey=a1FakeProdKey HTTP/1.1\n"
    "host: 127.0.0.1:18080\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: QueryDeviceDetail\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-date: 2024-05-20T08:30:00Z\n"
    "x-acs-signature-nonce: e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00\n"
    "accept: application/json\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-acs-credentials-provider: static_sts\n"
    "x-acs-accesskey-id: LTAItestAccessKeyId01\n"
    "x-acs-security-token: FakeStsToken/+=\n"
    "Authorization: ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host;"
    "x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;"
    "x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,"
    "Signature=4ca87807188a7be85a79caea3551ac4f019f405f78046c1d18ea78972b28dca9\n"
    "Content-Length: 0\n"
    "\n";

// Reconstructed: Node SDK V3, QueryDeviceDetail with a Chinese DeviceName, other port.
inline constexpr std::string_view kV3Utf8 =
    "POST /?DeviceName=%E6%B8%A9%E5%BA%A6%E8%AE%A1%2001&ProductKey=a1FakeProdKey HTTP/1.1\n"
    "host: 127.0.0.1:39517\n"
    "x-acs-version: 2018-01-20\n"
    "x-acs-action: QueryDeviceDetail\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1\n"
    "x-acs-date: 2024-05-20T08:30:00Z\n"
    "x-acs-signature-nonce: e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00\n"
    "accept: application/json\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-acs-credentials-provider: static_ak\n"
    "Authorization: ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host;"
    "x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
    "x-acs-signature-nonce;x-acs-version,"
    "Signature=d39d163c1c6438f33ba53c2633e3e192eb761e1cf41d5e44088546363fa9977d\n"
    "Content-Length: 0\n"
    "\n";

}  // namespace otad::rpc::vectors
