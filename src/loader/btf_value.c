/* btf_value.c — render a map key or value as text using its BTF type.
 *
 * What `--dump-maps` and `bpfvm map dump` print: integers in decimal, enums
 * by name, char arrays as strings, structs as {name=value, ...} (or JSON
 * objects), arrays as [...].  For network programs, a 4-byte member whose
 * name ends in "addr" prints as a dotted IPv4 address and a 2-byte member
 * whose name contains "port" as a port number (both stored in network byte
 * order, as programs keep them).  Bounded recursion; never reads past size.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loader/btf.h"
#include "loader/btf_value.h"

struct out {
	char *buf;
	size_t size, len;
};

static void emit(struct out *o, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static uint64_t load_uint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	memcpy(&v, p, n > 8 ? 8 : n);
	return v;
}

static void hex(struct out *o, const uint8_t *p, size_t n, bool json)
{
	emit(o, json ? "\"0x" : "0x");
	for (size_t i = 0; i < n; i++)
		emit(o, "%02x", p[i]);
	if (json)
		emit(o, "\"");
}

static void value(struct out *o, const struct btf *btf, uint32_t id, const char *member,
		  const uint8_t *p, size_t n, bool json, int depth);

static void int_value(struct out *o, const struct btf_type *t, const char *member,
		      const uint8_t *p, size_t n, bool json)
{
	uint32_t enc = btf_int_encoding_of(t);
	uint32_t bits = BTF_INT_BITS(enc), bytes = (bits + 7) / 8;
	if (bytes > n || bytes == 0 || bytes > 8 || BTF_INT_OFFSET(enc)) {
		hex(o, p, n, json);
		return;
	}
	uint64_t v = load_uint(p, bytes);
	if (member && bytes == 4 && strlen(member) >= 4 &&
	    !strcmp(member + strlen(member) - 4, "addr")) {
		emit(o, json ? "\"%u.%u.%u.%u\"" : "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
		return;
	}
	if (member && bytes == 2 && strstr(member, "port")) {
		emit(o, "%u", (unsigned)(p[0] << 8 | p[1]));
		return;
	}
	if (BTF_INT_ENCODING(enc) & BTF_INT_BOOL) {
		emit(o, "%s", v ? "true" : "false");
	} else if (BTF_INT_ENCODING(enc) & BTF_INT_SIGNED) {
		int shift = 64 - (int)bytes * 8;
		int64_t s = shift ? (int64_t)(v << shift) >> shift : (int64_t)v;
		emit(o, "%" PRId64, s);
	} else {
		emit(o, "%" PRIu64, v);
	}
}

static void value(struct out *o, const struct btf *btf, uint32_t id, const char *member,
		  const uint8_t *p, size_t n, bool json, int depth)
{
	uint32_t rid;
	const struct btf_type *t = btf ? btf_skip_modifiers(btf, id, &rid) : NULL;
	if (!t || depth > 8) {
		hex(o, p, n, json);
		return;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		int_value(o, t, member, p, n, json);
		return;
	case BTF_KIND_ENUM: {
		int64_t v = (int64_t)load_uint(p, t->size < n ? t->size : n);
		if (t->size == 4)
			v = (int32_t)v;
		const struct btf_enum *e = btf_enums(t);
		for (unsigned i = 0; i < btf_vlen(t); i++)
			if (e[i].val == v) {
				const char *nm = btf_name_by_offset(btf, e[i].name_off);
				emit(o, json ? "\"%s\"" : "%s", nm ? nm : "?");
				return;
			}
		emit(o, "%" PRId64, v);
		return;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array_of(t);
		int64_t esz = btf_resolve_size(btf, a->type);
		const struct btf_type *et = btf_skip_modifiers(btf, a->type, NULL);
		if (esz <= 0 || (uint64_t)esz * a->nelems > n) {
			hex(o, p, n, json);
			return;
		}
		if (esz == 1 && et && btf_kind(et) == BTF_KIND_INT &&
		    (BTF_INT_ENCODING(btf_int_encoding_of(et)) & BTF_INT_CHAR ||
		     !strcmp(btf_type_name(btf, a->type) ? btf_type_name(btf, a->type) : "", "char"))) {
			emit(o, "\"");
			for (uint32_t i = 0; i < a->nelems && p[i]; i++)
				emit(o, isprint(p[i]) && p[i] != '"' && p[i] != '\\' ? "%c" : "\\x%02x", p[i]);
			emit(o, "\"");
			return;
		}
		emit(o, "[");
		for (uint32_t i = 0; i < a->nelems; i++) {
			emit(o, i ? ", " : "");
			value(o, btf, a->type, member, p + (size_t)esz * i, (size_t)esz, json, depth + 1);
		}
		emit(o, "]");
		return;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);
		bool first = true;
		emit(o, "{");
		for (unsigned i = 0; i < btf_vlen(t); i++) {
			const char *nm = btf_name_by_offset(btf, m[i].name_off);
			uint32_t bit = btf_member_bit_offset(t, i);
			int64_t msz = btf_resolve_size(btf, m[i].type);
			if (!nm || !nm[0] || bit % 8 || btf_member_bitfield_size(t, i) || msz <= 0 ||
			    bit / 8 + (uint64_t)msz > n)
				continue; /* padding, anonymous members and bitfields */
			emit(o, first ? "" : ", ");
			first = false;
			emit(o, json ? "\"%s\": " : "%s=", nm);
			value(o, btf, m[i].type, nm, p + bit / 8, (size_t)msz, json, depth + 1);
		}
		emit(o, "}");
		return;
	}
	default:
		hex(o, p, n, json);
	}
}

size_t btf_format_value(const struct btf *btf, uint32_t type_id, const void *data, size_t size,
			bool json, char *buf, size_t buf_sz)
{
	struct out o = { buf, buf_sz, 0 };
	if (buf_sz)
		buf[0] = 0;
	value(&o, type_id ? btf : NULL, type_id, NULL, data, size, json, 0);
	if (buf_sz && o.len >= buf_sz)
		buf[buf_sz - 1] = 0;
	return o.len;
}
