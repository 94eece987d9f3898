#!/usr/bin/env python3
"""Load on exitblock's stats socket for scripts/soak.sh (HTTP/1.1 over a Unix socket).

  stats_load.py scrape SOCKET --out FILE [--interval 0.1] [--deadline S]
      GET /metrics every --interval seconds (a scraper like Prometheus, only faster) until
      SIGTERM or --deadline; then writes JSON to FILE: ok (200 with a body that ends in a
      newline), failed, max_ms (slowest answer), first_error.
  stats_load.py abuse SOCKET [--clients 200]
      one round of hostile and normal clients at once, as scripts/metrics-test.sh's hammer:
      silent (connect, send nothing), garbage bytes, an oversized header (200 kB), slow (a
      request dripped one byte every 0.3 s, never finished) and normal GET /metrics. Prints
      one line: silent_closed=N garbage_400=N huge_413_or_closed=N slow_closed=N normal_200=N
      other=N (other: an answer none of the expected ones). Every client gives up after 15 s.
"""
import argparse
import json
import signal
import socket
import sys
import threading
import time


def talk(path, payload, drip=0.0, timeout=15.0):
    """Send payload (one byte every drip seconds when drip > 0), read until the server closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    s.connect(path)
    try:
        if drip > 0:
            s.setblocking(True)
            s.settimeout(drip)
            for byte in payload:
                s.sendall(bytes([byte]))
                try:  # an answer or a close ends the drip
                    chunk = s.recv(65536)
                    s.settimeout(max(0.1, deadline - time.monotonic()))
                    return chunk + read_all(s)
                except socket.timeout:
                    pass
                if time.monotonic() > deadline:
                    return b"timeout"
            s.settimeout(max(0.1, deadline - time.monotonic()))
        elif payload:
            s.sendall(payload)
    except OSError:
        pass
    try:
        return read_all(s)
    finally:
        s.close()


def read_all(s):
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        return b"timeout"
    except OSError:
        pass
    return data


def scrape(args):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    result = {"ok": 0, "failed": 0, "max_ms": 0.0, "first_error": ""}
    end = time.monotonic() + args.deadline
    request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    next_at = time.monotonic()
    while not stop.is_set() and time.monotonic() < end:
        start = time.monotonic()
        try:
            data = talk(args.socket, request, timeout=5.0)
            good = data.startswith(b"HTTP/1.1 200") and data.endswith(b"\n") and b"exitblock_packets_total" in data
            error = "" if good else repr(data[:80])
        except OSError as e:
            good, error = False, str(e)
        took = (time.monotonic() - start) * 1000
        result["max_ms"] = max(result["max_ms"], round(took, 1))
        if good:
            result["ok"] += 1
        else:
            result["failed"] += 1
            result["first_error"] = result["first_error"] or error
        next_at += args.interval
        stop.wait(max(0.0, next_at - time.monotonic()))
        if time.monotonic() - next_at > 1:  # far behind (descheduled): no catching up in a burst
            next_at = time.monotonic()
    with open(args.out, "w") as f:
        json.dump(result, f)


def abuse(args):
    results = dict.fromkeys(("silent_closed", "garbage_400", "huge_413_or_closed", "slow_closed", "normal_200", "other"), 0)
    lock = threading.Lock()

    def note(key):
        with lock:
            results[key] += 1

    def client(kind):
        try:
            if kind == 0:
                data = talk(args.socket, b"")
                note("silent_closed" if data == b"" else "other")
            elif kind == 1:
                data = talk(args.socket, b"\x00\x01GARBAGE \xff\xfe\r\n\r\n")
                note("garbage_400" if data.startswith(b"HTTP/1.1 400") else "other")
            elif kind == 2:
                data = talk(args.socket, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 200000 + b"\r\n\r\n")
                note("huge_413_or_closed" if data.startswith(b"HTTP/1.1 413") or data == b"" else "other")
            elif kind == 3:
                data = talk(args.socket, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100, drip=0.3)
                note("slow_closed" if data == b"" or data.startswith(b"HTTP/1.1 408") else "other")
            else:
                data = talk(args.socket, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                note("normal_200" if data.startswith(b"HTTP/1.1 200") else "other")
        except Exception as error:  # a refused connection counts as other
            print("client error:", kind, error, file=sys.stderr)
            note("other")

    threads = [threading.Thread(target=client, args=(i % 5,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(" ".join(f"{k}={v}" for k, v in results.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("scrape")
    p.add_argument("socket")
    p.add_argument("--out", required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--deadline", type=float, default=7200.0)
    p = sub.add_parser("abuse")
    p.add_argument("socket")
    p.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    scrape(args) if args.command == "scrape" else abuse(args)


if __name__ == "__main__":
    main()
