#!/usr/bin/env bash
# scripts/dashboard-test.sh: every panel of the Grafana dashboard shows data (root).
#
# In a three-namespace lab (scripts/lib/netns.sh) three exitblock processes run in the
# gateway, each with a TCP metrics listener that a real Prometheus (in the same namespace,
# scraping every second) scrapes:
#   - `exitblock run` in packet mode behind `exitblock rules install` (both verdict caches),
#     judging pings, TCP and UDP from listed and clean client addresses: the traffic, cache,
#     list, queue and top-listed panels;
#   - `exitblock run --mode flow` on a queue of its own: the conntrack panels (flow mode
#     searches the conntrack table at start);
#   - `exitblock bgp --speaker bird` writing its include file, with a stand-in for birdc:
#     the BGP panels. Its list is then emptied, which it refuses: the refusal panel.
# Then every query of every panel of dist/grafana/exitblock.json is sent to Prometheus's
# HTTP API (/api/v1/query), with the dashboard's variables replaced ($instance by .*,
# $__rate_interval by 1m, $__range by 5m), and each must return data.
# Ends with "dashboard: N passed, M failed"; exit status 0 only when nothing failed.
#
# Environment: EXITBLOCK (binary; else built with swift build), PROMETHEUS (default
# prometheus), DASHBOARD (default dist/grafana/exitblock.json), DASHBOARD_KEEP=1 keeps the
# work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=dashboard

QUEUE=${DASHBOARD_QUEUE:-21}
FLOW_QUEUE=$((QUEUE + 1))
PROMETHEUS=${PROMETHEUS:-prometheus}
DASHBOARD=${DASHBOARD:-$root/dist/grafana/exitblock.json}
PORT=$((20000 + RANDOM % 20000))
FLOW_PORT=$((PORT + 1))
BGP_PORT=$((PORT + 2))
PROM_PORT=$((PORT + 3))

workdir=""
daemon_pid=""
flow_pid=""
bgp_pid=""
prom_pid=""

cleanup() {
    lab_test_cleanup "$?" dashboard "$prom_pid" "$bgp_pid" "$flow_pid" "$daemon_pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$(id -u)" -ne 0 ]]; then
    log "dashboard-test: needs root (network namespaces, iptables)"
    exit 1
fi
for tool in curl python3 "$PROMETHEUS" iptables ip6tables ipset ping; do
    command -v "$tool" >/dev/null || {
        log "dashboard-test: $tool is missing (apt-get install prometheus curl iptables ipset iputils-ping)"
        exit 1
    }
done
[[ -f "$DASHBOARD" ]] || {
    log "dashboard-test: no dashboard at $DASHBOARD"
    exit 1
}

EXITBLOCK=$(find_exitblock "$root")
workdir=$(mktemp -d /tmp/exitblock-dashboard.XXXXXX)
gw() { in_ns "$LAB_GW" "$@"; }

lab_up
lab_wait_ready

printf '%s\n' "${LAB_LISTED4[@]}" "${LAB_LISTED6[@]}" >"$workdir/exits.txt"
cp "$workdir/exits.txt" "$workdir/bgp-exits.txt"

# 1. Packet mode behind the installed rules (queue only what comes from the client).
gw "$EXITBLOCK" rules install --queue "$QUEUE" --in-interface "$LAB_GW_CLIENT_IF" >"$workdir/install.out" 2>&1 ||
    die "rules install failed: $(cat "$workdir/install.out")"
start_daemon "$workdir/exitblock" -- --queue "$QUEUE" --list "$workdir/exits.txt" --no-cache \
    --stats-socket "$workdir/run/exitblock.sock" --metrics-listen "127.0.0.1:$PORT" || die "exitblock run did not start"

# 2. Flow mode on a queue no rule feeds: its conntrack figures exist from the start.
ip netns exec "$LAB_GW" "$EXITBLOCK" run --mode flow --queue "$FLOW_QUEUE" --list "$workdir/exits.txt" --no-cache \
    --no-drop-cache --no-accept-cache --no-stats-socket --metrics-listen "127.0.0.1:$FLOW_PORT" \
    >"$workdir/exitblock-flow.out" 2>"$workdir/exitblock-flow.err" </dev/null &
flow_pid=$!
wait_daemon_ready "$workdir/exitblock-flow.err" "$flow_pid" || die "exitblock run --mode flow did not start"

# 3. The BGP feed, writing BIRD's include file; the stand-in birdc says BIRD took it.
printf '#!/bin/sh\necho Reconfigured\n' >"$workdir/birdc"
chmod +x "$workdir/birdc"
ip netns exec "$LAB_GW" "$EXITBLOCK" bgp --speaker bird --bird-include "$workdir/bird-exitblock.conf" \
    --birdc "$workdir/birdc" --bird-socket "$workdir/bird.ctl" --list "$workdir/bgp-exits.txt" --no-cache \
    --state-directory "$workdir/bgp-state" --no-stats-socket --metrics-listen "127.0.0.1:$BGP_PORT" \
    >"$workdir/exitblock-bgp.out" 2>"$workdir/exitblock-bgp.err" </dev/null &
bgp_pid=$!
bgp_announced() { grep -q exitblock4 "$workdir/bird-exitblock.conf" 2>/dev/null; }
wait_for 30 "exitblock bgp to write the BIRD include file" bgp_announced || die "exitblock bgp wrote no routes"

# 4. Prometheus, scraping the three every second.
cat >"$workdir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: exitblock
    static_configs:
      - targets: ["127.0.0.1:$PORT", "127.0.0.1:$FLOW_PORT", "127.0.0.1:$BGP_PORT"]
YAML
mkdir -p "$workdir/tsdb"
ip netns exec "$LAB_GW" "$PROMETHEUS" --config.file="$workdir/prometheus.yml" --storage.tsdb.path="$workdir/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$workdir/prometheus.log" 2>&1 &
prom_pid=$!
# promql QUERY: how many series Prometheus returns for QUERY ("error: ..." when it fails).
promql() {
    gw curl -sS --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>&1 |
        python3 -c 'import json,sys
text = sys.stdin.read()
try:
    r = json.loads(text)
    print(len(r["data"]["result"]) if r.get("status") == "success" else "error: " + r.get("error", text))
except Exception:
    print("error: " + text.strip()[:200])'
}
all_up() { [[ "$(promql 'up{job="exitblock"} == 1')" == 3 ]]; }
if wait_for 60 "prometheus to scrape the three exitblock processes" all_up; then
    pass "prometheus scrapes exitblock run, run --mode flow and bgp"
else
    fail "prometheus scrapes the three exitblock processes (log: $(tail -n 3 "$workdir/prometheus.log"))"
fi

# 5. Traffic for a while: listed and clean pings, TCP and UDP, both families, so that the
# rates span several scrapes; the kernel caches take over after each address's first packet.
traffic() {
    local round src
    for round in 1 2 3 4 5 6; do
        for src in "${LAB_LISTED4[0]}" "${LAB_CLEAN4[0]}"; do
            in_ns "$LAB_CLIENT" ping -4 -n -q -c 5 -i 0.2 -W 1 -I "$src" "$LAB_SERVER4" >/dev/null 2>&1 || true
        done
        for src in "${LAB_LISTED6[0]}" "${LAB_CLEAN6[0]}"; do
            in_ns "$LAB_CLIENT" ping -6 -n -q -c 5 -i 0.2 -W 1 -I "$src" "$LAB_SERVER6" >/dev/null 2>&1 || true
        done
        in_ns "$LAB_CLIENT" timeout 2 bash -c "exec 3<>/dev/tcp/$LAB_SERVER4/9" 2>/dev/null || true
        in_ns "$LAB_CLIENT" timeout 1 bash -c "echo x >/dev/udp/$LAB_SERVER4/9" 2>/dev/null || true
        log "traffic round $round of 6"
    done
}
traffic
# The BGP feed's list emptied: refused (reason "empty"), the routes in force stay.
: >"$workdir/bgp-exits.txt"
refused() { [[ "$(promql 'exitblock_refusals_total')" != 0 ]]; }
wait_for 30 "exitblock bgp to refuse the emptied list" refused || true
kernel_dropped() { [[ "$(promql 'exitblock_drop_cache_kernel_drops_total > 0')" != 0 ]]; }
check "the drop cache dropped listed packets in the kernel" wait_for 20 "kernel drops in Prometheus" kernel_dropped

# 6. Every query of every panel.
python3 - "$DASHBOARD" >"$workdir/queries.tsv" <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
def panels(items):
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))
for panel in panels(dashboard["panels"]):
    for target in panel.get("targets", []):
        expr = target["expr"].replace("$instance", ".*").replace("$__rate_interval", "1m").replace("$__range", "5m")
        print(f'{panel["title"]}\t{target.get("legendFormat", "")}\t{expr}')
PY
checked=0
while IFS=$'\t' read -r title legend expr; do
    checked=$((checked + 1))
    series=$(promql "$expr")
    if [[ "$series" =~ ^[1-9][0-9]*$ ]]; then
        pass "panel \"$title\", $legend: $series series"
    else
        fail "panel \"$title\", $legend: no data for $expr ($series)"
    fi
done <"$workdir/queries.tsv"
((checked > 0)) || fail "the dashboard has no queries"
log "dashboard: $checked queries of $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["panels"]))' "$DASHBOARD") panels and rows evaluated"
