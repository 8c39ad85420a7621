#include "mqtt/device_gateway.hpp"

#include "common/log.hpp"
#include "mqtt/alink_codec.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

namespace otad::mqtt {
namespace {

/// Longest topic quoted in a log line.
constexpr size_t kMaxLoggedTopicBytes = 160;

std::string ErrorText(const Error& e) {
    std::string s = e.message.empty() ? std::string(ErrorCodeName(e.code)) : e.message;
    if (!e.internal.empty()) {
        s += " (" + e.internal + ")";
    }
    return s;
}

// Topics come from devices: keep log lines printable and short.
std::string Printable(std::string_view text) {
    std::string out;
    const size_t n = std::min(text.size(), kMaxLoggedTopicBytes);
    out.reserve(n + 3);
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out.push_back(c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c));
    }
    if (text.size() > n) {
        out += "...";
    }
    return out;
}

void Raise(std::atomic<int64_t>& high_water, int64_t value) {
    int64_t current = high_water.load(std::memory_order_relaxed);
    while (value > current &&
           !high_water.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
    }
}

}  // namespace

DeviceGateway::DeviceGateway(DeviceChannel& channel,
                             PublishSink& sink,
                             const Clock& clock,
                             GatewayOptions options,
                             PresenceSubscription* presence)
    : channel_(channel),
      sink_(sink),
      clock_(clock),
      options_(std::move(options)),
      presence_(options_.presence_lease ? presence : nullptr),
      following_(!options_.presence_lease) {}

DeviceGateway::~DeviceGateway() {
    Stop();
}

void DeviceGateway::Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ || worker_.joinable()) {
        return;
    }
    accepting_ = true;
    running_ = true;
    next_stats_ = std::chrono::steady_clock::now() + options_.stats_interval;
    next_lease_check_ = std::chrono::steady_clock::now();
    worker_ = std::thread([this] { Run(); });
}

void DeviceGateway::Stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        accepting_ = false;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    if (worker_.joinable()) {
        worker_.join();
        MaybeLogStats(true);
    }
}

void DeviceGateway::Flush() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = queued_seq_;
    done_.wait(lock, [&] { return done_seq_ >= target || !running_; });
}

void DeviceGateway::OnConnected() {
    connects_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t generation = link_generation_.fetch_add(1) + 1;
    Enqueue(Item{ItemKind::kConnected, generation, {}});
}

void DeviceGateway::OnDisconnected() {
    // Paced pushes stop until the next connection's presence reset has been applied: until
    // then the stored presence is stale and the pushes could not be delivered anyway.
    // Devices stay as last seen until that reset.
    link_generation_.fetch_add(1);
}

void DeviceGateway::OnMessage(std::string_view topic, std::string_view payload) {
    Result<domain::DeviceEvent> event = DecodeUplink(topic, payload);
    if (!event.ok()) {
        events_rejected_.fetch_add(1, std::memory_order_relaxed);
        LogRejection(topic, event.error().message);
        return;
    }
    Enqueue(Item{ItemKind::kEvent, 0, std::move(event).value()});
}

void DeviceGateway::Enqueue(Item item) {
    const bool is_event = item.kind == ItemKind::kEvent;
    std::unique_lock<std::mutex> lock(mu_);
    // Markers are few (one per connection or lease taken) and the worker queues some itself,
    // so they never wait for room.
    not_full_.wait(lock, [&] {
        return !accepting_ || !is_event || queue_.size() < options_.max_queued_events;
    });
    if (!accepting_) {
        if (is_event) {
            events_dropped_.fetch_add(1, std::memory_order_relaxed);
        }
        return;
    }
    queue_.push_back(std::move(item));
    ++queued_seq_;
    Raise(queue_high_water_, static_cast<int64_t>(queue_.size()));
    lock.unlock();
    if (is_event) {
        events_queued_.fetch_add(1, std::memory_order_relaxed);
    }
    not_empty_.notify_one();
}

void DeviceGateway::Run() {
    using SteadyClock = std::chrono::steady_clock;
    std::vector<domain::DeviceEvent> batch;
    batch.reserve(options_.max_batch_events);
    auto next_push = SteadyClock::now();
    auto next_reoffer = SteadyClock::now() + options_.reoffer_interval;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
        if (queue_.empty()) {
            if (!accepting_) {
                break;
            }
            auto wake = std::min(next_push, next_stats_);
            if (options_.presence_lease) {
                wake = std::min(wake, next_lease_check_);
            }
            not_empty_.wait_until(lock, wake, [this] { return !queue_.empty() || !accepting_; });
        }
        // A marker is handled on its own, so that events queued before it are applied before
        // presence is reset and events after it only once it has been.
        std::optional<Item> marker;
        uint64_t taken = 0;
        if (!queue_.empty() && queue_.front().kind != ItemKind::kEvent) {
            marker = std::move(queue_.front());
            queue_.pop_front();
            taken = 1;
        } else {
            while (!queue_.empty() && queue_.front().kind == ItemKind::kEvent &&
                   batch.size() < options_.max_batch_events) {
                if (!DropsPresence(queue_.front().event)) {
                    batch.push_back(std::move(queue_.front().event));
                }
                queue_.pop_front();
                ++taken;
            }
        }
        const bool accepting = accepting_;
        lock.unlock();
        if (taken > 0) {
            not_full_.notify_all();
        }

        try {
            if (options_.presence_lease && accepting && SteadyClock::now() >= next_lease_check_) {
                CheckLease();
            }
            if (marker) {
                StartPresence(*marker);
            }
            if (!batch.empty()) {
                Apply(batch);
            }
            // Pushes are paced by the domain; after a batch they may include the tasks of
            // devices that just came online. Only while the connection whose presence is
            // stored is up.
            const bool link_up = fresh_generation_ != 0 && fresh_generation_ == link_generation_;
            if (link_up && (!batch.empty() || (accepting && SteadyClock::now() >= next_push))) {
                TakeDuePushes();
                next_push = SteadyClock::now() + options_.push_interval;
            }
            if (link_up && accepting && options_.reoffer_after.count() > 0 &&
                SteadyClock::now() >= next_reoffer) {
                ReofferStaleTasks();
                next_reoffer = SteadyClock::now() + options_.reoffer_interval;
            }
        } catch (const std::exception& e) {
            events_dropped_.fetch_add(static_cast<int64_t>(batch.size()),
                                      std::memory_order_relaxed);
            log::Error("device channel: " + std::to_string(batch.size()) +
                       " device events lost to an unexpected failure: " + e.what());
        }
        batch.clear();
        MaybeLogStats(false);

        lock.lock();
        done_seq_ += taken;
        done_.notify_all();
    }
    lock.unlock();
    if (options_.presence_lease && following_.load()) {
        // Another node takes over at its next attempt rather than at the end of the term.
        Status released = channel_.ReleasePresenceLease(options_.lease_holder);
        if (!released.ok()) {
            log::Warn(
                "device channel: giving up the presence lease failed (another node takes "
                "it when its term ends): " +
                ErrorText(released.error()));
        }
        following_.store(false);
    }
    lock.lock();
    running_ = false;
    lock.unlock();
    done_.notify_all();
}

bool DeviceGateway::DropsPresence(const domain::DeviceEvent& event) const {
    // Presence that reaches a node which does not follow it (it arrived before the node
    // unsubscribed) is left to the follower, which has it too.
    return !following_.load() && (event.kind == domain::DeviceEventKind::kOnline ||
                                  event.kind == domain::DeviceEventKind::kOffline);
}

void DeviceGateway::StartPresence(const Item& marker) {
    if (marker.kind == ItemKind::kConnected) {
        fresh_generation_ = marker.generation;
    }
    if (!following_.load()) {
        return;
    }
    if (marker.kind == ItemKind::kFollow && !follow_pending_) {
        return;  // a connection since the lease was taken has started presence already
    }
    follow_pending_ = false;
    // Everything applied before is forgotten; the replay of the broker's retained presence,
    // which the subscription below (or the broker client's, with one node) brings after this
    // marker, names the devices connected now.
    ResetPresence();
    if (presence_ != nullptr) {
        Status st = presence_->SubscribePresence(true);
        if (!st.ok() && marker.kind == ItemKind::kFollow) {
            // Not connected: the next connection's marker subscribes.
            log::Info("device channel: presence is subscribed at the next broker connection: " +
                      ErrorText(st.error()));
        }
    }
}

void DeviceGateway::CheckLease() {
    const auto started = std::chrono::steady_clock::now();
    next_lease_check_ = started + options_.lease_renew_interval;
    Result<bool> held =
        channel_.HoldPresenceLease(options_.lease_holder, options_.lease_term.count());
    if (!held.ok()) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        if (following_.load() && std::chrono::steady_clock::now() >= lease_sure_until_) {
            StopFollowing("the presence lease could not be renewed: " + ErrorText(held.error()));
        }
        return;
    }
    if (!*held) {
        if (following_.load()) {
            StopFollowing("another node holds the presence lease");
        }
        return;
    }
    lease_sure_until_ = started + options_.lease_term - options_.lease_renew_interval;
    if (!following_.load()) {
        follow_pending_ = true;
        log::Info("device channel: this node follows device presence (holds the presence lease)");
        // Queued before the flag shows in Counters(), so that a Flush() after seeing it waits
        // for the marker too.
        Enqueue(Item{ItemKind::kFollow, 0, {}});
        following_.store(true);
    }
}

void DeviceGateway::StopFollowing(const std::string& why) {
    following_.store(false);
    log::Warn("device channel: this node stops following device presence: " + why);
    if (presence_ != nullptr) {
        // Not connected: nothing to undo, the next connection does not subscribe.
        (void)presence_->SubscribePresence(false);
    }
}

void DeviceGateway::ResetPresence() {
    Status st = channel_.ResetPresence();
    if (!st.ok()) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        log::Warn("device channel: resetting presence failed, retrying: " + ErrorText(st.error()));
        st = channel_.ResetPresence();
    }
    if (!st.ok()) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        log::Error(
            "device channel: resetting presence failed; devices may show as online "
            "until they reconnect: " +
            ErrorText(st.error()));
    }
}

bool DeviceGateway::WaitBeforeRetry(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mu_);
    return !not_empty_.wait_for(lock, delay, [this] { return !accepting_; });
}

void DeviceGateway::Apply(const std::vector<domain::DeviceEvent>& events) {
    Result<domain::DeviceEventOutcome> outcome = channel_.ApplyDeviceEvents(events);
    if (!outcome.ok()) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        log::Warn("device channel: applying " + std::to_string(events.size()) +
                  " device events failed, retrying: " + ErrorText(outcome.error()));
        outcome = channel_.ApplyDeviceEvents(events);
    }
    // An unreachable database is waited for: the batch is applied once it is back (the bounded
    // queue meanwhile stops the reading of device messages). Only a stop gives up on it.
    auto delay = options_.unavailable_retry_min;
    while (!outcome.ok() && outcome.error().code == ErrorCode::kUnavailable &&
           WaitBeforeRetry(delay)) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        delay = std::min(delay * 2, options_.unavailable_retry_max);
        outcome = channel_.ApplyDeviceEvents(events);
        if (!outcome.ok()) {
            log::Warn("device channel: the database is unavailable; " +
                      std::to_string(events.size()) +
                      " device events wait for it: " + ErrorText(outcome.error()));
        }
    }
    if (!outcome.ok()) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        events_dropped_.fetch_add(static_cast<int64_t>(events.size()), std::memory_order_relaxed);
        log::Error("device channel: dropped " + std::to_string(events.size()) +
                   " device events after two failures: " + ErrorText(outcome.error()));
        return;
    }
    events_applied_.fetch_add(outcome->applied, std::memory_order_relaxed);
    events_ignored_.fetch_add(outcome->ignored, std::memory_order_relaxed);
    for (const domain::UpgradeNotice& notice : outcome->pushes) {
        const Outgoing out = RenderPush(notice, NextMessageId());
        Send(out.topic, out.payload, pushes_sent_);
    }
    for (const domain::PullReply& reply : outcome->replies) {
        if (std::optional<Outgoing> out = RenderPullReply(reply, NextMessageId())) {
            Send(out->topic, out->payload, replies_sent_);
        }
    }
}

void DeviceGateway::TakeDuePushes() {
    for (int round = 0; round < options_.max_takes_per_round; ++round) {
        Result<std::vector<domain::UpgradeNotice>> due =
            channel_.TakeDuePushes(options_.max_pushes_per_take);
        if (!due.ok()) {
            storage_errors_.fetch_add(1, std::memory_order_relaxed);
            // Logged once per failing stretch: this runs several times a second.
            if (!take_failing_) {
                log::Error("device channel: taking due pushes failed: " + ErrorText(due.error()));
            }
            take_failing_ = true;
            return;
        }
        if (take_failing_) {
            log::Info("device channel: taking due pushes works again");
            take_failing_ = false;
        }
        for (const domain::UpgradeNotice& notice : *due) {
            const Outgoing out = RenderPush(notice, NextMessageId());
            Send(out.topic, out.payload, pushes_sent_);
        }
        if (static_cast<int64_t>(due->size()) < options_.max_pushes_per_take) {
            return;
        }
    }
}

void DeviceGateway::ReofferStaleTasks() {
    Result<std::vector<domain::UpgradeNotice>> stale =
        channel_.ReofferStaleTasks(options_.reoffer_after.count(), options_.max_pushes_per_take);
    if (!stale.ok()) {
        storage_errors_.fetch_add(1, std::memory_order_relaxed);
        log::Error("device channel: offering stale tasks again failed: " +
                   ErrorText(stale.error()));
        return;
    }
    if (!stale->empty()) {
        log::Info("device channel: offering " + std::to_string(stale->size()) +
                  " unanswered update(s) again");
    }
    for (const domain::UpgradeNotice& notice : *stale) {
        const Outgoing out = RenderPush(notice, NextMessageId());
        Send(out.topic, out.payload, pushes_sent_);
    }
}

void DeviceGateway::Send(const std::string& topic,
                         const std::string& payload,
                         std::atomic<int64_t>& sent_counter) {
    Status st = sink_.Publish(topic, payload, options_.downlink_qos);
    if (st.ok()) {
        sent_counter.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // A device whose message is lost gets the update again when it reconnects or pulls. One
    // line per stats interval; the counters say how many were lost.
    publish_failures_.fetch_add(1, std::memory_order_relaxed);
    if (!publish_failure_logged_) {
        publish_failure_logged_ = true;
        log::Warn("device channel: publishing on " + Printable(topic) +
                  " failed: " + ErrorText(st.error()));
    }
}

int64_t DeviceGateway::NextMessageId() {
    // Millisecond ids, strictly increasing so that two messages never share one.
    last_message_id_ = std::max(clock_.NowMs(), last_message_id_ + 1);
    return last_message_id_;
}

void DeviceGateway::LogRejection(std::string_view topic, const std::string& reason) {
    if (rejection_logs_.fetch_add(1, std::memory_order_relaxed) < options_.max_rejection_logs) {
        log::Warn("device channel: dropped a message on " + Printable(topic) + ": " + reason);
    }
}

void DeviceGateway::MaybeLogStats(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now < next_stats_) {
        return;
    }
    next_stats_ = now + options_.stats_interval;
    const GatewayCounters c = Counters();
    const GatewayCounters& p = last_logged_;
    const bool changed =
        c.events_queued != p.events_queued || c.events_rejected != p.events_rejected ||
        c.events_dropped != p.events_dropped || c.pushes_sent != p.pushes_sent ||
        c.replies_sent != p.replies_sent || c.publish_failures != p.publish_failures ||
        c.storage_errors != p.storage_errors || c.connects != p.connects;
    rejection_logs_.store(0, std::memory_order_relaxed);
    publish_failure_logged_ = false;
    if (!changed) {
        return;
    }
    auto delta = [](int64_t now_value, int64_t before) {
        return std::to_string(now_value - before);
    };
    log::Info("device channel: events applied " + delta(c.events_applied, p.events_applied) +
              ", ignored " + delta(c.events_ignored, p.events_ignored) + ", rejected " +
              delta(c.events_rejected, p.events_rejected) + ", dropped " +
              delta(c.events_dropped, p.events_dropped) + "; pushes " +
              delta(c.pushes_sent, p.pushes_sent) + ", replies " +
              delta(c.replies_sent, p.replies_sent) + ", publish failures " +
              delta(c.publish_failures, p.publish_failures) + "; storage errors " +
              delta(c.storage_errors, p.storage_errors) + "; queue high-water " +
              std::to_string(c.queue_high_water) + ", reconnects " + std::to_string(c.reconnects));
    last_logged_ = c;
}

GatewayCounters DeviceGateway::Counters() const {
    GatewayCounters c;
    c.events_queued = events_queued_.load(std::memory_order_relaxed);
    c.events_applied = events_applied_.load(std::memory_order_relaxed);
    c.events_ignored = events_ignored_.load(std::memory_order_relaxed);
    c.events_rejected = events_rejected_.load(std::memory_order_relaxed);
    c.events_dropped = events_dropped_.load(std::memory_order_relaxed);
    c.pushes_sent = pushes_sent_.load(std::memory_order_relaxed);
    c.replies_sent = replies_sent_.load(std::memory_order_relaxed);
    c.publish_failures = publish_failures_.load(std::memory_order_relaxed);
    c.storage_errors = storage_errors_.load(std::memory_order_relaxed);
    c.queue_high_water = queue_high_water_.load(std::memory_order_relaxed);
    c.connects = connects_.load(std::memory_order_relaxed);
    c.following_presence = following_.load();
    c.reconnects = std::max<int64_t>(0, c.connects - 1);
    return c;
}

}  // namespace otad::mqtt
