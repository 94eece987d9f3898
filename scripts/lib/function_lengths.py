#!/usr/bin/env python3
"""Lists the Swift functions longer than a limit: every `func`, `init`, `deinit` and `subscript` body,
counted from the line of its keyword to the line of its closing brace.

Usage: function_lengths.py [--limit N] [--exclude DIR]... [--pending FILE:NAME]... PATH...

PATH is a file or a folder (its *.swift files, recursively). Comments and string literals (also
multi-line and raw ones, with interpolations) are skipped when braces are matched. Prints one line
per function over the limit (`path:line: name is N lines (limit L)`) and exits 1 when there is one.
--pending FILE:NAME names a function whose split is under way elsewhere (a file's name, not its
path): it is listed as pending and does not fail the check.
"""

import argparse
import pathlib
import sys

DECLARATIONS = {"func", "init", "deinit", "subscript"}
# A declaration without a body (a protocol requirement) ends where one of these starts.
ENDS_BODILESS = {
    "func", "init", "deinit", "subscript", "var", "let", "case", "static", "public", "private", "internal",
    "fileprivate", "package", "open", "associatedtype", "typealias", "mutating", "nonisolated", "@",
}


class Scanner:
    """Swift source as a list of (line, token): words and the brackets `{ } ( )`."""

    def __init__(self, text):
        self.text = text
        self.position = 0
        self.line = 1
        self.tokens = []

    def scan(self):
        self.scan_until(None)
        return self.tokens

    def peek(self, offset=0):
        index = self.position + offset
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count=1):
        for _ in range(count):
            if self.peek() == "\n":
                self.line += 1
            self.position += 1

    def scan_until(self, closing):
        """Tokens up to the `)` that closes an interpolation (closing == ")"), or the end."""
        depth = 0
        while self.position < len(self.text):
            char = self.peek()
            if self.text.startswith("//", self.position):
                while self.position < len(self.text) and self.peek() != "\n":
                    self.advance()
            elif self.text.startswith("/*", self.position):
                self.skip_block_comment()
            elif char == '"' or (char == "#" and self.raw_string_hashes() is not None):
                self.skip_string()
            elif char in "{}()":
                if closing == ")" and char == ")" and depth == 0:
                    self.advance()
                    return
                depth += {"(": 1, ")": -1}.get(char, 0)
                self.tokens.append((self.line, char))
                self.advance()
            elif char.isalpha() or char == "_" or char == "@":
                start = self.position
                self.advance()
                while self.peek().isalnum() or self.peek() == "_":
                    self.advance()
                word = self.text[start:self.position]
                self.tokens.append((self.line, "@" if word.startswith("@") else word))
            else:
                self.advance()

    def skip_block_comment(self):
        depth = 0
        while self.position < len(self.text):
            if self.text.startswith("/*", self.position):
                depth += 1
                self.advance(2)
            elif self.text.startswith("*/", self.position):
                depth -= 1
                self.advance(2)
                if depth == 0:
                    return
            else:
                self.advance()

    def raw_string_hashes(self):
        """The number of `#` before a raw string's opening quote here, or None."""
        count = 0
        while self.peek(count) == "#":
            count += 1
        return count if self.peek(count) == '"' else None

    def skip_string(self):
        hashes = self.raw_string_hashes() or 0
        self.advance(hashes)
        multiline = self.text.startswith('"""', self.position)
        quote = '"""' if multiline else '"'
        self.advance(len(quote))
        terminator = quote + "#" * hashes
        escape = "\\" + "#" * hashes
        while self.position < len(self.text):
            if self.text.startswith(terminator, self.position):
                self.advance(len(terminator))
                return
            if self.text.startswith(escape, self.position):
                self.advance(len(escape))
                if self.peek() == "(":
                    self.advance()
                    self.scan_until(")")
                else:
                    self.advance()
            elif self.peek() == "\n" and not multiline:
                return
            else:
                self.advance()


def functions(tokens):
    """(name, first line, last line) of every declaration with a body."""
    found = []
    for index, (line, word) in enumerate(tokens):
        if word not in DECLARATIONS:
            continue
        name = tokens[index + 1][1] if word == "func" and index + 1 < len(tokens) else word
        body = body_start(tokens, index + 1)
        if body is None:
            continue
        end = matching_brace(tokens, body)
        if end is not None:
            found.append((name, line, tokens[end][0]))
    return found


def body_start(tokens, index):
    depth = 0
    while index < len(tokens):
        word = tokens[index][1]
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0 and word == "{":
            return index
        elif depth == 0 and (word == "}" or word in ENDS_BODILESS):
            return None
        index += 1
    return None


def matching_brace(tokens, index):
    depth = 0
    for position in range(index, len(tokens)):
        word = tokens[position][1]
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
            if depth == 0:
                return position
    return None


def swift_files(paths, excluded):
    for path in map(pathlib.Path, paths):
        candidates = [path] if path.is_file() else sorted(path.rglob("*.swift"))
        for candidate in candidates:
            if not any(part in excluded for part in candidate.parts):
                yield candidate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--exclude", action="append", default=[], help="a folder name to skip")
    parser.add_argument("--pending", action="append", default=[], help="FILE:NAME, split under way elsewhere")
    parser.add_argument("paths", nargs="+")
    arguments = parser.parse_args()
    over = []
    pending = []
    count = 0
    for path in swift_files(arguments.paths, set(arguments.exclude)):
        for name, first, last in functions(Scanner(path.read_text(encoding="utf-8")).scan()):
            count += 1
            length = last - first + 1
            if length > arguments.limit:
                line = f"{path}:{first}: {name} is {length} lines (limit {arguments.limit})"
                (pending if f"{path.name}:{name}" in arguments.pending else over).append(line)
    for line in over:
        print(line)
    for line in pending:
        print(line + " (pending)")
    print(f"function lengths: {count} functions, {len(over)} longer than {arguments.limit} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
