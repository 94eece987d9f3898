#!/usr/bin/env python3
"""A stand-in for `exitblock run`, in python3 with the standard library only.

It speaks the same command line and output contract as the Swift daemon:

    nfq_standin.py run --queue N [--queue M ...] --list PATH [--list PATH ...]

binds the NFQUEUE(s) (raw nfnetlink, no libnetfilter_queue), drops packets whose source
address is in the lists, accepts every other packet (also the unparsable ones), prints a
line with `ready` on stderr once every queue is bound, and on SIGINT/SIGTERM unbinds and
prints the final counters on stdout:

    queue N packets=.. accepted=.. dropped=.. unparsable=.. ipv4=.. ipv6=.. ipv4_dropped=.. ipv6_dropped=..
    total packets=.. ...

It exists so the test harness (e2e-test.sh, demo.sh) can be proven on its own, and as an
oracle when the daemon and the harness disagree: run the e2e test with
EXITBLOCK=scripts/lib/nfq_standin.py. It is slow (one verdict message per packet,
a linear scan of the list) and is not a model for the real hot loop.
"""

import argparse
import ipaddress
import select
import signal
import socket
import struct
import sys

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4

NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2

NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10

NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_PACKET = 2
NFQA_CFG_F_GSO = 0x4

NF_DROP = 0
NF_ACCEPT = 1

# Enough for an IPv6 header (40 bytes); the source address is all we read.
COPY_RANGE = 64

NLMSGHDR = struct.Struct("=IHHII")
NLATTR = struct.Struct("=HH")

COUNTER_KEYS = ("packets", "accepted", "dropped", "unparsable", "ipv4", "ipv6", "ipv4_dropped", "ipv6_dropped")


def align4(n):
    return (n + 3) & ~3


def attr(kind, payload):
    body = NLATTR.pack(NLATTR.size + len(payload), kind) + payload
    return body + b"\0" * (align4(len(body)) - len(body))


def nfq_message(msg_type, queue, attrs, flags=NLM_F_REQUEST, seq=0):
    # nfgenmsg: family (AF_UNSPEC), version 0, resource id = queue number, big-endian.
    body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack(">H", queue) + b"".join(attrs)
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def parse_messages(data):
    """Yield (type, flags, seq, payload) for each netlink message in data."""
    offset = 0
    while offset + NLMSGHDR.size <= len(data):
        length, msg_type, flags, seq, _pid = NLMSGHDR.unpack_from(data, offset)
        if length < NLMSGHDR.size or offset + length > len(data):
            return
        yield msg_type, flags, seq, data[offset + NLMSGHDR.size : offset + length]
        offset += align4(length)


def parse_attrs(data):
    attrs = {}
    offset = 0
    while offset + NLATTR.size <= len(data):
        length, kind = NLATTR.unpack_from(data, offset)
        if length < NLATTR.size or offset + length > len(data):
            break
        attrs[kind & 0x3FFF] = data[offset + NLATTR.size : offset + length]
        offset += align4(length)
    return attrs


def load_lists(paths):
    networks = {4: [], 6: []}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                try:
                    net = ipaddress.ip_network(text, strict=False)
                except ValueError as e:
                    raise SystemExit(f"nfq_standin: {path}:{number}: {e}") from None
                networks[net.version].append(net)
    return networks


class Standin:
    def __init__(self, queues, networks):
        self.queues = queues
        self.networks = networks
        self.counters = {q: dict.fromkeys(COUNTER_KEYS, 0) for q in queues}
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.sock.bind((0, 0))

    def request(self, queue, attrs):
        """Send a config request and wait for its acknowledgement."""
        self.seq += 1
        self.sock.send(nfq_message(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK, self.seq))
        while True:
            data = self.sock.recv(65536)
            for msg_type, _flags, seq, payload in parse_messages(data):
                if msg_type == NLMSG_ERROR and seq == self.seq:
                    (error,) = struct.unpack_from("=i", payload)
                    if error:
                        raise OSError(-error, f"NFQUEUE config of queue {queue}")
                    return
                if msg_type == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    self.handle_packet(payload)  # Traffic on an already bound queue.

    def bind(self):
        for q in self.queues:
            self.request(q, [attr(NFQA_CFG_CMD, struct.pack(">BxH", NFQNL_CFG_CMD_BIND, 0))])
            self.request(
                q,
                [
                    attr(NFQA_CFG_PARAMS, struct.pack(">IB", COPY_RANGE, NFQNL_COPY_PACKET)),
                    attr(NFQA_CFG_MASK, struct.pack(">I", NFQA_CFG_F_GSO)),
                    attr(NFQA_CFG_FLAGS, struct.pack(">I", NFQA_CFG_F_GSO)),
                ],
            )

    def unbind(self):
        for q in self.queues:
            try:
                self.sock.send(
                    nfq_message(NFQNL_MSG_CONFIG, q, [attr(NFQA_CFG_CMD, struct.pack(">BxH", NFQNL_CFG_CMD_UNBIND, 0))])
                )
            except OSError as e:
                print(f"nfq_standin: unbind of queue {q}: {e}", file=sys.stderr)

    def listed(self, version, source):
        address = ipaddress.ip_address(source)
        return any(address in net for net in self.networks[version])

    def handle_packet(self, payload):
        queue = struct.unpack_from(">H", payload, 2)[0]
        attrs = parse_attrs(payload[4:])
        header = attrs.get(NFQA_PACKET_HDR)
        if header is None or len(header) < 4:
            return  # No id: nothing we can answer.
        (packet_id,) = struct.unpack_from(">I", header)
        packet = attrs.get(NFQA_PAYLOAD, b"")
        counters = self.counters.setdefault(queue, dict.fromkeys(COUNTER_KEYS, 0))
        counters["packets"] += 1
        verdict = NF_ACCEPT
        version = packet[0] >> 4 if packet else 0
        if version == 4 and len(packet) >= 20:
            family = "ipv4"
            source = packet[12:16]
        elif version == 6 and len(packet) >= 40:
            family = "ipv6"
            source = packet[8:24]
        else:
            family = None
            counters["unparsable"] += 1
        if family:
            counters[family] += 1
            if self.listed(version, source):
                verdict = NF_DROP
                counters[family + "_dropped"] += 1
        counters["dropped" if verdict == NF_DROP else "accepted"] += 1
        self.sock.send(nfq_message(NFQNL_MSG_VERDICT, queue, [attr(NFQA_VERDICT_HDR, struct.pack(">II", verdict, packet_id))]))

    def serve(self, wake):
        packet_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET
        while True:
            readable, _, _ = select.select([self.sock, wake], [], [])
            if wake in readable:
                return
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                print(f"nfq_standin: recv: {e}", file=sys.stderr)
                continue
            for msg_type, _flags, _seq, payload in parse_messages(data):
                if msg_type == packet_type:
                    self.handle_packet(payload)

    def report(self):
        total = dict.fromkeys(COUNTER_KEYS, 0)
        for q in sorted(self.counters):
            c = self.counters[q]
            print(f"queue {q} " + " ".join(f"{k}={c[k]}" for k in COUNTER_KEYS))
            for k in COUNTER_KEYS:
                total[k] += c[k]
        print("total " + " ".join(f"{k}={total[k]}" for k in COUNTER_KEYS))
        sys.stdout.flush()


def main(argv):
    parser = argparse.ArgumentParser(description="exitblock run stand-in (python, raw nfnetlink)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--queue", type=int, action="append", required=True)
    run.add_argument("--list", action="append", required=True)
    args = parser.parse_args(argv)

    networks = load_lists(args.list)
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _s, _f: None)

    standin = Standin(sorted(set(args.queue)), networks)
    standin.bind()
    print(
        f"nfq_standin: ready: queues {standin.queues}, {len(networks[4])} IPv4 and {len(networks[6])} IPv6 entries",
        file=sys.stderr,
        flush=True,
    )
    standin.serve(wake_r)
    standin.unbind()
    standin.report()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
