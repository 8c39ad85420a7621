#include "rpc/signature/nonce_cache.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace otad::rpc {

NonceCache::NonceCache(NonceCacheOptions options)
    : window_ms_(options.window_ms),
      shard_capacity_(
          std::max<size_t>(1, options.max_entries / std::max<size_t>(1, options.shard_count))) {
    const size_t shard_count = std::max<size_t>(1, options.shard_count);
    shards_.reserve(shard_count);
    for (size_t i = 0; i < shard_count; ++i) {
        shards_.push_back(std::make_unique<Shard>());
    }
}

NonceCache::Fingerprint NonceCache::Fingerprint128(std::string_view access_key_id,
                                                   std::string_view nonce) {
    const std::string digest = NonceFingerprint(access_key_id, nonce);
    Fingerprint f;
    std::memcpy(&f.hi, digest.data(), sizeof(f.hi));
    std::memcpy(&f.lo, digest.data() + sizeof(f.hi), sizeof(f.lo));
    return f;
}

NonceResult NonceCache::Insert(std::string_view access_key_id,
                               std::string_view nonce,
                               int64_t now_ms) {
    const Fingerprint f = Fingerprint128(access_key_id, nonce);
    Shard& shard = *shards_[f.hi % shards_.size()];
    std::lock_guard<std::mutex> lock(shard.mu);
    while (!shard.by_age.empty() && shard.by_age.front().expires_ms <= now_ms) {
        shard.present.erase(shard.by_age.front().fingerprint);
        shard.by_age.pop_front();
    }
    if (shard.present.contains(f)) {
        return NonceResult::kReplayed;
    }
    if (shard.present.size() >= shard_capacity_) {
        return NonceResult::kFull;
    }
    shard.present.insert(f);
    shard.by_age.push_back(Entry{now_ms + window_ms_, f});
    return NonceResult::kFresh;
}

size_t NonceCache::Size() const {
    size_t total = 0;
    for (const auto& shard : shards_) {
        std::lock_guard<std::mutex> lock(shard->mu);
        total += shard->present.size();
    }
    return total;
}

}  // namespace otad::rpc
