/* test_map_lpm.c — LPM_TRIE: longest match among overlapping prefixes, the
 * kernel's post-order get_next_key, flag and full-map errno results, delete
 * with node merging, and a randomized check of userspace and program-side
 * (lock-free) lookups, some with shorter key prefixes, against a brute-force
 * matcher. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/map.h"
#include "testutil.h"

struct key4 {
	uint32_t prefixlen;
	uint8_t data[4];
};

static struct key4 k4(uint32_t plen, int a, int b, int c, int d)
{
	struct key4 k = { plen, { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d } };

	return k;
}

static struct bpfvm_map *mk(uint32_t max)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = BPFVM_F_NO_PREALLOC };

	return bpfvm_map_create(BPFVM_MAP_TYPE_LPM_TRIE, "lpm", 8, 4, max, &o);
}

static uint32_t match(struct bpfvm_map *m, int a, int b, int c, int d)
{
	struct key4 k = k4(32, a, b, c, d);
	uint32_t v = 0;

	return bpfvm_map_lookup_elem(m, &k, &v) == 0 ? v : 0;
}

static void test_longest_match(void)
{
	struct bpfvm_map *m = mk(16);
	struct key4 k, next;
	uint32_t v;

	k = k4(16, 192, 168, 0, 0), v = 16;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	k = k4(24, 192, 168, 0, 0), v = 24;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	k = k4(24, 192, 168, 1, 0), v = 241;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	k = k4(24, 192, 168, 128, 0), v = 2128;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	k = k4(0, 0, 0, 0, 0), v = 1;	/* default route */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	k = k4(32, 192, 168, 1, 7), v = 32;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);

	CHECK_EQ(match(m, 192, 168, 0, 5), 24);
	CHECK_EQ(match(m, 192, 168, 1, 5), 241);
	CHECK_EQ(match(m, 192, 168, 1, 7), 32);
	CHECK_EQ(match(m, 192, 168, 128, 1), 2128);
	CHECK_EQ(match(m, 192, 168, 129, 1), 16);
	CHECK_EQ(match(m, 192, 169, 0, 0), 1);
	CHECK_EQ(match(m, 10, 0, 0, 1), 1);
	/* the lookup key's own prefix length caps the match */
	k = k4(20, 192, 168, 1, 7);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &v), 0);
	CHECK_EQ(v, 16);

	/* post-order: more specific before the prefixes containing them */
	{
		static const struct { uint32_t plen; uint8_t a, b, c, d; } want[] = {
			{ 24, 192, 168, 0, 0 }, { 32, 192, 168, 1, 7 }, { 24, 192, 168, 1, 0 },
			{ 24, 192, 168, 128, 0 }, { 16, 192, 168, 0, 0 }, { 0, 0, 0, 0, 0 },
		};
		size_t n = 0;
		int err;

		for (err = bpfvm_map_get_next_key(m, NULL, &next); err == 0 && n < 10;
		     err = bpfvm_map_get_next_key(m, &k, &next)) {
			if (n < 6) {
				CHECK_EQ(next.prefixlen, want[n].plen);
				CHECK_EQ(next.data[2], want[n].c);
				CHECK_EQ(next.data[3], want[n].d);
			}
			n++;
			k = next;
		}
		CHECK_EQ(n, 6);
		CHECK_EQ(err, -ENOENT);
		/* a key that is not in the trie starts over at the leftmost entry */
		k = k4(24, 10, 0, 0, 0);
		CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), 0);
		CHECK_EQ(next.prefixlen, 24);
		CHECK_EQ(next.data[2], 0);
		k = k4(33, 0, 0, 0, 0);
		CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), 0);
		CHECK_EQ(next.prefixlen, 24);
	}

	/* deletes: exact prefix only */
	k = k4(24, 192, 168, 1, 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -ENOENT);
	CHECK_EQ(match(m, 192, 168, 1, 5), 16);
	CHECK_EQ(match(m, 192, 168, 1, 7), 32);
	k = k4(23, 192, 168, 0, 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -ENOENT);
	k = k4(33, 192, 168, 0, 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EINVAL);
	k = k4(16, 192, 168, 0, 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), 0);
	CHECK_EQ(match(m, 192, 168, 129, 1), 1);
	CHECK_EQ(match(m, 192, 168, 0, 9), 24);
	bpfvm_map_free(m);
}

static void test_flags_and_full(void)
{
	struct bpfvm_map *m = mk(2);
	struct key4 k;
	uint32_t v = 5;

	k = k4(8, 10, 0, 0, 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 3), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -EEXIST);
	v = 6;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), 0);
	CHECK_EQ(match(m, 10, 1, 2, 3), 6);
	k = k4(16, 10, 1, 0, 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	k = k4(16, 10, 2, 0, 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -ENOSPC);	/* full */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_EXIST), -ENOENT);
	k = k4(16, 10, 1, 0, 0);
	v = 7;	/* a full trie still replaces values */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(match(m, 10, 1, 9, 9), 7);
	/* program side: a pointer into the value */
	{
		struct key4 q = k4(32, 10, 1, 2, 3);
		uint32_t *p = map_lookup(m, &q, 0);

		CHECK(p && *p == 7);
		if (p) {
			*p = 70;
			CHECK_EQ(map_check_access(m, p, 4, 1), 0);
			CHECK_EQ(map_check_access(m, p, 5, 1), -EFAULT);
		}
		CHECK_EQ(match(m, 10, 1, 2, 3), 70);
		CHECK_EQ(map_delete(m, &k, 0), 0);
		CHECK_EQ(match(m, 10, 1, 2, 3), 6);
	}
	bpfvm_map_free(m);
}

/* Random prefixes against a brute-force longest match. */
struct entry {
	uint32_t plen;
	uint8_t d[4];
	uint32_t v;
	int live;
};

static int prefix_eq(const uint8_t *a, const uint8_t *b, uint32_t plen)
{
	for (uint32_t i = 0; i < plen; i++)
		if (((a[i / 8] >> (7 - i % 8)) & 1) != ((b[i / 8] >> (7 - i % 8)) & 1))
			return 0;
	return 1;
}

static void test_random(void)
{
	enum { N = 300 };
	struct bpfvm_map *m = mk(N);
	static struct entry e[N];
	unsigned int seed = 12345;
	int bad = 0;

	for (int i = 0; i < N; i++) {
		struct key4 k;

		e[i].plen = (uint32_t)(rand_r(&seed) % 33);
		for (int j = 0; j < 4; j++)
			e[i].d[j] = (uint8_t)(rand_r(&seed) & 0x0f);	/* crowded space */
		e[i].v = (uint32_t)i + 1;
		k.prefixlen = e[i].plen;
		memcpy(k.data, e[i].d, 4);
		/* a duplicate prefix replaces the earlier entry */
		for (int j = 0; j < i; j++)
			if (e[j].live && e[j].plen == e[i].plen && prefix_eq(e[j].d, e[i].d, e[i].plen))
				e[j].live = 0;
		e[i].live = bpfvm_map_update_elem(m, &k, &e[i].v, 0) == 0;
		CHECK(e[i].live);
		if (i % 3 == 0 && i) {	/* delete some */
			int j = rand_r(&seed) % i, live = 0;

			k.prefixlen = e[j].plen;
			memcpy(k.data, e[j].d, 4);
			for (int l = 0; l <= i; l++)
				if (e[l].live && e[l].plen == e[j].plen && prefix_eq(e[l].d, e[j].d, e[j].plen)) {
					live = 1;
					e[l].live = 0;
				}
			CHECK_EQ(bpfvm_map_delete_elem(m, &k), live ? 0 : -ENOENT);
		}
	}
	for (int q = 0; q < 3000; q++) {
		uint8_t d[4];
		uint32_t want = 0, best = 0, got, kplen = q % 3 ? 32 : (uint32_t)rand_r(&seed) % 33;
		int found = 0;
		struct key4 k;
		uint32_t *p;

		for (int j = 0; j < 4; j++)
			d[j] = (uint8_t)(rand_r(&seed) & 0x0f);
		for (int i = 0; i < N; i++)
			if (e[i].live && e[i].plen <= kplen && prefix_eq(e[i].d, d, e[i].plen) &&
			    (!found || e[i].plen >= best)) {
				found = 1;
				best = e[i].plen;
				want = e[i].v;
			}
		k.prefixlen = kplen;
		memcpy(k.data, d, 4);
		if (bpfvm_map_lookup_elem(m, &k, &got) != 0)
			got = 0;
		if (got != want)
			bad++;
		p = map_lookup(m, &k, 0);	/* the program side's lock-free walk */
		if ((p ? *p : 0) != want)
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* get_next_key visits each live entry once */
	{
		struct key4 k, next;
		int n = 0, live = 0;

		for (int i = 0; i < N; i++)
			live += e[i].live;
		for (int err = bpfvm_map_get_next_key(m, NULL, &next); err == 0 && n <= N;
		     err = bpfvm_map_get_next_key(m, &k, &next)) {
			n++;
			k = next;
		}
		CHECK_EQ(n, live);
	}
	bpfvm_map_free(m);
}

int main(void)
{
	bpfvm_set_nr_cpus(4);
	test_longest_match();
	test_flags_and_full();
	test_random();
	return TEST_DONE();
}
