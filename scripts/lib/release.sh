# shellcheck shell=bash
# The release build that scripts/package.sh packages and scripts/demo.sh runs: the Swift
# runtime linked statically (the installed program needs no Swift toolchain), in its own
# scratch path so that it never disturbs the debug build in .build.
#
#   release_build ROOT ARGS...   swift build -c release --static-swift-stdlib
#                                --scratch-path ROOT/.build-release ARGS... (in ROOT), with
#                                EXITBLOCK_GIT_DESCRIBE set from git describe unless given.

if [[ -n "${_EXITBLOCK_RELEASE_SH:-}" ]]; then
    return 0
fi
_EXITBLOCK_RELEASE_SH=1

release_build() {
    local root=$1
    shift
    if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
        PATH="/opt/swift/usr/bin:$PATH"
    fi
    (
        cd "$root" || exit 1
        if [[ -z "${EXITBLOCK_GIT_DESCRIBE:-}" ]]; then
            EXITBLOCK_GIT_DESCRIBE=$(git describe --always --dirty --tags 2>/dev/null || true)
        fi
        export EXITBLOCK_GIT_DESCRIBE
        swift build -c release --static-swift-stdlib --scratch-path "$root/.build-release" "$@"
    )
}
