#include "rpc/dispatcher.hpp"

#include "common/time_format.hpp"
#include "domain/file_service.hpp"
#include "rpc/signature/percent_encode.hpp"
#include "rpc/signature/v1_signature.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace otad::rpc {
namespace {

constexpr int64_t kNow = 1'716'193'800'000;  // 2024-05-20T08:30:00Z

// Blob bytes are not needed by these tests.
class NoBlobs final : public domain::BlobStore {
  public:
    Result<std::string> ReadAll(std::string_view, size_t) override {
        return MakeError(ErrorCode::kFileNotFound);
    }
    Status Remove(std::string_view) override { return Ok(); }
};

// Drives the dispatcher with V1 GET requests. The signer here is the server's own; the
// vendor's vectors are checked in the signature tests and the official SDKs in the compat suite.
class DispatcherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("otad-dispatch-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        storage::sqlite::SqliteOptions options;
        options.path = (dir_ / "otad.db").string();
        options.synchronous_full = false;
        store_ = std::move(storage::sqlite::OpenSqliteStore(options)).value();
        services_ = std::make_unique<domain::Services>(*store_, clock_);
        auto a =
            services_->CreateAccount("a", std::make_pair(std::string("AKa"), std::string("Sa")));
        ASSERT_TRUE(a.ok());
        instance_ = a->instance.instance_id;
        DispatcherOptions options_rpc;
        options_rpc.throttling.per_action_qps["QueryProduct"] = 2;
        domain::FileServiceOptions file_options;
        file_options.upload_base_url = "http://127.0.0.1:8080";
        file_options.secret = std::string(32, 's');
        files_ = std::make_unique<domain::FileService>(*store_, blobs_, clock_, file_options);
        dispatcher_ = std::make_unique<Dispatcher>(*services_, *files_, clock_, options_rpc);
    }
    void TearDown() override {
        dispatcher_.reset();
        files_.reset();
        services_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    HttpResponse Call(const std::string& action,
                      std::vector<Param> params,
                      const std::string& secret = "Sa",
                      const std::string& format = "JSON") {
        params.push_back({"Action", action});
        params.push_back({"Version", "2018-01-20"});
        params.push_back({"AccessKeyId", "AKa"});
        params.push_back({"Format", format});
        params.push_back({"SignatureMethod", "HMAC-SHA1"});
        params.push_back({"SignatureVersion", "1.0"});
        params.push_back({"SignatureNonce", "n" + std::to_string(++nonce_)});
        params.push_back({"Timestamp", FormatUtcSeconds(clock_.NowMs())});
        std::sort(params.begin(), params.end(), [](const Param& x, const Param& y) {
            return x.name < y.name;
        });
        const std::string sig = V1Signature(V1StringToSign("GET", params), secret);
        std::string target = "/?";
        for (const Param& p : params) {
            target += PercentEncode(p.name) + "=" + PercentEncode(p.value) + "&";
        }
        target += "Signature=" + PercentEncode(sig);
        HttpRequest req;
        req.method = "GET";
        req.target = target;
        req.headers.push_back({"Host", "127.0.0.1:8080"});
        return dispatcher_->Handle(req);
    }

    std::filesystem::path dir_;
    ManualClock clock_{kNow};
    std::unique_ptr<domain::Store> store_;
    std::unique_ptr<domain::Services> services_;
    NoBlobs blobs_;
    std::unique_ptr<domain::FileService> files_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::string instance_;
    int nonce_ = 0;
};

bool Contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

TEST_F(DispatcherTest, SuccessCarriesRequestIdAndNoCode) {
    HttpResponse r = Call("CreateProduct", {{"ProductName", "thermo"}, {"NodeType", "0"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "application/json;charset=utf-8");
    EXPECT_TRUE(Contains(r.body, R"("Success":true)")) << r.body;
    EXPECT_FALSE(Contains(r.body, R"("Code")")) << r.body;
    ASSERT_EQ(r.log.request_id.size(), 36u);
    EXPECT_TRUE(Contains(r.body, r.log.request_id));
    ASSERT_FALSE(r.headers.empty());
    EXPECT_EQ(r.headers[0].name, "x-acs-request-id");
}

TEST_F(DispatcherTest, MissingParameterIsAGatewayError) {
    HttpResponse r = Call("ListOTAJobByDevice", {{"ProductKey", "pk"}, {"DeviceName", "dn"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, R"("Code":"MissingFirmwareId")")) << r.body;
    EXPECT_TRUE(Contains(r.body, R"("Message":"FirmwareId is mandatory for this action.")"));
    EXPECT_TRUE(Contains(r.body, R"("HostId":"127.0.0.1:8080")"));
}

TEST_F(DispatcherTest, BusinessErrorsRideOn200) {
    HttpResponse r = Call("QueryProduct", {{"ProductKey", "a1nothere00"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(Contains(r.body, R"("Success":false)"));
    EXPECT_TRUE(Contains(r.body, R"("Code":"iot.prod.NotExistedProduct")")) << r.body;
    EXPECT_TRUE(Contains(r.body, R"("ErrorMessage":)"));
}

TEST_F(DispatcherTest, PageParamsAndInvalidNumbers) {
    HttpResponse r = Call("ListOTAJobByDevice",
                          {{"ProductKey", "pk"},
                           {"DeviceName", "dn"},
                           {"FirmwareId", "fw"},
                           {"CurrentPage", "1"},
                           {"PageSize", "101"}});
    EXPECT_TRUE(Contains(r.body, R"("Code":"iot.common.InvalidPageParams")")) << r.body;
    r = Call("ListOTAJobByDevice",
             {{"ProductKey", "pk"},
              {"DeviceName", "dn"},
              {"FirmwareId", "fw"},
              {"CurrentPage", "x"},
              {"PageSize", "10"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, R"("Code":"InvalidCurrentPage")")) << r.body;
}

TEST_F(DispatcherTest, UnknownActionVersionAndInstance) {
    HttpResponse r = Call("NoSuchAction", {});
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(Contains(r.body, "InvalidAction.NotFound"));
    r = Call("QueryProduct", {{"ProductKey", "x"}, {"IotInstanceId", "iot-unknown"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(Contains(r.body, "iot.system.InstanceNotFound")) << r.body;
    r = Call("QueryProduct", {{"ProductKey", "x"}, {"IotInstanceId", instance_}});
    EXPECT_TRUE(Contains(r.body, "iot.prod.NotExistedProduct")) << r.body;
}

TEST_F(DispatcherTest, WrongSecretIsRejectedWithStringToSign) {
    HttpResponse r = Call("QueryProduct", {{"ProductKey", "x"}}, "wrong");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, "SignatureDoesNotMatch"));
    EXPECT_TRUE(Contains(r.body, "server string to sign is:GET&%2F&"));
}

TEST_F(DispatcherTest, ThrottlingPerAction) {
    EXPECT_EQ(Call("QueryProduct", {{"ProductKey", "x"}}).status, 200);
    EXPECT_EQ(Call("QueryProduct", {{"ProductKey", "x"}}).status, 200);
    HttpResponse r = Call("QueryProduct", {{"ProductKey", "x"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, "Throttling.User"));
    bool retry_after = false;
    for (const auto& h : r.headers) {
        retry_after = retry_after || h.name == "x-acs-retry-after";
    }
    EXPECT_TRUE(retry_after);
    clock_.Advance(1000);
    EXPECT_EQ(Call("QueryProduct", {{"ProductKey", "x"}}).status, 200);
}

// Stand-ins for shared stores (otad's Redis ones), injected through DispatcherOptions.
class ScriptedNonceStore final : public NonceStore {
  public:
    NonceResult Insert(std::string_view, std::string_view, int64_t) override { return result; }
    NonceResult result = NonceResult::kFresh;
};

class ScriptedRateLimiter final : public RateLimiter {
  public:
    int64_t Acquire(int64_t, uint32_t, int64_t qps, int64_t now_ms) override {
        last_qps = qps;
        last_now_ms = now_ms;
        return retry_after_ms;
    }
    int64_t retry_after_ms = 0;
    int64_t last_qps = -1;
    int64_t last_now_ms = 0;
};

TEST_F(DispatcherTest, InjectedNonceStoreAndRateLimiterAreUsed) {
    ScriptedNonceStore nonces;
    ScriptedRateLimiter limiter;
    DispatcherOptions options;
    options.throttling.per_action_qps["QueryProduct"] = 7;
    options.nonce_store = &nonces;
    options.rate_limiter = &limiter;
    dispatcher_ = std::make_unique<Dispatcher>(*services_, *files_, clock_, options);

    HttpResponse r = Call("QueryProduct", {{"ProductKey", "x"}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(limiter.last_qps, 7);
    EXPECT_EQ(limiter.last_now_ms, kNow);

    limiter.retry_after_ms = 250;
    r = Call("QueryProduct", {{"ProductKey", "x"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, "Throttling.User")) << r.body;
    std::string retry_after;
    for (const auto& h : r.headers) {
        if (h.name == "x-acs-retry-after") {
            retry_after = h.value;
        }
    }
    EXPECT_EQ(retry_after, "250");

    // A nonce store that cannot be reached refuses the request (fail closed), like a full one.
    limiter.retry_after_ms = 0;
    for (NonceResult failure : {NonceResult::kUnavailable, NonceResult::kFull}) {
        nonces.result = failure;
        r = Call("QueryProduct", {{"ProductKey", "x"}});
        EXPECT_EQ(r.status, 503);
        EXPECT_TRUE(Contains(r.body, R"("Code":"ServiceUnavailable")")) << r.body;
    }
    nonces.result = NonceResult::kReplayed;
    r = Call("QueryProduct", {{"ProductKey", "x"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, "SignatureNonceUsed")) << r.body;
}

TEST_F(DispatcherTest, XmlFormat) {
    HttpResponse r = Call("QueryProduct", {{"ProductKey", "x"}}, "Sa", "XML");
    EXPECT_EQ(r.content_type, "text/xml;charset=utf-8");
    EXPECT_TRUE(Contains(r.body, "<QueryProductResponse>")) << r.body;
    EXPECT_TRUE(Contains(r.body, "<Code>iot.prod.NotExistedProduct</Code>"));
    r = Call("QueryProduct", {{"ProductKey", "x"}}, "Sa", "YAML");
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(Contains(r.body, "InvalidParameter.Format"));
}

TEST_F(DispatcherTest, HappyPathThroughListOTAJobByDevice) {
    HttpResponse r = Call("CreateProduct", {{"ProductName", "thermo"}, {"NodeType", "0"}});
    const size_t at = r.body.find(R"("ProductKey":")");
    ASSERT_NE(at, std::string::npos);
    const std::string pk = r.body.substr(at + 14, 11);
    ASSERT_EQ(Call("RegisterDevice", {{"ProductKey", pk}, {"DeviceName", "dev-01"}}).status, 200);
    r = Call("CreateOTAFirmware",
             {{"ProductKey", pk},
              {"FirmwareName", "fw1"},
              {"DestVersion", "2.0.0"},
              {"FirmwareUrl", "https://example.com/fw.bin"},
              {"NeedToVerify", "false"}});
    const size_t f = r.body.find(R"("FirmwareId":")");
    ASSERT_NE(f, std::string::npos) << r.body;
    const std::string fw = r.body.substr(f + 14, 26);
    r = Call("CreateOTAStaticUpgradeJob",
             {{"ProductKey", pk},
              {"FirmwareId", fw},
              {"TargetSelection", "SPECIFIC"},
              {"TargetDeviceName.1", "dev-01"},
              {"Tag.1.Key", "env"},
              {"Tag.1.Value", "prod"}});
    ASSERT_TRUE(Contains(r.body, R"("JobId":")")) << r.body;
    r = Call("ListOTAJobByDevice",
             {{"ProductKey", pk},
              {"DeviceName", "dev-01"},
              {"FirmwareId", fw},
              {"CurrentPage", "1"},
              {"PageSize", "10"}});
    EXPECT_TRUE(Contains(r.body, R"("CurrentPage":1,"PageSize":10,"PageCount":1,"Total":1)"))
        << r.body;
    EXPECT_TRUE(Contains(r.body, R"("Tags":{"OtaTagDTO":[{"Key":"env","Value":"prod"}]})"));
    EXPECT_TRUE(Contains(r.body, R"("UtcCreate":"2024-05-20T08:30:00.000Z")"));
    EXPECT_FALSE(Contains(r.body, "UtcEndTime"));
}

}  // namespace
}  // namespace otad::rpc
