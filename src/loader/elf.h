/* loader/elf.h — a validating reader for the ELF64 relocatable objects that
 * clang emits for the BPF target (`clang -target bpf -c`).
 *
 * elf_parse() takes a byte buffer the caller owns and keeps owning, checks
 * every header, offset, size, string index and cross-section link against the
 * buffer, and returns a table of sections, the symbol table and the SHT_REL
 * relocation sections decoded into host-order structs.  Names and section
 * data point into the caller's buffer, which must outlive the elf_file; data
 * pointers carry no alignment guarantee, so read them with memcpy.  Nothing
 * here does I/O or keeps global state.  Errors are -EINVAL (malformed input)
 * or -ENOMEM, with a message in the caller's buffer naming what and where.
 */
#ifndef BPFVM_LOADER_ELF_H
#define BPFVM_LOADER_ELF_H

#include <stddef.h>
#include <stdint.h>

/* ELF constants used by the loader (values from the ELF gABI and
 * llvm/BinaryFormat/ELFRelocs/BPF.def), spelled with our prefix so <elf.h>
 * can be included beside this header. */
#define ELF_EM_BPF        247
#define ELF_SHT_NULL      0
#define ELF_SHT_PROGBITS  1
#define ELF_SHT_SYMTAB    2
#define ELF_SHT_STRTAB    3
#define ELF_SHT_RELA      4
#define ELF_SHT_NOBITS    8
#define ELF_SHT_REL       9
#define ELF_SHF_WRITE     0x1
#define ELF_SHF_ALLOC     0x2
#define ELF_SHF_EXECINSTR 0x4
#define ELF_SHN_UNDEF     0
#define ELF_SHN_LORESERVE 0xff00
#define ELF_SHN_ABS       0xfff1
#define ELF_SHN_COMMON    0xfff2
#define ELF_SHN_XINDEX    0xffff
#define ELF_STB_LOCAL     0
#define ELF_STB_GLOBAL    1
#define ELF_STB_WEAK      2
#define ELF_STT_NOTYPE    0
#define ELF_STT_OBJECT    1
#define ELF_STT_FUNC      2
#define ELF_STT_SECTION   3
#define ELF_STT_FILE      4
#define ELF_STV_DEFAULT   0
#define ELF_STV_HIDDEN    2

/* BPF relocation types (r_info & 0xffffffff) */
#define ELF_R_BPF_NONE        0
#define ELF_R_BPF_64_64       1	/* lddw imm pair: map, global data, subprog addr */
#define ELF_R_BPF_64_ABS64    2	/* 8-byte data word (.maps .values, DWARF) */
#define ELF_R_BPF_64_ABS32    3	/* 4-byte data word (DWARF) */
#define ELF_R_BPF_64_NODYLD32 4	/* 4-byte word in .BTF/.BTF.ext; nothing to do */
#define ELF_R_BPF_64_32       10	/* call imm: bpf-to-bpf call (or kfunc) */

struct elf_section {
	const char *name;	/* from .shstrtab, NUL-terminated in the buffer */
	uint32_t index;		/* its index in the section header table */
	uint32_t type;		/* ELF_SHT_* */
	uint64_t flags;		/* ELF_SHF_* */
	const uint8_t *data;	/* into the buffer; NULL for SHT_NOBITS and empty */
	uint64_t size;		/* sh_size (also for SHT_NOBITS, which has no data) */
	uint32_t link, info;	/* sh_link, sh_info, unvalidated except for REL/SYMTAB */
	uint64_t addralign, entsize;
};

struct elf_symbol {
	const char *name;	/* "" when unnamed; section symbols have "" too */
	uint64_t value, size;
	uint32_t shndx;		/* section index, or ELF_SHN_UNDEF/ABS/COMMON */
	uint8_t bind;		/* ELF_STB_* */
	uint8_t type;		/* ELF_STT_* */
	uint8_t visibility;	/* ELF_STV_* */
};

struct elf_reloc {
	uint64_t offset;	/* r_offset: byte offset inside the target section */
	uint32_t type;		/* ELF_R_BPF_* */
	uint32_t sym;		/* index into elf_file.syms (checked) */
};

struct elf_relsec {
	uint32_t sec_idx;	/* the SHT_REL section itself */
	uint32_t target_idx;	/* the section it patches (sh_info) */
	size_t reloc_cnt;
	struct elf_reloc *relocs;
};

struct elf_file {
	const uint8_t *buf;	/* the caller's buffer */
	size_t buf_sz;
	size_t sec_cnt;		/* including the null section 0 */
	struct elf_section *secs;
	uint32_t symtab_idx;	/* 0 when the object has no symbol table */
	size_t sym_cnt;		/* including the null symbol 0 */
	struct elf_symbol *syms;
	size_t relsec_cnt;
	struct elf_relsec *relsecs;
};

/* Parse and validate the ELF64 little-endian ET_REL EM_BPF object in
 * data[0..size).  On success stores a new elf_file in *out (release with
 * elf_free) and returns 0.  On failure returns -EINVAL or -ENOMEM, leaves
 * *out NULL and writes a one-line message into err (when errsz > 0).  The
 * buffer is only read and must outlive the result.  Checks: identification,
 * class, byte order, version, type, machine; the section header table and
 * each section's extent (except SHT_NOBITS) inside the buffer; section and
 * symbol names inside their string tables and NUL-terminated there; the
 * single symbol table, its entry size and its string table link; symbol
 * section indices; each SHT_REL section's entry size, symbol table link,
 * target section, symbol indices and offsets inside the target. */
int elf_parse(const void *data, size_t size, struct elf_file **out, char *err,
	      size_t errsz);
void elf_free(struct elf_file *ef);

/* The first section called name, or NULL. */
const struct elf_section *elf_section_by_name(const struct elf_file *ef,
					      const char *name);
/* Section idx, or NULL when idx is 0 or out of range. */
const struct elf_section *elf_section_by_index(const struct elf_file *ef,
					       size_t idx);
/* The SHT_REL section whose target is section target_idx, or NULL. */
const struct elf_relsec *elf_relsec_for(const struct elf_file *ef,
					uint32_t target_idx);
/* A short name for a relocation type ("R_BPF_64_64"), "unknown" otherwise. */
const char *elf_reloc_type_name(uint32_t type);

/* Legacy SEC("maps") definitions: struct bpf_map_def records (type,
 * key_size, value_size, max_entries, map_flags, 4 bytes each), one per
 * symbol in the section; each record's size is the section size divided by
 * the number of symbols, as libbpf < 1.0 read it.  Fields a shorter record
 * lacks read as 0; bytes a longer record adds must be zero. */
struct elf_legacy_map {
	const char *name;	/* the symbol's name */
	uint32_t sec_offset;	/* the symbol's value: offset in the section */
	uint32_t type, key_size, value_size, max_entries, map_flags;
};

/* Decode the legacy maps in section sec_idx (normally the one named
 * "maps").  Returns 0 with *maps (malloc'd, free() it) and *map_cnt set, or
 * -EINVAL/-ENOMEM with a message. */
int elf_legacy_maps(const struct elf_file *ef, uint32_t sec_idx,
		    struct elf_legacy_map **maps, size_t *map_cnt, char *err,
		    size_t errsz);

#endif
