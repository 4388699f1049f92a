/* test_perf_ctx.c — bpf_perf_event_output appending packet bytes
 * (BPF_F_CTXLEN_MASK), with tests/objects/perf_ctx.bpf.o.
 *
 * For an XDP program (a one-page frame and a multi-buffer one whose bytes
 * run on into fragments), a TC and a socket filter program: every record's
 * raw data must be the program's 8-byte header followed by exactly the first
 * N bytes of the packet as the program sees it (from the MAC header for XDP
 * and TC, from the network header for a socket filter), padded as the
 * kernel's PERF_SAMPLE_RAW; N = 0 appends nothing; N one past the packet
 * (or the largest length the 20-bit mask holds) is -EFAULT and writes no
 * record; flag bits outside the index and CTXLEN masks are -EINVAL.  A kprobe program gets the tracing helper, which takes
 * no CTXLEN bits (-EINVAL) but writes a plain record without them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/object.h"
#include "bpfvm/pkt.h"
#include "testutil.h"

#define OBJ "tests/objects/perf_ctx.bpf.o"

static uint8_t last[70000];
static uint32_t last_size;
static int samples;

static void on_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	(void)ctx, (void)cpu;
	samples++;
	last_size = size;
	memcpy(last, data, size < sizeof(last) ? size : sizeof(last));
}

struct hdr {
	uint32_t magic, len;
};

/* Run `prog` on pkt with the given flags; returns the helper's result.
 * Runs alternate between the interpreter and the JIT. */
static int64_t run(struct bpfvm_object *obj, struct bpfvm_prog *p, const uint8_t *pkt,
		   uint32_t len, uint64_t flags)
{
	int64_t res = 12345;
	static uint8_t ctx[64];
	static unsigned runs;
	struct bpfvm_test_run_opts o = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	o.mode = runs++ % 2 ? BPFVM_EXEC_JIT : BPFVM_EXEC_INTERP;

	uint32_t k = 0;
	CHECK_EQ(bpfvm_map_update_elem(bpfvm_object_find_map(obj, "params"), &k, &flags, 0), 0);
	if (pkt) {
		o.data_in = pkt;
		o.data_size_in = len;
	} else {
		o.ctx_in = ctx;	/* a kprobe: pt_regs as plain memory */
		o.ctx_size_in = sizeof(ctx);
	}
	CHECK_EQ(bpfvm_prog_test_run(p, &o), 0);
	CHECK_EQ(bpfvm_object_get_global(obj, "res", &res, sizeof(res)), 8);
	return res;
}

/* The record just written: header, then `want` bytes, then padding. */
static void check_record(struct bpfvm_perf_buffer *pb, uint32_t magic, uint32_t len,
			 const uint8_t *want, uint32_t n)
{
	samples = 0;
	CHECK_EQ(bpfvm_perf_buffer_consume(pb) >= 0, 1);
	CHECK_EQ(samples, 1);
	if (samples != 1)
		return;
	CHECK_EQ(last_size, ((8 + n + 4 + 7) & ~7u) - 4);
	struct hdr h;
	memcpy(&h, last, sizeof(h));
	CHECK_EQ(h.magic, magic);
	CHECK_EQ(h.len, len);
	if (n)
		CHECK(memcmp(last + 8, want, n) == 0);
}

static void no_record(struct bpfvm_perf_buffer *pb)
{
	samples = 0;
	bpfvm_perf_buffer_consume(pb);
	CHECK_EQ(samples, 0);
}

#define CTXLEN(n) ((uint64_t)(n) << 32)
#define CUR BPFVM_F_CURRENT_CPU

static void test_prog(struct bpfvm_object *obj, struct bpfvm_perf_buffer *pb, const char *name,
		      uint32_t magic, const uint8_t *pkt, uint32_t len, uint32_t skip)
{
	struct bpfvm_prog *p = bpfvm_object_find_prog(obj, name);
	uint32_t seen = len - skip;	/* socket filters start at the network header */
	const uint32_t ns[] = { 0, 1, 14, 60, seen - 1, seen };

	CHECK(p != NULL);
	if (!p)
		return;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		CHECK_EQ(run(obj, p, pkt, len, CUR | CTXLEN(ns[i])), 0);
		check_record(pb, magic, seen, pkt + skip, ns[i]);
	}
	CHECK_EQ(run(obj, p, pkt, len, CUR | CTXLEN(seen + 1)), -EFAULT);
	no_record(pb);
	CHECK_EQ(run(obj, p, pkt, len, CUR | CTXLEN(0xfffff)), -EFAULT);	/* the mask's top */
	no_record(pb);
	CHECK_EQ(run(obj, p, pkt, len, CUR | CTXLEN(0x100004)), -EINVAL);	/* past the mask */
	no_record(pb);
	CHECK_EQ(run(obj, p, pkt, len, 7 | CTXLEN(4)), -E2BIG);	/* index past the array */
	no_record(pb);
}

int main(void)
{
	char log[8192] = "";
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	struct bpfvm_object *obj = bpfvm_object_open(OBJ, &oo);
	CHECK(obj != NULL);
	if (!obj || bpfvm_object_load(obj) != 0) {
		fprintf(stderr, "%s\n", log);
		CHECK(0);
		return TEST_DONE();
	}
	struct bpfvm_map *events = bpfvm_object_find_map(obj, "events");
	struct bpfvm_perf_buffer *pb = bpfvm_perf_buffer_new(events, 32, on_sample, NULL, NULL, NULL);
	CHECK(pb != NULL);
	if (!pb)
		return TEST_DONE();

	/* an IPv4 frame; the big one becomes a multi-buffer XDP packet */
	static uint8_t pkt[9000];
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + (i >> 8));
	pkt[12] = 0x08;
	pkt[13] = 0x00;
	pkt[14] = 0x45;

	test_prog(obj, pb, "xdp_out", 0x58445021, pkt, 64, 0);
	test_prog(obj, pb, "xdp_out", 0x58445021, pkt, 9000, 0);	/* into the fragments */
	test_prog(obj, pb, "tc_out", 0x54432121, pkt, 64, 0);
	test_prog(obj, pb, "tc_out", 0x54432121, pkt, 1514, 0);
	test_prog(obj, pb, "sock_out", 0x534f4321, pkt, 1514, 14);

	/* the tracing variant: no CTXLEN bits */
	struct bpfvm_prog *kp = bpfvm_object_find_prog(obj, "kprobe_out");
	CHECK(kp != NULL);
	if (kp) {
		CHECK_EQ(run(obj, kp, NULL, 0, CUR | CTXLEN(1)), -EINVAL);
		no_record(pb);
		CHECK_EQ(run(obj, kp, NULL, 0, CUR), 0);
		check_record(pb, 0x4b505221, 0, NULL, 0);
	}
	bpfvm_perf_buffer_free(pb);
	bpfvm_object_close(obj);
	return TEST_DONE();
}
