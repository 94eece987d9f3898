#!/usr/bin/env bash
# Runs every test of exitblock: unit tests, the snapshot stress test under ThreadSanitizer,
# a shellcheck pass over the scripts, and (as root) the end-to-end and metrics tests in network namespaces.
# Usage: scripts/test.sh            (as root for the end-to-end test; skipped with a notice otherwise)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$*"; }

step "build"
swift build

step "unit tests"
swift test

step "snapshot publication stress test under ThreadSanitizer"
swift test --sanitize=thread --scratch-path .build-tsan --filter 'SnapshotCellTests'

step "shellcheck"
mapfile -t shell_scripts < <(grep -rlE '^#!/usr/bin/env bash' scripts .ci)
shellcheck -S warning "${shell_scripts[@]}"
echo "shellcheck: ${#shell_scripts[@]} scripts clean"

if [ "$(id -u)" -ne 0 ]; then
    step "end-to-end test skipped: it needs root (network namespaces, iptables)"
    exit 0
fi
step "end-to-end test (network namespaces, iptables/ip6tables NFQUEUE, real traffic)"
bin="$(swift build --show-bin-path)/exitblock"
EXITBLOCK="$bin" scripts/e2e-test.sh

step "metrics test (stats socket, promtool, a real Prometheus server, exitblock top in tmux)"
EXITBLOCK="$bin" scripts/metrics-test.sh

step "service test (config file, sd_notify, watchdog, capabilities, systemd unit)"
EXITBLOCK="$bin" scripts/service-test.sh

step "sources test (HTTP refresh, 304, refusals, disk cache)"
EXITBLOCK="$bin" scripts/sources-test.sh

step "policy modes test (allowlist, dry-run, reject, destination mode)"
EXITBLOCK="$bin" scripts/modes-test.sh

step "rules test (rules install/remove/show, legacy and nft, bypass vs fail-closed, flow mode)"
EXITBLOCK="$bin" scripts/rules-test.sh

step "flow mode test (ct state NEW rules, conntrack invalidation on reload)"
EXITBLOCK="$bin" scripts/flow-test.sh

step "drop cache test (kernel cache of listed addresses: first packet judged, the rest dropped in the kernel; de-list, allowlist, reject, dry-run, remove; legacy and nft)"
EXITBLOCK="$bin" scripts/cache-test.sh

step "drop cache test (kernel cache of listed addresses: first packet judged, the rest dropped in the kernel; de-list, allowlist, reject, dry-run, remove; legacy and nft)"
EXITBLOCK="$bin" scripts/cache-test.sh

step "firewall test (the operator's rules keep their effect and counters with exitblock installed: legacy, nft, rendered nftables)"
EXITBLOCK="$bin" scripts/firewall-test.sh
