#include "http/server.hpp"

#include "common/error.hpp"
#include "common/testing/loopback.hpp"
#include "common/testing/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace otad::http {
namespace {

using namespace std::chrono_literals;

/// Generous bound for anything a test waits on; only reached when something is broken.
constexpr auto kClientTimeout = 10s;

std::string Lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

struct ParsedResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    std::string Header(const std::string& name) const {
        auto it = headers.find(Lower(name));
        return it == headers.end() ? std::string() : it->second;
    }
    bool Has(const std::string& name) const { return headers.count(Lower(name)) > 0; }
};

/// A blocking TCP client that speaks just enough HTTP/1.1 to check the server.
class Client {
  public:
    explicit Client(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) {
            throw std::runtime_error("socket failed");
        }
        timeval tv{};
        tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kClientTimeout).count();
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        sockaddr_in addr = loopback::LoopbackAddress(port);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            ::close(fd_);
            throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
        }
    }
    ~Client() { Close(); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void Close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    /// False if the peer has closed or reset the connection.
    bool Send(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    /// Reads one response; nothing if the connection closed first.
    std::optional<ParsedResponse> Read() { return ReadImpl(BodyMode::kRead); }
    /// Reads the status line and headers only (HEAD responses, interim responses).
    std::optional<ParsedResponse> ReadHeadOnly() { return ReadImpl(BodyMode::kSkip); }

    /// True once the server has closed the connection (EOF or reset) and sent nothing more.
    bool WaitForClose() {
        while (Fill()) {
        }
        return closed_;
    }

    const std::string& Unread() const { return buffer_; }

  private:
    enum class BodyMode { kRead, kSkip };

    std::optional<ParsedResponse> ReadImpl(BodyMode mode) {
        size_t header_end;
        while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!Fill()) {
                return std::nullopt;
            }
        }
        ParsedResponse response;
        const std::string head_text = buffer_.substr(0, header_end);
        buffer_.erase(0, header_end + 4);
        size_t line_end = head_text.find("\r\n");
        const std::string status_line = head_text.substr(0, line_end);
        response.status = std::stoi(status_line.substr(9, 3));
        while (line_end != std::string::npos) {
            const size_t start = line_end + 2;
            line_end = head_text.find("\r\n", start);
            const std::string line = head_text.substr(start, line_end - start);
            const size_t colon = line.find(':');
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            response.headers[Lower(line.substr(0, colon))] = value;
        }
        if (mode == BodyMode::kSkip) {
            return response;
        }
        const size_t length = static_cast<size_t>(std::stoul(response.Header("Content-Length")));
        while (buffer_.size() < length) {
            if (!Fill()) {
                return std::nullopt;
            }
        }
        response.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        return response;
    }

    bool Fill() {
        char chunk[4096];
        const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<size_t>(n));
            return true;
        }
        closed_ = n == 0 || errno == ECONNRESET;
        return false;
    }

    int fd_ = -1;
    std::string buffer_;
    bool closed_ = false;
};

std::string Get(const std::string& target, const std::string& extra_headers = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

/// Echoes the request: method, target, header names and remote address in response headers,
/// the body as the body.
HttpResponse Echo(HttpRequest&& request) {
    HttpResponse response;
    response.content_type = "text/plain";
    std::string names;
    for (const HttpHeader& h : request.headers) {
        names += (names.empty() ? "" : ",") + h.name;
    }
    response.headers = {{"X-Echo-Method", request.method},
                        {"X-Echo-Target", request.target},
                        {"X-Echo-Headers", names},
                        {"X-Echo-Remote", request.remote_address}};
    if (const std::string* custom = request.FindHeader("x-custom")) {
        response.headers.push_back({"X-Echo-Custom", *custom});
    }
    response.body = std::move(request.body);
    response.log.action = "Echo";
    return response;
}

class HttpServerTest : public ::testing::Test {
  protected:
    void StartServer(ServerOptions options, Handler handler = Echo) {
        server_ = std::make_unique<Server>(std::move(options), std::move(handler));
        Result<uint16_t> port = server_->Start();
        ASSERT_TRUE(port.ok()) << port.error().message;
        port_ = *port;
    }
    void TearDown() override {
        if (server_) {
            server_->Stop();
        }
    }

    std::unique_ptr<Server> server_;
    uint16_t port_ = 0;
};

TEST_F(HttpServerTest, PortZeroReturnsARealPort) {
    StartServer({});
    EXPECT_NE(port_, 0);
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, GetPassesMethodTargetAndHeadersAsSent) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/?Action=Foo&Name=a%20b", "x-Custom: hello\r\n")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("X-Echo-Method"), "GET");
    EXPECT_EQ(response->Header("X-Echo-Target"), "/?Action=Foo&Name=a%20b");
    EXPECT_EQ(response->Header("X-Echo-Headers"), "Host,x-Custom");
    EXPECT_EQ(response->Header("X-Echo-Custom"), "hello");
    EXPECT_EQ(response->Header("X-Echo-Remote").rfind("127.0.0.1:", 0), 0u);
    EXPECT_EQ(response->Header("Content-Length"), "0");
    EXPECT_EQ(response->Header("Content-Type"), "text/plain");
    EXPECT_EQ(response->Header("Server"), "otad");
    EXPECT_FALSE(response->Has("Transfer-Encoding"));
}

TEST_F(HttpServerTest, PostWithContentLength) {
    StartServer({});
    Client client(port_);
    const std::string body = "Action=Foo&Bar=baz";
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("X-Echo-Method"), "POST");
    EXPECT_EQ(response->body, body);
    EXPECT_EQ(response->Header("Content-Length"), std::to_string(body.size()));
}

TEST_F(HttpServerTest, PostWithChunkedBodyInSeveralPieces) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(
        client.Send("POST /?x=1 HTTP/1.1\r\nhost: 127.0.0.1:1234\r\ntransfer-encoding: chunked\r\n"
                    "content-type: application/x-www-form-urlencoded\r\n\r\n"));
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(client.Send("7\r\nAction="));
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(client.Send("\r\n"));
    ASSERT_TRUE(client.Send("3;ext=1\r\nFoo\r\n"));
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(client.Send("a\r\n&Bar=12345\r\n0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "Action=Foo&Bar=12345");
    EXPECT_FALSE(response->Has("Transfer-Encoding"));
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/one", "Connection: keep-alive\r\n")));
    auto first = client.Read();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->Header("X-Echo-Target"), "/one");
    EXPECT_NE(Lower(first->Header("Connection")), "close");

    ASSERT_TRUE(client.Send(Get("/two")));
    auto second = client.Read();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->Header("X-Echo-Target"), "/two");

    // Pipelined: three requests in one write, answered in order.
    ASSERT_TRUE(client.Send(
        Get("/a") + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" + Get("/c")));
    auto a = client.Read();
    auto b = client.Read();
    auto c = client.Read();
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->Header("X-Echo-Target"), "/a");
    EXPECT_EQ(b->Header("X-Echo-Target"), "/b");
    EXPECT_EQ(b->body, "xyz");
    EXPECT_EQ(c->Header("X-Echo-Target"), "/c");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/", "Connection: close\r\n")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(Lower(response->Header("Connection")), "close");
    EXPECT_TRUE(client.WaitForClose());
}

TEST_F(HttpServerTest, Http10WithoutKeepAliveIsClosed) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(client.WaitForClose());
}

TEST_F(HttpServerTest, Http10KeepAliveIsConfirmed) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(client.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto first = client.Read();
    ASSERT_TRUE(first);
    EXPECT_EQ(Lower(first->Header("Connection")), "keep-alive");
    ASSERT_TRUE(client.Send("GET /b HTTP/1.0\r\n\r\n"));
    auto second = client.Read();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->Header("X-Echo-Target"), "/b");
    EXPECT_TRUE(client.WaitForClose());
}

TEST_F(HttpServerTest, HeadSendsLengthButNoBody) {
    StartServer({}, [](HttpRequest&&) {
        HttpResponse response;
        response.body = "0123456789";
        return response;
    });
    Client client(port_);
    ASSERT_TRUE(client.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto head = client.ReadHeadOnly();
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->Header("Content-Length"), "10");
    // Had the body been sent, it would show up in front of the next response.
    ASSERT_TRUE(client.Send(Get("/")));
    auto next = client.Read();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->body, "0123456789");
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponse) {
    StartServer({});
    Client client(port_);
    ASSERT_TRUE(client.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    auto interim = client.ReadHeadOnly();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(client.Send("hello"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello");
}

TEST_F(HttpServerTest, HeaderTooLargeGets431AndClose) {
    ServerOptions options;
    options.max_header_bytes = 1024;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/", "X-Big: " + std::string(4000, 'a') + "\r\n")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 431);
    EXPECT_EQ(Lower(response->Header("Connection")), "close");
    EXPECT_TRUE(client.WaitForClose());
}

TEST_F(HttpServerTest, HeaderJustUnderTheLimitIsAccepted) {
    ServerOptions options;
    options.max_header_bytes = 1024;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/", "X-Big: " + std::string(800, 'a') + "\r\n")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, BodyTooLargeWithContentLengthGets413) {
    ServerOptions options;
    options.max_body_bytes = 1024;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" +
                            std::string(4096, 'b')));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_NE(response->body.find("\"Code\""), std::string::npos);
    EXPECT_TRUE(client.WaitForClose());
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
    ServerOptions options;
    options.max_body_bytes = 1024;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" +
                            std::string(1024, 'b')));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.size(), 1024u);
}

TEST_F(HttpServerTest, BodyTooLargeWhenChunkedGets413) {
    ServerOptions options;
    options.max_body_bytes = 1024;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::string chunks;
    for (int i = 0; i < 6; ++i) {
        chunks += "100\r\n" + std::string(256, 'c') + "\r\n";
    }
    // The server may close before everything is sent; that is fine.
    (void)client.Send(chunks + "0\r\n\r\n");
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.WaitForClose());
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
    StartServer({});
    {
        Client client(port_);
        ASSERT_TRUE(client.Send("this is not http\r\n\r\n"));
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 400);
        EXPECT_TRUE(client.WaitForClose());
    }
    {
        Client client(port_);
        ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"));
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 400);
        EXPECT_TRUE(client.WaitForClose());
    }
    {
        Client client(port_);
        ASSERT_TRUE(client.Send(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"));
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 400);
        EXPECT_TRUE(client.WaitForClose());
    }
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
    ServerOptions options;
    options.idle_timeout = 200ms;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/")));
    ASSERT_TRUE(client.Read());
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.WaitForClose());
    EXPECT_LT(std::chrono::steady_clock::now() - start, kClientTimeout);
}

TEST_F(HttpServerTest, SlowRequestIsCutOffByTheReadDeadline) {
    ServerOptions options;
    options.read_timeout = 200ms;
    StartServer(options);
    Client client(port_);
    ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finished
    EXPECT_TRUE(client.WaitForClose());
    EXPECT_TRUE(client.Unread().empty());
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500AndConnectionSurvives) {
    StartServer({}, [](HttpRequest&& request) -> HttpResponse {
        if (request.target == "/throw") {
            throw std::runtime_error("boom");
        }
        return Echo(std::move(request));
    });
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/throw")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 500);
    EXPECT_NE(response->body.find("\"Code\":\"InternalError\""), std::string::npos);
    EXPECT_EQ(response->body.find("boom"), std::string::npos);

    ASSERT_TRUE(client.Send(Get("/fine")));
    auto next = client.Read();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServerTest, UnsendableHandlerHeadersAreDropped) {
    StartServer({}, [](HttpRequest&&) {
        HttpResponse response;
        response.headers = {{"X-Good", "1"},
                            {"X-Bad", "a\r\nX-Injected: 1"},
                            {"Bad Name", "x"},
                            {"Content-Length", "999"},
                            {"Connection", "close"}};
        response.body = "abc";
        return response;
    });
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("X-Good"), "1");
    EXPECT_FALSE(response->Has("X-Bad"));
    EXPECT_FALSE(response->Has("X-Injected"));
    EXPECT_EQ(response->Header("Content-Length"), "3");
    EXPECT_NE(Lower(response->Header("Connection")), "close");
    EXPECT_EQ(response->body, "abc");
}

TEST_F(HttpServerTest, InvalidStatusFromHandlerBecomes500) {
    StartServer({}, [](HttpRequest&&) {
        HttpResponse response;
        response.status = 42;
        return response;
    });
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 500);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheCapAreClosed) {
    ServerOptions options;
    options.max_connections = 2;
    StartServer(options);
    auto c1 = std::make_unique<Client>(port_);
    Client c2(port_);
    ASSERT_TRUE(c1->Send(Get("/")));
    ASSERT_TRUE(c1->Read());
    ASSERT_TRUE(c2.Send(Get("/")));
    ASSERT_TRUE(c2.Read());

    Client c3(port_);
    (void)c3.Send(Get("/"));
    EXPECT_TRUE(c3.WaitForClose());
    EXPECT_TRUE(c3.Unread().empty());

    // Once a slot frees up, new connections are served again.
    c1.reset();
    bool served = false;
    const auto deadline = std::chrono::steady_clock::now() + kClientTimeout;
    while (!served && std::chrono::steady_clock::now() < deadline) {
        Client c4(port_);
        if (c4.Send(Get("/")) && c4.Read()) {
            served = true;
        } else {
            std::this_thread::sleep_for(20ms);
        }
    }
    EXPECT_TRUE(served);
}

/// Lets a test hold handlers inside the server until it releases them.
class Gate {
  public:
    void Enter() {
        std::unique_lock<std::mutex> lock(mu_);
        ++entered_;
        cv_.notify_all();
        cv_.wait(lock, [this] { return open_; });
    }
    bool WaitEntered(int count) {
        std::unique_lock<std::mutex> lock(mu_);
        return cv_.wait_for(lock, kClientTimeout, [&] { return entered_ >= count; });
    }
    void Open() {
        std::lock_guard<std::mutex> lock(mu_);
        open_ = true;
        cv_.notify_all();
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    int entered_ = 0;
    bool open_ = false;
};

TEST_F(HttpServerTest, FullWorkerQueueAnswers503) {
    auto gate = std::make_shared<Gate>();
    ServerOptions options;
    options.worker_threads = 1;
    options.max_queued_requests = 1;
    StartServer(options, [gate](HttpRequest&& request) {
        gate->Enter();
        return Echo(std::move(request));
    });
    Client busy(port_);
    ASSERT_TRUE(busy.Send(Get("/slow")));
    ASSERT_TRUE(gate->WaitEntered(1));

    Client rejected(port_);
    ASSERT_TRUE(rejected.Send(Get("/")));
    auto response = rejected.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 503);

    gate->Open();
    auto slow = busy.Read();
    ASSERT_TRUE(slow);
    EXPECT_EQ(slow->status, 200);
}

TEST_F(HttpServerTest, StopDeliversInFlightResponseAndClosesIdleConnections) {
    auto gate = std::make_shared<Gate>();
    StartServer({}, [gate](HttpRequest&& request) {
        if (request.target == "/slow") {
            gate->Enter();
        }
        return Echo(std::move(request));
    });
    Client idle(port_);
    ASSERT_TRUE(idle.Send(Get("/")));
    ASSERT_TRUE(idle.Read());

    Client busy(port_);
    ASSERT_TRUE(busy.Send(Get("/slow")));
    ASSERT_TRUE(gate->WaitEntered(1));

    auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
    EXPECT_TRUE(idle.WaitForClose());
    EXPECT_EQ(stopped.wait_for(100ms), std::future_status::timeout);  // still draining

    gate->Open();
    auto response = busy.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("X-Echo-Target"), "/slow");
    EXPECT_EQ(Lower(response->Header("Connection")), "close");
    EXPECT_TRUE(busy.WaitForClose());
    ASSERT_EQ(stopped.wait_for(kClientTimeout), std::future_status::ready);

    server_->Wait();  // returns at once after Stop
    server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopGivesUpOnABusyConnectionAfterTheDrainTimeout) {
    auto gate = std::make_shared<Gate>();
    ServerOptions options;
    options.drain_timeout = 100ms;
    StartServer(options, [gate](HttpRequest&& request) {
        gate->Enter();
        return Echo(std::move(request));
    });
    Client busy(port_);
    ASSERT_TRUE(busy.Send(Get("/slow")));
    ASSERT_TRUE(gate->WaitEntered(1));

    auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
    EXPECT_TRUE(busy.WaitForClose());  // force-closed, no response
    gate->Open();                      // Stop still waits for the handler to return
    ASSERT_EQ(stopped.wait_for(kClientTimeout), std::future_status::ready);
}

TEST_F(HttpServerTest, WaitReturnsAfterStopFromAnotherThread) {
    StartServer({});
    std::thread stopper([this] {
        std::this_thread::sleep_for(50ms);
        server_->Stop();
    });
    server_->Wait();
    stopper.join();
}

TEST_F(HttpServerTest, StartFailsWhenThePortIsTaken) {
    StartServer({});
    ServerOptions options;
    options.port = port_;
    Server second(options, Echo);
    Result<uint16_t> result = second.Start();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kInternal);
    EXPECT_FALSE(result.error().message.empty());
}

TEST_F(HttpServerTest, StartTwiceFails) {
    StartServer({});
    EXPECT_FALSE(server_->Start().ok());
}

TEST_F(HttpServerTest, StopWithoutStartIsFine) {
    Server server({}, Echo);
    server.Stop();
    server.Wait();
    EXPECT_FALSE(server.Start().ok());
}

TEST_F(HttpServerTest, SeveralIoAndWorkerThreadsServeConcurrentClients) {
    ServerOptions options;
    options.io_threads = 2;
    options.worker_threads = 3;
    StartServer(options);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            Client client(port_);
            for (int i = 0; i < 20; ++i) {
                const std::string body = std::to_string(t) + "-" + std::to_string(i);
                if (!client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body)) {
                    return;
                }
                auto response = client.Read();
                if (response && response->body == body) {
                    ok.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 8 * 20);
}

// ---- Spooled request bodies and file responses ---------------------------------------------

/// A fresh directory for spool and response files, removed at the end.
class TempDir : public test_support::TempDir {
  public:
    std::string str() const { return path().string(); }
    size_t FileCount() const {
        return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(path()),
                                                 std::filesystem::directory_iterator()));
    }
};

std::string ReadWholeFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void WriteWholeFile(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
}

// A response whose body is the whole file at `path`, of `size` bytes.
HttpResponse WholeFileResponse(const std::string& path, size_t size) {
    HttpResponse response;
    response.content_type = "application/octet-stream";
    response.body_file = path;
    response.file_offset = 0;
    response.file_length = size;
    return response;
}

/// Answers with facts about the body: where it was and what it held.
HttpResponse DescribeBody(HttpRequest&& request) {
    HttpResponse response;
    response.content_type = "text/plain";
    const bool spooled = !request.body_file.empty();
    response.headers.push_back({"X-Spooled", spooled ? "yes" : "no"});
    response.headers.push_back({"X-Memory-Bytes", std::to_string(request.body.size())});
    if (spooled) {
        response.headers.push_back(
            {"X-Spool-In", std::filesystem::path(request.body_file).parent_path().string()});
        std::string content = ReadWholeFile(request.body_file);
        response.headers.push_back({"X-File-Bytes", std::to_string(content.size())});
        response.body = content.substr(0, 16) + "|" + content.substr(content.size() - 16);
        // Loading it into memory gives the same bytes.
        HttpRequest copy = request;
        if (LoadSpooledBody(copy, content.size()).ok() && copy.body == content) {
            response.headers.push_back({"X-Load", "same"});
        }
        if (!LoadSpooledBody(copy, content.size() - 1).ok()) {
            response.headers.push_back({"X-Load-Limit", "refused"});
        }
    }
    return response;
}

std::string Pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    }
    return s;
}

TEST_F(HttpServerTest, SmallBodiesStayInMemory) {
    TempDir dir;
    ServerOptions options;
    options.spool_threshold_bytes = 1024;
    options.spool_dir = dir.str();
    StartServer(options, DescribeBody);
    Client client(port_);
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" +
                            std::string(1024, 'm')));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("X-Spooled"), "no");
    EXPECT_EQ(response->Header("X-Memory-Bytes"), "1024");
}

TEST_F(HttpServerTest, LargeBodyIsSpooledAndTheFileRemovedAfterTheHandler) {
    TempDir dir;
    ServerOptions options;
    options.spool_threshold_bytes = 1024;
    options.spool_dir = dir.str();
    StartServer(options, DescribeBody);
    const std::string body = Pattern(5000);
    Client client(port_);
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + body));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("X-Spooled"), "yes");
    EXPECT_EQ(response->Header("X-Memory-Bytes"), "0");
    EXPECT_EQ(response->Header("X-File-Bytes"), "5000");
    EXPECT_EQ(response->Header("X-Spool-In"), dir.str());
    EXPECT_EQ(response->Header("X-Load"), "same");
    EXPECT_EQ(response->Header("X-Load-Limit"), "refused");
    EXPECT_EQ(response->body, body.substr(0, 16) + "|" + body.substr(5000 - 16));
    EXPECT_EQ(dir.FileCount(), 0u);
}

TEST_F(HttpServerTest, LargeChunkedUploadIsSpooledBeyondTheBodyLimit) {
    TempDir dir;
    ServerOptions options;
    options.max_body_bytes = 1024;
    options.spool_dir = dir.str();
    options.max_upload_bytes = 4 * 1024 * 1024;
    options.is_upload = [](const HttpRequest& r) {
        return r.method == "POST" && r.Path() == "/upload" && r.body.empty();
    };
    StartServer(options, DescribeBody);
    const std::string body = Pattern(3 * 1024 * 1024 + 17);
    Client client(port_);
    ASSERT_TRUE(
        client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    size_t sent = 0;
    while (sent < body.size()) {
        const size_t n = std::min<size_t>(100'000, body.size() - sent);
        char size_line[32];
        std::snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
        ASSERT_TRUE(client.Send(std::string(size_line) + body.substr(sent, n) + "\r\n"));
        sent += n;
    }
    ASSERT_TRUE(client.Send("0\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("X-Spooled"), "yes");
    EXPECT_EQ(response->Header("X-File-Bytes"), std::to_string(body.size()));
    EXPECT_EQ(response->body, body.substr(0, 16) + "|" + body.substr(body.size() - 16));
    EXPECT_EQ(dir.FileCount(), 0u);

    // A small upload is spooled as well.
    ASSERT_TRUE(client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n" +
                            std::string(20, 'u')));
    response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("X-Spooled"), "yes");
    EXPECT_EQ(response->Header("X-File-Bytes"), "20");
}

TEST_F(HttpServerTest, UploadLimitsAndTheOrdinaryBodyLimitStillApply) {
    TempDir dir;
    ServerOptions options;
    options.max_body_bytes = 1024;
    options.spool_dir = dir.str();
    options.max_upload_bytes = 64 * 1024;
    options.is_upload = [](const HttpRequest& r) { return r.Path() == "/upload"; };
    StartServer(options, DescribeBody);
    {
        // Announced too large: refused before any body byte is read.
        Client client(port_);
        ASSERT_TRUE(
            client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n"
                        "Expect: 100-continue\r\n\r\n"));
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 413);
        EXPECT_TRUE(client.WaitForClose());
    }
    {
        // Chunked and too large: refused once the limit is crossed.
        Client client(port_);
        ASSERT_TRUE(
            client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        std::string chunks;
        for (int i = 0; i < 20; ++i) {
            chunks += "1000\r\n" + std::string(4096, 'c') + "\r\n";
        }
        (void)client.Send(chunks + "0\r\n\r\n");
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 413);
        EXPECT_TRUE(client.WaitForClose());
    }
    {
        // Other routes keep max_body_bytes although the parser would take an upload's size.
        Client client(port_);
        ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" +
                                std::string(2048, 'b')));
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 413);
    }
    {
        Client client(port_);
        ASSERT_TRUE(
            client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" +
                        std::string(65536, 'u')));
        auto response = client.Read();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(response->Header("X-File-Bytes"), "65536");
    }
    // Nothing is left behind by refused or finished uploads.
    for (int i = 0; i < 100 && dir.FileCount() != 0; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(dir.FileCount(), 0u);
}

TEST_F(HttpServerTest, FileResponsesSendTheAskedSliceWithContentLength) {
    TempDir dir;
    const std::string content = Pattern(200'000);
    const std::string path = dir.str() + "/blob";
    WriteWholeFile(path, content);
    StartServer({}, [&](HttpRequest&& request) {
        HttpResponse response;
        response.content_type = "application/octet-stream";
        response.body = "ignored";
        response.body_file = request.Path() == "/missing" ? dir.str() + "/nothing" : path;
        if (request.Path() == "/slice") {
            response.status = 206;
            response.file_offset = 1000;
            response.file_length = 150'000;
        } else if (request.Path() == "/beyond") {
            response.file_offset = 100'000;
            response.file_length = 100'001;
        } else {
            response.file_offset = 0;
            response.file_length = content.size();
        }
        return response;
    });
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/whole")));
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("Content-Length"), "200000");
    EXPECT_FALSE(response->Has("Transfer-Encoding"));
    EXPECT_TRUE(response->body == content);

    ASSERT_TRUE(client.Send(Get("/slice")));
    response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 206);
    EXPECT_TRUE(response->body == content.substr(1000, 150'000));

    ASSERT_TRUE(client.Send("HEAD /slice HTTP/1.1\r\nHost: x\r\n\r\n"));
    response = client.ReadHeadOnly();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("Content-Length"), "150000");
    // The connection is still in step: nothing of the body was sent.
    ASSERT_TRUE(client.Send(Get("/slice")));
    response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body.size(), 150'000u);

    ASSERT_TRUE(client.Send(Get("/missing")));
    response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 500);

    ASSERT_TRUE(client.Send(Get("/beyond")));
    response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 500);
}

TEST_F(HttpServerTest, LargeFileResponsesWaitForASlowReader) {
    TempDir dir;
    const std::string content = Pattern(8 * 1024 * 1024);
    const std::string path = dir.str() + "/large";
    WriteWholeFile(path, content);
    ServerOptions options;
    options.write_timeout = 5s;
    StartServer(options, [&](HttpRequest&&) { return WholeFileResponse(path, content.size()); });
    Client client(port_);
    ASSERT_TRUE(client.Send(Get("/large")));
    // The socket buffers fill long before 8 MiB; the server must wait for room, not give up.
    std::this_thread::sleep_for(300ms);
    auto response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(response->body == content);
    // The connection is still usable.
    ASSERT_TRUE(client.Send(Get("/again")));
    response = client.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body.size(), content.size());
}

TEST_F(HttpServerTest, AFileResponseToAReaderThatStopsEndsAtTheWriteTimeout) {
    TempDir dir;
    const std::string content = Pattern(16 * 1024 * 1024);
    const std::string path = dir.str() + "/large";
    WriteWholeFile(path, content);
    ServerOptions options;
    options.write_timeout = 300ms;
    StartServer(options, [&](HttpRequest&& request) {
        HttpResponse response;
        if (request.Path() == "/small") {
            response.body = "ok";
            return response;
        }
        return WholeFileResponse(path, content.size());
    });
    Client stuck(port_);
    ASSERT_TRUE(stuck.Send(Get("/large")));
    std::this_thread::sleep_for(1500ms);
    // The server gave up on it: what arrives is less than the promised body, then the end.
    EXPECT_TRUE(stuck.WaitForClose());
    EXPECT_LT(stuck.Unread().size(), content.size());
    // Others are served meanwhile and afterwards.
    Client other(port_);
    ASSERT_TRUE(other.Send(Get("/small")));
    auto response = other.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "ok");
}

}  // namespace
}  // namespace otad::http
