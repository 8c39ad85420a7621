// The device channel: presence, pushes, pulls and device reports, applied in runs.
//
// Pushing a task and marking it NOTIFIED happen together here: the transaction that marks it
// returns the notice, and the transport sends it after the commit. A crash between the two
// leaves a NOTIFIED task that its device never saw; when otad comes back, the broker's
// retained presence replays every online device, and a replayed login offers the device its
// NOTIFIED tasks again (never the IN_PROGRESS ones, which the device has acknowledged by
// reporting progress). A genuine new login offers both, as the platform does.

#include "domain/file_service.hpp"
#include "domain/service_helpers.hpp"
#include "domain/services.hpp"
#include "domain/validation.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace otad::domain {

using namespace detail;

namespace {

// Download URLs in a notice stay valid at least this long, and longer when the batch's
// timeout is longer (the device may resume a download until its task times out).
constexpr int64_t kMinUrlLifetimeMs = kDayMs;
// Jobs with a push backlog looked at per sweep.
constexpr int64_t kBacklogJobsPerSweep = 100;
// The lease of the node that follows device presence.
constexpr std::string_view kPresenceLease = "presence";

bool IsStorageFailure(const Error& e) {
    return e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable;
}

using JobKey = std::pair<int64_t, std::string>;  // instance id, job id

// One run of device-channel work inside one write transaction: caches the jobs and packages
// it reads, collects what must be sent, and writes back what changed at the end.
class ChannelRun {
  public:
    ChannelRun(WriteTx& tx, FileService* files, int64_t now) : tx_(tx), files_(files), now_(now) {}

    Status Apply(const DeviceEvent& e);
    /// Pushes up to `limit` QUEUED tasks of batches with a push backlog.
    Status Sweep(int64_t limit);
    Status Reoffer(int64_t before_ms, int64_t limit);
    /// Settles the jobs whose tasks ended and writes the pacing state of the jobs that pushed.
    Status Finish();

    DeviceEventOutcome& outcome() { return out_; }

  private:
    Status Online(const DeviceEvent& e, ScopedDevice found);
    Status Offline(const DeviceEvent& e, ScopedDevice found);
    Status Pull(const DeviceEvent& e, const ScopedDevice& found);
    /// Offers the device its QUEUED tasks of running, pushing batches, within their budgets.
    Status PushQueued(const Scope& scope, const Device& device);
    /// QUEUED -> NOTIFIED and a notice for the task.
    Result<UpgradeNotice> Deliver(const Scope& scope, Task task);

    Result<Job*> GetJob(const Scope& scope, const std::string& job_id);
    Result<const Firmware*> GetFirmware(const Scope& scope, const std::string& firmware_id);
    Result<UpgradeNotice> Notice(const Scope& scope, const Task& task);
    Result<std::string> DeviceUrl(const Scope& scope,
                                  const std::string& url,
                                  const std::string& name,
                                  int64_t expires_ms);
    /// Takes one push from the job's MaximumPerMinute budget; false when it is spent (the job
    /// keeps its backlog flag and the sweep tries again in the next minute).
    bool TakeBudget(Job& job);
    int64_t BudgetLeft(Job& job);

    WriteTx& tx_;
    FileService* files_;
    const int64_t now_;
    DeviceEventOutcome out_;
    std::map<JobKey, std::pair<Scope, Job>> jobs_;
    std::set<JobKey> paced_;           // jobs whose pacing state changed
    std::map<JobKey, Scope> touched_;  // jobs whose tasks changed state, with their scope
    std::map<JobKey, Firmware> firmware_;
};

Result<Job*> ChannelRun::GetJob(const Scope& scope, const std::string& job_id) {
    JobKey key{scope.instance_id, job_id};
    auto it = jobs_.find(key);
    if (it == jobs_.end()) {
        OTA_ASSIGN_OR_RETURN(auto job, tx_.FindJob(scope, job_id));
        if (!job) {
            return static_cast<Job*>(nullptr);
        }
        it = jobs_.emplace(std::move(key), std::make_pair(scope, std::move(*job))).first;
    }
    return &it->second.second;
}

Result<const Firmware*> ChannelRun::GetFirmware(const Scope& scope,
                                                const std::string& firmware_id) {
    JobKey key{scope.instance_id, firmware_id};
    auto it = firmware_.find(key);
    if (it == firmware_.end()) {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx_.FindFirmware(scope, firmware_id));
        if (!firmware) {
            return static_cast<const Firmware*>(nullptr);
        }
        it = firmware_.emplace(std::move(key), std::move(*firmware)).first;
    }
    return &it->second;
}

int64_t ChannelRun::BudgetLeft(Job& job) {
    if (now_ - job.push_window_start_ms >= kMinuteMs || now_ < job.push_window_start_ms) {
        job.push_window_start_ms = now_;
        job.push_window_count = 0;
    }
    return std::max<int64_t>(0, job.maximum_per_minute - job.push_window_count);
}

bool ChannelRun::TakeBudget(Job& job) {
    if (BudgetLeft(job) == 0) {
        job.push_backlog = true;
        return false;
    }
    ++job.push_window_count;
    return true;
}

Result<std::string> ChannelRun::DeviceUrl(const Scope& scope,
                                          const std::string& url,
                                          const std::string& name,
                                          int64_t expires_ms) {
    if (files_ == nullptr) {
        return url;
    }
    OTA_ASSIGN_OR_RETURN(auto stored, files_->FindPackageFile(tx_, scope, url));
    if (!stored) {
        return url;  // a package file hosted elsewhere: the device fetches it from there
    }
    std::string file_name = name;
    if (file_name.empty()) {
        const size_t slash = stored->object_key.rfind('/');
        file_name = stored->object_key.substr(slash == std::string::npos ? 0 : slash + 1);
    }
    return files_->DownloadUrl(stored->sha256, file_name, expires_ms);
}

Result<UpgradeNotice> ChannelRun::Notice(const Scope& scope, const Task& task) {
    OTA_ASSIGN_OR_RETURN(Job * job, GetJob(scope, task.job_id));
    OTA_ASSIGN_OR_RETURN(const Firmware* firmware, GetFirmware(scope, task.firmware_id));
    if (job == nullptr || firmware == nullptr) {
        return InternalError("task " + task.task_id + " has no batch or package");
    }
    UpgradeNotice n;
    n.product_key = task.product_key;
    n.device_name = task.device_name;
    n.task_id = task.task_id;
    n.module_name = firmware->module_name;
    n.version = firmware->dest_version;
    n.sign_method = firmware->sign_method;
    n.is_diff = firmware->type == 1;
    n.tags = job->tags;
    n.udi = firmware->udi;
    int64_t lifetime = kMinUrlLifetimeMs;
    if (job->timeout_min) {
        lifetime = std::max(lifetime, int64_t{*job->timeout_min} * kMinuteMs + kHourMs);
    }
    const int64_t expires = now_ + lifetime;
    // Digests are stored in lower-case hex (CreateOTAFirmware normalizes them), as devices
    // compare them.
    if (firmware->multi_files.empty()) {
        NoticeFile f;
        f.name = firmware->firmware_name;
        OTA_ASSIGN_OR_RETURN(f.url, DeviceUrl(scope, firmware->firmware_url, {}, expires));
        f.size = firmware->firmware_size;
        f.sign = firmware->firmware_sign;
        if (firmware->sign_method == SignMethod::kMd5) {
            f.md5 = firmware->firmware_sign;
        }
        n.files.push_back(std::move(f));
    } else {
        for (const FirmwareFile& file : firmware->multi_files) {
            NoticeFile f;
            f.name = file.name;
            OTA_ASSIGN_OR_RETURN(f.url, DeviceUrl(scope, file.url, file.name, expires));
            f.size = file.size;
            f.sign = file.sign_value;
            f.md5 = file.md5;
            if (f.md5.empty() && firmware->sign_method == SignMethod::kMd5) {
                f.md5 = file.sign_value;
            }
            n.files.push_back(std::move(f));
        }
    }
    return n;
}

Result<UpgradeNotice> ChannelRun::Deliver(const Scope& scope, Task task) {
    if (task.status == TaskStatus::kQueued) {
        task.status = TaskStatus::kNotified;
        task.modified_ms = now_;
    }
    task.notified_ms = now_;
    OTA_TRY(tx_.UpdateTask(scope, task));
    return Notice(scope, task);
}

Status ChannelRun::PushQueued(const Scope& scope, const Device& device) {
    OTA_ASSIGN_OR_RETURN(auto tasks, tx_.ListUnfinishedTasksOfDevice(scope, device.iot_id));
    for (Task& t : tasks) {
        if (t.status != TaskStatus::kQueued) {
            continue;
        }
        OTA_ASSIGN_OR_RETURN(Job * job, GetJob(scope, t.job_id));
        if (job == nullptr || job->job_status != JobStatus::kInProgress || !job->need_push) {
            continue;
        }
        paced_.insert({scope.instance_id, job->job_id});
        if (!TakeBudget(*job)) {
            continue;  // the sweep pushes it once the batch's next minute starts
        }
        OTA_ASSIGN_OR_RETURN(UpgradeNotice n, Deliver(scope, std::move(t)));
        out_.pushes.push_back(std::move(n));
    }
    return Ok();
}

Status ChannelRun::Online(const DeviceEvent& e, ScopedDevice found) {
    Device& d = found.device;
    const int64_t at = e.at_ms > 0 ? e.at_ms : now_;
    if (e.at_ms > 0 && e.at_ms < d.online_ms) {
        return Ok();  // an older login than the one already recorded
    }
    // The broker replays the presence of devices still connected when otad subscribes again;
    // such a login carries the login time already recorded.
    const bool seen_before = e.at_ms > 0 && d.online_ms == e.at_ms;
    if (d.status != "ONLINE" || d.online_ms != at ||
        (!e.ip_address.empty() && d.ip_address != e.ip_address)) {
        d.status = "ONLINE";
        d.online_ms = at;
        if (d.active_ms == 0) {
            d.active_ms = at;
        }
        if (!e.ip_address.empty()) {
            d.ip_address = e.ip_address;
        }
        OTA_TRY(tx_.UpdateDevice(found.scope, d));
    }
    // Offer again what the device was given but may not have received or may have lost.
    OTA_ASSIGN_OR_RETURN(auto delivered, tx_.ListDeliveredTasksOfDevice(found.scope, d.iot_id));
    for (Task& t : delivered) {
        if (seen_before && t.status == TaskStatus::kInProgress) {
            continue;  // same connection: the device is working on it
        }
        OTA_ASSIGN_OR_RETURN(Job * job, GetJob(found.scope, t.job_id));
        if (job == nullptr || job->job_status != JobStatus::kInProgress || !job->need_push) {
            continue;
        }
        OTA_ASSIGN_OR_RETURN(UpgradeNotice n, Deliver(found.scope, std::move(t)));
        out_.pushes.push_back(std::move(n));
    }
    return PushQueued(found.scope, d);
}

Status ChannelRun::Offline(const DeviceEvent& e, ScopedDevice found) {
    Device& d = found.device;
    if (d.status != "ONLINE") {
        return Ok();
    }
    d.status = "OFFLINE";
    if (e.at_ms > 0) {
        d.modified_ms = std::max(d.modified_ms, e.at_ms);
    }
    return tx_.UpdateDevice(found.scope, d);
}

Status ChannelRun::Pull(const DeviceEvent& e, const ScopedDevice& found) {
    PullReply reply;
    reply.product_key = found.device.product_key;
    reply.device_name = found.device.device_name;
    reply.module_name = e.module_name.empty() ? std::string("default") : e.module_name;
    reply.style = e.pull_style;
    reply.request_id = e.request_id;
    OTA_ASSIGN_OR_RETURN(auto tasks,
                         tx_.ListUnfinishedTasksOfDevice(found.scope, found.device.iot_id));
    for (Task& t : tasks) {
        if (t.module_name != reply.module_name || t.status == TaskStatus::kConfirm) {
            continue;
        }
        OTA_ASSIGN_OR_RETURN(Job * job, GetJob(found.scope, t.job_id));
        if (job == nullptr || job->job_status != JobStatus::kInProgress) {
            continue;  // a planned batch has not started
        }
        OTA_ASSIGN_OR_RETURN(UpgradeNotice n, Deliver(found.scope, std::move(t)));
        reply.notice = std::move(n);
        break;
    }
    out_.replies.push_back(std::move(reply));
    return Ok();
}

Status ChannelRun::Apply(const DeviceEvent& e) {
    OTA_ASSIGN_OR_RETURN(auto found, tx_.FindDeviceAnyScope(e.product_key, e.device_name));
    if (!found) {
        ++out_.ignored;
        return Ok();
    }
    std::set<std::string> touched;
    Status st = Ok();
    switch (e.kind) {
        case DeviceEventKind::kOnline:
            st = Online(e, std::move(*found));
            break;
        case DeviceEventKind::kOffline:
            st = Offline(e, std::move(*found));
            break;
        case DeviceEventKind::kPull:
            st = Pull(e, *found);
            break;
        case DeviceEventKind::kProgress:
            st = ApplyProgressReport(tx_,
                                     found->scope,
                                     found->device.iot_id,
                                     e.module_name,
                                     e.step,
                                     e.desc,
                                     now_,
                                     touched);
            break;
        case DeviceEventKind::kVersion: {
            const Scope scope = found->scope;
            Device device = found->device;
            st = ApplyVersionReport(
                tx_, scope, std::move(found->device), e.module_name, e.version, now_, touched);
            if (st.ok()) {
                // A dynamic batch may have enrolled the device just now.
                st = PushQueued(scope, device);
            }
            break;
        }
    }
    for (const std::string& job_id : touched) {
        touched_.emplace(JobKey{found->scope.instance_id, job_id}, found->scope);
    }
    if (!st.ok()) {
        if (IsStorageFailure(st.error())) {
            return st;
        }
        ++out_.ignored;
        return Ok();
    }
    ++out_.applied;
    return Ok();
}

Status ChannelRun::Sweep(int64_t limit) {
    int64_t pushed = 0;
    OTA_ASSIGN_OR_RETURN(auto backlog, tx_.ListJobsWithPushBacklog(kBacklogJobsPerSweep));
    for (ScopedJob& sj : backlog) {
        if (pushed >= limit) {
            break;
        }
        const Scope scope = sj.scope;
        OTA_ASSIGN_OR_RETURN(Job * job, GetJob(scope, sj.job.job_id));
        if (job == nullptr) {
            continue;
        }
        paced_.insert({scope.instance_id, job->job_id});
        const int64_t budget = BudgetLeft(*job);
        if (budget == 0) {
            continue;  // this minute's pushes are spent; the flag stays
        }
        const int64_t want = std::min(budget, limit - pushed);
        OTA_ASSIGN_OR_RETURN(auto tasks, tx_.ListPushableTasks(scope, job->job_id, want));
        for (Task& t : tasks) {
            ++job->push_window_count;
            OTA_ASSIGN_OR_RETURN(UpgradeNotice n, Deliver(scope, std::move(t)));
            out_.pushes.push_back(std::move(n));
            ++pushed;
        }
        if (static_cast<int64_t>(tasks.size()) < want) {
            // Every QUEUED task of an online device is pushed; the rest wait for their device
            // to come online, which pushes them directly.
            job->push_backlog = false;
        }
    }
    return Ok();
}

Status ChannelRun::Reoffer(int64_t before_ms, int64_t limit) {
    OTA_ASSIGN_OR_RETURN(auto stale, tx_.ListStaleOffers(before_ms, limit));
    for (ScopedTask& st : stale) {
        OTA_ASSIGN_OR_RETURN(UpgradeNotice n, Deliver(st.scope, std::move(st.task)));
        out_.pushes.push_back(std::move(n));
    }
    return Ok();
}

Status ChannelRun::Finish() {
    for (const auto& [key, scope] : touched_) {
        OTA_TRY(SettleJob(tx_, scope, key.second, now_));
    }
    for (const JobKey& key : paced_) {
        auto it = jobs_.find(key);
        if (it == jobs_.end()) {
            continue;
        }
        // SettleJob may have changed the job's status, which the pacing write leaves alone.
        OTA_TRY(tx_.UpdateJobPushState(it->second.first, it->second.second));
    }
    return Ok();
}

}  // namespace

Result<DeviceEventOutcome> Services::ApplyDeviceEvents(const std::vector<DeviceEvent>& events) {
    const int64_t now = clock_.NowMs();
    DeviceEventOutcome outcome;
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        ChannelRun run(tx, files_, now);
        for (const DeviceEvent& e : events) {
            OTA_TRY(run.Apply(e));
        }
        OTA_TRY(run.Finish());
        outcome = std::move(run.outcome());
        return Ok();
    }));
    return outcome;
}

Result<std::vector<UpgradeNotice>> Services::TakeDuePushes(int64_t limit) {
    const int64_t now = clock_.NowMs();
    std::vector<UpgradeNotice> pushes;
    if (limit <= 0) {
        return pushes;
    }
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        ChannelRun run(tx, files_, now);
        OTA_TRY(run.Sweep(limit));
        OTA_TRY(run.Finish());
        pushes = std::move(run.outcome().pushes);
        return Ok();
    }));
    return pushes;
}

Result<std::vector<UpgradeNotice>> Services::ReofferStaleTasks(int64_t stale_after_ms,
                                                               int64_t limit) {
    const int64_t now = clock_.NowMs();
    std::vector<UpgradeNotice> pushes;
    if (limit <= 0 || stale_after_ms <= 0) {
        return pushes;
    }
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        ChannelRun run(tx, files_, now);
        OTA_TRY(run.Reoffer(now - stale_after_ms, limit));
        pushes = std::move(run.outcome().pushes);
        return Ok();
    }));
    return pushes;
}

Status Services::ResetPresence() {
    return store_.Write([](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t changed, tx.ResetPresence());
        (void)changed;
        return Ok();
    });
}

Result<bool> Services::HoldPresenceLease(std::string_view holder, int64_t term_ms) {
    const int64_t now = clock_.NowMs();
    bool held = false;
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(held, tx.HoldLease(kPresenceLease, holder, now, now + term_ms));
        return Ok();
    }));
    return held;
}

Status Services::ReleasePresenceLease(std::string_view holder) {
    return store_.Write(
        [&](WriteTx& tx) -> Status { return tx.ReleaseLease(kPresenceLease, holder); });
}

Result<std::optional<Device>> Services::FindDeviceForLogin(std::string_view product_key,
                                                           std::string_view device_name) {
    return ReadOne<std::optional<Device>>(store_, [&](ReadTx& tx) -> Result<std::optional<Device>> {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindDeviceAnyScope(product_key, device_name));
        if (!found) {
            return std::optional<Device>();
        }
        return std::optional<Device>(std::move(found->device));
    });
}

}  // namespace otad::domain
