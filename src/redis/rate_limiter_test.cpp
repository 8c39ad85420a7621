#include "redis/rate_limiter.hpp"

#include "redis/testing/redis_fixture.hpp"
#include "rpc/throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace otad::redis {
namespace {

using testing::CountingFallback;
using testing::OwnRedisTest;
using testing::RedisProcess;
using testing::SharedRedisTest;

constexpr int64_t kT0 = 1'716'193'800'000;

using RedisRateLimiterTest = SharedRedisTest;

TEST_F(RedisRateLimiterTest, ABurstOfQpsCallsAcrossTwoNodesThenRefill) {
    auto client_a = NewClient();
    auto client_b = NewClient();
    CountingFallback fallback_a;
    CountingFallback fallback_b;
    RedisRateLimiter node_a(*client_a, prefix_, fallback_a);
    RedisRateLimiter node_b(*client_b, prefix_, fallback_b);
    RedisRateLimiter* nodes[] = {&node_a, &node_b};

    int64_t now = kT0;
    int allowed = 0;
    for (int i = 0; i < 12; ++i) {
        if (nodes[i % 2]->Acquire(1, 4, 5, now) == 0) {
            ++allowed;
        }
    }
    EXPECT_EQ(allowed, 5);  // 5 per second for the account, not per node
    const int64_t wait = node_a.Acquire(1, 4, 5, now);
    EXPECT_GT(wait, 0);
    EXPECT_LE(wait, 200);

    // 200 ms later one call is available again, on whichever node.
    now += 200;
    EXPECT_EQ(node_b.Acquire(1, 4, 5, now), 0);
    EXPECT_GT(node_a.Acquire(1, 4, 5, now), 0);
    // After a long pause the bucket holds one second's worth, no more.
    now += 60'000;
    allowed = 0;
    for (int i = 0; i < 12; ++i) {
        if (nodes[i % 2]->Acquire(1, 4, 5, now) == 0) {
            ++allowed;
        }
    }
    EXPECT_EQ(allowed, 5);
    EXPECT_EQ(fallback_a.calls.load(), 0);
    EXPECT_EQ(fallback_b.calls.load(), 0);
}

TEST_F(RedisRateLimiterTest, SameAnswersAsTheInProcessThrottle) {
    auto client = NewClient();
    CountingFallback fallback;
    RedisRateLimiter shared(*client, prefix_, fallback);
    rpc::Throttle local;
    // Calls every 7 ms for 3 s at 10/s, and a second account at 3/s with a clock that also
    // steps back a little (another node's clock): every answer, wait included, must match.
    for (int64_t ms = 0; ms < 3'000; ms += 7) {
        EXPECT_EQ(shared.Acquire(1, 0, 10, kT0 + ms), local.Acquire(1, 0, 10, kT0 + ms)) << ms;
        const int64_t skewed = kT0 + ms - (ms % 3 == 0 ? 5 : 0);
        EXPECT_EQ(shared.Acquire(2, 0, 3, skewed), local.Acquire(2, 0, 3, skewed)) << ms;
    }
    EXPECT_EQ(fallback.calls.load(), 0);
}

TEST_F(RedisRateLimiterTest, AccountsAndActionsAreSeparate) {
    auto client = NewClient();
    CountingFallback fallback;
    RedisRateLimiter limiter(*client, prefix_, fallback);
    EXPECT_EQ(limiter.Acquire(1, 0, 1, kT0), 0);
    EXPECT_GT(limiter.Acquire(1, 0, 1, kT0), 0);
    EXPECT_EQ(limiter.Acquire(2, 0, 1, kT0), 0);
    EXPECT_EQ(limiter.Acquire(1, 1, 1, kT0), 0);
    // Other prefixes (other deployments sharing a Redis) have their own buckets.
    RedisRateLimiter elsewhere(*client, prefix_ + "other:", fallback);
    EXPECT_EQ(elsewhere.Acquire(1, 0, 1, kT0), 0);
}

TEST_F(RedisRateLimiterTest, UnlimitedNeverTouchesRedis) {
    auto client = NewClient();
    CountingFallback fallback;
    RedisRateLimiter limiter(*client, prefix_, fallback);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(limiter.Acquire(1, 2, 0, kT0), 0);
        EXPECT_EQ(limiter.Acquire(1, 2, -1, kT0), 0);
    }
    Result<Reply> exists = client->Command({"EXISTS", prefix_ + "rate:1:2"});
    ASSERT_TRUE(exists.ok());
    EXPECT_EQ(exists->integer, 0);
    EXPECT_EQ(fallback.calls.load(), 0);
}

TEST_F(RedisRateLimiterTest, IdleBucketsExpire) {
    auto client = NewClient();
    CountingFallback fallback;
    RedisRateLimiter limiter(*client, prefix_, fallback);
    ASSERT_EQ(limiter.Acquire(42, 7, 10, kT0), 0);
    Result<Reply> ttl = client->Command({"PTTL", prefix_ + "rate:42:7"});
    ASSERT_TRUE(ttl.ok());
    ASSERT_EQ(ttl->type, Reply::Type::kInteger);
    EXPECT_GT(ttl->integer, 0);
    EXPECT_LE(ttl->integer, RedisRateLimiter::kBucketTtlMs);
}

TEST_F(OwnRedisTest, ThrottlingFallsBackWhileRedisIsDownAndRecovers) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    Client client(testing::TestClientOptions(server.TcpEndpoint()));
    CountingFallback fallback;
    RedisRateLimiter limiter(client, prefix_, fallback);
    int64_t now = kT0;
    ASSERT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    ASSERT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    ASSERT_GT(limiter.Acquire(1, 0, 2, now), 0);
    ASSERT_EQ(fallback.calls.load(), 0);

    // Paused: the node's own bucket answers (it starts full: this node alone enforces 2/s).
    server.Pause();
    now += 10'000;
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_GT(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_EQ(fallback.calls.load(), 3);
    server.Resume();
    // Back: the shared bucket answers again, the fallback is no longer asked.
    now += 10'000;
    EXPECT_TRUE(testing::Eventually([&] {
        const int before = fallback.calls.load();
        limiter.Acquire(9, 0, 1000, now);
        return fallback.calls.load() == before;
    }));
    const int calls = fallback.calls.load();
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_GT(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_EQ(fallback.calls.load(), calls);

    // Killed and restarted empty: the restarted server does not know the script (NOSCRIPT),
    // which is loaded again.
    server.Kill();
    now += 10'000;
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_GT(fallback.calls.load(), calls);
    ASSERT_TRUE(server.Start());
    now += 10'000;
    EXPECT_TRUE(testing::Eventually([&] {
        const int before = fallback.calls.load();
        limiter.Acquire(9, 0, 1000, now);
        return fallback.calls.load() == before;
    }));
    const int after_restart = fallback.calls.load();
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_EQ(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_GT(limiter.Acquire(1, 0, 2, now), 0);
    EXPECT_EQ(fallback.calls.load(), after_restart);
}

TEST_F(OwnRedisTest, AFailingScriptFallsBack) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    Client client(testing::TestClientOptions(server.TcpEndpoint()));
    CountingFallback fallback;
    RedisRateLimiter limiter(client, prefix_, fallback);
    // A key of the wrong type makes the script fail with an error reply.
    ASSERT_TRUE(client.Command({"SET", prefix_ + "rate:1:0", "not a hash"}).ok());
    EXPECT_EQ(limiter.Acquire(1, 0, 1, kT0), 0);
    EXPECT_GT(limiter.Acquire(1, 0, 1, kT0), 0);
    EXPECT_EQ(fallback.calls.load(), 2);
    // Scripts flushed: NOSCRIPT, then EVAL, no fallback.
    ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());
    EXPECT_EQ(limiter.Acquire(2, 0, 1, kT0), 0);
    EXPECT_EQ(fallback.calls.load(), 2);
}

}  // namespace
}  // namespace otad::redis
