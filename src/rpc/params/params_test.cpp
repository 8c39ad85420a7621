#include "rpc/params/params.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otad::rpc {
namespace {

const std::string kForm = "application/x-www-form-urlencoded";

ParamMap Build(std::string_view query,
               std::string_view body = {},
               const std::string* content_type = &kForm,
               const ParamLimits& limits = {}) {
    Result<ParamMap> map = ParamMap::FromRequest(query, content_type, body, limits);
    EXPECT_TRUE(map.ok()) << (map.ok() ? "" : map.error().message);
    return std::move(map).value();
}

std::vector<std::string> Names(const std::vector<Param>& params) {
    std::vector<std::string> names;
    for (const Param& p : params) {
        names.push_back(p.name);
    }
    return names;
}

TEST(FormDecode, PlusIsSpaceAndEscapesAreBytes) {
    std::string out;
    ASSERT_TRUE(FormDecode("trace+id", out));
    EXPECT_EQ(out, "trace id");
    ASSERT_TRUE(FormDecode("trace%20id", out));
    EXPECT_EQ(out, "trace id");
    ASSERT_TRUE(FormDecode("%2B%2b", out));
    EXPECT_EQ(out, "++");
    ASSERT_TRUE(FormDecode("x*y~z!(1)%27", out));
    EXPECT_EQ(out, "x*y~z!(1)'");
    ASSERT_TRUE(FormDecode("%E6%B8%A9%E5%BA%A6%E8%AE%A1+01", out));
    EXPECT_EQ(out, "\xE6\xB8\xA9\xE5\xBA\xA6\xE8\xAE\xA1 01");
    ASSERT_TRUE(FormDecode("%00", out));
    EXPECT_EQ(out, std::string(1, '\0'));
    ASSERT_TRUE(FormDecode("", out));
    EXPECT_EQ(out, "");
}

TEST(FormDecode, RejectsMalformedEscapes) {
    std::string out;
    for (const char* bad : {"%", "%2", "a%", "a%4", "%zz", "%2g", "%%41", "abc%G0"}) {
        EXPECT_FALSE(FormDecode(bad, out)) << bad;
    }
}

TEST(DecodeForm, SplitsItemsAndKeepsOrder) {
    Result<std::vector<Param>> params = DecodeForm("b=2&&a&c=x=y&=v&a=3&", {});
    ASSERT_TRUE(params.ok());
    ASSERT_EQ(params->size(), 5u);
    EXPECT_EQ((*params)[0].name, "b");
    EXPECT_EQ((*params)[0].value, "2");
    EXPECT_EQ((*params)[1].name, "a");
    EXPECT_EQ((*params)[1].value, "");
    EXPECT_EQ((*params)[2].name, "c");
    EXPECT_EQ((*params)[2].value, "x=y");
    EXPECT_EQ((*params)[3].name, "");
    EXPECT_EQ((*params)[3].value, "v");
    EXPECT_EQ((*params)[4].value, "3");
    EXPECT_TRUE(DecodeForm("", {})->empty());
    EXPECT_TRUE(DecodeForm("&&&", {})->empty());
}

TEST(DecodeForm, EnforcesLimits) {
    ParamLimits limits;
    limits.max_count = 3;
    limits.max_name_bytes = 4;
    limits.max_value_bytes = 5;
    EXPECT_TRUE(DecodeForm("a=1&b=2&c=3", limits).ok());
    Result<std::vector<Param>> r = DecodeForm("a=1&b=2&c=3&d=4", limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
    EXPECT_FALSE(r.error().message.empty());

    EXPECT_TRUE(DecodeForm("abcd=12345", limits).ok());
    r = DecodeForm("abcde=1", limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
    r = DecodeForm("abc=123456", limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
    EXPECT_EQ(r.error().param, "abc");
    // Limits apply to decoded sizes: "%41" is one byte.
    EXPECT_TRUE(DecodeForm("%41%41%41%41=%41%41%41%41%41", limits).ok());
}

TEST(DecodeForm, MalformedEscapeIsInvalidParameter) {
    Result<std::vector<Param>> r = DecodeForm("a=%zz", {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
    r = DecodeForm("%=1", {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
}

TEST(IsFormUrlEncoded, ComparesTheMediaTypeOnly) {
    EXPECT_TRUE(IsFormUrlEncoded("application/x-www-form-urlencoded"));
    EXPECT_TRUE(IsFormUrlEncoded("Application/X-WWW-Form-UrlEncoded"));
    EXPECT_TRUE(IsFormUrlEncoded("application/x-www-form-urlencoded; charset=UTF-8"));
    EXPECT_TRUE(IsFormUrlEncoded(" application/x-www-form-urlencoded ;charset=utf-8"));
    EXPECT_FALSE(IsFormUrlEncoded("application/json"));
    EXPECT_FALSE(IsFormUrlEncoded("application/x-www-form-urlencodedx"));
    EXPECT_FALSE(IsFormUrlEncoded(""));
}

TEST(ParamMap, SortsByteWiseNotNumerically) {
    ParamMap map = Build("Tag.2.Key=c&Tag.10.Key=b&Tag.1.Key=a&action=x&Action=y");
    EXPECT_EQ(
        Names(map.Sorted()),
        (std::vector<std::string>{"Action", "Tag.1.Key", "Tag.10.Key", "Tag.2.Key", "action"}));
}

TEST(ParamMap, LastQueryValueWinsAndBodyWinsOverQuery) {
    ParamMap map = Build("A=q1&B=q&A=q2&C=q", "B=b1&D=d&B=b2");
    EXPECT_EQ(*map.Find("A"), "q2");
    EXPECT_EQ(*map.Find("B"), "b2");
    EXPECT_EQ(*map.Find("C"), "q");
    EXPECT_EQ(*map.Find("D"), "d");
    EXPECT_EQ(map.Find("E"), nullptr);
    EXPECT_EQ(map.Find("a"), nullptr);  // names are case-sensitive
    EXPECT_EQ(Names(map.Sorted()), (std::vector<std::string>{"A", "B", "C", "D"}));
    // The query view keeps the query's own values.
    ASSERT_EQ(map.SortedQuery().size(), 3u);
    EXPECT_EQ(map.SortedQuery()[1].name, "B");
    EXPECT_EQ(map.SortedQuery()[1].value, "q");
}

TEST(ParamMap, BodyOnlyForFormMediaType) {
    const std::string json = "application/json";
    const std::string form_utf8 = "application/x-www-form-urlencoded;charset=UTF-8";
    EXPECT_EQ(Build("A=1", "B=2", &json).Find("B"), nullptr);
    EXPECT_EQ(Build("A=1", "B=2", nullptr).Find("B"), nullptr);
    EXPECT_EQ(*Build("A=1", "B=2", &form_utf8).Find("B"), "2");
    ParamMap body_only = Build("", "B=2&A=1");
    EXPECT_EQ(Names(body_only.Sorted()), (std::vector<std::string>{"A", "B"}));
    EXPECT_TRUE(body_only.SortedQuery().empty());
}

TEST(ParamMap, PlusAndPercentTwentyDecodeAlike) {
    ParamMap a = Build("UserProp.1.Key=trace+id");
    ParamMap b = Build("UserProp.1.Key=trace%20id");
    EXPECT_EQ(*a.Find("UserProp.1.Key"), "trace id");
    EXPECT_EQ(*b.Find("UserProp.1.Key"), "trace id");
    EXPECT_EQ(*Build("X=a%2Bb").Find("X"), "a+b");
}

TEST(ParamMap, EmptyValuesAreKept) {
    ParamMap map = Build("SignatureType=&Name");
    ASSERT_NE(map.Find("SignatureType"), nullptr);
    EXPECT_EQ(*map.Find("SignatureType"), "");
    ASSERT_NE(map.Find("Name"), nullptr);
    EXPECT_EQ(*map.Find("Name"), "");
}

TEST(ParamMap, CountLimitCoversQueryAndBody) {
    ParamLimits limits;
    limits.max_count = 3;
    EXPECT_TRUE(ParamMap::FromRequest("a=1&b=2", &kForm, "c=3", limits).ok());
    Result<ParamMap> r = ParamMap::FromRequest("a=1&b=2", &kForm, "c=3&d=4", limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
    r = ParamMap::FromRequest("a=1&b=2", &kForm, "c=%4", limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidParameter);
}

TEST(ParamMap, ListsAreOrderedNumericallyWithGaps) {
    ParamMap map = Build(
        "Name.10=j&Name.2=b&Name.1=a&Name.3.X=no&Name.01=no&Name.0=no&Name.x=no&Name.-1=no"
        "&Name.%2B4=no&Name.=no&Names.1=no&Name=no&Other.1=no&Name.1000000000=no");
    EXPECT_EQ(map.List("Name"), (std::vector<std::string>{"a", "b", "j"}));
    EXPECT_EQ(map.ListCount("Name"), 3u);
    EXPECT_TRUE(map.List("Missing").empty());
    EXPECT_EQ(map.ListCount("Missing"), 0u);

    ParamMap gaps = Build("D.1=a&D.3=c");
    EXPECT_EQ(gaps.List("D"), (std::vector<std::string>{"a", "c"}));
}

TEST(ParamMap, ObjectListsGroupByIndex) {
    ParamMap map = Build(
        "Tag.2.Value=v%202&Tag.10.Key=k10&Tag.1.Value=prod&Tag.1.Key=env&Tag.2.Key=k2"
        "&Tag.1=scalar&Tag.01.Key=no&Tag.3.=no&Tag.4.A.B=nested");
    std::vector<std::vector<Param>> groups = map.ObjectList("Tag");
    ASSERT_EQ(groups.size(), 4u);
    EXPECT_EQ(map.ObjectListCount("Tag"), 4u);
    ASSERT_EQ(groups[0].size(), 2u);
    EXPECT_EQ(groups[0][0].name, "Key");
    EXPECT_EQ(groups[0][0].value, "env");
    EXPECT_EQ(groups[0][1].name, "Value");
    EXPECT_EQ(groups[0][1].value, "prod");
    ASSERT_EQ(groups[1].size(), 2u);
    EXPECT_EQ(groups[1][1].value, "v 2");
    ASSERT_EQ(groups[2].size(), 1u);
    EXPECT_EQ(groups[2][0].name, "A.B");
    ASSERT_EQ(groups[3].size(), 1u);
    EXPECT_EQ(groups[3][0].value, "k10");
    // The scalar "Tag.1" is a list element, not an object field.
    EXPECT_EQ(map.List("Tag"), (std::vector<std::string>{"scalar"}));
}

TEST(ParamMap, ListsSeeBodyParameters) {
    ParamMap map = Build("TargetDeviceName.1=q", "TargetDeviceName.2=b&TargetDeviceName.1=b1");
    EXPECT_EQ(map.List("TargetDeviceName"), (std::vector<std::string>{"b1", "b"}));
}

}  // namespace
}  // namespace otad::rpc
