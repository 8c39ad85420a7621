#include "common/crypto.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace otad::crypto {
namespace {

TEST(Crypto, KnownDigests) {
    EXPECT_EQ(HexLower(Hash(HashAlgorithm::kSha256, "")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(HexLower(Hash(HashAlgorithm::kMd5, "abc")), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(
        HexLower(Hmac(HashAlgorithm::kSha1, "key", "The quick brown fox jumps over the lazy dog")),
        "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
    EXPECT_EQ(HexLower(Hmac(
                  HashAlgorithm::kSha256, "key", "The quick brown fox jumps over the lazy dog")),
              "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(Crypto, HmacKeysEachCallAfresh) {
    // The per-thread context must not keep the previous call's key or data, and an empty key
    // is a key like any other.
    EXPECT_EQ(HexLower(Hmac(HashAlgorithm::kSha256, "", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    EXPECT_EQ(HexLower(Hmac(HashAlgorithm::kSha1, "", "")),
              "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
    EXPECT_EQ(
        HexLower(Hmac(HashAlgorithm::kMd5, "key", "The quick brown fox jumps over the lazy dog")),
        "80070713463e7749b90c2dc24911e275");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(HexLower(Hmac(HashAlgorithm::kSha256, "", "")),
                  "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
        EXPECT_EQ(HexLower(Hmac(
                      HashAlgorithm::kSha1, "key", "The quick brown fox jumps over the lazy dog")),
                  "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
    }
}

TEST(Crypto, RequestStyleUuidsAreVersion4AndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 300; ++i) {  // several refills of the per-thread pool
        const std::string id = RandomUuidUpper();
        ASSERT_EQ(id.size(), 36u);
        EXPECT_EQ(id[14], '4');
        EXPECT_NE(std::string("89AB").find(id[19]), std::string::npos) << id;
        EXPECT_TRUE(seen.insert(id).second) << id;
    }
}

TEST(Crypto, Base64RoundTrip) {
    EXPECT_EQ(Base64Encode("hello world"), "aGVsbG8gd29ybGQ=");
    EXPECT_EQ(Base64Decode("aGVsbG8gd29ybGQ="), "hello world");
    EXPECT_EQ(Base64Decode("aGk="), "hi");
    EXPECT_FALSE(Base64Decode("abc").has_value());
}

TEST(Crypto, RandomShapes) {
    const std::string uuid = RandomUuidUpper();
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[8], '-');
    EXPECT_EQ(uuid[14], '4');
    for (char c : uuid) {
        EXPECT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
    }
    EXPECT_EQ(RandomBase62(20).size(), 20u);
    EXPECT_NE(RandomBase62(20), RandomBase62(20));
    EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace otad::crypto
