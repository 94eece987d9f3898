#!/usr/bin/env bash
# Fuzzes every list parser and every reader of kernel bytes with libFuzzer for a bounded time
# each, and reports executions and crashes. Each target is built with swiftc over the module
# sources it needs (ExitSet alone; NetfilterQueue with the CNetfilterQueue module map), not
# through SwiftPM, so no dependency is rebuilt. Seeds: the real Tor lists in ../shared/data
# (when present), a small Onionoo document, and netlink messages written below.
# Usage: scripts/fuzz.sh [target ...]   targets: plain exit-addresses consensus onionoo detect
#                                                packet-header nfqueue conntrack netlink (default: all)
#        FUZZ_SECONDS=25 (per target)   FUZZ_OPT=-O (optimization for the builds)
# Crash inputs are kept in .build-fuzz/crashes/; the script fails if any target crashed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-25}
optimization=${FUZZ_OPT:--O}
out=.build-fuzz
data=../shared/data/tor
mkdir -p "$out/crashes"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(plain exit-addresses consensus onionoo detect packet-header nfqueue conntrack netlink)

build() {  # build NAME DRIVER SOURCES... [-- EXTRA FLAGS...]
    local name=$1 driver=$2
    shift 2
    local sources=() flags=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sources+=("$1"); shift; done
    [ $# -gt 0 ] && shift && flags=("$@")
    local binary="$out/fuzz-$name"
    # Rebuild only when a source (or a library it links, in $watch) is newer than the binary.
    if [ -x "$binary" ] && [ -z "$(find "$driver" "${sources[@]}" "${watch[@]}" -newer "$binary" | head -1)" ]; then
        return
    fi
    swiftc "$optimization" -g -sanitize=fuzzer,address -parse-as-library -use-ld=lld \
        -module-name "Fuzz${name//-/}" -package-name exitblock "${flags[@]}" \
        "${sources[@]}" "$driver" -o "$binary" 2> >(grep -v 'warning: Cannot export' >&2)
}

seed_netlink() {  # writes binary seeds for the kernel-byte readers
    python3 - "$out/seeds" <<'PY'
import os, struct, sys
base = sys.argv[1]
def attr(t, v):
    b = struct.pack("=HH", 4 + len(v), t) + v
    return b + b"\0" * (-len(b) % 4)
def msg(t, body, seq=0, flags=0):
    b = struct.pack("=IHHII", 16 + len(body), t, flags, seq, 0) + body
    return b + b"\0" * (-len(b) % 4)
ipv4 = bytes([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 7, 203, 0, 113, 1])
ipv6 = bytes([0x60, 0, 0, 0, 0, 20, 6, 64]) + bytes(range(1, 17)) + bytes(range(17, 33))
def packet(pid, payload, mark=0):
    body = b"\0\0" + struct.pack(">H", 0)
    body += attr(1, struct.pack(">IHB", pid, 0x0800, 1))
    body += attr(3, struct.pack(">I", mark))
    body += attr(10, payload) + attr(13, struct.pack(">I", len(payload)))
    return msg(3 << 8, body)
def ctnew(seq):
    ip = attr(1 | 0x8000, attr(1, bytes([198, 51, 100, 7])) + attr(2, bytes([203, 0, 113, 1])))
    proto = attr(2 | 0x8000, attr(1, b"\x06") + attr(2, struct.pack(">H", 443)) + attr(3, struct.pack(">H", 5555)))
    body = bytes([2, 0, 0, 0]) + attr(1 | 0x8000, ip + proto) + attr(12, struct.pack(">I", 99))
    return msg(1 << 8, body, seq=seq, flags=2)
seeds = {
    "packet-header": {"ipv4": ipv4, "ipv6": ipv6},
    "nfqueue": {"ipv4": packet(1, ipv4), "ipv6": packet(2, ipv6, 7),
                "two": packet(3, ipv4) + packet(4, ipv6),
                "ack": msg(2, struct.pack("=i", 0) + msg(0x300, b"\0" * 4), seq=7),
                "error": msg(2, struct.pack("=i", -2) + msg(0x300, b"\0" * 4), seq=8)},
    "netlink": {"nfqueue": packet(1, ipv4) + packet(2, ipv6, 7), "conntrack": ctnew(7),
                "error": msg(2, struct.pack("=i", -1) + msg(0x101, b"\0" * 4), seq=7)},
    "conntrack": {"entry": ctnew(7), "done": ctnew(7) + msg(3, struct.pack("=i", 0), seq=7),
                  "error": msg(2, struct.pack("=i", -1) + msg(0x101, b"\0" * 4), seq=7)},
}
for target, files in seeds.items():
    os.makedirs(os.path.join(base, target), exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(base, target, name), "wb") as f:
            f.write(content)
PY
}

seed_lists() {
    local dir
    for dir in plain exit-addresses consensus onionoo detect; do mkdir -p "$out/seeds/$dir"; done
    cp Tests/Fuzz/seeds/onionoo-details.json "$out/seeds/onionoo/"
    cp Tests/Fuzz/seeds/onionoo-details.json "$out/seeds/detect/"
    if [ -d "$data" ]; then
        cp "$data"/torbulkexitlist-* "$data"/secops-tor-exit-nodes-* "$out/seeds/plain/"
        cp "$data"/exit-addresses-* "$out/seeds/exit-addresses/"
        cp "$data"/consensus-* "$out/seeds/consensus/"
        cp "$data"/* "$out/seeds/detect/"
    else
        echo "fuzz: $data not found; list targets start from the Onionoo seed only" >&2
        printf '198.51.100.7\n2001:db8::/32 # c\n' >"$out/seeds/plain/small"
    fi
}

seed_netlink
seed_lists
exitset_sources=(Sources/ExitSet/*.swift)
mapfile -t queue_sources < <(find Sources/NetfilterQueue Sources/Conntrack -name '*.swift' | sort)
# shellcheck source=lib/swiftc.sh
source "$root/scripts/lib/swiftc.sh"

failed=0
watch=()
for target in "${targets[@]}"; do
    case $target in
        plain | exit-addresses | consensus | onionoo | detect)
            build lists Tests/Fuzz/ListParserFuzz.swift "${exitset_sources[@]}"
            binary=$out/fuzz-lists
            # The real lists are cut to their first 8 KiB: many short runs find more than a few long ones.
            max_len=8192
            ;;
        packet-header | nfqueue | conntrack | netlink)
            # The codec and LinuxSystem with coverage and ASan too; swift-system plain.
            SWIFTC_FLAGS=("-sanitize=fuzzer,address")
            swiftc_build_modules "$out"
            mapfile -t module_flags <"$out/module-flags"
            watch=("$out/libNetlink.a" "$out/libLinuxSystem.a")
            build netlink Tests/Fuzz/NetlinkFuzz.swift "${queue_sources[@]}" -- -I CNetfilterQueue "${module_flags[@]}" \
                -lnetfilter_queue -lmnl
            binary=$out/fuzz-netlink
            max_len=4096
            ;;
        *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
    esac
    corpus=$out/corpus/$target
    mkdir -p "$corpus"
    format=$target
    [ "$target" = detect ] && format=
    log=$out/$target.log
    status=0
    # The Swift runtime's backtracer is off so that libFuzzer reports a trap itself.
    FUZZ_FORMAT=$format FUZZ_READER=$target ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no \
        "$binary" -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
        -artifact_prefix="$out/crashes/$target-" "$corpus" "$out/seeds/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$status" -ne 0 ]; then
        failed=1
        echo "fuzz $target: CRASH after ${runs:-?} executions (exit $status); log $log, input in $out/crashes/"
        grep -m5 -E 'ERROR|Fatal error|SUMMARY' "$log" || true
    else
        echo "fuzz $target: ${runs:-?} executions in ${seconds} s, no crash (corpus $(find "$corpus" -type f | wc -l) inputs)"
    fi
done
exit "$failed"
