#include "common/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace otad::crypto {
namespace {

// Digests are fetched from the provider once: handing OpenSSL 3 the legacy EVP_sha256() and
// the like makes every call look the algorithm up again, under a lock all threads share.
EVP_MD* FetchDigest(const char* name) {
    return EVP_MD_fetch(nullptr, name, nullptr);
}

const char* DigestName(HashAlgorithm algorithm) {
    switch (algorithm) {
        case HashAlgorithm::kSha1:
            return "SHA1";
        case HashAlgorithm::kSha256:
            return "SHA256";
        case HashAlgorithm::kMd5:
            return "MD5";
        case HashAlgorithm::kSm3:
            return "SM3";
    }
    return "";
}

// The algorithms by their enumerator's value (DigestName's switch names them all).
constexpr size_t kAlgorithms = static_cast<size_t>(HashAlgorithm::kMd5) + 1;

const EVP_MD* Md(HashAlgorithm algorithm) {
    static const std::array<EVP_MD*, kAlgorithms> fetched = [] {
        std::array<EVP_MD*, kAlgorithms> out{};
        for (size_t i = 0; i < kAlgorithms; ++i) {
            out[i] = FetchDigest(DigestName(static_cast<HashAlgorithm>(i)));
        }
        return out;
    }();
    return fetched[static_cast<size_t>(algorithm)];
}

// An HMAC context per thread and digest, set up once and given the key on each call: the
// one-shot HMAC() of OpenSSL 3 fetches the MAC and the digest again every time.
class ThreadHmac {
  public:
    explicit ThreadHmac(HashAlgorithm algorithm) {
        static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        if (mac == nullptr || Md(algorithm) == nullptr) {
            return;
        }
        ctx_ = EVP_MAC_CTX_new(mac);
        std::string digest = DigestName(algorithm);
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
            OSSL_PARAM_END};
        if (ctx_ != nullptr && EVP_MAC_CTX_set_params(ctx_, params) != 1) {
            EVP_MAC_CTX_free(ctx_);
            ctx_ = nullptr;
        }
    }
    ~ThreadHmac() { EVP_MAC_CTX_free(ctx_); }
    ThreadHmac(const ThreadHmac&) = delete;
    ThreadHmac& operator=(const ThreadHmac&) = delete;

    /// Empty on failure.
    std::string Compute(std::string_view key, std::string_view data) {
        // EVP_MAC_init reads a null key as "keep the previous one", so an empty key (valid for
        // HMAC) is passed as a non-null pointer with length 0.
        static const unsigned char kEmptyKey = 0;
        const auto* key_bytes =
            key.empty() ? &kEmptyKey : reinterpret_cast<const unsigned char*>(key.data());
        std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
        size_t len = 0;
        if (ctx_ == nullptr || EVP_MAC_init(ctx_, key_bytes, key.size(), nullptr) != 1 ||
            EVP_MAC_update(
                ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
            EVP_MAC_final(ctx_, out.data(), &len, out.size()) != 1) {
            return {};
        }
        return std::string(reinterpret_cast<const char*>(out.data()), len);
    }

  private:
    EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace

bool Available(HashAlgorithm algorithm) {
    return Md(algorithm) != nullptr;
}

std::string Hash(HashAlgorithm algorithm, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    const EVP_MD* md = Md(algorithm);
    if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string Hmac(HashAlgorithm algorithm, std::string_view key, std::string_view data) {
    thread_local std::array<std::unique_ptr<ThreadHmac>, kAlgorithms> contexts;
    std::unique_ptr<ThreadHmac>& hmac = contexts[static_cast<size_t>(algorithm)];
    if (hmac == nullptr) {
        hmac = std::make_unique<ThreadHmac>(algorithm);
    }
    return hmac->Compute(key, data);
}

std::string HexLower(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.resize(bytes.size() * 2);
    for (size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        out[2 * i] = kHex[b >> 4];
        out[2 * i + 1] = kHex[b & 0xF];
    }
    return out;
}

std::string Base64Encode(std::string_view bytes) {
    std::string out;
    out.resize(4 * ((bytes.size() + 2) / 3));
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.resize(text.size() / 4 * 3);
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        return std::nullopt;
    }
    size_t len = static_cast<size_t>(n);
    for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
        --len;
    }
    out.resize(len);
    return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        std::fputs("otad: the system random generator failed\n", stderr);
        std::abort();
    }
    return out;
}

namespace {

std::string RandomFromAlphabet(size_t n, std::string_view alphabet) {
    // Rejection sampling keeps the distribution uniform.
    const auto limit = static_cast<unsigned>(256 - 256 % alphabet.size());
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
        const std::string bytes = RandomBytes(n);
        for (char c : bytes) {
            const auto b = static_cast<unsigned char>(c);
            if (b < limit && out.size() < n) {
                out.push_back(alphabet[b % alphabet.size()]);
            }
        }
    }
    return out;
}

}  // namespace

std::string RandomBase62(size_t n) {
    return RandomFromAlphabet(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

std::string RandomLowerAlnum(size_t n) {
    return RandomFromAlphabet(n, "abcdefghijklmnopqrstuvwxyz0123456789");
}

std::string RandomUuidUpper() {
    // The bytes come from the same generator, drawn 64 identifiers at a time per thread: one
    // call into it per request was a measurable part of a cheap request.
    constexpr size_t kIdBytes = 16;
    constexpr size_t kPoolBytes = 64 * kIdBytes;
    thread_local std::array<unsigned char, kPoolBytes> pool{};
    thread_local size_t used = kPoolBytes;
    if (used == kPoolBytes) {
        if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
            std::fputs("otad: the system random generator failed\n", stderr);
            std::abort();
        }
        used = 0;
    }
    std::string b(reinterpret_cast<const char*>(pool.data() + used), kIdBytes);
    std::fill_n(pool.data() + used, kIdBytes, static_cast<unsigned char>(0));
    used += kIdBytes;
    b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0F) | 0x40);
    b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3F) | 0x80);
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        const auto v = static_cast<unsigned char>(b[i]);
        out.push_back(kHex[v >> 4]);
        out.push_back(kHex[v & 0xF]);
    }
    return out;
}

}  // namespace otad::crypto
