#pragma once

#include "common/result.hpp"
#include "mqtt/alink_codec.hpp"
#include "mqtt/ports.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace otad::mqtt {

/// How otad connects to the broker as its server account.
struct BrokerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 1883;
    std::string username;
    std::string password;  ///< never logged
    std::string client_id;
    /// Keep the session at the broker while otad is away, so that device reports published
    /// meanwhile are delivered when it reconnects (the broker must queue QoS 0 messages for
    /// that: `queue_qos0_messages true`). Needs a client id that stays the same across runs.
    bool persistent_session = true;
    /// Several otad nodes: the name of the MQTT shared subscription group through which the
    /// broker hands each device report to exactly one node (`$share/<group>/<filter>`).
    /// Presence (kPresenceFilter) is then not subscribed on connection: the node that follows
    /// presence subscribes to it, plainly, through SubscribePresence. Empty: one node, plain
    /// subscriptions, presence included.
    std::string shared_group;
    int keepalive_s = 60;
    /// Wait before the first reconnect attempt; doubles after each failed one up to the max.
    std::chrono::milliseconds reconnect_min{1000};
    std::chrono::milliseconds reconnect_max{30'000};
    /// QoS 1 messages in flight (sent, PUBACK not yet received) at once.
    int max_inflight = 100;
    /// Publish refuses new messages while this many are waiting to be written or acknowledged.
    int64_t max_unacked_publishes = 50'000;
    /// Longest the network thread waits for traffic before it checks keepalive and Stop.
    std::chrono::milliseconds poll_interval{250};
};

/// otad's connection to the MQTT broker (libmosquitto, MQTT 3.1.1, a persistent session).
///
/// One network thread of its own connects, reconnects after any failure with exponential
/// backoff, subscribes to the OTA uplinks (kUplinkFilters, QoS 1) on every connection, and
/// reports to the listener on that thread. The thread drives mosquitto_loop itself rather
/// than mosquitto_loop_start, because the library's loop gives up for good after some errors
/// (name resolution, protocol) and sleeps through its backoff without noticing a stop
/// request; here a broker that comes back is always found again and Stop is prompt. A
/// connection attempt that gets no CONNACK is abandoned after the keepalive interval.
///
/// Publish may be called from any thread.
class BrokerClient final : public PublishSink, public PresenceSubscription {
  public:
    explicit BrokerClient(BrokerOptions options);
    ~BrokerClient() override;
    BrokerClient(const BrokerClient&) = delete;
    BrokerClient& operator=(const BrokerClient&) = delete;

    /// Starts the network thread; `listener` must outlive Stop. kInvalidParameter for options
    /// the library refuses (empty host or client id, keepalive below 5 s); kInternal when the
    /// library cannot create a client. Connection failures are not errors: they are logged
    /// and retried.
    Status Start(BrokerListener& listener);
    /// Disconnects cleanly (messages handed to Publish before are written first) and joins
    /// the network thread. Idempotent.
    void Stop();

    Status Publish(const std::string& topic, const std::string& payload, int qos) override;
    /// With a shared group only (kInvalidParameter otherwise: presence is then always
    /// subscribed).
    Status SubscribePresence(bool on) override;

    bool connected() const { return connected_.load(std::memory_order_relaxed); }
    std::string endpoint() const;

  private:
    struct Deleter {
        void operator()(mosquitto* m) const;
    };

    /// The subscriptions made on every connection: kUplinkFilters as this node takes them
    /// (shared or not; presence only without a shared group).
    std::vector<std::string> filters_;

    static void HandleConnect(mosquitto* m, void* self, int rc);
    static void HandleDisconnect(mosquitto* m, void* self, int rc);
    static void HandleMessage(mosquitto* m, void* self, const mosquitto_message* msg);
    static void HandlePublish(mosquitto* m, void* self, int mid);

    void Run();
    /// One connection attempt and, if it succeeds, the life of that connection. Returns
    /// whether the broker accepted the connection at some point.
    bool RunConnection(bool first);
    void DisconnectAndFlush();
    bool WaitBeforeRetry(std::chrono::milliseconds delay);

    BrokerOptions options_;
    std::unique_ptr<mosquitto, Deleter> mosq_;
    BrokerListener* listener_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    /// Messages handed to the library and not yet written (QoS 0) or acknowledged (QoS 1).
    std::atomic<int64_t> unacked_{0};
    bool accepted_in_attempt_ = false;  // network thread only
    std::mutex mu_;
    std::condition_variable cv_;  // wakes the backoff wait on Stop
};

}  // namespace otad::mqtt
