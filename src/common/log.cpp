#include "common/log.hpp"

#include "common/clock.hpp"
#include "common/time_format.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

namespace otad::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::string_view LevelName(Level level) {
    switch (level) {
        case Level::kDebug:
            return "DEBUG";
        case Level::kInfo:
            return "INFO";
        case Level::kWarn:
            return "WARN";
        case Level::kError:
            return "ERROR";
        case Level::kOff:
            return "OFF";
    }
    return "?";
}

}  // namespace

bool ParseLevel(std::string_view text, Level& out) {
    if (text == "debug") {
        out = Level::kDebug;
    } else if (text == "info") {
        out = Level::kInfo;
    } else if (text == "warn") {
        out = Level::kWarn;
    } else if (text == "error") {
        out = Level::kError;
    } else if (text == "off") {
        out = Level::kOff;
    } else {
        return false;
    }
    return true;
}

void SetLevel(Level level) {
    g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool Enabled(Level level) {
    return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

namespace {

void WriteAll(std::string_view text) {
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) {
            return;
        }
        p += static_cast<size_t>(n);
        left -= static_cast<size_t>(n);
    }
}

// Lines go to `pending` under `mu`. Whoever writes a batch to stderr takes `write_mu` before
// letting go of `mu`, so batches reach stderr in the order they left `pending`.
struct BufferState {
    std::mutex mu;
    std::mutex write_mu;
    std::condition_variable wake;
    std::string pending;
    bool buffered = false;
    bool stopping = false;
    size_t max_pending = 0;
    std::chrono::milliseconds interval{0};
    std::thread flusher;
};

BufferState& State() {
    static BufferState* const state = new BufferState();  // never destroyed: used until exit
    return *state;
}

// Called with `lock` held on State().mu; releases it. Writes `pending` and then `extra`.
void WriteOut(std::unique_lock<std::mutex>& lock, std::string_view extra) {
    BufferState& st = State();
    std::string batch;
    batch.swap(st.pending);
    std::lock_guard<std::mutex> writing(st.write_mu);
    lock.unlock();
    if (!batch.empty()) {
        WriteAll(batch);
    }
    if (!extra.empty()) {
        WriteAll(extra);
    }
}

void FlushLoop() {
    BufferState& st = State();
    std::unique_lock<std::mutex> lock(st.mu);
    while (!st.stopping) {
        st.wake.wait_for(lock, st.interval);
        if (!st.pending.empty()) {
            WriteOut(lock, {});
            lock.lock();
        }
    }
}

}  // namespace

void Write(Level level, std::string_view message) {
    std::string line = FormatUtcMs(SystemClock::Instance().NowMs());
    line += ' ';
    line += LevelName(level);
    line += ' ';
    line += message;
    line += '\n';
    BufferState& st = State();
    std::unique_lock<std::mutex> lock(st.mu);
    if (!st.buffered) {
        // One write(2) per line: atomic with respect to other lines for pipes up to PIPE_BUF
        // and in practice for files and terminals.
        lock.unlock();
        WriteAll(line);
        return;
    }
    if (level >= Level::kWarn) {
        WriteOut(lock, line);
        return;
    }
    st.pending += line;
    if (st.pending.size() >= st.max_pending) {
        WriteOut(lock, {});
    }
}

void Flush() {
    BufferState& st = State();
    std::unique_lock<std::mutex> lock(st.mu);
    if (!st.pending.empty()) {
        WriteOut(lock, {});
    }
}

Buffering::Buffering(std::chrono::milliseconds interval, size_t max_pending_bytes) {
    BufferState& st = State();
    std::lock_guard<std::mutex> lock(st.mu);
    st.interval = interval.count() > 0 ? interval : std::chrono::milliseconds(1);
    st.max_pending = max_pending_bytes > 0 ? max_pending_bytes : 1;
    st.stopping = false;
    st.buffered = true;
    st.flusher = std::thread(FlushLoop);
}

Buffering::~Buffering() {
    BufferState& st = State();
    {
        std::lock_guard<std::mutex> lock(st.mu);
        st.stopping = true;
        st.buffered = false;
    }
    st.wake.notify_all();
    st.flusher.join();
    Flush();
    std::lock_guard<std::mutex> lock(st.mu);
    std::string().swap(st.pending);
}

}  // namespace otad::log
