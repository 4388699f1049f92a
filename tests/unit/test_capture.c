/* test_capture.c — the capture readers and the pcap writer.
 *
 * Files are built byte by byte here (both byte orders, micro/nanosecond pcap,
 * pcapng with several interfaces, resolutions and skipped blocks), read back
 * from memory and from disk, and broken on purpose: every error must say what is
 * wrong, at which packet and byte offset.  Every prefix of a valid file is read
 * too: it must end cleanly at a record boundary or fail with "truncated".
 * Finally examples/demo.pcap is checked for the contents the demo promises.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/capture.h"
#include "testutil.h"

/* ------------------------------------------------------------ file builder */
struct fb {
	uint8_t b[1 << 16];
	size_t n;
	bool be; /* big-endian fields */
};

static void p8(struct fb *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void p16(struct fb *f, uint32_t v)
{
	if (f->be) {
		p8(f, (uint8_t)(v >> 8));
		p8(f, (uint8_t)v);
	} else {
		p8(f, (uint8_t)v);
		p8(f, (uint8_t)(v >> 8));
	}
}

static void p32(struct fb *f, uint32_t v)
{
	if (f->be) {
		p16(f, v >> 16);
		p16(f, v & 0xffff);
	} else {
		p16(f, v & 0xffff);
		p16(f, v >> 16);
	}
}

static void p64(struct fb *f, uint64_t v)
{
	if (f->be) {
		p32(f, (uint32_t)(v >> 32));
		p32(f, (uint32_t)v);
	} else {
		p32(f, (uint32_t)v);
		p32(f, (uint32_t)(v >> 32));
	}
}

static void pbytes(struct fb *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void pcap_hdr(struct fb *f, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
	p32(f, magic);
	p16(f, 2);
	p16(f, 4);
	p32(f, 0);
	p32(f, 0);
	p32(f, snaplen);
	p32(f, linktype);
}

static void pcap_rec(struct fb *f, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
		     uint8_t fill)
{
	p32(f, sec);
	p32(f, frac);
	p32(f, caplen);
	p32(f, len);
	for (uint32_t i = 0; i < caplen; i++)
		p8(f, (uint8_t)(fill + i));
}

/* pcapng blocks; blk_begin returns where the block starts, blk_end writes lengths */
static size_t blk_begin(struct fb *f, uint32_t type)
{
	size_t at = f->n;
	p32(f, type);
	p32(f, 0);
	return at;
}

static void blk_end(struct fb *f, size_t at)
{
	while (f->n % 4)
		p8(f, 0);
	uint32_t len = (uint32_t)(f->n - at + 4);
	size_t save = f->n;
	f->n = at + 4;
	p32(f, len);
	f->n = save;
	p32(f, len);
}

static void shb(struct fb *f)
{
	size_t at = blk_begin(f, 0x0a0d0d0a);
	p32(f, 0x1a2b3c4d);
	p16(f, 1);
	p16(f, 0);
	p64(f, UINT64_MAX);
	blk_end(f, at);
}

static void idb(struct fb *f, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
	size_t at = blk_begin(f, 1);
	p16(f, linktype);
	p16(f, 0);
	p32(f, snaplen);
	if (tsresol >= 0) {
		p16(f, 9);
		p16(f, 1);
		p8(f, (uint8_t)tsresol);
		p8(f, 0);
		p8(f, 0);
		p8(f, 0);
	}
	if (tsoffset) {
		p16(f, 14);
		p16(f, 8);
		p64(f, (uint64_t)tsoffset);
	}
	p16(f, 0);
	p16(f, 0);
	blk_end(f, at);
}

static size_t epb(struct fb *f, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t len, uint8_t fill)
{
	size_t at = blk_begin(f, 6);
	p32(f, ifid);
	p32(f, (uint32_t)(ts >> 32));
	p32(f, (uint32_t)ts);
	p32(f, caplen);
	p32(f, len);
	for (uint32_t i = 0; i < caplen; i++)
		p8(f, (uint8_t)(fill + i));
	while (f->n % 4)
		p8(f, 0);
	p16(f, 1); /* an opt_comment */
	p16(f, 3);
	pbytes(f, "hi!", 3);
	p8(f, 0);
	p16(f, 0);
	p16(f, 0);
	blk_end(f, at);
	return at;
}

/* read everything; returns the packet count, the last return in *last */
static int read_all(struct capture *c, int *last)
{
	struct capture_pkt pkt;
	int n = 0, r;
	while ((r = capture_next(c, &pkt)) > 0)
		n++;
	*last = r;
	return n;
}

static struct capture *open_fb(const struct fb *f, char *err, size_t err_sz)
{
	return capture_open_mem(f->b, f->n, "t", err, err_sz);
}

/* ------------------------------------------------------------------ pcap */

static void test_pcap_roundtrip(void)
{
	char path[] = "/tmp/bpfvm-capture-XXXXXX", err[CAPTURE_ERR_SZ];
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	for (int nsec = 0; nsec < 2; nsec++) {
		struct capture_writer *w = capture_writer_open(path, 1, nsec, err, sizeof(err));
		CHECK(w != NULL);
		uint8_t data[1600];
		for (int i = 0; i < 1600; i++)
			data[i] = (uint8_t)(i * 7);
		for (uint32_t i = 0; i < 50; i++) {
			struct capture_pkt p = { data, i * 31, i * 31 + (i % 3), 1700000000123456789ull + i * 1001,
						 0, 0 };
			CHECK_EQ(capture_write(w, &p), 0);
		}
		CHECK_EQ(capture_writer_close(w), 0);
		/* from the file (streamed) and from memory */
		FILE *fp = fopen(path, "rb");
		static uint8_t mem[1 << 17];
		size_t sz = fread(mem, 1, sizeof(mem), fp);
		fclose(fp);
		for (int from_mem = 0; from_mem < 2; from_mem++) {
			struct capture *c = from_mem ? capture_open_mem(mem, sz, NULL, err, sizeof(err))
						     : capture_open(path, err, sizeof(err));
			CHECK(c != NULL);
			if (!c)
				continue;
			CHECK_EQ(capture_format(c), CAPTURE_PCAP);
			CHECK_EQ(capture_nsec(c), nsec);
			struct capture_pkt p;
			uint32_t i = 0;
			int r;
			while ((r = capture_next(c, &p)) > 0) {
				CHECK_EQ(p.caplen, i * 31);
				CHECK_EQ(p.len, i * 31 + (i % 3));
				CHECK_EQ(p.index, i);
				uint64_t want = 1700000000123456789ull + i * 1001;
				CHECK_EQ(p.ts_ns, nsec ? want : want / 1000 * 1000);
				CHECK(p.caplen == 0 || !memcmp(p.data, data, p.caplen));
				i++;
			}
			CHECK_EQ(r, 0);
			CHECK_EQ(i, 50);
			CHECK_EQ(capture_offset(c), sz);
			capture_close(c);
		}
	}
	unlink(path);
	CHECK(capture_open(path, err, sizeof(err)) == NULL);
	CHECK_EQ(errno, ENOENT);
	CHECK_CONTAINS(err, "No such file");
}

static void test_pcap_swapped(void)
{
	static struct fb f;
	f.n = 0;
	f.be = true;
	pcap_hdr(&f, 0xa1b23c4d, 65535, 1);
	pcap_rec(&f, 10, 999999999, 4, 60, 0xa0);
	char err[CAPTURE_ERR_SZ];
	struct capture *c = open_fb(&f, err, sizeof(err));
	CHECK(c != NULL);
	struct capture_pkt p;
	CHECK_EQ(capture_next(c, &p), 1);
	CHECK_EQ(p.caplen, 4);
	CHECK_EQ(p.len, 60);
	CHECK_EQ(p.ts_ns, 10999999999ull);
	CHECK_EQ(p.data[3], 0xa3);
	CHECK_EQ(capture_next(c, &p), 0);
	CHECK_EQ(capture_next(c, &p), 0);
	CHECK(capture_nsec(c));
	capture_close(c);
}

static void expect_open_error(const struct fb *f, int err_no, const char *msg)
{
	char err[CAPTURE_ERR_SZ] = "";
	errno = 0;
	struct capture *c = open_fb(f, err, sizeof(err));
	CHECK(c == NULL);
	CHECK_EQ(errno, err_no);
	CHECK_CONTAINS(err, msg);
	capture_close(c);
}

/* open must work; reading must stop after `good` packets with `msg` */
static void expect_read_error(const struct fb *f, int good, int ret, const char *msg)
{
	char err[CAPTURE_ERR_SZ] = "";
	struct capture *c = open_fb(f, err, sizeof(err));
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "open: %s\n", err);
		return;
	}
	int last;
	CHECK_EQ(read_all(c, &last), good);
	CHECK_EQ(last, ret);
	CHECK_CONTAINS(capture_error(c), msg);
	struct capture_pkt p;
	CHECK_EQ(capture_next(c, &p), ret); /* errors stick */
	capture_close(c);
}

static void test_pcap_errors(void)
{
	static struct fb f;
	f.be = false;
	f.n = 0;
	expect_open_error(&f, EINVAL, "t: empty file, not a capture");
	pbytes(&f, "\x00\x01\x02\x03\x04", 5);
	expect_open_error(&f, EINVAL, "t: not a pcap or pcapng file (starts with 00 01 02 03)");
	f.n = 0;
	p32(&f, 0xa1b2c3d4);
	p16(&f, 2);
	expect_open_error(&f, EINVAL, "truncated file: pcap file header at byte offset 0 needs 24 bytes, only 6 left");
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 65535, 113);
	expect_open_error(&f, EPROTONOSUPPORT,
			  "t: link type 113 (LINUX_SLL) is not supported: bpfvm reads Ethernet");
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 65535, 101);
	expect_open_error(&f, EPROTONOSUPPORT, "link type 101 (RAW)");
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 65535, 1 | 0x14000000); /* FCS bits are not the link type */
	struct capture *c = open_fb(&f, NULL, 0);
	CHECK(c != NULL);
	capture_close(c);
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 65535, 1);
	f.b[4] = 3;
	expect_open_error(&f, EINVAL, "unsupported pcap version 3.4");

	/* caplen above snaplen, at packet 1 */
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 100, 1);
	pcap_rec(&f, 1, 0, 20, 20, 0);
	pcap_rec(&f, 1, 0, 101, 200, 0);
	expect_read_error(&f, 1, -EINVAL,
			  "t: packet 1 at byte offset 60: captured length 101 exceeds the file's snaplen 100");
	/* above 256 KiB with snaplen 0 ("unknown") */
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 0, 1);
	p32(&f, 0);
	p32(&f, 0);
	p32(&f, 300000);
	p32(&f, 300000);
	expect_read_error(&f, 0, -EINVAL,
			  "packet 0 at byte offset 24: captured length 300000 exceeds the limit of 262144");
	/* caplen above len */
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 65535, 1);
	pcap_rec(&f, 1, 0, 30, 20, 0);
	expect_read_error(&f, 0, -EINVAL, "packet 0 at byte offset 24: captured length 30 exceeds the original length 20");
	/* truncated record header and data */
	f.n = 0;
	pcap_hdr(&f, 0xa1b2c3d4, 65535, 1);
	pcap_rec(&f, 1, 0, 20, 20, 0);
	p32(&f, 1);
	p8(&f, 0);
	expect_read_error(&f, 1, -EINVAL,
			  "truncated file: packet 1 record header at byte offset 60 needs 16 bytes, only 5 left");
	f.n = 60;
	pcap_rec(&f, 1, 0, 20, 20, 0);
	f.n -= 17;
	expect_read_error(&f, 1, -EINVAL, "truncated file: packet 1 data at byte offset 76 needs 20 bytes, only 3 left");
}

/* ---------------------------------------------------------------- pcapng */

static void build_ng(struct fb *f, bool be, size_t *bad_epb)
{
	f->n = 0;
	f->be = be;
	shb(f);
	idb(f, 1, 0, 9, 0);					/* if 0: Ethernet, ns */
	size_t at = blk_begin(f, 0x40000bad);			/* a custom block: skipped */
	pbytes(f, "some vendor data", 16);
	blk_end(f, at);
	epb(f, 0, 1700000000123456789ull, 60, 60, 0x10);	/* packet 0 */
	idb(f, 113, 0, -1, 0);					/* if 1: Linux cooked */
	idb(f, 1, 128, 0x80 | 10, 100);				/* if 2: 2^-10 s, +100 s */
	at = blk_begin(f, 3);					/* packet 1: simple packet block */
	p32(f, 70);
	for (int i = 0; i < 70; i++)
		p8(f, (uint8_t)i);
	blk_end(f, at);
	epb(f, 2, 5 * 1024 + 512, 64, 1500, 0x20);		/* packet 2 */
	at = blk_begin(f, 5);					/* interface statistics: skipped */
	p32(f, 0);
	p64(f, 0);
	blk_end(f, at);
	*bad_epb = epb(f, 1, 7, 10, 10, 0);			/* packet 3: on the cooked interface */
}

static void test_pcapng(void)
{
	static struct fb f;
	for (int be = 0; be < 2; be++) {
		size_t bad;
		build_ng(&f, be, &bad);
		char err[CAPTURE_ERR_SZ], want[160];
		struct capture *c = open_fb(&f, err, sizeof(err));
		CHECK(c != NULL);
		if (!c)
			continue;
		CHECK_EQ(capture_format(c), CAPTURE_PCAPNG);
		struct capture_pkt p;
		CHECK_EQ(capture_next(c, &p), 1);
		CHECK_EQ(p.index, 0);
		CHECK_EQ(p.ifindex, 0);
		CHECK_EQ(p.caplen, 60);
		CHECK_EQ(p.ts_ns, 1700000000123456789ull);
		CHECK_EQ(p.data[59], 0x10 + 59);
		CHECK_EQ(capture_next(c, &p), 1);
		CHECK_EQ(p.index, 1);
		CHECK_EQ(p.caplen, 70);
		CHECK_EQ(p.len, 70);
		CHECK_EQ(p.data[69], 69);
		CHECK_EQ(capture_next(c, &p), 1);
		CHECK_EQ(p.ifindex, 2);
		CHECK_EQ(p.caplen, 64);
		CHECK_EQ(p.len, 1500);
		CHECK_EQ(p.ts_ns, 105500000000ull); /* 5.5 s at 2^-10, plus 100 s */
		CHECK_EQ(capture_next(c, &p), -EPROTONOSUPPORT);
		snprintf(want, sizeof(want),
			 "t: packet 3 at byte offset %zu: interface 1 has link type 113 (LINUX_SLL); "
			 "bpfvm reads Ethernet",
			 bad);
		CHECK_CONTAINS(capture_error(c), want);
		CHECK(capture_nsec(c));
		capture_close(c);
	}
	/* a second section forgets the first one's interfaces */
	size_t bad;
	build_ng(&f, false, &bad);
	f.n = bad;
	size_t sec2 = f.n;
	shb(&f);
	idb(&f, 1, 0, -1, 0);
	epb(&f, 0, 1000000, 14, 14, 0); /* microseconds: 1 s */
	size_t e = epb(&f, 1, 0, 14, 14, 0);
	char want[160];
	struct capture *c = open_fb(&f, NULL, 0);
	int last;
	CHECK_EQ(read_all(c, &last), 4);
	snprintf(want, sizeof(want),
		 "packet 4 at byte offset %zu: interface 1 was not declared (1 interfaces in this section)", e);
	CHECK_CONTAINS(capture_error(c), want);
	capture_close(c);
	(void)sec2;
	/* the same, big-endian second section after a little-endian first */
	build_ng(&f, false, &bad);
	f.n = bad;
	f.be = true;
	shb(&f);
	idb(&f, 1, 0, -1, 0);
	epb(&f, 0, 2000000, 14, 14, 0x33);
	c = open_fb(&f, NULL, 0);
	struct capture_pkt p;
	for (int i = 0; i < 4; i++)
		CHECK_EQ(capture_next(c, &p), 1);
	CHECK_EQ(p.ts_ns, 2000000000ull);
	CHECK_EQ(p.data[0], 0x33);
	CHECK_EQ(capture_next(c, &p), 0);
	capture_close(c);
}

static void test_pcapng_errors(void)
{
	static struct fb f;
	char want[200];
	f.be = false;
	/* bad byte-order magic */
	f.n = 0;
	shb(&f);
	f.b[8] = 0x99;
	expect_open_error(&f, EINVAL, "section header block at byte offset 0: bad byte-order magic");
	/* trailing length differs */
	f.n = 0;
	shb(&f);
	idb(&f, 1, 0, -1, 0);
	size_t at = epb(&f, 0, 0, 20, 20, 0);
	f.b[f.n - 1] ^= 1;
	snprintf(want, sizeof(want),
		 "enhanced packet block at byte offset %zu: trailing length %u differs from leading length %u",
		 at, (unsigned)(f.n - at) ^ (1u << 24), (unsigned)(f.n - at));
	expect_read_error(&f, 0, -EINVAL, want);
	/* captured length overruns the block */
	f.b[f.n - 1] ^= 1;
	f.b[at + 20] = 200;
	snprintf(want, sizeof(want),
		 "packet 0 at byte offset %zu: captured length 200 overruns its enhanced packet block", at);
	expect_read_error(&f, 0, -EINVAL, want);
	/* block length not a multiple of 4 */
	f.b[at + 20] = 20;
	f.b[at + 4] += 1;
	snprintf(want, sizeof(want), "block of type 0x6 at byte offset %zu: bad block length", at);
	expect_read_error(&f, 0, -EINVAL, want);
	f.b[at + 4] -= 1;
	/* the file ends inside a block */
	f.n -= 5;
	snprintf(want, sizeof(want), "truncated file: enhanced packet block at byte offset %zu needs", at);
	expect_read_error(&f, 0, -EINVAL, want);
	/* an option running past its block */
	f.n = 0;
	shb(&f);
	at = f.n;
	idb(&f, 1, 0, 9, 0);
	f.b[at + 18] = 40; /* if_tsresol's length */
	snprintf(want, sizeof(want), "interface description block at byte offset %zu: option 9 of 40 bytes overruns the block", at);
	expect_read_error(&f, 0, -EINVAL, want);
	/* caplen over the interface's snaplen */
	f.n = 0;
	shb(&f);
	idb(&f, 1, 32, -1, 0);
	at = epb(&f, 0, 0, 40, 40, 0);
	snprintf(want, sizeof(want), "packet 0 at byte offset %zu: captured length 40 exceeds interface 0's snaplen 32", at);
	expect_read_error(&f, 0, -EINVAL, want);
	/* a packet before any interface */
	f.n = 0;
	shb(&f);
	at = epb(&f, 0, 0, 4, 4, 0);
	snprintf(want, sizeof(want), "packet 0 at byte offset %zu: interface 0 was not declared (0 interfaces", at);
	expect_read_error(&f, 0, -EINVAL, want);
	/* an obsolete packet block is read */
	f.n = 0;
	shb(&f);
	idb(&f, 1, 0, -1, 0);
	at = blk_begin(&f, 2);
	p16(&f, 0);
	p16(&f, 0);
	p32(&f, 0);
	p32(&f, 3000000);
	p32(&f, 3);
	p32(&f, 9);
	pbytes(&f, "abc", 3);
	blk_end(&f, at);
	struct capture *c = open_fb(&f, NULL, 0);
	struct capture_pkt p;
	CHECK_EQ(capture_next(c, &p), 1);
	CHECK_EQ(p.caplen, 3);
	CHECK_EQ(p.len, 9);
	CHECK_EQ(p.ts_ns, 3000000000ull);
	capture_close(c);
}

/* every prefix of a valid file ends cleanly at a record boundary, or says
 * "truncated" with a byte offset */
static void test_truncation(void)
{
	static struct fb f, g;
	size_t bad;
	build_ng(&f, true, &bad);
	f.n = bad; /* drop the unsupported packet */
	g.be = false;
	g.n = 0;
	pcap_hdr(&g, 0xa1b2c3d4, 65535, 1);
	size_t bounds[8], nb = 0;
	for (int i = 0; i < 6; i++) {
		pcap_rec(&g, (uint32_t)i, 0, (uint32_t)(i * 9), (uint32_t)(i * 9), 0);
		bounds[nb++] = g.n;
	}
	int bad_cnt = 0;
	for (int which = 0; which < 2; which++) {
		struct fb *x = which ? &f : &g;
		for (size_t n = 0; n < x->n; n++) {
			char err[CAPTURE_ERR_SZ] = "";
			struct capture *c = capture_open_mem(x->b, n, "t", err, sizeof(err));
			const char *msg = err;
			int last = -EINVAL, cnt = 0;
			if (c) {
				cnt = read_all(c, &last);
				msg = capture_error(c);
			}
			bool at_boundary = which == 0 && n == 24;
			for (size_t b = 0; which == 0 && b < nb; b++)
				at_boundary |= n == bounds[b];
			/* pcapng: after the section header, every block end (big-endian) */
			for (size_t o = 0; which == 1 && o < x->n;) {
				size_t len = (size_t)x->b[o + 4] << 24 | (size_t)x->b[o + 5] << 16 |
					     (size_t)x->b[o + 6] << 8 | x->b[o + 7];
				o += len;
				at_boundary |= n == o;
			}
			bool ok = at_boundary ? last == 0
					      : last == -EINVAL && strstr(msg, "truncated file") &&
							strstr(msg, "byte offset");
			if (n == 0)
				ok = strstr(msg, "empty file") != NULL;
			if (!ok && bad_cnt++ < 5)
				fprintf(stderr, "prefix %zu of %s: %d packets, %d: %s\n", n,
					which ? "pcapng" : "pcap", cnt, last, msg);
			capture_close(c);
		}
	}
	CHECK_EQ(bad_cnt, 0);
}

/* ------------------------------------------------------- bulk records */

/* capture_take + capture_record hand out the same packets as capture_next,
 * stop before a record capture_next must report (here: caplen > snaplen),
 * respect the limit, and keep what they hand out valid while held: over a
 * file larger than a chunk, in both byte orders, read from disk. */
static void test_take(void)
{
	enum { N = 3000, BAD = 2500 };
	char path[] = "/tmp/test_capture_take.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	static uint8_t buf[N * (16 + 200) + 24];
	for (int be = 0; be < 2; be++) {
		size_t n = 0;
		struct fb *h = calloc(1, sizeof(*h));
		h->be = be;
		pcap_hdr(h, 0xa1b23c4d, 200, 1); /* nanosecond pcap, snaplen 200 */
		memcpy(buf, h->b, h->n);
		n = h->n;
		for (uint32_t i = 0; i < N; i++) {
			h->n = 0;
			uint32_t caplen = i == BAD ? 201 : (i * 37) % 190;
			pcap_rec(h, i, i * 3, caplen, caplen + i % 5, (uint8_t)i);
			if (i == BAD) { /* the header only: the reader stops there */
				memcpy(buf + n, h->b, 16);
				n += 16;
				break;
			}
			memcpy(buf + n, h->b, h->n);
			n += h->n;
		}
		free(h);
		FILE *fp = fopen(path, "wb");
		fwrite(buf, 1, n, fp);
		fclose(fp);
		char err[CAPTURE_ERR_SZ];
		struct capture *a = capture_open_mem(buf, n, path, err, sizeof(err));
		struct capture *b = capture_open(path, err, sizeof(err));
		CHECK(a && b);
		if (!a || !b)
			return;
		capture_hold(b);
		struct capture_pkt want[64], got[64];
		int ra = 1, rb = 1, mismatches = 0, taken = 0, past_limit = 0;
		uint64_t limit_at = 100000; /* a limit in the middle, then none */
		capture_set_limit(b, limit_at);
		while (ra > 0) {
			/* take up to 64 packets from b, as records where it can */
			size_t k = 0;
			while (k < 64) {
				const uint8_t *first;
				size_t bytes;
				uint64_t index;
				size_t m = capture_take(b, 64 - k, SIZE_MAX, &first, &bytes, &index);
				for (size_t i = 0; i < m; i++)
					first += capture_record(b, first, index + i, &got[k++]);
				taken += (int)m;
				if (m)
					continue;
				rb = capture_next(b, &got[k]);
				if (rb == -EAGAIN) {
					past_limit += capture_offset(b) <= limit_at;
					capture_set_limit(b, UINT64_MAX);
					continue;
				}
				if (rb <= 0)
					break;
				k++;
			}
			/* the same packets from a, compared once all of b's were taken */
			for (size_t i = 0; i < k; i++) {
				ra = capture_next(a, &want[i]);
				bool same = ra == 1 && want[i].caplen == got[i].caplen &&
					    want[i].len == got[i].len && want[i].ts_ns == got[i].ts_ns &&
					    want[i].index == got[i].index &&
					    !memcmp(want[i].data, got[i].data, got[i].caplen);
				mismatches += !same;
			}
			capture_release(b, capture_offset(b));
			if (k < 64) {
				ra = capture_next(a, &want[0]);
				break;
			}
		}
		CHECK_EQ(mismatches, 0);
		CHECK(taken > N / 2);
		CHECK_EQ(past_limit, 1);
		CHECK_EQ(ra, -EINVAL);
		CHECK_EQ(rb, -EINVAL);
		CHECK_STR(capture_error(b), capture_error(a));
		CHECK_CONTAINS(capture_error(b), "packet 2500");
		capture_close(a);
		capture_close(b);
	}
	unlink(path);
}

/* ---------------------------------------------------------------- demo */

static void test_demo(void)
{
	char err[CAPTURE_ERR_SZ];
	struct capture *c = capture_open("examples/demo.pcap", err, sizeof(err));
	if (!c) {
		printf("demo capture not checked: %s\n", err);
		return;
	}
	static uint8_t mem[1 << 22];
	FILE *fp = fopen("examples/demo.pcap", "rb");
	size_t sz = fread(mem, 1, sizeof(mem), fp);
	fclose(fp);
	struct capture *m = capture_open_mem(mem, sz, NULL, err, sizeof(err));
	struct capture_pkt p, q;
	int n = 0, runts = 0, jumbo = 0, cut = 0, vlan = 0, v6 = 0, arp = 0, blocked = 0, r;
	uint64_t prev_ts = 0;
	bool same = true, ordered = true;
	while ((r = capture_next(c, &p)) > 0) {
		same &= capture_next(m, &q) == 1 && q.caplen == p.caplen && q.len == p.len &&
			q.ts_ns == p.ts_ns && !memcmp(q.data, p.data, p.caplen);
		ordered &= p.ts_ns >= prev_ts;
		prev_ts = p.ts_ns;
		n++;
		runts += p.caplen < 14;
		jumbo += p.len > 4096;
		cut += p.caplen < p.len;
		if (p.caplen < 14)
			continue;
		uint16_t type = (uint16_t)(p.data[12] << 8 | p.data[13]);
		vlan += type == 0x8100 || type == 0x88a8;
		v6 += type == 0x86dd;
		arp += type == 0x0806;
		blocked += type == 0x0800 && p.caplen >= 34 && p.data[26] == 10 && p.data[27] == 66;
	}
	CHECK_EQ(r, 0);
	CHECK(same);
	CHECK(ordered);
	CHECK(n >= 2000 && n <= 5000);
	CHECK_EQ(runts, 3);
	CHECK_EQ(jumbo, 1);
	CHECK_EQ(cut, 1);
	CHECK(vlan > 100);
	CHECK(v6 > 100);
	CHECK(arp > 5);
	CHECK(blocked > 100);
	CHECK_EQ(capture_next(m, &q), 0);
	printf("demo.pcap: %d packets, %d VLAN, %d IPv6, %d ARP, %d from 10.66/16\n", n, vlan, v6, arp,
	       blocked);
	capture_close(c);
	capture_close(m);
}

int main(void)
{
	test_pcap_roundtrip();
	test_pcap_swapped();
	test_pcap_errors();
	test_pcapng();
	test_pcapng_errors();
	test_truncation();
	test_take();
	test_demo();
	return TEST_DONE();
}
