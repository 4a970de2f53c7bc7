-- A review being applied or discarded is reserved first (status 'applying'): by
-- whom (an id the holder chose) and when (renewed while the apply runs). A
-- reservation not renewed for long is stale: its holder stopped, and the review is
-- marked 'failed'. Status values: pending | applying | applied | discarded | failed.
ALTER TABLE sync_reviews ADD COLUMN reserved_by TEXT;
ALTER TABLE sync_reviews ADD COLUMN reserved_at TEXT;
