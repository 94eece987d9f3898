#!/usr/bin/env bash
# scripts/bench.sh: forwarding benchmark of exitblock against the alternatives (DESIGN.md,
# "Performance"), in one run, on this machine. Needs root, gcc, libnetfilter-queue-dev,
# libmnl-dev, ipset, iptables; builds exitblock in release (.build-bench) unless EXITBLOCK
# is set. All traffic stays inside the three lab namespaces (lib/netns.sh).
#
# A flooder (bench/flood.c, pinned to CPU 0) sends small UDP packets from spoofed sources
# (10% real listed Tor exits, 90% random unlisted; 20% IPv6) through the gateway to the
# server. The gateway filters in one of six modes:
#   none       forwarding only
#   ipset      hash:ip sets (inet + inet6) of the list, `-m set --match-set S src -j DROP`
#   cref       bench/nfq-reference.c behind `-j NFQUEUE --queue-num 0` in filter FORWARD
#              (pinned to CPU 1)
#   exitblock  `exitblock run` behind the same rule in mangle FORWARD, where `rules install`
#              puts it (pinned to CPU 1); the ratio to cref includes the mangle table's cost
#   ct         no filter, conntrack on (`-m conntrack --ctstate INVALID -j DROP`, as many
#              gateways have anyway): the cost flow mode pays before its first queued packet
#   flow       `exitblock run --mode flow` behind `-m conntrack --ctstate NEW -j NFQUEUE
#              --queue-num 0` in mangle FORWARD. The flood is one-way UDP, and a flow the server never answered
#              stays ct state NEW for every packet, so before measuring, one low-rate pass of
#              the flooder's pool creates the flows' conntrack entries and the server answers
#              each unlisted flow once (the way real UDP flows see replies): unlisted packets
#              then cross as established flows, listed ones (dropped, so never confirmed) are
#              queued and dropped one by one.
#   exitblock-filter, flow-filter  (not in the default list) exitblock and flow with the
#              queue rule at the top of filter FORWARD, the layout before issue 15 (which
#              skipped the operator's filter rules): the "before" of the mangle move
#   packet+dropcache, flow+cache  (not in the default list) `exitblock rules install
#              --drop-cache --in-interface veth-cli --no-queue-bypass [--mode flow]` with the drop cache
#              (issue 16): the first packet of a listed source is judged, its later ones are
#              dropped in mangle by the cache's ipset rule (README, Drop cache). Listed-heavy
#              mix: --listed-percent 50.
# Two loads: "max" (the flooder as fast as one core lets it: saturation) and a fixed
# offered rate (--rate). Rounds alternate the modes (the order rotates each round); the
# table shows medians. The server counts what arrives per family and class with raw-table
# rules (UDP port 9001 = listed source, 9000 = unlisted), so nothing else runs there.
# Then one more exitblock run under an LD_PRELOAD malloc-counting shim at the fixed rate:
# allocations made while the flood runs (the goal is zero per packet); and both NFQUEUE
# daemons under callgrind at 20,000 pps: user-space instructions per packet, the one figure
# here that other load on the machine cannot disturb.
# Then, for none, ipset, exitblock (packet mode), ct and flow: TCP throughput of one iperf3
# stream through the gateway (IPv4, a clean source; client on CPU 0, server on CPU 1, both
# boosted like the flooder), and
# the rate of short TCP connections (bench/connrate.c: 16 threads, connect then close with an
# RST, from the four clean IPv4 sources), medians of the rounds.
#
# Usage: scripts/bench.sh [--quick] [--rounds N] [--duration S] [--rate PPS]
#                         [--modes "none ipset cref exitblock ct flow"] [--list FILE]
#                         (also exitblock-filter, flow-filter, packet+dropcache, flow+cache)
#                         [--ipv6-percent P] [--listed-percent P] [--out FILE] [--keep]
#   --quick      1 round of 3 s per mode and load (about a minute)
#   default      5 rounds of 4 s per mode and load, then the TCP measurements (about nine minutes)
#   --list       the block list (default: the secops list, IPv4 + IPv6, from ../shared/data/tor)
#   --out FILE   also write the final table to FILE
#   --keep       keep the work directory (logs, per-run results)
#   --no-instructions  skip the callgrind instruction count of the two NFQUEUE daemons
#   --no-tcp     skip the iperf3 throughput and connection rate measurements
#   --no-flood   skip the UDP flood rounds and the allocation check (TCP measurements only)
#   --profile DIR  record the NFQUEUE daemons with `perf record -e cpu-clock -g` during the
#                fixed-load runs of round 1 (DIR/perf-MODE.data) and print their top symbols
# Environment: EXITBLOCK (binary to use, skips the swift build), IPTABLES, IP6TABLES.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$root/../shared/data/tor"

rounds=5
duration=4
rate=100000
modes="none ipset cref exitblock ct flow"
list="$data/secops-tor-exit-nodes-2024-02-27.lst"
ipv6_percent=20
listed_percent=10
out=""
keep=0
profile=""
instructions=1
tcp=1
flood_rounds=1
cg_rate=20000
IPT=${IPTABLES:-iptables}
IP6T=${IP6TABLES:-ip6tables}
QUEUE=0
FLOOD_CPU=0
DAEMON_CPU=1
NICE=-20 # flooder and daemons (see boosted)

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-0}"
}

while (($#)); do
    case $1 in
    --quick) rounds=1 duration=3 ;;
    --rounds) rounds=$2 && shift ;;
    --duration) duration=$2 && shift ;;
    --rate) rate=$2 && shift ;;
    --modes) modes=$2 && shift ;;
    --list) list=$2 && shift ;;
    --ipv6-percent) ipv6_percent=$2 && shift ;;
    --listed-percent) listed_percent=$2 && shift ;;
    --out) out=$2 && shift ;;
    --keep) keep=1 ;;
    --profile) profile=$2 && shift ;;
    --no-instructions) instructions=0 ;;
    --no-tcp) tcp=0 ;;
    --no-flood) flood_rounds=0 instructions=0 ;;
    -h | --help) usage 0 ;;
    *) printf 'bench: unknown argument %s\n' "$1" >&2 && usage 2 ;;
    esac
    shift
done

die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}
note() { printf 'bench: %s\n' "$*" >&2; }

((EUID == 0)) || die "needs root (namespaces, iptables, NFQUEUE)"
[[ -r "$list" ]] || die "list not found: $list"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--duration wants seconds"
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || die "--rate wants packets per second"
if ((instructions)) && ! command -v valgrind >/dev/null; then
    note "valgrind not found: no instruction count"
    instructions=0
fi
if [[ -n "$profile" ]]; then
    command -v perf >/dev/null || die "--profile needs perf (linux-perf)"
    mkdir -p "$profile"
    profile=$(cd "$profile" && pwd)
fi
(($(nproc) >= 2)) || die "needs two CPUs (flooder on CPU $FLOOD_CPU, daemon on CPU $DAEMON_CPU)"
for mode in $modes; do
    case $mode in none | ipset | cref | exitblock | exitblock-filter | ct | flow | flow-filter | packet+dropcache | flow+cache) ;; *) die "unknown mode $mode" ;; esac
done

LAB_ID="bench$$"
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"

work=$(mktemp -d /tmp/exitblock-bench.XXXXXX)
daemon_pid=""
daemon_line=""
daemon_wrapper=()         # a command prefix for the daemon (valgrind for the instruction count)
daemon_wrapper_binary=""  # another exitblock binary for that run (debug info stripped)

cleanup() {
    local rc=$?
    set +e
    if [[ -n "$daemon_pid" ]]; then
        kill -KILL "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    lab_down
    if ((keep)); then
        note "work directory kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ build

note "building the C tools"
cflags=(-O2 -Wall -Wextra)
gcc "${cflags[@]}" -o "$work/flood" "$root/scripts/bench/flood.c"
gcc "${cflags[@]}" -o "$work/nfq-reference" "$root/scripts/bench/nfq-reference.c" -lnetfilter_queue -lmnl
gcc "${cflags[@]}" -shared -fPIC -o "$work/malloc-count.so" "$root/scripts/bench/malloc-count.c"
gcc "${cflags[@]}" -pthread -o "$work/connrate" "$root/scripts/bench/connrate.c"

if [[ " $modes " == *" exitblock "* || " $modes " == *" flow"* || " $modes " == *" packet+dropcache "* ]]; then
    if [[ -n "${EXITBLOCK:-}" ]]; then
        exitblock=$EXITBLOCK
    else
        note "building exitblock (release, .build-bench)"
        (cd "$root" && swift build -c release --scratch-path .build-bench --product exitblock >&2) ||
            die "swift build failed"
        exitblock="$(cd "$root" && swift build -c release --scratch-path .build-bench --show-bin-path)/exitblock"
    fi
    [[ -x "$exitblock" ]] || die "not an executable: $exitblock"
fi

# ------------------------------------------------------------------ lab

note "building the lab (namespaces $LAB_CLIENT, $LAB_GW, $LAB_SERVER)"
lab_up || die "lab setup failed"
gw() { in_ns "$LAB_GW" "$@"; }
srv() { in_ns "$LAB_SERVER" "$@"; }

mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }
client_mac=$(mac_of "$LAB_CLIENT" "$LAB_CLIENT_IF")
gw_client_mac=$(mac_of "$LAB_GW" "$LAB_GW_CLIENT_IF")
server_mac=$(mac_of "$LAB_SERVER" "$LAB_SERVER_IF")
# Permanent neighbour entries: no ARP/ND work or timing in the measured path.
gw ip neigh replace "$LAB_SERVER4" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent
gw ip -6 neigh replace "$LAB_SERVER6" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent

# Server: count and drop in the raw table (no socket, no ICMP back). Rule order fixed:
# line 1 = listed, line 2 = unlisted, for both families.
for t in "$IPT" "$IP6T"; do
    srv "$t" -t raw -A PREROUTING -p udp --dport 9001 -j DROP
    srv "$t" -t raw -A PREROUTING -p udp --dport 9000 -j DROP
done

# The ipset mode's sets (created once; the rule referencing them is added per run).
{
    printf 'create eb4 hash:ip family inet hashsize 4096 maxelem 1048576\n'
    printf 'create eb6 hash:ip family inet6 hashsize 4096 maxelem 1048576\n'
    awk '{ sub(/#.*/, ""); sub(/\/(32|128)$/, "", $1) } $1 != "" { print "add " (index($1, ":") ? "eb6 " : "eb4 ") $1 }' "$list"
} | gw ipset restore -exist
ipset_counts="$(gw ipset list eb4 -terse | awk '/entries/ {print $NF}') IPv4 + $(gw ipset list eb6 -terse | awk '/entries/ {print $NF}') IPv6"

# ------------------------------------------------------------------ measurement helpers

mapfile -t ksoftirqd_pids < <(pgrep -x "ksoftirqd/($FLOOD_CPU|$DAEMON_CPU)")

# server_counts: "listed4 unlisted4 listed6 unlisted6" (packets since the last zeroing).
server_counts() {
    local v4 v6
    v4=$(srv "$IPT" -t raw -L PREROUTING -nvx | awk 'NR > 2 { printf "%s ", $1 }')
    v6=$(srv "$IP6T" -t raw -L PREROUTING -nvx | awk 'NR > 2 { printf "%s ", $1 }')
    read -r l4 u4 <<<"$v4"
    read -r l6 u6 <<<"$v6"
    printf '%s %s %s %s\n' "$l4" "$u4" "$l6" "$u6"
}
zero_server_counts() {
    srv "$IPT" -t raw -Z PREROUTING
    srv "$IP6T" -t raw -Z PREROUTING
}

# task_user_ticks PID: user time of PID (all threads) so far, in clock ticks (/proc/PID/stat).
task_user_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 }' || echo 0
}

# ksoftirqd_cpu_ns: CPU time of the softirq threads of both CPUs so far, in ns.
ksoftirqd_cpu_ns() {
    local sum=0 pid
    for pid in "${ksoftirqd_pids[@]}"; do
        sum=$((sum + $(task_cpu_ns "$pid")))
    done
    printf '%s\n' "$sum"
}

# task_cpu_ns PID: CPU time of every thread of PID so far, in ns (schedstat run time).
task_cpu_ns() {
    local sum=0 t v
    for t in /proc/"$1"/task/*/schedstat; do
        read -r v _ <"$t" 2>/dev/null || continue
        sum=$((sum + v))
    done
    printf '%s\n' "$sum"
}

# nfq_figures: "queue_dropped user_dropped" of queue QUEUE in the gateway (since bind).
nfq_figures() {
    gw awk -v q="$QUEUE" '$1 == q { print $6, $7; found = 1 } END { if (!found) print "0 0" }' \
        /proc/net/netfilter/nfnetlink_queue
}

# boosted: a command prefix that runs the rest of the command line (exec, same pid) at nice
# -20 in a session of its own whose autogroup also gets nice -20. With autogroup scheduling
# (the default) a task's nice only counts inside its session's group, so this is what shields
# the flooder and the daemons from other load on the machine; on an idle machine it changes
# nothing.
# shellcheck disable=SC2016 # $0 and $@ belong to the inner bash
boosted=(setsid bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null || true; exec nice -n "$0" "$@"' "$NICE")

# start_daemon MODE [ENV...]: start the NFQUEUE daemon for MODE pinned to DAEMON_CPU in the
# gateway, wait until it says ready. Sets daemon_pid.
start_daemon() {
    local mode=$1
    shift
    local cmd binary=$exitblock
    [[ -n "$daemon_wrapper_binary" ]] && binary=$daemon_wrapper_binary
    if [[ "$mode" == cref ]]; then
        cmd=("$work/nfq-reference" --queue "$QUEUE" --list "$list" --burst 64 --copy-range 64
            --queue-max-length 4096 --receive-buffer $((8 << 20)))
    else
        cmd=("$binary" run --queue "$QUEUE" --list "$list" --burst-size 64 --copy-range 64
            --queue-max-length 4096 --receive-buffer $((8 << 20)) --stats-socket "$work/stats.sock")
        [[ "$mode" == flow* ]] && cmd+=(--mode flow)
        # Modes without the cache's rules: no probe either (it runs ipset, a child that
        # would inherit the allocation check's LD_PRELOAD and clobber its counter file).
        [[ "$mode" == *cache ]] || cmd+=(--no-drop-cache)
    fi
    : >"$work/daemon.out"
    : >"$work/daemon.err"
    env "$@" ip netns exec "$LAB_GW" "${boosted[@]}" taskset -c "$DAEMON_CPU" ${daemon_wrapper[@]+"${daemon_wrapper[@]}"} \
        "${cmd[@]}" >"$work/daemon.out" 2>"$work/daemon.err" &
    daemon_pid=$!
    local i
    for ((i = 0; i < 600; i++)); do
        grep -q ready "$work/daemon.err" && return 0
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$work/daemon.err" >&2
    die "$mode did not become ready"
}

# stop_daemon: SIGTERM, wait (at most 30 s: valgrind is slow); sets daemon_line to its final "total ..." line.
# (Not to be called in a subshell: it clears daemon_pid.)
stop_daemon() {
    kill -TERM "$daemon_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
    daemon_line=$(grep '^total' "$work/daemon.out" | tail -n 1 || true)
}

set_rules() { # set_rules -A|-D MODE
    local op=$1 mode=$2 t
    case $mode in
    none) ;;
    ipset)
        gw "$IPT" "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -m set --match-set eb4 src -j DROP
        gw "$IP6T" "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -m set --match-set eb6 src -j DROP
        ;;
    cref)
        for t in "$IPT" "$IP6T"; do
            gw "$t" "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -j NFQUEUE --queue-num "$QUEUE"
        done
        ;;
    exitblock)
        # Where `exitblock rules install` puts it: mangle FORWARD (an accept there does not
        # end the filter table), so the figure carries the mangle table's cost too.
        for t in "$IPT" "$IP6T"; do
            gw "$t" -t mangle "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -j NFQUEUE --queue-num "$QUEUE"
        done
        ;;
    exitblock-filter | flow-filter)
        # The layout before issue 15: the queue at the top of filter FORWARD (an accept
        # there ends filter, so it skipped the operator's rules); kept to measure the move.
        for t in "$IPT" "$IP6T"; do
            if [[ "$mode" == flow-filter ]]; then
                gw "$t" "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$QUEUE"
            else
                gw "$t" "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -j NFQUEUE --queue-num "$QUEUE"
            fi
        done
        ;;
    ct)
        for t in "$IPT" "$IP6T"; do
            gw "$t" "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -m conntrack --ctstate INVALID -j DROP
        done
        ;;
    flow)
        for t in "$IPT" "$IP6T"; do
            gw "$t" -t mangle "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -m conntrack --ctstate NEW \
                -j NFQUEUE --queue-num "$QUEUE"
        done
        ;;
    packet+dropcache | flow+cache)
        # The drop cache (issue 16) as `exitblock rules install` puts it: ipsets, the cache
        # rule before the queue rule in mangle, the add-and-drop rules in filter.
        if [[ "$op" == -A ]]; then
            gw "$exitblock" rules install --drop-cache --in-interface "$LAB_GW_CLIENT_IF" --queue "$QUEUE" --no-queue-bypass \
                --mode "$([[ "$mode" == flow+cache ]] && echo flow || echo packet)" >/dev/null
        else
            gw "$exitblock" rules remove >/dev/null
        fi
        ;;
    esac
}

is_daemon_mode() { [[ "$1" == cref || "$1" == exitblock* || "$1" == flow* || "$1" == *+*cache ]]; }

# prime_flows: for the flow mode (rules and daemon in place): one pass over the flooder's
# pool at a low rate, so every unlisted flow has a confirmed conntrack entry, then one UDP
# answer from the server per such flow (from its port to the flow's source), so conntrack
# has seen both directions and the flow's later packets are ct state ESTABLISHED. The
# answers to random unlisted sources find no route past the gateway; conntrack has seen
# them by then (PREROUTING).
prime_flows() {
    in_ns "$LAB_CLIENT" "$work/flood" --iface "$LAB_CLIENT_IF" --src-mac "$client_mac" --dst-mac "$gw_client_mac" \
        --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" --list "$list" --duration 1 --rate 20000 \
        --listed-percent "$listed_percent" --ipv6-percent "$ipv6_percent" >/dev/null 2>&1
    { gw conntrack -L -f ipv4 -p udp; gw conntrack -L -f ipv6 -p udp; } 2>/dev/null | awk '/UNREPLIED/ {
        src = sport = dport = ""
        for (i = 1; i <= NF; i++) {
            if (src == "" && $i ~ /^src=/) src = substr($i, 5)
            if (sport == "" && $i ~ /^sport=/) sport = substr($i, 7)
            if (dport == "" && $i ~ /^dport=/) dport = substr($i, 7)
        }
        print src, sport, dport
    }' >"$work/flows"
    srv python3 -c '
import socket, sys
server4, server6, path = sys.argv[1:]
socks = {}
for line in open(path):
    src, sport, dport = line.split()
    v6 = ":" in src
    key = (v6, int(dport))
    if key not in socks:
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((server6 if v6 else server4, int(dport)))
        socks[key] = s
    try:
        socks[key].sendto(b"primer", (src, int(sport)))
    except OSError:
        pass
' "$LAB_SERVER4" "$LAB_SERVER6" "$work/flows"
    sleep 0.2
    primed_flows=$(wc -l <"$work/flows")
    primed_judged=$(curl -s --max-time 5 --unix-socket "$work/stats.sock" http://exitblock/metrics |
        awk '$1 ~ /^exitblock_packets_total[{]/ { sum += $2 } END { print sum + 0 }')
}
primed_flows=0
primed_judged=0

flood() { # flood RATE (0 = max)
    in_ns "$LAB_CLIENT" "${boosted[@]}" taskset -c "$FLOOD_CPU" "$work/flood" --iface "$LAB_CLIENT_IF" \
        --src-mac "$client_mac" --dst-mac "$gw_client_mac" --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" \
        --list "$list" --duration "$duration" --rate "$1" --listed-percent "$listed_percent" \
        --ipv6-percent "$ipv6_percent" 2>/dev/null
}

kv() { # kv KEY LINE: the value of KEY=value in LINE
    sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"
}

# run_one ROUND MODE LOAD: one measured run; appends a line to $work/results:
#   load mode round offered_pps delivered_pps listed_passed unlisted_lost unlisted_lost_%
#   daemon_ns_per_pkt queue_dropped user_dropped total_ns_per_pkt daemon_user_ns_per_pkt
#   daemon_packets
# total_ns_per_pkt = CPU time of the flooder + the daemon + ksoftirqd/0,1 per packet sent:
# without IRQ time accounting, softirq work is charged to the task it interrupts, so this is
# the whole cost of a packet on this machine (sending, forwarding, filtering, delivery),
# and other processes' load does not count.
run_one() {
    local round=$1 mode=$2 load=$3 r
    r=$([[ "$load" == max ]] && echo 0 || echo "$rate")
    set_rules -A "$mode"
    if is_daemon_mode "$mode"; then
        start_daemon "$mode"
    fi
    primed_judged=0
    [[ "$mode" == flow* ]] && prime_flows
    zero_server_counts
    local d0=0 d1=0 u0=0 u1=0 k0 k1 line
    k0=$(ksoftirqd_cpu_ns)
    if [[ -n "$daemon_pid" ]]; then
        d0=$(task_cpu_ns "$daemon_pid")
        u0=$(task_user_ticks "$daemon_pid")
    fi
    local perf_pid=""
    if [[ -n "$profile" && -n "$daemon_pid" && "$load" == fixed && "$round" == 1 ]]; then
        perf record -q -e cpu-clock -F 4999 -g -p "$daemon_pid" -o "$profile/perf-$mode.data" \
            -- sleep "$duration" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    line=$(flood "$r")
    [[ -n "$perf_pid" ]] && wait "$perf_pid"
    sleep 0.3 # let the daemon answer what it still holds
    if [[ -n "$daemon_pid" ]]; then
        d1=$(task_cpu_ns "$daemon_pid")
        u1=$(task_user_ticks "$daemon_pid")
    fi
    k1=$(ksoftirqd_cpu_ns)
    local counts qd="-" ud="-" judged=0
    daemon_line=""
    counts=$(server_counts)
    if [[ -n "$daemon_pid" ]]; then
        read -r qd ud <<<"$(nfq_figures)"
        stop_daemon
        judged=$(kv packets "$daemon_line")
        judged=$((${judged:-0} - primed_judged)) # the priming pass is not part of the run
    fi
    set_rules -D "$mode"
    local l4 u4 l6 u6
    read -r l4 u4 l6 u6 <<<"$counts"
    awk -v load="$load" -v mode="$mode" -v round="$round" -v sent="$(kv sent "$line")" \
        -v su4="$(kv unlisted4 "$line")" -v su6="$(kv unlisted6 "$line")" -v s="$(kv seconds "$line")" \
        -v l4="$l4" -v u4="$u4" -v l6="$l6" -v u6="$u6" -v dns=$((d1 - d0)) -v judged="$judged" \
        -v qd="$qd" -v ud="$ud" -v fns="$(kv cpu_ns "$line")" -v kns=$((k1 - k0)) \
        -v uticks=$((u1 - u0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
            lost = (su4 + su6) - (u4 + u6)
            per = (judged > 0) ? dns / judged : "-"
            user = (judged > 0) ? uticks * 1e9 / hz / judged : "-"
            pct = (su4 + su6 > 0) ? 100 * lost / (su4 + su6) : 0
            printf "%s %s %s %.0f %.0f %d %d %.2f %s %s %s %.0f %s %d\n", load, mode, round, sent / s,
                (u4 + u6 + l4 + l6) / s, l4 + l6, lost, pct, per, qd, ud, (fns + dns + kns) / sent, user, judged
        }' >>"$work/results"
    printf '  round %s %-9s %-5s %s | server l4=%s u4=%s l6=%s u6=%s | %s\n' "$round" "$mode" "$load" \
        "$line" "$l4" "$u4" "$l6" "$u6" "${daemon_line:-no daemon}" >>"$work/runs.log"
    [[ "$mode" == flow ]] && printf '    (flow: %s unlisted flows primed with an answer; %s packets judged while priming)\n' \
        "$primed_flows" "$primed_judged" >>"$work/runs.log"
    tail -n 1 "$work/results" | awk '{ printf "bench:   %-9s %-6s offered %8.0f pps  delivered %8.0f pps  listed passed %d  unlisted lost %d\n", $2, $1, $4, $5, $6, $7 }' >&2
}

# ------------------------------------------------------------------ the runs

read -ra mode_list <<<"$modes"
n=${#mode_list[@]}
note "list: $list ($ipset_counts); flooder on CPU $FLOOD_CPU, daemons on CPU $DAEMON_CPU"
note "$rounds round(s) x ${n} mode(s) x 2 loads (max, $rate pps) x ${duration}s"
: >"$work/results"
: >"$work/runs.log"
for ((round = 1; round <= rounds * flood_rounds; round++)); do
    for ((i = 0; i < n; i++)); do
        mode=${mode_list[$(((i + round - 1) % n))]}
        for load in max fixed; do
            run_one "$round" "$mode" "$load"
        done
    done
done

# Allocation check: exitblock under the counting shim, at the fixed rate.
alloc_report=""
if ((flood_rounds)) && [[ " $modes " == *" exitblock "* ]]; then
    note "allocation check: exitblock under malloc-count.so at $rate pps"
    counters="$work/malloc-count"
    set_rules -A exitblock
    start_daemon exitblock "LD_PRELOAD=$work/malloc-count.so" "MALLOC_COUNT_FILE=$counters"
    sleep 0.5
    read_allocs() { od -An -v -t u8 "$counters" | tr -s ' \n' ' '; }
    before=$(read_allocs)
    line=$(flood "$rate")
    sleep 0.3
    after=$(read_allocs)
    threads=""
    for t in /proc/"$daemon_pid"/task/*; do
        threads+="${t##*/}=$(tr ' ' '_' <"$t/comm") "
    done
    stop_daemon
    set_rules -D exitblock
    alloc_report=$(awk -v b="$before" -v a="$after" -v threads="$threads" -v judged="$(kv packets "$daemon_line")" 'BEGIN {
        nb = split(b, B, " "); split(a, A, " "); nt = split(threads, T, " ")
        for (i = 1; i <= nt; i++) { split(T[i], kv, "="); name[kv[1]] = kv[2] }
        allocs = (A[1] - B[1]) + (A[2] - B[2]) + (A[3] - B[3]) + (A[4] - B[4])
        printf "allocation calls when the flood started: %d, when it ended: %d\n", B[1] + B[2] + B[3] + B[4], A[1] + A[2] + A[3] + A[4]
        printf "allocations during the flood: %d (malloc %d, calloc %d, realloc %d, aligned %d; free %d) for %d packets = %.4f per packet\n",
            allocs, A[1] - B[1], A[2] - B[2], A[3] - B[3], A[4] - B[4], A[5] - B[5], judged, judged ? allocs / judged : 0
        for (k = 9; k + 1 <= nb; k += 2) if (A[k] != 0) delta[A[k]] = A[k + 1] - B[k + 1]
        for (tid in name) printf "  thread %s (%s): %d allocations during the flood\n", tid, name[tid], delta[tid] + 0
        for (tid in delta) if (!(tid in name) && delta[tid] > 0) printf "  thread %s (exited): %d allocations during the flood\n", tid, delta[tid]
    }')
fi

# Instruction count: each NFQUEUE daemon under callgrind (user-space instructions of all its
# threads, counted from the start of the flood to its exit) at a low rate that callgrind
# keeps up with; deterministic where the timings above are noisy. Valgrind 3.19 cannot read
# the DWARF 5 of Swift binaries, so exitblock runs from a copy without debug info.
instructions_report=""
if ((instructions)) && [[ " $modes " == *" cref "* && " $modes " == *" exitblock "* ]]; then
    note "instruction count: cref and exitblock under callgrind at $cg_rate pps"
    objcopy --strip-debug "$exitblock" "$work/exitblock-nodebug"
    for mode in cref exitblock; do
        set_rules -A "$mode"
        daemon_wrapper=(valgrind --tool=callgrind --callgrind-out-file="$work/callgrind-$mode.out")
        [[ "$mode" == exitblock ]] && daemon_wrapper_binary="$work/exitblock-nodebug"
        start_daemon "$mode"
        daemon_wrapper=()
        daemon_wrapper_binary=""
        callgrind_control -z "$daemon_pid" >/dev/null 2>&1  # count from here
        line=$(flood "$cg_rate")
        sleep 1
        stop_daemon
        set_rules -D "$mode"
        judged=$(kv packets "$daemon_line")
        total=$(awk '/^(summary|totals):/ { print $2; exit }' "$work/callgrind-$mode.out" 2>/dev/null || true)
        instructions_report+=$(awk -v m="$mode" -v t="${total:-0}" -v p="${judged:-0}" -v line="$daemon_line" 'BEGIN {
            bursts = ""
            if (match(line, /bursts=[0-9]+/)) bursts = sprintf(", %.1f packets per burst", p / substr(line, RSTART + 7, RLENGTH - 7))
            printf "  %-9s %6.0f instructions per packet (%d packets%s)\n", m, p ? t / p : 0, p, bursts
        }')$'\n'
    done
    instructions_report+=$(printf '%s' "$instructions_report" | awk '{ v[$1] = $2 } END {
        if (v["cref"] > 0) printf "  exitblock/cref: %.2f\n", v["exitblock"] / v["cref"] }')
fi

# ------------------------------------------------------------------ TCP: throughput, connection rate

# One iperf3 stream (throughput) and bench/connrate.c (short connections per second) through
# the gateway, per mode, alternating as above. Appends "mode round bits/s conn/s failures
# judged" to $work/tcp-results.
tcp_modes=()
for mode in none ipset exitblock ct flow; do
    [[ " $modes " == *" $mode "* ]] && tcp_modes+=("$mode")
done
: >"$work/tcp-results"
iperf_listening() { srv ss -Hltn 'sport = :5201' | grep -q .; }
if ((tcp)) && ((${#tcp_modes[@]} > 0)); then
    command -v iperf3 >/dev/null || die "iperf3 not found (or pass --no-tcp)"
    note "TCP: iperf3 throughput and connection rate for ${tcp_modes[*]}, $rounds round(s) x ${duration}s each"
    srv "${boosted[@]}" taskset -c "$DAEMON_CPU" "$work/connrate" serve --port 5301 --duration 3600 2>/dev/null &
    connrate_server=$!
    clean_sources=$(IFS=,; printf '%s' "${LAB_CLEAN4[*]}")
    nt=${#tcp_modes[@]}
    for ((round = 1; round <= rounds; round++)); do
        for ((i = 0; i < nt; i++)); do
            mode=${tcp_modes[$(((i + round - 1) % nt))]}
            set_rules -A "$mode"
            if is_daemon_mode "$mode"; then start_daemon "$mode"; fi
            srv "${boosted[@]}" taskset -c "$DAEMON_CPU" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
            iperf_server=$!
            wait_for 5 "iperf3 server to listen" iperf_listening || die "iperf3 server did not start"
            bps=$(in_ns "$LAB_CLIENT" "${boosted[@]}" taskset -c "$FLOOD_CPU" iperf3 -c "$LAB_SERVER4" -p 5201 -B "${LAB_CLEAN4[0]}" \
                -t "$duration" -J | python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])') ||
                bps=0
            wait "$iperf_server" || true
            conn=$(in_ns "$LAB_CLIENT" "${boosted[@]}" taskset -c "$FLOOD_CPU" "$work/connrate" connect --dst "$LAB_SERVER4" --port 5301 \
                --src "$clean_sources" --threads 16 --duration "$duration")
            judged="-"
            if [[ -n "$daemon_pid" ]]; then
                stop_daemon
                judged=$(kv packets "$daemon_line")
            fi
            set_rules -D "$mode"
            printf '%s %s %s %s %s %s\n' "$mode" "$round" "$bps" "$(kv rate "$conn")" "$(kv failures "$conn")" \
                "${judged:--}" >>"$work/tcp-results"
            tail -n 1 "$work/tcp-results" | awk '{ printf "bench:   %-9s tcp   %7.2f Gbit/s  %8.0f connections/s  (%d failed; judged %s)\n", $1, $3 / 1e9, $4, $5, $6 }' >&2
        done
    done
    kill "$connrate_server" 2>/dev/null || true
    wait "$connrate_server" 2>/dev/null || true
fi

tcp_table() {
    [[ -s "$work/tcp-results" ]] || return 0
    printf '\nTCP through the gateway (IPv4, clean sources; client on CPU %s, server and daemon on CPU %s; medians of %s round(s) x %ss):\n' \
        "$FLOOD_CPU" "$DAEMON_CPU" "$rounds" "$duration"
    awk -v order="${tcp_modes[*]}" '
        function median(list,    n, i, j, t, v) {
            n = split(list, v, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
            return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        { bps[$1] = bps[$1] " " $3; rate[$1] = rate[$1] " " $4; fails[$1] += $5; judged[$1] = judged[$1] " " $6 }
        END {
            nm = split(order, modes, " ")
            printf "  %-10s %14s %15s %12s %16s\n", "mode", "iperf3 Gbit/s", "connections/s", "conn failed", "judged (median)"
            for (m = 1; m <= nm; m++) {
                k = modes[m]
                if (!(k in bps)) continue
                b[k] = median(bps[k]); r[k] = median(rate[k]); j = median(judged[k])
                printf "  %-10s %14.2f %15.0f %12d %16s\n", k, b[k] / 1e9, r[k], fails[k], (k == "none" || k == "ipset") ? "-" : sprintf("%.0f", j)
            }
            printf "  ratios of medians:\n"
            np = split("flow/none flow/ipset flow/ct exitblock/none exitblock/ipset", pairs, " ")
            for (p = 1; p <= np; p++) {
                split(pairs[p], ab, "/")
                if (!(ab[1] in b) || !(ab[2] in b) || b[ab[2]] <= 0 || r[ab[2]] <= 0) continue
                printf "    %-16s throughput %.2f   connections/s %.2f\n", pairs[p], b[ab[1]] / b[ab[2]], r[ab[1]] / r[ab[2]]
            }
        }' "$work/tcp-results"
    printf '  judged = packets the NFQUEUE daemon judged over the iperf3 and the connection run together\n'
    printf '  (flow mode: about one per connection; packet mode: every packet from the client side).\n'
}

# ------------------------------------------------------------------ the table

table() {
    local kernel
    kernel=$(uname -r)
    printf 'exitblock forwarding benchmark  (%s, %s CPUs, kernel %s)\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$kernel"
    printf 'list %s: %s; traffic: UDP, 60 B (IPv4) / 80 B (IPv6) frames, %s%% IPv6, %s%% from listed sources\n' \
        "${list##*/}" "$ipset_counts" "$ipv6_percent" "$listed_percent"
    printf 'flooder pinned to CPU %s, NFQUEUE daemons to CPU %s; %s round(s) x %ss per mode and load; medians\n' \
        "$FLOOD_CPU" "$DAEMON_CPU" "$rounds" "$duration"
    printf 'loads: max = the flooder as fast as one core lets it (saturation); fixed = %s pps offered\n\n' "$rate"
    awk -v rate="$rate" -v order="$modes" '
        function median(key,    n, i, j, t, v) {
            n = split(vals[key], v, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
            if (n == 0) return "-"
            if (v[1] == "-") return "-"
            return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        {
            k = $1 SUBSEP $2
            for (f = 4; f <= 13; f++) vals[k SUBSEP f] = vals[k SUBSEP f] " " $f
        }
        END {
            nm = split(order, modes, " ")
            hdr = "%-6s %-10s %8s %9s %7s %9s %6s %7s %7s %7s %9s %8s\n"
            printf hdr, "load", "mode", "offered", "delivered", "listed", "unlisted", "lost", "total", "daemon", "daemon", "nfq queue", "nfq user"
            printf hdr, "", "", "kpps", "kpps", "passed", "lost", "%", "ns/pkt", "ns/pkt", "user", "dropped", "dropped"
            split("max fixed", loads, " ")
            for (l = 1; l <= 2; l++) for (m = 1; m <= nm; m++) {
                k = loads[l] SUBSEP modes[m]
                if (!((k SUBSEP 4) in vals)) continue
                del = median(k SUBSEP 5)
                ns = median(k SUBSEP 9)
                med[loads[l], modes[m], "del"] = del
                med[loads[l], modes[m], "ns"] = ns
                med[loads[l], modes[m], "total"] = median(k SUBSEP 12)
                user = median(k SUBSEP 13)
                med[loads[l], modes[m], "user"] = user
                printf "%-6s %-10s %8.1f %9.1f %7d %9d %6.2f %7.0f %7s %7s %9s %8s\n", loads[l], modes[m],
                    median(k SUBSEP 4) / 1000, del / 1000, median(k SUBSEP 6), median(k SUBSEP 7), median(k SUBSEP 8),
                    median(k SUBSEP 12), (ns == "-") ? "-" : sprintf("%.0f", ns), (user == "-") ? "-" : sprintf("%.0f", user),
                    median(k SUBSEP 10), median(k SUBSEP 11)
            }
            printf "\nratios of medians (delivered pps; total CPU per packet; daemon CPU per packet, all and user):\n"
            split("exitblock flow", subjects, " ")
            for (l = 1; l <= 2; l++) for (sj = 1; sj <= 2; sj++) {
                subject = subjects[sj]
                e = med[loads[l], subject, "del"]; et = med[loads[l], subject, "total"]
                en = med[loads[l], subject, "ns"]; eu = med[loads[l], subject, "user"]
                if (e == "") continue
                no = split(subject == "flow" ? "ipset none ct exitblock" : "ipset cref none", others, " ")
                for (o = 1; o <= no; o++) {
                    x = med[loads[l], others[o], "del"]; xt = med[loads[l], others[o], "total"]
                    xn = med[loads[l], others[o], "ns"]; xu = med[loads[l], others[o], "user"]
                    if (x == "" || x <= 0) continue
                    printf "  %-5s %9s/%-9s delivered %.2f   total CPU/pkt %.2f", loads[l], subject, others[o], e / x,
                        (xt > 0) ? et / xt : 0
                    if (xn != "-" && xn > 0 && en != "-") printf "   daemon CPU/pkt %.2f", en / xn
                    if (xu != "-" && xu > 0 && eu != "-") printf "   daemon user CPU/pkt %.2f", eu / xu
                    printf "\n"
                }
            }
        }' "$work/results" | sed 's/  *$//'
    printf '\ncolumns: offered = flooder send rate; delivered = packets reaching the server (both classes);\n'
    printf 'listed passed = packets from listed sources that reached the server (must be 0 when filtering);\n'
    printf 'unlisted lost = unlisted packets sent but not delivered (%% of those sent); total ns/pkt = CPU time of\n'
    printf 'flooder + daemon + ksoftirqd per packet sent (sending, forwarding, filtering, delivery; softirq work is\n'
    printf 'charged to the task it runs on); daemon ns/pkt = daemon CPU (all threads, kernel time of its syscalls\n'
    printf 'included, which includes forwarding the packets it accepts) per packet it judged; daemon user = its\n'
    printf 'user-mode part (/proc/PID/stat utime, 10 ms ticks); nfq queue/user dropped =\n'
    printf '/proc/net/netfilter/nfnetlink_queue (queue full / netlink send failed) at the end of the run.\n'
    if [[ -n "$instructions_report" ]]; then
        printf '\nuser-space instructions per packet (callgrind, all threads, %s pps for %ss):\n%s\n' "$cg_rate" \
            "$duration" "$instructions_report"
    fi
    if [[ -n "$alloc_report" ]]; then
        printf '\nallocation check (exitblock under LD_PRELOAD malloc-count.so, %s pps, %ss):\n%s\n' "$rate" "$duration" "$alloc_report"
    fi
}

{
    if ((flood_rounds)); then table; fi
    tcp_table
} | tee "$work/table.txt"
if [[ -n "$profile" ]]; then
    for mode in cref exitblock; do
        [[ -s "$profile/perf-$mode.data" ]] || continue
        printf '\nprofile of %s (perf record -e cpu-clock, %s pps; self time, top 25):\n' "$mode" "$rate"
        perf report -i "$profile/perf-$mode.data" --no-children --stdio -g none --percent-limit 0.7 2>/dev/null |
            grep '%' | head -n 25 | cut -c1-150
    done | tee -a "$work/table.txt"
fi
if [[ -n "$out" ]]; then
    cp "$work/table.txt" "$out"
    note "table written to $out"
fi

# Correctness: with a filter in place no packet from a listed source may reach the server
# (none and ct do not filter).
leaks=$(awk '$2 != "none" && $2 != "ct" && $6 > 0 { printf "%s %s round %s: %d listed packets passed\n", $2, $1, $3, $6 }' "$work/results")
if [[ -n "$leaks" ]]; then
    printf 'FAIL: listed packets got through a filter:\n%s\n' "$leaks"
    exit 1
fi
