/* object.c — open and load clang-compiled eBPF objects, as libbpf does.
 *
 * Open parses the ELF (elf.c), BTF and .BTF.ext (btf.c), types each program
 * by its SEC() name (sections.c) and collects the maps the object defines:
 * BTF-defined ones in .maps, legacy ones in `maps`, one ARRAY map per global
 * data section (the value is the section's bytes), and a map for .kconfig
 * externs.  Nothing is created until load, so the caller can still change
 * global variables (bpfvm_object_set_global) and autoload choices.  Load
 * creates the maps, links each program (link.c), builds it with
 * bpfvm_prog_from_insns() against the object's maps, then fills PROG_ARRAY
 * and map-in-map `.values` slots.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bpfvm.h"
#include "bpfvm/map.h"
#include "bpfvm/object.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"
#include "loader/btf_value.h"
#include "loader/object_int.h"
#include "maps/map.h"

#define KCONFIG_SEC 0xfffffff0u	/* a section index no ELF section has */

int obj_err(struct bpfvm_object *obj, int err, const char *fmt, ...)
{
	if (obj->log && obj->log_sz) {
		int n = snprintf(obj->log, obj->log_sz, "%s: ", obj->name ? obj->name : "object");
		if (n >= 0 && (size_t)n < obj->log_sz) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(obj->log + n, obj->log_sz - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return err;
}

int obj_map_at(const struct bpfvm_object *obj, uint32_t sec_idx, uint32_t off)
{
	for (size_t i = 0; i < obj->map_cnt; i++) {
		const struct obj_map *m = &obj->maps[i];
		if (m->is_inner || m->sec_idx != sec_idx)
			continue;
		if (m->kind == OBJ_MAP_DATA || m->kind == OBJ_MAP_KCONFIG || m->sec_off == off)
			return (int)i;
	}
	return -1;
}

bool obj_is_data_sec(const struct bpfvm_object *obj, uint32_t sec_idx)
{
	for (size_t i = 0; i < obj->map_cnt; i++)
		if (obj->maps[i].kind == OBJ_MAP_DATA && obj->maps[i].sec_idx == sec_idx)
			return true;
	return false;
}

static struct obj_map *add_map(struct bpfvm_object *obj, const char *name)
{
	struct obj_map *n = realloc(obj->maps, (obj->map_cnt + 1) * sizeof(*n));
	if (!n)
		return NULL;
	obj->maps = n;
	struct obj_map *m = &obj->maps[obj->map_cnt];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	if (!m->name)
		return NULL;
	m->inner_idx = -1;
	m->spin_lock_off = -1;
	obj->map_cnt++;
	return m;
}

static int add_var(struct bpfvm_object *obj, const char *name, int map_idx, uint32_t off,
		   uint32_t size)
{
	struct obj_var *n = realloc(obj->vars, (obj->var_cnt + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	obj->vars = n;
	n[obj->var_cnt] = (struct obj_var){ strdup(name), map_idx, off, size };
	if (!n[obj->var_cnt].name)
		return -ENOMEM;
	obj->var_cnt++;
	return 0;
}

/* ------------------------------------------------------------ maps -- */

/* The ELF symbol `name` in section sec_idx (clang leaves DATASEC offsets 0 in
 * objects; libbpf takes them from the symbol table too), or NULL. */
static const struct elf_symbol *sym_in_sec(const struct bpfvm_object *obj, uint32_t sec_idx,
					   const char *name)
{
	for (size_t i = 1; i < obj->elf->sym_cnt; i++) {
		const struct elf_symbol *s = &obj->elf->syms[i];
		if (s->shndx == sec_idx && s->type != ELF_STT_SECTION && !strcmp(s->name, name))
			return s;
	}
	return NULL;
}

static void map_from_btf_def(struct obj_map *m, const struct btf_map_def *d,
			     const struct btf *btf)
{
	m->type = d->map_type;
	m->key_size = d->key_size;
	m->value_size = d->value_size;
	m->max_entries = d->max_entries;
	m->map_flags = d->map_flags;
	m->numa_node = d->numa_node;
	m->map_extra = d->map_extra;
	m->key_type_id = d->key_type_id;
	m->value_type_id = d->value_type_id;
	m->values_off = d->values_off;
	if (d->value_type_id) {
		int off = btf_find_spin_lock(btf, d->value_type_id);
		m->spin_lock_off = off >= 0 ? off : -1;
	}
}

static int collect_btf_maps(struct bpfvm_object *obj)
{
	const struct elf_section *sec = elf_section_by_name(obj->elf, ".maps");
	if (!sec)
		return 0;
	obj->maps_sec = sec->index;
	if (!obj->btf)
		return obj_err(obj, -EINVAL, "section .maps: BTF-defined maps need .BTF (compile with -g)");
	int32_t ds = btf_find_by_name_kind(obj->btf, ".maps", BTF_KIND_DATASEC);
	if (ds < 0)
		return obj_err(obj, -EINVAL, "section .maps: no DATASEC .maps in BTF");
	const struct btf_type *t = btf_type_by_id(obj->btf, (uint32_t)ds);
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		char err[256] = "";
		struct btf_map_def def, inner;
		memset(&inner, 0, sizeof(inner));
		if (btf_map_def_parse(obj->btf, vs[i].type, &def, &inner, err, sizeof(err)))
			return obj_err(obj, -EINVAL, "section .maps: %s", err);
		int inner_idx = -1;
		if (def.parts & BTF_MAP_HAS_INNER) {
			char iname[128];
			snprintf(iname, sizeof(iname), "%s.inner", def.name ? def.name : "map");
			struct obj_map *im = add_map(obj, iname);
			if (!im)
				return -ENOMEM;
			map_from_btf_def(im, &inner, obj->btf);
			im->is_inner = true;
			im->sec_idx = sec->index;
			inner_idx = (int)(obj->map_cnt - 1);
		}
		struct obj_map *m = add_map(obj, def.name);
		if (!m)
			return -ENOMEM;
		m->kind = OBJ_MAP_BTF;
		map_from_btf_def(m, &def, obj->btf);
		m->sec_idx = sec->index;
		const struct elf_symbol *sym = sym_in_sec(obj, sec->index, def.name);
		if (!sym)
			return obj_err(obj, -EINVAL, "section .maps: map '%s' has no symbol", def.name);
		m->sec_off = (uint32_t)sym->value;
		m->inner_idx = inner_idx;
	}
	return 0;
}

static int collect_legacy_maps(struct bpfvm_object *obj)
{
	const struct elf_section *sec = elf_section_by_name(obj->elf, "maps");
	if (!sec)
		return 0;
	obj->legacy_maps_sec = sec->index;
	struct elf_legacy_map *lm;
	size_t cnt;
	char err[256] = "";
	if (elf_legacy_maps(obj->elf, sec->index, &lm, &cnt, err, sizeof(err)))
		return obj_err(obj, -EINVAL, "section maps: %s", err);
	int ret = 0;
	for (size_t i = 0; i < cnt && !ret; i++) {
		struct obj_map *m = add_map(obj, lm[i].name);
		if (!m) {
			ret = -ENOMEM;
			break;
		}
		m->kind = OBJ_MAP_LEGACY;
		m->sec_idx = sec->index;
		m->sec_off = lm[i].sec_offset;
		m->type = lm[i].type;
		m->key_size = lm[i].key_size;
		m->value_size = lm[i].value_size;
		m->max_entries = lm[i].max_entries;
		m->map_flags = lm[i].map_flags;
	}
	free(lm);
	return ret;
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static bool is_data_sec_name(const char *n)
{
	return !strcmp(n, ".data") || !strcmp(n, ".rodata") || !strcmp(n, ".bss") ||
	       has_prefix(n, ".data.") || has_prefix(n, ".rodata.") || has_prefix(n, ".bss.");
}

/* the global variables of data section `sec` (map idx): from BTF's DATASEC,
 * else from the ELF symbols */
static int collect_vars(struct bpfvm_object *obj, const struct elf_section *sec, int idx)
{
	int32_t ds = obj->btf ? btf_find_by_name_kind(obj->btf, sec->name, BTF_KIND_DATASEC) : -1;
	if (ds >= 0) {
		const struct btf_type *t = btf_type_by_id(obj->btf, (uint32_t)ds);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (unsigned i = 0; i < btf_vlen(t); i++) {
			const char *name = btf_type_name(obj->btf, vs[i].type);
			const struct elf_symbol *sym = name ? sym_in_sec(obj, sec->index, name) : NULL;
			int64_t size = btf_resolve_size(obj->btf, vs[i].type);
			if (!sym || size <= 0 || sym->value + (uint64_t)size > sec->size)
				continue;
			int err = add_var(obj, name, idx, (uint32_t)sym->value, (uint32_t)size);
			if (err)
				return err;
		}
		return 0;
	}
	for (size_t i = 1; i < obj->elf->sym_cnt; i++) {
		const struct elf_symbol *s = &obj->elf->syms[i];
		if (s->shndx != sec->index || s->type != ELF_STT_OBJECT || !s->name[0] ||
		    s->value + s->size > sec->size)
			continue;
		int err = add_var(obj, s->name, idx, (uint32_t)s->value, (uint32_t)s->size);
		if (err)
			return err;
	}
	return 0;
}

static int collect_data_maps(struct bpfvm_object *obj)
{
	for (size_t i = 1; i < obj->elf->sec_cnt; i++) {
		const struct elf_section *sec = &obj->elf->secs[i];
		if (!is_data_sec_name(sec->name) || sec->size == 0 ||
		    (sec->type != ELF_SHT_PROGBITS && sec->type != ELF_SHT_NOBITS))
			continue;
		if (sec->size > (1u << 30))
			return obj_err(obj, -E2BIG, "section %s: %llu bytes is too large", sec->name,
				       (unsigned long long)sec->size);
		struct obj_map *m = add_map(obj, sec->name);
		if (!m)
			return -ENOMEM;
		m->kind = OBJ_MAP_DATA;
		m->sec_idx = sec->index;
		m->type = BPFVM_MAP_TYPE_ARRAY;
		m->key_size = 4;
		m->value_size = (uint32_t)sec->size;
		m->max_entries = 1;
		m->map_flags = BPFVM_F_MMAPABLE |
			       (has_prefix(sec->name, ".rodata") ? BPFVM_F_RDONLY_PROG : 0);
		m->data = calloc(1, sec->size);
		if (!m->data)
			return -ENOMEM;
		if (sec->type == ELF_SHT_PROGBITS && sec->data)
			memcpy(m->data, sec->data, sec->size);
		int err = collect_vars(obj, sec, (int)(obj->map_cnt - 1));
		if (err)
			return err;
	}
	return 0;
}

/* value of NAME in the user's kconfig text ("NAME=VALUE" lines), or NULL */
static const char *kconfig_lookup(const char *kc, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (const char *p = kc; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t ll = e ? (size_t)(e - p) : strlen(p);
		if (ll > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			*len = ll - nl - 1;
			return p + nl + 1;
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

static void kconfig_value(struct bpfvm_object *obj, const char *name, uint8_t *dst, uint32_t size)
{
	char buf[256];
	size_t len = 0;
	const char *v = obj->kconfig ? kconfig_lookup(obj->kconfig, name, &len) : NULL;
	uint64_t x = 0;
	if (!v && !strcmp(name, "LINUX_KERNEL_VERSION")) {
		struct utsname u;
		unsigned a = 0, b = 0, c = 0;
		if (uname(&u) == 0)
			sscanf(u.release, "%u.%u.%u", &a, &b, &c);
		x = (uint64_t)a << 16 | b << 8 | (c > 255 ? 255 : c);
	} else if (v) {
		snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
		if (!strcmp(buf, "y"))
			x = 1;
		else if (!strcmp(buf, "m"))
			x = 2;
		else if (!strcmp(buf, "n"))
			x = 0;
		else if (buf[0] == '"') {
			size_t n = strlen(buf + 1);
			if (n && buf[n] == '"')
				n--;
			memcpy(dst, buf + 1, n < size ? n : size - 1);
			return;
		} else
			x = strtoull(buf, NULL, 0);
	}
	memcpy(dst, &x, size < 8 ? size : 8);
}

static int collect_kconfig(struct bpfvm_object *obj)
{
	int32_t ds = obj->btf ? btf_find_by_name_kind(obj->btf, ".kconfig", BTF_KIND_DATASEC) : -1;
	if (ds < 0)
		return 0;
	const struct btf_type *t = btf_type_by_id(obj->btf, (uint32_t)ds);
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	uint32_t off = 0;
	size_t first_var = obj->var_cnt;
	int idx = (int)obj->map_cnt;
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *name = btf_type_name(obj->btf, vs[i].type);
		int64_t size = btf_resolve_size(obj->btf, vs[i].type);
		if (!name || size <= 0 || size > 256)
			return obj_err(obj, -EINVAL, ".kconfig: extern '%s' has an unsupported type",
				       name ? name : "?");
		uint32_t align = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
		off = (off + align - 1) & ~(align - 1);
		int err = add_var(obj, name, idx, off, (uint32_t)size);
		if (err)
			return err;
		off += (uint32_t)size;
	}
	if (off == 0)
		return 0;
	struct obj_map *m = add_map(obj, ".kconfig");
	if (!m)
		return -ENOMEM;
	m->kind = OBJ_MAP_KCONFIG;
	m->sec_idx = obj->kconfig_sec = KCONFIG_SEC;
	m->type = BPFVM_MAP_TYPE_ARRAY;
	m->key_size = 4;
	m->value_size = off;
	m->max_entries = 1;
	m->map_flags = BPFVM_F_RDONLY_PROG | BPFVM_F_MMAPABLE;
	m->data = calloc(1, off);
	if (!m->data)
		return -ENOMEM;
	for (size_t i = first_var; i < obj->var_cnt; i++)
		kconfig_value(obj, obj->vars[i].name, m->data + obj->vars[i].off, obj->vars[i].size);
	return 0;
}

/* ------------------------------------------------------------ programs -- */

static int add_prog(struct bpfvm_object *obj, const char *name, const struct elf_section *sec,
		    uint32_t start, uint32_t cnt, const struct sec_match *sm)
{
	struct obj_prog *n = realloc(obj->progs, (obj->prog_cnt + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	obj->progs = n;
	struct obj_prog *p = &n[obj->prog_cnt];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->sec_name = strdup(sec->name);
	if (!p->name || !p->sec_name)
		return -ENOMEM;
	p->sec_idx = sec->index;
	p->insn_off = start;
	p->insn_cnt = cnt;
	p->sm = *sm;
	p->autoload = sm->autoload;
	obj->prog_cnt++;
	return 0;
}

static int collect_progs(struct bpfvm_object *obj)
{
	for (size_t i = 1; i < obj->elf->sec_cnt; i++) {
		const struct elf_section *sec = &obj->elf->secs[i];
		if (!(sec->flags & ELF_SHF_EXECINSTR) || sec->size == 0 || !strcmp(sec->name, ".text"))
			continue;
		if (sec->size % 8)
			return obj_err(obj, -EINVAL, "section %s: size %llu is not a whole number of instructions",
				       sec->name, (unsigned long long)sec->size);
		struct sec_match sm;
		if (sec_def_find(sec->name, &sm))
			return obj_err(obj, -EINVAL, "section %s: %s", sec->name, sm.err);
		size_t before = obj->prog_cnt;
		for (size_t s = 1; s < obj->elf->sym_cnt; s++) {
			const struct elf_symbol *sym = &obj->elf->syms[s];
			if (sym->shndx != sec->index || sym->type != ELF_STT_FUNC ||
			    sym->bind == ELF_STB_LOCAL)
				continue;
			if (sym->value % 8 || sym->size % 8 || sym->value + sym->size > sec->size ||
			    sym->size == 0)
				return obj_err(obj, -EINVAL, "section %s: function '%s' has a bad extent",
					       sec->name, sym->name);
			int err = add_prog(obj, sym->name, sec, (uint32_t)(sym->value / 8),
					   (uint32_t)(sym->size / 8), &sm);
			if (err)
				return err;
		}
		if (obj->prog_cnt == before) { /* no symbols: the section is the program */
			int err = add_prog(obj, sec->name, sec, 0, (uint32_t)(sec->size / 8), &sm);
			if (err)
				return err;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ open -- */

void bpfvm_object_close(struct bpfvm_object *obj);

static struct bpfvm_object *open_buf(uint8_t *buf, size_t size, const char *name,
				     const struct bpfvm_object_open_opts *opts)
{
	struct bpfvm_object *obj = calloc(1, sizeof(*obj));
	int err = -ENOMEM;
	if (!obj) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	obj->buf = buf;
	obj->buf_sz = size;
	if (opts && opts->sz >= offsetof(struct bpfvm_object_open_opts, flags) + sizeof(unsigned int))
		obj->flags = opts->flags;
	if (opts && opts->sz >= offsetof(struct bpfvm_object_open_opts, kconfig) + sizeof(char *)) {
		obj->log = opts->log_buf;
		obj->log_sz = opts->log_size;
		if (opts->object_name)
			name = opts->object_name;
		if (opts->kconfig && !(obj->kconfig = strdup(opts->kconfig)))
			goto fail;
		if (opts->helper_cnt) {
			obj->helpers = malloc(opts->helper_cnt * sizeof(*obj->helpers));
			if (!obj->helpers)
				goto fail;
			memcpy(obj->helpers, opts->helpers, opts->helper_cnt * sizeof(*obj->helpers));
			obj->helper_cnt = opts->helper_cnt;
		}
	}
	obj->name = strdup(name ? name : "object");
	if (!obj->name)
		goto fail;

	char msg[256] = "";
	err = elf_parse(buf, size, &obj->elf, msg, sizeof(msg));
	if (err) {
		obj_err(obj, err, "%s", msg);
		goto fail;
	}
	const struct elf_section *s = elf_section_by_name(obj->elf, "license");
	if (s && s->data && s->size)
		snprintf(obj->license, sizeof(obj->license), "%.*s", (int)s->size, (const char *)s->data);
	s = elf_section_by_name(obj->elf, "version");
	if (s && s->data && s->size == 4)
		memcpy(&obj->kversion, s->data, 4);
	s = elf_section_by_name(obj->elf, ".BTF");
	if (s && s->data) {
		obj->btf = btf_parse(s->data, s->size, msg, sizeof(msg));
		if (!obj->btf) {
			err = obj_err(obj, -errno, "section .BTF: %s", msg);
			goto fail;
		}
		s = elf_section_by_name(obj->elf, ".BTF.ext");
		if (s && s->data) {
			obj->ext = btf_ext_parse(obj->btf, s->data, s->size, msg, sizeof(msg));
			if (!obj->ext) {
				err = obj_err(obj, -errno, "section .BTF.ext: %s", msg);
				goto fail;
			}
			/* CO-RE relocations are refused at load (bpfvm_object_load),
			 * so the programs can still be listed */
		}
	}
	if ((err = collect_btf_maps(obj)) || (err = collect_legacy_maps(obj)) ||
	    (err = collect_data_maps(obj)) || (err = collect_kconfig(obj)) ||
	    (err = collect_progs(obj)))
		goto fail;
	return obj;
fail:
	bpfvm_object_close(obj);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

BPFVM_API struct bpfvm_object *bpfvm_object_open_mem(const void *buf, size_t size,
						     const struct bpfvm_object_open_opts *opts)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(copy, buf, size);
	return open_buf(copy, size, "object", opts);
}

BPFVM_API struct bpfvm_object *bpfvm_object_open(const char *path,
						 const struct bpfvm_object_open_opts *opts)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		if (opts && opts->log_buf && opts->log_size)
			snprintf(opts->log_buf, opts->log_size, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	uint8_t *buf = NULL;
	long size = -1;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(size ? (size_t)size : 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	if (!buf) {
		if (opts && opts->log_buf && opts->log_size)
			snprintf(opts->log_buf, opts->log_size, "%s: cannot read", path);
		errno = EIO;
		return NULL;
	}
	const char *base = strrchr(path, '/');
	return open_buf(buf, (size_t)size, base ? base + 1 : path, opts);
}

/* ------------------------------------------------------------ load -- */

static int create_map(struct bpfvm_object *obj, size_t i)
{
	struct obj_map *m = &obj->maps[i];
	char log[256] = "";
	struct bpfvm_map_create_opts o = { .sz = sizeof(o) };
	o.map_flags = m->map_flags;
	o.numa_node = m->numa_node;
	o.map_extra = m->map_extra;
	o.log_buf = log;
	o.log_size = sizeof(log);
	if (m->spin_lock_off >= 0) {
		o.has_spin_lock = 1;
		o.spin_lock_off = (uint32_t)m->spin_lock_off;
	}
	if (m->inner_idx >= 0)
		o.inner_map = obj->maps[m->inner_idx].map;
	uint32_t max_entries = m->max_entries;
	if (m->type == BPFVM_MAP_TYPE_PERF_EVENT_ARRAY && max_entries == 0)
		max_entries = (uint32_t)bpfvm_nr_cpus(); /* as libbpf does */
	if (m->type == BPFVM_MAP_TYPE_RINGBUF) {
		/* libbpf rounds a ring buffer up to a power-of-two number of pages */
		uint32_t sz = 4096;
		while (sz < max_entries && sz < (1u << 31))
			sz <<= 1;
		max_entries = sz;
	}
	m->map = bpfvm_map_create(m->type, m->name, m->key_size, m->value_size, max_entries, &o);
	if (!m->map)
		return obj_err(obj, -errno, "%s", log[0] ? log : strerror(errno));
	if (m->data) {
		uint32_t key = 0;
		int err = bpfvm_map_update_elem(m->map, &key, m->data, 0);
		if (err)
			return obj_err(obj, err, "map '%s': cannot set its initial value", m->name);
		/* read-only data is frozen, as libbpf does: the verifier then
		 * treats its contents (format strings, const volatile settings)
		 * as constants */
		if (m->map_flags & BPFVM_F_RDONLY_PROG) {
			err = bpfvm_map_freeze(m->map);
			if (err)
				return obj_err(obj, err, "map '%s': cannot freeze it", m->name);
		}
	}
	return 0;
}

/* PROG_ARRAY and map-in-map initial slots (`.values = { ... }`): ABS64
 * relocations in .maps pointing at programs or maps */
static int fill_values(struct bpfvm_object *obj)
{
	const struct elf_relsec *rs = obj->maps_sec ? elf_relsec_for(obj->elf, obj->maps_sec) : NULL;
	for (size_t r = 0; rs && r < rs->reloc_cnt; r++) {
		const struct elf_reloc *rel = &rs->relocs[r];
		const struct elf_symbol *sym = &obj->elf->syms[rel->sym];
		struct obj_map *m = NULL;
		for (size_t i = 0; i < obj->map_cnt && !m; i++) {
			struct obj_map *c = &obj->maps[i];
			if (c->kind == OBJ_MAP_BTF && !c->is_inner && rel->offset >= c->sec_off + c->values_off &&
			    rel->offset < c->sec_off + c->values_off + 8ull * c->max_entries &&
			    c->values_off)
				m = c;
		}
		if (!m)
			return obj_err(obj, -EINVAL, "section .maps: relocation at offset %llu is not in a .values array",
				       (unsigned long long)rel->offset);
		uint32_t key = (uint32_t)((rel->offset - m->sec_off - m->values_off) / 8);
		int fd = -1;
		if (m->type == BPFVM_MAP_TYPE_PROG_ARRAY) {
			for (size_t p = 0; p < obj->prog_cnt && fd < 0; p++)
				if (!strcmp(obj->progs[p].name, sym->name) && obj->progs[p].prog)
					fd = bpfvm_prog_fd(obj->progs[p].prog);
		} else {
			int idx = obj_map_at(obj, sym->shndx, (uint32_t)sym->value);
			if (idx >= 0 && obj->maps[idx].map)
				fd = bpfvm_map_fd(obj->maps[idx].map);
		}
		if (fd < 0)
			return obj_err(obj, -EINVAL, "map '%s': .values[%u] names '%s', which is not a loaded %s",
				       m->name, key, sym->name,
				       m->type == BPFVM_MAP_TYPE_PROG_ARRAY ? "program" : "map");
		uint32_t v = (uint32_t)fd;
		int err = bpfvm_map_update_elem(m->map, &key, &v, 0);
		if (err)
			return obj_err(obj, err, "map '%s': cannot set .values[%u]", m->name, key);
	}
	return 0;
}

/* Verify a loaded program; on rejection the object's log gets the end of
 * the verifier's log (the failing instruction, its source line and the
 * message) after a line naming the program. */
static int verify_prog(struct bpfvm_object *obj, struct obj_prog *p)
{
	size_t vsz = 1 << 16;
	char *vlog = malloc(vsz);
	struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = vlog,
					.log_size = vlog ? vsz : 0 };
	int err = bpfvm_prog_verify(p->prog, &vo);
	if (err == -ENOSPC && bpfvm_prog_is_verified(p->prog) == 0) {
		/* the log did not fit: verify again without one for the verdict */
		vo.log_level = 0;
		vo.log_buf = NULL;
		vo.log_size = 0;
		err = bpfvm_prog_verify(p->prog, &vo);
	}
	if (err) {
		const char *tail = vlog ? vlog : "";
		size_t len = strlen(tail), keep = obj->log_sz > 256 ? obj->log_sz - 200 : 56;
		if (len > keep) {
			tail += len - keep;
			const char *nl = strchr(tail, '\n');
			if (nl)
				tail = nl + 1;
		}
		obj_err(obj, err, "program '%s' (section %s) failed verification:\n%s", p->name,
			p->sec_name, tail);
	}
	free(vlog);
	return err;
}

static int load_prog(struct bpfvm_object *obj, struct obj_prog *p, struct bpfvm_map **maps)
{
	struct bpf_insn *insns;
	size_t cnt, line_cnt;
	struct vm_line *lines;
	int err = obj_link_prog(obj, p, &insns, &cnt, &lines, &line_cnt);
	if (err)
		return err;
	char log[512] = "";
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.name = p->name;
	po.helpers = obj->helpers;
	po.helper_cnt = obj->helper_cnt;
	po.log_buf = log;
	po.log_size = sizeof(log);
	po.maps = maps;
	po.map_cnt = obj->map_cnt;
	if (!(obj->flags & BPFVM_OBJECT_UNVERIFIED))
		po.flags |= BPFVM_PROG_DEFER_CHECKS;	/* as BPF_PROG_LOAD: the verifier's */
	p->prog = bpfvm_prog_from_insns(insns, cnt, &po);
	free(insns);
	if (!p->prog) {
		err = -errno;
		for (size_t i = 0; i < line_cnt; i++) {
			free(lines[i].file);
			free(lines[i].text);
		}
		free(lines);
		return obj_err(obj, err, "program '%s' (section %s): %s", p->name, p->sec_name, log);
	}
	p->prog->type = p->sm.prog_type;
	p->prog->expected_attach_type = p->sm.expected_attach_type;
	p->prog->sec_name = strdup(p->sec_name);
	p->prog->lines = lines;
	p->prog->line_cnt = line_cnt;
	if (obj->flags & BPFVM_OBJECT_UNVERIFIED)
		return 0;
	return verify_prog(obj, p);
}

BPFVM_API int bpfvm_object_load(struct bpfvm_object *obj)
{
	if (!obj)
		return -EINVAL;
	if (obj->loaded)
		return obj_err(obj, -EBUSY, "already loaded");
	if (obj->ext && obj->ext->core_relo_cnt)
		return obj_err(obj, -EOPNOTSUPP,
			       "the object needs CO-RE relocations (%zu records in .BTF.ext), which bpfvm does not support yet",
			       obj->ext->core_relo_cnt);
	struct bpfvm_map **maps = calloc(obj->map_cnt + 1, sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	int err = 0;
	/* templates of map-in-map first: their outer maps need them */
	for (size_t i = 0; i < obj->map_cnt && !err; i++)
		if (obj->maps[i].is_inner)
			err = create_map(obj, i);
	for (size_t i = 0; i < obj->map_cnt && !err; i++)
		if (!obj->maps[i].is_inner)
			err = create_map(obj, i);
	for (size_t i = 0; i < obj->map_cnt; i++)
		maps[i] = obj->maps[i].is_inner ? NULL : obj->maps[i].map;
	for (size_t i = 0; i < obj->prog_cnt && !err; i++)
		if (obj->progs[i].autoload)
			err = load_prog(obj, &obj->progs[i], maps);
	if (!err)
		err = fill_values(obj);
	free(maps);
	obj->loaded = true; /* even on failure: what was created is freed by close */
	return err;
}

BPFVM_API void bpfvm_object_close(struct bpfvm_object *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < obj->prog_cnt; i++) {
		bpfvm_prog_free(obj->progs[i].prog);
		free(obj->progs[i].name);
		free(obj->progs[i].sec_name);
	}
	for (size_t i = 0; i < obj->map_cnt; i++) {
		bpfvm_map_free(obj->maps[i].map);
		free(obj->maps[i].name);
		free(obj->maps[i].data);
	}
	for (size_t i = 0; i < obj->var_cnt; i++)
		free(obj->vars[i].name);
	free(obj->vars);
	free(obj->progs);
	free(obj->maps);
	btf_ext_free(obj->ext);
	btf_free(obj->btf);
	elf_free(obj->elf);
	free(obj->helpers);
	free(obj->kconfig);
	free(obj->name);
	free(obj->buf);
	free(obj);
}

/* ------------------------------------------------------------ queries -- */

BPFVM_API const char *bpfvm_object_name(const struct bpfvm_object *obj)
{
	return obj->name;
}

BPFVM_API const char *bpfvm_object_license(const struct bpfvm_object *obj)
{
	return obj->license;
}

BPFVM_API uint32_t bpfvm_object_kversion(const struct bpfvm_object *obj)
{
	return obj->kversion;
}

BPFVM_API size_t bpfvm_object_prog_cnt(const struct bpfvm_object *obj)
{
	return obj->prog_cnt;
}

BPFVM_API const char *bpfvm_object_prog_name(const struct bpfvm_object *obj, size_t i)
{
	return i < obj->prog_cnt ? obj->progs[i].name : NULL;
}

BPFVM_API const char *bpfvm_object_prog_section(const struct bpfvm_object *obj, size_t i)
{
	return i < obj->prog_cnt ? obj->progs[i].sec_name : NULL;
}

BPFVM_API uint32_t bpfvm_object_prog_type(const struct bpfvm_object *obj, size_t i)
{
	return i < obj->prog_cnt ? obj->progs[i].sm.prog_type : 0;
}

BPFVM_API int bpfvm_object_set_autoload(struct bpfvm_object *obj, size_t i, bool autoload)
{
	if (i >= obj->prog_cnt)
		return -ENOENT;
	if (obj->loaded)
		return -EBUSY;
	obj->progs[i].autoload = autoload;
	return 0;
}

BPFVM_API int bpfvm_object_prog_index(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->prog_cnt; i++)
		if (!strcmp(obj->progs[i].name, name))
			return (int)i;
	for (size_t i = 0; i < obj->prog_cnt; i++)
		if (!strcmp(obj->progs[i].sec_name, name))
			return (int)i;
	return -ENOENT;
}

BPFVM_API struct bpfvm_prog *bpfvm_object_prog(const struct bpfvm_object *obj, size_t i)
{
	return i < obj->prog_cnt ? obj->progs[i].prog : NULL;
}

BPFVM_API struct bpfvm_prog *bpfvm_object_find_prog(const struct bpfvm_object *obj,
						    const char *name)
{
	int i = bpfvm_object_prog_index(obj, name);
	return i < 0 ? NULL : obj->progs[i].prog;
}

BPFVM_API size_t bpfvm_object_map_cnt(const struct bpfvm_object *obj)
{
	size_t n = 0;
	for (size_t i = 0; i < obj->map_cnt; i++)
		n += !obj->maps[i].is_inner;
	return n;
}

BPFVM_API struct bpfvm_map *bpfvm_object_map(const struct bpfvm_object *obj, size_t i)
{
	for (size_t j = 0; j < obj->map_cnt; j++) {
		if (obj->maps[j].is_inner)
			continue;
		if (i-- == 0)
			return obj->maps[j].map;
	}
	return NULL;
}

BPFVM_API struct bpfvm_map *bpfvm_object_find_map(const struct bpfvm_object *obj,
						  const char *name)
{
	for (size_t i = 0; i < obj->map_cnt; i++)
		if (!obj->maps[i].is_inner && !strcmp(obj->maps[i].name, name))
			return obj->maps[i].map;
	return NULL;
}

static const struct obj_var *find_var(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->var_cnt; i++)
		if (!strcmp(obj->vars[i].name, name) &&
		    obj->maps[obj->vars[i].map_idx].kind == OBJ_MAP_DATA)
			return &obj->vars[i];
	return NULL;
}

BPFVM_API int bpfvm_object_set_global(struct bpfvm_object *obj, const char *name,
				      const void *value, size_t size)
{
	const struct obj_var *v = find_var(obj, name);
	if (!v)
		return -ENOENT;
	if (obj->loaded)
		return -EBUSY;
	if (size != v->size)
		return -EINVAL;
	memcpy(obj->maps[v->map_idx].data + v->off, value, size);
	return 0;
}

BPFVM_API long bpfvm_object_get_global(const struct bpfvm_object *obj, const char *name,
				       void *value, size_t size)
{
	const struct obj_var *v = find_var(obj, name);
	if (!v)
		return -ENOENT;
	if (size < v->size)
		return -ENOSPC;
	const struct obj_map *m = &obj->maps[v->map_idx];
	const uint8_t *src = m->data;
	uint32_t key = 0;
	if (m->map)
		src = map_lookup(m->map, &key, 0);
	if (!src)
		return -ENOENT;
	memcpy(value, src + v->off, v->size);
	return (long)v->size;
}

BPFVM_API uint32_t bpfvm_prog_type(const struct bpfvm_prog *prog)
{
	return prog->type;
}

BPFVM_API const char *bpfvm_prog_section(const struct bpfvm_prog *prog)
{
	return prog->sec_name;
}

BPFVM_API int bpfvm_prog_line_info(const struct bpfvm_prog *prog, size_t insn, const char **file,
				   const char **line_text, uint32_t *line, uint32_t *col)
{
	const struct vm_line *best = NULL;
	for (size_t i = 0; i < prog->line_cnt && prog->lines[i].pc <= insn; i++)
		best = &prog->lines[i];
	if (!best)
		return -ENOENT;
	if (file)
		*file = best->file;
	if (line_text)
		*line_text = best->text;
	if (line)
		*line = best->line;
	if (col)
		*col = best->col;
	return 0;
}

BPFVM_API size_t bpfvm_object_format_map_data(const struct bpfvm_object *obj,
					      const struct bpfvm_map *map, bool key,
					      const void *data, size_t size, bool json, char *buf,
					      size_t buf_sz)
{
	uint32_t type_id = 0;
	for (size_t i = 0; obj && i < obj->map_cnt; i++) {
		const struct obj_map *m = &obj->maps[i];
		if (m->map == map && !m->is_inner)
			type_id = key ? m->key_type_id : m->value_type_id;
	}
	return btf_format_value(obj ? obj->btf : NULL, type_id, data, size, json, buf, buf_sz);
}
