#pragma once

// A few threads that download firmware with blocking sockets for the event loops, and the
// bounded queues between them: jobs go in through DownloadPool::Submit, progress and results
// come back through one EventQueue per loop, which wakes the loop through an eventfd.

#include "http_fetch.hpp"
#include "protocol.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace otad::devsim {

struct DownloadJob {
    /// Which EventQueue receives the events.
    uint32_t loop = 0;
    /// Opaque to the pool: the loop's index of the device, and the task the job belongs to.
    uint32_t device = 0;
    uint64_t token = 0;
    Style style = Style::k4x;
    Package package;
    /// Progress events are sent each time the total crosses a multiple of this percentage
    /// (100 itself is left to the loop, which reports it after the digest check).
    int progress_every = 50;
};

struct DownloadEvent {
    enum class Kind { kProgress, kFinished };
    Kind kind = Kind::kFinished;
    uint32_t device = 0;
    uint64_t token = 0;
    /// kProgress: percent of all the package's bytes.
    int percent = 0;
    /// kFinished: the outcome of the first file that did not succeed, or kOk.
    FetchResult::Status status = FetchResult::Status::kFailed;
    std::string detail;
};

/// Bounded multi-producer queue drained by one loop thread. Thread-safe.
class EventQueue {
  public:
    explicit EventQueue(size_t capacity);
    ~EventQueue();
    EventQueue(const EventQueue&) = delete;
    EventQueue& operator=(const EventQueue&) = delete;

    /// Readable (eventfd) while events are queued.
    int fd() const { return fd_; }
    /// Blocks while the queue is full. Returns false, dropping the event, once closed.
    bool Push(DownloadEvent event);
    /// Moves every queued event to the end of `out` and resets the eventfd.
    void Drain(std::vector<DownloadEvent>& out);
    /// Releases blocked producers; later pushes are dropped.
    void Close();

  private:
    const size_t capacity_;
    int fd_ = -1;
    std::mutex mu_;
    std::condition_variable not_full_;
    std::deque<DownloadEvent> events_;  // guarded by mu_
    bool closed_ = false;               // guarded by mu_
};

/// Totals kept by the download threads.
struct DownloadCounters {
    std::atomic<uint64_t> files{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> resumes{0};
};

class DownloadPool {
  public:
    /// Starts `threads` workers. `sinks[job.loop]` receives the events of a job; the queues
    /// and counters must outlive the pool.
    DownloadPool(size_t threads,
                 size_t capacity,
                 FetchOptions options,
                 std::vector<EventQueue*> sinks,
                 DownloadCounters& counters);
    /// Stops and joins the workers.
    ~DownloadPool();
    DownloadPool(const DownloadPool&) = delete;
    DownloadPool& operator=(const DownloadPool&) = delete;

    /// Queues a job without blocking. False when `capacity` jobs are already waiting or the
    /// pool is stopping.
    bool Submit(DownloadJob job);
    /// Lets the running downloads finish (each bounded by the fetch deadline) and joins.
    void Stop();

  private:
    void Work();
    void Run(const DownloadJob& job);

    const size_t capacity_;
    const FetchOptions options_;
    const std::vector<EventQueue*> sinks_;
    DownloadCounters& counters_;
    std::mutex mu_;
    std::condition_variable has_job_;
    std::deque<DownloadJob> jobs_;  // guarded by mu_
    bool stopping_ = false;         // guarded by mu_
    std::vector<std::thread> workers_;
};

}  // namespace otad::devsim
