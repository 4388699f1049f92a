/* pcap.c — opening captures, what both readers share (errors, byte order), the
 * classic pcap format (reader and writer).
 *
 * A capture is read through capture_read() (source.c), which hands out the
 * next n bytes from memory or from a chunk of the file.  The first four bytes
 * pick the format: one of the four pcap magics (micro- or nanosecond
 * timestamps, either byte order) or the pcapng section header.  pcap records are a 16-byte header (seconds, fraction,
 * captured length, original length) and the packet bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "io/capture.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_MODIFIED 0xa1b2cd34u	/* Kuznetzov's patched libpcap */
#define PCAPNG_SHB 0x0a0d0d0au

/* ------------------------------------------------------------ common */

int capture_fail(struct capture *cap, int err, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(cap->errmsg, sizeof(cap->errmsg), "%s: ", cap->name);
	if (n < 0 || (size_t)n >= sizeof(cap->errmsg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(cap->errmsg + n, sizeof(cap->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	cap->err = err;
	return err;
}

uint16_t capture_u16(const struct capture *cap, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return cap->swap ? __builtin_bswap16(v) : v;
}

uint32_t capture_u32(const struct capture *cap, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return cap->swap ? __builtin_bswap32(v) : v;
}

int capture_short_read(struct capture *cap, const char *what, uint64_t at, size_t need,
		      size_t got)
{
	if (cap->err)
		return cap->err; /* out of memory */
	if (cap->io_err)
		return capture_fail(cap, -EIO, "read error in %s at byte offset %llu",
				    what, (unsigned long long)at);
	return capture_fail(cap, -EINVAL,
			    "truncated file: %s at byte offset %llu needs %zu bytes, only %zu left",
			    what, (unsigned long long)at, need, got);
}

const char *capture_linktype_name(uint32_t linktype)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = {
		{ 0, "NULL" }, { 1, "ETHERNET" }, { 6, "IEEE802_5" }, { 9, "PPP" },
		{ 12, "RAW (OpenBSD)" }, { 101, "RAW" }, { 104, "C_HDLC" },
		{ 105, "IEEE802_11" }, { 108, "LOOP" }, { 113, "LINUX_SLL" },
		{ 127, "IEEE802_11_RADIOTAP" }, { 147, "USER0" }, { 187, "BLUETOOTH_HCI_H4" },
		{ 192, "PPI" }, { 195, "IEEE802_15_4_WITHFCS" }, { 220, "USB_LINUX_MMAPPED" },
		{ 228, "IPV4" }, { 229, "IPV6" }, { 249, "NETLINK" }, { 276, "LINUX_SLL2" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == linktype)
			return names[i].name;
	return NULL;
}

/* ------------------------------------------------------------------ pcap */

/* the rest of the 24-byte file header after the magic */
static int pcap_start(struct capture *cap, uint32_t magic)
{
	size_t got;
	const uint8_t *h = capture_read(cap, 20, &got);
	if (!h)
		return capture_short_read(cap, "pcap file header", 0, 24, got + 4);
	cap->format = CAPTURE_PCAP;
	cap->nsec = magic == PCAP_MAGIC_NS;
	uint16_t major = capture_u16(cap, h), minor = capture_u16(cap, h + 2);
	cap->snaplen = capture_u32(cap, h + 12);
	uint32_t network = capture_u32(cap, h + 16);
	if (major != 2)
		return capture_fail(cap, -EINVAL, "unsupported pcap version %u.%u (2.x expected)",
				    major, minor);
	cap->linktype = network & 0xffff; /* upper bits: FCS length, reserved */
	if (cap->linktype != CAPTURE_LINKTYPE_ETHERNET) {
		const char *n = capture_linktype_name(cap->linktype);
		return capture_fail(cap, -EPROTONOSUPPORT,
				    "link type %u (%s) is not supported: bpfvm reads Ethernet "
				    "captures (LINKTYPE_ETHERNET, 1) only",
				    cap->linktype, n ? n : "unknown");
	}
	return 0;
}

/* the largest caplen pcap_next accepts */
static uint32_t pcap_caplen_limit(const struct capture *cap)
{
	return cap->snaplen && cap->snaplen < CAPTURE_MAX_CAPLEN ? cap->snaplen
								: CAPTURE_MAX_CAPLEN;
}

/* a record's time stamp, in nanoseconds */
static uint64_t pcap_ts(const struct capture *cap, uint32_t sec, uint32_t frac)
{
	return (uint64_t)sec * 1000000000u + (uint64_t)frac * (cap->nsec ? 1u : 1000u);
}

static int pcap_next(struct capture *cap, struct capture_pkt *pkt)
{
	uint64_t at = cap->off, idx = cap->pkt_index;
	size_t got;
	if (capture_past_limit(cap, 16))
		return -EAGAIN;
	const uint8_t *h = capture_read(cap, 16, &got);
	if (!h) {
		if (got == 0 && !cap->err && !cap->io_err)
			return 0; /* clean end */
		char what[64];
		snprintf(what, sizeof(what), "packet %llu record header", (unsigned long long)idx);
		return capture_short_read(cap, what, at, 16, got);
	}
	uint32_t sec = capture_u32(cap, h), frac = capture_u32(cap, h + 4);
	uint32_t caplen = capture_u32(cap, h + 8), len = capture_u32(cap, h + 12);
	if (capture_past_limit(cap, caplen)) {
		capture_unread(cap, 16);
		return -EAGAIN;
	}
	uint32_t limit = pcap_caplen_limit(cap);
	if (caplen > limit)
		return capture_fail(cap, -EINVAL,
				    "packet %llu at byte offset %llu: captured length %u exceeds %s %u",
				    (unsigned long long)idx, (unsigned long long)at, caplen,
				    limit == cap->snaplen ? "the file's snaplen" : "the limit of",
				    limit);
	if (len < caplen)
		return capture_fail(cap, -EINVAL,
				    "packet %llu at byte offset %llu: captured length %u exceeds "
				    "the original length %u",
				    (unsigned long long)idx, (unsigned long long)at, caplen, len);
	const uint8_t *data = capture_read(cap, caplen, &got);
	if (!data) {
		char what[64];
		snprintf(what, sizeof(what), "packet %llu data", (unsigned long long)idx);
		return capture_short_read(cap, what, at + 16, caplen, got);
	}
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->len = len;
	pkt->ts_ns = pcap_ts(cap, sec, frac);
	pkt->ifindex = 0;
	pkt->index = idx;
	cap->pkt_index++;
	return 1;
}

size_t capture_take(struct capture *cap, size_t max_pkts, size_t max_bytes,
		    const uint8_t **first, size_t *bytes, uint64_t *index)
{
	size_t avail, at = 0, n = 0;
	if (cap->format != CAPTURE_PCAP || cap->err)
		return 0;
	const uint8_t *p = capture_peek(cap, &avail);
	uint64_t room = cap->limit > cap->off ? cap->limit - cap->off : 0;
	if (room < avail)
		avail = (size_t)room;
	uint32_t limit = pcap_caplen_limit(cap);
	while (n < max_pkts && avail - at >= 16) {
		uint32_t caplen = capture_u32(cap, p + at + 8), len = capture_u32(cap, p + at + 12);
		if (caplen > limit || len < caplen || caplen > avail - at - 16)
			break; /* an error or a short buffer: capture_next's to handle */
		if (n && at + 16 + caplen > max_bytes)
			break;
		at += 16 + (size_t)caplen;
		n++;
	}
	if (!n)
		return 0;
	*first = p;
	*bytes = at;
	*index = cap->pkt_index;
	capture_consume(cap, at);
	cap->pkt_index += n;
	cap->pkt_end = cap->off;
	return n;
}

size_t capture_record(const struct capture *cap, const uint8_t *rec, uint64_t index,
		      struct capture_pkt *pkt)
{
	uint32_t sec = capture_u32(cap, rec), frac = capture_u32(cap, rec + 4);
	pkt->caplen = capture_u32(cap, rec + 8);
	pkt->len = capture_u32(cap, rec + 12);
	pkt->data = rec + 16;
	pkt->ts_ns = pcap_ts(cap, sec, frac);
	pkt->ifindex = 0;
	pkt->index = index;
	return 16 + (size_t)pkt->caplen;
}

/* ------------------------------------------------------------ public API */

static struct capture *open_common(struct capture *cap, char *err, size_t err_sz)
{
	size_t got;
	int ret;
	cap->limit = UINT64_MAX;
	const uint8_t *m = capture_read(cap, 4, &got);
	if (!m) {
		ret = got == 0 ? capture_fail(cap, -EINVAL, "empty file, not a capture")
			       : capture_short_read(cap, "file header", 0, 4, got);
		goto fail;
	}
	uint32_t magic;
	memcpy(&magic, m, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		ret = pcap_start(cap, magic);
	} else if (__builtin_bswap32(magic) == PCAP_MAGIC_US ||
		   __builtin_bswap32(magic) == PCAP_MAGIC_NS) {
		cap->swap = true;
		ret = pcap_start(cap, __builtin_bswap32(magic));
	} else if (magic == PCAPNG_SHB) {
		ret = pcapng_start(cap);
	} else if (magic == PCAP_MAGIC_MODIFIED || __builtin_bswap32(magic) == PCAP_MAGIC_MODIFIED) {
		ret = capture_fail(cap, -EINVAL, "modified (Kuznetzov) pcap format is not supported");
	} else {
		ret = capture_fail(cap, -EINVAL,
				   "not a pcap or pcapng file (starts with %02x %02x %02x %02x)",
				   m[0], m[1], m[2], m[3]);
	}
	if (!ret)
		return cap;
fail:
	if (err && err_sz)
		snprintf(err, err_sz, "%s", cap->errmsg);
	capture_close(cap);
	errno = -ret;
	return NULL;
}

struct capture *capture_open(const char *path, char *err, size_t err_sz)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	if (!cap) {
		if (err && err_sz)
			snprintf(err, err_sz, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	bool is_stdin = !strcmp(path, "-");
	size_t nlen = is_stdin ? 5 : strlen(path);
	if (nlen >= sizeof(cap->name)) { /* keep the end of a long path */
		size_t keep = sizeof(cap->name) - 4;
		memcpy(cap->name, "...", 3);
		memcpy(cap->name + 3, path + nlen - keep, keep + 1);
	} else {
		memcpy(cap->name, is_stdin ? "stdin" : path, nlen + 1);
	}
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (err && err_sz)
			snprintf(err, err_sz, "%s: %s", path, strerror(e));
		free(cap);
		errno = e;
		return NULL;
	}
	capture_source_fd(cap, fd, !is_stdin);
	return open_common(cap, err, err_sz);
}

struct capture *capture_open_mem(const void *buf, size_t size, const char *name, char *err,
				 size_t err_sz)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	if (!cap) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(cap->name, sizeof(cap->name), "%s", name ? name : "memory");
	cap->fd = -1;
	cap->mem = buf ? buf : (const void *)"";
	cap->mem_sz = buf ? size : 0;
	return open_common(cap, err, err_sz);
}

int capture_next(struct capture *cap, struct capture_pkt *pkt)
{
	if (cap->err)
		return cap->err;
	int ret = cap->format == CAPTURE_PCAP ? pcap_next(cap, pkt) : pcapng_next(cap, pkt);
	if (ret > 0)
		cap->pkt_end = cap->off;
	return ret;
}

const char *capture_error(const struct capture *cap)
{
	return cap->err ? cap->errmsg : "";
}

enum capture_format capture_format(const struct capture *cap)
{
	return cap->format;
}

bool capture_nsec(const struct capture *cap)
{
	return cap->nsec;
}

uint64_t capture_offset(const struct capture *cap)
{
	return cap->off;
}

void capture_close(struct capture *cap)
{
	if (!cap)
		return;
	capture_source_free(cap);
	free(cap->ifs);
	free(cap);
}

/* ------------------------------------------------------------ pcap writer */

struct capture_writer {
	FILE *f;
	bool own_f;
	bool nsec;
	bool failed;
};

struct capture_writer *capture_writer_open(const char *path, uint32_t linktype, bool nsec,
					   char *err, size_t err_sz)
{
	struct capture_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	if (!w->f) {
		int e = errno;
		if (err && err_sz)
			snprintf(err, err_sz, "%s: %s", path, strerror(e));
		free(w);
		errno = e;
		return NULL;
	}
	w->own_f = w->f != stdout;
	w->nsec = nsec;
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} h = { nsec ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 2, 4, 0, 0, CAPTURE_MAX_CAPLEN, linktype };
	_Static_assert(sizeof(h) == 24, "pcap file header is 24 bytes");
	if (fwrite(&h, sizeof(h), 1, w->f) != 1) {
		int e = errno ? errno : EIO;
		if (err && err_sz)
			snprintf(err, err_sz, "%s: %s", path, strerror(e));
		capture_writer_close(w);
		errno = e;
		return NULL;
	}
	return w;
}

int capture_write(struct capture_writer *w, const struct capture_pkt *pkt)
{
	uint64_t sec = pkt->ts_ns / 1000000000u, ns = pkt->ts_ns % 1000000000u;
	uint32_t rec[4] = { (uint32_t)sec, (uint32_t)(w->nsec ? ns : ns / 1000u), pkt->caplen,
			    pkt->len < pkt->caplen ? pkt->caplen : pkt->len };
	if (fwrite(rec, sizeof(rec), 1, w->f) != 1 ||
	    (pkt->caplen && fwrite(pkt->data, pkt->caplen, 1, w->f) != 1)) {
		w->failed = true;
		return -EIO;
	}
	return 0;
}

int capture_writer_close(struct capture_writer *w)
{
	if (!w)
		return 0;
	int ret = w->failed || ferror(w->f) ? -EIO : 0;
	if (w->own_f) {
		if (fclose(w->f))
			ret = -EIO;
	} else if (fflush(w->f)) {
		ret = -EIO;
	}
	free(w);
	return ret;
}
