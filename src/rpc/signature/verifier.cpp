#include "rpc/signature/verifier.hpp"

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"
#include "rpc/signature/v1_signature.hpp"
#include "rpc/signature/v3_signature.hpp"

#include <array>
#include <cstdlib>
#include <utility>

namespace otad::rpc {
namespace {

constexpr std::string_view kV1MismatchPrefix =
    "Specified signature is not matched with our calculation. server string to sign is:";

constexpr std::string_view kHeaderAuthorization = "authorization";
constexpr std::string_view kHeaderContentType = "content-type";
constexpr std::string_view kHeaderDate = "x-acs-date";
constexpr std::string_view kHeaderNonce = "x-acs-signature-nonce";
constexpr std::string_view kHeaderContentHash = "x-acs-content-sha256";
constexpr std::string_view kHeaderAction = "x-acs-action";
constexpr std::string_view kHeaderVersion = "x-acs-version";
constexpr std::string_view kHeaderSecurityToken = "x-acs-security-token";
constexpr std::string_view kHeaderBearerToken = "x-acs-bearer-token";

// Without these in SignedHeaders a V3 signature would not bind the request to its time and
// nonce (replay protection), its body, the operation it invokes or the endpoint it was meant
// for. The official SDKs always sign all of them.
constexpr std::array<std::string_view, 6> kRequiredSignedHeaders = {
    "host", kHeaderAction, kHeaderVersion, kHeaderDate, kHeaderNonce, kHeaderContentHash};

std::string Trimmed(const std::string* value) {
    return value == nullptr ? std::string() : std::string(text::TrimBlanks(*value));
}

bool Listed(const std::vector<std::string>& names, std::string_view name) {
    for (const std::string& n : names) {
        if (EqualsIgnoreCase(n, name)) {
            return true;
        }
    }
    return false;
}

Result<std::string> LookupSecret(const SecretLookup& lookup, std::string_view access_key_id) {
    OTA_ASSIGN_OR_RETURN(std::optional<KeyInfo> key, lookup(access_key_id));
    if (!key.has_value()) {
        return MakeError(ErrorCode::kAccessKeyNotFound);
    }
    if (!key->enabled) {
        return MakeError(ErrorCode::kAccessKeyInactive);
    }
    return std::move(key->secret);
}

}  // namespace

Verifier::Verifier(const Clock& clock, NonceStore& nonces, VerifierOptions options)
    : clock_(clock), nonces_(nonces), options_(options) {}

Result<AuthOutcome> Verifier::Verify(const HttpRequest& req,
                                     const ParamMap& params,
                                     const SecretLookup& lookup) const {
    const std::string* authorization = req.FindHeader(kHeaderAuthorization);
    if (authorization != nullptr && text::TrimBlanks(*authorization).starts_with(kV3SchemePrefix)) {
        return VerifyV3(req, params, *authorization, lookup);
    }
    if (params.Find(kV1SignatureParam) != nullptr) {
        return VerifyV1(req, params, lookup);
    }
    return MakeError(ErrorCode::kIncompleteSignature);
}

Status Verifier::CheckTimestamp(const std::string* text, std::string_view name) const {
    if (text == nullptr) {
        return MissingParam(std::string(name));
    }
    const std::optional<int64_t> when_ms = ParseUtcTimestamp(text::TrimBlanks(*text));
    if (!when_ms.has_value()) {
        return MakeError(ErrorCode::kTimestampFormat);
    }
    if (std::llabs(clock_.NowMs() - *when_ms) > options_.max_skew_ms) {
        return MakeError(ErrorCode::kTimestampExpired);
    }
    return Ok();
}

Status Verifier::CheckNonce(const std::string* nonce, std::string_view name) const {
    if (nonce == nullptr || nonce->empty()) {
        return MissingParam(std::string(name));
    }
    if (nonce->size() > options_.max_nonce_bytes) {
        return InvalidParam(std::string(name),
                            std::string(name) + " is longer than " +
                                std::to_string(options_.max_nonce_bytes) + " bytes");
    }
    return Ok();
}

Status Verifier::RememberNonce(std::string_view access_key_id, std::string_view nonce) const {
    switch (nonces_.Insert(access_key_id, nonce, clock_.NowMs())) {
        case NonceResult::kFresh:
            return Ok();
        case NonceResult::kReplayed:
            return MakeError(ErrorCode::kNonceUsed);
        case NonceResult::kFull: {
            Error error = MakeError(ErrorCode::kUnavailable);
            error.internal = "nonce cache is full";
            return error;
        }
        case NonceResult::kUnavailable: {
            // Fail closed: without the shared memory of nonces a replay cannot be told apart.
            Error error = MakeError(ErrorCode::kUnavailable);
            error.internal = "nonce store is unavailable";
            return error;
        }
    }
    return InternalError("unexpected nonce store result");
}

Result<AuthOutcome> Verifier::VerifyV1(const HttpRequest& req,
                                       const ParamMap& params,
                                       const SecretLookup& lookup) const {
    if (params.Find("SecurityToken") != nullptr) {
        return MakeError(ErrorCode::kSecurityTokenNotSupported);
    }
    const std::string* signature_type = params.Find("SignatureType");
    if (params.Find("BearerToken") != nullptr ||
        (signature_type != nullptr && EqualsIgnoreCase(*signature_type, "BEARERTOKEN"))) {
        return MakeError(ErrorCode::kBearerTokenNotSupported);
    }
    if (signature_type != nullptr && !signature_type->empty()) {
        return InvalidParam("SignatureType");
    }
    const std::string* method = params.Find("SignatureMethod");
    if (method != nullptr && *method != "HMAC-SHA1") {
        return MakeError(ErrorCode::kInvalidSignatureMethod);
    }
    const std::string* version = params.Find("SignatureVersion");
    if (version != nullptr && *version != "1.0") {
        return MakeError(ErrorCode::kInvalidSignatureVersion);
    }
    const std::string* signature = params.Find(kV1SignatureParam);
    if (signature == nullptr || signature->empty()) {
        return MakeError(ErrorCode::kIncompleteSignature);
    }
    const std::string* access_key_id = params.Find("AccessKeyId");
    if (access_key_id == nullptr || access_key_id->empty()) {
        return MissingParam("AccessKeyId");
    }
    OTA_TRY(CheckTimestamp(params.Find("Timestamp"), "Timestamp"));
    const std::string* nonce = params.Find("SignatureNonce");
    OTA_TRY(CheckNonce(nonce, "SignatureNonce"));
    OTA_ASSIGN_OR_RETURN(const std::string secret, LookupSecret(lookup, *access_key_id));

    const std::string string_to_sign = V1StringToSign(req.method, params.Sorted());
    const std::string expected = V1Signature(string_to_sign, secret);
    if (!crypto::ConstantTimeEquals(expected, *signature)) {
        std::string message;
        message.reserve(kV1MismatchPrefix.size() + string_to_sign.size());
        message.append(kV1MismatchPrefix);
        message.append(string_to_sign);
        return MakeError(ErrorCode::kSignatureDoesNotMatch, std::move(message));
    }
    OTA_TRY(RememberNonce(*access_key_id, *nonce));

    AuthOutcome outcome;
    outcome.style = AuthOutcome::Style::kV1;
    outcome.access_key_id = *access_key_id;
    const std::string* action = params.Find("Action");
    outcome.action = action != nullptr ? *action : std::string();
    const std::string* api_version = params.Find("Version");
    outcome.version = api_version != nullptr ? *api_version : std::string();
    return outcome;
}

Result<AuthOutcome> Verifier::VerifyV3(const HttpRequest& req,
                                       const ParamMap& params,
                                       const std::string& authorization,
                                       const SecretLookup& lookup) const {
    if (req.FindHeader(kHeaderSecurityToken) != nullptr) {
        return MakeError(ErrorCode::kSecurityTokenNotSupported);
    }
    if (req.FindHeader(kHeaderBearerToken) != nullptr) {
        return MakeError(ErrorCode::kBearerTokenNotSupported);
    }
    OTA_ASSIGN_OR_RETURN(const V3Authorization auth, ParseV3Authorization(authorization));
    OTA_ASSIGN_OR_RETURN(const crypto::HashAlgorithm hash, V3HashAlgorithm(auth.algorithm));
    OTA_TRY(CheckTimestamp(req.FindHeader(kHeaderDate), kHeaderDate));
    const std::string* nonce_header = req.FindHeader(kHeaderNonce);
    OTA_TRY(CheckNonce(nonce_header, kHeaderNonce));
    const std::string_view nonce = text::TrimBlanks(*nonce_header);
    if (nonce.empty()) {
        return MissingParam(std::string(kHeaderNonce));
    }

    for (std::string_view required : kRequiredSignedHeaders) {
        if (!Listed(auth.signed_headers, required)) {
            return MakeError(ErrorCode::kIncompleteSignature,
                             "SignedHeaders must include " + std::string(required));
        }
    }
    if (!req.body.empty() && req.FindHeader(kHeaderContentType) != nullptr &&
        !Listed(auth.signed_headers, kHeaderContentType)) {
        return MakeError(ErrorCode::kIncompleteSignature,
                         "SignedHeaders must include content-type");
    }

    OTA_ASSIGN_OR_RETURN(const std::string secret, LookupSecret(lookup, auth.access_key_id));

    const std::string* content_hash = req.FindHeader(kHeaderContentHash);
    if (content_hash == nullptr) {
        return MakeError(ErrorCode::kIncompleteSignature, "x-acs-content-sha256 header is missing");
    }
    const std::string hashed_payload = V3HashedPayload(hash, req.body);
    if (!EqualsIgnoreCase(text::TrimBlanks(*content_hash), hashed_payload)) {
        return MakeError(ErrorCode::kSignatureDoesNotMatch,
                         "The payload hash in x-acs-content-sha256 does not match the request "
                         "body.");
    }

    const std::string canonical =
        V3CanonicalRequest(req, params.SortedQuery(), auth.signed_headers, hashed_payload);
    const std::string string_to_sign = V3StringToSign(auth.algorithm, hash, canonical);
    const std::string expected = V3Signature(hash, string_to_sign, secret);
    if (!crypto::ConstantTimeEquals(expected, auth.signature)) {
        Error error = MakeError(ErrorCode::kSignatureDoesNotMatch);
        error.internal = "canonical request:\n" + canonical;
        return error;
    }
    OTA_TRY(RememberNonce(auth.access_key_id, nonce));

    AuthOutcome outcome;
    outcome.style = AuthOutcome::Style::kV3;
    outcome.access_key_id = auth.access_key_id;
    outcome.action = Trimmed(req.FindHeader(kHeaderAction));
    outcome.version = Trimmed(req.FindHeader(kHeaderVersion));
    return outcome;
}

}  // namespace otad::rpc
