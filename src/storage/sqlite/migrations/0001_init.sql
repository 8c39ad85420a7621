-- Initial schema.
--
-- Conventions:
-- * Times are INTEGER epoch milliseconds UTC; 0 means "not set" where the model says so.
-- * Booleans are INTEGER 0 or 1.
-- * Optional integers (a job's dynamic mode, retry interval, retry count, timeout) are NULL when
--   absent.
-- * Enumerations are stored as stable upper-case text, independent of the order of the C++
--   enumerators (storage/sqlite/codec.cpp maps them):
--     jobs.job_type          VERIFY_FIRMWARE | UPGRADE_FIRMWARE
--     jobs.selection_type    STATIC | DYNAMIC
--     jobs.target_selection  ALL | SPECIFIC | GRAY | GROUP
--     jobs.job_status        PLANNED | IN_PROGRESS | COMPLETED | CANCELED
--     tasks.status           CONFIRM | QUEUED | NOTIFIED | IN_PROGRESS | SUCCEEDED | FAILED |
--                            CANCELED
--     firmware.sign_method   MD5 | SHA256
--   firmware.status keeps the API's own integer codes (-1 no verification needed, 0 not verified,
--   1 verified, 2 verifying, 3 verification failed).
-- * Tenancy: every row owned by a tenant carries account_id and instance_id (instances.id). A
--   composite foreign key ties the pair to a real instance of that account (directly, or through
--   the product or job the row belongs to), and every query filters on both columns.
-- * Public identifiers (product_key, iot_id, firmware_id, job_id, task_id, instance_id) are
--   unique across all tenants; names are unique per instance.

CREATE TABLE accounts (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE,
    access_key_id     TEXT    NOT NULL UNIQUE,
    access_key_secret TEXT    NOT NULL,
    enabled           INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_ms        INTEGER NOT NULL
);

CREATE TABLE instances (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    instance_id TEXT    NOT NULL UNIQUE,
    is_default  INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    created_ms  INTEGER NOT NULL,
    UNIQUE (account_id, id)
);

-- At most one default instance per account.
CREATE UNIQUE INDEX instances_default ON instances (account_id) WHERE is_default = 1;

CREATE TABLE products (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL,
    instance_id           INTEGER NOT NULL,
    product_key           TEXT    NOT NULL UNIQUE,
    product_name          TEXT    NOT NULL,
    product_secret        TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    node_type             INTEGER NOT NULL,
    data_format           INTEGER NOT NULL,
    aliyun_commodity_code TEXT    NOT NULL,
    auth_type             TEXT    NOT NULL,
    protocol_type         TEXT    NOT NULL,
    net_type              INTEGER NOT NULL,
    id2                   INTEGER NOT NULL CHECK (id2 IN (0, 1)),
    category_key          TEXT    NOT NULL,
    validate_type         INTEGER NOT NULL,
    publish_auto          INTEGER NOT NULL CHECK (publish_auto IN (0, 1)),
    product_status        TEXT    NOT NULL,
    created_ms            INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id) REFERENCES instances (account_id, id),
    UNIQUE (account_id, instance_id, product_name),
    -- Target of the composite foreign keys below.
    UNIQUE (account_id, instance_id, product_key)
);

CREATE TABLE devices (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL,
    instance_id      INTEGER NOT NULL,
    iot_id           TEXT    NOT NULL UNIQUE,
    product_key      TEXT    NOT NULL,
    device_name      TEXT    NOT NULL,
    device_secret    TEXT    NOT NULL,
    nickname         TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    firmware_version TEXT    NOT NULL,
    ip_address       TEXT    NOT NULL,
    created_ms       INTEGER NOT NULL,
    modified_ms      INTEGER NOT NULL,
    active_ms        INTEGER NOT NULL,
    online_ms        INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, product_key)
        REFERENCES products (account_id, instance_id, product_key),
    UNIQUE (account_id, instance_id, product_key, device_name)
);

-- Devices of one product in iot_id order (counting and streaming).
CREATE INDEX devices_by_product ON devices (account_id, instance_id, product_key, iot_id);

CREATE TABLE firmware (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL,
    instance_id     INTEGER NOT NULL,
    firmware_id     TEXT    NOT NULL UNIQUE,
    firmware_name   TEXT    NOT NULL,
    firmware_desc   TEXT    NOT NULL,
    product_key     TEXT    NOT NULL,
    module_name     TEXT    NOT NULL,
    dest_version    TEXT    NOT NULL,
    src_version     TEXT    NOT NULL,
    type            INTEGER NOT NULL,
    sign_method     TEXT    NOT NULL CHECK (sign_method IN ('MD5', 'SHA256')),
    firmware_sign   TEXT    NOT NULL,
    firmware_size   INTEGER NOT NULL,
    firmware_url    TEXT    NOT NULL,
    need_to_verify  INTEGER NOT NULL CHECK (need_to_verify IN (0, 1)),
    status          INTEGER NOT NULL CHECK (status BETWEEN -1 AND 3),
    verify_progress INTEGER NOT NULL,
    udi             TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    modified_ms     INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, product_key)
        REFERENCES products (account_id, instance_id, product_key),
    UNIQUE (account_id, instance_id, firmware_name)
);

-- The files of a multi-file package, in the order they were given.
CREATE TABLE firmware_files (
    firmware_id TEXT    NOT NULL REFERENCES firmware (firmware_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    md5         TEXT    NOT NULL,
    sign_value  TEXT    NOT NULL,
    PRIMARY KEY (firmware_id, position)
) WITHOUT ROWID;

-- jobs.firmware_id has no foreign key on purpose: whether a package with jobs may be deleted is
-- a domain decision, not a schema one.
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL,
    instance_id        INTEGER NOT NULL,
    job_id             TEXT    NOT NULL UNIQUE,
    firmware_id        TEXT    NOT NULL,
    product_key        TEXT    NOT NULL,
    job_type           TEXT    NOT NULL
        CHECK (job_type IN ('VERIFY_FIRMWARE', 'UPGRADE_FIRMWARE')),
    selection_type     TEXT    NOT NULL CHECK (selection_type IN ('STATIC', 'DYNAMIC')),
    target_selection   TEXT    NOT NULL
        CHECK (target_selection IN ('ALL', 'SPECIFIC', 'GRAY', 'GROUP')),
    job_status         TEXT    NOT NULL
        CHECK (job_status IN ('PLANNED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED')),
    job_desc           TEXT    NOT NULL,
    dynamic_mode       INTEGER,
    gray_percent       TEXT    NOT NULL,
    group_id           TEXT    NOT NULL,
    group_name         TEXT    NOT NULL,
    dn_list_file_url   TEXT    NOT NULL,
    retry_interval_min INTEGER,
    retry_count        INTEGER,
    timeout_min        INTEGER,
    maximum_per_minute INTEGER NOT NULL,
    overwrite_mode     INTEGER NOT NULL,
    multi_module_mode  INTEGER NOT NULL CHECK (multi_module_mode IN (0, 1)),
    need_push          INTEGER NOT NULL CHECK (need_push IN (0, 1)),
    need_confirm       INTEGER NOT NULL CHECK (need_confirm IN (0, 1)),
    download_protocol  TEXT    NOT NULL,
    schedule_ms        INTEGER NOT NULL,
    schedule_finish_ms INTEGER NOT NULL,
    created_ms         INTEGER NOT NULL,
    modified_ms        INTEGER NOT NULL,
    start_ms           INTEGER NOT NULL,
    end_ms             INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, product_key)
        REFERENCES products (account_id, instance_id, product_key),
    -- Target of the tasks' composite foreign key.
    UNIQUE (account_id, instance_id, job_id)
);

-- Jobs of one package, newest first.
CREATE INDEX jobs_by_firmware
    ON jobs (account_id, instance_id, firmware_id, created_ms DESC, job_id);

CREATE TABLE job_tags (
    job_id    TEXT    NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    tag_key   TEXT    NOT NULL,
    tag_value TEXT    NOT NULL,
    PRIMARY KEY (job_id, position)
) WITHOUT ROWID;

CREATE TABLE job_src_versions (
    job_id   TEXT    NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    version  TEXT    NOT NULL,
    PRIMARY KEY (job_id, position)
) WITHOUT ROWID;

-- Tasks copy firmware_id and the job's created_ms so that the jobs of one device and package can
-- be listed, newest first, by a range scan of tasks_by_device alone.
CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL,
    instance_id    INTEGER NOT NULL,
    task_id        TEXT    NOT NULL UNIQUE,
    job_id         TEXT    NOT NULL,
    firmware_id    TEXT    NOT NULL,
    iot_id         TEXT    NOT NULL,
    product_key    TEXT    NOT NULL,
    device_name    TEXT    NOT NULL,
    module_name    TEXT    NOT NULL,
    src_version    TEXT    NOT NULL,
    dest_version   TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('CONFIRM', 'QUEUED', 'NOTIFIED', 'IN_PROGRESS',
                                                      'SUCCEEDED', 'FAILED', 'CANCELED')),
    progress       TEXT    NOT NULL,
    task_desc      TEXT    NOT NULL,
    job_created_ms INTEGER NOT NULL,
    created_ms     INTEGER NOT NULL,
    modified_ms    INTEGER NOT NULL,
    FOREIGN KEY (account_id, instance_id, job_id)
        REFERENCES jobs (account_id, instance_id, job_id),
    UNIQUE (job_id, iot_id)
);

CREATE INDEX tasks_by_device
    ON tasks (account_id, instance_id, iot_id, firmware_id, job_created_ms DESC, job_id);
