#!/usr/bin/env bash
# Shows that the regression gate neither cries wolf nor misses a real slowdown.
#
#   1. start the demo server with a fixed latency (10 ms ± 1 ms) and take a baseline;
#   2. run the same scenario RUNS times against the same server: count gate failures
#      (goal: 0 of RUNS);
#   3. restart the server 20% slower (12 ms ± 1.2 ms) and run RUNS times: count the
#      regressions caught (goal: RUNS of RUNS).
#
# Usage: scripts/gate-accuracy.sh [RUNS] [EXTRA PERFGATE RUN FLAGS...]
#        (default 10 runs; each lasts about 11 s; e.g. `10 --repeat 3`)
# KEEP=1 keeps every run's result.json and log for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-10}
shift || true
EXTRA=("$@")
PORT=${PORT:-18081}
BASE="http://127.0.0.1:$PORT"
SCENARIO=scripts/gate-accuracy.yaml
WORK=$(mktemp -d)
SERVER_PID=""

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "runs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

cargo build --release --quiet
BIN=target/release/perfgate

start_server() { # latency jitter
  [ -n "$SERVER_PID" ] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  "$BIN" demo-server --addr "127.0.0.1:$PORT" --latency "$1" --jitter "$2" >/dev/null &
  SERVER_PID=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo server did not start" >&2
  exit 3
}

run_many() { # label -> prints the number of runs whose gate failed (exit 1)
  local label=$1 failed=0 code
  for i in $(seq "$RUNS"); do
    set +e
    "$BIN" run "$SCENARIO" --base-url "$BASE" --baseline "$WORK/baseline.json" \
      --quiet --no-report --out "$WORK/$label-$i" ${EXTRA[@]+"${EXTRA[@]}"} >"$WORK/$label-$i.log" 2>&1
    code=$?
    set -e
    case $code in
      0) ;;
      1) failed=$((failed + 1)) ;;
      *) echo "run $label-$i failed with exit $code:" >&2; cat "$WORK/$label-$i.log" >&2; exit 3 ;;
    esac
    printf '  %s run %2d: exit %d  %s\n' "$label" "$i" "$code" \
      "$(grep -oE '(regressed|improved|inconclusive)[^|]*' "$WORK/$label-$i.log" | head -n 3 | tr '\n' ' ')" >&2
  done
  echo "$failed"
}

echo "baseline: demo server at 10ms ± 1ms" >&2
start_server 10ms 1ms
REPEAT=()
for ((k = 0; k < ${#EXTRA[@]}; k++)); do
  [ "${EXTRA[$k]}" = "--repeat" ] && REPEAT=(--repeat "${EXTRA[$((k + 1))]}")
done
"$BIN" baseline refresh "$SCENARIO" --base-url "$BASE" --baseline "$WORK/baseline.json" --quiet ${REPEAT[@]+"${REPEAT[@]}"} >&2

echo "same server, $RUNS runs:" >&2
false_alarms=$(run_many same)

echo "server 20% slower (12ms ± 1.2ms), $RUNS runs:" >&2
start_server 12ms 1200us
caught=$(run_many slower)

run_len=$(grep -oE '(warmup|duration): [0-9a-z]+' "$SCENARIO" | tr '\n' ' ')
echo
echo "run length: ${run_len}(about 11 s per run) ${EXTRA[*]+flags: ${EXTRA[*]}}"
echo "unchanged service: gate failed $false_alarms of $RUNS runs (goal 0)"
echo "20% slower service: gate caught $caught of $RUNS runs (goal $RUNS)"
[ "$false_alarms" -eq 0 ] && [ "$caught" -eq "$RUNS" ]
