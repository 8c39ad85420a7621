-- Named leases that otad nodes take in turn (the same table as SQLite's migration 0006).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
