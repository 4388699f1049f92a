/* test_cbpf.c — classic BPF: checker messages, input forms, known filters, the
 * translation against a direct classic interpreter on random programs and
 * packets, against this machine's kernel, and against libpcap.
 *
 * Three references judge the translation:
 *   - ref_run() below, a plain classic interpreter written from the semantics
 *     bpfvm documents (bpfvm/cbpf.h), on random programs and random packets;
 *   - the running kernel: a classic filter attached with SO_ATTACH_FILTER to an
 *     AF_UNIX datagram socket runs on every datagram sent to it (sk_filter), which
 *     is dropped when the filter returns 0 and cut to its result otherwise; the
 *     same socket option says whether the kernel accepts a program at all;
 *   - libpcap's own interpreter (pcap_offline_filter) for tcpdump expressions over
 *     examples/demo.pcap, when libpcap can be loaded.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfvm.h"
#include "bpfvm/cbpf.h"
#include "io/capture.h"
#include "testutil.h"

#define F(c, t, f, kk) ((struct bpfvm_sock_filter){ (uint16_t)(c), t, f, (uint32_t)(kk) })

/* ------------------------------------------------ reference interpreter */

static uint32_t be(const uint8_t *p, int n)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* packet bytes at a classic offset as bpfvm documents: SKF_LL_OFF + n is byte n,
 * SKF_NET_OFF + n byte net_off + n; false when out of range */
static bool ref_load(const uint8_t *pkt, uint32_t caplen, const struct bpfvm_cbpf_ctx *c,
		     int64_t off, int size, bool abs, uint32_t *v)
{
	if (off < 0 && abs) {
		if (off >= SKF_NET_OFF)
			off = (int64_t)c->net_off + (off - SKF_NET_OFF);
		else if (off >= SKF_LL_OFF)
			off = off - SKF_LL_OFF;
		else
			return false;
	}
	if (off < 0 || off > caplen || caplen - off < (uint32_t)size)
		return false;
	*v = be(pkt + off, size);
	return true;
}

static uint32_t ref_anc(const struct bpfvm_cbpf_ctx *c, uint32_t k, uint32_t A, uint32_t X)
{
	const uint8_t *p = (const uint8_t *)&c->protocol, *q = (const uint8_t *)&c->vlan_proto;
	switch ((int32_t)(k - (uint32_t)SKF_AD_OFF)) {
	case SKF_AD_PROTOCOL: return be(p, 2);
	case SKF_AD_PKTTYPE: return c->pkt_type & 7;
	case SKF_AD_IFINDEX: return c->ifindex;
	case SKF_AD_HATYPE: return c->hatype;
	case SKF_AD_MARK: return c->mark;
	case SKF_AD_QUEUE: return c->queue_mapping;
	case SKF_AD_RXHASH: return c->hash;
	case SKF_AD_CPU: return 0;
	case SKF_AD_ALU_XOR_X: return A ^ X;
	case SKF_AD_VLAN_TAG: return c->vlan_tci;
	case SKF_AD_VLAN_TAG_PRESENT: return c->vlan_present & 1;
	case SKF_AD_VLAN_TPID: return be(q, 2);
	default: return 0xdeadbeef; /* not generated for the reference */
	}
}

static uint32_t ref_run(const struct bpfvm_sock_filter *f, size_t cnt, const uint8_t *pkt,
			uint32_t caplen, const struct bpfvm_cbpf_ctx *c)
{
	uint32_t A = 0, X = 0, M[16] = { 0 }, v;
	for (size_t pc = 0; pc < cnt; pc++) {
		const struct bpfvm_sock_filter *i = &f[pc];
		uint32_t k = i->k;
		uint32_t src = BPF_SRC(i->code) == BPF_X ? X : k;
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS: {
			if (k >= (uint32_t)SKF_AD_OFF) {
				A = ref_anc(c, k, A, X);
				break;
			}
			int size = BPF_SIZE(i->code) == BPF_W ? 4 : BPF_SIZE(i->code) == BPF_H ? 2 : 1;
			if (!ref_load(pkt, caplen, c, (int32_t)k, size, true, &v))
				return 0;
			A = v;
			break;
		}
		case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND: {
			int size = BPF_SIZE(i->code) == BPF_W ? 4 : BPF_SIZE(i->code) == BPF_H ? 2 : 1;
			if (!ref_load(pkt, caplen, c, (int32_t)(X + k), size, false, &v))
				return 0;
			A = v;
			break;
		}
		case BPF_LD | BPF_W | BPF_LEN: A = c->len; break;
		case BPF_LDX | BPF_W | BPF_LEN: X = c->len; break;
		case BPF_LD | BPF_IMM: A = k; break;
		case BPF_LDX | BPF_IMM: X = k; break;
		case BPF_LD | BPF_MEM: A = M[k]; break;
		case BPF_LDX | BPF_MEM: X = M[k]; break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (!ref_load(pkt, caplen, c, (int32_t)k, 1, true, &v))
				return 0;
			X = (v & 0xf) << 2;
			break;
		case BPF_ST: M[k] = A; break;
		case BPF_STX: M[k] = X; break;
		case BPF_MISC | BPF_TAX: X = A; break;
		case BPF_MISC | BPF_TXA: A = X; break;
		case BPF_RET | BPF_K: return k;
		case BPF_RET | BPF_A: return A;
		case BPF_JMP | BPF_JA: pc += k; break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X: pc += A == src ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_X: pc += A > src ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_X: pc += A >= src ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_X: pc += A & src ? i->jt : i->jf; break;
		case BPF_ALU | BPF_NEG: A = -A; break;
		default:
			switch (BPF_OP(i->code)) {
			case BPF_ADD: A += src; break;
			case BPF_SUB: A -= src; break;
			case BPF_MUL: A *= src; break;
			case BPF_DIV: if (!src) return 0; A /= src; break;
			case BPF_MOD: if (!src) return 0; A %= src; break;
			case BPF_AND: A &= src; break;
			case BPF_OR: A |= src; break;
			case BPF_XOR: A ^= src; break;
			case BPF_LSH: A <<= src & 31; break;
			case BPF_RSH: A >>= src & 31; break;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------ random programs */

static uint64_t rng = 0x1234567;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

enum gen_mode { GEN_LOCAL, GEN_KERNEL, GEN_WILD };

static uint32_t rnd_k(void)
{
	switch (rnd() % 6) {
	case 0: return rnd();
	case 1: return rnd() % 16;
	case 2: return (uint32_t)-(int32_t)(rnd() % 16);
	case 3: return 0x80000000u + rnd() % 4;
	default: return rnd() % 300;
	}
}

/* a random program of n instructions; GEN_LOCAL may use everything the reference
 * knows, GEN_KERNEL only what an AF_UNIX skb gives meaning to, GEN_WILD also
 * invalid instructions (for acceptance tests) */
static void gen(struct bpfvm_sock_filter *f, size_t n, enum gen_mode mode)
{
	static const uint16_t alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND,
					BPF_OR,	 BPF_XOR, BPF_LSH, BPF_RSH };
	static const uint16_t jmp[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	static const uint16_t sz[] = { BPF_W, BPF_H, BPF_B };
	static const int anc_local[] = { SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_IFINDEX,
					 SKF_AD_HATYPE, SKF_AD_MARK, SKF_AD_QUEUE, SKF_AD_RXHASH,
					 SKF_AD_CPU, SKF_AD_ALU_XOR_X, SKF_AD_VLAN_TAG,
					 SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TPID };
	static const int anc_kernel[] = { SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_MARK,
					  SKF_AD_QUEUE, SKF_AD_ALU_XOR_X, SKF_AD_VLAN_TAG,
					  SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TPID };
	uint16_t written = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t left = n - i - 1; /* instructions after this one */
		uint32_t r = rnd() % 100, k = rnd_k();
		if (mode == GEN_WILD && r < 4) {
			f[i] = F(rnd() & 0xff, (uint8_t)rnd(), (uint8_t)rnd(), rnd_k());
			continue;
		}
		if (r < 18) {
			uint16_t s = sz[rnd() % 3];
			if (rnd() % 3 == 0)
				f[i] = F(BPF_LD | s | BPF_IND, 0, 0, rnd() % 64);
			else if (mode == GEN_LOCAL && rnd() % 8 == 0)
				f[i] = F(BPF_LD | s | BPF_ABS, 0, 0,
					 (rnd() % 2 ? SKF_NET_OFF : SKF_LL_OFF) + (int32_t)(rnd() % 40));
			else
				f[i] = F(BPF_LD | s | BPF_ABS, 0, 0, rnd() % 80);
		} else if (r < 22) {
			if (mode == GEN_WILD) {
				f[i] = F(BPF_LD | sz[rnd() % 3] | BPF_ABS, 0, 0,
					 (uint32_t)SKF_AD_OFF + rnd() % 72);
			} else {
				const int *a = mode == GEN_LOCAL ? anc_local : anc_kernel;
				size_t na = mode == GEN_LOCAL ? sizeof(anc_local) / sizeof(int)
							      : sizeof(anc_kernel) / sizeof(int);
				f[i] = F(BPF_LD | sz[rnd() % 3] | BPF_ABS, 0, 0, SKF_AD_OFF + a[rnd() % na]);
			}
		} else if (r < 44) {
			uint16_t op = alu[rnd() % 10];
			bool x = rnd() % 2;
			if (!x && (op == BPF_DIV || op == BPF_MOD) && k == 0 && mode != GEN_WILD)
				k = 3;
			if (!x && (op == BPF_LSH || op == BPF_RSH) && mode != GEN_WILD)
				k %= 32;
			f[i] = F(BPF_ALU | op | (x ? BPF_X : BPF_K), 0, 0, x ? 0 : k);
			if (rnd() % 20 == 0)
				f[i] = F(BPF_ALU | BPF_NEG, 0, 0, 0);
		} else if (r < 50) {
			f[i] = F(BPF_MISC | (rnd() % 2 ? BPF_TAX : BPF_TXA), 0, 0, 0);
		} else if (r < 58) {
			uint32_t m = rnd() % (mode == GEN_WILD ? 18 : 16);
			f[i] = F(rnd() % 2 ? BPF_ST : BPF_STX, 0, 0, m);
			written |= (uint16_t)(1u << (m & 15));
		} else if (r < 64 && written) {
			uint32_t m;
			do
				m = rnd() % 16;
			while (!(written & (1u << m)) && mode != GEN_WILD);
			f[i] = F((rnd() % 2 ? BPF_LD : BPF_LDX) | BPF_MEM, 0, 0, m);
		} else if (r < 72) {
			switch (rnd() % 4) {
			case 0: f[i] = F(BPF_LD | BPF_IMM, 0, 0, k); break;
			case 1: f[i] = F(BPF_LDX | BPF_IMM, 0, 0, k); break;
			case 2: f[i] = F(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0); break;
			default: f[i] = F(BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0); break;
			}
		} else if (r < 76) {
			f[i] = F(BPF_LDX | BPF_B | BPF_MSH, 0, 0, rnd() % 40);
		} else if (r < 94 && left > 1) {
			uint32_t lim = mode == GEN_WILD ? (uint32_t)left + 2 : (uint32_t)left;
			uint8_t jt = (uint8_t)(rnd() % (lim < 255 ? lim : 255));
			uint8_t jf = (uint8_t)(rnd() % (lim < 255 ? lim : 255));
			if (rnd() % 8 == 0)
				f[i] = F(BPF_JMP | BPF_JA, 0, 0, rnd() % lim);
			else
				f[i] = F(BPF_JMP | jmp[rnd() % 4] | (rnd() % 2 ? BPF_X : BPF_K), jt, jf,
					 rnd() % 3 ? k : (uint32_t)-(int32_t)(rnd() % 5));
			written = 0; /* jumps may skip stores: only trust stores after this */
		} else {
			f[i] = rnd() % 2 ? F(BPF_RET | BPF_A, 0, 0, 0) : F(BPF_RET | BPF_K, 0, 0, k);
		}
	}
	f[n - 1] = F(BPF_RET | BPF_A, 0, 0, 0);
	if (mode == GEN_WILD && rnd() % 10 == 0)
		f[n - 1] = F(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1); /* does not end in ret */
}

static void rnd_packet(uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(rnd() % 4 ? rnd() : i);
	if (len >= 14 && rnd() % 2) { /* sometimes an Ethernet/IPv4 header */
		p[12] = 0x08;
		p[13] = 0;
		if (len > 14)
			p[14] = 0x45;
	}
}

/* ------------------------------------------------------------ the tests */

static void check_refused(const struct bpfvm_sock_filter *f, size_t n, const char *msg)
{
	char log[256] = "";
	struct bpfvm_cbpf_opts o = BPFVM_OPTS_INIT(bpfvm_cbpf_opts);
	o.log_buf = log;
	o.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, &o);
	CHECK(p == NULL);
	CHECK_CONTAINS(log, msg);
	bpfvm_prog_free(p);
}

static void test_checker(void)
{
	struct bpfvm_sock_filter a[] = { F(BPF_LD | BPF_IMM, 0, 0, 1), F(0xff, 0, 0, 0),
					 F(BPF_RET | BPF_A, 0, 0, 0) };
	check_refused(a, 3, "insn 1: unknown opcode 0xff");
	struct bpfvm_sock_filter b[] = { F(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), F(BPF_RET | BPF_A, 0, 0, 0) };
	check_refused(b, 2, "insn 0: div #0: division by constant 0");
	b[0] = F(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 0);
	check_refused(b, 2, "insn 0: mod #0");
	b[0] = F(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32);
	check_refused(b, 2, "insn 0: lsh #32: shift of 32 or more");
	b[0] = F(BPF_ST, 0, 0, 16);
	check_refused(b, 2, "insn 0: st M[16]: scratch memory has 16 words");
	b[0] = F(BPF_LD | BPF_MEM, 0, 0, 3);
	check_refused(b, 2, "insn 0: ld M[3] reads scratch memory that is not written");
	b[0] = F(BPF_JMP | BPF_JA, 0, 0, 1);
	check_refused(b, 2, "insn 0: ja +1 jumps past the last instruction (1)");
	b[0] = F(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 7);
	check_refused(b, 2, "insn 0: jeq jt 0 jf 1 jumps past the last instruction");
	b[0] = F(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + 64);
	check_refused(b, 2, "insn 0: ld [-4032]: unknown ancillary load SKF_AD_OFF+64");
	b[0] = F(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_AD_OFF + 2);
	check_refused(b, 2, "unknown ancillary load SKF_AD_OFF+2");
	b[1] = F(BPF_MISC | BPF_TAX, 0, 0, 0);
	b[0] = F(BPF_LD | BPF_IMM, 0, 0, 0);
	check_refused(b, 2, "insn 1: the last instruction must be ret, not tax");
	check_refused(b, 0, "program has 0 instructions (1 to 4096 allowed)");
	/* a store on only one path does not make the load safe */
	struct bpfvm_sock_filter c[] = {
		F(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),	  F(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 5),
		F(BPF_ST, 0, 0, 2),			  F(BPF_LD | BPF_MEM, 0, 0, 2),
		F(BPF_RET | BPF_A, 0, 0, 0),
	};
	check_refused(c, 5, "insn 3: ld M[2]");
	c[1].jf = 0; /* both paths store: fine */
	struct bpfvm_prog *p = bpfvm_cbpf_compile(c, 5, NULL);
	CHECK(p != NULL);
	bpfvm_prog_free(p);
	static struct bpfvm_sock_filter big[BPFVM_CBPF_MAX_INSNS + 1];
	for (size_t i = 0; i <= BPFVM_CBPF_MAX_INSNS; i++)
		big[i] = F(BPF_RET | BPF_K, 0, 0, 1);
	errno = 0;
	CHECK(bpfvm_cbpf_compile(big, BPFVM_CBPF_MAX_INSNS + 1, NULL) == NULL);
	CHECK_EQ(errno, E2BIG);
	p = bpfvm_cbpf_compile(big, BPFVM_CBPF_MAX_INSNS, NULL);
	CHECK(p != NULL);
	bpfvm_prog_free(p);
}

/* `tcpdump -dd 'ip and tcp dst port 80'` */
static const char tcp80_dd[] =
	"{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 8, 0x00000800 },\n{ 0x30, 0, 0, 0x00000017 },\n"
	"{ 0x15, 0, 6, 0x00000006 },\n{ 0x28, 0, 0, 0x00000014 },\n{ 0x45, 4, 0, 0x00001fff },\n"
	"{ 0xb1, 0, 0, 0x0000000e },\n{ 0x48, 0, 0, 0x00000010 },\n{ 0x15, 0, 1, 0x00000050 },\n"
	"{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n";

static size_t tcp_packet(uint8_t *p, uint16_t dport, uint16_t frag, uint8_t proto)
{
	memset(p, 0, 64);
	p[12] = 0x08;
	p[14] = 0x45;
	p[20] = (uint8_t)(frag >> 8);
	p[21] = (uint8_t)frag;
	p[23] = proto;
	p[36] = (uint8_t)(dport >> 8);
	p[37] = (uint8_t)dport;
	return 64;
}

static void test_known_filter(void)
{
	struct bpfvm_sock_filter *f;
	size_t n;
	char err[256];
	CHECK_EQ(bpfvm_cbpf_parse(tcp80_dd, strlen(tcp80_dd), &f, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 11);
	struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, NULL);
	CHECK(p != NULL);
	uint8_t pkt[64];
	uint32_t r = 1;
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, tcp_packet(pkt, 80, 0, 6), &r), 0);
	CHECK_EQ(r, 0x40000);
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, tcp_packet(pkt, 81, 0, 6), &r), 0);
	CHECK_EQ(r, 0);
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, tcp_packet(pkt, 80, 0, 17), &r), 0);
	CHECK_EQ(r, 0);
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, tcp_packet(pkt, 80, 0x0010, 6), &r), 0); /* later fragment */
	CHECK_EQ(r, 0);
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, tcp_packet(pkt, 80, 0x2000, 6), &r), 0); /* MF, offset 0 */
	CHECK_EQ(r, 0x40000);
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, 37, &r), 0); /* cut before the port: out of range */
	CHECK_EQ(r, 0);
	CHECK_EQ(bpfvm_cbpf_run(p, pkt, 0, &r), 0);
	CHECK_EQ(r, 0);
	char *text = bpfvm_cbpf_disasm(f, n);
	CHECK_CONTAINS(text, "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 10\n");
	CHECK_CONTAINS(text, "(006) ldxb     4*([14]&0xf)\n(007) ldh      [x + 16]\n");
	CHECK_CONTAINS(text, "(009) ret      #262144\n");
	free(text);
	/* the translation keeps the kernel's shape */
	const struct bpf_insn *e = bpfvm_prog_insns(p);
	CHECK_EQ(e[0].code, BPF_ALU | BPF_XOR | BPF_X);
	CHECK_EQ(e[2].code, BPF_ALU64 | BPF_MOV | BPF_X);
	CHECK_EQ(e[2].dst_reg, 6);
	CHECK_EQ(e[3].code, BPF_LD | BPF_ABS | BPF_H);
	CHECK_EQ(e[4].code, BPF_JMP | BPF_JNE | BPF_K); /* jt == 0 folds into jne */
	bpfvm_prog_free(p);
	free(f);
}

static void test_parse(void)
{
	struct bpfvm_sock_filter *f = NULL;
	size_t n = 0;
	char err[256] = "";
	/* tcpdump -ddd */
	const char *ddd = "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n";
	CHECK_EQ(bpfvm_cbpf_parse(ddd, strlen(ddd), &f, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(f[1].code, 0x15);
	CHECK_EQ(f[1].jf, 1);
	CHECK_EQ(f[1].k, 2048);
	free(f);
	/* bpf_asm's one-line form */
	const char *asm1 = "2,40 0 0 12,6 0 0 1,";
	CHECK_EQ(bpfvm_cbpf_parse(asm1, strlen(asm1), &f, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	free(f);
	/* a C array as tcpdump -dd pastes into a program, with a negative k */
	const char *arr = "struct sock_filter code[] = {\n\t{ 0x20, 0, 0, -4096 },\n\t{ 0x16, 0, 0, 0 },\n};\n";
	CHECK_EQ(bpfvm_cbpf_parse(arr, strlen(arr), &f, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(f[0].k, 0xfffff000u);
	free(f);
	/* raw binary */
	struct bpfvm_sock_filter raw[2] = { F(0x28, 0, 0, 12), F(0x06, 0, 0, 0xffff) };
	CHECK_EQ(bpfvm_cbpf_parse(raw, sizeof(raw), &f, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(f[1].k, 0xffff);
	free(f);
	/* errors name the line */
	const char *bad = "{ 0x28, 0, 0, 12 },\n{ 0x15, 0, 300, 1 },\n";
	CHECK_EQ(bpfvm_cbpf_parse(bad, strlen(bad), &f, &n, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "line 2: expected `{ code, jt, jf, k }`");
	const char *bad2 = "3\n40 0 0 12\n6 0 0 x\n";
	CHECK_EQ(bpfvm_cbpf_parse(bad2, strlen(bad2), &f, &n, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "line 3: 'x' is not a valid k");
	const char *bad3 = "3\n40 0 0 12\n6 0 0 1\n";
	CHECK_EQ(bpfvm_cbpf_parse(bad3, strlen(bad3), &f, &n, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "the count says 3 instructions but 2 follow");
	uint8_t odd[9] = { 0x80, 0x90 };
	CHECK_EQ(bpfvm_cbpf_parse(odd, sizeof(odd), &f, &n, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "9 bytes is not a whole number of 8-byte classic instructions");
	CHECK_EQ(bpfvm_cbpf_parse("", 0, &f, &n, err, sizeof(err)), -EINVAL);
}

static void test_ancillary(void)
{
	uint8_t pkt[80] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 0x81, 0x00, 0x00, 0x64,
			    0x08, 0x00, 0x45 };
	struct bpfvm_cbpf_ctx c;
	bpfvm_cbpf_ctx_init(&c, pkt, sizeof(pkt), 1500);
	CHECK_EQ(c.len, 1500);
	CHECK_EQ(c.pkt_type, 1); /* broadcast */
	CHECK_EQ(c.net_off, 18); /* past the 802.1Q tag */
	CHECK_EQ(c.ifindex, 1);
	c.mark = 0xabcd;
	c.vlan_tci = 0x1064;
	c.vlan_present = 1;
	c.queue_mapping = 3;
	c.hash = 0x12345678;
	uint8_t tp[2] = { 0x88, 0xa8 };
	memcpy(&c.vlan_proto, tp, 2);
	static const struct {
		int anc;
		uint32_t want;
	} cases[] = {
		{ SKF_AD_PROTOCOL, 0x8100 }, { SKF_AD_PKTTYPE, 1 },	     { SKF_AD_IFINDEX, 1 },
		{ SKF_AD_HATYPE, 1 },	     { SKF_AD_MARK, 0xabcd },	     { SKF_AD_QUEUE, 3 },
		{ SKF_AD_RXHASH, 0x12345678 }, { SKF_AD_CPU, 0 },	     { SKF_AD_VLAN_TAG, 0x1064 },
		{ SKF_AD_VLAN_TAG_PRESENT, 1 }, { SKF_AD_VLAN_TPID, 0x88a8 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bpfvm_sock_filter f[] = { F(BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_AD_OFF + cases[i].anc),
						 F(BPF_RET | BPF_A, 0, 0, 0) };
		struct bpfvm_prog *p = bpfvm_cbpf_compile(f, 2, NULL);
		uint32_t r = 0;
		CHECK(p != NULL);
		CHECK_EQ(bpfvm_cbpf_run_ctx(p, &c, pkt, sizeof(pkt), &r), 0);
		if (r != cases[i].want)
			fprintf(stderr, "ancillary %d\n", cases[i].anc);
		CHECK_EQ(r, cases[i].want);
		bpfvm_prog_free(p);
	}
	/* ld len, SKF_LL_OFF and SKF_NET_OFF, xor_x, random */
	struct bpfvm_sock_filter g[] = {
		F(BPF_LD | BPF_B | BPF_ABS, 0, 0, SKF_NET_OFF + 0), /* 0x45 at 18 */
		F(BPF_MISC | BPF_TAX, 0, 0, 0),
		F(BPF_LD | BPF_H | BPF_ABS, 0, 0, SKF_LL_OFF + 12), /* 0x8100 */
		F(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_ALU_XOR_X),
		F(BPF_RET | BPF_A, 0, 0, 0),
	};
	struct bpfvm_prog *p = bpfvm_cbpf_compile(g, 5, NULL);
	uint32_t r = 0;
	CHECK_EQ(bpfvm_cbpf_run_ctx(p, &c, pkt, sizeof(pkt), &r), 0);
	CHECK_EQ(r, 0x8100u ^ 0x45u);
	bpfvm_prog_free(p);
	/* payload offset: Ethernet + IPv4 (20) + TCP with 32-byte header */
	uint8_t tcp[80] = { 0 };
	tcp[12] = 0x08;
	tcp[14] = 0x45;
	tcp[23] = 6;
	tcp[34 + 12] = 0x80;
	struct bpfvm_sock_filter po[] = { F(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_PAY_OFFSET),
					  F(BPF_RET | BPF_A, 0, 0, 0) };
	p = bpfvm_cbpf_compile(po, 2, NULL);
	CHECK_EQ(bpfvm_cbpf_run(p, tcp, sizeof(tcp), &r), 0);
	CHECK_EQ(r, 14 + 20 + 32);
	tcp[23] = 17;
	CHECK_EQ(bpfvm_cbpf_run(p, tcp, sizeof(tcp), &r), 0);
	CHECK_EQ(r, 14 + 20 + 8);
	bpfvm_prog_free(p);
	/* netlink attributes: A = offset of the attribute list, X = the type */
	uint8_t nl[32] = { 0 };
	uint16_t h[4] = { 8, 1, 12, 0x4007 }; /* len 8 type 1, len 12 type 7 (with NET_BYTEORDER) */
	memcpy(nl + 4, h, 4);
	memcpy(nl + 12, h + 2, 4);
	struct bpfvm_sock_filter na[] = { F(BPF_LD | BPF_IMM, 0, 0, 4), F(BPF_LDX | BPF_IMM, 0, 0, 7),
					  F(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_NLATTR),
					  F(BPF_RET | BPF_A, 0, 0, 0) };
	p = bpfvm_cbpf_compile(na, 4, NULL);
	CHECK_EQ(bpfvm_cbpf_run(p, nl, sizeof(nl), &r), 0);
	CHECK_EQ(r, 12);
	bpfvm_prog_free(p);
	/* division by X = 0 ends the program with 0, as classic BPF does */
	struct bpfvm_sock_filter dz[] = { F(BPF_LD | BPF_IMM, 0, 0, 7), F(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0),
					  F(BPF_RET | BPF_K, 0, 0, 99) };
	p = bpfvm_cbpf_compile(dz, 3, NULL);
	r = 5;
	CHECK_EQ(bpfvm_cbpf_run(p, nl, 0, &r), 0);
	CHECK_EQ(r, 0);
	bpfvm_prog_free(p);
}

/* the translation against the reference, on random programs and packets */
static void test_random_vs_reference(void)
{
	struct bpfvm_sock_filter f[64];
	uint8_t pkt[128];
	int progs = 0, runs = 0, mismatches = 0;
	for (int t = 0; t < 3000; t++) {
		size_t n = 2 + rnd() % 60;
		gen(f, n, GEN_LOCAL);
		char log[256] = "";
		struct bpfvm_cbpf_opts o = BPFVM_OPTS_INIT(bpfvm_cbpf_opts);
		o.log_buf = log;
		o.log_size = sizeof(log);
		struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, &o);
		if (!p) {
			/* only the path-sensitive scratch-memory rule may refuse these */
			if (!strstr(log, "scratch memory")) {
				fprintf(stderr, "generated program refused: %s\n", log);
				CHECK(0);
			}
			continue;
		}
		progs++;
		for (int k = 0; k < 20; k++) {
			uint32_t len = rnd() % sizeof(pkt);
			rnd_packet(pkt, len);
			struct bpfvm_cbpf_ctx c;
			bpfvm_cbpf_ctx_init(&c, pkt, len, len + rnd() % 3);
			c.mark = rnd();
			c.hash = rnd();
			c.vlan_tci = (uint16_t)rnd();
			c.vlan_present = (uint8_t)rnd();
			c.queue_mapping = (uint16_t)rnd();
			c.pkt_type = (uint8_t)rnd();
			uint32_t want = ref_run(f, n, pkt, len, &c), got = 0;
			int err = bpfvm_cbpf_run_ctx(p, &c, pkt, len, &got);
			runs++;
			if (err || got != want) {
				if (mismatches++ < 3) {
					char *text = bpfvm_cbpf_disasm(f, n);
					fprintf(stderr, "mismatch: bpfvm %u (err %d), reference %u, len %u\n%s",
						got, err, want, len, text);
					free(text);
				}
			}
		}
		bpfvm_prog_free(p);
	}
	CHECK_EQ(mismatches, 0);
	CHECK(progs > 2000);
	printf("reference: %d programs, %d runs\n", progs, runs);
}

/* ------------------------------------------------------- kernel differential */

static int attach(int fd, const struct bpfvm_sock_filter *f, size_t n)
{
	struct sock_fprog fp = { (unsigned short)n, (struct sock_filter *)(uintptr_t)f };
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) ? -errno : 0;
}

/* what the receiving socket sees: -1 dropped, else bytes delivered */
static long kernel_deliver(int sv[2], const uint8_t *pkt, size_t len)
{
	uint8_t buf[1024];
	if (send(sv[0], pkt, len, 0) != (ssize_t)len)
		return -2;
	ssize_t r = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	return r < 0 ? -1 : r;
}

static long expect_deliver(uint32_t ret, size_t len)
{
	if (!ret)
		return -1;
	return ret < len ? (long)(ret ? ret : 1) : (long)len;
}

static void test_kernel(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		printf("kernel differential skipped: socketpair: %s\n", strerror(errno));
		return;
	}
	struct bpfvm_sock_filter f[72];
	uint8_t pkt[300];
	int agree = 0, agree_ok = 0, accepted = 0, runs = 0, bad_accept = 0, bad_run = 0;
	/* 1. acceptance: random and broken programs */
	for (int t = 0; t < 4000; t++) {
		size_t n = 1 + rnd() % 40;
		gen(f, n, GEN_WILD);
		if (rnd() % 50 == 0)
			n = 0;
		char log[256] = "";
		struct bpfvm_cbpf_opts o = BPFVM_OPTS_INIT(bpfvm_cbpf_opts);
		o.log_buf = log;
		o.log_size = sizeof(log);
		struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, &o);
		int k = attach(sv[1], f, n);
		if ((p != NULL) != (k == 0)) {
			if (bad_accept++ < 5) {
				char *text = bpfvm_cbpf_disasm(f, n);
				fprintf(stderr, "acceptance differs: bpfvm %s (%s), kernel %s\n%s",
					p ? "accepts" : "refuses", log, k ? strerror(-k) : "accepts", text);
				free(text);
			}
		} else {
			agree++;
			agree_ok += p != NULL;
		}
		bpfvm_prog_free(p);
	}
	/* 2. results: random valid programs whose A is read 8 bits at a time */
	for (int t = 0; t < 1500; t++) {
		size_t n = 2 + rnd() % 50;
		gen(f, n, GEN_KERNEL);
		n--; /* replace the final `ret a` with: A >>= s; A &= 0xff; ret a */
		size_t body = n;
		for (int shift = 0; shift < 32; shift += 8) {
			f[body] = F(BPF_ALU | BPF_RSH | BPF_K, 0, 0, shift);
			f[body + 1] = F(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xff);
			f[body + 2] = F(BPF_RET | BPF_A, 0, 0, 0);
			n = body + 3;
			struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, NULL);
			int k = attach(sv[1], f, n);
			if (!p || k) {
				if ((p != NULL) != (k == 0))
					bad_accept++;
				bpfvm_prog_free(p);
				break;
			}
			accepted++;
			for (int j = 0; j < 6; j++) {
				size_t len = rnd() % 300;
				rnd_packet(pkt, (uint32_t)len);
				/* what an AF_UNIX skb holds: no device, protocol 0, no mark... */
				struct bpfvm_cbpf_ctx c = { .len = (uint32_t)len };
				uint32_t r = 0;
				bpfvm_cbpf_run_ctx(p, &c, pkt, len, &r);
				long want = expect_deliver(r, len), got = kernel_deliver(sv, pkt, len);
				runs++;
				if (got != want && bad_run++ < 5) {
					char *text = bpfvm_cbpf_disasm(f, n);
					fprintf(stderr, "result differs: bpfvm %u -> %ld, kernel %ld, len %zu\n%s",
						r, want, got, len, text);
					free(text);
				}
			}
			bpfvm_prog_free(p);
		}
	}
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(bad_accept, 0);
	CHECK_EQ(bad_run, 0);
	CHECK(runs > 10000);
	printf("kernel: acceptance agreed on %d programs (%d accepted); %d programs, %d packets "
	       "compared\n",
	       agree, agree_ok, accepted, runs);
}

/* ------------------------------------------------------- libpcap differential */

struct lp_hdr {
	struct timeval ts;
	uint32_t caplen, len;
};
struct lp_prog {
	unsigned int bf_len;
	struct bpfvm_sock_filter *bf_insns;
};

static const char *const exprs[] = {
	"tcp", "udp", "icmp", "icmp6", "arp", "ip", "ip6", "vlan", "vlan 100", "vlan 200",
	"tcp port 443", "tcp port 443 and not net 10.0.0.0/8", "udp port 53", "port 123",
	"net 10.66.0.0/16", "src net 10.66.0.0/16 and tcp[tcpflags] & tcp-syn != 0",
	"host 93.184.216.34", "host 93.184.216.34 and greater 1000", "greater 4000", "less 64",
	"len < 14", "ip[0] & 0xf > 5", "ip[6:2] & 0x1fff != 0", "ip[6:2] & 0x3fff != 0",
	"ip6 proto 44", "ip6 and udp port 53", "icmp[icmptype] == icmp-echo",
	"icmp[icmptype] == icmp-unreach", "tcp[tcpflags] & (tcp-rst) != 0",
	"tcp[tcpflags] == tcp-syn", "tcp[13] & 0x12 == 0x12", "ether broadcast", "ether multicast",
	"ip multicast", "ip broadcast", "ether host 00:1b:21:aa:00:01", "ether src 52:54:00:01:00:32",
	"ether proto 0x88cc", "stp", "llc", "ip proto 2", "igmp", "dst portrange 1-1024",
	"tcp dst portrange 8000-8100", "udp and (port 16384 or port 16386)", "vlan and udp",
	"vlan 300 and vlan 20", "not ip and not ip6 and not arp", "ip and tcp[32:4] = 0x01010101",
	"(tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)", "ether[12:2] = 0x0800 and ip[8] < 50",
	"ip6[6] == 58", "ip[2:2] > 1400", "udp[8:2] = 0x8000", "net 192.168.1.0/24 and not port 443",
	"src host 192.168.1.7 or dst host 192.168.1.7", "mpls", "pppoes", "ip and len > 1500",
};

static void test_libpcap(void)
{
	if (!bpfvm_cbpf_have_libpcap()) {
		printf("libpcap differential skipped: libpcap is not installed\n");
		return;
	}
	void *h = dlopen("libpcap.so.0.8", RTLD_NOW);
	if (!h)
		h = dlopen("libpcap.so.1", RTLD_NOW);
	if (!h) {
		printf("libpcap differential skipped: %s\n", dlerror());
		return;
	}
	int (*offline_filter)(const struct lp_prog *, const struct lp_hdr *, const uint8_t *);
	void *sym = dlsym(h, "pcap_offline_filter");
	CHECK(sym != NULL);
	if (!sym)
		return;
	memcpy(&offline_filter, &sym, sizeof(sym));
	size_t sz = 0, cap = 1 << 22;
	uint8_t *file = malloc(cap);
	FILE *fp = fopen("examples/demo.pcap", "rb");
	if (!fp) {
		printf("libpcap differential skipped: examples/demo.pcap: %s\n", strerror(errno));
		free(file);
		return;
	}
	sz = fread(file, 1, cap, fp);
	fclose(fp);
	int compared = 0, differ = 0;
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		struct bpfvm_sock_filter *f;
		size_t n;
		char err[256];
		int ret = bpfvm_cbpf_from_expr(exprs[e], 1, 262144, &f, &n, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "'%s': %s\n", exprs[e], err);
			CHECK(0);
			continue;
		}
		struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, NULL);
		CHECK(p != NULL);
		struct lp_prog lpp = { (unsigned int)n, f };
		struct capture *capr = capture_open_mem(file, sz, "demo.pcap", err, sizeof(err));
		CHECK(capr != NULL);
		struct capture_pkt pkt;
		while (p && capr && capture_next(capr, &pkt) > 0) {
			struct lp_hdr lh = { { 0, 0 }, pkt.caplen, pkt.len };
			int want = offline_filter(&lpp, &lh, pkt.data) != 0;
			struct bpfvm_cbpf_ctx c;
			uint32_t r = 0;
			bpfvm_cbpf_ctx_init(&c, pkt.data, pkt.caplen, pkt.len);
			bpfvm_cbpf_run_ctx(p, &c, pkt.data, pkt.caplen, &r);
			compared++;
			if ((r != 0) != want && differ++ < 5)
				fprintf(stderr, "'%s', packet %llu: bpfvm %u, libpcap %d\n", exprs[e],
					(unsigned long long)pkt.index, r, want);
		}
		capture_close(capr);
		bpfvm_prog_free(p);
		free(f);
	}
	/* a bad expression carries libpcap's message */
	struct bpfvm_sock_filter *f;
	size_t n;
	char err[256] = "";
	CHECK_EQ(bpfvm_cbpf_from_expr("tcp port", 1, 262144, &f, &n, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "'tcp port': ");
	CHECK_EQ(differ, 0);
	printf("libpcap: %zu expressions, %d packet verdicts compared\n",
	       sizeof(exprs) / sizeof(exprs[0]), compared);
	free(file);
	dlclose(h);
}

/* without libpcap the expression form says so (in a child: the library is
 * looked for once per process) */
static void test_no_libpcap(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("BPFVM_LIBPCAP", "none", 1);
		struct bpfvm_sock_filter *f;
		size_t n;
		char err[256] = "";
		int r = bpfvm_cbpf_from_expr("tcp", 1, 65535, &f, &n, err, sizeof(err));
		_exit(r == -EOPNOTSUPP && strstr(err, "need libpcap") && !bpfvm_cbpf_have_libpcap() ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	test_no_libpcap(); /* first: the library is looked for once per process */
	test_checker();
	test_known_filter();
	test_parse();
	test_ancillary();
	test_random_vs_reference();
	test_kernel();
	test_libpcap();
	return TEST_DONE();
}
