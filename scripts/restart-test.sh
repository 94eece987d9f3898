#!/usr/bin/env bash
# scripts/restart-test.sh: a restart keeps blocking, without a gap. In a namespace lab, with
# the layout of `exitblock rules install` (both families; the verdict caches off, so that
# every packet goes through the queue), a flood of UDP at --rate packets/s (default 50000;
# 10 % from listed exits, half IPv6) runs while the daemon is restarted:
#   socket   a second `exitblock run` started beside the first takes its queues over the
#            hand-over socket (--handover-socket); the first exits 0;
#   fdstore  a stand-in for systemd (lib/fdstore_standin.py) restarts the daemon as
#            `systemctl restart` does: SIGTERM (the daemon stores its queue sockets with
#            FDSTORE=1), then a new process with them in LISTEN_FDS.
# Each way with --queue-bypass (fail open) and --no-queue-bypass (fail closed), on
# iptables-legacy and iptables-nft. Per round: 0 listed packets delivered and 0 clean packets
# lost, per family (the server counts each class), and the kernel gap printed: the packets
# the new process found waiting (queued while no process read) and how long that lasted.
# Needs root, ip, iptables (both backends), gcc, python3. Ends with `restart: N passed, M failed`.
# Environment: EXITBLOCK (binary; default the debug build), RESTART_BACKENDS (default "legacy
# nft"), RESTART_MODES ("queue-bypass no-queue-bypass"), RESTART_WAYS ("socket fdstore"), RESTART_RATE
# (50000), RESTART_SECONDS (flood seconds per round, 5), RESTART_QUEUE (19), RESTART_KEEP=1
# keeps the work directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-rs$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=restart

QUEUE=${RESTART_QUEUE:-19}
BACKENDS=${RESTART_BACKENDS:-legacy nft}
MODES=${RESTART_MODES:-queue-bypass no-queue-bypass}
WAYS=${RESTART_WAYS:-socket fdstore}
RATE=${RESTART_RATE:-50000}
FLOOD_SECONDS=${RESTART_SECONDS:-5}
PYTHON=${PYTHON:-python3}
data="$root/../shared/data/tor"
bulk="$data/torbulkexitlist-2024-03-12"
secops="$data/secops-tor-exit-nodes-2024-02-27.lst"

workdir=""
daemon_pid=""
old_pid=""
standin_pid=""
store_ms=""
flood_pid=""
cleanup() {
    local rc=$?
    [[ -z "$standin_pid" ]] || kill -TERM "$standin_pid" 2>/dev/null || true
    [[ -z "$standin_pid" ]] || wait_for 10 "the stand-in to stop" not_running "$standin_pid" || true
    lab_test_cleanup "$rc" restart "$flood_pid" "$old_pid" "$daemon_pid" "$standin_pid"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "needs root (network namespaces, iptables)"
for tool in ip iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft gcc "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
for f in "$bulk" "$secops"; do
    [[ -r "$f" ]] || die "missing list $f (the project's real Tor data in ../shared/data/tor)"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-restart.XXXXXX")

# The daemon's list (bulk list + the secops IPv6 entries) and the flood's listed sources (in both).
{ cat "$bulk" && grep ':' "$secops"; } | grep -v '^#' | sort -u >"$workdir/exits.list"
grep -v '^#' "$secops" | sort -u | comm -12 "$workdir/exits.list" - >"$workdir/listed.list"
gcc -O2 -Wall -o "$workdir/flood" "$root/scripts/bench/flood.c" || die "cannot build the flooder"
lab_up || die "lab setup failed"
srv() { in_ns "$LAB_SERVER" "$@"; }

# The server counts and drops each class (lib/netns.sh); the gateway knows the server's MAC.
lab_count_flood_udp
lab_flood_prepare

flood() { # flood SECONDS: its summary line on stdout
    in_ns "$LAB_CLIENT" "$workdir/flood" --iface "$LAB_CLIENT_IF" --src-mac "$client_mac" --dst-mac "$gw_client_mac" \
        --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" --list "$workdir/listed.list" --exclude "$workdir/exits.list" \
        --duration "$1" --rate "$RATE" --listed-percent 10 --ipv6-percent 50 2>>"$workdir/flood.err"
}
settle_last="" settle_same=0
queue_figures() { # "waiting queue_dropped user_dropped" of the queue in the kernel's table now
    gw awk -v q="$QUEUE" '$1 == q { print $3, $6, $7 }' /proc/net/netfilter/nfnetlink_queue
}
settled() { # true once nothing waits in the queue and the server's counts have not moved over three polls
    local now figures
    read -ra figures <<<"$(queue_figures)"
    ((${figures[0]:-0} == 0)) || return 1
    now=$(lab_flood_udp_counts)
    if [[ "$now" == "$settle_last" ]]; then settle_same=$((settle_same + 1)); else settle_same=0 settle_last=$now; fi
    ((settle_same >= 3))
}
moved() { [[ "$(lab_flood_udp_counts)" != "$1" ]]; }
events_ready() { (($(grep -c '^ready' "$1" 2>/dev/null || true) >= $2)); }

# The queue holds what arrives while no process reads (the fdstore way: the old process's
# end, the new one's start and list load): 65536 packets, the most the kernel queued per
# queue here whatever the max length asked (queue_total never passed it), and a receive
# buffer for as many (the kernel counts about 1 KiB per queued packet).
run_args=(--queue "$QUEUE" --list "$workdir/exits.list" --no-cache --queue-max-length 65536
    --receive-buffer 134217728 --no-drop-cache --no-accept-cache)

# start_first LABEL WAY: the daemon before the restart (its pid in old_pid).
start_first() {
    local label=$1 way=$2
    sock="$workdir/$label.sock"
    if [[ "$way" == socket ]]; then
        start_daemon "$workdir/exitblock-$label-1" -- "${run_args[@]}" --stats-socket "$sock" \
            --handover-socket "$workdir/handover.sock" || die "$label: exitblock did not start"
        old_pid=$daemon_pid daemon_pid=""
    else
        : >"$workdir/$label.events"
        # Not through a function: $! must be the stand-in itself (ip netns exec execs it).
        ip netns exec "$LAB_GW" "$PYTHON" "$root/scripts/lib/fdstore_standin.py" --notify "$workdir/notify.sock" \
            --events "$workdir/$label.events" -- "$exitblock" run "${run_args[@]}" --stats-socket "$sock" \
            --handover-socket off >"$workdir/exitblock-$label.out" 2>"$workdir/exitblock-$label.err" </dev/null &
        standin_pid=$!
        wait_for 30 "$label: the daemon under the stand-in to be ready" events_ready "$workdir/$label.events" 1 ||
            die "$label: exitblock did not start under the stand-in"
    fi
}

# restart LABEL WAY: the restart, while the flood runs; the new process's stderr in new_err.
restart() {
    local label=$1 way=$2 rc=0
    if [[ "$way" == socket ]]; then
        new_err="$workdir/exitblock-$label-2.err"
        start_daemon "$workdir/exitblock-$label-2" -- "${run_args[@]}" --stats-socket "$sock" \
            --handover-socket "$workdir/handover.sock" || fail "$label: the new exitblock did not start"
        wait_for 20 "$label: the old exitblock to exit" not_running "$old_pid" || fail "$label: the old exitblock still runs"
        wait "$old_pid" || rc=$?
        old_pid=""
        check_eq "$label: the old exitblock exits 0 after the hand-over" 0 "$rc"
        check "$label: the old exitblock handed its queues over" \
            grep -q 'hand-over: queue(s) .* given to pid' "$workdir/exitblock-$label-1.err"
    else
        new_err="$workdir/exitblock-$label.err"
        kill -USR1 "$standin_pid"
        wait_for 60 "$label: the restarted daemon to be ready" events_ready "$workdir/$label.events" 2 ||
            fail "$label: the restarted exitblock is not ready"
        check "$label: the old exitblock stored its queue sockets (FDSTORE)" \
            grep -q "^stored nfqueue-$QUEUE" "$workdir/$label.events"
        check "$label: the old exitblock exited 0" grep -q 'exited pid=[0-9]* status=0 ' "$workdir/$label.events"
        # No process read from the store (the old one's queues handed over) to the new one's READY=1, at most.
        store_ms=$(awk '/^stored / && !s { s = substr($NF, 3) } /^ready / { r = substr($NF, 3) }
            END { if (s && r > s) printf "%d", (r - s) * 1000 }' "$workdir/$label.events")
        log "$label: from the old process's FDSTORE to the new one's READY=1: ${store_ms:-?} ms"
    fi
    check "$label: the new exitblock took the queue over, still bound" grep -q 'hand-over: took queue(s)' "$new_err"
}

# stop_last LABEL WAY: the daemon after the restart, stopped.
stop_last() {
    if [[ "$2" == socket ]]; then
        stop_daemon "$1: the new exitblock"
    else
        kill -TERM "$standin_pid"
        wait_for 20 "$1: the stand-in to stop" not_running "$standin_pid" || fail "$1: the stand-in still runs"
        wait "$standin_pid" || fail "$1: the stand-in failed"
        standin_pid=""
    fi
}

# round BACKEND MODE WAY: one restart under the flood, and its figures.
round() {
    local backend=$1 mode=$2 way=$3 label="$1/$2/$3" before after line gap
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" "--$mode" --no-drop-cache \
        --no-accept-cache >"$workdir/install.out" 2>&1 || die "$label: rules install failed: $(cat "$workdir/install.out")"
    label=${label//\//-}
    start_first "$label" "$way"
    read -r l4_0 c4_0 l6_0 c6_0 <<<"$(lab_flood_udp_counts)"
    before="$l4_0 $c4_0 $l6_0 $c6_0"
    flood "$FLOOD_SECONDS" >"$workdir/flood.line" &
    flood_pid=$!
    wait_for 5 "$label: the flood to reach the server" moved "$before" || fail "$label: no packet reached the server"
    restart "$label" "$way"
    wait "$flood_pid" || fail "$label: the flooder failed: $(tail -n 3 "$workdir/flood.err")"
    flood_pid=""
    wait_for 60 "$label: the queue to empty and the counters to settle" settled || fail "$label: counters still moving"
    after=$(lab_flood_udp_counts)
    read -r waiting queue_dropped user_dropped <<<"$(queue_figures)"
    log "$label: kernel queue: ${waiting:-?} waiting, ${queue_dropped:-?} dropped (queue full), ${user_dropped:-?} dropped (receive buffer full)"
    read -r l4_1 c4_1 l6_1 c6_1 <<<"$after"
    read -ra line <"$workdir/flood.line"
    local s_l4 s_c4 s_l6 s_c6
    s_l4=$(kv listed4 "${line[@]}") s_c4=$(kv unlisted4 "${line[@]}")
    s_l6=$(kv listed6 "${line[@]}") s_c6=$(kv unlisted6 "${line[@]}")
    log "$label: sent listed $s_l4 + $s_l6, clean $s_c4 + $s_c6 (IPv4 + IPv6) in $(kv seconds "${line[@]}") s"
    check_eq "$label: IPv4 listed packets delivered" 0 $((l4_1 - l4_0))
    check_eq "$label: IPv6 listed packets delivered" 0 $((l6_1 - l6_0))
    check_eq "$label: IPv4 clean packets lost" 0 $((s_c4 - (c4_1 - c4_0)))
    check_eq "$label: IPv6 clean packets lost" 0 $((s_c6 - (c6_1 - c6_0)))
    gap=$(grep -o 'hand-over: took queue.*' "$new_err" | head -n 1)
    [[ "$way" == socket ]] || gap="$gap; at most ${store_ms:-?} ms from FDSTORE to READY=1"
    log "$label: kernel gap: ${gap#*still bound; }"
    printf '%s\t%s\n' "$label" "${gap#*still bound; }" >>"$workdir/gaps"
    check "$label: stats socket answers after the restart" bash -c "[[ \"\$(curl -sS --max-time 5 --unix-socket '$sock' http://localhost/healthz)\" == ok* ]]"
    stop_last "$label" "$way"
}

log "restart: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE, $RATE packets/s for $FLOOD_SECONDS s per round"
: >"$workdir/gaps"
for backend in $BACKENDS; do
    for mode in $MODES; do
        for way in $WAYS; do
            round "$backend" "$mode" "$way"
        done
    done
done
log "restart: the kernel gap of each round (packets queued while no process read):"
while IFS=$'\t' read -r label gap; do log "  $label: $gap"; done <"$workdir/gaps"
summary
