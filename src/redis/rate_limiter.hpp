#pragma once

#include "redis/client.hpp"
#include "redis/log_limiter.hpp"
#include "rpc/rate_limiter.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace otad::redis {

/// Per-account, per-action throttling shared by all nodes through Redis: the token bucket of
/// rpc::Throttle (at most one second's worth of calls, refilled continuously), kept in the hash
/// `<prefix>rate:<account_id>:<action_index>` and updated atomically by a Lua script (EVALSHA,
/// EVAL when Redis does not know the script yet). Each update renews the key's expiry
/// (kBucketTtlMs), so idle buckets vanish.
///
/// Time is the caller's clock (`now_ms`), not Redis's TIME, so that tests with a fake clock
/// work. The consequence: the nodes' clocks must agree to well within the bucket's resolution
/// (one second); a node whose clock lags sees no refill until its clock passes the bucket's
/// last update, a node whose clock leads refills early. NTP keeps them within milliseconds.
///
/// When Redis cannot be reached, does not answer in time or answers with an error, the call
/// is counted by `fallback` (the node's own in-process buckets, so each node then enforces the
/// limit on its own) and a warning is logged at most once per 10 s.
class RedisRateLimiter final : public rpc::RateLimiter {
  public:
    /// `client` and `fallback` must outlive the limiter.
    RedisRateLimiter(Client& client, std::string key_prefix, rpc::RateLimiter& fallback);

    int64_t Acquire(int64_t account_id,
                    uint32_t action_index,
                    int64_t qps,
                    int64_t now_ms) override;

    /// Lifetime of a bucket's key after its last use. A bucket idle for a second is full
    /// again, which is what a missing key means; the margin covers clock differences.
    static constexpr int64_t kBucketTtlMs = 10'000;

  private:
    Client& client_;
    std::string key_prefix_;
    rpc::RateLimiter& fallback_;
    std::string script_sha1_;
    LogLimiter warn_;
    /// A fallback was logged and Redis has not answered since: the recovery is logged too.
    std::atomic<bool> announced_fallback_{false};
};

}  // namespace otad::redis
