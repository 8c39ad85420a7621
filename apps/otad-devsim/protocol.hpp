#pragma once

// The device side of the Alink OTA conversation as Alibaba's device SDKs speak it: MQTT login
// material, topic names, the uplink payloads byte for byte, and the parsing of the downlinks
// that carry a package. Everything here is pure; sockets live elsewhere.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otad::devsim {

/// Which SDK a simulated device imitates (device-protocol §2.3).
enum class Style {
    k4x,    ///< Link SDK C 4.x: no OTA SUBSCRIBE, upper-case HMAC-SHA256, numeric ids.
    k3x,    ///< iotkit-embedded 3.x: SUBSCRIBEs OTA topics, lower-case HMAC-SHA256, string ids.
    kNode,  ///< npm alibabacloud-iot-device-sdk: HMAC-SHA1 with a real timestamp.
};

/// "4x", "3x" or "node"; nothing for other text.
std::optional<Style> ParseStyle(std::string_view text);
std::string_view StyleName(Style style);

struct DeviceIdentity {
    std::string product_key;
    std::string device_name;
    /// Secret: used for the HMAC only, never logged.
    std::string device_secret;
};

/// What goes into CONNECT.
struct MqttCredentials {
    std::string client_id;
    std::string username;
    std::string password;
};

enum class HmacMethod { kSha256, kSha1, kMd5 };
enum class HexCase { kLower, kUpper };

/// Hex HMAC over "clientId<id>deviceName<dn>productKey<pk>[timestamp<ts>]" keyed with the
/// device secret (device-protocol §2.1). `id` is the clientId part before the first bar; an
/// empty `timestamp` leaves the timestamp item out.
std::string SignPassword(HmacMethod method,
                         HexCase hex_case,
                         const DeviceIdentity& identity,
                         std::string_view id,
                         std::string_view timestamp);

/// The clientId, username and password the imitated SDK sends. `now_ms` (Unix milliseconds)
/// is used by the Node style only; the C SDKs sign with a fixed timestamp.
MqttCredentials BuildCredentials(Style style, const DeviceIdentity& identity, int64_t now_ms);

/// Keepalive in seconds the imitated SDK uses by default.
int DefaultKeepaliveSeconds(Style style);
/// Clean-session flag of the imitated SDK.
bool DefaultCleanSession(Style style);

enum class Topic {
    kInform,            ///< T1 up
    kUpgrade,           ///< T2 down
    kProgress,          ///< T3 up
    kFirmwareGet,       ///< T4 up
    kFirmwareGetReply,  ///< T5 down
    kRequest,           ///< T6 up and down
};

std::string TopicName(Topic topic, std::string_view product_key, std::string_view device_name);

/// The downlink topic `topic` is for this device, or nothing when it is none of T2, T5, T6.
std::optional<Topic> ClassifyDownlink(std::string_view topic,
                                      std::string_view product_key,
                                      std::string_view device_name);

/// T1 body: version of `module` (empty: default module, omitted from the message).
std::string InformPayload(Style style,
                          uint32_t id,
                          std::string_view version,
                          std::string_view module);
/// T3 body. `step` is a percentage or a negative error step.
std::string ProgressPayload(
    Style style, uint32_t id, int step, std::string_view desc, std::string_view module);
/// T4 body as Link SDK 4.x writes it: `{"id":2, "params":{}}`.
std::string FirmwareGetPayload(uint32_t id, std::string_view module);
/// T6 request body as iotkit 3.x writes it.
std::string LegacyRequestPayload(uint32_t id, std::string_view version);

/// MQTT QoS of each uplink in the imitated SDK (device-protocol §1 item 13).
int InformQos(Style style);
int ProgressQos(Style style);
int RequestQos(Style style);

enum class DigestMethod { kMd5, kSha256 };

/// How the device compares the computed digest with the pushed one.
enum class DigestCompare {
    kExactLower,  ///< iotkit 3.x: strcmp against the lower-case digest.
    kAnyCase,     ///< Link SDK 4.x: hex in either case.
};

struct FileSpec {
    std::string name;
    uint64_t size = 0;
    std::string url;
    /// Hex digest as pushed (not normalised).
    std::string digest;
};

/// One update as a push or a pull reply describes it.
struct Package {
    std::string version;
    /// `module` exactly as pushed (copied into progress and the final inform); empty if absent.
    std::string module;
    DigestMethod method = DigestMethod::kMd5;
    DigestCompare compare = DigestCompare::kAnyCase;
    std::vector<FileSpec> files;
    bool is_diff = false;
};

/// The module name under which versions are tracked: "" for absent or "default".
std::string ModuleKey(std::string_view pushed_module);

enum class DownlinkKind {
    kUpgrade,   ///< T2 push
    kGetReply,  ///< T5 reply to firmware/get
    kRequest,   ///< T6 reply to the legacy request (also the device's own echo)
};

struct Downlink {
    enum class Outcome {
        kPackage,         ///< `package` is filled in.
        kNothingPending,  ///< a pull reply with empty data.
        kIgnored,         ///< the imitated SDK would drop the message; `reason` says why.
    };
    Outcome outcome = Outcome::kIgnored;
    Package package;
    std::string reason;
};

/// Upper limits the parser enforces, as the SDKs do.
inline constexpr size_t kMaxDownlinkBytes = 64 * 1024;
inline constexpr size_t kMaxUrlBytes = 254;  // 4.x copies URLs with an 8-bit length.
inline constexpr size_t kMaxFiles = 20;      // Link SDK 4.2's multi-file limit.

/// Parses a downlink the way the imitated SDK would. Never throws; anything malformed or
/// missing a field the SDK needs yields kIgnored with a reason for the log.
Downlink ParseDownlink(DownlinkKind kind, Style style, std::string_view payload);

}  // namespace otad::devsim
