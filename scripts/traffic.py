#!/usr/bin/env python3
"""Deterministic, bounded test traffic for the exitblock lab (python3 standard library only).

Modes:

  serve  --port P --out FILE [--ready FILE] [--deadline S]
      In the server namespace: UDP and TCP listeners on 0.0.0.0 and :: (port P). Counts
      UDP datagrams and accepted TCP connections per source address, echoes each UDP
      datagram and the first TCP read back to the sender. Touches --ready once listening.
      Writes the counts as JSON to FILE on SIGTERM/SIGINT or after --deadline seconds,
      then exits 0:
        {"udp": {"ADDR": n, ...}, "tcp": {"ADDR": n, ...}}

  send   --src ADDR --dst ADDR --port P [--count K] [--timeout S] [--text]
      In the client namespace: binds ADDR as the source, sends K UDP datagrams (then waits
      at most --timeout for the echoes) and makes K TCP connections one after the other,
      each with a --timeout connect/read deadline. Prints JSON on stdout:
        {"src":..., "dst":..., "udp_sent": K, "udp_replies": n,
         "tcp_attempts": K, "tcp_connected": n, "tcp_echoed": n, "tcp_errors": {...}}
      (--text: one line for people instead). A connect timeout below the kernel's initial
      SYN retransmission timeout (1 s) means a blocked connect costs exactly one SYN.

  tally  --server FILE SEND_JSON...
      Sums the send reports and the server's counts for the same source addresses. Prints
      one line of key=value pairs for shell scripts:
        udp_sent= udp_received= udp_exact=yes|no udp_replies= tcp_attempts= tcp_connected=
        tcp_echoed= tcp_accepted=
      udp_exact is yes when, for every source, the server counted exactly what it sent.

Every mode finishes in bounded time; nothing polls in a busy loop.
"""

import argparse
import errno
import ipaddress
import json
import os
import selectors
import signal
import socket
import sys
import time

PAYLOAD_PREFIX = b"exitblock-test "
# How long an accepted TCP connection may stay open waiting for its first bytes.
TCP_IDLE_SECONDS = 2.0


def family_of(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def canonical(address):
    """Normalized text of an address (IPv4-mapped IPv6 becomes IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


# ---------------------------------------------------------------------------------------
# serve


class Server:
    """UDP + TCP listeners on both families, counting per source address."""

    def __init__(self, port):
        self.selector = selectors.DefaultSelector()
        self.udp_counts = {}
        self.tcp_counts = {}
        self.connections = {}  # socket -> accept time (monotonic)
        self.listeners = []
        for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            for sock in (udp, tcp):
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, port))
                sock.setblocking(False)
                self.listeners.append(sock)
            # Room for bursts: datagrams must not be lost in the socket before counting.
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            tcp.listen(128)
            self.selector.register(udp, selectors.EVENT_READ, self.on_udp)
            self.selector.register(tcp, selectors.EVENT_READ, self.on_accept)

    def on_udp(self, sock):
        while True:
            try:
                data, peer = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            source = canonical(peer[0])
            self.udp_counts[source] = self.udp_counts.get(source, 0) + 1
            try:
                sock.sendto(data, peer)
            except OSError:
                pass  # The echo is best effort; the count is what matters.

    def on_accept(self, sock):
        while True:
            try:
                conn, peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            source = canonical(peer[0])
            self.tcp_counts[source] = self.tcp_counts.get(source, 0) + 1
            conn.setblocking(False)
            self.connections[conn] = time.monotonic()
            self.selector.register(conn, selectors.EVENT_READ, self.on_conn)

    def on_conn(self, conn):
        try:
            data = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            try:
                conn.send(data)  # Small: fits the empty send buffer at once.
            except OSError:
                pass
        self.close_conn(conn)

    def close_conn(self, conn):
        self.selector.unregister(conn)
        del self.connections[conn]
        conn.close()

    def expire_idle(self, now):
        for conn, since in list(self.connections.items()):
            if now - since > TCP_IDLE_SECONDS:
                self.close_conn(conn)

    def counts(self):
        return {
            "udp": dict(sorted(self.udp_counts.items())),
            "tcp": dict(sorted(self.tcp_counts.items())),
        }


def write_json_atomically(path, value):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def cmd_serve(args):
    server = Server(args.port)

    # Signals wake the selector through a socket pair (no polling interval needed).
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    stop = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda s, _f: stop.append(s))
    server.selector.register(wake_r, selectors.EVENT_READ, lambda s: s.recv(64))

    if args.ready:
        with open(args.ready, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")

    deadline = time.monotonic() + args.deadline
    while not stop:
        now = time.monotonic()
        if now >= deadline:
            print(f"traffic serve: deadline of {args.deadline}s reached", file=sys.stderr)
            break
        # Wake at the deadline, or to expire idle TCP connections.
        timeout = deadline - now
        if server.connections:
            timeout = min(timeout, TCP_IDLE_SECONDS / 2)
        for key, _events in server.selector.select(timeout):
            key.data(key.fileobj)
        server.expire_idle(time.monotonic())

    write_json_atomically(args.out, server.counts())
    return 0


# ---------------------------------------------------------------------------------------
# send


def send_udp(src, dst, port, count, timeout):
    family = family_of(dst)
    replies = 0
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((src, 0))
        for seq in range(count):
            sock.sendto(PAYLOAD_PREFIX + b"udp %d" % seq, (dst, port))
        expected = {PAYLOAD_PREFIX + b"udp %d" % seq for seq in range(count)}
        deadline = time.monotonic() + timeout
        while expected:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                data, _peer = sock.recvfrom(65535)
            except socket.timeout:
                break
            except ConnectionRefusedError:
                continue  # An ICMP port unreachable surfaced on the socket: no echo.
            if data in expected:
                expected.discard(data)
                replies += 1
    return count, replies


def send_tcp(src, dst, port, count, timeout):
    family = family_of(dst)
    connected = echoed = 0
    errors = {}
    for seq in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((src, 0))
            sock.settimeout(timeout)
            try:
                sock.connect((dst, port))
            except OSError as e:
                name = "timeout" if isinstance(e, socket.timeout) else errno.errorcode.get(e.errno, str(e))
                errors[name] = errors.get(name, 0) + 1
                continue
            connected += 1
            message = PAYLOAD_PREFIX + b"tcp %d\n" % seq
            try:
                sock.sendall(message)
                reply = b""
                while len(reply) < len(message):
                    chunk = sock.recv(len(message) - len(reply))
                    if not chunk:
                        break
                    reply += chunk
                if reply == message:
                    echoed += 1
            except OSError as e:
                name = "echo_" + ("timeout" if isinstance(e, socket.timeout) else errno.errorcode.get(e.errno, str(e)))
                errors[name] = errors.get(name, 0) + 1
        finally:
            sock.close()
    return count, connected, echoed, errors


def cmd_send(args):
    if family_of(args.src) != family_of(args.dst):
        print("traffic send: --src and --dst must be of the same address family", file=sys.stderr)
        return 2
    report = {"src": canonical(args.src), "dst": canonical(args.dst), "port": args.port}
    udp_sent, udp_replies = send_udp(args.src, args.dst, args.port, args.count, args.timeout)
    report.update(udp_sent=udp_sent, udp_replies=udp_replies)
    attempts, connected, echoed, errors = send_tcp(args.src, args.dst, args.port, args.count, args.timeout)
    report.update(tcp_attempts=attempts, tcp_connected=connected, tcp_echoed=echoed, tcp_errors=errors)
    if args.text:
        print(
            f"UDP {udp_replies}/{udp_sent} datagrams echoed, "
            f"TCP {connected}/{attempts} connections made ({echoed} echoed)"
        )
    else:
        json.dump(report, sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    return 0


# ---------------------------------------------------------------------------------------
# tally


def cmd_tally(args):
    with open(args.server, encoding="utf-8") as f:
        server = json.load(f)
    totals = dict.fromkeys(
        ["udp_sent", "udp_received", "udp_replies", "tcp_attempts", "tcp_connected", "tcp_echoed", "tcp_accepted"], 0
    )
    exact = True
    sent_by_source = {}
    for path in args.reports:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        src = report["src"]
        sent_by_source[src] = sent_by_source.get(src, 0) + report["udp_sent"]
        for key in ("udp_sent", "udp_replies", "tcp_attempts", "tcp_connected", "tcp_echoed"):
            totals[key] += report[key]
    for src, sent in sent_by_source.items():
        received = server["udp"].get(src, 0)
        totals["udp_received"] += received
        totals["tcp_accepted"] += server["tcp"].get(src, 0)
        if received != sent:
            exact = False
    fields = [f"{key}={value}" for key, value in totals.items()]
    fields.insert(2, "udp_exact=" + ("yes" if exact else "no"))
    print(" ".join(fields))
    return 0


# ---------------------------------------------------------------------------------------


def positive_float(text):
    value = float(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("must be in (0, 3600]")
    return value


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="mode", required=True)

    serve = sub.add_parser("serve", help="count UDP datagrams and TCP connections per source")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--out", required=True, help="JSON file written on exit")
    serve.add_argument("--ready", help="file created once the listeners are bound")
    serve.add_argument("--deadline", type=positive_float, default=300.0, help="exit after this many seconds")

    send = sub.add_parser("send", help="send UDP datagrams and TCP connections from one source")
    send.add_argument("--src", required=True)
    send.add_argument("--dst", required=True)
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--count", type=int, default=5)
    send.add_argument("--timeout", type=positive_float, default=0.5, help="per connect, and for all UDP echoes")
    send.add_argument("--text", action="store_true", help="print one line for people instead of JSON")

    tally = sub.add_parser("tally", help="sum send reports against the server's counts")
    tally.add_argument("--server", required=True)
    tally.add_argument("reports", nargs="+")

    args = parser.parse_args(argv)
    if args.mode == "send" and not 0 <= args.count <= 10000:
        parser.error("--count must be in [0, 10000]")
    return {"serve": cmd_serve, "send": cmd_send, "tally": cmd_tally}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
