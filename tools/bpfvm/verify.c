/* verify.c — `bpfvm verify OBJ`: would the kernel's verifier load it?
 *
 * Opens and loads the object (linking, relocations, maps), then runs bpfvm's
 * verifier on each program (or the one named by --prog) and prints the
 * verdict, the verifier log of a refused program (level 1: the failing path
 * with the C source lines; --log-level 2: every instruction with its state),
 * and with --stats the kernel's summary figures and the time taken.
 * --json prints one object per program.  Exit status 0 when every program
 * verified, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm/verifier.h"
#include "cli.h"
#include "loader/sections.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bpfvm verify OBJ [--prog P] [--log-level N] [--stats] [--json]\n\n"
		   "  Verify every program of OBJ (or only P: function or section name) as the\n"
		   "  Linux kernel's verifier does for a privileged user.\n"
		   "  --log-level N  0: verdict only, 1: the failing path (default), 2: every\n"
		   "                 instruction with the full state\n"
		   "  --stats        processed instructions, states and verification time\n"
		   "  --json         machine-readable output\n");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c == '\t')
			printf("\\t");
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int cmd_verify(int argc, char **argv)
{
	const char *path = NULL, *only = NULL;
	unsigned level = 1;
	bool stats = false, json = false;
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argv[i], "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(argv[i], "--prog", "-p") && i + 1 < argc) {
			only = argv[++i];
		} else if (cli_opt(argv[i], "--log-level", "-l") && i + 1 < argc) {
			level = (unsigned)atoi(argv[++i]);
			if (level > 2)
				return cli_error("verify", "--log-level takes 0, 1 or 2");
		} else if (cli_opt(argv[i], "--stats", "-s")) {
			stats = true;
		} else if (cli_opt(argv[i], "--json", "-j")) {
			json = true;
		} else if (argv[i][0] == '-' || path) {
			usage(stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	char err[2048] = "";
	bool loaded;
	struct bpfvm_object *obj = cli_open_object(path, true, &loaded, err, sizeof(err));
	if (!obj)
		return cli_error("verify", "%s", err);
	if (!loaded) {
		bpfvm_object_close(obj);
		return cli_error("verify", "%s", err);
	}
	size_t log_sz = level ? 16u << 20 : 0;
	char *log = log_sz ? malloc(log_sz) : NULL;
	if (log_sz && !log) {
		bpfvm_object_close(obj);
		return cli_error("verify", "out of memory");
	}
	int failed = 0, seen = 0;
	if (json)
		printf("[");
	for (size_t i = 0; i < bpfvm_object_prog_cnt(obj); i++) {
		struct bpfvm_prog *p = bpfvm_object_prog(obj, i);
		if (!p)
			continue;
		const char *name = bpfvm_object_prog_name(obj, i);
		const char *sec = bpfvm_object_prog_section(obj, i);
		if (only && strcmp(only, name) && strcmp(only, sec))
			continue;
		struct bpfvm_verify_stats st;
		memset(&st, 0, sizeof(st));
		struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = level, .log_buf = log,
						.log_size = log_sz, .stats = &st };
		if (log)
			log[0] = 0;
		int ret = bpfvm_prog_verify(p, &vo);
		failed += ret != 0;
		const char *tname = sec_prog_type_name(bpfvm_prog_type(p));
		if (json) {
			printf("%s{\"name\":", seen ? "," : "");
			json_str(name);
			printf(",\"section\":");
			json_str(sec);
			printf(",\"type\":");
			json_str(tname ? tname : "unknown");
			printf(",\"verified\":%s,\"error\":%d,\"insn_processed\":%llu,"
			       "\"total_states\":%u,\"peak_states\":%u,\"max_states_per_insn\":%u,"
			       "\"duration_ns\":%llu,\"error_insn\":%d",
			       ret ? "false" : "true", ret, (unsigned long long)st.insn_processed,
			       st.total_states, st.peak_states, st.max_states_per_insn,
			       (unsigned long long)st.duration_ns, st.error_insn);
			if (log && (ret || level >= 2)) {
				printf(",\"log\":");
				json_str(log);
			}
			printf("}");
		} else {
			printf("%s (%s, %s): %s\n", name, sec, tname ? tname : "unknown",
			       ret ? "REFUSED" : "verified");
			if (log && (ret || level >= 2))
				printf("%s", log);
			if (stats)
				printf("  %llu insns processed, %u states (peak %u, at most %u per insn), %.3f ms\n",
				       (unsigned long long)st.insn_processed, st.total_states,
				       st.peak_states, st.max_states_per_insn,
				       (double)st.duration_ns / 1e6);
		}
		seen++;
	}
	if (json)
		printf("]\n");
	free(log);
	bpfvm_object_close(obj);
	if (only && !seen)
		return cli_error("verify", "no program '%s' in %s", only, path);
	return failed ? 1 : 0;
}
