#!/usr/bin/env bash
# Measures the regression gate against the goal table of issue 8, with default settings (no
# tuned tolerance profile), and prints the table in Markdown (the README's format).
#
# Stored-baseline mode: a demo server answers in 5 ms ± 0.5 ms; `baseline refresh` takes a
# baseline of it (3 runs); then TRIALS runs of the same server (A/A: a failure is a false
# alarm), TRIALS runs of a server 20 % slower and TRIALS runs of one 10 % slower (a failure
# is a catch). A/B mode: AB_TRIALS comparisons (`perfgate ab`, default schedule) of the server
# with itself, with one 10 % slower, and with one whose tail only is 30 % slower (uniform
# jitter widened from ± 0.5 ms to ± 2.2 ms: the median stays at 5 ms, p99 goes up 30 %).
# Testbeds: a baseline taken under another testbed name (as if on another machine) of the
# server at 5 ms, then TESTBED_TRIALS runs of a server 40 % slower: the comparison must be
# informational and never fail.
#
# Usage: scripts/gate-accuracy.sh [--trials N] [--ab-trials N] [--testbed-trials N]
#                                 [--duration SECONDS] [--noise | --both] [--only GROUPS]
#                                 [--vus N] [-- EXTRA `perfgate run` FLAGS]
#   --trials N          runs per stored-baseline row (default 20; the goal is stated for 20)
#   --ab-trials N       comparisons per A/B row (default: --trials)
#   --testbed-trials N  runs of the other-testbed row (default: --trials)
#   --duration S        seconds of load per stored-baseline run (default 20), after a 1 s warm-up
#   --noise             keep a CPU hog running beside every run (`yes > /dev/null`, pinned to the
#                       last CPU with taskset when there is one): the goal must hold with it too
#   --both              measure the whole table twice: quiet, then with the hog
#   --only GROUPS       comma-separated subset of: stored, ab, testbed (default: all three)
#   --vus N             closed-model virtual users (default 8)
# PERFGATE_BIN=path uses that binary instead of building a release one; KEEP=1 keeps every
# run's result.json and log; PORT (default 18081, and the next one) for the demo servers.
# Exits 0 when every measured row meets its goal, 1 when one does not, 3 when a run broke.
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=20
AB_TRIALS=""
TB_TRIALS=""
DURATION=20
CONDITIONS="quiet"
ONLY="stored,ab,testbed"
VUS=8
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --trials) TRIALS=$2; shift 2 ;;
    --ab-trials) AB_TRIALS=$2; shift 2 ;;
    --testbed-trials) TB_TRIALS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --noise) CONDITIONS="noise"; shift ;;
    --both) CONDITIONS="quiet noise"; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --vus) VUS=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
AB_TRIALS=${AB_TRIALS:-$TRIALS}
TB_TRIALS=${TB_TRIALS:-$TRIALS}
case "$TRIALS$AB_TRIALS$TB_TRIALS$DURATION$VUS" in
  *[!0-9]*) echo "--trials, --ab-trials, --testbed-trials, --duration, --vus take whole numbers" >&2; exit 2 ;;
esac
for n in "$TRIALS" "$AB_TRIALS" "$TB_TRIALS" "$DURATION"; do
  [ "$n" -ge 1 ] || { echo "trial counts and --duration must be at least 1" >&2; exit 2; }
done
for g in ${ONLY//,/ }; do
  case $g in stored|ab|testbed) ;; *) echo "--only takes stored, ab, testbed (got $g)" >&2; exit 2 ;; esac
done
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

PORT=${PORT:-18081}
PORT_B=$((PORT + 1))
WORK=$(mktemp -d)
SERVER_PIDS=()
HOG_PID=""

cleanup() {
  for p in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
  [ -n "$HOG_PID" ] && kill "$HOG_PID" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "runs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ -n "${PERFGATE_BIN:-}" ]; then
  BIN=$PERFGATE_BIN
else
  cargo build --release --quiet
  BIN=target/release/perfgate
fi

# Default settings: no tolerance profile, no thresholds beyond the kind's defaults.
SCENARIO=$WORK/gate-accuracy.yaml
cat >"$SCENARIO" <<EOF
name: gate-accuracy
kind: load
description: Does the gate pass an unchanged service and catch a slower one? (scripts/gate-accuracy.sh)
target:
  base_url: http://127.0.0.1:$PORT
  timeout: 2s
requests:
  - { name: list-items, path: /items, weight: 3 }
  - { name: create-item, method: POST, path: /items, body: '{"name":"x"}', expect: { status: [201] } }
load:
  warmup: 1s
  stages:
    - { concurrency: $VUS, duration: ${DURATION}s }
EOF

# start_server PORT LATENCY JITTER: (re)starts the demo server on PORT.
start_server() {
  local port=$1 pid
  stop_server "$port"
  "$BIN" demo-server --addr "127.0.0.1:$port" --latency "$2" --jitter "$3" >/dev/null &
  pid=$!
  SERVER_PIDS+=("$pid")
  eval "SERVER_$port=$pid"
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo server on port $port did not start" >&2
  exit 3
}
stop_server() { # PORT
  local var="SERVER_$1"
  local pid=${!var:-}
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  eval "SERVER_$1="
}

start_hog() {
  local cpus
  cpus=$(nproc 2>/dev/null || echo 1)
  if command -v taskset >/dev/null; then
    taskset -c "$((cpus - 1))" yes >/dev/null &
  else
    yes >/dev/null &
  fi
  HOG_PID=$!
  echo "noise: a CPU hog (pid $HOG_PID) runs beside every run" >&2
}
stop_hog() {
  [ -n "$HOG_PID" ] && { kill "$HOG_PID" 2>/dev/null || true; wait "$HOG_PID" 2>/dev/null || true; }
  HOG_PID=""
}

# verdicts LABEL TRIALS COMMAND...: runs COMMAND (with {i} replaced by the trial number and {l}
# by LABEL) TRIALS times; prints "failures seconds-per-run" (exit 1 counts as a failure, 0 as a pass).
verdicts() {
  local label=$1 trials=$2 failed=0 code start elapsed=0
  shift 2
  for i in $(seq "$trials"); do
    local cmd=()
    for a in "$@"; do a=${a//\{i\}/$i}; cmd+=("${a//\{l\}/$label}"); done
    start=$(date +%s)
    set +e
    "${cmd[@]}" >"$WORK/$label-$i.log" 2>&1
    code=$?
    set -e
    elapsed=$((elapsed + $(date +%s) - start))
    case $code in
      0) ;;
      1) failed=$((failed + 1)) ;;
      *) echo "$label trial $i broke with exit $code:" >&2; cat "$WORK/$label-$i.log" >&2; exit 3 ;;
    esac
    printf '  %-16s %2d/%d: exit %d  %s\n' "$label" "$i" "$trials" "$code" \
      "$(grep -oE '(regressed|improved|inconclusive|informational|machine:)[^|]*' "$WORK/$label-$i.log" | head -n 3 | tr '\n' ' ')" >&2
  done
  echo "$failed $((elapsed / trials))"
}

ROWS=()
ALL_MET=1
# row CONDITION TEXT COUNT TRIALS GOAL-OK(0/1) SECONDS
row() {
  local mark="yes" cond="no hog"
  [ "$1" = noise ] && cond="CPU hog"
  [ "$5" -eq 1 ] || { mark="**no**"; ALL_MET=0; }
  ROWS+=("| $cond | $2 | $3 of $4 | $6 s | $mark |")
}
at_least() { # COUNT TRIALS NUM DEN -> 1 when COUNT >= ceil(TRIALS*NUM/DEN)
  local need=$((($2 * $3 + $4 - 1) / $4))
  [ "$1" -ge "$need" ] && echo 1 || echo 0
}
none() { [ "$1" -eq 0 ] && echo 1 || echo 0; }

# measure CONDITION: every wanted row group once, under CONDITION (quiet or noise).
measure() {
  local cond=$1 res n s ok
  local run_cmd=("$BIN" run "$SCENARIO" --base-url "http://127.0.0.1:$PORT" --baseline "$WORK/baseline-$cond.json"
    --quiet --no-report --out "$WORK/{l}-{i}" ${EXTRA[@]+"${EXTRA[@]}"})

  if wants stored; then
    echo "[$cond] stored-baseline mode: baseline of the demo server at 5ms ± 0.5ms (3 runs)" >&2
    start_server "$PORT" 5ms 500us
    "$BIN" baseline refresh "$SCENARIO" --base-url "http://127.0.0.1:$PORT" --baseline "$WORK/baseline-$cond.json" \
      --quiet >"$WORK/$cond-baseline.log" 2>&1 || { cat "$WORK/$cond-baseline.log" >&2; exit 3; }
    echo "[$cond] A/A: the same server, $TRIALS runs" >&2
    res=$(verdicts "$cond-aa" "$TRIALS" "${run_cmd[@]}"); read -r n s <<<"$res"
    row "$cond" "stored baseline, A/A: false failures (goal 0)" "$n" "$TRIALS" "$(none "$n")" "$s"
    for slower in 20 10; do
      local lat=$((5000 * (100 + slower) / 100))
      start_server "$PORT" "${lat}us" "$((lat / 10))us"
      echo "[$cond] +$slower %: the server at ${lat}us, $TRIALS runs" >&2
      res=$(verdicts "$cond-slower$slower" "$TRIALS" "${run_cmd[@]}"); read -r n s <<<"$res"
      if [ "$slower" -eq 20 ]; then
        row "$cond" "stored baseline, +20 % slower: caught (goal all)" "$n" "$TRIALS" "$([ "$n" -eq "$TRIALS" ] && echo 1 || echo 0)" "$s"
      else
        row "$cond" "stored baseline, +10 % slower: caught (goal ≥ 90 %)" "$n" "$TRIALS" "$(at_least "$n" "$TRIALS" 9 10)" "$s"
      fi
    done
    stop_server "$PORT"
  fi

  if wants ab; then
    local ab_cmd=("$BIN" ab "$SCENARIO" --a "http://127.0.0.1:$PORT" --b "http://127.0.0.1:$PORT_B"
      --quiet --no-report --out "$WORK/{l}-{i}")
    start_server "$PORT" 5ms 500us
    start_server "$PORT_B" 5ms 500us
    echo "[$cond] A/B, A/A: both sides the same, $AB_TRIALS comparisons" >&2
    res=$(verdicts "$cond-ab-aa" "$AB_TRIALS" "${ab_cmd[@]}"); read -r n s <<<"$res"
    ok=$([ "$n" -eq 0 ] && [ "$s" -le 40 ] && echo 1 || echo 0)
    row "$cond" "A/B, A/A: false failures (goal 0, ≤ 40 s)" "$n" "$AB_TRIALS" "$ok" "$s"
    start_server "$PORT_B" 5500us 550us
    echo "[$cond] A/B, B +10 % slower, $AB_TRIALS comparisons" >&2
    res=$(verdicts "$cond-ab-10" "$AB_TRIALS" "${ab_cmd[@]}"); read -r n s <<<"$res"
    ok=$([ "$(at_least "$n" "$AB_TRIALS" 19 20)" -eq 1 ] && [ "$s" -le 40 ] && echo 1 || echo 0)
    row "$cond" "A/B, +10 % slower: caught (goal ≥ 95 %, ≤ 40 s)" "$n" "$AB_TRIALS" "$ok" "$s"
    # A tail-only slowdown from uniform jitter: the median stays at 5 ms, p99 (5 ms + 0.98 ×
    # jitter) goes from about 5.49 ms (± 0.5 ms) to about 7.16 ms (± 2.2 ms), +30 %.
    start_server "$PORT_B" 5ms 2200us
    echo "[$cond] A/B, B p99-only +30 % (median unchanged), $AB_TRIALS comparisons" >&2
    res=$(verdicts "$cond-ab-p99" "$AB_TRIALS" "${ab_cmd[@]}"); read -r n s <<<"$res"
    ok=$([ "$(at_least "$n" "$AB_TRIALS" 9 10)" -eq 1 ] && [ "$s" -le 40 ] && echo 1 || echo 0)
    row "$cond" "A/B, p99-only +30 %, median unchanged: caught (goal ≥ 90 %, ≤ 40 s)" "$n" "$AB_TRIALS" "$ok" "$s"
    stop_server "$PORT"
    stop_server "$PORT_B"
  fi

  if wants testbed; then
    # As if taken on another machine: a baseline under another testbed name, of a server 40 %
    # faster than the one the runs then measure. It must be shown, informational, never fail.
    echo "[$cond] another testbed: baseline of the server at 5ms as testbed other-machine" >&2
    start_server "$PORT" 5ms 500us
    "$BIN" baseline refresh "$SCENARIO" --base-url "http://127.0.0.1:$PORT" --baseline "$WORK/other-$cond.json" \
      --testbed other-machine --quiet >"$WORK/$cond-other.log" 2>&1 || { cat "$WORK/$cond-other.log" >&2; exit 3; }
    start_server "$PORT" 7ms 700us
    echo "[$cond] another testbed: the server 40 % slower, $TB_TRIALS runs" >&2
    local tb_cmd=("$BIN" run "$SCENARIO" --base-url "http://127.0.0.1:$PORT" --baseline "$WORK/other-$cond.json"
      --quiet --no-report --out "$WORK/{l}-{i}" ${EXTRA[@]+"${EXTRA[@]}"})
    res=$(verdicts "$cond-testbed" "$TB_TRIALS" "${tb_cmd[@]}"); read -r n s <<<"$res"
    row "$cond" "baseline from another testbed, run 40 % slower: failures (goal 0)" "$n" "$TB_TRIALS" "$(none "$n")" "$s"
    stop_server "$PORT"
  fi
}

for cond in $CONDITIONS; do
  [ "$cond" = noise ] && start_hog
  measure "$cond"
  [ "$cond" = noise ] && stop_hog
done

echo
echo "Gate accuracy: ${DURATION} s stored-baseline runs (+1 s warm-up), A/B with the default schedule, $VUS VUs, demo server 5 ms ± 0.5 ms, default settings; noise = a CPU hog beside every run${EXTRA[*]+; flags: ${EXTRA[*]}}; $(nproc 2>/dev/null || echo '?') CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') at the end."
echo
echo "| neighbour | row | result | time per run | goal met |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
[ "$ALL_MET" -eq 1 ]
