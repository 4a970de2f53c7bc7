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
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from bench_incremental import fresh_copy  # a script beside this one

STEPS = ("fetch_ms", "load_ms", "plan_ms", "apply_ms")


def one_sync(binary, db, incremental):
    cmd = [binary, "--db", db, "sync"] + (["--incremental"] if incremental else []) + \
        ["--apply", "--yes", "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    timings = json.loads(p.stdout)["timings"]
    return [wall, cpu] + [timings[s] for s in STEPS]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the base database (its .key beside it)")
    ap.add_argument("--runs", type=int, default=20, help="rounds (each build once a round)")
    ap.add_argument("--incremental", action="store_true", help="roster sync --incremental")
    ap.add_argument("--work", default="/tmp", help="where each run's copy goes")
    ap.add_argument("builds", nargs="+", help="roster binaries to compare")
    a = ap.parse_args()
    db = os.path.join(a.work, "ab_sync.db")
    rows = {b: [] for b in a.builds}
    for r in range(a.runs):
        for b in a.builds:
            fresh_copy(a.base, db)
            row = one_sync(b, db, a.incremental)
            rows[b].append(row)
            print(f"round {r} {b}: {row[0]:.1f} ms wall, CPU {row[1]:.0f} ms, "
                  + ", ".join(f"{s[:-3]} {v}" for s, v in zip(STEPS, row[2:])), flush=True)
    for suffix in ("", "-wal", "-shm", ".key"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    for b, rs in rows.items():
        med = [statistics.median(r[i] for r in rs) for i in range(2 + len(STEPS))]
        print(f"{b}: {len(rs)} runs, wall median {med[0]:.1f} ms (min {min(r[0] for r in rs):.1f}), "
              f"CPU {med[1]:.0f} ms, " + ", ".join(f"{s[:-3]} {v:g}" for s, v in zip(STEPS, med[2:])))
    if len(a.builds) == 2:
        first, second = (rows[b] for b in a.builds)
        faster = sum(1 for x, y in zip(first, second) if y[0] < x[0])
        diff = statistics.median(y[0] - x[0] for x, y in zip(first, second))
        print(f"{a.builds[1]} faster in {faster} of {len(first)} rounds; "
              f"median difference {diff:+.1f} ms")


if __name__ == "__main__":
    main()
