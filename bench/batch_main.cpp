// otad-batchbench: how long one large static update batch takes to create, and what it does to
// the other clients of the server meanwhile.
//
//   otad-batchbench --otad BIN --dataset DIR --work DIR [--names N] [--selection SPECIFIC|ALL]
//                   [--product N] [--read-rate 50] [--write-rate 5] [--workers 4]
//                   [--access-key-id ID --access-key-secret S] [--label TEXT] [--keep]
//                   [--profile PERF_DATA]
//
// Steps: copies DIR/otad.db (a dataset of otad-datagen, never touched) into the work directory
// and opens it once through the storage layer (which applies pending migrations: timed, since an
// upgrade pays that at start-up), picks product N (in QueryProductList order) and its first
// N devices in IotId order, starts `otad serve` on the copy, uploads the names as a device-list
// file (GenerateDeviceNameListURL and the PostObject form), creates a package that needs no
// verification, then starts two paced background clients (ListOTAJobByDevice reads from the
// dataset's manifest, RegisterDevice writes) and, after a short warm-up, calls
// CreateOTAStaticUpgradeJob (TargetSelection SPECIFIC with DnListFileUrl, or ALL for the whole
// product). It reports when the call returned and when ListOTATaskByJob first showed every task,
// the background clients' latency before and during the batch, and otad's peak resident set.
// Prints one JSON line; exits 1 when a request failed or otad misbehaved, 2 on bad usage.

#include "common/crypto.hpp"
#include "common/http_message.hpp"
#include "common/time_format.hpp"
#include "rng.hpp"
#include "signed_request.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::bench {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: otad-batchbench --otad BIN --dataset DIR --work DIR [--names N]\n"
    "                       [--selection SPECIFIC|ALL] [--product N] [--read-rate 50]\n"
    "                       [--write-rate 5] [--workers 4] [--access-key-id ID]\n"
    "                       [--access-key-secret S] [--label TEXT] [--keep]\n"
    "                       [--profile PERF_DATA]\n";

struct Options {
    std::string otad;
    std::string dataset;
    std::string work;
    int64_t names = 0;  // 0: every device of the product
    std::string selection = "SPECIFIC";
    int64_t product = 0;
    double read_rate = 50;
    double write_rate = 5;
    int workers = 4;
    std::string access_key_id = "LTAIbenchAccessKey0001";
    std::string access_key_secret = "benchAccessKeySecret0000000001";
    std::string label;
    std::string profile;  // perf.data path: otad is profiled during the batch when set
    bool keep = false;
};

double SecondsSince(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// The otad this run started, stopped by Die.
pid_t g_otad_pid = -1;

[[noreturn]] void Die(const std::string& message) {
    std::cerr << "otad-batchbench: " << message << "\n";
    if (g_otad_pid > 0) {
        ::kill(g_otad_pid, SIGTERM);
        ::waitpid(g_otad_pid, nullptr, 0);
    }
    std::exit(1);
}

// ---- a blocking HTTP/1.1 client, one keep-alive connection --------------------------------

struct HttpReply {
    int status = 0;
    std::string body;
};

class HttpClient {
  public:
    explicit HttpClient(int port) : port_(port) {}
    ~HttpClient() { Close(); }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends `request` and reads the whole answer; reconnects once when a kept-alive connection
    /// was closed by the server. Nothing on a network failure.
    std::optional<HttpReply> Exchange(const std::string& request) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (fd_ < 0 && !Connect()) {
                return std::nullopt;
            }
            if (SendAll(request)) {
                if (auto reply = ReadReply()) {
                    return reply;
                }
            }
            Close();
        }
        return std::nullopt;
    }

  private:
    bool Connect() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) {
            return false;
        }
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        // Long enough for the batch call itself.
        timeval tv{1800, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port_));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            Close();
            return false;
        }
        buffer_.clear();
        return true;
    }

    void Close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    bool SendAll(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                return false;
            }
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    bool Fill() {
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return false;
        }
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
    }

    // Answers of otad always carry Content-Length.
    std::optional<HttpReply> ReadReply() {
        size_t header_end;
        while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!Fill()) {
                return std::nullopt;
            }
        }
        const std::string head = buffer_.substr(0, header_end);
        HttpReply reply;
        if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) {
            return std::nullopt;
        }
        reply.status = std::atoi(head.c_str() + 9);
        size_t length = 0;
        std::string lower = head;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        if (const size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
            length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
        }
        const size_t body_start = header_end + 4;
        while (buffer_.size() < body_start + length) {
            if (!Fill()) {
                return std::nullopt;
            }
        }
        reply.body = buffer_.substr(body_start, length);
        buffer_.erase(0, body_start + length);
        if (lower.find("\r\nconnection: close") != std::string::npos) {
            Close();
        }
        return reply;
    }

    int port_;
    int fd_ = -1;
    std::string buffer_;
};

// ---- signed calls ----------------------------------------------------------------------------

class Caller {
  public:
    Caller(const Options& o, int port) : o_(o), port_(port), http_(port) {
        std::random_device rd;
        nonce_rng_ = std::make_unique<Rng>((uint64_t{rd()} << 32) ^ rd());
    }

    /// Calls the action; the parsed answer when it is HTTP 200 with Success true.
    std::optional<Json> Call(std::string_view action, std::vector<rpc::Param> params) {
        V3Caller c;
        c.host = "127.0.0.1:" + std::to_string(port_);
        c.access_key_id = o_.access_key_id;
        c.access_key_secret = o_.access_key_secret;
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        c.date = FormatUtcSeconds(now_ms);
        c.nonce = nonce_rng_->Hex(32);
        std::string bytes;
        SerializeRequest(MakeV3Request(c, action, std::move(params)), bytes);
        auto reply = http_.Exchange(bytes);
        if (!reply) {
            last_error_ = "no answer";
            return std::nullopt;
        }
        Json body = Json::parse(reply->body, nullptr, false);
        if (reply->status != 200 || body.is_discarded() || !body.value("Success", false)) {
            last_error_ =
                "HTTP " + std::to_string(reply->status) + ": " + reply->body.substr(0, 300);
            return std::nullopt;
        }
        return body;
    }

    HttpClient& http() { return http_; }
    const std::string& last_error() const { return last_error_; }

  private:
    const Options& o_;
    int port_;
    HttpClient http_;
    std::unique_ptr<Rng> nonce_rng_;
    std::string last_error_;
};

// ---- background clients ----------------------------------------------------------------------

struct Sample {
    double start_s;  // since the run's origin
    double latency_ms;
    bool ok;
};

struct Triple {
    std::string product_key;
    std::string device_name;
    std::string firmware_id;
};

// Sends one request every 1/rate seconds (the next one at once when a request took longer) until
// told to stop, recording each request's start and latency.
class PacedClient {
  public:
    PacedClient(double rate,
                SteadyClock::time_point origin,
                std::function<bool(Caller&, Rng&)> request,
                const Options& o,
                int port)
        : rate_(rate), origin_(origin), request_(std::move(request)), caller_(o, port) {}

    void Start() {
        thread_ = std::thread([this] { Run(); });
    }
    void Stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    const std::vector<Sample>& samples() const { return samples_; }
    const std::string& last_error() const { return caller_.last_error(); }

  private:
    void Run() {
        if (rate_ <= 0) {
            return;
        }
        Rng rng(7);
        const auto interval = std::chrono::duration<double>(1.0 / rate_);
        auto next = SteadyClock::now();
        while (!stop_) {
            std::this_thread::sleep_until(next);
            const auto t0 = SteadyClock::now();
            const bool ok = request_(caller_, rng);
            const auto t1 = SteadyClock::now();
            samples_.push_back({std::chrono::duration<double>(t0 - origin_).count(),
                                std::chrono::duration<double, std::milli>(t1 - t0).count(),
                                ok});
            next += std::chrono::duration_cast<SteadyClock::duration>(interval);
            if (next < t1) {
                next = t1;
            }
        }
    }

    double rate_;
    SteadyClock::time_point origin_;
    std::function<bool(Caller&, Rng&)> request_;
    Caller caller_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::vector<Sample> samples_;
};

// Latency summary of the samples that started in [from, to).
Json Summarize(const std::vector<Sample>& samples, double from, double to) {
    std::vector<double> lat;
    int64_t failed = 0;
    for (const Sample& s : samples) {
        if (s.start_s >= from && s.start_s < to) {
            lat.push_back(s.latency_ms);
            failed += s.ok ? 0 : 1;
        }
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
        if (lat.empty()) {
            return 0.0;
        }
        const size_t i = std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()));
        return std::round(lat[i] * 1000) / 1000;
    };
    return Json{{"requests", lat.size()},
                {"failed", failed},
                {"p50_ms", pct(0.50)},
                {"p99_ms", pct(0.99)},
                {"max_ms", lat.empty() ? 0.0 : std::round(lat.back() * 1000) / 1000}};
}

// ---- otad --------------------------------------------------------------------------------------

struct OtadProcess {
    pid_t pid = -1;
    int port = 0;
    double startup_ms = 0;
};

OtadProcess StartOtad(const Options& o, const std::string& data_dir, const std::string& config) {
    int out[2];
    if (::pipe(out) != 0) {
        Die("pipe failed");
    }
    const auto t0 = SteadyClock::now();
    const std::string log = data_dir + "/otad.log";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (err >= 0) {
            ::dup2(err, 2);
        }
        ::close(out[0]);
        ::execl(o.otad.c_str(),
                o.otad.c_str(),
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                data_dir.c_str(),
                "--config",
                config.c_str(),
                static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
        line += c;
    }
    // otad keeps writing to stdout rarely, if ever; the pipe stays open so that it never gets
    // SIGPIPE, and is closed with the process.
    OtadProcess p;
    p.pid = pid;
    g_otad_pid = pid;
    p.startup_ms = SecondsSince(t0) * 1000;
    const size_t colon = line.rfind(':');
    if (!line.starts_with("listening on") || colon == std::string::npos) {
        Die("otad did not start (see " + log + ")");
    }
    p.port = std::atoi(line.c_str() + colon + 1);
    return p;
}

Json ProcessMemory(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    Json out = Json::object();
    while (std::getline(in, line)) {
        for (const char* key : {"VmHWM", "VmRSS", "RssAnon", "RssFile"}) {
            if (line.starts_with(std::string(key) + ":")) {
                out[std::string(key) + "_kb"] = std::atoll(line.c_str() + std::strlen(key) + 1);
            }
        }
    }
    return out;
}

// ---- the dataset -----------------------------------------------------------------------------

struct Target {
    domain::Scope scope;
    std::string product_key;
    std::vector<std::string> names;
    std::string firmware_id;
    int64_t product_devices = 0;
    double migrate_ms = 0;
};

// Opens the copy through the storage layer (bringing its schema up to date, timed) and picks the
// product and device names of the batch.
Target PickTarget(const Options& o, const std::string& db_path) {
    storage::sqlite::SqliteOptions so;
    so.path = db_path;
    so.synchronous_full = false;
    const auto t0 = SteadyClock::now();
    auto store = storage::sqlite::OpenSqliteStore(so);
    if (!store.ok()) {
        Die("cannot open " + db_path + ": " + store.error().internal);
    }
    Target t;
    t.migrate_ms = SecondsSince(t0) * 1000;
    const Status st = (*store)->Read([&](domain::ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto account, tx.FindAccountByAccessKey(o.access_key_id));
        if (!account) {
            return InternalError("no account with that AccessKey");
        }
        OTA_ASSIGN_OR_RETURN(auto instance, tx.FindDefaultInstance(account->id));
        if (!instance) {
            return InternalError("no default instance");
        }
        t.scope = {account->id, instance->id};
        std::vector<int64_t> counts;
        OTA_ASSIGN_OR_RETURN(auto products, tx.ListProducts(t.scope, 0, 1000, counts));
        if (o.product >= static_cast<int64_t>(products.items.size())) {
            return InternalError("no such product index");
        }
        const auto index = static_cast<size_t>(o.product);
        t.product_key = products.items[index].product_key;
        t.product_devices = counts[index];
        return Ok();
    });
    if (!st.ok()) {
        Die("cannot read the dataset: " + st.error().internal + st.error().message);
    }
    // The package of the batch: written here rather than through the API, whose per-instance
    // quota the full dataset has used up. Its version is new, so no device is skipped.
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    domain::Firmware fw;
    fw.firmware_id = crypto::RandomBase62(20) + "030100";
    fw.firmware_name = "batchbench-" + crypto::RandomBase62(8);
    fw.product_key = t.product_key;
    fw.dest_version = fw.firmware_name;
    fw.firmware_sign = std::string(32, 'a');
    fw.firmware_size = 1024;
    fw.firmware_url = "https://example.com/" + fw.firmware_name + ".bin";
    fw.need_to_verify = false;
    fw.status = domain::FirmwareStatus::kNoVerificationNeeded;
    fw.created_ms = now_ms;
    fw.modified_ms = now_ms;
    t.firmware_id = fw.firmware_id;
    const Status written = (*store)->Write(
        [&](domain::WriteTx& tx) -> Status { return tx.InsertFirmware(t.scope, fw); });
    if (!written.ok()) {
        Die("cannot add the package: " + written.error().internal);
    }
    const Status listed = (*store)->Read([&](domain::ReadTx& tx) -> Status {
        const auto limit = o.names > 0 ? o.names : t.product_devices;
        return tx.ForEachDevice(t.scope, t.product_key, [&](const domain::Device& d) -> Status {
            if (static_cast<int64_t>(t.names.size()) < limit) {
                t.names.push_back(d.device_name);
            }
            return Ok();
        });
    });
    if (!listed.ok()) {
        Die("cannot list the devices: " + listed.error().internal);
    }
    return t;
}

std::vector<Triple> ReadManifest(const std::string& path) {
    std::vector<Triple> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        Triple t;
        std::stringstream ss(line);
        if (std::getline(ss, t.product_key, ',') && std::getline(ss, t.device_name, ',') &&
            std::getline(ss, t.firmware_id, ',')) {
            out.push_back(std::move(t));
        }
    }
    return out;
}

// ---- the device-list upload ------------------------------------------------------------------

std::string UploadDeviceList(Caller& api, int port, const std::vector<std::string>& names) {
    auto form = api.Call("GenerateDeviceNameListURL", {});
    if (!form) {
        Die("GenerateDeviceNameListURL failed: " + api.last_error());
    }
    const Json& d = (*form)["Data"];
    std::string file;
    file.reserve(names.size() * 14);
    for (const std::string& n : names) {
        file += n;
        file += '\n';
    }
    const std::string boundary = "----otadbatchbench" + crypto::RandomBase62(16);
    std::string body;
    auto field = [&](std::string_view name, const std::string& value) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" +
                std::string(name) + "\"\r\n\r\n" + value + "\r\n";
    };
    field("key", d.value("Key", ""));
    field("policy", d.value("Policy", ""));
    field("OSSAccessKeyId", d.value("AccessKeyId", ""));
    field("Signature", d.value("Signature", ""));
    field("success_action_status", "200");
    body += "--" + boundary +
            "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"devices.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n";
    body += file;
    body += "\r\n--" + boundary + "--\r\n";
    std::string request = "POST / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nContent-Type: multipart/form-data; boundary=" + boundary +
                          "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: keep-alive\r\n\r\n";
    request += body;
    HttpClient http(port);
    auto reply = http.Exchange(request);
    if (!reply || reply->status != 200) {
        Die("the device-list upload failed: " +
            (reply ? std::to_string(reply->status) + " " + reply->body : std::string("no answer")));
    }
    return d.value("FileUrl", "");
}

int Run(const Options& o) {
    namespace fs = std::filesystem;
    const std::string data_dir = o.work + "/data";
    std::error_code ec;
    fs::remove_all(data_dir, ec);
    fs::create_directories(data_dir);
    const auto copy_t0 = SteadyClock::now();
    fs::copy_file(o.dataset + "/otad.db", data_dir + "/otad.db");
    const double copy_s = SecondsSince(copy_t0);

    const Target target = PickTarget(o, data_dir + "/otad.db");
    const std::vector<Triple> triples = ReadManifest(o.dataset + "/manifest.csv");
    if (triples.empty()) {
        Die("the dataset has no manifest");
    }
    const bool specific = o.selection == "SPECIFIC";
    const int64_t expected =
        specific ? static_cast<int64_t>(target.names.size()) : target.product_devices;

    const std::string config = o.work + "/otad.json";
    {
        std::ofstream cfg(config);
        cfg << "{\"throttling\": {\"enabled\": false},\n \"limits\": {\"worker_threads\": "
            << o.workers << ", \"io_threads\": 1, \"max_connections\": 4096}}\n";
    }
    const OtadProcess otad = StartOtad(o, data_dir, config);
    Caller api(o, otad.port);

    std::string list_url;
    if (specific) {
        list_url = UploadDeviceList(api, otad.port, target.names);
    }
    const std::string suffix = crypto::RandomBase62(8);
    const std::string& firmware_id = target.firmware_id;
    // The background writes register devices in a product of their own, so that they never
    // change what the batch targets.
    auto write_product =
        api.Call("CreateProduct", {{"ProductName", "batchbench-" + suffix}, {"NodeType", "0"}});
    if (!write_product) {
        Die("CreateProduct failed: " + api.last_error());
    }
    const std::string write_product_key = (*write_product)["Data"].value("ProductKey", "");

    // Background clients.
    const auto origin = SteadyClock::now();
    PacedClient reader(
        o.read_rate,
        origin,
        [&triples](Caller& c, Rng& rng) {
            const Triple& t = triples[rng.Below(triples.size())];
            return c
                .Call("ListOTAJobByDevice",
                      {{"ProductKey", t.product_key},
                       {"DeviceName", t.device_name},
                       {"FirmwareId", t.firmware_id},
                       {"CurrentPage", "1"},
                       {"PageSize", "10"}})
                .has_value();
        },
        o,
        otad.port);
    std::atomic<int64_t> written{0};
    PacedClient writer(
        o.write_rate,
        origin,
        [&](Caller& c, Rng&) {
            const std::string name = "bbw" + suffix + std::to_string(written++);
            return c
                .Call("RegisterDevice", {{"ProductKey", write_product_key}, {"DeviceName", name}})
                .has_value();
        },
        o,
        otad.port);
    reader.Start();
    writer.Start();
    std::this_thread::sleep_for(std::chrono::seconds(3));

    // `perf record` on otad for the duration of the batch, when asked.
    pid_t perf = -1;
    if (!o.profile.empty()) {
        const std::string pid = std::to_string(otad.pid);
        perf = ::fork();
        if (perf == 0) {
            ::execlp("perf",
                     "perf",
                     "record",
                     "-F",
                     "499",
                     "-g",
                     "-o",
                     o.profile.c_str(),
                     "-p",
                     pid.c_str(),
                     static_cast<char*>(nullptr));
            std::_Exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }

    // The batch.
    const double t0 = SecondsSince(origin);
    std::vector<rpc::Param> params = {{"ProductKey", target.product_key},
                                      {"FirmwareId", firmware_id},
                                      {"TargetSelection", o.selection}};
    if (specific) {
        params.push_back({"DnListFileUrl", list_url});
    }
    auto job = api.Call("CreateOTAStaticUpgradeJob", params);
    const double t1 = SecondsSince(origin);
    if (!job) {
        reader.Stop();
        writer.Stop();
        Die("CreateOTAStaticUpgradeJob failed: " + api.last_error());
    }
    const std::string job_id = (*job)["Data"].value("JobId", "");
    int64_t total = -1;
    double t2 = t1;
    Caller poll(o, otad.port);
    while (SecondsSince(origin) - t1 < 600) {
        auto page = poll.Call("ListOTATaskByJob",
                              {{"JobId", job_id}, {"CurrentPage", "1"}, {"PageSize", "1"}});
        if (page) {
            total = page->value("Total", int64_t{-1});
            if (total == expected) {
                t2 = SecondsSince(origin);
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (perf > 0) {
        ::kill(perf, SIGINT);
        ::waitpid(perf, nullptr, 0);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    reader.Stop();
    writer.Stop();
    const Json memory = ProcessMemory(otad.pid);

    ::kill(otad.pid, SIGTERM);
    int status = 0;
    ::waitpid(otad.pid, &status, 0);
    g_otad_pid = -1;
    const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;

    const double during_end = std::max(t2, t1);
    Json out{{"label", o.label},
             {"selection", o.selection},
             {"names", specific ? expected : 0},
             {"product_devices", target.product_devices},
             {"expected_tasks", expected},
             {"tasks_listed", total},
             {"create_call_s", std::round((t1 - t0) * 1000) / 1000},
             {"all_tasks_visible_s", std::round((t2 - t0) * 1000) / 1000},
             {"reads_before", Summarize(reader.samples(), 0, t0)},
             {"reads_during", Summarize(reader.samples(), t0, during_end)},
             {"writes_before", Summarize(writer.samples(), 0, t0)},
             {"writes_during", Summarize(writer.samples(), t0, during_end)},
             {"memory", memory},
             {"startup_ms", std::round(otad.startup_ms * 10) / 10},
             {"migrate_ms", std::round(target.migrate_ms * 10) / 10},
             {"copy_s", std::round(copy_s * 100) / 100},
             {"read_rate", o.read_rate},
             {"write_rate", o.write_rate},
             {"clean_exit", clean_exit}};
    std::cout << out.dump() << std::endl;
    if (!o.keep) {
        fs::remove_all(data_dir, ec);
    }
    int64_t failed = 0;
    for (const auto* c : {&reader, &writer}) {
        for (const Sample& s : c->samples()) {
            failed += s.ok ? 0 : 1;
        }
    }
    if (failed > 0) {
        std::cerr << "otad-batchbench: " << failed
                  << " background request(s) failed; last: " << reader.last_error() << " / "
                  << writer.last_error() << "\n";
    }
    return (failed == 0 && clean_exit && total == expected) ? 0 : 1;
}

}  // namespace
}  // namespace otad::bench

int main(int argc, char** argv) {
    using otad::bench::kUsage;
    otad::bench::Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (arg == "--keep") {
            o.keep = true;
            continue;
        }
        if (!arg.starts_with("--") || i + 1 >= argc) {
            std::cerr << kUsage;
            return 2;
        }
        const std::string v = argv[++i];
        if (arg == "--otad") {
            o.otad = v;
        } else if (arg == "--dataset") {
            o.dataset = v;
        } else if (arg == "--work") {
            o.work = v;
        } else if (arg == "--names") {
            o.names = std::atoll(v.c_str());
        } else if (arg == "--selection") {
            o.selection = v;
        } else if (arg == "--product") {
            o.product = std::atoll(v.c_str());
        } else if (arg == "--read-rate") {
            o.read_rate = std::atof(v.c_str());
        } else if (arg == "--write-rate") {
            o.write_rate = std::atof(v.c_str());
        } else if (arg == "--workers") {
            o.workers = std::atoi(v.c_str());
        } else if (arg == "--access-key-id") {
            o.access_key_id = v;
        } else if (arg == "--access-key-secret") {
            o.access_key_secret = v;
        } else if (arg == "--label") {
            o.label = v;
        } else if (arg == "--profile") {
            o.profile = v;
        } else {
            std::cerr << "otad-batchbench: unknown option " << arg << "\n" << kUsage;
            return 2;
        }
    }
    if (o.otad.empty() || o.dataset.empty() || o.work.empty() ||
        (o.selection != "SPECIFIC" && o.selection != "ALL")) {
        std::cerr << kUsage;
        return 2;
    }
    return otad::bench::Run(o);
}
