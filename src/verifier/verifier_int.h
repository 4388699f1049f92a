/* verifier_int.h — the verifier's internal model, shared by its files.
 *
 * The verifier is an abstract interpreter: it walks every path of the program
 * with an abstract state (struct vstate: call frames of registers and stack
 * slots, references held, the spin lock held) and proves each instruction
 * safe for every concrete state the abstract one stands for.  Files:
 *   bounds.c       scalar value domain (tnum + signed/unsigned 64/32-bit ranges)
 *   state.c        states: allocation, copies, ids, stack slots, references
 *   cfg.c          structure: subprograms, jumps, unreachable code, stack depth
 *   check_fields.c reserved fields and registers of a reached instruction
 *   check_mem.c    loads and stores through every pointer type
 *   check_ctx.c    context field rules per program type (ctx_access.def)
 *   check_helper.c helper, kfunc and bpf-to-bpf calls, callbacks, exits
 *   check_insn.c   ALU, jumps and branch refinement, lddw, ld_abs
 *   prune.c        explored states, equivalence, liveness
 *   precise.c      precision tracking: which scalars' values decide safety
 *   log.c          the kernel-compatible log
 *   verifier.c     the main loop and bpfvm_prog_verify()
 * Nothing here does I/O: the log is a buffer the caller owns.
 */
#ifndef BPFVM_VERIFIER_INT_H
#define BPFVM_VERIFIER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm/verifier.h"
#include "exec/vm.h"
#include "helpers/helpers.h"
#include "isa/isa.h"
#include "maps/map.h"
#include "verifier/tnum.h"

#define V_REGS 11		/* r0..r10 */
#define V_MAX_FRAMES 8
#define V_STACK_MAX 512
#define V_SLOT 8
#define V_MAX_SLOTS (V_STACK_MAX / V_SLOT)
#define V_INSN_LIMIT 1000000u
#define V_MAX_SUBPROGS 256
#define V_MAX_REFS 64
#define V_JMP_SEQ_LIMIT 8192	/* pending branches (BPF_COMPLEXITY_LIMIT_JMP_SEQ) */
#define V_CALLBACK_DEPTH 8

/* ------------------------------------------------------------- registers -- */

enum vtype {
	NOT_INIT = 0,
	SCALAR_VALUE,
	PTR_TO_CTX,
	CONST_PTR_TO_MAP,
	PTR_TO_MAP_VALUE,
	PTR_TO_MAP_KEY,
	PTR_TO_STACK,
	PTR_TO_PACKET_META,
	PTR_TO_PACKET,
	PTR_TO_PACKET_END,
	PTR_TO_MEM,
	PTR_TO_FUNC,
	VTYPE_CNT
};

/* type flags (the kernel's type modifiers) */
enum {
	PTR_MAYBE_NULL = 1u << 0,
	MEM_RDONLY = 1u << 1,
	MEM_RINGBUF = 1u << 2,
};

/* liveness marks, kept in checkpoint states */
enum {
	LIVE_READ = 1u << 0,
	LIVE_WRITTEN = 1u << 1,	/* written since the parent checkpoint */
};

/* What is known of one map: a map of the program, or the template of the
 * maps a map-in-map holds. */
struct vmap {
	uint32_t type, key_size, value_size, max_entries, flags;
	int32_t spin_lock_off;
	const struct bpfvm_map *map;		/* NULL for a template */
	const struct vmap *inner;		/* map-in-map: what a lookup yields */
	int idx;				/* for messages: index in the env */
};

struct vreg {
	struct tnum var_off;
	int64_t smin, smax;
	uint64_t umin, umax;
	int32_t s32_min, s32_max;
	uint32_t u32_min, u32_max;
	int32_t off;		/* pointers: fixed offset; linked scalars: delta */
	uint32_t id;		/* null-check / packet-range / linked-scalar group */
	uint32_t ref_obj_id;	/* the reference this pointer carries */
	const struct vmap *map;	/* CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE/KEY */
	uint32_t range;		/* packet: bytes proven readable after off */
	uint32_t mem_size;	/* PTR_TO_MEM */
	int32_t subprog;	/* PTR_TO_FUNC: the subprogram */
	uint8_t type;		/* enum vtype */
	uint8_t flags;		/* PTR_MAYBE_NULL ... */
	uint8_t frameno;	/* PTR_TO_STACK: whose stack */
	uint8_t live;		/* LIVE_* (checkpoints) */
	bool precise;
	bool subreg_def;	/* the last write was a 32-bit one (for the log) */
};

#define ID_ADD_CONST (1u << 31)	/* linked scalar with a constant delta in off */

/* ----------------------------------------------------------- stack slots -- */

enum slot_type {
	STACK_INVALID = 0,	/* never written */
	STACK_SPILL,		/* part of a spilled register */
	STACK_MISC,		/* some scalar bytes */
	STACK_ZERO,		/* known zero bytes */
	STACK_ITER,		/* a bpf_iter_num object */
};

enum iter_state {
	ITER_ACTIVE = 1,
	ITER_DRAINED,
};

struct vslot {
	struct vreg spilled;	/* when any byte is STACK_SPILL */
	uint8_t type[V_SLOT];	/* per byte; type[0] is the lowest address */
	uint8_t live;
	uint8_t iter_state;	/* STACK_ITER */
	uint32_t iter_depth;
	uint32_t iter_ref;
};

/* ---------------------------------------------------------------- frames -- */

struct vframe {
	struct vreg regs[V_REGS];
	struct vslot *stack;	/* slot i: bytes [-(i+1)*8, -i*8) of this frame */
	int slot_cnt;
	int slot_cap;		/* slots allocated */
	int callsite;		/* the call instruction; -1 for the main frame */
	int frameno;
	int subprog;
	bool in_callback;
	bool in_iter_loop;
	int32_t cb_ret_min, cb_ret_max;	/* callback: allowed r0 */
	uint32_t callback_depth;
	uint32_t async_entry_cnt;
};

enum ref_kind {
	REF_PTR = 1,		/* ringbuf memory and other acquired pointers */
	REF_ITER,		/* bpf_iter_num */
};

struct vref {
	uint32_t id;
	int insn_idx;
	uint8_t kind;
	uint8_t frameno;
};

/* One entry of a state's path history (the kernel's jmp_history): recorded
 * for an instruction reached other than by falling through (idx, prev_idx),
 * a stack spill or fill (flags: slot), and a conditional jump on linked
 * scalars (linked: the registers and slots that shared the range).  Enough
 * to walk the path back for precision tracking (precise.c). */
struct vhist {
	int32_t idx, prev_idx;
	uint32_t flags;		/* HIST_STACK | frameno << 1 | spi << 4 */
	uint16_t walked_regs;	/* precise.c: demand already walked back from here */
	uint64_t linked;	/* LINKED_* packing, 0: none */
	uint64_t walked_slots;
};

enum {
	HIST_STACK = 1u << 0,	/* a spill or fill of slot (frameno, spi) */
	HIST_CB_EXIT = 1u << 10,	/* the exit of a callback */
};
#define HIST_STACK_FLAGS(frameno, spi) (HIST_STACK | (uint32_t)(frameno) << 1 | (uint32_t)(spi) << 4)
#define HIST_FRAMENO(f) (((f) >> 1) & 7)
#define HIST_SPI(f) (((f) >> 4) & 63)
#define LINKED_MAX 6		/* the kernel's LINKED_REGS_MAX */

struct vstate {
	struct vframe *frame[V_MAX_FRAMES];
	int curframe;
	struct vref *refs;
	int ref_cnt;
	uint32_t lock_id;	/* bpf_spin_lock held: id of the map value pointer */
	const struct vmap *lock_map;
	int32_t lock_off;
	struct vstate *parent;	/* the checkpoint this path continues */
	uint32_t branches;	/* paths still running below this checkpoint */
	int insn_idx;		/* where this state is (checkpoints) */
	uint32_t may_goto_depth;
	uint32_t dfs_depth;
	bool in_loop;		/* looping by iterators / callbacks (pruning rules) */
	/* precision tracking: the path since the parent checkpoint */
	struct vhist *hist;
	uint32_t hist_cnt, hist_cap;
	int first_insn_idx;	/* the first instruction of that path */
	int last_insn_idx;	/* checkpoints: the instruction before insn_idx */
	bool no_prune;		/* checkpoint inside a loop cut at its head: never prunes */
	bool all_precise;	/* loop head: every scalar marked precise and read */
};

/* one pending path: the state before insn_idx */
struct vstack_elem {
	struct vstate *st;
	int insn_idx, prev_insn_idx;
	size_t log_pos;
	struct vstack_elem *next;
};

/* explored states per instruction (prune points) */
struct vexplored {
	struct vstate *st;
	uint32_t miss, hit;
	struct vexplored *next;
};

/* ----------------------------------------------------------- subprograms -- */

struct vsubprog {
	int start, end;		/* [start, end) */
	int stack_depth;	/* bytes, rounded up to 8; computed during the walk */
	bool has_tail_call;
	bool is_cb;		/* target of a callback argument */
	bool has_ld_abs;
	int linfo_idx;
};

/* per-instruction facts */
struct vinsn_aux {
	uint8_t prune_point : 1;
	uint8_t force_checkpoint : 1;
	uint8_t jmp_point : 1;
	uint8_t seen : 1;
	uint8_t iter_next : 1;
	uint8_t calls_cb : 1;
	uint8_t visited : 1;	/* a path reached it (else: dead code, patched after) */
	uint16_t live_regs;	/* static liveness: regs read before written (bit per reg) */
	int subprog;
};

/* ------------------------------------------------------------------ log -- */

struct vlog {
	unsigned int level;
	char *ubuf;		/* the caller's buffer */
	size_t usize;
	char *buf;		/* what we produced (grows) */
	size_t len, cap;
	size_t dropped;		/* bytes dropped from the front (rolling) */
	bool oom;
};

/* ---------------------------------------------------------------- the env -- */

struct venv {
	struct bpfvm_prog *prog;
	const struct bpf_insn *insns;
	const struct vm_insn *code;
	size_t insn_cnt;
	uint32_t prog_type;
	uint32_t attach_type;
	uint16_t *ops;			/* decoded op per slot (OP_INVALID: lddw tail) */
	uint8_t *isa_flags;		/* ISA_UNDECODED, ISA_MALFORMED per slot */
	bool structure_ok;		/* isa_validate_early() passed: ops, isa_flags set */
	struct vinsn_aux *aux;
	struct vsubprog subprogs[V_MAX_SUBPROGS + 1];
	int subprog_cnt;
	struct vmap *maps;		/* distinct maps and templates */
	int map_cnt, map_cap;

	struct vstate *cur;
	int insn_idx, prev_insn_idx;
	struct vstack_elem *head;
	int stack_size;
	struct vexplored **explored;	/* per instruction */
	uint32_t id_gen;

	/* statistics */
	uint64_t insn_processed;
	uint32_t total_states, peak_states, cur_states, max_states_per_insn;
	uint64_t jmps_processed, prev_jmps_processed, prev_insn_processed;
	uint32_t mark_read;

	int cur_hist;			/* history entry of this instruction, -1: none */
	struct vstate *state_pool;	/* recycled states (state.c) */
	struct vstack_elem *elem_pool;	/* recycled pending-path entries */

	struct vlog log;
	const struct vm_line *prev_line;
	uint16_t scratched_regs;	/* for the level-1 state after an insn */
	uint64_t scratched_slots;
	bool seen_direct_write;
	bool has_ld_abs;
	bool has_tail_call;
	int err;
};

/* ------------------------------------------------------------- bounds.c -- */

void reg_mark_known(struct vreg *r, uint64_t v);
void reg_mark_unknown_scalar(struct vreg *r);
void reg_mark_not_init(struct vreg *r);
void reg_bounds_unbounded(struct vreg *r);
void reg_bounds_sync(struct vreg *r);
bool reg_bounds_ok(const struct vreg *r);	/* min <= max everywhere */
void reg_zext32(struct vreg *r);		/* keep the low 32 bits, zero-extend */
void reg_subreg_unknown(struct vreg *r);
bool reg_is_const(const struct vreg *r);
bool reg_is_const32(const struct vreg *r);
void reg_assign_32_into_64(struct vreg *r);
/* dst = dst OP src for scalars (op: BPF_ADD ... encoded as the opcode's
 * high nibble), alu32 when 32-bit.  Returns false when the result is
 * unknown (the caller marks it so). */
void scalar_alu(struct vreg *dst, const struct vreg *src, uint8_t opn, bool alu32);
void scalar_movsx(struct vreg *dst, const struct vreg *src, int bits, bool alu32);
void scalar_bswap(struct vreg *dst, int bits, bool to_be_or_swap, bool is_bswap);
/* branch: 1 taken, 0 not taken, -1 unknown; opn is the jump op nibble */
int scalar_branch_taken(const struct vreg *a, const struct vreg *b, uint8_t opn, bool is32);
/* refine a and b for `a opn b` being true; false when impossible */
bool scalar_refine(struct vreg *a, struct vreg *b, uint8_t opn, bool is32);
uint8_t jmp_negate(uint8_t opn);
uint8_t jmp_flip(uint8_t opn);

/* -------------------------------------------------------------- state.c -- */

struct vstate *state_new(void);
void state_free(struct vstate *st);
int state_copy(struct vstate *dst, const struct vstate *src);
struct vstate *state_dup(const struct vstate *src);
/* a copy of src in a recycled state; state_put() recycles one */
struct vstate *state_get(struct venv *env, const struct vstate *src);
void state_put(struct venv *env, struct vstate *st);
void state_pool_free(struct venv *env);
struct vframe *frame_new(int frameno, int callsite, int subprog);
void frame_free(struct vframe *f);
int frame_grow_stack(struct vframe *f, int slots);
void frame_init_regs(struct vframe *f);
static inline struct vframe *cur_frame(const struct venv *env)
{
	return env->cur->frame[env->cur->curframe];
}
static inline struct vreg *cur_regs(const struct venv *env)
{
	return cur_frame(env)->regs;
}
uint32_t env_new_id(struct venv *env);
int ref_acquire(struct venv *env, int kind, int insn_idx);
int ref_release(struct venv *env, uint32_t id);
bool ref_find(const struct vstate *st, uint32_t id);
/* invalidate every register and spilled register carrying ref id */
void release_reg_references(struct venv *env, uint32_t ref_id);
/* apply fn to every register and spilled register of every frame */
typedef void (*reg_fn)(struct venv *env, struct vreg *r, void *ctx);
void for_each_reg(struct venv *env, struct vstate *st, reg_fn fn, void *ctx);
bool is_spilled_reg(const struct vslot *s);
bool is_spilled_scalar(const struct vslot *s);

/* ---------------------------------------------------------------- log.c -- */

void vlog_init(struct vlog *log, unsigned level, char *buf, size_t size);
void vlog_printf(struct vlog *log, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
void vlog_reset(struct vlog *log, size_t pos);
static inline size_t vlog_pos(const struct vlog *log)
{
	return log->len + log->dropped;
}
/* copy into the caller's buffer; returns true when it had to be cut */
bool vlog_finish(struct vlog *log, size_t *true_len);
void vlog_free(struct vlog *log);
/* error message at the current instruction (also sets nothing else) */
void verbose(struct venv *env, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
const char *reg_type_str(const struct vreg *r, char *buf, size_t size);
void print_reg(struct venv *env, int frameno, int regno, const struct vreg *r);
void print_state(struct venv *env, const struct vframe *f, bool all);
void print_insn(struct venv *env, int idx);
void print_line_info(struct venv *env, int idx);
void print_scratched(struct venv *env);
const char *type_name(int type);

/* ---------------------------------------------------------------- cfg.c -- */

int cfg_check(struct venv *env);
int cfg_subprog_of(const struct venv *env, int insn_idx);
int cfg_check_stack_depth(struct venv *env);
void cfg_compute_live_regs(struct venv *env);

/* ---------------------------------------------------------- check_mem.c -- */

enum access { ACC_READ, ACC_WRITE };
/* regno's pointer + off, size bytes; value_regno: register loaded into
 * (read) or stored from (write), -1 for an immediate store / no register */
int check_mem_access(struct venv *env, int insn_idx, int regno, int off, int size,
		     enum access t, int value_regno, bool sign_ext, bool is_atomic);
/* helper argument memory: [reg, reg + size) readable (or writable when
 * raw: uninitialised is fine, it gets written) */
int check_helper_mem_access(struct venv *env, int regno, int64_t size_min, int64_t size_max,
			    bool zero_ok, bool write, bool raw);
int check_reg_read(struct venv *env, int regno);
void mark_reg_read(struct venv *env, const struct vreg *r, int frameno, int regno);
void mark_slot_read(struct venv *env, int frameno, int slot);
bool pkt_access_allowed(const struct venv *env, bool write);
bool is_ctx_reg(const struct venv *env, int regno);
int check_stack_range_init(struct venv *env, int regno, int off, int size, bool raw);

/* ---------------------------------------------------------- check_ctx.c -- */

/* ctx access at off/size: 0 and *ptr_type (NOT_INIT for a scalar field), or
 * -EACCES after logging the kernel's message */
int check_ctx_access(struct venv *env, int insn_idx, int off, int size, enum access t,
		     int *ptr_type);
uint32_t ctx_size(uint32_t prog_type);

/* ------------------------------------------------------- check_helper.c -- */

int check_helper_call(struct venv *env, int insn_idx);
int check_kfunc_call(struct venv *env, int insn_idx);
int check_subprog_call(struct venv *env, int insn_idx, int *next_idx);
int check_exit(struct venv *env, int *next_idx, bool *path_done);
bool helper_allowed(uint32_t prog_type, uint32_t id);

/* ------------------------------------------------------- check_fields.c -- */

/* The reserved fields and registers of the reached instruction at idx, as
 * the kernel checks them: 0 or a negative errno with the kernel's message. */
int check_fields(struct venv *env, int idx);

/* --------------------------------------------------------- check_insn.c -- */

int check_alu(struct venv *env, int insn_idx);
int check_cond_jmp(struct venv *env, int *insn_idx);
int check_ld_imm64(struct venv *env, int insn_idx);
int check_ld_abs(struct venv *env, int insn_idx);
int check_load_store(struct venv *env, int insn_idx);
int check_atomic(struct venv *env, int insn_idx);
/* mark the two registers of a conditional: find_good_pkt_pointers etc. */
struct vstate *push_stack(struct venv *env, int insn_idx, int prev_idx);
void mark_ptr_or_null_regs(struct venv *env, struct vstate *st, uint32_t id, bool is_null);
void sync_linked_regs(struct venv *env, struct vstate *st, const struct vreg *known);
int check_reg_arg_write(struct venv *env, int regno);
void mark_reg_written(struct venv *env, int regno);

/* ----------------------------------------------------------- precise.c -- */

/* record this instruction in the current path's history (merged with an
 * entry already made for it) */
int hist_push(struct venv *env, uint32_t flags, uint64_t linked);
/* the instruction that falls through into idx (idx - 1 or, after an lddw,
 * idx - 2) */
int natural_pred(const struct venv *env, int idx);
/* the value of a register / spilled slot before the current instruction
 * decides safety: mark it precise back through the path's checkpoints */
int mark_precise_reg(struct venv *env, int regno);
int mark_precise_slot(struct venv *env, int frameno, int spi);
/* a pruned state relied on old's precise scalars: mark them in cur's path */
int propagate_precision(struct venv *env, const struct vstate *old);
/* old: loop head still being explored that covered the current state */
int precise_loop_hit(struct venv *env, struct vstate *old);
/* forget inherited marks (a new checkpoint starts with none) */
void clear_precise(struct vstate *st);
/* at a conditional jump: the scalars linked to dst/src go into the history */
int hist_push_linked(struct venv *env, const struct vreg *a, const struct vreg *b);

/* ------------------------------------------------------------ prune.c -- */

/* 1: the current state is covered by an explored one (path done);
 * 0: go on; <0: error */
int prune_visit(struct venv *env, int insn_idx);
void prune_update_branches(struct venv *env, struct vstate *st);
void prune_free_all(struct venv *env);
void prune_propagate_read(struct venv *env);

/* ---------------------------------------------------------- verifier.c -- */

const struct vmap *env_map_for(struct venv *env, const struct bpfvm_map *m);
const struct vmap *env_map_template(struct venv *env, const struct map_meta *meta);

#define OPN(code) ((uint8_t)((code) & 0xf0))

#endif
