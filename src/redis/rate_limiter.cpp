#include "redis/rate_limiter.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"

#include <array>
#include <charconv>
#include <string_view>

namespace otad::redis {
namespace {

// One call against a token bucket, the same arithmetic as rpc::Throttle::Acquire.
//   KEYS[1]  the bucket: a hash with t (tokens, a fraction) and ms (time of the last refill)
//   ARGV[1]  calls per second, also the capacity (> 0)
//   ARGV[2]  the caller's clock, epoch milliseconds
//   ARGV[3]  the key's lifetime in milliseconds
// Returns 0 when the call may proceed, otherwise the milliseconds until one call is available.
constexpr std::string_view kScript = R"lua(
local capacity = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 't', 'ms')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
elseif now > last then
  tokens = math.min(capacity, tokens + (now - last) / 1000 * capacity)
  last = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) * 1000 / capacity))
end
redis.call('HSET', KEYS[1], 't', tokens, 'ms', last)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return wait
)lua";

constexpr std::string_view kRateKey = "rate:";

// Decimal text of a number in a caller-provided buffer (no allocation).
template <typename T>
std::string_view Decimal(std::array<char, 24>& buffer, T value) {
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    (void)ec;  // 24 characters hold any 64-bit number
    return {buffer.data(), static_cast<size_t>(end - buffer.data())};
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(Client& client,
                                   std::string key_prefix,
                                   rpc::RateLimiter& fallback)
    : client_(client),
      key_prefix_(std::move(key_prefix)),
      fallback_(fallback),
      script_sha1_(crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kSha1, kScript))) {}

int64_t RedisRateLimiter::Acquire(int64_t account_id,
                                  uint32_t action_index,
                                  int64_t qps,
                                  int64_t now_ms) {
    if (qps <= 0) {
        return 0;
    }
    std::array<char, 24> account_text{};
    std::array<char, 24> action_text{};
    std::array<char, 24> qps_text{};
    std::array<char, 24> now_text{};
    std::array<char, 24> ttl_text{};
    const std::string_view account = Decimal(account_text, account_id);
    const std::string_view action = Decimal(action_text, action_index);
    std::string key;
    key.reserve(key_prefix_.size() + kRateKey.size() + account.size() + 1 + action.size());
    key.append(key_prefix_);
    key.append(kRateKey);
    key.append(account);
    key.push_back(':');
    key.append(action);
    const std::string_view qps_arg = Decimal(qps_text, qps);
    const std::string_view now_arg = Decimal(now_text, now_ms);
    const std::string_view ttl_arg = Decimal(ttl_text, kBucketTtlMs);

    Result<Reply> reply =
        client_.Command({"EVALSHA", script_sha1_, "1", key, qps_arg, now_arg, ttl_arg});
    if (reply.ok() && reply->type == Reply::Type::kError && reply->text.starts_with("NOSCRIPT")) {
        // Redis restarted or flushed its scripts: EVAL runs the script and caches it again.
        reply = client_.Command({"EVAL", kScript, "1", key, qps_arg, now_arg, ttl_arg});
    }
    if (reply.ok() && reply->type == Reply::Type::kInteger && reply->integer >= 0) {
        if (announced_fallback_.load(std::memory_order_relaxed) &&
            announced_fallback_.exchange(false, std::memory_order_relaxed)) {
            log::Info("throttling is shared through redis " + client_.endpoint().Describe() +
                      " again");
        }
        return reply->integer;
    }
    if (warn_.Allow()) {
        std::string why;
        if (!reply.ok()) {
            why = reply.error().internal;
        } else if (reply->type == Reply::Type::kError) {
            why = "the throttling script failed: " + reply->text;
        } else {
            why = "the throttling script answered an unexpected reply";
        }
        log::Warn(why +
                  "; throttling falls back to this node's own buckets, so each node enforces the "
                  "limits on its own (this warning repeats at most every 10 s)");
        announced_fallback_.store(true, std::memory_order_relaxed);
    }
    return fallback_.Acquire(account_id, action_index, qps, now_ms);
}

}  // namespace otad::redis
