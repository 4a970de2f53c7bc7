-- SCIM's "changed since" (meta.lastModified gt/ge) is found through the history
-- (issue #15), not through an index of updated_at: an update moved the row's
-- entry in that index to a random page, so each updated employee wrote one more
-- page (at 1M employees, a third of an incremental sync's write). A row is
-- written only by an import whose finished_at becomes its updated_at, and every
-- import but an anonymisation records an entry per row it writes: the rows
-- changed since t are among the employees of the entries of the imports finished
-- since t (and, after an anonymisation since t, the rows whose updated_at says
-- so). roster_store::sql::selection spells it.
DROP INDEX employees_updated;
