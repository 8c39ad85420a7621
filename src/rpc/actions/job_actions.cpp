#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {
namespace {

Result<domain::JobPolicy> ParsePolicy(const ParamMap& p) {
    domain::JobPolicy policy;
    OTA_ASSIGN_OR_RETURN(policy.retry_interval_min, OptionalInt(p, "RetryInterval"));
    OTA_ASSIGN_OR_RETURN(policy.retry_count, OptionalInt(p, "RetryCount"));
    OTA_ASSIGN_OR_RETURN(policy.timeout_min, OptionalInt(p, "TimeoutInMinutes"));
    OTA_ASSIGN_OR_RETURN(policy.maximum_per_minute, OptionalInt(p, "MaximumPerMinute"));
    OTA_ASSIGN_OR_RETURN(policy.overwrite_mode, OptionalInt(p, "OverwriteMode"));
    OTA_ASSIGN_OR_RETURN(policy.multi_module_mode, OptionalBool(p, "MultiModuleMode"));
    OTA_ASSIGN_OR_RETURN(policy.need_push, OptionalBool(p, "NeedPush"));
    OTA_ASSIGN_OR_RETURN(policy.need_confirm, OptionalBool(p, "NeedConfirm"));
    policy.download_protocol = PresentString(p, "DownloadProtocol");
    OTA_ASSIGN_OR_RETURN(policy.tags, TagList(p, "Tag"));
    return policy;
}

// The answer of every batch-creating action: Data{JobId, UtcCreate}.
void WriteJobCreated(ResponseWriter& w, const domain::Job& job) {
    w.BeginObject("Data");
    w.String("JobId", job.job_id);
    w.String("UtcCreate", FormatUtcMs(job.created_ms));
    w.EndObject();
}

}  // namespace

Status CreateOTAStaticUpgradeJobAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CreateStaticJobCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.firmware_id, RequiredString(p, "FirmwareId"));
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(p, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(cmd.target_selection, RequiredString(p, "TargetSelection"));
    cmd.src_versions = p.List("SrcVersion");
    cmd.target_device_names = p.List("TargetDeviceName");
    cmd.dn_list_file_url = OptionalString(p, "DnListFileUrl");
    cmd.gray_percent = OptionalString(p, "GrayPercent");
    cmd.group_id = OptionalString(p, "GroupId");
    cmd.group_type = OptionalString(p, "GroupType");
    OTA_ASSIGN_OR_RETURN(cmd.schedule_ms, OptionalInt(p, "ScheduleTime"));
    OTA_ASSIGN_OR_RETURN(cmd.schedule_finish_ms, OptionalInt(p, "ScheduleFinishTime"));
    OTA_ASSIGN_OR_RETURN(cmd.policy, ParsePolicy(p));
    OTA_ASSIGN_OR_RETURN(const domain::Job job, ctx.services.CreateStaticJob(ctx.scope, cmd));
    WriteJobCreated(ctx.out, job);
    return Ok();
}

Status ListOTAJobByDeviceAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::ListJobsByDeviceQuery q;
    OTA_ASSIGN_OR_RETURN(q.product_key, RequiredString(p, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(q.device_name, RequiredString(p, "DeviceName"));
    OTA_ASSIGN_OR_RETURN(q.firmware_id, RequiredString(p, "FirmwareId"));
    OTA_ASSIGN_OR_RETURN(q.current_page, RequiredInt(p, "CurrentPage"));
    OTA_ASSIGN_OR_RETURN(q.page_size, RequiredInt(p, "PageSize"));
    OTA_ASSIGN_OR_RETURN(const domain::Page<domain::Job> page,
                         ctx.services.ListJobsByDevice(ctx.scope, q));
    ResponseWriter& w = ctx.out;
    WritePaging(w, q.current_page, q.page_size, page.total);
    w.BeginObject("Data");
    w.BeginArray("SimpleOTAJobInfo");
    for (const domain::Job& job : page.items) {
        WriteSimpleJobInfo(w, job);
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status CreateOTAVerifyJobAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CreateVerifyJobCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.firmware_id, RequiredString(p, "FirmwareId"));
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(p, "ProductKey"));
    cmd.target_device_names = p.List("TargetDeviceName");
    if (cmd.target_device_names.empty()) {
        return MissingParam("TargetDeviceName");
    }
    OTA_ASSIGN_OR_RETURN(cmd.policy.timeout_min, OptionalInt(p, "TimeoutInMinutes"));
    OTA_ASSIGN_OR_RETURN(cmd.policy.need_push, OptionalBool(p, "NeedPush"));
    OTA_ASSIGN_OR_RETURN(cmd.policy.need_confirm, OptionalBool(p, "NeedConfirm"));
    cmd.policy.download_protocol = PresentString(p, "DownloadProtocol");
    OTA_ASSIGN_OR_RETURN(cmd.policy.tags, TagList(p, "Tag"));
    OTA_ASSIGN_OR_RETURN(const domain::Job job, ctx.services.CreateVerifyJob(ctx.scope, cmd));
    WriteJobCreated(ctx.out, job);
    return Ok();
}

Status CreateOTADynamicUpgradeJobAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CreateDynamicJobCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.firmware_id, RequiredString(p, "FirmwareId"));
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(p, "ProductKey"));
    cmd.src_versions = p.List("SrcVersion");
    cmd.group_id = OptionalString(p, "GroupId");
    cmd.group_type = OptionalString(p, "GroupType");
    OTA_ASSIGN_OR_RETURN(cmd.dynamic_mode, OptionalInt(p, "DynamicMode"));
    OTA_ASSIGN_OR_RETURN(cmd.policy, ParsePolicy(p));
    OTA_ASSIGN_OR_RETURN(const domain::Job job, ctx.services.CreateDynamicJob(ctx.scope, cmd));
    WriteJobCreated(ctx.out, job);
    return Ok();
}

Status QueryOTAJobAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string id, RequiredString(ctx.params, "JobId"));
    OTA_ASSIGN_OR_RETURN(const domain::JobDetail detail, ctx.services.QueryJob(ctx.scope, id));
    const domain::Job& job = detail.job;
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("JobId", job.job_id);
    w.String("JobStatus", JobStatusName(job.job_status));
    w.String("JobType", JobTypeName(job.job_type));
    w.String("JobDesc", job.job_desc);
    w.String("SelectionType", SelectionTypeName(job.selection_type));
    w.String("TargetSelection", TargetSelectionName(job.target_selection));
    w.String("FirmwareId", job.firmware_id);
    w.String("Name", detail.firmware_name);
    w.String("ProductKey", job.product_key);
    w.String("DestVersion", detail.dest_version);
    w.BeginObject("SrcVersions");
    w.BeginArray("SrcVersion");
    for (const std::string& v : job.src_versions) {
        w.ItemString(v);
    }
    w.EndArray();
    w.EndObject();
    WriteTags(w, job.tags);
    if (job.dynamic_mode) {
        w.Int("DynamicMode", *job.dynamic_mode);
    }
    if (!job.gray_percent.empty()) {
        w.String("GrayPercent", job.gray_percent);
    }
    if (!job.group_id.empty()) {
        w.String("GroupId", job.group_id);
        w.String("GroupName", job.group_name);
    }
    if (job.retry_interval_min) {
        w.Int("RetryInterval", *job.retry_interval_min);
        w.Int("RetryCount", job.retry_count.value_or(0));
    }
    if (job.timeout_min) {
        w.Int("TimeoutInMinutes", *job.timeout_min);
    }
    w.Int("MaximumPerMinute", job.maximum_per_minute);
    w.Int("OverwriteMode", job.overwrite_mode);
    w.Bool("MultiModuleMode", job.multi_module_mode);
    w.Bool("NeedPush", job.need_push);
    w.Bool("NeedConfirm", job.need_confirm);
    w.String("DownloadProtocol", job.download_protocol);
    w.String("UtcCreate", FormatUtcMs(job.created_ms));
    w.String("UtcModified", FormatUtcMs(job.modified_ms));
    if (job.start_ms != 0) {
        w.String("UtcStartTime", FormatUtcMs(job.start_ms));
    }
    if (job.end_ms != 0 && job.job_status == domain::JobStatus::kCompleted) {
        w.String("UtcEndTime", FormatUtcMs(job.end_ms));
    }
    if (job.schedule_ms != 0) {
        w.String("UtcScheduleTime", FormatUtcMs(job.schedule_ms));
    }
    if (job.schedule_finish_ms != 0) {
        w.String("UtcScheduleFinishTime", FormatUtcMs(job.schedule_finish_ms));
    }
    w.EndObject();
    return Ok();
}

Status ListOTAJobByFirmwareAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string id, RequiredString(ctx.params, "FirmwareId"));
    int64_t page = 1;
    int64_t size = 10;
    OTA_TRY(ReadPaging(ctx.params, /*required=*/true, 200, page, size));
    OTA_ASSIGN_OR_RETURN(const auto list,
                         ctx.services.ListJobsByFirmware(ctx.scope, id, page, size));
    ResponseWriter& w = ctx.out;
    WritePaging(w, page, size, list.total);
    w.BeginObject("Data");
    w.BeginArray("SimpleOTAJobInfo");
    for (const domain::Job& job : list.items) {
        WriteSimpleJobInfo(w, job);
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status CancelOTAStrategyByJobAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string id, RequiredString(ctx.params, "JobId"));
    return ctx.services.CancelStrategy(ctx.scope, id);
}

}  // namespace otad::rpc
