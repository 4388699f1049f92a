/* asm.c — `bpfvm asm`: assemble text into raw little-endian bytecode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bpfvm asm FILE.s [-o OUT]\n\n"
		"Assemble FILE.s (\"-\" is stdin) and write the bytecode, 8 little-endian\n"
		"bytes per instruction, to OUT or to stdout.  The dialect is the eBPF\n"
		"conformance suite's (mov32 %%r0, 1 / ldxw %%r0, [%%r1+4] / jeq %%r1, 5, label /\n"
		"call local f / lock fetch add [%%r10-8], %%r1 / labels name: / # comments)\n"
		"and whatever `bpfvm disasm` prints.\n"
		"  -o, --output OUT   write to OUT instead of stdout\n");
}

int cmd_asm(int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_opt(a, "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(a, "--output", "-o")) {
			if (i + 1 >= argc)
				return cli_error("asm", "%s needs a file name", a);
			out = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			return cli_error("asm", "unknown option '%s' (see bpfvm asm --help)", a);
		} else if (!file) {
			file = a;
		} else {
			return cli_error("asm", "more than one input file given");
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}

	size_t size;
	uint8_t *text = cli_read_file(file, &size);
	if (!text)
		return 1;
	if (memchr(text, 0, size)) {
		free(text);
		return cli_error("asm", "%s: not a text file (it contains NUL bytes)", file);
	}
	struct bpf_insn *insns;
	size_t cnt;
	char err[256];
	int ret = bpfvm_asm((const char *)text, &insns, &cnt, err, sizeof(err));
	free(text);
	if (ret)
		return cli_error("asm", "%s: %s", file, err);

	if (!out && isatty(STDOUT_FILENO)) {
		free(insns);
		return cli_error("asm", "not writing bytecode to a terminal: use -o OUT or a pipe");
	}
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		free(insns);
		return cli_error("asm", "cannot open %s: %s", out, strerror(errno));
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct bpf_insn *in = &insns[i];
		uint8_t b[8] = { in->code, (uint8_t)(in->dst_reg | in->src_reg << 4),
				 (uint8_t)in->off, (uint8_t)((uint16_t)in->off >> 8) };
		for (int j = 0; j < 4; j++)
			b[4 + j] = (uint8_t)((uint32_t)in->imm >> (8 * j));
		fwrite(b, 1, sizeof(b), f);
	}
	free(insns);
	bool bad = ferror(f);
	if (f != stdout ? fclose(f) != 0 : fflush(f) != 0)
		bad = true;
	if (bad)
		return cli_error("asm", "cannot write %s", out ? out : "stdout");
	return 0;
}
