#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""xfer-peer.py ADDR PORT MIB - the namespace's end of the guest's TCP
exchange (tests/interop/guest/init, netbe.xfer=MIB, netbe.port=PORT).

On PORT it takes one connection, reads until MIB MiB have come in (or EOF),
answers with the sha256 of what it read and closes: the guest prints that
reply next to its own hash. On PORT + 1 it takes one connection, sends MIB
MiB of random bytes and closes. It prints, flushed, one line per transfer:
    UPLOAD bytes=N sha256=H
    DOWNLOAD bytes=N sha256=H
then exits. Bounded: each accept and each receive gives up after 120 s
(SIGALRM ends the whole run after 300 s).
"""
import hashlib
import os
import signal
import socket
import sys


def listener(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(120)
    return s


def upload(ls, want):
    conn, _ = ls.accept()
    conn.settimeout(120)
    h = hashlib.sha256()
    got = 0
    try:
        while got < want:
            b = conn.recv(min(65536, want - got))
            if not b:
                break
            h.update(b)
            got += len(b)
        conn.sendall((h.hexdigest() + "\n").encode())
    finally:
        conn.close()
    print("UPLOAD bytes=%d sha256=%s" % (got, h.hexdigest()), flush=True)


def download(ls, size):
    data = os.urandom(size)
    conn, _ = ls.accept()
    conn.settimeout(120)
    try:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        # let the guest read to EOF before the socket goes
        try:
            conn.recv(1)
        except OSError:
            pass
    finally:
        conn.close()
    print("DOWNLOAD bytes=%d sha256=%s" % (size, hashlib.sha256(data).hexdigest()),
          flush=True)


def main():
    addr, port, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    signal.alarm(300)
    up = listener(addr, port)
    down = listener(addr, port + 1)
    print("LISTENING", flush=True)
    upload(up, mib << 20)
    download(down, mib << 20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
