#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"
#include "domain/services.hpp"
#include "rpc/params/params.hpp"
#include "rpc/render/writer.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// One Action = parse its parameters, call one domain service method, render the result.

namespace otad::domain {
class FileService;
}  // namespace otad::domain

namespace otad::rpc {

/// What a Region field reports and other per-deployment facts actions render.
struct ActionEnvironment {
    std::string region_id = "cn-shanghai";
};

struct ActionContext {
    const ParamMap& params;
    domain::Scope scope;
    domain::Services& services;
    domain::FileService& files;
    const ActionEnvironment& env;
    /// The root element is open and RequestId/Success are written; the action adds its fields.
    /// An action must finish every fallible step before it writes: on failure the dispatcher
    /// discards this writer and renders the error instead.
    ResponseWriter& out;
};

using ActionHandler = Status (*)(ActionContext&);

struct ActionSpec {
    std::string_view name;
    ActionHandler handler;
    /// Alibaba Cloud's documented calls per second per account; the throttling default.
    int64_t default_qps;
};

/// Every action otad serves, in a stable order (the index is the throttling key).
std::span<const ActionSpec> AllActions();
/// The action's index in AllActions(), or nothing.
std::optional<uint32_t> FindAction(std::string_view name);

// Parameter helpers. Required parameters that are absent or empty fail with Missing<Name>
// (a gateway error); values that cannot be read as their type fail with Invalid<Name>.
Result<std::string> RequiredString(const ParamMap& p, std::string_view name);
std::string OptionalString(const ParamMap& p, std::string_view name);
std::optional<std::string> PresentString(const ParamMap& p, std::string_view name);
Result<int64_t> RequiredInt(const ParamMap& p, std::string_view name);
Result<std::optional<int64_t>> OptionalInt(const ParamMap& p, std::string_view name);
Result<std::optional<bool>> OptionalBool(const ParamMap& p, std::string_view name);
/// `Tag.N.Key` / `Tag.N.Value` pairs in N order; both members are required per entry.
Result<std::vector<domain::Tag>> TagList(const ParamMap& p, std::string_view prefix);

// Renderers shared by several actions.
std::string_view JobStatusName(domain::JobStatus s);
std::string_view JobTypeName(domain::JobType t);
std::string_view SelectionTypeName(domain::SelectionType s);
std::string_view TargetSelectionName(domain::TargetSelection s);
std::string_view TaskStatusName(domain::TaskStatus s);
/// Writes `Tags: {OtaTagDTO: [{Key, Value}...]}`.
void WriteTags(ResponseWriter& w, const std::vector<domain::Tag>& tags);
/// Writes one SimpleOTAJobInfo item (ListOTAJobByDevice, ListOTAJobByFirmware).
void WriteSimpleJobInfo(ResponseWriter& w, const domain::Job& job);
/// Reads CurrentPage and PageSize: both required when `required`, otherwise defaulting to 1
/// and 10; kInvalidPageParams outside 1 <= CurrentPage, 1 <= PageSize <= max_page_size.
Status ReadPaging(const ParamMap& p,
                  bool required,
                  int64_t max_page_size,
                  int64_t& current_page,
                  int64_t& page_size);
/// A device named by IotId, or by ProductKey and DeviceName (both then required).
Result<domain::DeviceRef> ReadDeviceRef(const ParamMap& p);
/// Writes CurrentPage, PageSize, PageCount and Total.
void WritePaging(ResponseWriter& w, int64_t current_page, int64_t page_size, int64_t total);

// The handlers, grouped by resource.
Status CreateProductAction(ActionContext& ctx);
Status QueryProductAction(ActionContext& ctx);
Status RegisterDeviceAction(ActionContext& ctx);
Status QueryDeviceDetailAction(ActionContext& ctx);
Status CreateOTAFirmwareAction(ActionContext& ctx);
Status QueryOTAFirmwareAction(ActionContext& ctx);
Status CreateOTAStaticUpgradeJobAction(ActionContext& ctx);
Status ListOTAJobByDeviceAction(ActionContext& ctx);
Status GenerateOTAUploadURLAction(ActionContext& ctx);
// Products, devices, groups (product_actions.cpp, device_actions.cpp, group_actions.cpp).
Status QueryProductListAction(ActionContext& ctx);
Status UpdateProductAction(ActionContext& ctx);
Status DeleteProductAction(ActionContext& ctx);
Status QueryDeviceAction(ActionContext& ctx);
Status DeleteDeviceAction(ActionContext& ctx);
Status BatchRegisterDeviceAction(ActionContext& ctx);
Status QueryBatchRegisterDeviceStatusAction(ActionContext& ctx);
Status CreateDeviceGroupAction(ActionContext& ctx);
Status CreateDeviceDynamicGroupAction(ActionContext& ctx);
Status BatchAddDeviceGroupRelationsAction(ActionContext& ctx);
Status QueryDeviceGroupListAction(ActionContext& ctx);
Status QueryDeviceGroupInfoAction(ActionContext& ctx);
Status DeleteDeviceGroupAction(ActionContext& ctx);
// Modules (module_actions.cpp).
Status CreateOTAModuleAction(ActionContext& ctx);
Status UpdateOTAModuleAction(ActionContext& ctx);
Status DeleteOTAModuleAction(ActionContext& ctx);
Status ListOTAModuleByProductAction(ActionContext& ctx);
Status ListOTAModuleVersionsByDeviceAction(ActionContext& ctx);
// Firmware lists, batches and tasks (firmware_actions.cpp, job_actions.cpp, task_actions.cpp).
Status ListOTAFirmwareAction(ActionContext& ctx);
Status DeleteOTAFirmwareAction(ActionContext& ctx);
Status CreateOTAVerifyJobAction(ActionContext& ctx);
Status CreateOTADynamicUpgradeJobAction(ActionContext& ctx);
Status QueryOTAJobAction(ActionContext& ctx);
Status ListOTAJobByFirmwareAction(ActionContext& ctx);
Status CancelOTAStrategyByJobAction(ActionContext& ctx);
Status ListOTATaskByJobAction(ActionContext& ctx);
Status ListOTAUnfinishedTaskByDeviceAction(ActionContext& ctx);
Status CancelOTATaskByJobAction(ActionContext& ctx);
Status CancelOTATaskByDeviceAction(ActionContext& ctx);
Status ReupgradeOTATaskAction(ActionContext& ctx);
Status ConfirmOTATaskAction(ActionContext& ctx);
Status GenerateDeviceNameListURLAction(ActionContext& ctx);

}  // namespace otad::rpc
