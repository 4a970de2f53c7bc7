#!/usr/bin/env bash
# HTTP benchmark of `roster serve` (issue #4): requests/s and p50/p99 latency, with wrk
# on loopback, for
#   - GET /healthz                          (floor: routing, no auth, no database)
#   - GET /api/v1/users?limit=100           (10k users, first page of 100; bearer token)
#   - GET /api/v1/users?limit=10            (same, page of 10: what a row costs)
#   - GET /api/v1/users?limit=100&offset=LAST (the last full page: OFFSET cost)
#   - GET /api/v1/users?limit=100&after=KEY   (the same page by key: keyset paging)
#   - GET /api/v1/reviews/{id}/entries?limit=100  (pending review of a 10k-member plan)
#   - GET /reviews/{id}                     (the web UI review page, session cookie)
#
# Usage: bash scripts/bench_http.sh
# Environment (all optional):
#   ROSTER=target/release/roster   the binary (build: cargo build --release -p roster-cli --bin roster)
#   MEMBERS=10000 SEED=7           the sandbox company
#   DURATION=15s THREADS=2 CONNECTIONS=16   wrk settings
#   SANDBOX_PORT=18911 PORT=18080  first ports tried (the next free ones are used)
#   KEEP=1                         keep the temp dir (databases, logs, wrk outputs)
#
# Everything it starts (sandbox, servers) runs in a temp dir with fresh SQLite files and
# is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROSTER=${ROSTER:-target/release/roster}
ROSTER=$(realpath "$ROSTER")
MEMBERS=${MEMBERS:-10000}
SEED=${SEED:-7}
DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}

command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }
[[ -x $ROSTER ]] || {
    echo "$ROSTER missing: cargo build --release -p roster-cli --bin roster" >&2
    exit 1
}

WORK=$(mktemp -d /tmp/roster-bench-http.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The first port from $1 on that nobody listens on.
free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
        p=$((p + 1))
    done
    echo "$p"
}

# Wait until $1 answers (any HTTP status), at most $2 seconds; $3 is the process.
wait_http() {
    local url=$1 limit=$2 pid=$3 i
    for ((i = 0; i < limit * 10; i++)); do
        if curl -s -o /dev/null "$url"; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { echo "process $pid died (see $WORK)" >&2; return 1; }
        sleep 0.1
    done
    echo "timed out waiting for $url" >&2
    return 1
}

roster() { "$ROSTER" --log warn "$@"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the sandbox ------------------------------------------------------------------
SP=$(free_port "${SANDBOX_PORT:-18911}")
"$ROSTER" --db "$WORK/sandbox-unused.db" sandbox --port "$SP" --members "$MEMBERS" --seed "$SEED" \
    >"$WORK/sandbox.out" 2>"$WORK/sandbox.err" &
PIDS+=($!)
SANDBOX_PID=$!
wait_http "http://127.0.0.1:$SP/_sandbox/info" 60 "$SANDBOX_PID"
for _ in $(seq 50); do
    grep -q 'access token' "$WORK/sandbox.out" && break
    sleep 0.1
done
SANDBOX_TOKEN=$(grep -A1 'access token' "$WORK/sandbox.out" | tail -1 | tr -d '[:space:]')
[[ -n $SANDBOX_TOKEN ]] || { echo "no sandbox token in $WORK/sandbox.out" >&2; exit 1; }
SANDBOX_URL="http://127.0.0.1:$SP"

# ---- database 1: 10k users imported -----------------------------------------------
DB1="$WORK/users.db"
roster --db "$DB1" connect justworks --base-url "$SANDBOX_URL" --token "$SANDBOX_TOKEN" >"$WORK/db1.log"
roster --db "$DB1" setup-sync >>"$WORK/db1.log"
t0=$(date +%s.%N)
rc=0
roster --db "$DB1" sync --apply --yes >>"$WORK/db1.log" 2>&1 || rc=$?
# 0 ok, 4 applied with privacy-guarded employees held
[[ $rc == 0 || $rc == 4 ]] || { echo "first import failed (exit $rc), see $WORK/db1.log" >&2; exit 1; }
echo "first import of $MEMBERS members: $(since "$t0") s"
VIEWER1=$(roster --db "$DB1" admin create-token --role viewer --name bench | tail -1)

# ---- database 2: connected and set up, no import; a pending review comes later ------
DB2="$WORK/review.db"
roster --db "$DB2" connect justworks --base-url "$SANDBOX_URL" --token "$SANDBOX_TOKEN" >"$WORK/db2.log"
roster --db "$DB2" setup-sync >>"$WORK/db2.log"
VIEWER2=$(roster --db "$DB2" admin create-token --role viewer --name bench | tail -1)
EDITOR2=$(roster --db "$DB2" admin create-token --role employee_data_admin --name bench-start | tail -1)
WEB_EMAIL=bench@example.com
WEB_PASSWORD="bench-$RANDOM-$RANDOM-password"
printf '%s\n' "$WEB_PASSWORD" |
    roster --db "$DB2" admin create-user --email "$WEB_EMAIL" --role employee_data_admin --password-stdin \
        >>"$WORK/db2.log"

# ---- measuring --------------------------------------------------------------------
RESULTS=()
# bench NAME URL [curl/wrk header args...]: check it answers 200, then run wrk.
bench() {
    local name=$1 url=$2
    shift 2
    local status size
    read -r status size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$@" "$url")
    if [[ $status != 200 ]]; then
        echo "$name: $url answered $status, not 200" >&2
        exit 1
    fi
    local out="$WORK/wrk-${#RESULTS[@]}.txt"
    echo "== $name ($size bytes; load $(cut -d' ' -f1-3 /proc/loadavg))"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency "$@" "$url" >"$out"
    local rps p50 p99 bad
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    bad=$(awk '/Non-2xx or 3xx/ {n += $NF} /Socket errors/ {n += 1} END {print n + 0}' "$out")
    printf '   %s req/s, p50 %s, p99 %s%s\n' "$rps" "$p50" "$p99" \
        "$([[ $bad != 0 ]] && echo "  (errors: $(grep -E 'Non-2xx|Socket' "$out" | tr -s ' ' | tr '\n' ';'))")"
    RESULTS+=("$(printf '| %s | %s | %s | %s | %s |' "$name" "$rps" "$p50" "$p99" "$size")")
}

start_server() { # db -> sets SERVER_PID, BASE
    local port
    port=$(free_port "${PORT:-18080}")
    "$ROSTER" --db "$1" serve --listen "127.0.0.1:$port" --no-worker \
        >"$WORK/serve-$port.out" 2>"$WORK/serve-$port.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    BASE="http://127.0.0.1:$port"
    wait_http "$BASE/healthz" 60 "$SERVER_PID"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, loopback"

# Server 1: the directory.
start_server "$DB1"
AUTH1=(-H "Authorization: Bearer $VIEWER1")
bench "GET /healthz" "$BASE/healthz"
bench "GET /api/v1/users?limit=100" "$BASE/api/v1/users?limit=100" "${AUTH1[@]}"
bench "GET /api/v1/users?limit=10" "$BASE/api/v1/users?limit=10" "${AUTH1[@]}"
# The last full page (the listing is the active users, fewer than the members), by
# offset and by key (`after` = the key of the user just before it).
TOTAL=$(curl -s "${AUTH1[@]}" "$BASE/api/v1/users?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2)
LAST=$((TOTAL - 100))
AFTER=$(curl -s "${AUTH1[@]}" "$BASE/api/v1/users?limit=1&offset=$((LAST - 1))" | grep -o '"key":[0-9]*' | head -1 | cut -d: -f2)
echo "active users: $TOTAL; last page at offset $LAST, after key $AFTER"
bench "GET /api/v1/users?limit=100&offset=LAST (last page)" "$BASE/api/v1/users?limit=100&offset=$LAST" "${AUTH1[@]}"
bench "GET /api/v1/users?limit=100&after=KEY (last page)" "$BASE/api/v1/users?limit=100&after=$AFTER" "${AUTH1[@]}"
stop_server

# Server 2: a pending review of a 10k-member first sync.
start_server "$DB2"
t0=$(date +%s.%N)
curl -sf -X POST -H "Authorization: Bearer $EDITOR2" -H 'Content-Type: application/json' -d '{}' \
    "$BASE/api/v1/integrations/1/syncs" >"$WORK/review.json" ||
    { echo "starting the sync review failed" >&2; exit 1; }
echo "sync review of $MEMBERS members (POST /api/v1/integrations/1/syncs): $(since "$t0") s"
REVIEW=$(grep -o '"id":[0-9]*' "$WORK/review.json" | head -1 | cut -d: -f2)
ENTRIES=$(grep -o '"entries":{"total":[0-9]*' "$WORK/review.json" | head -1 | grep -o '[0-9]*$' || true)
PAYLOAD=""
if command -v sqlite3 >/dev/null; then
    PAYLOAD=", stored payload $(sqlite3 "$DB2" "SELECT length(payload) FROM sync_reviews WHERE id = $REVIEW") bytes of JSON"
fi
echo "review $REVIEW: ${ENTRIES:-?} entries$PAYLOAD"
curl -s -D "$WORK/login.headers" -o "$WORK/login.json" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$WEB_EMAIL\",\"password\":\"$WEB_PASSWORD\"}" "$BASE/api/v1/session"
COOKIE=$(grep -i '^set-cookie: roster_session=' "$WORK/login.headers" | head -1 |
    sed -E 's/^[^:]*: *(roster_session=[^;]*).*/\1/' | tr -d '\r')
[[ -n $COOKIE ]] || { echo "sign-in failed: $(cat "$WORK/login.json")" >&2; exit 1; }
AUTH2=(-H "Authorization: Bearer $VIEWER2")
bench "GET /api/v1/reviews/{id}/entries?limit=100" "$BASE/api/v1/reviews/$REVIEW/entries?limit=100" "${AUTH2[@]}"
bench "GET /reviews/{id} (web UI)" "$BASE/reviews/$REVIEW" -H "Cookie: $COOKIE"
stop_server

echo
echo "| endpoint | req/s | p50 | p99 | response bytes |"
echo "|---|---|---|---|---|"
printf '%s\n' "${RESULTS[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
