#pragma once

#include "common/crypto.hpp"
#include "common/testing/loopback.hpp"
#include "common/testing/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace otad::integration {

using TempDir = otad::test_support::TempDir;

inline std::string Lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

struct ClientResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    std::string Header(const std::string& name) const {
        auto it = headers.find(Lower(name));
        return it == headers.end() ? std::string() : it->second;
    }
};

/// A blocking HTTP/1.1 client over one keep-alive connection to 127.0.0.1.
class HttpClient {
  public:
    explicit HttpClient(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) {
            throw std::runtime_error("socket failed");
        }
        timeval tv{};
        tv.tv_sec = 20;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        sockaddr_in addr = loopback::LoopbackAddress(port);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            ::close(fd_);
            throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
        }
    }
    ~HttpClient() { ::close(fd_); }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends one request and reads its response; `head` for HEAD requests (no body follows).
    std::optional<ClientResponse> Exchange(const std::string& request, bool head = false) {
        std::string_view data = request;
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return std::nullopt;
            }
            data.remove_prefix(static_cast<size_t>(n));
        }
        size_t header_end;
        while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!Fill()) {
                return std::nullopt;
            }
        }
        ClientResponse r;
        const std::string head_text = buffer_.substr(0, header_end);
        buffer_.erase(0, header_end + 4);
        size_t line_end = head_text.find("\r\n");
        r.status = std::stoi(head_text.substr(9, 3));
        while (line_end != std::string::npos) {
            const size_t start = line_end + 2;
            line_end = head_text.find("\r\n", start);
            const std::string line = head_text.substr(start, line_end - start);
            const size_t colon = line.find(':');
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[Lower(line.substr(0, colon))] = value;
        }
        if (head || r.status == 204 || r.status == 304) {
            return r;
        }
        const size_t length = static_cast<size_t>(std::stoul(r.Header("Content-Length")));
        while (buffer_.size() < length) {
            if (!Fill()) {
                return std::nullopt;
            }
        }
        r.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        return r;
    }

  private:
    bool Fill() {
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n <= 0) {
            return false;
        }
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::string buffer_;
};

/// A multipart/form-data body as an OSS PostObject client builds it: fields first, the file
/// last.
inline std::string MultipartBody(const std::string& boundary,
                                 const std::vector<std::pair<std::string, std::string>>& fields,
                                 const std::string& file_name,
                                 const std::string& content) {
    std::string body;
    for (const auto& [name, value] : fields) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
                "\"\r\n\r\n" + value + "\r\n";
    }
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
            file_name + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content +
            "\r\n--" + boundary + "--\r\n";
    return body;
}

inline std::string Sha256Hex(std::string_view s) {
    return crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kSha256, s));
}

inline std::string Md5Hex(std::string_view s) {
    return crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kMd5, s));
}

}  // namespace otad::integration
