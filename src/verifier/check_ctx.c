/* check_ctx.c — loads and stores into the program's context.
 *
 * Each program type has a context layout (ctx_access.def) that says, field
 * by field, which load and store sizes are allowed and whether a load yields
 * a packet pointer.  bpfvm's contexts are real memory whose data/data_end/
 * data_meta fields hold real pointers, so nothing is rewritten; this file
 * only enforces the kernel's rules, with its message
 * ("invalid bpf_context access off=%d size=%d").
 */
#include <errno.h>

#include "verifier/verifier_int.h"

enum ctx_layout { L_NONE, L_XDP, L_SKF, L_TC, L_KPROBE, L_TP, L_CGSKB };

struct ctx_field {
	uint8_t layout;
	uint16_t off, size;
	uint8_t read, write;
	uint8_t result;
};

enum { R_SCALAR = NOT_INIT, R_PKT = PTR_TO_PACKET, R_PKT_END = PTR_TO_PACKET_END,
       R_PKT_META = PTR_TO_PACKET_META };

static const struct ctx_field fields[] = {
#define CTX(L, off, size, rd, wr, res) { L_##L, off, size, rd, wr, R_##res },
#include "verifier/ctx_access.def"
#undef CTX
};

static enum ctx_layout layout_of(uint32_t prog_type)
{
	switch (prog_type) {
	case 6: return L_XDP;		/* XDP */
	case 1: return L_SKF;		/* SOCKET_FILTER */
	case 3:				/* SCHED_CLS */
	case 4: return L_TC;		/* SCHED_ACT */
	case 2: return L_KPROBE;	/* KPROBE */
	case 5: return L_TP;		/* TRACEPOINT */
	case 8: return L_CGSKB;		/* CGROUP_SKB */
	default: return L_NONE;
	}
}

uint32_t ctx_size(uint32_t prog_type)
{
	switch (layout_of(prog_type)) {
	case L_XDP: return 24;
	case L_SKF:
	case L_CGSKB:
	case L_TC: return 192;
	case L_KPROBE: return 168;
	case L_TP: return 2048;
	default: return 0;
	}
}

int check_ctx_access(struct venv *env, int insn_idx, int off, int size, enum access t,
		     int *ptr_type)
{
	(void)insn_idx;
	enum ctx_layout l = layout_of(env->prog_type);
	*ptr_type = NOT_INIT;
	if (off >= 0 && size > 0 && off % size == 0) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			const struct ctx_field *f = &fields[i];
			if (f->layout != l || off < f->off || off >= f->off + f->size)
				continue;
			if (off + size > f->off + f->size)
				break;
			/* egress_ifindex exists for devmap programs only */
			if (l == L_XDP && f->off == 20 && env->attach_type != 33 /* XDP_DEVMAP */)
				break;
			uint8_t allowed = t == ACC_READ ? f->read : f->write;
			if (!(allowed & size))
				break;
			if (t == ACC_READ && f->result != R_SCALAR && off != f->off)
				break;
			*ptr_type = f->result;
			return 0;
		}
	}
	verbose(env, "invalid bpf_context access off=%d size=%d\n", off, size);
	return -EACCES;
}
