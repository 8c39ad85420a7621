// The PostgreSQL driver and store against a real server. OTAD_TEST_POSTGRES names it (a libpq
// conninfo whose user may create schemas; scripts/postgres.sh start DIR prints one); without it
// the tests that need a server skip. Each test works in a schema of its own, dropped at the end.

#include "storage/postgres/connection.hpp"

#include "common/crypto.hpp"
#include "common/testing/loopback.hpp"
#include "storage/postgres/migrate.hpp"
#include "storage/postgres/migrations.hpp"
#include "storage/postgres/pg_store.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace otad::storage::postgres {
namespace {

using sql::Statement;
using sql::Violation;

constexpr const char* kServerVariable = "OTAD_TEST_POSTGRES";

std::string Describe(const Error& error) {
    return std::string(ErrorCodeName(error.code)) + ": " + error.internal;
}

template <typename T>
std::string Describe(const Result<T>& result) {
    return result.ok() ? std::string("ok") : Describe(result.error());
}

#define PG_ASSERT_OK(expr)                                          \
    do {                                                            \
        const auto& pg_ok_result_ = (expr);                         \
        ASSERT_TRUE(pg_ok_result_.ok()) << Describe(pg_ok_result_); \
    } while (false)

#define PG_EXPECT_CODE(expr, expected)                                                  \
    do {                                                                                \
        const auto& pg_code_result_ = (expr);                                           \
        ASSERT_FALSE(pg_code_result_.ok());                                             \
        EXPECT_EQ(ErrorCodeName(pg_code_result_.error().code), ErrorCodeName(expected)) \
            << Describe(pg_code_result_);                                               \
    } while (false)

// Rewrites a conninfo (URI or key=value) as key=value pairs, with the settings of `overrides`
// replaced (an empty value removes the setting). `options` is appended to, not replaced.
std::string RewriteConninfo(const std::string& conninfo,
                            const std::vector<std::pair<std::string, std::string>>& overrides) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
    if (parsed == nullptr) {
        PQfreemem(error);
        return {};
    }
    std::vector<std::pair<std::string, std::string>> settings;
    for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
        if (option->val != nullptr && option->val[0] != '\0') {
            settings.emplace_back(option->keyword, option->val);
        }
    }
    PQconninfoFree(parsed);
    for (const auto& [key, value] : overrides) {
        std::string merged = value;
        for (auto it = settings.begin(); it != settings.end(); ++it) {
            if (it->first == key) {
                if (key == "options" && !value.empty()) {
                    merged = it->second + " " + value;
                }
                settings.erase(it);
                break;
            }
        }
        if (!merged.empty()) {
            settings.emplace_back(key, merged);
        }
    }
    std::string out;
    for (const auto& [key, value] : settings) {
        out += key + "='";
        for (char c : value) {
            if (c == '\'' || c == '\\') {
                out.push_back('\\');
            }
            out.push_back(c);
        }
        out += "' ";
    }
    return out;
}

// The value of one setting of a conninfo, empty when absent.
std::string ConninfoValue(const std::string& conninfo, const std::string& key) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
    if (parsed == nullptr) {
        PQfreemem(error);
        return {};
    }
    std::string value;
    for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
        if (key == option->keyword && option->val != nullptr) {
            value = option->val;
        }
    }
    PQconninfoFree(parsed);
    return value;
}

// A TCP forwarder between the store and the server, so that a test can make the server vanish
// (every connection cut, new ones refused) and come back, without controlling the server.
class TcpProxy {
  public:
    TcpProxy(std::string host, std::string port)
        : upstream_host_(std::move(host)), upstream_port_(std::move(port)) {}
    ~TcpProxy() { Stop(); }
    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;

    /// Listens on 127.0.0.1 (the same port again after a Stop).
    bool Start() {
        listener_ = socket(AF_INET, SOCK_STREAM, 0);
        int on = 1;
        setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        sockaddr_in address = loopback::LoopbackAddress(static_cast<uint16_t>(port_));
        socklen_t length = sizeof(address);
        if (bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            listen(listener_, 16) != 0 ||
            getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            close(listener_);
            listener_ = -1;
            return false;
        }
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { AcceptLoop(); });
        return true;
    }

    /// Refuses new connections and cuts the open ones, as a stopped server would.
    void Stop() {
        if (listener_ < 0) {
            return;
        }
        // Wakes the blocked accept().
        shutdown(listener_, SHUT_RDWR);
        acceptor_.join();
        close(listener_);
        listener_ = -1;
        std::vector<int> sockets;
        std::vector<std::thread> pumps;
        {
            std::lock_guard lock(mu_);
            sockets.swap(sockets_);
            pumps.swap(pumps_);
        }
        for (int fd : sockets) {
            shutdown(fd, SHUT_RDWR);
        }
        for (std::thread& pump : pumps) {
            pump.join();
        }
        for (int fd : sockets) {
            close(fd);
        }
    }

    int port() const { return port_; }

  private:
    void AcceptLoop() {
        while (true) {
            int client = accept(listener_, nullptr, nullptr);
            if (client < 0) {
                return;
            }
            int server = ConnectUpstream();
            if (server < 0) {
                close(client);
                continue;
            }
            std::lock_guard lock(mu_);
            sockets_.push_back(client);
            sockets_.push_back(server);
            pumps_.emplace_back(Pump, client, server);
            pumps_.emplace_back(Pump, server, client);
        }
    }

    int ConnectUpstream() const {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (getaddrinfo(upstream_host_.c_str(), upstream_port_.c_str(), &hints, &found) != 0) {
            return -1;
        }
        int fd = -1;
        for (addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
            fd = socket(entry->ai_family, entry->ai_socktype, entry->ai_protocol);
            if (fd >= 0 && connect(fd, entry->ai_addr, entry->ai_addrlen) == 0) {
                break;
            }
            if (fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
        freeaddrinfo(found);
        return fd;
    }

    static void Pump(int from, int to) {
        std::vector<char> buffer(16 * 1024);
        while (true) {
            ssize_t n = recv(from, buffer.data(), buffer.size(), 0);
            if (n <= 0) {
                break;
            }
            ssize_t sent = 0;
            while (sent < n) {
                ssize_t m =
                    send(to, buffer.data() + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
                if (m <= 0) {
                    break;
                }
                sent += m;
            }
            if (sent < n) {
                break;
            }
        }
        shutdown(to, SHUT_RDWR);
        shutdown(from, SHUT_RDWR);
    }

    const std::string upstream_host_;
    const std::string upstream_port_;
    int listener_ = -1;
    int port_ = 0;
    std::thread acceptor_;
    std::mutex mu_;
    std::vector<int> sockets_;        // guarded by mu_
    std::vector<std::thread> pumps_;  // guarded by mu_
};

// ---- Parameter translation (no server) ---------------------------------------------------

TEST(TranslateParametersTest, NumbersParameters) {
    TranslatedSql translated = TranslateParameters("SELECT a FROM t WHERE b = ?1 AND c = ?2");
    EXPECT_EQ(translated.text, "SELECT a FROM t WHERE b = $1 AND c = $2");
    EXPECT_EQ(translated.parameters, 2);
    EXPECT_EQ(translated.used, (std::vector<bool>{true, true}));
    translated = TranslateParameters("SELECT 1");
    EXPECT_EQ(translated.text, "SELECT 1");
    EXPECT_EQ(translated.parameters, 0);
    EXPECT_TRUE(translated.used.empty());
}

TEST(TranslateParametersTest, RepeatedSkippedAndMultiDigitParameters) {
    TranslatedSql translated = TranslateParameters("WHERE (?3 = '' OR x = ?3) LIMIT ?12 OFFSET ?1");
    EXPECT_EQ(translated.text, "WHERE ($3 = '' OR x = $3) LIMIT $12 OFFSET $1");
    EXPECT_EQ(translated.parameters, 12);
    ASSERT_EQ(translated.used.size(), 12u);
    EXPECT_TRUE(translated.used[0]);
    EXPECT_FALSE(translated.used[1]);
    EXPECT_TRUE(translated.used[2]);
    EXPECT_TRUE(translated.used[11]);
}

TEST(TranslateParametersTest, LeavesQuotedTextAndCommentsAlone) {
    TranslatedSql translated =
        TranslateParameters("SELECT '?1', 'it''s ?2', \"col?3\", ?4 -- ?5\n, ?6");
    EXPECT_EQ(translated.text, "SELECT '?1', 'it''s ?2', \"col?3\", $4 -- ?5\n, $6");
    EXPECT_EQ(translated.parameters, 6);
    EXPECT_EQ(translated.used, (std::vector<bool>{false, false, false, true, false, true}));
    // A question mark without a number is not a parameter; an unterminated literal runs to
    // the end.
    translated = TranslateParameters("SELECT ? , ?a, ?0, 'x ?1");
    EXPECT_EQ(translated.text, "SELECT ? , ?a, ?0, 'x ?1");
    EXPECT_EQ(translated.parameters, 0);
}

// ---- A connection in a fresh schema ------------------------------------------------------

class PgTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* server = std::getenv(kServerVariable);
        if (server == nullptr || server[0] == '\0') {
            GTEST_SKIP() << kServerVariable
                         << " is not set: these tests need a PostgreSQL server (`scripts/"
                            "postgres.sh start DIR` starts one and prints its conninfo)";
        }
        server_ = server;
        auto admin = PgConnection::Open({.conninfo = server_});
        PG_ASSERT_OK(admin);
        admin_ = std::move(admin).value();
        schema_ = "t_" + crypto::RandomLowerAlnum(16);
        PG_ASSERT_OK(admin_->Exec(("CREATE SCHEMA " + schema_).c_str()));
        conninfo_ = RewriteConninfo(server_, {{"options", "-c search_path=" + schema_}});
        ASSERT_FALSE(conninfo_.empty()) << "cannot parse " << kServerVariable;
        auto db = PgConnection::Open({.conninfo = conninfo_});
        PG_ASSERT_OK(db);
        db_ = std::move(db).value();
    }

    void TearDown() override {
        db_.reset();
        if (admin_ != nullptr && !schema_.empty()) {
            EXPECT_TRUE(admin_->Exec(("DROP SCHEMA " + schema_ + " CASCADE").c_str()).ok());
        }
    }

    // Runs a query that returns one integer.
    int64_t QueryInt(PgConnection& db, std::string_view sql) {
        Result<Statement> prepared = db.Prepare(sql);
        EXPECT_TRUE(prepared.ok()) << Describe(prepared);
        if (!prepared.ok()) {
            return -1;
        }
        Statement stmt = std::move(prepared).value();
        Result<bool> row = stmt.Step();
        EXPECT_TRUE(row.ok() && *row) << Describe(row);
        return stmt.ColumnInt64(0);
    }

    std::string server_;
    std::string schema_;
    std::string conninfo_;  // server_ with search_path set to schema_
    std::unique_ptr<PgConnection> admin_;
    std::unique_ptr<PgConnection> db_;
};

constexpr std::string_view kCreateItems =
    "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT COLLATE \"C\", flag INTEGER)";
constexpr std::string_view kInsertItem = "INSERT INTO items (id, name, flag) VALUES (?1, ?2, ?3)";
constexpr std::string_view kSelectItem = "SELECT id, name, flag FROM items WHERE id = ?1";
constexpr std::string_view kSelectItemsAbove =
    "SELECT id, name FROM items WHERE id > ?1 ORDER BY id";
constexpr std::string_view kCountItemsAbove = "SELECT COUNT(*) FROM items WHERE id > ?1";

Status RunSql(PgConnection& db, std::string_view sql) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
    return stmt.Run();
}

TEST_F(PgTest, BindsAndReadsIntegersTextAndNull) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    // The bound view is not NUL-terminated: only its characters may be sent.
    std::string backing = "hello, world";
    std::string_view hello = std::string_view(backing).substr(0, 5);
    std::string odd = "quote ' backslash \\ é 中";
    const int64_t big = std::numeric_limits<int64_t>::max();
    const int64_t small = std::numeric_limits<int64_t>::min();
    {
        auto stmt = db_->Prepare(kInsertItem);
        PG_ASSERT_OK(stmt);
        stmt->Bind(1, int64_t{1});
        stmt->Bind(2, hello);
        stmt->Bind(3, 7);
        PG_ASSERT_OK(stmt->Run());
        stmt->Reset();
        stmt->Bind(1, big);
        stmt->Bind(2, odd);
        stmt->BindNull(3);
        PG_ASSERT_OK(stmt->Run());
        stmt->Reset();
        stmt->Bind(1, small);
        stmt->Bind(2, std::string_view());
        stmt->Bind(3, std::optional<int>());
        PG_ASSERT_OK(stmt->Run());
    }
    auto stmt = db_->Prepare(kSelectItem);
    PG_ASSERT_OK(stmt);
    stmt->Bind(1, int64_t{1});
    auto row = stmt->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), 1);
    EXPECT_EQ(stmt->ColumnText(1), "hello");
    EXPECT_EQ(stmt->ColumnInt(2), 7);
    EXPECT_EQ(stmt->ColumnOptionalInt(2), 7);
    row = stmt->Step();
    PG_ASSERT_OK(row);
    EXPECT_FALSE(*row);

    stmt->Reset();
    stmt->Bind(1, big);
    row = stmt->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), big);
    EXPECT_EQ(stmt->ColumnText(1), odd);
    // NULL reads as 0, empty and nullopt.
    EXPECT_EQ(stmt->ColumnInt64(2), 0);
    EXPECT_EQ(stmt->ColumnText(2), "");
    EXPECT_EQ(stmt->ColumnOptionalInt(2), std::nullopt);

    stmt->Reset();
    stmt->Bind(1, small);
    row = stmt->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), small);
    EXPECT_EQ(stmt->ColumnText(1), "");
    EXPECT_EQ(stmt->ColumnOptionalInt(2), std::nullopt);
}

TEST_F(PgTest, AcceptsStatementsThatSkipAParameterNumber) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0), (2, 'b', 0)"));
    // ?2 is bound but unused, as SQLite allows.
    static constexpr std::string_view kSkipping =
        "SELECT name FROM items WHERE id = ?3 AND ?1 = ?1";
    for (bool stream : {false, true}) {
        PG_ASSERT_OK(db_->Exec("BEGIN"));
        auto stmt = stream ? db_->PrepareStream(kSkipping) : db_->Prepare(kSkipping);
        PG_ASSERT_OK(stmt);
        stmt->Bind(1, int64_t{7});
        stmt->Bind(2, int64_t{8});
        stmt->Bind(3, int64_t{2});
        auto row = stmt->Step();
        PG_ASSERT_OK(row);
        ASSERT_TRUE(*row);
        EXPECT_EQ(stmt->ColumnText(0), "b");
        PG_ASSERT_OK(db_->Commit());
    }
}

TEST_F(PgTest, ReadsBooleansAsOneAndZero) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0), (2, 'b', 1)"));
    static constexpr std::string_view kQuery =
        "SELECT EXISTS (SELECT 1 FROM items WHERE id = ?1), ?1 > 1, "
        "       (SELECT COUNT(*) FROM items WHERE flag = 1) > 0, ?2 || ?2";
    auto stmt = db_->Prepare(kQuery);
    PG_ASSERT_OK(stmt);
    stmt->Bind(1, int64_t{2});
    stmt->Bind(2, "ab");
    auto row = stmt->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), 1);
    EXPECT_TRUE(stmt->ColumnBool(1));
    EXPECT_EQ(stmt->ColumnInt(2), 1);
    EXPECT_EQ(stmt->ColumnText(3), "abab");
    stmt->Reset();
    stmt->Bind(1, int64_t{1});
    row = stmt->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), 1);
    EXPECT_FALSE(stmt->ColumnBool(1));
    stmt->Reset();
    stmt->Bind(1, int64_t{9});
    row = stmt->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->ColumnInt64(0), 0);
}

TEST_F(PgTest, ResetRunsTheStatementAgainWithItsBindings) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0), (2, 'b', 0)"));
    auto count = db_->Prepare(kCountItemsAbove);
    PG_ASSERT_OK(count);
    count->Bind(1, int64_t{0});
    auto row = count->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(count->ColumnInt64(0), 2);
    // Past the end, Step keeps answering false without running the query again.
    for (int i = 0; i < 3; ++i) {
        row = count->Step();
        PG_ASSERT_OK(row);
        EXPECT_FALSE(*row);
    }
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (3, 'c', 0)"));
    count->Reset();
    row = count->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(count->ColumnInt64(0), 3);
}

TEST_F(PgTest, ChangesCountsTheLastInsertUpdateOrDelete) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 1)"));
    EXPECT_EQ(db_->Changes(), 3);
    static constexpr std::string_view kUpdate = "UPDATE items SET flag = ?1 WHERE flag = 0";
    auto update = db_->Prepare(kUpdate);
    PG_ASSERT_OK(update);
    update->Bind(1, 5);
    PG_ASSERT_OK(update->Run());
    EXPECT_EQ(db_->Changes(), 2);
    // Queries leave the count alone.
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM items"), 3);
    EXPECT_EQ(db_->Changes(), 2);
    PG_ASSERT_OK(RunSql(*db_, "DELETE FROM items WHERE id > 100"));
    EXPECT_EQ(db_->Changes(), 0);
    // An UPDATE with RETURNING counts too.
    PG_ASSERT_OK(RunSql(*db_, "UPDATE items SET flag = 9 WHERE id = 1 RETURNING id"));
    EXPECT_EQ(db_->Changes(), 1);
}

TEST_F(PgTest, RunCheckedReportsViolationsAndKeepsTheTransactionUsable) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_,
                        "CREATE TABLE parts (id BIGINT PRIMARY KEY, item_id BIGINT NOT NULL "
                        "REFERENCES items (id), CHECK (id > 0))"));
    PG_ASSERT_OK(db_->Exec("BEGIN"));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0)"));

    static constexpr std::string_view kInsertPart =
        "INSERT INTO parts (id, item_id) VALUES (?1, ?2)";
    auto insert = db_->Prepare(kInsertPart);
    PG_ASSERT_OK(insert);
    insert->Bind(1, int64_t{10});
    insert->Bind(2, int64_t{1});
    auto outcome = insert->RunChecked();
    PG_ASSERT_OK(outcome);
    EXPECT_EQ(*outcome, Violation::kNone);
    EXPECT_EQ(db_->Changes(), 1);

    outcome = insert->RunChecked();  // the same key again
    PG_ASSERT_OK(outcome);
    EXPECT_EQ(*outcome, Violation::kUnique);

    insert->Reset();
    insert->Bind(1, int64_t{11});
    insert->Bind(2, int64_t{99});  // no such item
    outcome = insert->RunChecked();
    PG_ASSERT_OK(outcome);
    EXPECT_EQ(*outcome, Violation::kForeignKey);

    // Other failures are errors; the transaction still goes on.
    insert->Reset();
    insert->Bind(1, int64_t{-1});
    insert->Bind(2, int64_t{1});
    PG_EXPECT_CODE(insert->RunChecked(), ErrorCode::kInternal);

    insert->Reset();
    insert->Bind(1, int64_t{12});
    insert->Bind(2, int64_t{1});
    outcome = insert->RunChecked();
    PG_ASSERT_OK(outcome);
    EXPECT_EQ(*outcome, Violation::kNone);
    PG_ASSERT_OK(db_->Commit());
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM parts"), 2);
    EXPECT_FALSE(db_->InTransaction());
}

// The cursors of streamed queries (pg_cursors also lists the unnamed portal of this query).
constexpr std::string_view kCountCursors =
    "SELECT COUNT(*) FROM pg_cursors WHERE name LIKE 'otad\\_c%'";

TEST_F(PgTest, StreamsManyRowsWhileOtherStatementsRun) {
    constexpr int64_t kRows = 5000;
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_, "CREATE TABLE tally (n BIGINT NOT NULL)"));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO tally VALUES (0)"));
    PG_ASSERT_OK(db_->Exec("BEGIN"));
    PG_ASSERT_OK(db_->Exec(
        "INSERT INTO items SELECT i, 'item ' || i, 0 FROM generate_series(1, 5000) AS i"));

    static constexpr std::string_view kAddToTally = "UPDATE tally SET n = n + ?1";
    static constexpr std::string_view kFlag = "UPDATE items SET flag = 1 WHERE id = ?1";
    auto stream = db_->PrepareStream(kSelectItemsAbove);
    PG_ASSERT_OK(stream);
    stream->Bind(1, int64_t{0});
    int64_t expected = 1;
    while (true) {
        auto row = stream->Step();
        PG_ASSERT_OK(row);
        if (!*row) {
            break;
        }
        ASSERT_EQ(stream->ColumnInt64(0), expected);
        ASSERT_EQ(stream->ColumnText(1), "item " + std::to_string(expected));
        // Writes and reads between the rows, on the same connection.
        auto add = db_->Prepare(kAddToTally);
        PG_ASSERT_OK(add);
        add->Bind(1, expected);
        PG_ASSERT_OK(add->Run());
        auto flag = db_->Prepare(kFlag);
        PG_ASSERT_OK(flag);
        flag->Bind(1, expected);
        PG_ASSERT_OK(flag->Run());
        ASSERT_EQ(db_->Changes(), 1);
        if (expected % 1000 == 0) {
            EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM items WHERE flag = 1"), expected);
        }
        ++expected;
    }
    EXPECT_EQ(expected, kRows + 1);
    // The cursor was closed with its last row.
    EXPECT_EQ(QueryInt(*db_, kCountCursors), 0);
    EXPECT_EQ(QueryInt(*db_, "SELECT n FROM tally"), kRows * (kRows + 1) / 2);
    PG_ASSERT_OK(db_->Commit());
}

TEST_F(PgTest, ReleasingAStreamEarlyClosesItsCursor) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(db_->Exec("BEGIN"));
    PG_ASSERT_OK(
        db_->Exec("INSERT INTO items SELECT i, 'x', 0 FROM generate_series(1, 2500) AS i"));
    {
        auto stream = db_->PrepareStream(kSelectItemsAbove);
        PG_ASSERT_OK(stream);
        stream->Bind(1, int64_t{0});
        for (int i = 0; i < 1500; ++i) {
            auto row = stream->Step();
            PG_ASSERT_OK(row);
            ASSERT_TRUE(*row);
        }
        EXPECT_EQ(QueryInt(*db_, kCountCursors), 1);
        // Reset closes the cursor; the next Step opens a new one from the start.
        stream->Reset();
        EXPECT_EQ(QueryInt(*db_, kCountCursors), 0);
        auto row = stream->Step();
        PG_ASSERT_OK(row);
        ASSERT_TRUE(*row);
        EXPECT_EQ(stream->ColumnInt64(0), 1);
    }
    EXPECT_EQ(QueryInt(*db_, kCountCursors), 0);
    PG_ASSERT_OK(db_->Commit());
}

TEST_F(PgTest, TheSameStatementMayBeInUseMoreThanOnce) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)"));
    auto outer = db_->Prepare(kSelectItemsAbove);
    PG_ASSERT_OK(outer);
    outer->Bind(1, int64_t{0});
    std::vector<std::string> pairs;
    while (true) {
        auto row = outer->Step();
        PG_ASSERT_OK(row);
        if (!*row) {
            break;
        }
        int64_t id = outer->ColumnInt64(0);
        auto inner = db_->Prepare(kSelectItemsAbove);
        PG_ASSERT_OK(inner);
        inner->Bind(1, id);
        while (true) {
            auto inner_row = inner->Step();
            PG_ASSERT_OK(inner_row);
            if (!*inner_row) {
                break;
            }
            pairs.push_back(outer->ColumnText(1) + inner->ColumnText(1));
        }
    }
    EXPECT_EQ(pairs, (std::vector<std::string>{"ab", "ac", "bc"}));

    // Streams nest as well, each with its own cursor.
    PG_ASSERT_OK(db_->Exec("BEGIN"));
    auto first = db_->PrepareStream(kSelectItemsAbove);
    PG_ASSERT_OK(first);
    first->Bind(1, int64_t{1});
    auto second = db_->PrepareStream(kSelectItemsAbove);
    PG_ASSERT_OK(second);
    second->Bind(1, int64_t{2});
    auto row = first->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    row = second->Step();
    PG_ASSERT_OK(row);
    ASSERT_TRUE(*row);
    EXPECT_EQ(first->ColumnInt64(0), 2);
    EXPECT_EQ(second->ColumnInt64(0), 3);
    PG_ASSERT_OK(db_->Commit());
}

TEST_F(PgTest, ErrorsNameTheStatementButNoBoundValue) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    static constexpr std::string_view kBroken = "SELEC id FROM items";
    auto broken = db_->Prepare(kBroken);
    PG_EXPECT_CODE(broken, ErrorCode::kInternal);
    EXPECT_EQ(broken.error().internal.rfind("postgres: ", 0), 0u) << broken.error().internal;
    EXPECT_NE(broken.error().internal.find("SELEC id FROM items"), std::string::npos);
    EXPECT_NE(broken.error().internal.find("42601"), std::string::npos);

    // A value the server cannot read as a number: its message would quote it.
    auto stmt = db_->Prepare(kSelectItem);
    PG_ASSERT_OK(stmt);
    stmt->Bind(1, "s3cr3t-value");
    auto row = stmt->Step();
    PG_EXPECT_CODE(row, ErrorCode::kInternal);
    EXPECT_EQ(row.error().internal.find("s3cr3t"), std::string::npos) << row.error().internal;

    // A duplicate key: the server's detail would quote the row.
    PG_ASSERT_OK(RunSql(*db_, "CREATE UNIQUE INDEX items_name ON items (name)"));
    auto insert = db_->Prepare(kInsertItem);
    PG_ASSERT_OK(insert);
    insert->Bind(1, int64_t{1});
    insert->Bind(2, "s3cr3t-name");
    insert->Bind(3, 0);
    PG_ASSERT_OK(insert->Run());
    insert->Reset();
    insert->Bind(1, int64_t{2});
    Status duplicate = insert->Run();
    PG_EXPECT_CODE(duplicate, ErrorCode::kInternal);
    EXPECT_EQ(duplicate.error().internal.find("s3cr3t"), std::string::npos)
        << duplicate.error().internal;
    EXPECT_NE(duplicate.error().internal.find("23505"), std::string::npos);

    // A parameter number the statement does not have.
    stmt->Reset();
    stmt->Bind(1, int64_t{1});
    stmt->Bind(2, int64_t{1});
    PG_EXPECT_CODE(stmt->Step(), ErrorCode::kInternal);
}

TEST_F(PgTest, CommitOfAFailedTransactionIsAnError) {
    PG_ASSERT_OK(RunSql(*db_, kCreateItems));
    PG_ASSERT_OK(db_->Exec("BEGIN"));
    PG_ASSERT_OK(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0)"));
    EXPECT_FALSE(RunSql(*db_, "INSERT INTO items VALUES (1, 'a', 0)").ok());
    PG_EXPECT_CODE(db_->Commit(), ErrorCode::kInternal);
    EXPECT_FALSE(db_->InTransaction());
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM items"), 0);
}

TEST_F(PgTest, StatementTimeoutApplies) {
    auto db = PgConnection::Open({.conninfo = conninfo_, .statement_timeout_ms = 50});
    PG_ASSERT_OK(db);
    Status slow = (*db)->Exec("SELECT pg_sleep(2)");
    PG_EXPECT_CODE(slow, ErrorCode::kInternal);
    EXPECT_NE(slow.error().internal.find("57014"), std::string::npos) << slow.error().internal;
}

TEST_F(PgTest, ATerminatedSessionIsUnavailableAndBroken) {
    int64_t pid = QueryInt(*db_, "SELECT pg_backend_pid()");
    PG_ASSERT_OK(
        admin_->Exec(("SELECT pg_terminate_backend(" + std::to_string(pid) + ")").c_str()));
    PG_EXPECT_CODE(db_->Exec("SELECT 1"), ErrorCode::kUnavailable);
    EXPECT_TRUE(db_->Broken());
}

TEST_F(PgTest, ConnectingToNoServerIsUnavailable) {
    // A port on which nothing listens: bind one and close it again.
    TcpProxy probe("127.0.0.1", "1");
    ASSERT_TRUE(probe.Start());
    int port = probe.port();
    probe.Stop();
    std::string nowhere = RewriteConninfo(
        conninfo_, {{"host", "127.0.0.1"}, {"hostaddr", ""}, {"port", std::to_string(port)}});
    PG_EXPECT_CODE(PgConnection::Open({.conninfo = nowhere}), ErrorCode::kUnavailable);
}

TEST(PgConnectionTest, AMalformedConnectionStringIsRefusedWithoutQuotingIt) {
    // Refused before any connection attempt: no server needed.
    for (const char* conninfo :
         {"postgresql://otad:s3cr%zzet@127.0.0.1/otad", "host=127.0.0.1 password=s3cret dbname"}) {
        auto db = PgConnection::Open({.conninfo = conninfo});
        ASSERT_FALSE(db.ok()) << conninfo;
        EXPECT_EQ(db.error().internal.find("s3cr"), std::string::npos) << db.error().internal;
    }
}

// ---- Migrations --------------------------------------------------------------------------

TEST_F(PgTest, MigrationsApplyOnceAndAgainAsANoOp) {
    std::span<const Migration> migrations = EmbeddedMigrations();
    ASSERT_FALSE(migrations.empty());
    PG_EXPECT_CODE(CheckSchemaVersion(*db_, migrations), ErrorCode::kInternal);
    PG_ASSERT_OK(ApplyMigrations(*db_, migrations));
    PG_ASSERT_OK(CheckSchemaVersion(*db_, migrations));
    PG_ASSERT_OK(ApplyMigrations(*db_, migrations));
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM schema_version"),
              static_cast<int64_t>(migrations.size()));
    EXPECT_EQ(QueryInt(*db_, "SELECT MAX(version) FROM schema_version"), migrations.back().version);
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM write_lock"), 1);
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM apply_id_counter"), 1);

    // A newer database is refused, whether migrating or not.
    PG_ASSERT_OK(db_->Exec("INSERT INTO schema_version (version, name) VALUES (9999, 'future')"));
    PG_EXPECT_CODE(ApplyMigrations(*db_, migrations), ErrorCode::kInternal);
    PG_EXPECT_CODE(CheckSchemaVersion(*db_, migrations), ErrorCode::kInternal);
}

TEST_F(PgTest, ConcurrentMigrationsApplyEachVersionOnce) {
    std::span<const Migration> migrations = EmbeddedMigrations();
    constexpr int kProcesses = 4;
    std::vector<std::unique_ptr<PgConnection>> connections;
    for (int i = 0; i < kProcesses; ++i) {
        auto db = PgConnection::Open({.conninfo = conninfo_});
        PG_ASSERT_OK(db);
        connections.push_back(std::move(db).value());
    }
    std::vector<Status> results(kProcesses);
    std::vector<std::thread> threads;
    threads.reserve(kProcesses);
    for (int i = 0; i < kProcesses; ++i) {
        threads.emplace_back([&, i] { results[i] = ApplyMigrations(*connections[i], migrations); });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (const Status& result : results) {
        EXPECT_TRUE(result.ok()) << Describe(result);
    }
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM schema_version"),
              static_cast<int64_t>(migrations.size()));
}

TEST_F(PgTest, ModuleNamesAreUniqueIgnoringAsciiCaseOnly) {
    PG_ASSERT_OK(ApplyMigrations(*db_, EmbeddedMigrations()));
    PG_ASSERT_OK(db_->Exec(
        "INSERT INTO accounts (name, access_key_id, access_key_secret, enabled, created_ms) "
        "VALUES ('a', 'k', 's', 1, 0);"
        "INSERT INTO instances (account_id, instance_id, is_default, created_ms) "
        "SELECT id, 'i', 1, 0 FROM accounts;"
        "INSERT INTO products (account_id, instance_id, product_key, product_name, "
        "  product_secret, description, node_type, data_format, aliyun_commodity_code, "
        "  auth_type, protocol_type, net_type, id2, category_key, validate_type, publish_auto, "
        "  product_status, created_ms) "
        "SELECT account_id, id, 'pk', 'p', '', '', 0, 1, '', '', '', 0, 0, '', 0, 1, '', 0 "
        "FROM instances"));
    static constexpr std::string_view kInsertModule =
        "INSERT INTO modules (account_id, instance_id, product_key, module_name, alias_name, "
        "  module_desc, created_ms, modified_ms) "
        "SELECT account_id, id, 'pk', ?1, '', '', 0, 0 FROM instances";
    // RunChecked needs a transaction (its savepoint lives in one).
    PG_ASSERT_OK(db_->Exec("BEGIN"));
    auto insert = db_->Prepare(kInsertModule);
    PG_ASSERT_OK(insert);
    for (const char* name : {"Wifi", "É"}) {
        insert->Reset();
        insert->Bind(1, name);
        auto outcome = insert->RunChecked();
        PG_ASSERT_OK(outcome);
        EXPECT_EQ(*outcome, Violation::kNone) << name;
    }
    // ASCII letters fold (as SQLite's NOCASE does); other letters do not.
    for (const char* name : {"WIFI", "wifi"}) {
        insert->Reset();
        insert->Bind(1, name);
        auto outcome = insert->RunChecked();
        PG_ASSERT_OK(outcome);
        EXPECT_EQ(*outcome, Violation::kUnique) << name;
    }
    insert->Reset();
    insert->Bind(1, "é");
    auto outcome = insert->RunChecked();
    PG_ASSERT_OK(outcome);
    EXPECT_EQ(*outcome, Violation::kNone);
    PG_ASSERT_OK(db_->Commit());
    EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM modules"), 3);
}

// ---- The store ---------------------------------------------------------------------------

domain::Account MakeAccount(const std::string& name) {
    domain::Account account;
    account.name = name;
    account.access_key_id = "AK" + name;
    account.access_key_secret = "secret-" + name;
    account.created_ms = 1000;
    return account;
}

Status InsertAccount(domain::WriteTx& tx, const std::string& name) {
    OTA_ASSIGN_OR_RETURN(domain::Account inserted, tx.InsertAccount(MakeAccount(name)));
    if (inserted.id == 0) {
        return InternalError("no id assigned");
    }
    return Ok();
}

Result<bool> AccountExists(domain::Store& store, const std::string& name) {
    bool exists = false;
    OTA_TRY(store.Read([&](domain::ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto account, tx.FindAccountByName(name));
        exists = account.has_value();
        return Ok();
    }));
    return exists;
}

using PgStoreTest = PgTest;

TEST_F(PgStoreTest, CommitsWritesAndRollsBackFailedOnes) {
    auto store = OpenPgStore({.conninfo = conninfo_, .connections = 2});
    PG_ASSERT_OK(store);
    PG_ASSERT_OK((*store)->Ping());
    PG_ASSERT_OK((*store)->Write([](domain::WriteTx& tx) { return InsertAccount(tx, "kept"); }));
    Status failed = (*store)->Write([](domain::WriteTx& tx) -> Status {
        OTA_TRY(InsertAccount(tx, "dropped"));
        return MakeError(ErrorCode::kJobNotFound);
    });
    PG_EXPECT_CODE(failed, ErrorCode::kJobNotFound);
    EXPECT_THROW((void)(*store)->Write([](domain::WriteTx& tx) -> Status {
        OTA_TRY(InsertAccount(tx, "thrown"));
        throw std::runtime_error("boom");
    }),
                 std::runtime_error);
    auto kept = AccountExists(**store, "kept");
    PG_ASSERT_OK(kept);
    EXPECT_TRUE(*kept);
    for (const char* name : {"dropped", "thrown"}) {
        auto exists = AccountExists(**store, name);
        PG_ASSERT_OK(exists);
        EXPECT_FALSE(*exists) << name;
    }
    PG_EXPECT_CODE(
        (*store)->Read([](domain::ReadTx&) { return MakeError(ErrorCode::kTaskNotFound); }),
        ErrorCode::kTaskNotFound);
}

TEST_F(PgStoreTest, RefusesAWriteInsideAWrite) {
    auto store = OpenPgStore({.conninfo = conninfo_, .connections = 2});
    PG_ASSERT_OK(store);
    domain::Store& s = **store;
    Status outer = s.Write([&](domain::WriteTx&) -> Status {
        Status nested = s.Write([](domain::WriteTx&) { return Ok(); });
        EXPECT_EQ(ErrorCodeName(nested.ok() ? ErrorCode::kUnavailable : nested.error().code),
                  ErrorCodeName(ErrorCode::kInternal));
        // A read on the same thread is fine: it has a connection of its own.
        OTA_ASSIGN_OR_RETURN(bool exists, AccountExists(s, "nobody"));
        EXPECT_FALSE(exists);
        return Ok();
    });
    PG_ASSERT_OK(outer);
}

TEST_F(PgStoreTest, WritesOfTwoStoresTakeTurns) {
    // Two stores on one database stand for two processes: the write lock orders them.
    auto first = OpenPgStore({.conninfo = conninfo_, .connections = 2});
    PG_ASSERT_OK(first);
    auto second = OpenPgStore({.conninfo = conninfo_, .connections = 2});
    PG_ASSERT_OK(second);
    std::atomic<bool> first_inside{false};
    std::atomic<bool> release_first{false};
    std::atomic<bool> second_ran_while_first_inside{false};
    std::thread writer([&] {
        Status status = (*first)->Write([&](domain::WriteTx& tx) -> Status {
            OTA_TRY(InsertAccount(tx, "first"));
            first_inside = true;
            while (!release_first) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            return Ok();
        });
        EXPECT_TRUE(status.ok()) << Describe(status);
    });
    while (!first_inside) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::thread other([&] {
        Status status = (*second)->Write([&](domain::WriteTx& tx) -> Status {
            if (!release_first) {
                second_ran_while_first_inside = true;
            }
            // The first writer committed before this one began: its row is visible.
            OTA_ASSIGN_OR_RETURN(auto account, tx.FindAccountByName("first"));
            EXPECT_TRUE(account.has_value());
            return InsertAccount(tx, "second");
        });
        EXPECT_TRUE(status.ok()) << Describe(status);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    release_first = true;
    writer.join();
    other.join();
    EXPECT_FALSE(second_ran_while_first_inside);
    auto second_row = AccountExists(**first, "second");
    PG_ASSERT_OK(second_row);
    EXPECT_TRUE(*second_row);
}

TEST_F(PgStoreTest, AcquireWaitsThenFailsWhenThePoolIsExhausted) {
    auto store = OpenPgStore({.conninfo = conninfo_, .connections = 1, .acquire_timeout_ms = 200});
    PG_ASSERT_OK(store);
    std::atomic<bool> inside{false};
    std::atomic<bool> release{false};
    std::thread reader([&] {
        Status status = (*store)->Read([&](domain::ReadTx&) -> Status {
            inside = true;
            while (!release) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            return Ok();
        });
        EXPECT_TRUE(status.ok()) << Describe(status);
    });
    while (!inside) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto started = std::chrono::steady_clock::now();
    PG_EXPECT_CODE((*store)->Ping(), ErrorCode::kUnavailable);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
    release = true;
    reader.join();
    PG_ASSERT_OK((*store)->Ping());
}

TEST_F(PgStoreTest, OpeningWithoutMigratingNeedsTheCurrentSchema) {
    PG_EXPECT_CODE(OpenPgStore({.conninfo = conninfo_, .migrate = false}), ErrorCode::kInternal);
    PG_ASSERT_OK(OpenPgStore({.conninfo = conninfo_}));
    PG_ASSERT_OK(OpenPgStore({.conninfo = conninfo_, .migrate = false}));
    PG_EXPECT_CODE(OpenPgStore({.conninfo = conninfo_, .connections = 0}), ErrorCode::kInternal);
}

TEST_F(PgStoreTest, AServerThatGoesAwayIsUnavailableAndRecoveredFrom) {
    std::string host = ConninfoValue(server_, "host");
    std::string port = ConninfoValue(server_, "port");
    if (host.empty() || host[0] == '/' || host.find(',') != std::string::npos) {
        GTEST_SKIP() << "needs " << kServerVariable << " to name one TCP host";
    }
    TcpProxy proxy(host, port.empty() ? "5432" : port);
    ASSERT_TRUE(proxy.Start());
    std::string through_proxy = RewriteConninfo(
        conninfo_,
        {{"host", "127.0.0.1"}, {"hostaddr", ""}, {"port", std::to_string(proxy.port())}});
    auto opened =
        OpenPgStore({.conninfo = through_proxy, .connections = 3, .acquire_timeout_ms = 3000});
    PG_ASSERT_OK(opened);
    domain::Store& store = **opened;
    // Fill the pool: three connections, all idle afterwards.
    {
        std::atomic<int> inside{0};
        std::vector<std::thread> readers;
        readers.reserve(3);
        for (int i = 0; i < 3; ++i) {
            readers.emplace_back([&] {
                Status status = store.Read([&](domain::ReadTx&) -> Status {
                    ++inside;
                    while (inside < 3) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(5));
                    }
                    return Ok();
                });
                EXPECT_TRUE(status.ok()) << Describe(status);
            });
        }
        for (std::thread& reader : readers) {
            reader.join();
        }
    }
    PG_ASSERT_OK(store.Write([](domain::WriteTx& tx) { return InsertAccount(tx, "before"); }));

    // The server goes away: every kind of transaction fails as retryable.
    proxy.Stop();
    PG_EXPECT_CODE(store.Ping(), ErrorCode::kUnavailable);
    PG_EXPECT_CODE(store.Read([](domain::ReadTx&) { return Ok(); }), ErrorCode::kUnavailable);
    PG_EXPECT_CODE(store.Write([](domain::WriteTx&) { return Ok(); }), ErrorCode::kUnavailable);
    PG_EXPECT_CODE(OpenPgStore({.conninfo = through_proxy}), ErrorCode::kUnavailable);

    // It comes back: new connections replace the broken ones.
    ASSERT_TRUE(proxy.Start());
    PG_ASSERT_OK(store.Ping());
    auto before = AccountExists(store, "before");
    PG_ASSERT_OK(before);
    EXPECT_TRUE(*before);
    PG_ASSERT_OK(store.Write([](domain::WriteTx& tx) { return InsertAccount(tx, "after"); }));

    // A restart between two transactions costs none of them: connections found cut when a
    // transaction begins are replaced on the spot.
    proxy.Stop();
    ASSERT_TRUE(proxy.Start());
    auto after = AccountExists(store, "after");
    PG_ASSERT_OK(after);
    EXPECT_TRUE(*after);
    PG_ASSERT_OK(store.Write([](domain::WriteTx& tx) { return InsertAccount(tx, "again"); }));
}

}  // namespace
}  // namespace otad::storage::postgres
