#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {
namespace {

void WriteTaskCommon(ResponseWriter& w, const domain::TaskDetail& d) {
    const domain::Task& t = d.task;
    w.String("TaskId", t.task_id);
    w.String("JobId", t.job_id);
    w.String("FirmwareId", t.firmware_id);
    w.String("ProductKey", t.product_key);
    w.String("ProductName", d.product_name);
    w.String("DeviceName", t.device_name);
    w.String("IotId", t.iot_id);
    w.String("SrcVersion", t.src_version);
    w.String("DestVersion", t.dest_version);
    w.String("TaskStatus", TaskStatusName(t.status));
}

}  // namespace

Status ListOTATaskByJobAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::TaskListQuery q;
    OTA_ASSIGN_OR_RETURN(q.job_id, RequiredString(p, "JobId"));
    q.task_status = PresentString(p, "TaskStatus");
    q.device_names = p.List("DeviceNames");
    OTA_ASSIGN_OR_RETURN(auto page, OptionalInt(p, "CurrentPage"));
    OTA_ASSIGN_OR_RETURN(auto size, OptionalInt(p, "PageSize"));
    q.current_page = page.value_or(1);
    q.page_size = size.value_or(10);
    OTA_ASSIGN_OR_RETURN(const auto list, ctx.services.ListTasksByJob(ctx.scope, q));
    ResponseWriter& w = ctx.out;
    if (q.device_names.empty()) {
        WritePaging(w, q.current_page, q.page_size, list.total);
    } else {
        // Named devices: one page holding all of them.
        WritePaging(w, 1, std::max<int64_t>(1, list.total), list.total);
    }
    w.BeginObject("Data");
    w.BeginArray("SimpleOTATaskInfo");
    for (const domain::TaskDetail& d : list.items) {
        w.BeginItem();
        WriteTaskCommon(w, d);
        w.String("Progress", d.task.progress);
        w.String("TaskDesc", d.task.task_desc);
        if (d.timeout_min) {
            w.String("Timeout", std::to_string(*d.timeout_min));
        }
        w.String("UtcCreate", FormatUtcMs(d.task.created_ms));
        w.String("UtcModified", FormatUtcMs(d.task.modified_ms));
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status ListOTAUnfinishedTaskByDeviceAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::UnfinishedTaskQuery q;
    OTA_ASSIGN_OR_RETURN(q.device, ReadDeviceRef(p));
    q.module_name = OptionalString(p, "ModuleName");
    const auto status = PresentString(p, "TaskStatus");
    q.statuses = p.List("TaskStatusList");
    if (status && !q.statuses.empty()) {
        return MakeError(ErrorCode::kInvalidFormattedParameter,
                         "Use either TaskStatus or TaskStatusList, not both.");
    }
    if (status) {
        q.statuses.push_back(*status);
    }
    OTA_ASSIGN_OR_RETURN(const auto tasks, ctx.services.ListUnfinishedTasks(ctx.scope, q));
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.BeginArray("SimpleOTATaskInfo");
    for (const domain::TaskDetail& d : tasks) {
        w.BeginItem();
        WriteTaskCommon(w, d);
        w.String("ModuleName", d.task.module_name);
        w.String("UtcCreate", FormatUtcMs(d.task.created_ms));
        w.String("UtcModified", FormatUtcMs(d.task.modified_ms));
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status CancelOTATaskByJobAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CancelByJobCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.job_id, RequiredString(p, "JobId"));
    OTA_ASSIGN_OR_RETURN(cmd.cancel_scheduled, OptionalBool(p, "CancelScheduledTask"));
    OTA_ASSIGN_OR_RETURN(cmd.cancel_queued, OptionalBool(p, "CancelQueuedTask"));
    OTA_ASSIGN_OR_RETURN(cmd.cancel_notified, OptionalBool(p, "CancelNotifiedTask"));
    OTA_ASSIGN_OR_RETURN(cmd.cancel_in_progress, OptionalBool(p, "CancelInProgressTask"));
    OTA_ASSIGN_OR_RETURN(cmd.cancel_unconfirmed, OptionalBool(p, "CancelUnconfirmedTask"));
    return ctx.services.CancelTasksByJob(ctx.scope, cmd);
}

Status CancelOTATaskByDeviceAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CancelByDeviceCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(p, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(cmd.firmware_id, RequiredString(p, "FirmwareId"));
    cmd.device_names = p.List("DeviceName");
    if (cmd.device_names.empty()) {
        return MissingParam("DeviceName");
    }
    cmd.job_id = OptionalString(p, "JobId");
    return ctx.services.CancelTasksByDevice(ctx.scope, cmd);
}

Status ReupgradeOTATaskAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string job_id, RequiredString(ctx.params, "JobId"));
    const std::vector<std::string> ids = ctx.params.List("TaskId");
    if (ids.empty()) {
        return MissingParam("TaskId");
    }
    return ctx.services.ReupgradeTasks(ctx.scope, job_id, ids);
}

Status ConfirmOTATaskAction(ActionContext& ctx) {
    const std::vector<std::string> ids = ctx.params.List("TaskId");
    if (ids.empty()) {
        return MissingParam("TaskId");
    }
    return ctx.services.ConfirmTasks(ctx.scope, ids);
}

}  // namespace otad::rpc
