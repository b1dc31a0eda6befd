#!/usr/bin/env bash
# Runs one scenario as N load generators on this machine, the way several machines (or a
# Kubernetes Indexed Job) would: N processes `perfgate run --segment i/N`, all with one
# `--start-at` a few seconds ahead and the run id it implies, then `perfgate merge` over their
# results, which judges the whole load (thresholds, baseline) and whose exit code is the
# gate's. For development, and to check that N generators measure what one does.
#
# Usage: scripts/distributed-local.sh N SCENARIO [RUN FLAGS...]
#   RUN FLAGS go to every `perfgate run` (e.g. --base-url http://127.0.0.1:8080). A scenario
#   with `base_url: embedded` gives each process its own demo server; to load one server,
#   start `perfgate demo-server` and pass --base-url.
# Env:
#   PERFGATE      the binary (default: perfgate on PATH, else target/release or target/debug)
#   OUT           results folder (default: reports/distributed); segments in OUT/segment-I,
#                 (each one's summary in OUT/segment-I.log), the merged, judged result in
#                 OUT/merged
#   START_IN      seconds between now and the common start (default 3)
#   MERGE_FLAGS   extra flags for `perfgate merge` (e.g. "--no-baseline --no-report")
# Exit code: a generator's (2 or 3) when one fails, else the merge's (0 pass, 1 gate failed).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | cut -c3-; }
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [[ $# -lt 2 ]]; then usage >&2; exit 2; fi
N=$1
SCENARIO=$2
shift 2
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a whole number from 1, not '$N'" >&2; exit 2; }
[[ -f "$SCENARIO" ]] || { echo "no scenario file '$SCENARIO'" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${PERFGATE:-}" ]]; then
    if command -v perfgate >/dev/null 2>&1; then
        PERFGATE=$(command -v perfgate)
    elif [[ -x "$ROOT/target/release/perfgate" ]]; then
        PERFGATE=$ROOT/target/release/perfgate
    elif [[ -x "$ROOT/target/debug/perfgate" ]]; then
        PERFGATE=$ROOT/target/debug/perfgate
    else
        echo "no perfgate binary: build one (cargo build --release) or set PERFGATE" >&2
        exit 2
    fi
fi
OUT=${OUT:-reports/distributed}
START_IN=${START_IN:-3}

# One instant for every generator: GNU date, else BSD date (macOS).
if START_AT=$(date -u -d "+${START_IN} seconds" +%Y-%m-%dT%H:%M:%S.%3NZ 2>/dev/null); then :
else START_AT=$(date -u -v "+${START_IN}S" +%Y-%m-%dT%H:%M:%SZ); fi

rm -rf "$OUT"
mkdir -p "$OUT"
echo "distributed-local: $N generators of $SCENARIO starting at $START_AT" >&2
PIDS=()
for i in $(seq 1 "$N"); do
    "$PERFGATE" run "$SCENARIO" --segment "$i/$N" --start-at "$START_AT" \
        --out "$OUT/segment-$i" --quiet --no-report "$@" \
        >"$OUT/segment-$i.log" 2> >(sed "s/^/[segment $i\/$N] /" >&2) &
    PIDS+=($!)
done
FAILED=0
for i in "${!PIDS[@]}"; do
    code=0
    wait "${PIDS[$i]}" || code=$?
    if [[ $code -ne 0 ]]; then
        echo "distributed-local: segment $((i + 1))/$N exited with $code" >&2
        [[ $FAILED -eq 0 ]] && FAILED=$code
    fi
done
[[ $FAILED -eq 0 ]] || exit "$FAILED"

RESULTS=()
for i in $(seq 1 "$N"); do RESULTS+=("$OUT/segment-$i/result.json"); done
code=0
# shellcheck disable=SC2086 # MERGE_FLAGS is a list of flags
"$PERFGATE" merge "${RESULTS[@]}" --out "$OUT/merged" ${MERGE_FLAGS:-} || code=$?
echo "distributed-local: merged result in $OUT/merged/result.json (exit $code)" >&2
exit $code
