// Firmware lists and deletion, and the batches other than static ones: verification batches,
// dynamic batches, their queries and the end of a dynamic strategy.

#include "domain/file_service.hpp"
#include "domain/service_helpers.hpp"
#include "domain/services.hpp"
#include "domain/validation.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace otad::domain {

using namespace detail;

namespace {

// The package and product of a new batch, with the checks every batch kind shares.
Result<Firmware> LoadBatchFirmware(ReadTx& tx,
                                   const Scope& scope,
                                   const std::string& firmware_id,
                                   const std::string& product_key) {
    OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, firmware_id));
    if (!firmware) {
        return MakeError(ErrorCode::kFirmwareNotFound);
    }
    OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
    if (!product) {
        return MakeError(ErrorCode::kProductNotFound);
    }
    if (firmware->product_key != product_key) {
        return MakeError(ErrorCode::kFirmwareProductMismatch);
    }
    return std::move(*firmware);
}

Status CheckSrcVersions(const std::vector<std::string>& versions) {
    if (versions.size() > 10) {
        return Invalid("At most 10 SrcVersion values are allowed.");
    }
    std::set<std::string_view> seen;
    for (const std::string& v : versions) {
        OTA_TRY(ValidateVersion(v, "SrcVersion"));
        if (!seen.insert(v).second) {
            return Invalid("SrcVersion values must be unique.");
        }
    }
    return Ok();
}

}  // namespace

Result<Page<FirmwareDetail>> Services::ListFirmware(const Scope& scope,
                                                    std::string_view product_key,
                                                    std::string_view dest_version,
                                                    int64_t current_page,
                                                    int64_t page_size) {
    OTA_TRY(CheckPage(current_page, page_size, 100));
    return ReadOne<Page<FirmwareDetail>>(store_, [&](ReadTx& tx) -> Result<Page<FirmwareDetail>> {
        OTA_ASSIGN_OR_RETURN(
            auto page,
            tx.ListFirmware(
                scope, product_key, dest_version, (current_page - 1) * page_size, page_size));
        std::map<std::string, std::string> names;
        Page<FirmwareDetail> out;
        out.total = page.total;
        for (Firmware& f : page.items) {
            auto it = names.find(f.product_key);
            if (it == names.end()) {
                OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, f.product_key));
                it = names.emplace(f.product_key, product ? product->product_name : "").first;
            }
            out.items.push_back({std::move(f), it->second});
        }
        return out;
    });
}

Status Services::DeleteFirmware(const Scope& scope, std::string_view firmware_id) {
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, firmware_id));
        if (!firmware) {
            return MakeError(ErrorCode::kFirmwareNotFound);
        }
        OTA_ASSIGN_OR_RETURN(bool busy, tx.FirmwareHasActiveWork(scope, firmware_id));
        if (busy) {
            return MakeError(ErrorCode::kFirmwareInUse);
        }
        if (files_ != nullptr) {
            // The package's uploads are no longer referenced; collection removes them later.
            std::vector<std::string> urls{firmware->firmware_url};
            for (const FirmwareFile& f : firmware->multi_files) {
                urls.push_back(f.url);
            }
            for (const std::string& url : urls) {
                auto stored = files_->ResolveUrl(tx, scope, url);
                if (stored.ok() && stored->has_value()) {
                    StoredFile file = std::move(**stored);
                    file.referenced = false;
                    OTA_TRY(tx.UpdateFile(scope, file));
                }
            }
        }
        return tx.DeleteFirmware(scope, firmware_id);
    });
}

Result<Job> Services::CreateVerifyJob(const Scope& scope, const CreateVerifyJobCommand& cmd) {
    const int64_t now = clock_.NowMs();
    if (cmd.target_device_names.empty()) {
        return MissingParam("TargetDeviceName");
    }
    if (cmd.target_device_names.size() > 10) {
        return MakeError(ErrorCode::kTooManyTargetDevices,
                         "A verification batch takes at most 10 devices.");
    }
    std::set<std::string_view> seen;
    for (const std::string& n : cmd.target_device_names) {
        if (!seen.insert(n).second) {
            return Invalid("TargetDeviceName values must be unique.");
        }
    }
    Job job;
    job.job_id = NewJobId();
    job.firmware_id = cmd.firmware_id;
    job.product_key = cmd.product_key;
    job.job_type = JobType::kVerifyFirmware;
    job.selection_type = SelectionType::kStatic;
    job.target_selection = TargetSelection::kSpecific;
    job.created_ms = now;
    job.modified_ms = now;
    job.start_ms = now;
    job.job_status = JobStatus::kInProgress;

    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(Firmware firmware,
                             LoadBatchFirmware(tx, scope, cmd.firmware_id, cmd.product_key));
        if (firmware.status == FirmwareStatus::kVerified ||
            firmware.status == FirmwareStatus::kVerifying) {
            return MakeError(ErrorCode::kFirmwareVerifyingOrVerified);
        }
        JobPolicy policy;
        policy.timeout_min = cmd.policy.timeout_min;
        policy.need_push = cmd.policy.need_push;
        policy.need_confirm = cmd.policy.need_confirm;
        policy.download_protocol = cmd.policy.download_protocol;
        policy.tags = cmd.policy.tags;
        OTA_TRY(ApplyPolicy(policy, firmware, job));

        std::vector<std::pair<Device, std::string>> targets;
        for (const std::string& name : cmd.target_device_names) {
            OTA_ASSIGN_OR_RETURN(auto device, tx.FindDevice(scope, cmd.product_key, name));
            if (!device) {
                return MakeError(ErrorCode::kDeviceNotFound,
                                 "The device " + name + " does not exist in the product.");
            }
            OTA_ASSIGN_OR_RETURN(std::string current,
                                 CurrentVersion(tx, scope, *device, firmware.module_name));
            if (VersionQualifies(firmware, {}, current)) {
                targets.emplace_back(std::move(*device), std::move(current));
            }
        }
        if (targets.empty()) {
            return MakeError(ErrorCode::kNoDeviceToUpgrade);
        }
        job.push_backlog = job.job_status == JobStatus::kInProgress && job.need_push;
        OTA_TRY(tx.InsertJob(scope, job));
        std::vector<Task> tasks;
        for (const auto& [device, current] : targets) {
            OTA_ASSIGN_OR_RETURN(Task t, PlanTask(tx, scope, job, firmware, device, current, now));
            tasks.push_back(std::move(t));
        }
        OTA_TRY(tx.InsertTasks(scope, tasks));
        OTA_TRY(tx.UpdateFirmwareStatus(
            scope, firmware.firmware_id, FirmwareStatus::kVerifying, 0, now));
        OTA_TRY(SettleJob(tx, scope, job.job_id, now));
        OTA_ASSIGN_OR_RETURN(auto settled, tx.FindJob(scope, job.job_id));
        job = std::move(*settled);
        return Ok();
    }));
    return job;
}

Result<Job> Services::CreateDynamicJob(const Scope& scope, const CreateDynamicJobCommand& cmd) {
    const int64_t now = clock_.NowMs();
    const bool by_group = !cmd.group_id.empty() || !cmd.group_type.empty();
    if (by_group) {
        if (cmd.group_id.empty()) {
            return MissingParam("GroupId");
        }
        if (cmd.group_type.empty()) {
            return MissingParam("GroupType");
        }
        if (cmd.group_type != "LINK_PLATFORM_DYNAMIC") {
            return Invalid("GroupType must be LINK_PLATFORM_DYNAMIC for a dynamic batch.");
        }
        if (!cmd.src_versions.empty()) {
            return Invalid("SrcVersion cannot be combined with GroupId.");
        }
    } else if (cmd.src_versions.empty()) {
        return MissingParam("SrcVersion");
    }
    OTA_TRY(CheckSrcVersions(cmd.src_versions));
    OTA_TRY(CheckOneOf(cmd.dynamic_mode, {1, 2}, "DynamicMode"));

    Job job;
    job.job_id = NewJobId();
    job.firmware_id = cmd.firmware_id;
    job.product_key = cmd.product_key;
    job.job_type = JobType::kUpgradeFirmware;
    job.selection_type = SelectionType::kDynamic;
    job.target_selection = TargetSelection::kAll;
    job.job_status = JobStatus::kInProgress;
    job.dynamic_mode = static_cast<int>(cmd.dynamic_mode.value_or(1));
    job.src_versions = cmd.src_versions;
    job.group_id = cmd.group_id;
    job.created_ms = now;
    job.modified_ms = now;
    job.start_ms = now;

    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(Firmware firmware,
                             LoadBatchFirmware(tx, scope, cmd.firmware_id, cmd.product_key));
        if (firmware.need_to_verify && firmware.status != FirmwareStatus::kVerified) {
            return MakeError(ErrorCode::kFirmwareNotVerified);
        }
        if (firmware.type == 1) {
            for (const std::string& v : cmd.src_versions) {
                if (v != firmware.src_version) {
                    return Invalid(
                        "For a differential package SrcVersion must equal the "
                        "package's SrcVersion.");
                }
            }
        }
        OTA_TRY(ApplyPolicy(cmd.policy, firmware, job));
        OTA_ASSIGN_OR_RETURN(auto running, tx.FindRunningDynamicJob(scope, cmd.firmware_id));
        if (running) {
            return MakeError(ErrorCode::kDynamicJobExists);
        }
        std::vector<Device> members;
        if (by_group) {
            OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(scope, cmd.group_id));
            if (!group || group->group_type != GroupType::kDynamic) {
                return MakeError(ErrorCode::kGroupNotFound);
            }
            job.group_name = group->group_name;
        }
        job.push_backlog = job.job_status == JobStatus::kInProgress && job.need_push;
        OTA_TRY(tx.InsertJob(scope, job));
        if (job.dynamic_mode == 2) {
            return Ok();  // only devices that report a matching version later
        }
        auto collect = [&](const Device& d) -> Status {
            if (d.product_key == cmd.product_key) {
                members.push_back(d);
            }
            return Ok();
        };
        if (by_group) {
            OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(scope, cmd.group_id));
            OTA_TRY(ForEachGroupDevice(tx, scope, *group, collect));
        } else {
            OTA_TRY(tx.ForEachDevice(scope, cmd.product_key, collect));
        }
        std::vector<Task> slice;
        for (const Device& d : members) {
            OTA_ASSIGN_OR_RETURN(std::string current,
                                 CurrentVersion(tx, scope, d, firmware.module_name));
            if (!VersionQualifies(firmware, job.src_versions, current)) {
                continue;
            }
            OTA_ASSIGN_OR_RETURN(Task t, PlanTask(tx, scope, job, firmware, d, current, now));
            slice.push_back(std::move(t));
            if (slice.size() >= limits_.task_insert_slice) {
                OTA_TRY(tx.InsertTasks(scope, slice));
                slice.clear();
            }
        }
        if (!slice.empty()) {
            OTA_TRY(tx.InsertTasks(scope, slice));
        }
        return Ok();
    }));
    return job;
}

Result<JobDetail> Services::QueryJob(const Scope& scope, std::string_view job_id) {
    return ReadOne<JobDetail>(store_, [&](ReadTx& tx) -> Result<JobDetail> {
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, job_id));
        if (!job) {
            return MakeError(ErrorCode::kJobNotFound);
        }
        JobDetail out;
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, job->firmware_id));
        if (firmware) {
            out.firmware_name = firmware->firmware_name;
            out.dest_version = firmware->dest_version;
        }
        if (!job->group_id.empty() && job->group_name.empty()) {
            OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(scope, job->group_id));
            if (group) {
                job->group_name = group->group_name;
            }
        }
        out.job = std::move(*job);
        return out;
    });
}

Result<Page<Job>> Services::ListJobsByFirmware(const Scope& scope,
                                               std::string_view firmware_id,
                                               int64_t current_page,
                                               int64_t page_size) {
    OTA_TRY(CheckPage(current_page, page_size, 200));
    return ReadOne<Page<Job>>(store_, [&](ReadTx& tx) -> Result<Page<Job>> {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, firmware_id));
        if (!firmware) {
            return MakeError(ErrorCode::kFirmwareNotFound);
        }
        return tx.ListJobsByFirmware(scope, firmware_id, (current_page - 1) * page_size, page_size);
    });
}

Status Services::CancelStrategy(const Scope& scope, std::string_view job_id) {
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, job_id));
        if (!job) {
            return MakeError(ErrorCode::kJobNotFound);
        }
        if (job->selection_type != SelectionType::kDynamic) {
            return MakeError(ErrorCode::kJobNotDynamic);
        }
        if (job->job_status != JobStatus::kInProgress) {
            return MakeError(ErrorCode::kJobStatusInvalid);
        }
        // The strategy stops enrolling devices; tasks already made run on (they can be
        // cancelled with CancelOTATaskByJob).
        job->job_status = JobStatus::kCanceled;
        job->end_ms = now;
        job->modified_ms = now;
        return tx.UpdateJob(scope, *job);
    });
}

}  // namespace otad::domain
