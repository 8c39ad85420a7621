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
    /// Who follows device presence (logins and disconnections). One node (false): this
    /// gateway, always; every connection to the broker starts by marking all devices offline,
    /// and the broker's retained presence then names those still connected. Several nodes
    /// (true): only the node that holds the presence lease, which it takes and renews through
    /// the database; that node subscribes to presence (through the PresenceSubscription given
    /// to the constructor) and marks every device offline first, on taking the lease and on
    /// each new connection. The others neither subscribe nor apply presence. One follower
    /// keeps the order of a device's logins and disconnections as the broker saw them, lets
    /// stale presence be cleared after a broker restart, and offers updates once per login.
    bool presence_lease = false;
    /// This node's name in the presence lease (its broker client id).
    std::string lease_holder;
    /// How long a taken or renewed lease lasts, and how often the follower renews it (and the
    /// others try to take it). A follower that cannot renew stops following one renewal
    /// interval before its term ends, so that two nodes never follow at once.
    std::chrono::milliseconds lease_term{std::chrono::seconds(15)};
    std::chrono::milliseconds lease_renew_interval{std::chrono::seconds(3)};
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
    int64_t events_queued = 0;        ///< decoded and queued
    int64_t events_applied = 0;       ///< the domain applied them
    int64_t events_ignored = 0;       ///< unknown devices or invalid content, per the domain
    int64_t events_rejected = 0;      ///< could not be decoded
    int64_t events_dropped = 0;       ///< lost to storage errors or to shutdown
    int64_t pushes_sent = 0;          ///< upgrade pushes handed to the broker
    int64_t replies_sent = 0;         ///< pull replies handed to the broker
    int64_t publish_failures = 0;     ///< messages the broker connection refused
    int64_t storage_errors = 0;       ///< failed domain calls (each retried once)
    int64_t queue_high_water = 0;     ///< most events queued at once
    int64_t connects = 0;             ///< broker connections, the first included
    int64_t reconnects = 0;           ///< connections after the first
    bool following_presence = false;  ///< applies presence now (the lease holder, or one node)
};

/// Turns device messages into domain events and domain decisions into device messages.
///
/// The broker's network thread calls the BrokerListener methods: messages are decoded there
/// and queued (bounded); a connection queues a marker that makes the worker reset presence
/// before it applies the retained statuses the new connection delivers (when this gateway
/// follows presence, see GatewayOptions::presence_lease). One worker thread
/// applies queued events in batches of up to max_batch_events per ApplyDeviceEvents call,
/// publishes the resulting pushes and replies, and asks for paced pushes after each batch and
/// every push_interval, from the moment the current connection's presence reset is applied
/// until that connection is lost. A failed domain call is logged and retried once; a batch that
/// fails twice is dropped and counted, unless the database is unavailable: then the batch is
/// retried, with growing pauses, until it applies or the gateway stops. `channel`, `sink` and
/// `clock` must outlive the gateway.
class DeviceGateway final : public BrokerListener {
  public:
    /// `presence` is required with options.presence_lease and unused otherwise; it must
    /// outlive the gateway.
    DeviceGateway(DeviceChannel& channel,
                  PublishSink& sink,
                  const Clock& clock,
                  GatewayOptions options = {},
                  PresenceSubscription* presence = nullptr);
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
    enum class ItemKind {
        kEvent,
        kConnected,  ///< a new broker connection: presence starts again (if followed)
        kFollow,     ///< this node took the presence lease: presence starts again
    };
    struct Item {
        ItemKind kind = ItemKind::kEvent;
        uint64_t generation = 0;  ///< kConnected: the connection's
        domain::DeviceEvent event;
    };

    void Enqueue(Item item);
    void Run();
    /// Handles a kConnected or kFollow marker on the worker.
    void StartPresence(const Item& marker);
    void ResetPresence();
    /// Takes or renews the presence lease, and starts or stops following presence.
    void CheckLease();
    void StopFollowing(const std::string& why);
    bool DropsPresence(const domain::DeviceEvent& event) const;
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
    PresenceSubscription* const presence_;

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

    /// The lease was taken and presence has not been started since.
    bool follow_pending_ = false;
    /// While following by lease: the lease is surely still this node's until then.
    std::chrono::steady_clock::time_point lease_sure_until_;
    std::chrono::steady_clock::time_point next_lease_check_;
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
    /// Whether this gateway follows presence now (always true without presence_lease). Set by
    /// the worker only; read by Counters() too.
    std::atomic<bool> following_;
    /// Bumped by every connection and disconnection.
    std::atomic<uint64_t> link_generation_{0};
    std::atomic<int64_t> rejection_logs_{0};
};

}  // namespace otad::mqtt
