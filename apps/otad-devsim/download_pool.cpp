#include "download_pool.hpp"

#include <cerrno>
#include <sys/eventfd.h>
#include <unistd.h>

namespace otad::devsim {

EventQueue::EventQueue(size_t capacity)
    : capacity_(capacity), fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

EventQueue::~EventQueue() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool EventQueue::Push(DownloadEvent event) {
    bool was_empty = false;
    {
        std::unique_lock lock(mu_);
        not_full_.wait(lock, [&] { return closed_ || events_.size() < capacity_; });
        if (closed_) {
            return false;
        }
        was_empty = events_.empty();
        events_.push_back(std::move(event));
    }
    // Only the first event after a drain needs to wake the loop.
    if (was_empty) {
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof(one));
    }
    return true;
}

void EventQueue::Drain(std::vector<DownloadEvent>& out) {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof(count));
    {
        std::lock_guard lock(mu_);
        for (DownloadEvent& e : events_) {
            out.push_back(std::move(e));
        }
        events_.clear();
    }
    not_full_.notify_all();
}

void EventQueue::Close() {
    {
        std::lock_guard lock(mu_);
        closed_ = true;
    }
    not_full_.notify_all();
}

DownloadPool::DownloadPool(size_t threads,
                           size_t capacity,
                           FetchOptions options,
                           std::vector<EventQueue*> sinks,
                           DownloadCounters& counters)
    : capacity_(capacity),
      options_(std::move(options)),
      sinks_(std::move(sinks)),
      counters_(counters) {
    workers_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
        workers_.emplace_back([this] { Work(); });
    }
}

DownloadPool::~DownloadPool() {
    Stop();
}

bool DownloadPool::Submit(DownloadJob job) {
    {
        std::lock_guard lock(mu_);
        if (stopping_ || jobs_.size() >= capacity_ || job.loop >= sinks_.size()) {
            return false;
        }
        jobs_.push_back(std::move(job));
    }
    has_job_.notify_one();
    return true;
}

void DownloadPool::Stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        jobs_.clear();
    }
    has_job_.notify_all();
    for (std::thread& t : workers_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

void DownloadPool::Work() {
    while (true) {
        DownloadJob job;
        {
            std::unique_lock lock(mu_);
            has_job_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (stopping_) {
                return;
            }
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        Run(job);
    }
}

void DownloadPool::Run(const DownloadJob& job) {
    EventQueue& sink = *sinks_[job.loop];
    uint64_t total = 0;
    for (const FileSpec& f : job.package.files) {
        total += f.size;
    }
    const int every = job.progress_every > 0 ? job.progress_every : 100;
    uint64_t done_before = 0;  // bytes of the files already complete
    int next_percent = every;
    DownloadEvent finished;
    finished.kind = DownloadEvent::Kind::kFinished;
    finished.device = job.device;
    finished.token = job.token;
    finished.status = FetchResult::Status::kOk;
    for (const FileSpec& file : job.package.files) {
        auto on_bytes = [&](uint64_t received, uint64_t delta) {
            counters_.bytes.fetch_add(delta, std::memory_order_relaxed);
            if (total == 0) {
                return;
            }
            const int percent = static_cast<int>((done_before + received) * 100 / total);
            if (percent >= next_percent && percent < 100) {
                DownloadEvent e;
                e.kind = DownloadEvent::Kind::kProgress;
                e.device = job.device;
                e.token = job.token;
                e.percent = percent - percent % every;
                next_percent = e.percent + every;
                sink.Push(std::move(e));
            }
        };
        const FetchResult r =
            FetchFile(job.style, file, job.package.method, job.package.compare, options_, on_bytes);
        counters_.resumes.fetch_add(r.resumes, std::memory_order_relaxed);
        if (r.status != FetchResult::Status::kOk) {
            finished.status = r.status;
            finished.detail = file.name.empty() ? r.detail : file.name + ": " + r.detail;
            break;
        }
        counters_.files.fetch_add(1, std::memory_order_relaxed);
        done_before += file.size;
    }
    sink.Push(std::move(finished));
}

}  // namespace otad::devsim
