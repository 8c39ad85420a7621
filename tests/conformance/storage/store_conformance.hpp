#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

// The storage conformance suite: every test goes through domain::Store only, so that each
// backend runs the same bodies. A backend joins by providing a Backend (see sqlite_backend.cpp)
// and adding it to AllBackends().

namespace otad::conformance {

/// One empty database of a backend, for the lifetime of one test.
class BackendEnv {
  public:
    virtual ~BackendEnv() = default;
    /// Opens a store over this environment's database. May be called again once the previous
    /// store is destroyed (or from a forked child); every store sees the same data.
    virtual Result<std::unique_ptr<domain::Store>> Open() = 0;
};

struct Backend {
    std::string name;
    /// Null, or returns null, when the backend cannot run here: its tests are then skipped
    /// with `skip_reason`.
    std::function<std::unique_ptr<BackendEnv>()> make_env;
    std::string skip_reason;
};

inline void PrintTo(const Backend& backend, std::ostream* os) {
    *os << backend.name;
}

/// The SQLite backend over a fresh file in a temporary directory (sqlite_backend.cpp).
Backend SqliteBackend();

/// The PostgreSQL backend (postgres_backend.cpp): a fresh schema per test in the server named by
/// the environment variable OTAD_TEST_POSTGRES (a libpq URI); skipped when it is unset.
Backend PostgresBackend();

/// Every backend the suite runs against; fixtures are instantiated over this list.
std::vector<Backend> AllBackends();

/// Names instantiations after the backend ("sqlite").
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

/// "kCode: internal text" for test failure messages.
std::string Describe(const Error& error);

template <typename T>
std::string Describe(const Result<T>& result) {
    return result.ok() ? std::string("ok") : Describe(result.error());
}

#define OTA_ASSERT_OK(expr)                                           \
    do {                                                              \
        const auto& ota_ok_result_ = (expr);                          \
        ASSERT_TRUE(ota_ok_result_.ok()) << Describe(ota_ok_result_); \
    } while (false)

#define OTA_EXPECT_OK(expr)                                           \
    do {                                                              \
        const auto& ota_ok_result_ = (expr);                          \
        EXPECT_TRUE(ota_ok_result_.ok()) << Describe(ota_ok_result_); \
    } while (false)

/// Expects a failed Result with the given code.
#define OTA_EXPECT_CODE(expr, expected_code)                                                  \
    do {                                                                                      \
        const auto& ota_code_result_ = (expr);                                                \
        ASSERT_FALSE(ota_code_result_.ok());                                                  \
        EXPECT_EQ(ErrorCodeName(ota_code_result_.error().code), ErrorCodeName(expected_code)) \
            << Describe(ota_code_result_);                                                    \
    } while (false)

// Records with every field set to a value other than its default, so that a round trip shows
// each column.
domain::Product MakeProduct(const std::string& product_key, const std::string& name);
domain::Device MakeDevice(const std::string& product_key,
                          const std::string& iot_id,
                          const std::string& device_name);
domain::Firmware MakeFirmware(const std::string& product_key,
                              const std::string& firmware_id,
                              const std::string& name);
domain::Job MakeJob(const std::string& product_key,
                    const std::string& firmware_id,
                    const std::string& job_id,
                    int64_t created_ms);
domain::Task MakeTask(const domain::Job& job,
                      const domain::Device& device,
                      const std::string& task_id,
                      int64_t created_ms);

// Field-by-field comparisons (the records have no operator==).
void ExpectSameAccount(const domain::Account& actual, const domain::Account& expected);
void ExpectSameInstance(const domain::Instance& actual, const domain::Instance& expected);
void ExpectSameProduct(const domain::Product& actual, const domain::Product& expected);
void ExpectSameDevice(const domain::Device& actual, const domain::Device& expected);
void ExpectSameFirmware(const domain::Firmware& actual, const domain::Firmware& expected);
void ExpectSameJob(const domain::Job& actual, const domain::Job& expected);
void ExpectSameTask(const domain::Task& actual, const domain::Task& expected);
void ExpectSameModule(const domain::Module& actual, const domain::Module& expected);
void ExpectSameModuleVersion(const domain::ModuleVersion& actual,
                             const domain::ModuleVersion& expected);
void ExpectSameGroup(const domain::Group& actual, const domain::Group& expected);
void ExpectSameRegistration(const domain::BatchRegistration& actual,
                            const domain::BatchRegistration& expected);
void ExpectSameFile(const domain::StoredFile& actual, const domain::StoredFile& expected);

/// Fixture: a fresh database with three scopes.
///   a1_: account A, its default instance; a2_: account A, a second instance;
///   b1_: account B, its default instance.
class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override;
    void TearDown() override;

    /// Runs `fn` in a write transaction and fails the test if it does not succeed.
    void MustWrite(const std::function<Status(domain::WriteTx&)>& fn);
    /// Runs `fn` in a read transaction and fails the test if it does not succeed.
    void MustRead(const std::function<Status(domain::ReadTx&)>& fn);

    /// Inserts product, device(s), firmware in `scope` (one write).
    void SeedCatalog(const domain::Scope& scope,
                     const domain::Product& product,
                     const std::vector<domain::Device>& devices,
                     const domain::Firmware& firmware);

    std::unique_ptr<BackendEnv> env_;
    std::unique_ptr<domain::Store> store_;
    domain::Account account_a_;
    domain::Account account_b_;
    domain::Instance instance_a1_;
    domain::Instance instance_a2_;
    domain::Instance instance_b1_;
    domain::Scope a1_;
    domain::Scope a2_;
    domain::Scope b1_;
};

}  // namespace otad::conformance
