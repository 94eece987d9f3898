#!/usr/bin/env python3
"""Checks `exitblock list parse --policy` against an independent reading of the same document.

Usage: policy_check.py CONSENSUS PARSE_OUTPUT [--relays]

Reads the consensus (ns flavour) with plain string splitting: every relay, its r/a/s/p lines.
Exit mode: relays with Exit and not BadExit give their r-line IPv4 address and every a-line
address; an IPv4 address's ports are the union of its relays' `p` summaries (accept: the
listed ports; reject: every other port of 1-65535), an IPv6 address covers every port.
Relay mode (--relays): every relay gives its r-line address with {ORPort, DirPort if not 0}
and each a-line address with its port.
Compares each address's port set with exitblock's line `ADDRESS<TAB>SUMMARY` (same
grammar), for every address of both. Prints one summary line; exits 1 on any difference.
"""

import ipaddress
import sys

ALL = frozenset(range(1, 65536))


def ports_of(summary):
    keyword, _, port_list = summary.partition(" ")
    listed = set()
    for item in port_list.split(","):
        low, _, high = item.partition("-")
        listed.update(range(int(low), int(high or low) + 1))
    return frozenset(listed) if keyword == "accept" else ALL - listed


def read_consensus(path, relays_mode):
    expected = {}
    relay = None

    def finish(relay):
        if relay is None:
            return
        if not relays_mode and not (relay["exit"] and not relay["badexit"]):
            return
        for address, ports in relay["addresses"]:
            if relays_mode:
                own = ports
            elif ipaddress.ip_address(address).version == 4:
                own = ports_of(relay["p"]) if relay["p"] else ALL
            else:
                own = ALL
            expected[address] = expected.get(address, frozenset()) | own

    relay_count = 0
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "directory-footer":
                break
            if fields[0] == "r":
                finish(relay)
                relay_count += 1
                or_port, dir_port = int(fields[7]), int(fields[8])
                own = frozenset(p for p in (or_port, dir_port) if p)
                relay = {"addresses": [(fields[6], own)], "exit": False, "badexit": False, "p": None}
            elif relay is not None and fields[0] == "a":
                host, _, port = fields[1].rpartition(":")
                address = str(ipaddress.ip_address(host.strip("[]")))
                relay["addresses"].append((address, frozenset([int(port)]) if int(port) else frozenset()))
            elif relay is not None and fields[0] == "s":
                relay["exit"] = "Exit" in fields[1:]
                relay["badexit"] = "BadExit" in fields[1:]
            elif relay is not None and fields[0] == "p":
                relay["p"] = " ".join(fields[1:])
    finish(relay)
    return expected, relay_count


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    relays_mode = "--relays" in sys.argv
    expected, relay_count = read_consensus(args[0], relays_mode)
    found = {}
    with open(args[1], encoding="utf-8") as handle:
        for line in handle:
            address, _, summary = line.rstrip("\n").partition("\t")
            found[str(ipaddress.ip_address(address))] = ports_of(summary)
    differences = 0
    for address in sorted(set(expected) | set(found)):
        if expected.get(address) != found.get(address):
            differences += 1
            if differences <= 5:
                print(f"difference at {address}: expected {len(expected.get(address, ()))} ports, "
                      f"exitblock {len(found.get(address, ()))}", file=sys.stderr)
    distinct = len(set(found.values()))
    mode = "relays" if relays_mode else "exits"
    print(f"policy_check {mode}: {relay_count} relays read, {len(expected)} addresses expected, "
          f"{len(found)} from exitblock, {distinct} distinct port sets, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
