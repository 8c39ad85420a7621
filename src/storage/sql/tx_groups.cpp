// Modules, module versions, and device groups.

#include "storage/sql/codec.hpp"
#include "storage/sql/tx.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace otad::storage::sql {
namespace {

using domain::Device;
using domain::Group;
using domain::GroupType;
using domain::Module;
using domain::ModuleVersion;
using domain::Page;
using domain::Scope;

// Module names are unique per product ignoring ASCII letter case (lower() folds exactly A-Z in
// both engines for these names); updates and deletes require the exact name, as UpdateModule's
// contract says. A product has few modules: the product's range of the key is scanned.
constexpr std::string_view kSelectModules =
    "SELECT product_key, module_name, alias_name, module_desc, created_ms, modified_ms "
    "FROM modules WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "ORDER BY created_ms, module_name";
constexpr std::string_view kSelectModule =
    "SELECT product_key, module_name, alias_name, module_desc, created_ms, modified_ms "
    "FROM modules WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "  AND lower(module_name) = lower(?4)";
constexpr std::string_view kInsertModule =
    "INSERT INTO modules (account_id, instance_id, product_key, module_name, alias_name, "
    "    module_desc, created_ms, modified_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr std::string_view kUpdateModule =
    "UPDATE modules SET alias_name = ?5, module_desc = ?6, modified_ms = ?7 "
    "WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "  AND module_name = ?4";
constexpr std::string_view kDeleteModule =
    "DELETE FROM modules WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "  AND module_name = ?4";

constexpr std::string_view kSelectModuleVersionPage =
    "SELECT iot_id, product_key, device_name, module_name, version, modified_ms "
    "FROM module_versions WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 "
    "ORDER BY module_name LIMIT ?4 OFFSET ?5";
constexpr std::string_view kCountModuleVersions =
    "SELECT COUNT(*) FROM module_versions "
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3";
constexpr std::string_view kSelectModuleVersion =
    "SELECT iot_id, product_key, device_name, module_name, version, modified_ms "
    "FROM module_versions "
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 AND module_name = ?4";
constexpr std::string_view kUpsertModuleVersion =
    "INSERT INTO module_versions (account_id, instance_id, iot_id, module_name, product_key, "
    "    device_name, version, modified_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (account_id, instance_id, iot_id, module_name) DO UPDATE SET "
    "    product_key = excluded.product_key, device_name = excluded.device_name, "
    "    version = excluded.version, modified_ms = excluded.modified_ms";

constexpr std::string_view kSelectGroup =
    "SELECT group_id, group_name, group_desc, group_type, dynamic_expression, super_group_id, "
    "       created_ms "
    "FROM groups_ WHERE group_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kSelectGroupNameExists =
    "SELECT EXISTS (SELECT 1 FROM groups_ "
    "               WHERE account_id = ?1 AND instance_id = ?2 AND group_name = ?3)";
constexpr std::string_view kInsertGroup =
    "INSERT INTO groups_ (account_id, instance_id, group_id, group_name, group_desc, "
    "    group_type, dynamic_expression, super_group_id, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
// ListGroups walks the scope's groups in page order (groups_by_created) and filters each row:
// ?3 a fragment of the name ('' = any; found by replace(), which both engines have, so
// case-sensitive and free of LIKE wildcards),
// ?4 the parent ('' = any), ?5/?6 the types wanted.
#define OTA_GROUP_FILTER                                                                         \
    "WHERE account_id = ?1 AND instance_id = ?2 AND (?3 = '' OR replace(group_name, ?3, '') <> " \
    "group_name) "                                                                               \
    "  AND (?4 = '' OR super_group_id = ?4) AND group_type IN (?5, ?6) "
constexpr std::string_view kSelectGroupPage =
    "SELECT group_id, group_name, group_desc, group_type, dynamic_expression, super_group_id, "
    "       created_ms "
    "FROM groups_ " OTA_GROUP_FILTER "ORDER BY created_ms, group_id LIMIT ?7 OFFSET ?8";
constexpr std::string_view kCountGroupPage = "SELECT COUNT(*) FROM groups_ " OTA_GROUP_FILTER;
#undef OTA_GROUP_FILTER
constexpr std::string_view kCountGroups =
    "SELECT COUNT(*) FROM groups_ WHERE account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kCountSubGroups =
    "SELECT COUNT(*) FROM groups_ "
    "WHERE account_id = ?1 AND instance_id = ?2 AND super_group_id = ?3";
constexpr std::string_view kDeleteGroupMembers =
    "DELETE FROM group_members WHERE account_id = ?1 AND instance_id = ?2 AND group_id = ?3";
constexpr std::string_view kDeleteGroup =
    "DELETE FROM groups_ WHERE group_id = ?3 AND account_id = ?1 AND instance_id = ?2";

constexpr std::string_view kCountGroupMembers =
    "SELECT COUNT(*) FROM group_members "
    "WHERE account_id = ?1 AND instance_id = ?2 AND group_id = ?3";
constexpr std::string_view kCountGroupsOfDevice =
    "SELECT COUNT(*) FROM group_members "
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3";
constexpr std::string_view kSelectIsGroupMember =
    "SELECT EXISTS (SELECT 1 FROM group_members "
    "               WHERE account_id = ?1 AND instance_id = ?2 AND group_id = ?3 "
    "                 AND iot_id = ?4)";
constexpr std::string_view kInsertGroupMember =
    "INSERT INTO group_members (account_id, instance_id, group_id, iot_id) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
// The members in iot_id order (the primary key), each device found by its unique key.
constexpr std::string_view kSelectGroupMembers =
    "SELECT d.iot_id, d.product_key, d.device_name, d.device_secret, d.nickname, d.status, "
    "       d.firmware_version, d.ip_address, d.created_ms, d.modified_ms, d.active_ms, "
    "       d.online_ms "
    "FROM group_members AS m CROSS JOIN devices AS d "
    "WHERE m.account_id = ?1 AND m.instance_id = ?2 AND m.group_id = ?3 "
    "  AND d.iot_id = m.iot_id AND d.account_id = ?1 AND d.instance_id = ?2 "
    "ORDER BY m.iot_id";

Module ReadModule(const Statement& stmt) {
    Module module;
    module.product_key = stmt.ColumnText(0);
    module.module_name = stmt.ColumnText(1);
    module.alias_name = stmt.ColumnText(2);
    module.desc = stmt.ColumnText(3);
    module.created_ms = stmt.ColumnInt64(4);
    module.modified_ms = stmt.ColumnInt64(5);
    return module;
}

ModuleVersion ReadModuleVersion(const Statement& stmt) {
    ModuleVersion version;
    version.iot_id = stmt.ColumnText(0);
    version.product_key = stmt.ColumnText(1);
    version.device_name = stmt.ColumnText(2);
    version.module_name = stmt.ColumnText(3);
    version.version = stmt.ColumnText(4);
    version.modified_ms = stmt.ColumnInt64(5);
    return version;
}

Result<Group> ReadGroup(const Statement& stmt) {
    Group group;
    group.group_id = stmt.ColumnText(0);
    group.group_name = stmt.ColumnText(1);
    group.group_desc = stmt.ColumnText(2);
    OTA_ASSIGN_OR_RETURN(group.group_type, ParseGroupType(stmt.ColumnText(3)));
    group.dynamic_expression = stmt.ColumnText(4);
    group.super_group_id = stmt.ColumnText(5);
    group.created_ms = stmt.ColumnInt64(6);
    return group;
}

// Runs a scoped count whose only other parameter is `key` as ?3.
Result<int64_t> ScopedCount(Connection& db,
                            const Scope& scope,
                            std::string_view sql,
                            std::string_view key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db, sql, scope));
    stmt.Bind(3, key);
    return QueryInt(stmt);
}

}  // namespace

Result<std::vector<Module>> SqlTx::ListModules(const Scope& scope, std::string_view product_key) {
    std::vector<Module> modules;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectModules, scope));
    stmt.Bind(3, product_key);
    OTA_TRY(CollectRows(stmt, modules, ReadModule));
    return modules;
}

Result<std::optional<Module>> SqlTx::FindModule(const Scope& scope,
                                                std::string_view product_key,
                                                std::string_view module_name) {
    std::vector<Module> modules;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectModule, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, module_name);
    OTA_TRY(CollectRows(stmt, modules, ReadModule));
    if (modules.empty()) {
        return std::optional<Module>();
    }
    return std::optional<Module>(std::move(modules.front()));
}

Status SqlTx::InsertModule(const Scope& scope, const Module& module) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertModule, scope));
    stmt.Bind(3, module.product_key);
    stmt.Bind(4, module.module_name);
    stmt.Bind(5, module.alias_name);
    stmt.Bind(6, module.desc);
    stmt.Bind(7, module.created_ms);
    stmt.Bind(8, module.modified_ms);
    // The primary key is the only unique constraint: a violation is a name clash. A missing
    // product violates the foreign key.
    return RunInsertWithParent(
        stmt,
        ErrorCode::kModuleNameExists,
        []() -> Result<bool> { return true; },
        ErrorCode::kProductNotFound);
}

Status SqlTx::UpdateModule(const Scope& scope, const Module& module) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateModule, scope));
    stmt.Bind(3, module.product_key);
    stmt.Bind(4, module.module_name);
    stmt.Bind(5, module.alias_name);
    stmt.Bind(6, module.desc);
    stmt.Bind(7, module.modified_ms);
    return RunChange(db_, stmt, ErrorCode::kModuleNotFound);
}

Status SqlTx::DeleteModule(const Scope& scope,
                           std::string_view product_key,
                           std::string_view module_name) {
    // Like UpdateModule, the exact name. The devices' reported versions of the module stay:
    // they are what the devices said, and go with the devices.
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kDeleteModule, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, module_name);
    return RunChange(db_, stmt, ErrorCode::kModuleNotFound);
}

Result<Page<ModuleVersion>> SqlTx::ListModuleVersions(const Scope& scope,
                                                      std::string_view iot_id,
                                                      int64_t offset,
                                                      int64_t limit) {
    Page<ModuleVersion> page;
    OTA_ASSIGN_OR_RETURN(page.total, ScopedCount(db_, scope, kCountModuleVersions, iot_id));
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectModuleVersionPage, scope));
    stmt.Bind(3, iot_id);
    BindPage(stmt, 4, offset, limit);
    OTA_TRY(CollectRows(stmt, page.items, ReadModuleVersion));
    return page;
}

Result<std::optional<ModuleVersion>> SqlTx::FindModuleVersion(const Scope& scope,
                                                              std::string_view iot_id,
                                                              std::string_view module_name) {
    std::vector<ModuleVersion> versions;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectModuleVersion, scope));
    stmt.Bind(3, iot_id);
    stmt.Bind(4, module_name);
    OTA_TRY(CollectRows(stmt, versions, ReadModuleVersion));
    if (versions.empty()) {
        return std::optional<ModuleVersion>();
    }
    return std::optional<ModuleVersion>(std::move(versions.front()));
}

Status SqlTx::UpsertModuleVersion(const Scope& scope, const ModuleVersion& version) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpsertModuleVersion, scope));
    stmt.Bind(3, version.iot_id);
    stmt.Bind(4, version.module_name);
    stmt.Bind(5, version.product_key);
    stmt.Bind(6, version.device_name);
    stmt.Bind(7, version.version);
    stmt.Bind(8, version.modified_ms);
    // The row needs a device of the scope (foreign key): kDeviceNotFound otherwise.
    return RunInsertWithParent(
        stmt,
        ErrorCode::kInternal,
        []() -> Result<bool> { return false; },
        ErrorCode::kDeviceNotFound);
}

Result<std::optional<Group>> SqlTx::FindGroup(const Scope& scope, std::string_view group_id) {
    std::vector<Group> groups;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectGroup, scope));
    stmt.Bind(3, group_id);
    OTA_TRY(CollectRows(stmt, groups, ReadGroup));
    if (groups.empty()) {
        return std::optional<Group>();
    }
    return std::optional<Group>(std::move(groups.front()));
}

Result<bool> SqlTx::GroupNameExists(const Scope& scope, std::string_view group_name) {
    OTA_ASSIGN_OR_RETURN(int64_t exists,
                         ScopedCount(db_, scope, kSelectGroupNameExists, group_name));
    return exists != 0;
}

Result<Page<Group>> SqlTx::ListGroups(const Scope& scope,
                                      std::string_view name_fragment,
                                      std::string_view super_group_id,
                                      const std::vector<GroupType>& types,
                                      int64_t offset,
                                      int64_t limit) {
    auto wants = [&](GroupType type) {
        return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
    };
    // A type not wanted binds NULL, which matches no row.
    auto bind_filters = [&](Statement& stmt) {
        stmt.Bind(3, name_fragment);
        stmt.Bind(4, super_group_id);
        int index = 5;
        for (GroupType type : {GroupType::kStatic, GroupType::kDynamic}) {
            if (wants(type)) {
                stmt.Bind(index, ToText(type));
            } else {
                stmt.BindNull(index);
            }
            ++index;
        }
    };
    Page<Group> page;
    {
        OTA_ASSIGN_OR_RETURN(Statement count, PrepareScoped(db_, kCountGroupPage, scope));
        bind_filters(count);
        OTA_ASSIGN_OR_RETURN(page.total, QueryInt(count));
    }
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectGroupPage, scope));
    bind_filters(stmt);
    BindPage(stmt, 7, offset, limit);
    OTA_TRY(CollectRows(stmt, page.items, ReadGroup));
    return page;
}

Result<int64_t> SqlTx::CountGroups(const Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountGroups, scope));
    return QueryInt(stmt);
}

Result<int64_t> SqlTx::CountSubGroups(const Scope& scope, std::string_view group_id) {
    return ScopedCount(db_, scope, kCountSubGroups, group_id);
}

Result<int64_t> SqlTx::CountGroupMembers(const Scope& scope, std::string_view group_id) {
    return ScopedCount(db_, scope, kCountGroupMembers, group_id);
}

Status SqlTx::ForEachGroupMember(const Scope& scope,
                                 std::string_view group_id,
                                 const std::function<Status(const Device&)>& fn) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScopedStream(db_, kSelectGroupMembers, scope));
    stmt.Bind(3, group_id);
    // One row at a time, like ForEachDevice.
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return Ok();
        }
        OTA_TRY(fn(ReadDevice(stmt)));
    }
}

Result<int64_t> SqlTx::CountGroupsOfDevice(const Scope& scope, std::string_view iot_id) {
    return ScopedCount(db_, scope, kCountGroupsOfDevice, iot_id);
}

Result<bool> SqlTx::IsGroupMember(const Scope& scope,
                                  std::string_view group_id,
                                  std::string_view iot_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectIsGroupMember, scope));
    stmt.Bind(3, group_id);
    stmt.Bind(4, iot_id);
    OTA_ASSIGN_OR_RETURN(int64_t member, QueryInt(stmt));
    return member != 0;
}

Status SqlTx::InsertGroup(const Scope& scope, const Group& group) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertGroup, scope));
    stmt.Bind(3, group.group_id);
    stmt.Bind(4, group.group_name);
    stmt.Bind(5, group.group_desc);
    stmt.Bind(6, ToText(group.group_type));
    stmt.Bind(7, group.dynamic_expression);
    stmt.Bind(8, group.super_group_id);
    stmt.Bind(9, group.created_ms);
    return RunInsert(stmt, ErrorCode::kGroupNameExists, [&]() {
        return GroupNameExists(scope, group.group_name);
    });
}

Status SqlTx::DeleteGroup(const Scope& scope, std::string_view group_id) {
    {
        OTA_ASSIGN_OR_RETURN(Statement members, PrepareScoped(db_, kDeleteGroupMembers, scope));
        members.Bind(3, group_id);
        OTA_TRY(members.Run());
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kDeleteGroup, scope));
    stmt.Bind(3, group_id);
    return RunChange(db_, stmt, ErrorCode::kGroupNotFound);
}

Result<bool> SqlTx::AddGroupMember(const Scope& scope,
                                   std::string_view group_id,
                                   std::string_view iot_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertGroupMember, scope));
    stmt.Bind(3, group_id);
    stmt.Bind(4, iot_id);
    OTA_ASSIGN_OR_RETURN(Violation violation, stmt.RunChecked());
    switch (violation) {
        case Violation::kNone:
            // DO NOTHING: no change when the device already was a member.
            return db_.Changes() > 0;
        case Violation::kForeignKey: {
            // The group or the device is not in the scope; say which.
            OTA_ASSIGN_OR_RETURN(auto group, FindGroup(scope, group_id));
            return MakeError(group ? ErrorCode::kDeviceNotFound : ErrorCode::kGroupNotFound);
        }
        case Violation::kUnique:
            break;
    }
    return InternalError("storage: group member insert: unexpected uniqueness violation");
}

}  // namespace otad::storage::sql
