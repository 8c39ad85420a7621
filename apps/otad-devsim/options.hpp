#pragma once

// Command line, device list and per-device fault draws of otad-devsim. Pure functions.

#include "common/result.hpp"
#include "http_fetch.hpp"
#include "protocol.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otad::devsim {

/// Explicit limits of the simulator's inputs.
inline constexpr size_t kMaxDevices = 200000;
inline constexpr size_t kMaxModules = 16;
inline constexpr size_t kMaxCsvLineBytes = 1024;
inline constexpr size_t kMaxFieldBytes = 128;

enum class StyleChoice { k4x, k3x, kNode, kMix };

/// Probabilities in [0, 1], each drawn once per device.
struct FaultRates {
    double fail = 0;
    double timeout = 0;
    double offline = 0;
    double wrong_version = 0;
};

/// The faults one device will inject. A device can draw several; the simulator applies
/// offline first (once), then timeout, then fail (once), then wrong version (once).
struct FaultPlan {
    bool fail = false;
    /// -1, -2 or -4 when `fail`.
    int fail_step = -1;
    bool timeout = false;
    bool offline = false;
    bool wrong_version = false;

    /// Devices that are meant not to reach the target version on the first push, and so are
    /// not waited for by --until-version.
    bool Designated() const { return fail || timeout || wrong_version; }
};

/// Deterministic in (seed, index) and independent of the order in which devices are drawn.
FaultPlan DrawFaults(uint64_t seed, uint64_t index, const FaultRates& rates);

struct ModuleVersion {
    std::string module;
    std::string version;
};

struct DeviceSpec {
    DeviceIdentity identity;
    /// Initial version of the default module.
    std::string version;
    Style style = Style::k4x;
};

struct Config {
    std::string devices_file;
    std::string broker_host = "127.0.0.1";
    uint16_t broker_port = 1883;
    StyleChoice style = StyleChoice::k4x;
    std::string default_version = "1.0.0";
    /// Extra modules every device reports at connect.
    std::vector<ModuleVersion> modules;

    bool pull = false;
    bool legacy_pull = false;
    /// Seconds between repeated pulls of an idle device; 0 pulls only after connecting.
    int pull_every_s = 0;
    /// SUBSCRIBE to every downlink even in the 4.x style (for plain brokers).
    bool subscribe_all = false;

    FetchOptions fetch;

    FaultRates faults;
    uint64_t seed = 1;
    int offline_ms = 5000;

    /// Exit once every device not designated for a fault reports this version; empty: off.
    std::string until_version;
    /// Module the --until-version applies to; empty: default module.
    std::string until_module;
    /// Deadline for --until-version in seconds; 0: none.
    int max_seconds = 0;
    /// Run time in seconds; 0: until the version target or a signal.
    int duration_s = 0;

    /// New MQTT connections per second over all loops; 0: unlimited.
    double connect_rate = 0;
    /// MQTT keepalive in seconds; 0: the imitated SDK's default.
    int keepalive_s = 0;
    int reconnect_ms = 2000;
    int loop_threads = 1;
    int download_threads = 8;
    /// Progress is reported each time the download crosses a multiple of this percentage.
    int progress_every = 50;
    int stats_interval_s = 5;
    std::string log_level = "info";

    bool help = false;
};

/// The usage text printed by --help.
std::string_view UsageText();

/// Parses the arguments after the program name. Errors name the offending flag.
Result<Config> ParseArgs(const std::vector<std::string>& args);

/// "MCU=1.0.0,WIFI=2.1" into module versions.
Result<std::vector<ModuleVersion>> ParseModules(std::string_view text);

/// Lines "productKey,deviceName,deviceSecret[,version]"; blank lines and lines starting with
/// '#' are skipped. Styles are assigned from `config.style` (mix: 4x, 3x, node in turn).
Result<std::vector<DeviceSpec>> ParseDevices(std::string_view csv, const Config& config);

}  // namespace otad::devsim
