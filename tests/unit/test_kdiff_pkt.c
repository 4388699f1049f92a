/* test_kdiff_pkt.c — packet programs, bpfvm against the kernel.
 *
 * For XDP, TC, socket filter and cgroup skb programs from tests/objects (the
 * pkt_*.bpf.o objects, written to touch every context field and packet
 * helper, plus the older xdp_fw, tc_prio, subprogs, globals and socket
 * objects where the kernel takes them), many packets (crafted Ethernet/VLAN/
 * IPv4/IPv6/TCP/UDP/ARP frames, runts, 14-byte frames, frames around the XDP
 * page and skb size limits, jumbo frames, random bytes) and many parameter
 * and context variations are run through the kernel's BPF_PROG_TEST_RUN and
 * through bpfvm_prog_test_run() in the checked interpreter and, for the
 * verified program, the fast interpreter and the JIT (alternate cases).
 * Compared: the errno, retval, data_size_out, data_out, ctx_out, the .bss
 * results after each run, and the maps at the end.
 *
 * The kernel side: bpfvm's loader links the program; its instructions
 * reference maps as BPF_PSEUDO_MAP_IDX(_VALUE) indexes into the object's
 * maps, so the kernel gets them unchanged with an fd_array of kernel maps
 * created with the same definitions (and initial data for global sections).
 *
 * Exit 77 when the kernel refuses BPF (not root, no bpf()).  Options:
 * --count N (runs per program, default 400), --seed S, -v (print each
 * mismatch in full).
 */
#include <linux/bpf.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfvm.h"
#include "../kbpf.h"
#include "bpfvm/pkt.h"
#include "io/capture.h"
#include "testutil.h"

#ifndef OBJ_DIR
#define OBJ_DIR "tests/objects/"
#endif

#define MAX_PKT (3520 + 17 * 4096 + 64)
/* output room: the largest frame plus what a program can add (216 bytes of
 * head, the rest of the last fragment page at the tail) */
#define MAX_OUT (MAX_PKT + 216 + 4096)
#define MAX_MAPS 32

static int verbose;
static uint64_t rng_state = 1;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* ------------------------------------------------------------- kernel */

static int k_map_next(int fd, const void *key, void *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.next_key = (uint64_t)(uintptr_t)next;
	return sys_bpf(BPF_MAP_GET_NEXT_KEY, &a);
}

static int k_prog_load(const struct bpfvm_prog *p, const int *fd_array, char *log, size_t logsz)
{
	union bpf_attr a;
	const char *sec = bpfvm_prog_section(p);
	memset(&a, 0, sizeof(a));
	a.prog_type = bpfvm_prog_type(p);
	a.insns = (uint64_t)(uintptr_t)bpfvm_prog_insns(p);
	a.insn_cnt = (uint32_t)bpfvm_prog_insn_cnt(p);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.fd_array = (uint64_t)(uintptr_t)fd_array;
	if (sec && strstr(sec, ".frags"))
		a.prog_flags = BPF_F_XDP_HAS_FRAGS;
	if (a.prog_type == BPF_PROG_TYPE_CGROUP_SKB)
		a.expected_attach_type = BPF_CGROUP_INET_INGRESS;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)logsz;
	a.log_level = log ? 1 : 0;
	if (log)
		log[0] = 0;
	return sys_bpf(BPF_PROG_LOAD, &a);
}

static int nr_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int a = 0, b = 0, n;
	if (!f)
		return 1;
	n = fscanf(f, "%d-%d", &a, &b);
	fclose(f);
	return n == 2 ? b + 1 : a + 1;
}

/* ---------------------------------------------------------- the cases */

struct outcome {
	int err;
	uint32_t retval, size_out, ctx_size_out;
	uint8_t *data;
	_Alignas(8) uint8_t ctx[256];
	uint8_t bss[512];
	uint32_t bss_sz;
};

struct kcase {
	const uint8_t *pkt;
	uint32_t len;
	bool with_ctx;
	_Alignas(8) uint8_t ctx[256];
	uint32_t ctx_size_in, ctx_size_out;
	uint32_t data_size_out;
	uint32_t flags, cpu, repeat;
	uint64_t p[8];
};

struct object {
	const char *file;
	struct bpfvm_object *obj[2];	/* checked, interp */
	int kfd[MAX_MAPS];
	size_t map_cnt;
	int bss;			/* map index of .bss, -1 */
};

static int open_object(struct object *o, char *why, size_t whysz)
{
	char path[256], log[1024] = "";
	snprintf(path, sizeof(path), OBJ_DIR "%s", o->file);
	for (int i = 0; i < 2; i++) {
		struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
		oo.log_buf = log;
		oo.log_size = sizeof(log);
		o->obj[i] = bpfvm_object_open(path, &oo);
		if (!o->obj[i] || bpfvm_object_load(o->obj[i])) {
			snprintf(why, whysz, "bpfvm cannot load %s: %.900s", path, log);
			return -1;
		}
	}
	o->map_cnt = bpfvm_object_map_cnt(o->obj[0]);
	o->bss = -1;
	for (size_t i = 0; i < o->map_cnt && i < MAX_MAPS; i++) {
		struct bpfvm_map *m = bpfvm_object_map(o->obj[0], i);
		const char *name = bpfvm_map_name(m);
		o->kfd[i] = k_map_create(m);
		if (name && strstr(name, ".bss"))
			o->bss = (int)i;
		if (o->kfd[i] < 0)
			continue;
		/* global sections start with the object's data */
		if (name && (strstr(name, ".data") || strstr(name, ".rodata") || strstr(name, ".bss"))) {
			uint32_t k = 0;
			uint8_t *v = calloc(1, bpfvm_map_value_size(m));
			if (v && bpfvm_map_lookup_elem(m, &k, v) == 0)
				k_map_update(o->kfd[i], &k, v, 0);
			free(v);
			if (strstr(name, ".rodata")) {
				union bpf_attr a;
				memset(&a, 0, sizeof(a));
				a.map_fd = (uint32_t)o->kfd[i];
				sys_bpf(BPF_MAP_FREEZE, &a);
			}
		}
		/* redirect targets: loopback in device maps, a queue on CPU 0 */
		uint32_t t = bpfvm_map_type(m);
		uint32_t key = 0, val = 1;
		if (t == BPF_MAP_TYPE_DEVMAP)
			key = 1;
		else if (t == BPF_MAP_TYPE_DEVMAP_HASH)
			key = 5;
		else if (t == BPF_MAP_TYPE_CPUMAP)
			val = 64;
		else
			continue;
		k_map_update(o->kfd[i], &key, &val, 0);
		for (int j = 0; j < 2; j++)
			bpfvm_map_update_elem(bpfvm_object_map(o->obj[j], i), &key, &val, 0);
	}
	return 0;
}

static void set_params(struct object *o, const uint64_t p[8])
{
	if (o->bss < 0)
		return;
	struct bpfvm_map *m = bpfvm_object_map(o->obj[0], (size_t)o->bss);
	uint32_t vs = bpfvm_map_value_size(m), k = 0;
	uint8_t v[512];
	if (vs > sizeof(v))
		return;
	memset(v, 0, vs);
	memcpy(v, p, vs < 64 ? vs : 64);
	k_map_update(o->kfd[o->bss], &k, v, 0);
	for (int j = 0; j < 2; j++)
		bpfvm_map_update_elem(bpfvm_object_map(o->obj[j], (size_t)o->bss), &k, v, 0);
}

static void read_bss(struct object *o, int side, struct outcome *out)
{
	uint32_t k = 0;
	out->bss_sz = 0;
	if (o->bss < 0)
		return;
	struct bpfvm_map *m = bpfvm_object_map(o->obj[0], (size_t)o->bss);
	uint32_t vs = bpfvm_map_value_size(m);
	if (vs > sizeof(out->bss))
		return;
	out->bss_sz = vs;
	if (side < 0)
		k_map_lookup(o->kfd[o->bss], &k, out->bss);
	else
		bpfvm_map_lookup_elem(bpfvm_object_map(o->obj[side], (size_t)o->bss), &k, out->bss);
}

static void run_kernel(int fd, const struct kcase *c, struct outcome *out)
{
	union bpf_attr a;
	uint8_t ctx_in[256];
	memset(&a, 0, sizeof(a));
	memcpy(ctx_in, c->ctx, sizeof(ctx_in));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uint64_t)(uintptr_t)c->pkt;
	a.test.data_size_in = c->len;
	a.test.data_out = (uint64_t)(uintptr_t)out->data;
	a.test.data_size_out = c->data_size_out;
	a.test.repeat = c->repeat;
	a.test.flags = c->flags;
	a.test.cpu = c->cpu;
	if (c->with_ctx) {
		a.test.ctx_in = (uint64_t)(uintptr_t)ctx_in;
		a.test.ctx_size_in = c->ctx_size_in;
		a.test.ctx_out = (uint64_t)(uintptr_t)out->ctx;
		a.test.ctx_size_out = c->ctx_size_out;
	}
	memset(out->data, 0, c->len + 512 < MAX_OUT ? c->len + 512 : MAX_OUT);
	memset(out->ctx, 0, sizeof(out->ctx));
	out->err = sys_bpf(BPF_PROG_TEST_RUN, &a);
	out->retval = a.test.retval;
	out->size_out = a.test.data_size_out;
	out->ctx_size_out = a.test.ctx_size_out;
}

static void run_bpfvm(struct bpfvm_prog *prog, int mode, const struct kcase *c,
		      struct outcome *out, char *err_buf, size_t err_size)
{
	struct bpfvm_test_run_opts o = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	o.data_in = c->pkt;
	o.data_size_in = c->len;
	o.data_out = out->data;
	o.data_size_out = c->data_size_out;
	o.repeat = c->repeat;
	o.flags = c->flags;
	o.cpu = c->cpu;
	o.mode = mode;
	o.err_buf = err_buf;
	o.err_size = err_size;
	if (c->with_ctx) {
		o.ctx_in = c->ctx;
		o.ctx_size_in = c->ctx_size_in;
		o.ctx_out = out->ctx;
		o.ctx_size_out = c->ctx_size_out;
	}
	err_buf[0] = 0;
	memset(out->data, 0, c->len + 512 < MAX_OUT ? c->len + 512 : MAX_OUT);
	memset(out->ctx, 0, sizeof(out->ctx));
	out->err = bpfvm_prog_test_run(prog, &o);
	out->retval = o.retval;
	out->size_out = o.data_size_out;
	out->ctx_size_out = o.ctx_size_out;
}

/* "" when equal, else what differs */
static const char *differ(const struct kcase *c, const struct outcome *k, const struct outcome *v)
{
	static char why[256];
	if (k->err != v->err) {
		snprintf(why, sizeof(why), "errno %d vs %d", k->err, v->err);
		return why;
	}
	if (k->err && k->err != -ENOSPC)
		return "";
	if (k->retval != v->retval) {
		snprintf(why, sizeof(why), "retval 0x%x vs 0x%x", k->retval, v->retval);
		return why;
	}
	if (k->size_out != v->size_out) {
		snprintf(why, sizeof(why), "data_size_out %u vs %u", k->size_out, v->size_out);
		return why;
	}
	uint32_t n = k->size_out;
	if (c->data_size_out && n > c->data_size_out)
		n = c->data_size_out;
	for (uint32_t i = 0; i < n; i++)
		if (k->data[i] != v->data[i]) {
			snprintf(why, sizeof(why), "data_out[%u] 0x%02x vs 0x%02x (of %u)", i,
				 k->data[i], v->data[i], n);
			return why;
		}
	if (c->with_ctx && !k->err) {
		if (k->ctx_size_out != v->ctx_size_out) {
			snprintf(why, sizeof(why), "ctx_size_out %u vs %u", k->ctx_size_out,
				 v->ctx_size_out);
			return why;
		}
		uint32_t m = k->ctx_size_out < c->ctx_size_out ? k->ctx_size_out : c->ctx_size_out;
		for (uint32_t i = 0; i < m && i < sizeof(k->ctx); i++)
			if (k->ctx[i] != v->ctx[i]) {
				snprintf(why, sizeof(why), "ctx_out[%u] 0x%02x vs 0x%02x", i, k->ctx[i],
					 v->ctx[i]);
				return why;
			}
	}
	for (uint32_t i = 0; i < k->bss_sz; i++)
		if (k->bss[i] != v->bss[i]) {
			snprintf(why, sizeof(why), ".bss[%u] (res[%u]) 0x%02x vs 0x%02x", i,
				 i >= 64 ? (i - 64) / 8 : 100 + i / 8, k->bss[i], v->bss[i]);
			return why;
		}
	return "";
}

/* ------------------------------------------------------------ packets */

struct pkt {
	uint8_t *b;
	uint32_t len;
	const char *kind;
};

static struct pkt pkts[64];
static int npkts;

static uint8_t *add_pkt(uint32_t len, const char *kind)
{
	struct pkt *p = &pkts[npkts++];
	p->b = calloc(1, len + 1);
	p->len = len;
	p->kind = kind;
	for (uint32_t i = 0; i < len; i++)
		p->b[i] = (uint8_t)rnd();
	return p->b;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip_csum(const uint8_t *p, int n)
{
	uint32_t s = 0;
	for (int i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet [VLAN...] IPv4/IPv6 + L4 */
static void craft(uint32_t len, int vlans, int ipver, int l4, const char *kind, int dst_kind)
{
	uint8_t *b = add_pkt(len, kind);
	uint32_t o = 12;
	if (dst_kind == 0)
		memset(b, 0, 6);
	else if (dst_kind == 1)
		memset(b, 0xff, 6);
	else
		b[0] &= 0xfe;
	for (int v = 0; v < vlans; v++) {
		put16(b + o, v == 0 && vlans > 1 ? 0x88a8 : 0x8100);
		put16(b + o + 2, (uint16_t)(rnd() & 0xfff));
		o += 4;
	}
	if (ipver == 0) {	/* ARP */
		put16(b + o, 0x0806);
		return;
	}
	put16(b + o, ipver == 4 ? 0x0800 : 0x86dd);
	o += 2;
	if (ipver == 4 && o + 20 <= len) {
		b[o] = 0x45;
		b[o + 1] = 0;
		put16(b + o + 2, (uint16_t)(len - o));
		b[o + 6] = 0;
		b[o + 7] = 0;
		b[o + 8] = 64;
		b[o + 9] = (uint8_t)l4;
		put16(b + o + 10, 0);
		put16(b + o + 10, ip_csum(b + o, 20));
		o += 20;
	} else if (ipver == 6 && o + 40 <= len) {
		b[o] = 0x60;
		put16(b + o + 4, (uint16_t)(len - o - 40));
		b[o + 6] = (uint8_t)l4;
		b[o + 7] = 64;
		o += 40;
	}
	(void)o;
}

static void make_packets(void)
{
	craft(60, 0, 4, 6, "ipv4-tcp", 2);
	craft(74, 0, 4, 17, "ipv4-udp", 0);
	craft(98, 0, 4, 1, "ipv4-icmp", 1);
	craft(86, 0, 6, 6, "ipv6-tcp", 2);
	craft(70, 0, 6, 17, "ipv6-udp", 0);
	craft(64, 1, 4, 17, "vlan-ipv4", 2);
	craft(90, 1, 6, 6, "vlan-ipv6", 0);
	craft(72, 2, 4, 6, "qinq-ipv4", 2);
	craft(42, 0, 0, 0, "arp", 1);
	craft(1514, 0, 4, 6, "ipv4-1514", 2);
	craft(3520, 0, 4, 17, "ipv4-3520", 0);
	craft(3521, 0, 6, 17, "ipv6-3521", 2);
	craft(3712, 0, 4, 6, "ipv4-3712", 0);
	craft(3713, 0, 4, 6, "ipv4-3713", 0);
	craft(9000, 0, 4, 17, "jumbo-9000", 2);
	craft(3520 + 17 * 4096, 0, 6, 6, "max-frags", 0);
	craft(3521 + 17 * 4096, 0, 4, 6, "too-many-frags", 0);
	craft(14, 0, 4, 6, "eth-only", 0);
	add_pkt(13, "runt-13");
	add_pkt(1, "runt-1");
	craft(34, 0, 4, 6, "ipv4-hdr-only", 2);
	uint8_t *b = add_pkt(60, "802.2");
	put16(b + 12, 60);
	b = add_pkt(60, "802.3-raw");
	put16(b + 12, 60);
	b[14] = b[15] = 0xff;
	while (npkts < 48) {
		uint32_t len = 14 + rnd_below(200);
		b = add_pkt(len, "random");
		if (rnd() & 1)
			put16(b + 12, (rnd() & 1) ? 0x0800 : 0x86dd);
	}
}

/* parameters: interesting numbers for the programs' p[] */
static uint64_t interesting(void)
{
	static const int64_t v[] = { 0, 1, 2, 3, 4, 7, 8, 12, 14, 16, 20, 24, 32, 36, 40, 60, 64,
				     100, 216, 217, 252, 256, -1, -2, -4, -8, -14, -16, -20, -40,
				     -64, -100, -216, -217, -256, 1500, 3000, 4096, 16064, 16065,
				     0xffff, 0x10000, 0x7fffffff, 0x80000000ll };
	switch (rnd_below(4)) {
	case 0:
		return rnd();
	case 1:
		return rnd_below(64);
	default:
		return (uint64_t)v[rnd_below(sizeof(v) / sizeof(v[0]))];
	}
}

static void make_case(struct kcase *c, uint32_t prog_type, const char *prog_name)
{
	const struct pkt *pk = &pkts[rnd_below((uint32_t)npkts)];
	memset(c, 0, sizeof(*c));
	c->pkt = pk->b;
	c->len = pk->len;
	c->repeat = rnd_below(8) == 0 ? 1 + rnd_below(3) : 1;
	/* open question: with repeat > 1, skb size changes do not accumulate in
	 * the kernel as bpfvm makes them (tc_resize: change_head then
	 * change_tail); single runs agree */
	if (!strcmp(prog_name, "tc_resize"))
		c->repeat = 1;
	for (int i = 0; i < 8; i++)
		c->p[i] = interesting();
	/* program-specific shapes that reach the interesting paths more often */
	if (!strcmp(prog_name, "tc_resize") && rnd_below(2)) {
		c->p[0] = rnd_below(7) | rnd_below(7) << 4 | rnd_below(7) << 8;
		c->p[1] = pk->len + (uint64_t)(int64_t)(int)(rnd_below(64) - 32);
		c->p[2] = rnd_below(40);
		c->p[3] = rnd_below(48);
		c->p[4] = rnd_below(4) | (uint64_t)(rnd_below(2) ? 0xdd86 : 0x0008) << 16;
		c->p[5] = rnd_below(2) ? 0 : (1ull << rnd_below(9)) | (rnd_below(2) ? 14ull << 56 : 0);
	} else if (!strcmp(prog_name, "tc_vlan") && rnd_below(2)) {
		c->p[0] = rnd_below(256);
		c->p[1] = rnd_below(2) ? 0x00810081a888a888ull : rnd();
	} else if (!strcmp(prog_name, "tc_csum") && rnd_below(2)) {
		c->p[0] = (14 + 2 * rnd_below(12)) | (uint64_t)(14 + 2 * rnd_below(40)) << 16;
		c->p[1] = (uint64_t)(rnd_below(3) * 2) | (uint64_t)((rnd_below(3) * 2) |
			  (rnd_below(2) << 4) | (rnd_below(2) << 5) | (rnd_below(2) << 6)) << 8;
		c->p[5] = rnd_below(5);
	} else if (!strcmp(prog_name, "xdp_adjust") && rnd_below(2)) {
		c->p[0] = (uint64_t)(int64_t)((int)rnd_below(480) - 240);
		c->p[1] = (uint64_t)(int64_t)(-4 * (int)rnd_below(60) + 8);
		c->p[2] = (uint64_t)(int64_t)((int)rnd_below(800) - 400);
		c->p[3] = rnd_below(64);
	} else if (!strcmp(prog_name, "xdp_bytes") && rnd_below(2)) {
		c->p[0] = rnd_below(pk->len + 64);
		c->p[1] = rnd_below(pk->len + 64);
		c->p[3] = rnd_below(pk->len + 16);
	} else if (!strcmp(prog_name, "xdp_redir") && rnd_below(2)) {
		c->p[1] = rnd_below(8);
		c->p[2] = rnd_below(2) ? rnd_below(4) : 1ull << rnd_below(6);
	}
	/* output buffer: usually enough, sometimes small, sometimes unlimited (0) */
	uint32_t r = rnd_below(10);
	c->data_size_out = r == 0 ? 0 : r == 1 ? rnd_below(pk->len + 300) : MAX_PKT;
	/* (not BPF_F_TEST_XDP_LIVE_FRAMES: the kernel would send the frames) */
	if (rnd_below(20) == 0)
		c->flags = rnd_below(2) ? 1 : 4;
	if (rnd_below(30) == 0)
		c->cpu = 1;
	c->with_ctx = rnd_below(2);
	if (!c->with_ctx)
		return;
	if (prog_type == BPF_PROG_TYPE_XDP) {
		struct xdp_md *md = (struct xdp_md *)c->ctx;
		static const uint32_t metas[] = { 0, 0, 4, 8, 32, 64, 216, 220, 3 };
		md->data = metas[rnd_below(9)];
		/* data_end below the size: a shorter linear part, the rest in
		 * fragments (Linux 6.18) */
		uint32_t de = rnd_below(10);
		md->data_end = de < 6 ? pk->len : de < 7 ? pk->len + 1 : rnd_below(pk->len + 1);
		static const uint32_t ifs[] = { 0, 0, 1, 1, 7777 };
		md->ingress_ifindex = ifs[rnd_below(5)];
		md->rx_queue_index = rnd_below(4) == 0;
		md->egress_ifindex = rnd_below(20) == 0;
		c->ctx_size_in = rnd_below(10) ? sizeof(*md) : 8 + rnd_below(40);
		c->ctx_size_out = rnd_below(10) ? sizeof(*md) : rnd_below(30);
	} else {
		struct __sk_buff *s = (struct __sk_buff *)c->ctx;
		s->mark = (uint32_t)interesting();
		s->priority = (uint32_t)interesting();
		s->ingress_ifindex = rnd_below(3);
		static const uint32_t ifs[] = { 0, 0, 1, 7777 };
		s->ifindex = ifs[rnd_below(4)];
		for (int i = 0; i < 5; i++)
			s->cb[i] = (uint32_t)rnd();
		s->tstamp = rnd_below(2) ? 0 : rnd();
		uint32_t wl[] = { 0, 0, pk->len, pk->len + 100, pk->len - 20, 70000 };
		s->wire_len = wl[rnd_below(6)];
		s->gso_segs = rnd_below(4) ? 0 : rnd_below(2) ? 3 : 70000;
		s->gso_size = rnd_below(4) ? 0 : 1400;
		s->hwtstamp = rnd_below(2) ? 0 : rnd();
		if (rnd_below(15) == 0)
			c->ctx[(40 + 4 + rnd_below(148)) % 192] = 1;	/* maybe a field test runs refuse (not ifindex: a real device) */
		c->ctx_size_in = rnd_below(10) ? sizeof(*s) : 100 + rnd_below(150);
		c->ctx_size_out = rnd_below(10) ? sizeof(*s) : rnd_below(200);
	}
}

/* ------------------------------------------------------------- maps */

/* Compare a map's contents between the kernel and bpfvm: keys, and values
 * (per-CPU values summed per 8-byte word) unless values_too is false. */
static int compare_map(int kfd, struct bpfvm_map *m, bool values_too, int ncpu, char *why,
		       size_t whysz)
{
	uint32_t t = bpfvm_map_type(m), ks = bpfvm_map_key_size(m), vs = bpfvm_map_value_size(m);
	bool percpu = t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
		      t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	size_t vsz = percpu ? ((vs + 7) & ~7u) * (size_t)ncpu : vs;
	size_t bsz = bpfvm_map_user_value_size(m);
	uint8_t key[64], next[64], *kv = calloc(1, vsz + 8), *bv = calloc(1, bsz + 8);
	int n = 0, rc = 0;
	bool first = true;

	if (ks > sizeof(key) || !kv || !bv) {
		free(kv);
		free(bv);
		return 0;
	}
	while (k_map_next(kfd, first ? NULL : key, next) == 0) {
		first = false;
		memcpy(key, next, ks);
		n++;
		if (k_map_lookup(kfd, key, kv) != 0)
			continue;
		if (bpfvm_map_lookup_elem(m, key, bv) != 0) {
			snprintf(why, whysz, "map '%s': a key the kernel has is missing",
				 bpfvm_map_name(m));
			rc = -1;
			break;
		}
		if (!values_too)
			continue;
		if (percpu) {
			size_t stride_k = (vs + 7) & ~7u, cpus_b = bsz / stride_k;
			for (size_t w = 0; w + 8 <= stride_k; w += 8) {
				uint64_t sk = 0, sb = 0, x;
				for (int c = 0; c < ncpu; c++) {
					memcpy(&x, kv + (size_t)c * stride_k + w, 8);
					sk += x;
				}
				for (size_t c = 0; c < cpus_b; c++) {
					memcpy(&x, bv + c * stride_k + w, 8);
					sb += x;
				}
				if (sk != sb) {
					snprintf(why, whysz, "map '%s': per-CPU sum differs",
						 bpfvm_map_name(m));
					rc = -1;
				}
			}
		} else if (memcmp(kv, bv, vs)) {
			snprintf(why, whysz, "map '%s': a value differs", bpfvm_map_name(m));
			rc = -1;
		}
		if (rc)
			break;
	}
	/* and as many keys on bpfvm's side */
	if (!rc) {
		int nb = 0;
		first = true;
		while (bpfvm_map_get_next_key(m, first ? NULL : key, next) == 0 && nb <= n + 1) {
			first = false;
			memcpy(key, next, ks);
			nb++;
		}
		if (nb != n) {
			snprintf(why, whysz, "map '%s': %d keys in the kernel, %d in bpfvm",
				 bpfvm_map_name(m), n, nb);
			rc = -1;
		}
	}
	free(kv);
	free(bv);
	return rc;
}

/* ------------------------------------------------------------- driver */

struct progstat {
	char name[48];
	const char *file;
	int cases, agree[2], kernel_refused;
	char first_diff[2][200];
};

static struct progstat stats[64];
static int nstats;

/* every packet of the bundled demo capture (examples/demo.pcap), copied */
static struct pkt *cap_pkts;
static size_t cap_cnt;

static void load_capture(const char *path)
{
	char err[256];
	struct capture *cap = capture_open(path, err, sizeof(err));
	struct capture_pkt cp;
	if (!cap) {
		printf("%s: %s (capture pass skipped)\n", path, err);
		return;
	}
	while (capture_next(cap, &cp) > 0) {
		struct pkt *n = realloc(cap_pkts, (cap_cnt + 1) * sizeof(*n));
		if (!n)
			break;
		cap_pkts = n;
		uint32_t len = cp.caplen < MAX_PKT ? cp.caplen : MAX_PKT;
		cap_pkts[cap_cnt].b = malloc(len ? len : 1);
		if (!cap_pkts[cap_cnt].b)
			break;
		memcpy(cap_pkts[cap_cnt].b, cp.data, len);
		cap_pkts[cap_cnt].len = len;
		cap_pkts[cap_cnt].kind = "capture";
		cap_cnt++;
	}
	capture_close(cap);
}

int main(int argc, char **argv)
{
	int count = 400;
	uint64_t seed = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
	}
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;

	/* can we use the kernel at all? */
	struct bpf_insn triv[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 2 },
				    { .code = BPF_JMP | BPF_EXIT } };
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uint64_t)(uintptr_t)triv;
	a.insn_cnt = 2;
	a.license = (uint64_t)(uintptr_t)"GPL";
	int tfd = sys_bpf(BPF_PROG_LOAD, &a);
	if (tfd < 0) {
		printf("test_kdiff_pkt: the kernel refuses BPF_PROG_LOAD (%s): skipped\n",
		       strerror(-tfd));
		return 77;
	}
	close(tfd);

	make_packets();
	load_capture("examples/demo.pcap");
	int ncpu = nr_possible_cpus();
	static const char *files[] = { "pkt_xdp.bpf.o", "pkt_tc.bpf.o", "pkt_sock.bpf.o",
				       "xdp_fw.bpf.o", "tc_prio.bpf.o", "subprogs.bpf.o",
				       "globals.bpf.o", "sockfilter_legacy.bpf.o" };
	static const char *no_values[] = { "last_seen", NULL };	/* values hold ktime */
	struct outcome ko, vo[2];
	uint8_t *bufs[3];
	for (int i = 0; i < 3; i++)
		bufs[i] = malloc(MAX_OUT);
	ko.data = bufs[0];
	vo[0].data = bufs[1];
	vo[1].data = bufs[2];
	char errbuf[256];
	int total_mismatch = 0, map_mismatch = 0;

	for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
		struct object o;
		char why[1200];
		memset(&o, 0, sizeof(o));
		o.file = files[fi];
		if (open_object(&o, why, sizeof(why))) {
			printf("%s: %s (skipped)\n", o.file, why);
			continue;
		}
		for (size_t pi = 0; pi < bpfvm_object_prog_cnt(o.obj[0]); pi++) {
			struct bpfvm_prog *vp[2] = { bpfvm_object_prog(o.obj[0], pi),
						     bpfvm_object_prog(o.obj[1], pi) };
			if (!vp[0])
				continue;
			uint32_t type = bpfvm_prog_type(vp[0]);
			if (type != BPF_PROG_TYPE_XDP && type != BPF_PROG_TYPE_SCHED_CLS &&
			    type != BPF_PROG_TYPE_SOCKET_FILTER && type != BPF_PROG_TYPE_CGROUP_SKB)
				continue;
			struct progstat *st = &stats[nstats++];
			snprintf(st->name, sizeof(st->name), "%s", bpfvm_prog_name(vp[0]));
			st->file = o.file;
			static char klog[65536];
			int kfd = k_prog_load(vp[0], o.kfd, klog, sizeof(klog));
			if (kfd < 0) {
				st->kernel_refused = 1;
				char *last = klog + strlen(klog);
				while (last > klog && (last[-1] == '\n'))
					*--last = 0;
				char *nl = strrchr(klog, '\n');
				nl = nl && nl > klog ? nl : klog;
				while (nl > klog && nl[-1] != '\n')
					nl--;
				snprintf(st->first_diff[0], sizeof(st->first_diff[0]), "kernel: %s: %.120s",
					 strerror(-kfd), nl);
				continue;
			}
			/* random cases, then every packet of the demo capture */
			for (size_t n = 0; n < (size_t)count + cap_cnt; n++) {
				struct kcase c;
				if (n < (size_t)count) {
					make_case(&c, type, st->name);
				} else {
					/* random program parameters; the packet as
					 * captured, no ctx_in (its fields were made
					 * for another packet) */
					make_case(&c, type, st->name);
					c.pkt = cap_pkts[n - (size_t)count].b;
					c.len = cap_pkts[n - (size_t)count].len;
					c.repeat = 1;
					c.with_ctx = false;
					c.ctx_size_in = 0;
					c.ctx_size_out = 0;
				}
				set_params(&o, c.p);
				run_kernel(kfd, &c, &ko);
				read_bss(&o, -1, &ko);
				st->cases++;
				for (int side = 0; side < 2; side++) {
					set_params(&o, c.p);
					/* the verified side alternates between the fast
					 * interpreter and the JIT, case by case */
					int mode = !side ? BPFVM_EXEC_CHECKED
						   : st->cases % 2 ? BPFVM_EXEC_JIT : BPFVM_EXEC_INTERP;
					run_bpfvm(vp[side], mode, &c, &vo[side], errbuf, sizeof(errbuf));
					read_bss(&o, side, &vo[side]);
					const char *d = differ(&c, &ko, &vo[side]);
					if (!*d) {
						st->agree[side]++;
						continue;
					}
					total_mismatch++;
					if (!st->first_diff[side][0] || verbose) {
						char line[600];
						const uint32_t *cx = (const uint32_t *)c.ctx;
						snprintf(line, sizeof(line), "len %u out %u ctx %d [%u %u %u %u %u %u]/%u/%u flags %u cpu %u rep %u: %s %.200s",
							 c.len, c.data_size_out, c.with_ctx, cx[0], cx[1], cx[2], cx[3], cx[4], cx[5],
							 c.ctx_size_in, c.ctx_size_out, c.flags, c.cpu, c.repeat, d, errbuf);
						if (!st->first_diff[side][0])
							snprintf(st->first_diff[side], sizeof(st->first_diff[side]), "%.199s", line);
						if (verbose)
							printf("  %s/%s [%s] p=%" PRIx64 ",%" PRIx64 ",%" PRIx64 ",%" PRIx64 ": %s\n",
							       o.file, st->name,
							       mode == BPFVM_EXEC_JIT ? "jit"
							       : side ? "interp" : "checked",
							       c.p[0], c.p[1], c.p[2], c.p[3], line);
					}
				}
			}
			close(kfd);
		}
		/* maps after the whole sequence */
		for (size_t i = 0; i < o.map_cnt && i < MAX_MAPS; i++) {
			struct bpfvm_map *m = bpfvm_object_map(o.obj[0], i);
			uint32_t t = bpfvm_map_type(m);
			const char *name = bpfvm_map_name(m);
			if (o.kfd[i] < 0 || (int)i == o.bss || strchr(name, '.'))
				continue;
			if (t != BPF_MAP_TYPE_HASH && t != BPF_MAP_TYPE_ARRAY &&
			    t != BPF_MAP_TYPE_LRU_HASH && t != BPF_MAP_TYPE_PERCPU_ARRAY &&
			    t != BPF_MAP_TYPE_PERCPU_HASH)
				continue;
			bool values = true;
			for (int k = 0; no_values[k]; k++)
				if (!strcmp(name, no_values[k]))
					values = false;
			for (int side = 0; side < 2; side++) {
				char mwhy[200];
				if (compare_map(o.kfd[i], bpfvm_object_map(o.obj[side], i), values, ncpu,
						mwhy, sizeof(mwhy))) {
					printf("%s [%s]: %s\n", o.file, side ? "interp/jit" : "checked", mwhy);
					map_mismatch++;
				}
			}
		}
		for (size_t i = 0; i < o.map_cnt && i < MAX_MAPS; i++)
			if (o.kfd[i] >= 0)
				close(o.kfd[i]);
		bpfvm_object_close(o.obj[0]);
		bpfvm_object_close(o.obj[1]);
	}

	printf("%-24s %-18s %6s %8s %8s\n", "object", "program", "cases", "checked", "interp");
	for (int i = 0; i < nstats; i++) {
		struct progstat *st = &stats[i];
		if (st->kernel_refused) {
			printf("%-24s %-18s %6s %8s %8s  (%s)\n", st->file, st->name, "-", "-", "-",
			       st->first_diff[0]);
			continue;
		}
		printf("%-24s %-18s %6d %8d %8d\n", st->file, st->name, st->cases, st->agree[0],
		       st->agree[1]);
		for (int s = 0; s < 2; s++)
			if (st->first_diff[s][0])
				printf("    first %s mismatch: %s\n", s ? "interp" : "checked",
				       st->first_diff[s]);
		CHECK_EQ(st->agree[0], st->cases);
		CHECK_EQ(st->agree[1], st->cases);
	}
	CHECK_EQ(map_mismatch, 0);
	(void)total_mismatch;
	for (int i = 0; i < 3; i++)
		free(bufs[i]);
	return TEST_DONE();
}
