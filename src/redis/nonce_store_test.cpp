#include "redis/nonce_store.hpp"

#include "common/crypto.hpp"
#include "redis/testing/redis_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace otad::redis {
namespace {

using rpc::NonceResult;
using testing::OwnRedisTest;
using testing::RedisProcess;
using testing::SharedRedisTest;

constexpr int64_t kT0 = 1'716'193'800'000;
constexpr int64_t kWindowMs = 31 * 60 * 1000;

using RedisNonceStoreTest = SharedRedisTest;

TEST_F(RedisNonceStoreTest, FreshThenReplayed) {
    auto client = NewClient();
    RedisNonceStore store(*client, prefix_, kWindowMs);
    EXPECT_EQ(store.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(store.Insert("AK1", "n1", kT0), NonceResult::kReplayed);
    EXPECT_EQ(store.Insert("AK1", "n1", kT0 + 30 * 60 * 1000), NonceResult::kReplayed);
    // The same nonce under another key, or another nonce, is independent.
    EXPECT_EQ(store.Insert("AK2", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(store.Insert("AK1", "n2", kT0), NonceResult::kFresh);
    // Key id and nonce cannot be shifted into each other.
    EXPECT_EQ(store.Insert("AK", "1n1", kT0), NonceResult::kFresh);
    // Any bytes, up to the Verifier's limit.
    const std::string odd("\0\xff n\r\n", 6);
    EXPECT_EQ(store.Insert("AK1", odd, kT0), NonceResult::kFresh);
    EXPECT_EQ(store.Insert("AK1", odd, kT0), NonceResult::kReplayed);
}

TEST_F(RedisNonceStoreTest, KeyIsTheFingerprintUnderThePrefixWithTheWindow) {
    auto client = NewClient();
    RedisNonceStore store(*client, prefix_, kWindowMs);
    const std::string nonce(128, 'x');
    ASSERT_EQ(store.Insert("LTAIkey", nonce, kT0), NonceResult::kFresh);
    const std::string key =
        prefix_ + "nonce:" + crypto::HexLower(rpc::NonceFingerprint("LTAIkey", nonce));
    EXPECT_EQ(key.size(), prefix_.size() + 6 + 64);
    Result<Reply> ttl = client->Command({"PTTL", key});
    ASSERT_TRUE(ttl.ok());
    ASSERT_EQ(ttl->type, Reply::Type::kInteger);
    EXPECT_GT(ttl->integer, kWindowMs - 60'000);
    EXPECT_LE(ttl->integer, kWindowMs);
}

TEST_F(RedisNonceStoreTest, TwoNodesShareTheirNonces) {
    auto client_a = NewClient();
    auto client_b = NewClient();
    RedisNonceStore node_a(*client_a, prefix_, kWindowMs);
    RedisNonceStore node_b(*client_b, prefix_, kWindowMs);
    EXPECT_EQ(node_a.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(node_b.Insert("AK1", "n1", kT0), NonceResult::kReplayed);
    EXPECT_EQ(node_b.Insert("AK1", "n2", kT0), NonceResult::kFresh);
    EXPECT_EQ(node_a.Insert("AK1", "n2", kT0), NonceResult::kReplayed);

    // A nonce sent to both nodes at once by many threads is accepted exactly once.
    for (int round = 0; round < 20; ++round) {
        const std::string nonce = "race-" + std::to_string(round);
        std::atomic<int> fresh{0};
        std::atomic<int> replayed{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            RedisNonceStore& node = t % 2 == 0 ? node_a : node_b;
            threads.emplace_back([&, t] {
                for (int i = 0; i < 5; ++i) {
                    switch (node.Insert("AK" + std::to_string(i), nonce, kT0 + t)) {
                        case NonceResult::kFresh:
                            ++fresh;
                            break;
                        case NonceResult::kReplayed:
                            ++replayed;
                            break;
                        default:
                            break;
                    }
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        EXPECT_EQ(fresh.load(), 5) << round;  // one per key id
        EXPECT_EQ(replayed.load(), 15) << round;
    }
}

TEST_F(RedisNonceStoreTest, ForgottenAfterTheWindow) {
    auto client = NewClient();
    RedisNonceStore store(*client, prefix_, 300);
    ASSERT_EQ(store.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(store.Insert("AK1", "n1", kT0), NonceResult::kReplayed);
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    EXPECT_TRUE(
        testing::Eventually([&] { return store.Insert("AK1", "n1", kT0) == NonceResult::kFresh; }));
    EXPECT_EQ(store.Insert("AK1", "n1", kT0), NonceResult::kReplayed);
}

TEST_F(RedisNonceStoreTest, StoresWithOtherPrefixesDoNotMeet) {
    auto client = NewClient();
    RedisNonceStore one(*client, prefix_, kWindowMs);
    RedisNonceStore other(*client, prefix_ + "other:", kWindowMs);
    EXPECT_EQ(one.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    EXPECT_EQ(other.Insert("AK1", "n1", kT0), NonceResult::kFresh);
}

TEST_F(OwnRedisTest, NoncesFailClosedWhileRedisIsDownAndRecover) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    Client client(testing::TestClientOptions(server.TcpEndpoint()));
    RedisNonceStore store(client, prefix_, kWindowMs);
    ASSERT_EQ(store.Insert("AK1", "before", kT0), NonceResult::kFresh);

    // Paused: commands time out.
    server.Pause();
    EXPECT_EQ(store.Insert("AK1", "during", kT0), NonceResult::kUnavailable);
    EXPECT_EQ(store.Insert("AK1", "during", kT0), NonceResult::kUnavailable);
    EXPECT_EQ(store.Insert("AK1", "before", kT0), NonceResult::kUnavailable);
    server.Resume();
    EXPECT_TRUE(testing::Eventually(
        [&] { return store.Insert("AK1", "after", kT0) == NonceResult::kFresh; }));
    // What was recorded before the pause is still there.
    EXPECT_EQ(store.Insert("AK1", "before", kT0), NonceResult::kReplayed);
    // A SET that timed out may still have reached Redis and been applied once it resumed: the
    // refused request's nonce is then used up. Harmless, as SDKs sign every retry anew.
    const NonceResult during = store.Insert("AK1", "during", kT0);
    EXPECT_TRUE(during == NonceResult::kFresh || during == NonceResult::kReplayed);

    // Gone: connections are refused.
    server.Kill();
    EXPECT_EQ(store.Insert("AK1", "gone", kT0), NonceResult::kUnavailable);
    EXPECT_EQ(store.Insert("AK1", "gone", kT0), NonceResult::kUnavailable);
    ASSERT_TRUE(server.Start());  // same port, empty (no persistence)
    EXPECT_TRUE(testing::Eventually(
        [&] { return store.Insert("AK1", "gone", kT0) == NonceResult::kFresh; }));
    EXPECT_EQ(store.Insert("AK1", "gone", kT0), NonceResult::kReplayed);
}

TEST_F(OwnRedisTest, AnErrorReplyFailsClosed) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    Client client(testing::TestClientOptions(server.TcpEndpoint()));
    RedisNonceStore store(client, prefix_, kWindowMs);
    ASSERT_EQ(store.Insert("AK1", "n1", kT0), NonceResult::kFresh);
    // Out of memory under noeviction: SET is refused with an error reply.
    ASSERT_TRUE(client.Command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).ok());
    ASSERT_TRUE(client.Command({"CONFIG", "SET", "maxmemory", "1"}).ok());
    EXPECT_EQ(store.Insert("AK1", "n2", kT0), NonceResult::kUnavailable);
    ASSERT_TRUE(client.Command({"CONFIG", "SET", "maxmemory", "0"}).ok());
    EXPECT_EQ(store.Insert("AK1", "n2", kT0), NonceResult::kFresh);
}

}  // namespace
}  // namespace otad::redis
