/* test_object.c — the object loader on real clang-compiled objects
 * (the .bpf.o files in tests/objects): programs and their types, maps from every source
 * (BTF .maps, legacy maps, .data/.rodata/.bss, map-in-map, prog arrays with
 * .values), global variables set before load and read after runs, linking of
 * subprograms, and the errors for objects bpfvm refuses. */
#include <errno.h>
#include <stdlib.h>

#include "bpfvm.h"
#include "testutil.h"

static char log_buf[1024];

static struct bpfvm_object *open_obj(const char *path)
{
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	log_buf[0] = 0;
	oo.log_buf = log_buf;
	oo.log_size = sizeof(log_buf);
	struct bpfvm_object *obj = bpfvm_object_open(path, &oo);
	if (!obj)
		fprintf(stderr, "open %s: %s\n", path, log_buf);
	return obj;
}

/* run a program on raw memory (r1 = mem) in checked mode */
static int run_raw(struct bpfvm_prog *p, void *mem, size_t sz, uint64_t *r0)
{
	char err[256] = "";
	struct bpfvm_run_opts ro = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ro.mem = mem;
	ro.mem_sz = sz;
	ro.mode = BPFVM_EXEC_CHECKED;
	ro.err_buf = err;
	ro.err_size = sizeof(err);
	int ret = bpfvm_prog_run(p, &ro);
	if (ret)
		fprintf(stderr, "run %s: %s\n", bpfvm_prog_name(p), err);
	*r0 = ro.retval;
	return ret;
}

static void test_globals(void)
{
	struct bpfvm_object *obj = open_obj("tests/objects/globals.bpf.o");
	CHECK(obj != NULL);
	if (!obj)
		return;
	CHECK_EQ(bpfvm_object_prog_cnt(obj), 1);
	CHECK_STR(bpfvm_object_prog_name(obj, 0), "tc_sample");
	CHECK_STR(bpfvm_object_prog_section(obj, 0), "tc");
	CHECK_EQ(bpfvm_object_prog_type(obj, 0), 3); /* BPF_PROG_TYPE_SCHED_CLS */
	CHECK_STR(bpfvm_object_license(obj), "GPL");
	uint32_t v = 0;
	CHECK_EQ(bpfvm_object_get_global(obj, "cfg_sample_rate", &v, sizeof(v)), 4);
	CHECK_EQ(v, 4);
	CHECK_EQ(bpfvm_object_get_global(obj, "generation", &v, sizeof(v)), 4);
	CHECK_EQ(v, 7);
	/* const volatile settings change before load */
	uint32_t rate = 2;
	CHECK_EQ(bpfvm_object_set_global(obj, "cfg_sample_rate", &rate, sizeof(rate)), 0);
	CHECK_EQ(bpfvm_object_set_global(obj, "cfg_sample_rate", &rate, 2), -EINVAL);
	CHECK_EQ(bpfvm_object_set_global(obj, "no_such_var", &rate, 4), -ENOENT);
	CHECK_EQ(bpfvm_object_load(obj), 0);
	CHECK_EQ(bpfvm_object_set_global(obj, "cfg_sample_rate", &rate, sizeof(rate)), -EBUSY);
	CHECK(bpfvm_object_find_map(obj, ".rodata") != NULL);
	CHECK(bpfvm_object_find_map(obj, ".bss") != NULL);
	CHECK(bpfvm_object_find_map(obj, ".data") != NULL);

	/* the program reads skb->len (offset 0) and writes skb->mark (offset 8):
	 * raw memory laid out like the start of a __sk_buff serves as its ctx */
	struct bpfvm_prog *p = bpfvm_object_find_prog(obj, "tc_sample");
	CHECK(p != NULL);
	if (!p) {
		bpfvm_object_close(obj);
		return;
	}
	uint32_t skb[48] = { 0 };
	skb[0] = 200; /* len */
	for (int i = 0; i < 8; i++) {
		uint64_t r0;
		CHECK_EQ(run_raw(p, skb, sizeof(skb), &r0), 0);
		CHECK_EQ(r0, 0); /* TC_ACT_OK */
	}
	uint64_t seen = 0, sampled = 0, hits[5];
	CHECK_EQ(bpfvm_object_get_global(obj, "seen", &seen, sizeof(seen)), 8);
	CHECK_EQ(seen, 8);
	bpfvm_object_get_global(obj, "sampled", &sampled, sizeof(sampled));
	CHECK_EQ(sampled, 4); /* every 2nd packet with the new rate */
	bpfvm_object_get_global(obj, "bucket_hits", hits, sizeof(hits));
	CHECK_EQ(hits[1], 4); /* 128 < 200 <= 512 */
	CHECK_EQ(hits[0], 0);
	CHECK_EQ(skb[2], 7); /* mark = generation */
	bpfvm_object_close(obj);
}

static void test_tailcall_maps(void)
{
	struct bpfvm_object *obj = open_obj("tests/objects/tailcall.bpf.o");
	CHECK(obj != NULL);
	if (!obj)
		return;
	CHECK_EQ(bpfvm_object_prog_cnt(obj), 3);
	CHECK_EQ(bpfvm_object_load(obj), 0);
	CHECK_EQ(bpfvm_object_map_cnt(obj), 4);
	struct bpfvm_map *jt = bpfvm_object_find_map(obj, "jump_table");
	struct bpfvm_map *pf = bpfvm_object_find_map(obj, "per_family");
	struct bpfvm_map *ca = bpfvm_object_find_map(obj, "counts_a");
	struct bpfvm_map *pt = bpfvm_object_find_map(obj, "per_tenant");
	CHECK(jt && pf && ca && pt);
	if (!jt || !pf || !ca || !pt) {
		bpfvm_object_close(obj);
		return;
	}
	CHECK_EQ(bpfvm_map_type(jt), BPFVM_MAP_TYPE_PROG_ARRAY);
	CHECK_EQ(bpfvm_map_type(pt), BPFVM_MAP_TYPE_HASH_OF_MAPS);
	/* .values: jump_table[0] = handle_ipv4, [1] = handle_ipv6 */
	uint32_t key = 0, val = 0;
	CHECK_EQ(bpfvm_map_lookup_elem(jt, &key, &val), 0);
	key = 2;
	CHECK(bpfvm_map_lookup_elem(jt, &key, &val) < 0);
	/* handle_ipv4 counts into counts_a[0] through per_family[1] */
	struct bpfvm_prog *v4 = bpfvm_object_find_prog(obj, "handle_ipv4");
	struct bpfvm_prog *v6 = bpfvm_object_find_prog(obj, "handle_ipv6");
	CHECK(v4 && v6);
	uint8_t mem[64] = { 0 };
	uint64_t r0, cnt;
	for (int i = 0; i < 3 && v4; i++) {
		CHECK_EQ(run_raw(v4, mem, sizeof(mem), &r0), 0);
		CHECK_EQ(r0, 2); /* XDP_PASS */
	}
	if (v6)
		CHECK_EQ(run_raw(v6, mem, sizeof(mem), &r0), 0);
	key = 0;
	CHECK_EQ(bpfvm_map_lookup_elem(ca, &key, &cnt), 0);
	CHECK_EQ(cnt, 3);
	key = 1;
	CHECK_EQ(bpfvm_map_lookup_elem(ca, &key, &cnt), 0);
	CHECK_EQ(cnt, 1);
	bpfvm_object_close(obj);
}

static void test_subprogs_linking(void)
{
	struct bpfvm_object *obj = open_obj("tests/objects/subprogs.bpf.o");
	CHECK(obj != NULL);
	if (!obj)
		return;
	CHECK_EQ(bpfvm_object_load(obj), 0);
	CHECK_EQ(bpfvm_object_prog_type(obj, 1), 6); /* xdp.frags: BPF_PROG_TYPE_XDP */
	/* both programs carry their own copy of the subprograms they call */
	for (size_t i = 0; i < 2; i++) {
		struct bpfvm_prog *p = bpfvm_object_prog(obj, i);
		CHECK(p != NULL);
		if (!p)
			continue;
		const struct bpf_insn *in = bpfvm_prog_insns(p);
		size_t n = bpfvm_prog_insn_cnt(p), calls = 0;
		for (size_t pc = 0; pc < n; pc++) {
			if (in[pc].code == (BPF_JMP | BPF_CALL) && in[pc].src_reg == BPF_PSEUDO_CALL) {
				long t = (long)pc + 1 + in[pc].imm;
				CHECK(t > 0 && (size_t)t < n);
				calls++;
			}
		}
		CHECK(calls >= 2);
		/* line info: the first instruction maps to a line of the source */
		const char *file, *text;
		uint32_t line, col;
		CHECK_EQ(bpfvm_prog_line_info(p, 0, &file, &text, &line, &col), 0);
		CHECK_CONTAINS(file, "subprogs.bpf.c");
		CHECK(line > 10);
	}
	bpfvm_object_close(obj);
}

/* what the perf buffer delivered */
static uint8_t perf_rec[64];
static uint32_t perf_size;
static int perf_cnt;
static void on_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	(void)ctx, (void)cpu;
	perf_cnt++;
	perf_size = size;
	memcpy(perf_rec, data, size < sizeof(perf_rec) ? size : sizeof(perf_rec));
}

/* kconfig externs, iterator kfuncs, bpf_loop, for_each_map_elem, pointer
 * arguments to subprograms, string helpers, queue/stack/bloom, perf buffer:
 * the program stores its findings in .bss */
static void test_misc_helpers(void)
{
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log_buf;
	oo.log_size = sizeof(log_buf);
	oo.kconfig = "CONFIG_HZ=250\n";
	struct bpfvm_object *obj = bpfvm_object_open("tests/objects/misc_helpers.bpf.o", &oo);
	CHECK(obj != NULL);
	if (!obj)
		return;
	int err = bpfvm_object_load(obj);
	CHECK_EQ(err, 0);
	if (err) {
		fprintf(stderr, "%s\n", log_buf);
		bpfvm_object_close(obj);
		return;
	}
	struct bpfvm_prog *p = bpfvm_object_find_prog(obj, "misc");
	CHECK(p && bpfvm_prog_is_verified(p));
	struct bpfvm_perf_buffer *pb =
		bpfvm_perf_buffer_new(bpfvm_object_find_map(obj, "events"), 8, on_sample, NULL, NULL, NULL);
	CHECK(pb != NULL);
	uint8_t pkt[64] = { 0 };
	struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	t.data_in = pkt;
	t.data_size_in = sizeof(pkt);
	CHECK_EQ(bpfvm_prog_test_run(p, &t), 0);
	CHECK_EQ(t.retval, 2); /* XDP_PASS */
	struct {
		const char *name;
		uint64_t want;
		size_t size;
	} g[] = {
		{ "hz", 250, 4 },
		{ "iter_sum", 0 + 1 + 2 + 3 + 4, 8 },
		{ "loop_sum", 45, 8 },
		{ "pair_sum", 84 + 42, 8 },
		{ "each_sum", 1 + 102 + 203 + 304, 8 },
		{ "fifo_first", 1, 4 },
		{ "lifo_first", 3, 4 },
		{ "bloom_hit", 1, 4 },
		{ "parsed", (uint64_t)-1234, 8 },
		{ "cmp_eq", 0, 8 },
		{ "cmp_ne", (uint64_t)-1, 8 },
		{ "printed_len", 9, 8 }, /* "n=7 h=2a" (8) + NUL */
		{ "time_nonzero", 1, 4 },
		{ "rnd_nonzero", 1, 4 },
	};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		uint64_t v = 0;
		CHECK_EQ(bpfvm_object_get_global(obj, g[i].name, &v, sizeof(v)), (long)g[i].size);
		if (g[i].size == 4)
			v = (uint32_t)v;
		if (v != g[i].want)
			fprintf(stderr, "global %s = %llu, want %llu\n", g[i].name,
				(unsigned long long)v, (unsigned long long)g[i].want);
		CHECK_EQ(v, g[i].want);
	}
	char printed[32] = "";
	bpfvm_object_get_global(obj, "printed", printed, sizeof(printed));
	CHECK_STR(printed, "n=7 h=2a");
	uint32_t kver = 0;
	bpfvm_object_get_global(obj, "kver", &kver, sizeof(kver));
	CHECK(kver >= (5u << 16)); /* the running kernel's version */
	if (pb) {
		CHECK_EQ(bpfvm_perf_buffer_consume(pb) >= 0, 1);
		CHECK_EQ(perf_cnt, 1);
		CHECK_EQ(perf_size >= 16, 1);
		uint64_t a = 0, b = 0;
		memcpy(&a, perf_rec, 8);
		memcpy(&b, perf_rec + 8, 8);
		CHECK_EQ(a, 0xabcdef);
		CHECK_EQ(b, 10);
		bpfvm_perf_buffer_free(pb);
	}
	bpfvm_object_close(obj);
}

static void test_refusals(void)
{
	/* CO-RE relocations are refused at load, with a reason; open still
	 * works so the programs can be listed */
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log_buf;
	oo.log_size = sizeof(log_buf);
	struct bpfvm_object *obj = bpfvm_object_open("tests/objects/core_reloc.bpf.o", &oo);
	CHECK(obj != NULL);
	if (obj) {
		CHECK(bpfvm_object_prog_cnt(obj) >= 1);
		CHECK_EQ(bpfvm_object_load(obj), -EOPNOTSUPP);
		CHECK_CONTAINS(log_buf, "CO-RE relocations");
		bpfvm_object_close(obj);
	}

	/* an unknown SEC() name is an error naming the section */
	size_t sz = 0;
	FILE *f = fopen("tests/objects/subprogs.bpf.o", "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	uint8_t *buf = malloc(1 << 20);
	sz = fread(buf, 1, 1 << 20, f);
	fclose(f);
	for (size_t i = 0; i + 10 < sz; i++) /* rename section "xdp.frags" everywhere */
		if (!memcmp(buf + i, "xdp.frags", 10))
			memcpy(buf + i, "xdp.fragg", 10);
	obj = bpfvm_object_open_mem(buf, sz, &oo);
	CHECK(obj == NULL);
	CHECK_CONTAINS(log_buf, "section xdp.fragg: ");
	/* truncated objects are refused cleanly */
	for (size_t cut = 0; cut < sz; cut += sz / 17 + 1) {
		obj = bpfvm_object_open_mem(buf, cut, &oo);
		CHECK(obj == NULL);
		bpfvm_object_close(obj);
	}
	free(buf);
	/* a missing file names the path */
	obj = bpfvm_object_open("tests/objects/nope.o", &oo);
	CHECK(obj == NULL);
	CHECK_CONTAINS(log_buf, "nope.o");
}

int main(void)
{
	test_globals();
	test_tailcall_maps();
	test_subprogs_linking();
	test_misc_helpers();
	test_refusals();
	return TEST_DONE();
}
