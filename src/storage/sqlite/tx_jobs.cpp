// Jobs and tasks.

#include "storage/sqlite/codec.hpp"
#include "storage/sqlite/tx.hpp"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace otad::storage::sqlite {

// Driven by tasks_by_device: the equality terms pin one device and package, and the index order
// (job_created_ms DESC, job_id) is the page order, so the scan stops after offset + limit
// entries. CROSS JOIN keeps tasks as the outer loop; each job is then a unique-key lookup.
const std::string_view kSelectJobsByDevice =
    "SELECT j.job_id, j.firmware_id, j.product_key, j.job_type, j.selection_type, "
    "       j.target_selection, j.job_status, j.job_desc, j.dynamic_mode, j.gray_percent, "
    "       j.group_id, j.group_name, j.dn_list_file_url, j.retry_interval_min, j.retry_count, "
    "       j.timeout_min, j.maximum_per_minute, j.overwrite_mode, j.multi_module_mode, "
    "       j.need_push, j.need_confirm, j.download_protocol, j.schedule_ms, "
    "       j.schedule_finish_ms, j.created_ms, j.modified_ms, j.start_ms, j.end_ms "
    "FROM tasks AS t CROSS JOIN jobs AS j "
    "WHERE t.account_id = ?1 AND t.instance_id = ?2 AND t.iot_id = ?3 AND t.firmware_id = ?4 "
    "  AND j.job_id = t.job_id AND j.account_id = ?1 AND j.instance_id = ?2 "
    "ORDER BY t.job_created_ms DESC, t.job_id "
    "LIMIT ?5 OFFSET ?6";

// A device has at most one task per job, so counting its tasks of the package counts the jobs.
const std::string_view kCountJobsByDevice =
    "SELECT COUNT(*) FROM tasks "
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 AND firmware_id = ?4";

namespace {

using domain::Job;
using domain::Page;
using domain::Scope;
using domain::Task;
using domain::TaskStatus;

constexpr std::string_view kSelectJob =
    "SELECT job_id, firmware_id, product_key, job_type, selection_type, target_selection, "
    "       job_status, job_desc, dynamic_mode, gray_percent, group_id, group_name, "
    "       dn_list_file_url, retry_interval_min, retry_count, timeout_min, maximum_per_minute, "
    "       overwrite_mode, multi_module_mode, need_push, need_confirm, download_protocol, "
    "       schedule_ms, schedule_finish_ms, created_ms, modified_ms, start_ms, end_ms "
    "FROM jobs WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kSelectJobTags =
    "SELECT tag_key, tag_value FROM job_tags WHERE job_id = ?1 ORDER BY position";
constexpr std::string_view kSelectJobSrcVersions =
    "SELECT version FROM job_src_versions WHERE job_id = ?1 ORDER BY position";
constexpr std::string_view kSelectJobCreated =
    "SELECT created_ms FROM jobs WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertJob =
    "INSERT INTO jobs (account_id, instance_id, job_id, firmware_id, product_key, job_type, "
    "    selection_type, target_selection, job_status, job_desc, dynamic_mode, gray_percent, "
    "    group_id, group_name, dn_list_file_url, retry_interval_min, retry_count, timeout_min, "
    "    maximum_per_minute, overwrite_mode, multi_module_mode, need_push, need_confirm, "
    "    download_protocol, schedule_ms, schedule_finish_ms, created_ms, modified_ms, start_ms, "
    "    end_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "    ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)";
constexpr std::string_view kUpdateJobStatus =
    "UPDATE jobs SET job_status = ?4, start_ms = ?5, end_ms = ?6, modified_ms = ?7 "
    "WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertJobTag =
    "INSERT INTO job_tags (job_id, position, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)";
constexpr std::string_view kInsertJobSrcVersion =
    "INSERT INTO job_src_versions (job_id, position, version) VALUES (?1, ?2, ?3)";

constexpr std::string_view kSelectTask =
    "SELECT task_id, job_id, firmware_id, iot_id, product_key, device_name, module_name, "
    "       src_version, dest_version, status, progress, task_desc, job_created_ms, created_ms, "
    "       modified_ms "
    "FROM tasks WHERE task_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kSelectUnfinishedTasksOfDevice =
    "SELECT task_id, job_id, firmware_id, iot_id, product_key, device_name, module_name, "
    "       src_version, dest_version, status, progress, task_desc, job_created_ms, created_ms, "
    "       modified_ms "
    "FROM tasks "
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 "
    "  AND status IN ('CONFIRM', 'QUEUED', 'NOTIFIED', 'IN_PROGRESS') "
    "ORDER BY created_ms, task_id";
constexpr std::string_view kInsertTask =
    "INSERT INTO tasks (account_id, instance_id, task_id, job_id, firmware_id, iot_id, "
    "    product_key, device_name, module_name, src_version, dest_version, status, progress, "
    "    task_desc, job_created_ms, created_ms, modified_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
constexpr std::string_view kUpdateTaskStatus =
    "UPDATE tasks SET status = ?4, task_desc = ?5, modified_ms = ?6 "
    "WHERE task_id = ?3 AND account_id = ?1 AND instance_id = ?2";

// Reads the columns of kSelectJob (and of kSelectJobsByDevice, which lists the same ones).
Result<Job> ReadJob(const Statement& stmt) {
    Job job;
    job.job_id = stmt.ColumnText(0);
    job.firmware_id = stmt.ColumnText(1);
    job.product_key = stmt.ColumnText(2);
    OTA_ASSIGN_OR_RETURN(job.job_type, ParseJobType(stmt.ColumnText(3)));
    OTA_ASSIGN_OR_RETURN(job.selection_type, ParseSelectionType(stmt.ColumnText(4)));
    OTA_ASSIGN_OR_RETURN(job.target_selection, ParseTargetSelection(stmt.ColumnText(5)));
    OTA_ASSIGN_OR_RETURN(job.job_status, ParseJobStatus(stmt.ColumnText(6)));
    job.job_desc = stmt.ColumnText(7);
    job.dynamic_mode = stmt.ColumnOptionalInt(8);
    job.gray_percent = stmt.ColumnText(9);
    job.group_id = stmt.ColumnText(10);
    job.group_name = stmt.ColumnText(11);
    job.dn_list_file_url = stmt.ColumnText(12);
    job.retry_interval_min = stmt.ColumnOptionalInt(13);
    job.retry_count = stmt.ColumnOptionalInt(14);
    job.timeout_min = stmt.ColumnOptionalInt(15);
    job.maximum_per_minute = stmt.ColumnInt(16);
    job.overwrite_mode = stmt.ColumnInt(17);
    job.multi_module_mode = stmt.ColumnBool(18);
    job.need_push = stmt.ColumnBool(19);
    job.need_confirm = stmt.ColumnBool(20);
    job.download_protocol = stmt.ColumnText(21);
    job.schedule_ms = stmt.ColumnInt64(22);
    job.schedule_finish_ms = stmt.ColumnInt64(23);
    job.created_ms = stmt.ColumnInt64(24);
    job.modified_ms = stmt.ColumnInt64(25);
    job.start_ms = stmt.ColumnInt64(26);
    job.end_ms = stmt.ColumnInt64(27);
    return job;
}

Result<Task> ReadTask(const Statement& stmt) {
    Task task;
    task.task_id = stmt.ColumnText(0);
    task.job_id = stmt.ColumnText(1);
    task.firmware_id = stmt.ColumnText(2);
    task.iot_id = stmt.ColumnText(3);
    task.product_key = stmt.ColumnText(4);
    task.device_name = stmt.ColumnText(5);
    task.module_name = stmt.ColumnText(6);
    task.src_version = stmt.ColumnText(7);
    task.dest_version = stmt.ColumnText(8);
    OTA_ASSIGN_OR_RETURN(task.status, ParseTaskStatus(stmt.ColumnText(9)));
    task.progress = stmt.ColumnText(10);
    task.task_desc = stmt.ColumnText(11);
    task.job_created_ms = stmt.ColumnInt64(12);
    task.created_ms = stmt.ColumnInt64(13);
    task.modified_ms = stmt.ColumnInt64(14);
    return task;
}

}  // namespace

Status SqliteTx::LoadJobChildren(Job& job) {
    OTA_ASSIGN_OR_RETURN(Statement tags, db_.Prepare(kSelectJobTags));
    tags.Bind(1, job.job_id);
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, tags.Step());
        if (!row) {
            break;
        }
        job.tags.push_back(domain::Tag{tags.ColumnText(0), tags.ColumnText(1)});
    }
    OTA_ASSIGN_OR_RETURN(Statement versions, db_.Prepare(kSelectJobSrcVersions));
    versions.Bind(1, job.job_id);
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, versions.Step());
        if (!row) {
            break;
        }
        job.src_versions.push_back(versions.ColumnText(0));
    }
    return Ok();
}

Result<std::optional<Job>> SqliteTx::FindJob(const Scope& scope, std::string_view job_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectJob, scope));
    stmt.Bind(3, job_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Job>();
    }
    OTA_ASSIGN_OR_RETURN(Job job, ReadJob(stmt));
    OTA_TRY(LoadJobChildren(job));
    return std::optional<Job>(std::move(job));
}

Result<Page<Job>> SqliteTx::ListJobsByDevice(const Scope& scope,
                                             std::string_view iot_id,
                                             std::string_view firmware_id,
                                             int64_t offset,
                                             int64_t limit) {
    Page<Job> page;
    {
        OTA_ASSIGN_OR_RETURN(Statement count, PrepareScoped(db_, kCountJobsByDevice, scope));
        count.Bind(3, iot_id);
        count.Bind(4, firmware_id);
        OTA_ASSIGN_OR_RETURN(page.total, QueryInt(count));
    }
    if (limit <= 0 || offset >= page.total) {
        return page;
    }
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectJobsByDevice, scope));
        stmt.Bind(3, iot_id);
        stmt.Bind(4, firmware_id);
        stmt.Bind(5, limit);
        stmt.Bind(6, offset < 0 ? 0 : offset);
        while (true) {
            OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
            if (!row) {
                break;
            }
            OTA_ASSIGN_OR_RETURN(Job job, ReadJob(stmt));
            page.items.push_back(std::move(job));
        }
    }
    for (Job& job : page.items) {
        OTA_TRY(LoadJobChildren(job));
    }
    return page;
}

Status SqliteTx::InsertJob(const Scope& scope, const Job& job) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertJob, scope));
    stmt.Bind(3, job.job_id);
    stmt.Bind(4, job.firmware_id);
    stmt.Bind(5, job.product_key);
    stmt.Bind(6, ToText(job.job_type));
    stmt.Bind(7, ToText(job.selection_type));
    stmt.Bind(8, ToText(job.target_selection));
    stmt.Bind(9, ToText(job.job_status));
    stmt.Bind(10, job.job_desc);
    stmt.Bind(11, job.dynamic_mode);
    stmt.Bind(12, job.gray_percent);
    stmt.Bind(13, job.group_id);
    stmt.Bind(14, job.group_name);
    stmt.Bind(15, job.dn_list_file_url);
    stmt.Bind(16, job.retry_interval_min);
    stmt.Bind(17, job.retry_count);
    stmt.Bind(18, job.timeout_min);
    stmt.Bind(19, job.maximum_per_minute);
    stmt.Bind(20, job.overwrite_mode);
    stmt.Bind(21, job.multi_module_mode);
    stmt.Bind(22, job.need_push);
    stmt.Bind(23, job.need_confirm);
    stmt.Bind(24, job.download_protocol);
    stmt.Bind(25, job.schedule_ms);
    stmt.Bind(26, job.schedule_finish_ms);
    stmt.Bind(27, job.created_ms);
    stmt.Bind(28, job.modified_ms);
    stmt.Bind(29, job.start_ms);
    stmt.Bind(30, job.end_ms);
    OTA_TRY(stmt.Run());

    OTA_ASSIGN_OR_RETURN(Statement tag_stmt, db_.Prepare(kInsertJobTag));
    for (size_t i = 0; i < job.tags.size(); ++i) {
        tag_stmt.Bind(1, job.job_id);
        tag_stmt.Bind(2, static_cast<int64_t>(i));
        tag_stmt.Bind(3, job.tags[i].key);
        tag_stmt.Bind(4, job.tags[i].value);
        OTA_TRY(tag_stmt.Run());
        tag_stmt.Reset();
    }
    OTA_ASSIGN_OR_RETURN(Statement version_stmt, db_.Prepare(kInsertJobSrcVersion));
    for (size_t i = 0; i < job.src_versions.size(); ++i) {
        version_stmt.Bind(1, job.job_id);
        version_stmt.Bind(2, static_cast<int64_t>(i));
        version_stmt.Bind(3, job.src_versions[i]);
        OTA_TRY(version_stmt.Run());
        version_stmt.Reset();
    }
    return Ok();
}

Status SqliteTx::UpdateJobStatus(const Scope& scope,
                                 std::string_view job_id,
                                 domain::JobStatus status,
                                 int64_t start_ms,
                                 int64_t end_ms,
                                 int64_t modified_ms) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateJobStatus, scope));
    stmt.Bind(3, job_id);
    stmt.Bind(4, ToText(status));
    stmt.Bind(5, start_ms);
    stmt.Bind(6, end_ms);
    stmt.Bind(7, modified_ms);
    OTA_TRY(stmt.Run());
    if (db_.Changes() == 0) {
        return MakeError(ErrorCode::kJobNotFound);
    }
    return Ok();
}

Result<std::vector<Task>> SqliteTx::ListUnfinishedTasksOfDevice(const Scope& scope,
                                                                std::string_view iot_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectUnfinishedTasksOfDevice, scope));
    stmt.Bind(3, iot_id);
    std::vector<Task> tasks;
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            break;
        }
        OTA_ASSIGN_OR_RETURN(Task task, ReadTask(stmt));
        tasks.push_back(std::move(task));
    }
    return tasks;
}

Result<std::optional<Task>> SqliteTx::FindTask(const Scope& scope, std::string_view task_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectTask, scope));
    stmt.Bind(3, task_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Task>();
    }
    OTA_ASSIGN_OR_RETURN(Task task, ReadTask(stmt));
    return std::optional<Task>(std::move(task));
}

Status SqliteTx::InsertTasks(const Scope& scope, const std::vector<Task>& tasks) {
    // Inserting in (job_id, iot_id) order makes the inserts into the (job_id, iot_id) and
    // tasks_by_device indexes sweep each index once instead of landing on random pages, which
    // matters for batches of a million tasks. Only the task_id index is still hit at random.
    std::vector<const Task*> ordered;
    ordered.reserve(tasks.size());
    for (const Task& task : tasks) {
        ordered.push_back(&task);
    }
    std::sort(ordered.begin(), ordered.end(), [](const Task* a, const Task* b) {
        return std::tie(a->job_id, a->iot_id) < std::tie(b->job_id, b->iot_id);
    });

    // The listing order of ListJobsByDevice relies on each task's copy of its job's creation
    // time, so the copy is checked against the job, once per job.
    const std::string* checked_job_id = nullptr;
    int64_t checked_created_ms = 0;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kInsertTask, scope));
    for (const Task* task : ordered) {
        if (checked_job_id == nullptr || task->job_id != *checked_job_id) {
            OTA_ASSIGN_OR_RETURN(Statement job, PrepareScoped(db_, kSelectJobCreated, scope));
            job.Bind(3, task->job_id);
            OTA_ASSIGN_OR_RETURN(bool row, job.Step());
            if (!row) {
                return InternalError("sqlite: task " + task->task_id + " names job " +
                                     task->job_id + ", which is not in the scope");
            }
            checked_job_id = &task->job_id;
            checked_created_ms = job.ColumnInt64(0);
        }
        if (task->job_created_ms != checked_created_ms) {
            return InternalError("sqlite: task " + task->task_id +
                                 " has a job_created_ms other than its job's created_ms");
        }
        stmt.Bind(3, task->task_id);
        stmt.Bind(4, task->job_id);
        stmt.Bind(5, task->firmware_id);
        stmt.Bind(6, task->iot_id);
        stmt.Bind(7, task->product_key);
        stmt.Bind(8, task->device_name);
        stmt.Bind(9, task->module_name);
        stmt.Bind(10, task->src_version);
        stmt.Bind(11, task->dest_version);
        stmt.Bind(12, ToText(task->status));
        stmt.Bind(13, task->progress);
        stmt.Bind(14, task->task_desc);
        stmt.Bind(15, task->job_created_ms);
        stmt.Bind(16, task->created_ms);
        stmt.Bind(17, task->modified_ms);
        OTA_TRY(stmt.Run());
        stmt.Reset();
    }
    return Ok();
}

Status SqliteTx::UpdateTaskStatus(const Scope& scope,
                                  std::string_view task_id,
                                  TaskStatus status,
                                  std::string_view task_desc,
                                  int64_t modified_ms) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateTaskStatus, scope));
    stmt.Bind(3, task_id);
    stmt.Bind(4, ToText(status));
    stmt.Bind(5, task_desc);
    stmt.Bind(6, modified_ms);
    OTA_TRY(stmt.Run());
    if (db_.Changes() == 0) {
        return InternalError("sqlite: no task " + std::string(task_id) + " in the scope");
    }
    return Ok();
}

}  // namespace otad::storage::sqlite
