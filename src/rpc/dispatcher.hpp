#pragma once

#include "common/clock.hpp"
#include "common/http_message.hpp"
#include "domain/services.hpp"
#include "rpc/actions/action.hpp"
#include "rpc/params/params.hpp"
#include "rpc/rate_limiter.hpp"
#include "rpc/signature/nonce_cache.hpp"
#include "rpc/signature/nonce_store.hpp"
#include "rpc/signature/verifier.hpp"
#include "rpc/throttle.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace otad::rpc {

struct ThrottlingOptions {
    bool enabled = true;
    /// Calls per second per account for an action; overrides the documented default.
    /// 0 means unlimited.
    std::map<std::string, int64_t, std::less<>> per_action_qps;
};

struct DispatcherOptions {
    ParamLimits param_limits;
    VerifierOptions verifier;
    /// Sizes the in-process nonce cache (used when `nonce_store` is null).
    NonceCacheOptions nonces;
    ThrottlingOptions throttling;
    /// Where nonces are remembered and calls counted when several nodes share them (otad's
    /// Redis stores); they must outlive the Dispatcher. Null: the Dispatcher's own in-process
    /// NonceCache and Throttle (a single node).
    NonceStore* nonce_store = nullptr;
    RateLimiter* rate_limiter = nullptr;
    ActionEnvironment env;
    /// How long an AccessKey looked up in the store is trusted before it is read again (so a
    /// disabled key stops working within this time on every node).
    int64_t key_cache_ttl_ms = 5000;
    size_t key_cache_max_entries = 100'000;
};

/// The RPC endpoint: turns one HTTP request into one HTTP response.
///
/// Order of work: decode parameters; choose the response format; authenticate (signature,
/// time, nonce); check Version and Action; throttle per account and action; resolve the
/// instance; run the action. Every response carries a RequestId in the body and in
/// x-acs-request-id. Thread-safe; blocking (it reads and writes the store), so call it off the
/// network threads.
class Dispatcher {
  public:
    Dispatcher(domain::Services& services,
               domain::FileService& files,
               const Clock& clock,
               DispatcherOptions options);
    ~Dispatcher();

    HttpResponse Handle(const HttpRequest& request);

    /// The effective calls-per-second limit of an action (0 = unlimited).
    int64_t QpsOf(uint32_t action_index) const;

  private:
    class KeyCache;

    domain::Services& services_;
    domain::FileService& files_;
    const Clock& clock_;
    DispatcherOptions options_;
    std::unique_ptr<NonceCache> own_nonces_;  // only without options_.nonce_store
    std::unique_ptr<Throttle> own_throttle_;  // only without options_.rate_limiter
    NonceStore& nonces_;
    RateLimiter& limiter_;
    Verifier verifier_;
    std::unique_ptr<KeyCache> keys_;
    std::vector<int64_t> qps_;  // per action index
};

}  // namespace otad::rpc
