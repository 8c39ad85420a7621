#include "common/time_format.hpp"

#include <gtest/gtest.h>

namespace otad {
namespace {

TEST(TimeFormat, FormatsMilliseconds) {
    EXPECT_EQ(FormatUtcMs(1572848514607), "2019-11-04T06:21:54.607Z");
    EXPECT_EQ(FormatUtcMs(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(FormatUtcSeconds(1716193800000), "2024-05-20T08:30:00Z");
    EXPECT_EQ(FormatUtcMinutes(1602582360000), "2020-10-13T09:46Z");
    EXPECT_EQ(FormatGmtPlus8(1533523670000), "2018-08-06 10:47:50");
}

TEST(TimeFormat, FormatsEveryYearTheCivilCalendarHas) {
    EXPECT_EQ(FormatUtcMs(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(FormatUtcSeconds(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(FormatUtcMs(951782400000), "2000-02-29T00:00:00.000Z");
    EXPECT_EQ(FormatUtcMs(253402300799999), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(FormatUtcMs(253402300800000), "10000-01-01T00:00:00.000Z");
    EXPECT_EQ(FormatUtcSeconds(253402300800000), "10000-01-01T00:00:00Z");
    EXPECT_EQ(FormatUtcMs(-62167219200000), "0000-01-01T00:00:00.000Z");
    EXPECT_EQ(FormatUtcMs(-62167219200001), "-001-12-31T23:59:59.999Z");
}

TEST(TimeFormat, ParsesTheSignatureTimestamp) {
    EXPECT_EQ(ParseUtcTimestamp("2024-05-20T08:30:00Z"), 1716193800000);
    EXPECT_EQ(ParseUtcTimestamp("2024-05-20T08:30:00.5Z"), 1716193800500);
    EXPECT_EQ(ParseUtcTimestamp("2024-05-20T08:30:00.123456Z"), 1716193800123);
    EXPECT_EQ(ParseUtcTimestamp("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(TimeFormat, RejectsOtherShapes) {
    for (const char* bad : {"",
                            "2024-05-20 08:30:00Z",
                            "2024-05-20T08:30:00",
                            "2024-05-20T08:30:00+08:00",
                            "2024-5-20T08:30:00Z",
                            "2023-02-29T00:00:00Z",
                            "2024-13-01T00:00:00Z",
                            "2024-05-20T24:00:00Z",
                            "2024-05-20T08:30:00.Z",
                            "2024-05-20T08:30:00.1234567890Z",
                            "1716193800"}) {
        EXPECT_FALSE(ParseUtcTimestamp(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace otad
