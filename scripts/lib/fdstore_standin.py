#!/usr/bin/env python3
"""A stand-in for systemd's restart of a Type=notify service with a descriptor store
(python3 standard library only), for tests where systemd is not PID 1.

  fdstore_standin.py --notify SOCKET --events FILE [--fdstore N] [--deadline S] -- CMD ARGS...

Binds an AF_UNIX datagram socket at SOCKET and starts CMD with NOTIFY_SOCKET=SOCKET and
FDSTORE=N (default 16), as systemd 254+ does for a unit with FileDescriptorStoreMax=N. It
keeps every descriptor a notification carries with FDSTORE=1, under its FDNAME (a later one
of the same name replaces it). On SIGUSR1 it restarts CMD as `systemctl restart` does:
SIGTERM, wait for the exit (taking the notifications sent meanwhile), then start CMD again
with the stored descriptors at 3, 4, ... and LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES set. On
SIGTERM/SIGINT (or after --deadline seconds) it stops CMD the same way, closes the store,
removes the socket and exits. CMD's output is this program's.

Appends one line per event to FILE ("ready pid=N", "stored NAME", "exited pid=N status=S",
"started pid=N fds=K"), each ending with " t=SECONDS" (CLOCK_MONOTONIC).
"""

import argparse
import array
import os
import select
import signal
import socket
import time


class StandIn:
    def __init__(self, args):
        self.args = args
        self.store = {}  # name -> fd, in the order stored
        self.child = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.exists(args.notify):
            os.unlink(args.notify)
        self.sock.bind(args.notify)

    def event(self, text):
        with open(self.args.events, "a") as f:
            f.write("%s t=%.3f\n" % (text, time.monotonic()))

    def start(self):
        names = list(self.store)
        fds = [self.store[n] for n in names]
        env = dict(os.environ, NOTIFY_SOCKET=self.args.notify, FDSTORE=str(self.args.fdstore))
        for key in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            env.pop(key, None)
        pid = os.fork()
        if pid == 0:
            try:
                high = [os.dup(fd) for fd in fds]  # out of the way of 3, 4, ...
                for index, fd in enumerate(high):
                    os.dup2(fd, 3 + index)  # inheritable
                if fds:
                    env.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(len(fds)), LISTEN_FDNAMES=":".join(names))
                os.execvpe(self.args.cmd[0], self.args.cmd, env)
            finally:
                os._exit(127)
        self.child = pid
        self.event("started pid=%d fds=%d" % (pid, len(fds)))

    def receive(self, timeout):
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return
        fds = array.array("i")
        data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(64 * fds.itemsize))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        fields = dict(line.split("=", 1) for line in data.decode(errors="replace").split("\n") if "=" in line)
        if fields.get("FDSTORE") == "1" and fds:
            name = fields.get("FDNAME", "stored")
            if name in self.store:
                os.close(self.store.pop(name))
            self.store[name] = fds[0]
            for extra in fds[1:]:
                os.close(extra)
            self.event("stored " + name)
        else:
            for fd in fds:
                os.close(fd)
        if fields.get("READY") == "1" and self.child:
            self.event("ready pid=%d" % self.child)

    def stop_child(self):
        if not self.child:
            return
        os.kill(self.child, signal.SIGTERM)
        while True:
            self.receive(0.02)
            pid, status = os.waitpid(self.child, os.WNOHANG)
            if pid:
                break
        while self.receive_ready():
            self.receive(0)
        self.event("exited pid=%d status=%d" % (self.child, os.waitstatus_to_exitcode(status)))
        self.child = None

    def receive_ready(self):
        return bool(select.select([self.sock], [], [], 0)[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notify", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--fdstore", type=int, default=16)
    parser.add_argument("--deadline", type=float, default=600.0)
    parser.add_argument("cmd", nargs="+")
    args = parser.parse_args()
    pending = []
    signal.signal(signal.SIGUSR1, lambda *_: pending.append("restart"))
    signal.signal(signal.SIGTERM, lambda *_: pending.append("stop"))
    signal.signal(signal.SIGINT, lambda *_: pending.append("stop"))
    standin = StandIn(args)
    standin.start()
    end = time.monotonic() + args.deadline
    try:
        while time.monotonic() < end:
            if "stop" in pending:
                break
            if pending:
                pending.clear()
                standin.stop_child()
                standin.start()
            standin.receive(0.05)
            if standin.child and os.waitpid(standin.child, os.WNOHANG)[0]:
                standin.event("exited pid=%d status=died" % standin.child)
                standin.child = None
    finally:
        standin.stop_child()
        for fd in standin.store.values():
            os.close(fd)
        os.unlink(args.notify)


if __name__ == "__main__":
    main()
