#include "redis/client.hpp"

#include "common/log.hpp"
#include "common/text.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <poll.h>
#include <sys/time.h>
#include <sys/un.h>

namespace otad::redis {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kTcpScheme = "redis://";
constexpr std::string_view kUnixScheme = "unix://";
constexpr int64_t kMaxDb = 1'000'000;

// The URL itself is never repeated in messages: a password put there by mistake would end up
// in the log.
Error BadUrl(const std::string& why) {
    return MakeError(ErrorCode::kInvalidParameter, "redis URL: " + why);
}

Result<int64_t> ParseDb(std::string_view text) {
    const std::optional<uint64_t> db = text::ParseDigits(text);
    if (!db.has_value() || *db > static_cast<uint64_t>(kMaxDb)) {
        return BadUrl("the database must be a number from 0 to " + std::to_string(kMaxDb));
    }
    return static_cast<int64_t>(*db);
}

Result<Endpoint> ParseUnixUrl(std::string_view rest) {
    Endpoint ep;
    std::string_view path = rest;
    if (const size_t q = rest.find('?'); q != std::string_view::npos) {
        path = rest.substr(0, q);
        const std::string_view query = rest.substr(q + 1);
        if (!query.starts_with("db=")) {
            return BadUrl("the only query parameter of a unix:// URL is db=N");
        }
        OTA_ASSIGN_OR_RETURN(ep.db, ParseDb(query.substr(3)));
    }
    if (!path.starts_with('/') || path.size() < 2) {
        return BadUrl("a unix socket URL must name an absolute path: unix:///PATH");
    }
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        return BadUrl("the unix socket path is too long");
    }
    ep.unix_path = std::string(path);
    return ep;
}

Result<Endpoint> ParseTcpUrl(std::string_view rest) {
    Endpoint ep;
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return BadUrl("a redis:// URL takes no query or fragment");
    }
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        const std::string_view db = rest.substr(slash + 1);
        if (!db.empty()) {
            OTA_ASSIGN_OR_RETURN(ep.db, ParseDb(db));
        }
    }
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view user = authority.substr(0, at);
        if (user.find(':') != std::string_view::npos) {
            return BadUrl(
                "put the password in OTAD_REDIS_PASSWORD or redis.password_file, not in the URL");
        }
        if (user.empty()) {
            return BadUrl("empty user name before '@'");
        }
        ep.username = std::string(user);
        authority = authority.substr(at + 1);
    }
    std::string_view port;
    if (authority.starts_with('[')) {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return BadUrl("unclosed '[' in the host");
        }
        ep.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                return BadUrl("unexpected text after the host");
            }
            port = after.substr(1);
            if (port.empty()) {
                return BadUrl("empty port");
            }
        }
    } else {
        const size_t colon = authority.find(':');
        ep.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (port.find(':') != std::string_view::npos) {
                return BadUrl("an IPv6 host goes in brackets: redis://[::1]:6379");
            }
            if (port.empty()) {
                return BadUrl("empty port");
            }
        }
    }
    if (ep.host.empty()) {
        return BadUrl("no host: redis://HOST[:PORT][/DB]");
    }
    if (!port.empty()) {
        const std::optional<uint64_t> p = text::ParseDigits(port);
        if (!p.has_value() || *p < 1 || *p > 65535) {
            return BadUrl("the port must be a number from 1 to 65535");
        }
        ep.port = static_cast<uint16_t>(*p);
    }
    return ep;
}

timeval ToTimeval(int64_t ms) {
    ms = std::max<int64_t>(1, ms);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    return tv;
}

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

Reply Convert(const redisReply& r) {
    Reply out;
    switch (r.type) {
        case REDIS_REPLY_STATUS:
            out.type = Reply::Type::kStatus;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STRING:
            out.type = Reply::Type::kString;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = Reply::Type::kError;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Type::kInteger;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Type::kArray;
            break;
        default:
            out.type = Reply::Type::kNil;
            break;
    }
    return out;
}

// An idle connection has nothing to read: readable means the server closed it (or sent
// something unexpected), so it is replaced before a command is lost on it.
bool ClosedWhileIdle(int fd) {
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN;
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace

std::string Endpoint::Describe() const {
    std::string s;
    if (!unix_path.empty()) {
        s = "unix:" + unix_path;
    } else {
        s = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        s += ":" + std::to_string(port);
    }
    if (db != 0) {
        s += "/" + std::to_string(db);
    }
    return s;
}

Result<Endpoint> ParseUrl(std::string_view url) {
    if (url.starts_with(kUnixScheme)) {
        return ParseUnixUrl(url.substr(kUnixScheme.size()));
    }
    if (url.starts_with(kTcpScheme)) {
        return ParseTcpUrl(url.substr(kTcpScheme.size()));
    }
    if (url.starts_with("rediss://")) {
        return BadUrl("TLS (rediss://) is not supported");
    }
    return BadUrl("must be redis://HOST[:PORT][/DB] or unix:///PATH[?db=DB]");
}

struct Client::Connection {
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        if (context != nullptr) {
            redisFree(context);
        }
    }

    redisContext* context = nullptr;
    /// After a failure, no attempt to connect before this time.
    SteadyClock::time_point retry_at{};
};

Client::Client(ClientOptions options) : options_(std::move(options)) {
    const size_t n = std::max<size_t>(1, options_.connections);
    connections_.reserve(n);
    idle_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        connections_.push_back(std::make_unique<Connection>());
        idle_.push_back(connections_.back().get());
    }
}

Client::~Client() = default;

Result<Client::Connection*> Client::Take() {
    std::unique_lock lock(mu_);
    if (!freed_.wait_for(lock, std::chrono::milliseconds(options_.command_timeout_ms), [this] {
            return !idle_.empty();
        })) {
        return Error{ErrorCode::kUnavailable,
                     {},
                     {},
                     "redis " + options_.endpoint.Describe() + ": all " +
                         std::to_string(connections_.size()) + " connections are busy"};
    }
    Connection* c = idle_.back();
    idle_.pop_back();
    return c;
}

void Client::Give(Connection* c) {
    {
        std::lock_guard lock(mu_);
        idle_.push_back(c);
    }
    freed_.notify_one();
}

Result<Reply> Client::Command(std::span<const std::string_view> args) {
    if (args.empty() || args.size() > kMaxArgs) {
        return InternalError("a redis command takes 1 to " + std::to_string(kMaxArgs) +
                             " arguments");
    }
    OTA_ASSIGN_OR_RETURN(Connection * c, Take());
    Result<Reply> reply = Run(*c, args);
    Give(c);
    return reply;
}

Status Client::Ping() {
    OTA_ASSIGN_OR_RETURN(const Reply reply, Command({"PING"}));
    if (reply.type != Reply::Type::kStatus || reply.text != "PONG") {
        return Error{ErrorCode::kUnavailable,
                     {},
                     {},
                     "redis " + options_.endpoint.Describe() + " answered PING with " +
                         (reply.type == Reply::Type::kError ? reply.text : "something else")};
    }
    return Ok();
}

Error Client::Fail(Connection& c, const std::string& what) {
    if (c.context != nullptr) {
        redisFree(c.context);
        c.context = nullptr;
    }
    c.retry_at = SteadyClock::now() + std::chrono::milliseconds(options_.reconnect_backoff_ms);
    std::string text = "redis " + options_.endpoint.Describe() + ": " + what;
    if (warn_.Allow()) {
        log::Warn(text + " (connections are retried every " +
                  std::to_string(options_.reconnect_backoff_ms) +
                  " ms; this warning repeats at most every 10 s)");
        announced_down_.store(true, std::memory_order_relaxed);
    }
    return Error{ErrorCode::kUnavailable, {}, {}, std::move(text)};
}

Status Client::Connect(Connection& c) {
    const Endpoint& ep = options_.endpoint;
    const timeval connect_timeout = ToTimeval(options_.connect_timeout_ms);
    redisContext* ctx = ep.unix_path.empty()
                            ? redisConnectWithTimeout(ep.host.c_str(), ep.port, connect_timeout)
                            : redisConnectUnixWithTimeout(ep.unix_path.c_str(), connect_timeout);
    if (ctx == nullptr) {
        return Fail(c, "cannot allocate a connection");
    }
    c.context = ctx;
    if (ctx->err != 0) {
        return Fail(c, std::string("cannot connect: ") + ctx->errstr);
    }
    if (redisSetTimeout(ctx, ToTimeval(options_.command_timeout_ms)) != REDIS_OK) {
        return Fail(c, "cannot set the command timeout");
    }
    // AUTH and SELECT: a connection is usable only once both succeeded.
    auto handshake = [&](std::span<const std::string_view> args, std::string_view what) -> Status {
        std::array<const char*, 3> argv{};
        std::array<size_t, 3> lens{};
        for (size_t i = 0; i < args.size(); ++i) {
            argv[i] = args[i].data();
            lens[i] = args[i].size();
        }
        ReplyPtr reply(static_cast<redisReply*>(
            redisCommandArgv(ctx, static_cast<int>(args.size()), argv.data(), lens.data())));
        if (reply == nullptr) {
            return Fail(c, std::string(what) + " failed: " + ctx->errstr);
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            // Redis's message (e.g. WRONGPASS, NOAUTH) never contains the password.
            return Fail(c, std::string(what) + " refused: " + std::string(reply->str, reply->len));
        }
        return Ok();
    };
    if (!options_.password.empty()) {
        if (ep.username.empty()) {
            const std::array<std::string_view, 2> auth = {"AUTH", options_.password};
            OTA_TRY(handshake(auth, "AUTH"));
        } else {
            const std::array<std::string_view, 3> auth = {"AUTH", ep.username, options_.password};
            OTA_TRY(handshake(auth, "AUTH"));
        }
    }
    if (ep.db != 0) {
        const std::string db = std::to_string(ep.db);
        const std::array<std::string_view, 2> select = {"SELECT", db};
        OTA_TRY(handshake(select, "SELECT"));
    }
    return Ok();
}

Result<Reply> Client::Run(Connection& c, std::span<const std::string_view> args) {
    if (c.context != nullptr && ClosedWhileIdle(c.context->fd)) {
        redisFree(c.context);
        c.context = nullptr;
        c.retry_at = {};
    }
    if (c.context == nullptr) {
        if (SteadyClock::now() < c.retry_at) {
            return Error{ErrorCode::kUnavailable,
                         {},
                         {},
                         "redis " + options_.endpoint.Describe() +
                             ": not connected, waiting before the next attempt"};
        }
        OTA_TRY(Connect(c));
    }
    std::array<const char*, kMaxArgs> argv{};
    std::array<size_t, kMaxArgs> lens{};
    for (size_t i = 0; i < args.size(); ++i) {
        argv[i] = args[i].data();
        lens[i] = args[i].size();
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(c.context, static_cast<int>(args.size()), argv.data(), lens.data())));
    if (reply == nullptr) {
        // Timed out, closed or unreadable: the connection's state is unknown, so it goes.
        return Fail(c, std::string(args[0]) + " failed: " + c.context->errstr);
    }
    if (announced_down_.load(std::memory_order_relaxed) &&
        announced_down_.exchange(false, std::memory_order_relaxed)) {
        log::Info("redis " + options_.endpoint.Describe() + " answers again");
    }
    return Convert(*reply);
}

}  // namespace otad::redis
