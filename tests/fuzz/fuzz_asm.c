/* fuzz_asm.c — libFuzzer target for the assembler and the disassembler.
 *
 * Each input is tried twice: as assembly text (whatever assembles must
 * disassemble and reassemble to the same bytes) and as raw bytecode, 8 bytes
 * per instruction (any bytes at all must disassemble, with every flag, and
 * reassemble unchanged; disasm_insn must handle every slot).  A mismatch
 * aborts with both programs printed.  Build with `make fuzz`; run e.g.
 *   build-fuzz/fuzz_asm -max_total_time=60 -max_len=4096
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "isa/disasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct bpf_insn *p, size_t n, unsigned flags)
{
	char *text = bpfvm_disasm(p, n, flags);
	if (!text)
		abort(); /* only ENOMEM */
	struct bpf_insn *back = NULL;
	size_t cnt = 0;
	char err[256] = "";
	if (bpfvm_asm(text, &back, &cnt, err, sizeof(err)) || cnt != n ||
	    memcmp(back, p, n * sizeof(*p))) {
		fprintf(stderr, "round trip failed (flags %u): %s\n%s", flags, err, text);
		abort();
	}
	free(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* as text */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct bpf_insn *p = NULL;
	size_t n = 0;
	char err[256];
	if (!bpfvm_asm(text, &p, &n, err, sizeof(err))) {
		roundtrip(p, n, size ? data[0] & 3 : 0);
		free(p);
	}
	free(text);

	/* as bytecode */
	n = size / sizeof(struct bpf_insn);
	if (!n)
		return 0;
	p = malloc(n * sizeof(*p));
	if (!p)
		return 0;
	memcpy(p, data, n * sizeof(*p));
	for (unsigned flags = 0; flags < 4; flags++)
		roundtrip(p, n, flags);
	for (size_t pc = 0; pc < n; pc++) {
		char line[DISASM_INSN_MAX];
		int slots = disasm_insn(p, n, pc, line, sizeof(line));
		if (slots < 1 || slots > 2 || strlen(line) >= sizeof(line) - 1)
			abort();
	}
	free(p);
	return 0;
}
