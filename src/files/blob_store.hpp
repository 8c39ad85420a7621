#pragma once

#include "common/result.hpp"
#include "domain/ports.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace otad::files {

/// A file being written in the staging directory. Closes its descriptor when destroyed and
/// removes the file too unless Keep() was called (for example after it became a blob).
class StagingFile {
  public:
    StagingFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    ~StagingFile();
    StagingFile(StagingFile&& other) noexcept;
    StagingFile& operator=(StagingFile&&) = delete;
    StagingFile(const StagingFile&) = delete;
    StagingFile& operator=(const StagingFile&) = delete;

    const std::string& path() const { return path_; }
    int fd() const { return fd_; }
    /// Appends all of `data`; kInternal on a write error.
    Status Write(std::string_view data);
    /// Closes the descriptor (the file stays).
    void Close();
    /// The file is no longer ours to remove.
    void Keep() { keep_ = true; }

  private:
    std::string path_;
    int fd_ = -1;
    bool keep_ = false;
};

/// Content-addressed blobs on local disk: `<blobs_dir>/<first two hex digits>/<sha256>`.
/// A blob is written to the staging directory first and renamed into place only once its
/// bytes are on disk (fsync of the file, then of the directory), so a blob path never shows a
/// partial file, even after a crash. Identical content is stored once. Thread-safe.
class DiskBlobStore final : public domain::BlobStore {
  public:
    /// Creates both directories if missing. They must be on the same file system.
    static Result<std::unique_ptr<DiskBlobStore>> Open(std::string blobs_dir,
                                                       std::string staging_dir);

    Result<std::string> ReadAll(std::string_view sha256, size_t max_bytes) override;
    Status Remove(std::string_view sha256) override;

    /// Path of the blob (whether or not it exists); empty when `sha256` is not 64 lower-case
    /// hex digits.
    std::string PathOf(std::string_view sha256) const;
    /// Size of a blob; kFileNotFound when it does not exist.
    Result<uint64_t> Size(std::string_view sha256) const;

    /// A new, empty file in the staging directory (mode 0600).
    Result<StagingFile> CreateStagingFile() const;
    /// Makes a complete staged file the blob `sha256` (which the caller computed). When the
    /// blob exists already the staged file is simply removed.
    Status Import(const std::string& staged_path, std::string_view sha256);
    /// Stores `content` as a blob and returns its name.
    Result<std::string> Put(std::string_view content);

    const std::string& blobs_dir() const { return blobs_dir_; }
    const std::string& staging_dir() const { return staging_dir_; }

  private:
    DiskBlobStore(std::string blobs_dir, std::string staging_dir)
        : blobs_dir_(std::move(blobs_dir)), staging_dir_(std::move(staging_dir)) {}

    std::string blobs_dir_;
    std::string staging_dir_;
};

}  // namespace otad::files
