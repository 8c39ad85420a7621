#pragma once

#include "common/result.hpp"
#include "domain/ports.hpp"
#include "mqtt/auth/alink_auth.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct mosquitto;
struct mosquitto_opt;
struct mosquitto_evt_acl_check;
struct mosquitto_evt_basic_auth;
struct mosquitto_evt_disconnect;
struct mosquitto_evt_message;

// What the Mosquitto plugin does for otad: Alink logins checked against otad's own database,
// per-device topic rules, downlinks pushed to a device without a SUBSCRIBE, and online/offline
// announcements. The extern "C" entry points (plugin.cpp) only forward events here.
//
// Threading: Mosquitto 2.0 runs every plugin callback on its single main thread, so the state
// below needs no lock. Device lookups block that thread for the duration of one indexed SQLite
// read (bounded by kStoreBusyTimeoutMs when otad holds a lock).

namespace otad::broker_plugin {

/// Keepalive below which a device's CONNECT is refused, as the platform does.
inline constexpr int kMinDeviceKeepaliveS = 30;
/// How long a device lookup waits for a lock held by otad before the login is refused.
inline constexpr int kStoreBusyTimeoutMs = 1000;
/// QoS of the presence announcements on /as/mqtt/status/...
inline constexpr int kPresenceQos = 1;

/// The plugin's settings, from `plugin_opt_<key> <value>` lines of mosquitto.conf.
struct PluginConfig {
    std::string database_path;    ///< `database`: otad's SQLite file (need not exist yet)
    std::string server_username;  ///< `server_username`: the account otad connects with
    std::string server_password;  ///< `server_password`
};

/// Reads `database`, `server_username` and `server_password` (all required, non-empty). The
/// server username must not contain `&`, so that it can never be read as a device login.
/// Unknown keys are an error, so that a misspelt option does not go unnoticed.
Result<PluginConfig> ParsePluginOptions(const mosquitto_opt* options, int option_count);

class AlinkBroker {
  public:
    explicit AlinkBroker(PluginConfig config);
    ~AlinkBroker();
    AlinkBroker(const AlinkBroker&) = delete;
    AlinkBroker& operator=(const AlinkBroker&) = delete;

    // Each handler returns a MOSQ_ERR_* code for Mosquitto.

    /// The server account with its password, or a device whose Alink password matches its
    /// DeviceSecret in otad's database; MOSQ_ERR_AUTH for everything else. A device login
    /// becomes the device's current connection and is announced online.
    int OnBasicAuth(const mosquitto_evt_basic_auth& event);
    /// The server account may do anything; a device only its own topics.
    int OnAclCheck(const mosquitto_evt_acl_check& event);
    /// Delivers a server publish on a device downlink topic to that device's current connection
    /// only, and stops normal routing of it (MOSQ_ERR_ACL_DENIED).
    int OnMessage(const mosquitto_evt_message& event);
    /// When a device's current connection ends: forgets it and announces the device offline.
    int OnDisconnect(const mosquitto_evt_disconnect& event);

  private:
    struct Connection {
        const mosquitto* client = nullptr;
        std::string client_id;
    };

    bool IsServer(const char* username) const;
    int AuthenticateServer(const mosquitto* client, const char* password) const;
    int AuthenticateDevice(const mosquitto* client, const char* username, const char* password);
    /// The device's record, nothing when it does not exist, an error when the database cannot
    /// be read (the store is then reopened on the next call).
    Result<std::optional<domain::ScopedDevice>> FindDevice(const mqtt::DeviceIdentity& device);
    void BecomeCurrent(const mosquitto* client, const mqtt::DeviceIdentity& device);
    void AnnounceOnline(const mosquitto* client, const mqtt::DeviceIdentity& device) const;

    static std::string Key(const mqtt::DeviceIdentity& device);

    const PluginConfig config_;
    std::unique_ptr<domain::Store> store_;  // opened on first use; null until it could be
    // The connected devices only (key: Key()), so its size is bounded by the connections.
    std::unordered_map<std::string, Connection> current_;
};

}  // namespace otad::broker_plugin
