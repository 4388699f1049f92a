/* test_elf.c — the ELF64 reader (src/loader/elf.c) on the committed test
 * objects and on damaged copies of them.
 *
 * Valid objects: section table, symbol table, SHT_REL sections and their
 * entries, legacy SEC("maps") definitions.  Damaged objects: one field at a
 * time is broken (header, offsets, string indices, links, symbol and
 * relocation indices) and the error message must name what and where.  Then
 * every prefix and thousands of random byte mutations of every object must
 * parse or fail cleanly (run under `make asan` to catch any stray read).
 */
#include <errno.h>
#include <stdlib.h>

#include "loader/elf.h"
#include "testutil.h"

#define OBJ_DIR "tests/objects/"

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		fprintf(stderr, "cannot open %s (tests run from the repo root)\n",
			path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void wr(uint8_t *p, int n, uint64_t v)
{
	int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* byte address of field `off` of section header idx */
static uint8_t *shdr(uint8_t *b, unsigned idx, unsigned off)
{
	return b + rd(b + 40, 8) + idx * 64u + off;
}

static const struct elf_symbol *find_sym(const struct elf_file *ef,
					 const char *name)
{
	size_t i;

	for (i = 1; i < ef->sym_cnt; i++)
		if (strcmp(ef->syms[i].name, name) == 0)
			return &ef->syms[i];
	return NULL;
}

/* parse a damaged copy: must fail with -EINVAL and a message containing
 * every needle */
static void expect_fail(const uint8_t *buf, size_t size, const char *n1,
			const char *n2, int line)
{
	struct elf_file *ef = (struct elf_file *)1;
	char err[512] = "";
	int ret = elf_parse(buf, size, &ef, err, sizeof(err));

	if (ret != -EINVAL || ef != NULL)
		fprintf(stderr, "line %d: expected -EINVAL, got %d\n", line, ret);
	CHECK_EQ(ret, -EINVAL);
	CHECK(ef == NULL);
	CHECK_CONTAINS(err, n1);
	if (n2)
		CHECK_CONTAINS(err, n2);
}

#define EXPECT_FAIL(buf, size, n1, n2) expect_fail(buf, size, n1, n2, __LINE__)

static void test_tailcall(void)
{
	size_t size;
	uint8_t *buf = slurp(OBJ_DIR "tailcall.bpf.o", &size);
	const struct elf_section *xdp, *maps, *bss;
	const struct elf_relsec *rs;
	const struct elf_symbol *sym;
	struct elf_file *ef;
	char err[256];
	size_t i;

	CHECK_EQ(elf_parse(buf, size, &ef, err, sizeof(err)), 0);
	if (!ef)
		return;
	CHECK_EQ(ef->sec_cnt, 28);
	xdp = elf_section_by_name(ef, "xdp");
	CHECK(xdp != NULL);
	if (!xdp)
		return;
	CHECK_EQ(xdp->index, 3);
	CHECK_EQ(xdp->type, ELF_SHT_PROGBITS);
	CHECK_EQ(xdp->flags, ELF_SHF_ALLOC | ELF_SHF_EXECINSTR);
	CHECK_EQ(xdp->size, 536);	/* 67 instructions, three programs */
	CHECK(xdp->data == buf + 0x40);
	CHECK(elf_section_by_index(ef, 3) == xdp);
	CHECK(elf_section_by_index(ef, 0) == NULL);
	CHECK(elf_section_by_index(ef, 28) == NULL);
	maps = elf_section_by_name(ef, ".maps");
	CHECK(maps && maps->size == 136 && maps->flags == (ELF_SHF_WRITE | ELF_SHF_ALLOC));
	CHECK(elf_section_by_name(ef, ".BTF") != NULL);
	CHECK(elf_section_by_name(ef, ".BTF.ext") != NULL);
	CHECK(elf_section_by_name(ef, "license") != NULL);
	bss = elf_section_by_name(ef, ".bss");
	CHECK(bss == NULL);
	CHECK(elf_section_by_name(ef, "nope") == NULL);

	/* symbols */
	CHECK_EQ(ef->sym_cnt, 23);
	CHECK_EQ(ef->symtab_idx, 27);
	sym = find_sym(ef, "handle_ipv4");
	CHECK(sym && sym->type == ELF_STT_FUNC && sym->bind == ELF_STB_GLOBAL &&
	      sym->shndx == 3 && sym->value == 0 && sym->size == 152 &&
	      sym->visibility == ELF_STV_DEFAULT);
	sym = find_sym(ef, "dispatch");
	CHECK(sym && sym->value == 0x128 && sym->size == 240);
	sym = find_sym(ef, "jump_table");
	CHECK(sym && sym->type == ELF_STT_OBJECT && sym->shndx == maps->index &&
	      sym->value == 0 && sym->size == 40);
	sym = find_sym(ef, "per_tenant");
	CHECK(sym && sym->value == 0x70 && sym->size == 24);
	sym = find_sym(ef, "tailcall.bpf.c");
	CHECK(sym && sym->type == ELF_STT_FILE && sym->shndx == ELF_SHN_ABS);
	CHECK_EQ(ef->syms[2].type, ELF_STT_SECTION);
	CHECK_EQ(ef->syms[2].shndx, 3);

	/* .relxdp: four lddw map references */
	rs = elf_relsec_for(ef, xdp->index);
	CHECK(rs != NULL);
	if (rs) {
		static const char *const want[] = { "per_family", "per_family",
						    "per_tenant", "jump_table" };
		static const uint64_t off[] = { 0x30, 0xc0, 0x180, 0x1f0 };

		CHECK_STR(ef->secs[rs->sec_idx].name, ".relxdp");
		CHECK_EQ(ef->secs[rs->sec_idx].type, ELF_SHT_REL);
		CHECK_EQ(rs->reloc_cnt, 4);
		for (i = 0; i < rs->reloc_cnt && i < 4; i++) {
			CHECK_EQ(rs->relocs[i].type, ELF_R_BPF_64_64);
			CHECK_EQ(rs->relocs[i].offset, off[i]);
			CHECK_STR(ef->syms[rs->relocs[i].sym].name, want[i]);
			/* the lddw opcode (0x18) sits at the relocated offset */
			CHECK_EQ(xdp->data[rs->relocs[i].offset], 0x18);
		}
	}
	/* .rel.maps: the statically initialised .values slots */
	rs = elf_relsec_for(ef, maps->index);
	CHECK(rs && rs->reloc_cnt == 3);
	if (rs && rs->reloc_cnt == 3) {
		CHECK_EQ(rs->relocs[0].type, ELF_R_BPF_64_ABS64);
		CHECK_EQ(rs->relocs[0].offset, 0x18);	/* jump_table.values[0] */
		CHECK_STR(ef->syms[rs->relocs[0].sym].name, "handle_ipv4");
		CHECK_EQ(rs->relocs[1].offset, 0x20);	/* jump_table.values[1] */
		CHECK_STR(ef->syms[rs->relocs[1].sym].name, "handle_ipv6");
		CHECK_EQ(rs->relocs[2].offset, 0x68);	/* per_family.values[1] */
		CHECK_STR(ef->syms[rs->relocs[2].sym].name, "counts_a");
	}
	rs = elf_relsec_for(ef, elf_section_by_name(ef, ".BTF")->index);
	CHECK(rs && rs->reloc_cnt > 0 &&
	      rs->relocs[0].type == ELF_R_BPF_64_NODYLD32);
	CHECK(elf_relsec_for(ef, 1) == NULL);
	CHECK_STR(elf_reloc_type_name(ELF_R_BPF_64_32), "R_BPF_64_32");
	CHECK_STR(elf_reloc_type_name(77), "unknown");
	elf_free(ef);
	free(buf);
}

static void test_subprogs(void)
{
	size_t size;
	uint8_t *buf = slurp(OBJ_DIR "subprogs.bpf.o", &size);
	const struct elf_section *text, *xdp;
	const struct elf_relsec *rs;
	const struct elf_symbol *sym;
	struct elf_file *ef;
	char err[256];

	CHECK_EQ(elf_parse(buf, size, &ef, err, sizeof(err)), 0);
	if (!ef)
		return;
	text = elf_section_by_name(ef, ".text");
	xdp = elf_section_by_name(ef, "xdp");
	CHECK(text && xdp && elf_section_by_name(ef, "xdp.frags"));
	if (!text || !xdp)
		return;
	CHECK_EQ(text->size, 120);	/* frame_len (6 insns) + fold16 (9) */
	sym = find_sym(ef, "frame_len");	/* global function in .text */
	CHECK(sym && sym->shndx == text->index && sym->bind == ELF_STB_GLOBAL &&
	      sym->type == ELF_STT_FUNC && sym->value == 0);
	sym = find_sym(ef, "fold16");	/* static function in .text */
	CHECK(sym && sym->shndx == text->index && sym->bind == ELF_STB_LOCAL &&
	      sym->type == ELF_STT_FUNC && sym->value == 48);
	rs = elf_relsec_for(ef, xdp->index);
	CHECK(rs && rs->reloc_cnt == 2);
	if (rs && rs->reloc_cnt == 2) {
		/* a call to the global goes through its symbol; the call to the
		 * static one through the .text section symbol plus the
		 * instruction's imm */
		CHECK_EQ(rs->relocs[0].type, ELF_R_BPF_64_32);
		CHECK_STR(ef->syms[rs->relocs[0].sym].name, "frame_len");
		CHECK_EQ(rs->relocs[1].type, ELF_R_BPF_64_32);
		CHECK_EQ(ef->syms[rs->relocs[1].sym].type, ELF_STT_SECTION);
		CHECK_EQ(ef->syms[rs->relocs[1].sym].shndx, text->index);
		CHECK_EQ(xdp->data[rs->relocs[1].offset], 0x85);	/* call */
		CHECK_EQ(xdp->data[rs->relocs[1].offset + 1], 0x10);	/* src=1: pseudo call */
	}
	elf_free(ef);
	free(buf);
}

static void test_globals(void)
{
	size_t size;
	uint8_t *buf = slurp(OBJ_DIR "globals.bpf.o", &size);
	const struct elf_section *bss, *data, *rodata;
	const struct elf_symbol *sym;
	struct elf_file *ef;
	char err[256];

	CHECK_EQ(elf_parse(buf, size, &ef, err, sizeof(err)), 0);
	if (!ef)
		return;
	bss = elf_section_by_name(ef, ".bss");
	data = elf_section_by_name(ef, ".data");
	rodata = elf_section_by_name(ef, ".rodata");
	CHECK(bss && data && rodata);
	if (!bss || !data || !rodata)
		return;
	CHECK_EQ(bss->type, ELF_SHT_NOBITS);
	CHECK(bss->data == NULL);
	CHECK_EQ(bss->size, 56);	/* sampled, bucket_hits[5], seen */
	CHECK_EQ(data->size, 12);	/* generation, tag[8] */
	CHECK_EQ(rodata->flags, ELF_SHF_ALLOC);
	CHECK_EQ(rodata->size, 25);
	sym = find_sym(ef, "generation");
	CHECK(sym && sym->shndx == data->index && sym->size == 4);
	if (sym)
		CHECK_EQ(rd(data->data + sym->value, 4), 7);
	sym = find_sym(ef, "tag");
	CHECK(sym && sym->size == 8);
	if (sym)
		CHECK_STR((const char *)data->data + sym->value, "bpfvm");
	sym = find_sym(ef, "cfg_sample_rate");
	CHECK(sym && sym->shndx == rodata->index && sym->size == 4);
	if (sym)
		CHECK_EQ(rd(rodata->data + sym->value, 4), 4);
	sym = find_sym(ef, "cfg_min_len");
	if (sym)
		CHECK_EQ(rd(rodata->data + sym->value, 4), 64);
	sym = find_sym(ef, "greeting");
	CHECK(sym && sym->bind == ELF_STB_LOCAL && sym->shndx == rodata->index);
	if (sym)
		CHECK_STR((const char *)rodata->data + sym->value,
			  "sampled len=%u\n");
	sym = find_sym(ef, "bucket_hits");
	CHECK(sym && sym->shndx == bss->index && sym->size == 40);
	elf_free(ef);
	free(buf);
}

static void test_legacy_maps(void)
{
	size_t size, cnt = 0;
	uint8_t *buf = slurp(OBJ_DIR "sockfilter_legacy.bpf.o", &size);
	const struct elf_section *maps;
	struct elf_legacy_map *m = NULL;
	struct elf_file *ef;
	char err[256];

	CHECK_EQ(elf_parse(buf, size, &ef, err, sizeof(err)), 0);
	if (!ef)
		return;
	maps = elf_section_by_name(ef, "maps");
	CHECK(maps && maps->size == 40);
	if (!maps)
		return;
	CHECK_EQ(elf_legacy_maps(ef, maps->index, &m, &cnt, err, sizeof(err)), 0);
	CHECK_EQ(cnt, 2);
	if (cnt == 2) {
		/* symbol order, not offset order */
		const struct elf_legacy_map *pc =
			strcmp(m[0].name, "proto_count") == 0 ? &m[0] : &m[1];
		const struct elf_legacy_map *dc = pc == &m[0] ? &m[1] : &m[0];

		CHECK_STR(pc->name, "proto_count");
		CHECK_EQ(pc->type, 2);	/* BPF_MAP_TYPE_ARRAY */
		CHECK_EQ(pc->key_size, 4);
		CHECK_EQ(pc->value_size, 8);
		CHECK_EQ(pc->max_entries, 256);
		CHECK_EQ(pc->map_flags, 0);
		CHECK_STR(dc->name, "drop_count");
		CHECK_EQ(dc->type, 6);	/* BPF_MAP_TYPE_PERCPU_ARRAY */
		CHECK_EQ(dc->max_entries, 1);
		CHECK(pc->sec_offset != dc->sec_offset);
		CHECK(pc->sec_offset % 20 == 0 && dc->sec_offset % 20 == 0);
	}
	free(m);

	/* a section whose size does not divide by its symbol count */
	{
		uint8_t *bad = malloc(size);
		struct elf_file *ef2;

		memcpy(bad, buf, size);
		wr(shdr(bad, maps->index, 32), 8, 39);
		CHECK_EQ(elf_parse(bad, size, &ef2, err, sizeof(err)), 0);
		if (ef2) {
			CHECK_EQ(elf_legacy_maps(ef2, maps->index, &m, &cnt, err,
						 sizeof(err)), -EINVAL);
			CHECK_CONTAINS(err, "section 5 (maps): cannot tell the map "
					    "definition size: 2 map symbols in 39 bytes");
			CHECK_EQ(elf_legacy_maps(ef2, 99, &m, &cnt, err,
						 sizeof(err)), -EINVAL);
			CHECK_CONTAINS(err, "section index 99 is not a section");
			elf_free(ef2);
		}
		free(bad);
	}
	elf_free(ef);
	free(buf);
}

static void test_sockfilter_ldabs(void)
{
	size_t size;
	uint8_t *buf = slurp(OBJ_DIR "sockfilter_legacy.bpf.o", &size);
	const struct elf_section *s;
	struct elf_file *ef;
	char err[256];
	uint64_t i;
	int ldabs = 0;

	CHECK_EQ(elf_parse(buf, size, &ef, err, sizeof(err)), 0);
	if (!ef)
		return;
	s = elf_section_by_name(ef, "socket");
	CHECK(s != NULL);
	for (i = 0; s && i + 8 <= s->size; i += 8)
		ldabs += s->data[i] == 0x30;	/* BPF_LD | BPF_ABS | BPF_B */
	CHECK_EQ(ldabs, 1);
	elf_free(ef);
	free(buf);
}

static void test_damaged(void)
{
	size_t size;
	uint8_t *orig = slurp(OBJ_DIR "tailcall.bpf.o", &size);
	uint8_t *b = malloc(size);
	uint64_t symoff, reloff, strtab_end;

#define RESET() memcpy(b, orig, size)

	/* header */
	EXPECT_FAIL(orig, 10, "file is 10 bytes, shorter than the 64-byte ELF64 header", NULL);
	EXPECT_FAIL(orig, 0, "file is 0 bytes", NULL);
	RESET(); b[1] = 'X';
	EXPECT_FAIL(b, size, "ELF header: bad magic 7f 58 4c 46", NULL);
	RESET(); b[4] = 1;
	EXPECT_FAIL(b, size, "class 1 is not ELFCLASS64", NULL);
	RESET(); b[5] = 2;
	EXPECT_FAIL(b, size, "data encoding 2 is not little-endian", NULL);
	RESET(); wr(b + 16, 2, 2);
	EXPECT_FAIL(b, size, "type 2 is not ET_REL", NULL);
	RESET(); wr(b + 18, 2, 62);
	EXPECT_FAIL(b, size, "machine 62 is not EM_BPF (247)", NULL);
	RESET(); wr(b + 58, 2, 40);
	EXPECT_FAIL(b, size, "section header size 40, expected 64", NULL);
	RESET(); wr(b + 40, 8, size - 64);
	EXPECT_FAIL(b, size, "section header table (28 entries at offset", "runs past the end");
	RESET(); wr(b + 40, 8, UINT64_MAX - 63);	/* offset + size wraps */
	EXPECT_FAIL(b, size, "section header table", "runs past the end");
	RESET(); wr(b + 60, 2, 0);
	EXPECT_FAIL(b, size, "extended section numbering", NULL);
	RESET(); wr(b + 62, 2, 28);
	EXPECT_FAIL(b, size, "section name table index 28 is not a section (28 sections)", NULL);
	RESET(); wr(b + 62, 2, 3);
	EXPECT_FAIL(b, size, "section 3: section name table has type 1, not SHT_STRTAB", NULL);
	EXPECT_FAIL(orig, size - 100, "section header table", "runs past the end");

	/* sections */
	RESET(); wr(shdr(b, 3, 24), 8, size - 8);
	EXPECT_FAIL(b, size, "section 3: data (536 bytes at offset", "runs past the end");
	RESET(); wr(shdr(b, 3, 32), 8, UINT64_MAX);
	EXPECT_FAIL(b, size, "section 3: data (", "runs past the end");
	RESET(); wr(shdr(b, 5, 0), 4, 0x10000);
	EXPECT_FAIL(b, size, "section 5: name offset 65536 is outside the section name table (356 bytes)", NULL);
	/* the last string of .strtab loses its NUL */
	RESET(); strtab_end = rd(shdr(b, 1, 24), 8) + rd(shdr(b, 1, 32), 8);
	b[strtab_end - 1] = 'X';
	EXPECT_FAIL(b, size, "not NUL-terminated", NULL);

	/* symbol table */
	RESET(); wr(shdr(b, 27, 56), 8, 16);
	EXPECT_FAIL(b, size, "section 27 (.symtab): symbol entry size 16, expected 24", NULL);
	RESET(); wr(shdr(b, 27, 32), 8, 23 * 24 - 1);
	EXPECT_FAIL(b, size, "section 27 (.symtab): size 551 is not a multiple", NULL);
	RESET(); wr(shdr(b, 27, 40), 4, 3);
	EXPECT_FAIL(b, size, "section 27 (.symtab): string table link 3 is not a SHT_STRTAB section", NULL);
	RESET(); wr(shdr(b, 25, 4), 4, ELF_SHT_SYMTAB);
	EXPECT_FAIL(b, size, "section 27 (.symtab): a second symbol table (the first is section 25)", NULL);
	symoff = rd(shdr(orig, 27, 24), 8);
	RESET(); wr(b + symoff + 15 * 24, 4, 0x7fffffff);
	EXPECT_FAIL(b, size, "section 27 (.symtab): symbol 15 name offset 2147483647 is outside string table section 1 (.strtab", NULL);
	RESET(); wr(b + symoff + 15 * 24 + 6, 2, 200);
	EXPECT_FAIL(b, size, "symbol 15 (handle_ipv4) has section index 200 beyond the section table (28 sections)", NULL);
	RESET(); wr(b + symoff + 15 * 24 + 6, 2, ELF_SHN_XINDEX);
	EXPECT_FAIL(b, size, "symbol 15 (handle_ipv4) uses an extended section index", NULL);

	/* relocations: .relxdp is section 4, four entries */
	reloff = rd(shdr(orig, 4, 24), 8);
	RESET(); wr(b + reloff + 3 * 16 + 12, 4, 99);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): relocation 3 has symbol index 99 beyond the symbol table (23 symbols)", NULL);
	RESET(); wr(b + reloff + 2 * 16, 8, 536 - 8);	/* lddw needs 16 bytes */
	EXPECT_FAIL(b, size, "section 4 (.relxdp): relocation 2 (R_BPF_64_64) at offset 0x210 runs past the end of target section 3 (xdp, 536 bytes)", NULL);
	RESET(); wr(b + reloff, 8, UINT64_MAX - 4);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): relocation 0", "runs past the end of target section 3");
	RESET(); wr(shdr(b, 4, 40), 4, 1);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): symbol table link 1 is not the symbol table (section 27)", NULL);
	RESET(); wr(shdr(b, 4, 44), 4, 99);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): target section index 99 is not a section (28 sections)", NULL);
	RESET(); wr(shdr(b, 4, 44), 4, 0);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): target section index 0", NULL);
	RESET(); wr(shdr(b, 4, 56), 8, 24);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): relocation entry size 24, expected 16", NULL);
	RESET(); wr(shdr(b, 4, 32), 8, 63);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): size 63 is not a multiple of the 16-byte relocation entry", NULL);
	RESET(); wr(shdr(b, 27, 4), 4, ELF_SHT_PROGBITS);	/* no symtab left */
	EXPECT_FAIL(b, size, "symbol table link 27 is not the symbol table (section 0)", NULL);
	RESET(); wr(shdr(b, 3, 4), 4, ELF_SHT_NOBITS);
	EXPECT_FAIL(b, size, "section 4 (.relxdp): target section 3 (xdp) has no data to relocate", NULL);

	/* a small error buffer truncates but stays terminated */
	{
		struct elf_file *ef;
		char small[8];

		CHECK_EQ(elf_parse(orig, 3, &ef, small, sizeof(small)), -EINVAL);
		CHECK_EQ(strlen(small), 7);
		CHECK_EQ(elf_parse(orig, 3, &ef, NULL, 0), -EINVAL);
	}
#undef RESET
	free(b);
	free(orig);
}

/* Every object, every prefix length near the interesting places and many
 * random mutations: parse must return 0, or -EINVAL with a message. */
static void test_robust(void)
{
	static const char *const objs[] = {
		"globals", "ringbuf", "sockfilter_legacy", "subprogs",
		"tailcall", "tc_prio", "xdp_fw",
	};
	uint32_t seed = 12345;
	size_t o;
	int bad = 0;

	for (o = 0; o < sizeof(objs) / sizeof(objs[0]); o++) {
		char path[128];
		size_t size, n, i;
		uint8_t *orig, *b;

		snprintf(path, sizeof(path), OBJ_DIR "%s.bpf.o", objs[o]);
		orig = slurp(path, &size);
		b = malloc(size);
		for (n = 0; n <= size; n += o == 0 ? 1 : 7) {
			struct elf_file *ef;
			char err[256] = "";
			int ret;

			memcpy(b, orig, n);	/* exact-size copy: ASan sees overreads */
			ret = elf_parse(b, n, &ef, err, sizeof(err));
			if (ret == 0)
				elf_free(ef);
			else if (ret != -EINVAL || !err[0])
				bad++;
		}
		for (i = 0; i < 3000; i++) {
			struct elf_file *ef;
			char err[256] = "";
			int k, flips, ret;

			memcpy(b, orig, size);
			seed = seed * 1103515245u + 12345u;
			flips = 1 + (seed >> 16) % 4;
			for (k = 0; k < flips; k++) {
				seed = seed * 1103515245u + 12345u;
				b[(seed >> 8) % size] ^= (uint8_t)(1u << (seed % 8));
			}
			ret = elf_parse(b, size, &ef, err, sizeof(err));
			if (ret == 0) {
				const struct elf_section *m = elf_section_by_name(ef, "maps");
				struct elf_legacy_map *lm;
				size_t cnt;

				if (m && elf_legacy_maps(ef, m->index, &lm, &cnt, err,
							 sizeof(err)) == 0)
					free(lm);
				elf_free(ef);
			} else if (ret != -EINVAL || !err[0]) {
				bad++;
			}
		}
		free(b);
		free(orig);
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	test_tailcall();
	test_subprogs();
	test_globals();
	test_legacy_maps();
	test_sockfilter_ldabs();
	test_damaged();
	test_robust();
	return TEST_DONE();
}
