#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""suite-report.py RES [RESULTS_MD] - the table of bench/suite.sh.

Reads RES/LABEL.tcp (Gbit/s per run), RES/LABEL.pps ("delivered offered
cpu_ns" per run), RES/LABEL.xdp (the XDP attach mode seen) and RES/meta,
prints medians and the goal ratios, and when RESULTS_MD is given replaces
the section between the suite.sh markers in it (or puts one before its
first "## " section).
"""
import os
import re
import statistics
import sys

ROWS = [  # label, path
    ("netbe_tap_vnet", "netbe patch tap <-> tap, vnet header"),
    ("tapfwd_vnet", "tapfwd -v (read/write per frame, vnet header)"),
    ("bridge_on", "kernel bridge, offloads on"),
    ("bridge_off", "kernel bridge, offloads off"),
    ("netbe_tap_plain", "netbe patch tap <-> tap, vnet_hdr=off"),
    ("tapfwd_plain", "tapfwd plain (thread per direction)"),
    ("tapfwd_poll", "tapfwd -p plain (poll, one thread)"),
    ("vde", "vde_switch, two taps"),
    ("netbe_afp", "netbe patch af_packet <-> af_packet (veth, vnet header)"),
    ("afpfwd_vnet", "afpfwd -v (recvmmsg/sendmmsg x32, vnet header)"),
    ("netbe_xdp", "netbe patch af_xdp <-> af_xdp (veth)"),
    ("netbe_xdp_busy", "netbe patch --busy-poll 100 af_xdp,busy_poll=20 <-> af_xdp,busy_poll=20 (veth)"),
    ("dpdk_xdp", "DPDK testpmd net_af_xdp (veth)"),
    ("dpdk_afp", "DPDK testpmd net_af_packet (veth)"),
    ("netbe_slirp", "rootless: netbe patch tap slirp, MTU 65520"),
    ("slirp4netns", "rootless: slirp4netns --mtu=65520"),
    ("pasta", "rootless: pasta (MTU 65520)"),
    ("netbe_slirp_s1", "rootless, server on CPU1: netbe patch tap slirp"),
    ("slirp4netns_s1", "rootless, server on CPU1: slirp4netns"),
    ("pasta_s1", "rootless, server on CPU1: pasta"),
]
GOALS = [  # what, netbe, peer, metric, goal (ratio netbe/peer), at least?
    ("tap vnet TCP / tapfwd -v", "netbe_tap_vnet", "tapfwd_vnet", "tcp", 1.0, True),
    ("tap vnet TCP / kernel bridge offloads on", "netbe_tap_vnet", "bridge_on", "tcp", 1.1, True),
    ("af_packet vnet TCP / afpfwd -v", "netbe_afp", "afpfwd_vnet", "tcp", 1.0, True),
    ("af_xdp 64 B Mpps / DPDK net_af_xdp", "netbe_xdp", "dpdk_xdp", "mpps", 1.0, True),
    ("af_xdp 64 B Mpps / DPDK net_af_packet", "netbe_xdp", "dpdk_afp", "mpps", 2.0, True),
    ("af_xdp --busy-poll 64 B Mpps / DPDK net_af_xdp (both poll)", "netbe_xdp_busy", "dpdk_xdp", "mpps", 1.0, True),
    ("af_xdp --busy-poll 64 B Mpps / DPDK net_af_packet", "netbe_xdp_busy", "dpdk_afp", "mpps", 2.0, True),
    ("tap plain 64 B CPU ns/frame / tapfwd -p", "netbe_tap_plain", "tapfwd_poll", "cpu", 1.0, False),
    ("slirp rootless TCP / slirp4netns", "netbe_slirp", "slirp4netns", "tcp", 1.0, True),
    ("same, iperf3 server on CPU1", "netbe_slirp_s1", "slirp4netns_s1", "tcp", 1.0, True),
]
# Goals whose placement is bistable (bench/RESULTS.md, rootless): a few
# runs cannot decide them, so their verdict names the script that can.
UNDECIDED = {"same, iperf3 server on CPU1":
             "indicative only: bistable placement, bench/rootless.sh decides"}
BEGIN, END = "<!-- bench/suite.sh: begin -->", "<!-- bench/suite.sh: end -->"
SATURATED = 0.97  # delivered / offered below this: the forwarder lost frames
BUSY = 0.9        # a forwarder this busy is at its own limit, not the generator's


def column(path, col):
    """Numbers in column @col of the lines of @path (NaN and '-' skipped)."""
    out = []
    try:
        for line in open(path):
            f = line.split()
            try:
                v = float(f[col])
            except (ValueError, IndexError):
                continue
            if v == v:
                out.append(v)
    except OSError:
        pass
    return out


def med(v):
    """Median of @v, None when empty."""
    return statistics.median(v) if v else None


def shares(path):
    """Per run: the forwarder's share of its CPU (delivered Mpps x ns/frame)."""
    out = []
    try:
        for line in open(path):
            f = line.split()
            try:
                out.append(float(f[0]) * float(f[2]) / 1000)
            except (ValueError, IndexError):
                pass
    except OSError:
        pass
    return out


def load(res, label):
    """Medians of one forwarder: tcp, mpps, offered, cpu, share (None if
    absent)."""
    p = os.path.join(res, label)
    return {"tcp": med(column(p + ".tcp", 0)), "mpps": med(column(p + ".pps", 0)),
            "offered": med(column(p + ".pps", 1)), "cpu": med(column(p + ".pps", 2)),
            "share": med(shares(p + ".pps"))}


def fmt(v, spec):
    return spec % v if v is not None else "n/a"


def table(res, data):
    """The per-forwarder table as markdown lines."""
    out = ["| path | TCP Gbit/s | 64 B Mpps delivered (offered) | forwarder CPU ns/frame (CPU busy) |",
           "|---|---|---|---|"]
    for label, name in ROWS:
        d = data[label]
        if all(v is None for v in d.values()):
            out.append("| %s | skipped or failed | | |" % name)
            continue
        try:
            mode = open(os.path.join(res, label + ".xdp")).read().strip()
        except OSError:
            mode = ""
        mode = {"xdp": "XDP native", "xdpgeneric": "XDP skb"}.get(mode, mode)
        mpps = "-" if d["mpps"] is None else "%.3f (%.3f)" % (d["mpps"], d["offered"])
        cpu = "-" if d["cpu"] is None else "%.0f (%.0f%%)" % (d["cpu"], 100 * d["share"])
        out.append("| %s%s | %s | %s | %s |" % (name, " [%s]" % mode if mode else "",
                                               fmt(d["tcp"], "%.2f"), mpps, cpu))
    return out


def verdict(a, b, metric, goal, at_least, d):
    """(ratio text, verdict text) of netbe @a against peer @b."""
    if a is None or b is None or not b:
        return "n/a", "not measured"
    r = a / b
    met = r >= goal if at_least else r <= goal
    text = "met" if met else "NOT met"
    if not met and metric == "mpps" and d["mpps"] >= SATURATED * d["offered"] \
            and d["share"] is not None and d["share"] < BUSY:
        text += " (generator-bound: netbe forwarded all it was offered, CPU to spare)"
    return "%.2f" % r, text


def goals(data):
    """The goal lines as markdown."""
    out = ["| goal | netbe | peer | netbe / peer | wanted | verdict |", "|---|---|---|---|---|---|"]
    for what, a, b, metric, goal, at_least in GOALS:
        va, vb = data[a][metric], data[b][metric]
        spec = "%.0f" if metric == "cpu" else "%.3f" if metric == "mpps" else "%.2f"
        ratio, text = verdict(va, vb, metric, goal, at_least, data[a])
        if what in UNDECIDED and va is not None and vb is not None:
            text += " (%s)" % UNDECIDED[what]
        out.append("| %s | %s | %s | %s | %s %.1f | %s |" % (what, fmt(va, spec), fmt(vb, spec), ratio,
                                                          ">=" if at_least else "<=", goal, text))
    return out


def section(meta, lines):
    """The RESULTS.md section around the table lines."""
    return [BEGIN,
            "## One run of everything (`bench/suite.sh`)",
            "",
            "%s; %s CPUs (%s), %s RAM, Linux %s; commit %s; wall time %s." % (
                meta.get("date", "?"), meta.get("nproc", "?"), meta.get("cpu", "?"),
                meta.get("ram", "?"), meta.get("kernel", "?"), meta.get("commit", "?"),
                meta.get("wall", "?")),
            "Command: `%s`. Medians of R runs; traffic on CPU0, forwarder on CPU1."
            % meta.get("command", "?"),
            "64 B: 60-byte frames from one generator thread (bench/src/gen64.c, TX ring);"
            " offered = what left nsA's interface (a forwarder on veth also costs the"
            " generator's CPU its receive path), delivered = nsB's rx counter. When"
            " delivered is close to offered the generator, not the forwarder, was"
            " the limit, unless the forwarder's CPU was busy too; compare CPU ns/frame"
            " then (DPDK busy-polls: 100% busy, its CPU per frame is 1 s divided by"
            " the rate, an upper bound). Rootless rows: TCP only, the"
            " guest namespace to the iperf3 server on its \"host\" namespace's"
            " loopback via 10.0.2.2, the server first on CPU0 next to the client,"
            " then on CPU1 next to the stack.",
            ""] + lines + ["", END]


def write(md, sec):
    """Replace or insert @sec in file @md, keeping everything else."""
    try:
        text = open(md).read()
    except OSError:
        text = "# Measurements\n"
    block = "\n".join(sec) + "\n"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", lambda m: block,
                      text, count=1, flags=re.S)
    elif "\n## " in text:
        i = text.index("\n## ") + 1
        text = text[:i] + block + "\n" + text[i:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    open(md, "w").write(text)


def main():
    res = sys.argv[1]
    meta = {}
    for line in open(os.path.join(res, "meta")):
        k, _, v = line.rstrip("\n").partition("=")
        meta[k] = v
    data = {label: load(res, label) for label, _ in ROWS}
    lines = table(res, data) + [""] + goals(data)
    print("\n".join(lines))
    if len(sys.argv) > 2 and sys.argv[2]:
        write(sys.argv[2], section(meta, lines))
        print("written to %s" % sys.argv[2])


if __name__ == "__main__":
    main()
