#!/usr/bin/env bash
# scripts/noexec-test.sh: the daemon as the package starts it (a non-root user with only an
# ambient CAP_NET_ADMIN, through setpriv) does every kernel operation over netlink: with the
# `rules install` default layout (iptables-legacy and iptables-nft) and with the `rules show
# --nft` ruleset, strace -f -e trace=execve sees no program started by the running daemon;
# with the iptables layouts, a 3 s UDP flood from 200 listed sources is judged in user space
# for under 5% of its packets (the drop cache takes the rest in the kernel). Needs root,
# strace and setpriv; no network beyond the lab.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-nx$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=noexec

QUEUE=${NOEXEC_QUEUE:-17}
SOURCES=${NOEXEC_SOURCES:-200}
SECONDS_OF_FLOOD=${NOEXEC_FLOOD_SECONDS:-3}
GOAL_PERCENT=${NOEXEC_GOAL_PERCENT:-5}
PYTHON=${PYTHON:-python3}
daemon_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" noexec "$daemon_pid" ""; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gw() { in_ns "$LAB_GW" "$@"; }

# start_daemon NAME: exitblock run in the gateway as nobody with an ambient CAP_NET_ADMIN,
# under strace (execve of every thread and child); waits for "ready".
start_daemon() {
    local name=$1
    sock="$workdir/$name.sock"
    daemon_err="$workdir/daemon-$name.err"
    trace="$workdir/execve-$name.trace"
    ip netns exec "$LAB_GW" strace -f -e trace=execve -o "$trace" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+net_admin \
        --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin \
        "$exitblock" run --queue "$QUEUE" --list "$workdir/exits.list" --stats-socket "$sock" --no-cache \
        >"$workdir/daemon-$name.out" 2>"$daemon_err" </dev/null &
    daemon_pid=$!
    wait_for 30 "exitblock ($name) to print ready" grep -q ready "$daemon_err" || die "$name: exitblock did not start"
    pass "$name: started as nobody; $(grep -m1 -o 'drop cache: .*' "$daemon_err" || echo 'no drop cache line')"
}

# stop_daemon: TERM to exitblock itself (setpriv's pid, which it took over: the first pid of
# the trace), not to strace, which would only detach from it.
stop_daemon() {
    local pid
    pid=$(awk 'NR == 1 { print $1 }' "$trace")
    kill -TERM "$pid" 2>/dev/null || true
    wait_for 10 "exitblock to exit" not_running "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait "$daemon_pid" || true
    daemon_pid=""
}

# execs NAME: the programs started under strace other than setpriv and exitblock themselves.
execs() {
    grep 'execve(' "$trace" | grep -v -e 'execve("/usr/bin/setpriv"' -e "execve(\"$exitblock\"" |
        grep -v 'resumed' | grep -c . || true
}

judged() {
    curl -sS --max-time 5 --unix-socket "$sock" http://localhost/stats | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(sum(q["counters"]["ipv4"] for q in d["stats"]["queues"]))'
}

# flood: UDP from every listed source to the server for SECONDS_OF_FLOOD; prints packets sent.
flood() {
    in_ns "$LAB_CLIENT" "$PYTHON" -c '
import socket, sys, time
sources, target, seconds = sys.argv[1].split(","), sys.argv[2], float(sys.argv[3])
socks = []
for s in sources:
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    k.bind((s, 0)); k.setblocking(False); socks.append(k)
sent, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    for k in socks:
        try:
            k.sendto(b"x" * 32, (target, 9)); sent += 1
        except OSError:
            pass
print(sent)' "$(
        IFS=,
        echo "${listed[*]}"
    )" "$LAB_SERVER4" "$SECONDS_OF_FLOOD"
}

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables, strace)"
for tool in ip nft iptables strace setpriv curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-noexec.XXXXXX")
chmod 1777 "$workdir"
log "noexec: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE"
lab_up || die "lab setup failed"
lab_wait_ready || die "lab paths not ready"

listed=()
for ((i = 0; i < SOURCES; i++)); do listed+=("198.51.100.$((20 + i))"); done
lab_add_client_addrs "${listed[@]}"
printf '%s\n' "${listed[@]}" >"$workdir/exits.list"
chmod 644 "$workdir/exits.list"

for backend in legacy nft; do
    log ""
    log "== iptables-$backend, rules install defaults"
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" >"$workdir/install-$backend.out" 2>&1 ||
        die "rules install failed: $(cat "$workdir/install-$backend.out")"
    start_daemon "$backend"
    grep -q 'drop cache: on for ipv4' "$daemon_err" || fail "$backend: the drop cache is on"
    sent=$(flood)
    count=$(judged)
    share=$("$PYTHON" -c "print(f'{100 * $count / max($sent, 1):.2f}')")
    log "  $backend: flood of $sent packets from $SOURCES listed sources in ${SECONDS_OF_FLOOD} s: $count judged in user space ($share%)"
    if "$PYTHON" -c "import sys; sys.exit(0 if $share < $GOAL_PERCENT else 1)"; then
        pass "$backend: judged in user space $share% < $GOAL_PERCENT%"
    else
        fail "$backend: judged in user space $share% (goal < $GOAL_PERCENT%)"
    fi
    n=$(execs)
    check_eq "$backend: the running daemon started no program (execve under strace)" 0 "$n"
    stop_daemon
    gw "$exitblock" rules remove --backend "$backend" --queue "$QUEUE" >>"$workdir/install-$backend.out" 2>&1 ||
        die "rules remove failed"
done

log ""
log "== nft ruleset of rules show --nft"
"$exitblock" rules show --nft --queue "$QUEUE" --no-queue-bypass | sed -e '/queue num/d' >"$workdir/loaded.nft"
gw nft -f "$workdir/loaded.nft" || die "nft -f of the rendered ruleset failed"
start_daemon nftset
grep -q 'in the nftables sets' "$daemon_err" || fail "nftset: the caches are in the nftables sets"
# Three counter polls (once a second), the probe and the allowlist mirror have run by then.
sleep 3
check_eq "nftset: the running daemon started no program (execve under strace)" 0 "$(execs)"
stop_daemon
gw nft delete table inet exitblock

summary
