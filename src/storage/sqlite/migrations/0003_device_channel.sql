-- The device channel: devices log in through the broker by ProductKey and DeviceName, their
-- presence is kept on the device row, and batches pace their pushes.

-- Login and device reports name a device by ProductKey and DeviceName, across tenants.
CREATE INDEX devices_by_key ON devices (product_key, device_name);

-- The devices online now; small next to the fleet, so marking them all offline (when otad
-- reconnects to the broker) touches only them.
CREATE INDEX devices_online ON devices (status) WHERE status = 'ONLINE';

-- Push pacing (MaximumPerMinute): first pushes counted in the current minute of the batch.
ALTER TABLE jobs ADD COLUMN push_window_start_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN push_window_count    INTEGER NOT NULL DEFAULT 0;
-- Set when QUEUED tasks of the batch may be waiting for a push (the batch started, tasks
-- were queued again, a minute's budget ran out); cleared once a sweep finds none to push.
ALTER TABLE jobs ADD COLUMN push_backlog         INTEGER NOT NULL DEFAULT 0;

CREATE INDEX jobs_push_backlog ON jobs (created_ms)
    WHERE push_backlog = 1 AND job_status = 'IN_PROGRESS';
