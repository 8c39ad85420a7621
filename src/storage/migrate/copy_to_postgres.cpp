#include "storage/migrate/copy_to_postgres.hpp"

#include "common/crypto.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrate.hpp"
#include "storage/postgres/migrations.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrate.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace otad::storage::migrate {
namespace {

using postgres::PgConnection;
using sql::Statement;
using SqliteConnection = sqlite::Connection;

/// COPY data is sent in pieces of about this size.
constexpr size_t kCopyBufferBytes = size_t{1} << 20;
/// Rows per COPY statement: a table is loaded by as many as it needs. PostgreSQL checks the
/// foreign keys of the rows a statement stored at its end, queueing one event per row in memory
/// until then; a COPY of millions of rows would make that queue large.
constexpr int64_t kRowsPerCopy = 100'000;
/// Canonical renderings are hashed in pieces of about this size.
constexpr size_t kHashBufferBytes = size_t{64} << 10;
/// PostgreSQL's limit on the length of an identifier.
constexpr size_t kMaxIdentifierBytes = 63;
/// How much of a checksum an error message shows.
constexpr size_t kChecksumPrefix = 16;

// The tables of the SQLite schema in the order they were created. schema_version and leases
// are not copied: each database records its own migrations, and leases are the nodes'
// coordination state, not records.
constexpr std::string_view kSqliteTables =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
    "ESCAPE '!' AND name <> 'schema_version' AND name <> 'leases' ORDER BY rowid";
constexpr std::string_view kSqliteColumns =
    "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid";
constexpr std::string_view kSqliteReferences =
    "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)";
constexpr std::string_view kSqliteVersion = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
constexpr std::string_view kPgColumns =
    "SELECT column_name, data_type, is_nullable, is_identity FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND CAST(table_name AS TEXT) = ?1 "
    "ORDER BY ordinal_position";

// The migration's transaction. Every write of otad takes the row lock of write_lock first
// (pg_store.cpp), so holding it keeps every node from writing until the migration ends. The
// copy of a large database may take longer than the server's statement_timeout.
constexpr const char* kBeginTarget =
    "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = 0; "
    "SELECT id FROM write_lock WHERE id = 1 FOR UPDATE";

Error Failure(std::string message, std::string internal = {}) {
    return Error{ErrorCode::kInternal, std::move(message), {}, std::move(internal)};
}

// Says what was being done when `error` happened.
Error Context(Error error, const std::string& what) {
    error.message = error.message.empty() ? what : what + ": " + error.message;
    return error;
}

template <typename T>
Result<T> Context(Result<T> result, const std::string& what) {
    if (result.ok()) {
        return result;
    }
    return Context(std::move(result).error(), what);
}

// Table and column names go into statements unquoted by any driver: only plain lower-case
// names are accepted (every name of otad's schema is one).
bool IsPlainIdentifier(std::string_view name) {
    if (name.empty() || name.size() > kMaxIdentifierBytes || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

std::string Quote(std::string_view name) {
    return "\"" + std::string(name) + "\"";
}

void AppendInt(std::string& out, int64_t value) {
    std::array<char, 24> digits{};
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    (void)ec;  // 24 characters hold any int64
    out.append(digits.data(), end);
}

enum class Kind { kInteger, kText };

struct Column {
    std::string name;
    Kind kind = Kind::kText;
    bool nullable = false;
    int key = 0;            ///< position in the primary key, from 1; 0 when not part of it
    bool identity = false;  ///< an identity column in PostgreSQL
};

struct Table {
    std::string name;
    std::vector<Column> columns;
    std::vector<std::string> references;  ///< the tables its foreign keys point to
    /// The rows, in the layout that Scan reads, in primary key order: from SQLite with one more
    /// column (TypeCheck), and from PostgreSQL. Texts kept by Migration::Keep.
    const std::string* source_select = nullptr;
    const std::string* target_select = nullptr;
};

// The select list that Scan reads: every column, then for each nullable column whether it is
// NULL. (The drivers' statements read NULL as 0 or empty; the flag tells NULL apart, as 1 or
// 0 from SQLite and true or false from PostgreSQL, which both read as 1 or 0.)
std::string SelectList(const Table& table) {
    std::string list;
    for (const Column& column : table.columns) {
        list += (list.empty() ? "" : ", ") + Quote(column.name);
    }
    for (const Column& column : table.columns) {
        if (column.nullable) {
            list += ", (" + Quote(column.name) + " IS NULL)";
        }
    }
    return list;
}

int ScannedColumns(const Table& table) {
    return static_cast<int>(table.columns.size() +
                            std::count_if(table.columns.begin(),
                                          table.columns.end(),
                                          [](const Column& c) { return c.nullable; }));
}

// Primary key order (every column, when there is no key), comparing text as bytes.
std::string OrderBy(const Table& table, std::string_view text_collation) {
    std::vector<const Column*> key;
    for (const Column& column : table.columns) {
        if (column.key > 0) {
            key.push_back(&column);
        }
    }
    std::sort(
        key.begin(), key.end(), [](const Column* a, const Column* b) { return a->key < b->key; });
    if (key.empty()) {
        for (const Column& column : table.columns) {
            key.push_back(&column);
        }
    }
    std::string order = " ORDER BY ";
    for (size_t i = 0; i < key.size(); ++i) {
        order += (i > 0 ? ", " : "") + Quote(key[i]->name);
        if (key[i]->kind == Kind::kText) {
            order += " COLLATE ";
            order += text_collation;
        }
    }
    return order;
}

// A SQLite expression: the number (from 1) of the first column whose value is not of the
// column's type (nor NULL, where NULL is allowed), 0 when every value is. SQLite stores any
// type in any column; the copy must not turn a value into another.
std::string TypeCheck(const Table& table) {
    std::string check = "CASE";
    for (size_t i = 0; i < table.columns.size(); ++i) {
        const Column& column = table.columns[i];
        const char* type = column.kind == Kind::kInteger ? "'integer'" : "'text'";
        check += " WHEN typeof(" + Quote(column.name) + ")";
        check += column.nullable ? std::string(" NOT IN (") + type + ", 'null')"
                                 : std::string(" <> ") + type;
        check += " THEN " + std::to_string(i + 1);
    }
    return check + " ELSE 0 END";
}

std::string CopyStatement(const Table& table) {
    std::string columns;
    for (const Column& column : table.columns) {
        columns += (columns.empty() ? "" : ", ") + Quote(column.name);
    }
    return "COPY " + Quote(table.name) + " (" + columns + ") FROM STDIN";
}

struct Value {
    bool null = false;
    int64_t integer = 0;
    std::string text;
};
using Row = std::vector<Value>;

void ReadRow(const Statement& stmt, const Table& table, Row& row) {
    int null_flag = static_cast<int>(table.columns.size());
    for (size_t i = 0; i < table.columns.size(); ++i) {
        const Column& column = table.columns[i];
        Value& value = row[i];
        value.null = column.nullable && stmt.ColumnInt64(null_flag++) != 0;
        if (value.null) {
            continue;
        }
        const int index = static_cast<int>(i);
        if (column.kind == Kind::kInteger) {
            value.integer = stmt.ColumnInt64(index);
        } else {
            value.text = stmt.ColumnText(index);
        }
    }
}

// One row in COPY's text format: tab-separated, \N for NULL, backslash escapes.
void AppendCopyRow(const Table& table, const Row& row, std::string& out) {
    for (size_t i = 0; i < row.size(); ++i) {
        if (i > 0) {
            out.push_back('\t');
        }
        const Value& value = row[i];
        if (value.null) {
            out.append("\\N");
        } else if (table.columns[i].kind == Kind::kInteger) {
            AppendInt(out, value.integer);
        } else {
            for (char c : value.text) {
                switch (c) {
                    case '\\':
                        out.append("\\\\");
                        break;
                    case '\t':
                        out.append("\\t");
                        break;
                    case '\n':
                        out.append("\\n");
                        break;
                    case '\r':
                        out.append("\\r");
                        break;
                    default:
                        out.push_back(c);
                }
            }
        }
    }
    out.push_back('\n');
}

class Sha256 {
  public:
    Sha256() : ctx_(EVP_MD_CTX_new()) {
        if (ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
            EVP_MD_CTX_free(ctx_);
            ctx_ = nullptr;
        }
    }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void Update(std::string_view data) {
        if (ctx_ != nullptr && EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) {
            EVP_MD_CTX_free(ctx_);
            ctx_ = nullptr;
        }
    }
    /// Lower-case hex; empty when OpenSSL failed (which then fails the comparison).
    std::string Finish() {
        std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
        unsigned int size = 0;
        if (ctx_ == nullptr || EVP_DigestFinal_ex(ctx_, digest.data(), &size) != 1) {
            return {};
        }
        return crypto::HexLower(
            std::string_view(reinterpret_cast<const char*>(digest.data()), size));
    }

  private:
    EVP_MD_CTX* ctx_;
};

// The row count and checksum of a table. The canonical rendering of a row: per value 'N' for
// NULL, 'I' digits ';' for an integer, 'T' length ':' bytes for text; then '\n'.
class TableDigest {
  public:
    void Add(const Table& table, const Row& row) {
        for (size_t i = 0; i < row.size(); ++i) {
            const Value& value = row[i];
            if (value.null) {
                buffer_.push_back('N');
            } else if (table.columns[i].kind == Kind::kInteger) {
                buffer_.push_back('I');
                AppendInt(buffer_, value.integer);
                buffer_.push_back(';');
            } else {
                buffer_.push_back('T');
                AppendInt(buffer_, static_cast<int64_t>(value.text.size()));
                buffer_.push_back(':');
                buffer_.append(value.text);
            }
        }
        buffer_.push_back('\n');
        ++rows_;
        if (buffer_.size() >= kHashBufferBytes) {
            sha_.Update(buffer_);
            buffer_.clear();
        }
    }

    int64_t rows() const { return rows_; }

    std::string Finish() {
        sha_.Update(buffer_);
        buffer_.clear();
        return sha_.Finish();
    }

  private:
    Sha256 sha_;
    std::string buffer_;
    int64_t rows_ = 0;
};

struct Digest {
    int64_t rows = 0;
    std::string sha256;
};

// Steps `rows` (a select of `table` in the layout of SelectList) to its end, adding each row to
// `digest` and handing it to `each`, when given. Both databases are read through this one
// function, so that the same rows give the same checksum.
Status Scan(Statement& rows,
            const Table& table,
            TableDigest& digest,
            const std::function<Status(const Row&)>& each) {
    Row row(table.columns.size());
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool more, rows.Step());
        if (!more) {
            return Ok();
        }
        ReadRow(rows, table, row);
        digest.Add(table, row);
        if (each) {
            OTA_TRY(each(row));
        }
    }
}

Result<Digest> DigestAll(Statement rows, const Table& table) {
    TableDigest digest;
    OTA_TRY(Scan(rows, table, digest, nullptr));
    return Digest{digest.rows(), digest.Finish()};
}

Result<Kind> KindOfSqliteType(const Table& table, const std::string& column, std::string type) {
    std::transform(type.begin(), type.end(), type.begin(), [](char c) {
        return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    });
    // SQLite's rules of type affinity, for the two affinities otad's schema uses.
    if (type.find("INT") != std::string::npos) {
        return Kind::kInteger;
    }
    if (type.find("TEXT") != std::string::npos || type.find("CHAR") != std::string::npos ||
        type.find("CLOB") != std::string::npos) {
        return Kind::kText;
    }
    return Failure("column " + table.name + "." + column + " has the SQLite type '" + type +
                   "', which is neither integer nor text");
}

Result<Kind> KindOfPgType(const Table& table, const std::string& column, const std::string& type) {
    if (type == "bigint" || type == "integer" || type == "smallint") {
        return Kind::kInteger;
    }
    if (type == "text" || type == "character varying" || type == "character") {
        return Kind::kText;
    }
    return Failure("column " + table.name + "." + column + " has the PostgreSQL type '" + type +
                   "', which is neither integer nor text");
}

const char* KindName(Kind kind) {
    return kind == Kind::kInteger ? "integer" : "text";
}

class Migration {
  public:
    explicit Migration(const CopyOptions& options) : options_(options) {}

    Result<MigrationReport> Run() {
        OTA_TRY(OpenSource());
        OTA_TRY(ReadSourceSchema());
        OTA_TRY(ReadFreshContents());
        OTA_TRY(OpenTarget());
        Status copied = CopyInTransaction();
        // The source's snapshot ends either way; it was only read.
        source_->RollbackQuietly();
        if (!copied.ok()) {
            target_->RollbackQuietly();
            return std::move(copied).error();
        }
        // Planner statistics for the new rows now, rather than when autovacuum comes round:
        // until then the first nodes started on the database would plan their queries blind.
        // The copy is committed; a failure here only delays the statistics.
        report_.analyzed = target_->Exec("ANALYZE").ok();
        return std::move(report_);
    }

  private:
    // The drivers cache prepared statements by the address of their text, which must therefore
    // stay alive and unchanged as long as the connections: built statements are kept here.
    const std::string& Keep(std::string text) { return texts_.emplace_back(std::move(text)); }

    const Table& TableNamed(const std::string& name) const {
        return *std::find_if(
            tables_.begin(), tables_.end(), [&](const Table& t) { return t.name == name; });
    }

    static Result<std::unique_ptr<SqliteConnection>> OpenSqlite(const std::string& path) {
        return SqliteConnection::Open(
            {.path = path, .writer = false, .synchronous_full = false, .busy_timeout_ms = 5000});
    }

    static int64_t LatestSqliteVersion() {
        return sql::LatestVersion(sqlite::EmbeddedMigrations());
    }

    Result<int64_t> SourceVersion() {
        Result<Statement> prepared = source_->Prepare(kSqliteVersion);
        if (!prepared.ok()) {
            return Failure(options_.sqlite_path + " is not an otad database",
                           prepared.error().internal);
        }
        Statement stmt = std::move(prepared).value();
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        return row ? stmt.ColumnInt64(0) : 0;
    }

    // Opens the SQLite file for reading, after bringing an older schema up to date.
    Status OpenSource() {
        const std::string& path = options_.sqlite_path;
        std::error_code ec;
        if (path.empty() || !std::filesystem::is_regular_file(path, ec)) {
            return Failure("there is no SQLite database at " + path);
        }
        OTA_ASSIGN_OR_RETURN(source_, Context(OpenSqlite(path), "cannot open " + path));
        OTA_ASSIGN_OR_RETURN(int64_t version, SourceVersion());
        const int64_t latest = LatestSqliteVersion();
        if (version > latest) {
            return Failure(path + " has schema version " + std::to_string(version) +
                           ", newer than this build's " + std::to_string(latest) +
                           ": migrate it with the otad that wrote it");
        }
        if (version < latest) {
            source_.reset();
            sqlite::SqliteOptions upgrade;
            upgrade.path = path;
            upgrade.reader_connections = 1;
            OTA_ASSIGN_OR_RETURN(std::unique_ptr<domain::Store> store,
                                 Context(sqlite::OpenSqliteStore(upgrade),
                                         "cannot bring the schema of " + path + " up to date"));
            store.reset();
            report_.sqlite_upgraded = true;
            OTA_ASSIGN_OR_RETURN(source_, Context(OpenSqlite(path), "cannot open " + path));
            OTA_ASSIGN_OR_RETURN(version, SourceVersion());
            if (version != latest) {
                return Failure(path + " has schema version " + std::to_string(version) +
                               " after its migrations, not " + std::to_string(latest));
            }
        }
        report_.sqlite_schema_version = version;
        return Ok();
    }

    Result<Table> ReadSourceTable(const std::string& name) {
        if (!IsPlainIdentifier(name)) {
            return Failure("the SQLite table '" + name + "' does not have a plain name");
        }
        Table table;
        table.name = name;
        OTA_ASSIGN_OR_RETURN(Statement columns, source_->Prepare(kSqliteColumns));
        columns.Bind(1, table.name);
        while (true) {
            OTA_ASSIGN_OR_RETURN(bool row, columns.Step());
            if (!row) {
                break;
            }
            Column column;
            column.name = columns.ColumnText(0);
            if (!IsPlainIdentifier(column.name)) {
                return Failure("the SQLite column " + name + ".'" + column.name +
                               "' does not have a plain name");
            }
            OTA_ASSIGN_OR_RETURN(column.kind,
                                 KindOfSqliteType(table, column.name, columns.ColumnText(1)));
            column.nullable = columns.ColumnInt64(2) == 0;
            column.key = columns.ColumnInt(3);
            table.columns.push_back(std::move(column));
        }
        if (table.columns.empty()) {
            return Failure("the SQLite table " + name + " has no columns");
        }
        OTA_ASSIGN_OR_RETURN(Statement references, source_->Prepare(kSqliteReferences));
        references.Bind(1, table.name);
        while (true) {
            OTA_ASSIGN_OR_RETURN(bool row, references.Step());
            if (!row) {
                break;
            }
            std::string parent = references.ColumnText(0);
            if (parent != name) {
                table.references.push_back(std::move(parent));
            }
        }
        return table;
    }

    // The tables, each after the tables it references (in creation order otherwise).
    Status ReadSourceSchema() {
        std::vector<std::string> names;
        {
            OTA_ASSIGN_OR_RETURN(Statement list, source_->Prepare(kSqliteTables));
            while (true) {
                OTA_ASSIGN_OR_RETURN(bool row, list.Step());
                if (!row) {
                    break;
                }
                names.push_back(list.ColumnText(0));
            }
        }
        std::vector<Table> unordered;
        for (const std::string& name : names) {
            OTA_ASSIGN_OR_RETURN(Table table, ReadSourceTable(name));
            unordered.push_back(std::move(table));
        }
        const std::set<std::string> known(names.begin(), names.end());
        std::set<std::string> placed;
        while (tables_.size() < unordered.size()) {
            bool progress = false;
            for (Table& table : unordered) {
                if (placed.count(table.name) != 0) {
                    continue;
                }
                const bool ready = std::all_of(
                    table.references.begin(), table.references.end(), [&](const std::string& p) {
                        return known.count(p) == 0 || placed.count(p) != 0;
                    });
                if (ready) {
                    placed.insert(table.name);
                    tables_.push_back(std::move(table));
                    progress = true;
                }
            }
            if (!progress) {
                return Failure("the foreign keys of the SQLite tables form a cycle");
            }
        }
        for (Table& table : tables_) {
            const std::string list = SelectList(table);
            table.source_select = &Keep("SELECT " + list + ", " + TypeCheck(table) + " FROM " +
                                        Quote(table.name) + OrderBy(table, "BINARY"));
            table.target_select =
                &Keep("SELECT " + list + " FROM " + Quote(table.name) + OrderBy(table, "\"C\""));
        }
        return Ok();
    }

    // What a new database holds (apply_id_counter has its row from the start): a target holding
    // exactly that holds no records.
    Status ReadFreshContents() {
        OTA_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> fresh,
                             SqliteConnection::Open(
                                 {.path = ":memory:", .writer = true, .synchronous_full = false}));
        OTA_TRY(sqlite::ApplyMigrations(*fresh, sqlite::EmbeddedMigrations()));
        for (const Table& table : tables_) {
            OTA_ASSIGN_OR_RETURN(Statement rows, fresh->Prepare(*table.source_select));
            OTA_ASSIGN_OR_RETURN(Digest digest, DigestAll(std::move(rows), table));
            if (digest.rows > 0) {
                fresh_[table.name] = std::move(digest);
            }
        }
        return Ok();
    }

    Status OpenTarget() {
        // Applies otad's PostgreSQL schema, as a node does when it starts.
        postgres::PgOptions store_options;
        store_options.conninfo = options_.postgres;
        store_options.connections = 1;
        store_options.migrate = true;
        OTA_ASSIGN_OR_RETURN(
            std::unique_ptr<domain::Store> store,
            Context(postgres::OpenPgStore(store_options), "cannot open the PostgreSQL database"));
        store.reset();
        OTA_ASSIGN_OR_RETURN(
            target_,
            Context(PgConnection::Open({.conninfo = options_.postgres,
                                        .connect_timeout_s = options_.connect_timeout_s,
                                        .statement_timeout_ms = 0}),
                    "cannot open the PostgreSQL database"));
        return Ok();
    }

    Status CopyInTransaction() {
        OTA_TRY(Context(target_->Exec(kBeginTarget), "cannot start the PostgreSQL transaction"));
        OTA_TRY(postgres::CheckSchemaVersion(*target_, postgres::EmbeddedMigrations()));
        OTA_TRY(MatchTargetSchema());
        OTA_TRY(ClearTarget());
        // One snapshot of the source for every table.
        OTA_TRY(source_->ExecScript("BEGIN"));
        for (const Table& table : tables_) {
            OTA_ASSIGN_OR_RETURN(TableReport copied, CopyTable(table));
            report_.rows += copied.rows;
            auto replaced = replaced_.find(table.name);
            copied.replaced_rows = replaced != replaced_.end() ? replaced->second : 0;
            report_.tables.push_back(std::move(copied));
        }
        OTA_TRY(MoveIdentities());
        if (options_.before_verify) {
            OTA_TRY(options_.before_verify(*target_));
        }
        OTA_TRY(Verify());
        return Context(target_->Commit(), "cannot commit the PostgreSQL transaction");
    }

    // Every table of the source must exist in the target with the same columns, each integer or
    // text on both sides. Also learns which columns are identity columns.
    Status MatchTargetSchema() {
        struct TargetColumn {
            Kind kind;
            bool identity;
        };
        for (Table& table : tables_) {
            std::map<std::string, TargetColumn> found;
            {
                OTA_ASSIGN_OR_RETURN(Statement columns, target_->Prepare(kPgColumns));
                columns.Bind(1, table.name);
                while (true) {
                    OTA_ASSIGN_OR_RETURN(bool row, columns.Step());
                    if (!row) {
                        break;
                    }
                    std::string name = columns.ColumnText(0);
                    OTA_ASSIGN_OR_RETURN(Kind kind,
                                         KindOfPgType(table, name, columns.ColumnText(1)));
                    found[name] = TargetColumn{kind, columns.ColumnText(3) == "YES"};
                }
            }
            if (found.empty()) {
                return Failure("the PostgreSQL schema has no table " + table.name);
            }
            for (Column& column : table.columns) {
                auto it = found.find(column.name);
                if (it == found.end()) {
                    return Failure("the PostgreSQL table " + table.name + " has no column " +
                                   column.name);
                }
                if (it->second.kind != column.kind) {
                    return Failure("column " + table.name + "." + column.name + " is " +
                                   KindName(column.kind) + " in SQLite but " +
                                   KindName(it->second.kind) + " in PostgreSQL");
                }
                column.identity = it->second.identity;
                found.erase(it);
            }
            if (!found.empty()) {
                return Failure("the PostgreSQL table " + table.name + " has a column that SQLite " +
                               "does not: " + found.begin()->first);
            }
        }
        return Ok();
    }

    // Whether the target's table holds records: rows other than those of a new database.
    Result<bool> HoldsRecords(const Table& table) {
        auto fresh = fresh_.find(table.name);
        const int64_t fresh_rows = fresh != fresh_.end() ? fresh->second.rows : 0;
        const std::string probe =
            "SELECT 1 FROM " + Quote(table.name) + " LIMIT " + std::to_string(fresh_rows + 1);
        OTA_ASSIGN_OR_RETURN(int64_t rows, target_->ExecCountingRows(probe.c_str()));
        if (rows == 0) {
            return false;
        }
        if (rows != fresh_rows) {
            return true;
        }
        OTA_ASSIGN_OR_RETURN(Statement read, target_->PrepareStream(*table.target_select));
        OTA_ASSIGN_OR_RETURN(Digest digest, DigestAll(std::move(read), table));
        return digest.sha256 != fresh->second.sha256;
    }

    // Refuses a target that holds records unless forced; then empties every table (the rows
    // of a new database included, since the source has its own).
    Status ClearTarget() {
        std::vector<std::string> holding;
        for (const Table& table : tables_) {
            OTA_ASSIGN_OR_RETURN(bool records, HoldsRecords(table));
            if (records) {
                holding.push_back(table.name);
            }
        }
        if (!holding.empty() && !options_.force) {
            std::string list;
            for (const std::string& name : holding) {
                list += (list.empty() ? "" : ", ") + name;
            }
            return MakeError(ErrorCode::kInvalidParameter,
                             "the PostgreSQL database already holds otad records (tables " + list +
                                 "); nothing was copied");
        }
        report_.replaced = !holding.empty();
        for (auto it = tables_.rbegin(); it != tables_.rend(); ++it) {
            const std::string remove = "DELETE FROM " + Quote(it->name);
            OTA_TRY(Context(target_->Exec(remove.c_str()), "cannot empty table " + it->name));
            if (std::find(holding.begin(), holding.end(), it->name) != holding.end()) {
                replaced_[it->name] = target_->Changes();
            }
        }
        return Ok();
    }

    Result<TableReport> CopyTable(const Table& table) {
        const std::string what = "copying table " + table.name;
        OTA_ASSIGN_OR_RETURN(Statement rows, Context(source_->Prepare(*table.source_select), what));
        const std::string copy = CopyStatement(table);
        OTA_TRY(Context(target_->CopyBegin(copy.c_str()), what));
        const int type_check = ScannedColumns(table);
        std::string buffer;
        buffer.reserve(kCopyBufferBytes + kHashBufferBytes);
        TableDigest digest;
        int64_t stored = 0;
        Status scanned = Scan(rows, table, digest, [&](const Row& row) -> Status {
            if (const int64_t bad = rows.ColumnInt64(type_check); bad != 0) {
                const Column& column = table.columns[static_cast<size_t>(bad - 1)];
                return Failure("a value of column " + column.name + " is not " +
                               (column.kind == Kind::kInteger ? "an integer" : "text") +
                               (column.nullable ? " or NULL" : "") +
                               " (SQLite keeps any type in any column; this one cannot be " +
                               "copied unchanged)");
            }
            AppendCopyRow(table, row, buffer);
            if (buffer.size() >= kCopyBufferBytes || digest.rows() % kRowsPerCopy == 0) {
                OTA_TRY(target_->CopyData(buffer));
                buffer.clear();
            }
            if (digest.rows() % kRowsPerCopy == 0) {
                OTA_ASSIGN_OR_RETURN(int64_t stored_now, target_->CopyEnd());
                stored += stored_now;
                OTA_TRY(target_->CopyBegin(copy.c_str()));
            }
            if (options_.progress && digest.rows() % kProgressRows == 0) {
                options_.progress(table.name, digest.rows());
            }
            return Ok();
        });
        if (scanned.ok() && !buffer.empty()) {
            scanned = target_->CopyData(buffer);
        }
        if (!scanned.ok()) {
            target_->CopyAbort();
            return Context(std::move(scanned).error(), what);
        }
        OTA_ASSIGN_OR_RETURN(int64_t stored_last, Context(target_->CopyEnd(), what));
        stored += stored_last;
        TableReport report;
        report.table = table.name;
        report.rows = digest.rows();
        report.checksum = digest.Finish();
        if (stored != report.rows) {
            return Failure(what + ": " + std::to_string(report.rows) + " rows sent, " +
                           std::to_string(stored) + " stored");
        }
        return report;
    }

    // Identity columns received explicit values: their sequences move past the largest, so that
    // the next row inserted without one gets a new value.
    Status MoveIdentities() {
        for (const Table& table : tables_) {
            for (const Column& column : table.columns) {
                if (!column.identity) {
                    continue;
                }
                const std::string move = "SELECT setval(pg_get_serial_sequence('" + table.name +
                                         "', '" + column.name + "'), COALESCE(MAX(" +
                                         Quote(column.name) + "), 0) + 1, false) FROM " +
                                         Quote(table.name);
                OTA_TRY(Context(target_->Exec(move.c_str()),
                                "cannot move the sequence of " + table.name + "." + column.name));
            }
        }
        return Ok();
    }

    // Reads every table back from the target; count and checksum must equal the source's.
    Status Verify() {
        for (const TableReport& copied : report_.tables) {
            const Table& table = TableNamed(copied.table);
            const std::string what = "verifying table " + table.name;
            OTA_ASSIGN_OR_RETURN(Statement rows,
                                 Context(target_->PrepareStream(*table.target_select), what));
            OTA_ASSIGN_OR_RETURN(Digest found, Context(DigestAll(std::move(rows), table), what));
            if (found.rows != copied.rows) {
                return Failure("verification failed for table " + table.name + ": " +
                               std::to_string(copied.rows) + " rows in SQLite, " +
                               std::to_string(found.rows) + " in PostgreSQL; nothing was copied");
            }
            if (found.sha256 != copied.checksum) {
                return Failure("verification failed for table " + table.name +
                               ": the rows differ (SHA-256 " +
                               copied.checksum.substr(0, kChecksumPrefix) + "... in SQLite, " +
                               found.sha256.substr(0, kChecksumPrefix) +
                               "... in PostgreSQL); nothing was copied");
            }
        }
        return Ok();
    }

    const CopyOptions& options_;
    // Declared before the connections, which are closed first.
    std::deque<std::string> texts_;
    std::vector<Table> tables_;
    std::map<std::string, Digest> fresh_;      ///< tables that a new database has rows in
    std::map<std::string, int64_t> replaced_;  ///< rows deleted per table, with force
    std::unique_ptr<SqliteConnection> source_;
    std::unique_ptr<PgConnection> target_;
    MigrationReport report_;
};

}  // namespace

Result<MigrationReport> CopySqliteToPostgres(const CopyOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    Migration migration(options);
    OTA_ASSIGN_OR_RETURN(MigrationReport report, migration.Run());
    report.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    return report;
}

}  // namespace otad::storage::migrate
