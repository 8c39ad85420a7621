-- A device's tasks of one package, keyed by package first, replacing tasks_by_device (the same
-- change as SQLite's migration 0007: a batch's tasks share its package, so they go into one
-- range of the index instead of all over it).
DROP INDEX tasks_by_device;
CREATE INDEX tasks_by_firmware_device
    ON tasks (account_id, instance_id, firmware_id, iot_id, job_created_ms DESC, job_id);
