/* test_map_objects.c — maps of objects and targets: PROG_ARRAY (with stand-in
 * program objects registered in the fd table), ARRAY_OF_MAPS and HASH_OF_MAPS
 * (template checks, ids, references), DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "bpfvm.h"
#include "maps/fdtable.h"
#include "maps/map.h"
#include "testutil.h"

#define NCPU 4

/* A stand-in for a program object. */
struct fake_prog {
	atomic_int refcnt;
	uint32_t id;
};

static void fp_get(void *o) { atomic_fetch_add(&((struct fake_prog *)o)->refcnt, 1); }
static void fp_put(void *o) { atomic_fetch_sub(&((struct fake_prog *)o)->refcnt, 1); }
static uint32_t fp_id(const void *o) { return ((const struct fake_prog *)o)->id; }
static const struct fd_obj_ops fp_ops = { fp_get, fp_put, fp_id };

static void test_prog_array(void)
{
	struct bpfvm_map *m = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "jmp", 4, 4, 4, NULL);
	struct fake_prog a = { 1, 501 }, b = { 1, 502 };
	int fda = fdtable_install(FD_KIND_PROG, &a, &fp_ops);
	int fdb = fdtable_install(FD_KIND_PROG, &b, &fp_ops);
	uint32_t k = 0, v, out, next;

	CHECK(m != NULL && fda > 0 && fdb > 0);
	if (!m)
		return;
	CHECK_EQ(atomic_load(&a.refcnt), 2);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &out), -ENOENT);
	v = (uint32_t)fda;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, BPFVM_NOEXIST), -EINVAL);	/* only BPF_ANY */
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	CHECK_EQ(atomic_load(&a.refcnt), 3);
	CHECK_EQ(bpfvm_map_lookup_elem(m, &k, &out), 0);
	CHECK_EQ(out, 501);	/* the program's id, as the kernel */
	CHECK(map_get_prog(m, 0) == &a);
	CHECK(map_get_prog(m, 1) == NULL);
	CHECK(map_get_prog(m, 4) == NULL);
	CHECK(map_lookup(m, &k, 0) == NULL);	/* programs cannot look inside */
	v = 9999;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EBADF);
	v = (uint32_t)bpfvm_map_fd(m);
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -EINVAL);	/* a map, not a program */
	k = 4;
	v = (uint32_t)fdb;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -E2BIG);
	k = 0;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);	/* replace a by b */
	CHECK_EQ(atomic_load(&a.refcnt), 2);
	CHECK(map_get_prog(m, 0) == &b);
	k = 2;
	CHECK_EQ(bpfvm_map_update_elem(m, &k, &v, 0), 0);
	CHECK_EQ(atomic_load(&b.refcnt), 4);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), 0);
	CHECK_EQ(bpfvm_map_delete_elem(m, &k), -ENOENT);
	CHECK_EQ(atomic_load(&b.refcnt), 3);
	CHECK_EQ(bpfvm_map_get_next_key(m, NULL, &next), 0);
	CHECK_EQ(next, 0);
	k = 3;
	CHECK_EQ(bpfvm_map_get_next_key(m, &k, &next), -ENOENT);
	bpfvm_map_free(m);	/* the user's handle goes: entries are cleared */
	CHECK_EQ(atomic_load(&b.refcnt), 2);
	fdtable_close(fda);
	fdtable_close(fdb);
	CHECK_EQ(atomic_load(&a.refcnt), 1);
	CHECK_EQ(atomic_load(&b.refcnt), 1);
}

static struct bpfvm_map *mk(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
			    struct bpfvm_map *inner)
{
	struct bpfvm_map_create_opts o = { .sz = sizeof(o), .map_flags = flags, .inner_map = inner };

	return bpfvm_map_create(type, "m", ks, vs, max, &o);
}

static void test_array_of_maps(void)
{
	struct bpfvm_map *tmpl = mk(BPFVM_MAP_TYPE_ARRAY, 4, 8, 10, 0, NULL);
	struct bpfvm_map *outer = mk(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 3, 0, tmpl);
	struct bpfvm_map *in1 = mk(BPFVM_MAP_TYPE_ARRAY, 4, 8, 10, 0, NULL);
	struct bpfvm_map *small = mk(BPFVM_MAP_TYPE_ARRAY, 4, 8, 5, 0, NULL);
	struct bpfvm_map *h = mk(BPFVM_MAP_TYPE_HASH, 4, 8, 10, 0, NULL);
	uint32_t k = 1, v, out, in1_id = bpfvm_map_id(in1);
	uint64_t val = 77;

	CHECK(outer != NULL);
	if (!outer)
		return;
	CHECK(mk(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 3, 0, outer) == NULL);	/* two levels */
	CHECK_EQ(errno, EINVAL);
	CHECK(mk(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 8, 3, 0, tmpl) == NULL);	/* value is an fd */
	v = (uint32_t)bpfvm_map_fd(small);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, 0), -EINVAL);	/* size differs */
	v = (uint32_t)bpfvm_map_fd(h);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, 0), -EINVAL);	/* type differs */
	v = (uint32_t)bpfvm_map_fd(in1);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, 0), 0);
	CHECK_EQ(bpfvm_map_lookup_elem(outer, &k, &out), 0);
	CHECK_EQ(out, in1_id);
	CHECK(map_lookup(outer, &k, 0) == in1);
	CHECK(map_get_inner(outer, &k) == in1);
	k = 0;
	CHECK(map_get_inner(outer, &k) == NULL);
	k = 1;
	bpfvm_map_free(in1);	/* the outer map keeps it alive */
	in1 = map_get_inner(outer, &k);
	CHECK(in1 != NULL);
	CHECK_EQ(map_update(in1, &k, &val, 0, 0), 0);
	CHECK_EQ(bpfvm_map_delete_elem(outer, &k), 0);	/* now it is freed (ASan checks) */
	CHECK_EQ(bpfvm_map_delete_elem(outer, &k), -ENOENT);
	bpfvm_map_free(outer);

	/* BPF_F_INNER_MAP: inner arrays may differ in size */
	bpfvm_map_free(tmpl);
	tmpl = mk(BPFVM_MAP_TYPE_ARRAY, 4, 8, 10, BPFVM_F_INNER_MAP, NULL);
	outer = mk(BPFVM_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 3, 0, tmpl);
	bpfvm_map_free(small);
	small = mk(BPFVM_MAP_TYPE_ARRAY, 4, 8, 5, BPFVM_F_INNER_MAP, NULL);
	v = (uint32_t)bpfvm_map_fd(small);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, 0), 0);
	bpfvm_map_free(outer);	/* drops its reference on small */
	bpfvm_map_free(small);
	bpfvm_map_free(tmpl);
	bpfvm_map_free(h);
}

static void test_hash_of_maps(void)
{
	struct bpfvm_map *tmpl = mk(BPFVM_MAP_TYPE_HASH, 4, 4, 8, 0, NULL);
	struct bpfvm_map *outer = mk(BPFVM_MAP_TYPE_HASH_OF_MAPS, 8, 4, 2, 0, tmpl);
	struct bpfvm_map *a = mk(BPFVM_MAP_TYPE_HASH, 4, 4, 8, 0, NULL);
	struct bpfvm_map *b = mk(BPFVM_MAP_TYPE_HASH, 4, 4, 8, 0, NULL);
	uint64_t k = 100, k2;
	uint32_t v, out;

	CHECK(outer != NULL);
	if (!outer)
		return;
	v = (uint32_t)bpfvm_map_fd(a);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, BPFVM_EXIST), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, BPFVM_NOEXIST), 0);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_lookup_elem(outer, &k, &out), 0);
	CHECK_EQ(out, bpfvm_map_id(a));
	CHECK(map_lookup(outer, &k, 0) == a);
	v = (uint32_t)bpfvm_map_fd(b);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, BPFVM_EXIST), 0);
	CHECK(map_get_inner(outer, &k) == b);
	k2 = 200;
	CHECK_EQ(bpfvm_map_update_elem(outer, &k2, &v, 0), 0);
	k2 = 300;
	CHECK_EQ(bpfvm_map_update_elem(outer, &k2, &v, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_update_elem(outer, &k2, &v, BPFVM_F_LOCK), -EINVAL);
	v = 4242;
	CHECK_EQ(bpfvm_map_update_elem(outer, &k, &v, 0), -EBADF);
	CHECK_EQ(bpfvm_map_lookup_and_delete_elem(outer, &k, &out), -EOPNOTSUPP);
	CHECK_EQ(map_update(outer, &k, &v, 0, 0), -EOPNOTSUPP);
	{
		uint64_t keys[4];
		uint32_t vals[4], count = 4, ob;

		CHECK_EQ(bpfvm_map_lookup_batch(outer, NULL, &ob, keys, vals, &count, NULL), -ENOENT);
		CHECK_EQ(count, 2);
		CHECK_EQ(vals[0], bpfvm_map_id(b));
	}
	bpfvm_map_free(a);
	bpfvm_map_free(b);
	CHECK_EQ(bpfvm_map_delete_elem(outer, &k), 0);
	bpfvm_map_free(outer);	/* drops the last reference on b (ASan checks) */
	bpfvm_map_free(tmpl);
}

static void test_devmaps(void)
{
	struct bpfvm_map *d = mk(BPFVM_MAP_TYPE_DEVMAP, 4, 8, 4, 0, NULL);
	uint32_t k = 1, v[2] = { 7, 0 }, out[2], *p;

	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(bpfvm_map_flags(d) & BPFVM_F_RDONLY_PROG);	/* set by the kernel too */
	CHECK_EQ(bpfvm_map_lookup_elem(d, &k, out), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 3), -EINVAL);
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_EXIST), 0);
	CHECK_EQ(bpfvm_map_lookup_elem(d, &k, out), 0);
	CHECK_EQ(out[0], 7);
	CHECK_EQ(out[1], 0);
	p = map_lookup(d, &k, 0);
	CHECK(p && p[0] == 7);
	CHECK_EQ(map_check_access(d, p, 4, 0), 0);
	CHECK_EQ(map_check_access(d, p, 4, 1), -EACCES);	/* read-only for programs */
	v[1] = 5;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -EOPNOTSUPP);	/* a program on the entry */
	v[0] = 0;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -EINVAL);	/* program without device */
	v[1] = 0;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), 0);	/* ifindex 0 clears */
	CHECK_EQ(bpfvm_map_lookup_elem(d, &k, out), -ENOENT);
	CHECK(map_lookup(d, &k, 0) == NULL);
	k = 4;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_delete_elem(d, &k), -EINVAL);
	k = 2;
	CHECK_EQ(bpfvm_map_delete_elem(d, &k), 0);	/* empty: still 0 */
	bpfvm_map_free(d);

	d = mk(BPFVM_MAP_TYPE_DEVMAP_HASH, 4, 4, 2, 0, NULL);
	k = 10;
	v[0] = 0;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -EINVAL);	/* ifindex 0 */
	v[0] = 3;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_EXIST), 0);	/* EXIST is ignored */
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_NOEXIST), -EEXIST);
	k = 11;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), 0);
	k = 12;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -E2BIG);
	CHECK_EQ(bpfvm_map_delete_elem(d, &k), -ENOENT);
	k = 11;
	p = map_lookup(d, &k, 0);
	CHECK(p && *p == 3);
	CHECK_EQ(bpfvm_map_delete_elem(d, &k), 0);
	bpfvm_map_free(d);

	d = mk(BPFVM_MAP_TYPE_CPUMAP, 4, 4, 8, 0, NULL);
	k = 1;
	v[0] = 100;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), 0);
	CHECK_EQ(bpfvm_map_lookup_elem(d, &k, out), 0);
	CHECK_EQ(out[0], 100);
	v[0] = 20000;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -EOVERFLOW);
	k = NCPU + 1;	/* below max_entries but not a CPU */
	v[0] = 10;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), -ENODEV);
	k = 1;
	v[0] = 0;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, 0), 0);	/* qsize 0 deletes */
	CHECK_EQ(bpfvm_map_lookup_elem(d, &k, out), -ENOENT);
	k = 8;
	CHECK_EQ(bpfvm_map_delete_elem(d, &k), -EINVAL);
	bpfvm_map_free(d);

	d = mk(BPFVM_MAP_TYPE_XSKMAP, 4, 4, 4, 0, NULL);
	k = 0;
	v[0] = 33;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_EXIST), -ENOENT);
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_NOEXIST), 0);
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_NOEXIST), 0);	/* the same socket */
	v[0] = 34;
	CHECK_EQ(bpfvm_map_update_elem(d, &k, v, BPFVM_NOEXIST), -EEXIST);
	CHECK_EQ(bpfvm_map_lookup_elem(d, &k, out), -EOPNOTSUPP);
	CHECK(map_lookup(d, &k, 0) != NULL);
	CHECK_EQ(bpfvm_map_delete_elem(d, &k), 0);
	CHECK(map_lookup(d, &k, 0) == NULL);
	bpfvm_map_free(d);
}

int main(void)
{
	bpfvm_set_nr_cpus(NCPU);
	test_prog_array();
	test_array_of_maps();
	test_hash_of_maps();
	test_devmaps();
	return TEST_DONE();
}
