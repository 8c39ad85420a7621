#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otad::rpc {

enum class NonceResult {
    kFresh,        ///< not seen within the window; now remembered
    kReplayed,     ///< already used within the window
    kFull,         ///< the store is at capacity; the caller must refuse the request (fail closed)
    kUnavailable,  ///< the store cannot be reached; the caller must refuse the request (fail
                   ///< closed)
};

/// Where the Verifier remembers (AccessKeyId, nonce) pairs to refuse replays: the in-process
/// NonceCache (one node) or a store shared by several nodes (otad's Redis one). Implementations
/// are thread-safe and never block unboundedly.
class NonceStore {
  public:
    virtual ~NonceStore() = default;

    /// Records the pair at `now_ms` (epoch milliseconds, from the caller's clock). kReplayed
    /// when the same pair was recorded within the store's window; kFull or kUnavailable when
    /// the pair could not be recorded, in which case the request must be refused.
    virtual NonceResult Insert(std::string_view access_key_id,
                               std::string_view nonce,
                               int64_t now_ms) = 0;
};

/// SHA-256 (32 raw bytes) of the pair, the identity under which stores remember it, so that
/// the memory per pair does not depend on what clients send. The key id's length (8 bytes,
/// little-endian) goes first so that ("ab", "c") and ("a", "bc") differ; the encoding is the
/// same on every machine, so nodes sharing a store agree on it.
std::string NonceFingerprint(std::string_view access_key_id, std::string_view nonce);

}  // namespace otad::rpc
