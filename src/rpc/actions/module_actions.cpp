#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {

Status CreateOTAModuleAction(ActionContext& ctx) {
    domain::CreateModuleCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(cmd.module_name, RequiredString(ctx.params, "ModuleName"));
    cmd.alias_name = OptionalString(ctx.params, "AliasName");
    cmd.desc = OptionalString(ctx.params, "Desc");
    return ctx.services.CreateModule(ctx.scope, cmd);
}

Status UpdateOTAModuleAction(ActionContext& ctx) {
    domain::UpdateModuleCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(cmd.module_name, RequiredString(ctx.params, "ModuleName"));
    // Absent fields keep their value; an empty Desc clears the description.
    cmd.alias_name = PresentString(ctx.params, "AliasName");
    if (const std::string* desc = ctx.params.Find("Desc")) {
        cmd.desc = *desc;
    }
    return ctx.services.UpdateModule(ctx.scope, cmd);
}

Status DeleteOTAModuleAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(const std::string module_name, RequiredString(ctx.params, "ModuleName"));
    return ctx.services.DeleteModule(ctx.scope, product_key, module_name);
}

Status ListOTAModuleByProductAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(const auto modules, ctx.services.ListModules(ctx.scope, product_key));
    ResponseWriter& w = ctx.out;
    // Data is a bare array here, unlike the wrapped lists of the other operations.
    w.BeginArray("Data");
    for (const domain::Module& m : modules) {
        w.BeginItem();
        w.String("ModuleName", m.module_name);
        w.String("AliasName", m.alias_name);
        w.String("Desc", m.desc);
        w.String("ProductKey", m.product_key);
        w.String("GmtCreate", FormatUtcMinutes(m.created_ms));
        w.String("GmtModified", FormatUtcMinutes(m.modified_ms));
        w.EndItem();
    }
    w.EndArray();
    return Ok();
}

Status ListOTAModuleVersionsByDeviceAction(ActionContext& ctx) {
    int64_t current_page = 0;
    int64_t page_size = 0;
    OTA_TRY(ReadPaging(ctx.params, true, 200, current_page, page_size));
    OTA_ASSIGN_OR_RETURN(const domain::DeviceRef ref, ReadDeviceRef(ctx.params));
    OTA_ASSIGN_OR_RETURN(const auto page,
                         ctx.services.ListModuleVersions(ctx.scope, ref, current_page, page_size));
    ResponseWriter& w = ctx.out;
    WritePaging(w, current_page, page_size, page.total);
    w.BeginObject("Data");
    w.BeginArray("SimpleOTAModuleInfo");
    for (const domain::ModuleVersion& v : page.items) {
        w.BeginItem();
        w.String("ProductKey", v.product_key);
        w.String("DeviceName", v.device_name);
        w.String("IotId", v.iot_id);
        w.String("ModuleName", v.module_name);
        w.String("ModuleVersion", v.version);
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

}  // namespace otad::rpc
