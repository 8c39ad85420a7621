#include "rpc/signature/percent_encode.hpp"

#include <gtest/gtest.h>

#include <string>

namespace otad::rpc {
namespace {

TEST(PercentEncode, KeepsOnlyUnreservedBytes) {
    EXPECT_EQ(PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
    EXPECT_EQ(PercentEncode(" "), "%20");
    EXPECT_EQ(PercentEncode("+"), "%2B");
    EXPECT_EQ(PercentEncode("*"), "%2A");
    EXPECT_EQ(PercentEncode("!'()"), "%21%27%28%29");
    EXPECT_EQ(PercentEncode("/:=&%"), "%2F%3A%3D%26%25");
    EXPECT_EQ(PercentEncode("\xE6\xB8\xA9"), "%E6%B8%A9");
    EXPECT_EQ(PercentEncode(std::string(1, '\0')), "%00");
    EXPECT_EQ(PercentEncode("\xFF"), "%FF");
    EXPECT_EQ(PercentEncode("x*y~z!(1)'"), "x%2Ay~z%21%281%29%27");
    EXPECT_EQ(PercentEncode(""), "");
}

TEST(PercentEncode, EveryByte) {
    for (int b = 0; b < 256; ++b) {
        const std::string in(1, static_cast<char>(b));
        const std::string out = PercentEncode(in);
        EXPECT_EQ(out.size(), PercentEncodedSize(in));
        if (IsUnreserved(in[0])) {
            EXPECT_EQ(out, in);
        } else {
            ASSERT_EQ(out.size(), 3u);
            EXPECT_EQ(out[0], '%');
            EXPECT_EQ(std::stoi(out.substr(1), nullptr, 16), b);
            EXPECT_EQ(out,
                      "%" + std::string(1, "0123456789ABCDEF"[b >> 4]) +
                          std::string(1, "0123456789ABCDEF"[b & 0xF]));
        }
    }
}

TEST(PercentEncode, DoubleEncodingInOnePass) {
    for (const char* in :
         {"", "abc", "a b", "x*y~z!(1)'", "2024-05-20T08:30:00Z", "\xE6\xB8\xA9"}) {
        std::string once_twice;
        AppendDoublePercentEncoded(once_twice, in);
        EXPECT_EQ(once_twice, PercentEncode(PercentEncode(in))) << in;
    }
}

}  // namespace
}  // namespace otad::rpc
