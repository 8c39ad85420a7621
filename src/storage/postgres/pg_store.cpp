#include "storage/postgres/pg_store.hpp"

#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrate.hpp"
#include "storage/postgres/migrations.hpp"
#include "storage/sql/transaction_guard.hpp"
#include "storage/sql/tx.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace otad::storage::postgres {
namespace {

// Every statement of a Read sees the same committed state.
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
// Writers first lock the one row of write_lock, which serializes them across every process
// that uses the database. Under that lock READ COMMITTED suffices: each statement sees every
// write committed before this transaction, and no statement fails for a serialization conflict
// with another writer. Both statements go in one round trip.
constexpr const char* kBeginWrite =
    "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT id FROM write_lock WHERE id = 1 FOR UPDATE";
constexpr const char* kPing = "SELECT 1";

// libpq's connect_timeout is in whole seconds, and values below 2 are raised to 2.
constexpr int kMinConnectTimeoutS = 2;

// The store whose Write is running on this thread, to refuse a nested Write instead of
// deadlocking on the writer mutex.
thread_local const void* current_writer = nullptr;

class Pool;

/// A connection borrowed from a Pool; it goes back to the pool (or is closed, when broken) on
/// destruction.
class Lease {
  public:
    Lease(Pool* pool, std::unique_ptr<PgConnection> connection, bool reused)
        : pool_(pool), connection_(std::move(connection)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    PgConnection& connection() { return *connection_; }
    /// True when the connection had served before: it may have been cut while it was idle.
    bool reused() const { return reused_; }

  private:
    Pool* pool_;
    std::unique_ptr<PgConnection> connection_;
    bool reused_;
};

/// Up to `size` connections, opened when needed; broken ones are closed when given back, and
/// replaced by new ones on later requests.
class Pool {
  public:
    Pool(PgConnection::Options options, int size, std::chrono::milliseconds acquire_timeout)
        : options_(std::move(options)), size_(size), acquire_timeout_(acquire_timeout) {}

    int size() const { return size_; }

    /// An idle connection, or a new one when fewer than `size` are open. Waits up to the
    /// acquire timeout, then fails with kUnavailable; fails as PgConnection::Open does when a new
    /// connection cannot be made.
    Result<Lease> Acquire() {
        std::unique_lock lock(mu_);
        bool available = cv_.wait_for(
            lock, acquire_timeout_, [this] { return !idle_.empty() || open_ < size_; });
        if (!available) {
            return Error{ErrorCode::kUnavailable,
                         {},
                         {},
                         "postgres: no connection free within " +
                             std::to_string(acquire_timeout_.count()) + " ms (all " +
                             std::to_string(size_) + " in use)"};
        }
        if (!idle_.empty()) {
            std::unique_ptr<PgConnection> connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(this, std::move(connection), /*reused=*/true);
        }
        // Connecting takes a round trip or more (and up to the connect timeout when the server
        // is unreachable): not under the lock.
        ++open_;
        lock.unlock();
        Result<std::unique_ptr<PgConnection>> opened = PgConnection::Open(options_);
        if (!opened.ok()) {
            Forget();
            return std::move(opened).error();
        }
        return Lease(this, std::move(opened).value(), /*reused=*/false);
    }

    /// Takes in a connection opened outside the pool (the one that ran the migrations).
    void Adopt(std::unique_ptr<PgConnection> connection) {
        std::lock_guard lock(mu_);
        ++open_;
        idle_.push_back(std::move(connection));
    }

    void GiveBack(std::unique_ptr<PgConnection> connection) {
        // Transactions end before their lease does; this only catches a path that forgot.
        connection->RollbackQuietly();
        if (connection->Broken() || connection->InTransaction()) {
            connection.reset();
            Forget();
            return;
        }
        {
            std::lock_guard lock(mu_);
            idle_.push_back(std::move(connection));
        }
        cv_.notify_one();
    }

  private:
    // A connection was closed or could not be opened: make room for another.
    void Forget() {
        {
            std::lock_guard lock(mu_);
            --open_;
        }
        cv_.notify_one();
    }

    const PgConnection::Options options_;
    const int size_;
    const std::chrono::milliseconds acquire_timeout_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
    int open_ = 0;  // guarded by mu_: idle, leased, and being opened
};

Lease::~Lease() {
    if (connection_ != nullptr) {
        pool_->GiveBack(std::move(connection_));
    }
}

using RollbackGuard = sql::TransactionGuard<PgConnection>;

class PgStore final : public domain::Store {
  public:
    PgStore(PgConnection::Options connection_options,
            const PgOptions& options,
            std::unique_ptr<PgConnection> first)
        : pool_(std::move(connection_options),
                options.connections,
                std::chrono::milliseconds(options.acquire_timeout_ms)) {
        pool_.Adopt(std::move(first));
    }

    Status Read(const std::function<Status(domain::ReadTx&)>& fn) override {
        OTA_ASSIGN_OR_RETURN(Lease lease, Start(kBeginRead, 0));
        PgConnection& db = lease.connection();
        RollbackGuard guard(db);
        sql::SqlTx tx(db);
        OTA_TRY(fn(tx));
        return guard.Commit();
    }

    Status Write(const std::function<Status(domain::WriteTx&)>& fn) override {
        if (current_writer == this) {
            return InternalError("postgres: Write called inside a Write on the same thread");
        }
        // Writers of this process queue here rather than each holding a connection while it
        // waits for the write lock, which would leave none for reads.
        std::lock_guard lock(writer_mu_);
        current_writer = this;
        struct ClearWriter {
            ~ClearWriter() { current_writer = nullptr; }
        } clear_writer;

        OTA_ASSIGN_OR_RETURN(Lease lease, Start(kBeginWrite, 1));
        PgConnection& db = lease.connection();
        RollbackGuard guard(db);
        sql::SqlTx tx(db);
        OTA_TRY(fn(tx));
        return guard.Commit();
    }

    Status Ping() override {
        OTA_ASSIGN_OR_RETURN(Lease lease, Start(kPing, 1));
        return Ok();
    }

  private:
    // Borrows a connection and runs `script` on it, which must return `rows` rows. A pooled
    // connection may have been cut while idle (the server restarted, a proxy timed it out), which
    // shows only now: it is closed and the next one tried, so that stale connections fail no
    // transaction. A new connection that fails ends the attempts.
    Result<Lease> Start(const char* script, int64_t rows) {
        for (int attempt = 0;; ++attempt) {
            OTA_ASSIGN_OR_RETURN(Lease lease, pool_.Acquire());
            Result<int64_t> returned = lease.connection().ExecCountingRows(script);
            if (returned.ok()) {
                if (*returned != rows) {
                    return InternalError("postgres: '" + std::string(script) + "' returned " +
                                         std::to_string(*returned) + " rows instead of " +
                                         std::to_string(rows));
                }
                return Result<Lease>(std::move(lease));
            }
            if (!lease.reused() || !lease.connection().Broken() || attempt >= pool_.size()) {
                return std::move(returned).error();
            }
        }
    }

    Pool pool_;
    std::mutex writer_mu_;
};

}  // namespace

Result<std::unique_ptr<domain::Store>> OpenPgStore(const PgOptions& options) {
    if (options.conninfo.empty()) {
        return InternalError("postgres: no conninfo");
    }
    if (options.connections < 1) {
        return InternalError("postgres: connections must be at least 1");
    }
    if (options.acquire_timeout_ms < 0 || options.statement_timeout_ms < 0) {
        return InternalError("postgres: timeouts must not be negative");
    }
    // Connecting is part of acquiring a connection, so it gets no more time than that.
    PgConnection::Options connection_options{
        .conninfo = options.conninfo,
        .connect_timeout_s =
            std::max(kMinConnectTimeoutS, (options.acquire_timeout_ms + 999) / 1000),
        .statement_timeout_ms = options.statement_timeout_ms,
    };
    OTA_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> first,
                         PgConnection::Open(connection_options));
    if (options.migrate) {
        OTA_TRY(ApplyMigrations(*first, EmbeddedMigrations()));
    } else {
        OTA_TRY(CheckSchemaVersion(*first, EmbeddedMigrations()));
    }
    return std::unique_ptr<domain::Store>(
        std::make_unique<PgStore>(std::move(connection_options), options, std::move(first)));
}

}  // namespace otad::storage::postgres
