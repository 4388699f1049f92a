/* helpers.h — the helper table: Linux helper IDs, names, prototypes and the
 * implementations bpfvm provides, all from helpers.def.
 *
 * The interpreter and JIT call helpers through bound slots (exec/vm.h); the
 * verifier reads the prototypes; the disassembler reads the names.
 */
#ifndef BPFVM_HELPERS_H
#define BPFVM_HELPERS_H

#include <stdint.h>

#include "bpfvm.h"

/* return and argument types, named as in the kernel's bpf_func_proto */
enum helper_ret {
	RET_UNKNOWN = 0,
	RET_INTEGER,
	RET_VOID,
	RET_PTR_TO_MAP_VALUE_OR_NULL,
	RET_PTR_TO_MEM_OR_NULL,		/* ringbuf_reserve: sized by arg 2 */
	RET_PTR_TO_SOCKET_OR_NULL,
};

enum helper_arg {
	ARG_UNKNOWN = 0,
	ARG_NONE,			/* no argument */
	ARG_ANYTHING,			/* any scalar or pointer, not read through */
	ARG_CONST_MAP_PTR,
	ARG_PTR_TO_MAP_KEY,
	ARG_PTR_TO_MAP_VALUE,
	ARG_PTR_TO_UNINIT_MAP_VALUE,
	ARG_PTR_TO_MEM,			/* readable memory, size in the next arg */
	ARG_PTR_TO_UNINIT_MEM,		/* writable memory, size in the next arg */
	ARG_CONST_SIZE,
	ARG_CONST_SIZE_OR_ZERO,
	ARG_PTR_TO_CTX,
	ARG_PTR_TO_STACK,
	ARG_PTR_TO_FUNC,
	ARG_PTR_TO_CONST_STR,
	ARG_PTR_TO_SPIN_LOCK,
	ARG_PTR_TO_RINGBUF_MEM,
	ARG_PTR_TO_LONG,
	ARG_PTR_TO_INT,
	ARG_CONST_ALLOC_SIZE_OR_ZERO,
};

struct helper_proto {
	uint32_t id;
	const char *name;		/* without the bpf_ prefix */
	bpfvm_helper_fn fn;		/* NULL when bpfvm lacks it */
	uint8_t ret;			/* enum helper_ret */
	uint8_t arg[5];			/* enum helper_arg */
};

/* implementations, declared from the table */
#define HELPER_DECL_YES(name) \
	uint64_t helper_##name(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, struct bpfvm_run *);
#define HELPER_DECL_NO(name)
#define HELPER(id, name, impl, ret, a1, a2, a3, a4, a5) HELPER_DECL_##impl(name)
#include "helpers/helpers.def"
#undef HELPER
#undef HELPER_DECL_YES
#undef HELPER_DECL_NO

#define KFUNC(id, name, ret, a1, a2, a3, a4, a5) \
	uint64_t kfunc_##name(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, struct bpfvm_run *);
#include "helpers/kfuncs.def"
#undef KFUNC

#define HELPER_MAX_LINUX_ID 211
/* kfuncs share the programs' helper slot table, above every helper ID */
#define KFUNC_SLOT_BASE 0x100000u

/* The row for a Linux helper ID, or NULL when the ID is not a Linux helper. */
const struct helper_proto *helper_proto(uint32_t id);

/* The kfunc with bpfvm's number id / with this name (as in the object's
 * BTF, e.g. "bpf_iter_num_new"), or NULL. */
const struct helper_proto *kfunc_by_id(uint32_t id);
const struct helper_proto *kfunc_by_name(const char *name);

#endif
