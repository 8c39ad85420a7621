// Products, devices and firmware.

#include "storage/sql/codec.hpp"
#include "storage/sql/tx.hpp"

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace otad::storage::sql {

// The columns ReadFirmware reads.
#define OTA_FIRMWARE_COLUMNS                                                                       \
    "firmware_id, firmware_name, firmware_desc, product_key, module_name, dest_version, "          \
    "src_version, type, sign_method, firmware_sign, firmware_size, firmware_url, need_to_verify, " \
    "status, verify_progress, udi, created_ms, modified_ms "

// ListFirmware: each combination of filters has its own statement so that each is a range scan
// of an index in page order (firmware_newest, firmware_by_product, firmware_by_dest_version);
// with both filters the product's range is scanned and the version checked on each row.
const std::string_view kSelectFirmwarePage =
    "SELECT " OTA_FIRMWARE_COLUMNS
    "FROM firmware WHERE account_id = ?1 AND instance_id = ?2 "
    "ORDER BY created_ms DESC, firmware_id LIMIT ?3 OFFSET ?4";
const std::string_view kSelectFirmwarePageByProduct =
    "SELECT " OTA_FIRMWARE_COLUMNS
    "FROM firmware WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "ORDER BY created_ms DESC, firmware_id LIMIT ?4 OFFSET ?5";
const std::string_view kSelectFirmwarePageByVersion =
    "SELECT " OTA_FIRMWARE_COLUMNS
    "FROM firmware WHERE account_id = ?1 AND instance_id = ?2 AND dest_version = ?3 "
    "ORDER BY created_ms DESC, firmware_id LIMIT ?4 OFFSET ?5";
const std::string_view kSelectFirmwarePageByProductAndVersion =
    "SELECT " OTA_FIRMWARE_COLUMNS
    "FROM firmware WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 AND "
    "dest_version = ?4 "
    "ORDER BY created_ms DESC, firmware_id LIMIT ?5 OFFSET ?6";

namespace {

using domain::Device;
using domain::Firmware;
using domain::FirmwareFile;
using domain::Page;
using domain::Product;
using domain::Scope;

constexpr std::string_view kSelectProduct =
    "SELECT product_key, product_name, product_secret, description, node_type, data_format, "
    "       aliyun_commodity_code, auth_type, protocol_type, net_type, id2, category_key, "
    "       validate_type, publish_auto, product_status, created_ms "
    "FROM products WHERE product_key = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kSelectProductNameExists =
    "SELECT EXISTS (SELECT 1 FROM products "
    "               WHERE account_id = ?1 AND instance_id = ?2 AND product_name = ?3)";
constexpr std::string_view kCountProducts =
    "SELECT COUNT(*) FROM products WHERE account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertProduct =
    "INSERT INTO products (account_id, instance_id, product_key, product_name, product_secret, "
    "    description, node_type, data_format, aliyun_commodity_code, auth_type, protocol_type, "
    "    net_type, id2, category_key, validate_type, publish_auto, product_status, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

constexpr std::string_view kSelectDeviceByName =
    "SELECT iot_id, product_key, device_name, device_secret, nickname, status, "
    "       firmware_version, ip_address, created_ms, modified_ms, active_ms, online_ms "
    "FROM devices "
    "WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 AND device_name = ?4";
constexpr std::string_view kSelectDeviceByIotId =
    "SELECT iot_id, product_key, device_name, device_secret, nickname, status, "
    "       firmware_version, ip_address, created_ms, modified_ms, active_ms, online_ms "
    "FROM devices WHERE iot_id = ?3 AND account_id = ?1 AND instance_id = ?2";
// Across tenants (devices_by_key); the scope follows the device's columns.
constexpr std::string_view kSelectDeviceAnyScope =
    "SELECT iot_id, product_key, device_name, device_secret, nickname, status, "
    "       firmware_version, ip_address, created_ms, modified_ms, active_ms, online_ms, "
    "       account_id, instance_id "
    "FROM devices WHERE product_key = ?1 AND device_name = ?2";
// Three index lookups in one statement; a missing device reads as NULL, which the drivers
// return as "".
constexpr std::string_view kResolveDevicePackage =
    "SELECT EXISTS (SELECT 1 FROM products "
    "               WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3), "
    "       (SELECT iot_id FROM devices "
    "        WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "          AND device_name = ?4), "
    "       EXISTS (SELECT 1 FROM firmware "
    "               WHERE firmware_id = ?5 AND account_id = ?1 AND instance_id = ?2)";
constexpr std::string_view kResetPresence =
    "UPDATE devices SET status = 'OFFLINE' WHERE status = 'ONLINE'";
constexpr std::string_view kSelectDevicesOfProduct =
    "SELECT iot_id, product_key, device_name, device_secret, nickname, status, "
    "       firmware_version, ip_address, created_ms, modified_ms, active_ms, online_ms "
    "FROM devices WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "ORDER BY iot_id";
constexpr std::string_view kCountDevices =
    "SELECT COUNT(*) FROM devices WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kInsertDevice =
    "INSERT INTO devices (account_id, instance_id, iot_id, product_key, device_name, "
    "    device_secret, nickname, status, firmware_version, ip_address, created_ms, modified_ms, "
    "    active_ms, online_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

// The package and its files together, one row per file in position order (a package without
// files gives one row whose file columns are NULL), so that FindFirmware is one statement, not
// two: on PostgreSQL a round trip less for every call that looks a package up.
constexpr std::string_view kSelectFirmwareWithFiles =
    "SELECT f.firmware_id, f.firmware_name, f.firmware_desc, f.product_key, f.module_name, "
    "       f.dest_version, f.src_version, f.type, f.sign_method, f.firmware_sign, "
    "       f.firmware_size, f.firmware_url, f.need_to_verify, f.status, f.verify_progress, "
    "       f.udi, f.created_ms, f.modified_ms, "
    "       ff.position, ff.name, ff.url, ff.size, ff.md5, ff.sign_value "
    "FROM firmware AS f LEFT JOIN firmware_files AS ff ON ff.firmware_id = f.firmware_id "
    "WHERE f.firmware_id = ?3 AND f.account_id = ?1 AND f.instance_id = ?2 "
    "ORDER BY ff.position";
// In kSelectFirmwareWithFiles: the file's position (NULL without a file), then its columns.
constexpr int kFilePositionColumn = 18;
constexpr int kFirstFileColumn = 19;
constexpr std::string_view kSelectFirmwareFiles =
    "SELECT name, url, size, md5, sign_value FROM firmware_files "
    "WHERE firmware_id = ?1 ORDER BY position";
constexpr std::string_view kSelectFirmwareNameExists =
    "SELECT EXISTS (SELECT 1 FROM firmware "
    "               WHERE account_id = ?1 AND instance_id = ?2 AND firmware_name = ?3)";
constexpr std::string_view kCountFirmware =
    "SELECT COUNT(*) FROM firmware WHERE account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertFirmware =
    "INSERT INTO firmware (account_id, instance_id, firmware_id, firmware_name, firmware_desc, "
    "    product_key, module_name, dest_version, src_version, type, sign_method, firmware_sign, "
    "    firmware_size, firmware_url, need_to_verify, status, verify_progress, udi, created_ms, "
    "    modified_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "    ?19, ?20)";
constexpr std::string_view kInsertFirmwareFile =
    "INSERT INTO firmware_files (firmware_id, position, name, url, size, md5, sign_value) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr std::string_view kUpdateFirmwareStatus =
    "UPDATE firmware SET status = ?4, verify_progress = ?5, modified_ms = ?6 "
    "WHERE firmware_id = ?3 AND account_id = ?1 AND instance_id = ?2";

constexpr std::string_view kCountFirmwarePage =
    "SELECT COUNT(*) FROM firmware WHERE account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kCountFirmwarePageByProduct =
    "SELECT COUNT(*) FROM firmware "
    "WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kCountFirmwarePageByVersion =
    "SELECT COUNT(*) FROM firmware "
    "WHERE account_id = ?1 AND instance_id = ?2 AND dest_version = ?3";
constexpr std::string_view kCountFirmwarePageByProductAndVersion =
    "SELECT COUNT(*) FROM firmware "
    "WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 AND dest_version = ?4";
constexpr std::string_view kCountFirmwareOfModule =
    "SELECT COUNT(*) FROM firmware "
    "WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 AND module_name = ?4";
constexpr std::string_view kSelectFirmwareExists =
    "SELECT EXISTS (SELECT 1 FROM firmware "
    "               WHERE firmware_id = ?3 AND account_id = ?1 AND instance_id = ?2)";

// Products in page order (products_by_created), each with its device count, a covering range
// scan of devices_by_product.
constexpr std::string_view kSelectProductPage =
    "SELECT p.product_key, p.product_name, p.product_secret, p.description, p.node_type, "
    "       p.data_format, p.aliyun_commodity_code, p.auth_type, p.protocol_type, p.net_type, "
    "       p.id2, p.category_key, p.validate_type, p.publish_auto, p.product_status, "
    "       p.created_ms, "
    "       (SELECT COUNT(*) FROM devices AS d "
    "        WHERE d.account_id = ?1 AND d.instance_id = ?2 AND d.product_key = p.product_key) "
    "FROM products AS p WHERE p.account_id = ?1 AND p.instance_id = ?2 "
    "ORDER BY p.created_ms, p.product_key LIMIT ?3 OFFSET ?4";
constexpr std::string_view kSelectProductExists =
    "SELECT EXISTS (SELECT 1 FROM products "
    "               WHERE product_key = ?3 AND account_id = ?1 AND instance_id = ?2)";
constexpr std::string_view kUpdateProduct =
    "UPDATE products SET product_name = ?4, description = ?5 "
    "WHERE product_key = ?3 AND account_id = ?1 AND instance_id = ?2";

// DeleteProduct, children first (the foreign keys are immediate). Tasks are found through the
// jobs of the product, module versions and memberships through its devices.
constexpr std::string_view kDeleteTasksOfProduct =
    "DELETE FROM tasks WHERE account_id = ?1 AND instance_id = ?2 AND job_id IN "
    "    (SELECT job_id FROM jobs "
    "     WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3)";
constexpr std::string_view kDeleteJobsOfProduct =
    "DELETE FROM jobs WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kDeleteFirmwareOfProduct =
    "DELETE FROM firmware WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kDeleteModuleVersionsOfProduct =
    "DELETE FROM module_versions WHERE account_id = ?1 AND instance_id = ?2 AND iot_id IN "
    "    (SELECT iot_id FROM devices "
    "     WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3)";
constexpr std::string_view kDeleteGroupMembersOfProduct =
    "DELETE FROM group_members WHERE account_id = ?1 AND instance_id = ?2 AND iot_id IN "
    "    (SELECT iot_id FROM devices "
    "     WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3)";
constexpr std::string_view kDeleteModulesOfProduct =
    "DELETE FROM modules WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kDeleteRegistrationsOfProduct =
    "DELETE FROM batch_registrations "
    "WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kDeleteDevicesOfProduct =
    "DELETE FROM devices WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kDeleteProduct =
    "DELETE FROM products WHERE product_key = ?3 AND account_id = ?1 AND instance_id = ?2";

constexpr std::string_view kSelectDevicePage =
    "SELECT iot_id, product_key, device_name, device_secret, nickname, status, "
    "       firmware_version, ip_address, created_ms, modified_ms, active_ms, online_ms "
    "FROM devices WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "ORDER BY created_ms, iot_id LIMIT ?4 OFFSET ?5";
constexpr std::string_view kUpdateDevice =
    "UPDATE devices SET nickname = ?4, status = ?5, firmware_version = ?6, ip_address = ?7, "
    "    modified_ms = ?8, active_ms = ?9, online_ms = ?10 "
    "WHERE iot_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kDeleteModuleVersionsOfDevice =
    "DELETE FROM module_versions WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3";
constexpr std::string_view kDeleteGroupMembersOfDevice =
    "DELETE FROM group_members WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3";
constexpr std::string_view kDeleteDevice =
    "DELETE FROM devices WHERE iot_id = ?3 AND account_id = ?1 AND instance_id = ?2";

// DeleteFirmware: the tasks of its jobs, its jobs (their tags and source versions cascade), the
// package (its files list cascades).
constexpr std::string_view kDeleteTasksOfFirmware =
    "DELETE FROM tasks WHERE account_id = ?1 AND instance_id = ?2 AND job_id IN "
    "    (SELECT job_id FROM jobs "
    "     WHERE account_id = ?1 AND instance_id = ?2 AND firmware_id = ?3)";
constexpr std::string_view kDeleteJobsOfFirmware =
    "DELETE FROM jobs WHERE account_id = ?1 AND instance_id = ?2 AND firmware_id = ?3";
constexpr std::string_view kDeleteFirmware =
    "DELETE FROM firmware WHERE firmware_id = ?3 AND account_id = ?1 AND instance_id = ?2";

// Runs each of `statements` with the scope and `key` as ?3.
Status RunScopedDeletes(Connection& db,
                        const Scope& scope,
                        std::string_view key,
                        std::initializer_list<std::string_view> statements) {
    for (std::string_view sql : statements) {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db, sql, scope));
        stmt.Bind(3, key);
        OTA_TRY(stmt.Run());
    }
    return Ok();
}

// Whether the single-row EXISTS query `sql` is true for the scope and `key` as ?3.
Result<bool> ScopedExists(Connection& db,
                          const Scope& scope,
                          std::string_view sql,
                          std::string_view key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db, sql, scope));
    stmt.Bind(3, key);
    OTA_ASSIGN_OR_RETURN(int64_t exists, QueryInt(stmt));
    return exists != 0;
}

Product ReadProduct(const Statement& stmt) {
    Product product;
    product.product_key = stmt.ColumnText(0);
    product.product_name = stmt.ColumnText(1);
    product.product_secret = stmt.ColumnText(2);
    product.description = stmt.ColumnText(3);
    product.node_type = stmt.ColumnInt(4);
    product.data_format = stmt.ColumnInt(5);
    product.aliyun_commodity_code = stmt.ColumnText(6);
    product.auth_type = stmt.ColumnText(7);
    product.protocol_type = stmt.ColumnText(8);
    product.net_type = stmt.ColumnInt(9);
    product.id2 = stmt.ColumnBool(10);
    product.category_key = stmt.ColumnText(11);
    product.validate_type = stmt.ColumnInt(12);
    product.publish_auto = stmt.ColumnBool(13);
    product.product_status = stmt.ColumnText(14);
    product.created_ms = stmt.ColumnInt64(15);
    return product;
}

Result<Firmware> ReadFirmware(const Statement& stmt) {
    Firmware firmware;
    firmware.firmware_id = stmt.ColumnText(0);
    firmware.firmware_name = stmt.ColumnText(1);
    firmware.firmware_desc = stmt.ColumnText(2);
    firmware.product_key = stmt.ColumnText(3);
    firmware.module_name = stmt.ColumnText(4);
    firmware.dest_version = stmt.ColumnText(5);
    firmware.src_version = stmt.ColumnText(6);
    firmware.type = stmt.ColumnInt(7);
    OTA_ASSIGN_OR_RETURN(firmware.sign_method, ParseSignMethod(stmt.ColumnText(8)));
    firmware.firmware_sign = stmt.ColumnText(9);
    firmware.firmware_size = stmt.ColumnInt64(10);
    firmware.firmware_url = stmt.ColumnText(11);
    firmware.need_to_verify = stmt.ColumnBool(12);
    OTA_ASSIGN_OR_RETURN(firmware.status, ParseFirmwareStatus(stmt.ColumnInt(13)));
    firmware.verify_progress = stmt.ColumnInt(14);
    firmware.udi = stmt.ColumnText(15);
    firmware.created_ms = stmt.ColumnInt64(16);
    firmware.modified_ms = stmt.ColumnInt64(17);
    return firmware;
}

// Reads a file from the five columns from `first`: name, url, size, md5, sign_value.
FirmwareFile ReadFirmwareFile(const Statement& stmt, int first) {
    return FirmwareFile{stmt.ColumnText(first),
                        stmt.ColumnText(first + 1),
                        stmt.ColumnInt64(first + 2),
                        stmt.ColumnText(first + 3),
                        stmt.ColumnText(first + 4)};
}

Status LoadFirmwareFiles(Connection& db, Firmware& firmware) {
    OTA_ASSIGN_OR_RETURN(Statement files, db.Prepare(kSelectFirmwareFiles));
    files.Bind(1, firmware.firmware_id);
    return CollectRows(
        files, firmware.multi_files, [](const Statement& row) { return ReadFirmwareFile(row, 0); });
}

Result<std::optional<Device>> FindOneDevice(Statement& stmt) {
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Device>();
    }
    return std::optional<Device>(ReadDevice(stmt));
}

}  // namespace

Device ReadDevice(const Statement& stmt) {
    Device device;
    device.iot_id = stmt.ColumnText(0);
    device.product_key = stmt.ColumnText(1);
    device.device_name = stmt.ColumnText(2);
    device.device_secret = stmt.ColumnText(3);
    device.nickname = stmt.ColumnText(4);
    device.status = stmt.ColumnText(5);
    device.firmware_version = stmt.ColumnText(6);
    device.ip_address = stmt.ColumnText(7);
    device.created_ms = stmt.ColumnInt64(8);
    device.modified_ms = stmt.ColumnInt64(9);
    device.active_ms = stmt.ColumnInt64(10);
    device.online_ms = stmt.ColumnInt64(11);
    return device;
}

Result<std::optional<Product>> SqlTx::FindProduct(const Scope& scope,
                                                  std::string_view product_key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectProduct, scope));
    stmt.Bind(3, product_key);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Product>();
    }
    return std::optional<Product>(ReadProduct(stmt));
}

Result<bool> SqlTx::ProductNameExists(const Scope& scope, std::string_view name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectProductNameExists, scope));
    stmt.Bind(3, name);
    OTA_ASSIGN_OR_RETURN(int64_t exists, QueryInt(stmt));
    return exists != 0;
}

Result<int64_t> SqlTx::CountProducts(const Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountProducts, scope));
    return QueryInt(stmt);
}

Status SqlTx::InsertProduct(const Scope& scope, const Product& product) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertProduct, scope));
    stmt.Bind(3, product.product_key);
    stmt.Bind(4, product.product_name);
    stmt.Bind(5, product.product_secret);
    stmt.Bind(6, product.description);
    stmt.Bind(7, product.node_type);
    stmt.Bind(8, product.data_format);
    stmt.Bind(9, product.aliyun_commodity_code);
    stmt.Bind(10, product.auth_type);
    stmt.Bind(11, product.protocol_type);
    stmt.Bind(12, product.net_type);
    stmt.Bind(13, product.id2);
    stmt.Bind(14, product.category_key);
    stmt.Bind(15, product.validate_type);
    stmt.Bind(16, product.publish_auto);
    stmt.Bind(17, product.product_status);
    stmt.Bind(18, product.created_ms);
    return RunInsert(stmt, ErrorCode::kProductNameExists, [&]() {
        return ProductNameExists(scope, product.product_name);
    });
}

Result<std::optional<Device>> SqlTx::FindDevice(const Scope& scope,
                                                std::string_view product_key,
                                                std::string_view device_name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDeviceByName, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, device_name);
    return FindOneDevice(stmt);
}

Result<std::optional<Device>> SqlTx::FindDeviceByIotId(const Scope& scope,
                                                       std::string_view iot_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDeviceByIotId, scope));
    stmt.Bind(3, iot_id);
    return FindOneDevice(stmt);
}

Result<std::optional<domain::ScopedDevice>> SqlTx::FindDeviceAnyScope(
    std::string_view product_key, std::string_view device_name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectDeviceAnyScope));
    stmt.Bind(1, product_key);
    stmt.Bind(2, device_name);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<domain::ScopedDevice>();
    }
    domain::ScopedDevice found;
    found.device = ReadDevice(stmt);
    found.scope.account_id = stmt.ColumnInt64(12);
    found.scope.instance_id = stmt.ColumnInt64(13);
    return std::optional<domain::ScopedDevice>(std::move(found));
}

Result<domain::ReadTx::DevicePackageRefs> SqlTx::ResolveDevicePackage(
    const Scope& scope,
    std::string_view product_key,
    std::string_view device_name,
    std::string_view firmware_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kResolveDevicePackage, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, device_name);
    stmt.Bind(5, firmware_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    DevicePackageRefs refs;
    if (row) {
        refs.product_exists = stmt.ColumnInt64(0) != 0;
        refs.iot_id = stmt.ColumnText(1);
        refs.firmware_exists = stmt.ColumnInt64(2) != 0;
    }
    return refs;
}

Result<int64_t> SqlTx::ResetPresence() {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kResetPresence));
    OTA_TRY(stmt.Run());
    return db_.Changes();
}

Result<int64_t> SqlTx::CountDevices(const Scope& scope, std::string_view product_key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountDevices, scope));
    stmt.Bind(3, product_key);
    return QueryInt(stmt);
}

Status SqlTx::ForEachDevice(const Scope& scope,
                            std::string_view product_key,
                            const std::function<Status(const Device&)>& fn) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScopedStream(db_, kSelectDevicesOfProduct, scope));
    stmt.Bind(3, product_key);
    // One row at a time: the statement stays open while `fn` runs, so `fn` may issue other
    // queries on this transaction.
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return Ok();
        }
        OTA_TRY(fn(ReadDevice(stmt)));
    }
}

Status SqlTx::InsertDevice(const Scope& scope, const Device& device) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertDevice, scope));
    stmt.Bind(3, device.iot_id);
    stmt.Bind(4, device.product_key);
    stmt.Bind(5, device.device_name);
    stmt.Bind(6, device.device_secret);
    stmt.Bind(7, device.nickname);
    stmt.Bind(8, device.status);
    stmt.Bind(9, device.firmware_version);
    stmt.Bind(10, device.ip_address);
    stmt.Bind(11, device.created_ms);
    stmt.Bind(12, device.modified_ms);
    stmt.Bind(13, device.active_ms);
    stmt.Bind(14, device.online_ms);
    return RunInsert(stmt, ErrorCode::kDeviceNameExists, [&]() -> Result<bool> {
        OTA_ASSIGN_OR_RETURN(auto found, FindDevice(scope, device.product_key, device.device_name));
        return found.has_value();
    });
}

Result<std::optional<Firmware>> SqlTx::FindFirmware(const Scope& scope,
                                                    std::string_view firmware_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectFirmwareWithFiles, scope));
    stmt.Bind(3, firmware_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Firmware>();
    }
    // The package's columns repeat on every row; they are read from the first.
    OTA_ASSIGN_OR_RETURN(Firmware firmware, ReadFirmware(stmt));
    while (row && stmt.ColumnOptionalInt(kFilePositionColumn).has_value()) {
        firmware.multi_files.push_back(ReadFirmwareFile(stmt, kFirstFileColumn));
        OTA_ASSIGN_OR_RETURN(row, stmt.Step());
    }
    return std::optional<Firmware>(std::move(firmware));
}

Result<bool> SqlTx::FirmwareNameExists(const Scope& scope, std::string_view name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectFirmwareNameExists, scope));
    stmt.Bind(3, name);
    OTA_ASSIGN_OR_RETURN(int64_t exists, QueryInt(stmt));
    return exists != 0;
}

Result<int64_t> SqlTx::CountFirmware(const Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountFirmware, scope));
    return QueryInt(stmt);
}

Status SqlTx::InsertFirmware(const Scope& scope, const Firmware& firmware) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertFirmware, scope));
    stmt.Bind(3, firmware.firmware_id);
    stmt.Bind(4, firmware.firmware_name);
    stmt.Bind(5, firmware.firmware_desc);
    stmt.Bind(6, firmware.product_key);
    stmt.Bind(7, firmware.module_name);
    stmt.Bind(8, firmware.dest_version);
    stmt.Bind(9, firmware.src_version);
    stmt.Bind(10, firmware.type);
    stmt.Bind(11, ToText(firmware.sign_method));
    stmt.Bind(12, firmware.firmware_sign);
    stmt.Bind(13, firmware.firmware_size);
    stmt.Bind(14, firmware.firmware_url);
    stmt.Bind(15, firmware.need_to_verify);
    stmt.Bind(16, static_cast<int>(firmware.status));
    stmt.Bind(17, firmware.verify_progress);
    stmt.Bind(18, firmware.udi);
    stmt.Bind(19, firmware.created_ms);
    stmt.Bind(20, firmware.modified_ms);
    OTA_TRY(RunInsert(stmt, ErrorCode::kFirmwareNameExists, [&]() {
        return FirmwareNameExists(scope, firmware.firmware_name);
    }));

    OTA_ASSIGN_OR_RETURN(Statement file_stmt, db_.Prepare(kInsertFirmwareFile));
    for (size_t i = 0; i < firmware.multi_files.size(); ++i) {
        const FirmwareFile& file = firmware.multi_files[i];
        file_stmt.Bind(1, firmware.firmware_id);
        file_stmt.Bind(2, static_cast<int64_t>(i));
        file_stmt.Bind(3, file.name);
        file_stmt.Bind(4, file.url);
        file_stmt.Bind(5, file.size);
        file_stmt.Bind(6, file.md5);
        file_stmt.Bind(7, file.sign_value);
        OTA_TRY(file_stmt.Run());
        file_stmt.Reset();
    }
    return Ok();
}

Status SqlTx::UpdateFirmwareStatus(const Scope& scope,
                                   std::string_view firmware_id,
                                   domain::FirmwareStatus status,
                                   int verify_progress,
                                   int64_t modified_ms) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateFirmwareStatus, scope));
    stmt.Bind(3, firmware_id);
    stmt.Bind(4, static_cast<int>(status));
    stmt.Bind(5, verify_progress);
    stmt.Bind(6, modified_ms);
    OTA_TRY(stmt.Run());
    if (db_.Changes() == 0) {
        return MakeError(ErrorCode::kFirmwareNotFound);
    }
    return Ok();
}

Result<Page<Product>> SqlTx::ListProducts(const Scope& scope,
                                          int64_t offset,
                                          int64_t limit,
                                          std::vector<int64_t>& device_counts) {
    device_counts.clear();
    Page<Product> page;
    OTA_ASSIGN_OR_RETURN(page.total, CountProducts(scope));
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectProductPage, scope));
    BindPage(stmt, 3, offset, limit);
    OTA_TRY(CollectRows(stmt, page.items, [&](const Statement& row) {
        device_counts.push_back(row.ColumnInt64(16));
        return ReadProduct(row);
    }));
    return page;
}

Status SqlTx::UpdateProduct(const Scope& scope, const Product& product) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateProduct, scope));
    stmt.Bind(3, product.product_key);
    stmt.Bind(4, product.product_name);
    stmt.Bind(5, product.description);
    // The only unique column the update touches is the name, so a violation means it is taken.
    OTA_TRY(RunInsert(stmt, ErrorCode::kProductNameExists, []() -> Result<bool> { return true; }));
    if (db_.Changes() == 0) {
        return MakeError(ErrorCode::kProductNotFound);
    }
    return Ok();
}

Status SqlTx::DeleteProduct(const Scope& scope, std::string_view product_key) {
    OTA_ASSIGN_OR_RETURN(bool exists, ScopedExists(db_, scope, kSelectProductExists, product_key));
    if (!exists) {
        return MakeError(ErrorCode::kProductNotFound);
    }
    // Batch registrations are records of the product too, so they go with it (the contract does
    // not name them; keeping them would leave rows that point at a missing product).
    return RunScopedDeletes(db_,
                            scope,
                            product_key,
                            {kDeleteTasksOfProduct,
                             kDeleteJobsOfProduct,
                             kDeleteFirmwareOfProduct,
                             kDeleteModuleVersionsOfProduct,
                             kDeleteGroupMembersOfProduct,
                             kDeleteModulesOfProduct,
                             kDeleteRegistrationsOfProduct,
                             kDeleteDevicesOfProduct,
                             kDeleteProduct});
}

Result<Page<Device>> SqlTx::ListDevices(const Scope& scope,
                                        std::string_view product_key,
                                        int64_t offset,
                                        int64_t limit) {
    Page<Device> page;
    OTA_ASSIGN_OR_RETURN(page.total, CountDevices(scope, product_key));
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDevicePage, scope));
    stmt.Bind(3, product_key);
    BindPage(stmt, 4, offset, limit);
    OTA_TRY(CollectRows(stmt, page.items, ReadDevice));
    return page;
}

Status SqlTx::UpdateDevice(const Scope& scope, const Device& device) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateDevice, scope));
    stmt.Bind(3, device.iot_id);
    stmt.Bind(4, device.nickname);
    stmt.Bind(5, device.status);
    stmt.Bind(6, device.firmware_version);
    stmt.Bind(7, device.ip_address);
    stmt.Bind(8, device.modified_ms);
    stmt.Bind(9, device.active_ms);
    stmt.Bind(10, device.online_ms);
    return RunChange(db_, stmt, ErrorCode::kDeviceNotFound);
}

Status SqlTx::DeleteDevice(const Scope& scope, std::string_view iot_id) {
    OTA_TRY(RunScopedDeletes(
        db_, scope, iot_id, {kDeleteModuleVersionsOfDevice, kDeleteGroupMembersOfDevice}));
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kDeleteDevice, scope));
    stmt.Bind(3, iot_id);
    return RunChange(db_, stmt, ErrorCode::kDeviceNotFound);
}

Result<Page<Firmware>> SqlTx::ListFirmware(const Scope& scope,
                                           std::string_view product_key,
                                           std::string_view dest_version,
                                           int64_t offset,
                                           int64_t limit) {
    std::string_view select = kSelectFirmwarePage;
    std::string_view count = kCountFirmwarePage;
    if (!product_key.empty() && !dest_version.empty()) {
        select = kSelectFirmwarePageByProductAndVersion;
        count = kCountFirmwarePageByProductAndVersion;
    } else if (!product_key.empty()) {
        select = kSelectFirmwarePageByProduct;
        count = kCountFirmwarePageByProduct;
    } else if (!dest_version.empty()) {
        select = kSelectFirmwarePageByVersion;
        count = kCountFirmwarePageByVersion;
    }
    // The filters that are set, in the order of the statements' parameters.
    std::vector<std::string_view> filters;
    for (std::string_view filter : {product_key, dest_version}) {
        if (!filter.empty()) {
            filters.push_back(filter);
        }
    }
    const int page_index = 3 + static_cast<int>(filters.size());

    Page<Firmware> page;
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, count, scope));
        for (size_t i = 0; i < filters.size(); ++i) {
            stmt.Bind(3 + static_cast<int>(i), filters[i]);
        }
        OTA_ASSIGN_OR_RETURN(page.total, QueryInt(stmt));
    }
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, select, scope));
        for (size_t i = 0; i < filters.size(); ++i) {
            stmt.Bind(3 + static_cast<int>(i), filters[i]);
        }
        BindPage(stmt, page_index, offset, limit);
        OTA_TRY(CollectRows(stmt, page.items, ReadFirmware));
    }
    for (Firmware& firmware : page.items) {
        OTA_TRY(LoadFirmwareFiles(db_, firmware));
    }
    return page;
}

Result<int64_t> SqlTx::CountFirmwareOfModule(const Scope& scope,
                                             std::string_view product_key,
                                             std::string_view module_name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountFirmwareOfModule, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, module_name);
    return QueryInt(stmt);
}

Status SqlTx::DeleteFirmware(const Scope& scope, std::string_view firmware_id) {
    OTA_ASSIGN_OR_RETURN(bool exists, ScopedExists(db_, scope, kSelectFirmwareExists, firmware_id));
    if (!exists) {
        return MakeError(ErrorCode::kFirmwareNotFound);
    }
    return RunScopedDeletes(
        db_, scope, firmware_id, {kDeleteTasksOfFirmware, kDeleteJobsOfFirmware, kDeleteFirmware});
}

}  // namespace otad::storage::sql
