#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {
namespace {

std::string_view GroupTypeName(domain::GroupType t) {
    switch (t) {
        case domain::GroupType::kStatic:
            return "LINK_PLATFORM";
        case domain::GroupType::kDynamic:
            return "LINK_PLATFORM_DYNAMIC";
    }
    return "";
}

Result<domain::GroupType> ParseGroupType(std::string_view name) {
    if (name == "LINK_PLATFORM") {
        return domain::GroupType::kStatic;
    }
    if (name == "LINK_PLATFORM_DYNAMIC") {
        return domain::GroupType::kDynamic;
    }
    return MakeError(ErrorCode::kInvalidFormattedParameter,
                     "GroupTypes must be LINK_PLATFORM or LINK_PLATFORM_DYNAMIC.");
}

void WriteCreatedGroup(ResponseWriter& w, const domain::Group& g) {
    w.BeginObject("Data");
    w.String("GroupId", g.group_id);
    w.String("GroupName", g.group_name);
    w.String("GroupDesc", g.group_desc);
    if (g.group_type == domain::GroupType::kDynamic) {
        w.String("DynamicGroupExpression", g.dynamic_expression);
    }
    w.String("UtcCreate", FormatUtcMs(g.created_ms));
    w.EndObject();
}

}  // namespace

Status CreateDeviceGroupAction(ActionContext& ctx) {
    domain::CreateGroupCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.group_name, RequiredString(ctx.params, "GroupName"));
    cmd.super_group_id = OptionalString(ctx.params, "SuperGroupId");
    cmd.group_desc = OptionalString(ctx.params, "GroupDesc");
    cmd.group_type = domain::GroupType::kStatic;
    OTA_ASSIGN_OR_RETURN(const domain::Group group, ctx.services.CreateGroup(ctx.scope, cmd));
    WriteCreatedGroup(ctx.out, group);
    return Ok();
}

Status CreateDeviceDynamicGroupAction(ActionContext& ctx) {
    domain::CreateGroupCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.group_name, RequiredString(ctx.params, "GroupName"));
    OTA_ASSIGN_OR_RETURN(cmd.dynamic_expression,
                         RequiredString(ctx.params, "DynamicGroupExpression"));
    cmd.group_desc = OptionalString(ctx.params, "GroupDesc");
    cmd.group_type = domain::GroupType::kDynamic;
    OTA_ASSIGN_OR_RETURN(const domain::Group group, ctx.services.CreateGroup(ctx.scope, cmd));
    WriteCreatedGroup(ctx.out, group);
    return Ok();
}

Status BatchAddDeviceGroupRelationsAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string group_id, RequiredString(ctx.params, "GroupId"));
    std::vector<domain::DeviceRef> devices;
    for (const auto& entry : ctx.params.ObjectList("Device")) {
        domain::DeviceRef ref;
        for (const Param& field : entry) {
            if (field.name == "ProductKey") {
                ref.product_key = field.value;
            } else if (field.name == "DeviceName") {
                ref.device_name = field.value;
            }
        }
        if (ref.product_key.empty()) {
            return MissingParam("Device.N.ProductKey");
        }
        if (ref.device_name.empty()) {
            return MissingParam("Device.N.DeviceName");
        }
        devices.push_back(std::move(ref));
    }
    OTA_ASSIGN_OR_RETURN(const domain::GroupRelationResult r,
                         ctx.services.AddDevicesToGroup(ctx.scope, group_id, devices));
    ResponseWriter& w = ctx.out;
    w.Int("ValidDeviceCount", r.valid_device_count);
    w.Int("SuccessAddedDeviceCount", r.success_added_device_count);
    w.Int("AlreadyRelatedGroupDeviceCount", r.already_related_device_count);
    w.Int("ExceedTenGroupDeviceCount", r.exceed_ten_group_device_count);
    return Ok();
}

Status QueryDeviceGroupListAction(ActionContext& ctx) {
    domain::GroupListQuery q;
    OTA_TRY(ReadPaging(ctx.params, false, 200, q.current_page, q.page_size));
    q.name_fragment = OptionalString(ctx.params, "GroupName");
    q.super_group_id = OptionalString(ctx.params, "SuperGroupId");
    for (const std::string& name : ctx.params.List("GroupTypes")) {
        OTA_ASSIGN_OR_RETURN(const domain::GroupType type, ParseGroupType(name));
        q.types.push_back(type);
    }
    OTA_ASSIGN_OR_RETURN(const auto page, ctx.services.ListGroups(ctx.scope, q));
    ResponseWriter& w = ctx.out;
    WritePaging(w, q.current_page, q.page_size, page.total);
    w.BeginObject("Data");
    w.BeginArray("GroupInfo");
    for (const domain::Group& g : page.items) {
        w.BeginItem();
        w.String("GroupId", g.group_id);
        w.String("GroupName", g.group_name);
        w.String("GroupDesc", g.group_desc);
        w.String("GroupType", GroupTypeName(g.group_type));
        w.String("UtcCreate", FormatUtcMs(g.created_ms));
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status QueryDeviceGroupInfoAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string group_id, RequiredString(ctx.params, "GroupId"));
    // GroupType is accepted for compatibility; the group id alone identifies the group.
    OTA_ASSIGN_OR_RETURN(const domain::GroupDetail d, ctx.services.QueryGroup(ctx.scope, group_id));
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("GroupId", d.group.group_id);
    w.String("GroupName", d.group.group_name);
    w.String("GroupDesc", d.group.group_desc);
    w.Int("DeviceCount", d.device_count);
    w.Int("DeviceOnline", d.device_online);
    w.Int("DeviceActive", d.device_active);
    if (d.group.group_type == domain::GroupType::kDynamic) {
        w.String("DynamicGroupExpression", d.group.dynamic_expression);
    }
    w.String("UtcCreate", FormatUtcMs(d.group.created_ms));
    w.EndObject();
    return Ok();
}

Status DeleteDeviceGroupAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string group_id, RequiredString(ctx.params, "GroupId"));
    return ctx.services.DeleteGroup(ctx.scope, group_id);
}

}  // namespace otad::rpc
