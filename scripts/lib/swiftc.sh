#!/usr/bin/env bash
# Builds the package's small modules with swiftc, outside SwiftPM, for the tests that compile
# only what they test (scripts/fuzz.sh, scripts/sanitize.sh, scripts/verdict-fault-test.sh):
# static libraries and their modules in OUT, each rebuilt only when one of its sources is newer. Source after
# setting $root (the package). SWIFTC_FLAGS (array) adds flags to the Netlink and
# LinuxSystem builds (the fuzz build's sanitizers).

# swiftc_stale TARGET SOURCES...: true when TARGET is missing or older than a source.
swiftc_stale() {
    local target=$1
    shift
    [[ ! -f "$target" ]] || [[ -n "$(find "$@" -newer "$target" | head -1)" ]]
}

# swift_system_dir: the swift-system checkout SwiftPM resolved (resolving it if needed).
swift_system_dir() {
    local dir="${root:?}/.build/checkouts/swift-system/Sources"
    [[ -d "$dir" ]] || (cd "$root" && swift package resolve >&2)
    printf '%s\n' "$dir"
}

# swiftc_build_modules OUT: libSystemPackage.a, libLinuxSystem.a and libNetlink.a in OUT,
# modules in OUT/modules. Writes the flags a dependent build needs to OUT/module-flags, one
# a line (read them with mapfile).
swiftc_build_modules() {
    local out=$1 system extra=("${SWIFTC_FLAGS[@]}")
    system=$(swift_system_dir)
    mkdir -p "$out/modules"
    if swiftc_stale "$out/libSystemPackage.a" "$system/System" "$system/CSystem"; then
        # swift-system's own Package.swift settings: SYSTEM_PACKAGE, Lifetimes, availability macros.
        local flags=(-D SYSTEM_PACKAGE -enable-experimental-feature Lifetimes) version
        local platforms="macOS 10.10, iOS 8.0, watchOS 2.0, tvOS 9.0, visionOS 1.0"
        for version in 0.0.1 0.0.2 0.0.3 1.1.0 1.1.1 1.2.0 1.2.1 1.3.0 1.3.1 1.3.2 1.4.0 1.7.0 199; do
            flags+=(-enable-experimental-feature "AvailabilityMacro=System $version:$platforms")
        done
        clang -c -O2 -I "$system/CSystem/include" "$system/CSystem/shims.c" -o "$out/csystem-shims.o" >&2
        mapfile -t sources < <(find "$system/System" -name '*.swift')
        swiftc -O -parse-as-library -static -emit-library -module-name SystemPackage -emit-module \
            -emit-module-path "$out/modules/SystemPackage.swiftmodule" -I "$system/CSystem/include" "${flags[@]}" \
            "${sources[@]}" -o "$out/libSystemPackage.a" >&2
        ar rs "$out/libSystemPackage.a" "$out/csystem-shims.o" 2>/dev/null
    fi
    local module sources
    for module in LinuxSystem Netlink; do
        if swiftc_stale "$out/lib$module.a" "$root/Sources/$module" "$root/Sources/CLinuxSystem" "$out/libSystemPackage.a"; then
            # Without the child-process runner (swift-subprocess; one-shot operator commands):
            # nothing these tests compile calls it.
            mapfile -t sources < <(grep -L '^import Subprocess' "$root/Sources/$module"/*.swift)
            swiftc -O -g "${extra[@]}" -parse-as-library -static -emit-library -module-name "$module" -emit-module \
                -emit-module-path "$out/modules/$module.swiftmodule" -I "$out/modules" -I "$system/CSystem/include" \
                -I "$root/Sources/CLinuxSystem/include" \
                "${sources[@]}" -o "$out/lib$module.a" >&2
        fi
    done
    printf '%s\n' -I "$out/modules" -I "$system/CSystem/include" -I "$root/Sources/CLinuxSystem/include" -L "$out" \
        -lLinuxSystem -lNetlink -lSystemPackage \
        >"$out/module-flags"
}
