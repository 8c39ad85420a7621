#include "storage/migrate/copy_to_postgres.hpp"

#include "common/testing/temp_dir.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrate.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdlib.h>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

namespace otad::storage::migrate {
namespace {

using domain::Account;
using domain::BatchRegistration;
using domain::Device;
using domain::Firmware;
using domain::Group;
using domain::Instance;
using domain::Job;
using domain::Module;
using domain::ModuleVersion;
using domain::Product;
using domain::ReadTx;
using domain::Scope;
using domain::StoredFile;
using domain::Task;
using domain::TaskStatus;
using domain::WriteTx;
using test_support::TempDir;

constexpr const char* kServerVariable = "OTAD_TEST_POSTGRES";
constexpr int64_t kT0 = 1'700'000'000'000;

std::string Describe(const Error& error) {
    return std::string(ErrorCodeName(error.code)) + " message=" + error.message +
           " internal=" + error.internal;
}

template <typename T>
std::string Describe(const Result<T>& result) {
    return result.ok() ? std::string("ok") : Describe(result.error());
}

#define MIGRATE_ASSERT_OK(expr)                                         \
    do {                                                                \
        const auto& migrate_result_ = (expr);                           \
        ASSERT_TRUE(migrate_result_.ok()) << Describe(migrate_result_); \
    } while (false)

// Text that COPY's format must escape, and the text of its NULL marker.
const std::vector<std::string> kAwkwardText = {
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "",
    "'quote\"",
    "ü中文",
    "\\.",
};

// Every field of every record, one line each, so that two databases compare as two strings.
class Dumper {
  public:
    explicit Dumper(std::ostringstream& out) : out_(out) {}

    template <typename... Fields>
    void Line(const char* kind, const Fields&... fields) {
        out_ << kind;
        ((out_ << " |" << Show(fields)), ...);
        out_ << "\n";
    }

  private:
    static std::string Show(const std::string& s) { return "'" + s + "'"; }
    static std::string Show(const char* s) { return s; }
    static std::string Show(int64_t v) { return std::to_string(v); }
    static std::string Show(int v) { return std::to_string(v); }
    static std::string Show(bool v) { return v ? "true" : "false"; }
    static std::string Show(const std::optional<int>& v) {
        return v ? std::to_string(*v) : std::string("null");
    }
    template <typename E>
    static std::string Show(E e) requires std::is_enum_v<E> {
        return std::to_string(static_cast<int>(e));
    }
    static std::string Show(const std::vector<std::string>& v) {
        std::string s = "[";
        for (const std::string& item : v) {
            s += Show(item) + ",";
        }
        return s + "]";
    }

    std::ostringstream& out_;
};

// What the dump cannot list by itself (ReadTx has no list of these).
struct Known {
    std::vector<std::string> instance_ids;
    std::vector<std::pair<std::string, int64_t>> registrations;  // product key, apply id
    std::vector<std::string> object_keys;
};

void DumpScope(ReadTx& tx, const Scope& scope, const Known& known, Dumper& d) {
    std::vector<int64_t> counts;
    auto products = tx.ListProducts(scope, 0, 1000, counts);
    ASSERT_TRUE(products.ok()) << Describe(products);
    for (const Product& p : products->items) {
        d.Line("product",
               p.product_key,
               p.product_name,
               p.product_secret,
               p.description,
               p.node_type,
               p.data_format,
               p.aliyun_commodity_code,
               p.auth_type,
               p.protocol_type,
               p.net_type,
               p.id2,
               p.category_key,
               p.validate_type,
               p.publish_auto,
               p.product_status,
               p.created_ms);
        auto devices = tx.ListDevices(scope, p.product_key, 0, 1000);
        ASSERT_TRUE(devices.ok()) << Describe(devices);
        for (const Device& v : devices->items) {
            d.Line("device",
                   v.iot_id,
                   v.product_key,
                   v.device_name,
                   v.device_secret,
                   v.nickname,
                   v.status,
                   v.firmware_version,
                   v.ip_address,
                   v.created_ms,
                   v.modified_ms,
                   v.active_ms,
                   v.online_ms);
            auto versions = tx.ListModuleVersions(scope, v.iot_id, 0, 1000);
            ASSERT_TRUE(versions.ok()) << Describe(versions);
            for (const ModuleVersion& m : versions->items) {
                d.Line("module_version",
                       m.iot_id,
                       m.product_key,
                       m.device_name,
                       m.module_name,
                       m.version,
                       m.modified_ms);
            }
        }
        auto modules = tx.ListModules(scope, p.product_key);
        ASSERT_TRUE(modules.ok()) << Describe(modules);
        for (const Module& m : *modules) {
            d.Line("module",
                   m.product_key,
                   m.module_name,
                   m.alias_name,
                   m.desc,
                   m.created_ms,
                   m.modified_ms);
        }
    }
    auto firmware = tx.ListFirmware(scope, "", "", 0, 1000);
    ASSERT_TRUE(firmware.ok()) << Describe(firmware);
    for (const Firmware& f : firmware->items) {
        d.Line("firmware",
               f.firmware_id,
               f.firmware_name,
               f.firmware_desc,
               f.product_key,
               f.module_name,
               f.dest_version,
               f.src_version,
               f.type,
               f.sign_method,
               f.firmware_sign,
               f.firmware_size,
               f.firmware_url,
               f.need_to_verify,
               f.status,
               f.verify_progress,
               f.udi,
               f.created_ms,
               f.modified_ms);
        for (const domain::FirmwareFile& file : f.multi_files) {
            d.Line("firmware_file", file.name, file.url, file.size, file.md5, file.sign_value);
        }
        auto jobs = tx.ListJobsByFirmware(scope, f.firmware_id, 0, 1000);
        ASSERT_TRUE(jobs.ok()) << Describe(jobs);
        for (const Job& j : jobs->items) {
            d.Line("job",
                   j.job_id,
                   j.firmware_id,
                   j.product_key,
                   j.job_type,
                   j.selection_type,
                   j.target_selection,
                   j.job_status,
                   j.job_desc,
                   j.src_versions,
                   j.dynamic_mode,
                   j.gray_percent,
                   j.group_id,
                   j.group_name,
                   j.dn_list_file_url,
                   j.retry_interval_min,
                   j.retry_count,
                   j.timeout_min,
                   j.maximum_per_minute,
                   j.overwrite_mode,
                   j.multi_module_mode,
                   j.need_push,
                   j.need_confirm,
                   j.download_protocol,
                   j.schedule_ms,
                   j.schedule_finish_ms,
                   j.created_ms,
                   j.modified_ms,
                   j.start_ms,
                   j.end_ms,
                   j.push_window_start_ms,
                   j.push_window_count,
                   j.push_backlog);
            for (const domain::Tag& tag : j.tags) {
                d.Line("tag", tag.key, tag.value);
            }
            auto tasks = tx.ListTasksByJob(scope, j.job_id, std::nullopt, 0, 100000);
            ASSERT_TRUE(tasks.ok()) << Describe(tasks);
            for (const Task& t : tasks->items) {
                d.Line("task",
                       t.task_id,
                       t.job_id,
                       t.firmware_id,
                       t.iot_id,
                       t.product_key,
                       t.device_name,
                       t.module_name,
                       t.src_version,
                       t.dest_version,
                       t.status,
                       t.progress,
                       t.task_desc,
                       t.job_created_ms,
                       t.created_ms,
                       t.modified_ms,
                       t.retries_used,
                       t.retry_at_ms,
                       t.progress_started_ms,
                       t.timeout_at_ms,
                       t.notified_ms);
            }
        }
    }
    auto groups = tx.ListGroups(scope, "", "", {}, 0, 1000);
    ASSERT_TRUE(groups.ok()) << Describe(groups);
    for (const Group& g : groups->items) {
        d.Line("group",
               g.group_id,
               g.group_name,
               g.group_desc,
               g.group_type,
               g.dynamic_expression,
               g.super_group_id,
               g.created_ms);
        Status members = tx.ForEachGroupMember(scope, g.group_id, [&](const Device& member) {
            d.Line("member", g.group_id, member.iot_id);
            return Ok();
        });
        ASSERT_TRUE(members.ok()) << Describe(members);
    }
    for (const auto& [product_key, apply_id] : known.registrations) {
        auto r = tx.FindBatchRegistration(scope, product_key, apply_id);
        ASSERT_TRUE(r.ok()) << Describe(r);
        if (r->has_value()) {
            const BatchRegistration& b = **r;
            d.Line("registration",
                   b.apply_id,
                   b.product_key,
                   b.count,
                   b.status,
                   b.valid_names,
                   b.invalid_names,
                   b.created_ms,
                   b.modified_ms);
        }
    }
    for (const std::string& key : known.object_keys) {
        auto f = tx.FindFile(scope, key);
        ASSERT_TRUE(f.ok()) << Describe(f);
        if (f->has_value()) {
            const StoredFile& s = **f;
            d.Line("file",
                   s.object_key,
                   s.kind,
                   s.size,
                   s.md5,
                   s.sha256,
                   s.created_ms,
                   s.upload_deadline_ms,
                   s.uploaded_ms,
                   s.referenced);
        }
    }
}

std::string Dump(domain::Store& store, const Known& known) {
    std::ostringstream out;
    Dumper d(out);
    Status read = store.Read([&](ReadTx& tx) -> Status {
        auto accounts = tx.ListAccounts();
        if (!accounts.ok()) {
            return std::move(accounts).error();
        }
        for (const Account& a : *accounts) {
            d.Line("account",
                   a.id,
                   a.name,
                   a.access_key_id,
                   a.access_key_secret,
                   a.enabled,
                   a.created_ms);
            for (const std::string& instance_id : known.instance_ids) {
                auto instance = tx.FindInstance(a.id, instance_id);
                if (!instance.ok()) {
                    return std::move(instance).error();
                }
                if (!instance->has_value()) {
                    continue;
                }
                const Instance& i = **instance;
                d.Line("instance", i.id, i.account_id, i.instance_id, i.is_default, i.created_ms);
                DumpScope(tx, Scope{a.id, i.id}, known, d);
            }
        }
        auto due = tx.NextDueTime();
        if (!due.ok()) {
            return std::move(due).error();
        }
        d.Line("next_due", *due);
        return Ok();
    });
    EXPECT_TRUE(read.ok()) << Describe(read);
    return out.str();
}

Firmware MakeFirmware(const std::string& product_key, const std::string& id, bool multi) {
    Firmware f;
    f.firmware_id = id;
    f.firmware_name = "name " + id;
    f.firmware_desc = "desc\t" + id;
    f.product_key = product_key;
    f.module_name = multi ? "wifi-Module" : "default";
    f.dest_version = "2.0.0";
    f.src_version = multi ? "1.0.0" : "";
    f.type = multi ? 1 : 0;
    f.sign_method = multi ? domain::SignMethod::kSha256 : domain::SignMethod::kMd5;
    f.firmware_sign = "abcdef0123456789";
    f.firmware_size = 5'000'000'000;  // beyond 32 bits
    f.firmware_url = "https://files.example/" + id;
    if (multi) {
        f.multi_files = {
            {"zeta.bin", "https://files.example/zeta", 11, "md5-z", "sign-z"},
            {"alpha.bin", "https://files.example/alpha", 22, "md5-a", "sign-a"},
            {"mid.bin", "https://files.example/mid", 33, "md5-m", ""},
        };
    }
    f.need_to_verify = multi;
    f.status = multi ? domain::FirmwareStatus::kVerifying : domain::FirmwareStatus::kVerified;
    f.verify_progress = multi ? 42 : 100;
    f.udi = "{\"k\":\"v\"}";
    f.created_ms = kT0 + 10'000;
    f.modified_ms = kT0 + 11'000;
    return f;
}

Job MakeJob(const std::string& product_key,
            const std::string& firmware_id,
            const std::string& job_id,
            int variant) {
    Job j;
    j.job_id = job_id;
    j.firmware_id = firmware_id;
    j.product_key = product_key;
    j.created_ms = kT0 + 20'000 + variant;
    j.modified_ms = j.created_ms + 1;
    j.job_desc =
        "job " + job_id + " " + kAwkwardText[static_cast<size_t>(variant) % kAwkwardText.size()];
    switch (variant) {
        case 0:  // a verification batch of named devices
            j.job_type = domain::JobType::kVerifyFirmware;
            j.target_selection = domain::TargetSelection::kSpecific;
            j.job_status = domain::JobStatus::kCompleted;
            j.end_ms = j.created_ms + 50;
            break;
        case 1:  // every device, with tags and source versions, optional fields absent
            j.target_selection = domain::TargetSelection::kAll;
            j.job_status = domain::JobStatus::kInProgress;
            j.src_versions = {"1.2", "1.0", "1.1"};
            j.tags = {{"z-key", "last?"}, {"a-key", "fi\trst"}, {"m-key", ""}};
            j.start_ms = j.created_ms + 5;
            j.push_window_start_ms = j.created_ms + 6;
            j.push_window_count = 17;
            j.push_backlog = true;
            break;
        case 2:  // a share of the devices, scheduled
            j.target_selection = domain::TargetSelection::kGray;
            j.gray_percent = "33.333";
            j.job_status = domain::JobStatus::kPlanned;
            j.schedule_ms = kT0 + 3'600'000;
            j.schedule_finish_ms = kT0 + 7'200'000;
            j.retry_interval_min = 0;  // present but zero
            j.retry_count = 5;
            j.timeout_min = 1440;
            break;
        case 3:  // a group
            j.target_selection = domain::TargetSelection::kGroup;
            j.group_id = "group-static";
            j.group_name = "static group";
            j.dn_list_file_url = "https://files.example/dn-list";
            j.job_status = domain::JobStatus::kCanceled;
            j.end_ms = j.created_ms + 70;
            break;
        default:  // dynamic
            j.selection_type = domain::SelectionType::kDynamic;
            j.dynamic_mode = 2;
            j.job_status = domain::JobStatus::kInProgress;
            j.multi_module_mode = true;
            j.need_push = false;
            j.need_confirm = true;
            j.download_protocol = "MQTT";
            j.maximum_per_minute = 77;
            j.overwrite_mode = 2;
            j.tags = {{"dyn", "yes"}};
            break;
    }
    return j;
}

// Fills one scope with a bit of everything; `tag` keeps public ids unique across scopes.
Status FillScope(WriteTx& tx, const Scope& scope, const std::string& tag, Known& known) {
    std::vector<Device> devices;
    for (int p = 1; p <= 2; ++p) {
        Product product;
        product.product_key = "pk-" + tag + "-" + std::to_string(p);
        product.product_name = "product " + tag + " " + std::to_string(p);
        product.product_secret = "psecret-" + tag;
        product.description = kAwkwardText[static_cast<size_t>(p)];
        product.node_type = p - 1;
        product.net_type = static_cast<int>(domain::NetType::kCellular);
        product.id2 = p == 2;
        product.publish_auto = p == 1;
        product.created_ms = kT0 + p;
        OTA_TRY(tx.InsertProduct(scope, product));
    }
    const std::string pk = "pk-" + tag + "-1";
    for (size_t i = 0; i < kAwkwardText.size(); ++i) {
        Device d;
        d.iot_id = "iot-" + tag + "-" + std::to_string(i);
        d.product_key = pk;
        d.device_name = "dev" + std::to_string(i);
        d.device_secret = "dsecret-" + d.iot_id;
        d.nickname = kAwkwardText[i];
        d.status = i % 2 == 0 ? "ONLINE" : "OFFLINE";
        d.firmware_version = "1.0." + std::to_string(i);
        d.ip_address = "10.0.0." + std::to_string(i);
        d.created_ms = kT0 + 100 + static_cast<int64_t>(i);
        d.modified_ms = d.created_ms + 1;
        d.active_ms = d.created_ms + 2;
        d.online_ms = d.created_ms + 3;
        OTA_TRY(tx.InsertDevice(scope, d));
        devices.push_back(d);
    }
    OTA_TRY(
        tx.InsertModule(scope, Module{pk, "wifi-Module", "alias\\wifi", "the wifi", kT0, kT0 + 1}));
    OTA_TRY(tx.InsertModule(scope, Module{pk, "BLE", "", "", kT0 + 2, kT0 + 3}));
    for (size_t i = 0; i < 3; ++i) {
        OTA_TRY(tx.UpsertModuleVersion(scope,
                                       ModuleVersion{devices[i].iot_id,
                                                     pk,
                                                     devices[i].device_name,
                                                     "wifi-Module",
                                                     "3.1." + std::to_string(i),
                                                     kT0 + 500}));
    }
    const std::string fw_multi = "fw-" + tag + "-multi";
    const std::string fw_single = "fw-" + tag + "-single";
    OTA_TRY(tx.InsertFirmware(scope, MakeFirmware(pk, fw_multi, true)));
    OTA_TRY(tx.InsertFirmware(scope, MakeFirmware(pk, fw_single, false)));

    Group top{
        "group-static-" + tag, "static group", "desc", domain::GroupType::kStatic, "", "", kT0 + 1};
    Group sub{
        "group-sub-" + tag, "sub group", "", domain::GroupType::kStatic, "", top.group_id, kT0 + 2};
    Group dynamic{"group-dyn-" + tag,
                  "dynamic group",
                  "d",
                  domain::GroupType::kDynamic,
                  "product_key = '" + pk + "'",
                  "",
                  kT0 + 3};
    OTA_TRY(tx.InsertGroup(scope, top));
    OTA_TRY(tx.InsertGroup(scope, sub));
    OTA_TRY(tx.InsertGroup(scope, dynamic));
    for (size_t i = 0; i < 4; ++i) {
        OTA_TRY(tx.AddGroupMember(scope, top.group_id, devices[i].iot_id));
    }
    OTA_TRY(tx.AddGroupMember(scope, sub.group_id, devices[0].iot_id));

    constexpr TaskStatus kStatuses[] = {TaskStatus::kConfirm,
                                        TaskStatus::kQueued,
                                        TaskStatus::kNotified,
                                        TaskStatus::kInProgress,
                                        TaskStatus::kSucceeded,
                                        TaskStatus::kFailed,
                                        TaskStatus::kCanceled};
    for (int variant = 0; variant < 5; ++variant) {
        const std::string job_id = "job-" + tag + "-" + std::to_string(variant);
        Job job = MakeJob(pk, variant == 0 ? fw_single : fw_multi, job_id, variant);
        OTA_TRY(tx.InsertJob(scope, job));
        std::vector<Task> tasks;
        for (size_t i = 0; i < devices.size(); ++i) {
            Task t;
            t.task_id = "task-" + job_id + "-" + std::to_string(i);
            t.job_id = job_id;
            t.firmware_id = job.firmware_id;
            t.iot_id = devices[i].iot_id;
            t.product_key = pk;
            t.device_name = devices[i].device_name;
            t.module_name = variant == 4 ? "wifi-Module" : "default";
            t.src_version = devices[i].firmware_version;
            t.dest_version = "2.0.0";
            t.status = kStatuses[(i + static_cast<size_t>(variant)) % std::size(kStatuses)];
            t.progress = std::to_string(i * 10) + ".00";
            t.task_desc = kAwkwardText[i];
            t.job_created_ms = job.created_ms;
            t.created_ms = job.created_ms + static_cast<int64_t>(i);
            t.modified_ms = t.created_ms + 1;
            t.retries_used = static_cast<int>(i % 3);
            if (t.status == TaskStatus::kFailed) {
                t.retry_at_ms = kT0 + 900'000;
            }
            if (t.status == TaskStatus::kInProgress) {
                t.progress_started_ms = t.created_ms + 2;
                t.timeout_at_ms = kT0 + 800'000;
            }
            if (t.status != TaskStatus::kConfirm && t.status != TaskStatus::kQueued) {
                t.notified_ms = t.created_ms + 3;
            }
            tasks.push_back(std::move(t));
        }
        OTA_TRY(tx.InsertTasks(scope, tasks));
    }

    for (int r = 0; r < 2; ++r) {
        OTA_ASSIGN_OR_RETURN(int64_t apply_id, tx.NextApplyId());
        BatchRegistration registration;
        registration.apply_id = apply_id;
        registration.product_key = pk;
        registration.count = 3;
        registration.status = r == 0 ? "CREATE_SUCCESS" : "CHECK_FAILED";
        registration.valid_names = {"zz", "aa", "mm"};
        registration.invalid_names =
            r == 0 ? std::vector<std::string>{} : std::vector<std::string>{"bad name", "x\ty"};
        registration.created_ms = kT0 + 40;
        registration.modified_ms = kT0 + 41;
        OTA_TRY(tx.InsertBatchRegistration(scope, registration));
        known.registrations.emplace_back(pk, apply_id);
    }

    for (int f = 0; f < 2; ++f) {
        StoredFile file;
        file.object_key = "ota/" + tag + "/" + std::to_string(f) + "/fw.bin";
        file.kind = f == 0 ? domain::FileKind::kFirmware : domain::FileKind::kDeviceList;
        file.created_ms = kT0 + 60;
        file.upload_deadline_ms = kT0 + 120;
        OTA_TRY(tx.InsertFile(scope, file));
        if (f == 0) {
            file.size = 1234;
            file.md5 = "0123456789abcdef0123456789abcdef";
            file.sha256 = std::string(64, 'a');
            file.uploaded_ms = kT0 + 70;
            file.referenced = true;
            OTA_TRY(tx.UpdateFile(scope, file));
        }
        known.object_keys.push_back(file.object_key);
    }
    return Ok();
}

class CopyToPostgresTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* server = std::getenv(kServerVariable);
        if (server == nullptr || *server == '\0') {
            GTEST_SKIP() << kServerVariable
                         << " is not set (a postgresql:// URI of a server for throwaway "
                            "schemas; scripts/postgres.sh starts one)";
        }
        server_ = server;
        ASSERT_FALSE(dir_.path().empty());
        sqlite_path_ = (dir_.path() / "otad.db").string();
        static std::atomic<int> counter{0};
        schema_ = "migrate_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        auto admin = postgres::PgConnection::Open({.conninfo = server_});
        ASSERT_TRUE(admin.ok()) << Describe(admin);
        const std::string create = "CREATE SCHEMA " + schema_;
        MIGRATE_ASSERT_OK((*admin)->Exec(create.c_str()));
        schema_created_ = true;
        target_ = server_ + (server_.find('?') == std::string::npos ? "?" : "&") +
                  "options=-csearch_path%3D" + schema_;
    }

    void TearDown() override {
        if (schema_created_) {
            auto admin = postgres::PgConnection::Open({.conninfo = server_});
            if (admin.ok()) {
                const std::string drop = "DROP SCHEMA " + schema_ + " CASCADE";
                EXPECT_TRUE((*admin)->Exec(drop.c_str()).ok());
            }
        }
    }

    std::unique_ptr<domain::Store> OpenSqlite() {
        sqlite::SqliteOptions options;
        options.path = sqlite_path_;
        options.synchronous_full = false;
        auto store = sqlite::OpenSqliteStore(options);
        EXPECT_TRUE(store.ok()) << Describe(store);
        return store.ok() ? std::move(store).value() : nullptr;
    }

    std::unique_ptr<domain::Store> OpenPostgres() {
        postgres::PgOptions options;
        options.conninfo = target_;
        options.connections = 2;
        auto store = postgres::OpenPgStore(options);
        EXPECT_TRUE(store.ok()) << Describe(store);
        return store.ok() ? std::move(store).value() : nullptr;
    }

    CopyOptions Options(bool force = false) const {
        CopyOptions options;
        options.sqlite_path = sqlite_path_;
        options.postgres = target_;
        options.force = force;
        return options;
    }

    // Three scopes over two accounts (and a third account with its default instance only).
    Known Populate(domain::Store& store) {
        Known known;
        known.instance_ids = {"iot-a-default", "iot-a-second", "iot-b-default", "iot-c-default"};
        Status written = store.Write([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(
                Account a, tx.InsertAccount(Account{0, "alpha", "AKIDA", "secret-a", true, kT0}));
            OTA_ASSIGN_OR_RETURN(
                Account b,
                tx.InsertAccount(Account{0, "beta", "AKIDB", "secret\tb", false, kT0 + 1}));
            OTA_ASSIGN_OR_RETURN(
                Account c, tx.InsertAccount(Account{0, "gamma", "AKIDC", "secret-c", true, kT0}));
            OTA_ASSIGN_OR_RETURN(Instance a1,
                                 tx.InsertInstance(Instance{0, a.id, "iot-a-default", true, kT0}));
            OTA_ASSIGN_OR_RETURN(
                Instance a2, tx.InsertInstance(Instance{0, a.id, "iot-a-second", false, kT0 + 5}));
            OTA_ASSIGN_OR_RETURN(Instance b1,
                                 tx.InsertInstance(Instance{0, b.id, "iot-b-default", true, kT0}));
            OTA_TRY(tx.InsertInstance(Instance{0, c.id, "iot-c-default", true, kT0}));
            OTA_TRY(FillScope(tx, Scope{a.id, a1.id}, "a1", known));
            OTA_TRY(FillScope(tx, Scope{a.id, a2.id}, "a2", known));
            OTA_TRY(FillScope(tx, Scope{b.id, b1.id}, "b1", known));
            return Ok();
        });
        EXPECT_TRUE(written.ok()) << Describe(written);
        return known;
    }

    TempDir dir_;
    std::string server_;
    std::string schema_;
    bool schema_created_ = false;
    std::string target_;
    std::string sqlite_path_;
};

// Every row of a statement's first `columns` columns, each row joined with '|'.
std::vector<std::string> Rows(sql::Connection& db, std::string_view query, int columns) {
    std::vector<std::string> rows;
    auto stmt = db.Prepare(query);
    EXPECT_TRUE(stmt.ok()) << Describe(stmt);
    if (!stmt.ok()) {
        return rows;
    }
    while (true) {
        auto row = stmt->Step();
        EXPECT_TRUE(row.ok()) << Describe(row);
        if (!row.ok() || !*row) {
            return rows;
        }
        std::string line;
        for (int c = 0; c < columns; ++c) {
            line += (c == 0 ? "" : "|") + stmt->ColumnText(c);
        }
        rows.push_back(std::move(line));
    }
}

// The two backends' migrations must build the same tables, with the same columns in the same
// order (otad migrate copies by column order and the shared SQL names them) and the same
// nullability, and the same named indexes. PostgreSQL's write_lock table is its own.
TEST_F(CopyToPostgresTest, BothBackendsBuildTheSameSchema) {
    ASSERT_NE(OpenSqlite(), nullptr);
    ASSERT_NE(OpenPostgres(), nullptr);
    auto lite = sqlite::Connection::Open({.path = sqlite_path_, .writer = false});
    ASSERT_TRUE(lite.ok()) << Describe(lite);
    auto pg = postgres::PgConnection::Open({.conninfo = target_});
    ASSERT_TRUE(pg.ok()) << Describe(pg);

    // table|column|NOT NULL (1 or 0), columns in table order; primary-key columns count as
    // NOT NULL, as PostgreSQL makes them.
    const std::vector<std::string> sqlite_columns =
        Rows(**lite,
             "SELECT m.name, c.name, "
             "  CASE WHEN c.\"notnull\" OR c.pk > 0 "
             "       THEN 1 ELSE 0 END "
             "FROM sqlite_master m, "
             "     pragma_table_info(m.name) c "
             "WHERE m.type = 'table' AND "
             "      m.name NOT LIKE 'sqlite!_%' ESCAPE '!' "
             "ORDER BY m.name, c.cid",
             3);
    const std::vector<std::string> pg_columns =
        Rows(**pg,
             "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), "
             "  CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END "
             "FROM information_schema.columns "
             "WHERE table_schema = current_schema() AND table_name <> 'write_lock' "
             "ORDER BY table_name COLLATE \"C\", ordinal_position",
             3);
    EXPECT_FALSE(sqlite_columns.empty());
    EXPECT_EQ(sqlite_columns, pg_columns);

    const std::vector<std::string> sqlite_indexes =
        Rows(**lite,
             "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
             "ORDER BY name",
             1);
    // Those made by CREATE INDEX; the ones behind PRIMARY KEY and UNIQUE constraints are
    // named by each engine its own way. modules_name_nocase stands for SQLite's NOCASE
    // primary key of modules (PostgreSQL has no such collation).
    const std::vector<std::string> pg_indexes =
        Rows(**pg,
             "SELECT CAST(i.indexname AS TEXT) FROM pg_indexes i "
             "WHERE i.schemaname = current_schema() AND "
             "      i.indexname <> 'modules_name_nocase' AND NOT EXISTS ("
             "  SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname) "
             "ORDER BY i.indexname COLLATE \"C\"",
             1);
    EXPECT_FALSE(sqlite_indexes.empty());
    EXPECT_EQ(sqlite_indexes, pg_indexes);
}

TEST_F(CopyToPostgresTest, CopiesEverythingAndRefusesToOverwriteWithoutForce) {
    std::unique_ptr<domain::Store> sqlite = OpenSqlite();
    ASSERT_NE(sqlite, nullptr);
    const Known known = Populate(*sqlite);
    const std::string source = Dump(*sqlite, known);
    sqlite.reset();
    // The dump sees everything that was written: 3 scopes of 9 devices, 5 jobs of 9 tasks, ...
    auto lines = [&](const std::string& kind) {
        int64_t n = 0;
        for (size_t at = source.find(kind + " |"); at != std::string::npos;
             at = source.find(kind + " |", at + 1)) {
            n += at == 0 || source[at - 1] == '\n' ? 1 : 0;
        }
        return n;
    };
    EXPECT_EQ(lines("account"), 3);
    EXPECT_EQ(lines("instance"), 4);
    EXPECT_EQ(lines("device"), 3 * 9);
    EXPECT_EQ(lines("firmware_file"), 3 * 3);
    EXPECT_EQ(lines("task"), 3 * 5 * 9);
    EXPECT_EQ(lines("tag"), 3 * 4);
    EXPECT_EQ(lines("module"), 3 * 2);
    EXPECT_EQ(lines("module_version"), 3 * 3);
    EXPECT_EQ(lines("member"), 3 * 5);
    EXPECT_EQ(lines("registration"), 3 * 2);
    EXPECT_EQ(lines("file"), 3 * 2);

    auto report = CopySqliteToPostgres(Options());
    ASSERT_TRUE(report.ok()) << Describe(report);
    EXPECT_FALSE(report->replaced);
    EXPECT_TRUE(report->analyzed);
    EXPECT_FALSE(report->sqlite_upgraded);
    // Every table of the SQLite schema, parents first, each with rows.
    std::vector<std::string> order;
    for (const TableReport& table : report->tables) {
        order.push_back(table.table);
        EXPECT_GT(table.rows, 0) << table.table;
        EXPECT_EQ(table.checksum.size(), 64u) << table.table;
    }
    const std::vector<std::string> expected_tables = {"accounts",
                                                      "instances",
                                                      "products",
                                                      "devices",
                                                      "firmware",
                                                      "firmware_files",
                                                      "jobs",
                                                      "job_tags",
                                                      "job_src_versions",
                                                      "tasks",
                                                      "modules",
                                                      "module_versions",
                                                      "groups_",
                                                      "group_members",
                                                      "batch_registrations",
                                                      "batch_registration_names",
                                                      "apply_id_counter",
                                                      "stored_files"};
    EXPECT_EQ(std::set<std::string>(order.begin(), order.end()),
              std::set<std::string>(expected_tables.begin(), expected_tables.end()));
    auto position = [&](const std::string& name) {
        return std::find(order.begin(), order.end(), name) - order.begin();
    };
    EXPECT_LT(position("accounts"), position("instances"));
    EXPECT_LT(position("products"), position("devices"));
    EXPECT_LT(position("jobs"), position("tasks"));
    EXPECT_LT(position("devices"), position("group_members"));
    EXPECT_LT(position("groups_"), position("group_members"));
    EXPECT_LT(position("batch_registrations"), position("batch_registration_names"));

    std::unique_ptr<domain::Store> pg = OpenPostgres();
    ASSERT_NE(pg, nullptr);
    EXPECT_EQ(Dump(*pg, known), source);

    // New rows get ids past the copied ones: every insert below would collide otherwise.
    Status inserted = pg->Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(std::vector<Account> accounts, tx.ListAccounts());
        int64_t max_account = 0;
        for (const Account& a : accounts) {
            max_account = std::max(max_account, a.id);
        }
        OTA_ASSIGN_OR_RETURN(Account d,
                             tx.InsertAccount(Account{0, "delta", "AKIDD", "secret-d", true, kT0}));
        EXPECT_GT(d.id, max_account);
        OTA_ASSIGN_OR_RETURN(Instance d1,
                             tx.InsertInstance(Instance{0, d.id, "iot-d-default", true, kT0}));
        Known more;
        OTA_TRY(FillScope(tx, Scope{d.id, d1.id}, "d1", more));
        // The counter of apply ids was copied too.
        int64_t max_apply = 0;
        for (const auto& registration : known.registrations) {
            max_apply = std::max(max_apply, registration.second);
        }
        EXPECT_GT(more.registrations.front().second, max_apply);
        return Ok();
    });
    ASSERT_TRUE(inserted.ok()) << Describe(inserted);
    Known with_new = known;
    with_new.instance_ids.push_back("iot-d-default");
    const std::string after_inserts = Dump(*pg, with_new);
    EXPECT_NE(after_inserts, source);

    // A second migration without force is refused and changes nothing.
    auto refused = CopySqliteToPostgres(Options());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidParameter) << Describe(refused);
    EXPECT_NE(refused.error().message.find("already holds otad records"), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("accounts"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(Dump(*pg, with_new), after_inserts);

    // With force the target's records are replaced by the source's.
    auto replaced = CopySqliteToPostgres(Options(/*force=*/true));
    ASSERT_TRUE(replaced.ok()) << Describe(replaced);
    EXPECT_TRUE(replaced->replaced);
    for (const TableReport& table : replaced->tables) {
        EXPECT_GT(table.replaced_rows, 0) << table.table;
    }
    EXPECT_EQ(Dump(*pg, with_new), source);
    // Same data, same checksums.
    ASSERT_EQ(replaced->tables.size(), report->tables.size());
    for (size_t i = 0; i < report->tables.size(); ++i) {
        EXPECT_EQ(replaced->tables[i].checksum, report->tables[i].checksum);
    }
}

TEST_F(CopyToPostgresTest, AVerificationThatFailsRollsEverythingBack) {
    {
        std::unique_ptr<domain::Store> sqlite = OpenSqlite();
        ASSERT_NE(sqlite, nullptr);
        Populate(*sqlite);
    }
    ASSERT_TRUE(CopySqliteToPostgres(Options()).ok());
    std::unique_ptr<domain::Store> sqlite = OpenSqlite();
    ASSERT_NE(sqlite, nullptr);
    Known known;
    known.instance_ids = {"iot-a-default", "iot-a-second", "iot-b-default", "iot-c-default"};
    // Changes the source, so that a forced migration would change the target.
    Status changed = sqlite->Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(std::optional<Account> a, tx.FindAccountByName("gamma"));
        if (!a.has_value()) {
            return InternalError("no account gamma");
        }
        const int64_t account_id = a->id;
        OTA_ASSIGN_OR_RETURN(std::optional<Instance> c1, tx.FindDefaultInstance(account_id));
        if (!c1.has_value()) {
            return InternalError("no default instance of gamma");
        }
        return FillScope(tx, Scope{account_id, c1->id}, "c1", known);
    });
    ASSERT_TRUE(changed.ok()) << Describe(changed);
    std::unique_ptr<domain::Store> pg = OpenPostgres();
    ASSERT_NE(pg, nullptr);
    const std::string before = Dump(*pg, known);
    EXPECT_NE(before, Dump(*sqlite, known));

    // A row lost on the way: the counts differ.
    CopyOptions lose_row = Options(/*force=*/true);
    lose_row.before_verify = [](postgres::PgConnection& db) {
        return db.Exec("DELETE FROM tasks WHERE id = (SELECT MAX(id) FROM tasks)");
    };
    auto lost = CopySqliteToPostgres(lose_row);
    ASSERT_FALSE(lost.ok());
    EXPECT_NE(lost.error().message.find("verification failed for table tasks"), std::string::npos)
        << lost.error().message;
    EXPECT_NE(lost.error().message.find("rows in SQLite"), std::string::npos)
        << lost.error().message;
    EXPECT_EQ(Dump(*pg, known), before);

    // A value changed on the way: the counts agree, the checksums do not.
    CopyOptions change_value = Options(/*force=*/true);
    change_value.before_verify = [](postgres::PgConnection& db) {
        return db.Exec(
            "UPDATE devices SET nickname = nickname || '!' WHERE id = (SELECT MIN(id) FROM "
            "devices)");
    };
    auto differs = CopySqliteToPostgres(change_value);
    ASSERT_FALSE(differs.ok());
    EXPECT_NE(differs.error().message.find("verification failed for table devices"),
              std::string::npos)
        << differs.error().message;
    EXPECT_NE(differs.error().message.find("the rows differ"), std::string::npos)
        << differs.error().message;
    EXPECT_EQ(Dump(*pg, known), before);

    // Without interference the same forced migration goes through.
    ASSERT_TRUE(CopySqliteToPostgres(Options(/*force=*/true)).ok());
    EXPECT_EQ(Dump(*pg, known), Dump(*sqlite, known));
}

TEST_F(CopyToPostgresTest, UpgradesAnOlderSqliteSchemaAndAcceptsAnEmptyOtadSchema) {
    {
        // A database left by an older otad: only the first migration.
        auto db = sqlite::Connection::Open({.path = sqlite_path_, .writer = true});
        ASSERT_TRUE(db.ok()) << Describe(db);
        MIGRATE_ASSERT_OK(
            sqlite::ApplyMigrations(**db, sqlite::EmbeddedMigrations().subspan(0, 1)));
        MIGRATE_ASSERT_OK((*db)->ExecScript(
            "INSERT INTO accounts (id, name, access_key_id, access_key_secret, enabled, "
            "created_ms) VALUES (7, 'old', 'AKIDOLD', 's', 1, 5)"));
    }
    // The target already has otad's schema (a node started on it), but no records: not refused.
    ASSERT_NE(OpenPostgres(), nullptr);

    auto report = CopySqliteToPostgres(Options());
    ASSERT_TRUE(report.ok()) << Describe(report);
    EXPECT_TRUE(report->sqlite_upgraded);
    EXPECT_EQ(report->sqlite_schema_version, sqlite::EmbeddedMigrations().back().version);
    std::unique_ptr<domain::Store> pg = OpenPostgres();
    ASSERT_NE(pg, nullptr);
    Status read = pg->Read([](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(std::vector<Account> accounts, tx.ListAccounts());
        EXPECT_EQ(accounts.size(), 1u);
        if (!accounts.empty()) {
            EXPECT_EQ(accounts[0].id, 7);
            EXPECT_EQ(accounts[0].name, "old");
        }
        return Ok();
    });
    EXPECT_TRUE(read.ok()) << Describe(read);
}

TEST_F(CopyToPostgresTest, RefusesWhatIsNotAnOtadDatabase) {
    auto missing = CopySqliteToPostgres(Options());
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("there is no SQLite database"), std::string::npos)
        << Describe(missing);
    {
        auto db = sqlite::Connection::Open({.path = sqlite_path_, .writer = true});
        ASSERT_TRUE(db.ok()) << Describe(db);
        MIGRATE_ASSERT_OK((*db)->ExecScript("CREATE TABLE something (x INTEGER)"));
    }
    auto foreign = CopySqliteToPostgres(Options());
    ASSERT_FALSE(foreign.ok());
    EXPECT_NE(foreign.error().message.find("is not an otad database"), std::string::npos)
        << Describe(foreign);
}

TEST_F(CopyToPostgresTest, RefusesAValueOfAnotherTypeThanItsColumn) {
    {
        std::unique_ptr<domain::Store> sqlite = OpenSqlite();
        ASSERT_NE(sqlite, nullptr);
        auto db = sqlite::Connection::Open({.path = sqlite_path_, .writer = true});
        ASSERT_TRUE(db.ok()) << Describe(db);
        // Text that does not look like a number stays text in an INTEGER column.
        MIGRATE_ASSERT_OK((*db)->ExecScript(
            "INSERT INTO accounts (id, name, access_key_id, access_key_secret, enabled, "
            "created_ms) VALUES (1, 'a', 'AKID', 's', 1, 'yesterday')"));
    }
    auto refused = CopySqliteToPostgres(Options());
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("copying table accounts"), std::string::npos)
        << Describe(refused);
    EXPECT_NE(refused.error().message.find("created_ms"), std::string::npos) << Describe(refused);
}

TEST_F(CopyToPostgresTest, RowsThatPostgresRefusesFailTheCopyAndChangeNothing) {
    {
        std::unique_ptr<domain::Store> sqlite = OpenSqlite();
        ASSERT_NE(sqlite, nullptr);
        Populate(*sqlite);
    }
    auto db = sqlite::Connection::Open({.path = sqlite_path_, .writer = true});
    ASSERT_TRUE(db.ok()) << Describe(db);
    auto expect_refused = [&](const std::string& table, const std::string& reason) {
        auto refused = CopySqliteToPostgres(Options());
        ASSERT_FALSE(refused.ok());
        EXPECT_NE(refused.error().message.find("copying table " + table), std::string::npos)
            << Describe(refused);
        EXPECT_NE(refused.error().internal.find(reason), std::string::npos) << Describe(refused);
        std::unique_ptr<domain::Store> pg = OpenPostgres();
        ASSERT_NE(pg, nullptr);
        Status empty = pg->Read([](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(std::vector<Account> accounts, tx.ListAccounts());
            EXPECT_TRUE(accounts.empty());
            return Ok();
        });
        EXPECT_TRUE(empty.ok()) << Describe(empty);
    };

    // SQLite checks foreign keys only when a connection asks it to; PostgreSQL always does.
    MIGRATE_ASSERT_OK((*db)->ExecScript(
        "PRAGMA foreign_keys = OFF; INSERT INTO job_tags (job_id, position, tag_key, tag_value) "
        "VALUES ('no-such-job', 0, 'k', 'v'); PRAGMA foreign_keys = ON;"));
    expect_refused("job_tags", "foreign key");
    MIGRATE_ASSERT_OK((*db)->ExecScript("DELETE FROM job_tags WHERE job_id = 'no-such-job'"));

    // Text that is not UTF-8: the server refuses it, and its message (which would quote the
    // value) is left out.
    MIGRATE_ASSERT_OK(
        (*db)->ExecScript("UPDATE devices SET device_secret = CAST(X'C328736563726574' AS TEXT) "
                          "WHERE id = (SELECT MAX(id) FROM devices)"));
    expect_refused("devices", "message withheld");
}

// 200,000 tasks go through without being held in memory: the copy reports its progress while
// it streams them, and every one arrives.
TEST_F(CopyToPostgresTest, StreamsManyTasks) {
    constexpr int kJobs = 4;
    constexpr int kTasksPerJob = 50'000;
    constexpr int kTasksPerWrite = 10'000;
    Scope scope;
    {
        std::unique_ptr<domain::Store> sqlite = OpenSqlite();
        ASSERT_NE(sqlite, nullptr);
        Status setup = sqlite->Write([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(Account a,
                                 tx.InsertAccount(Account{0, "big", "AKIDBIG", "s", true, kT0}));
            OTA_ASSIGN_OR_RETURN(Instance i,
                                 tx.InsertInstance(Instance{0, a.id, "iot-big", true, kT0}));
            scope = Scope{a.id, i.id};
            Product product;
            product.product_key = "pk-big";
            product.product_name = "big";
            OTA_TRY(tx.InsertProduct(scope, product));
            for (int j = 0; j < kJobs; ++j) {
                OTA_TRY(tx.InsertJob(
                    scope, MakeJob("pk-big", "fw-big", "job-big-" + std::to_string(j), 1)));
            }
            return Ok();
        });
        ASSERT_TRUE(setup.ok()) << Describe(setup);
        for (int j = 0; j < kJobs; ++j) {
            const std::string job_id = "job-big-" + std::to_string(j);
            for (int first = 0; first < kTasksPerJob; first += kTasksPerWrite) {
                std::vector<Task> tasks;
                tasks.reserve(kTasksPerWrite);
                for (int n = first; n < first + kTasksPerWrite; ++n) {
                    Task t;
                    t.task_id = "t-" + std::to_string(j) + "-" + std::to_string(n);
                    t.job_id = job_id;
                    t.firmware_id = "fw-big";
                    t.iot_id = "iot-" + std::to_string(n);
                    t.product_key = "pk-big";
                    t.device_name = "dev" + std::to_string(n);
                    t.status = n % 3 == 0 ? TaskStatus::kSucceeded : TaskStatus::kQueued;
                    t.job_created_ms = kT0 + 20'001;
                    t.created_ms = kT0 + n;
                    t.modified_ms = kT0 + n;
                    tasks.push_back(std::move(t));
                }
                Status written =
                    sqlite->Write([&](WriteTx& tx) { return tx.InsertTasks(scope, tasks); });
                ASSERT_TRUE(written.ok()) << Describe(written);
            }
        }
    }

    std::vector<int64_t> task_progress;
    CopyOptions options = Options();
    options.progress = [&](std::string_view table, int64_t rows) {
        if (table == "tasks") {
            task_progress.push_back(rows);
        }
    };
    auto report = CopySqliteToPostgres(options);
    ASSERT_TRUE(report.ok()) << Describe(report);
    constexpr int64_t kTotal = int64_t{kJobs} * kTasksPerJob;
    EXPECT_EQ(task_progress, (std::vector<int64_t>{kProgressRows, 2 * kProgressRows}));
    auto tasks = std::find_if(report->tables.begin(), report->tables.end(), [](const auto& t) {
        return t.table == "tasks";
    });
    ASSERT_NE(tasks, report->tables.end());
    EXPECT_EQ(tasks->rows, kTotal);
    const double seconds = static_cast<double>(std::max<int64_t>(report->elapsed_ms, 1)) / 1000.0;
    std::cout << "migrated " << report->rows << " rows in " << report->elapsed_ms << " ms ("
              << static_cast<int64_t>(static_cast<double>(report->rows) / seconds) << " rows/s)\n";
    ::testing::Test::RecordProperty("rows_per_second",
                                    static_cast<int>(static_cast<double>(report->rows) / seconds));

    std::unique_ptr<domain::Store> pg = OpenPostgres();
    ASSERT_NE(pg, nullptr);
    Status read = pg->Read([&](ReadTx& tx) -> Status {
        for (int j = 0; j < kJobs; ++j) {
            OTA_ASSIGN_OR_RETURN(domain::TaskCounts counts,
                                 tx.CountTasksByStatus(scope, "job-big-" + std::to_string(j)));
            EXPECT_EQ(counts.Total(), kTasksPerJob);
            EXPECT_EQ(counts.succeeded, (kTasksPerJob + 2) / 3);
        }
        OTA_ASSIGN_OR_RETURN(auto last, tx.FindTask(scope, "t-3-49999"));
        EXPECT_TRUE(last.has_value());
        if (last.has_value()) {
            EXPECT_EQ(last->device_name, "dev49999");
            EXPECT_EQ(last->created_ms, kT0 + 49'999);
        }
        return Ok();
    });
    EXPECT_TRUE(read.ok()) << Describe(read);
    // And the next task inserted gets an id of its own.
    Status more = pg->Write([&](WriteTx& tx) -> Status {
        Task t;
        t.task_id = "t-new";
        t.job_id = "job-big-0";
        t.firmware_id = "fw-big";
        t.iot_id = "iot-new";
        t.product_key = "pk-big";
        t.device_name = "dev-new";
        t.job_created_ms = kT0 + 20'001;
        return tx.InsertTasks(scope, {t});
    });
    EXPECT_TRUE(more.ok()) << Describe(more);
}

}  // namespace
}  // namespace otad::storage::migrate
