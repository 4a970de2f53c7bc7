#!/usr/bin/env bash
# Every figure of issue #15's "Where it stands" table in one quiet run (docs/benchmarks.md),
# about 15 minutes on the 2-core machine; run nothing else meanwhile.
#   cargo build --release -p roster-cli --bin roster --example sync_bench
#   LIMITS=/tmp/limits/limits AB=/path/to/older/roster bash scripts/bench_quiet.sh /tmp/quiet
# LIMITS: a built copy of ../shared/limits (its README; skipped when unset). AB: another build's
# `roster` (with its `sync_bench` beside it) timed interleaved with this one (skipped when unset).
# R / B: this build's binaries (default: the release target). Results in the folder given.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd); OUT=${1:?usage: bench_quiet.sh OUT}; mkdir -p "$OUT"
T=${CARGO_TARGET_DIR:-$REPO/target}
R=${R:-$T/release/roster}; B=${B:-$(dirname "$R")/examples/sync_bench}
[ -x "$B" ] || B=$(dirname "$R")/sync_bench
export R B
AB=${AB:-}
echo "== start $(date -u) $(uptime)" | tee "$OUT/log.txt"
if [ -n "${LIMITS:-}" ]; then
  (cd "$LIMITS" && REPS=1 ./run.sh parse http sqlite diff > "$OUT/limits_run.txt" 2>&1 && python3 summarize.py > "$OUT/limits.txt" 2>&1)
fi
echo "== limits done $(date -u) $(uptime)" | tee -a "$OUT/log.txt"
(cd "$REPO" && N1=100000 N2=0 RUNS1=3 OUT=$OUT/bs bash scripts/bench_sync.sh > "$OUT/bench_sync.txt" 2>&1)
echo "== bench_sync done $(date -u) $(uptime)" | tee -a "$OUT/log.txt"
"$R" sandbox --port 8993 --members 100000 --seed 7 > "$OUT/sb100k.log" 2>&1 & S1=$!
sleep 5
python3 "$REPO/scripts/bench_incremental.py" --roster "$R" --url http://127.0.0.1:8993 --work "$OUT/inc100k" --changed 2000 --runs 3 > "$OUT/inc100k.txt" 2>&1
python3 "$REPO/scripts/bench_incremental.py" --roster "$R" --url http://127.0.0.1:8993 --work "$OUT/inc100k" --changed 1000 --runs 3 --full > "$OUT/full100k.txt" 2>&1
# The floors of this schema (no Rust): a small change's write, and a first import's rows
# copied by INSERT ... SELECT with every index and without the secondary ones.
python3 "$REPO/scripts/write_floor.py" "$OUT/inc100k/base.db" --changed 1000 --runs 3 > "$OUT/floor100k.txt" 2>&1
python3 "$REPO/scripts/write_floor.py" "$OUT/inc100k/base.db" --changed 2000 --runs 3 >> "$OUT/floor100k.txt" 2>&1
python3 "$REPO/scripts/apply_cost.py" "$OUT/inc100k/base.db" ab > "$OUT/apply_cost100k.txt" 2>&1
if [ -n "$AB" ]; then
  # A/B of the daily full sync: the other build (AB) against this one, interleaved,
  # each from its own base import.
  python3 "$REPO/scripts/bench_incremental.py" --roster "$AB" --url http://127.0.0.1:8993 --work "$OUT/ab_base" --changed 1000 --runs 1 --full > /dev/null 2>&1
  for i in 1 2 3; do
    python3 "$REPO/scripts/bench_incremental.py" --roster "$AB" --url http://127.0.0.1:8993 --work "$OUT/ab_base" --changed 1000 --runs 1 --full 2>&1 | tail -1 | sed 's/^/base: /' >> "$OUT/ab.txt"
    python3 "$REPO/scripts/bench_incremental.py" --roster "$R" --url http://127.0.0.1:8993 --work "$OUT/inc100k" --changed 1000 --runs 1 --full 2>&1 | tail -1 | sed 's/^/now:  /' >> "$OUT/ab.txt"
  done
fi
kill $S1; wait $S1 2>/dev/null
# The issue's 1 % (1,000 changed) incremental on a sandbox of its own: on 8993 the runs above
# changed 2,000 members since any base of it, and an incremental fetches them all.
"$R" sandbox --port 8992 --members 100000 --seed 7 > "$OUT/sb100k_1pc.log" 2>&1 & S3=$!
sleep 5
python3 "$REPO/scripts/bench_incremental.py" --roster "$R" --url http://127.0.0.1:8992 --work "$OUT/inc100k_1pc" --changed 1000 --runs 3 > "$OUT/inc100k_1pc.txt" 2>&1
kill $S3; wait $S3 2>/dev/null
echo "== 100k done $(date -u) $(uptime)" | tee -a "$OUT/log.txt"
"$R" sandbox --port 8994 --members 1000000 --seed 7 > "$OUT/sb1m.log" 2>&1 & S2=$!
for _ in $(seq 1 600); do curl -sf http://127.0.0.1:8994/_sandbox/info > /dev/null && break; sleep 0.5; done
python3 "$REPO/scripts/bench_incremental.py" --roster "$R" --url http://127.0.0.1:8994 --work "$OUT/inc1m" --changed 1000 --runs 3 > "$OUT/inc1m.txt" 2>&1
python3 "$REPO/scripts/write_floor.py" "$OUT/inc1m/base.db" --changed 1000 --runs 3 > "$OUT/floor1m.txt" 2>&1
# The 1M first import again, interleaved with the A/B binary's (each a base import of its own).
for i in 1 2; do
  if [ -n "$AB" ]; then
    python3 "$REPO/scripts/bench_incremental.py" --roster "$AB" --url http://127.0.0.1:8994 --work "$OUT/ab1m_$i" --changed 1000 --runs 1 > "$OUT/ab1m_$i.txt" 2>&1; rm -rf "$OUT/ab1m_$i"
  fi
  python3 "$REPO/scripts/bench_incremental.py" --roster "$R" --url http://127.0.0.1:8994 --work "$OUT/inc1m_$i" --changed 1000 --runs 1 > "$OUT/inc1m_$i.txt" 2>&1; rm -rf "$OUT/inc1m_$i"
done
kill $S2; wait $S2 2>/dev/null
echo "== end $(date -u) $(uptime)" | tee -a "$OUT/log.txt"
