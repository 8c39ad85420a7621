#include "rpc/throttle.hpp"

#include <algorithm>
#include <cmath>

namespace otad::rpc {

int64_t Throttle::Acquire(int64_t account_id, uint32_t action_index, int64_t qps, int64_t now_ms) {
    if (qps <= 0) {
        return 0;
    }
    const uint64_t key = (static_cast<uint64_t>(account_id) << 16) ^ action_index;
    Shard& shard = shards_[(key * 0x9E3779B97F4A7C15ull >> 60) % kShards];
    const auto capacity = static_cast<double>(qps);
    std::lock_guard lock(shard.mu);
    if (shard.buckets.size() >= kMaxBucketsPerShard) {
        // A bucket idle for over a second is full again; forgetting it changes nothing.
        std::erase_if(shard.buckets,
                      [&](const auto& kv) { return now_ms - kv.second.last_ms > 1000; });
    }
    auto [it, inserted] = shard.buckets.try_emplace(key, Bucket{capacity, now_ms});
    Bucket& b = it->second;
    if (!inserted) {
        const double elapsed_s =
            static_cast<double>(std::max<int64_t>(0, now_ms - b.last_ms)) / 1000.0;
        b.tokens = std::min(capacity, b.tokens + elapsed_s * capacity);
        b.last_ms = std::max(b.last_ms, now_ms);
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    const double wait_ms = (1.0 - b.tokens) * 1000.0 / capacity;
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms)));
}

}  // namespace otad::rpc
