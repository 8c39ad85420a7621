#include "files/blob_store.hpp"

#include "common/crypto.hpp"
#include "files/digests.hpp"
#include "files/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>

namespace otad::files {
namespace {

using testing::TempDir;

std::string Sha256Hex(std::string_view s) {
    return crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kSha256, s));
}

size_t CountFiles(const std::string& dir) {
    size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        n += e.is_regular_file() ? 1 : 0;
    }
    return n;
}

TEST(DigestsTest, MatchOneShotHashesWhateverThePieces) {
    const std::string data = std::string(100'000, 'a') + "tail";
    Digests d;
    for (size_t i = 0; i < data.size(); i += 4093) {
        d.Update(std::string_view(data).substr(i, 4093));
    }
    d.Finish();
    EXPECT_EQ(d.size(), data.size());
    EXPECT_EQ(d.sha256(), Sha256Hex(data));
    EXPECT_EQ(d.md5(), crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kMd5, data)));
    Digests empty;
    empty.Finish();
    EXPECT_EQ(empty.md5(), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DiskBlobStoreTest, PutReadSizeRemove) {
    TempDir dir;
    auto store = DiskBlobStore::Open(dir.Sub("blobs"), dir.Sub("spool"));
    ASSERT_TRUE(store.ok());
    DiskBlobStore& blobs = **store;
    auto sha = blobs.Put("firmware bytes");
    ASSERT_TRUE(sha.ok());
    EXPECT_EQ(*sha, Sha256Hex("firmware bytes"));
    EXPECT_EQ(blobs.PathOf(*sha), dir.Sub("blobs") + "/" + sha->substr(0, 2) + "/" + *sha);
    EXPECT_TRUE(std::filesystem::exists(blobs.PathOf(*sha)));
    auto all = blobs.ReadAll(*sha, 100);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, "firmware bytes");
    EXPECT_EQ(*blobs.Size(*sha), 14u);

    auto too_small = blobs.ReadAll(*sha, 13);
    ASSERT_FALSE(too_small.ok());
    EXPECT_EQ(too_small.error().code, ErrorCode::kInvalidFormattedParameter);

    ASSERT_TRUE(blobs.Remove(*sha).ok());
    EXPECT_TRUE(blobs.Remove(*sha).ok());  // absent: still fine
    EXPECT_EQ(blobs.ReadAll(*sha, 100).error().code, ErrorCode::kFileNotFound);
    EXPECT_EQ(blobs.Size(*sha).error().code, ErrorCode::kFileNotFound);
    EXPECT_EQ(CountFiles(dir.Sub("spool")), 0u);
}

TEST(DiskBlobStoreTest, NamesThatAreNotDigestsNeverReachTheFileSystem) {
    TempDir dir;
    auto store = DiskBlobStore::Open(dir.Sub("blobs"), dir.Sub("spool"));
    ASSERT_TRUE(store.ok());
    DiskBlobStore& blobs = **store;
    for (std::string_view bad :
         {std::string_view("../../etc/passwd"), std::string_view(""), std::string_view("ABCDEF")}) {
        EXPECT_EQ(blobs.PathOf(bad), "");
        EXPECT_EQ(blobs.ReadAll(bad, 10).error().code, ErrorCode::kFileNotFound);
        EXPECT_TRUE(blobs.Remove(bad).ok());
    }
    EXPECT_EQ(blobs.PathOf(std::string(64, 'A')), "");
    EXPECT_FALSE(blobs.Import(dir.Sub("x"), "../x").ok());
}

TEST(DiskBlobStoreTest, IdenticalContentIsStoredOnce) {
    TempDir dir;
    auto store = DiskBlobStore::Open(dir.Sub("blobs"), dir.Sub("spool"));
    ASSERT_TRUE(store.ok());
    DiskBlobStore& blobs = **store;
    const std::string sha = Sha256Hex("same");
    for (int i = 0; i < 3; ++i) {
        auto staged = blobs.CreateStagingFile();
        ASSERT_TRUE(staged.ok());
        ASSERT_TRUE(staged->Write("same").ok());
        staged->Close();
        ASSERT_TRUE(blobs.Import(staged->path(), sha).ok());
        staged->Keep();
        EXPECT_FALSE(std::filesystem::exists(staged->path()));
    }
    EXPECT_EQ(CountFiles(dir.Sub("blobs")), 1u);
    EXPECT_EQ(CountFiles(dir.Sub("spool")), 0u);
    struct stat st {};
    ASSERT_EQ(::stat(blobs.PathOf(sha).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(DiskBlobStoreTest, AbandonedStagingFilesAreRemoved) {
    TempDir dir;
    auto store = DiskBlobStore::Open(dir.Sub("blobs"), dir.Sub("spool"));
    ASSERT_TRUE(store.ok());
    {
        auto staged = (*store)->CreateStagingFile();
        ASSERT_TRUE(staged.ok());
        ASSERT_TRUE(staged->Write("partial").ok());
        EXPECT_EQ(CountFiles(dir.Sub("spool")), 1u);
    }
    EXPECT_EQ(CountFiles(dir.Sub("spool")), 0u);
}

}  // namespace
}  // namespace otad::files
