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

}  // namespace otad::rpc
