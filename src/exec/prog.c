/* prog.c — building a runnable program from bytecode.
 *
 * bpfvm_prog_from_insns() validates the bytecode's structure (isa/), decodes
 * every instruction once into struct vm_insn, and binds each helper call to
 * an implementation: the embedder's (opts->helpers) first, then bpfvm's own
 * (helpers.def).  A call to a helper nobody implements is refused here, at
 * load time, with the helper's name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/vm.h"
#include "helpers/helpers.h"

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
	prog->helpers = calloc(reg_cnt + HELPER_MAX_LINUX_ID + 1, sizeof(*prog->helpers));
	if (!prog->helpers)
		return -ENOMEM;
	for (size_t i = 0; i < reg_cnt; i++) {
		const struct bpfvm_helper *h = &opts->helpers[i];
		if (!h->fn || h->id > BPFVM_MAX_HELPER_ID)
			return -EINVAL;
		prog->helpers[cnt++] = (struct vm_helper){ h->id, h->name ? h->name : "helper", h->fn };
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

/* decode one instruction into its executable form; returns 0 or -EINVAL */
static int predecode(struct bpfvm_prog *prog, size_t pc, enum bpf_op op,
		     char *log, size_t log_sz)
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
		} else {
			logf_(log, log_sz,
			      "insn %zu: lddw: src_reg %d (a map or BTF reference) needs a loaded object",
			      pc, in->src_reg);
			return -EINVAL;
		}
		break;
	case FMT_CALL: {
		const struct vm_helper *h = vm_find_helper(prog, (uint32_t)in->imm);
		if (!h) {
			const struct helper_proto *p = in->imm >= 0 ? helper_proto((uint32_t)in->imm) : NULL;
			if (p)
				logf_(log, log_sz, "insn %zu: call to helper bpf_%s#%d, which bpfvm does not implement",
				      pc, p->name, in->imm);
			else
				logf_(log, log_sz, "insn %zu: call to unknown helper #%d", pc, in->imm);
			return -EINVAL;
		}
		out->imm = (uint64_t)(h - prog->helpers);
		break;
	}
	case FMT_CALL_KFUNC:
		logf_(log, log_sz, "insn %zu: call kfunc: kfunc calls need a loaded object", pc);
		return -EINVAL;
	default:
		break;
	}
	return 0;
}

BPFVM_API void bpfvm_prog_free(struct bpfvm_prog *prog)
{
	if (!prog)
		return;
	free(prog->insns);
	free(prog->code);
	free(prog->helpers);
	free(prog);
}

BPFVM_API struct bpfvm_prog *bpfvm_prog_from_insns(const struct bpf_insn *insns, size_t insn_cnt,
						   const struct bpfvm_prog_opts *opts)
{
	char *log = opts ? opts->log_buf : NULL;
	size_t log_sz = opts ? opts->log_size : 0;
	uint16_t *ops = NULL;
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
	err = isa_validate(prog->insns, insn_cnt, ops, log, log_sz);
	if (err)
		goto fail;
	for (size_t pc = 0; pc < insn_cnt; pc++) {
		if (ops[pc] == OP_INVALID) { /* second half of lddw */
			prog->code[pc].op = OP_INVALID;
			continue;
		}
		err = predecode(prog, pc, (enum bpf_op)ops[pc], log, log_sz);
		if (err)
			goto fail;
	}
	free(ops);
	return prog;
fail:
	free(ops);
	bpfvm_prog_free(prog);
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
