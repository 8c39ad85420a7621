// The whole path of a firmware file through real components in one process: an SDK-style
// signed GenerateOTAUploadURL call, an OSS PostObject upload of the file to the returned form,
// and device downloads by byte ranges from a signed URL, all over HTTP on a free port.

#include "common/clock.hpp"
#include "common/time_format.hpp"
#include "domain/file_service.hpp"
#include "domain/services.hpp"
#include "files/blob_store.hpp"
#include "files/download_handler.hpp"
#include "files/upload_handler.hpp"
#include "http/server.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/signature/percent_encode.hpp"
#include "rpc/signature/v1_signature.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace otad::integration {
namespace {

constexpr std::string_view kAccessKeyId = "AKfiles";
constexpr std::string_view kSecret = "SecretForFiles";

class FirmwareUploadTest : public ::testing::Test {
  protected:
    void SetUp() override {
        storage::sqlite::SqliteOptions sqlite;
        sqlite.path = dir_.Sub("otad.db");
        sqlite.synchronous_full = false;
        store_ = std::move(storage::sqlite::OpenSqliteStore(sqlite)).value();
        services_ = std::make_unique<domain::Services>(*store_, clock_);
        ASSERT_TRUE(
            services_
                ->CreateAccount("files",
                                std::make_pair(std::string(kAccessKeyId), std::string(kSecret)))
                .ok());
        blobs_ =
            std::move(files::DiskBlobStore::Open(dir_.Sub("files/blobs"), dir_.Sub("files/spool")))
                .value();
        domain::FileServiceOptions options;
        options.secret = crypto::RandomBytes(32);
        files_ = std::make_unique<domain::FileService>(*store_, *blobs_, clock_, options);
        dispatcher_ = std::make_unique<rpc::Dispatcher>(
            *services_, *files_, clock_, rpc::DispatcherOptions{});
        uploads_ = std::make_unique<files::UploadHandler>(*files_, *blobs_, clock_);
        downloads_ = std::make_unique<files::DownloadHandler>(*files_, *blobs_, clock_);

        http::ServerOptions http;
        http.spool_dir = dir_.Sub("files/spool");
        http.is_upload = &files::UploadHandler::IsUpload;
        http.max_upload_bytes = 8 * 1024 * 1024;
        server_ = std::make_unique<http::Server>(http, [this](HttpRequest&& req) {
            if (files::UploadHandler::IsUpload(req)) {
                return uploads_->Handle(req);
            }
            if (files::DownloadHandler::IsDownload(req)) {
                return downloads_->Handle(req);
            }
            if (Status st = http::LoadSpooledBody(req, 8 * 1024 * 1024); !st.ok()) {
                HttpResponse failed;
                failed.status = 500;
                return failed;
            }
            return dispatcher_->Handle(req);
        });
        auto port = server_->Start();
        ASSERT_TRUE(port.ok());
        port_ = *port;
        base_ = "http://127.0.0.1:" + std::to_string(port_);
        files_->SetBaseUrls(base_, base_);
    }

    void TearDown() override {
        if (server_) {
            server_->Stop();
        }
    }

    /// A V1-signed RPC call over HTTP, as the SDKs send it; returns the parsed JSON body.
    nlohmann::json Call(const std::string& action, std::vector<rpc::Param> params = {}) {
        params.push_back({"Action", action});
        params.push_back({"Version", "2018-01-20"});
        params.push_back({"AccessKeyId", std::string(kAccessKeyId)});
        params.push_back({"Format", "JSON"});
        params.push_back({"SignatureMethod", "HMAC-SHA1"});
        params.push_back({"SignatureVersion", "1.0"});
        params.push_back({"SignatureNonce", crypto::RandomUuidUpper()});
        params.push_back({"Timestamp", FormatUtcSeconds(clock_.NowMs())});
        std::sort(params.begin(), params.end(), [](const rpc::Param& a, const rpc::Param& b) {
            return a.name < b.name;
        });
        const std::string signature =
            rpc::V1Signature(rpc::V1StringToSign("POST", params), kSecret);
        std::string body;
        for (const rpc::Param& p : params) {
            body += rpc::PercentEncode(p.name) + "=" + rpc::PercentEncode(p.value) + "&";
        }
        body += "Signature=" + rpc::PercentEncode(signature);
        HttpClient client(port_);
        auto response = client.Exchange(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
        EXPECT_TRUE(response);
        if (!response) {
            return {};
        }
        EXPECT_EQ(response->status, 200) << response->body;
        return nlohmann::json::parse(response->body);
    }

    /// Posts a PostObject form to `host`; the body goes out in one piece.
    std::optional<ClientResponse> PostObject(
        const std::string& host,
        const std::vector<std::pair<std::string, std::string>>& fields,
        const std::string& content) {
        EXPECT_EQ(host, base_);
        const std::string boundary = "9431149156168";
        const std::string body = MultipartBody(boundary, fields, "firmware.bin", content);
        HttpClient client(port_);
        return client.Exchange(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: aliyun-sdk\r\n"
            "Content-Type: multipart/form-data; boundary=" +
            boundary + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    }

    std::string PathAndQuery(const std::string& url) { return url.substr(base_.size()); }

    TempDir dir_;
    const Clock& clock_ = SystemClock::Instance();
    std::unique_ptr<domain::Store> store_;
    std::unique_ptr<domain::Services> services_;
    std::unique_ptr<files::DiskBlobStore> blobs_;
    std::unique_ptr<domain::FileService> files_;
    std::unique_ptr<rpc::Dispatcher> dispatcher_;
    std::unique_ptr<files::UploadHandler> uploads_;
    std::unique_ptr<files::DownloadHandler> downloads_;
    std::unique_ptr<http::Server> server_;
    uint16_t port_ = 0;
    std::string base_;
};

TEST_F(FirmwareUploadTest, UploadThroughTheFormThenDownloadByRanges) {
    const nlohmann::json form = Call("GenerateOTAUploadURL", {{"FileSuffix", "bin"}});
    ASSERT_EQ(form["Success"], true) << form.dump();
    const nlohmann::json& data = form["Data"];
    for (const char* field : {"FirmwareUrl",
                              "Host",
                              "Key",
                              "OSSAccessKeyId",
                              "ObjectStorage",
                              "Policy",
                              "Signature",
                              "UtcCreate"}) {
        EXPECT_TRUE(data.contains(field)) << field;
    }
    EXPECT_EQ(data["ObjectStorage"], "OSS");
    EXPECT_EQ(data["Host"], base_);
    EXPECT_EQ(data["FirmwareUrl"], base_ + "/" + data["Key"].get<std::string>());

    // 3 MB of content that differs at every position.
    std::string content(3 * 1024 * 1024, '\0');
    for (size_t i = 0; i < content.size(); ++i) {
        content[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
    }
    const std::vector<std::pair<std::string, std::string>> fields = {
        {"key", data["Key"]},
        {"policy", data["Policy"]},
        {"OSSAccessKeyId", data["OSSAccessKeyId"]},
        {"signature", data["Signature"]},
        {"success_action_status", "200"},
    };
    // A tampered signature is refused and nothing is stored.
    auto tampered = fields;
    tampered[3].second = "AAAA" + tampered[3].second.substr(4);
    auto refused = PostObject(data["Host"], tampered, content);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403);
    EXPECT_NE(refused->body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos);

    auto uploaded = PostObject(data["Host"], fields, content);
    ASSERT_TRUE(uploaded);
    EXPECT_EQ(uploaded->status, 200) << uploaded->body;
    std::string md5_upper = Md5Hex(content);
    std::transform(md5_upper.begin(), md5_upper.end(), md5_upper.begin(), ::toupper);
    EXPECT_EQ(uploaded->Header("ETag"), "\"" + md5_upper + "\"");
    EXPECT_EQ(*blobs_->Size(Sha256Hex(content)), content.size());
    // The spool and staging files are gone.
    EXPECT_TRUE(std::filesystem::is_empty(dir_.Sub("files/spool")));

    // The object URL now names the upload, with its digests.
    std::optional<domain::StoredFile> stored;
    ASSERT_TRUE(store_
                    ->Read([&](domain::ReadTx& tx) -> Status {
                        auto account = tx.FindAccountByAccessKey(kAccessKeyId);
                        auto instance = tx.FindDefaultInstance((*account)->id);
                        const domain::Scope scope{(*account)->id, (*instance)->id};
                        OTA_ASSIGN_OR_RETURN(
                            stored,
                            files_->ResolveUrl(tx, scope, data["FirmwareUrl"].get<std::string>()));
                        return Ok();
                    })
                    .ok());
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->size, static_cast<int64_t>(content.size()));
    EXPECT_EQ(stored->md5, Md5Hex(content));

    // A device downloads it by ranges, the way the Link SDK resumes.
    auto url = files_->DownloadUrl(stored->sha256, "firmware.bin", clock_.NowMs() + 3'600'000);
    ASSERT_TRUE(url.ok());
    EXPECT_LT(url->size(), 255u);
    const std::string target = PathAndQuery(*url);
    HttpClient device(port_);
    auto get = [&](const std::string& range, const std::string& method = "GET") {
        return device.Exchange(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                   (range.empty() ? "" : "Range: " + range + "\r\n") +
                                   "Content-Length: 0\r\n\r\n",
                               method == "HEAD");
    };
    auto whole = get("");
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->status, 200);
    EXPECT_EQ(whole->Header("Accept-Ranges"), "bytes");
    EXPECT_EQ(whole->Header("Transfer-Encoding"), "");
    EXPECT_TRUE(whole->body == content);

    std::string assembled;
    const size_t step = 1'000'000;
    for (size_t first = 0; first < content.size(); first += step) {
        const size_t last = std::min(first + step, content.size()) - 1;
        auto part = get("bytes=" + std::to_string(first) + "-" +
                        (last + 1 == content.size() ? "" : std::to_string(last)));
        ASSERT_TRUE(part);
        EXPECT_EQ(part->status, 206);
        EXPECT_EQ(part->Header("Content-Range"),
                  "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                      std::to_string(content.size()));
        assembled += part->body;
    }
    EXPECT_TRUE(assembled == content);

    auto tail = get("bytes=-100");
    ASSERT_TRUE(tail);
    EXPECT_EQ(tail->status, 206);
    EXPECT_TRUE(tail->body == content.substr(content.size() - 100));

    auto head = get("bytes=0-", "HEAD");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 206);
    EXPECT_EQ(head->Header("Content-Length"), std::to_string(content.size()));

    auto beyond = get("bytes=" + std::to_string(content.size()) + "-");
    ASSERT_TRUE(beyond);
    EXPECT_EQ(beyond->status, 416);
    EXPECT_EQ(beyond->Header("Content-Range"), "bytes */" + std::to_string(content.size()));

    // The same connection still works after the error.
    auto again = get("bytes=0-9");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 206);
    EXPECT_EQ(again->body, content.substr(0, 10));

    // A forged signature or an expired URL is refused.
    std::string forged = target;
    forged.back() = forged.back() == 'a' ? 'b' : 'a';
    auto forbidden = device.Exchange("GET " + forged + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(forbidden);
    EXPECT_EQ(forbidden->status, 403);
    auto expired_url = files_->DownloadUrl(stored->sha256, "firmware.bin", clock_.NowMs() - 2000);
    auto expired =
        device.Exchange("GET " + PathAndQuery(*expired_url) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(expired);
    EXPECT_EQ(expired->status, 403);
}

TEST_F(FirmwareUploadTest, DeviceListUploadAnswers201WithXml) {
    const nlohmann::json form = Call("GenerateDeviceNameListURL");
    ASSERT_EQ(form["Success"], true) << form.dump();
    const nlohmann::json& data = form["Data"];
    EXPECT_TRUE(data.contains("AccessKeyId"));
    EXPECT_FALSE(data.contains("OSSAccessKeyId"));
    EXPECT_TRUE(data["Key"].get<std::string>().ends_with(".csv"));
    EXPECT_EQ(data["FileUrl"], base_ + "/" + data["Key"].get<std::string>());

    auto uploaded = PostObject(data["Host"],
                               {{"key", data["Key"]},
                                {"policy", data["Policy"]},
                                {"OSSAccessKeyId", data["AccessKeyId"]},
                                {"Signature", data["Signature"]},
                                {"success_action_status", "201"}},
                               "dev1\ndev2,dev3\n");
    ASSERT_TRUE(uploaded);
    EXPECT_EQ(uploaded->status, 201) << uploaded->body;
    EXPECT_NE(uploaded->body.find("<Key>" + data["Key"].get<std::string>() + "</Key>"),
              std::string::npos);

    // Without success_action_status OSS answers 204.
    auto again = PostObject(data["Host"],
                            {{"key", data["Key"]},
                             {"policy", data["Policy"]},
                             {"OSSAccessKeyId", data["AccessKeyId"]},
                             {"Signature", data["Signature"]}},
                            "dev4");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 204);

    // An unknown suffix is a business error.
    const nlohmann::json bad = Call("GenerateOTAUploadURL", {{"FileSuffix", "exe"}});
    EXPECT_EQ(bad["Success"], false);
}

}  // namespace
}  // namespace otad::integration
