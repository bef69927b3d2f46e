/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-capture.c - packet capture in core, over the pair backend.
 *
 * Each case moves frames between two pair ends, one or both capturing,
 * then parses the written file here (every block field: block lengths at
 * both ends, byte-order magic, version, link type, snaplen, interface
 * names, interface ids, timestamps within the run, lengths, frame bytes,
 * direction flags, virtio-net comments) and hands it to capinfos and
 * tshark, which must accept it and report the same frames, lengths,
 * directions and comments. Cases: both directions without and with a
 * 12-byte virtio-net header, a 64 KiB TSO super-frame (captured whole,
 * with its GSO fields), snaplen truncation, classic pcap, two handles in
 * one file (two IDBs), start and stop at run time, a write error (a file
 * size limit) that stops the capture without failing a send, tx and rx
 * of one handle on two threads while both ends write one file, captures
 * started and stopped while other threads move frames, and bad
 * arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "harness.h"
#include "netbe.h"
#include "offload-frames.h"

#define MAX_IDB 8
#define MAX_EPB 65536         /* more than any case writes */
#define BUF_LEN (65535 + 18 + 20)

struct idb {
	uint16_t linktype;
	uint32_t snaplen;
	char name[64];
};

struct epb {
	uint32_t if_id;
	uint64_t usec;
	uint32_t caplen, origlen;
	const uint8_t *data;
	uint32_t flags;              /* epb_flags; 0 when absent */
	char comment[160];           /* "" when absent */
};

struct capfile {
	uint8_t *buf;
	size_t len;
	bool pcap;                   /* classic pcap */
	uint32_t pcap_snaplen;
	unsigned nidb, nepb;
	struct idb idb[MAX_IDB];
	struct epb *epb;             /* MAX_EPB entries */
};

static struct netbe_epoll *ep;
static char dir[] = "/tmp/netbe-capture-XXXXXX";
static uint64_t t_start;
static bool have_tshark;

/* Return: the wall-clock time in microseconds. */
static uint64_t wall_usec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* Return: a path in the test's directory, in a static buffer per slot. */
static const char *path_of(const char *name)
{
	static char paths[16][256];
	static unsigned next;
	char *p = paths[next++ % 16];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* Open a pair end named @name with @extra keys. Return: the handle or NULL. */
static struct netbe *open_end(const char *name, const char *extra)
{
	struct netbe *be = NULL;
	char spec[512];

	snprintf(spec, sizeof(spec), "pair:%s%s", name, extra ? extra : "");
	if (netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)))
		printf("# open %s: %s\n", spec, netbe_last_error());
	return be;
}

/* Fill @f with an @len-byte frame of ethertype 0x88b5 marked @seed. */
static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
	size_t i;

	memset(f, 0xff, 6);
	memset(f + 6, 0x02, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* Encode @h as a 12-byte little-endian virtio-net header into @p. */
static void put_hdr(uint8_t *p, const struct netbe_vnet_hdr *h)
{
	memset(p, 0, 12);
	p[0] = h->flags;
	p[1] = h->gso_type;
	p[2] = (uint8_t)h->hdr_len;
	p[3] = (uint8_t)(h->hdr_len >> 8);
	p[4] = (uint8_t)h->gso_size;
	p[5] = (uint8_t)(h->gso_size >> 8);
	p[6] = (uint8_t)h->csum_start;
	p[7] = (uint8_t)(h->csum_start >> 8);
	p[8] = (uint8_t)h->csum_offset;
	p[9] = (uint8_t)(h->csum_offset >> 8);
}

/* Send @len bytes of @frame through @be after an @hl-byte header @h
 * (split across two segments when there is one). Return: netbe_send's. */
static ssize_t send_frame(struct netbe *be, const uint8_t *frame, size_t len,
			  unsigned hl, const struct netbe_vnet_hdr *h)
{
	static const struct netbe_vnet_hdr zero;
	uint8_t hdr[12];
	struct iovec iov[3] = {
		{ hdr, hl / 2 }, { hdr + hl / 2, hl - hl / 2 },
		{ (void *)frame, len },
	};

	put_hdr(hdr, h ? h : &zero);
	return hl ? netbe_send(be, iov, 3) : netbe_send(be, iov + 2, 1);
}

/* Receive one frame on @be into @buf. Return: netbe_recv's. */
static ssize_t recv_frame(struct netbe *be, uint8_t *buf)
{
	struct iovec iov = { buf, BUF_LEN };

	return netbe_recv(be, &iov, 1);
}

/* Read @path whole into @c. Return: true when it could. */
static bool read_file(const char *path, struct capfile *c)
{
	FILE *fp = fopen(path, "rb");
	long n;

	memset(c, 0, sizeof(*c));
	c->epb = calloc(MAX_EPB, sizeof(*c->epb));
	if (!fp || !c->epb) {
		if (fp)
			fclose(fp);
		return false;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	c->buf = malloc(n > 0 ? (size_t)n : 1);
	c->len = n > 0 && c->buf && fread(c->buf, 1, (size_t)n, fp) == (size_t)n ? (size_t)n : 0;
	fclose(fp);
	return c->len > 0;
}

/* Release what read_file() allocated for @c. */
static void capfile_free(struct capfile *c)
{
	free(c->buf);
	free(c->epb);
	c->buf = NULL;
	c->epb = NULL;
}

/* Walk the options from @p to @end of a block of @type into @c's last
 * IDB or EPB. Return: true when they end with opt_endofopt exactly. */
static bool parse_options(struct capfile *c, uint32_t type, const uint8_t *p,
			  const uint8_t *end)
{
	while (p + 4 <= end) {
		uint16_t code = (uint16_t)(p[0] | p[1] << 8), len = (uint16_t)(p[2] | p[3] << 8);
		size_t padded = (len + 3u) & ~3u;

		if (code == 0)
			return len == 0 && p + 4 == end;
		if (p + 4 + padded > end)
			return false;
		if (type == 1 && code == 2 && len < sizeof(c->idb[0].name))
			memcpy(c->idb[c->nidb - 1].name, p + 4, len);
		else if (type == 6 && code == 2 && len == 4)
			memcpy(&c->epb[c->nepb - 1].flags, p + 4, 4);
		else if (type == 6 && code == 1 && len < sizeof(c->epb[0].comment))
			memcpy(c->epb[c->nepb - 1].comment, p + 4, len);
		else
			return false;       /* netbe writes no other option */
		p += 4 + padded;
	}
	return false;
}

/* Parse one pcapng block body of @type (@n bytes at @b). Return: ok. */
static bool parse_block(struct capfile *c, uint32_t type, const uint8_t *b,
			size_t n)
{
	struct epb *e;

	switch (type) {
	case 1:
		if (n < 8 || c->nidb == MAX_IDB)
			return false;
		c->nidb++;
		memcpy(&c->idb[c->nidb - 1].linktype, b, 2);
		memcpy(&c->idb[c->nidb - 1].snaplen, b + 4, 4);
		return b[2] == 0 && b[3] == 0 && parse_options(c, type, b + 8, b + n);
	case 6:
		if (n < 20 || c->nepb == MAX_EPB)
			return false;
		e = &c->epb[c->nepb++];
		memcpy(&e->if_id, b, 4);
		e->usec = (uint64_t)(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24) << 32 |
			  (uint32_t)(b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24);
		memcpy(&e->caplen, b + 12, 4);
		memcpy(&e->origlen, b + 16, 4);
		e->data = b + 20;
		if (20 + (size_t)((e->caplen + 3u) & ~3u) > n)
			return false;
		return parse_options(c, type, b + 20 + ((e->caplen + 3u) & ~3u), b + n);
	default:
		return false;
	}
}

/* Parse @c as pcapng: the SHB, then IDBs and EPBs. Return: true when every
 * block and field is well-formed. */
static bool parse_pcapng(struct capfile *c)
{
	static const uint8_t shb[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 44, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
		1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		4, 0, 5, 0, 'n', 'e', 't', 'b', 'e', 0, 0, 0, 0, 0, 0, 0, 44, 0, 0, 0,
	};
	size_t off = sizeof(shb);

	if (c->len < sizeof(shb) || memcmp(c->buf, shb, sizeof(shb)))
		return false;
	while (off < c->len) {
		uint32_t type, len, trail;

		if (c->len - off < 12)
			return false;
		memcpy(&type, c->buf + off, 4);
		memcpy(&len, c->buf + off + 4, 4);
		if (len < 12 || len % 4 || len > c->len - off)
			return false;
		memcpy(&trail, c->buf + off + len - 4, 4);
		if (trail != len || !parse_block(c, type, c->buf + off + 8, len - 12))
			return false;
		off += len;
	}
	return true;
}

/* Parse @c as classic pcap. Return: true when well-formed. */
static bool parse_pcap(struct capfile *c)
{
	uint32_t magic, linktype;
	uint16_t major, minor;
	size_t off = 24;

	if (c->len < 24)
		return false;
	memcpy(&magic, c->buf, 4);
	memcpy(&major, c->buf + 4, 2);
	memcpy(&minor, c->buf + 6, 2);
	memcpy(&c->pcap_snaplen, c->buf + 16, 4);
	memcpy(&linktype, c->buf + 20, 4);
	if (magic != 0xa1b2c3d4 || major != 2 || minor != 4 || linktype != 1 ||
	    fb_get32(c->buf + 8) || fb_get32(c->buf + 12))
		return false;
	c->pcap = true;
	while (off < c->len && c->nepb < MAX_EPB) {
		struct epb *e = &c->epb[c->nepb++];
		uint32_t sec, usec;

		if (c->len - off < 16)
			return false;
		memcpy(&sec, c->buf + off, 4);
		memcpy(&usec, c->buf + off + 4, 4);
		memcpy(&e->caplen, c->buf + off + 8, 4);
		memcpy(&e->origlen, c->buf + off + 12, 4);
		e->usec = (uint64_t)sec * 1000000u + usec;
		e->data = c->buf + off + 16;
		if (usec >= 1000000 || e->caplen > c->len - off - 16)
			return false;
		off += 16 + e->caplen;
	}
	return off == c->len;
}

/* Read and parse @path (pcap when @pcap). Return: true when well-formed. */
static bool load(const char *path, struct capfile *c, bool pcap)
{
	bool ok = read_file(path, c) && (pcap ? parse_pcap(c) : parse_pcapng(c));
	unsigned i;

	if (!ok)
		printf("# %s: not a well-formed %s file\n", path, pcap ? "pcap" : "pcapng");
	for (i = 0; ok && i < c->nepb; i++) {
		CHECK(c->epb[i].usec >= t_start && c->epb[i].usec <= wall_usec());
		CHECK(c->epb[i].caplen <= c->epb[i].origlen);
		CHECK(c->pcap || c->epb[i].if_id < c->nidb);
	}
	return ok;
}

/* Run @cmd; its output into @out. Return: its exit status, -1 on failure. */
static int run(const char *cmd, char *out, size_t len)
{
	FILE *fp = popen(cmd, "r");
	size_t n;

	if (!fp)
		return -1;
	n = fread(out, 1, len - 1, fp);
	out[n] = '\0';
	return pclose(fp);
}

/* Check that capinfos and tshark read @path as @c says: the frame count,
 * and per frame the interface, lengths, direction and comment. */
static void check_tools(const char *path, const struct capfile *c)
{
	static char out[65536], want[65536];
	size_t used = 0;
	char cmd[512];
	unsigned i;

	if (!have_tshark) {
		printf("# skipped: tshark/capinfos not installed, %s not checked by them\n", path);
		return;
	}
	snprintf(cmd, sizeof(cmd), "capinfos -c -M '%s' 2>&1", path);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "Number of packets:   %u", c->nepb);
	CHECK_STR_CONTAINS(out, want);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -T fields -E separator=/t -e frame.interface_id -e frame.len -e frame.cap_len -e frame.packet_flags_direction -e frame.comment 2>/dev/null",
		 path);
	CHECK_EQ(run(cmd, out, sizeof(out)), 0);
	want[0] = '\0';
	for (i = 0; i < c->nepb && used < sizeof(want); i++) {
		const struct epb *e = &c->epb[i];
		char dirs[16] = "";

		if (e->flags & 3)
			snprintf(dirs, sizeof(dirs), "0x%08x", e->flags & 3);
		used += (size_t)snprintf(want + used, sizeof(want) - used, "%s\t%u\t%u\t%s\t%s\n",
					 c->pcap ? "" : (e->if_id ? "1" : "0"), e->origlen,
					 e->caplen, dirs, e->comment);
	}
	if (strcmp(out, want))
		printf("# tshark said:\n%s# expected:\n%s", out, want);
	CHECK(!strcmp(out, want));
}

/* Check EPB @e: interface @if_id, direction, lengths, bytes, comment. */
static void check_epb(const struct epb *e, unsigned if_id, bool outbound,
		      const uint8_t *frame, size_t len, unsigned snaplen,
		      const char *comment)
{
	size_t cap = len < snaplen ? len : snaplen;

	CHECK_EQ(e->if_id, if_id);
	CHECK_EQ(e->flags, outbound ? 2 : 1);
	CHECK_EQ(e->origlen, len);
	CHECK_EQ(e->caplen, cap);
	CHECK(!memcmp(e->data, frame, cap));
	CHECK_STR_CONTAINS(e->comment, comment);
	if (!*comment)
		CHECK_EQ(strlen(e->comment), 0);
}

static uint8_t f1[BUF_LEN], f2[BUF_LEN], rbuf[BUF_LEN];

/* Frames both ways, @hl-byte header (0 or 12), capture on end A. */
static void both_ways(unsigned hl)
{
	const char *path = path_of(hl ? "both-vnet.pcapng" : "both.pcapng");
	const char *cmt = hl ? "vnet flags=0x0 gso=none gso_size=0 hdr_len=0 csum_start=0 csum_offset=0" : "";
	struct netbe *a, *b;
	struct netbe_capture_stats st;
	struct capfile c;
	char extra[300];

	snprintf(extra, sizeof(extra), ",capture=%s", path);
	a = open_end(hl ? "bv" : "b0", extra);
	b = open_end(hl ? "bv" : "b0", NULL);
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_set_cap(a, 0, hl), 0);
	CHECK_EQ(netbe_set_cap(b, 0, hl), 0);
	make_frame(f1, 100, 1);
	make_frame(f2, 80, 2);
	CHECK_EQ(send_frame(a, f1, 100, hl, NULL), 100 + hl);
	CHECK_EQ(recv_frame(b, rbuf), 100 + hl);
	CHECK_EQ(send_frame(b, f2, 80, hl, NULL), 80 + hl);
	CHECK_EQ(recv_frame(a, rbuf), 80 + hl);
	CHECK_EQ(netbe_get_capture_stats(a, &st), 0);
	CHECK_EQ(st.frames, 2);
	CHECK_EQ(st.bytes, 180);
	CHECK_EQ(st.truncated + st.write_errors, 0);
	netbe_close(a);
	a = NULL;
	if (load(path, &c, false)) {
		CHECK_EQ(c.nidb, 1);
		CHECK_EQ(c.idb[0].linktype, 1);
		CHECK_EQ(c.idb[0].snaplen, NETBE_CAPTURE_SNAPLEN_MAX);
		CHECK(!strcmp(c.idb[0].name, hl ? "pair:bv" : "pair:b0"));
		CHECK_EQ(c.nepb, 2);
		check_epb(&c.epb[0], 0, true, f1, 100, NETBE_CAPTURE_SNAPLEN_MAX, cmt);
		check_epb(&c.epb[1], 0, false, f2, 80, NETBE_CAPTURE_SNAPLEN_MAX, cmt);
		CHECK(c.epb[0].usec <= c.epb[1].usec);
		check_tools(path, &c);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

static void test_both_ways_plain(void)
{
	both_ways(0);
}

static void test_both_ways_vnet(void)
{
	both_ways(12);
}

/* A 64 KiB TCPv4 super-frame is captured whole with its GSO fields; the
 * receiving end, which took no offloads, gets segments (not captured). */
static void test_tso_superframe(void)
{
	const char *path = path_of("tso.pcapng");
	struct fb o = { .ipv = 4, .proto = IPPROTO_TCP, .paylen = 65535 - 40,
			.gso_type = NETBE_GSO_TCPV4, .gso_size = 1448, .seed = 3 };
	uint64_t feat = NETBE_F_CSUM | NETBE_F_HOST_TSO4;
	struct netbe_vnet_hdr h;
	struct netbe *a, *b;
	struct capfile c;
	char cmt[160], extra[300];
	size_t len;
	int segs = 0;

	snprintf(extra, sizeof(extra), ",capture=%s", path);
	a = open_end("tso", extra);
	b = open_end("tso", NULL);
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_set_cap(a, feat, 12), 0);
	CHECK_EQ(netbe_set_cap(b, 0, 12), 0);
	len = fb_build(f1, &o, &h, NULL);
	CHECK_EQ(len, 65535 + 14);
	CHECK_EQ(send_frame(a, f1, len, 12, &h), len + 12);
	while (recv_frame(b, rbuf) > 0 && segs < 100)
		segs++;
	CHECK_EQ(segs, (65535 - 40 + 1447) / 1448);
	netbe_close(a);
	a = NULL;
	snprintf(cmt, sizeof(cmt), "vnet flags=0x1 gso=tcpv4 gso_size=1448 hdr_len=%u csum_start=34 csum_offset=16",
		 h.hdr_len);
	if (load(path, &c, false)) {
		CHECK_EQ(c.nidb, 1);
		CHECK_EQ(c.nepb, 1);
		check_epb(&c.epb[0], 0, true, f1, len, NETBE_CAPTURE_SNAPLEN_MAX, cmt);
		check_tools(path, &c);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

/* snaplen=64 keeps 64 bytes of a 200-byte frame, says so in the IDB and
 * counts it truncated. */
static void test_snaplen(void)
{
	const char *path = path_of("snap.pcapng");
	struct netbe_capture_stats st;
	struct netbe *a, *b;
	struct capfile c;
	char extra[300];

	snprintf(extra, sizeof(extra), ",capture=%s,snaplen=64", path);
	a = open_end("snap", extra);
	b = open_end("snap", NULL);
	if (!a || !b)
		goto out;
	make_frame(f1, 200, 4);
	make_frame(f2, 60, 5);
	CHECK_EQ(send_frame(a, f1, 200, 0, NULL), 200);
	CHECK_EQ(send_frame(a, f2, 60, 0, NULL), 60);
	CHECK_EQ(netbe_get_capture_stats(a, &st), 0);
	CHECK_EQ(st.frames, 2);
	CHECK_EQ(st.bytes, 64 + 60);
	CHECK_EQ(st.truncated, 1);
	netbe_close(a);
	a = NULL;
	if (load(path, &c, false)) {
		CHECK_EQ(c.idb[0].snaplen, 64);
		CHECK_EQ(c.nepb, 2);
		check_epb(&c.epb[0], 0, true, f1, 200, 64, "");
		check_epb(&c.epb[1], 0, true, f2, 60, 64, "");
		check_tools(path, &c);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

/* capture_format=pcap: the classic header and records, snaplen applied. */
static void test_pcap(void)
{
	const char *path = path_of("classic.pcap");
	struct netbe *a, *b;
	struct capfile c;
	char extra[300];

	snprintf(extra, sizeof(extra), ",capture=%s,capture_format=pcap,snaplen=100", path);
	a = open_end("pcap", extra);
	b = open_end("pcap", NULL);
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_set_cap(a, 0, 12), 0);
	CHECK_EQ(netbe_set_cap(b, 0, 12), 0);
	make_frame(f1, 150, 6);
	make_frame(f2, 70, 7);
	CHECK_EQ(send_frame(a, f1, 150, 12, NULL), 162);
	CHECK_EQ(send_frame(b, f2, 70, 12, NULL), 82);
	CHECK_EQ(recv_frame(a, rbuf), 82);
	netbe_close(a);
	a = NULL;
	if (load(path, &c, true)) {
		CHECK_EQ(c.pcap_snaplen, 100);
		CHECK_EQ(c.nepb, 2);
		CHECK_EQ(c.epb[0].origlen, 150);
		CHECK_EQ(c.epb[0].caplen, 100);
		CHECK(!memcmp(c.epb[0].data, f1, 100));
		CHECK_EQ(c.epb[1].origlen, 70);
		CHECK_EQ(c.epb[1].caplen, 70);
		CHECK(!memcmp(c.epb[1].data, f2, 70));
		check_tools(path, &c);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

/* Both ends capture into one file (the second through the API): two IDBs,
 * each frame once outbound on its sender's and once inbound on the
 * receiver's interface. */
static void test_two_handles(void)
{
	const char *path = path_of("shared.pcapng");
	struct netbe *a, *b;
	struct capfile c;
	char extra[300];

	snprintf(extra, sizeof(extra), ",capture=%s", path);
	a = open_end("two", extra);
	b = open_end("two", NULL);
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_capture_start(b, path, 1000, NETBE_CAPTURE_PCAPNG), 0);
	make_frame(f1, 90, 8);
	make_frame(f2, 1200, 9);
	CHECK_EQ(send_frame(a, f1, 90, 0, NULL), 90);
	CHECK_EQ(recv_frame(b, rbuf), 90);
	CHECK_EQ(send_frame(b, f2, 1200, 0, NULL), 1200);
	CHECK_EQ(recv_frame(a, rbuf), 1200);
	netbe_close(a);
	a = NULL;
	CHECK_EQ(netbe_capture_stop(b), 0);
	if (load(path, &c, false)) {
		CHECK_EQ(c.nidb, 2);
		CHECK_EQ(c.idb[0].snaplen, NETBE_CAPTURE_SNAPLEN_MAX);
		CHECK_EQ(c.idb[1].snaplen, 1000);
		CHECK(!strcmp(c.idb[0].name, "pair:two") && !strcmp(c.idb[1].name, "pair:two"));
		CHECK_EQ(c.nepb, 4);
		check_epb(&c.epb[0], 0, true, f1, 90, NETBE_CAPTURE_SNAPLEN_MAX, "");
		check_epb(&c.epb[1], 1, false, f1, 90, 1000, "");
		check_epb(&c.epb[2], 1, true, f2, 1200, 1000, "");
		check_epb(&c.epb[3], 0, false, f2, 1200, NETBE_CAPTURE_SNAPLEN_MAX, "");
		check_tools(path, &c);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

/* Start and stop while frames flow: only the frames in between are in
 * the file; a second start writes a second file; counters add up. */
static void test_start_stop(void)
{
	const char *p1 = path_of("run1.pcapng"), *p2 = path_of("run2.pcapng");
	struct netbe_capture_stats st;
	struct netbe *a, *b;
	struct capfile c;
	int i;

	a = open_end("ss", NULL);
	b = open_end("ss", NULL);
	if (!a || !b)
		goto out;
	for (i = 0; i < 6; i++) {
		if (i == 1)
			CHECK_EQ(netbe_capture_start(a, p1, 262144, NETBE_CAPTURE_PCAPNG), 0);
		if (i == 3)
			CHECK_EQ(netbe_capture_stop(a), 0);
		if (i == 4)
			CHECK_EQ(netbe_capture_start(a, p2, 262144, NETBE_CAPTURE_PCAPNG), 0);
		make_frame(f1, 60 + (size_t)i, (uint8_t)i);
		CHECK_EQ(send_frame(a, f1, 60 + (size_t)i, 0, NULL), 60 + i);
		CHECK_EQ(recv_frame(b, rbuf), 60 + i);
	}
	CHECK_EQ(netbe_capture_stop(a), 0);
	CHECK_EQ(netbe_capture_stop(a), 0);
	CHECK_EQ(netbe_get_capture_stats(a, &st), 0);
	CHECK_EQ(st.frames, 4);
	CHECK_EQ(st.bytes, 61 + 62 + 64 + 65);
	if (load(p1, &c, false)) {
		CHECK_EQ(c.nepb, 2);
		CHECK_EQ(c.epb[0].origlen, 61);
		CHECK_EQ(c.epb[1].origlen, 62);
		check_tools(p1, &c);
	}
	capfile_free(&c);
	if (load(p2, &c, false)) {
		CHECK_EQ(c.nepb, 2);
		CHECK_EQ(c.epb[0].origlen, 64);
		CHECK_EQ(c.epb[1].origlen, 65);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

/* A write error (the file size limit) stops the capture after counting
 * one error; every send still succeeds. */
static void test_write_error(void)
{
	const char *path = path_of("full.pcapng");
	struct rlimit old, lim;
	struct netbe_capture_stats st;
	struct netbe *a, *b;
	struct capfile c;
	int i, sent = 0;

	a = open_end("werr", NULL);
	b = open_end("werr", NULL);
	if (!a || !b || getrlimit(RLIMIT_FSIZE, &old))
		goto out;
	signal(SIGXFSZ, SIG_IGN);
	lim = old;              /* the hard limit stays, so it can be undone */
	lim.rlim_cur = 4096;
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	CHECK_EQ(netbe_capture_start(a, path, 262144, NETBE_CAPTURE_PCAPNG), 0);
	make_frame(f1, 1000, 10);
	for (i = 0; i < 10; i++) {
		sent += send_frame(a, f1, 1000, 0, NULL) == 1000;
		recv_frame(b, rbuf);
	}
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_EQ(sent, 10);
	CHECK_EQ(netbe_get_capture_stats(a, &st), 0);
	CHECK_EQ(st.write_errors, 1);
	CHECK(st.frames >= 1 && st.frames < 5);
	/* the capture stopped: a new one may start */
	CHECK_EQ(netbe_capture_start(a, path_of("after.pcapng"), 64, NETBE_CAPTURE_PCAPNG), 0);
	CHECK_EQ(send_frame(a, f1, 1000, 0, NULL), 1000);
	CHECK_EQ(netbe_capture_stop(a), 0);
	if (load(path_of("after.pcapng"), &c, false))
		CHECK_EQ(c.nepb, 1);
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

#define THREAD_FRAMES 200
#define THREAD_DEADLINE_MS 30000

/* One side of the threaded case: a thread sending or receiving frames. */
struct mover {
	struct netbe *be;
	unsigned want;                 /* frames to move; 0: THREAD_FRAMES */
	unsigned done;
	bool echo;                     /* send each received frame back */
	struct netbe *echo_be;
	uint8_t buf[2048];
};

/* Send @len bytes of @buf through @be, retrying on -EAGAIN until the
 * deadline. Return: true when sent. */
static bool send_retry(struct netbe *be, uint8_t *buf, size_t len, uint64_t deadline)
{
	struct iovec iov = { buf, len };

	while (harness_now_ms() < deadline) {
		ssize_t n = netbe_send(be, &iov, 1);

		if (n == (ssize_t)len)
			return true;
		if (n != -EAGAIN)
			return false;
		sched_yield();
	}
	return false;
}

/* Thread: send THREAD_FRAMES numbered frames. */
static void *sender(void *opaque)
{
	struct mover *m = opaque;
	uint64_t deadline = harness_now_ms() + THREAD_DEADLINE_MS;
	unsigned want = m->want ? m->want : THREAD_FRAMES;

	for (m->done = 0; m->done < want; m->done++) {
		make_frame(m->buf, 60 + m->done % 200, (uint8_t)m->done);
		if (!send_retry(m->be, m->buf, 60 + m->done % 200, deadline))
			break;
	}
	return NULL;
}

/* Thread: receive THREAD_FRAMES frames (echoing them when asked). */
static void *receiver(void *opaque)
{
	struct mover *m = opaque;
	uint64_t deadline = harness_now_ms() + THREAD_DEADLINE_MS;
	struct iovec iov = { m->buf, sizeof(m->buf) };
	unsigned want = m->want ? m->want : THREAD_FRAMES;

	while (m->done < want && harness_now_ms() < deadline) {
		ssize_t n = netbe_recv(m->be, &iov, 1);

		if (n <= 0) {
			sched_yield();
			continue;
		}
		if (m->echo && !send_retry(m->echo_be, m->buf, (size_t)n, deadline))
			break;
		m->done++;
	}
	return NULL;
}

/* End A sends on one thread and receives on another while end B echoes on
 * a third, both ends capturing into one file: every frame is there once
 * per interface and direction, and the file is well-formed. */
static void test_threads(void)
{
	const char *path = path_of("threads.pcapng");
	static struct mover tx, echo, rx;
	unsigned count[2][3] = { { 0 } }, i;
	struct netbe *a, *b;
	pthread_t t1, t2, t3;
	struct capfile c;

	a = open_end("thr", ",depth=16");
	b = open_end("thr", ",depth=16");
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_capture_start(a, path, 262144, NETBE_CAPTURE_PCAPNG), 0);
	CHECK_EQ(netbe_capture_start(b, path, 262144, NETBE_CAPTURE_PCAPNG), 0);
	tx = (struct mover){ .be = a };
	echo = (struct mover){ .be = b, .echo = true, .echo_be = b };
	rx = (struct mover){ .be = a };
	pthread_create(&t1, NULL, sender, &tx);
	pthread_create(&t2, NULL, receiver, &echo);
	pthread_create(&t3, NULL, receiver, &rx);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	CHECK_EQ(tx.done, THREAD_FRAMES);
	CHECK_EQ(echo.done, THREAD_FRAMES);
	CHECK_EQ(rx.done, THREAD_FRAMES);
	netbe_close(a);
	a = NULL;
	CHECK_EQ(netbe_capture_stop(b), 0);
	if (load(path, &c, false)) {
		CHECK_EQ(c.nidb, 2);
		CHECK_EQ(c.nepb, 4 * THREAD_FRAMES);
		for (i = 0; i < c.nepb; i++)
			if (c.epb[i].if_id < 2 && c.epb[i].flags >= 1 && c.epb[i].flags <= 2)
				count[c.epb[i].if_id][c.epb[i].flags]++;
		CHECK_EQ(count[0][1], THREAD_FRAMES);
		CHECK_EQ(count[0][2], THREAD_FRAMES);
		CHECK_EQ(count[1][1], THREAD_FRAMES);
		CHECK_EQ(count[1][2], THREAD_FRAMES);
		check_tools(path, &c);
	}
	capfile_free(&c);
out:
	netbe_close(a);
	netbe_close(b);
}

#define TOGGLES 20
#define TOGGLE_FRAMES 20000

/* Captures started and stopped on the main thread while a sender and a
 * receiver thread move frames through the captured handle: every file is
 * well-formed and the counters match the frames in the files. */
static void test_toggle_under_load(void)
{
	static struct mover tx, rx;
	struct netbe_capture_stats st;
	unsigned i, in_files = 0;
	struct netbe *a, *b;
	pthread_t t1, t2;
	char name[32];
	struct capfile c;

	a = open_end("tog", NULL);
	b = open_end("tog", NULL);
	if (!a || !b)
		goto out;
	tx = (struct mover){ .be = a, .want = TOGGLE_FRAMES };
	rx = (struct mover){ .be = b, .want = TOGGLE_FRAMES };
	pthread_create(&t1, NULL, sender, &tx);
	pthread_create(&t2, NULL, receiver, &rx);
	for (i = 0; i < TOGGLES; i++) {
		snprintf(name, sizeof(name), "toggle-%u.pcapng", i);
		CHECK_EQ(netbe_capture_start(a, path_of(name), 128, NETBE_CAPTURE_PCAPNG), 0);
		usleep(1000);
		CHECK_EQ(netbe_capture_stop(a), 0);
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK_EQ(tx.done, TOGGLE_FRAMES);
	CHECK_EQ(rx.done, TOGGLE_FRAMES);
	CHECK_EQ(netbe_get_capture_stats(a, &st), 0);
	for (i = 0; i < TOGGLES; i++) {
		snprintf(name, sizeof(name), "toggle-%u.pcapng", i);
		if (load(path_of(name), &c, false)) {
			CHECK_EQ(c.nidb, 1);
			in_files += c.nepb;
		}
		CHECK(c.nepb < MAX_EPB);
		capfile_free(&c);
	}
	printf("# %u frames captured in %d runs\n", in_files, TOGGLES);
	CHECK_EQ(st.frames, in_files);
	CHECK_EQ(st.write_errors, 0);
out:
	netbe_close(a);
	netbe_close(b);
}

/* Open @spec, expecting -EINVAL and a message containing @msg. */
static void bad_spec(const char *spec, const char *msg)
{
	struct netbe *be = NULL;

	CHECK_EQ(netbe_open(&be, spec, NULL, netbe_epoll_loop(ep)), -EINVAL);
	CHECK(!be);
	CHECK_STR_CONTAINS(netbe_last_error(), msg);
	netbe_close(be);
}

static void test_bad_args(void)
{
	const char *path = path_of("bad.pcapng");
	struct netbe_capture_stats st;
	struct netbe *a = open_end("bad", NULL), *b = open_end("bad", NULL);
	char spec[300];

	CHECK_EQ(netbe_capture_start(NULL, path, 100, NETBE_CAPTURE_PCAPNG), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "handle is NULL");
	CHECK_EQ(netbe_capture_stop(NULL), -EINVAL);
	CHECK_EQ(netbe_get_capture_stats(NULL, &st), -EINVAL);
	CHECK_EQ(netbe_get_capture_stats(a, NULL), -EINVAL);
	CHECK_EQ(netbe_capture_stats_read(a, &st, 3 * sizeof(uint64_t)), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "size 24 is below the smallest");
	if (a) {
		uint64_t wide[6];

		memset(wide, 0xff, sizeof(wide));
		CHECK_EQ(netbe_capture_stats_read(a, (struct netbe_capture_stats *)wide,
						  sizeof(wide)), 0);
		CHECK_EQ(wide[0] | wide[3], 0);
		CHECK_EQ(wide[4] | wide[5], 0);     /* a newer caller's fields */
	}
	if (!a || !b)
		goto out;
	CHECK_EQ(netbe_capture_start(a, NULL, 100, NETBE_CAPTURE_PCAPNG), -EINVAL);
	CHECK_EQ(netbe_capture_start(a, "", 100, NETBE_CAPTURE_PCAPNG), -EINVAL);
	CHECK_EQ(netbe_capture_start(a, path, 0, NETBE_CAPTURE_PCAPNG), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "expected 1 to 262144");
	CHECK_EQ(netbe_capture_start(a, path, 262145, NETBE_CAPTURE_PCAPNG), -EINVAL);
	CHECK_EQ(netbe_capture_start(a, path, 100, (enum netbe_capture_format)7), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "unknown format 7");
	CHECK_EQ(netbe_capture_start(a, "/nonexistent-netbe-dir/x.pcapng", 100,
				     NETBE_CAPTURE_PCAPNG), -ENOENT);
	CHECK_STR_CONTAINS(netbe_last_error(), "cannot create /nonexistent-netbe-dir/x.pcapng");
	CHECK_EQ(netbe_capture_start(a, path, 100, NETBE_CAPTURE_PCAPNG), 0);
	CHECK_EQ(netbe_capture_start(a, path, 100, NETBE_CAPTURE_PCAPNG), -EBUSY);
	CHECK_EQ(netbe_capture_start(b, path, 100, NETBE_CAPTURE_PCAP), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "already captured as pcapng");
	CHECK_EQ(netbe_capture_stop(a), 0);
	CHECK_EQ(netbe_capture_start(a, path, 100, NETBE_CAPTURE_PCAP), 0);
	CHECK_EQ(netbe_capture_start(b, path, 200, NETBE_CAPTURE_PCAP), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "snaplen 100");
	CHECK_EQ(netbe_capture_start(b, path, 100, NETBE_CAPTURE_PCAP), 0);
	CHECK_EQ(netbe_get_capture_stats(a, &st), 0);
	CHECK_EQ(st.frames + st.write_errors, 0);
out:
	netbe_close(a);
	netbe_close(b);
	bad_spec("pair:bs,snaplen=100", "need capture=PATH");
	bad_spec("pair:bs,capture_format=pcap", "need capture=PATH");
	snprintf(spec, sizeof(spec), "pair:bs,capture=%s,snaplen=0", path);
	bad_spec(spec, "expected a number from 1 to 262144");
	snprintf(spec, sizeof(spec), "pair:bs,capture=%s,snaplen=262145", path);
	bad_spec(spec, "expected a number from 1 to 262144");
	snprintf(spec, sizeof(spec), "pair:bs,capture=%s,capture_format=pcapx", path);
	bad_spec(spec, "expected one of pcapng, pcap");
	bad_spec("pair:bs,capture=", "has no value");
}

/* Remove the test's files and directory. */
static void cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(dir) || netbe_epoll_new(&ep)) {
		printf("Bail out! no temporary directory or loop\n");
		return 1;
	}
	t_start = wall_usec();
	have_tshark = system("command -v tshark >/dev/null && command -v capinfos >/dev/null") == 0;
	RUN(test_both_ways_plain);
	RUN(test_both_ways_vnet);
	RUN(test_tso_superframe);
	RUN(test_snaplen);
	RUN(test_pcap);
	RUN(test_two_handles);
	RUN(test_start_stop);
	RUN(test_write_error);
	RUN(test_threads);
	RUN(test_toggle_under_load);
	RUN(test_bad_args);
	netbe_epoll_free(ep);
	cleanup();
	return harness_done();
}
