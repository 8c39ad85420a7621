// otad-load: a closed-loop HTTP/1.1 load generator for otad.
//
//   otad-load --port N --manifest FILE [--host 127.0.0.1] [--connections 64] [--threads 1]
//             [--duration SECONDS] [--warmup SECONDS] [--requests N] [--page-size 10]
//             [--access-key-id ID --access-key-secret S] [--seed N] [--label TEXT]
//   otad-load --port N --static /PATH [same connection and time options]
//
// Each keep-alive connection has one request in flight at a time and sends the next as soon as
// the answer is in. Signed mode sends ListOTAJobByDevice the way the Alibaba Cloud Node SDK does
// by default (ACS3-HMAC-SHA256, POST, parameters in the query, empty body, a fresh nonce per
// request), for (ProductKey, DeviceName, FirmwareId) triples drawn at random from the manifest
// otad-datagen wrote; every answer must be HTTP 200 with "Success":true, anything else is
// counted by its Code. Static mode sends plain GETs (the ceiling a static file server reaches on
// the same machine with the same connections). Responses completed during the warm-up are not
// counted. Prints one JSON line; exits 1 when any request failed, 2 on bad usage.

#include "common/crypto.hpp"
#include "common/http_message.hpp"
#include "common/time_format.hpp"
#include "histogram.hpp"
#include "rng.hpp"
#include "signed_request.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <random>
#include <signal.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: otad-load --port N (--manifest FILE | --static /PATH) [--host 127.0.0.1]\n"
    "                 [--connections 64] [--threads 1] [--duration 10] [--warmup 1]\n"
    "                 [--requests N] [--page-size 10] [--access-key-id ID]\n"
    "                 [--access-key-secret S] [--seed N] [--timeout 10] [--label TEXT]\n";

/// Upper bound on --duration, so that a mistyped value cannot keep a machine busy for hours.
constexpr double kMaxDurationS = 600;

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    int connections = 64;
    int threads = 1;
    double duration_s = 10;
    double warmup_s = 1;
    double timeout_s = 10;
    int64_t requests = 0;  // 0: bounded by time only
    int page_size = 10;
    std::string manifest;
    std::string static_path;
    std::string access_key_id = "LTAIbenchAccessKey0001";
    std::string access_key_secret = "benchAccessKeySecret0000000001";
    uint64_t seed = 1;
    std::string label;
};

struct Triple {
    std::string product_key;
    std::string device_name;
    std::string firmware_id;
};

// Builds requests. One per thread (holds a random stream and a cached date).
class RequestBuilder {
  public:
    RequestBuilder(const Options& o, const std::vector<Triple>& triples, uint64_t seed)
        : o_(o), triples_(triples), rng_(seed) {
        // Nonces only need to be unique; seed them from the system so that two runs against the
        // same server (within the 31-minute replay window) never repeat one.
        std::random_device rd;
        nonce_rng_ = std::make_unique<Rng>((uint64_t{rd()} << 32) ^ rd() ^ seed);
        call_.host = o.host + ":" + std::to_string(o.port);
        call_.access_key_id = o.access_key_id;
        call_.access_key_secret = o.access_key_secret;
        call_.page_size = o.page_size;
    }

    void Build(std::string& out) {
        if (!o_.static_path.empty()) {
            out.clear();
            out += "GET ";
            out += o_.static_path;
            out += " HTTP/1.1\r\nHost: ";
            out += call_.host;
            out += "\r\nUser-Agent: ";
            out += kNodeUserAgent;
            out += "\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n";
            return;
        }
        const Triple& t = triples_[rng_.Below(triples_.size())];
        call_.product_key = t.product_key;
        call_.device_name = t.device_name;
        call_.firmware_id = t.firmware_id;
        call_.date = Date();
        call_.nonce = nonce_rng_->Hex(32);
        SerializeRequest(MakeV3ListJobsRequest(call_), out);
    }

  private:
    const std::string& Date() {
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        if (now_ms / 1000 != date_second_) {
            date_second_ = now_ms / 1000;
            date_ = FormatUtcSeconds(now_ms);
        }
        return date_;
    }

    const Options& o_;
    const std::vector<Triple>& triples_;
    Rng rng_;
    std::unique_ptr<Rng> nonce_rng_;
    ListJobsCall call_;
    int64_t date_second_ = -1;
    std::string date_;
};

struct ThreadResult {
    LatencyHistogram latency;  // nanoseconds, successful and failed requests alike
    uint64_t ok = 0;
    uint64_t failed = 0;
    uint64_t response_bytes = 0;
    uint64_t reconnects = 0;
    std::map<std::string, uint64_t> errors;
    Clock::time_point last_completion{};
    std::string fatal;
};

struct Connection {
    int fd = -1;
    bool busy = false;        // a request is in flight
    bool want_write = false;  // registered for EPOLLOUT
    std::string out;
    size_t written = 0;
    std::string in;
    Clock::time_point started{};
};

int Connect(const Options& o, std::string& error) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(o.port));
    if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) {
        ::close(fd);
        error = "--host must be an IPv4 address";
        return -1;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        error = std::string("connect: ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

// A complete response parsed from the front of a buffer.
struct Parsed {
    bool complete = false;
    bool malformed = false;
    int status = 0;
    size_t total_bytes = 0;
    size_t body_offset = 0;
    size_t body_bytes = 0;
    bool close = false;
};

Parsed ParseResponse(std::string_view in) {
    Parsed p;
    const size_t header_end = in.find("\r\n\r\n");
    if (header_end == std::string_view::npos) {
        p.malformed = in.size() > 64 * 1024;
        return p;
    }
    std::string_view head = in.substr(0, header_end);
    if (!head.starts_with("HTTP/1.") || head.size() < 12) {
        p.malformed = true;
        return p;
    }
    p.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    bool have_length = false;
    size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos) {
        const size_t next = head.find("\r\n", pos + 2);
        std::string_view line = head.substr(
            pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
        if (StartsWithIgnoreCase(line, "content-length:")) {
            p.body_bytes = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
            have_length = true;
        } else if (StartsWithIgnoreCase(line, "connection:")) {
            p.close = line.find("close") != std::string_view::npos;
        } else if (StartsWithIgnoreCase(line, "transfer-encoding:")) {
            p.malformed = true;  // neither server under test sends chunked responses
            return p;
        }
        pos = next;
    }
    if (!have_length) {
        p.malformed = true;
        return p;
    }
    p.body_offset = header_end + 4;
    p.total_bytes = p.body_offset + p.body_bytes;
    p.complete = in.size() >= p.total_bytes;
    return p;
}

// The error Code of an otad answer, or a name for what else went wrong.
std::string ErrorCodeOf(int status, std::string_view body) {
    constexpr std::string_view kKey = "\"Code\":\"";
    const size_t at = body.find(kKey);
    if (at != std::string_view::npos) {
        const size_t end = body.find('"', at + kKey.size());
        if (end != std::string_view::npos) {
            return std::string(body.substr(at + kKey.size(), end - at - kKey.size()));
        }
    }
    return "HTTP_" + std::to_string(status);
}

class Worker {
  public:
    Worker(const Options& o,
           const std::vector<Triple>& triples,
           int index,
           int connections,
           std::atomic<int64_t>& issued,
           Clock::time_point measure_from,
           Clock::time_point stop_at)
        : o_(o),
          builder_(o, triples, o.seed * 1'000'003 + static_cast<uint64_t>(index)),
          conns_(static_cast<size_t>(connections)),
          issued_(issued),
          measure_from_(measure_from),
          stop_at_(stop_at) {}

    void Run() {
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        for (size_t i = 0; i < conns_.size(); ++i) {
            if (!Open(i)) {
                return;
            }
        }
        for (size_t i = 0; i < conns_.size(); ++i) {
            Issue(i);
        }
        std::vector<epoll_event> events(256);
        const auto deadline = stop_at_ + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o_.timeout_s));
        while (InFlight() > 0) {
            const auto now = Clock::now();
            if (now >= deadline) {
                for (Connection& c : conns_) {
                    if (c.busy) {
                        Fail("timeout");
                    }
                }
                break;
            }
            const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 100);
            for (int e = 0; e < n; ++e) {
                const auto i = static_cast<size_t>(events[e].data.u64);
                if (events[e].events & EPOLLOUT) {
                    Flush(i);
                }
                if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    Receive(i);
                }
            }
        }
        for (Connection& c : conns_) {
            if (c.fd >= 0) {
                ::close(c.fd);
            }
        }
        ::close(ep_);
    }

    ThreadResult& result() { return result_; }

  private:
    size_t InFlight() const {
        return static_cast<size_t>(std::count_if(
            conns_.begin(), conns_.end(), [](const Connection& c) { return c.busy; }));
    }

    bool Open(size_t i) {
        Connection& c = conns_[i];
        std::string error;
        c.fd = Connect(o_, error);
        if (c.fd < 0) {
            result_.fatal = error;
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
        c.want_write = false;
        c.in.clear();
        return true;
    }

    void Reopen(size_t i) {
        Connection& c = conns_[i];
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        c.busy = false;
        ++result_.reconnects;
        if (!Open(i)) {
            Fail("connect_failed");
        }
    }

    void Issue(size_t i) {
        Connection& c = conns_[i];
        c.busy = false;
        if (c.fd < 0 || Clock::now() >= stop_at_) {
            return;
        }
        if (o_.requests > 0 && issued_.fetch_add(1) >= o_.requests) {
            return;
        }
        builder_.Build(c.out);
        c.written = 0;
        c.in.clear();
        c.busy = true;
        c.started = Clock::now();
        Flush(i);
    }

    void Flush(size_t i) {
        Connection& c = conns_[i];
        while (c.written < c.out.size()) {
            const ssize_t n =
                ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
            if (n > 0) {
                c.written += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                SetWriteInterest(i, true);
                return;
            }
            Fail("send_failed");
            Reopen(i);
            Issue(i);
            return;
        }
        SetWriteInterest(i, false);
    }

    void SetWriteInterest(size_t i, bool on) {
        Connection& c = conns_[i];
        if (c.want_write == on) {
            return;
        }
        c.want_write = on;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
        ev.data.u64 = i;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void Receive(size_t i) {
        Connection& c = conns_[i];
        char buf[16384];
        bool closed = false;
        while (true) {
            const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                break;
            }
            closed = true;
            break;
        }
        if (!c.busy) {
            if (closed || !c.in.empty()) {  // closed while idle, or bytes nobody asked for
                Reopen(i);
            }
            return;
        }
        const Parsed p = ParseResponse(c.in);
        if (p.malformed) {
            Fail("malformed_response");
            Reopen(i);
            Issue(i);
            return;
        }
        if (!p.complete) {
            if (closed) {
                Fail("connection_closed");
                Reopen(i);
                Issue(i);
            }
            return;
        }
        const auto now = Clock::now();
        const std::string_view body = std::string_view(c.in).substr(p.body_offset, p.body_bytes);
        bool good = p.status == 200;
        if (good && o_.static_path.empty()) {
            good = body.find("\"Success\":true") != std::string_view::npos;
        }
        if (c.started >= measure_from_) {
            result_.latency.Record(static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.started).count()));
            result_.response_bytes += p.body_bytes;
            result_.last_completion = now;
            if (good) {
                ++result_.ok;
            }
        }
        if (!good) {
            Fail(ErrorCodeOf(p.status, body));
        }
        const bool reopen = p.close || closed || c.in.size() > p.total_bytes;
        if (reopen) {
            Reopen(i);
        }
        Issue(i);
    }

    // Failures count whenever they happen, warm-up included: a benchmark must not hide them.
    void Fail(const std::string& code) {
        ++result_.failed;
        ++result_.errors[code];
    }

    const Options& o_;
    RequestBuilder builder_;
    std::vector<Connection> conns_;
    std::atomic<int64_t>& issued_;
    Clock::time_point measure_from_;
    Clock::time_point stop_at_;
    int ep_ = -1;
    ThreadResult result_;
};

bool ParseNumber(const std::string& text, double& out) {
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return !text.empty() && *end == '\0' && out >= 0;
}

bool LoadManifest(const std::string& path, std::vector<Triple>& out, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = "cannot read " + path;
        return false;
    }
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.starts_with("ProductKey,")) {
            continue;
        }
        const size_t a = line.find(',');
        const size_t b = a == std::string::npos ? a : line.find(',', a + 1);
        if (b == std::string::npos) {
            error = path + ": malformed line '" + line + "'";
            return false;
        }
        out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
    }
    if (out.empty()) {
        error = path + " holds no triples";
        return false;
    }
    return true;
}

std::string Ms(uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e6);
    return buf;
}

std::string JsonString(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
        }
        if (static_cast<unsigned char>(ch) >= 0x20) {
            out += ch;
        }
    }
    return out + "\"";
}

int Main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string name = argv[i];
        if (name == "--help" || name == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (!name.starts_with("--") || i + 1 >= argc) {
            std::cerr << "otad-load: bad argument '" << name << "'\n" << kUsage;
            return 2;
        }
        const std::string value = argv[++i];
        double n = 0;
        const bool numeric = ParseNumber(value, n);
        const std::string flag = name.substr(2);
        if (flag == "host") {
            o.host = value;
        } else if (flag == "manifest") {
            o.manifest = value;
        } else if (flag == "static") {
            o.static_path = value;
        } else if (flag == "access-key-id") {
            o.access_key_id = value;
        } else if (flag == "access-key-secret") {
            o.access_key_secret = value;
        } else if (flag == "label") {
            o.label = value;
        } else if (!numeric) {
            std::cerr << "otad-load: --" << flag << " needs a number\n" << kUsage;
            return 2;
        } else if (flag == "port") {
            o.port = static_cast<int>(n);
        } else if (flag == "connections") {
            o.connections = static_cast<int>(n);
        } else if (flag == "threads") {
            o.threads = static_cast<int>(n);
        } else if (flag == "duration") {
            o.duration_s = n;
        } else if (flag == "warmup") {
            o.warmup_s = n;
        } else if (flag == "timeout") {
            o.timeout_s = n;
        } else if (flag == "requests") {
            o.requests = static_cast<int64_t>(n);
        } else if (flag == "page-size") {
            o.page_size = static_cast<int>(n);
        } else if (flag == "seed") {
            o.seed = static_cast<uint64_t>(n);
        } else {
            std::cerr << "otad-load: unknown option " << name << "\n" << kUsage;
            return 2;
        }
    }
    if (o.port <= 0 || o.port > 65535 || o.connections < 1 || o.threads < 1 || o.duration_s <= 0 ||
        o.duration_s > kMaxDurationS || (o.manifest.empty() == o.static_path.empty())) {
        std::cerr << "otad-load: need --port, one of --manifest or --static, connections and "
                     "threads >= 1, 0 < duration <= 600\n"
                  << kUsage;
        return 2;
    }
    o.threads = std::min(o.threads, o.connections);
    std::vector<Triple> triples;
    if (!o.manifest.empty()) {
        std::string error;
        if (!LoadManifest(o.manifest, triples, error)) {
            std::cerr << "otad-load: " << error << "\n";
            return 2;
        }
    }
    ::signal(SIGPIPE, SIG_IGN);

    const auto start = Clock::now();
    const auto to_duration = [](double s) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    };
    const auto measure_from = start + to_duration(o.warmup_s);
    const auto stop_at = measure_from + to_duration(o.duration_s);
    std::atomic<int64_t> issued{0};
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < o.threads; ++t) {
        const int share = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
        workers.push_back(
            std::make_unique<Worker>(o, triples, t, share, issued, measure_from, stop_at));
    }
    std::vector<std::thread> threads;
    for (auto& w : workers) {
        threads.emplace_back([&w] { w->Run(); });
    }
    for (std::thread& t : threads) {
        t.join();
    }

    ThreadResult total;
    Clock::time_point last{};
    for (auto& w : workers) {
        ThreadResult& r = w->result();
        if (!r.fatal.empty()) {
            std::cerr << "otad-load: " << r.fatal << "\n";
            return 2;
        }
        total.latency.Merge(r.latency);
        total.ok += r.ok;
        total.failed += r.failed;
        total.response_bytes += r.response_bytes;
        total.reconnects += r.reconnects;
        for (const auto& [code, n] : r.errors) {
            total.errors[code] += n;
        }
        last = std::max(last, r.last_completion);
    }
    // A count-bounded run may end before the time is up; measure to its last answer then.
    const auto end = o.requests > 0 && last > measure_from ? std::min(last, stop_at) : stop_at;
    const double seconds = std::chrono::duration<double>(end - measure_from).count();
    const LatencyHistogram& h = total.latency;
    const uint64_t counted = h.Count();
    char numbers[256];
    std::snprintf(
        numbers,
        sizeof numbers,
        "\"seconds\":%.3f,\"completed\":%llu,\"ok\":%llu,\"failed\":%llu,"
        "\"reconnects\":%llu,\"throughput_rps\":%.1f,\"response_bytes_mean\":%.0f,",
        seconds,
        static_cast<unsigned long long>(counted),
        static_cast<unsigned long long>(total.ok),
        static_cast<unsigned long long>(total.failed),
        static_cast<unsigned long long>(total.reconnects),
        seconds > 0 ? static_cast<double>(counted) / seconds : 0.0,
        counted ? static_cast<double>(total.response_bytes) / static_cast<double>(counted) : 0.0);
    std::string json = "{\"mode\":" + JsonString(o.static_path.empty() ? "signed" : "static") +
                       ",\"label\":" + JsonString(o.label) + ",\"target\":" +
                       JsonString(o.host + ":" + std::to_string(o.port) +
                                  (o.static_path.empty() ? "/" : o.static_path)) +
                       ",\"connections\":" + std::to_string(o.connections) +
                       ",\"threads\":" + std::to_string(o.threads) +
                       ",\"manifest_rows\":" + std::to_string(triples.size()) + "," + numbers +
                       "\"latency_ms\":{\"mean\":" + Ms(static_cast<uint64_t>(h.Mean())) +
                       ",\"p50\":" + Ms(h.Percentile(0.50)) + ",\"p90\":" + Ms(h.Percentile(0.90)) +
                       ",\"p99\":" + Ms(h.Percentile(0.99)) +
                       ",\"p999\":" + Ms(h.Percentile(0.999)) + ",\"max\":" + Ms(h.Max()) +
                       "},\"errors\":{";
    bool first = true;
    for (const auto& [code, n] : total.errors) {
        json += (first ? "" : ",") + JsonString(code) + ":" + std::to_string(n);
        first = false;
    }
    json += "}}";
    std::cout << json << std::endl;
    return total.failed > 0 || total.ok == 0 ? 1 : 0;
}

}  // namespace
}  // namespace otad::bench

int main(int argc, char** argv) {
    return otad::bench::Main(argc, argv);
}
