#!/usr/bin/env bash
# scripts/flow-test.sh: flow mode of `exitblock run` on a three-namespace lab (lib/netns.sh),
# IPv4 and IPv6. Needs root; no network beyond the lab.
#
# The gateway queues only the first packet of each connection:
#   iptables/ip6tables -t mangle -A FORWARD -m conntrack --ctstate NEW -j NFQUEUE --queue-num Q
# (mangle, where `exitblock rules install --mode flow` puts it)
# and exitblock runs with --mode flow. Asserts, for both families:
#   1. new connections (TCP, UDP, ping) from listed sources are dropped, from clean ones pass;
#   2. established TCP flows are never queued: while 20 bursts per flow cross the gateway,
#      the NFQUEUE rules' packet counters and exitblock's packet counter stay put;
#   3. a TCP connection established from an address before it is listed is cut within one
#      reload after the list gains the address (SIGHUP): its conntrack entry is gone
#      (conntrack -L in the gateway), exitblock counted the deletion, and its next sends no
#      longer reach the server, while a clean flow that lived through the same reload still
#      delivers; a new connection from the address is refused too;
#   4. a restart with a longer list deletes the entries of every listed address at start, so
#      a flow established while exitblock was stopped is cut.
#
# Where the expected values come from: the server counts bytes per source (flow_peer.py
# serve) and the clients report what they sent; the kernel's rule counters and conntrack
# table; exitblock's /metrics.
#
# Ends with `flow: N passed, M failed`; exits non-zero if anything failed.
# Environment: EXITBLOCK (binary; default: the debug build), FLOW_QUEUE (default 11),
#   IPTABLES, IP6TABLES, FLOW_KEEP=1 (keep the work directory).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID="flow$$"
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=flow

QUEUE=${FLOW_QUEUE:-11}
IPT=${IPTABLES:-iptables}
IP6T=${IP6TABLES:-ip6tables}
PYTHON=${PYTHON:-python3}
PORT=5601      # short connections (traffic.py)
FLOW_PORT=5602 # long-lived connections (flow_peer.py)
CHUNK=10000    # bytes per burst of a long-lived flow
TRAFFIC="$root/scripts/traffic.py"
PEER="$root/scripts/lib/flow_peer.py"

daemon_pid=""
workdir=""
declare -A client_pid=()

cleanup() { lab_test_cleanup "$?" flow "$daemon_pid" "${client_pid[@]}"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# metric NAME: the sum of every sample of NAME in exitblock's /metrics.
metric() { metric_sum "$1" "$workdir/stats.sock"; }

# queued: packets counted by the NFQUEUE rules of both families.
queued() {
    local tool sum=0 n
    for tool in "$IPT" "$IP6T"; do
        n=$(in_ns "$LAB_GW" "$tool" -w 5 -t mangle -L FORWARD -v -x -n | awk '$3 == "NFQUEUE" { s += $1 } END { print s + 0 }')
        sum=$((sum + n))
    done
    printf '%s\n' "$sum"
}

# ct_entries ADDR: conntrack entries of long-lived flows from ADDR in the gateway.
ct_entries() {
    local family=ipv4
    [[ "$1" == *:* ]] && family=ipv6
    in_ns "$LAB_GW" conntrack -L -f "$family" -p tcp -s "$1" --dport "$FLOW_PORT" 2>/dev/null | grep -c . || true
}

# received ADDR: bytes the long-lived flow server got from ADDR.
received() {
    "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"].get(sys.argv[2], 0))' \
        "$workdir/flows.json" "$1"
}

# client_field NAME FIELD: a field of a long-lived client's state file.
client_field() {
    "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$workdir/client-$1.json" "$2"
}

# start_client NAME SRC: a long-lived connection from SRC to the server; waits until connected.
start_client() {
    local name=$1 src=$2 dst=$LAB_SERVER4
    [[ "$src" == *:* ]] && dst=$LAB_SERVER6
    ip netns exec "$LAB_CLIENT" "$PYTHON" "$PEER" client --src "$src" --dst "$dst" --port "$FLOW_PORT" \
        --chunk "$CHUNK" --state "$workdir/client-$name.json" 2>"$workdir/client-$name.err" &
    client_pid[$name]=$!
    wait_for 10 "client $name to connect" test -s "$workdir/client-$name.json" || die "client $name did not start"
    [[ "$(client_field "$name" connected)" == True ]] || die "client $name could not connect: $(client_field "$name" error)"
}

# burst NAME: the client sends one chunk; waits until it reports the send.
burst() {
    local name=$1 before
    before=$(client_field "$name" sent)
    kill -USR1 "${client_pid[$name]}"
    wait_for 5 "client $name to send" sent_more "$name" "$before" || die "client $name did not send"
}
sent_more() { (($(client_field "$1" sent) > $2)); }

# delivered NAME SRC: the server got everything client NAME sent.
delivered() { (($(received "$2") == $(client_field "$1" sent))); }

# ---------------------------------------------------------------------------------------

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables, conntrack)"
for tool in ip "$IPT" "$IP6T" conntrack curl awk "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-flow.XXXXXX")
log "flow: exitblock = $exitblock; queue $QUEUE; $IPT/$IP6T"
lab_up || die "lab setup failed"

early4=${LAB_LISTED4[0]}
early6=${LAB_LISTED6[0]}
late4=${LAB_LISTED4[1]} # connects while clean, is listed later
late6=${LAB_LISTED6[1]}
clean4=${LAB_CLEAN4[0]}
clean6=${LAB_CLEAN6[0]}
list="$workdir/exits.list"
printf '# flow test list\n%s\n%s\n' "$early4" "$early6" >"$list"

start_daemon "$workdir/exitblock" -- --mode flow --queue "$QUEUE" --list "$list" --stats-socket "$workdir/stats.sock" ||
    die "exitblock did not start"
check "exitblock started in flow mode and can reach ctnetlink" \
    grep -q "flow mode: conntrack entries of newly listed addresses are deleted" "$workdir/exitblock.err"

for tool in "$IPT" "$IP6T"; do
    in_ns "$LAB_GW" "$tool" -w 5 -t mangle -A FORWARD -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$QUEUE"
done

ip netns exec "$LAB_SERVER" "$PYTHON" "$TRAFFIC" serve --port "$PORT" --out "$workdir/short.json" \
    --ready "$workdir/short.ready" --deadline 120 2>"$workdir/short.err" &
short_pid=$!
ip netns exec "$LAB_SERVER" "$PYTHON" "$PEER" serve --port "$FLOW_PORT" --out "$workdir/flows.json" \
    --ready "$workdir/flows.ready" --deadline 120 2>"$workdir/flows.err" &
client_pid[server]=$!
wait_for 10 "servers to listen" test -e "$workdir/short.ready" -a -e "$workdir/flows.ready" || die "servers did not start"

# ---------------------------------------------------------------------------------------
log ""
log "== new connections: listed sources dropped, clean sources pass"

short() { # short SRC TAG: 3 UDP datagrams, 3 TCP connections, 2 pings
    local src=$1 dst=$LAB_SERVER4 fam=-4
    [[ "$src" == *:* ]] && dst=$LAB_SERVER6 fam=-6
    ip netns exec "$LAB_CLIENT" timeout 30 "$PYTHON" "$TRAFFIC" send --src "$src" --dst "$dst" --port "$PORT" \
        --count 3 --timeout 0.5 >"$workdir/$2.send.json"
    ip netns exec "$LAB_CLIENT" timeout 10 ping "$fam" -n -q -c 2 -i 0.2 -W 1 -I "$src" "$dst" >"$workdir/$2.ping" 2>&1 ||
        true
}
for entry in "$early4:listed4" "$early6:listed6" "$clean4:clean4" "$clean6:clean6"; do
    short "${entry%:*}" "${entry##*:}"
done
kill -TERM "$short_pid"
wait "$short_pid" || die "traffic server failed"
for tag in listed4 listed6 clean4 clean6; do
    read -ra t <<<"$("$PYTHON" "$TRAFFIC" tally --server "$workdir/short.json" "$workdir/$tag.send.json")"
    udp=$(kv udp_received "${t[@]}")
    echoes=$(kv udp_replies "${t[@]}")
    connected=$(kv tcp_connected "${t[@]}")
    accepted=$(kv tcp_accepted "${t[@]}")
    replies=$(awk '/packets transmitted/ { print $4 }' "$workdir/$tag.ping")
    replies=${replies:-0}
    what="UDP $udp/3 received ($echoes echoed), TCP $connected/3 connected ($accepted accepted), ping $replies/2"
    if [[ "$tag" == listed* ]]; then
        check "IPv${tag: -1} listed source: nothing arrives ($what)" \
            test "$udp$echoes$connected$accepted$replies" = 00000
    else
        check "IPv${tag: -1} clean source: everything arrives ($what)" \
            test "$udp$echoes$connected$accepted$replies" = 33332
    fi
done

# ---------------------------------------------------------------------------------------
log ""
log "== established flows are not queued"

names=(late4 late6 clean4 clean6)
declare -A source_of=([late4]=$late4 [late6]=$late6 [clean4]=$clean4 [clean6]=$clean6)
for name in "${names[@]}"; do
    start_client "$name" "${source_of[$name]}"
    burst "$name"
done
for name in "${names[@]}"; do
    wait_for 5 "first bytes of $name at the server" delivered "$name" "${source_of[$name]}" ||
        fail "the server got the first burst of $name"
done
sleep 0.5 # the handshakes' last packets and delayed ACKs are through
queued0=$(queued)
packets0=$(metric exitblock_packets_total)
for ((i = 0; i < 20; i++)); do
    for name in "${names[@]}"; do burst "$name"; done
done
for name in "${names[@]}"; do
    wait_for 5 "bytes of $name at the server" delivered "$name" "${source_of[$name]}" || true
    check "$name: all $(client_field "$name" sent) bytes arrived ($(received "${source_of[$name]}"))" \
        delivered "$name" "${source_of[$name]}"
done
queued1=$(queued)
packets1=$(metric exitblock_packets_total)
check "the NFQUEUE rules queued nothing while 80 bursts crossed ($queued0 -> $queued1)" test "$queued0" -eq "$queued1"
check "exitblock judged nothing meanwhile (exitblock_packets_total $packets0 -> $packets1)" test "$packets0" -eq "$packets1"
check "at least the 4 SYNs were queued before ($queued0)" test "$queued0" -ge 4

# ---------------------------------------------------------------------------------------
log ""
log "== a connection established before its source is listed is cut after the reload"

for name in late4 late6; do
    check "$name (${source_of[$name]}) has a conntrack entry before the update" test "$(ct_entries "${source_of[$name]}")" -ge 1
done
sleep 0.5 # no ACK of the server left in flight (see docs/operator-guide.md, Flow mode: what is not re-judged)
dropped0=$(metric exitblock_packets_dropped_total)
before_lines=$(grep -c "conntrack: set grew" "$workdir/exitblock.err" || true)
printf '%s\n%s\n' "$late4" "$late6" >>"$list"
kill -HUP "$daemon_pid"
invalidated() { (($(grep -c "conntrack: set grew" "$workdir/exitblock.err" || true) > before_lines)); }
wait_for 10 "exitblock to log the invalidation" invalidated || true
line=$(grep "conntrack: set grew" "$workdir/exitblock.err" | tail -n 1 || true)
log "flow: exitblock: ${line#*exitblock: }"
deleted=$(sed -n 's/.*deleted \([0-9]*\) entries.*/\1/p' <<<"$line")
check "the reload logged the invalidation, with 2 entries deleted (${deleted:-none})" test "${deleted:-0}" -eq 2
check "exitblock_conntrack_deleted_total is 2 ($(metric exitblock_conntrack_deleted_total))" \
    test "$(metric exitblock_conntrack_deleted_total)" -eq 2
check "exitblock_conntrack_errors_total is 0" test "$(metric exitblock_conntrack_errors_total)" -eq 0
for name in late4 late6; do
    check "$name: its conntrack entry is gone" test "$(ct_entries "${source_of[$name]}")" -eq 0
done
for name in clean4 clean6; do
    check "$name: its conntrack entry stays" test "$(ct_entries "${source_of[$name]}")" -ge 1
done

declare -A got_before=()
for name in "${names[@]}"; do
    got_before[$name]=$(received "${source_of[$name]}")
    burst "$name"
done
for name in clean4 clean6; do
    wait_for 5 "bytes of $name at the server" delivered "$name" "${source_of[$name]}" || true
done
sleep 1.5 # a few retransmissions of the cut flows
for name in late4 late6; do
    got=$(received "${source_of[$name]}")
    check "$name: the next send no longer reaches the server (${got_before[$name]} -> $got bytes)" \
        test "$got" -eq "${got_before[$name]}"
    check "$name: no conntrack entry came back" test "$(ct_entries "${source_of[$name]}")" -eq 0
done
for name in clean4 clean6; do
    check "$name: still delivers after the reload ($(received "${source_of[$name]}") bytes)" \
        delivered "$name" "${source_of[$name]}"
done
dropped1=$(metric exitblock_packets_dropped_total)
check "the cut flows' next packets were queued (ct state NEW again) and dropped ($dropped0 -> $dropped1)" \
    test "$dropped1" -ge $((dropped0 + 2))

for name in late4 late6; do
    src=${source_of[$name]}
    dst=$LAB_SERVER4
    [[ "$src" == *:* ]] && dst=$LAB_SERVER6
    ip netns exec "$LAB_CLIENT" "$PYTHON" "$PEER" client --src "$src" --dst "$dst" --port "$FLOW_PORT" \
        --timeout 0.5 --state "$workdir/client-new-$name.json" 2>/dev/null &
    client_pid[new-$name]=$!
    wait_for 5 "the new connection of $name to give up" test -s "$workdir/client-new-$name.json" || true
    check "$name: a new connection from the now listed $src fails ($(client_field "new-$name" error))" \
        test "$(client_field "new-$name" connected)" = False
done

kill -TERM "$daemon_pid"
wait_for 5 "exitblock to exit" not_running "$daemon_pid" || true
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
check_eq "exitblock exit status after SIGTERM" 0 "$rc"

# ---------------------------------------------------------------------------------------
log ""
log "== a restart with a longer list cuts the flows of the addresses it adds"

# While no daemon runs, the clean flows go on (established: never queued). Restart with
# clean4's address listed: the start-up invalidation (old set: empty) deletes its entry.
burst clean4
wait_for 5 "bytes of clean4 with no daemon" delivered clean4 "$clean4" || true
check "clean4 still delivers while no exitblock runs (established flows are not queued)" delivered clean4 "$clean4"
printf '%s\n' "$clean4" >>"$list"
start_daemon "$workdir/exitblock" -- --mode flow --queue "$QUEUE" --list "$list" --stats-socket "$workdir/stats.sock" ||
    die "exitblock did not restart"
line=$(grep "conntrack: start" "$workdir/exitblock.err" | tail -n 1 || true)
log "flow: exitblock: ${line#*exitblock: }"
check "the start-up invalidation deleted clean4's entry (${line:-no line})" test "$(ct_entries "$clean4")" -eq 0
got=$(received "$clean4")
burst clean4
burst clean6
wait_for 5 "bytes of clean6 at the server" delivered clean6 "$clean6" || true
sleep 1
check "clean4, listed before the restart: its next send no longer arrives ($got -> $(received "$clean4"))" \
    test "$(received "$clean4")" -eq "$got"
check "clean6, still clean: still delivers" delivered clean6 "$clean6"

summary
((failed == 0))
