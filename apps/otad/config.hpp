#pragma once

#include "common/log.hpp"
#include "common/result.hpp"
#include "http/server.hpp"
#include "rpc/dispatcher.hpp"

#include <string>

namespace otad::app {

/// Firmware storage: where uploads and device downloads are served and what URLs they get.
struct FilesConfig {
    /// Where firmware files and the key that signs their URLs live. Empty: DATA/files. Nodes
    /// that share one database must share this directory too (decision 0017).
    std::string dir;
    /// Optional second listener (HOST:PORT) serving only uploads and downloads, e.g. for
    /// devices on port 80. Empty: the API listener serves them.
    std::string listen;
    /// Base of device download URLs (scheme://host[:port], no trailing slash), e.g. behind a
    /// proxy. Empty: derived from the files listener, else from the API listener.
    std::string base_url;
    /// Base the upload forms point to (their Host). Empty: derived from the API listener.
    std::string upload_base_url;
    int64_t max_upload_bytes = int64_t{1000} * 1024 * 1024;
    int64_t form_ttl_s = 60;
};

/// The device channel: otad's connection to the MQTT broker that devices use. Absent from the
/// configuration (and no --mqtt flag): otad runs without a device channel.
struct MqttConfig {
    bool enabled = false;
    std::string host = "127.0.0.1";
    uint16_t port = 1883;
    std::string username = "otad";
    /// File holding the password (trailing line breaks ignored); OTAD_MQTT_PASSWORD overrides
    /// it. The password itself never appears in the configuration file or in logs.
    std::string password_file;
    /// Empty: "otad-" and random characters, so that two servers never take over each
    /// other's session.
    std::string client_id;
    /// Several otad nodes on one database: a name, the same on every node, under which they
    /// share the device reports (an MQTT shared subscription); each node then keeps no session
    /// at the broker and leaves presence as last reported when it reconnects. Empty: one node.
    std::string shared_group;
    int keepalive_s = 60;
    /// An update offered to an online device and not answered for this long is offered again
    /// (its push or the device's reports may have been lost); 0 = never.
    int64_t reoffer_after_s = 600;
    int64_t max_queued_events = 20'000;
    int64_t max_batch_events = 2'000;
};

/// The PostgreSQL connection pool (used when `database` names a PostgreSQL server).
struct PostgresConfig {
    int64_t connections = 8;
    int64_t acquire_timeout_ms = 10'000;
    int64_t statement_timeout_ms = 60'000;
};

/// Throttling counters and the nonce replay memory shared by several otad nodes through Redis.
/// Absent from the configuration (and no --redis flag): they stay in process memory (one node).
struct RedisConfig {
    bool enabled = false;
    /// redis://[USER@]HOST[:PORT][/DB] or unix:///PATH[?db=DB]; never with a password.
    std::string url = "redis://127.0.0.1:6379/0";
    /// File holding the password (trailing line breaks ignored); OTAD_REDIS_PASSWORD overrides
    /// it. The password itself never appears in the configuration file or in logs.
    std::string password_file;
    int64_t connect_timeout_ms = 200;
    int64_t command_timeout_ms = 200;
    /// Start of every key otad writes, so that several deployments can share one Redis.
    std::string key_prefix = "otad:";
};

/// Everything `otad serve` can be told, from defaults, then the config file, then flags.
struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = ".otad-data";
    log::Level log_level = log::Level::kInfo;
    http::ServerOptions http;
    rpc::DispatcherOptions rpc;
    /// Empty: records in SQLite in the data directory. Otherwise a PostgreSQL URL; the
    /// OTAD_DATABASE environment variable and --database override the config file.
    std::string database;
    bool sqlite_synchronous_full = true;
    PostgresConfig postgres;
    FilesConfig files;
    MqttConfig mqtt;
    RedisConfig redis;
};

/// Reads a JSON config file over `config`. Unknown keys and wrong types are errors, so that a
/// typo never silently leaves a default in place.
Status LoadConfigFile(const std::string& path, Config& config);

/// Checks an http(s) base URL and removes a trailing slash.
Status NormalizeBaseUrl(const std::string& what, std::string& url);

/// Splits "HOST:PORT" or "[V6]:PORT" into `host` and `port`.
Status ParseListen(const std::string& text, std::string& host, uint16_t& port);

/// The broker password: OTAD_MQTT_PASSWORD when set, else the content of
/// `mqtt.password_file` without trailing line breaks, else empty. Fails when the file cannot
/// be read.
Result<std::string> LoadMqttPassword(const MqttConfig& mqtt);

/// The Redis password: OTAD_REDIS_PASSWORD when set, else the content of
/// `redis.password_file` without trailing line breaks, else empty. Fails when the file cannot
/// be read.
Result<std::string> LoadRedisPassword(const RedisConfig& redis);

/// Checks a Redis key prefix: 1 to 64 printable ASCII characters without spaces.
Status CheckRedisKeyPrefix(const std::string& prefix);

}  // namespace otad::app
