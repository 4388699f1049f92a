/* gen_capture.c — writes examples/demo.pcap: a few thousand synthetic but realistic
 * Ethernet frames for the demo and the tests.
 *
 *   cc -std=c11 -O2 -o gen_capture examples/gen_capture.c
 *   ./gen_capture examples/demo.pcap        (or "-" for stdout)
 *
 * Output is byte-for-byte deterministic (fixed seed, no clock), so the committed
 * demo.pcap is exactly what this program writes.  What is in it:
 *   - an office LAN 192.168.1.0/24 (and 2001:db8:1::/64) behind a router, talking
 *     to servers outside: TCP sessions with handshakes, options and teardown (HTTP,
 *     HTTPS, SSH, 8080), DNS over UDP, NTP, QUIC, ICMP echo and unreachable, over
 *     IPv4 and IPv6;
 *   - a heavy hitter: 192.168.1.50 downloading from 93.184.216.34:443;
 *   - hosts in the "blocked" range 10.66.0.0/16 scanning and probing the LAN;
 *   - ARP, DHCP and mDNS broadcasts/multicasts, IPv6 neighbour solicitation and an
 *     MLDv2 report (hop-by-hop extension header), LLDP and an 802.3/LLC frame;
 *   - 802.1Q frames on VLAN 100 (RTP-like voice) and 200, one 802.1ad QinQ frame;
 *   - IPv4 with options, IPv4 fragments, an IPv6 fragment;
 *   - runts shorter than 14 bytes, one 9000-byte jumbo frame, and a frame whose
 *     capture was cut short (caplen < len).
 * IP, TCP, UDP and ICMP checksums are correct.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ randomness */
static uint64_t rng_state = 0x6270667666616b65ull; /* fixed: reproducible output */

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd_in(uint32_t lo, uint32_t hi) /* [lo, hi] */
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

/* ------------------------------------------------------------- records */
struct rec {
	uint64_t ts_us;
	uint32_t seq;		/* insertion order: a stable sort key */
	uint32_t caplen, len;
	uint8_t *data;
};

static struct rec *recs;
static size_t rec_cnt, rec_cap;

static void add_frame(uint64_t ts_us, const uint8_t *f, size_t len, size_t caplen)
{
	if (rec_cnt == rec_cap) {
		rec_cap = rec_cap ? rec_cap * 2 : 1024;
		recs = realloc(recs, rec_cap * sizeof(*recs));
		if (!recs) {
			perror("realloc");
			exit(1);
		}
	}
	struct rec *r = &recs[rec_cnt];
	r->ts_us = ts_us;
	r->seq = (uint32_t)rec_cnt;
	r->len = (uint32_t)len;
	r->caplen = (uint32_t)caplen;
	r->data = malloc(caplen ? caplen : 1);
	if (!r->data) {
		perror("malloc");
		exit(1);
	}
	memcpy(r->data, f, caplen);
	rec_cnt++;
}

/* ------------------------------------------------------------ addresses */
typedef struct {
	uint8_t b[6];
} mac_t;

static const mac_t ROUTER = { { 0x00, 0x1b, 0x21, 0xaa, 0x00, 0x01 } };
static const mac_t BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static mac_t host_mac(uint32_t tag)
{
	mac_t m = { { 0x52, 0x54, 0x00, (uint8_t)(tag >> 16), (uint8_t)(tag >> 8), (uint8_t)tag } };
	return m;
}

static uint32_t ip4(int a, int b, int c, int d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

struct ip6 {
	uint8_t b[16];
};

static struct ip6 ip6_make(uint16_t p0, uint16_t p1, uint16_t p2, uint16_t p3, uint64_t iid)
{
	struct ip6 a;
	uint16_t w[4] = { p0, p1, p2, p3 };
	for (int i = 0; i < 4; i++) {
		a.b[2 * i] = (uint8_t)(w[i] >> 8);
		a.b[2 * i + 1] = (uint8_t)w[i];
	}
	for (int i = 0; i < 8; i++)
		a.b[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
	return a;
}

/* ------------------------------------------------------------- builders */
static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* how a frame travels: link addresses and VLAN tags */
struct l2 {
	mac_t dst, src;
	int ntags;
	uint16_t tpid[2], tci[2];
};

static struct l2 l2_plain(mac_t dst, mac_t src)
{
	struct l2 l = { .dst = dst, .src = src };
	return l;
}

static size_t put_l2(uint8_t *f, const struct l2 *l, uint16_t type)
{
	memcpy(f, l->dst.b, 6);
	memcpy(f + 6, l->src.b, 6);
	size_t o = 12;
	for (int i = 0; i < l->ntags; i++) {
		put16(f + o, l->tpid[i]);
		put16(f + o + 2, l->tci[i]);
		o += 4;
	}
	put16(f + o, type);
	return o + 2;
}

/* pad to the Ethernet minimum of 60 bytes (without FCS), as a receiver sees it */
static size_t pad_min(uint8_t *f, size_t n)
{
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

static uint8_t frame[16384];

/* transport segment under construction */
struct l4 {
	uint8_t proto;
	uint8_t b[10000];
	size_t n;
	size_t csum_off;	/* where the checksum goes, or SIZE_MAX for none/ICMPv4 */
};

static void l4_tcp(struct l4 *s, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		   uint8_t flags, uint16_t win, size_t plen, int syn_opts)
{
	size_t hl = syn_opts ? 40 : 32; /* with timestamps; SYN adds MSS, SACK, WS */
	memset(s->b, 0, hl);
	s->proto = 6;
	put16(s->b, sport);
	put16(s->b + 2, dport);
	put32(s->b + 4, seq);
	put32(s->b + 8, ack);
	s->b[12] = (uint8_t)((hl / 4) << 4);
	s->b[13] = flags;
	put16(s->b + 14, win);
	uint8_t *o = s->b + 20;
	if (syn_opts) {
		uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
		put32(opts + 8, (uint32_t)rnd());
		memcpy(o, opts, 20);
	} else {
		uint8_t opts[12] = { 1, 1, 8, 10 };
		put32(opts + 4, (uint32_t)rnd());
		put32(opts + 8, (uint32_t)rnd());
		memcpy(o, opts, 12);
	}
	for (size_t i = 0; i < plen; i++)
		s->b[hl + i] = i < 16 ? (uint8_t)"GET / HTTP/1.1\r\n"[i] : (uint8_t)rnd();
	s->n = hl + plen;
	s->csum_off = 16;
}

static void l4_udp(struct l4 *s, uint16_t sport, uint16_t dport, const uint8_t *payload, size_t plen)
{
	s->proto = 17;
	put16(s->b, sport);
	put16(s->b + 2, dport);
	put16(s->b + 4, (uint32_t)(8 + plen));
	put16(s->b + 6, 0);
	for (size_t i = 0; i < plen; i++)
		s->b[8 + i] = payload ? payload[i] : (uint8_t)rnd();
	s->n = 8 + plen;
	s->csum_off = 6;
}

static void l4_icmp(struct l4 *s, int v6, uint8_t type, uint8_t code, uint32_t rest,
		    const uint8_t *payload, size_t plen)
{
	s->proto = v6 ? 58 : 1;
	s->b[0] = type;
	s->b[1] = code;
	put16(s->b + 2, 0);
	put32(s->b + 4, rest);
	for (size_t i = 0; i < plen; i++)
		s->b[8 + i] = payload ? payload[i] : (uint8_t)(0x10 + i);
	s->n = 8 + plen;
	s->csum_off = 2;
}

/* IPv4 frame around s; opts (a multiple of 4 bytes) go into the header;
 * frag_off in 8-byte units, mf the more-fragments flag; returns the frame length */
static size_t frame4(const struct l2 *l, uint32_t sip, uint32_t dip, uint8_t ttl, struct l4 *s,
		     const uint8_t *opts, size_t optlen, uint16_t id, uint16_t frag_off, int mf,
		     int df)
{
	size_t o = put_l2(frame, l, 0x0800), ihl = 20 + optlen;
	uint8_t *ip = frame + o;
	if (s->csum_off != (size_t)-1 && frag_off == 0) {
		s->b[s->csum_off] = s->b[s->csum_off + 1] = 0;
		uint32_t sum = 0;
		if (s->proto != 1) {
			uint8_t ph[12];
			put32(ph, sip);
			put32(ph + 4, dip);
			ph[8] = 0;
			ph[9] = s->proto;
			put16(ph + 10, (uint32_t)s->n);
			sum = csum_add(0, ph, 12);
		}
		uint16_t c = csum_fold(csum_add(sum, s->b, s->n));
		if (s->proto == 17 && c == 0)
			c = 0xffff;
		put16(s->b + s->csum_off, c);
	}
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0;
	put16(ip + 2, (uint32_t)(ihl + s->n));
	put16(ip + 4, id);
	put16(ip + 6, (uint32_t)(df ? 0x4000 : 0) | (mf ? 0x2000u : 0) | frag_off);
	ip[8] = ttl;
	ip[9] = s->proto;
	put16(ip + 10, 0);
	put32(ip + 12, sip);
	put32(ip + 16, dip);
	memcpy(ip + 20, opts, optlen);
	put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
	memcpy(ip + ihl, s->b, s->n);
	return pad_min(frame, o + ihl + s->n);
}

/* IPv6 frame around s; ext: extension headers (already chained, ext_first is the
 * first one's type, their last next-header byte must be s->proto) */
static size_t frame6(const struct l2 *l, const struct ip6 *src, const struct ip6 *dst,
		     uint8_t hlim, struct l4 *s, uint8_t ext_first, const uint8_t *ext,
		     size_t extlen, int csum)
{
	size_t o = put_l2(frame, l, 0x86dd);
	uint8_t *ip = frame + o;
	if (csum && s->csum_off != (size_t)-1) {
		s->b[s->csum_off] = s->b[s->csum_off + 1] = 0;
		uint8_t ph[40] = { 0 };
		memcpy(ph, src->b, 16);
		memcpy(ph + 16, dst->b, 16);
		put32(ph + 32, (uint32_t)s->n);
		ph[39] = s->proto;
		uint16_t c = csum_fold(csum_add(csum_add(0, ph, 40), s->b, s->n));
		if (s->proto == 17 && c == 0)
			c = 0xffff;
		put16(s->b + s->csum_off, c);
	}
	put32(ip, 0x60000000u | (uint32_t)(rnd() & 0xfffff));
	put16(ip + 4, (uint32_t)(extlen + s->n));
	ip[6] = extlen ? ext_first : s->proto;
	ip[7] = hlim;
	memcpy(ip + 8, src->b, 16);
	memcpy(ip + 24, dst->b, 16);
	memcpy(ip + 40, ext, extlen);
	memcpy(ip + 40 + extlen, s->b, s->n);
	return pad_min(frame, o + 40 + extlen + s->n);
}

/* ------------------------------------------------------------ scenarios */
static uint64_t T0 = 1700000000ull * 1000000; /* 2023-11-14, in microseconds */
#define SPAN_US (60ull * 1000000)	      /* everything happens within a minute */

static struct l4 seg;

struct host {
	mac_t mac;
	uint32_t ip;
	struct ip6 ip6;
};

static struct host lan_host(int n)
{
	struct host h = { host_mac(0x010000u | (uint32_t)n), ip4(192, 168, 1, n),
			  ip6_make(0x2001, 0xdb8, 1, 0, 0x5054ff00000000ull | (uint32_t)n) };
	return h;
}

/* a TCP session: handshake, `reqs` request/response rounds of about `resp`
 * bytes each, teardown; v6 picks IPv6; the client is on the LAN side of l2 */
static uint64_t tcp_session(uint64_t t, const struct l2 *cl, const struct host *c, uint32_t sip,
			    const struct ip6 *sip6, uint16_t dport, int reqs, size_t resp, int v6)
{
	struct l2 sv = *cl; /* the server's frames come from the router */
	sv.dst = cl->src;
	sv.src = cl->dst;
	uint16_t sport = (uint16_t)rnd_in(32768, 60999);
	uint32_t cseq = (uint32_t)rnd(), sseq = (uint32_t)rnd();
	uint16_t id_c = (uint16_t)rnd(), id_s = (uint16_t)rnd();
	uint32_t rtt = rnd_in(800, 40000);
	size_t n;
#define SEND_C(flags, plen, syn)                                                                    \
	do {                                                                                        \
		l4_tcp(&seg, sport, dport, cseq, sseq, flags, 64240, plen, syn);                    \
		n = v6 ? frame6(cl, &c->ip6, sip6, 64, &seg, 0, NULL, 0, 1)                          \
		       : frame4(cl, c->ip, sip, 64, &seg, NULL, 0, id_c++, 0, 0, 1);                 \
		add_frame(t, frame, n, n);                                                          \
	} while (0)
#define SEND_S(flags, plen, syn)                                                                    \
	do {                                                                                        \
		l4_tcp(&seg, dport, sport, sseq, cseq, flags, 65160, plen, syn);                    \
		n = v6 ? frame6(&sv, sip6, &c->ip6, 57, &seg, 0, NULL, 0, 1)                         \
		       : frame4(&sv, sip, c->ip, 57, &seg, NULL, 0, id_s++, 0, 0, 1);                \
		add_frame(t, frame, n, n);                                                          \
	} while (0)
	SEND_C(0x02, 0, 1); /* SYN */
	cseq++;
	t += rtt;
	SEND_S(0x12, 0, 1); /* SYN-ACK */
	sseq++;
	t += rnd_in(20, 200);
	SEND_C(0x10, 0, 0);
	for (int r = 0; r < reqs; r++) {
		t += rnd_in(50, 5000);
		size_t q = rnd_in(60, 500);
		SEND_C(0x18, q, 0);
		cseq += (uint32_t)q;
		t += rtt;
		size_t left = resp / 2 + rnd_in(0, (uint32_t)resp);
		int segs = 0;
		while (left) {
			size_t k = left > 1448 ? 1448 : left;
			SEND_S(left == k ? 0x18 : 0x10, k, 0);
			sseq += (uint32_t)k;
			left -= k;
			t += rnd_in(5, 120);
			if (++segs % 2 == 0 || !left) {
				SEND_C(0x10, 0, 0);
				t += rnd_in(5, 60);
			}
		}
	}
	t += rnd_in(1000, 20000);
	SEND_C(0x11, 0, 0); /* FIN */
	cseq++;
	t += rtt;
	SEND_S(0x11, 0, 0);
	sseq++;
	t += rnd_in(20, 200);
	SEND_C(0x10, 0, 0);
#undef SEND_C
#undef SEND_S
	return t;
}

static void dns(uint64_t t, const struct host *c, int v6, const char *name)
{
	struct l2 up = l2_plain(ROUTER, c->mac), down = l2_plain(c->mac, ROUTER);
	uint32_t srv = ip4(9, 9, 9, 9);
	struct ip6 srv6 = ip6_make(0x2620, 0xfe, 0, 0, 0xfe);
	uint8_t q[300];
	size_t qn = 12;
	uint16_t id = (uint16_t)rnd(), sport = (uint16_t)rnd_in(1024, 65535);
	memset(q, 0, sizeof(q));
	put16(q, id);
	put16(q + 2, 0x0100);
	put16(q + 4, 1);
	for (const char *p = name; *p;) { /* labels */
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		q[qn++] = (uint8_t)l;
		memcpy(q + qn, p, l);
		qn += l;
		p += l + (dot ? 1 : 0);
	}
	q[qn++] = 0;
	put16(q + qn, v6 ? 28 : 1);
	put16(q + qn + 2, 1);
	qn += 4;
	size_t n;
	l4_udp(&seg, sport, 53, q, qn);
	n = v6 ? frame6(&up, &c->ip6, &srv6, 64, &seg, 0, NULL, 0, 1)
	       : frame4(&up, c->ip, srv, 64, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 0);
	add_frame(t, frame, n, n);
	/* response: the question plus one answer */
	put16(q + 2, 0x8180);
	put16(q + 6, 1);
	uint8_t ans[28] = { 0xc0, 0x0c };
	put16(ans + 2, v6 ? 28 : 1);
	put16(ans + 4, 1);
	put32(ans + 6, rnd_in(30, 3600));
	put16(ans + 10, v6 ? 16 : 4);
	for (int i = 0; i < 16; i++)
		ans[12 + i] = (uint8_t)rnd();
	memcpy(q + qn, ans, v6 ? 28 : 16);
	qn += v6 ? 28 : 16;
	l4_udp(&seg, 53, sport, q, qn);
	t += rnd_in(2000, 30000);
	n = v6 ? frame6(&down, &srv6, &c->ip6, 58, &seg, 0, NULL, 0, 1)
	       : frame4(&down, srv, c->ip, 58, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 0);
	add_frame(t, frame, n, n);
}

static void ping(uint64_t t, const struct host *c, uint32_t dst, const struct ip6 *dst6, int cnt,
		 int answered)
{
	struct l2 up = l2_plain(ROUTER, c->mac), down = l2_plain(c->mac, ROUTER);
	uint16_t id = (uint16_t)rnd();
	for (int i = 0; i < cnt; i++) {
		size_t n;
		l4_icmp(&seg, dst6 != NULL, dst6 ? 128 : 8, 0, (uint32_t)id << 16 | (uint32_t)(i + 1),
			NULL, 56);
		n = dst6 ? frame6(&up, &c->ip6, dst6, 64, &seg, 0, NULL, 0, 1)
			 : frame4(&up, c->ip, dst, 64, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
		add_frame(t, frame, n, n);
		if (answered) {
			l4_icmp(&seg, dst6 != NULL, dst6 ? 129 : 0, 0,
				(uint32_t)id << 16 | (uint32_t)(i + 1), NULL, 56);
			n = dst6 ? frame6(&down, dst6, &c->ip6, 55, &seg, 0, NULL, 0, 1)
				 : frame4(&down, dst, c->ip, 55, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 0);
			add_frame(t + rnd_in(3000, 30000), frame, n, n);
		}
		t += 1000000;
	}
}

static void arp(uint64_t t, const struct host *asker, uint32_t target, const mac_t *owner)
{
	uint8_t a[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(a + 8, asker->mac.b, 6);
	put32(a + 14, asker->ip);
	memset(a + 18, 0, 6);
	put32(a + 24, target);
	struct l2 l = l2_plain(BCAST, asker->mac);
	size_t o = put_l2(frame, &l, 0x0806);
	memcpy(frame + o, a, 28);
	size_t n = pad_min(frame, o + 28);
	add_frame(t, frame, n, n);
	if (!owner)
		return;
	a[7] = 2;
	memcpy(a + 8, owner->b, 6);
	put32(a + 14, target);
	memcpy(a + 18, asker->mac.b, 6);
	put32(a + 24, asker->ip);
	l = l2_plain(asker->mac, *owner);
	o = put_l2(frame, &l, 0x0806);
	memcpy(frame + o, a, 28);
	n = pad_min(frame, o + 28);
	add_frame(t + rnd_in(100, 900), frame, n, n);
}

/* a host in 10.66.0.0/16 probing the LAN: SYNs answered by RST or SYN-ACK, UDP
 * probes, pings */
static void blocked_scan(uint64_t t, int k)
{
	/* one rnd() per statement: argument order is unspecified in C */
	int d = (int)rnd_in(1, 254), c = (int)rnd_in(0, 255);
	uint32_t src = ip4(10, 66, c, d);
	struct host target = lan_host((int)rnd_in(2, 60));
	struct l2 in = l2_plain(target.mac, ROUTER), out = l2_plain(ROUTER, target.mac);
	uint16_t sport = (uint16_t)rnd_in(40000, 65000);
	static const uint16_t ports[] = { 21, 22, 23, 25, 80, 110, 135, 139, 443, 445, 1433, 3306, 3389, 5900, 8080 };
	for (int i = 0; i < k; i++) {
		uint16_t dport = ports[rnd() % (sizeof(ports) / sizeof(ports[0]))];
		size_t n;
		if (i % 7 == 6) {
			uint32_t plen = rnd_in(0, 40);
			l4_udp(&seg, sport, (uint16_t)rnd_in(1, 1024), NULL, plen);
		} else {
			l4_tcp(&seg, sport, dport, (uint32_t)rnd(), 0, 0x02, 1024, 0, 1);
		}
		uint16_t id = (uint16_t)rnd();
		uint8_t ttl = (uint8_t)rnd_in(40, 250);
		n = frame4(&in, src, target.ip, ttl, &seg, NULL, 0, id, 0, 0, 0);
		add_frame(t, frame, n, n);
		if (seg.proto == 6 && rnd() % 3 == 0) { /* closed port: RST */
			l4_tcp(&seg, dport, sport, 0, (uint32_t)rnd(), 0x14, 0, 0, 0);
			n = frame4(&out, target.ip, src, 64, &seg, NULL, 0, 0, 0, 0, 1);
			add_frame(t + rnd_in(50, 400), frame, n, n);
		}
		t += rnd_in(200, 60000);
	}
	for (int i = 0; i < 2; i++) { /* and a couple of unanswered pings */
		l4_icmp(&seg, 0, 8, 0, 0x0bad0000u | (uint32_t)(i + 1), NULL, 8);
		size_t n = frame4(&in, src, target.ip, 51, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 0);
		add_frame(t, frame, n, n);
		t += 1000000;
	}
}

/* voice on VLAN 100: RTP-like UDP every 20 ms in both directions */
static void voip(uint64_t t, int cnt)
{
	struct host a = { host_mac(0x640011), ip4(10, 10, 100, 17), { { 0 } } };
	struct host b = { host_mac(0x640022), ip4(10, 10, 100, 34), { { 0 } } };
	struct l2 ab = { b.mac, a.mac, 1, { 0x8100 }, { (5u << 13) | 100 } };
	struct l2 ba = { a.mac, b.mac, 1, { 0x8100 }, { (5u << 13) | 100 } };
	uint8_t rtp[172] = { 0x80, 0x00 };
	uint16_t sa = (uint16_t)rnd(), sb = (uint16_t)rnd();
	for (int i = 0; i < cnt; i++) {
		put16(rtp + 2, sa++);
		put32(rtp + 4, (uint32_t)i * 160);
		for (int j = 12; j < 172; j++)
			rtp[j] = (uint8_t)rnd();
		l4_udp(&seg, 16384, 16386, rtp, sizeof(rtp));
		size_t n = frame4(&ab, a.ip, b.ip, 64, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
		add_frame(t, frame, n, n);
		put16(rtp + 2, sb++);
		l4_udp(&seg, 16386, 16384, rtp, sizeof(rtp));
		n = frame4(&ba, b.ip, a.ip, 64, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
		add_frame(t + rnd_in(100, 2000), frame, n, n);
		t += 20000 + rnd_in(0, 300);
	}
}

static void specials(void)
{
	size_t n;
	struct host h7 = lan_host(7), h9 = lan_host(9), h23 = lan_host(23);
	struct l2 up7 = l2_plain(ROUTER, h7.mac);

	/* IPv4 with options: router alert (IGMPv2 report) and record route (ping) */
	{
		uint8_t ra[4] = { 0x94, 0x04, 0, 0 };
		uint8_t igmp[8] = { 0x16, 0, 0, 0 };
		put32(igmp + 4, ip4(239, 255, 255, 250));
		put16(igmp + 2, csum_fold(csum_add(0, igmp, 8)));
		memcpy(seg.b, igmp, 8);
		seg.n = 8;
		seg.proto = 2;
		seg.csum_off = (size_t)-1;
		struct l2 mc = l2_plain((mac_t){ { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa } }, h9.mac);
		n = frame4(&mc, h9.ip, ip4(239, 255, 255, 250), 1, &seg, ra, 4, (uint16_t)rnd(), 0, 0, 1);
		add_frame(T0 + 1500000, frame, n, n);
		uint8_t rr[40] = { 7, 39, 4 }; /* record route, 9 slots, padded with EOL */
		l4_icmp(&seg, 0, 8, 0, 0x12340001, NULL, 32);
		n = frame4(&up7, h7.ip, ip4(198, 51, 100, 7), 64, &seg, rr, 40, (uint16_t)rnd(), 0, 0, 0);
		add_frame(T0 + 2500000, frame, n, n);
	}
	/* an IPv4 UDP datagram of 3000 bytes in three fragments */
	{
		uint8_t big[3000];
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)rnd();
		l4_udp(&seg, 5001, 5001, big, sizeof(big) - 8);
		/* checksum over the whole datagram, computed by a first-fragment call */
		struct l4 whole = seg;
		uint16_t id = (uint16_t)rnd();
		size_t off = 0;
		uint64_t t = T0 + 7000000;
		frame4(&up7, h7.ip, ip4(203, 0, 113, 80), 64, &whole, NULL, 0, id, 0, 0, 0);
		while (off < whole.n) {
			size_t k = whole.n - off > 1480 ? 1480 : whole.n - off;
			struct l4 part = { .proto = 17, .n = k, .csum_off = (size_t)-1 };
			memcpy(part.b, whole.b + off, k);
			n = frame4(&up7, h7.ip, ip4(203, 0, 113, 80), 64, &part, NULL, 0, id,
				   (uint16_t)(off / 8), off + k < whole.n, 0);
			add_frame(t, frame, n, n);
			off += k;
			t += 30;
		}
	}
	/* IPv6: MLDv2 report with a hop-by-hop router alert, and a fragmented echo */
	{
		struct ip6 mld_dst = ip6_make(0xff02, 0, 0, 0, 0x16);
		uint8_t hbh[8] = { 58, 0, 5, 2, 0, 0, 1, 0 }; /* router alert, PadN */
		uint8_t rec[20] = { 4, 0, 0, 1 };
		struct ip6 grp = ip6_make(0xff02, 0, 0, 0, 0x1fb);
		memcpy(rec + 4, grp.b, 16);
		l4_icmp(&seg, 1, 143, 0, 1, rec, 20);
		struct l2 mc = l2_plain((mac_t){ { 0x33, 0x33, 0, 0, 0, 0x16 } }, h23.mac);
		struct ip6 ll = ip6_make(0xfe80, 0, 0, 0, 0x5054ff0000000017ull);
		n = frame6(&mc, &ll, &mld_dst, 1, &seg, 0, hbh, 8, 1);
		add_frame(T0 + 3100000, frame, n, n);

		struct ip6 far = ip6_make(0x2001, 0xdb8, 0xbeef, 0, 0x10);
		struct l4 echo;
		l4_icmp(&echo, 1, 128, 0, 0x77770001, NULL, 1800);
		frame6(&up7, &h7.ip6, &far, 64, &echo, 0, NULL, 0, 1); /* checksum */
		uint32_t ident = (uint32_t)rnd();
		size_t off = 0;
		uint64_t t = T0 + 9000000;
		while (off < echo.n) {
			size_t k = echo.n - off > 1232 ? 1232 : echo.n - off;
			uint8_t fh[8] = { 58, 0 };
			put16(fh + 2, (uint32_t)off | (off + k < echo.n ? 1u : 0u));
			put32(fh + 4, ident);
			struct l4 part = { .proto = 58, .n = k, .csum_off = (size_t)-1 };
			memcpy(part.b, echo.b + off, k);
			n = frame6(&up7, &h7.ip6, &far, 64, &part, 44, fh, 8, 0);
			add_frame(t, frame, n, n);
			off += k;
			t += 25;
		}
	}
	/* neighbour solicitation, DHCP discover, mDNS, LLDP, 802.3/LLC (STP) */
	{
		struct ip6 sn = ip6_make(0xff02, 0, 0, 0, 0x1ff000009ull);
		uint8_t ns[24] = { 0 };
		memcpy(ns + 8, h9.ip6.b, 16);
		l4_icmp(&seg, 1, 135, 0, 0, ns + 8, 16);
		struct l2 mc = l2_plain((mac_t){ { 0x33, 0x33, 0xff, 0, 0, 0x09 } }, h23.mac);
		n = frame6(&mc, &h23.ip6, &sn, 255, &seg, 0, NULL, 0, 1);
		add_frame(T0 + 4200000, frame, n, n);

		uint8_t dhcp[240] = { 1, 1, 6, 0 };
		put32(dhcp + 4, (uint32_t)rnd());
		memcpy(dhcp + 28, h23.mac.b, 6);
		put32(dhcp + 236, 0x63825363);
		l4_udp(&seg, 68, 67, dhcp, sizeof(dhcp));
		struct l2 bc = l2_plain(BCAST, h23.mac);
		n = frame4(&bc, 0, 0xffffffffu, 64, &seg, NULL, 0, 0, 0, 0, 0);
		add_frame(T0 + 4300000, frame, n, n);

		uint8_t md[40] = { 0 };
		put16(md + 4, 1);
		memcpy(md + 12, "\x07printer\x05local\x00\x00\x0c\x00\x01", 19);
		l4_udp(&seg, 5353, 5353, md, 31);
		struct l2 mm = l2_plain((mac_t){ { 0x01, 0x00, 0x5e, 0, 0, 0xfb } }, h9.mac);
		n = frame4(&mm, h9.ip, ip4(224, 0, 0, 251), 255, &seg, NULL, 0, 0, 0, 0, 1);
		add_frame(T0 + 4400000, frame, n, n);

		static const uint8_t lldp_body[] = { 0x02, 0x07, 0x04, 0x00, 0x1b, 0x21, 0xaa, 0x00, 0x01,
						     0x04, 0x03, 0x05, 0x31, 0x37, 0x06, 0x02, 0x00, 0x78,
						     0x00, 0x00 };
		for (int i = 0; i < 2; i++) {
			struct l2 ld = l2_plain((mac_t){ { 0x01, 0x80, 0xc2, 0, 0, 0x0e } }, ROUTER);
			size_t o = put_l2(frame, &ld, 0x88cc);
			memcpy(frame + o, lldp_body, sizeof(lldp_body));
			n = pad_min(frame, o + sizeof(lldp_body));
			add_frame(T0 + 5000000 + (uint64_t)i * 30000000, frame, n, n);
		}
		/* 802.3 length field + LLC: a spanning-tree BPDU */
		struct l2 stp = l2_plain((mac_t){ { 0x01, 0x80, 0xc2, 0, 0, 0 } }, ROUTER);
		size_t o = put_l2(frame, &stp, 38);
		static const uint8_t bpdu[38] = { 0x42, 0x42, 0x03, 0, 0, 0, 0, 0x80, 0, 0x00, 0x1b, 0x21,
						  0xaa, 0x00, 0x01 };
		memcpy(frame + o, bpdu, sizeof(bpdu));
		n = pad_min(frame, o + sizeof(bpdu));
		add_frame(T0 + 6000000, frame, n, n);
	}
	/* VLAN 200 TCP session, and one QinQ frame (802.1ad outer 300, 802.1Q inner 20) */
	{
		struct host v = { host_mac(0xc80005), ip4(10, 20, 0, 5), { { 0 } } };
		struct l2 vl = { ROUTER, v.mac, 1, { 0x8100 }, { 200 } };
		tcp_session(T0 + 12000000, &vl, &v, ip4(10, 20, 0, 1), NULL, 8080, 2, 3000, 0);
		struct l2 qq = { ROUTER, v.mac, 2, { 0x88a8, 0x8100 }, { 300, 20 } };
		l4_udp(&seg, 4789, 4789, NULL, 64);
		n = frame4(&qq, ip4(10, 30, 0, 9), ip4(10, 30, 0, 1), 64, &seg, NULL, 0, 1, 0, 0, 1);
		add_frame(T0 + 13000000, frame, n, n);
	}
	/* runts: 6, 10 and 13 bytes */
	{
		static const size_t lens[] = { 6, 10, 13 };
		for (int i = 0; i < 3; i++) {
			for (size_t j = 0; j < lens[i]; j++)
				frame[j] = (uint8_t)(j < 6 ? 0xff : rnd());
			add_frame(T0 + 15000000 + (uint64_t)i * 5000000, frame, lens[i], lens[i]);
		}
	}
	/* a 9000-byte jumbo frame between two storage hosts */
	{
		struct host s1 = lan_host(201), s2 = lan_host(202);
		struct l2 l = l2_plain(s2.mac, s1.mac);
		l4_udp(&seg, 2049, 2049, NULL, 9000 - 14 - 20 - 8);
		n = frame4(&l, s1.ip, s2.ip, 64, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
		add_frame(T0 + 21000000, frame, n, n);
	}
	/* a capture cut short by a 96-byte snap length: caplen 96 < len 1514 */
	{
		struct host h = lan_host(44);
		struct l2 down = l2_plain(h.mac, ROUTER);
		uint32_t ack = (uint32_t)rnd(), seq = (uint32_t)rnd();
		l4_tcp(&seg, 443, 51000, seq, ack, 0x10, 501, 1448, 0);
		n = frame4(&down, ip4(151, 101, 1, 69), h.ip, 57, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
		add_frame(T0 + 22000000, frame, n, 96);
	}
	/* ICMP port unreachable for a UDP probe (quotes the offending header) */
	{
		struct l4 probe;
		l4_udp(&probe, 33434, 33435, NULL, 24);
		frame4(&up7, h7.ip, ip4(198, 51, 100, 99), 1, &probe, NULL, 0, 0x4242, 0, 0, 0);
		uint8_t quote[28];
		memcpy(quote, frame + 14, 28);
		l4_icmp(&seg, 0, 3, 3, 0, quote, 28);
		struct l2 down = l2_plain(h7.mac, ROUTER);
		n = frame4(&down, ip4(198, 51, 100, 99), h7.ip, 60, &seg, NULL, 0, 0, 0, 0, 0);
		add_frame(T0 + 23000000, frame, n, n);
	}
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void write_pcap(FILE *f)
{
	uint8_t h[24];
	uint32_t w[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, 262144, 1 };
	memcpy(h, w, 24); /* host byte order, as libpcap writes */
	fwrite(h, 1, 24, f);
	for (size_t i = 0; i < rec_cnt; i++) {
		uint32_t r[4] = { (uint32_t)(recs[i].ts_us / 1000000), (uint32_t)(recs[i].ts_us % 1000000),
				  recs[i].caplen, recs[i].len };
		fwrite(r, 4, 4, f);
		fwrite(recs[i].data, 1, recs[i].caplen, f);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.pcap   (- for stdout)\n", argv[0]);
		return 2;
	}
	/* the office: clients browsing, resolving names, pinging */
	static const struct {
		uint8_t a, b, c, d;
		uint16_t port;
	} servers[] = {
		{ 142, 250, 74, 110, 443 }, { 151, 101, 1, 69, 443 }, { 104, 16, 132, 229, 80 },
		{ 198, 51, 100, 20, 22 },   { 203, 0, 113, 80, 8080 }, { 13, 107, 42, 14, 443 },
	};
	static const char *const names[] = { "example.com", "www.kernel.org", "ebpf.io",
					     "mirror.debian.org", "api.github.com" };
	for (int i = 0; i < 70; i++) {
		struct host c = lan_host((int)rnd_in(10, 49));
		struct l2 up = l2_plain(ROUTER, c.mac);
		int s = (int)(rnd() % (sizeof(servers) / sizeof(servers[0])));
		uint64_t t = T0 + rnd() % SPAN_US;
		int v6 = rnd() % 4 == 0;
		struct ip6 s6 = ip6_make(0x2a00, 0x1450, 0x4001, 0x80e, 0x200e + (uint32_t)s);
		dns(t, &c, v6, names[rnd() % 5]);
		uint32_t resp = rnd_in(300, 9000);
		int reqs = (int)rnd_in(1, 3);
		tcp_session(t + 40000, &up, &c, ip4(servers[s].a, servers[s].b, servers[s].c, servers[s].d),
			    &s6, servers[s].port, reqs, resp, v6);
	}
	for (int i = 0; i < 40; i++) {
		struct host c = lan_host((int)rnd_in(10, 49));
		const char *name = names[rnd() % 5];
		int v6 = rnd() % 3 == 0;
		dns(T0 + rnd() % SPAN_US, &c, v6, name);
	}
	for (int i = 0; i < 12; i++) { /* NTP and QUIC-ish UDP */
		struct host c = lan_host((int)rnd_in(10, 49));
		struct l2 up = l2_plain(ROUTER, c.mac), down = l2_plain(c.mac, ROUTER);
		uint64_t t = T0 + rnd() % SPAN_US;
		int quic = i % 2;
		uint32_t srv = quic ? ip4(142, 250, 74, 110) : ip4(162, 159, 200, 1);
		uint16_t sp = quic ? (uint16_t)rnd_in(40000, 60000) : 123, dp = quic ? 443 : 123;
		for (int k = 0; k < (quic ? 12 : 1); k++) {
			l4_udp(&seg, sp, dp, NULL, quic ? rnd_in(40, 1250) : 48);
			size_t n = frame4(&up, c.ip, srv, 64, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
			add_frame(t, frame, n, n);
			l4_udp(&seg, dp, sp, NULL, quic ? rnd_in(40, 1250) : 48);
			n = frame4(&down, srv, c.ip, 56, &seg, NULL, 0, (uint16_t)rnd(), 0, 0, 1);
			add_frame(t + rnd_in(5000, 25000), frame, n, n);
			t += rnd_in(1000, 50000);
		}
	}
	for (int i = 0; i < 6; i++) {
		struct host c = lan_host((int)rnd_in(10, 49));
		struct ip6 d6 = ip6_make(0x2001, 0x4860, 0x4860, 0, 0x8888);
		ping(T0 + rnd() % SPAN_US, &c, ip4(8, 8, 8, 8), i % 2 ? &d6 : NULL, 4, i != 5);
	}
	for (int i = 0; i < 10; i++) {
		struct host c = lan_host((int)rnd_in(10, 49)), gw = { ROUTER, ip4(192, 168, 1, 1), { { 0 } } };
		int who = (int)rnd_in(2, 60);
		mac_t m = host_mac(0x010000u | (uint32_t)who);
		arp(T0 + rnd() % SPAN_US, i % 3 ? &c : &gw, ip4(192, 168, 1, who), i == 9 ? NULL : &m);
	}
	/* the heavy hitter: one long HTTPS download */
	{
		struct host c = lan_host(50);
		struct l2 up = l2_plain(ROUTER, c.mac);
		tcp_session(T0 + 3000000, &up, &c, ip4(93, 184, 216, 34), NULL, 443, 5, 100000, 0);
	}
	/* the blocked range probing the office */
	for (int i = 0; i < 9; i++) {
		int k = (int)rnd_in(10, 30);
		blocked_scan(T0 + rnd() % SPAN_US, k);
	}
	voip(T0 + 20000000, 90);
	specials();

	qsort(recs, rec_cnt, sizeof(*recs), cmp_rec);
	FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "wb") : stdout;
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	write_pcap(f);
	if ((f != stdout && fclose(f)) || (f == stdout && fflush(f))) {
		perror(argv[1]);
		return 1;
	}
	fprintf(stderr, "%s: %zu packets\n", argv[1], rec_cnt);
	for (size_t i = 0; i < rec_cnt; i++)
		free(recs[i].data);
	free(recs);
	return 0;
}
