#include "http_fetch.hpp"

#include "common/text.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

namespace otad::devsim {
namespace {

constexpr size_t kReadChunkBytes = 16 * 1024;

Error Bad(std::string message) {
    return MakeError(ErrorCode::kBadRequest, std::move(message));
}

char Lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (Lower(a[i]) != Lower(b[i])) {
            return false;
        }
    }
    return true;
}

// "bytes a-b/total".
std::optional<ContentRange> ParseContentRange(std::string_view value) {
    value = text::TrimBlanks(value);
    if (!value.starts_with("bytes ")) {
        return std::nullopt;
    }
    value.remove_prefix(6);
    const size_t dash = value.find('-');
    const size_t slash = value.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return std::nullopt;
    }
    const auto first = text::ParseDigits(value.substr(0, dash));
    const auto last = text::ParseDigits(value.substr(dash + 1, slash - dash - 1));
    const auto total = text::ParseDigits(value.substr(slash + 1));
    if (!first || !last || !total || *first > *last || *last >= *total) {
        return std::nullopt;
    }
    return ContentRange{*first, *last, *total};
}

// A socket closed when it goes out of scope.
class Socket {
  public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

  private:
    int fd_ = -1;
};

Result<int> Connect(const std::string& host, uint16_t port, int timeout_ms) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        return Bad("cannot resolve host '" + host + "'");
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
    std::string last_error = "no address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        const int flags = ::fcntl(fd, F_GETFL, 0);
        ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            r = ::poll(&p, 1, timeout_ms);
            if (r == 1) {
                int err = 0;
                socklen_t len = sizeof(err);
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                r = err == 0 ? 0 : -1;
                errno = err;
            } else {
                const int saved = r == 0 ? ETIMEDOUT : errno;
                r = -1;
                errno = saved;
            }
        }
        if (r != 0) {
            last_error = std::strerror(errno);
            ::close(fd);
            continue;
        }
        ::fcntl(fd, F_SETFL, flags);
        timeval tv{};
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
    }
    return Bad("cannot connect to " + host + ":" + service + ": " + last_error);
}

bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// Incremental MD5 or SHA-256.
class Digest {
  public:
    explicit Digest(DigestMethod method)
        : md_(method == DigestMethod::kMd5 ? EVP_md5() : EVP_sha256()), ctx_(EVP_MD_CTX_new()) {
        Reset();
    }
    ~Digest() { EVP_MD_CTX_free(ctx_); }
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;

    void Reset() { EVP_DigestInit_ex(ctx_, md_, nullptr); }
    void Update(const char* data, size_t n) { EVP_DigestUpdate(ctx_, data, n); }
    std::string FinalHex() {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx_, out, &len);
        static constexpr char kHex[] = "0123456789abcdef";
        std::string hex;
        hex.reserve(len * 2);
        for (unsigned int i = 0; i < len; ++i) {
            hex += kHex[out[i] >> 4];
            hex += kHex[out[i] & 0x0f];
        }
        return hex;
    }

  private:
    const EVP_MD* md_;
    EVP_MD_CTX* ctx_;
};

// State of one file's download across requests.
struct Transfer {
    const FileSpec& file;
    Digest digest;
    uint64_t received = 0;  // bytes of the file received so far, all from offset 0
    // Small files are kept instead of hashed as they arrive (see VerifiedFiles).
    bool keep = false;
    std::string kept;

    void Restart() {
        digest.Reset();
        kept.clear();
        received = 0;
    }
    void Take(const char* data, size_t n) {
        if (keep) {
            kept.append(data, n);
        } else {
            digest.Update(data, n);
        }
    }
};

// Files whose digest this process has already computed, by digest method and lower-case hex
// digest. Thousands of simulated devices download the same package; a download byte-for-byte
// equal to a remembered file has that file's digest, so comparing the bytes checks it as
// strictly as hashing them again, for a fraction of the CPU that the simulator would otherwise
// take from the server it shares the machine with. Bounded: a few files of up to
// kMaxRememberedFileBytes each.
class VerifiedFiles {
  public:
    static VerifiedFiles& Instance() {
        static VerifiedFiles* const files = new VerifiedFiles();  // used until exit
        return *files;
    }

    /// The remembered digest of exactly these bytes, if any.
    std::optional<std::string> Find(DigestMethod method, std::string_view bytes) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const Entry& e : entries_) {
            if (e.method == method && e.bytes == bytes) {
                return e.digest_hex;
            }
        }
        return std::nullopt;
    }

    void Remember(DigestMethod method, std::string digest_hex, std::string bytes) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const Entry& e : entries_) {
            if (e.method == method && e.bytes == bytes) {
                return;
            }
        }
        if (entries_.size() >= kMaxRememberedFiles) {
            entries_.pop_front();
        }
        entries_.push_back(Entry{method, std::move(digest_hex), std::move(bytes)});
    }

  private:
    struct Entry {
        DigestMethod method;
        std::string digest_hex;
        std::string bytes;
    };
    std::mutex mu_;
    std::deque<Entry> entries_;
};

enum class Attempt { kDone, kBroken, kFatal };

// One GET for `range`; appends the body to the transfer. kBroken means the connection failed
// in a way a device would retry by resuming.
Attempt RequestOnce(Style style,
                    const HttpUrl& url,
                    const ByteRange& range,
                    const FetchOptions& options,
                    Transfer& transfer,
                    const BytesCallback& on_bytes,
                    std::string& detail) {
    const std::string& host = options.connect_host.empty() ? url.host : options.connect_host;
    Result<int> fd = Connect(host, url.port.value_or(options.default_port), options.timeout_ms);
    if (!fd) {
        detail = fd.error().message;
        return Attempt::kBroken;
    }
    Socket socket(*fd);
    if (!SendAll(socket.fd(), BuildGetRequest(style, url, range))) {
        detail = "cannot send the request";
        return Attempt::kBroken;
    }
    std::vector<char> buffer(kReadChunkBytes);
    std::string head;
    size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
        const ssize_t n = ::recv(socket.fd(), buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            detail = "connection closed before the response head";
            return Attempt::kBroken;
        }
        head.append(buffer.data(), static_cast<size_t>(n));
        head_end = head.find("\r\n\r\n");
        if (head_end == std::string::npos && head.size() > kMaxHeadBytes) {
            detail = "response head larger than 16 KiB";
            return Attempt::kFatal;
        }
    }
    std::string body_start = head.substr(head_end + 4);
    head.resize(head_end + 4);
    Result<ResponseHead> parsed = ParseResponseHead(head);
    if (!parsed) {
        detail = parsed.error().message;
        return Attempt::kFatal;
    }
    const uint64_t size = transfer.file.size;
    uint64_t expect = 0;
    if (parsed->status == 200) {
        // The whole file again: start over from its first byte.
        if (parsed->content_length != size) {
            detail = "Content-Length " + std::to_string(parsed->content_length) +
                     " differs from the pushed size " + std::to_string(size);
            return Attempt::kFatal;
        }
        if (transfer.received != 0) {
            transfer.Restart();
        }
        expect = size;
    } else {
        const ContentRange& cr = *parsed->content_range;
        if (cr.first != range.first || cr.total != size) {
            detail = "Content-Range does not answer the requested range of the pushed size";
            return Attempt::kFatal;
        }
        if (parsed->content_length != cr.last - cr.first + 1) {
            detail = "Content-Length disagrees with Content-Range";
            return Attempt::kFatal;
        }
        expect = parsed->content_length;
    }
    uint64_t got = 0;
    auto consume = [&](const char* data, size_t n) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(n, expect - got));
        transfer.Take(data, take);
        transfer.received += take;
        got += take;
        if (on_bytes && take > 0) {
            on_bytes(transfer.received, take);
        }
    };
    consume(body_start.data(), body_start.size());
    while (got < expect) {
        const ssize_t n = ::recv(socket.fd(), buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            detail = "connection broke after " + std::to_string(transfer.received) + " bytes";
            return Attempt::kBroken;
        }
        consume(buffer.data(), static_cast<size_t>(n));
    }
    return Attempt::kDone;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.size() < kScheme.size() || !EqualsNoCase(url.substr(0, kScheme.size()), kScheme)) {
        return Bad("only http:// URLs are simulated");
    }
    url.remove_prefix(kScheme.size());
    const size_t end = url.find_first_of("/?");
    std::string_view authority = url.substr(0, end);
    HttpUrl out;
    out.target = end == std::string_view::npos ? "/" : std::string(url.substr(end));
    if (!out.target.empty() && out.target.front() == '?') {
        out.target.insert(out.target.begin(), '/');
    }
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return Bad("URL has no usable host");
    }
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
        const auto port = text::ParseDigits(authority.substr(colon + 1));
        if (!port || *port == 0 || *port > 65535) {
            return Bad("URL has an invalid port");
        }
        out.port = static_cast<uint16_t>(*port);
        authority = authority.substr(0, colon);
    }
    out.host = std::string(authority);
    if (out.host.empty()) {
        return Bad("URL has no usable host");
    }
    return out;
}

std::string BuildGetRequest(Style style, const HttpUrl& url, const ByteRange& range) {
    std::string r = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.host;
    if (url.port) {
        r += ":" + std::to_string(*url.port);
    }
    r += "\r\nAccept: text/xml,text/javascript,text/html,application/json\r\n";
    if (style == Style::k3x) {
        r += "Accept-Encoding: gzip, deflate\r\n";
    }
    r += "Range: bytes=" + std::to_string(range.first) + "-";
    if (range.last) {
        r += std::to_string(*range.last);
    }
    r += "\r\nContent-Length: 0\r\n\r\n";
    return r;
}

Result<ResponseHead> ParseResponseHead(std::string_view head) {
    ResponseHead out;
    bool have_length = false;
    bool first = true;
    while (!head.empty()) {
        const size_t eol = head.find("\r\n");
        const size_t line_bytes = eol == std::string_view::npos ? head.size() : eol + 2;
        const std::string_view line = head.substr(0, eol);
        head.remove_prefix(line_bytes);
        if (line_bytes > kMaxHeaderLineBytes) {
            return Bad("header line longer than 128 bytes");
        }
        if (first) {
            first = false;
            if (!line.starts_with("HTTP/1.1 ") || line.size() < 12) {
                return Bad("status line does not start with HTTP/1.1");
            }
            const auto status = text::ParseDigits(line.substr(9, 3));
            if (!status || (line.size() > 12 && line[12] != ' ')) {
                return Bad("malformed status line");
            }
            out.status = static_cast<int>(*status);
            continue;
        }
        if (line.empty()) {
            break;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return Bad("malformed header line");
        }
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = text::TrimBlanks(line.substr(colon + 1));
        if (EqualsNoCase(name, "Content-Length")) {
            // Link SDK 4.x searches for this exact text.
            if (!line.starts_with("Content-Length: ")) {
                return Bad("Content-Length not spelled 'Content-Length: '");
            }
            const auto length = text::ParseDigits(value);
            if (!length) {
                return Bad("malformed Content-Length");
            }
            out.content_length = *length;
            have_length = true;
        } else if (EqualsNoCase(name, "Content-Range")) {
            out.content_range = ParseContentRange(value);
            if (!out.content_range) {
                return Bad("malformed Content-Range");
            }
        } else if (EqualsNoCase(name, "Transfer-Encoding") && !EqualsNoCase(value, "identity")) {
            return Bad("chunked or encoded transfer is not supported by device SDKs");
        } else if (EqualsNoCase(name, "Content-Encoding") && !EqualsNoCase(value, "identity")) {
            return Bad("compressed body is not supported by device SDKs");
        }
    }
    if (first) {
        return Bad("empty response head");
    }
    if (out.status != 200 && out.status != 206) {
        return Bad("HTTP status " + std::to_string(out.status));
    }
    if (!have_length) {
        return Bad("no Content-Length");
    }
    if (out.status == 206 && !out.content_range) {
        return Bad("206 without Content-Range");
    }
    return out;
}

FetchResult FetchFile(Style style,
                      const FileSpec& file,
                      DigestMethod method,
                      DigestCompare compare,
                      const FetchOptions& options,
                      const BytesCallback& on_bytes) {
    FetchResult result;
    Result<HttpUrl> url = ParseHttpUrl(file.url);
    if (!url) {
        result.detail = url.error().message;
        return result;
    }
    Transfer transfer{file, Digest(method), 0, false, {}};
    transfer.keep = options.remember_verified && file.size <= kMaxRememberedFileBytes;
    if (transfer.keep) {
        transfer.kept.reserve(static_cast<size_t>(file.size));
    }
    // Each segment is requested until it is complete; the last is open-ended.
    std::vector<ByteRange> segments;
    if (options.split_ranges && file.size >= 2) {
        const uint64_t n = file.size / 2 - 1;
        segments.push_back(ByteRange{0, n});
    }
    segments.push_back(ByteRange{segments.empty() ? 0 : segments.back().last.value() + 1, {}});
    for (const ByteRange& segment : segments) {
        const uint64_t segment_end = segment.last ? *segment.last + 1 : file.size;
        uint32_t failures = 0;
        // A zero-length file still gets one request, as the SDK always sends one.
        bool asked = false;
        while (transfer.received < segment_end || (!asked && file.size == 0)) {
            asked = true;
            ByteRange range{transfer.received, segment.last};
            std::string detail;
            const Attempt a = RequestOnce(style, *url, range, options, transfer, on_bytes, detail);
            if (a == Attempt::kFatal) {
                result.detail = detail;
                return result;
            }
            if (a == Attempt::kBroken) {
                if (failures >= options.max_resumes) {
                    result.detail = detail + " (gave up after " +
                                    std::to_string(options.max_resumes) + " resumes)";
                    return result;
                }
                ++failures;
                ++result.resumes;
            }
        }
    }
    if (transfer.received != file.size) {
        result.detail = "received " + std::to_string(transfer.received) + " of " +
                        std::to_string(file.size) + " bytes";
        return result;
    }
    std::string computed;
    if (!transfer.keep) {
        computed = transfer.digest.FinalHex();
    } else if (std::optional<std::string> known =
                   VerifiedFiles::Instance().Find(method, transfer.kept)) {
        computed = std::move(*known);
    } else {
        transfer.digest.Update(transfer.kept.data(), transfer.kept.size());
        computed = transfer.digest.FinalHex();
        VerifiedFiles::Instance().Remember(method, computed, std::move(transfer.kept));
    }
    std::string pushed = file.digest;
    if (compare == DigestCompare::kAnyCase) {
        for (char& c : pushed) {
            c = Lower(c);
        }
    }
    if (pushed != computed) {
        result.status = FetchResult::Status::kDigestMismatch;
        result.detail = "digest mismatch";
        return result;
    }
    result.status = FetchResult::Status::kOk;
    return result;
}

}  // namespace otad::devsim
