#pragma once

#include "common/result.hpp"

namespace otad::storage::sql {

/// Ends a store's transaction unless it was committed: rolls back when the work failed,
/// returned early or threw. `Conn` is a backend's connection, with Status Commit() and
/// RollbackQuietly().
template <typename Conn>
class TransactionGuard {
  public:
    explicit TransactionGuard(Conn& db) : db_(db) {}
    ~TransactionGuard() {
        if (!committed_) {
            db_.RollbackQuietly();
        }
    }
    TransactionGuard(const TransactionGuard&) = delete;
    TransactionGuard& operator=(const TransactionGuard&) = delete;

    Status Commit() {
        Status status = db_.Commit();
        committed_ = status.ok();
        return status;
    }

  private:
    Conn& db_;
    bool committed_ = false;
};

}  // namespace otad::storage::sql
