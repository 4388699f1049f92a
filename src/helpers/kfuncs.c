/* kfuncs.c — the kfunc table (kfuncs.def) and its implementations: the
 * numeric iterator behind bpf_for()/bpf_repeat(), and the RCU/preemption
 * markers that are no-ops in userspace. */
#include <errno.h>
#include <string.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"

#define BPF_MAX_LOOPS (8 * 1024 * 1024)

/* struct bpf_iter_num is 8 opaque bytes; the kernel keeps cur and end in it */
struct iter_num {
	int32_t cur, end;
};

uint64_t kfunc_bpf_iter_num_new(uint64_t it, uint64_t start, uint64_t end, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	(void)r4, (void)r5;
	if (!HELPER_MEM_OK(run, it, 8, 1))
		return helper_bad_ptr(run, "iter_num_new", 1, it, 8);
	struct iter_num s = { 0, 0 };
	int32_t a = (int32_t)start, b = (int32_t)end;
	uint64_t ret = 0;
	if (a > b)
		ret = (uint64_t)-EINVAL;
	else if ((int64_t)b - a > BPF_MAX_LOOPS)
		ret = (uint64_t)-E2BIG;
	else
		s = (struct iter_num){ a - 1, b }; /* next() increments before use */
	memcpy((void *)(uintptr_t)it, &s, sizeof(s));
	return ret;
}

uint64_t kfunc_bpf_iter_num_next(uint64_t it, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	if (!HELPER_MEM_OK(run, it, 8, 1))
		return helper_bad_ptr(run, "iter_num_next", 1, it, 8);
	struct iter_num s;
	memcpy(&s, (void *)(uintptr_t)it, sizeof(s));
	if ((int64_t)s.cur + 1 >= s.end) {
		memset((void *)(uintptr_t)it, 0, sizeof(s));
		return 0;
	}
	s.cur++;
	memcpy((void *)(uintptr_t)it, &s, sizeof(s));
	return it; /* &s->cur: the first field */
}

uint64_t kfunc_bpf_iter_num_destroy(uint64_t it, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	if (!HELPER_MEM_OK(run, it, 8, 1))
		return helper_bad_ptr(run, "iter_num_destroy", 1, it, 8);
	memset((void *)(uintptr_t)it, 0, 8);
	return 0;
}

#define NOOP(name)                                                                        \
	uint64_t kfunc_##name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, \
			      struct bpfvm_run *run)                                      \
	{                                                                                 \
		(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;              \
		return 0;                                                                 \
	}
NOOP(bpf_rcu_read_lock)
NOOP(bpf_rcu_read_unlock)
NOOP(bpf_preempt_disable)
NOOP(bpf_preempt_enable)
#undef NOOP

#define KFUNC(id, name, ret, a1, a2, a3, a4, a5)                                  \
	{ id, #name, kfunc_##name, RET_##ret, { ARG_##a1, ARG_##a2, ARG_##a3, ARG_##a4, ARG_##a5 } },
static const struct helper_proto kfuncs[] = {
#include "helpers/kfuncs.def"
};
#undef KFUNC

const struct helper_proto *kfunc_by_id(uint32_t id)
{
	for (size_t i = 0; i < sizeof(kfuncs) / sizeof(kfuncs[0]); i++)
		if (kfuncs[i].id == id)
			return &kfuncs[i];
	return NULL;
}

const struct helper_proto *kfunc_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(kfuncs) / sizeof(kfuncs[0]); i++)
		if (!strcmp(kfuncs[i].name, name))
			return &kfuncs[i];
	return NULL;
}
