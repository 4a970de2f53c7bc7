#!/usr/bin/env bash
# Syncs per minute of 1, 2 and 3 workers on a durable PostgreSQL (fsync and
# synchronous commit on), over TCP and over a Unix socket, with small changesets
# written by COPY (ROSTER_PG_SMALL_WRITE=0, as before issue #18.3) and without
# (INSERT … FROM UNNEST, the default). Loopback only. Figures: docs/benchmarks.md.
#
#   bash scripts/bench_workers_pg.sh [ACCOUNTS] [MEMBERS]      # default 200 200
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ACCOUNTS="${1:-200}"
MEMBERS="${2:-200}"
export ROSTER_PG_PORT=55433 ROSTER_PG_DURABLE=1
bash .ci/postgres.sh start
trap 'bash .ci/postgres.sh stop' EXIT
SOCKDIR="/tmp/roster-postgres-$ROSTER_PG_PORT"
TCP="postgres://postgres@127.0.0.1:$ROSTER_PG_PORT/postgres"
UNIX="postgres://postgres@localhost/postgres?host=$SOCKDIR&port=$ROSTER_PG_PORT"
cargo build --release -p roster-cli --example worker_bench
for mode in copy unnest; do
    for net in tcp unix; do
        if [ "$net" = tcp ]; then db="$TCP"; else db="$UNIX"; fi
        if [ "$mode" = copy ]; then small=0; else small=1000; fi
        echo "== $mode over $net"
        ROSTER_PG_SMALL_WRITE=$small target/release/examples/worker_bench \
            --accounts "$ACCOUNTS" --members "$MEMBERS" --workers 1,2,3 --db "$db" 2>&1 |
            grep -Ev '^\s*$' | tail -n 12
    done
done
