/* conformance_plugin.c — `bpfvm conformance-plugin`: the eBPF conformance
 * suite's plugin protocol (../shared/conformance/README.md).
 *
 * Program as hex on stdin, optional memory as the first argument, r1 = memory,
 * r2 = its length; prints r0 in hex, or the error message and exits 1.  The
 * suite's helper #5 ("return r1") is registered here: the library's helper
 * table keeps Linux's IDs (5 is ktime_get_ns there).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static uint64_t suite_helper5(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			      struct bpfvm_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return r1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bpfvm conformance-plugin [MEMORY-HEX] [--checked|--interp|--jit] [--budget N]\n\n"
		   "Reads a program as hex bytes on stdin, runs it with r1 = MEMORY, r2 = its\n"
		   "length, and prints r0 in hex.  On failure prints the error and exits 1.\n"
		   "  --checked   checked interpreter (default): every access bounds-checked\n"
		   "  --interp    fast interpreter (no checks: the suite's programs are trusted)\n"
		   "  --jit       native code\n"
		   "  --budget N  instruction budget in checked mode (default %llu)\n",
		BPFVM_DEFAULT_INSN_BUDGET);
}

int cmd_conformance_plugin(int argc, char **argv)
{
	const char *memhex = NULL;
	int mode = BPFVM_EXEC_CHECKED;
	uint64_t budget = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argv[i], "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(argv[i], "--jit", NULL)) {
			mode = BPFVM_EXEC_JIT;
		} else if (cli_opt(argv[i], "--interp", NULL)) {
			mode = BPFVM_EXEC_INTERP;
		} else if (cli_opt(argv[i], "--checked", NULL)) {
			mode = BPFVM_EXEC_CHECKED;
		} else if (cli_opt(argv[i], "--budget", NULL) && i + 1 < argc) {
			budget = strtoull(argv[++i], NULL, 0);
		} else if (strncmp(argv[i], "--", 2) != 0 && !memhex) {
			memhex = argv[i];
		} else {
			printf("unknown option %s\n", argv[i]);
			return 2;
		}
	}

	size_t text_sz, prog_sz, mem_sz = 0;
	uint8_t *text = cli_read_file("-", &text_sz);
	if (!text)
		return 1;
	uint8_t *code = cli_parse_hex((const char *)text, &prog_sz);
	free(text);
	if (!code || prog_sz % 8) {
		printf("program is not a whole number of hex-encoded 8-byte instructions\n");
		free(code);
		return 1;
	}
	uint8_t *mem = memhex ? cli_parse_hex(memhex, &mem_sz) : NULL;
	if (memhex && !mem) {
		printf("memory argument is not hex bytes\n");
		free(code);
		return 1;
	}

	char log[512] = "";
	struct bpfvm_helper h5 = { 5, "unwind", suite_helper5 };
	struct bpfvm_prog_opts popts = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	popts.helpers = &h5;
	popts.helper_cnt = 1;
	popts.log_buf = log;
	popts.log_size = sizeof(log);
	struct bpfvm_prog *prog = bpfvm_prog_from_insns((struct bpf_insn *)code, prog_sz / 8, &popts);
	free(code);
	if (!prog) {
		printf("%s\n", log[0] ? log : strerror(errno));
		free(mem);
		return 1;
	}

	char err[512] = "";
	struct bpfvm_run_opts ropts = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ropts.mem = mem;
	ropts.mem_sz = mem_sz;
	ropts.mode = mode;
	ropts.insn_budget = budget;
	ropts.err_buf = err;
	ropts.err_size = sizeof(err);
	int ret = bpfvm_prog_run(prog, &ropts);
	bpfvm_prog_free(prog);
	free(mem);
	if (ret) {
		printf("%s\n", err[0] ? err : strerror(-ret));
		return 1;
	}
	printf("0x%" PRIx64 "\n", ropts.retval);
	return 0;
}
