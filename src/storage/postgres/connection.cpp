#include "storage/postgres/connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>

namespace otad::storage::postgres {
namespace {

// PQcmdStatus of the statements whose affected rows Changes() reports.
constexpr std::array<std::string_view, 4> kChangingCommands = {
    "INSERT ", "UPDATE ", "DELETE ", "MERGE "};

constexpr const char* kSavepoint = "SAVEPOINT otad_v";
constexpr const char* kReleaseSavepoint = "RELEASE SAVEPOINT otad_v";
constexpr const char* kRollbackToSavepoint =
    "ROLLBACK TO SAVEPOINT otad_v; RELEASE SAVEPOINT otad_v";

// Longest text of an int64 (sign and 19 digits) and its terminating NUL.
constexpr size_t kIntBufferSize = 21;

// libpq reads a text-format parameter up to its NUL and ignores the length given, so text is
// sent in binary format instead: for the text types the server infers here, the binary form is
// the bytes themselves, with an explicit length. Integers are written in text format.
constexpr int kTextFormat = 0;
constexpr int kBinaryFormat = 1;

// The protocol's limit on the parameters of one statement.
constexpr int kMaxParameters = 65535;

// The type given to a parameter number that a statement does not use (see Prepared::types).
constexpr Oid kTextOid = 25;

// Failures for which retrying later may succeed.
bool IsTransient(std::string_view sqlstate) {
    return sqlstate.starts_with("08") ||                  // connection exception
           sqlstate == "57P01" || sqlstate == "57P02" ||  // admin / crash shutdown
           sqlstate == "57P03" ||                         // cannot connect now
           sqlstate == "53300" ||                         // too many connections
           sqlstate == "40001" || sqlstate == "40P01";    // serialization / deadlock
}

std::string_view Field(const PGresult* result, int field) {
    const char* value = result != nullptr ? PQresultErrorField(result, field) : nullptr;
    return value != nullptr ? std::string_view(value) : std::string_view();
}

// libpq's messages end with a newline and may continue on indented lines; one line reads better
// in a log.
std::string OneLine(std::string_view text) {
    std::string line;
    bool space = false;
    for (char c : text) {
        if (c == '\n' || c == '\t' || c == '\r') {
            space = !line.empty();
            continue;
        }
        if (space) {
            line.push_back(' ');
            space = false;
        }
        line.push_back(c);
    }
    return line;
}

// Notices (e.g. "relation already exists, skipping") carry nothing otad acts on; libpq would
// print them on stderr.
void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

TranslatedSql TranslateParameters(std::string_view sql) {
    TranslatedSql translated;
    std::string& out = translated.text;
    out.reserve(sql.size() + 8);
    size_t i = 0;
    while (i < sql.size()) {
        char c = sql[i];
        if (c == '\'' || c == '"') {
            // A quoted literal or identifier; a doubled quote inside is an escaped quote, which
            // this loop sees as the end of one quoted run followed by the start of another.
            size_t end = sql.find(c, i + 1);
            end = end == std::string_view::npos ? sql.size() : end + 1;
            out.append(sql.substr(i, end - i));
            i = end;
            continue;
        }
        if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            size_t end = sql.find('\n', i);
            end = end == std::string_view::npos ? sql.size() : end + 1;
            out.append(sql.substr(i, end - i));
            i = end;
            continue;
        }
        if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            int number = 0;
            auto [end, ec] = std::from_chars(sql.data() + i + 1, sql.data() + sql.size(), number);
            if (ec == std::errc() && number >= 1 && number <= kMaxParameters) {
                translated.parameters = std::max(translated.parameters, number);
                auto slot = static_cast<size_t>(number - 1);
                if (translated.used.size() <= slot) {
                    translated.used.resize(slot + 1, false);
                }
                translated.used[slot] = true;
                out.push_back('$');
                out.append(sql.data() + i + 1, end);
                i = static_cast<size_t>(end - sql.data());
                continue;
            }
        }
        out.push_back(c);
        ++i;
    }
    return translated;
}

/// One use of a statement of a PgConnection. Objects are pooled by their connection and reused.
class PgStatement final : public sql::StatementImpl {
  public:
    explicit PgStatement(PgConnection& connection) : connection_(connection) {}
    ~PgStatement() override { Clear(); }
    PgStatement(const PgStatement&) = delete;
    PgStatement& operator=(const PgStatement&) = delete;

    // Prepares this object for a new use of `prepared`.
    void Start(const PgConnection::Prepared& prepared, bool stream) {
        prepared_ = &prepared;
        stream_ = stream;
        auto count = static_cast<size_t>(prepared.sql.parameters);
        values_.assign(count, nullptr);
        lengths_.assign(count, 0);
        formats_.assign(count, kTextFormat);
        if (numbers_.size() < count) {
            numbers_.resize(count);
        }
        bad_index_ = 0;
    }

    void BindInt(int index, int64_t value) override {
        if (!CheckIndex(index)) {
            return;
        }
        auto slot = static_cast<size_t>(index - 1);
        std::array<char, kIntBufferSize>& buffer = numbers_[slot];
        auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size() - 1, value);
        *end = '\0';
        values_[slot] = buffer.data();
        lengths_[slot] = static_cast<int>(end - buffer.data());
        formats_[slot] = kTextFormat;
    }

    void BindText(int index, std::string_view value) override {
        if (!CheckIndex(index)) {
            return;
        }
        auto slot = static_cast<size_t>(index - 1);
        // A default-constructed view has no data pointer, which libpq would send as NULL.
        values_[slot] = value.data() != nullptr ? value.data() : "";
        lengths_[slot] = static_cast<int>(value.size());
        formats_[slot] = kBinaryFormat;
    }

    void BindNull(int index) override {
        if (!CheckIndex(index)) {
            return;
        }
        values_[static_cast<size_t>(index - 1)] = nullptr;
    }

    Result<bool> Step() override {
        if (state_ == State::kDone) {
            return false;
        }
        if (state_ == State::kReady) {
            OTA_TRY(stream_ ? Declare() : Execute());
            state_ = State::kRows;
        }
        while (true) {
            if (row_ < rows_) {
                ++row_;
            }
            if (row_ < rows_) {
                return true;
            }
            if (!stream_ || last_batch_) {
                // The cursor ended with its last batch; give its resources back now rather
                // than when the statement is released.
                CloseCursor();
                state_ = State::kDone;
                return false;
            }
            OTA_TRY(Fetch());
        }
    }

    Result<sql::Violation> RunChecked() override {
        if (stream_) {
            return InternalError("postgres: RunChecked on a streamed query: " +
                                 std::string(prepared_->source));
        }
        Reset();
        OTA_TRY(connection_.Exec(kSavepoint));
        Status executed = Execute();
        if (executed.ok()) {
            ClearResult();
            state_ = State::kDone;
            OTA_TRY(connection_.Exec(kReleaseSavepoint));
            return sql::Violation::kNone;
        }
        std::string sqlstate(last_sqlstate_);
        if (!connection_.Broken()) {
            // Back to the state before the statement, so that the transaction stays usable.
            OTA_TRY(connection_.Exec(kRollbackToSavepoint));
        }
        state_ = State::kDone;
        if (sqlstate == "23505") {
            return sql::Violation::kUnique;
        }
        if (sqlstate == "23503") {
            return sql::Violation::kForeignKey;
        }
        return std::move(executed).error();
    }

    void Reset() override {
        CloseCursor();
        ClearResult();
        state_ = State::kReady;
    }

    int64_t ColumnInt64(int column) const override {
        const char* value = Value(column);
        if (value == nullptr) {
            return 0;
        }
        int length = PQgetlength(result_, row_, column);
        // EXISTS and comparisons are boolean in PostgreSQL, and come back as 't' or 'f'.
        if (length == 1 && (value[0] == 't' || value[0] == 'f')) {
            return value[0] == 't' ? 1 : 0;
        }
        int64_t number = 0;
        // A numeric value (SUM of bigints) reads as its integral part, as in SQLite.
        std::from_chars(value, value + length, number);
        return number;
    }

    std::string ColumnText(int column) const override {
        const char* value = Value(column);
        if (value == nullptr) {
            return {};
        }
        return std::string(value, static_cast<size_t>(PQgetlength(result_, row_, column)));
    }

    bool ColumnIsNull(int column) const override { return Value(column) == nullptr; }

    void Release() override {
        Reset();
        values_.clear();
        connection_.GiveBack(this);
    }

  private:
    enum class State {
        kReady,  ///< not run yet (or reset): the next Step runs it
        kRows,   ///< running: row_ is the current row of result_
        kDone,   ///< finished: Step returns false until Reset
    };

    bool CheckIndex(int index) {
        if (index >= 1 && static_cast<size_t>(index) <= values_.size()) {
            return true;
        }
        if (bad_index_ == 0) {
            bad_index_ = index;
        }
        return false;
    }

    Status CheckBindings() const {
        if (bad_index_ == 0) {
            return Ok();
        }
        return InternalError("postgres: parameter " + std::to_string(bad_index_) +
                             " does not exist in: " + std::string(prepared_->source));
    }

    // The current row's value of `column`, or nullptr when NULL or out of range.
    const char* Value(int column) const {
        if (result_ == nullptr || row_ < 0 || row_ >= rows_ || column < 0 ||
            column >= PQnfields(result_) || PQgetisnull(result_, row_, column) != 0) {
            return nullptr;
        }
        return PQgetvalue(result_, row_, column);
    }

    int ParameterCount() const { return static_cast<int>(values_.size()); }

    // Runs the prepared statement and holds its rows.
    Status Execute() {
        last_sqlstate_.clear();
        ClearResult();
        OTA_TRY(CheckBindings());
        result_ = PQexecPrepared(connection_.conn_,
                                 prepared_->name.c_str(),
                                 ParameterCount(),
                                 values_.data(),
                                 lengths_.data(),
                                 formats_.data(),
                                 kTextFormat);
        return TakeResult();
    }

    // Opens the cursor of a streamed query and fetches its first batch.
    Status Declare() {
        last_sqlstate_.clear();
        ClearResult();
        OTA_TRY(CheckBindings());
        cursor_ = connection_.NextCursorName();
        std::string declare = "DECLARE " + cursor_ + " NO SCROLL CURSOR FOR " + prepared_->sql.text;
        result_ = PQexecParams(connection_.conn_,
                               declare.c_str(),
                               ParameterCount(),
                               prepared_->types.empty() ? nullptr : prepared_->types.data(),
                               values_.data(),
                               lengths_.data(),
                               formats_.data(),
                               kTextFormat);
        OTA_TRY(TakeResult());
        cursor_open_ = true;
        fetch_ = "FETCH " + std::to_string(PgConnection::kStreamBatchRows) + " FROM " + cursor_;
        return Fetch();
    }

    Status Fetch() {
        ClearResult();
        result_ = PQexec(connection_.conn_, fetch_.c_str());
        OTA_TRY(TakeResult());
        last_batch_ = rows_ < PgConnection::kStreamBatchRows;
        return Ok();
    }

    // Checks result_ after an execution; on success positions before its first row.
    Status TakeResult() {
        Status checked = connection_.Check(result_, prepared_->source);
        if (!checked.ok()) {
            last_sqlstate_ = result_ != nullptr ? Field(result_, PG_DIAG_SQLSTATE) : "";
            ClearResult();
            return checked;
        }
        connection_.NoteCompleted(result_);
        rows_ = PQntuples(result_);
        row_ = -1;
        return Ok();
    }

    void ClearResult() {
        PQclear(result_);
        result_ = nullptr;
        rows_ = 0;
        row_ = -1;
        last_batch_ = false;
    }

    void CloseCursor() {
        if (!cursor_open_) {
            return;
        }
        cursor_open_ = false;
        // A cursor ends with its transaction; in a failed transaction CLOSE would only fail.
        if (PQtransactionStatus(connection_.conn_) == PQTRANS_INTRANS) {
            std::string close = "CLOSE " + cursor_;
            PQclear(PQexec(connection_.conn_, close.c_str()));
        }
    }

    void Clear() {
        CloseCursor();
        ClearResult();
    }

    PgConnection& connection_;
    const PgConnection::Prepared* prepared_ = nullptr;
    bool stream_ = false;
    State state_ = State::kReady;

    // Parameters, indexed from 0 for $1. Integers are written into numbers_; text points at the
    // caller's characters.
    std::vector<const char*> values_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
    std::vector<std::array<char, kIntBufferSize>> numbers_;
    int bad_index_ = 0;  ///< the first parameter number bound out of range, reported by Step

    PGresult* result_ = nullptr;
    int rows_ = 0;
    int row_ = -1;
    std::string last_sqlstate_;  ///< of the last failed execution

    // Streamed queries.
    std::string cursor_;
    std::string fetch_;
    bool cursor_open_ = false;
    bool last_batch_ = false;
};

PgConnection::PgConnection(pg_conn* conn) : conn_(conn) {}

PgConnection::~PgConnection() {
    // Statements first: releasing a cursor talks to the server.
    statements_.clear();
    PQfinish(conn_);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const Options& options) {
    // libpq's complaints about a malformed conninfo quote the offending part, which may be the
    // password: such a conninfo is refused without them.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(options.conninfo.c_str(), &parse_error);
    PQfreemem(parse_error);
    if (parsed == nullptr) {
        return InternalError("postgres: the connection string cannot be parsed");
    }
    PQconninfoFree(parsed);

    std::string timeout = std::to_string(options.connect_timeout_s);
    // Later keywords override earlier ones, including those expanded from `dbname` (the
    // conninfo): the caller's conninfo may change the timeout and the application name, but the
    // encoding must be UTF-8, the encoding of every string otad holds.
    std::array<const char*, 5> keywords = {
        "connect_timeout", "application_name", "dbname", "client_encoding", nullptr};
    std::array<const char*, 5> values = {
        timeout.c_str(), "otad", options.conninfo.c_str(), "UTF8", nullptr};
    PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
    if (conn == nullptr) {
        return InternalError("postgres: connect: out of memory");
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        // libpq's message names the host, port and user, never the password.
        Error error{
            ErrorCode::kUnavailable, {}, {}, "postgres: connect: " + OneLine(PQerrorMessage(conn))};
        PQfinish(conn);
        return error;
    }
    PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
    std::unique_ptr<PgConnection> connection(new PgConnection(conn));
    if (options.statement_timeout_ms > 0) {
        std::string set = "SET statement_timeout = " + std::to_string(options.statement_timeout_ms);
        OTA_TRY(connection->Exec(set.c_str()));
    }
    return connection;
}

Result<const PgConnection::Prepared*> PgConnection::Find(std::string_view sql, bool on_server) {
    auto [it, inserted] = prepared_.try_emplace(SqlKey{sql.data(), sql.size()});
    Prepared& prepared = it->second;
    if (inserted) {
        prepared.source = sql;
        prepared.sql = TranslateParameters(sql);
        // SQLite accepts a statement that skips a number; PostgreSQL must be told the type of
        // such a parameter, since nothing in the statement tells it.
        const std::vector<bool>& used = prepared.sql.used;
        if (std::find(used.begin(), used.end(), false) != used.end()) {
            for (bool appears : used) {
                prepared.types.push_back(appears ? 0 : kTextOid);
            }
        }
    }
    if (on_server && prepared.name.empty()) {
        std::string name = "s" + std::to_string(statements_prepared_ + 1);
        // The server infers the parameters' types from the statement.
        PGresult* result = PQprepare(conn_,
                                     name.c_str(),
                                     prepared.sql.text.c_str(),
                                     prepared.sql.parameters,
                                     prepared.types.empty() ? nullptr : prepared.types.data());
        Status checked = Check(result, sql);
        PQclear(result);
        OTA_TRY(checked);
        ++statements_prepared_;
        prepared.name = std::move(name);
    }
    return &prepared;
}

sql::Statement PgConnection::Borrow(const Prepared& prepared, bool stream) {
    if (free_statements_.empty()) {
        statements_.push_back(std::make_unique<PgStatement>(*this));
        free_statements_.push_back(statements_.back().get());
    }
    PgStatement* statement = free_statements_.back();
    free_statements_.pop_back();
    statement->Start(prepared, stream);
    return sql::Statement(statement);
}

void PgConnection::GiveBack(PgStatement* statement) {
    free_statements_.push_back(statement);
}

Result<sql::Statement> PgConnection::Prepare(std::string_view sql) {
    OTA_ASSIGN_OR_RETURN(const Prepared* prepared, Find(sql, /*on_server=*/true));
    return Borrow(*prepared, /*stream=*/false);
}

Result<sql::Statement> PgConnection::PrepareStream(std::string_view sql) {
    // The cursor's query is sent with its DECLARE each time; nothing to prepare.
    OTA_ASSIGN_OR_RETURN(const Prepared* prepared, Find(sql, /*on_server=*/false));
    return Borrow(*prepared, /*stream=*/true);
}

std::string PgConnection::NextCursorName() {
    ++cursors_declared_;
    return "otad_c" + std::to_string(cursors_declared_);
}

Status PgConnection::Exec(const char* script) {
    Result<int64_t> rows = ExecCountingRows(script);
    if (!rows.ok()) {
        return std::move(rows).error();
    }
    return Ok();
}

Result<int64_t> PgConnection::ExecCountingRows(const char* script) {
    PGresult* result = PQexec(conn_, script);
    // Short scripts (transaction control) name themselves in errors; the migrations are long,
    // and their callers say which one failed.
    std::string_view context = std::strlen(script) <= 80 ? script : "exec";
    Status checked = Check(result, context);
    if (!checked.ok()) {
        PQclear(result);
        return std::move(checked).error();
    }
    NoteCompleted(result);
    int64_t rows = PQntuples(result);
    PQclear(result);
    return rows;
}

Status PgConnection::CopyBegin(const char* statement) {
    PGresult* result = PQexec(conn_, statement);
    if (result != nullptr && PQresultStatus(result) == PGRES_COPY_IN) {
        PQclear(result);
        return Ok();
    }
    Status checked = Check(result, "COPY");
    PQclear(result);
    OTA_TRY(checked);
    // The statement ran, but it was not a COPY FROM STDIN.
    return InternalError("postgres: COPY: the statement did not start a COPY FROM STDIN");
}

Status PgConnection::CopyData(std::string_view data) {
    // libpq takes an int length: large pieces go in parts.
    constexpr size_t kMaxPiece = size_t{1} << 30;
    while (!data.empty()) {
        const size_t piece = std::min(data.size(), kMaxPiece);
        if (PQputCopyData(conn_, data.data(), static_cast<int>(piece)) != 1) {
            // The server ended the COPY (it refused a row) or the connection broke; the COPY's
            // results say which.
            Result<int64_t> finished = FinishCopy("otad: the data could not be sent");
            if (!finished.ok()) {
                return std::move(finished).error();
            }
            return InternalError("postgres: COPY: " + OneLine(PQerrorMessage(conn_)));
        }
        data.remove_prefix(piece);
    }
    return Ok();
}

Result<int64_t> PgConnection::CopyEnd() {
    return FinishCopy(nullptr);
}

void PgConnection::CopyAbort() {
    Result<int64_t> ignored = FinishCopy("otad: COPY abandoned");
    (void)ignored;
}

Result<int64_t> PgConnection::FinishCopy(const char* abort_reason) {
    // Fails when no COPY is in progress any more (the server ended it); the results below then
    // hold the reason.
    PQputCopyEnd(conn_, abort_reason);
    Status outcome = Ok();
    int64_t rows = 0;
    while (PGresult* result = PQgetResult(conn_)) {
        if (PQresultStatus(result) == PGRES_COPY_IN) {
            // Still copying: the end above did not reach the server. Give up the COPY.
            PQclear(result);
            if (PQputCopyEnd(conn_, "otad: COPY abandoned") != 1) {
                break;
            }
            continue;
        }
        if (outcome.ok()) {
            outcome = Check(result, "COPY");
            if (outcome.ok()) {
                const char* tuples = PQcmdTuples(result);
                std::from_chars(tuples, tuples + std::strlen(tuples), rows);
            }
        }
        PQclear(result);
    }
    OTA_TRY(outcome);
    if (Broken()) {
        return Error{
            ErrorCode::kUnavailable, {}, {}, "postgres: COPY: " + OneLine(PQerrorMessage(conn_))};
    }
    if (abort_reason != nullptr) {
        return InternalError("postgres: COPY: abandoned");
    }
    changes_ = rows;
    total_changes_ += rows;
    return rows;
}

Status PgConnection::Commit() {
    PGresult* result = PQexec(conn_, "COMMIT");
    Status checked = Check(result, "COMMIT");
    bool rolled_back = checked.ok() && std::string_view(PQcmdStatus(result)) == "ROLLBACK";
    PQclear(result);
    OTA_TRY(checked);
    if (rolled_back) {
        return InternalError(
            "postgres: COMMIT: the server rolled the transaction back (a statement in it "
            "failed)");
    }
    return Ok();
}

void PgConnection::RollbackQuietly() {
    if (!Broken() && InTransaction()) {
        PQclear(PQexec(conn_, "ROLLBACK"));
    }
}

bool PgConnection::InTransaction() const {
    PGTransactionStatusType status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

bool PgConnection::Broken() const {
    return PQstatus(conn_) == CONNECTION_BAD;
}

void PgConnection::NoteCompleted(pg_result* result) {
    std::string_view status = PQcmdStatus(result);
    for (std::string_view command : kChangingCommands) {
        if (status.starts_with(command)) {
            const char* tuples = PQcmdTuples(result);
            int64_t count = 0;
            std::from_chars(tuples, tuples + std::strlen(tuples), count);
            changes_ = count;
            total_changes_ += count;
            return;
        }
    }
}

Status PgConnection::Check(const pg_result* result, std::string_view context) {
    ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        return Ok();
    }
    return ErrorFrom(result, context);
}

Error PgConnection::ErrorFrom(const pg_result* result, std::string_view context) const {
    std::string_view sqlstate = Field(result, PG_DIAG_SQLSTATE);
    bool transient = Broken() || IsTransient(sqlstate);
    std::string text = "postgres: ";
    text.append(context);
    text.append(": ");
    if (sqlstate.starts_with("22")) {
        // Data exceptions quote the offending value ("invalid input syntax for type bigint:
        // ..."), which may be a bound secret.
        text.append("invalid data for the statement (message withheld: it may quote a value)");
    } else {
        // Only the primary message: the DETAIL of a constraint violation quotes the row's
        // values. Without a result (the connection failed) libpq's own message says why.
        std::string_view primary = Field(result, PG_DIAG_MESSAGE_PRIMARY);
        if (primary.empty() && result != nullptr) {
            primary = PQresultErrorMessage(result);
        }
        text.append(primary.empty() ? OneLine(PQerrorMessage(conn_)) : OneLine(primary));
        std::string_view position = Field(result, PG_DIAG_STATEMENT_POSITION);
        if (!position.empty()) {
            text.append(" at character ");
            text.append(position);
        }
    }
    if (!sqlstate.empty()) {
        text.append(" (SQLSTATE ");
        text.append(sqlstate);
        text.append(")");
    }
    return Error{
        transient ? ErrorCode::kUnavailable : ErrorCode::kInternal, {}, {}, std::move(text)};
}

}  // namespace otad::storage::postgres
