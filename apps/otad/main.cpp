// otad: a self-hosted OTA update server that speaks the Alibaba Cloud IoT OTA API.
//
//   otad serve [--listen HOST:PORT] [--data DIR] [--database URL] [--config FILE]
//              [--log-level LEVEL] [--files-listen HOST:PORT] [--files-base-url URL]
//              [--mqtt HOST:PORT] [--redis URL]
//   otad account create --name NAME [--data DIR] [--database URL]
//                       [--access-key-id ID --access-key-secret S]
//   otad account list [--data DIR] [--database URL]
//   otad migrate --to postgresql://USER@HOST:PORT/DB [--data DIR] [--force] [--files-to DIR]
//   otad migrate --files-to DIR [--data DIR]
//   otad version
//
// This file is the composition root: it reads the configuration, picks the storage backend,
// wires the layers together and runs them.

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "config.hpp"
#include "domain/file_service.hpp"
#include "domain/services.hpp"
#include "files/blob_store.hpp"
#include "files/copy_files.hpp"
#include "files/download_handler.hpp"
#include "files/upload_handler.hpp"
#include "http/server.hpp"
#include "mqtt/broker_client.hpp"
#include "mqtt/device_gateway.hpp"
#include "mqtt/services_channel.hpp"
#include "redis/client.hpp"
#include "redis/nonce_store.hpp"
#include "redis/rate_limiter.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/throttle.hpp"
#include "storage/migrate/copy_to_postgres.hpp"
#include "storage/open/open_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::app {
namespace {

constexpr std::string_view kUsage =
    "usage:\n"
    "  otad serve [--listen HOST:PORT] [--data DIR] [--database URL] [--config FILE]\n"
    "             [--log-level LEVEL] [--files-listen HOST:PORT] [--files-base-url URL]\n"
    "             [--mqtt HOST:PORT] [--redis URL]\n"
    "  otad account create --name NAME [--data DIR] [--database URL] [--access-key-id ID "
    "--access-key-secret SECRET]\n"
    "  otad account list [--data DIR] [--database URL]\n"
    "  otad migrate --to postgresql://USER@HOST:PORT/DB [--data DIR] [--force] [--files-to DIR]\n"
    "  otad migrate --files-to DIR [--data DIR]\n"
    "  otad version\n"
    "\n"
    "serve prints 'listening on http://HOST:PORT' on stdout once it accepts connections.\n"
    "If ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are set, serve makes\n"
    "sure an account with that AccessKey exists.\n"
    "--mqtt (or an \"mqtt\" section in the config file) connects to the MQTT broker that\n"
    "devices use; OTAD_MQTT_PASSWORD holds the broker password.\n"
    "--database postgresql://USER@HOST:PORT/DB (or OTAD_DATABASE, or \"database\" in the config\n"
    "file) keeps the records in PostgreSQL instead of SQLite in the data directory; put a\n"
    "password in PGPASSWORD or ~/.pgpass rather than in the URL.\n"
    "--redis redis://HOST:PORT/DB or unix:///PATH (or a \"redis\" section in the config file)\n"
    "shares throttling and nonces with the other otad nodes through Redis;\n"
    "OTAD_REDIS_PASSWORD holds its password.\n"
    "migrate copies the SQLite database of the data directory into PostgreSQL, verified before\n"
    "it commits (stop otad first); --force replaces the records the database holds already;\n"
    "--files-to copies the firmware files into a directory that all nodes share (files.dir),\n"
    "alone or with the records.\n";

int Fail(const std::string& message) {
    std::cerr << "otad: " << message << "\n";
    return 2;
}

// "--name value" pairs after the command words.
Result<std::map<std::string, std::string>> ParseFlags(const std::vector<std::string>& args,
                                                      size_t first,
                                                      const std::vector<std::string>& known) {
    std::map<std::string, std::string> flags;
    for (size_t i = first; i < args.size(); ++i) {
        std::string name = args[i];
        std::string value;
        if (!name.starts_with("--")) {
            return MakeError(ErrorCode::kInvalidParameter, "unexpected argument '" + name + "'");
        }
        name = name.substr(2);
        if (const size_t eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        } else {
            if (i + 1 >= args.size()) {
                return MakeError(ErrorCode::kInvalidParameter, "--" + name + " needs a value");
            }
            value = args[++i];
        }
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            return MakeError(ErrorCode::kInvalidParameter, "unknown option --" + name);
        }
        flags[name] = value;
    }
    return flags;
}

// The database named by --database, else OTAD_DATABASE, else the config file ("" = SQLite).
std::string ChooseDatabase(const std::map<std::string, std::string>& flags,
                           const std::string& configured) {
    if (auto it = flags.find("database"); it != flags.end()) {
        return it->second;
    }
    if (const char* env = std::getenv("OTAD_DATABASE"); env != nullptr && *env != '\0') {
        return env;
    }
    return configured;
}

storage::StoreOptions StoreOptionsFor(const Config& config) {
    storage::StoreOptions options;
    options.database = config.database;
    options.sqlite_path = (std::filesystem::path(config.data_dir) / "otad.db").string();
    options.sqlite_synchronous_full = config.sqlite_synchronous_full;
    options.pg_connections = static_cast<int>(config.postgres.connections);
    options.pg_acquire_timeout_ms = static_cast<int>(config.postgres.acquire_timeout_ms);
    options.pg_statement_timeout_ms = static_cast<int>(config.postgres.statement_timeout_ms);
    return options;
}

Result<std::unique_ptr<domain::Store>> OpenStore(const Config& config) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(config.data_dir) / "files", ec);
    if (ec) {
        return MakeError(ErrorCode::kInternal,
                         "cannot create data directory " + config.data_dir + ": " + ec.message());
    }
    return storage::OpenStore(StoreOptionsFor(config));
}

std::string ErrorText(const Error& e) {
    std::string s = e.message.empty() ? std::string(ErrorCodeName(e.code)) : e.message;
    if (!e.internal.empty()) {
        s += " (" + e.internal + ")";
    }
    return s;
}

constexpr size_t kSecretBytes = 32;
// How long a logged info line may wait in memory before it is written (see log::Buffering).
constexpr std::chrono::milliseconds kLogFlushInterval{100};
/// Room for the form fields and part headers around an uploaded file.
constexpr uint64_t kMultipartOverheadBytes = 4 * 1024 * 1024;

// The server secret that signs upload forms and download URLs: created once, kept in the files
// directory, readable by the owner only. Several nodes sharing the directory may start at once:
// the secret is written whole to a file of this process's own, then linked into place, which
// fails when another node linked its secret first; then that one is read.
Result<std::string> LoadOrCreateSecret(const std::filesystem::path& path) {
    const std::filesystem::path tmp =
        path.string() + ".new-" + std::to_string(::getpid()) + "-" + crypto::RandomLowerAlnum(8);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return InternalError("cannot create " + tmp.string() + ": " + std::strerror(errno));
    }
    const std::string fresh = crypto::RandomBytes(kSecretBytes);
    const bool written =
        ::write(fd, fresh.data(), fresh.size()) == static_cast<ssize_t>(fresh.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    const bool linked = written && ::link(tmp.c_str(), path.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!written) {
        return InternalError("cannot write " + tmp.string() + ": " + std::strerror(link_errno));
    }
    if (linked) {
        return fresh;
    }
    if (link_errno != EEXIST) {
        return InternalError("cannot create " + path.string() + ": " + std::strerror(link_errno));
    }
    std::ifstream in(path, std::ios::binary);
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        return InternalError("cannot read " + path.string());
    }
    if (secret.size() < kSecretBytes) {
        return InternalError(path.string() + " is shorter than " + std::to_string(kSecretBytes) +
                             " bytes; remove it to create a new one");
    }
    return secret;
}

// Files left in the spool directory by a previous run (a crash mid-upload) are never used.
void ClearDirectory(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::filesystem::remove_all(entry.path(), ec);
    }
}

std::string HostForUrl(const std::string& host) {
    if (host == "0.0.0.0" || host == "::" || host.empty()) {
        return "127.0.0.1";
    }
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Time-driven work in the background: the scheduler of batches and tasks (scheduled starts
// and finishes, automatic retries, timeouts) every second, and the collection of expired
// upload forms and unreferenced uploads every minute.
class BackgroundWork {
  public:
    BackgroundWork(domain::Services& services, domain::FileService& files)
        : services_(services), files_(files) {
        thread_ = std::thread([this] { Run(); });
    }
    ~BackgroundWork() { Stop(); }
    BackgroundWork(const BackgroundWork&) = delete;
    BackgroundWork& operator=(const BackgroundWork&) = delete;

    void Stop() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

  private:
    static constexpr auto kTick = std::chrono::seconds(1);
    static constexpr int kTicksPerCollection = 60;

    void Run() {
        std::unique_lock<std::mutex> lock(mu_);
        int ticks = 0;
        while (!cv_.wait_for(lock, kTick, [this] { return stop_; })) {
            lock.unlock();
            auto due = services_.RunDueWork();
            if (!due.ok()) {
                log::Warn("scheduled work failed: " + ErrorText(due.error()));
            }
            if (++ticks >= kTicksPerCollection) {
                ticks = 0;
                auto collected = files_.CollectExpired(SystemClock::Instance().NowMs());
                if (!collected.ok()) {
                    log::Warn("collecting expired files failed: " + ErrorText(collected.error()));
                } else if (*collected > 0) {
                    log::Info("collected " + std::to_string(*collected) + " expired files");
                }
            }
            lock.lock();
        }
    }

    domain::Services& services_;
    domain::FileService& files_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

// The device channel: otad's broker connection and the gateway between it and the domain.
// Started once storage, services and download URLs are ready; stopped before storage closes.
class DeviceChannelRuntime {
  public:
    DeviceChannelRuntime(domain::Services& services,
                         const Clock& clock,
                         mqtt::BrokerOptions broker,
                         mqtt::GatewayOptions gateway)
        : channel_(services),
          broker_(std::move(broker)),
          gateway_(channel_, broker_, clock, gateway, &broker_) {}
    ~DeviceChannelRuntime() { Stop(); }
    DeviceChannelRuntime(const DeviceChannelRuntime&) = delete;
    DeviceChannelRuntime& operator=(const DeviceChannelRuntime&) = delete;

    Status Start() {
        gateway_.Start();
        Status st = broker_.Start(gateway_);
        if (!st.ok()) {
            gateway_.Stop();
        }
        return st;
    }
    // The gateway first: it applies what is queued and publishes the answers while the
    // broker connection is still up; then the connection closes.
    void Stop() {
        gateway_.Stop();
        broker_.Stop();
    }

  private:
    mqtt::ServicesDeviceChannel channel_;
    mqtt::BrokerClient broker_;
    mqtt::DeviceGateway gateway_;
};

// An identifier made once and kept in the data directory (DATA/`file`): `prefix` and random
// characters.
Result<std::string> StableId(const std::string& data_dir, const char* file, const char* prefix) {
    const std::filesystem::path path = std::filesystem::path(data_dir) / file;
    std::ifstream in(path);
    std::string id;
    if (in && std::getline(in, id) && !id.empty() && id.size() <= 64) {
        return id;
    }
    id = prefix + crypto::RandomLowerAlnum(12);
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << id << "\n";
        if (!out.flush()) {
            return InternalError("cannot write " + tmp.string());
        }
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        return InternalError("cannot write " + path.string() + ": " + ec.message());
    }
    return id;
}

// otad's MQTT client id when the configuration names none: kept from one run to the next, so
// that the broker keeps otad's session (and the device reports that arrive while otad is down).
Result<std::string> StableClientId(const std::string& data_dir) {
    return StableId(data_dir, "mqtt-client-id", "otad-");
}

// This node's name among those sharing a files directory (its spool's name there).
Result<std::string> NodeId(const std::string& data_dir) {
    return StableId(data_dir, "node-id", "node-");
}

Result<mqtt::BrokerOptions> BrokerOptionsFrom(const MqttConfig& config,
                                              const std::string& data_dir) {
    mqtt::BrokerOptions options;
    options.host = config.host;
    options.port = config.port;
    options.username = config.username;
    OTA_ASSIGN_OR_RETURN(options.password, LoadMqttPassword(config));
    if (config.client_id.empty()) {
        OTA_ASSIGN_OR_RETURN(options.client_id, StableClientId(data_dir));
    } else {
        options.client_id = config.client_id;
    }
    options.keepalive_s = config.keepalive_s;
    // With several nodes, a node that is gone must not keep a session at the broker: reports
    // of the shared subscription would be queued there for it instead of going to the others.
    options.shared_group = config.shared_group;
    options.persistent_session = config.shared_group.empty();
    return options;
}

// Throttling counters and nonces shared with the other otad nodes through Redis (decision
// 0015). Made before the dispatcher, which holds references to them, and kept until the end.
struct SharedLimits {
    std::unique_ptr<redis::Client> client;
    /// This node's own buckets, used while Redis fails.
    rpc::Throttle fallback;
    std::unique_ptr<redis::RedisNonceStore> nonces;
    std::unique_ptr<redis::RedisRateLimiter> limiter;
};

// One pooled connection per API worker thread (the only threads that call the dispatcher), so
// that no request waits for a connection.
Result<std::unique_ptr<SharedLimits>> OpenSharedLimits(const RedisConfig& config,
                                                       int64_t nonce_window_ms,
                                                       size_t worker_threads) {
    redis::ClientOptions options;
    OTA_ASSIGN_OR_RETURN(options.endpoint, redis::ParseUrl(config.url));
    OTA_ASSIGN_OR_RETURN(options.password, LoadRedisPassword(config));
    options.connect_timeout_ms = config.connect_timeout_ms;
    options.command_timeout_ms = config.command_timeout_ms;
    options.connections = worker_threads;
    auto shared = std::make_unique<SharedLimits>();
    shared->client = std::make_unique<redis::Client>(std::move(options));
    shared->nonces = std::make_unique<redis::RedisNonceStore>(
        *shared->client, config.key_prefix, nonce_window_ms);
    shared->limiter = std::make_unique<redis::RedisRateLimiter>(
        *shared->client, config.key_prefix, shared->fallback);
    return shared;
}

nlohmann::json AccountJson(const domain::AccountWithInstance& a, bool with_secret) {
    nlohmann::json j;
    j["Name"] = a.account.name;
    j["AccessKeyId"] = a.account.access_key_id;
    if (with_secret) {
        j["AccessKeySecret"] = a.account.access_key_secret;
    }
    j["IotInstanceId"] = a.instance.instance_id;
    j["Enabled"] = a.account.enabled;
    return j;
}

int AccountCommand(const std::vector<std::string>& args) {
    if (args.size() < 3) {
        return Fail(std::string("missing account command\n") + std::string(kUsage));
    }
    const std::string& sub = args[2];
    auto flags =
        ParseFlags(args, 3, {"name", "data", "database", "access-key-id", "access-key-secret"});
    if (!flags.ok()) {
        return Fail(flags.error().message);
    }
    Config config;
    if (flags->count("data")) {
        config.data_dir = flags->at("data");
    }
    config.database = ChooseDatabase(*flags, config.database);
    auto store = OpenStore(config);
    if (!store.ok()) {
        return Fail(ErrorText(store.error()));
    }
    domain::Services services(**store, SystemClock::Instance());
    if (sub == "create") {
        if (!flags->count("name")) {
            return Fail("account create needs --name NAME");
        }
        std::optional<std::pair<std::string, std::string>> key;
        if (flags->count("access-key-id") != flags->count("access-key-secret")) {
            return Fail("--access-key-id and --access-key-secret go together");
        }
        if (flags->count("access-key-id")) {
            key.emplace(flags->at("access-key-id"), flags->at("access-key-secret"));
        }
        auto created = services.CreateAccount(flags->at("name"), key);
        if (!created.ok()) {
            return Fail(ErrorText(created.error()));
        }
        std::cout << AccountJson(*created, true).dump() << std::endl;
        return 0;
    }
    if (sub == "list") {
        auto accounts = services.ListAccounts();
        if (!accounts.ok()) {
            return Fail(ErrorText(accounts.error()));
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& a : *accounts) {
            out.push_back(AccountJson(a, false));
        }
        std::cout << out.dump() << std::endl;
        return 0;
    }
    return Fail("unknown account command '" + sub + "'\n" + std::string(kUsage));
}

// Makes sure the AccessKey from the SDKs' environment variables exists, so that one
// environment serves both the server and its clients.
Status EnsureEnvironmentAccount(domain::Services& services) {
    const char* id = std::getenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
    const char* secret = std::getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0') {
        return Ok();
    }
    OTA_ASSIGN_OR_RETURN(auto existing, services.FindAccountByAccessKey(id));
    if (existing) {
        if (existing->access_key_secret != secret) {
            log::Warn(
                "the account owning ALIBABA_CLOUD_ACCESS_KEY_ID has a different secret; "
                "it was left unchanged");
        }
        return Ok();
    }
    OTA_ASSIGN_OR_RETURN(
        auto created,
        services.CreateAccount(std::string("env-") + id, std::make_pair(std::string(id), secret)));
    log::Info("created account '" + created.account.name + "' for AccessKeyId " +
              created.account.access_key_id);
    return Ok();
}

int Serve(const std::vector<std::string>& args) {
    auto flags = ParseFlags(args,
                            2,
                            {"listen",
                             "data",
                             "database",
                             "config",
                             "log-level",
                             "files-listen",
                             "files-base-url",
                             "mqtt",
                             "redis"});
    if (!flags.ok()) {
        return Fail(flags.error().message + "\n" + std::string(kUsage));
    }
    Config config;
    if (flags->count("config")) {
        if (Status st = LoadConfigFile(flags->at("config"), config); !st.ok()) {
            return Fail(st.error().message);
        }
    }
    if (flags->count("listen")) {
        config.listen = flags->at("listen");
    }
    if (flags->count("data")) {
        config.data_dir = flags->at("data");
    }
    config.database = ChooseDatabase(*flags, config.database);
    if (flags->count("files-listen")) {
        config.files.listen = flags->at("files-listen");
    }
    if (flags->count("files-base-url")) {
        config.files.base_url = flags->at("files-base-url");
        if (Status st = NormalizeBaseUrl("--files-base-url", config.files.base_url); !st.ok()) {
            return Fail(st.error().message);
        }
    }
    if (flags->count("mqtt")) {
        config.mqtt.enabled = true;
        if (Status st = ParseListen(flags->at("mqtt"), config.mqtt.host, config.mqtt.port);
            !st.ok() || config.mqtt.port == 0) {
            return Fail("--mqtt must be HOST:PORT with a port from 1 to 65535");
        }
    }
    if (flags->count("redis")) {
        config.redis.enabled = true;
        config.redis.url = flags->at("redis");
        if (Result<redis::Endpoint> endpoint = redis::ParseUrl(config.redis.url); !endpoint.ok()) {
            return Fail("--redis: " + endpoint.error().message);
        }
    }
    std::unique_ptr<SharedLimits> shared_limits;
    if (config.redis.enabled) {
        auto shared = OpenSharedLimits(config.redis,
                                       config.rpc.nonces.window_ms,
                                       static_cast<size_t>(config.http.worker_threads));
        if (!shared.ok()) {
            return Fail(shared.error().message);
        }
        shared_limits = std::move(*shared);
        config.rpc.nonce_store = shared_limits->nonces.get();
        config.rpc.rate_limiter = shared_limits->limiter.get();
    }
    std::optional<mqtt::BrokerOptions> broker_options;
    if (config.mqtt.enabled) {
        auto options = BrokerOptionsFrom(config.mqtt, config.data_dir);
        if (!options.ok()) {
            return Fail(options.error().message);
        }
        broker_options = std::move(*options);
    }
    if (flags->count("log-level") && !log::ParseLevel(flags->at("log-level"), config.log_level)) {
        return Fail("--log-level must be debug, info, warn, error or off");
    }
    log::SetLevel(config.log_level);
    // One access line per request: collected and written in batches rather than a write(2)
    // each; warnings and errors still go out at once.
    log::Buffering log_buffering(kLogFlushInterval);
    if (Status st = ParseListen(config.listen, config.http.host, config.http.port); !st.ok()) {
        return Fail(st.error().message);
    }
    std::optional<http::ServerOptions> files_http;
    if (!config.files.listen.empty()) {
        files_http = config.http;
        if (Status st = ParseListen(config.files.listen, files_http->host, files_http->port);
            !st.ok()) {
            return Fail("files listen: " + st.error().message);
        }
    }

    // Signals are taken synchronously by this thread; block them before any thread starts so
    // that none of the server's threads receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    auto store = OpenStore(config);
    if (!store.ok()) {
        return Fail(ErrorText(store.error()));
    }
    const Clock& clock = SystemClock::Instance();
    domain::Services services(**store, clock);
    if (Status st = EnsureEnvironmentAccount(services); !st.ok()) {
        return Fail(ErrorText(st.error()));
    }

    // Firmware storage: FILES/{secret, blobs/, spool/}, FILES = files.dir or DATA/files. A
    // shared files directory gives each node a spool of its own, on the same file system as
    // the blobs (a finished upload is renamed into place).
    const std::filesystem::path files_dir = config.files.dir.empty()
                                                ? std::filesystem::path(config.data_dir) / "files"
                                                : std::filesystem::path(config.files.dir);
    std::filesystem::path spool_dir = files_dir / "spool";
    if (!config.files.dir.empty()) {
        auto node = NodeId(config.data_dir);
        if (!node.ok()) {
            return Fail(ErrorText(node.error()));
        }
        spool_dir /= *node;
        std::error_code ec;
        std::filesystem::create_directories(spool_dir, ec);
        if (ec) {
            return Fail("cannot create " + spool_dir.string() + ": " + ec.message());
        }
    }
    auto secret = LoadOrCreateSecret(files_dir / "secret");
    if (!secret.ok()) {
        return Fail(ErrorText(secret.error()));
    }
    auto blobs = files::DiskBlobStore::Open((files_dir / "blobs").string(), spool_dir.string());
    if (!blobs.ok()) {
        return Fail(ErrorText(blobs.error()));
    }
    ClearDirectory(spool_dir);
    domain::FileServiceOptions file_options;
    file_options.secret = std::move(*secret);
    file_options.form_ttl_ms = config.files.form_ttl_s * 1000;
    file_options.max_upload_bytes = config.files.max_upload_bytes;
    domain::FileService file_service(**store, **blobs, clock, file_options);
    services.AttachFiles(file_service);
    files::UploadHandler uploads(file_service, **blobs, clock);
    files::DownloadHandler downloads(file_service, **blobs, clock);

    if (shared_limits) {
        const std::string where = shared_limits->client->endpoint().Describe();
        log::Info("throttling and nonces: redis " + where);
        if (Status st = shared_limits->client->Ping(); !st.ok()) {
            // Not fatal: requests are refused (nonces fail closed) until Redis answers.
            log::Warn("redis " + where + " does not answer yet; API requests are refused until " +
                      "it does (" + st.error().internal + ")");
        }
    } else {
        log::Info("throttling and nonces: in-process");
    }
    rpc::Dispatcher dispatcher(services, file_service, clock, config.rpc);
    domain::Store& db = **store;

    auto configure_files = [&](http::ServerOptions& options) {
        options.spool_dir = spool_dir.string();
        options.is_upload = &files::UploadHandler::IsUpload;
        options.max_upload_bytes =
            static_cast<uint64_t>(config.files.max_upload_bytes) + kMultipartOverheadBytes;
    };
    configure_files(config.http);
    const size_t max_rpc_body = config.http.max_body_bytes;

    http::Server server(config.http, [&](HttpRequest&& req) -> HttpResponse {
        if (req.Path() == "/healthz") {
            HttpResponse r;
            r.content_type = "application/json;charset=utf-8";
            if (Status st = db.Ping(); st.ok()) {
                r.body = R"({"status":"ok"})";
            } else {
                r.status = 503;
                r.body = R"({"status":"unavailable"})";
            }
            return r;
        }
        if (files::UploadHandler::IsUpload(req)) {
            return uploads.Handle(req);
        }
        if (files::DownloadHandler::IsDownload(req)) {
            return downloads.Handle(req);
        }
        // The dispatcher reads the body from memory; a large one was spooled.
        if (Status st = http::LoadSpooledBody(req, max_rpc_body); !st.ok()) {
            log::Error("cannot read a spooled request body: " + ErrorText(st.error()));
            HttpResponse r;
            r.status = 500;
            r.content_type = "application/json;charset=utf-8";
            r.body = R"({"Code":"InternalError","Message":"The request body could not be read."})";
            return r;
        }
        return dispatcher.Handle(req);
    });
    std::optional<http::Server> files_server;
    if (files_http) {
        configure_files(*files_http);
        files_server.emplace(*files_http, [&](HttpRequest&& req) -> HttpResponse {
            if (files::UploadHandler::IsUpload(req)) {
                return uploads.Handle(req);
            }
            if (files::DownloadHandler::IsDownload(req)) {
                return downloads.Handle(req);
            }
            HttpResponse r;
            r.status = 404;
            r.content_type = "text/plain";
            r.body = "not found\n";
            return r;
        });
    }
    auto port = server.Start();
    if (!port.ok()) {
        return Fail(ErrorText(port.error()));
    }
    const std::string api_base = "http://" + HostForUrl(config.http.host) + ":" +
                                 std::to_string(static_cast<unsigned>(*port));
    std::string files_base;
    if (files_server) {
        auto files_port = files_server->Start();
        if (!files_port.ok()) {
            server.Stop();
            return Fail(ErrorText(files_port.error()));
        }
        files_base = "http://" + HostForUrl(files_http->host) + ":" +
                     std::to_string(static_cast<unsigned>(*files_port));
    }
    const std::string upload_base =
        config.files.upload_base_url.empty() ? api_base : config.files.upload_base_url;
    std::string download_base = config.files.base_url;
    if (download_base.empty()) {
        download_base = files_base.empty() ? api_base : files_base;
        if (config.http.host == "0.0.0.0" || config.http.host == "::" ||
            (files_http && (files_http->host == "0.0.0.0" || files_http->host == "::"))) {
            log::Warn("device download URLs use " + download_base +
                      "; set files.base_url to an address devices can reach");
        }
    }
    file_service.SetBaseUrls(upload_base, download_base);
    BackgroundWork background(services, file_service);
    std::optional<DeviceChannelRuntime> device_channel;
    if (broker_options) {
        log::Info("device channel: connecting to MQTT broker " + broker_options->host + ":" +
                  std::to_string(broker_options->port) + " as '" + broker_options->username +
                  "', client id " + broker_options->client_id);
        mqtt::GatewayOptions gateway;
        gateway.max_queued_events = static_cast<size_t>(config.mqtt.max_queued_events);
        gateway.max_batch_events = static_cast<size_t>(config.mqtt.max_batch_events);
        // Several nodes: one of them at a time follows device presence, by lease.
        gateway.presence_lease = !config.mqtt.shared_group.empty();
        gateway.lease_holder = broker_options->client_id;
        gateway.reoffer_after = std::chrono::seconds(config.mqtt.reoffer_after_s);
        // Checked a few times per staleness period, at most every 30 s.
        gateway.reoffer_interval = std::chrono::milliseconds(
            std::clamp<int64_t>(config.mqtt.reoffer_after_s * 1000 / 4, 1000, 30'000));
        device_channel.emplace(services, clock, std::move(*broker_options), gateway);
        if (Status st = device_channel->Start(); !st.ok()) {
            background.Stop();
            if (files_server) {
                files_server->Stop();
            }
            server.Stop();
            return Fail("device channel: " + ErrorText(st.error()));
        }
    }

    const bool v6 = config.http.host.find(':') != std::string::npos;
    const std::string shown = v6 ? "[" + config.http.host + "]" : config.http.host;
    std::printf("listening on http://%s:%u\n", shown.c_str(), static_cast<unsigned>(*port));
    std::fflush(stdout);
    log::Info("otad serving on " + shown + ":" + std::to_string(*port) + ", data in " +
              config.data_dir + ", records in " +
              storage::DescribeDatabase(StoreOptionsFor(config)) + "; uploads to " + upload_base +
              ", downloads from " + download_base);

    int sig = 0;
    sigwait(&signals, &sig);
    log::Info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
              ", shutting down");
    if (device_channel) {
        device_channel->Stop();
    }
    if (files_server) {
        files_server->Stop();
    }
    server.Stop();
    background.Stop();
    log::Info("stopped");
    return 0;
}

// otad migrate: the records of the data directory's SQLite database into PostgreSQL, and with
// --files-to its firmware files into the directory that the nodes on PostgreSQL share.
// Exit status: 2 for a usage error, 1 when the migration fails (nothing changed), 0 when done.
int MigrateCommand(const std::vector<std::string>& args) {
    // --force is the one option without a value.
    std::vector<std::string> valued(args.begin(), args.begin() + 2);
    bool force = false;
    for (size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--force") {
            force = true;
        } else {
            valued.push_back(args[i]);
        }
    }
    auto flags = ParseFlags(valued, 2, {"data", "to", "files-to"});
    if (!flags.ok()) {
        return Fail(flags.error().message + "\n" + std::string(kUsage));
    }
    // --files-to alone copies only the files (for a migration done without it).
    if (flags->count("to") ? !storage::IsPostgresUrl(flags->at("to")) : !flags->count("files-to")) {
        return Fail("migrate needs --to postgresql://USER@HOST:PORT/DB\n" + std::string(kUsage));
    }
    Config config;
    if (flags->count("data")) {
        config.data_dir = flags->at("data");
    }
    auto failed = [](const std::string& message) {
        std::cerr << "otad: migrate: " << message << "\n";
        return 1;
    };
    const std::filesystem::path files_dir = std::filesystem::path(config.data_dir) / "files";

    // Files first: copying them again skips what is there, while the records go in at most once.
    if (flags->count("files-to")) {
        const std::string& to = flags->at("files-to");
        std::printf("copying firmware files from %s to %s\n", files_dir.c_str(), to.c_str());
        std::fflush(stdout);
        auto files = files::CopyFilesDirectory(files_dir.string(), to);
        if (!files.ok()) {
            return failed(ErrorText(files.error()));
        }
        std::printf(
            "  %lld blobs copied (%llu bytes, each checked against its SHA-256), %lld "
            "there already; secret %s\n",
            static_cast<long long>(files->blobs_copied),
            static_cast<unsigned long long>(files->bytes_copied),
            static_cast<long long>(files->blobs_present),
            !files->secret_found   ? "absent (otad never served from this directory)"
            : files->secret_copied ? "copied"
                                   : "there already");
    }

    if (!flags->count("to")) {
        std::printf("firmware files: set files.dir to %s on every node that uses the database\n",
                    flags->at("files-to").c_str());
        return 0;
    }

    storage::StoreOptions target;
    target.database = flags->at("to");
    storage::migrate::CopyOptions options;
    options.sqlite_path = (std::filesystem::path(config.data_dir) / "otad.db").string();
    options.postgres = target.database;
    options.force = force;
    options.progress = [](std::string_view table, int64_t rows) {
        std::fprintf(stderr,
                     "otad: migrate: %.*s: %lld rows\n",
                     static_cast<int>(table.size()),
                     table.data(),
                     static_cast<long long>(rows));
    };
    std::printf("copying %s to %s%s\n",
                options.sqlite_path.c_str(),
                storage::DescribeDatabase(target).c_str(),
                force ? ", replacing the records it holds" : "");
    std::fflush(stdout);
    auto report = storage::migrate::CopySqliteToPostgres(options);
    if (!report.ok()) {
        std::string message = ErrorText(report.error());
        if (report.error().code == ErrorCode::kInvalidParameter) {
            message += "; run again with --force to replace them";
        }
        return failed(message);
    }
    if (report->sqlite_upgraded) {
        std::printf("the SQLite schema was first brought up to version %lld\n",
                    static_cast<long long>(report->sqlite_schema_version));
    }
    std::printf("  %-26s %12s  %s\n", "table", "rows", "sha256");
    for (const storage::migrate::TableReport& table : report->tables) {
        std::printf("  %-26s %12lld  %.16s\n",
                    table.table.c_str(),
                    static_cast<long long>(table.rows),
                    table.checksum.c_str());
    }
    std::printf("  %-26s %12lld\n", "total", static_cast<long long>(report->rows));
    const double seconds = static_cast<double>(std::max<int64_t>(report->elapsed_ms, 1)) / 1000.0;
    std::printf(
        "verified (row count and SHA-256 of every table) and committed in %.1f s, %lld "
        "rows/s%s\n",
        seconds,
        static_cast<long long>(static_cast<double>(report->rows) / seconds),
        report->replaced ? "; the records the database held were replaced" : "");
    if (!report->analyzed) {
        std::printf(
            "planner statistics were not gathered (ANALYZE failed); autovacuum gathers them "
            "later, or run ANALYZE\n");
    }
    if (flags->count("files-to")) {
        std::printf("firmware files: set files.dir to %s on every node that uses this database\n",
                    flags->at("files-to").c_str());
    } else {
        std::printf(
            "firmware files were not copied; their bytes stay in\n"
            "  %s\n"
            "(blobs/, and secret, the key that signs download URLs). Every otad node on this\n"
            "database must use that same files directory (files.dir), or copy it into one\n"
            "that the nodes share: otad migrate --data %s --files-to DIR\n",
            files_dir.c_str(),
            config.data_dir.c_str());
    }
    return 0;
}

}  // namespace
}  // namespace otad::app

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    if (args.size() < 2 || args[1] == "help" || args[1] == "--help" || args[1] == "-h") {
        std::cout << otad::app::kUsage;
        return args.size() < 2 ? 2 : 0;
    }
    if (args[1] == "serve") {
        return otad::app::Serve(args);
    }
    if (args[1] == "account") {
        return otad::app::AccountCommand(args);
    }
    if (args[1] == "migrate") {
        return otad::app::MigrateCommand(args);
    }
    if (args[1] == "version" || args[1] == "--version") {
        std::cout << "otad " << OTAD_VERSION << "\n";
        return 0;
    }
    std::cerr << "otad: unknown command '" << args[1] << "'\n" << otad::app::kUsage;
    return 2;
}
