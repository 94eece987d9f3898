#!/usr/bin/env bash
# scripts/soak.sh: a long run of exitblock under everything a gateway sees at once, in a
# three-namespace lab (lib/netns.sh), checked for leaks and lost enforcement. Needs root.
#
#   scripts/soak.sh [--minutes N] [--rate PPS] [--out DIR] [--sample-seconds S] [--hup-seconds S]
#                   [--warmup-seconds S] [--listed-percent P] [--ipv6-percent P] [--queue N]
#                   [--rss-bound-mib M] [--rss-bound-percent P]
#
# Layout as an operator runs it: `exitblock rules install` (defaults: forward hook, queue
# bypass, drop and accept caches on) and `exitblock run` with a stats socket, a state
# directory and two lists: a file and an HTTP source. For --minutes (default 30), at once:
#   - a UDP flood (scripts/bench/flood.c) at a fixed --rate (default 10000 packets/s) from
#     listed sources (--listed-percent, default 10) and clean ones, both families
#     (--ipv6-percent, default 20). The lists are real (../shared/data/tor), derived at run
#     time in a temporary directory: list A is the bulk exit list plus the secops list's IPv6
#     addresses (the bulk list has none), list B is the secops list. Listed sources are in
#     both A and B; clean sources are in neither, nor in the HTTP source's list. The server
#     namespace counts what arrives per class (iptables raw counters, UDP port 9001 listed,
#     9000 clean).
#   - every --hup-seconds (default 3): the list file replaced by the other of A and B, SIGHUP.
#   - the HTTP source (lib/list_server.py, serving the real exit-addresses list) flaps: its
#     answers cycle through 200, 500, a hang past --fetch-timeout, a truncated body and a
#     slow body; the daemon refreshes it every 2 s.
#   - /metrics scraped every 100 ms, and each sample period one round of 200 hostile and
#     normal stats-socket clients (silent, garbage, 200 kB header, dripping, normal).
#   - once, mid-run, the gateway's mangle table flushed (as a firewall reload does). With a
#     binary that has `run --restore-rules` the daemon runs with it and puts its layout back;
#     otherwise the script runs `exitblock rules install` again (and says so). The layout
#     must be back within 5 s; that sample period is the flush window, counted apart.
# The flood runs in periods of --sample-seconds (default 10); after each, the counters settle
# and the script samples the daemon's RSS, open fds and threads (/proc/PID) and its
# counters into DIR/soak.csv (--out, default bench-out/soak), and at the end draws
# DIR/soak-rss-fds.svg and writes DIR/summary.txt.
#
# Fails (exit 1) on: a listed packet delivered or a clean packet lost outside the flush
# window; the layout not back within 5 s of the flush; RSS after warm-up (--warmup-seconds,
# default 80: past the first expiry of the caches' 60 s entries) more than max(--rss-bound-mib 8 MiB,
# --rss-bound-percent 10 %) above the first sample after warm-up; fds or threads growing (the
# smallest of the last three samples above the largest of the first three, within the stretch
# before the flush and within the one after it: the first restore starts the child-process
# runner, a monitor thread, an epoll and an eventfd, once; the step is reported);
# a failed scrape; a stats client answered unexpectedly; the daemon unhealthy or not
# exiting 0 on SIGTERM. Ends with `soak: N passed, M failed`.
# Environment: EXITBLOCK (binary; default the debug build), SOAK_KEEP=1 keeps the work
# directory (DIR/work.XXXXXX: lists, logs, the daemon's state directory and stats socket).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-soak$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=soak

minutes=30
rate=10000
out_dir="$root/bench-out/soak"
sample_seconds=10
hup_seconds=3
warmup=""
listed_percent=10
ipv6_percent=20
QUEUE=17
rss_bound_mib=8
rss_bound_percent=10
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }
while (($#)); do
    case $1 in
    --minutes) minutes=$2 ;;
    --rate) rate=$2 ;;
    --out) out_dir=$2 ;;
    --sample-seconds) sample_seconds=$2 ;;
    --hup-seconds) hup_seconds=$2 ;;
    --warmup-seconds) warmup=$2 ;;
    --listed-percent) listed_percent=$2 ;;
    --ipv6-percent) ipv6_percent=$2 ;;
    --queue) QUEUE=$2 ;;
    --rss-bound-mib) rss_bound_mib=$2 ;;
    --rss-bound-percent) rss_bound_percent=$2 ;;
    -h | --help) usage && exit 0 ;;
    *) usage && exit 2 ;;
    esac
    shift 2 || { usage && exit 2; }
done
for n in "$minutes" "$rate" "$sample_seconds" "$hup_seconds" "$listed_percent" "$ipv6_percent" "$QUEUE" \
    "$rss_bound_mib" "$rss_bound_percent" ${warmup:+"$warmup"}; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "soak: not a whole number: $n" >&2 && exit 2; }
done
((minutes >= 1 && rate >= 1 && sample_seconds >= 2 && hup_seconds >= 1)) || { echo "soak: out of range" >&2 && exit 2; }
periods=$((minutes * 60 / sample_seconds))
((periods >= 4)) || { echo "soak: at least 4 sample periods needed (--minutes, --sample-seconds)" >&2 && exit 2; }
# The default warm-up holds the first expiry of the caches' entries (rules install's 60 s),
# when the daemon judges every source again and starts its last thread.
[[ -n "$warmup" ]] || warmup=80
flush_period=$(((periods + 1) / 2))

PYTHON=${PYTHON:-python3}
data="$root/../shared/data/tor"
bulk="$data/torbulkexitlist-2024-03-12"
secops="$data/secops-tor-exit-nodes-2024-02-27.lst"
exits="$data/exit-addresses-2024-03-12"

workdir=""
daemon_pid=""
list_pid=""
scrape_pid=""
hup_pid=""
flood_pid=""
abuse_pid=""
cleanup() {
    local rc=$?
    [[ -n "$hup_pid" ]] && kill "$hup_pid" 2>/dev/null || true
    [[ -d "${workdir:-/nonexistent}" || -z "$workdir" ]] || log "soak: the work directory $workdir vanished (removed from outside?)"
    lab_test_cleanup "$rc" soak "$hup_pid" "$flood_pid" "$abuse_pid" "$scrape_pid" "$list_pid" "$daemon_pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables, ipset)"
for tool in ip iptables ip6tables iptables-save ip6tables-save ipset gcc curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
for f in "$bulk" "$secops" "$exits"; do
    [[ -r "$f" ]] || die "missing list $f (the project's real Tor data in ../shared/data/tor)"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
# The work directory lives in the output directory: a long run outlives sweeps of a shared /tmp.
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
workdir=$(mktemp -d "$out_dir/work.XXXXXX")
mkdir -p "$workdir/state" "$workdir/lists"
sock="$workdir/stats.sock"
((${#sock} < 100)) || die "the stats socket path $sock is too long for a Unix socket: a shorter --out"
srv() { in_ns "$LAB_SERVER" "$@"; }

restore_rules=0
# (The help text read whole: grep -q would stop reading early, and under pipefail the
# writer's SIGPIPE would read as "no such option".)
run_help=$("$exitblock" run --help 2>&1 || true)
[[ "$run_help" == *--restore-rules* ]] && restore_rules=1

# ----------------------------------------------------------------------------- the lists
lists="$workdir/lists"
{ cat "$bulk" && grep ':' "$secops"; } | grep -v '^#' | sort -u >"$lists/a.list"
grep -v '^#' "$secops" | sort -u >"$lists/b.list"
comm -12 "$lists/a.list" "$lists/b.list" >"$lists/listed.list" # the flood's listed sources
awk '/^ExitAddress/ { print $2 }' "$exits" | sort -u >"$lists/http.plain"
cp "$lists/a.list" "$lists/current.list"
log "soak: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE"
log "soak: list A $(wc -l <"$lists/a.list") entries (bulk + secops IPv6), list B $(wc -l <"$lists/b.list") (secops);" \
    "$(wc -l <"$lists/listed.list") in both are the flood's listed sources; HTTP source $(wc -l <"$lists/http.plain")" \
    "exit addresses"
log "soak: $minutes min at $rate packets/s ($listed_percent % listed, $ipv6_percent % IPv6), SIGHUP every" \
    "$hup_seconds s, samples every $sample_seconds s, warm-up $warmup s, flush in period $flush_period of $periods"

gcc -O2 -Wall -o "$workdir/flood" "$root/scripts/bench/flood.c" || die "cannot build the flooder"
lab_up || die "lab setup failed"

# The server counts and drops each class (lib/netns.sh); the gateway knows the server's MAC.
lab_count_flood_udp
lab_flood_prepare

# The operator's layout, and its normalised text (what must come back after the flush).
gw "$exitblock" rules install --queue "$QUEUE" >"$workdir/install.out" 2>&1 ||
    die "rules install failed: $(cat "$workdir/install.out")"
layout() {
    local t
    for t in iptables ip6tables; do
        gw "$t-save" -t mangle | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
    done
}
layout >"$workdir/layout"
grep -q -- '-j NFQUEUE' "$workdir/layout" || die "rules install made no queue rule: $(cat "$workdir/layout")"
layout_intact() { [[ "$(layout)" == "$(cat "$workdir/layout")" ]]; }

# The flapping HTTP source, on the gateway's loopback.
gw "$PYTHON" "$root/scripts/lib/list_server.py" --list "$exits" --ready "$workdir/http.port" --hang 4 --slow 1 \
    --deadline $((minutes * 60 + 600)) 2>"$workdir/list_server.err" &
list_pid=$!
wait_for 10 "the list server to listen" test -s "$workdir/http.port" || die "list server did not start"
http_port=$(cat "$workdir/http.port")
http() { gw curl -sS --max-time 5 "http://127.0.0.1:$http_port$1"; }

run_args=(--queue "$QUEUE" --list "$lists/current.list" --list "http://127.0.0.1:$http_port/exit-addresses"
    --refresh-interval 2s --fetch-timeout 2s --stats-socket "$sock" --state-directory "$workdir/state")
if ((restore_rules)); then
    run_args+=(--restore-rules)
    log "soak: this exitblock has run --restore-rules: the daemon puts the layout back after the flush"
else
    log "soak: this exitblock has no run --restore-rules: after the flush the script runs rules install again"
fi
start_daemon "$workdir/exitblock" -- "${run_args[@]}" || die "exitblock did not start: $(tail -n 5 "$workdir/exitblock.err")"
pass "exitblock started (pid $daemon_pid)"
http "/_control?mode=cycle" >/dev/null || die "list server: cannot switch to cycle"

# Background load: the scraper, the SIGHUP loop.
"$PYTHON" "$root/scripts/lib/stats_load.py" scrape "$sock" --out "$workdir/scrape.json" --interval 0.1 \
    --deadline $((minutes * 60 + 600)) 2>"$workdir/scrape.err" &
scrape_pid=$!
: >"$workdir/hups"
(
    trap 'exit 0' TERM
    next=b
    while true; do
        sleep "$hup_seconds" # the schedule of the reloads, not a wait for a condition
        cp "$lists/$next.list" "$lists/current.tmp" && mv "$lists/current.tmp" "$lists/current.list"
        kill -HUP "$daemon_pid" 2>/dev/null || exit 0
        printf '%s\n' "$next" >>"$workdir/hups"
        [[ "$next" == b ]] && next=a || next=b
    done
) &
hup_pid=$!

# One /metrics document per sample, read with these.
snapshot() { stats_get /metrics >"$workdir/metrics.txt"; }
m_sum() { awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { printf "%d\n", sum + 0 }' "$workdir/metrics.txt"; }
m_get() { metric_in "$1" <"$workdir/metrics.txt"; }
proc_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon_pid/status"; }
proc_threads() { awk '/^Threads:/ { print $2 }' "/proc/$daemon_pid/status"; }
proc_fds() { find "/proc/$daemon_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# The worker threads of Dispatch's root queues (named com.apple.root.*-qos*), which also carry
# Swift's concurrency pool: libdispatch starts and parks them as work blocks, within its bound.
proc_pool_threads() { cat "/proc/$daemon_pid/task/"*/comm 2>/dev/null | grep -c 'qos' || true; }

flood() { # flood SECONDS: one period of the flood; its summary line on stdout
    in_ns "$LAB_CLIENT" "$workdir/flood" --iface "$LAB_CLIENT_IF" --src-mac "$client_mac" --dst-mac "$gw_client_mac" \
        --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" --list "$lists/listed.list" --exclude "$lists/a.list" \
        --exclude "$lists/b.list" --exclude "$lists/http.plain" --duration "$1" --rate "$rate" \
        --listed-percent "$listed_percent" --ipv6-percent "$ipv6_percent" 2>>"$workdir/flood.err"
}
# settled: true once the server's counts have not moved over three polls (the packets the
# daemon still held have been answered).
settle_last="" settle_same=0
settled() {
    local now
    now=$(lab_flood_udp_counts)
    if [[ "$now" == "$settle_last" ]]; then
        settle_same=$((settle_same + 1))
    else
        settle_same=0 settle_last=$now
    fi
    ((settle_same >= 3))
}
moved() { [[ "$(lab_flood_udp_counts)" != "$1" ]]; }

# The flush: mangle emptied in both families while the flood runs; then the layout back, by
# the daemon (--restore-rules) or by the script (rules install again).
flush_ms=""
flush_rules() {
    local before t0 t1
    before=$(lab_flood_udp_counts)
    wait_for 5 "the flood to reach the server" moved "$before" || true
    t0=$EPOCHREALTIME
    gw iptables -w 5 -t mangle -F
    gw ip6tables -w 5 -t mangle -F
    if ((!restore_rules)); then
        gw "$exitblock" rules install --queue "$QUEUE" >>"$workdir/install.out" 2>&1 || fail "rules install after the flush"
    fi
    if wait_for 5 "the layout back after the flush" layout_intact; then
        t1=$EPOCHREALTIME
        flush_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
        pass "flush: the rules layout is back after ${flush_ms} ms ($( ((restore_rules)) && echo 'by the daemon, --restore-rules' || echo 'by rules install from this script'))"
    else
        fail "flush: the rules layout is not back 5 s after the flush: $(diff <(layout) "$workdir/layout" | head -n 10)"
    fi
}

csv="$out_dir/soak.csv"
echo "t_s,period,phase,rss_kib,fds,threads,pool_threads,sent_listed,sent_clean,delivered_listed,delivered_clean,clean_lost,judged,dropped,accepted,kernel_drops,kernel_accepts,queue_dropped,set_version,set_entries,healthy,hups" >"$csv"
read -r l4_0 c4_0 l6_0 c6_0 <<<"$(lab_flood_udp_counts)"
start=$SECONDS
abuse_rounds=0
abuse_totals=""
sent_listed=0 sent_clean=0 leak_listed=0 lost_clean=0 flush_listed=0 flush_clean_lost=0 flush_t=""
for ((period = 1; period <= periods; period++)); do
    "$PYTHON" "$root/scripts/lib/stats_load.py" abuse "$sock" --clients 200 >"$workdir/abuse.out" 2>>"$workdir/abuse.err" &
    abuse_pid=$!
    if ((period == flush_period)); then
        flood "$sample_seconds" >"$workdir/flood.line" &
        flood_pid=$!
        flush_t=$((SECONDS - start))
        flush_rules
        wait "$flood_pid" || fail "the flooder failed: $(tail -n 3 "$workdir/flood.err")"
        flood_pid=""
    else
        flood "$sample_seconds" >"$workdir/flood.line" || fail "the flooder failed: $(tail -n 3 "$workdir/flood.err")"
    fi
    line=$(cat "$workdir/flood.line")
    wait_for 30 "the stats clients of period $period to finish" not_running "$abuse_pid" || true
    wait "$abuse_pid" || true
    abuse_pid=""
    abuse_rounds=$((abuse_rounds + 1))
    abuse_totals+="$(cat "$workdir/abuse.out") "
    settle_last="" settle_same=0
    wait_for 20 "the counters to settle after period $period" settled || fail "period $period: counters still moving 20 s after the flood"
    read -r l4 c4 l6 c6 <<<"$settle_last"
    read -ra words <<<"$line"
    s_listed=$(($(kv listed4 "${words[@]}") + $(kv listed6 "${words[@]}")))
    s_clean=$(($(kv unlisted4 "${words[@]}") + $(kv unlisted6 "${words[@]}")))
    d_listed=$((l4 - l4_0 + l6 - l6_0))
    d_clean=$((c4 - c4_0 + c6 - c6_0))
    read -r l4_0 c4_0 l6_0 c6_0 <<<"$settle_last"
    lost=$((s_clean - d_clean))
    sent_listed=$((sent_listed + s_listed)) sent_clean=$((sent_clean + s_clean))
    t=$((SECONDS - start))
    phase=run
    ((t <= warmup)) && phase=warmup
    if ((period == flush_period)); then
        phase=flush
        flush_listed=$d_listed flush_clean_lost=$lost
    else
        leak_listed=$((leak_listed + d_listed)) lost_clean=$((lost_clean + lost))
    fi
    delivered_listed_total=$((${delivered_listed_total:-0} + d_listed))
    delivered_clean_total=$((${delivered_clean_total:-0} + d_clean))
    kill -0 "$daemon_pid" 2>/dev/null || die "exitblock died in period $period: $(tail -n 5 "$workdir/exitblock.err")"
    snapshot
    rss=$(proc_rss) fds=$(proc_fds) threads=$(proc_threads) pool=$(proc_pool_threads)
    printf '%s\n' "$t,$period,$phase,$rss,$fds,$threads,$pool,$s_listed,$s_clean,$d_listed,$d_clean,$lost,$(m_sum exitblock_packets_total),$(m_sum exitblock_packets_dropped_total),$(m_sum exitblock_packets_accepted_total),$(m_sum exitblock_drop_cache_kernel_drops_total),$(m_sum exitblock_accept_cache_kernel_accepts_total),$(m_sum exitblock_kernel_queue_dropped_total),$(m_sum exitblock_set_version),$(m_sum exitblock_set_entries),$(m_get exitblock_healthy),$(wc -l <"$workdir/hups")" >>"$csv"
    log "$(printf 'soak: %4d s period %3d/%d %-6s rss %6d KiB fds %3d threads %2d (pool %d) | sent listed %6d clean %6d | delivered listed %5d, clean lost %5d' \
        "$t" "$period" "$periods" "$phase" "$rss" "$fds" "$threads" "$pool" "$s_listed" "$s_clean" "$d_listed" "$lost")"
done
elapsed=$((SECONDS - start))

# ----------------------------------------------------------------------------- the end
kill "$hup_pid" 2>/dev/null || true
wait "$hup_pid" 2>/dev/null || true
hup_pid=""
kill -TERM "$scrape_pid"
wait_for 10 "the scraper to write its counts" test -s "$workdir/scrape.json" || true
wait "$scrape_pid" || true
scrape_pid=""
flaps=$(http /_stats | "$PYTHON" -c 'import json, sys
c = json.load(sys.stdin)["counts"]
print(" ".join(f"{k}={v}" for k, v in sorted(c.items())), sum(v for k, v in c.items() if k != "serve"))')
flap_count=${flaps##* }
snapshot
healthy=$(m_get exitblock_healthy)
set_version=$(m_sum exitblock_set_version)
refusals=$(m_sum exitblock_refusals_total)
kernel_drops=$(m_sum exitblock_drop_cache_kernel_drops_total)
kernel_accepts=$(m_sum exitblock_accept_cache_kernel_accepts_total)
queue_dropped=$(m_sum exitblock_kernel_queue_dropped_total)
hups=$(wc -l <"$workdir/hups")
watch_line="the script put the layout back (no rule watch in this exitblock)"
if ((restore_rules)); then
    restores=$(m_sum exitblock_rules_restores_total)
    restore_failures=$(m_sum exitblock_rules_restore_failures_total)
    watch_line="rule watch: breaks seen $(m_sum exitblock_rules_breaks_total), restores $restores, restore failures $restore_failures, intact at the end $(m_sum exitblock_rules_intact)"
    check "the daemon restored its rules ($restores restores)" test "$restores" -ge 1
    check_eq "no failed restore" 0 "$restore_failures"
fi
rss_before_stop=$(proc_rss)
stop_daemon "exitblock" "$workdir/exitblock.out"
kill -TERM "$list_pid" 2>/dev/null || true
wait "$list_pid" 2>/dev/null || true
list_pid=""

marks=(--mark "$flush_t:rules flush")
build=""
[[ "$exitblock" == */debug/* ]] && build=", debug build"
[[ "$exitblock" == */release/* ]] && build=", release build"
report=$("$PYTHON" "$root/scripts/lib/soak_report.py" "$csv" --svg "$out_dir/soak-rss-fds.svg" --warmup "$warmup" \
    --rss-bound-mib "$rss_bound_mib" --rss-bound-percent "$rss_bound_percent" "${marks[@]}" \
    --title "exitblock soak: $minutes min, $rate packets/s, $("$exitblock" --version 2>/dev/null | head -n 1)$build") ||
    die "soak_report failed"
r() { sed -n "s/^$1=//p" <<<"$report"; }
scrape=$(cat "$workdir/scrape.json" 2>/dev/null || echo '{}')
s_ok=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1]).get("ok", 0))' "$scrape")
s_failed=$("$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get("failed", "missing"))' "$scrape")
s_max=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1]).get("max_ms", 0))' "$scrape")
abuse_sum=$(tr ' ' '\n' <<<"$abuse_totals" | awk -F= 'NF == 2 { s[$1] += $2 } END { for (k in s) printf "%s=%d ", k, s[k] }')
abuse_other=$(tr ' ' '\n' <<<"$abuse_sum" | sed -n 's/^other=//p')
read -ra total <<<"$(grep -m1 '^total ' "$workdir/exitblock.out" || true)"

{
    echo "soak summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "  command:   scripts/soak.sh --minutes $minutes --rate $rate  (EXITBLOCK=$exitblock)"
    echo "  duration:  $elapsed s of flood in $periods periods of $sample_seconds s (warm-up $warmup s)"
    echo "  flood:     $rate packets/s offered; sent listed $sent_listed, clean $sent_clean"
    echo "  delivered: listed $delivered_listed_total (outside the flush window: $leak_listed), clean $delivered_clean_total;" \
        "clean lost outside the flush window: $lost_clean"
    echo "  flush:     at $flush_t s, layout back after ${flush_ms:-never} ms" \
        "($( ((restore_rules)) && echo 'daemon --restore-rules' || echo 'script: rules install again; this exitblock has no --restore-rules')):" \
        "in that $sample_seconds s window listed delivered $flush_listed, clean lost $flush_clean_lost"
    echo "             $watch_line"
    echo "  reloads:   $hups SIGHUPs (lists A/B alternating), set version $set_version, refusals $refusals"
    echo "  flaps:     $flap_count HTTP answers other than 200 ($flaps)"
    echo "  scrapes:   $s_ok ok, $s_failed failed, slowest $s_max ms; stats clients: $abuse_rounds rounds of 200: $abuse_sum"
    echo "  RSS:       start $(r rss_start_kib) KiB, after warm-up $(r rss_base_kib) KiB, end $(r rss_end_kib) KiB," \
        "max $(r rss_max_kib) KiB (growth $(r rss_growth_kib) KiB, bound $(r rss_bound_kib) KiB = max($rss_bound_mib MiB, $rss_bound_percent %))"
    echo "  fds:       start $(r fds_start), after warm-up max $(r fds_base), end $(r fds_end), max $(r fds_max); step at the flush $(r fds_flush_step)"
    echo "  threads:   start $(r threads_start), after warm-up max $(r threads_base), end $(r threads_end), max $(r threads_max)"
    echo "             of which Dispatch's pool: start $(r pool_start), max $(r pool_max) (bound $(r pool_bound)); exitblock's own: start $(r own_start), end $(r own_end)"
    echo "  verdicts:  daemon ${total[*]:1}; kernel drop cache $kernel_drops, accept cache $kernel_accepts;" \
        "kernel queue drops $queue_dropped"
    d_dropped=$(kv dropped "${total[@]}") d_accepted=$(kv accepted "${total[@]}")
    echo "  counters:  listed packets stopped (sent - delivered) $((sent_listed - delivered_listed_total)):" \
        "daemon dropped $d_dropped + kernel drop cache $kernel_drops = $((${d_dropped/missing/0} + kernel_drops));" \
        "clean delivered $delivered_clean_total: daemon accepted $d_accepted + kernel accept cache" \
        "$kernel_accepts (informative, not judged: the kernel figures are polled)"
    echo "  files:     $csv, $out_dir/soak-rss-fds.svg"
} | tee "$out_dir/summary.txt"

check_eq "no listed packet delivered outside the flush window" 0 "$leak_listed"
check_eq "no clean packet lost outside the flush window" 0 "$lost_clean"
check "the flood reached the server (clean delivered > 0)" test "${delivered_clean_total:-0}" -gt 0
check "RSS after warm-up within the bound ($(r rss_growth_kib) <= $(r rss_bound_kib) KiB)" test "$(r rss_ok)" = 1
check "open fds not growing between flushes ($(r fds_base) -> $(r fds_end), step at the flush $(r fds_flush_step))" test "$(r fds_ok)" = 1
check "exitblock's own threads not growing between flushes ($(r own_base) -> $(r own_end), step at the flush $(r own_flush_step))" test "$(r own_ok)" = 1
check "Dispatch's pool within its bound (max $(r pool_max) <= $(r pool_bound))" test "$(r pool_ok)" = 1
check_eq "scrapes failed" 0 "$s_failed"
check "scraped about every 100 ms ($s_ok scrapes)" test "$s_ok" -ge $((elapsed * 5))
check_eq "stats clients answered unexpectedly" 0 "${abuse_other:-missing}"
check "SIGHUPs applied (set version $set_version for $hups SIGHUPs)" test "$set_version" -ge $((hups / 2))
check "the HTTP source flapped ($flap_count)" test "$flap_count" -ge 1
check_eq "healthy at the end" 1 "$healthy"
log "soak: RSS before the stop $rss_before_stop KiB"
summary
