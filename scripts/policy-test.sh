#!/usr/bin/env bash
# scripts/policy-test.sh: port-aware Tor data (`--exit-policy`, relay mode) on the
# three-namespace lab (client - gateway - server, see lib/netns.sh), IPv4 and IPv6, with real
# iptables/ip6tables NFQUEUE rules and real traffic. Needs root; no network beyond the lab.
#
# First, without the lab: the policies `exitblock list parse --policy` assigns to the real
# consensus (../shared/data/tor) equal those of an independent reading (lib/policy_check.py),
# for every relay, in exit mode and in relay mode (`--format relays`).
#
# The gateway's FORWARD chain, per family: -j NFQUEUE --queue-num Q (no bypass).
# Lists: an Onionoo document whose exit relay has LISTED4[0] and LISTED6[0] with
# exit_policy_summary / exit_policy_v6_summary {"accept":[OK]}, and an ns consensus whose
# exit relay LISTED4[1] has `p reject NO` (OK and NO are two server ports).
#
# Phases (one daemon each):
#   exit-policy  --exit-policy: TCP and UDP from the listed exits to port OK are dropped, to
#                port NO they pass (both families, both list formats); ping from a listed exit
#                is still dropped (no ports: judged on the address); a clean source passes;
#                /stats outside_policy and /metrics exitblock_packets_outside_policy_total count
#                the packets let through; `check ADDRESS:PORT --exit-policy` explains both.
#   address      without --exit-policy: the listed exits are blocked at port NO too.
#   relays       --format relays --match destination on a consensus listing the server's two
#                addresses with ORPort OK, rules from `exitblock rules install --source` with
#                the clean ("customer") prefixes: a customer's TCP connections to OK are
#                dropped, to NO they pass, UDP to OK passes (Tor's ORPort is TCP); a source
#                outside the customer prefixes is not queued and reaches OK; both families.
#
# Ends with `policy: N passed, M failed`; exits non-zero if anything failed.
#
# Environment: EXITBLOCK (binary; default the debug build), POLICY_QUEUE (default 13),
# POLICY_COUNT (UDP datagrams and TCP connects per source and port, default 3),
# POLICY_OK_PORT (default 5631), POLICY_NO_PORT (default 5632), POLICY_KEEP=1 keeps the work
# directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-po$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=policy

QUEUE=${POLICY_QUEUE:-13}
COUNT=${POLICY_COUNT:-3}
OK_PORT=${POLICY_OK_PORT:-5631}
NO_PORT=${POLICY_NO_PORT:-5632}
PYTHON=${PYTHON:-python3}
TRAFFIC="$root/scripts/traffic.py"
CONSENSUS="$root/../shared/data/tor/consensus-2022-11-19"
SEND_TIMEOUT=0.5

daemon_pid=""
server_pid=""
ok_server_pid=""
no_server_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" policy "$daemon_pid" "$ok_server_pid" "$no_server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------
# The daemon

# start_daemon_named NAME ARGS...: exitblock run in the gateway with a stats socket of its
# own (lib/daemon.sh's start_daemon); waits for "ready".
start_daemon_named() {
    local name=$1
    shift
    daemon_name=$name
    sock="$workdir/$name.sock"
    if start_daemon "$workdir/daemon-$name" -- --queue "$QUEUE" --stats-socket "$sock" --no-cache "$@"; then
        pass "$name: exitblock started: $(grep -m1 -o 'ready.*' "$workdir/daemon-$name.err")"
    else
        die "$name: exitblock did not start"
    fi
}

# stop_named: stop the daemon (lib/daemon.sh) and read its total line into `total`.
stop_named() { stop_daemon "$daemon_name" "$workdir/daemon-$daemon_name.out"; }

# stats_json PYTHON_EXPRESSION: evaluate an expression over the /stats document `d`.
stats_json() {
    curl -sS --max-time 5 --unix-socket "$sock" http://localhost/stats |
        "$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# metric NAME: the sum of the samples of a /metrics family, or "missing".
metric_sum() {
    curl -sS --max-time 5 --unix-socket "$sock" http://localhost/metrics |
        awk -v name="$1" 'index($1, name "{") == 1 || $1 == name { sum += $2; found = 1 }
            END { if (found) print sum + 0; else print "missing" }'
}

# ---------------------------------------------------------------------------------------
# Traffic

pids=()

# start_servers PHASE: traffic servers on OK_PORT and NO_PORT in the server namespace.
start_servers() {
    PORT=$OK_PORT traffic_server_start "$1-ok"
    ok_server_pid=$server_pid
    PORT=$NO_PORT traffic_server_start "$1-no"
    no_server_pid=$server_pid
    server_pid=""
}

stop_servers() {
    server_pid=$ok_server_pid
    traffic_server_stop
    ok_server_pid=""
    server_pid=$no_server_pid
    traffic_server_stop
    no_server_pid=""
}

# send TAG SRC DST PORT: in the background, traffic.py UDP + TCP from SRC to DST:PORT.
send() {
    local tag=$1 src=$2 dst=$3 port=$4
    timeout 60 ip netns exec "$LAB_CLIENT" "$PYTHON" "$TRAFFIC" send --src "$src" --dst "$dst" --port "$port" \
        --count "$COUNT" --timeout "$SEND_TIMEOUT" >"$workdir/$tag.send.json" 2>"$workdir/$tag.send.err" &
    pids+=("$!")
}

# ping_from TAG SRC DST: in the background, two pings.
ping_from() {
    local tag=$1 src=$2 dst=$3 family=-4
    [[ "$src" == *:* ]] && family=-6
    timeout 30 ip netns exec "$LAB_CLIENT" ping "$family" -n -c 2 -i 0.2 -W 1 -I "$src" "$dst" \
        >"$workdir/$tag.ping" 2>&1 &
    pids+=("$!")
}

wait_senders() {
    local pid
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    pids=()
}

# expect PHASE TAG PORT UDP TCP: the UDP and the TCP traffic of TAG (sent to PORT) "arrives"
# in full or is "blocked" entirely, judged by the server's per-source counts and the echoes.
expect() {
    local phase=$1 tag=$2 port=$3 udp=$4 tcp=$5 t server
    if [[ "$port" == "$OK_PORT" ]]; then server="$workdir/$phase-ok.json"; else server="$workdir/$phase-no.json"; fi
    read -ra t <<<"$("$PYTHON" "$TRAFFIC" tally --server "$server" "$workdir/$tag.send.json")"
    local sent received replies attempts connected accepted
    sent=$(kv udp_sent "${t[@]}")
    received=$(kv udp_received "${t[@]}")
    replies=$(kv udp_replies "${t[@]}")
    attempts=$(kv tcp_attempts "${t[@]}")
    connected=$(kv tcp_connected "${t[@]}")
    accepted=$(kv tcp_accepted "${t[@]}")
    if [[ "$sent" != "$COUNT" || "$attempts" != "$COUNT" ]]; then
        fail "$tag: traffic not sent as planned (udp $sent, tcp $attempts)"
        return
    fi
    if [[ "$udp" == arrives ]]; then
        check "$tag: UDP to port $port arrives ($received/$sent received, $replies echoed)" \
            test "$received" -eq "$sent" -a "$replies" -eq "$sent"
    else
        check "$tag: UDP to port $port blocked ($received/$sent received)" test "$received" -eq 0 -a "$replies" -eq 0
    fi
    if [[ "$tcp" == arrives ]]; then
        check "$tag: TCP to port $port arrives ($connected/$attempts connected, $accepted accepted)" \
            test "$connected" -eq "$attempts" -a "$accepted" -eq "$attempts"
    else
        check "$tag: TCP to port $port blocked ($connected/$attempts connected)" \
            test "$connected" -eq 0 -a "$accepted" -eq 0
    fi
}

# expect_ping TAG arrives|blocked
expect_ping() {
    local tx rx
    read -r tx rx <<<"$(awk '/packets transmitted/ { print $1, $4 }' "$workdir/$1.ping")"
    if [[ "$2" == arrives ]]; then
        check "$1: ping arrives ($rx/$tx)" test "${rx:-0}" -eq "${tx:-0}" -a "${tx:-0}" -gt 0
    else
        check "$1: ping blocked ($rx/$tx)" test "${rx:-1}" -eq 0 -a "${tx:-0}" -gt 0
    fi
}

# ---------------------------------------------------------------------------------------
# Setup

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
for tool in ip iptables ip6tables ping timeout awk curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-policy.XXXXXX")
log "policy: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE, ports ok $OK_PORT / no $NO_PORT"

# Real data, every relay: exitblock's policies against an independent reading.
if [[ -r "$CONSENSUS" ]]; then
    "$exitblock" list parse --policy "$CONSENSUS" >"$workdir/exits.policies" 2>"$workdir/exitblock-parse.err"
    said=$("$PYTHON" "$root/scripts/lib/policy_check.py" "$CONSENSUS" "$workdir/exits.policies" 2>&1) && rc=0 || rc=$?
    check "real consensus, exit policies: $said" test "$rc" -eq 0
    "$exitblock" list parse --policy --format relays "$CONSENSUS" >"$workdir/relays.policies" \
        2>"$workdir/exitblock-parse-relays.err"
    said=$("$PYTHON" "$root/scripts/lib/policy_check.py" "$CONSENSUS" "$workdir/relays.policies" --relays 2>&1) &&
        rc=0 || rc=$?
    check "real consensus, relay ports: $said" test "$rc" -eq 0
else
    fail "real consensus not readable: $CONSENSUS"
fi

L4=("${LAB_LISTED4[@]}")
L6=("${LAB_LISTED6[@]}")
C4=("${LAB_CLEAN4[@]}")
C6=("${LAB_CLEAN6[@]}")

cat >"$workdir/onionoo.json" <<EOF
{"version":"8.0","relays":[
 {"nickname":"labexit","or_addresses":["${L4[0]}:9001","[${L6[0]}]:9001"],
  "flags":["Exit","Fast","Running","Valid"],
  "exit_policy_summary":{"accept":["$OK_PORT"]},
  "exit_policy_v6_summary":{"accept":["$OK_PORT"]}}
],"bridges":[]}
EOF
cat >"$workdir/exits.consensus" <<EOF
network-status-version 3
vote-status consensus
r labexit2 AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 ${L4[1]} 9001 0
s Exit Fast Running Valid
p reject $NO_PORT
directory-footer
EOF
cat >"$workdir/relays.consensus" <<EOF
network-status-version 3
vote-status consensus
r labrelay BBoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 $LAB_SERVER4 $OK_PORT 0
a [$LAB_SERVER6]:$OK_PORT
s Fast Running Stable Valid
p reject 1-65535
directory-footer
EOF

# check ADDRESS:PORT, no lab needed.
rc=0
said=$("$exitblock" check "${L4[0]}:$NO_PORT" --list "$workdir/onionoo.json" --exit-policy) || rc=$?
check "check ${L4[0]}:$NO_PORT --exit-policy: not blocked (status $rc): ${said//$'\n'/ | }" \
    test "$rc" -eq 1 -a -n "$(grep -F 'relay labexit, policy accept '"$OK_PORT" <<<"$said")"
rc=0
said=$("$exitblock" check "[${L6[0]}]:$OK_PORT" --protocol udp --list "$workdir/onionoo.json" --exit-policy) || rc=$?
check "check [${L6[0]}]:$OK_PORT --exit-policy: blocked (status $rc): ${said//$'\n'/ | }" test "$rc" -eq 0
rc=0
said=$("$exitblock" check "$LAB_SERVER4:$NO_PORT" --format relays --list "$workdir/relays.consensus") || rc=$?
check "check $LAB_SERVER4:$NO_PORT --format relays: not blocked (status $rc): ${said//$'\n'/ | }" test "$rc" -eq 1

lab_up || die "lab setup failed"
lab_wait_ready || die "lab not ready"
for tool in iptables ip6tables; do
    in_ns "$LAB_GW" "$tool" -w 5 -A FORWARD -j NFQUEUE --queue-num "$QUEUE"
done

# ---------------------------------------------------------------------------------------
log ""
log "== exit-policy: --exit-policy, listed exits to an accepted and a rejected port"
start_servers exitpolicy
start_daemon_named exitpolicy --list "$workdir/onionoo.json" --list "$workdir/exits.consensus" --exit-policy
send ep-l4-ok "${L4[0]}" "$LAB_SERVER4" "$OK_PORT"
send ep-l4-no "${L4[0]}" "$LAB_SERVER4" "$NO_PORT"
send ep-l6-ok "${L6[0]}" "$LAB_SERVER6" "$OK_PORT"
send ep-l6-no "${L6[0]}" "$LAB_SERVER6" "$NO_PORT"
send ep-c4-ok "${L4[1]}" "$LAB_SERVER4" "$OK_PORT"
send ep-c4-no "${L4[1]}" "$LAB_SERVER4" "$NO_PORT"
send ep-clean-ok "${C4[0]}" "$LAB_SERVER4" "$OK_PORT"
send ep-clean6-ok "${C6[0]}" "$LAB_SERVER6" "$OK_PORT"
ping_from ep-l4-ping "${L4[0]}" "$LAB_SERVER4"
ping_from ep-l6-ping "${L6[0]}" "$LAB_SERVER6"
wait_senders
outside=$(stats_json 'sum(q["counters"]["outside_policy"] for q in d["stats"]["queues"])')
outside_metric=$(metric_sum exitblock_packets_outside_policy_total)
stop_servers
stop_named
expect exitpolicy ep-l4-ok "$OK_PORT" blocked blocked
expect exitpolicy ep-l4-no "$NO_PORT" arrives arrives
expect exitpolicy ep-l6-ok "$OK_PORT" blocked blocked
expect exitpolicy ep-l6-no "$NO_PORT" arrives arrives
expect exitpolicy ep-c4-ok "$OK_PORT" blocked blocked
expect exitpolicy ep-c4-no "$NO_PORT" arrives arrives
expect exitpolicy ep-clean-ok "$OK_PORT" arrives arrives
expect exitpolicy ep-clean6-ok "$OK_PORT" arrives arrives
expect_ping ep-l4-ping blocked
expect_ping ep-l6-ping blocked
check "exit-policy: /stats outside_policy counts the packets let through ($outside)" test "$outside" -gt 0
check_eq "exit-policy: /metrics exitblock_packets_outside_policy_total equals /stats" "$outside" "$outside_metric"
check_eq "exit-policy: final outside_policy line" "$outside" "$(kv outside_policy "${total[@]}")"

# ---------------------------------------------------------------------------------------
log ""
log "== address: without --exit-policy the rejected port is blocked too"
start_servers address
start_daemon_named address --list "$workdir/onionoo.json" --list "$workdir/exits.consensus"
send ad-l4-no "${L4[0]}" "$LAB_SERVER4" "$NO_PORT"
send ad-l6-no "${L6[0]}" "$LAB_SERVER6" "$NO_PORT"
send ad-c4-no "${L4[1]}" "$LAB_SERVER4" "$NO_PORT"
wait_senders
stop_servers
stop_named
expect address ad-l4-no "$NO_PORT" blocked blocked
expect address ad-l6-no "$NO_PORT" blocked blocked
expect address ad-c4-no "$NO_PORT" blocked blocked

# ---------------------------------------------------------------------------------------
log ""
log "== relays: --format relays --match destination, the server's addresses as a relay with ORPort $OK_PORT;"
log "   rules install --source limits queueing to the customer prefixes ${LAB_SOURCE_PREFIXES4[1]}, ${LAB_SOURCE_PREFIXES6[1]}"
for tool in iptables ip6tables; do in_ns "$LAB_GW" "$tool" -w 5 -F FORWARD; done
rc=0
in_ns "$LAB_GW" "$exitblock" rules install --queue "$QUEUE" --no-queue-bypass \
    --source "${LAB_SOURCE_PREFIXES4[1]}" --source "${LAB_SOURCE_PREFIXES6[1]}" \
    >"$workdir/rules-install.out" 2>"$workdir/exitblock-rules.err" || rc=$?
check "relays: rules install --source (status $rc)" test "$rc" -eq 0
rules_v4=$(in_ns "$LAB_GW" iptables -w 5 -t mangle -S EXITBLOCK 2>&1 | grep NFQUEUE || true)
rules_v6=$(in_ns "$LAB_GW" ip6tables -w 5 -t mangle -S EXITBLOCK 2>&1 | grep NFQUEUE || true)
check "relays: the IPv4 queue rule names the customer prefix: $rules_v4" \
    grep -qF -- "-s ${LAB_SOURCE_PREFIXES4[1]}" <<<"$rules_v4"
check "relays: the IPv6 queue rule names the customer prefix: $rules_v6" \
    grep -qF -- "-s ${LAB_SOURCE_PREFIXES6[1]}" <<<"$rules_v6"
start_servers relays
start_daemon_named relays --list "$workdir/relays.consensus" --format relays --match destination
send rl-4-ok "${C4[1]}" "$LAB_SERVER4" "$OK_PORT"
send rl-4-no "${C4[1]}" "$LAB_SERVER4" "$NO_PORT"
send rl-6-ok "${C6[1]}" "$LAB_SERVER6" "$OK_PORT"
send rl-6-no "${C6[1]}" "$LAB_SERVER6" "$NO_PORT"
send rl-other4-ok "${L4[2]}" "$LAB_SERVER4" "$OK_PORT"
send rl-other6-ok "${L6[2]}" "$LAB_SERVER6" "$OK_PORT"
ping_from rl-4-ping "${C4[1]}" "$LAB_SERVER4"
wait_senders
stop_servers
stop_named
expect relays rl-4-ok "$OK_PORT" arrives blocked
expect relays rl-4-no "$NO_PORT" arrives arrives
expect relays rl-6-ok "$OK_PORT" arrives blocked
expect relays rl-6-no "$NO_PORT" arrives arrives
expect relays rl-other4-ok "$OK_PORT" arrives arrives
expect relays rl-other6-ok "$OK_PORT" arrives arrives
expect_ping rl-4-ping arrives
in_ns "$LAB_GW" "$exitblock" rules remove >/dev/null 2>>"$workdir/exitblock-rules.err" || fail "relays: rules remove"

summary
