#!/usr/bin/env bash
# Loads a perfgate report.html in headless Chromium and checks that
#   1. the page logs nothing to the JS console (the report has no scripts, so any console
#      message - an uncaught exception, a failed resource load, a CSP complaint - is a bug),
#   2. all six charts are in the rendered DOM, each with drawn content,
#   3. a screenshot can be taken (written to OUT.png for a person to look at).
# Exits non-zero on the first failure.
#
# Console messages are read from Chromium's own log (`--enable-logging=stderr --v=1`), where
# every console call and uncaught exception appears as an `INFO:CONSOLE` line; this was
# checked against a page that calls console.error() and an undefined function.
#
# Usage: scripts/browser-check.sh REPORT.html OUT.png
# Env:   CHROMIUM (default /usr/bin/chromium), BROWSER_CHECK_TIMEOUT (seconds, default 60)
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 REPORT.html OUT.png" >&2
    exit 2
fi
report=$1
out=$2
chromium=${CHROMIUM:-/usr/bin/chromium}
limit=${BROWSER_CHECK_TIMEOUT:-60}

if [[ ! -f $report ]]; then
    echo "browser-check: no such file: $report" >&2
    exit 2
fi
if [[ ! -x $chromium ]]; then
    echo "browser-check: chromium not found at $chromium (set CHROMIUM)" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"

flags=(
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --hide-scrollbars
)

fail() {
    echo "browser-check: FAIL: $*" >&2
    exit 1
}

# 1 + 2: load the page, log the console, dump the rendered DOM.
if ! timeout "$limit" "$chromium" "${flags[@]}" --user-data-dir="$work/profile-dom" \
    --enable-logging=stderr --v=1 --dump-dom "$url" >"$work/dom.html" 2>"$work/chromium.log"; then
    tail -n 20 "$work/chromium.log" >&2
    fail "chromium could not load $report"
fi

if grep -E 'CONSOLE[:(]' "$work/chromium.log" >"$work/console.txt"; then
    cat "$work/console.txt" >&2
    fail "the page wrote to the JS console ($(wc -l <"$work/console.txt") messages)"
fi

[[ -s $work/dom.html ]] || fail "empty DOM"
grep -q '</html>' "$work/dom.html" || fail "the DOM dump is incomplete"

svgs=$(grep -o '<svg' "$work/dom.html" | wc -l)
[[ $svgs -eq 6 ]] || fail "expected 6 charts (<svg>), found $svgs"
for chart in latency throughput distribution stages machine sut; do
    # The figure, then its svg, then at least one drawn shape before the svg ends.
    awk -v id="chart-$chart" '
        index($0, "id=\"" id "\"") { inside = 1 }
        inside && /<svg/ { svg = 1 }
        svg && /<(polyline|path|rect|circle)/ { shapes++ }
        svg && /<\/svg>/ { exit }
        END { exit !(shapes > 0) }
    ' "$work/dom.html" || fail "chart $chart is missing or empty in the rendered DOM"
done

# 3: screenshot of the top of the page (header, charts, first tables).
rm -f "$out"
if ! timeout "$limit" "$chromium" "${flags[@]}" --user-data-dir="$work/profile-shot" \
    --window-size=1280,2400 --screenshot="$out" "$url" >"$work/shot.log" 2>&1; then
    tail -n 20 "$work/shot.log" >&2
    fail "chromium could not take a screenshot"
fi
[[ -s $out ]] || fail "no screenshot written to $out"

echo "browser-check: ok: $report (no console messages, 6 charts); screenshot: $out"
