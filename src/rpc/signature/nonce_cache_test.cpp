#include "rpc/signature/nonce_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace otad::rpc {
namespace {

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kT0 = 1716193800000;

TEST(NonceCache, RefusesReplayWithinTheWindow) {
    NonceCache cache;
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0), NonceResult::kReplayed);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0 + 30 * kMinuteMs), NonceResult::kReplayed);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0 + 31 * kMinuteMs - 1), NonceResult::kReplayed);
    // The same nonce under another key, or another nonce, is independent.
    EXPECT_EQ(cache.Insert("AK2", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "n2", kT0), NonceResult::kFresh);
    // Key id and nonce cannot be shifted into each other.
    EXPECT_EQ(cache.Insert("AK", "1n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(cache.Size(), 4u);
}

TEST(NonceCache, ForgetsAfterTheWindow) {
    NonceCache cache;
    ASSERT_EQ(cache.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0 + 31 * kMinuteMs), NonceResult::kFresh);
    EXPECT_EQ(cache.Size(), 1u);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0 + 31 * kMinuteMs + 1), NonceResult::kReplayed);
}

TEST(NonceCache, ConfigurableWindow) {
    NonceCache cache(NonceCacheOptions{.window_ms = 1000, .max_entries = 10, .shard_count = 2});
    ASSERT_EQ(cache.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0 + 999), NonceResult::kReplayed);
    EXPECT_EQ(cache.Insert("AK1", "n1", kT0 + 1000), NonceResult::kFresh);
}

TEST(NonceCache, FullCacheFailsClosedUntilEntriesExpire) {
    NonceCache cache(
        NonceCacheOptions{.window_ms = 10 * kMinuteMs, .max_entries = 3, .shard_count = 1});
    EXPECT_EQ(cache.Insert("AK1", "a", kT0), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "b", kT0 + 1), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "c", kT0 + 2), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "d", kT0 + 3), NonceResult::kFull);
    // A replay is still reported as such while full, and nothing was stored for "d".
    EXPECT_EQ(cache.Insert("AK1", "a", kT0 + 4), NonceResult::kReplayed);
    EXPECT_EQ(cache.Insert("AK1", "d", kT0 + 5), NonceResult::kFull);
    EXPECT_EQ(cache.Size(), 3u);
    // Once "a" has expired there is room again.
    EXPECT_EQ(cache.Insert("AK1", "d", kT0 + 10 * kMinuteMs), NonceResult::kFresh);
    EXPECT_EQ(cache.Insert("AK1", "e", kT0 + 10 * kMinuteMs), NonceResult::kFull);
    EXPECT_EQ(cache.Insert("AK1", "e", kT0 + 10 * kMinuteMs + 2), NonceResult::kFresh);
}

TEST(NonceCache, EvictsAsTimeMoves) {
    NonceCache cache(NonceCacheOptions{.window_ms = 1000, .max_entries = 1000, .shard_count = 4});
    for (int i = 0; i < 500; ++i) {
        ASSERT_EQ(cache.Insert("AK", std::to_string(i), kT0 + i), NonceResult::kFresh);
    }
    EXPECT_EQ(cache.Size(), 500u);
    // Every shard drops its expired entries on its next insertion.
    for (int i = 0; i < 64; ++i) {
        (void)cache.Insert("AK", "late" + std::to_string(i), kT0 + 5000);
    }
    EXPECT_EQ(cache.Size(), 64u);
}

TEST(NonceCache, ConcurrentInsertsAcceptEachNonceOnce) {
    NonceCache cache;
    constexpr int kThreads = 8;
    constexpr int kNonces = 2000;
    std::atomic<int> fresh{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kNonces; ++i) {
                if (cache.Insert("AK", std::to_string(i), kT0) == NonceResult::kFresh) {
                    fresh.fetch_add(1);
                }
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_EQ(fresh.load(), kNonces);
    EXPECT_EQ(cache.Size(), static_cast<size_t>(kNonces));
}

}  // namespace
}  // namespace otad::rpc
