#!/usr/bin/env bash
# scripts/sources-test.sh: integration test of list sources (root): HTTP refresh, conditional
# requests, refusals that keep the set in force, and the start from the disk cache.
#
# In a three-namespace lab (scripts/lib/netns.sh), a controllable list server
# (scripts/lib/list_server.py) listens on the gateway's loopback, and exitblock runs in the
# gateway with --list http://127.0.0.1:PORT/exits, a 1 s refresh interval, a state directory
# and a stats socket in a temporary directory. Only ICMP echo requests from the client are
# queued (iptables/ip6tables NFQUEUE); a source is "dropped" when none of its pings is
# answered and "passes" when all are. It checks, with real traffic and /metrics:
#   1. start: the listed sources are dropped, the others pass;
#   2. the server adds two sources: a refresh publishes them (set version +1), they are dropped;
#   3. the server answers 304: exitblock_source_fetches_total{result="not_modified"} grows, the
#      set version and exitblock_set_rebuilds_total do not;
#   4. 500, a hang (past --fetch-timeout), a truncated body, an empty body and a 90% shrink:
#      each is counted under its reason in exitblock_refusals_total, the set version does not
#      move, and the newly listed sources are still dropped;
#   5. restart with the server down: exitblock starts from the disk cache, the listed sources
#      are dropped at once, exitblock_source_from_cache is 1 and the source's age is reported.
# Ends with "sources: N passed, M failed"; exit status 0 only when nothing failed.
#
# Environment: EXITBLOCK (binary; else built with swift build), SOURCES_QUEUE (default 13),
# SOURCES_KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=sources

QUEUE=${SOURCES_QUEUE:-13}
PYTHON=${PYTHON:-python3}
WAIT=20 # seconds to wait for a refresh to show in the metrics

workdir=""
daemon_pid=""
server_pid=""

cleanup() { lab_test_cleanup "$?" sources "$daemon_pid" "$server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$(id -u)" -ne 0 ]]; then
    log "sources-test: needs root (network namespaces, iptables)"
    exit 1
fi
for tool in curl "$PYTHON" iptables ip6tables ping; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

EXITBLOCK=$(find_exitblock "$root")
workdir=$(mktemp -d /tmp/exitblock-sources.XXXXXX)
sock="$workdir/run/exitblock.sock"
state="$workdir/state"

# metric_at_least NAME{LABELS} N: true when the metric is a number >= N.
metric_at_least() {
    local value
    value=$(metric "$1")
    [[ "$value" =~ ^[0-9.]+$ ]] && awk -v v="$value" -v n="$2" 'BEGIN { exit !(v >= n) }'
}
server_control() { gw curl -sS --max-time 5 "http://127.0.0.1:$port/_control?mode=$1" >/dev/null; }
server_stat() { gw curl -sS --max-time 5 "http://127.0.0.1:$port/_stats" | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }

# answered SRC: how many of 3 echo requests from SRC to the server were answered.
answered() {
    local src=$1 dst=$LAB_SERVER4 family=-4
    if [[ "$src" == *:* ]]; then
        dst=$LAB_SERVER6
        family=-6
    fi
    timeout 20 ip netns exec "$LAB_CLIENT" ping "$family" -n -q -c 3 -i 0.2 -W 1 -I "$src" "$dst" 2>/dev/null |
        awk '/packets transmitted/ { print $4; found = 1 } END { if (!found) print 0 }'
}
expect_dropped() { check_eq "$2: $1 dropped (echo replies)" 0 "$(answered "$1")"; }
expect_passes() { check_eq "$2: $1 passes (echo replies)" 3 "$(answered "$1")"; }

not_answering() { ! gw curl -sS --max-time 2 "http://127.0.0.1:$port/_stats" >/dev/null 2>&1; }

# start_tagged TAG: exitblock on the HTTP list with the disk cache, output in exitblock-TAG.*.
start_tagged() {
    local tag=$1
    start_daemon "$workdir/exitblock-$tag" -- --queue "$QUEUE" --list "$url" --refresh-interval 1s \
        --fetch-timeout 2s --state-directory "$state" --stats-socket "$sock" || die "exitblock did not start ($tag)"
}

lab_up
log "sources: lab $LAB_ID up"

# The lists: v1 lists the first listed source of each family and 38 filler addresses (so
# that a 90% shrink leaves 4 entries), v2 adds the second listed source of each family.
{
    printf '# exitblock sources test, v1\n'
    printf '%s\n' "${LAB_LISTED4[0]}" "${LAB_LISTED6[0]}"
    for i in $(seq 1 38); do printf '198.18.0.%d\n' "$i"; done
} >"$workdir/v1.list"
{
    cat "$workdir/v1.list"
    printf '%s\n' "${LAB_LISTED4[1]}" "${LAB_LISTED6[1]}"
} >"$workdir/v2.list"
cp "$workdir/v1.list" "$workdir/served.list"

ip netns exec "$LAB_GW" "$PYTHON" "$root/scripts/lib/list_server.py" --list "$workdir/served.list" --ready "$workdir/server.port" \
    --hang 4 --deadline 600 2>"$workdir/server.err" &
server_pid=$!
wait_for 10 "list server to listen" test -s "$workdir/server.port" || die "the list server did not start"
port=$(cat "$workdir/server.port")
url="http://127.0.0.1:$port/exits"

gw iptables -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -p icmp --icmp-type echo-request -j NFQUEUE --queue-num "$QUEUE"
gw ip6tables -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -p ipv6-icmp --icmpv6-type echo-request \
    -j NFQUEUE --queue-num "$QUEUE"

log ""
log "== 1. start from the server"
start_tagged first
src="source=\"$url\""
check_eq "set entries ipv4" 39 "$(metric 'exitblock_set_entries{family="ipv4"}')"
check_eq "source loaded" 1 "$(metric "exitblock_source_loaded{$src}")"
check_eq "healthy" 1 "$(metric exitblock_healthy)"
check "the cache holds the list" grep -qx "${LAB_LISTED4[0]}" "$state"/sources/exits-*.list
expect_dropped "${LAB_LISTED4[0]}" start
expect_dropped "${LAB_LISTED6[0]}" start
expect_passes "${LAB_LISTED4[1]}" start
expect_passes "${LAB_CLEAN6[0]}" start

log ""
log "== 2. the server adds two sources"
version=$(metric exitblock_set_version)
cp "$workdir/v2.list" "$workdir/served.list.new"
mv "$workdir/served.list.new" "$workdir/served.list"
check "a refresh publishes the change (set version > $version)" \
    wait_for "$WAIT" "set version to move" metric_at_least exitblock_set_version $((version + 1))
check_eq "set entries ipv4" 40 "$(metric 'exitblock_set_entries{family="ipv4"}')"
check "the change is logged with entries added" grep -q "+2 -0" "$workdir/exitblock-first.err"
expect_dropped "${LAB_LISTED4[1]}" "after the change"
expect_dropped "${LAB_LISTED6[1]}" "after the change"
expect_passes "${LAB_CLEAN4[0]}" "after the change"

log ""
log "== 3. 304: no rebuild"
version=$(metric exitblock_set_version)
rebuilds=$(metric exitblock_set_rebuilds_total)
not_modified=$(metric "exitblock_source_fetches_total{$src,result=\"not_modified\"}")
check "fetches answered 304 are counted" \
    wait_for "$WAIT" "304s" metric_at_least "exitblock_source_fetches_total{$src,result=\"not_modified\"}" $((not_modified + 3))
check "the server sent 304s to requests carrying its ETag" test "$(server_stat not_modified)" -ge 3
check_eq "set version unchanged after 304s" "$version" "$(metric exitblock_set_version)"
check_eq "rebuilds unchanged after 304s" "$rebuilds" "$(metric exitblock_set_rebuilds_total)"

log ""
log "== 4. broken answers leave the set in force"
for case in error:http_status:error hang:timeout:error truncate:truncated:error empty:empty:refused shrunk:shrank:refused; do
    IFS=: read -r mode reason result <<<"$case"
    before=$(metric "exitblock_source_fetches_total{$src,result=\"$result\"}")
    version=$(metric exitblock_set_version)
    server_control "$mode"
    check "$mode: refusal counted under reason $reason" \
        wait_for "$WAIT" "refusal $reason" metric_at_least "exitblock_refusals_total{reason=\"$reason\"}" 1
    check "$mode: counted as result $result" metric_at_least "exitblock_source_fetches_total{$src,result=\"$result\"}" $((before + 1))
    check_eq "$mode: last result" 1 "$(metric "exitblock_source_last_result{$src,result=\"$result\",reason=\"$reason\"}")"
    check "$mode: refusal logged with its reason" grep -q "($reason)" "$workdir/exitblock-first.err"
    check_eq "$mode: set version unchanged" "$version" "$(metric exitblock_set_version)"
    check_eq "$mode: set entries unchanged" 40 "$(metric 'exitblock_set_entries{family="ipv4"}')"
    expect_dropped "${LAB_LISTED4[1]}" "$mode"
    server_control serve
done
check_eq "still healthy (the previous version stays in force)" 1 "$(metric exitblock_healthy)"

log ""
log "== 5. restart with the server down: start from the disk cache"
stop_daemon
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
check "the list server is down" not_answering
start_tagged cached
expect_dropped "${LAB_LISTED4[1]}" "right after a start from the cache"
expect_dropped "${LAB_LISTED6[1]}" "right after a start from the cache"
expect_passes "${LAB_CLEAN4[0]}" "right after a start from the cache"
check_eq "set entries ipv4 from the cache" 40 "$(metric 'exitblock_set_entries{family="ipv4"}')"
check_eq "source version from the cache" 1 "$(metric "exitblock_source_from_cache{$src}")"
age=$(metric "exitblock_source_age_seconds{$src}")
check "source age reported ($age s)" test "$age" != missing
check "the cache load is logged with its age" grep -q "cached version loaded: 42 entries, fetched" "$workdir/exitblock-cached.err"
check "failed fetches with the server down are counted" \
    wait_for "$WAIT" "fetch errors" metric_at_least "exitblock_refusals_total{reason=\"connection_failed\"}" 1
check_eq "healthy on the cache" 1 "$(metric exitblock_healthy)"
stop_daemon

summary
((failed == 0))
