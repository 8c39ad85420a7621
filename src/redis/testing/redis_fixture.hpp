#pragma once

// Test support for src/redis: the Redis named by OTAD_TEST_REDIS, and throwaway redis-server
// processes that a test starts, stops, pauses and restarts itself.

#include "common/crypto.hpp"
#include "common/testing/loopback.hpp"
#include "redis/client.hpp"
#include "rpc/rate_limiter.hpp"
#include "rpc/throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX's name

namespace otad::redis::testing {

inline constexpr std::string_view kSkipNoRedis =
    "OTAD_TEST_REDIS is not set: these tests need a Redis server, e.g. "
    "OTAD_TEST_REDIS=redis://127.0.0.1:56379/0 after scripts/redis.sh start DIR";

/// A key prefix of its own per test, so that tests sharing one Redis never see each other's
/// keys.
inline std::string RandomKeyPrefix() {
    return "otad-test:" + crypto::RandomLowerAlnum(16) + ":";
}

/// Client options for `endpoint` with short timeouts and backoff, so that failure tests run
/// quickly. The password comes from OTAD_REDIS_PASSWORD, as for otad.
inline ClientOptions TestClientOptions(const Endpoint& endpoint, size_t connections = 2) {
    ClientOptions o;
    o.endpoint = endpoint;
    if (const char* p = std::getenv("OTAD_REDIS_PASSWORD"); p != nullptr) {
        o.password = p;
    }
    o.connect_timeout_ms = 200;
    o.command_timeout_ms = 200;
    o.reconnect_backoff_ms = 100;
    o.connections = connections;
    return o;
}

/// Counts the calls that reach it and answers like the in-process Throttle.
class CountingFallback final : public rpc::RateLimiter {
  public:
    int64_t Acquire(int64_t account_id,
                    uint32_t action_index,
                    int64_t qps,
                    int64_t now_ms) override {
        calls.fetch_add(1);
        return throttle.Acquire(account_id, action_index, qps, now_ms);
    }
    std::atomic<int> calls{0};
    rpc::Throttle throttle;
};

/// Base of the tests that use the Redis named by OTAD_TEST_REDIS; skips without it.
class SharedRedisTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // hiredis writes without MSG_NOSIGNAL
        const char* url = std::getenv("OTAD_TEST_REDIS");
        if (url == nullptr || *url == '\0') {
            GTEST_SKIP() << kSkipNoRedis;
        }
        Result<Endpoint> endpoint = ParseUrl(url);
        ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
        endpoint_ = *endpoint;
        prefix_ = RandomKeyPrefix();
        Client probe(TestClientOptions(endpoint_, 1));
        const Status ping = probe.Ping();
        ASSERT_TRUE(ping.ok()) << "OTAD_TEST_REDIS does not answer: " << ping.error().internal;
    }

    std::unique_ptr<Client> NewClient(size_t connections = 2) {
        return std::make_unique<Client>(TestClientOptions(endpoint_, connections));
    }

    Endpoint endpoint_;
    std::string prefix_;
};

/// Where a program is on the PATH; nothing when it is not installed.
inline std::optional<std::string> FindProgram(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    dirs += ":/usr/sbin:/usr/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        const size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string candidate = dirs.substr(start, end - start) + "/" + name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        start = end + 1;
    }
    return std::nullopt;
}

/// A redis-server child process on 127.0.0.1:port and a unix socket in its own directory, no
/// persistence. Stop, pause (SIGSTOP), resume and start again at will; killed at destruction.
class RedisProcess {
  public:
    RedisProcess(std::string binary, std::string password = {})
        : binary_(std::move(binary)), password_(std::move(password)), port_(loopback::FreePort()) {
        dir_ = std::filesystem::temp_directory_path() /
               ("otad-redis-" + std::to_string(::getpid()) + "-" + crypto::RandomLowerAlnum(8));
        std::filesystem::create_directories(dir_);
    }
    ~RedisProcess() {
        Kill();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    uint16_t port() const { return port_; }
    std::string socket_path() const { return (dir_ / "redis.sock").string(); }
    Endpoint TcpEndpoint() const {
        Endpoint e;
        e.host = "127.0.0.1";
        e.port = port_;
        return e;
    }

    /// Starts the server and waits until it answers PING (at most 10 s).
    ::testing::AssertionResult Start() {
        if (port_ == 0) {
            return ::testing::AssertionFailure() << "no free port";
        }
        std::vector<std::string> args = {binary_,
                                         "--port",
                                         std::to_string(port_),
                                         "--bind",
                                         "127.0.0.1",
                                         "--save",
                                         "",
                                         "--appendonly",
                                         "no",
                                         "--daemonize",
                                         "no",
                                         "--unixsocket",
                                         socket_path(),
                                         "--unixsocketperm",
                                         "700",
                                         "--dir",
                                         dir_.string(),
                                         "--logfile",
                                         (dir_ / "redis.log").string()};
        if (!password_.empty()) {
            args.insert(args.end(), {"--requirepass", password_});
        }
        std::vector<char*> argv;
        argv.reserve(args.size() + 1);
        for (std::string& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (::posix_spawn(&pid_, binary_.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = -1;
            return ::testing::AssertionFailure() << "cannot start " << binary_;
        }
        ClientOptions o;
        o.endpoint = TcpEndpoint();
        o.password = password_;
        o.reconnect_backoff_ms = 0;
        o.connections = 1;
        Client probe(o);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (probe.Ping().ok()) {
                return ::testing::AssertionSuccess();
            }
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return ::testing::AssertionFailure() << "redis-server exited during start";
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return ::testing::AssertionFailure() << "redis-server did not answer within 10 s";
    }

    void Pause() { Signal(SIGSTOP); }
    void Resume() { Signal(SIGCONT); }

    /// Ends the server (SIGKILL: no chance to tidy up, like a crash) and waits for it.
    void Kill() {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGCONT);
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

  private:
    void Signal(int sig) {
        if (pid_ > 0) {
            ::kill(pid_, sig);
        }
    }

    std::string binary_;
    std::string password_;
    uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

/// Base of the tests that run their own redis-server; skips when it is not installed.
class OwnRedisTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // hiredis writes without MSG_NOSIGNAL
        binary_ = FindProgram("redis-server");
        if (!binary_) {
            GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh --test installs it)";
        }
        prefix_ = RandomKeyPrefix();
    }

    std::optional<std::string> binary_;
    std::string prefix_;
};

/// Calls `f` until it returns true or `limit` passes; true when it did.
template <typename F>
bool Eventually(F f, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (f()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return f();
}

}  // namespace otad::redis::testing
