#include "rpc/signature/v3_signature.hpp"

#include "common/text.hpp"
#include "rpc/signature/percent_encode.hpp"

#include <algorithm>
#include <optional>

namespace otad::rpc {
namespace {

Error Incomplete(std::string message) {
    return MakeError(ErrorCode::kIncompleteSignature, std::move(message));
}

// Stores `value` into `slot` unless the item was already seen.
Status TakeItem(std::string_view key,
                std::string_view value,
                std::optional<std::string_view>& slot) {
    if (slot.has_value()) {
        return Incomplete("Authorization repeats " + std::string(key));
    }
    if (value.empty()) {
        return Incomplete("Authorization has an empty " + std::string(key));
    }
    slot = value;
    return Ok();
}

void AppendCanonicalHeader(std::string& out, const HttpRequest& req, std::string_view name) {
    out.append(name);
    out.push_back(':');
    const HttpHeader* single = nullptr;
    size_t count = 0;
    for (const HttpHeader& h : req.headers) {
        if (EqualsIgnoreCase(h.name, name)) {
            single = &h;
            ++count;
        }
    }
    if (count == 1) {
        out.append(text::TrimBlanks(single->value));
    } else if (count > 1) {
        std::vector<std::string_view> values;
        values.reserve(count);
        for (const HttpHeader& h : req.headers) {
            if (EqualsIgnoreCase(h.name, name)) {
                values.push_back(text::TrimBlanks(h.value));
            }
        }
        std::sort(values.begin(), values.end());
        for (size_t i = 0; i < values.size(); ++i) {
            if (i > 0) {
                out.push_back(',');
            }
            out.append(values[i]);
        }
    }
    out.push_back('\n');
}

size_t CanonicalQuerySize(const std::vector<Param>& sorted_query) {
    size_t size = 0;
    for (const Param& p : sorted_query) {
        size += PercentEncodedSize(p.name) + PercentEncodedSize(p.value) + 2;
    }
    return size;
}

void AppendCanonicalQuery(std::string& out, const std::vector<Param>& sorted_query) {
    bool first = true;
    for (const Param& p : sorted_query) {
        if (!first) {
            out.push_back('&');
        }
        first = false;
        AppendPercentEncoded(out, p.name);
        out.push_back('=');
        AppendPercentEncoded(out, p.value);
    }
}

}  // namespace

Result<V3Authorization> ParseV3Authorization(std::string_view value) {
    value = text::TrimBlanks(value);
    const size_t space = value.find(' ');
    if (space == 0 || space == std::string_view::npos) {
        return Incomplete("Authorization lacks the algorithm or its credentials");
    }
    V3Authorization auth;
    auth.algorithm.assign(value.substr(0, space));

    std::optional<std::string_view> credential;
    std::optional<std::string_view> signed_headers;
    std::optional<std::string_view> signature;
    std::string_view rest = value.substr(space + 1);
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view item = text::TrimBlanks(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        const std::string_view key = item.substr(0, eq);
        const std::string_view item_value = item.substr(eq + 1);
        if (key == "Credential") {
            OTA_TRY(TakeItem(key, item_value, credential));
        } else if (key == "SignedHeaders") {
            OTA_TRY(TakeItem(key, item_value, signed_headers));
        } else if (key == "Signature") {
            OTA_TRY(TakeItem(key, item_value, signature));
        }
    }
    if (!credential || !signed_headers || !signature) {
        return Incomplete("Authorization must carry Credential, SignedHeaders and Signature");
    }
    auth.access_key_id.assign(*credential);
    auth.signature.assign(*signature);
    std::string_view names = *signed_headers;
    while (true) {
        const size_t semicolon = names.find(';');
        const std::string_view name = names.substr(0, semicolon);
        if (name.empty()) {
            return Incomplete("SignedHeaders has an empty entry");
        }
        auth.signed_headers.emplace_back(name);
        if (semicolon == std::string_view::npos) {
            break;
        }
        names.remove_prefix(semicolon + 1);
    }
    return auth;
}

Result<crypto::HashAlgorithm> V3HashAlgorithm(std::string_view algorithm) {
    if (algorithm == kV3HmacSha256) {
        return crypto::HashAlgorithm::kSha256;
    }
    if (algorithm == kV3HmacSm3 && crypto::Available(crypto::HashAlgorithm::kSm3)) {
        return crypto::HashAlgorithm::kSm3;
    }
    return MakeError(ErrorCode::kInvalidSignatureMethod);
}

std::string V3HashedPayload(crypto::HashAlgorithm hash, std::string_view body) {
    return crypto::HexLower(crypto::Hash(hash, body));
}

std::string V3CanonicalQuery(const std::vector<Param>& sorted_query) {
    std::string out;
    out.reserve(CanonicalQuerySize(sorted_query));
    AppendCanonicalQuery(out, sorted_query);
    return out;
}

std::string V3CanonicalRequest(const HttpRequest& req,
                               const std::vector<Param>& sorted_query,
                               const std::vector<std::string>& signed_headers,
                               std::string_view hashed_payload) {
    const std::string_view path = req.Path();
    size_t size = req.method.size() + path.size() + hashed_payload.size() + 8 +
                  CanonicalQuerySize(sorted_query);
    for (const std::string& name : signed_headers) {
        const std::string* value = req.FindHeader(name);
        size += 2 * name.size() + 3 + (value != nullptr ? value->size() : 0);
    }
    std::string out;
    out.reserve(size);
    out.append(req.method);
    out.push_back('\n');
    out.append(path);
    out.push_back('\n');
    AppendCanonicalQuery(out, sorted_query);
    out.push_back('\n');
    for (const std::string& name : signed_headers) {
        AppendCanonicalHeader(out, req, name);
    }
    out.push_back('\n');
    for (size_t i = 0; i < signed_headers.size(); ++i) {
        if (i > 0) {
            out.push_back(';');
        }
        out.append(signed_headers[i]);
    }
    out.push_back('\n');
    out.append(hashed_payload);
    return out;
}

std::string V3StringToSign(std::string_view algorithm,
                           crypto::HashAlgorithm hash,
                           std::string_view canonical_request) {
    std::string out;
    const std::string digest = crypto::HexLower(crypto::Hash(hash, canonical_request));
    out.reserve(algorithm.size() + 1 + digest.size());
    out.append(algorithm);
    out.push_back('\n');
    out.append(digest);
    return out;
}

std::string V3Signature(crypto::HashAlgorithm hash,
                        std::string_view string_to_sign,
                        std::string_view secret) {
    return crypto::HexLower(crypto::Hmac(hash, secret, string_to_sign));
}

}  // namespace otad::rpc
