#pragma once

#include "common/result.hpp"
#include "common/testing/temp_dir.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <filesystem>
#include <memory>
#include <stdlib.h>
#include <string>
#include <system_error>
#include <vector>

// An otad database for the broker tests, written through the storage layer as otad writes it.

namespace otad::broker_test {

using test_support::TempDir;

struct TestDevice {
    std::string product_key;
    std::string device_name;
    std::string device_secret;
    std::string status = "UNACTIVE";
};

/// Creates (or opens) otad's database at `path` with one account, its default instance, the
/// products the devices name and the devices. Returns the writable store, left open as otad
/// would keep it; `scope` receives where the rows live.
inline Result<std::unique_ptr<domain::Store>> CreateOtadDatabase(
    const std::string& path, const std::vector<TestDevice>& devices, domain::Scope& scope) {
    OTA_ASSIGN_OR_RETURN(std::unique_ptr<domain::Store> store,
                         storage::sqlite::OpenSqliteStore(storage::sqlite::SqliteOptions{
                             .path = path,
                         }));
    OTA_TRY(store->Write([&](domain::WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(domain::Account account,
                             tx.InsertAccount(domain::Account{.id = 0,
                                                              .name = "broker-test",
                                                              .access_key_id = "AKIDBROKERTEST",
                                                              .access_key_secret = "unused",
                                                              .enabled = true,
                                                              .created_ms = 1}));
        OTA_ASSIGN_OR_RETURN(domain::Instance instance,
                             tx.InsertInstance(domain::Instance{.id = 0,
                                                                .account_id = account.id,
                                                                .instance_id = "iot-broker-test",
                                                                .is_default = true,
                                                                .created_ms = 1}));
        scope = domain::Scope{.account_id = account.id, .instance_id = instance.id};
        std::vector<std::string> products;
        int serial = 0;
        for (const TestDevice& d : devices) {
            bool known = false;
            for (const std::string& p : products) {
                known = known || p == d.product_key;
            }
            if (!known) {
                domain::Product product;
                product.product_key = d.product_key;
                product.product_name = "product " + d.product_key;
                product.created_ms = 1;
                OTA_TRY(tx.InsertProduct(scope, product));
                products.push_back(d.product_key);
            }
            domain::Device device;
            device.iot_id = "iot-" + std::to_string(++serial);
            device.product_key = d.product_key;
            device.device_name = d.device_name;
            device.device_secret = d.device_secret;
            device.status = d.status;
            device.created_ms = 1;
            device.modified_ms = 1;
            OTA_TRY(tx.InsertDevice(scope, device));
        }
        return Ok();
    }));
    return store;
}

}  // namespace otad::broker_test
