#!/usr/bin/env bash
# scripts/exitdata-test.sh: integration test (root) of the shipped default sources with real
# Tor documents, of `check --socket` / `check --config` against the running daemon, and of
# stale sources.
#
# Two list servers (scripts/lib/list_server.py) on the gateway's loopback serve the real bulk
# exit list and an Onionoo details document of the running exits made from the real consensus
# (scripts/consensus-to-onionoo.py); each also lists lab addresses (a bulk-list IPv4 address,
# an Onionoo exit with an IPv4 and an IPv6 address, and an Onionoo relay without the Exit
# flag). exitblock runs with dist/exitblock.toml, its two URLs pointed at the servers. Only ICMP
# echo requests from the client are queued. It checks:
#   1. both families load from the default sources (IPv4 from both, IPv6 from Onionoo), and
#      the shipped alert rules pass `promtool check rules`;
#   2. no address of a relay that is not an exit (real consensus, every relay) is blocked;
#   3. `check --socket` for a listed address of each family and an allowlisted one says what
#      the daemon does with a ping from it (dropped or answered), and names the sources;
#   4. after the bulk list drops an address and SIGHUP, `check --socket` says not blocked and
#      its pings are answered; `check --config` answers from the disk cache the same way;
#   5. restarted with --max-source-age 2s: the sources show stale in /healthz (still 200),
#      `exitblock stats` and exitblock_source_stale, and the set stays in force.
# Ends with "exitdata: N passed, M failed"; exit status 0 only when nothing failed.
#
# Environment: EXITBLOCK (binary), EXITDATA_QUEUE (default 14), TOR_DATA (real documents,
# default ../shared/data/tor).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=exitdata

QUEUE=${EXITDATA_QUEUE:-14}
PYTHON=${PYTHON:-python3}
DATA=${TOR_DATA:-$root/../shared/data/tor}

workdir=""
daemon_pid=""
bulk_pid=""
onionoo_pid=""

cleanup() { lab_test_cleanup "$?" exitdata "$daemon_pid" "$bulk_pid" "$onionoo_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$(id -u)" -ne 0 ]]; then
    log "exitdata-test: needs root (network namespaces, iptables)"
    exit 1
fi
for tool in curl "$PYTHON" iptables ip6tables ping promtool; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

EXITBLOCK=$(find_exitblock "$root")
workdir=$(mktemp -d /tmp/exitblock-exitdata.XXXXXX)
sock="$workdir/run/exitblock.sock"
state="$workdir/state"
gw() { in_ns "$LAB_GW" "$@"; }

bulk_addr=${LAB_LISTED4[0]}   # in the bulk list only
exit4=${LAB_LISTED4[1]}       # an Onionoo exit's IPv4 ORPort
exit6=${LAB_LISTED6[0]}       # the same exit's IPv6 ORPort
allowed=${LAB_LISTED4[2]}     # an Onionoo exit's address, allowlisted
nonexit=${LAB_CLEAN4[0]}      # an Onionoo relay without the Exit flag

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

# agrees TAG ADDRESS: `check --socket` and a ping from ADDRESS agree (exit 0 and no answer, or
# exit 1 and every answer); prints the check's status for the caller.
agrees() {
    local tag=$1 address=$2 rc=0 replies
    "$EXITBLOCK" check "$address" --socket "$sock" >"$workdir/check.out" 2>&1 || rc=$?
    replies=$(answered "$address" || true)
    log "  check $address: $(head -n 1 "$workdir/check.out") (exit $rc; $replies of 3 pings answered)"
    if [[ $rc -eq 0 && $replies -eq 0 ]] || [[ $rc -eq 1 && $replies -eq 3 ]]; then
        pass "$tag: check --socket agrees with the daemon for $address"
    else
        fail "$tag: check --socket (exit $rc) disagrees with the daemon for $address ($replies of 3 answered)"
    fi
    last_rc=$rc
}

lab_up
log "exitdata: lab $LAB_ID up"

# The documents: the real ones, plus the lab's addresses.
bulk_file=$(ls "$DATA"/torbulkexitlist-* | head -n 1)
consensus=$(ls "$DATA"/consensus-* | head -n 1)
{ cat "$bulk_file"; printf '%s\n' "$bulk_addr"; } >"$workdir/bulk.list"
"$PYTHON" "$root/scripts/consensus-to-onionoo.py" --all "$consensus" >"$workdir/all.json"
"$PYTHON" "$root/scripts/consensus-to-onionoo.py" "$consensus" | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)
doc["relays"] += [
    {"nickname": "labexit", "or_addresses": [sys.argv[1] + ":443", "[" + sys.argv[2] + "]:443"],
     "flags": ["Exit", "Running", "Valid"], "running": True, "exit_policy_summary": {"accept": ["80", "443"]}},
    {"nickname": "laballowed", "or_addresses": [sys.argv[3] + ":443"], "flags": ["Exit", "Running"], "running": True},
    {"nickname": "labguard", "or_addresses": [sys.argv[4] + ":443"], "flags": ["Guard", "Running"], "running": True},
]
json.dump(doc, sys.stdout)' "$exit4" "$exit6" "$allowed" "$nonexit" >"$workdir/onionoo.json"

serve() {
    ip netns exec "$LAB_GW" "$PYTHON" "$root/scripts/lib/list_server.py" --list "$1" --ready "$2" \
        --hang 4 --deadline 900 2>"$2.err" &
}
serve "$workdir/bulk.list" "$workdir/bulk.port"
bulk_pid=$!
serve "$workdir/onionoo.json" "$workdir/onionoo.port"
onionoo_pid=$!
wait_for 10 "list servers to listen" test -s "$workdir/bulk.port" -a -s "$workdir/onionoo.port" ||
    die "the list servers did not start"

# The shipped configuration, its URLs pointed at the servers (paths and queries kept).
sed -e "s#https://check.torproject.org#http://127.0.0.1:$(cat "$workdir/bulk.port")#" \
    -e "s#https://onionoo.torproject.org#http://127.0.0.1:$(cat "$workdir/onionoo.port")#" \
    "$root/dist/exitblock.toml" >"$workdir/exitblock.toml"
mapfile -t urls < <(grep -o '"http://127.0.0.1:[^"]*"' "$workdir/exitblock.toml" | tr -d '"')
check_eq "the shipped configuration lists two URLs" 2 "${#urls[@]}"
bulk_url=${urls[0]}
onionoo_url=${urls[1]}
# check --config reads the same file: the test's state directory and allowlist go in it too.
sed -i -e "s#^state-directory = .*#state-directory = \"$state\"#" \
    -e "s#^\\# allow = .*#allow = [\"$allowed\"]#" "$workdir/exitblock.toml"

gw iptables -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -p icmp --icmp-type echo-request -j NFQUEUE --queue-num "$QUEUE"
gw ip6tables -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -p ipv6-icmp --icmpv6-type echo-request \
    -j NFQUEUE --queue-num "$QUEUE"

start_with() {
    start_daemon "$workdir/exitblock-$1" -- --config "$workdir/exitblock.toml" --queue "$QUEUE" \
        --stats-socket "$sock" "${@:2}" || die "exitblock did not start ($1)"
}

log ""
log "== 1. the shipped default sources load both families"
start_with default
v4=$(metric 'exitblock_set_entries{family="ipv4"}')
v6=$(metric 'exitblock_set_entries{family="ipv6"}')
log "  set: $v4 IPv4, $v6 IPv6"
check "IPv4 entries from the default sources (> 1800)" test "$v4" -gt 1800
check "IPv6 entries from the default sources (> 600)" test "$v6" -gt 600
check_eq "bulk list: IPv4 entries" 1175 "$(metric "exitblock_source_entries{source=\"$bulk_url\",family=\"ipv4\"}")"
check_eq "bulk list: no IPv6 entry" 0 "$(metric "exitblock_source_entries{source=\"$bulk_url\",family=\"ipv6\"}")"
check_eq "Onionoo: IPv6 entries" 648 "$(metric "exitblock_source_entries{source=\"$onionoo_url\",family=\"ipv6\"}")"
check_eq "max-source-age of a URL source (4h)" 14400 "$(metric "exitblock_source_max_age_seconds{source=\"$bulk_url\"}")"
check_eq "not stale" 0 "$(metric "exitblock_source_stale{source=\"$bulk_url\"}")"
check "promtool accepts the shipped alert rules" promtool check rules "$root/dist/exitblock-alerts.yml"
# The two alerts of this test fire on series that call for them (promtool test rules).
cp "$root/dist/exitblock-alerts.yml" "$workdir/rules.yml"
"$PYTHON" - "$workdir/rules.yml" >"$workdir/rules-test.yml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def summary(alert, labels):
    block = text[text.index("alert: " + alert):]
    line = re.search(r'summary: "(.*)"', block).group(1)
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], line)
stale = {"instance": "gw", "job": "exitblock", "source": "u"}
ipv6 = {"instance": "gw", "job": "exitblock", "family": "ipv6"}
print(f"""rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'exitblock_source_stale{{instance="gw",job="exitblock",source="u"}}'
        values: '0 1x20'
      - series: 'exitblock_set_entries{{instance="gw",job="exitblock",family="ipv6"}}'
        values: '0x30'
      - series: 'exitblock_packets_total{{instance="gw",job="exitblock",queue="0",family="ipv6"}}'
        values: '0+60x30'
    alert_rule_test:
      - eval_time: 3m
        alertname: ExitblockSourceStale
      - eval_time: 10m
        alertname: ExitblockSourceStale
        exp_alerts:
          - exp_labels: {stale}
            exp_annotations: {{summary: "{summary('ExitblockSourceStale', stale)}"}}
      - eval_time: 30m
        alertname: ExitblockNoIPv6Entries
        exp_alerts:
          - exp_labels: {ipv6}
            exp_annotations: {{summary: "{summary('ExitblockNoIPv6Entries', ipv6)}"}}
""")
PY
check "promtool: ExitblockSourceStale and ExitblockNoIPv6Entries fire" promtool test rules "$workdir/rules-test.yml"

log ""
log "== 2. relays that are not exits are not blocked"
"$EXITBLOCK" list parse "$workdir/all.json" 2>/dev/null | sort -u >"$workdir/exits.set"
"$PYTHON" -c '
import json, sys
for relay in json.load(open(sys.argv[1]))["relays"]:
    for address in relay["or_addresses"]:
        print(address.rsplit(":", 1)[0].strip("[]"))' "$workdir/all.json" | sort -u >"$workdir/relays.set"
sort -u "$workdir/bulk.list" >"$workdir/bulk.set"
# Without the exits' addresses, and without the bulk list's (which is of another date: some
# relays that were no exit in the consensus were seen exiting later).
comm -23 "$workdir/relays.set" "$workdir/exits.set" | comm -23 - "$workdir/bulk.set" >"$workdir/nonexits.set"
log "  $(wc -l <"$workdir/nonexits.set") addresses of relays that are not exits (and not in the bulk list)"
blocked=0
while read -r address; do
    if "$EXITBLOCK" check "$address" --socket "$sock" >/dev/null 2>&1; then blocked=$((blocked + 1)); fi
done < <(awk 'NR % 20 == 1' "$workdir/nonexits.set")
check_eq "sampled non-exit addresses blocked by the daemon" 0 "$blocked"
agrees "non-exit" "$nonexit"
check_eq "non-exit relay: not blocked" 1 "$last_rc"

log ""
log "== 3. check --socket against the packets"
agrees "bulk list" "$bulk_addr"
check_eq "bulk-list address: blocked" 0 "$last_rc"
check "names the bulk list as source" grep -qF "listed by $bulk_url" "$workdir/check.out"
agrees "Onionoo IPv6" "$exit6"
check_eq "Onionoo IPv6 address: blocked" 0 "$last_rc"
check "names Onionoo as source" grep -qF "listed by $onionoo_url" "$workdir/check.out"
agrees "allowlisted" "$allowed"
check_eq "allowlisted address: not blocked" 1 "$last_rc"
check "names the allowlist entry" grep -q "is allowlisted by $allowed" "$workdir/check.out"
"$EXITBLOCK" check "$exit4:22" --socket "$sock" >"$workdir/port.out" 2>&1 || true
check "ADDRESS:PORT names the exit policy" grep -q "accept 80,443" "$workdir/port.out"

log ""
log "== 4. de-listed after SIGHUP"
version=$(metric exitblock_set_version)
grep -vx "$bulk_addr" "$workdir/bulk.list" >"$workdir/bulk.new" && mv "$workdir/bulk.new" "$workdir/bulk.list"
kill -HUP "$daemon_pid"
newer_set() { [[ "$(metric exitblock_set_version)" -gt "$version" ]]; }
wait_for 20 "a new set after SIGHUP" newer_set || fail "no new set after SIGHUP"
agrees "de-listed" "$bulk_addr"
check_eq "de-listed address: not blocked" 1 "$last_rc"
rc=0
"$EXITBLOCK" check "$bulk_addr" --config "$workdir/exitblock.toml" >"$workdir/config.out" 2>&1 || rc=$?
check_eq "check --config (disk cache): de-listed address not blocked" 1 "$rc"
rc=0
"$EXITBLOCK" check "$exit6" --config "$workdir/exitblock.toml" >"$workdir/config.out" 2>&1 || rc=$?
check_eq "check --config (disk cache): Onionoo IPv6 address blocked" 0 "$rc"
log "  $(head -n 2 "$workdir/config.out" | tr '\n' ' ')"
stop_daemon default

log ""
log "== 5. stale sources warn, the set stays"
start_with stale --max-source-age 2s
# Started from the disk cache, each source is fetched once at once (then not for 30m): wait
# for both confirmations, then for both to age past 2s.
confirmed() {
    [[ "$(metric "exitblock_source_from_cache{source=\"$bulk_url\"}")" == 0 &&
        "$(metric "exitblock_source_from_cache{source=\"$onionoo_url\"}")" == 0 ]]
}
wait_for 20 "the sources to be fetched" confirmed || fail "sources not fetched after the start"
both_stale() {
    [[ "$(metric "exitblock_source_stale{source=\"$bulk_url\"}")" == 1 &&
        "$(metric "exitblock_source_stale{source=\"$onionoo_url\"}")" == 1 ]]
}
wait_for 10 "the sources to go stale" both_stale || fail "sources not reported stale"
health=$(stats_get /healthz)
log "  /healthz: $health"
check "healthz: ok with a staleness warning" grep -q "^ok; warning: source .* is stale" <<<"$health"
check_eq "still healthy" 1 "$(metric exitblock_healthy)"
check "exitblock stats shows the staleness" sh -c "'$EXITBLOCK' stats --socket '$sock' --interval 0.2 | grep -q STALE"
check_eq "the set stays: IPv6 entries" "$v6" "$(metric 'exitblock_set_entries{family="ipv6"}')"
agrees "stale" "$exit6"
check_eq "stale Onionoo IPv6 address: still blocked" 0 "$last_rc"
check "check --socket marks the stale source" grep -q "(STALE)" "$workdir/check.out"
stop_daemon stale
