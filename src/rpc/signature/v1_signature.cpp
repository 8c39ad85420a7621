#include "rpc/signature/v1_signature.hpp"

#include "common/crypto.hpp"
#include "rpc/signature/percent_encode.hpp"

namespace otad::rpc {
namespace {

bool IsSigned(const Param& p) {
    return p.name != kV1SignatureParam;
}

// Length of `text` once encoded, where a kept byte stays one byte and any other byte takes
// `escaped_width` bytes: 3 ("%XX") for one encoding pass, 5 ("%25XX") for two.
size_t EncodedSize(std::string_view text, size_t escaped_width) {
    size_t n = 0;
    for (char c : text) {
        n += IsUnreserved(c) ? 1 : escaped_width;
    }
    return n;
}

}  // namespace

std::string V1CanonicalQuery(const std::vector<Param>& sorted) {
    size_t size = 0;
    for (const Param& p : sorted) {
        if (IsSigned(p)) {
            size += EncodedSize(p.name, 3) + EncodedSize(p.value, 3) + 2;
        }
    }
    std::string out;
    out.reserve(size);
    for (const Param& p : sorted) {
        if (!IsSigned(p)) {
            continue;
        }
        if (!out.empty()) {
            out.push_back('&');
        }
        AppendPercentEncoded(out, p.name);
        out.push_back('=');
        AppendPercentEncoded(out, p.value);
    }
    return out;
}

std::string V1StringToSign(std::string_view method, const std::vector<Param>& sorted) {
    // Encoding the canonical query a second time turns '=' into "%3D", '&' into "%26" and every
    // escape "%XX" of the first pass into "%25XX"; doing it in one pass avoids building the
    // canonical query first.
    constexpr std::string_view kSlash = "&%2F&";
    size_t size = method.size() + kSlash.size();
    for (const Param& p : sorted) {
        if (IsSigned(p)) {
            size += EncodedSize(p.name, 5) + EncodedSize(p.value, 5) + 6;
        }
    }
    std::string out;
    out.reserve(size);
    out.append(method);
    out.append(kSlash);
    bool first = true;
    for (const Param& p : sorted) {
        if (!IsSigned(p)) {
            continue;
        }
        if (!first) {
            out.append("%26");
        }
        first = false;
        AppendDoublePercentEncoded(out, p.name);
        out.append("%3D");
        AppendDoublePercentEncoded(out, p.value);
    }
    return out;
}

std::string V1Signature(std::string_view string_to_sign, std::string_view secret) {
    std::string key;
    key.reserve(secret.size() + 1);
    key.append(secret);
    key.push_back('&');
    return crypto::Base64Encode(crypto::Hmac(crypto::HashAlgorithm::kSha1, key, string_to_sign));
}

}  // namespace otad::rpc
