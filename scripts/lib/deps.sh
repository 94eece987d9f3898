# shellcheck shell=bash
# The Debian/Ubuntu packages exitblock's scripts need: the one list, used by scripts/demo.sh,
# scripts/test.sh and .ci/run (through ensure_deps) and by scripts/deps.sh.
#
#   ensure_deps GROUP...   install what is missing from these groups (apt-get update, then
#                          apt-get install -y, non-interactive); nothing when all are there.
#                          Not root and something missing: say what, return 1.
#   missing_deps GROUP...  print the missing packages of these groups, one per line.
#   deps_of GROUP...       print the packages of these groups, one per line.
#
# Groups: build (swift build), demo (scripts/demo.sh), test (scripts/test.sh, every test),
# all. A package is "there" when dpkg-query says "install ok installed": a warm box never
# runs apt.

if [[ -n "${_EXITBLOCK_DEPS_SH:-}" ]]; then
    return 0
fi
_EXITBLOCK_DEPS_SH=1

# swift build: libnetfilter_queue and libmnl through pkg-config (Package.swift), git for the
# version's commit.
DEPS_BUILD=(pkg-config libnetfilter-queue-dev libmnl-dev git)
# scripts/demo.sh: the namespace lab, the rules, traffic.
DEPS_DEMO=(iptables iproute2 iputils-ping procps python3)
# scripts/test.sh: the integration tests (nft/ipset/conntrack rules, metrics with promtool and a
# Prometheus server, top in tmux, iperf3 flows, the systemd unit), shellcheck, the Debian
# package (dpkg-dev, fakeroot, lintian) and its test on a clean root (debootstrap), and what
# other features' tests use (bird2, exabgp, libipset-dev, libnftnl-dev).
DEPS_TEST=(
    nftables ipset conntrack util-linux curl shellcheck prometheus tmux iperf3 systemd
    dpkg-dev fakeroot lintian debootstrap
    bird2 exabgp libipset-dev libnftnl-dev
)

# deps_of GROUP...: the packages of these groups, one per line, each once.
deps_of() {
    local group
    local -a packages=()
    for group in "$@"; do
        case $group in
            build) packages+=("${DEPS_BUILD[@]}") ;;
            demo) packages+=("${DEPS_BUILD[@]}" "${DEPS_DEMO[@]}") ;;
            test | all) packages+=("${DEPS_BUILD[@]}" "${DEPS_DEMO[@]}" "${DEPS_TEST[@]}") ;;
            *)
                printf 'deps: unknown group %q (build, demo, test, all)\n' "$group" >&2
                return 1
                ;;
        esac
    done
    printf '%s\n' "${packages[@]}" | awk '!seen[$0]++'
}

# missing_deps GROUP...: the packages of these groups that are not installed.
missing_deps() {
    local package status list
    list=$(deps_of "$@") || return 1
    while read -r package; do
        status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || printf '%s\n' "$package"
    done <<<"$list"
}

# ensure_deps GROUP...: install the missing packages of these groups.
ensure_deps() {
    local -a missing
    if ! command -v dpkg-query >/dev/null 2>&1; then
        printf 'deps: not a Debian/Ubuntu system (no dpkg-query); install by hand: %s\n' \
            "$(deps_of "$@" | tr '\n' ' ')" >&2
        return 1
    fi
    mapfile -t missing < <(missing_deps "$@")
    ((${#missing[@]} > 0)) || return 0
    if (($(id -u) != 0)); then
        printf 'deps: missing Debian packages: %s\n' "${missing[*]}" >&2
        printf 'deps: installing them needs root: run this as root, or first: sudo apt-get install -y %s\n' \
            "${missing[*]}" >&2
        return 1
    fi
    printf 'deps: installing %s missing Debian package(s): %s\n' "${#missing[@]}" "${missing[*]}" >&2
    local -a apt=(apt-get -q -o DPkg::Lock::Timeout=600)
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 || return 1
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 || return 1
    mapfile -t missing < <(missing_deps "$@")
    if ((${#missing[@]} > 0)); then
        printf 'deps: still missing after apt-get install: %s\n' "${missing[*]}" >&2
        return 1
    fi
}
