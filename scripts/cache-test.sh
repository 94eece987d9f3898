#!/usr/bin/env bash
# scripts/cache-test.sh: the verdict caches (drop cache and accept cache) on a
# three-namespace lab (client - gateway - server, see lib/netns.sh), IPv4 and IPv6, with the
# rules of `exitblock rules install` (its defaults: both caches on; real mangle rules and
# ipsets filled by the daemon through ipset netlink) through iptables-legacy and iptables-nft,
# and real traffic. Needs root; no network beyond the lab.
#
# Per backend:
#   cache     a listed source's first ping is judged by exitblock (its dropped counter: 1),
#             the next ones are dropped in the kernel (the cache rules' counters, exported as
#             drop_cache kernel drops in /stats and /metrics); the address is in the ipset;
#             a clean source passes.
#   accept    a clean source's first ping (and the first reply) is judged, the rest are
#             accepted in the kernel from exitblock-accept4/6 (exitblock's accepted counter
#             stops moving; accept_cache kernel accepts in /stats and /metrics).
#   list      a SIGHUP that lists an address the accept cache holds deletes its entry within
#             the publish: its pings sent 1 s later are dropped.
#   de-list   a SIGHUP with the address off the list deletes its entry within the publish:
#             pings sent 1 s after the SIGHUP arrive (IPv4 and IPv6).
#   allowlist a SIGHUP that allowlists a cached address lets it through (its entry is
#             deleted; the allowlist is mirrored into exitblock-allow4/6).
#   reject    rules install --reject, run --reject: TCP connects from a listed source are
#             refused, the first by exitblock, the next from the cache.
#   flow      rules install --mode flow, run --mode flow: the same, with ct state NEW rules.
#   stop      with --queue-bypass, a daemon stopped by SIGTERM empties the cache: a cached
#             address passes while no exitblock runs (fail open).
#   expiry    an entry that expired with counts, not yet freed by the kernel, is added again
#             by the daemon with its counters at 0: each kernel drop is counted once.
#   full      rules install --accept-cache-size 1: the kernel refuses adds (counted as
#             accept_cache full), every ping of two clean sources still arrives.
#   dry-run   run --dry-run: listed pings arrive, the sets stay empty.
#   upgrade   the previous layout's filter chain (SET --add-set of marked packets) is gone
#             after `rules install`.
#   remove    rules remove: the mangle and filter tables are as before install, no ipset left.
#
# Ends with `cache: N passed, M failed`; exits non-zero if anything failed.
# Environment: EXITBLOCK (binary; default the debug build), CACHE_QUEUE (default 13),
# CACHE_PINGS (default 5), CACHE_PORT (default 5613), CACHE_BACKENDS (default "legacy nft"),
# CACHE_KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-dc$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=cache

QUEUE=${CACHE_QUEUE:-13}
PINGS=${CACHE_PINGS:-5}
PORT=${CACHE_PORT:-5613}
BACKENDS=${CACHE_BACKENDS:-legacy nft}
PYTHON=${PYTHON:-python3}
TRAFFIC="$root/scripts/traffic.py"

daemon_pid=""
server_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" cache "$daemon_pid" "$server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# connect SRC DST: "ok", "refused" or "timeout" for one TCP connect to the server's port.
connect() {
    in_ns "$LAB_CLIENT" "$PYTHON" -c '
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.settimeout(1.5)
s.bind((sys.argv[1], 0))
try:
    s.connect((sys.argv[2], int(sys.argv[3]))); print("ok")
except ConnectionRefusedError:
    print("refused")
except OSError:
    print("timeout")' "$1" "$2" "$PORT"
}

in_set() { gw ipset test "$1" "$2" 2>/dev/null; }

# tables: the mangle and filter tables of both families, without comments or counters.
tables() {
    local tool
    for tool in iptables ip6tables; do
        gw "$tool-$backend-save" -t mangle | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
        gw "$tool-$backend-save" -t filter | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
    done
}

# kernel_drops_reach N: waits (at most 5 s) until the kernel drops of both families in /stats add
# up to N or more: the daemon reads the caches' kernel counters once a second.
kernel_drops_reach() {
    wait_stats 5 'd["stats"]["dropCache"]["kernelDropsIPv4"] + d["stats"]["dropCache"]["kernelDropsIPv6"] >= '"$1"
}

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables, ipset)"
for tool in ip ipset ping timeout awk curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-cache.XXXXXX")
log "cache: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE"
lab_up || die "lab setup failed"

L4=("${LAB_LISTED4[@]}")
L6=("${LAB_LISTED6[@]}")
C4=("${LAB_CLEAN4[@]}")
C6=("${LAB_CLEAN6[@]}")
write_list() { printf '%s\n' "$@" >"$workdir/exits.list"; }
traffic_server_start server

for backend in $BACKENDS; do
    log ""
    log "== backend $backend"
    # An operator's rules in both tables, there before exitblock and after it.
    for tool in iptables ip6tables; do
        for table in mangle filter; do
            gw "$tool-$backend" -w 5 -t "$table" -A FORWARD -m comment --comment "operator $backend"
        done
    done
    before=$(tables)
    # The previous layout's drop cache: a filter EXITBLOCK adding marked packets to the set.
    gw ipset create exitblock-drop4 hash:ip family inet timeout 60 counters
    gw "iptables-$backend-restore" -w 5 --noflush <<'EOF2'
*filter
:EXITBLOCK - [0:0]
-I FORWARD 1 -j EXITBLOCK
-A EXITBLOCK -m mark ! --mark 0xeb00/0xfffffffc -j RETURN
-A EXITBLOCK -m mark --mark 0xeb01 -j SET --add-set exitblock-drop4 src --exist
-A EXITBLOCK -m mark --mark 0xeb01 -j DROP
COMMIT
EOF2
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" --no-queue-bypass \
        >"$workdir/install-$backend.out" 2>&1 || die "rules install failed: $(cat "$workdir/install-$backend.out")"
    for set in exitblock-drop4 exitblock-drop6 exitblock-allow4 exitblock-allow6 exitblock-accept4 exitblock-accept6; do
        check "$backend: rules install made the set $set" gw ipset list -n "$set"
    done
    check_eq "$backend: upgrade: the previous layout's filter chain is gone" "" \
        "$(gw "iptables-$backend-save" -t filter | grep EXITBLOCK || true)"

    # cache ------------------------------------------------------------------------------
    write_list "${L4[0]}" "${L4[1]}" "${L6[0]}" "${L6[1]}"
    printf '%s\n' "${C4[3]}" >"$workdir/allow.list" # an allowlist in force, of an unrelated address
    run_daemon "cache-$backend" --allow "$workdir/allow.list"
    log "  $(grep -m1 -o 'drop cache: .*' "$daemon_err" || echo 'no drop cache line')"
    for src in "${L4[0]}" "${L6[0]}"; do
        dst=$LAB_SERVER4
        [[ "$src" == *:* ]] && dst=$LAB_SERVER6
        check_eq "$backend: $src pings blocked" 0 "$(pings "$src" "$dst")"
        check "$backend: $src is in the drop cache" in_set "exitblock-drop$([[ $src == *:* ]] && echo 6 || echo 4)" "$src"
    done
    check_eq "$backend: $LAB_SERVER4 reached from clean ${C4[0]}" "$PINGS" "$(pings "${C4[0]}" "$LAB_SERVER4")"
    kernel_drops_reach $((2 * (PINGS - 1)))
    check_eq "$backend: exitblock judged and dropped only the first IPv4 ping" 1 "$(stats 'c("ipv4_dropped")')"
    check_eq "$backend: exitblock judged and dropped only the first IPv6 ping" 1 "$(stats 'c("ipv6_dropped")')"
    check_eq "$backend: kernel drops (IPv4) in /stats" $((PINGS - 1)) "$(stats 'd["stats"]["dropCache"]["kernelDropsIPv4"]')"
    check_eq "$backend: kernel drops (IPv6) in /metrics" $((PINGS - 1)) \
        "$(metric 'exitblock_drop_cache_kernel_drops_total{family="ipv6"}')"
    check_eq "$backend: cache entries (IPv4)" 1 "$(metric 'exitblock_drop_cache_entries{family="ipv4"}')"
    check_eq "$backend: top listed counts the kernel's drops" "$PINGS" \
        "$(stats '[e["packets"] for e in d["stats"]["topListed"] if e["address"] == "'"${L4[0]}"'"][0]')"

    # accept ------------------------------------------------------------------------------
    # The clean pings above: the request from C4[0] and the reply from the server were each
    # judged once, the rest accepted from the accept cache.
    check_eq "$backend: exitblock judged one ping and one reply of the clean source" 2 "$(stats 'c("ipv4") - c("ipv4_dropped")')"
    check "$backend: ${C4[0]} is in the accept cache" in_set exitblock-accept4 "${C4[0]}"
    # The accept sets' counters are read every 5 s.
    wait_stats 12 'd["stats"]["dropCache"]["accept"]["kernelAcceptsIPv4"] >= '"$((2 * (PINGS - 1)))"
    check_eq "$backend: kernel accepts (IPv4) in /stats" $((2 * (PINGS - 1))) \
        "$(stats 'd["stats"]["dropCache"]["accept"]["kernelAcceptsIPv4"]')"
    check_eq "$backend: kernel accepts (IPv4) in /metrics" $((2 * (PINGS - 1))) \
        "$(metric 'exitblock_accept_cache_kernel_accepts_total{family="ipv4"}')"
    accepted=$(stats 'c("accepted")')
    check_eq "$backend: $LAB_SERVER6 reached from clean ${C6[0]}" "$PINGS" "$(pings "${C6[0]}" "$LAB_SERVER6")"
    check_eq "$backend: $LAB_SERVER4 reached again from ${C4[0]}" "$PINGS" "$(pings "${C4[0]}" "$LAB_SERVER4")"
    check_eq "$backend: exitblock's accepted counter moved only for the new IPv6 pair" $((accepted + 2)) \
        "$(stats 'c("accepted")')"

    # list --------------------------------------------------------------------------------
    write_list "${L4[0]}" "${L4[1]}" "${L6[0]}" "${L6[1]}" "${C4[0]}" "${C6[0]}"
    kill -HUP "$daemon_pid"
    sleep 1
    check_eq "$backend: ${C4[0]} (accept-cached) dropped 1 s after the SIGHUP that listed it" 0 \
        "$(pings "${C4[0]}" "$LAB_SERVER4")"
    check_eq "$backend: ${C6[0]} (accept-cached) dropped 1 s after the SIGHUP that listed it" 0 \
        "$(pings "${C6[0]}" "$LAB_SERVER6")"
    check "$backend: the publish deleted accept entries" test "$(metric exitblock_accept_cache_deleted_total)" -ge 2

    # de-list -----------------------------------------------------------------------------
    # (4 of 6 entries kept: the shrink guard refuses a list that loses more than half.)
    write_list "${L4[1]}" "${L6[1]}" "${C4[0]}" "${C6[0]}"
    kill -HUP "$daemon_pid"
    sleep 1
    check_eq "$backend: ${L4[0]} passes 1 s after the SIGHUP that de-listed it" "$PINGS" \
        "$(pings "${L4[0]}" "$LAB_SERVER4")"
    check_eq "$backend: ${L6[0]} passes 1 s after the SIGHUP that de-listed it" "$PINGS" \
        "$(pings "${L6[0]}" "$LAB_SERVER6")"

    # allowlist ---------------------------------------------------------------------------
    check_eq "$backend: ${L4[1]} blocked" 0 "$(pings "${L4[1]}" "$LAB_SERVER4")"
    check "$backend: ${L4[1]} is in the drop cache" in_set exitblock-drop4 "${L4[1]}"
    printf '%s\n' "${C4[3]}" "${L4[1]}" >"$workdir/allow.list"
    kill -HUP "$daemon_pid"
    sleep 1
    check_eq "$backend: ${L4[1]} passes 1 s after the SIGHUP that allowlisted it" "$PINGS" \
        "$(pings "${L4[1]}" "$LAB_SERVER4")"
    stop_daemon

    # reject ------------------------------------------------------------------------------
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" --no-queue-bypass --reject \
        >>"$workdir/install-$backend.out" 2>&1 || die "rules install --reject failed"
    write_list "${L4[2]}" "${L6[2]}"
    run_daemon "reject-$backend" --reject
    for src in "${L4[2]}" "${L6[2]}"; do
        dst=$LAB_SERVER4
        [[ "$src" == *:* ]] && dst=$LAB_SERVER6
        check_eq "$backend: $src first connect refused (by exitblock)" refused "$(connect "$src" "$dst")"
        check_eq "$backend: $src second connect refused (from the cache)" refused "$(connect "$src" "$dst")"
    done
    check_eq "$backend: clean ${C4[0]} connects" ok "$(connect "${C4[0]}" "$LAB_SERVER4")"
    kernel_drops_reach 2
    check_eq "$backend: exitblock rejected one packet per family" 2 "$(stats 'c("rejected")')"
    check "$backend: the cache rejected the rest in the kernel" \
        test "$(stats 'd["stats"]["dropCache"]["kernelDropsIPv4"] + d["stats"]["dropCache"]["kernelDropsIPv6"]')" -ge 2
    stop_daemon

    # flow mode ------------------------------------------------------------------------------
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" --no-queue-bypass --mode flow \
        >>"$workdir/install-$backend.out" 2>&1 || die "rules install --mode flow failed"
    write_list "${L4[3]}" "${L6[3]}"
    run_daemon "flow-$backend" --mode flow
    check_eq "$backend: flow: ${L4[3]} pings blocked" 0 "$(pings "${L4[3]}" "$LAB_SERVER4")"
    check_eq "$backend: flow: ${L6[3]} pings blocked" 0 "$(pings "${L6[3]}" "$LAB_SERVER6")"
    check_eq "$backend: flow: clean ${C4[1]} passes" "$PINGS" "$(pings "${C4[1]}" "$LAB_SERVER4")"
    kernel_drops_reach $((2 * (PINGS - 1)))
    check_eq "$backend: flow: exitblock judged one packet per listed source" 2 "$(stats 'c("dropped")')"
    check_eq "$backend: flow: the kernel dropped the rest from the cache" $((2 * (PINGS - 1))) \
        "$(stats 'd["stats"]["dropCache"]["kernelDropsIPv4"] + d["stats"]["dropCache"]["kernelDropsIPv6"]')"
    stop_daemon

    # stop with --queue-bypass ---------------------------------------------------------------
    check_eq "$backend: flow: no accept cache set" "" "$(gw ipset list -n exitblock-accept4 2>/dev/null)"
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" >>"$workdir/install-$backend.out" 2>&1 ||
        die "rules install (bypass) failed"
    write_list "${L4[2]}" "${L6[2]}"
    run_daemon "stop-$backend"
    check_eq "$backend: ${L4[2]} blocked" 0 "$(pings "${L4[2]}" "$LAB_SERVER4")"
    check "$backend: ${L4[2]} is in the drop cache" in_set exitblock-drop4 "${L4[2]}"
    stop_daemon
    check_eq "$backend: stopped with --queue-bypass: ${L4[2]} passes (the cache was emptied)" "$PINGS" \
        "$(pings "${L4[2]}" "$LAB_SERVER4")"

    # counts across an expiry -----------------------------------------------------------------
    # The kernel frees an expired ipset entry only at its next garbage collection (every 20 s
    # for a 60 s set); an add before that revives it with the counts it had. An entry that
    # expired with 1000 packets counted, then added again by the daemon, must count from 0:
    # the daemon, which saw it gone, would otherwise count those 1000 again.
    gw ipset flush exitblock-drop4
    gw ipset add exitblock-drop4 "${L4[2]}" timeout 1 packets 1000 bytes 64000
    sleep 1.5 # expired (not listed any more), not yet freed
    run_daemon "expiry-$backend"
    check_eq "$backend: expiry: ${L4[2]} blocked" 0 "$(pings "${L4[2]}" "$LAB_SERVER4")"
    kernel_drops_reach $((PINGS - 1))
    check_eq "$backend: expiry: the re-added entry counts from 0 (kernel drops)" $((PINGS - 1)) \
        "$(stats 'd["stats"]["dropCache"]["kernelDropsIPv4"]')"
    stop_daemon

    # full accept cache -------------------------------------------------------------------------
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" --no-queue-bypass --accept-cache-size 1 \
        >>"$workdir/install-$backend.out" 2>&1 || die "rules install --accept-cache-size 1 failed"
    run_daemon "full-$backend"
    check_eq "$backend: full: clean ${C4[1]} passes" "$PINGS" "$(pings "${C4[1]}" "$LAB_SERVER4")"
    check_eq "$backend: full: clean ${C4[2]} passes" "$PINGS" "$(pings "${C4[2]}" "$LAB_SERVER4")"
    check "$backend: full: refused adds counted" test "$(metric exitblock_accept_cache_full_total)" -ge 1
    stop_daemon

    # dry-run -----------------------------------------------------------------------------
    gw ipset flush exitblock-drop4
    gw ipset flush exitblock-accept4
    run_daemon "dryrun-$backend" --dry-run
    check_eq "$backend: dry-run: ${L4[2]} pings arrive" "$PINGS" "$(pings "${L4[2]}" "$LAB_SERVER4")"
    check_eq "$backend: dry-run: clean ${C4[1]} pings arrive" "$PINGS" "$(pings "${C4[1]}" "$LAB_SERVER4")"
    check "$backend: dry-run: the drop cache stays empty" test -z "$(gw ipset list -o save exitblock-drop4 | grep '^add')"
    check "$backend: dry-run: the accept cache stays empty" \
        test -z "$(gw ipset list -o save exitblock-accept4 | grep '^add')"
    check_eq "$backend: dry-run: every ping judged (would drop)" "$PINGS" "$(stats 'c("ipv4_would_drop")')"
    check_eq "$backend: dry-run: no drop cache figures" None "$(stats 'd["stats"].get("dropCache")')"
    stop_daemon

    # remove ------------------------------------------------------------------------------
    gw "$exitblock" rules remove --backend "$backend" >>"$workdir/install-$backend.out" 2>&1 || die "rules remove failed"
    after=$(tables)
    if [[ "$before" == "$after" ]]; then
        pass "$backend: rules remove restored the mangle and filter tables"
    else
        fail "$backend: rules remove left a difference: $(diff <(echo "$before") <(echo "$after") | head -20)"
    fi
    check_eq "$backend: rules remove destroyed the sets" "" "$(gw ipset list -n)"
done
