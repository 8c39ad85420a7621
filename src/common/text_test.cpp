#include "common/text.hpp"

#include <gtest/gtest.h>

namespace otad::text {
namespace {

TEST(Text, CountsCodePoints) {
    EXPECT_EQ(CodePointCount("abc"), 3u);
    EXPECT_EQ(CodePointCount("温度计 01"), 6u);
    EXPECT_FALSE(CodePointCount("\xC0\x80").has_value());      // overlong
    EXPECT_FALSE(CodePointCount("\xED\xA0\x80").has_value());  // surrogate
    EXPECT_FALSE(CodePointCount("\xE6\xB8").has_value());      // truncated
}

TEST(Text, ClassifiesWideLetters) {
    size_t pos = 0;
    const auto c = NextCodePoint("温", pos);
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(IsWide(*c));
    EXPECT_TRUE(IsLetter(*c));
    EXPECT_FALSE(IsWide(U'a'));
}

TEST(Text, ParsesIntegers) {
    EXPECT_EQ(ParseInt64("0"), 0);
    EXPECT_EQ(ParseInt64("-12"), -12);
    EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
    EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
    EXPECT_FALSE(ParseInt64("9223372036854775808").has_value());
    EXPECT_FALSE(ParseInt64("").has_value());
    EXPECT_FALSE(ParseInt64("+1").has_value());
    EXPECT_FALSE(ParseInt64("1.0").has_value());
    EXPECT_FALSE(ParseInt64(" 1").has_value());
    EXPECT_FALSE(ParseInt64("-").has_value());
}

TEST(Text, ParsesBooleans) {
    EXPECT_EQ(ParseBool("TRUE"), true);
    EXPECT_EQ(ParseBool("false"), false);
    EXPECT_FALSE(ParseBool("yes").has_value());
    EXPECT_FALSE(ParseBool("1").has_value());
}

TEST(Text, ParsesDigitsOnly) {
    EXPECT_EQ(ParseDigits("0"), 0u);
    EXPECT_EQ(ParseDigits("9223372036854775807"), 9223372036854775807u);
    EXPECT_FALSE(ParseDigits("").has_value());
    EXPECT_FALSE(ParseDigits("-1").has_value());
    EXPECT_FALSE(ParseDigits("+1").has_value());
    EXPECT_FALSE(ParseDigits(" 1").has_value());
    EXPECT_FALSE(ParseDigits("12345678901234567890").has_value());  // 20 digits
}

TEST(Text, TrimsSpacesAndTabsOnly) {
    EXPECT_EQ(TrimBlanks(" \t a b\t "), "a b");
    EXPECT_EQ(TrimBlanks("\r\nx\n"), "\r\nx\n");
    EXPECT_EQ(TrimBlanks(" \t "), "");
}

}  // namespace
}  // namespace otad::text
