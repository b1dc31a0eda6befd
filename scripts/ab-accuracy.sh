#!/usr/bin/env bash
# How often `perfgate ab` is right, with its default settings: two demo servers, A and B,
# compared TRIALS times in each of three cases:
#
#   1. A/A: both at 5 ms ± 1 ms — count failures (goal: 0 of TRIALS);
#   2. B +10 %: 5.5 ms ± 1.1 ms — count the regressions caught (goal ≥ 19 of 20);
#   3. B p99-only +30 %: 5 ms ± 2.8 ms against 5 ms ± 1 ms (uniform jitter: the median stays
#      at 5 ms, p99 goes from about 5.98 to 7.74 ms) — count caught (goal ≥ 18 of 20).
#
# Usage: scripts/ab-accuracy.sh [TRIALS] [--noise] [EXTRA PERFGATE AB FLAGS...]
#        (default 20 trials; each comparison lasts about 36 s with the defaults)
#   --noise  runs one CPU-hogging busy loop per CPU beside it for the whole measurement.
# SLICE=300ms PAIRS=3 shorten every comparison (to check the script, not the gate).
# KEEP=1 keeps every comparison's result.json and log; BIN=path uses that perfgate binary
# instead of building a release one.
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=${1:-20}
shift || true
NOISE=""
if [ "${1:-}" = "--noise" ]; then NOISE=1; shift; fi
EXTRA=("$@")
[ -n "${SLICE:-}" ] && EXTRA+=(--slice "$SLICE" --slice-warmup 100ms)
[ -n "${PAIRS:-}" ] && EXTRA+=(--pairs "$PAIRS")
PORT_A=${PORT_A:-18091}
PORT_B=${PORT_B:-18092}
SCENARIO=scripts/ab-accuracy.yaml
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "comparisons kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/perfgate
fi

SERVER_A="" SERVER_B=""
start_server() { # var port latency jitter
  local var=$1 port=$2 old=${!1}
  [ -n "$old" ] && { kill "$old" 2>/dev/null || true; wait "$old" 2>/dev/null || true; }
  "$BIN" demo-server --addr "127.0.0.1:$port" --latency "$3" --jitter "$4" >/dev/null &
  printf -v "$var" '%s' "$!"
  PIDS+=("$!")
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo server on port $port did not start" >&2
  exit 3
}

if [ -n "$NOISE" ]; then
  for _ in $(seq "$(nproc)"); do
    sh -c 'while :; do :; done' &
    PIDS+=("$!")
  done
  echo "noise: $(nproc) busy loops running beside the comparisons" >&2
fi

compare_many() { # label -> prints how many comparisons failed (exit 1)
  local label=$1 failed=0 code
  for i in $(seq "$TRIALS"); do
    set +e
    "$BIN" ab "$SCENARIO" --a "http://127.0.0.1:$PORT_A" --b "http://127.0.0.1:$PORT_B" \
      --quiet --no-report --out "$WORK/$label-$i" ${EXTRA[@]+"${EXTRA[@]}"} >"$WORK/$label-$i.log" 2>&1
    code=$?
    set -e
    case $code in
      0) ;;
      1) failed=$((failed + 1)) ;;
      *) echo "comparison $label-$i failed with exit $code:" >&2; cat "$WORK/$label-$i.log" >&2; exit 3 ;;
    esac
    printf '  %s %2d: exit %d  %s\n' "$label" "$i" "$code" \
      "$(grep -oE '│ (p50|p99|throughput) +│[^│]+│[^│]+│[^│]+│[^│]+│[^│]+│ [a-z_]+' "$WORK/$label-$i.log" \
        | awk -F'│' '{gsub(/ +/, " "); printf "%s%s%s; ", $2, $5, $8}')" >&2
  done
  echo "$failed"
}

start_server SERVER_A "$PORT_A" 5ms 1ms
start_server SERVER_B "$PORT_B" 5ms 1ms
echo "A/A: both at 5ms ± 1ms, $TRIALS comparisons:" >&2
same=$(compare_many same)

start_server SERVER_B "$PORT_B" 5500us 1100us
echo "B +10%: 5.5ms ± 1.1ms, $TRIALS comparisons:" >&2
slower=$(compare_many slower)

start_server SERVER_B "$PORT_B" 5ms 2800us
echo "B p99-only +30%: 5ms ± 2.8ms, $TRIALS comparisons:" >&2
tail=$(compare_many tail)

echo
echo "perfgate ab ${EXTRA[*]+${EXTRA[*]} }${NOISE:+with a CPU hog beside it}"
echo "| case | failed | goal |"
echo "|---|---|---|"
echo "| A/A | $same of $TRIALS | 0 |"
echo "| B +10 % | $slower of $TRIALS | ≥ 95 % |"
echo "| B p99-only +30 % | $tail of $TRIALS | ≥ 90 % |"
