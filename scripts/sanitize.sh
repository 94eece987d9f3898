#!/usr/bin/env bash
# Builds the snapshot publication stress test with swiftc over SnapshotCell.swift alone (no
# package dependencies, so no BoringSSL or NIO rebuild) under ThreadSanitizer and then
# AddressSanitizer, and runs each. Takes seconds, not minutes.
# Usage: scripts/sanitize.sh [thread|address ...]   (default: both)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=.build-sanitize
mkdir -p "$out"
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(thread address)

for sanitizer in "${sanitizers[@]}"; do
    binary="$out/snapshot-stress-$sanitizer"
    start=$(date +%s)
    swiftc -O -g -sanitize="$sanitizer" -use-ld=lld -module-name SnapshotStress \
        Sources/ExitBlock/SnapshotCell.swift Tests/Sanitizers/SnapshotCell/main.swift -o "$binary"
    built=$(date +%s)
    # halt_on_error: the first report fails the run.
    TSAN_OPTIONS="halt_on_error=1" ASAN_OPTIONS="halt_on_error=1:detect_leaks=0" "$binary"
    echo "sanitizer $sanitizer: clean (build $((built - start)) s, run $(($(date +%s) - built)) s)"
done
