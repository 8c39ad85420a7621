// ForEachBatchCandidate: the devices a large static batch considers, with their versions and
// unfinished-task flags, read in one pass.

#include "store_conformance.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace otad::conformance {
namespace {

using domain::Device;
using domain::Job;
using domain::ModuleVersion;
using domain::ReadTx;
using domain::Task;
using domain::TaskStatus;
using domain::WriteTx;

using Candidate = ReadTx::BatchCandidate;

constexpr const char* kPk = "a1ProductAA";
constexpr const char* kPk2 = "a1ProductBB";
constexpr int kDevices = 20;

std::string Num(int i) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d", i);
    return buf;
}

// Device i has iot_id "iot-<i>" and a name whose order differs from the iot_id order.
std::string NameOf(int i) {
    return "dev-" + Num((i * 7) % kDevices);
}

Device DeviceRef(const std::string& iot_id, const std::string& name) {
    Device d;
    d.iot_id = iot_id;
    d.product_key = kPk;
    d.device_name = name;
    return d;
}

class BatchCandidatesTest : public StoreConformanceTest {
  protected:
    void SetUp() override {
        StoreConformanceTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        // Inserted out of iot_id order, so that the order of the answer is the store's doing.
        std::vector<Device> devices;
        for (int k = 0; k < kDevices; ++k) {
            const int i = (k * 3) % kDevices;
            Device d = MakeDevice(kPk, "iot-" + Num(i), NameOf(i));
            d.firmware_version = "v" + std::to_string(i % 3);
            devices.push_back(d);
        }
        devices_ = devices;
        SeedCatalog(a1_, MakeProduct(kPk, "P"), devices, MakeFirmware(kPk, "fw-1", "F1"));
        job_ = MakeJob(kPk, "fw-1", "job-1", 5000);
        MustWrite([&](WriteTx& tx) -> Status {
            OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "P2")));
            OTA_TRY(tx.InsertDevice(a1_, MakeDevice(kPk2, "iot-p2", "dev-p2")));
            OTA_TRY(tx.UpsertModuleVersion(
                a1_, ModuleVersion{"iot-03", kPk, NameOf(3), "wifi", "w1", 10}));
            OTA_TRY(tx.UpsertModuleVersion(
                a1_, ModuleVersion{"iot-04", kPk, NameOf(4), "WIFI", "w2", 10}));
            OTA_TRY(tx.InsertJob(a1_, job_));
            // Unfinished: iot-02 (QUEUED), iot-07 (IN_PROGRESS), iot-11 (CONFIRM),
            // iot-12 (NOTIFIED); finished: iot-05, iot-09; iot-p2 is of the other product.
            std::vector<Task> tasks;
            const std::pair<int, TaskStatus> states[] = {{2, TaskStatus::kQueued},
                                                         {5, TaskStatus::kSucceeded},
                                                         {7, TaskStatus::kInProgress},
                                                         {9, TaskStatus::kCanceled},
                                                         {11, TaskStatus::kConfirm},
                                                         {12, TaskStatus::kNotified}};
            for (const auto& [i, status] : states) {
                Task t =
                    MakeTask(job_, DeviceRef("iot-" + Num(i), NameOf(i)), "task-" + Num(i), 5000);
                t.status = status;
                tasks.push_back(t);
            }
            return tx.InsertTasks(a1_, tasks);
        });
    }

    std::vector<Candidate> Collect(const domain::Scope& scope,
                                   const std::string& module,
                                   const std::vector<std::string>* names) {
        std::vector<Candidate> out;
        MustRead([&](ReadTx& tx) -> Status {
            return tx.ForEachBatchCandidate(scope, kPk, module, names, [&](const Candidate& c) {
                out.push_back(c);
                return Ok();
            });
        });
        return out;
    }

    static std::vector<std::string> IotIds(const std::vector<Candidate>& cs) {
        std::vector<std::string> ids;
        for (const Candidate& c : cs) {
            ids.push_back(c.iot_id);
        }
        return ids;
    }

    std::vector<Device> devices_;
    Job job_;
};

TEST_P(BatchCandidatesTest, EveryDeviceOfTheProductInIotIdOrder) {
    const std::vector<Candidate> cs = Collect(a1_, "default", nullptr);
    ASSERT_EQ(cs.size(), static_cast<size_t>(kDevices));
    for (int i = 0; i < kDevices; ++i) {
        const Candidate& c = cs[static_cast<size_t>(i)];
        EXPECT_EQ(c.iot_id, "iot-" + Num(i));
        EXPECT_EQ(c.product_key, kPk);
        EXPECT_EQ(c.device_name, NameOf(i));
        EXPECT_EQ(c.current_version, "v" + std::to_string(i % 3)) << c.iot_id;
        const bool unfinished = i == 2 || i == 7 || i == 11 || i == 12;
        EXPECT_EQ(c.has_unfinished_task, unfinished) << c.iot_id;
    }
}

TEST_P(BatchCandidatesTest, ModuleVersionsMatchTheExactModuleName) {
    const std::vector<Candidate> cs = Collect(a1_, "wifi", nullptr);
    ASSERT_EQ(cs.size(), static_cast<size_t>(kDevices));
    for (const Candidate& c : cs) {
        EXPECT_EQ(c.current_version, c.iot_id == "iot-03" ? "w1" : "") << c.iot_id;
    }
}

TEST_P(BatchCandidatesTest, ManyNamesFilterTheProductAndSkipUnknownOnes) {
    // Most of the product: the store walks the product and checks each name.
    std::vector<std::string> names = {"dev-zz", "nobody"};
    std::vector<std::string> expected;
    for (int i = 0; i < kDevices; ++i) {
        if (i % 4 != 0) {
            names.push_back(NameOf(i));
            expected.push_back("iot-" + Num(i));
        }
    }
    names.push_back("dev-p2");  // a device of the other product
    std::sort(names.begin(), names.end());
    const std::vector<Candidate> cs = Collect(a1_, "default", &names);
    EXPECT_EQ(IotIds(cs), expected);
    for (const Candidate& c : cs) {
        EXPECT_EQ(c.has_unfinished_task,
                  c.iot_id == "iot-02" || c.iot_id == "iot-07" || c.iot_id == "iot-11")
            << c.iot_id;
    }
}

TEST_P(BatchCandidatesTest, FewNamesAreLookedUpOneByOneAndStillComeInIotIdOrder) {
    std::vector<std::string> names = {NameOf(12), NameOf(3), "missing"};
    std::sort(names.begin(), names.end());
    const std::vector<Candidate> cs = Collect(a1_, "wifi", &names);
    ASSERT_EQ(IotIds(cs), (std::vector<std::string>{"iot-03", "iot-12"}));
    EXPECT_EQ(cs[0].current_version, "w1");
    EXPECT_FALSE(cs[0].has_unfinished_task);
    EXPECT_EQ(cs[1].current_version, "");
    EXPECT_TRUE(cs[1].has_unfinished_task);
    EXPECT_EQ(cs[1].device_name, NameOf(12));
}

TEST_P(BatchCandidatesTest, OtherScopesSeeNothing) {
    EXPECT_TRUE(Collect(a2_, "default", nullptr).empty());
    EXPECT_TRUE(Collect(b1_, "default", nullptr).empty());
    const std::vector<std::string> names = {NameOf(1)};
    EXPECT_TRUE(Collect(a2_, "default", &names).empty());
}

TEST_P(BatchCandidatesTest, TheCallbackMayWriteTasksOfDevicesAlreadyPassed) {
    const Job job2 = MakeJob(kPk, "fw-1", "job-2", 6000);
    std::vector<Candidate> seen;
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job2));
        return tx.ForEachBatchCandidate(
            a1_, kPk, "default", nullptr, [&](const Candidate& c) -> Status {
                seen.push_back(c);
                // An unfinished task of the new batch for this device, and the cancellation of
                // its older unfinished one.
                Task t = MakeTask(
                    job2, DeviceRef(c.iot_id, c.device_name), "task-new-" + c.iot_id, 6000);
                t.status = TaskStatus::kQueued;
                OTA_TRY(tx.InsertTasks(a1_, {t}));
                if (c.has_unfinished_task) {
                    OTA_TRY(tx.UpdateTaskStatus(
                        a1_, "task-" + c.iot_id.substr(4), TaskStatus::kCanceled, "x", 6000));
                }
                return Ok();
            });
    });
    ASSERT_EQ(seen.size(), static_cast<size_t>(kDevices));
    for (int i = 0; i < kDevices; ++i) {
        const Candidate& c = seen[static_cast<size_t>(i)];
        EXPECT_EQ(c.iot_id, "iot-" + Num(i));
        const bool unfinished = i == 2 || i == 7 || i == 11 || i == 12;
        EXPECT_EQ(c.has_unfinished_task, unfinished) << c.iot_id;
    }
    // Afterwards every device has exactly the new batch's task unfinished.
    for (const Candidate& c : Collect(a1_, "default", nullptr)) {
        EXPECT_TRUE(c.has_unfinished_task) << c.iot_id;
    }
}

TEST_P(BatchCandidatesTest, StopsAtTheFirstFailureOfTheCallback) {
    int calls = 0;
    const Status st = store_->Read([&](ReadTx& tx) -> Status {
        return tx.ForEachBatchCandidate(a1_, kPk, "default", nullptr, [&](const Candidate&) {
            return ++calls == 3 ? Status(MakeError(ErrorCode::kJobNotFound)) : Ok();
        });
    });
    OTA_EXPECT_CODE(st, ErrorCode::kJobNotFound);
    EXPECT_EQ(calls, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends,
                         BatchCandidatesTest,
                         ::testing::ValuesIn(AllBackends()),
                         BackendName);

}  // namespace
}  // namespace otad::conformance
