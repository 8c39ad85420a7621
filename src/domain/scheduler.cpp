// Time-driven work: everything that happens because a moment passed rather than because
// someone called. Runs on the injected clock, so tests move time instead of sleeping.

#include "domain/service_helpers.hpp"
#include "domain/services.hpp"

#include <set>

namespace otad::domain {

using namespace detail;

namespace {

// Rows handled per transaction; the loop continues until nothing is due.
constexpr int64_t kBatch = 500;
// Upper bound on transactions per call, so one call never runs unbounded.
constexpr int kMaxRounds = 10'000;

Status FinishJobAtItsEnd(WriteTx& tx, const Scope& scope, Job job, int64_t now) {
    OTA_TRY(tx.ForEachTaskOfJob(
        scope,
        job.job_id,
        {TaskStatus::kConfirm, TaskStatus::kQueued, TaskStatus::kNotified, TaskStatus::kInProgress},
        [&](const Task& t) -> Status {
            return CancelTask(tx, scope, t, "the batch reached its finish time", now);
        }));
    // Failed tasks waiting for a retry will not get it any more.
    OTA_TRY(tx.ForEachTaskOfJob(scope, job.job_id, {TaskStatus::kFailed}, [&](const Task& t) {
        if (t.retry_at_ms == 0) {
            return Ok();
        }
        Task copy = t;
        copy.retry_at_ms = 0;
        copy.modified_ms = now;
        return tx.UpdateTask(scope, copy);
    }));
    job.job_status = JobStatus::kCompleted;
    job.end_ms = now;
    job.modified_ms = now;
    return tx.UpdateJob(scope, job);
}

}  // namespace

Result<int64_t> Services::RunDueWork() {
    const int64_t now = clock_.NowMs();
    int64_t changed = 0;
    for (int round = 0; round < kMaxRounds; ++round) {
        int64_t handled = 0;
        OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(auto jobs, tx.ListJobsDue(now, kBatch));
            for (ScopedJob& sj : jobs) {
                Job& job = sj.job;
                if (job.job_status == JobStatus::kPlanned && job.schedule_ms <= now) {
                    job.job_status = JobStatus::kInProgress;
                    job.start_ms = now;
                    job.modified_ms = now;
                    job.push_backlog = job.need_push;
                    OTA_TRY(tx.UpdateJob(sj.scope, job));
                }
                if (job.job_status == JobStatus::kInProgress && job.schedule_finish_ms != 0 &&
                    job.schedule_finish_ms <= now) {
                    OTA_TRY(FinishJobAtItsEnd(tx, sj.scope, job, now));
                }
                ++handled;
            }
            OTA_ASSIGN_OR_RETURN(auto tasks, tx.ListTasksDue(now, kBatch));
            std::set<std::pair<int64_t, std::string>> settle;
            for (ScopedTask& st : tasks) {
                Task& t = st.task;
                if (t.status == TaskStatus::kFailed && t.retry_at_ms != 0 && t.retry_at_ms <= now) {
                    // Automatic retry: back to the queue.
                    t.status = TaskStatus::kQueued;
                    t.retry_at_ms = 0;
                    t.progress = "0.00";
                    t.progress_started_ms = 0;
                    t.timeout_at_ms = 0;
                    t.modified_ms = now;
                    OTA_TRY(tx.UpdateTask(st.scope, t));
                    OTA_TRY(MarkPushBacklog(tx, st.scope, t.job_id));
                } else if (t.status == TaskStatus::kInProgress && t.timeout_at_ms != 0 &&
                           t.timeout_at_ms <= now) {
                    // Timeouts are final: no automatic retry.
                    t.status = TaskStatus::kFailed;
                    t.task_desc = "update timed out";
                    t.timeout_at_ms = 0;
                    t.retry_at_ms = 0;
                    t.modified_ms = now;
                    OTA_TRY(tx.UpdateTask(st.scope, t));
                }
                settle.emplace(st.scope.instance_id, t.job_id);
                ++handled;
            }
            for (const ScopedTask& st : tasks) {
                if (settle.erase({st.scope.instance_id, st.task.job_id}) > 0) {
                    OTA_TRY(SettleJob(tx, st.scope, st.task.job_id, now));
                }
            }
            return Ok();
        }));
        changed += handled;
        if (handled == 0) {
            break;
        }
    }
    return changed;
}

Result<int64_t> Services::NextDueTime() {
    return ReadOne<int64_t>(store_, [](ReadTx& tx) { return tx.NextDueTime(); });
}

}  // namespace otad::domain
