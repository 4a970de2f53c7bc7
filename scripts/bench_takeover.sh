#!/usr/bin/env bash
# Takeover time of a killed worker's job (issue #18.5), by hand, loopback only:
# a PostgreSQL directory (.ci/postgres.sh), a sandbox whose answers are slowed so the
# job is caught mid-fetch, worker A killed with SIGKILL while it holds the job, worker
# B started at once; the figure is the time from the kill to B's applied import.
#
#   bash scripts/bench_takeover.sh [LEASE_SECS] [POLL_SECS]     # default 120 15
#
# Both workers run on this host, so the sync lock of the dead worker is taken over at
# once (its process is gone); what is measured is the job lease running out plus the
# poll. From another host the sync lock ends within the same lease.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LEASE="${1:-120}"
POLL="${2:-15}"
PORT=18899
cargo build --release -p roster-cli --bin roster
R="$PWD/target/release/roster"
bash .ci/postgres.sh start
SERVER="$(bash .ci/postgres.sh url)"
NAME="roster_takeover_$$"
psql "$SERVER" -qc "CREATE DATABASE $NAME"
DB="${SERVER%/*}/$NAME"
WORK="$(mktemp -d)"
cleanup() {
    kill "${SANDBOX:-}" "${A:-}" "${B:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    psql "$SERVER" -qc "DROP DATABASE IF EXISTS $NAME" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export ROSTER_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
export ROSTER_ALLOW_PRIVATE_SOURCE_URLS=1 # the sandbox is on loopback
roster() { "$R" --db "$DB" "$@"; }

"$R" sandbox --port "$PORT" --members 200 >"$WORK/sandbox.out" 2>&1 </dev/null &
SANDBOX=$!
for _ in $(seq 100); do grep -q "access token" "$WORK/sandbox.out" 2>/dev/null && break; sleep 0.1; done
TOKEN="$(grep -A1 'access token (all scopes' "$WORK/sandbox.out" | tail -1 | tr -d ' ')"
B_URL="http://127.0.0.1:$PORT"
roster connect justworks --base-url "$B_URL" --token "$TOKEN" >/dev/null
roster sync --apply --yes >/dev/null
roster autosync on --frequency daily --at 02:00 >/dev/null
curl -sf -X PUT "$B_URL/_sandbox/faults" -d '{"latency_ms":600000}' >/dev/null
roster autosync now >/dev/null

"$R" --db "$DB" worker --id worker-a --lease-secs "$LEASE" --poll-secs "$POLL" >/dev/null 2>"$WORK/a.log" &
A=$!
# Until worker A holds the job (its sync is waiting on the slowed source).
for _ in $(seq 600); do
    roster --json autosync status | grep -q '"lease_holder": "worker-a"' && break
    sleep 0.1
done
sleep 1
kill -9 "$A"
T0=$(date +%s.%N)
curl -sf -X PUT "$B_URL/_sandbox/faults" -d '{}' >/dev/null
"$R" --db "$DB" worker --id worker-b --lease-secs "$LEASE" --poll-secs "$POLL" >/dev/null 2>"$WORK/b.log" &
B=$!
until roster --json imports | grep -q '"trigger": "automatic"'; do sleep 0.2; done
T1=$(date +%s.%N)
echo "lease ${LEASE} s, poll ${POLL} s: the killed worker's job applied $(echo "$T1 - $T0" | bc) s after the kill"
