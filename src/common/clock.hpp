#pragma once

#include <cstdint>

namespace otad {

/// Source of wall-clock time, injected so that tests can move time by hand.
/// Thread-safe implementations only.
class Clock {
  public:
    virtual ~Clock() = default;
    /// Milliseconds since the Unix epoch, UTC.
    virtual int64_t NowMs() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
  public:
    int64_t NowMs() const override;
    static const SystemClock& Instance();
};

/// A clock that moves only when told; for tests.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
    int64_t NowMs() const override { return now_ms_; }
    void Set(int64_t now_ms) { now_ms_ = now_ms; }
    void Advance(int64_t delta_ms) { now_ms_ += delta_ms; }

  private:
    int64_t now_ms_;
};

}  // namespace otad
