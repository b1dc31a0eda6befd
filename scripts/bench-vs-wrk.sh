#!/usr/bin/env bash
# Holds perfgate's HTTP hot path against wrk.
#
# nginx (1 worker, `return 200 "ok"`, pinned to CPU 1) serves loopback on a free port. perfgate
# (`--threads 1`) and `wrk -t1 -c64` take turns against it, both pinned to CPU 0, each under
# /usr/bin/time. Prints requests/s, generator CPU seconds (user+sys), requests per CPU-second,
# peak RSS and the ratios perfgate/wrk (medians over the pairs). Then runs perfgate for 10 s
# and, with --long (or PERFGATE_BENCH_LONG=1), for 60 s, and prints both peak RSS values.
#
# Usage: scripts/bench-vs-wrk.sh [--pairs N] [--duration SECONDS] [--long] [--no-build]
# PERFGATE_BIN=path measures another perfgate binary (implies --no-build);
# PERFGATE_HTTP_CLIENT=hyper makes perfgate use hyper instead of its lean HTTP/1.1 client.
# Needs: nginx, wrk, taskset, /usr/bin/time (GNU time), cargo. Loopback only.

set -euo pipefail

PAIRS=3
DURATION=10
LONG=${PERFGATE_BENCH_LONG:-0}
BUILD=1
CONNS=64
while [[ $# -gt 0 ]]; do
    case "$1" in
    --pairs) PAIRS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --long) LONG=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

for tool in nginx wrk taskset cargo awk; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time (apt-get install time)" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d -t perfgate-bench.XXXXXX)
NGINX_PID=""
cleanup() {
    if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: random in a high range, not listened on.
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! ss -Htln "sport = :$p" | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

PORT=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$PORT;
        location / { return 200 "ok"; }
    }
}
EOF
taskset -c 1 nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx failed to start" >&2; cat "$TMP/nginx/logs/error.log" >&2; exit 3; }
    sleep 0.1
done
URL="http://127.0.0.1:$PORT"

PERFGATE=${PERFGATE_BIN:-}
if [[ -z "$PERFGATE" ]]; then
    if [[ $BUILD == 1 ]]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    PERFGATE="$ROOT/target/release/perfgate"
fi
[[ -x "$PERFGATE" ]] || { echo "no binary at $PERFGATE" >&2; exit 2; }

scenario() { # seconds
    cat >"$TMP/bench-$1.yaml" <<EOF
name: bench-vs-wrk
kind: load
target:
  base_url: $URL
  timeout: 5s
requests:
  - name: get
    path: /
load:
  model: closed
  stages:
    - { concurrency: $CONNS, duration: ${1}s }
EOF
    echo "$TMP/bench-$1.yaml"
}

# Each run appends "rps cpu_s rss_kib" to a file.
run_perfgate() { # seconds, outfile
    local sc out
    sc=$(scenario "$1")
    out="$TMP/out-$RANDOM"
    if ! /usr/bin/time -f "%U %S %M" -o "$TMP/time" \
        taskset -c 0 "$PERFGATE" run "$sc" --threads 1 --quiet --no-baseline --no-report \
        --out "$out" >"$TMP/perfgate.log" 2>&1; then
        echo "perfgate failed:" >&2
        cat "$TMP/perfgate.log" >&2
        exit 1
    fi
    local rps
    if command -v jq >/dev/null; then
        rps=$(jq -r '.totals.throughput_rps // empty' "$out/result.json")
    else # `totals` is the first object with a throughput_rps in result.json
        rps=$(grep -o '"throughput_rps": *[0-9.e+-]*' "$out/result.json" | head -1 | awk -F: '{print $2}')
    fi
    [[ -n "$rps" ]] || { echo "no totals.throughput_rps in $out/result.json" >&2; exit 1; }
    local max
    if command -v jq >/dev/null; then
        max=$(jq -r '.totals.latency_ms.max // 0' "$out/result.json")
    else
        max=0
    fi
    awk -v r="$rps" -v m="$max" '{printf "%s %.3f %d %s\n", r, $1 + $2, $3, m}' "$TMP/time" >>"$2"
    rm -rf "$out"
}

run_wrk() { # seconds, outfile
    if ! /usr/bin/time -f "%U %S %M" -o "$TMP/time" \
        taskset -c 0 wrk -t1 -c"$CONNS" -d"${1}s" "$URL/" >"$TMP/wrk.log" 2>&1; then
        echo "wrk failed:" >&2
        cat "$TMP/wrk.log" >&2
        exit 1
    fi
    local rps
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.log")
    [[ -n "$rps" ]] || { echo "cannot read Requests/sec from wrk:" >&2; cat "$TMP/wrk.log" >&2; exit 1; }
    if grep -q "Non-2xx\|Socket errors" "$TMP/wrk.log"; then
        echo "warning: wrk reported errors:" >&2
        grep "Non-2xx\|Socket errors" "$TMP/wrk.log" >&2
    fi
    awk -v r="$rps" '{printf "%s %.3f %d\n", r, $1 + $2, $3}' "$TMP/time" >>"$2"
}

# Median of column $2 of file $1.
median() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "load: $(uptime | sed 's/.*load average: //')"
echo "nginx on $URL (CPU 1); generators on CPU 0; $CONNS connections, ${DURATION}s, $PAIRS pairs"
: >"$TMP/pg" && : >"$TMP/wrk"
for i in $(seq 1 "$PAIRS"); do
    run_perfgate "$DURATION" "$TMP/pg"
    run_wrk "$DURATION" "$TMP/wrk"
    printf "pair %d: perfgate %s | wrk %s\n" "$i" "$(tail -1 "$TMP/pg")" "$(tail -1 "$TMP/wrk")"
done

# Per run: rps, cpu, rps*duration/cpu (requests per CPU-second), rss.
summarize() { # file -> "rps cpu req_per_cpu rss_mib" (medians)
    awk -v d="$DURATION" '{printf "%s %s %.0f %s\n", $1, $2, ($2 > 0 ? $1 * d / $2 : 0), $3 / 1024}' "$1" >"$1.s"
    echo "$(median "$1.s" 1) $(median "$1.s" 2) $(median "$1.s" 3) $(median "$1.s" 4)"
}
read -r pg_rps pg_cpu pg_rpc pg_rss <<<"$(summarize "$TMP/pg")"
read -r wk_rps wk_cpu wk_rpc wk_rss <<<"$(summarize "$TMP/wrk")"
echo
echo "medians over $PAIRS pairs (${DURATION}s each)"
printf "%-10s %12s %10s %14s %10s\n" tool "req/s" "CPU s" "req/CPU-s" "RSS MiB"
printf "%-10s %12.0f %10.2f %14.0f %10.1f\n" perfgate "$pg_rps" "$pg_cpu" "$pg_rpc" "$pg_rss"
printf "%-10s %12.0f %10.2f %14.0f %10.1f\n" wrk "$wk_rps" "$wk_cpu" "$wk_rpc" "$wk_rss"
awk -v a="$pg_rps" -v b="$wk_rps" -v c="$pg_cpu" -v d="$wk_cpu" -v e="$pg_rpc" -v f="$wk_rpc" \
    -v g="$pg_rss" -v h="$wk_rss" \
    'BEGIN {printf "%-10s %12.2f %10.2f %14.2f %10.2f\n", "ratio", a / b, c / d, e / f, g / h}'
# Pairs ran back to back, so their own ratios cancel slow drifts in machine load.
paste -d' ' "$TMP/pg.s" "$TMP/wrk.s" | awk '{print $1 / $5, $3 / $7}' >"$TMP/pairs"
printf "per-pair ratios (median): req/s %.2f, req/CPU-s %.2f\n" "$(median "$TMP/pairs" 1)" "$(median "$TMP/pairs" 2)"

echo
echo "memory flat in run length (perfgate, $CONNS connections)"
: >"$TMP/mem10"
run_perfgate 10 "$TMP/mem10"
# Histograms size themselves to the largest latency seen, so RSS follows max latency.
awk '{printf "  10s: peak RSS %.1f MiB (max latency %.1f ms)\n", $3 / 1024, $4}' "$TMP/mem10"
if [[ $LONG == 1 ]]; then
    : >"$TMP/mem60"
    run_perfgate 60 "$TMP/mem60"
    awk '{printf "  60s: peak RSS %.1f MiB (max latency %.1f ms)\n", $3 / 1024, $4}' "$TMP/mem60"
else
    echo "  60s: skipped (pass --long or set PERFGATE_BENCH_LONG=1)"
fi
