// Leases: named terms that nodes sharing the database take and renew in turn.

#include "storage/sql/tx.hpp"

namespace otad::storage::sql {

namespace {

// Inserted when absent; otherwise taken over only when the term ended or the holder renews.
// The conflict target's WHERE leaves the row alone in every other case, which then changes
// no row.
constexpr std::string_view kHoldLease =
    "INSERT INTO leases (name, holder, expires_ms) VALUES (?1, ?2, ?4) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms "
    "WHERE leases.holder = excluded.holder OR leases.expires_ms < ?3";
constexpr std::string_view kReleaseLease =
    "UPDATE leases SET expires_ms = 0 WHERE name = ?1 AND holder = ?2";

}  // namespace

Result<bool> SqlTx::HoldLease(std::string_view name,
                              std::string_view holder,
                              int64_t now_ms,
                              int64_t expires_ms) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kHoldLease));
    stmt.Bind(1, name);
    stmt.Bind(2, holder);
    stmt.Bind(3, now_ms);
    stmt.Bind(4, expires_ms);
    OTA_TRY(stmt.Run());
    return db_.Changes() > 0;
}

Status SqlTx::ReleaseLease(std::string_view name, std::string_view holder) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kReleaseLease));
    stmt.Bind(1, name);
    stmt.Bind(2, holder);
    return stmt.Run();
}

}  // namespace otad::storage::sql
