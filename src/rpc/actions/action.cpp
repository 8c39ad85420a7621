#include "rpc/actions/action.hpp"

#include "common/text.hpp"
#include "common/time_format.hpp"

#include <array>

namespace otad::rpc {
namespace {

constexpr std::array kActions = {
    ActionSpec{"CreateProduct", &CreateProductAction, 50},
    ActionSpec{"QueryProduct", &QueryProductAction, 50},
    ActionSpec{"RegisterDevice", &RegisterDeviceAction, 30},
    ActionSpec{"QueryDeviceDetail", &QueryDeviceDetailAction, 50},
    ActionSpec{"CreateOTAFirmware", &CreateOTAFirmwareAction, 10},
    ActionSpec{"QueryOTAFirmware", &QueryOTAFirmwareAction, 20},
    ActionSpec{"CreateOTAStaticUpgradeJob", &CreateOTAStaticUpgradeJobAction, 20},
    ActionSpec{"ListOTAJobByDevice", &ListOTAJobByDeviceAction, 10},
    ActionSpec{"GenerateOTAUploadURL", &GenerateOTAUploadURLAction, 10},
    ActionSpec{"GenerateDeviceNameListURL", &GenerateDeviceNameListURLAction, 10},
    ActionSpec{"QueryProductList", &QueryProductListAction, 50},
    ActionSpec{"UpdateProduct", &UpdateProductAction, 10},
    ActionSpec{"DeleteProduct", &DeleteProductAction, 500},
    ActionSpec{"QueryDevice", &QueryDeviceAction, 50},
    ActionSpec{"DeleteDevice", &DeleteDeviceAction, 500},
    ActionSpec{"BatchRegisterDevice", &BatchRegisterDeviceAction, 10},
    ActionSpec{"QueryBatchRegisterDeviceStatus", &QueryBatchRegisterDeviceStatusAction, 30},
    ActionSpec{"CreateDeviceGroup", &CreateDeviceGroupAction, 500},
    ActionSpec{"CreateDeviceDynamicGroup", &CreateDeviceDynamicGroupAction, 50},
    ActionSpec{"BatchAddDeviceGroupRelations", &BatchAddDeviceGroupRelationsAction, 50},
    ActionSpec{"QueryDeviceGroupList", &QueryDeviceGroupListAction, 100},
    ActionSpec{"QueryDeviceGroupInfo", &QueryDeviceGroupInfoAction, 30},
    ActionSpec{"DeleteDeviceGroup", &DeleteDeviceGroupAction, 500},
    ActionSpec{"CreateOTAModule", &CreateOTAModuleAction, 10},
    ActionSpec{"UpdateOTAModule", &UpdateOTAModuleAction, 10},
    ActionSpec{"DeleteOTAModule", &DeleteOTAModuleAction, 10},
    ActionSpec{"ListOTAModuleByProduct", &ListOTAModuleByProductAction, 10},
    ActionSpec{"ListOTAModuleVersionsByDevice", &ListOTAModuleVersionsByDeviceAction, 10},
    ActionSpec{"ListOTAFirmware", &ListOTAFirmwareAction, 10},
    ActionSpec{"DeleteOTAFirmware", &DeleteOTAFirmwareAction, 10},
    ActionSpec{"CreateOTAVerifyJob", &CreateOTAVerifyJobAction, 10},
    ActionSpec{"CreateOTADynamicUpgradeJob", &CreateOTADynamicUpgradeJobAction, 20},
    ActionSpec{"QueryOTAJob", &QueryOTAJobAction, 10},
    ActionSpec{"ListOTAJobByFirmware", &ListOTAJobByFirmwareAction, 10},
    ActionSpec{"CancelOTAStrategyByJob", &CancelOTAStrategyByJobAction, 10},
    ActionSpec{"ListOTATaskByJob", &ListOTATaskByJobAction, 10},
    ActionSpec{"ListOTAUnfinishedTaskByDevice", &ListOTAUnfinishedTaskByDeviceAction, 10},
    ActionSpec{"CancelOTATaskByJob", &CancelOTATaskByJobAction, 5},
    ActionSpec{"CancelOTATaskByDevice", &CancelOTATaskByDeviceAction, 10},
    ActionSpec{"ReupgradeOTATask", &ReupgradeOTATaskAction, 20},
    ActionSpec{"ConfirmOTATask", &ConfirmOTATaskAction, 20},
};

}  // namespace

std::span<const ActionSpec> AllActions() {
    return kActions;
}

std::optional<uint32_t> FindAction(std::string_view name) {
    for (uint32_t i = 0; i < kActions.size(); ++i) {
        if (kActions[i].name == name) {
            return i;
        }
    }
    return std::nullopt;
}

Result<std::string> RequiredString(const ParamMap& p, std::string_view name) {
    const std::string* v = p.Find(name);
    if (v == nullptr || v->empty()) {
        return MissingParam(std::string(name));
    }
    return *v;
}

std::string OptionalString(const ParamMap& p, std::string_view name) {
    const std::string* v = p.Find(name);
    return v == nullptr ? std::string{} : *v;
}

std::optional<std::string> PresentString(const ParamMap& p, std::string_view name) {
    const std::string* v = p.Find(name);
    if (v == nullptr || v->empty()) {
        return std::nullopt;
    }
    return *v;
}

Result<int64_t> RequiredInt(const ParamMap& p, std::string_view name) {
    const std::string* v = p.Find(name);
    if (v == nullptr || v->empty()) {
        return MissingParam(std::string(name));
    }
    const auto n = text::ParseInt64(*v);
    if (!n) {
        return InvalidParam(std::string(name));
    }
    return *n;
}

Result<std::optional<int64_t>> OptionalInt(const ParamMap& p, std::string_view name) {
    const std::string* v = p.Find(name);
    if (v == nullptr || v->empty()) {
        return std::optional<int64_t>{};
    }
    const auto n = text::ParseInt64(*v);
    if (!n) {
        return InvalidParam(std::string(name));
    }
    return std::optional<int64_t>{*n};
}

Result<std::optional<bool>> OptionalBool(const ParamMap& p, std::string_view name) {
    const std::string* v = p.Find(name);
    if (v == nullptr || v->empty()) {
        return std::optional<bool>{};
    }
    const auto b = text::ParseBool(*v);
    if (!b) {
        return InvalidParam(std::string(name));
    }
    return std::optional<bool>{*b};
}

Result<std::vector<domain::Tag>> TagList(const ParamMap& p, std::string_view prefix) {
    std::vector<domain::Tag> tags;
    for (const auto& group : p.ObjectList(prefix)) {
        domain::Tag tag;
        bool has_key = false;
        bool has_value = false;
        for (const Param& field : group) {
            if (field.name == "Key") {
                tag.key = field.value;
                has_key = true;
            } else if (field.name == "Value") {
                tag.value = field.value;
                has_value = true;
            }
        }
        if (!has_key || !has_value) {
            return MakeError(ErrorCode::kInvalidFormattedParameter,
                             "Every tag needs both Key and Value.");
        }
        tags.push_back(std::move(tag));
    }
    return tags;
}

std::string_view JobStatusName(domain::JobStatus s) {
    switch (s) {
        case domain::JobStatus::kPlanned:
            return "PLANNED";
        case domain::JobStatus::kInProgress:
            return "IN_PROGRESS";
        case domain::JobStatus::kCompleted:
            return "COMPLETED";
        case domain::JobStatus::kCanceled:
            return "CANCELED";
    }
    return "";
}

std::string_view JobTypeName(domain::JobType t) {
    switch (t) {
        case domain::JobType::kVerifyFirmware:
            return "VERFIY_FIRMWARE";  // sic: the spelling Alibaba's API returns
        case domain::JobType::kUpgradeFirmware:
            return "UPGRADE_FIRMWARE";
    }
    return "";
}

std::string_view SelectionTypeName(domain::SelectionType s) {
    switch (s) {
        case domain::SelectionType::kStatic:
            return "STATIC";
        case domain::SelectionType::kDynamic:
            return "DYNAMIC";
    }
    return "";
}

std::string_view TargetSelectionName(domain::TargetSelection s) {
    switch (s) {
        case domain::TargetSelection::kAll:
            return "ALL";
        case domain::TargetSelection::kSpecific:
            return "SPECIFIC";
        case domain::TargetSelection::kGray:
            return "GRAY";
        case domain::TargetSelection::kGroup:
            return "GROUP";
    }
    return "";
}

std::string_view TaskStatusName(domain::TaskStatus s) {
    switch (s) {
        case domain::TaskStatus::kConfirm:
            return "CONFIRM";
        case domain::TaskStatus::kQueued:
            return "QUEUED";
        case domain::TaskStatus::kNotified:
            return "NOTIFIED";
        case domain::TaskStatus::kInProgress:
            return "IN_PROGRESS";
        case domain::TaskStatus::kSucceeded:
            return "SUCCEEDED";
        case domain::TaskStatus::kFailed:
            return "FAILED";
        case domain::TaskStatus::kCanceled:
            return "CANCELED";
    }
    return "";
}

void WriteTags(ResponseWriter& w, const std::vector<domain::Tag>& tags) {
    w.BeginObject("Tags");
    w.BeginArray("OtaTagDTO");
    for (const domain::Tag& t : tags) {
        w.BeginItem();
        w.String("Key", t.key);
        w.String("Value", t.value);
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
}

void WriteSimpleJobInfo(ResponseWriter& w, const domain::Job& job) {
    w.BeginItem();
    w.String("JobId", job.job_id);
    w.String("FirmwareId", job.firmware_id);
    w.String("ProductKey", job.product_key);
    w.String("JobStatus", JobStatusName(job.job_status));
    w.String("JobType", JobTypeName(job.job_type));
    w.String("SelectionType", SelectionTypeName(job.selection_type));
    w.String("TargetSelection", TargetSelectionName(job.target_selection));
    WriteTags(w, job.tags);
    w.String("UtcCreate", FormatUtcMs(job.created_ms));
    w.String("UtcModified", FormatUtcMs(job.modified_ms));
    if (job.start_ms != 0) {
        w.String("UtcStartTime", FormatUtcMs(job.start_ms));
    }
    if (job.end_ms != 0 && job.job_status == domain::JobStatus::kCompleted) {
        w.String("UtcEndTime", FormatUtcMs(job.end_ms));
    }
    w.EndItem();
}

Status ReadPaging(const ParamMap& p,
                  bool required,
                  int64_t max_page_size,
                  int64_t& current_page,
                  int64_t& page_size) {
    if (required) {
        OTA_ASSIGN_OR_RETURN(current_page, RequiredInt(p, "CurrentPage"));
        OTA_ASSIGN_OR_RETURN(page_size, RequiredInt(p, "PageSize"));
    } else {
        OTA_ASSIGN_OR_RETURN(auto page, OptionalInt(p, "CurrentPage"));
        OTA_ASSIGN_OR_RETURN(auto size, OptionalInt(p, "PageSize"));
        current_page = page.value_or(1);
        page_size = size.value_or(10);
    }
    constexpr int64_t kMaxRow = 1'000'000'000;
    if (current_page < 1 || page_size < 1 || page_size > max_page_size ||
        current_page > kMaxRow / page_size) {
        return MakeError(ErrorCode::kInvalidPageParams);
    }
    return Ok();
}

Result<domain::DeviceRef> ReadDeviceRef(const ParamMap& p) {
    domain::DeviceRef ref;
    ref.iot_id = OptionalString(p, "IotId");
    if (ref.iot_id.empty()) {
        OTA_ASSIGN_OR_RETURN(ref.product_key, RequiredString(p, "ProductKey"));
        OTA_ASSIGN_OR_RETURN(ref.device_name, RequiredString(p, "DeviceName"));
    }
    return ref;
}

void WritePaging(ResponseWriter& w, int64_t current_page, int64_t page_size, int64_t total) {
    w.Int("CurrentPage", current_page);
    w.Int("PageSize", page_size);
    w.Int("PageCount", total == 0 ? 0 : (total + page_size - 1) / page_size);
    w.Int("Total", total);
}

}  // namespace otad::rpc
