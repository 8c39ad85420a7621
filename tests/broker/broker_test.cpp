// Mosquitto with otad's plugin, end to end: a real broker process on a free loopback port,
// otad's database written through the storage layer, and libmosquitto clients standing for
// devices and for otad's server connection.
//
// Skipped when the mosquitto executable or the plugin is missing (OTAD_MOSQUITTO and
// OTAD_PLUGIN override the paths found at build time). Nothing waits blindly: every
// wait polls a condition until a deadline, and the absence of a message is shown by a later
// marker message that travels the same path.

#include "common/clock.hpp"
#include "common/testing/loopback.hpp"
#include "mqtt/auth/alink_auth.hpp"
#include "test_database.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mosquitto.h>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace otad::broker_test {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Longest wait for anything the broker should do promptly.
constexpr auto kDeadline = 10s;
// Interval between two looks at a condition that has no notification (the port, the process).
constexpr auto kPollInterval = 20ms;
constexpr int kKeepaliveS = 60;
constexpr int kStartAttempts = 3;

constexpr std::string_view kServerUsername = "otad";
constexpr std::string_view kServerPassword = "server-password-for-tests";

// Worked example (a) of the device protocol notes: Link SDK 4.x, fixed timestamp, upper case.
constexpr std::string_view kSdkProductKey = "a1TestPK01";
constexpr std::string_view kSdkSecret = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t12";
constexpr std::string_view kSdkClientId =
    "a1TestPK01.dev001|timestamp=2524608000000,_ss=1,_v=sdk-c-4.0.0,securemode=3,"
    "signmethod=hmacsha256,ext=3,|";
constexpr std::string_view kSdkPassword =
    "5454B52C880C00A1061C7F6B5A9E232378A839EA5C31F7D72551890DDA2D1DC9";
// Worked example (b): a doc-style client signing with hmacmd5.
constexpr std::string_view kDocClientId =
    "device1-mac001|securemode=3,signmethod=hmacmd5,timestamp=1700000000000|";
constexpr std::string_view kDocPassword = "6f700b5f3e6365e35d2f616bb52ac371";

// The devices other tests use all live in kSdkProductKey with this secret.
constexpr std::string_view kOtherSecret = "other-device-secret-0123456789ab";

std::string EnvOr(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
}

std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Waits for `condition` under `mu`, signalled through `cv`, until kDeadline.
template <typename Predicate>
bool WaitFor(std::mutex& mu, std::condition_variable& cv, Predicate condition) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, kDeadline, condition);
}

// Polls a condition that nothing signals.
bool PollFor(const std::function<bool()>& condition) {
    auto deadline = SteadyClock::now() + kDeadline;
    while (SteadyClock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    return condition();
}

struct Message {
    std::string topic;
    std::string payload;
    bool retain = false;
};

// One MQTT 3.1.1 client with its network thread. Every operation waits for the broker's answer.
class Client {
  public:
    explicit Client(const std::string& client_id) {
        mosq_ = mosquitto_new(client_id.c_str(), true, this);
        mosquitto_connect_callback_set(mosq_, &Client::OnConnect);
        mosquitto_disconnect_callback_set(mosq_, &Client::OnDisconnect);
        mosquitto_subscribe_callback_set(mosq_, &Client::OnSubscribe);
        mosquitto_publish_callback_set(mosq_, &Client::OnPublish);
        mosquitto_message_callback_set(mosq_, &Client::OnMessage);
    }
    ~Client() {
        mosquitto_disconnect(mosq_);
        mosquitto_loop_stop(mosq_, true);
        mosquitto_destroy(mosq_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// The CONNACK return code (0 accepted, 5 not authorised), or -1 when none came.
    int Connect(int port,
                std::string_view username,
                std::string_view password,
                int keepalive_s = kKeepaliveS) {
        std::string user(username);
        std::string pass(password);
        mosquitto_username_pw_set(mosq_, user.c_str(), pass.c_str());
        if (mosquitto_connect(mosq_, "127.0.0.1", port, keepalive_s) != MOSQ_ERR_SUCCESS) {
            return -1;
        }
        mosquitto_loop_start(mosq_);
        if (!WaitFor(mu_, cv_, [&] { return connack_.has_value() || closed_; })) {
            return -1;
        }
        std::lock_guard lock(mu_);
        return connack_.value_or(-1);
    }

    /// The granted QoS from the SUBACK (0x80 = refused), or -1 when none came.
    int Subscribe(const std::string& filter, int qos = 1) {
        int mid = 0;
        if (mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos) != MOSQ_ERR_SUCCESS) {
            return -1;
        }
        if (!WaitFor(mu_, cv_, [&] { return granted_.count(mid) > 0; })) {
            return -1;
        }
        std::lock_guard lock(mu_);
        return granted_[mid];
    }

    /// Publishes with QoS 1 and waits for the PUBACK.
    bool Publish(const std::string& topic, const std::string& payload) {
        int mid = 0;
        if (mosquitto_publish(mosq_,
                              &mid,
                              topic.c_str(),
                              static_cast<int>(payload.size()),
                              payload.data(),
                              1,
                              false) != MOSQ_ERR_SUCCESS) {
            return false;
        }
        return WaitFor(mu_, cv_, [&] { return acked_.count(mid) > 0; });
    }

    /// Waits until a message on `topic` whose payload is `payload` has arrived.
    bool WaitForMessage(const std::string& topic, const std::string& payload) {
        return WaitFor(mu_, cv_, [&] { return Count(topic, payload) > 0; });
    }
    /// Waits until `n` messages on `topic` have arrived.
    bool WaitForCount(const std::string& topic, size_t n) {
        return WaitFor(mu_, cv_, [&] { return MessagesOnLocked(topic).size() >= n; });
    }
    bool WaitClosed() {
        return WaitFor(mu_, cv_, [&] { return closed_; });
    }

    size_t CountOf(const std::string& topic, const std::string& payload) {
        std::lock_guard lock(mu_);
        return Count(topic, payload);
    }
    std::vector<Message> MessagesOn(const std::string& topic) {
        std::lock_guard lock(mu_);
        return MessagesOnLocked(topic);
    }
    bool connected() {
        std::lock_guard lock(mu_);
        return connack_ == 0 && !closed_;
    }

  private:
    size_t Count(const std::string& topic, const std::string& payload) const {
        size_t n = 0;
        for (const Message& m : messages_) {
            n += (m.topic == topic && m.payload == payload) ? 1 : 0;
        }
        return n;
    }
    std::vector<Message> MessagesOnLocked(const std::string& topic) const {
        std::vector<Message> out;
        for (const Message& m : messages_) {
            if (m.topic == topic) {
                out.push_back(m);
            }
        }
        return out;
    }

    static Client& Self(void* obj) { return *static_cast<Client*>(obj); }

    static void OnConnect(mosquitto* mosq, void* obj, int rc) {
        Client& self = Self(obj);
        {
            std::lock_guard lock(self.mu_);
            self.connack_ = rc;
        }
        if (rc != 0) {
            // Stops the network thread from reconnecting after a refusal.
            mosquitto_disconnect(mosq);
        }
        self.cv_.notify_all();
    }
    static void OnDisconnect(mosquitto* mosq, void* obj, int) {
        // A closed connection stays closed: the network thread would otherwise reconnect and
        // take the device's session back from the connection that replaced it.
        mosquitto_disconnect(mosq);
        Client& self = Self(obj);
        {
            std::lock_guard lock(self.mu_);
            self.closed_ = true;
        }
        self.cv_.notify_all();
    }
    static void OnSubscribe(mosquitto*, void* obj, int mid, int count, const int* granted) {
        Client& self = Self(obj);
        {
            std::lock_guard lock(self.mu_);
            self.granted_[mid] = count > 0 ? granted[0] : -1;
        }
        self.cv_.notify_all();
    }
    static void OnPublish(mosquitto*, void* obj, int mid) {
        Client& self = Self(obj);
        {
            std::lock_guard lock(self.mu_);
            self.acked_[mid] = true;
        }
        self.cv_.notify_all();
    }
    static void OnMessage(mosquitto*, void* obj, const mosquitto_message* message) {
        Client& self = Self(obj);
        {
            std::lock_guard lock(self.mu_);
            self.messages_.push_back(Message{
                message->topic,
                std::string(static_cast<const char*>(message->payload),
                            static_cast<size_t>(message->payloadlen)),
                message->retain,
            });
        }
        self.cv_.notify_all();
    }

    mosquitto* mosq_ = nullptr;
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<int> connack_;     // guarded by mu_
    bool closed_ = false;            // guarded by mu_
    std::map<int, int> granted_;     // guarded by mu_
    std::map<int, bool> acked_;      // guarded by mu_
    std::vector<Message> messages_;  // guarded by mu_
};

std::string DeviceClientId(std::string_view device_name, std::string_view extra = "") {
    return std::string(kSdkProductKey) + "." + std::string(device_name) +
           "|timestamp=2524608000000,_ss=1,securemode=3,signmethod=hmacsha256" +
           std::string(extra) + "|";
}

std::string Username(std::string_view product_key, std::string_view device_name) {
    return std::string(device_name) + "&" + std::string(product_key);
}

// The password a device of kSdkProductKey with kOtherSecret sends for `client_id`.
std::string OtherPassword(const std::string& client_id, std::string_view device_name) {
    std::optional<mqtt::AlinkClientId> parsed = mqtt::ParseClientId(client_id);
    if (!parsed) {
        return {};
    }
    return mqtt::ExpectedPassword(
        *parsed,
        mqtt::DeviceIdentity{std::string(kSdkProductKey), std::string(device_name)},
        kOtherSecret);
}

std::string StatusTopic(std::string_view device_name) {
    return "/as/mqtt/status/" + std::string(kSdkProductKey) + "/" + std::string(device_name);
}

// A mosquitto process with otad's plugin over its own database and temporary directory.
class Broker {
  public:
    Broker() = default;
    ~Broker() { Stop(); }
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    /// When otad's database is written, relative to the broker's start.
    enum class Database { kBeforeStart, kLater };

    /// Starts mosquitto over otad's database (written first, or left to CreateDatabase);
    /// `error` says why when it returns false.
    bool Start(Database when, std::string& error) {
        if (dir_.path().empty()) {
            error = "no temporary directory";
            return false;
        }
        if (when == Database::kBeforeStart && !CreateDatabase(error)) {
            return false;
        }
        std::string db_path = DatabasePath();
        // Another process may take the free port before mosquitto binds it (tests run in
        // parallel): try a few ports.
        for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
            if (Launch(db_path, error)) {
                return true;
            }
            Stop();
        }
        return false;
    }

    // Writes the configuration for a fresh free port and starts mosquitto on it.
    bool Launch(const std::string& db_path, std::string& error) {
        port_ = loopback::FreePort();
        std::filesystem::path conf = dir_.path() / "mosquitto.conf";
        log_ = dir_.path() / "mosquitto.log";
        {
            std::ofstream out(conf);
            out << "listener " << port_ << " 127.0.0.1\n"
                << "allow_anonymous false\n"
                << "per_listener_settings false\n"
                << "persistence false\n"
                << "log_dest stderr\n"
                << "log_type all\n"
                << "plugin " << plugin_ << "\n"
                << "plugin_opt_database " << db_path << "\n"
                << "plugin_opt_server_username " << kServerUsername << "\n"
                << "plugin_opt_server_password " << kServerPassword << "\n";
            // A broker started as root otherwise switches to the `mosquitto` user, which could
            // not open the database in this directory.
            if (geteuid() == 0) {
                out << "user root\n";
            }
        }

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        std::string log_path = log_.string();
        posix_spawn_file_actions_addopen(
            &actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        std::string conf_path = conf.string();
        std::vector<char*> argv = {
            executable_.data(), const_cast<char*>("-c"), conf_path.data(), nullptr};
        std::vector<std::string> env = ChildEnvironment();
        std::vector<char*> envp;
        for (std::string& entry : env) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);
        int rc =
            posix_spawn(&pid_, executable_.c_str(), &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
            error = "cannot start " + executable_;
            return false;
        }
        if (!PollFor([&] { return loopback::PortAccepts(port_) || Exited(); }) || Exited()) {
            error = "mosquitto did not open port " + std::to_string(port_) + ":\n" + Log();
            return false;
        }
        return true;
    }

    // This process's environment. In a sanitizer build the plugin is instrumented but mosquitto
    // is not, so the sanitizer runtimes are preloaded into the broker for the plugin to load.
    static std::vector<std::string> ChildEnvironment() {
        std::vector<std::string> env;
        for (char** entry = environ; *entry != nullptr; ++entry) {
            if (std::string_view(*entry).substr(0, 11) != "LD_PRELOAD=") {
                env.emplace_back(*entry);
            }
        }
        std::string preload = OTAD_SANITIZER_PRELOAD;
        if (!preload.empty()) {
            env.push_back("LD_PRELOAD=" + preload);
        }
        return env;
    }

    /// Writes otad's database with the devices the tests use, through the storage layer.
    bool CreateDatabase(std::string& error) {
        std::vector<TestDevice> devices = {
            {std::string(kSdkProductKey), "dev001", std::string(kSdkSecret)},
            {std::string(kSdkProductKey), "dev002", std::string(kSdkSecret)},
            {"a1FakePK123", "device1", "0123456789abcdef0123456789abcdef"},
            {std::string(kSdkProductKey), "devoff", std::string(kOtherSecret), "DISABLE"},
        };
        for (const char* name : {"devA",
                                 "devB",
                                 "devPush1",
                                 "devPush2",
                                 "devLegacy",
                                 "devPresence",
                                 "devTake",
                                 "devTakeNewId",
                                 "devClose",
                                 "devLater",
                                 "devKeep"}) {
            devices.push_back({std::string(kSdkProductKey), name, std::string(kOtherSecret)});
        }
        Result<std::unique_ptr<domain::Store>> store =
            CreateOtadDatabase(DatabasePath(), devices, scope_);
        if (!store.ok()) {
            error = "cannot create the database: " + store.error().internal;
            return false;
        }
        store_ = std::move(store).value();
        return true;
    }

    void Stop() {
        if (pid_ <= 0) {
            return;
        }
        kill(pid_, SIGTERM);
        if (!PollFor([&] { return Exited(); })) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }

    bool Exited() {
        if (pid_ <= 0) {
            return true;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return true;
        }
        return false;
    }

    std::string Log() const { return ReadFile(log_); }
    std::string DatabasePath() const { return (dir_.path() / "otad.db").string(); }
    int port() const { return port_; }
    domain::Store& store() { return *store_; }
    const domain::Scope& scope() const { return scope_; }

    void SetPaths(std::string executable, std::string plugin) {
        executable_ = std::move(executable);
        plugin_ = std::move(plugin);
    }

  private:
    TempDir dir_;
    std::filesystem::path log_;
    std::string executable_;
    std::string plugin_;
    std::unique_ptr<domain::Store> store_;
    domain::Scope scope_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
};

class BrokerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        std::string executable = EnvOr("OTAD_MOSQUITTO", OTAD_MOSQUITTO_EXECUTABLE);
        std::string plugin = EnvOr("OTAD_PLUGIN", OTAD_PLUGIN_PATH);
        if (executable.empty() || access(executable.c_str(), X_OK) != 0) {
            skip_reason_ = "no mosquitto executable";
            return;
        }
        if (plugin.empty() || access(plugin.c_str(), R_OK) != 0) {
            skip_reason_ = "plugin not built";
            return;
        }
        mosquitto_lib_init();
        broker_ = std::make_unique<Broker>();
        broker_->SetPaths(executable, plugin);
        std::string error;
        if (!broker_->Start(Broker::Database::kBeforeStart, error)) {
            start_error_ = error;
        }
    }

    static void TearDownTestSuite() {
        if (broker_ != nullptr) {
            broker_->Stop();
            // For a look at what the plugin logged: OTAD_BROKER_LOG=<file>.
            if (const char* keep = std::getenv("OTAD_BROKER_LOG"); keep != nullptr) {
                std::ofstream(keep) << broker_->Log();
            }
            broker_.reset();
            mosquitto_lib_cleanup();
        }
    }

    void SetUp() override {
        if (!skip_reason_.empty()) {
            GTEST_SKIP() << skip_reason_;
        }
        ASSERT_TRUE(start_error_.empty()) << start_error_;
    }

    void TearDown() override {
        if (HasFailure() && broker_ != nullptr) {
            std::cerr << "---- mosquitto log ----\n" << broker_->Log();
        }
    }

    static int port() { return broker_->port(); }

    /// otad's server connection.
    static std::unique_ptr<Client> ConnectServer(const std::string& client_id) {
        auto client = std::make_unique<Client>(client_id);
        EXPECT_EQ(client->Connect(port(), kServerUsername, kServerPassword), 0);
        return client;
    }

    /// A device of kSdkProductKey with kOtherSecret, logged in.
    static std::unique_ptr<Client> ConnectDevice(std::string_view device_name,
                                                 std::string_view extra = "") {
        std::string client_id = DeviceClientId(device_name, extra);
        auto client = std::make_unique<Client>(client_id);
        EXPECT_EQ(client->Connect(port(),
                                  Username(kSdkProductKey, device_name),
                                  OtherPassword(client_id, device_name)),
                  0)
            << device_name;
        return client;
    }

    static inline std::unique_ptr<Broker> broker_;
    static inline std::string skip_reason_;
    static inline std::string start_error_;
};

TEST_F(BrokerTest, LinkSdk4LoginWithUpperCaseSha256) {
    Client device{std::string(kSdkClientId)};
    EXPECT_EQ(device.Connect(port(), "dev001&a1TestPK01", kSdkPassword), 0);
}

TEST_F(BrokerTest, NodeSdkLoginWithSha1AndRealTimestamp) {
    int64_t now_ms = SystemClock::Instance().NowMs();
    std::string client_id =
        "a1TestPK01&dev002|securemode=3,signmethod=hmacsha1,timestamp=" + std::to_string(now_ms) +
        ",lan=NodeJS,_v=1.2.8|";
    std::optional<mqtt::AlinkClientId> parsed = mqtt::ParseClientId(client_id);
    ASSERT_TRUE(parsed.has_value());
    std::string password =
        mqtt::ExpectedPassword(*parsed, mqtt::DeviceIdentity{"a1TestPK01", "dev002"}, kSdkSecret);
    ASSERT_EQ(password.size(), 40u);  // SHA-1
    Client device{client_id};
    EXPECT_EQ(device.Connect(port(), "dev002&a1TestPK01", password), 0);
}

TEST_F(BrokerTest, DocStyleLoginWithMd5) {
    Client device{std::string(kDocClientId)};
    EXPECT_EQ(device.Connect(port(), "device1&a1FakePK123", kDocPassword), 0);
}

TEST_F(BrokerTest, WrongPasswordRefused) {
    Client device{std::string(kSdkClientId)};
    std::string wrong(kSdkPassword);
    wrong[0] = wrong[0] == '5' ? '6' : '5';
    EXPECT_EQ(device.Connect(port(), "dev001&a1TestPK01", wrong), 5);
    Client empty{std::string(kSdkClientId)};
    EXPECT_EQ(empty.Connect(port(), "dev001&a1TestPK01", ""), 5);
}

TEST_F(BrokerTest, UnknownDeviceRefused) {
    Client device{DeviceClientId("nosuch")};
    EXPECT_EQ(device.Connect(port(),
                             Username(kSdkProductKey, "nosuch"),
                             OtherPassword(DeviceClientId("nosuch"), "nosuch")),
              5);
}

TEST_F(BrokerTest, DisabledDeviceRefused) {
    Client device{DeviceClientId("devoff")};
    EXPECT_EQ(device.Connect(port(),
                             Username(kSdkProductKey, "devoff"),
                             OtherPassword(DeviceClientId("devoff"), "devoff")),
              5);
}

TEST_F(BrokerTest, DisablingInTheDatabaseTakesEffectAtTheNextLogin) {
    auto first = ConnectDevice("devLater");
    first.reset();
    Status disabled = broker_->store().Write([](domain::WriteTx& tx) -> Status {
        const domain::Scope& scope = broker_->scope();
        OTA_ASSIGN_OR_RETURN(std::optional<domain::Device> device,
                             tx.FindDevice(scope, kSdkProductKey, "devLater"));
        if (!device) {
            return InternalError("devLater missing");
        }
        device->status = "DISABLE";
        return tx.UpdateDevice(scope, *device);
    });
    ASSERT_TRUE(disabled.ok()) << disabled.error().internal;
    Client again{DeviceClientId("devLater")};
    EXPECT_EQ(again.Connect(port(),
                            Username(kSdkProductKey, "devLater"),
                            OtherPassword(DeviceClientId("devLater"), "devLater")),
              5);
}

TEST_F(BrokerTest, ShortKeepaliveRefused) {
    Client device{DeviceClientId("devKeep")};
    EXPECT_EQ(device.Connect(port(),
                             Username(kSdkProductKey, "devKeep"),
                             OtherPassword(DeviceClientId("devKeep"), "devKeep"),
                             10),
              5);
}

TEST_F(BrokerTest, WrongServerPasswordRefused) {
    Client server{"otad-wrong"};
    EXPECT_EQ(server.Connect(port(), kServerUsername, "not-the-password"), 5);
}

TEST_F(BrokerTest, DeviceCannotPublishOnAnotherDevicesTopic) {
    auto server = ConnectServer("otad-acl-pub");
    ASSERT_EQ(server->Subscribe("/sys/+/+/#"), 1);
    auto device = ConnectDevice("devA");
    const std::string forged = "/sys/a1TestPK01/devB/thing/event/property/post";
    const std::string own = "/sys/a1TestPK01/devA/thing/event/property/post";
    // Mosquitto acknowledges a refused QoS 1 publish; it is just not routed.
    ASSERT_TRUE(device->Publish(forged, "forged"));
    ASSERT_TRUE(device->Publish(own, "marker"));
    ASSERT_TRUE(server->WaitForMessage(own, "marker"));
    EXPECT_TRUE(server->MessagesOn(forged).empty());
}

TEST_F(BrokerTest, RefusedSubscriptionKeepsTheConnection) {
    auto device = ConnectDevice("devA", ",_conn=sub");
    EXPECT_EQ(device->Subscribe("/sys/a1TestPK01/devB/thing/event/property/post_reply"), 0x80);
    EXPECT_EQ(device->Subscribe("/sys/a1TestPK01/+/#"), 0x80);
    EXPECT_EQ(device->Subscribe("#"), 0x80);
    EXPECT_EQ(device->Subscribe("/sys/a1TestPK01/devA/#"), 1);
    EXPECT_TRUE(device->Publish("/sys/a1TestPK01/devA/thing/event/property/post", "{}"));
    EXPECT_TRUE(device->connected());
}

TEST_F(BrokerTest, DownlinkReachesADeviceThatNeverSubscribedExactlyOnce) {
    auto device = ConnectDevice("devPush1");
    auto server = ConnectServer("otad-push1");
    const std::string topic = "/ota/device/upgrade/a1TestPK01/devPush1";
    ASSERT_TRUE(server->Publish(topic, "push"));
    ASSERT_TRUE(server->Publish(topic, "marker"));
    ASSERT_TRUE(device->WaitForMessage(topic, "marker"));
    EXPECT_EQ(device->CountOf(topic, "push"), 1u);
}

TEST_F(BrokerTest, DownlinkReachesASubscribedDeviceExactlyOnce) {
    auto device = ConnectDevice("devPush2");
    const std::string topic = "/ota/device/upgrade/a1TestPK01/devPush2";
    const std::string reply = "/sys/a1TestPK01/devPush2/thing/ota/firmware/get_reply";
    ASSERT_EQ(device->Subscribe(topic), 1);
    ASSERT_EQ(device->Subscribe("/sys/a1TestPK01/devPush2/#"), 1);
    auto server = ConnectServer("otad-push2");
    ASSERT_TRUE(server->Publish(topic, "push"));
    ASSERT_TRUE(server->Publish(reply, "reply"));
    ASSERT_TRUE(server->Publish(topic, "marker"));
    ASSERT_TRUE(device->WaitForMessage(topic, "marker"));
    EXPECT_EQ(device->CountOf(topic, "push"), 1u);
    EXPECT_EQ(device->CountOf(reply, "reply"), 1u);
}

TEST_F(BrokerTest, LegacyPullReplyDoesNotEchoToTheServer) {
    auto server = ConnectServer("otad-legacy");
    ASSERT_EQ(server->Subscribe("/ota/device/request/+/+"), 1);
    auto device = ConnectDevice("devLegacy");
    const std::string topic = "/ota/device/request/a1TestPK01/devLegacy";
    ASSERT_EQ(device->Subscribe(topic), 1);
    ASSERT_TRUE(device->Publish(topic, "request"));
    ASSERT_TRUE(server->WaitForMessage(topic, "request"));
    ASSERT_TRUE(server->Publish(topic, "reply"));
    ASSERT_TRUE(device->WaitForMessage(topic, "reply"));
    EXPECT_EQ(device->CountOf(topic, "reply"), 1u);
    // The device's next request reaches the server after the reply would have.
    ASSERT_TRUE(device->Publish(topic, "request-2"));
    ASSERT_TRUE(server->WaitForMessage(topic, "request-2"));
    EXPECT_EQ(server->CountOf(topic, "reply"), 0u);
}

TEST_F(BrokerTest, DownlinkToAnOfflineDeviceIsDropped) {
    auto server = ConnectServer("otad-offline");
    const std::string topic = "/ota/device/upgrade/a1TestPK01/devB";
    ASSERT_EQ(server->Subscribe("/ota/device/upgrade/+/+"), 1);
    ASSERT_EQ(server->Subscribe("/test/marker"), 1);
    ASSERT_TRUE(server->Publish(topic, "nobody"));
    ASSERT_TRUE(server->Publish("/test/marker", "offline-marker"));
    ASSERT_TRUE(server->WaitForMessage("/test/marker", "offline-marker"));
    EXPECT_TRUE(server->MessagesOn(topic).empty());
    EXPECT_TRUE(server->connected());
}

TEST_F(BrokerTest, RetainedOnlineStatusForALateSubscriber) {
    auto device = ConnectDevice("devPresence");
    auto server = ConnectServer("otad-presence");
    const std::string topic = StatusTopic("devPresence");
    ASSERT_EQ(server->Subscribe(topic), 1);
    ASSERT_TRUE(server->WaitForCount(topic, 1));
    Message status = server->MessagesOn(topic).front();
    EXPECT_TRUE(status.retain);
    nlohmann::json body = nlohmann::json::parse(status.payload, nullptr, false);
    ASSERT_TRUE(body.is_object()) << status.payload;
    EXPECT_EQ(body["status"], "online");
    EXPECT_EQ(body["productKey"], "a1TestPK01");
    EXPECT_EQ(body["deviceName"], "devPresence");
    EXPECT_EQ(body["clientIp"], "127.0.0.1");
    ASSERT_TRUE(body["time"].is_number_integer());
    EXPECT_GT(body["time"].get<int64_t>(), 1'600'000'000'000);
}

// Messages on `topic` seen by `server`, as "online" / "empty" / "other".
std::vector<std::string> Statuses(Client& server, const std::string& topic) {
    std::vector<std::string> out;
    for (const Message& m : server.MessagesOn(topic)) {
        if (m.payload.empty()) {
            out.push_back("empty");
        } else {
            nlohmann::json body = nlohmann::json::parse(m.payload, nullptr, false);
            out.push_back(body.is_object() && body["status"] == "online" ? "online" : "other");
        }
    }
    return out;
}

// True when a subscriber arriving now finds the device announced online. Called once the
// takeover's "online" reached `server`: a false offline caused by the takeover would have been
// queued in the same pass and cleared the retained status already.
bool RetainedOnline(const std::string& topic, const std::string& client_id, int port) {
    Client late{client_id};
    if (late.Connect(port, kServerUsername, kServerPassword) != 0 || late.Subscribe(topic) != 1 ||
        late.Subscribe("/test/marker") != 1 || !late.Publish("/test/marker", client_id) ||
        !late.WaitForMessage("/test/marker", client_id)) {
        return false;
    }
    std::vector<Message> retained = late.MessagesOn(topic);
    return retained.size() == 1 && retained[0].retain && !retained[0].payload.empty();
}

TEST_F(BrokerTest, TakeoverWithTheSameClientIdGivesNoOffline) {
    auto server = ConnectServer("otad-take");
    const std::string topic = StatusTopic("devTake");
    ASSERT_EQ(server->Subscribe(topic), 1);
    auto first = ConnectDevice("devTake");
    ASSERT_TRUE(server->WaitForCount(topic, 1));
    auto second = ConnectDevice("devTake");
    ASSERT_TRUE(first->WaitClosed());
    ASSERT_TRUE(server->WaitForCount(topic, 2));
    EXPECT_TRUE(RetainedOnline(topic, "otad-take-late", port()));
    EXPECT_TRUE(second->connected());
    // Closing the current connection produces the first and only offline.
    second.reset();
    ASSERT_TRUE(server->WaitForCount(topic, 3));
    EXPECT_EQ(Statuses(*server, topic), (std::vector<std::string>{"online", "online", "empty"}));
}

TEST_F(BrokerTest, TakeoverWithANewClientIdClosesTheOldConnection) {
    auto server = ConnectServer("otad-take-id");
    const std::string topic = StatusTopic("devTakeNewId");
    ASSERT_EQ(server->Subscribe(topic), 1);
    auto first = ConnectDevice("devTakeNewId", ",_conn=tcp_1");
    ASSERT_TRUE(server->WaitForCount(topic, 1));
    auto second = ConnectDevice("devTakeNewId", ",_conn=tcp_2");
    ASSERT_TRUE(first->WaitClosed());
    ASSERT_TRUE(server->WaitForCount(topic, 2));
    EXPECT_TRUE(RetainedOnline(topic, "otad-take-id-late", port()));
    // Downlinks follow the current connection.
    const std::string push = "/ota/device/upgrade/a1TestPK01/devTakeNewId";
    ASSERT_TRUE(server->Publish(push, "push"));
    ASSERT_TRUE(second->WaitForMessage(push, "push"));
    EXPECT_EQ(first->CountOf(push, "push"), 0u);
    second.reset();
    ASSERT_TRUE(server->WaitForCount(topic, 3));
    EXPECT_EQ(Statuses(*server, topic), (std::vector<std::string>{"online", "online", "empty"}));
}

TEST_F(BrokerTest, ClosingTheCurrentConnectionClearsTheRetainedStatus) {
    auto server = ConnectServer("otad-close");
    const std::string topic = StatusTopic("devClose");
    ASSERT_EQ(server->Subscribe(topic), 1);
    auto device = ConnectDevice("devClose");
    ASSERT_TRUE(server->WaitForCount(topic, 1));
    device.reset();
    ASSERT_TRUE(server->WaitForCount(topic, 2));
    EXPECT_EQ(Statuses(*server, topic), (std::vector<std::string>{"online", "empty"}));

    // A subscriber arriving later finds nothing retained: its marker, published after it
    // subscribed, arrives alone.
    auto late = ConnectServer("otad-close-late");
    ASSERT_EQ(late->Subscribe(topic), 1);
    ASSERT_EQ(late->Subscribe("/test/marker"), 1);
    ASSERT_TRUE(late->Publish("/test/marker", "marker"));
    ASSERT_TRUE(late->WaitForMessage("/test/marker", "marker"));
    EXPECT_TRUE(late->MessagesOn(topic).empty());
}

// otad may create its database after Mosquitto started: logins are refused until it exists,
// then accepted without restarting the broker.
TEST_F(BrokerTest, DatabaseCreatedAfterTheBrokerStarted) {
    Broker late;
    late.SetPaths(EnvOr("OTAD_MOSQUITTO", OTAD_MOSQUITTO_EXECUTABLE),
                  EnvOr("OTAD_PLUGIN", OTAD_PLUGIN_PATH));
    std::string error;
    ASSERT_TRUE(late.Start(Broker::Database::kLater, error)) << error;
    {
        Client early{std::string(kSdkClientId)};
        EXPECT_EQ(early.Connect(late.port(), "dev001&a1TestPK01", kSdkPassword), 5);
    }
    EXPECT_FALSE(std::filesystem::exists(late.DatabasePath()));
    ASSERT_TRUE(late.CreateDatabase(error)) << error;
    Client device{std::string(kSdkClientId)};
    EXPECT_EQ(device.Connect(late.port(), "dev001&a1TestPK01", kSdkPassword), 0);
    late.Stop();
    if (HasFailure()) {
        std::cerr << "---- mosquitto log (database created later) ----\n" << late.Log();
    }
}

}  // namespace
}  // namespace otad::broker_test
