#!/usr/bin/env bash
# scripts/loopback-test.sh: `exitblock rules install|show|remove` in a brand-new network
# namespace whose loopback interface is down (as `ip netns add` leaves it), with both
# iptables backends. exitblock runs iptables-save/-restore through swift-subprocess, which
# sees a child exit through a pidfd and needs no socket on 127.0.0.1 for that (a runner that
# does would hang with lo down).
# Needs root. Environment: EXITBLOCK (binary; built if unset).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=loopback-test

ns="eblo$$"
cleanup() {
    local rc=$?
    set +e
    ip netns del "$ns" 2>/dev/null
    summarize_on_exit "$rc"
    if ((failed > 0 && rc == 0)); then rc=1; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
for tool in ip timeout iptables-legacy-save ip6tables-legacy-save iptables-nft-save ip6tables-nft-save; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
log "loopback-test: exitblock = $exitblock"

ip netns add "$ns"
check "lo is down in the new namespace $ns" ip -n "$ns" -o link show lo
lo_state=$(ip -n "$ns" -o link show lo)
[[ "$lo_state" != *",UP"* && "$lo_state" != *"<UP"* ]] || die "lo is up in $ns: $lo_state"

# in_ns_t CMD...: CMD in the namespace, killed after 30 s (the old runner hung forever).
in_ns_t() { ip netns exec "$ns" timeout 30 "$@"; }

for backend in legacy nft; do
    out=$(in_ns_t "$exitblock" rules install --backend "$backend" --queue 0 --queue-bypass 2>&1) &&
        pass "$backend: rules install with lo down" || fail "$backend: rules install with lo down: $out"
    for tool in iptables ip6tables; do
        check "$backend: $tool has the EXITBLOCK chain and its jump" \
            bash -c "ip netns exec '$ns' $tool-$backend-save -t mangle 2>/dev/null | grep -q -- '-j EXITBLOCK'"
    done
    out=$(in_ns_t "$exitblock" rules show --backend "$backend" --queue 0 2>&1) &&
        pass "$backend: rules show with lo down" || fail "$backend: rules show with lo down: $out"
    out=$(in_ns_t "$exitblock" rules remove --backend "$backend" 2>&1) &&
        pass "$backend: rules remove with lo down" || fail "$backend: rules remove with lo down: $out"
    for tool in iptables ip6tables; do
        left=$( (ip netns exec "$ns" "$tool-$backend-save" -t mangle; ip netns exec "$ns" "$tool-$backend-save" -t filter) \
            2>/dev/null | grep -c EXITBLOCK || true)
        check_eq "$backend: no EXITBLOCK left in $tool" 0 "$left"
    done
done
lo_state=$(ip -n "$ns" -o link show lo)
check "lo is still down at the end" test -n "${lo_state##*<UP*}"

summary
