#!/usr/bin/env bash
# scripts/rules-restore-test.sh: `rules remove` gives the operator's ruleset back exactly. In
# a fresh network namespace per case, both families, both backends:
#   empty      nothing before; rules install (its defaults: both verdict caches), remove;
#   reject     nothing before; install --reject (the filter table too), remove;
#   operator   the operator's own rules before (mangle and filter, both families, and with
#              nft an inet table of its own); install --reject --hook both, remove.
# Compared before install and after remove: iptables-save, ip6tables-save (no -t: only the
# tables that exist), `nft list ruleset` and `ipset list -n`, all identical; and `rules show`
# says not installed. With iptables-legacy a table, once loaded, cannot be unloaded: the
# tables install loaded stay, holding nothing (no rule, no chain, every policy ACCEPT; they
# cost nothing then), which is checked instead of the identical save output.
# Needs root, iptables (both backends), nft, ipset. Ends with `rules-restore: N passed, M failed`.
# Environment: EXITBLOCK (binary; default the debug build), RESTORE_BACKENDS (default "legacy nft").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"
# shellcheck source=lib/assert.sh
source "$root/scripts/lib/assert.sh"
ASSERT_NAME=rules-restore

BACKENDS=${RESTORE_BACKENDS:-legacy nft}
netns=""
workdir=""
cleanup() {
    local rc=$?
    set +e
    [[ -z "$netns" ]] || ip netns del "$netns" 2>/dev/null
    [[ -z "$workdir" ]] || rm -rf "$workdir"
    summarize_on_exit "$rc"
    ((failed == 0)) || rc=1
    exit "$rc"
}
trap cleanup EXIT

(($(id -u) == 0)) || die "needs root (network namespaces, iptables)"
for tool in ip iptables-legacy-save iptables-nft-save ip6tables-legacy-save ip6tables-nft-save nft ipset; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (scripts/deps.sh test)"
done
exitblock=$(find_exitblock "$root") || exit 1
workdir=$(mktemp -d "${TMPDIR:-/tmp}/exitblock-restore.XXXXXX")

ns() { ip netns exec "$netns" "$@"; }

uncommented() { grep -v '^#' || true; }
differs() { ! cmp -s "$1" "$2"; }

# snapshot BACKEND FILE: the whole ruleset as the tools print it (their dated comments out).
snapshot() {
    {
        echo "== iptables-$1-save"
        ns "iptables-$1-save" | uncommented
        echo "== ip6tables-$1-save"
        ns "ip6tables-$1-save" | uncommented
        echo "== nft list ruleset"
        ns nft list ruleset
        echo "== ipset list -n"
        ns ipset list -n | sort
    } >"$2" 2>&1
}

# operator_rules BACKEND: a firewall of the operator's own, before exitblock.
operator_rules() {
    local tool
    for tool in iptables ip6tables; do
        ns "$tool-$1" -t mangle -A FORWARD -p tcp --dport 22 -j ACCEPT
        ns "$tool-$1" -t mangle -A PREROUTING -p udp --dport 53 -j MARK --set-mark 7
        ns "$tool-$1" -t filter -A FORWARD -p tcp --dport 25 -j DROP
        ns "$tool-$1" -t filter -N OPERATOR
        ns "$tool-$1" -t filter -A INPUT -j OPERATOR
        ns "$tool-$1" -t filter -P FORWARD DROP
    done
    if [[ "$1" == nft ]]; then
        ns nft -f - <<'EOF'
table inet operator {
    chain input {
        type filter hook input priority 10; policy accept;
        tcp dport 8080 counter drop
    }
}
EOF
    fi
}

# legacy_leftovers BEFORE AFTER: the tables in AFTER and not in BEFORE that hold something
# (a rule, a user chain, a policy other than ACCEPT); empty when none.
legacy_leftovers() {
    python3 - "$1" "$2" <<'PY'
import sys
def tables(path):
    out, name, section, family = {}, None, [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("== "):
            family = line[3:]
        elif line.startswith("*"):
            name, section = (family, line[1:]), []
        elif line == "COMMIT" and name:
            out[name] = section
            name = None
        elif name:
            section.append(line)
    return out
before, after = tables(sys.argv[1]), tables(sys.argv[2])
for key, lines in after.items():
    if key in before:
        if lines != before[key]:
            print("%s %s changed" % key)
        continue
    for line in lines:
        if not (line.startswith(":") and " ACCEPT " in line):
            print("%s %s: %s" % (key + (line,)))
for key in before:
    if key not in after:
        print("%s %s gone" % key)
PY
}

# case NAME BACKEND OPERATOR INSTALL_ARGS...
run_case() {
    local name=$1 backend=$2 operator=$3
    shift 3
    netns="ebrr$$"
    ip netns add "$netns"
    ns ip link set lo up
    [[ "$operator" == no ]] || operator_rules "$backend"
    snapshot "$backend" "$workdir/before"
    if ns "$exitblock" rules install --backend "$backend" "$@" >"$workdir/install.out" 2>&1; then
        pass "$backend $name: rules install $*"
    else
        fail "$backend $name: rules install $*: $(cat "$workdir/install.out")"
    fi
    snapshot "$backend" "$workdir/installed"
    check "$backend $name: install changed the ruleset" differs "$workdir/before" "$workdir/installed"
    if ns "$exitblock" rules remove --backend "$backend" >"$workdir/remove.out" 2>&1; then
        pass "$backend $name: rules remove: $(tr '\n' ' ' <"$workdir/remove.out")"
    else
        fail "$backend $name: rules remove: $(cat "$workdir/remove.out")"
    fi
    snapshot "$backend" "$workdir/after"
    check "$backend $name: rules show says not installed" \
        bash -c '! ip netns exec "$1" "$2" rules show --backend "$3" >/dev/null 2>&1' _ "$netns" "$exitblock" "$backend"
    if [[ "$backend" == nft ]]; then
        if cmp -s "$workdir/before" "$workdir/after"; then
            pass "$backend $name: iptables-save, ip6tables-save, nft list ruleset, ipsets: identical before install and after remove"
        else
            fail "$backend $name: the ruleset differs after remove: $(diff "$workdir/before" "$workdir/after" | head -20)"
        fi
    else
        local leftovers
        leftovers=$(legacy_leftovers "$workdir/before" "$workdir/after")
        check_eq "$backend $name: every table as before, the ones install loaded hold nothing" "" "$leftovers"
        local before_sets after_sets
        before_sets=$(sed -n '/^== ipset/,$p' "$workdir/before")
        after_sets=$(sed -n '/^== ipset/,$p' "$workdir/after")
        check_eq "$backend $name: ipsets as before" "$before_sets" "$after_sets"
    fi
    ip netns del "$netns"
    netns=""
}

for backend in $BACKENDS; do
    run_case empty "$backend" no
    run_case reject "$backend" no --reject
    run_case operator "$backend" yes --reject --hook both
done
summary
