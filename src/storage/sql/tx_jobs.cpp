// Jobs and tasks.

#include "storage/sql/codec.hpp"
#include "storage/sql/tx.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace otad::storage::sql {

// The columns ReadJob reads.
#define OTA_JOB_COLUMNS                                                                          \
    "job_id, firmware_id, product_key, job_type, selection_type, target_selection, job_status, " \
    "job_desc, dynamic_mode, gray_percent, group_id, group_name, dn_list_file_url, "             \
    "retry_interval_min, retry_count, timeout_min, maximum_per_minute, overwrite_mode, "         \
    "multi_module_mode, need_push, need_confirm, download_protocol, schedule_ms, "               \
    "schedule_finish_ms, created_ms, modified_ms, start_ms, end_ms, push_window_start_ms, "      \
    "push_window_count, push_backlog "
// The columns ReadTask reads.
#define OTA_TASK_COLUMNS                                                                   \
    "task_id, job_id, firmware_id, iot_id, product_key, device_name, module_name, "        \
    "src_version, dest_version, status, progress, task_desc, job_created_ms, created_ms, " \
    "modified_ms, retries_used, retry_at_ms, progress_started_ms, timeout_at_ms, notified_ms "

// Driven by tasks_by_firmware_device: the equality terms pin one package and device, and the
// index order (job_created_ms DESC, job_id) is the page order, so the scan stops after offset +
// limit entries. CROSS JOIN keeps tasks as the outer loop; each job is then a unique-key lookup.
const std::string_view kSelectJobsByDevice =
    "SELECT j.job_id, j.firmware_id, j.product_key, j.job_type, j.selection_type, "
    "       j.target_selection, j.job_status, j.job_desc, j.dynamic_mode, j.gray_percent, "
    "       j.group_id, j.group_name, j.dn_list_file_url, j.retry_interval_min, j.retry_count, "
    "       j.timeout_min, j.maximum_per_minute, j.overwrite_mode, j.multi_module_mode, "
    "       j.need_push, j.need_confirm, j.download_protocol, j.schedule_ms, "
    "       j.schedule_finish_ms, j.created_ms, j.modified_ms, j.start_ms, j.end_ms, "
    "       j.push_window_start_ms, j.push_window_count, j.push_backlog "
    "FROM tasks AS t CROSS JOIN jobs AS j "
    "WHERE t.account_id = ?1 AND t.instance_id = ?2 AND t.iot_id = ?3 AND t.firmware_id = ?4 "
    "  AND j.job_id = t.job_id AND j.account_id = ?1 AND j.instance_id = ?2 "
    "ORDER BY t.job_created_ms DESC, t.job_id "
    "LIMIT ?5 OFFSET ?6";

// A device has at most one task per job, so counting its tasks of the package counts the jobs.
const std::string_view kCountJobsByDevice =
    "SELECT COUNT(*) FROM tasks "
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 AND firmware_id = ?4";

// Task lists of a job, each a range scan of an index whose order is the page order.
const std::string_view kSelectTasksByJob =
    "SELECT " OTA_TASK_COLUMNS
    "FROM tasks WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 "
    "ORDER BY created_ms, task_id LIMIT ?4 OFFSET ?5";
const std::string_view kSelectTasksByJobAndStatus =
    "SELECT " OTA_TASK_COLUMNS
    "FROM tasks WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 AND status = ?4 "
    "ORDER BY created_ms, task_id LIMIT ?5 OFFSET ?6";
const std::string_view kCountTasksByJob =
    "SELECT COUNT(*) FROM tasks WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3";
const std::string_view kCountTasksByJobAndStatus =
    "SELECT COUNT(*) FROM tasks "
    "WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 AND status = ?4";
// A covering scan of tasks_by_job_status, which delivers the rows grouped by status.
const std::string_view kCountTasksByStatus =
    "SELECT status, COUNT(*) FROM tasks "
    "WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 GROUP BY status";
// Seeks in tasks_by_job_status, one per unfinished status, then the failed tasks of the job;
// none of it grows with the job's size except the retry check, which runs over FAILED tasks
// only and stops at the first one waiting.
const std::string_view kSelectJobTaskState =
    "SELECT EXISTS (SELECT 1 FROM tasks WHERE account_id = ?1 AND instance_id = ?2 "
    "               AND job_id = ?3 AND status = 'CONFIRM') "
    "    OR EXISTS (SELECT 1 FROM tasks WHERE account_id = ?1 AND instance_id = ?2 "
    "               AND job_id = ?3 AND status = 'QUEUED') "
    "    OR EXISTS (SELECT 1 FROM tasks WHERE account_id = ?1 AND instance_id = ?2 "
    "               AND job_id = ?3 AND status = 'NOTIFIED') "
    "    OR EXISTS (SELECT 1 FROM tasks WHERE account_id = ?1 AND instance_id = ?2 "
    "               AND job_id = ?3 AND status = 'IN_PROGRESS'), "
    "       EXISTS (SELECT 1 FROM tasks WHERE account_id = ?1 AND instance_id = ?2 "
    "               AND job_id = ?3 AND status = 'FAILED' AND retry_at_ms <> 0)";
// ListTasksByJobAndDevices, one name at a time: ?3 job_id, ?4 device_name, ?5 status or NULL.
// Several tasks of one job may carry the same name (a device deleted and created again); they
// come in the job's list order. INDEXED BY (SQLite): without it SQLite's planner prefers
// tasks_by_job, which needs no sort but walks every task of the job for each name.
#define OTA_TASKS_OF_JOB_AND_DEVICE(index_hint)                                        \
    "SELECT " OTA_TASK_COLUMNS "FROM tasks " index_hint                                \
    "WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 AND device_name = ?4 " \
    "  AND (CAST(?5 AS TEXT) IS NULL OR status = ?5) "                                 \
    "ORDER BY created_ms, task_id"
const std::string_view kSelectTasksOfJobAndDevice =
    OTA_TASKS_OF_JOB_AND_DEVICE("INDEXED BY tasks_by_job_device ");
const std::string_view kSelectTasksOfJobAndDevicePortable = OTA_TASKS_OF_JOB_AND_DEVICE("");
#undef OTA_TASKS_OF_JOB_AND_DEVICE
// ForEachTaskOfJob on SQLite walks tasks_by_job_task, whose key no update of a task changes,
// so writes made by the callback do not move the cursor; the status is checked on each row as
// it is reached. INDEXED BY pins that index: a plan over tasks_by_job_status would sort first
// and hand out rows as they were before the callback changed them. Unused status slots are
// NULL.
const std::string_view kSelectTasksOfJobByTaskId =
    "SELECT " OTA_TASK_COLUMNS
    "FROM tasks INDEXED BY tasks_by_job_task "
    "WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 "
    "  AND status IN (?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ORDER BY task_id";
// Elsewhere, in batches: ?11 the last task_id handed out ('' before the first), ?12 the batch.
const std::string_view kSelectTasksOfJobAfter =
    "SELECT " OTA_TASK_COLUMNS
    "FROM tasks "
    "WHERE account_id = ?1 AND instance_id = ?2 AND job_id = ?3 "
    "  AND status IN (?4, ?5, ?6, ?7, ?8, ?9, ?10) AND task_id > ?11 "
    "ORDER BY task_id LIMIT ?12";

// What batch creation needs of each device of a product, in iot_id order (devices_by_product):
// the version of the module (a module_versions key lookup, only for a module other than
// "default": CASE evaluates the branch it takes only) and whether an unfinished task exists (a
// seek in the partial index tasks_unfinished_by_device, usable because the status condition is
// the index's own).
#define OTA_BATCH_CANDIDATE_COLUMNS                                                             \
    "SELECT d.iot_id, d.product_key, d.device_name, "                                           \
    "       CASE WHEN ?4 = 'default' THEN d.firmware_version "                                  \
    "            ELSE COALESCE((SELECT mv.version FROM module_versions AS mv "                  \
    "                           WHERE mv.account_id = ?1 AND mv.instance_id = ?2 "              \
    "                             AND mv.iot_id = d.iot_id AND mv.module_name = ?4), '') END, " \
    "       EXISTS (SELECT 1 FROM tasks AS t "                                                  \
    "               WHERE t.account_id = ?1 AND t.instance_id = ?2 AND t.iot_id = d.iot_id "    \
    "                 AND (t.status = 'CONFIRM' OR t.status = 'QUEUED' "                        \
    "                      OR t.status = 'NOTIFIED' OR t.status = 'IN_PROGRESS')) "             \
    "FROM devices AS d "
const std::string_view kSelectBatchCandidates = OTA_BATCH_CANDIDATE_COLUMNS
    "WHERE d.account_id = ?1 AND d.instance_id = ?2 AND d.product_key = ?3 "
    "ORDER BY d.iot_id";
const std::string_view kSelectBatchCandidateByName = OTA_BATCH_CANDIDATE_COLUMNS
    "WHERE d.account_id = ?1 AND d.instance_id = ?2 AND d.product_key = ?3 "
    "  AND d.device_name = ?5";
#undef OTA_BATCH_CANDIDATE_COLUMNS

// A device's unfinished tasks, and those of them delivered, from the partial index
// tasks_unfinished_by_device: the WHERE clause repeats its condition exactly (SQLite uses a
// partial index only then).
#define OTA_UNFINISHED_TASKS_OF_DEVICE                                       \
    "SELECT " OTA_TASK_COLUMNS                                               \
    "FROM tasks "                                                            \
    "WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 "            \
    "  AND (status = 'CONFIRM' OR status = 'QUEUED' OR status = 'NOTIFIED' " \
    "       OR status = 'IN_PROGRESS') "
const std::string_view kSelectUnfinishedTasksOfDevice =
    OTA_UNFINISHED_TASKS_OF_DEVICE "ORDER BY created_ms, task_id";
const std::string_view kSelectDeliveredTasksOfDevice = OTA_UNFINISHED_TASKS_OF_DEVICE
    "  AND status IN ('NOTIFIED', 'IN_PROGRESS') ORDER BY created_ms, task_id";
#undef OTA_UNFINISHED_TASKS_OF_DEVICE

namespace {

using domain::Job;
using domain::Page;
using domain::Scope;
using domain::Task;
using domain::TaskStatus;

constexpr std::string_view kSelectJob =
    "SELECT " OTA_JOB_COLUMNS
    "FROM jobs WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kSelectJobCreated =
    "SELECT created_ms FROM jobs WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertJob =
    "INSERT INTO jobs (account_id, instance_id, job_id, firmware_id, product_key, job_type, "
    "    selection_type, target_selection, job_status, job_desc, dynamic_mode, gray_percent, "
    "    group_id, group_name, dn_list_file_url, retry_interval_min, retry_count, timeout_min, "
    "    maximum_per_minute, overwrite_mode, multi_module_mode, need_push, need_confirm, "
    "    download_protocol, schedule_ms, schedule_finish_ms, created_ms, modified_ms, start_ms, "
    "    end_ms, push_window_start_ms, push_window_count, push_backlog) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "    ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)";
constexpr std::string_view kUpdateJobStatus =
    "UPDATE jobs SET job_status = ?4, start_ms = ?5, end_ms = ?6, modified_ms = ?7 "
    "WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertJobTag =
    "INSERT INTO job_tags (job_id, position, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)";
constexpr std::string_view kDeleteJobTags = "DELETE FROM job_tags WHERE job_id = ?1";
constexpr std::string_view kDeleteJobSrcVersions = "DELETE FROM job_src_versions WHERE job_id = ?1";
constexpr std::string_view kInsertJobSrcVersion =
    "INSERT INTO job_src_versions (job_id, position, version) VALUES (?1, ?2, ?3)";

constexpr std::string_view kSelectTask =
    "SELECT " OTA_TASK_COLUMNS
    "FROM tasks WHERE task_id = ?3 AND account_id = ?1 AND instance_id = ?2";
constexpr std::string_view kInsertTask =
    "INSERT INTO tasks (account_id, instance_id, task_id, job_id, firmware_id, iot_id, "
    "    product_key, device_name, module_name, src_version, dest_version, status, progress, "
    "    task_desc, job_created_ms, created_ms, modified_ms, retries_used, retry_at_ms, "
    "    progress_started_ms, timeout_at_ms, notified_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "    ?19, ?20, ?21, ?22)";
constexpr std::string_view kUpdateTaskStatus =
    "UPDATE tasks SET status = ?4, task_desc = ?5, modified_ms = ?6 "
    "WHERE task_id = ?3 AND account_id = ?1 AND instance_id = ?2";

constexpr std::string_view kSelectJobsByFirmware =
    "SELECT " OTA_JOB_COLUMNS
    "FROM jobs WHERE account_id = ?1 AND instance_id = ?2 AND firmware_id = ?3 "
    "ORDER BY created_ms DESC, job_id LIMIT ?4 OFFSET ?5";
constexpr std::string_view kCountJobsByFirmware =
    "SELECT COUNT(*) FROM jobs WHERE account_id = ?1 AND instance_id = ?2 AND firmware_id = ?3";
constexpr std::string_view kSelectRunningDynamicJobOfFirmware =
    "SELECT " OTA_JOB_COLUMNS
    "FROM jobs WHERE account_id = ?1 AND instance_id = ?2 AND firmware_id = ?3 "
    "  AND job_status = 'IN_PROGRESS' AND selection_type = 'DYNAMIC' "
    "ORDER BY created_ms DESC, job_id LIMIT 1";
constexpr std::string_view kSelectRunningDynamicJobsOfProduct =
    "SELECT " OTA_JOB_COLUMNS
    "FROM jobs WHERE account_id = ?1 AND instance_id = ?2 AND product_key = ?3 "
    "  AND job_status = 'IN_PROGRESS' AND selection_type = 'DYNAMIC' "
    "ORDER BY created_ms DESC, job_id";
// Every task copies its job's firmware_id, so the package's unfinished tasks are those of its
// jobs: a range of jobs_by_firmware, then for each job a seek in tasks_by_job_status.
constexpr std::string_view kSelectFirmwareHasActiveWork =
    "SELECT EXISTS (SELECT 1 FROM jobs "
    "               WHERE account_id = ?1 AND instance_id = ?2 AND firmware_id = ?3 "
    "                 AND job_status IN ('PLANNED', 'IN_PROGRESS')) "
    "    OR EXISTS (SELECT 1 FROM jobs AS j CROSS JOIN tasks AS t "
    "               WHERE j.account_id = ?1 AND j.instance_id = ?2 AND j.firmware_id = ?3 "
    "                 AND t.account_id = ?1 AND t.instance_id = ?2 AND t.job_id = j.job_id "
    "                 AND t.status IN ('CONFIRM', 'QUEUED', 'NOTIFIED', 'IN_PROGRESS'))";
constexpr std::string_view kUpdateJob =
    "UPDATE jobs SET target_selection = ?4, job_status = ?5, job_desc = ?6, dynamic_mode = ?7, "
    "    gray_percent = ?8, group_id = ?9, group_name = ?10, dn_list_file_url = ?11, "
    "    retry_interval_min = ?12, retry_count = ?13, timeout_min = ?14, "
    "    maximum_per_minute = ?15, overwrite_mode = ?16, multi_module_mode = ?17, "
    "    need_push = ?18, need_confirm = ?19, download_protocol = ?20, schedule_ms = ?21, "
    "    schedule_finish_ms = ?22, modified_ms = ?23, start_ms = ?24, end_ms = ?25, "
    "    push_window_start_ms = ?26, push_window_count = ?27, push_backlog = ?28 "
    "WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";

// A range of tasks_by_firmware_device, newest job first.
constexpr std::string_view kSelectTasksOfDeviceForFirmware =
    "SELECT " OTA_TASK_COLUMNS
    "FROM tasks WHERE account_id = ?1 AND instance_id = ?2 AND iot_id = ?3 AND firmware_id = ?4 "
    "  AND (?5 = '' OR job_id = ?5) "
    "ORDER BY job_created_ms DESC, job_id";
constexpr std::string_view kUpdateTask =
    "UPDATE tasks SET status = ?4, progress = ?5, task_desc = ?6, module_name = ?7, "
    "    src_version = ?8, dest_version = ?9, retries_used = ?10, retry_at_ms = ?11, "
    "    progress_started_ms = ?12, timeout_at_ms = ?13, modified_ms = ?14, notified_ms = ?15 "
    "WHERE task_id = ?3 AND account_id = ?1 AND instance_id = ?2";

// The scheduler's queries span tenants; each reads one partial index in due order and returns
// the row's scope after the record's columns. ?1 now, ?2 limit.
constexpr std::string_view kSelectJobsStartDue =
    "SELECT " OTA_JOB_COLUMNS
    ", account_id, instance_id, schedule_ms "
    "FROM jobs WHERE schedule_ms > 0 AND job_status = 'PLANNED' AND schedule_ms <= ?1 "
    "ORDER BY schedule_ms LIMIT ?2";
constexpr std::string_view kSelectJobsFinishDue =
    "SELECT " OTA_JOB_COLUMNS
    ", account_id, instance_id, schedule_finish_ms "
    "FROM jobs "
    "WHERE schedule_finish_ms > 0 AND job_status = 'IN_PROGRESS' AND schedule_finish_ms <= ?1 "
    "ORDER BY schedule_finish_ms LIMIT ?2";
constexpr std::string_view kSelectTasksRetryDue =
    "SELECT " OTA_TASK_COLUMNS
    ", account_id, instance_id, retry_at_ms "
    "FROM tasks WHERE retry_at_ms > 0 AND status = 'FAILED' AND retry_at_ms <= ?1 "
    "ORDER BY retry_at_ms LIMIT ?2";
constexpr std::string_view kSelectTasksTimeoutDue =
    "SELECT " OTA_TASK_COLUMNS
    ", account_id, instance_id, timeout_at_ms "
    "FROM tasks WHERE timeout_at_ms > 0 AND status = 'IN_PROGRESS' AND timeout_at_ms <= ?1 "
    "ORDER BY timeout_at_ms LIMIT ?2";
// The device channel. Batches with a push backlog, from the partial index jobs_push_backlog.
constexpr std::string_view kSelectJobsWithPushBacklog =
    "SELECT " OTA_JOB_COLUMNS
    ", account_id, instance_id, created_ms "
    "FROM jobs WHERE push_backlog = 1 AND job_status = 'IN_PROGRESS' AND need_push = 1 "
    "  AND created_ms <= ?1 "
    "ORDER BY created_ms LIMIT ?2";
// QUEUED tasks of one job in list order (tasks_by_job_status), each device a unique-key lookup.
constexpr std::string_view kSelectPushableTasks =
    "SELECT t.task_id, t.job_id, t.firmware_id, t.iot_id, t.product_key, t.device_name, "
    "       t.module_name, t.src_version, t.dest_version, t.status, t.progress, t.task_desc, "
    "       t.job_created_ms, t.created_ms, t.modified_ms, t.retries_used, t.retry_at_ms, "
    "       t.progress_started_ms, t.timeout_at_ms, t.notified_ms "
    "FROM tasks AS t CROSS JOIN devices AS d "
    "WHERE t.account_id = ?1 AND t.instance_id = ?2 AND t.job_id = ?3 AND t.status = 'QUEUED' "
    "  AND d.account_id = ?1 AND d.instance_id = ?2 AND d.iot_id = t.iot_id "
    "  AND d.status = 'ONLINE' "
    "ORDER BY t.created_ms, t.task_id LIMIT ?4";
// Walks tasks_offered (migration 0005), whose condition is repeated exactly; the device and
// batch conditions are key lookups per candidate.
constexpr std::string_view kSelectStaleOffers =
    "SELECT " OTA_TASK_COLUMNS
    ", account_id, instance_id, notified_ms "
    "FROM tasks "
    "WHERE (status = 'NOTIFIED' OR status = 'IN_PROGRESS') AND notified_ms < ?1 "
    "  AND modified_ms < ?1 "
    "  AND EXISTS (SELECT 1 FROM devices AS d WHERE d.account_id = tasks.account_id "
    "              AND d.instance_id = tasks.instance_id AND d.iot_id = tasks.iot_id "
    "              AND d.status = 'ONLINE') "
    "  AND EXISTS (SELECT 1 FROM jobs AS j WHERE j.account_id = tasks.account_id "
    "              AND j.instance_id = tasks.instance_id AND j.job_id = tasks.job_id "
    "              AND j.job_status = 'IN_PROGRESS' AND j.need_push = 1) "
    "ORDER BY notified_ms LIMIT ?2";
constexpr std::string_view kUpdateJobPushState =
    "UPDATE jobs SET push_window_start_ms = ?4, push_window_count = ?5, push_backlog = ?6 "
    "WHERE job_id = ?3 AND account_id = ?1 AND instance_id = ?2";

// The first entry of each of the four partial indexes (NULL when one is empty).
constexpr std::string_view kSelectNextDueTimes =
    "SELECT (SELECT MIN(schedule_ms) FROM jobs "
    "        WHERE schedule_ms > 0 AND job_status = 'PLANNED'), "
    "       (SELECT MIN(schedule_finish_ms) FROM jobs "
    "        WHERE schedule_finish_ms > 0 AND job_status = 'IN_PROGRESS'), "
    "       (SELECT MIN(retry_at_ms) FROM tasks WHERE retry_at_ms > 0 AND status = 'FAILED'), "
    "       (SELECT MIN(timeout_at_ms) FROM tasks "
    "        WHERE timeout_at_ms > 0 AND status = 'IN_PROGRESS')";

// Columns of a scheduler row after the record's: account, instance, due time.
constexpr int kJobColumnCount = 31;
constexpr int kTaskColumnCount = 20;

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
    job.push_window_start_ms = stmt.ColumnInt64(28);
    job.push_window_count = stmt.ColumnInt(29);
    job.push_backlog = stmt.ColumnBool(30);
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
    task.retries_used = stmt.ColumnInt(15);
    task.retry_at_ms = stmt.ColumnInt64(16);
    task.progress_started_ms = stmt.ColumnInt64(17);
    task.timeout_at_ms = stmt.ColumnInt64(18);
    task.notified_ms = stmt.ColumnInt64(19);
    return task;
}

// The tags and source versions of up to `slots` jobs in one statement: both child tables in one
// result, `kind` telling them apart (0 a tag, 1 a source version). The job ids fill a fixed
// number of placeholders, so that the text never changes and each connection prepares it once;
// slots a run does not need are NULL, which no job_id equals. The order is each table's primary
// key, (job_id, position): a job's tags and versions may interleave, but each kind comes in
// position order, and SQLite merges the two index scans without a sort (ordering by `kind` too
// would make it sort).
std::string BuildJobChildrenSql(int slots) {
    std::string in = "(";
    for (int i = 1; i <= slots; ++i) {
        in += (i == 1 ? "?" : ", ?") + std::to_string(i);
    }
    in += ")";
    return "SELECT job_id, 0 AS kind, position, tag_key, tag_value FROM job_tags WHERE job_id IN " +
           in +
           " UNION ALL "
           "SELECT job_id, 1, position, version, NULL FROM job_src_versions WHERE job_id IN " +
           in + " ORDER BY job_id, position";
}

// Jobs per run of the children query. On PostgreSQL, where every statement is a round trip, a
// page of up to 20 jobs costs one statement instead of two per job. On SQLite a statement is a
// function call, and an IN list of more than one value makes SQLite fill a temporary b-tree
// with the values on every run; its memory goes to and from the system each time, and under
// concurrent readers that costs far more than the statements saved (ListOTAJobByDevice fell to
// a fifth of its throughput at 64 connections). With one slot, `IN (?1)` is a plain equality,
// and a job's children still come in one statement instead of two.
constexpr int kChildJobSlotsPostgres = 20;
constexpr int kChildJobSlotsSqlite = 1;

// The children query for the connection's engine and the number of job ids it takes. The texts
// are built once and live as long as the process, as the statement cache requires.
struct JobChildrenQuery {
    std::string_view sql;
    int slots = 0;
};

JobChildrenQuery JobChildrenQueryFor(Dialect dialect) {
    static const std::string postgres = BuildJobChildrenSql(kChildJobSlotsPostgres);
    static const std::string sqlite = BuildJobChildrenSql(kChildJobSlotsSqlite);
    if (dialect == Dialect::kSqlite) {
        return {sqlite, kChildJobSlotsSqlite};
    }
    return {postgres, kChildJobSlotsPostgres};
}

// The jobs of a list, for LoadJobChildren.
std::vector<Job*> JobPointers(std::vector<Job>& jobs) {
    std::vector<Job*> pointers;
    pointers.reserve(jobs.size());
    for (Job& job : jobs) {
        pointers.push_back(&job);
    }
    return pointers;
}

std::vector<Job*> JobPointers(std::vector<domain::ScopedJob>& jobs) {
    std::vector<Job*> pointers;
    pointers.reserve(jobs.size());
    for (domain::ScopedJob& scoped : jobs) {
        pointers.push_back(&scoped.job);
    }
    return pointers;
}

}  // namespace

Status SqlTx::LoadJobChildren(const std::vector<Job*>& jobs) {
    if (jobs.empty()) {
        return Ok();
    }
    const JobChildrenQuery query = JobChildrenQueryFor(db_.dialect());
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(query.sql));
    for (size_t first = 0; first < jobs.size(); first += static_cast<size_t>(query.slots)) {
        const size_t end = std::min(jobs.size(), first + static_cast<size_t>(query.slots));
        for (int slot = 0; slot < query.slots; ++slot) {
            const size_t i = first + static_cast<size_t>(slot);
            if (i < end) {
                stmt.Bind(slot + 1, jobs[i]->job_id);
            } else {
                stmt.BindNull(slot + 1);
            }
        }
        // Rows of one job come together; the jobs of the chunk that carry its id (normally one;
        // every copy, should a list hold a job twice) are looked up when the id changes.
        std::string job_id;
        std::vector<Job*> owners;
        while (true) {
            OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
            if (!row) {
                break;
            }
            std::string id = stmt.ColumnText(0);
            if (owners.empty() || id != job_id) {
                job_id = std::move(id);
                owners.clear();
                for (size_t i = first; i < end; ++i) {
                    if (jobs[i]->job_id == job_id) {
                        owners.push_back(jobs[i]);
                    }
                }
            }
            const bool is_tag = stmt.ColumnInt64(1) == 0;
            for (Job* job : owners) {
                if (is_tag) {
                    job->tags.push_back(domain::Tag{stmt.ColumnText(3), stmt.ColumnText(4)});
                } else {
                    job->src_versions.push_back(stmt.ColumnText(3));
                }
            }
        }
        stmt.Reset();
    }
    return Ok();
}

Status SqlTx::StoreJobChildren(const Job& job) {
    for (std::string_view sql : {kDeleteJobTags, kDeleteJobSrcVersions}) {
        OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
        stmt.Bind(1, job.job_id);
        OTA_TRY(stmt.Run());
    }
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

Result<std::optional<Job>> SqlTx::FindJob(const Scope& scope, std::string_view job_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectJob, scope));
    stmt.Bind(3, job_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Job>();
    }
    OTA_ASSIGN_OR_RETURN(Job job, ReadJob(stmt));
    OTA_TRY(LoadJobChildren({&job}));
    return std::optional<Job>(std::move(job));
}

Result<Page<Job>> SqlTx::ListJobsByDevice(const Scope& scope,
                                          std::string_view iot_id,
                                          std::string_view firmware_id,
                                          int64_t offset,
                                          int64_t limit) {
    Page<Job> page;
    if (limit <= 0) {
        limit = 0;
    } else {
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
    const auto got = static_cast<int64_t>(page.items.size());
    if (offset <= 0 && got < limit) {
        page.total = got;  // the first page was not full: it is the whole list
    } else {
        OTA_ASSIGN_OR_RETURN(Statement count, PrepareScoped(db_, kCountJobsByDevice, scope));
        count.Bind(3, iot_id);
        count.Bind(4, firmware_id);
        OTA_ASSIGN_OR_RETURN(page.total, QueryInt(count));
    }
    OTA_TRY(LoadJobChildren(JobPointers(page.items)));
    return page;
}

Status SqlTx::InsertJob(const Scope& scope, const Job& job) {
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
    stmt.Bind(31, job.push_window_start_ms);
    stmt.Bind(32, job.push_window_count);
    stmt.Bind(33, job.push_backlog);
    OTA_TRY(stmt.Run());
    return StoreJobChildren(job);
}

Status SqlTx::UpdateJobStatus(const Scope& scope,
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

Result<std::vector<Task>> SqlTx::ListUnfinishedTasksOfDevice(const Scope& scope,
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

Result<std::optional<Task>> SqlTx::FindTask(const Scope& scope, std::string_view task_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectTask, scope));
    stmt.Bind(3, task_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return std::optional<Task>();
    }
    OTA_ASSIGN_OR_RETURN(Task task, ReadTask(stmt));
    return std::optional<Task>(std::move(task));
}

namespace {

// Parameters of one task row after the scope's ?1 and ?2 (kInsertTask's ?3 to ?22).
constexpr int kTaskRowParams = 20;
constexpr size_t kTaskRowsPerInsert = 50;

// Binds the task's columns as ?first .. ?first+19, in kInsertTask's order.
void BindTaskRow(Statement& stmt, int first, const Task& task) {
    stmt.Bind(first + 0, task.task_id);
    stmt.Bind(first + 1, task.job_id);
    stmt.Bind(first + 2, task.firmware_id);
    stmt.Bind(first + 3, task.iot_id);
    stmt.Bind(first + 4, task.product_key);
    stmt.Bind(first + 5, task.device_name);
    stmt.Bind(first + 6, task.module_name);
    stmt.Bind(first + 7, task.src_version);
    stmt.Bind(first + 8, task.dest_version);
    stmt.Bind(first + 9, ToText(task.status));
    stmt.Bind(first + 10, task.progress);
    stmt.Bind(first + 11, task.task_desc);
    stmt.Bind(first + 12, task.job_created_ms);
    stmt.Bind(first + 13, task.created_ms);
    stmt.Bind(first + 14, task.modified_ms);
    stmt.Bind(first + 15, task.retries_used);
    stmt.Bind(first + 16, task.retry_at_ms);
    stmt.Bind(first + 17, task.progress_started_ms);
    stmt.Bind(first + 18, task.timeout_at_ms);
    stmt.Bind(first + 19, task.notified_ms);
}

// kInsertTask with kTaskRowsPerInsert rows of values sharing ?1 and ?2. Built once; the text
// lives as long as the process, as the statement cache requires.
std::string_view InsertTasksSql() {
    static const std::string sql = [] {
        std::string text(kInsertTask.substr(0, kInsertTask.find("VALUES")));
        text += "VALUES ";
        for (size_t r = 0; r < kTaskRowsPerInsert; ++r) {
            text += r == 0 ? "(?1, ?2" : ", (?1, ?2";
            for (int c = 0; c < kTaskRowParams; ++c) {
                text += ", ?" + std::to_string(3 + static_cast<int>(r) * kTaskRowParams + c);
            }
            text += ")";
        }
        return text;
    }();
    return sql;
}

}  // namespace

Status SqlTx::InsertTasks(const Scope& scope, const std::vector<Task>& tasks) {
    // Inserting in (job_id, iot_id) order makes the inserts into the (job_id, iot_id) and
    // tasks_by_firmware_device indexes (a job has one package) go in key order at one place of
    // each index instead of landing on random pages, which matters for batches of a million
    // tasks. (Task ids of one batch grow with creation order, so the task_id index takes them at
    // one place too.)
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
    for (const Task* task : ordered) {
        if (checked_job_id == nullptr || task->job_id != *checked_job_id) {
            OTA_ASSIGN_OR_RETURN(Statement job, PrepareScoped(db_, kSelectJobCreated, scope));
            job.Bind(3, task->job_id);
            OTA_ASSIGN_OR_RETURN(bool row, job.Step());
            if (!row) {
                return InternalError("storage: task " + task->task_id + " names job " +
                                     task->job_id + ", which is not in the scope");
            }
            checked_job_id = &task->job_id;
            checked_created_ms = job.ColumnInt64(0);
        }
        if (task->job_created_ms != checked_created_ms) {
            return InternalError("storage: task " + task->task_id +
                                 " has a job_created_ms other than its job's created_ms");
        }
    }

    // Rows go in groups of kTaskRowsPerInsert per statement. Besides saving a statement run per
    // row, this matters because the status CHECK of the tasks table (an IN list) makes SQLite
    // build and free a temporary b-tree on every run of an INSERT; freeing it can hand memory
    // back to the system each time, which costs far more than the insert itself.
    size_t next = 0;
    if (ordered.size() >= kTaskRowsPerInsert) {
        OTA_ASSIGN_OR_RETURN(Statement many, PrepareScoped(db_, InsertTasksSql(), scope));
        for (; next + kTaskRowsPerInsert <= ordered.size(); next += kTaskRowsPerInsert) {
            for (size_t r = 0; r < kTaskRowsPerInsert; ++r) {
                BindTaskRow(many, 3 + static_cast<int>(r) * kTaskRowParams, *ordered[next + r]);
            }
            OTA_TRY(many.Run());
            many.Reset();
        }
    }
    if (next < ordered.size()) {
        OTA_ASSIGN_OR_RETURN(Statement one, PrepareScoped(db_, kInsertTask, scope));
        for (; next < ordered.size(); ++next) {
            BindTaskRow(one, 3, *ordered[next]);
            OTA_TRY(one.Run());
            one.Reset();
        }
    }
    return Ok();
}

namespace {

domain::ReadTx::BatchCandidate ReadBatchCandidate(const Statement& stmt) {
    domain::ReadTx::BatchCandidate c;
    c.iot_id = stmt.ColumnText(0);
    c.product_key = stmt.ColumnText(1);
    c.device_name = stmt.ColumnText(2);
    c.current_version = stmt.ColumnText(3);
    c.has_unfinished_task = stmt.ColumnInt64(4) != 0;
    return c;
}

}  // namespace

Status SqlTx::ForEachBatchCandidate(const Scope& scope,
                                    std::string_view product_key,
                                    std::string_view module_name,
                                    const std::vector<std::string>* names,
                                    const std::function<Status(const BatchCandidate&)>& fn) {
    // A few names among many devices: a key lookup per name, then the iot_id order in memory.
    // Otherwise one walk over the product's devices, each checked against the sorted names.
    if (names != nullptr) {
        OTA_ASSIGN_OR_RETURN(const int64_t devices, CountDevices(scope, product_key));
        if (static_cast<int64_t>(names->size()) * 8 < devices) {
            std::vector<BatchCandidate> found;
            OTA_ASSIGN_OR_RETURN(Statement stmt,
                                 PrepareScoped(db_, kSelectBatchCandidateByName, scope));
            stmt.Bind(3, product_key);
            stmt.Bind(4, module_name);
            for (const std::string& name : *names) {
                stmt.Bind(5, name);
                OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
                if (row) {
                    found.push_back(ReadBatchCandidate(stmt));
                }
                stmt.Reset();
            }
            std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
                return a.iot_id < b.iot_id;
            });
            for (const BatchCandidate& c : found) {
                OTA_TRY(fn(c));
            }
            return Ok();
        }
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScopedStream(db_, kSelectBatchCandidates, scope));
    stmt.Bind(3, product_key);
    stmt.Bind(4, module_name);
    // The statement stays open while `fn` runs. Tasks that `fn` inserts or cancels belong to
    // devices already passed, so the unfinished check of the devices still ahead is unaffected.
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return Ok();
        }
        if (names != nullptr) {
            if (!std::binary_search(names->begin(), names->end(), stmt.ColumnText(2))) {
                continue;
            }
        }
        OTA_TRY(fn(ReadBatchCandidate(stmt)));
    }
}

Status SqlTx::UpdateTaskStatus(const Scope& scope,
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
    // kTaskNotFound, like the updates of the management API (this returned kInternal before the
    // code existed).
    return RunChange(db_, stmt, ErrorCode::kTaskNotFound);
}

Result<Page<Job>> SqlTx::ListJobsByFirmware(const Scope& scope,
                                            std::string_view firmware_id,
                                            int64_t offset,
                                            int64_t limit) {
    Page<Job> page;
    {
        OTA_ASSIGN_OR_RETURN(Statement count, PrepareScoped(db_, kCountJobsByFirmware, scope));
        count.Bind(3, firmware_id);
        OTA_ASSIGN_OR_RETURN(page.total, QueryInt(count));
    }
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectJobsByFirmware, scope));
        stmt.Bind(3, firmware_id);
        BindPage(stmt, 4, offset, limit);
        OTA_TRY(CollectRows(stmt, page.items, ReadJob));
    }
    OTA_TRY(LoadJobChildren(JobPointers(page.items)));
    return page;
}

Result<std::optional<Job>> SqlTx::FindRunningDynamicJob(const Scope& scope,
                                                        std::string_view firmware_id) {
    std::vector<Job> jobs;
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt,
                             PrepareScoped(db_, kSelectRunningDynamicJobOfFirmware, scope));
        stmt.Bind(3, firmware_id);
        OTA_TRY(CollectRows(stmt, jobs, ReadJob));
    }
    if (jobs.empty()) {
        return std::optional<Job>();
    }
    OTA_TRY(LoadJobChildren({&jobs.front()}));
    return std::optional<Job>(std::move(jobs.front()));
}

Result<std::vector<Job>> SqlTx::ListRunningDynamicJobs(const Scope& scope,
                                                       std::string_view product_key) {
    std::vector<Job> jobs;
    {
        OTA_ASSIGN_OR_RETURN(Statement stmt,
                             PrepareScoped(db_, kSelectRunningDynamicJobsOfProduct, scope));
        stmt.Bind(3, product_key);
        OTA_TRY(CollectRows(stmt, jobs, ReadJob));
    }
    OTA_TRY(LoadJobChildren(JobPointers(jobs)));
    return jobs;
}

Result<bool> SqlTx::FirmwareHasActiveWork(const Scope& scope, std::string_view firmware_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectFirmwareHasActiveWork, scope));
    stmt.Bind(3, firmware_id);
    OTA_ASSIGN_OR_RETURN(int64_t active, QueryInt(stmt));
    return active != 0;
}

Status SqlTx::UpdateJob(const Scope& scope, const Job& job) {
    // Not updated: job_id, firmware_id and product_key (the job's identity), job_type and
    // selection_type (what kind of batch it is), and created_ms (copied into every task, whose
    // ordering relies on it).
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateJob, scope));
    stmt.Bind(3, job.job_id);
    stmt.Bind(4, ToText(job.target_selection));
    stmt.Bind(5, ToText(job.job_status));
    stmt.Bind(6, job.job_desc);
    stmt.Bind(7, job.dynamic_mode);
    stmt.Bind(8, job.gray_percent);
    stmt.Bind(9, job.group_id);
    stmt.Bind(10, job.group_name);
    stmt.Bind(11, job.dn_list_file_url);
    stmt.Bind(12, job.retry_interval_min);
    stmt.Bind(13, job.retry_count);
    stmt.Bind(14, job.timeout_min);
    stmt.Bind(15, job.maximum_per_minute);
    stmt.Bind(16, job.overwrite_mode);
    stmt.Bind(17, job.multi_module_mode);
    stmt.Bind(18, job.need_push);
    stmt.Bind(19, job.need_confirm);
    stmt.Bind(20, job.download_protocol);
    stmt.Bind(21, job.schedule_ms);
    stmt.Bind(22, job.schedule_finish_ms);
    stmt.Bind(23, job.modified_ms);
    stmt.Bind(24, job.start_ms);
    stmt.Bind(25, job.end_ms);
    stmt.Bind(26, job.push_window_start_ms);
    stmt.Bind(27, job.push_window_count);
    stmt.Bind(28, job.push_backlog);
    OTA_TRY(RunChange(db_, stmt, ErrorCode::kJobNotFound));
    return StoreJobChildren(job);
}

Result<Page<Task>> SqlTx::ListTasksByJob(const Scope& scope,
                                         std::string_view job_id,
                                         std::optional<TaskStatus> status,
                                         int64_t offset,
                                         int64_t limit) {
    std::string_view status_text = status ? ToText(*status) : std::string_view();
    Page<Task> page;
    {
        OTA_ASSIGN_OR_RETURN(
            Statement count,
            PrepareScoped(db_, status ? kCountTasksByJobAndStatus : kCountTasksByJob, scope));
        count.Bind(3, job_id);
        if (status) {
            count.Bind(4, status_text);
        }
        OTA_ASSIGN_OR_RETURN(page.total, QueryInt(count));
    }
    if (!PageHasRows(page.total, offset, limit)) {
        return page;
    }
    OTA_ASSIGN_OR_RETURN(
        Statement stmt,
        PrepareScoped(db_, status ? kSelectTasksByJobAndStatus : kSelectTasksByJob, scope));
    stmt.Bind(3, job_id);
    if (status) {
        stmt.Bind(4, status_text);
    }
    BindPage(stmt, status ? 5 : 4, offset, limit);
    OTA_TRY(CollectRows(stmt, page.items, ReadTask));
    return page;
}

Result<std::vector<Task>> SqlTx::ListTasksByJobAndDevices(
    const Scope& scope,
    std::string_view job_id,
    const std::vector<std::string>& device_names,
    std::optional<TaskStatus> status) {
    // One index seek per name, in the order the names are given; a name given twice is looked
    // up once.
    std::vector<Task> tasks;
    std::set<std::string_view> seen;
    OTA_ASSIGN_OR_RETURN(
        Statement stmt,
        PrepareScoped(
            db_,
            ForDialect(db_, kSelectTasksOfJobAndDevice, kSelectTasksOfJobAndDevicePortable),
            scope));
    stmt.Bind(3, job_id);
    if (status) {
        stmt.Bind(5, ToText(*status));
    } else {
        stmt.BindNull(5);
    }
    for (const std::string& name : device_names) {
        if (!seen.insert(name).second) {
            continue;
        }
        stmt.Bind(4, name);
        OTA_TRY(CollectRows(stmt, tasks, ReadTask));
        stmt.Reset();
    }
    return tasks;
}

Result<std::vector<Task>> SqlTx::FindTasks(const Scope& scope,
                                           const std::vector<std::string>& task_ids) {
    std::vector<Task> tasks;
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectTask, scope));
    for (const std::string& task_id : task_ids) {
        stmt.Bind(3, task_id);
        OTA_TRY(CollectRows(stmt, tasks, ReadTask));
        stmt.Reset();
    }
    return tasks;
}

Result<std::vector<Task>> SqlTx::ListTasksOfDeviceForFirmware(const Scope& scope,
                                                              std::string_view iot_id,
                                                              std::string_view firmware_id,
                                                              std::string_view job_id) {
    std::vector<Task> tasks;
    OTA_ASSIGN_OR_RETURN(Statement stmt,
                         PrepareScoped(db_, kSelectTasksOfDeviceForFirmware, scope));
    stmt.Bind(3, iot_id);
    stmt.Bind(4, firmware_id);
    stmt.Bind(5, job_id);
    OTA_TRY(CollectRows(stmt, tasks, ReadTask));
    return tasks;
}

Result<domain::JobTaskState> SqlTx::GetJobTaskState(const Scope& scope, std::string_view job_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectJobTaskState, scope));
    stmt.Bind(3, job_id);
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    domain::JobTaskState state;
    if (row) {
        state.has_unfinished = stmt.ColumnInt64(0) != 0;
        state.has_pending_retry = stmt.ColumnInt64(1) != 0;
    }
    return state;
}

Result<domain::TaskCounts> SqlTx::CountTasksByStatus(const Scope& scope, std::string_view job_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kCountTasksByStatus, scope));
    stmt.Bind(3, job_id);
    domain::TaskCounts counts;
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return counts;
        }
        OTA_ASSIGN_OR_RETURN(TaskStatus status, ParseTaskStatus(stmt.ColumnText(0)));
        int64_t count = stmt.ColumnInt64(1);
        switch (status) {
            case TaskStatus::kConfirm:
                counts.confirm = count;
                break;
            case TaskStatus::kQueued:
                counts.queued = count;
                break;
            case TaskStatus::kNotified:
                counts.notified = count;
                break;
            case TaskStatus::kInProgress:
                counts.in_progress = count;
                break;
            case TaskStatus::kSucceeded:
                counts.succeeded = count;
                break;
            case TaskStatus::kFailed:
                counts.failed = count;
                break;
            case TaskStatus::kCanceled:
                counts.canceled = count;
                break;
        }
    }
}

Status SqlTx::ForEachTaskOfJob(const Scope& scope,
                               std::string_view job_id,
                               const std::vector<TaskStatus>& statuses,
                               const std::function<Status(const Task&)>& fn) {
    constexpr int kFirstStatus = 4;
    constexpr int kStatusSlots = 7;
    static constexpr TaskStatus kAll[kStatusSlots] = {TaskStatus::kConfirm,
                                                      TaskStatus::kQueued,
                                                      TaskStatus::kNotified,
                                                      TaskStatus::kInProgress,
                                                      TaskStatus::kSucceeded,
                                                      TaskStatus::kFailed,
                                                      TaskStatus::kCanceled};
    // One slot per status, bound to the status when it is wanted and NULL (matching nothing)
    // otherwise, so that one cached statement serves every set.
    auto bind_statuses = [&](Statement& stmt) {
        for (int i = 0; i < kStatusSlots; ++i) {
            bool wanted = statuses.empty() ||
                          std::find(statuses.begin(), statuses.end(), kAll[i]) != statuses.end();
            if (wanted) {
                stmt.Bind(kFirstStatus + i, ToText(kAll[i]));
            } else {
                stmt.BindNull(kFirstStatus + i);
            }
        }
    };
    if (db_.dialect() == Dialect::kSqlite) {
        // One row at a time, like ForEachDevice: `fn` may query and write through this
        // transaction while the statement stays open, and each row is read as it is reached.
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectTasksOfJobByTaskId, scope));
        stmt.Bind(3, job_id);
        bind_statuses(stmt);
        while (true) {
            OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
            if (!row) {
                return Ok();
            }
            OTA_ASSIGN_OR_RETURN(Task task, ReadTask(stmt));
            OTA_TRY(fn(task));
        }
    }
    // Engines that hand out a query's result whole: batches in task_id order, each starting
    // after the last task handed out. Once `fn` has changed anything (the connection's change
    // count moved), the rest of the batch may be stale, so it is read again from there: every
    // task is handed out as it is at that moment, as on SQLite.
    constexpr int64_t kBatchRows = 256;
    std::string after;
    while (true) {
        OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectTasksOfJobAfter, scope));
        stmt.Bind(3, job_id);
        bind_statuses(stmt);
        // Bound by reference: `after` changes only once the batch has been read.
        stmt.Bind(11, after);
        stmt.Bind(12, kBatchRows);
        const int64_t changes_at_read = db_.TotalChanges();
        int64_t rows = 0;
        bool stale = false;
        while (true) {
            OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
            if (!row) {
                break;
            }
            if (db_.TotalChanges() != changes_at_read) {
                stale = true;
                break;
            }
            ++rows;
            OTA_ASSIGN_OR_RETURN(Task task, ReadTask(stmt));
            after = task.task_id;
            OTA_TRY(fn(task));
        }
        if (!stale && rows < kBatchRows) {
            return Ok();
        }
    }
}

Status SqlTx::UpdateTask(const Scope& scope, const Task& task) {
    // Not updated: the task's identity and origin (task_id, job_id, firmware_id, iot_id,
    // product_key, device_name) and its creation times (job_created_ms, created_ms).
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateTask, scope));
    stmt.Bind(3, task.task_id);
    stmt.Bind(4, ToText(task.status));
    stmt.Bind(5, task.progress);
    stmt.Bind(6, task.task_desc);
    stmt.Bind(7, task.module_name);
    stmt.Bind(8, task.src_version);
    stmt.Bind(9, task.dest_version);
    stmt.Bind(10, task.retries_used);
    stmt.Bind(11, task.retry_at_ms);
    stmt.Bind(12, task.progress_started_ms);
    stmt.Bind(13, task.timeout_at_ms);
    stmt.Bind(14, task.modified_ms);
    stmt.Bind(15, task.notified_ms);
    return RunChange(db_, stmt, ErrorCode::kTaskNotFound);
}

namespace {

// One scheduler row: the record, its scope and the time it is due.
template <typename T>
struct DueRow {
    int64_t due_ms = 0;
    domain::Scope scope;
    T record;
};

// Reads up to `limit` rows of a scheduler query; `read` reads the record from column 0 and
// `first_extra` is the column of the scope that follows it.
template <typename T, typename Read>
Status CollectDue(Connection& db,
                  std::string_view sql,
                  int64_t now_ms,
                  int64_t limit,
                  int first_extra,
                  Read read,
                  std::vector<DueRow<T>>& out) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
    stmt.Bind(1, now_ms);
    stmt.Bind(2, limit);
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return Ok();
        }
        DueRow<T>& due = out.emplace_back();
        OTA_ASSIGN_OR_RETURN(due.record, read(stmt));
        due.scope.account_id = stmt.ColumnInt64(first_extra);
        due.scope.instance_id = stmt.ColumnInt64(first_extra + 1);
        due.due_ms = stmt.ColumnInt64(first_extra + 2);
    }
}

// Merges the rows of two scheduler queries (each already in due order), earliest first, and
// keeps the first `limit`. Ties keep the first query's rows first.
template <typename T>
std::vector<DueRow<T>> MergeDue(std::vector<DueRow<T>> a, std::vector<DueRow<T>> b, int64_t limit) {
    std::vector<DueRow<T>> merged;
    merged.reserve(a.size() + b.size());
    std::merge(std::make_move_iterator(a.begin()),
               std::make_move_iterator(a.end()),
               std::make_move_iterator(b.begin()),
               std::make_move_iterator(b.end()),
               std::back_inserter(merged),
               [](const DueRow<T>& x, const DueRow<T>& y) { return x.due_ms < y.due_ms; });
    if (static_cast<int64_t>(merged.size()) > limit) {
        merged.resize(static_cast<size_t>(limit));
    }
    return merged;
}

}  // namespace

Result<std::vector<domain::ScopedJob>> SqlTx::ListJobsDue(int64_t now_ms, int64_t limit) {
    std::vector<domain::ScopedJob> jobs;
    if (limit <= 0) {
        return jobs;
    }
    std::vector<DueRow<Job>> starts;
    std::vector<DueRow<Job>> finishes;
    OTA_TRY(CollectDue(db_, kSelectJobsStartDue, now_ms, limit, kJobColumnCount, ReadJob, starts));
    OTA_TRY(
        CollectDue(db_, kSelectJobsFinishDue, now_ms, limit, kJobColumnCount, ReadJob, finishes));
    for (DueRow<Job>& row : MergeDue(std::move(starts), std::move(finishes), limit)) {
        jobs.push_back(domain::ScopedJob{row.scope, std::move(row.record)});
    }
    OTA_TRY(LoadJobChildren(JobPointers(jobs)));
    return jobs;
}

Result<std::vector<domain::ScopedTask>> SqlTx::ListTasksDue(int64_t now_ms, int64_t limit) {
    std::vector<domain::ScopedTask> tasks;
    if (limit <= 0) {
        return tasks;
    }
    std::vector<DueRow<Task>> retries;
    std::vector<DueRow<Task>> timeouts;
    OTA_TRY(
        CollectDue(db_, kSelectTasksRetryDue, now_ms, limit, kTaskColumnCount, ReadTask, retries));
    OTA_TRY(CollectDue(
        db_, kSelectTasksTimeoutDue, now_ms, limit, kTaskColumnCount, ReadTask, timeouts));
    for (DueRow<Task>& row : MergeDue(std::move(retries), std::move(timeouts), limit)) {
        tasks.push_back(domain::ScopedTask{row.scope, std::move(row.record)});
    }
    return tasks;
}

Result<std::vector<domain::ScopedTask>> SqlTx::ListStaleOffers(int64_t before_ms, int64_t limit) {
    std::vector<domain::ScopedTask> tasks;
    if (limit <= 0) {
        return tasks;
    }
    std::vector<DueRow<Task>> rows;
    OTA_TRY(
        CollectDue(db_, kSelectStaleOffers, before_ms, limit, kTaskColumnCount, ReadTask, rows));
    for (DueRow<Task>& row : rows) {
        tasks.push_back(domain::ScopedTask{row.scope, std::move(row.record)});
    }
    return tasks;
}

Result<int64_t> SqlTx::NextDueTime() {
    // The earliest time on any of the four partial indexes. When some work is already due this
    // is a time in the past (the caller should run the scheduler now); the contract's "future"
    // cannot be checked here, since no current time is passed.
    OTA_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(kSelectNextDueTimes));
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
        return InternalError("storage: expected one row");
    }
    int64_t next = 0;
    for (int column = 0; column < 4; ++column) {
        int64_t due = stmt.ColumnInt64(column);  // NULL (an empty index) reads as 0
        if (due > 0 && (next == 0 || due < next)) {
            next = due;
        }
    }
    return next;
}

Result<std::vector<domain::ScopedJob>> SqlTx::ListJobsWithPushBacklog(int64_t limit) {
    std::vector<domain::ScopedJob> jobs;
    if (limit <= 0) {
        return jobs;
    }
    std::vector<DueRow<Job>> rows;
    OTA_TRY(CollectDue(db_,
                       kSelectJobsWithPushBacklog,
                       std::numeric_limits<int64_t>::max(),
                       limit,
                       kJobColumnCount,
                       ReadJob,
                       rows));
    for (DueRow<Job>& row : rows) {
        jobs.push_back(domain::ScopedJob{row.scope, std::move(row.record)});
    }
    OTA_TRY(LoadJobChildren(JobPointers(jobs)));
    return jobs;
}

Result<std::vector<Task>> SqlTx::ListPushableTasks(const Scope& scope,
                                                   std::string_view job_id,
                                                   int64_t limit) {
    std::vector<Task> tasks;
    if (limit <= 0) {
        return tasks;
    }
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectPushableTasks, scope));
    stmt.Bind(3, job_id);
    stmt.Bind(4, limit);
    OTA_TRY(CollectRows(stmt, tasks, ReadTask));
    return tasks;
}

Result<std::vector<Task>> SqlTx::ListDeliveredTasksOfDevice(const Scope& scope,
                                                            std::string_view iot_id) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kSelectDeliveredTasksOfDevice, scope));
    stmt.Bind(3, iot_id);
    std::vector<Task> tasks;
    OTA_TRY(CollectRows(stmt, tasks, ReadTask));
    return tasks;
}

Status SqlTx::UpdateJobPushState(const Scope& scope, const Job& job) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, PrepareScoped(db_, kUpdateJobPushState, scope));
    stmt.Bind(3, job.job_id);
    stmt.Bind(4, job.push_window_start_ms);
    stmt.Bind(5, job.push_window_count);
    stmt.Bind(6, job.push_backlog);
    return RunChange(db_, stmt, ErrorCode::kJobNotFound);
}

}  // namespace otad::storage::sql
