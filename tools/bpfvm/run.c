/* run.c — `bpfvm run`: run a program (bytecode or assembly) on memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bpfvm run FILE [--mem HEX | --mem-file F] [--repeat N]\n"
		"                 [--checked | --interp | --jit] [--budget N] [--json]\n\n"
		"Run the program in FILE (raw little-endian bytecode, or assembly text) with\n"
		"r1 = a private copy of the memory and r2 = its length; print r0.\n"
		"  --mem HEX      input memory as hex bytes (\"01 02 ff\" or \"0102ff\")\n"
		"  --mem-file F   input memory from a file\n"
		"  --repeat N     run N times and report the mean duration\n"
		"  --checked      checked interpreter: every memory access bounds-checked and\n"
		"                 an instruction budget (the default: no verifier has proven\n"
		"                 the program safe)\n"
		"  --interp       fast interpreter without checks (only for trusted programs)\n"
		"  --jit          native code\n"
		"  --budget N     checked mode: stop after N instructions (default %llu)\n"
		"  --json         print {\"retval\":..,\"duration_ns\":..} instead of r0\n",
		BPFVM_DEFAULT_INSN_BUDGET);
}

int cmd_run(int argc, char **argv)
{
	const char *file = NULL, *memhex = NULL, *memfile = NULL;
	int mode = BPFVM_EXEC_AUTO;
	uint64_t budget = 0;
	uint32_t repeat = 1;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;
		if (cli_opt(a, "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(a, "--mem", NULL) && has_val) {
			memhex = argv[++i];
		} else if (cli_opt(a, "--mem-file", NULL) && has_val) {
			memfile = argv[++i];
		} else if (cli_opt(a, "--repeat", NULL) && has_val) {
			repeat = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (cli_opt(a, "--budget", NULL) && has_val) {
			budget = strtoull(argv[++i], NULL, 0);
		} else if (cli_opt(a, "--checked", NULL)) {
			mode = BPFVM_EXEC_CHECKED;
		} else if (cli_opt(a, "--interp", NULL)) {
			mode = BPFVM_EXEC_INTERP;
		} else if (cli_opt(a, "--jit", NULL)) {
			mode = BPFVM_EXEC_JIT;
		} else if (cli_opt(a, "--json", "-j")) {
			json = true;
		} else if (a[0] == '-' && a[1]) {
			return cli_error("run", "unknown option '%s' (see bpfvm run --help)", a);
		} else if (!file) {
			file = a;
		} else {
			return cli_error("run", "more than one program file given");
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	if (memhex && memfile)
		return cli_error("run", "--mem and --mem-file are exclusive");

	struct bpf_insn *insns;
	size_t cnt, mem_sz = 0;
	if (cli_load_insns(file, &insns, &cnt))
		return 1;
	uint8_t *mem = NULL;
	if (memhex) {
		mem = cli_parse_hex(memhex, &mem_sz);
		if (!mem) {
			free(insns);
			return cli_error("run", "--mem: not hex bytes: %s", memhex);
		}
	} else if (memfile) {
		mem = cli_read_file(memfile, &mem_sz);
		if (!mem) {
			free(insns);
			return 1;
		}
	}

	char log[1024] = "";
	struct bpfvm_prog_opts popts = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	popts.name = file;
	popts.log_buf = log;
	popts.log_size = sizeof(log);
	struct bpfvm_prog *prog = bpfvm_prog_from_insns(insns, cnt, &popts);
	free(insns);
	if (!prog) {
		free(mem);
		return cli_error("run", "%s: %s", file, log[0] ? log : strerror(errno));
	}
	char err[1024] = "";
	struct bpfvm_run_opts ropts = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ropts.mem = mem;
	ropts.mem_sz = mem_sz;
	ropts.mode = mode;
	ropts.repeat = repeat;
	ropts.insn_budget = budget;
	ropts.err_buf = err;
	ropts.err_size = sizeof(err);
	int ret = bpfvm_prog_run(prog, &ropts);
	bpfvm_prog_free(prog);
	free(mem);
	if (ret)
		return cli_error("run", "%s: %s", file, err[0] ? err : strerror(-ret));
	if (json)
		printf("{\"retval\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "}\n", ropts.retval,
		       ropts.duration_ns);
	else
		printf("0x%" PRIx64 "\n", ropts.retval);
	return 0;
}
