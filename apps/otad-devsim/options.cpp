#include "options.hpp"

#include <charconv>
#include <set>

namespace otad::devsim {
namespace {

constexpr std::string_view kUsage =
    "usage: otad-devsim --devices FILE [options]\n"
    "\n"
    "Simulates devices running Alibaba's Link SDK 4.x / iotkit 3.x / Node SDK against an\n"
    "Alink-speaking MQTT broker, downloading firmware over plain HTTP.\n"
    "\n"
    "  --devices FILE          CSV lines productKey,deviceName,deviceSecret[,version]\n"
    "  --broker HOST:PORT      MQTT broker (default 127.0.0.1:1883)\n"
    "  --style 4x|3x|node|mix  SDK imitated (default 4x; mix: 4x, 3x, node in turn)\n"
    "  --version V             initial default-module version when the CSV has none (1.0.0)\n"
    "  --modules M=V,...       extra modules reported at connect\n"
    "  --pull                  ask /sys/.../thing/ota/firmware/get after connecting\n"
    "  --legacy-pull           ask /ota/device/request/... after connecting\n"
    "  --pull-every S          repeat the pull of an idle device every S seconds (0: once)\n"
    "  --subscribe-all         SUBSCRIBE to the downlinks in every style (plain brokers)\n"
    "  --http-port P           port for firmware URLs without one (default 80)\n"
    "  --http-host H           connect to H for firmware downloads instead of the URL's host\n"
    "  --http-timeout-ms N     connect/read deadline of each HTTP request (default 30000)\n"
    "  --max-resumes N         resumed requests per file after broken connections (5)\n"
    "  --split-ranges          fetch bytes=0-n and bytes=n+1- as two requests\n"
    "  --fail-rate R           share of devices that report -1/-2/-4 on their first push\n"
    "  --timeout-rate R        share of devices that report 0 and then stay silent\n"
    "  --offline-rate R        share of devices that drop offline on their first push\n"
    "  --offline-ms N          how long those stay offline (default 5000)\n"
    "  --wrong-version-rate R  share of devices that report a wrong version once\n"
    "  --seed N                seed of the fault draws (default 1)\n"
    "  --until-version V       exit 0 when every undesignated device reports V\n"
    "  --until-module M        module --until-version applies to (default: default module)\n"
    "  --max-seconds S         with --until-version: exit 1 after S seconds\n"
    "  --duration S            run S seconds, then exit 0\n"
    "  --connect-rate N        new MQTT connections per second (default unlimited)\n"
    "  --keepalive S           MQTT keepalive, 30..1200 (default: per SDK)\n"
    "  --reconnect-ms N        delay before reconnecting after a lost connection (2000)\n"
    "  --threads N             event-loop threads (default 1)\n"
    "  --download-threads N    download threads (default 8)\n"
    "  --progress-every P      report progress every P percent (default 50)\n"
    "  --stats-interval S      seconds between progress lines on stderr (default 5)\n"
    "  --log-level L           debug|info|warn|error|off (default info)\n"
    "\n"
    "At exit one JSON line with the totals is written to stdout.\n";

Error Invalid(std::string_view flag, std::string_view why) {
    return InvalidParam(std::string(flag), std::string(flag) + ": " + std::string(why));
}

Result<int64_t> ParseInt(std::string_view flag, std::string_view text, int64_t lo, int64_t hi) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return Invalid(flag, "not an integer");
    }
    if (v < lo || v > hi) {
        return Invalid(flag, "out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v;
}

Result<double> ParseDouble(std::string_view flag, std::string_view text, double lo, double hi) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return Invalid(flag, "not a number");
    }
    if (!(v >= lo && v <= hi)) {
        return Invalid(flag, "out of range");
    }
    return v;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        const size_t p = s.find(sep, start);
        out.push_back(
            s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
        if (p == std::string_view::npos) {
            return out;
        }
        start = p + 1;
    }
}

// SplitMix64: a small, well-mixed generator, enough for fault draws.
uint64_t Mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

double Unit(uint64_t x) {
    return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
}

const std::set<std::string_view>& SwitchFlags() {
    static const std::set<std::string_view> k = {
        "--pull", "--legacy-pull", "--split-ranges", "--subscribe-all", "--help"};
    return k;
}

// Applies one "--flag value" to the configuration.
Result<void> Apply(Config& c, std::string_view flag, std::string_view value) {
    auto set_int = [&](int& field, int64_t lo, int64_t hi) -> Result<void> {
        Result<int64_t> v = ParseInt(flag, value, lo, hi);
        if (!v) {
            return v.error();
        }
        field = static_cast<int>(*v);
        return {};
    };
    auto set_rate = [&](double& field) -> Result<void> {
        Result<double> v = ParseDouble(flag, value, 0.0, 1.0);
        if (!v) {
            return v.error();
        }
        field = *v;
        return {};
    };
    if (flag == "--devices") {
        c.devices_file = std::string(value);
    } else if (flag == "--broker") {
        const size_t colon = value.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            return Invalid(flag, "expected HOST:PORT");
        }
        Result<int64_t> port = ParseInt(flag, value.substr(colon + 1), 1, 65535);
        if (!port) {
            return port.error();
        }
        c.broker_host = std::string(value.substr(0, colon));
        c.broker_port = static_cast<uint16_t>(*port);
    } else if (flag == "--style") {
        if (value == "mix") {
            c.style = StyleChoice::kMix;
        } else if (auto s = ParseStyle(value)) {
            c.style = *s == Style::k4x   ? StyleChoice::k4x
                      : *s == Style::k3x ? StyleChoice::k3x
                                         : StyleChoice::kNode;
        } else {
            return Invalid(flag, "expected 4x, 3x, node or mix");
        }
    } else if (flag == "--version") {
        if (value.empty() || value.size() > kMaxFieldBytes) {
            return Invalid(flag, "empty or too long");
        }
        c.default_version = std::string(value);
    } else if (flag == "--modules") {
        Result<std::vector<ModuleVersion>> m = ParseModules(value);
        if (!m) {
            return m.error();
        }
        c.modules = std::move(*m);
    } else if (flag == "--pull-every") {
        return set_int(c.pull_every_s, 0, 86400);
    } else if (flag == "--http-port") {
        int port = 0;
        if (auto r = set_int(port, 1, 65535); !r) {
            return r;
        }
        c.fetch.default_port = static_cast<uint16_t>(port);
    } else if (flag == "--http-host") {
        c.fetch.connect_host = std::string(value);
    } else if (flag == "--http-timeout-ms") {
        return set_int(c.fetch.timeout_ms, 100, 3600000);
    } else if (flag == "--max-resumes") {
        int n = 0;
        if (auto r = set_int(n, 0, 1000); !r) {
            return r;
        }
        c.fetch.max_resumes = static_cast<uint32_t>(n);
    } else if (flag == "--fail-rate") {
        return set_rate(c.faults.fail);
    } else if (flag == "--timeout-rate") {
        return set_rate(c.faults.timeout);
    } else if (flag == "--offline-rate") {
        return set_rate(c.faults.offline);
    } else if (flag == "--wrong-version-rate") {
        return set_rate(c.faults.wrong_version);
    } else if (flag == "--offline-ms") {
        return set_int(c.offline_ms, 0, 86400000);
    } else if (flag == "--seed") {
        Result<int64_t> v = ParseInt(flag, value, 0, INT64_MAX);
        if (!v) {
            return v.error();
        }
        c.seed = static_cast<uint64_t>(*v);
    } else if (flag == "--until-version") {
        c.until_version = std::string(value);
    } else if (flag == "--until-module") {
        c.until_module = ModuleKey(value);
    } else if (flag == "--max-seconds") {
        return set_int(c.max_seconds, 1, 7 * 86400);
    } else if (flag == "--duration") {
        return set_int(c.duration_s, 1, 7 * 86400);
    } else if (flag == "--connect-rate") {
        Result<double> v = ParseDouble(flag, value, 0.0, 1e6);
        if (!v) {
            return v.error();
        }
        c.connect_rate = *v;
    } else if (flag == "--keepalive") {
        return set_int(c.keepalive_s, 30, 1200);
    } else if (flag == "--reconnect-ms") {
        return set_int(c.reconnect_ms, 10, 3600000);
    } else if (flag == "--threads") {
        return set_int(c.loop_threads, 1, 64);
    } else if (flag == "--download-threads") {
        return set_int(c.download_threads, 1, 256);
    } else if (flag == "--progress-every") {
        return set_int(c.progress_every, 1, 100);
    } else if (flag == "--stats-interval") {
        return set_int(c.stats_interval_s, 1, 3600);
    } else if (flag == "--log-level") {
        c.log_level = std::string(value);
    } else {
        return Invalid(flag, "unknown flag");
    }
    return {};
}

}  // namespace

std::string_view UsageText() {
    return kUsage;
}

FaultPlan DrawFaults(uint64_t seed, uint64_t index, const FaultRates& rates) {
    // One independent stream per device, so a device's faults do not depend on the others.
    uint64_t state = Mix(seed ^ Mix(index + 0x632be59bd9b4e019ULL));
    auto next = [&] {
        state = Mix(state);
        return Unit(state);
    };
    FaultPlan plan;
    plan.fail = next() < rates.fail;
    const double pick = next();
    plan.fail_step = pick < 1.0 / 3 ? -1 : (pick < 2.0 / 3 ? -2 : -4);
    plan.timeout = next() < rates.timeout;
    plan.offline = next() < rates.offline;
    plan.wrong_version = next() < rates.wrong_version;
    return plan;
}

Result<std::vector<ModuleVersion>> ParseModules(std::string_view text) {
    std::vector<ModuleVersion> out;
    if (Trim(text).empty()) {
        return out;
    }
    std::set<std::string> seen;
    for (std::string_view item : Split(text, ',')) {
        item = Trim(item);
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
            return Invalid("--modules", "expected MODULE=VERSION items");
        }
        ModuleVersion m{std::string(Trim(item.substr(0, eq))),
                        std::string(Trim(item.substr(eq + 1)))};
        if (m.module == "default" || m.module.size() > kMaxFieldBytes ||
            m.version.size() > kMaxFieldBytes || !seen.insert(m.module).second) {
            return Invalid("--modules", "module '" + m.module + "' repeated, reserved or too long");
        }
        out.push_back(std::move(m));
        if (out.size() > kMaxModules) {
            return Invalid("--modules", "more than 16 modules");
        }
    }
    return out;
}

Result<Config> ParseArgs(const std::vector<std::string>& args) {
    Config c;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view flag = args[i];
        std::string_view value;
        bool inline_value = false;
        if (!flag.starts_with("--")) {
            return Invalid(flag, "unexpected argument");
        }
        if (const size_t eq = flag.find('='); eq != std::string_view::npos) {
            value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
            inline_value = true;
        }
        if (SwitchFlags().count(flag) != 0) {
            if (inline_value) {
                return Invalid(flag, "takes no value");
            }
            if (flag == "--pull") {
                c.pull = true;
            } else if (flag == "--legacy-pull") {
                c.legacy_pull = true;
            } else if (flag == "--split-ranges") {
                c.fetch.split_ranges = true;
            } else if (flag == "--subscribe-all") {
                c.subscribe_all = true;
            } else {
                c.help = true;
            }
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= args.size()) {
                return Invalid(flag, "needs a value");
            }
            value = args[++i];
        }
        if (auto r = Apply(c, flag, value); !r) {
            return r.error();
        }
    }
    if (c.help) {
        return c;
    }
    if (c.devices_file.empty()) {
        return Invalid("--devices", "required");
    }
    if (c.max_seconds > 0 && c.until_version.empty()) {
        return Invalid("--max-seconds", "only meaningful with --until-version");
    }
    return c;
}

Result<std::vector<DeviceSpec>> ParseDevices(std::string_view csv, const Config& config) {
    std::vector<DeviceSpec> out;
    std::set<std::pair<std::string, std::string>> seen;
    size_t line_no = 0;
    for (std::string_view line : Split(csv, '\n')) {
        ++line_no;
        const std::string where = "line " + std::to_string(line_no);
        if (line.size() > kMaxCsvLineBytes) {
            return Invalid("--devices", where + " longer than 1024 bytes");
        }
        line = Trim(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::vector<std::string_view> fields = Split(line, ',');
        if (fields.size() < 3 || fields.size() > 4) {
            return Invalid("--devices", where + ": expected 3 or 4 fields");
        }
        DeviceSpec d;
        d.identity.product_key = std::string(Trim(fields[0]));
        d.identity.device_name = std::string(Trim(fields[1]));
        d.identity.device_secret = std::string(Trim(fields[2]));
        d.version = fields.size() == 4 ? std::string(Trim(fields[3])) : config.default_version;
        for (const std::string* f : {&d.identity.product_key,
                                     &d.identity.device_name,
                                     &d.identity.device_secret,
                                     &d.version}) {
            if (f->empty() || f->size() > kMaxFieldBytes) {
                return Invalid("--devices", where + ": empty or over-long field");
            }
        }
        if (!seen.emplace(d.identity.product_key, d.identity.device_name).second) {
            return Invalid("--devices", where + ": device listed twice");
        }
        switch (config.style) {
            case StyleChoice::k4x:
                d.style = Style::k4x;
                break;
            case StyleChoice::k3x:
                d.style = Style::k3x;
                break;
            case StyleChoice::kNode:
                d.style = Style::kNode;
                break;
            case StyleChoice::kMix: {
                static constexpr Style kTurns[] = {Style::k4x, Style::k3x, Style::kNode};
                d.style = kTurns[out.size() % 3];
                break;
            }
        }
        out.push_back(std::move(d));
        if (out.size() > kMaxDevices) {
            return Invalid("--devices", "more than 200000 devices");
        }
    }
    if (out.empty()) {
        return Invalid("--devices", "no devices");
    }
    return out;
}

}  // namespace otad::devsim
