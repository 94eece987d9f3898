#!/usr/bin/env bash
# scripts/modes-test.sh: the policy modes of `exitblock run` on a three-namespace lab
# (client - gateway - server, see lib/netns.sh), IPv4 and IPv6, with real iptables and
# ip6tables NFQUEUE rules and real traffic. Needs root; no network beyond the lab.
#
# The gateway's rules, per family, for every phase (the layout of `exitblock rules install`):
#   mangle FORWARD: counting rules, one per address of interest and direction ("src ADDR",
#     "dst ADDR"), then -j NFQUEUE --queue-num Q (no bypass: nothing passes without the daemon);
#   filter FORWARD, for packets the daemon accepts with the reject mark M:
#     -m mark --mark M -p tcp -j REJECT --reject-with tcp-reset
#     -m mark --mark M -j REJECT --reject-with icmp-admin-prohibited (icmp6-adm-prohibited)
#
# Phases (one daemon each):
#   allowlist  --allow LISTED4[0] --allow FILE(LISTED6[0]): those listed sources pass, the
#              other listed sources are blocked, clean ones pass; allowlisted counters equal
#              the kernel's counts of packets from and to the allowlisted addresses. SIGHUP
#              with a new allowlist file takes effect; one that cannot be loaded is refused
#              and the allowlist in force stays.
#   dry-run    --dry-run: every source passes; would_drop per family equals the kernel's
#              count of packets from listed sources, nothing is dropped, and the top listed
#              addresses (/stats, /metrics, the exit log) carry each listed source's count.
#   reject     --reject: a TCP connect from a listed source is refused (RST), a UDP datagram
#              gets ICMP "administratively prohibited" from the gateway (read from the
#              socket's error queue: type/code 3/13 for IPv4, 1/1 for IPv6) and so does
#              ping; clean sources connect; rejected equals the kernel's count. When a queue
#              rule after the mark queues a marked packet again (no REJECT rule in between),
#              exitblock drops it and counts it.
#   destination --match destination: a clean client reaching a listed server address is
#              blocked, the same client reaching the clean server address is not.
#
# Ends with `modes: N passed, M failed`; exits non-zero if anything failed.
#
# Environment: EXITBLOCK (binary; default the debug build), MODES_QUEUE (default 11),
# MODES_COUNT (UDP datagrams and TCP connects per source, default 3), MODES_PINGS (default 2),
# MODES_PORT (default 5611), MODES_KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-md$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=modes

QUEUE=${MODES_QUEUE:-11}
COUNT=${MODES_COUNT:-3}
PINGS=${MODES_PINGS:-2}
PORT=${MODES_PORT:-5611}
MARK=0x4542
PYTHON=${PYTHON:-python3}
TRAFFIC="$root/scripts/traffic.py"
PROBE="$root/scripts/lib/reject_probe.py"
SEND_TIMEOUT=0.5

# Listed addresses on the server side, for destination mode (inside the server's subnets).
SERVER_LISTED4=192.0.2.19
SERVER_LISTED6=2001:db8:2::3

daemon_pid=""
server_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" modes "$daemon_pid" "$server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------
# The daemon

# start_mode NAME ARGS...: exitblock run in the gateway with the test list and a stats
# socket of its own; waits for "ready".
start_mode() {
    local name=$1
    shift
    daemon_name=$name
    sock="$workdir/$name.sock"
    if start_daemon "$workdir/daemon-$name" -- --queue "$QUEUE" --list "$workdir/exits.list" --stats-socket "$sock" \
        --no-cache "$@"; then
        pass "$name: exitblock started: $(grep -m1 -o 'ready.*' "$workdir/daemon-$name.err")"
    else
        die "$name: exitblock did not start"
    fi
}

# stop_named: stop the daemon (lib/daemon.sh) and read its total line into `total`.
stop_named() { stop_daemon "$daemon_name" "$workdir/daemon-$daemon_name.out"; }

# stats_json PYTHON_EXPRESSION: evaluate an expression over the /stats document `d`.
stats_json() {
    stats_get /stats | "$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# ---------------------------------------------------------------------------------------
# Kernel counters

# count TOOL COMMENT: packets counted by the mangle FORWARD rule carrying COMMENT.
count() {
    gw "$1" -w 5 -t mangle -L FORWARD -v -x -n | awk -v what="/* $2 */" 'index($0, what) { sum += $1 } END { print sum + 0 }'
}
tool_for() { if [[ "$1" == *:* ]]; then printf '%s\n' ip6tables; else printf '%s\n' iptables; fi; }
src_count() { count "$(tool_for "$1")" "src $1"; }
dst_count() { count "$(tool_for "$1")" "dst $1"; }
zero_counters() { gw iptables -w 5 -t mangle -Z FORWARD && gw ip6tables -w 5 -t mangle -Z FORWARD; }

# ---------------------------------------------------------------------------------------
# Traffic

pids=()

# send TAG SRC DST: in the background, traffic.py UDP + TCP and a ping from SRC to DST.
send() {
    local tag=$1 src=$2 dst=$3 family=-4
    [[ "$src" == *:* ]] && family=-6
    timeout 60 ip netns exec "$LAB_CLIENT" "$PYTHON" "$TRAFFIC" send --src "$src" --dst "$dst" --port "$PORT" \
        --count "$COUNT" --timeout "$SEND_TIMEOUT" >"$workdir/$tag.send.json" 2>"$workdir/$tag.send.err" &
    pids+=("$!")
    timeout 30 ip netns exec "$LAB_CLIENT" ping "$family" -n -c "$PINGS" -i 0.2 -W 1 -I "$src" "$dst" \
        >"$workdir/$tag.ping" 2>&1 &
    pids+=("$!")
}

# wait_senders: wait for every background sender (ping may exit 1: checked later).
wait_senders() {
    local pid
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    pids=()
}

# start_server NAME: the traffic server (lib/netns.sh), its counts in $server_json.
start_server() {
    server_json="$workdir/$1.json"
    traffic_server_start "$1"
}

# expect WHAT TAG: the traffic of TAG arrived in full (WHAT=arrives) or not at all (blocked),
# judged by the server's per-source counts and ping's replies.
expect() {
    local what=$1 tag=$2 t tx rx
    read -ra t <<<"$("$PYTHON" "$TRAFFIC" tally --server "$server_json" "$workdir/$tag.send.json")"
    read -r tx rx <<<"$(awk '/packets transmitted/ { print $1, $4 }' "$workdir/$tag.ping")"
    local sent received replies attempts connected accepted
    sent=$(kv udp_sent "${t[@]}")
    received=$(kv udp_received "${t[@]}")
    replies=$(kv udp_replies "${t[@]}")
    attempts=$(kv tcp_attempts "${t[@]}")
    connected=$(kv tcp_connected "${t[@]}")
    accepted=$(kv tcp_accepted "${t[@]}")
    if [[ "$sent" != "$COUNT" || "$attempts" != "$COUNT" || "${tx:-0}" != "$PINGS" ]]; then
        fail "$tag: traffic not sent as planned (udp $sent, tcp $attempts, ping ${tx:-none})"
        return
    fi
    if [[ "$what" == arrives ]]; then
        check "$tag arrives: UDP $received/$sent received, $replies echoed; TCP $connected/$attempts; ping $rx/$tx" \
            test "$received" -eq "$sent" -a "$replies" -eq "$sent" -a "$connected" -eq "$attempts" \
            -a "$accepted" -eq "$attempts" -a "$rx" -eq "$tx"
    else
        check "$tag blocked: UDP $received/$sent received; TCP $connected/$attempts; ping $rx/$tx" \
            test "$received" -eq 0 -a "$replies" -eq 0 -a "$connected" -eq 0 -a "$accepted" -eq 0 -a "$rx" -eq 0
    fi
}

# ---------------------------------------------------------------------------------------
# Setup

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
for tool in ip iptables ip6tables ping timeout awk curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-modes.XXXXXX")
log "modes: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE"

L4=("${LAB_LISTED4[@]}")
L6=("${LAB_LISTED6[@]}")
C4=("${LAB_CLEAN4[@]}")
C6=("${LAB_CLEAN6[@]}")

lab_up || die "lab setup failed"
# The listed server addresses (destination mode), next to the server's own. The server must
# keep answering from its own address: the IPv4 one is secondary, the IPv6 one deprecated
# (preferred_lft 0), so source address selection never picks them for replies.
ip -n "$LAB_SERVER" addr add "$SERVER_LISTED4/28" dev "$LAB_SERVER_IF" || die "server address"
ip -n "$LAB_SERVER" addr add "$SERVER_LISTED6/64" dev "$LAB_SERVER_IF" nodad preferred_lft 0 || die "server address"
wait_for 10 "the listed server address to answer" in_ns "$LAB_CLIENT" ping -c 1 -W 1 -n -q "$SERVER_LISTED4" ||
    die "no path to $SERVER_LISTED4"
wait_for 10 "the listed server address to answer" in_ns "$LAB_CLIENT" ping -6 -c 1 -W 1 -n -q "$SERVER_LISTED6" ||
    die "no path to $SERVER_LISTED6"

cat >"$workdir/exits.list" <<EOF
# exitblock modes test list: listed clients and listed server addresses
${L4[0]}
${L4[1]}
${L4[2]}
${L6[0]}
${L6[1]}
${L6[2]}
$SERVER_LISTED4
$SERVER_LISTED6
EOF

interesting4=("${L4[0]}" "${L4[1]}" "${L4[2]}" "$SERVER_LISTED4")
interesting6=("${L6[0]}" "${L6[1]}" "${L6[2]}" "$SERVER_LISTED6")
for fam in 4 6; do
    if ((fam == 4)); then
        tool=iptables
        addrs=("${interesting4[@]}")
        reject_with="icmp-admin-prohibited"
    else
        tool=ip6tables
        addrs=("${interesting6[@]}")
        reject_with="icmp6-adm-prohibited"
    fi
    for a in "${addrs[@]}"; do
        gw "$tool" -w 5 -t mangle -A FORWARD -s "$a" -m comment --comment "src $a"
        gw "$tool" -w 5 -t mangle -A FORWARD -d "$a" -m comment --comment "dst $a"
    done
    gw "$tool" -w 5 -t mangle -A FORWARD -j NFQUEUE --queue-num "$QUEUE"
    gw "$tool" -w 5 -A FORWARD -m mark --mark "$MARK" -p tcp -j REJECT --reject-with tcp-reset
    gw "$tool" -w 5 -A FORWARD -m mark --mark "$MARK" -j REJECT --reject-with "$reject_with"
done

# check --allow, no lab needed: the allowlist wins and says so; exit status 1 (not blocked).
printf '%s\n' "${L6[0]}" >"$workdir/allow.list"
rc=0
said=$("$exitblock" check "${L6[0]}" --list "$workdir/exits.list" --allow "$workdir/allow.list") || rc=$?
check "check --allow: ${L6[0]} not blocked (status $rc): $said" \
    test "$rc" -eq 1 -a -n "$(grep -F "allowlisted by ${L6[0]} (--allow $workdir/allow.list)" <<<"$said")"
rc=0
said=$("$exitblock" check "${L4[1]}" --list "$workdir/exits.list" --allow "${L4[0]}") || rc=$?
check "check --allow: ${L4[1]} still blocked (status $rc): $said" test "$rc" -eq 0

# ---------------------------------------------------------------------------------------
log ""
log "== allowlist: --allow ${L4[0]} --allow allow.list (${L6[0]})"
start_mode allowlist --allow "${L4[0]}" --allow "$workdir/allow.list"
zero_counters
start_server allowlist
send allow-l4 "${L4[0]}" "$LAB_SERVER4"
send allow-l6 "${L6[0]}" "$LAB_SERVER6"
send listed-l4 "${L4[1]}" "$LAB_SERVER4"
send listed-l6 "${L6[1]}" "$LAB_SERVER6"
send clean-c4 "${C4[0]}" "$LAB_SERVER4"
send clean-c6 "${C6[0]}" "$LAB_SERVER6"
wait_senders
traffic_server_stop
expect arrives allow-l4
expect arrives allow-l6
expect blocked listed-l4
expect blocked listed-l6
expect arrives clean-c4
expect arrives clean-c6
allowed4=$(($(src_count "${L4[0]}") + $(dst_count "${L4[0]}")))
allowed6=$(($(src_count "${L6[0]}") + $(dst_count "${L6[0]}")))
check_eq "allowlist: exitblock_packets_allowlisted_total ipv4 == kernel count from and to ${L4[0]}" "$allowed4" \
    "$(metric "exitblock_packets_allowlisted_total{queue=\"$QUEUE\",family=\"ipv4\"}")"
check_eq "allowlist: exitblock_packets_allowlisted_total ipv6 == kernel count from and to ${L6[0]}" "$allowed6" \
    "$(metric "exitblock_packets_allowlisted_total{queue=\"$QUEUE\",family=\"ipv6\"}")"
check_eq "allowlist: /stats allowlist entries (IPv4 + IPv6)" "1 1" \
    "$(stats_json 'd["stats"]["policy"]["allowlistIPv4Entries"], d["stats"]["policy"]["allowlistIPv6Entries"]' |
        tr -d '(),')"

# SIGHUP: a new allowlist file takes effect; an unusable one is refused and the old stays.
printf '%s\n' "${L6[2]}" >"$workdir/allow.list"
kill -HUP "$daemon_pid"
wait_for 10 "the allowlist reload" grep -q "reloaded allowlist" "$workdir/daemon-allowlist.err" ||
    fail "allowlist: no 'reloaded allowlist' after SIGHUP"
ping_from() { in_ns "$LAB_CLIENT" ping -6 -n -q -c 1 -W 1 -I "$1" "$LAB_SERVER6" >/dev/null 2>&1; }
no_ping_from() { ! ping_from "$1"; }
before_reload=$(src_count "${L6[0]}")
check "allowlist: after SIGHUP, ${L6[2]} (newly allowlisted) reaches the server" ping_from "${L6[2]}"
check "allowlist: after SIGHUP, ${L6[0]} (no longer allowlisted) is blocked" no_ping_from "${L6[0]}"
: >"$workdir/allow.list"
kill -HUP "$daemon_pid"
wait_for 10 "the refused allowlist reload" grep -q "allowlist reload refused" "$workdir/daemon-allowlist.err" ||
    fail "allowlist: an empty allowlist file was not refused"
check "allowlist: after a refused reload, ${L6[2]} is still allowlisted" ping_from "${L6[2]}"
stop_named
check_eq "allowlist: total dropped == kernel count from ${L4[1]}, ${L6[1]}, and ${L6[0]} after the reload" \
    "$(($(src_count "${L4[1]}") + $(src_count "${L6[1]}") + $(src_count "${L6[0]}") - before_reload))" \
    "$(kv dropped "${total[@]}")"

# ---------------------------------------------------------------------------------------
log ""
log "== dry-run: --dry-run"
zero_counters
start_mode dry-run --dry-run
start_server dry-run
send dry-l4a "${L4[0]}" "$LAB_SERVER4"
send dry-l4b "${L4[1]}" "$LAB_SERVER4"
send dry-l6a "${L6[0]}" "$LAB_SERVER6"
send dry-l6b "${L6[1]}" "$LAB_SERVER6"
send dry-c4 "${C4[0]}" "$LAB_SERVER4"
send dry-c6 "${C6[0]}" "$LAB_SERVER6"
wait_senders
traffic_server_stop
for tag in dry-l4a dry-l4b dry-l6a dry-l6b dry-c4 dry-c6; do expect arrives "$tag"; done
would4=$(($(src_count "${L4[0]}") + $(src_count "${L4[1]}")))
would6=$(($(src_count "${L6[0]}") + $(src_count "${L6[1]}")))
check "dry-run: the listed sources sent at least their UDP datagrams and pings ($would4, $would6)" \
    test "$would4" -ge $((2 * (COUNT + PINGS))) -a "$would6" -ge $((2 * (COUNT + PINGS)))
check_eq "dry-run: exitblock_would_drop_packets_total ipv4 == kernel count from listed sources" "$would4" \
    "$(metric "exitblock_would_drop_packets_total{queue=\"$QUEUE\",family=\"ipv4\"}")"
check_eq "dry-run: exitblock_would_drop_packets_total ipv6 == kernel count from listed sources" "$would6" \
    "$(metric "exitblock_would_drop_packets_total{queue=\"$QUEUE\",family=\"ipv6\"}")"
for a in "${L4[0]}" "${L4[1]}" "${L6[0]}" "${L6[1]}"; do
    expected=$(src_count "$a")
    check_eq "dry-run: /stats top listed count of $a == kernel count from it" "$expected" \
        "$(stats_json "{e['address']: e['packets'] for e in d['stats']['topListed']}.get('$a', 'missing')")"
    check_eq "dry-run: exitblock_top_listed_packets{address=\"$a\"}" "$expected" \
        "$(metric "exitblock_top_listed_packets{address=\"$a\"}")"
done
check_eq "dry-run: /stats says dry-run" "True accept" "$(stats_json 'd["stats"]["policy"]["dryRun"], d["stats"]["policy"]["action"]' | tr -d "(),'")"
stop_named
check_eq "dry-run: total dropped" 0 "$(kv dropped "${total[@]}")"
check_eq "dry-run: total would_drop == kernel count from listed sources" "$((would4 + would6))" \
    "$(kv would_drop "${total[@]}")"
check_eq "dry-run: total accepted == packets" "$(kv packets "${total[@]}")" "$(kv accepted "${total[@]}")"
check "dry-run: the exit log says what would have been dropped" \
    grep -q "dry-run: would have dropped $((would4 + would6)) packets (IPv4 $would4, IPv6 $would6)" \
    "$workdir/daemon-dry-run.err"
check "dry-run: the exit log lists the top sources" \
    grep -q "top listed addresses by packets: .*${L4[0]} (" "$workdir/daemon-dry-run.err"

# ---------------------------------------------------------------------------------------
log ""
log "== reject: --reject (mark $MARK)"
zero_counters
start_mode reject --reject
start_server reject
probe() { timeout 20 ip netns exec "$LAB_CLIENT" "$PYTHON" "$PROBE" "$@" --port "$PORT" --timeout 2; }
for fam in 4 6; do
    if ((fam == 4)); then
        src=${L4[0]} clean=${C4[0]} dst=$LAB_SERVER4 gateway=$LAB_GW_CLIENT4 icmp="type=3 code=13" pingfam=-4
        filtered="Packet filtered"
    else
        src=${L6[0]} clean=${C6[0]} dst=$LAB_SERVER6 gateway=$LAB_GW_CLIENT6 icmp="type=1 code=1" pingfam=-6
        filtered="Administratively prohibited"
    fi
    check_eq "reject IPv$fam: TCP connect from $src is refused by a reset" ECONNREFUSED "$(probe tcp --src "$src" --dst "$dst")"
    said=$(probe udp --src "$src" --dst "$dst")
    check "reject IPv$fam: UDP from $src gets ICMP $icmp (administratively prohibited) from $gateway: $said" \
        test "${said% errno=*}" = "icmp $icmp from=$gateway"
    said=$(in_ns "$LAB_CLIENT" ping "$pingfam" -n -c 1 -W 2 -I "$src" "$dst" 2>&1 || true)
    check "reject IPv$fam: ping from $src answered '$filtered'" grep -q "$filtered" <<<"$said"
    check_eq "reject IPv$fam: TCP connect from clean $clean" connected "$(probe tcp --src "$clean" --dst "$dst")"
    check_eq "reject IPv$fam: UDP from clean $clean is echoed" reply "$(probe udp --src "$clean" --dst "$dst")"
done
traffic_server_stop
rejected4=$(src_count "${L4[0]}")
rejected6=$(src_count "${L6[0]}")
check "reject: 3 packets per family (SYN, datagram, echo request)" test "$rejected4" -eq 3 -a "$rejected6" -eq 3
check_eq "reject: exitblock_packets_rejected_total ipv4 == kernel count from ${L4[0]}" "$rejected4" \
    "$(metric "exitblock_packets_rejected_total{queue=\"$QUEUE\",family=\"ipv4\"}")"
check_eq "reject: exitblock_packets_rejected_total ipv6 == kernel count from ${L6[0]}" "$rejected6" \
    "$(metric "exitblock_packets_rejected_total{queue=\"$QUEUE\",family=\"ipv6\"}")"
# With a queue rule in filter instead of the IPv4 REJECT rules (say, an old copy of the
# rules), a rejected packet comes back to the queue carrying the mark: exitblock drops it
# (no loop) and counts it.
gw iptables -w 5 -D FORWARD -m mark --mark "$MARK" -p tcp -j REJECT --reject-with tcp-reset
gw iptables -w 5 -D FORWARD -m mark --mark "$MARK" -j REJECT --reject-with icmp-admin-prohibited
gw iptables -w 5 -A FORWARD -j NFQUEUE --queue-num "$QUEUE"
said=$(timeout 20 ip netns exec "$LAB_CLIENT" "$PYTHON" "$PROBE" tcp --src "${L4[1]}" --dst "$LAB_SERVER4" \
    --port "$PORT" --timeout 0.5)
check_eq "reject, queued again: the connect from ${L4[1]} is dropped" timeout "$said"
check_eq "reject, queued again: exitblock_reject_returned_total" 1 \
    "$(metric "exitblock_reject_returned_total{queue=\"$QUEUE\"}")"
gw iptables -w 5 -D FORWARD -j NFQUEUE --queue-num "$QUEUE"
gw iptables -w 5 -A FORWARD -m mark --mark "$MARK" -p tcp -j REJECT --reject-with tcp-reset
gw iptables -w 5 -A FORWARD -m mark --mark "$MARK" -j REJECT --reject-with icmp-admin-prohibited
stop_named
check_eq "reject: total rejected == kernel count (the returned SYN was rejected once)" \
    "$((rejected4 + rejected6 + $(src_count "${L4[1]}")))" "$(kv rejected "${total[@]}")"
check_eq "reject: total dropped (only the packet that came back)" 1 "$(kv dropped "${total[@]}")"
check "reject: the exit log warns about the missing REJECT rule" \
    grep -q "came back with the reject mark" "$workdir/daemon-reject.err"

# ---------------------------------------------------------------------------------------
log ""
log "== destination: --match destination"
zero_counters
start_mode destination --match destination
start_server destination
send dst-listed4 "${C4[0]}" "$SERVER_LISTED4"
send dst-clean4 "${C4[1]}" "$LAB_SERVER4"
send dst-listed6 "${C6[0]}" "$SERVER_LISTED6"
send dst-clean6 "${C6[1]}" "$LAB_SERVER6"
wait_senders
traffic_server_stop
expect blocked dst-listed4
expect arrives dst-clean4
expect blocked dst-listed6
expect arrives dst-clean6
dropped4=$(dst_count "$SERVER_LISTED4")
dropped6=$(dst_count "$SERVER_LISTED6")
check_eq "destination: top listed addresses are the listed server addresses" \
    "$SERVER_LISTED4 $dropped4 $SERVER_LISTED6 $dropped6" \
    "$(stats_json "' '.join(sorted(e['address'] + ' ' + str(e['packets']) for e in d['stats']['topListed']))")"
stop_named
check_eq "destination: ipv4_dropped == kernel count to $SERVER_LISTED4" "$dropped4" "$(kv ipv4_dropped "${total[@]}")"
check_eq "destination: ipv6_dropped == kernel count to $SERVER_LISTED6" "$dropped6" "$(kv ipv6_dropped "${total[@]}")"

summary
((failed == 0))
