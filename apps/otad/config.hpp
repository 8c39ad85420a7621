#pragma once

#include "common/log.hpp"
#include "common/result.hpp"
#include "http/server.hpp"
#include "rpc/dispatcher.hpp"

#include <string>

namespace otad::app {

/// Firmware storage: where uploads and device downloads are served and what URLs they get.
struct FilesConfig {
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
    int keepalive_s = 60;
    int64_t max_queued_events = 20'000;
    int64_t max_batch_events = 2'000;
};

/// Everything `otad serve` can be told, from defaults, then the config file, then flags.
struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = ".otad-data";
    log::Level log_level = log::Level::kInfo;
    http::ServerOptions http;
    rpc::DispatcherOptions rpc;
    bool sqlite_synchronous_full = true;
    FilesConfig files;
    MqttConfig mqtt;
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

}  // namespace otad::app
