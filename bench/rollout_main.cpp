// otad-rollout: the API side of bench/rollout (a whole fleet updated over MQTT).
//
//   otad-rollout free-port
//   otad-rollout prepare --port N --devices N --csv FILE [--firmware-bytes 65536]
//   otad-rollout wait-ready --port N --csv FILE [--timeout 300]
//   otad-rollout rollout --port N --product-key PK --firmware-id ID --devices N
//                        [--pids otad=P,mosquitto=P,devsim=P] [--retry] [--timeout 600]
//
// Every call is signed like the Node SDK's default (see signed_request.hpp) with the key pair of
// ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET.
//
// free-port   prints a TCP port of 127.0.0.1 that was free a moment ago.
// prepare     creates a product, registers the devices (BatchRegisterDevice, then QueryDevice
//             for the secrets), writes `productKey,deviceName,deviceSecret,1.0.0` lines, uploads
//             a random firmware file through GenerateOTAUploadURL and the PostObject form and
//             creates a 2.0.0 package without verification. Prints one JSON line.
// wait-ready  waits until every device of the file is ONLINE and reports 1.0.0
//             (QueryDeviceDetail for each). Prints one JSON line.
// rollout     creates a static batch over the whole product (MaximumPerMinute 10000; with
//             --retry also RetryInterval 0 and RetryCount 1), then polls the task counts until
//             every task has ended (or the timeout) and prints one JSON line: when the batch was
//             created, when the last task succeeded, the counts over time, and the CPU time the
//             listed processes used in between.
//
// Exits 1 when a call fails or the rollout does not end, 2 on bad usage.

#include "common/crypto.hpp"
#include "common/time_format.hpp"
#include "rng.hpp"
#include "signed_request.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::bench {
namespace {

using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: otad-rollout free-port\n"
    "       otad-rollout prepare --port N --devices N --csv FILE [--firmware-bytes 65536]\n"
    "       otad-rollout wait-ready --port N --csv FILE [--timeout 300]\n"
    "       otad-rollout rollout --port N --product-key PK --firmware-id ID --devices N\n"
    "                            [--pids NAME=PID,...] [--retry] [--timeout 600]\n";

// Largest batches the API takes per call.
constexpr int64_t kRegisterChunk = 1000;
constexpr int64_t kQueryDevicePage = 50;
// How often the task counts are read during a rollout.
constexpr auto kPollInterval = std::chrono::milliseconds(100);

[[noreturn]] void Fail(const std::string& message) {
    std::cerr << "otad-rollout: " << message << "\n";
    std::exit(1);
}

double Seconds(Steady::time_point from, Steady::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

int64_t WallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// ---- one keep-alive HTTP/1.1 connection to 127.0.0.1 ---------------------------------------

struct Answer {
    int status = 0;
    std::string body;
};

class Connection {
  public:
    explicit Connection(int port) : port_(port) {}
    ~Connection() { Drop(); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Writes the request and reads the answer. A connection the server closed while idle is
    /// opened again once; nothing when that fails too.
    std::optional<Answer> RoundTrip(const std::string& request) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (fd_ < 0 && !Open()) {
                return std::nullopt;
            }
            if (Write(request)) {
                if (std::optional<Answer> a = Read()) {
                    return a;
                }
            }
            Drop();
        }
        return std::nullopt;
    }

  private:
    bool Open() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) {
            return false;
        }
        const int on = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        const timeval limit{120, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(port_));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            Drop();
            return false;
        }
        pending_.clear();
        return true;
    }

    void Drop() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = -1;
    }

    bool Write(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    bool More() {
        char buf[32768];
        ssize_t n;
        do {
            n = ::recv(fd_, buf, sizeof buf, 0);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
            return false;
        }
        pending_.append(buf, static_cast<size_t>(n));
        return true;
    }

    // otad's answers always state their length.
    std::optional<Answer> Read() {
        size_t end = 0;
        while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
            if (!More()) {
                return std::nullopt;
            }
        }
        std::string head = pending_.substr(0, end);
        for (char& c : head) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (!head.starts_with("http/1.1 ")) {
            return std::nullopt;
        }
        Answer a;
        a.status = std::atoi(head.c_str() + 9);
        size_t length = 0;
        if (const size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
            length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
        }
        while (pending_.size() < end + 4 + length) {
            if (!More()) {
                return std::nullopt;
            }
        }
        a.body = pending_.substr(end + 4, length);
        pending_.erase(0, end + 4 + length);
        if (head.find("\r\nconnection: close") != std::string::npos) {
            Drop();
        }
        return a;
    }

    int port_;
    int fd_ = -1;
    std::string pending_;
};

// ---- signed API calls --------------------------------------------------------------------------

class Api {
  public:
    explicit Api(int port) : port_(port), conn_(port) {
        const char* id = std::getenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
        const char* secret = std::getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
        if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0') {
            Fail("ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET must be set");
        }
        key_id_ = id;
        key_secret_ = secret;
        std::random_device rd;
        nonces_ = std::make_unique<Rng>((uint64_t{rd()} << 32) | rd());
    }

    /// The answer of a successful call; any failure ends the program.
    Json Call(std::string_view action, std::vector<rpc::Param> params) {
        V3Caller who{"127.0.0.1:" + std::to_string(port_),
                     key_id_,
                     key_secret_,
                     FormatUtcSeconds(WallMs()),
                     nonces_->Hex(32)};
        std::string wire;
        SerializeRequest(MakeV3Request(who, action, std::move(params)), wire);
        std::optional<Answer> a = conn_.RoundTrip(wire);
        if (!a) {
            Fail(std::string(action) + ": no answer from otad");
        }
        Json body = Json::parse(a->body, nullptr, false);
        if (a->status != 200 || body.is_discarded() || !body.value("Success", false)) {
            Fail(std::string(action) + ": HTTP " + std::to_string(a->status) + " " +
                 a->body.substr(0, 400));
        }
        return body;
    }

    Connection& connection() { return conn_; }

  private:
    int port_;
    Connection conn_;
    std::string key_id_;
    std::string key_secret_;
    std::unique_ptr<Rng> nonces_;
};

// ---- command line ------------------------------------------------------------------------------

struct Args {
    std::map<std::string, std::string> values;
    bool Has(const std::string& k) const { return values.count(k) != 0; }
    std::string Get(const std::string& k, const std::string& fallback = "") const {
        auto it = values.find(k);
        return it == values.end() ? fallback : it->second;
    }
    int64_t Int(const std::string& k, int64_t fallback) const {
        auto it = values.find(k);
        if (it == values.end()) {
            return fallback;
        }
        char* end = nullptr;
        const long long v = std::strtoll(it->second.c_str(), &end, 10);
        if (end == it->second.c_str() || *end != '\0') {
            std::cerr << "otad-rollout: " << k << " needs a number\n" << kUsage;
            std::exit(2);
        }
        return v;
    }
};

Args ParseArgs(int argc, char** argv) {
    static const std::vector<std::string> kSwitches = {"--retry"};
    Args a;
    for (int i = 2; i < argc; ++i) {
        const std::string flag = argv[i];
        if (!flag.starts_with("--")) {
            std::cerr << "otad-rollout: unexpected " << flag << "\n" << kUsage;
            std::exit(2);
        }
        if (std::find(kSwitches.begin(), kSwitches.end(), flag) != kSwitches.end()) {
            a.values[flag] = "1";
            continue;
        }
        if (i + 1 >= argc) {
            std::cerr << "otad-rollout: " << flag << " needs a value\n" << kUsage;
            std::exit(2);
        }
        a.values[flag] = argv[++i];
    }
    return a;
}

int RequiredPort(const Args& a) {
    const int64_t port = a.Int("--port", 0);
    if (port <= 0 || port > 65535) {
        std::cerr << "otad-rollout: --port is required\n" << kUsage;
        std::exit(2);
    }
    return static_cast<int>(port);
}

// ---- free-port ---------------------------------------------------------------------------------

int FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof at;
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &len) != 0) {
        Fail("cannot find a free port");
    }
    ::close(fd);
    std::cout << ntohs(at.sin_port) << "\n";
    return 0;
}

// ---- prepare -----------------------------------------------------------------------------------

struct DeviceLine {
    std::string product_key;
    std::string name;
    std::string secret;
};

// The PostObject form as a browser would send it: the policy fields, then the file.
std::string UploadRequest(const Json& form, int port, const std::string& content) {
    const std::string boundary = "----rolloutbench" + crypto::RandomLowerAlnum(16);
    std::string body;
    auto field = [&](const std::string& name, const std::string& value) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
                "\"\r\n\r\n" + value + "\r\n";
    };
    field("key", form.at("Key").get<std::string>());
    field("policy", form.at("Policy").get<std::string>());
    field("OSSAccessKeyId", form.at("OSSAccessKeyId").get<std::string>());
    field("Signature", form.at("Signature").get<std::string>());
    field("success_action_status", "200");
    body += "--" + boundary +
            "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"firmware.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n";
    body += content;
    body += "\r\n--" + boundary + "--\r\n";
    std::string req = "POST / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                      "\r\nContent-Type: multipart/form-data; boundary=" + boundary +
                      "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: keep-alive\r\n\r\n";
    return req + body;
}

int Prepare(const Args& a) {
    const int port = RequiredPort(a);
    const int64_t devices = a.Int("--devices", 0);
    const std::string csv = a.Get("--csv");
    const int64_t firmware_bytes = a.Int("--firmware-bytes", 65536);
    if (devices <= 0 || csv.empty() || firmware_bytes <= 0) {
        std::cerr << "otad-rollout: prepare needs --devices N and --csv FILE\n" << kUsage;
        return 2;
    }
    Api api(port);
    const auto t0 = Steady::now();

    const Json product =
        api.Call("CreateProduct",
                 {{"ProductName", "rollout-" + crypto::RandomLowerAlnum(8)}, {"NodeType", "0"}});
    const std::string pk = product.at("Data").at("ProductKey").get<std::string>();

    for (int64_t left = devices; left > 0; left -= kRegisterChunk) {
        api.Call("BatchRegisterDevice",
                 {{"ProductKey", pk}, {"Count", std::to_string(std::min(left, kRegisterChunk))}});
    }
    std::vector<DeviceLine> lines;
    lines.reserve(static_cast<size_t>(devices));
    for (int64_t page = 1; static_cast<int64_t>(lines.size()) < devices; ++page) {
        const Json got = api.Call("QueryDevice",
                                  {{"ProductKey", pk},
                                   {"CurrentPage", std::to_string(page)},
                                   {"PageSize", std::to_string(kQueryDevicePage)}});
        const Json& items = got.at("Data").at("DeviceInfo");
        if (items.empty()) {
            break;
        }
        for (const Json& d : items) {
            lines.push_back({pk,
                             d.at("DeviceName").get<std::string>(),
                             d.at("DeviceSecret").get<std::string>()});
        }
    }
    if (static_cast<int64_t>(lines.size()) != devices) {
        Fail("QueryDevice listed " + std::to_string(lines.size()) + " devices, expected " +
             std::to_string(devices));
    }
    {
        std::ofstream out(csv, std::ios::trunc);
        for (const DeviceLine& d : lines) {
            out << d.product_key << ',' << d.name << ',' << d.secret << ",1.0.0\n";
        }
        if (!out.flush()) {
            Fail("cannot write " + csv);
        }
    }
    const double register_s = Seconds(t0, Steady::now());

    // The file: random bytes, so that nothing along the way can compress it.
    Rng fill(42);
    std::string content(static_cast<size_t>(firmware_bytes), '\0');
    for (char& c : content) {
        c = static_cast<char>(fill.Next() & 0xFF);
    }
    const Json form = api.Call("GenerateOTAUploadURL", {{"FileSuffix", "bin"}});
    const Json& fields = form.at("Data");
    std::optional<Answer> posted = api.connection().RoundTrip(UploadRequest(fields, port, content));
    if (!posted || posted->status != 200) {
        Fail("uploading the firmware failed: " +
             (posted ? "HTTP " + std::to_string(posted->status) + " " + posted->body
                     : std::string("no answer")));
    }
    const Json firmware = api.Call("CreateOTAFirmware",
                                   {{"ProductKey", pk},
                                    {"FirmwareName", "rollout_v2"},
                                    {"DestVersion", "2.0.0"},
                                    {"FirmwareUrl", fields.at("FirmwareUrl").get<std::string>()},
                                    {"FirmwareSize", std::to_string(firmware_bytes)},
                                    {"NeedToVerify", "false"}});
    Json out{{"product_key", pk},
             {"firmware_id", firmware.at("Data").at("FirmwareId").get<std::string>()},
             {"devices", devices},
             {"firmware_bytes", firmware_bytes},
             {"register_s", std::round(register_s * 1000) / 1000},
             {"prepare_s", std::round(Seconds(t0, Steady::now()) * 1000) / 1000}};
    std::cout << out.dump() << "\n";
    return 0;
}

// ---- wait-ready --------------------------------------------------------------------------------

std::vector<DeviceLine> ReadCsv(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        Fail("cannot read " + path);
    }
    std::vector<DeviceLine> out;
    std::string line;
    while (std::getline(in, line)) {
        std::stringstream s(line);
        DeviceLine d;
        if (std::getline(s, d.product_key, ',') && std::getline(s, d.name, ',') &&
            std::getline(s, d.secret, ',')) {
            out.push_back(std::move(d));
        }
    }
    return out;
}

int WaitReady(const Args& a) {
    const int port = RequiredPort(a);
    const std::vector<DeviceLine> devices = ReadCsv(a.Get("--csv"));
    const double timeout_s = static_cast<double>(a.Int("--timeout", 300));
    if (devices.empty()) {
        Fail("no devices in " + a.Get("--csv"));
    }
    Api api(port);
    const auto t0 = Steady::now();
    // Devices already seen ready are not asked again.
    std::vector<const DeviceLine*> waiting;
    for (const DeviceLine& d : devices) {
        waiting.push_back(&d);
    }
    int rounds = 0;
    while (!waiting.empty()) {
        ++rounds;
        std::vector<const DeviceLine*> still;
        for (const DeviceLine* d : waiting) {
            const Json got = api.Call("QueryDeviceDetail",
                                      {{"ProductKey", d->product_key}, {"DeviceName", d->name}});
            const Json& data = got.at("Data");
            if (data.value("Status", "") != "ONLINE" ||
                data.value("FirmwareVersion", "") != "1.0.0") {
                still.push_back(d);
            }
        }
        waiting = std::move(still);
        if (waiting.empty()) {
            break;
        }
        if (Seconds(t0, Steady::now()) > timeout_s) {
            Fail(std::to_string(waiting.size()) + " devices not online with 1.0.0 after " +
                 std::to_string(static_cast<int>(timeout_s)) + " s");
        }
        std::cerr << "otad-rollout: " << waiting.size() << " devices not ready yet\n";
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    Json out{{"devices", devices.size()},
             {"rounds", rounds},
             {"wait_s", std::round(Seconds(t0, Steady::now()) * 1000) / 1000}};
    std::cout << out.dump() << "\n";
    return 0;
}

// ---- rollout -----------------------------------------------------------------------------------

// utime + stime of a process, in seconds; negative when it is gone.
double CpuSeconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(in, text)) {
        return -1;
    }
    // The command name may hold spaces: fields are counted from after its closing parenthesis.
    const size_t close = text.rfind(')');
    if (close == std::string::npos) {
        return -1;
    }
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    // After the name: state is field 3, utime 14 and stime 15 (1-based, as in proc(5)).
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14 || i == 15) {
            ticks += std::strtod(field.c_str(), nullptr);
        }
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Watched {
    std::string name;
    int pid = 0;
    double cpu_at_start = 0;
    double cpu_last = -1;  ///< the last reading while the process was alive
};

void Sample(std::vector<Watched>& watched) {
    for (Watched& w : watched) {
        const double cpu = CpuSeconds(w.pid);
        if (cpu >= 0) {
            w.cpu_last = cpu;
        }
    }
}

std::vector<Watched> ParsePids(const std::string& spec) {
    std::vector<Watched> out;
    std::stringstream s(spec);
    std::string item;
    while (std::getline(s, item, ',')) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos) {
            std::cerr << "otad-rollout: --pids takes NAME=PID items\n";
            std::exit(2);
        }
        out.push_back({item.substr(0, eq), std::atoi(item.c_str() + eq + 1), 0, -1});
    }
    return out;
}

int64_t CountTasks(Api& api, const std::string& job_id, const std::string& status) {
    std::vector<rpc::Param> params = {{"JobId", job_id}, {"CurrentPage", "1"}, {"PageSize", "1"}};
    if (!status.empty()) {
        params.push_back({"TaskStatus", status});
    }
    const Json got = api.Call("ListOTATaskByJob", std::move(params));
    return got.value("Total", int64_t{0});
}

int Rollout(const Args& a) {
    const int port = RequiredPort(a);
    const std::string pk = a.Get("--product-key");
    const std::string firmware_id = a.Get("--firmware-id");
    const int64_t devices = a.Int("--devices", 0);
    const double timeout_s = static_cast<double>(a.Int("--timeout", 600));
    const bool retry = a.Has("--retry");
    if (pk.empty() || firmware_id.empty() || devices <= 0) {
        std::cerr << "otad-rollout: rollout needs --product-key, --firmware-id, --devices\n"
                  << kUsage;
        return 2;
    }
    std::vector<Watched> watched = ParsePids(a.Get("--pids"));
    Api api(port);

    std::vector<rpc::Param> params = {{"ProductKey", pk},
                                      {"FirmwareId", firmware_id},
                                      {"TargetSelection", "ALL"},
                                      {"MaximumPerMinute", "10000"}};
    if (retry) {
        params.push_back({"RetryInterval", "0"});
        params.push_back({"RetryCount", "1"});
    }
    for (Watched& w : watched) {
        w.cpu_at_start = CpuSeconds(w.pid);
    }
    const auto t0 = Steady::now();
    const Json created = api.Call("CreateOTAStaticUpgradeJob", std::move(params));
    const double create_s = Seconds(t0, Steady::now());
    const std::string job_id = created.at("Data").at("JobId").get<std::string>();

    // Counts over time: one sample a second is kept for the record.
    Json timeline = Json::array();
    int64_t succeeded = 0;
    int64_t failed = 0;
    int64_t total = 0;
    double first_success_s = -1;
    double last_change_s = 0;
    double next_sample_s = 0;
    bool done = false;
    Steady::time_point end = t0;
    while (true) {
        const int64_t s = CountTasks(api, job_id, "SUCCEEDED");
        const int64_t f = CountTasks(api, job_id, "FAILED");
        if (total == 0) {
            total = CountTasks(api, job_id, "");
        }
        // A process that exits meanwhile (the simulator does when its devices are done) keeps
        // its last reading.
        Sample(watched);
        const auto now = Steady::now();
        const double at = Seconds(t0, now);
        if (s > 0 && first_success_s < 0) {
            first_success_s = at;
        }
        if (s != succeeded) {
            last_change_s = at;
            end = now;
        }
        succeeded = s;
        failed = f;
        if (at >= next_sample_s) {
            timeline.push_back(
                {{"t_s", std::round(at * 10) / 10}, {"succeeded", s}, {"failed", f}});
            next_sample_s += 1;
        }
        // Done when every task succeeded; a failure without a retry left also ends the run.
        if (total > 0 && succeeded == total) {
            done = true;
            break;
        }
        if (total > 0 && !retry && succeeded + failed == total) {
            break;
        }
        if (at > timeout_s) {
            break;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    if (end == t0) {
        end = Steady::now();
    }
    Json cpu = Json::object();
    Sample(watched);
    for (const Watched& w : watched) {
        cpu[w.name] = w.cpu_last < 0 || w.cpu_at_start < 0
                          ? Json(nullptr)
                          : Json(std::round((w.cpu_last - w.cpu_at_start) * 100) / 100);
    }
    const double elapsed = Seconds(t0, end);
    Json out{{"job_id", job_id},
             {"tasks", total},
             {"succeeded", succeeded},
             {"failed", failed},
             {"done", done},
             {"create_call_s", std::round(create_s * 1000) / 1000},
             {"first_success_s", std::round(first_success_s * 1000) / 1000},
             {"last_success_s", std::round(last_change_s * 1000) / 1000},
             {"upgrades_per_second",
              elapsed > 0 ? std::round(static_cast<double>(succeeded) / elapsed * 10) / 10 : 0},
             {"cpu_s", cpu},
             {"timeline", timeline}};
    std::cout << out.dump() << "\n";
    if (total != devices) {
        std::cerr << "otad-rollout: the batch has " << total << " tasks, expected " << devices
                  << "\n";
        return 1;
    }
    return done ? 0 : 1;
}

}  // namespace
}  // namespace otad::bench

int main(int argc, char** argv) {
    using namespace otad::bench;
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "free-port") {
        return FreePort();
    }
    const Args args = ParseArgs(argc, argv);
    if (command == "prepare") {
        return Prepare(args);
    }
    if (command == "wait-ready") {
        return WaitReady(args);
    }
    if (command == "rollout") {
        return Rollout(args);
    }
    std::cerr << kUsage;
    return command == "-h" || command == "--help" ? 0 : 2;
}
