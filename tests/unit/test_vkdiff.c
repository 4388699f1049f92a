/* test_vkdiff.c — regressions found by the verifier's differential fuzzer
 * (tests/vkdiff/vkdiff.c) that a single tests/verifier/NAME.data case cannot
 * express.
 *
 * A PROG_ARRAY is bound to one program type, as the kernel's map owner
 * (bpf_prog_map_compatible): the first program that references it (at
 * verification) or is stored into it decides.  Without that, a verified XDP
 * program could tail-call a verified socket filter, which reads __sk_buff
 * fields past the 24-byte xdp_md it is handed — unchecked, in the fast
 * interpreter and the JIT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "bpfvm.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"

static struct bpfvm_prog *load(const char *src, struct bpfvm_map **maps, size_t n, uint32_t type,
			       int *verr)
{
	struct bpf_insn *in = NULL;
	size_t cnt = 0;
	char log[4096];
	if (bpfvm_asm(src, &in, &cnt, log, sizeof(log)))
		return NULL;
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.maps = maps;
	po.map_cnt = n;
	struct bpfvm_prog *p = bpfvm_prog_from_insns(in, cnt, &po);
	free(in);
	if (!p)
		return NULL;
	p->type = type;
	*verr = bpfvm_prog_verify(p, NULL);
	return p;
}

static void test_prog_array_owner(void)
{
	struct bpfvm_map *pa = bpfvm_map_create(BPFVM_MAP_TYPE_PROG_ARRAY, "pa", 4, 4, 2, NULL);
	CHECK(pa != NULL);
	if (!pa)
		return;
	int e1 = -1, e2 = -1, e3 = -1;
	/* reads skb->cb[4]: ctx+64 */
	struct bpfvm_prog *sf = load("ldxw %r0, [%r1+64]\nexit\n", NULL, 0, 1, &e1);
	struct bpfvm_prog *xp = load("lddw %r2, map_idx 0\nmov %r3, 0\ncall 12\nmov %r0, 2\nexit\n",
				     &pa, 1, 6, &e2);
	CHECK(sf && xp);
	if (!sf || !xp)
		goto out;
	CHECK_EQ(e1, 0);
	CHECK_EQ(e2, 0);	/* binds pa to XDP */
	uint32_t k = 0;
	int fd = bpfvm_prog_fd(sf);
	CHECK_EQ(bpfvm_map_update_elem(pa, &k, &fd, 0), -EINVAL);	/* a socket filter: refused */
	/* an XDP program may go in */
	struct bpfvm_prog *x2 = load("mov %r0, 1\nexit\n", NULL, 0, 6, &e3);
	CHECK(x2 != NULL);
	if (x2) {
		fd = bpfvm_prog_fd(x2);
		CHECK_EQ(bpfvm_map_update_elem(pa, &k, &fd, 0), 0);
	}
	/* a socket filter referencing the XDP-bound array is refused at load */
	int e4 = 0;
	struct bpfvm_prog *s2 = load("lddw %r2, map_idx 0\nmov %r0, 0\nexit\n", &pa, 1, 1, &e4);
	CHECK(s2 != NULL);
	CHECK_EQ(e4, -EINVAL);
	CHECK(s2 && !bpfvm_prog_is_verified(s2));
	/* the tail call runs the XDP program: r0 = 1, no fault in any mode */
	for (int mode = BPFVM_EXEC_CHECKED; mode <= BPFVM_EXEC_JIT; mode++) {
		uint8_t pkt[64];
		char err[256] = "";
		memset(pkt, 0, sizeof(pkt));
		struct bpfvm_test_run_opts o;
		memset(&o, 0, sizeof(o));
		o.sz = sizeof(o);
		o.data_in = pkt;
		o.data_size_in = sizeof(pkt);
		o.mode = mode;
		o.err_buf = err;
		o.err_size = sizeof(err);
		CHECK_EQ(bpfvm_prog_test_run(xp, &o), 0);
		CHECK_EQ(o.retval, 1);
	}
	bpfvm_prog_free(x2);
	bpfvm_prog_free(s2);
out:
	bpfvm_map_free(pa);	/* clears the slots */
	bpfvm_prog_free(sf);
	bpfvm_prog_free(xp);
}

int main(void)
{
	test_prog_array_owner();
	return TEST_DONE();
}
