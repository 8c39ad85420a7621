#include "mqtt/device_gateway.hpp"

#include "mqtt/alink_codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// The gateway over a scripted domain: ordering of presence resets, batching, retries, pacing
// and shutdown, without storage.

namespace otad::mqtt {
namespace {

using domain::DeviceEvent;
using domain::DeviceEventKind;
using Json = nlohmann::json;

struct Published {
    std::string topic;
    std::string payload;
    int qos = 0;
};

class CapturingSink final : public PublishSink {
  public:
    Status Publish(const std::string& topic, const std::string& payload, int qos) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (fail_) {
            return MakeError(ErrorCode::kUnavailable, "down");
        }
        messages_.push_back({topic, payload, qos});
        return Ok();
    }
    std::vector<Published> Take() {
        std::lock_guard<std::mutex> lock(mu_);
        return std::exchange(messages_, {});
    }
    void SetFailing(bool fail) {
        std::lock_guard<std::mutex> lock(mu_);
        fail_ = fail;
    }

  private:
    std::mutex mu_;
    std::vector<Published> messages_;
    bool fail_ = false;
};

// Records what the gateway asked for, in order; answers pulls of device "ready" with a
// notice and queues one due push per "online" event of device "queued".
class ScriptedChannel final : public DeviceChannel {
  public:
    Result<domain::DeviceEventOutcome> ApplyDeviceEvents(
        const std::vector<DeviceEvent>& events) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (apply_failures_ > 0) {
            --apply_failures_;
            log_.push_back("fail:" + std::to_string(events.size()));
            return MakeError(failure_code_, "scripted failure");
        }
        batch_sizes_.push_back(events.size());
        domain::DeviceEventOutcome out;
        for (const DeviceEvent& e : events) {
            log_.push_back(Describe(e));
            if (e.device_name == "unknown") {
                ++out.ignored;
                continue;
            }
            ++out.applied;
            if (e.kind == DeviceEventKind::kPull) {
                domain::PullReply reply;
                reply.product_key = e.product_key;
                reply.device_name = e.device_name;
                reply.module_name = e.module_name;
                reply.style = e.pull_style;
                reply.request_id = e.request_id;
                if (e.device_name == "ready") {
                    reply.notice = Notice(e.device_name);
                }
                out.replies.push_back(reply);
            }
            if (e.kind == DeviceEventKind::kOnline && e.device_name == "queued") {
                due_.push_back(Notice(e.device_name));
            }
            if (e.kind == DeviceEventKind::kOnline && e.device_name == "notified") {
                out.pushes.push_back(Notice(e.device_name));
            }
        }
        return out;
    }
    Result<std::vector<domain::UpgradeNotice>> ReofferStaleTasks(int64_t /*stale_after_ms*/,
                                                                 int64_t /*limit*/) override {
        return std::vector<domain::UpgradeNotice>{};
    }
    Result<std::vector<domain::UpgradeNotice>> TakeDuePushes(int64_t limit) override {
        std::lock_guard<std::mutex> lock(mu_);
        ++takes_;
        std::vector<domain::UpgradeNotice> out;
        while (!due_.empty() && static_cast<int64_t>(out.size()) < limit) {
            out.push_back(due_.front());
            due_.erase(due_.begin());
        }
        return out;
    }
    Status ResetPresence() override {
        std::lock_guard<std::mutex> lock(mu_);
        log_.push_back("reset");
        return Ok();
    }
    Result<bool> HoldPresenceLease(std::string_view holder, int64_t /*term_ms*/) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (lease_unavailable_) {
            return MakeError(ErrorCode::kUnavailable, "database down");
        }
        if (lease_holder_.empty()) {
            lease_holder_ = std::string(holder);
            log_.push_back("lease:" + lease_holder_);
        }
        return lease_holder_ == holder;
    }
    Status ReleasePresenceLease(std::string_view holder) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (lease_holder_ == holder) {
            lease_holder_.clear();
            log_.push_back("released:" + std::string(holder));
        }
        return Ok();
    }
    void Note(std::string entry) {
        std::lock_guard<std::mutex> lock(mu_);
        log_.push_back(std::move(entry));
    }
    void SetLeaseHolder(const std::string& holder) {
        std::lock_guard<std::mutex> lock(mu_);
        lease_holder_ = holder;
    }
    void SetLeaseUnavailable(bool unavailable) {
        std::lock_guard<std::mutex> lock(mu_);
        lease_unavailable_ = unavailable;
    }

    static domain::UpgradeNotice Notice(const std::string& dn) {
        domain::UpgradeNotice n;
        n.product_key = "pk1";
        n.device_name = dn;
        n.module_name = "default";
        n.version = "2.0.0";
        n.files.push_back({"fw.bin", "http://h/fw/x/fw.bin?e=1&s=2", 10, "ab", "ab"});
        return n;
    }
    static std::string Describe(const DeviceEvent& e) {
        switch (e.kind) {
            case DeviceEventKind::kOnline:
                return "online:" + e.device_name;
            case DeviceEventKind::kOffline:
                return "offline:" + e.device_name;
            case DeviceEventKind::kVersion:
                return "version:" + e.device_name + "=" + e.version;
            case DeviceEventKind::kProgress:
                return "progress:" + e.device_name + "=" + std::to_string(e.step);
            case DeviceEventKind::kPull:
                return "pull:" + e.device_name;
        }
        return "?";
    }

    std::vector<std::string> Log() {
        std::lock_guard<std::mutex> lock(mu_);
        return log_;
    }
    std::vector<size_t> BatchSizes() {
        std::lock_guard<std::mutex> lock(mu_);
        return batch_sizes_;
    }
    void FailNextApplies(int n, ErrorCode code = ErrorCode::kInternal) {
        std::lock_guard<std::mutex> lock(mu_);
        apply_failures_ = n;
        failure_code_ = code;
    }
    void AddDue(int n) {
        std::lock_guard<std::mutex> lock(mu_);
        for (int i = 0; i < n; ++i) {
            due_.push_back(Notice("due" + std::to_string(i)));
        }
    }
    int Takes() {
        std::lock_guard<std::mutex> lock(mu_);
        return takes_;
    }

  private:
    std::mutex mu_;
    std::vector<std::string> log_;
    std::vector<size_t> batch_sizes_;
    std::vector<domain::UpgradeNotice> due_;
    int apply_failures_ = 0;
    ErrorCode failure_code_ = ErrorCode::kInternal;
    int takes_ = 0;
    std::string lease_holder_;
    bool lease_unavailable_ = false;
};

// Records the presence subscription's changes, in the channel's log so that their order
// against resets and events shows.
class RecordingPresence final : public PresenceSubscription {
  public:
    explicit RecordingPresence(std::function<void(std::string)> log) : log_(std::move(log)) {}
    Status SubscribePresence(bool on) override {
        log_(on ? "subscribe" : "unsubscribe");
        return Ok();
    }

  private:
    std::function<void(std::string)> log_;
};

std::string StatusTopic(const std::string& dn) {
    return "/as/mqtt/status/pk1/" + dn;
}
std::string OnlineBody(const std::string& dn) {
    return R"({"status":"online","productKey":"pk1","deviceName":")" + dn +
           R"(","time":1716193800000,"clientIp":"127.0.0.1"})";
}

class GatewayTest : public ::testing::Test {
  protected:
    GatewayOptions Options() {
        GatewayOptions o;
        // Long enough that periodic pushes never interfere; tests that want them say so.
        o.push_interval = std::chrono::hours(1);
        return o;
    }

    ManualClock clock_{1'716'193'800'000};
    ScriptedChannel channel_;
    CapturingSink sink_;
};

TEST_F(GatewayTest, PresenceIsResetBeforeTheStatusesOfANewConnection) {
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    gw.OnConnected();
    gw.OnMessage(StatusTopic("a"), OnlineBody("a"));
    gw.OnMessage(StatusTopic("b"), OnlineBody("b"));
    gw.OnDisconnected();
    gw.OnConnected();
    gw.OnMessage(StatusTopic("b"), OnlineBody("b"));
    gw.OnMessage(StatusTopic("a"), "");
    gw.Stop();
    EXPECT_EQ(channel_.Log(),
              (std::vector<std::string>{
                  "reset", "online:a", "online:b", "reset", "online:b", "offline:a"}));
    const GatewayCounters c = gw.Counters();
    EXPECT_EQ(c.connects, 2);
    EXPECT_EQ(c.reconnects, 1);
    EXPECT_EQ(c.events_applied, 4);
}

TEST_F(GatewayTest, PullsAreAnsweredOnTheirTopics) {
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    gw.OnMessage("/sys/pk1/ready/thing/ota/firmware/get", R"({"id":2, "params":{}})");
    gw.OnMessage("/sys/pk1/idle/thing/ota/firmware/get", R"({"id":"3","params":{}})");
    gw.OnMessage("/ota/device/request/pk1/ready", R"({"id":"4","params":{"version":"1"}})");
    gw.OnMessage("/ota/device/request/pk1/idle", R"({"id":"5","params":{"version":"1"}})");
    gw.Flush();
    const std::vector<Published> sent = sink_.Take();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0].topic, "/sys/pk1/ready/thing/ota/firmware/get_reply");
    EXPECT_EQ(sent[0].qos, 1);
    const Json reply = Json::parse(sent[0].payload);
    EXPECT_EQ(reply["id"], "2");
    EXPECT_EQ(reply["data"]["version"], "2.0.0");
    EXPECT_EQ(sent[1].topic, "/sys/pk1/idle/thing/ota/firmware/get_reply");
    EXPECT_EQ(sent[1].payload, R"({"id":"3","code":200,"data":{}})");
    // The legacy pull of a device with nothing pending gets no answer.
    EXPECT_EQ(sent[2].topic, "/ota/device/request/pk1/ready");
    EXPECT_EQ(Json::parse(sent[2].payload)["message"], "success");
    EXPECT_EQ(gw.Counters().replies_sent, 3);
    gw.Stop();
}

TEST_F(GatewayTest, PushesFromEventsAndDuePushesAreSentWithIncreasingIds) {
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    gw.OnConnected();
    gw.OnMessage(StatusTopic("notified"), OnlineBody("notified"));
    gw.OnMessage(StatusTopic("queued"), OnlineBody("queued"));
    gw.Flush();
    const std::vector<Published> sent = sink_.Take();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].topic, "/ota/device/upgrade/pk1/notified");
    EXPECT_EQ(sent[1].topic, "/ota/device/upgrade/pk1/queued");
    const int64_t id0 = Json::parse(sent[0].payload)["id"].get<int64_t>();
    const int64_t id1 = Json::parse(sent[1].payload)["id"].get<int64_t>();
    EXPECT_EQ(id0, clock_.NowMs());
    EXPECT_EQ(id1, id0 + 1);
    EXPECT_EQ(gw.Counters().pushes_sent, 2);
    gw.Stop();
}

TEST_F(GatewayTest, EventsAreAppliedInBoundedBatches) {
    GatewayOptions o = Options();
    o.max_batch_events = 10;
    o.max_queued_events = 1000;
    DeviceGateway gw(channel_, sink_, clock_, o);
    // Queue everything before the worker runs, so that batching is deterministic.
    for (int i = 0; i < 25; ++i) {
        gw.OnMessage("/ota/device/inform/pk1/d" + std::to_string(i),
                     R"({"id":1,"params":{"version":"1.0.)" + std::to_string(i) + "\"}}");
    }
    EXPECT_EQ(gw.Counters().events_queued, 0) << "nothing is accepted before Start";
    gw.Start();
    for (int i = 0; i < 25; ++i) {
        gw.OnMessage("/ota/device/inform/pk1/d" + std::to_string(i),
                     R"({"id":1,"params":{"version":"1.0.)" + std::to_string(i) + "\"}}");
    }
    gw.Stop();
    size_t total = 0;
    for (size_t n : channel_.BatchSizes()) {
        EXPECT_LE(n, 10u);
        total += n;
    }
    EXPECT_EQ(total, 25u);
    const std::vector<std::string> log = channel_.Log();
    ASSERT_EQ(log.size(), 25u);
    EXPECT_EQ(log.front(), "version:d0=1.0.0");
    EXPECT_EQ(log.back(), "version:d24=1.0.24");
    EXPECT_EQ(gw.Counters().events_applied, 25);
    EXPECT_GE(gw.Counters().queue_high_water, 1);
}

TEST_F(GatewayTest, UndecodableMessagesAreCountedAndIgnoredOnesReported) {
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    gw.OnMessage("/ota/device/progress/pk1/a", R"({"params":{"step":"500"}})");
    gw.OnMessage("/ota/device/inform/pk1/a", "garbage");
    gw.OnMessage("/ota/device/inform/pk1/unknown", R"({"params":{"version":"1"}})");
    gw.OnMessage("/ota/device/progress/pk1/a", R"({"params":{"step":"5"}})");
    gw.Stop();
    const GatewayCounters c = gw.Counters();
    EXPECT_EQ(c.events_rejected, 2);
    EXPECT_EQ(c.events_queued, 2);
    EXPECT_EQ(c.events_ignored, 1);
    EXPECT_EQ(c.events_applied, 1);
    EXPECT_EQ(channel_.Log(), (std::vector<std::string>{"version:unknown=1", "progress:a=5"}));
}

TEST_F(GatewayTest, AFailedBatchIsRetriedOnceThenDropped) {
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    channel_.FailNextApplies(1);
    gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
    gw.Flush();
    EXPECT_EQ(channel_.Log(), (std::vector<std::string>{"fail:1", "version:a=1"}));
    EXPECT_EQ(gw.Counters().events_applied, 1);

    channel_.FailNextApplies(2);
    gw.OnMessage("/ota/device/inform/pk1/b", R"({"params":{"version":"2"}})");
    gw.Flush();
    // The worker survives and goes on with the next events.
    gw.OnMessage("/ota/device/inform/pk1/c", R"({"params":{"version":"3"}})");
    gw.Stop();
    EXPECT_EQ(
        channel_.Log(),
        (std::vector<std::string>{"fail:1", "version:a=1", "fail:1", "fail:1", "version:c=3"}));
    const GatewayCounters c = gw.Counters();
    EXPECT_EQ(c.events_dropped, 1);
    EXPECT_EQ(c.storage_errors, 3);
    EXPECT_EQ(c.events_applied, 2);
}

TEST_F(GatewayTest, ABatchWaitsForAnUnavailableDatabase) {
    GatewayOptions o = Options();
    o.unavailable_retry_min = std::chrono::milliseconds(1);
    o.unavailable_retry_max = std::chrono::milliseconds(4);
    DeviceGateway gw(channel_, sink_, clock_, o);
    gw.Start();
    channel_.FailNextApplies(6, ErrorCode::kUnavailable);
    gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
    gw.Flush();
    gw.Stop();
    std::vector<std::string> expected(6, "fail:1");
    expected.push_back("version:a=1");
    EXPECT_EQ(channel_.Log(), expected);
    const GatewayCounters c = gw.Counters();
    EXPECT_EQ(c.events_dropped, 0);
    EXPECT_EQ(c.events_applied, 1);
    EXPECT_EQ(c.storage_errors, 6);
}

TEST_F(GatewayTest, StoppingGivesUpOnAnUnavailableDatabase) {
    GatewayOptions o = Options();
    o.unavailable_retry_min = std::chrono::milliseconds(1);
    o.unavailable_retry_max = std::chrono::milliseconds(2);
    DeviceGateway gw(channel_, sink_, clock_, o);
    gw.Start();
    channel_.FailNextApplies(1'000'000'000, ErrorCode::kUnavailable);
    gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
    gw.Stop();  // returns although the database never comes back
    const GatewayCounters c = gw.Counters();
    EXPECT_EQ(c.events_dropped, 1);
    EXPECT_EQ(c.events_applied, 0);
    EXPECT_GE(c.storage_errors, 2);
}

TEST_F(GatewayTest, DuePushesAreTakenPeriodicallyAndUntilTheBacklogIsShort) {
    GatewayOptions o = Options();
    o.push_interval = std::chrono::milliseconds(1);
    o.max_pushes_per_take = 4;
    o.max_takes_per_round = 2;
    channel_.AddDue(10);
    DeviceGateway gw(channel_, sink_, clock_, o);
    gw.Start();
    gw.OnConnected();
    // Wait (bounded) for the periodic rounds to send all ten.
    for (int i = 0; i < 2000 && gw.Counters().pushes_sent < 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    gw.Stop();
    EXPECT_EQ(gw.Counters().pushes_sent, 10);
    EXPECT_EQ(sink_.Take().size(), 10u);
    EXPECT_GE(channel_.Takes(), 3);
}

TEST_F(GatewayTest, NoPacedPushesWithoutAFreshConnection) {
    channel_.AddDue(3);
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    auto inform = [&] {
        gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
        gw.Flush();
    };
    // Before any connection, and after one is lost, stored presence is stale.
    inform();
    EXPECT_EQ(channel_.Takes(), 0);
    gw.OnConnected();
    inform();
    const int takes = channel_.Takes();
    EXPECT_GE(takes, 1);
    EXPECT_EQ(gw.Counters().pushes_sent, 3);
    gw.OnDisconnected();
    inform();
    EXPECT_EQ(channel_.Takes(), takes);
    gw.OnConnected();
    inform();
    EXPECT_GT(channel_.Takes(), takes);
    gw.Stop();
}

TEST_F(GatewayTest, PublishFailuresAreCounted) {
    sink_.SetFailing(true);
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    gw.OnMessage("/sys/pk1/ready/thing/ota/firmware/get", R"({"id":2})");
    gw.Stop();
    EXPECT_EQ(gw.Counters().publish_failures, 1);
    EXPECT_EQ(gw.Counters().replies_sent, 0);
}

TEST_F(GatewayTest, AFullQueueHoldsTheProducerUntilTheWorkerCatchesUp) {
    GatewayOptions o = Options();
    o.max_queued_events = 2;
    o.max_batch_events = 1;
    DeviceGateway gw(channel_, sink_, clock_, o);
    gw.Start();
    for (int i = 0; i < 50; ++i) {
        gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
    }
    gw.Stop();
    const GatewayCounters c = gw.Counters();
    EXPECT_EQ(c.events_applied, 50);
    EXPECT_EQ(c.events_dropped, 0);
    EXPECT_LE(c.queue_high_water, 2);
}

TEST_F(GatewayTest, MessagesAfterStopAreDropped) {
    DeviceGateway gw(channel_, sink_, clock_, Options());
    gw.Start();
    gw.Stop();
    gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
    gw.OnConnected();
    gw.Flush();
    EXPECT_EQ(gw.Counters().events_dropped, 1);
    EXPECT_TRUE(channel_.Log().empty());
    gw.Stop();
}

class LeaseGatewayTest : public GatewayTest {
  protected:
    GatewayOptions LeaseOptions() {
        GatewayOptions o = Options();
        o.presence_lease = true;
        o.lease_holder = "me";
        o.lease_term = std::chrono::milliseconds(200);
        o.lease_renew_interval = std::chrono::milliseconds(5);
        return o;
    }
    // Waits (bounded) until the gateway follows presence or not.
    static bool WaitFollowing(const DeviceGateway& gw, bool following) {
        for (int i = 0; i < 4000 && gw.Counters().following_presence != following; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return gw.Counters().following_presence == following;
    }

    RecordingPresence presence_{[this](std::string entry) { channel_.Note(std::move(entry)); }};
};

TEST_F(LeaseGatewayTest, OnlyTheLeaseHolderFollowsPresence) {
    channel_.SetLeaseHolder("other");
    DeviceGateway gw(channel_, sink_, clock_, LeaseOptions(), &presence_);
    gw.Start();
    gw.OnConnected();
    gw.OnMessage(StatusTopic("a"), OnlineBody("a"));
    gw.OnMessage("/ota/device/inform/pk1/a", R"({"params":{"version":"1"}})");
    gw.Flush();
    // Not the holder: no reset, no subscription, and presence that still arrives is left to
    // the holder; device reports are applied.
    EXPECT_FALSE(gw.Counters().following_presence);
    EXPECT_EQ(channel_.Log(), (std::vector<std::string>{"version:a=1"}));

    channel_.SetLeaseHolder("");  // the other node gave it up
    ASSERT_TRUE(WaitFollowing(gw, true));
    gw.Flush();
    gw.OnMessage(StatusTopic("b"), OnlineBody("b"));
    gw.Flush();
    // A new connection starts presence again.
    gw.OnDisconnected();
    gw.OnConnected();
    gw.OnMessage(StatusTopic("b"), OnlineBody("b"));
    gw.Stop();
    EXPECT_EQ(channel_.Log(),
              (std::vector<std::string>{"version:a=1",
                                        "lease:me",
                                        "reset",
                                        "subscribe",
                                        "online:b",
                                        "reset",
                                        "subscribe",
                                        "online:b",
                                        "released:me"}));
    EXPECT_FALSE(gw.Counters().following_presence);
}

TEST_F(LeaseGatewayTest, ALostLeaseStopsFollowing) {
    DeviceGateway gw(channel_, sink_, clock_, LeaseOptions(), &presence_);
    gw.Start();
    gw.OnConnected();
    ASSERT_TRUE(WaitFollowing(gw, true));
    channel_.SetLeaseHolder("other");  // taken over (this node's term ran out)
    ASSERT_TRUE(WaitFollowing(gw, false));
    gw.OnMessage(StatusTopic("a"), OnlineBody("a"));
    gw.Stop();
    EXPECT_EQ(channel_.Log(),
              (std::vector<std::string>{"lease:me", "reset", "subscribe", "unsubscribe"}));
}

TEST_F(LeaseGatewayTest, AFollowerThatCannotRenewStopsBeforeItsTermEnds) {
    DeviceGateway gw(channel_, sink_, clock_, LeaseOptions(), &presence_);
    gw.Start();
    gw.OnConnected();
    ASSERT_TRUE(WaitFollowing(gw, true));
    channel_.SetLeaseUnavailable(true);
    ASSERT_TRUE(WaitFollowing(gw, false));
    channel_.SetLeaseUnavailable(false);
    // The lease is still this node's in the database: it is renewed and followed again.
    ASSERT_TRUE(WaitFollowing(gw, true));
    gw.Stop();
    EXPECT_EQ(
        channel_.Log(),
        (std::vector<std::string>{
            "lease:me", "reset", "subscribe", "unsubscribe", "reset", "subscribe", "released:me"}));
}

}  // namespace
}  // namespace otad::mqtt
