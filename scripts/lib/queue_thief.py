#!/usr/bin/env python3
"""Takes an NFQUEUE away from the process that has it bound: a real fault for queuefault-test.sh.

    queue_thief.py --pid PID --queue N [--squat SECONDS] [--ready FILE]

Run as root in the network namespace of process PID. It finds PID's netlink socket that the
kernel's queue table (/proc/net/netfilter/nfnetlink_queue) shows on queue N (its port id,
matched through /proc/net/netlink to the socket inode, then to PID's descriptor), takes a
copy of that descriptor with pidfd_getfd(2) (Linux 5.6; needs ptrace rights over PID), and
sends the unbind command for queue N through it: the kernel takes it as PID's own and drops
the binding, while PID's socket stays open and healthy (it just receives nothing more).
That is what nothing but the binder itself can do, so it is done as the binder.

With --squat, it then binds queue N itself at once (before PID notices and binds again),
touches --ready, and holds the queue for SECONDS without answering a packet, so that every
attempt of PID to bind it again is refused (EPERM/EBUSY: another socket has it). Exiting
closes its socket, and the kernel frees the queue. Without --squat it exits after the unbind.

Prints one line: `stolen queue N from port id P (fd F of PID)` and, squatting,
`squatting queue N as port id Q`. Exits 1 with a message when something is not as expected.
"""

import argparse
import ctypes
import os
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_CONFIG = 2
NFQA_CFG_CMD = 1
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 2
SYS_PIDFD_GETFD = 438  # the same number on x86_64 and aarch64


def config_message(queue, command, flags, sequence=1):
    """nlmsghdr + nfgenmsg (AF_UNSPEC, version 0, queue) + NFQA_CFG_CMD {command, pad, pf 0}."""
    attribute = struct.pack("=HHBBH", 8, NFQA_CFG_CMD, command, 0, 0)
    body = struct.pack("!BBH", socket.AF_UNSPEC, 0, queue) + attribute
    header = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG, flags, sequence, 0)
    return header + body


def bound_port(queue):
    """The port id the kernel's queue table shows on `queue`, or None."""
    with open("/proc/net/netfilter/nfnetlink_queue", encoding="ascii") as table:
        for line in table:
            fields = line.split()
            if len(fields) >= 2 and int(fields[0]) == queue:
                return int(fields[1])
    return None


def socket_inode(port):
    """The inode of the NETLINK_NETFILTER socket of port id `port` (/proc/net/netlink)."""
    with open("/proc/net/netlink", encoding="ascii") as table:
        header = table.readline().split()
        eth, pid, inode = header.index("Eth"), header.index("Pid"), header.index("Inode")
        for line in table:
            fields = line.split()
            if int(fields[eth]) == NETLINK_NETFILTER and int(fields[pid]) == port:
                return int(fields[inode])
    return None


def descriptor_of(pid, inode):
    """PID's descriptor number of the socket `inode`."""
    wanted = f"socket:[{inode}]"
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == wanted:
                return int(name)
        except OSError:
            continue
    return None


def steal(pid, queue):
    """Unbinds `queue` through a copy of PID's socket; returns (port id, fd number)."""
    port = bound_port(queue)
    if port is None:
        sys.exit(f"queue_thief: queue {queue} is not bound")
    inode = socket_inode(port)
    target = descriptor_of(pid, inode) if inode is not None else None
    if target is None:
        sys.exit(f"queue_thief: no descriptor of process {pid} is the socket of port id {port}")
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, target, 0)
    if copy < 0:
        sys.exit(f"queue_thief: pidfd_getfd: {os.strerror(ctypes.get_errno())}")
    os.close(pidfd)
    stolen = socket.socket(fileno=copy)
    # No acknowledgement asked: it would go to the owner's reads, not ours.
    stolen.send(config_message(queue, NFQNL_CFG_CMD_UNBIND, NLM_F_REQUEST))
    stolen.close()
    return port, target


def squat(queue):
    """Binds `queue` on a socket of our own; returns the socket and its port id."""
    own = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    own.bind((0, 0))
    own.settimeout(2)
    own.send(config_message(queue, NFQNL_CFG_CMD_BIND, NLM_F_REQUEST | NLM_F_ACK, sequence=7))
    while True:
        answer = own.recv(65536)
        _, kind, _, sequence, _ = struct.unpack_from("=IHHII", answer)
        if kind == NLMSG_ERROR and sequence == 7:
            (code,) = struct.unpack_from("=i", answer, 16)
            if code != 0:
                sys.exit(f"queue_thief: bind of queue {queue} refused: {os.strerror(-code)}")
            return own, own.getsockname()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--squat", type=float, default=0)
    parser.add_argument("--ready")
    args = parser.parse_args()
    port, target = steal(args.pid, args.queue)
    print(f"stolen queue {args.queue} from port id {port} (fd {target} of {args.pid})", flush=True)
    if args.squat <= 0:
        return
    own, own_port = squat(args.queue)
    print(f"squatting queue {args.queue} as port id {own_port}", flush=True)
    if args.ready:
        with open(args.ready, "w", encoding="ascii"):
            pass
    time.sleep(args.squat)
    own.close()


if __name__ == "__main__":
    main()
