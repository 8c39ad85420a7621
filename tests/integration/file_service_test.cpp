// FileService on the real SQLite store and the real blob store.

#include "domain/file_service.hpp"

#include "common/crypto.hpp"
#include "domain/services.hpp"
#include "files/blob_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace otad::integration {
namespace {

using domain::FileKind;
using domain::FileService;
using domain::StoredFile;

constexpr int64_t kNow = 1'716'193'800'000;  // 2024-05-20T08:30:00Z
constexpr std::string_view kBase = "http://127.0.0.1:8080";

class FileServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        storage::sqlite::SqliteOptions options;
        options.path = dir_.Sub("otad.db");
        options.synchronous_full = false;
        store_ = std::move(storage::sqlite::OpenSqliteStore(options)).value();
        services_ = std::make_unique<domain::Services>(*store_, clock_);
        scope_ = Scope("a");
        other_scope_ = Scope("b");
        blobs_ =
            std::move(files::DiskBlobStore::Open(dir_.Sub("blobs"), dir_.Sub("spool"))).value();
        domain::FileServiceOptions o;
        o.upload_base_url = std::string(kBase);
        o.download_base_url = "http://ota.example.com";
        o.secret = crypto::RandomBytes(32);
        o.max_device_list_bytes = 1000;
        o.max_device_names = 5;
        files_ = std::make_unique<FileService>(*store_, *blobs_, clock_, o);
    }

    domain::Scope Scope(const std::string& name) {
        auto a = services_->CreateAccount(name);
        EXPECT_TRUE(a.ok());
        return domain::Scope{a->account.id, a->instance.id};
    }

    domain::PostedForm Posted(const domain::UploadForm& form) {
        return domain::PostedForm{
            form.file.object_key, form.policy, form.signature, form.access_key_id};
    }

    /// Uploads `content` through the form as the handler would: blob first, then the record.
    Result<domain::AcceptedUpload> Upload(const domain::UploadForm& form,
                                          const std::string& content) {
        const domain::UploadedContent c{
            static_cast<int64_t>(content.size()), Md5Hex(content), Sha256Hex(content)};
        return files_->AcceptUpload(Posted(form), c, clock_.NowMs(), [&]() -> Status {
            OTA_ASSIGN_OR_RETURN(const std::string sha, blobs_->Put(content));
            (void)sha;
            return Ok();
        });
    }

    std::optional<StoredFile> Find(const domain::Scope& scope, const std::string& key) {
        std::optional<StoredFile> out;
        EXPECT_TRUE(store_
                        ->Read([&](domain::ReadTx& tx) -> Status {
                            OTA_ASSIGN_OR_RETURN(out, tx.FindFile(scope, key));
                            return Ok();
                        })
                        .ok());
        return out;
    }

    Result<std::optional<StoredFile>> Resolve(const domain::Scope& scope, const std::string& url) {
        std::optional<Result<std::optional<StoredFile>>> out;
        Status st = store_->Read([&](domain::ReadTx& tx) -> Status {
            out.emplace(files_->ResolveUrl(tx, scope, url));
            return Ok();
        });
        EXPECT_TRUE(st.ok());
        return std::move(*out);
    }

    void MarkReferenced(const domain::Scope& scope, const std::string& key) {
        ASSERT_TRUE(store_
                        ->Write([&](domain::WriteTx& tx) -> Status {
                            OTA_ASSIGN_OR_RETURN(auto file, tx.FindFile(scope, key));
                            file->referenced = true;
                            return tx.UpdateFile(scope, *file);
                        })
                        .ok());
    }

    TempDir dir_;
    ManualClock clock_{kNow};
    std::unique_ptr<domain::Store> store_;
    std::unique_ptr<domain::Services> services_;
    std::unique_ptr<files::DiskBlobStore> blobs_;
    std::unique_ptr<FileService> files_;
    domain::Scope scope_;
    domain::Scope other_scope_;
};

TEST_F(FileServiceTest, FormHasTheShapeOfAnOssPostPolicy) {
    auto form = files_->GenerateForm(scope_, FileKind::kFirmware, "tar.gz");
    ASSERT_TRUE(form.ok()) << form.error().message;
    const StoredFile& file = form->file;
    EXPECT_EQ(file.object_key.rfind("ota/", 0), 0u);
    EXPECT_EQ(file.object_key.size(), 4 + 20 + 1 + 16 + 7u) << file.object_key;
    EXPECT_TRUE(file.object_key.ends_with(".tar.gz"));
    EXPECT_EQ(form->host, kBase);
    EXPECT_EQ(form->object_url, std::string(kBase) + "/" + file.object_key);
    EXPECT_EQ(file.created_ms, kNow);
    EXPECT_EQ(file.upload_deadline_ms, kNow + 60'000);
    EXPECT_EQ(form->access_key_id, files_->access_key_id());

    const auto policy = crypto::Base64Decode(form->policy);
    ASSERT_TRUE(policy);
    const auto json = nlohmann::json::parse(*policy);
    EXPECT_EQ(json["expiration"], "2024-05-20T08:31:00.000Z");
    EXPECT_EQ(json["conditions"][0],
              nlohmann::json::parse(R"(["content-length-range",0,1048576000])"));
    EXPECT_EQ(json["conditions"][1][0], "eq");
    EXPECT_EQ(json["conditions"][1][1], "$key");
    EXPECT_EQ(json["conditions"][1][2], file.object_key);
    EXPECT_TRUE(crypto::Base64Decode(form->signature).has_value());
    EXPECT_EQ(crypto::Base64Decode(form->signature)->size(), 20u);  // HMAC-SHA1

    auto stored = Find(scope_, file.object_key);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->uploaded_ms, 0);
    EXPECT_FALSE(Find(other_scope_, file.object_key));

    auto list = files_->GenerateForm(scope_, FileKind::kDeviceList, "bin");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list->file.object_key.ends_with(".csv"));
    const auto list_policy = nlohmann::json::parse(*crypto::Base64Decode(list->policy));
    EXPECT_EQ(list_policy["conditions"][0][2], 1000);

    auto plain = files_->GenerateForm(scope_, FileKind::kFirmware, "");
    ASSERT_TRUE(plain.ok());
    EXPECT_TRUE(plain->file.object_key.ends_with(".bin"));
}

TEST_F(FileServiceTest, UploadIsRecordedAndResolvable) {
    auto form = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(form.ok());
    clock_.Advance(59'000);
    auto accepted = Upload(*form, "firmware v1");
    ASSERT_TRUE(accepted.ok()) << accepted.error().message;
    EXPECT_EQ(accepted->scope.instance_id, scope_.instance_id);
    EXPECT_EQ(accepted->file.size, 11);
    EXPECT_EQ(accepted->file.md5, Md5Hex("firmware v1"));
    EXPECT_EQ(accepted->file.sha256, Sha256Hex("firmware v1"));
    EXPECT_EQ(accepted->file.uploaded_ms, kNow + 59'000);

    // The object URL resolves, with or without a query, and through the download base too.
    for (const std::string& url : {form->object_url,
                                   form->object_url + "?Expires=1&OSSAccessKeyId=x",
                                   "http://ota.example.com/" + form->file.object_key}) {
        auto resolved = Resolve(scope_, url);
        ASSERT_TRUE(resolved.ok()) << url;
        ASSERT_TRUE(resolved->has_value()) << url;
        EXPECT_EQ((*resolved)->sha256, Sha256Hex("firmware v1"));
    }
    // Foreign URLs are not ours to judge.
    for (const std::string& url :
         {std::string("https://bucket.oss-cn-shanghai.aliyuncs.com/") + form->file.object_key,
          std::string(kBase),
          std::string(kBase) + "/",
          std::string("http://127.0.0.1:80800/x")}) {
        auto resolved = Resolve(scope_, url);
        ASSERT_TRUE(resolved.ok()) << url;
        EXPECT_FALSE(resolved->has_value()) << url;
    }
    // Ours, but not this tenant's, or unknown.
    EXPECT_EQ(Resolve(other_scope_, form->object_url).error().code, ErrorCode::kFileNotFound);
    EXPECT_EQ(Resolve(scope_, std::string(kBase) + "/ota/nothing/here.bin").error().code,
              ErrorCode::kFileNotFound);
}

TEST_F(FileServiceTest, FormsAreCheckedBeforeAnythingIsStored) {
    auto form = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    auto other = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(form.ok() && other.ok());
    auto expect_error = [&](domain::PostedForm posted, int64_t size, ErrorCode code) {
        bool stored = false;
        auto r = files_->AcceptUpload(
            posted, {size, Md5Hex("x"), Sha256Hex("x")}, clock_.NowMs(), [&]() -> Status {
                stored = true;
                return Ok();
            });
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, code);
        EXPECT_FALSE(stored);
    };
    // Another form's key under this form's policy and signature.
    domain::PostedForm swapped = Posted(*form);
    swapped.object_key = other->file.object_key;
    expect_error(swapped, 1, ErrorCode::kInvalidFormattedParameter);
    // A key that does not exist.
    domain::PostedForm unknown = Posted(*form);
    unknown.object_key = "ota/unknown/key.bin";
    expect_error(unknown, 1, ErrorCode::kFileNotFound);
    // Too large.
    expect_error(Posted(*form), int64_t{1000} * 1024 * 1024 + 1, ErrorCode::kInvalidParameter);
    // Too late.
    clock_.Advance(60'001);
    expect_error(Posted(*form), 1, ErrorCode::kTimestampExpired);
    EXPECT_EQ(Find(scope_, form->file.object_key)->uploaded_ms, 0);
    // Not uploaded: not resolvable.
    EXPECT_EQ(Resolve(scope_, form->object_url).error().code, ErrorCode::kFileNotFound);
}

TEST_F(FileServiceTest, SecondUploadReplacesTheFirstUntilTheFileIsUsed) {
    auto form = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(form.ok());
    ASSERT_TRUE(Upload(*form, "first").ok());
    ASSERT_TRUE(Upload(*form, "second").ok());
    EXPECT_EQ(Find(scope_, form->file.object_key)->sha256, Sha256Hex("second"));
    // The replaced content had no other user, so its blob is gone.
    EXPECT_EQ(blobs_->Size(Sha256Hex("first")).error().code, ErrorCode::kFileNotFound);
    EXPECT_TRUE(blobs_->Size(Sha256Hex("second")).ok());

    MarkReferenced(scope_, form->file.object_key);
    auto r = Upload(*form, "third");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(Find(scope_, form->file.object_key)->sha256, Sha256Hex("second"));
    // The refused content's blob is not left behind (it was never stored).
    EXPECT_EQ(blobs_->Size(Sha256Hex("third")).error().code, ErrorCode::kFileNotFound);
}

TEST_F(FileServiceTest, UnreferencedUploadsExpireAndAreCollected) {
    auto used = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    auto unused = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    auto twin = files_->GenerateForm(other_scope_, FileKind::kFirmware, "bin");
    auto lonely = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    auto never = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(used.ok() && unused.ok() && twin.ok() && lonely.ok() && never.ok());
    ASSERT_TRUE(Upload(*used, "shared content").ok());
    ASSERT_TRUE(Upload(*unused, "shared content").ok());
    ASSERT_TRUE(Upload(*twin, "twin content").ok());
    ASSERT_TRUE(Upload(*lonely, "lonely content").ok());
    MarkReferenced(scope_, used->file.object_key);
    MarkReferenced(other_scope_, twin->file.object_key);

    // Nothing has expired yet.
    auto collected = files_->CollectExpired(clock_.NowMs() + 30 * 60'000);
    ASSERT_TRUE(collected.ok());
    EXPECT_EQ(*collected, 0);

    // Uploads expire an hour after they arrived, forms an hour after their validity ended.
    clock_.Advance(60 * 60'000 + 1);
    EXPECT_EQ(Resolve(scope_, unused->object_url).error().code, ErrorCode::kFileNotFound);
    collected = files_->CollectExpired(clock_.NowMs());
    ASSERT_TRUE(collected.ok());
    EXPECT_EQ(*collected, 2);  // unused, lonely
    clock_.Advance(60'000);
    EXPECT_EQ(Resolve(scope_, unused->object_url).error().code, ErrorCode::kFileNotFound);
    EXPECT_TRUE(Resolve(scope_, used->object_url).ok());

    collected = files_->CollectExpired(clock_.NowMs());
    ASSERT_TRUE(collected.ok());
    EXPECT_EQ(*collected, 1);  // never
    EXPECT_TRUE(Find(scope_, used->file.object_key));
    EXPECT_FALSE(Find(scope_, unused->file.object_key));
    EXPECT_FALSE(Find(scope_, lonely->file.object_key));
    EXPECT_FALSE(Find(scope_, never->file.object_key));
    EXPECT_TRUE(Find(other_scope_, twin->file.object_key));
    // A blob stays while any record uses it.
    EXPECT_TRUE(blobs_->Size(Sha256Hex("shared content")).ok());
    EXPECT_TRUE(blobs_->Size(Sha256Hex("twin content")).ok());
    EXPECT_EQ(blobs_->Size(Sha256Hex("lonely content")).error().code, ErrorCode::kFileNotFound);

    collected = files_->CollectExpired(clock_.NowMs());
    ASSERT_TRUE(collected.ok());
    EXPECT_EQ(*collected, 0);
}

TEST_F(FileServiceTest, CollectingManyRecordsTakesSeveralBatches) {
    for (int i = 0; i < 1200; ++i) {
        ASSERT_TRUE(files_->GenerateForm(scope_, FileKind::kFirmware, "bin").ok());
    }
    clock_.Advance(2 * 60 * 60'000);
    auto collected = files_->CollectExpired(clock_.NowMs());
    ASSERT_TRUE(collected.ok());
    EXPECT_EQ(*collected, 1200);
}

TEST_F(FileServiceTest, DeviceListsAreReadFromTheirUpload) {
    auto form = files_->GenerateForm(scope_, FileKind::kDeviceList, "");
    ASSERT_TRUE(form.ok());
    ASSERT_TRUE(Upload(*form, "dev1\r\ndev2,dev3\n").ok());
    auto names = files_->ReadDeviceList(scope_, form->object_url);
    ASSERT_TRUE(names.ok()) << names.error().message;
    EXPECT_EQ(*names, (std::vector<std::string>{"dev1", "dev2", "dev3"}));

    EXPECT_EQ(files_->ReadDeviceList(other_scope_, form->object_url).error().code,
              ErrorCode::kFileNotFound);
    EXPECT_EQ(files_->ReadDeviceList(scope_, "https://elsewhere.example/list.csv").error().code,
              ErrorCode::kFileNotFound);

    // A firmware file is not a device list.
    auto firmware = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(Upload(*firmware, "dev9").ok());
    EXPECT_EQ(files_->ReadDeviceList(scope_, firmware->object_url).error().code,
              ErrorCode::kFileNotFound);

    auto many = files_->GenerateForm(scope_, FileKind::kDeviceList, "");
    ASSERT_TRUE(Upload(*many, "a,b,c,d,e,f").ok());
    EXPECT_EQ(files_->ReadDeviceList(scope_, many->object_url).error().code,
              ErrorCode::kTooManyTargetDevices);

    auto large = files_->GenerateForm(scope_, FileKind::kDeviceList, "");
    auto too_large = Upload(*large, std::string(1001, 'x'));
    ASSERT_FALSE(too_large.ok());
    EXPECT_EQ(too_large.error().code, ErrorCode::kInvalidParameter);
}

TEST_F(FileServiceTest, DownloadUrlsByObjectKeyLookTheFileUp) {
    auto form = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(form.ok());
    auto url = files_->DownloadUrl(form->file.object_key, "ignored", kNow + 600'000);
    ASSERT_TRUE(url.ok());
    ASSERT_EQ(url->rfind("http://ota.example.com/fw/" + form->file.object_key + "?e=", 0), 0u)
        << *url;
    const std::string path = url->substr(22, url->find('?') - 22);
    const std::string query = url->substr(url->find('?') + 1);
    const std::string e = query.substr(2, query.find('&') - 2);
    const std::string s = query.substr(query.find("&s=") + 3);

    // Not uploaded yet.
    EXPECT_EQ(files_->VerifyDownload(path, e, s, kNow).error().code, ErrorCode::kFileNotFound);
    ASSERT_TRUE(Upload(*form, "image").ok());
    auto target = files_->VerifyDownload(path, e, s, kNow);
    ASSERT_TRUE(target.ok()) << target.error().message;
    EXPECT_EQ(target->sha256, Sha256Hex("image"));
    EXPECT_EQ(target->size, 5);
    EXPECT_EQ(target->file_name,
              form->file.object_key.substr(form->file.object_key.rfind('/') + 1));
}

TEST_F(FileServiceTest, PackageFilesAreFoundByKeyAfterTheAddressChanged) {
    auto form = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(form.ok());
    ASSERT_TRUE(Upload(*form, "firmware bytes").ok());
    const std::string key = form->file.object_key;
    auto find = [&](const domain::Scope& scope, const std::string& url) {
        std::optional<StoredFile> out;
        EXPECT_TRUE(store_
                        ->Read([&](domain::ReadTx& tx) -> Status {
                            OTA_ASSIGN_OR_RETURN(out, files_->FindPackageFile(tx, scope, url));
                            return Ok();
                        })
                        .ok());
        return out;
    };
    // The base the package was created with, and one otad no longer serves.
    EXPECT_TRUE(find(scope_, form->object_url).has_value());
    auto moved = find(scope_, "http://10.1.2.3:9999/" + key + "?x=1");
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->sha256, Sha256Hex("firmware bytes"));
    // Another tenant's key, files hosted elsewhere, and a key never uploaded: nothing.
    EXPECT_FALSE(find(other_scope_, "http://10.1.2.3:9999/" + key).has_value());
    EXPECT_FALSE(find(scope_, "https://cdn.example.com/ota/fw.bin").has_value());
    EXPECT_FALSE(find(scope_, "https://cdn.example.com/firmware/fw.bin").has_value());
    auto unused = files_->GenerateForm(scope_, FileKind::kFirmware, "bin");
    ASSERT_TRUE(unused.ok());
    EXPECT_FALSE(find(scope_, unused->object_url).has_value());
}

}  // namespace
}  // namespace otad::integration
