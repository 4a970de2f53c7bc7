#!/usr/bin/env python3
"""The least SQLite work of a small sync's write (issue #15, docs/benchmarks.md): on a copy
of a real directory (a database `roster sync --apply` wrote), in one transaction as the store
opens the file (WAL, synchronous=NORMAL, 64 MiB cache, the store's pragmas), N employees
updated (a demographic, `updated_at`, `last_import_id`: the columns every update writes,
none of another index), their N import entries and N events, the commit, then the close's
TRUNCATE checkpoint as `roster` closes the store (a command's store checkpoints only
there: `Checkpoints::AtClose`; `--variant automatic` for SQLite's default, `serve`'s). No
Rust, no binding beyond Python's: what this schema costs for the change, against which the
incremental sync's apply step is measured.

    python3 scripts/write_floor.py /path/to/base.db --changed 1000 --runs 3

The rows are every (count / N)-th key from the second, as `bench_incremental.py` picks its
members. Each run works on its own copy, written out (`fsync`) before it is timed."""
import argparse, os, shutil, sqlite3, statistics, time

PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "temp_store=memory",
           "secure_delete=ON", f"mmap_size={256 * 1024 * 1024}", "foreign_keys=ON")


def fresh_copy(base, work):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(work + suffix):
            os.remove(work + suffix)
    shutil.copyfile(base, work)
    fd = os.open(work, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


# How the write's checkpoints run (`--variant`): as the store does today, or one variant.
VARIANTS = {
    # a command's store (`roster sync`, Checkpoints::AtClose): no checkpoint in a commit
    # under 256 MiB of log, the close's TRUNCATE checkpoint moves the log into the file
    "store": ("wal_autocheckpoint=65536",),
    # SQLite's default (`serve`, `worker`; every command before session 12): the commit's
    # auto-checkpoint once the log passes 1,000 pages, then the close's TRUNCATE
    "automatic": (),
    # no auto-checkpoint at all (as "store" for any write a command makes)
    "close-only": ("wal_autocheckpoint=0",),
    # as "automatic", the log kept at its size after a checkpoint instead of truncated
    "size-limit": ("journal_size_limit=-1",),
    # the commit itself syncs the log (durable at once), the close's checkpoint as before
    "full": ("synchronous=FULL",),
}


def one_run(base, work, n, variant="store", release=False):
    fresh_copy(base, work)
    c = sqlite3.connect(work, isolation_level=None)
    for p in PRAGMAS + VARIANTS[variant]:
        c.execute("PRAGMA " + p)
    total = c.execute("SELECT count(*) FROM employees").fetchone()[0]
    every = max(total // n, 1)
    keys = [k for (k,) in c.execute("SELECT key FROM employees ORDER BY key")][1::every][:n]
    account = c.execute("SELECT account_id FROM employees LIMIT 1").fetchone()[0]
    imp = c.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchone()[0]
    cur = c.execute("SELECT coalesce(max(cursor_no), 0) FROM events").fetchone()[0]
    cols = [r[1] for r in c.execute("PRAGMA table_info(imports)")][1:]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
    # Since migration 0017 the row names its last import with an entry about it, and
    # the entry the one before (the history chain): the same pages, one more column.
    chained = "history_import_id" in [r[1] for r in c.execute("PRAGMA table_info(employees)")]
    link = ", history_import_id = ?" if chained else ""
    cpu, t0 = time.process_time(), time.perf_counter()
    c.execute("BEGIN IMMEDIATE")
    c.execute(f"INSERT INTO imports (id, {', '.join(cols)}) "
              f"SELECT ?, {', '.join(cols)} FROM imports ORDER BY id LIMIT 1", (imp,))
    c.executemany("UPDATE employees SET demographics = json_set(demographics, '$.\"Job Title\"', ?), "
                  f"updated_at = ?, last_import_id = ?{link} WHERE key = ?",
                  [(f"Floor {k}", now, imp) + ((imp,) if chained else ()) + (k,) for k in keys])
    t1 = time.perf_counter()
    change = '[{"field":"demographic:Job Title","old":"Sales Manager","new":"Floor","rule":"source"}]'
    prev = ", prev_import_id" if chained else ""
    c.executemany("INSERT INTO import_entries (account_id, import_id, seq, employee_key, employee_id, "
                  f"action, applied, held, privacy, created, changes{prev}) "
                  f"VALUES (?, ?, ?, ?, ?, 'update', 1, 0, 0, 0, ?{', ?' if chained else ''})",
                  [(account, imp, i, k, f"mbr_{k:016d}", change) + ((imp - 1,) if chained else ())
                   for i, k in enumerate(keys)])
    event = '[["demographic:Job Title","Sales Manager","Floor","source"]]'
    c.executemany("INSERT INTO events (account_id, cursor_no, import_id, event_type, employee_key, "
                  "employee_id, changes) VALUES (?, ?, ?, 'employee.updated', ?, ?, ?)",
                  [(account, cur + 1 + i, imp, k, f"mbr_{k:016d}", event) for i, k in enumerate(keys)])
    t2 = time.perf_counter()
    c.execute("COMMIT")
    frames = os.path.getsize(work + "-wal") // 4120 if os.path.exists(work + "-wal") else 0
    if release:
        # what `roster sync` writes after the changeset: the sync lock's release, one row
        c.execute("UPDATE integrations SET last_fetch_at = last_fetch_at "
                  "WHERE id = (SELECT min(id) FROM integrations)")
    t3 = time.perf_counter()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    t4 = time.perf_counter()
    cpu = time.process_time() - cpu
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(work + suffix):
            os.remove(work + suffix)
    return {"updates": t1 - t0, "history": t2 - t1, "commit": t3 - t2, "close": t4 - t3,
            "total": t4 - t0, "cpu": cpu, "frames": frames, "rows": total}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="a database a first import wrote (left untouched)")
    ap.add_argument("--changed", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=None, help="the copy's path (default: beside base)")
    ap.add_argument("--release", action="store_true",
                    help="after the commit, a one-row write as the sync lock's release (timed "
                         "with the commit): the next writer after a checkpoint restarts the log")
    ap.add_argument("--variant", choices=sorted(VARIANTS), action="append",
                    help="how the checkpoints run (repeat to interleave; default: store)")
    a = ap.parse_args()
    work = a.work or a.base + ".floor"
    variants = a.variant or ["store"]
    by = {v: [] for v in variants}
    for i in range(a.runs):
        for v in variants:
            r = one_run(a.base, work, a.changed, v, a.release)
            by[v].append(r)
            print(f"run {i} ({v}): {r['rows']} rows, {a.changed} changed: total {r['total']:.3f} s "
                  f"(updates {r['updates']:.3f}, entries + events {r['history']:.3f}, "
                  f"commit {r['commit']:.3f}, close {r['close']:.3f}), CPU {r['cpu']:.3f} s, "
                  f"{r['frames']} WAL frames at the commit; load avg {os.getloadavg()[0]:.2f}",
                  flush=True)
    for v, runs in by.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{v}, median of {a.runs}: total {med['total']:.3f} s (updates {med['updates']:.3f}, "
              f"entries + events {med['history']:.3f}, commit {med['commit']:.3f}, "
              f"close {med['close']:.3f}), CPU {med['cpu']:.3f} s")

if __name__ == "__main__":
    main()
