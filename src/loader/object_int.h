/* object_int.h — the object loader's internal model, shared by object.c
 * (open, maps, public API) and link.c (linking and relocating programs).
 */
#ifndef BPFVM_LOADER_OBJECT_INT_H
#define BPFVM_LOADER_OBJECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"
#include "loader/btf.h"
#include "loader/elf.h"
#include "loader/sections.h"

enum obj_map_kind {
	OBJ_MAP_BTF,		/* a variable in SEC(".maps") */
	OBJ_MAP_LEGACY,		/* a struct bpf_map_def in SEC("maps") */
	OBJ_MAP_DATA,		/* .data, .rodata, .bss, .data.*, .rodata.* */
	OBJ_MAP_KCONFIG,	/* .kconfig externs */
};

struct obj_map {
	char *name;
	enum obj_map_kind kind;
	uint32_t sec_idx;	/* ELF section holding the definition / data */
	uint32_t sec_off;	/* BTF/legacy: the definition's offset in it */
	uint32_t type, key_size, value_size, max_entries, map_flags, numa_node;
	uint64_t map_extra;
	int32_t spin_lock_off;
	uint32_t key_type_id, value_type_id;	/* BTF, 0 when unknown */
	int inner_idx;		/* map-in-map: index of the template map, or -1 */
	bool is_inner;		/* a template only, not a map of the object */
	uint32_t values_off;	/* BTF: where `.values` slots start */
	uint8_t *data;		/* DATA/KCONFIG: initial value (value_size bytes) */
	struct bpfvm_map *map;	/* after load */
};

/* a global variable inside a data map */
struct obj_var {
	char *name;
	int map_idx;
	uint32_t off, size;
};

struct obj_prog {
	char *name;		/* the function */
	char *sec_name;
	uint32_t sec_idx;
	uint32_t insn_off;	/* first instruction in the section */
	uint32_t insn_cnt;
	struct sec_match sm;
	bool autoload;
	struct bpfvm_prog *prog; /* after load */
};

struct bpfvm_object {
	char *name;
	uint8_t *buf;		/* the object file (owned) */
	size_t buf_sz;
	struct elf_file *elf;
	struct btf *btf;
	struct btf_ext *ext;
	char license[128];
	uint32_t kversion;
	char *kconfig;
	unsigned int flags;	/* enum bpfvm_object_flags */
	struct bpfvm_helper *helpers;
	size_t helper_cnt;
	char *log;
	size_t log_sz;
	uint32_t maps_sec, legacy_maps_sec, kconfig_sec;	/* 0: none */
	struct obj_map *maps;
	size_t map_cnt;
	struct obj_var *vars;
	size_t var_cnt;
	struct obj_prog *progs;
	size_t prog_cnt;
	bool loaded;
};

/* Write "<object>: <message>" into the log; returns err. */
int obj_err(struct bpfvm_object *obj, int err, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* index of the map defined at (sec_idx, off), or of the data map of
 * section sec_idx (any off) / -1 */
int obj_map_at(const struct bpfvm_object *obj, uint32_t sec_idx, uint32_t off);
/* is section idx a data section (has a data map)? */
bool obj_is_data_sec(const struct bpfvm_object *obj, uint32_t sec_idx);

/* link.c: build program p's final instruction array (its function plus every
 * subprogram it reaches) with all relocations applied; lddw map references
 * use BPF_PSEUDO_MAP_IDX(_VALUE) with indexes into obj->maps.  On success
 * *insns (malloc'd) and *cnt are set and, when line info exists, *lines /
 * *line_cnt (malloc'd vm_line records, strings malloc'd). */
struct vm_line;
int obj_link_prog(struct bpfvm_object *obj, const struct obj_prog *p, struct bpf_insn **insns,
		  size_t *cnt, struct vm_line **lines, size_t *line_cnt);

#endif
