#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {

Status RegisterDeviceAction(ActionContext& ctx) {
    domain::RegisterDeviceCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(ctx.params, "ProductKey"));
    cmd.device_name = OptionalString(ctx.params, "DeviceName");
    cmd.nickname = OptionalString(ctx.params, "Nickname");
    OTA_ASSIGN_OR_RETURN(const domain::Device device, ctx.services.RegisterDevice(ctx.scope, cmd));
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("IotId", device.iot_id);
    w.String("ProductKey", device.product_key);
    w.String("DeviceName", device.device_name);
    w.String("DeviceSecret", device.device_secret);
    w.String("Nickname", device.nickname);
    w.EndObject();
    return Ok();
}

Status QueryDeviceDetailAction(ActionContext& ctx) {
    domain::DeviceRef ref;
    ref.iot_id = OptionalString(ctx.params, "IotId");
    if (ref.iot_id.empty()) {
        // Without IotId both halves of the name are needed.
        OTA_ASSIGN_OR_RETURN(ref.product_key, RequiredString(ctx.params, "ProductKey"));
        OTA_ASSIGN_OR_RETURN(ref.device_name, RequiredString(ctx.params, "DeviceName"));
    }
    OTA_ASSIGN_OR_RETURN(const domain::DeviceDetail detail,
                         ctx.services.QueryDeviceDetail(ctx.scope, ref));
    const domain::Device& d = detail.device;
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("IotId", d.iot_id);
    w.String("ProductKey", d.product_key);
    w.String("ProductName", detail.product_name);
    w.String("DeviceName", d.device_name);
    w.String("DeviceSecret", d.device_secret);
    w.String("Nickname", d.nickname);
    w.Int("NodeType", detail.node_type);
    w.String("Status", d.status);
    w.String("FirmwareVersion", d.firmware_version);
    w.String("IpAddress", d.ip_address);
    w.String("Region", ctx.env.region_id);
    w.Bool("Owner", true);
    w.String("UtcCreate", FormatUtcMs(d.created_ms));
    w.String("GmtCreate", FormatGmtPlus8(d.created_ms));
    if (d.active_ms != 0) {
        w.String("UtcActive", FormatUtcMs(d.active_ms));
        w.String("GmtActive", FormatGmtPlus8(d.active_ms));
    }
    if (d.online_ms != 0) {
        w.String("UtcOnline", FormatUtcMs(d.online_ms));
        w.String("GmtOnline", FormatGmtPlus8(d.online_ms));
    }
    w.EndObject();
    return Ok();
}

Status QueryDeviceAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    int64_t current_page = 0;
    int64_t page_size = 0;
    OTA_TRY(ReadPaging(ctx.params, false, 50, current_page, page_size));
    // NextToken (token paging of newer clients) is accepted; pages are always numbered here.
    OTA_ASSIGN_OR_RETURN(
        const auto page,
        ctx.services.QueryDevices(ctx.scope, product_key, current_page, page_size));
    ResponseWriter& w = ctx.out;
    w.Int("Page", current_page);
    w.Int("PageSize", page_size);
    w.Int("PageCount", page.total == 0 ? 0 : (page.total + page_size - 1) / page_size);
    w.Int("Total", page.total);
    w.BeginObject("Data");
    w.BeginArray("DeviceInfo");
    for (const domain::Device& d : page.items) {
        w.BeginItem();
        w.String("DeviceId", d.iot_id);
        w.String("IotId", d.iot_id);
        w.String("ProductKey", d.product_key);
        w.String("DeviceName", d.device_name);
        w.String("DeviceSecret", d.device_secret);
        w.String("DeviceStatus", d.status);
        w.String("DeviceType", "");
        w.String("Nickname", d.nickname);
        w.String("GmtCreate", FormatGmtPlus8(d.created_ms));
        w.String("GmtModified", FormatGmtPlus8(d.modified_ms));
        w.String("UtcCreate", FormatUtcMs(d.created_ms));
        w.String("UtcModified", FormatUtcMs(d.modified_ms));
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status DeleteDeviceAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const domain::DeviceRef ref, ReadDeviceRef(ctx.params));
    return ctx.services.DeleteDevice(ctx.scope, ref);
}

Status BatchRegisterDeviceAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(const int64_t count, RequiredInt(ctx.params, "Count"));
    OTA_ASSIGN_OR_RETURN(const int64_t apply_id,
                         ctx.services.BatchRegisterDevice(ctx.scope, product_key, count));
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.Int("ApplyId", apply_id);
    w.EndObject();
    return Ok();
}

Status QueryBatchRegisterDeviceStatusAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(const int64_t apply_id, RequiredInt(ctx.params, "ApplyId"));
    OTA_ASSIGN_OR_RETURN(const domain::BatchRegistration r,
                         ctx.services.QueryBatchRegistration(ctx.scope, product_key, apply_id));
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("Status", r.status);
    w.BeginObject("ValidList");
    w.BeginArray("Name");
    for (const std::string& name : r.valid_names) {
        w.ItemString(name);
    }
    w.EndArray();
    w.EndObject();
    w.BeginObject("InvalidList");
    w.BeginArray("Name");
    for (const std::string& name : r.invalid_names) {
        w.ItemString(name);
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
    return Ok();
}

}  // namespace otad::rpc
