#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace otad::crypto {
namespace {

const EVP_MD* Md(HashAlgorithm algorithm) {
    switch (algorithm) {
        case HashAlgorithm::kSha1:
            return EVP_sha1();
        case HashAlgorithm::kSha256:
            return EVP_sha256();
        case HashAlgorithm::kMd5:
            return EVP_md5();
        case HashAlgorithm::kSm3:
            return EVP_get_digestbyname("SM3");
    }
    return nullptr;
}

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
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    const EVP_MD* md = Md(algorithm);
    if (md == nullptr || HMAC(md,
                              key.data(),
                              static_cast<int>(key.size()),
                              reinterpret_cast<const unsigned char*>(data.data()),
                              data.size(),
                              out.data(),
                              &len) == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(out.data()), len);
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
    std::string b = RandomBytes(16);
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
