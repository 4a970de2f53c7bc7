#!/usr/bin/env python3
"""Where a first import's apply goes in SQLite (issue #15, docs/benchmarks.md): copies the
rows a real first import wrote (employees, import_entries, events) into fresh databases
built from crates/store-sqlite/migrations with the store's pragmas, one transaction each,
timing each table, with variants: one index dropped at a time, no secondary index on
employees, cache size, page size, secure_delete, rows bound as multi-row VALUES (as the
store writes them) instead of INSERT … SELECT, with a row trigger per insert that counts
the active employees (`triggers`: what migration 0015 would have cost a first import had
it counted inserts by trigger, as it counts updates and deletes).

    roster --db /tmp/a/roster.db sync --apply --yes     # a first import (any size)
    python3 scripts/apply_cost.py /tmp/a/roster.db index pragma bind ab

CPU is the process's (user + system); wall includes the WAL writes of the commit. Use
the ratios within one run: the machine this was written on is shared."""
import glob, os, sqlite3, statistics, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = sorted(glob.glob(os.path.join(HERE, "..", "crates/store-sqlite/migrations/*.sql")))
TABLES = (("employees", "key"), ("import_entries", "import_id, seq"), ("events", "account_id, cursor_no"))
EMPLOYEE_INDEXES = ["employees_account", "employees_employee_id", "employees_email",
                    "employees_source_id", "employees_active", "employees_employee_id_lower",
                    "employees_secondary_email_lower", "employees_updated", "employees_reports",
                    "employees_birth_date", "employees_manager_unkeyed"]
OTHER_INDEXES = ["import_entries_employee", "events_employee", "events_import"]
SCRATCH = os.path.join(tempfile.mkdtemp(prefix="apply_cost"), "x.db")


INSERT_TRIGGER = """CREATE TRIGGER employees_active_inserted AFTER INSERT ON employees
WHEN NEW.active = 1 BEGIN
    INSERT INTO active_counts (account_id, active) VALUES (NEW.account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET active = active + 1;
END"""


def fresh(page_size=None, cache_kib=65536, secure="ON", drop=(), extra=()):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(SCRATCH + suffix):
            os.remove(SCRATCH + suffix)
    c = sqlite3.connect(SCRATCH, isolation_level=None)
    if page_size:
        c.execute(f"PRAGMA page_size={page_size}")
    for f in MIGRATIONS:
        c.executescript(open(f).read())
    for name in drop:
        c.execute(f"DROP INDEX {name}")
    for sql in extra:
        c.execute(sql)
    # The store's pragmas (crates/store-sqlite/src/lib.rs).
    for p in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{cache_kib}",
              "temp_store=memory", f"secure_delete={secure}", "foreign_keys=ON"):
        c.execute("PRAGMA " + p)
    return c


def timed(label, c, fill):
    c.execute("BEGIN IMMEDIATE")
    for t in ("accounts", "integrations", "imports"):
        rows = SRC.execute(f"SELECT * FROM {t}").fetchall()
        if rows:
            c.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(rows[0]))})", rows)
    cpu, wall, parts = time.process_time(), time.time(), {}
    for table, order in TABLES:
        at = time.time()
        fill(c, table, order)
        parts[table] = time.time() - at
    at = time.time()
    c.execute("COMMIT")
    parts["commit"] = time.time() - at
    cpu, wall = time.process_time() - cpu, time.time() - wall
    c.close()
    print(f"{label:42s} wall {wall:5.2f} cpu {cpu:5.2f} | "
          + " ".join(f"{k} {v:.2f}" for k, v in parts.items()), flush=True)
    return cpu


def select_fill(c, table, order):
    # WHERE: not the transfer optimisation (a copy of whole pages), a row at a time.
    c.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table} WHERE account_id > 0 ORDER BY {order}")


def copy(label, **kw):
    c = fresh(**kw)
    c.execute(f"ATTACH '{SOURCE}' AS src")
    return timed(label, c, select_fill)


def bind_fill(per):
    def fill(c, table, order):
        cur = SRC.execute(f"SELECT * FROM {table} ORDER BY {order}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        row = "(" + ",".join("?" * len(cols)) + ")"
        n = per[table]
        for i in range(0, len(rows), n):
            chunk = rows[i:i + n]
            c.execute(f"INSERT INTO {table} ({','.join(cols)}) VALUES " + ",".join([row] * len(chunk)),
                      [v for r in chunk for v in r])
    return fill


SOURCE = sys.argv[1]
SRC = sqlite3.connect(SOURCE)
modes = sys.argv[2:]
if "index" in modes:
    copy("all indexes")
    for name in EMPLOYEE_INDEXES + OTHER_INDEXES:
        copy(f"- {name}", drop=[name])
    copy("no secondary index on employees", drop=EMPLOYEE_INDEXES)
    copy("all indexes, again")
if "pragma" in modes:
    copy("store pragmas (64 MiB cache)")
    copy("cache 256 MiB", cache_kib=262144)
    copy("secure_delete OFF", secure="OFF")
    copy("page_size 16384", page_size=16384)
    copy("page_size 8192, cache 256 MiB", page_size=8192, cache_kib=262144)
if "bind" in modes:
    chunks = {"employees": 500, "import_entries": 1000, "events": 2000}  # the store's
    timed("bound, multi-row VALUES (store's chunks)", fresh(), bind_fill(chunks))
    timed("bound, one row per statement", fresh(), bind_fill(dict.fromkeys(chunks, 1)))
if "ab" in modes:
    runs = {"store pragmas": {}, "cache 256 MiB": {"cache_kib": 262144},
            "no secondary index on employees": {"drop": EMPLOYEE_INDEXES}}
    got = {k: [] for k in runs}
    for _ in range(3):
        for k, kw in runs.items():
            got[k].append(copy(k, **kw))
    for k, v in got.items():
        print(f"median CPU {k}: {statistics.median(v):.2f} s ({min(v):.2f}-{max(v):.2f})")
if "triggers" in modes:
    runs = {"a trigger counting each insert": {"extra": [INSERT_TRIGGER]},
            "the schema as migrated": {}}
    got = {k: [] for k in runs}
    for _ in range(5):
        for k, kw in runs.items():
            got[k].append(copy(k, **kw))
    for k, v in got.items():
        print(f"median CPU {k}: {statistics.median(v):.3f} s ({min(v):.3f}-{max(v):.3f})")
