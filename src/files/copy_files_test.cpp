#include "files/copy_files.hpp"

#include "common/crypto.hpp"
#include "files/blob_store.hpp"
#include "files/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>

namespace otad::files {
namespace {

using testing::TempDir;

std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Write(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

std::string BlobPath(const std::string& files, const std::string& sha) {
    return files + "/blobs/" + sha.substr(0, 2) + "/" + sha;
}

// Files in `dir` (recursively) that are not where a blob or the secret belongs.
int StrayFiles(const std::string& dir) {
    int n = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && name != "secret" && name.size() != 64) {
            ++n;
        }
    }
    return n;
}

class CopyFilesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        from_ = dir_.Sub("data/files");
        to_ = dir_.Sub("shared");
        auto store = DiskBlobStore::Open(from_ + "/blobs", from_ + "/spool");
        ASSERT_TRUE(store.ok());
        for (const std::string& content :
             {std::string("firmware one"), std::string(3 * 1024 * 1024 + 7, 'x'), std::string()}) {
            auto sha = (*store)->Put(content);
            ASSERT_TRUE(sha.ok());
            blobs_.push_back(*sha);
        }
        Write(from_ + "/secret", std::string(32, 's'));
        // Not blobs: left out.
        Write(from_ + "/spool/upload-in-progress", "partial");
        Write(from_ + "/blobs/README", "not a blob");
    }

    TempDir dir_;
    std::string from_;
    std::string to_;
    std::vector<std::string> blobs_;
};

TEST_F(CopyFilesTest, CopiesTheSecretAndEveryBlobOnceAndChecksThem) {
    auto report = CopyFilesDirectory(from_, to_);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->secret_found);
    EXPECT_TRUE(report->secret_copied);
    EXPECT_EQ(report->blobs_copied, 3);
    EXPECT_EQ(report->blobs_present, 0);
    EXPECT_EQ(report->bytes_copied, 12u + 3 * 1024 * 1024 + 7);
    for (const std::string& sha : blobs_) {
        EXPECT_EQ(Read(BlobPath(to_, sha)), Read(BlobPath(from_, sha)));
    }
    EXPECT_EQ(Read(to_ + "/secret"), std::string(32, 's'));
    struct stat st {};
    ASSERT_EQ(::stat((to_ + "/secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(to_ + "/spool"));
    EXPECT_FALSE(std::filesystem::exists(to_ + "/blobs/README"));
    EXPECT_EQ(StrayFiles(to_), 0);

    // Again: nothing left to copy.
    auto again = CopyFilesDirectory(from_, to_);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->secret_found);
    EXPECT_FALSE(again->secret_copied);
    EXPECT_EQ(again->blobs_copied, 0);
    EXPECT_EQ(again->blobs_present, 3);

    // A blob of another size in the target is replaced.
    Write(BlobPath(to_, blobs_[0]), "truncated");
    auto repaired = CopyFilesDirectory(from_, to_);
    ASSERT_TRUE(repaired.ok()) << repaired.error().message;
    EXPECT_EQ(repaired->blobs_copied, 1);
    EXPECT_EQ(Read(BlobPath(to_, blobs_[0])), "firmware one");
}

TEST_F(CopyFilesTest, RefusesADamagedBlobAndLeavesNothingOfIt) {
    const std::string sha = crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kSha256, "real"));
    std::filesystem::create_directories(from_ + "/blobs/" + sha.substr(0, 2));
    Write(BlobPath(from_, sha), "rotten");
    auto report = CopyFilesDirectory(from_, to_);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find("the copy of blob " + sha), std::string::npos)
        << report.error().message;
    EXPECT_FALSE(std::filesystem::exists(BlobPath(to_, sha)));
    EXPECT_EQ(StrayFiles(to_), 0);
}

TEST_F(CopyFilesTest, RefusesAnotherSecretAndTheSameDirectory) {
    std::filesystem::create_directories(to_);
    Write(to_ + "/secret", std::string(32, 'o'));
    auto report = CopyFilesDirectory(from_, to_);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find("differs"), std::string::npos) << report.error().message;
    EXPECT_EQ(report.error().message.find(std::string(32, 's')), std::string::npos);
    EXPECT_EQ(Read(to_ + "/secret"), std::string(32, 'o'));

    auto same = CopyFilesDirectory(from_, from_ + "/../files");
    ASSERT_FALSE(same.ok());
    EXPECT_NE(same.error().message.find("the same directory"), std::string::npos);
}

}  // namespace
}  // namespace otad::files
