#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"
#include "domain/services.hpp"
#include "rpc/params/params.hpp"
#include "rpc/render/writer.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// One Action = parse its parameters, call one domain service method, render the result.

namespace otad::domain {
class FileService;
}  // namespace otad::domain

namespace otad::rpc {

/// What a Region field reports and other per-deployment facts actions render.
struct ActionEnvironment {
    std::string region_id = "cn-shanghai";
};

struct ActionContext {
    const ParamMap& params;
    domain::Scope scope;
    domain::Services& services;
    domain::FileService& files;
    const ActionEnvironment& env;
    /// The root element is open and RequestId/Success are written; the action adds its fields.
    /// An action must finish every fallible step before it writes: on failure the dispatcher
    /// discards this writer and renders the error instead.
    ResponseWriter& out;
};

using ActionHandler = Status (*)(ActionContext&);

struct ActionSpec {
    std::string_view name;
    ActionHandler handler;
    /// Alibaba Cloud's documented calls per second per account; the throttling default.
    int64_t default_qps;
};

/// Every action otad serves, in a stable order (the index is the throttling key).
std::span<const ActionSpec> AllActions();
/// The action's index in AllActions(), or nothing.
std::optional<uint32_t> FindAction(std::string_view name);

// Parameter helpers. Required parameters that are absent or empty fail with Missing<Name>
// (a gateway error); values that cannot be read as their type fail with Invalid<Name>.
Result<std::string> RequiredString(const ParamMap& p, std::string_view name);
std::string OptionalString(const ParamMap& p, std::string_view name);
std::optional<std::string> PresentString(const ParamMap& p, std::string_view name);
Result<int64_t> RequiredInt(const ParamMap& p, std::string_view name);
Result<std::optional<int64_t>> OptionalInt(const ParamMap& p, std::string_view name);
Result<std::optional<bool>> OptionalBool(const ParamMap& p, std::string_view name);
/// `Tag.N.Key` / `Tag.N.Value` pairs in N order; both members are required per entry.
Result<std::vector<domain::Tag>> TagList(const ParamMap& p, std::string_view prefix);

// Renderers shared by several actions.
std::string_view JobStatusName(domain::JobStatus s);
std::string_view JobTypeName(domain::JobType t);
std::string_view SelectionTypeName(domain::SelectionType s);
std::string_view TargetSelectionName(domain::TargetSelection s);
std::string_view TaskStatusName(domain::TaskStatus s);
/// Writes `Tags: {OtaTagDTO: [{Key, Value}...]}`.
void WriteTags(ResponseWriter& w, const std::vector<domain::Tag>& tags);
/// Writes one SimpleOTAJobInfo item (ListOTAJobByDevice, ListOTAJobByFirmware).
void WriteSimpleJobInfo(ResponseWriter& w, const domain::Job& job);
/// Writes CurrentPage, PageSize, PageCount and Total.
void WritePaging(ResponseWriter& w, int64_t current_page, int64_t page_size, int64_t total);

// The handlers, grouped by resource.
Status CreateProductAction(ActionContext& ctx);
Status QueryProductAction(ActionContext& ctx);
Status RegisterDeviceAction(ActionContext& ctx);
Status QueryDeviceDetailAction(ActionContext& ctx);
Status CreateOTAFirmwareAction(ActionContext& ctx);
Status QueryOTAFirmwareAction(ActionContext& ctx);
Status CreateOTAStaticUpgradeJobAction(ActionContext& ctx);
Status ListOTAJobByDeviceAction(ActionContext& ctx);
Status GenerateOTAUploadURLAction(ActionContext& ctx);
Status GenerateDeviceNameListURLAction(ActionContext& ctx);

}  // namespace otad::rpc
