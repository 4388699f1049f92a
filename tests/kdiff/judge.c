/* judge.c — run one generated case on every side and decide what it means.
 *
 * Sides: the kernel (load + test-run), bpfvm in each execution mode, and the
 * independent reference evaluator (ref.c).  Each produces r0-r8, the stack
 * area and the scratch memory.  Verdicts:
 *   match             every side produced the same bytes;
 *   known-kernel-bug  bpfvm (all modes) and the reference agree, the kernel
 *                     differs, the program contains the construct of a known
 *                     kernel bug, and an ISA-equivalent variant of the kernel
 *                     program that defeats that bug makes the kernel agree too
 *                     (w0 = w0 after a 32-bit cmpxchg; making a stack slot
 *                     unknown to the verifier before an atomic fetch; or
 *                     BPF_F_TEST_STATE_FREQ, which changes pruning only);
 *   failure           anything else, including bpfvm agreeing with the kernel
 *                     where a bug-defeating variant shows the kernel wrong
 *                     (bpfvm copies the bug).  When bpfvm is the odd one out,
 *                     the body (and, past a call, the subprogram) is cut to
 *                     ever longer prefixes to find the first unit after which
 *                     bpfvm and the reference disagree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdiff.h"

#define NMODES 3
static const int modes[NMODES] = { BPFVM_EXEC_CHECKED, BPFVM_EXEC_INTERP, BPFVM_EXEC_JIT };

struct outcome {
	uint64_t seed, index;
	struct kd_case c;
	struct bpf_insn kins[KD_MAX_INSNS], vins[KD_MAX_INSNS];
	size_t kn, vn;
	uint8_t kout[KD_IO_SIZE], ref[KD_IO_SIZE], vm[NMODES][KD_IO_SIZE];
	bool ran[NMODES];
	int vm_err[NMODES];
	char vm_msg[NMODES][256];
	int ref_err;
	char ref_msg[256];
	char why[256];		/* the verdict in words */
};

static char klog[1 << 16];

static bool same(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, KD_IO_SIZE) == 0;
}

static void repro(const struct outcome *x)
{
	printf("  reproduce: build/tests/kdiff --seed %" PRIu64 " --only %" PRIu64 " --verbose\n",
	       x->seed, x->index);
}

/* ------------------------------------------------------------ the sides */

static void run_ref(struct outcome *x)
{
	memcpy(x->ref, x->c.input, KD_IO_SIZE);
	x->ref_err = kd_ref_run(x->vins, x->vn, x->ref, x->ref_msg, sizeof(x->ref_msg));
}

/* returns false (with x->why set) if bpfvm refuses the program */
static bool run_vm(struct outcome *x, unsigned *modes_ran)
{
	char log[512];
	struct bpfvm_prog *prog = kd_vm_load(x->vins, x->vn, log, sizeof(log));
	if (!prog) {
		snprintf(x->why, sizeof(x->why), "bpfvm_prog_from_insns refused a program the kernel "
			 "accepted: %.150s", log);
		return false;
	}
	for (int m = 0; m < NMODES; m++) {
		kd_crash_context("bpfvm %s mode on seed %" PRIu64 " index %" PRIu64 " (reproduce "
				 "with --seed %" PRIu64 " --only %" PRIu64 ")", kd_mode_name(modes[m]),
				 x->seed, x->index, x->seed, x->index);
		x->vm_err[m] = kd_vm_run(prog, modes[m], x->c.input, x->vm[m], x->vm_msg[m],
					 sizeof(x->vm_msg[m]));
		x->ran[m] = !(modes[m] == BPFVM_EXEC_JIT && x->vm_err[m] == -EOPNOTSUPP);
		if (x->ran[m])
			*modes_ran |= 1u << m;
		/* a fault in checked mode: the unchecked modes would touch host memory */
		if (modes[m] == BPFVM_EXEC_CHECKED && x->vm_err[m])
			break;
	}
	bpfvm_prog_free(prog);
	return true;
}

/* -------------------------------------------------------- classification */

struct attempt {
	unsigned variant, prog_flags, needs;	/* needs: case flags that must be present */
	enum kd_verdict verdict;
};

static const struct attempt attempts[] = {
	{ KD_VAR_ZEXT, 0, KD_U_CMPXCHG32, KD_KNOWN_BUG1 },
	{ KD_VAR_LAUNDER, 0, KD_U_FETCH, KD_KNOWN_BUG2 },
	{ KD_VAR_ZEXT | KD_VAR_LAUNDER, 0, KD_U_CMPXCHG32 | KD_U_FETCH, KD_KNOWN_BOTH },
	{ 0, KD_F_TEST_STATE_FREQ, 0, KD_KNOWN_PRUNING },
};

/* is the kernel's result with this ISA-equivalent variant the reference's? */
static bool variant_agrees(struct outcome *x, const struct attempt *a)
{
	static struct bpf_insn buf[KD_MAX_INSNS];
	uint8_t out[KD_IO_SIZE];
	size_t n = kd_build(&x->c, KD_KERNEL, a->variant, buf, KD_MAX_INSNS);
	if (!n || kd_kernel_run(buf, n, a->prog_flags, x->c.input, out, NULL, 0) != 0)
		return false;
	return same(out, x->ref);
}

/* which bug-defeating variant makes the kernel agree with the reference:
 * a KD_KNOWN_* verdict, or KD_FAIL when none does */
static enum kd_verdict kernel_bug(struct outcome *x)
{
	const unsigned bugs = KD_U_CMPXCHG32 | KD_U_FETCH;
	if (!(x->c.flags & bugs))
		return KD_FAIL;
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		const struct attempt *a = &attempts[i];
		if ((x->c.flags & a->needs) != a->needs)
			continue;
		if (variant_agrees(x, a))
			return a->verdict;
	}
	return KD_FAIL;
}

static enum kd_verdict classify_kernel(struct outcome *x)
{
	enum kd_verdict v = kernel_bug(x);
	if (v == KD_FAIL)
		snprintf(x->why, sizeof(x->why), "kernel differs from bpfvm and the reference, and "
			 "%s", x->c.flags & (KD_U_CMPXCHG32 | KD_U_FETCH)
			 ? "no bug-defeating variant makes it agree"
			 : "the program has no construct of a known kernel bug");
	return v;
}

/* kernel and bpfvm agree, the reference does not: bpfvm copies a kernel
 * bug (if a bug-defeating variant makes the kernel agree with the
 * reference), else the reference is wrong */
static enum kd_verdict copied_bug(struct outcome *x)
{
	enum kd_verdict v = kernel_bug(x);
	if (v != KD_FAIL)
		snprintf(x->why, sizeof(x->why), "bpfvm reproduces a kernel bug instead of the ISA "
			 "(the reference and the kernel with a bug-defeating variant agree): %.120s",
			 kd_verdict_name(v));
	else
		snprintf(x->why, sizeof(x->why), "kernel and bpfvm agree, the reference evaluator "
			 "does not (harness bug)");
	return KD_FAIL;
}

/* the first mode that ran to completion, or -1 */
static int first_mode(const struct outcome *x)
{
	for (int m = 0; m < NMODES; m++)
		if (x->ran[m] && !x->vm_err[m])
			return m;
	return -1;
}

static bool vm_all(const struct outcome *x, const uint8_t *want)
{
	for (int m = 0; m < NMODES; m++)
		if (x->ran[m] && (x->vm_err[m] || !same(x->vm[m], want)))
			return false;
	return true;
}

static bool vm_error(struct outcome *x)
{
	for (int m = 0; m < NMODES; m++) {
		if (x->ran[m] && x->vm_err[m]) {
			snprintf(x->why, sizeof(x->why), "bpfvm %s run failed (%d): %s",
				 kd_mode_name(modes[m]), x->vm_err[m], x->vm_msg[m]);
			return true;
		}
	}
	return false;
}

static enum kd_verdict judge(struct outcome *x)
{
	bool ref_ok = x->ref_err == 0;
	if (vm_error(x))
		return KD_FAIL;
	if (vm_all(x, x->kout) && ref_ok && same(x->ref, x->kout))
		return KD_MATCH;
	if (vm_all(x, x->kout) && ref_ok)
		return copied_bug(x);
	if (vm_all(x, x->kout)) {
		snprintf(x->why, sizeof(x->why), "the reference evaluator failed (harness bug): "
			 "%.150s", x->ref_msg);
		return KD_FAIL;
	}
	if (ref_ok && vm_all(x, x->ref))
		return classify_kernel(x);
	snprintf(x->why, sizeof(x->why), "bpfvm differs from the %s", ref_ok &&
		 same(x->ref, x->kout) ? "kernel and the reference evaluator" : "reference evaluator");
	return KD_FAIL;
}

/* ------------------------------------------------------------- locating */

/* a cut of the case: the body's first `body` units and, when sub >= 0, the
 * subprogram's first `sub` units followed by its fold-and-exit unit; jumps
 * past the cut go to the epilogue (or to the exit unit) */
struct cut {
	int body, sub;
};

static void cut_seq(const struct kd_seq *from, int k, bool keep_last, struct kd_seq *to)
{
	memcpy(to->u, from->u, (size_t)k * sizeof(*to->u));
	if (keep_last)
		to->u[k] = from->u[from->n - 1];
	for (int i = 0; i < k; i++)
		if (to->u[i].jump >= 0 && to->u[i].target > k)
			to->u[i].target = k;
	to->n = k + keep_last;
}

/* build the cut for bpfvm into ins; returns the instruction count */
static size_t build_cut(const struct kd_case *c, struct cut cut, struct bpf_insn *ins)
{
	static struct kd_unit body[KD_MAX_INSNS], sub[KD_MAX_INSNS];
	struct kd_case t = *c;
	t.body.u = body;
	cut_seq(&c->body, cut.body, false, &t.body);
	if (cut.sub >= 0) {
		t.sub.u = sub;
		cut_seq(&c->sub, cut.sub, true, &t.sub);
	}
	return kd_build(&t, KD_BPFVM, 0, ins, KD_MAX_INSNS);
}

/* run a cut on the reference (into ref) and bpfvm mode m (into vm) */
static bool cut_differs(const struct outcome *x, struct cut cut, int m, uint8_t *ref,
			uint8_t *vm)
{
	static struct bpf_insn ins[KD_MAX_INSNS];
	char msg[256];
	size_t n = build_cut(&x->c, cut, ins);
	memcpy(ref, x->c.input, KD_IO_SIZE);
	if (!n || kd_ref_run(ins, n, ref, msg, sizeof(msg)))
		return false;
	struct bpfvm_prog *prog = kd_vm_load(ins, n, NULL, 0);
	if (!prog)
		return true;
	kd_crash_context("bpfvm %s mode on a cut (%d body, %d sub units) of seed %" PRIu64
			 " index %" PRIu64, kd_mode_name(modes[m]), cut.body, cut.sub, x->seed,
			 x->index);
	int err = kd_vm_run(prog, modes[m], x->c.input, vm, msg, sizeof(msg));
	bpfvm_prog_free(prog);
	return err || !same(ref, vm);
}

static void print_unit(const struct kd_unit *u)
{
	char text[128];
	for (int i = 0; i < u->n; i++) {
		kd_insn_text(u->insn, u->n, (size_t)i, text, sizeof(text));
		printf("      %s\n", text);
		if (u->insn[i].code == (BPF_LD | BPF_DW | BPF_IMM))
			i++;
	}
}

/* registers when the subprogram's unit j-1 starts (the cut ends with it) */
static void print_sub_regs(const struct outcome *x, struct cut cut)
{
	static struct bpf_insn ins[KD_MAX_INSNS];
	uint64_t r[11];
	size_t n = build_cut(&x->c, cut, ins);
	size_t pc = n - x->c.sub.u[x->c.sub.n - 1].n - x->c.sub.u[cut.sub - 1].n;
	if (kd_ref_regs_at(ins, n, x->c.input, pc, r))
		return;
	printf("  registers in the subprogram before that unit (reference):\n");
	for (int i = 0; i < 10; i++)
		printf("    r%-8d 0x%016" PRIx64 "\n", i, r[i]);
}

/* the call unit k-1 is where bpfvm first differs: look inside the callee */
static void locate_sub(const struct outcome *x, int k, int m)
{
	uint8_t ref[KD_IO_SIZE], vm[KD_IO_SIZE];
	for (int j = 1; j < x->c.sub.n; j++) {
		struct cut cut = { k, j };
		if (!cut_differs(x, cut, m, ref, vm))
			continue;
		printf("  inside the subprogram: after its unit %d of %d (its result folds r0-r8 "
		       "and its stack into r0):\n", j - 1, x->c.sub.n);
		print_unit(&x->c.sub.u[j - 1]);
		print_sub_regs(x, cut);
		kd_print_diff("reference", ref, "bpfvm", vm);
		return;
	}
}

static void locate(const struct outcome *x, int m)
{
	uint8_t before[KD_IO_SIZE], ref[KD_IO_SIZE], vm[KD_IO_SIZE];
	memcpy(before, x->c.input, KD_IO_SIZE);
	for (int k = 1; k <= x->c.body.n; k++) {
		if (!cut_differs(x, (struct cut){ k, -1 }, m, ref, vm)) {
			memcpy(before, ref, KD_IO_SIZE);
			continue;
		}
		bool call = x->c.body.u[k - 1].call >= 0;
		printf("  first disagreement of bpfvm %s with the reference: after body unit %d of "
		       "%d%s:\n", kd_mode_name(modes[m]), k - 1, x->c.body.n,
		       call ? " (a call of the subprogram)" : "");
		print_unit(&x->c.body.u[k - 1]);
		kd_print_io("state before that unit (reference, on the path taken)", before);
		kd_print_diff("reference", ref, "bpfvm", vm);
		if (call)
			locate_sub(x, k, m);
		return;
	}
	printf("  (no body prefix isolates the disagreement)\n");
}

/* ------------------------------------------------------------- reporting */

/* bpfvm's results: the first completed mode in full, the others as diffs */
static void report_vm(const struct outcome *x, int f)
{
	for (int m = 0; m < NMODES; m++) {
		if (!x->ran[m] || m == f)
			continue;
		if (x->vm_err[m])
			printf("  bpfvm %s: run failed (%d): %s\n", kd_mode_name(modes[m]), x->vm_err[m],
			       x->vm_msg[m]);
		else if (f >= 0 && !same(x->vm[m], x->vm[f]))
			kd_print_diff(kd_mode_name(modes[f]), x->vm[f], kd_mode_name(modes[m]),
				      x->vm[m]);
	}
	if (f < 0)
		return;
	kd_print_io(kd_mode_name(modes[f]), x->vm[f]);
	kd_print_diff("kernel", x->kout, kd_mode_name(modes[f]), x->vm[f]);
	if (!x->ref_err)
		kd_print_diff("reference", x->ref, kd_mode_name(modes[f]), x->vm[f]);
}

/* a failure before any bpfvm result exists */
static void report_short(const struct outcome *x)
{
	printf("FAILURE seed %" PRIu64 " index %" PRIu64 ": %s\n", x->seed, x->index, x->why);
	repro(x);
	if (x->vn) {
		printf("  bpfvm-side program (%zu insns):\n", x->vn);
		kd_print_prog(x->vins, x->vn);
	}
}

static void report(struct outcome *x, enum kd_verdict v, bool verbose)
{
	printf("MISMATCH seed %" PRIu64 " index %" PRIu64 ": %s\n", x->seed, x->index,
	       v == KD_FAIL ? x->why : "known kernel bug");
	repro(x);
	printf("  bpfvm-side program (%zu insns; the kernel's differs only in prologue and "
	       "epilogue):\n", x->vn);
	kd_print_prog(x->vins, x->vn);
	if (verbose) {
		printf("  kernel-side program (%zu insns):\n", x->kn);
		kd_print_prog(x->kins, x->kn);
	}
	kd_print_io("kernel", x->kout);
	if (x->ref_err)
		printf("  reference failed: %s\n", x->ref_msg);
	report_vm(x, first_mode(x));
	for (int m = 0; m < NMODES; m++)
		if (x->ran[m] && !x->ref_err && (x->vm_err[m] || !same(x->vm[m], x->ref))) {
			locate(x, m);
			break;
		}
}

const char *kd_verdict_name(enum kd_verdict v)
{
	switch (v) {
	case KD_MATCH: return "match";
	case KD_REFUSED_BY_KERNEL: return "refused";
	case KD_KNOWN_BUG1: return "known kernel bug 1, 32-bit cmpxchg leaves r0's upper half "
				   "(the kernel agrees once w0 = w0 follows each 32-bit cmpxchg)";
	case KD_KNOWN_BUG2: return "known kernel bug 2, precision lost after an atomic fetch "
				   "(the kernel agrees once the slot is made unknown to the verifier "
				   "before each fetch)";
	case KD_KNOWN_BOTH: return "known kernel bugs 1 and 2 (the kernel agrees with both "
				   "variants applied)";
	case KD_KNOWN_PRUNING: return "known kernel bug 1 or 2 construct, pruning-dependent "
				      "(the kernel agrees with BPF_F_TEST_STATE_FREQ)";
	default: return "failure";
	}
}

static void show(struct outcome *x)
{
	printf("case seed %" PRIu64 " index %" PRIu64 ": %d body units, %s, flags 0x%x\n",
	       x->seed, x->index, x->c.body.n, x->c.has_sub ? "with subprogram" : "no subprogram",
	       x->c.flags);
	printf("  kernel-side program (%zu insns):\n", x->kn);
	kd_print_prog(x->kins, x->kn);
	kd_print_io("input", x->c.input);
}

/* -------------------------------------------------------------- entry */

static enum kd_verdict check(struct outcome *x, const struct kd_check_opts *o,
			     unsigned *modes_ran)
{
	x->kn = kd_build(&x->c, KD_KERNEL, 0, x->kins, KD_MAX_INSNS);
	x->vn = kd_build(&x->c, KD_BPFVM, 0, x->vins, KD_MAX_INSNS);
	if (!x->kn || !x->vn) {
		snprintf(x->why, sizeof(x->why), "generated program too long (generator bug)");
		return KD_FAIL;
	}
	if (o->show)
		show(x);
	int rc = kd_kernel_run(x->kins, x->kn, 0, x->c.input, x->kout, klog, sizeof(klog));
	if (rc == KD_REFUSED) {
		if (o->refusal_log)
			snprintf(o->refusal_log, o->refusal_log_size, "%s", klog);
		return KD_REFUSED_BY_KERNEL;
	}
	if (rc) {
		snprintf(x->why, sizeof(x->why), "kernel run failed: %.200s", klog);
		return KD_FAIL;
	}
	run_ref(x);
	if (!run_vm(x, modes_ran))
		return KD_FAIL;
	return judge(x);
}

enum kd_verdict kd_check(uint64_t seed, uint64_t index, const struct kd_check_opts *o,
			 unsigned *modes_ran)
{
	static struct outcome x;
	memset(&x, 0, offsetof(struct outcome, kins));
	x.seed = seed;
	x.index = index;
	memset(x.ran, 0, sizeof(x.ran));
	x.why[0] = 0;
	kd_generate(&x.c, seed, index);
	enum kd_verdict v = check(&x, o, modes_ran);
	if (v == KD_FAIL && o->report) {
		if (x.vn && (x.ran[0] || x.ran[1]))
			report(&x, v, o->verbose);
		else
			report_short(&x);
	} else if (v >= KD_KNOWN_BUG1 && v <= KD_KNOWN_PRUNING && o->report_known) {
		printf("known-kernel-bug seed %" PRIu64 " index %" PRIu64 ": %s; bpfvm and the "
		       "reference agree\n", seed, index, kd_verdict_name(v));
		if (o->verbose)
			report(&x, v, true);
	} else if (o->show) {
		printf("  verdict: %s\n", kd_verdict_name(v));
		if (v == KD_MATCH)
			kd_print_io("result (all sides)", x.kout);
	}
	kd_case_free(&x.c);
	return v;
}
