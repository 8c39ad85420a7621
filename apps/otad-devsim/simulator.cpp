#include "simulator.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "download_pool.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <mosquitto.h>
#include <mutex>
#include <queue>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace otad::devsim {
namespace {

// Limits and periods of the event loops.
constexpr int kMaxEpollEvents = 1024;
constexpr int kMaxPacketsPerCall = 16;
constexpr int64_t kSweepPeriodMs = 1000;
constexpr int64_t kConnectTimeoutMs = 30000;
constexpr size_t kMaxConnectsPerIteration = 256;
// Connections of one loop waiting for CONNACK. More would overflow a broker's listen backlog
// and cost a SYN retransmission (a second or more) per dropped connection.
constexpr size_t kMaxPendingConnects = 128;
constexpr size_t kEventQueueCapacity = 4096;
constexpr uint64_t kRejectedPushesLogged = 10;
constexpr uint64_t kEventsTag = UINT64_MAX;
constexpr uint64_t kWakeTag = UINT64_MAX - 1;
constexpr uint32_t kReadable = EPOLLIN;
constexpr uint32_t kWritable = EPOLLOUT;

int64_t SteadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Counters {
    std::atomic<int64_t> connected{0};
    std::atomic<uint64_t> connected_ever{0};
    std::atomic<uint64_t> connect_failures{0};
    std::atomic<uint64_t> reconnects{0};
    std::atomic<uint64_t> pushes{0};
    std::atomic<uint64_t> pushes_ignored{0};
    std::atomic<uint64_t> pushes_rejected{0};
    std::atomic<uint64_t> succeeded{0};
    std::atomic<uint64_t> failed{0};
    std::atomic<uint64_t> timeouts_injected{0};
    std::atomic<uint64_t> offline_injected{0};
    std::atomic<uint64_t> wrong_versions_injected{0};
    std::atomic<uint64_t> at_target{0};
    /// Steady milliseconds; -1 until it happens.
    std::atomic<int64_t> first_push_ms{-1};
    std::atomic<int64_t> last_success_ms{-1};
};

void Add(std::atomic<uint64_t>& c) {
    c.fetch_add(1, std::memory_order_relaxed);
}

// One update the device is working on (or pretending to, for an injected timeout).
struct Task {
    std::string module_key;
    /// Module as pushed, copied into the reports.
    std::string module;
    std::string version;
    uint64_t token = 0;
    /// Injected timeout: the device reported 0 and stays silent.
    bool silent = false;
    /// Injected failure reported after the download (-1 or -4); 0 for none.
    int inject_step = 0;
    bool inject_wrong_version = false;
};

enum class Link {
    kIdle,          // not connected, nothing scheduled
    kQueued,        // waiting for a connect token
    kConnecting,    // CONNECT sent or pending, no CONNACK yet
    kConnected,     // CONNACK 0 received
    kGoingOffline,  // injected disconnect in progress
    kWaiting,       // timer set for the next connect
};

class Loop;

struct Device {
    DeviceSpec spec;
    FaultPlan faults;
    uint32_t index = 0;
    Loop* loop = nullptr;
    mosquitto* mosq = nullptr;
    int registered_fd = -1;
    bool registered_out = false;
    Link link = Link::kIdle;
    int64_t link_since_ms = 0;
    uint64_t timer_generation = 0;
    uint32_t next_message_id = 1;
    /// Module key ("" = default) and version, default module first.
    std::vector<ModuleVersion> versions;
    std::vector<Task> tasks;
    bool offline_used = false;
    bool timeout_used = false;
    bool fail_used = false;
    bool wrong_used = false;
    bool ever_attempted = false;
    /// mosquitto_connect_async has stored the broker address; later attempts reconnect.
    bool connect_configured = false;
    bool ever_connected = false;
    bool at_target = false;
    int64_t next_pull_ms = 0;

    std::string VersionOf(std::string_view key) const {
        for (const ModuleVersion& m : versions) {
            if (m.module == key) {
                return m.version;
            }
        }
        return {};
    }
    void SetVersion(const std::string& key, const std::string& version) {
        for (ModuleVersion& m : versions) {
            if (m.module == key) {
                m.version = version;
                return;
            }
        }
        versions.push_back(ModuleVersion{key, version});
    }
};

struct Timer {
    int64_t due_ms = 0;
    uint32_t device = 0;
    uint64_t generation = 0;
    bool operator>(const Timer& other) const { return due_ms > other.due_ms; }
};

// One event-loop thread and the devices it owns.
class Loop {
  public:
    Loop(uint32_t index,
         const Config& config,
         Counters& counters,
         std::vector<Device>& devices,
         size_t first,
         size_t last)
        : index_(index),
          config_(config),
          counters_(counters),
          devices_(devices),
          first_(first),
          last_(last),
          events_(kEventQueueCapacity),
          wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
          connect_rate_(config.connect_rate / static_cast<double>(config.loop_threads)),
          jitter_state_(config.seed ^ (0x51ed2701ULL * (index + 1))) {
        for (size_t i = first_; i < last_; ++i) {
            devices_[i].loop = this;
        }
    }
    ~Loop() {
        if (wake_fd_ >= 0) {
            ::close(wake_fd_);
        }
        if (epoll_fd_ >= 0) {
            ::close(epoll_fd_);
        }
    }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    EventQueue& events() { return events_; }
    void SetPool(DownloadPool* pool) { pool_ = pool; }

    void Stop() {
        stop_.store(true, std::memory_order_relaxed);
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    }

    void Run();

    // libmosquitto callbacks, on this loop's thread.
    void OnConnect(Device& d, int rc);
    void OnDisconnect(Device& d, int rc);
    void OnMessage(Device& d, const mosquitto_message& message);

  private:
    void Watch(int fd, uint64_t tag);
    void Connect(Device& d, int64_t now);
    void DropClient(Device& d);
    void ForgetSocket(Device& d);
    void SyncInterest(Device& d);
    void HandleIo(Device& d, uint32_t events);
    void Schedule(Device& d, int64_t due_ms);
    void RunTimers(int64_t now);
    void StartConnects(int64_t now);
    void Sweep(int64_t now);
    int WaitMs(int64_t now, int64_t next_sweep) const;
    void DrainDownloads();
    void OnDownloadEvent(const DownloadEvent& e);
    void OnPackage(Device& d, const Package& package);
    void Pull(Device& d);
    void Publish(Device& d, Topic topic, const std::string& payload, int qos);
    void Progress(Device& d, int step, std::string_view desc, std::string_view module);
    void Inform(Device& d, std::string_view version, std::string_view module);
    void CheckTarget(Device& d);
    void SetLink(Device& d, Link link);
    void Shutdown();
    double Jitter();

    const uint32_t index_;
    const Config& config_;
    Counters& counters_;
    std::vector<Device>& devices_;
    const size_t first_;
    const size_t last_;
    EventQueue events_;
    int wake_fd_ = -1;
    int epoll_fd_ = -1;
    DownloadPool* pool_ = nullptr;
    std::atomic<bool> stop_{false};
    bool stopping_ = false;

    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    std::deque<uint32_t> connect_queue_;
    size_t pending_connects_ = 0;
    const double connect_rate_;
    double connect_tokens_ = 0;
    int64_t tokens_at_ms_ = 0;
    uint64_t next_token_ = 1;
    uint64_t jitter_state_;
    std::vector<DownloadEvent> drained_;
};

void OnConnectThunk(mosquitto*, void* obj, int rc) {
    auto* d = static_cast<Device*>(obj);
    d->loop->OnConnect(*d, rc);
}

void OnDisconnectThunk(mosquitto*, void* obj, int rc) {
    auto* d = static_cast<Device*>(obj);
    d->loop->OnDisconnect(*d, rc);
}

void OnMessageThunk(mosquitto*, void* obj, const mosquitto_message* message) {
    auto* d = static_cast<Device*>(obj);
    d->loop->OnMessage(*d, *message);
}

// The login the device uses for its whole life. The Node SDK computes its timestamp once and
// repeats the same CONNECT on every reconnect, as the simulator does.
MqttCredentials Login(const Device& d) {
    return BuildCredentials(d.spec.style, d.spec.identity, SystemClock::Instance().NowMs());
}

// Creates the device's libmosquitto client. Calls only into libmosquitto, so that it can run
// while descriptors are scarce (see CreateClientsWithoutWakePairs).
bool CreateClient(Device& d, const MqttCredentials& creds) {
    d.mosq = mosquitto_new(creds.client_id.c_str(), DefaultCleanSession(d.spec.style), &d);
    if (d.mosq == nullptr) {
        return false;
    }
    mosquitto_int_option(d.mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_username_pw_set(d.mosq, creds.username.c_str(), creds.password.c_str());
    mosquitto_connect_callback_set(d.mosq, &OnConnectThunk);
    mosquitto_disconnect_callback_set(d.mosq, &OnDisconnectThunk);
    mosquitto_message_callback_set(d.mosq, &OnMessageThunk);
    return true;
}

size_t OpenDescriptors() {
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        ++n;
    }
    return n;
}

// libmosquitto opens a socket pair in every client only to wake its own network thread,
// which the non-threaded API never runs; at three descriptors per client 10,000 devices would
// not fit a 20,000 descriptor limit. While the clients are created the soft descriptor limit
// is therefore lowered to the lowest free descriptor number, so that the pair cannot be
// opened; libmosquitto treats that as harmless and works without it. Must run before any
// other thread of the process opens descriptors. Returns the descriptors the clients took.
size_t CreateClientsWithoutWakePairs(std::vector<Device>& devices) {
    const size_t before = OpenDescriptors();
    // Everything that may need a descriptor of its own (clock, sanitizer checks, allocation
    // of the strings) happens before the limit is lowered.
    std::vector<MqttCredentials> logins;
    logins.reserve(devices.size());
    for (const Device& d : devices) {
        logins.push_back(Login(d));
    }
    rlimit saved{};
    bool lowered = false;
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe >= 0) {
        ::close(probe);
    }
    if (probe >= 0 && ::getrlimit(RLIMIT_NOFILE, &saved) == 0) {
        rlimit low = saved;
        low.rlim_cur = static_cast<rlim_t>(probe);
        lowered = ::setrlimit(RLIMIT_NOFILE, &low) == 0;
    }
    for (size_t i = 0; i < devices.size(); ++i) {
        CreateClient(devices[i], logins[i]);
    }
    if (lowered) {
        ::setrlimit(RLIMIT_NOFILE, &saved);
    }
    for (size_t i = 0; i < devices.size(); ++i) {
        // Creation failed even so (a libmosquitto that insists on the pair): plain clients.
        if (devices[i].mosq == nullptr) {
            CreateClient(devices[i], logins[i]);
        }
    }
    const size_t after = OpenDescriptors();
    return after > before ? after - before : 0;
}

std::string DeviceLabel(const Device& d) {
    return d.spec.identity.product_key + "/" + d.spec.identity.device_name;
}

double Loop::Jitter() {
    // xorshift64: only spreads reconnect times, needs no quality.
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    return 0.5 + static_cast<double>(jitter_state_ % 1000) / 1000.0;
}

void Loop::Watch(int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = kReadable;
    ev.data.u64 = tag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void Loop::SetLink(Device& d, Link link) {
    if (d.link == Link::kConnecting && link != Link::kConnecting) {
        --pending_connects_;
    } else if (d.link != Link::kConnecting && link == Link::kConnecting) {
        ++pending_connects_;
    }
    if (d.link == Link::kConnected && link != Link::kConnected) {
        counters_.connected.fetch_sub(1, std::memory_order_relaxed);
    } else if (d.link != Link::kConnected && link == Link::kConnected) {
        counters_.connected.fetch_add(1, std::memory_order_relaxed);
    }
    d.link = link;
    d.link_since_ms = SteadyMs();
}

// Keeps the epoll registration in step with libmosquitto's socket. libmosquitto closes its
// socket itself on errors, which removes it from the epoll set; a socket number that changed
// therefore needs no EPOLL_CTL_DEL (and must not get one: the number may already belong to
// another connection).
void Loop::SyncInterest(Device& d) {
    const int fd = d.mosq == nullptr ? -1 : mosquitto_socket(d.mosq);
    if (fd != d.registered_fd) {
        d.registered_fd = -1;
        if (fd < 0) {
            return;
        }
        epoll_event ev{};
        ev.data.u64 = d.index;
        d.registered_out = mosquitto_want_write(d.mosq);
        ev.events = kReadable | (d.registered_out ? kWritable : 0u);
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) {
            d.registered_fd = fd;
        } else {
            log::Warn("devsim: epoll add failed for " + DeviceLabel(d) + ": " +
                      std::strerror(errno));
        }
        return;
    }
    if (fd < 0) {
        return;
    }
    const bool want_out = mosquitto_want_write(d.mosq);
    if (want_out != d.registered_out) {
        epoll_event ev{};
        ev.data.u64 = d.index;
        ev.events = kReadable | (want_out ? kWritable : 0u);
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
        d.registered_out = want_out;
    }
}

// Destroys the device's client, closing its connection without a DISCONNECT.
void Loop::DropClient(Device& d) {
    if (d.mosq == nullptr) {
        return;
    }
    ForgetSocket(d);
    mosquitto_destroy(d.mosq);
    d.mosq = nullptr;
}

// Takes the client's socket out of the epoll set before libmosquitto closes it on purpose.
void Loop::ForgetSocket(Device& d) {
    const int fd = d.mosq == nullptr ? -1 : mosquitto_socket(d.mosq);
    if (fd >= 0 && fd == d.registered_fd) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    }
    d.registered_fd = -1;
    d.registered_out = false;
}

void Loop::Connect(Device& d, int64_t now) {
    if (d.ever_attempted) {
        Add(counters_.reconnects);
    }
    d.ever_attempted = true;
    if (d.mosq == nullptr && !CreateClient(d, Login(d))) {
        Add(counters_.connect_failures);
        log::Warn("devsim: cannot create an MQTT client for " + DeviceLabel(d) + ": " +
                  std::strerror(errno));
        SetLink(d, Link::kWaiting);
        Schedule(d, now + static_cast<int64_t>(config_.reconnect_ms * Jitter()));
        return;
    }
    // Reconnecting closes the previous socket inside libmosquitto.
    ForgetSocket(d);
    int rc = MOSQ_ERR_SUCCESS;
    if (d.connect_configured) {
        rc = mosquitto_reconnect_async(d.mosq);
    } else {
        const int keepalive =
            config_.keepalive_s > 0 ? config_.keepalive_s : DefaultKeepaliveSeconds(d.spec.style);
        rc = mosquitto_connect_async(
            d.mosq, config_.broker_host.c_str(), config_.broker_port, keepalive);
        d.connect_configured = true;
    }
    SyncInterest(d);
    if (rc != MOSQ_ERR_SUCCESS) {
        Add(counters_.connect_failures);
        log::Debug("devsim: connect of " + DeviceLabel(d) + " failed: " + mosquitto_strerror(rc));
        SetLink(d, Link::kWaiting);
        Schedule(d, now + static_cast<int64_t>(config_.reconnect_ms * Jitter()));
        return;
    }
    SetLink(d, Link::kConnecting);
}

void Loop::Schedule(Device& d, int64_t due_ms) {
    ++d.timer_generation;
    timers_.push(Timer{due_ms, d.index, d.timer_generation});
}

void Loop::RunTimers(int64_t now) {
    while (!timers_.empty() && timers_.top().due_ms <= now) {
        const Timer t = timers_.top();
        timers_.pop();
        Device& d = devices_[t.device];
        if (t.generation != d.timer_generation || d.link != Link::kWaiting) {
            continue;
        }
        SetLink(d, Link::kQueued);
        connect_queue_.push_back(d.index);
    }
}

void Loop::StartConnects(int64_t now) {
    if (connect_queue_.empty()) {
        tokens_at_ms_ = now;
        return;
    }
    size_t budget = kMaxConnectsPerIteration;
    budget =
        std::min(budget, kMaxPendingConnects - std::min(kMaxPendingConnects, pending_connects_));
    if (connect_rate_ > 0) {
        // Token bucket with a burst of a tenth of a second's worth (at least one).
        const double burst = std::max(1.0, connect_rate_ / 10.0);
        connect_tokens_ = std::min(
            burst,
            connect_tokens_ + static_cast<double>(now - tokens_at_ms_) * connect_rate_ / 1000.0);
        tokens_at_ms_ = now;
        budget = std::min(budget, static_cast<size_t>(connect_tokens_));
        connect_tokens_ -= static_cast<double>(std::min(budget, connect_queue_.size()));
    }
    while (budget > 0 && !connect_queue_.empty()) {
        Device& d = devices_[connect_queue_.front()];
        connect_queue_.pop_front();
        --budget;
        if (d.link == Link::kQueued) {
            Connect(d, now);
        }
    }
}

int Loop::WaitMs(int64_t now, int64_t next_sweep) const {
    int64_t wait = next_sweep - now;
    if (!timers_.empty()) {
        wait = std::min(wait, timers_.top().due_ms - now);
    }
    if (!connect_queue_.empty() && pending_connects_ < kMaxPendingConnects) {
        if (connect_rate_ <= 0) {
            wait = 0;
        } else {
            const double missing = std::max(0.0, 1.0 - connect_tokens_);
            wait = std::min(wait, static_cast<int64_t>(std::ceil(missing * 1000 / connect_rate_)));
        }
    }
    return static_cast<int>(std::clamp<int64_t>(wait, 0, kSweepPeriodMs));
}

// Once a second: keepalive work, stuck connects, repeated pulls.
void Loop::Sweep(int64_t now) {
    for (size_t i = first_; i < last_; ++i) {
        Device& d = devices_[i];
        if (d.mosq == nullptr) {
            continue;
        }
        if (d.link == Link::kConnecting && now - d.link_since_ms > kConnectTimeoutMs) {
            Add(counters_.connect_failures);
            log::Debug("devsim: CONNACK timeout for " + DeviceLabel(d));
            // The next Connect closes the stuck socket; a late CONNACK meanwhile is welcome.
            SetLink(d, Link::kWaiting);
            Schedule(d, now + static_cast<int64_t>(config_.reconnect_ms * Jitter()));
            continue;
        }
        if (mosquitto_socket(d.mosq) >= 0) {
            mosquitto_loop_misc(d.mosq);
        }
        if (d.link == Link::kConnected && config_.pull_every_s > 0 && d.tasks.empty() &&
            now >= d.next_pull_ms) {
            Pull(d);
        }
        SyncInterest(d);
    }
}

void Loop::HandleIo(Device& d, uint32_t events) {
    if (d.mosq == nullptr) {
        return;
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        mosquitto_loop_read(d.mosq, kMaxPacketsPerCall);
    }
    if ((events & EPOLLOUT) != 0 && d.mosq != nullptr && mosquitto_socket(d.mosq) >= 0) {
        mosquitto_loop_write(d.mosq, kMaxPacketsPerCall);
    }
    SyncInterest(d);
}

void Loop::Publish(Device& d, Topic topic, const std::string& payload, int qos) {
    if (d.mosq == nullptr || d.link != Link::kConnected) {
        return;
    }
    const std::string name =
        TopicName(topic, d.spec.identity.product_key, d.spec.identity.device_name);
    const int rc = mosquitto_publish(d.mosq,
                                     nullptr,
                                     name.c_str(),
                                     static_cast<int>(payload.size()),
                                     payload.data(),
                                     qos,
                                     false);
    if (rc != MOSQ_ERR_SUCCESS) {
        log::Debug("devsim: publish by " + DeviceLabel(d) + " failed: " + mosquitto_strerror(rc));
    }
}

void Loop::Progress(Device& d, int step, std::string_view desc, std::string_view module) {
    const Style style = d.spec.style;
    Publish(d,
            Topic::kProgress,
            ProgressPayload(style, d.next_message_id++, step, desc, module),
            ProgressQos(style));
}

void Loop::Inform(Device& d, std::string_view version, std::string_view module) {
    const Style style = d.spec.style;
    Publish(d,
            Topic::kInform,
            InformPayload(style, d.next_message_id++, version, module),
            InformQos(style));
}

void Loop::Pull(Device& d) {
    d.next_pull_ms = SteadyMs() + static_cast<int64_t>(config_.pull_every_s) * 1000;
    const Style style = d.spec.style;
    if (config_.pull) {
        for (const ModuleVersion& m : d.versions) {
            Publish(d, Topic::kFirmwareGet, FirmwareGetPayload(d.next_message_id++, m.module), 0);
        }
    }
    if (config_.legacy_pull) {
        Publish(d,
                Topic::kRequest,
                LegacyRequestPayload(d.next_message_id++, d.VersionOf("")),
                RequestQos(style));
    }
}

void Loop::CheckTarget(Device& d) {
    if (config_.until_version.empty() || d.at_target || d.faults.Designated()) {
        return;
    }
    if (d.VersionOf(config_.until_module) == config_.until_version) {
        d.at_target = true;
        Add(counters_.at_target);
    }
}

void Loop::OnConnect(Device& d, int rc) {
    if (rc != 0) {
        log::Debug("devsim: CONNACK " + std::to_string(rc) + " for " + DeviceLabel(d));
        return;  // libmosquitto closes the connection; OnDisconnect counts and reschedules.
    }
    if (!d.ever_connected) {
        d.ever_connected = true;
        Add(counters_.connected_ever);
    }
    SetLink(d, Link::kConnected);
    const Style style = d.spec.style;
    const bool subscribes = config_.subscribe_all || style != Style::k4x;
    if (subscribes) {
        const auto& id = d.spec.identity;
        std::vector<std::string> topics = {
            TopicName(Topic::kUpgrade, id.product_key, id.device_name)};
        if (config_.pull || config_.subscribe_all) {
            topics.push_back(TopicName(Topic::kFirmwareGetReply, id.product_key, id.device_name));
        }
        if (config_.legacy_pull || config_.subscribe_all) {
            topics.push_back(TopicName(Topic::kRequest, id.product_key, id.device_name));
        }
        for (const std::string& t : topics) {
            mosquitto_subscribe(d.mosq, nullptr, t.c_str(), 1);
        }
    }
    // Devices report every module's version once they are online.
    for (const ModuleVersion& m : d.versions) {
        Inform(d, m.version, m.module);
    }
    if (config_.pull || config_.legacy_pull) {
        Pull(d);
    }
}

void Loop::OnDisconnect(Device& d, int rc) {
    const Link was = d.link;
    if (stopping_) {
        SetLink(d, Link::kIdle);
        return;
    }
    const int64_t now = SteadyMs();
    SetLink(d, Link::kWaiting);
    if (was == Link::kConnecting) {
        Add(counters_.connect_failures);
    }
    if (was == Link::kGoingOffline) {
        Schedule(d, now + config_.offline_ms);
        return;
    }
    if (rc != 0) {
        log::Debug("devsim: " + DeviceLabel(d) + " lost its connection: " + mosquitto_strerror(rc));
    }
    Schedule(d, now + static_cast<int64_t>(config_.reconnect_ms * Jitter()));
}

void Loop::OnMessage(Device& d, const mosquitto_message& message) {
    const auto& id = d.spec.identity;
    const std::optional<Topic> topic =
        ClassifyDownlink(message.topic, id.product_key, id.device_name);
    if (!topic) {
        return;
    }
    const DownlinkKind kind = *topic == Topic::kUpgrade            ? DownlinkKind::kUpgrade
                              : *topic == Topic::kFirmwareGetReply ? DownlinkKind::kGetReply
                                                                   : DownlinkKind::kRequest;
    const std::string_view payload(static_cast<const char*>(message.payload),
                                   static_cast<size_t>(std::max(message.payloadlen, 0)));
    const Downlink downlink = ParseDownlink(kind, d.spec.style, payload);
    switch (downlink.outcome) {
        case Downlink::Outcome::kNothingPending:
            return;
        case Downlink::Outcome::kIgnored:
            // The device's own legacy request comes back on the same topic; that is normal.
            if (kind == DownlinkKind::kRequest && payload.find("\"data\"") == std::string::npos) {
                return;
            }
            if (counters_.pushes_rejected.fetch_add(1, std::memory_order_relaxed) <
                kRejectedPushesLogged) {
                log::Warn("devsim: " + DeviceLabel(d) + " drops a downlink on " +
                          std::string(message.topic) + ": " + downlink.reason);
            }
            return;
        case Downlink::Outcome::kPackage:
            OnPackage(d, downlink.package);
            return;
    }
}

void Loop::OnPackage(Device& d, const Package& package) {
    Add(counters_.pushes);
    int64_t unset = -1;
    counters_.first_push_ms.compare_exchange_strong(unset, SteadyMs(), std::memory_order_relaxed);
    const std::string key = ModuleKey(package.module);
    for (auto it = d.tasks.begin(); it != d.tasks.end(); ++it) {
        if (it->module_key != key) {
            continue;
        }
        // A silent (timed-out) task gives way to a package of another version: a new batch.
        if (it->silent && it->version != package.version) {
            d.tasks.erase(it);
            break;
        }
        Add(counters_.pushes_ignored);
        return;
    }
    if (d.faults.offline && !d.offline_used) {
        d.offline_used = true;
        Add(counters_.offline_injected);
        log::Debug("devsim: " + DeviceLabel(d) + " goes offline (injected)");
        SetLink(d, Link::kGoingOffline);
        mosquitto_disconnect(d.mosq);
        return;
    }
    Task task;
    task.module_key = key;
    task.module = package.module;
    task.version = package.version;
    task.token = next_token_++;
    Progress(d, 0, "", package.module);
    if (d.faults.timeout && !d.timeout_used) {
        d.timeout_used = true;
        task.silent = true;
        Add(counters_.timeouts_injected);
        d.tasks.push_back(std::move(task));
        return;
    }
    if (d.faults.fail && !d.fail_used) {
        d.fail_used = true;
        if (d.faults.fail_step == -2) {
            Add(counters_.failed);
            Progress(d, -2, "download failed (injected)", package.module);
            return;
        }
        task.inject_step = d.faults.fail_step;
    } else if (d.faults.wrong_version && !d.wrong_used) {
        d.wrong_used = true;
        task.inject_wrong_version = true;
    }
    DownloadJob job;
    job.loop = index_;
    job.device = d.index;
    job.token = task.token;
    job.style = d.spec.style;
    job.package = package;
    job.progress_every = config_.progress_every;
    if (pool_ == nullptr || !pool_->Submit(std::move(job))) {
        Add(counters_.failed);
        Progress(d, -2, "simulator download queue full", package.module);
        return;
    }
    d.tasks.push_back(std::move(task));
}

void Loop::DrainDownloads() {
    drained_.clear();
    events_.Drain(drained_);
    for (const DownloadEvent& e : drained_) {
        OnDownloadEvent(e);
    }
}

void Loop::OnDownloadEvent(const DownloadEvent& e) {
    if (e.device < first_ || e.device >= last_) {
        return;
    }
    Device& d = devices_[e.device];
    auto it = std::find_if(
        d.tasks.begin(), d.tasks.end(), [&](const Task& t) { return t.token == e.token; });
    if (it == d.tasks.end()) {
        return;
    }
    if (e.kind == DownloadEvent::Kind::kProgress) {
        Progress(d, e.percent, "", it->module);
        SyncInterest(d);
        return;
    }
    const Task task = std::move(*it);
    d.tasks.erase(it);
    switch (e.status) {
        case FetchResult::Status::kDigestMismatch:
            Add(counters_.failed);
            Progress(d, -3, "digest mismatch", task.module);
            break;
        case FetchResult::Status::kFailed:
            Add(counters_.failed);
            Progress(d, -2, e.detail, task.module);
            break;
        case FetchResult::Status::kOk:
            if (task.inject_step != 0) {
                Add(counters_.failed);
                Progress(
                    d,
                    task.inject_step,
                    task.inject_step == -4 ? "flash failed (injected)" : "update failed (injected)",
                    task.module);
                break;
            }
            Progress(d, 100, "", task.module);
            if (task.inject_wrong_version) {
                // Neither the source nor the destination version.
                const std::string wrong = task.version + "-unexpected";
                Add(counters_.wrong_versions_injected);
                d.SetVersion(task.module_key, wrong);
                Inform(d, wrong, task.module);
                break;
            }
            // Recorded first, so that a device offline right now reports it on reconnect.
            d.SetVersion(task.module_key, task.version);
            Inform(d, task.version, task.module);
            Add(counters_.succeeded);
            counters_.last_success_ms.store(SteadyMs(), std::memory_order_relaxed);
            CheckTarget(d);
            break;
    }
    SyncInterest(d);
}

void Loop::Run() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        log::Error(std::string("devsim: epoll_create1: ") + std::strerror(errno));
        return;
    }
    Watch(events_.fd(), kEventsTag);
    Watch(wake_fd_, kWakeTag);
    for (size_t i = first_; i < last_; ++i) {
        Device& d = devices_[i];
        CheckTarget(d);
        SetLink(d, Link::kQueued);
        connect_queue_.push_back(d.index);
    }
    tokens_at_ms_ = SteadyMs();
    connect_tokens_ = 1;
    std::vector<epoll_event> ready(kMaxEpollEvents);
    int64_t next_sweep = SteadyMs() + kSweepPeriodMs;
    while (!stop_.load(std::memory_order_relaxed)) {
        int64_t now = SteadyMs();
        RunTimers(now);
        StartConnects(now);
        if (now >= next_sweep) {
            Sweep(now);
            next_sweep = now + kSweepPeriodMs;
        }
        now = SteadyMs();
        const int n =
            ::epoll_wait(epoll_fd_, ready.data(), kMaxEpollEvents, WaitMs(now, next_sweep));
        for (int i = 0; i < n; ++i) {
            const uint64_t tag = ready[static_cast<size_t>(i)].data.u64;
            if (tag == kEventsTag) {
                DrainDownloads();
            } else if (tag == kWakeTag) {
                uint64_t count = 0;
                [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof(count));
            } else if (tag >= first_ && tag < last_) {
                HandleIo(devices_[tag], ready[static_cast<size_t>(i)].events);
            }
        }
    }
    Shutdown();
}

void Loop::Shutdown() {
    stopping_ = true;
    // Producers blocked on a full queue must not wait for a loop that no longer drains it.
    events_.Close();
    for (size_t i = first_; i < last_; ++i) {
        Device& d = devices_[i];
        if (d.mosq == nullptr) {
            continue;
        }
        if (d.link == Link::kConnected) {
            // Outside a callback the DISCONNECT is written at once when the socket allows.
            mosquitto_disconnect(d.mosq);
        }
        SetLink(d, Link::kIdle);
        DropClient(d);
    }
}

void InitMosquitto() {
    static std::once_flag once;
    std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

std::string Summary::ToJson() const {
    nlohmann::ordered_json j;
    j["devices"] = devices;
    j["connected"] = connected;
    j["connected_ever"] = connected_ever;
    j["connect_failures"] = connect_failures;
    j["reconnects"] = reconnects;
    j["pushes"] = pushes;
    j["pushes_ignored"] = pushes_ignored;
    j["pushes_rejected"] = pushes_rejected;
    j["downloads"] = downloads;
    j["download_bytes"] = download_bytes;
    j["resumes"] = resumes;
    j["succeeded"] = succeeded;
    j["failed"] = failed;
    j["timeouts_injected"] = timeouts_injected;
    j["offline_injected"] = offline_injected;
    j["wrong_versions_injected"] = wrong_versions_injected;
    j["target_devices"] = target_devices;
    j["at_target"] = at_target;
    j["result"] = result;
    j["all_connected_ms"] = all_connected_ms;
    j["elapsed_ms"] = elapsed_ms;
    j["upgrades_per_second"] = std::round(upgrades_per_second * 100) / 100;
    return j.dump();
}

uint64_t FileDescriptorsNeeded(const Config& config, size_t devices) {
    // One MQTT socket per device (see CreateClientsWithoutWakePairs).
    constexpr uint64_t kPerDevice = 1;
    constexpr uint64_t kPerLoop = 4;
    constexpr uint64_t kReserve = 64;
    return devices * kPerDevice + static_cast<uint64_t>(config.download_threads) * 2 +
           static_cast<uint64_t>(config.loop_threads) * kPerLoop + kReserve;
}

uint64_t RaiseFileLimit(uint64_t wanted) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        return 0;
    }
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) {
        rlimit higher{wanted, wanted};
        if (::setrlimit(RLIMIT_NOFILE, &higher) == 0) {
            lim = higher;
        }
    }
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
    return lim.rlim_cur;
}

struct Simulator::Impl {
    Config config;
    std::vector<Device> devices;
    Counters counters;
    DownloadCounters downloads;
};

Simulator::Simulator(Config config, std::vector<DeviceSpec> specs) : impl_(new Impl) {
    impl_->config = std::move(config);
    impl_->devices.resize(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
        Device& d = impl_->devices[i];
        d.index = static_cast<uint32_t>(i);
        d.faults = DrawFaults(impl_->config.seed, i, impl_->config.faults);
        d.versions.push_back(ModuleVersion{"", specs[i].version});
        for (const ModuleVersion& m : impl_->config.modules) {
            d.versions.push_back(m);
        }
        d.spec = std::move(specs[i]);
    }
}

Simulator::~Simulator() = default;

Summary Simulator::Run() {
    InitMosquitto();
    Config& config = impl_->config;
    Counters& counters = impl_->counters;
    std::vector<Device>& devices = impl_->devices;
    const int64_t start = SteadyMs();
    // Before any thread of ours exists; see CreateClientsWithoutWakePairs.
    const size_t client_fds = CreateClientsWithoutWakePairs(devices);
    if (client_fds > 0) {
        log::Warn("devsim: the MQTT clients hold " + std::to_string(client_fds) +
                  " descriptors before connecting");
    }

    const size_t loops_n = std::max<size_t>(
        1, std::min<size_t>(static_cast<size_t>(config.loop_threads), devices.size()));
    config.loop_threads = static_cast<int>(loops_n);
    std::vector<std::unique_ptr<Loop>> loops;
    std::vector<EventQueue*> sinks;
    for (size_t i = 0; i < loops_n; ++i) {
        const size_t first = devices.size() * i / loops_n;
        const size_t last = devices.size() * (i + 1) / loops_n;
        loops.push_back(std::make_unique<Loop>(
            static_cast<uint32_t>(i), config, counters, devices, first, last));
        sinks.push_back(&loops.back()->events());
    }
    // At most one download per device and module is in flight, which bounds the job queue.
    const size_t job_capacity = devices.size() * (1 + config.modules.size());
    DownloadPool pool(static_cast<size_t>(config.download_threads),
                      job_capacity,
                      config.fetch,
                      sinks,
                      impl_->downloads);
    for (auto& loop : loops) {
        loop->SetPool(&pool);
    }

    uint64_t target_devices = 0;
    if (!config.until_version.empty()) {
        for (const Device& d : devices) {
            target_devices += d.faults.Designated() ? 0 : 1;
        }
    }

    std::vector<std::thread> threads;
    for (auto& loop : loops) {
        threads.emplace_back([&loop] { loop->Run(); });
    }

    Summary s;
    const int64_t duration_end = config.duration_s > 0 ? start + config.duration_s * 1000LL : 0;
    const int64_t deadline = config.max_seconds > 0 ? start + config.max_seconds * 1000LL : 0;
    int64_t next_stats = start + config.stats_interval_s * 1000LL;
    constexpr int64_t kPollMs = 50;
    while (true) {
        const int64_t now = SteadyMs();
        if (!config.until_version.empty() &&
            counters.at_target.load(std::memory_order_relaxed) >= target_devices) {
            s.result = "done";
            break;
        }
        if (stop_requested_.load(std::memory_order_relaxed)) {
            s.result = "interrupted";
            break;
        }
        if (deadline > 0 && now >= deadline) {
            s.result = "deadline";
            break;
        }
        if (duration_end > 0 && now >= duration_end) {
            s.result = "duration";
            break;
        }
        if (s.all_connected_ms < 0 && counters.connected.load(std::memory_order_relaxed) ==
                                          static_cast<int64_t>(devices.size())) {
            s.all_connected_ms = now - start;
        }
        if (now >= next_stats) {
            next_stats = now + config.stats_interval_s * 1000LL;
            std::string line = "devsim: t=" + std::to_string((now - start) / 1000) +
                               "s connected=" + std::to_string(counters.connected.load()) + "/" +
                               std::to_string(devices.size()) +
                               " pushes=" + std::to_string(counters.pushes.load()) +
                               " downloads=" + std::to_string(impl_->downloads.files.load()) +
                               " bytes=" + std::to_string(impl_->downloads.bytes.load()) +
                               " succeeded=" + std::to_string(counters.succeeded.load()) +
                               " failed=" + std::to_string(counters.failed.load());
            if (!config.until_version.empty()) {
                line += " at_target=" + std::to_string(counters.at_target.load()) + "/" +
                        std::to_string(target_devices);
            }
            log::Info(line);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
    }
    const int64_t end = SteadyMs();
    s.connected = static_cast<uint64_t>(std::max<int64_t>(0, counters.connected.load()));

    for (auto& loop : loops) {
        loop->Stop();
    }
    for (std::thread& t : threads) {
        t.join();
    }
    pool.Stop();

    s.devices = devices.size();
    s.connected_ever = counters.connected_ever.load();
    s.connect_failures = counters.connect_failures.load();
    s.reconnects = counters.reconnects.load();
    s.pushes = counters.pushes.load();
    s.pushes_ignored = counters.pushes_ignored.load();
    s.pushes_rejected = counters.pushes_rejected.load();
    s.downloads = impl_->downloads.files.load();
    s.download_bytes = impl_->downloads.bytes.load();
    s.resumes = impl_->downloads.resumes.load();
    s.succeeded = counters.succeeded.load();
    s.failed = counters.failed.load();
    s.timeouts_injected = counters.timeouts_injected.load();
    s.offline_injected = counters.offline_injected.load();
    s.wrong_versions_injected = counters.wrong_versions_injected.load();
    s.target_devices = target_devices;
    s.at_target = counters.at_target.load();
    s.elapsed_ms = end - start;
    const int64_t first_push = counters.first_push_ms.load();
    const int64_t last_success = counters.last_success_ms.load();
    if (s.succeeded > 0 && first_push >= 0 && last_success > first_push) {
        s.upgrades_per_second = static_cast<double>(s.succeeded) * 1000.0 /
                                static_cast<double>(last_success - first_push);
    }
    const bool waited = !config.until_version.empty();
    s.exit_code = waited && s.result != "done" ? 1 : 0;
    return s;
}

}  // namespace otad::devsim
