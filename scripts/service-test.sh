#!/usr/bin/env bash
# scripts/service-test.sh: exitblock as a service, in a three-namespace lab (lib/netns.sh).
# Needs root; no network beyond the lab.
#
#  1. The systemd unit (dist/exitblock.service) has the keys the operator guide promises and
#     passes `systemd-analyze verify` (with ExecStart pointed at the binary under test).
#  2. The example config (dist/exitblock.toml) passes `exitblock config check`; a bad one
#     fails naming the key and the line.
#  3. `exitblock run --config FILE` started as root in the gateway namespace, with a stand-in
#     for systemd's notification socket (lib/notify_listener.py) and WATCHDOG_USEC set:
#     READY=1 arrives once "ready" is printed; WATCHDOG=1 pings keep arriving; the process
#     and every one of its threads hold CAP_NET_ADMIN at most (CapEff/CapPrm/CapBnd of the
#     main thread exactly 0000000000001000, no_new_privs set); the stats socket still
#     answers; listed sources are dropped and clean ones pass (ping, both families); SIGHUP
#     sends RELOADING=1 and READY=1 and the reloaded list is in force; SIGTERM sends
#     STOPPING=1 and the daemon exits 0.
#  4. `--user nobody` from root: the daemon runs as nobody with CAP_NET_ADMIN and judges traffic.
#  5. As systemd starts it: user nobody with only an ambient CAP_NET_ADMIN (setpriv), it
#     binds, judges traffic and keeps CAP_NET_ADMIN.
#
# Ends with `service: N passed, M failed`; exits non-zero if anything failed.
# Environment: EXITBLOCK (the binary; default: the debug build), SERVICE_KEEP=1 keeps the
# work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-svc$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=service

QUEUE=3
NET_ADMIN_ONLY=0000000000001000 # bit 12: CAP_NET_ADMIN
daemon_pid=""
listener_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" service "$daemon_pid" "$listener_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# status_field PID|PID/task/TID FIELD: a field of /proc/.../status.
status_field() {
    awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}

# notes PATTERN: how many notification datagrams matched PATTERN so far.
notes() {
    grep -c -E "$1" "$workdir/notify.log" 2>/dev/null || true
}

# replies SRC DST: echo replies to 3 pings from SRC to DST through the gateway.
replies() {
    local family=-4
    [[ "$1" == *:* ]] && family=-6
    in_ns "$LAB_CLIENT" ping "$family" -n -q -c 3 -i 0.2 -W 1 -I "$1" "$2" 2>/dev/null |
        awk '/packets transmitted/ { print $4 }'
}

# judged LABEL: listed sources get no reply, clean ones all of them, both families.
judged() {
    local label=$1
    check_eq "$label: listed IPv4 source ${LAB_LISTED4[0]} gets no reply" 0 "$(replies "${LAB_LISTED4[0]}" "$LAB_SERVER4")"
    check_eq "$label: clean IPv4 source ${LAB_CLEAN4[0]} gets every reply" 3 "$(replies "${LAB_CLEAN4[0]}" "$LAB_SERVER4")"
    check_eq "$label: listed IPv6 source ${LAB_LISTED6[0]} gets no reply" 0 "$(replies "${LAB_LISTED6[0]}" "$LAB_SERVER6")"
    check_eq "$label: clean IPv6 source ${LAB_CLEAN6[0]} gets every reply" 3 "$(replies "${LAB_CLEAN6[0]}" "$LAB_SERVER6")"
}

# start_service LABEL [PREFIX...] -- ARGS...: start `exitblock run ARGS` in the gateway
# namespace (behind PREFIX, e.g. setpriv) as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC)
# and wait for "ready".
start_service() {
    local label=$1
    shift
    if ! start_daemon "$workdir/exitblock" env NOTIFY_SOCKET="$workdir/notify.sock" WATCHDOG_USEC=1000000 "$@" \
        --no-cache; then
        fail "$label: exitblock started and printed ready"
        die "exitblock did not start; stderr follows on exit"
    fi
    pass "$label: exitblock started and printed ready"
}


# caps_checks LABEL UID: the capability state of the running daemon.
caps_checks() {
    local label=$1 uid=$2 task bad=""
    check_eq "$label: CapEff" "$NET_ADMIN_ONLY" "$(status_field "$daemon_pid" CapEff)"
    check_eq "$label: CapPrm" "$NET_ADMIN_ONLY" "$(status_field "$daemon_pid" CapPrm)"
    check_eq "$label: CapBnd" "$NET_ADMIN_ONLY" "$(status_field "$daemon_pid" CapBnd)"
    check_eq "$label: CapInh" 0000000000000000 "$(status_field "$daemon_pid" CapInh)"
    check_eq "$label: CapAmb" 0000000000000000 "$(status_field "$daemon_pid" CapAmb)"
    check_eq "$label: NoNewPrivs" 1 "$(status_field "$daemon_pid" NoNewPrivs)"
    check_eq "$label: effective uid" "$uid" "$(status_field "$daemon_pid" Uid)"
    for task in /proc/"$daemon_pid"/task/*; do
        local eff prm
        eff=$(awk '$1 == "CapEff:" { print $2 }' "$task/status")
        prm=$(awk '$1 == "CapPrm:" { print $2 }' "$task/status")
        if (((16#$eff | 16#$prm) & ~16#$NET_ADMIN_ONLY)); then
            bad+=" $(cat "$task/comm")=$eff/$prm"
        fi
    done
    check "$label: every thread ($(find /proc/"$daemon_pid"/task -mindepth 1 -maxdepth 1 | wc -l)) holds at most CAP_NET_ADMIN${bad}" \
        test -z "$bad"
}

# ---------------------------------------------------------------------------------------
(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
for tool in ip iptables ip6tables ping setpriv curl python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-service.XXXXXX")
chmod 0755 "$workdir" # the daemon reaches the notification socket here after dropping root
log "service: exitblock = $exitblock"

# ---------------------------------------------------------------------------------------
log ""
log "== systemd unit"
unit="$root/dist/exitblock.service"
for key in Type=notify NotifyAccess=main "ExecStart=/usr/local/bin/exitblock run --config /etc/exitblock/exitblock.toml" \
    "ExecReload=/bin/kill -HUP \$MAINPID" User=exitblock \
    "AmbientCapabilities=CAP_NET_ADMIN CAP_DAC_READ_SEARCH CAP_SETPCAP" \
    "CapabilityBoundingSet=CAP_NET_ADMIN CAP_DAC_READ_SEARCH CAP_SETPCAP" NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    RuntimeDirectory=exitblock StateDirectory=exitblock \
    "RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6"; do
    check "unit has $key" grep -q -x -F "$key" "$unit"
done
check "unit has WatchdogSec=N" grep -q -E '^WatchdogSec=[0-9]+s?$' "$unit"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$workdir/unit"
    sed "s|/usr/local/bin/exitblock|$exitblock|" "$unit" >"$workdir/unit/exitblock.service"
    if systemd-analyze verify "$workdir/unit/exitblock.service" >"$workdir/verify.out" 2>&1 && ! [[ -s "$workdir/verify.out" ]]; then
        pass "systemd-analyze verify: no complaint"
    else
        fail "systemd-analyze verify: $(cat "$workdir/verify.out")"
    fi
else
    log "service: systemd-analyze not installed; the unit was checked for its keys only"
fi

# ---------------------------------------------------------------------------------------
log ""
log "== config check"
quiet() { "$@" >/dev/null; }
check "dist/exitblock.toml passes config check" quiet "$exitblock" config check "$root/dist/exitblock.toml"
printf '[run]\nqueue = ["0"]\nlist = ["/x"]\n\nburst-sise = 8\n' >"$workdir/bad.toml"
rc=0
"$exitblock" config check "$workdir/bad.toml" >/dev/null 2>"$workdir/bad.err" || rc=$?
check_eq "a misspelt key fails config check" 2 "$rc"
check "the error names the file, line and key: $(head -n 1 "$workdir/bad.err")" \
    grep -q -F "$workdir/bad.toml:5: burst-sise: unknown key" "$workdir/bad.err"

# ---------------------------------------------------------------------------------------
lab_up || die "lab setup failed"
log ""
log "service: lab up: client $LAB_CLIENT, gateway $LAB_GW, server $LAB_SERVER"
for tool in iptables ip6tables; do
    in_ns "$LAB_GW" "$tool" -w 5 -A FORWARD -j NFQUEUE --queue-num "$QUEUE"
done
list="$workdir/exits.list"
printf '%s\n' "${LAB_LISTED4[0]}" "${LAB_LISTED6[0]}" >"$list"
chmod 0644 "$list"
config="$workdir/exitblock.toml"
cat >"$config" <<EOF
[run]
queue = ["$QUEUE"]
list = ["$list"]
stats-socket = "$workdir/stats.sock"
EOF
python3 "$root/scripts/lib/notify_listener.py" "$workdir/notify.sock" "$workdir/notify.log" --deadline 240 &
listener_pid=$!
wait_for 5 "the notification listener" test -S "$workdir/notify.sock" || die "notify listener did not start"

log ""
log "== run --config as root, notifications, capabilities"
start_service "root" -- --config "$config"
wait_for 5 "READY=1" test "$(notes 'READY=1')" -ge 1 || true
check_eq "READY=1 sent once ready was printed" 1 "$(notes 'READY=1')"
check "READY=1 carries a STATUS" grep -q -E 'READY=1\|STATUS=judging queue\(s\) 3; 2 entries' "$workdir/notify.log"
check "the privileges line says what was kept" grep -q 'privileges: uid 0 gid 0; keeping cap_net_admin' \
    "$workdir/exitblock.err"
caps_checks "root" 0
judged "root"
check "the stats socket answers /healthz after the drop" \
    curl -sf --max-time 5 --unix-socket "$workdir/stats.sock" http://localhost/healthz -o /dev/null
wait_for 5 "two WATCHDOG=1 pings" test "$(notes 'WATCHDOG=1')" -ge 2 || true
check "WATCHDOG=1 pings arrive ($(notes 'WATCHDOG=1') so far, every 0.5 s)" test "$(notes 'WATCHDOG=1')" -ge 2

log ""
log "== SIGHUP reload"
check_eq "before the reload, ${LAB_LISTED4[1]} passes" 3 "$(replies "${LAB_LISTED4[1]}" "$LAB_SERVER4")"
printf '%s\n' "${LAB_LISTED4[1]}" >>"$list"
kill -HUP "$daemon_pid"
wait_for 10 "reloaded" grep -q reloaded "$workdir/exitblock.err" || true
wait_for 5 "READY=1 after the reload" test "$(notes 'READY=1')" -ge 2 || true
check "RELOADING=1 with MONOTONIC_USEC sent" grep -q -E 'RELOADING=1\|STATUS=[^|]*\|MONOTONIC_USEC=[0-9]+' "$workdir/notify.log"
check_eq "READY=1 again after the reload" 2 "$(notes 'READY=1')"
check "RELOADING=1 came before the second READY=1" \
    awk '/RELOADING=1/ { r = NR } /READY=1/ { n++; if (n == 2) s = NR } END { exit !(r && s > r) }' "$workdir/notify.log"
check_eq "after the reload, ${LAB_LISTED4[1]} gets no reply" 0 "$(replies "${LAB_LISTED4[1]}" "$LAB_SERVER4")"
caps_checks "root, after the reload" 0

log ""
log "== SIGTERM"
stop_daemon "root"
check "STOPPING=1 sent" grep -q 'STOPPING=1' "$workdir/notify.log"
pings_at_stop=$(notes 'WATCHDOG=1')
sleep 1.2
check_eq "no WATCHDOG=1 after stopping" "$pings_at_stop" "$(notes 'WATCHDOG=1')"

# ---------------------------------------------------------------------------------------
log ""
log "== run --user nobody (started as root)"
nobody_uid=$(id -u nobody)
start_service "--user nobody" -- --config "$config" --user nobody --stats-socket "$workdir/user.sock"
caps_checks "--user nobody" "$nobody_uid"
judged "--user nobody"
# The queue table (root-only, 0440) was opened before the switch and stays readable.
user_metrics=$(curl -sf --max-time 5 --unix-socket "$workdir/user.sock" http://localhost/metrics || true)
check "--user nobody: the kernel's queue table stays readable" \
    grep -qx 'exitblock_kernel_table_readable 1' <<<"$user_metrics"
check "--user nobody: the kernel lists the queue as bound" \
    grep -q '^exitblock_queue_bound{queue="[0-9]*"} 1$' <<<"$user_metrics"
check "--user nobody: /healthz answers 200" \
    curl -sf --max-time 5 --unix-socket "$workdir/user.sock" http://localhost/healthz -o /dev/null
stop_daemon "--user nobody"

# ---------------------------------------------------------------------------------------
log ""
log "== as systemd starts it: user nobody, ambient CAP_NET_ADMIN only"
mkdir -p "$workdir/run"
chown nobody "$workdir/run"
start_service "ambient" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+net_admin \
    --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin -- \
    --config "$config" --stats-socket "$workdir/run/stats.sock"
caps_checks "ambient" "$nobody_uid"
judged "ambient"
# /proc/net/netfilter/nfnetlink_queue is root-only (0440): a daemon that never was root cannot
# read it, says so, and /healthz judges by the set alone (docs/operator-guide.md, Least privilege).
ambient_metrics=$(curl -sf --max-time 5 --unix-socket "$workdir/run/stats.sock" http://localhost/metrics || true)
check "ambient: /metrics says the kernel's queue table is unreadable" \
    grep -qx 'exitblock_kernel_table_readable 0' <<<"$ambient_metrics"
check "ambient: /healthz answers 200" \
    curl -sf --max-time 5 --unix-socket "$workdir/run/stats.sock" http://localhost/healthz -o /dev/null
stop_daemon "ambient"

summary
((failed == 0))
