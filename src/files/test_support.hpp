#pragma once

#include "common/testing/temp_dir.hpp"
#include "domain/ports.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

namespace otad::files::testing {

using TempDir = otad::test_support::TempDir;

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
