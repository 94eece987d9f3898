#!/usr/bin/env bash
# scripts/policy-measure.sh: what `--exit-policy` spares, measured with real packets.
#
# Picks N real exit IPv4 addresses from the consensus in ../shared/data/tor (lib/port_mix.py
# plan: exits whose policy accepts a common port and rejects another), gives them to the
# client of the three-namespace lab (lib/netns.sh), and sends from each K UDP datagrams to a
# port its policy accepts (can be Tor traffic) and K to a port it rejects (cannot be: the
# relay host's own traffic, or a site sharing the address). The gateway queues everything to
# exitblock with the real consensus as its list; the server counts what arrives per source
# and port. One run without and one with --exit-policy, each under the allocation counter of
# scripts/bench (malloc-count.so, when gcc is there): the queue worker must allocate nothing
# while it judges the mix. Prints a table:
#
#   mode             can-be-Tor dropped   cannot-be-Tor dropped (collateral)
#
# Needs root. Environment: EXITBLOCK (binary; default the debug build, which skips the
# allocation check; e.g. `swift build -c release --scratch-path .build-bench --product
# exitblock` and EXITBLOCK=.build-bench/release/exitblock), MEASURE_ADDRESSES
# (N, default 300), MEASURE_COUNT (K, default 5), MEASURE_SEED (default 1), MEASURE_QUEUE
# (default 14), MEASURE_KEEP=1 keeps the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-pm$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=measure

ADDRESSES=${MEASURE_ADDRESSES:-300}
COUNT=${MEASURE_COUNT:-5}
SEED=${MEASURE_SEED:-1}
QUEUE=${MEASURE_QUEUE:-14}
PYTHON=${PYTHON:-python3}
MIX="$root/scripts/lib/port_mix.py"
CONSENSUS="$root/../shared/data/tor/consensus-2022-11-19"

daemon_pid=""
server_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" measure "$daemon_pid" "$server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-measure.XXXXXX")

"$PYTHON" "$MIX" plan "$CONSENSUS" --count "$ADDRESSES" --seed "$SEED" >"$workdir/plan"
mapfile -t addresses < <(awk '{ print $1 }' "$workdir/plan")
ports=$(awk '{ print $2; print $3 }' "$workdir/plan" | sort -nu | paste -sd, -)
log "measure: ${#addresses[@]} real exit addresses, $COUNT datagrams each to an accepted and a rejected port"

lab_up || die "lab setup failed"
lab_wait_ready || die "lab not ready"
lab_add_client_addrs "${addresses[@]}" || die "client addresses"
in_ns "$LAB_GW" iptables -w 5 -A FORWARD -j NFQUEUE --queue-num "$QUEUE"

# The allocation counter of scripts/bench (LD_PRELOAD), when gcc is there.
# Only meaningful for a release build: a debug build allocates per packet in every mode.
shim=""
if [[ "$exitblock" == */debug/* ]]; then
    log "measure: $exitblock is a debug build: no allocation check (EXITBLOCK=<release build> for it)"
elif command -v gcc >/dev/null; then
    gcc -O2 -shared -fPIC -o "$workdir/malloc-count.so" "$root/scripts/bench/malloc-count.c" && shim="$workdir/malloc-count.so"
fi

rows=()
# measure NAME ARGS...: one daemon run with the real consensus, the mix sent once.
measure() {
    local name=$1
    shift
    ip netns exec "$LAB_SERVER" "$PYTHON" "$MIX" serve --ports "$ports" --out "$workdir/$name.json" \
        --ready "$workdir/$name.ready" 2>"$workdir/$name-server.err" &
    server_pid=$!
    wait_for 10 "mix server to listen" test -e "$workdir/$name.ready" || die "mix server did not start"
    local preload=()
    [[ -n "$shim" ]] && preload=("LD_PRELOAD=$shim" "MALLOC_COUNT_FILE=$workdir/malloc-$name")
    ip netns exec "$LAB_GW" env "${preload[@]}" "$exitblock" run --queue "$QUEUE" --list "$CONSENSUS" \
        --no-stats-socket --no-cache "$@" >"$workdir/daemon-$name.out" 2>"$workdir/daemon-$name.err" </dev/null &
    daemon_pid=$!
    wait_for 30 "exitblock to print ready" grep -q ready "$workdir/daemon-$name.err" || die "exitblock did not start"
    local before="" after=""
    [[ -n "$shim" ]] && before=$(od -An -v -t u8 "$workdir/malloc-$name" | tr -s ' \n' ' ')
    ip netns exec "$LAB_CLIENT" "$PYTHON" "$MIX" send --plan "$workdir/plan" --dst "$LAB_SERVER4" --count "$COUNT" \
        >"$workdir/$name.send"
    sleep 1
    if [[ -n "$shim" ]]; then
        after=$(od -An -v -t u8 "$workdir/malloc-$name" | tr -s ' \n' ' ')
        local workers
        # The main thread and the queue worker are the threads named "exitblock" (the worker's
        # own name does not reach the kernel); the others are the stats and refresh pools.
        workers=$(grep -lx 'exitblock' /proc/"$daemon_pid"/task/*/comm 2>/dev/null | awk -F/ '{ print $5 }' |
            paste -sd, -) || true
        local worker_allocs
        worker_allocs=$(awk -v b="$before" -v a="$after" -v tids="$workers" 'BEGIN {
            nb = split(b, B, " "); split(a, A, " "); n = split(tids, T, ",")
            for (k = 9; k < nb; k += 2) for (i = 1; i <= n; i++) if (A[k] == T[i]) sum += A[k + 1] - B[k + 1]
            print sum + 0 }')
        check "$name: the main and queue worker threads ($workers) allocated nothing during the mix ($worker_allocs)" \
            test -n "$workers" -a "$worker_allocs" -eq 0
    fi
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || true
    daemon_pid=""
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=""
    local t outside
    read -ra t <<<"$("$PYTHON" "$MIX" tally --plan "$workdir/plan" --server "$workdir/$name.json" --count "$COUNT")"
    read -ra total <<<"$(grep -m1 '^total ' "$workdir/daemon-$name.out" || true)"
    outside=$(kv outside_policy "${total[@]}")
    local as ar rs rr
    as=$(kv accepted_sent "${t[@]}")
    ar=$(kv accepted_received "${t[@]}")
    rs=$(kv rejected_sent "${t[@]}")
    rr=$(kv rejected_received "${t[@]}")
    rows+=("$(printf '%-22s %7s of %-7s %7s of %-7s %s' "$name" "$((as - ar))" "$as" "$((rs - rr))" "$rs" "$outside")")
    check "$name: every datagram to an accepted port dropped ($((as - ar)) of $as)" test "$ar" -eq 0 -a "$as" -gt 0
    if [[ "$name" == --exit-policy ]]; then
        check "$name: every datagram to a rejected port arrives ($rr of $rs)" test "$rr" -eq "$rs"
    else
        check "$name: every datagram to a rejected port dropped ($((rs - rr)) of $rs)" test "$rr" -eq 0
    fi
}

measure "address only"
measure "--exit-policy" --exit-policy

log ""
log "mode                   can-be-Tor dropped   cannot-be-Tor dropped   outside_policy"
log "                                            (collateral)"
for row in "${rows[@]}"; do log "$row"; done
summary
