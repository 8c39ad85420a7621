#pragma once

#include "common/http_message.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

// HTTP/1.1 front end. This header deliberately includes no Boost: the network code lives in
// server.cpp so that modules which only start a server compile quickly.

namespace otad::http {

/// Every limit the server enforces. All of them are finite; zero is not "unlimited".
struct ServerOptions {
    /// Address to bind; a literal IPv4/IPv6 address or a resolvable host name.
    std::string host = "127.0.0.1";
    /// Port to bind; 0 lets the kernel pick a free one (Start() returns it).
    uint16_t port = 0;
    /// Request line plus headers. Larger requests get 431 and the connection is closed.
    size_t max_header_bytes = 16 * 1024;
    /// De-chunked body. Larger bodies get 413 and the connection is closed.
    size_t max_body_bytes = 8 * 1024 * 1024;
    /// The whole request (headers and body) must arrive within this, measured from the first
    /// byte of the request (or from accept for the first request of a connection).
    std::chrono::milliseconds read_timeout{30000};
    /// How long a keep-alive connection may sit between requests before it is closed.
    std::chrono::milliseconds idle_timeout{60000};
    /// The whole response must be written within this.
    std::chrono::milliseconds write_timeout{30000};
    /// Open connections. Connections beyond this are accepted and closed at once.
    size_t max_connections = 1024;
    /// Threads doing network I/O. They never run the handler.
    int io_threads = 1;
    /// Threads running the handler, which may block.
    int worker_threads = 4;
    /// Requests handed to the workers and not yet answered. Beyond this the server answers 503
    /// at once instead of queueing.
    size_t max_queued_requests = 4096;
    /// How long Stop() waits for in-flight requests before closing their connections anyway.
    std::chrono::milliseconds drain_timeout{10000};

    /// Bodies up to this size are kept in memory (HttpRequest::body); a larger body continues in
    /// a file under spool_dir (HttpRequest::body_file).
    size_t spool_threshold_bytes = 1024 * 1024;
    /// Directory for spooled bodies; empty means the system's temporary directory.
    std::string spool_dir;
    /// Tells from the request line and headers (the body is not read yet; HttpRequest::body is
    /// empty) whether a request is an upload. An upload's body always goes to a file, may be up
    /// to max_upload_bytes, and may take up to upload_timeout to arrive as long as every read
    /// makes progress within read_timeout. Empty: no request is an upload.
    std::function<bool(const HttpRequest&)> is_upload;
    /// Body limit of uploads (413 above it).
    uint64_t max_upload_bytes = uint64_t{1000} * 1024 * 1024;
    /// The whole upload must arrive within this.
    std::chrono::milliseconds upload_timeout{3'600'000};
};

/// Moves a spooled body (HttpRequest::body_file) into HttpRequest::body, for handlers that need
/// it in memory. Does nothing when the body is not spooled. Fails with kInternal when the file
/// cannot be read, and with kBadRequest when it is larger than `max_bytes`. The file itself is
/// left for the server to remove.
Status LoadSpooledBody(HttpRequest& request, size_t max_bytes);

/// Produces the response for one request. Runs on a worker thread and may block (database).
/// Exceptions are caught by the server, logged and answered with 500. Must be safe to call
/// from several worker threads at once.
using Handler = std::function<HttpResponse(HttpRequest&&)>;

/// An HTTP/1.1 server with keep-alive, chunked request bodies, bodies spooled to files, file
/// responses and an access log line per request. Responses always carry Content-Length.
///
/// Thread safety: Start, Stop and Wait may be called from any thread except the server's own
/// I/O and worker threads (in particular, never from inside the handler).
class Server {
  public:
    Server(ServerOptions options, Handler handler);
    /// Calls Stop().
    ~Server();

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds (with SO_REUSEADDR), listens and starts the threads. Returns the bound port.
    /// Fails with ErrorCode::kInternal when the address cannot be resolved or bound, or when
    /// the server was already started or stopped; nothing is left running in that case.
    Result<uint16_t> Start();

    /// Graceful shutdown: stops accepting, closes idle keep-alive connections and connections
    /// still receiving a request, lets requests already in the handler finish and have their
    /// responses written (with `Connection: close`), then joins all threads. Connections still
    /// busy after drain_timeout are closed. A handler that never returns blocks Stop().
    /// Idempotent; concurrent callers all return once shutdown is complete.
    void Stop();

    /// Blocks until Stop() has finished (returns at once if it already has).
    void Wait();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace otad::http
