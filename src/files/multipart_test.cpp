#include "files/multipart.hpp"

#include <gtest/gtest.h>

#include <string>

namespace otad::files {
namespace {

constexpr std::string_view kBoundary = "----otadBoundary7MA4YWxkTrZu0gW";

std::string Body(const std::string& file_content, const std::string& preamble = "") {
    const std::string b(kBoundary);
    return preamble + "--" + b +
           "\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nota/abc/def.bin\r\n--" + b +
           "\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\neyJleHBpcmF0aW9uIjoi\r\n--" +
           b + "\r\ncontent-disposition: form-data; name=\"OSSAccessKeyId\"\r\n\r\nOTAD1\r\n--" +
           b +
           "\r\nContent-Disposition: form-data; name=\"success_action_status\"\r\n\r\n200\r\n--" +
           b +
           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fw v1.bin\"\r\n"
           "Content-Type: application/octet-stream\r\n\r\n" +
           file_content + "\r\n--" + b + "--\r\n";
}

struct Parsed {
    Status status = Ok();
    std::string file;
    std::unique_ptr<MultipartParser> parser;
};

/// Feeds `body` in pieces of `piece` bytes (0 = all at once).
Parsed Parse(const std::string& body, size_t piece = 0, MultipartLimits limits = {}) {
    Parsed p;
    p.parser = std::make_unique<MultipartParser>(kBoundary, limits, [&p](std::string_view d) {
        p.file.append(d);
        return Ok();
    });
    if (piece == 0) {
        piece = body.size() + 1;
    }
    for (size_t i = 0; i < body.size() && p.status.ok(); i += piece) {
        p.status = p.parser->Feed(std::string_view(body).substr(i, piece));
    }
    if (p.status.ok()) {
        p.status = p.parser->Finish();
    }
    return p;
}

TEST(MultipartTest, BoundaryFromContentType) {
    auto b = BoundaryFromContentType("multipart/form-data; boundary=abc123");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, "abc123");
    b = BoundaryFromContentType("Multipart/Form-Data ; charset=utf-8; Boundary=\"a b;c\"");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, "a b;c");
    EXPECT_FALSE(BoundaryFromContentType("multipart/form-data").ok());
    EXPECT_FALSE(BoundaryFromContentType("multipart/form-data; boundary=").ok());
    EXPECT_FALSE(BoundaryFromContentType("multipart/form-data; boundary=\"open").ok());
    EXPECT_FALSE(
        BoundaryFromContentType("multipart/form-data; boundary=" + std::string(71, 'x')).ok());
    EXPECT_FALSE(BoundaryFromContentType("application/x-www-form-urlencoded").ok());
    EXPECT_TRUE(IsMultipartFormData(" multipart/form-data;boundary=x"));
    EXPECT_FALSE(IsMultipartFormData("multipart/mixed; boundary=x"));
}

TEST(MultipartTest, ReadsFieldsAndStreamsTheFile) {
    const std::string content = "\x00\x01binary\r\n--not-the-boundary\r\n" + std::string(3000, 'z');
    Parsed p = Parse(Body(content));
    ASSERT_TRUE(p.status.ok()) << p.status.error().message;
    EXPECT_EQ(p.file, content);
    const MultipartParser& parser = *p.parser;
    ASSERT_EQ(parser.fields().size(), 4u);
    EXPECT_EQ(*parser.Field("KEY"), "ota/abc/def.bin");
    EXPECT_EQ(*parser.Field("policy"), "eyJleHBpcmF0aW9uIjoi");
    EXPECT_EQ(*parser.Field("ossaccesskeyid"), "OTAD1");
    EXPECT_EQ(*parser.Field("success_action_status"), "200");
    EXPECT_EQ(parser.Field("signature"), nullptr);
    EXPECT_TRUE(parser.has_file());
    EXPECT_EQ(parser.file_name(), "fw v1.bin");
    EXPECT_EQ(parser.file_content_type(), "application/octet-stream");
    EXPECT_EQ(parser.file_size(), content.size());
}

TEST(MultipartTest, EveryWayOfSplittingTheInputGivesTheSameResult) {
    // Content that looks like the start of a delimiter in many places.
    const std::string content = "\r\n-\r\n--\r\n--" + std::string(kBoundary.substr(0, 10)) +
                                "\r\r\n\n--" + std::string(kBoundary) + "x" + "tail";
    const std::string body = Body(content, "preamble text\r\n");
    for (size_t piece = 1; piece <= 80; ++piece) {
        Parsed p = Parse(body, piece);
        ASSERT_TRUE(p.status.ok()) << "piece " << piece << ": " << p.status.error().message;
        EXPECT_EQ(p.file, content) << "piece " << piece;
        EXPECT_EQ(*p.parser->Field("key"), "ota/abc/def.bin") << "piece " << piece;
    }
    // Two pieces, split at every position.
    for (size_t cut = 0; cut <= body.size(); ++cut) {
        std::string file;
        MultipartParser collecting(kBoundary, {}, [&](std::string_view d) {
            file.append(d);
            return Ok();
        });
        ASSERT_TRUE(collecting.Feed(std::string_view(body).substr(0, cut)).ok());
        ASSERT_TRUE(collecting.Feed(std::string_view(body).substr(cut)).ok());
        ASSERT_TRUE(collecting.Finish().ok()) << "cut " << cut;
        EXPECT_EQ(file, content) << "cut " << cut;
    }
}

TEST(MultipartTest, EmptyFileAndPaddingAfterTheDelimiter) {
    const std::string b(kBoundary);
    const std::string body =
        "--" + b + "  \t\r\nContent-Disposition: form-data; name=file\r\n\r\n\r\n--" + b + "--";
    Parsed p = Parse(body);
    ASSERT_TRUE(p.status.ok()) << p.status.error().message;
    EXPECT_TRUE(p.parser->has_file());
    EXPECT_EQ(p.parser->file_size(), 0u);
}

TEST(MultipartTest, EpilogueIsIgnored) {
    Parsed p = Parse(Body("abc") + "trailing junk --" + std::string(kBoundary));
    ASSERT_TRUE(p.status.ok());
    EXPECT_EQ(p.file, "abc");
}

TEST(MultipartTest, MalformedInputsAreRefused) {
    const std::string b(kBoundary);
    const std::string part =
        "--" + b + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n";
    struct Case {
        std::string name;
        std::string body;
    };
    const Case cases[] = {
        {"no closing delimiter", part},
        {"truncated in a part", part.substr(0, part.size() - 4)},
        {"empty body", ""},
        {"no delimiter at all", std::string(100, 'x')},
        {"garbage after delimiter", "--" + b + "xx\r\n"},
        {"header without colon",
         "--" + b + "\r\nContent-Disposition form-data\r\n\r\nv\r\n--" + b + "--"},
        {"no name", "--" + b + "\r\nContent-Disposition: form-data\r\n\r\nv\r\n--" + b + "--"},
        {"not form-data",
         "--" + b + "\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--" + b + "--"},
        {"no disposition", "--" + b + "\r\nContent-Type: text/plain\r\n\r\nv\r\n--" + b + "--"},
        {"unclosed quote",
         "--" + b + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--" + b + "--"},
        {"two files",
         "--" + b + "\r\nContent-Disposition: form-data; name=file\r\n\r\n1\r\n--" + b +
             "\r\nContent-Disposition: form-data; name=File\r\n\r\n2\r\n--" + b + "--"},
        {"folded header",
         "--" + b + "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--" + b + "--"},
    };
    for (const Case& c : cases) {
        for (size_t piece : {size_t{0}, size_t{1}, size_t{7}}) {
            Parsed p = Parse(c.body, piece);
            ASSERT_FALSE(p.status.ok()) << c.name << " piece " << piece;
            EXPECT_EQ(p.status.error().code, ErrorCode::kBadRequest) << c.name;
        }
    }
}

TEST(MultipartTest, LimitsAreEnforced) {
    const std::string b(kBoundary);
    MultipartLimits limits;
    limits.max_field_bytes = 10;
    limits.max_parts = 3;
    limits.max_part_header_bytes = 200;
    limits.max_preamble_bytes = 50;
    auto field = [&](const std::string& name, const std::string& value) {
        return "--" + b + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
               value + "\r\n";
    };
    // Within the limits.
    EXPECT_TRUE(Parse(field("a", std::string(10, 'v')) + field("b", "") + field("file", "x") +
                          "--" + b + "--",
                      3,
                      limits)
                    .status.ok());
    // Field one byte too large; files are not bounded by the field limit.
    EXPECT_FALSE(Parse(field("a", std::string(11, 'v')) + "--" + b + "--", 0, limits).status.ok());
    EXPECT_TRUE(
        Parse(field("file", std::string(1000, 'v')) + "--" + b + "--", 0, limits).status.ok());
    // Too many parts.
    EXPECT_FALSE(
        Parse(field("a", "") + field("b", "") + field("c", "") + field("d", "") + "--" + b + "--",
              0,
              limits)
            .status.ok());
    // Part headers too large, whether or not they end.
    const std::string big_header =
        "--" + b + "\r\nContent-Disposition: form-data; name=a\r\nX: " + std::string(300, 'h');
    EXPECT_FALSE(Parse(big_header, 0, limits).status.ok());
    EXPECT_FALSE(Parse(big_header + "\r\n\r\nv\r\n--" + b + "--", 5, limits).status.ok());
    // Preamble too long.
    EXPECT_FALSE(
        Parse(std::string(60, 'p') + field("a", "") + "--" + b + "--", 0, limits).status.ok());
}

TEST(MultipartTest, SinkErrorsStopTheParse) {
    MultipartParser parser(
        kBoundary, {}, [](std::string_view) { return InternalError("disk full"); });
    const Status st = parser.Feed(Body(std::string(500, 'x')));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace otad::files
