#pragma once

// The simulator proper: thousands of devices on a few event-loop threads. Each loop owns a
// slice of the devices, drives their libmosquitto clients with the non-threaded API from one
// epoll set, and hands firmware downloads to a shared DownloadPool whose results come back
// through the loop's EventQueue. No device ever has a thread of its own.

#include "options.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace otad::devsim {

/// Totals of one run; ToJson writes the one-line summary.
struct Summary {
    uint64_t devices = 0;
    /// Devices connected when the run ended.
    uint64_t connected = 0;
    /// Devices that connected at least once.
    uint64_t connected_ever = 0;
    /// Connection attempts that ended before a successful CONNACK.
    uint64_t connect_failures = 0;
    /// Connection attempts after each device's first.
    uint64_t reconnects = 0;
    /// Packages received by push or pull reply, including ignored ones.
    uint64_t pushes = 0;
    /// Packages ignored because the device was busy with the same module.
    uint64_t pushes_ignored = 0;
    /// Downlinks the imitated SDK would have dropped as malformed.
    uint64_t pushes_rejected = 0;
    /// Files downloaded completely.
    uint64_t downloads = 0;
    uint64_t download_bytes = 0;
    uint64_t resumes = 0;
    /// Updates that ended with the destination version reported.
    uint64_t succeeded = 0;
    /// Updates that ended with a negative progress step.
    uint64_t failed = 0;
    uint64_t timeouts_injected = 0;
    uint64_t offline_injected = 0;
    uint64_t wrong_versions_injected = 0;
    /// Devices waited for by --until-version, and those of them that reached it.
    uint64_t target_devices = 0;
    uint64_t at_target = 0;
    /// "done", "deadline", "duration" or "interrupted".
    std::string result;
    /// When every device was connected at once for the first time; -1 if never.
    int64_t all_connected_ms = -1;
    int64_t elapsed_ms = 0;
    /// Successes per second between the first package received and the last success.
    double upgrades_per_second = 0;
    int exit_code = 0;

    std::string ToJson() const;
};

/// File descriptors a run with `devices` devices needs: one MQTT socket per device, plus
/// downloads and loop plumbing.
uint64_t FileDescriptorsNeeded(const Config& config, size_t devices);

/// Raises the soft RLIMIT_NOFILE to the hard limit, first lifting the hard limit to `wanted`
/// when it is lower and the process may do so. Returns the soft limit now in effect.
uint64_t RaiseFileLimit(uint64_t wanted);

class Simulator {
  public:
    Simulator(Config config, std::vector<DeviceSpec> devices);
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    /// Connects every device and runs until --until-version is met, a deadline or duration
    /// passes, or RequestStop is called; then disconnects everything and returns the totals.
    /// Call once.
    Summary Run();

    /// Ends Run soon. Async-signal-safe.
    void RequestStop() { stop_requested_.store(true, std::memory_order_relaxed); }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::atomic<bool> stop_requested_{false};
};

}  // namespace otad::devsim
