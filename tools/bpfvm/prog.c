/* prog.c — `bpfvm prog list|dump`: the programs of an object, as bpftool
 * shows them: `list` names, sections and types; `dump` the instructions after
 * loading (linked and relocated: "xlated"), optionally with the C source
 * lines from BTF line info (`--source`, like `bpftool prog dump xlated linum`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "isa/disasm.h"
#include "loader/sections.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bpfvm prog list OBJ [--json]\n"
		   "       bpfvm prog dump OBJ PROG [--source] [--raw]\n\n"
		   "  list    every program of the object: index, name, section, type and\n"
		   "          (when it loads) its instruction count after linking\n"
		   "  dump    the program PROG (function or section name, or index) after\n"
		   "          linking and relocation, one instruction per line\n"
		   "  --source  interleave the C source lines (needs BTF line info: -g)\n"
		   "  --raw     append each instruction's bytes\n");
}

/* open OBJ and try to load it; *loaded says whether that worked (the listing
 * still works for objects bpfvm cannot load, e.g. for an unknown helper) */
struct bpfvm_object *cli_open_object(const char *path, bool load, bool *loaded, char *log,
				     size_t log_sz)
{
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = log_sz;
	struct bpfvm_object *obj = bpfvm_object_open(path, &oo);
	if (!obj)
		return NULL;
	*loaded = false;
	if (load)
		*loaded = bpfvm_object_load(obj) == 0;
	return obj;
}

static int prog_list(const char *path, bool json)
{
	char log[1024] = "";
	bool loaded;
	struct bpfvm_object *obj = cli_open_object(path, true, &loaded, log, sizeof(log));
	if (!obj)
		return cli_error("prog", "%s", log);
	size_t n = bpfvm_object_prog_cnt(obj);
	if (json)
		printf("[");
	for (size_t i = 0; i < n; i++) {
		const char *tname = sec_prog_type_name(bpfvm_object_prog_type(obj, i));
		struct bpfvm_prog *p = bpfvm_object_prog(obj, i);
		if (json) {
			printf("%s{\"index\":%zu,\"name\":\"%s\",\"section\":\"%s\",\"type\":\"%s\"",
			       i ? "," : "", i, bpfvm_object_prog_name(obj, i),
			       bpfvm_object_prog_section(obj, i), tname ? tname : "unknown");
			if (p)
				printf(",\"insns\":%zu", bpfvm_prog_insn_cnt(p));
			printf("}");
		} else {
			printf("%zu: %s  section %s  type %s", i, bpfvm_object_prog_name(obj, i),
			       bpfvm_object_prog_section(obj, i), tname ? tname : "unknown");
			if (p)
				printf("  insns %zu", bpfvm_prog_insn_cnt(p));
			printf("\n");
		}
	}
	if (json)
		printf("]\n");
	if (!loaded && log[0])
		fprintf(stderr, "bpfvm prog: note: the object does not load: %s\n", log);
	bpfvm_object_close(obj);
	return 0;
}

/* find PROG by name or index; prints why not */
static struct bpfvm_prog *pick_prog(struct bpfvm_object *obj, const char *which)
{
	char *end;
	long idx = strtol(which, &end, 10);
	int i = *end == 0 && idx >= 0 ? (int)idx : bpfvm_object_prog_index(obj, which);
	if (i < 0 || (size_t)i >= bpfvm_object_prog_cnt(obj)) {
		fprintf(stderr, "bpfvm: no program '%s' in %s; try 'bpfvm prog list'\n", which,
			bpfvm_object_name(obj));
		return NULL;
	}
	return bpfvm_object_prog(obj, (size_t)i);
}

static int prog_dump(const char *path, const char *which, bool source, bool raw)
{
	char log[1024] = "";
	bool loaded;
	struct bpfvm_object *obj = cli_open_object(path, true, &loaded, log, sizeof(log));
	if (!obj)
		return cli_error("prog", "%s", log);
	if (!loaded) {
		bpfvm_object_close(obj);
		return cli_error("prog", "%s", log);
	}
	struct bpfvm_prog *p = pick_prog(obj, which);
	if (!p) {
		bpfvm_object_close(obj);
		return 1;
	}
	const struct bpf_insn *insns = bpfvm_prog_insns(p);
	size_t cnt = bpfvm_prog_insn_cnt(p);
	const char *last_text = NULL;
	uint32_t last_line = 0;
	for (size_t pc = 0; pc < cnt;) {
		char buf[DISASM_INSN_MAX];
		const char *file, *text;
		uint32_t line, col;
		if (source && bpfvm_prog_line_info(p, pc, &file, &text, &line, &col) == 0 &&
		    (text != last_text || line != last_line)) {
			printf("; %s @ %s:%u\n", text, file, line);
			last_text = text;
			last_line = line;
		}
		int n = disasm_insn(insns, cnt, pc, buf, sizeof(buf));
		if (n <= 0)
			break;
		printf("%5zu: %s", pc, buf);
		if (raw)
			for (int k = 0; k < n; k++) {
				const uint8_t *b = (const uint8_t *)&insns[pc + k];
				printf("%s", k ? " " : "    ; ");
				for (int j = 0; j < 8; j++)
					printf("%02x", b[j]);
			}
		printf("\n");
		pc += (size_t)n;
	}
	bpfvm_object_close(obj);
	return 0;
}

int cmd_prog(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL, *pos[2] = { NULL, NULL };
	bool json = false, source = false, raw = false;
	int npos = 0;
	if (!verb || cli_opt(verb, "--help", "-h") || !strcmp(verb, "help")) {
		usage(verb ? stdout : stderr);
		return verb ? 0 : 2;
	}
	for (int i = 2; i < argc; i++) {
		if (cli_opt(argv[i], "--json", "-j"))
			json = true;
		else if (cli_opt(argv[i], "--source", NULL) || cli_opt(argv[i], "--linum", NULL))
			source = true;
		else if (cli_opt(argv[i], "--raw", NULL))
			raw = true;
		else if (cli_opt(argv[i], "--xlated", NULL))
			; /* the default (and only) view for now */
		else if (cli_opt(argv[i], "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-')
			return cli_error("prog", "unknown option '%s'", argv[i]);
		else if (npos < 2)
			pos[npos++] = argv[i];
		else
			return cli_error("prog", "too many arguments");
	}
	if (!strcmp(verb, "list") || !strcmp(verb, "show")) {
		if (npos != 1)
			return cli_error("prog", "usage: bpfvm prog list OBJ");
		return prog_list(pos[0], json);
	}
	if (!strcmp(verb, "dump")) {
		if (npos != 2)
			return cli_error("prog", "usage: bpfvm prog dump OBJ PROG [--source]");
		return prog_dump(pos[0], pos[1], source, raw);
	}
	return cli_error("prog", "unknown verb '%s' (list, dump)", verb);
}
