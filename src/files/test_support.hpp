#pragma once

#include "domain/ports.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

namespace otad::files::testing {

/// A fresh directory named after the running test, removed at the end.
class TempDir {
  public:
    TempDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("otad-files-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string Sub(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

/// A store that has no data: every transaction fails. For the parts of FileService that must
/// not touch the database.
class NoStore final : public domain::Store {
  public:
    Status Read(const std::function<Status(domain::ReadTx&)>&) override {
        ++calls;
        return InternalError("no store in this test");
    }
    Status Write(const std::function<Status(domain::WriteTx&)>&) override {
        ++calls;
        return InternalError("no store in this test");
    }
    Status Ping() override { return Ok(); }
    int calls = 0;
};

/// Blobs in memory.
class MemoryBlobStore final : public domain::BlobStore {
  public:
    Result<std::string> ReadAll(std::string_view sha256, size_t max_bytes) override {
        auto it = blobs.find(std::string(sha256));
        if (it == blobs.end()) {
            return MakeError(ErrorCode::kFileNotFound);
        }
        if (it->second.size() > max_bytes) {
            return MakeError(ErrorCode::kInvalidFormattedParameter);
        }
        return it->second;
    }
    Status Remove(std::string_view sha256) override {
        blobs.erase(std::string(sha256));
        return Ok();
    }
    std::map<std::string, std::string> blobs;
};

}  // namespace otad::files::testing
