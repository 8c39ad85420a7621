// Accounts, instances, products, devices, firmware, and tenant isolation.

#include "store_conformance.hpp"

#include <string>
#include <tuple>
#include <vector>

namespace otad::conformance {
namespace {

using domain::Account;
using domain::Device;
using domain::Firmware;
using domain::Instance;
using domain::Product;
using domain::ReadTx;
using domain::Scope;
using domain::WriteTx;

TEST_P(StoreConformanceTest, FindsAccountsByAccessKeyAndName) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto by_key, tx.FindAccountByAccessKey("AKIDBOB"));
        EXPECT_TRUE(by_key.has_value());
        if (by_key) {
            ExpectSameAccount(*by_key, account_b_);
            EXPECT_FALSE(by_key->enabled);
        }
        OTA_ASSIGN_OR_RETURN(auto by_name, tx.FindAccountByName("alice"));
        EXPECT_TRUE(by_name.has_value());
        if (by_name) {
            ExpectSameAccount(*by_name, account_a_);
        }
        OTA_ASSIGN_OR_RETURN(auto missing_key, tx.FindAccountByAccessKey("AKIDNOBODY"));
        EXPECT_FALSE(missing_key.has_value());
        OTA_ASSIGN_OR_RETURN(auto missing_name, tx.FindAccountByName("AKIDALICE"));
        EXPECT_FALSE(missing_name.has_value());
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ListsAccountsById) {
    EXPECT_NE(account_a_.id, 0);
    EXPECT_LT(account_a_.id, account_b_.id);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertAccount(Account{.id = 0,
                                         .name = "carol",
                                         .access_key_id = "AKIDCAROL",
                                         .access_key_secret = "sc",
                                         .enabled = true,
                                         .created_ms = 3000}));
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto accounts, tx.ListAccounts());
        EXPECT_EQ(accounts.size(), 3u);
        if (accounts.size() == 3) {
            ExpectSameAccount(accounts[0], account_a_);
            ExpectSameAccount(accounts[1], account_b_);
            EXPECT_EQ(accounts[2].name, "carol");
            EXPECT_GT(accounts[2].id, account_b_.id);
        }
        return Ok();
    });
}

TEST_P(StoreConformanceTest, RefusesDuplicateAccountNameOrAccessKey) {
    auto insert = [&](const std::string& name, const std::string& key) {
        return store_->Write([&](WriteTx& tx) -> Status {
            OTA_TRY(tx.InsertAccount(Account{.id = 0,
                                             .name = name,
                                             .access_key_id = key,
                                             .access_key_secret = "x",
                                             .enabled = true,
                                             .created_ms = 1}));
            return Ok();
        });
    };
    OTA_EXPECT_CODE(insert("alice", "AKIDOTHER"), ErrorCode::kInternal);
    OTA_EXPECT_CODE(insert("other", "AKIDBOB"), ErrorCode::kInternal);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto accounts, tx.ListAccounts());
        EXPECT_EQ(accounts.size(), 2u);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, FindsInstancesOnlyOfTheirAccount) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto default_a, tx.FindDefaultInstance(account_a_.id));
        EXPECT_TRUE(default_a.has_value());
        if (default_a) {
            ExpectSameInstance(*default_a, instance_a1_);
        }
        OTA_ASSIGN_OR_RETURN(auto default_b, tx.FindDefaultInstance(account_b_.id));
        EXPECT_TRUE(default_b.has_value());
        if (default_b) {
            ExpectSameInstance(*default_b, instance_b1_);
        }
        OTA_ASSIGN_OR_RETURN(auto second, tx.FindInstance(account_a_.id, "iot-a-second"));
        EXPECT_TRUE(second.has_value());
        if (second) {
            ExpectSameInstance(*second, instance_a2_);
            EXPECT_FALSE(second->is_default);
        }
        OTA_ASSIGN_OR_RETURN(auto foreign, tx.FindInstance(account_b_.id, "iot-a-second"));
        EXPECT_FALSE(foreign.has_value());
        OTA_ASSIGN_OR_RETURN(auto unknown, tx.FindInstance(account_a_.id, "iot-none"));
        EXPECT_FALSE(unknown.has_value());
        OTA_ASSIGN_OR_RETURN(auto no_account, tx.FindDefaultInstance(account_b_.id + 100));
        EXPECT_FALSE(no_account.has_value());
        return Ok();
    });
}

TEST_P(StoreConformanceTest, RefusesDuplicateInstanceIdAndSecondDefault) {
    auto insert = [&](int64_t account_id, const std::string& instance_id, bool is_default) {
        return store_->Write([&](WriteTx& tx) -> Status {
            OTA_TRY(tx.InsertInstance(Instance{.id = 0,
                                               .account_id = account_id,
                                               .instance_id = instance_id,
                                               .is_default = is_default,
                                               .created_ms = 1}));
            return Ok();
        });
    };
    OTA_EXPECT_CODE(insert(account_b_.id, "iot-a-second", false), ErrorCode::kInternal);
    OTA_EXPECT_CODE(insert(account_a_.id, "iot-a-third", true), ErrorCode::kInternal);
    OTA_EXPECT_OK(insert(account_a_.id, "iot-a-third", false));
}

TEST_P(StoreConformanceTest, ProductRoundTripsEveryField) {
    Product product = MakeProduct("a1ProductAA", "Lamp product");
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(a1_, product); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindProduct(a1_, "a1ProductAA"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameProduct(*found, product);
        }
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindProduct(a1_, "a1ProductZZ"));
        EXPECT_FALSE(missing.has_value());
        OTA_ASSIGN_OR_RETURN(bool exists, tx.ProductNameExists(a1_, "Lamp product"));
        EXPECT_TRUE(exists);
        OTA_ASSIGN_OR_RETURN(bool other, tx.ProductNameExists(a1_, "lamp product"));
        EXPECT_FALSE(other);
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(a1_));
        EXPECT_EQ(count, 1);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ProductDefaultsRoundTrip) {
    Product product;
    product.product_key = "a1Defaults1";
    product.product_name = "Defaults";
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(a1_, product); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindProduct(a1_, "a1Defaults1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameProduct(*found, product);
        }
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ProductNameIsUniquePerInstance) {
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(a1_, MakeProduct("a1Product01", "P")); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.InsertProduct(a1_, MakeProduct("a1Product02", "P"));
    }),
                    ErrorCode::kProductNameExists);
    // The same name in another instance of the account, and in another account, is fine.
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(a2_, MakeProduct("a1Product03", "P")); });
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(b1_, MakeProduct("a1Product04", "P")); });
    // A taken ProductKey is not a name conflict.
    auto taken_key = store_->Write([&](WriteTx& tx) {
        return tx.InsertProduct(b1_, MakeProduct("a1Product01", "Another name"));
    });
    ASSERT_FALSE(taken_key.ok());
    EXPECT_NE(taken_key.error().code, ErrorCode::kProductNameExists);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t a1, tx.CountProducts(a1_));
        OTA_ASSIGN_OR_RETURN(int64_t a2, tx.CountProducts(a2_));
        OTA_ASSIGN_OR_RETURN(int64_t b1, tx.CountProducts(b1_));
        EXPECT_EQ(a1, 1);
        EXPECT_EQ(a2, 1);
        EXPECT_EQ(b1, 1);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, DeviceRoundTripsEveryField) {
    Device device = MakeDevice("a1ProductAA", "iot-0001", "dev-1");
    SeedCatalog(
        a1_, MakeProduct("a1ProductAA", "P"), {device}, MakeFirmware("a1ProductAA", "fw-1", "F"));
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto by_name, tx.FindDevice(a1_, "a1ProductAA", "dev-1"));
        EXPECT_TRUE(by_name.has_value());
        if (by_name) {
            ExpectSameDevice(*by_name, device);
        }
        OTA_ASSIGN_OR_RETURN(auto by_id, tx.FindDeviceByIotId(a1_, "iot-0001"));
        EXPECT_TRUE(by_id.has_value());
        if (by_id) {
            ExpectSameDevice(*by_id, device);
        }
        OTA_ASSIGN_OR_RETURN(auto wrong_product, tx.FindDevice(a1_, "a1ProductBB", "dev-1"));
        EXPECT_FALSE(wrong_product.has_value());
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindDeviceByIotId(a1_, "iot-9999"));
        EXPECT_FALSE(missing.has_value());
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ResolvesProductDeviceAndPackageInOneRead) {
    SeedCatalog(a1_,
                MakeProduct("a1ProductAA", "P"),
                {MakeDevice("a1ProductAA", "iot-0001", "dev-1")},
                MakeFirmware("a1ProductAA", "fw-1", "F"));
    auto resolve = [&](const Scope& scope,
                       const std::string& pk,
                       const std::string& dn,
                       const std::string& fw) {
        ReadTx::DevicePackageRefs refs;
        MustRead([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(refs, tx.ResolveDevicePackage(scope, pk, dn, fw));
            return Ok();
        });
        return std::make_tuple(refs.product_exists, refs.iot_id, refs.firmware_exists);
    };
    EXPECT_EQ(resolve(a1_, "a1ProductAA", "dev-1", "fw-1"),
              std::make_tuple(true, "iot-0001", true));
    EXPECT_EQ(resolve(a1_, "a1ProductAA", "dev-2", "fw-1"), std::make_tuple(true, "", true));
    EXPECT_EQ(resolve(a1_, "a1ProductAA", "dev-1", "fw-2"),
              std::make_tuple(true, "iot-0001", false));
    EXPECT_EQ(resolve(a1_, "a1ProductBB", "dev-1", "fw-1"), std::make_tuple(false, "", true));
    // Another scope sees none of them.
    EXPECT_EQ(resolve(a2_, "a1ProductAA", "dev-1", "fw-1"), std::make_tuple(false, "", false));
    EXPECT_EQ(resolve(b1_, "a1ProductAA", "dev-1", "fw-1"), std::make_tuple(false, "", false));
}

TEST_P(StoreConformanceTest, DeviceNameIsUniquePerProduct) {
    SeedCatalog(a1_,
                MakeProduct("a1ProductAA", "P"),
                {MakeDevice("a1ProductAA", "iot-0001", "dev-1")},
                MakeFirmware("a1ProductAA", "fw-1", "F"));
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(a1_, MakeProduct("a1ProductBB", "Q")); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.InsertDevice(a1_, MakeDevice("a1ProductAA", "iot-0002", "dev-1"));
    }),
                    ErrorCode::kDeviceNameExists);
    // Same name in another product is fine.
    MustWrite([&](WriteTx& tx) {
        return tx.InsertDevice(a1_, MakeDevice("a1ProductBB", "iot-0003", "dev-1"));
    });
    // A taken IotId is not a name conflict.
    auto taken_id = store_->Write([&](WriteTx& tx) {
        return tx.InsertDevice(a1_, MakeDevice("a1ProductAA", "iot-0001", "dev-other"));
    });
    ASSERT_FALSE(taken_id.ok());
    EXPECT_NE(taken_id.error().code, ErrorCode::kDeviceNameExists);
}

TEST_P(StoreConformanceTest, CountsAndStreamsDevicesInIotIdOrder) {
    std::vector<Device> devices = {
        MakeDevice("a1ProductAA", "iot-c", "dev-c"),
        MakeDevice("a1ProductAA", "iot-a", "dev-a"),
        MakeDevice("a1ProductAA", "iot-b", "dev-b"),
    };
    SeedCatalog(
        a1_, MakeProduct("a1ProductAA", "P"), devices, MakeFirmware("a1ProductAA", "fw-1", "F"));
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct("a1ProductBB", "Q")));
        return tx.InsertDevice(a1_, MakeDevice("a1ProductBB", "iot-0", "dev-other-product"));
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountDevices(a1_, "a1ProductAA"));
        EXPECT_EQ(count, 3);
        OTA_ASSIGN_OR_RETURN(int64_t none, tx.CountDevices(a1_, "a1ProductZZ"));
        EXPECT_EQ(none, 0);
        std::vector<std::string> seen;
        OTA_TRY(tx.ForEachDevice(a1_, "a1ProductAA", [&](const Device& device) -> Status {
            seen.push_back(device.iot_id);
            if (device.iot_id == "iot-b") {
                ExpectSameDevice(device, devices[2]);
            }
            return Ok();
        }));
        EXPECT_EQ(seen, (std::vector<std::string>{"iot-a", "iot-b", "iot-c"}));
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ForEachDeviceStopsAtTheFirstFailure) {
    SeedCatalog(a1_,
                MakeProduct("a1ProductAA", "P"),
                {MakeDevice("a1ProductAA", "iot-a", "dev-a"),
                 MakeDevice("a1ProductAA", "iot-b", "dev-b"),
                 MakeDevice("a1ProductAA", "iot-c", "dev-c")},
                MakeFirmware("a1ProductAA", "fw-1", "F"));
    int calls = 0;
    Status status = store_->Read([&](ReadTx& tx) {
        return tx.ForEachDevice(a1_, "a1ProductAA", [&](const Device&) -> Status {
            ++calls;
            if (calls == 2) {
                return MakeError(ErrorCode::kNoDeviceToUpgrade);
            }
            return Ok();
        });
    });
    OTA_EXPECT_CODE(status, ErrorCode::kNoDeviceToUpgrade);
    EXPECT_EQ(calls, 2);
}

TEST_P(StoreConformanceTest, ForEachDeviceAllowsQueriesAndWritesFromTheCallback) {
    SeedCatalog(
        a1_,
        MakeProduct("a1ProductAA", "P"),
        {MakeDevice("a1ProductAA", "iot-a", "dev-a"), MakeDevice("a1ProductAA", "iot-b", "dev-b")},
        MakeFirmware("a1ProductAA", "fw-1", "F"));
    domain::Job job = MakeJob("a1ProductAA", "fw-1", "job-1", 5000);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        int n = 0;
        return tx.ForEachDevice(a1_, "a1ProductAA", [&](const Device& device) -> Status {
            // Same kind of query while the outer one is still being stepped.
            int inner = 0;
            OTA_TRY(tx.ForEachDevice(a1_, "a1ProductAA", [&](const Device&) -> Status {
                ++inner;
                return Ok();
            }));
            EXPECT_EQ(inner, 2);
            OTA_ASSIGN_OR_RETURN(auto again, tx.FindDeviceByIotId(a1_, device.iot_id));
            EXPECT_TRUE(again.has_value());
            return tx.InsertTasks(a1_, {MakeTask(job, device, "task-" + std::to_string(n++), 1)});
        });
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByDevice(a1_, "iot-b", "fw-1", 0, 10));
        EXPECT_EQ(page.total, 1);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, FirmwareRoundTripsEveryField) {
    Firmware multi = MakeFirmware("a1ProductAA", "fw-multi", "Multi");
    Firmware single = MakeFirmware("a1ProductAA", "fw-single", "Single");
    single.multi_files.clear();
    single.sign_method = domain::SignMethod::kMd5;
    single.status = domain::FirmwareStatus::kNoVerificationNeeded;
    single.src_version.clear();
    single.type = 0;
    SeedCatalog(a1_, MakeProduct("a1ProductAA", "P"), {}, multi);
    MustWrite([&](WriteTx& tx) { return tx.InsertFirmware(a1_, single); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found_multi, tx.FindFirmware(a1_, "fw-multi"));
        EXPECT_TRUE(found_multi.has_value());
        if (found_multi) {
            ExpectSameFirmware(*found_multi, multi);
        }
        OTA_ASSIGN_OR_RETURN(auto found_single, tx.FindFirmware(a1_, "fw-single"));
        EXPECT_TRUE(found_single.has_value());
        if (found_single) {
            ExpectSameFirmware(*found_single, single);
        }
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindFirmware(a1_, "fw-none"));
        EXPECT_FALSE(missing.has_value());
        OTA_ASSIGN_OR_RETURN(bool exists, tx.FirmwareNameExists(a1_, "Multi"));
        EXPECT_TRUE(exists);
        OTA_ASSIGN_OR_RETURN(bool absent, tx.FirmwareNameExists(a1_, "Nope"));
        EXPECT_FALSE(absent);
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountFirmware(a1_));
        EXPECT_EQ(count, 2);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, FirmwareNameIsUniquePerInstance) {
    SeedCatalog(a1_, MakeProduct("a1ProductAA", "P"), {}, MakeFirmware("a1ProductAA", "fw-1", "F"));
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.InsertFirmware(a1_, MakeFirmware("a1ProductAA", "fw-2", "F"));
    }),
                    ErrorCode::kFirmwareNameExists);
    SeedCatalog(a2_, MakeProduct("a1ProductA2", "P"), {}, MakeFirmware("a1ProductA2", "fw-3", "F"));
    auto taken_id = store_->Write([&](WriteTx& tx) {
        return tx.InsertFirmware(a1_, MakeFirmware("a1ProductAA", "fw-1", "Other name"));
    });
    ASSERT_FALSE(taken_id.ok());
    EXPECT_NE(taken_id.error().code, ErrorCode::kFirmwareNameExists);
}

TEST_P(StoreConformanceTest, UpdatesFirmwareStatus) {
    Firmware firmware = MakeFirmware("a1ProductAA", "fw-1", "F");
    SeedCatalog(a1_, MakeProduct("a1ProductAA", "P"), {}, firmware);
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateFirmwareStatus(a1_, "fw-1", domain::FirmwareStatus::kVerified, 100, 99999);
    });
    // Unknown firmware, and firmware of another tenant, are not updated.
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.UpdateFirmwareStatus(
                             a1_, "fw-none", domain::FirmwareStatus::kVerified, 1, 1);
                     })
                     .ok());
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.UpdateFirmwareStatus(
                             b1_, "fw-1", domain::FirmwareStatus::kVerifyFailed, 1, 1);
                     })
                     .ok());
    firmware.status = domain::FirmwareStatus::kVerified;
    firmware.verify_progress = 100;
    firmware.modified_ms = 99999;
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindFirmware(a1_, "fw-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameFirmware(*found, firmware);
        }
        return Ok();
    });
}

// Everything tenant A owns is invisible from account B, from A's other instance, and from a
// scope that pairs B's account with A's instance.
TEST_P(StoreConformanceTest, TenantsNeverSeeEachOther) {
    domain::Job job = MakeJob("a1ProductAA", "fw-1", "job-1", 5000);
    Device device = MakeDevice("a1ProductAA", "iot-1", "dev-1");
    SeedCatalog(a1_,
                MakeProduct("a1ProductAA", "Shared"),
                {device},
                MakeFirmware("a1ProductAA", "fw-1", "F"));
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        return tx.InsertTasks(a1_, {MakeTask(job, device, "task-1", 6000)});
    });
    // Sanity: visible in its own scope.
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, "task-1"));
        EXPECT_TRUE(task.has_value());
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 0, 10));
        EXPECT_EQ(page.total, 1);
        return Ok();
    });

    Scope forged{account_b_.id, instance_a1_.id};
    for (const Scope& other : {a2_, b1_, forged}) {
        SCOPED_TRACE("scope " + std::to_string(other.account_id) + "/" +
                     std::to_string(other.instance_id));
        MustRead([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(other, "a1ProductAA"));
            EXPECT_FALSE(product.has_value());
            OTA_ASSIGN_OR_RETURN(bool name, tx.ProductNameExists(other, "Shared"));
            EXPECT_FALSE(name);
            OTA_ASSIGN_OR_RETURN(int64_t products, tx.CountProducts(other));
            EXPECT_EQ(products, 0);
            OTA_ASSIGN_OR_RETURN(auto by_name, tx.FindDevice(other, "a1ProductAA", "dev-1"));
            EXPECT_FALSE(by_name.has_value());
            OTA_ASSIGN_OR_RETURN(auto by_id, tx.FindDeviceByIotId(other, "iot-1"));
            EXPECT_FALSE(by_id.has_value());
            OTA_ASSIGN_OR_RETURN(int64_t devices, tx.CountDevices(other, "a1ProductAA"));
            EXPECT_EQ(devices, 0);
            int streamed = 0;
            OTA_TRY(tx.ForEachDevice(other, "a1ProductAA", [&](const Device&) -> Status {
                ++streamed;
                return Ok();
            }));
            EXPECT_EQ(streamed, 0);
            OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(other, "fw-1"));
            EXPECT_FALSE(firmware.has_value());
            OTA_ASSIGN_OR_RETURN(bool fw_name, tx.FirmwareNameExists(other, "F"));
            EXPECT_FALSE(fw_name);
            OTA_ASSIGN_OR_RETURN(int64_t firmware_count, tx.CountFirmware(other));
            EXPECT_EQ(firmware_count, 0);
            OTA_ASSIGN_OR_RETURN(auto found_job, tx.FindJob(other, "job-1"));
            EXPECT_FALSE(found_job.has_value());
            OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByDevice(other, "iot-1", "fw-1", 0, 10));
            EXPECT_EQ(page.total, 0);
            EXPECT_TRUE(page.items.empty());
            OTA_ASSIGN_OR_RETURN(auto unfinished, tx.ListUnfinishedTasksOfDevice(other, "iot-1"));
            EXPECT_TRUE(unfinished.empty());
            OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(other, "task-1"));
            EXPECT_FALSE(task.has_value());
            return Ok();
        });
        // Nor can another scope change A's rows.
        EXPECT_FALSE(store_
                         ->Write([&](WriteTx& tx) {
                             return tx.UpdateTaskStatus(
                                 other, "task-1", domain::TaskStatus::kCanceled, "x", 1);
                         })
                         .ok());
        EXPECT_FALSE(store_
                         ->Write([&](WriteTx& tx) {
                             return tx.UpdateFirmwareStatus(
                                 other, "fw-1", domain::FirmwareStatus::kVerifyFailed, 0, 1);
                         })
                         .ok());
        EXPECT_FALSE(store_
                         ->Write([&](WriteTx& tx) {
                             return tx.UpdateJobStatus(
                                 other, "job-1", domain::JobStatus::kCanceled, 0, 0, 1);
                         })
                         .ok());
    }
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, "task-1"));
        EXPECT_TRUE(task.has_value());
        if (task) {
            EXPECT_EQ(task->status, domain::TaskStatus::kNotified);
        }
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(a1_, "fw-1"));
        EXPECT_TRUE(firmware.has_value());
        if (firmware) {
            EXPECT_EQ(firmware->status, domain::FirmwareStatus::kVerifying);
        }
        OTA_ASSIGN_OR_RETURN(auto found_job, tx.FindJob(a1_, "job-1"));
        EXPECT_TRUE(found_job.has_value());
        if (found_job) {
            ExpectSameJob(*found_job, job);
        }
        return Ok();
    });
}

// A scope whose instance belongs to another account is refused for writes.
TEST_P(StoreConformanceTest, RefusesWritesThroughAMismatchedScope) {
    Scope forged{account_b_.id, instance_a1_.id};
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.InsertProduct(forged, MakeProduct("a1Forged001", "Forged"));
                     })
                     .ok());
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t a1, tx.CountProducts(a1_));
        OTA_ASSIGN_OR_RETURN(int64_t b1, tx.CountProducts(b1_));
        EXPECT_EQ(a1 + b1, 0);
        return Ok();
    });
}

// A device, firmware or job cannot point at a product of another tenant.
TEST_P(StoreConformanceTest, RefusesReferencesToAnotherTenantsProduct) {
    MustWrite([&](WriteTx& tx) { return tx.InsertProduct(b1_, MakeProduct("a1ProductBB", "B")); });
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.InsertDevice(a1_, MakeDevice("a1ProductBB", "iot-x", "dev-x"));
                     })
                     .ok());
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.InsertFirmware(a1_, MakeFirmware("a1ProductBB", "fw-x", "X"));
                     })
                     .ok());
}

}  // namespace
}  // namespace otad::conformance
