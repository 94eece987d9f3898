#!/usr/bin/env bash
# scripts/e2e-test.sh: end-to-end test of `exitblock run` on a three-namespace lab
# (client - gateway - server, see lib/netns.sh). Needs root; no network beyond the lab.
#
# Phase 1: exitblock runs in the gateway behind `-j NFQUEUE` rules (IPv4 and IPv6). TCP,
#   UDP and ICMP go from listed and clean client addresses to the server. Asserts that
#   nothing from a listed source arrives and everything from a clean one does, then stops
#   exitblock with SIGTERM and checks its final counters against the kernel's own rule
#   counters (pure counting rules placed before the NFQUEUE rule).
# Phase 2: no daemon. Without --queue-bypass the queued traffic is dropped; with
#   --queue-bypass it passes (fail-open, listed sources included).
#
# Where the expected values come from (no model of the daemon is built in):
#   traffic   what the senders report they sent (traffic.py send JSON, ping statistics)
#             against what the server counted per source address: 0 for listed sources,
#             exactly the sent number for clean ones (UDP per source, TCP, echo replies).
#   counters  exitblock's `total` line against the gateway kernel's packet counters:
#             packets = NFQUEUE rule packets (iptables + ip6tables), ipv4/ipv6 = the
#             all-sources counting rule per family, dropped (and ipv4_/ipv6_dropped) = the
#             listed-source counting rules, accepted = packets - dropped, unparsable = 0,
#             queue lines summing to the total. The listed-source rules must also have
#             seen at least the listed packets sent (datagrams + one SYN per connect + pings).
#
# Ends with one line `e2e: N passed, M failed`; exits non-zero if anything failed.
#
# Environment:
#   EXITBLOCK   the binary to test (default: the package's debug build, built if missing;
#               EXITBLOCK_CONFIG=release for the release build). EXITBLOCK=scripts/lib/nfq_standin.py
#               runs the harness against the python stand-in.
#   E2E_QUEUE   first queue number (default 7); E2E_QUEUES number of queues (default 1;
#               more than one uses --queue-balance and one --queue per number)
#   E2E_COUNT   UDP datagrams and TCP connections per source (default 5)
#   E2E_PINGS   echo requests per source (default 3)
#   E2E_PORT    server port (default 5599)
#   IPTABLES, IP6TABLES   the tools to use (default iptables, ip6tables; e.g. iptables-legacy)
#   E2E_KEEP=1  keep the work directory (logs, list, JSON reports) and print its path
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=e2e

QUEUE=${E2E_QUEUE:-7}
NQUEUES=${E2E_QUEUES:-1}
COUNT=${E2E_COUNT:-5}
PINGS=${E2E_PINGS:-3}
PORT=${E2E_PORT:-5599}
IPT=${IPTABLES:-iptables}
IP6T=${IP6TABLES:-ip6tables}
PYTHON=${PYTHON:-python3}
READY_TIMEOUT=30 # seconds for exitblock to bind its queues
STOP_TIMEOUT=5   # seconds exitblock may take to exit after SIGTERM
SEND_TIMEOUT=0.5 # per TCP connect and for the UDP echoes; below the 1 s SYN retransmit

TRAFFIC="$root/scripts/traffic.py"
daemon_pid=""
server_pid=""
workdir=""


cleanup() { lab_test_cleanup "$?" e2e "$daemon_pid" "$server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------
# Kernel counters in the gateway

# rule_packets TOOL WHAT: packets counted by the FORWARD rules that are NFQUEUE rules
# (WHAT=NFQUEUE) or carry the comment WHAT.
rule_packets() {
    local tool=$1 what=$2
    in_ns "$LAB_GW" "$tool" -w 5 -L FORWARD -v -x -n | awk -v what="$what" '
        what == "NFQUEUE" && $3 == "NFQUEUE" { sum += $1; next }
        what != "NFQUEUE" && index($0, "/* " what " */") { sum += $1 }
        END { print sum + 0 }'
}

# nfqueue_target [bypass]: the -j NFQUEUE arguments for the configured queue(s).
nfqueue_target() {
    local args=(-j NFQUEUE)
    if ((NQUEUES > 1)); then
        args+=(--queue-balance "$QUEUE:$((QUEUE + NQUEUES - 1))")
    else
        args+=(--queue-num "$QUEUE")
    fi
    [[ "${1:-}" == bypass ]] && args+=(--queue-bypass)
    printf '%s\n' "${args[@]}"
}

# ---------------------------------------------------------------------------------------
# Traffic

send_pids=()
ping_pids=()

# start_traffic SRC TAG: in the background, from SRC to the server (same family): the
# traffic.py sender (UDP + TCP) and a ping. Results in $workdir/TAG.send.json, TAG.ping.
start_traffic() {
    local src=$1 tag=$2 dst=$LAB_SERVER4 ping_family=-4
    if [[ "$src" == *:* ]]; then
        dst=$LAB_SERVER6
        ping_family=-6
    fi
    timeout 60 ip netns exec "$LAB_CLIENT" "$PYTHON" "$TRAFFIC" send --src "$src" --dst "$dst" --port "$PORT" \
        --count "$COUNT" --timeout "$SEND_TIMEOUT" >"$workdir/$tag.send.json" 2>"$workdir/$tag.send.err" &
    send_pids+=("$!:$tag")
    timeout 30 ip netns exec "$LAB_CLIENT" ping "$ping_family" -n -q -c "$PINGS" -i 0.2 -W 1 -I "$src" "$dst" \
        >"$workdir/$tag.ping" 2>&1 &
    ping_pids+=("$!")
}

# wait_traffic: wait for every started sender and ping (all bounded by timeout(1)).
# A sender that failed is an error of the harness: report it and stop.
wait_traffic() {
    local entry pid tag rc bad=0
    for entry in "${send_pids[@]}"; do
        pid=${entry%%:*}
        tag=${entry#*:}
        rc=0
        wait "$pid" || rc=$?
        if ((rc != 0)); then
            log "e2e: traffic sender $tag failed (exit $rc):"
            cat "$workdir/$tag.send.err"
            bad=1
        fi
    done
    for pid in "${ping_pids[@]}"; do
        wait "$pid" || true # ping exits 1 when no reply came: that is checked later.
    done
    send_pids=()
    ping_pids=()
    ((bad == 0)) || die "a traffic sender failed; see above"
}

# ping_sum FILE...: "transmitted received" summed over ping outputs.
ping_sum() {
    awk '/packets transmitted/ { tx += $1; rx += $4 } END { print tx + 0, rx + 0 }' "$@"
}

# expect_group EXPECT LABEL SERVER_JSON TAG...: assertions for the traffic of TAGs:
# EXPECT=blocked: nothing may arrive; EXPECT=arrives: everything must, exactly.
expect_group() {
    local expect=$1 label=$2 server=$3
    shift 3
    local tags=("$@") reports=() pings=() tag
    for tag in "${tags[@]}"; do
        reports+=("$workdir/$tag.send.json")
        pings+=("$workdir/$tag.ping")
    done
    local t tx rx
    read -ra t <<<"$("$PYTHON" "$TRAFFIC" tally --server "$server" "${reports[@]}")"
    read -r tx rx <<<"$(ping_sum "${pings[@]}")"
    local sent received exact replies attempts connected echoed accepted
    sent=$(kv udp_sent "${t[@]}")
    received=$(kv udp_received "${t[@]}")
    exact=$(kv udp_exact "${t[@]}")
    replies=$(kv udp_replies "${t[@]}")
    attempts=$(kv tcp_attempts "${t[@]}")
    connected=$(kv tcp_connected "${t[@]}")
    echoed=$(kv tcp_echoed "${t[@]}")
    accepted=$(kv tcp_accepted "${t[@]}")
    local n=${#tags[@]}
    local what="$label ($n sources)"
    ((n > 1)) || what="$label (1 source)"
    # What was sent must be what we asked for, or the assertions below prove little.
    if [[ "$sent" != $((n * COUNT)) || "$attempts" != $((n * COUNT)) || "$tx" != $((n * PINGS)) ]]; then
        fail "$what: traffic was not sent as planned (udp $sent, tcp $attempts, ping $tx)"
        return
    fi
    if [[ "$expect" == blocked ]]; then
        check "$what UDP: server received 0 of $sent datagrams, 0 echoes (got $received, $replies)" \
            test "$received" -eq 0 -a "$replies" -eq 0
        check "$what TCP: 0 of $attempts connects succeeded, server accepted 0 (got $connected, $accepted)" \
            test "$connected" -eq 0 -a "$accepted" -eq 0
        check "$what ICMP: 0 of $tx echo requests answered (got $rx)" test "$rx" -eq 0
    else
        check "$what UDP: server received exactly what each source sent ($received of $sent), $replies echoes" \
            test "$exact" = yes -a "$received" -eq "$sent" -a "$replies" -eq "$sent"
        check "$what TCP: $connected of $attempts connects succeeded, $echoed echoed, server accepted $accepted" \
            test "$connected" -eq "$attempts" -a "$echoed" -eq "$attempts" -a "$accepted" -eq "$attempts"
        check "$what ICMP: $rx of $tx echo requests answered" test "$rx" -eq "$tx"
    fi
}

# listed_sent_packets TAG...: packets the listed senders put on the wire, at least: each
# UDP datagram, one SYN per connect attempt (the connect timeout is below the SYN
# retransmission timeout), each echo request.
listed_sent_packets() {
    local tag sum=0 t tx _rx
    for tag in "$@"; do
        read -ra t <<<"$("$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["udp_sent"], r["tcp_attempts"])' "$workdir/$tag.send.json")"
        read -r tx _rx <<<"$(ping_sum "$workdir/$tag.ping")"
        sum=$((sum + t[0] + t[1] + tx))
    done
    printf '%s\n' "$sum"
}

# ---------------------------------------------------------------------------------------
# Preconditions

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
for tool in ip "$IPT" "$IP6T" ping timeout awk "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
[[ "$QUEUE" =~ ^[0-9]+$ && "$NQUEUES" =~ ^[1-9][0-9]*$ && "$COUNT" =~ ^[1-9][0-9]*$ && "$PINGS" =~ ^[1-9][0-9]*$ ]] ||
    die "E2E_QUEUE, E2E_QUEUES, E2E_COUNT and E2E_PINGS must be whole numbers (the last three >= 1)"

exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-e2e.XXXXXX")
queues=()
for ((q = QUEUE; q < QUEUE + NQUEUES; q++)); do queues+=("$q"); done
queue_args=()
for q in "${queues[@]}"; do queue_args+=(--queue "$q"); done
mapfile -t target < <(nfqueue_target)
mapfile -t target_bypass < <(nfqueue_target bypass)

log "e2e: exitblock = $exitblock"
log "e2e: queues ${queues[*]}, $COUNT UDP + $COUNT TCP + $PINGS pings per source, $IPT/$IP6T"
lab_up || die "lab setup failed"
log "e2e: lab up: client $LAB_CLIENT, gateway $LAB_GW, server $LAB_SERVER"

# The list: the listed client addresses, partly as single addresses, partly as prefixes
# that cover them exactly, plus unrelated entries that must not catch anything of the lab.
list="$workdir/exits.list"
cat >"$list" <<EOF
# exitblock e2e test list
${LAB_LISTED4[0]}
${LAB_LISTED4[1]}
198.51.100.12/31             # ${LAB_LISTED4[2]} and ${LAB_LISTED4[3]}
${LAB_LISTED6[0]}
${LAB_LISTED6[1]}
2001:db8:bad::12/127         # ${LAB_LISTED6[2]} and ${LAB_LISTED6[3]}

# unrelated entries, some next to the clean sources
192.0.2.128/25
203.0.113.200
203.0.113.14/31
2001:db8:dead::/48
2001:db8:c1ea::ff
2001:db8:c1ea::14/126
EOF
# The prefixes above are spelled out for the lab's default addresses: make sure they hold.
[[ "${LAB_LISTED4[2]}" == 198.51.100.12 && "${LAB_LISTED4[3]}" == 198.51.100.13 &&
    "${LAB_LISTED6[2]}" == 2001:db8:bad::12 && "${LAB_LISTED6[3]}" == 2001:db8:bad::13 ]] ||
    die "lab addresses changed: update the list in e2e-test.sh"

# ---------------------------------------------------------------------------------------
log ""
log "== phase 1: exitblock run ${queue_args[*]} --list exits.list"

if start_daemon "$workdir/exitblock" -- "${queue_args[@]}" --list "$list" --no-cache; then
    pass "exitblock bound its queues and printed ready"
else
    fail "exitblock bound its queues and printed ready within ${READY_TIMEOUT}s"
    die "exitblock did not start; stderr follows on exit"
fi

# Gateway rules, per family: pure counting rules (no target) first, then the queue rule.
for fam in 4 6; do
    if ((fam == 4)); then
        tool=$IPT
        listed=("${LAB_LISTED4[@]}")
    else
        tool=$IP6T
        listed=("${LAB_LISTED6[@]}")
    fi
    in_ns "$LAB_GW" "$tool" -w 5 -A FORWARD -m comment --comment e2e-all
    for a in "${listed[@]}"; do
        in_ns "$LAB_GW" "$tool" -w 5 -A FORWARD -s "$a" -m comment --comment e2e-listed
    done
    in_ns "$LAB_GW" "$tool" -w 5 -A FORWARD "${target[@]}"
done

traffic_server_start server1
groups=(listed4 clean4 listed6 clean6)
declare -A group_tags=()
for group in "${groups[@]}"; do
    case $group in
    listed4) sources=("${LAB_LISTED4[@]}") ;;
    clean4) sources=("${LAB_CLEAN4[@]}") ;;
    listed6) sources=("${LAB_LISTED6[@]}") ;;
    clean6) sources=("${LAB_CLEAN6[@]}") ;;
    esac
    tags=()
    for i in "${!sources[@]}"; do
        start_traffic "${sources[$i]}" "$group-$i"
        tags+=("$group-$i")
    done
    group_tags[$group]="${tags[*]}"
done
wait_traffic
traffic_server_stop

for group in "${groups[@]}"; do
    read -ra tags <<<"${group_tags[$group]}"
    label="IPv${group: -1} ${group%?}"
    if [[ "$group" == listed* ]]; then expect=blocked; else expect=arrives; fi
    expect_group "$expect" "$label" "$workdir/server1.json" "${tags[@]}"
done

# Stop exitblock; it must exit 0 within STOP_TIMEOUT and print its counters.
kill -TERM "$daemon_pid"
stop_start=${EPOCHREALTIME/./}
wait_for "$STOP_TIMEOUT" "exitblock to exit after SIGTERM" not_running "$daemon_pid" || true
stop_ms=$(((${EPOCHREALTIME/./} - stop_start) / 1000))
if not_running "$daemon_pid"; then
    pass "exitblock exited ${stop_ms} ms after SIGTERM (limit ${STOP_TIMEOUT}s)"
    rc=0
    wait "$daemon_pid" || rc=$?
    daemon_pid=""
    check_eq "exitblock exit status" 0 "$rc"
else
    fail "exitblock still running ${STOP_TIMEOUT}s after SIGTERM"
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" || true
    daemon_pid=""
fi

log "--- exitblock final counters ---"
cat "$workdir/exitblock.out"
log "---"

read -ra total <<<"$(grep -m1 '^total ' "$workdir/exitblock.out" || true)"
check "exitblock printed a total line" test "${#total[@]}" -gt 1
for q in "${queues[@]}"; do
    check "exitblock printed a line for queue $q" grep -q "^queue $q " "$workdir/exitblock.out"
done

# The kernel's view, read after the daemon exited (no traffic is left by then).
nfq4=$(rule_packets "$IPT" NFQUEUE)
nfq6=$(rule_packets "$IP6T" NFQUEUE)
all4=$(rule_packets "$IPT" e2e-all)
all6=$(rule_packets "$IP6T" e2e-all)
listed4=$(rule_packets "$IPT" e2e-listed)
listed6=$(rule_packets "$IP6T" e2e-listed)
log "kernel: NFQUEUE rules ipv4=$nfq4 ipv6=$nfq6; counting rules all ipv4=$all4 ipv6=$all6," \
    "listed ipv4=$listed4 ipv6=$listed6"

read -ra ltags4 <<<"${group_tags[listed4]}"
read -ra ltags6 <<<"${group_tags[listed6]}"
want4=$(listed_sent_packets "${ltags4[@]}")
want6=$(listed_sent_packets "${ltags6[@]}")
check "kernel counted every packet sent from listed IPv4 sources ($listed4 >= $want4)" test "$listed4" -ge "$want4"
check "kernel counted every packet sent from listed IPv6 sources ($listed6 >= $want6)" test "$listed6" -ge "$want6"

t_packets=$(kv packets "${total[@]}")
t_dropped=$(kv dropped "${total[@]}")
t_accepted=$(kv accepted "${total[@]}")
check_eq "total packets == packets the NFQUEUE rules queued (iptables + ip6tables)" "$((nfq4 + nfq6))" "$t_packets"
check_eq "total ipv4 == packets the IPv4 counting rule saw" "$all4" "$(kv ipv4 "${total[@]}")"
check_eq "total ipv6 == packets the IPv6 counting rule saw" "$all6" "$(kv ipv6 "${total[@]}")"
check_eq "total dropped == packets the listed-source counting rules saw" "$((listed4 + listed6))" "$t_dropped"
check_eq "total ipv4_dropped == listed IPv4 counting rules" "$listed4" "$(kv ipv4_dropped "${total[@]}")"
check_eq "total ipv6_dropped == listed IPv6 counting rules" "$listed6" "$(kv ipv6_dropped "${total[@]}")"
if [[ "$t_packets" =~ ^[0-9]+$ && "$t_dropped" =~ ^[0-9]+$ ]]; then
    check_eq "total accepted == packets - dropped" "$((t_packets - t_dropped))" "$t_accepted"
else
    fail "total accepted == packets - dropped: counters missing"
fi
check_eq "total unparsable" 0 "$(kv unparsable "${total[@]}")"

# The queue lines must add up to the total line, key by key.
sums=$(awk '
    $1 == "queue" { for (i = 3; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2] } }
    $1 == "total" { for (i = 2; i <= NF; i++) { split($i, kv, "="); total[kv[1]] = kv[2]; keys[++n] = kv[1] } }
    END { bad = 0; for (i = 1; i <= n; i++) if (sum[keys[i]] != total[keys[i]]) { printf "%s: queues %d, total %d; ", keys[i], sum[keys[i]], total[keys[i]]; bad = 1 }
          if (n == 0) print "no total line"; else if (!bad) print "ok" }' "$workdir/exitblock.out")
check_eq "the queue lines add up to the total line" ok "$sums"

# ---------------------------------------------------------------------------------------
log ""
log "== phase 2: no daemon on the queue (fail-closed without --queue-bypass, fail-open with it)"

for tool in "$IPT" "$IP6T"; do
    in_ns "$LAB_GW" "$tool" -w 5 -F FORWARD
    in_ns "$LAB_GW" "$tool" -w 5 -A FORWARD "${target[@]}"
done
traffic_server_start server2
start_traffic "${LAB_CLEAN4[0]}" nobypass4
start_traffic "${LAB_CLEAN6[0]}" nobypass6
wait_traffic
queued4=$(rule_packets "$IPT" NFQUEUE)
queued6=$(rule_packets "$IP6T" NFQUEUE)

for tool in "$IPT" "$IP6T"; do
    in_ns "$LAB_GW" "$tool" -w 5 -R FORWARD 1 "${target_bypass[@]}"
done
start_traffic "${LAB_CLEAN4[1]}" bypass-clean4
start_traffic "${LAB_LISTED4[1]}" bypass-listed4
start_traffic "${LAB_CLEAN6[1]}" bypass-clean6
start_traffic "${LAB_LISTED6[1]}" bypass-listed6
wait_traffic
traffic_server_stop

check "without --queue-bypass the IPv4 rule queued packets ($queued4)" test "$queued4" -gt 0
check "without --queue-bypass the IPv6 rule queued packets ($queued6)" test "$queued6" -gt 0
s2="$workdir/server2.json"
expect_group blocked "IPv4 clean, no daemon, no --queue-bypass: dropped" "$s2" nobypass4
expect_group blocked "IPv6 clean, no daemon, no --queue-bypass: dropped" "$s2" nobypass6
expect_group arrives "IPv4 clean, no daemon, --queue-bypass: passes" "$s2" bypass-clean4
expect_group arrives "IPv6 clean, no daemon, --queue-bypass: passes" "$s2" bypass-clean6
expect_group arrives "IPv4 listed, no daemon, --queue-bypass: passes too (fail-open)" "$s2" bypass-listed4
expect_group arrives "IPv6 listed, no daemon, --queue-bypass: passes too (fail-open)" "$s2" bypass-listed6

summary
((failed == 0))
