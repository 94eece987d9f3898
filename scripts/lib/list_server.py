#!/usr/bin/env python3
"""A controllable HTTP list server for scripts/sources-test.sh (loopback or a test namespace).

Serves the file given with --list (re-read on every request) at any path, in one of these
modes, switched with GET /_control?mode=NAME[&list=PATH]:

  serve     200 with the list, an ETag (hash of the body) and Last-Modified; a request whose
            If-None-Match matches the ETag gets 304 and no body
  error     500
  hang      reads the request, sends nothing, closes after --hang seconds
  truncate  200 announcing Content-Length of the whole list, sends half of it, closes
  empty     200 with an empty body
  shrunk    200 with every tenth line of the list only (a 90% shrink), its own ETag
  slow      200 announcing the whole list, sent in ten pieces spread over --slow seconds
  cycle     a flapping source: each request is answered in the next mode of --cycle
            (default serve,error,serve,hang,serve,truncate,serve,slow), counted under
            that mode

GET /_stats answers JSON counts: requests per mode, not_modified (304s sent), and the
conditional headers of the last request. Writes its port to --ready once listening and
exits by itself after --deadline seconds.
"""
import argparse
import hashlib
import json
import os
import threading
import time
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("serve", "error", "hang", "truncate", "empty", "shrunk", "slow", "cycle")
DEFAULT_CYCLE = "serve,error,serve,hang,serve,truncate,serve,slow"


class State:
    def __init__(self, path, hang, slow=1.0, cycle=DEFAULT_CYCLE.split(",")):
        self.lock = threading.Lock()
        self.mode = "serve"
        self.path = path
        self.hang = hang
        self.slow = slow
        self.cycle = cycle
        self.cycle_next = 0
        self.counts = {}
        self.not_modified = 0
        self.last_conditional = {}


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet
            pass

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path == "/_control":
                query = urllib.parse.parse_qs(url.query)
                mode = query.get("mode", [""])[0]
                if mode not in MODES:
                    self.reply(400, b"unknown mode\n")
                    return
                with state.lock:
                    state.mode = mode
                    if "list" in query:
                        state.path = query["list"][0]
                self.reply(200, f"mode {mode}\n".encode())
                return
            if url.path == "/_stats":
                with state.lock:
                    doc = {
                        "mode": state.mode,
                        "counts": state.counts,
                        "not_modified": state.not_modified,
                        "last_conditional": state.last_conditional,
                    }
                self.reply(200, json.dumps(doc).encode(), [("Content-Type", "application/json")])
                return
            with state.lock:
                mode = state.mode
                if mode == "cycle":
                    mode = state.cycle[state.cycle_next % len(state.cycle)]
                    state.cycle_next += 1
                path = state.path
                state.counts[mode] = state.counts.get(mode, 0) + 1
                state.last_conditional = {
                    k: v for k, v in (
                        ("If-None-Match", self.headers.get("If-None-Match")),
                        ("If-Modified-Since", self.headers.get("If-Modified-Since")),
                    ) if v is not None
                }
            with open(path, "rb") as f:
                body = f.read()
            if mode == "error":
                self.reply(500, b"internal error\n")
            elif mode == "hang":
                time.sleep(state.hang)
                self.close_connection = True
            elif mode == "truncate":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif mode == "slow":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                piece = max(1, -(-len(body) // 10))
                for start in range(0, len(body), piece):
                    self.wfile.write(body[start : start + piece])
                    self.wfile.flush()
                    time.sleep(state.slow / 10)
            elif mode == "empty":
                self.reply(200, b"", [("Content-Type", "text/plain")])
            else:
                if mode == "shrunk":
                    lines = body.splitlines(keepends=True)
                    body = b"".join(lines[::10])
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                modified = formatdate(os.stat(path).st_mtime, usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    with state.lock:
                        state.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.reply(200, body, [("Content-Type", "text/plain"), ("ETag", etag), ("Last-Modified", modified)])

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", required=True, help="the list file to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--ready", required=True, help="file to write the port to once listening")
    parser.add_argument("--hang", type=float, default=5.0, help="seconds a 'hang' answer waits")
    parser.add_argument("--slow", type=float, default=1.0, help="seconds a 'slow' body takes")
    parser.add_argument("--cycle", default=DEFAULT_CYCLE, help="the modes 'cycle' goes through, comma-separated")
    parser.add_argument("--deadline", type=float, default=600.0, help="exit after this many seconds")
    args = parser.parse_args()

    cycle = args.cycle.split(",")
    if not cycle or any(m not in MODES or m == "cycle" for m in cycle):
        parser.error("--cycle: modes among " + ", ".join(m for m in MODES if m != "cycle"))
    state = State(args.list, args.hang, args.slow, cycle)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(state))
    server.daemon_threads = True
    timer = threading.Timer(args.deadline, server.shutdown)
    timer.daemon = True
    timer.start()
    with open(args.ready + ".tmp", "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(args.ready + ".tmp", args.ready)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
