/* fuzz_pkt.c — libFuzzer target for the packet paths: the input chooses a
 * program of tests/objects/pkt_{xdp,tc,sock}.bpf.o, its parameters (the
 * programs' p[] in .bss) and the packet; it runs through a checked packet
 * runner (every helper argument and packet access checked) and through
 * bpfvm_prog_test_run() with a fuzzed context.  Any crash or sanitizer
 * report is a finding; run errors are expected.  Run from the repository
 * root (make fuzz builds build-fuzz/fuzz_pkt).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bpfvm_object *objs[3];
static const char *files[3] = { "tests/objects/pkt_xdp.bpf.o", "tests/objects/pkt_tc.bpf.o",
				"tests/objects/pkt_sock.bpf.o" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 + 64)
		return 0;
	int which = data[0] % 3;
	if (!objs[which]) {
		objs[which] = bpfvm_object_open(files[which], NULL);
		if (!objs[which] || bpfvm_object_load(objs[which]))
			abort();	/* the fuzzer must run from the repository root */
	}
	struct bpfvm_object *o = objs[which];
	size_t n = bpfvm_object_prog_cnt(o);
	struct bpfvm_prog *prog = bpfvm_object_prog(o, data[1] % n);
	uint32_t type = bpfvm_prog_type(prog);
	uint64_t io[24] = { 0 };
	uint32_t k = 0;
	memcpy(io, data + 2, 64);
	bpfvm_map_update_elem(bpfvm_object_find_map(o, ".bss"), &k, io, 0);
	const uint8_t *pkt = data + 66;
	uint32_t len = (uint32_t)(size - 66);

	int hook = type == 6 ? BPFVM_PKT_HOOK_XDP
		   : type == 1 ? BPFVM_PKT_HOOK_SOCKET_FILTER
		   : type == 8 ? BPFVM_PKT_HOOK_CGROUP_SKB_INGRESS
			       : (data[1] & 0x80) ? BPFVM_PKT_HOOK_TC_EGRESS : BPFVM_PKT_HOOK_TC_INGRESS;
	struct bpfvm_pkt_runner_opts ro = BPFVM_OPTS_INIT(bpfvm_pkt_runner_opts);
	ro.mode = BPFVM_EXEC_CHECKED;
	ro.insn_budget = 100000;
	struct bpfvm_pkt_runner *r = bpfvm_pkt_runner_new(prog, hook, &ro);
	if (r) {
		struct bpfvm_pkt_result res;
		if (bpfvm_pkt_runner_run(r, pkt, len, &res) == 0 && res.len)
			(void)(volatile uint8_t)res.data[res.len - 1];
		bpfvm_pkt_runner_free(r);
	}

	/* the test-run path, the packet's first bytes doubling as ctx_in */
	static uint8_t out[80000], ctx_out[256];
	struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	t.data_in = pkt;
	t.data_size_in = len;
	t.data_out = out;
	t.data_size_out = sizeof(out);
	t.mode = BPFVM_EXEC_CHECKED;
	if (data[1] & 0x40 && len >= 24) {
		t.ctx_in = pkt;
		t.ctx_size_in = len < 200 ? len : 200;
		t.ctx_out = ctx_out;
		t.ctx_size_out = sizeof(ctx_out);
	}
	(void)bpfvm_prog_test_run(prog, &t);
	return 0;
}
