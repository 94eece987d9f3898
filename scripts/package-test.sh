#!/usr/bin/env bash
# scripts/package-test.sh: the Debian package on a clean Debian 12 root that never had Swift.
#
# debootstrap --variant=minbase bookworm (plus systemd, for systemd-analyze), cached as a
# tarball under /var/cache/exitblock-test so that reruns only unpack it; each run unpacks a
# throwaway copy, then in it:
#   - apt-get installs the .deb (Depends resolve from the registry; the install itself runs in
#     a network namespace of its own, which is left without any firewall rule);
#   - no Swift anywhere, and the binary's libraries all resolve;
#   - the binary's and the .deb's sizes, reported; no ICU data or FoundationInternationalization
#     in the binary; the stripped binary within 40 MiB and the .deb within 10 MB;
#   - exitblock version; config check of the shipped conffile; list parse of a real list from
#     ../shared/data; rules show (nothing installed) and show --dry-run; systemd-analyze
#     verify of the installed unit; user exitblock and /var/lib/exitblock owned by it; the
#     unit neither enabled nor started;
#   - man pages (exitblock.toml(5) too), completions, the dashboard and the docs are there;
#   - an upgrade to a newer build (the same binary repackaged with a higher version) keeps an
#     edited conffile and the files in /var/lib/exitblock;
#   - apt-get purge leaves nothing behind but what Debian policy keeps (the system user;
#     apt's and dpkg's own records and logs): the file listings of the root before the install
#     (with the Depends apt resolved already installed) and after the purge are compared.
# Skipped with a notice only when the Debian mirror cannot be reached. Needs root.
#
# Environment: PACKAGE_DEB (the .deb to test; default: built by scripts/package.sh),
# PACKAGE_TEST_CACHE (default /var/cache/exitblock-test), PACKAGE_TEST_KEEP=1 (keep the root),
# PACKAGE_BINARY_BUDGET_MIB (default 40), PACKAGE_DEB_BUDGET_MB (default 10).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=package-test

cache=${PACKAGE_TEST_CACHE:-/var/cache/exitblock-test}
suite=bookworm
data="$root/../shared/data/tor"
work=""
chroot_dir=""
netns="ebpkg$$"
mounted=()

cleanup() {
    local rc=$? i
    set +e
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -l "${mounted[i]}" 2>/dev/null
    done
    ip netns del "$netns" 2>/dev/null
    summarize_on_exit "$rc"
    if [[ -n "$work" ]]; then
        if [[ "${PACKAGE_TEST_KEEP:-0}" == 1 ]]; then
            log "kept $work"
        else
            rm -rf "$work"
        fi
    fi
    if ((failed > 0 && rc == 0)); then rc=1; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(($(id -u) == 0)) || die "needs root (debootstrap, chroot, mounts, network namespaces)"
for tool in debootstrap curl chroot mount ip dpkg-deb; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (scripts/deps.sh test)"
done

# The Debian mirror this machine's apt uses (deb822 sources first, then sources.list).
mirror() {
    local uri=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z "$uri" && -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
            /etc/apt/sources.list)
    fi
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)
if ! curl -fsS -o /dev/null --max-time 30 "$MIRROR/dists/$suite/Release"; then
    log "package-test: SKIPPED: the Debian mirror $MIRROR cannot be reached (needed for debootstrap and Depends)"
    exit 0
fi

# in_root CMD...: CMD in the root (chroot), with a plain environment.
in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        chroot "$chroot_dir" "$@"
}
# in_root_netns CMD...: the same in the test's network namespace (no route out, no rules).
in_root_netns() {
    ip netns exec "$netns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive chroot "$chroot_dir" "$@"
}
# quietly CMD...: CMD with its output shown only when it fails.
quietly() {
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    ((rc == 0)) || printf '%s\n' "$out"
    return "$rc"
}
# listing: every path of the root but the pseudo file systems, sorted.
listing() {
    (cd "$chroot_dir" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \) \
        -prune -o -printf '%P\n' | LC_ALL=C sort)
}
mount_root() {
    local what
    mount -t proc proc "$chroot_dir/proc" && mounted+=("$chroot_dir/proc")
    mount -t sysfs sysfs "$chroot_dir/sys" && mounted+=("$chroot_dir/sys")
    mount --bind /dev "$chroot_dir/dev" && mounted+=("$chroot_dir/dev")
    mount --bind /dev/pts "$chroot_dir/dev/pts" && mounted+=("$chroot_dir/dev/pts")
    mount -t tmpfs tmpfs "$chroot_dir/run" && mounted+=("$chroot_dir/run")
    for what in proc sys dev run; do
        mountpoint -q "$chroot_dir/$what" || die "cannot mount $what in the root"
    done
    cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
}

# --- the clean root, cached ----------------------------------------------------------------
mkdir -p "$cache"
tarball="$cache/$suite-minbase-systemd.tar"
started=$SECONDS
if [[ ! -s "$tarball" ]]; then
    log "debootstrap --variant=minbase $suite from $MIRROR into the cache (once; minutes)"
    fresh=$(mktemp -d "$cache/root.XXXXXX")
    chmod 0755 "$fresh"
    chroot_dir=$fresh
    if ! debootstrap --variant=minbase "$suite" "$fresh" "$MIRROR" >"$cache/debootstrap.log" 2>&1; then
        tail -n 20 "$cache/debootstrap.log"
        rm -rf "$fresh"
        if grep -qiE 'Failed getting release file|could not resolve|Connection (refused|timed out)|Temporary failure' \
            "$cache/debootstrap.log"; then
            log "package-test: SKIPPED: debootstrap cannot reach $MIRROR"
            exit 0
        fi
        die "debootstrap failed (log: $cache/debootstrap.log)"
    fi
    mount_root
    # systemd for systemd-analyze verify: part of the clean root, not of what the package brings.
    in_root apt-get -q update >/dev/null || die "apt-get update in the new root failed"
    in_root apt-get -q install -y --no-install-recommends systemd >"$cache/systemd-install.log" 2>&1 ||
        die "installing systemd in the new root failed ($cache/systemd-install.log)"
    in_root apt-get clean
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}"; done
    mounted=()
    tar -C "$fresh" -cf "$tarball.new" . && mv "$tarball.new" "$tarball"
    rm -rf "$fresh"
    log "cached the root in $tarball ($((SECONDS - started)) s)"
fi
# --- the .deb -------------------------------------------------------------------------------
deb=${PACKAGE_DEB:-}
if [[ -z "$deb" ]]; then
    log "building the package: scripts/package.sh"
    deb=$(scripts/package.sh | tail -1) || die "scripts/package.sh failed"
fi
[[ -f "$deb" ]] || die "no package at $deb"
log "package: $deb ($(du -h "$deb" | cut -f1))"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/exitblock-package-test.XXXXXX")
chroot_dir="$work/root"
mkdir "$chroot_dir"
tar -C "$chroot_dir" -xf "$tarball"
chmod 0755 "$chroot_dir"
mount_root
ip netns add "$netns"
log "root ready in $((SECONDS - started)) s: $chroot_dir"

check "the root has no Swift toolchain or runtime" \
    test -z "$(find "$chroot_dir" -xdev \( -name 'libswift*' -o -name swift -o -name 'libFoundation*' \) -print -quit)"

# --- install -------------------------------------------------------------------------------
in_root apt-get -q update >"$work/apt-update.log" 2>&1 || die "apt-get update in the root failed"
cp "$deb" "$chroot_dir/tmp/"
deb_in_root="/tmp/$(basename "$deb")"
# What apt resolves from the package's Depends is installed first (host namespace: it is
# downloaded), so that the listing before the install holds them and the purge below can be
# checked strictly for the package's own files; their own leftovers (netbase writes
# /etc/hosts) are not the package's.
mapfile -t dep_packages < <(in_root apt-get -s -q install --no-install-recommends "$deb_in_root" 2>/dev/null |
    awk '$1 == "Inst" && $2 != "exitblock" {print $2}')
((${#dep_packages[@]} > 0)) || die "apt-get resolved no dependency for the package"
if in_root apt-get -q install -y --no-install-recommends "${dep_packages[@]}" >"$work/apt-deps.log" 2>&1; then
    pass "apt resolves the package's Depends from the registry: ${dep_packages[*]}"
else
    cat "$work/apt-deps.log"
    die "apt-get could not install the package's Depends"
fi
listing >"$work/before.list"
# The install itself in the empty namespace: the package must need no network and add no
# firewall rule.
if in_root_netns apt-get -q install -y --no-install-recommends "$deb_in_root" >"$work/apt-install.log" 2>&1; then
    pass "apt-get install $(basename "$deb") (Depends: $(dpkg-deb -f "$deb" Depends))"
else
    cat "$work/apt-install.log"
    die "apt-get install of the package failed"
fi
check "the install left the namespace without any iptables rule" \
    test -z "$(ip netns exec "$netns" iptables-save 2>/dev/null | grep -E '^-A' || true)"
check "the install left the namespace without any nftables rule" \
    test -z "$(ip netns exec "$netns" nft list ruleset 2>/dev/null || true)"

missing_libs=$(in_root ldd /usr/sbin/exitblock | grep 'not found' || true)
check_eq "every library of /usr/sbin/exitblock resolves in the root" "" "$missing_libs"
swift_libs=$(in_root ldd /usr/sbin/exitblock | grep -Ei 'swift|foundation|dispatch' || true)
check_eq "ldd names no Swift, Foundation or Dispatch library" "" "$swift_libs"

# --- size: no ICU data, within the budgets ------------------------------------------------
# The static runtime carries Foundation's ICU data (icudt*_dat, ~30 MiB) and
# FoundationInternationalization only when something references Foundation proper; the
# sources use FoundationEssentials. ICU's data names its own tree (icudt76l/...), and Swift's
# type metadata keeps the module's mangled name (30FoundationInternationalization) even in
# a stripped binary.
binary_bytes=$(stat -c %s "$chroot_dir/usr/sbin/exitblock")
deb_bytes=$(stat -c %s "$deb")
log "size: /usr/sbin/exitblock $binary_bytes bytes ($((binary_bytes / 1048576)) MiB, stripped), $(basename "$deb") $deb_bytes bytes"
check "the binary holds no ICU data (icudt*)" \
    bash -c '! LC_ALL=C grep -a -q -E "icudt[0-9]+" "$1"' _ "$chroot_dir/usr/sbin/exitblock"
check "the binary holds no FoundationInternationalization" \
    bash -c '! LC_ALL=C grep -a -q FoundationInternationalization "$1"' _ "$chroot_dir/usr/sbin/exitblock"
binary_budget=$((${PACKAGE_BINARY_BUDGET_MIB:-40} * 1048576))
deb_budget=$((${PACKAGE_DEB_BUDGET_MB:-10} * 1000000))
check "the stripped binary is within ${PACKAGE_BINARY_BUDGET_MIB:-40} MiB ($binary_bytes bytes)" \
    test "$binary_bytes" -le "$binary_budget"
check "the .deb is within ${PACKAGE_DEB_BUDGET_MB:-10} MB ($deb_bytes bytes)" test "$deb_bytes" -le "$deb_budget"

# --- run -----------------------------------------------------------------------------------
if version=$(in_root_netns exitblock version); then
    pass "exitblock version: $version"
else
    fail "exitblock version"
fi
check "exitblock config check /etc/exitblock/exitblock.toml (the shipped conffile)" \
    quietly in_root_netns exitblock config check /etc/exitblock/exitblock.toml
list=torbulkexitlist-2024-03-12
[[ -r "$data/$list" ]] || die "no $data/$list: the real Tor data belongs in ../shared/data beside the repository"
cp "$data/$list" "$chroot_dir/tmp/$list"
parsed=$(in_root_netns exitblock list parse "/tmp/$list" 2>&1) || true
if grep -q '1174' <<<"$parsed"; then
    pass "exitblock list parse $list: 1174 entries"
else
    fail "exitblock list parse $list: $parsed"
fi
check "exitblock rules show --dry-run" quietly in_root_netns exitblock rules show --dry-run
show_rc=0
show=$(in_root_netns exitblock rules show 2>&1) || show_rc=$?
if ((show_rc == 1)) && grep -q 'not installed' <<<"$show"; then
    pass "exitblock rules show (runs iptables in the root): no rules installed"
else
    fail "exitblock rules show: exit $show_rc: $show"
fi
verify=$(in_root systemd-analyze verify /lib/systemd/system/exitblock.service 2>&1) || true
if [[ -z "$verify" ]]; then
    pass "systemd-analyze verify exitblock.service: clean"
else
    fail "systemd-analyze verify exitblock.service: $verify"
fi
check "the unit runs /usr/sbin/exitblock" grep -q '^ExecStart=/usr/sbin/exitblock run' \
    "$chroot_dir/lib/systemd/system/exitblock.service"
check "the unit is not enabled" \
    test -z "$(find "$chroot_dir/etc/systemd/system" -name 'exitblock*' -print -quit)"
check "system user exitblock" quietly in_root getent passwd exitblock
check_eq "/var/lib/exitblock owned by exitblock" "exitblock:exitblock 750" \
    "$(in_root stat -c '%U:%G %a' /var/lib/exitblock 2>&1)"
check "man page exitblock(8)" test -s "$chroot_dir/usr/share/man/man8/exitblock.8.gz"
check "man page exitblock-rules-install(8)" test -s "$chroot_dir/usr/share/man/man8/exitblock.rules.install.8.gz"
for completion in usr/share/bash-completion/completions/exitblock usr/share/zsh/vendor-completions/_exitblock \
    usr/share/fish/vendor_completions.d/exitblock.fish; do
    check "completion $completion" grep -q 'rules' "$chroot_dir/$completion"
done
check "Prometheus alert rules" test -s "$chroot_dir/usr/share/exitblock/exitblock-alerts.yml"
check "man page exitblock.toml(5)" test -s "$chroot_dir/usr/share/man/man5/exitblock.toml.5.gz"
check "exitblock.toml(5) names the [run] table" zgrep -q '^.SH "\[run\] TABLE"' "$chroot_dir/usr/share/man/man5/exitblock.toml.5.gz"
check "Grafana dashboard" python3 -m json.tool "$chroot_dir/usr/share/exitblock/grafana/exitblock.json"
check "the operator guide" test -s "$chroot_dir/usr/share/doc/exitblock/docs/operator-guide.md.gz"
check "copyright file" grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
    "$chroot_dir/usr/share/doc/exitblock/copyright"

# --- upgrade keeps an edited conffile -------------------------------------------------------
conf="$chroot_dir/etc/exitblock/exitblock.toml"
sed -i 's/^burst-size = .*/burst-size = 32  # edited by package-test/' "$conf"
printf 'operator list\n' >"$chroot_dir/var/lib/exitblock/kept.list"
edited=$(md5sum <"$conf")
old_version=$(dpkg-deb -f "$deb" Version)
new_version="$old_version+upgrade1"
repack="$work/repack"
dpkg-deb -R "$deb" "$repack"
sed -i "s/^Version: .*/Version: $new_version/" "$repack/DEBIAN/control"
new_deb="$chroot_dir/tmp/exitblock_${new_version}_$(dpkg-deb -f "$deb" Architecture).deb"
dpkg-deb --root-owner-group --build "$repack" "$new_deb" >/dev/null
if in_root_netns apt-get -q install -y --no-install-recommends "/tmp/$(basename "$new_deb")" \
    >"$work/apt-upgrade.log" 2>&1; then
    pass "upgrade $old_version -> $new_version"
else
    cat "$work/apt-upgrade.log"
    fail "upgrade $old_version -> $new_version"
fi
check_eq "installed version after the upgrade" "$new_version" "$(in_root dpkg-query -W -f='${Version}' exitblock)"
check_eq "the edited conffile is kept" "$edited" "$(md5sum <"$conf")"
check "the edited conffile is still valid" quietly in_root_netns exitblock config check /etc/exitblock/exitblock.toml
check "/var/lib/exitblock keeps its files" test -f "$chroot_dir/var/lib/exitblock/kept.list"

# --- purge ---------------------------------------------------------------------------------
rm -f "$chroot_dir$deb_in_root" "$new_deb" "$chroot_dir/tmp/$list"
if in_root_netns apt-get -q purge -y exitblock >"$work/apt-purge.log" 2>&1; then
    pass "apt-get purge exitblock"
else
    cat "$work/apt-purge.log"
    fail "apt-get purge exitblock"
fi
in_root apt-get clean
listing >"$work/after.list"
# What policy and apt leave: the system user (passwd, group, shadow and their backups), the
# package managers' own records, caches and logs.
allowed='^(etc/(passwd|group|shadow|gshadow|subuid|subgid)-?|etc/ld\.so\.cache|var/lib/(dpkg|apt|systemd/deb-systemd-helper-(enabled|masked))(/.*)?|var/cache/(apt|debconf|ldconfig)(/.*)?|var/log(/.*)?)$'
left=$(comm -13 "$work/before.list" "$work/after.list" | grep -Ev "$allowed" || true)
gone=$(comm -23 "$work/before.list" "$work/after.list" | grep -Ev "$allowed" || true)
check_eq "purge leaves no file of the package behind" "" "$(printf '%s' "$left" | tr '\n' ' ')"
check_eq "purge removes nothing that was there before" "" "$(printf '%s' "$gone" | tr '\n' ' ')"
check "purge keeps the system user exitblock (Debian policy 9.2.2)" quietly in_root getent passwd exitblock
check "purge removed /var/lib/exitblock and /etc/exitblock" \
    test ! -e "$chroot_dir/var/lib/exitblock" -a ! -e "$chroot_dir/etc/exitblock"
check_eq "dpkg forgot the package" "" "$(in_root dpkg-query -W -f='${Status}' exitblock 2>/dev/null || true)"

log "package test took $((SECONDS - started)) s"
summary
