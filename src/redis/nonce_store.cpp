#include "redis/nonce_store.hpp"

#include "common/log.hpp"

#include <algorithm>

namespace otad::redis {
namespace {

constexpr std::string_view kNonceKey = "nonce:";

void AppendHex(std::string& out, std::string_view bytes) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    for (const char b : bytes) {
        const auto v = static_cast<unsigned char>(b);
        out.push_back(kDigits[v >> 4]);
        out.push_back(kDigits[v & 0x0F]);
    }
}

}  // namespace

RedisNonceStore::RedisNonceStore(Client& client, std::string key_prefix, int64_t window_ms)
    : client_(client),
      key_prefix_(std::move(key_prefix)),
      window_ms_(std::to_string(std::max<int64_t>(1, window_ms))) {}

rpc::NonceResult RedisNonceStore::Insert(std::string_view access_key_id,
                                         std::string_view nonce,
                                         int64_t /*now_ms*/) {
    const std::string fingerprint = rpc::NonceFingerprint(access_key_id, nonce);
    std::string key;
    key.reserve(key_prefix_.size() + kNonceKey.size() + 2 * fingerprint.size());
    key.append(key_prefix_);
    key.append(kNonceKey);
    AppendHex(key, fingerprint);

    const Result<Reply> reply = client_.Command({"SET", key, "1", "NX", "PX", window_ms_});
    if (!reply.ok()) {
        return rpc::NonceResult::kUnavailable;  // the client has logged why
    }
    if (reply->type == Reply::Type::kStatus && reply->text == "OK") {
        return rpc::NonceResult::kFresh;
    }
    if (reply->type == Reply::Type::kNil) {
        return rpc::NonceResult::kReplayed;
    }
    if (warn_.Allow()) {
        log::Warn("redis " + client_.endpoint().Describe() + ": SET of a nonce answered " +
                  (reply->type == Reply::Type::kError ? reply->text : "an unexpected reply") +
                  "; requests are refused until nonces can be recorded (this warning repeats at "
                  "most every 10 s)");
    }
    return rpc::NonceResult::kUnavailable;
}

}  // namespace otad::redis
