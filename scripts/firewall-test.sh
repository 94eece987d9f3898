#!/usr/bin/env bash
# scripts/firewall-test.sh: installing exitblock never weakens the operator's firewall.
#
# The lab gateway (lib/netns.sh) carries an operator's own firewall, in both families:
#   mangle FORWARD  a counting rule (op-mangle), before exitblock's jump
#   filter FORWARD  policy DROP;
#                   op-before: a counting rule, inserted first after `rules install`
#                   (before exitblock's reject jump, and before the old layout's jump);
#                   ESTABLISHED,RELATED ACCEPT; a DROP for one client address (op-drop,
#                   a clean source); op-count: a counting rule; ACCEPT for UDP port PORT only.
# Every round sends one packet per probe, per family, from the client to the server:
#   clean UDP to PORT (the operator accepts it), clean ping (the policy drops it),
#   op-drop UDP to PORT (the operator drops it), listed UDP to PORT (exitblock drops it,
#   although the operator would accept it), listed ping.
# and asserts what got through and each operator counter (client packets only), for:
#   both backends (iptables-legacy, iptables-nft), and on each:
#     packet mode with the daemon running (without, then with the drop and accept caches,
#     twice: the second round answered from the caches); flow mode running; --reject running (listed UDP
#     gets ICMP administratively prohibited); daemon stopped with --queue-bypass (fail
#     open: listed passes where the operator accepts, nothing else changes); daemon killed
#     with --no-queue-bypass (fail closed: every queued packet dropped);
#   the old layout (filter-table queue, jump first): the probes show the bug (the policy
#     skipped); `rules install` moves it to mangle in one restore input, the probes pass,
#     `rules show` warns no more; a mangle rule appended after the jump is warned about and
#     the next install moves the jump last; `rules remove` leaves both tables as before.
#   `rules show --nft` loaded with nft over the operator's iptables-nft rules. This kernel
#     has no nft_queue, so the queue statement is replaced by a chain that does what the
#     daemon's verdicts do (accept, drop listed, mark listed for reject) or what bypass does
#     (accept) — the property checked is nftables' (an accept in exitblock's base chain does
#     not stop the operator's), not the daemon's.
#
# Environment: EXITBLOCK (binary; built if unset), LAB_ID (default fw<pid>), FIREWALL_KEEP=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LAB_ID=${LAB_ID:-fw$$}
source "$root/scripts/lib/netns.sh"
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=firewall-test

PORT=5611
QUEUE=13
PYTHON=${PYTHON:-python3}
TRAFFIC="$root/scripts/traffic.py"
PROBE="$root/scripts/lib/reject_probe.py"
daemon_pid=""
server_pid=""
workdir=""

cleanup() { lab_test_cleanup "$?" firewall "$daemon_pid" "$server_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The probe sources: one of each kind per family (read through ${!name} in round).
# shellcheck disable=SC2034
CLEAN4=${LAB_CLEAN4[0]} CLEAN6=${LAB_CLEAN6[0]} OPDROP4=${LAB_CLEAN4[2]} OPDROP6=${LAB_CLEAN6[2]} \
    LISTED4=${LAB_LISTED4[0]} LISTED6=${LAB_LISTED6[0]}

rules() { gw "$exitblock" rules "$@"; }
server_for() { if [[ "$1" == *:* ]]; then printf '%s\n' "$LAB_SERVER6"; else printf '%s\n' "$LAB_SERVER4"; fi; }

# operator_up BACKEND: the operator's firewall, through iptables-BACKEND / ip6tables-BACKEND.
operator_up() {
    local backend=$1 tool opdrop
    for tool in "iptables-$backend" "ip6tables-$backend"; do
        if [[ $tool == ip6* ]]; then opdrop=$OPDROP6; else opdrop=$OPDROP4; fi
        gw "$tool" -w 5 -t mangle -A FORWARD -i "$LAB_GW_CLIENT_IF" -m comment --comment op-mangle
        gw "$tool" -w 5 -P FORWARD DROP
        gw "$tool" -w 5 -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        gw "$tool" -w 5 -A FORWARD -s "$opdrop" -m comment --comment op-drop -j DROP
        gw "$tool" -w 5 -A FORWARD -i "$LAB_GW_CLIENT_IF" -m comment --comment op-count
        gw "$tool" -w 5 -A FORWARD -p udp --dport "$PORT" -j ACCEPT
    done
}

# operator_before BACKEND: the counting rule that goes first in filter FORWARD (added after
# exitblock's rules, so it sits before them); idempotent.
operator_before() {
    local tool
    for tool in "iptables-$1" "ip6tables-$1"; do
        gw "$tool" -w 5 -D FORWARD -i "$LAB_GW_CLIENT_IF" -m comment --comment op-before 2>/dev/null || true
        gw "$tool" -w 5 -I FORWARD 1 -i "$LAB_GW_CLIENT_IF" -m comment --comment op-before
    done
}

# operator_down BACKEND: flush what operator_up and exitblock left (both tables, policy back).
operator_down() {
    local tool
    for tool in "iptables-$1" "ip6tables-$1"; do
        gw "$tool" -w 5 -F
        gw "$tool" -w 5 -X
        gw "$tool" -w 5 -P FORWARD ACCEPT
        gw "$tool" -w 5 -t mangle -F
        gw "$tool" -w 5 -t mangle -X
    done
}

# saved TOOL TABLE: the table without comment lines and with chain counters zeroed.
saved() { gw "$1" -t "$2" 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'; }

# counter TOOL TABLE COMMENT: packets counted by the operator's rule with that comment.
counter() {
    gw "$1" -w 5 -t "$2" -L FORWARD -v -n -x |
        awk -v c="/* $3 */" 'index($0, c) { print $1 + 0; found = 1 } END { if (!found) print "missing" }'
}

no_warning() { ! grep -q warning <<<"$1"; }

# zero_counters BACKEND: the counters to 0, and no conntrack entry left from an earlier
# round (a probe whose tuple an earlier, answered probe had would be ESTABLISHED and skip
# op-count).
zero_counters() {
    local tool
    for tool in "iptables-$1" "ip6tables-$1"; do
        gw "$tool" -w 5 -Z FORWARD
        gw "$tool" -w 5 -t mangle -Z FORWARD
    done
    gw conntrack -F >/dev/null 2>&1 || true
}

# start_exitblock TAG ARGS...: exitblock run on QUEUE with the list, waits for "ready".
start_exitblock() {
    local tag=$1
    shift
    start_daemon "$workdir/daemon-$tag" -- --queue "$QUEUE" --list "$workdir/exits.list" --no-stats-socket \
        --no-cache "$@" || die "exitblock ($tag) did not start: $(tail -5 "$workdir/daemon-$tag.err")"
}


# probe NAME KIND SRC: one packet from SRC (udp: reject_probe.py to PORT; ping: one echo
# request); the answer goes to NAME.out (reply / timeout / icmp ... for udp; reply / timeout).
probe() {
    local name=$1 kind=$2 src=$3 dst
    dst=$(server_for "$src")
    if [[ $kind == udp ]]; then
        in_ns "$LAB_CLIENT" "$PYTHON" "$PROBE" udp --src "$src" --dst "$dst" --port "$PORT" --timeout 0.8 \
            >"$workdir/$name.out" 2>&1 || echo "probe failed" >>"$workdir/$name.out"
    else
        if in_ns "$LAB_CLIENT" ping -n -q -c 1 -W 1 -I "$src" "$dst" >/dev/null 2>&1; then
            echo reply >"$workdir/$name.out"
        else
            echo timeout >"$workdir/$name.out"
        fi
    fi
}

# round LABEL BACKEND LISTED_UDP BEFORE_SEES COUNT_SEES: the probes of both families, in
# parallel, then the checks. LISTED_UDP: what the listed UDP probe gets (reply, timeout,
# icmp); BEFORE_SEES / COUNT_SEES: how many of the 5 probe packets per family op-before /
# op-count count (op-mangle always counts all 5, as exitblock comes after it). Without
# exitblock that is 5 / 4: op-count comes after the operator's own DROP.
round() {
    local label=$1 backend=$2 listed_udp=$3 before_sees=$4 filter_sees=$5 fam pids=() pid
    zero_counters "$backend"
    for fam in 4 6; do
        local clean=CLEAN$fam opdrop=OPDROP$fam listed=LISTED$fam
        probe "$fam-clean-udp" udp "${!clean}" &
        pids+=("$!")
        probe "$fam-clean-ping" ping "${!clean}" &
        pids+=("$!")
        probe "$fam-opdrop-udp" udp "${!opdrop}" &
        pids+=("$!")
        probe "$fam-listed-udp" udp "${!listed}" &
        pids+=("$!")
        probe "$fam-listed-ping" ping "${!listed}" &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    local clean_udp=reply
    [[ $before_sees == 0 ]] && clean_udp=timeout
    for fam in 4 6; do
        local tool=iptables-$backend
        [[ $fam == 6 ]] && tool=ip6tables-$backend
        check_eq "$label IPv$fam: clean UDP to the allowed port" "$clean_udp" "$(cat "$workdir/$fam-clean-udp.out")"
        check_eq "$label IPv$fam: clean ping (policy DROP)" timeout "$(cat "$workdir/$fam-clean-ping.out")"
        check_eq "$label IPv$fam: the operator's DROP for ${!opdrop}" timeout "$(cat "$workdir/$fam-opdrop-udp.out")"
        if [[ $listed_udp == icmp ]]; then
            check "$label IPv$fam: listed UDP rejected with ICMP administratively prohibited" \
                grep -Eq '^icmp type=(3 code=13|1 code=1) ' "$workdir/$fam-listed-udp.out"
        else
            check_eq "$label IPv$fam: listed UDP to the allowed port" "$listed_udp" "$(cat "$workdir/$fam-listed-udp.out")"
        fi
        check_eq "$label IPv$fam: listed ping" timeout "$(cat "$workdir/$fam-listed-ping.out")"
        check_eq "$label IPv$fam: op-mangle (mangle, before exitblock) counted every probe" 5 \
            "$(counter "$tool" mangle op-mangle)"
        check_eq "$label IPv$fam: op-before (filter, first) counter" "$before_sees" "$(counter "$tool" filter op-before)"
        check_eq "$label IPv$fam: op-count (filter, after) counter" "$filter_sees" "$(counter "$tool" filter op-count)"
    done
}

# ---------------------------------------------------------------------------------------
(($(id -u) == 0)) || die "must run as root (network namespaces, iptables)"
for tool in ip iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft iptables-legacy-save iptables-nft-save \
    ip6tables-legacy-save ip6tables-nft-save nft ping awk "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-firewall-test.XXXXXX")
log "firewall-test: exitblock = $exitblock"
lab_up || die "lab setup failed"
printf '%s\n' "${LAB_LISTED4[@]}" "${LAB_LISTED6[@]}" >"$workdir/exits.list"
traffic_server_start server

for backend in legacy nft; do
    log ""
    log "== backend $backend"
    operator_up "$backend"
    operator_before "$backend"
    round "$backend, no exitblock" "$backend" reply 5 4
    before_mangle4=$(saved "iptables-$backend-save" mangle)
    before_filter4=$(saved "iptables-$backend-save" filter)
    before_mangle6=$(saved "ip6tables-$backend-save" mangle)
    before_filter6=$(saved "ip6tables-$backend-save" filter)

    # The old layout, as `rules install` made it before: it skips the operator's filter rules.
    for tool in "iptables-$backend" "ip6tables-$backend"; do
        gw "$tool" -w 5 -N EXITBLOCK
        gw "$tool" -w 5 -A EXITBLOCK -j NFQUEUE --queue-num "$QUEUE" --queue-bypass
        gw "$tool" -w 5 -I FORWARD 2 -j EXITBLOCK
    done
    start_exitblock "old-$backend"
    zero_counters "$backend"
    probe old-ping ping "$CLEAN4"
    check_eq "$backend, old layout (control): the daemon's accept skips the operator's policy DROP" reply \
        "$(cat "$workdir/old-ping.out")"
    check_eq "$backend, old layout (control): op-count never saw the ping" 0 \
        "$(counter "iptables-$backend" filter op-count)"
    check "$backend, old layout: rules show warns about it" \
        grep -q "warning: old layout" <(rules show --backend "$backend" --queue "$QUEUE" 2>&1 || true)
    # --no-drop-cache here and in flow mode: the cache's first packet per listed address
    # passes op-before on its way to the filter chain (docs/operator-guide.md, Drop cache); scripts/cache-test.sh
    # tests the cache.
    rules install --backend "$backend" --queue "$QUEUE" --no-drop-cache >"$workdir/upgrade.out" 2>&1 ||
        die "rules install over the old layout failed: $(cat "$workdir/upgrade.out")"
    check "$backend, upgrade: install says the old layout is gone (both families)" \
        test "$(grep -c 'the old layout (queue in the filter table) is gone' "$workdir/upgrade.out")" -eq 2
    check_eq "$backend, upgrade: the filter table is the operator's again (IPv4)" "$before_filter4" \
        "$(saved "iptables-$backend-save" filter)"
    check_eq "$backend, upgrade: the filter table is the operator's again (IPv6)" "$before_filter6" \
        "$(saved "ip6tables-$backend-save" filter)"
    check "$backend, upgrade: the mangle jump is FORWARD's last rule" \
        test "$(saved "iptables-$backend-save" mangle | grep -- '^-A FORWARD' | tail -1)" == "-A FORWARD -j EXITBLOCK"
    shown=$(rules show --backend "$backend" --queue "$QUEUE")
    check "$backend: show says where it sits (mangle FORWARD, priority -150, last)" \
        grep -q "^# where: mangle FORWARD (hook forward, priority -150): the jump to EXITBLOCK is rule 2 of 2" <<<"$shown"
    check "$backend: show has no warning" no_warning "$shown"
    check "$backend: show lists the plan (# where lines aside)" \
        diff -u <("$exitblock" rules show --dry-run --queue "$QUEUE" --no-drop-cache) <(grep -v '^# where' <<<"$shown")
    round "$backend, packet mode, running" "$backend" timeout 3 2
    stop_daemon

    # A mangle rule the operator appends after exitblock's jump: show warns, install moves the jump last.
    gw "iptables-$backend" -w 5 -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    check "$backend: show warns about a mangle rule after the jump" \
        grep -q "warning: 1 rule(s) after it in mangle FORWARD" <(rules show --backend "$backend" --queue "$QUEUE")
    rules install --backend "$backend" --queue "$QUEUE" >/dev/null
    check "$backend: install again moves the mangle jump last" \
        test "$(saved "iptables-$backend-save" mangle | grep -- '^-A FORWARD' | tail -1)" == "-A FORWARD -j EXITBLOCK"
    check "$backend: the operator's TCPMSS rule stays, before the jump" \
        grep -q -- '-j TCPMSS --clamp-mss-to-pmtu' <(saved "iptables-$backend-save" mangle)
    gw "iptables-$backend" -w 5 -t mangle -D FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu

    # rules install's default: the drop and accept caches on. The second round is answered
    # from the caches (entries of the first); the operator's counters must not change.
    log "-- $backend: packet mode, drop and accept caches on"
    start_exitblock "caches-$backend"
    round "$backend, packet mode, caches on" "$backend" timeout 3 2
    round "$backend, packet mode, caches on, answered from the caches" "$backend" timeout 3 2
    stop_daemon

    log "-- $backend: daemon stopped, --queue-bypass (fail open)"
    round "$backend, stopped with bypass" "$backend" reply 5 4

    log "-- $backend: flow mode"
    rules install --backend "$backend" --queue "$QUEUE" --mode flow --no-drop-cache >/dev/null
    operator_before "$backend"
    start_exitblock "flow-$backend" --mode flow
    round "$backend, flow mode, running" "$backend" timeout 3 2
    stop_daemon

    log "-- $backend: reject"
    rules install --backend "$backend" --queue "$QUEUE" --reject >/dev/null
    operator_before "$backend"
    check "$backend, reject: the filter jump to the reject chain is FORWARD's second rule, after op-before" \
        test "$(saved "iptables-$backend-save" filter | grep -- '^-A FORWARD' | sed -n 2p)" == "-A FORWARD -j EXITBLOCK"
    start_exitblock "reject-$backend" --reject
    round "$backend, reject, running" "$backend" icmp 5 2
    stop_daemon

    log "-- $backend: daemon killed, --no-queue-bypass (fail closed)"
    rules install --backend "$backend" --queue "$QUEUE" --no-queue-bypass >/dev/null
    start_exitblock "closed-$backend"
    kill_daemon
    round "$backend, killed without bypass" "$backend" timeout 0 0

    rules remove --backend "$backend" >"$workdir/remove.out" 2>&1 || die "rules remove failed: $(cat "$workdir/remove.out")"
    check "$backend, remove: says which tables" grep -q "removed EXITBLOCK from mangle" "$workdir/remove.out"
    check_eq "$backend, remove: mangle as before (IPv4)" "$before_mangle4" "$(saved "iptables-$backend-save" mangle)"
    check_eq "$backend, remove: filter as before (IPv4)" "$before_filter4" "$(saved "iptables-$backend-save" filter)"
    check_eq "$backend, remove: mangle as before (IPv6)" "$before_mangle6" "$(saved "ip6tables-$backend-save" mangle)"
    check_eq "$backend, remove: filter as before (IPv6)" "$before_filter6" "$(saved "ip6tables-$backend-save" filter)"
    round "$backend, removed" "$backend" reply 5 4
    [[ $backend == nft ]] || operator_down "$backend"
done

# ---------------------------------------------------------------------------------------
log ""
log "== rules show --nft over the operator's iptables-nft rules"
# daemon_chain VERDICT: the chain that stands in for the queue statement (nft_queue is
# missing here): VERDICT for the listed sources, accept for the rest.
daemon_chain() {
    printf '\tchain daemon {\n\t\tip saddr %s %s\n\t\tip6 saddr %s %s\n\t\taccept\n\t}\n' \
        "$LISTED4" "$1" "$LISTED6" "$1"
}
nft_round() {
    local label=$1 verdict=$2 listed_udp=$3 before_sees=$4 filter_sees=$5
    shift 5
    "$exitblock" rules show --nft --queue "$QUEUE" "$@" >"$workdir/exitblock.nft"
    # The stand-in chain goes first in the table body: a jump needs its chain declared.
    daemon_chain "$verdict" >"$workdir/daemon.nft"
    sed -E -e 's/queue num [0-9-]+( [a-z,]+)?$/jump daemon/' \
        -e "/^table inet exitblock \\{\$/r $workdir/daemon.nft" "$workdir/exitblock.nft" >"$workdir/loaded.nft"
    gw nft -f "$workdir/loaded.nft" || die "nft -f of the rendered ruleset failed"
    round "nft ruleset, $label" nft "$listed_udp" "$before_sees" "$filter_sees"
}
nft_round "accepting (running, or bypass)" accept reply 5 4
nft_round "dropping listed" drop timeout 3 2
# The reject chain (priority mangle + 2) rejects before the operator's filter chain.
nft_round "marking listed for reject" "meta mark set 0x4542 accept" icmp 3 2 --reject
nft_round "flow mode, dropping listed" drop timeout 3 2 --mode flow
check "nft ruleset: exitblock's base chains are at priority mangle + 1, policy accept" \
    grep -q 'type filter hook forward priority mangle + 1; policy accept;' "$workdir/exitblock.nft"
gw nft delete table inet exitblock
round "nft ruleset removed" nft reply 5 4
operator_down nft

traffic_server_stop
summary
((failed == 0))
