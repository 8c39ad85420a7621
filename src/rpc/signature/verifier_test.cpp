#include "rpc/signature/verifier.hpp"

#include "common/time_format.hpp"
#include "rpc/signature/nonce_cache.hpp"
#include "rpc/signature/percent_encode.hpp"
#include "rpc/signature/test_vectors.hpp"
#include "rpc/signature/v1_signature.hpp"
#include "rpc/signature/v3_signature.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace otad::rpc {
namespace {

using vectors::kAccessKeyId;
using vectors::kCaptureTimeMs;
using vectors::kNonce;
using vectors::kSecret;
using vectors::ParseRawRequest;
using vectors::SetHeader;

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr std::string_view kMismatchPrefix =
    "Specified signature is not matched with our calculation. server string to sign is:";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
    std::string out(text);
    const size_t pos = out.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) {
        out.replace(pos, from.size(), to);
    }
    return out;
}

void RemoveHeader(HttpRequest& req, std::string_view name) {
    std::erase_if(req.headers, [&](const HttpHeader& h) { return EqualsIgnoreCase(h.name, name); });
}

// A different byte at the same place; never equal to the original.
char Other(char c) {
    return c == 'Z' ? 'Y' : 'Z';
}

class VerifierTest : public ::testing::Test {
  protected:
    void SetUp() override {
        keys_.emplace(std::string(kAccessKeyId), KeyInfo{std::string(kSecret), true});
        keys_.emplace("LTAIdisabledKey", KeyInfo{"whatever", false});
    }

    // A fresh nonce cache per call unless `nonces` is given, so that every vector (they all
    // share one nonce) can be checked on its own.
    Result<AuthOutcome> Run(const HttpRequest& req, NonceStore* nonces = nullptr) {
        Result<ParamMap> params =
            ParamMap::FromRequest(req.Query(), req.FindHeader("content-type"), req.body, {});
        if (!params.ok()) {
            return params.error();
        }
        NonceCache fresh;
        Verifier verifier(clock_, nonces != nullptr ? *nonces : fresh);
        return verifier.Verify(req, *params, lookup_);
    }

    Result<AuthOutcome> RunRaw(std::string_view raw, NonceStore* nonces = nullptr) {
        return Run(ParseRawRequest(raw), nonces);
    }

    // Expects failure with `code`; returns the error for further checks.
    Error ExpectError(const Result<AuthOutcome>& r, ErrorCode code) {
        EXPECT_FALSE(r.ok());
        if (r.ok()) {
            return {};
        }
        EXPECT_EQ(r.error().code, code)
            << ErrorCodeName(r.error().code) << ": " << r.error().message;
        return r.error();
    }

    // A V1 GET request signed by our own signer, for cases that no SDK vector covers (time
    // moved on, changed common parameters). The fixed vectors cover the signer itself.
    HttpRequest SignedV1Get(std::vector<Param> params) {
        std::sort(params.begin(), params.end(), [](const Param& a, const Param& b) {
            return a.name < b.name;
        });
        const std::string signature = V1Signature(V1StringToSign("GET", params), kSecret);
        HttpRequest req;
        req.method = "GET";
        req.target = "/?";
        for (const Param& p : params) {
            req.target += PercentEncode(p.name) + "=" + PercentEncode(p.value) + "&";
        }
        req.target += "Signature=" + PercentEncode(signature);
        req.headers.push_back({"Host", "127.0.0.1:18080"});
        return req;
    }

    std::vector<Param> CommonV1Params(int64_t when_ms) {
        return {{"AccessKeyId", std::string(kAccessKeyId)},
                {"Action", "QueryDeviceDetail"},
                {"Format", "JSON"},
                {"ProductKey", "a1FakeProdKey"},
                {"DeviceName", "device-01"},
                {"SignatureMethod", "HMAC-SHA1"},
                {"SignatureVersion", "1.0"},
                {"SignatureNonce", std::string(kNonce)},
                {"Timestamp", FormatUtcSeconds(when_ms)},
                {"Version", "2018-01-20"}};
    }

    ManualClock clock_{kCaptureTimeMs};
    std::map<std::string, KeyInfo, std::less<>> keys_;
    int lookups_ = 0;
    SecretLookup lookup_ = [this](std::string_view id) -> Result<std::optional<KeyInfo>> {
        ++lookups_;
        auto it = keys_.find(id);
        if (it == keys_.end()) {
            return std::optional<KeyInfo>();
        }
        return std::optional<KeyInfo>(it->second);
    };
};

struct V1Vector {
    std::string_view name;
    std::string_view raw;
    std::string_view action;
};

const V1Vector kV1Vectors[] = {
    {"node v2 Pub (query + body)", vectors::kCapturedPubNodeV1, "Pub"},
    {"pop-core GET", vectors::kCapturedQueryDeviceDetailPopCoreGet, "QueryDeviceDetail"},
    {"pop-core POST all in body", vectors::kCapturedPubPopCorePost, "Pub"},
    {"Go/CLI Pub", vectors::kDerivedPubGo, "Pub"},
    {"node v2 QueryDeviceDetail", vectors::kNodeV1QueryDeviceDetail, "QueryDeviceDetail"},
    {"node v2 ListOTAModuleByProduct GET", vectors::kNodeV1ListOtaModule, "ListOTAModuleByProduct"},
    {"node v2 CreateOTAStaticUpgradeJob",
     vectors::kNodeV1CreateStaticJob,
     "CreateOTAStaticUpgradeJob"},
    {"node v2 UTF-8 DeviceName", vectors::kNodeV1Utf8, "QueryDeviceDetail"},
};

TEST_F(VerifierTest, AcceptsV1SdkVectors) {
    for (const V1Vector& v : kV1Vectors) {
        SCOPED_TRACE(v.name);
        Result<AuthOutcome> r = RunRaw(v.raw);
        ASSERT_TRUE(r.ok()) << ErrorCodeName(r.error().code) << ": " << r.error().message;
        EXPECT_EQ(r->style, AuthOutcome::Style::kV1);
        EXPECT_EQ(r->access_key_id, kAccessKeyId);
        EXPECT_EQ(r->action, v.action);
        EXPECT_EQ(r->version, "2018-01-20");
    }
}

struct V3Vector {
    std::string_view name;
    HttpRequest req;
    std::string_view action;
};

std::vector<V3Vector> V3Vectors() {
    std::vector<V3Vector> out = {
        {"Pub", ParseRawRequest(vectors::kCapturedPubV3), "Pub"},
        {"QueryDeviceDetail",
         ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3),
         "QueryDeviceDetail"},
        {"ListOTAModuleByProduct GET",
         ParseRawRequest(vectors::kV3ListOtaModule),
         "ListOTAModuleByProduct"},
        {"CreateOTAStaticUpgradeJob",
         ParseRawRequest(vectors::kV3CreateStaticJob),
         "CreateOTAStaticUpgradeJob"},
        {"UTF-8 DeviceName", ParseRawRequest(vectors::kV3Utf8), "QueryDeviceDetail"},
    };
    // The Pub request addressed to the public endpoint name.
    HttpRequest public_host = ParseRawRequest(
        Replace(vectors::kCapturedPubV3,
                "76e8083158f1de369973810751c9b1141b10cceceb581981a97a6c20daad72c2",
                "479b787a67197405801641f10a713cc9672eaaea92ed4a4c65fb6844be697bf4"));
    SetHeader(public_host, "host", "iot.cn-shanghai.aliyuncs.com");
    out.push_back({"Pub, public host", std::move(public_host), "Pub"});
    if (crypto::Available(crypto::HashAlgorithm::kSm3)) {
        for (const auto& [host, signature] : {
                 std::pair{"127.0.0.1:18081",
                           "be387c9843a5d66266baa6bbbcc0fe1b0e5925c4754a25e45e30bf970d151b96"},
                 std::pair{"iot.cn-shanghai.aliyuncs.com",
                           "5df114e2307da1504335d4c92574ddc1a74a6468ccba6db66ef53dd8684d47b7"},
             }) {
            std::string raw = Replace(vectors::kCapturedPubV3, "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3");
            raw = Replace(
                raw, "76e8083158f1de369973810751c9b1141b10cceceb581981a97a6c20daad72c2", signature);
            raw = Replace(raw,
                          "6f8fa19ad9d28b5de468addb599cdd298a11d7c16a086fc752636406773ccd2b",
                          "a182b33637aa8e869061cfb32753f0d42088ea9746e357f748f765de0e3d76c6");
            HttpRequest req = ParseRawRequest(raw);
            SetHeader(req, "host", host);
            out.push_back({"Pub, SM3", std::move(req), "Pub"});
        }
    }
    return out;
}

TEST_F(VerifierTest, AcceptsV3SdkVectors) {
    for (const V3Vector& v : V3Vectors()) {
        SCOPED_TRACE(v.name);
        Result<AuthOutcome> r = Run(v.req);
        ASSERT_TRUE(r.ok()) << ErrorCodeName(r.error().code) << ": " << r.error().message;
        EXPECT_EQ(r->style, AuthOutcome::Style::kV3);
        EXPECT_EQ(r->access_key_id, kAccessKeyId);
        EXPECT_EQ(r->action, v.action);
        EXPECT_EQ(r->version, "2018-01-20");
    }
}

TEST_F(VerifierTest, Sm3RefusedWhenUnavailable) {
    if (crypto::Available(crypto::HashAlgorithm::kSm3)) {
        GTEST_SKIP() << "SM3 available; covered by AcceptsV3SdkVectors";
    }
    ExpectError(RunRaw(Replace(vectors::kCapturedPubV3, "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3")),
                ErrorCode::kInvalidSignatureMethod);
}

TEST_F(VerifierTest, V1MethodIsSigned) {
    HttpRequest get = ParseRawRequest(Replace(vectors::kCapturedPubNodeV1,
                                              "Ojg0D8w19E%2B3LF3PfOiFjmzSBDM%3D",
                                              "8sKDDao%2Bk9aDGfDi95YsosShrv4%3D"));
    get.method = "GET";
    EXPECT_TRUE(Run(get).ok());

    HttpRequest wrong = ParseRawRequest(vectors::kCapturedPubNodeV1);
    wrong.method = "GET";
    const Error e = ExpectError(Run(wrong), ErrorCode::kSignatureDoesNotMatch);
    EXPECT_TRUE(e.message.starts_with(std::string(kMismatchPrefix) + "GET&%2F&AccessKeyId%3D"))
        << e.message;
}

TEST_F(VerifierTest, V1MismatchMessageCarriesOurStringToSign) {
    const std::string raw = Replace(vectors::kCapturedQueryDeviceDetailPopCoreGet,
                                    "NnJpRuAgwQespMDwSIstoTOG3xw%3D",
                                    "NnJpRuAgwQespMDwSIstoTOG3xx%3D");
    const Error e = ExpectError(RunRaw(raw), ErrorCode::kSignatureDoesNotMatch);
    EXPECT_EQ(
        e.message,
        std::string(kMismatchPrefix) +
            "GET&%2F&AccessKeyId%3DLTAItestAccessKeyId01%26Action%3DQueryDeviceDetail%26"
            "DeviceName%3Ddevice-01%26Format%3DJSON%26ProductKey%3Da1FakeProdKey%26"
            "SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3De2c1a0f4b7d94c3e8a1f5b6c7d8e9f00%26"
            "SignatureVersion%3D1.0%26Timestamp%3D2024-05-20T08%253A30%253A00Z%26"
            "Version%3D2018-01-20");
}

// Replacing any single byte of what V1 covers (every query and body byte, which includes every
// parameter name and value and the signature itself) must make verification fail.
TEST_F(VerifierTest, V1AnySingleByteMutationFails) {
    for (const V1Vector& v : kV1Vectors) {
        SCOPED_TRACE(v.name);
        const HttpRequest original = ParseRawRequest(v.raw);
        const size_t query_start = original.target.find('?');
        for (size_t i = query_start == std::string::npos ? original.target.size() : query_start + 1;
             i < original.target.size();
             ++i) {
            HttpRequest req = original;
            req.target[i] = Other(req.target[i]);
            EXPECT_FALSE(Run(req).ok()) << "target byte " << i << ": " << req.target;
        }
        for (size_t i = 0; i < original.body.size(); ++i) {
            HttpRequest req = original;
            req.body[i] = Other(req.body[i]);
            EXPECT_FALSE(Run(req).ok()) << "body byte " << i << ": " << req.body;
        }
    }
}

bool IsSignedHeader(const HttpRequest& req, std::string_view name) {
    Result<V3Authorization> auth = ParseV3Authorization(*req.FindHeader("authorization"));
    for (const std::string& signed_name : auth->signed_headers) {
        if (EqualsIgnoreCase(signed_name, name)) {
            return true;
        }
    }
    return false;
}

// V3 covers the method, the query, every signed header, the body (through its hash) and the
// signature; a single changed byte in any of them must fail. Unsigned headers may change.
TEST_F(VerifierTest, V3AnySingleByteMutationFails) {
    for (const V3Vector& v : V3Vectors()) {
        SCOPED_TRACE(v.name);
        const HttpRequest& original = v.req;
        for (size_t i = 0; i < original.target.size(); ++i) {
            HttpRequest req = original;
            req.target[i] = Other(req.target[i]);
            EXPECT_FALSE(Run(req).ok()) << "target byte " << i << ": " << req.target;
        }
        for (size_t i = 0; i < original.body.size(); ++i) {
            HttpRequest req = original;
            req.body[i] = Other(req.body[i]);
            EXPECT_FALSE(Run(req).ok()) << "body byte " << i;
        }
        for (size_t h = 0; h < original.headers.size(); ++h) {
            const bool is_signed = IsSignedHeader(original, original.headers[h].name) ||
                                   EqualsIgnoreCase(original.headers[h].name, "authorization");
            for (size_t i = 0; i < original.headers[h].value.size(); ++i) {
                HttpRequest req = original;
                req.headers[h].value[i] = Other(req.headers[h].value[i]);
                if (is_signed) {
                    EXPECT_FALSE(Run(req).ok())
                        << req.headers[h].name << ": " << req.headers[h].value;
                } else {
                    EXPECT_TRUE(Run(req).ok())
                        << req.headers[h].name << ": " << req.headers[h].value;
                }
            }
        }
        HttpRequest other_method = original;
        other_method.method = original.method == "GET" ? "POST" : "GET";
        ExpectError(Run(other_method), ErrorCode::kSignatureDoesNotMatch);
    }
}

TEST_F(VerifierTest, V3BodyMismatchNamesThePayloadHash) {
    HttpRequest req = ParseRawRequest(vectors::kCapturedPubV3);
    req.body += "&X=1";
    const Error e = ExpectError(Run(req), ErrorCode::kSignatureDoesNotMatch);
    EXPECT_NE(e.message.find("payload hash"), std::string::npos);
}

TEST_F(VerifierTest, SkewJustInsideAndOutsideBothDirections) {
    const HttpRequest v1 = ParseRawRequest(vectors::kCapturedQueryDeviceDetailPopCoreGet);
    const HttpRequest v3 = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    for (const HttpRequest* req : {&v1, &v3}) {
        for (int64_t offset : {-15 * kMinuteMs, 15 * kMinuteMs}) {
            clock_.Set(kCaptureTimeMs + offset);
            EXPECT_TRUE(Run(*req).ok()) << offset;
        }
        for (int64_t offset :
             {-15 * kMinuteMs - 1000, 15 * kMinuteMs + 1000, -15 * kMinuteMs - 1}) {
            clock_.Set(kCaptureTimeMs + offset);
            ExpectError(Run(*req), ErrorCode::kTimestampExpired);
        }
    }
    EXPECT_EQ(lookups_, 4);  // expired requests never reach the key store
}

TEST_F(VerifierTest, NonceReplayAndExpiry) {
    NonceCache nonces;
    ASSERT_TRUE(RunRaw(vectors::kCapturedPubV3, &nonces).ok());
    ExpectError(RunRaw(vectors::kCapturedPubV3, &nonces), ErrorCode::kNonceUsed);
    // The same key and nonce through V1 are a replay too.
    ExpectError(RunRaw(vectors::kCapturedPubNodeV1, &nonces), ErrorCode::kNonceUsed);

    // 30 minutes later, freshly timestamped and signed: still remembered.
    clock_.Advance(30 * kMinuteMs);
    ExpectError(Run(SignedV1Get(CommonV1Params(clock_.NowMs())), &nonces), ErrorCode::kNonceUsed);
    // 31 minutes after first use the nonce is forgotten.
    clock_.Set(kCaptureTimeMs + 31 * kMinuteMs);
    EXPECT_TRUE(Run(SignedV1Get(CommonV1Params(clock_.NowMs())), &nonces).ok());
    ExpectError(Run(SignedV1Get(CommonV1Params(clock_.NowMs())), &nonces), ErrorCode::kNonceUsed);
}

TEST_F(VerifierTest, FailedVerificationDoesNotBurnTheNonce) {
    NonceCache nonces;
    const std::string bad = Replace(vectors::kCapturedQueryDeviceDetailPopCoreGet,
                                    "NnJpRuAgwQespMDwSIstoTOG3xw%3D",
                                    "AAAARuAgwQespMDwSIstoTOG3xw%3D");
    ExpectError(RunRaw(bad, &nonces), ErrorCode::kSignatureDoesNotMatch);
    EXPECT_EQ(nonces.Size(), 0u);
    EXPECT_TRUE(RunRaw(vectors::kCapturedQueryDeviceDetailPopCoreGet, &nonces).ok());
    EXPECT_EQ(nonces.Size(), 1u);
}

TEST_F(VerifierTest, FullNonceCacheIsUnavailable) {
    NonceCache nonces(NonceCacheOptions{.max_entries = 1, .shard_count = 1});
    ASSERT_EQ(nonces.Insert("someone", "else", kCaptureTimeMs), NonceResult::kFresh);
    ExpectError(RunRaw(vectors::kCapturedPubV3, &nonces), ErrorCode::kUnavailable);
    ExpectError(RunRaw(vectors::kCapturedPubNodeV1, &nonces), ErrorCode::kUnavailable);
}

// A shared nonce store that cannot be reached (otad's Redis one while Redis is down).
class UnreachableNonceStore final : public NonceStore {
  public:
    NonceResult Insert(std::string_view, std::string_view, int64_t) override {
        ++calls;
        return NonceResult::kUnavailable;
    }
    int calls = 0;
};

TEST_F(VerifierTest, UnreachableNonceStoreFailsClosed) {
    UnreachableNonceStore nonces;
    const Error v3 = ExpectError(RunRaw(vectors::kCapturedPubV3, &nonces), ErrorCode::kUnavailable);
    EXPECT_EQ(v3.internal, "nonce store is unavailable");
    ExpectError(RunRaw(vectors::kCapturedPubNodeV1, &nonces), ErrorCode::kUnavailable);
    EXPECT_EQ(nonces.calls, 2);
    // Unauthenticated requests never reach the store.
    const std::string bad = Replace(vectors::kCapturedQueryDeviceDetailPopCoreGet,
                                    "NnJpRuAgwQespMDwSIstoTOG3xw%3D",
                                    "AAAARuAgwQespMDwSIstoTOG3xw%3D");
    ExpectError(RunRaw(bad, &nonces), ErrorCode::kSignatureDoesNotMatch);
    EXPECT_EQ(nonces.calls, 2);
}

TEST_F(VerifierTest, StsIsRefused) {
    ExpectError(RunRaw(vectors::kNodeV1Sts), ErrorCode::kSecurityTokenNotSupported);
    ExpectError(RunRaw(vectors::kV3Sts), ErrorCode::kSecurityTokenNotSupported);
    EXPECT_EQ(lookups_, 0);
}

TEST_F(VerifierTest, BearerTokensAreRefused) {
    ExpectError(
        RunRaw(Replace(vectors::kDerivedPubGo, "SignatureType=&", "SignatureType=BEARERTOKEN&")),
        ErrorCode::kBearerTokenNotSupported);
    ExpectError(RunRaw(Replace(vectors::kDerivedPubGo, "Qos=0&", "Qos=0&BearerToken=t&")),
                ErrorCode::kBearerTokenNotSupported);
    HttpRequest v3 = ParseRawRequest(vectors::kCapturedPubV3);
    v3.headers.push_back({"x-acs-bearer-token", "t"});
    ExpectError(Run(v3), ErrorCode::kBearerTokenNotSupported);
    const Error e = ExpectError(
        RunRaw(Replace(vectors::kDerivedPubGo, "SignatureType=&", "SignatureType=OTHER&")),
        ErrorCode::kInvalidParameter);
    EXPECT_EQ(e.param, "SignatureType");
}

TEST_F(VerifierTest, UnknownAndDisabledKeys) {
    keys_.clear();
    ExpectError(RunRaw(vectors::kCapturedPubNodeV1), ErrorCode::kAccessKeyNotFound);
    ExpectError(RunRaw(vectors::kCapturedPubV3), ErrorCode::kAccessKeyNotFound);
    keys_.emplace(std::string(kAccessKeyId), KeyInfo{std::string(kSecret), false});
    ExpectError(RunRaw(vectors::kCapturedPubNodeV1), ErrorCode::kAccessKeyInactive);
    ExpectError(RunRaw(vectors::kCapturedPubV3), ErrorCode::kAccessKeyInactive);

    lookup_ = [](std::string_view) -> Result<std::optional<KeyInfo>> {
        return InternalError("store down");
    };
    const Error e = ExpectError(RunRaw(vectors::kCapturedPubV3), ErrorCode::kInternal);
    EXPECT_EQ(e.internal, "store down");
}

TEST_F(VerifierTest, WrongSecretIsAMismatch) {
    keys_[std::string(kAccessKeyId)].secret = "testAccessKeySecret02";
    ExpectError(RunRaw(vectors::kCapturedPubNodeV1), ErrorCode::kSignatureDoesNotMatch);
    ExpectError(RunRaw(vectors::kCapturedPubV3), ErrorCode::kSignatureDoesNotMatch);
}

TEST_F(VerifierTest, NoSignatureMaterial) {
    HttpRequest req;
    req.method = "GET";
    req.target = "/?Action=QueryDeviceDetail&AccessKeyId=LTAItestAccessKeyId01";
    ExpectError(Run(req), ErrorCode::kIncompleteSignature);
    req.headers.push_back({"Authorization", "Bearer abc"});
    ExpectError(Run(req), ErrorCode::kIncompleteSignature);
    ExpectError(RunRaw(Replace(vectors::kCapturedQueryDeviceDetailPopCoreGet,
                               "Signature=NnJpRuAgwQespMDwSIstoTOG3xw%3D",
                               "Signature=")),
                ErrorCode::kIncompleteSignature);
}

TEST_F(VerifierTest, MalformedAuthorization) {
    HttpRequest req = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    for (const char* bad : {"ACS3-HMAC-SHA256",
                            "ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01",
                            "ACS3-HMAC-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host",
                            "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=00"}) {
        SetHeader(req, "authorization", bad);
        ExpectError(Run(req), ErrorCode::kIncompleteSignature);
    }
    SetHeader(req,
              "authorization",
              "ACS3-RSA-SHA256 Credential=LTAItestAccessKeyId01,SignedHeaders=host,Signature=00");
    ExpectError(Run(req), ErrorCode::kInvalidSignatureMethod);
    EXPECT_EQ(lookups_, 0);
}

TEST_F(VerifierTest, AuthorizationWithBlanksAfterCommas) {
    HttpRequest req = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    std::string value = *req.FindHeader("authorization");
    value = Replace(value, ",SignedHeaders", ", SignedHeaders");
    value = Replace(value, ",Signature", ",  Signature");
    SetHeader(req, "authorization", value);
    EXPECT_TRUE(Run(req).ok());
}

TEST_F(VerifierTest, V3RequiresTheSecurityRelevantHeadersToBeSigned) {
    // Each of these names occurs followed by ';' only inside SignedHeaders.
    for (const char* name : {"host;",
                             "x-acs-action;",
                             "x-acs-content-sha256;",
                             "x-acs-date;",
                             "x-acs-signature-nonce;"}) {
        SCOPED_TRACE(name);
        const Error e =
            ExpectError(RunRaw(Replace(vectors::kCapturedQueryDeviceDetailV3, name, "")),
                        ErrorCode::kIncompleteSignature);
        EXPECT_FALSE(e.message.empty());
    }
    ExpectError(RunRaw(Replace(vectors::kCapturedQueryDeviceDetailV3, ";x-acs-version,", ",")),
                ErrorCode::kIncompleteSignature);
    // A form body whose content type is not signed.
    ExpectError(
        RunRaw(Replace(vectors::kCapturedPubV3, "SignedHeaders=content-type;", "SignedHeaders=")),
        ErrorCode::kIncompleteSignature);
    EXPECT_EQ(lookups_, 0);
}

TEST_F(VerifierTest, V3MissingHeaders) {
    HttpRequest req = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    RemoveHeader(req, "x-acs-date");
    Error e = ExpectError(Run(req), ErrorCode::kMissingParameter);
    EXPECT_EQ(e.param, "x-acs-date");

    req = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    RemoveHeader(req, "x-acs-signature-nonce");
    e = ExpectError(Run(req), ErrorCode::kMissingParameter);
    EXPECT_EQ(e.param, "x-acs-signature-nonce");

    req = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    RemoveHeader(req, "x-acs-content-sha256");
    ExpectError(Run(req), ErrorCode::kIncompleteSignature);

    req = ParseRawRequest(vectors::kCapturedQueryDeviceDetailV3);
    SetHeader(req, "x-acs-date", "2024-05-20 08:30:00");
    ExpectError(Run(req), ErrorCode::kTimestampFormat);
}

TEST_F(VerifierTest, V1CommonParameterChecks) {
    const std::string_view raw = vectors::kCapturedQueryDeviceDetailPopCoreGet;
    ExpectError(RunRaw(Replace(raw, "SignatureMethod=HMAC-SHA1", "SignatureMethod=HMAC-SHA256")),
                ErrorCode::kInvalidSignatureMethod);
    ExpectError(RunRaw(Replace(raw, "SignatureMethod=HMAC-SHA1", "SignatureMethod=hmac-sha1")),
                ErrorCode::kInvalidSignatureMethod);
    ExpectError(RunRaw(Replace(raw, "SignatureVersion=1.0", "SignatureVersion=2.0")),
                ErrorCode::kInvalidSignatureVersion);

    Error e = ExpectError(RunRaw(Replace(raw, "AccessKeyId=LTAItestAccessKeyId01&", "")),
                          ErrorCode::kMissingParameter);
    EXPECT_EQ(e.param, "AccessKeyId");
    e = ExpectError(RunRaw(Replace(raw, "Timestamp=2024-05-20T08%3A30%3A00Z&", "")),
                    ErrorCode::kMissingParameter);
    EXPECT_EQ(e.param, "Timestamp");
    ExpectError(RunRaw(Replace(raw, "Timestamp=2024-05-20T08%3A30%3A00Z", "Timestamp=1716193800")),
                ErrorCode::kTimestampFormat);
    e = ExpectError(RunRaw(Replace(raw, "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00&", "")),
                    ErrorCode::kMissingParameter);
    EXPECT_EQ(e.param, "SignatureNonce");
    e = ExpectError(
        RunRaw(Replace(raw, "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00", "SignatureNonce=")),
        ErrorCode::kMissingParameter);
    e = ExpectError(RunRaw(Replace(raw,
                                   "SignatureNonce=e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00",
                                   "SignatureNonce=" + std::string(129, 'n'))),
                    ErrorCode::kInvalidParameter);
    EXPECT_EQ(e.param, "SignatureNonce");
    EXPECT_EQ(lookups_, 0);
}

TEST_F(VerifierTest, V1OptionalCommonParametersMayBeAbsent) {
    std::vector<Param> params = CommonV1Params(kCaptureTimeMs);
    std::erase_if(params, [](const Param& p) {
        return p.name == "SignatureMethod" || p.name == "SignatureVersion";
    });
    EXPECT_TRUE(Run(SignedV1Get(params)).ok());

    params = CommonV1Params(kCaptureTimeMs);
    params.push_back({"SignatureNonce", std::string(128, 'n')});
    std::erase_if(params, [](const Param& p) { return p.value == kNonce; });
    EXPECT_TRUE(Run(SignedV1Get(params)).ok());
}

TEST_F(VerifierTest, V1ActionComesFromSignedParametersNotHeaders) {
    HttpRequest req = ParseRawRequest(vectors::kCapturedPubNodeV1);
    SetHeader(req, "x-acs-action", "DeleteEverything");
    Result<AuthOutcome> r = Run(req);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->action, "Pub");
}

TEST_F(VerifierTest, V1BodyWinsOverQueryInTheSignedSet) {
    // pop-core sends everything in the body. A query value under a name the body also carries
    // is overridden by the body value, so the signed set (and the signature) is unchanged...
    HttpRequest req = ParseRawRequest(vectors::kCapturedPubPopCorePost);
    req.target = "/?Qos=1&Action=Other";
    Result<AuthOutcome> r = Run(req);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->action, "Pub");
    // ...while a query parameter the client did not sign breaks it.
    req.target = "/?Extra=1";
    ExpectError(Run(req), ErrorCode::kSignatureDoesNotMatch);
}

}  // namespace
}  // namespace otad::rpc
