#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The small SQL interface that the shared transaction code (storage/sql/tx*.cpp) is written
// against. A backend (storage/sqlite, storage/postgres) implements StatementImpl and Connection;
// the statements themselves are written once, in SQL that both engines accept, with parameters
// numbered `?1`, `?2`, ... (the PostgreSQL backend rewrites them to `$1`, `$2`, ...).

namespace otad::storage::sql {

/// The engine behind a connection, for the few statements that must be spelled differently.
enum class Dialect { kSqlite, kPostgres };

/// The outcome of a statement that may violate a constraint the caller wants to report.
enum class Violation { kNone, kUnique, kForeignKey };

/// One use of a prepared statement, implemented by a backend. Not thread-safe.
class StatementImpl {
  public:
    virtual ~StatementImpl() = default;

    virtual void BindInt(int index, int64_t value) = 0;
    /// The characters are not copied: they must outlive the statement's next reset.
    virtual void BindText(int index, std::string_view value) = 0;
    virtual void BindNull(int index) = 0;

    /// Advances to the next row: true when one is available, false when done.
    virtual Result<bool> Step() = 0;
    /// Runs a statement to completion. A violated UNIQUE/PRIMARY KEY or FOREIGN KEY constraint
    /// is returned as a value and leaves the transaction usable; other failures are errors.
    virtual Result<Violation> RunChecked() = 0;
    /// Makes the statement ready to run again; bindings are kept.
    virtual void Reset() = 0;

    // Columns are numbered from 0. NULL reads as 0 / empty.
    virtual int64_t ColumnInt64(int column) const = 0;
    virtual std::string ColumnText(int column) const = 0;
    virtual bool ColumnIsNull(int column) const = 0;

    /// Ends this use: the statement is reset, its bindings cleared, and it goes back to its
    /// connection (or is freed). The object must not be used afterwards.
    virtual void Release() = 0;
};

/// A prepared statement borrowed from a connection. Move-only; when it goes out of scope the
/// statement returns to its connection.
///
/// Text is bound without copying: the bound characters must stay alive until the statement is
/// reset or destroyed. Binding a temporary std::string does not compile for that reason.
class Statement {
  public:
    explicit Statement(StatementImpl* impl) : impl_(impl) {}
    Statement(Statement&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement() {
        if (impl_ != nullptr) {
            impl_->Release();
        }
    }

    // Parameters are numbered from 1, as in the SQL (`?1`, `?2`, ...).
    void Bind(int index, int64_t value) { impl_->BindInt(index, value); }
    void Bind(int index, int value) { impl_->BindInt(index, value); }
    void Bind(int index, bool value) { impl_->BindInt(index, value ? 1 : 0); }
    void Bind(int index, std::string_view value) { impl_->BindText(index, value); }
    void Bind(int index, const char* value) { impl_->BindText(index, value); }
    void Bind(int index, const std::string& value) { impl_->BindText(index, value); }
    void Bind(int index, std::string&& value) = delete;
    void Bind(int index, std::optional<int> value) {
        if (value.has_value()) {
            impl_->BindInt(index, *value);
        } else {
            impl_->BindNull(index);
        }
    }
    void BindNull(int index) { impl_->BindNull(index); }

    /// Advances to the next row: true when a row is available, false when done.
    Result<bool> Step() { return impl_->Step(); }
    /// Runs a statement to its end (rows, if any, are skipped).
    Status Run();
    /// Runs a statement that may violate a constraint (see StatementImpl::RunChecked).
    Result<Violation> RunChecked() { return impl_->RunChecked(); }
    /// Resets the statement so that it can be run again; bindings are kept.
    void Reset() { impl_->Reset(); }

    // Columns are numbered from 0. NULL reads as 0 / empty / nullopt.
    int64_t ColumnInt64(int column) const { return impl_->ColumnInt64(column); }
    int ColumnInt(int column) const { return static_cast<int>(impl_->ColumnInt64(column)); }
    bool ColumnBool(int column) const { return impl_->ColumnInt64(column) != 0; }
    std::string ColumnText(int column) const { return impl_->ColumnText(column); }
    std::optional<int> ColumnOptionalInt(int column) const {
        if (impl_->ColumnIsNull(column)) {
            return std::nullopt;
        }
        return ColumnInt(column);
    }

  private:
    StatementImpl* impl_;
};

/// One database connection with its cache of prepared statements. Not thread-safe: one thread
/// at a time (the stores hand connections out accordingly).
class Connection {
  public:
    virtual ~Connection() = default;

    virtual Dialect dialect() const = 0;

    /// The statement for `sql`, prepared on first use. `sql` must have static storage duration
    /// (a named constant): caches key on its address. The same statement may be in use more
    /// than once at a time (a query issued while another of its kind is being stepped).
    virtual Result<Statement> Prepare(std::string_view sql) = 0;

    /// Like Prepare, for a query whose rows are read while other statements run on the same
    /// connection and whose result may be too large to hold at once (the ForEach methods).
    /// Backends that hold whole results read such a query in pieces.
    virtual Result<Statement> PrepareStream(std::string_view sql) { return Prepare(sql); }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE run on this connection.
    virtual int64_t Changes() const = 0;
    /// Rows changed by every INSERT, UPDATE and DELETE run on this connection since it opened
    /// (a counter that moves whenever anything is written).
    virtual int64_t TotalChanges() const = 0;
};

}  // namespace otad::storage::sql
