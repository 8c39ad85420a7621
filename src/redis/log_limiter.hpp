#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace otad::redis {

/// Lets a log line through at most once per period (real time), so that a failure repeated
/// on every request shows once per period instead of flooding the log. Thread-safe.
class LogLimiter {
  public:
    explicit LogLimiter(std::chrono::milliseconds period = std::chrono::seconds(10))
        : period_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(period).count()) {}

    /// True when the caller should write its line now.
    bool Allow() {
        const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count();
        int64_t next = next_ns_.load(std::memory_order_relaxed);
        while (now >= next) {
            if (next_ns_.compare_exchange_weak(next, now + period_ns_, std::memory_order_relaxed)) {
                return true;
            }
        }
        return false;
    }

  private:
    int64_t period_ns_;
    std::atomic<int64_t> next_ns_{INT64_MIN};
};

}  // namespace otad::redis
