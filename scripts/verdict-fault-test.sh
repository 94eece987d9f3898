#!/usr/bin/env bash
# Real-kernel check that a failed verdict send never lets another message decide its packets.
# Builds Tests/Kernel/VerdictFaults (the NetfilterQueue sources and the Netlink codec, with
# swiftc) and runs it on an NFQUEUE in the lab's gateway namespace while its verdict sends
# fail on purpose (batch messages refused, so packets are answered one by one; whole bursts
# refused, so their verdicts wait for a later send). Echo requests from listed and clean
# sources of both families cross the gateway: every listed one must be dropped, every clean
# one answered, every packet answered exactly once (the kernel queue is empty at the end).
# Usage: scripts/verdict-fault-test.sh (as root). Environment: FAULT_QUEUE (default 12),
# PINGS (per source, default 12), FAULT_KEEP=1 keeps the work dir.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=verdict-fault

QUEUE=${FAULT_QUEUE:-12}
PINGS=${PINGS:-12}
out="$root/.build-kernel"
workdir=$(mktemp -d /tmp/exitblock-fault.XXXXXX)
driver_pid=""
cleanup() { lab_test_cleanup "$?" fault "$driver_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"

log "verdict-fault: building the driver (swiftc: NetfilterQueue, Netlink, LinuxSystem, swift-system)"
# shellcheck source=lib/swiftc.sh
source "$root/scripts/lib/swiftc.sh"
SWIFTC_FLAGS=()
swiftc_build_modules "$out"
mapfile -t module_flags <"$out/module-flags"
swiftc -O -module-name VerdictFaults -package-name exitblock -I "$root/CNetfilterQueue" "${module_flags[@]}" \
    "$root"/Sources/NetfilterQueue/*.swift "$root/Tests/Kernel/VerdictFaults/main.swift" \
    -lnetfilter_queue -lmnl -o "$out/verdict-faults"

lab_up
lab_wait_ready || die "lab paths not ready"
gw iptables -w 5 -A FORWARD -p icmp --icmp-type echo-request -j NFQUEUE --queue-num "$QUEUE"
gw ip6tables -w 5 -A FORWARD -p ipv6-icmp --icmpv6-type echo-request -j NFQUEUE --queue-num "$QUEUE"

listed=("${LAB_LISTED4[0]}" "${LAB_LISTED4[1]}" "${LAB_LISTED6[0]}" "${LAB_LISTED6[1]}")
clean=("${LAB_CLEAN4[0]}" "${LAB_CLEAN4[1]}" "${LAB_CLEAN6[0]}" "${LAB_CLEAN6[1]}")
listed_csv=$(IFS=,; printf '%s' "${listed[*]}")
QUEUE=$QUEUE LISTED=$listed_csv STOP_FILE="$workdir/stop" \
    ip netns exec "$LAB_GW" "$out/verdict-faults" >"$workdir/driver.out" 2>"$workdir/driver.err" </dev/null &
driver_pid=$!
wait_for 10 "the driver to bind its queue" grep -q '^bound' "$workdir/driver.out" || die "driver did not bind"

# replies SRC: echo replies out of PINGS, all sources at once in the background.
replies() {
    local src=$1 dst=$LAB_SERVER4 family=-4
    if [[ "$src" == *:* ]]; then
        dst=$LAB_SERVER6
        family=-6
    fi
    in_ns "$LAB_CLIENT" ping "$family" -n -q -c "$PINGS" -i 0.05 -W 2 -I "$src" "$dst" 2>/dev/null |
        awk '/packets transmitted/ { print $4; found = 1 } END { if (!found) print 0 }'
}
ping_pids=()
for src in "${listed[@]}" "${clean[@]}"; do
    replies "$src" >"$workdir/replies-${src//:/_}" &
    ping_pids+=($!)
done
wait "${ping_pids[@]}"

for src in "${listed[@]}"; do check_eq "listed $src: no echo reply" 0 "$(cat "$workdir/replies-${src//:/_}")"; done
for src in "${clean[@]}"; do check_eq "clean $src: every echo reply" "$PINGS" "$(cat "$workdir/replies-${src//:/_}")"; done

waiting=$(gw awk -v q="$QUEUE" '$1 == q { print $3 }' /proc/net/netfilter/nfnetlink_queue)
check_eq "no packet left waiting in the kernel queue" 0 "${waiting:-missing}"
touch "$workdir/stop"
wait_for 5 "the driver to stop" not_running "$driver_pid" || true
figures=$(grep '^packets=' "$workdir/driver.out" || true)
log "verdict-fault: $figures"
check_eq "every echo request queued once" $((PINGS * 8)) "$(kv packets $figures)"
check_eq "listed ones dropped" $((PINGS * 4)) "$(kv dropped $figures)"
check "faults were injected" test "$(kv injected $figures)" -gt 0
check "packets were answered one by one" test "$(kv single $figures)" -gt 0
check "verdicts were kept for a later send" test "$(kv deferred $figures)" -gt 0
check_eq "nothing left unsent" 0 "$(kv unsent $figures)"
