#include "files/download_handler.hpp"

#include "files/test_support.hpp"

#include <gtest/gtest.h>

namespace otad::files {
namespace {

constexpr int64_t kNow = 1'716'193'800'000;

using Kind = RangeRequest::Kind;

TEST(ParseRangeTest, SingleRangesOfEveryShape) {
    struct Case {
        std::string header;
        uint64_t total;
        Kind kind;
        uint64_t first;
        uint64_t last;
    };
    const Case cases[] = {
        {"bytes=0-", 100, Kind::kPartial, 0, 99},
        {"bytes=10-", 100, Kind::kPartial, 10, 99},
        {"bytes=10-19", 100, Kind::kPartial, 10, 19},
        {"bytes=99-99", 100, Kind::kPartial, 99, 99},
        {"bytes=90-500", 100, Kind::kPartial, 90, 99},
        {"bytes=-10", 100, Kind::kPartial, 90, 99},
        {"bytes=-500", 100, Kind::kPartial, 0, 99},
        {"Bytes= 5 - 6 ", 100, Kind::kPartial, 5, 6},
        {"bytes=100-", 100, Kind::kUnsatisfiable, 0, 0},
        {"bytes=200-300", 100, Kind::kUnsatisfiable, 0, 0},
        {"bytes=-0", 100, Kind::kUnsatisfiable, 0, 0},
        {"bytes=0-", 0, Kind::kUnsatisfiable, 0, 0},
        {"bytes=-5", 0, Kind::kUnsatisfiable, 0, 0},
        // Ignored: the whole file is sent.
        {"bytes=0-1,5-6", 100, Kind::kWhole, 0, 0},
        {"bytes=20-10", 100, Kind::kWhole, 0, 0},
        {"bytes=a-", 100, Kind::kWhole, 0, 0},
        {"bytes=-", 100, Kind::kWhole, 0, 0},
        {"items=0-1", 100, Kind::kWhole, 0, 0},
        {"bytes=99999999999999999999-", 100, Kind::kWhole, 0, 0},
        {"", 100, Kind::kWhole, 0, 0},
    };
    for (const Case& c : cases) {
        const RangeRequest r = ParseRange(c.header, c.total);
        EXPECT_EQ(r.kind, c.kind) << c.header;
        if (c.kind == Kind::kPartial) {
            EXPECT_EQ(r.first, c.first) << c.header;
            EXPECT_EQ(r.last, c.last) << c.header;
        }
    }
}

class DownloadHandlerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        blobs_ = std::move(DiskBlobStore::Open(dir_.Sub("blobs"), dir_.Sub("spool"))).value();
        domain::FileServiceOptions o;
        o.upload_base_url = "http://127.0.0.1:8080";
        o.secret = std::string(32, 'k');
        files_ = std::make_unique<domain::FileService>(store_, *blobs_, clock_, o);
        handler_ = std::make_unique<DownloadHandler>(*files_, *blobs_, clock_);
        content_ = std::string(1000, 'q') + "end";
        sha_ = *blobs_->Put(content_);
    }

    HttpResponse Get(const std::string& url,
                     const std::string& range = "",
                     const std::string& method = "GET") {
        HttpRequest r;
        r.method = method;
        r.target = url.substr(url.find("/fw/"));
        if (!range.empty()) {
            r.headers.push_back({"Range", range});
        }
        return handler_->Handle(r);
    }

    static std::string Header(const HttpResponse& r, std::string_view name) {
        for (const HttpHeader& h : r.headers) {
            if (EqualsIgnoreCase(h.name, name)) {
                return h.value;
            }
        }
        return {};
    }

    testing::TempDir dir_;
    testing::NoStore store_;
    ManualClock clock_{kNow};
    std::unique_ptr<DiskBlobStore> blobs_;
    std::unique_ptr<domain::FileService> files_;
    std::unique_ptr<DownloadHandler> handler_;
    std::string content_;
    std::string sha_;
};

TEST_F(DownloadHandlerTest, ServesWholeFilesAndRanges) {
    const std::string url = *files_->DownloadUrl(sha_, "a.bin", kNow + 60'000);
    HttpResponse r = Get(url);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body_file, blobs_->PathOf(sha_));
    EXPECT_EQ(r.file_offset, 0u);
    EXPECT_EQ(r.file_length, content_.size());
    EXPECT_EQ(Header(r, "Accept-Ranges"), "bytes");
    EXPECT_EQ(r.content_type, "application/octet-stream");

    r = Get(url, "bytes=1000-");
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.file_offset, 1000u);
    EXPECT_EQ(r.file_length, 3u);
    EXPECT_EQ(Header(r, "Content-Range"), "bytes 1000-1002/1003");

    r = Get(url, "bytes=-3", "HEAD");
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(Header(r, "Content-Range"), "bytes 1000-1002/1003");

    r = Get(url, "bytes=1003-");
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(Header(r, "Content-Range"), "bytes */1003");
    EXPECT_TRUE(r.body_file.empty());
    for (const HttpHeader& h : r.headers) {
        EXPECT_LT(h.name.size() + 2 + h.value.size(), 126u) << h.name;
    }
}

TEST_F(DownloadHandlerTest, RefusesBadExpiredAndMissing) {
    const std::string url = *files_->DownloadUrl(sha_, "a.bin", kNow + 60'000);
    HttpResponse r = Get(url.substr(0, url.size() - 1) + (url.back() == '0' ? "1" : "0"));
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos);
    r = Get(url.substr(0, url.find('?')));
    EXPECT_EQ(r.status, 403);

    clock_.Advance(61'000);
    r = Get(url);
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("<Code>AccessDenied</Code>"), std::string::npos);

    const std::string gone = *files_->DownloadUrl(std::string(64, 'b'), "", kNow + 600'000);
    r = Get(gone);
    EXPECT_EQ(r.status, 404);

    r = Get(*files_->DownloadUrl(sha_, "", kNow + 600'000), "", "DELETE");
    EXPECT_EQ(r.status, 405);
}

TEST_F(DownloadHandlerTest, RoutesOnlyGetAndHeadUnderFw) {
    HttpRequest r;
    r.method = "GET";
    r.target = "/fw/abc?e=1";
    EXPECT_TRUE(DownloadHandler::IsDownload(r));
    r.method = "HEAD";
    EXPECT_TRUE(DownloadHandler::IsDownload(r));
    r.method = "POST";
    EXPECT_FALSE(DownloadHandler::IsDownload(r));
    r.method = "GET";
    r.target = "/?Action=X";
    EXPECT_FALSE(DownloadHandler::IsDownload(r));
}

}  // namespace
}  // namespace otad::files
