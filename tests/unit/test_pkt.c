/* test_pkt.c — packet runners and test runs without the kernel: verdict
 * decoding per hook, output packets, redirects, VLAN untagging at TC ingress,
 * socket-filter truncation, the context in low memory, input checks, and a
 * packets-per-second figure for the XDP firewall (printed, not judged).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpfvm.h"
#include "bpfvm/pkt.h"
#include "testutil.h"

#ifndef OBJ_DIR
#define OBJ_DIR "tests/objects/"
#endif

static struct bpfvm_object *open_obj(const char *file)
{
	char path[256], log[512] = "";
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	snprintf(path, sizeof(path), OBJ_DIR "%s", file);
	struct bpfvm_object *o = bpfvm_object_open(path, &oo);
	if (!o || bpfvm_object_load(o)) {
		fprintf(stderr, "%s: %s\n", path, log);
		return NULL;
	}
	return o;
}

static void set_params(struct bpfvm_object *o, const uint64_t *p, int n)
{
	struct bpfvm_map *bss = bpfvm_object_find_map(o, ".bss");
	uint64_t io[24] = { 0 };
	uint32_t k = 0;
	memcpy(io, p, (size_t)n * 8);
	bpfvm_map_update_elem(bss, &k, io, 0);
}

static uint64_t result(struct bpfvm_object *o, int i)
{
	struct bpfvm_map *bss = bpfvm_object_find_map(o, ".bss");
	uint64_t io[24];
	uint32_t k = 0;
	bpfvm_map_lookup_elem(bss, &k, io);
	return io[8 + i];
}

static void frame(uint8_t *b, uint32_t len, uint16_t proto)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	b[0] = 0x02;	/* unicast */
	b[12] = (uint8_t)(proto >> 8);
	b[13] = (uint8_t)proto;
}

static void test_xdp(void)
{
	struct bpfvm_object *o = open_obj("pkt_xdp.bpf.o");
	CHECK(o != NULL);
	if (!o)
		return;
	uint8_t pkt[128];
	struct bpfvm_pkt_result res;
	frame(pkt, sizeof(pkt), 0x0800);
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_JIT; mode++) {
		struct bpfvm_pkt_runner_opts ro = BPFVM_OPTS_INIT(bpfvm_pkt_runner_opts);
		ro.mode = mode;
		ro.ifindex = 7;
		ro.rx_queue_index = 3;
		/* xdp_ctx: returns p[2], reports the context */
		struct bpfvm_pkt_runner *r =
			bpfvm_pkt_runner_new(bpfvm_object_find_prog(o, "xdp_ctx"), BPFVM_PKT_HOOK_XDP, &ro);
		CHECK(r != NULL);
		uint64_t p[3] = { 0, 0, 2 };
		set_params(o, p, 3);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.action, BPFVM_PKT_PASS);
		CHECK_EQ(res.len, sizeof(pkt));
		CHECK_EQ(result(o, 0), sizeof(pkt));
		CHECK_EQ(result(o, 2), 7);
		CHECK_EQ(result(o, 3), 3);
		p[2] = 9;	/* not an XDP action */
		set_params(o, p, 3);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.action, BPFVM_PKT_ABORTED);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, 13, &res), -EINVAL);
		/* a jumbo frame becomes a multi-buffer packet */
		static uint8_t big[9000];
		frame(big, sizeof(big), 0x86dd);
		p[2] = 1;
		set_params(o, p, 3);
		CHECK_EQ(bpfvm_pkt_runner_run(r, big, sizeof(big), &res), 0);
		CHECK_EQ(res.action, BPFVM_PKT_DROP);
		CHECK_EQ(result(o, 0), 3520);
		CHECK_EQ(result(o, 4), 9000);
		CHECK_EQ(res.len, 9000);
		CHECK(res.data && memcmp(res.data + 1, big + 1, 8999) == 0);
		bpfvm_pkt_runner_free(r);

		/* xdp_adjust: head -14 and tail -20 show in the output */
		r = bpfvm_pkt_runner_new(bpfvm_object_find_prog(o, "xdp_adjust"), BPFVM_PKT_HOOK_XDP, &ro);
		uint64_t q[4] = { (uint64_t)-14, (uint64_t)-8, (uint64_t)-20, 0 | 1 << 2 | 2 << 4 };
		set_params(o, q, 4);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(result(o, 0), 0);
		CHECK_EQ(result(o, 1), 0);
		CHECK_EQ(result(o, 2), 0);
		CHECK_EQ(res.len, sizeof(pkt) + 14 - 20);
		CHECK_EQ(res.meta_len, 8);
		CHECK(memcmp(res.data + 14, pkt, sizeof(pkt) - 20) == 0);
		q[0] = (uint64_t)-300;	/* beyond the 216 usable bytes */
		set_params(o, q, 4);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(result(o, 0), (uint64_t)-EINVAL);
		bpfvm_pkt_runner_free(r);

		/* redirects: to an ifindex, through a DEVMAP slot, a failed lookup */
		r = bpfvm_pkt_runner_new(bpfvm_object_find_prog(o, "xdp_redir"), BPFVM_PKT_HOOK_XDP, &ro);
		uint64_t d[3] = { 0, 42, 0 };
		set_params(o, d, 3);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.action, BPFVM_PKT_REDIRECT);
		CHECK_EQ(res.redirect_ifindex, 42);
		CHECK(res.redirect_map == NULL);
		uint32_t key = 3, val = 9;
		bpfvm_map_update_elem(bpfvm_object_find_map(o, "devs"), &key, &val, 0);
		uint64_t e[3] = { 1, 3, 0 };
		set_params(o, e, 3);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.action, BPFVM_PKT_REDIRECT);
		CHECK(res.redirect_map == bpfvm_object_find_map(o, "devs"));
		CHECK(res.redirect_value && *(const uint32_t *)res.redirect_value == 9);
		uint64_t f[3] = { 1, 4, 2 };	/* empty slot: the flags' action, XDP_PASS */
		set_params(o, f, 3);
		CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.retval, 2);
		CHECK_EQ(res.action, BPFVM_PKT_PASS);
		bpfvm_map_delete_elem(bpfvm_object_find_map(o, "devs"), &key);
		bpfvm_pkt_runner_free(r);
	}
	/* a TC program cannot run at the XDP hook */
	struct bpfvm_object *t = open_obj("pkt_tc.bpf.o");
	if (t) {
		errno = 0;
		CHECK(bpfvm_pkt_runner_new(bpfvm_object_find_prog(t, "tc_ctx"), BPFVM_PKT_HOOK_XDP, NULL) == NULL);
		CHECK_EQ(errno, EINVAL);
		bpfvm_object_close(t);
	}
	bpfvm_object_close(o);
}

static void test_skb(void)
{
	struct bpfvm_object *o = open_obj("pkt_tc.bpf.o");
	struct bpfvm_object *s = open_obj("pkt_sock.bpf.o");
	CHECK(o && s);
	if (!o || !s)
		return;
	uint8_t pkt[80];
	struct bpfvm_pkt_result res;
	frame(pkt, sizeof(pkt), 0x8100);	/* VLAN-tagged */
	pkt[14] = 0x20;
	pkt[15] = 0x05;	/* TCI 0x2005 */
	pkt[16] = 0x08;
	pkt[17] = 0x00;
	/* TC ingress: the outer tag moves to the skb's vlan fields */
	struct bpfvm_pkt_runner *r = bpfvm_pkt_runner_new(bpfvm_object_find_prog(o, "tc_ctx"),
							  BPFVM_PKT_HOOK_TC_INGRESS, NULL);
	CHECK(r != NULL);
	uint64_t p[8] = { 0x1234, 5, 1, 0xabcd, 7, 99, 0x10002, 0x207 };
	set_params(o, p, 8);
	CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
	CHECK_EQ(res.retval, 2);	/* p[7] >> 8: TC_ACT_SHOT */
	CHECK_EQ(res.action, BPFVM_PKT_DROP);
	CHECK_EQ(res.len, sizeof(pkt) - 4);
	CHECK(res.vlan_present);
	CHECK_EQ(res.vlan_tci, 0x2005);
	CHECK_EQ(result(o, 0) & 0xffffffff, sizeof(pkt) - 4);
	CHECK_EQ(result(o, 2) & 0xffff, 0x0008);	/* protocol IPv4, network order */
	CHECK_EQ(res.mark, 0x1234);
	CHECK_EQ(res.priority, 5);
	CHECK_EQ(res.cb[1], 0xabcd);
	CHECK_EQ(res.tc_index, 2);	/* 16 bits stored */
	CHECK_EQ(res.queue_mapping, 7);
	CHECK(memcmp(res.data, pkt, 12) == 0 && memcmp(res.data + 12, pkt + 16, 64) == 0);
	bpfvm_pkt_runner_free(r);

	/* socket filter: data from the MAC header; r0 is the bytes to keep */
	r = bpfvm_pkt_runner_new(bpfvm_object_find_prog(s, "sock_filter"), BPFVM_PKT_HOOK_SOCKET_FILTER,
				 NULL);
	uint64_t q[6] = { 12, 0, 0, 0, 0, 20 };
	set_params(s, q, 6);
	CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
	CHECK_EQ(res.action, BPFVM_PKT_PASS);
	CHECK_EQ(res.len, 20);
	CHECK_EQ(result(s, 7), 0);
	CHECK_EQ(result(s, 8) & 0xffff, 0x0081);	/* the bytes at offset 12 */
	q[5] = 0;
	set_params(s, q, 6);
	CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
	CHECK_EQ(res.action, BPFVM_PKT_DROP);
	q[5] = 100000;
	set_params(s, q, 6);
	CHECK_EQ(bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res), 0);
	CHECK_EQ(res.len, sizeof(pkt));
	bpfvm_pkt_runner_free(r);

	/* test run: socket filters start at the network header, and the
	 * output's Ethernet header is zeroed; errno for bad input */
	struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	uint8_t out[200];
	frame(pkt, sizeof(pkt), 0x0806);
	t.data_in = pkt;
	t.data_size_in = sizeof(pkt);
	t.data_out = out;
	t.data_size_out = sizeof(out);
	q[5] = 3;
	set_params(s, q, 6);
	CHECK_EQ(bpfvm_prog_test_run(bpfvm_object_find_prog(s, "sock_filter"), &t), 0);
	CHECK_EQ(t.retval, 3);
	CHECK_EQ(t.data_size_out, sizeof(pkt));
	CHECK_EQ(result(s, 0) & 0xffffffff, sizeof(pkt) - 14);
	CHECK(out[0] == 0 && out[13] == 0 && memcmp(out + 14, pkt + 14, sizeof(pkt) - 14) == 0);
	t.data_size_in = 13;
	CHECK_EQ(bpfvm_prog_test_run(bpfvm_object_find_prog(s, "sock_filter"), &t), -EINVAL);
	t.data_size_in = sizeof(pkt);
	t.data_size_out = 10;
	CHECK_EQ(bpfvm_prog_test_run(bpfvm_object_find_prog(s, "sock_filter"), &t), -ENOSPC);
	CHECK_EQ(t.data_size_out, sizeof(pkt));
	bpfvm_object_close(o);
	bpfvm_object_close(s);
}

/* the raw entry: a packet helper without a packet context stops the run */
static void test_no_ctx(void)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = 188 },	/* bpf_xdp_get_buff_len */
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpfvm_prog *p = bpfvm_prog_from_insns(prog, 2, NULL);
	CHECK(p != NULL);
	if (!p)
		return;
	char err[200] = "";
	struct bpfvm_run_opts ro = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ro.err_buf = err;
	ro.err_size = sizeof(err);
	CHECK_EQ(bpfvm_prog_run(p, &ro), -EINVAL);
	CHECK_CONTAINS(err, "needs a packet");
	bpfvm_prog_free(p);
}

static void bench_xdp_fw(void)
{
	struct bpfvm_object *o = open_obj("xdp_fw.bpf.o");
	if (!o)
		return;
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_JIT; mode++) {
		struct bpfvm_pkt_runner_opts ro = BPFVM_OPTS_INIT(bpfvm_pkt_runner_opts);
		ro.mode = mode;
		struct bpfvm_pkt_runner *r =
			bpfvm_pkt_runner_new(bpfvm_object_find_prog(o, "xdp_firewall"), BPFVM_PKT_HOOK_XDP, &ro);
		uint8_t pkt[64];
		struct bpfvm_pkt_result res;
		frame(pkt, sizeof(pkt), 0x0800);
		pkt[14] = 0x45;
		pkt[22] = 64;
		struct timespec a, b;
		const int n = 200000;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int bad = 0;
		for (int i = 0; i < n; i++) {
			pkt[26] = (uint8_t)i;
			bad += bpfvm_pkt_runner_run(r, pkt, sizeof(pkt), &res) != 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		CHECK_EQ(bad, 0);
		double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		printf("xdp_fw runner, %s: %.2f M packets/s\n", mode == BPFVM_EXEC_CHECKED ? "checked"
		       : mode == BPFVM_EXEC_INTERP ? "interp" : "jit",
		       n / s / 1e6);
		bpfvm_pkt_runner_free(r);
	}
	bpfvm_object_close(o);
}

int main(void)
{
	test_xdp();
	test_skb();
	test_no_ctx();
	bench_xdp_fw();
	return TEST_DONE();
}
