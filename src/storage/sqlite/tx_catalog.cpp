// Products, devices and firmware.

#include "storage/sqlite/codec.hpp"
#include "storage/sqlite/tx.hpp"

#include <sqlite3.h>

#include <functional>
#include <utility>

namespace otad::storage::sqlite {
namespace {

using domain::Device;
using domain::Firmware;
using domain::FirmwareFile;
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

constexpr std::string_view kSelectFirmware =
    "SELECT firmware_id, firmware_name, firmware_desc, product_key, module_name, dest_version, "
    "       src_version, type, sign_method, firmware_sign, firmware_size, firmware_url, "
    "       need_to_verify, status, verify_progress, udi, created_ms, modified_ms "
    "FROM firmware WHERE firmware_id = ?3 AND account_id = ?1 AND instance_id = ?2";
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

Result<std::optional<Device>> FindOneDevice(Statement& stmt) {
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Device>();
    }
    return std::optional<Device>(ReadDevice(stmt));
}

// Runs an INSERT. A uniqueness violation becomes `taken` when `name_taken` confirms that the
// caller-visible name is the cause; any other violation (a colliding generated identifier, say)
// stays an internal error.
Status RunInsert(Connection& db,
                 Statement& stmt,
                 ErrorCode taken,
                 const std::function<Result<bool>()>& name_taken) {
    int rc = stmt.StepRaw();
    if (rc == SQLITE_DONE) {
        return Ok();
    }
    Error error = db.ErrorFrom(rc, "insert");
    if (IsUniqueViolation(rc)) {
        OTA_ASSIGN_OR_RETURN(bool is_taken, name_taken());
        if (is_taken) {
            error.code = taken;
        }
    }
    return error;
}

}  // namespace

Result<std::optional<Product>> SqliteTx::FindProduct(const Scope& scope,
                                                     std::string_view product_key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectProduct, scope));
    stmt.Bind(3, product_key);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Product>();
    }
    return std::optional<Product>(ReadProduct(stmt));
}

Result<bool> SqliteTx::ProductNameExists(const Scope& scope, std::string_view name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectProductNameExists, scope));
    stmt.Bind(3, name);
    OTA_ASSIGN_OR_RETURN(int64_t exists, QueryInt(stmt));
    return exists != 0;
}

Result<int64_t> SqliteTx::CountProducts(const Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountProducts, scope));
    return QueryInt(stmt);
}

Status SqliteTx::InsertProduct(const Scope& scope, const Product& product) {
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
    return RunInsert(db_, stmt, ErrorCode::kProductNameExists, [&]() {
        return ProductNameExists(scope, product.product_name);
    });
}

Result<std::optional<Device>> SqliteTx::FindDevice(const Scope& scope,
                                                   std::string_view product_key,
                                                   std::string_view device_name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDeviceByName, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, device_name);
    return FindOneDevice(stmt);
}

Result<std::optional<Device>> SqliteTx::FindDeviceByIotId(const Scope& scope,
                                                          std::string_view iot_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDeviceByIotId, scope));
    stmt.Bind(3, iot_id);
    return FindOneDevice(stmt);
}

Result<int64_t> SqliteTx::CountDevices(const Scope& scope, std::string_view product_key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountDevices, scope));
    stmt.Bind(3, product_key);
    return QueryInt(stmt);
}

Status SqliteTx::ForEachDevice(const Scope& scope,
                               std::string_view product_key,
                               const std::function<Status(const Device&)>& fn) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDevicesOfProduct, scope));
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

Status SqliteTx::InsertDevice(const Scope& scope, const Device& device) {
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
    return RunInsert(db_, stmt, ErrorCode::kDeviceNameExists, [&]() -> Result<bool> {
        OTA_ASSIGN_OR_RETURN(auto found, FindDevice(scope, device.product_key, device.device_name));
        return found.has_value();
    });
}

Result<std::optional<Firmware>> SqliteTx::FindFirmware(const Scope& scope,
                                                       std::string_view firmware_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectFirmware, scope));
    stmt.Bind(3, firmware_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Firmware>();
    }
    OTA_ASSIGN_OR_RETURN(Firmware firmware, ReadFirmware(stmt));

    OTA_ASSIGN_OR_RETURN(Statement files, db_.Prepare(kSelectFirmwareFiles));
    files.Bind(1, firmware.firmware_id);
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool file_row, files.Step());
        if (!file_row) {
            break;
        }
        FirmwareFile& file = firmware.multi_files.emplace_back();
        file.name = files.ColumnText(0);
        file.url = files.ColumnText(1);
        file.size = files.ColumnInt64(2);
        file.md5 = files.ColumnText(3);
        file.sign_value = files.ColumnText(4);
    }
    return std::optional<Firmware>(std::move(firmware));
}

Result<bool> SqliteTx::FirmwareNameExists(const Scope& scope, std::string_view name) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectFirmwareNameExists, scope));
    stmt.Bind(3, name);
    OTA_ASSIGN_OR_RETURN(int64_t exists, QueryInt(stmt));
    return exists != 0;
}

Result<int64_t> SqliteTx::CountFirmware(const Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountFirmware, scope));
    return QueryInt(stmt);
}

Status SqliteTx::InsertFirmware(const Scope& scope, const Firmware& firmware) {
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
    OTA_TRY(RunInsert(db_, stmt, ErrorCode::kFirmwareNameExists, [&]() {
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

Status SqliteTx::UpdateFirmwareStatus(const Scope& scope,
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

}  // namespace otad::storage::sqlite
