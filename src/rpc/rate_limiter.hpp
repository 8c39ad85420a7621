#pragma once

#include <cstdint>

namespace otad::rpc {

/// Per-account, per-action rate limits as the Dispatcher asks for them: the in-process
/// Throttle (one node) or limits shared by several nodes (otad's Redis one). Implementations
/// are thread-safe and never block unboundedly.
class RateLimiter {
  public:
    virtual ~RateLimiter() = default;

    /// Takes one call of `account_id` for the action `action_index`, limited to `qps` calls
    /// per second (at most one second's worth at once, refilled continuously). Returns 0 when
    /// the call may proceed, otherwise the number of milliseconds after which one call will be
    /// available again. `qps` <= 0 means unlimited. `now_ms` is the caller's clock (epoch
    /// milliseconds).
    virtual int64_t Acquire(int64_t account_id,
                            uint32_t action_index,
                            int64_t qps,
                            int64_t now_ms) = 0;
};

}  // namespace otad::rpc
