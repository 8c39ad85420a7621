#include "files/blob_store.hpp"

#include "common/crypto.hpp"
#include "files/digests.hpp"
#include "files/read_chunks.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace otad::files {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;

Error IoError(const std::string& what, const std::string& path, int err) {
    return InternalError(what + " " + path + ": " + std::strerror(err));
}

bool IsBlobName(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

/// Flushes a directory entry change (create, rename, unlink) to disk.
Status SyncDirectory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return IoError("cannot open directory", dir, errno);
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        return IoError("cannot sync directory", dir, err);
    }
    return Ok();
}

Status SyncFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return IoError("cannot open", path, errno);
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        return IoError("cannot sync", path, err);
    }
    return Ok();
}

Status MakeDirectory(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return InternalError("cannot create directory " + dir + ": " + ec.message());
    }
    return Ok();
}

}  // namespace

StagingFile::~StagingFile() {
    Close();
    if (!keep_ && !path_.empty()) {
        ::unlink(path_.c_str());
    }
}

StagingFile::StagingFile(StagingFile&& other) noexcept
    : path_(std::exchange(other.path_, std::string())),
      fd_(std::exchange(other.fd_, -1)),
      keep_(other.keep_) {}

Status StagingFile::Write(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return IoError("cannot write", path_, errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return Ok();
}

void StagingFile::Close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

Result<std::unique_ptr<DiskBlobStore>> DiskBlobStore::Open(std::string blobs_dir,
                                                           std::string staging_dir) {
    OTA_TRY(MakeDirectory(blobs_dir));
    OTA_TRY(MakeDirectory(staging_dir));
    return std::unique_ptr<DiskBlobStore>(
        new DiskBlobStore(std::move(blobs_dir), std::move(staging_dir)));
}

std::string DiskBlobStore::PathOf(std::string_view sha256) const {
    if (!IsBlobName(sha256)) {
        return {};
    }
    return blobs_dir_ + "/" + std::string(sha256.substr(0, 2)) + "/" + std::string(sha256);
}

Result<uint64_t> DiskBlobStore::Size(std::string_view sha256) const {
    const std::string path = PathOf(sha256);
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) {
        if (!path.empty() && errno != ENOENT) {
            return IoError("cannot stat", path, errno);
        }
        return MakeError(ErrorCode::kFileNotFound, "The file does not exist.");
    }
    return static_cast<uint64_t>(st.st_size);
}

Result<std::string> DiskBlobStore::ReadAll(std::string_view sha256, size_t max_bytes) {
    const std::string path = PathOf(sha256);
    const int fd = path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (!path.empty() && errno != ENOENT) {
            return IoError("cannot open", path, errno);
        }
        return MakeError(ErrorCode::kFileNotFound, "The file does not exist.");
    }
    std::string content;
    std::string chunk(kReadChunkBytes, '\0');
    const Status read = ReadChunks(
        fd,
        chunk,
        [&](std::string_view piece) -> Status {
            if (content.size() + piece.size() > max_bytes) {
                return MakeError(
                    ErrorCode::kInvalidFormattedParameter,
                    "The file is larger than " + std::to_string(max_bytes) + " bytes.");
            }
            content.append(piece);
            return Ok();
        },
        [&](int err) -> Status { return IoError("cannot read", path, err); });
    ::close(fd);
    if (!read.ok()) {
        return read.error();
    }
    return content;
}

Status DiskBlobStore::Remove(std::string_view sha256) {
    const std::string path = PathOf(sha256);
    if (path.empty()) {
        return Ok();  // such a blob cannot exist
    }
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) {
            return Ok();
        }
        return IoError("cannot remove", path, errno);
    }
    return SyncDirectory(blobs_dir_ + "/" + std::string(sha256.substr(0, 2)));
}

Result<StagingFile> DiskBlobStore::CreateStagingFile() const {
    const std::string path = staging_dir_ + "/stage-" + crypto::RandomBase62(20);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return IoError("cannot create", path, errno);
    }
    return StagingFile(path, fd);
}

Status DiskBlobStore::Import(const std::string& staged_path, std::string_view sha256) {
    const std::string target = PathOf(sha256);
    if (target.empty()) {
        return InternalError("not a blob name");
    }
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0) {
        ::unlink(staged_path.c_str());
        return Ok();
    }
    OTA_TRY(SyncFile(staged_path));
    const std::string dir = blobs_dir_ + "/" + std::string(sha256.substr(0, 2));
    if (::mkdir(dir.c_str(), 0700) == 0) {
        OTA_TRY(SyncDirectory(blobs_dir_));
    } else if (errno != EEXIST) {
        return IoError("cannot create directory", dir, errno);
    }
    if (::rename(staged_path.c_str(), target.c_str()) != 0) {
        return IoError("cannot move a staged file to", target, errno);
    }
    return SyncDirectory(dir);
}

Result<std::string> DiskBlobStore::Put(std::string_view content) {
    OTA_ASSIGN_OR_RETURN(StagingFile staged, CreateStagingFile());
    OTA_TRY(staged.Write(content));
    staged.Close();
    Digests digests;
    digests.Update(content);
    digests.Finish();
    OTA_TRY(Import(staged.path(), digests.sha256()));
    staged.Keep();
    return digests.sha256();
}

}  // namespace otad::files
