/* run.c — `bpfvm run`: run a program once (or N times) and print what it returned.
 *
 * Two kinds of FILE: raw bytecode or assembly, run on memory (r1 = the memory,
 * r2 = its length); or a clang-built ELF object, whose program is run the way
 * the kernel's BPF_PROG_TEST_RUN runs it (bpfvm_prog_test_run: a packet for XDP,
 * TC and socket-filter programs, an optional context, the output packet).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm/jit.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bpfvm run FILE [--mem HEX | --mem-file F] [--repeat N]\n"
		"                 [--checked | --interp | --jit] [--budget N] [--json]\n"
		"       bpfvm run OBJ [--prog P] [--data HEX | --data-file F]\n"
		"                 [--ctx HEX | --ctx-file F] [--repeat N] [--data-out]\n"
		"                 [--checked | --interp | --jit] [--json]\n\n"
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
		"  --json         print {\"retval\":..,\"duration_ns\":..} instead of r0\n\n"
		"Run a program of the clang-built ELF object OBJ as the kernel's\n"
		"BPF_PROG_TEST_RUN does (same input checks, packet layout and results), and\n"
		"print its return value and mean duration.\n"
		"  --prog P       the program (function or section name); default: the only one\n"
		"  --data HEX     the packet (XDP, TC, socket filter: an Ethernet frame)\n"
		"  --data-file F  the packet from a file\n"
		"  --ctx HEX      the context (struct xdp_md, struct __sk_buff, or the raw\n"
		"                 context of other program types)\n"
		"  --ctx-file F   the context from a file\n"
		"  --data-out     also print the packet (and context) as the program left it\n"
		"The program is verified first; one the verifier accepts runs JIT-compiled (or\n"
		"in the fast interpreter), others in the checked interpreter.\n",
		BPFVM_DEFAULT_INSN_BUDGET);
}

struct run_args {
	const char *file, *prog, *memhex, *memfile, *ctxhex, *ctxfile;
	int mode;
	uint64_t budget;
	uint32_t repeat;
	bool json, data_out;
};

/* 0, or the exit status after printing why not; *help when --help was asked */
static int parse_args(struct run_args *a, int argc, char **argv, bool *help)
{
	*help = false;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool has_val = i + 1 < argc;
		if (cli_opt(o, "--help", "-h")) {
			*help = true;
			return 0;
		} else if ((cli_opt(o, "--mem", NULL) || cli_opt(o, "--data", NULL)) && has_val) {
			a->memhex = argv[++i];
		} else if ((cli_opt(o, "--mem-file", NULL) || cli_opt(o, "--data-file", NULL)) &&
			   has_val) {
			a->memfile = argv[++i];
		} else if (cli_opt(o, "--ctx", NULL) && has_val) {
			a->ctxhex = argv[++i];
		} else if (cli_opt(o, "--ctx-file", NULL) && has_val) {
			a->ctxfile = argv[++i];
		} else if (cli_opt(o, "--prog", NULL) && has_val) {
			a->prog = argv[++i];
		} else if (cli_opt(o, "--repeat", NULL) && has_val) {
			a->repeat = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (cli_opt(o, "--budget", NULL) && has_val) {
			a->budget = strtoull(argv[++i], NULL, 0);
		} else if (cli_opt(o, "--checked", NULL)) {
			a->mode = BPFVM_EXEC_CHECKED;
		} else if (cli_opt(o, "--interp", NULL)) {
			a->mode = BPFVM_EXEC_INTERP;
		} else if (cli_opt(o, "--jit", NULL)) {
			a->mode = BPFVM_EXEC_JIT;
		} else if (cli_opt(o, "--json", "-j")) {
			a->json = true;
		} else if (cli_opt(o, "--data-out", NULL)) {
			a->data_out = true;
		} else if (o[0] == '-' && o[1]) {
			return cli_error("run", "unknown option '%s' (see bpfvm run --help)", o);
		} else if (!a->file) {
			a->file = o;
		} else {
			return cli_error("run", "more than one program file given");
		}
	}
	if (!a->file) {
		usage(stderr);
		return 2;
	}
	if (a->memhex && a->memfile)
		return cli_error("run", "--mem/--data and --mem-file/--data-file are exclusive");
	if (a->ctxhex && a->ctxfile)
		return cli_error("run", "--ctx and --ctx-file are exclusive");
	return 0;
}

/* bytes from hex text or a file (NULL, NULL: none, *ok stays true); on failure
 * *ok is false after printing why */
static uint8_t *load_bytes(const char *hex, const char *file, const char *what, size_t *size,
			   bool *ok)
{
	uint8_t *b = NULL;
	*size = 0;
	*ok = true;
	if (hex) {
		b = cli_parse_hex(hex, size);
		if (!b) {
			cli_error("run", "%s: not hex bytes: %s", what, hex);
			*ok = false;
		}
	} else if (file) {
		b = cli_read_file(file, size);
		*ok = b != NULL;
	}
	return b;
}

static bool is_elf(const char *path)
{
	uint8_t magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t n = fread(magic, 1, 4, f);
	fclose(f);
	return n == 4 && !memcmp(magic, "\177ELF", 4);
}

/* ------------------------------------------------------- raw programs */

static int run_raw(const struct run_args *a)
{
	if (a->prog || a->ctxhex || a->ctxfile || a->data_out)
		return cli_error("run", "%s is not an ELF object: --prog, --ctx and --data-out "
					"need one", a->file);
	struct bpf_insn *insns;
	size_t cnt, mem_sz;
	bool ok;
	if (cli_load_insns(a->file, &insns, &cnt))
		return 1;
	uint8_t *mem = load_bytes(a->memhex, a->memfile, "--mem", &mem_sz, &ok);
	if (!ok) {
		free(insns);
		return 1;
	}

	char log[1024] = "";
	struct bpfvm_prog_opts popts = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	popts.name = a->file;
	popts.log_buf = log;
	popts.log_size = sizeof(log);
	struct bpfvm_prog *prog = bpfvm_prog_from_insns(insns, cnt, &popts);
	free(insns);
	if (!prog) {
		free(mem);
		return cli_error("run", "%s: %s", a->file, log[0] ? log : strerror(errno));
	}
	char err[1024] = "";
	struct bpfvm_run_opts ropts = BPFVM_OPTS_INIT(bpfvm_run_opts);
	ropts.mem = mem;
	ropts.mem_sz = mem_sz;
	ropts.mode = a->mode;
	ropts.repeat = a->repeat;
	ropts.insn_budget = a->budget;
	ropts.err_buf = err;
	ropts.err_size = sizeof(err);
	int ret = bpfvm_prog_run(prog, &ropts);
	bpfvm_prog_free(prog);
	free(mem);
	if (ret)
		return cli_error("run", "%s: %s", a->file, err[0] ? err : strerror(-ret));
	if (a->json)
		printf("{\"retval\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "}\n", ropts.retval,
		       ropts.duration_ns);
	else
		printf("0x%" PRIx64 "\n", ropts.retval);
	return 0;
}

/* --------------------------------------------------------- ELF objects */

/* the program to run: --prog, or the object's only one; NULL after printing why */
static struct bpfvm_prog *pick_prog(const struct run_args *a, const struct bpfvm_object *obj)
{
	size_t n = bpfvm_object_prog_cnt(obj);
	if (a->prog) {
		struct bpfvm_prog *p = bpfvm_object_find_prog(obj, a->prog);
		if (!p)
			cli_error("run", "no program '%s' in %s; try 'bpfvm prog list %s'", a->prog,
				  a->file, a->file);
		return p;
	}
	if (n == 1 && bpfvm_object_prog(obj, 0))
		return bpfvm_object_prog(obj, 0);
	char list[1024] = "";
	size_t len = 0;
	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					bpfvm_object_prog_name(obj, i));
	cli_error("run", "%s has %zu programs; pick one with --prog: %s", a->file, n,
		  n ? list : "(none)");
	return NULL;
}

/* verify, then the fastest mode that is safe; -1 after printing why not */
static int pick_mode(const struct run_args *a, struct bpfvm_prog *prog)
{
	static char log[1u << 16];
	char jlog[256] = "";
	struct bpfvm_verify_opts vo = BPFVM_OPTS_INIT(bpfvm_verify_opts);
	vo.log_level = 1;
	vo.log_buf = log;
	vo.log_size = sizeof(log);
	/* the loader verifies what it loads, as the kernel does */
	bool verified = bpfvm_prog_is_verified(prog) || bpfvm_prog_verify(prog, &vo) == 0;
	if (!verified && a->mode == BPFVM_EXEC_INTERP)
		return cli_error("run", "--interp runs only programs the verifier accepts; it "
					"refuses %s:\n%s", bpfvm_prog_name(prog), log), -1;
	if (a->mode == BPFVM_EXEC_JIT && bpfvm_prog_jit(prog, jlog, sizeof(jlog)))
		return cli_error("run", "--jit: %s", jlog[0] ? jlog : "no JIT for this machine"), -1;
	if (a->mode != BPFVM_EXEC_AUTO)
		return a->mode;
	if (!verified)
		return BPFVM_EXEC_CHECKED;
	return bpfvm_prog_jit(prog, jlog, sizeof(jlog)) == 0 ? BPFVM_EXEC_JIT : BPFVM_EXEC_INTERP;
}

static void print_hex(const char *key, const uint8_t *p, uint32_t n, bool json)
{
	if (json) {
		printf(",\"%s\":\"", key);
		for (uint32_t i = 0; i < n; i++)
			printf("%02x", p[i]);
		printf("\"");
		return;
	}
	printf("%s: %u bytes\n", key, n);
	for (uint32_t i = 0; i < n; i += 16) {
		printf("  %04x:", i);
		for (uint32_t j = i; j < n && j < i + 16; j++)
			printf(" %02x", p[j]);
		printf("\n");
	}
}

static void print_result(const struct run_args *a, const struct bpfvm_test_run_opts *t)
{
	if (a->json)
		printf("{\"retval\":%u,\"duration_ns\":%" PRIu64 ",\"data_size_out\":%u", t->retval,
		       t->duration_ns, t->data_size_out);
	else
		printf("retval: %u (0x%x)\nduration: %" PRIu64 " ns\n", t->retval, t->retval,
		       t->duration_ns);
	if (a->data_out && t->data_size_in)
		print_hex("data_out", t->data_out, t->data_size_out, a->json);
	if (a->data_out && t->ctx_size_in && t->ctx_size_out)
		print_hex("ctx_out", t->ctx_out, t->ctx_size_out, a->json);
	if (a->json)
		printf("}\n");
}

/* bpfvm_prog_test_run with the packet and context; 0 or the exit status */
static int test_run(const struct run_args *a, struct bpfvm_prog *prog, int mode)
{
	size_t data_sz, ctx_sz;
	bool ok_data, ok_ctx = true;
	uint8_t *data = load_bytes(a->memhex, a->memfile, "--data", &data_sz, &ok_data);
	uint8_t *ctx = ok_data ? load_bytes(a->ctxhex, a->ctxfile, "--ctx", &ctx_sz, &ok_ctx) : NULL;
	/* room for what a program may add: head- and tailroom, XDP fragments */
	uint32_t out_sz = (uint32_t)data_sz + (256u << 10);
	uint8_t *out = malloc(out_sz), ctx_out[1024];
	int rc = 0;
	if (!ok_data || !ok_ctx || !out) {
		rc = ok_data && ok_ctx ? cli_error("run", "out of memory") : 1;
		goto done;
	}
	char err[1024] = "";
	struct bpfvm_test_run_opts t = BPFVM_OPTS_INIT(bpfvm_test_run_opts);
	t.data_in = data;
	t.data_size_in = (uint32_t)data_sz;
	t.data_out = out;
	t.data_size_out = out_sz;
	t.ctx_in = ctx;
	t.ctx_size_in = (uint32_t)ctx_sz;
	t.ctx_out = ctx_sz ? ctx_out : NULL;
	t.ctx_size_out = ctx_sz ? sizeof(ctx_out) : 0;
	t.repeat = a->repeat;
	t.mode = mode;
	t.err_buf = err;
	t.err_size = sizeof(err);
	int ret = bpfvm_prog_test_run(prog, &t);
	if (ret && err[0])
		rc = cli_error("run", "%s: %s: %s (%s)", a->file, bpfvm_prog_name(prog), err,
			       strerror(-ret));
	else if (ret)
		rc = cli_error("run", "%s: %s: %s", a->file, bpfvm_prog_name(prog), strerror(-ret));
	else
		print_result(a, &t);
done:
	free(data);
	free(ctx);
	free(out);
	return rc;
}

static int run_object(const struct run_args *a)
{
	char log[4096] = "";
	bool loaded;
	if (a->budget)
		return cli_error("run", "--budget is for raw programs (the test run of an object "
					"has the kernel's limits)");
	struct bpfvm_object *obj = cli_open_object(a->file, true, &loaded, log, sizeof(log));
	if (!obj)
		return cli_error("run", "%s", log[0] ? log : strerror(errno));
	int rc = 1;
	if (!loaded) {
		cli_error("run", "%s does not load: %s", a->file, log);
	} else {
		struct bpfvm_prog *prog = pick_prog(a, obj);
		int mode = prog ? pick_mode(a, prog) : -1;
		if (mode >= 0)
			rc = test_run(a, prog, mode);
	}
	bpfvm_object_close(obj);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .repeat = 1 };
	bool help;
	int rc = parse_args(&a, argc, argv, &help);
	if (help) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	return is_elf(a.file) ? run_object(&a) : run_raw(&a);
}
