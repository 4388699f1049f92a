/* log.c — the verifier log, in the kernel's words.
 *
 * The log is built in a growing buffer and copied into the caller's at the
 * end: the kernel's "rotating" log, so a buffer too small keeps the log's
 * last part and the true size is reported.  At level 1 each path's
 * instructions are printed as it is walked and forgotten when the path ends
 * without error, so the log of a refused program is the failing path, from
 * instruction 0 to the message; level 2 keeps everything and prints the
 * whole state at each checkpoint.  Register states print as the kernel's
 * (`R1=ctx() R2=fp-8 R0=map_value_or_null(id=1,ks=4,vs=8)`); instructions
 * print in bpfvm's assembler dialect after the kernel's "idx: (opcode)".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/disasm.h"
#include "verifier/verifier_int.h"

#define VLOG_KEEP_MAX (64u << 20)	/* bytes kept before the front is dropped */

void vlog_init(struct vlog *log, unsigned level, char *buf, size_t size)
{
	memset(log, 0, sizeof(*log));
	log->level = level;
	log->ubuf = buf;
	log->usize = size;
}

static void vlog_append(struct vlog *log, const char *s, size_t n)
{
	if (log->oom)
		return;
	if (log->len + n + 1 > log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 4096;
		while (cap < log->len + n + 1)
			cap *= 2;
		char *nb = realloc(log->buf, cap);
		if (!nb) {
			log->oom = true;
			return;
		}
		log->buf = nb;
		log->cap = cap;
	}
	memcpy(log->buf + log->len, s, n);
	log->len += n;
	log->buf[log->len] = 0;
	if (log->len > VLOG_KEEP_MAX) {
		size_t drop = log->len - VLOG_KEEP_MAX / 2;
		memmove(log->buf, log->buf + drop, log->len - drop + 1);
		log->len -= drop;
		log->dropped += drop;
	}
}

void vlog_printf(struct vlog *log, const char *fmt, ...)
{
	if (!log->level)
		return;
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	vlog_append(log, tmp, (size_t)n);
}

void vlog_reset(struct vlog *log, size_t pos)
{
	if (!log->level)
		return;
	if (pos >= log->dropped && pos - log->dropped <= log->len) {
		log->len = pos - log->dropped;
		if (log->buf)
			log->buf[log->len] = 0;
	}
}

bool vlog_finish(struct vlog *log, size_t *true_len)
{
	size_t total = log->len + log->dropped;
	*true_len = log->level ? total + 1 : 0;
	if (!log->level || !log->ubuf || !log->usize)
		return false;
	if (total + 1 <= log->usize && !log->dropped) {
		if (log->len)
			memcpy(log->ubuf, log->buf, log->len);
		log->ubuf[log->len] = 0;
		return false;
	}
	size_t keep = log->usize - 1;
	if (keep > log->len)
		keep = log->len;
	memcpy(log->ubuf, log->buf + log->len - keep, keep);
	log->ubuf[keep] = 0;
	return true;
}

void vlog_free(struct vlog *log)
{
	free(log->buf);
	log->buf = NULL;
	log->len = log->cap = 0;
}

void verbose(struct venv *env, const char *fmt, ...)
{
	if (!env->log.level)
		return;
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	vlog_append(&env->log, tmp, (size_t)n);
}

/* ------------------------------------------------------------- registers -- */

static const char *const type_names[VTYPE_CNT] = {
	[NOT_INIT] = "?",
	[SCALAR_VALUE] = "scalar",
	[PTR_TO_CTX] = "ctx",
	[CONST_PTR_TO_MAP] = "map_ptr",
	[PTR_TO_MAP_VALUE] = "map_value",
	[PTR_TO_MAP_KEY] = "map_key",
	[PTR_TO_STACK] = "fp",
	[PTR_TO_PACKET_META] = "pkt_meta",
	[PTR_TO_PACKET] = "pkt",
	[PTR_TO_PACKET_END] = "pkt_end",
	[PTR_TO_MEM] = "mem",
	[PTR_TO_FUNC] = "func",
};

const char *type_name(int type)
{
	return type >= 0 && type < VTYPE_CNT ? type_names[type] : "?";
}

const char *reg_type_str(const struct vreg *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s", r->flags & MEM_RDONLY ? "rdonly_" : "",
		 r->flags & MEM_RINGBUF ? "ringbuf_" : "", type_name(r->type),
		 r->flags & PTR_MAYBE_NULL ? "_or_null" : "");
	return buf;
}

/* append ",name=value" style fields */
struct fieldbuf {
	char s[384];
	size_t n;
};

static void fb_add(struct fieldbuf *fb, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
static void fb_add(struct fieldbuf *fb, const char *fmt, ...)
{
	if (fb->n >= sizeof(fb->s) - 1)
		return;
	if (fb->n)
		fb->s[fb->n++] = ',';
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(fb->s + fb->n, sizeof(fb->s) - fb->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		fb->n += (size_t)k < sizeof(fb->s) - fb->n ? (size_t)k : sizeof(fb->s) - fb->n - 1;
	fb->s[fb->n] = 0;
}

static void scalar_fields(struct fieldbuf *fb, const struct vreg *r)
{
	if (r->smin != INT64_MIN && r->smin != (int64_t)r->umin)
		fb_add(fb, "smin=%lld", (long long)r->smin);
	if (r->smax != INT64_MAX && r->smax != (int64_t)r->umax)
		fb_add(fb, "smax=%lld", (long long)r->smax);
	if (r->umin)
		fb_add(fb, "umin=%llu", (unsigned long long)r->umin);
	if (r->umax != UINT64_MAX)
		fb_add(fb, "umax=%llu", (unsigned long long)r->umax);
	if (r->s32_min != INT32_MIN && r->s32_min != (int32_t)r->u32_min)
		fb_add(fb, "smin32=%d", r->s32_min);
	if (r->s32_max != INT32_MAX && r->s32_max != (int32_t)r->u32_max)
		fb_add(fb, "smax32=%d", r->s32_max);
	if (r->u32_min && r->u32_min != r->umin)
		fb_add(fb, "umin32=%u", r->u32_min);
	if (r->u32_max != UINT32_MAX && r->u32_max != r->umax)
		fb_add(fb, "umax32=%u", r->u32_max);
	if (!tnum_is_unknown(r->var_off)) {
		char t[48];
		tnum_strn(t, sizeof(t), r->var_off);
		fb_add(fb, "var_off=%s", t);
	}
}

static void reg_text(char *out, size_t size, const struct vreg *r)
{
	char tb[64];
	struct fieldbuf fb = { .n = 0 };
	fb.s[0] = 0;
	if (r->type == SCALAR_VALUE && tnum_is_const(r->var_off)) {
		if (r->precise)
			snprintf(out, size, "P%lld", (long long)r->var_off.value);
		else
			snprintf(out, size, "%lld", (long long)r->var_off.value);
		return;
	}
	if (r->type == PTR_TO_STACK && tnum_is_const(r->var_off)) {
		snprintf(out, size, "fp%d", r->off + (int)r->var_off.value);
		return;
	}
	if (r->id)
		fb_add(&fb, "id=%u", r->id & ~ID_ADD_CONST);
	if (r->ref_obj_id)
		fb_add(&fb, "ref_obj_id=%u", r->ref_obj_id);
	if (r->type != SCALAR_VALUE && r->off)
		fb_add(&fb, "off=%d", r->off);
	if (r->type == PTR_TO_PACKET || r->type == PTR_TO_PACKET_META)
		fb_add(&fb, "r=%u", r->range);
	if (r->map && (r->type == CONST_PTR_TO_MAP || r->type == PTR_TO_MAP_VALUE ||
		       r->type == PTR_TO_MAP_KEY)) {
		if (r->map->map)
			fb_add(&fb, "map=%s", r->map->map->name);
		fb_add(&fb, "ks=%u,vs=%u", r->map->key_size, r->map->value_size);
	}
	if (r->type == PTR_TO_MEM)
		fb_add(&fb, "sz=%u", r->mem_size);
	if (r->type == SCALAR_VALUE || !tnum_is_const(r->var_off) || r->var_off.value)
		scalar_fields(&fb, r);
	snprintf(out, size, "%s%s(%s)", r->precise ? "P" : "", reg_type_str(r, tb, sizeof(tb)),
		 fb.s);
}

void print_reg(struct venv *env, int frameno, int regno, const struct vreg *r)
{
	(void)frameno;
	char t[512];
	reg_text(t, sizeof(t), r);
	verbose(env, " R%d=%s", regno, t);
}

static void print_slot(struct venv *env, int slot, const struct vslot *s)
{
	char t[512];
	if (is_spilled_reg(s)) {
		reg_text(t, sizeof(t), &s->spilled);
		verbose(env, " fp%d=%s", -(slot + 1) * V_SLOT, t);
		return;
	}
	bool any = false;
	char types[V_SLOT + 1];
	for (int i = V_SLOT - 1; i >= 0; i--) {
		uint8_t ty = s->type[i];
		types[V_SLOT - 1 - i] = ty == STACK_MISC ? 'm' : ty == STACK_ZERO ? '0' :
					ty == STACK_ITER ? 'i' : ty == STACK_SPILL ? 'r' : '?';
		any |= ty != STACK_INVALID;
	}
	types[V_SLOT] = 0;
	if (!any)
		return;
	if (s->type[0] == STACK_ITER)
		verbose(env, " fp%d=iter_num(ref_id=%u,state=%s,depth=%u)", -(slot + 1) * V_SLOT,
			s->iter_ref, s->iter_state == ITER_ACTIVE ? "active" : "drained",
			s->iter_depth);
	else
		verbose(env, " fp%d=%s", -(slot + 1) * V_SLOT, types);
}

void print_state(struct venv *env, const struct vframe *f, bool all)
{
	if (f->frameno)
		verbose(env, " frame%d:", f->frameno);
	for (int i = 0; i < V_REGS; i++) {
		const struct vreg *r = &f->regs[i];
		if (r->type == NOT_INIT)
			continue;
		if (!all && !(env->scratched_regs & (1u << i)))
			continue;
		print_reg(env, f->frameno, i, r);
	}
	for (int s = 0; s < f->slot_cnt; s++) {
		if (!all && (s >= 64 || !(env->scratched_slots & (1ull << s))))
			continue;
		print_slot(env, s, &f->stack[s]);
	}
	if (all && env->cur && env->cur->ref_cnt) {
		verbose(env, " refs=");
		for (int i = 0; i < env->cur->ref_cnt; i++)
			verbose(env, "%s%u", i ? "," : "", env->cur->refs[i].id);
	}
	verbose(env, "\n");
}

void print_insn(struct venv *env, int idx)
{
	char text[DISASM_INSN_MAX];
	if (!env->log.level)
		return;	/* the disassembly would be thrown away */
	disasm_insn(env->insns, env->insn_cnt, (size_t)idx, text, sizeof(text));
	verbose(env, "%d: (%02x) %s\n", idx, env->insns[idx].code, text);
}

static const struct vm_line *line_of(const struct venv *env, int idx)
{
	const struct bpfvm_prog *p = env->prog;
	const struct vm_line *best = NULL;
	size_t lo = 0, hi = p->line_cnt;
	while (lo < hi) { /* last record with pc <= idx */
		size_t mid = (lo + hi) / 2;
		if (p->lines[mid].pc <= (uint32_t)idx) {
			best = &p->lines[mid];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return best;
}

void print_line_info(struct venv *env, int idx)
{
	if (!env->log.level || !env->prog->lines)
		return;
	const struct vm_line *l = line_of(env, idx);
	if (!l || l == env->prev_line)
		return;
	env->prev_line = l;
	const char *text = l->text ? l->text : "";
	while (*text == ' ' || *text == '\t')
		text++;
	const char *file = l->file ? l->file : "";
	const char *base = strrchr(file, '/');
	verbose(env, "; %s @ %s:%u\n", text, base ? base + 1 : file, l->line);
}

void print_scratched(struct venv *env)
{
	if (!env->scratched_regs && !env->scratched_slots)
		return;
	verbose(env, "%*s;", 6, "");
	print_state(env, cur_frame(env), false);
}
