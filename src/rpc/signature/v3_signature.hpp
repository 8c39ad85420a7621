#pragma once

#include "common/crypto.hpp"
#include "common/http_message.hpp"
#include "common/result.hpp"
#include "rpc/params/params.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace otad::rpc {

/// An Authorization value starting with this selects the V3 scheme.
inline constexpr std::string_view kV3SchemePrefix = "ACS3-";
inline constexpr std::string_view kV3HmacSha256 = "ACS3-HMAC-SHA256";
inline constexpr std::string_view kV3HmacSm3 = "ACS3-HMAC-SM3";

/// The parts of "<Algorithm> Credential=<id>,SignedHeaders=<h1;h2>,Signature=<hex>".
struct V3Authorization {
    std::string algorithm;
    std::string access_key_id;
    /// As listed by the client, in its order; the SDKs send them lower-case and sorted.
    std::vector<std::string> signed_headers;
    std::string signature;
};

/// Parses an Authorization header value. The algorithm is the text before the first space;
/// after it come comma-separated Key=Value items (blanks around items are tolerated; unknown
/// keys are ignored). Fails with ErrorCode::kIncompleteSignature when the algorithm or one of
/// Credential, SignedHeaders, Signature is missing or empty, when one of them appears twice,
/// or when SignedHeaders has an empty entry. The algorithm is not checked here.
Result<V3Authorization> ParseV3Authorization(std::string_view value);

/// Hash behind a V3 algorithm name: SHA-256 for ACS3-HMAC-SHA256, SM3 for ACS3-HMAC-SM3 when
/// the linked OpenSSL provides it. Anything else (ACS3-RSA-SHA256 included, which needs a
/// registered public key) fails with ErrorCode::kInvalidSignatureMethod.
Result<crypto::HashAlgorithm> V3HashAlgorithm(std::string_view algorithm);

/// Lower-case hex of Hash(body): the value x-acs-content-sha256 must carry.
std::string V3HashedPayload(crypto::HashAlgorithm hash, std::string_view body);

/// "encode(name)=encode(value)" over the decoded query parameters (sorted, unique, as
/// ParamMap::SortedQuery()), joined with '&'; empty when there is no query. Body parameters
/// never take part in V3.
std::string V3CanonicalQuery(const std::vector<Param>& sorted_query);

/// The V3 canonical request:
///   method \n path \n canonical query \n canonical headers \n signed headers \n payload hash
/// where the canonical headers are "name:value\n" for each name of `signed_headers`, in the
/// given order. The value is the header's (matched case-insensitively) with leading and
/// trailing blanks removed; several occurrences are each trimmed, sorted and joined with ','.
/// A signed header that the request lacks contributes "name:" with an empty value: that is
/// what a client listing an empty header would have signed, and a header that carried a value
/// cannot be dropped without changing the result. (The verifier separately insists that the
/// headers it relies on are present.) The path is the request path exactly as sent.
std::string V3CanonicalRequest(const HttpRequest& req,
                               const std::vector<Param>& sorted_query,
                               const std::vector<std::string>& signed_headers,
                               std::string_view hashed_payload);

/// algorithm + "\n" + lower-case hex of Hash(canonical_request).
std::string V3StringToSign(std::string_view algorithm,
                           crypto::HashAlgorithm hash,
                           std::string_view canonical_request);

/// Lower-case hex of HMAC-Hash over `string_to_sign`, keyed with the bare secret.
std::string V3Signature(crypto::HashAlgorithm hash,
                        std::string_view string_to_sign,
                        std::string_view secret);

}  // namespace otad::rpc
