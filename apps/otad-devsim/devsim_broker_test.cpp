// The whole simulator against a private Mosquitto broker, with a small stand-in for the OTA
// server written here (a libmosquitto client that pushes on a stale version report, retries on
// a negative progress step and answers pulls) and the in-test HTTP server for the firmware.
// Skipped when the mosquitto executable is not installed.

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "devsim_test_support.hpp"
#include "simulator.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <mosquitto.h>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace otad::devsim {
namespace {

using nlohmann::json;

constexpr const char* kTarget = "2.0.0";

std::string Firmware(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 7 + 3) % 256);
    }
    return s;
}

// Splits "/ota/device/<kind>/<pk>/<dn>" or "/sys/<pk>/<dn>/...".
struct TopicParts {
    std::string kind;
    std::string pk;
    std::string dn;
};

TopicParts Split(const std::string& topic) {
    std::vector<std::string> parts;
    size_t start = 1;
    while (start <= topic.size()) {
        const size_t slash = topic.find('/', start);
        parts.push_back(topic.substr(start, slash - start));
        if (slash == std::string::npos) {
            break;
        }
        start = slash + 1;
    }
    if (parts.size() >= 5 && parts[0] == "ota") {
        return {parts[2], parts[3], parts[4]};
    }
    if (parts.size() >= 3 && parts[0] == "sys") {
        return {parts.back(), parts[1], parts[2]};
    }
    return {};
}

// What the stand-in server does.
struct ServerBehaviour {
    bool push_on_stale_inform = true;
    bool retry_on_failure = true;
    bool answer_pulls = false;
};

class FakeOtaServer {
  public:
    FakeOtaServer(uint16_t broker_port, std::string package_data, ServerBehaviour behaviour)
        : package_data_(std::move(package_data)), behaviour_(behaviour) {
        mosq_ = mosquitto_new(("fake-server-" + std::to_string(::getpid())).c_str(), true, this);
        mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void*, int rc) {
            if (rc == 0) {
                for (const char* t : {"/ota/device/inform/+/+",
                                      "/ota/device/progress/+/+",
                                      "/ota/device/request/+/+",
                                      "/sys/+/+/thing/ota/firmware/get"}) {
                    mosquitto_subscribe(m, nullptr, t, 1);
                }
            }
        });
        mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* obj, int, int, const int*) {
            static_cast<FakeOtaServer*>(obj)->subscribed_ += 1;
        });
        mosquitto_message_callback_set(mosq_,
                                       [](mosquitto*, void* obj, const mosquitto_message* m) {
                                           static_cast<FakeOtaServer*>(obj)->OnMessage(*m);
                                       });
        mosquitto_connect(mosq_, "127.0.0.1", broker_port, 60);
        mosquitto_loop_start(mosq_);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (subscribed_.load() < 4 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ~FakeOtaServer() {
        mosquitto_disconnect(mosq_);
        mosquitto_loop_stop(mosq_, false);
        mosquitto_destroy(mosq_);
    }

    size_t DevicesAt(const std::string& version) const {
        std::lock_guard lock(mu_);
        size_t n = 0;
        for (const auto& [device, v] : versions_) {
            n += v == version ? 1 : 0;
        }
        return n;
    }
    std::set<std::string> Steps(const std::string& device) const {
        std::lock_guard lock(mu_);
        auto it = steps_.find(device);
        return it == steps_.end() ? std::set<std::string>{} : it->second;
    }
    std::set<std::string> VersionsSeen() const {
        std::lock_guard lock(mu_);
        return versions_seen_;
    }
    size_t Gets() const {
        std::lock_guard lock(mu_);
        return gets_;
    }
    bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    }

  private:
    void Publish(const std::string& topic, const std::string& payload) {
        mosquitto_publish(mosq_,
                          nullptr,
                          topic.c_str(),
                          static_cast<int>(payload.size()),
                          payload.data(),
                          1,
                          false);
    }
    std::string Push() const {
        return R"({"code":"1000","message":"success","id":1,"data":)" + package_data_ + "}";
    }
    void PushTo(const TopicParts& p) {
        Publish("/ota/device/upgrade/" + p.pk + "/" + p.dn, Push());
    }

    void OnMessage(const mosquitto_message& m) {
        const std::string topic = m.topic;
        const std::string payload(static_cast<const char*>(m.payload),
                                  static_cast<size_t>(m.payloadlen));
        const TopicParts p = Split(topic);
        const json body = json::parse(payload, nullptr, false);
        if (body.is_discarded() || !body.contains("params")) {
            return;  // e.g. our own legacy replies
        }
        const json& params = body["params"];
        const std::string device = p.pk + "/" + p.dn;
        std::lock_guard lock(mu_);
        if (p.kind == "inform") {
            if (params.contains("module")) {
                return;
            }
            const std::string version = params.value("version", "");
            versions_[device] = version;
            versions_seen_.insert(version);
            if (behaviour_.push_on_stale_inform && version != kTarget) {
                PushTo(p);
            }
        } else if (p.kind == "progress") {
            const std::string step = params.value("step", "");
            steps_[device].insert(step);
            if (behaviour_.retry_on_failure && !step.empty() && step[0] == '-') {
                PushTo(p);
            }
        } else if (p.kind == "get" && behaviour_.answer_pulls) {
            ++gets_;
            const std::string id = body["id"].dump();
            Publish(topic + "_reply",
                    R"({"id":)" + id + R"(,"code":200,"data":)" + package_data_ + "}");
        } else if (p.kind == "request" && behaviour_.answer_pulls) {
            ++gets_;
            Publish(topic, Push());
        }
    }

    const std::string package_data_;
    const ServerBehaviour behaviour_;
    mosquitto* mosq_ = nullptr;
    std::atomic<int> subscribed_{0};
    mutable std::mutex mu_;
    std::map<std::string, std::string> versions_;         // guarded by mu_
    std::map<std::string, std::set<std::string>> steps_;  // guarded by mu_
    std::set<std::string> versions_seen_;                 // guarded by mu_
    size_t gets_ = 0;                                     // guarded by mu_
};

class BrokerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const std::optional<std::string> binary = testing::FindMosquitto();
        if (!binary) {
            GTEST_SKIP() << "mosquitto is not installed";
        }
        log::SetLevel(log::Level::kWarn);
        mosquitto_lib_init();
        broker_ = std::make_unique<testing::MosquittoProcess>(*binary);
        ASSERT_TRUE(broker_->Ready());
        http_ = std::make_unique<testing::TestHttpServer>(
            std::map<std::string, std::string>{{"/fw/9/fw.bin", firmware_},
                                               {"/fw/9/res.pak", resource_}},
            testing::TestHttpServer::Faults{});
    }

    std::vector<DeviceSpec> Devices(size_t n, StyleChoice style) const {
        std::string csv;
        // A product key unique to the run keeps broker sessions of earlier runs apart.
        const std::string pk = "pk" + crypto::RandomLowerAlnum(8);
        for (size_t i = 0; i < n; ++i) {
            csv += pk + ",dev" + std::to_string(i) + ",secret" + std::to_string(i) + "\n";
        }
        Config c;
        c.style = style;
        return ParseDevices(csv, c).value();
    }

    Config BaseConfig() const {
        Config c;
        c.broker_port = broker_->port();
        c.fetch.default_port = http_->port();
        c.fetch.timeout_ms = 5000;
        c.reconnect_ms = 200;
        c.stats_interval_s = 60;
        return c;
    }

    std::string SingleFile() const {
        const std::string md5 =
            crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kMd5, firmware_));
        return R"({"size":)" + std::to_string(firmware_.size()) + R"(,"version":")" + kTarget +
               R"(","url":"http://127.0.0.1/fw/9/fw.bin?e=1&s=2","md5":")" + md5 + R"(","sign":")" +
               md5 + R"(","signMethod":"Md5"})";
    }

    std::string MultiFile() const {
        auto sha = [](const std::string& s) {
            return crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kSha256, s));
        };
        return std::string(R"({"version":")") + kTarget + R"(","signMethod":"SHA256","files":[)" +
               R"({"fileName":"fw.bin","fileSize":)" + std::to_string(firmware_.size()) +
               R"(,"fileUrl":"http://127.0.0.1/fw/9/fw.bin","fileSign":")" + sha(firmware_) +
               R"("},{"fileName":"res.pak","fileSize":)" + std::to_string(resource_.size()) +
               R"(,"fileUrl":"http://127.0.0.1/fw/9/res.pak","fileSign":")" + sha(resource_) +
               R"("}]})";
    }

    // Runs the simulator on its own thread until `done` holds or `limit` passes.
    Summary RunUntil(Config config,
                     std::vector<DeviceSpec> devices,
                     const std::function<bool()>& done,
                     std::chrono::seconds limit) {
        Simulator sim(std::move(config), std::move(devices));
        Summary summary;
        std::thread runner([&] { summary = sim.Run(); });
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        sim.RequestStop();
        runner.join();
        return summary;
    }

    const std::string firmware_ = Firmware(48 * 1024 + 17);
    const std::string resource_ = Firmware(5000);
    std::unique_ptr<testing::MosquittoProcess> broker_;
    std::unique_ptr<testing::TestHttpServer> http_;
};

TEST_F(BrokerTest, IotKit3xDevicesUpdateAndTheRunEndsAtTheTargetVersion) {
    FakeOtaServer server(broker_->port(), SingleFile(), ServerBehaviour{});
    Config c = BaseConfig();
    c.until_version = kTarget;
    c.max_seconds = 30;
    Simulator sim(c, Devices(10, StyleChoice::k3x));
    const Summary s = sim.Run();
    EXPECT_EQ(s.result, "done");
    EXPECT_EQ(s.exit_code, 0);
    EXPECT_EQ(s.succeeded, 10u);
    EXPECT_EQ(s.downloads, 10u);
    EXPECT_EQ(s.download_bytes, 10 * firmware_.size());
    EXPECT_EQ(s.at_target, 10u);
    EXPECT_TRUE(
        server.WaitFor([&] { return server.DevicesAt(kTarget) == 10; }, std::chrono::seconds(5)));
    const json summary = json::parse(s.ToJson());
    EXPECT_EQ(summary["succeeded"], 10);
    EXPECT_EQ(summary["devices"], 10);
}

TEST_F(BrokerTest, MixedStylesWithFailuresOfflineDevicesAndRetries) {
    FakeOtaServer server(broker_->port(), SingleFile(), ServerBehaviour{});
    Config c = BaseConfig();
    c.style = StyleChoice::kMix;
    c.subscribe_all = true;  // a plain broker has no auto-subscription for 4.x devices
    c.fetch.split_ranges = true;
    c.faults.fail = 0.5;
    c.faults.offline = 0.3;
    c.offline_ms = 300;
    c.seed = 7;
    constexpr size_t kDevices = 12;
    const Summary s = RunUntil(
        c,
        Devices(kDevices, StyleChoice::kMix),
        [&] { return server.DevicesAt(kTarget) == kDevices; },
        std::chrono::seconds(30));
    EXPECT_EQ(server.DevicesAt(kTarget), kDevices);
    EXPECT_EQ(s.succeeded, kDevices);
    EXPECT_GT(s.failed, 0u);
    EXPECT_GT(s.offline_injected, 0u);
    EXPECT_GE(s.reconnects, s.offline_injected);
    EXPECT_EQ(s.result, "interrupted");
    // Each device drawn for failure fails its first update once; the retry then succeeds.
    EXPECT_EQ(s.failed, [&] {
        size_t n = 0;
        for (size_t i = 0; i < kDevices; ++i) {
            n += DrawFaults(7, i, c.faults).fail ? 1 : 0;
        }
        return n;
    }());
}

TEST_F(BrokerTest, TimeoutDevicesReportZeroAndStaySilent) {
    ServerBehaviour b;
    b.retry_on_failure = false;
    FakeOtaServer server(broker_->port(), SingleFile(), b);
    Config c = BaseConfig();
    c.faults.timeout = 1.0;
    c.duration_s = 2;
    const std::vector<DeviceSpec> devices = Devices(4, StyleChoice::k3x);
    const std::string first =
        devices[0].identity.product_key + "/" + devices[0].identity.device_name;
    Simulator sim(c, devices);
    const Summary s = sim.Run();
    EXPECT_EQ(s.result, "duration");
    EXPECT_EQ(s.timeouts_injected, 4u);
    EXPECT_EQ(s.succeeded, 0u);
    EXPECT_EQ(s.downloads, 0u);
    EXPECT_EQ(server.Steps(first), std::set<std::string>{"0"});
}

TEST_F(BrokerTest, WrongVersionOnceThenTheRetrySucceeds) {
    FakeOtaServer server(broker_->port(), MultiFile(), ServerBehaviour{});
    Config c = BaseConfig();
    c.style = StyleChoice::k4x;
    c.subscribe_all = true;
    c.faults.wrong_version = 1.0;
    constexpr size_t kDevices = 3;
    const Summary s = RunUntil(
        c,
        Devices(kDevices, StyleChoice::k4x),
        [&] { return server.DevicesAt(kTarget) == kDevices; },
        std::chrono::seconds(20));
    EXPECT_EQ(s.wrong_versions_injected, kDevices);
    EXPECT_EQ(s.succeeded, kDevices);
    // Two files per update, two updates per device.
    EXPECT_EQ(s.downloads, 4 * kDevices);
    EXPECT_EQ(server.VersionsSeen().count(std::string(kTarget) + "-unexpected"), 1u);
}

TEST_F(BrokerTest, PullsAreAnsweredAndABusyDeviceIgnoresTheSecondPackage) {
    ServerBehaviour b;
    b.push_on_stale_inform = false;
    b.answer_pulls = true;
    FakeOtaServer server(broker_->port(), SingleFile(), b);
    Config c = BaseConfig();
    c.style = StyleChoice::k3x;
    c.pull = true;
    c.legacy_pull = true;
    // Long enough for both answers to every device to be handled.
    c.duration_s = 3;
    const Summary s = [&] {
        Simulator sim(c, Devices(5, StyleChoice::k3x));
        return sim.Run();
    }();
    EXPECT_EQ(server.DevicesAt(kTarget), 5u);
    // Both pulls are answered. The second package arrives while the first is in progress or
    // after it: it is either ignored as busy or applied again.
    EXPECT_EQ(server.Gets(), 10u);
    EXPECT_EQ(s.pushes, 10u);
    EXPECT_EQ(s.succeeded + s.pushes_ignored, 10u);
    EXPECT_GE(s.succeeded, 5u);
}

}  // namespace
}  // namespace otad::devsim
