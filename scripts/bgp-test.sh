#!/usr/bin/env bash
# scripts/bgp-test.sh: `exitblock bgp` against real BGP daemons, on the three-namespace lab
# (client - gateway - server, see lib/netns.sh). The gateway is the router: BIRD 2 runs there
# with dist/bgp/bird.conf (paths replaced), ExaBGP peers with it over the gateway's loopback
# (127.0.0.2 -> 127.0.0.1) with dist/bgp/exabgp.conf and runs `exitblock bgp` as its API
# process. Needs root, bird2 and exabgp; no network beyond the lab.
#
# Phases:
#   dry-run    --dry-run prints the aggregated routes (allowlisted address cut out) and speaks
#              to nothing; --max-routes below the set refuses it with a clear error.
#   rtbh       ExaBGP -> BIRD: BIRD's routes from ExaBGP equal the set in both families;
#              the kernel has them as blackhole routes; with rp_filter loose (IPv4) and the
#              rpfilter match (IPv6) a listed source's traffic through the router is dropped
#              and a clean one is forwarded. A list change (file rewrite, then SIGHUP) shows
#              up as announcements and withdrawals within seconds; a broken list and a list
#              over --max-routes change nothing; killing exitblock (ExaBGP respawns it) does
#              not flap a route (BIRD's withdraw count and route count stay). The stats socket
#              serves the figures and `exitblock stats` shows them.
#   flowspec   the same ExaBGP config with style = "flowspec" and the list from an HTTP server
#              (lib/list_server.py): BIRD's flow4/flow6 tables hold `src X` for every route, a
#              list change moves them, and with the server down a restarted exitblock starts
#              from the disk cache before any fetch: no route flaps, no update reaches BIRD.
#   bird       --speaker bird: the include file is written and BIRD reloaded through its
#              control socket with birdc; BIRD's exitblock4/exitblock6 protocols hold the
#              set, and a rewrite of the list file (no signal: the file poll) moves them.
#
# Ends with `bgp: N passed, M failed`; exits non-zero if anything failed.
# Environment: EXITBLOCK (binary; default the debug build), BGP_KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-bg$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=bgp

workdir=""
bird_pid=""
exabgp_pid=""
speaker_pid=""
server_pid=""

cleanup() {
    local rc=$?
    [[ -n "$exabgp_pid" ]] && kill "$exabgp_pid" 2>/dev/null
    [[ -n "$speaker_pid" ]] && kill "$speaker_pid" 2>/dev/null
    [[ -n "$bird_pid" ]] && kill "$bird_pid" 2>/dev/null
    lab_test_cleanup "$rc" bgp "$exabgp_pid" "$speaker_pid" "$bird_pid" "$server_pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fails() { ! "$@"; }

for tool in bird birdc exabgp; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install bird2 exabgp)"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d /tmp/exitblock-bgp.XXXXXX)
chmod 755 "$workdir"
lab_up || die "lab_up failed"
gw ip link set lo up

# ---------------------------------------------------------------------------------------
# The lists and the expected routes

list="$workdir/exits.txt"
# 198.51.100.10-13 -> .10/31 and .12/31; .96/30 without the allowlisted .99 -> .96/31, .98/32.
write_list_a() {
    printf '%s\n' 198.51.100.10 198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.96/30 \
        2001:db8:bad::10 2001:db8:bad::11 2001:db8:bad::12 2001:db8:bad::13 >"$list.tmp"
    mv "$list.tmp" "$list"
}
routes_a="198.51.100.10/31 198.51.100.12/31 198.51.100.96/31 198.51.100.98/32 2001:db8:bad::10/126"
# B drops .12-.13 and ::12-::13, adds .20 and ::20.
write_list_b() {
    printf '%s\n' 198.51.100.10 198.51.100.11 198.51.100.20 198.51.100.96/30 \
        2001:db8:bad::10 2001:db8:bad::11 2001:db8:bad::20 >"$list.tmp"
    mv "$list.tmp" "$list"
}
routes_b="198.51.100.10/31 198.51.100.20/32 198.51.100.96/31 198.51.100.98/32 2001:db8:bad::10/127 2001:db8:bad::20/128"

# config STYLE NAME [LIST]: an exitblock config file for one run (LIST: default the file).
config() {
    local style=$1 name=$2 source=${3:-$list}
    mkdir -p "$workdir/state-$name"
    cat >"$workdir/$name.toml" <<EOF
[bgp]
list = ["$source"]
allow = ["198.51.100.99"]
state-directory = "$workdir/state-$name"
style = "$style"
max-routes = 8
max-shrink = 0.9
stats-socket = "$workdir/$name.sock"
bird-include = "$workdir/bird-routes.conf"
bird-socket = "$workdir/bird.ctl"
bird-flow-tables = "flowtab4,flowtab6"
EOF
}

# ---------------------------------------------------------------------------------------
# BIRD in the gateway

birdc_gw() { gw birdc -s "$workdir/bird.ctl" "$@"; }

: >"$workdir/bird-routes.conf"
sed -e "s#/var/lib/exitblock/bird-routes.conf#$workdir/bird-routes.conf#" "$root/dist/bgp/bird.conf" \
    >"$workdir/bird.conf"
# Started with ip netns exec directly (not through gw) so that $! is BIRD itself.
ip netns exec "$LAB_GW" bird -f -c "$workdir/bird.conf" -s "$workdir/bird.ctl" -P "$workdir/bird.pid" \
    >"$workdir/daemon-bird.err" 2>&1 &
bird_pid=$!
wait_for 10 "BIRD's control socket" birdc_gw show status || die "BIRD did not start"
pass "BIRD $(birdc_gw show status | sed -n 's/^BIRD \([0-9.]*\).*/\1/p' | head -1) runs with dist/bgp/bird.conf"

# bird_routes TABLE PROTOCOL: the prefixes (or flow sources) of PROTOCOL's routes in TABLE,
# sorted, on one line.
bird_routes() {
    birdc_gw show route table "$1" protocol "$2" 2>/dev/null |
        sed -n -e 's/^flow[46] *{ *src \([^;]*\);.*/\1/p' -e 's#^\([0-9a-f:.]*/[0-9]*\) .*#\1#p' |
        sort | tr '\n' ' ' | sed 's/ $//'
}
# bird_set PROTOCOL [flow]: the routes of PROTOCOL in both families, sorted as the lists above.
bird_set() {
    local v4=master4 v6=master6
    if [[ "${2:-}" == flow ]]; then v4=flowtab4 v6=flowtab6; fi
    printf '%s %s' "$(bird_routes "$v4" "$1")" "$(bird_routes "$v6" "$1")" | sed 's/^ //; s/ $//'
}
# wait_set SECONDS PROTOCOL EXPECTED [flow]: wait until BIRD's set equals EXPECTED.
wait_set() {
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        [[ "$(bird_set "$2" "${4:-}")" == "$3" ]] && return 0
        sleep 0.2
    done
    return 1
}
# updates_received PROTOCOL: BIRD's count of updates received from PROTOCOL (both families).
updates_received() {
    birdc_gw show protocols all "$1" | awk '/Import updates:/ { sum += $3 } END { print sum + 0 }'
}
# withdraws_received PROTOCOL: BIRD's count of withdrawals received from PROTOCOL (both families).
withdraws_received() {
    birdc_gw show protocols all "$1" | awk '/Import withdraws:/ { sum += $3 } END { print sum + 0 }'
}

# ---------------------------------------------------------------------------------------
log "== dry-run"
write_list_a
config rtbh dry
out=$("$exitblock" bgp --config "$workdir/dry.toml" --dry-run 2>"$workdir/exitblock-dry.err")
check_eq "dry-run prints one announcement per aggregated route" 5 "$(grep -c '^announce route' <<<"$out")"
check "dry-run: RTBH with the discard next hop and BLACKHOLE community" \
    grep -qx 'announce route 198.51.100.10/31 next-hop 192.0.2.1 community \[65535:666\]' <<<"$out"
check "dry-run: the allowlisted address is cut out" grep -q 'announce route 198.51.100.98/32 ' <<<"$out"
check "dry-run: speaks to nothing (no ledger written)" test ! -e "$workdir/state-dry/bgp-exabgp.routes"
set +e
"$exitblock" bgp --config "$workdir/dry.toml" --dry-run --max-routes 3 >/dev/null 2>"$workdir/exitblock-cap.err"
rc=$?
set -e
check "--max-routes 3 refuses a set of 5 routes (exit status $rc)" test "$rc" -ne 0
check "the refusal says why" grep -q 'over --max-routes 3' "$workdir/exitblock-cap.err"
printf '198.51.100.10\n10.0.0.0/8\n' >"$workdir/broad.txt"
set +e
"$exitblock" bgp --list "$workdir/broad.txt" --no-cache --dry-run >/dev/null 2>"$workdir/exitblock-broad.err"
rc=$?
set -e
check "the max-prefix guard refuses a list with a /8 (exit status $rc)" test "$rc" -ne 0
check "and says so" grep -q '10.0.0.0/8' "$workdir/exitblock-broad.err"
out=$("$exitblock" bgp --config "$workdir/dry.toml" --dry-run --style flowspec 2>/dev/null)
check "dry-run FlowSpec form" \
    grep -qx 'announce flow route { match { source 2001:db8:bad::10/126; } then { discard; } }' <<<"$out"

# ---------------------------------------------------------------------------------------
# ExaBGP with `exitblock bgp` as its API process.

# start_exabgp NAME: ExaBGP with dist/bgp/exabgp.conf, running exitblock with NAME.toml
# through a wrapper that records the pid of the exitblock it starts.
start_exabgp() {
    local name=$1
    cat >"$workdir/feed-$name.sh" <<EOF
#!/bin/sh
echo \$\$ >"$workdir/feed-$name.pid"
exec "$exitblock" bgp --config "$workdir/$name.toml" 2>>"$workdir/exitblock-$name.err"
EOF
    chmod 755 "$workdir/feed-$name.sh"
    sed -e "s#^    run .*#    run $workdir/feed-$name.sh;#" "$root/dist/bgp/exabgp.conf" >"$workdir/exabgp-$name.conf"
    ip netns exec "$LAB_GW" env exabgp_daemon_user=root exabgp_api_cli=false exabgp_log_destination=stderr \
        exabgp "$workdir/exabgp-$name.conf" \
        >"$workdir/daemon-exabgp-$name.err" 2>&1 &
    exabgp_pid=$!
}
stop_exabgp() {
    kill "$exabgp_pid" 2>/dev/null
    wait "$exabgp_pid" 2>/dev/null || true
    exabgp_pid=""
}
feed_pid() { cat "$workdir/feed-$1.pid"; }
session_up() { birdc_gw show protocols exabgp | grep -q Established; }

log ""
log "== rtbh: ExaBGP -> BIRD"
config rtbh rtbh
start_exabgp rtbh
wait_for 30 "the BGP session" session_up || die "ExaBGP did not peer with BIRD"
pass "ExaBGP $(exabgp --version 2>/dev/null | sed -n 's/^ExaBGP : //p') peers with BIRD over loopback"
if wait_set 20 exabgp "$routes_a"; then pass "BIRD's routes from ExaBGP equal the set, both families"; else
    fail "BIRD's routes: expected [$routes_a], got [$(bird_set exabgp)]"
fi
kernel_routes() { gw ip -"$1" route show type blackhole proto bird | awk '{print $2}' | sort | tr '\n' ' '; }
check "the kernel has the IPv4 routes as blackhole routes" grep -q '198.51.100.10/31 ' <<<"$(kernel_routes 4)"
check "the kernel has the IPv6 routes as blackhole routes" grep -q '2001:db8:bad::10/126 ' <<<"$(kernel_routes 6)"

# uRPF: loose rp_filter on the router's client side (IPv4), the rpfilter match for IPv6.
gw sysctl -qw net.ipv4.conf.all.rp_filter=2 "net.ipv4.conf.$LAB_GW_CLIENT_IF.rp_filter=2"
gw ip6tables -t raw -A PREROUTING -i "$LAB_GW_CLIENT_IF" -m rpfilter --loose --invert -j DROP
ping_from() { in_ns "$LAB_CLIENT" ping "-$1" -c 2 -i 0.2 -W 1 -I "$2" "$3" >/dev/null 2>&1; }
check "a clean IPv4 source is forwarded" ping_from 4 "${LAB_CLEAN4[0]}" "$LAB_SERVER4"
check "a clean IPv6 source is forwarded" ping_from 6 "${LAB_CLEAN6[0]}" "$LAB_SERVER6"
check "a listed IPv4 source is dropped (RTBH + rp_filter)" fails ping_from 4 "${LAB_LISTED4[0]}" "$LAB_SERVER4"
check "a listed IPv6 source is dropped (RTBH + rpfilter)" fails ping_from 6 "${LAB_LISTED6[0]}" "$LAB_SERVER6"

# The stats socket and `exitblock stats`.
stats=$("$exitblock" stats --socket "$workdir/rtbh.sock" --interval 0 2>&1 || true)
check "exitblock stats shows the routes in force" grep -q 'bgp: exabgp, rtbh; 5 routes in force (4 IPv4, 1 IPv6)' \
    <<<"$stats"
metrics=$(curl -s --unix-socket "$workdir/rtbh.sock" http://localhost/metrics)
check_eq "exitblock_bgp_announced_total" 5 "$(awk '$1 == "exitblock_bgp_announced_total" {print $2}' <<<"$metrics")"

log "-- a list change"
before_change=$SECONDS
write_list_b
kill -HUP "$(feed_pid rtbh)"
if wait_set 10 exabgp "$routes_b"; then
    pass "the change is in BIRD within $((SECONDS - before_change))s: announcements and withdrawals"
else
    fail "after the change: expected [$routes_b], got [$(bird_set exabgp)]"
fi
metrics=$(curl -s --unix-socket "$workdir/rtbh.sock" http://localhost/metrics)
# A -> B announces .20/32, ::10/127, ::20/128 and withdraws .12/31, ::10/126.
check_eq "only the difference was announced (5 + 3)" 8 \
    "$(awk '$1 == "exitblock_bgp_announced_total" {print $2}' <<<"$metrics")"
check_eq "only the difference was withdrawn" 2 "$(awk '$1 == "exitblock_bgp_withdrawn_total" {print $2}' <<<"$metrics")"

log "-- a broken list and a list over --max-routes change nothing"
withdraws=$(withdraws_received exabgp)
rtbh_metrics() { curl -s --unix-socket "$workdir/rtbh.sock" http://localhost/metrics; }
list_refusals() { rtbh_metrics | awk '$1 ~ /^exitblock_refusals_total/ { sum += $2 } END { print sum + 0 }'; }
refused_since() { (($(list_refusals) > $1)); }
routes_refused() { rtbh_metrics | grep -q 'exitblock_bgp_refused_updates_total{reason="max_routes"} 1'; }
refusals=$(list_refusals)
printf 'this is not a list\n' >"$list"
kill -HUP "$(feed_pid rtbh)"
wait_for 10 "the broken list to be refused" refused_since "$refusals" || fail "the broken list was not refused"
check_eq "a broken list changes nothing" "$routes_b" "$(bird_set exabgp)"
seq -f '198.51.100.%g' 100 2 140 >"$list"
kill -HUP "$(feed_pid rtbh)"
wait_for 10 "the set over --max-routes to be refused" routes_refused || fail "the set over --max-routes was not refused"
check_eq "a list over --max-routes changes nothing" "$routes_b" "$(bird_set exabgp)"
check "the refusal is counted" grep -q 'exitblock_bgp_refused_updates_total{reason="max_routes"} 1' \
    <<<"$(curl -s --unix-socket "$workdir/rtbh.sock" http://localhost/metrics)"
check_eq "no withdrawal reached BIRD" "$withdraws" "$(withdraws_received exabgp)"

log "-- a restart of exitblock does not flap"
write_list_b
updates=$(updates_received exabgp)
old=$(feed_pid rtbh)
kill -TERM "$old"
flapped=0
deadline=$((SECONDS + 8))
while ((SECONDS < deadline)); do
    [[ "$(bird_set exabgp)" == "$routes_b" ]] || flapped=1
    sleep 0.2
done
check "ExaBGP respawned exitblock" test "$(feed_pid rtbh)" != "$old"
check_eq "the routes stayed through the restart" 0 "$flapped"
check_eq "no withdrawal reached BIRD" "$withdraws" "$(withdraws_received exabgp)"
check_eq "no update reached BIRD either (the re-announcement changed nothing)" "$updates" \
    "$(updates_received exabgp)"
stop_exabgp

# ---------------------------------------------------------------------------------------
log ""
log "== flowspec: ExaBGP -> BIRD, the list from an HTTP server"
write_list_a
ip netns exec "$LAB_GW" python3 "$root/scripts/lib/list_server.py" --list "$list" --ready "$workdir/server.port" \
    --deadline 600 2>"$workdir/server.err" &
server_pid=$!
wait_for 10 "the list server" test -s "$workdir/server.port" || die "the list server did not start"
port=$(cat "$workdir/server.port")
server_control() { gw curl -sS --max-time 5 "http://127.0.0.1:$port/_control?mode=$1" >/dev/null; }
config flowspec flow "http://127.0.0.1:$port/exits"
wait_for 30 "the old session to go" fails session_up || true
start_exabgp flow
wait_for 30 "the BGP session" session_up || die "ExaBGP did not peer with BIRD (flowspec)"
if wait_set 20 exabgp "$routes_a" flow; then pass "BIRD's flow4/flow6 tables hold src X for every route"; else
    fail "flow routes: expected [$routes_a], got [$(bird_set exabgp flow)]"
fi
check "the flow routes say discard (traffic-rate 0)" grep -q 'generic, 0x80060000, 0x0' \
    <<<"$(birdc_gw show route table flowtab4 all)"
write_list_b
kill -HUP "$(feed_pid flow)"
if wait_set 10 exabgp "$routes_b" flow; then pass "a list change moves the flow routes"; else
    fail "flow routes after the change: expected [$routes_b], got [$(bird_set exabgp flow)]"
fi

log "-- a restart with the list server down starts from the disk cache, before any fetch"
server_control error
updates=$(updates_received exabgp)
withdraws=$(withdraws_received exabgp)
old=$(feed_pid flow)
kill -TERM "$old"
flapped=0
deadline=$((SECONDS + 8))
while ((SECONDS < deadline)); do
    [[ "$(bird_set exabgp flow)" == "$routes_b" ]] || flapped=1
    sleep 0.2
done
check "ExaBGP respawned exitblock" test "$(feed_pid flow)" != "$old"
check "it started from the cached list" grep -q 'cached version loaded' "$workdir/exitblock-flow.err"
check "and its fetch failed (the server answers 500)" grep -q 'failed (http_status' "$workdir/exitblock-flow.err"
check_eq "the flow routes stayed through the restart" 0 "$flapped"
check_eq "no withdrawal reached BIRD" "$withdraws" "$(withdraws_received exabgp)"
check_eq "no update reached BIRD" "$updates" "$(updates_received exabgp)"
server_control serve
stop_exabgp

# ---------------------------------------------------------------------------------------
log ""
log "== bird: the include file and birdc configure"
write_list_a
config rtbh birdinc
"$exitblock" bgp --config "$workdir/birdinc.toml" --speaker bird --birdc "$(command -v birdc)" \
    --stats-socket "$workdir/birdinc.sock" 2>"$workdir/exitblock-birdinc.err" &
speaker_pid=$!
bird_static() { printf '%s %s' "$(bird_routes master4 exitblock4)" "$(bird_routes master6 exitblock6)"; }
wait_static() {
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        [[ "$(bird_static)" == "$2" ]] && return 0
        sleep 0.2
    done
    return 1
}
if wait_static 15 "$routes_a"; then pass "BIRD's exitblock4/exitblock6 hold the set"; else
    fail "include mode: expected [$routes_a], got [$(bird_static)]"
fi
check "the include file was replaced atomically (no temporary left)" test ! -e "$workdir/bird-routes.conf.tmp"
before_change=$SECONDS
write_list_b # no signal: the file poll sees the rewrite
if wait_static 10 "$routes_b"; then
    pass "a list rewrite (no signal) reaches BIRD through birdc configure within $((SECONDS - before_change))s"
else
    fail "include mode after the change: expected [$routes_b], got [$(bird_static)]"
fi
kill -TERM "$speaker_pid"
wait "$speaker_pid" 2>/dev/null || true
speaker_pid=""

summary
