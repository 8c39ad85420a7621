#include "alink_broker.hpp"

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "storage/open/open_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <nlohmann/json.hpp>

#include <limits>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <utility>

namespace otad::broker_plugin {
namespace {

constexpr std::string_view kDisabledStatus = "DISABLE";

const char* OrEmpty(const char* text) {
    return text != nullptr ? text : "";
}

const char* Address(const mosquitto* client) {
    return OrEmpty(mosquitto_client_address(client));
}

const char* DescribeLoginCheck(mqtt::LoginCheck check) {
    switch (check) {
        case mqtt::LoginCheck::kOk:
            return "ok";
        case mqtt::LoginCheck::kBadClientId:
            return "client id is not in the Alink form";
        case mqtt::LoginCheck::kBadPassword:
            return "password does not match";
    }
    return "unknown";
}

}  // namespace

Result<PluginConfig> ParsePluginOptions(const mosquitto_opt* options, int option_count) {
    PluginConfig config;
    for (int i = 0; i < option_count; ++i) {
        std::string_view key = OrEmpty(options[i].key);
        std::string value = OrEmpty(options[i].value);
        if (key == "database") {
            config.database_path = std::move(value);
        } else if (key == "server_username") {
            config.server_username = std::move(value);
        } else if (key == "server_password") {
            config.server_password = std::move(value);
        } else {
            return InternalError("unknown option plugin_opt_" + std::string(key));
        }
    }
    if (config.database_path.empty()) {
        return InternalError(
            "plugin_opt_database (otad's SQLite file or PostgreSQL URL) is required");
    }
    if (config.server_username.empty() || config.server_password.empty()) {
        return InternalError(
            "plugin_opt_server_username and plugin_opt_server_password are required");
    }
    if (config.server_username.find('&') != std::string::npos) {
        return InternalError("plugin_opt_server_username must not contain '&' (device logins do)");
    }
    return config;
}

AlinkBroker::AlinkBroker(PluginConfig config) : config_(std::move(config)) {}

AlinkBroker::~AlinkBroker() = default;

std::string AlinkBroker::Key(const mqtt::DeviceIdentity& device) {
    // Names never contain '/', so the key is unambiguous.
    return device.product_key + "/" + device.device_name;
}

bool AlinkBroker::IsServer(const char* username) const {
    return username != nullptr && config_.server_username == username;
}

int AlinkBroker::OnBasicAuth(const mosquitto_evt_basic_auth& event) {
    if (event.username == nullptr) {
        mosquitto_log_printf(
            MOSQ_LOG_NOTICE, "otad-auth: refused %s: no username", Address(event.client));
        return MOSQ_ERR_AUTH;
    }
    if (IsServer(event.username)) {
        return AuthenticateServer(event.client, event.password);
    }
    return AuthenticateDevice(event.client, event.username, event.password);
}

int AlinkBroker::AuthenticateServer(const mosquitto* client, const char* password) const {
    if (password != nullptr && crypto::ConstantTimeEquals(config_.server_password, password)) {
        return MOSQ_ERR_SUCCESS;
    }
    mosquitto_log_printf(MOSQ_LOG_WARNING,
                         "otad-auth: refused %s: wrong password for the server account",
                         Address(client));
    return MOSQ_ERR_AUTH;
}

int AlinkBroker::AuthenticateDevice(const mosquitto* client,
                                    const char* username,
                                    const char* password) {
    std::optional<mqtt::DeviceIdentity> device = mqtt::ParseUsername(username);
    if (!device) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: refused %s: username is not DeviceName&ProductKey",
                             Address(client));
        return MOSQ_ERR_AUTH;
    }
    const std::string who = Key(*device);
    int keepalive_s = mosquitto_client_keepalive(client);
    if (keepalive_s < kMinDeviceKeepaliveS) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: refused device %s from %s: keepalive %d s is below %d s",
                             who.c_str(),
                             Address(client),
                             keepalive_s,
                             kMinDeviceKeepaliveS);
        return MOSQ_ERR_AUTH;
    }

    Result<std::optional<domain::ScopedDevice>> found = FindDevice(*device);
    if (!found.ok()) {
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             "otad-auth: refused device %s: cannot read otad's database: %s",
                             who.c_str(),
                             found.error().internal.c_str());
        return MOSQ_ERR_AUTH;
    }
    if (!found->has_value()) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: refused device %s from %s: no such device",
                             who.c_str(),
                             Address(client));
        return MOSQ_ERR_AUTH;
    }
    const domain::Device& record = (*found)->device;
    if (record.status == kDisabledStatus) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: refused device %s from %s: device is disabled",
                             who.c_str(),
                             Address(client));
        return MOSQ_ERR_AUTH;
    }
    mqtt::LoginCheck check = mqtt::CheckDeviceLogin(
        OrEmpty(mosquitto_client_id(client)), *device, record.device_secret, OrEmpty(password));
    if (check != mqtt::LoginCheck::kOk) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: refused device %s from %s: %s",
                             who.c_str(),
                             Address(client),
                             DescribeLoginCheck(check));
        return MOSQ_ERR_AUTH;
    }

    BecomeCurrent(client, *device);
    AnnounceOnline(client, *device);
    return MOSQ_ERR_SUCCESS;
}

Result<std::optional<domain::ScopedDevice>> AlinkBroker::FindDevice(
    const mqtt::DeviceIdentity& device) {
    if (store_ == nullptr) {
        // otad may create its database after Mosquitto started: try again at every login until
        // it is there.
        storage::StoreOptions where;
        if (storage::IsPostgresUrl(config_.database_path)) {
            where.database = config_.database_path;
        } else {
            where.sqlite_path = config_.database_path;
        }
        where.read_only = true;
        where.read_only_connections = 1;
        Result<std::unique_ptr<domain::Store>> opened =
            where.database.empty()
                ? storage::sqlite::OpenSqliteStore(storage::sqlite::SqliteOptions{
                      .path = config_.database_path,
                      .reader_connections = 1,
                      .synchronous_full = false,
                      .busy_timeout_ms = kStoreBusyTimeoutMs,
                      .read_only = true,
                  })
                : storage::OpenStore(where);
        if (!opened.ok()) {
            return std::move(opened).error();
        }
        store_ = std::move(opened).value();
        // The description leaves out a URL's user and password.
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: reading devices from %s",
                             storage::DescribeDatabase(where).c_str());
    }
    std::optional<domain::ScopedDevice> found;
    Status read = store_->Read([&](domain::ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(found, tx.FindDeviceAnyScope(device.product_key, device.device_name));
        return Ok();
    });
    if (!read.ok()) {
        // A failed read may mean the file was replaced or migrated by a newer otad; reopening
        // checks the schema again.
        store_.reset();
        return std::move(read).error();
    }
    return found;
}

void AlinkBroker::BecomeCurrent(const mosquitto* client, const mqtt::DeviceIdentity& device) {
    std::string client_id = OrEmpty(mosquitto_client_id(client));
    auto [it, inserted] = current_.try_emplace(Key(device));
    std::string previous_id = inserted ? std::string() : it->second.client_id;
    const mosquitto* previous = inserted ? nullptr : it->second.client;
    it->second = Connection{client, client_id};

    // Like the platform, one connection per device. Mosquitto closes an older connection with
    // the same client id by itself; one with another id (Link SDK 4.1+ puts a per-connection
    // `_conn` item in it) is closed here. The map already names the new connection, so the
    // DISCONNECT of the old one, which may run inside this call, announces nothing.
    if (previous != nullptr && previous != client && previous_id != client_id &&
        !previous_id.empty()) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE,
                             "otad-auth: device %s logged in again as %s; closing %s",
                             Key(device).c_str(),
                             client_id.c_str(),
                             previous_id.c_str());
        mosquitto_kick_client_by_clientid(previous_id.c_str(), false);
    }
}

void AlinkBroker::AnnounceOnline(const mosquitto* client,
                                 const mqtt::DeviceIdentity& device) const {
    nlohmann::json body = {
        {"status", "online"},
        {"productKey", device.product_key},
        {"deviceName", device.device_name},
        {"time", SystemClock::Instance().NowMs()},
        {"clientIp", Address(client)},
    };
    std::string payload = body.dump();
    std::string topic = mqtt::PresenceTopic(device);
    int rc = mosquitto_broker_publish_copy(nullptr,
                                           topic.c_str(),
                                           static_cast<int>(payload.size()),
                                           payload.data(),
                                           kPresenceQos,
                                           true,
                                           nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR, "otad-auth: cannot announce %s online (error %d)", topic.c_str(), rc);
    }
}

int AlinkBroker::OnAclCheck(const mosquitto_evt_acl_check& event) {
    const char* username = mosquitto_client_username(event.client);
    if (IsServer(username)) {
        return MOSQ_ERR_SUCCESS;
    }
    std::optional<mqtt::DeviceIdentity> device =
        username != nullptr ? mqtt::ParseUsername(username) : std::nullopt;
    if (!device || event.topic == nullptr) {
        return MOSQ_ERR_ACL_DENIED;
    }
    bool allowed = false;
    switch (event.access) {
        case MOSQ_ACL_SUBSCRIBE:
            allowed = mqtt::DeviceMaySubscribe(*device, event.topic);
            break;
        case MOSQ_ACL_UNSUBSCRIBE:
            // Leaving a subscription never exposes anything.
            allowed = true;
            break;
        case MOSQ_ACL_READ:
        case MOSQ_ACL_WRITE:
            allowed = mqtt::DeviceMayPublish(*device, event.topic);
            break;
        default:
            allowed = false;
            break;
    }
    if (!allowed && event.access != MOSQ_ACL_READ) {
        mosquitto_log_printf(MOSQ_LOG_INFO,
                             "otad-auth: device %s may not %s '%s'",
                             Key(*device).c_str(),
                             event.access == MOSQ_ACL_SUBSCRIBE ? "subscribe to" : "publish on",
                             event.topic);
    }
    return allowed ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
}

int AlinkBroker::OnMessage(const mosquitto_evt_message& event) {
    if (!IsServer(mosquitto_client_username(event.client)) || event.topic == nullptr) {
        return MOSQ_ERR_SUCCESS;
    }
    std::optional<mqtt::DeviceIdentity> device = mqtt::DeviceDownlinkTarget(event.topic);
    if (!device) {
        return MOSQ_ERR_SUCCESS;
    }
    // The platform delivers these topics without a SUBSCRIBE (Link SDK 4.x never sends one),
    // so they go straight to the device's current connection. Normal routing is then stopped:
    // a device that did subscribe would otherwise get a second copy, and otad, subscribed to
    // the legacy pull topic, would receive its own reply. For a QoS 1 publish Mosquitto still
    // acknowledges the server; under MQTT 5 that PUBACK would carry "not authorized", which is
    // why the server connects with MQTT 3.1.1.
    auto it = current_.find(Key(*device));
    if (it == current_.end()) {
        // Offline: dropped. otad offers pending work again when the device comes back online.
        mosquitto_log_printf(MOSQ_LOG_INFO,
                             "otad-auth: %s is offline; dropped the message on '%s'",
                             Key(*device).c_str(),
                             event.topic);
        return MOSQ_ERR_ACL_DENIED;
    }
    if (event.payloadlen > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
        return MOSQ_ERR_ACL_DENIED;
    }
    int rc = mosquitto_broker_publish_copy(it->second.client_id.c_str(),
                                           event.topic,
                                           static_cast<int>(event.payloadlen),
                                           event.payload,
                                           event.qos,
                                           false,
                                           nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             "otad-auth: cannot deliver '%s' to %s (error %d)",
                             event.topic,
                             Key(*device).c_str(),
                             rc);
    }
    return MOSQ_ERR_ACL_DENIED;
}

int AlinkBroker::OnDisconnect(const mosquitto_evt_disconnect& event) {
    const char* username = mosquitto_client_username(event.client);
    if (username == nullptr || IsServer(username)) {
        return MOSQ_ERR_SUCCESS;
    }
    std::optional<mqtt::DeviceIdentity> device = mqtt::ParseUsername(username);
    if (!device) {
        return MOSQ_ERR_SUCCESS;
    }
    auto it = current_.find(Key(*device));
    // Only the current connection counts: the end of a connection that was taken over (or of
    // a login that failed) says nothing about the device. The connection is compared, not the
    // client id, because a reconnect reuses the client id.
    if (it == current_.end() || it->second.client != event.client) {
        return MOSQ_ERR_SUCCESS;
    }
    current_.erase(it);
    // A retained empty message removes the retained "online" and reaches the subscribers (otad)
    // as an empty payload, which means offline.
    static const char kNothing = 0;
    std::string topic = mqtt::PresenceTopic(*device);
    int rc = mosquitto_broker_publish_copy(
        nullptr, topic.c_str(), 0, &kNothing, kPresenceQos, true, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR, "otad-auth: cannot announce %s offline (error %d)", topic.c_str(), rc);
    }
    return MOSQ_ERR_SUCCESS;
}

}  // namespace otad::broker_plugin
