#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "domain/device_channel.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The use cases of otad. Each public method is one operation: it validates what the caller
// asked, reads and writes through the Store in one transaction, and returns the records the
// rpc layer renders. Time comes from the injected Clock. Thread-safe (state lives in the Store).

namespace otad::domain {

/// Quotas and list bounds. Defaults follow Alibaba Cloud's documented limits.
struct ServiceLimits {
    int64_t max_products_per_instance = 1000;
    int64_t max_devices_per_product = 10'000'000;
    int64_t max_firmware_per_instance = 500;
    size_t max_target_device_names = 200;
    /// Tasks are written in slices of this many rows inside the batch's one transaction.
    size_t task_insert_slice = 10'000;
};

struct AccountWithInstance {
    Account account;
    Instance instance;
};

struct CreateProductCommand {
    std::string product_name;
    int64_t node_type = 0;
    std::optional<std::string> aliyun_commodity_code;
    std::optional<int64_t> data_format;
    std::string description;
    std::string protocol_type;
    std::optional<std::string> net_type;
    std::optional<std::string> auth_type;
    std::optional<bool> id2;
    std::string category_key;
    std::optional<bool> publish_auto;
    std::optional<int64_t> validate_type;
};

struct ProductDetail {
    Product product;
    int64_t device_count = 0;
};

struct RegisterDeviceCommand {
    std::string product_key;
    std::string device_name;  ///< empty: a random name is chosen
    std::string nickname;
};

struct DeviceDetail {
    Device device;
    std::string product_name;
    int node_type = 0;
};

/// Identifies a device by IotId, or by ProductKey and DeviceName when IotId is empty.
struct DeviceRef {
    std::string iot_id;
    std::string product_key;
    std::string device_name;
};

struct CreateFirmwareCommand {
    std::string firmware_name;
    std::string dest_version;
    std::string product_key;
    std::string firmware_url;
    std::optional<std::string> firmware_sign;
    std::optional<std::string> sign_method;
    std::optional<int64_t> firmware_size;
    std::string firmware_desc;
    std::optional<int64_t> type;
    std::string src_version;
    std::string module_name;
    std::optional<bool> need_to_verify;
    std::string udi;
    /// Multi-file package (at most 20 files); then firmware_url, firmware_sign and
    /// firmware_size must be absent.
    std::vector<FirmwareFile> multi_files;
};

struct FirmwareDetail {
    Firmware firmware;
    std::string product_name;
};

/// Policy parameters shared by the batch-creating operations; unset fields take defaults.
struct JobPolicy {
    std::optional<int64_t> retry_interval_min;
    std::optional<int64_t> retry_count;
    std::optional<int64_t> timeout_min;
    std::optional<int64_t> maximum_per_minute;
    std::optional<int64_t> overwrite_mode;
    std::optional<bool> multi_module_mode;
    std::optional<bool> need_push;
    std::optional<bool> need_confirm;
    std::optional<std::string> download_protocol;
    std::vector<Tag> tags;
};

struct CreateStaticJobCommand {
    std::string firmware_id;
    std::string product_key;
    std::string target_selection;  ///< ALL, SPECIFIC, GRAY, GROUP
    std::vector<std::string> src_versions;
    std::vector<std::string> target_device_names;
    std::string dn_list_file_url;
    std::string gray_percent;
    std::string group_id;
    std::string group_type;
    std::optional<int64_t> schedule_ms;
    std::optional<int64_t> schedule_finish_ms;
    JobPolicy policy;
};

struct ListJobsByDeviceQuery {
    std::string product_key;
    std::string device_name;
    std::string firmware_id;
    int64_t current_page = 1;
    int64_t page_size = 10;
};

/// One row of QueryProductList: a product with its device count.
struct ProductSummary {
    Product product;
    int64_t device_count = 0;
};

struct UpdateProductCommand {
    std::string product_key;
    std::string product_name;
    std::optional<std::string> description;  ///< absent: unchanged
};

struct CreateGroupCommand {
    std::string group_name;
    std::string super_group_id;  ///< empty: a top-level group
    std::string group_desc;
    GroupType group_type = GroupType::kStatic;
    std::string dynamic_expression;  ///< required for dynamic groups, refused for static ones
};

/// Outcome of BatchAddDeviceGroupRelations.
struct GroupRelationResult {
    int64_t valid_device_count = 0;  ///< named devices that exist
    int64_t success_added_device_count = 0;
    int64_t already_related_device_count = 0;
    int64_t exceed_ten_group_device_count = 0;  ///< refused: already in 10 groups
};

struct GroupListQuery {
    std::string name_fragment;     ///< empty: any name
    std::string super_group_id;    ///< empty: any parent
    std::vector<GroupType> types;  ///< empty: any type
    int64_t current_page = 1;
    int64_t page_size = 10;
};

struct GroupDetail {
    Group group;
    int64_t device_count = 0;
    int64_t device_online = 0;
    int64_t device_active = 0;  ///< members that have ever connected
};

struct CreateModuleCommand {
    std::string product_key;
    std::string module_name;
    std::string alias_name;
    std::string desc;
};

struct UpdateModuleCommand {
    std::string product_key;
    std::string module_name;
    std::optional<std::string> alias_name;  ///< absent: unchanged
    std::optional<std::string> desc;        ///< absent: unchanged
};

struct CreateVerifyJobCommand {
    std::string firmware_id;
    std::string product_key;
    std::vector<std::string> target_device_names;
    JobPolicy policy;  ///< only timeout, push, confirm, protocol and tags apply
};

struct CreateDynamicJobCommand {
    std::string firmware_id;
    std::string product_key;
    std::vector<std::string> src_versions;
    std::string group_id;
    std::string group_type;
    std::optional<int64_t> dynamic_mode;
    JobPolicy policy;
};

/// A job with what QueryOTAJob shows of its package.
struct JobDetail {
    Job job;
    std::string firmware_name;
    std::string dest_version;
};

struct TaskListQuery {
    std::string job_id;
    std::optional<std::string> task_status;
    std::vector<std::string> device_names;  ///< when present, paging is ignored
    int64_t current_page = 1;
    int64_t page_size = 10;
};

/// A task with what task lists show beside it.
struct TaskDetail {
    Task task;
    std::string product_name;
    std::optional<int> timeout_min;  ///< the job's timeout
};

struct UnfinishedTaskQuery {
    DeviceRef device;
    std::string module_name;
    std::vector<std::string> statuses;  ///< empty: all four unfinished states
};

struct CancelByJobCommand {
    std::string job_id;
    std::optional<bool> cancel_scheduled;
    std::optional<bool> cancel_queued;
    std::optional<bool> cancel_notified;
    std::optional<bool> cancel_in_progress;
    std::optional<bool> cancel_unconfirmed;
};

struct CancelByDeviceCommand {
    std::string product_key;
    std::string firmware_id;
    std::vector<std::string> device_names;
    std::string job_id;
};

class FileService;

class Services {
  public:
    Services(Store& store, const Clock& clock, ServiceLimits limits = {});

    /// Lets firmware and batches use files uploaded to otad (FirmwareUrl, MultiFiles.N.Url,
    /// DnListFileUrl). Without it only external URLs are accepted and device-list files are
    /// refused. `files` must outlive this object.
    void AttachFiles(FileService& files) { files_ = &files; }

    // Accounts.
    /// Creates an account with a fresh AccessKey pair (or the given one) and its default
    /// instance. kInvalidFormattedParameter if the name or key is taken or malformed.
    Result<AccountWithInstance> CreateAccount(
        std::string_view name,
        std::optional<std::pair<std::string, std::string>> key_pair = std::nullopt);
    Result<std::vector<AccountWithInstance>> ListAccounts();
    Result<std::optional<Account>> FindAccountByAccessKey(std::string_view access_key_id);
    /// The scope of `iot_instance_id` in the account, or its default instance when empty.
    /// kInstanceNotFound when the account has no such instance.
    Result<Scope> ResolveScope(int64_t account_id, std::string_view iot_instance_id);

    // Products and devices.
    Result<Product> CreateProduct(const Scope& scope, const CreateProductCommand& cmd);
    Result<ProductDetail> QueryProduct(const Scope& scope, std::string_view product_key);
    Result<Device> RegisterDevice(const Scope& scope, const RegisterDeviceCommand& cmd);
    Result<DeviceDetail> QueryDeviceDetail(const Scope& scope, const DeviceRef& ref);

    // Firmware.
    Result<Firmware> CreateFirmware(const Scope& scope, const CreateFirmwareCommand& cmd);
    Result<FirmwareDetail> QueryFirmware(const Scope& scope, std::string_view firmware_id);

    // Batches.
    Result<Job> CreateStaticJob(const Scope& scope, const CreateStaticJobCommand& cmd);
    /// kInvalidPageParams, kProductNotFound, kDeviceNotFound, kFirmwareNotFound.
    Result<Page<Job>> ListJobsByDevice(const Scope& scope, const ListJobsByDeviceQuery& query);

    // Products and devices (catalog_services.cpp).
    Result<Page<ProductSummary>> ListProducts(const Scope& scope,
                                              int64_t current_page,
                                              int64_t page_size);
    Status UpdateProduct(const Scope& scope, const UpdateProductCommand& cmd);
    /// kProductHasDevices while the product has devices.
    Status DeleteProduct(const Scope& scope, std::string_view product_key);
    Result<Page<Device>> QueryDevices(const Scope& scope,
                                      std::string_view product_key,
                                      int64_t current_page,
                                      int64_t page_size);
    /// Cancels the device's unfinished tasks, then deletes it.
    Status DeleteDevice(const Scope& scope, const DeviceRef& ref);
    /// Registers `count` devices with random names; returns the apply id to poll.
    Result<int64_t> BatchRegisterDevice(const Scope& scope,
                                        std::string_view product_key,
                                        int64_t count);
    Result<BatchRegistration> QueryBatchRegistration(const Scope& scope,
                                                     std::string_view product_key,
                                                     int64_t apply_id);

    // Groups (catalog_services.cpp).
    Result<Group> CreateGroup(const Scope& scope, const CreateGroupCommand& cmd);
    Status DeleteGroup(const Scope& scope, std::string_view group_id);
    Result<GroupRelationResult> AddDevicesToGroup(const Scope& scope,
                                                  std::string_view group_id,
                                                  const std::vector<DeviceRef>& devices);
    Result<Page<Group>> ListGroups(const Scope& scope, const GroupListQuery& query);
    Result<GroupDetail> QueryGroup(const Scope& scope, std::string_view group_id);

    // Modules (module_services.cpp).
    Status CreateModule(const Scope& scope, const CreateModuleCommand& cmd);
    Status UpdateModule(const Scope& scope, const UpdateModuleCommand& cmd);
    Status DeleteModule(const Scope& scope,
                        std::string_view product_key,
                        std::string_view module_name);
    /// The implicit `default` module first, then the custom ones.
    Result<std::vector<Module>> ListModules(const Scope& scope, std::string_view product_key);
    Result<Page<ModuleVersion>> ListModuleVersions(const Scope& scope,
                                                   const DeviceRef& device,
                                                   int64_t current_page,
                                                   int64_t page_size);

    // Firmware lists (job_services.cpp).
    Result<Page<FirmwareDetail>> ListFirmware(const Scope& scope,
                                              std::string_view product_key,
                                              std::string_view dest_version,
                                              int64_t current_page,
                                              int64_t page_size);
    /// kFirmwareInUse while the package has planned or running batches or unfinished tasks.
    Status DeleteFirmware(const Scope& scope, std::string_view firmware_id);

    // Batches (job_services.cpp).
    Result<Job> CreateVerifyJob(const Scope& scope, const CreateVerifyJobCommand& cmd);
    Result<Job> CreateDynamicJob(const Scope& scope, const CreateDynamicJobCommand& cmd);
    Result<JobDetail> QueryJob(const Scope& scope, std::string_view job_id);
    Result<Page<Job>> ListJobsByFirmware(const Scope& scope,
                                         std::string_view firmware_id,
                                         int64_t current_page,
                                         int64_t page_size);
    Status CancelStrategy(const Scope& scope, std::string_view job_id);

    // Tasks (task_services.cpp).
    Result<Page<TaskDetail>> ListTasksByJob(const Scope& scope, const TaskListQuery& query);
    Result<std::vector<TaskDetail>> ListUnfinishedTasks(const Scope& scope,
                                                        const UnfinishedTaskQuery& query);
    Status CancelTasksByJob(const Scope& scope, const CancelByJobCommand& cmd);
    Status CancelTasksByDevice(const Scope& scope, const CancelByDeviceCommand& cmd);
    Status ReupgradeTasks(const Scope& scope,
                          std::string_view job_id,
                          const std::vector<std::string>& task_ids);
    Status ConfirmTasks(const Scope& scope, const std::vector<std::string>& task_ids);

    // Device events (device_events.cpp): what a device's messages do to its tasks. The device
    // channel calls these; tests may call them directly.
    /// The task was delivered to the device (pushed, or pulled by it): QUEUED -> NOTIFIED.
    /// kTaskNotFound; kTaskStatusInvalid unless the task is QUEUED or NOTIFIED.
    Status MarkTaskNotified(const Scope& scope, std::string_view task_id);
    /// A progress report for the device's unfinished task of `module_name` ("" = default).
    /// step >= 0: IN_PROGRESS (the first report starts the timeout clock), Progress = step;
    /// step < 0: FAILED with `desc`, re-queued later when the batch retries failures.
    /// A report without a matching task changes nothing.
    Status ReportProgress(const Scope& scope,
                          std::string_view iot_id,
                          std::string_view module_name,
                          int64_t step,
                          std::string_view desc);
    /// A version report: records the module version; completes the unfinished task whose
    /// destination is that version; fails an IN_PROGRESS task when the version is neither its
    /// source nor its destination; enrolls the device in the newest running dynamic batch
    /// that the version qualifies for.
    Status ReportVersion(const Scope& scope,
                         std::string_view iot_id,
                         std::string_view module_name,
                         std::string_view version);

    // The device channel (device_channel.cpp). The transport feeds device events in arrival
    // order; the service applies a run of them in one transaction and returns what must be
    // sent. Events of unknown or deleted devices, and events with invalid content, are counted
    // as ignored and change nothing.
    Result<DeviceEventOutcome> ApplyDeviceEvents(const std::vector<DeviceEvent>& events);
    /// QUEUED tasks of running batches that push, whose device is online, up to each batch's
    /// MaximumPerMinute: marked NOTIFIED and returned for sending. At most `limit` per call.
    Result<std::vector<UpgradeNotice>> TakeDuePushes(int64_t limit);
    /// Offers again what was offered `stale_after_ms` ago or earlier and has not moved since
    /// (NOTIFIED or IN_PROGRESS tasks of online devices in running batches that push): the
    /// push, or the device's reports, may have been lost (a node that died between marking a
    /// task and sending it, a report lost with it). Returns the notices to send; each offer
    /// restarts the task's clock. At most `limit` per call.
    Result<std::vector<UpgradeNotice>> ReofferStaleTasks(int64_t stale_after_ms, int64_t limit);
    /// Marks every device offline: the transport lost the broker and will learn again who is
    /// online when it reconnects.
    Status ResetPresence();
    /// Several nodes on one database: the presence lease names the one node that follows device
    /// presence (logins and disconnections) at a time. Takes or renews it for `holder` for
    /// `term_ms` from now; returns whether `holder` holds it. A holder that stops renewing
    /// loses it when the term ends.
    Result<bool> HoldPresenceLease(std::string_view holder, int64_t term_ms);
    /// Gives the presence lease up at once if `holder` holds it (a node that stops).
    Status ReleasePresenceLease(std::string_view holder);
    /// Secret and state of a device for the broker's login check; nothing when unknown.
    Result<std::optional<Device>> FindDeviceForLogin(std::string_view product_key,
                                                     std::string_view device_name);

    // Time-driven work (scheduler.cpp): starts planned batches, ends batches at their finish
    // time, re-queues failed tasks whose retry is due and fails tasks that timed out. Returns
    // the number of jobs and tasks changed. Safe to call at any time, from one thread at once.
    Result<int64_t> RunDueWork();
    /// When RunDueWork should run next (0: nothing scheduled).
    Result<int64_t> NextDueTime();

    const ServiceLimits& limits() const { return limits_; }
    const Clock& clock() const { return clock_; }

  private:
    Store& store_;
    const Clock& clock_;
    ServiceLimits limits_;
    FileService* files_ = nullptr;
};

}  // namespace otad::domain
