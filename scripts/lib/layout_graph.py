#!/usr/bin/env python3
"""Draws the graph of the package's targets (ours, tests left out) from Package.swift into a document.

Usage: layout_graph.py PACKAGE_JSON DOCUMENT [--check]

PACKAGE_JSON is `swift package dump-package`'s output. The graph (a mermaid flowchart and the same
edges as a plain list) replaces what stands between the document's two marker lines
`<!-- targets graph: begin -->` and `<!-- targets graph: end -->`. With --check nothing is
written: it exits 1 when the document's graph is not the one Package.swift gives (run it without
--check to bring it up to date).
"""

import json
import pathlib
import sys

BEGIN = "<!-- targets graph: begin (scripts/lib/layout_graph.py writes it from Package.swift) -->"
END = "<!-- targets graph: end -->"


def edges(package):
    """(target, [our targets it depends on]) for every target that is not a test, in file order."""
    ours = {target["name"] for target in package["targets"]}
    rows = []
    for target in package["targets"]:
        if target["type"] in ("test", "plugin"):
            continue
        names = []
        for dependency in target["dependencies"]:
            for kind in ("byName", "target"):
                if kind in dependency and dependency[kind][0] in ours:
                    names.append(dependency[kind][0])
        rows.append((target["name"], sorted(names)))
    return rows


def render(rows):
    lines = [BEGIN, "", "```mermaid", "flowchart TD"]
    for name, dependencies in rows:
        if not dependencies:
            lines.append(f"    {name}")
        for dependency in dependencies:
            lines.append(f"    {name} --> {dependency}")
    lines += ["```", "", "| target | depends on (our targets) |", "| --- | --- |"]
    for name, dependencies in rows:
        lines.append(f"| {name} | {', '.join(dependencies) or '(none)'} |")
    lines += ["", END]
    return "\n".join(lines)


def main():
    arguments = [argument for argument in sys.argv[1:] if argument != "--check"]
    if len(arguments) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    package = json.loads(pathlib.Path(arguments[0]).read_text(encoding="utf-8"))
    document = pathlib.Path(arguments[1])
    text = document.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"{document}: the marker lines are missing", file=sys.stderr)
        return 2
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    updated = before + render(edges(package)) + after
    if "--check" in sys.argv[1:]:
        if updated != text:
            print(f"{document}: the targets graph is not Package.swift's; run scripts/lib/layout_graph.py")
            return 1
        print(f"{document}: the targets graph is current")
        return 0
    document.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
