#include "storage/postgres/pg_store.hpp"
#include "store_conformance.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

namespace otad::conformance {
namespace {

constexpr const char* kServerVariable = "OTAD_TEST_POSTGRES";

// Runs one statement on a short-lived connection of its own (so that nothing is shared with a
// forked child); returns the server's message on failure.
std::string RunAdmin(const std::string& conninfo, const std::string& statement) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    // DROP SCHEMA ... CASCADE lists what it drops as notices: not worth printing.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    std::string failure;
    if (PQstatus(conn) != CONNECTION_OK) {
        failure = PQerrorMessage(conn);
    } else {
        PGresult* result = PQexec(conn, statement.c_str());
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
            failure = PQresultErrorMessage(result);
        }
        PQclear(result);
    }
    PQfinish(conn);
    return failure;
}

// One schema per test, named after the process and a counter, dropped with everything in it at
// the end of the test.
class PostgresEnv final : public BackendEnv {
  public:
    explicit PostgresEnv(std::string server) : server_(std::move(server)) {
        static std::atomic<int> counter{0};
        schema_ = "conformance_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        failure_ = RunAdmin(server_, "CREATE SCHEMA " + schema_);
    }

    ~PostgresEnv() override {
        if (failure_.empty()) {
            RunAdmin(server_, "DROP SCHEMA " + schema_ + " CASCADE");
        }
    }

    PostgresEnv(const PostgresEnv&) = delete;
    PostgresEnv& operator=(const PostgresEnv&) = delete;

    Result<std::unique_ptr<domain::Store>> Open() override {
        if (!failure_.empty()) {
            return InternalError("could not create schema " + schema_ + ": " + failure_);
        }
        storage::postgres::PgOptions options;
        options.conninfo = server_ + (server_.find('?') == std::string::npos ? "?" : "&") +
                           "options=-csearch_path%3D" + schema_;
        options.connections = 4;
        return storage::postgres::OpenPgStore(options);
    }

  private:
    std::string server_;
    std::string schema_;
    std::string failure_;
};

}  // namespace

Backend PostgresBackend() {
    const char* server = std::getenv(kServerVariable);
    if (server == nullptr || *server == '\0') {
        return Backend{"postgres",
                       nullptr,
                       std::string(kServerVariable) +
                           " is not set (a postgresql:// URI of a server for throwaway schemas; "
                           "scripts/postgres.sh starts one)"};
    }
    std::string conninfo = server;
    return Backend{"postgres",
                   [conninfo]() -> std::unique_ptr<BackendEnv> {
                       return std::make_unique<PostgresEnv>(conninfo);
                   },
                   {}};
}

}  // namespace otad::conformance
