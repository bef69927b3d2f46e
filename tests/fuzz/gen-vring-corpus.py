#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# gen-vring-corpus.py - write the hand-made seeds of the fuzz-vring corpus
# (the input format is described at the top of fuzz-vring.c).
# usage: tests/fuzz/gen-vring-corpus.py tests/fuzz/corpus/vring
import struct
import sys

NEXT, WRITE, INDIRECT = 1, 2, 4


class Seed:
    def __init__(self, num_log, regions, desc, avail, used, start=0,
                 event_idx=False, indirect=False):
        self.num = 1 << num_log
        self.desc_gpa = desc
        self.regions = regions
        self.b = bytes([int(event_idx) | int(indirect) << 1, num_log, len(regions) - 1])
        for gpa, size in regions:
            self.b += struct.pack('<QI', gpa, size - 1)
        self.b += struct.pack('<QQQH', desc, avail, used, start)

    def region_of(self, gpa):
        for i, (g, s) in enumerate(self.regions):
            if g <= gpa < g + s:
                return i, gpa - g
        raise ValueError(hex(gpa))

    def write(self, gpa, data):
        i, off = self.region_of(gpa)
        self.b += bytes([0]) + struct.pack('<BIH', i, off, len(data)) + data

    def desc(self, i, addr, ln, flags=0, nxt=0):
        self.b += bytes([1]) + struct.pack('<HQIHH', i, addr, ln, flags, nxt)

    def avail(self, head):
        self.b += bytes([2]) + struct.pack('<H', head)

    def idx(self, v):
        self.b += bytes([3]) + struct.pack('<H', v)

    def pop(self, most=0, hold=False):
        self.b += bytes([4 | most << 3, int(hold)])

    def flush(self, p=0):
        self.b += bytes([5 | p << 3])

    def kicks(self, on):
        self.b += bytes([6 | int(on) << 3])

    def resetup(self):
        self.b += bytes([7])


def table(descs):
    return b''.join(struct.pack('<QIHH', *d) for d in descs)


RA, RB = 0x100000, 0x200000


def basic():
    s = Seed(8, [(RA, 0x10000), (RB, 0x30000)], RA, RA + 0x1000, RA + 0x2000)
    for k in range(16):
        s.desc(2 * k, RB + 0x1000 * k, 12, NEXT, 2 * k + 1)
        s.desc(2 * k + 1, RB + 0x1000 * k + 12, 1514, WRITE)
        s.avail(2 * k)
    s.pop(3, True)
    s.flush()
    s.pop(0, True)
    s.flush(6)
    s.kicks(True)
    return s


def indirect():
    s = Seed(8, [(RA, 0x10000), (RB, 0x30000)], RA, RA + 0x1000, RA + 0x2000,
             event_idx=True, indirect=True)
    t = RB + 0x20000
    s.write(t, table([(RB, 12, NEXT, 1), (RB + 0x100, 0, NEXT | WRITE, 2),
                      (RB + 0x200, 4096, WRITE, 0)]))
    s.desc(0, RB + 0x5000, 20, NEXT, 1)
    s.desc(1, t, 48, INDIRECT, 0)
    s.desc(2, t, 48, INDIRECT | NEXT, 0)       # bad: with NEXT
    s.desc(3, t, 40, INDIRECT, 0)              # bad: not a multiple of 16
    s.write(t + 0x100, table([(t, 48, INDIRECT, 0)]))
    s.desc(4, t + 0x100, 16, INDIRECT, 0)      # bad: nested
    for h in (0, 2, 0, 3, 4, 1, 0):
        s.avail(h)
    s.write(RA + 0x1000 + 4 + 2 * 256, struct.pack('<H', 2))   # used_event
    s.pop(0, True)
    s.flush()
    s.kicks(True)
    s.kicks(False)
    return s


def hostile():
    s = Seed(4, [(RA, 0x1000), (RA + 0x1000, 0x1000), (RB, 0x8000)],
             RA, RA + 0x100, RA + 0x200, indirect=True)
    s.desc(0, RB, 10, NEXT, 1)
    s.desc(1, RB + 10, 10, NEXT, 0)            # loop
    s.desc(2, 0x300000, 10)                    # outside
    s.desc(3, RA + 0x1000 - 4, 8)              # straddles adjacent regions
    s.desc(4, 0xfffffffffffffffc, 8)           # wraps
    s.desc(5, RB + 1, 0xffffffff)              # length overflow
    s.desc(6, RB, 10, WRITE | NEXT, 7)
    s.desc(7, RB, 10, 0, 0)                    # readable after writable
    s.desc(8, RB, 10, NEXT, 16)                # next >= num
    s.desc(9, RB, 0, NEXT, 10)                 # zero-length: fine
    s.desc(10, RB, 5, WRITE, 0)
    for h in (0, 2, 3, 4, 5, 6, 8, 9, 99, 9):
        s.avail(h)
    s.pop()
    s.flush()
    s.idx(0x7000)                              # runaway: broken
    s.pop()
    s.kicks(True)
    s.resetup()
    s.idx(10)
    s.resetup()
    s.avail(9)
    s.pop()
    s.flush()
    return s


def wrap():
    s = Seed(3, [(RA, 0x2000), (RB, 0x2000)], RA, RA + 0x800, RA + 0x1000,
             start=65530, event_idx=True)
    s.idx(65530)                               # memory starts zeroed
    for k in range(8):
        s.desc(k, RB + 0x100 * k, 64, WRITE)
    for r in range(3):
        for k in range(8):
            s.avail(k)
        s.pop(5, True)
        s.flush(1)
        s.pop(0, False)
        s.flush()
        s.kicks(True)
    return s


def large():
    # 4096 entries, 64 KiB descriptor table, 64 KiB of guest writes
    num = 4096
    s = Seed(12, [(RA, 0x20000), (RB, 0x3ffff), (0x400000, 0x10000)],
             RA, RA + 0x10000, RA + 0x12000, indirect=True)
    descs = []
    for k in range(num):
        if k % 2 == 0:
            descs.append((RB + (k * 32) % 0x3f000, 64, NEXT, k + 1))
        else:
            descs.append((0x400000 + (k * 16) % 0xf000, 1500, WRITE, 0))
    blob = table(descs)
    s.write(RA, blob[:0x8000])
    s.write(RA + 0x8000, blob[0x8000:])
    t = 0x400000 + 0xf000
    s.write(t, table([(RB + i, 1, NEXT, i + 1) for i in range(255)] + [(RB, 1, WRITE, 0)]))
    s.desc(1, t, 4096, INDIRECT, 0)
    s.desc(3, RB, 4, NEXT, 1)
    s.write(RA + 0x10000 + 4, b''.join(struct.pack('<H', (2 * k) % num) for k in range(2048)))
    s.idx(2048)
    s.pop(0, True)
    s.flush()
    s.avail(3)
    s.avail(1)
    s.pop()
    s.flush()
    return s


def tiny():
    s = Seed(0, [(RA, 64)], RA, RA + 16, RA + 32)
    s.desc(0, RA + 48, 8, WRITE)
    for _ in range(3):
        s.avail(0)
        s.pop()
        s.flush()
    s.avail(0)
    s.avail(0)                                 # 2 ahead of a 1-entry ring
    s.pop()
    return s


def main():
    out = sys.argv[1]
    for f in (basic, indirect, hostile, wrap, large, tiny):
        with open(f'{out}/seed-{f.__name__}', 'wb') as fh:
            fh.write(f().b)


main()
