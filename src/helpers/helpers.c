/* helpers.c — the helper table itself, built from helpers.def. */
#include "helpers/helpers.h"

#include <stddef.h>

#define HELPER_FN_YES(name) helper_##name
#define HELPER_FN_NO(name) NULL
#define HELPER(id, name, impl, ret, a1, a2, a3, a4, a5)                              \
	[id] = { id, #name, HELPER_FN_##impl(name), RET_##ret,                        \
		 { ARG_##a1, ARG_##a2, ARG_##a3, ARG_##a4, ARG_##a5 } },
static const struct helper_proto table[HELPER_MAX_LINUX_ID + 1] = {
#include "helpers/helpers.def"
};
#undef HELPER

const struct helper_proto *helper_proto(uint32_t id)
{
	if (id > HELPER_MAX_LINUX_ID || !table[id].name)
		return NULL;
	return &table[id];
}

BPFVM_API const char *bpfvm_helper_name(uint32_t id)
{
	const struct helper_proto *p = helper_proto(id);
	return p ? p->name : NULL;
}
