/* fuzz_cbpf.c — libFuzzer target for classic BPF (hooks/cbpf.c, hooks/seccomp.c).
 *
 * The input is parsed as a classic program (tcpdump -dd/-ddd text or a raw
 * sock_filter array), checked and translated as a socket filter and as a
 * seccomp filter.  Accepted programs run on packets cut from the input, in the
 * checked interpreter: a translation that touches memory outside the stack, the
 * context or the packet faults there, which aborts.  The fast interpreter must
 * then give the same result (unless the program reads SKF_AD_RANDOM).  Refusals must come with a message.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/cbpf.h"
#include "hooks/cbpf.h"

static bool random_used; /* SKF_AD_RANDOM: two runs may differ */

static void run_both(struct bpfvm_prog *p, const void *ctx, const uint8_t *pkt, uint32_t len)
{
	uint8_t ctxbuf[64];
	uint64_t r_checked = 0, r_fast = 0;
	char err[256] = "";
	memcpy(ctxbuf, ctx, sizeof(ctxbuf));
	if (cbpf_exec(p, ctxbuf, sizeof(ctxbuf), pkt, len, true, &r_checked, err, sizeof(err))) {
		fprintf(stderr, "checked run failed: %s\n", err);
		abort(); /* the translation faulted */
	}
	if (cbpf_exec(p, ctxbuf, sizeof(ctxbuf), pkt, len, false, &r_fast, NULL, 0))
		abort();
	if ((r_checked != r_fast && !random_used) || r_checked >> 32)
		abort(); /* modes disagree, or a classic result wider than 32 bits */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfvm_sock_filter *f = NULL;
	size_t n = 0;
	char err[256] = "";
	/* the program is the first part; the packet the rest */
	size_t split = size;
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '#' && data[i + 1] == '#') {
			split = i;
			break;
		}
	if (bpfvm_cbpf_parse(data, split, &f, &n, err, sizeof(err))) {
		if (!err[0] && split)
			abort();
		return 0;
	}
	random_used = false;
	for (size_t i = 0; i < n; i++)
		random_used |= BPF_CLASS(f[i].code) == BPF_LD && BPF_MODE(f[i].code) == BPF_ABS &&
			       f[i].k == (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM);
	const uint8_t *pkt = data + (split < size ? split + 2 : size);
	uint32_t len = (uint32_t)(data + size - pkt);
	char log[256] = "";
	struct bpfvm_cbpf_opts o = BPFVM_OPTS_INIT(bpfvm_cbpf_opts);
	o.log_buf = log;
	o.log_size = sizeof(log);
	struct bpfvm_prog *p = bpfvm_cbpf_compile(f, n, &o);
	if (!p && !log[0])
		abort();
	if (p) {
		union {
			struct bpfvm_cbpf_ctx c;
			uint8_t b[64];
		} ctx;
		memset(&ctx, 0, sizeof(ctx));
		bpfvm_cbpf_ctx_init(&ctx.c, pkt, len, len + 3);
		run_both(p, &ctx, pkt, len);
		run_both(p, &ctx, pkt, len / 2);
		run_both(p, &ctx, NULL, 0);
		bpfvm_prog_free(p);
	}
	log[0] = 0;
	p = bpfvm_seccomp_compile(f, n, &o);
	if (!p && !log[0])
		abort();
	if (p) {
		uint8_t sd[64] = { 0 };
		memcpy(sd, pkt, len < sizeof(sd) ? len : sizeof(sd));
		run_both(p, sd, NULL, 0);
		bpfvm_prog_free(p);
	}
	char *text = bpfvm_cbpf_disasm(f, n);
	free(text);
	free(f);
	return 0;
}
