#pragma once

#include "common/result.hpp"
#include "domain/device_channel.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The seams of the device channel: what the gateway publishes through, what the broker
// connection reports to, and the domain operations the gateway drives. Each has one real
// implementation (BrokerClient, DeviceGateway, ServicesDeviceChannel) and test doubles.

namespace otad::mqtt {

/// Where downlink messages go.
class PublishSink {
  public:
    virtual ~PublishSink() = default;
    /// Hands one message to the transport. Never blocks on the network. kUnavailable when the
    /// message cannot be sent now (not connected, too many unacknowledged messages); the
    /// message is then dropped.
    virtual Status Publish(const std::string& topic, const std::string& payload, int qos) = 0;
};

/// Turns the subscription to device presence on and off, for a gateway that follows presence
/// only at times (several nodes: only the node holding the presence lease subscribes).
class PresenceSubscription {
  public:
    virtual ~PresenceSubscription() = default;
    /// Subscribes (the broker then replays the retained presence of every connected device)
    /// or unsubscribes. Never blocks on the network; kUnavailable when not connected, in which
    /// case the next connection is the caller's to handle.
    virtual Status SubscribePresence(bool on) = 0;
};

/// Receives what happens on the broker connection. Called on the connection's network thread,
/// one call at a time, in the order things happened: OnConnected comes before any message
/// received on that connection.
class BrokerListener {
  public:
    virtual ~BrokerListener() = default;
    virtual void OnConnected() = 0;
    virtual void OnDisconnected() = 0;
    /// May block briefly to push back on the broker when the receiver is saturated.
    virtual void OnMessage(std::string_view topic, std::string_view payload) = 0;
};

/// The domain operations of the device channel (domain::Services implements them through
/// ServicesDeviceChannel). Called from the gateway's worker thread only.
class DeviceChannel {
  public:
    virtual ~DeviceChannel() = default;
    virtual Result<domain::DeviceEventOutcome> ApplyDeviceEvents(
        const std::vector<domain::DeviceEvent>& events) = 0;
    virtual Result<std::vector<domain::UpgradeNotice>> TakeDuePushes(int64_t limit) = 0;
    virtual Result<std::vector<domain::UpgradeNotice>> ReofferStaleTasks(int64_t stale_after_ms,
                                                                         int64_t limit) = 0;
    virtual Status ResetPresence() = 0;
    virtual Result<bool> HoldPresenceLease(std::string_view holder, int64_t term_ms) = 0;
    virtual Status ReleasePresenceLease(std::string_view holder) = 0;
};

}  // namespace otad::mqtt
