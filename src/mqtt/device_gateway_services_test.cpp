#include "domain/testing/services_fixture.hpp"
#include "mqtt/device_gateway.hpp"
#include "mqtt/services_channel.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <string>
#include <vector>

// The gateway over real domain services and a SQLite store: device messages as they arrive
// from the broker, and the messages otad publishes in return.

namespace otad::mqtt {
namespace {

using domain::testing::kNow;
using Json = nlohmann::json;

struct Published {
    std::string topic;
    std::string payload;
};

class CapturingSink final : public PublishSink {
  public:
    Status Publish(const std::string& topic, const std::string& payload, int /*qos*/) override {
        std::lock_guard<std::mutex> lock(mu_);
        messages_.push_back({topic, payload});
        return Ok();
    }
    std::vector<Published> Take() {
        std::lock_guard<std::mutex> lock(mu_);
        return std::exchange(messages_, {});
    }

  private:
    std::mutex mu_;
    std::vector<Published> messages_;
};

class GatewayServicesTest : public domain::testing::ServicesFixture {
  protected:
    void SetUp() override {
        ServicesFixture::SetUp();
        pk_ = MakeProduct("meter");
        for (const char* dn : {"dev-01", "dev-02", "dev-03"}) {
            MakeDevice(pk_, dn);
        }
        fw_ = MakeFirmware(pk_, "fw1");
        channel_ = std::make_unique<ServicesDeviceChannel>(*services_);
        GatewayOptions options;
        // Pushes are asked for after every batch; the periodic round stays out of the way.
        options.push_interval = std::chrono::hours(1);
        gateway_ = std::make_unique<DeviceGateway>(*channel_, sink_, clock_, options);
        gateway_->Start();
    }
    void TearDown() override {
        gateway_.reset();
        channel_.reset();
        ServicesFixture::TearDown();
    }

    std::string Job(const std::vector<std::string>& names) {
        domain::CreateStaticJobCommand cmd;
        cmd.firmware_id = fw_;
        cmd.product_key = pk_;
        cmd.target_selection = "SPECIFIC";
        cmd.target_device_names = names;
        auto job = services_->CreateStaticJob(scope_, cmd);
        EXPECT_TRUE(job.ok());
        return job.ok() ? job->job_id : std::string();
    }
    // Feeds messages as the broker delivers them and waits until they are applied.
    std::vector<Published> Deliver(const std::vector<std::pair<std::string, std::string>>& in) {
        for (const auto& [topic, payload] : in) {
            gateway_->OnMessage(topic, payload);
        }
        gateway_->Flush();
        return sink_.Take();
    }
    std::string Status(const std::string& dn) { return "/as/mqtt/status/" + pk_ + "/" + dn; }
    std::string Online(const std::string& dn, int64_t at_ms) {
        return R"({"status":"online","productKey":")" + pk_ + R"(","deviceName":")" + dn +
               R"(","time":)" + std::to_string(at_ms) + R"(,"clientIp":"10.0.0.9"})";
    }
    std::string Ota(const std::string& kind, const std::string& dn) {
        return "/ota/device/" + kind + "/" + pk_ + "/" + dn;
    }
    std::string Get(const std::string& dn) {
        return "/sys/" + pk_ + "/" + dn + "/thing/ota/firmware/get";
    }
    std::string DeviceStatus(const std::string& dn) {
        auto d = services_->QueryDeviceDetail(scope_, {"", pk_, dn});
        EXPECT_TRUE(d.ok());
        return d.ok() ? d->device.status : std::string();
    }

    std::string pk_;
    std::string fw_;
    CapturingSink sink_;
    std::unique_ptr<ServicesDeviceChannel> channel_;
    std::unique_ptr<DeviceGateway> gateway_;
};

TEST_F(GatewayServicesTest, AnUpdateFromPushToSuccess) {
    gateway_->OnConnected();
    EXPECT_TRUE(Deliver({{Status("dev-01"), Online("dev-01", kNow - 5000)}}).empty());
    EXPECT_EQ(DeviceStatus("dev-01"), "ONLINE");

    const std::string job = Job({"dev-01", "dev-02"});
    // The next batch of events is followed by a round of due pushes: the online device gets
    // its update, the offline one does not.
    std::vector<Published> sent =
        Deliver({{Ota("inform", "dev-03"), R"({"id":1, "params":{"version":"1.0.0"}})"}});
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].topic, "/ota/device/upgrade/" + pk_ + "/dev-01");
    const Json push = Json::parse(sent[0].payload);
    EXPECT_EQ(push["code"], "1000");
    EXPECT_EQ(push["message"], "success");
    EXPECT_EQ(push["data"]["version"], "2.0.0");
    EXPECT_EQ(push["data"]["url"], "https://files.example.com/fw.bin");
    EXPECT_FALSE(push["data"].contains("module"));
    EXPECT_EQ(TaskOf(job, "dev-01").status, domain::TaskStatus::kNotified);

    // The device downloads, reports progress, then its new version.
    EXPECT_TRUE(
        Deliver({{Ota("progress", "dev-01"), R"({"id":3, "params":{"step":"0","desc":""}})"},
                 {Ota("progress", "dev-01"), R"({"id":4,"params":{"step":60}})"}})
            .empty());
    EXPECT_EQ(TaskOf(job, "dev-01").status, domain::TaskStatus::kInProgress);
    EXPECT_TRUE(
        Deliver({{Ota("inform", "dev-01"), R"({"id":"5","params":{"version":"2.0.0"}})"}}).empty());
    EXPECT_EQ(TaskOf(job, "dev-01").status, domain::TaskStatus::kSucceeded);

    const GatewayCounters c = gateway_->Counters();
    EXPECT_EQ(c.events_applied, 5);
    EXPECT_EQ(c.pushes_sent, 1);
}

TEST_F(GatewayServicesTest, PullsAreAnsweredWithThePendingUpdateOrNothing) {
    const std::string job = Job({"dev-02"});
    std::vector<Published> sent = Deliver({
        {Get("dev-02"), R"({"id":2, "params":{}})"},
        {Get("dev-03"),
         R"({"id":"7","version":"1.0","params":{},"method":"thing.ota.firmware.get"})"},
        {Ota("request", "dev-03"), R"({"id":"8","params":{"version":"1.0.0"}})"},
    });
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].topic, "/sys/" + pk_ + "/dev-02/thing/ota/firmware/get_reply");
    const Json reply = Json::parse(sent[0].payload);
    EXPECT_EQ(reply["id"], "2");
    EXPECT_EQ(reply["code"], 200);
    EXPECT_EQ(reply["data"]["version"], "2.0.0");
    EXPECT_EQ(reply["data"]["url"], "https://files.example.com/fw.bin");
    EXPECT_EQ(TaskOf(job, "dev-02").status, domain::TaskStatus::kNotified);
    // Nothing pending: an empty data object, and no answer at all to the legacy pull.
    EXPECT_EQ(sent[1].topic, "/sys/" + pk_ + "/dev-03/thing/ota/firmware/get_reply");
    EXPECT_EQ(sent[1].payload, R"({"id":"7","code":200,"data":{}})");

    // The legacy pull of a device with a pending update gets the push document back.
    Job({"dev-03"});
    sent = Deliver({{Ota("request", "dev-03"), R"({"id":"9","params":{"version":"1.0.0"}})"}});
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].topic, "/ota/device/request/" + pk_ + "/dev-03");
    EXPECT_EQ(Json::parse(sent[0].payload)["data"]["version"], "2.0.0");
}

TEST_F(GatewayServicesTest, AReconnectRelearnsWhoIsOnline) {
    gateway_->OnConnected();
    Deliver({{Status("dev-01"), Online("dev-01", kNow - 1000)},
             {Status("dev-02"), Online("dev-02", kNow - 1000)}});
    EXPECT_EQ(DeviceStatus("dev-01"), "ONLINE");
    EXPECT_EQ(DeviceStatus("dev-02"), "ONLINE");
    // dev-01 went away while otad was not connected: only dev-02's retained status is
    // replayed on the new connection.
    gateway_->OnDisconnected();
    gateway_->OnConnected();
    Deliver({{Status("dev-02"), Online("dev-02", kNow - 1000)}});
    EXPECT_EQ(DeviceStatus("dev-01"), "OFFLINE");
    EXPECT_EQ(DeviceStatus("dev-02"), "ONLINE");
    // The retained status is cleared when the device disconnects.
    Deliver({{Status("dev-02"), ""}});
    EXPECT_EQ(DeviceStatus("dev-02"), "OFFLINE");
}

TEST_F(GatewayServicesTest, UnknownDevicesAreIgnored) {
    const std::vector<Published> sent = Deliver({
        {"/ota/device/inform/" + pk_ + "/nobody", R"({"id":1,"params":{"version":"1"}})"},
        {"/sys/otherPK/dev-01/thing/ota/firmware/get", R"({"id":1,"params":{}})"},
    });
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(gateway_->Counters().events_ignored, 2);
    EXPECT_EQ(gateway_->Counters().events_applied, 0);
}

}  // namespace
}  // namespace otad::mqtt
