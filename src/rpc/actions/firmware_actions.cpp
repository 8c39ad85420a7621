#include "common/text.hpp"
#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {

namespace {

// The fields QueryOTAFirmware and ListOTAFirmware share, in their order.
void WriteFirmwareIdentity(ResponseWriter& w, const domain::FirmwareDetail& detail) {
    const domain::Firmware& f = detail.firmware;
    w.String("FirmwareId", f.firmware_id);
    w.String("FirmwareName", f.firmware_name);
    w.String("FirmwareDesc", f.firmware_desc);
    w.String("ProductKey", f.product_key);
    w.String("ProductName", detail.product_name);
    w.String("ModuleName", f.module_name);
    w.String("DestVersion", f.dest_version);
    if (!f.src_version.empty()) {
        w.String("SrcVersion", f.src_version);
    }
    w.Int("Type", f.type);
    w.String("SignMethod", f.sign_method == domain::SignMethod::kMd5 ? "MD5" : "SHA256");
}

}  // namespace

Status CreateOTAFirmwareAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CreateFirmwareCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.firmware_name, RequiredString(p, "FirmwareName"));
    OTA_ASSIGN_OR_RETURN(cmd.dest_version, RequiredString(p, "DestVersion"));
    // Every package belongs to one product: required here although the API marks it optional.
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(p, "ProductKey"));
    for (const auto& group : p.ObjectList("MultiFiles")) {
        domain::FirmwareFile file;
        for (const Param& field : group) {
            if (field.name == "Name") {
                file.name = field.value;
            } else if (field.name == "Url") {
                file.url = field.value;
            } else if (field.name == "Size") {
                const auto n = text::ParseInt64(field.value);
                if (!n) {
                    return InvalidParam("MultiFiles.Size");
                }
                file.size = *n;
            } else if (field.name == "FileMd5") {
                file.md5 = field.value;
            } else if (field.name == "SignValue") {
                file.sign_value = field.value;
            }
        }
        cmd.multi_files.push_back(std::move(file));
    }
    if (cmd.multi_files.empty()) {
        OTA_ASSIGN_OR_RETURN(cmd.firmware_url, RequiredString(p, "FirmwareUrl"));
    } else {
        cmd.firmware_url = OptionalString(p, "FirmwareUrl");
    }
    cmd.firmware_sign = PresentString(p, "FirmwareSign");
    cmd.sign_method = PresentString(p, "SignMethod");
    OTA_ASSIGN_OR_RETURN(cmd.firmware_size, OptionalInt(p, "FirmwareSize"));
    cmd.firmware_desc = OptionalString(p, "FirmwareDesc");
    OTA_ASSIGN_OR_RETURN(cmd.type, OptionalInt(p, "Type"));
    cmd.src_version = OptionalString(p, "SrcVersion");
    cmd.module_name = OptionalString(p, "ModuleName");
    OTA_ASSIGN_OR_RETURN(cmd.need_to_verify, OptionalBool(p, "NeedToVerify"));
    cmd.udi = OptionalString(p, "Udi");
    OTA_ASSIGN_OR_RETURN(const domain::Firmware f, ctx.services.CreateFirmware(ctx.scope, cmd));
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("FirmwareId", f.firmware_id);
    w.String("UtcCreate", FormatUtcMs(f.created_ms));
    w.EndObject();
    return Ok();
}

Status QueryOTAFirmwareAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string id, RequiredString(ctx.params, "FirmwareId"));
    OTA_ASSIGN_OR_RETURN(const domain::FirmwareDetail detail,
                         ctx.services.QueryFirmware(ctx.scope, id));
    const domain::Firmware& f = detail.firmware;
    ResponseWriter& w = ctx.out;
    w.BeginObject("FirmwareInfo");
    WriteFirmwareIdentity(w, detail);
    if (f.multi_files.empty()) {
        w.String("FirmwareSign", f.firmware_sign);
        w.Int("FirmwareSize", f.firmware_size);
        w.String("FirmwareUrl", f.firmware_url);
    } else {
        w.BeginArray("MultiFiles");
        for (const domain::FirmwareFile& file : f.multi_files) {
            w.BeginItem();
            w.String("Name", file.name);
            w.String("Url", file.url);
            w.Int("Size", file.size);
            w.String("FileMd5", file.md5);
            w.String("SignValue", file.sign_value);
            w.EndItem();
        }
        w.EndArray();
    }
    w.Int("Status", static_cast<int64_t>(f.status));
    w.Int("VerifyProgress", f.verify_progress);
    w.String("Udi", f.udi);
    w.String("UtcCreate", FormatUtcMs(f.created_ms));
    w.String("UtcModified", FormatUtcMs(f.modified_ms));
    w.EndObject();
    return Ok();
}

}  // namespace otad::rpc

namespace otad::rpc {

Status ListOTAFirmwareAction(ActionContext& ctx) {
    int64_t page = 1;
    int64_t size = 10;
    OTA_TRY(ReadPaging(ctx.params, /*required=*/true, 100, page, size));
    const std::string product_key = OptionalString(ctx.params, "ProductKey");
    const std::string dest_version = OptionalString(ctx.params, "DestVersion");
    OTA_ASSIGN_OR_RETURN(
        const auto list,
        ctx.services.ListFirmware(ctx.scope, product_key, dest_version, page, size));
    ResponseWriter& w = ctx.out;
    WritePaging(w, page, size, list.total);
    w.BeginObject("FirmwareInfo");
    w.BeginArray("SimpleFirmwareInfo");
    for (const domain::FirmwareDetail& d : list.items) {
        const domain::Firmware& f = d.firmware;
        w.BeginItem();
        WriteFirmwareIdentity(w, d);
        if (f.multi_files.empty()) {
            w.String("FirmwareSign", f.firmware_sign);
            w.Int("FirmwareSize", f.firmware_size);
        }
        w.Int("Status", static_cast<int64_t>(f.status));
        w.String("UtcCreate", FormatUtcMs(f.created_ms));
        w.String("UtcModified", FormatUtcMs(f.modified_ms));
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    return Ok();
}

Status DeleteOTAFirmwareAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string id, RequiredString(ctx.params, "FirmwareId"));
    return ctx.services.DeleteFirmware(ctx.scope, id);
}

}  // namespace otad::rpc
