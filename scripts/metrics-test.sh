#!/usr/bin/env bash
# scripts/metrics-test.sh: end-to-end test of exitblock's stats socket and metrics (root).
#
# In a three-namespace lab (scripts/lib/netns.sh) exitblock runs in the gateway with a stats
# socket in a temporary directory and a TCP metrics listener on the gateway's loopback.
# Only ICMP echo requests from the client are queued, so the test knows exactly how many
# packets exitblock judged. It checks:
#   1. `promtool check metrics` accepts /metrics;
#   2. a real Prometheus server (in the gateway namespace, scraping every second) reports
#      exitblock_packets_total / _dropped_total / set entries with exactly the traffic sent;
#   3. /healthz is 200, /stats is JSON with the same figures, `exitblock stats` prints them;
#   4. 200 clients hammering the stats socket (silent, garbage, huge, normal) do not stop
#      verdicts, get an answer or are dropped, and the daemon's RSS stays bounded;
#   5. `exitblock top` in tmux shows live figures and quits on q.
# Ends with "metrics: N passed, M failed"; exit status 0 only when nothing failed.
#
# Environment: EXITBLOCK (binary; else built with swift build), PINGS (echo requests per
# source, default 4), PROMETHEUS (default prometheus), METRICS_KEEP=1 keeps the work dir.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=metrics

QUEUE=${METRICS_QUEUE:-11}
PINGS=${PINGS:-4}
PROMETHEUS=${PROMETHEUS:-prometheus}
METRICS_PORT=$((20000 + RANDOM % 20000))
PROM_PORT=$((METRICS_PORT + 1))

workdir=""
daemon_pid=""
prom_pid=""
tmux_session="eb-metrics-$$"

cleanup() {
    local rc=$?
    tmux kill-session -t "$tmux_session" 2>/dev/null || true
    lab_test_cleanup "$rc" metrics "$prom_pid" "$daemon_pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$(id -u)" -ne 0 ]]; then
    log "metrics-test: needs root (network namespaces, iptables)"
    exit 1
fi
for tool in curl python3 tmux promtool "$PROMETHEUS" iptables ip6tables ping; do
    command -v "$tool" >/dev/null || {
        log "metrics-test: $tool is missing (apt-get install prometheus curl tmux iptables iputils-ping)"
        exit 1
    }
done

EXITBLOCK=$(find_exitblock "$root")
workdir=$(mktemp -d /tmp/exitblock-metrics.XXXXXX)
sock="$workdir/run/exitblock.sock"
scrape() { gw curl -sS --max-time 5 "http://127.0.0.1:$METRICS_PORT$1"; }
# metric NAME{LABELS}: the value of one exposition line of /metrics (or "missing").
# (over TCP: this test checks the --metrics-listen endpoint).
metric() { scrape /metrics | metric_in "$1"; }

lab_up
lab_wait_ready

# The block list: the lab's listed sources.
{
    printf '%s\n' "${LAB_LISTED4[@]}" "${LAB_LISTED6[@]}"
} >"$workdir/exits.txt"

# Queue only ICMP echo requests coming from the client: the test counts them exactly.
gw iptables -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -p icmp --icmp-type echo-request -j NFQUEUE --queue-num "$QUEUE"
gw ip6tables -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -p ipv6-icmp --icmpv6-type echo-request -j NFQUEUE --queue-num "$QUEUE"

start_daemon "$workdir/exitblock" -- --queue "$QUEUE" --list "$workdir/exits.txt" --stats-socket "$sock" --no-cache \
    --metrics-listen "127.0.0.1:$METRICS_PORT" || exit 1

# 1. Socket file and health.
check "stats socket is a socket" test -S "$sock"
check_eq "stats socket mode" 660 "$(stat -c %a "$sock")"
check_eq "/healthz" "ok" "$(curl -sS --unix-socket "$sock" http://localhost/healthz)"

# 2. Known traffic: PINGS echo requests from one listed and one clean source per family.
ping_batch() {
    local src=$1 dst=$2 family=$3
    timeout 30 ip netns exec "$LAB_CLIENT" ping "$family" -n -q -c "$PINGS" -i 0.2 -W 1 -I "$src" "$dst" \
        >>"$workdir/ping.log" 2>&1 || true
}
send_traffic() {
    local pids=() pid
    ping_batch "${LAB_LISTED4[0]}" "$LAB_SERVER4" -4 &
    pids+=("$!")
    ping_batch "${LAB_CLEAN4[0]}" "$LAB_SERVER4" -4 &
    pids+=("$!")
    ping_batch "${LAB_LISTED6[0]}" "$LAB_SERVER6" -6 &
    pids+=("$!")
    ping_batch "${LAB_CLEAN6[0]}" "$LAB_SERVER6" -6 &
    pids+=("$!")
    for pid in "${pids[@]}"; do wait "$pid" || true; done
}
send_traffic

check_eq "ipv4 packets" $((2 * PINGS)) "$(metric "exitblock_packets_total{queue=\"$QUEUE\",family=\"ipv4\"}")"
check_eq "ipv6 packets" $((2 * PINGS)) "$(metric "exitblock_packets_total{queue=\"$QUEUE\",family=\"ipv6\"}")"
check_eq "ipv4 dropped" "$PINGS" "$(metric "exitblock_packets_dropped_total{queue=\"$QUEUE\",family=\"ipv4\"}")"
check_eq "ipv6 accepted" "$PINGS" "$(metric "exitblock_packets_accepted_total{queue=\"$QUEUE\",family=\"ipv6\"}")"
check_eq "set entries ipv4" "${#LAB_LISTED4[@]}" "$(metric 'exitblock_set_entries{family="ipv4"}')"
check_eq "queue bound" 1 "$(metric "exitblock_queue_bound{queue=\"$QUEUE\"}")"

scrape /metrics >"$workdir/metrics.txt"
if promtool check metrics <"$workdir/metrics.txt" >"$workdir/promtool.out" 2>&1; then
    pass "promtool check metrics"
else
    fail "promtool check metrics: $(head -n 5 "$workdir/promtool.out")"
fi

json_total=$(curl -sS --unix-socket "$sock" http://localhost/stats |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(q["counters"]["packets"] for q in d["stats"]["queues"]))')
check_eq "/stats packets" $((4 * PINGS)) "$json_total"
"$EXITBLOCK" stats --socket "$sock" --interval 0.5 >"$workdir/stats.out" 2>&1 || true
check "exitblock stats prints totals" grep -q "totals: packets=$((4 * PINGS)) " "$workdir/stats.out"

# 3. A real Prometheus, in the gateway namespace, scraping the TCP listener every second.
cat >"$workdir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: exitblock
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
YAML
mkdir -p "$workdir/tsdb"
ip netns exec "$LAB_GW" "$PROMETHEUS" --config.file="$workdir/prometheus.yml" --storage.tsdb.path="$workdir/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$workdir/prometheus.log" 2>&1 &
prom_pid=$!
# promql QUERY: the single value Prometheus returns for QUERY, or "none".
promql() {
    gw curl -sS --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
        python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "none")
except Exception:
    print("none")'
}
prom_has() { [[ "$(promql "$1")" == "$2" ]]; }
if wait_for 60 "prometheus scraped exitblock" prom_has 'up{job="exitblock"}' 1; then
    pass "prometheus scrapes exitblock"
else
    fail "prometheus scrapes exitblock (log: $(tail -n 3 "$workdir/prometheus.log"))"
fi
check_eq "prometheus: packets" $((4 * PINGS)) "$(promql 'sum(exitblock_packets_total)')"
check_eq "prometheus: ipv4 dropped" "$PINGS" "$(promql 'sum(exitblock_packets_dropped_total{family="ipv4"})')"
check_eq "prometheus: ipv6 dropped" "$PINGS" "$(promql 'sum(exitblock_packets_dropped_total{family="ipv6"})')"
check_eq "prometheus: accepted" $((2 * PINGS)) "$(promql 'sum(exitblock_packets_accepted_total)')"
check_eq "prometheus: unparsable" 0 "$(promql 'sum(exitblock_packets_total{family="unparsable"})')"
check_eq "prometheus: set entries" $((${#LAB_LISTED4[@]} + ${#LAB_LISTED6[@]})) "$(promql 'sum(exitblock_set_entries)')"
check_eq "prometheus: healthy" 1 "$(promql 'exitblock_healthy')"
check_eq "prometheus: kernel queue drops" 0 "$(promql 'sum(exitblock_kernel_queue_dropped_total)')"

# 4. 200 hostile and normal clients on the stats socket while traffic flows.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rss_before=$(rss_kb "$daemon_pid")
cat >"$workdir/hammer.py" <<'PY'
import socket, sys, threading, time
path, rounds = sys.argv[1], int(sys.argv[2])
results = {"silent_closed": 0, "garbage_400": 0, "huge_413_or_closed": 0, "normal_200": 0, "other": 0}
lock = threading.Lock()
def note(key):
    with lock:
        results[key] += 1
def talk(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    try:
        if payload:
            s.sendall(payload)
    except OSError:
        pass
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    return data
def client(kind):
    try:
        if kind == 0:
            data = talk(b"")
            note("silent_closed" if data == b"" else "other")
        elif kind == 1:
            data = talk(b"\x00\x01GARBAGE \xff\xfe\r\n\r\n")
            note("garbage_400" if data.startswith(b"HTTP/1.1 400") else "other")
        elif kind == 2:
            data = talk(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 200000 + b"\r\n\r\n")
            note("huge_413_or_closed" if data.startswith(b"HTTP/1.1 413") or data == b"" else "other")
        else:
            data = talk(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            note("normal_200" if data.startswith(b"HTTP/1.1 200") else "other")
    except Exception as error:
        print("client error:", kind, error, file=sys.stderr)
        note("other")
for _ in range(rounds):
    threads = [threading.Thread(target=client, args=(i % 4,)) for i in range(200)]
    for t in threads: t.start()
    for t in threads: t.join()
print(" ".join(f"{k}={v}" for k, v in results.items()))
PY
before_packets=$(metric "exitblock_packets_total{queue=\"$QUEUE\",family=\"ipv4\"}")
python3 "$workdir/hammer.py" "$sock" 2 >"$workdir/hammer.out" 2>"$workdir/hammer.err" &
hammer_pid=$!
send_traffic
wait "$hammer_pid" || true
after_packets=$(metric "exitblock_packets_total{queue=\"$QUEUE\",family=\"ipv4\"}")
check_eq "verdicts continue while hammered (ipv4 packets +$((2 * PINGS)))" $((before_packets + 2 * PINGS)) "$after_packets"
hammer=$(cat "$workdir/hammer.out")
check_eq "hammer: silent clients dropped after the timeout" "silent_closed=100" "$(grep -o 'silent_closed=[0-9]*' <<<"$hammer")"
check_eq "hammer: garbage gets 400" "garbage_400=100" "$(grep -o 'garbage_400=[0-9]*' <<<"$hammer")"
check_eq "hammer: huge requests get 413 or are closed" "huge_413_or_closed=100" "$(grep -o 'huge_413_or_closed=[0-9]*' <<<"$hammer")"
check_eq "hammer: normal requests get 200" "normal_200=100" "$(grep -o 'normal_200=[0-9]*' <<<"$hammer")"
rss_after=$(rss_kb "$daemon_pid")
if ((rss_after < rss_before + 65536)); then
    pass "RSS bounded (${rss_before} kB -> ${rss_after} kB)"
else
    fail "RSS grew: ${rss_before} kB -> ${rss_after} kB"
fi
check_eq "/healthz after the hammering" "ok" "$(curl -sS --unix-socket "$sock" http://localhost/healthz)"

# 5. exitblock top in tmux: live figures, q quits.
tmux new-session -d -s "$tmux_session" -x 130 -y 30 "$EXITBLOCK top --socket $sock"
top_has() { tmux capture-pane -p -t "$tmux_session" | grep -q "$1"; }
if wait_for 10 "top shows rates" top_has "packets/s," && top_has "state"; then
    pass "top shows live figures"
else
    fail "top shows live figures: $(tmux capture-pane -p -t "$tmux_session" 2>/dev/null | head -n 5)"
fi
check "top shows queue $QUEUE bound" top_has "^$QUEUE .*bound"
tmux send-keys -t "$tmux_session" q
top_gone() { ! tmux has-session -t "$tmux_session" 2>/dev/null; }
check "top quits on q" wait_for 5 "top quits" top_gone

summary
