// Accounts and instances.

#include "storage/sql/tx.hpp"

#include <utility>

namespace otad::storage::sql {
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
// Inserts with a chosen id, or (the second form) with one the database assigns.
constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts (id, name, access_key_id, access_key_secret, enabled, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
constexpr std::string_view kInsertAccountNewId =
    "INSERT INTO accounts (name, access_key_id, access_key_secret, enabled, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";

constexpr std::string_view kSelectDefaultInstance =
    "SELECT id, account_id, instance_id, is_default, created_ms "
    "FROM instances WHERE account_id = ?1 AND is_default = 1";
constexpr std::string_view kSelectInstance =
    "SELECT id, account_id, instance_id, is_default, created_ms "
    "FROM instances WHERE instance_id = ?2 AND account_id = ?1";
constexpr std::string_view kInsertInstance =
    "INSERT INTO instances (id, account_id, instance_id, is_default, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
constexpr std::string_view kInsertInstanceNewId =
    "INSERT INTO instances (account_id, instance_id, is_default, created_ms) "
    "VALUES (?1, ?2, ?3, ?4) RETURNING id";

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

// Runs an INSERT ... RETURNING id and returns the id.
Result<int64_t> RunReturningId(Statement& stmt) {
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return InternalError("storage: insert returned no id");
    }
    int64_t id = stmt.ColumnInt64(0);
    OTA_TRY(stmt.Run());
    return id;
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

Result<Statement> PrepareScopedStream(Connection& db,
                                      std::string_view sql,
                                      const domain::Scope& scope) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.PrepareStream(sql));
    stmt.Bind(1, scope.account_id);
    stmt.Bind(2, scope.instance_id);
    return stmt;
}

Result<int64_t> QueryInt(Statement& stmt) {
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return InternalError("storage: expected one row");
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

Status RunInsertWithParent(Statement& stmt,
                           ErrorCode taken,
                           const std::function<Result<bool>()>& name_taken,
                           ErrorCode parent_missing) {
    OTA_ASSIGN_OR_RETURN(Violation violation, stmt.RunChecked());
    switch (violation) {
        case Violation::kNone:
            return Ok();
        case Violation::kUnique: {
            OTA_ASSIGN_OR_RETURN(bool is_taken, name_taken());
            if (is_taken) {
                return MakeError(taken);
            }
            return InternalError("storage: insert: uniqueness violated by a generated key");
        }
        case Violation::kForeignKey:
            if (parent_missing != ErrorCode::kInternal) {
                return MakeError(parent_missing);
            }
            return InternalError("storage: insert: foreign key violated");
    }
    return InternalError("storage: insert: unknown outcome");
}

Status RunInsert(Statement& stmt,
                 ErrorCode taken,
                 const std::function<Result<bool>()>& name_taken) {
    return RunInsertWithParent(stmt, taken, name_taken, ErrorCode::kInternal);
}

void BindPage(Statement& stmt, int index, int64_t offset, int64_t limit) {
    stmt.Bind(index, limit);
    stmt.Bind(index + 1, offset < 0 ? int64_t{0} : offset);
}

Result<std::optional<Account>> SqlTx::FindAccountByAccessKey(std::string_view key_id) {
    return FindOneAccount(db_, kSelectAccountByAccessKey, key_id);
}

Result<std::optional<Account>> SqlTx::FindAccountByName(std::string_view name) {
    return FindOneAccount(db_, kSelectAccountByName, name);
}

Result<std::vector<Account>> SqlTx::ListAccounts() {
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

Result<std::optional<Instance>> SqlTx::FindDefaultInstance(int64_t account_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectDefaultInstance));
    stmt.Bind(1, account_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Instance>();
    }
    return std::optional<Instance>(ReadInstance(stmt));
}

Result<std::optional<Instance>> SqlTx::FindInstance(int64_t account_id,
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

Result<Account> SqlTx::InsertAccount(const Account& account) {
    // With a chosen id the parameters start at ?2; without, at ?1.
    const bool new_id = account.id == 0;
    OTA_ASSIGN_OR_RETURN(Statement stmt,
                         db_.Prepare(new_id ? kInsertAccountNewId : kInsertAccount));
    const int first = new_id ? 1 : 2;
    if (!new_id) {
        stmt.Bind(1, account.id);
    }
    stmt.Bind(first, account.name);
    stmt.Bind(first + 1, account.access_key_id);
    stmt.Bind(first + 2, account.access_key_secret);
    stmt.Bind(first + 3, account.enabled);
    stmt.Bind(first + 4, account.created_ms);
    Account inserted = account;
    OTA_ASSIGN_OR_RETURN(inserted.id, RunReturningId(stmt));
    return inserted;
}

Result<Instance> SqlTx::InsertInstance(const Instance& instance) {
    const bool new_id = instance.id == 0;
    OTA_ASSIGN_OR_RETURN(Statement stmt,
                         db_.Prepare(new_id ? kInsertInstanceNewId : kInsertInstance));
    const int first = new_id ? 1 : 2;
    if (!new_id) {
        stmt.Bind(1, instance.id);
    }
    stmt.Bind(first, instance.account_id);
    stmt.Bind(first + 1, instance.instance_id);
    stmt.Bind(first + 2, instance.is_default);
    stmt.Bind(first + 3, instance.created_ms);
    Instance inserted = instance;
    OTA_ASSIGN_OR_RETURN(inserted.id, RunReturningId(stmt));
    return inserted;
}

}  // namespace otad::storage::sql
