/* test_btf.c — the BTF parser, queries, BTF-defined map parser, C renderer
 * and .BTF.ext parser (src/loader/btf.c).
 *
 * Real data comes from the committed test objects: every map kind they
 * define (array, hash with flags and pinning, per-CPU array, bloom filter
 * with map_extra, LRU hash with numa_node, perf event array by sizes, ring
 * buffer, prog array with .values, array- and hash-of-maps with inner
 * templates), spin lock offsets, func_info and line_info.  Malformed data is
 * built by hand with a small BTF writer, one defect at a time, and each error
 * message is checked; then real .BTF/.BTF.ext bytes are mutated at random.
 */
#include <errno.h>
#include <stdlib.h>

#include "loader/btf.h"
#include "loader/elf.h"
#include "testutil.h"

#define OBJ_DIR "tests/objects/"

/* ---- loading the test objects ---- */

struct obj {
	uint8_t *buf;
	struct elf_file *ef;
	struct btf *btf;
	struct btf_ext *ext;
};

static void obj_open(struct obj *o, const char *name)
{
	char path[128], err[256];
	const struct elf_section *s;
	FILE *f;
	long n;

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), OBJ_DIR "%s.bpf.o", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s (tests run from the repo root)\n",
			path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	o->buf = malloc((size_t)n);
	if (!o->buf || fread(o->buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	if (elf_parse(o->buf, (size_t)n, &o->ef, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(1);
	}
	s = elf_section_by_name(o->ef, ".BTF");
	o->btf = s ? btf_parse(s->data, s->size, err, sizeof(err)) : NULL;
	CHECK(o->btf != NULL);
	if (!o->btf) {
		fprintf(stderr, "%s: .BTF: %s\n", path, err);
		exit(1);
	}
	s = elf_section_by_name(o->ef, ".BTF.ext");
	o->ext = s ? btf_ext_parse(o->btf, s->data, s->size, err, sizeof(err)) : NULL;
	CHECK(o->ext != NULL);
	if (!o->ext) {
		fprintf(stderr, "%s: .BTF.ext: %s\n", path, err);
		exit(1);
	}
}

static void obj_close(struct obj *o)
{
	btf_ext_free(o->ext);
	btf_free(o->btf);
	elf_free(o->ef);
	free(o->buf);
}

/* parse the .maps variable called name */
static int map_def(const struct obj *o, const char *name, struct btf_map_def *def,
		   struct btf_map_def *inner)
{
	int32_t ds = btf_find_by_name_kind(o->btf, ".maps", BTF_KIND_DATASEC);
	const struct btf_type *t = btf_type_by_id(o->btf, ds > 0 ? (uint32_t)ds : 0);
	char err[256];
	unsigned i;

	for (i = 0; ds > 0 && i < btf_vlen(t); i++) {
		uint32_t var = btf_var_secinfos(t)[i].type;

		if (strcmp(btf_type_name(o->btf, var), name) == 0) {
			int ret = btf_map_def_parse(o->btf, var, def, inner, err,
						    sizeof(err));
			if (ret)
				fprintf(stderr, "map %s: %s\n", name, err);
			return ret;
		}
	}
	fprintf(stderr, "no map %s\n", name);
	return -ENOENT;
}

static uint32_t id_of(const struct btf *btf, const char *name, unsigned kind)
{
	int32_t id = btf_find_by_name_kind(btf, name, kind);

	CHECK(id > 0);
	return id > 0 ? (uint32_t)id : 0;
}

static const char *dump(const struct btf *btf, uint32_t id)
{
	static char buf[1024];

	btf_dump_type(btf, id, buf, sizeof(buf));
	return buf;
}

/* ---- real objects ---- */

static void test_xdp_fw_maps(void)
{
	struct btf_map_def d, in;
	struct obj o;

	obj_open(&o, "xdp_fw");
	CHECK_EQ(map_def(&o, "blocklist", &d, &in), 0);
	CHECK_STR(d.name, "blocklist");
	CHECK_EQ(d.map_type, 1);	/* HASH */
	CHECK_EQ(d.key_size, 4);
	CHECK_STR(btf_type_name(o.btf, d.key_type_id), "__u32");
	CHECK_EQ(d.value_size, 1);
	CHECK_EQ(d.max_entries, 1024);
	CHECK_EQ(d.map_flags, 1);	/* BPF_F_NO_PREALLOC */
	CHECK_EQ(d.pinning, 1);		/* LIBBPF_PIN_BY_NAME */
	CHECK_EQ(d.parts, BTF_MAP_HAS_TYPE | BTF_MAP_HAS_KEY_TYPE |
			  BTF_MAP_HAS_VALUE_TYPE | BTF_MAP_HAS_MAX_ENTRIES |
			  BTF_MAP_HAS_MAP_FLAGS | BTF_MAP_HAS_PINNING);
	CHECK_EQ(btf_find_spin_lock(o.btf, d.value_type_id), -1);

	CHECK_EQ(map_def(&o, "stats", &d, &in), 0);
	CHECK_EQ(d.map_type, 6);	/* PERCPU_ARRAY */
	CHECK_EQ(d.value_size, 16);
	CHECK_EQ(d.max_entries, 5);
	CHECK_STR(dump(o.btf, d.value_type_id),
		  "struct verdict_stats {\n\t__u64 packets;\n\t__u64 bytes;\n}");
	CHECK_EQ(btf_find_spin_lock(o.btf, d.value_type_id), -1);

	CHECK_EQ(map_def(&o, "seen", &d, &in), 0);
	CHECK_EQ(d.map_type, 30);	/* BLOOM_FILTER */
	CHECK_EQ(d.key_size, 0);
	CHECK_EQ(d.key_type_id, 0);
	CHECK_EQ(d.value_size, 4);
	CHECK_EQ(d.max_entries, 4096);
	CHECK_EQ(d.map_extra, 3);
	CHECK(d.parts & BTF_MAP_HAS_MAP_EXTRA);

	CHECK_EQ(map_def(&o, "last_seen", &d, &in), 0);
	CHECK_EQ(d.map_type, 9);	/* LRU_HASH */
	CHECK(d.parts & BTF_MAP_HAS_NUMA_NODE);
	CHECK_EQ(d.numa_node, 0);
	CHECK_EQ(d.value_size, 8);

	CHECK_EQ(map_def(&o, "events", &d, &in), 0);
	CHECK_EQ(d.map_type, 4);	/* PERF_EVENT_ARRAY */
	CHECK_EQ(d.key_size, 4);
	CHECK_EQ(d.value_size, 4);
	CHECK_EQ(d.key_type_id, 0);	/* sizes only, no types */
	CHECK_EQ(d.value_type_id, 0);
	CHECK_EQ(d.parts, BTF_MAP_HAS_TYPE | BTF_MAP_HAS_KEY_SIZE |
			  BTF_MAP_HAS_VALUE_SIZE);
	CHECK_EQ(d.max_entries, 0);

	/* one program, one FUNC record, line info with source text */
	CHECK_EQ(o.ext->sec_cnt, 1);
	CHECK_EQ(o.ext->func_cnt, 1);
	CHECK_EQ(o.ext->line_cnt, 47);
	CHECK_EQ(o.ext->core_relo_cnt, 0);
	obj_close(&o);
}

static void test_tailcall_maps(void)
{
	struct btf_map_def d, in;
	struct obj o;

	obj_open(&o, "tailcall");
	memset(&in, 0, sizeof(in));
	CHECK_EQ(map_def(&o, "jump_table", &d, &in), 0);
	CHECK_EQ(d.map_type, 3);	/* PROG_ARRAY */
	CHECK_EQ(d.max_entries, 8);
	CHECK_EQ(d.key_size, 4);
	CHECK_EQ(d.value_size, 4);
	CHECK(d.parts & BTF_MAP_HAS_VALUES);
	CHECK(!(d.parts & BTF_MAP_HAS_INNER));
	CHECK_EQ(d.inner_type_id, 0);
	CHECK_EQ(d.values_off, 24);	/* after type, max_entries, key */
	CHECK_EQ(in.map_type, 0);	/* untouched */

	CHECK_EQ(map_def(&o, "per_family", &d, &in), 0);
	CHECK_EQ(d.map_type, 12);	/* ARRAY_OF_MAPS */
	CHECK_EQ(d.max_entries, 2);
	CHECK_EQ(d.value_size, 4);
	CHECK_EQ(d.values_off, 24);
	CHECK(d.parts & BTF_MAP_HAS_INNER);
	CHECK_STR(btf_type_name(o.btf, d.inner_type_id), "inner_counts");
	CHECK_STR(in.name, "per_family");
	CHECK_EQ(in.map_type, 2);	/* ARRAY */
	CHECK_EQ(in.max_entries, 4);
	CHECK_EQ(in.key_size, 4);
	CHECK_EQ(in.value_size, 8);

	CHECK_EQ(map_def(&o, "per_tenant", &d, &in), 0);
	CHECK_EQ(d.map_type, 13);	/* HASH_OF_MAPS */
	CHECK_EQ(d.max_entries, 16);
	CHECK(d.parts & BTF_MAP_HAS_INNER);
	CHECK_STR(btf_type_name(o.btf, d.inner_type_id), "");	/* anonymous */
	CHECK_EQ(in.map_type, 1);	/* HASH */
	CHECK_EQ(in.max_entries, 64);
	CHECK_EQ(in.key_size, 8);
	CHECK_EQ(in.value_size, 4);

	/* the inner map template is also an ordinary map */
	CHECK_EQ(map_def(&o, "counts_a", &d, NULL), 0);
	CHECK_EQ(d.map_type, 2);
	CHECK_EQ(d.values_off, 0);

	/* three programs in one section: three func_info records */
	{
		const struct btf_ext_sec *s = btf_ext_sec_by_name(o.ext, "xdp");

		CHECK(s != NULL);
		if (s) {
			CHECK_EQ(s->func_cnt, 3);
			CHECK_EQ(s->funcs[0].insn_off, 0);
			CHECK_STR(btf_type_name(o.btf, s->funcs[0].type_id), "handle_ipv4");
			CHECK_EQ(s->funcs[1].insn_off, 152);
			CHECK_STR(btf_type_name(o.btf, s->funcs[1].type_id), "handle_ipv6");
			CHECK_EQ(s->funcs[2].insn_off, 296);
			CHECK_STR(btf_type_name(o.btf, s->funcs[2].type_id), "dispatch");
			CHECK_EQ(s->line_cnt, 32);
		}
	}
	/* `int (*type)[3]` and the prog array's function pointer array */
	{
		uint32_t id = 0;
		const struct btf_type *t;

		map_def(&o, "jump_table", &d, NULL);
		t = btf_type_by_id(o.btf, d.def_type_id);
		CHECK(t && btf_kind(t) == BTF_KIND_STRUCT && btf_vlen(t) == 4);
		if (t && btf_vlen(t) == 4) {
			CHECK_STR(btf_name_by_offset(o.btf, btf_members(t)[0].name_off), "type");
			CHECK_STR(dump(o.btf, btf_members(t)[0].type), "int (*)[3]");
			CHECK_STR(btf_name_by_offset(o.btf, btf_members(t)[3].name_off), "values");
			CHECK_EQ(btf_member_bit_offset(t, 3), 192);
			id = btf_members(t)[3].type;
			CHECK_STR(dump(o.btf, id), "int (*[0])(void *)");
		}
		CHECK_STR(dump(o.btf, id_of(o.btf, "jump_table", BTF_KIND_VAR)),
			  "struct { int (*type)[3]; int (*max_entries)[8]; "
			  "__u32 *key; int (*values[0])(void *); } jump_table");
	}
	obj_close(&o);
}

static void test_tc_spin_lock(void)
{
	struct btf_map_def d;
	struct obj o;
	const struct btf_ext_sec *s;

	obj_open(&o, "tc_prio");
	CHECK_EQ(map_def(&o, "proto_bytes", &d, NULL), 0);
	CHECK_EQ(d.key_size, 1);
	CHECK_EQ(d.value_size, 24);
	CHECK_STR(btf_type_name(o.btf, d.value_type_id), "proto_counter");
	CHECK_EQ(btf_find_spin_lock(o.btf, d.value_type_id), 8);
	CHECK_EQ(btf_find_spin_lock(o.btf, id_of(o.btf, "bpf_spin_lock", BTF_KIND_STRUCT)), -1);
	CHECK_EQ(btf_find_spin_lock(o.btf, 100000), -EINVAL);
	CHECK_STR(dump(o.btf, d.value_type_id),
		  "struct proto_counter {\n\t__u64 packets;\n"
		  "\tstruct bpf_spin_lock lock;\n\t__u64 bytes;\n}");
	/* two program sections, each with its own records */
	CHECK_EQ(o.ext->sec_cnt, 2);
	s = btf_ext_sec_by_name(o.ext, "tcx/ingress");
	CHECK(s && s->func_cnt == 1 && s->line_cnt == 23);
	s = btf_ext_sec_by_name(o.ext, "tc");
	CHECK(s && s->func_cnt == 1 && s->line_cnt == 12);
	CHECK(btf_ext_sec_by_name(o.ext, "xdp") == NULL);
	obj_close(&o);
}

static void test_ringbuf(void)
{
	struct btf_map_def d;
	struct obj o;
	uint32_t ev;

	obj_open(&o, "ringbuf");
	CHECK_EQ(map_def(&o, "events", &d, NULL), 0);
	CHECK_EQ(d.map_type, 27);	/* RINGBUF */
	CHECK_EQ(d.max_entries, 65536);
	CHECK_EQ(d.key_size, 0);
	CHECK_EQ(d.value_size, 0);
	CHECK_EQ(d.parts, BTF_MAP_HAS_TYPE | BTF_MAP_HAS_MAX_ENTRIES);
	/* struct pkt_event is only used through a local pointer: no BTF */
	CHECK_EQ(btf_find_by_name_kind(o.btf, "pkt_event", BTF_KIND_STRUCT), -ENOENT);
	ev = id_of(o.btf, "events", BTF_KIND_VAR);
	CHECK_STR(dump(o.btf, ev),
		  "struct { int (*type)[27]; int (*max_entries)[65536]; } events");
	CHECK_EQ(btf_resolve_size(o.btf, ev), 16);
	obj_close(&o);
}

static void test_globals_types(void)
{
	const struct btf_type *t, *ds;
	struct obj o;
	uint32_t id, res = 0;
	unsigned i, found = 0;

	obj_open(&o, "globals");
	/* const volatile config: VAR -> CONST -> VOLATILE -> TYPEDEF -> INT */
	id = id_of(o.btf, "cfg_sample_rate", BTF_KIND_VAR);
	t = btf_type_by_id(o.btf, id);
	CHECK_EQ(btf_var_of(t)->linkage, BTF_VAR_GLOBAL_ALLOCATED);
	CHECK_EQ(btf_kind(btf_type_by_id(o.btf, t->type)), BTF_KIND_CONST);
	CHECK_STR(dump(o.btf, id), "const volatile __u32 cfg_sample_rate");
	t = btf_skip_modifiers(o.btf, t->type, &res);
	CHECK(t && btf_kind(t) == BTF_KIND_INT && t->size == 4);
	CHECK_STR(btf_type_name(o.btf, res), "unsigned int");
	CHECK_EQ(btf_int_encoding_of(t), 32);	/* unsigned, 32 bits */
	CHECK_EQ(btf_resolve_size(o.btf, id), 4);
	CHECK_EQ(btf_resolve_size(o.btf, id_of(o.btf, "bucket_hits", BTF_KIND_VAR)), 40);
	CHECK_EQ(btf_resolve_size(o.btf, id_of(o.btf, "__sk_buff", BTF_KIND_STRUCT)), 192);
	CHECK_EQ(btf_resolve_size(o.btf, id_of(o.btf, "tc_sample", BTF_KIND_FUNC)), -EINVAL);
	CHECK_EQ(btf_resolve_size(o.btf, id_of(o.btf, "bpf_sock", BTF_KIND_FWD)), -EINVAL);
	CHECK_EQ(btf_resolve_size(o.btf, btf_type_cnt(o.btf)), -EINVAL);
	CHECK_EQ(btf_resolve_size(o.btf, 0), -EINVAL);	/* void */
	CHECK_STR(dump(o.btf, id_of(o.btf, "greeting", BTF_KIND_VAR)),
		  "const char greeting[16]");
	CHECK_STR(dump(o.btf, id_of(o.btf, "tc_sample", BTF_KIND_FUNC)),
		  "int tc_sample(struct __sk_buff *skb)");
	CHECK(btf_type_name(o.btf, btf_type_cnt(o.btf)) == NULL);

	/* .rodata holds the three config variables and the static string */
	ds = btf_type_by_id(o.btf, id_of(o.btf, ".rodata", BTF_KIND_DATASEC));
	for (i = 0; i < btf_vlen(ds); i++) {
		const char *n = btf_type_name(o.btf, btf_var_secinfos(ds)[i].type);

		found += strncmp(n, "cfg_", 4) == 0 || strcmp(n, "greeting") == 0;
	}
	CHECK_EQ(btf_vlen(ds), 4);
	CHECK_EQ(found, 4);
	CHECK_EQ(btf_find_by_name_kind(o.btf, ".rodata", BTF_KIND_STRUCT), -ENOENT);
	CHECK_EQ(btf_find_by_name_kind(o.btf, "no_such_type", BTF_KIND_STRUCT), -ENOENT);
	CHECK_EQ(btf_find_by_name_kind(o.btf, "void", BTF_KIND_INT), 0);

	/* member iteration over struct __sk_buff */
	t = btf_type_by_id(o.btf, id_of(o.btf, "__sk_buff", BTF_KIND_STRUCT));
	CHECK(btf_vlen(t) > 30);
	CHECK_STR(btf_name_by_offset(o.btf, btf_members(t)[0].name_off), "len");
	CHECK_EQ(btf_member_bit_offset(t, 0), 0);
	CHECK_STR(btf_name_by_offset(o.btf, btf_members(t)[2].name_off), "mark");
	CHECK_EQ(btf_member_bit_offset(t, 2), 64);
	CHECK_EQ(btf_member_bitfield_size(t, 2), 0);
	CHECK(btf_name_by_offset(o.btf, 0x7fffffff) == NULL);
	CHECK_STR(btf_name_by_offset(o.btf, 0), "");
	CHECK_STR(btf_kind_name(BTF_KIND_ENUM64), "enum64");
	CHECK_STR(btf_kind_name(99), "unknown");

	/* truncation: the return value is the full length */
	{
		char small[8];
		int n = btf_dump_type(o.btf, id_of(o.btf, "tc_sample", BTF_KIND_FUNC),
				      small, sizeof(small));

		CHECK_EQ(n, strlen("int tc_sample(struct __sk_buff *skb)"));
		CHECK_STR(small, "int tc_");
		CHECK_EQ(btf_dump_type(o.btf, 999999, small, sizeof(small)), -EINVAL);
	}
	obj_close(&o);
}

static void test_subprogs_ext(void)
{
	const struct btf_ext_sec *s;
	struct obj o;
	size_t i;
	int found = 0;

	obj_open(&o, "subprogs");
	CHECK_EQ(o.ext->sec_cnt, 3);
	CHECK_EQ(o.ext->func_cnt, 4);
	CHECK_EQ(o.ext->line_cnt, 29);
	s = btf_ext_sec_by_name(o.ext, ".text");
	CHECK(s && s->func_cnt == 2 && s->line_cnt == 14);
	if (s && s->func_cnt == 2) {
		const struct btf_type *f;

		CHECK_EQ(s->funcs[0].insn_off, 0);
		CHECK_STR(btf_type_name(o.btf, s->funcs[0].type_id), "frame_len");
		f = btf_type_by_id(o.btf, s->funcs[0].type_id);
		CHECK_EQ(btf_vlen(f), BTF_FUNC_GLOBAL);	/* verified on its own */
		CHECK_EQ(s->funcs[1].insn_off, 48);
		CHECK_STR(btf_type_name(o.btf, s->funcs[1].type_id), "fold16");
		f = btf_type_by_id(o.btf, s->funcs[1].type_id);
		CHECK_EQ(btf_vlen(f), BTF_FUNC_STATIC);
		CHECK_STR(dump(o.btf, s->funcs[1].type_id), "__u32 fold16(__u32 sum)");
		for (i = 0; i < s->line_cnt; i++) {
			const struct btf_line_info *l = &s->lines[i];

			CHECK_STR(l->file, "./tests/objects/subprogs.bpf.c");
			CHECK(l->insn_off % 8 == 0 && l->insn_off < 120);
			if (strcmp(l->line, "\treturn ctx->data_end - ctx->data;") == 0) {
				CHECK_EQ(l->line_num, 23);
				found++;
			}
		}
		CHECK(found >= 1);
		CHECK_EQ(s->lines[0].line_num, 19);
		CHECK_EQ(s->lines[0].col, 0);
		CHECK_STR(s->lines[0].line, "__noinline int frame_len(struct xdp_md *ctx)");
	}
	s = btf_ext_sec_by_name(o.ext, "xdp");
	CHECK(s && s->func_cnt == 1 && s->line_cnt == 12);
	if (s && s->line_cnt > 1) {
		CHECK_EQ(s->lines[1].line_num, 30);
		CHECK_EQ(s->lines[1].col, 38);
	}
	s = btf_ext_sec_by_name(o.ext, "xdp.frags");
	CHECK(s && s->func_cnt == 1 && s->line_cnt == 3 && s->core_relo_cnt == 0);
	obj_close(&o);
}

/* clang leaves DATASEC sizes and global VAR offsets at 0; the fixup fills
 * them from the ELF section and symbols, and sorts by offset */
static void expect_vars(const struct btf *btf, const char *sec, uint32_t size,
			const char *const *names, const uint32_t *offs, unsigned n)
{
	const struct btf_type *t =
		btf_type_by_id(btf, id_of(btf, sec, BTF_KIND_DATASEC));
	unsigned i;

	CHECK_EQ(t->size, size);
	CHECK_EQ(btf_vlen(t), n);
	for (i = 0; i < n && i < btf_vlen(t); i++) {
		CHECK_STR(btf_type_name(btf, btf_var_secinfos(t)[i].type), names[i]);
		CHECK_EQ(btf_var_secinfos(t)[i].offset, offs[i]);
	}
}

static void test_datasec_fixup(void)
{
	static const char *const bss[] = { "sampled", "bucket_hits", "seen" };
	static const uint32_t bss_off[] = { 0, 8, 48 };
	static const char *const ro[] = { "cfg_sample_rate", "cfg_min_len",
					  "cfg_verbose", "greeting" };
	static const uint32_t ro_off[] = { 0, 4, 8, 9 };
	static const char *const data[] = { "generation", "tag" };
	static const uint32_t data_off[] = { 0, 4 };
	static const char *const maps[] = { "jump_table", "counts_a",
					    "per_family", "per_tenant" };
	static const uint32_t maps_off[] = { 0, 0x28, 0x48, 0x70 };
	char err[256];
	struct obj o;
	const struct btf_type *t;

	obj_open(&o, "globals");
	t = btf_type_by_id(o.btf, id_of(o.btf, ".bss", BTF_KIND_DATASEC));
	CHECK_EQ(t->size, 0);	/* as clang wrote it */
	CHECK_EQ(btf_var_secinfos(t)[2].offset, 0);
	CHECK_EQ(btf_fixup_datasecs(o.btf, o.ef, err, sizeof(err)), 0);
	expect_vars(o.btf, ".bss", 56, bss, bss_off, 3);
	expect_vars(o.btf, ".rodata", 25, ro, ro_off, 4);
	expect_vars(o.btf, ".data", 12, data, data_off, 2);
	obj_close(&o);

	obj_open(&o, "tailcall");
	CHECK_EQ(btf_fixup_datasecs(o.btf, o.ef, err, sizeof(err)), 0);
	expect_vars(o.btf, ".maps", 136, maps, maps_off, 4);
	obj_close(&o);

	/* a global whose ELF symbol is missing */
	obj_open(&o, "ringbuf");
	{
		struct elf_symbol *sym = NULL;
		size_t i;

		for (i = 1; i < o.ef->sym_cnt; i++)
			if (strcmp(o.ef->syms[i].name, "dropped") == 0)
				sym = &o.ef->syms[i];
		CHECK(sym != NULL);
		if (sym) {
			sym->name = "renamed";
			CHECK_EQ(btf_fixup_datasecs(o.btf, o.ef, err, sizeof(err)), -EINVAL);
			CHECK_STR(err, "DATASEC '.bss': no global ELF symbol for VAR 'dropped'");
		}
	}
	obj_close(&o);
	obj_open(&o, "ringbuf");
	{
		struct elf_symbol *sym = NULL;
		size_t i;

		for (i = 1; i < o.ef->sym_cnt; i++)
			if (strcmp(o.ef->syms[i].name, "dropped") == 0)
				sym = &o.ef->syms[i];
		if (sym) {
			sym->value = 4;	/* 8 bytes at 4 in an 8-byte .bss */
			CHECK_EQ(btf_fixup_datasecs(o.btf, o.ef, err, sizeof(err)), -EINVAL);
			CHECK_STR(err, "DATASEC '.bss': VAR 'dropped' (8 bytes at offset 4) "
				       "lies outside the section's 8 bytes");
		}
	}
	obj_close(&o);
}

/* ---- a small BTF writer for malformed input ---- */

struct bw {
	uint32_t t[1024];	/* type section words */
	size_t tn;
	char s[2048];		/* string section */
	size_t sn;
	uint32_t ids;		/* last type id */
};

static void bw_init(struct bw *b)
{
	memset(b, 0, sizeof(*b));
	b->sn = 1;	/* "" at offset 0 */
}

static uint32_t bw_str(struct bw *b, const char *str)
{
	uint32_t off = (uint32_t)b->sn;

	memcpy(b->s + b->sn, str, strlen(str) + 1);
	b->sn += strlen(str) + 1;
	return off;
}

static void bw_u32(struct bw *b, uint32_t v)
{
	b->t[b->tn++] = v;
}

/* a type record header; kind-specific words follow with bw_u32 */
static uint32_t bw_type(struct bw *b, const char *name, unsigned kind,
			unsigned vlen, uint32_t size_or_type)
{
	bw_u32(b, name ? bw_str(b, name) : 0);
	bw_u32(b, kind << 24 | vlen);
	bw_u32(b, size_or_type);
	return ++b->ids;
}

static uint32_t bw_int(struct bw *b, const char *name, uint32_t size)
{
	uint32_t id = bw_type(b, name, BTF_KIND_INT, 0, size);

	bw_u32(b, size * 8);
	return id;
}

/* `int (*)[n]`: libbpf's integer map field encoding; needs int as id 1 */
static uint32_t bw_uint_field(struct bw *b, uint32_t n)
{
	uint32_t arr = bw_type(b, NULL, BTF_KIND_ARRAY, 0, 0);

	bw_u32(b, 1);
	bw_u32(b, 1);
	bw_u32(b, n);
	return bw_type(b, NULL, BTF_KIND_PTR, 0, arr);
}

static void bw_member(struct bw *b, const char *name, uint32_t type,
		      uint32_t bit_off)
{
	bw_u32(b, bw_str(b, name));
	bw_u32(b, type);
	bw_u32(b, bit_off);
}

/* the .BTF bytes: header, types, strings */
static size_t bw_build(const struct bw *b, uint8_t *out)
{
	struct btf_header h = { BTF_MAGIC, 1, 0, 24, 0, 0, 0, 0 };

	h.type_len = (uint32_t)(b->tn * 4);
	h.str_off = h.type_len;
	h.str_len = (uint32_t)b->sn;
	memcpy(out, &h, 24);
	memcpy(out + 24, b->t, b->tn * 4);
	memcpy(out + 24 + b->tn * 4, b->s, b->sn);
	return 24 + b->tn * 4 + b->sn;
}

static uint8_t raw[8192];

static struct btf *bw_parse(const struct bw *b, char *err, size_t errsz)
{
	return btf_parse(raw, bw_build(b, raw), err, errsz);
}

/* build, parse, expect failure with a message containing needle */
static void expect_bad(const struct bw *b, const char *needle, int line)
{
	char err[256] = "";
	struct btf *btf = bw_parse(b, err, sizeof(err));

	if (btf) {
		fprintf(stderr, "line %d: malformed BTF parsed\n", line);
		btf_free(btf);
	}
	CHECK(btf == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_CONTAINS(err, needle);
}

#define EXPECT_BAD(b, needle) expect_bad(b, needle, __LINE__)

static void test_malformed_btf(void)
{
	struct bw b;
	char err[256];
	struct btf *btf;
	size_t n;

	/* header */
	bw_init(&b);
	bw_int(&b, "int", 4);
	n = bw_build(&b, raw);
	CHECK((btf = btf_parse(raw, n, err, sizeof(err))) != NULL);
	CHECK_EQ(btf_type_cnt(btf), 2);
	btf_free(btf);
	CHECK(btf_parse(raw, 20, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, ".BTF: 20 bytes, shorter than the 24-byte header");
	raw[0] = 0xeb; raw[1] = 0x9f;	/* 0xeb9f stored big-endian */
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "bad magic 0x9feb (expected 0xeb9f; this BTF is big-endian)");
	bw_build(&b, raw); raw[2] = 2;
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "unsupported version 2");
	bw_build(&b, raw); raw[3] = 1;
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "unsupported flags 0x1");
	bw_build(&b, raw);
	CHECK(btf_parse(raw, n - 1, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "string section (5 bytes at 16) runs past the 20 bytes after the header");
	bw_build(&b, raw); raw[12] = 0xff; raw[13] = 0xff; raw[14] = 0xff; raw[15] = 0xff;
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);	/* type_len 2^32-1 */
	CHECK_CONTAINS(err, "type section (4294967295 bytes at 0) runs past");
	bw_build(&b, raw); raw[4] = 28;	/* hdr_len 28 with a non-zero byte after 24 */
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "header byte 24 is not zero");
	bw_build(&b, raw); raw[24 + 16] = 'x';	/* strings must start with NUL */
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "string section must start and end with a NUL byte");
	bw_build(&b, raw); raw[n - 1] = 'x';
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "string section must start and end with a NUL byte");
	bw_build(&b, raw); raw[16] = 8;	/* strings overlap types */
	CHECK(btf_parse(raw, n, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "overlap");
	CHECK(btf_parse(NULL, 0, err, sizeof(err)) == NULL);

	/* records */
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, "s", BTF_KIND_STRUCT, 5, 8);	/* 5 members announced, none there */
	EXPECT_BAD(&b, "type [2] struct with vlen 5: its 60 bytes of members run past the type section (28 bytes)");
	bw_init(&b);
	bw_type(&b, "x", 25, 0, 0);
	EXPECT_BAD(&b, "type [1] at offset 0: unknown kind 25");
	bw_init(&b);
	bw_int(&b, "int", 4);
	b.tn--;	/* cut the INT's encoding word */
	EXPECT_BAD(&b, "its 4 bytes of members run past");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_u32(&b, 7);	/* 4 stray bytes: a truncated record */
	EXPECT_BAD(&b, "type [2] at offset 16: truncated record (4 bytes left, 12 needed)");
	bw_init(&b);
	bw_int(&b, "int", 3);
	EXPECT_BAD(&b, "type [1] int 'int': size 3 is not 1, 2, 4, 8 or 16");
	bw_init(&b);
	bw_int(&b, "int", 4);
	b.t[0] = 0x7fff;	/* name_off */
	EXPECT_BAD(&b, "type [1] int: name offset 32767 is outside the string section (5 bytes)");

	/* ids */
	bw_init(&b);
	bw_type(&b, NULL, BTF_KIND_PTR, 0, 99);
	EXPECT_BAD(&b, "type [1] ptr '': refers to type id 99 beyond the last type (1)");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, "s", BTF_KIND_STRUCT, 1, 4);
	bw_member(&b, "m", 42, 0);
	EXPECT_BAD(&b, "type [2] struct 's': member 0 refers to type id 42 beyond the last type (2)");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, "s", BTF_KIND_STRUCT, 1, 4);
	bw_member(&b, "m", 1, 64);
	EXPECT_BAD(&b, "type [2] struct 's': member 0 at bit 64 lies outside its 4 bytes");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, "f", BTF_KIND_FUNC, 0, 1);
	EXPECT_BAD(&b, "type [2] func 'f': type 1 is not a FUNC_PROTO");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, ".data", BTF_KIND_DATASEC, 1, 4);
	bw_u32(&b, 1);
	bw_u32(&b, 0);
	bw_u32(&b, 4);
	EXPECT_BAD(&b, "type [2] datasec '.data': entry 0 is type [1] int, not a VAR or FUNC");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, "v", BTF_KIND_VAR, 0, 1);
	bw_u32(&b, 7);
	EXPECT_BAD(&b, "type [2] var 'v': unknown linkage 7");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);
	bw_u32(&b, 1);
	bw_u32(&b, 77);
	bw_u32(&b, 2);
	EXPECT_BAD(&b, "type [2] array '': element type 1 or index type 77 is beyond the last type (2)");

	/* reference loops */
	bw_init(&b);
	bw_type(&b, NULL, BTF_KIND_PTR, 0, 2);
	bw_type(&b, "loop_t", BTF_KIND_TYPEDEF, 0, 1);
	EXPECT_BAD(&b, "is part of a reference loop");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, NULL, BTF_KIND_CONST, 0, 2);	/* const of itself */
	EXPECT_BAD(&b, "type [2] const '' is part of a reference loop (reached again from type [2])");
	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, NULL, BTF_KIND_VOLATILE, 0, 3);
	bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);	/* array of volatile array ... */
	bw_u32(&b, 2);
	bw_u32(&b, 1);
	bw_u32(&b, 4);
	EXPECT_BAD(&b, "reference loop");
	/* a struct pointing to itself through a pointer is fine */
	bw_init(&b);
	bw_type(&b, "node", BTF_KIND_STRUCT, 1, 8);
	bw_member(&b, "next", 2, 0);
	bw_type(&b, NULL, BTF_KIND_PTR, 0, 1);
	btf = bw_parse(&b, err, sizeof(err));
	CHECK(btf != NULL);
	if (btf) {
		CHECK_EQ(btf_resolve_size(btf, 1), 8);
		CHECK_STR(dump(btf, 1), "struct node {\n\tstruct node *next;\n}");
		btf_free(btf);
	}
}

static void test_resolve_limits(void)
{
	struct bw b;
	char err[256];
	struct btf *btf;
	uint32_t i, last = 0, big;

	/* a 40-deep typedef chain: valid BTF, too deep to resolve */
	bw_init(&b);
	bw_int(&b, "int", 4);
	for (i = 0; i < 40; i++)
		last = bw_type(&b, "t", BTF_KIND_TYPEDEF, 0, i + 1);
	/* int[1 << 20][1 << 20]: the size overflows 32 bits */
	big = bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);
	bw_u32(&b, 1);
	bw_u32(&b, 1);
	bw_u32(&b, 1u << 20);
	big = bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);
	bw_u32(&b, big - 1);
	bw_u32(&b, 1);
	bw_u32(&b, 1u << 20);
	btf = bw_parse(&b, err, sizeof(err));
	CHECK(btf != NULL);
	if (!btf)
		return;
	CHECK_EQ(btf_resolve_size(btf, 20), 4);
	CHECK_EQ(btf_resolve_size(btf, last), -ELOOP);
	CHECK_EQ(btf_resolve_size(btf, big - 1), 4 << 20);
	CHECK_EQ(btf_resolve_size(btf, big), -E2BIG);
	CHECK_EQ(btf_skip_modifiers(btf, last, &i), btf_type_by_id(btf, 1));
	CHECK_EQ(i, 1);
	CHECK(btf_skip_modifiers(btf, 9999, NULL) == NULL);
	CHECK(btf_type_by_id(btf, 9999) == NULL);
	CHECK_EQ(btf_kind(btf_type_by_id(btf, 0)), BTF_KIND_UNKN);
	CHECK_STR(dump(btf, big), "int[1048576][1048576]");
	btf_free(btf);
}

/* A .maps definition struct "m" built from (field, type) pairs; int is id 1. */
static int parse_map(struct bw *b, uint32_t def_struct, struct btf_map_def *d,
		     struct btf_map_def *in, char *err, size_t errsz)
{
	struct btf *btf = bw_parse(b, err, errsz);
	uint32_t var = b->ids;	/* bw_map added the VAR last */
	int ret;

	(void)def_struct;
	CHECK(btf != NULL);
	if (!btf)
		return -999;
	ret = btf_map_def_parse(btf, var, d, in, err, errsz);
	btf_free(btf);
	return ret;
}

/* finish a struct of cnt members (already appended) and its VAR "m" */
static uint32_t bw_map(struct bw *b, uint32_t struct_hdr_word, unsigned cnt)
{
	uint32_t sid = b->ids;

	b->t[struct_hdr_word] = BTF_KIND_STRUCT << 24 | cnt;
	bw_type(b, "m", BTF_KIND_VAR, 0, sid);
	bw_u32(b, BTF_VAR_GLOBAL_ALLOCATED);
	return sid;
}

static void test_map_def_errors(void)
{
	struct btf_map_def d, in;
	struct bw b;
	char err[256];
	uint32_t f_hash, f_prog, f_aom, f_4, f_2, u32p, sid, hw;

#define BEGIN()                                                                \
	do {                                                                   \
		bw_init(&b);                                                   \
		bw_int(&b, "int", 4);                                          \
		f_hash = bw_uint_field(&b, 1);                                 \
		f_prog = bw_uint_field(&b, 3);                                 \
		f_aom = bw_uint_field(&b, 12);                                 \
		f_4 = bw_uint_field(&b, 4);                                    \
		f_2 = bw_uint_field(&b, 2);                                    \
		u32p = bw_type(&b, NULL, BTF_KIND_PTR, 0, 1);                  \
		sid = bw_type(&b, NULL, BTF_KIND_STRUCT, 0, 64);               \
		hw = (uint32_t)b.tn - 2;                                       \
	} while (0)

	BEGIN();
	bw_member(&b, "type", f_hash, 0);
	bw_member(&b, "key", u32p, 64);
	bw_member(&b, "value", u32p, 128);
	bw_member(&b, "max_entries", f_4, 192);
	bw_map(&b, hw, 4);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), 0);
	CHECK_EQ(d.map_type, 1);
	CHECK_EQ(d.key_size, 4);
	CHECK_EQ(d.max_entries, 4);
	CHECK_EQ(d.parts, BTF_MAP_HAS_TYPE | BTF_MAP_HAS_KEY_TYPE |
			  BTF_MAP_HAS_VALUE_TYPE | BTF_MAP_HAS_MAX_ENTRIES);

	BEGIN();
	bw_member(&b, "type", f_hash, 0);
	bw_member(&b, "foo", f_4, 64);
	bw_map(&b, hw, 2);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': unknown field 'foo'");

	BEGIN();
	bw_member(&b, "max_entries", f_4, 0);
	bw_map(&b, hw, 1);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': map type isn't specified");

	BEGIN();
	bw_member(&b, "type", 1, 0);	/* a plain int, not int (*)[N] */
	bw_map(&b, hw, 1);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': attr 'type': expected PTR, got int");

	BEGIN();
	bw_member(&b, "type", u32p, 0);	/* pointer, but not to an array */
	bw_map(&b, hw, 1);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': attr 'type': expected pointer to ARRAY, got pointer to int");

	BEGIN();
	bw_member(&b, "type", f_hash, 0);
	bw_member(&b, "key_size", f_2, 64);
	bw_member(&b, "key", u32p, 128);
	bw_map(&b, hw, 3);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': conflicting key size 2 != 4");

	BEGIN();
	bw_member(&b, "type", f_hash, 0);
	bw_member(&b, "key", f_4, 64);	/* pointer to int[4]: key of 16 bytes */
	bw_member(&b, "pinning", f_2, 128);
	bw_map(&b, hw, 3);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': invalid pinning value 2");

	BEGIN();
	bw_member(&b, "type", f_hash, 0);
	bw_member(&b, "value", 1, 64);
	bw_map(&b, hw, 2);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': value spec is not PTR: int");

	BEGIN();
	bw_member(&b, "", f_hash, 0);
	bw_map(&b, hw, 1);
	CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "map 'm': invalid field #0 (no name)");

	/* values: a hash can't have them, must be last, inner can't nest */
	{
		uint32_t inner_sid, inner_ptr, arr, arr_of_inner;

		BEGIN();
		bw_member(&b, "type", f_hash, 0);
		b.t[hw] = BTF_KIND_STRUCT << 24 | 1;
		inner_sid = sid;
		inner_ptr = bw_type(&b, NULL, BTF_KIND_PTR, 0, inner_sid);
		arr = bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);
		bw_u32(&b, inner_ptr);
		bw_u32(&b, 1);
		bw_u32(&b, 0);
		arr_of_inner = arr;
		/* outer: hash with values */
		sid = bw_type(&b, NULL, BTF_KIND_STRUCT, 0, 64);
		hw = (uint32_t)b.tn - 2;
		bw_member(&b, "type", f_hash, 0);
		bw_member(&b, "values", arr_of_inner, 64);
		bw_map(&b, hw, 2);
		CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "map 'm': should be map-in-map or prog-array to have 'values'");

		/* the same outer as array-of-maps parses, with the inner */
		b.t[b.tn - 4 - 3 - 3 + 1] = f_aom;	/* first member's type */
		CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), 0);
		CHECK_EQ(d.map_type, 12);
		CHECK_EQ(d.values_off, 8);
		CHECK_EQ(d.inner_type_id, inner_sid);
		CHECK_EQ(in.map_type, 1);

		/* values not last */
		b.tn -= 4;	/* drop the VAR */
		b.ids--;
		bw_member(&b, "max_entries", f_4, 128);
		bw_map(&b, hw, 3);
		CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "map 'm': 'values' member should be last");
	}
	{
		/* an inner map with pinning, and a values array of non-zero size */
		uint32_t inner_sid, inner_ptr, arr;

		BEGIN();
		bw_member(&b, "type", f_hash, 0);
		bw_member(&b, "pinning", f_hash, 64);	/* pinning = 1 */
		b.t[hw] = BTF_KIND_STRUCT << 24 | 2;
		inner_sid = sid;
		inner_ptr = bw_type(&b, NULL, BTF_KIND_PTR, 0, inner_sid);
		arr = bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);
		bw_u32(&b, inner_ptr);
		bw_u32(&b, 1);
		bw_u32(&b, 0);
		sid = bw_type(&b, NULL, BTF_KIND_STRUCT, 0, 64);
		hw = (uint32_t)b.tn - 2;
		bw_member(&b, "type", f_aom, 0);
		bw_member(&b, "values", arr, 64);
		bw_map(&b, hw, 2);
		CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "map 'm.inner': inner def can't be pinned");
		CHECK_EQ(parse_map(&b, sid, &d, NULL, err, sizeof(err)), 0);
	}
	{
		/* prog array whose values point to a struct instead of a proto */
		uint32_t sp, arr;

		BEGIN();
		bw_member(&b, "type", f_hash, 0);
		b.t[hw] = BTF_KIND_STRUCT << 24 | 1;
		sp = bw_type(&b, NULL, BTF_KIND_PTR, 0, sid);
		arr = bw_type(&b, NULL, BTF_KIND_ARRAY, 0, 0);
		bw_u32(&b, sp);
		bw_u32(&b, 1);
		bw_u32(&b, 0);
		sid = bw_type(&b, NULL, BTF_KIND_STRUCT, 0, 64);
		hw = (uint32_t)b.tn - 2;
		bw_member(&b, "type", f_prog, 0);
		bw_member(&b, "values", arr, 64);
		bw_map(&b, hw, 2);
		CHECK_EQ(parse_map(&b, sid, &d, &in, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "map 'm': prog-array value def is of unexpected kind struct");
	}
	/* map_extra as a one-value enum (libbpf's __ulong) */
	{
		uint32_t e;

		BEGIN();
		bw_member(&b, "type", f_hash, 0);
		bw_member(&b, "map_extra", 0, 64);
		bw_map(&b, hw, 2);
		e = bw_type(&b, NULL, BTF_KIND_ENUM64, 1, 8);
		bw_u32(&b, bw_str(&b, "__unique_value_1"));
		bw_u32(&b, 0x89abcdef);
		bw_u32(&b, 0x01234567);
		b.t[hw + 2 + 3 + 1] = e;	/* the map_extra member's type */
		{
			struct btf *btf = bw_parse(&b, err, sizeof(err));

			CHECK(btf != NULL);
			if (btf) {
				CHECK_EQ(btf_map_def_parse(btf, e - 1, &d, NULL, err,
							   sizeof(err)), 0);
				CHECK_EQ(d.map_extra, 0x0123456789abcdefull);
				CHECK_EQ(btf_map_def_parse(btf, 1, &d, NULL, err,
							   sizeof(err)), -EINVAL);
				CHECK_STR(err, ".maps: type [1] is not a VAR");
				btf_free(btf);
			}
		}
	}
#undef BEGIN
}

/* ---- .BTF.ext ---- */

static size_t ext_build(uint8_t *out, const uint32_t *func, size_t func_words,
			const uint32_t *line, size_t line_words)
{
	uint32_t h[8] = { 0xeB9F | 1u << 16, 32, 0, 0, 0, 0, 0, 0 };

	h[2] = 0;
	h[3] = (uint32_t)(func_words * 4);
	h[4] = h[3];
	h[5] = (uint32_t)(line_words * 4);
	h[6] = h[4] + h[5];
	memcpy(out, h, 32);
	memcpy(out + 32, func, func_words * 4);
	memcpy(out + 32 + func_words * 4, line, line_words * 4);
	return 32 + (func_words + line_words) * 4;
}

static void test_malformed_ext(void)
{
	struct bw b;
	struct btf *btf;
	struct btf_ext *ext;
	uint8_t e[512];
	char err[256];
	uint32_t sec, file, text, f;
	size_t n;

	bw_init(&b);
	bw_int(&b, "int", 4);
	bw_type(&b, NULL, BTF_KIND_FUNC_PROTO, 0, 1);
	f = bw_type(&b, "main", BTF_KIND_FUNC, BTF_FUNC_GLOBAL, 2);
	sec = bw_str(&b, "xdp");
	file = bw_str(&b, "a.c");
	text = bw_str(&b, "return 0;");
	btf = bw_parse(&b, err, sizeof(err));
	CHECK(btf != NULL);
	if (!btf)
		return;
	{
		uint32_t func[] = { 8, sec, 1, 0, f };
		uint32_t line[] = { 16, sec, 2, 0, file, text, 3 << 10 | 5,
				    8, file, 0, 4 << 10 };

		n = ext_build(e, func, 5, line, 11);
		ext = btf_ext_parse(btf, e, n, err, sizeof(err));
		CHECK(ext != NULL);
		if (ext) {
			CHECK_EQ(ext->sec_cnt, 1);
			CHECK_STR(ext->secs[0].sec_name, "xdp");
			CHECK_EQ(ext->secs[0].func_cnt, 1);
			CHECK_EQ(ext->secs[0].line_cnt, 2);
			CHECK_STR(ext->secs[0].lines[0].line, "return 0;");
			CHECK_EQ(ext->secs[0].lines[0].line_num, 3);
			CHECK_EQ(ext->secs[0].lines[0].col, 5);
			CHECK_EQ(ext->secs[0].lines[1].insn_off, 8);
			CHECK_STR(ext->secs[0].lines[1].line, "");
			btf_ext_free(ext);
		}
		/* CO-RE records are counted, not decoded */
		{
			uint8_t c[256];
			uint32_t core[] = { 16, sec, 2, 0, 1, 0, 0, 8, 1, 0, 0 };
			uint32_t h[8] = { 0xeB9F | 1u << 16, 32, 0, 0, 0, 0, 0, 44 };

			memcpy(c, h, 32);
			memcpy(c + 32, core, sizeof(core));
			ext = btf_ext_parse(btf, c, 32 + sizeof(core), err, sizeof(err));
			CHECK(ext && ext->core_relo_cnt == 2 &&
			      ext->secs[0].core_relo_cnt == 2);
			btf_ext_free(ext);
		}
		CHECK(btf_ext_parse(btf, e, 20, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, ".BTF.ext: 20 bytes, shorter than the 24-byte header");
		CHECK(btf_ext_parse(btf, e, n - 4, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "line_info (44 bytes at 20) runs past the 60 bytes after the header");
		e[2] = 2;
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "bad magic, version or flags");

		func[0] = 6;
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, ".BTF.ext: func_info: record size 6 (minimum 8, multiple of 4)");
		func[0] = 8;
		func[2] = 0;
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, ".BTF.ext: func_info: section 'xdp' has no records");
		func[2] = 2;
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "section 'xdp': 2 records of 8 bytes run past the end (8 bytes left)");
		func[2] = 1;
		func[4] = 1;	/* an INT, not a FUNC */
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "func_info: section 'xdp' record 0: type id 1 is not a FUNC");
		func[4] = f;
		func[3] = 4;	/* insn_off inside an instruction */
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "record 0: insn_off 4 is not a multiple of 8 bytes");
		func[3] = 0;
		func[1] = 9999;
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "func_info: section name offset 9999 at offset 4 is not a name in .BTF");
		func[1] = sec;
		line[5] = 9999;
		n = ext_build(e, func, 5, line, 11);
		CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
		CHECK_CONTAINS(err, "line_info: section 'xdp' record 0: file name offset 14 or line offset 9999 is outside the .BTF strings");
		line[5] = text;
		{
			/* the same section twice in func_info */
			uint32_t twice[] = { 8, sec, 1, 0, f, sec, 1, 8, f };

			n = ext_build(e, twice, 9, line, 11);
			CHECK(btf_ext_parse(btf, e, n, err, sizeof(err)) == NULL);
			CHECK_CONTAINS(err, ".BTF.ext: func_info: section 'xdp' is listed twice");
		}
	}
	btf_free(btf);
}

/* random damage to real .BTF and .BTF.ext: parse or fail, never crash */
static void test_robust(void)
{
	static const char *const objs[] = { "tailcall", "xdp_fw", "subprogs",
					    "globals" };
	uint32_t seed = 777;
	size_t o;
	int bad = 0;

	for (o = 0; o < sizeof(objs) / sizeof(objs[0]); o++) {
		const struct elf_section *bs, *es;
		struct obj ob;
		uint8_t *b, *e;
		int i;

		obj_open(&ob, objs[o]);
		bs = elf_section_by_name(ob.ef, ".BTF");
		es = elf_section_by_name(ob.ef, ".BTF.ext");
		b = malloc(bs->size);
		e = malloc(es->size);
		for (i = 0; i < 4000; i++) {
			char err[256] = "";
			struct btf *btf;
			size_t len = bs->size;
			int k;

			memcpy(b, bs->data, bs->size);
			memcpy(e, es->data, es->size);
			for (k = 0; k < 3; k++) {
				seed = seed * 1103515245u + 12345u;
				if (i % 2)
					b[(seed >> 8) % bs->size] ^= (uint8_t)(1u << (seed % 8));
				else
					e[(seed >> 8) % es->size] ^= (uint8_t)(1u << (seed % 8));
			}
			if (i % 7 == 0)
				len = (seed >> 4) % bs->size;
			btf = btf_parse(b, len, err, sizeof(err));
			if (!btf) {
				bad += !err[0];
				continue;
			}
			{
				struct btf_ext *ext = btf_ext_parse(btf, e, es->size,
								    err, sizeof(err));
				uint32_t id;
				char out[256];

				if (!ext)
					bad += !err[0];
				btf_ext_free(ext);
				for (id = 0; id < btf_type_cnt(btf); id++) {
					struct btf_map_def d, in;

					btf_resolve_size(btf, id);
					btf_dump_type(btf, id, out, sizeof(out));
					btf_find_spin_lock(btf, id);
					if (btf_kind(btf_type_by_id(btf, id)) == BTF_KIND_VAR)
						btf_map_def_parse(btf, id, &d, &in, err,
								  sizeof(err));
				}
			}
			btf_free(btf);
		}
		free(b);
		free(e);
		obj_close(&ob);
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	test_xdp_fw_maps();
	test_tailcall_maps();
	test_tc_spin_lock();
	test_ringbuf();
	test_globals_types();
	test_subprogs_ext();
	test_datasec_fixup();
	test_malformed_btf();
	test_resolve_limits();
	test_map_def_errors();
	test_malformed_ext();
	test_robust();
	return TEST_DONE();
}
