#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"

#include <string_view>

// The stored text of each enumeration (see the headers of migrations/0001_init.sql and
// 0002_management_api.sql). Parsing fails with kInternal: an unknown value means the database holds
// something this build did not write.

namespace otad::storage::sql {

std::string_view ToText(domain::JobStatus value);
std::string_view ToText(domain::JobType value);
std::string_view ToText(domain::SelectionType value);
std::string_view ToText(domain::TargetSelection value);
std::string_view ToText(domain::TaskStatus value);
std::string_view ToText(domain::SignMethod value);
std::string_view ToText(domain::GroupType value);
std::string_view ToText(domain::FileKind value);

Result<domain::JobStatus> ParseJobStatus(std::string_view text);
Result<domain::JobType> ParseJobType(std::string_view text);
Result<domain::SelectionType> ParseSelectionType(std::string_view text);
Result<domain::TargetSelection> ParseTargetSelection(std::string_view text);
Result<domain::TaskStatus> ParseTaskStatus(std::string_view text);
Result<domain::SignMethod> ParseSignMethod(std::string_view text);
Result<domain::FirmwareStatus> ParseFirmwareStatus(int value);
Result<domain::GroupType> ParseGroupType(std::string_view text);
Result<domain::FileKind> ParseFileKind(std::string_view text);

}  // namespace otad::storage::sql
