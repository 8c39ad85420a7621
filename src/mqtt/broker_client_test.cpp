#include "mqtt/broker_client.hpp"

#include "common/testing/loopback.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mosquitto.h>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

// BrokerClient against a real Mosquitto broker started for the test on a free loopback port.
// Skipped when the broker is not installed.

namespace otad::mqtt {
namespace {

constexpr auto kWait = std::chrono::seconds(10);

std::string FindMosquitto() {
    for (const char* path : {"/usr/sbin/mosquitto", "/usr/bin/mosquitto"}) {
        if (::access(path, X_OK) == 0) {
            return path;
        }
    }
    return {};
}

// Publishes one retained QoS 1 message with a short-lived plain client.
bool PublishRetained(uint16_t port, const std::string& topic, const std::string& payload) {
    static const int init = mosquitto_lib_init();
    (void)init;
    mosquitto* m = mosquitto_new("otad-test-retainer", true, nullptr);
    if (m == nullptr) {
        return false;
    }
    bool ok = mosquitto_connect(m, "127.0.0.1", port, 10) == MOSQ_ERR_SUCCESS;
    int mid = 0;
    ok = ok &&
         mosquitto_publish(
             m, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, true) ==
             MOSQ_ERR_SUCCESS;
    // Run the network loop until the PUBACK has arrived, i.e. the broker holds the message.
    bool acked = false;
    mosquitto_user_data_set(m, &acked);
    mosquitto_publish_callback_set(
        m, [](mosquitto*, void* flag, int) { *static_cast<bool*>(flag) = true; });
    for (int i = 0; ok && !acked && i < 100; ++i) {
        ok = mosquitto_loop(m, 50, 1) == MOSQ_ERR_SUCCESS;
    }
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    return ok && acked;
}

// A Mosquitto process with anonymous access on 127.0.0.1:port, without persistence.
class TestBroker {
  public:
    TestBroker(std::string binary, std::filesystem::path dir, uint16_t port)
        : binary_(std::move(binary)), dir_(std::move(dir)), port_(port) {
        std::ofstream conf(dir_ / "mosquitto.conf");
        conf << "listener " << port_ << " 127.0.0.1\n"
             << "allow_anonymous true\n"
             << "persistence false\n";
    }
    ~TestBroker() { Kill(); }

    bool Start() {
        const std::string conf = (dir_ / "mosquitto.conf").string();
        const std::string log = (dir_ / "mosquitto.log").string();
        pid_ = ::fork();
        if (pid_ == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            ::execl(binary_.c_str(), binary_.c_str(), "-c", conf.c_str(), nullptr);
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        while (std::chrono::steady_clock::now() < deadline) {
            if (loopback::PortAccepts(port_)) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    void Kill() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

  private:
    std::string binary_;
    std::filesystem::path dir_;
    uint16_t port_;
    pid_t pid_ = -1;
};

// Records what the client reports, in order.
class RecordingListener final : public BrokerListener {
  public:
    void OnConnected() override { Add("connected"); }
    void OnDisconnected() override { Add("disconnected"); }
    void OnMessage(std::string_view topic, std::string_view payload) override {
        Add(std::string(topic) + " " + std::string(payload));
    }

    bool WaitFor(const std::function<bool(const std::vector<std::string>&)>& done) {
        std::unique_lock<std::mutex> lock(mu_);
        return cv_.wait_for(lock, kWait, [&] { return done(events_); });
    }
    bool WaitForCount(const std::string& event, size_t n) {
        return WaitFor([&](const std::vector<std::string>& events) {
            return static_cast<size_t>(std::count(events.begin(), events.end(), event)) >= n;
        });
    }
    std::vector<std::string> Events() {
        std::lock_guard<std::mutex> lock(mu_);
        return events_;
    }

  private:
    void Add(std::string event) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(std::move(event));
        cv_.notify_all();
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> events_;
};

class BrokerClientTest : public ::testing::Test {
  protected:
    void SetUp() override {
        binary_ = FindMosquitto();
        if (binary_.empty()) {
            GTEST_SKIP() << "mosquitto is not installed";
        }
        dir_ = std::filesystem::temp_directory_path() /
               ("otad-mqtt-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        std::filesystem::permissions(dir_, std::filesystem::perms::all);
        port_ = loopback::FreePort();
        ASSERT_NE(port_, 0);
        broker_ = std::make_unique<TestBroker>(binary_, dir_, port_);
        ASSERT_TRUE(broker_->Start()) << "mosquitto did not start";
    }
    void TearDown() override {
        broker_.reset();
        if (!dir_.empty()) {
            std::filesystem::remove_all(dir_);
        }
    }

    BrokerOptions Options(const std::string& client_id) {
        BrokerOptions o;
        o.host = "127.0.0.1";
        o.port = port_;
        o.client_id = client_id;
        o.reconnect_min = std::chrono::milliseconds(50);
        o.reconnect_max = std::chrono::milliseconds(200);
        o.poll_interval = std::chrono::milliseconds(50);
        return o;
    }

    std::string binary_;
    std::filesystem::path dir_;
    uint16_t port_ = 0;
    std::unique_ptr<TestBroker> broker_;
};

TEST_F(BrokerClientTest, SubscribesToTheUplinksAndPublishes) {
    RecordingListener listener;
    BrokerClient client(Options("otad-test-a"));
    ASSERT_TRUE(client.Start(listener).ok());
    ASSERT_TRUE(listener.WaitForCount("connected", 1));
    EXPECT_TRUE(client.connected());
    // The subscription request is in flight; publish until its first message comes back.
    const std::string topic = "/ota/device/inform/pk1/dev1";
    const std::string payload = R"({"id":1,"params":{"version":"1.0.0"}})";
    bool received = false;
    for (int i = 0; i < 100 && !received; ++i) {
        ASSERT_TRUE(client.Publish(topic, payload, 1).ok());
        received = listener.WaitFor([&](const std::vector<std::string>& events) {
            return std::find(events.begin(), events.end(), topic + " " + payload) != events.end();
        });
    }
    EXPECT_TRUE(received);
    // Topics outside the OTA uplinks are not delivered.
    ASSERT_TRUE(client.Publish("/ota/device/upgrade/pk1/dev1", "{}", 1).ok());
    ASSERT_TRUE(client.Publish(topic, "last", 1).ok());
    ASSERT_TRUE(listener.WaitFor(
        [&](const std::vector<std::string>& events) { return events.back() == topic + " last"; }));
    for (const std::string& e : listener.Events()) {
        EXPECT_EQ(e.find("/ota/device/upgrade/"), std::string::npos) << e;
    }
    client.Stop();
    EXPECT_FALSE(client.connected());
    EXPECT_FALSE(client.Publish(topic, payload, 1).ok());
}

// Two nodes of one shared group: each device report reaches exactly one of them, presence
// reaches both, and once one node is gone the other gets every report.
TEST_F(BrokerClientTest, SharedGroupHandsEachReportToOneNode) {
    RecordingListener a_events;
    RecordingListener b_events;
    BrokerOptions a_options = Options("otad-node-a");
    BrokerOptions b_options = Options("otad-node-b");
    for (BrokerOptions* o : {&a_options, &b_options}) {
        o->shared_group = "otad";
        o->persistent_session = false;
    }
    BrokerClient a(a_options);
    BrokerClient b(b_options);
    ASSERT_TRUE(a.Start(a_events).ok());
    ASSERT_TRUE(b.Start(b_events).ok());
    ASSERT_TRUE(a_events.WaitForCount("connected", 1));
    ASSERT_TRUE(b_events.WaitForCount("connected", 1));
    const std::string topic = "/ota/device/progress/pk1/dev1";
    auto count = [&](RecordingListener& l, const std::string& prefix) {
        size_t n = 0;
        for (const std::string& e : l.Events()) {
            n += e.starts_with(prefix) ? 1 : 0;
        }
        return n;
    };
    // Polls, since the reports arrive on two listeners.
    auto eventually = [](const std::function<bool()>& done,
                         std::chrono::milliseconds wait = kWait) {
        const auto deadline = std::chrono::steady_clock::now() + wait;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return true;
    };
    // Wait until both subscriptions are in place: a marker reaches each node at least once.
    bool both = false;
    for (int i = 0; i < 200 && !both; ++i) {
        ASSERT_TRUE(a.Publish(topic, "warmup", 1).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        both = count(a_events, topic + " warmup") > 0 && count(b_events, topic + " warmup") > 0;
    }
    ASSERT_TRUE(both);
    constexpr int kReports = 40;
    for (int i = 0; i < kReports; ++i) {
        ASSERT_TRUE(a.Publish(topic, "r" + std::to_string(i), 1).ok());
    }
    ASSERT_TRUE(eventually(
        [&] { return count(a_events, topic + " r") + count(b_events, topic + " r") >= kReports; }));
    for (int i = 0; i < kReports; ++i) {
        const std::string report = topic + " r" + std::to_string(i);
        auto exactly = [&](RecordingListener& l) {
            const auto events = l.Events();
            return std::count(events.begin(), events.end(), report);
        };
        EXPECT_EQ(exactly(a_events) + exactly(b_events), 1) << "report " << i;
    }
    EXPECT_GT(count(a_events, topic + " r"), 0U);
    EXPECT_GT(count(b_events, topic + " r"), 0U);
    // Presence is subscribed only on request, by the node that follows it, and not shared.
    const std::string presence = "/as/mqtt/status/pk1/dev1";
    ASSERT_TRUE(PublishRetained(port_, presence, "before"));
    ASSERT_TRUE(a.SubscribePresence(true).ok());
    ASSERT_TRUE(a_events.WaitForCount(presence + " before", 1));  // retained, replayed
    ASSERT_TRUE(b.Publish(presence, "online", 1).ok());
    ASSERT_TRUE(a_events.WaitForCount(presence + " online", 1));
    EXPECT_EQ(count(b_events, presence), 0U);
    ASSERT_TRUE(a.SubscribePresence(false).ok());
    // Node b leaves: everything goes to a, once the broker has seen b go (until then a report
    // may still be handed to b's closing connection). Probes tell when: two in a row reach a.
    b.Stop();
    int in_a_row = 0;
    for (int i = 0; i < 200 && in_a_row < 2; ++i) {
        const std::string probe = "probe" + std::to_string(i);
        ASSERT_TRUE(a.Publish(topic, probe, 1).ok());
        const bool reached = eventually([&] { return count(a_events, topic + " " + probe) > 0; },
                                        std::chrono::milliseconds(500));
        in_a_row = reached ? in_a_row + 1 : 0;
    }
    ASSERT_EQ(in_a_row, 2);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(a.Publish(topic, "after" + std::to_string(i), 1).ok());
    }
    EXPECT_TRUE(eventually([&] { return count(a_events, topic + " after") >= 10; }));
    a.Stop();
}

TEST_F(BrokerClientTest, RetainedStatusesArriveAfterTheConnectionIsReported) {
    // The broker plugin retains each device's status; stand in for it with a plain client.
    const std::string online = R"({"status":"online","productKey":"pk1","deviceName":"dev1"})";
    ASSERT_TRUE(PublishRetained(port_, "/as/mqtt/status/pk1/dev1", online));
    ASSERT_TRUE(PublishRetained(port_, "/as/mqtt/status/pk1/dev2", online));
    RecordingListener listener;
    BrokerClient client(Options("otad-test-b"));
    // One node: presence is part of every connection's subscriptions, not on request.
    EXPECT_EQ(client.SubscribePresence(true).error().code, ErrorCode::kInvalidParameter);
    ASSERT_TRUE(client.Start(listener).ok());
    ASSERT_TRUE(listener.WaitFor(
        [](const std::vector<std::string>& events) { return events.size() >= 3; }));
    client.Stop();
    const std::vector<std::string> events = listener.Events();
    EXPECT_EQ(events.front(), "connected");
    EXPECT_NE(std::find(events.begin(), events.end(), "/as/mqtt/status/pk1/dev1 " + online),
              events.end());
    EXPECT_NE(std::find(events.begin(), events.end(), "/as/mqtt/status/pk1/dev2 " + online),
              events.end());
}

TEST_F(BrokerClientTest, ReconnectsWhenTheBrokerComesBack) {
    RecordingListener listener;
    BrokerClient client(Options("otad-test-c"));
    ASSERT_TRUE(client.Start(listener).ok());
    ASSERT_TRUE(listener.WaitForCount("connected", 1));
    broker_->Kill();
    ASSERT_TRUE(listener.WaitForCount("disconnected", 1));
    EXPECT_FALSE(client.connected());
    EXPECT_EQ(client.Publish("/ota/device/inform/pk1/dev1", "{}", 1).error().code,
              ErrorCode::kUnavailable);
    ASSERT_TRUE(broker_->Start());
    ASSERT_TRUE(listener.WaitForCount("connected", 2));
    // Subscriptions are made again on the new connection.
    const std::string topic = "/ota/device/progress/pk1/dev1";
    bool received = false;
    for (int i = 0; i < 100 && !received; ++i) {
        ASSERT_TRUE(client.Publish(topic, "again", 1).ok());
        received = listener.WaitFor([&](const std::vector<std::string>& events) {
            return !events.empty() && events.back() == topic + " again";
        });
    }
    EXPECT_TRUE(received);
    client.Stop();
}

TEST_F(BrokerClientTest, KeepsTryingWhileTheBrokerIsDownAndStopsPromptly) {
    broker_->Kill();
    RecordingListener listener;
    BrokerClient client(Options("otad-test-d"));
    ASSERT_TRUE(client.Start(listener).ok());
    ASSERT_TRUE(broker_->Start());
    ASSERT_TRUE(listener.WaitForCount("connected", 1));
    broker_->Kill();
    ASSERT_TRUE(listener.WaitForCount("disconnected", 1));
    const auto before = std::chrono::steady_clock::now();
    client.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
}

TEST(BrokerClientOptions, RefusesIncompleteOptions) {
    RecordingListener listener;
    BrokerOptions o;
    o.client_id = "";
    BrokerClient client(o);
    EXPECT_EQ(client.Start(listener).error().code, ErrorCode::kInvalidParameter);
    BrokerOptions k;
    k.client_id = "x";
    k.keepalive_s = 1;
    BrokerClient short_keepalive(k);
    EXPECT_EQ(short_keepalive.Start(listener).error().code, ErrorCode::kInvalidParameter);
}

}  // namespace
}  // namespace otad::mqtt
