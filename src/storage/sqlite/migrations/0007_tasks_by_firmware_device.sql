-- A device's tasks of one package, keyed by package first (ListOTAJobByDevice and its count,
-- the task lookups of a device and package), replacing tasks_by_device.
--
-- Both queries it serves pin the package and the device by equality, so the order of those two
-- columns does not matter to them, but it decides where a batch's tasks land: every task of a
-- batch has the batch's package, so led by firmware_id they go into one range of the index, in
-- IotId order, instead of one entry on each of the pages of the whole index (a batch of a
-- million devices rewrote every page of tasks_by_device). The queries that asked for a device's
-- tasks by status read tasks_unfinished_by_device instead.
DROP INDEX tasks_by_device;
CREATE INDEX tasks_by_firmware_device
    ON tasks (account_id, instance_id, firmware_id, iot_id, job_created_ms DESC, job_id);
