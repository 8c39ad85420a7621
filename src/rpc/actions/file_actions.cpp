#include "common/time_format.hpp"
#include "domain/file_service.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {
namespace {

// Both actions hand out the fields of an OSS PostObject form; they differ in the name of the
// object URL and of the access key id field.
void WriteForm(ResponseWriter& w,
               const domain::UploadForm& form,
               std::string_view url_field,
               std::string_view access_key_field) {
    w.BeginObject("Data");
    w.String(url_field, form.object_url);
    w.String("Host", form.host);
    w.String("Key", form.file.object_key);
    w.String(access_key_field, form.access_key_id);
    w.String("ObjectStorage", "OSS");
    w.String("Policy", form.policy);
    w.String("Signature", form.signature);
    w.String("UtcCreate", FormatUtcMs(form.file.created_ms));
    w.EndObject();
}

}  // namespace

Status GenerateOTAUploadURLAction(ActionContext& ctx) {
    const std::string suffix = OptionalString(ctx.params, "FileSuffix");
    OTA_ASSIGN_OR_RETURN(const domain::UploadForm form,
                         ctx.files.GenerateForm(ctx.scope, domain::FileKind::kFirmware, suffix));
    WriteForm(ctx.out, form, "FirmwareUrl", "OSSAccessKeyId");
    return Ok();
}

Status GenerateDeviceNameListURLAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const domain::UploadForm form,
                         ctx.files.GenerateForm(ctx.scope, domain::FileKind::kDeviceList, ""));
    WriteForm(ctx.out, form, "FileUrl", "AccessKeyId");
    return Ok();
}

}  // namespace otad::rpc
