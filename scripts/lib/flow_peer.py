#!/usr/bin/env python3
"""Long-lived TCP connections for the flow-mode test (python3 standard library only).

Modes:

  serve  --port P --out FILE [--ready FILE] [--deadline S]
      In the server namespace: TCP listeners on 0.0.0.0 and :: (port P). Counts the bytes
      received per source address and rewrites FILE (JSON, atomically) after each read:
        {"bytes": {"ADDR": n, ...}, "connections": {"ADDR": n, ...}}
      Sends nothing back (only the kernel's ACKs). Exits 0 on SIGTERM/SIGINT or after
      --deadline seconds.

  client --src ADDR --dst ADDR --port P --state FILE [--chunk BYTES] [--timeout S]
      In the client namespace: one connection from ADDR, kept open. Each SIGUSR1 sends
      --chunk bytes on it (into the socket buffer: a send succeeds even when the network
      drops the segments). Rewrites FILE (JSON) after connecting and after each send:
        {"connected": true|false, "local_port": n, "sent": n, "error": "..."}
      Exits 0 on SIGTERM/SIGINT.

Nothing polls in a busy loop; every wait is bounded.
"""

import argparse
import ipaddress
import json
import os
import selectors
import signal
import socket
import sys
import time


def family_of(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def canonical(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def write_json(path, value):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def cmd_serve(args):
    selector = selectors.DefaultSelector()
    counts = {"bytes": {}, "connections": {}}
    peers = {}
    for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        listener = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, args.port))
        listener.listen(64)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, "listener")

    stop = []
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda s, _f: stop.append(s))
    selector.register(wake_r, selectors.EVENT_READ, "wake")

    write_json(args.out, counts)
    if args.ready:
        with open(args.ready, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + args.deadline
    while not stop and time.monotonic() < deadline:
        changed = False
        for key, _ in selector.select(max(0.0, deadline - time.monotonic())):
            if key.data == "wake":
                key.fileobj.recv(64)
            elif key.data == "listener":
                try:
                    conn, peer = key.fileobj.accept()
                except OSError:
                    continue
                source = canonical(peer[0])
                conn.setblocking(False)
                peers[conn] = source
                counts["connections"][source] = counts["connections"].get(source, 0) + 1
                counts["bytes"].setdefault(source, 0)
                selector.register(conn, selectors.EVENT_READ, "conn")
                changed = True
            else:
                conn = key.fileobj
                try:
                    data = conn.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    source = peers[conn]
                    counts["bytes"][source] += len(data)
                else:
                    selector.unregister(conn)
                    del peers[conn]
                    conn.close()
                changed = True
        if changed:
            write_json(args.out, counts)
    write_json(args.out, counts)
    return 0


def cmd_client(args):
    state = {"connected": False, "local_port": 0, "sent": 0, "error": ""}
    wanted = {signal.SIGUSR1, signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    sock = socket.socket(family_of(args.dst), socket.SOCK_STREAM)
    sock.bind((args.src, 0))
    sock.settimeout(args.timeout)
    try:
        sock.connect((args.dst, args.port))
        state["connected"] = True
        state["local_port"] = sock.getsockname()[1]
    except OSError as e:
        state["error"] = f"connect: {e}"
    write_json(args.state, state)
    payload = b"f" * args.chunk
    while True:
        signum = signal.sigwait(wanted)
        if signum != signal.SIGUSR1:
            break
        if not state["connected"]:
            continue
        try:
            sock.sendall(payload)
            state["sent"] += len(payload)
        except OSError as e:
            state["error"] = f"send: {e}"
        write_json(args.state, state)
    sock.close()
    return 0


def positive_float(text):
    value = float(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("must be in (0, 3600]")
    return value


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--out", required=True)
    serve.add_argument("--ready")
    serve.add_argument("--deadline", type=positive_float, default=300.0)
    client = sub.add_parser("client")
    client.add_argument("--src", required=True)
    client.add_argument("--dst", required=True)
    client.add_argument("--port", type=int, required=True)
    client.add_argument("--state", required=True)
    client.add_argument("--chunk", type=int, default=1000)
    client.add_argument("--timeout", type=positive_float, default=2.0)
    args = parser.parse_args(argv)
    if args.mode == "client" and not 1 <= args.chunk <= 1 << 20:
        parser.error("--chunk must be in [1, 1048576]")
    return {"serve": cmd_serve, "client": cmd_client}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
