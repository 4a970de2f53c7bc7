#!/usr/bin/env bash
# Sign-in storm against `roster serve` (issue #11.2): N concurrent sign-ins with
# distinct unknown emails (each an argon2 check, ~19 MiB), on loopback. Measures the
# server's idle and peak RSS (VmRSS before, VmHWM after) and the latency of
# GET /healthz sampled throughout the storm (p50, p99, max), and counts the answers.
#
# Usage: bash scripts/bench_signin.sh
# Environment (all optional):
#   ROSTER=target/release/roster   the binary (build: cargo build --release -p roster-cli --bin roster)
#   N=300                          concurrent sign-ins
#   ROUNDS=3                       storms, one after the other (figures over all)
#   PORT=18090                     first port tried (the next free one is used)
#   KEEP=1                         keep the temp dir (database, logs, samples)
#   (ROSTER_* server settings pass through, e.g. ROSTER_PASSWORD_HASHING_CONCURRENCY)
#
# The server runs in a temp dir on a fresh SQLite file and is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROSTER=${ROSTER:-target/release/roster}
ROSTER=$(realpath "$ROSTER")
N=${N:-300}
ROUNDS=${ROUNDS:-3}

command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }
[[ -x $ROSTER ]] || {
    echo "$ROSTER missing: cargo build --release -p roster-cli --bin roster" >&2
    exit 1
}

WORK=$(mktemp -d /tmp/roster-bench-signin.XXXXXX)
SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
        p=$((p + 1))
    done
    echo "$p"
}

kib() { awk -v k="$1" '/^'"$1"':/ {print $2}' "/proc/$SERVER_PID/status"; }

PORT=$(free_port "${PORT:-18090}")
BASE="http://127.0.0.1:$PORT"
"$ROSTER" --db "$WORK/roster.db" serve --listen "127.0.0.1:$PORT" --no-worker \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 600); do
    curl -s -o /dev/null "$BASE/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died: $(cat "$WORK/serve.err")" >&2; exit 1; }
    sleep 0.1
done
# One real web user, so that the known-email path exists (its email is not used).
printf 'bench-%s-%s-password\n' "$RANDOM" "$RANDOM" |
    "$ROSTER" --log warn --db "$WORK/roster.db" admin create-user --email known@bench.example \
        --role viewer --password-stdin >/dev/null
sleep 1
IDLE=$(kib VmRSS)

# The storm: one curl, N transfers in parallel, each its own connection and email.
: >"$WORK/storm.cfg"
for i in $(seq "$N"); do
    cat >>"$WORK/storm.cfg" <<EOF
url = "$BASE/api/v1/session"
header = "Content-Type: application/json"
data = "{\"email\":\"nobody$i-$RANDOM@bench.example\",\"password\":\"not the password at all\"}"
output = "/dev/null"
write-out = "%{http_code} %{time_total}\\n"
next
EOF
done
sed -i '$ d' "$WORK/storm.cfg" # no `next` after the last

echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server idle RSS: $((IDLE / 1024)) MiB"
: >"$WORK/healthz.txt"
: >"$WORK/answers.txt"
for round in $(seq "$ROUNDS"); do
    # Different emails each round (the per-email limit is not what is measured).
    sed -i -E "s/nobody([0-9]+)-[0-9]+@/nobody\1-$round$RANDOM@/" "$WORK/storm.cfg"
    t0=$(date +%s.%N)
    curl -s --no-progress-meter -Z --parallel-max "$N" --parallel-immediate -K "$WORK/storm.cfg" >>"$WORK/answers.txt" &
    STORM=$!
    # /healthz every 20 ms while the storm lasts: a new connection each time.
    while kill -0 "$STORM" 2>/dev/null; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$BASE/healthz" >>"$WORK/healthz.txt" || echo "000 0" >>"$WORK/healthz.txt"
        sleep 0.02
    done
    wait "$STORM" || true
    echo "round $round: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
    sleep 2 # the per-minute global budget refills partly; the server settles
done
PEAK=$(kib VmHWM)
NOW=$(kib VmRSS)

pct() { sort -n | awk -v p="$1" '{a[NR] = $1} END {i = int((NR * p + 99) / 100); if (i < 1) i = 1; printf "%.1f", a[i] * 1000}'; }
echo
echo "answers to $((N * ROUNDS)) sign-ins: $(cut -d' ' -f1 "$WORK/answers.txt" | sort | uniq -c | awk '{printf "%s × %s; ", $1, $2}')"
echo "sign-in latency: p50 $(cut -d' ' -f2 "$WORK/answers.txt" | pct 50) ms, p99 $(cut -d' ' -f2 "$WORK/answers.txt" | pct 99) ms"
echo "/healthz during the storms: $(wc -l <"$WORK/healthz.txt") samples, statuses $(cut -d' ' -f1 "$WORK/healthz.txt" | sort | uniq -c | awk '{printf "%s × %s; ", $1, $2}')"
echo "/healthz latency: p50 $(cut -d' ' -f2 "$WORK/healthz.txt" | pct 50) ms, p99 $(cut -d' ' -f2 "$WORK/healthz.txt" | pct 99) ms, max $(cut -d' ' -f2 "$WORK/healthz.txt" | pct 100) ms"
echo "server RSS: idle $((IDLE / 1024)) MiB, peak $((PEAK / 1024)) MiB (+$(((PEAK - IDLE) / 1024)) MiB), after $((NOW / 1024)) MiB"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
