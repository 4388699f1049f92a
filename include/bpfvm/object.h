/* bpfvm/object.h — opening clang-compiled eBPF objects (the libbpf part).
 *
 * bpfvm_object_open() reads an ELF object built with `clang -O2 -g -target bpf`:
 * its programs (one per function in each SEC() section, typed by the section
 * name as libbpf reads it), maps (BTF-defined `.maps`, legacy `maps`, global
 * variables in .data/.rodata/.bss and their custom .data.* / .rodata.*
 * sections, .kconfig externs), BTF and line info.  Between open and load the
 * caller may change global variables (e.g. `const volatile` settings in
 * .rodata) and choose which programs load.  bpfvm_object_load() creates the
 * maps, links every program with the subprograms it calls, resolves map,
 * global-data, callback and kfunc references, and builds runnable programs.
 * Included by <bpfvm.h>.
 */
#ifndef BPFVM_OBJECT_H
#define BPFVM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpfvm_object;
struct bpfvm_prog;
struct bpfvm_map;
struct bpfvm_helper;

struct bpfvm_object_open_opts {
	size_t sz;
	const char *object_name;	/* default: the file's base name */
	char *log_buf;			/* why opening or loading failed */
	size_t log_size;
	/* helpers (by ID) added to or replacing bpfvm's own, for every program */
	const struct bpfvm_helper *helpers;
	size_t helper_cnt;
	/* values for .kconfig externs, one "NAME=VALUE" per line: y/m/n,
	 * numbers, "strings".  LINUX_KERNEL_VERSION defaults to the running
	 * kernel's; any other missing CONFIG_* reads as 0. */
	const char *kconfig;
	unsigned int flags;		/* enum bpfvm_object_flags */
};

enum bpfvm_object_flags {
	/* do not verify programs at load: they run only in the checked
	 * interpreter (every access bounds-checked, instruction budget) */
	BPFVM_OBJECT_UNVERIFIED = 1u << 0,
};

/* Open from a file / from memory (copied).  NULL with errno set on failure
 * (EINVAL: malformed object, unknown SEC() name, unsupported feature; the
 * log says which section, symbol or instruction). */
struct bpfvm_object *bpfvm_object_open(const char *path,
				       const struct bpfvm_object_open_opts *opts);
struct bpfvm_object *bpfvm_object_open_mem(const void *buf, size_t size,
					   const struct bpfvm_object_open_opts *opts);
/* Create maps and load every program marked to load: link, relocate and
 * verify it (unless BPFVM_OBJECT_UNVERIFIED), as BPF_PROG_LOAD does.  0 or a
 * negative errno (-EACCES: a program failed verification; -EOPNOTSUPP: the
 * object needs CO-RE relocations or a map type bpfvm lacks; the log from the
 * open options says which, and for a rejection ends with the verifier's
 * message and the instruction).  Objects open and list their programs even
 * when they cannot load. */
int bpfvm_object_load(struct bpfvm_object *obj);
/* Free the object, its maps and programs (a map or program the caller still
 * holds through an fd-based reference stays alive until released). */
void bpfvm_object_close(struct bpfvm_object *obj);

const char *bpfvm_object_name(const struct bpfvm_object *obj);
const char *bpfvm_object_license(const struct bpfvm_object *obj);
uint32_t bpfvm_object_kversion(const struct bpfvm_object *obj);

/* ---- programs: known from open; runnable handles after load ---- */
size_t bpfvm_object_prog_cnt(const struct bpfvm_object *obj);
/* the function's name, its ELF section, its BPF_PROG_TYPE_* */
const char *bpfvm_object_prog_name(const struct bpfvm_object *obj, size_t i);
const char *bpfvm_object_prog_section(const struct bpfvm_object *obj, size_t i);
uint32_t bpfvm_object_prog_type(const struct bpfvm_object *obj, size_t i);
/* load program i or not (default: yes, except SEC("?...")); before load */
int bpfvm_object_set_autoload(struct bpfvm_object *obj, size_t i, bool autoload);
/* index of the program named `name` (function or section name), or -ENOENT */
int bpfvm_object_prog_index(const struct bpfvm_object *obj, const char *name);
/* the loaded program i, or NULL (not loaded yet, or not autoloaded) */
struct bpfvm_prog *bpfvm_object_prog(const struct bpfvm_object *obj, size_t i);
/* by function or section name, after load; NULL when none */
struct bpfvm_prog *bpfvm_object_find_prog(const struct bpfvm_object *obj, const char *name);

/* ---- maps: after load ---- */
size_t bpfvm_object_map_cnt(const struct bpfvm_object *obj);
struct bpfvm_map *bpfvm_object_map(const struct bpfvm_object *obj, size_t i);
/* by name: a .maps variable, a legacy map, or a data section (".rodata",
 * ".bss", ".data.custom") */
struct bpfvm_map *bpfvm_object_find_map(const struct bpfvm_object *obj, const char *name);

/* ---- global variables ---- */
/* Before load: set global variable `name` (in .data, .rodata, .bss or a
 * custom data section) to `size` bytes.  -ENOENT: no such variable;
 * -EINVAL: size differs from the variable's; -EBUSY: already loaded. */
int bpfvm_object_set_global(struct bpfvm_object *obj, const char *name, const void *value,
			    size_t size);
/* Read a global variable: before load its initial value, after load its
 * current value in the map.  Returns the variable's size or a negative errno
 * (-ENOENT, -ENOSPC when size is too small). */
long bpfvm_object_get_global(const struct bpfvm_object *obj, const char *name, void *value,
			     size_t size);

/* Render a key (key = true) or value of one of the object's maps as text,
 * typed by the map's BTF: C-like "{saddr=10.0.0.1, sport=443}" or JSON; hex
 * bytes when there is no type.  Returns the length the whole text needs (buf
 * is NUL-terminated when buf_sz > 0). */
size_t bpfvm_object_format_map_data(const struct bpfvm_object *obj, const struct bpfvm_map *map,
				    bool key, const void *data, size_t size, bool json, char *buf,
				    size_t buf_sz);

/* ---- per program ---- */
uint32_t bpfvm_prog_type(const struct bpfvm_prog *prog);
const char *bpfvm_prog_section(const struct bpfvm_prog *prog);
/* The C source line of instruction `insn` (BTF line info): the last line
 * record at or before it.  0 and the fields set, or -ENOENT. */
int bpfvm_prog_line_info(const struct bpfvm_prog *prog, size_t insn, const char **file,
			 const char **line_text, uint32_t *line, uint32_t *col);

#ifdef __cplusplus
}
#endif

#endif
