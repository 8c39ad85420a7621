// Batch registrations, apply ids, and stored files.

#include "storage/sql/codec.hpp"
#include "storage/sql/tx.hpp"

#include <string>
#include <utility>
#include <vector>

namespace otad::storage::sql {
namespace {

using domain::BatchRegistration;
using domain::Scope;
using domain::StoredFile;

constexpr std::string_view kSelectRegistration =
    "SELECT apply_id, product_key, count, status, created_ms, modified_ms "
    "FROM batch_registrations "
    "WHERE apply_id = ?4 AND account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kSelectRegistrationNames =
    "SELECT valid, name FROM batch_registration_names WHERE apply_id = ?1 "
    "ORDER BY valid, position";
constexpr std::string_view kInsertRegistration =
    "INSERT INTO batch_registrations (account_id, instance_id, product_key, apply_id, count, "
    "    status, created_ms, modified_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
// The product and the apply id identify the record; created_ms (?7, bound but unused) is
// not changed.
constexpr std::string_view kUpdateRegistration =
    "UPDATE batch_registrations SET count = ?5, status = ?6, modified_ms = ?8 "
    "WHERE apply_id = ?4 AND account_id = ?1 AND instance_id = ?2 AND product_key = ?3";
constexpr std::string_view kDeleteRegistrationNames =
    "DELETE FROM batch_registration_names WHERE apply_id = ?1";
constexpr std::string_view kInsertRegistrationName =
    "INSERT INTO batch_registration_names (apply_id, valid, position, name) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr std::string_view kNextApplyId =
    "UPDATE apply_id_counter SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id";

constexpr std::string_view kSelectFile =
    "SELECT object_key, kind, size, md5, sha256, created_ms, upload_deadline_ms, uploaded_ms, "
    "       referenced "
    "FROM stored_files WHERE object_key = ?3 AND account_id = ?1 AND instance_id = ?2";
// By the unique object key alone, for uploads (which arrive without an AccessKey); the scope
// follows the record's columns.
constexpr std::string_view kSelectFileAnyScope =
    "SELECT object_key, kind, size, md5, sha256, created_ms, upload_deadline_ms, uploaded_ms, "
    "       referenced, account_id, instance_id "
    "FROM stored_files WHERE object_key = ?1";
constexpr std::string_view kSelectBlobInUse =
    "SELECT EXISTS (SELECT 1 FROM stored_files WHERE sha256 = ?1)";
constexpr std::string_view kInsertFile =
    "INSERT INTO stored_files (account_id, instance_id, object_key, kind, size, md5, sha256, "
    "    created_ms, upload_deadline_ms, uploaded_ms, referenced) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr std::string_view kUpdateFile =
    "UPDATE stored_files SET size = ?4, md5 = ?5, sha256 = ?6, uploaded_ms = ?7, "
    "    referenced = ?8 "
    "WHERE object_key = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kDeleteFile =
    "DELETE FROM stored_files WHERE object_key = ?3 AND account_id = ?1 AND instance_id = ?2";
// The two kinds of expired records, each a range of its partial index, oldest first; the scope
// follows the record's columns. ?1 before_ms, ?2 limit.
constexpr std::string_view kSelectExpiredForms =
    "SELECT object_key, kind, size, md5, sha256, created_ms, upload_deadline_ms, uploaded_ms, "
    "       referenced, account_id, instance_id "
    "FROM stored_files "
    "WHERE uploaded_ms = 0 AND referenced = 0 AND upload_deadline_ms < ?1 "
    "ORDER BY upload_deadline_ms LIMIT ?2";
constexpr std::string_view kSelectExpiredUploads =
    "SELECT object_key, kind, size, md5, sha256, created_ms, upload_deadline_ms, uploaded_ms, "
    "       referenced, account_id, instance_id "
    "FROM stored_files "
    "WHERE uploaded_ms > 0 AND referenced = 0 AND uploaded_ms < ?1 "
    "ORDER BY uploaded_ms LIMIT ?2";

Result<StoredFile> ReadFile(const Statement& stmt) {
    StoredFile file;
    file.object_key = stmt.ColumnText(0);
    OTA_ASSIGN_OR_RETURN(file.kind, ParseFileKind(stmt.ColumnText(1)));
    file.size = stmt.ColumnInt64(2);
    file.md5 = stmt.ColumnText(3);
    file.sha256 = stmt.ColumnText(4);
    file.created_ms = stmt.ColumnInt64(5);
    file.upload_deadline_ms = stmt.ColumnInt64(6);
    file.uploaded_ms = stmt.ColumnInt64(7);
    file.referenced = stmt.ColumnBool(8);
    return file;
}

// Reads a file followed by its scope (columns 9 and 10).
Result<std::pair<Scope, StoredFile>> ReadScopedFile(const Statement& stmt) {
    OTA_ASSIGN_OR_RETURN(StoredFile file, ReadFile(stmt));
    return std::pair<Scope, StoredFile>(Scope{stmt.ColumnInt64(9), stmt.ColumnInt64(10)},
                                        std::move(file));
}

void BindRegistration(Statement& stmt, const BatchRegistration& r) {
    stmt.Bind(3, r.product_key);
    stmt.Bind(4, r.apply_id);
    stmt.Bind(5, r.count);
    stmt.Bind(6, r.status);
    stmt.Bind(7, r.created_ms);
    stmt.Bind(8, r.modified_ms);
}

}  // namespace

Result<std::optional<BatchRegistration>> SqlTx::FindBatchRegistration(const Scope& scope,
                                                                      std::string_view product_key,
                                                                      int64_t apply_id) {
    BatchRegistration r;
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectRegistration, scope));
        stmt.Bind(3, product_key);
        stmt.Bind(4, apply_id);
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return std::optional<BatchRegistration>();
        }
        r.apply_id = stmt.ColumnInt64(0);
        r.product_key = stmt.ColumnText(1);
        r.count = stmt.ColumnInt64(2);
        r.status = stmt.ColumnText(3);
        r.created_ms = stmt.ColumnInt64(4);
        r.modified_ms = stmt.ColumnInt64(5);
    }
    OTA_ASSIGN_OR_RETURN(Statement names, db_.Prepare(kSelectRegistrationNames));
    names.Bind(1, r.apply_id);
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, names.Step());
        if (!row) {
            break;
        }
        (names.ColumnBool(0) ? r.valid_names : r.invalid_names).push_back(names.ColumnText(1));
    }
    return std::optional<BatchRegistration>(std::move(r));
}

Status SqlTx::StoreRegistrationNames(const BatchRegistration& r) {
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kDeleteRegistrationNames));
        stmt.Bind(1, r.apply_id);
        OTA_TRY(stmt.Run());
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kInsertRegistrationName));
    for (bool valid : {true, false}) {
        const std::vector<std::string>& list = valid ? r.valid_names : r.invalid_names;
        for (size_t i = 0; i < list.size(); ++i) {
            stmt.Bind(1, r.apply_id);
            stmt.Bind(2, valid);
            stmt.Bind(3, static_cast<int64_t>(i));
            stmt.Bind(4, list[i]);
            OTA_TRY(stmt.Run());
            stmt.Reset();
        }
    }
    return Ok();
}

Status SqlTx::InsertBatchRegistration(const Scope& scope, const BatchRegistration& r) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertRegistration, scope));
    BindRegistration(stmt, r);
    // A taken apply id stays kInternal (ids come from NextApplyId); a product that is not in
    // the scope violates the foreign key.
    OTA_TRY(RunInsertWithParent(
        stmt,
        ErrorCode::kInternal,
        []() -> Result<bool> { return false; },
        ErrorCode::kProductNotFound));
    return StoreRegistrationNames(r);
}

Status SqlTx::UpdateBatchRegistration(const Scope& scope, const BatchRegistration& r) {
    // Sets count, status, both name lists and modified_ms of the record found by scope,
    // product_key and apply_id; created_ms is not changed.
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateRegistration, scope));
    BindRegistration(stmt, r);
    OTA_TRY(RunChange(db_, stmt, ErrorCode::kApplyNotFound));
    return StoreRegistrationNames(r);
}

Result<int64_t> SqlTx::NextApplyId() {
    // A counter row rather than MAX(apply_id) + 1, so that an id is never handed out twice even
    // when the registration that used it is deleted with its product.
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kNextApplyId));
    OTA_ASSIGN_OR_RETURN(int64_t id, QueryInt(stmt));
    // RETURNING rows are all computed at the first step; stepping to the end completes the
    // statement.
    OTA_TRY(stmt.Run());
    return id;
}

Result<std::optional<StoredFile>> SqlTx::FindFile(const Scope& scope, std::string_view object_key) {
    std::vector<StoredFile> files;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectFile, scope));
    stmt.Bind(3, object_key);
    OTA_TRY(CollectRows(stmt, files, ReadFile));
    if (files.empty()) {
        return std::optional<StoredFile>();
    }
    return std::optional<StoredFile>(std::move(files.front()));
}

Result<std::optional<std::pair<Scope, StoredFile>>> SqlTx::FindFileAnyScope(
    std::string_view object_key) {
    std::vector<std::pair<Scope, StoredFile>> files;
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectFileAnyScope));
    stmt.Bind(1, object_key);
    OTA_TRY(CollectRows(stmt, files, ReadScopedFile));
    if (files.empty()) {
        return std::optional<std::pair<Scope, StoredFile>>();
    }
    return std::optional<std::pair<Scope, StoredFile>>(std::move(files.front()));
}

Result<bool> SqlTx::BlobInUse(std::string_view sha256) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectBlobInUse));
    stmt.Bind(1, sha256);
    OTA_ASSIGN_OR_RETURN(int64_t used, QueryInt(stmt));
    return used != 0;
}

Status SqlTx::InsertFile(const Scope& scope, const StoredFile& file) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertFile, scope));
    stmt.Bind(3, file.object_key);
    stmt.Bind(4, ToText(file.kind));
    stmt.Bind(5, file.size);
    stmt.Bind(6, file.md5);
    stmt.Bind(7, file.sha256);
    stmt.Bind(8, file.created_ms);
    stmt.Bind(9, file.upload_deadline_ms);
    stmt.Bind(10, file.uploaded_ms);
    stmt.Bind(11, file.referenced);
    return stmt.Run();
}

Status SqlTx::UpdateFile(const Scope& scope, const StoredFile& file) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateFile, scope));
    stmt.Bind(3, file.object_key);
    stmt.Bind(4, file.size);
    stmt.Bind(5, file.md5);
    stmt.Bind(6, file.sha256);
    stmt.Bind(7, file.uploaded_ms);
    stmt.Bind(8, file.referenced);
    return RunChange(db_, stmt, ErrorCode::kFileNotFound);
}

Status SqlTx::DeleteFile(const Scope& scope, std::string_view object_key) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kDeleteFile, scope));
    stmt.Bind(3, object_key);
    return RunChange(db_, stmt, ErrorCode::kFileNotFound);
}

Result<std::vector<std::pair<Scope, StoredFile>>> SqlTx::ListExpiredFiles(int64_t before_ms,
                                                                          int64_t limit) {
    // Forms never used first, then uploads never referenced, each oldest first.
    std::vector<std::pair<Scope, StoredFile>> expired;
    for (std::string_view sql : {kSelectExpiredForms, kSelectExpiredUploads}) {
        int64_t room = limit - static_cast<int64_t>(expired.size());
        if (room <= 0) {
            break;
        }
        OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
        stmt.Bind(1, before_ms);
        stmt.Bind(2, room);
        OTA_TRY(CollectRows(stmt, expired, ReadScopedFile));
    }
    return expired;
}

}  // namespace otad::storage::sql
