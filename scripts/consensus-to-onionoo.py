#!/usr/bin/env python3
"""Makes an Onionoo details document from a Tor network-status consensus (ns flavour).

There is no real Onionoo document in the shared test data, so the coverage measurement and
the default-configuration test make one from the real consensus: each relay's `r` line gives
its nickname, fingerprint and IPv4 ORPort, its `a` lines its other ORPorts (IPv6), its `s`
line its flags, and its `p` line its exit_policy_summary. The consensus has no IPv6 policy
summary and no exit_addresses, so neither field is written (as Onionoo leaves out a field it
has nothing for).

By default only the relays Onionoo's `search=flag:exit running:true` would return are
written (flag Exit, and Running); --all writes every relay.

usage: consensus-to-onionoo.py CONSENSUS [--all] > details.json
"""
import argparse
import base64
import json
import sys


def relays(lines):
    relay = None
    for line in lines:
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "directory-footer":
            break
        if fields[0] == "r" and len(fields) >= 9:
            if relay:
                yield relay
            identity = base64.b64decode(fields[2] + "=" * (-len(fields[2]) % 4)).hex().upper()
            relay = {
                "nickname": fields[1],
                "fingerprint": identity,
                "or_addresses": [f"{fields[6]}:{fields[7]}"],
                "flags": [],
            }
            if fields[8] != "0":
                relay["dir_address"] = f"{fields[6]}:{fields[8]}"
        elif relay is None:
            continue
        elif fields[0] == "a" and len(fields) == 2:
            relay["or_addresses"].append(fields[1])
        elif fields[0] == "s":
            relay["flags"] = fields[1:]
        elif fields[0] == "p" and len(fields) == 3 and fields[1] in ("accept", "reject"):
            relay["exit_policy_summary"] = {fields[1]: fields[2].split(",")}
    if relay:
        yield relay


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("consensus")
    parser.add_argument("--all", action="store_true", help="every relay, not only running exits")
    args = parser.parse_args()
    published = ""
    with open(args.consensus, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        if line.startswith("valid-after "):
            published = line[len("valid-after "):]
            break
    chosen = []
    for relay in relays(lines):
        relay["running"] = "Running" in relay["flags"]
        if args.all or ("Exit" in relay["flags"] and relay["running"]):
            chosen.append(relay)
    document = {
        "version": "8.0",
        "build_revision": "made-from-consensus",
        "relays_published": published,
        "relays": chosen,
        "relays_truncated": 0,
        "bridges_published": published,
        "bridges": [],
    }
    json.dump(document, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
