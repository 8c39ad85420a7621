#include "rpc/render/writer.hpp"

#include <gtest/gtest.h>

namespace otad::rpc {
namespace {

void WriteSample(ResponseWriter& w, int items) {
    w.BeginRoot("ListOTAJobByDeviceResponse");
    w.String("RequestId", "R1");
    w.Bool("Success", true);
    w.Int("Total", items);
    w.BeginObject("Data");
    w.BeginArray("SimpleOTAJobInfo");
    for (int i = 0; i < items; ++i) {
        w.BeginItem();
        w.String("JobId", "j" + std::to_string(i));
        w.BeginObject("Tags");
        w.BeginArray("OtaTagDTO");
        w.EndArray();
        w.EndObject();
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    w.EndRoot();
}

TEST(ResponseWriter, JsonWrapperArrays) {
    ResponseWriter w(Format::kJson);
    WriteSample(w, 2);
    EXPECT_EQ(
        w.body(),
        R"({"RequestId":"R1","Success":true,"Total":2,"Data":{"SimpleOTAJobInfo":[)"
        R"({"JobId":"j0","Tags":{"OtaTagDTO":[]}},{"JobId":"j1","Tags":{"OtaTagDTO":[]}}]}})");
}

TEST(ResponseWriter, JsonEmptyArrayStaysAnArray) {
    ResponseWriter w(Format::kJson);
    WriteSample(w, 0);
    EXPECT_EQ(w.body(),
              R"({"RequestId":"R1","Success":true,"Total":0,"Data":{"SimpleOTAJobInfo":[]}})");
}

TEST(ResponseWriter, XmlRepeatsItemElements) {
    ResponseWriter w(Format::kXml);
    WriteSample(w, 2);
    EXPECT_EQ(w.body(),
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListOTAJobByDeviceResponse>"
              "<RequestId>R1</RequestId><Success>true</Success><Total>2</Total><Data>"
              "<SimpleOTAJobInfo><JobId>j0</JobId><Tags/></SimpleOTAJobInfo>"
              "<SimpleOTAJobInfo><JobId>j1</JobId><Tags/></SimpleOTAJobInfo>"
              "</Data></ListOTAJobByDeviceResponse>");
}

TEST(ResponseWriter, XmlEmptyContainerIsSelfClosing) {
    ResponseWriter w(Format::kXml);
    WriteSample(w, 0);
    EXPECT_NE(w.body().find("<Data/>"), std::string::npos);
}

TEST(ResponseWriter, Escapes) {
    ResponseWriter j(Format::kJson);
    j.BeginRoot("X");
    j.String("A", "q\"b\\n\n\x01温\xff");
    j.EndRoot();
    EXPECT_EQ(j.body(), "{\"A\":\"q\\\"b\\\\n\\n\\u0001温\\ufffd\"}");

    ResponseWriter x(Format::kXml);
    x.BeginRoot("X");
    x.String("A", "<a&b>\"'");
    x.EndRoot();
    EXPECT_EQ(
        x.body(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><X><A>&lt;a&amp;b&gt;&quot;&apos;</A></X>");
}

TEST(ResponseWriter, ScalarArrays) {
    ResponseWriter j(Format::kJson);
    j.BeginRoot("X");
    j.BeginObject("SrcVersions");
    j.BeginArray("SrcVersion");
    j.ItemString("1.0");
    j.ItemString("1.1");
    j.EndArray();
    j.EndObject();
    j.EndRoot();
    EXPECT_EQ(j.body(), R"({"SrcVersions":{"SrcVersion":["1.0","1.1"]}})");
}

}  // namespace
}  // namespace otad::rpc
