#include "rpc/signature/nonce_store.hpp"

#include "common/crypto.hpp"

namespace otad::rpc {

std::string NonceFingerprint(std::string_view access_key_id, std::string_view nonce) {
    uint64_t id_size = access_key_id.size();
    std::string material;
    material.reserve(sizeof(id_size) + access_key_id.size() + nonce.size());
    for (size_t i = 0; i < sizeof(id_size); ++i) {
        material.push_back(static_cast<char>(id_size & 0xFFu));
        id_size >>= 8;
    }
    material.append(access_key_id);
    material.append(nonce);
    return crypto::Hash(crypto::HashAlgorithm::kSha256, material);
}

}  // namespace otad::rpc
