/* prog.c — building a runnable program from bytecode.
 *
 * bpfvm_prog_from_insns() validates the bytecode's structure (isa/; for a
 * program to be verified, only as much as the kernel does before verifying,
 * and instructions the verifier has yet to check become traps), decodes
 * every instruction once into struct vm_insn, and binds each helper call to
 * an implementation: the embedder's (opts->helpers) first, then bpfvm's own
 * (helpers.def).  A call to a helper nobody implements is refused here, at
 * load time, with the helper's name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/jit.h"
#include "exec/vm.h"
#include "helpers/helpers.h"
#include "maps/fdtable.h"
#include "maps/map.h"

static void logf_(char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
static void logf_(char *buf, size_t size, const char *fmt, ...)
{
	if (!buf || !size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static int cmp_helper(const void *a, const void *b)
{
	const struct vm_helper *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* every helper the program may call: registered ones, then built-in ones
 * whose ID was not registered; sorted by ID */
static int build_helper_table(struct bpfvm_prog *prog, const struct bpfvm_prog_opts *opts)
{
	size_t reg_cnt = opts ? opts->helper_cnt : 0, cnt = 0;
	bool builtin = !(opts && (opts->flags & BPFVM_PROG_NO_BUILTIN_HELPERS));
	prog->helpers = calloc(reg_cnt + HELPER_MAX_LINUX_ID + 64, sizeof(*prog->helpers));
	if (!prog->helpers)
		return -ENOMEM;
	for (size_t i = 0; i < reg_cnt; i++) {
		const struct bpfvm_helper *h = &opts->helpers[i];
		if (!h->fn || h->id > BPFVM_MAX_HELPER_ID)
			return -EINVAL;
		prog->helpers[cnt++] = (struct vm_helper){ h->id, h->name ? h->name : "helper", h->fn };
	}
	for (uint32_t id = 1; id < 64; id++) { /* kfuncs: always available */
		const struct helper_proto *k = kfunc_by_id(id);
		if (k)
			prog->helpers[cnt++] = (struct vm_helper){ KFUNC_SLOT_BASE + id, k->name, k->fn };
	}
	for (uint32_t id = 0; builtin && id <= HELPER_MAX_LINUX_ID; id++) {
		const struct helper_proto *p = helper_proto(id);
		if (!p || !p->fn)
			continue;
		bool taken = false;
		for (size_t i = 0; i < reg_cnt && !taken; i++)
			taken = opts->helpers[i].id == id;
		if (!taken)
			prog->helpers[cnt++] = (struct vm_helper){ id, p->name, p->fn };
	}
	qsort(prog->helpers, cnt, sizeof(*prog->helpers), cmp_helper);
	prog->helper_cnt = cnt;
	return 0;
}

const struct vm_helper *vm_find_helper(const struct bpfvm_prog *prog, uint64_t id)
{
	size_t lo = 0, hi = prog->helper_cnt;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (prog->helpers[mid].id == id)
			return &prog->helpers[mid];
		if (prog->helpers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* remember that the program uses map m (taking a reference once per map) */
static int use_map(struct bpfvm_prog *prog, struct bpfvm_map *m)
{
	for (size_t i = 0; i < prog->map_cnt; i++)
		if (prog->maps[i] == m)
			return 0;
	struct bpfvm_map **nm = realloc(prog->maps, (prog->map_cnt + 1) * sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	prog->maps = nm;
	map_get(m);
	prog->maps[prog->map_cnt++] = m;
	return 0;
}

/* lddw with src_reg MAP_FD / MAP_VALUE (imm: a bpfvm map fd) or MAP_IDX /
 * MAP_IDX_VALUE (imm: an index into opts->maps): the value becomes the map's
 * address, or the address of byte `off` (the second half's imm) of its value,
 * as the kernel's verifier rewrites them. */
static int resolve_map_ref(struct bpfvm_prog *prog, size_t pc, enum bpf_op op,
			   const struct bpfvm_prog_opts *opts, char *log, size_t log_sz)
{
	const struct bpf_insn *in = &prog->insns[pc];
	struct bpfvm_map *m = NULL;
	int err = 0;
	if (op == OP_LDDW_MAP_FD || op == OP_LDDW_MAP_VALUE) {
		m = map_get_by_fd(in->imm, &err);
		if (!m) {
			logf_(log, log_sz, "insn %zu: lddw: fd %d is not a map", pc, in->imm);
			return -EINVAL;
		}
		map_put(m); /* use_map takes the program's reference */
	} else {
		size_t cnt = opts && opts->sz >= offsetof(struct bpfvm_prog_opts, map_cnt) + sizeof(size_t)
				     ? opts->map_cnt : 0;
		if (in->imm < 0 || (size_t)in->imm >= cnt || !opts->maps[in->imm]) {
			logf_(log, log_sz, "insn %zu: lddw: map index %d is beyond the %zu maps given",
			      pc, in->imm, cnt);
			return -EINVAL;
		}
		m = opts->maps[in->imm];
	}
	err = use_map(prog, m);
	if (err)
		return err;
	struct vm_insn *out = &prog->code[pc];
	if (op == OP_LDDW_MAP_FD || op == OP_LDDW_MAP_IDX) {
		out->imm = (uint64_t)(uintptr_t)m;
		return 0;
	}
	uint32_t off = (uint32_t)in[1].imm, key = 0;
	void *base = NULL;
	if (m->type == BPFVM_MAP_TYPE_ARRAY && m->max_entries == 1)
		base = map_lookup(m, &key, 0);
	if (!base) {
		logf_(log, log_sz, "insn %zu: lddw: map '%s' does not allow direct value access",
		      pc, m->name);
		return -EINVAL;
	}
	if (off >= m->value_size) {
		logf_(log, log_sz, "insn %zu: lddw: offset %u is beyond map '%s' value_size %u",
		      pc, off, m->name, m->value_size);
		return -EINVAL;
	}
	out->imm = (uint64_t)(uintptr_t)base + off;
	return 0;
}

/* decode one instruction into its executable form; returns 0 or -EINVAL */
static int predecode(struct bpfvm_prog *prog, size_t pc, enum bpf_op op,
		     const struct bpfvm_prog_opts *opts, char *log, size_t log_sz)
{
	const struct bpf_insn *in = &prog->insns[pc];
	struct vm_insn *out = &prog->code[pc];
	const struct bpf_opinfo *info = &isa_ops[op];
	out->op = (uint16_t)op;
	out->dst = in->dst_reg;
	out->src = in->src_reg;
	out->off = in->off;
	out->imm = (uint64_t)(int64_t)in->imm;
	switch (info->fmt) {
	case FMT_JA32:
	case FMT_CALL_LOCAL:
		out->off = in->imm;
		break;
	case FMT_LDDW:
		if (op == OP_LDDW) {
			out->imm = (uint64_t)(uint32_t)in->imm |
				   (uint64_t)(uint32_t)in[1].imm << 32;
		} else if (op == OP_LDDW_FUNC) {
			out->imm = (uint64_t)(uintptr_t)&prog->code[pc + 1 + in->imm];
		} else if (op == OP_LDDW_BTF_ID) {
			logf_(log, log_sz, "insn %zu: lddw: BTF ID %d: kernel objects (ksyms) do not exist in bpfvm",
			      pc, in->imm);
			return -EINVAL;
		} else {
			return resolve_map_ref(prog, pc, op, opts, log, log_sz);
		}
		break;
	case FMT_CALL: {
		const struct vm_helper *h = vm_find_helper(prog, (uint32_t)in->imm);
		if (!h) {
			const struct helper_proto *p = in->imm >= 0 ? helper_proto((uint32_t)in->imm) : NULL;
			if (p)
				logf_(log, log_sz, "insn %zu: call to helper bpf_%s (ID %d), which bpfvm does not implement",
				      pc, p->name, in->imm);
			else
				logf_(log, log_sz, "insn %zu: call to unknown helper %d", pc, in->imm);
			return -EINVAL;
		}
		out->imm = (uint64_t)(h - prog->helpers);
		break;
	}
	case FMT_CALL_KFUNC: {
		const struct vm_helper *h = in->imm > 0 ? vm_find_helper(prog, KFUNC_SLOT_BASE + (uint32_t)in->imm) : NULL;
		if (!h) {
			logf_(log, log_sz, "insn %zu: call kfunc %d: no such kfunc in bpfvm", pc, in->imm);
			return -EINVAL;
		}
		out->imm = (uint64_t)(h - prog->helpers);
		break;
	}
	default:
		break;
	}
	return 0;
}

/* BPFVM_PROG_DEFER_CHECKS: the kernel's checks before verification (the
 * verifier checks the rest where a path reaches it); fills ops and flags
 * (ISA_*) per slot; returns 0 or -EINVAL with the kernel's message */
static int validate_early(struct bpfvm_prog *prog, uint16_t *ops, uint8_t *flags, char *log,
			  size_t log_sz)
{
	char msg[128] = "";
	size_t pc;
	int err = isa_validate_early(prog->insns, prog->insn_cnt, ops, flags, &pc, msg,
				     sizeof(msg));
	if (err == -EINVAL)
		logf_(log, log_sz, "insn %zu: %s", pc, msg);
	return err;
}

static void prog_destroy(struct bpfvm_prog *prog)
{
	jit_prog_free(prog);
	for (size_t i = 0; i < prog->map_cnt; i++)
		map_put(prog->maps[i]);
	free(prog->maps);
	for (size_t i = 0; i < prog->line_cnt; i++) {
		free(prog->lines[i].file);
		free(prog->lines[i].text);
	}
	free(prog->lines);
	free(prog->sec_name);
	free(prog->insns);
	free(prog->code);
	free(prog->helpers);
	free(prog);
}

void vm_prog_get(struct bpfvm_prog *prog)
{
	atomic_fetch_add(&prog->refcnt, 1);
}

void vm_prog_put(struct bpfvm_prog *prog)
{
	if (prog && atomic_fetch_sub(&prog->refcnt, 1) == 1)
		prog_destroy(prog);
}

static void prog_fd_get(void *obj)
{
	vm_prog_get(obj);
}

static void prog_fd_put(void *obj)
{
	vm_prog_put(obj);
}

static uint32_t prog_fd_id(const void *obj)
{
	return ((const struct bpfvm_prog *)obj)->id;
}

const struct fd_obj_ops prog_fd_ops = { prog_fd_get, prog_fd_put, prog_fd_id };

/* The user's handle goes away: close the program's fd and drop the user's
 * reference; PROG_ARRAY slots may keep the program alive a while longer. */
BPFVM_API void bpfvm_prog_free(struct bpfvm_prog *prog)
{
	if (!prog)
		return;
	if (prog->fd > 0)
		fdtable_close(prog->fd);
	vm_prog_put(prog);
}

BPFVM_API int bpfvm_prog_fd(const struct bpfvm_prog *prog)
{
	return prog->fd;
}

BPFVM_API struct bpfvm_prog *bpfvm_prog_from_insns(const struct bpf_insn *insns, size_t insn_cnt,
						   const struct bpfvm_prog_opts *opts)
{
	char *log = opts ? opts->log_buf : NULL;
	size_t log_sz = opts ? opts->log_size : 0;
	uint16_t *ops = NULL;
	uint8_t *flags = NULL;
	int err = -ENOMEM;

	if (opts && opts->sz < offsetof(struct bpfvm_prog_opts, log_size)) {
		errno = EINVAL;
		return NULL;
	}
	if (!insns || insn_cnt == 0 || insn_cnt > 1000000) {
		logf_(log, log_sz, "program has %zu instructions (1 to 1000000 allowed)", insn_cnt);
		errno = insn_cnt > 1000000 ? E2BIG : EINVAL;
		return NULL;
	}
	struct bpfvm_prog *prog = calloc(1, sizeof(*prog));
	if (!prog)
		goto fail;
	static _Atomic uint32_t next_id;
	atomic_init(&prog->refcnt, 1);
	prog->id = atomic_fetch_add(&next_id, 1) + 1;
	snprintf(prog->name, sizeof(prog->name), "%s", opts && opts->name ? opts->name : "prog");
	prog->insn_cnt = insn_cnt;
	prog->insns = malloc(insn_cnt * sizeof(*insns));
	prog->code = calloc(insn_cnt, sizeof(*prog->code));
	ops = malloc(insn_cnt * sizeof(*ops));
	if (!prog->insns || !prog->code || !ops)
		goto fail;
	memcpy(prog->insns, insns, insn_cnt * sizeof(*insns));
	err = build_helper_table(prog, opts);
	if (err) {
		if (err == -EINVAL)
			logf_(log, log_sz, "a registered helper has no function or an ID above %d",
			      BPFVM_MAX_HELPER_ID);
		goto fail;
	}
	if (opts && (opts->flags & BPFVM_PROG_DEFER_CHECKS)) {
		flags = malloc(insn_cnt);
		if (!flags)
			goto fail;
		err = validate_early(prog, ops, flags, log, log_sz);
	} else {
		err = isa_validate(prog->insns, insn_cnt, ops, log, log_sz);
	}
	if (err)
		goto fail;
	for (size_t pc = 0; pc < insn_cnt; pc++) {
		if (ops[pc] == OP_INVALID) { /* second half of lddw */
			prog->code[pc].op = OP_INVALID;
			continue;
		}
		if (flags && (flags[pc] & ISA_UNDECODED))
			continue;	/* a trap: code[pc] is all zero, op OP_INVALID */
		err = predecode(prog, pc, (enum bpf_op)ops[pc], opts, log, log_sz);
		if (err)
			goto fail;
		if (flags && (flags[pc] & ISA_MALFORMED))
			prog->code[pc].op = OP_INVALID;	/* a trap until verified */
	}
	free(ops);
	free(flags);
	int fd = fdtable_install(FD_KIND_PROG, prog, &prog_fd_ops);
	if (fd < 0) {
		err = fd;
		goto fail_noops;
	}
	prog->fd = fd;
	return prog;
fail:
	free(ops);
	free(flags);
fail_noops:
	if (prog)
		prog_destroy(prog);
	errno = -err;
	return NULL;
}

BPFVM_API const char *bpfvm_prog_name(const struct bpfvm_prog *prog)
{
	return prog->name;
}

BPFVM_API size_t bpfvm_prog_insn_cnt(const struct bpfvm_prog *prog)
{
	return prog->insn_cnt;
}

BPFVM_API const struct bpf_insn *bpfvm_prog_insns(const struct bpfvm_prog *prog)
{
	return prog->insns;
}
