#pragma once

#include "common/result.hpp"
#include "domain/device_channel.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The Alink wire format of the OTA conversation (device-protocol §3): uplink topics and JSON
// bodies decoded into domain::DeviceEvent, and domain::UpgradeNotice / PullReply rendered into
// the documents devices expect. Pure functions, no MQTT library: the broker client hands
// topics and payloads in and publishes what comes out.

namespace otad::mqtt {

/// Largest uplink body decoded; larger ones are refused unread. OTA reports are a few hundred
/// bytes.
inline constexpr size_t kMaxUplinkPayloadBytes = 64 * 1024;
/// Longest ProductKey or DeviceName accepted in a topic (the platform allows 32).
inline constexpr size_t kMaxTopicNameBytes = 64;
/// Deepest JSON nesting accepted in an uplink body.
inline constexpr int kMaxJsonDepth = 16;
/// Longest request id echoed back; ids are documented as decimal numbers below 2^32.
inline constexpr size_t kMaxRequestIdBytes = 64;
/// Longest version string accepted (the platform's limit is 64 characters).
inline constexpr size_t kMaxVersionBytes = 255;
/// Longest module name accepted.
inline constexpr size_t kMaxModuleBytes = 255;
/// Progress descriptions are cut to this many bytes (at a character boundary).
inline constexpr size_t kMaxDescBytes = 1024;

/// The broker's retained presence of each device (published by otad's broker plugin).
inline constexpr const char* kPresenceFilter = "/as/mqtt/status/+/+";

/// The topic filters otad subscribes to, one per kind of uplink; the presence filter last.
inline constexpr const char* kUplinkFilters[] = {
    "/ota/device/inform/+/+",
    "/ota/device/progress/+/+",
    "/ota/device/request/+/+",
    "/sys/+/+/thing/ota/firmware/get",
    kPresenceFilter,
};

/// Decodes one uplink message. On success the event names the device of the topic. Fails
/// with kInvalidParameter and a short reason (safe to log: it never quotes the payload) when
/// the topic is not an OTA uplink, names no valid device, or the body is oversized, not JSON
/// or lacks what the kind of message needs. Unknown fields are ignored.
Result<domain::DeviceEvent> DecodeUplink(std::string_view topic, std::string_view payload);

/// One message to publish.
struct Outgoing {
    std::string topic;
    std::string payload;
};

std::string UpgradeTopic(std::string_view product_key, std::string_view device_name);
std::string FirmwareGetReplyTopic(std::string_view product_key, std::string_view device_name);
/// The legacy pull's topic, which carries both the request and its answer.
std::string LegacyRequestTopic(std::string_view product_key, std::string_view device_name);

/// The `data` object of a push or pull reply, as JSON text.
std::string RenderNoticeData(const domain::UpgradeNotice& notice);

/// The upgrade push (§3.3) on the device's upgrade topic. `message_id` is the envelope's
/// numeric id.
Outgoing RenderPush(const domain::UpgradeNotice& notice, int64_t message_id);

/// The answer to a pull: a get_reply (with empty `data` when nothing is pending) for
/// firmware/get, or the push document on the request topic for the legacy pull. Nothing for
/// a legacy pull without a pending update: such devices only act on a document with a URL.
std::optional<Outgoing> RenderPullReply(const domain::PullReply& reply, int64_t message_id);

}  // namespace otad::mqtt
