// Transactions: rollback, snapshots, durability and concurrency.

#include "store_conformance.hpp"

#include <atomic>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::conformance {
namespace {

using domain::Device;
using domain::Job;
using domain::Product;
using domain::ReadTx;
using domain::WriteTx;

constexpr const char* kPk = "a1ProductAA";

// Writes one of everything in scope a1; used by the rollback and durability tests.
Status WriteEverything(WriteTx& tx, const domain::Scope& scope) {
    OTA_TRY(tx.InsertProduct(scope, MakeProduct(kPk, "P")));
    Device device = MakeDevice(kPk, "iot-1", "dev-1");
    OTA_TRY(tx.InsertDevice(scope, device));
    OTA_TRY(tx.InsertFirmware(scope, MakeFirmware(kPk, "fw-1", "F")));
    Job job = MakeJob(kPk, "fw-1", "job-1", 5000);
    OTA_TRY(tx.InsertJob(scope, job));
    return tx.InsertTasks(scope, {MakeTask(job, device, "task-1", 6000)});
}

// Expects exactly what WriteEverything wrote, or (present == false) none of it.
Status CheckEverything(ReadTx& tx, const domain::Scope& scope, bool present) {
    OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, kPk));
    EXPECT_EQ(product.has_value(), present);
    if (present && product) {
        ExpectSameProduct(*product, MakeProduct(kPk, "P"));
    }
    OTA_ASSIGN_OR_RETURN(auto device, tx.FindDeviceByIotId(scope, "iot-1"));
    EXPECT_EQ(device.has_value(), present);
    OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, "fw-1"));
    EXPECT_EQ(firmware.has_value(), present);
    if (present && firmware) {
        ExpectSameFirmware(*firmware, MakeFirmware(kPk, "fw-1", "F"));
    }
    OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, "job-1"));
    EXPECT_EQ(job.has_value(), present);
    if (present && job) {
        ExpectSameJob(*job, MakeJob(kPk, "fw-1", "job-1", 5000));
    }
    OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(scope, "task-1"));
    EXPECT_EQ(task.has_value(), present);
    OTA_ASSIGN_OR_RETURN(int64_t products, tx.CountProducts(scope));
    EXPECT_EQ(products, present ? 1 : 0);
    OTA_ASSIGN_OR_RETURN(int64_t firmware_count, tx.CountFirmware(scope));
    EXPECT_EQ(firmware_count, present ? 1 : 0);
    OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByDevice(scope, "iot-1", "fw-1", 0, 10));
    EXPECT_EQ(page.total, present ? 1 : 0);
    return Ok();
}

TEST_P(StoreConformanceTest, WriteReturnsFnErrorAndLeavesNothingBehind) {
    Status status = store_->Write([&](WriteTx& tx) -> Status {
        OTA_TRY(WriteEverything(tx, a1_));
        // The transaction sees its own writes before it fails.
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, "task-1"));
        EXPECT_TRUE(task.has_value());
        return MakeError(ErrorCode::kNoDeviceToUpgrade);
    });
    OTA_EXPECT_CODE(status, ErrorCode::kNoDeviceToUpgrade);
    MustRead([&](ReadTx& tx) { return CheckEverything(tx, a1_, false); });
    // Child rows (tags, versions, files) are gone too: the same identifiers insert again.
    MustWrite([&](WriteTx& tx) { return WriteEverything(tx, a1_); });
    MustRead([&](ReadTx& tx) { return CheckEverything(tx, a1_, true); });
}

TEST_P(StoreConformanceTest, WriteRollsBackWhenAStatementFailsMidway) {
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(a1_, MakeProduct("a1Existing1", "P")); });
    Status status = store_->Write([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct("a1Fresh0001", "Fresh")));
        return tx.InsertProduct(a1_, MakeProduct("a1Fresh0002", "P"));
    });
    OTA_EXPECT_CODE(status, ErrorCode::kProductNameExists);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto fresh, tx.FindProduct(a1_, "a1Fresh0001"));
        EXPECT_FALSE(fresh.has_value());
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(a1_));
        EXPECT_EQ(count, 1);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ReadReturnsFnStatus) {
    OTA_EXPECT_CODE(store_->Read([](ReadTx&) { return MakeError(ErrorCode::kJobNotFound); }),
                    ErrorCode::kJobNotFound);
    OTA_EXPECT_OK(store_->Read([](ReadTx&) { return Ok(); }));
}

TEST_P(StoreConformanceTest, Pings) {
    OTA_EXPECT_OK(store_->Ping());
}

TEST_P(StoreConformanceTest, CommittedDataSurvivesReopening) {
    MustWrite([&](WriteTx& tx) { return WriteEverything(tx, a1_); });
    store_.reset();
    auto reopened = env_->Open();
    OTA_ASSERT_OK(reopened);
    store_ = std::move(reopened).value();
    MustRead([&](ReadTx& tx) -> Status {
        OTA_TRY(CheckEverything(tx, a1_, true));
        OTA_ASSIGN_OR_RETURN(auto account, tx.FindAccountByAccessKey("AKIDALICE"));
        EXPECT_TRUE(account.has_value());
        OTA_ASSIGN_OR_RETURN(auto instance, tx.FindDefaultInstance(account_a_.id));
        EXPECT_TRUE(instance.has_value());
        return Ok();
    });
}

// A Write that returned success survives the process being killed right after it: a child
// process commits and then dies by SIGKILL, without closing anything.
TEST_P(StoreConformanceTest, CommittedDataSurvivesKill) {
    store_.reset();  // the child opens its own store; nothing is shared across the fork
    domain::Scope scope = a1_;
    pid_t child = fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
        auto opened = env_->Open();
        if (!opened.ok()) {
            _exit(2);
        }
        Status written = (*opened)->Write([&](WriteTx& tx) { return WriteEverything(tx, scope); });
        if (!written.ok()) {
            _exit(3);
        }
        kill(getpid(), SIGKILL);
        _exit(4);  // not reached
    }
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status)) << "child exited with " << WEXITSTATUS(wait_status);
    EXPECT_EQ(WTERMSIG(wait_status), SIGKILL);

    auto reopened = env_->Open();
    OTA_ASSERT_OK(reopened);
    store_ = std::move(reopened).value();
    MustRead([&](ReadTx& tx) { return CheckEverything(tx, a1_, true); });
}

// A Read sees one snapshot: a Write that commits while it runs stays invisible to it.
TEST_P(StoreConformanceTest, ReadSeesASnapshot) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t before, tx.CountProducts(a1_));
        std::thread writer([&] {
            OTA_EXPECT_OK(store_->Write(
                [&](WriteTx& wtx) { return wtx.InsertProduct(a1_, MakeProduct(kPk, "P")); }));
        });
        writer.join();
        OTA_ASSIGN_OR_RETURN(int64_t after, tx.CountProducts(a1_));
        EXPECT_EQ(before, 0);
        EXPECT_EQ(after, 0);
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(a1_, kPk));
        EXPECT_FALSE(product.has_value());
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(a1_));
        EXPECT_EQ(count, 1);
        return Ok();
    });
}

// Readers on several threads run while a writer commits pairs of products; every read sees
// whole transactions (an even count) and never goes back in time.
TEST_P(StoreConformanceTest, ConcurrentReadersWhileWriting) {
    constexpr int kTransactions = 150;
    constexpr int kReaders = 6;  // more than a small pool, so some reads wait for a connection
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::atomic<int64_t> reads{0};

    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; ++r) {
        readers.emplace_back([&] {
            int64_t last = 0;
            while (!done.load()) {
                Status status = store_->Read([&](ReadTx& tx) -> Status {
                    OTA_ASSIGN_OR_RETURN(int64_t first, tx.CountProducts(a1_));
                    OTA_ASSIGN_OR_RETURN(int64_t second, tx.CountProducts(a1_));
                    if (first % 2 != 0 || first != second || first < last) {
                        failures.fetch_add(1);
                    }
                    last = first;
                    return Ok();
                });
                if (!status.ok() || !store_->Ping().ok()) {
                    failures.fetch_add(1);
                }
                reads.fetch_add(1);
            }
        });
    }
    std::thread writer([&] {
        for (int i = 0; i < kTransactions; ++i) {
            Status status = store_->Write([&](WriteTx& tx) -> Status {
                std::string n = std::to_string(i);
                OTA_TRY(tx.InsertProduct(a1_, MakeProduct("a1Even" + n, "even " + n)));
                return tx.InsertProduct(a1_, MakeProduct("a1Odd" + n, "odd " + n));
            });
            if (!status.ok()) {
                failures.fetch_add(1);
            }
        }
        done.store(true);
    });
    writer.join();
    for (std::thread& reader : readers) {
        reader.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GT(reads.load(), 0);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(a1_));
        EXPECT_EQ(count, 2 * kTransactions);
        return Ok();
    });
}

// Writes from several threads are serialized; none is lost.
TEST_P(StoreConformanceTest, ConcurrentWritersAreSerialized) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 25;
    std::atomic<int> failures{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                std::string n = std::to_string(t) + "-" + std::to_string(i);
                Status status = store_->Write([&](WriteTx& tx) -> Status {
                    OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(b1_));
                    OTA_TRY(tx.InsertProduct(b1_, MakeProduct("a1W" + n, "w " + n)));
                    OTA_ASSIGN_OR_RETURN(int64_t after, tx.CountProducts(b1_));
                    return after == count + 1 ? Ok() : InternalError("lost update");
                });
                if (!status.ok()) {
                    failures.fetch_add(1);
                }
            }
        });
    }
    for (std::thread& writer : writers) {
        writer.join();
    }
    EXPECT_EQ(failures.load(), 0);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(b1_));
        EXPECT_EQ(count, kThreads * kPerThread);
        return Ok();
    });
}

}  // namespace
}  // namespace otad::conformance
