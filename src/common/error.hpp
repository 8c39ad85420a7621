#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace otad {

// The one vocabulary of failures. Codes say what went wrong in otad's own terms; the rpc layer
// (rpc/error_mapping.cpp) is the only place that turns them into Alibaba's wire codes and HTTP
// statuses. Enumerators are never renumbered or reused.
//
// X(name, description)
#define OTAD_ERROR_CODES(X)                                                          \
    /* Protocol and gateway. */                                                      \
    X(kIncompleteSignature, "signature material missing or unparsable")              \
    X(kSignatureDoesNotMatch, "signature mismatch")                                  \
    X(kAccessKeyNotFound, "unknown AccessKeyId")                                     \
    X(kAccessKeyInactive, "AccessKey disabled")                                      \
    X(kTimestampFormat, "malformed timestamp")                                       \
    X(kTimestampExpired, "timestamp outside the allowed skew")                       \
    X(kNonceUsed, "signature nonce replayed")                                        \
    X(kInvalidSignatureMethod, "unsupported signature method")                       \
    X(kInvalidSignatureVersion, "unsupported signature version")                     \
    X(kSecurityTokenNotSupported, "STS security tokens are not accepted")            \
    X(kBearerTokenNotSupported, "bearer tokens are not accepted")                    \
    X(kInvalidFormat, "Format is neither JSON nor XML")                              \
    X(kActionNotFound, "unknown Action")                                             \
    X(kMissingAction, "Action absent")                                               \
    X(kInvalidVersion, "Version is not 2018-01-20")                                  \
    X(kMissingVersion, "Version absent")                                             \
    X(kMissingParameter, "a required parameter is absent")                           \
    X(kInvalidParameter, "a parameter cannot be parsed as its type")                 \
    X(kThrottled, "per-account rate limit exceeded")                                 \
    X(kBadRequest, "malformed HTTP request")                                         \
    X(kInternal, "unexpected server failure")                                        \
    X(kUnavailable, "temporary failure, retry")                                      \
    /* Service (business) errors. */                                                 \
    X(kInstanceNotFound, "IotInstanceId does not exist")                             \
    X(kInvalidPageParams, "page size or page number out of range")                   \
    X(kInvalidFormattedParameter, "a parameter value or combination is invalid")     \
    X(kFromNotLessThanTo, "a start value is not smaller than its end value")         \
    X(kProductNotFound, "ProductKey does not exist")                                 \
    X(kProductNameExists, "product name already used")                               \
    X(kInvalidProductName, "product name malformed")                                 \
    X(kNullProductName, "product name absent")                                       \
    X(kInvalidNodeType, "NodeType invalid")                                          \
    X(kLongProductDesc, "product description too long")                              \
    X(kInvalidCommodityCode, "AliyunCommodityCode invalid")                          \
    X(kInvalidDataFormat, "DataFormat invalid")                                      \
    X(kProductQuotaExceeded, "too many products")                                    \
    X(kDeviceNotFound, "device does not exist")                                      \
    X(kDeviceNameExists, "device name already used in the product")                  \
    X(kInvalidDeviceName, "device name malformed")                                   \
    X(kInvalidNickname, "device nickname malformed")                                 \
    X(kDeviceQuotaExceeded, "too many devices")                                      \
    X(kFirmwareNotFound, "FirmwareId does not exist")                                \
    X(kFirmwareNameExists, "firmware name already used")                             \
    X(kInvalidFirmwareName, "firmware name malformed")                               \
    X(kInvalidVersionString, "version string malformed")                             \
    X(kFirmwareQuotaExceeded, "too many firmware packages")                          \
    X(kFirmwareProductMismatch, "firmware belongs to another product")               \
    X(kFirmwareNotVerified, "firmware must be verified first")                       \
    X(kModuleNotFound, "OTA module does not exist")                                  \
    X(kInvalidFirmwareUrl, "firmware URL is not a file stored by otad")              \
    X(kJobNotFound, "JobId does not exist")                                          \
    X(kNoDeviceToUpgrade, "no device qualifies for the batch")                       \
    X(kGroupNotFound, "device group does not exist")                                 \
    X(kTooManyTargetDevices, "too many devices named in one call")                   \
    X(kTaskNotFound, "TaskId does not exist")                                        \
    X(kModuleNameExists, "module name already used in the product")                  \
    X(kInvalidModuleName, "module name malformed or reserved")                       \
    X(kModuleQuotaExceeded, "too many modules in the product")                       \
    X(kModuleHasFirmware, "module still has firmware packages")                      \
    X(kFirmwareVerifyingOrVerified, "firmware is being or has been verified")        \
    X(kFirmwareInUse, "firmware has running batches or unfinished tasks")            \
    X(kFirmwareFileMismatch, "declared size or sign differs from the uploaded file") \
    X(kDynamicJobExists, "the firmware already has a running dynamic batch")         \
    X(kJobNotDynamic, "the batch is not a dynamic batch")                            \
    X(kJobStatusInvalid, "the batch is not in a state that allows the operation")    \
    X(kTaskStatusInvalid, "a task is not in a state that allows the operation")      \
    X(kProductHasDevices, "the product still has devices")                           \
    X(kGroupNameExists, "group name already used")                                   \
    X(kInvalidGroupName, "group name malformed")                                     \
    X(kLongGroupDesc, "group description too long")                                  \
    X(kSubGroupNotNull, "the group still has sub-groups")                            \
    X(kGroupQuotaExceeded, "too many groups, or a device in too many groups")        \
    X(kApplyNotFound, "batch registration apply id does not exist")                  \
    X(kFileNotFound, "uploaded file does not exist or has expired")

enum class ErrorCode {
#define OTAD_X(name, desc) name,
    OTAD_ERROR_CODES(OTAD_X)
#undef OTAD_X
};

/// Name of the enumerator, e.g. "kDeviceNotFound"; for logs.
std::string_view ErrorCodeName(ErrorCode code);

/// A failure with what the client may see and what only the log may see.
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    /// Text for the client (English, no secrets). Empty: the wire mapping supplies the default.
    std::string message;
    /// The parameter concerned, for Missing<Name> / Invalid<Name> style codes.
    std::string param;
    /// Text for the log only.
    std::string internal;
};

inline Error MakeError(ErrorCode code, std::string message = {}, std::string param = {}) {
    return Error{code, std::move(message), std::move(param), {}};
}

inline Error MissingParam(std::string param) {
    return Error{ErrorCode::kMissingParameter, {}, std::move(param), {}};
}

inline Error InvalidParam(std::string param, std::string message = {}) {
    return Error{ErrorCode::kInvalidParameter, std::move(message), std::move(param), {}};
}

inline Error InternalError(std::string internal) {
    return Error{ErrorCode::kInternal, {}, {}, std::move(internal)};
}

}  // namespace otad
