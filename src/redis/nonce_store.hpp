#pragma once

#include "redis/client.hpp"
#include "redis/log_limiter.hpp"
#include "rpc/signature/nonce_store.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace otad::redis {

/// The nonce replay memory shared by all nodes through Redis.
///
/// A pair is recorded with `SET <prefix>nonce:<fingerprint> 1 NX PX <window_ms>`, where the
/// fingerprint is the lower-case hex of rpc::NonceFingerprint (SHA-256 of the key id's length,
/// the key id and the nonce), so that the key's size does not depend on what clients send.
/// OK: fresh; nil: replayed. The window is a duration counted by Redis from the insertion, so
/// node clocks do not matter here.
///
/// Fails closed: when Redis cannot be reached, does not answer in time or answers with an error
/// (for instance out of memory under `maxmemory`), Insert returns kUnavailable and the request
/// is refused. Redis must not evict these keys early (maxmemory-policy noeviction): an evicted
/// nonce could be replayed.
class RedisNonceStore final : public rpc::NonceStore {
  public:
    /// `client` must outlive the store.
    RedisNonceStore(Client& client, std::string key_prefix, int64_t window_ms);

    /// `now_ms` is not used: Redis counts the window.
    rpc::NonceResult Insert(std::string_view access_key_id,
                            std::string_view nonce,
                            int64_t now_ms) override;

  private:
    Client& client_;
    std::string key_prefix_;
    std::string window_ms_;  // decimal, ready for PX
    LogLimiter warn_;
};

}  // namespace otad::redis
