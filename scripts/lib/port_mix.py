#!/usr/bin/env python3
"""A traffic mix from real exit addresses for scripts/policy-measure.sh (standard library only).

  plan   CONSENSUS --count N --seed S
      Reads the consensus like lib/policy_check.py (independently of exitblock) and picks N
      IPv4 exit addresses whose policy rejects some port of REJECTED_POOL and accepts some
      port of ACCEPTED_POOL. Prints one line per address: "ADDRESS ACCEPTED_PORT REJECTED_PORT".
  serve  --ports P,P,... --out FILE --ready FILE [--deadline S]
      In the server namespace: UDP sockets on 0.0.0.0 at each port; counts datagrams per
      (source, port); writes {"SRC PORT": n} to FILE on SIGTERM or after --deadline.
  send   --plan FILE --dst ADDR --count K
      In the client namespace: from each planned address, K datagrams to ACCEPTED_PORT and K
      to REJECTED_PORT at ADDR. Prints {"sent": n}.
  tally  --plan FILE --server FILE --count K
      Prints "accepted_sent= accepted_received= rejected_sent= rejected_received=".
"""

import argparse
import json
import os
import random
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_check  # noqa: E402

# Ports a customer's traffic to or from an exit host plausibly uses.
ACCEPTED_POOL = [80, 443, 53, 8080, 8443, 22, 993, 5222]
REJECTED_POOL = [25, 22, 465, 587, 119, 445, 6881, 3389, 8080, 5060]


def cmd_plan(args):
    expected, _ = policy_check.read_consensus(args.consensus, False)
    rng = random.Random(args.seed)
    candidates = []
    for address, ports in sorted(expected.items()):
        if ":" in address or ports == policy_check.ALL:
            continue
        accepted = [p for p in ACCEPTED_POOL if p in ports]
        rejected = [p for p in REJECTED_POOL if p not in ports]
        if accepted and rejected:
            candidates.append((address, accepted, rejected))
    for address, accepted, rejected in rng.sample(candidates, min(args.count, len(candidates))):
        print(address, rng.choice(accepted), rng.choice(rejected))
    return 0


def cmd_serve(args):
    ports = [int(p) for p in args.ports.split(",")]
    selector = selectors.DefaultSelector()
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, port)
    counts = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    with open(args.ready, "w", encoding="utf-8"):
        pass
    deadline = time.monotonic() + args.deadline
    while not stop and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            while True:
                try:
                    _, (src, _) = key.fileobj.recvfrom(2048)
                except BlockingIOError:
                    break
                name = f"{src} {key.data}"
                counts[name] = counts.get(name, 0) + 1
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(counts, handle)
    return 0


def read_plan(path):
    with open(path, encoding="utf-8") as handle:
        return [(a, int(ok), int(no)) for a, ok, no in (line.split() for line in handle if line.strip())]


def cmd_send(args):
    sent = 0
    for address, ok, no in read_plan(args.plan):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, 0))
        for port in (ok, no):
            for index in range(args.count):
                sock.sendto(b"exitblock-mix %d" % index, (args.dst, port))
                sent += 1
        sock.close()
    print(json.dumps({"sent": sent}))
    return 0


def cmd_tally(args):
    with open(args.server, encoding="utf-8") as handle:
        counts = json.load(handle)
    totals = dict.fromkeys(["accepted_sent", "accepted_received", "rejected_sent", "rejected_received"], 0)
    for address, ok, no in read_plan(args.plan):
        totals["accepted_sent"] += args.count
        totals["rejected_sent"] += args.count
        totals["accepted_received"] += counts.get(f"{address} {ok}", 0)
        totals["rejected_received"] += counts.get(f"{address} {no}", 0)
    print(" ".join(f"{k}={v}" for k, v in totals.items()))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    plan = sub.add_parser("plan")
    plan.add_argument("consensus")
    plan.add_argument("--count", type=int, default=200)
    plan.add_argument("--seed", type=int, default=1)
    serve = sub.add_parser("serve")
    serve.add_argument("--ports", required=True)
    serve.add_argument("--out", required=True)
    serve.add_argument("--ready", required=True)
    serve.add_argument("--deadline", type=float, default=300.0)
    send = sub.add_parser("send")
    send.add_argument("--plan", required=True)
    send.add_argument("--dst", required=True)
    send.add_argument("--count", type=int, default=5)
    tally = sub.add_parser("tally")
    tally.add_argument("--plan", required=True)
    tally.add_argument("--server", required=True)
    tally.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    return {"plan": cmd_plan, "serve": cmd_serve, "send": cmd_send, "tally": cmd_tally}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
