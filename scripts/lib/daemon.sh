#!/usr/bin/env bash
# The daemon helpers every namespace test shares: start exitblock in the gateway, wait for
# "ready", read a metric. Source after lib/netns.sh (wait_for, $LAB_GW) and lib/assert.sh
# (not_running). The binary is $exitblock, else $EXITBLOCK (see find_exitblock).

# wait_daemon_ready ERRFILE PID [SECONDS]: waits (default 30 s) until the daemon wrote
# "ready" to ERRFILE or exited; true when it is ready and still running.
wait_daemon_ready() {
    local err=$1 pid=$2 seconds=${3:-30}
    _daemon_ready_or_dead() { grep -q ready "$err" || not_running "$pid"; }
    wait_for "$seconds" "exitblock to print ready" _daemon_ready_or_dead || true
    grep -q ready "$err" && ! not_running "$pid"
}

# start_daemon BASE [PREFIX...] -- RUN_ARGS...: `exitblock run RUN_ARGS` in the gateway
# namespace, behind PREFIX (e.g. `env NAME=VALUE`, setpriv) if given, stdout and stderr to
# BASE.out and BASE.err (emptied first, so an earlier run's "ready" does not count), its pid
# in daemon_pid. Waits for ready (READY_TIMEOUT, default 30 s); false when it did not start.
start_daemon() {
    local base=$1 prefix=()
    shift
    while [[ $# -gt 0 && "$1" != -- ]]; do
        prefix+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    : >"$base.out"
    : >"$base.err"
    ip netns exec "$LAB_GW" "${prefix[@]}" "${exitblock:-$EXITBLOCK}" run "$@" \
        >"$base.out" 2>"$base.err" </dev/null &
    daemon_pid=$!
    wait_daemon_ready "$base.err" "$daemon_pid" "${READY_TIMEOUT:-30}"
}

# run_daemon NAME ARGS...: `exitblock run --queue $QUEUE` on $workdir/exits.list without the
# disk cache, with a stats socket of its own ($workdir/NAME.sock, in $sock), output in
# $workdir/daemon-NAME.out and .err ($daemon_err); dies when it does not start.
run_daemon() {
    local name=$1
    shift
    # shellcheck disable=SC2034 # read by the tests
    daemon_err="${workdir:?}/daemon-$name.err"
    sock="$workdir/$name.sock"
    start_daemon "$workdir/daemon-$name" -- --queue "$QUEUE" --list "$workdir/exits.list" --stats-socket "$sock" \
        --no-cache "$@" || die "$name: exitblock did not start"
}

# stats_get PATH [SOCKET]: GET PATH from the stats socket (default $sock).
stats_get() {
    curl -sS --max-time 5 --unix-socket "${2:-$sock}" "http://localhost$1"
}

# stats EXPRESSION [SOCKET]: a Python expression over the /stats document `d` of the stats
# socket (default $sock), printed; c(name) is the counter `name` summed over the queues.
stats() {
    stats_get /stats "${2:-$sock}" | "${PYTHON:-python3}" -c '
import json, sys
d = json.load(sys.stdin)
def c(name):
    return sum(q["counters"][name] for q in d["stats"]["queues"])
print(eval(sys.argv[1]))' "$1"
}

# wait_stats SECONDS CONDITION [SOCKET]: waits until the Python condition over /stats (see
# stats) holds, at most SECONDS; false (and a log line) when it did not. For figures the
# daemon reads from the kernel on a timer (the cache counters: every second, the accept
# sets': every 5 s).
wait_stats() {
    local seconds=$1 condition=$2 socket=${3:-${sock:-}}
    _stats_hold() { [[ "$(stats "$condition" "$socket" 2>/dev/null)" == True ]]; }
    wait_for "$seconds" "/stats: $condition" _stats_hold
}

# metric_in KEY: the value of the exposition line KEY (NAME{LABELS}) read on stdin, or
# "missing".
metric_in() {
    awk -v key="$1" '$1 == key { print $2; found = 1 } END { if (!found) print "missing" }'
}

# metric KEY [SOCKET]: one sample of /metrics on the stats socket (default $sock), or "missing".
metric() {
    stats_get /metrics "${2:-$sock}" | metric_in "$1"
}

# metric_sum NAME [SOCKET]: the sum of every sample of the family NAME (0 when absent).
metric_sum() {
    stats_get /metrics "${2:-$sock}" |
        awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { print sum + 0 }'
}

# stop_daemon [LABEL [OUTFILE]]: SIGTERM to $daemon_pid and a bounded wait (STOP_TIMEOUT,
# default 10 s; SIGKILL and a failure past it), then check the exit status is 0 (LABEL
# names the check, default "exitblock"). With OUTFILE, its "total ..." line (the daemon's
# last word) goes into the array `total` and the log. Nothing to do when no daemon runs.
stop_daemon() {
    local label=${1:-exitblock} out=${2:-} rc=0
    [[ -n "${daemon_pid:-}" ]] || return 0
    kill -TERM "$daemon_pid"
    if ! wait_for "${STOP_TIMEOUT:-10}" "exitblock to exit" not_running "$daemon_pid"; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
        fail "$label: exitblock still running ${STOP_TIMEOUT:-10} s after SIGTERM"
    fi
    wait "$daemon_pid" || rc=$?
    daemon_pid=""
    check_eq "$label: exit status after SIGTERM" 0 "$rc"
    if [[ -n "$out" ]]; then
        read -ra total <<<"$(grep -m1 '^total ' "$out" || true)"
        log "$label: ${total[*]}"
    fi
}

# kill_daemon: SIGKILL $daemon_pid (a crash) and reap it.
kill_daemon() {
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
}
