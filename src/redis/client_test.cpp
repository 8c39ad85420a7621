#include "redis/client.hpp"

#include "redis/testing/redis_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace otad::redis {
namespace {

using testing::OwnRedisTest;
using testing::RedisProcess;
using testing::SharedRedisTest;

TEST(RedisUrl, TcpForms) {
    Result<Endpoint> e = ParseUrl("redis://127.0.0.1:6379/0");
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, 6379);
    EXPECT_EQ(e->db, 0);
    EXPECT_TRUE(e->unix_path.empty());
    EXPECT_EQ(e->Describe(), "127.0.0.1:6379");

    e = ParseUrl("redis://cache.internal");
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->host, "cache.internal");
    EXPECT_EQ(e->port, 6379);
    EXPECT_EQ(e->db, 0);

    e = ParseUrl("redis://otad@10.0.0.5:7000/3");
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->username, "otad");
    EXPECT_EQ(e->host, "10.0.0.5");
    EXPECT_EQ(e->port, 7000);
    EXPECT_EQ(e->db, 3);
    EXPECT_EQ(e->Describe(), "10.0.0.5:7000/3");

    e = ParseUrl("redis://[::1]:6380/");
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->host, "::1");
    EXPECT_EQ(e->port, 6380);
    EXPECT_EQ(e->Describe(), "[::1]:6380");
}

TEST(RedisUrl, UnixForms) {
    Result<Endpoint> e = ParseUrl("unix:///run/redis/redis.sock");
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->unix_path, "/run/redis/redis.sock");
    EXPECT_TRUE(e->host.empty());
    EXPECT_EQ(e->Describe(), "unix:/run/redis/redis.sock");

    e = ParseUrl("unix:///run/redis/redis.sock?db=2");
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->unix_path, "/run/redis/redis.sock");
    EXPECT_EQ(e->db, 2);
    EXPECT_EQ(e->Describe(), "unix:/run/redis/redis.sock/2");
}

TEST(RedisUrl, Refusals) {
    for (const char* bad : {"",
                            "127.0.0.1:6379",
                            "http://127.0.0.1",
                            "rediss://127.0.0.1:6379",
                            "redis://",
                            "redis://:6379",
                            "redis://host:0",
                            "redis://host:65536",
                            "redis://host:",
                            "redis://host:x",
                            "redis://host/x",
                            "redis://host/1?timeout=1",
                            "redis://::1:6379",
                            "redis://[::1",
                            "redis://@host",
                            "unix://",
                            "unix://relative/path",
                            "unix:///sock?database=1",
                            "unix:///sock?db=x"}) {
        Result<Endpoint> e = ParseUrl(bad);
        EXPECT_FALSE(e.ok()) << bad;
        if (!e.ok()) {
            EXPECT_EQ(e.error().code, ErrorCode::kInvalidParameter);
            EXPECT_TRUE(e.error().message.starts_with("redis URL: ")) << e.error().message;
        }
    }
}

TEST(RedisUrl, APasswordInTheUrlIsRefusedWithoutBeingRepeated) {
    Result<Endpoint> e = ParseUrl("redis://otad:hunter2@127.0.0.1:6379/0");
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().message.find("hunter2"), std::string::npos);
    EXPECT_NE(e.error().message.find("OTAD_REDIS_PASSWORD"), std::string::npos);
    e = ParseUrl("redis://:hunter2@127.0.0.1");
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().message.find("hunter2"), std::string::npos);
}

TEST_F(SharedRedisTest, CommandsAndReplies) {
    auto client = NewClient();
    ASSERT_TRUE(client->Ping().ok());
    const std::string key = prefix_ + "plain";
    Result<Reply> r = client->Command({"SET", key, std::string("a\0b", 3), "PX", "60000"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type, Reply::Type::kStatus);
    EXPECT_EQ(r->text, "OK");
    r = client->Command({"GET", key});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type, Reply::Type::kString);
    EXPECT_EQ(r->text, std::string("a\0b", 3));  // binary-safe
    r = client->Command({"GET", prefix_ + "absent"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type, Reply::Type::kNil);
    r = client->Command({"DEL", key});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type, Reply::Type::kInteger);
    EXPECT_EQ(r->integer, 1);
    r = client->Command({"NOSUCHCOMMAND"});
    ASSERT_TRUE(r.ok());  // an error reply is a reply
    EXPECT_EQ(r->type, Reply::Type::kError);
    // The connection is still usable after an error reply.
    EXPECT_TRUE(client->Ping().ok());
}

TEST(RedisClient, NothingListeningIsUnavailableAtOnce) {
    ClientOptions o;
    o.endpoint.host = "127.0.0.1";
    o.endpoint.port = loopback::FreePort();
    o.connections = 1;
    Client client(o);
    const auto start = std::chrono::steady_clock::now();
    const Status st = client.Ping();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(OwnRedisTest, PasswordUnixSocketAndDatabase) {
    RedisProcess server(*binary_, "s3cret-for-test");
    ASSERT_TRUE(server.Start());

    ClientOptions o;
    o.endpoint = server.TcpEndpoint();
    o.connections = 1;
    {
        Client no_password(o);
        const Status st = no_password.Ping();
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
    }
    {
        o.password = "wrong";
        Client wrong(o);
        const Status st = wrong.Ping();
        ASSERT_FALSE(st.ok());
        EXPECT_NE(st.error().internal.find("AUTH refused"), std::string::npos)
            << st.error().internal;
        EXPECT_EQ(st.error().internal.find("wrong"), std::string::npos);  // no password shown
    }

    Result<Endpoint> unix3 = ParseUrl("unix://" + server.socket_path() + "?db=3");
    ASSERT_TRUE(unix3.ok()) << unix3.error().message;
    o.endpoint = *unix3;
    o.password = "s3cret-for-test";
    Client on_db3(o);
    ASSERT_TRUE(on_db3.Ping().ok());
    const std::string key = prefix_ + "where";
    ASSERT_TRUE(on_db3.Command({"SET", key, "db3"}).ok());

    Result<Endpoint> tcp0 = ParseUrl("redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
    ASSERT_TRUE(tcp0.ok());
    o.endpoint = *tcp0;
    Client on_db0(o);
    Result<Reply> r = on_db0.Command({"GET", key});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->type, Reply::Type::kNil);  // the key is in database 3 only
    r = on_db3.Command({"GET", key});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->text, "db3");
}

TEST_F(OwnRedisTest, TimeoutThenBackoffThenRecovery) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    ClientOptions o;
    o.endpoint = server.TcpEndpoint();
    o.command_timeout_ms = 150;
    o.reconnect_backoff_ms = 400;
    o.connections = 1;
    Client client(o);
    ASSERT_TRUE(client.Ping().ok());

    server.Pause();
    auto start = std::chrono::steady_clock::now();
    Status st = client.Ping();
    EXPECT_FALSE(st.ok());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    // Within the backoff nothing is tried: the call fails without waiting.
    start = std::chrono::steady_clock::now();
    st = client.Ping();
    EXPECT_FALSE(st.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
    EXPECT_NE(st.error().internal.find("waiting before the next attempt"), std::string::npos)
        << st.error().internal;

    server.Resume();
    EXPECT_TRUE(testing::Eventually([&] { return client.Ping().ok(); }));
}

TEST_F(OwnRedisTest, ARestartedServerIsReconnectedWithoutLosingACommand) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    ClientOptions o;
    o.endpoint = server.TcpEndpoint();
    o.connections = 1;
    Client client(o);
    ASSERT_TRUE(client.Ping().ok());
    server.Kill();
    ASSERT_TRUE(server.Start());
    // The pooled connection was closed by the old server; it is replaced before sending.
    EXPECT_TRUE(client.Ping().ok());
}

TEST_F(OwnRedisTest, CallersWaitBoundedlyForABusyPool) {
    RedisProcess server(*binary_);
    ASSERT_TRUE(server.Start());
    ClientOptions o;
    o.endpoint = server.TcpEndpoint();
    o.command_timeout_ms = 300;
    o.connections = 1;
    Client client(o);
    ASSERT_TRUE(client.Ping().ok());
    server.Pause();
    // One thread holds the only connection while its command times out; the other waits for
    // the connection at most command_timeout_ms, then gives up or gets the connection late.
    std::thread holder([&] { (void)client.Ping(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(client.Ping().ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    holder.join();
    server.Resume();
}

}  // namespace
}  // namespace otad::redis
