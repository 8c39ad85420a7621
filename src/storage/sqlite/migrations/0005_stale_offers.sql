-- Offers to devices that may have been lost: the tasks in NOTIFIED or IN_PROGRESS, by the time
-- they were last offered, so that the device channel finds those offered long ago without
-- reading every task. (A chain of equalities rather than IN: see 0004.)
CREATE INDEX tasks_offered ON tasks (notified_ms)
    WHERE status = 'NOTIFIED' OR status = 'IN_PROGRESS';
