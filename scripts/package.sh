#!/usr/bin/env bash
# scripts/package.sh: build the Debian package exitblock_<version>_<arch>.deb.
#
# A release build with the Swift runtime linked statically (--static-swift-stdlib, scratch
# path .build-release), so the installed program needs no Swift toolchain. The package holds
# /usr/sbin/exitblock, the systemd unit (not enabled, not started: the package never touches
# the firewall), /etc/exitblock/exitblock.toml (a conffile), man pages generated from the
# argument parser (its generate-manual plugin) and exitblock.toml(5) from the config schema
# (exitblock config man), bash/zsh/fish completions (exitblock --generate-completion-script),
# the Prometheus alert rules of docs/metrics.md, the Grafana dashboard, the README and docs/,
# and a copyright file. Depends comes from dpkg-shlibdeps on the binary, plus the programs it runs.
# Then lintian checks it (errors fail the build).
#
# Usage: scripts/package.sh [--output DIR]   (default DIR: the repository's dist-out/)
# Environment: EXITBLOCK_DEB_VERSION (default: the binary's version), SOURCE_DATE_EPOCH
# (default: the commit's time), PACKAGE_SKIP_BUILD=1 (use the existing release build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/deps.sh
source "$root/scripts/lib/deps.sh"
# shellcheck source=lib/release.sh
source "$root/scripts/lib/release.sh"

out="$root/dist-out"
while (($# > 0)); do
    case $1 in
        --output)
            out=$2
            shift 2
            ;;
        *)
            printf 'usage: %s [--output DIR]\n' "$0" >&2
            exit 2
            ;;
    esac
done

say() { printf 'package: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

command -v swift >/dev/null || [[ ! -x /opt/swift/usr/bin/swift ]] || export PATH="/opt/swift/usr/bin:$PATH"
ensure_deps build || die "missing packages to build exitblock"
for tool in dpkg-deb dpkg-shlibdeps fakeroot lintian; do
    command -v "$tool" >/dev/null || ensure_deps test || die "missing tool: $tool"
done

scratch="$root/.build-release"
stage=""
cleanup() { [[ -z "$stage" ]] || rm -rf "$stage"; }
trap cleanup EXIT

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
EXITBLOCK_GIT_DESCRIBE=${EXITBLOCK_GIT_DESCRIBE:-$(git describe --always --dirty --tags 2>/dev/null || true)}
export EXITBLOCK_GIT_DESCRIBE

started=$SECONDS
if [[ "${PACKAGE_SKIP_BUILD:-0}" != 1 ]]; then
    # The generate-manual plugin builds every product first. It cannot pass
    # --static-swift-stdlib, which changes every compile command, so it builds in debug mode
    # in the default .build: after scripts/test.sh's `swift build` that costs nothing.
    say "man pages: swift package plugin generate-manual --configuration debug (in .build)"
    env -u EXITBLOCK_GIT_DESCRIBE swift package plugin generate-manual --configuration debug \
        --multi-page --section 8 --authors "exitblock maintainers" >&2
    say "static release build: swift build -c release --static-swift-stdlib --scratch-path .build-release"
    release_build "$root" --product exitblock >&2
fi
bin_dir=$(release_build "$root" --show-bin-path)
binary="$bin_dir/exitblock"
manual_dir=$(find "$root/.build/plugins" -type d -path '*GenerateManual*' -name ExitBlockCLI 2>/dev/null | head -1)
[[ -x "$binary" ]] || die "no binary at $binary"
[[ -n "$manual_dir" && -f "$manual_dir/exitblock.8" ]] || die "no man pages from generate-manual under .build/plugins"
say "built in $((SECONDS - started)) s"

if ldd "$binary" | grep -Ei 'libswift|libFoundation|libdispatch|libBlocksRuntime|lib_FoundationICU'; then
    die "$binary links the Swift runtime dynamically (see above); it must be static"
fi

version=$("$binary" version --fields | sed -n 's/^version=//p')
[[ -n "$version" ]] || die "cannot read the version from $binary version --fields"
version=${EXITBLOCK_DEB_VERSION:-$version}
arch=$(dpkg --print-architecture)
name="exitblock_${version}_${arch}"
stage=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-package.XXXXXX")
pkg="$stage/$name"
doc="$pkg/usr/share/doc/exitblock"

# The files, with Debian's modes.
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/sbin" "$pkg/etc/exitblock" "$pkg/lib/systemd/system" \
    "$pkg/usr/share/man/man8" "$pkg/usr/share/man/man5" "$doc" "$doc/docs" "$pkg/usr/share/exitblock" \
    "$pkg/usr/share/exitblock/grafana" \
    "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
    "$pkg/usr/share/fish/vendor_completions.d"
install -m 0755 "$binary" "$pkg/usr/sbin/exitblock"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/sbin/exitblock"
say "binary: $(stat -c %s "$binary") bytes as built, $(stat -c %s "$pkg/usr/sbin/exitblock") stripped"
install -m 0644 dist/exitblock.toml "$pkg/etc/exitblock/exitblock.toml"
sed 's|/usr/local/bin/exitblock|/usr/sbin/exitblock|g; s|^# Install: see docs/operator-guide.md.|# Installed by the exitblock package; not enabled: systemctl enable --now exitblock.|' \
    dist/exitblock.service >"$pkg/lib/systemd/system/exitblock.service"
chmod 0644 "$pkg/lib/systemd/system/exitblock.service"
grep -q /usr/local "$pkg/lib/systemd/system/exitblock.service" && die "the unit still names /usr/local"

# An empty line in mdoc is a groff warning: the generated pages have them between
# paragraphs of the commands' discussions, where .Pp means the same.
for page in "$manual_dir"/*.8; do
    sed 's/^$/.Pp/' "$page" | gzip -9n >"$pkg/usr/share/man/man8/$(basename "$page").gz"
done
# exitblock.toml(5): rendered by the binary from the schema its config check uses.
"$binary" config man | gzip -9n >"$pkg/usr/share/man/man5/exitblock.toml.5.gz"
# A completion file is sourced, not run: no #! line (lintian bash-completion-with-hashbang).
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' >"$pkg/usr/share/bash-completion/completions/exitblock"
"$binary" --generate-completion-script zsh >"$pkg/usr/share/zsh/vendor-completions/_exitblock"
"$binary" --generate-completion-script fish >"$pkg/usr/share/fish/vendor_completions.d/exitblock.fish"

# The alert rules: the block of docs/metrics.md, which must match dist/exitblock-alerts.yml.
readme_rules=$(awk '/^## Alert rules/ {s=1; next} s && /^```yaml/ {c=1; next} c && /^```/ {exit} c' docs/metrics.md)
[[ "$readme_rules" == "$(cat dist/exitblock-alerts.yml)" ]] ||
    die "dist/exitblock-alerts.yml differs from the \"Alert rules\" block of docs/metrics.md"
install -m 0644 dist/exitblock-alerts.yml "$pkg/usr/share/exitblock/exitblock-alerts.yml"
if command -v promtool >/dev/null; then
    promtool check rules "$pkg/usr/share/exitblock/exitblock-alerts.yml" >&2 || die "promtool refuses the alert rules"
fi

python3 -m json.tool dist/grafana/exitblock.json >/dev/null || die "dist/grafana/exitblock.json is not JSON"
install -m 0644 dist/grafana/exitblock.json "$pkg/usr/share/exitblock/grafana/exitblock.json"

install -d -m 0755 "$pkg/usr/share/lintian/overrides"
install -m 0644 dist/debian/lintian-overrides "$pkg/usr/share/lintian/overrides/exitblock"
gzip -9n <README.md >"$doc/README.md.gz"
for document in docs/*.md; do
    gzip -9n <"$document" >"$doc/docs/$(basename "$document").gz"
done
install -m 0644 dist/exitblock.toml "$doc/exitblock.toml.example"
maintainer="exitblock maintainers <maintainers@users.noreply.r-seed-0e54a963.example>"
{
    printf 'exitblock (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from %s.\n\n' "${EXITBLOCK_GIT_DESCRIBE:-an unknown commit}"
    printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
scripts/lib/deb-copyright.sh "$scratch" >"$doc/copyright"
chmod 0644 "$doc"/*.gz "$doc"/copyright "$doc"/exitblock.toml.example "$doc"/docs/*

# Depends: the shared libraries the binary links (dpkg-shlibdeps needs a debian/control to
# read), and the programs run: iptables/ip6tables(-save/-restore) by `rules`, ipset by
# `rules install` and `run` for the verdict caches (on by default), /bin/kill (procps) by the
# unit's ExecReload, adduser by postinst.
shlib_dir="$stage/shlibdeps"
mkdir -p "$shlib_dir/debian"
printf 'Source: exitblock\n\nPackage: exitblock\nArchitecture: any\n' >"$shlib_dir/debian/control"
shlibs=$(cd "$shlib_dir" && dpkg-shlibdeps -O "$pkg/usr/sbin/exitblock" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n "$shlibs" ]] || die "dpkg-shlibdeps found no libraries for the binary"
depends="$shlibs, adduser, iptables, ipset, procps"
installed_size=$(du -k -s --exclude=DEBIAN "$pkg" | cut -f1)

cat >"$pkg/DEBIAN/control" <<EOF
Package: exitblock
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Suggests: nftables, prometheus
Section: net
Priority: optional
Homepage: https://github.com/exitblock/exitblock
Description: drop traffic from Tor exit nodes inline on a Linux gateway
 exitblock reads packets that iptables/ip6tables rules hand to an NFQUEUE, looks
 each source address up in an immutable snapshot of the Tor exit set and answers
 ACCEPT or DROP. Lists come from files or URLs and are refreshed in the
 background; counters and Prometheus metrics are served on a stats socket.
 .
 The package installs the program, a systemd unit (not enabled or started), a
 commented configuration file, Prometheus alert rules and a Grafana dashboard.
 It never installs firewall rules by itself: see "exitblock rules install" and
 the operator guide.
EOF
printf '/etc/exitblock/exitblock.toml\n' >"$pkg/DEBIAN/conffiles"
install -m 0755 dist/debian/postinst dist/debian/prerm dist/debian/postrm "$pkg/DEBIAN/"
(cd "$pkg" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/$name.deb"
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2

say "lintian $deb"
lintian_out="$out/$name.lintian"
lintian --info --no-tag-display-limit "$deb" >"$lintian_out" 2>&1 || true
cat "$lintian_out" >&2
if grep -q '^E: ' "$lintian_out"; then
    die "lintian reports errors (above)"
fi
say "ldd: $(ldd "$pkg/usr/sbin/exitblock" | awk '{print $1}' | tr '\n' ' ')"
say "$(du -h "$deb" | cut -f1) $deb ($((SECONDS - started)) s)"
printf '%s\n' "$deb"
