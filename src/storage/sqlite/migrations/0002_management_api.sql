-- The complete management API: task scheduling bookkeeping, modules, module versions, device
-- groups, batch registrations, stored files, and the indexes behind every list of the ports.
--
-- Conventions are those of 0001_init.sql. New enumerations:
--     groups_.group_type   STATIC | DYNAMIC  (the API's LINK_PLATFORM | LINK_PLATFORM_DYNAMIC)
--     stored_files.kind    FIRMWARE | DEVICE_LIST
--
-- Every index on a tenant's rows starts with (account_id, instance_id), like those of 0001, so
-- that the tenant filter of each query is part of the range it scans.

-- ---- Tasks: retry, timeout and notification bookkeeping ----------------------------------

ALTER TABLE tasks ADD COLUMN retries_used        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN retry_at_ms         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN progress_started_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN timeout_at_ms       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN notified_ms         INTEGER NOT NULL DEFAULT 0;

-- Tasks of a job in list order, all statuses (ListTasksByJob without a status).
CREATE INDEX tasks_by_job ON tasks (account_id, instance_id, job_id, created_ms, task_id);

-- Tasks of a job and status in list order (ListTasksByJob with a status), and the per-status
-- counts of a job (CountTasksByStatus groups a covering scan of it), and the unfinished tasks
-- of a job (FirmwareHasActiveWork).
CREATE INDEX tasks_by_job_status
    ON tasks (account_id, instance_id, job_id, status, created_ms, task_id);

-- Tasks of a job in task_id order (ForEachTaskOfJob). Its key never changes when a task is
-- updated, so a callback that updates tasks does not disturb the scan.
CREATE INDEX tasks_by_job_task ON tasks (account_id, instance_id, job_id, task_id);

-- Tasks of a job by device name (ListTasksByJobAndDevices). Names rather than iot_ids: the
-- tasks of a deleted device are history and stay findable by the name they recorded.
CREATE INDEX tasks_by_job_device ON tasks (account_id, instance_id, job_id, device_name);

-- The scheduler's work across tenants: failed tasks due for an automatic retry and tasks in
-- progress due to time out. Partial, so they hold only the rows that are waiting.
CREATE INDEX tasks_retry_due ON tasks (retry_at_ms)
    WHERE retry_at_ms > 0 AND status = 'FAILED';
CREATE INDEX tasks_timeout_due ON tasks (timeout_at_ms)
    WHERE timeout_at_ms > 0 AND status = 'IN_PROGRESS';

-- ---- Jobs ---------------------------------------------------------------------------------

-- Jobs of a product by status and selection, newest first (ListRunningDynamicJobs), and the
-- jobs of a product (DeleteProduct, and the foreign key check of a deleted product).
CREATE INDEX jobs_by_product
    ON jobs (account_id, instance_id, product_key, job_status, selection_type, created_ms DESC,
             job_id);

-- The scheduler's work across tenants: planned jobs due to start, running jobs due to end.
CREATE INDEX jobs_start_due ON jobs (schedule_ms)
    WHERE schedule_ms > 0 AND job_status = 'PLANNED';
CREATE INDEX jobs_finish_due ON jobs (schedule_finish_ms)
    WHERE schedule_finish_ms > 0 AND job_status = 'IN_PROGRESS';

-- ---- Products, devices, firmware ------------------------------------------------------------

-- Products oldest first (ListProducts).
CREATE INDEX products_by_created ON products (account_id, instance_id, created_ms, product_key);

-- Devices of a product oldest first (ListDevices).
CREATE INDEX devices_by_created
    ON devices (account_id, instance_id, product_key, created_ms, iot_id);

-- Target of the composite foreign keys of module_versions and group_members: a device of the
-- same tenant. (iot_id alone is already unique.)
CREATE UNIQUE INDEX devices_scoped_iot_id ON devices (account_id, instance_id, iot_id);

-- Firmware newest first: unfiltered, by product, by destination version (ListFirmware; with
-- both filters the product's range is scanned and the version filtered).
CREATE INDEX firmware_newest ON firmware (account_id, instance_id, created_ms DESC, firmware_id);
CREATE INDEX firmware_by_product
    ON firmware (account_id, instance_id, product_key, created_ms DESC, firmware_id);
CREATE INDEX firmware_by_dest_version
    ON firmware (account_id, instance_id, dest_version, created_ms DESC, firmware_id);

-- Packages of a module (CountFirmwareOfModule), and the firmware of a product (DeleteProduct).
CREATE INDEX firmware_by_module ON firmware (account_id, instance_id, product_key, module_name);

-- ---- Modules --------------------------------------------------------------------------------

-- Custom OTA modules of a product; the implicit `default` module is not stored. Names are
-- unique per product ignoring ASCII letter case (NOCASE folds exactly ASCII A-Z); the stored
-- name keeps the case it was created with.
CREATE TABLE modules (
    account_id  INTEGER NOT NULL,
    instance_id INTEGER NOT NULL,
    product_key TEXT    NOT NULL,
    module_name TEXT    NOT NULL,
    alias_name  TEXT    NOT NULL,
    module_desc TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, product_key)
        REFERENCES products (account_id, instance_id, product_key),
    PRIMARY KEY (account_id, instance_id, product_key, module_name COLLATE NOCASE)
) WITHOUT ROWID;

-- The version each device last reported for each module.
CREATE TABLE module_versions (
    account_id  INTEGER NOT NULL,
    instance_id INTEGER NOT NULL,
    iot_id      TEXT    NOT NULL,
    module_name TEXT    NOT NULL,
    product_key TEXT    NOT NULL,
    device_name TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    modified_ms INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, iot_id)
        REFERENCES devices (account_id, instance_id, iot_id),
    PRIMARY KEY (account_id, instance_id, iot_id, module_name)
) WITHOUT ROWID;

-- ---- Device groups --------------------------------------------------------------------------

-- `groups` is an SQL keyword, hence the underscore. super_group_id is '' for a top-level group;
-- it has no foreign key: whether a group with sub-groups may be deleted is a domain decision.
CREATE TABLE groups_ (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL,
    instance_id        INTEGER NOT NULL,
    group_id           TEXT    NOT NULL UNIQUE,
    group_name         TEXT    NOT NULL,
    group_desc         TEXT    NOT NULL,
    group_type         TEXT    NOT NULL CHECK (group_type IN ('STATIC', 'DYNAMIC')),
    dynamic_expression TEXT    NOT NULL,
    super_group_id     TEXT    NOT NULL,
    created_ms         INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id) REFERENCES instances (account_id, id),
    UNIQUE (account_id, instance_id, group_name),
    -- Target of the members' composite foreign key.
    UNIQUE (account_id, instance_id, group_id)
);

-- Groups oldest first (ListGroups), and the sub-groups of a group (CountSubGroups).
CREATE INDEX groups_by_created ON groups_ (account_id, instance_id, created_ms, group_id);
CREATE INDEX groups_by_parent ON groups_ (account_id, instance_id, super_group_id);

-- Members of static groups, in iot_id order per group; the second index finds the groups of a
-- device.
CREATE TABLE group_members (
    account_id  INTEGER NOT NULL,
    instance_id INTEGER NOT NULL,
    group_id    TEXT    NOT NULL,
    iot_id      TEXT    NOT NULL,
    FOREIGN KEY (account_id, instance_id, group_id)
        REFERENCES groups_ (account_id, instance_id, group_id),
    FOREIGN KEY (account_id, instance_id, iot_id)
        REFERENCES devices (account_id, instance_id, iot_id),
    PRIMARY KEY (account_id, instance_id, group_id, iot_id)
) WITHOUT ROWID;

CREATE INDEX group_members_by_device ON group_members (account_id, instance_id, iot_id, group_id);

-- ---- Batch registrations --------------------------------------------------------------------

-- apply_id is unique across tenants and handed out by apply_id_counter.
CREATE TABLE batch_registrations (
    apply_id    INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL,
    instance_id INTEGER NOT NULL,
    product_key TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, product_key)
        REFERENCES products (account_id, instance_id, product_key)
);

CREATE INDEX batch_registrations_by_product
    ON batch_registrations (account_id, instance_id, product_key);

-- The valid (valid = 1) and invalid (valid = 0) device names of a registration, in the order
-- they were given.
CREATE TABLE batch_registration_names (
    apply_id INTEGER NOT NULL REFERENCES batch_registrations (apply_id) ON DELETE CASCADE,
    valid    INTEGER NOT NULL CHECK (valid IN (0, 1)),
    position INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (apply_id, valid, position)
) WITHOUT ROWID;

-- One row: the last apply id handed out.
CREATE TABLE apply_id_counter (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL
);
INSERT INTO apply_id_counter (id, last_id) VALUES (1, 0);

-- ---- Stored files ---------------------------------------------------------------------------

-- Files uploaded through otad's own forms. A record exists from the moment the form is handed
-- out (uploaded_ms = 0, sha256 = '' until the upload arrives). Blobs on disk are named by
-- sha256 and shared by every record with the same content.
CREATE TABLE stored_files (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL,
    instance_id        INTEGER NOT NULL,
    object_key         TEXT    NOT NULL UNIQUE,
    kind               TEXT    NOT NULL CHECK (kind IN ('FIRMWARE', 'DEVICE_LIST')),
    size               INTEGER NOT NULL,
    md5                TEXT    NOT NULL,
    sha256             TEXT    NOT NULL,
    created_ms         INTEGER NOT NULL,
    upload_deadline_ms INTEGER NOT NULL,
    uploaded_ms        INTEGER NOT NULL,
    referenced         INTEGER NOT NULL CHECK (referenced IN (0, 1)),
    FOREIGN KEY (account_id, instance_id) REFERENCES instances (account_id, id)
);

-- Whether a blob is still used (BlobInUse).
CREATE INDEX stored_files_by_sha256 ON stored_files (sha256);

-- Expiry across tenants (ListExpiredFiles): forms never used, by deadline, and uploads never
-- referenced, by upload time.
CREATE INDEX stored_files_unused_forms ON stored_files (upload_deadline_ms)
    WHERE uploaded_ms = 0 AND referenced = 0;
CREATE INDEX stored_files_unreferenced ON stored_files (uploaded_ms)
    WHERE uploaded_ms > 0 AND referenced = 0;
