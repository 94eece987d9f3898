#!/usr/bin/env bash
# scripts/lib/netns.sh: a three-namespace lab for exitblock, sourced by the test scripts.
#
#   client ns                    gateway ns                       server ns
#   veth-gw ------------------ veth-cli   veth-srv ------------------ veth-gw
#   192.0.2.2/28                192.0.2.1/28  192.0.2.17/28            192.0.2.18/28
#   2001:db8:1::2/64            2001:db8:1::1 2001:db8:2::1            2001:db8:2::2/64
#   + listed sources  198.51.100.10-13, 2001:db8:bad::10-13
#   + clean sources   203.0.113.10-13,  2001:db8:c1ea::10-13
#
# The gateway forwards both families and routes the whole source prefixes
# (198.51.100.0/24, 203.0.113.0/24, 2001:db8:bad::/64, 2001:db8:c1ea::/64) back to the
# client, with rp_filter off, so a benchmark may add more client addresses
# (lab_add_client_addrs) or spoof any source inside those prefixes.
# NFQUEUE is per network namespace: exitblock and its rules go into the gateway ns.
#
# Use:
#   source "$root/scripts/lib/netns.sh"
#   cleanup() { ...; lab_down; }; trap cleanup EXIT
#   lab_up
#   in_ns "$LAB_GW" iptables -A FORWARD ...
#
# The namespaces are eb<ID>-cli, eb<ID>-gw, eb<ID>-srv; ID is $LAB_ID when this file is
# sourced, or set later with lab_set_id; by default the shell's pid, so parallel runs do
# not clash. Every function returns non-zero with a message on stderr on failure;
# lab_down never fails and may be called any number of times.
#
# This file is sourced: it sets no shell options (callers run with set -euo pipefail)
# and defines no traps (callers own the cleanup trap and call lab_down from it).
#
# Functions: lab_up, lab_down, lab_status, lab_add_client_addrs, lab_wait_ready, in_ns,
# wait_for, lab_set_id, lab_adopt, lab_ids, lab_kill_procs, find_exitblock.

# Guard against double sourcing.
if [[ -n "${_EXITBLOCK_NETNS_SH:-}" ]]; then
    return 0
fi
_EXITBLOCK_NETNS_SH=1

# lab_set_id ID: name the lab's namespaces eb<ID>-cli, eb<ID>-gw, eb<ID>-srv.
lab_set_id() {
    if [[ ! "$1" =~ ^[A-Za-z0-9_]{1,20}$ ]]; then
        printf 'lab: bad lab id %q (letters, digits, _; at most 20)\n' "$1" >&2
        return 1
    fi
    LAB_ID=$1
    LAB_CLIENT="eb${LAB_ID}-cli"
    LAB_GW="eb${LAB_ID}-gw"
    LAB_SERVER="eb${LAB_ID}-srv"
}
lab_set_id "${LAB_ID:-$$}" || return 1

# Transit addresses.
LAB_CLIENT4=192.0.2.2
LAB_GW_CLIENT4=192.0.2.1
LAB_GW_SERVER4=192.0.2.17
LAB_SERVER4=192.0.2.18
LAB_CLIENT6=2001:db8:1::2
LAB_GW_CLIENT6=2001:db8:1::1
LAB_GW_SERVER6=2001:db8:2::1
LAB_SERVER6=2001:db8:2::2

# Extra client source addresses. "Listed" ones go into test block lists, "clean" ones never.
LAB_LISTED4=(198.51.100.10 198.51.100.11 198.51.100.12 198.51.100.13)
LAB_LISTED6=(2001:db8:bad::10 2001:db8:bad::11 2001:db8:bad::12 2001:db8:bad::13)
LAB_CLEAN4=(203.0.113.10 203.0.113.11 203.0.113.12 203.0.113.13)
LAB_CLEAN6=(2001:db8:c1ea::10 2001:db8:c1ea::11 2001:db8:c1ea::12 2001:db8:c1ea::13)

# Prefixes the gateway routes back to the client (every client source lives in one).
LAB_SOURCE_PREFIXES4=(198.51.100.0/24 203.0.113.0/24)
LAB_SOURCE_PREFIXES6=(2001:db8:bad::/64 2001:db8:c1ea::/64)

# Interface names (each lives in its own namespace, so they never clash between runs).
LAB_CLIENT_IF=veth-gw     # in the client ns
LAB_GW_CLIENT_IF=veth-cli # in the gateway ns, towards the client
LAB_GW_SERVER_IF=veth-srv # in the gateway ns, towards the server
LAB_SERVER_IF=veth-gw     # in the server ns

# Set once lab_up has started creating things (lab_down only removes what this shell made).
_LAB_CREATED=0

lab_log() {
    printf '%s\n' "$*" >&2
}

# in_ns NS CMD [ARGS...]: run CMD inside network namespace NS.
in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# gw CMD [ARGS...]: run CMD in the lab's gateway namespace ($LAB_GW).
gw() { in_ns "$LAB_GW" "$@"; }

# pings SRC DST: ping replies received from the client namespace (PINGS sent, 0.2 s apart).
pings() {
    local family=-4
    [[ "$1" == *:* ]] && family=-6
    in_ns "$LAB_CLIENT" ping "$family" -n -c "$PINGS" -i 0.2 -W 1 -I "$1" "$2" 2>/dev/null |
        awk '/packets transmitted/ { print $4; found = 1 } END { if (!found) print 0 }'
}

# wait_for TIMEOUT_SECONDS DESCRIPTION CMD [ARGS...]: run CMD every 0.1 s until it
# succeeds; return 1 with a message if it has not succeeded after TIMEOUT_SECONDS.
wait_for() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            lab_log "timed out after ${timeout}s waiting for: $what"
            return 1
        fi
        sleep 0.1
    done
}

# _lab_sysctl NS KEY=VALUE...: set sysctls inside NS, quietly.
_lab_sysctl() {
    local ns=$1
    shift
    local kv
    for kv in "$@"; do
        in_ns "$ns" sysctl -qw "$kv" >/dev/null || { lab_log "lab: sysctl $kv failed in $ns"; return 1; }
    done
}

# lab_up: create the three namespaces, links, addresses and routes, then wait until both
# families forward. Fails (non-zero, message on stderr) if a namespace of this LAB_ID
# already exists or any step fails; call lab_down (from a trap) to remove what was made.
# Every step is checked explicitly, so it also works where set -e is not in force
# (for example `lab_up || exit 1`).
lab_up() {
    local ns prefix
    for ns in "$LAB_CLIENT" "$LAB_GW" "$LAB_SERVER"; do
        if [[ -e "/run/netns/$ns" ]]; then
            lab_log "lab: namespace $ns already exists (another run with LAB_ID=$LAB_ID?)"
            return 1
        fi
    done
    _LAB_CREATED=1
    for ns in "$LAB_CLIENT" "$LAB_GW" "$LAB_SERVER"; do
        ip netns add "$ns" || { lab_log "lab: cannot create namespace $ns (are you root?)"; return 1; }
        # No duplicate address detection, so addresses are usable at once: set before the
        # links exist so new interfaces inherit it (and nodad on each address as well).
        _lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 || return 1
    done
    _lab_sysctl "$LAB_GW" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1

    # Gateway: both veth pairs (peers created straight into their namespaces), addresses,
    # routes back to the client's source prefixes.
    {
        printf 'link set lo up\n'
        printf 'link add %s type veth peer name %s netns %s\n' "$LAB_GW_CLIENT_IF" "$LAB_CLIENT_IF" "$LAB_CLIENT"
        printf 'link add %s type veth peer name %s netns %s\n' "$LAB_GW_SERVER_IF" "$LAB_SERVER_IF" "$LAB_SERVER"
        printf 'addr add %s/28 dev %s\n' "$LAB_GW_CLIENT4" "$LAB_GW_CLIENT_IF"
        printf 'addr add %s/64 dev %s nodad\n' "$LAB_GW_CLIENT6" "$LAB_GW_CLIENT_IF"
        printf 'addr add %s/28 dev %s\n' "$LAB_GW_SERVER4" "$LAB_GW_SERVER_IF"
        printf 'addr add %s/64 dev %s nodad\n' "$LAB_GW_SERVER6" "$LAB_GW_SERVER_IF"
        printf 'link set %s up\n' "$LAB_GW_CLIENT_IF" "$LAB_GW_SERVER_IF"
        for prefix in "${LAB_SOURCE_PREFIXES4[@]}"; do
            printf 'route add %s via %s dev %s\n' "$prefix" "$LAB_CLIENT4" "$LAB_GW_CLIENT_IF"
        done
        for prefix in "${LAB_SOURCE_PREFIXES6[@]}"; do
            printf 'route add %s via %s dev %s\n' "$prefix" "$LAB_CLIENT6" "$LAB_GW_CLIENT_IF"
        done
    } | ip -n "$LAB_GW" -batch - || { lab_log "lab: gateway setup failed"; return 1; }
    _lab_sysctl "$LAB_GW" "net.ipv4.conf.$LAB_GW_CLIENT_IF.rp_filter=0" \
        "net.ipv4.conf.$LAB_GW_SERVER_IF.rp_filter=0" || return 1

    # Client: transit address, the extra sources, default routes via the gateway.
    {
        printf 'link set lo up\n'
        printf 'addr add %s/28 dev %s\n' "$LAB_CLIENT4" "$LAB_CLIENT_IF"
        printf 'addr add %s/64 dev %s nodad\n' "$LAB_CLIENT6" "$LAB_CLIENT_IF"
        printf 'link set %s up\n' "$LAB_CLIENT_IF"
        printf 'route add default via %s dev %s\n' "$LAB_GW_CLIENT4" "$LAB_CLIENT_IF"
        printf 'route add ::/0 via %s dev %s\n' "$LAB_GW_CLIENT6" "$LAB_CLIENT_IF"
    } | ip -n "$LAB_CLIENT" -batch - || { lab_log "lab: client setup failed"; return 1; }
    lab_add_client_addrs "${LAB_LISTED4[@]}" "${LAB_CLEAN4[@]}" "${LAB_LISTED6[@]}" "${LAB_CLEAN6[@]}" ||
        return 1

    # Server: its address and default routes via the gateway.
    {
        printf 'link set lo up\n'
        printf 'addr add %s/28 dev %s\n' "$LAB_SERVER4" "$LAB_SERVER_IF"
        printf 'addr add %s/64 dev %s nodad\n' "$LAB_SERVER6" "$LAB_SERVER_IF"
        printf 'link set %s up\n' "$LAB_SERVER_IF"
        printf 'route add default via %s dev %s\n' "$LAB_GW_SERVER4" "$LAB_SERVER_IF"
        printf 'route add ::/0 via %s dev %s\n' "$LAB_GW_SERVER6" "$LAB_SERVER_IF"
    } | ip -n "$LAB_SERVER" -batch - || { lab_log "lab: server setup failed"; return 1; }

    lab_wait_ready || { lab_log "lab: the gateway does not forward"; return 1; }
}

# lab_add_client_addrs ADDR...: add host addresses (/32 or /128) to the client interface,
# in one batch (fast for thousands). Each must lie in LAB_SOURCE_PREFIXES4/6 to be routed back.
lab_add_client_addrs() {
    local a
    for a in "$@"; do
        if [[ "$a" == *:* ]]; then
            printf 'addr add %s/128 dev %s nodad\n' "$a" "$LAB_CLIENT_IF"
        else
            printf 'addr add %s/32 dev %s\n' "$a" "$LAB_CLIENT_IF"
        fi
    done | ip -n "$LAB_CLIENT" -batch - || { lab_log "lab: adding client addresses failed"; return 1; }
}

# lab_wait_ready: wait (bounded) until the client reaches the server through the gateway,
# both families, from its transit addresses. Run it before any queue rule exists.
lab_wait_ready() {
    wait_for 10 "IPv4 path client -> gateway -> server" \
        in_ns "$LAB_CLIENT" ping -c 1 -W 1 -n -q "$LAB_SERVER4" &&
        wait_for 10 "IPv6 path client -> gateway -> server" \
            in_ns "$LAB_CLIENT" ping -6 -c 1 -W 1 -n -q "$LAB_SERVER6"
}

# lab_kill_procs NS: end the processes still running inside NS (processes this lab
# started: the namespaces are unique to this run), TERM first, KILL after 2 s.
lab_kill_procs() {
    local ns=$1 pids
    [[ -e "/run/netns/$ns" ]] || return 0
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n "$pids" ]] || return 0
    # shellcheck disable=SC2086 # a list of pids, split on purpose
    kill -TERM $pids 2>/dev/null || true
    local i
    for ((i = 0; i < 20; i++)); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -n "$pids" ]] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
}

# lab_adopt: take over an existing lab of LAB_ID (made by another shell, e.g. `lab.sh up`)
# so that lab_down removes it. Fails if none of its namespaces exists.
lab_adopt() {
    local ns found=0
    for ns in "$LAB_CLIENT" "$LAB_GW" "$LAB_SERVER"; do
        [[ -e "/run/netns/$ns" ]] && found=1
    done
    ((found)) || { lab_log "lab: no lab with id $LAB_ID"; return 1; }
    _LAB_CREATED=1
}

# lab_ids: print the ids of the labs that exist on this machine, one per line.
lab_ids() {
    local path name
    for path in /run/netns/eb*-gw; do
        [[ -e "$path" ]] || continue
        name=${path##*/}
        name=${name#eb}
        printf '%s\n' "${name%-gw}"
    done
}

# lab_down: end leftover processes and delete the namespaces (which deletes their veths,
# routes and iptables/ip6tables/nftables rules). Safe to call at any time, never fails.
lab_down() {
    [[ "$_LAB_CREATED" == 1 ]] || return 0
    local ns
    for ns in "$LAB_CLIENT" "$LAB_GW" "$LAB_SERVER"; do
        lab_kill_procs "$ns"
        if [[ -e "/run/netns/$ns" ]]; then
            ip netns del "$ns" 2>/dev/null || lab_log "lab: could not delete namespace $ns"
        fi
    done
    _LAB_CREATED=0
    return 0
}

# lab_status: print the namespaces, addresses and how to enter them.
lab_status() {
    local ns
    printf 'lab %s\n' "$LAB_ID"
    printf '  client  ns %-16s %s, %s\n' "$LAB_CLIENT" "$LAB_CLIENT4" "$LAB_CLIENT6"
    printf '          listed sources  %s\n' "${LAB_LISTED4[*]} ${LAB_LISTED6[*]}"
    printf '          clean sources   %s\n' "${LAB_CLEAN4[*]} ${LAB_CLEAN6[*]}"
    printf '  gateway ns %-16s %s, %s (client side) / %s, %s (server side)\n' \
        "$LAB_GW" "$LAB_GW_CLIENT4" "$LAB_GW_CLIENT6" "$LAB_GW_SERVER4" "$LAB_GW_SERVER6"
    printf '  server  ns %-16s %s, %s\n' "$LAB_SERVER" "$LAB_SERVER4" "$LAB_SERVER6"
    for ns in "$LAB_CLIENT" "$LAB_GW" "$LAB_SERVER"; do
        if [[ -e "/run/netns/$ns" ]]; then
            printf '  %s: present\n' "$ns"
        else
            printf '  %s: absent\n' "$ns"
        fi
    done
}

# find_exitblock PACKAGE_ROOT: print the path of the exitblock binary: $EXITBLOCK if set,
# else the one in the package's build directory (debug, or release with
# EXITBLOCK_CONFIG=release), building it first (swift build) if it is missing.
find_exitblock() {
    local root=$1
    if [[ -n "${EXITBLOCK:-}" ]]; then
        if [[ ! -x "$EXITBLOCK" ]]; then
            lab_log "EXITBLOCK=$EXITBLOCK is not an executable file"
            return 1
        fi
        printf '%s\n' "$EXITBLOCK"
        return 0
    fi
    local config=${EXITBLOCK_CONFIG:-debug} bin_dir
    bin_dir=$(cd "$root" && timeout 120 swift build -c "$config" --show-bin-path) || {
        lab_log "could not ask swift for the build directory (is swift on PATH?)"
        return 1
    }
    if [[ ! -x "$bin_dir/exitblock" ]]; then
        lab_log "building exitblock ($config): swift build -c $config"
        (cd "$root" && swift build -c "$config" --product exitblock >&2) || {
            lab_log "swift build failed"
            return 1
        }
    fi
    printf '%s\n' "$bin_dir/exitblock"
}

# lab_test_cleanup RC NAME PID...: the end of a namespace test, called from its EXIT trap
# (needs lib/assert.sh). Prints the summary, kills the PIDs and waits for them, tears the lab
# down, shows the end of exitblock's stderr files (exitblock*.err, daemon-*.err in $workdir)
# when the test failed, and removes $workdir unless <NAME>_KEEP=1 (NAME in upper case, e.g.
# E2E_KEEP=1). Exits with RC, or 1 when an assertion failed.
lab_test_cleanup() {
    local rc=$1 name=$2
    shift 2
    set +e
    trap - INT TERM
    summarize_on_exit "$rc"
    local pid
    for pid in "$@"; do
        [[ -n "$pid" ]] || continue
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    lab_down
    ((${failed:-0} == 0)) || rc=1
    if [[ -n "${workdir:-}" && -d "$workdir" ]]; then
        if ((rc != 0)); then
            local file
            for file in "$workdir"/exitblock*.err "$workdir"/daemon-*.err; do
                [[ -s "$file" ]] || continue
                lab_log "--- $(basename "$file") (last 20 lines) ---"
                tail -n 20 "$file" >&2
            done
        fi
        local keep="${name^^}_KEEP"
        if [[ "${!keep:-0}" == 1 ]]; then
            lab_log "$name: work directory kept: $workdir"
        else
            rm -rf "$workdir"
        fi
    fi
    exit "$rc"
}

# traffic_server_start NAME: `traffic.py serve` in the server namespace on $PORT, its counts
# going to $workdir/NAME.json; waits until it listens. Sets server_pid. Needs the test's
# PYTHON, TRAFFIC, PORT and workdir, and lib/assert.sh (wait_for, not_running).
traffic_server_start() {
    local name=$1
    ip netns exec "$LAB_SERVER" "$PYTHON" "$TRAFFIC" serve --port "$PORT" --out "$workdir/$name.json" \
        --ready "$workdir/$name.ready" --deadline 300 2>"$workdir/$name.err" &
    server_pid=$!
    wait_for 10 "traffic server $name to listen" test -e "$workdir/$name.ready" || die "traffic server did not start"
}

# traffic_server_stop: SIGTERM the traffic server and wait (bounded) for it to write its counts.
traffic_server_stop() {
    kill -TERM "$server_pid"
    wait_for 5 "traffic server to exit" not_running "$server_pid" || die "traffic server did not exit"
    wait "$server_pid" || die "traffic server failed: $(cat "$workdir"/*.err)"
    server_pid=""
}

# lab_flood_prepare: for a raw flood from the client (scripts/bench/flood.c): sets client_mac
# and gw_client_mac (the flooder's --src-mac and --dst-mac), and puts permanent neighbour
# entries for the server on the gateway (no ARP/ND work or timing in the measured path).
lab_flood_prepare() {
    local server_mac
    # shellcheck disable=SC2034 # globals, for the caller's flooder
    client_mac=$(in_ns "$LAB_CLIENT" cat "/sys/class/net/$LAB_CLIENT_IF/address")
    # shellcheck disable=SC2034
    gw_client_mac=$(in_ns "$LAB_GW" cat "/sys/class/net/$LAB_GW_CLIENT_IF/address")
    server_mac=$(in_ns "$LAB_SERVER" cat "/sys/class/net/$LAB_SERVER_IF/address")
    in_ns "$LAB_GW" ip neigh replace "$LAB_SERVER4" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent
    in_ns "$LAB_GW" ip -6 neigh replace "$LAB_SERVER6" lladdr "$server_mac" dev "$LAB_GW_SERVER_IF" nud permanent
}

# lab_count_flood_udp: the server counts and drops the flood's UDP in raw PREROUTING, both
# families: rule 1 port 9001 (listed sources), rule 2 port 9000 (clean ones).
lab_count_flood_udp() {
    local t
    for t in iptables ip6tables; do
        in_ns "$LAB_SERVER" "$t" -w 5 -t raw -A PREROUTING -p udp --dport 9001 -j DROP
        in_ns "$LAB_SERVER" "$t" -w 5 -t raw -A PREROUTING -p udp --dport 9000 -j DROP
    done
}

# lab_flood_udp_counts: "listed4 clean4 listed6 clean6", the packets arrived so far (after
# lab_count_flood_udp).
lab_flood_udp_counts() {
    local t flood_counts=()
    for t in iptables ip6tables; do
        mapfile -t -O "${#flood_counts[@]}" flood_counts < <(in_ns "$LAB_SERVER" "$t" -w 5 -t raw -L PREROUTING -vnx | awk 'NR > 2 { print $1 }')
    done
    printf '%s %s %s %s\n' "${flood_counts[0]}" "${flood_counts[1]}" "${flood_counts[2]}" "${flood_counts[3]}"
}
