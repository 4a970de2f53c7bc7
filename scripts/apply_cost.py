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
    RUNS=3 python3 scripts/apply_cost.py /tmp/a/roster.db rebuild

`rebuild` (issue #15 at 1M): every secondary index of `employees` (as `sqlite_master`
has them) dropped inside the transaction, the rows inserted, the indexes re-created
from their stored SQL before the commit, against the schema as migrated, with a larger
cache for the write (256 / 512 MiB), both combined, and only the non-unique indexes
dropped, only the indexes whose entries a row-by-row insert does not append
(a column besides the account, the key and the write's time). `LIMIT=N` copies the first N employees only (with their entries and events).
Each variant runs in its own child process, interleaved RUNS times (`ONLY=0,1`: those
variants only): CPU (user + system) and max RSS are the child's (`wait4`). `order`:
the employees inserted in another order than their keys.

CPU is the process's (user + system); wall includes the WAL writes of the commit. Use
the ratios within one run: the machine this was written on is shared."""
import glob, os, sqlite3, statistics, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = sorted(glob.glob(os.path.join(HERE, "..", "crates/store-sqlite/migrations/*.sql")))
TABLES = (("employees", "key"), ("import_entries", "import_id, seq"), ("events", "account_id, cursor_no"))
SCRATCH = os.path.join(tempfile.mkdtemp(prefix="apply_cost"), "x.db")


def migrated_indexes():
    """(table, name, sql, unique) of every explicit index the migrations leave."""
    c = sqlite3.connect(":memory:")
    for f in MIGRATIONS:
        c.executescript(open(f).read())
    rows = c.execute("SELECT tbl_name, name, sql FROM sqlite_master "
                     "WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").fetchall()
    return [(t, n, sql, sql.lstrip().upper().startswith("CREATE UNIQUE"),
             {r[2] for r in c.execute(f"PRAGMA index_info({n})")}) for t, n, sql in rows]


# Columns whose values a first import writes in the table's order: an index of these
# alone gets its entries appended, row by row.
IN_KEY_ORDER = {"account_id", "key", "updated_at"}


INDEXES = migrated_indexes()
EMPLOYEE_INDEXES = [n for t, n, *_ in INDEXES if t == "employees"]
OTHER_INDEXES = [n for t, n, *_ in INDEXES if t in ("import_entries", "events")]


INSERT_TRIGGER = """CREATE TRIGGER employees_active_inserted AFTER INSERT ON employees
WHEN NEW.active = 1 BEGIN
    INSERT INTO active_counts (account_id, active) VALUES (NEW.account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET active = active + 1;
END"""


def fresh(page_size=None, cache_kib=65536, secure="ON", drop=(), extra=(), threads=0):
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
              "temp_store=memory", f"secure_delete={secure}", "foreign_keys=ON",
              f"mmap_size={256 * 1024 * 1024}", f"threads={threads}"):
        c.execute("PRAGMA " + p)
    return c


def timed(label, c, fill, rebuild=(), order_by=None, during=()):
    """rebuild: (name, sql) of indexes of `employees` dropped before its rows go in and
    re-created from `sql` after them, inside the transaction; `during`: pragmas set for
    the re-creates only (each restored to its value before them afterwards)."""
    c.execute("BEGIN IMMEDIATE")
    for t in ("accounts", "integrations", "imports"):
        rows = SRC.execute(f"SELECT * FROM {t}").fetchall()
        if rows:
            c.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(rows[0]))})", rows)
    cpu, wall, parts = time.process_time(), time.time(), {}
    for table, order in TABLES:
        at = time.time()
        if table == "employees":
            for name, _ in rebuild:
                c.execute(f"DROP INDEX {name}")
        fill(c, table, (order_by or order) if table == "employees" else order)
        parts[table] = time.time() - at
        if table == "employees" and rebuild:
            at = time.time()
            before = [(p.split("=")[0], c.execute(f"PRAGMA {p.split('=')[0]}").fetchone()[0])
                      for p in during]
            for p in during:
                c.execute("PRAGMA " + p)
            for _, sql in rebuild:
                c.execute(sql)
            for name, value in before:
                c.execute(f"PRAGMA {name}={value}")
            parts["reindex"] = time.time() - at
    at = time.time()
    c.execute("COMMIT")
    parts["commit"] = time.time() - at
    cpu, wall = time.process_time() - cpu, time.time() - wall
    c.close()
    print(f"{label:42s} wall {wall:5.2f} cpu {cpu:5.2f} | "
          + " ".join(f"{k} {v:.2f}" for k, v in parts.items()), flush=True)
    return cpu


# LIMIT=N: only the first N employees (by key), with their entries and events: where a
# variant starts to pay, from one large source database.
LIMIT = os.environ.get("LIMIT")


def select_fill(c, table, order):
    # WHERE: not the transfer optimisation (a copy of whole pages), a row at a time.
    where = "account_id > 0"
    if LIMIT:
        where += f" AND {'key' if table == 'employees' else 'employee_key'} <= {int(LIMIT)}"
    c.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table} WHERE {where} ORDER BY {order}")


def copy(label, rebuild=(), order_by=None, during=(), **kw):
    c = fresh(**kw)
    c.execute(f"ATTACH '{SOURCE}' AS src")
    return timed(label, c, select_fill, rebuild, order_by, during)


def interleaved(runs, times, digits):
    """Each variant of `runs` (label: copy's keywords) copied `times` times, the variants
    taking turns; the median CPU of each."""
    got = {k: [] for k in runs}
    for _ in range(times):
        for k, kw in runs.items():
            got[k].append(copy(k, **kw))
    for k, v in got.items():
        print(f"median CPU {k}: {statistics.median(v):.{digits}f} s "
              f"({min(v):.{digits}f}-{max(v):.{digits}f})")


def in_child(label, **kw):
    """copy() in a forked child: (CPU, wall, max RSS MiB) of that child alone."""
    at = time.time()
    pid = os.fork()
    if pid == 0:
        try:
            copy(label, **kw)
        finally:
            os._exit(0)
    _, status, ru = os.wait4(pid, 0)
    assert status == 0, status
    cpu, wall, rss = ru.ru_utime + ru.ru_stime, time.time() - at, ru.ru_maxrss / 1024
    print(f"{'':42s} child: CPU {cpu:6.2f} (user {ru.ru_utime:.2f} sys {ru.ru_stime:.2f}), "
          f"wall {wall:6.2f}, max RSS {rss:.0f} MiB, load {os.getloadavg()[0]:.1f}", flush=True)
    return cpu, wall, rss


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
    interleaved(runs, 3, 2)
if "triggers" in modes:
    runs = {"a trigger counting each insert": {"extra": [INSERT_TRIGGER]},
            "the schema as migrated": {}}
    interleaved(runs, 5, 3)
if "rebuild" in modes:
    every = [(n, sql) for t, n, sql, _, _ in INDEXES if t == "employees"]
    plain = [(n, sql) for t, n, sql, unique, _ in INDEXES if t == "employees" and not unique]
    scattered = [(n, sql) for t, n, sql, _, cols in INDEXES
                 if t == "employees" and not cols <= IN_KEY_ORDER]
    runs = {"the schema as migrated (64 MiB cache)": {},
            "indexes dropped, re-created in the tx": {"rebuild": every},
            "cache 256 MiB": {"cache_kib": 262144},
            "cache 512 MiB": {"cache_kib": 524288},
            "re-created + cache 256 MiB": {"rebuild": every, "cache_kib": 262144},
            "re-created + cache 512 MiB": {"rebuild": every, "cache_kib": 524288},
            "non-unique re-created, unique kept": {"rebuild": plain},
            "out-of-order indexes re-created": {"rebuild": scattered},
            "out-of-order re-created + cache 256 MiB": {"rebuild": scattered, "cache_kib": 262144},
            "cache 128 MiB": {"cache_kib": 131072},
            "out-of-order re-created, 2 sorter threads": {"rebuild": scattered, "threads": 2},
            # 11-: the write's pragmas changed for the re-creates only, and their order.
            "out-of-order, 256 MiB cache for the re-creates": {
                "rebuild": scattered, "during": ["cache_size=-262144"]},
            "out-of-order, 1 GiB cache for the re-creates": {
                "rebuild": scattered, "during": ["cache_size=-1048576"]},
            "out-of-order, 2 sorter threads for the re-creates": {
                "rebuild": scattered, "during": ["threads=2"]},
            "out-of-order, temp_store=file for the re-creates": {
                "rebuild": scattered, "during": ["temp_store=file"]},
            "out-of-order, re-created in reverse name order": {"rebuild": scattered[::-1]},
            "out-of-order, 8 MiB cache for the re-creates": {
                "rebuild": scattered, "during": ["cache_size=-8192"]}}
    only = os.environ.get("ONLY")
    if only:
        runs = {k: v for i, (k, v) in enumerate(runs.items()) if str(i) in only.split(",")}
    print("variants:", "; ".join(runs), flush=True)
    got = {k: [] for k in runs}
    print(f"start {time.strftime('%H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}", flush=True)
    for _ in range(int(os.environ.get("RUNS", "1"))):
        for k, kw in runs.items():
            got[k].append(in_child(k, **kw))
    print(f"end {time.strftime('%H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}", flush=True)
    for k, v in got.items():
        cpu, wall, rss = zip(*v)
        print(f"median {k}: CPU {statistics.median(cpu):.2f} s ({min(cpu):.2f}-{max(cpu):.2f}), "
              f"wall {statistics.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f}), "
              f"max RSS {max(rss):.0f} MiB")
if "order" in modes:
    # The employees in another order than their keys: the table's B-tree then splits
    # all over, but one index goes in sorted.
    for label, order in (("rows in key order", None), ("rows in email order", "email_lower")):
        in_child(label, order_by=order)
