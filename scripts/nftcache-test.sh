#!/usr/bin/env bash
# scripts/nftcache-test.sh: the verdict caches in the nf_tables sets of the `rules show --nft`
# ruleset (the caches cover that ruleset too), on the three-namespace lab (client -
# gateway - server, see lib/netns.sh), IPv4 and IPv6, with real traffic.
#
# This kernel has no nft `queue` expression, so the rendered ruleset is loaded without its
# queue rule: `table inet exitblock` keeps its sets (drop4/6, allow4/6, accept4/6) and the
# `judge` rules that drop / accept what they hold (at priority mangle + 1), and an iptables
# NFQUEUE rule in filter FORWARD (priority 0, after them) hands the rest to exitblock.
#
#   start     the daemon finds no ipsets and uses the nft sets ("in the nftables sets").
#   cache     a listed source's first ping is judged by exitblock (its dropped counter: 1),
#             the next ones are dropped by the nft rule (its counter and the element's move,
#             exitblock's dropped does not; drop_cache kernel drops in /stats); the address
#             is in `nft list set inet exitblock drop4` (drop6 for IPv6).
#   accept    a clean source's address lands in accept4 (packet mode); it passes.
#   allow     the allowlist is mirrored into allow4.
#   de-list   a SIGHUP with the address off the list deletes its element within 1 s, and
#             its pings pass (IPv4 and IPv6).
#   list      a SIGHUP that lists the clean source deletes its accept4 element within 1 s.
#   stop      SIGTERM empties the sets.
#   full      the ruleset with --accept-cache-size 1: refused adds (ENFILE) are counted as
#             accept cache full, every clean ping arrives, listed ones still get cached.
#
# Ends with `nftcache: N passed, M failed`; exits non-zero if anything failed.
# Environment: EXITBLOCK (binary; default the debug build), NFTCACHE_QUEUE (default 14),
# NFTCACHE_PINGS (default 5), NFTCACHE_KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-nc$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=nftcache

QUEUE=${NFTCACHE_QUEUE:-14}
PINGS=${NFTCACHE_PINGS:-5}
PYTHON=${PYTHON:-python3}

daemon_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" nftcache "$daemon_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# element SET ADDRESS: "packets" of ADDRESS's element in SET, or "absent".
element() {
    gw nft -j list set inet exitblock "$1" | "$PYTHON" -c '
import ipaddress, json, sys
want = ipaddress.ip_address(sys.argv[1])
for item in json.load(sys.stdin)["nftables"]:
    for e in item.get("set", {}).get("elem", []):
        e = e["elem"] if isinstance(e, dict) else {"val": e}
        if ipaddress.ip_address(e["val"]) == want:
            print(e.get("counter", {}).get("packets", 0))
            sys.exit(0)
print("absent")' "$2"
}

# rule_packets SET: the packets counted by the judge rule that names @SET.
rule_packets() {
    gw nft list chain inet exitblock judge |
        awk -v set="@$1" 'index($0, set) { for (i = 1; i < NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
}

# now_ms: the wall clock in milliseconds.
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# gone_within MS SET ADDRESS SINCE_MS: whether ADDRESS is out of SET no later than MS
# milliseconds after SINCE_MS (polled every 0.05 s); prints how long it took.
gone_within() {
    local deadline=$(($4 + $1))
    while [[ "$(element "$2" "$3")" != absent ]]; do
        (($(now_ms) < deadline)) || return 1
        sleep 0.05
    done
    log "  ($3 left $2 $(($(now_ms) - $4)) ms after the SIGHUP)"
}

(($(id -u) == 0)) || die "must run as root (network namespaces, nft, iptables)"
for tool in ip nft iptables ip6tables ping awk curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-nftcache.XXXXXX")
log "nftcache: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE"
lab_up || die "lab setup failed"

L4=("${LAB_LISTED4[@]}")
L6=("${LAB_LISTED6[@]}")
C4=("${LAB_CLEAN4[@]}")
write_list() { printf '%s\n' "$@" >"$workdir/exits.list"; }

# load_ruleset ARGS...: `rules show --nft ARGS` without its queue rule (no nft_queue here),
# with counters on the cache rules, loaded in the gateway (replacing table inet exitblock).
load_ruleset() {
    "$exitblock" rules show --nft --queue "$QUEUE" --no-queue-bypass "$@" >"$workdir/exitblock.nft"
    sed -e '/queue num/d' -e 's/ drop$/ counter drop/' -e 's/@accept\([46]\) accept$/@accept\1 counter accept/' \
        "$workdir/exitblock.nft" >"$workdir/loaded.nft"
    grep -q 'queue num' "$workdir/exitblock.nft" || die "the rendered ruleset has no queue rule to take out"
    gw nft -f "$workdir/loaded.nft" || die "nft -f of the rendered ruleset failed"
}

# The queue: an iptables rule in filter, after exitblock's chains (priority mangle + 1).
load_ruleset
for tool in iptables ip6tables; do
    gw "$tool" -w 5 -t filter -A FORWARD -j NFQUEUE --queue-num "$QUEUE"
done

# start --------------------------------------------------------------------------------------
write_list "${L4[0]}" "${L4[1]}" "${L4[2]}" "${L6[0]}" "${L6[1]}" "${L6[2]}"
printf '%s\n' 192.0.2.128/25 >"$workdir/allow.list" # in force, but no peer of the test's
run_daemon nftcache --allow "$workdir/allow.list"
check "exitblock uses the nft sets: $(grep -m1 -o 'drop cache: .*' "$daemon_err" || true)" \
    grep -q 'drop cache: on for ipv4 and ipv6; accept cache: on for ipv4 and ipv6; in the nftables sets' "$daemon_err"

# cache ----------------------------------------------------------------------------------------
for src in "${L4[0]}" "${L6[0]}"; do
    dst=$LAB_SERVER4 set=drop4
    [[ "$src" == *:* ]] && dst=$LAB_SERVER6 set=drop6
    check_eq "$src pings blocked" 0 "$(pings "$src" "$dst")"
    check_eq "$src is in $set; its element counted the kernel's drops" $((PINGS - 1)) "$(element "$set" "$src")"
    check_eq "the $set rule's counter moved" $((PINGS - 1)) "$(rule_packets "$set")"
done
# The daemon reads the caches' kernel counters once a second.
wait_stats 5 'd["stats"]["dropCache"]["kernelDropsIPv4"] + d["stats"]["dropCache"]["kernelDropsIPv6"] >= '"$((2 * (PINGS - 1)))"
check_eq "exitblock judged and dropped only the first IPv4 ping" 1 "$(stats 'c("ipv4_dropped")')"
check_eq "exitblock judged and dropped only the first IPv6 ping" 1 "$(stats 'c("ipv6_dropped")')"
check_eq "kernel drops (IPv4) in /stats" $((PINGS - 1)) "$(stats 'd["stats"]["dropCache"]["kernelDropsIPv4"]')"
check_eq "kernel drops (IPv6) in /stats" $((PINGS - 1)) "$(stats 'd["stats"]["dropCache"]["kernelDropsIPv6"]')"
check_eq "cache adds counted" 2 "$(stats 'd["stats"]["dropCache"]["adds"]')"

# accept and allow -----------------------------------------------------------------------------
check_eq "clean ${C4[0]} passes" "$PINGS" "$(pings "${C4[0]}" "$LAB_SERVER4")"
check "clean ${C4[0]} is in accept4" test "$(element accept4 "${C4[0]}")" != absent
check "the accept4 rule accepted in the kernel" test "$(rule_packets accept4)" -ge 1
check "the allowlist is mirrored into allow4" grep -q '192.0.2.128/25' <(gw nft list set inet exitblock allow4)

# de-list ----------------------------------------------------------------------------------------
write_list "${L4[1]}" "${L4[2]}" "${L6[1]}" "${L6[2]}" # 4 of 6 kept (the shrink guard refuses more)
hup=$(now_ms)
kill -HUP "$daemon_pid"
check "${L4[0]}'s element leaves drop4 within 1 s of the SIGHUP that de-listed it" gone_within 1000 drop4 "${L4[0]}" "$hup"
check "${L6[0]}'s element leaves drop6 within 1 s of the SIGHUP that de-listed it" gone_within 1000 drop6 "${L6[0]}" "$hup"
check_eq "${L4[0]} passes after the SIGHUP" "$PINGS" "$(pings "${L4[0]}" "$LAB_SERVER4")"
check_eq "${L6[0]} passes after the SIGHUP" "$PINGS" "$(pings "${L6[0]}" "$LAB_SERVER6")"

# list -----------------------------------------------------------------------------------------
check "${C4[0]} is still in accept4" test "$(element accept4 "${C4[0]}")" != absent
write_list "${L4[1]}" "${L4[2]}" "${L6[1]}" "${L6[2]}" "${C4[0]}"
hup=$(now_ms)
kill -HUP "$daemon_pid"
check "${C4[0]}'s element leaves accept4 within 1 s of the SIGHUP that listed it" \
    gone_within 1000 accept4 "${C4[0]}" "$hup"
check_eq "${C4[0]} blocked after the SIGHUP" 0 "$(pings "${C4[0]}" "$LAB_SERVER4")"
check "${C4[0]} is in drop4 now" test "$(element drop4 "${C4[0]}")" != absent

# stop -----------------------------------------------------------------------------------------
stop_daemon
for set in drop4 drop6 accept4 accept6; do
    check_eq "stopped: $set is empty" 0 "$(gw nft -j list set inet exitblock "$set" |
        "$PYTHON" -c 'import json, sys; print(sum(len(i.get("set", {}).get("elem", [])) for i in json.load(sys.stdin)["nftables"]))')"
done

# full accept set ----------------------------------------------------------------------------
# accept4 of size 1: the kernel refuses the second add (ENFILE, which aborts its whole batch):
# counted as full, every ping still arrives, and drop adds still land.
load_ruleset --accept-cache-size 1
run_daemon full
check_eq "full: clean ${C4[1]} passes" "$PINGS" "$(pings "${C4[1]}" "$LAB_SERVER4")"
check_eq "full: clean ${C4[2]} passes" "$PINGS" "$(pings "${C4[2]}" "$LAB_SERVER4")"
check_eq "full: ${L4[1]} pings blocked" 0 "$(pings "${L4[1]}" "$LAB_SERVER4")"
check "full: ${L4[1]} is in drop4" test "$(element drop4 "${L4[1]}")" != absent
check "full: refused adds counted as accept cache full" test "$(stats 'd["stats"]["dropCache"]["accept"]["full"]')" -ge 1
check_eq "full: no other error" 0 "$(stats 'd["stats"]["dropCache"]["errors"]')"
stop_daemon
