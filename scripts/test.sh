#!/usr/bin/env bash
# Installs the Debian packages the tests need when missing (as root; scripts/lib/deps.sh), then
# runs every test of exitblock: unit tests, the snapshot stress test under ThreadSanitizer and
# AddressSanitizer,
# a shellcheck pass over the scripts, the layout checks (scripts/lib/check_imports.py,
# layout_graph.py, function_lengths.py), and (as root) the end-to-end and metrics tests in network namespaces.
# Usage: scripts/test.sh            (as root for the end-to-end test; skipped with a notice otherwise)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$*"; }

# shellcheck source=lib/deps.sh
source "$root/scripts/lib/deps.sh"
step "Debian packages (scripts/lib/deps.sh)"
if [ "$(id -u)" -eq 0 ]; then
    ensure_deps test
else
    mapfile -t test_missing < <(missing_deps test)
    if ((${#test_missing[@]} > 0)); then
        echo "deps: not root, so not installing the packages the root tests need: ${test_missing[*]}"
    fi
    ensure_deps build
fi
echo "deps: all there"

step "build"
swift build

step "unit tests"
swift test

step "pipe test (each printing command into head -1 and into a closed pipe: quiet end, no crash)"
EXITBLOCK="$(swift build --show-bin-path)/exitblock" scripts/pipe-test.sh

step "snapshot publication stress test under ThreadSanitizer and AddressSanitizer (swiftc, SnapshotCell only)"
scripts/sanitize.sh

step "fuzzing: list parsers, packet header and netlink readers (libFuzzer + ASan, ${FUZZ_SECONDS:-20} s each)"
FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh

step "shellcheck"
mapfile -t shell_scripts < <(grep -rlE '^#!/usr/bin/env bash' scripts .ci)
shellcheck -S warning "${shell_scripts[@]}"
echo "shellcheck: ${#shell_scripts[@]} scripts clean"

step "swift format lint (the tree as swift format -i leaves it)"
swift format lint --strict --recursive Sources Tests Package.swift
echo "swift format: clean"

step "documents (every command, option and config key named in README.md and docs/ exists; exitblock.toml(5) renders)"
EXITBLOCK="$(swift build --show-bin-path)/exitblock" scripts/docs-test.sh

step "layout: imports follow the design's fan, the targets graph is current, functions at most 60 lines, no Foundation proper"
package_json=$(mktemp)
swift package dump-package >"$package_json"
python3 scripts/lib/check_imports.py "$package_json" .
python3 scripts/lib/layout_graph.py "$package_json" docs/development-layout.md --check
mapfile -t own_targets < <(python3 -c 'import json,sys; print("\n".join(t["name"] + "=" + (t.get("path") or "Sources/" + t["name"]) for t in json.load(open(sys.argv[1]))["targets"] if t["type"] in ("regular", "executable")))' "$package_json")
scripts/lib/foundation_refs.sh "$(swift build --show-bin-path)" "${own_targets[@]}"
rm -f "$package_json"
python3 scripts/lib/function_lengths.py --exclude ExitBlockBench Sources

step "benchmark report program (scripts/lib/bench_report.py) on a recorded sample"
scripts/bench/report-sample/check.sh

step "exit source coverage (real Tor documents: both families in the default union)"
EXITBLOCK="$(swift build --show-bin-path)/exitblock" scripts/coverage.sh >/dev/null
echo "coverage: the default sources yield IPv4 and IPv6 exits"

if [ "$(id -u)" -ne 0 ]; then
    step "end-to-end test skipped: it needs root (network namespaces, iptables)"
    exit 0
fi
step "end-to-end test (network namespaces, iptables/ip6tables NFQUEUE, real traffic)"
bin="$(swift build --show-bin-path)/exitblock"
EXITBLOCK="$bin" scripts/e2e-test.sh

step "metrics test (stats socket, promtool, a real Prometheus server, exitblock top in tmux)"
EXITBLOCK="$bin" scripts/metrics-test.sh

step "dashboard test (a real Prometheus scrapes exitblock run, flow mode and bgp under traffic; every Grafana panel query returns data)"
EXITBLOCK="$bin" scripts/dashboard-test.sh

step "service test (config file, sd_notify, watchdog, capabilities, systemd unit)"
EXITBLOCK="$bin" scripts/service-test.sh

step "sources test (HTTP refresh, 304, refusals, disk cache)"
EXITBLOCK="$bin" scripts/sources-test.sh

step "exit data test (shipped default sources with real documents, check --socket/--config, stale sources)"
EXITBLOCK="$bin" scripts/exitdata-test.sh

step "policy modes test (allowlist, dry-run, reject, destination mode)"
EXITBLOCK="$bin" scripts/modes-test.sh

step "rules test (rules install/remove/show, legacy and nft, bypass vs fail-closed, flow mode)"
EXITBLOCK="$bin" scripts/rules-test.sh

step "rules restore test (rules remove gives back the ruleset exactly: iptables-save, ip6tables-save, nft list ruleset; legacy and nft)"
EXITBLOCK="$bin" scripts/rules-restore-test.sh

step "flow mode test (ct state NEW rules, conntrack invalidation on reload)"
EXITBLOCK="$bin" scripts/flow-test.sh

step "BGP feed test (exitblock bgp under ExaBGP, peering with BIRD 2; include-file mode; RTBH + uRPF end to end)"
EXITBLOCK="$bin" scripts/bgp-test.sh

step "verdict cache test (drop and accept caches filled through ipset netlink: first packet judged, the rest decided in the kernel; de-list, list, allowlist, reject, flow, full accept set, dry-run, upgrade, remove; legacy and nft)"
EXITBLOCK="$bin" scripts/cache-test.sh

step "nft verdict cache test (the rules show --nft ruleset's sets filled through nf_tables netlink: first packet judged, the rest dropped by the nft rule; de-list and list within 1 s; both families)"
EXITBLOCK="$bin" scripts/nftcache-test.sh

step "rule watch test (rules install layout flushed, jump deleted, queue rule changed: /healthz 503 within 1 s and back; --restore-rules puts it back within 1 s; legacy and nft, both families)"
EXITBLOCK="$bin" scripts/watch-test.sh

step "restart test (a restart under a mixed flood, 10 % listed, both families: over the hand-over socket and through a systemd descriptor-store stand-in; fail open and fail closed; legacy and nft; 0 listed delivered, 0 clean lost, the kernel gap printed; 10 kpps for this debug build, 50 kpps with a release one)"
EXITBLOCK="$bin" RESTART_RATE=10000 scripts/restart-test.sh

step "queue fault test (an overrun under a flood is counted and not rebound; a queue taken away and held by another socket: /healthz 503 after 1 s, bound again when it is freed, listed sources blocked again; a short gap is no 503; legacy and nft, both families)"
EXITBLOCK="$bin" scripts/queuefault-test.sh

step "firewall test (the operator's rules keep their effect and counters with exitblock installed: legacy, nft, rendered nftables)"
EXITBLOCK="$bin" scripts/firewall-test.sh

step "policy test (exit policies on real data, --exit-policy and relay mode with real traffic)"
EXITBLOCK="$bin" scripts/policy-test.sh

step "verdict send faults on a real queue (listed packets never accepted, each packet answered once)"
scripts/verdict-fault-test.sh

step "loopback test (rules install/show/remove in a new namespace whose loopback is down)"
EXITBLOCK="$bin" scripts/loopback-test.sh

step "no-exec test (the daemon as the package starts it does every kernel operation over netlink: strace sees no program; a listed flood is judged in the kernel; legacy, nft, the nft ruleset)"
EXITBLOCK="$bin" scripts/noexec-test.sh

step "unit test (the daemon started as the packaged unit's ExecStart, User, Group and capability lines say, with traffic)"
EXITBLOCK="$bin" scripts/unit-test.sh

step "soak (2 minutes: a fixed-rate mixed flood, SIGHUP every 3 s alternating two real lists, a flapping HTTP source, /metrics every 100 ms, stats abuse, one rules flush; fails on a listed packet delivered, a clean one lost, RSS, fds or threads growing)"
EXITBLOCK="$bin" scripts/soak.sh --minutes 2

step "package test (scripts/package.sh: static release build, .deb, lintian; then installed, run, upgraded and purged on a clean Debian 12 root without Swift)"
scripts/package-test.sh
