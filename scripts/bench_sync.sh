#!/usr/bin/env bash
# Release figures of issue #15 (docs/benchmarks.md, "Sync at the scale of the change"):
# against a separate `roster sandbox` process, 100k members (setup-sync and first import
# by the `roster` binary, RUNS1 times; then sync_bench: first import, daily full and
# incremental sync, RUNS1 runs) and 1M members (setup-sync and first import once; then
# sync_bench with 1,000 changed, incremental only).
#   cargo build --release -p roster-cli --bin roster --example sync_bench
#   bash scripts/bench_sync.sh            # N1=100000 N2=1000000 RUNS1=3 OUT=/tmp/bench_sync (N2=0: 100k only)
#   (R=/path/roster B=/path/sync_bench: other binaries; CARGO_TARGET_DIR is followed)
set -uo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-$PWD/target}
R=${R:-$T/release/roster}
B=${B:-$T/release/examples/sync_bench}
OUT=${OUT:-/tmp/bench_sync}
N1=${N1:-100000}
N2=${N2:-1000000}
RUNS1=${RUNS1:-3}
mkdir -p "$OUT"
echo "== start $(date -u) $(uptime)"
wait_up() { for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$1/_sandbox/info" >/dev/null && return 0; sleep 0.5; done; return 1; }
token() { curl -sf -X POST "http://127.0.0.1:$1/_sandbox/tokens" -H 'content-type: application/json' -d '{}' | jq -r .access_token; }
cli_runs() { # port members runs
  local port=$1 n=$2 runs=$3 tok d
  tok=$(token "$port")
  for r in $(seq 1 "$runs"); do
    d=$OUT/db_${n}_$r; rm -rf "$d"; mkdir -p "$d"
    "$R" --db "$d/roster.db" connect justworks --base-url "http://127.0.0.1:$port" --token "$tok" > /dev/null 2>&1 || echo "connect failed"
    /usr/bin/time -f "setup-sync $n run $r: %e s wall, %U user %S sys, max RSS %M KB" \
      "$R" --db "$d/roster.db" setup-sync > "$OUT/setup_${n}_$r.txt" 2> "$OUT/setup_${n}_$r.err"
    tail -1 "$OUT/setup_${n}_$r.err"
    /usr/bin/time -f "first import $n run $r: %e s wall, %U user %S sys, max RSS %M KB" \
      "$R" --db "$d/roster.db" sync --apply --yes > "$OUT/review_${n}_$r.txt" 2> "$OUT/sync_${n}_$r.err"
    tail -1 "$OUT/sync_${n}_$r.err"
    rm -rf "$d"
  done
}
"$R" sandbox --port 8911 --members "$N1" --seed 7 > "$OUT/sandbox1.log" 2>&1 & SB=$!
wait_up 8911
cli_runs 8911 "$N1" "$RUNS1"
# sync_bench runs the engine in its own process: with the allocator setting `roster` gives
# itself (crates/cli/src/main.rs, PURGE_DELAY) unless the caller chose one.
MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-250} "$B" --url http://127.0.0.1:8911 --sandbox-pid $SB --runs "$RUNS1" > "$OUT/bench1.txt" 2> "$OUT/bench1.err"
cat "$OUT/bench1.txt"
kill $SB; wait $SB 2>/dev/null
echo "== $N1 done $(date -u) $(uptime)"
if [ "$N2" = 0 ]; then echo "== N2=0: the 1M part skipped"; exit 0; fi
"$R" sandbox --port 8912 --members "$N2" --seed 7 > "$OUT/sandbox2.log" 2>&1 & SB=$!
wait_up 8912
cli_runs 8912 "$N2" 1
MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-250} "$B" --url http://127.0.0.1:8912 --sandbox-pid $SB --runs 1 --no-full --changed 1000 > "$OUT/bench2.txt" 2> "$OUT/bench2.err"
cat "$OUT/bench2.txt"
kill $SB; wait $SB 2>/dev/null
echo "== end $(date -u) $(uptime)"
