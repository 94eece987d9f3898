#!/usr/bin/env bash
# Coverage of the exit sources, measured on the real Tor documents: for each source and for
# the shipped default union (bulk exit list + Onionoo running exits), the IPv4 and IPv6
# addresses it yields through `exitblock list parse`, and what one has that another lacks.
# The Onionoo details document is made from the real consensus by
# scripts/consensus-to-onionoo.py (there is no real Onionoo document in the data).
#
# usage: EXITBLOCK=.build/debug/exitblock scripts/coverage.sh [DATA_DIR]
# Prints a markdown table on stdout. Exit status 1 when the default union lacks a family.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${EXITBLOCK:-$root/.build/debug/exitblock}
data=${1:-$root/../shared/data/tor}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

consensus=$(ls "$data"/consensus-* | head -1)
bulk=$(ls "$data"/torbulkexitlist-* | head -1)
exitaddr=$(ls "$data"/exit-addresses-* | head -1)
secops=$(ls "$data"/secops-tor-exit-nodes-* | head -1)
python3 "$here/consensus-to-onionoo.py" "$consensus" >"$work/onionoo.json"
python3 "$here/consensus-to-onionoo.py" --all "$consensus" >"$work/onionoo-all.json"

# parse NAME FILE [FORMAT]: the addresses of FILE, one a line, into $work/NAME.
parse() {
    local name=$1 file=$2 format=${3:-}
    if [[ -n $format ]]; then
        "$bin" list parse "$file" --format "$format" 2>/dev/null | cut -f1 | sort -u >"$work/$name"
    else
        "$bin" list parse "$file" 2>/dev/null | sort -u >"$work/$name"
    fi
}
parse bulk "$bulk"
parse exitaddr "$exitaddr"
parse secops "$secops"
parse consensus "$consensus"
parse onionoo "$work/onionoo.json"
parse onionoo_all "$work/onionoo-all.json"
parse relays "$consensus" relays
sort -u "$work/bulk" "$work/onionoo" >"$work/union"

v4() { grep -vc ':' "$work/$1" || true; }
v6() { grep -c ':' "$work/$1" || true; }
# only A B: entries of A not in B.
only() { comm -23 "$work/$1" "$work/$2" >"$work/$1-not-$2"; echo "$(v4 "$1-not-$2") | $(v6 "$1-not-$2")"; }
date_of() { basename "$1" | grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}'; }

cdate=$(date_of "$consensus")
echo "| source | document date | IPv4 | IPv6 |"
echo "|---|---|---:|---:|"
echo "| bulk exit list ($(basename "$bulk")) | $(date_of "$bulk") | $(v4 bulk) | $(v6 bulk) |"
echo "| exit-addresses ($(basename "$exitaddr")) | $(date_of "$exitaddr") | $(v4 exitaddr) | $(v6 exitaddr) |"
echo "| SecOps list ($(basename "$secops")) | $(date_of "$secops") | $(v4 secops) | $(v6 secops) |"
echo "| consensus, exits ($(basename "$consensus")) | $cdate | $(v4 consensus) | $(v6 consensus) |"
echo "| Onionoo running exits (made from the consensus) | $cdate | $(v4 onionoo) | $(v6 onionoo) |"
echo "| Onionoo, every relay (made from the consensus; non-exits give nothing) | $cdate | $(v4 onionoo_all) | $(v6 onionoo_all) |"
echo "| **default union: bulk list + Onionoo running exits** | $(date_of "$bulk") + $cdate | $(v4 union) | $(v6 union) |"
echo
echo "| difference | IPv4 | IPv6 |"
echo "|---|---:|---:|"
echo "| bulk list, not an Onionoo exit ORPort | $(only bulk onionoo) |"
echo "| bulk list, in no relay's ORPort or DirPort address (consensus, relay mode) | $(only bulk relays) |"
echo "| Onionoo exits, not in the bulk list | $(only onionoo bulk) |"
echo "| SecOps list, not in the default union | $(only secops union) |"
echo "| default union, not in the SecOps list | $(only union secops) |"
echo "| Onionoo exits, not in the consensus exits (same document) | $(only onionoo consensus) |"
echo
echo "Dates differ: the bulk list and exit-addresses are of $(date_of "$bulk"), the consensus (and"
echo "the Onionoo document made from it) of $cdate, so the overlaps above understate what"
echo "documents of one day share."
[[ $(v4 union) -gt 0 && $(v6 union) -gt 0 ]]
