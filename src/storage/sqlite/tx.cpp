// Accounts and instances.

#include "storage/sqlite/tx.hpp"

#include <sqlite3.h>

#include <utility>

namespace otad::storage::sqlite {
namespace {

using domain::Account;
using domain::Instance;

constexpr std::string_view kSelectAccountByAccessKey =
    "SELECT id, name, access_key_id, access_key_secret, enabled, created_ms "
    "FROM accounts WHERE access_key_id = ?1";
constexpr std::string_view kSelectAccountByName =
    "SELECT id, name, access_key_id, access_key_secret, enabled, created_ms "
    "FROM accounts WHERE name = ?1";
constexpr std::string_view kSelectAccounts =
    "SELECT id, name, access_key_id, access_key_secret, enabled, created_ms "
    "FROM accounts ORDER BY id";
constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts (id, name, access_key_id, access_key_secret, enabled, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

constexpr std::string_view kSelectDefaultInstance =
    "SELECT id, account_id, instance_id, is_default, created_ms "
    "FROM instances WHERE account_id = ?1 AND is_default = 1";
constexpr std::string_view kSelectInstance =
    "SELECT id, account_id, instance_id, is_default, created_ms "
    "FROM instances WHERE instance_id = ?2 AND account_id = ?1";
constexpr std::string_view kInsertInstance =
    "INSERT INTO instances (id, account_id, instance_id, is_default, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

Account ReadAccount(const Statement& stmt) {
    Account account;
    account.id = stmt.ColumnInt64(0);
    account.name = stmt.ColumnText(1);
    account.access_key_id = stmt.ColumnText(2);
    account.access_key_secret = stmt.ColumnText(3);
    account.enabled = stmt.ColumnBool(4);
    account.created_ms = stmt.ColumnInt64(5);
    return account;
}

Instance ReadInstance(const Statement& stmt) {
    Instance instance;
    instance.id = stmt.ColumnInt64(0);
    instance.account_id = stmt.ColumnInt64(1);
    instance.instance_id = stmt.ColumnText(2);
    instance.is_default = stmt.ColumnBool(3);
    instance.created_ms = stmt.ColumnInt64(4);
    return instance;
}

// Binds `id` as ?1, or NULL when it is 0 so that SQLite assigns the next one.
void BindRowId(Statement& stmt, int64_t id) {
    if (id == 0) {
        stmt.BindNull(1);
    } else {
        stmt.Bind(1, id);
    }
}

Result<std::optional<Account>> FindOneAccount(Connection& db,
                                              std::string_view sql,
                                              std::string_view key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
    stmt.Bind(1, key);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Account>();
    }
    return std::optional<Account>(ReadAccount(stmt));
}

}  // namespace

Result<Statement> PrepareScoped(Connection& db, std::string_view sql, const domain::Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
    stmt.Bind(1, scope.account_id);
    stmt.Bind(2, scope.instance_id);
    return stmt;
}

Result<int64_t> QueryInt(Statement& stmt) {
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return InternalError("sqlite: expected one row");
    }
    return stmt.ColumnInt64(0);
}

Status RunChange(Connection& db, Statement& stmt, ErrorCode not_found) {
    OTA_TRY(stmt.Run());
    if (db.Changes() == 0) {
        return MakeError(not_found);
    }
    return Ok();
}

Status RunInsertWithParent(Connection& db,
                           Statement& stmt,
                           ErrorCode taken,
                           const std::function<Result<bool>()>& name_taken,
                           ErrorCode parent_missing) {
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
    } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        error.code = parent_missing;
    }
    return error;
}

Status RunInsert(Connection& db,
                 Statement& stmt,
                 ErrorCode taken,
                 const std::function<Result<bool>()>& name_taken) {
    return RunInsertWithParent(db, stmt, taken, name_taken, ErrorCode::kInternal);
}

void BindPage(Statement& stmt, int index, int64_t offset, int64_t limit) {
    stmt.Bind(index, limit);
    stmt.Bind(index + 1, offset < 0 ? int64_t{0} : offset);
}

Result<std::optional<Account>> SqliteTx::FindAccountByAccessKey(std::string_view key_id) {
    return FindOneAccount(db_, kSelectAccountByAccessKey, key_id);
}

Result<std::optional<Account>> SqliteTx::FindAccountByName(std::string_view name) {
    return FindOneAccount(db_, kSelectAccountByName, name);
}

Result<std::vector<Account>> SqliteTx::ListAccounts() {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectAccounts));
    std::vector<Account> accounts;
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            break;
        }
        accounts.push_back(ReadAccount(stmt));
    }
    return accounts;
}

Result<std::optional<Instance>> SqliteTx::FindDefaultInstance(int64_t account_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectDefaultInstance));
    stmt.Bind(1, account_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Instance>();
    }
    return std::optional<Instance>(ReadInstance(stmt));
}

Result<std::optional<Instance>> SqliteTx::FindInstance(int64_t account_id,
                                                       std::string_view instance_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectInstance));
    stmt.Bind(1, account_id);
    stmt.Bind(2, instance_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Instance>();
    }
    return std::optional<Instance>(ReadInstance(stmt));
}

Result<Account> SqliteTx::InsertAccount(const Account& account) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kInsertAccount));
    BindRowId(stmt, account.id);
    stmt.Bind(2, account.name);
    stmt.Bind(3, account.access_key_id);
    stmt.Bind(4, account.access_key_secret);
    stmt.Bind(5, account.enabled);
    stmt.Bind(6, account.created_ms);
    OTA_TRY(stmt.Run());
    Account inserted = account;
    inserted.id = db_.LastInsertRowId();
    return inserted;
}

Result<Instance> SqliteTx::InsertInstance(const Instance& instance) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kInsertInstance));
    BindRowId(stmt, instance.id);
    stmt.Bind(2, instance.account_id);
    stmt.Bind(3, instance.instance_id);
    stmt.Bind(4, instance.is_default);
    stmt.Bind(5, instance.created_ms);
    OTA_TRY(stmt.Run());
    Instance inserted = instance;
    inserted.id = db_.LastInsertRowId();
    return inserted;
}

}  // namespace otad::storage::sqlite
