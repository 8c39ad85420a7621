#include "store_conformance.hpp"

#include <utility>

namespace otad::conformance {

using domain::Account;
using domain::Device;
using domain::Firmware;
using domain::Instance;
using domain::Job;
using domain::Product;
using domain::ReadTx;
using domain::Scope;
using domain::Task;
using domain::WriteTx;

std::vector<Backend> AllBackends() {
    return {SqliteBackend(), PostgresBackend()};
}

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Backends,
                         StoreConformanceTest,
                         ::testing::ValuesIn(AllBackends()),
                         BackendName);

std::string Describe(const Error& error) {
    std::string text(ErrorCodeName(error.code));
    if (!error.message.empty()) {
        text += " message=" + error.message;
    }
    if (!error.internal.empty()) {
        text += " internal=" + error.internal;
    }
    return text;
}

Product MakeProduct(const std::string& product_key, const std::string& name) {
    Product p;
    p.product_key = product_key;
    p.product_name = name;
    p.product_secret = "secret-" + product_key;
    p.description = "description of " + name;
    p.node_type = 1;
    p.data_format = 0;
    p.aliyun_commodity_code = "iothub_senior";
    p.auth_type = "x509";
    p.protocol_type = "modbus";
    p.net_type = static_cast<int>(domain::NetType::kCellular);
    p.id2 = true;
    p.category_key = "Lamp";
    p.validate_type = 2;
    p.publish_auto = false;
    p.product_status = "RELEASE_STATUS";
    p.created_ms = 1'600'000'000'123;
    return p;
}

Device MakeDevice(const std::string& product_key,
                  const std::string& iot_id,
                  const std::string& device_name) {
    Device d;
    d.iot_id = iot_id;
    d.product_key = product_key;
    d.device_name = device_name;
    d.device_secret = "dsecret-" + iot_id;
    d.nickname = "nick " + device_name;
    d.status = "ONLINE";
    d.firmware_version = "1.0.3";
    d.ip_address = "10.1.2.3";
    d.created_ms = 1'600'000'001'000;
    d.modified_ms = 1'600'000'002'000;
    d.active_ms = 1'600'000'003'000;
    d.online_ms = 1'600'000'004'000;
    return d;
}

Firmware MakeFirmware(const std::string& product_key,
                      const std::string& firmware_id,
                      const std::string& name) {
    Firmware f;
    f.firmware_id = firmware_id;
    f.firmware_name = name;
    f.firmware_desc = "desc " + name;
    f.product_key = product_key;
    f.module_name = "wifi-module";
    f.dest_version = "2.0.0";
    f.src_version = "1.0.0";
    f.type = 1;
    f.sign_method = domain::SignMethod::kSha256;
    f.firmware_sign = "abcdef0123456789";
    f.firmware_size = 5'000'000'000;  // beyond 32 bits
    f.firmware_url = "https://files.example/" + firmware_id;
    // Deliberately not in name order: the stored order must be the given one.
    f.multi_files = {
        {"zeta.bin", "https://files.example/zeta", 11, "md5-z", "sign-z"},
        {"alpha.bin", "https://files.example/alpha", 22, "md5-a", "sign-a"},
        {"mid.bin", "https://files.example/mid", 33, "md5-m", ""},
    };
    f.need_to_verify = false;
    f.status = domain::FirmwareStatus::kVerifying;
    f.verify_progress = 42;
    f.udi = "{\"k\":\"v\"}";
    f.created_ms = 1'600'000'010'000;
    f.modified_ms = 1'600'000'011'000;
    return f;
}

Job MakeJob(const std::string& product_key,
            const std::string& firmware_id,
            const std::string& job_id,
            int64_t created_ms) {
    Job j;
    j.job_id = job_id;
    j.firmware_id = firmware_id;
    j.product_key = product_key;
    j.job_type = domain::JobType::kUpgradeFirmware;
    j.selection_type = domain::SelectionType::kDynamic;
    j.target_selection = domain::TargetSelection::kGray;
    j.job_status = domain::JobStatus::kCompleted;
    j.job_desc = "job " + job_id;
    j.src_versions = {"1.2", "1.0", "1.1"};
    j.tags = {{"z-key", "last?"}, {"a-key", "first?"}, {"m-key", ""}};
    j.dynamic_mode = 2;
    j.gray_percent = "33.333";
    j.group_id = "group-1";
    j.group_name = "group one";
    j.dn_list_file_url = "https://files.example/dn-list";
    j.retry_interval_min = 0;  // present but zero: must not read back as absent
    j.retry_count = 5;
    j.timeout_min = 1440;
    j.maximum_per_minute = 77;
    j.overwrite_mode = 2;
    j.multi_module_mode = true;
    j.need_push = false;
    j.need_confirm = true;
    j.download_protocol = "MQTT";
    j.schedule_ms = created_ms + 1000;
    j.schedule_finish_ms = created_ms + 2000;
    j.created_ms = created_ms;
    j.modified_ms = created_ms + 3000;
    j.start_ms = created_ms + 4000;
    j.end_ms = created_ms + 5000;
    j.push_window_start_ms = created_ms + 6000;
    j.push_window_count = 17;
    j.push_backlog = true;
    return j;
}

Task MakeTask(const Job& job,
              const Device& device,
              const std::string& task_id,
              int64_t created_ms) {
    Task t;
    t.task_id = task_id;
    t.job_id = job.job_id;
    t.firmware_id = job.firmware_id;
    t.iot_id = device.iot_id;
    t.product_key = device.product_key;
    t.device_name = device.device_name;
    t.module_name = "wifi-module";
    t.src_version = "1.0.0";
    t.dest_version = "2.0.0";
    t.status = domain::TaskStatus::kNotified;
    t.progress = "37.50";
    t.task_desc = "desc " + task_id;
    t.job_created_ms = job.created_ms;
    t.created_ms = created_ms;
    t.modified_ms = created_ms + 1;
    t.retries_used = 2;
    t.retry_at_ms = 0;  // FAILED tasks only; a NOTIFIED task with a retry time would be odd
    t.progress_started_ms = created_ms + 2;
    t.timeout_at_ms = 0;
    t.notified_ms = created_ms + 4;
    return t;
}

void ExpectSameAccount(const Account& actual, const Account& expected) {
    EXPECT_EQ(actual.id, expected.id);
    EXPECT_EQ(actual.name, expected.name);
    EXPECT_EQ(actual.access_key_id, expected.access_key_id);
    EXPECT_EQ(actual.access_key_secret, expected.access_key_secret);
    EXPECT_EQ(actual.enabled, expected.enabled);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
}

void ExpectSameInstance(const Instance& actual, const Instance& expected) {
    EXPECT_EQ(actual.id, expected.id);
    EXPECT_EQ(actual.account_id, expected.account_id);
    EXPECT_EQ(actual.instance_id, expected.instance_id);
    EXPECT_EQ(actual.is_default, expected.is_default);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
}

void ExpectSameProduct(const Product& actual, const Product& expected) {
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.product_name, expected.product_name);
    EXPECT_EQ(actual.product_secret, expected.product_secret);
    EXPECT_EQ(actual.description, expected.description);
    EXPECT_EQ(actual.node_type, expected.node_type);
    EXPECT_EQ(actual.data_format, expected.data_format);
    EXPECT_EQ(actual.aliyun_commodity_code, expected.aliyun_commodity_code);
    EXPECT_EQ(actual.auth_type, expected.auth_type);
    EXPECT_EQ(actual.protocol_type, expected.protocol_type);
    EXPECT_EQ(actual.net_type, expected.net_type);
    EXPECT_EQ(actual.id2, expected.id2);
    EXPECT_EQ(actual.category_key, expected.category_key);
    EXPECT_EQ(actual.validate_type, expected.validate_type);
    EXPECT_EQ(actual.publish_auto, expected.publish_auto);
    EXPECT_EQ(actual.product_status, expected.product_status);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
}

void ExpectSameDevice(const Device& actual, const Device& expected) {
    EXPECT_EQ(actual.iot_id, expected.iot_id);
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.device_name, expected.device_name);
    EXPECT_EQ(actual.device_secret, expected.device_secret);
    EXPECT_EQ(actual.nickname, expected.nickname);
    EXPECT_EQ(actual.status, expected.status);
    EXPECT_EQ(actual.firmware_version, expected.firmware_version);
    EXPECT_EQ(actual.ip_address, expected.ip_address);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
    EXPECT_EQ(actual.active_ms, expected.active_ms);
    EXPECT_EQ(actual.online_ms, expected.online_ms);
}

void ExpectSameFirmware(const Firmware& actual, const Firmware& expected) {
    EXPECT_EQ(actual.firmware_id, expected.firmware_id);
    EXPECT_EQ(actual.firmware_name, expected.firmware_name);
    EXPECT_EQ(actual.firmware_desc, expected.firmware_desc);
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.module_name, expected.module_name);
    EXPECT_EQ(actual.dest_version, expected.dest_version);
    EXPECT_EQ(actual.src_version, expected.src_version);
    EXPECT_EQ(actual.type, expected.type);
    EXPECT_EQ(actual.sign_method, expected.sign_method);
    EXPECT_EQ(actual.firmware_sign, expected.firmware_sign);
    EXPECT_EQ(actual.firmware_size, expected.firmware_size);
    EXPECT_EQ(actual.firmware_url, expected.firmware_url);
    ASSERT_EQ(actual.multi_files.size(), expected.multi_files.size());
    for (size_t i = 0; i < expected.multi_files.size(); ++i) {
        SCOPED_TRACE("file " + std::to_string(i));
        EXPECT_EQ(actual.multi_files[i].name, expected.multi_files[i].name);
        EXPECT_EQ(actual.multi_files[i].url, expected.multi_files[i].url);
        EXPECT_EQ(actual.multi_files[i].size, expected.multi_files[i].size);
        EXPECT_EQ(actual.multi_files[i].md5, expected.multi_files[i].md5);
        EXPECT_EQ(actual.multi_files[i].sign_value, expected.multi_files[i].sign_value);
    }
    EXPECT_EQ(actual.need_to_verify, expected.need_to_verify);
    EXPECT_EQ(actual.status, expected.status);
    EXPECT_EQ(actual.verify_progress, expected.verify_progress);
    EXPECT_EQ(actual.udi, expected.udi);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
}

void ExpectSameJob(const Job& actual, const Job& expected) {
    EXPECT_EQ(actual.job_id, expected.job_id);
    EXPECT_EQ(actual.firmware_id, expected.firmware_id);
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.job_type, expected.job_type);
    EXPECT_EQ(actual.selection_type, expected.selection_type);
    EXPECT_EQ(actual.target_selection, expected.target_selection);
    EXPECT_EQ(actual.job_status, expected.job_status);
    EXPECT_EQ(actual.job_desc, expected.job_desc);
    EXPECT_EQ(actual.src_versions, expected.src_versions);
    ASSERT_EQ(actual.tags.size(), expected.tags.size());
    for (size_t i = 0; i < expected.tags.size(); ++i) {
        EXPECT_EQ(actual.tags[i].key, expected.tags[i].key) << "tag " << i;
        EXPECT_EQ(actual.tags[i].value, expected.tags[i].value) << "tag " << i;
    }
    EXPECT_EQ(actual.dynamic_mode, expected.dynamic_mode);
    EXPECT_EQ(actual.gray_percent, expected.gray_percent);
    EXPECT_EQ(actual.group_id, expected.group_id);
    EXPECT_EQ(actual.group_name, expected.group_name);
    EXPECT_EQ(actual.dn_list_file_url, expected.dn_list_file_url);
    EXPECT_EQ(actual.retry_interval_min, expected.retry_interval_min);
    EXPECT_EQ(actual.retry_count, expected.retry_count);
    EXPECT_EQ(actual.timeout_min, expected.timeout_min);
    EXPECT_EQ(actual.maximum_per_minute, expected.maximum_per_minute);
    EXPECT_EQ(actual.overwrite_mode, expected.overwrite_mode);
    EXPECT_EQ(actual.multi_module_mode, expected.multi_module_mode);
    EXPECT_EQ(actual.need_push, expected.need_push);
    EXPECT_EQ(actual.need_confirm, expected.need_confirm);
    EXPECT_EQ(actual.download_protocol, expected.download_protocol);
    EXPECT_EQ(actual.schedule_ms, expected.schedule_ms);
    EXPECT_EQ(actual.schedule_finish_ms, expected.schedule_finish_ms);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
    EXPECT_EQ(actual.start_ms, expected.start_ms);
    EXPECT_EQ(actual.end_ms, expected.end_ms);
    EXPECT_EQ(actual.push_window_start_ms, expected.push_window_start_ms);
    EXPECT_EQ(actual.push_window_count, expected.push_window_count);
    EXPECT_EQ(actual.push_backlog, expected.push_backlog);
}

void ExpectSameTask(const Task& actual, const Task& expected) {
    EXPECT_EQ(actual.task_id, expected.task_id);
    EXPECT_EQ(actual.job_id, expected.job_id);
    EXPECT_EQ(actual.firmware_id, expected.firmware_id);
    EXPECT_EQ(actual.iot_id, expected.iot_id);
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.device_name, expected.device_name);
    EXPECT_EQ(actual.module_name, expected.module_name);
    EXPECT_EQ(actual.src_version, expected.src_version);
    EXPECT_EQ(actual.dest_version, expected.dest_version);
    EXPECT_EQ(actual.status, expected.status);
    EXPECT_EQ(actual.progress, expected.progress);
    EXPECT_EQ(actual.task_desc, expected.task_desc);
    EXPECT_EQ(actual.job_created_ms, expected.job_created_ms);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
    EXPECT_EQ(actual.retries_used, expected.retries_used);
    EXPECT_EQ(actual.retry_at_ms, expected.retry_at_ms);
    EXPECT_EQ(actual.progress_started_ms, expected.progress_started_ms);
    EXPECT_EQ(actual.timeout_at_ms, expected.timeout_at_ms);
    EXPECT_EQ(actual.notified_ms, expected.notified_ms);
}

void ExpectSameModule(const domain::Module& actual, const domain::Module& expected) {
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.module_name, expected.module_name);
    EXPECT_EQ(actual.alias_name, expected.alias_name);
    EXPECT_EQ(actual.desc, expected.desc);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
}

void ExpectSameModuleVersion(const domain::ModuleVersion& actual,
                             const domain::ModuleVersion& expected) {
    EXPECT_EQ(actual.iot_id, expected.iot_id);
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.device_name, expected.device_name);
    EXPECT_EQ(actual.module_name, expected.module_name);
    EXPECT_EQ(actual.version, expected.version);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
}

void ExpectSameGroup(const domain::Group& actual, const domain::Group& expected) {
    EXPECT_EQ(actual.group_id, expected.group_id);
    EXPECT_EQ(actual.group_name, expected.group_name);
    EXPECT_EQ(actual.group_desc, expected.group_desc);
    EXPECT_EQ(actual.group_type, expected.group_type);
    EXPECT_EQ(actual.dynamic_expression, expected.dynamic_expression);
    EXPECT_EQ(actual.super_group_id, expected.super_group_id);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
}

void ExpectSameRegistration(const domain::BatchRegistration& actual,
                            const domain::BatchRegistration& expected) {
    EXPECT_EQ(actual.apply_id, expected.apply_id);
    EXPECT_EQ(actual.product_key, expected.product_key);
    EXPECT_EQ(actual.count, expected.count);
    EXPECT_EQ(actual.status, expected.status);
    EXPECT_EQ(actual.valid_names, expected.valid_names);
    EXPECT_EQ(actual.invalid_names, expected.invalid_names);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.modified_ms, expected.modified_ms);
}

void ExpectSameFile(const domain::StoredFile& actual, const domain::StoredFile& expected) {
    EXPECT_EQ(actual.object_key, expected.object_key);
    EXPECT_EQ(actual.kind, expected.kind);
    EXPECT_EQ(actual.size, expected.size);
    EXPECT_EQ(actual.md5, expected.md5);
    EXPECT_EQ(actual.sha256, expected.sha256);
    EXPECT_EQ(actual.created_ms, expected.created_ms);
    EXPECT_EQ(actual.upload_deadline_ms, expected.upload_deadline_ms);
    EXPECT_EQ(actual.uploaded_ms, expected.uploaded_ms);
    EXPECT_EQ(actual.referenced, expected.referenced);
}

void StoreConformanceTest::SetUp() {
    if (GetParam().make_env) {
        env_ = GetParam().make_env();
    }
    if (env_ == nullptr) {
        GTEST_SKIP() << GetParam().name << ": " << GetParam().skip_reason;
    }
    auto opened = env_->Open();
    OTA_ASSERT_OK(opened);
    store_ = std::move(opened).value();

    MustWrite([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(account_a_,
                             tx.InsertAccount(Account{.id = 0,
                                                      .name = "alice",
                                                      .access_key_id = "AKIDALICE",
                                                      .access_key_secret = "sa",
                                                      .enabled = true,
                                                      .created_ms = 1000}));
        OTA_ASSIGN_OR_RETURN(account_b_,
                             tx.InsertAccount(Account{.id = 0,
                                                      .name = "bob",
                                                      .access_key_id = "AKIDBOB",
                                                      .access_key_secret = "sb",
                                                      .enabled = false,
                                                      .created_ms = 2000}));
        OTA_ASSIGN_OR_RETURN(instance_a1_,
                             tx.InsertInstance(Instance{.id = 0,
                                                        .account_id = account_a_.id,
                                                        .instance_id = "iot-a-default",
                                                        .is_default = true,
                                                        .created_ms = 1001}));
        OTA_ASSIGN_OR_RETURN(instance_a2_,
                             tx.InsertInstance(Instance{.id = 0,
                                                        .account_id = account_a_.id,
                                                        .instance_id = "iot-a-second",
                                                        .is_default = false,
                                                        .created_ms = 1002}));
        OTA_ASSIGN_OR_RETURN(instance_b1_,
                             tx.InsertInstance(Instance{.id = 0,
                                                        .account_id = account_b_.id,
                                                        .instance_id = "iot-b-default",
                                                        .is_default = true,
                                                        .created_ms = 2001}));
        return Ok();
    });
    a1_ = Scope{account_a_.id, instance_a1_.id};
    a2_ = Scope{account_a_.id, instance_a2_.id};
    b1_ = Scope{account_b_.id, instance_b1_.id};
}

void StoreConformanceTest::TearDown() {
    store_.reset();
    env_.reset();
}

void StoreConformanceTest::MustWrite(const std::function<Status(WriteTx&)>& fn) {
    ASSERT_NE(store_, nullptr);
    OTA_ASSERT_OK(store_->Write(fn));
}

void StoreConformanceTest::MustRead(const std::function<Status(ReadTx&)>& fn) {
    ASSERT_NE(store_, nullptr);
    OTA_ASSERT_OK(store_->Read(fn));
}

void StoreConformanceTest::SeedCatalog(const Scope& scope,
                                       const Product& product,
                                       const std::vector<Device>& devices,
                                       const Firmware& firmware) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertProduct(scope, product));
        for (const Device& device : devices) {
            OTA_TRY(tx.InsertDevice(scope, device));
        }
        return tx.InsertFirmware(scope, firmware);
    });
}

}  // namespace otad::conformance
