#include "common/crypto.hpp"

#include <gtest/gtest.h>

namespace otad::crypto {
namespace {

TEST(Crypto, KnownDigests) {
    EXPECT_EQ(HexLower(Hash(HashAlgorithm::kSha256, "")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(HexLower(Hash(HashAlgorithm::kMd5, "abc")), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(
        HexLower(Hmac(HashAlgorithm::kSha1, "key", "The quick brown fox jumps over the lazy dog")),
        "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
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
