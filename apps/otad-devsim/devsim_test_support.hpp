#pragma once

// Test fixtures of otad-devsim: a minimal HTTP/1.1 file server with byte ranges and
// injectable faults, a free loopback port, and a private Mosquitto broker process.

#include "common/testing/loopback.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::devsim::testing {

using loopback::FreePort;

/// Serves fixed files from memory on 127.0.0.1, one connection at a time, one request per
/// connection. Honours `Range: bytes=a-` and `bytes=a-b` with 206 unless told to ignore it.
class TestHttpServer {
  public:
    struct Faults {
        /// Answer every request with the whole file and 200.
        bool ignore_range = false;
        /// The first `cut_requests` responses stop after `cut_after` body bytes.
        int cut_requests = 0;
        size_t cut_after = 0;
        /// Replaces the status line's protocol.
        std::string protocol = "HTTP/1.1";
    };

    TestHttpServer(std::map<std::string, std::string> files, Faults faults)
        : files_(std::move(files)), faults_(std::move(faults)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in addr = loopback::LoopbackAddress(0);
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
        ::listen(listen_fd_, 512);
        socklen_t len = sizeof(addr);
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { Serve(); });
    }
    ~TestHttpServer() {
        stop_ = true;
        thread_.join();
        ::close(listen_fd_);
    }
    TestHttpServer(const TestHttpServer&) = delete;
    TestHttpServer& operator=(const TestHttpServer&) = delete;

    uint16_t port() const { return port_; }

    /// Range header values seen so far ("" when absent), in order.
    std::vector<std::string> Ranges() const {
        std::lock_guard lock(mu_);
        return ranges_;
    }

  private:
    void Serve() {
        while (!stop_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) != 1) {
                continue;
            }
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            Handle(fd);
            ::close(fd);
        }
    }

    static void SendAll(int fd, const std::string& data) {
        size_t off = 0;
        while (off < data.size()) {
            const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            off += static_cast<size_t>(n);
        }
    }

    void Handle(int fd) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) != 1) {
                return;
            }
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                return;
            }
            request.append(buf, static_cast<size_t>(n));
        }
        const size_t sp1 = request.find(' ');
        const size_t sp2 = request.find(' ', sp1 + 1);
        std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
        path = path.substr(0, path.find('?'));
        std::string range;
        if (const size_t r = request.find("\r\nRange: "); r != std::string::npos) {
            range = request.substr(r + 9, request.find("\r\n", r + 2) - r - 9);
        }
        int index = 0;
        {
            std::lock_guard lock(mu_);
            ranges_.push_back(range);
            index = static_cast<int>(ranges_.size());
        }
        auto it = files_.find(path);
        if (it == files_.end()) {
            SendAll(fd, faults_.protocol + " 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        const std::string& body = it->second;
        size_t first = 0;
        size_t last = body.empty() ? 0 : body.size() - 1;
        bool partial = false;
        if (!range.empty() && !faults_.ignore_range && range.starts_with("bytes=")) {
            const std::string spec = range.substr(6);
            const size_t dash = spec.find('-');
            first = std::stoull(spec.substr(0, dash));
            if (dash + 1 < spec.size()) {
                last = std::min<size_t>(std::stoull(spec.substr(dash + 1)), body.size() - 1);
            }
            partial = true;
        }
        const std::string slice = body.substr(first, last - first + 1);
        std::string head =
            faults_.protocol + (partial ? " 206 Partial Content\r\n" : " 200 OK\r\n");
        head += "Content-Length: " + std::to_string(slice.size()) + "\r\n";
        if (partial) {
            head += "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) +
                    "/" + std::to_string(body.size()) + "\r\n";
        }
        head += "Connection: close\r\n\r\n";
        if (index <= faults_.cut_requests) {
            SendAll(fd, head + slice.substr(0, std::min(slice.size(), faults_.cut_after)));
            return;
        }
        SendAll(fd, head + slice);
    }

    const std::map<std::string, std::string> files_;
    const Faults faults_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mu_;
    std::vector<std::string> ranges_;  // guarded by mu_
};

/// The mosquitto executable, or nothing when it is not installed.
inline std::optional<std::string> FindMosquitto() {
    for (const char* p :
         {"/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"}) {
        if (::access(p, X_OK) == 0) {
            return std::string(p);
        }
    }
    return std::nullopt;
}

/// A Mosquitto broker on a free loopback port with anonymous access, stopped on destruction.
class MosquittoProcess {
  public:
    explicit MosquittoProcess(const std::string& binary) {
        dir_ = std::filesystem::temp_directory_path() /
               ("otad-devsim-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        port_ = FreePort();
        const std::string conf = (dir_ / "mosquitto.conf").string();
        {
            std::ofstream out(conf);
            out << "listener " << port_ << " 127.0.0.1\n"
                << "allow_anonymous true\n"
                << "persistence false\n"
                << "max_keepalive 1200\n"
                // A root broker otherwise switches to the mosquitto user, which also drops the
                // parent-death signal set below.
                << (::geteuid() == 0 ? "user root\n" : "") << "log_dest none\n";
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            // The broker goes when the test process goes, even if the test crashes.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            ::execl(
                binary.c_str(), binary.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < until && !loopback::PortAccepts(port_)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~MosquittoProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    MosquittoProcess(const MosquittoProcess&) = delete;
    MosquittoProcess& operator=(const MosquittoProcess&) = delete;

    uint16_t port() const { return port_; }
    bool Ready() const { return loopback::PortAccepts(port_); }

  private:
    std::filesystem::path dir_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace otad::devsim::testing
