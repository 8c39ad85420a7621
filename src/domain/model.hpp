#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Plain records of otad's resources. No I/O, no wire formats: the rpc layer renders them and
// the storage layer persists them. Times are epoch milliseconds UTC; 0 means "not set" for the
// optional times.

namespace otad::domain {

/// An Alibaba Cloud-style account: owns AccessKeys and instances.
struct Account {
    int64_t id = 0;
    std::string name;
    std::string access_key_id;
    std::string access_key_secret;
    bool enabled = true;
    int64_t created_ms = 0;
};

/// An IoT instance of an account. Every resource lives in exactly one instance; requests that
/// omit IotInstanceId address the account's default instance.
struct Instance {
    int64_t id = 0;  ///< storage key; unique across accounts
    int64_t account_id = 0;
    std::string instance_id;  ///< the IotInstanceId clients send
    bool is_default = false;
    int64_t created_ms = 0;
};

/// Where a request operates: the caller's account and one of its instances. Every repository
/// call takes a Scope, so one tenant's rows are never visible to another.
struct Scope {
    int64_t account_id = 0;
    int64_t instance_id = 0;  ///< Instance::id
};

enum class NodeType { kDevice = 0, kGateway = 1 };

enum class NetType { kWifi = 3, kCellular = 6, kEthernet = 7, kOther = 8 };

struct Product {
    std::string product_key;
    std::string product_name;
    std::string product_secret;
    std::string description;
    int node_type = 0;
    int data_format = 1;
    std::string aliyun_commodity_code = "iothub";
    std::string auth_type = "secret";
    std::string protocol_type;
    int net_type = static_cast<int>(NetType::kWifi);
    bool id2 = false;
    std::string category_key;
    int validate_type = 0;
    bool publish_auto = true;
    std::string product_status = "DEVELOPMENT_STATUS";
    int64_t created_ms = 0;
};

struct Device {
    std::string iot_id;
    std::string product_key;
    std::string device_name;
    std::string device_secret;
    std::string nickname;
    std::string status = "UNACTIVE";  ///< ONLINE, OFFLINE, UNACTIVE, DISABLE
    std::string firmware_version;     ///< last reported version of the `default` module
    std::string ip_address;
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
    int64_t active_ms = 0;
    int64_t online_ms = 0;
};

enum class SignMethod { kMd5, kSha256 };

/// Firmware verification state (QueryOTAFirmware Status).
enum class FirmwareStatus {
    kNoVerificationNeeded = -1,
    kNotVerified = 0,
    kVerified = 1,
    kVerifying = 2,
    kVerifyFailed = 3,
};

struct FirmwareFile {
    std::string name;
    std::string url;
    int64_t size = 0;
    std::string md5;
    std::string sign_value;
};

struct Firmware {
    std::string firmware_id;
    std::string firmware_name;
    std::string firmware_desc;
    std::string product_key;
    std::string module_name = "default";
    std::string dest_version;
    std::string src_version;  ///< empty for full packages
    int type = 0;             ///< 0 full, 1 differential
    SignMethod sign_method = SignMethod::kMd5;
    std::string firmware_sign;
    int64_t firmware_size = 0;
    std::string firmware_url;
    std::vector<FirmwareFile> multi_files;  ///< non-empty for multi-file packages
    bool need_to_verify = true;
    FirmwareStatus status = FirmwareStatus::kNotVerified;
    int verify_progress = 0;
    std::string udi;
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
};

enum class JobStatus { kPlanned, kInProgress, kCompleted, kCanceled };
enum class JobType { kVerifyFirmware, kUpgradeFirmware };
enum class SelectionType { kStatic, kDynamic };
enum class TargetSelection { kAll, kSpecific, kGray, kGroup };

struct Tag {
    std::string key;
    std::string value;
};

/// An update batch of one firmware package.
struct Job {
    std::string job_id;
    std::string firmware_id;
    std::string product_key;
    JobType job_type = JobType::kUpgradeFirmware;
    SelectionType selection_type = SelectionType::kStatic;
    TargetSelection target_selection = TargetSelection::kAll;
    JobStatus job_status = JobStatus::kInProgress;
    std::string job_desc;
    std::vector<std::string> src_versions;
    std::vector<Tag> tags;
    std::optional<int> dynamic_mode;
    std::string gray_percent;  ///< empty unless GRAY
    std::string group_id;
    std::string group_name;
    std::string dn_list_file_url;
    std::optional<int> retry_interval_min;
    std::optional<int> retry_count;
    std::optional<int> timeout_min;
    int maximum_per_minute = 10000;
    int overwrite_mode = 1;
    bool multi_module_mode = false;
    bool need_push = true;
    bool need_confirm = false;
    std::string download_protocol = "HTTPS";
    int64_t schedule_ms = 0;         ///< 0: not scheduled
    int64_t schedule_finish_ms = 0;  ///< 0: no forced end
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
    int64_t start_ms = 0;  ///< 0 until the job entered IN_PROGRESS
    int64_t end_ms = 0;    ///< 0 until the job ended
    // Push pacing (MaximumPerMinute): first pushes counted in the minute that started at
    // push_window_start_ms, and whether QUEUED tasks may be waiting for a push.
    int64_t push_window_start_ms = 0;
    int push_window_count = 0;
    bool push_backlog = false;
};

enum class TaskStatus {
    kConfirm,
    kQueued,
    kNotified,
    kInProgress,
    kSucceeded,
    kFailed,
    kCanceled,
};

inline bool IsUnfinished(TaskStatus s) {
    return s == TaskStatus::kConfirm || s == TaskStatus::kQueued || s == TaskStatus::kNotified ||
           s == TaskStatus::kInProgress;
}

/// One device's update inside one job.
struct Task {
    std::string task_id;
    std::string job_id;
    std::string firmware_id;
    std::string iot_id;
    std::string product_key;
    std::string device_name;
    std::string module_name = "default";
    std::string src_version;
    std::string dest_version;
    TaskStatus status = TaskStatus::kQueued;
    std::string progress = "0.00";
    std::string task_desc;
    int64_t job_created_ms = 0;  ///< copy of the job's creation time, for ordering
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
    /// Automatic retries already used (compared with the job's retry_count).
    int retries_used = 0;
    /// When a FAILED task is due to be queued again by automatic retry; 0 = never.
    int64_t retry_at_ms = 0;
    /// When the device first reported progress; the timeout clock starts here. 0 = not yet.
    int64_t progress_started_ms = 0;
    /// When an IN_PROGRESS task times out; 0 = no timeout.
    int64_t timeout_at_ms = 0;
    /// When the task was last pushed to (or pulled by) the device; 0 = never.
    int64_t notified_ms = 0;
};

/// Task counts of one job by status.
struct TaskCounts {
    int64_t confirm = 0;
    int64_t queued = 0;
    int64_t notified = 0;
    int64_t in_progress = 0;
    int64_t succeeded = 0;
    int64_t failed = 0;
    int64_t canceled = 0;
    int64_t Total() const {
        return confirm + queued + notified + in_progress + succeeded + failed + canceled;
    }
    int64_t Unfinished() const { return confirm + queued + notified + in_progress; }
};

/// Whether a job still has work: an unfinished task, or a failed one due for an automatic retry.
struct JobTaskState {
    bool has_unfinished = false;
    bool has_pending_retry = false;
};

/// An OTA module of a product. The `default` module is implicit and never stored.
struct Module {
    std::string product_key;
    std::string module_name;
    std::string alias_name;
    std::string desc;
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
};

/// The version a device last reported for one module.
struct ModuleVersion {
    std::string iot_id;
    std::string product_key;
    std::string device_name;
    std::string module_name;
    std::string version;
    int64_t modified_ms = 0;
};

enum class GroupType { kStatic, kDynamic };  ///< LINK_PLATFORM, LINK_PLATFORM_DYNAMIC

struct Group {
    std::string group_id;
    std::string group_name;
    std::string group_desc;
    GroupType group_type = GroupType::kStatic;
    std::string dynamic_expression;  ///< dynamic groups only
    std::string super_group_id;      ///< empty for a top-level group
    int64_t created_ms = 0;
};

/// An asynchronous BatchRegisterDevice request and its outcome.
struct BatchRegistration {
    int64_t apply_id = 0;  ///< unique across all tenants
    std::string product_key;
    int64_t count = 0;
    std::string status = "CREATE";  ///< CHECK, CHECK_SUCCESS, ..., CREATE_SUCCESS, CREATE_FAILED
    std::vector<std::string> valid_names;
    std::vector<std::string> invalid_names;
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
};

enum class FileKind { kFirmware, kDeviceList };

/// A file uploaded to otad's own storage through a form from GenerateOTAUploadURL or
/// GenerateDeviceNameListURL. The record exists from the moment the form is handed out;
/// `uploaded_ms` is 0 until the upload arrived.
struct StoredFile {
    std::string object_key;  ///< e.g. "ota/<random>/<name>.bin"; unique across tenants
    FileKind kind = FileKind::kFirmware;
    int64_t size = 0;
    std::string md5;     ///< lower-case hex
    std::string sha256;  ///< lower-case hex; also the name of the blob on disk
    int64_t created_ms = 0;
    int64_t upload_deadline_ms = 0;  ///< the form is valid until then
    int64_t uploaded_ms = 0;
    /// Set once a package or a batch uses the file; unreferenced files expire.
    bool referenced = false;
};

/// A job together with the scope it belongs to (for work that spans tenants, such as the
/// scheduler).
struct ScopedJob {
    Scope scope;
    Job job;
};

struct ScopedTask {
    Scope scope;
    Task task;
};

struct ScopedDevice {
    Scope scope;
    Device device;
};

/// One page of a list plus the size of the whole list.
template <typename T>
struct Page {
    std::vector<T> items;
    int64_t total = 0;
};

}  // namespace otad::domain
