#!/usr/bin/env bash
# scripts/rss-measure.sh: the daemon's memory after start with a real list. In a network
# namespace of its own (loopback only), installs the queue rules (`rules install --queue 0
# --queue-bypass`), starts `exitblock run --list LIST --queue 0`, waits for "ready" and then
# SETTLE seconds, and prints VmRSS, VmHWM and RssAnon from /proc/PID/status and the binary's
# size. Stops the daemon and deletes the namespace on exit. Needs root.
#
# Usage: scripts/rss-measure.sh [LIST]   (default: ../shared/data/tor/consensus-2022-11-19)
# Environment: EXITBLOCK (default .build/debug/exitblock), SETTLE (default 3 seconds).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list=${1:-$root/../shared/data/tor/consensus-2022-11-19}
exitblock=${EXITBLOCK:-$root/.build/debug/exitblock}
settle=${SETTLE:-3}
ns="ebrss$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-rss.XXXXXX")
pid=""

cleanup() {
    set +e
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null
    fi
    ip netns exec "$ns" "$exitblock" rules remove >/dev/null 2>&1
    ip netns del "$ns" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

(($(id -u) == 0)) || {
    echo "rss-measure: needs root (network namespace, rules)" >&2
    exit 1
}
[[ -x "$exitblock" ]] || {
    echo "rss-measure: no binary at $exitblock (set EXITBLOCK)" >&2
    exit 1
}
[[ -r "$list" ]] || {
    echo "rss-measure: cannot read $list" >&2
    exit 1
}

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" "$exitblock" rules install --queue 0 --queue-bypass >"$work/rules.out" 2>&1 || {
    cat "$work/rules.out" >&2
    exit 1
}
ip netns exec "$ns" "$exitblock" run --list "$list" --queue 0 --state-directory "$work/state" \
    --stats-socket "$work/stats.sock" >"$work/run.out" 2>"$work/run.err" </dev/null &
pid=$!
for ((i = 0; i < 600; i++)); do
    grep -q ready "$work/run.err" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
grep -q ready "$work/run.err" || {
    echo "rss-measure: the daemon did not get ready:" >&2
    cat "$work/run.err" >&2
    exit 1
}
sleep "$settle"
printf 'binary: %s (%s bytes)\n' "$exitblock" "$(stat -c %s "$exitblock")"
printf 'list: %s\n' "$list"
grep -m1 -i 'loaded\|entries' "$work/run.err" || true
grep -E '^(VmRSS|VmHWM|RssAnon|RssFile|Threads):' "/proc/$pid/status"
