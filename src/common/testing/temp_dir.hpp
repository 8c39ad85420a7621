#pragma once

// Private scratch directories for tests.

#include <filesystem>
#include <stdlib.h>
#include <string>
#include <system_error>

namespace otad::test_support {

/// A fresh directory under the system's temporary directory (made by mkdtemp, so private to the
/// test), removed with its contents on destruction. path() is empty when it could not be made.
class TempDir {
  public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "otad-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) {
            path_ = pattern;
        }
    }
    ~TempDir() {
        if (!path_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(path_, ignored);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    /// The path of `name` inside the directory.
    std::string Sub(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

}  // namespace otad::test_support
