/* pcapng.c — the pcapng capture format.
 *
 * A pcapng file is a sequence of blocks (type, total length, body, total length
 * again).  A Section Header Block starts each section and sets its byte order;
 * Interface Description Blocks declare the section's interfaces (link type,
 * snaplen, timestamp resolution and offset); Enhanced, Simple and the obsolete
 * Packet Blocks carry packets.  Every other block is skipped.  Lengths are checked
 * against the block that holds them, and block lengths against the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/capture.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 1u
#define BT_OPB 2u	/* obsolete Packet Block */
#define BT_SPB 3u
#define BT_EPB 6u
#define BOM 0x1a2b3c4du
#define MAX_BLOCK (4u * 1024 * 1024)	/* blocks we read whole; others are skipped */
#define MAX_IFS 65536
#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

static uint64_t u64_at(const struct capture *cap, const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return cap->swap ? __builtin_bswap64(v) : v;
}

static uint32_t pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

/* the body of a block (without its 8-byte header; the trailer is checked) */
static const uint8_t *read_body(struct capture *cap, const char *what, uint64_t at, uint32_t len)
{
	size_t got;
	const uint8_t *b = capture_read(cap, len - 8, &got);
	if (!b) {
		capture_short_read(cap, what, at, len, got + 8);
		return NULL;
	}
	uint32_t trail = capture_u32(cap, b + len - 12);
	if (trail != len) {
		capture_fail(cap, -EINVAL,
			     "%s at byte offset %llu: trailing length %u differs from leading length %u",
			     what, (unsigned long long)at, trail, len);
		return NULL;
	}
	return b;
}

/* Section Header Block starting at byte `at`, whose 4 type bytes were read; when
 * lenp is not NULL the 4 length bytes were read too and lenp points at them */
static int read_shb(struct capture *cap, uint64_t at, const uint8_t *lenp)
{
	const char *what = "section header block";
	unsigned long long off = (unsigned long long)at;
	uint8_t lenb[4];
	size_t got;
	if (lenp) {
		memcpy(lenb, lenp, 4);
	} else {
		const uint8_t *l = capture_read(cap, 4, &got);
		if (!l)
			return capture_short_read(cap, what, at, 12, got + 4);
		memcpy(lenb, l, 4);
	}
	const uint8_t *bp = capture_read(cap, 4, &got);
	if (!bp)
		return capture_short_read(cap, what, at, 12, got + 8);
	uint32_t bom;
	memcpy(&bom, bp, 4);
	if (bom == BOM)
		cap->swap = false;
	else if (__builtin_bswap32(bom) == BOM)
		cap->swap = true;
	else
		return capture_fail(cap, -EINVAL, "%s at byte offset %llu: bad byte-order magic 0x%08x",
				    what, off, bom);
	uint32_t len = capture_u32(cap, lenb);
	if (len < 28 || len % 4 || len > MAX_BLOCK)
		return capture_fail(cap, -EINVAL, "%s at byte offset %llu: bad block length %u", what,
				    off, len);
	/* version (4), section length (8), options, trailer: len - 12 bytes */
	const uint8_t *b = capture_read(cap, len - 12, &got);
	if (!b)
		return capture_short_read(cap, what, at, len, got + 12);
	uint32_t trail = capture_u32(cap, b + len - 16);
	if (trail != len)
		return capture_fail(cap, -EINVAL,
				    "%s at byte offset %llu: trailing length %u differs from leading "
				    "length %u",
				    what, off, trail, len);
	uint16_t major = capture_u16(cap, b), minor = capture_u16(cap, b + 2);
	if (major != 1)
		return capture_fail(cap, -EINVAL,
				    "%s at byte offset %llu: unsupported pcapng version %u.%u (1.x "
				    "expected)",
				    what, off, major, minor);
	cap->if_cnt = 0; /* interfaces are per section */
	return 0;
}

int pcapng_start(struct capture *cap)
{
	cap->format = CAPTURE_PCAPNG;
	return read_shb(cap, cap->off - 4, NULL);
}

static int read_idb(struct capture *cap, uint64_t at, const uint8_t *b, uint32_t body_len)
{
	if (body_len < 8)
		return capture_fail(cap, -EINVAL,
				    "interface description block at byte offset %llu: body of %u "
				    "bytes is shorter than 8",
				    (unsigned long long)at, body_len);
	if (cap->if_cnt == MAX_IFS)
		return capture_fail(cap, -EINVAL,
				    "interface description block at byte offset %llu: more than %d "
				    "interfaces",
				    (unsigned long long)at, MAX_IFS);
	struct pcapng_if ifc = {
		.linktype = capture_u16(cap, b),
		.snaplen = capture_u32(cap, b + 4),
		.tsres = 1000000,
	};
	uint32_t pos = 8;
	while (body_len - pos >= 4) {
		uint16_t code = capture_u16(cap, b + pos), olen = capture_u16(cap, b + pos + 2);
		pos += 4;
		if (code == OPT_ENDOFOPT)
			break;
		if (pad4(olen) > body_len - pos)
			return capture_fail(cap, -EINVAL,
					    "interface description block at byte offset %llu: option %u "
					    "of %u bytes overruns the block",
					    (unsigned long long)at, code, olen);
		const uint8_t *v = b + pos;
		if (code == OPT_IF_TSRESOL && olen >= 1) {
			if (v[0] & 0x80) {
				if ((v[0] & 0x7f) > 63)
					return capture_fail(cap, -EINVAL,
							    "interface description block at byte "
							    "offset %llu: if_tsresol 2^-%u is too fine",
							    (unsigned long long)at, v[0] & 0x7f);
				ifc.tsres = 0;
				ifc.tsres_shift = v[0] & 0x7f;
			} else {
				if (v[0] > 19)
					return capture_fail(cap, -EINVAL,
							    "interface description block at byte "
							    "offset %llu: if_tsresol 10^-%u is too fine",
							    (unsigned long long)at, v[0]);
				ifc.tsres = 1;
				for (int i = 0; i < v[0]; i++)
					ifc.tsres *= 10;
			}
		} else if (code == OPT_IF_TSOFFSET && olen == 8) {
			ifc.tsoffset = (int64_t)u64_at(cap, v);
		}
		pos += pad4(olen);
	}
	if (ifc.tsres ? ifc.tsres > 1000000 : ifc.tsres_shift > 20)
		cap->nsec = true;
	if (cap->if_cnt == cap->if_cap) {
		size_t n = cap->if_cap ? cap->if_cap * 2 : 4;
		struct pcapng_if *ni = realloc(cap->ifs, n * sizeof(*ni));
		if (!ni)
			return capture_fail(cap, -ENOMEM, "out of memory");
		cap->ifs = ni;
		cap->if_cap = n;
	}
	cap->ifs[cap->if_cnt++] = ifc;
	return 0;
}

/* timestamp in the interface's units to nanoseconds since the epoch */
static uint64_t ts_to_ns(const struct pcapng_if *ifc, uint64_t units)
{
	uint64_t ns;
	if (ifc->tsres) {
		uint64_t r = ifc->tsres;
		if (r <= 1000000000u)
			ns = units * (1000000000u / r);
		else
			ns = units / (r / 1000000000u);
	} else {
		unsigned s = ifc->tsres_shift;
		uint64_t sec = s ? units >> s : units;
		uint64_t frac = s ? units & ((UINT64_C(1) << s) - 1) : 0;
		uint64_t fns = s <= 34 ? (frac * 1000000000u) >> s
				       : ((frac >> (s - 34)) * 1000000000u) >> 34;
		ns = sec * 1000000000u + fns;
	}
	return ns + (uint64_t)ifc->tsoffset * 1000000000u;
}

/* checks common to every packet block; 0 or the error */
static int check_packet(struct capture *cap, uint64_t at, uint32_t ifid, uint32_t caplen,
			uint32_t len)
{
	unsigned long long idx = (unsigned long long)cap->pkt_index, off = (unsigned long long)at;
	if (ifid >= cap->if_cnt)
		return capture_fail(cap, -EINVAL,
				    "packet %llu at byte offset %llu: interface %u was not declared "
				    "(%zu interfaces in this section)",
				    idx, off, ifid, cap->if_cnt);
	const struct pcapng_if *ifc = &cap->ifs[ifid];
	if (ifc->linktype != CAPTURE_LINKTYPE_ETHERNET) {
		const char *n = capture_linktype_name(ifc->linktype);
		return capture_fail(cap, -EPROTONOSUPPORT,
				    "packet %llu at byte offset %llu: interface %u has link type %u "
				    "(%s); bpfvm reads Ethernet (LINKTYPE_ETHERNET, 1) packets only",
				    idx, off, ifid, ifc->linktype, n ? n : "unknown");
	}
	if (ifc->snaplen && caplen > ifc->snaplen)
		return capture_fail(cap, -EINVAL,
				    "packet %llu at byte offset %llu: captured length %u exceeds "
				    "interface %u's snaplen %u",
				    idx, off, caplen, ifid, ifc->snaplen);
	if (caplen > CAPTURE_MAX_CAPLEN)
		return capture_fail(cap, -EINVAL,
				    "packet %llu at byte offset %llu: captured length %u exceeds the "
				    "limit of %u",
				    idx, off, caplen, CAPTURE_MAX_CAPLEN);
	if (len < caplen)
		return capture_fail(cap, -EINVAL,
				    "packet %llu at byte offset %llu: captured length %u exceeds the "
				    "original length %u",
				    idx, off, caplen, len);
	return 0;
}

int pcapng_next(struct capture *cap, struct capture_pkt *pkt)
{
	for (;;) {
		uint64_t at = cap->off;
		size_t got;
		if (capture_past_limit(cap, 8))
			return -EAGAIN;
		const uint8_t *h = capture_read(cap, 8, &got);
		if (!h) {
			if (got == 0 && !cap->err && !cap->io_err)
				return 0; /* clean end */
			return capture_short_read(cap, "block header", at, 8, got);
		}
		uint32_t type = capture_u32(cap, h);
		uint32_t blen = capture_u32(cap, h + 4);
		/* a section header's length needs its byte order: with a limit
		 * set, it waits for the next reader without one */
		if (cap->limit != UINT64_MAX &&
		    (type == BT_SHB || capture_past_limit(cap, blen > 8 ? blen - 8 : 0))) {
			capture_unread(cap, 8);
			return -EAGAIN;
		}
		if (type == BT_SHB) { /* a new section */
			int r = read_shb(cap, at, h + 4);
			if (r)
				return r;
			continue;
		}
		uint32_t len = capture_u32(cap, h + 4);
		if (len < 12 || len % 4)
			return capture_fail(cap, -EINVAL,
					    "block of type 0x%x at byte offset %llu: bad block length %u",
					    type, (unsigned long long)at, len);
		if (type != BT_IDB && type != BT_EPB && type != BT_SPB && type != BT_OPB) {
			/* skip the body, check the trailer */
			uint64_t n = capture_skip(cap, len - 12);
			const uint8_t *t = n == len - 12 ? capture_read(cap, 4, &got) : NULL;
			if (!t)
				return capture_short_read(cap, "block", at, len,
							  (size_t)(8 + n + (n == len - 12 ? got : 0)));
			if (capture_u32(cap, t) != len)
				return capture_fail(cap, -EINVAL,
						    "block of type 0x%x at byte offset %llu: trailing "
						    "length differs from leading length %u",
						    type, (unsigned long long)at, len);
			continue;
		}
		if (len > MAX_BLOCK)
			return capture_fail(cap, -EINVAL,
					    "block of type %u at byte offset %llu: length %u exceeds %u",
					    type, (unsigned long long)at, len, MAX_BLOCK);
		const char *what = type == BT_IDB ? "interface description block"
				   : type == BT_EPB ? "enhanced packet block"
				   : type == BT_SPB ? "simple packet block" : "packet block";
		const uint8_t *b = read_body(cap, what, at, len);
		if (!b)
			return cap->err;
		uint32_t body_len = len - 12;
		if (type == BT_IDB) {
			int r = read_idb(cap, at, b, body_len);
			if (r)
				return r;
			continue;
		}
		uint32_t ifid, caplen, plen, hdr;
		uint64_t units = 0;
		if (type == BT_SPB) {
			hdr = 4;
			if (body_len < hdr)
				goto short_body;
			ifid = 0;
			plen = capture_u32(cap, b);
			caplen = plen < body_len - hdr ? plen : body_len - hdr;
			if (cap->if_cnt && cap->ifs[0].snaplen && caplen > cap->ifs[0].snaplen)
				caplen = cap->ifs[0].snaplen;
		} else {
			hdr = 20;
			if (body_len < hdr)
				goto short_body;
			if (type == BT_EPB) {
				ifid = capture_u32(cap, b);
			} else {
				ifid = capture_u16(cap, b);
			}
			units = (uint64_t)capture_u32(cap, b + 4) << 32 | capture_u32(cap, b + 8);
			caplen = capture_u32(cap, b + 12);
			plen = capture_u32(cap, b + 16);
			if (caplen > body_len - hdr)
				return capture_fail(cap, -EINVAL,
						    "packet %llu at byte offset %llu: captured length %u "
						    "overruns its %s of %u bytes",
						    (unsigned long long)cap->pkt_index,
						    (unsigned long long)at, caplen, what, len);
		}
		int r = check_packet(cap, at, ifid, caplen, plen);
		if (r)
			return r;
		pkt->data = b + hdr;
		pkt->caplen = caplen;
		pkt->len = plen;
		pkt->ts_ns = type == BT_SPB ? 0 : ts_to_ns(&cap->ifs[ifid], units);
		pkt->ifindex = ifid;
		pkt->index = cap->pkt_index++;
		return 1;
short_body:
		return capture_fail(cap, -EINVAL,
				    "%s at byte offset %llu: block length %u is too short for its "
				    "header",
				    what, (unsigned long long)at, len);
	}
}
