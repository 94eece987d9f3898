#!/usr/bin/env bash
# Builds the snapshot publication stress test with swiftc over SnapshotCell.swift and the
# LinuxSystem module it calls (built by scripts/lib/swiftc.sh, with swift-system; no BoringSSL
# or NIO rebuild) under ThreadSanitizer and then AddressSanitizer, and runs each. Takes
# seconds once the modules are built.
# Usage: scripts/sanitize.sh [thread|address ...]   (default: both)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=.build-sanitize
mkdir -p "$out"
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(thread address)
# shellcheck source=lib/swiftc.sh
source "$root/scripts/lib/swiftc.sh"
# LinuxSystem uninstrumented: the stress test's shared state lives in SnapshotCell alone.
SWIFTC_FLAGS=()
swiftc_build_modules "$out/modules-plain"
mapfile -t module_flags <"$out/modules-plain/module-flags"

for sanitizer in "${sanitizers[@]}"; do
    binary="$out/snapshot-stress-$sanitizer"
    start=$(date +%s)
    swiftc -O -g -sanitize="$sanitizer" -use-ld=lld -module-name SnapshotStress "${module_flags[@]}" \
        Sources/Engine/SnapshotCell.swift Tests/Sanitizers/SnapshotCell/main.swift -o "$binary"
    built=$(date +%s)
    # halt_on_error: the first report fails the run.
    TSAN_OPTIONS="halt_on_error=1" ASAN_OPTIONS="halt_on_error=1:detect_leaks=0" "$binary"
    echo "sanitizer $sanitizer: clean (build $((built - start)) s, run $(($(date +%s) - built)) s)"
done
