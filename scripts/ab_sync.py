#!/usr/bin/env python3
"""Two (or more) roster builds' syncs, interleaved, each on a fresh copy of one base.

docs/benchmarks.md, issue #15, session 20. A change of a few milliseconds is smaller than
this machine's swing from one minute to the next (the same build's daily full sync took
1.61 s and 1.91 s three minutes apart), so builds are compared run by run: per round each
build syncs once, in turn, on its own copy of `--base` (copied, fsynced, no -wal/-shm),
timed with a monotonic clock around the whole process (milliseconds; `/usr/bin/time`
rounds to 10 ms) beside the steps the sync reports (`--json` timings) and the process's
CPU (user + system). At the end: per build the medians, and for two builds in how many
rounds the second was faster and the median of the differences.

The base is a directory imported from a sandbox of the same day (`bench_incremental.py`
makes one and points a copy at a sandbox: `--base`); an incremental sync finds the
members the sandbox changed after it.

  python3 scripts/ab_sync.py --base /tmp/inc100k/base.db --incremental --runs 30 \\
      old/roster target/release/roster

`--first-import` (session 21): the base is a directory after `connect` and `setup-sync`, with
no employee, and each run is its first import as a user runs it (`sync --apply --yes`, the text
review: `--json` would print the whole plan), its steps from the log (`ROSTER_LOG`): the fetch,
the employee rows, the indexes re-created, the import entries, the commit; and its maximum
resident size.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_incremental import fresh_copy  # a script beside this one

STEPS = ("fetch_ms", "load_ms", "plan_ms", "apply_ms")


FIRST_IMPORT_STEPS = (("fetch", "fetch done", "elapsed_ms"), ("rows", "employees inserted", "ms"),
                      ("reindex", "indexes re-created", "ms"),
                      ("entries", "import entries inserted", "ms"),
                      ("commit", "changeset written", "commit_ms"))
FIRST_IMPORT_LOG = "warn,roster_store_sqlite=debug,roster_justworks=info"


def logged(stderr, line, field):
    """The number `field=N` on the first log line holding `line`, or 0."""
    for text in stderr.splitlines():
        if line in text:
            for word in text.split():
                if word.startswith(field + "="):
                    return int(word.split("=", 1)[1])
    return 0


def one_sync(binary, db, incremental, first_import):
    """[wall ms, CPU ms (user + system), max RSS MiB] and the steps of one sync."""
    cmd = [binary, "--db", db, "sync"] + (["--incremental"] if incremental else []) + \
        ["--apply", "--yes"] + ([] if first_import else ["--json"])
    env = dict(os.environ, ROSTER_LOG=FIRST_IMPORT_LOG) if first_import else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)  # this child's own usage
        wall = (time.perf_counter() - started) * 1000
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read().decode(errors="replace")
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}: {stderr[-500:]}")
    row = [wall, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024]
    if first_import:
        return row + [logged(stderr, line, field) for _, line, field in FIRST_IMPORT_STEPS]
    timings = json.loads(stdout)["timings"]
    return row + [timings[s] for s in STEPS]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the base database (its .key beside it)")
    ap.add_argument("--runs", type=int, default=20, help="rounds (each build once a round)")
    ap.add_argument("--incremental", action="store_true", help="roster sync --incremental")
    ap.add_argument("--first-import", action="store_true",
                    help="the base holds no employee: each run is its first import (text review)")
    ap.add_argument("--work", default="/tmp", help="where each run's copy goes")
    ap.add_argument("builds", nargs="+", help="roster binaries to compare")
    a = ap.parse_args()
    steps = [s for s, _, _ in FIRST_IMPORT_STEPS] if a.first_import else [s[:-3] for s in STEPS]
    db = os.path.join(a.work, "ab_sync.db")
    rows = {b: [] for b in a.builds}
    for r in range(a.runs):
        for b in a.builds:
            fresh_copy(a.base, db)
            row = one_sync(b, db, a.incremental, a.first_import)
            rows[b].append(row)
            print(f"round {r} {b}: {row[0]:.1f} ms wall, CPU {row[1]:.0f} ms, {row[2]:.0f} MiB, "
                  + ", ".join(f"{s} {v}" for s, v in zip(steps, row[3:])), flush=True)
    for suffix in ("", "-wal", "-shm", ".key"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    for b, rs in rows.items():
        med = [statistics.median(r[i] for r in rs) for i in range(3 + len(steps))]
        print(f"{b}: {len(rs)} runs, wall median {med[0]:.1f} ms (min {min(r[0] for r in rs):.1f}), "
              f"CPU {med[1]:.0f} ms, max RSS {med[2]:.0f} MiB, "
              + ", ".join(f"{s} {v:g}" for s, v in zip(steps, med[3:])))
    if len(a.builds) == 2:
        first, second = (rows[b] for b in a.builds)
        faster = sum(1 for x, y in zip(first, second) if y[0] < x[0])
        diff = statistics.median(y[0] - x[0] for x, y in zip(first, second))
        print(f"{a.builds[1]} faster in {faster} of {len(first)} rounds; "
              f"median difference {diff:+.1f} ms")


if __name__ == "__main__":
    main()
