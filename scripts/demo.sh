#!/usr/bin/env bash
# scripts/demo.sh: see exitblock work, on this machine, in under a minute (once built).
#
# Installs the Debian packages it needs when missing (scripts/lib/deps.sh; apt-get as root),
# builds exitblock if needed (scripts/lib/release.sh: release, static Swift runtime), makes a
# throwaway lab of three network namespaces (client - gateway - server, see lib/netns.sh),
# runs exitblock in the gateway behind an NFQUEUE rule with a small built-in list of "exit"
# addresses, and shows traffic from a clean client address passing and from a listed one
# being dropped, for IPv4 and IPv6. Then stops exitblock and prints its counters. Removes
# everything on exit.
# Needs root. No traffic leaves the lab.
#
# Environment: EXITBLOCK (the binary; default the static release build in .build-release,
# built when needed), DEMO_QUEUE (default 0).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/deps.sh
source "$root/scripts/lib/deps.sh"
# shellcheck source=lib/release.sh
source "$root/scripts/lib/release.sh"

QUEUE=${DEMO_QUEUE:-0}
PORT=5599
PYTHON=${PYTHON:-python3}
TRAFFIC="$root/scripts/traffic.py"
daemon_pid=""
server_pid=""
workdir=""

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() {
    printf 'demo: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$? pid
    set +e
    trap - INT TERM
    for pid in "$daemon_pid" "$server_pid"; do
        [[ -n "$pid" ]] || continue
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    lab_down
    if ((rc != 0)) && [[ -n "$workdir" && -s "$workdir/exitblock.err" ]]; then
        say "--- exitblock said (stderr) ---"
        tail -n 20 "$workdir/exitblock.err"
    fi
    [[ -n "$workdir" ]] && rm -rf "$workdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

not_running() { ! kill -0 "$1" 2>/dev/null; }

ensure_deps demo || die "the Debian packages it needs are missing (see above)"
(($(id -u) == 0)) || die "must run as root (it makes network namespaces): sudo $0"
for tool in ip iptables ip6tables ping timeout "$PYTHON"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

if [[ -z "${EXITBLOCK:-}" ]]; then
    # The binary scripts/package.sh packages (static Swift runtime, .build-release).
    say "building exitblock (release, as scripts/package.sh does; the first build takes minutes)"
    release_build "$root" --product exitblock >&2 || die "swift build failed"
    EXITBLOCK="$(release_build "$root" --show-bin-path)/exitblock"
fi
exitblock=$(find_exitblock "$root") || die "no exitblock binary"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-demo.XXXXXX")

step "A lab: client -> gateway -> server, in network namespaces of their own"
lab_up || die "lab setup failed"
say "client  $LAB_CLIENT  sources: clean ${LAB_CLEAN4[0]} ${LAB_CLEAN6[0]}, listed ${LAB_LISTED4[0]} ${LAB_LISTED6[0]}"
say "gateway $LAB_GW   forwards both families; exitblock runs here"
say "server  $LAB_SERVER  $LAB_SERVER4, $LAB_SERVER6 (UDP and TCP echo on port $PORT)"

list="$workdir/demo-exits.list"
cat >"$list" <<EOF
# exitblock demo list: the lab client's "exit" addresses, and a few more entries.
${LAB_LISTED4[0]}
${LAB_LISTED4[1]}
${LAB_LISTED6[0]}
${LAB_LISTED6[1]}
198.51.100.12/31
2001:db8:bad::12/127
192.0.2.128/25
2001:db8:dead::/48
EOF

step "Start exitblock in the gateway, then queue forwarded traffic to it"
say "\$ exitblock run --queue $QUEUE --list demo-exits.list    # the list:"
grep -v '^#' "$list" | tr '\n' ' ' | sed 's/^/  /'
say ""
ip netns exec "$LAB_GW" "$exitblock" run --queue "$QUEUE" --list "$list" --no-cache \
    >"$workdir/exitblock.out" 2>"$workdir/exitblock.err" </dev/null &
daemon_pid=$!
ready_or_dead() { grep -q ready "$workdir/exitblock.err" || not_running "$daemon_pid"; }
wait_for 30 "exitblock to print ready" ready_or_dead || true
if ! grep -q ready "$workdir/exitblock.err" || not_running "$daemon_pid"; then
    die "exitblock did not start"
fi
say "  $(grep -m1 ready "$workdir/exitblock.err")"
for tool in iptables ip6tables; do
    say "\$ $tool -t mangle -A FORWARD -j NFQUEUE --queue-num $QUEUE    # the bare queue rule; exitblock rules install puts it in a chain with the verdict caches"
    in_ns "$LAB_GW" "$tool" -w 5 -t mangle -A FORWARD -j NFQUEUE --queue-num "$QUEUE"
done

ip netns exec "$LAB_SERVER" "$PYTHON" "$TRAFFIC" serve --port "$PORT" --out "$workdir/server.json" \
    --ready "$workdir/server.ready" --deadline 120 2>"$workdir/server.err" &
server_pid=$!
wait_for 10 "the echo server to listen" test -e "$workdir/server.ready" || die "echo server did not start"

surprises=0
# try SRC DST KIND: ping, then UDP + TCP, from SRC; KIND is clean (must pass) or listed.
try() {
    local src=$1 dst=$2 kind=$3 ping_out sent received traffic
    ping_out=$(in_ns "$LAB_CLIENT" timeout 10 ping -n -q -c 3 -i 0.2 -W 1 -I "$src" "$dst" 2>&1 || true)
    read -r sent received < <(awk '/packets transmitted/ { print $1, $4 }' <<<"$ping_out")
    traffic=$(in_ns "$LAB_CLIENT" timeout 20 "$PYTHON" "$TRAFFIC" send --src "$src" --dst "$dst" --port "$PORT" \
        --count 3 --timeout 0.5 --text)
    local verdict
    if [[ "$kind" == clean ]]; then
        verdict="passes, as it should"
        if [[ "${received:-0}" != 3 || "$traffic" != "UDP 3/3 datagrams echoed, TCP 3/3 connections made (3 echoed)" ]]; then
            verdict="UNEXPECTED: should have passed"
            surprises=$((surprises + 1))
        fi
    else
        verdict="blocked, as it should be"
        if [[ "${received:-0}" != 0 || "$traffic" != "UDP 0/3 datagrams echoed, TCP 0/3 connections made (0 echoed)" ]]; then
            verdict="UNEXPECTED: should have been blocked"
            surprises=$((surprises + 1))
        fi
    fi
    say "$kind source $src -> $dst: $verdict"
    say "    ping: ${received:-0}/${sent:-0} replies; $traffic"
}

step "Traffic from clean and listed client addresses"
try "${LAB_CLEAN4[0]}" "$LAB_SERVER4" clean
try "${LAB_LISTED4[0]}" "$LAB_SERVER4" listed
try "${LAB_CLEAN6[0]}" "$LAB_SERVER6" clean
try "${LAB_LISTED6[0]}" "$LAB_SERVER6" listed

step "Stop exitblock (SIGTERM): it unbinds and prints its counters"
kill -TERM "$daemon_pid"
wait_for 10 "exitblock to exit" not_running "$daemon_pid" || die "exitblock did not stop within 10 s"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
cat "$workdir/exitblock.out"
((rc == 0)) || die "exitblock exited with status $rc"
say "(packets count both directions: requests and the server's replies cross the gateway)"
kill -TERM "$server_pid"
if wait_for 5 "the echo server to exit" not_running "$server_pid" && wait "$server_pid"; then
    server_pid=""
    say "the server heard from: $("$PYTHON" -c '
import json, sys
counts = json.load(open(sys.argv[1]))
udp, tcp = counts["udp"], counts["tcp"]
heard = [f"{s} ({udp.get(s, 0)} UDP, {tcp.get(s, 0)} TCP)" for s in sorted(set(udp) | set(tcp))]
print(", ".join(heard) or "nobody")
' "$workdir/server.json")"
fi

if ((surprises == 0)); then
    step "demo: clean sources passed, listed sources were dropped, IPv4 and IPv6"
else
    step "demo: $surprises unexpected result(s), see above"
    exit 1
fi
