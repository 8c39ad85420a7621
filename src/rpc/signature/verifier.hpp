#pragma once

#include "common/clock.hpp"
#include "common/http_message.hpp"
#include "common/result.hpp"
#include "rpc/params/params.hpp"
#include "rpc/signature/nonce_store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace otad::rpc {

/// What the key store knows about an AccessKeyId.
struct KeyInfo {
    std::string secret;
    bool enabled = true;
};

/// Finds a key. Nothing when the id is unknown; an Error when the store failed (passed through
/// unchanged). Called at most once per Verify(), only for requests that are otherwise well
/// formed and fresh.
using SecretLookup = std::function<Result<std::optional<KeyInfo>>(std::string_view access_key_id)>;

/// Who sent an authenticated request and what it asks for.
struct AuthOutcome {
    enum class Style { kV3, kV1 };
    Style style = Style::kV1;
    std::string access_key_id;
    /// From the signed Action/Version parameters (V1) or x-acs-action/x-acs-version headers
    /// (V3); empty when absent. Not validated here.
    std::string action;
    std::string version;
};

struct VerifierOptions {
    /// Largest accepted difference, either direction, between the request time and now.
    int64_t max_skew_ms = 15 * 60 * 1000;
    /// Longest accepted nonce, in bytes.
    size_t max_nonce_bytes = 128;
};

/// The authentication step of every RPC request: V1 (HMAC-SHA1 over the parameters) or V3
/// (ACS3-HMAC-SHA256 / ACS3-HMAC-SM3 over method, path, query, signed headers and body hash).
///
/// Thread-safe; holds references to the clock and the nonce store, which must outlive it.
class Verifier {
  public:
    Verifier(const Clock& clock, NonceStore& nonces, VerifierOptions options = {});

    /// Authenticates `req`, whose decoded parameters are `params`
    /// (ParamMap::FromRequest over the same request).
    ///
    /// Style: an Authorization header beginning with "ACS3-" selects V3; otherwise a Signature
    /// parameter selects V1; neither gives kIncompleteSignature. The checks then run in this
    /// order, the first failure being returned:
    ///  1. STS (V1 SecurityToken / V3 x-acs-security-token): kSecurityTokenNotSupported.
    ///     Bearer tokens (V1 SignatureType=BEARERTOKEN or BearerToken / V3 x-acs-bearer-token):
    ///     kBearerTokenNotSupported. V1 SignatureType other than empty: InvalidParam.
    ///  2. Scheme: V1 SignatureMethod absent or HMAC-SHA1 else kInvalidSignatureMethod;
    ///     SignatureVersion absent or 1.0 else kInvalidSignatureVersion; empty Signature
    ///     kIncompleteSignature; no AccessKeyId MissingParam("AccessKeyId").
    ///     V3 Authorization unparsable kIncompleteSignature; algorithm other than
    ///     ACS3-HMAC-SHA256 / ACS3-HMAC-SM3 (when available) kInvalidSignatureMethod.
    ///  3. Time (V1 Timestamp / V3 x-acs-date): absent MissingParam(that name); malformed
    ///     kTimestampFormat; more than max_skew_ms away from now kTimestampExpired.
    ///  4. Nonce (V1 SignatureNonce / V3 x-acs-signature-nonce): absent or empty
    ///     MissingParam(that name); longer than max_nonce_bytes InvalidParam(that name).
    ///  5. V3 only: SignedHeaders must include host, x-acs-action, x-acs-version, x-acs-date,
    ///     x-acs-signature-nonce, x-acs-content-sha256, and content-type when the request has
    ///     both a Content-Type header and a body; else kIncompleteSignature.
    ///  6. Key: lookup error passed through; unknown kAccessKeyNotFound; disabled
    ///     kAccessKeyInactive.
    ///  7. V3 only: x-acs-content-sha256 absent kIncompleteSignature; different from the hash of
    ///     the body kSignatureDoesNotMatch.
    ///  8. Signature, compared in constant time: kSignatureDoesNotMatch. For V1 the message is
    ///     "Specified signature is not matched with our calculation. server string to sign
    ///     is:" followed by our string-to-sign.
    ///  9. Nonce recorded only now, so unauthenticated traffic cannot use up nonces: replay
    ///     kNonceUsed; store full or unreachable kUnavailable (fail closed).
    Result<AuthOutcome> Verify(const HttpRequest& req,
                               const ParamMap& params,
                               const SecretLookup& lookup) const;

  private:
    Result<AuthOutcome> VerifyV1(const HttpRequest& req,
                                 const ParamMap& params,
                                 const SecretLookup& lookup) const;
    Result<AuthOutcome> VerifyV3(const HttpRequest& req,
                                 const ParamMap& params,
                                 const std::string& authorization,
                                 const SecretLookup& lookup) const;
    Status CheckTimestamp(const std::string* text, std::string_view name) const;
    Status CheckNonce(const std::string* nonce, std::string_view name) const;
    Status RememberNonce(std::string_view access_key_id, std::string_view nonce) const;

    const Clock& clock_;
    NonceStore& nonces_;
    VerifierOptions options_;
};

}  // namespace otad::rpc
