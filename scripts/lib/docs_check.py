#!/usr/bin/env python3
"""Checks that the documents name only what exists (run by scripts/docs-test.sh).

Usage: docs_check.py EXITBLOCK FILE.md...

- Every `exitblock` command line in a shell block or an inline code span (also the short
  forms `run --mode flow`, `rules install --config FILE`) names subcommands that exist, and
  options that the subcommand it names has (from `exitblock --experimental-dump-help`, the
  command tree swift-argument-parser renders from the commands' own definitions).
- An inline code span that is an option alone (`--max-shrink`) names an option of some
  subcommand, unless it is an option of another program (FOREIGN_OPTIONS).
- Every key of a TOML block, every `key = value` span and every "config key `name`" is a key
  of the configuration schema (the tables and keys `exitblock config check` prints), and every
  TOML block passes `exitblock config check` (the problems it reports on a line).
- Every relative link's anchor is a heading of the document it points to.

Each failure is printed as FILE:LINE: what is wrong; the exit status is 1 when any was found.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

# Options of other programs that the documents name in code spans of their own: the
# benchmark's (scripts/bench.sh), iptables', nft's, swift build's, curl's, systemd's, ExaBGP's.
FOREIGN_OPTIONS = {
    "--queue-num", "--queue-balance", "--ctstate", "--match-set", "--reject-with", "--noflush",
    "--syn", "--set-mark", "--static-swift-stdlib", "--scratch-path", "--show-bin-path",
    "--product", "--profiles", "--clean-sources", "--loads", "--rate", "--syn-sources",
    "--syn-duration", "--modes", "--quick", "--keep", "--rounds", "--duration", "--no-tcp",
    "--no-instructions", "--no-alloc", "--listed-percent", "--out", "--unix-socket",
    "--multi-page", "--section", "--authors", "--configuration", "--variant", "--full",
    "--now", "--strict", "--recursive", "--missing", "--output",
}
# Options every command takes (swift-argument-parser's own).
GLOBAL_OPTIONS = {"--help", "--version", "--generate-completion-script", "--experimental-dump-help"}
SHELL_BLOCKS = {"sh", "bash", "console", "shell"}
# Words after which the next one is a command.
COMMAND_WRAPPERS = {"sudo", "run", "exec", "env", "time", "$", "then", "do"}
SEPARATORS = {"|", "||", ";", "&&", "#", ">", ">>", "2>&1", ")", "\\"}


def command_tree(exitblock):
    dump = subprocess.run([exitblock, "--experimental-dump-help"], capture_output=True, text=True, check=True)
    root = json.loads(dump.stdout)["command"]

    def node(command):
        options = set(GLOBAL_OPTIONS)
        for argument in command.get("arguments") or []:
            for name in argument.get("names") or []:
                options.add(("--" if name["kind"] == "long" else "-") + name["name"])
        return {
            "options": options,
            "subcommands": {sub["commandName"]: node(sub) for sub in command.get("subcommands") or []},
        }

    return node(root)


def config_schema(exitblock):
    """Table -> keys, from what `config check` prints for a minimal valid file."""
    with tempfile.TemporaryDirectory() as directory:
        exits = os.path.join(directory, "exits.txt")
        config = os.path.join(directory, "exitblock.toml")
        with open(exits, "w") as file:
            file.write("192.0.2.1\n")
        with open(config, "w") as file:
            file.write(f'[run]\nqueue = ["0"]\nlist = ["{exits}"]\n')
        out = subprocess.run([exitblock, "config", "check", config], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"docs-check: exitblock config check of a minimal file failed: {out.stderr.strip()}")
    tables, table = {}, None
    for line in out.stdout.splitlines():
        if match := re.match(r"^\[([a-z-]+)\]$", line):
            table = tables.setdefault(match.group(1), set())
        elif table is not None and (match := re.match(r"^(?:# )?([a-z0-9-]+) =", line)):
            table.add(match.group(1))
    return tables


def heading_anchors(path):
    """The anchors GitHub gives the headings of a Markdown file."""
    anchors, block = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            block = not block
        elif not block and re.match(r"^#{1,6} ", line):
            text = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


class Checker:
    def __init__(self, exitblock):
        self.exitblock = exitblock
        self.tree = command_tree(exitblock)
        self.all_options = set()
        self._collect(self.tree)
        self.schema = config_schema(exitblock)
        self.all_keys = set().union(*self.schema.values())
        self.failures = []

    def _collect(self, node):
        self.all_options |= node["options"]
        for sub in node["subcommands"].values():
            self._collect(sub)

    def fail(self, where, message):
        self.failures.append(f"{where[0]}:{where[1]}: {message}")

    # Commands ---------------------------------------------------------------------------
    def check_command(self, where, tokens):
        """tokens: what follows `exitblock` (or the first subcommand of a short form)."""
        node, path = self.tree, ["exitblock"]
        for index, token in enumerate(tokens):
            if token in SEPARATORS or token.startswith("#") or token.startswith(">"):
                return
            if token.startswith("--"):
                option = re.sub(r"[=\[].*$", "", token).rstrip(",.:;)`'\"")
                if not re.fullmatch(r"--[a-z0-9][a-z0-9-]*", option):
                    continue
                if option not in node["options"]:
                    command = " ".join(path)
                    shown = " ".join(tokens[: next((i for i, t in enumerate(tokens) if t in SEPARATORS), len(tokens))])
                    self.fail(where, f"`{command}` has no option {option} (in `exitblock {shown}`)")
                continue
            if node["subcommands"] and index == len(path) - 1 and re.fullmatch(r"[a-z][a-z-]*", token):
                if token == "help":
                    return
                if token not in node["subcommands"]:
                    self.fail(where, f"`{' '.join(path)}` has no subcommand {token}")
                    return
                node = node["subcommands"][token]
                path.append(token)

    def scan_shell(self, where, text):
        """Checks the exitblock commands of a shell line: `exitblock` (or a path ending in it) in
        command position, that is first, after a separator, `$(`, or a wrapper (sudo, run)."""
        words = text.strip().split()
        for index, word in enumerate(words):
            if not re.fullmatch(r"(?:\$\()?(?:/[\w./-]*/)?exitblock", word):
                continue
            previous = words[index - 1] if index > 0 else None
            if previous is None or previous in SEPARATORS or previous in COMMAND_WRAPPERS or word.startswith("$("):
                self.check_command(where, words[index + 1 :])
        if words and words[0] in self.tree["subcommands"] and words[0] != "help" and len(words) > 1:
            subcommands = self.tree["subcommands"][words[0]]["subcommands"]
            if words[1].startswith("--") or words[1] in subcommands:
                self.check_command(where, words)

    # Config keys ------------------------------------------------------------------------
    def check_key(self, where, key, table=None):
        keys = self.schema.get(table, self.all_keys) if table else self.all_keys
        if table and table not in self.schema:
            self.fail(where, f"config table [{table}] does not exist (tables: {', '.join(sorted(self.schema))})")
        elif key not in keys:
            place = f"[{table}]" if table else "any table"
            self.fail(where, f"config key {key} does not exist in {place}")

    def check_toml(self, path, start, lines):
        table = "run"
        for offset, line in enumerate(lines, start=1):
            where = (path, start + offset)
            if match := re.match(r"^\s*\[([a-z-]+)\]\s*(#.*)?$", line):
                table = match.group(1)
                if table not in self.schema:
                    self.fail(where, f"config table [{table}] does not exist")
            elif (match := re.match(r"^\s*([a-z0-9-]+)\s*=", line)) and table in self.schema:
                self.check_key(where, match.group(1), table)
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as file:
            file.write("\n".join(lines) + "\n")
        try:
            out = subprocess.run([self.exitblock, "config", "check", file.name], capture_output=True, text=True)
        finally:
            os.unlink(file.name)
        for line in out.stderr.splitlines():
            if match := re.search(re.escape(file.name) + r":(\d+): (.*)$", line):
                self.fail((path, start + int(match.group(1))), f"exitblock config check: {match.group(2)}")

    # Documents --------------------------------------------------------------------------
    def scan(self, path):
        lines = open(path, encoding="utf-8").read().split("\n")
        block, block_start, block_lines = None, 0, []
        for number, line in enumerate(lines, start=1):
            fence = re.match(r"^\s*```(\S*)", line)
            if fence and block is None:
                block, block_start, block_lines = fence.group(1), number, []
                continue
            if fence:
                if block == "toml":
                    self.check_toml(path, block_start, block_lines)
                block = None
                continue
            if block is not None:
                block_lines.append(line)
                if block in SHELL_BLOCKS:
                    self.scan_shell((path, number), re.sub(r"^\$ ", "", line))
                elif line.startswith("$ "):  # a command with its output
                    self.scan_shell((path, number), line[2:])
                continue
            self.scan_prose((path, number), line)

    # Links ------------------------------------------------------------------------------
    def check_links(self, where, line):
        """A relative link's anchor must be a heading of its target. A missing target file is
        only warned about (a document another change adds may not be there yet)."""
        for link in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"^[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = os.path.normpath(os.path.join(os.path.dirname(where[0]), path)) if path else where[0]
            if not os.path.exists(target):
                print(f"{where[0]}:{where[1]}: warning: link to {link}: no file {target}", file=sys.stderr)
            elif anchor and anchor not in heading_anchors(target):
                self.fail(where, f"link to {link}: {target} has no heading with the anchor #{anchor}")

    def scan_prose(self, where, line):
        self.check_links(where, line)
        for span in re.findall(r"`([^`]+)`", line):
            if span.startswith("--"):
                option = re.sub(r"[=\[ ].*$", "", span).rstrip(",.:;)")
                if (
                    re.fullmatch(r"--[a-z0-9][a-z0-9-]*", option)
                    and option not in self.all_options
                    and option not in FOREIGN_OPTIONS
                ):
                    self.fail(where, f"no exitblock command has the option {option}")
            elif match := re.fullmatch(r"([a-z][a-z0-9-]*) = .+", span):
                self.check_key(where, match.group(1))
            else:
                self.scan_shell(where, span)
        for match in re.finditer(r"config keys? `([a-z0-9-]+)`", line):
            self.check_key(where, match.group(1))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    checker = Checker(sys.argv[1])
    for path in sys.argv[2:]:
        checker.scan(path)
    for failure in checker.failures:
        print(failure)
    print(f"docs-check: {len(sys.argv) - 2} documents, {len(checker.failures)} problem(s)", file=sys.stderr)
    sys.exit(1 if checker.failures else 0)


if __name__ == "__main__":
    main()
