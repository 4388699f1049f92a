/* test_map_kdiff.c — bpfvm maps against this machine's kernel.
 *
 * The same creation attributes and the same random operation sequences go to
 * bpf(2) and to the bpfvm map API; every return code and every value read back
 * must agree.  Where the two legitimately differ the comparison is narrowed,
 * and says so: hash maps iterate in hash order (so key *sets* are compared,
 * not sequences), bloom filters may answer "maybe" differently for values never
 * pushed, and the kernel's ENOTSUPP (524, not a userspace errno) is bpfvm's
 * EOPNOTSUPP.  Skips (exit 77) when bpf(2) is not permitted here.
 *
 * Only the public bpfvm/map.h is included: bpfvm/insn.h would clash with
 * <linux/bpf.h>.  KDIFF_OPS (environment) sets the operations per map
 * (default 3000); KDIFF_SEED the random seed.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfvm/map.h"
#include "testutil.h"

int bpfvm_set_nr_cpus(int n);	/* from bpfvm.h, which we cannot include here */

#define ENOTSUPP_KERNEL 524

static int ncpu;
static unsigned int seed = 1;
static int ops_per_map = 3000;
static int mismatches;
static const char *cur_cfg = "";

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)rand_r(&seed) % n : 0;
}

/* ------------------------------------------------------------ kernel side -- */

static int sys_bpf(int cmd, union bpf_attr *a)
{
	int r = (int)syscall(__NR_bpf, cmd, a, sizeof(*a));

	return r < 0 ? -errno : r;
}

static int norm(int err)
{
	return err == -ENOTSUPP_KERNEL ? -EOPNOTSUPP : err;
}

static int k_create(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		    uint64_t extra, int inner_fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	a.inner_map_fd = (uint32_t)inner_fd;
	return norm(sys_bpf(BPF_MAP_CREATE, &a));
}

static int k_elem(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = flags;
	return norm(sys_bpf(cmd, &a));
}

static int k_next(int fd, const void *key, void *next)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.next_key = (uint64_t)(uintptr_t)next;
	return norm(sys_bpf(BPF_MAP_GET_NEXT_KEY, &a));
}

static int k_batch(int fd, void *in, void *out, void *keys, void *vals, uint32_t *count)
{
	union bpf_attr a;
	int r;

	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.in_batch = (uint64_t)(uintptr_t)in;
	a.batch.out_batch = (uint64_t)(uintptr_t)out;
	a.batch.keys = (uint64_t)(uintptr_t)keys;
	a.batch.values = (uint64_t)(uintptr_t)vals;
	a.batch.count = *count;
	r = norm(sys_bpf(BPF_MAP_LOOKUP_BATCH, &a));
	*count = a.batch.count;
	return r;
}

static int k_freeze(int fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	return norm(sys_bpf(BPF_MAP_FREEZE, &a));
}

/* --------------------------------------------------------------- pairs -- */

struct pair {
	int kfd;
	struct bpfvm_map *m;
	uint32_t type, ks, vs, max;
	size_t uvs;		/* userspace value size */
};

#define SAME_RC(op, k, u)                                                              \
	do {                                                                           \
		int k_ = (k), u_ = (u);                                                \
		test_checks++;                                                         \
		if (k_ != u_) {                                                        \
			test_failed++;                                                 \
			if (mismatches++ < 30)                                         \
				fprintf(stderr, "%s: %s: kernel %d, bpfvm %d (line %d)\n", \
					cur_cfg, op, k_, u_, __LINE__);                \
		}                                                                      \
	} while (0)

#define SAME_MEM(op, a, b, n)                                                          \
	do {                                                                           \
		test_checks++;                                                         \
		if (memcmp((a), (b), (n)) != 0) {                                      \
			test_failed++;                                                 \
			if (mismatches++ < 30)                                         \
				fprintf(stderr, "%s: %s: values differ (line %d)\n", cur_cfg, \
					op, __LINE__);                                 \
		}                                                                      \
	} while (0)

static int pair_create(struct pair *p, uint32_t type, uint32_t ks, uint32_t vs, uint32_t max,
		       uint32_t flags, uint64_t extra)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = flags, .map_extra = extra };
	int kr;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->ks = ks;
	p->vs = vs;
	p->max = max;
	kr = k_create(type, ks, vs, max, flags, extra, 0);
	p->m = bpfvm_map_create(type, "kdiff", ks, vs, max, &o);
	SAME_RC("create", kr < 0 ? kr : 0, p->m ? 0 : -errno);
	p->kfd = kr;
	if (kr < 0 || !p->m) {
		if (kr >= 0)
			close(kr);
		bpfvm_map_free(p->m);
		p->m = NULL;
		return -1;
	}
	p->uvs = bpfvm_map_user_value_size(p->m);
	return 0;
}

static void pair_free(struct pair *p)
{
	if (p->kfd >= 0)
		close(p->kfd);
	bpfvm_map_free(p->m);
}

static const uint64_t flag_choices[] = { 0, 0, 0, BPF_NOEXIST, BPF_NOEXIST, BPF_EXIST,
					 BPF_EXIST, 3, 4, 5, 8 };

static uint64_t rnd_flags(void)
{
	return flag_choices[rnd(sizeof(flag_choices) / sizeof(flag_choices[0]))];
}

static void rnd_bytes(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)rand_r(&seed);
}

/* Keys from a small space so that hits, misses and full maps all happen. */
static void rnd_key(const struct pair *p, unsigned char *key, uint32_t space)
{
	uint32_t v = rnd(space);

	memset(key, 0, p->ks);
	memcpy(key, &v, p->ks < 4 ? p->ks : 4);
	if (p->ks > 4 && rnd(4) == 0)
		key[p->ks - 1] = (unsigned char)rnd(3);
}

static int cmp_keys(const void *a, const void *b, void *ksz)
{
	return memcmp(a, b, *(uint32_t *)ksz);
}

/* Collect every key by get_next_key from both sides; compare as sets (hash)
 * or as sequences (everything else), and compare the values. */
static void compare_contents(struct pair *p, int ordered)
{
	size_t cap = 4096;
	unsigned char *kk = calloc(cap, p->ks), *uk = calloc(cap, p->ks);
	unsigned char *kv = malloc(p->uvs), *uv = malloc(p->uvs), *prev = malloc(p->ks);
	size_t kn = 0, un = 0;
	int err;

	for (err = k_next(p->kfd, NULL, kk); err == 0 && kn + 1 < cap;
	     err = k_next(p->kfd, prev, kk + kn * p->ks)) {
		memcpy(prev, kk + kn * p->ks, p->ks);
		kn++;
	}
	for (err = bpfvm_map_get_next_key(p->m, NULL, uk); err == 0 && un + 1 < cap;
	     err = bpfvm_map_get_next_key(p->m, prev, uk + un * p->ks)) {
		memcpy(prev, uk + un * p->ks, p->ks);
		un++;
	}
	SAME_RC("iteration count", (int)kn, (int)un);
	if (kn == un) {
		if (!ordered) {
			qsort_r(kk, kn, p->ks, cmp_keys, &p->ks);
			qsort_r(uk, un, p->ks, cmp_keys, &p->ks);
		}
		SAME_MEM(ordered ? "iteration order" : "key set", kk, uk, kn * p->ks);
		for (size_t i = 0; i < kn; i++) {
			memset(kv, 0, p->uvs);
			memset(uv, 0, p->uvs);
			SAME_RC("lookup (iterated)", k_elem(BPF_MAP_LOOKUP_ELEM, p->kfd, kk + i * p->ks, kv, 0),
				bpfvm_map_lookup_elem(p->m, kk + i * p->ks, uv));
			SAME_MEM("value (iterated)", kv, uv, p->uvs);
		}
	}
	free(kk);
	free(uk);
	free(kv);
	free(uv);
	free(prev);
}

/* Random update/lookup/delete/get_next_key/lookup_and_delete on a keyed map. */
static void run_keyed(struct pair *p, uint32_t space, int ordered, int with_lnd)
{
	unsigned char *key = malloc(p->ks + 8), *nk = malloc(p->ks + 8), *nu = malloc(p->ks + 8);
	unsigned char *val = malloc(p->uvs), *kv = malloc(p->uvs), *uv = malloc(p->uvs);

	for (int i = 0; i < ops_per_map; i++) {
		int op = (int)rnd(100);
		uint64_t flags;

		rnd_key(p, key, space);
		if (op < 40) {
			rnd_bytes(val, p->uvs);
			flags = rnd_flags();
			SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, p->kfd, key, val, flags),
				bpfvm_map_update_elem(p->m, key, val, flags));
		} else if (op < 65) {
			int kr, ur;

			memset(kv, 0, p->uvs);
			memset(uv, 0, p->uvs);
			kr = k_elem(BPF_MAP_LOOKUP_ELEM, p->kfd, key, kv, 0);
			ur = bpfvm_map_lookup_elem(p->m, key, uv);
			SAME_RC("lookup", kr, ur);
			if (kr == 0 && ur == 0)
				SAME_MEM("lookup value", kv, uv, p->uvs);
		} else if (op < 80) {
			SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p->kfd, key, NULL, 0),
				bpfvm_map_delete_elem(p->m, key));
		} else if (op < 88) {
			int use_null = rnd(3) == 0, kr, ur;

			memset(nk, 0, p->ks);
			memset(nu, 0, p->ks);
			kr = k_next(p->kfd, use_null ? NULL : key, nk);
			ur = bpfvm_map_get_next_key(p->m, use_null ? NULL : key, nu);
			if (ordered || use_null) {
				SAME_RC("get_next_key", kr, ur);
				if (ordered && kr == 0 && ur == 0)
					SAME_MEM("next key", nk, nu, p->ks);
			}
		} else if (op < 93 && with_lnd) {
			int kr, ur;

			flags = rnd(5) == 0 ? BPF_F_LOCK : 0;
			memset(kv, 0, p->uvs);
			memset(uv, 0, p->uvs);
			kr = k_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, p->kfd, key, kv, flags);
			ur = bpfvm_map_lookup_and_delete_elem_flags(p->m, key, uv, flags);
			SAME_RC("lookup_and_delete", kr, ur);
			if (kr == 0 && ur == 0)
				SAME_MEM("lookup_and_delete value", kv, uv, p->uvs);
		} else if (op < 97) {
			flags = rnd(2) ? BPF_F_LOCK : 2;
			SAME_RC("lookup with flags", k_elem(BPF_MAP_LOOKUP_ELEM, p->kfd, key, kv, flags),
				bpfvm_map_lookup_elem_flags(p->m, key, uv, flags));
		} else {
			compare_contents(p, ordered);
		}
	}
	compare_contents(p, ordered);
	free(key);
	free(nk);
	free(nu);
	free(val);
	free(kv);
	free(uv);
}

static void check_keyed(const char *name, uint32_t type, uint32_t ks, uint32_t vs, uint32_t max,
			uint32_t flags, uint32_t space, int ordered, int with_lnd)
{
	struct pair p;

	cur_cfg = name;
	if (pair_create(&p, type, ks, vs, max, flags, 0))
		return;
	run_keyed(&p, space, ordered, with_lnd);
	pair_free(&p);
}

/* Arrays: batch lookups compared exactly too. */
static void check_array_batch(uint32_t type)
{
	struct pair p;
	uint32_t keys_k[32], keys_u[32], in = 0, out_k = 0, out_u = 0;
	unsigned char vals_k[32 * 64], vals_u[32 * 64], val[64];

	cur_cfg = type == BPF_MAP_TYPE_ARRAY ? "array batch" : "percpu_array batch";
	if (pair_create(&p, type, 4, 12, 20, 0, 0))
		return;
	for (uint32_t k = 0; k < 20; k++) {
		rnd_bytes(val, sizeof(val));
		k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &k, val, 0);
		bpfvm_map_update_elem(p.m, &k, val, 0);
	}
	for (int i = 0; i < 200; i++) {
		uint32_t ck = rnd(24), cu;
		int use_in = rnd(3) != 0, kr, ur;

		in = rnd(22);
		cu = ck;
		memset(vals_k, 0, sizeof(vals_k));
		memset(vals_u, 0, sizeof(vals_u));
		kr = k_batch(p.kfd, use_in ? &in : NULL, &out_k, keys_k, vals_k, &ck);
		ur = bpfvm_map_lookup_batch(p.m, use_in ? &in : NULL, &out_u, keys_u, vals_u, &cu, NULL);
		SAME_RC("batch", kr, ur);
		SAME_RC("batch count", (int)ck, (int)cu);
		if (ck == cu && ck <= 24) {
			SAME_MEM("batch keys", keys_k, keys_u, ck * 4);
			SAME_MEM("batch values", vals_k, vals_u, ck * p.uvs);
			if (ck)
				SAME_RC("batch token", (int)out_k, (int)out_u);
		}
	}
	pair_free(&p);
}

/* LPM: structured keys, exact order and longest-match results. */
static void check_lpm(void)
{
	static const unsigned char bytes[] = { 0x00, 0x80, 0xc0, 0xc8, 0xff, 0x0a };
	struct pair p;
	struct { uint32_t plen; unsigned char d[4]; } key, nk, nu;
	uint32_t val, kv, uv;

	cur_cfg = "lpm_trie";
	if (pair_create(&p, BPF_MAP_TYPE_LPM_TRIE, 8, 4, 12, BPF_F_NO_PREALLOC, 0))
		return;
	for (int i = 0; i < ops_per_map; i++) {
		int op = (int)rnd(100), kr, ur, use_null;
		uint64_t flags;

		key.plen = rnd(34);	/* 33 is invalid */
		for (int j = 0; j < 4; j++)
			key.d[j] = bytes[rnd(j < 2 ? 3 : sizeof(bytes))];
		if (op < 40) {
			val = (uint32_t)rand_r(&seed);
			flags = rnd_flags();
			SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &key, &val, flags),
				bpfvm_map_update_elem(p.m, &key, &val, flags));
		} else if (op < 65) {
			kv = uv = 0;
			kr = k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, &key, &kv, 0);
			ur = bpfvm_map_lookup_elem(p.m, &key, &uv);
			if (kr != ur && getenv("KDIFF_DEBUG")) {
				struct { uint32_t plen; unsigned char d[4]; } it, pv;
				int first = 1;

				fprintf(stderr, "lookup %u/%02x%02x%02x%02x: k %d u %d\n", key.plen, key.d[0], key.d[1], key.d[2], key.d[3], kr, ur);
				while (k_next(p.kfd, first ? NULL : &pv, &it) == 0) {
					fprintf(stderr, "   entry %u/%02x%02x%02x%02x\n", it.plen, it.d[0], it.d[1], it.d[2], it.d[3]);
					pv = it;
					first = 0;
				}
			}
			SAME_RC("lookup", kr, ur);
			SAME_RC("lookup value", (int)kv, (int)uv);
		} else if (op < 80) {
			SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, &key, NULL, 0),
				bpfvm_map_delete_elem(p.m, &key));
		} else {
			use_null = rnd(4) == 0;
			memset(&nk, 0, sizeof(nk));
			memset(&nu, 0, sizeof(nu));
			kr = k_next(p.kfd, use_null ? NULL : &key, &nk);
			ur = bpfvm_map_get_next_key(p.m, use_null ? NULL : &key, &nu);
			SAME_RC("get_next_key", kr, ur);
			if (kr == 0 && ur == 0 && memcmp(&nk, &nu, sizeof(nk)) && getenv("KDIFF_DEBUG")) {
				struct { uint32_t plen; unsigned char d[4]; } it, pv;
				int first = 1;

				fprintf(stderr, "next %s %u/%02x%02x%02x%02x: k %u/%02x%02x%02x%02x u %u/%02x%02x%02x%02x\n", use_null ? "NULL" : "", key.plen, key.d[0], key.d[1], key.d[2], key.d[3],
					nk.plen, nk.d[0], nk.d[1], nk.d[2], nk.d[3], nu.plen, nu.d[0], nu.d[1], nu.d[2], nu.d[3]);
				while (k_next(p.kfd, first ? NULL : &pv, &it) == 0) {
					fprintf(stderr, "   k %u/%02x%02x%02x%02x\n", it.plen, it.d[0], it.d[1], it.d[2], it.d[3]);
					pv = it;
					first = 0;
				}
				first = 1;
				while (bpfvm_map_get_next_key(p.m, first ? NULL : &pv, &it) == 0) {
					fprintf(stderr, "   u %u/%02x%02x%02x%02x\n", it.plen, it.d[0], it.d[1], it.d[2], it.d[3]);
					pv = it;
					first = 0;
				}
			}
			if (kr == 0 && ur == 0)
				SAME_MEM("next key", &nk, &nu, sizeof(nk));
		}
	}
	compare_contents(&p, 1);
	pair_free(&p);
}

/* QUEUE / STACK: push/peek/pop through the syscall mapping. */
static void check_queue(uint32_t type)
{
	struct pair p;
	uint64_t val, kv, uv;

	cur_cfg = type == BPF_MAP_TYPE_QUEUE ? "queue" : "stack";
	if (pair_create(&p, type, 0, 8, 5, 0, 0))
		return;
	for (int i = 0; i < ops_per_map; i++) {
		int op = (int)rnd(100), kr, ur;
		uint64_t flags = rnd(6) == 0 ? rnd(5) : rnd(3) == 0 ? BPF_EXIST : 0;

		if (op < 45) {
			val = (uint64_t)rand_r(&seed);
			SAME_RC("push", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, NULL, &val, flags),
				bpfvm_map_update_elem(p.m, NULL, &val, flags));
		} else if (op < 65) {
			kv = uv = 1;
			kr = k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, NULL, &kv, 0);
			ur = bpfvm_map_lookup_elem(p.m, NULL, &uv);
			SAME_RC("peek", kr, ur);
			if (!kr && !ur)
				SAME_MEM("peek value", &kv, &uv, 8);
		} else if (op < 90) {
			flags = rnd(6) == 0 ? BPF_F_LOCK : 0;
			kv = uv = 1;
			kr = k_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, p.kfd, NULL, &kv, flags);
			ur = bpfvm_map_lookup_and_delete_elem_flags(p.m, NULL, &uv, flags);
			SAME_RC("pop", kr, ur);
			if (!kr && !ur)
				SAME_MEM("pop value", &kv, &uv, 8);
		} else if (op < 95) {
			SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, NULL, NULL, 0),
				bpfvm_map_delete_elem(p.m, NULL));
		} else {
			uint32_t nk;

			SAME_RC("get_next_key", k_next(p.kfd, NULL, &nk),
				bpfvm_map_get_next_key(p.m, NULL, &nk));
		}
	}
	pair_free(&p);
}

/* BLOOM_FILTER: push flags, and "present" for every pushed value. */
static void check_bloom(void)
{
	struct pair p;
	uint32_t pushed[64], n = 0, val;

	cur_cfg = "bloom_filter";
	if (pair_create(&p, BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, 0, 3))
		return;
	for (int i = 0; i < 500; i++) {
		uint64_t flags = rnd(4) == 0 ? rnd(4) : 0;

		val = (uint32_t)rand_r(&seed);
		SAME_RC("push", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, NULL, &val, flags),
			bpfvm_map_update_elem(p.m, NULL, &val, flags));
		if (flags == 0 && n < 64)
			pushed[n++] = val;
		if (n) {
			val = pushed[rnd(n)];
			SAME_RC("peek pushed", k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, NULL, &val, 0),
				bpfvm_map_lookup_elem(p.m, NULL, &val));
		}
	}
	SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, NULL, NULL, 0),
		bpfvm_map_delete_elem(p.m, NULL));
	SAME_RC("get_next_key", k_next(p.kfd, NULL, &val), bpfvm_map_get_next_key(p.m, NULL, &val));
	SAME_RC("pop", k_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, p.kfd, NULL, &val, 0),
		bpfvm_map_lookup_and_delete_elem(p.m, NULL, &val));
	pair_free(&p);
}

/* DEVMAP (ifindex 1 is lo) and CPUMAP (queue sizes, CPUs that exist or not). */
static void check_devmaps(void)
{
	struct pair p;
	uint32_t key, val[2], kv[2], uv[2];

	cur_cfg = "devmap";
	if (pair_create(&p, BPF_MAP_TYPE_DEVMAP, 4, 8, 4, 0, 0) == 0) {
		for (int i = 0; i < 600; i++) {
			int op = (int)rnd(4), kr, ur;

			key = rnd(6);
			val[0] = rnd(2);	/* lo or none */
			val[1] = rnd(3) == 0 ? 0 : (uint32_t)-1;
			if (op == 0) {
				uint64_t flags = rnd(5);

				SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &key, val, flags),
					bpfvm_map_update_elem(p.m, &key, val, flags));
			} else if (op == 1) {
				memset(kv, 0, 8);
				memset(uv, 0, 8);
				kr = k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, &key, kv, 0);
				ur = bpfvm_map_lookup_elem(p.m, &key, uv);
				SAME_RC("lookup", kr, ur);
				if (!kr && !ur)
					SAME_MEM("lookup value", kv, uv, 8);
			} else if (op == 2) {
				SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, &key, NULL, 0),
					bpfvm_map_delete_elem(p.m, &key));
			} else {
				SAME_RC("get_next_key", k_next(p.kfd, &key, kv),
					bpfvm_map_get_next_key(p.m, &key, uv));
			}
		}
		pair_free(&p);
	}
	cur_cfg = "cpumap";
	if (pair_create(&p, BPF_MAP_TYPE_CPUMAP, 4, 4, 8, 0, 0) == 0) {
		static const uint32_t qs[] = { 0, 16, 192, 16384, 16385 };

		for (int i = 0; i < 300; i++) {
			int op = (int)rnd(3), kr, ur;

			key = rnd(10);
			val[0] = qs[rnd(5)];
			if (op == 0) {
				uint64_t flags = rnd(4);

				SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &key, val, flags),
					bpfvm_map_update_elem(p.m, &key, val, flags));
			} else if (op == 1) {
				kv[0] = uv[0] = 0;
				kr = k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, &key, kv, 0);
				ur = bpfvm_map_lookup_elem(p.m, &key, uv);
				SAME_RC("lookup", kr, ur);
				SAME_RC("lookup value", (int)kv[0], (int)uv[0]);
			} else {
				SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, &key, NULL, 0),
					bpfvm_map_delete_elem(p.m, &key));
			}
		}
		pair_free(&p);
	}
}

/* Creation attributes: the errno of each combination. */
static void check_creation(void)
{
	static const struct {
		uint32_t type, ks, vs, max, flags;
		uint64_t extra;
	} c[] = {
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 0, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 0, 4, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 0, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 600, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 4 << 20, 4, 0, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_MMAPABLE, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_INNER_MAP, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_ZERO_SEED | BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_CLONE, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 4, 0, 1 },
		{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU, 0 },
		{ BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 4, BPF_F_NUMA_NODE, 0 },
		{ BPF_MAP_TYPE_PERCPU_HASH, 4, 32768, 4, 0, 0 },
		{ BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 4, 0, 0 },
		{ BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP | BPF_F_MMAPABLE, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_PRESERVE_ELEMS, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_ZERO_SEED, 0 },
		{ BPF_MAP_TYPE_ARRAY, 4, 0x80000000u, 4, 0, 0 },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 4, 0, 0 },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPF_F_MMAPABLE, 0 },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPF_F_NUMA_NODE, 0 },
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 0 },
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_RDONLY_PROG, 0 },
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_MMAPABLE, 0 },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, BPF_F_PRESERVE_ELEMS, 0 },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 4, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 5, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 261, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 260, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 8, 0, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, 0 },
		{ BPF_MAP_TYPE_QUEUE, 4, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_QUEUE, 0, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_QUEUE, 0, 8, 0, 0, 0 },
		{ BPF_MAP_TYPE_QUEUE, 0, 0, 4, 0, 0 },
		{ BPF_MAP_TYPE_STACK, 0, 8, 4, BPF_F_RDONLY_PROG, 0 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, 0, 16 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, BPF_F_ZERO_SEED, 15 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 4, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 0, 0, 0 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4, BPF_F_NO_PREALLOC, 0 },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 * 3, 0, 0 },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 2048, 0, 0 },
		{ BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, 0 },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_RDONLY, 0 },
		{ BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 16, 0, 0 },
		{ BPF_MAP_TYPE_DEVMAP, 4, 4, 4, 0, 0 },
		{ BPF_MAP_TYPE_DEVMAP, 4, 8, 4, BPF_F_RDONLY_PROG, 0 },
		{ BPF_MAP_TYPE_DEVMAP, 4, 12, 4, 0, 0 },
		{ BPF_MAP_TYPE_DEVMAP_HASH, 4, 8, 4, BPF_F_WRONLY, 0 },
		{ BPF_MAP_TYPE_CPUMAP, 4, 4, 4, BPF_F_RDONLY, 0 },
		{ BPF_MAP_TYPE_CPUMAP, 4, 4, 100000, 0, 0 },
		{ BPF_MAP_TYPE_CPUMAP, 4, 8, 4, 0, 0 },
		{ BPF_MAP_TYPE_XSKMAP, 4, 4, 4, BPF_F_RDONLY_PROG, 0 },
		{ BPF_MAP_TYPE_XSKMAP, 4, 4, 4, BPF_F_WRONLY, 0 },
		{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0, 0 },
		{ 99, 4, 8, 4, 0, 0 },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pair p;

		snprintf(name, sizeof(name), "create #%zu (type %u)", i, c[i].type);
		cur_cfg = name;
		if (pair_create(&p, c[i].type, c[i].ks, c[i].vs, c[i].max, c[i].flags, c[i].extra) == 0)
			pair_free(&p);
	}
}

/* Permissions: RDONLY/WRONLY maps and freezing. */
static void check_permissions(void)
{
	struct pair p;
	uint32_t k = 0;
	uint64_t v = 1;

	cur_cfg = "rdonly";
	if (pair_create(&p, BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_RDONLY, 0) == 0) {
		SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &k, &v, 0),
			bpfvm_map_update_elem(p.m, &k, &v, 0));
		SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, &k, NULL, 0),
			bpfvm_map_delete_elem(p.m, &k));
		SAME_RC("lookup", k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, &k, &v, 0),
			bpfvm_map_lookup_elem(p.m, &k, &v));
		SAME_RC("freeze", k_freeze(p.kfd), bpfvm_map_freeze(p.m));
		pair_free(&p);
	}
	cur_cfg = "wronly";
	if (pair_create(&p, BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_WRONLY, 0) == 0) {
		SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &k, &v, 0),
			bpfvm_map_update_elem(p.m, &k, &v, 0));
		SAME_RC("lookup", k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, &k, &v, 0),
			bpfvm_map_lookup_elem(p.m, &k, &v));
		SAME_RC("get_next_key", k_next(p.kfd, NULL, &k), bpfvm_map_get_next_key(p.m, NULL, &k));
		pair_free(&p);
	}
	cur_cfg = "freeze";
	if (pair_create(&p, BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0) == 0) {
		SAME_RC("freeze", k_freeze(p.kfd), bpfvm_map_freeze(p.m));
		SAME_RC("freeze again", k_freeze(p.kfd), bpfvm_map_freeze(p.m));
		SAME_RC("update frozen", k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &k, &v, 0),
			bpfvm_map_update_elem(p.m, &k, &v, 0));
		SAME_RC("delete frozen", k_elem(BPF_MAP_DELETE_ELEM, p.kfd, &k, NULL, 0),
			bpfvm_map_delete_elem(p.m, &k));
		SAME_RC("lookup frozen", k_elem(BPF_MAP_LOOKUP_ELEM, p.kfd, &k, &v, 0),
			bpfvm_map_lookup_elem(p.m, &k, &v));
		pair_free(&p);
	}
}

/* A BTF blob describing `int` and struct val { int a; struct bpf_spin_lock
 * lock; int b; int c; } so the kernel knows where the lock is. */
static int k_btf_load(void)
{
	static const char strs[] = "\0int\0bpf_spin_lock\0val\0v\0a\0lock\0b\0c";
	enum { S_INT = 1, S_LOCK = 5, S_VALT = 19, S_V = 23, S_A = 25, S_LK = 27, S_B = 32, S_C = 34 };
	uint32_t types[] = {
		/* [1] int */
		S_INT, 1u << 24, 4, (1u << 24) | 32,
		/* [2] struct bpf_spin_lock { int v; } */
		S_LOCK, (4u << 24) | 1, 4, S_V, 1, 0,
		/* [3] struct val */
		S_VALT, (4u << 24) | 4, 16, S_A, 1, 0, S_LK, 2, 32, S_B, 1, 64, S_C, 1, 96,
	};
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, type_off, type_len, str_off, str_len;
	} hdr = { 0xeb9f, 1, 0, 24, 0, sizeof(types), sizeof(types), sizeof(strs) };
	unsigned char blob[24 + sizeof(types) + sizeof(strs)];
	union bpf_attr a;

	memcpy(blob, &hdr, 24);
	memcpy(blob + 24, types, sizeof(types));
	memcpy(blob + 24 + sizeof(types), strs, sizeof(strs));
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)blob;
	a.btf_size = sizeof(blob);
	return sys_bpf(BPF_BTF_LOAD, &a);
}

/* HASH and ARRAY values with a bpf_spin_lock: BPF_F_LOCK updates and lookups,
 * the lock word never copied in or out. */
static void check_spin_lock(uint32_t type)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .has_spin_lock = 1, .spin_lock_off = 4 };
	static const uint64_t fl[] = { 0, BPF_F_LOCK, BPF_F_LOCK | BPF_NOEXIST,
				       BPF_F_LOCK | BPF_EXIST, BPF_NOEXIST, BPF_EXIST, 8 };
	int btf = k_btf_load(), kfd;
	struct bpfvm_map *m;
	union bpf_attr a;

	cur_cfg = type == BPF_MAP_TYPE_HASH ? "hash with spin lock" : "array with spin lock";
	if (btf < 0) {
		printf("test_map_kdiff: BPF_BTF_LOAD failed (%s): spin lock maps not compared\n",
		       strerror(-btf));
		return;
	}
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = 4;
	a.value_size = 16;
	a.max_entries = 6;
	a.btf_fd = (uint32_t)btf;
	a.btf_key_type_id = 1;
	a.btf_value_type_id = 3;
	kfd = norm(sys_bpf(BPF_MAP_CREATE, &a));
	m = bpfvm_map_create(type, "locked", 4, 16, 6, &o);
	SAME_RC("create", kfd < 0 ? kfd : 0, m ? 0 : -errno);
	if (kfd >= 0 && m) {
		for (int i = 0; i < ops_per_map; i++) {
			uint32_t key = rnd(8), val[4], kv[4], uv[4];
			uint64_t flags = fl[rnd(sizeof(fl) / sizeof(fl[0]))];
			int op = (int)rnd(10), kr, ur;

			rnd_bytes(val, sizeof(val));
			if (op < 4) {
				SAME_RC("update", k_elem(BPF_MAP_UPDATE_ELEM, kfd, &key, val, flags),
					bpfvm_map_update_elem(m, &key, val, flags));
			} else if (op < 8) {
				flags = rnd(2) ? BPF_F_LOCK : 0;
				memset(kv, 0x5a, sizeof(kv));
				memset(uv, 0x5a, sizeof(uv));
				kr = k_elem(BPF_MAP_LOOKUP_ELEM, kfd, &key, kv, flags);
				ur = bpfvm_map_lookup_elem_flags(m, &key, uv, flags);
				SAME_RC("lookup", kr, ur);
				if (!kr && !ur)
					SAME_MEM("lookup value", kv, uv, sizeof(kv));
			} else if (op < 9) {
				SAME_RC("delete", k_elem(BPF_MAP_DELETE_ELEM, kfd, &key, NULL, 0),
					bpfvm_map_delete_elem(m, &key));
			} else {
				memset(kv, 0x5a, sizeof(kv));
				memset(uv, 0x5a, sizeof(uv));
				flags = rnd(2) ? BPF_F_LOCK : 0;
				kr = k_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, kfd, &key, kv, flags);
				ur = bpfvm_map_lookup_and_delete_elem_flags(m, &key, uv, flags);
				SAME_RC("lookup_and_delete", kr, ur);
				if (!kr && !ur)
					SAME_MEM("lookup_and_delete value", kv, uv, sizeof(kv));
			}
		}
		SAME_RC("freeze", k_freeze(kfd), bpfvm_map_freeze(m));
	}
	if (kfd >= 0)
		close(kfd);
	bpfvm_map_free(m);
	/* the kernel refuses a lock in other map types */
	cur_cfg = "spin lock in percpu_hash";
	a.map_type = BPF_MAP_TYPE_PERCPU_HASH;
	kfd = norm(sys_bpf(BPF_MAP_CREATE, &a));
	m = bpfvm_map_create(BPF_MAP_TYPE_PERCPU_HASH, "locked", 4, 16, 6, &o);
	SAME_RC("create", kfd < 0 ? kfd : 0, m ? 0 : -errno);
	if (kfd >= 0)
		close(kfd);
	bpfvm_map_free(m);
	cur_cfg = "spin lock with BPF_F_RDONLY_PROG";
	a.map_type = type;
	a.map_flags = BPF_F_RDONLY_PROG;
	o.map_flags = BPF_F_RDONLY_PROG;
	kfd = norm(sys_bpf(BPF_MAP_CREATE, &a));
	m = bpfvm_map_create(type, "locked", 4, 16, 6, &o);
	SAME_RC("create", kfd < 0 ? kfd : 0, m ? 0 : -errno);
	if (kfd >= 0)
		close(kfd);
	bpfvm_map_free(m);
	close(btf);
}

/* Hash batch lookups: bucket layouts differ (different hash functions), so
 * compare what does not depend on them: a batch big enough for everything. */
static void check_hash_batch(void)
{
	struct pair p;
	uint32_t keys_k[64], keys_u[64], out_k, out_u, ck = 64, cu = 64;
	uint64_t vals_k[64], vals_u[64];

	cur_cfg = "hash batch";
	if (pair_create(&p, BPF_MAP_TYPE_HASH, 4, 8, 40, 0, 0))
		return;
	ck = cu = 0;
	SAME_RC("empty count 0", k_batch(p.kfd, NULL, &out_k, keys_k, vals_k, &ck),
		bpfvm_map_lookup_batch(p.m, NULL, &out_u, keys_u, vals_u, &cu, NULL));
	ck = cu = 64;
	SAME_RC("empty", k_batch(p.kfd, NULL, &out_k, keys_k, vals_k, &ck),
		bpfvm_map_lookup_batch(p.m, NULL, &out_u, keys_u, vals_u, &cu, NULL));
	SAME_RC("empty count", (int)ck, (int)cu);
	for (uint32_t k = 0; k < 30; k++) {
		uint64_t v = (uint64_t)k * 77;

		k_elem(BPF_MAP_UPDATE_ELEM, p.kfd, &k, &v, 0);
		bpfvm_map_update_elem(p.m, &k, &v, 0);
	}
	ck = cu = 64;
	SAME_RC("all", k_batch(p.kfd, NULL, &out_k, keys_k, vals_k, &ck),
		bpfvm_map_lookup_batch(p.m, NULL, &out_u, keys_u, vals_u, &cu, NULL));
	SAME_RC("all count", (int)ck, (int)cu);
	SAME_RC("end token", (int)out_k, (int)out_u);
	out_k = out_u = 64;	/* a token past the last bucket */
	ck = cu = 8;
	SAME_RC("past the end", k_batch(p.kfd, &out_k, &out_k, keys_k, vals_k, &ck),
		bpfvm_map_lookup_batch(p.m, &out_u, &out_u, keys_u, vals_u, &cu, NULL));
	pair_free(&p);
}

static int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int lo = 0, hi = 0, n;

	if (!f)
		return 0;
	n = fscanf(f, "%d-%d", &lo, &hi);
	fclose(f);
	if (n == 1)
		hi = lo;
	return n >= 1 ? hi + 1 : 0;
}

int main(void)
{
	const char *e;
	unsigned int seed0;
	int fd;

	if ((e = getenv("KDIFF_OPS")))
		ops_per_map = atoi(e);
	if ((e = getenv("KDIFF_SEED")))
		seed = (unsigned int)atoi(e);
	seed0 = seed;
	fd = k_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0, 0);
	if (fd < 0) {
		printf("test_map_kdiff: bpf(BPF_MAP_CREATE) failed (%s): skipping the kernel comparison\n",
		       strerror(-fd));
		return 77;
	}
	close(fd);
	ncpu = possible_cpus();
	if (ncpu <= 0 || bpfvm_set_nr_cpus(ncpu) != 0) {
		printf("test_map_kdiff: cannot read the kernel's possible CPUs: skipping\n");
		return 77;
	}

	check_creation();
	check_permissions();
	check_keyed("hash", BPF_MAP_TYPE_HASH, 4, 8, 16, 0, 24, 0, 1);
	check_keyed("hash odd sizes", BPF_MAP_TYPE_HASH, 3, 5, 8, BPF_F_NO_PREALLOC, 12, 0, 1);
	check_keyed("hash big key", BPF_MAP_TYPE_HASH, 20, 12, 6, 0, 9, 0, 1);
	check_keyed("percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 8, 0, 12, 0, 1);
	check_keyed("percpu_hash no prealloc", BPF_MAP_TYPE_PERCPU_HASH, 8, 12, 8,
		    BPF_F_NO_PREALLOC, 12, 0, 1);
	/* LRU maps below capacity: the kernel may evict early (per-CPU free
	 * lists), so only as many keys as fit comfortably */
	check_keyed("lru_hash", BPF_MAP_TYPE_LRU_HASH, 4, 8, 256, 0, 16, 0, 1);
	check_keyed("array", BPF_MAP_TYPE_ARRAY, 4, 12, 10, 0, 13, 1, 1);
	check_keyed("percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 5, 0, 7, 1, 1);
	check_array_batch(BPF_MAP_TYPE_ARRAY);
	check_array_batch(BPF_MAP_TYPE_PERCPU_ARRAY);
	check_lpm();
	check_queue(BPF_MAP_TYPE_QUEUE);
	check_queue(BPF_MAP_TYPE_STACK);
	check_bloom();
	check_devmaps();
	check_spin_lock(BPF_MAP_TYPE_HASH);
	check_spin_lock(BPF_MAP_TYPE_ARRAY);
	check_hash_batch();
	printf("test_map_kdiff: %d CPUs, %d operations per map, seed %u, %d mismatches\n", ncpu,
	       ops_per_map, seed0, mismatches);
	return TEST_DONE();
}
