/* disasm.c — `bpfvm disasm`: print a program (bytecode or assembly) as text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bpfvm disasm FILE [--raw] [--no-index]\n\n"
		"Print the program in FILE (raw little-endian bytecode or assembly text;\n"
		"\"-\" is stdin) in the dialect `bpfvm asm` reads back, one instruction per\n"
		"line, with labels at jump and call targets.  Bytes that are not a valid\n"
		"instruction print as `.insn 0x...` with a comment saying why.\n"
		"  --raw        append each instruction's bytes as a comment\n"
		"  --no-index   do not prefix lines with the instruction index\n");
}

int cmd_disasm(int argc, char **argv)
{
	const char *file = NULL;
	unsigned int flags = BPFVM_DISASM_INDEX;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cli_opt(a, "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(a, "--raw", NULL)) {
			flags |= BPFVM_DISASM_RAW;
		} else if (cli_opt(a, "--no-index", NULL)) {
			flags &= ~(unsigned int)BPFVM_DISASM_INDEX;
		} else if (a[0] == '-' && a[1]) {
			return cli_error("disasm", "unknown option '%s' (see bpfvm disasm --help)", a);
		} else if (!file) {
			file = a;
		} else {
			return cli_error("disasm", "more than one input file given");
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}

	struct bpf_insn *insns;
	size_t cnt;
	if (cli_load_insns(file, &insns, &cnt))
		return 1;
	char *text = bpfvm_disasm(insns, cnt, flags);
	free(insns);
	if (!text)
		return cli_error("disasm", "%s: %s", file, strerror(errno));
	fputs(text, stdout);
	free(text);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error("disasm", "cannot write stdout");
	return 0;
}
