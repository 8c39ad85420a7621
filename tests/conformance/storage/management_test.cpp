// The catalog half of the complete management API: product, device and firmware lists, updates
// and cascading deletes; modules and module versions; device groups; batch registrations and
// stored files.

#include "store_conformance.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace otad::conformance {
namespace {

using domain::BatchRegistration;
using domain::Device;
using domain::Firmware;
using domain::Group;
using domain::GroupType;
using domain::Job;
using domain::Module;
using domain::ModuleVersion;
using domain::Product;
using domain::ReadTx;
using domain::Scope;
using domain::StoredFile;
using domain::Task;
using domain::WriteTx;

template <typename T, typename Key>
std::vector<std::string> Keys(const std::vector<T>& items, Key key) {
    std::vector<std::string> keys;
    for (const T& item : items) {
        keys.push_back(key(item));
    }
    return keys;
}

std::vector<std::string> ProductKeys(const std::vector<Product>& items) {
    return Keys(items, [](const Product& p) { return p.product_key; });
}
std::vector<std::string> IotIds(const std::vector<Device>& items) {
    return Keys(items, [](const Device& d) { return d.iot_id; });
}
std::vector<std::string> FirmwareIds(const std::vector<Firmware>& items) {
    return Keys(items, [](const Firmware& f) { return f.firmware_id; });
}
std::vector<std::string> GroupIds(const std::vector<Group>& items) {
    return Keys(items, [](const Group& g) { return g.group_id; });
}

Module MakeModule(const std::string& product_key, const std::string& name, int64_t created_ms) {
    return Module{.product_key = product_key,
                  .module_name = name,
                  .alias_name = "alias of " + name,
                  .desc = "desc of " + name,
                  .created_ms = created_ms,
                  .modified_ms = created_ms + 7};
}

ModuleVersion MakeVersion(const Device& device, const std::string& module, const std::string& v) {
    return ModuleVersion{.iot_id = device.iot_id,
                         .product_key = device.product_key,
                         .device_name = device.device_name,
                         .module_name = module,
                         .version = v,
                         .modified_ms = 4242};
}

Group MakeGroup(const std::string& group_id,
                const std::string& name,
                GroupType type,
                const std::string& parent,
                int64_t created_ms) {
    return Group{.group_id = group_id,
                 .group_name = name,
                 .group_desc = "desc " + name,
                 .group_type = type,
                 .dynamic_expression = type == GroupType::kDynamic ? "productKey = \"x\"" : "",
                 .super_group_id = parent,
                 .created_ms = created_ms};
}

StoredFile MakeFile(const std::string& object_key) {
    return StoredFile{.object_key = object_key,
                      .kind = domain::FileKind::kDeviceList,
                      .size = 6'000'000'000,
                      .md5 = "0123456789abcdef0123456789abcdef",
                      .sha256 = "sha-" + object_key,
                      .created_ms = 1000,
                      .upload_deadline_ms = 2000,
                      .uploaded_ms = 1500,
                      .referenced = true};
}

constexpr const char* kPk = "a1ProductAA";
constexpr const char* kPk2 = "a1ProductBB";

// ---- Products --------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, ListProductsOldestFirstWithDeviceCounts) {
    // (key, created_ms, devices): a tie on created_ms broken by product_key.
    struct Row {
        std::string key;
        int64_t created_ms;
        int devices;
    };
    const std::vector<Row> rows = {
        {"pk-c", 300, 1}, {"pk-b", 100, 0}, {"pk-a", 100, 3}, {"pk-d", 50, 2}};
    MustWrite([&](WriteTx& tx) -> Status {
        for (const Row& row : rows) {
            Product product = MakeProduct(row.key, "name-" + row.key);
            product.created_ms = row.created_ms;
            OTA_TRY(tx.InsertProduct(a1_, product));
            for (int i = 0; i < row.devices; ++i) {
                std::string id = row.key + "-dev-" + std::to_string(i);
                OTA_TRY(tx.InsertDevice(a1_, MakeDevice(row.key, id, id)));
            }
        }
        return tx.InsertProduct(b1_, MakeProduct("pk-other", "other"));
    });
    MustRead([&](ReadTx& tx) -> Status {
        std::vector<int64_t> counts = {99};
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListProducts(a1_, 0, 10, counts));
        EXPECT_EQ(all.total, 4);
        EXPECT_EQ(ProductKeys(all.items),
                  (std::vector<std::string>{"pk-d", "pk-a", "pk-b", "pk-c"}));
        EXPECT_EQ(counts, (std::vector<int64_t>{2, 3, 0, 1}));
        for (const Product& product : all.items) {
            Product expected = MakeProduct(product.product_key, "name-" + product.product_key);
            expected.created_ms = product.created_ms;
            ExpectSameProduct(product, expected);
        }
        OTA_ASSIGN_OR_RETURN(auto second, tx.ListProducts(a1_, 2, 1, counts));
        EXPECT_EQ(second.total, 4);
        EXPECT_EQ(ProductKeys(second.items), (std::vector<std::string>{"pk-b"}));
        EXPECT_EQ(counts, (std::vector<int64_t>{0}));
        OTA_ASSIGN_OR_RETURN(auto past, tx.ListProducts(a1_, 4, 10, counts));
        EXPECT_EQ(past.total, 4);
        EXPECT_TRUE(past.items.empty());
        EXPECT_TRUE(counts.empty());
        OTA_ASSIGN_OR_RETURN(auto other, tx.ListProducts(a2_, 0, 10, counts));
        EXPECT_EQ(other.total, 0);
        EXPECT_TRUE(other.items.empty());
        OTA_ASSIGN_OR_RETURN(auto b, tx.ListProducts(b1_, 0, 10, counts));
        EXPECT_EQ(ProductKeys(b.items), (std::vector<std::string>{"pk-other"}));
        EXPECT_EQ(counts, (std::vector<int64_t>{0}));
        return Ok();
    });
}

TEST_P(StoreConformanceTest, UpdateProductSetsNameAndDescriptionOnly) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "First")));
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "Second")));
        return tx.InsertProduct(b1_, MakeProduct("b1Product01", "Elsewhere"));
    });
    Product update = MakeProduct(kPk, "Renamed");
    update.description = "new description";
    update.product_secret = "must not change";
    update.node_type = 0;
    update.created_ms = 1;
    MustWrite([&](WriteTx& tx) { return tx.UpdateProduct(a1_, update); });
    // Keeping its own name is no clash; a name used in another scope is free.
    MustWrite([&](WriteTx& tx) { return tx.UpdateProduct(a1_, update); });
    Product elsewhere = update;
    elsewhere.product_name = "Elsewhere";
    MustWrite([&](WriteTx& tx) { return tx.UpdateProduct(a1_, elsewhere); });
    Product clash = update;
    clash.product_name = "Second";
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateProduct(a1_, clash); }),
                    ErrorCode::kProductNameExists);
    Product missing = MakeProduct("a1NoSuch001", "Nope");
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateProduct(a1_, missing); }),
                    ErrorCode::kProductNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateProduct(b1_, update); }),
                    ErrorCode::kProductNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindProduct(a1_, kPk));
        EXPECT_TRUE(found.has_value());
        if (found) {
            Product expected = MakeProduct(kPk, "Elsewhere");
            expected.description = "new description";
            ExpectSameProduct(*found, expected);
        }
        OTA_ASSIGN_OR_RETURN(bool old_name, tx.ProductNameExists(a1_, "First"));
        EXPECT_FALSE(old_name);
        return Ok();
    });
}

// Everything of one product, and of a second product in the same scope that must survive.
class CascadeTest : public StoreConformanceTest {
  protected:
    void SetUp() override {
        StoreConformanceTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        MustWrite([&](WriteTx& tx) -> Status {
            for (const char* pk : {kPk, kPk2}) {
                std::string p(pk);
                OTA_TRY(tx.InsertProduct(a1_, MakeProduct(p, "name-" + p)));
                Device device = MakeDevice(p, "iot-" + p, "dev");
                OTA_TRY(tx.InsertDevice(a1_, device));
                OTA_TRY(tx.InsertFirmware(a1_, MakeFirmware(p, "fw-" + p, "F-" + p)));
                Job job = MakeJob(p, "fw-" + p, "job-" + p, 5000);
                OTA_TRY(tx.InsertJob(a1_, job));
                OTA_TRY(tx.InsertTasks(a1_, {MakeTask(job, device, "task-" + p, 6000)}));
                OTA_TRY(tx.InsertModule(a1_, MakeModule(p, "mcu", 1)));
                OTA_TRY(tx.UpsertModuleVersion(a1_, MakeVersion(device, "mcu", "1.0")));
                BatchRegistration r;
                r.product_key = p;
                OTA_ASSIGN_OR_RETURN(r.apply_id, tx.NextApplyId());
                apply_ids_.push_back(r.apply_id);
                OTA_TRY(tx.InsertBatchRegistration(a1_, r));
            }
            OTA_TRY(tx.InsertGroup(a1_, MakeGroup("g-1", "G", GroupType::kStatic, "", 1)));
            OTA_TRY(tx.AddGroupMember(a1_, "g-1", std::string("iot-") + kPk));
            OTA_TRY(tx.AddGroupMember(a1_, "g-1", std::string("iot-") + kPk2));
            return Ok();
        });
    }

    // Expects the rows of product `p` to be all present or all absent.
    Status ExpectProductRows(ReadTx& tx, const std::string& p, bool present, int64_t apply_id) {
        SCOPED_TRACE("product " + p);
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(a1_, p));
        EXPECT_EQ(product.has_value(), present);
        OTA_ASSIGN_OR_RETURN(auto device, tx.FindDeviceByIotId(a1_, "iot-" + p));
        EXPECT_EQ(device.has_value(), present);
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(a1_, "fw-" + p));
        EXPECT_EQ(firmware.has_value(), present);
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(a1_, "job-" + p));
        EXPECT_EQ(job.has_value(), present);
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, "task-" + p));
        EXPECT_EQ(task.has_value(), present);
        OTA_ASSIGN_OR_RETURN(auto modules, tx.ListModules(a1_, p));
        EXPECT_EQ(modules.size(), present ? 1u : 0u);
        OTA_ASSIGN_OR_RETURN(auto versions, tx.ListModuleVersions(a1_, "iot-" + p, 0, 10));
        EXPECT_EQ(versions.total, present ? 1 : 0);
        OTA_ASSIGN_OR_RETURN(bool member, tx.IsGroupMember(a1_, "g-1", "iot-" + p));
        EXPECT_EQ(member, present);
        OTA_ASSIGN_OR_RETURN(auto registration, tx.FindBatchRegistration(a1_, p, apply_id));
        EXPECT_EQ(registration.has_value(), present);
        return Ok();
    }

    std::vector<int64_t> apply_ids_;
};

TEST_P(CascadeTest, DeleteProductRemovesEverythingOfTheProduct) {
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteProduct(b1_, kPk); }),
                    ErrorCode::kProductNotFound);
    OTA_EXPECT_CODE(
        store_->Write([&](WriteTx& tx) { return tx.DeleteProduct(a1_, "a1NoSuch001"); }),
        ErrorCode::kProductNotFound);
    MustWrite([&](WriteTx& tx) { return tx.DeleteProduct(a1_, kPk); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_TRY(ExpectProductRows(tx, kPk, false, apply_ids_[0]));
        OTA_TRY(ExpectProductRows(tx, kPk2, true, apply_ids_[1]));
        OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(a1_, "g-1"));
        EXPECT_TRUE(group.has_value());
        OTA_ASSIGN_OR_RETURN(int64_t members, tx.CountGroupMembers(a1_, "g-1"));
        EXPECT_EQ(members, 1);
        OTA_ASSIGN_OR_RETURN(int64_t products, tx.CountProducts(a1_));
        EXPECT_EQ(products, 1);
        return Ok();
    });
    // The key and the names are free again.
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, std::string("name-") + kPk)));
        return tx.InsertFirmware(a1_, MakeFirmware(kPk, "fw-again", std::string("F-") + kPk));
    });
}

TEST_P(CascadeTest, DeleteDeviceRemovesVersionsAndMembershipsButKeepsTasks) {
    const std::string iot_id = std::string("iot-") + kPk;
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteDevice(b1_, iot_id); }),
                    ErrorCode::kDeviceNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteDevice(a1_, "iot-none"); }),
                    ErrorCode::kDeviceNotFound);
    MustWrite([&](WriteTx& tx) { return tx.DeleteDevice(a1_, iot_id); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto device, tx.FindDeviceByIotId(a1_, iot_id));
        EXPECT_FALSE(device.has_value());
        OTA_ASSIGN_OR_RETURN(auto versions, tx.ListModuleVersions(a1_, iot_id, 0, 10));
        EXPECT_EQ(versions.total, 0);
        OTA_ASSIGN_OR_RETURN(int64_t groups, tx.CountGroupsOfDevice(a1_, iot_id));
        EXPECT_EQ(groups, 0);
        OTA_ASSIGN_OR_RETURN(int64_t members, tx.CountGroupMembers(a1_, "g-1"));
        EXPECT_EQ(members, 1);
        // History stays.
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, std::string("task-") + kPk));
        EXPECT_TRUE(task.has_value());
        OTA_ASSIGN_OR_RETURN(auto modules, tx.ListModules(a1_, kPk));
        EXPECT_EQ(modules.size(), 1u);
        OTA_TRY(ExpectProductRows(tx, kPk2, true, apply_ids_[1]));
        return Ok();
    });
    // The name can be registered again.
    MustWrite([&](WriteTx& tx) { return tx.InsertDevice(a1_, MakeDevice(kPk, "iot-new", "dev")); });
}

TEST_P(CascadeTest, DeleteFirmwareRemovesItsJobsAndTasks) {
    const std::string firmware_id = std::string("fw-") + kPk;
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteFirmware(b1_, firmware_id); }),
                    ErrorCode::kFirmwareNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteFirmware(a1_, "fw-none"); }),
                    ErrorCode::kFirmwareNotFound);
    MustWrite([&](WriteTx& tx) { return tx.DeleteFirmware(a1_, firmware_id); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(a1_, firmware_id));
        EXPECT_FALSE(firmware.has_value());
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(a1_, std::string("job-") + kPk));
        EXPECT_FALSE(job.has_value());
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, std::string("task-") + kPk));
        EXPECT_FALSE(task.has_value());
        OTA_ASSIGN_OR_RETURN(auto jobs, tx.ListJobsByFirmware(a1_, firmware_id, 0, 10));
        EXPECT_EQ(jobs.total, 0);
        // The rest of the product stays.
        OTA_ASSIGN_OR_RETURN(auto device, tx.FindDeviceByIotId(a1_, std::string("iot-") + kPk));
        EXPECT_TRUE(device.has_value());
        OTA_TRY(ExpectProductRows(tx, kPk2, true, apply_ids_[1]));
        return Ok();
    });
    // The name is free again and the new package has no files of the old one.
    Firmware again = MakeFirmware(kPk, firmware_id, std::string("F-") + kPk);
    again.multi_files.clear();
    MustWrite([&](WriteTx& tx) { return tx.InsertFirmware(a1_, again); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(a1_, firmware_id));
        EXPECT_TRUE(firmware.has_value());
        if (firmware) {
            ExpectSameFirmware(*firmware, again);
        }
        return Ok();
    });
}

INSTANTIATE_TEST_SUITE_P(Backends, CascadeTest, ::testing::ValuesIn(AllBackends()), BackendName);

// ---- Devices ---------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, ListDevicesOldestFirstPages) {
    // (iot_id, created_ms), with ties.
    const std::vector<std::pair<std::string, int64_t>> rows = {
        {"iot-m", 20}, {"iot-z", 10}, {"iot-b", 20}, {"iot-a", 30}, {"iot-c", 20}};
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "P")));
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "P2")));
        for (const auto& [iot_id, created_ms] : rows) {
            Device device = MakeDevice(kPk, iot_id, "name-" + iot_id);
            device.created_ms = created_ms;
            OTA_TRY(tx.InsertDevice(a1_, device));
        }
        return tx.InsertDevice(a1_, MakeDevice(kPk2, "iot-other", "other"));
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListDevices(a1_, kPk, 0, 100));
        EXPECT_EQ(all.total, 5);
        EXPECT_EQ(IotIds(all.items),
                  (std::vector<std::string>{"iot-z", "iot-b", "iot-c", "iot-m", "iot-a"}));
        for (const Device& device : all.items) {
            Device expected = MakeDevice(kPk, device.iot_id, "name-" + device.iot_id);
            expected.created_ms = device.created_ms;
            ExpectSameDevice(device, expected);
        }
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListDevices(a1_, kPk, 1, 2));
        EXPECT_EQ(page.total, 5);
        EXPECT_EQ(IotIds(page.items), (std::vector<std::string>{"iot-b", "iot-c"}));
        OTA_ASSIGN_OR_RETURN(auto none, tx.ListDevices(a1_, kPk, 0, 0));
        EXPECT_EQ(none.total, 5);
        EXPECT_TRUE(none.items.empty());
        OTA_ASSIGN_OR_RETURN(auto other, tx.ListDevices(b1_, kPk, 0, 100));
        EXPECT_EQ(other.total, 0);
        EXPECT_TRUE(other.items.empty());
        return Ok();
    });
}

TEST_P(StoreConformanceTest, UpdateDeviceSetsTheMutableFields) {
    Device device = MakeDevice(kPk, "iot-1", "dev-1");
    SeedCatalog(a1_, MakeProduct(kPk, "P"), {device}, MakeFirmware(kPk, "fw-1", "F"));
    Device update = device;
    update.nickname = "new nick";
    update.status = "OFFLINE";
    update.firmware_version = "9.9.9";
    update.ip_address = "192.168.0.1";
    update.modified_ms = 11;
    update.active_ms = 12;
    update.online_ms = 13;
    Device attempt = update;
    attempt.device_secret = "must not change";
    attempt.device_name = "must-not-change";
    attempt.created_ms = 1;
    MustWrite([&](WriteTx& tx) { return tx.UpdateDevice(a1_, attempt); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateDevice(b1_, attempt); }),
                    ErrorCode::kDeviceNotFound);
    Device missing = MakeDevice(kPk, "iot-none", "x");
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateDevice(a1_, missing); }),
                    ErrorCode::kDeviceNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindDeviceByIotId(a1_, "iot-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameDevice(*found, update);
        }
        return Ok();
    });
}

// ---- Firmware --------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, ListFirmwareNewestFirstWithFilters) {
    // (firmware_id, product, dest_version, created_ms), with a tie on created_ms.
    struct Row {
        std::string id;
        std::string product;
        std::string version;
        int64_t created_ms;
    };
    const std::vector<Row> rows = {
        {"fw-b", kPk, "2.0", 100},
        {"fw-a", kPk, "2.0", 100},
        {"fw-c", kPk, "3.0", 300},
        {"fw-d", kPk2, "2.0", 200},
        {"fw-e", kPk2, "3.0", 50},
    };
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "P")));
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "P2")));
        for (const Row& row : rows) {
            Firmware firmware = MakeFirmware(row.product, row.id, "F" + row.id);
            firmware.dest_version = row.version;
            firmware.created_ms = row.created_ms;
            OTA_TRY(tx.InsertFirmware(a1_, firmware));
        }
        OTA_TRY(tx.InsertProduct(b1_, MakeProduct("b1Product01", "P")));
        return tx.InsertFirmware(b1_, MakeFirmware("b1Product01", "fw-b1", "F"));
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListFirmware(a1_, "", "", 0, 100));
        EXPECT_EQ(all.total, 5);
        EXPECT_EQ(FirmwareIds(all.items),
                  (std::vector<std::string>{"fw-c", "fw-d", "fw-a", "fw-b", "fw-e"}));
        // Whole packages, files included.
        for (const Firmware& firmware : all.items) {
            const Row& row = *std::find_if(rows.begin(), rows.end(), [&](const Row& r) {
                return r.id == firmware.firmware_id;
            });
            Firmware expected = MakeFirmware(row.product, row.id, "F" + row.id);
            expected.dest_version = row.version;
            expected.created_ms = row.created_ms;
            ExpectSameFirmware(firmware, expected);
        }
        OTA_ASSIGN_OR_RETURN(auto by_product, tx.ListFirmware(a1_, kPk, "", 0, 100));
        EXPECT_EQ(by_product.total, 3);
        EXPECT_EQ(FirmwareIds(by_product.items),
                  (std::vector<std::string>{"fw-c", "fw-a", "fw-b"}));
        OTA_ASSIGN_OR_RETURN(auto by_version, tx.ListFirmware(a1_, "", "2.0", 0, 100));
        EXPECT_EQ(by_version.total, 3);
        EXPECT_EQ(FirmwareIds(by_version.items),
                  (std::vector<std::string>{"fw-d", "fw-a", "fw-b"}));
        OTA_ASSIGN_OR_RETURN(auto both, tx.ListFirmware(a1_, kPk2, "3.0", 0, 100));
        EXPECT_EQ(both.total, 1);
        EXPECT_EQ(FirmwareIds(both.items), (std::vector<std::string>{"fw-e"}));
        OTA_ASSIGN_OR_RETURN(auto exact, tx.ListFirmware(a1_, kPk, "2", 0, 100));
        EXPECT_EQ(exact.total, 0);
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListFirmware(a1_, "", "", 1, 2));
        EXPECT_EQ(page.total, 5);
        EXPECT_EQ(FirmwareIds(page.items), (std::vector<std::string>{"fw-d", "fw-a"}));
        OTA_ASSIGN_OR_RETURN(auto filtered_page, tx.ListFirmware(a1_, kPk, "2.0", 1, 5));
        EXPECT_EQ(filtered_page.total, 2);
        EXPECT_EQ(FirmwareIds(filtered_page.items), (std::vector<std::string>{"fw-b"}));
        OTA_ASSIGN_OR_RETURN(auto other, tx.ListFirmware(a2_, "", "", 0, 100));
        EXPECT_EQ(other.total, 0);
        OTA_ASSIGN_OR_RETURN(auto b, tx.ListFirmware(b1_, "", "", 0, 100));
        EXPECT_EQ(FirmwareIds(b.items), (std::vector<std::string>{"fw-b1"}));
        OTA_ASSIGN_OR_RETURN(auto b_cross, tx.ListFirmware(b1_, kPk, "", 0, 100));
        EXPECT_EQ(b_cross.total, 0);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, CountsFirmwareOfAModule) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "P")));
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "P2")));
        int n = 0;
        for (const auto& [product, module] : std::vector<std::pair<std::string, std::string>>{
                 {kPk, "mcu"}, {kPk, "mcu"}, {kPk, "MCU"}, {kPk, "default"}, {kPk2, "mcu"}}) {
            Firmware firmware = MakeFirmware(product, "fw-" + std::to_string(n), std::to_string(n));
            firmware.module_name = module;
            OTA_TRY(tx.InsertFirmware(a1_, firmware));
            ++n;
        }
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t mcu, tx.CountFirmwareOfModule(a1_, kPk, "mcu"));
        EXPECT_EQ(mcu, 2);
        OTA_ASSIGN_OR_RETURN(int64_t upper, tx.CountFirmwareOfModule(a1_, kPk, "MCU"));
        EXPECT_EQ(upper, 1);
        OTA_ASSIGN_OR_RETURN(int64_t other_product, tx.CountFirmwareOfModule(a1_, kPk2, "mcu"));
        EXPECT_EQ(other_product, 1);
        OTA_ASSIGN_OR_RETURN(int64_t none, tx.CountFirmwareOfModule(a1_, kPk, "wifi"));
        EXPECT_EQ(none, 0);
        OTA_ASSIGN_OR_RETURN(int64_t other_scope, tx.CountFirmwareOfModule(b1_, kPk, "mcu"));
        EXPECT_EQ(other_scope, 0);
        return Ok();
    });
}

// ---- Modules ---------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, ModulesRoundTripAndClashIgnoringCase) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "P")));
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "P2")));
        return tx.InsertProduct(b1_, MakeProduct("b1Product01", "P"));
    });
    Module wifi = MakeModule(kPk, "WiFi", 200);
    Module mcu = MakeModule(kPk, "mcu", 100);
    Module ble = MakeModule(kPk, "ble", 200);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertModule(a1_, wifi));
        OTA_TRY(tx.InsertModule(a1_, mcu));
        OTA_TRY(tx.InsertModule(a1_, ble));
        // The same name in another product and in another scope is free.
        OTA_TRY(tx.InsertModule(a1_, MakeModule(kPk2, "wifi", 1)));
        return tx.InsertModule(b1_, MakeModule("b1Product01", "WIFI", 1));
    });
    for (const char* clash : {"WiFi", "wifi", "WIFI", "wIfI"}) {
        SCOPED_TRACE(clash);
        OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
            return tx.InsertModule(a1_, MakeModule(kPk, clash, 1));
        }),
                        ErrorCode::kModuleNameExists);
    }
    // Only ASCII letters fold: a name that differs otherwise is another module.
    MustWrite([&](WriteTx& tx) { return tx.InsertModule(a1_, MakeModule(kPk, "wifi-2", 300)); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.InsertModule(a1_, MakeModule("a1NoSuch001", "m", 1));
    }),
                    ErrorCode::kProductNotFound);
    OTA_EXPECT_CODE(
        store_->Write([&](WriteTx& tx) { return tx.InsertModule(b1_, MakeModule(kPk, "m", 1)); }),
        ErrorCode::kProductNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto modules, tx.ListModules(a1_, kPk));
        EXPECT_EQ(Keys(modules, [](const Module& m) { return m.module_name; }),
                  (std::vector<std::string>{"mcu", "WiFi", "ble", "wifi-2"}) /* created, name */);
        if (modules.size() == 4) {
            ExpectSameModule(modules[0], mcu);
            ExpectSameModule(modules[1], wifi);
        }
        for (const char* name : {"WiFi", "wifi", "WIFI"}) {
            OTA_ASSIGN_OR_RETURN(auto found, tx.FindModule(a1_, kPk, name));
            EXPECT_TRUE(found.has_value()) << name;
            if (found) {
                ExpectSameModule(*found, wifi);  // the stored spelling
            }
        }
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindModule(a1_, kPk, "wifi-3"));
        EXPECT_FALSE(missing.has_value());
        OTA_ASSIGN_OR_RETURN(auto other_product, tx.FindModule(a1_, kPk2, "WIFI"));
        EXPECT_TRUE(other_product.has_value());
        if (other_product) {
            EXPECT_EQ(other_product->module_name, "wifi");
        }
        OTA_ASSIGN_OR_RETURN(auto other_scope, tx.FindModule(a2_, kPk, "wifi"));
        EXPECT_FALSE(other_scope.has_value());
        OTA_ASSIGN_OR_RETURN(auto b_list, tx.ListModules(b1_, kPk));
        EXPECT_TRUE(b_list.empty());
        return Ok();
    });
}

TEST_P(StoreConformanceTest, UpdatesAndDeletesModulesByExactName) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "P")));
        return tx.InsertModule(a1_, MakeModule(kPk, "WiFi", 100));
    });
    Module update = MakeModule(kPk, "WiFi", 999);  // created_ms must not change
    update.alias_name = "new alias";
    update.desc = "new desc";
    update.modified_ms = 555;
    MustWrite([&](WriteTx& tx) { return tx.UpdateModule(a1_, update); });
    Module wrong_case = update;
    wrong_case.module_name = "wifi";
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateModule(a1_, wrong_case); }),
                    ErrorCode::kModuleNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateModule(b1_, update); }),
                    ErrorCode::kModuleNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindModule(a1_, kPk, "WiFi"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            Module expected = update;
            expected.created_ms = 100;
            ExpectSameModule(*found, expected);
        }
        return Ok();
    });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteModule(a1_, kPk, "wifi"); }),
                    ErrorCode::kModuleNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteModule(b1_, kPk, "WiFi"); }),
                    ErrorCode::kModuleNotFound);
    MustWrite([&](WriteTx& tx) { return tx.DeleteModule(a1_, kPk, "WiFi"); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteModule(a1_, kPk, "WiFi"); }),
                    ErrorCode::kModuleNotFound);
    // Gone, so the name (in any case) is free again.
    MustWrite([&](WriteTx& tx) { return tx.InsertModule(a1_, MakeModule(kPk, "WIFI", 1)); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto modules, tx.ListModules(a1_, kPk));
        EXPECT_EQ(modules.size(), 1u);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ModuleVersionsUpsertAndListByName) {
    Device dev1 = MakeDevice(kPk, "iot-1", "dev-1");
    Device dev2 = MakeDevice(kPk, "iot-2", "dev-2");
    SeedCatalog(a1_, MakeProduct(kPk, "P"), {dev1, dev2}, MakeFirmware(kPk, "fw-1", "F"));
    MustWrite([&](WriteTx& tx) -> Status {
        for (const char* module : {"wifi", "default", "mcu", "ble"}) {
            OTA_TRY(tx.UpsertModuleVersion(a1_, MakeVersion(dev1, module, "1.0")));
        }
        return tx.UpsertModuleVersion(a1_, MakeVersion(dev2, "mcu", "7.0"));
    });
    ModuleVersion replaced = MakeVersion(dev1, "mcu", "2.0");
    replaced.modified_ms = 9999;
    MustWrite([&](WriteTx& tx) { return tx.UpsertModuleVersion(a1_, replaced); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.UpsertModuleVersion(a1_, MakeVersion(MakeDevice(kPk, "iot-none", "x"), "m", "1"));
    }),
                    ErrorCode::kDeviceNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.UpsertModuleVersion(b1_, MakeVersion(dev1, "m", "1"));
    }),
                    ErrorCode::kDeviceNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListModuleVersions(a1_, "iot-1", 0, 100));
        EXPECT_EQ(all.total, 4);
        EXPECT_EQ(Keys(all.items, [](const ModuleVersion& v) { return v.module_name; }),
                  (std::vector<std::string>{"ble", "default", "mcu", "wifi"}));
        if (all.items.size() == 4) {
            ExpectSameModuleVersion(all.items[0], MakeVersion(dev1, "ble", "1.0"));
            ExpectSameModuleVersion(all.items[2], replaced);
        }
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListModuleVersions(a1_, "iot-1", 1, 2));
        EXPECT_EQ(page.total, 4);
        EXPECT_EQ(Keys(page.items, [](const ModuleVersion& v) { return v.module_name; }),
                  (std::vector<std::string>{"default", "mcu"}));
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindModuleVersion(a1_, "iot-2", "mcu"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameModuleVersion(*found, MakeVersion(dev2, "mcu", "7.0"));
        }
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindModuleVersion(a1_, "iot-2", "wifi"));
        EXPECT_FALSE(missing.has_value());
        OTA_ASSIGN_OR_RETURN(auto other, tx.FindModuleVersion(b1_, "iot-2", "mcu"));
        EXPECT_FALSE(other.has_value());
        OTA_ASSIGN_OR_RETURN(auto other_list, tx.ListModuleVersions(a2_, "iot-1", 0, 100));
        EXPECT_EQ(other_list.total, 0);
        EXPECT_TRUE(other_list.items.empty());
        return Ok();
    });
}

// ---- Groups ----------------------------------------------------------------------------------

TEST_P(StoreConformanceTest, GroupsRoundTripWithUniqueNames) {
    Group top = MakeGroup("g-top", "Top", GroupType::kStatic, "", 100);
    Group dynamic = MakeGroup("g-dyn", "Dynamic", GroupType::kDynamic, "g-top", 200);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertGroup(a1_, top));
        OTA_TRY(tx.InsertGroup(a1_, dynamic));
        // The same name in another scope is free.
        return tx.InsertGroup(b1_, MakeGroup("g-b", "Top", GroupType::kStatic, "", 1));
    });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.InsertGroup(a1_, MakeGroup("g-new", "Top", GroupType::kStatic, "", 1));
    }),
                    ErrorCode::kGroupNameExists);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found_top, tx.FindGroup(a1_, "g-top"));
        EXPECT_TRUE(found_top.has_value());
        if (found_top) {
            ExpectSameGroup(*found_top, top);
        }
        OTA_ASSIGN_OR_RETURN(auto found_dyn, tx.FindGroup(a1_, "g-dyn"));
        EXPECT_TRUE(found_dyn.has_value());
        if (found_dyn) {
            ExpectSameGroup(*found_dyn, dynamic);
        }
        OTA_ASSIGN_OR_RETURN(auto cross, tx.FindGroup(b1_, "g-top"));
        EXPECT_FALSE(cross.has_value());
        OTA_ASSIGN_OR_RETURN(bool name, tx.GroupNameExists(a1_, "Dynamic"));
        EXPECT_TRUE(name);
        OTA_ASSIGN_OR_RETURN(bool other_name, tx.GroupNameExists(a2_, "Dynamic"));
        EXPECT_FALSE(other_name);
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountGroups(a1_));
        EXPECT_EQ(count, 2);
        OTA_ASSIGN_OR_RETURN(int64_t b_count, tx.CountGroups(b1_));
        EXPECT_EQ(b_count, 1);
        OTA_ASSIGN_OR_RETURN(int64_t subs, tx.CountSubGroups(a1_, "g-top"));
        EXPECT_EQ(subs, 1);
        OTA_ASSIGN_OR_RETURN(int64_t none, tx.CountSubGroups(a1_, "g-dyn"));
        EXPECT_EQ(none, 0);
        OTA_ASSIGN_OR_RETURN(int64_t cross_subs, tx.CountSubGroups(b1_, "g-top"));
        EXPECT_EQ(cross_subs, 0);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, ListGroupsFiltersAndPages) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertGroup(a1_, MakeGroup("g-1", "lamps", GroupType::kStatic, "", 100)));
        OTA_TRY(
            tx.InsertGroup(a1_, MakeGroup("g-2", "Lamps east", GroupType::kDynamic, "g-1", 50)));
        OTA_TRY(
            tx.InsertGroup(a1_, MakeGroup("g-4", "street lamps", GroupType::kStatic, "g-1", 200)));
        OTA_TRY(tx.InsertGroup(a1_, MakeGroup("g-3", "meters", GroupType::kStatic, "", 200)));
        OTA_TRY(tx.InsertGroup(a1_, MakeGroup("g-5", "50%_x", GroupType::kDynamic, "", 300)));
        return tx.InsertGroup(b1_, MakeGroup("g-b", "lamps", GroupType::kStatic, "", 1));
    });
    auto list = [&](std::string_view fragment,
                    std::string_view parent,
                    std::vector<GroupType> types,
                    int64_t offset,
                    int64_t limit,
                    int64_t expected_total) -> std::vector<std::string> {
        std::vector<std::string> ids;
        MustRead([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(auto page,
                                 tx.ListGroups(a1_, fragment, parent, types, offset, limit));
            EXPECT_EQ(page.total, expected_total);
            ids = GroupIds(page.items);
            return Ok();
        });
        return ids;
    };
    const std::vector<GroupType> any;
    EXPECT_EQ(list("", "", any, 0, 100, 5),
              (std::vector<std::string>{"g-2", "g-1", "g-3", "g-4", "g-5"}));
    EXPECT_EQ(list("", "", any, 1, 2, 5), (std::vector<std::string>{"g-1", "g-3"}));
    EXPECT_EQ(list("lamps", "", any, 0, 100, 2), (std::vector<std::string>{"g-1", "g-4"}));
    EXPECT_EQ(list("amp", "", any, 0, 100, 3), (std::vector<std::string>{"g-2", "g-1", "g-4"}));
    // Wildcards of LIKE are plain characters.
    EXPECT_EQ(list("%_", "", any, 0, 100, 1), (std::vector<std::string>{"g-5"}));
    EXPECT_EQ(list("", "g-1", any, 0, 100, 2), (std::vector<std::string>{"g-2", "g-4"}));
    EXPECT_EQ(list("", "", {GroupType::kDynamic}, 0, 100, 2),
              (std::vector<std::string>{"g-2", "g-5"}));
    EXPECT_EQ(list("", "", {GroupType::kStatic, GroupType::kDynamic}, 0, 100, 5).size(), 5u);
    EXPECT_EQ(list("amp", "g-1", {GroupType::kStatic}, 0, 100, 1),
              (std::vector<std::string>{"g-4"}));
    EXPECT_EQ(list("nothing", "", any, 0, 100, 0), (std::vector<std::string>{}));
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto other, tx.ListGroups(a2_, "", "", {}, 0, 100));
        EXPECT_EQ(other.total, 0);
        return Ok();
    });
}

TEST_P(StoreConformanceTest, GroupMembership) {
    std::vector<Device> devices = {MakeDevice(kPk, "iot-c", "dev-c"),
                                   MakeDevice(kPk, "iot-a", "dev-a"),
                                   MakeDevice(kPk, "iot-b", "dev-b")};
    SeedCatalog(a1_, MakeProduct(kPk, "P"), devices, MakeFirmware(kPk, "fw-1", "F"));
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertGroup(a1_, MakeGroup("g-1", "one", GroupType::kStatic, "", 1)));
        OTA_TRY(tx.InsertGroup(a1_, MakeGroup("g-2", "two", GroupType::kStatic, "", 2)));
        OTA_TRY(tx.InsertProduct(b1_, MakeProduct("b1Product01", "P")));
        OTA_TRY(tx.InsertDevice(b1_, MakeDevice("b1Product01", "iot-b1", "dev")));
        return tx.InsertGroup(b1_, MakeGroup("g-b", "one", GroupType::kStatic, "", 1));
    });
    MustWrite([&](WriteTx& tx) -> Status {
        for (const Device& device : devices) {
            OTA_ASSIGN_OR_RETURN(bool added, tx.AddGroupMember(a1_, "g-1", device.iot_id));
            EXPECT_TRUE(added);
        }
        OTA_ASSIGN_OR_RETURN(bool again, tx.AddGroupMember(a1_, "g-1", "iot-a"));
        EXPECT_FALSE(again);
        OTA_ASSIGN_OR_RETURN(bool second, tx.AddGroupMember(a1_, "g-2", "iot-a"));
        EXPECT_TRUE(second);
        return Ok();
    });
    auto add = [&](const Scope& scope, const char* group, const char* iot_id) {
        return store_->Write([&](WriteTx& tx) -> Status {
            OTA_TRY(tx.AddGroupMember(scope, group, iot_id));
            return Ok();
        });
    };
    OTA_EXPECT_CODE(add(a1_, "g-none", "iot-a"), ErrorCode::kGroupNotFound);
    OTA_EXPECT_CODE(add(a1_, "g-1", "iot-none"), ErrorCode::kDeviceNotFound);
    // Neither a group nor a device of another tenant can be used.
    OTA_EXPECT_CODE(add(a1_, "g-b", "iot-a"), ErrorCode::kGroupNotFound);
    OTA_EXPECT_CODE(add(a1_, "g-1", "iot-b1"), ErrorCode::kDeviceNotFound);
    OTA_EXPECT_CODE(add(b1_, "g-1", "iot-a"), ErrorCode::kGroupNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t members, tx.CountGroupMembers(a1_, "g-1"));
        EXPECT_EQ(members, 3);
        OTA_ASSIGN_OR_RETURN(int64_t groups, tx.CountGroupsOfDevice(a1_, "iot-a"));
        EXPECT_EQ(groups, 2);
        OTA_ASSIGN_OR_RETURN(bool member, tx.IsGroupMember(a1_, "g-2", "iot-a"));
        EXPECT_TRUE(member);
        OTA_ASSIGN_OR_RETURN(bool not_member, tx.IsGroupMember(a1_, "g-2", "iot-b"));
        EXPECT_FALSE(not_member);
        std::vector<Device> streamed;
        OTA_TRY(tx.ForEachGroupMember(a1_, "g-1", [&](const Device& device) -> Status {
            streamed.push_back(device);
            return Ok();
        }));
        EXPECT_EQ(IotIds(streamed), (std::vector<std::string>{"iot-a", "iot-b", "iot-c"}));
        if (streamed.size() == 3) {
            ExpectSameDevice(streamed[0], devices[1]);
        }
        int calls = 0;
        Status stopped = tx.ForEachGroupMember(a1_, "g-1", [&](const Device&) -> Status {
            ++calls;
            return MakeError(ErrorCode::kThrottled);
        });
        EXPECT_TRUE(!stopped.ok() && stopped.error().code == ErrorCode::kThrottled);
        EXPECT_EQ(calls, 1);
        // Another tenant sees nothing.
        OTA_ASSIGN_OR_RETURN(int64_t b_members, tx.CountGroupMembers(b1_, "g-1"));
        EXPECT_EQ(b_members, 0);
        OTA_ASSIGN_OR_RETURN(int64_t b_groups, tx.CountGroupsOfDevice(b1_, "iot-a"));
        EXPECT_EQ(b_groups, 0);
        OTA_ASSIGN_OR_RETURN(bool b_member, tx.IsGroupMember(b1_, "g-1", "iot-a"));
        EXPECT_FALSE(b_member);
        int b_streamed = 0;
        OTA_TRY(tx.ForEachGroupMember(b1_, "g-1", [&](const Device&) -> Status {
            ++b_streamed;
            return Ok();
        }));
        EXPECT_EQ(b_streamed, 0);
        return Ok();
    });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteGroup(b1_, "g-1"); }),
                    ErrorCode::kGroupNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteGroup(a1_, "g-none"); }),
                    ErrorCode::kGroupNotFound);
    MustWrite([&](WriteTx& tx) { return tx.DeleteGroup(a1_, "g-1"); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(a1_, "g-1"));
        EXPECT_FALSE(group.has_value());
        OTA_ASSIGN_OR_RETURN(int64_t members, tx.CountGroupMembers(a1_, "g-1"));
        EXPECT_EQ(members, 0);
        OTA_ASSIGN_OR_RETURN(int64_t groups, tx.CountGroupsOfDevice(a1_, "iot-a"));
        EXPECT_EQ(groups, 1);
        OTA_ASSIGN_OR_RETURN(bool name, tx.GroupNameExists(a1_, "one"));
        EXPECT_FALSE(name);
        return Ok();
    });
}

// ---- Batch registrations ---------------------------------------------------------------------

TEST_P(StoreConformanceTest, BatchRegistrationsRoundTripAndUpdate) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk, "P")));
        return tx.InsertProduct(a1_, MakeProduct(kPk2, "P2"));
    });
    BatchRegistration r;
    r.product_key = kPk;
    r.count = 3;
    r.status = "CHECK";
    r.valid_names = {"zeta", "alpha", "mid"};
    r.invalid_names = {"bad name", "x"};
    r.created_ms = 100;
    r.modified_ms = 101;
    BatchRegistration empty;
    empty.product_key = kPk;
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(r.apply_id, tx.NextApplyId());
        OTA_TRY(tx.InsertBatchRegistration(a1_, r));
        OTA_ASSIGN_OR_RETURN(empty.apply_id, tx.NextApplyId());
        return tx.InsertBatchRegistration(a1_, empty);
    });
    BatchRegistration duplicate = r;
    OTA_EXPECT_CODE(
        store_->Write([&](WriteTx& tx) { return tx.InsertBatchRegistration(a1_, duplicate); }),
        ErrorCode::kInternal);
    BatchRegistration orphan;
    orphan.product_key = "a1NoSuch001";
    orphan.apply_id = 1'000'000;
    OTA_EXPECT_CODE(
        store_->Write([&](WriteTx& tx) { return tx.InsertBatchRegistration(a1_, orphan); }),
        ErrorCode::kProductNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindBatchRegistration(a1_, kPk, r.apply_id));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameRegistration(*found, r);
        }
        OTA_ASSIGN_OR_RETURN(auto found_empty, tx.FindBatchRegistration(a1_, kPk, empty.apply_id));
        EXPECT_TRUE(found_empty.has_value());
        if (found_empty) {
            ExpectSameRegistration(*found_empty, empty);
        }
        OTA_ASSIGN_OR_RETURN(auto wrong_product, tx.FindBatchRegistration(a1_, kPk2, r.apply_id));
        EXPECT_FALSE(wrong_product.has_value());
        OTA_ASSIGN_OR_RETURN(auto other_scope, tx.FindBatchRegistration(b1_, kPk, r.apply_id));
        EXPECT_FALSE(other_scope.has_value());
        return Ok();
    });
    BatchRegistration update = r;
    update.count = 2;
    update.status = "CREATE_SUCCESS";
    update.valid_names = {"alpha", "beta"};
    update.invalid_names = {};
    update.modified_ms = 200;
    MustWrite([&](WriteTx& tx) { return tx.UpdateBatchRegistration(a1_, update); });
    OTA_EXPECT_CODE(
        store_->Write([&](WriteTx& tx) { return tx.UpdateBatchRegistration(b1_, update); }),
        ErrorCode::kApplyNotFound);
    BatchRegistration missing = update;
    missing.apply_id = 987'654;
    OTA_EXPECT_CODE(
        store_->Write([&](WriteTx& tx) { return tx.UpdateBatchRegistration(a1_, missing); }),
        ErrorCode::kApplyNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindBatchRegistration(a1_, kPk, r.apply_id));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameRegistration(*found, update);
        }
        return Ok();
    });
}

TEST_P(StoreConformanceTest, NextApplyIdGrowsAcrossTenantsTransactionsAndReopening) {
    std::vector<int64_t> ids;
    for (int i = 0; i < 3; ++i) {
        MustWrite([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(int64_t a, tx.NextApplyId());
            OTA_ASSIGN_OR_RETURN(int64_t b, tx.NextApplyId());
            ids.push_back(a);
            ids.push_back(b);
            return Ok();
        });
    }
    store_.reset();
    auto reopened = env_->Open();
    OTA_ASSERT_OK(reopened);
    store_ = std::move(reopened).value();
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t id, tx.NextApplyId());
        ids.push_back(id);
        return Ok();
    });
    ASSERT_EQ(ids.size(), 7u);
    EXPECT_GT(ids[0], 0);
    for (size_t i = 1; i < ids.size(); ++i) {
        EXPECT_GT(ids[i], ids[i - 1]) << i;
    }
}

// ---- Stored files ----------------------------------------------------------------------------

TEST_P(StoreConformanceTest, StoredFilesRoundTripUpdateAndDelete) {
    StoredFile form = MakeFile("ota/abc/form.bin");
    form.kind = domain::FileKind::kFirmware;
    form.size = 0;
    form.md5 = "";
    form.sha256 = "";
    form.uploaded_ms = 0;
    form.referenced = false;
    StoredFile full = MakeFile("ota/def/list.txt");
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertFile(a1_, form));
        return tx.InsertFile(a1_, full);
    });
    // Object keys are unique across tenants.
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.InsertFile(b1_, form); }),
                    ErrorCode::kInternal);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found_form, tx.FindFile(a1_, form.object_key));
        EXPECT_TRUE(found_form.has_value());
        if (found_form) {
            ExpectSameFile(*found_form, form);
        }
        OTA_ASSIGN_OR_RETURN(auto found_full, tx.FindFile(a1_, full.object_key));
        EXPECT_TRUE(found_full.has_value());
        if (found_full) {
            ExpectSameFile(*found_full, full);
        }
        OTA_ASSIGN_OR_RETURN(auto other, tx.FindFile(b1_, full.object_key));
        EXPECT_FALSE(other.has_value());
        OTA_ASSIGN_OR_RETURN(auto any, tx.FindFileAnyScope(full.object_key));
        EXPECT_TRUE(any.has_value());
        if (any) {
            EXPECT_EQ(any->first.account_id, a1_.account_id);
            EXPECT_EQ(any->first.instance_id, a1_.instance_id);
            ExpectSameFile(any->second, full);
        }
        OTA_ASSIGN_OR_RETURN(auto none, tx.FindFileAnyScope("ota/none"));
        EXPECT_FALSE(none.has_value());
        return Ok();
    });
    StoredFile uploaded = form;
    uploaded.size = 123;
    uploaded.md5 = "md5";
    uploaded.sha256 = "sha";
    uploaded.uploaded_ms = 1700;
    uploaded.referenced = true;
    StoredFile attempt = uploaded;
    attempt.kind = domain::FileKind::kDeviceList;  // not part of the update
    attempt.created_ms = 1;
    attempt.upload_deadline_ms = 1;
    MustWrite([&](WriteTx& tx) { return tx.UpdateFile(a1_, attempt); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateFile(b1_, attempt); }),
                    ErrorCode::kFileNotFound);
    StoredFile missing = MakeFile("ota/none");
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateFile(a1_, missing); }),
                    ErrorCode::kFileNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindFile(a1_, form.object_key));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameFile(*found, uploaded);
        }
        return Ok();
    });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteFile(b1_, form.object_key); }),
                    ErrorCode::kFileNotFound);
    MustWrite([&](WriteTx& tx) { return tx.DeleteFile(a1_, form.object_key); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.DeleteFile(a1_, form.object_key); }),
                    ErrorCode::kFileNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindFile(a1_, form.object_key));
        EXPECT_FALSE(found.has_value());
        return Ok();
    });
}

TEST_P(StoreConformanceTest, BlobInUseAcrossTenants) {
    StoredFile a = MakeFile("ota/a");
    a.sha256 = "shared";
    StoredFile b = MakeFile("ota/b");
    b.sha256 = "shared";
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertFile(a1_, a));
        return tx.InsertFile(b1_, b);
    });
    auto in_use = [&](const char* sha) {
        bool used = false;
        MustRead([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(used, tx.BlobInUse(sha));
            return Ok();
        });
        return used;
    };
    EXPECT_TRUE(in_use("shared"));
    EXPECT_FALSE(in_use("other"));
    MustWrite([&](WriteTx& tx) { return tx.DeleteFile(a1_, "ota/a"); });
    EXPECT_TRUE(in_use("shared"));
    MustWrite([&](WriteTx& tx) { return tx.DeleteFile(b1_, "ota/b"); });
    EXPECT_FALSE(in_use("shared"));
}

TEST_P(StoreConformanceTest, ListExpiredFilesRules) {
    constexpr int64_t kBefore = 10'000;
    auto form = [](const std::string& key, int64_t deadline) {
        StoredFile f = MakeFile(key);
        f.size = 0;
        f.sha256 = "";
        f.uploaded_ms = 0;
        f.referenced = false;
        f.upload_deadline_ms = deadline;
        return f;
    };
    auto upload = [](const std::string& key, int64_t uploaded_ms, bool referenced) {
        StoredFile f = MakeFile(key);
        f.upload_deadline_ms = 1;  // long past: irrelevant once uploaded
        f.uploaded_ms = uploaded_ms;
        f.referenced = referenced;
        return f;
    };
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertFile(a1_, form("form-expired-late", kBefore - 1)));
        OTA_TRY(tx.InsertFile(b1_, form("form-expired-early", 5)));
        OTA_TRY(tx.InsertFile(a1_, form("form-at-boundary", kBefore)));
        OTA_TRY(tx.InsertFile(a1_, form("form-valid", kBefore + 1)));
        StoredFile referenced_form = form("form-referenced", 5);
        referenced_form.referenced = true;
        OTA_TRY(tx.InsertFile(a1_, referenced_form));
        OTA_TRY(tx.InsertFile(a2_, upload("upload-expired", kBefore - 1, false)));
        OTA_TRY(tx.InsertFile(b1_, upload("upload-expired-early", 3, false)));
        OTA_TRY(tx.InsertFile(a1_, upload("upload-at-boundary", kBefore, false)));
        OTA_TRY(tx.InsertFile(a1_, upload("upload-referenced", 3, true)));
        return tx.InsertFile(a1_, upload("upload-recent", kBefore + 5, false));
    });
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto expired, tx.ListExpiredFiles(kBefore, 100));
        std::vector<std::string> keys;
        for (const auto& [scope, file] : expired) {
            keys.push_back(file.object_key);
            const Scope& expected =
                file.object_key == "form-expired-early" || file.object_key == "upload-expired-early"
                    ? b1_
                : file.object_key == "upload-expired" ? a2_
                                                      : a1_;
            EXPECT_EQ(scope.account_id, expected.account_id) << file.object_key;
            EXPECT_EQ(scope.instance_id, expected.instance_id) << file.object_key;
        }
        std::sort(keys.begin(), keys.end());
        EXPECT_EQ(keys,
                  (std::vector<std::string>{"form-expired-early",
                                            "form-expired-late",
                                            "upload-expired",
                                            "upload-expired-early"}));
        OTA_ASSIGN_OR_RETURN(auto limited, tx.ListExpiredFiles(kBefore, 3));
        EXPECT_EQ(limited.size(), 3u);
        OTA_ASSIGN_OR_RETURN(auto zero, tx.ListExpiredFiles(kBefore, 0));
        EXPECT_TRUE(zero.empty());
        OTA_ASSIGN_OR_RETURN(auto nothing_yet, tx.ListExpiredFiles(3, 100));
        EXPECT_TRUE(nothing_yet.empty());
        // Once used, an upload no longer expires.
        StoredFile used = upload("upload-expired", kBefore - 1, true);
        OTA_TRY(tx.UpdateFile(a2_, used));
        OTA_ASSIGN_OR_RETURN(auto after, tx.ListExpiredFiles(kBefore, 100));
        EXPECT_EQ(after.size(), 3u);
        return Ok();
    });
}

}  // namespace
}  // namespace otad::conformance
