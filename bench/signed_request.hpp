#pragma once

#include "common/crypto.hpp"
#include "common/http_message.hpp"
#include "rpc/params/params.hpp"
#include "rpc/signature/percent_encode.hpp"
#include "rpc/signature/v1_signature.hpp"
#include "rpc/signature/v3_signature.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

// Signed requests shaped like the official SDKs' (the Node SDK's default V3 for any action, and
// pop-core's V1 GET for ListOTAJobByDevice), signed with otad's own signature functions. For load
// and benchmarks only: the signature tests use requests captured from the SDKs themselves.

namespace otad::bench {

struct ListJobsCall {
    std::string host;  ///< Host header value, "127.0.0.1:8080"
    std::string access_key_id;
    std::string access_key_secret;
    std::string product_key;
    std::string device_name;
    std::string firmware_id;
    int page_size = 10;
    std::string date;   ///< "2024-05-20T08:30:00Z"
    std::string nonce;  ///< unique per request
};

inline constexpr std::string_view kNodeUserAgent =
    "AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/1";

/// Who signs and where the request goes, for MakeV3Request.
struct V3Caller {
    std::string host;  ///< Host header value, "127.0.0.1:8080"
    std::string access_key_id;
    std::string access_key_secret;
    std::string date;   ///< "2024-05-20T08:30:00Z"
    std::string nonce;  ///< unique per request
};

/// Any action as the Node SDK sends it by default: ACS3-HMAC-SHA256, POST, every parameter in
/// the query, empty body. `params` need not be sorted.
inline HttpRequest MakeV3Request(const V3Caller& c,
                                 std::string_view action,
                                 std::vector<rpc::Param> params) {
    static const std::vector<std::string> kSigned = {"host",
                                                     "x-acs-action",
                                                     "x-acs-content-sha256",
                                                     "x-acs-credentials-provider",
                                                     "x-acs-date",
                                                     "x-acs-signature-nonce",
                                                     "x-acs-version"};
    static const std::string kEmptyHash = rpc::V3HashedPayload(crypto::HashAlgorithm::kSha256, "");
    // The signature canonicalizes the decoded parameters in byte order.
    std::sort(params.begin(), params.end(), [](const rpc::Param& a, const rpc::Param& b) {
        return std::tie(a.name, a.value) < std::tie(b.name, b.value);
    });
    HttpRequest req;
    req.method = "POST";
    req.target = "/?" + rpc::V3CanonicalQuery(params);
    req.headers = {{"host", c.host},
                   {"x-acs-version", "2018-01-20"},
                   {"x-acs-action", std::string(action)},
                   {"user-agent", std::string(kNodeUserAgent)},
                   {"x-acs-date", c.date},
                   {"x-acs-signature-nonce", c.nonce},
                   {"accept", "application/json"},
                   {"x-acs-content-sha256", kEmptyHash},
                   {"x-acs-credentials-provider", "static_ak"}};
    const std::string canonical = rpc::V3CanonicalRequest(req, params, kSigned, kEmptyHash);
    const std::string to_sign =
        rpc::V3StringToSign(rpc::kV3HmacSha256, crypto::HashAlgorithm::kSha256, canonical);
    std::string authorization =
        std::string(rpc::kV3HmacSha256) + " Credential=" + c.access_key_id + ",SignedHeaders=";
    for (size_t i = 0; i < kSigned.size(); ++i) {
        authorization += (i ? ";" : "") + kSigned[i];
    }
    authorization += ",Signature=" +
                     rpc::V3Signature(crypto::HashAlgorithm::kSha256, to_sign, c.access_key_secret);
    req.headers.push_back({"Authorization", std::move(authorization)});
    req.headers.push_back({"Connection", "keep-alive"});
    req.headers.push_back({"Content-Length", "0"});
    return req;
}

/// ListOTAJobByDevice through MakeV3Request.
inline HttpRequest MakeV3ListJobsRequest(const ListJobsCall& c) {
    return MakeV3Request({c.host, c.access_key_id, c.access_key_secret, c.date, c.nonce},
                         "ListOTAJobByDevice",
                         {{"CurrentPage", "1"},
                          {"DeviceName", c.device_name},
                          {"FirmwareId", c.firmware_id},
                          {"PageSize", std::to_string(c.page_size)},
                          {"ProductKey", c.product_key}});
}

/// HMAC-SHA1, GET, every parameter in the query (pop-core's default).
inline HttpRequest MakeV1ListJobsRequest(const ListJobsCall& c) {
    const std::vector<rpc::Param> params = {{"AccessKeyId", c.access_key_id},
                                            {"Action", "ListOTAJobByDevice"},
                                            {"CurrentPage", "1"},
                                            {"DeviceName", c.device_name},
                                            {"FirmwareId", c.firmware_id},
                                            {"Format", "JSON"},
                                            {"PageSize", std::to_string(c.page_size)},
                                            {"ProductKey", c.product_key},
                                            {"SignatureMethod", "HMAC-SHA1"},
                                            {"SignatureNonce", c.nonce},
                                            {"SignatureVersion", "1.0"},
                                            {"Timestamp", c.date},
                                            {"Version", "2018-01-20"}};
    const std::string signature =
        rpc::V1Signature(rpc::V1StringToSign("GET", params), c.access_key_secret);
    HttpRequest req;
    req.method = "GET";
    req.target =
        "/?" + rpc::V1CanonicalQuery(params) + "&Signature=" + rpc::PercentEncode(signature);
    req.headers = {{"x-acs-action", "ListOTAJobByDevice"},
                   {"x-acs-version", "2018-01-20"},
                   {"Host", c.host},
                   {"Connection", "keep-alive"}};
    return req;
}

/// The request as HTTP/1.1 bytes.
inline void SerializeRequest(const HttpRequest& req, std::string& out) {
    out.clear();
    out += req.method;
    out += ' ';
    out += req.target;
    out += " HTTP/1.1\r\n";
    for (const HttpHeader& h : req.headers) {
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    out += "\r\n";
}

}  // namespace otad::bench
