#pragma once

#include "rpc/signature/nonce_store.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace otad::rpc {

struct NonceCacheOptions {
    /// How long a nonce is remembered. 31 minutes covers the whole +-15 minute timestamp
    /// window: a request accepted now cannot be accepted again once its nonce is forgotten.
    int64_t window_ms = 31 * 60 * 1000;
    /// Upper bound on remembered nonces, split evenly across the shards (each shard holds at
    /// most max_entries / shard_count, at least one). About 80 bytes per entry.
    size_t max_entries = 2'000'000;
    size_t shard_count = 16;
};

/// Remembers (AccessKeyId, nonce) pairs to refuse replays, in process memory: the NonceStore
/// of a single node.
///
/// Thread-safe: the pairs are spread over independently locked shards. Each pair is stored as a
/// 128-bit SHA-256 fingerprint, so the memory per entry does not depend on what clients send;
/// accidental collisions are out of reach at this size. Entries are forgotten in insertion
/// order once their window has passed, a few per insertion (amortized O(1)); if the clock
/// steps backwards an entry may be kept a little longer than the window, never shorter.
///
/// The cache takes any nonce bytes; length rules (1 to 128 bytes) are the Verifier's.
class NonceCache final : public NonceStore {
  public:
    explicit NonceCache(NonceCacheOptions options = {});
    NonceCache(const NonceCache&) = delete;
    NonceCache& operator=(const NonceCache&) = delete;

    /// Records the pair at `now_ms` (epoch milliseconds). kReplayed when the same pair was
    /// recorded less than window_ms ago; kFull when the pair is new but its shard has no room
    /// left after dropping expired entries (nothing is recorded then).
    NonceResult Insert(std::string_view access_key_id,
                       std::string_view nonce,
                       int64_t now_ms) override;

    /// Number of remembered pairs (a snapshot; others may be inserting meanwhile).
    size_t Size() const;

  private:
    struct Fingerprint {
        uint64_t hi = 0;
        uint64_t lo = 0;
        bool operator==(const Fingerprint&) const = default;
    };
    struct FingerprintHash {
        // The fingerprint is already uniformly distributed.
        size_t operator()(const Fingerprint& f) const { return static_cast<size_t>(f.lo); }
    };
    struct Entry {
        int64_t expires_ms;
        Fingerprint fingerprint;
    };
    struct Shard {
        mutable std::mutex mu;
        std::unordered_set<Fingerprint, FingerprintHash> present;  // guarded by mu
        std::deque<Entry> by_age;                                  // guarded by mu
    };

    static Fingerprint Fingerprint128(std::string_view access_key_id, std::string_view nonce);

    int64_t window_ms_;
    size_t shard_capacity_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace otad::rpc
