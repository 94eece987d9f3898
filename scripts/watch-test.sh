#!/usr/bin/env bash
# scripts/watch-test.sh: the rule watch on a three-namespace lab (client - gateway - server,
# see lib/netns.sh), IPv4 and IPv6, with the rules of `exitblock rules install` (defaults:
# both caches, queue bypass) through iptables-legacy and iptables-nft, and real pings.
# Needs root; no network beyond the lab.
#
# Per backend, the daemon running with a stats socket:
#   start     nothing installed: --watch-rules on answers 503 (chain missing); --restore-rules
#             installs the layout through the config file's [rules] backend.
#   intact    after start, exitblock_rules_intact is 1 for both families, /healthz 200.
#   flush     `iptables -t mangle -F` (and ip6tables): within 1 s /healthz answers 503 naming
#             the missing jump, exitblock_rules_intact reads 0 for both families, the log says
#             "layout broken"; a second `rules install` by hand brings health back within 1 s.
#   jump      the FORWARD jump alone deleted: 503 within 1 s; back after `rules install`.
#   changed   the NFQUEUE rule replaced by one to another queue: 503 "changed" within 1 s.
#   restore   with --restore-rules, a flush of mangle is put back within 1 s by the daemon
#             (exitblock_rules_restores_total 2: one per family), /healthz 200 again, and
#             listed pings are dropped again.
#   user      run --user nobody (CAP_NET_ADMIN only, as the packaged unit): a flush is seen
#             within 1 s as well (the legacy table names are read from files opened as root).
#   flow      rules install --mode flow (its chain starts with a RETURN of packets that are
#             not NEW): --watch-rules on finds it intact, listed pings dropped, clean ones pass.
#
# Ends with `watch: N passed, M failed`; exits non-zero if anything failed.
# Environment: EXITBLOCK (binary; default the debug build), WATCH_QUEUE (default 17),
# WATCH_BACKENDS (default "legacy nft"), WATCH_LIMIT_MS (default 1000), WATCH_KEEP=1 keeps
# the work directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_ID=${LAB_ID:-rw$$}
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"
ASSERT_NAME=watch

QUEUE=${WATCH_QUEUE:-17}
BACKENDS=${WATCH_BACKENDS:-legacy nft}
LIMIT_MS=${WATCH_LIMIT_MS:-1000}

daemon_pid=""
flood_pid=""
workdir=""
sock=""

cleanup() { lab_test_cleanup "$?" watch "$daemon_pid" "$flood_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gw() { in_ns "$LAB_GW" "$@"; }

now_ms() { date +%s%3N; }

# within_ms LIMIT WHAT CMD...: polls CMD every 20 ms for up to 3 s; passes when it succeeded
# within LIMIT ms (the time taken is in the message).
within_ms() {
    local limit=$1 what=$2 start elapsed
    shift 2
    start=$(now_ms)
    while ! "$@" >/dev/null 2>&1; do
        if (($(now_ms) - start > 3000)); then
            fail "$what: not within 3 s"
            return 0
        fi
        sleep 0.02
    done
    elapsed=$(($(now_ms) - start))
    if ((elapsed <= limit)); then pass "$what (${elapsed} ms)"; else fail "$what: took ${elapsed} ms (limit ${limit})"; fi
}

health() { curl -sS --max-time 2 --unix-socket "$sock" http://localhost/healthz; }
healthy() { [[ "$(health)" == ok ]]; }
unhealthy_with() { health | grep -q "$1"; }
intact() { metric "exitblock_rules_intact{family=\"$1\"}"; }
both_broken() { [[ "$(intact ipv4)" == 0 && "$(intact ipv6)" == 0 ]]; }
restored() { [[ "$(metric exitblock_rules_restores_total)" == "$1" ]] && healthy; }

# pings SRC DST: ping replies received (3 sent, 0.2 s apart).
pings() {
    local family=-4
    [[ "$1" == *:* ]] && family=-6
    in_ns "$LAB_CLIENT" ping "$family" -n -c 3 -i 0.2 -W 1 -I "$1" "$2" 2>/dev/null |
        awk '/packets transmitted/ { print $4; found = 1 } END { if (!found) print 0 }'
}

install() {
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" >"$workdir/install.out" 2>&1 ||
        die "rules install failed: $(cat "$workdir/install.out")"
}

flush_mangle() {
    gw "iptables-$backend" -w 5 -t mangle -F
    gw "ip6tables-$backend" -w 5 -t mangle -F
}

(($(id -u) == 0)) || die "must run as root (network namespaces, iptables, ipset)"
for tool in ip ipset ping curl; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-watch.XXXXXX")
log "watch: exitblock = $exitblock, lab $LAB_ID, queue $QUEUE"
printf '%s\n' "${LAB_LISTED4[0]}" "${LAB_LISTED6[0]}" >"$workdir/exits.list"

for backend in $BACKENDS; do
    lab_down
    lab_up || die "lab setup failed"
    log ""
    log "== backend $backend"
    # Nothing installed yet: --watch-rules on calls it unhealthy; --restore-rules installs it
    # (through the [rules] table's backend).
    sock="$workdir/$backend.sock"
    printf '[run]\nqueue = ["%s"]\n[rules]\nbackend = "%s"\n' "$QUEUE" "$backend" >"$workdir/$backend.toml"
    start_daemon "$workdir/exitblock-$backend-on" -- --config "$workdir/$backend.toml" --list "$workdir/exits.list" \
        --stats-socket "$sock" --no-cache --watch-rules on || die "$backend: exitblock --watch-rules on did not start"
    within_ms 3000 "$backend: on, nothing installed: /healthz 503 (mangle table or chain missing)" \
        unhealthy_with "ipv6 mangle .*is missing"
    stop_daemon "$backend: --watch-rules on daemon"
    start_daemon "$workdir/exitblock-$backend-start" -- --config "$workdir/$backend.toml" --list "$workdir/exits.list" \
        --stats-socket "$sock" --no-cache --restore-rules || die "$backend: exitblock --restore-rules did not start"
    within_ms 3000 "$backend: --restore-rules, nothing installed: the daemon installs both families" restored 2
    check "$backend: the layout is in $backend's tables" bash -c \
        "ip netns exec '$LAB_GW' 'iptables-$backend-save' -t mangle | grep -q -- '-A FORWARD -j EXITBLOCK'"
    stop_daemon "$backend: --restore-rules daemon at start"
    install
    start_daemon "$workdir/exitblock-$backend" -- --queue "$QUEUE" --list "$workdir/exits.list" \
        --stats-socket "$sock" --no-cache || die "$backend: exitblock did not start"
    wait_for 5 "the watch's first look" healthy || true
    check_eq "$backend: intact: /healthz" ok "$(health)"
    check_eq "$backend: intact: exitblock_rules_intact ipv4" 1 "$(intact ipv4)"
    check_eq "$backend: intact: exitblock_rules_intact ipv6" 1 "$(intact ipv6)"
    check_eq "$backend: a listed IPv4 source is blocked" 0 "$(pings "${LAB_LISTED4[0]}" "$LAB_SERVER4")"

    flush_mangle
    within_ms "$LIMIT_MS" "$backend: flush: /healthz 503 naming the missing jump" unhealthy_with "FORWARD has no jump"
    # The ipv6 flush comes after the ipv4 one that made /healthz 503: wait for its check too.
    within_ms "$LIMIT_MS" "$backend: flush: exitblock_rules_intact 0 for both families" both_broken
    check "$backend: flush: the log says what is missing" grep -q "layout broken: ipv4 mangle FORWARD has no jump" \
        "$workdir/exitblock-$backend.err"
    "$exitblock" stats --socket "$sock" --interval 0 >"$workdir/stats.out" 2>&1 || true
    check "$backend: flush: exitblock stats says UNHEALTHY: rules" grep -q "UNHEALTHY: rules:" "$workdir/stats.out"
    check "$backend: flush: exitblock stats' rules line says BROKEN" grep -q "^rules: ipv4 BROKEN" "$workdir/stats.out"
    install
    within_ms "$LIMIT_MS" "$backend: rules install by hand: /healthz 200 again" healthy

    gw "iptables-$backend" -w 5 -t mangle -D FORWARD -j EXITBLOCK
    within_ms "$LIMIT_MS" "$backend: jump deleted: /healthz 503" unhealthy_with "ipv4 mangle FORWARD has no jump"
    install
    within_ms "$LIMIT_MS" "$backend: jump back: /healthz 200" healthy

    rule=$(gw "ip6tables-$backend-save" -t mangle | grep -n '^-A EXITBLOCK' | grep -c NFQUEUE || true)
    last=$(gw "ip6tables-$backend-save" -t mangle | grep -c '^-A EXITBLOCK')
    check_eq "$backend: one NFQUEUE rule in the ipv6 chain" 1 "$rule"
    gw "ip6tables-$backend" -w 5 -t mangle -R EXITBLOCK "$last" -j NFQUEUE --queue-num 99
    within_ms "$LIMIT_MS" "$backend: queue rule changed: /healthz 503 'changed'" unhealthy_with "ipv6 mangle chain EXITBLOCK changed"
    check_eq "$backend: changed: ipv4 still intact" 1 "$(intact ipv4)"
    install
    within_ms "$LIMIT_MS" "$backend: changed back: /healthz 200" healthy
    stop_daemon "$backend: watching daemon"

    start_daemon "$workdir/exitblock-$backend-restore" -- --queue "$QUEUE" --list "$workdir/exits.list" \
        --stats-socket "$sock" --no-cache --restore-rules || die "$backend: exitblock --restore-rules did not start"
    wait_for 5 "the watch's first look" healthy || true
    # 100 pings/s from a listed source through the flush: what passes is the gap the restore
    # leaves open (the flush at 1 s; nothing may pass before it).
    in_ns "$LAB_CLIENT" ping -4 -n -c 300 -i 0.01 -W 1 -I "${LAB_LISTED4[0]}" "$LAB_SERVER4" \
        >"$workdir/flood-$backend.out" 2>&1 &
    flood_pid=$!
    sleep 1
    flush_mangle
    within_ms "$LIMIT_MS" "$backend: restore: the daemon put both families back" restored 2
    wait "$flood_pid" || true
    delivered=$(awk '/packets transmitted/ { print $4 }' "$workdir/flood-$backend.out")
    log "$backend: restore: listed pings delivered through the flush: ${delivered:-?} of 300 (100/s)"
    check "$backend: restore: under 100 listed pings (1 s at 100/s) delivered through the flush" \
        test "${delivered:-999}" -lt 100
    check_eq "$backend: restore: exitblock_rules_breaks_total" 2 "$(metric exitblock_rules_breaks_total)"
    check "$backend: restore: the log says restored" grep -q "ipv4 (iptables-$backend) layout restored" \
        "$workdir/exitblock-$backend-restore.err"
    check_eq "$backend: restore: a listed IPv4 source is blocked again" 0 "$(pings "${LAB_LISTED4[0]}" "$LAB_SERVER4")"
    check_eq "$backend: restore: a listed IPv6 source is blocked again" 0 "$(pings "${LAB_LISTED6[0]}" "$LAB_SERVER6")"
    check_eq "$backend: restore: a clean source passes" 3 "$(pings "${LAB_CLEAN4[0]}" "$LAB_SERVER4")"
    stop_daemon "$backend: restoring daemon"

    # As the packaged unit runs it: another user, CAP_NET_ADMIN only.
    chmod 755 "$workdir"
    chmod 644 "$workdir/exits.list"
    start_daemon "$workdir/exitblock-$backend-user" -- --queue "$QUEUE" --list "$workdir/exits.list" \
        --stats-socket "$sock" --no-cache --user nobody || die "$backend: exitblock --user nobody did not start"
    wait_for 5 "the watch's first look" healthy || true
    check_eq "$backend: --user nobody: exitblock_rules_intact ipv4" 1 "$(intact ipv4)"
    flush_mangle
    within_ms "$LIMIT_MS" "$backend: --user nobody: flush: /healthz 503" unhealthy_with "ipv4 mangle FORWARD has no jump"
    install
    within_ms "$LIMIT_MS" "$backend: --user nobody: rules install by hand: /healthz 200" healthy
    stop_daemon "$backend: daemon as nobody"

    # Flow mode's chain starts with a RETURN of every packet that is not NEW: read as RETURN
    # from both backends' tables (iptables-legacy stores it as XT_RETURN), so it is intact.
    gw "$exitblock" rules install --backend "$backend" --queue "$QUEUE" --mode flow >"$workdir/install.out" 2>&1 ||
        die "rules install --mode flow failed: $(cat "$workdir/install.out")"
    start_daemon "$workdir/exitblock-$backend-flow" -- --queue "$QUEUE" --mode flow --list "$workdir/exits.list" \
        --stats-socket "$sock" --no-cache --watch-rules on || die "$backend: exitblock --mode flow did not start"
    within_ms 3000 "$backend: flow: /healthz 200 (the layout with its RETURN rule is intact)" healthy
    check_eq "$backend: flow: exitblock_rules_intact ipv4" 1 "$(intact ipv4)"
    check_eq "$backend: flow: exitblock_rules_intact ipv6" 1 "$(intact ipv6)"
    check_eq "$backend: flow: a listed IPv4 source is blocked" 0 "$(pings "${LAB_LISTED4[0]}" "$LAB_SERVER4")"
    check_eq "$backend: flow: a clean source passes" 3 "$(pings "${LAB_CLEAN4[0]}" "$LAB_SERVER4")"
    stop_daemon "$backend: flow-mode daemon"
    install
done

summary
