#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (python3 standard library only).

  notify_listener.py SOCKET_PATH OUT_FILE [--deadline S]

Binds an AF_UNIX datagram socket at SOCKET_PATH (what $NOTIFY_SOCKET names) and appends
each datagram it receives to OUT_FILE, one per line, its fields joined by "|":

  12.345 READY=1|STATUS=judging queue(s) 0; 9 entries

(the number is seconds since the listener started). Exits 0 on SIGTERM/SIGINT or after
--deadline seconds (default 300), removing the socket file.
"""

import argparse
import os
import signal
import socket
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket_path")
    parser.add_argument("out")
    parser.add_argument("--deadline", type=float, default=300.0)
    args = parser.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    if os.path.exists(args.socket_path):
        os.unlink(args.socket_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(args.socket_path)
    # The daemon may run as another user after it lowers its privileges.
    os.chmod(args.socket_path, 0o666)
    sock.settimeout(0.2)
    start = time.monotonic()
    with open(args.out, "a", encoding="utf-8") as out:
        while not stop and time.monotonic() - start < args.deadline:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            text = data.decode("utf-8", "replace").replace("\n", "|")
            out.write(f"{time.monotonic() - start:.3f} {text}\n")
            out.flush()
    sock.close()
    os.unlink(args.socket_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
