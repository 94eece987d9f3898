#!/usr/bin/env python3
"""What a client sees when it reaches a server through the exitblock lab (standard library only).

  reject_probe.py tcp --src ADDR --dst ADDR --port P [--timeout S]
      One TCP connect from ADDR. Prints one word: connected, ECONNREFUSED (a TCP reset
      answered the SYN), timeout, or the errno name.

  reject_probe.py udp --src ADDR --dst ADDR --port P [--timeout S]
      One UDP datagram from ADDR on a socket with IP_RECVERR / IPV6_RECVERR, then waits for
      the echo or an ICMP error. Prints: "reply", "timeout", or
      "icmp type=T code=C from=ADDR errno=NAME" read from the socket's error queue, which
      names the ICMP type and code exactly (3/13 "communication administratively
      prohibited" for IPv4, 1/1 "administratively prohibited" for ICMPv6).

Always exits 0 once it has an answer (the answer is the output); 2 on bad arguments.
"""

import argparse
import errno
import ipaddress
import select
import socket
import struct
import sys
import time

MSG_ERRQUEUE = 0x2000
IP_RECVERR = 11
IPV6_RECVERR = 25
SOL_IP = 0
SOL_IPV6 = 41


def family_of(address):
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def probe_tcp(args):
    sock = socket.socket(family_of(args.dst), socket.SOCK_STREAM)
    try:
        sock.bind((args.src, 0))
        sock.settimeout(args.timeout)
        sock.connect((args.dst, args.port))
        return "connected"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
    finally:
        sock.close()


def read_error_queue(sock, family):
    """The first ICMP error queued on the socket as (type, code, offender, errno), or None."""
    try:
        _data, ancillary, _flags, _addr = sock.recvmsg(512, 512, MSG_ERRQUEUE)
    except (BlockingIOError, InterruptedError):
        return None
    for level, kind, data in ancillary:
        if (level, kind) not in ((SOL_IP, IP_RECVERR), (SOL_IPV6, IPV6_RECVERR)):
            continue
        # struct sock_extended_err: u32 errno; u8 origin, type, code, pad; u32 info, data;
        # then the offender's sockaddr.
        ee_errno, _origin, ee_type, ee_code = struct.unpack_from("=IBBB", data, 0)
        offender = ""
        rest = data[16:]
        if family == socket.AF_INET and len(rest) >= 8:
            offender = socket.inet_ntop(socket.AF_INET, rest[4:8])
        elif family == socket.AF_INET6 and len(rest) >= 24:
            offender = socket.inet_ntop(socket.AF_INET6, rest[8:24])
        return ee_type, ee_code, offender, errno.errorcode.get(ee_errno, str(ee_errno))
    return None


def probe_udp(args):
    family = family_of(args.dst)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET:
            sock.setsockopt(SOL_IP, IP_RECVERR, 1)
        else:
            sock.setsockopt(SOL_IPV6, IPV6_RECVERR, 1)
        sock.bind((args.src, 0))
        sock.connect((args.dst, args.port))
        sock.setblocking(False)
        sock.send(b"exitblock-test reject probe")
        deadline = time.monotonic() + args.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            # An error queued on the socket shows as POLLERR (select: in the exceptional set
            # on Linux it is reported as readable).
            readable, _w, errored = select.select([sock], [], [sock], remaining)
            if not readable and not errored:
                continue
            error = read_error_queue(sock, family)
            if error is not None:
                ee_type, ee_code, offender, name = error
                return f"icmp type={ee_type} code={ee_code} from={offender} errno={name}"
            try:
                sock.recv(65535)
                return "reply"
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue  # The error itself; its details are read from the queue next round.
    finally:
        sock.close()


def positive_float(text):
    value = float(text)
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError("must be in (0, 60]")
    return value


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("mode", choices=["tcp", "udp"])
    parser.add_argument("--src", required=True)
    parser.add_argument("--dst", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=positive_float, default=2.0)
    args = parser.parse_args(argv)
    if family_of(args.src) != family_of(args.dst):
        parser.error("--src and --dst must be of the same address family")
    print(probe_tcp(args) if args.mode == "tcp" else probe_udp(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
