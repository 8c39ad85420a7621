// The read-only SQLite store the broker plugin reads devices through, next to a writable store
// that stands for a running otad.

#include "storage/sqlite/sqlite_store.hpp"
#include "test_database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <optional>

namespace otad::broker_test {
namespace {

using storage::sqlite::OpenSqliteStore;
using storage::sqlite::SqliteOptions;

Result<std::unique_ptr<domain::Store>> OpenReadOnly(const std::string& path) {
    return OpenSqliteStore(SqliteOptions{.path = path, .reader_connections = 1, .read_only = true});
}

Result<std::optional<domain::ScopedDevice>> Find(domain::Store& store,
                                                 const std::string& product_key,
                                                 const std::string& device_name) {
    std::optional<domain::ScopedDevice> found;
    Status read = store.Read([&](domain::ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(found, tx.FindDeviceAnyScope(product_key, device_name));
        return Ok();
    });
    if (!read.ok()) {
        return std::move(read).error();
    }
    return found;
}

class ReadOnlyStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        path_ = (dir_.path() / "otad.db").string();
    }

    TempDir dir_;
    std::string path_;
};

TEST_F(ReadOnlyStoreTest, MissingFileIsAnErrorAndIsNotCreated) {
    Result<std::unique_ptr<domain::Store>> store = OpenReadOnly(path_);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, ErrorCode::kInternal);
    EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ReadOnlyStoreTest, EmptyFileHasNoSchema) {
    std::ofstream(path_).close();
    Result<std::unique_ptr<domain::Store>> store = OpenReadOnly(path_);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, ErrorCode::kInternal);
    EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(ReadOnlyStoreTest, OtherSchemaVersionIsRefused) {
    domain::Scope scope;
    {
        Result<std::unique_ptr<domain::Store>> writer = CreateOtadDatabase(path_, {}, scope);
        ASSERT_TRUE(writer.ok()) << writer.error().internal;
    }
    // A newer otad would have recorded a version this build does not know.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO schema_version (version, name) "
                           "SELECT MAX(version) + 1, 'future.sql' FROM schema_version",
                           nullptr,
                           nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);

    Result<std::unique_ptr<domain::Store>> store = OpenReadOnly(path_);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, ErrorCode::kInternal);
}

TEST_F(ReadOnlyStoreTest, ReadsBesideAWriterAndNeverWrites) {
    domain::Scope scope;
    Result<std::unique_ptr<domain::Store>> writer =
        CreateOtadDatabase(path_, {{"pk1", "dev1", "secret1"}}, scope);
    ASSERT_TRUE(writer.ok()) << writer.error().internal;

    Result<std::unique_ptr<domain::Store>> reader = OpenReadOnly(path_);
    ASSERT_TRUE(reader.ok()) << reader.error().internal;
    Result<std::optional<domain::ScopedDevice>> found = Find(**reader, "pk1", "dev1");
    ASSERT_TRUE(found.ok()) << found.error().internal;
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->device.device_secret, "secret1");
    EXPECT_EQ((*found)->scope.instance_id, scope.instance_id);

    // Each read sees what the writer committed before it started.
    Status disabled = (*writer)->Write([&](domain::WriteTx& tx) -> Status {
        domain::Device device = (*found)->device;
        device.status = "DISABLE";
        return tx.UpdateDevice(scope, device);
    });
    ASSERT_TRUE(disabled.ok()) << disabled.error().internal;
    found = Find(**reader, "pk1", "dev1");
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->device.status, "DISABLE");

    Status write = (*reader)->Write([](domain::WriteTx&) -> Status { return Ok(); });
    ASSERT_FALSE(write.ok());
    EXPECT_EQ(write.error().code, ErrorCode::kInternal);
    EXPECT_TRUE((*reader)->Ping().ok());
}

}  // namespace
}  // namespace otad::broker_test
