#!/usr/bin/env bash
# scripts/lab.sh: the exitblock test lab (lib/netns.sh) for manual experiments.
#
#   scripts/lab.sh up [ID]       create a lab (ID defaults to this shell's pid) and print it
#   scripts/lab.sh status [ID]   print a lab's namespaces and addresses
#   scripts/lab.sh down [ID]     end its processes and delete its namespaces (and rules)
#   scripts/lab.sh list          print the ids of the labs present
#
# status and down may omit ID when exactly one lab exists. Needs root.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"

usage() {
    sed -n '3,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

die() {
    printf 'lab: %s\n' "$*" >&2
    exit 1
}

# pick_id [ID]: use ID, or the only lab present.
pick_id() {
    if [[ -n "${1:-}" ]]; then
        lab_set_id "$1" || exit 2
        return
    fi
    local ids
    mapfile -t ids < <(lab_ids)
    case ${#ids[@]} in
    0) die "no lab present (scripts/lab.sh up creates one)" ;;
    1) lab_set_id "${ids[0]}" ;;
    *) die "several labs present (${ids[*]}): name one" ;;
    esac
}

# Removes a half-made lab if `up` fails or is interrupted; disarmed once it succeeded.
cleanup() {
    local rc=$?
    trap - INT TERM
    if [[ "$keep" != 1 ]]; then
        lab_down
    fi
    exit "$rc"
}

keep=1
cmd=${1:-}
[[ $# -le 2 ]] || usage
case $cmd in
up)
    (($(id -u) == 0)) || die "must run as root"
    [[ -z "${2:-}" ]] || lab_set_id "$2" || exit 2
    keep=0
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    lab_up || die "setup failed (nothing is left behind)"
    keep=1
    lab_status
    cat <<EOM

Try (NFQUEUE is per namespace: the daemon and its rules go into the gateway):
  printf '%s\n' ${LAB_LISTED4[0]} ${LAB_LISTED6[0]} >/tmp/exits.list
  ip netns exec $LAB_GW iptables -t mangle -A FORWARD -j NFQUEUE --queue-num 0 --queue-bypass
  ip netns exec $LAB_GW ip6tables -t mangle -A FORWARD -j NFQUEUE --queue-num 0 --queue-bypass
  ip netns exec $LAB_GW $root/.build/release/exitblock run --queue 0 --list /tmp/exits.list --no-cache
  ip netns exec $LAB_CLIENT ping -c 3 -I ${LAB_LISTED4[0]} $LAB_SERVER4   # blocked
  ip netns exec $LAB_CLIENT ping -c 3 -I ${LAB_CLEAN4[0]} $LAB_SERVER4    # passes
  ip netns exec $LAB_SERVER python3 $root/scripts/traffic.py serve --port 5599 --out /tmp/counts.json
  ip netns exec $LAB_CLIENT python3 $root/scripts/traffic.py send --src ${LAB_CLEAN6[0]} --dst $LAB_SERVER6 --port 5599
Tear down: scripts/lab.sh down $LAB_ID
EOM
    ;;
status)
    pick_id "${2:-}"
    lab_status
    ;;
down)
    (($(id -u) == 0)) || die "must run as root"
    pick_id "${2:-}"
    lab_adopt || exit 1
    lab_down
    printf 'lab %s: removed\n' "$LAB_ID"
    ;;
list)
    lab_ids
    ;;
*)
    usage
    ;;
esac
