// The parts of FileService that need no database: signing, URL shapes and list parsing. The
// parts that record files are tested on SQLite in tests/integration.

#include "domain/file_service.hpp"

#include "common/crypto.hpp"
#include "files/test_support.hpp"

#include <gtest/gtest.h>

namespace otad::files {
namespace {

using domain::FileService;
using domain::FileServiceOptions;

constexpr int64_t kNow = 1'716'193'800'000;  // 2024-05-20T08:30:00Z
const std::string kSha(64, 'a');

class FileServicePureTest : public ::testing::Test {
  protected:
    FileServiceOptions Options() {
        FileServiceOptions o;
        o.upload_base_url = "http://127.0.0.1:8080";
        o.secret = std::string(32, 's');
        return o;
    }
    testing::NoStore store_;
    testing::MemoryBlobStore blobs_;
    ManualClock clock_{kNow};
};

TEST_F(FileServicePureTest, AccessKeyIdIsStablePublicAndNotTheSecret) {
    FileService a(store_, blobs_, clock_, Options());
    FileService b(store_, blobs_, clock_, Options());
    FileServiceOptions other = Options();
    other.secret = std::string(32, 't');
    FileService c(store_, blobs_, clock_, other);
    EXPECT_EQ(a.access_key_id(), b.access_key_id());
    EXPECT_NE(a.access_key_id(), c.access_key_id());
    EXPECT_EQ(a.access_key_id().rfind("OTAD", 0), 0u);
    EXPECT_EQ(a.access_key_id().find("ssss"), std::string::npos);
}

TEST_F(FileServicePureTest, DownloadUrlsAreShortSignedAndVerifiable) {
    FileService files(store_, blobs_, clock_, Options());
    auto url = files.DownloadUrl(kSha, "fw v1.bin", kNow + 3'600'000);
    ASSERT_TRUE(url.ok());
    const std::string prefix = "http://127.0.0.1:8080/fw/" + kSha + "/fw%20v1.bin?e=";
    ASSERT_EQ(url->rfind(prefix, 0), 0u) << *url;
    EXPECT_LT(url->size(), 255u);
    const std::string path = url->substr(21, url->find('?') - 21);
    const std::string query = url->substr(url->find('?') + 1);
    const std::string e = query.substr(2, query.find('&') - 2);
    const std::string s = query.substr(query.find("&s=") + 3);
    EXPECT_EQ(e, std::to_string((kNow + 3'600'000) / 1000));
    EXPECT_EQ(s.size(), 32u);

    auto target = files.VerifyDownload(path, e, s, kNow);
    ASSERT_TRUE(target.ok()) << target.error().message;
    EXPECT_EQ(target->sha256, kSha);
    EXPECT_EQ(target->file_name, "fw v1.bin");
    EXPECT_EQ(target->size, -1);

    // Still valid at the expiry second, not after it.
    EXPECT_TRUE(files.VerifyDownload(path, e, s, kNow + 3'600'000).ok());
    auto late = files.VerifyDownload(path, e, s, kNow + 3'601'000);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, ErrorCode::kTimestampExpired);

    // Any change breaks the signature.
    const std::string other_e = std::to_string(std::stoll(e) + 1);
    std::string other_s = s;
    other_s[0] = other_s[0] == '0' ? '1' : '0';
    std::string other_path = path;
    other_path.back() = 'x';
    for (const auto& [p, ee, ss] : {std::tuple{path, other_e, s},
                                    std::tuple{path, e, other_s},
                                    std::tuple{other_path, e, s},
                                    std::tuple{path, e, std::string()},
                                    std::tuple{path, std::string(), s},
                                    std::tuple{path, std::string("-1"), s},
                                    std::tuple{std::string("/other") + path, e, s}}) {
        auto r = files.VerifyDownload(p, ee, ss, kNow);
        ASSERT_FALSE(r.ok()) << p << " " << ee << " " << ss;
        EXPECT_EQ(r.error().code, ErrorCode::kSignatureDoesNotMatch);
    }
    // A server with another secret does not accept it.
    FileServiceOptions other = Options();
    other.secret = std::string(32, 't');
    FileService stranger(store_, blobs_, clock_, other);
    EXPECT_FALSE(stranger.VerifyDownload(path, e, s, kNow).ok());
    EXPECT_EQ(store_.calls, 0);
}

TEST_F(FileServicePureTest, DownloadBaseUrlAndLengthLimit) {
    FileServiceOptions o = Options();
    o.download_base_url = "http://ota.example.com";
    FileService files(store_, blobs_, clock_, o);
    auto url = files.DownloadUrl(kSha, "", kNow);
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->rfind("http://ota.example.com/fw/" + kSha + "?e=", 0), 0u) << *url;

    // A name that would make the URL too long is dropped.
    auto long_name = files.DownloadUrl(kSha, std::string(200, 'n'), kNow);
    ASSERT_TRUE(long_name.ok());
    EXPECT_EQ(long_name->find("nnn"), std::string::npos);
    EXPECT_LT(long_name->size(), 255u);

    files.SetBaseUrls("http://127.0.0.1:9", "http://" + std::string(200, 'h') + ".example");
    EXPECT_FALSE(files.DownloadUrl(kSha, "", kNow).ok());
    EXPECT_FALSE(files.DownloadUrl("not-a-digest", "", kNow).ok());
    files.SetBaseUrls("http://127.0.0.1:9", "");
    EXPECT_EQ(files.download_base_url(), "http://127.0.0.1:9");
}

TEST_F(FileServicePureTest, FormsFromStrangersAreRefusedBeforeTheStore) {
    FileService files(store_, blobs_, clock_, Options());
    domain::PostedForm form;
    form.object_key = "ota/x/y.bin";
    form.policy = "cG9saWN5";
    form.access_key_id = "LTAIsomeoneelse";
    form.signature = "c2ln";
    auto r = files.AcceptUpload(form, {}, kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kAccessKeyNotFound);
    form.access_key_id = files.access_key_id();
    r = files.AcceptUpload(form, {}, kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kSignatureDoesNotMatch);
    EXPECT_EQ(store_.calls, 0);
}

TEST_F(FileServicePureTest, UnknownSuffixIsRefusedBeforeTheStore) {
    FileService files(store_, blobs_, clock_, Options());
    for (std::string_view bad : {"exe", "BIN", ".bin", "tar.bz2"}) {
        auto r = files.GenerateForm({}, domain::FileKind::kFirmware, bad);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidFormattedParameter);
    }
    EXPECT_EQ(store_.calls, 0);
}

TEST(ParseDeviceListTest, SplitsTrimsAndBounds) {
    auto names = domain::ParseDeviceList(
        "\xEF\xBB\xBF"
        "dev1\r\ndev2, dev3 ,\n\n\"dev4\"\t\r\n,dev5",
        10);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"dev1", "dev2", "dev3", "dev4", "dev5"}));
    EXPECT_TRUE(domain::ParseDeviceList("", 10)->empty());
    EXPECT_TRUE(domain::ParseDeviceList(" , \r\n", 10)->empty());
    EXPECT_TRUE(domain::ParseDeviceList("a,b,c", 3).ok());
    auto too_many = domain::ParseDeviceList("a,b,c,d", 3);
    ASSERT_FALSE(too_many.ok());
    EXPECT_EQ(too_many.error().code, ErrorCode::kTooManyTargetDevices);
}

}  // namespace
}  // namespace otad::files
