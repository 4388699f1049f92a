/* loader/btf.c — the BTF and .BTF.ext parser, type queries, the BTF-defined
 * map parser and the C renderer declared in btf.h.
 *
 * Parsing copies the type and string sections into memory of our own (so
 * records are aligned whatever the caller's buffer was), indexes every type
 * record by id, then validates in a second pass once the type count is known:
 * string offsets, referenced ids, kind-specific sizes, and reference loops.
 * After that, walks still carry a depth bound, so a bug in validation cannot
 * become an endless loop.
 */
#include "loader/btf.h"
#include "loader/elf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bpfvm's BTF reader assumes a little-endian host"
#endif

#define MAX_RESOLVE_DEPTH 32	/* libbpf's bound for size/modifier chains */
#define MAX_DUMP_DEPTH    16
#define MAX_DUMP_STEPS    4096	/* types rendered per dump; bounds DAG blowup */
#define HDR_SZ            24u
#define EXT_HDR_MIN_SZ    24u	/* func_info + line_info */
#define EXT_HDR_CORE_SZ   32u	/* ... + core_relo */

/* BPF_MAP_TYPE_* numbers the map parser needs (include/uapi/linux/bpf.h) */
#define MAP_TYPE_UNSPEC        0
#define MAP_TYPE_PROG_ARRAY    3
#define MAP_TYPE_ARRAY_OF_MAPS 12
#define MAP_TYPE_HASH_OF_MAPS  13

struct btf {
	uint8_t *types;		/* type section copy */
	uint32_t types_sz;
	char *strs;		/* string section copy; strs[0] == strs[sz-1] == 0 */
	uint32_t strs_sz;
	uint32_t *type_offs;	/* type_offs[id] = offset in types; [0] unused */
	uint32_t type_cnt;	/* including void */
};

static const struct btf_type btf_void;

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

static int nomem(char *err, size_t errsz, const char *what)
{
	if (err && errsz)
		snprintf(err, errsz, "out of memory for %s", what);
	return -ENOMEM;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const char *const kind_names[NR_BTF_KINDS] = {
	[BTF_KIND_UNKN] = "void",	   [BTF_KIND_INT] = "int",
	[BTF_KIND_PTR] = "ptr",		   [BTF_KIND_ARRAY] = "array",
	[BTF_KIND_STRUCT] = "struct",	   [BTF_KIND_UNION] = "union",
	[BTF_KIND_ENUM] = "enum",	   [BTF_KIND_FWD] = "fwd",
	[BTF_KIND_TYPEDEF] = "typedef",	   [BTF_KIND_VOLATILE] = "volatile",
	[BTF_KIND_CONST] = "const",	   [BTF_KIND_RESTRICT] = "restrict",
	[BTF_KIND_FUNC] = "func",	   [BTF_KIND_FUNC_PROTO] = "func_proto",
	[BTF_KIND_VAR] = "var",		   [BTF_KIND_DATASEC] = "datasec",
	[BTF_KIND_FLOAT] = "float",	   [BTF_KIND_DECL_TAG] = "decl_tag",
	[BTF_KIND_TYPE_TAG] = "type_tag",  [BTF_KIND_ENUM64] = "enum64",
};

const char *btf_kind_name(unsigned kind)
{
	return kind < NR_BTF_KINDS ? kind_names[kind] : "unknown";
}

/* bytes of kind-specific data following the 12-byte btf_type, or -1 when
 * the kind is unknown */
static int64_t extra_size(unsigned kind, unsigned vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (int64_t)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (int64_t)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (int64_t)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (int64_t)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return sizeof(struct btf_decl_tag);
	case BTF_KIND_ENUM64:
		return (int64_t)vlen * sizeof(struct btf_enum64);
	default:
		return -1;
	}
}

uint32_t btf_type_cnt(const struct btf *btf)
{
	return btf->type_cnt;
}

const struct btf_type *btf_type_by_id(const struct btf *btf, uint32_t id)
{
	if (id == 0)
		return &btf_void;
	if (id >= btf->type_cnt)
		return NULL;
	return (const struct btf_type *)(btf->types + btf->type_offs[id]);
}

const char *btf_name_by_offset(const struct btf *btf, uint32_t off)
{
	if (off >= btf->strs_sz)
		return NULL;
	return btf->strs + off;	/* the section ends in NUL (checked) */
}

const char *btf_type_name(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf_type_by_id(btf, id);

	return t ? btf_name_by_offset(btf, t->name_off) : NULL;
}

/* --- parse --- */

static int parse_header(const uint8_t *p, size_t size, struct btf_header *h,
			char *err, size_t errsz)
{
	uint64_t body, i;

	if (size < HDR_SZ)
		return fail(err, errsz,
			    ".BTF: %zu bytes, shorter than the 24-byte header",
			    size);
	memcpy(h, p, HDR_SZ);
	if (h->magic != BTF_MAGIC)
		return fail(err, errsz,
			    ".BTF: bad magic 0x%04x (expected 0xeb9f%s)",
			    h->magic,
			    h->magic == 0x9feb ? "; this BTF is big-endian" : "");
	if (h->version != BTF_VERSION)
		return fail(err, errsz, ".BTF: unsupported version %u",
			    h->version);
	if (h->flags)
		return fail(err, errsz, ".BTF: unsupported flags 0x%x",
			    h->flags);
	if (h->hdr_len < HDR_SZ || h->hdr_len > size)
		return fail(err, errsz,
			    ".BTF: header length %u outside [24, %zu]",
			    h->hdr_len, size);
	for (i = HDR_SZ; i < h->hdr_len; i++)
		if (p[i])
			return fail(err, errsz,
				    ".BTF: header byte %llu is not zero: the "
				    "header has fields this reader does not know",
				    (unsigned long long)i);
	body = size - h->hdr_len;
	if ((uint64_t)h->type_off + h->type_len > body)
		return fail(err, errsz,
			    ".BTF: type section (%u bytes at %u) runs past the "
			    "%llu bytes after the header", h->type_len,
			    h->type_off, (unsigned long long)body);
	if ((uint64_t)h->str_off + h->str_len > body)
		return fail(err, errsz,
			    ".BTF: string section (%u bytes at %u) runs past "
			    "the %llu bytes after the header", h->str_len,
			    h->str_off, (unsigned long long)body);
	if (h->type_off % 4)
		return fail(err, errsz, ".BTF: type section offset %u is not "
			    "4-byte aligned", h->type_off);
	if (h->type_len % 4)
		return fail(err, errsz, ".BTF: type section length %u is not "
			    "a multiple of 4", h->type_len);
	if (h->type_len && h->str_len &&
	    h->type_off < (uint64_t)h->str_off + h->str_len &&
	    h->str_off < (uint64_t)h->type_off + h->type_len)
		return fail(err, errsz, ".BTF: type section [%u, +%u) and "
			    "string section [%u, +%u) overlap", h->type_off,
			    h->type_len, h->str_off, h->str_len);
	if (h->str_len == 0)
		return fail(err, errsz, ".BTF: empty string section");
	if (h->str_len > BTF_MAX_NAME_OFFSET + 1u)
		return fail(err, errsz, ".BTF: string section of %u bytes is "
			    "larger than BTF allows", h->str_len);
	return 0;
}

/* index every type record: fills type_offs and type_cnt */
static int index_types(struct btf *btf, char *err, size_t errsz)
{
	uint32_t off = 0, cap = 64, n = 1;

	btf->type_offs = malloc(cap * sizeof(uint32_t));
	if (!btf->type_offs)
		return nomem(err, errsz, "BTF type index");
	btf->type_offs[0] = 0;
	while (off < btf->types_sz) {
		const struct btf_type *t;
		int64_t extra;

		if (btf->types_sz - off < sizeof(struct btf_type))
			return fail(err, errsz,
				    ".BTF: type [%u] at offset %u: truncated "
				    "record (%u bytes left, 12 needed)", n, off,
				    btf->types_sz - off);
		t = (const struct btf_type *)(btf->types + off);
		extra = extra_size(btf_kind(t), btf_vlen(t));
		if (extra < 0)
			return fail(err, errsz,
				    ".BTF: type [%u] at offset %u: unknown kind "
				    "%u", n, off, btf_kind(t));
		if ((uint64_t)extra > btf->types_sz - off - sizeof(*t))
			return fail(err, errsz,
				    ".BTF: type [%u] %s with vlen %u: its %lld "
				    "bytes of members run past the type section "
				    "(%u bytes)", n, btf_kind_name(btf_kind(t)),
				    btf_vlen(t), (long long)extra,
				    btf->types_sz);
		if (n > BTF_MAX_TYPE)
			return fail(err, errsz, ".BTF: more than %u types",
				    BTF_MAX_TYPE);
		if (n == cap) {
			uint32_t *p;

			cap *= 2;
			p = realloc(btf->type_offs, cap * sizeof(uint32_t));
			if (!p)
				return nomem(err, errsz, "BTF type index");
			btf->type_offs = p;
		}
		btf->type_offs[n++] = off;
		off += (uint32_t)(sizeof(*t) + extra);
	}
	btf->type_cnt = n;
	return 0;
}

static bool name_ok(const struct btf *btf, uint32_t off)
{
	return off < btf->strs_sz;
}

/* the id a reference chain continues to, or 0 when this kind ends chains */
static uint32_t chain_next(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return t->type;
	case BTF_KIND_ARRAY:
		return btf_array_of(t)->type;
	default:
		return 0;
	}
}

#define TYPE_FAIL(fmt, ...)                                                    \
	fail(err, errsz, ".BTF: type [%u] %s '%s': " fmt, id,                  \
	     btf_kind_name(kind), name, __VA_ARGS__)

static int check_type(const struct btf *btf, uint32_t id, char *err,
		      size_t errsz)
{
	const struct btf_type *t = btf_type_by_id(btf, id);
	unsigned kind = btf_kind(t), vlen = btf_vlen(t), i;
	uint32_t cnt = btf->type_cnt;
	const char *name;

	if (!name_ok(btf, t->name_off))
		return fail(err, errsz,
			    ".BTF: type [%u] %s: name offset %u is outside the "
			    "string section (%u bytes)", id, btf_kind_name(kind),
			    t->name_off, btf->strs_sz);
	name = btf->strs + t->name_off;

	switch (kind) {
	case BTF_KIND_INT: {
		uint32_t enc = btf_int_encoding_of(t);

		if (t->size != 1 && t->size != 2 && t->size != 4 &&
		    t->size != 8 && t->size != 16)
			return TYPE_FAIL("size %u is not 1, 2, 4, 8 or 16",
					 t->size);
		if (BTF_INT_BITS(enc) > 128 ||
		    BTF_INT_OFFSET(enc) + BTF_INT_BITS(enc) > t->size * 8)
			return TYPE_FAIL("%u bits at bit %u do not fit its %u "
					 "bytes", BTF_INT_BITS(enc),
					 BTF_INT_OFFSET(enc), t->size);
		break;
	}
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		if (t->type >= cnt)
			return TYPE_FAIL("refers to type id %u beyond the last "
					 "type (%u)", t->type, cnt - 1);
		if (kind == BTF_KIND_VAR && btf_var_of(t)->linkage > 2)
			return TYPE_FAIL("unknown linkage %u",
					 btf_var_of(t)->linkage);
		if (kind == BTF_KIND_DECL_TAG &&
		    btf_decl_tag_of(t)->component_idx < -1)
			return TYPE_FAIL("component index %d below -1",
					 btf_decl_tag_of(t)->component_idx);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array_of(t);

		if (a->type >= cnt || a->index_type >= cnt)
			return TYPE_FAIL("element type %u or index type %u is "
					 "beyond the last type (%u)", a->type,
					 a->index_type, cnt - 1);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (i = 0; i < vlen; i++) {
			const struct btf_member *m = &btf_members(t)[i];

			if (!name_ok(btf, m->name_off))
				return TYPE_FAIL("member %u name offset %u is "
						 "outside the string section",
						 i, m->name_off);
			if (m->type >= cnt)
				return TYPE_FAIL("member %u refers to type id "
						 "%u beyond the last type (%u)",
						 i, m->type, cnt - 1);
			if (btf_member_bit_offset(t, i) / 8 > t->size)
				return TYPE_FAIL("member %u at bit %u lies "
						 "outside its %u bytes", i,
						 btf_member_bit_offset(t, i),
						 t->size);
		}
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
			return TYPE_FAIL("size %u is not 1, 2, 4 or 8", t->size);
		for (i = 0; i < vlen; i++) {
			uint32_t off = kind == BTF_KIND_ENUM ?
					       btf_enums(t)[i].name_off :
					       btf_enum64s(t)[i].name_off;

			if (!name_ok(btf, off))
				return TYPE_FAIL("value %u name offset %u is "
						 "outside the string section",
						 i, off);
		}
		break;
	case BTF_KIND_FUNC:
		if (t->type >= cnt ||
		    btf_kind(btf_type_by_id(btf, t->type)) != BTF_KIND_FUNC_PROTO)
			return TYPE_FAIL("type %u is not a FUNC_PROTO", t->type);
		if (vlen > BTF_FUNC_EXTERN)
			return TYPE_FAIL("unknown linkage %u", vlen);
		break;
	case BTF_KIND_FUNC_PROTO:
		if (t->type >= cnt)
			return TYPE_FAIL("return type %u is beyond the last type "
					 "(%u)", t->type, cnt - 1);
		for (i = 0; i < vlen; i++) {
			const struct btf_param *p = &btf_params(t)[i];

			if (!name_ok(btf, p->name_off) || p->type >= cnt)
				return TYPE_FAIL("parameter %u has name offset "
						 "%u or type %u out of range",
						 i, p->name_off, p->type);
		}
		break;
	case BTF_KIND_DATASEC:
		for (i = 0; i < vlen; i++) {
			const struct btf_var_secinfo *v = &btf_var_secinfos(t)[i];
			unsigned vk;

			if (v->type == 0 || v->type >= cnt)
				return TYPE_FAIL("entry %u refers to type id %u "
						 "beyond the last type (%u)", i,
						 v->type, cnt - 1);
			vk = btf_kind(btf_type_by_id(btf, v->type));
			if (vk != BTF_KIND_VAR && vk != BTF_KIND_FUNC)
				return TYPE_FAIL("entry %u is type [%u] %s, not "
						 "a VAR or FUNC", i, v->type,
						 btf_kind_name(vk));
		}
		break;
	case BTF_KIND_FLOAT:
		if (t->size != 2 && t->size != 4 && t->size != 8 &&
		    t->size != 12 && t->size != 16)
			return TYPE_FAIL("size %u is not 2, 4, 8, 12 or 16",
					 t->size);
		break;
	default:	/* FWD */
		break;
	}
	return 0;
}

/* Reject reference loops (PTR → TYPEDEF → PTR ..., self-referencing arrays).
 * Each type has at most one chain successor, so a walk that meets a type of
 * the current walk has found a loop; a walk that meets a finished type or a
 * chain end stops.  Linear in the number of types. */
static int check_loops(const struct btf *btf, char *err, size_t errsz)
{
	uint32_t cnt = btf->type_cnt, id, cur;
	uint32_t *walk = calloc(cnt, sizeof(uint32_t));	/* walk number, 0: new */
	uint8_t *done = calloc(cnt, 1);
	int ret = 0;

	if (!walk || !done) {
		ret = nomem(err, errsz, "BTF loop check");
		goto out;
	}
	for (id = 1; id < cnt && !ret; id++) {
		if (done[id])
			continue;
		cur = id;
		while (cur && !done[cur]) {
			if (walk[cur] == id) {
				const struct btf_type *t = btf_type_by_id(btf, cur);

				ret = fail(err, errsz,
					   ".BTF: type [%u] %s '%s' is part of a "
					   "reference loop (reached again from "
					   "type [%u])", cur,
					   btf_kind_name(btf_kind(t)),
					   btf->strs + t->name_off, id);
				break;
			}
			walk[cur] = id;
			cur = chain_next(btf_type_by_id(btf, cur));
		}
		for (cur = id; cur && !done[cur]; cur = chain_next(btf_type_by_id(btf, cur)))
			done[cur] = 1;
	}
out:
	free(walk);
	free(done);
	return ret;
}

struct btf *btf_parse(const void *data, size_t size, char *err, size_t errsz)
{
	const uint8_t *p = data;
	struct btf_header h;
	struct btf *btf;
	uint32_t id;
	int ret;

	if (err && errsz)
		err[0] = '\0';
	if (!data)
		size = 0;
	ret = parse_header(p, size, &h, err, errsz);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	btf = calloc(1, sizeof(*btf));
	if (!btf) {
		nomem(err, errsz, "BTF");
		errno = ENOMEM;
		return NULL;
	}
	btf->types_sz = h.type_len;
	btf->strs_sz = h.str_len;
	btf->types = malloc(h.type_len ? h.type_len : 1);
	btf->strs = malloc(h.str_len);
	if (!btf->types || !btf->strs) {
		ret = nomem(err, errsz, "BTF sections");
		goto out;
	}
	memcpy(btf->types, p + h.hdr_len + h.type_off, h.type_len);
	memcpy(btf->strs, p + h.hdr_len + h.str_off, h.str_len);
	if (btf->strs[0] || btf->strs[h.str_len - 1]) {
		ret = fail(err, errsz, ".BTF: string section must start and "
			   "end with a NUL byte");
		goto out;
	}
	ret = index_types(btf, err, errsz);
	for (id = 1; !ret && id < btf->type_cnt; id++)
		ret = check_type(btf, id, err, errsz);
	if (!ret)
		ret = check_loops(btf, err, errsz);
out:
	if (ret) {
		btf_free(btf);
		errno = -ret;
		return NULL;
	}
	return btf;
}

void btf_free(struct btf *btf)
{
	if (!btf)
		return;
	free(btf->types);
	free(btf->strs);
	free(btf->type_offs);
	free(btf);
}

/* --- queries --- */

int64_t btf_resolve_size(const struct btf *btf, uint32_t id)
{
	uint64_t nelems = 1, size;
	int depth;

	for (depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
		const struct btf_type *t = btf_type_by_id(btf, id);

		if (!t)
			return -EINVAL;
		switch (btf_kind(t)) {
		case BTF_KIND_INT:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
		case BTF_KIND_FLOAT:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_DATASEC:
			size = t->size;
			goto done;
		case BTF_KIND_PTR:
			size = 8;
			goto done;
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
			id = t->type;
			break;
		case BTF_KIND_ARRAY:
			nelems *= btf_array_of(t)->nelems;
			if (nelems > UINT32_MAX)
				return -E2BIG;
			id = btf_array_of(t)->type;
			break;
		default:	/* void, FWD, FUNC, FUNC_PROTO */
			return -EINVAL;
		}
	}
	return -ELOOP;
done:
	size *= nelems;	/* both < 2^32: no overflow in 64 bits */
	return size > UINT32_MAX ? -E2BIG : (int64_t)size;
}

const struct btf_type *btf_skip_modifiers(const struct btf *btf, uint32_t id,
					  uint32_t *res_id)
{
	const struct btf_type *t = btf_type_by_id(btf, id);
	uint32_t n;

	for (n = 0; t && n <= btf->type_cnt; n++) {
		switch (btf_kind(t)) {
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_TYPEDEF:
			id = t->type;
			t = btf_type_by_id(btf, id);
			continue;
		default:
			break;
		}
		break;
	}
	if (res_id)
		*res_id = id;
	return t;
}

int32_t btf_find_by_name_kind(const struct btf *btf, const char *name,
			      unsigned kind)
{
	uint32_t id;

	if (kind == BTF_KIND_UNKN || strcmp(name, "void") == 0)
		return 0;
	for (id = 1; id < btf->type_cnt; id++) {
		const struct btf_type *t = btf_type_by_id(btf, id);

		if (btf_kind(t) == kind &&
		    strcmp(btf->strs + t->name_off, name) == 0)
			return (int32_t)id;
	}
	return -ENOENT;
}

int btf_find_spin_lock(const struct btf *btf, uint32_t value_type_id)
{
	const struct btf_type *t = btf_skip_modifiers(btf, value_type_id, NULL);
	int found = -1;
	unsigned i;

	if (!t)
		return -EINVAL;
	if (btf_kind(t) != BTF_KIND_STRUCT && btf_kind(t) != BTF_KIND_UNION)
		return -1;
	for (i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *mt =
			btf_type_by_id(btf, btf_members(t)[i].type);
		uint32_t bit = btf_member_bit_offset(t, i);

		if (btf_kind(mt) != BTF_KIND_STRUCT ||
		    strcmp(btf->strs + mt->name_off, "bpf_spin_lock") != 0)
			continue;
		if (found >= 0)
			return -E2BIG;
		if (bit % 32 || btf_member_bitfield_size(t, i))
			return -EINVAL;
		found = (int)(bit / 8);
	}
	return found;
}

/* --- DATASEC fixup --- */

static int cmp_sym_name(const void *a, const void *b)
{
	const struct elf_symbol *x = *(const struct elf_symbol *const *)a;
	const struct elf_symbol *y = *(const struct elf_symbol *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x < y ? -1 : x > y);	/* ties: symbol table order */
}

static int cmp_secinfo(const void *a, const void *b)
{
	const struct btf_var_secinfo *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* the first global or weak OBJECT symbol called name, via the sorted index */
static const struct elf_symbol *find_var_sym(const struct elf_symbol **idx,
					     size_t cnt, const char *name)
{
	size_t lo = 0, hi = cnt;

	while (lo < hi) {	/* lower bound */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(idx[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cnt && strcmp(idx[lo]->name, name) == 0 ? idx[lo] : NULL;
}

static int fixup_datasec(struct btf *btf, struct btf_type *t,
			 const struct elf_file *ef, const struct elf_symbol **idx,
			 size_t idx_cnt, char *err, size_t errsz)
{
	struct btf_var_secinfo *vsi = (struct btf_var_secinfo *)(t + 1);
	const char *name = btf->strs + t->name_off;
	unsigned i, vlen = btf_vlen(t);
	bool fix_offsets = false;

	if (strcmp(name, ".kconfig") == 0 || strcmp(name, ".ksyms") == 0)
		goto sort;
	if (t->size == 0) {
		const struct elf_section *s = elf_section_by_name(ef, name);

		if (!s || !s->size || s->size > UINT32_MAX)
			return fail(err, errsz, "DATASEC '%s': no ELF section of "
				    "that name to take a size from", name);
		t->size = (uint32_t)s->size;
		fix_offsets = true;
	}
	for (i = 0; i < vlen; i++) {
		struct btf_type *v = (struct btf_type *)(btf->types +
							  btf->type_offs[vsi[i].type]);
		struct btf_var *var = (struct btf_var *)(v + 1);
		const char *vname = btf->strs + v->name_off;
		const struct elf_symbol *sym;

		if (btf_kind(v) != BTF_KIND_VAR)
			return fail(err, errsz, "DATASEC '%s': entry %u is a %s, "
				    "not a VAR", name, i, btf_kind_name(btf_kind(v)));
		if (var->linkage == BTF_VAR_STATIC ||
		    var->linkage == BTF_VAR_GLOBAL_EXTERN)
			continue;
		sym = find_var_sym(idx, idx_cnt, vname);
		if (!sym)
			return fail(err, errsz, "DATASEC '%s': no global ELF symbol "
				    "for VAR '%s'", name, vname);
		if (fix_offsets) {
			if (sym->value > UINT32_MAX)
				return fail(err, errsz, "DATASEC '%s': VAR '%s' at "
					    "offset %llu", name, vname,
					    (unsigned long long)sym->value);
			vsi[i].offset = (uint32_t)sym->value;
		}
		if (sym->visibility == ELF_STV_HIDDEN || sym->visibility == 1)
			var->linkage = BTF_VAR_STATIC;	/* hidden or internal */
	}
	for (i = 0; i < vlen; i++)
		if ((uint64_t)vsi[i].offset + vsi[i].size > t->size)
			return fail(err, errsz, "DATASEC '%s': VAR '%s' (%u bytes "
				    "at offset %u) lies outside the section's %u "
				    "bytes", name,
				    btf_type_name(btf, vsi[i].type), vsi[i].size,
				    vsi[i].offset, t->size);
sort:
	qsort(vsi, vlen, sizeof(*vsi), cmp_secinfo);
	return 0;
}

int btf_fixup_datasecs(struct btf *btf, const struct elf_file *ef, char *err,
		       size_t errsz)
{
	const struct elf_symbol **idx = NULL;
	size_t i, n = 0;
	uint32_t id;
	int ret = 0;

	if (ef->sym_cnt) {
		idx = malloc(ef->sym_cnt * sizeof(*idx));
		if (!idx)
			return nomem(err, errsz, "the symbol index");
	}
	for (i = 1; i < ef->sym_cnt; i++) {
		const struct elf_symbol *s = &ef->syms[i];

		if (s->type == ELF_STT_OBJECT &&
		    (s->bind == ELF_STB_GLOBAL || s->bind == ELF_STB_WEAK))
			idx[n++] = s;
	}
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_sym_name);
	for (id = 1; id < btf->type_cnt && !ret; id++) {
		struct btf_type *t = (struct btf_type *)(btf->types + btf->type_offs[id]);

		if (btf_kind(t) == BTF_KIND_DATASEC)
			ret = fixup_datasec(btf, t, ef, idx, n, err, errsz);
	}
	free(idx);
	return ret;
}

/* --- BTF-defined maps --- */

#define MAP_FAIL(fmt, ...) fail(err, errsz, "map '%s': " fmt, name, __VA_ARGS__)

/* `int (*name)[N]`: N is the value */
static int map_field_int(const struct btf *btf, const char *name,
			 const char *field, uint32_t type_id, uint32_t *res,
			 char *err, size_t errsz)
{
	const struct btf_type *t = btf_skip_modifiers(btf, type_id, NULL);
	const struct btf_type *arr;

	if (!t || btf_kind(t) != BTF_KIND_PTR)
		return MAP_FAIL("attr '%s': expected PTR, got %s", field,
				t ? btf_kind_name(btf_kind(t)) : "invalid id");
	arr = btf_type_by_id(btf, t->type);
	if (!arr || btf_kind(arr) != BTF_KIND_ARRAY)
		return MAP_FAIL("attr '%s': expected pointer to ARRAY, got "
				"pointer to %s", field,
				arr ? btf_kind_name(btf_kind(arr)) : "invalid id");
	*res = btf_array_of(arr)->nelems;
	return 0;
}

/* the pointer form above, or a one-value enum (__ulong) for 64-bit fields */
static int map_field_long(const struct btf *btf, const char *name,
			  const char *field, uint32_t type_id, uint64_t *res,
			  char *err, size_t errsz)
{
	const struct btf_type *t = btf_skip_modifiers(btf, type_id, NULL);
	uint32_t v32;
	int ret;

	if (t && btf_kind(t) == BTF_KIND_PTR) {
		ret = map_field_int(btf, name, field, type_id, &v32, err, errsz);
		*res = v32;
		return ret;
	}
	if (!t || (btf_kind(t) != BTF_KIND_ENUM && btf_kind(t) != BTF_KIND_ENUM64))
		return MAP_FAIL("attr '%s': expected PTR, ENUM or ENUM64, got %s",
				field, t ? btf_kind_name(btf_kind(t)) : "invalid id");
	if (btf_vlen(t) != 1)
		return MAP_FAIL("attr '%s': enum with %u values, expected one",
				field, btf_vlen(t));
	if (btf_kind(t) == BTF_KIND_ENUM)
		*res = (uint64_t)(uint32_t)btf_enums(t)[0].val;
	else
		*res = (uint64_t)btf_enum64s(t)[0].val_hi32 << 32 |
		       btf_enum64s(t)[0].val_lo32;
	return 0;
}

/* key/value: pointer to the type; sets *type_id and *size, checking the
 * size against an earlier key_size/value_size */
static int map_field_type(const struct btf *btf, const char *name,
			  const char *field, uint32_t member_type,
			  uint32_t *type_id, uint32_t *size, char *err,
			  size_t errsz)
{
	const struct btf_type *t = btf_type_by_id(btf, member_type);
	int64_t sz;

	if (!t || btf_kind(t) != BTF_KIND_PTR)
		return MAP_FAIL("%s spec is not PTR: %s", field,
				t ? btf_kind_name(btf_kind(t)) : "invalid id");
	sz = btf_resolve_size(btf, t->type);
	if (sz < 0)
		return MAP_FAIL("can't determine %s size for type [%u]: %s",
				field, t->type,
				sz == -ELOOP ? "chain too deep" :
				sz == -E2BIG ? "size overflows 32 bits" :
					       "type has no size");
	if (*size && *size != sz)
		return MAP_FAIL("conflicting %s size %u != %lld", field, *size,
				(long long)sz);
	*size = (uint32_t)sz;
	*type_id = t->type;
	return 0;
}

static int map_values(const struct btf *btf, const char *name, bool is_inner,
		      struct btf_map_def *def, uint32_t member_type,
		      struct btf_map_def *inner, char *err, size_t errsz)
{
	bool is_mim = def->map_type == MAP_TYPE_ARRAY_OF_MAPS ||
		      def->map_type == MAP_TYPE_HASH_OF_MAPS;
	bool is_prog_array = def->map_type == MAP_TYPE_PROG_ARRAY;
	const char *desc = is_mim ? "map-in-map inner" : "prog-array value";
	const struct btf_type *t;
	uint32_t inner_id;
	char inner_name[128];
	int ret;

	if (is_inner)
		return MAP_FAIL("%s", "multi-level inner maps are not supported");
	if (!is_mim && !is_prog_array)
		return MAP_FAIL("%s", "should be map-in-map or prog-array to "
				"have 'values'");
	if (def->value_size && def->value_size != 4)
		return MAP_FAIL("conflicting value size %u != 4",
				def->value_size);
	def->value_size = 4;
	t = btf_type_by_id(btf, member_type);
	if (!t || btf_kind(t) != BTF_KIND_ARRAY || btf_array_of(t)->nelems)
		return MAP_FAIL("%s spec is not a zero-sized array", desc);
	t = btf_skip_modifiers(btf, btf_array_of(t)->type, NULL);
	if (!t || btf_kind(t) != BTF_KIND_PTR)
		return MAP_FAIL("%s def is of unexpected kind %s", desc,
				t ? btf_kind_name(btf_kind(t)) : "?");
	t = btf_skip_modifiers(btf, t->type, &inner_id);
	def->parts |= BTF_MAP_HAS_VALUES;
	if (is_prog_array) {
		if (!t || btf_kind(t) != BTF_KIND_FUNC_PROTO)
			return MAP_FAIL("prog-array value def is of unexpected "
					"kind %s", t ? btf_kind_name(btf_kind(t)) : "?");
		return 0;
	}
	if (!t || btf_kind(t) != BTF_KIND_STRUCT)
		return MAP_FAIL("map-in-map inner def is of unexpected kind %s",
				t ? btf_kind_name(btf_kind(t)) : "?");
	def->parts |= BTF_MAP_HAS_INNER;
	def->inner_type_id = inner_id;
	if (!inner)
		return 0;
	/* messages name the inner map as libbpf does: "<outer>.inner" */
	snprintf(inner_name, sizeof(inner_name), "%s.inner", name);
	ret = btf_map_def_parse_struct(btf, inner_id, inner_name, true, inner,
				       NULL, err, errsz);
	inner->name = def->name;	/* inner_name is about to go away */
	return ret;
}

int btf_map_def_parse_struct(const struct btf *btf, uint32_t struct_id,
			     const char *name, bool is_inner,
			     struct btf_map_def *def, struct btf_map_def *inner,
			     char *err, size_t errsz)
{
	const struct btf_type *t = btf_type_by_id(btf, struct_id);
	unsigned i, vlen;
	int ret = 0;

	memset(def, 0, sizeof(*def));
	def->name = name;
	def->def_type_id = struct_id;
	if (!name)
		name = "(inner)";
	if (!t || btf_kind(t) != BTF_KIND_STRUCT)
		return MAP_FAIL("definition type [%u] is not a struct",
				struct_id);
	vlen = btf_vlen(t);
	for (i = 0; i < vlen && !ret; i++) {
		const struct btf_member *m = &btf_members(t)[i];
		const char *f = btf->strs + m->name_off;

		if (!f[0])
			return MAP_FAIL("invalid field #%u (no name)", i);
		if (strcmp(f, "type") == 0) {
			ret = map_field_int(btf, name, f, m->type,
					    &def->map_type, err, errsz);
			def->parts |= BTF_MAP_HAS_TYPE;
		} else if (strcmp(f, "max_entries") == 0) {
			ret = map_field_int(btf, name, f, m->type,
					    &def->max_entries, err, errsz);
			def->parts |= BTF_MAP_HAS_MAX_ENTRIES;
		} else if (strcmp(f, "map_flags") == 0) {
			ret = map_field_int(btf, name, f, m->type,
					    &def->map_flags, err, errsz);
			def->parts |= BTF_MAP_HAS_MAP_FLAGS;
		} else if (strcmp(f, "numa_node") == 0) {
			ret = map_field_int(btf, name, f, m->type,
					    &def->numa_node, err, errsz);
			def->parts |= BTF_MAP_HAS_NUMA_NODE;
		} else if (strcmp(f, "key_size") == 0 ||
			   strcmp(f, "value_size") == 0) {
			bool key = f[0] == 'k';
			uint32_t sz, *dst = key ? &def->key_size : &def->value_size;

			ret = map_field_int(btf, name, f, m->type, &sz, err,
					    errsz);
			if (!ret && *dst && *dst != sz)
				ret = MAP_FAIL("conflicting %s size %u != %u",
					       key ? "key" : "value", *dst, sz);
			*dst = sz;
			def->parts |= key ? BTF_MAP_HAS_KEY_SIZE :
					    BTF_MAP_HAS_VALUE_SIZE;
		} else if (strcmp(f, "key") == 0) {
			ret = map_field_type(btf, name, f, m->type,
					     &def->key_type_id, &def->key_size,
					     err, errsz);
			def->parts |= BTF_MAP_HAS_KEY_TYPE;
		} else if (strcmp(f, "value") == 0) {
			ret = map_field_type(btf, name, f, m->type,
					     &def->value_type_id,
					     &def->value_size, err, errsz);
			def->parts |= BTF_MAP_HAS_VALUE_TYPE;
		} else if (strcmp(f, "values") == 0) {
			if (i != vlen - 1)
				return MAP_FAIL("'%s' member should be last", f);
			if (btf_member_bit_offset(t, i) % 8)
				return MAP_FAIL("'%s' is not byte aligned", f);
			def->values_off = btf_member_bit_offset(t, i) / 8;
			ret = map_values(btf, name, is_inner, def, m->type,
					 inner, err, errsz);
		} else if (strcmp(f, "pinning") == 0) {
			if (is_inner)
				return MAP_FAIL("%s", "inner def can't be pinned");
			ret = map_field_int(btf, name, f, m->type,
					    &def->pinning, err, errsz);
			if (!ret && def->pinning > 1)
				ret = MAP_FAIL("invalid pinning value %u",
					       def->pinning);
			def->parts |= BTF_MAP_HAS_PINNING;
		} else if (strcmp(f, "map_extra") == 0) {
			ret = map_field_long(btf, name, f, m->type,
					     &def->map_extra, err, errsz);
			def->parts |= BTF_MAP_HAS_MAP_EXTRA;
		} else {
			return MAP_FAIL("unknown field '%s'", f);
		}
	}
	if (ret)
		return ret;
	if (def->map_type == MAP_TYPE_UNSPEC)
		return MAP_FAIL("%s", "map type isn't specified");
	return 0;
}

int btf_map_def_parse(const struct btf *btf, uint32_t var_id,
		      struct btf_map_def *def, struct btf_map_def *inner,
		      char *err, size_t errsz)
{
	const struct btf_type *v = btf_type_by_id(btf, var_id), *t;
	const char *name;
	uint32_t def_id;
	int ret;

	memset(def, 0, sizeof(*def));
	if (!v || btf_kind(v) != BTF_KIND_VAR)
		return fail(err, errsz, ".maps: type [%u] is not a VAR", var_id);
	name = btf->strs + v->name_off;
	if (!name[0])
		return fail(err, errsz, ".maps: VAR [%u] has no name", var_id);
	if (btf_var_of(v)->linkage != BTF_VAR_GLOBAL_ALLOCATED &&
	    btf_var_of(v)->linkage != BTF_VAR_STATIC)
		return MAP_FAIL("unsupported map linkage %u",
				btf_var_of(v)->linkage);
	t = btf_skip_modifiers(btf, v->type, &def_id);
	if (!t || btf_kind(t) != BTF_KIND_STRUCT)
		return MAP_FAIL("unexpected def kind %s",
				t ? btf_kind_name(btf_kind(t)) : "?");
	ret = btf_map_def_parse_struct(btf, def_id, name, false, def, inner,
				       err, errsz);
	return ret;
}

/* --- C rendering --- */

struct out {
	char *buf;
	size_t size, len;	/* len: what the full text needs */
	unsigned *steps;	/* shared budget: types rendered so far */
};

static void put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len < o->size) {
		size_t room = o->size - o->len - 1, k = n < room ? n : room;

		memcpy(o->buf + o->len, s, k);
		o->buf[o->len + k] = '\0';
	}
	o->len += n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(o, tmp);
}

static void put_decl(struct out *o, const struct btf *btf, uint32_t id,
		     const char *decl, int depth);

static void put_body(struct out *o, const struct btf *btf,
		     const struct btf_type *t, const char *sep, int depth)
{
	unsigned i, kind = btf_kind(t);

	put(o, "{");
	for (i = 0; i < btf_vlen(t); i++) {
		put(o, sep);
		if (kind == BTF_KIND_ENUM) {
			const struct btf_enum *e = &btf_enums(t)[i];

			if (btf_kflag(t))
				putf(o, "%s = %d,", btf->strs + e->name_off, e->val);
			else
				putf(o, "%s = %u,", btf->strs + e->name_off,
				     (uint32_t)e->val);
		} else if (kind == BTF_KIND_ENUM64) {
			const struct btf_enum64 *e = &btf_enum64s(t)[i];
			uint64_t v = (uint64_t)e->val_hi32 << 32 | e->val_lo32;

			if (btf_kflag(t))
				putf(o, "%s = %lld,", btf->strs + e->name_off,
				     (long long)v);
			else
				putf(o, "%s = %llu,", btf->strs + e->name_off,
				     (unsigned long long)v);
		} else {
			const struct btf_member *m = &btf_members(t)[i];

			put_decl(o, btf, m->type, btf->strs + m->name_off,
				 depth + 1);
			if (btf_member_bitfield_size(t, i))
				putf(o, " : %u", btf_member_bitfield_size(t, i));
			put(o, ";");
		}
	}
	put(o, sep[0] == '\n' ? "\n}" : " }");
}

/* Write the C declaration of `decl` (a declarator: name with any pointer,
 * array and function parts gathered so far) as having type id. */
static void put_decl(struct out *o, const struct btf *btf, uint32_t id,
		     const char *decl, int depth)
{
	const struct btf_type *t = btf_type_by_id(btf, id);
	char nd[256];
	unsigned kind, i;
	const char *name;

	if (!t || depth > MAX_DUMP_DEPTH || ++*o->steps > MAX_DUMP_STEPS) {
		put(o, "...");
		return;
	}
	kind = btf_kind(t);
	name = btf->strs + t->name_off;
	switch (kind) {
	case BTF_KIND_PTR: {
		const struct btf_type *tt = btf_type_by_id(btf, t->type);
		unsigned tk = tt ? btf_kind(tt) : 0;

		if (tk == BTF_KIND_ARRAY || tk == BTF_KIND_FUNC_PROTO)
			snprintf(nd, sizeof(nd), "(*%s)", decl);
		else
			snprintf(nd, sizeof(nd), "*%s", decl);
		put_decl(o, btf, t->type, nd, depth + 1);
		return;
	}
	case BTF_KIND_ARRAY:
		snprintf(nd, sizeof(nd), "%s[%u]", decl, btf_array_of(t)->nelems);
		put_decl(o, btf, btf_array_of(t)->type, nd, depth + 1);
		return;
	case BTF_KIND_FUNC_PROTO: {
		struct out p = { nd, sizeof(nd), 0, o->steps };

		put(&p, decl);
		put(&p, "(");
		for (i = 0; i < btf_vlen(t); i++) {
			const struct btf_param *pa = &btf_params(t)[i];

			if (i)
				put(&p, ", ");
			if (pa->type == 0 && i == btf_vlen(t) - 1)
				put(&p, "...");
			else
				put_decl(&p, btf, pa->type,
					 btf->strs + pa->name_off, depth + 1);
		}
		put(&p, btf_vlen(t) ? ")" : "void)");
		put_decl(o, btf, t->type, nd, depth + 1);
		return;
	}
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT: {
		const char *q = kind == BTF_KIND_CONST ? "const" :
				kind == BTF_KIND_VOLATILE ? "volatile" :
							    "restrict";
		const struct btf_type *tt = btf_type_by_id(btf, t->type);

		if (tt && btf_kind(tt) == BTF_KIND_PTR) {
			snprintf(nd, sizeof(nd), "%s%s%s", q, decl[0] ? " " : "",
				 decl);
			put_decl(o, btf, t->type, nd, depth + 1);
		} else {
			put(o, q);
			put(o, " ");
			put_decl(o, btf, t->type, decl, depth + 1);
		}
		return;
	}
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_DECL_TAG:
		put_decl(o, btf, t->type, decl, depth + 1);
		return;
	case BTF_KIND_VAR:
		put_decl(o, btf, t->type, name, depth + 1);
		return;
	case BTF_KIND_FUNC:
		put_decl(o, btf, t->type, name, depth + 1);
		return;
	case BTF_KIND_UNKN:
		put(o, "void");
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		put(o, kind == BTF_KIND_STRUCT ? "struct" :
		       kind == BTF_KIND_UNION	? "union" :
						  "enum");
		if (name[0]) {
			put(o, " ");
			put(o, name);
		} else {
			put(o, " ");
			put_body(o, btf, t, " ", depth + 1);
		}
		break;
	case BTF_KIND_FWD:
		put(o, btf_kflag(t) ? "union " : "struct ");
		put(o, name);
		break;
	case BTF_KIND_DATASEC:
		putf(o, "SEC(\"%s\")", name);
		break;
	default:	/* INT, FLOAT, TYPEDEF */
		put(o, name);
		break;
	}
	if (decl[0]) {
		if (decl[0] != '[')	/* "int[4]", but "int *p", "int (*)[4]" */
			put(o, " ");
		put(o, decl);
	}
}

int btf_dump_type(const struct btf *btf, uint32_t id, char *buf, size_t size)
{
	const struct btf_type *t = btf_type_by_id(btf, id);
	unsigned kind, steps = 0;
	struct out o = { buf, size, 0, &steps };

	if (size)
		buf[0] = '\0';
	if (!t)
		return -EINVAL;
	kind = btf_kind(t);
	if (kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION ||
	    kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64) {
		const char *name = btf->strs + t->name_off;

		put(&o, kind == BTF_KIND_STRUCT ? "struct " :
			kind == BTF_KIND_UNION	? "union " :
						  "enum ");
		if (name[0]) {
			put(&o, name);
			put(&o, " ");
		}
		put_body(&o, btf, t, "\n\t", 0);
	} else if (kind == BTF_KIND_DATASEC) {
		unsigned i;

		putf(&o, "SEC(\"%s\") {", btf->strs + t->name_off);
		for (i = 0; i < btf_vlen(t); i++) {
			const struct btf_var_secinfo *v = &btf_var_secinfos(t)[i];

			put(&o, "\n\t");
			put_decl(&o, btf, v->type, "", 1);
			putf(&o, "; /* offset %u, size %u */", v->offset, v->size);
		}
		put(&o, "\n}");
	} else {
		put_decl(&o, btf, id, "", 0);
	}
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

/* --- .BTF.ext --- */

enum ext_kind { EXT_FUNC, EXT_LINE, EXT_CORE };

static const char *const ext_kind_names[] = { "func_info", "line_info",
					      "core_relo" };
static const uint32_t ext_min_rec[] = { 8, 16, 16 };

/* one per-section block of records in one of the three info areas */
struct ext_block {
	uint32_t name_off;
	enum ext_kind kind;
	uint32_t num;
	uint32_t rec_size;
	const uint8_t *recs;
};

static int cmp_block(const void *a, const void *b)
{
	const struct ext_block *x = a, *y = b;

	if (x->name_off != y->name_off)
		return x->name_off < y->name_off ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return 0;
}

/* Split one info area [p, p + len) into blocks appended to *blocks. */
static int split_area(const struct btf *btf, const uint8_t *p, uint32_t len,
		      enum ext_kind kind, struct ext_block **blocks,
		      size_t *cnt, size_t *cap, char *err, size_t errsz)
{
	const char *what = ext_kind_names[kind];
	uint32_t rec_size, off = 4;

	if (len == 0)
		return 0;
	if (len < 4)
		return fail(err, errsz, ".BTF.ext: %s: %u bytes, too short for "
			    "the record size", what, len);
	rec_size = rd32(p);
	if (rec_size < ext_min_rec[kind] || rec_size % 4)
		return fail(err, errsz, ".BTF.ext: %s: record size %u (minimum "
			    "%u, multiple of 4)", what, rec_size,
			    ext_min_rec[kind]);
	while (off < len) {
		struct ext_block *b;
		uint32_t name_off, num;
		const char *sec;

		if (len - off < 8)
			return fail(err, errsz, ".BTF.ext: %s: truncated "
				    "section header at offset %u", what, off);
		name_off = rd32(p + off);
		num = rd32(p + off + 4);
		sec = btf_name_by_offset(btf, name_off);
		if (!sec || !sec[0])
			return fail(err, errsz, ".BTF.ext: %s: section name "
				    "offset %u at offset %u is not a name in "
				    ".BTF", what, name_off, off);
		off += 8;
		if (num == 0)
			return fail(err, errsz, ".BTF.ext: %s: section '%s' "
				    "has no records", what, sec);
		if ((uint64_t)num * rec_size > len - off)
			return fail(err, errsz, ".BTF.ext: %s: section '%s': "
				    "%u records of %u bytes run past the end "
				    "(%u bytes left)", what, sec, num, rec_size,
				    len - off);
		if (*cnt == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;
			struct ext_block *nb = realloc(*blocks, ncap * sizeof(*nb));

			if (!nb)
				return nomem(err, errsz, ".BTF.ext sections");
			*blocks = nb;
			*cap = ncap;
		}
		b = &(*blocks)[(*cnt)++];
		b->name_off = name_off;
		b->kind = kind;
		b->num = num;
		b->rec_size = rec_size;
		b->recs = p + off;
		off += num * rec_size;
	}
	return 0;
}

static int fill_block(const struct btf *btf, struct btf_ext_sec *s,
		      const struct ext_block *b, char *err, size_t errsz)
{
	const char *what = ext_kind_names[b->kind];
	uint32_t i;

	if ((b->kind == EXT_FUNC && s->funcs) ||
	    (b->kind == EXT_LINE && s->lines) ||
	    (b->kind == EXT_CORE && s->core_relo_cnt))
		return fail(err, errsz, ".BTF.ext: %s: section '%s' is listed "
			    "twice", what, s->sec_name);
	if (b->kind == EXT_CORE) {
		s->core_relo_cnt = b->num;
		return 0;
	}
	if (b->kind == EXT_FUNC) {
		s->funcs = calloc(b->num, sizeof(*s->funcs));
		if (!s->funcs)
			return nomem(err, errsz, "func_info");
	} else {
		s->lines = calloc(b->num, sizeof(*s->lines));
		if (!s->lines)
			return nomem(err, errsz, "line_info");
	}
	for (i = 0; i < b->num; i++) {
		const uint8_t *r = b->recs + (size_t)i * b->rec_size;
		uint32_t insn_off = rd32(r);

		if (insn_off % 8)
			return fail(err, errsz, ".BTF.ext: %s: section '%s' "
				    "record %u: insn_off %u is not a multiple of "
				    "8 bytes", what, s->sec_name, i, insn_off);
		if (b->kind == EXT_FUNC) {
			uint32_t type_id = rd32(r + 4);
			const struct btf_type *t = btf_type_by_id(btf, type_id);

			if (!t || btf_kind(t) != BTF_KIND_FUNC)
				return fail(err, errsz, ".BTF.ext: func_info: "
					    "section '%s' record %u: type id %u "
					    "is not a FUNC", s->sec_name, i,
					    type_id);
			s->funcs[i].insn_off = insn_off;
			s->funcs[i].type_id = type_id;
		} else {
			struct btf_line_info *l = &s->lines[i];
			uint32_t file_off = rd32(r + 4), line_off = rd32(r + 8);
			uint32_t line_col = rd32(r + 12);

			l->insn_off = insn_off;
			l->file = btf_name_by_offset(btf, file_off);
			l->line = btf_name_by_offset(btf, line_off);
			if (!l->file || !l->line)
				return fail(err, errsz, ".BTF.ext: line_info: "
					    "section '%s' record %u: file name "
					    "offset %u or line offset %u is "
					    "outside the .BTF strings",
					    s->sec_name, i, file_off, line_off);
			l->line_num = line_col >> 10;
			l->col = line_col & 0x3ff;
		}
	}
	if (b->kind == EXT_FUNC)
		s->func_cnt = b->num;
	else
		s->line_cnt = b->num;
	return 0;
}

struct btf_ext *btf_ext_parse(const struct btf *btf, const void *data,
			      size_t size, char *err, size_t errsz)
{
	const uint8_t *p = data;
	struct ext_block *blocks = NULL;
	size_t cnt = 0, cap = 0, i;
	struct btf_ext *ext = NULL;
	uint32_t hdr_len, area[3][2] = { { 0 } };
	uint64_t body;
	int ret = 0, k;

	if (err && errsz)
		err[0] = '\0';
	if (!data || size < EXT_HDR_MIN_SZ) {
		ret = fail(err, errsz, ".BTF.ext: %zu bytes, shorter than the "
			   "24-byte header", data ? size : 0);
		goto out;
	}
	if (p[0] != 0x9f || p[1] != 0xeb || p[2] != 1 || p[3] != 0) {
		ret = fail(err, errsz, ".BTF.ext: bad magic, version or flags "
			   "(%02x%02x v%u flags %u)", p[1], p[0], p[2], p[3]);
		goto out;
	}
	hdr_len = rd32(p + 4);
	if (hdr_len < EXT_HDR_MIN_SZ || hdr_len > size) {
		ret = fail(err, errsz, ".BTF.ext: header length %u outside "
			   "[24, %zu]", hdr_len, size);
		goto out;
	}
	body = size - hdr_len;
	for (k = 0; k < 3; k++) {
		if (k == EXT_CORE && hdr_len < EXT_HDR_CORE_SZ)
			break;
		area[k][0] = rd32(p + 8 + 8 * k);
		area[k][1] = rd32(p + 12 + 8 * k);
		if ((uint64_t)area[k][0] + area[k][1] > body) {
			ret = fail(err, errsz, ".BTF.ext: %s (%u bytes at %u) "
				   "runs past the %llu bytes after the header",
				   ext_kind_names[k], area[k][1], area[k][0],
				   (unsigned long long)body);
			goto out;
		}
		ret = split_area(btf, p + hdr_len + area[k][0], area[k][1],
				 (enum ext_kind)k, &blocks, &cnt, &cap, err,
				 errsz);
		if (ret)
			goto out;
	}

	ext = calloc(1, sizeof(*ext));
	if (!ext) {
		ret = nomem(err, errsz, ".BTF.ext");
		goto out;
	}
	if (cnt) {
		qsort(blocks, cnt, sizeof(*blocks), cmp_block);
		ext->secs = calloc(cnt, sizeof(*ext->secs));
		if (!ext->secs) {
			ret = nomem(err, errsz, ".BTF.ext sections");
			goto out;
		}
	}
	for (i = 0; i < cnt; i++) {
		struct btf_ext_sec *s;

		if (!ext->sec_cnt ||
		    blocks[i].name_off != blocks[i - 1].name_off) {
			s = &ext->secs[ext->sec_cnt++];
			s->sec_name = btf_name_by_offset(btf, blocks[i].name_off);
		}
		s = &ext->secs[ext->sec_cnt - 1];
		ret = fill_block(btf, s, &blocks[i], err, errsz);
		if (ret)
			goto out;
		if (blocks[i].kind == EXT_FUNC)
			ext->func_cnt += blocks[i].num;
		else if (blocks[i].kind == EXT_LINE)
			ext->line_cnt += blocks[i].num;
		else
			ext->core_relo_cnt += blocks[i].num;
	}
out:
	free(blocks);
	if (ret) {
		btf_ext_free(ext);
		errno = -ret;
		return NULL;
	}
	return ext;
}

void btf_ext_free(struct btf_ext *ext)
{
	size_t i;

	if (!ext)
		return;
	for (i = 0; i < ext->sec_cnt; i++) {
		free(ext->secs[i].funcs);
		free(ext->secs[i].lines);
	}
	free(ext->secs);
	free(ext);
}

const struct btf_ext_sec *btf_ext_sec_by_name(const struct btf_ext *ext,
					      const char *sec_name)
{
	size_t i;

	for (i = 0; i < ext->sec_cnt; i++)
		if (strcmp(ext->secs[i].sec_name, sec_name) == 0)
			return &ext->secs[i];
	return NULL;
}
