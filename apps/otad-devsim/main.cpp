// otad-devsim: simulated Alink OTA devices for tests and benchmarks. See UsageText() in
// options.cpp for the command line; the one-line JSON summary goes to stdout, everything else
// to stderr.

#include "common/log.hpp"
#include "options.hpp"
#include "simulator.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Largest device list read, in bytes.
constexpr std::streamsize kMaxDevicesFileBytes = 64 * 1024 * 1024;

std::atomic<otad::devsim::Simulator*> g_simulator{nullptr};

void OnSignal(int) {
    if (otad::devsim::Simulator* sim = g_simulator.load()) {
        sim->RequestStop();
    }
}

int Fail(const std::string& message) {
    std::cerr << "otad-devsim: " << message << "\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace otad::devsim;
    std::vector<std::string> args(argv + 1, argv + argc);
    otad::Result<Config> config = ParseArgs(args);
    if (!config) {
        return Fail(config.error().message + "\n\n" + std::string(UsageText()));
    }
    if (config->help) {
        std::cout << UsageText();
        return 0;
    }
    otad::log::Level level = otad::log::Level::kInfo;
    if (!otad::log::ParseLevel(config->log_level, level)) {
        return Fail("--log-level: expected debug, info, warn, error or off");
    }
    otad::log::SetLevel(level);

    std::ifstream in(config->devices_file, std::ios::binary);
    if (!in) {
        return Fail("cannot open " + config->devices_file);
    }
    std::string text(static_cast<size_t>(kMaxDevicesFileBytes) + 1, '\0');
    in.read(text.data(), kMaxDevicesFileBytes + 1);
    if (in.gcount() > kMaxDevicesFileBytes) {
        return Fail(config->devices_file + " is larger than 64 MiB");
    }
    text.resize(static_cast<size_t>(in.gcount()));
    otad::Result<std::vector<DeviceSpec>> devices = ParseDevices(text, *config);
    if (!devices) {
        return Fail(devices.error().message);
    }

    const uint64_t needed = FileDescriptorsNeeded(*config, devices->size());
    const uint64_t limit = RaiseFileLimit(needed);
    if (limit < needed) {
        return Fail("needs " + std::to_string(needed) + " file descriptors but RLIMIT_NOFILE is " +
                    std::to_string(limit) + "; use fewer devices or raise the hard limit");
    }

    otad::log::Info("devsim: " + std::to_string(devices->size()) + " devices, broker " +
                    config->broker_host + ":" + std::to_string(config->broker_port) +
                    ", file limit " + std::to_string(limit));
    std::signal(SIGPIPE, SIG_IGN);
    Simulator simulator(*config, std::move(*devices));
    g_simulator.store(&simulator);
    std::signal(SIGINT, &OnSignal);
    std::signal(SIGTERM, &OnSignal);
    const Summary summary = simulator.Run();
    g_simulator.store(nullptr);
    std::cout << summary.ToJson() << std::endl;
    return summary.exit_code;
}
