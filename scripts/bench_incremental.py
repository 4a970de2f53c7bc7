#!/usr/bin/env python3
"""The incremental sync of issue #15 as `roster sync` runs it, process and all.

docs/benchmarks.md, issue #15, "Session 7". Against a `roster sandbox` started apart
(its own process), this imports the company once into a base database (kept, so
later runs skip it), then, per run: copies the base database, changes the same
`--changed` members in the sandbox (job title, a new value each run), and times
`roster --db COPY sync --incremental --apply --yes --json` with `/usr/bin/time`:
wall, user + system CPU and peak RSS of the whole process (start, opening the
database, the sync, the review, closing), beside the steps the sync reports
(fetch, load, plan, apply). Medians at the end. The base import's `setup-sync` and
first import are timed the same way (wall, CPU, max RSS), once. `--full` times the
daily full sync (the same, without `--incremental`; its fetch and load overlap, so
"outside the steps" is not meaningful there). `--wrap` runs the sync under a
profiler (e.g. `--wrap 'perf record -g -o /tmp/p.data'` or
`--wrap 'env MIMALLOC_PURGE_DELAY=250 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out'`:
`roster` started without that variable runs itself again to set it, and valgrind
follows only the first image, so its profile would be empty).

  roster sandbox --port 8961 --members 100000 --seed 7 &
  python3 scripts/bench_incremental.py --url http://127.0.0.1:8961 --work /tmp/inc100k \
      --changed 2000 --runs 5
"""

import argparse
import http.client
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse


def control(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def call(conn, method, path, body=None):
    data = None if body is None else json.dumps(body)
    headers = {"content-type": "application/json"} if data is not None else {}
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    if r.status >= 300:
        sys.exit(f"{method} {path}: HTTP {r.status}: {payload[:200]!r}")
    return json.loads(payload) if payload else None


def member_ids(conn):
    ids = []
    while True:
        page = call(conn, "GET", f"/_sandbox/members?offset={len(ids)}&limit=10000")
        items = page.get("items") or []
        if not items:
            return ids
        ids.extend(i["member"]["id"] for i in items)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, out_path):
    """Run `cmd` under /usr/bin/time; (wall, user, sys, max RSS KiB, stdout)."""
    fmt = "%e %U %S %M"
    with open(out_path, "wb") as out:
        p = subprocess.run(
            ["/usr/bin/time", "-f", fmt] + cmd, stdout=out, stderr=subprocess.PIPE
        )
    err = p.stderr.decode(errors="replace").strip().splitlines()
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {err[-5:]}")
    wall, user, sys_, rss = err[-1].split()
    return float(wall), float(user), float(sys_), int(rss)


def fresh_copy(base, db, synced=True):
    """Copy the database `base` (and its key) to `db`, with no -wal or -shm left of an
    earlier run. `synced`: the copy on disk before the run, as a database is not freshly
    written when a sync opens it (the sync's first fsync would otherwise write the whole
    copy out, at 1M 1.3 GB, and be timed as the sync's)."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(base, db)
    shutil.copyfile(base + ".key", db + ".key")
    if synced:
        for f in (db, db + ".key"):
            fd = os.open(f, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)


def adopt(roster, source, base, url, conn):
    """Copy the base database `source` to `base` and point its integration at `url`.

    A sandbox's tokens live in its process, so the copy gets a new one: `roster connect`
    adds a second integration with the token (encrypted with the copy's key), whose
    config and credentials then replace the first one's, and the second is removed. The
    directory, mapping and last sync stay as they were."""
    import sqlite3
    tmp = base + ".adopt"
    shutil.copyfile(source, tmp)
    shutil.copyfile(source + ".key", tmp + ".key")
    token = call(conn, "POST", "/_sandbox/tokens", {})["access_token"]
    run([roster, "--db", tmp, "connect", "justworks", "--base-url", url, "--token", token,
         "--name", "adopted"], stdout=subprocess.DEVNULL)
    db = sqlite3.connect(tmp)
    (first,), (new,) = db.execute("SELECT id FROM integrations ORDER BY id").fetchall()
    db.execute("UPDATE integrations SET (config, credentials) = (SELECT config, credentials "
               "FROM integrations WHERE id = ?) WHERE id = ?", (new, first))
    db.execute("DELETE FROM integrations WHERE id = ?", (new,))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    shutil.move(tmp + ".key", base + ".key")
    shutil.move(tmp, base)
    print(f"base: {source} pointed at {url}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="the sandbox's base URL")
    ap.add_argument("--work", required=True, help="a folder for the databases")
    ap.add_argument("--roster", default="target/release/roster")
    ap.add_argument("--changed", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--wrap", default="", help="a profiler command put before roster")
    ap.add_argument("--keep", action="store_true", help="keep each run's database")
    ap.add_argument("--dirty-copy", action="store_true",
                    help="do not fsync each run's copy of the base database first (before "
                         "2026-12-04 22:10 the script did not: the sync's checkpoint then "
                         "wrote the copy out)")
    ap.add_argument("--full", action="store_true",
                    help="time the daily full sync (no --incremental) the same way")
    ap.add_argument("--base", default="",
                    help="an existing base database (with its .key) imported from a sandbox "
                         "of the same --members and --seed started the same day (the sandbox "
                         "dates its members from the day it starts: a base of another day "
                         "plans every member's dates as changed), copied into --work and "
                         "pointed at --url (a new token) instead of importing the company again")
    a = ap.parse_args()
    roster = os.path.abspath(a.roster)
    os.makedirs(a.work, exist_ok=True)
    base = os.path.join(a.work, "base.db")
    conn = control(a.url)
    if a.base and not os.path.exists(base):
        adopt(roster, a.base, base, a.url, conn)
    if not os.path.exists(base):
        token = call(conn, "POST", "/_sandbox/tokens", {})["access_token"]
        tmp = os.path.join(a.work, "import.db")
        for f in (tmp, tmp + ".key"):
            if os.path.exists(f):
                os.remove(f)
        run([roster, "--db", tmp, "connect", "justworks", "--base-url", a.url,
             "--token", token], stdout=subprocess.DEVNULL)
        for what, cmd in (("setup-sync", ["setup-sync"]),
                          ("first import", ["sync", "--apply", "--yes"])):
            load = os.getloadavg()[0]
            wall, user, sys_, rss = timed([roster, "--db", tmp] + cmd, os.devnull)
            print(f"{what}: {wall:.2f} s wall, CPU {user + sys_:.2f} s ({user:.2f} user + "
                  f"{sys_:.2f} sys), max RSS {rss / 1024:.0f} MiB; load avg {load:.2f}",
                  flush=True)
        shutil.move(tmp + ".key", base + ".key")
        shutil.move(tmp, base)
    ids = member_ids(conn)
    every = max(len(ids) // a.changed, 1)
    chosen = ids[1::every][: a.changed]
    print(f"members {len(ids)}, changing {len(chosen)} per run; {os.getloadavg()}", flush=True)
    rows = []
    stamp = int(time.time())
    for r in range(a.runs):
        db = os.path.join(a.work, f"run{r}.db")
        fresh_copy(base, db, synced=not a.dirty_copy)
        for i in chosen:
            call(conn, "PATCH", f"/_sandbox/members/{i}", {"job_title": f"Again {stamp} {r}"})
        load = os.getloadavg()[0]
        cmd = shlex.split(a.wrap) + [roster, "--db", db, "sync"] + \
            ([] if a.full else ["--incremental"]) + ["--apply", "--yes", "--json"]
        out = os.path.join(a.work, f"run{r}.json")
        wall, user, sys_, rss = timed(cmd, out)
        with open(out) as f:
            o = json.load(f)
        t = o["timings"]
        row = dict(wall=wall, cpu=user + sys_, user=user, sys=sys_, rss=rss / 1024,
                   fetch=t["fetch_ms"] / 1e3, load=t["load_ms"] / 1e3,
                   plan=t["plan_ms"] / 1e3, apply=t["apply_ms"] / 1e3,
                   fetched=o["members_fetched"], requests=o["requests"],
                   updated=o["plan"]["counts"]["updated"], status=o["status"], la=load)
        rows.append(row)
        print(f"run {r}: {wall:.2f} s wall, CPU {user + sys_:.2f} s ({user:.2f} user + "
              f"{sys_:.2f} sys), {rss / 1024:.0f} MiB [fetch {row['fetch']:.3f}, load "
              f"{row['load']:.3f}, plan {row['plan']:.3f}, apply {row['apply']:.3f}] "
              f"fetched {row['fetched']}, requests {row['requests']}, updated "
              f"{row['updated']}, {row['status']}; load avg {load:.2f}", flush=True)
        if not a.keep:
            for suffix in ("", "-wal", "-shm", ".key"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
    m = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    steps = m("fetch") + m("load") + m("plan") + m("apply")
    print(f"median of {len(rows)}: {m('wall'):.3f} s wall, CPU {m('cpu'):.3f} s, "
          f"{m('rss'):.0f} MiB [fetch {m('fetch'):.3f}, load {m('load'):.3f}, plan "
          f"{m('plan'):.3f}, apply {m('apply'):.3f}; outside the steps "
          f"{m('wall') - steps:.3f}]")


if __name__ == "__main__":
    main()
