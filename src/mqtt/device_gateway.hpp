#pragma once

#include "common/clock.hpp"
#include "domain/device_channel.hpp"
#include "mqtt/ports.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace otad::mqtt {

struct GatewayOptions {
    /// Decoded events waiting for the worker. When full, the broker's network thread waits,
    /// which pushes back on the broker instead of losing device reports.
    size_t max_queued_events = 20'000;
    /// Events applied in one domain transaction (group commit).
    size_t max_batch_events = 2'000;
    /// How often the worker asks for paced pushes when no events arrive.
    std::chrono::milliseconds push_interval{200};
    /// Pushes taken per TakeDuePushes call, and calls per round while each returns a full set.
    int64_t max_pushes_per_take = 1'000;
    int max_takes_per_round = 5;
    /// How often the counters are logged (only when something happened).
    std::chrono::milliseconds stats_interval{60'000};
    /// Undecodable messages logged one line each per stats interval; the rest are counted.
    int64_t max_rejection_logs = 20;
    int downlink_qos = 1;
    /// One node: every connection to the broker starts by marking all devices offline; the
    /// broker's retained presence then names those still connected. With several nodes this
    /// must not happen (one node's reconnection would mark offline the devices the others
    /// serve): presence is kept as last reported, and duplicate presence reports, which every
    /// node receives, change nothing.
    bool reset_presence_on_connect = true;
    /// Offers not answered for this long (a NOTIFIED task, or an IN_PROGRESS one without a
    /// report) are made again, at most max_pushes_per_take per check; zero turns this off.
    std::chrono::milliseconds reoffer_after{std::chrono::minutes(10)};
    /// How often the worker looks for such offers.
    std::chrono::milliseconds reoffer_interval{std::chrono::seconds(30)};
    /// Pauses between attempts at a batch while the database is unavailable: the first, then
    /// doubled up to the second.
    std::chrono::milliseconds unavailable_retry_min{100};
    std::chrono::milliseconds unavailable_retry_max{std::chrono::seconds(2)};
};

/// What the gateway did since it started.
struct GatewayCounters {
    int64_t events_queued = 0;     ///< decoded and queued
    int64_t events_applied = 0;    ///< the domain applied them
    int64_t events_ignored = 0;    ///< unknown devices or invalid content, per the domain
    int64_t events_rejected = 0;   ///< could not be decoded
    int64_t events_dropped = 0;    ///< lost to storage errors or to shutdown
    int64_t pushes_sent = 0;       ///< upgrade pushes handed to the broker
    int64_t replies_sent = 0;      ///< pull replies handed to the broker
    int64_t publish_failures = 0;  ///< messages the broker connection refused
    int64_t storage_errors = 0;    ///< failed domain calls (each retried once)
    int64_t queue_high_water = 0;  ///< most events queued at once
    int64_t connects = 0;          ///< broker connections, the first included
    int64_t reconnects = 0;        ///< connections after the first
};

/// Turns device messages into domain events and domain decisions into device messages.
///
/// The broker's network thread calls the BrokerListener methods: messages are decoded there
/// and queued (bounded); a connection queues a marker that makes the worker reset presence
/// before it applies the retained statuses the new connection delivers. One worker thread
/// applies queued events in batches of up to max_batch_events per ApplyDeviceEvents call,
/// publishes the resulting pushes and replies, and asks for paced pushes after each batch and
/// every push_interval, from the moment the current connection's presence reset is applied
/// until that connection is lost. A failed domain call is logged and retried once; a batch that
/// fails twice is dropped and counted, unless the database is unavailable: then the batch is
/// retried, with growing pauses, until it applies or the gateway stops. `channel`, `sink` and
/// `clock` must outlive the gateway.
class DeviceGateway final : public BrokerListener {
  public:
    DeviceGateway(DeviceChannel& channel,
                  PublishSink& sink,
                  const Clock& clock,
                  GatewayOptions options = {});
    ~DeviceGateway() override;
    DeviceGateway(const DeviceGateway&) = delete;
    DeviceGateway& operator=(const DeviceGateway&) = delete;

    /// Starts the worker thread. Once only.
    void Start();
    /// Stops taking messages, applies what is queued, publishes the results and joins the
    /// worker. Messages that arrive afterwards are counted as dropped. Idempotent.
    void Stop();
    /// Waits until every event queued before the call has been applied and its messages
    /// handed to the sink (or the worker stopped).
    void Flush();

    void OnConnected() override;
    void OnDisconnected() override;
    void OnMessage(std::string_view topic, std::string_view payload) override;

    GatewayCounters Counters() const;

  private:
    struct Item {
        bool reset_presence = false;
        uint64_t generation = 0;  ///< of the connection that queued the reset
        domain::DeviceEvent event;
    };

    void Enqueue(Item item);
    void Run();
    void ResetPresence();
    void Apply(const std::vector<domain::DeviceEvent>& events);
    /// Sleeps `delay` unless the gateway stops meanwhile; false when it stops.
    bool WaitBeforeRetry(std::chrono::milliseconds delay);
    void TakeDuePushes();
    void ReofferStaleTasks();
    void Send(const std::string& topic,
              const std::string& payload,
              std::atomic<int64_t>& sent_counter);
    int64_t NextMessageId();
    void LogRejection(std::string_view topic, const std::string& reason);
    void MaybeLogStats(bool force);

    DeviceChannel& channel_;
    PublishSink& sink_;
    const Clock& clock_;
    const GatewayOptions options_;

    mutable std::mutex mu_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::condition_variable done_;
    std::deque<Item> queue_;   // guarded by mu_
    bool accepting_ = false;   // guarded by mu_
    bool running_ = false;     // guarded by mu_
    uint64_t queued_seq_ = 0;  // guarded by mu_: items ever queued
    uint64_t done_seq_ = 0;    // guarded by mu_: items ever finished by the worker
    std::thread worker_;

    // Worker thread only.
    int64_t last_message_id_ = 0;
    bool take_failing_ = false;
    /// The connection whose presence reset was applied last (0: none yet).
    uint64_t fresh_generation_ = 0;
    bool publish_failure_logged_ = false;
    std::chrono::steady_clock::time_point next_stats_;
    GatewayCounters last_logged_;

    std::atomic<int64_t> events_queued_{0};
    std::atomic<int64_t> events_applied_{0};
    std::atomic<int64_t> events_ignored_{0};
    std::atomic<int64_t> events_rejected_{0};
    std::atomic<int64_t> events_dropped_{0};
    std::atomic<int64_t> pushes_sent_{0};
    std::atomic<int64_t> replies_sent_{0};
    std::atomic<int64_t> publish_failures_{0};
    std::atomic<int64_t> storage_errors_{0};
    std::atomic<int64_t> queue_high_water_{0};
    std::atomic<int64_t> connects_{0};
    /// Bumped by every connection and disconnection.
    std::atomic<uint64_t> link_generation_{0};
    std::atomic<int64_t> rejection_logs_{0};
};

}  // namespace otad::mqtt
