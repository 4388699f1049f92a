/* bench_jit.c — compute benchmarks: interpreters, JIT code, native C.
 *
 * Each program in bench/programs/ (hand-written eBPF assembly; r1 = a 64 KiB
 * input, r2 = its size) runs in the fast interpreter, the checked
 * interpreter, checked JIT code (the program as loaded), JIT code for the
 * program marked verified, and as the same algorithm in C compiled with this
 * file's flags.  Printed: ns per run (best of several timed batches), the
 * ratios, and compile time per 1,000 instructions for the programs and for a
 * large generated one.  Figures only, never pass/fail; a result that differs
 * between modes is flagged.  Run from the repository root: `make bench`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpfvm.h"
#include "bpfvm/jit.h"
#include "exec/vm.h"

#define INPUT_SZ 65536
#define OPAQUE(x) __asm__ volatile("" : "+r"(x))	/* keep the compiler from folding loops */

/* ------------------------------------------------------ the C versions */

static uint64_t c_loop_sum(const uint8_t *m, size_t n)
{
	(void)m, (void)n;
	uint64_t s = 0;
	for (uint64_t i = 0; i < 200000; i++) {
		s += i * i;
		OPAQUE(s);
	}
	return s;
}

static uint64_t c_fnv1a(const uint8_t *m, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= m[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t c_sieve(const uint8_t *m, size_t n)
{
	(void)m, (void)n;
	uint8_t bits[512];
	memset(bits, 0, sizeof(bits));
	OPAQUE(m);
	uint64_t count = 0;
	for (uint64_t i = 2; i < 4096; i++) {
		if (bits[i >> 3] >> (i & 7) & 1)
			continue;
		count++;
		for (uint64_t j = i * i; j < 4096; j += i)
			bits[j >> 3] |= (uint8_t)(1u << (j & 7));
	}
	return count;
}

static uint64_t c_bubble(const uint8_t *m, size_t n)
{
	(void)m, (void)n;
	uint32_t a[64], x = 12345;
	for (int i = 0; i < 64; i++) {
		x = x * 1103515245u + 12345u;
		a[i] = x;
	}
	OPAQUE(m);
	for (int len = 63; len != 0; len--)
		for (int j = 0; j < len; j++) {
			uint32_t u = a[j], w = a[j + 1];
			OPAQUE(u); /* else gcc swaps with one 8-byte store the next load stalls on */
			if (u > w) {
				a[j] = w;
				a[j + 1] = u;
			}
		}
	uint64_t s = 0;
	for (int i = 0; i < 64; i++)
		s += (uint64_t)a[i] * (uint64_t)(i + 1);
	return s;
}

static uint64_t c_checksum(const uint8_t *m, size_t n)
{
	uint64_t s = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32_t w;
		memcpy(&w, m + i, 4);
		s += w;
	}
	for (; i < n; i++)
		s += m[i];
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return __builtin_bswap16((uint16_t)(s ^ 0xffff));
}

static uint64_t c_murmur(const uint8_t *m, size_t n)
{
	const uint64_t k = 0xc6a4a7935bd1e995ull;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, m + i, 8);
		w *= k;
		w ^= w >> 47;
		w *= k;
		h ^= w;
		h *= k;
	}
	return h ^ (h >> 47);
}

static const struct bench {
	const char *name;
	uint64_t (*native)(const uint8_t *, size_t);
} benches[] = {
	{ "loop_sum", c_loop_sum },
	{ "fnv1a", c_fnv1a },
	{ "sieve", c_sieve },
	{ "bubble", c_bubble },
	{ "checksum", c_checksum },
	{ "murmur", c_murmur },
};

/* ------------------------------------------------------------ timing */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t input[INPUT_SZ];

/* ns per run in `mode`, best of 5 batches of about 40 ms; *r0 the result */
static double time_mode(struct bpfvm_prog *p, int mode, uint64_t *r0)
{
	struct bpfvm_run_opts o = BPFVM_OPTS_INIT(bpfvm_run_opts);
	char err[256] = "";
	o.mem = input;
	o.mem_sz = INPUT_SZ;
	o.mode = mode;
	o.err_buf = err;
	o.err_size = sizeof(err);
	o.repeat = 1;
	if (bpfvm_prog_run(p, &o)) {
		fprintf(stderr, "run failed: %s\n", err);
		return -1;
	}
	*r0 = o.retval;
	uint64_t per = o.duration_ns ? o.duration_ns : 1;
	o.repeat = (uint32_t)(40000000 / per + 1);
	double best = 1e30;
	for (int i = 0; i < 5; i++) {
		uint64_t t0 = now_ns();
		bpfvm_prog_run(p, &o);
		double ns = (double)(now_ns() - t0) / o.repeat;
		if (ns < best)
			best = ns;
	}
	return best;
}

static double time_native(uint64_t (*fn)(const uint8_t *, size_t), uint64_t *r0)
{
	const uint8_t *volatile in = input;
	uint64_t t0 = now_ns();
	*r0 = fn(in, INPUT_SZ);
	uint64_t per = now_ns() - t0 + 1, reps = 40000000 / per + 1;
	double best = 1e30;
	for (int i = 0; i < 5; i++) {
		t0 = now_ns();
		for (uint64_t k = 0; k < reps; k++) {
			uint64_t v = fn(in, INPUT_SZ);
			OPAQUE(v);
		}
		double ns = (double)(now_ns() - t0) / (double)reps;
		if (ns < best)
			best = ns;
	}
	return best;
}

static struct bpfvm_prog *load(const struct bpf_insn *v, size_t n, bool verified)
{
	char log[256] = "";
	struct bpfvm_prog_opts o = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	o.log_buf = log;
	o.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_prog_from_insns(v, n, &o);
	if (!p)
		fprintf(stderr, "load failed: %s\n", log);
	else
		p->verified = verified; /* what a verifier would set: unchecked code */
	return p;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = 0;
	return buf;
}

/* µs to compile v (n insns), best of `trials` */
static double compile_us(const struct bpf_insn *v, size_t n, bool verified, int trials)
{
	double best = 1e30;
	for (int i = 0; i < trials; i++) {
		struct bpfvm_prog *p = load(v, n, verified);
		if (!p)
			return -1;
		uint64_t t0 = now_ns();
		int err = bpfvm_prog_jit(p, NULL, 0);
		double us = (double)(now_ns() - t0) / 1000.0;
		bpfvm_prog_free(p);
		if (err)
			return -1;
		if (us < best)
			best = us;
	}
	return best;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void put(struct bpf_insn *v, size_t *n, uint8_t code, uint64_t dst, uint64_t src, int off,
		int32_t imm)
{
	v[(*n)++] = (struct bpf_insn){ code, (unsigned)(dst == 10 ? 10 : dst % 10), (unsigned)(src % 11),
				       (int16_t)off, imm };
}

/* a large program of typical shape: ALU work, stack traffic and forward
 * branches in 16-instruction groups */
static struct bpf_insn *synthetic(size_t groups, size_t *cnt)
{
	static const uint8_t alu[] = { 0x0f, 0x1f, 0x2f, 0x4f, 0x5f, 0xaf, 0x07, 0x27, 0x67, 0x77, 0x04, 0xbc };
	struct bpf_insn *v = calloc(groups * 16 + 16, sizeof(*v));
	size_t n = 0;
	uint64_t s = 88172645463325252ull;
	if (!v)
		return NULL;
	for (int r = 0; r < 10; r++)
		put(v, &n, 0xb7, (uint64_t)r, 0, 0, r);			/* mov rR, R */
	for (size_t g = 0; g < groups; g++) {
		for (int k = 0; k < 11; k++) {
			uint8_t c = alu[xorshift(&s) % sizeof(alu)];
			uint64_t d = xorshift(&s), r = xorshift(&s) % 10;
			if (c == 0x67 || c == 0x77)
				put(v, &n, c, d, 0, 0, (int32_t)(r * 6));	/* shifts */
			else if (c & 0x08)
				put(v, &n, c, d, r, 0, 0);			/* op dst, src */
			else
				put(v, &n, c, d, 0, 0, (int32_t)xorshift(&s));	/* op dst, imm */
		}
		uint64_t a = xorshift(&s), b = xorshift(&s);
		put(v, &n, 0x7b, 10, a, -8 * (int)(1 + b % 60), 0);		/* stxdw [r10-k], rA */
		a = xorshift(&s), b = xorshift(&s);
		put(v, &n, 0x79, a, 10, -8 * (int)(1 + b % 60), 0);		/* ldxdw rA, [r10-k] */
		a = xorshift(&s), b = xorshift(&s);
		put(v, &n, 0x2d, a, b % 10, 1 + (int)(a % 2), 0);		/* jgt rA, rB, +1|+2 */
		put(v, &n, 0x07, xorshift(&s), 0, 0, 1);			/* add rA, 1 */
		put(v, &n, 0x07, xorshift(&s), 0, 0, 2);			/* add rB, 2 */
	}
	put(v, &n, 0x95, 0, 0, 0, 0);					/* exit */
	*cnt = n;
	return v;
}

int main(void)
{
	uint64_t s = 1;
	for (size_t i = 0; i < INPUT_SZ; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		input[i] = (uint8_t)(s >> 56);
	}
	printf("bpfvm JIT benchmarks: ns per run (best of 5), input %d bytes\n\n", INPUT_SZ);
	printf("%-9s %6s %11s %11s %11s %11s %11s %9s %9s\n", "program", "insns", "interp",
	       "checked", "jit-checked", "jit", "native", "interp/jit", "jit/native");
	double cmp_sum[2] = { 0, 0 };
	size_t cmp_n = 0;
	for (size_t b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
		char path[256];
		snprintf(path, sizeof(path), "bench/programs/%s.s", benches[b].name);
		char *text = read_text(path);
		if (!text) {
			printf("%-9s (cannot read %s: run from the repository root)\n", benches[b].name, path);
			continue;
		}
		struct bpf_insn *v;
		size_t n;
		char err[256];
		if (bpfvm_asm(text, &v, &n, err, sizeof(err))) {
			printf("%-9s asm: %s\n", benches[b].name, err);
			free(text);
			continue;
		}
		free(text);
		struct bpfvm_prog *pu = load(v, n, false), *pv = load(v, n, true);
		if (!pu || !pv)
			return 1;
		uint64_t r[5];
		double t[5];
		t[0] = time_mode(pv, BPFVM_EXEC_INTERP, &r[0]);
		t[1] = time_mode(pu, BPFVM_EXEC_CHECKED, &r[1]);
		t[2] = time_mode(pu, BPFVM_EXEC_JIT, &r[2]);
		t[3] = time_mode(pv, BPFVM_EXEC_JIT, &r[3]);
		t[4] = time_native(benches[b].native, &r[4]);
		bool agree = r[0] == r[1] && r[1] == r[2] && r[2] == r[3] && r[3] == r[4];
		printf("%-9s %6zu %11.0f %11.0f %11.0f %11.0f %11.0f %9.1fx %8.2fx%s\n", benches[b].name, n,
		       t[0], t[1], t[2], t[3], t[4], t[0] / t[3], t[3] / t[4],
		       agree ? "" : "  RESULTS DIFFER");
		cmp_sum[0] += compile_us(v, n, false, 20);
		cmp_sum[1] += compile_us(v, n, true, 20);
		cmp_n++;
		bpfvm_prog_free(pu);
		bpfvm_prog_free(pv);
		free(v);
	}
	printf("\ninterp: fast interpreter (program trusted); checked: checked interpreter;\n"
	       "jit-checked: JIT code with bounds, alignment and budget checks (unverified\n"
	       "program); jit: JIT code for the program marked verified; native: the same\n"
	       "algorithm in C (%s).\n\n", "this file's CFLAGS");

	size_t big_n;
	struct bpf_insn *big = synthetic(6250, &big_n);
	if (!big)
		return 1;
	printf("compile time (best of several):\n");
	if (cmp_n)
		printf("  benchmark programs, us per program (mean):   checked %7.1f  unchecked %7.1f\n",
		       cmp_sum[0] / (double)cmp_n, cmp_sum[1] / (double)cmp_n);
	printf("  generated, %zu insns, us per 1,000 insns:  checked %7.1f  unchecked %7.1f\n", big_n,
	       compile_us(big, big_n, false, 3) * 1000.0 / (double)big_n,
	       compile_us(big, big_n, true, 3) * 1000.0 / (double)big_n);
	free(big);
	return 0;
}
