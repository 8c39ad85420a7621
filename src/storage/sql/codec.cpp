#include "storage/sql/codec.hpp"

#include <array>
#include <string>
#include <utility>

namespace otad::storage::sql {
namespace {

using domain::FileKind;
using domain::FirmwareStatus;
using domain::GroupType;
using domain::JobStatus;
using domain::JobType;
using domain::SelectionType;
using domain::SignMethod;
using domain::TargetSelection;
using domain::TaskStatus;

template <typename Enum, size_t N>
Result<Enum> ParseWith(const std::array<Enum, N>& values,
                       std::string_view text,
                       std::string_view what) {
    for (Enum value : values) {
        if (ToText(value) == text) {
            return value;
        }
    }
    return InternalError("storage: unknown " + std::string(what) + " '" + std::string(text) +
                         "' in the database");
}

constexpr std::array kJobStatuses = {
    JobStatus::kPlanned, JobStatus::kInProgress, JobStatus::kCompleted, JobStatus::kCanceled};
constexpr std::array kJobTypes = {JobType::kVerifyFirmware, JobType::kUpgradeFirmware};
constexpr std::array kSelectionTypes = {SelectionType::kStatic, SelectionType::kDynamic};
constexpr std::array kTargetSelections = {TargetSelection::kAll,
                                          TargetSelection::kSpecific,
                                          TargetSelection::kGray,
                                          TargetSelection::kGroup};
constexpr std::array kTaskStatuses = {TaskStatus::kConfirm,
                                      TaskStatus::kQueued,
                                      TaskStatus::kNotified,
                                      TaskStatus::kInProgress,
                                      TaskStatus::kSucceeded,
                                      TaskStatus::kFailed,
                                      TaskStatus::kCanceled};
constexpr std::array kSignMethods = {SignMethod::kMd5, SignMethod::kSha256};
constexpr std::array kGroupTypes = {GroupType::kStatic, GroupType::kDynamic};
constexpr std::array kFileKinds = {FileKind::kFirmware, FileKind::kDeviceList};

}  // namespace

std::string_view ToText(JobStatus value) {
    switch (value) {
        case JobStatus::kPlanned:
            return "PLANNED";
        case JobStatus::kInProgress:
            return "IN_PROGRESS";
        case JobStatus::kCompleted:
            return "COMPLETED";
        case JobStatus::kCanceled:
            return "CANCELED";
    }
    return "";
}

std::string_view ToText(JobType value) {
    switch (value) {
        case JobType::kVerifyFirmware:
            return "VERIFY_FIRMWARE";
        case JobType::kUpgradeFirmware:
            return "UPGRADE_FIRMWARE";
    }
    return "";
}

std::string_view ToText(SelectionType value) {
    switch (value) {
        case SelectionType::kStatic:
            return "STATIC";
        case SelectionType::kDynamic:
            return "DYNAMIC";
    }
    return "";
}

std::string_view ToText(TargetSelection value) {
    switch (value) {
        case TargetSelection::kAll:
            return "ALL";
        case TargetSelection::kSpecific:
            return "SPECIFIC";
        case TargetSelection::kGray:
            return "GRAY";
        case TargetSelection::kGroup:
            return "GROUP";
    }
    return "";
}

std::string_view ToText(TaskStatus value) {
    switch (value) {
        case TaskStatus::kConfirm:
            return "CONFIRM";
        case TaskStatus::kQueued:
            return "QUEUED";
        case TaskStatus::kNotified:
            return "NOTIFIED";
        case TaskStatus::kInProgress:
            return "IN_PROGRESS";
        case TaskStatus::kSucceeded:
            return "SUCCEEDED";
        case TaskStatus::kFailed:
            return "FAILED";
        case TaskStatus::kCanceled:
            return "CANCELED";
    }
    return "";
}

std::string_view ToText(SignMethod value) {
    switch (value) {
        case SignMethod::kMd5:
            return "MD5";
        case SignMethod::kSha256:
            return "SHA256";
    }
    return "";
}

std::string_view ToText(GroupType value) {
    switch (value) {
        case GroupType::kStatic:
            return "STATIC";
        case GroupType::kDynamic:
            return "DYNAMIC";
    }
    return "";
}

std::string_view ToText(FileKind value) {
    switch (value) {
        case FileKind::kFirmware:
            return "FIRMWARE";
        case FileKind::kDeviceList:
            return "DEVICE_LIST";
    }
    return "";
}

Result<JobStatus> ParseJobStatus(std::string_view text) {
    return ParseWith(kJobStatuses, text, "job status");
}

Result<JobType> ParseJobType(std::string_view text) {
    return ParseWith(kJobTypes, text, "job type");
}

Result<SelectionType> ParseSelectionType(std::string_view text) {
    return ParseWith(kSelectionTypes, text, "selection type");
}

Result<TargetSelection> ParseTargetSelection(std::string_view text) {
    return ParseWith(kTargetSelections, text, "target selection");
}

Result<TaskStatus> ParseTaskStatus(std::string_view text) {
    return ParseWith(kTaskStatuses, text, "task status");
}

Result<SignMethod> ParseSignMethod(std::string_view text) {
    return ParseWith(kSignMethods, text, "sign method");
}

Result<GroupType> ParseGroupType(std::string_view text) {
    return ParseWith(kGroupTypes, text, "group type");
}

Result<FileKind> ParseFileKind(std::string_view text) {
    return ParseWith(kFileKinds, text, "file kind");
}

Result<FirmwareStatus> ParseFirmwareStatus(int value) {
    switch (static_cast<FirmwareStatus>(value)) {
        case FirmwareStatus::kNoVerificationNeeded:
        case FirmwareStatus::kNotVerified:
        case FirmwareStatus::kVerified:
        case FirmwareStatus::kVerifying:
        case FirmwareStatus::kVerifyFailed:
            return static_cast<FirmwareStatus>(value);
    }
    return InternalError("storage: unknown firmware status " + std::to_string(value) +
                         " in the database");
}

}  // namespace otad::storage::sql
