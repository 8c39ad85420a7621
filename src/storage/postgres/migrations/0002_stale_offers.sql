-- Offers to devices that may have been lost: the tasks in NOTIFIED or IN_PROGRESS, by the time
-- they were last offered (the same index as SQLite's migration 0005).
CREATE INDEX tasks_offered ON tasks (notified_ms)
    WHERE status = 'NOTIFIED' OR status = 'IN_PROGRESS';
