#pragma once

#include "rpc/rate_limiter.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace otad::rpc {

/// Per-account, per-action rate limits of a single node, in process memory: a token bucket per
/// (account, action) holding at most one second's worth of calls and refilled continuously.
/// Thread-safe; memory is bounded by evicting buckets that have been idle long enough to be
/// full again.
class Throttle final : public RateLimiter {
  public:
    /// Takes one call from the bucket. Returns 0 when the call may proceed, otherwise the
    /// number of milliseconds after which one call will be available again. `qps` <= 0 means
    /// unlimited.
    int64_t Acquire(int64_t account_id,
                    uint32_t action_index,
                    int64_t qps,
                    int64_t now_ms) override;

    /// Buckets kept per shard before idle ones are evicted.
    static constexpr size_t kMaxBucketsPerShard = 65'536;

  private:
    struct Bucket {
        double tokens = 0;
        int64_t last_ms = 0;
    };
    struct Shard {
        std::mutex mu;
        std::unordered_map<uint64_t, Bucket> buckets;  // guarded by mu
    };
    static constexpr size_t kShards = 16;
    std::array<Shard, kShards> shards_;
};

}  // namespace otad::rpc
