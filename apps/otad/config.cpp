#include "config.hpp"

#include "common/text.hpp"
#include "redis/client.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace otad::app {
namespace {

using Json = nlohmann::json;

Error ConfigError(const std::string& path, const std::string& what) {
    return MakeError(ErrorCode::kInvalidParameter, path + ": " + what);
}

Status CheckKeys(const std::string& path,
                 const Json& object,
                 const std::string& where,
                 const std::set<std::string>& allowed) {
    if (!object.is_object()) {
        return ConfigError(path, where + " must be an object");
    }
    for (const auto& [key, value] : object.items()) {
        if (allowed.count(key) == 0) {
            return ConfigError(path, "unknown key '" + where + key + "'");
        }
    }
    return Ok();
}

template <typename T>
Status ReadInt(const std::string& path,
               const Json& object,
               const std::string& key,
               int64_t min,
               int64_t max,
               T& out) {
    if (!object.contains(key)) {
        return Ok();
    }
    const Json& v = object.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max) {
        return ConfigError(path,
                           "'" + key + "' must be an integer from " + std::to_string(min) + " to " +
                               std::to_string(max));
    }
    out = static_cast<T>(v.get<int64_t>());
    return Ok();
}

Status ReadString(const std::string& path,
                  const Json& object,
                  const std::string& key,
                  std::string& out) {
    if (!object.contains(key)) {
        return Ok();
    }
    if (!object.at(key).is_string()) {
        return ConfigError(path, "'" + key + "' must be a string");
    }
    out = object.at(key).get<std::string>();
    return Ok();
}

Status LoadMqttSection(const std::string& path, const Json& m, MqttConfig& mqtt) {
    OTA_TRY(CheckKeys(path,
                      m,
                      "mqtt.",
                      {"host",
                       "port",
                       "username",
                       "password_file",
                       "client_id",
                       "shared_group",
                       "reoffer_after_s",
                       "keepalive_s",
                       "max_queued_events",
                       "max_batch_events"}));
    mqtt.enabled = true;
    OTA_TRY(ReadString(path, m, "host", mqtt.host));
    OTA_TRY(ReadInt(path, m, "port", 1, 65535, mqtt.port));
    OTA_TRY(ReadString(path, m, "username", mqtt.username));
    OTA_TRY(ReadString(path, m, "password_file", mqtt.password_file));
    OTA_TRY(ReadString(path, m, "client_id", mqtt.client_id));
    OTA_TRY(ReadString(path, m, "shared_group", mqtt.shared_group));
    OTA_TRY(ReadInt(path, m, "reoffer_after_s", 0, 86'400, mqtt.reoffer_after_s));
    OTA_TRY(ReadInt(path, m, "keepalive_s", 5, 65535, mqtt.keepalive_s));
    OTA_TRY(ReadInt(path, m, "max_queued_events", 100, 10'000'000, mqtt.max_queued_events));
    OTA_TRY(ReadInt(path, m, "max_batch_events", 1, 100'000, mqtt.max_batch_events));
    if (mqtt.host.empty()) {
        return ConfigError(path, "'mqtt.host' must not be empty");
    }
    // MQTT 3.1.1 brokers must accept client ids of up to 23 bytes; Mosquitto takes more.
    if (mqtt.client_id.size() > 128) {
        return ConfigError(path, "'mqtt.client_id' must be at most 128 bytes");
    }
    // A share name is one topic level without wildcards.
    if (mqtt.shared_group.size() > 64 ||
        mqtt.shared_group.find_first_of("/+#") != std::string::npos) {
        return ConfigError(path,
                           "'mqtt.shared_group' must be at most 64 bytes without '/', '+' or '#'");
    }
    return Ok();
}

Status LoadRedisSection(const std::string& path, const Json& r, RedisConfig& out) {
    OTA_TRY(CheckKeys(
        path,
        r,
        "redis.",
        {"url", "password_file", "connect_timeout_ms", "command_timeout_ms", "key_prefix"}));
    out.enabled = true;
    OTA_TRY(ReadString(path, r, "url", out.url));
    OTA_TRY(ReadString(path, r, "password_file", out.password_file));
    OTA_TRY(ReadInt(path, r, "connect_timeout_ms", 1, 60'000, out.connect_timeout_ms));
    OTA_TRY(ReadInt(path, r, "command_timeout_ms", 1, 60'000, out.command_timeout_ms));
    OTA_TRY(ReadString(path, r, "key_prefix", out.key_prefix));
    if (Result<redis::Endpoint> endpoint = redis::ParseUrl(out.url); !endpoint.ok()) {
        return ConfigError(path, "'redis.url': " + endpoint.error().message);
    }
    if (Status st = CheckRedisKeyPrefix(out.key_prefix); !st.ok()) {
        return ConfigError(path, "'redis.key_prefix' " + st.error().message);
    }
    return Ok();
}

// A password file holds one short line; trailing line breaks are not part of the password.
Result<std::string> ReadPasswordFile(const std::string& what, const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return MakeError(ErrorCode::kInvalidParameter, what + " " + file + " cannot be read");
    }
    std::string password;
    constexpr size_t kMaxPasswordBytes = 4096;
    password.resize(kMaxPasswordBytes + 1);
    in.read(password.data(), static_cast<std::streamsize>(password.size()));
    password.resize(static_cast<size_t>(in.gcount()));
    if (password.size() > kMaxPasswordBytes) {
        return MakeError(ErrorCode::kInvalidParameter, what + " " + file + " is too long");
    }
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
        password.pop_back();
    }
    return password;
}

}  // namespace

Status ParseListen(const std::string& text, std::string& host, uint16_t& port) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "listen address must be HOST:PORT, e.g. 127.0.0.1:8080");
    }
    host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const auto p = text::ParseInt64(text.substr(colon + 1));
    if (!p || *p < 0 || *p > 65535) {
        return MakeError(ErrorCode::kInvalidParameter, "listen port must be 0 to 65535");
    }
    port = static_cast<uint16_t>(*p);
    return Ok();
}

Status LoadConfigFile(const std::string& path, Config& config) {
    std::ifstream in(path);
    if (!in) {
        return ConfigError(path, "cannot be read");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    Json root;
    try {
        root = Json::parse(buffer.str());
    } catch (const Json::parse_error& e) {
        return ConfigError(path, std::string("is not valid JSON: ") + e.what());
    }
    OTA_TRY(CheckKeys(path,
                      root,
                      "",
                      {"listen",
                       "data",
                       "log_level",
                       "region_id",
                       "limits",
                       "throttling",
                       "database",
                       "sqlite",
                       "postgres",
                       "files",
                       "mqtt",
                       "redis"}));
    OTA_TRY(ReadString(path, root, "listen", config.listen));
    OTA_TRY(ReadString(path, root, "data", config.data_dir));
    OTA_TRY(ReadString(path, root, "region_id", config.rpc.env.region_id));
    if (root.contains("log_level")) {
        std::string level;
        OTA_TRY(ReadString(path, root, "log_level", level));
        if (!log::ParseLevel(level, config.log_level)) {
            return ConfigError(path, "'log_level' must be debug, info, warn, error or off");
        }
    }
    if (root.contains("limits")) {
        const Json& l = root.at("limits");
        OTA_TRY(CheckKeys(path,
                          l,
                          "limits.",
                          {"max_header_bytes",
                           "max_body_bytes",
                           "read_timeout_ms",
                           "idle_timeout_ms",
                           "write_timeout_ms",
                           "max_connections",
                           "io_threads",
                           "worker_threads",
                           "max_queued_requests",
                           "drain_timeout_ms",
                           "max_params",
                           "nonce_cache_entries",
                           "max_clock_skew_ms"}));
        http::ServerOptions& h = config.http;
        OTA_TRY(ReadInt(path, l, "max_header_bytes", 1024, 1 << 20, h.max_header_bytes));
        OTA_TRY(ReadInt(path, l, "max_body_bytes", 1024, int64_t{1} << 31, h.max_body_bytes));
        int64_t ms = 0;
        auto read_ms = [&](const char* key, std::chrono::milliseconds& out) -> Status {
            ms = out.count();
            OTA_TRY(ReadInt(path, l, key, 1, 3'600'000, ms));
            out = std::chrono::milliseconds(ms);
            return Ok();
        };
        OTA_TRY(read_ms("read_timeout_ms", h.read_timeout));
        OTA_TRY(read_ms("idle_timeout_ms", h.idle_timeout));
        OTA_TRY(read_ms("write_timeout_ms", h.write_timeout));
        OTA_TRY(read_ms("drain_timeout_ms", h.drain_timeout));
        OTA_TRY(ReadInt(path, l, "max_connections", 1, 1'000'000, h.max_connections));
        OTA_TRY(ReadInt(path, l, "io_threads", 1, 256, h.io_threads));
        OTA_TRY(ReadInt(path, l, "worker_threads", 1, 1024, h.worker_threads));
        OTA_TRY(ReadInt(path, l, "max_queued_requests", 1, 10'000'000, h.max_queued_requests));
        OTA_TRY(ReadInt(path, l, "max_params", 16, 100'000, config.rpc.param_limits.max_count));
        OTA_TRY(ReadInt(
            path, l, "nonce_cache_entries", 1000, 100'000'000, config.rpc.nonces.max_entries));
        OTA_TRY(ReadInt(
            path, l, "max_clock_skew_ms", 1000, 86'400'000, config.rpc.verifier.max_skew_ms));
    }
    if (root.contains("throttling")) {
        const Json& t = root.at("throttling");
        OTA_TRY(CheckKeys(path, t, "throttling.", {"enabled", "actions"}));
        if (t.contains("enabled")) {
            if (!t.at("enabled").is_boolean()) {
                return ConfigError(path, "'throttling.enabled' must be true or false");
            }
            config.rpc.throttling.enabled = t.at("enabled").get<bool>();
        }
        if (t.contains("actions")) {
            const Json& a = t.at("actions");
            if (!a.is_object()) {
                return ConfigError(path, "'throttling.actions' must be an object");
            }
            for (const auto& [name, value] : a.items()) {
                if (!rpc::FindAction(name)) {
                    return ConfigError(path, "'throttling.actions." + name + "' is not an action");
                }
                if (!value.is_number_integer() || value.get<int64_t>() < 0) {
                    return ConfigError(path,
                                       "'throttling.actions." + name +
                                           "' must be calls per second (0 = unlimited)");
                }
                config.rpc.throttling.per_action_qps[name] = value.get<int64_t>();
            }
        }
    }
    if (root.contains("sqlite")) {
        const Json& s = root.at("sqlite");
        OTA_TRY(CheckKeys(path, s, "sqlite.", {"synchronous_full"}));
        if (s.contains("synchronous_full")) {
            if (!s.at("synchronous_full").is_boolean()) {
                return ConfigError(path, "'sqlite.synchronous_full' must be true or false");
            }
            config.sqlite_synchronous_full = s.at("synchronous_full").get<bool>();
        }
    }
    OTA_TRY(ReadString(path, root, "database", config.database));
    if (root.contains("postgres")) {
        const Json& p = root.at("postgres");
        OTA_TRY(CheckKeys(
            path, p, "postgres.", {"connections", "acquire_timeout_ms", "statement_timeout_ms"}));
        PostgresConfig& pg = config.postgres;
        OTA_TRY(ReadInt(path, p, "connections", 1, 1000, pg.connections));
        OTA_TRY(ReadInt(path, p, "acquire_timeout_ms", 1, 600'000, pg.acquire_timeout_ms));
        OTA_TRY(ReadInt(path, p, "statement_timeout_ms", 0, 3'600'000, pg.statement_timeout_ms));
    }
    if (root.contains("files")) {
        const Json& f = root.at("files");
        OTA_TRY(CheckKeys(
            path,
            f,
            "files.",
            {"dir", "listen", "base_url", "upload_base_url", "max_upload_bytes", "form_ttl_s"}));
        FilesConfig& files = config.files;
        OTA_TRY(ReadString(path, f, "dir", files.dir));
        OTA_TRY(ReadString(path, f, "listen", files.listen));
        OTA_TRY(ReadString(path, f, "base_url", files.base_url));
        OTA_TRY(ReadString(path, f, "upload_base_url", files.upload_base_url));
        OTA_TRY(ReadInt(path, f, "max_upload_bytes", 1, int64_t{1} << 40, files.max_upload_bytes));
        OTA_TRY(ReadInt(path, f, "form_ttl_s", 1, 86'400, files.form_ttl_s));
        if (Status st = NormalizeBaseUrl("files.base_url", files.base_url); !st.ok()) {
            return ConfigError(path, st.error().message);
        }
        if (Status st = NormalizeBaseUrl("files.upload_base_url", files.upload_base_url);
            !st.ok()) {
            return ConfigError(path, st.error().message);
        }
    }
    if (root.contains("mqtt")) {
        OTA_TRY(LoadMqttSection(path, root.at("mqtt"), config.mqtt));
    }
    if (root.contains("redis")) {
        OTA_TRY(LoadRedisSection(path, root.at("redis"), config.redis));
    }
    return Ok();
}

Result<std::string> LoadMqttPassword(const MqttConfig& mqtt) {
    if (const char* env = std::getenv("OTAD_MQTT_PASSWORD"); env != nullptr && *env != '\0') {
        return std::string(env);
    }
    if (mqtt.password_file.empty()) {
        return std::string();
    }
    return ReadPasswordFile("mqtt.password_file", mqtt.password_file);
}

Result<std::string> LoadRedisPassword(const RedisConfig& redis) {
    if (const char* env = std::getenv("OTAD_REDIS_PASSWORD"); env != nullptr && *env != '\0') {
        return std::string(env);
    }
    if (redis.password_file.empty()) {
        return std::string();
    }
    return ReadPasswordFile("redis.password_file", redis.password_file);
}

Status CheckRedisKeyPrefix(const std::string& prefix) {
    constexpr size_t kMaxPrefixBytes = 64;
    if (prefix.empty() || prefix.size() > kMaxPrefixBytes) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "must be 1 to " + std::to_string(kMaxPrefixBytes) + " characters");
    }
    for (const char c : prefix) {
        if (c <= ' ' || c > '~') {
            return MakeError(ErrorCode::kInvalidParameter,
                             "must be printable ASCII characters without spaces");
        }
    }
    return Ok();
}

Status NormalizeBaseUrl(const std::string& what, std::string& url) {
    if (url.empty()) {
        return Ok();
    }
    while (url.size() > 1 && url.back() == '/') {
        url.pop_back();
    }
    const bool scheme = url.starts_with("http://") || url.starts_with("https://");
    const size_t host_start = url.find("//") + 2;
    if (!scheme || url.size() <= host_start || url.find_first_of("?# ") != std::string::npos) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "'" + what + "' must be an http:// or https:// URL without query");
    }
    return Ok();
}

}  // namespace otad::app
