-- Named leases that otad nodes sharing one database take in turn, so that a duty that must be
-- done by one node at a time (following device presence) has exactly one owner, and passes
-- to another node when its owner stops renewing it. Coordination state, not records: otad
-- migrate does not copy it.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
