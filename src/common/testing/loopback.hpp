#pragma once

// Loopback TCP ports for tests that start servers of their own.

#include <arpa/inet.h>
#include <cstdint>
#include <cstdio>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

namespace otad::loopback {

/// The lowest port of the kernel's ephemeral range. The local ends of outgoing connections and
/// of servers that bind port 0 come from that range, so a port taken from it may be in use by
/// the time a server binds it although nothing listened on it.
inline uint16_t EphemeralLow() {
    unsigned low = 0;
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
        if (std::fscanf(f, "%u", &low) != 1) {
            low = 0;
        }
        std::fclose(f);
    }
    return low > 11024 && low <= 65535 ? static_cast<uint16_t>(low) : uint16_t{32768};
}

/// 127.0.0.1:`port`.
inline sockaddr_in LoopbackAddress(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

/// A TCP port on 127.0.0.1, below the ephemeral range, that could be bound a moment ago; 0 when
/// none was found.
inline uint16_t FreePort() {
    std::random_device seed;
    std::mt19937 rng(seed());
    std::uniform_int_distribution<int> pick(10000, EphemeralLow() - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            return 0;
        }
        const auto port = static_cast<uint16_t>(pick(rng));
        sockaddr_in addr = LoopbackAddress(port);
        const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        if (bound) {
            return port;
        }
    }
    return 0;
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` now.
inline bool PortAccepts(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in addr = LoopbackAddress(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
}

}  // namespace otad::loopback
