#!/usr/bin/env bash
# scripts/bench.sh: forwarding benchmark of exitblock against the alternatives (DESIGN.md,
# "Performance"), in one run, on this machine. Needs root, gcc, libnetfilter-queue-dev,
# libmnl-dev, ipset, iptables; builds exitblock in release (.build-bench) unless EXITBLOCK
# is set. All traffic stays inside the three lab namespaces (lib/netns.sh).
#
# Traffic profiles (--profiles, any of them, in one run):
#   mixP   (mix10, mix50, ...) a flooder (bench/flood.c, pinned to CPU 0) sends small UDP
#          packets through the gateway to the server, P% of them from real listed Tor exits
#          (the list's addresses in turn), the others from a bounded population of
#          --clean-sources unlisted addresses per family (4096: a gateway's clean hosts send
#          again and again, which is what an accept cache feeds on); 20% IPv6. Two loads
#          (--loads): "max" (the flooder as fast as one core lets it: saturation; the
#          default) and "fixed" (--rate offered). The server counts what arrives per
#          family and class with raw-table rules (UDP port 9001 = listed source, 9000 =
#          unlisted).
#   syn    SYN retransmissions from listed exits, from the kernel's own TCP stack
#          (bench/synretry.c): the client namespace holds --syn-sources listed exit
#          addresses (the list's first ones, 20% IPv6) and makes one non-blocking connect()
#          from each to the server at once; the gateway drops them, so the kernel
#          retransmits each SYN on its own schedule for --syn-duration seconds (8 s, inside
#          one drop cache timeout: 7 SYNs per address on Linux 6.18, whose default
#          tcp_syn_linear_timeouts=4 retransmits the first ones 1 s apart before doubling;
#          4 SYNs on kernels before 6.5, which double from 1 s). Meanwhile the four clean
#          lab sources of each family connect every 50 ms to a listening server, and every
#          one of those connects must complete (before the first retransmission). The
#          figure: listed packets the NFQUEUE daemon judged itself per listed address (its
#          `dropped` count; goal <= 1 with the drop cache), next to the SYNs sent and the
#          drops the kernel's cache rules made (their rule counters). Run once, in round 1,
#          for each filtering mode (not none or ct).
# Modes (--modes; rounds alternate them, the order rotating each round; tables show medians):
#   none       forwarding only
#   ipset      hash:ip sets (inet + inet6) of the list, `-m set --match-set S src -j DROP`
#   cref       bench/nfq-reference.c behind `-j NFQUEUE --queue-num 0` in filter FORWARD
#              (pinned to CPU 1)
#   exitblock  `exitblock run --no-drop-cache --no-accept-cache` behind one bare
#              `-j NFQUEUE --queue-num 0` rule in mangle FORWARD, where `rules install` puts
#              the queue (pinned to CPU 1): every packet is judged in user space
#   ct         no filter, conntrack on (`-m conntrack --ctstate INVALID -j DROP`, as many
#              gateways have anyway): the cost flow mode pays before its first queued packet
#   flow       `exitblock run --mode flow --no-drop-cache --no-accept-cache` behind
#              `-m conntrack --ctstate NEW -j NFQUEUE --queue-num 0` in mangle FORWARD. The
#              flood is one-way UDP, and a flow the server never answered stays ct state NEW
#              for every packet, so before measuring, one pass of the flooder's pool at
#              50,000 pps for 2 s creates the flows' conntrack entries and the server
#              answers each unlisted flow once (the way real UDP flows see replies):
#              unlisted packets then cross as established flows, listed ones (dropped, so
#              never confirmed) are queued and dropped one by one.
#   packet+dropcache  `exitblock rules install --no-accept-cache` and `run --no-accept-cache`:
#              the drop cache; a listed address is judged once, its later packets
#              are dropped by the cache's `-m set` rule before the queue
#   packet+cache  `rules install` and `run` with their defaults: drop and accept caches
#              Both packet+*cache modes measure the caches as a running gateway has them:
#              before measuring, the same pass of the pool as flow's fills them (the
#              packets judged meanwhile are in runs.log, not in the run's figures)
#   flow+cache `rules install --mode flow` and `run --mode flow`, defaults (the drop cache)
#   Not in the default list:
#   exitblock-filter, flow-filter  exitblock and flow with the queue rule at the top of filter
#              FORWARD, to compare with the mangle layout
#   chain-0set, chain-1set, chain-2set  where the time goes: the rules of `rules install`
#              with no cache, the drop cache's, and both caches' (0, 1 or 2 `-m set` rules
#              before the queue rule, behind the jump to the EXITBLOCK chain), each with the
#              daemon run --no-drop-cache --no-accept-cache: every packet crosses the rules,
#              none is ever cached, so against `exitblock` (one bare rule) they price the
#              layout alone
#   hit-2set, hit-plain, hit-mark  the layout of a cached packet, every packet a cache hit: both sets
#              filled before the flood (the clean sources as accepted, the whole list as
#              dropped), the daemon run --no-drop-cache --no-accept-cache behind the queue
#              rule for any miss. hit-2set: the rules and sets of `rules install` (the accept
#              set's rule, then the drop set's with its allowlist mirror). hit-plain: the
#              same rules with sets as the ipset mode's (no timeout, no counters) swapped in
#              for exitblock's, to price those extensions. hit-mark: one
#              lookup for either decision: one hash:ip set per family with skbinfo (a clean
#              source's entry clears the mark bits 0x3000, a listed one's sets 0x2000), after
#              a rule that sets both bits (a miss); `-j SET --map-set S src --map-mark`, then
#              mark matches: bits clear accept, 0x2000 drops (unless the peer is in an
#              allowlist mirror), a miss clears the bits and is queued
#   hit-nft2set, hit-nftvmap  the same in native nftables, with no miss path (this kernel has
#              no nft queue, and an nft accept does not end the hook, so an iptables queue
#              rule would take every packet; every flooded address is filled, so none
#              misses). hit-nft2set: the table of `rules show --nft` without its queue
#              rule, its sets filled;
#              hit-nftvmap: one verdict map per family (address : accept, or : jump to a
#              chain that returns if the peer is in the allowlist mirror, else drops) and one
#              `ip saddr vmap` rule per family. No daemon runs for them, and the kernel
#              drop/acc columns read 0 (no iptables set rule)
# `rules install` runs with --in-interface veth-cli --queue 0 --no-queue-bypass (and
# --backend); the bench's own rules match the same interface.
# Then one more exitblock run under an LD_PRELOAD malloc-counting shim at the fixed rate:
# allocations made while the flood runs (the goal is zero per packet); and both NFQUEUE
# daemons under callgrind at 20,000 pps: user-space instructions per packet, the one figure
# here that other load on the machine cannot disturb.
# Then, for none, ipset, exitblock, packet+cache, ct, flow and flow+cache: TCP throughput of
# one iperf3 stream through the gateway (IPv4, a clean source; client on CPU 0, server on
# CPU 1, both boosted like the flooder), and the rate of short TCP connections
# (bench/connrate.c: 16 threads, connect then close with an RST, from the four clean IPv4
# sources), medians of the rounds.
# At the end: the goals as ratios of medians at saturation (clean kpps: unlisted
# packets delivered per second), each with the spread of the same ratio round by round
# (a round runs every mode once, so its two figures were taken minutes apart at most) and
# how many rounds met the goal, and the check that no listed packet was delivered and no
# unlisted packet lost in any filtering mode and profile (exit status 1 if violated).
#
# Usage: scripts/bench.sh [--quick] [--rounds N] [--duration S] [--rate PPS]
#                         [--profiles "mix10 mix50 syn"] [--loads "max"]
#                         [--modes "none ipset cref exitblock ct flow packet+dropcache
#                                   packet+cache flow+cache"] [--backend legacy|nft]
#                         [--list FILE] [--ipv6-percent P] [--clean-sources N]
#                         [--syn-sources N] [--syn-duration S] [--out FILE] [--keep]
#   default      3 rounds of 4 s per profile, mode and load, then the SYN profile, the
#                allocation check, the instruction count and the TCP measurements
#                (about 9 minutes on the 2-core development machine)
#   --quick      1 round of 2 s, SYN profile 3.5 s (4 SYNs per address on Linux 6.18);
#                about 2.5 minutes
#   --listed-percent P  the same as --profiles mixP
#   --backend    the iptables backend of every rule (the bench's, the server's and
#                `rules install --backend`): legacy or nft; default what `iptables` is
#   --list       the block list (default: the secops list, IPv4 + IPv6, from ../shared/data/tor)
#   --out FILE   also write the final table to FILE
#   --keep       keep the work directory (logs, per-run results)
#   --no-instructions  skip the callgrind instruction count of the two NFQUEUE daemons
#   --no-alloc   skip the allocation check
#   --no-tcp     skip the iperf3 throughput and connection rate measurements
#   --no-flood   skip the profiles, the allocation check and the instruction count (TCP
#                measurements only; a --profiles after it brings profiles back, e.g. syn alone)
#   --profile DIR  record the NFQUEUE daemons with `perf record -e cpu-clock -g` during the
#                fixed-load runs of round 1 (DIR/perf-MODE.data) and print their top symbols
# Environment: EXITBLOCK (binary to use, skips the swift build), IPTABLES, IP6TABLES.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$root/../shared/data/tor"

rounds=3
duration=4
rate=100000
modes="none ipset cref exitblock ct flow packet+dropcache packet+cache flow+cache"
profiles="mix10 mix50 syn"
loads="max"
backend=""
list="$data/secops-tor-exit-nodes-2024-02-27.lst"
ipv6_percent=20
listed_percent=10
clean_sources=4096
syn_sources=256
syn_duration=8
out=""
keep=0
profile=""
instructions=1
alloc=1
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
    --quick) rounds=1 duration=2 syn_duration=3.5 ;;
    --rounds) rounds=$2 && shift ;;
    --duration) duration=$2 && shift ;;
    --rate) rate=$2 && shift ;;
    --modes) modes=$2 && shift ;;
    --profiles) profiles=$2 && shift ;;
    --loads) loads=$2 && shift ;;
    --backend) backend=$2 && shift ;;
    --list) list=$2 && shift ;;
    --ipv6-percent) ipv6_percent=$2 && shift ;;
    --listed-percent) profiles="mix$2" && shift ;;
    --clean-sources) clean_sources=$2 && shift ;;
    --syn-sources) syn_sources=$2 && shift ;;
    --syn-duration) syn_duration=$2 && shift ;;
    --out) out=$2 && shift ;;
    --keep) keep=1 ;;
    --profile) profile=$2 && shift ;;
    --no-instructions) instructions=0 ;;
    --no-alloc) alloc=0 ;;
    --no-tcp) tcp=0 ;;
    --no-flood) flood_rounds=0 instructions=0 alloc=0 profiles="" ;;
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
[[ "$syn_duration" =~ ^[1-9][0-9]*(\.[0-9]+)?$ ]] || die "--syn-duration wants seconds (at least 1)"
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || die "--rate wants packets per second"
[[ "$clean_sources" =~ ^[0-9]+$ ]] || die "--clean-sources wants a count (0: a fresh address per packet)"
[[ "$syn_sources" =~ ^[1-9][0-9]*$ ]] || die "--syn-sources wants a positive count"
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
    case $mode in
    none | ipset | cref | exitblock | exitblock-filter | ct | flow | flow-filter) ;;
    packet+dropcache | packet+cache | flow+cache | chain-0set | chain-1set | chain-2set) ;;
    hit-2set | hit-plain | hit-mark | hit-nft2set | hit-nftvmap) ;;
    *) die "unknown mode $mode" ;;
    esac
done
mix_profiles=()
syn_profile=0
for p in $profiles; do
    case $p in
    mix[0-9] | mix[1-9][0-9] | mix100) mix_profiles+=("$p") ;;
    syn) syn_profile=1 ;;
    *) die "unknown profile $p (mix0 ... mix100, syn)" ;;
    esac
done
if ((syn_profile)) && [[ " $modes " == *" hit-"* ]]; then
    die "the hit-* modes prefill the sets with a mix profile's sources: leave syn out of --profiles"
fi
for l in $loads; do
    [[ "$l" == max || "$l" == fixed ]] || die "unknown load $l (max, fixed)"
done
[[ -n "$loads" ]] || die "--loads wants max, fixed or both"
case $backend in
"") ;;
legacy | nft)
    IPT=iptables-$backend IP6T=ip6tables-$backend
    command -v "$IPT" >/dev/null || die "$IPT not found"
    ;;
*) die "--backend wants legacy or nft" ;;
esac
# The listed percent of the allocation check and the instruction count: the first mix's.
if ((${#mix_profiles[@]})); then listed_percent=${mix_profiles[0]#mix}; fi

LAB_ID="bench$$"
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh" # stats_get, metric_sum (its start_daemon is not used here)

work=$(mktemp -d /tmp/exitblock-bench.XXXXXX)
sock="$work/stats.sock" # the daemon's stats socket (metric_sum's default)
daemon_pid=""
daemon_line=""
daemon_wrapper=()         # a command prefix for the daemon (valgrind for the instruction count)
daemon_wrapper_binary=""  # another exitblock binary for that run (debug info stripped)
syn_server=""

cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "$daemon_pid" "$syn_server"; do
        [[ -n "$pid" ]] || continue
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
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
gcc "${cflags[@]}" -o "$work/synretry" "$root/scripts/bench/synretry.c"
gcc "${cflags[@]}" -o "$work/nfq-reference" "$root/scripts/bench/nfq-reference.c" -lnetfilter_queue -lmnl
gcc "${cflags[@]}" -shared -fPIC -o "$work/malloc-count.so" "$root/scripts/bench/malloc-count.c"
gcc "${cflags[@]}" -pthread -o "$work/connrate" "$root/scripts/bench/connrate.c"

# is_exitblock_mode MODE: MODE runs `exitblock run` (and maybe `rules install`).
is_exitblock_mode() { [[ "$1" == exitblock* || "$1" == flow* || "$1" == packet+* || "$1" == chain-* || "$1" == hit-* ]]; }
# is_daemon_mode MODE: MODE has an NFQUEUE daemon.
is_daemon_mode() { [[ "$1" == cref ]] || { is_exitblock_mode "$1" && [[ "$1" != hit-nft* ]]; }; }
# is_filtering MODE: MODE drops listed packets (none and ct only forward).
is_filtering() { [[ "$1" != none && "$1" != ct ]]; }

exitblock=""
for mode in $modes; do
    is_exitblock_mode "$mode" || continue
    if [[ -n "${EXITBLOCK:-}" ]]; then
        exitblock=$EXITBLOCK
    else
        note "building exitblock (release, .build-bench)"
        (cd "$root" && swift build -c release --scratch-path .build-bench --product exitblock >&2) ||
            die "swift build failed"
        exitblock="$(cd "$root" && swift build -c release --scratch-path .build-bench --show-bin-path)/exitblock"
    fi
    [[ -x "$exitblock" ]] || die "not an executable: $exitblock"
    break
done

# The caches' option surface: `--no-accept-cache` on both commands, the drop cache
# on by default. A binary from before it has only the drop cache, off by default
# (`rules install --drop-cache`); the modes that need the accept cache then refuse to run.
accept_cache_cli=0
if [[ -n "$exitblock" ]]; then
    install_help=$("$exitblock" rules install --help 2>&1 || true) # whole: grep -q under pipefail would SIGPIPE it
    [[ "$install_help" == *--no-accept-cache* ]] && accept_cache_cli=1
    if ((!accept_cache_cli)); then
        note "this exitblock has no accept cache options (an older build): old drop cache flags"
        for mode in $modes; do
            [[ "$mode" == packet+cache || "$mode" == chain-2set || "$mode" == hit-2set || "$mode" == hit-plain ]] &&
                die "mode $mode needs exitblock's accept cache (--no-accept-cache)"
        done
    fi
fi

# ------------------------------------------------------------------ lab

note "building the lab (namespaces $LAB_CLIENT, $LAB_GW, $LAB_SERVER)"
lab_up || die "lab setup failed"
srv() { in_ns "$LAB_SERVER" "$@"; }

mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }
client_mac=$(mac_of "$LAB_CLIENT" "$LAB_CLIENT_IF")
gw_client_mac=$(mac_of "$LAB_GW" "$LAB_GW_CLIENT_IF")
server_mac=$(mac_of "$LAB_SERVER" "$LAB_SERVER_IF")
# Permanent neighbour entries: no ARP/ND work or timing in the measured path.
gw ip neigh replace "$LAB_SERVER4" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent
gw ip -6 neigh replace "$LAB_SERVER6" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent

# Server: count and drop in the raw table (no socket, no ICMP back). Rule order fixed, for
# both families: line 1 = listed UDP, line 2 = unlisted UDP (the mixes), line 3 = listed
# TCP SYNs (dropped), line 4 = clean TCP SYNs (counted only: the server answers them).
for t in "$IPT" "$IP6T"; do
    srv "$t" -t raw -A PREROUTING -p udp --dport 9001 -j DROP
    srv "$t" -t raw -A PREROUTING -p udp --dport 9000 -j DROP
    srv "$t" -t raw -A PREROUTING -p tcp --dport 9101 --syn -j DROP
    srv "$t" -t raw -A PREROUTING -p tcp --dport 9100 --syn
done

# The ipset mode's sets (created once; the rule referencing them is added per run).
{
    printf 'create eb4 hash:ip family inet hashsize 4096 maxelem 1048576\n'
    printf 'create eb6 hash:ip family inet6 hashsize 4096 maxelem 1048576\n'
    awk '{ sub(/#.*/, ""); sub(/\/(32|128)$/, "", $1) } $1 != "" { print "add " (index($1, ":") ? "eb6 " : "eb4 ") $1 }' "$list"
} | gw ipset restore -exist
ipset_counts="$(gw ipset list eb4 -terse | awk '/entries/ {print $NF}') IPv4 + $(gw ipset list eb6 -terse | awk '/entries/ {print $NF}') IPv6"

# The hit-* modes' addresses: the flooder's clean sources (accepted) and the list (dropped);
# hit-mark's sets are filled once here, hit-2set's (made by `rules install`) at each run,
# hit-plain's made at each run and swapped in for those of `rules install`.
hit_mark_bits=0x3000 hit_mark_drop=0x2000
if [[ " $modes " == *" hit-"* ]]; then
    "$work/flood" --iface "$LAB_CLIENT_IF" --src-mac "$client_mac" --dst-mac "$gw_client_mac" \
        --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" --list "$list" --clean-sources "$clean_sources" \
        --print-clean 1 >"$work/clean-sources"
    awk '{ sub(/#.*/, ""); sub(/\/(32|128)$/, "", $1) } $1 != "" && !index($1, "/") { print $1 }' "$list" \
        >"$work/listed-hosts"
    # hit_entries PREFIX ACCEPT_SUFFIX DROP_SUFFIX [ACCEPT_DATA DROP_DATA]: `add SET ADDRESS DATA`
    # lines, SET = PREFIX, the suffix and the family (4 or 6; @F in DATA is the family too).
    hit_entries() {
        awk -v p="$1" -v a="$2" -v d="$3" -v ad="${4:-}" -v dd="${5:-}" '
            { f = index($1, ":") ? "6" : "4"; data = FNR == NR ? ad : dd; gsub(/@F/, f, data)
              print "add " p (FNR == NR ? a : d) f " " $1 data }' "$work/clean-sources" "$work/listed-hosts"
    }
    # hit_nft_elements TABLE ACCEPT_SUFFIX DROP_SUFFIX ACCEPT_DATA DROP_DATA: the same as nft
    # `add element inet TABLE SET { ADDRESS DATA }` lines.
    hit_nft_elements() {
        hit_entries "element inet $1 " "$2" "$3" "$4" "$5" |
            sed 's/^add \(element inet [a-z]* [a-z0-9]*\) \(.*\)$/add \1 { \2 }/'
    }
    {
        for f in 4 6; do
            inet=$([[ $f == 4 ]] && echo inet || echo inet6)
            printf 'create ebmark%s hash:ip family %s hashsize 4096 maxelem 1048576 timeout 86400 counters skbinfo\n' "$f" "$inet"
            printf 'create ebmarkallow%s hash:net family %s\n' "$f" "$inet"
        done
        hit_entries ebmark "" "" " skbmark 0x0/$hit_mark_bits" " skbmark $hit_mark_drop/$hit_mark_bits"
    } | gw ipset restore -exist
fi
# hit_plain_sets swap|destroy: make sets like the ipset mode's (hash:ip, no timeout, no
# counters) holding hit-2set's entries and swap them with `rules install`'s; destroy the
# swapped-out ones after the run.
hit_plain_sets() {
    local f kind
    if [[ "$1" == destroy ]]; then
        for f in 4 6; do
            for kind in accept drop; do gw ipset destroy "ebplain-$kind$f"; done
        done
        return 0
    fi
    {
        for f in 4 6; do
            for kind in accept drop; do
                printf 'create ebplain-%s%s hash:ip family %s maxelem 1048576\n' "$kind" "$f" \
                    "$([[ $f == 4 ]] && echo inet || echo inet6)"
            done
        done
        hit_entries ebplain- accept drop
    } | gw ipset restore -exist
    for f in 4 6; do
        for kind in accept drop; do gw ipset swap "exitblock-$kind$f" "ebplain-$kind$f"; done
    done
}
# hit_nft_table MODE: the nft input of hit-nft2set or hit-nftvmap, elements included.
hit_nft_table() {
    local f ip
    if [[ "$1" == hit-nft2set ]]; then
        "$exitblock" rules show --nft --in-interface "$LAB_GW_CLIENT_IF" --queue "$QUEUE" --no-queue-bypass |
            sed '/queue num/d'
        hit_nft_elements exitblock accept drop " timeout 1h" " timeout 1h"
        return
    fi
    printf 'table inet ebvmap {\n'
    for f in 4 6; do
        ip=$([[ $f == 4 ]] && echo ip || echo ip6)
        printf '\tmap cache%s { type ipv%s_addr : verdict; flags dynamic, timeout; timeout 1h; size 1048576; counter; }\n' "$f" "$f"
        printf '\tset allow%s { type ipv%s_addr; flags interval; }\n' "$f" "$f"
        printf '\tchain drop%s {\n\t\t%s daddr @allow%s return\n\t\tdrop\n\t}\n' "$f" "$ip" "$f"
    done
    printf '\tchain judge {\n'
    printf '\t\tiifname "%s" ip saddr vmap @cache4\n\t\tiifname "%s" ip6 saddr vmap @cache6\n\t}\n' \
        "$LAB_GW_CLIENT_IF" "$LAB_GW_CLIENT_IF"
    printf '\tchain forward {\n\t\ttype filter hook forward priority mangle + 1; policy accept;\n\t\tjump judge\n\t}\n}\n'
    hit_nft_elements ebvmap cache cache " : accept" " : jump drop@F"
}
backend_name=$("$IPT" --version 2>/dev/null | sed -n 's/.*(\(.*\)).*/\1/p')

# The SYN profile's listed sources: the list's first host addresses (20% IPv6 by default),
# as local addresses of the client, so its TCP stack can connect from them.
if ((syn_profile)); then
    syn6=$((syn_sources * ipv6_percent / 100))
    syn4=$((syn_sources - syn6))
    awk -v n4="$syn4" -v n6="$syn6" '{ sub(/#.*/, ""); sub(/\/(32|128)$/, "", $1) }
        $1 == "" || index($1, "/") { next }
        index($1, ":") { if (c6++ < n6) print $1; next }
        { if (c4++ < n4) print $1 }' "$list" >"$work/syn-listed"
    syn_sources=$(wc -l <"$work/syn-listed")
    mapfile -t syn_addrs <"$work/syn-listed"
    lab_add_client_addrs "${syn_addrs[@]}" || die "adding the SYN profile's sources failed"
fi

# ------------------------------------------------------------------ measurement helpers

mapfile -t ksoftirqd_pids < <(pgrep -x "ksoftirqd/($FLOOD_CPU|$DAEMON_CPU)")

# server_counts: "listed4 unlisted4 listed6 unlisted6" UDP packets since the last zeroing.
# server_syn_counts: "listed4 clean4 listed6 clean6" TCP SYNs since the last zeroing.
server_lines() { # server_lines FIRST: rule lines FIRST and FIRST+1 of raw PREROUTING, per family
    local v4 v6 a4 b4 a6 b6
    v4=$(srv "$IPT" -t raw -L PREROUTING -nvx | awk -v f="$1" 'NR == f + 2 || NR == f + 3 { printf "%s ", $1 }')
    v6=$(srv "$IP6T" -t raw -L PREROUTING -nvx | awk -v f="$1" 'NR == f + 2 || NR == f + 3 { printf "%s ", $1 }')
    read -r a4 b4 <<<"$v4"
    read -r a6 b6 <<<"$v6"
    printf '%s %s %s %s\n' "$a4" "$b4" "$a6" "$b6"
}
server_counts() { server_lines 1; }
server_syn_counts() { server_lines 3; }
zero_server_counts() {
    srv "$IPT" -t raw -Z PREROUTING
    srv "$IP6T" -t raw -Z PREROUTING
}

# zero_gateway_counts: every rule counter of the gateway's mangle and filter tables.
zero_gateway_counts() {
    local t table
    for t in "$IPT" "$IP6T"; do
        for table in mangle filter; do gw "$t" -t "$table" -Z; done
    done
}

# flush_conntrack: empty the gateway's conntrack table, so that no run starts with the flows
# an earlier one left (the mixes send the same flows every run: a flow mode run after another
# would find its flows established already).
flush_conntrack() {
    gw conntrack -F -f ipv4 >/dev/null 2>&1 || true
    gw conntrack -F -f ipv6 >/dev/null 2>&1 || true
}

# kernel_decisions: "drops accepts" the gateway's set rules made since the last zeroing, both
# families, mangle and filter: the packets of rules that match a set (`--match-set`) and
# drop (the ipset mode's rule, the drop cache's), or that match an accept cache set
# (a set whose name has "accept") and accept or return. Read from the rule counters, so
# the same for every backend and for any daemon.
kernel_decisions() {
    local t
    for t in "$IPT" "$IP6T"; do
        gw "$t-save" -c -t mangle
        gw "$t-save" -c -t filter
    done 2>/dev/null | awk '
        /^\[/ && /--match-set/ {
            n = substr($1, 2); sub(/:.*/, "", n)
            if (/ -j DROP/) drops += n
            else if (/--match-set [^ ]*accept[^ ]* / && / -j (ACCEPT|RETURN)/) accepts += n
        }
        /^\[/ && / -A EBMARK-DROP -j DROP/ { n = substr($1, 2); sub(/:.*/, "", n); drops += n }
        /^\[/ && / -A EBMARK .*-m mark --mark 0x0\/0x3000 -j ACCEPT/ { n = substr($1, 2); sub(/:.*/, "", n); accepts += n }
        END { printf "%d %d\n", drops, accepts }'
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

# daemon_args MODE: the `exitblock run` options MODE adds (its cache choice, flow mode).
daemon_args() {
    local mode=$1 args=()
    [[ "$mode" == flow* ]] && args+=(--mode flow)
    case $mode in
    packet+cache | flow+cache) ;;                                      # the defaults: both caches
    packet+dropcache) ((accept_cache_cli)) && args+=(--no-accept-cache) ;; # the drop cache only
    *)
        args+=(--no-drop-cache)
        ((accept_cache_cli)) && args+=(--no-accept-cache)
        ;;
    esac
    ((${#args[@]} == 0)) || printf '%s\n' "${args[@]}"
}

# install_args MODE: the `exitblock rules install` options of MODE (none: the bench's own
# rules), without the ones every install gets (common_install_args).
install_args() {
    local mode=$1 args=()
    [[ "$mode" == flow+cache ]] && args+=(--mode flow)
    if ((accept_cache_cli)); then
        case $mode in
        packet+dropcache | chain-1set) args+=(--no-accept-cache) ;;
        chain-0set) args+=(--no-drop-cache --no-accept-cache) ;;
        esac
    else # before the rework: the drop cache off by default, no accept cache
        case $mode in
        packet+dropcache | chain-1set | flow+cache) args+=(--drop-cache) ;;
        esac
    fi
    ((${#args[@]} == 0)) || printf '%s\n' "${args[@]}"
}
uses_install() { [[ "$1" == *+*cache || "$1" == chain-* || "$1" == hit-2set || "$1" == hit-plain ]]; }
common_install_args=(--in-interface "$LAB_GW_CLIENT_IF" --queue "$QUEUE" --no-queue-bypass)
[[ -n "$backend" ]] && common_install_args+=(--backend "$backend")

# start_nfq_daemon MODE [ENV...]: start the NFQUEUE daemon for MODE pinned to DAEMON_CPU in
# the gateway, wait until it says ready. Sets daemon_pid.
start_nfq_daemon() {
    local mode=$1
    shift
    local cmd binary=$exitblock
    [[ -n "$daemon_wrapper_binary" ]] && binary=$daemon_wrapper_binary
    if [[ "$mode" == cref ]]; then
        cmd=("$work/nfq-reference" --queue "$QUEUE" --list "$list" --burst 64 --copy-range 64
            --queue-max-length 4096 --receive-buffer $((8 << 20)))
    else
        cmd=("$binary" run --queue "$QUEUE" --list "$list" --burst-size 64 --copy-range 64
            --queue-max-length 4096 --receive-buffer $((8 << 20)) --stats-socket "$sock")
        local extra
        mapfile -t extra < <(daemon_args "$mode")
        cmd+=("${extra[@]}")
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

# stop_nfq_daemon: SIGTERM, wait (at most 30 s: valgrind is slow); sets daemon_line to its
# final "total ..." line. (Not to be called in a subshell: it clears daemon_pid.)
stop_nfq_daemon() {
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
    if uses_install "$mode"; then
        # The caches' rules as `exitblock rules install` puts them (docs/operator-guide.md, Drop cache).
        local extra
        mapfile -t extra < <(install_args "$mode")
        if [[ "$op" == -A ]]; then
            gw "$exitblock" rules install "${common_install_args[@]}" "${extra[@]}" >/dev/null
        else
            gw "$exitblock" rules remove "${common_install_args[@]}" "${extra[@]}" >/dev/null
        fi
        return
    fi
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
        # Where `exitblock rules install` puts the queue: mangle FORWARD (an accept there
        # does not end the filter table), as one bare rule: no jump, no cache rules.
        for t in "$IPT" "$IP6T"; do
            gw "$t" -t mangle "$op" FORWARD -i "$LAB_GW_CLIENT_IF" -j NFQUEUE --queue-num "$QUEUE"
        done
        ;;
    hit-mark)
        local f c chains=(EBMARK EBMARK-DROP)
        for t in "$IPT" "$IP6T"; do
            f=$([[ "$t" == "$IPT" ]] && echo 4 || echo 6)
            if [[ "$op" == -A ]]; then
                gw "$t" -t mangle -N EBMARK
                gw "$t" -t mangle -N EBMARK-DROP
                local sel=(-t mangle -A EBMARK -i "$LAB_GW_CLIENT_IF")
                gw "$t" "${sel[@]}" -j MARK --set-xmark "$hit_mark_bits/$hit_mark_bits"
                gw "$t" "${sel[@]}" -j SET --map-set "ebmark$f" src --map-mark
                gw "$t" "${sel[@]}" -m mark --mark "0x0/$hit_mark_bits" -j ACCEPT
                gw "$t" "${sel[@]}" -m mark --mark "$hit_mark_drop/$hit_mark_bits" -j EBMARK-DROP
                gw "$t" "${sel[@]}" -j MARK --set-xmark "0x0/$hit_mark_bits"
                gw "$t" "${sel[@]}" -j NFQUEUE --queue-num "$QUEUE"
                gw "$t" -t mangle -A EBMARK-DROP -m set --match-set "ebmarkallow$f" dst -j RETURN
                gw "$t" -t mangle -A EBMARK-DROP -j DROP
                gw "$t" -t mangle -A FORWARD -j EBMARK
            else
                gw "$t" -t mangle -D FORWARD -j EBMARK
                for c in "${chains[@]}"; do gw "$t" -t mangle -F "$c"; done
                for c in "${chains[@]}"; do gw "$t" -t mangle -X "$c"; done
            fi
        done
        ;;
    hit-nft2set | hit-nftvmap)
        if [[ "$op" == -A ]]; then
            hit_nft_table "$mode" >"$work/hit.nft"
            gw nft -f "$work/hit.nft"
        else
            gw nft delete table inet "$([[ "$mode" == hit-nft2set ]] && echo exitblock || echo ebvmap)"
        fi
        ;;
    exitblock-filter | flow-filter)
        # The filter layout: the queue at the top of filter FORWARD (an accept
        # there ends filter, so it would skip the operator's rules); kept for comparison.
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
    esac
}

# prime_pass: one pass of the flooder's pool (the same sources as the measured flood: same
# seed) at a rate the daemon judges without loss, 100,000 packets: each clean IPv6 source
# (the smaller share) is drawn about 4.4 times, so about 99% of them are sent at least once.
prime_pass() {
    in_ns "$LAB_CLIENT" "$work/flood" --iface "$LAB_CLIENT_IF" --src-mac "$client_mac" --dst-mac "$gw_client_mac" \
        --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" --list "$list" --duration 2 --rate 50000 \
        --listed-percent "$listed_percent" --ipv6-percent "$ipv6_percent" --clean-sources "$clean_sources" >/dev/null 2>&1
}

# prime_caches: for the packet modes with verdict caches (rules and daemon in place): one
# prime_pass, so the caches hold the pool's addresses as a running gateway's hold its
# regular peers' (a daemon just started has empty caches; that start is measured apart,
# as the packets judged while priming). Sets primed_judged.
prime_caches() {
    prime_pass
    sleep 0.2 # the writer's last adds
    primed_judged=$(metric_sum exitblock_packets_total 2>/dev/null || echo 0)
}

# prime_flows: for the flow modes (rules and daemon in place): one prime_pass, so every
# unlisted flow has a confirmed conntrack entry, then one UDP answer from the server per
# such flow (from its port to the flow's source), so conntrack has seen both directions and
# the flow's later packets are ct state ESTABLISHED. The answers to unlisted sources find
# no route past the gateway; conntrack has seen them by then (PREROUTING). Sets
# primed_judged (packets the daemon judged meanwhile).
prime_flows() {
    prime_pass
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
    primed_judged=$(metric_sum exitblock_packets_total 2>/dev/null || echo 0)
}
primed_flows=0
primed_judged=0

flood() { # flood RATE (0 = max)
    in_ns "$LAB_CLIENT" "${boosted[@]}" taskset -c "$FLOOD_CPU" "$work/flood" --iface "$LAB_CLIENT_IF" \
        --src-mac "$client_mac" --dst-mac "$gw_client_mac" --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" \
        --list "$list" --duration "$duration" --rate "$1" --listed-percent "$listed_percent" \
        --ipv6-percent "$ipv6_percent" --clean-sources "$clean_sources" 2>/dev/null
}

kv() { # kv KEY LINE: the value of KEY=value in LINE
    sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"
}

# run_one PROFILE ROUND MODE LOAD: one measured flood run; appends a line to $work/results:
#   1 profile 2 load 3 mode 4 round 5 offered_pps 6 delivered_pps 7 listed_passed
#   8 unlisted_lost 9 unlisted_lost_% 10 daemon_ns_per_pkt 11 queue_dropped 12 user_dropped
#   13 total_ns_per_pkt 14 daemon_user_ns_per_pkt 15 judged 16 clean_pps (unlisted
#   delivered per second) 17 kernel_drops 18 kernel_accepts 19 sent
# total_ns_per_pkt = CPU time of the flooder + the daemon + ksoftirqd/0,1 per packet sent:
# without IRQ time accounting, softirq work is charged to the task it interrupts, so this is
# the whole cost of a packet on this machine (sending, forwarding, filtering, delivery),
# and other processes' load does not count.
run_one() {
    local prof=$1 round=$2 mode=$3 load=$4 r
    r=$([[ "$load" == max ]] && echo 0 || echo "$rate")
    listed_percent=${prof#mix}
    flush_conntrack
    set_rules -A "$mode"
    if is_daemon_mode "$mode"; then
        start_nfq_daemon "$mode"
    fi
    # hit-2set: the sets of `rules install` filled as hit-mark's are (after the daemon's start;
    # an hour's timeout, so that no entry expires during a long --duration).
    [[ "$mode" == hit-2set ]] && hit_entries exitblock- accept drop " timeout 3600" " timeout 3600" |
        gw ipset restore -exist
    [[ "$mode" == hit-plain ]] && hit_plain_sets swap
    primed_judged=0
    [[ "$mode" == flow* ]] && prime_flows
    [[ "$mode" == packet+*cache ]] && prime_caches
    zero_server_counts
    zero_gateway_counts
    local d0=0 d1=0 u0=0 u1=0 k0 k1 line
    k0=$(ksoftirqd_cpu_ns)
    if [[ -n "$daemon_pid" ]]; then
        d0=$(task_cpu_ns "$daemon_pid")
        u0=$(task_user_ticks "$daemon_pid")
    fi
    local perf_pid=""
    if [[ -n "$profile" && -n "$daemon_pid" && "$load" == fixed && "$round" == 1 ]]; then
        perf record -q -e cpu-clock -F 4999 -g -p "$daemon_pid" -o "$profile/perf-$prof-$mode.data" \
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
    local counts qd="-" ud="-" judged=0 kd ka
    daemon_line=""
    counts=$(server_counts)
    read -r kd ka <<<"$(kernel_decisions)"
    if [[ -n "$daemon_pid" ]]; then
        read -r qd ud <<<"$(nfq_figures)"
        stop_nfq_daemon
        judged=$(kv packets "$daemon_line")
        judged=$((${judged:-0} - primed_judged)) # the priming pass is not part of the run
    fi
    set_rules -D "$mode"
    [[ "$mode" == hit-plain ]] && hit_plain_sets destroy
    local l4 u4 l6 u6
    read -r l4 u4 l6 u6 <<<"$counts"
    awk -v prof="$prof" -v load="$load" -v mode="$mode" -v round="$round" -v sent="$(kv sent "$line")" \
        -v su4="$(kv unlisted4 "$line")" -v su6="$(kv unlisted6 "$line")" -v s="$(kv seconds "$line")" \
        -v l4="$l4" -v u4="$u4" -v l6="$l6" -v u6="$u6" -v dns=$((d1 - d0)) -v judged="$judged" \
        -v qd="$qd" -v ud="$ud" -v fns="$(kv cpu_ns "$line")" -v kns=$((k1 - k0)) \
        -v uticks=$((u1 - u0)) -v hz="$(getconf CLK_TCK)" -v kd="$kd" -v ka="$ka" 'BEGIN {
            lost = (su4 + su6) - (u4 + u6)
            per = (judged > 0) ? dns / judged : "-"
            user = (judged > 0) ? uticks * 1e9 / hz / judged : "-"
            pct = (su4 + su6 > 0) ? 100 * lost / (su4 + su6) : 0
            printf "%s %s %s %s %.0f %.0f %d %d %.2f %s %s %s %.0f %s %d %.0f %d %d %d\n", prof, load, mode, round,
                sent / s, (u4 + u6 + l4 + l6) / s, l4 + l6, lost, pct, per, qd, ud, (fns + dns + kns) / sent, user,
                judged, (u4 + u6) / s, kd, ka, sent
        }' >>"$work/results"
    printf '  %s round %s %-16s %-5s %s | server l4=%s u4=%s l6=%s u6=%s | kernel drops=%s accepts=%s | %s\n' \
        "$prof" "$round" "$mode" "$load" "$line" "$l4" "$u4" "$l6" "$u6" "$kd" "$ka" "${daemon_line:-no daemon}" \
        >>"$work/runs.log"
    [[ "$mode" == flow* ]] && printf '    (%s: %s unlisted flows primed with an answer; %s packets judged while priming)\n' \
        "$mode" "$primed_flows" "$primed_judged" >>"$work/runs.log"
    [[ "$mode" == packet+*cache ]] && printf '    (%s: %s packets judged while priming the caches)\n' \
        "$mode" "$primed_judged" >>"$work/runs.log"
    tail -n 1 "$work/results" | awk '{ printf "bench:   %-6s %-16s %-5s offered %8.0f pps  clean delivered %8.0f pps  listed passed %d  unlisted lost %d\n", $1, $3, $2, $5, $16, $7, $8 }' >&2
}

# syn_one MODE: the SYN profile for MODE; appends a line to $work/syn-results:
#   1 mode 2 listed_sources 3 listed_syns_sent 4 judged_listed (the daemon's dropped, "-"
#   without a daemon) 5 kernel_drops (rule counters) 6 kernel_drops_metric (exitblock's own
#   drop cache figure, "-" when it has none) 7 listed_syns_passed (reached the server)
#   8 listed_answered (connects that got any answer) 9 clean_connects 10 clean_ok
#   11 clean_failed 12 clean_syns_at_server
syn_one() {
    local mode=$1 line counts kd ka kmetric="-" judged="-"
    flush_conntrack
    set_rules -A "$mode"
    is_daemon_mode "$mode" && start_nfq_daemon "$mode"
    zero_server_counts
    zero_gateway_counts
    local clean
    clean=$(IFS=,; printf '%s' "${LAB_CLEAN4[*]},${LAB_CLEAN6[*]}")
    line=$(in_ns "$LAB_CLIENT" "$work/synretry" --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" --listed "$work/syn-listed" \
        --clean "$clean" --listed-port 9101 --clean-port 9100 --duration "$syn_duration") || die "synretry failed"
    sleep 1.2 # exitblock reads its cache's kernel counters once a second
    counts=$(server_syn_counts)
    read -r kd ka <<<"$(kernel_decisions)"
    daemon_line=""
    if [[ -n "$daemon_pid" ]]; then
        if [[ "$mode" != cref ]]; then
            kmetric=$(stats_get /metrics 2>/dev/null | awk '$1 ~ /^exitblock_drop_cache_kernel_drops_total/ { s += $2; f = 1 }
                END { print f ? s : "-" }')
        fi
        stop_nfq_daemon
        judged=$(kv dropped "$daemon_line")
    fi
    set_rules -D "$mode"
    local l4 c4 l6 c6
    read -r l4 c4 l6 c6 <<<"$counts"
    printf '%s %s %s %s %s %s %s %s %s %s %s %s\n' "$mode" "$(kv listed "$line")" "$(kv listed_syns "$line")" \
        "${judged:--}" "$kd" "$kmetric" $((l4 + l6)) $(($(kv listed_established "$line") + $(kv listed_errors "$line"))) \
        "$(kv clean "$line")" "$(kv clean_ok "$line")" "$(kv clean_failed "$line")" $((c4 + c6)) >>"$work/syn-results"
    printf '  syn %-16s %s | server listed=%s clean=%s | kernel drops=%s (metric %s) | %s\n' "$mode" "$line" \
        $((l4 + l6)) $((c4 + c6)) "$kd" "$kmetric" "${daemon_line:-no daemon}" >>"$work/runs.log"
    tail -n 1 "$work/syn-results" | awk '{ printf "bench:   syn    %-16s %d sources, %d SYNs sent, judged %s, kernel drops %s, listed passed %d, clean %d/%d\n", $1, $2, $3, $4, $5, $7, $10, $9 }' >&2
}

# ------------------------------------------------------------------ the runs

read -ra mode_list <<<"$modes"
read -ra load_list <<<"$loads"
n=${#mode_list[@]}
note "list: $list ($ipset_counts); flooder on CPU $FLOOD_CPU, daemons on CPU $DAEMON_CPU; backend ${backend_name:-?}"
note "$rounds round(s) x ${#mix_profiles[@]} mix(es) x ${n} mode(s) x ${#load_list[@]} load(s) x ${duration}s$( ((syn_profile)) && printf ', SYN profile %ss per filtering mode' "$syn_duration")"
: >"$work/results"
: >"$work/syn-results"
: >"$work/runs.log"
if ((syn_profile)); then
    srv "${boosted[@]}" taskset -c "$DAEMON_CPU" "$work/connrate" serve --port 9100 --duration 36000 2>/dev/null &
    syn_server=$!
fi
for ((round = 1; round <= rounds * flood_rounds; round++)); do
    for ((i = 0; i < n; i++)); do
        mode=${mode_list[$(((i + round - 1) % n))]}
        for prof in "${mix_profiles[@]}"; do
            for load in "${load_list[@]}"; do
                run_one "$prof" "$round" "$mode" "$load"
            done
        done
        if ((syn_profile && round == 1)) && is_filtering "$mode"; then
            syn_one "$mode"
        fi
    done
done
if ((flood_rounds == 0 && syn_profile)); then
    for mode in "${mode_list[@]}"; do
        is_filtering "$mode" && syn_one "$mode"
    done
fi
if [[ -n "$syn_server" ]]; then
    kill "$syn_server" 2>/dev/null || true
    wait "$syn_server" 2>/dev/null || true
    syn_server=""
fi
listed_percent=${mix_profiles[0]:-mix10}
listed_percent=${listed_percent#mix}

# Allocation check: exitblock under the counting shim, at the fixed rate.
alloc_report=""
if ((alloc)) && [[ " $modes " == *" exitblock "* ]]; then
    note "allocation check: exitblock under malloc-count.so at $rate pps"
    counters="$work/malloc-count"
    set_rules -A exitblock
    start_nfq_daemon exitblock "LD_PRELOAD=$work/malloc-count.so" "MALLOC_COUNT_FILE=$counters"
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
    stop_nfq_daemon
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
        start_nfq_daemon "$mode"
        daemon_wrapper=()
        daemon_wrapper_binary=""
        callgrind_control -z "$daemon_pid" >/dev/null 2>&1  # count from here
        line=$(flood "$cg_rate")
        sleep 1
        stop_nfq_daemon
        set_rules -D "$mode"
        judged=$(kv packets "$daemon_line")
        cg_total=$(awk '/^(summary|totals):/ { print $2; exit }' "$work/callgrind-$mode.out" 2>/dev/null || true)
        instructions_report+=$(awk -v m="$mode" -v t="${cg_total:-0}" -v p="${judged:-0}" -v line="$daemon_line" 'BEGIN {
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
for mode in none ipset exitblock packet+cache ct flow flow+cache; do
    [[ " $modes " == *" $mode "* ]] && tcp_modes+=("$mode")
done
: >"$work/tcp-results"
iperf_listening() { srv ss -Hltn 'sport = :5201' | grep -q .; }
if ((tcp)) && ((${#tcp_modes[@]} > 0)); then
    command -v iperf3 >/dev/null || die "iperf3 not found (or pass --no-tcp)"
    note "TCP: iperf3 throughput and connection rate for ${tcp_modes[*]}, $rounds round(s) x ${duration}s each"
    srv "${boosted[@]}" taskset -c "$DAEMON_CPU" "$work/connrate" serve --port 5301 --duration 3600 2>/dev/null &
    connrate_server=$!
    tcp_sources=$(IFS=,; printf '%s' "${LAB_CLEAN4[*]}")
    nt=${#tcp_modes[@]}
    for ((round = 1; round <= rounds; round++)); do
        for ((i = 0; i < nt; i++)); do
            mode=${tcp_modes[$(((i + round - 1) % nt))]}
            set_rules -A "$mode"
            if is_daemon_mode "$mode"; then start_nfq_daemon "$mode"; fi
            srv "${boosted[@]}" taskset -c "$DAEMON_CPU" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
            iperf_server=$!
            wait_for 5 "iperf3 server to listen" iperf_listening || die "iperf3 server did not start"
            bps=$(in_ns "$LAB_CLIENT" "${boosted[@]}" taskset -c "$FLOOD_CPU" iperf3 -c "$LAB_SERVER4" -p 5201 -B "${LAB_CLEAN4[0]}" \
                -t "$duration" -J | python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])') ||
                bps=0
            wait "$iperf_server" || true
            conn=$(in_ns "$LAB_CLIENT" "${boosted[@]}" taskset -c "$FLOOD_CPU" "$work/connrate" connect --dst "$LAB_SERVER4" --port 5301 \
                --src "$tcp_sources" --threads 16 --duration "$duration")
            judged="-"
            if [[ -n "$daemon_pid" ]]; then
                stop_nfq_daemon
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
            printf "  %-16s %14s %15s %12s %16s\n", "mode", "iperf3 Gbit/s", "connections/s", "conn failed", "judged (median)"
            for (m = 1; m <= nm; m++) {
                k = modes[m]
                if (!(k in bps)) continue
                b[k] = median(bps[k]); r[k] = median(rate[k]); j = median(judged[k])
                printf "  %-16s %14.2f %15.0f %12d %16s\n", k, b[k] / 1e9, r[k], fails[k], (k == "none" || k == "ipset") ? "-" : sprintf("%.0f", j)
            }
            printf "  ratios of medians:\n"
            np = split("flow/none flow/ipset flow/ct flow+cache/ct exitblock/none exitblock/ipset packet+cache/ipset packet+cache/exitblock", pairs, " ")
            for (p = 1; p <= np; p++) {
                split(pairs[p], ab, "/")
                if (!(ab[1] in b) || !(ab[2] in b) || b[ab[2]] <= 0 || r[ab[2]] <= 0) continue
                printf "    %-24s throughput %.2f   connections/s %.2f\n", pairs[p], b[ab[1]] / b[ab[2]], r[ab[1]] / r[ab[2]]
            }
        }' "$work/tcp-results"
    printf '  judged = packets the NFQUEUE daemon judged over the iperf3 and the connection run together\n'
    printf '  (flow mode: about one per connection; packet mode: every packet from the client side).\n'
}

# ------------------------------------------------------------------ the tables
# The tables' figures come from scripts/lib/bench_report.py (medians, ratios, goals, checks).
report="$root/scripts/lib/bench_report.py"

# mix_table PROFILE: the flood table of one mix profile, with its ratios.
mix_table() {
    local prof=$1
    printf '\nprofile %s: %s%% of packets from listed sources, the rest from %s clean sources per family\n' \
        "$prof" "${prof#mix}" "$([[ "$clean_sources" == 0 ]] && echo "fresh random" || echo "$clean_sources")"
    python3 "$report" mix "$prof" "$modes" "$loads" "$work/results"
}

syn_table() {
    [[ -s "$work/syn-results" ]] || return 0
    printf '\nprofile syn: %s listed exits (%s IPv4 + %s IPv6) each connect once to the server and are never\n' \
        "$syn_sources" "$syn4" "$syn6"
    printf 'answered; the kernel retransmits each SYN for %ss (one window, shorter than the drop cache timeout;\n' "$syn_duration"
    printf 'tcp_syn_retries %s, tcp_syn_linear_timeouts %s);\n' "$(in_ns "$LAB_CLIENT" sysctl -n net.ipv4.tcp_syn_retries)" \
        "$(in_ns "$LAB_CLIENT" sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || echo "-")"
    printf 'meanwhile the 8 clean lab sources connect every 50 ms (round 1, one run per mode)\n'
    python3 "$report" syn "$work/syn-results"
    printf 'SYNs sent = from the client sockets (TCP_INFO: 1 + retransmissions); judged = listed packets the NFQUEUE\n'
    printf 'daemon dropped itself (its dropped count); kernel drops = packets the set rules dropped (rule counters;\n'
    printf "exitblock's own figure in brackets, read once a second, so a lower bound); clean failed = clean connects\n"
    printf 'not established within 0.9 s (before a SYN retransmission).\n'
}

# goals: the goals, from the medians above (saturation: the max load).
goals() {
    local load=max
    [[ " $loads " == *" max "* ]] || load=fixed
    printf '\ngoals (load %s; ratios of median clean kpps = unlisted packets delivered per second):\n' "$load"
    python3 "$report" goals "$loads" "$work/results" "$work/syn-results"
}

table() {
    local kernel
    kernel=$(uname -r)
    printf 'exitblock forwarding benchmark  (%s, %s CPUs, kernel %s, iptables %s)\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
        "$(nproc)" "$kernel" "${backend_name:-?}"
    printf 'list %s: %s; mixes: UDP, 60 B (IPv4) / 80 B (IPv6) frames, %s%% IPv6\n' \
        "${list##*/}" "$ipset_counts" "$ipv6_percent"
    printf 'flooder pinned to CPU %s, NFQUEUE daemons to CPU %s; %s round(s) x %ss per profile, mode and load; medians\n' \
        "$FLOOD_CPU" "$DAEMON_CPU" "$rounds" "$duration"
    printf 'loads: max = the flooder as fast as one core lets it (saturation); fixed = %s pps offered\n' "$rate"
    local prof
    for prof in "${mix_profiles[@]}"; do mix_table "$prof"; done
    printf '\ncolumns: offered = flooder send rate; delivered = packets reaching the server (both classes); clean =\n'
    printf 'unlisted packets delivered; listed passed = listed packets that reached the server (must be 0 when\n'
    printf 'filtering); unlisted lost = unlisted packets sent but not delivered (%% of those sent); total ns/pkt = CPU\n'
    printf 'time of flooder + daemon + ksoftirqd per packet sent (sending, forwarding, filtering, delivery; softirq\n'
    printf 'work is charged to the task it runs on); daemon ns/pkt = daemon CPU (all threads, kernel time of its\n'
    printf 'syscalls included, which includes forwarding the packets it accepts) per packet it judged; daemon user =\n'
    printf 'its user-mode part (/proc/PID/stat utime, 10 ms ticks); judged %% = packets the daemon judged, %% of\n'
    printf 'those sent; kernel drop/acc %% = packets the set rules (ipset, the caches) dropped / accepted, %% of those\n'
    printf 'sent; nfq drops = /proc/net/netfilter/nfnetlink_queue (queue full + netlink send failed); check = every\n'
    printf 'round of a filtering mode delivered no listed packet and lost no unlisted one (- : no filter).\n'
    syn_table
    goals
    if [[ -n "$instructions_report" ]]; then
        printf '\nuser-space instructions per packet (callgrind, all threads, %s pps for %ss):\n%s\n' "$cg_rate" \
            "$duration" "$instructions_report"
    fi
    if [[ -n "$alloc_report" ]]; then
        printf '\nallocation check (exitblock under LD_PRELOAD malloc-count.so, %s pps, %ss):\n%s\n' "$rate" "$duration" "$alloc_report"
    fi
}

{
    if ((flood_rounds || syn_profile)); then table; fi
    tcp_table
} | tee "$work/table.txt"
if [[ -n "$profile" ]]; then
    for f in "$profile"/perf-*.data; do
        [[ -s "$f" ]] || continue
        printf '\nprofile %s (perf record -e cpu-clock, %s pps; self time, top 25):\n' "${f##*/perf-}" "$rate"
        perf report -i "$f" --no-children --stdio -g none --percent-limit 0.7 2>/dev/null |
            grep '%' | head -n 25 | cut -c1-150
    done | tee -a "$work/table.txt"
fi
if [[ -n "$out" ]]; then
    cp "$work/table.txt" "$out"
    note "table written to $out"
fi
note "done in $((SECONDS / 60)) min $((SECONDS % 60)) s"

# Correctness: with a filter in place no packet from a listed source may reach the server,
# and no unlisted packet may be lost (none and ct do not filter: their check column shows a
# loss, but it fails nothing).
bad=$(python3 "$report" bad "$work/results" "$work/syn-results")
if [[ -n "$bad" ]]; then
    printf '\nFAIL: a filter let a listed packet through or lost a clean one:\n%s\n' "$bad"
    exit 1
fi
