#include "http/server.hpp"

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otad::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

/// Bytes asked for per read while a keep-alive connection waits for its next request.
constexpr size_t kIdleReadBytes = 16 * 1024;
/// Room in the read buffer beyond the header limit, for body bytes and pipelined requests.
constexpr size_t kReadBufferSlackBytes = 64 * 1024;
/// After the server decides to close, it stops sending and reads (and discards) what the client
/// still sends, so that the kernel does not reset the connection before the client has read our
/// last response. Bounded in time and bytes.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
/// Shorter linger while the server stops, so that a client that keeps its end open cannot hold
/// up shutdown for long.
constexpr auto kStopLingerTimeout = std::chrono::milliseconds(250);
constexpr size_t kLingerMaxBytes = 1024 * 1024;
/// After drain_timeout, how long Stop() waits for force-closed connections to wind down.
constexpr auto kForceCloseGrace = std::chrono::seconds(2);
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
/// At most one warning per interval about refused connections or failing accepts.
constexpr auto kWarnInterval = std::chrono::seconds(1);
/// Longest path or field written to the access log.
constexpr size_t kMaxLoggedPathChars = 256;
constexpr size_t kMaxLoggedFieldChars = 128;

constexpr std::string_view kJsonContentType = "application/json;charset=utf-8";
constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

/// Bytes read from a file per write of a file response.
constexpr size_t kFileChunkBytes = 64 * 1024;
/// Most bytes of a file body handed to one sendfile(2), so that one large download does not
/// hold its I/O thread while the kernel copies it.
constexpr size_t kSendfileBytes = 1024 * 1024;

/// Writes all of `data` to `fd`; false with errno set on failure.
bool WriteAll(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

/// A request body that is kept in memory up to a threshold and continues in a file beyond it.
/// The file belongs to the body until Release(); a body that still owns its file removes it
/// when destroyed (a request that failed half-way leaves nothing behind).
struct SpoolBody {
    // Beast's Body concept fixes the names value_type and reader.
    class value_type {  // NOLINT(readability-identifier-naming)
      public:
        value_type() = default;
        ~value_type() { Discard(); }
        value_type(value_type&& other) noexcept { *this = std::move(other); }
        value_type& operator=(value_type&& other) noexcept {
            if (this != &other) {
                Discard();
                memory_limit = other.memory_limit;
                spool_dir = std::move(other.spool_dir);
                memory = std::move(other.memory);
                path = std::exchange(other.path, std::string());
                fd = std::exchange(other.fd, -1);
                size = other.size;
                io_failed = other.io_failed;
            }
            return *this;
        }

        /// Gives the file to the caller; returns its path (empty when the body is in memory).
        std::string Release() {
            CloseFile();
            return std::exchange(path, std::string());
        }

        void CloseFile() {
            if (fd >= 0) {
                ::close(fd);
                fd = -1;
            }
        }

        // Set before the body is read.
        size_t memory_limit = 0;
        std::string spool_dir;

        std::string memory;
        std::string path;  ///< the spool file, once there is one
        int fd = -1;
        uint64_t size = 0;
        bool io_failed = false;  ///< the spool file could not be written

      private:
        void Discard() {
            CloseFile();
            if (!path.empty()) {
                ::unlink(path.c_str());
                path.clear();
            }
        }
    };

    class reader {  // NOLINT(readability-identifier-naming)
      public:
        template <bool isRequest, class Fields>
        reader(bhttp::header<isRequest, Fields>& /*header*/, value_type& body) : body_(body) {}

        void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
            ec = {};
            if (length && *length > body_.memory_limit) {
                Spill(ec);
            } else if (length) {
                body_.memory.reserve(static_cast<size_t>(*length));
            }
        }

        template <class ConstBufferSequence>
        size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
            ec = {};
            size_t total = 0;
            for (auto it = asio::buffer_sequence_begin(buffers);
                 it != asio::buffer_sequence_end(buffers);
                 ++it) {
                const asio::const_buffer buffer = *it;
                const char* data = static_cast<const char*>(buffer.data());
                const size_t n = buffer.size();
                if (body_.fd < 0 && body_.memory.size() + n > body_.memory_limit) {
                    Spill(ec);
                    if (ec) {
                        return total;
                    }
                }
                if (body_.fd >= 0) {
                    if (!WriteAll(body_.fd, data, n)) {
                        Fail(ec);
                        return total;
                    }
                } else {
                    body_.memory.append(data, n);
                }
                total += n;
                body_.size += n;
            }
            return total;
        }

        void finish(beast::error_code& ec) { ec = {}; }

      private:
        /// Moves what is in memory into a new file and continues there.
        void Spill(beast::error_code& ec) {
            std::string dir = body_.spool_dir;
            if (dir.empty()) {
                std::error_code fs_ec;
                dir = std::filesystem::temp_directory_path(fs_ec).string();
                if (fs_ec) {
                    dir = "/tmp";
                }
            }
            body_.path = dir + "/body-" + crypto::RandomBase62(20);
            body_.fd = ::open(body_.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (body_.fd < 0) {
                const int saved = errno;
                log::Error("http: cannot create spool file in " + dir + ": " +
                           std::strerror(saved));
                body_.path.clear();
                body_.io_failed = true;
                ec = beast::error_code(saved, boost::system::system_category());
                return;
            }
            if (!WriteAll(body_.fd, body_.memory.data(), body_.memory.size())) {
                Fail(ec);
                return;
            }
            body_.memory.clear();
            body_.memory.shrink_to_fit();
        }

        void Fail(beast::error_code& ec) {
            const int saved = errno;
            log::Error(std::string("http: cannot write spool file: ") + std::strerror(saved));
            body_.io_failed = true;
            ec = beast::error_code(saved, boost::system::system_category());
        }

        value_type& body_;
    };
};

using BeastRequestParser = bhttp::request_parser<SpoolBody>;
using BeastResponse = bhttp::response<bhttp::string_body>;

/// What framing the response and the access log need to know about the request.
struct RequestInfo {
    std::string method = "-";
    std::string path = "-";  ///< without the query, which carries the signature
    unsigned version = 11;   ///< 10 or 11
    bool keep_alive = false;
    SteadyClock::time_point started;
};

/// Makes client-controlled text safe for one log line: no spaces, quotes or control bytes, and
/// bounded length. Empty text becomes "-".
std::string LogSafe(std::string_view text, size_t max_chars) {
    if (text.empty()) {
        return "-";
    }
    std::string out;
    const size_t n = std::min(text.size(), max_chars);
    out.reserve(n + 3);
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out.push_back(c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '?' : text[i]);
    }
    if (text.size() > max_chars) {
        out += "...";
    }
    return out;
}

/// Beast in Boost 1.74 uses boost::string_view.
std::string_view ToStd(beast::string_view text) {
    return {text.data(), text.size()};
}

std::string_view PathOf(std::string_view target) {
    return target.substr(0, target.find('?'));
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    std::string host = address.to_string();
    if (address.is_v6()) {
        host = "[" + host + "]";
    }
    return host + ":" + std::to_string(endpoint.port());
}

HttpResponse SimpleErrorResponse(int status, std::string_view code, std::string_view message) {
    HttpResponse response;
    response.status = status;
    response.content_type = std::string(kJsonContentType);
    response.body = "{\"Code\":\"";
    response.body += code;
    response.body += "\",\"Message\":\"";
    response.body += message;
    response.body += "\"}";
    response.log.code = std::string(code);
    return response;
}

/// Start() failures concern the operator, so the text goes to both message fields.
Error StartError(std::string text) {
    return Error{ErrorCode::kInternal, text, {}, text};
}

HttpResponse InternalErrorResponse() {
    return SimpleErrorResponse(
        500, "InternalError", "The request processing has failed due to some unknown error.");
}

bool IsTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// A header the handler asked for that cannot be sent verbatim would corrupt the response.
bool IsSendableHeader(const HttpHeader& header) {
    if (header.name.empty() || !std::all_of(header.name.begin(), header.name.end(), IsTokenChar)) {
        return false;
    }
    return std::none_of(header.value.begin(), header.value.end(), [](char c) {
        return c == '\r' || c == '\n' || c == '\0';
    });
}

/// Headers whose value the server decides, whatever the handler says.
bool IsServerControlledHeader(std::string_view name) {
    return EqualsIgnoreCase(name, "Content-Length") ||
           EqualsIgnoreCase(name, "Transfer-Encoding") || EqualsIgnoreCase(name, "Connection") ||
           EqualsIgnoreCase(name, "Server");
}

/// Which response, if any, a failed request read deserves. Nothing means: just close.
std::optional<HttpResponse> ResponseForReadError(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        return SimpleErrorResponse(
            431, "RequestHeaderFieldsTooLarge", "The request headers are too large.");
    }
    if (ec == bhttp::error::body_limit) {
        return SimpleErrorResponse(413, "RequestEntityTooLarge", "The request body is too large.");
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
        return std::nullopt;  // the client went away; nobody to answer
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return SimpleErrorResponse(400, "BadRequest", "The HTTP request is malformed.");
    }
    return std::nullopt;  // timeout, reset, shutdown
}

/// Closes a file descriptor when it goes out of scope.
struct FileCloser {
    int fd = -1;
    FileCloser() = default;
    FileCloser(const FileCloser&) = delete;
    FileCloser& operator=(const FileCloser&) = delete;
    ~FileCloser() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

class Session;

/// State shared by the acceptor and all sessions. Server::Impl is this class.
class ServerCore {
  public:
    ServerCore(ServerOptions options, Handler handler)
        : options_(std::move(options)),
          handler_(std::move(handler)),
          accept_strand_(asio::make_strand(ioc_)) {}

    ~ServerCore() { Stop(); }

    Result<uint16_t> Start();
    void Stop();
    void Wait();

    const ServerOptions& options() const { return options_; }
    bool stopping() const { return stopping_.load(); }
    asio::io_context& io_context() { return ioc_; }
    asio::thread_pool& workers() { return *workers_; }

    /// Claims room for one request in the worker queue; false when it is full.
    bool TryReserveWorkerSlot();
    void ReleaseWorkerSlot() { queued_.fetch_sub(1); }

    /// Runs the handler; never throws.
    HttpResponse CallHandler(HttpRequest&& request) noexcept;

    /// Records a session; false (and nothing recorded) when the connection cap is reached.
    bool Register(const std::shared_ptr<Session>& session);
    void Unregister(const Session* session);

  private:
    asio::awaitable<void> AcceptLoop();
    void WarnRateLimited(std::string_view message);
    /// Posts `fn` to every live session's strand.
    template <typename Fn>
    void ForEachSession(Fn fn);

    enum class State { kNew, kRunning, kStopping, kStopped };

    const ServerOptions options_;
    const Handler handler_;

    std::mutex mu_;
    std::condition_variable cv_;
    State state_ = State::kNew;  // guarded by mu_
    // Sessions own themselves (their coroutine holds them); the map only lets Stop() reach
    // them. guarded by mu_
    std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;

    std::atomic<bool> stopping_{false};
    std::atomic<size_t> queued_{0};
    SteadyClock::time_point last_warning_{};  // used by the accept loop only

    std::optional<asio::thread_pool> workers_;
    std::vector<std::thread> io_threads_;
    // Declared after everything that pending handlers may touch: destroying the io_context
    // destroys those handlers, and with them the sessions, which unregister themselves.
    asio::io_context ioc_;
    asio::strand<asio::io_context::executor_type> accept_strand_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::optional<tcp::acceptor> acceptor_;  // used on accept_strand_ while running
};

/// One connection. Runs as a coroutine on its own strand and handles requests one at a time:
/// read, hand to a worker, write, repeat. Pipelined requests wait in the read buffer, which is
/// bounded, so there is no response queue. Shared ownership because both the coroutine and the
/// stop notifications posted by Stop() must keep it alive; nothing else holds it.
class Session {
  public:
    Session(ServerCore& core, tcp::socket socket, std::string remote)
        : core_(core),
          executor_(socket.get_executor()),
          stream_(std::move(socket)),
          buffer_(core.options().max_header_bytes + kReadBufferSlackBytes),
          remote_(std::move(remote)) {}

    ~Session() { core_.Unregister(this); }

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const asio::any_io_executor& executor() const { return executor_; }

    static asio::awaitable<void> Run(std::shared_ptr<Session> self) { co_await self->Serve(); }

    /// On the strand. Closes the connection unless a request is in the handler or being
    /// answered; such a session closes by itself after writing its response.
    void OnServerStop() {
        if (!busy_) {
            stream_.close();
        }
    }

    /// On the strand. Closes the connection whatever it is doing.
    void ForceClose() { stream_.close(); }

  private:
    asio::awaitable<void> Serve();
    asio::awaitable<HttpResponse> RunHandler(HttpRequest request);
    /// Writes the response; returns false if the connection is no longer usable.
    asio::awaitable<bool> WriteResponse(HttpResponse response, const RequestInfo& info);
    asio::awaitable<void> LingerClose();
    /// Waits until the socket can take more bytes, for at most write_timeout
    /// (beast::error::timeout when it does not).
    asio::awaitable<beast::error_code> WaitWritable();

    ServerCore& core_;
    const asio::any_io_executor executor_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    const std::string remote_;
    bool busy_ = false;  // a request is in the handler or its response is being written
};

asio::awaitable<void> Session::Serve() {
    const ServerOptions& options = core_.options();
    beast::error_code ec;
    bool first = true;
    while (!core_.stopping()) {
        if (!first && buffer_.size() == 0) {
            // Between requests: wait for the first byte under the idle deadline, so that the
            // read deadline below measures only the request itself.
            stream_.expires_after(options.idle_timeout);
            const size_t n = co_await stream_.async_read_some(
                buffer_.prepare(kIdleReadBytes), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return;  // closed by the client, idle timeout, or server stop
            }
            buffer_.commit(n);
        }
        first = false;
        RequestInfo info;
        info.started = SteadyClock::now();

        BeastRequestParser parser;
        parser.header_limit(static_cast<std::uint32_t>(
            std::min<size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
        // The real limit is chosen once the headers tell whether this is an upload; until then
        // the parser must not refuse a Content-Length that an upload may have.
        parser.body_limit(options.is_upload ? std::max<std::uint64_t>(options.max_body_bytes,
                                                                      options.max_upload_bytes)
                                            : static_cast<std::uint64_t>(options.max_body_bytes));

        stream_.expires_after(options.read_timeout);
        co_await bhttp::async_read_header(
            stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
        HttpRequest request;
        if (!ec) {
            const auto& header = parser.get();
            request.method = std::string(header.method_string());
            request.target = std::string(header.target());
            request.headers.reserve(
                static_cast<size_t>(std::distance(header.begin(), header.end())));
            for (const auto& field : header) {
                request.headers.push_back(
                    HttpHeader{std::string(field.name_string()), std::string(field.value())});
            }
            request.remote_address = remote_;
        }
        if (!ec && !parser.is_done()) {
            const bool upload = options.is_upload && options.is_upload(request);
            const std::uint64_t limit = upload ? options.max_upload_bytes
                                               : static_cast<std::uint64_t>(options.max_body_bytes);
            if (parser.content_length() && *parser.content_length() > limit) {
                ec = bhttp::error::body_limit;
            } else {
                parser.body_limit(limit);
                SpoolBody::value_type& body = parser.get().body();
                body.memory_limit = upload ? 0 : options.spool_threshold_bytes;
                body.spool_dir = options.spool_dir;
            }
            const auto& header = parser.get();
            if (!ec && header.version() >= 11 &&
                beast::iequals(header[bhttp::field::expect], "100-continue")) {
                co_await asio::async_write(
                    stream_,
                    asio::buffer(kContinueResponse.data(), kContinueResponse.size()),
                    asio::redirect_error(asio::use_awaitable, ec));
            }
            if (!ec && !upload) {
                co_await bhttp::async_read(
                    stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
            } else if (!ec) {
                // Every read must make progress within read_timeout, and the whole body must
                // arrive within upload_timeout.
                const auto deadline = SteadyClock::now() + options.upload_timeout;
                while (!ec && !parser.is_done()) {
                    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - SteadyClock::now());
                    if (left.count() <= 0) {
                        ec = beast::error::timeout;
                        break;
                    }
                    stream_.expires_after(std::min(left, options.read_timeout));
                    co_await bhttp::async_read_some(
                        stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
                }
            }
        }
        if (ec) {
            std::optional<HttpResponse> response = ResponseForReadError(ec);
            if (parser.get().body().io_failed) {
                response = InternalErrorResponse();
            }
            if (!response) {
                co_return;
            }
            // The parser fills method and target together once the request line is valid.
            if (!parser.get().target().empty()) {
                info.method = std::string(parser.get().method_string());
                info.path = std::string(PathOf(ToStd(parser.get().target())));
            }
            // The request was not fully read, so the connection cannot carry another one.
            info.keep_alive = false;
            busy_ = true;
            const bool ok = co_await WriteResponse(std::move(*response), info);
            busy_ = false;
            if (ok) {
                co_await LingerClose();
            }
            co_return;
        }

        const bool keep_alive_requested = parser.get().keep_alive();
        info.version = parser.get().version() == 10 ? 10 : 11;
        SpoolBody::value_type& body = parser.get().body();
        request.body = std::move(body.memory);
        request.body_file = body.Release();
        info.method = request.method;
        info.path = std::string(PathOf(request.target));

        busy_ = true;
        HttpResponse response;
        if (core_.TryReserveWorkerSlot()) {
            response = co_await RunHandler(std::move(request));
        } else {
            if (!request.body_file.empty()) {
                ::unlink(request.body_file.c_str());
            }
            response = SimpleErrorResponse(
                503, "ServiceUnavailable", "The server is overloaded; retry later.");
        }
        info.keep_alive = keep_alive_requested && !core_.stopping();
        const bool ok = co_await WriteResponse(std::move(response), info);
        busy_ = false;
        if (!ok) {
            co_return;
        }
        if (!info.keep_alive) {
            co_await LingerClose();
            co_return;
        }
    }
}

asio::awaitable<HttpResponse> Session::RunHandler(HttpRequest request) {
    // The handler may block, so it runs on the worker pool; its result is handed back to this
    // session's strand, where the coroutine resumes.
    auto initiation = [core = &core_, executor = executor_](auto completion, HttpRequest req) {
        asio::post(
            core->workers(),
            [core, executor, completion = std::move(completion), req = std::move(req)]() mutable {
                const std::string spool_file = req.body_file;
                HttpResponse response = core->CallHandler(std::move(req));
                if (!spool_file.empty()) {
                    ::unlink(spool_file.c_str());
                }
                core->ReleaseWorkerSlot();
                asio::post(
                    executor,
                    [completion = std::move(completion), response = std::move(response)]() mutable {
                        std::move(completion)(std::move(response));
                    });
            });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(HttpResponse)>(
        std::move(initiation), asio::use_awaitable, std::move(request));
}

asio::awaitable<bool> Session::WriteResponse(HttpResponse response, const RequestInfo& info) {
    if (response.status < 200 || response.status > 599) {
        log::Error("http: handler returned invalid status " + std::to_string(response.status));
        response = InternalErrorResponse();
    }
    const bool is_head = info.method == "HEAD";

    // A file body is opened here, before anything is sent, so that a file that cannot be read
    // still gets a proper error response.
    FileCloser file;
    if (!response.body_file.empty() && response.status != 204 && response.status != 304) {
        file.fd = ::open(response.body_file.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st {};
        if (file.fd < 0 || ::fstat(file.fd, &st) != 0 ||
            response.file_offset > static_cast<uint64_t>(st.st_size) ||
            response.file_length > static_cast<uint64_t>(st.st_size) - response.file_offset) {
            log::Error("http: cannot send file body " +
                       LogSafe(response.body_file, kMaxLoggedPathChars) + ": " +
                       (file.fd < 0 ? std::string(std::strerror(errno)) : "shorter than asked"));
            AccessLogFields fields = std::move(response.log);
            response = InternalErrorResponse();
            response.log.request_id = std::move(fields.request_id);
            response.log.action = std::move(fields.action);
        }
    }
    const bool send_file = file.fd >= 0 && !response.body_file.empty();
    const int status = response.status;

    BeastResponse message;
    message.version(11);
    message.result(static_cast<unsigned>(status));
    message.set(bhttp::field::server, "otad");
    if (!response.content_type.empty()) {
        message.set(bhttp::field::content_type, response.content_type);
    }
    for (const HttpHeader& header : response.headers) {
        if (!IsSendableHeader(header)) {
            log::Warn("http: dropping a response header that cannot be sent: " +
                      LogSafe(header.name, kMaxLoggedFieldChars));
            continue;
        }
        if (IsServerControlledHeader(header.name) ||
            (!response.content_type.empty() && EqualsIgnoreCase(header.name, "Content-Type"))) {
            continue;
        }
        message.insert(header.name, header.value);
    }
    uint64_t body_bytes = 0;
    if (status == 204 || status == 304) {
        response.body.clear();
    } else if (send_file) {
        message.content_length(response.file_length);
        if (!is_head) {
            body_bytes = response.file_length;
        }
    } else {
        message.content_length(response.body.size());
        if (!is_head) {
            body_bytes = response.body.size();
            message.body() = std::move(response.body);
        }
    }
    message.keep_alive(info.keep_alive);
    if (info.keep_alive && info.version == 10) {
        // An HTTP/1.0 client assumes close unless told otherwise.
        message.set(bhttp::field::connection, "keep-alive");
    }

    beast::error_code ec;
    stream_.expires_after(core_.options().write_timeout);
    if (!send_file) {
        co_await bhttp::async_write(
            stream_, message, asio::redirect_error(asio::use_awaitable, ec));
    } else {
        bhttp::response_serializer<bhttp::string_body> serializer(message);
        co_await bhttp::async_write_header(
            stream_, serializer, asio::redirect_error(asio::use_awaitable, ec));
        // The kernel copies the file to the socket (sendfile), in bounded pieces; whenever the
        // socket is full, it must become writable again within write_timeout, so a large file
        // only needs a steady reader, not a fast one.
        if (!ec) {
            stream_.socket().native_non_blocking(true, ec);
        }
        uint64_t offset = response.file_offset;
        uint64_t left = body_bytes;
        while (!ec && left > 0) {
            auto at = static_cast<off_t>(offset);
            const ssize_t n =
                ::sendfile(stream_.socket().native_handle(),
                           file.fd,
                           &at,
                           static_cast<size_t>(std::min<uint64_t>(kSendfileBytes, left)));
            if (n > 0) {
                offset += static_cast<uint64_t>(n);
                left -= static_cast<uint64_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                ec = co_await WaitWritable();
            } else if (n == 0) {
                // The length is promised already; all that can be done is to cut the
                // connection so that the client sees a short body.
                log::Error("http: file body ended early: " +
                           LogSafe(response.body_file, kMaxLoggedPathChars));
                ec = asio::error::broken_pipe;
            } else {
                ec = beast::error_code(errno, boost::system::system_category());
            }
        }
    }

    const auto latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - info.started)
            .count();
    const AccessLogFields& fields = response.log;
    log::Info("access " + remote_ + " \"" + LogSafe(info.method, kMaxLoggedFieldChars) + " " +
              LogSafe(info.path, kMaxLoggedPathChars) + "\" " + std::to_string(status) + " " +
              std::to_string(body_bytes) + " " + std::to_string(latency_ms) +
              "ms rid=" + LogSafe(fields.request_id, kMaxLoggedFieldChars) +
              " action=" + LogSafe(fields.action, kMaxLoggedFieldChars) +
              " ak=" + LogSafe(fields.access_key_id, kMaxLoggedFieldChars) +
              " code=" + LogSafe(fields.code, kMaxLoggedFieldChars) +
              (ec ? " write_error=" + LogSafe(ec.message(), kMaxLoggedFieldChars) : ""));
    co_return !ec;
}

asio::awaitable<beast::error_code> Session::WaitWritable() {
    // The timer's handler runs on this session's strand, like the coroutine; `done` keeps a
    // handler that was already queued when the wait ended from touching the socket.
    struct Race {
        bool done = false;
        bool expired = false;
    };
    auto race = std::make_shared<Race>();
    tcp::socket& socket = stream_.socket();
    asio::steady_timer timer(executor_, core_.options().write_timeout);
    timer.async_wait([race, &socket](const beast::error_code& e) {
        if (!e && !race->done) {
            race->expired = true;
            beast::error_code ignored;
            socket.cancel(ignored);
        }
    });
    beast::error_code ec;
    co_await socket.async_wait(tcp::socket::wait_write,
                               asio::redirect_error(asio::use_awaitable, ec));
    race->done = true;
    timer.cancel();
    if (race->expired) {
        ec = beast::error::timeout;
    }
    co_return ec;
}

asio::awaitable<void> Session::LingerClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
        co_return;
    }
    if (core_.stopping()) {
        stream_.expires_after(kStopLingerTimeout);
    } else {
        stream_.expires_after(kLingerTimeout);
    }
    buffer_.consume(buffer_.size());
    size_t drained = 0;
    while (drained < kLingerMaxBytes) {
        // Read into the same scratch space each time; nothing is committed.
        const size_t n = co_await stream_.async_read_some(
            buffer_.prepare(kIdleReadBytes), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            break;
        }
        drained += n;
    }
    stream_.close();
}

Result<uint16_t> ServerCore::Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kNew) {
        return StartError("http server already started or stopped");
    }
    const ServerOptions& o = options_;
    if (o.io_threads < 1 || o.worker_threads < 1 || o.max_connections == 0 ||
        o.max_queued_requests == 0 || o.max_header_bytes == 0 || o.read_timeout.count() <= 0 ||
        o.idle_timeout.count() <= 0 || o.write_timeout.count() <= 0 ||
        o.drain_timeout.count() < 0) {
        return StartError("invalid http server options");
    }

    const std::string where = o.host + ":" + std::to_string(o.port);
    beast::error_code ec;
    tcp::endpoint endpoint;
    const asio::ip::address address = asio::ip::make_address(o.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, o.port);
    } else {
        tcp::resolver resolver(ioc_);
        const auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
        if (ec || results.empty()) {
            return StartError("cannot resolve " + where + ": " +
                              (ec ? ec.message() : std::string("no address")));
        }
        endpoint = results.begin()->endpoint();
    }

    tcp::acceptor acceptor(ioc_);
    auto fail = [&](std::string_view step) {
        return StartError(std::string(step) + " " + where + ": " + ec.message());
    };
    if (acceptor.open(endpoint.protocol(), ec); ec) {
        return fail("open");
    }
    if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
        return fail("setsockopt");
    }
    if (acceptor.bind(endpoint, ec); ec) {
        return fail("bind");
    }
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return fail("listen");
    }
    const tcp::endpoint bound = acceptor.local_endpoint(ec);
    if (ec) {
        return fail("getsockname");
    }
    acceptor_.emplace(std::move(acceptor));

    workers_.emplace(static_cast<size_t>(o.worker_threads));
    work_.emplace(asio::make_work_guard(ioc_));
    asio::co_spawn(accept_strand_, AcceptLoop(), [](std::exception_ptr e) {
        if (e) {
            log::Error("http: accept loop ended by an exception");
        }
    });
    for (int i = 0; i < o.io_threads; ++i) {
        io_threads_.emplace_back([this] {
            for (;;) {
                try {
                    ioc_.run();
                    return;
                } catch (const std::exception& e) {
                    log::Error(std::string("http: exception on an I/O thread: ") + e.what());
                }
            }
        });
    }
    state_ = State::kRunning;
    log::Info("http: listening on " + FormatEndpoint(bound));
    return bound.port();
}

template <typename Fn>
void ServerCore::ForEachSession(Fn fn) {
    // Collect first and post outside the lock: the last reference to a session may be dropped
    // here, and its destructor takes mu_.
    std::vector<std::shared_ptr<Session>> live;
    {
        std::lock_guard<std::mutex> lock(mu_);
        live.reserve(sessions_.size());
        for (const auto& entry : sessions_) {
            if (std::shared_ptr<Session> session = entry.second.lock()) {
                live.push_back(std::move(session));
            }
        }
    }
    for (std::shared_ptr<Session>& session : live) {
        asio::post(session->executor(), [session, fn] { fn(*session); });
    }
}

void ServerCore::Stop() {
    {
        std::unique_lock<std::mutex> lock(mu_);
        switch (state_) {
            case State::kNew:
                state_ = State::kStopped;
                cv_.notify_all();
                return;
            case State::kStopping:
                cv_.wait(lock, [this] { return state_ == State::kStopped; });
                return;
            case State::kStopped:
                return;
            case State::kRunning:
                state_ = State::kStopping;
                break;
        }
    }
    log::Info("http: stopping");
    stopping_.store(true);
    asio::post(accept_strand_, [this] {
        beast::error_code ec;
        acceptor_->close(ec);
    });
    ForEachSession([](Session& s) { s.OnServerStop(); });

    bool drained = false;
    {
        std::unique_lock<std::mutex> lock(mu_);
        drained = cv_.wait_for(lock, options_.drain_timeout, [this] { return sessions_.empty(); });
        if (!drained) {
            log::Warn("http: closing " + std::to_string(sessions_.size()) +
                      " connections still busy after the drain timeout");
        }
    }
    if (!drained) {
        ForEachSession([](Session& s) { s.ForceClose(); });
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, kForceCloseGrace, [this] { return sessions_.empty(); });
    }

    // Handlers still running are waited for here; their results find closed connections.
    workers_->join();
    work_.reset();
    ioc_.stop();
    for (std::thread& t : io_threads_) {
        t.join();
    }
    io_threads_.clear();
    beast::error_code ec;
    acceptor_->close(ec);

    std::lock_guard<std::mutex> lock(mu_);
    state_ = State::kStopped;
    cv_.notify_all();
    log::Info("http: stopped");
}

void ServerCore::Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return state_ == State::kStopped; });
}

bool ServerCore::TryReserveWorkerSlot() {
    size_t current = queued_.load();
    do {
        if (current >= options_.max_queued_requests) {
            return false;
        }
    } while (!queued_.compare_exchange_weak(current, current + 1));
    return true;
}

HttpResponse ServerCore::CallHandler(HttpRequest&& request) noexcept {
    try {
        return handler_(std::move(request));
    } catch (const std::exception& e) {
        log::Error(std::string("http: handler threw: ") + e.what());
    } catch (...) {
        log::Error("http: handler threw a non-standard exception");
    }
    return InternalErrorResponse();
}

bool ServerCore::Register(const std::shared_ptr<Session>& session) {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() >= options_.max_connections) {
        return false;
    }
    sessions_.emplace(session.get(), session);
    return true;
}

void ServerCore::Unregister(const Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.erase(session) > 0 && sessions_.empty()) {
        cv_.notify_all();
    }
}

void ServerCore::WarnRateLimited(std::string_view message) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (last_warning_ == SteadyClock::time_point{} || now - last_warning_ >= kWarnInterval) {
        last_warning_ = now;
        log::Warn(message);
    }
}

asio::awaitable<void> ServerCore::AcceptLoop() {
    asio::steady_timer retry_timer(accept_strand_);
    for (;;) {
        beast::error_code ec;
        // Each connection gets its own strand, so sessions may run on any I/O thread.
        tcp::socket socket(asio::make_strand(ioc_));
        co_await acceptor_->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (stopping_.load() || ec == asio::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            WarnRateLimited("http: accept failed: " + ec.message());
            retry_timer.expires_after(kAcceptRetryDelay);
            co_await retry_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        const tcp::endpoint remote = socket.remote_endpoint(ec);
        if (ec) {
            continue;  // already gone; the socket closes here
        }
        socket.set_option(tcp::no_delay(true), ec);
        auto session = std::make_shared<Session>(*this, std::move(socket), FormatEndpoint(remote));
        if (!Register(session)) {
            // Dropping the session closes the socket at once.
            WarnRateLimited("http: connection limit of " +
                            std::to_string(options_.max_connections) +
                            " reached; refusing connections");
            continue;
        }
        asio::co_spawn(session->executor(), Session::Run(session), [](std::exception_ptr e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::Error(std::string("http: connection ended by an exception: ") + ex.what());
            } catch (...) {
                log::Error("http: connection ended by a non-standard exception");
            }
        });
    }
}

}  // namespace

class Server::Impl : public ServerCore {
  public:
    using ServerCore::ServerCore;
};

Status LoadSpooledBody(HttpRequest& request, size_t max_bytes) {
    if (request.body_file.empty()) {
        return Ok();
    }
    const int fd = ::open(request.body_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return InternalError("cannot open spooled body: " + std::string(std::strerror(errno)));
    }
    FileCloser closer;
    closer.fd = fd;
    std::string body;
    char buffer[kFileChunkBytes];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return InternalError("cannot read spooled body: " + std::string(std::strerror(errno)));
        }
        if (n == 0) {
            break;
        }
        if (body.size() + static_cast<size_t>(n) > max_bytes) {
            return MakeError(ErrorCode::kBadRequest, "The request body is too large.");
        }
        body.append(buffer, static_cast<size_t>(n));
    }
    request.body = std::move(body);
    return Ok();
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

Result<uint16_t> Server::Start() {
    return impl_->Start();
}

void Server::Stop() {
    impl_->Stop();
}

void Server::Wait() {
    impl_->Wait();
}

}  // namespace otad::http
