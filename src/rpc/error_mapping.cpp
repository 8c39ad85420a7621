#include "rpc/error_mapping.hpp"

namespace otad::rpc {
namespace {

WireError Gateway(int status, std::string code, std::string message) {
    return WireError{true, status, std::move(code), std::move(message)};
}

WireError Service(std::string code, std::string message) {
    return WireError{false, 200, std::move(code), std::move(message)};
}

WireError Map(const Error& e) {
    switch (e.code) {
        case ErrorCode::kIncompleteSignature:
            return Gateway(400,
                           "IncompleteSignature",
                           "The request signature does not conform to Aliyun standards.");
        case ErrorCode::kSignatureDoesNotMatch:
            return Gateway(400,
                           "SignatureDoesNotMatch",
                           "Specified signature is not matched with our calculation.");
        case ErrorCode::kAccessKeyNotFound:
            return Gateway(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        case ErrorCode::kAccessKeyInactive:
            return Gateway(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.");
        case ErrorCode::kTimestampFormat:
            return Gateway(400,
                           "InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted.");
        case ErrorCode::kTimestampExpired:
            return Gateway(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
        case ErrorCode::kNonceUsed:
            return Gateway(
                400, "SignatureNonceUsed", "Specified signature nonce was used already.");
        case ErrorCode::kInvalidSignatureMethod:
            return Gateway(
                400, "InvalidSignatureMethod", "Specified signature method is not valid.");
        case ErrorCode::kInvalidSignatureVersion:
            return Gateway(
                400, "InvalidSignatureVersion", "Specified signature version is not valid.");
        case ErrorCode::kSecurityTokenNotSupported:
            return Gateway(400,
                           "InvalidSecurityToken.NotSupported",
                           "Security tokens (STS) are not accepted by this server; sign requests "
                           "with an AccessKey pair.");
        case ErrorCode::kBearerTokenNotSupported:
            return Gateway(400,
                           "InvalidParameter.SignatureType",
                           "Bearer tokens are not accepted by this server; sign requests with an "
                           "AccessKey pair.");
        case ErrorCode::kInvalidFormat:
            return Gateway(
                400, "InvalidParameter.Format", "Specified parameter format is not valid.");
        case ErrorCode::kActionNotFound:
            return Gateway(404,
                           "InvalidAction.NotFound",
                           "Specified api is not found, please check your url and method.");
        case ErrorCode::kMissingAction:
            return Gateway(400, "MissingAction", "Action is mandatory for this action.");
        case ErrorCode::kInvalidVersion:
            return Gateway(400, "InvalidVersion", "Specified parameter Version is not valid.");
        case ErrorCode::kMissingVersion:
            return Gateway(400, "MissingVersion", "Version is mandatory for this action.");
        case ErrorCode::kMissingParameter:
            if (e.param.empty()) {
                return Gateway(400,
                               "MissingParameter",
                               "A parameter that is mandatory for processing this request is "
                               "not supplied.");
            }
            return Gateway(400, "Missing" + e.param, e.param + " is mandatory for this action.");
        case ErrorCode::kInvalidParameter:
            if (e.param.empty()) {
                return Gateway(400, "InvalidParameter", "A specified parameter is not valid.");
            }
            return Gateway(
                400, "Invalid" + e.param, "Specified parameter " + e.param + " is not valid.");
        case ErrorCode::kThrottled:
            return Gateway(400, "Throttling.User", "Request was denied due to user flow control.");
        case ErrorCode::kBadRequest:
            return Gateway(400, "BadRequest", "The request is malformed.");
        case ErrorCode::kInternal:
            return Gateway(500,
                           "InternalError",
                           "The request processing has failed due to some unknown error, "
                           "exception or failure.");
        case ErrorCode::kUnavailable:
            return Gateway(503,
                           "ServiceUnavailable",
                           "The request has failed due to a temporary failure of the server.");

        case ErrorCode::kInstanceNotFound:
            return Service("iot.system.InstanceNotFound", "The instance does not exist.");
        case ErrorCode::kInvalidPageParams:
            return Service("iot.common.InvalidPageParams", "page size or page number invalid");
        case ErrorCode::kInvalidFormattedParameter:
            return Service("iot.common.InvalidFormattedParameter",
                           "The parameter format is invalid.");
        case ErrorCode::kFromNotLessThanTo:
            return Service("iot.check.ParameterIsNotLessThanMax",
                           "The start value must be smaller than the end value.");
        case ErrorCode::kProductNotFound:
            return Service("iot.prod.NotExistedProduct", "The product does not exist.");
        case ErrorCode::kProductNameExists:
            return Service("iot.prod.AlreadyExistedProductName",
                           "The product name already exists.");
        case ErrorCode::kInvalidProductName:
            return Service("iot.prod.InvalidFormattedProductName", "The product name is invalid.");
        case ErrorCode::kNullProductName:
            return Service("iot.prod.NullProductName", "The product name is empty.");
        case ErrorCode::kInvalidNodeType:
            return Service("iot.prod.InvalidNodeType", "The node type is invalid.");
        case ErrorCode::kLongProductDesc:
            return Service("iot.prod.LongProductDesc", "The product description is too long.");
        case ErrorCode::kInvalidCommodityCode:
            return Service("iot.prod.InvalidAliyunCommodityCode",
                           "The AliyunCommodityCode is invalid.");
        case ErrorCode::kInvalidDataFormat:
            return Service("iot.prod.InvalidDataFormat", "The data format is invalid.");
        case ErrorCode::kProductQuotaExceeded:
            return Service("iot.prod.ProductCountExceedMax",
                           "The number of products exceeds the limit.");
        case ErrorCode::kDeviceNotFound:
            return Service("iot.device.NotExistedDevice", "The device does not exist.");
        case ErrorCode::kDeviceNameExists:
            return Service("iot.device.AlreadyExistedDeviceName",
                           "The device name already exists.");
        case ErrorCode::kInvalidDeviceName:
            return Service("iot.device.InvalidFormattedDeviceName", "The device name is invalid.");
        case ErrorCode::kInvalidNickname:
            return Service("iot.device.InvalidFormattedNickname", "The nickname is invalid.");
        case ErrorCode::kDeviceQuotaExceeded:
            return Service("iot.device.DeviceCountExceeded",
                           "The number of devices exceeds the limit.");
        case ErrorCode::kFirmwareNotFound:
            return Service("iot.ota.FirmwareNotExist", "The firmware does not exist.");
        case ErrorCode::kFirmwareNameExists:
            return Service("iot.ota.FirmwareNameExisted", "The firmware name already exists.");
        case ErrorCode::kInvalidFirmwareName:
            return Service("iot.ota.InvalidFirmwareName", "The firmware name is invalid.");
        case ErrorCode::kInvalidVersionString:
            return Service("iot.ota.InvalidVersion", "The version is invalid.");
        case ErrorCode::kFirmwareQuotaExceeded:
            return Service("iot.ota.FirmwareCountExceedMax",
                           "The number of firmware packages exceeds the limit.");
        case ErrorCode::kFirmwareProductMismatch:
            return Service("iot.ota.FirmwareProductNotMatch",
                           "The firmware does not belong to the product.");
        case ErrorCode::kFirmwareNotVerified:
            return Service("iot.ota.FirmwareNotVerified",
                           "The firmware must pass verification before update batches.");
        case ErrorCode::kModuleNotFound:
            return Service("iot.ota.ModuleNotExist", "The OTA module does not exist.");
        case ErrorCode::kInvalidFirmwareUrl:
            return Service("iot.ota.InvalidFirmwareUrl", "The firmware URL is invalid.");
        case ErrorCode::kJobNotFound:
            return Service("iot.ota.JobNotExist", "The update batch does not exist.");
        case ErrorCode::kNoDeviceToUpgrade:
            return Service("iot.ota.NoDeviceToUpgrade",
                           "No device qualifies for the update batch.");
        case ErrorCode::kGroupNotFound:
            return Service("iot.group.NotExistedGroup", "The group does not exist.");
        case ErrorCode::kTooManyTargetDevices:
            return Service("iot.ota.TooManyTargetDevices",
                           "Too many devices are named in one call.");
        case ErrorCode::kTaskNotFound:
            return Service("iot.ota.TaskNotExist", "The update task does not exist.");
        case ErrorCode::kModuleNameExists:
            return Service("iot.ota.ModuleNameExisted", "The module name already exists.");
        case ErrorCode::kInvalidModuleName:
            return Service("iot.ota.InvalidModuleName", "The module name is invalid.");
        case ErrorCode::kModuleQuotaExceeded:
            return Service("iot.ota.ModuleCountExceedMax",
                           "The number of modules exceeds the limit.");
        case ErrorCode::kModuleHasFirmware:
            return Service("iot.ota.ModuleHasFirmware", "The module still has update packages.");
        case ErrorCode::kFirmwareVerifyingOrVerified:
            return Service("iot.ota.FirmwareVerifyingOrVerified",
                           "The firmware is being verified or has been verified.");
        case ErrorCode::kFirmwareInUse:
            return Service("iot.ota.FirmwareInUse",
                           "The firmware has running batches or unfinished tasks.");
        case ErrorCode::kFirmwareFileMismatch:
            return Service("iot.ota.FirmwareFileNotMatch",
                           "The declared size or sign does not match the uploaded file.");
        case ErrorCode::kDynamicJobExists:
            return Service("iot.ota.DynamicJobAlreadyExists",
                           "The firmware already has a running dynamic update batch.");
        case ErrorCode::kJobNotDynamic:
            return Service("iot.ota.JobNotDynamic", "The update batch is not dynamic.");
        case ErrorCode::kJobStatusInvalid:
            return Service("iot.ota.JobStatusInvalid",
                           "The update batch is not in a state that allows this operation.");
        case ErrorCode::kTaskStatusInvalid:
            return Service("iot.ota.TaskStatusInvalid",
                           "An update task is not in a state that allows this operation.");
        case ErrorCode::kProductHasDevices:
            return Service("iot.prod.ProductHasDevices",
                           "The product still has devices; delete them first.");
        case ErrorCode::kGroupNameExists:
            return Service("iot.group.GroupNameExisted", "The group name already exists.");
        case ErrorCode::kInvalidGroupName:
            return Service("iot.group.InvalidGroupName", "The group name is invalid.");
        case ErrorCode::kLongGroupDesc:
            return Service("iot.group.LongGroupDescError", "The group description is too long.");
        case ErrorCode::kSubGroupNotNull:
            return Service("iot.group.SubGroupNotNull", "The group still has sub-groups.");
        case ErrorCode::kGroupQuotaExceeded:
            return Service("iot.group.GroupCountExceedMax",
                           "The number of groups exceeds the limit.");
        case ErrorCode::kApplyNotFound:
            return Service("iot.device.DeviceApplyIsNotFound",
                           "The batch registration does not exist.");
        case ErrorCode::kFileNotFound:
            return Service("iot.ota.FileNotExist",
                           "The file was not uploaded to this server or has expired.");
    }
    return Gateway(500, "InternalError", "Unknown error.");
}

}  // namespace

WireError MapError(const Error& error) {
    WireError w = Map(error);
    // Gateway mismatch messages carry the string to sign; service errors carry a specific
    // explanation when the domain gave one.
    if (!error.message.empty() &&
        (!w.gateway || error.code == ErrorCode::kSignatureDoesNotMatch ||
         error.code == ErrorCode::kInvalidParameter || error.code == ErrorCode::kBadRequest ||
         error.code == ErrorCode::kIncompleteSignature)) {
        w.message = error.message;
    }
    return w;
}

}  // namespace otad::rpc
