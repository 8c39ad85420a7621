-- The unfinished tasks of each device, for the one-unfinished-task rule of batch creation.
--
-- tasks_by_device finds a device's tasks, but their status is only in the table rows, so
-- telling whether a device has an unfinished task meant reading every task it ever had. This
-- partial index holds only the tasks in CONFIRM, QUEUED, NOTIFIED or IN_PROGRESS (a small share
-- of all tasks once batches finish), so the check is one seek in a small index, and a batch of a
-- million devices walks it once in iot_id order. Queries use it when their WHERE clause repeats
-- the condition exactly as written here.
--
-- The condition is a chain of equalities rather than `status IN (...)`: SQLite evaluates a
-- constant IN list of more than two values through a temporary b-tree that it builds and frees
-- on every row written, which made each task insert and update pay a memory allocation and
-- release (and, in a multi-threaded process, a page-table flush) of its own.
CREATE INDEX tasks_unfinished_by_device ON tasks (account_id, instance_id, iot_id)
    WHERE status = 'CONFIRM' OR status = 'QUEUED' OR status = 'NOTIFIED'
       OR status = 'IN_PROGRESS';
