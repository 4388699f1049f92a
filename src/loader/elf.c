/* loader/elf.c — the ELF64 reader behind elf.h.
 *
 * Reads every field with explicit little-endian byte loads, so it works on
 * unaligned buffers and any host, and checks each offset and size with
 * overflow-safe arithmetic before touching the bytes it names.  The parse
 * goes in layers: file header, section header table, section names, symbol
 * table, relocation sections; each layer only trusts what the previous ones
 * validated.  Loops are bounded by counts that the buffer size itself bounds,
 * so no input can make it run long, allocate much more than the input, or
 * read outside [buf, buf + size).
 */
#include "loader/elf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EHDR_SZ 64u
#define SHDR_SZ 64u
#define SYM_SZ  24u
#define REL_SZ  16u
#define ET_REL  1u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err && errsz) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int fail_nomem(char *err, size_t errsz, const char *what)
{
	if (err && errsz)
		snprintf(err, errsz, "out of memory for %s", what);
	return -ENOMEM;
}

/* true when [off, off + len) lies inside a buffer of buf_sz bytes */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t buf_sz)
{
	return off <= buf_sz && len <= buf_sz - off;
}

/* The NUL-terminated string at offset off of string table strsec, or NULL
 * when off is outside the table or the string runs off its end. */
static const char *str_at(const struct elf_section *strsec, uint64_t off)
{
	const char *s;

	if (!strsec->data || off >= strsec->size)
		return NULL;
	s = (const char *)strsec->data + off;
	if (!memchr(s, '\0', strsec->size - off))
		return NULL;
	return s;
}

static const char *sec_name(const struct elf_file *ef, size_t idx)
{
	if (idx < ef->sec_cnt && ef->secs[idx].name)
		return ef->secs[idx].name;
	return "?";
}

static int parse_header(struct elf_file *ef, uint64_t *shoff, uint32_t *shnum,
			uint32_t *shstrndx, char *err, size_t errsz)
{
	const uint8_t *b = ef->buf;
	uint16_t shentsize;

	if (ef->buf_sz < EHDR_SZ)
		return fail(err, errsz,
			    "ELF header: file is %zu bytes, shorter than the "
			    "64-byte ELF64 header", ef->buf_sz);
	if (memcmp(b, "\177ELF", 4) != 0)
		return fail(err, errsz,
			    "ELF header: bad magic %02x %02x %02x %02x "
			    "(not an ELF file)", b[0], b[1], b[2], b[3]);
	if (b[4] != 2)
		return fail(err, errsz,
			    "ELF header: class %u is not ELFCLASS64 (2)", b[4]);
	if (b[5] != 1)
		return fail(err, errsz,
			    "ELF header: data encoding %u is not little-endian "
			    "(ELFDATA2LSB, 1)", b[5]);
	if (b[6] != 1)
		return fail(err, errsz,
			    "ELF header: ident version %u is not EV_CURRENT (1)",
			    b[6]);
	if (rd16(b + 16) != ET_REL)
		return fail(err, errsz,
			    "ELF header: type %u is not ET_REL (1): expected a "
			    "relocatable object from clang -c", rd16(b + 16));
	if (rd16(b + 18) != ELF_EM_BPF)
		return fail(err, errsz,
			    "ELF header: machine %u is not EM_BPF (247)",
			    rd16(b + 18));
	if (rd32(b + 20) != 1)
		return fail(err, errsz,
			    "ELF header: version %u is not EV_CURRENT (1)",
			    rd32(b + 20));

	*shoff = rd64(b + 40);
	shentsize = rd16(b + 58);
	*shnum = rd16(b + 60);
	*shstrndx = rd16(b + 62);
	if (*shnum == 0 && *shoff != 0)
		return fail(err, errsz,
			    "ELF header: extended section numbering (e_shnum 0, "
			    "e_shoff 0x%llx) is not supported",
			    (unsigned long long)*shoff);
	if (*shnum == 0)
		return fail(err, errsz, "ELF header: no section headers");
	if (shentsize != SHDR_SZ)
		return fail(err, errsz,
			    "ELF header: section header size %u, expected 64",
			    shentsize);
	if (!in_bounds(*shoff, (uint64_t)*shnum * SHDR_SZ, ef->buf_sz))
		return fail(err, errsz,
			    "ELF header: section header table (%u entries at "
			    "offset 0x%llx) runs past the end of the %zu-byte "
			    "file", *shnum, (unsigned long long)*shoff,
			    ef->buf_sz);
	if (*shstrndx == ELF_SHN_XINDEX)
		return fail(err, errsz,
			    "ELF header: extended section name table index is "
			    "not supported");
	if (*shstrndx == 0 || *shstrndx >= *shnum)
		return fail(err, errsz,
			    "ELF header: section name table index %u is not a "
			    "section (%u sections)", *shstrndx, *shnum);
	return 0;
}

static int parse_sections(struct elf_file *ef, uint64_t shoff,
			  uint32_t shstrndx, char *err, size_t errsz)
{
	const struct elf_section *names;
	size_t i;

	for (i = 0; i < ef->sec_cnt; i++) {
		const uint8_t *sh = ef->buf + shoff + i * SHDR_SZ;
		struct elf_section *s = &ef->secs[i];
		uint64_t off;

		s->index = (uint32_t)i;
		s->type = rd32(sh + 4);
		s->flags = rd64(sh + 8);
		off = rd64(sh + 24);
		s->size = rd64(sh + 32);
		s->link = rd32(sh + 40);
		s->info = rd32(sh + 44);
		s->addralign = rd64(sh + 48);
		s->entsize = rd64(sh + 56);
		if (i == 0 || s->type == ELF_SHT_NULL || s->type == ELF_SHT_NOBITS)
			continue;
		if (!in_bounds(off, s->size, ef->buf_sz))
			return fail(err, errsz,
				    "section %zu: data (%llu bytes at offset "
				    "0x%llx) runs past the end of the %zu-byte "
				    "file", i, (unsigned long long)s->size,
				    (unsigned long long)off, ef->buf_sz);
		if (s->size)
			s->data = ef->buf + off;
	}

	names = &ef->secs[shstrndx];
	if (names->type != ELF_SHT_STRTAB)
		return fail(err, errsz,
			    "section %u: section name table has type %u, not "
			    "SHT_STRTAB", shstrndx, names->type);
	for (i = 1; i < ef->sec_cnt; i++) {
		uint32_t name_off = rd32(ef->buf + shoff + i * SHDR_SZ);

		ef->secs[i].name = str_at(names, name_off);
		if (!ef->secs[i].name)
			return fail(err, errsz,
				    "section %zu: name offset %u is outside the "
				    "section name table (%llu bytes) or not "
				    "NUL-terminated", i, name_off,
				    (unsigned long long)names->size);
	}
	ef->secs[0].name = "";
	return 0;
}

static int parse_symbols(struct elf_file *ef, char *err, size_t errsz)
{
	const struct elf_section *symtab = NULL, *strtab;
	size_t i;

	for (i = 1; i < ef->sec_cnt; i++) {
		if (ef->secs[i].type != ELF_SHT_SYMTAB)
			continue;
		if (symtab)
			return fail(err, errsz,
				    "section %zu (%s): a second symbol table "
				    "(the first is section %u)", i,
				    ef->secs[i].name, symtab->index);
		symtab = &ef->secs[i];
	}
	if (!symtab)
		return 0;	/* legal; any relocation section will complain */

	ef->symtab_idx = symtab->index;
	if (symtab->entsize != SYM_SZ)
		return fail(err, errsz,
			    "section %u (%s): symbol entry size %llu, expected "
			    "24", symtab->index, symtab->name,
			    (unsigned long long)symtab->entsize);
	if (symtab->size % SYM_SZ)
		return fail(err, errsz,
			    "section %u (%s): size %llu is not a multiple of "
			    "the 24-byte symbol entry", symtab->index,
			    symtab->name, (unsigned long long)symtab->size);
	if (symtab->link == 0 || symtab->link >= ef->sec_cnt ||
	    ef->secs[symtab->link].type != ELF_SHT_STRTAB)
		return fail(err, errsz,
			    "section %u (%s): string table link %u is not a "
			    "SHT_STRTAB section (%zu sections)", symtab->index,
			    symtab->name, symtab->link, ef->sec_cnt);
	strtab = &ef->secs[symtab->link];

	ef->sym_cnt = symtab->size / SYM_SZ;
	if (!ef->sym_cnt)
		return 0;
	ef->syms = calloc(ef->sym_cnt, sizeof(*ef->syms));
	if (!ef->syms)
		return fail_nomem(err, errsz, "the symbol table");
	for (i = 0; i < ef->sym_cnt; i++) {
		const uint8_t *p = symtab->data + i * SYM_SZ;
		struct elf_symbol *sym = &ef->syms[i];
		uint32_t name_off = rd32(p);
		uint16_t shndx = rd16(p + 6);

		sym->name = str_at(strtab, name_off);
		if (!sym->name)
			return fail(err, errsz,
				    "section %u (%s): symbol %zu name offset %u "
				    "is outside string table section %u (%s, "
				    "%llu bytes) or not NUL-terminated",
				    symtab->index, symtab->name, i, name_off,
				    strtab->index, strtab->name,
				    (unsigned long long)strtab->size);
		sym->bind = p[4] >> 4;
		sym->type = p[4] & 0xf;
		sym->visibility = p[5] & 0x3;
		sym->value = rd64(p + 8);
		sym->size = rd64(p + 16);
		sym->shndx = shndx;
		if (shndx == ELF_SHN_XINDEX)
			return fail(err, errsz,
				    "section %u (%s): symbol %zu (%s) uses an "
				    "extended section index, not supported",
				    symtab->index, symtab->name, i, sym->name);
		if (shndx >= ef->sec_cnt && shndx != ELF_SHN_ABS &&
		    shndx != ELF_SHN_COMMON)
			return fail(err, errsz,
				    "section %u (%s): symbol %zu (%s) has "
				    "section index %u beyond the section table "
				    "(%zu sections)", symtab->index, symtab->name,
				    i, sym->name, shndx, ef->sec_cnt);
	}
	return 0;
}

/* bytes a relocation of this type patches, 0 when unknown */
static uint64_t reloc_width(uint32_t type)
{
	switch (type) {
	case ELF_R_BPF_64_64:
		return 16;
	case ELF_R_BPF_64_ABS64:
	case ELF_R_BPF_64_32:
		return 8;
	case ELF_R_BPF_64_ABS32:
	case ELF_R_BPF_64_NODYLD32:
		return 4;
	default:
		return 0;
	}
}

const char *elf_reloc_type_name(uint32_t type)
{
	switch (type) {
	case ELF_R_BPF_NONE:
		return "R_BPF_NONE";
	case ELF_R_BPF_64_64:
		return "R_BPF_64_64";
	case ELF_R_BPF_64_ABS64:
		return "R_BPF_64_ABS64";
	case ELF_R_BPF_64_ABS32:
		return "R_BPF_64_ABS32";
	case ELF_R_BPF_64_NODYLD32:
		return "R_BPF_64_NODYLD32";
	case ELF_R_BPF_64_32:
		return "R_BPF_64_32";
	default:
		return "unknown";
	}
}

static int parse_relsec(struct elf_file *ef, const struct elf_section *s,
			struct elf_relsec *rs, char *err, size_t errsz)
{
	const struct elf_section *target;
	size_t i;

	if (s->entsize != REL_SZ)
		return fail(err, errsz,
			    "section %u (%s): relocation entry size %llu, "
			    "expected 16", s->index, s->name,
			    (unsigned long long)s->entsize);
	if (s->size % REL_SZ)
		return fail(err, errsz,
			    "section %u (%s): size %llu is not a multiple of "
			    "the 16-byte relocation entry", s->index, s->name,
			    (unsigned long long)s->size);
	if (!ef->symtab_idx || s->link != ef->symtab_idx)
		return fail(err, errsz,
			    "section %u (%s): symbol table link %u is not the "
			    "symbol table (section %u)", s->index, s->name,
			    s->link, ef->symtab_idx);
	if (s->info == 0 || s->info >= ef->sec_cnt)
		return fail(err, errsz,
			    "section %u (%s): target section index %u is not a "
			    "section (%zu sections)", s->index, s->name, s->info,
			    ef->sec_cnt);
	target = &ef->secs[s->info];
	if (target->type == ELF_SHT_NOBITS || target->type == ELF_SHT_NULL)
		return fail(err, errsz,
			    "section %u (%s): target section %u (%s) has no "
			    "data to relocate", s->index, s->name, s->info,
			    target->name);

	rs->sec_idx = s->index;
	rs->target_idx = s->info;
	rs->reloc_cnt = s->size / REL_SZ;
	if (!rs->reloc_cnt)
		return 0;
	rs->relocs = calloc(rs->reloc_cnt, sizeof(*rs->relocs));
	if (!rs->relocs)
		return fail_nomem(err, errsz, "relocations");
	for (i = 0; i < rs->reloc_cnt; i++) {
		const uint8_t *p = s->data + i * REL_SZ;
		struct elf_reloc *r = &rs->relocs[i];
		uint64_t info = rd64(p + 8), width;

		r->offset = rd64(p);
		r->type = (uint32_t)info;
		r->sym = (uint32_t)(info >> 32);
		if (r->sym >= ef->sym_cnt)
			return fail(err, errsz,
				    "section %u (%s): relocation %zu has symbol "
				    "index %u beyond the symbol table (%zu "
				    "symbols)", s->index, s->name, i, r->sym,
				    ef->sym_cnt);
		width = reloc_width(r->type);
		if (!in_bounds(r->offset, width ? width : 1, target->size))
			return fail(err, errsz,
				    "section %u (%s): relocation %zu (%s) at "
				    "offset 0x%llx runs past the end of target "
				    "section %u (%s, %llu bytes)", s->index,
				    s->name, i, elf_reloc_type_name(r->type),
				    (unsigned long long)r->offset, target->index,
				    target->name,
				    (unsigned long long)target->size);
	}
	return 0;
}

static int parse_relocs(struct elf_file *ef, char *err, size_t errsz)
{
	size_t i, n = 0;
	int ret;

	for (i = 1; i < ef->sec_cnt; i++)
		n += ef->secs[i].type == ELF_SHT_REL;
	if (!n)
		return 0;
	ef->relsecs = calloc(n, sizeof(*ef->relsecs));
	if (!ef->relsecs)
		return fail_nomem(err, errsz, "relocation sections");
	for (i = 1; i < ef->sec_cnt; i++) {
		if (ef->secs[i].type != ELF_SHT_REL)
			continue;
		ret = parse_relsec(ef, &ef->secs[i],
				   &ef->relsecs[ef->relsec_cnt++], err, errsz);
		if (ret)
			return ret;
	}
	return 0;
}

int elf_parse(const void *data, size_t size, struct elf_file **out, char *err,
	      size_t errsz)
{
	struct elf_file *ef;
	uint64_t shoff = 0;
	uint32_t shnum = 0, shstrndx = 0;
	int ret;

	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	if (!data && size)
		return fail(err, errsz, "ELF: NULL buffer");
	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return fail_nomem(err, errsz, "the ELF file");
	ef->buf = data;
	ef->buf_sz = size;

	ret = parse_header(ef, &shoff, &shnum, &shstrndx, err, errsz);
	if (ret)
		goto out;
	ef->sec_cnt = shnum;
	ef->secs = calloc(shnum, sizeof(*ef->secs));
	if (!ef->secs) {
		ret = fail_nomem(err, errsz, "section headers");
		goto out;
	}
	ret = parse_sections(ef, shoff, shstrndx, err, errsz);
	if (!ret)
		ret = parse_symbols(ef, err, errsz);
	if (!ret)
		ret = parse_relocs(ef, err, errsz);
out:
	if (ret) {
		elf_free(ef);
		return ret;
	}
	*out = ef;
	return 0;
}

void elf_free(struct elf_file *ef)
{
	size_t i;

	if (!ef)
		return;
	for (i = 0; i < ef->relsec_cnt; i++)
		free(ef->relsecs[i].relocs);
	free(ef->relsecs);
	free(ef->syms);
	free(ef->secs);
	free(ef);
}

const struct elf_section *elf_section_by_name(const struct elf_file *ef,
					      const char *name)
{
	size_t i;

	for (i = 1; i < ef->sec_cnt; i++)
		if (strcmp(ef->secs[i].name, name) == 0)
			return &ef->secs[i];
	return NULL;
}

const struct elf_section *elf_section_by_index(const struct elf_file *ef,
					       size_t idx)
{
	if (idx == 0 || idx >= ef->sec_cnt)
		return NULL;
	return &ef->secs[idx];
}

const struct elf_relsec *elf_relsec_for(const struct elf_file *ef,
					uint32_t target_idx)
{
	size_t i;

	for (i = 0; i < ef->relsec_cnt; i++)
		if (ef->relsecs[i].target_idx == target_idx)
			return &ef->relsecs[i];
	return NULL;
}

#define LEGACY_DEF_SZ 20u	/* five 32-bit fields */

int elf_legacy_maps(const struct elf_file *ef, uint32_t sec_idx,
		    struct elf_legacy_map **maps, size_t *map_cnt, char *err,
		    size_t errsz)
{
	const struct elf_section *s = elf_section_by_index(ef, sec_idx);
	struct elf_legacy_map *m;
	uint64_t def_sz;
	size_t i, n = 0, k = 0;

	*maps = NULL;
	*map_cnt = 0;
	if (!s)
		return fail(err, errsz,
			    "legacy maps: section index %u is not a section "
			    "(%zu sections)", sec_idx, ef->sec_cnt);
	for (i = 1; i < ef->sym_cnt; i++)
		n += ef->syms[i].shndx == sec_idx &&
		     ef->syms[i].type != ELF_STT_SECTION;
	if (!n)
		return 0;
	if (!s->data || s->size % n)
		return fail(err, errsz,
			    "section %u (%s): cannot tell the map definition "
			    "size: %zu map symbols in %llu bytes", sec_idx,
			    sec_name(ef, sec_idx), n,
			    (unsigned long long)s->size);
	def_sz = s->size / n;
	m = calloc(n, sizeof(*m));
	if (!m)
		return fail_nomem(err, errsz, "legacy maps");
	for (i = 1; i < ef->sym_cnt; i++) {
		const struct elf_symbol *sym = &ef->syms[i];
		uint32_t f[5] = { 0 };
		uint64_t j;

		if (sym->shndx != sec_idx || sym->type == ELF_STT_SECTION)
			continue;
		if (!in_bounds(sym->value, def_sz, s->size)) {
			free(m);
			return fail(err, errsz,
				    "section %u (%s): map '%s' at offset %llu "
				    "(%llu-byte definition) runs past the "
				    "section end (%llu bytes)", sec_idx,
				    s->name, sym->name,
				    (unsigned long long)sym->value,
				    (unsigned long long)def_sz,
				    (unsigned long long)s->size);
		}
		for (j = 0; j < 5 && j * 4 + 4 <= def_sz; j++)
			f[j] = rd32(s->data + sym->value + j * 4);
		for (j = LEGACY_DEF_SZ; j < def_sz; j++) {
			if (s->data[sym->value + j]) {
				free(m);
				return fail(err, errsz,
					    "section %u (%s): map '%s' has "
					    "non-zero byte at offset %llu past "
					    "the known struct bpf_map_def "
					    "fields", sec_idx, s->name,
					    sym->name, (unsigned long long)j);
			}
		}
		m[k].name = sym->name;
		m[k].sec_offset = (uint32_t)sym->value;
		m[k].type = f[0];
		m[k].key_size = f[1];
		m[k].value_size = f[2];
		m[k].max_entries = f[3];
		m[k].map_flags = f[4];
		k++;
	}
	*maps = m;
	*map_cnt = k;
	return 0;
}
