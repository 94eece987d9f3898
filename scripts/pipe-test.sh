#!/usr/bin/env bash
# scripts/pipe-test.sh: a closed pipe is the end of output, not a crash. Every command that
# prints on stdout is run twice:
#   - piped into `head -1`, as an operator would (the first line must arrive);
#   - with a stdout pipe whose reader is already closed, so that its first write meets EPIPE
#     for certain (head -1 may still be reading when a short output is written).
# Each must end as Unix tools do: its usual exit status, or killed by SIGPIPE (141 in a
# shell); never SIGILL (132), another signal or a Swift runtime error on stderr.
#
# Usage: scripts/pipe-test.sh   (EXITBLOCK=binary, default the debug build; `rules show`, and
# `stats` and `top` against an `exitblock run` bound to a queue, as root only, in a network
# namespace of their own)
# Ends with `pipe: N passed, M failed`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
ASSERT_NAME=pipe

exitblock=$(find_exitblock "$root") || exit 1
data="$root/../shared/data/tor"
list="$data/torbulkexitlist-2024-03-12"
consensus="$data/consensus-2022-11-19"
[[ -r "$list" && -r "$consensus" ]] || die "missing real data under $data"
listed=$(awk 'NF && $1 !~ /^#/ { print $1; exit }' "$list")
netns=""
daemon_pid=""
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-pipe.XXXXXX")

cleanup() {
    local rc=$?
    set +e
    [[ -z "$daemon_pid" ]] || { kill -KILL "$daemon_pid" && wait "$daemon_pid"; } 2>/dev/null
    [[ -z "$netns" ]] || ip netns del "$netns" 2>/dev/null
    rm -rf "$workdir"
    summarize_on_exit "$rc"
    ((failed == 0)) || rc=1
    exit "$rc"
}
trap cleanup EXIT

# closed_reader CMD...: run CMD with stdout a pipe whose read end is closed; prints its exit
# status as a shell would report it (128+N when killed by signal N).
closed_reader() {
    python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=open(os.environ["PIPE_ERR"], "wb"), stdin=subprocess.DEVNULL)
os.close(w)
print(128 - p.returncode if p.returncode < 0 else p.returncode)' "$@"
}

crashed() { grep -qiE 'fatal error|stack dump|backtrace|illegal instruction' "$1"; }

# try LABEL USUAL CMD...: both runs of CMD; USUAL is the exit status it has on a terminal.
try() {
    local label=$1 usual=$2 status first
    shift 2
    set +e
    "$@" 2>"$workdir/head.err" | head -1 >"$workdir/first"
    status=${PIPESTATUS[0]}
    set -e
    first=$(cat "$workdir/first")
    if [[ -n "$first" ]] && [[ "$status" == "$usual" || "$status" == 141 ]] && ! crashed "$workdir/head.err"; then
        pass "$label | head -1: first line \"${first:0:40}\", exit status $status"
    else
        fail "$label | head -1: exit status $status, first line \"$first\"; stderr: $(head -c 300 "$workdir/head.err")"
    fi
    status=$(PIPE_ERR="$workdir/closed.err" closed_reader "$@")
    if [[ "$status" == "$usual" || "$status" == 141 ]] && ! crashed "$workdir/closed.err"; then
        pass "$label > closed pipe: exit status $status"
    else
        fail "$label > closed pipe: exit status $status (usual $usual); stderr: $(head -c 300 "$workdir/closed.err")"
    fi
}

config="$workdir/exitblock.toml"
sed "s|^list = .*|list = [\"$list\"]|" "$root/dist/exitblock.toml" >"$config"

try "version" 0 "$exitblock" version
try "version --fields" 0 "$exitblock" version --fields
try "--help" 0 "$exitblock" --help
try "list parse (plain)" 0 "$exitblock" list parse "$list"
try "list parse --policy (consensus)" 0 "$exitblock" list parse --policy "$consensus"
try "check (listed)" 0 "$exitblock" check --list "$list" "$listed"
try "check (not listed)" 1 "$exitblock" check --list "$list" 192.0.2.1
try "config check" 0 "$exitblock" config check "$config"
try "rules show --dry-run" 0 "$exitblock" rules show --dry-run
try "rules show --nft" 0 "$exitblock" rules show --nft
try "bgp --dry-run (exabgp)" 0 "$exitblock" bgp --dry-run --no-cache --list "$list"
try "bgp --dry-run (bird)" 0 "$exitblock" bgp --dry-run --no-cache --speaker bird --list "$list"
if (($(id -u) == 0)); then
    netns="ebpipe$$"
    ip netns add "$netns"
    # Nothing installed in a new namespace: status 1, after the tables are printed.
    try "rules show (installed rules)" 1 ip netns exec "$netns" "$exitblock" rules show
    # stats and top read a running daemon (a queue bound in the namespace, no rules needed).
    sock="$workdir/stats.sock"
    ip netns exec "$netns" "$exitblock" run --queue 7 --list "$list" --stats-socket "$sock" --no-cache \
        >/dev/null 2>"$workdir/daemon.err" </dev/null &
    daemon_pid=$!
    wait_for 30 "the daemon to print ready" grep -q ready "$workdir/daemon.err" || die "exitblock run did not start"
    try "stats" 0 "$exitblock" stats --socket "$sock" --interval 0
    try "stats --json" 0 "$exitblock" stats --socket "$sock" --json
    # top refreshes until q or a closed pipe: its usual end here is the closed pipe.
    for round in 1 2 3; do
        try "top (round $round)" 141 "$exitblock" top --socket "$sock" --interval 0.2
    done
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || fail "exitblock run: exit status $? after SIGTERM"
    daemon_pid=""
else
    log "rules show: skipped (needs root for iptables)"
fi
summary
