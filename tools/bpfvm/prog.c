/* prog.c — `bpfvm prog list|dump`: the programs of an object, as bpftool
 * shows them: `list` names, sections and types; `dump` the instructions after
 * loading (linked and relocated: "xlated"), optionally with the C source
 * lines from BTF line info (`--source`, like `bpftool prog dump xlated linum`)
 * and with the JIT's machine code under each instruction (`--jited`, like
 * `bpftool prog dump jited opcodes`), disassembled by objdump when there is
 * one ($BPFVM_OBJDUMP, else `objdump` on PATH), else as raw bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "isa/disasm.h"
#include "loader/sections.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bpfvm prog list OBJ [--json]\n"
		   "       bpfvm prog dump OBJ PROG [--source] [--raw] [--jited]\n\n"
		   "  list    every program of the object: index, name, section, type and\n"
		   "          (when it loads) its instruction count after linking\n"
		   "  dump    the program PROG (function or section name, or index) after\n"
		   "          linking and relocation, one instruction per line\n"
		   "  --source  interleave the C source lines (needs BTF line info: -g)\n"
		   "  --raw     append each instruction's bytes\n"
		   "  --jited   JIT-compile the program (x86-64) and show each instruction's\n"
		   "            machine code under it, then the code of no one instruction\n"
		   "            (prologue, callx entries, slow paths); disassembled by\n"
		   "            objdump, or raw bytes without it (BPFVM_OBJDUMP=PROGRAM\n"
		   "            picks the objdump; set empty, raw bytes)\n");
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

/* ---------------------------------------------------------------- jited */

/* one machine instruction of objdump's listing */
struct nat_line {
	uint32_t off;
	char *bytes, *text;	/* "55", "push   %rbp" (into the listing's buffer) */
};

/* the machine code being dumped: the bytes and, when objdump ran, its listing */
struct native {
	const uint8_t *code;
	size_t code_sz;
	struct nat_line *lines;
	size_t line_cnt, next;	/* next: first line not printed yet */
	char *listing;
	const char *how;	/* for the header: "disassembled by objdump", ... */
};

/* Run objdump (argv) with stdout into a malloc'd string; NULL when it cannot
 * run or fails. */
static char *run_capture(char *const argv[])
{
	int fd[2];
	if (pipe(fd))
		return NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(fd[1], STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t n = 0;
	while (buf) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		n = read(fd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!buf || n < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

/* Split objdump's listing into lines "   3a:\t8b 3f \tmov    (%rdi),%edi";
 * other lines (headers, blank) are skipped.  Returns the number kept. */
static size_t parse_listing(struct native *nat)
{
	size_t cap = 0;
	for (char *line = nat->listing, *eol; line && *line; line = eol) {
		eol = strchr(line, '\n');
		if (eol)
			*eol++ = 0;
		char *end;
		unsigned long off = strtoul(line, &end, 16);
		if (end == line || end[0] != ':' || end[1] != '\t' || off >= nat->code_sz)
			continue;
		char *bytes = end + 2, *text = strchr(bytes, '\t');
		if (text)
			*text++ = 0;
		else
			text = bytes + strlen(bytes);
		for (size_t k = strlen(bytes); k && bytes[k - 1] == ' ';)
			bytes[--k] = 0;
		if (nat->line_cnt == cap) {
			cap = cap ? cap * 2 : 1024;
			struct nat_line *nl = realloc(nat->lines, cap * sizeof(*nl));
			if (!nl)
				return nat->line_cnt = 0;
			nat->lines = nl;
		}
		nat->lines[nat->line_cnt++] = (struct nat_line){ (uint32_t)off, bytes, text };
	}
	return nat->line_cnt;
}

/* Disassemble the code with objdump, once; without it (or when it fails)
 * the dump shows raw bytes, and nat->how says why. */
static void native_disasm(struct native *nat)
{
	const char *tool = getenv("BPFVM_OBJDUMP");
	nat->how = "raw bytes (objdump not found or failed)";
	if (tool && !*tool) {
		nat->how = "raw bytes (BPFVM_OBJDUMP is empty)";
		return;
	}
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/bpfvm-jited-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	bool ok = write(fd, nat->code, nat->code_sz) == (ssize_t)nat->code_sz;
	close(fd);
	if (ok) {
		char *argv[] = { (char *)(tool ? tool : "objdump"), "-D", "-z", "-b", "binary",
				 "-m", "i386:x86-64", "--insn-width=16", path, NULL };
		nat->listing = run_capture(argv);
	}
	unlink(path);
	if (nat->listing && parse_listing(nat))
		nat->how = "disassembled by objdump";
}

/* print the machine code in [start, end) */
static void native_dump(struct native *nat, uint32_t start, uint32_t end)
{
	if (nat->line_cnt) {
		while (nat->next < nat->line_cnt && nat->lines[nat->next].off < start)
			nat->next++; /* cannot happen while objdump and the layout agree */
		for (; nat->next < nat->line_cnt && nat->lines[nat->next].off < end; nat->next++) {
			const struct nat_line *l = &nat->lines[nat->next];
			printf("    %6" PRIx32 ":  %-29s  %s\n", l->off, l->bytes, l->text);
		}
		return;
	}
	for (uint32_t off = start; off < end; off += 16) {
		printf("    %6" PRIx32 ": ", off);
		for (uint32_t k = off; k < end && k < off + 16; k++)
			printf(" %02x", nat->code[k]);
		printf("\n");
	}
}

/* --------------------------------------------------------------- dump */

/* what one dump shows */
struct dump {
	struct bpfvm_prog *p;
	const struct bpf_insn *insns;
	size_t cnt;
	bool source, raw;
	const char *last_text;
	uint32_t last_line;
};

/* Print instruction pc, after its C source line when that changed (and
 * --source); returns the slots it takes (2 for lddw), 0 past the end. */
static size_t dump_insn(struct dump *d, size_t pc)
{
	char buf[DISASM_INSN_MAX];
	const char *file, *text;
	uint32_t line, col;
	if (d->source && bpfvm_prog_line_info(d->p, pc, &file, &text, &line, &col) == 0 &&
	    (text != d->last_text || line != d->last_line)) {
		printf("; %s @ %s:%u\n", text, file, line);
		d->last_text = text;
		d->last_line = line;
	}
	int n = disasm_insn(d->insns, d->cnt, pc, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	printf("%5zu: %s", pc, buf);
	if (d->raw)
		for (int k = 0; k < n; k++) {
			const uint8_t *b = (const uint8_t *)&d->insns[pc + k];
			printf("%s", k ? " " : "    ; ");
			for (int j = 0; j < 8; j++)
				printf("%02x", b[j]);
		}
	printf("\n");
	return (size_t)n;
}

/* --jited: compile p, then each instruction with its machine code under
 * it, between the code that belongs to no instruction */
static int dump_jited(struct dump *d)
{
	char log[512] = "";
	int err = bpfvm_prog_jit(d->p, log, sizeof(log));
	if (err)
		return cli_error("prog", "--jited: %s", log[0] ? log : strerror(-err));
	struct native nat = { 0 };
	const void *code;
	const uint32_t *off;
	size_t cnt;
	err = bpfvm_prog_jited(d->p, &code, &nat.code_sz, &off, &cnt);
	if (err)
		return cli_error("prog", "--jited: %s", strerror(-err));
	nat.code = code;
	native_disasm(&nat);
	printf("# %s: x86-64 JIT code, %zu bytes (%" PRIu32 " for the %zu instructions), "
	       "offsets in hex, %s\n", bpfvm_prog_name(d->p), nat.code_sz, off[cnt] - off[0], cnt,
	       nat.how);
	printf("<prologue and shared routines>:\n");
	native_dump(&nat, 0, off[0]);
	printf("<instructions>:\n");
	for (size_t pc = 0, n; pc < cnt && (n = dump_insn(d, pc)) > 0; pc += n)
		native_dump(&nat, off[pc], off[pc + n < cnt ? pc + n : cnt]);
	printf("<out-of-line code: callx entries, slow paths, fault stubs>:\n");
	native_dump(&nat, off[cnt], (uint32_t)nat.code_sz);
	free(nat.lines);
	free(nat.listing);
	return 0;
}

static int prog_dump(const char *path, const char *which, bool source, bool raw, bool jited)
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
	struct dump d = { .p = p, .insns = bpfvm_prog_insns(p), .cnt = bpfvm_prog_insn_cnt(p),
			  .source = source, .raw = raw };
	int ret = 0;
	if (jited)
		ret = dump_jited(&d);
	else
		for (size_t pc = 0, n; pc < d.cnt && (n = dump_insn(&d, pc)) > 0; pc += n)
			;
	bpfvm_object_close(obj);
	return ret;
}

int cmd_prog(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL, *pos[2] = { NULL, NULL };
	bool json = false, source = false, raw = false, jited = false;
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
		else if (cli_opt(argv[i], "--jited", NULL))
			jited = true;
		else if (cli_opt(argv[i], "--xlated", NULL))
			; /* the default view */
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
			return cli_error("prog", "usage: bpfvm prog dump OBJ PROG [--source] [--jited]");
		return prog_dump(pos[0], pos[1], source, raw, jited);
	}
	return cli_error("prog", "unknown verb '%s' (list, dump)", verb);
}
