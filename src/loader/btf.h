/* loader/btf.h — BTF (the BPF Type Format) and .BTF.ext, as clang emits them
 * into BPF objects: a validating parser, type queries, the libbpf-style
 * BTF-defined map parser for SEC(".maps"), and a small C renderer.
 *
 * btf_parse() copies the .BTF bytes it is given, so the result does not
 * depend on the caller's buffer.  Every type id and string offset inside the
 * data is checked once at parse time (ids in range, FUNC → FUNC_PROTO, DATASEC
 * entries → VAR/FUNC, no reference loops through PTR/TYPEDEF/modifier/ARRAY
 * /VAR chains), so the query functions below can walk types without
 * re-checking; they still bound every walk.  Record layouts are the kernel's
 * (include/uapi/linux/btf.h).  No I/O, no global state; errors are negative
 * errno values with a one-line message in a caller buffer.  Assumes a
 * little-endian host, like the rest of bpfvm.
 */
#ifndef BPFVM_LOADER_BTF_H
#define BPFVM_LOADER_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's BTF records.  If <linux/btf.h> was included first its
 * identical definitions are used (it must be 6.0 or newer, for ENUM64);
 * otherwise ours are defined and its include guard is set so a later
 * #include <linux/btf.h> adds nothing. */
#ifndef __LINUX_BTF_H__	/* the guard of the installed <linux/btf.h> */
#define __LINUX_BTF_H__
#define BTF_MAGIC   0xeB9F
#define BTF_VERSION 1

struct btf_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off;	/* offsets from the end of the header */
	uint32_t type_len;
	uint32_t str_off;
	uint32_t str_len;
};

#define BTF_MAX_TYPE        0x000fffff
#define BTF_MAX_NAME_OFFSET 0x00ffffff
#define BTF_MAX_VLEN        0xffff

#define BTF_INFO_KIND(info)  (((info) >> 24) & 0x1f)
#define BTF_INFO_VLEN(info)  ((info) & 0xffff)
#define BTF_INFO_KFLAG(info) ((info) >> 31)

enum {
	BTF_KIND_UNKN = 0,
	BTF_KIND_INT = 1,
	BTF_KIND_PTR = 2,
	BTF_KIND_ARRAY = 3,
	BTF_KIND_STRUCT = 4,
	BTF_KIND_UNION = 5,
	BTF_KIND_ENUM = 6,
	BTF_KIND_FWD = 7,
	BTF_KIND_TYPEDEF = 8,
	BTF_KIND_VOLATILE = 9,
	BTF_KIND_CONST = 10,
	BTF_KIND_RESTRICT = 11,
	BTF_KIND_FUNC = 12,
	BTF_KIND_FUNC_PROTO = 13,
	BTF_KIND_VAR = 14,
	BTF_KIND_DATASEC = 15,
	BTF_KIND_FLOAT = 16,
	BTF_KIND_DECL_TAG = 17,
	BTF_KIND_TYPE_TAG = 18,
	BTF_KIND_ENUM64 = 19,
	NR_BTF_KINDS,
	BTF_KIND_MAX = NR_BTF_KINDS - 1,
};

struct btf_type {
	uint32_t name_off;
	uint32_t info;	/* vlen 0-15, kind 24-28, kind_flag 31 */
	union {
		uint32_t size;	/* INT ENUM STRUCT UNION DATASEC FLOAT ENUM64 */
		uint32_t type;	/* PTR TYPEDEF modifiers FUNC FUNC_PROTO VAR TAGs */
	};
};

#define BTF_INT_ENCODING(VAL) (((VAL) & 0x0f000000) >> 24)
#define BTF_INT_OFFSET(VAL)   (((VAL) & 0x00ff0000) >> 16)
#define BTF_INT_BITS(VAL)     ((VAL) & 0x000000ff)
#define BTF_INT_SIGNED (1 << 0)
#define BTF_INT_CHAR   (1 << 1)
#define BTF_INT_BOOL   (1 << 2)

struct btf_enum {
	uint32_t name_off;
	int32_t val;
};

struct btf_array {
	uint32_t type;
	uint32_t index_type;
	uint32_t nelems;
};

struct btf_member {
	uint32_t name_off;
	uint32_t type;
	uint32_t offset;	/* bits; with kind_flag: size << 24 | bit offset */
};

#define BTF_MEMBER_BITFIELD_SIZE(val) ((val) >> 24)
#define BTF_MEMBER_BIT_OFFSET(val)    ((val) & 0xffffff)

enum {
	BTF_VAR_STATIC = 0,
	BTF_VAR_GLOBAL_ALLOCATED = 1,
	BTF_VAR_GLOBAL_EXTERN = 2,
};

enum btf_func_linkage {
	BTF_FUNC_STATIC = 0,
	BTF_FUNC_GLOBAL = 1,
	BTF_FUNC_EXTERN = 2,
};

struct btf_var {
	uint32_t linkage;
};

struct btf_var_secinfo {
	uint32_t type;
	uint32_t offset;
	uint32_t size;
};

struct btf_decl_tag {
	int32_t component_idx;
};

struct btf_param {
	uint32_t name_off;
	uint32_t type;
};

struct btf_enum64 {
	uint32_t name_off;
	uint32_t val_lo32;
	uint32_t val_hi32;
};
#endif /* __LINUX_BTF_H__ */

/* --- record accessors (valid on types from btf_type_by_id) --- */

static inline unsigned btf_kind(const struct btf_type *t)
{
	return BTF_INFO_KIND(t->info);
}

static inline unsigned btf_vlen(const struct btf_type *t)
{
	return BTF_INFO_VLEN(t->info);
}

static inline bool btf_kflag(const struct btf_type *t)
{
	return BTF_INFO_KFLAG(t->info);
}

static inline const struct btf_member *btf_members(const struct btf_type *t)
{
	return (const struct btf_member *)(t + 1);
}

/* a member's offset in bits, and its bitfield width (0: not a bitfield) */
static inline uint32_t btf_member_bit_offset(const struct btf_type *t,
					     unsigned i)
{
	uint32_t off = btf_members(t)[i].offset;

	return btf_kflag(t) ? BTF_MEMBER_BIT_OFFSET(off) : off;
}

static inline uint32_t btf_member_bitfield_size(const struct btf_type *t,
						unsigned i)
{
	return btf_kflag(t) ? BTF_MEMBER_BITFIELD_SIZE(btf_members(t)[i].offset)
			    : 0;
}

static inline const struct btf_array *btf_array_of(const struct btf_type *t)
{
	return (const struct btf_array *)(t + 1);
}

static inline const struct btf_param *btf_params(const struct btf_type *t)
{
	return (const struct btf_param *)(t + 1);
}

static inline const struct btf_enum *btf_enums(const struct btf_type *t)
{
	return (const struct btf_enum *)(t + 1);
}

static inline const struct btf_enum64 *btf_enum64s(const struct btf_type *t)
{
	return (const struct btf_enum64 *)(t + 1);
}

static inline const struct btf_var *btf_var_of(const struct btf_type *t)
{
	return (const struct btf_var *)(t + 1);
}

static inline const struct btf_var_secinfo *
btf_var_secinfos(const struct btf_type *t)
{
	return (const struct btf_var_secinfo *)(t + 1);
}

static inline const struct btf_decl_tag *btf_decl_tag_of(const struct btf_type *t)
{
	return (const struct btf_decl_tag *)(t + 1);
}

static inline uint32_t btf_int_encoding_of(const struct btf_type *t)
{
	return *(const uint32_t *)(t + 1);
}

/* --- .BTF --- */

struct btf;

/* Parse and validate .BTF data[0..size) (copied).  Returns the BTF, or NULL
 * with errno EINVAL (malformed; message in err) or ENOMEM. */
struct btf *btf_parse(const void *data, size_t size, char *err, size_t errsz);
void btf_free(struct btf *btf);

/* Number of type ids, counting void (id 0): valid ids are [0, cnt). */
uint32_t btf_type_cnt(const struct btf *btf);
/* Type id, or NULL when out of range; id 0 is a zeroed void record. */
const struct btf_type *btf_type_by_id(const struct btf *btf, uint32_t id);
/* The string at off in the string section, or NULL when out of range. */
const char *btf_name_by_offset(const struct btf *btf, uint32_t off);
/* The name of a type ("" when anonymous, NULL when id is invalid). */
const char *btf_type_name(const struct btf *btf, uint32_t id);
/* "struct", "ptr", ... for a BTF_KIND_*; "unknown" past the table. */
const char *btf_kind_name(unsigned kind);

/* Byte size of type id, following typedefs, modifiers, type tags, VARs and
 * arrays (multiplying element counts).  Returns the size, or -EINVAL for an
 * invalid id or a type without size (void, FWD, FUNC, FUNC_PROTO), -ELOOP
 * when the chain is deeper than 32, -E2BIG when the size overflows 32 bits. */
int64_t btf_resolve_size(const struct btf *btf, uint32_t id);

/* Skip CONST, VOLATILE, RESTRICT, TYPE_TAG and TYPEDEF from id.  Returns the
 * first other type (NULL for an invalid id) and stores its id in *res_id
 * when res_id is not NULL. */
const struct btf_type *btf_skip_modifiers(const struct btf *btf, uint32_t id,
					  uint32_t *res_id);

/* Id of the first type of that kind and name (0 for "void"), or -ENOENT. */
int32_t btf_find_by_name_kind(const struct btf *btf, const char *name,
			      unsigned kind);

/* Byte offset of the struct bpf_spin_lock member of map value type
 * value_type_id (modifiers and typedefs skipped; top-level members only, as
 * the kernel looks), -1 when there is none, -E2BIG when there are several,
 * -EINVAL when it is misaligned or value_type_id is invalid. */
int btf_find_spin_lock(const struct btf *btf, uint32_t value_type_id);

/* Render type id as C into buf (always NUL-terminated when size > 0).  A
 * struct, union or enum is shown with its body; other types as a type
 * expression ("__u32 *", "char[16]", "int (*)(void *)"); a VAR or FUNC as a
 * declaration.  Returns the length the full text needs (truncated when >=
 * size), or -EINVAL for an invalid id. */
int btf_dump_type(const struct btf *btf, uint32_t id, char *buf, size_t size);

struct elf_file;

/* Complete what clang leaves out of DATASECs, as libbpf does before anything
 * reads them: a DATASEC of size 0 takes the size of the ELF section of the
 * same name, and its global VARs take their offsets from the ELF symbols of
 * the same name (clang writes 0 for both; static VARs are already right).
 * A global VAR whose symbol is STV_HIDDEN/STV_INTERNAL becomes static.  Then
 * every DATASEC's entries are sorted by offset and checked to lie inside it.
 * .kconfig and .ksyms (extern-backed) are only sorted.  Returns 0, or
 * -EINVAL with a message naming the DATASEC and the variable; the BTF may
 * then be partly fixed up and should be freed.  Call it once. */
int btf_fixup_datasecs(struct btf *btf, const struct elf_file *ef, char *err,
		       size_t errsz);

/* --- BTF-defined maps (SEC(".maps")), libbpf's conventions --- */

enum btf_map_part {
	BTF_MAP_HAS_TYPE = 1u << 0,
	BTF_MAP_HAS_KEY_SIZE = 1u << 1,
	BTF_MAP_HAS_KEY_TYPE = 1u << 2,
	BTF_MAP_HAS_VALUE_SIZE = 1u << 3,
	BTF_MAP_HAS_VALUE_TYPE = 1u << 4,
	BTF_MAP_HAS_MAX_ENTRIES = 1u << 5,
	BTF_MAP_HAS_MAP_FLAGS = 1u << 6,
	BTF_MAP_HAS_NUMA_NODE = 1u << 7,
	BTF_MAP_HAS_MAP_EXTRA = 1u << 8,
	BTF_MAP_HAS_PINNING = 1u << 9,
	BTF_MAP_HAS_VALUES = 1u << 10,	/* a `values` array (map-in-map, prog array) */
	BTF_MAP_HAS_INNER = 1u << 11,	/* ... whose element is an inner map struct */
};

struct btf_map_def {
	const char *name;	/* the variable's name; an inner def carries its
				 * outer map's (libbpf calls it "<outer>.inner") */
	uint32_t parts;		/* BTF_MAP_HAS_* seen */
	uint32_t map_type;	/* BPF_MAP_TYPE_* */
	uint32_t key_type_id;	/* 0 when only key_size was given */
	uint32_t key_size;
	uint32_t value_type_id;
	uint32_t value_size;	/* 4 (an id) for map-in-map and prog arrays */
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t numa_node;
	uint64_t map_extra;
	uint32_t pinning;	/* 0 none, 1 by name (LIBBPF_PIN_BY_NAME) */
	uint32_t def_type_id;	/* the definition struct */
	uint32_t values_off;	/* byte offset of `values` in the definition;
				 * slot i is at values_off + 8 * i */
	uint32_t inner_type_id;	/* the inner definition struct, or 0 */
};

/* Parse the map defined by VAR var_id (an entry of the .maps DATASEC): its
 * name, linkage and definition struct, then every member as libbpf does
 * (integer fields as `int (*name)[N]`, key/value as pointers to the type,
 * map_extra also as a one-value enum, `values` as a trailing zero-length
 * array of pointers to an inner definition struct or to a FUNC_PROTO for
 * prog arrays).  When `values` names an inner struct and inner is not NULL,
 * the inner definition is parsed into *inner (messages call it
 * "<outer>.inner"; inner->name is the outer's name).
 * Returns 0, or -EINVAL with a message naming the map and the field. */
int btf_map_def_parse(const struct btf *btf, uint32_t var_id,
		      struct btf_map_def *def, struct btf_map_def *inner,
		      char *err, size_t errsz);

/* The same for a definition struct given directly; is_inner forbids
 * `values` and `pinning` (libbpf: multi-level inner maps, pinned inners). */
int btf_map_def_parse_struct(const struct btf *btf, uint32_t struct_id,
			     const char *name, bool is_inner,
			     struct btf_map_def *def, struct btf_map_def *inner,
			     char *err, size_t errsz);

/* --- .BTF.ext --- */

struct btf_func_info {
	uint32_t insn_off;	/* BYTE offset in the ELF section (÷8 for insns) */
	uint32_t type_id;	/* a BTF_KIND_FUNC */
};

struct btf_line_info {
	uint32_t insn_off;	/* BYTE offset in the ELF section */
	const char *file;	/* strings live in the struct btf */
	const char *line;	/* source text of the line ("" if none) */
	uint32_t line_num;
	uint32_t col;
};

struct btf_ext_sec {
	const char *sec_name;	/* ELF section name, e.g. "xdp", ".text" */
	size_t func_cnt;
	struct btf_func_info *funcs;
	size_t line_cnt;
	struct btf_line_info *lines;
	size_t core_relo_cnt;	/* CO-RE relocation records (not decoded) */
};

struct btf_ext {
	size_t sec_cnt;
	struct btf_ext_sec *secs;
	size_t func_cnt, line_cnt, core_relo_cnt;	/* totals */
};

/* Parse .BTF.ext data[0..size) against its .BTF.  Strings in the result
 * point into btf, which must outlive it.  Returns NULL with errno EINVAL
 * (message in err) or ENOMEM. */
struct btf_ext *btf_ext_parse(const struct btf *btf, const void *data,
			      size_t size, char *err, size_t errsz);
void btf_ext_free(struct btf_ext *ext);
const struct btf_ext_sec *btf_ext_sec_by_name(const struct btf_ext *ext,
					      const char *sec_name);

#endif
