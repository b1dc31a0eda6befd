#!/usr/bin/env bash
# Tracks perfgate's memory per virtual user: peak RSS of the generator for closed-model runs of
# N virtual users (reached in 1-second steps of N/5, then held) with 1 s think time against `perfgate demo-server` in a separate process (so
# the server's own memory is not counted), and the bytes per VU above a 1-VU run.
#
# Usage: scripts/mem-per-vu.sh [--duration SECONDS] [--no-build] [VUS ...]   (default 1000 10000 20000)
# PERFGATE_BIN=path measures another perfgate binary (implies --no-build).
# A count that needs more file descriptors than the hard limit allows (`ulimit -Hn`, for the
# generator or the server) is reported as refused: perfgate checks before the run (exit 2).
# Needs: /usr/bin/time (GNU time), cargo. Loopback only.

set -euo pipefail

DURATION=10
BUILD=1
VUS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "unknown argument: $1" >&2; exit 2 ;;
    *) VUS+=("$1"); shift ;;
    esac
done
[[ ${#VUS[@]} -gt 0 ]] || VUS=(1000 10000 20000)
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time (apt-get install time)" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d -t perfgate-mem.XXXXXX)
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PERFGATE=${PERFGATE_BIN:-}
if [[ -z "$PERFGATE" ]]; then
    if [[ $BUILD == 1 ]]; then
        (cd "$ROOT" && cargo build --release --quiet --bin perfgate)
    fi
    PERFGATE="$ROOT/target/release/perfgate"
fi
[[ -x "$PERFGATE" ]] || { echo "no binary at $PERFGATE" >&2; exit 2; }

# The demo server on a free port, in its own process; its ready line names the address.
ulimit -n "$(ulimit -Hn)"
"$PERFGATE" demo-server --addr 127.0.0.1:0 --latency 1ms --jitter 0ms >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(grep -o 'http://[0-9.:]*' "$TMP/server.log" || true)
    [[ -n "$URL" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "demo server failed:" >&2; cat "$TMP/server.log" >&2; exit 3; }
    sleep 0.1
done
[[ -n "$URL" ]] || { echo "demo server did not start" >&2; exit 3; }

# Stages that open the connections in five steps of a second (a listen backlog takes a few
# thousand at once; more are dropped and retried seconds later).
ramp() {
    local step
    for step in 1 2 3 4; do
        echo "    - { concurrency: $(( ($1 * step + 4) / 5 )), duration: 1s }"
    done
}

# One closed-model run of $1 VUs; prints "peak_rss_kib exit_code requests".
measure() {
    local vus=$1 sc="$TMP/vus-$1.yaml" out="$TMP/out-$1"
    cat >"$sc" <<EOF
name: mem-per-vu
kind: load
target:
  base_url: $URL
  timeout: 10s
requests:
  - name: get
    path: /items/7
load:
  model: closed
  think_time: 1s
  stages:
$(ramp "$vus")
    - { concurrency: $vus, duration: ${DURATION}s }
EOF
    local code=0
    /usr/bin/time -f "%M" -o "$TMP/time" "$PERFGATE" run "$sc" --quiet --no-baseline \
        --no-report --out "$out" >"$TMP/run-$vus.log" 2>&1 || code=$?
    local rss requests=""
    rss=$(tail -n 1 "$TMP/time")
    if [[ -f "$out/result.json" ]]; then
        requests=$(grep -o '"requests": *[0-9]*' "$out/result.json" | head -n 1 | grep -o '[0-9]*$')
    fi
    echo "$rss $code ${requests:-0}"
}

read -r base_rss _ _ < <(measure 1)
printf '%-8s %14s %12s %10s %6s\n' VUS "PEAK_RSS_MIB" "BYTES/VU" REQUESTS EXIT
printf '%-8s %14.1f %12s %10s %6s\n' 1 "$(awk "BEGIN{print $base_rss/1024}")" - - -
for n in "${VUS[@]}"; do
    read -r rss code requests < <(measure "$n")
    if [[ $code == 2 ]]; then
        printf '%-8s %14s %12s %10s %6s   %s\n' "$n" refused - - "$code" \
            "$(grep -m1 -i 'file descriptor' "$TMP/run-$n.log" || head -n 1 "$TMP/run-$n.log")"
        continue
    fi
    per_vu=$(((rss - base_rss) * 1024 / n))
    printf '%-8s %14.1f %12d %10s %6s\n' "$n" "$(awk "BEGIN{print $rss/1024}")" "$per_vu" \
        "$requests" "$code"
done
