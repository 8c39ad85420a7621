// The blocking downloader against an in-test HTTP server: whole and split ranges, resumption
// after broken connections, servers that ignore Range, digests, and heads devices refuse.

#include "common/crypto.hpp"
#include "devsim_test_support.hpp"
#include "http_fetch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otad::devsim {
namespace {

using testing::TestHttpServer;

std::string Firmware(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 131 + 7) % 251);
    }
    return s;
}

std::string Md5Hex(const std::string& s) {
    return crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kMd5, s));
}

std::string Sha256Hex(const std::string& s) {
    return crypto::HexLower(crypto::Hash(crypto::HashAlgorithm::kSha256, s));
}

std::string Upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

class FetchTest : public ::testing::Test {
  protected:
    const std::string body_ = Firmware(100000);

    FileSpec Spec(const std::string& digest) const {
        FileSpec f;
        f.name = "fw.bin";
        f.size = body_.size();
        // No port in the URL, as the platform sends it; the port comes from the options.
        f.url = "http://127.0.0.1/fw/1/fw.bin?e=1&s=2";
        f.digest = digest;
        return f;
    }
    FetchOptions Options(uint16_t port) const {
        FetchOptions o;
        o.default_port = port;
        o.timeout_ms = 5000;
        return o;
    }
    // How one download of this test's file, announced with `digest`, ends.
    FetchResult::Status StatusOf(Style style,
                                 const std::string& digest,
                                 DigestMethod method,
                                 DigestCompare compare,
                                 const FetchOptions& options) const {
        return FetchFile(style, Spec(digest), method, compare, options, nullptr).status;
    }
};

TEST_F(FetchTest, WholeFileWithOpenRange) {
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
    uint64_t seen = 0;
    const FetchResult r = FetchFile(Style::k4x,
                                    Spec(Md5Hex(body_)),
                                    DigestMethod::kMd5,
                                    DigestCompare::kAnyCase,
                                    Options(server.port()),
                                    [&](uint64_t received, uint64_t) { seen = received; });
    EXPECT_EQ(r.status, FetchResult::Status::kOk) << r.detail;
    EXPECT_EQ(seen, body_.size());
    EXPECT_EQ(server.Ranges(), std::vector<std::string>{"bytes=0-"});
}

TEST_F(FetchTest, Sha256AndUpperCaseSign) {
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
    const std::string sign = Upper(Sha256Hex(body_));
    const FetchResult r = FetchFile(Style::k4x,
                                    Spec(sign),
                                    DigestMethod::kSha256,
                                    DigestCompare::kAnyCase,
                                    Options(server.port()),
                                    nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kOk) << r.detail;
    // iotkit 3.x compares the md5 text exactly with its lower-case digest.
    const std::string upper_md5 = Upper(Md5Hex(body_));
    const FetchResult strict = FetchFile(Style::k3x,
                                         Spec(upper_md5),
                                         DigestMethod::kMd5,
                                         DigestCompare::kExactLower,
                                         Options(server.port()),
                                         nullptr);
    EXPECT_EQ(strict.status, FetchResult::Status::kDigestMismatch);
}

TEST_F(FetchTest, RememberedFilesAreCheckedByComparisonAndStillCatchOtherBytes) {
    // The same package for many devices: the second download matches by comparison.
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
    const FetchOptions options = Options(server.port());
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(
            StatusOf(
                Style::k4x, Md5Hex(body_), DigestMethod::kMd5, DigestCompare::kAnyCase, options),
            FetchResult::Status::kOk);
    }
    // A wrong sign for remembered bytes is still a mismatch, also for strict comparers.
    EXPECT_EQ(
        StatusOf(
            Style::k4x, Md5Hex(body_ + "x"), DigestMethod::kMd5, DigestCompare::kAnyCase, options),
        FetchResult::Status::kDigestMismatch);
    EXPECT_EQ(StatusOf(Style::k3x,
                       Upper(Md5Hex(body_)),
                       DigestMethod::kMd5,
                       DigestCompare::kExactLower,
                       options),
              FetchResult::Status::kDigestMismatch);
    // The same bytes under the other digest method are hashed with it.
    EXPECT_EQ(
        StatusOf(
            Style::k4x, Md5Hex(body_), DigestMethod::kSha256, DigestCompare::kAnyCase, options),
        FetchResult::Status::kDigestMismatch);
    // A server that serves other bytes of the same size under the remembered file's sign.
    std::string altered = body_;
    altered[500] = static_cast<char>(altered[500] ^ 1);
    TestHttpServer corrupt({{"/fw/1/fw.bin", altered}}, {});
    for (bool remember : {true, false}) {
        FetchOptions o = Options(corrupt.port());
        o.remember_verified = remember;
        EXPECT_EQ(
            StatusOf(Style::k4x, Md5Hex(body_), DigestMethod::kMd5, DigestCompare::kAnyCase, o),
            FetchResult::Status::kDigestMismatch);
        // ... and after it has been hashed once, its own sign matches.
        EXPECT_EQ(
            StatusOf(Style::k4x, Md5Hex(altered), DigestMethod::kMd5, DigestCompare::kAnyCase, o),
            FetchResult::Status::kOk);
    }
}

TEST_F(FetchTest, SplitRanges) {
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
    FetchOptions o = Options(server.port());
    o.split_ranges = true;
    const FetchResult r = FetchFile(
        Style::k4x, Spec(Md5Hex(body_)), DigestMethod::kMd5, DigestCompare::kAnyCase, o, nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kOk) << r.detail;
    EXPECT_EQ(server.Ranges(), (std::vector<std::string>{"bytes=0-49999", "bytes=50000-"}));
}

TEST_F(FetchTest, ResumesAfterBrokenConnections) {
    TestHttpServer::Faults faults;
    faults.cut_requests = 2;
    faults.cut_after = 30000;
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, faults);
    const FetchResult r = FetchFile(Style::k4x,
                                    Spec(Md5Hex(body_)),
                                    DigestMethod::kMd5,
                                    DigestCompare::kAnyCase,
                                    Options(server.port()),
                                    nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kOk) << r.detail;
    EXPECT_EQ(r.resumes, 2u);
    EXPECT_EQ(server.Ranges(),
              (std::vector<std::string>{"bytes=0-", "bytes=30000-", "bytes=60000-"}));
}

TEST_F(FetchTest, GivesUpAfterMaxResumes) {
    TestHttpServer::Faults faults;
    faults.cut_requests = 100;
    faults.cut_after = 10;
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, faults);
    FetchOptions o = Options(server.port());
    o.max_resumes = 3;
    const FetchResult r = FetchFile(
        Style::k4x, Spec(Md5Hex(body_)), DigestMethod::kMd5, DigestCompare::kAnyCase, o, nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kFailed);
    EXPECT_EQ(server.Ranges().size(), 4u);
}

TEST_F(FetchTest, ServerIgnoringRangeRestartsFromZero) {
    TestHttpServer::Faults faults;
    faults.ignore_range = true;
    faults.cut_requests = 1;
    faults.cut_after = 40000;
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, faults);
    const FetchResult r = FetchFile(Style::k4x,
                                    Spec(Md5Hex(body_)),
                                    DigestMethod::kMd5,
                                    DigestCompare::kAnyCase,
                                    Options(server.port()),
                                    nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kOk) << r.detail;
}

TEST_F(FetchTest, DigestMismatch) {
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
    const FetchResult r = FetchFile(Style::k4x,
                                    Spec(Md5Hex("other")),
                                    DigestMethod::kMd5,
                                    DigestCompare::kAnyCase,
                                    Options(server.port()),
                                    nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kDigestMismatch);
}

TEST_F(FetchTest, RefusedHeadsAndStatuses) {
    {
        TestHttpServer::Faults faults;
        faults.protocol = "HTTP/1.0";
        TestHttpServer server({{"/fw/1/fw.bin", body_}}, faults);
        const FetchResult r = FetchFile(Style::k4x,
                                        Spec(Md5Hex(body_)),
                                        DigestMethod::kMd5,
                                        DigestCompare::kAnyCase,
                                        Options(server.port()),
                                        nullptr);
        EXPECT_EQ(r.status, FetchResult::Status::kFailed);
        EXPECT_EQ(server.Ranges().size(), 1u) << "a refused head is not retried";
    }
    {
        TestHttpServer server({{"/other", body_}}, {});
        const FetchResult r = FetchFile(Style::k4x,
                                        Spec(Md5Hex(body_)),
                                        DigestMethod::kMd5,
                                        DigestCompare::kAnyCase,
                                        Options(server.port()),
                                        nullptr);
        EXPECT_EQ(r.status, FetchResult::Status::kFailed);
    }
    {
        // Pushed size differs from the served file.
        TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
        FileSpec f = Spec(Md5Hex(body_));
        f.size += 1;
        const FetchResult r = FetchFile(Style::k4x,
                                        f,
                                        DigestMethod::kMd5,
                                        DigestCompare::kAnyCase,
                                        Options(server.port()),
                                        nullptr);
        EXPECT_EQ(r.status, FetchResult::Status::kFailed);
    }
}

TEST_F(FetchTest, ExplicitPortInUrlWins) {
    TestHttpServer server({{"/fw/1/fw.bin", body_}}, {});
    FileSpec f = Spec(Md5Hex(body_));
    f.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/fw/1/fw.bin";
    FetchOptions o = Options(1);  // nothing listens on port 1
    const FetchResult r =
        FetchFile(Style::k4x, f, DigestMethod::kMd5, DigestCompare::kAnyCase, o, nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kOk) << r.detail;
}

TEST_F(FetchTest, ConnectFailureIsRetriedThenFails) {
    FetchOptions o = Options(testing::FreePort());
    o.max_resumes = 1;
    const FetchResult r = FetchFile(
        Style::k4x, Spec(Md5Hex(body_)), DigestMethod::kMd5, DigestCompare::kAnyCase, o, nullptr);
    EXPECT_EQ(r.status, FetchResult::Status::kFailed);
    EXPECT_EQ(r.resumes, 1u);
}

}  // namespace
}  // namespace otad::devsim
