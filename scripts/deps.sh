#!/usr/bin/env bash
# scripts/deps.sh: install the Debian/Ubuntu packages exitblock needs (the list is in
# scripts/lib/deps.sh); only the missing ones, so a warm box does not touch apt.
#
# Usage: scripts/deps.sh [GROUP...]            install what is missing (as root); default: all
#        scripts/deps.sh --missing [GROUP...]  print the missing packages (exit 1 if any)
#        scripts/deps.sh --list [GROUP...]     print the packages
# Groups: build, demo, test, all.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/deps.sh
source "$root/scripts/lib/deps.sh"

action=install
case ${1:-} in
    --missing | --list)
        action=${1#--}
        shift
        ;;
    -h | --help)
        sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
esac
(($# > 0)) || set -- all

case $action in
    list) deps_of "$@" ;;
    missing)
        out=$(missing_deps "$@")
        [[ -z "$out" ]] || {
            printf '%s\n' "$out"
            exit 1
        }
        ;;
    install) ensure_deps "$@" ;;
esac
