#pragma once

#include "common/result.hpp"
#include "redis/log_limiter.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace otad::redis {

/// Where the Redis server is, from a URL:
///   redis://[USER@]HOST[:PORT][/DB]   TCP (port 6379 and database 0 by default; HOST may be
///                                     an IPv6 address in brackets)
///   unix:///PATH[?db=DB]              a unix socket
/// A password never goes in the URL (it would end up in process listings and logs).
struct Endpoint {
    std::string host;       ///< empty for a unix socket
    uint16_t port = 6379;   ///< TCP only
    std::string unix_path;  ///< empty for TCP
    std::string username;   ///< a Redis 6 ACL user; empty: the default user
    int64_t db = 0;

    /// "HOST:PORT" or "unix:PATH", followed by "/DB" when DB is not 0. Never a password.
    std::string Describe() const;
};

/// Parses the URL forms above; kInvalidParameter with a readable message otherwise.
Result<Endpoint> ParseUrl(std::string_view url);

struct ClientOptions {
    Endpoint endpoint;
    /// Sent with AUTH after connecting; empty: no AUTH. Never logged.
    std::string password;
    /// Bound on establishing a connection (TCP connect or unix socket). Name resolution is not
    /// bounded by it: give the server as an IP address or a name resolved locally.
    int64_t connect_timeout_ms = 200;
    /// Bound on sending one command and reading its reply (also AUTH and SELECT).
    int64_t command_timeout_ms = 200;
    /// After a failure a connection is not tried again for this long, so that requests do
    /// not each wait for a connection attempt while Redis is down.
    int64_t reconnect_backoff_ms = 500;
    /// Connections in the pool: the number of threads that call at once (otad's API worker
    /// threads), so that a caller never waits for a connection. A caller that finds none free
    /// waits at most command_timeout_ms.
    size_t connections = 4;
};

/// One reply from Redis. Arrays are not kept (only their kind): otad's commands reply with
/// status, string, integer or nil.
struct Reply {
    enum class Type { kNil, kStatus, kString, kInteger, kError, kArray };
    Type type = Type::kNil;
    int64_t integer = 0;
    /// A status, a string or an error message.
    std::string text;
};

/// A small pool of synchronous hiredis connections to one Redis server, for threads that may
/// block briefly but never unboundedly.
///
/// Why a mutex-protected pool rather than a connection per thread: the callers are the API's
/// worker threads, a fixed small set, so a pool of that size never makes one wait; it keeps
/// the number of connections to Redis known per node, works for any thread (tests, several
/// clients in one process) and closes everything with the Client, where thread-local
/// connections would live as long as their threads.
///
/// Every command runs under the command timeout. A connection that failed (refused, timed
/// out, closed, protocol error) is dropped and reconnected on a later call, not before
/// reconnect_backoff_ms has passed; meanwhile calls that get it fail at once. A connection
/// that the server closed while idle (a Redis restart) is noticed before sending and
/// reconnected at once. Failures are logged as warnings at most once per 10 s.
///
/// hiredis writes to sockets without MSG_NOSIGNAL: the process must ignore SIGPIPE (otad serve
/// does), or a write to a connection Redis has closed would end it.
///
/// Thread-safe.
class Client {
  public:
    explicit Client(ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Largest number of arguments of one command.
    static constexpr size_t kMaxArgs = 16;

    /// Runs one command (binary-safe arguments). The reply, including Redis error replies
    /// (Type::kError); kUnavailable when Redis could not be reached or did not answer in time,
    /// or no connection of the pool was free in time.
    Result<Reply> Command(std::span<const std::string_view> args);
    Result<Reply> Command(std::initializer_list<std::string_view> args) {
        return Command(std::span<const std::string_view>(args.begin(), args.size()));
    }

    /// PING: Ok when Redis answers PONG.
    Status Ping();

    const Endpoint& endpoint() const { return options_.endpoint; }

  private:
    struct Connection;

    Result<Connection*> Take();
    void Give(Connection* c);
    Result<Reply> Run(Connection& c, std::span<const std::string_view> args);
    Status Connect(Connection& c);
    Error Fail(Connection& c, const std::string& what);

    ClientOptions options_;
    std::vector<std::unique_ptr<Connection>> connections_;
    std::mutex mu_;
    std::condition_variable freed_;
    std::vector<Connection*> idle_;  // guarded by mu_
    LogLimiter warn_;
    /// A failure was logged and no success since: the next success is logged too.
    std::atomic<bool> announced_down_{false};
};

}  // namespace otad::redis
