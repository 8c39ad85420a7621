#pragma once

#include "domain/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// What devices tell otad and what otad tells devices, in domain terms. The transport (MQTT
// topics, Alink JSON) lives in src/mqtt; here a device is named by its ProductKey and
// DeviceName, which are unique across tenants, and the service resolves the tenant itself.

namespace otad::domain {

/// One file of a package as a device downloads it.
struct NoticeFile {
    std::string name;
    std::string url;  ///< ready to download: signed when the file is stored by otad
    int64_t size = 0;
    std::string md5;   ///< lower-case hex; empty when the package is signed with SHA256
    std::string sign;  ///< digest under the package's sign method, lower-case hex
};

/// An update offered to a device: the content of an upgrade push or of a pull reply.
struct UpgradeNotice {
    std::string product_key;
    std::string device_name;
    std::string task_id;      ///< not sent to the device; for logs and tests
    std::string module_name;  ///< "default" for the implicit module
    std::string version;      ///< destination version
    SignMethod sign_method = SignMethod::kMd5;
    bool is_diff = false;
    /// One entry for a single-file package, several for a multi-file one.
    std::vector<NoticeFile> files;
    /// The batch's tags, delivered to the device as extData.
    std::vector<Tag> tags;
    /// The package's Udi text; empty when it has none.
    std::string udi;
};

enum class DeviceEventKind {
    kOnline,    ///< the device logged in on a new connection
    kOffline,   ///< the device's current connection closed
    kVersion,   ///< version report of one module
    kProgress,  ///< progress report of one module
    kPull,      ///< the device asks for its pending update of one module
};

/// How a pull reply travels back; the transport decides the topic from it.
enum class PullStyle {
    kFirmwareGet,  ///< thing.ota.firmware.get, answered on its get_reply topic
    kLegacy,       ///< the legacy request topic, answered with a push document on that topic
};

struct DeviceEvent {
    DeviceEventKind kind = DeviceEventKind::kVersion;
    std::string product_key;
    std::string device_name;
    std::string module_name;  ///< "" or "default": the default module
    std::string version;      ///< kVersion
    int64_t step = 0;         ///< kProgress: -4..100
    std::string desc;         ///< kProgress
    std::string ip_address;   ///< kOnline, may be empty
    int64_t at_ms = 0;        ///< kOnline/kOffline: when the broker saw it; 0 = now
    PullStyle pull_style = PullStyle::kFirmwareGet;  ///< kPull
    std::string request_id;  ///< kPull: the id of the request, echoed in the reply
};

/// The answer to one pull: the pending update, or nothing when there is none.
struct PullReply {
    std::string product_key;
    std::string device_name;
    std::string module_name;
    PullStyle style = PullStyle::kFirmwareGet;
    std::string request_id;
    std::optional<UpgradeNotice> notice;
};

/// What applying a run of device events produced, for the transport to send.
struct DeviceEventOutcome {
    std::vector<UpgradeNotice> pushes;
    std::vector<PullReply> replies;
    int64_t applied = 0;  ///< events that changed or were checked against stored state
    int64_t ignored = 0;  ///< events of unknown devices or with invalid content
};

}  // namespace otad::domain
