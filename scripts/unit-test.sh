#!/usr/bin/env bash
# scripts/unit-test.sh: the daemon started the packaged way, with traffic. The files are the
# built .deb's (PACKAGE_DEB, else the newest dist-out/exitblock_*.deb, extracted with
# dpkg-deb -x); without a .deb, the tree's dist/ files with the unit rewritten as
# scripts/package.sh rewrites it, and the binary EXITBLOCK (default the debug build).
#
# The daemon runs exactly as the unit's [Service] lines say, read from the unit file (so a
# change to the unit is tested): ExecStart's arguments, User and Group (through setpriv;
# a user the host does not have gets a free uid/gid: the daemon never looks itself up),
# AmbientCapabilities, CapabilityBoundingSet, NoNewPrivileges. Two paths are mapped to the
# test's copies: the binary, and the --config file, which is the package's conffile with its
# `list` URL pointing at a local HTTP server (scripts/lib/list_server.py on the gateway's
# loopback, serving the real ../shared/data/tor/torbulkexitlist) and its state directory and
# stats socket in the work directory (systemd's StateDirectory and RuntimeDirectory, owned by
# the unit's user). The rules come from `rules install --config` of that config, run as
# root (the unit's commented ExecStartPre=+). In a three-namespace lab (lib/netns.sh), under
# strace (execve only), the flooder of scripts/bench (raw frames from 200 listed addresses of
# the list and 64 clean ones) crosses the gateway. Asserts:
#   - the daemon starts, both verdict caches on, /healthz ok (200);
#   - CapEff, CapPrm and CapBnd of the daemon and of each of its threads: CAP_NET_ADMIN
#     exactly; CapAmb and CapInh empty; its uid is the unit's user;
#   - the kernel's queue figures present (exitblock_kernel_table_readable 1, queue bound,
#     exitblock_kernel_queue_length and _dropped_total);
#   - listed packets dropped (none reach the server), clean packets pass (all reach it);
#   - the listed flood judged in user space: under 5% of its packets; the drop cache's kernel
#     drops in /metrics;
#   - no program started by the daemon (strace -f -e trace=execve: only setpriv and the
#     daemon itself);
#   - SIGTERM: exit status 0.
# Needs root, gcc, strace, setpriv. Ends with `unit: N passed, M failed`.
# Environment: PACKAGE_DEB, EXITBLOCK, UNIT_RATE (flood packets/s, default 8000),
# UNIT_SECONDS (flood duration, default 3), UNIT_KEEP=1 keeps the work directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-un$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=unit

RATE=${UNIT_RATE:-8000}
DURATION=${UNIT_SECONDS:-3}
NET_ADMIN_ONLY=0000000000001000
NONE=0000000000000000
data="$root/../shared/data/tor/torbulkexitlist-2024-03-12"

daemon_pid=""
strace_pid=""
list_pid=""
workdir=""
cleanup() { lab_test_cleanup "$?" unit "$strace_pid" "$list_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "needs root (network namespaces, iptables, setpriv)"
for tool in ip iptables ipset setpriv strace gcc curl python3 dpkg-deb; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (scripts/deps.sh test)"
done
[[ -r "$data" ]] || die "missing $data"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-unit.XXXXXX")
chmod 0755 "$workdir"
gw() { in_ns "$LAB_GW" "$@"; }

# The package's files: the .deb's, else the tree's as package.sh would ship them.
deb=${PACKAGE_DEB:-}
if [[ -z "$deb" && -d "$root/dist-out" ]]; then
    deb=$(find "$root/dist-out" -maxdepth 1 -name 'exitblock_*.deb' -printf '%T@ %p\n' | sort -rn | awk 'NR == 1 { print $2 }')
fi
pkg="$workdir/pkg"
if [[ -n "$deb" ]]; then
    dpkg-deb -x "$deb" "$pkg" || die "cannot extract $deb"
    log "files from $deb"
else
    mkdir -p "$pkg/lib/systemd/system" "$pkg/etc/exitblock" "$pkg/usr/sbin"
    sed 's|/usr/local/bin/exitblock|/usr/sbin/exitblock|g' "$root/dist/exitblock.service" \
        >"$pkg/lib/systemd/system/exitblock.service"
    cp "$root/dist/exitblock.toml" "$pkg/etc/exitblock/exitblock.toml"
    cp "$(find_exitblock "$root")" "$pkg/usr/sbin/exitblock"
    log "no .deb (PACKAGE_DEB, dist-out/): files from dist/ and $(find_exitblock "$root")"
fi
unit="$pkg/lib/systemd/system/exitblock.service"
[[ -r "$unit" && -x "$pkg/usr/sbin/exitblock" ]] || die "no unit or binary in $pkg"

# unit_value KEY: the value of KEY= in the unit's [Service] section (the last one wins, as
# in systemd; empty when absent).
unit_value() {
    awk -v key="$1" '/^\[/ { service = ($0 == "[Service]") } service && index($0, key "=") == 1 {
        value = substr($0, length(key) + 2) } END { print value }' "$unit"
}
# setpriv_caps "CAP_A CAP_B": "-all,+a,+b" as setpriv takes capability lists.
setpriv_caps() {
    local list="-all" cap
    for cap in $1; do list+=",+$(tr '[:upper:]' '[:lower:]' <<<"${cap#CAP_}")"; done
    printf '%s\n' "$list"
}

exec_start=$(unit_value ExecStart)
user=$(unit_value User)
group=$(unit_value Group)
ambient=$(unit_value AmbientCapabilities)
bounding=$(unit_value CapabilityBoundingSet)
no_new_privs=$(unit_value NoNewPrivileges)
log "unit: ExecStart=$exec_start User=$user Group=$group AmbientCapabilities=$ambient"
log "unit: CapabilityBoundingSet=$bounding NoNewPrivileges=$no_new_privs"
case ${exec_start:0:1} in
    @ | : | + | !) die "ExecStart prefix ${exec_start:0:1} is not what this test emulates" ;;
esac
read -ra argv <<<"${exec_start#-}"
[[ "${argv[0]}" == /usr/sbin/exitblock && "${argv[1]}" == run ]] || die "ExecStart is not /usr/sbin/exitblock run ..."
uid=$(id -u "${user:-root}" 2>/dev/null || echo 64190)
gid=$( (getent group "${group:-${user:-root}}" || true) | cut -d: -f3)
gid=${gid:-64190}
log "unit user $user -> uid $uid, group $group -> gid $gid"

# The config the unit names, copied with the lab's URL, state directory and stats socket.
config_at=""
for ((i = 2; i < ${#argv[@]}; i++)); do
    [[ "${argv[i]}" == --config ]] && config_at=$((i + 1))
done
[[ -n "$config_at" ]] || die "ExecStart has no --config"
shipped_config="$pkg${argv[config_at]}"
[[ -r "$shipped_config" ]] || die "the unit's config ${argv[config_at]} is not in the package"
mkdir -p "$workdir/state" "$workdir/run"
chown "$uid:$gid" "$workdir/state" "$workdir/run"
chmod 0750 "$workdir/state" "$workdir/run"
sock="$workdir/run/stats.sock"

lab_up || die "lab setup failed"

# The list server on the gateway's loopback, serving the real list.
cp "$data" "$workdir/served.list"
gw python3 "$root/scripts/lib/list_server.py" --list "$workdir/served.list" --ready "$workdir/list.port" \
    --deadline 600 2>"$workdir/list.err" &
list_pid=$!
wait_for 10 "list server to listen" test -s "$workdir/list.port" || die "the list server did not start"
url="http://127.0.0.1:$(cat "$workdir/list.port")/torbulkexitlist"
config="$workdir/exitblock.toml"
grep -q '^list = ' "$shipped_config" || die "the shipped config has no list line"
sed -e "s|^list = .*|list = [\"$url\"]|" -e "s|^state-directory = .*|state-directory = \"$workdir/state\"|" \
    "$shipped_config" | awk -v sock="$sock" '{ print } /^\[run\]/ { print "stats-socket = \"" sock "\"" }' >"$config"
chmod 0644 "$config"
argv[0]="$pkg/usr/sbin/exitblock"
argv[config_at]=$config
bin=${argv[0]}

check "rules install --config (as root, the unit's ExecStartPre=+)" gw "$bin" rules install --config "$config"

# setpriv as systemd would set the credentials.
prefix=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)
[[ -z "$ambient" ]] || prefix+=(--inh-caps="$(setpriv_caps "$ambient")" --ambient-caps="$(setpriv_caps "$ambient")")
[[ -z "$bounding" ]] || prefix+=(--bounding-set="$(setpriv_caps "$bounding")")
[[ "$no_new_privs" != yes ]] || prefix+=(--no-new-privs)
log "start: ${prefix[*]} -- ${argv[*]}"
gw strace -f -qq -e trace=execve,execveat -e signal=none -o "$workdir/exec.trace" \
    "${prefix[@]}" -- "${argv[@]}" >"$workdir/daemon.out" 2>"$workdir/daemon.err" </dev/null &
strace_pid=$!
# The daemon's pid: the process strace saw execute the binary (setpriv's, same pid).
daemon_of_strace() {
    daemon_pid=$(awk -v bin="execve(\"$bin\"," 'index($0, bin) && / = 0$/ { print $1; exit }' "$workdir/exec.trace")
    [[ -n "$daemon_pid" ]] && ! not_running "$daemon_pid"
}
wait_for 10 "the daemon under strace" daemon_of_strace || die "the daemon did not start under strace"
ready_or_dead() { grep -q ready "$workdir/daemon.err" || not_running "$daemon_pid"; }
wait_for 60 "the daemon to print ready" ready_or_dead || true
grep -q ready "$workdir/daemon.err" && ! not_running "$daemon_pid" || die "the daemon did not start: $(tail -5 "$workdir/daemon.err")"
pass "started as the unit says (pid $daemon_pid): $(grep -m1 -o 'ready: .*' "$workdir/daemon.err" | cut -c1-100)"
log "$(grep -E 'privileges|cache|kernel' "$workdir/daemon.err" || true)"

# The caches, health and kernel figures.
caches=$(grep -m1 -o 'drop cache: .*' "$workdir/daemon.err" || echo 'no drop cache line')
check "both verdict caches on ($caches)" grep -qE 'drop cache: on for ipv4 and ipv6.*accept cache: on for ipv4 and ipv6' \
    <<<"$caches"
check_eq "/healthz" ok "$(stats_get /healthz)"
check_eq "kernel queue table readable" 1 "$(metric exitblock_kernel_table_readable)"
check_eq "kernel: queue 0 bound" 1 "$(metric 'exitblock_queue_bound{queue="0"}')"
for name in exitblock_kernel_queue_length exitblock_kernel_queue_dropped_total; do
    value=$(metric "$name{queue=\"0\"}")
    check "kernel queue figure $name present ($value)" test "$value" != missing
done

# Credentials of the daemon and each of its threads.
status_field() { awk -v key="$2:" '$1 == key { print $2 }' "$1/status"; }
check_eq "uid of the daemon" "$uid" "$(awk '$1 == "Uid:" { print $2 }' "/proc/$daemon_pid/status")"
for field in CapEff CapPrm CapBnd; do
    check_eq "$field of the daemon" "$NET_ADMIN_ONLY" "$(status_field "/proc/$daemon_pid" "$field")"
done
check_eq "CapAmb of the daemon" "$NONE" "$(status_field "/proc/$daemon_pid" CapAmb)"
check_eq "CapInh of the daemon" "$NONE" "$(status_field "/proc/$daemon_pid" CapInh)"
over=""
for task in /proc/"$daemon_pid"/task/*; do
    for field in CapEff CapPrm CapBnd; do
        value=$(status_field "$task" "$field")
        [[ $((16#$value & ~16#$NET_ADMIN_ONLY)) == 0 ]] || over+=" ${task##*/}:$field=$value"
    done
done
check_eq "threads holding more than CAP_NET_ADMIN" "none" "${over:-none}"

# The flood: 200 listed addresses of the list, and clean ones; counted at the server.
awk 'NF && $1 !~ /^#/ && $1 !~ /:/ && n < 200 { print $1; n++ }' "$data" >"$workdir/flood.list"
gcc -O2 -o "$workdir/flood" "$root/scripts/bench/flood.c" || die "cannot build the flooder"
for port in 9000 9001; do
    in_ns "$LAB_SERVER" iptables -A INPUT -p udp --dport "$port"
done
server_count() { in_ns "$LAB_SERVER" iptables -nvxL INPUT | awk -v p="dpt:$1" '$0 ~ p { print $1 }'; }
judged() { metric_sum exitblock_packets_total; }
dropped_before=$(metric_sum exitblock_packets_dropped_total)
judged_before=$(judged)
mac() { in_ns "$1" cat "/sys/class/net/$2/address"; }
line=$(in_ns "$LAB_CLIENT" "$workdir/flood" --iface "$LAB_CLIENT_IF" --src-mac "$(mac "$LAB_CLIENT" "$LAB_CLIENT_IF")" \
    --dst-mac "$(mac "$LAB_GW" "$LAB_GW_CLIENT_IF")" --dst4 "$LAB_SERVER4" --dst6 "$LAB_SERVER6" \
    --list "$workdir/flood.list" --duration "$DURATION" --rate "$RATE" --listed-percent 50 --ipv6-percent 0 \
    --clean-sources 64 2>"$workdir/flood.err") || die "flooder failed: $(cat "$workdir/flood.err")"
log "flood: $line"
sleep 0.5 # the last frames cross the gateway
listed_sent=$(kv listed4 $line)
clean_sent=$(kv unlisted4 $line)
listed_arrived=$(server_count 9001)
clean_arrived=$(server_count 9000)
judged_after=$(judged)
dropped_after=$(metric_sum exitblock_packets_dropped_total)
listed_judged=$((dropped_after - dropped_before))
check_eq "listed packets reaching the server (of $listed_sent sent)" 0 "$listed_arrived"
check_eq "clean packets reaching the server" "$clean_sent" "$clean_arrived"
share=$(awk -v j="$listed_judged" -v s="$listed_sent" 'BEGIN { printf "%.1f", s ? 100 * j / s : 100 }')
log "judged in user space: $listed_judged of $listed_sent listed packets ($share%); all verdicts: $((judged_after - judged_before))"
check "listed flood judged in user space under 5% ($share%: $listed_judged of $listed_sent)" \
    awk -v p="$share" 'BEGIN { exit !(p < 5) }'
# The cache rules' counters, read by the daemon every second.
kernel_drops() { (($(metric_sum exitblock_drop_cache_kernel_drops_total) > 0)); }
wait_for 5 "drop cache kernel drops in /metrics" kernel_drops || true
check "drop cache kernel drops in /metrics ($(metric_sum exitblock_drop_cache_kernel_drops_total))" kernel_drops

# Programs the daemon started: every execve after setpriv's and the daemon's own.
kill -TERM "$daemon_pid"
wait_for 10 "the daemon to exit" not_running "$daemon_pid" || fail "still running 10 s after SIGTERM"
rc=0
wait "$strace_pid" || rc=$? # strace ends with its tracee's exit status
strace_pid=""
check_eq "exit status after SIGTERM" 0 "$rc"
programs=$(awk '/execve/ && / = 0$/' "$workdir/exec.trace" | tail -n +3 | sed -E 's/^[0-9]+ +execve(at)?\("([^"]*)".*/\2/' |
    sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
check_eq "programs started by the daemon" "none" "${programs:-none}"
