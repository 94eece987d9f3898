#!/usr/bin/env bash
# Checks scripts/lib/bench_report.py against the tables the benchmark's former awk programs
# printed for the same recorded runs, with what was since added: the goals' per-round spread
# (checked by hand: packet+cache / ipset on mix10 reads 0.77, 1.17 and 0.79 in rounds 1 to
# 3) and a lossy run's kernel queue drops (fields 11 and 12 of its row)
# (results, syn-results: a synthetic sample of two mix profiles, two loads, ten modes and
# three rounds, with a listed packet passed and clean packets lost here and there, so that
# every check column and verdict shows).
# Usage: scripts/bench/report-sample/check.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
report="$here/../../lib/bench_report.py"
modes="none ct ipset cref exitblock exitblock-filter packet+dropcache packet+cache flow flow+cache"
status=0
compare() {
    local name=$1
    shift
    if diff -u "$here/$name.expected" <(python3 "$report" "$@"); then
        echo "bench report: $name as expected"
    else
        echo "bench report: $name differs" >&2
        status=1
    fi
}
compare mix10 mix mix10 "$modes" "max fixed" "$here/results"
compare syn syn "$here/syn-results"
compare goals goals "max fixed" "$here/results" "$here/syn-results"
compare bad bad "$here/results" "$here/syn-results"
exit "$status"
