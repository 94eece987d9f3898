#!/usr/bin/env bash
# scripts/docs-test.sh: the documents name only what exists (no root needed).
#
# Every `exitblock` subcommand and option named in README.md and docs/*.md exists in the
# command tree, every config key named there exists in the configuration schema, every TOML
# block passes `exitblock config check`, and every link's anchor is a heading of its document
# (scripts/lib/docs_check.py). Every panel of the Grafana dashboard is explained in
# docs/metrics.md. The man page that `exitblock config man` renders passes groff without a
# warning. A failure names the document, the line and what is missing.
#
# Environment: EXITBLOCK (binary; else the debug build, built when missing).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/netns.sh
source "$root/scripts/lib/netns.sh"

EXITBLOCK=$(find_exitblock "$root")
failed=0

mapfile -t documents < <(printf '%s\n' README.md; find docs -name '*.md' | LC_ALL=C sort)
if python3 scripts/lib/docs_check.py "$EXITBLOCK" "${documents[@]}"; then
    echo "docs: every command, option and config key named in ${#documents[@]} documents exists"
else
    echo "docs: the documents above name commands, options or config keys that do not exist" >&2
    failed=1
fi

# Every panel of the Grafana dashboard is explained in docs/metrics.md's panel table.
missing_panels=$(python3 - dist/grafana/exitblock.json docs/metrics.md <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
text = open(sys.argv[2], encoding="utf-8").read()
for panel in dashboard["panels"]:
    if panel["type"] != "row" and f"| {panel['title']} |" not in text:
        print(f"{sys.argv[2]}: the dashboard's panel \"{panel['title']}\" is not in the panel table")
PY
)
if [[ -n "$missing_panels" ]]; then
    printf '%s\n' "$missing_panels" >&2
    failed=1
else
    echo "docs: every panel of dist/grafana/exitblock.json is explained in docs/metrics.md"
fi

# Every document path named in the tracked files (code comments, units, scripts) exists.
dangling=$(git ls-files -z | xargs -0 grep -IonE 'docs/[A-Za-z0-9_./-]+\.(md|svg)' 2>/dev/null |
    while IFS=: read -r file line path; do
        [[ -e "$path" ]] || printf '%s:%s: names %s, which does not exist\n' "$file" "$line" "$path"
    done || true)
if [[ -n "$dangling" ]]; then
    printf 'docs: %s\n' "$dangling" >&2
    failed=1
else
    echo "docs: every docs/ path named in the tree exists"
fi

page=$(mktemp "${TMPDIR:-/tmp}/exitblock-toml5.XXXXXX")
trap 'rm -f "$page"' EXIT
if ! "$EXITBLOCK" config man >"$page"; then
    echo "docs: exitblock config man failed" >&2
    failed=1
elif command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1 || true)
    if [[ -n "$warnings" ]]; then
        printf 'docs: groff warns about exitblock.toml(5):\n%s\n' "$warnings" >&2
        failed=1
    else
        echo "docs: exitblock.toml(5) renders without a warning ($(wc -l <"$page") lines)"
    fi
else
    echo "docs: groff missing, exitblock.toml(5) not rendered"
fi
exit "$failed"
