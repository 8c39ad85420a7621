#include "storage/sqlite/sqlite_store.hpp"

#include "storage/sql/transaction_guard.hpp"
#include "storage/sql/tx.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrate.hpp"
#include "storage/sqlite/migrations.hpp"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace otad::storage::sqlite {
namespace {

constexpr std::string_view kBeginRead = "BEGIN";
constexpr std::string_view kBeginWrite = "BEGIN IMMEDIATE";
constexpr std::string_view kPing = "SELECT 1";
constexpr std::string_view kJournalMode = "PRAGMA journal_mode";

// The store whose Write is running on this thread, to refuse a nested Write instead of
// deadlocking on the writer mutex.
thread_local const void* current_writer = nullptr;

Status RunControl(Connection& db, std::string_view sql) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
    return stmt.Run();
}

using RollbackGuard = sql::TransactionGuard<Connection>;

// The WAL length, in checkpoint thresholds, at which the writer checkpoints by itself.
constexpr int kWriterCheckpointFactor = 10;

class SqliteStore final : public domain::Store {
  public:
    // `writer` and `checkpointer` are null for a read-only store.
    SqliteStore(std::unique_ptr<Connection> writer,
                std::unique_ptr<Connection> checkpointer,
                std::vector<std::unique_ptr<Connection>> readers,
                int checkpoint_pages)
        : writer_(std::move(writer)),
          checkpointer_(std::move(checkpointer)),
          checkpoint_pages_(checkpoint_pages),
          all_readers_(std::move(readers)) {
        for (auto& reader : all_readers_) {
            free_readers_.push_back(reader.get());
        }
        if (writer_ != nullptr && checkpointer_ != nullptr) {
            writer_->SetWalCommitHook([this](int wal_pages) { AfterCommit(wal_pages); });
            checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
        }
    }

    ~SqliteStore() override {
        if (checkpoint_thread_.joinable()) {
            {
                std::lock_guard lock(checkpoint_mu_);
                checkpoint_stop_ = true;
            }
            checkpoint_cv_.notify_one();
            checkpoint_thread_.join();
        }
        // The writer closes last, so that its close, the last one, checkpoints the whole WAL.
        checkpointer_.reset();
        free_readers_.clear();
        all_readers_.clear();
        writer_.reset();
    }

    Status Read(const std::function<Status(domain::ReadTx&)>& fn) override {
        ReaderLease lease(*this);
        Connection& db = lease.connection();
        OTA_TRY(RunControl(db, kBeginRead));
        RollbackGuard guard(db);
        sql::SqlTx tx(db);
        OTA_TRY(fn(tx));
        return guard.Commit();
    }

    Status Write(const std::function<Status(domain::WriteTx&)>& fn) override {
        if (writer_ == nullptr) {
            return InternalError("sqlite: Write on a store opened read-only");
        }
        if (current_writer == this) {
            return InternalError("sqlite: Write called inside a Write on the same thread");
        }
        std::lock_guard lock(writer_mu_);
        current_writer = this;
        struct ClearWriter {
            ~ClearWriter() { current_writer = nullptr; }
        } clear_writer;

        Connection& db = *writer_;
        OTA_TRY(RunControl(db, kBeginWrite));
        RollbackGuard guard(db);
        sql::SqlTx tx(db);
        OTA_TRY(fn(tx));
        return guard.Commit();
    }

    Status Ping() override {
        ReaderLease lease(*this);
        OTA_ASSIGN_OR_RETURN(Statement stmt, lease.connection().Prepare(kPing));
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return InternalError("sqlite: ping returned no row");
        }
        return Ok();
    }

  private:
    // On the writer's thread, right after a commit (under writer_mu_).
    void AfterCommit(int wal_pages) {
        if (wal_pages < checkpoint_pages_) {
            return;
        }
        if (wal_pages >= checkpoint_pages_ * kWriterCheckpointFactor) {
            // What SQLite's automatic checkpoint would have done; a failure (another checkpoint
            // running) leaves the work to the next commit or to the thread.
            (void)writer_->CheckpointPassive();
            return;
        }
        {
            std::lock_guard lock(checkpoint_mu_);
            checkpoint_wanted_ = true;
        }
        checkpoint_cv_.notify_one();
    }

    void CheckpointLoop() {
        std::unique_lock lock(checkpoint_mu_);
        while (true) {
            checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stop_; });
            if (checkpoint_stop_) {
                return;
            }
            checkpoint_wanted_ = false;
            lock.unlock();
            // A failure (the writer checkpointing at the same moment) is retried when the next
            // commit asks again.
            (void)checkpointer_->CheckpointPassive();
            lock.lock();
        }
    }

    // Borrows a reader connection for the lifetime of the lease, waiting while all are in use.
    class ReaderLease {
      public:
        explicit ReaderLease(SqliteStore& store) : store_(store) {
            std::unique_lock lock(store_.readers_mu_);
            store_.readers_cv_.wait(lock, [this] { return !store_.free_readers_.empty(); });
            connection_ = store_.free_readers_.back();
            store_.free_readers_.pop_back();
        }
        ~ReaderLease() {
            {
                std::lock_guard lock(store_.readers_mu_);
                store_.free_readers_.push_back(connection_);
            }
            store_.readers_cv_.notify_one();
        }
        ReaderLease(const ReaderLease&) = delete;
        ReaderLease& operator=(const ReaderLease&) = delete;

        Connection& connection() { return *connection_; }

      private:
        SqliteStore& store_;
        Connection* connection_ = nullptr;
    };

    std::mutex writer_mu_;
    std::unique_ptr<Connection> writer_;  // guarded by writer_mu_; null when read-only

    // Used by checkpoint_thread_ only; null when read-only.
    std::unique_ptr<Connection> checkpointer_;
    const int checkpoint_pages_;
    std::mutex checkpoint_mu_;
    std::condition_variable checkpoint_cv_;
    bool checkpoint_wanted_ = false;  // guarded by checkpoint_mu_
    bool checkpoint_stop_ = false;    // guarded by checkpoint_mu_
    std::thread checkpoint_thread_;

    std::mutex readers_mu_;
    std::condition_variable readers_cv_;
    std::vector<std::unique_ptr<Connection>> all_readers_;
    std::vector<Connection*> free_readers_;  // guarded by readers_mu_
};

// Some file systems cannot hold a WAL database; SQLite then keeps the old journal mode silently.
Status CheckWalMode(Connection& writer) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, writer.Prepare(kJournalMode));
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::string mode = row ? stmt.ColumnText(0) : std::string();
    if (mode != "wal") {
        return InternalError("sqlite: could not switch to WAL mode (journal mode is '" + mode +
                             "')");
    }
    return Ok();
}

Result<std::unique_ptr<domain::Store>> OpenReadOnly(const SqliteOptions& options) {
    // Connection::Open would create a missing file; a reader must never do that, since the
    // owner would then find an empty database where it expects to create its own.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.path, ec)) {
        return InternalError("sqlite: database " + options.path + " does not exist" +
                             (ec ? " (" + ec.message() + ")" : std::string()));
    }
    Connection::Options connection_options{
        .path = options.path,
        .writer = false,
        .synchronous_full = options.synchronous_full,
        .busy_timeout_ms = options.busy_timeout_ms,
    };
    std::vector<std::unique_ptr<Connection>> readers;
    for (int i = 0; i < options.reader_connections; ++i) {
        OTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                             Connection::Open(connection_options));
        readers.push_back(std::move(reader));
    }
    // A read-only store cannot migrate: the schema must be exactly this build's.
    OTA_TRY(
        sql::CheckSchemaVersion(*readers.front(), EmbeddedMigrations(), "sqlite", options.path));
    return std::unique_ptr<domain::Store>(
        std::make_unique<SqliteStore>(nullptr, nullptr, std::move(readers), 1));
}

}  // namespace

Result<std::unique_ptr<domain::Store>> OpenSqliteStore(const SqliteOptions& options) {
    if (options.path.empty()) {
        return InternalError("sqlite: no database path");
    }
    if (options.reader_connections < 1) {
        return InternalError("sqlite: reader_connections must be at least 1");
    }
    if (options.checkpoint_pages < 1) {
        return InternalError("sqlite: checkpoint_pages must be at least 1");
    }
    if (options.read_only) {
        return OpenReadOnly(options);
    }
    Connection::Options connection_options{
        .path = options.path,
        .writer = true,
        .synchronous_full = options.synchronous_full,
        .busy_timeout_ms = options.busy_timeout_ms,
    };
    OTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(connection_options));
    OTA_TRY(CheckWalMode(*writer));
    OTA_TRY(ApplyMigrations(*writer, EmbeddedMigrations()));

    // Readers open after the writer switched the file to WAL mode and the schema is in place.
    connection_options.writer = false;
    std::vector<std::unique_ptr<Connection>> readers;
    for (int i = 0; i < options.reader_connections; ++i) {
        OTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                             Connection::Open(connection_options));
        readers.push_back(std::move(reader));
    }
    // The checkpointer writes only the database file, from the WAL; it never runs a statement
    // that changes records.
    OTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpointer,
                         Connection::Open(connection_options));
    return std::unique_ptr<domain::Store>(std::make_unique<SqliteStore>(
        std::move(writer), std::move(checkpointer), std::move(readers), options.checkpoint_pages));
}

}  // namespace otad::storage::sqlite
