#!/usr/bin/env python3
"""Checks that the targets' dependencies follow the design's fan (docs/development-layout.md).

Usage: check_imports.py PACKAGE_JSON [ROOT]

PACKAGE_JSON is `swift package dump-package`'s output; ROOT the package's folder (default: the
current one). For every target of ours that is not a test, both its dependencies in Package.swift
and the modules each of its Swift files imports must be in the target's row of ALLOWED below
(products of other packages are not checked). A target of the table that does not exist yet is
skipped; a target that is not in the table is an error (give it a row). Prints one line per
problem and exits 1 when there is one.
"""

import json
import pathlib
import re
import sys

# Each room and what it may import of ours: the fan drawn in the design, outer rooms first.
# CLI -> Daemon, Configuration -> Engine, VerdictCache, ListSources, Stats, Rules, BGPFeed
#     -> ExitSet, NetfilterQueue, Conntrack, KernelSets -> Netlink -> LinuxSystem.
# Only the Daemon (and the CLI above it) imports Stats.
LOWER_FLOOR = {"ExitSet", "NetfilterQueue", "Conntrack", "KernelSets", "Netlink", "LinuxSystem"}
ALLOWED = {
    "ExitBlockCLI": {
        "Daemon", "ExitBlockConfiguration", "Engine", "VerdictCache", "ListSources", "Stats", "Rules", "BGPFeed",
    } | LOWER_FLOOR,
    "ExitBlockConfiguration": set(),
    "Daemon": {"Engine", "VerdictCache", "ListSources", "Stats", "Rules", "BGPFeed"} | LOWER_FLOOR,
    # The engine also speaks the rules' vocabulary (match direction, marks), and hands its
    # decisions to the verdict cache's writer and prunes the cache within a publish.
    "Engine": {"Rules", "VerdictCache"} | LOWER_FLOOR,
    "VerdictCache": {"Rules"} | LOWER_FLOOR,
    "ListSources": {"ExitSet", "LinuxSystem"},
    # Stats reads the rooms it reports on and implements ListSources' SourceReporting.
    "Stats": {"Engine", "VerdictCache", "ListSources", "Rules", "BGPFeed", "CBuildInfo"} | LOWER_FLOOR,
    "Rules": {"ExitSet", "KernelSets", "Netlink", "LinuxSystem"},
    "BGPFeed": {"ExitSet", "ListSources", "LinuxSystem"},
    "NetfilterQueue": {"CNetfilterQueue", "Netlink", "LinuxSystem"},
    # The kernel's message and attribute numbers come from its own headers, which the
    # CNetfilterQueue module map includes (an internal import: no C type in their API).
    "Conntrack": {"CNetfilterQueue", "ExitSet", "Netlink", "LinuxSystem"},
    "KernelSets": {"CNetfilterQueue", "ExitSet", "Netlink", "LinuxSystem"},
    "Netlink": {"LinuxSystem"},
    "LinuxSystem": {"CLinuxSystem"},
    "ExitSet": set(),
    "SeededRandom": set(),
    "CBuildInfo": set(),
    "CLinuxSystem": set(),
    "CNetfilterQueue": set(),
    # The benchmark measures the hot path's rooms.
    "ExitBlockBench": {"Engine", "VerdictCache", "SeededRandom"} | LOWER_FLOOR,
}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|package|private|fileprivate)\s+)?import\s+(?:(?:struct|enum|class|func|var|protocol|typealias)\s+)?(\w+)", re.M)


def package_dependencies(target):
    """Our targets named in a target's dependencies (byName or target); products are not ours."""
    names = []
    for dependency in target["dependencies"]:
        for kind in ("byName", "target"):
            if kind in dependency:
                names.append(dependency[kind][0])
    return names


def target_folder(root, target):
    return root / (target.get("path") or f"Sources/{target['name']}")


def problems(package, root):
    ours = {target["name"] for target in package["targets"]}
    found = []
    for target in package["targets"]:
        name = target["name"]
        if target["type"] in ("test", "plugin"):
            continue
        if name not in ALLOWED:
            found.append(f"{name}: not in check_imports.py's table: give it a row")
            continue
        allowed = ALLOWED[name]
        for dependency in package_dependencies(target):
            if dependency not in allowed:
                found.append(f"{name}: Package.swift depends on {dependency}, which the layout does not allow")
        for path in sorted(target_folder(root, target).rglob("*.swift")):
            for module in IMPORT.findall(path.read_text(encoding="utf-8")):
                if module in ours and module != name and module not in allowed:
                    found.append(f"{path.relative_to(root)}: imports {module}, which {name} may not")
    return found


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    package = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
    root = pathlib.Path(sys.argv[2] if len(sys.argv) == 3 else ".")
    found = problems(package, root)
    for line in found:
        print(line)
    checked = sum(1 for target in package["targets"] if target["type"] not in ("test", "plugin"))
    print(f"imports: {checked} targets checked, {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
