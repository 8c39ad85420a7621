#include "files/copy_files.hpp"

#include "common/crypto.hpp"
#include "files/digests.hpp"
#include "files/read_chunks.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace otad::files {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;
/// A secret is 32 bytes; anything much larger is not one.
constexpr size_t kMaxSecretBytes = 4096;
constexpr size_t kBlobNameLength = 64;
constexpr size_t kPrefixLength = 2;

Error Failure(std::string message) {
    return Error{ErrorCode::kInternal, std::move(message), {}, {}};
}

Error IoError(const std::string& what, const std::string& path, int err) {
    return Failure(what + " " + path + ": " + std::strerror(err));
}

std::string Join(const std::string& dir, std::string_view name) {
    std::string path;
    path.reserve(dir.size() + 1 + name.size());
    path.append(dir).append("/").append(name);
    return path;
}

bool IsLowerHex(std::string_view s, size_t length) {
    return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// Closes a descriptor when it goes out of scope.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { Close(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    bool ok() const { return fd_ >= 0; }
    int Close() {
        int rc = 0;
        if (fd_ >= 0) {
            rc = ::close(fd_);
            fd_ = -1;
        }
        return rc;
    }

  private:
    int fd_;
};

Status SyncDirectory(const std::string& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.ok()) {
        return IoError("cannot open directory", dir, errno);
    }
    if (::fsync(fd.get()) != 0) {
        return IoError("cannot flush directory", dir, errno);
    }
    return Ok();
}

// Creates `dir` (mode 0700) when missing, flushing its parent's entry.
Status MakeDirectory(const std::string& dir, const std::string& parent) {
    if (::mkdir(dir.c_str(), 0700) == 0) {
        return SyncDirectory(parent);
    }
    if (errno != EEXIST) {
        return IoError("cannot create directory", dir, errno);
    }
    return Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return IoError("cannot write", path, errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return Ok();
}

// Reads a file of at most `max_bytes`; nullopt when it does not exist.
Result<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t max_bytes) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.ok()) {
        if (errno == ENOENT) {
            return std::optional<std::string>();
        }
        return IoError("cannot open", path, errno);
    }
    std::string content;
    std::string chunk(kMaxSecretBytes, '\0');
    OTA_TRY(ReadChunks(
        fd.get(),
        chunk,
        [&](std::string_view piece) -> Status {
            content.append(piece);
            if (content.size() > max_bytes) {
                return Failure(path + " is larger than " + std::to_string(max_bytes) +
                               " bytes: it is not a secret of otad");
            }
            return Ok();
        },
        [&](int err) -> Status { return IoError("cannot read", path, err); }));
    return std::optional<std::string>(std::move(content));
}

// SHA-256 of a file's content, as lower-case hex.
Result<std::string> HashFile(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.ok()) {
        return IoError("cannot open", path, errno);
    }
    Digests digests;
    std::string chunk(kChunkBytes, '\0');
    OTA_TRY(ReadChunks(
        fd.get(),
        chunk,
        [&](std::string_view piece) -> Status {
            digests.Update(piece);
            return Ok();
        },
        [&](int err) -> Status { return IoError("cannot read", path, err); }));
    digests.Finish();
    return digests.sha256();
}

// A name next to `path` that no other process uses.
std::string PrivateName(const std::string& path) {
    return path + ".copy-" + std::to_string(::getpid()) + "-" + crypto::RandomLowerAlnum(8);
}

// Copies FROM/secret to TO/secret unless the target has it already; refuses a different one.
Status CopySecret(const std::string& from, const std::string& to, FilesCopyReport& report) {
    const std::string source = Join(from, "secret");
    const std::string target = Join(to, "secret");
    OTA_ASSIGN_OR_RETURN(std::optional<std::string> secret, ReadSmallFile(source, kMaxSecretBytes));
    if (!secret.has_value()) {
        return Ok();
    }
    report.secret_found = true;
    auto same_as_target = [&]() -> Result<bool> {
        OTA_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                             ReadSmallFile(target, kMaxSecretBytes));
        if (!existing.has_value()) {
            return false;
        }
        if (!crypto::ConstantTimeEquals(*existing, *secret)) {
            return Failure(target + " exists and differs from " + source +
                           ": every node must use one secret (remove " + target +
                           " to replace it, which invalidates the URLs it signed)");
        }
        return true;
    };
    OTA_ASSIGN_OR_RETURN(bool present, same_as_target());
    if (present) {
        return Ok();
    }
    const std::string staged = PrivateName(target);
    {
        Fd fd(::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.ok()) {
            return IoError("cannot create", staged, errno);
        }
        Status written = WriteAll(fd.get(), *secret, staged);
        if (written.ok() && ::fsync(fd.get()) != 0) {
            written = IoError("cannot flush", staged, errno);
        }
        if (!written.ok()) {
            ::unlink(staged.c_str());
            return written;
        }
    }
    // A link fails when the target appeared meanwhile (a node started on it): then it must be
    // the same secret.
    const bool linked = ::link(staged.c_str(), target.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(staged.c_str());
    if (!linked) {
        if (link_errno != EEXIST) {
            return IoError("cannot create", target, link_errno);
        }
        OTA_ASSIGN_OR_RETURN(bool same, same_as_target());
        (void)same;  // a different one failed above
        return Ok();
    }
    report.secret_copied = true;
    return SyncDirectory(to);
}

// Copies one blob to `target` through a private file that is checked before it takes the
// blob's name.
Status CopyBlob(const std::string& source,
                const std::string& target,
                const std::string& name,
                FilesCopyReport& report) {
    const std::string staged = PrivateName(target);
    uint64_t bytes = 0;
    Status copied = [&]() -> Status {
        Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in.ok()) {
            return IoError("cannot open", source, errno);
        }
        Fd out(::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!out.ok()) {
            return IoError("cannot create", staged, errno);
        }
        std::string chunk(kChunkBytes, '\0');
        OTA_TRY(ReadChunks(
            in.get(),
            chunk,
            [&](std::string_view piece) -> Status {
                OTA_TRY(WriteAll(out.get(), piece, staged));
                bytes += piece.size();
                return Ok();
            },
            [&](int err) -> Status { return IoError("cannot read", source, err); }));
        if (::fsync(out.get()) != 0) {
            return IoError("cannot flush", staged, errno);
        }
        if (out.Close() != 0) {
            return IoError("cannot close", staged, errno);
        }
        // What the nodes will serve is what is on the target: check that.
        OTA_ASSIGN_OR_RETURN(std::string sha256, HashFile(staged));
        if (sha256 != name) {
            return Failure("the copy of blob " + name + " has the SHA-256 " + sha256 +
                           ", not its name (is " + source + " damaged?)");
        }
        if (::rename(staged.c_str(), target.c_str()) != 0) {
            return IoError("cannot move a copied blob to", target, errno);
        }
        return Ok();
    }();
    if (!copied.ok()) {
        ::unlink(staged.c_str());
        return copied;
    }
    ++report.blobs_copied;
    report.bytes_copied += bytes;
    return SyncDirectory(std::filesystem::path(target).parent_path().string());
}

// The names of the entries of `dir` that `keep` accepts, sorted; none when `dir` is absent.
Result<std::vector<std::string>> List(const std::string& dir,
                                      const std::function<bool(const std::string&)>& keep) {
    std::vector<std::string> names;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory) {
            return names;
        }
        return Failure("cannot read directory " + dir + ": " + ec.message());
    }
    for (const auto& entry : it) {
        std::string name = entry.path().filename().string();
        if (keep(name)) {
            names.push_back(std::move(name));
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

Result<FilesCopyReport> CopyFilesDirectory(const std::string& from, const std::string& to) {
    std::error_code ec;
    if (!std::filesystem::is_directory(from, ec)) {
        return Failure("there is no files directory at " + from);
    }
    std::filesystem::create_directories(to, ec);
    if (ec) {
        return Failure("cannot create directory " + to + ": " + ec.message());
    }
    if (std::filesystem::equivalent(from, to, ec)) {
        return Failure(from + " and " + to + " are the same directory");
    }
    FilesCopyReport report;
    OTA_TRY(CopySecret(from, to, report));

    const std::string from_blobs = Join(from, "blobs");
    const std::string to_blobs = Join(to, "blobs");
    OTA_TRY(MakeDirectory(to_blobs, to));
    OTA_ASSIGN_OR_RETURN(std::vector<std::string> prefixes,
                         List(from_blobs, [&](const std::string& name) {
                             return IsLowerHex(name, kPrefixLength) &&
                                    std::filesystem::is_directory(Join(from_blobs, name));
                         }));
    for (const std::string& prefix : prefixes) {
        const std::string from_dir = Join(from_blobs, prefix);
        const std::string to_dir = Join(to_blobs, prefix);
        OTA_ASSIGN_OR_RETURN(
            std::vector<std::string> blobs, List(from_dir, [&](const std::string& name) {
                return IsLowerHex(name, kBlobNameLength) && name.starts_with(prefix) &&
                       std::filesystem::is_regular_file(Join(from_dir, name));
            }));
        if (blobs.empty()) {
            continue;
        }
        OTA_TRY(MakeDirectory(to_dir, to_blobs));
        for (const std::string& name : blobs) {
            const std::string source = Join(from_dir, name);
            const std::string target = Join(to_dir, name);
            struct stat from_stat {};
            if (::stat(source.c_str(), &from_stat) != 0) {
                return IoError("cannot stat", source, errno);
            }
            struct stat to_stat {};
            if (::stat(target.c_str(), &to_stat) == 0 && to_stat.st_size == from_stat.st_size) {
                ++report.blobs_present;
                continue;
            }
            OTA_TRY(CopyBlob(source, target, name, report));
        }
    }
    return report;
}

}  // namespace otad::files
