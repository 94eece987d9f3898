#!/usr/bin/env bash
# scripts/soak.sh: exitblock under a long, mixed load on a three-namespace lab (see
# lib/netns.sh), with the `rules install` layout (defaults, auto backend) and
# `run --restore-rules`. Needs root, gcc, python3; no network beyond the lab.
#
#   traffic   scripts/bench/flood.c at a fixed rate (--rate, default 5000 packets/s), 10 %
#             from listed sources (IPv4 and IPv6 exits in both real lists below), 20 % IPv6;
#             the server counts each class (UDP 9001 listed, 9000 clean) in its raw table.
#   lists     a file alternating every 5 s between two real lists (torbulkexitlist and
#             exit-addresses of ../shared/data/tor), each switch followed by a SIGHUP; and an
#             HTTP source (scripts/lib/list_server.py, refresh every 2 s) that flaps every 3 s
#             through serve, error (500), hang (timeouts), truncate, empty and shrunk.
#   scrapes   /metrics every 100 ms, /stats every second.
#   rules     one flush of the mangle tables halfway; the daemon restores them.
#   samples   every 10 s: RSS, open fds, threads, the daemon's packet counters.
#
# Fails on: a listed packet delivered outside the flush (the flush's own gap is reported),
# a clean packet lost, the daemon gone, fds or threads growing after the warm-up (first
# 30 s), or RSS growing more than 20 MiB past its warm-up value. Writes samples.csv and
# soak.svg (RSS and fds over time, drawn by this script) into --out (default: the work
# directory, kept).
#
# Usage: scripts/soak.sh [--minutes N (default 30)] [--rate PPS] [--out DIR]
# Environment: EXITBLOCK (binary; default the debug build), SOAK_QUEUE (default 21).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-sk$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=soak

minutes=30
rate=5000
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) die "unknown argument $1 (--minutes N, --rate PPS, --out DIR)" ;;
    esac
done
QUEUE=${SOAK_QUEUE:-21}
DATA="$root/../shared/data/tor"
LIST_A="$DATA/torbulkexitlist-2024-03-12"
LIST_B="$DATA/exit-addresses-2024-03-12"
seconds=$((minutes * 60))

daemon_pid=""
workdir=""
background=()

cleanup() {
    local rc=$? pid
    for pid in "${background[@]}"; do kill "$pid" 2>/dev/null || true; done
    SOAK_KEEP=1 lab_test_cleanup "$rc" soak "$daemon_pid" "${background[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gw() { in_ns "$LAB_GW" "$@"; }
srv() { in_ns "$LAB_SERVER" "$@"; }
mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }

# server_count FAMILY_TOOL LINE: packets of raw PREROUTING rule LINE (1 listed, 2 clean).
server_count() { srv "$1" -t raw -L PREROUTING -v -x -n | awk -v n="$2" 'NR == n + 2 { print $1 }'; }
listed_delivered() { echo $(($(server_count iptables 1) + $(server_count ip6tables 1))); }
clean_delivered() { echo $(($(server_count iptables 2) + $(server_count ip6tables 2))); }

(($(id -u) == 0)) || die "must run as root"
for tool in gcc python3 curl ip ipset; do command -v "$tool" >/dev/null || die "missing tool: $tool"; done
[[ -r "$LIST_A" && -r "$LIST_B" ]] || die "the real lists are not in $DATA"
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-soak.XXXXXX")
out=${out:-$workdir}
mkdir -p "$out"
log "soak: $minutes min at $rate packets/s; exitblock = $exitblock; lab $LAB_ID; results in $out"
gcc -O2 -o "$workdir/flood" "$root/scripts/bench/flood.c" || die "cannot build flood.c"
lab_up || die "lab setup failed"

# Listed sources for the flooder: addresses in both lists (listed whichever is in force).
awk '/^ExitAddress / { print $2 }' "$LIST_B" | sort -u >"$workdir/b.txt"
sort -u "$LIST_A" >"$workdir/a.txt"
comm -12 "$workdir/a.txt" "$workdir/b.txt" >"$workdir/flood.list"
log "soak: $(wc -l <"$workdir/flood.list") listed IPv4 sources in both lists"
# The real lists hold IPv4 only: the lab's listed IPv6 sources are a third list, always in force.
printf '%s\n' "${LAB_LISTED6[@]}" | tee -a "$workdir/flood.list" >"$workdir/extra6.list"
cp "$LIST_A" "$workdir/exits.list"

server_mac=$(mac_of "$LAB_SERVER" "$LAB_SERVER_IF")
gw ip neigh replace "$LAB_SERVER4" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent
gw ip -6 neigh replace "$LAB_SERVER6" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent
for t in iptables ip6tables; do
    srv "$t" -t raw -A PREROUTING -p udp --dport 9001 -j DROP
    srv "$t" -t raw -A PREROUTING -p udp --dport 9000 -j DROP
done

gw ip link set lo up
gw python3 "$root/scripts/lib/list_server.py" --list "$LIST_A" --ready "$workdir/http.port" --hang 3 \
    --deadline $((seconds + 120)) >"$workdir/http.log" 2>&1 &
background+=($!)
wait_for 10 "the list server" test -s "$workdir/http.port" || die "list server did not start"
url="http://127.0.0.1:$(cat "$workdir/http.port")"

gw "$exitblock" rules install --queue "$QUEUE" >"$workdir/install.out" 2>&1 || die "rules install failed"
sock="$workdir/exitblock.sock"
start_daemon "$workdir/exitblock" -- --queue "$QUEUE" --list "$workdir/exits.list" --list "$workdir/extra6.list" \
    --list "$url/exits" \
    --refresh-interval 2s --fetch-timeout 1s --state-directory "$workdir/state" --stats-socket "$sock" \
    --restore-rules || die "exitblock did not start"
wait_for 5 "the rules watch" bash -c "curl -s --unix-socket '$sock' http://l/healthz | grep -q ok" || true

# Load: the flood, the list switches, the flapping source, the scrapes.
in_ns "$LAB_CLIENT" "$workdir/flood" --iface "$LAB_CLIENT_IF" --src-mac "$(mac_of "$LAB_CLIENT" "$LAB_CLIENT_IF")" \
    --dst-mac "$(mac_of "$LAB_GW" "$LAB_GW_CLIENT_IF")" --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" \
    --list "$workdir/flood.list" --duration "$seconds" --rate "$rate" --listed-percent 10 --ipv6-percent 20 \
    >"$workdir/flood.out" 2>&1 &
flood_pid=$!
background+=("$flood_pid")
(
    i=0
    while sleep 5; do
        i=$((i + 1))
        if ((i % 2)); then cp "$LIST_B" "$workdir/exits.list.new"; else cp "$LIST_A" "$workdir/exits.list.new"; fi
        mv "$workdir/exits.list.new" "$workdir/exits.list"
        kill -HUP "$daemon_pid" 2>/dev/null || exit 0
    done
) &
background+=($!)
(
    modes=(serve error hang truncate serve empty shrunk serve)
    i=0
    while sleep 3; do
        gw curl -s -o /dev/null "$url/_control?mode=${modes[i % ${#modes[@]}]}" || true
        i=$((i + 1))
    done
) &
background+=($!)
(while sleep 0.1; do curl -s -o /dev/null --max-time 2 --unix-socket "$sock" http://l/metrics || true; done) &
background+=($!)
(while sleep 1; do curl -s -o /dev/null --max-time 2 --unix-socket "$sock" http://l/stats || true; done) &
background+=($!)

sample() { # sample SECONDS: one CSV line
    local status fds
    status=$(cat "/proc/$daemon_pid/status" 2>/dev/null) || return 1
    fds=$(find "/proc/$daemon_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    printf '%s,%s,%s,%s,%s,%s\n' "$1" "$(awk '/^VmRSS:/ { print $2 }' <<<"$status")" "$fds" \
        "$(awk '/^Threads:/ { print $2 }' <<<"$status")" "$(metric_sum exitblock_packets_total)" \
        "$(metric_sum exitblock_packets_dropped_total)"
}
echo "seconds,rss_kib,fds,threads,packets,dropped" >"$out/samples.csv"
start=$SECONDS
flushed=0
gap=0
while ((SECONDS - start < seconds)); do
    sleep 10
    elapsed=$((SECONDS - start))
    sample "$elapsed" >>"$out/samples.csv" || { fail "the daemon is gone at $elapsed s"; break; }
    if ((!flushed && elapsed >= seconds / 2)); then
        before=$(listed_delivered)
        gw iptables -t mangle -F
        gw ip6tables -t mangle -F
        wait_for 5 "the restore" bash -c "[[ \$(curl -s --unix-socket '$sock' http://l/metrics | \
            awk '\$1 == \"exitblock_rules_restores_total\" { print \$2 }') -ge 2 ]]" || fail "no restore after the flush"
        sleep 1
        gap=$(($(listed_delivered) - before))
        log "soak: flush at $elapsed s: restored; listed packets delivered in the gap: $gap"
        flushed=1
    fi
done
wait "$flood_pid" || true
sleep 2
read -r -a sent <<<"$(tail -n 1 "$workdir/flood.out")"
log "soak: flooder: ${sent[*]}"
listed_total=$(listed_delivered)
clean_total=$(clean_delivered)
unlisted_sent=$(($(kv unlisted4 "${sent[@]}") + $(kv unlisted6 "${sent[@]}")))
listed_sent=$(($(kv listed4 "${sent[@]}") + $(kv listed6 "${sent[@]}")))
log "soak: listed sent $listed_sent, delivered $listed_total ($gap in the flush's gap); clean sent $unlisted_sent, delivered $clean_total"
check_eq "no listed packet delivered outside the flush's gap" 0 $((listed_total - gap))
check_eq "no clean packet lost" "$unlisted_sent" "$clean_total"
check "the daemon still runs" kill -0 "$daemon_pid"

# Leaks: after the warm-up (samples from 30 s on), fds and threads stay, RSS grows < 20 MiB.
python3 - "$out/samples.csv" "$out/soak.svg" >"$workdir/leaks.txt" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
rows = [{k: float(v) for k, v in r.items()} for r in rows if all(r.values())]
warm = [r for r in rows if r["seconds"] >= 30] or rows
base = warm[0]
# Scrapes open and close connections: an fd count moves by a few between samples. Growth is
# the least of the last three samples over the most of the first three after the warm-up.
print("fds_growth %d" % (min(r["fds"] for r in warm[-3:]) - max(r["fds"] for r in warm[:3])))
print("threads_growth %d" % (min(r["threads"] for r in warm[-3:]) - max(r["threads"] for r in warm[:3])))
print("rss_growth_kib %d" % (max(r["rss_kib"] for r in warm) - base["rss_kib"]))
print("rss_max_mib %.1f" % (max(r["rss_kib"] for r in rows) / 1024))
# The plot: RSS (MiB, left axis) and fds (right axis) over minutes.
W, H, L, R, T, B = 720, 360, 60, 60, 30, 40
t_max = max(r["seconds"] for r in rows) or 1
rss_max = max(r["rss_kib"] for r in rows) / 1024 * 1.2 or 1
fd_max = max(r["fds"] for r in rows) * 1.2 or 1
def x(s): return L + (W - L - R) * s / t_max
def y(v, top): return H - B - (H - T - B) * v / top
def line(key, top, scale, colour):
    points = " ".join("%.1f,%.1f" % (x(r["seconds"]), y(r[key] * scale, top)) for r in rows)
    return '<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colour, points)
svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
       '<rect width="100%" height="100%" fill="white"/>',
       '<text x="%d" y="18">exitblock soak: RSS (MiB, blue, left) and open fds (orange, right) over %.0f min</text>' % (L, t_max / 60),
       '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, H - B, W - R, H - B),
       '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T, L, H - B),
       '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (W - R, T, W - R, H - B)]
for i in range(5):
    v = rss_max * i / 4
    svg.append('<text x="%d" y="%.1f" text-anchor="end">%.0f</text>' % (L - 4, y(v, rss_max) + 4, v))
    f = fd_max * i / 4
    svg.append('<text x="%d" y="%.1f">%.0f</text>' % (W - R + 4, y(f, fd_max) + 4, f))
    s = t_max * i / 4
    svg.append('<text x="%.1f" y="%d" text-anchor="middle">%.1f min</text>' % (x(s), H - B + 16, s / 60))
svg.append(line("rss_kib", rss_max, 1 / 1024, "#1f77b4"))
svg.append(line("fds", fd_max, 1, "#ff7f0e"))
svg.append("</svg>")
open(sys.argv[2], "w").write("\n".join(svg) + "\n")
PY
cat "$workdir/leaks.txt"
check_eq "fds do not grow after the warm-up" 0 "$(awk '$1 == "fds_growth" { print ($2 > 0 ? $2 : 0) }' "$workdir/leaks.txt")"
check_eq "threads do not grow after the warm-up" 0 "$(awk '$1 == "threads_growth" { print ($2 > 0 ? $2 : 0) }' "$workdir/leaks.txt")"
check "RSS grows less than 20 MiB after the warm-up" awk '$1 == "rss_growth_kib" { exit !($2 < 20480) }' "$workdir/leaks.txt"
log "soak: plot $out/soak.svg, samples $out/samples.csv"
stop_daemon "soak daemon"
summary
