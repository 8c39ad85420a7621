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
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("JobId", job.job_id);
    w.String("UtcCreate", FormatUtcMs(job.created_ms));
    w.EndObject();
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

}  // namespace otad::rpc
