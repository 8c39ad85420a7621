#include "files/digests.hpp"

#include "common/crypto.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace otad::files {

struct Digests::State {
    EVP_MD_CTX* md5 = EVP_MD_CTX_new();
    EVP_MD_CTX* sha256 = EVP_MD_CTX_new();
    ~State() {
        EVP_MD_CTX_free(md5);
        EVP_MD_CTX_free(sha256);
    }
};

Digests::Digests() : state_(std::make_unique<State>()) {
    // Failing to set up a digest means OpenSSL itself is unusable; nothing sensible can follow.
    if (state_->md5 == nullptr || state_->sha256 == nullptr ||
        EVP_DigestInit_ex(state_->md5, EVP_md5(), nullptr) != 1 ||
        EVP_DigestInit_ex(state_->sha256, EVP_sha256(), nullptr) != 1) {
        std::abort();
    }
}

Digests::~Digests() = default;

void Digests::Update(std::string_view data) {
    if (data.empty()) {
        return;
    }
    EVP_DigestUpdate(state_->md5, data.data(), data.size());
    EVP_DigestUpdate(state_->sha256, data.data(), data.size());
    size_ += data.size();
}

void Digests::Finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(state_->md5, out, &n);
    md5_ = crypto::HexLower(std::string_view(reinterpret_cast<const char*>(out), n));
    EVP_DigestFinal_ex(state_->sha256, out, &n);
    sha256_ = crypto::HexLower(std::string_view(reinterpret_cast<const char*>(out), n));
}

}  // namespace otad::files
