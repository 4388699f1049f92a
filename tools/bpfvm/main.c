/* main.c — the bpfvm command line: dispatch to subcommands, shared utilities.
 *
 * Grammar as bpftool's: `bpfvm [--version|--help] COMMAND [ARGS]`, where a
 * command may be abbreviated to any unique prefix; `bpfvm help COMMAND` and
 * `bpfvm COMMAND --help` print the command's usage.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
#define CMD(name, summary) { #name, summary, cmd_##name },
#include "commands.def"
#undef CMD
};
#define COMMAND_CNT (sizeof(commands) / sizeof(commands[0]))

/* command names use '-' on the command line, '_' in C */
static bool name_matches(const char *cname, const char *arg, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = cname[i], a = arg[i];
		if (!c)
			return false;
		if (c == '_' ? a != '-' && a != '_' : c != a)
			return false;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bpfvm [--version] [--help] COMMAND [ARGS]\n\n"
		   "Run eBPF programs in userspace with the Linux kernel's semantics.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < COMMAND_CNT; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s", commands[i].name);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		fprintf(f, "  %-20s %s\n", name, commands[i].summary);
	}
	fprintf(f, "\nCommands may be abbreviated to a unique prefix. "
		   "`bpfvm COMMAND --help` shows a command's options.\n"
		   "BPFVM_JIT_HARDEN=1 blinds the JIT's constants (as the kernel's "
		   "bpf_jit_harden); bpfvm(1) lists the other variables.\n");
}

int main(int argc, char **argv)
{
	/* the kernel's bpf_jit_harden sysctl, for this process: blind the JIT's
	 * constants (bpfvm/jit.h) */
	const char *harden = getenv("BPFVM_JIT_HARDEN");
	if (harden && *harden && strcmp(harden, "0") != 0)
		bpfvm_jit_set_harden(1);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	static char *sub[3];
	/* The conformance runner puts the memory argument right after the
	 * executable: `bpfvm MEMORY conformance-plugin ...`.  Move it behind
	 * the subcommand name. */
	if (argc >= 3 && !strcmp(argv[2], "conformance-plugin") && argv[1][0] != '-') {
		char *mem = argv[1];
		argv[1] = argv[2];
		argv[2] = mem;
	}
	const char *arg = argv[1];
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help")) {
		if (!strcmp(arg, "help") && argc > 2) {
			sub[0] = argv[2];
			sub[1] = "--help";
			argv = sub;
			argc = 2;
			arg = argv[0];
			goto dispatch;
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
		printf("bpfvm %s\n", bpfvm_version());
		return 0;
	}
	argv++;
	argc--;
dispatch:;
	size_t len = strlen(arg);
	const struct command *found = NULL;
	for (size_t i = 0; i < COMMAND_CNT; i++) {
		if (!name_matches(commands[i].name, arg, len))
			continue;
		if (strlen(commands[i].name) == len) { /* exact match wins */
			found = &commands[i];
			break;
		}
		if (found) {
			fprintf(stderr, "bpfvm: '%s' is ambiguous (%s, %s, ...)\n", arg, found->name,
				commands[i].name);
			return 2;
		}
		found = &commands[i];
	}
	if (!found) {
		fprintf(stderr, "bpfvm: unknown command '%s'; try 'bpfvm --help'\n", arg);
		return 2;
	}
	return found->fn(argc, argv);
}

/* ------------------------------------------------------------ utilities */

int cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bpfvm %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

bool cli_opt(const char *arg, const char *longname, const char *shortname)
{
	return (longname && !strcmp(arg, longname)) || (shortname && !strcmp(arg, shortname));
}

uint8_t *cli_read_file(const char *path, size_t *size)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "bpfvm: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap + 1);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len < cap)
			break;
		uint8_t *nb = cap > (SIZE_MAX - 1) / 2 ? NULL : realloc(buf, cap * 2 + 1);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!buf || bad) {
		fprintf(stderr, "bpfvm: cannot read %s\n", path);
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	*size = len;
	return buf;
}

uint8_t *cli_parse_hex(const char *text, size_t *size)
{
	size_t cap = strlen(text) / 2 + 1, len = 0;
	uint8_t *out = malloc(cap);
	if (!out)
		return NULL;
	const char *p = text;
	while (*p) {
		if (isspace((unsigned char)*p) || *p == ',') {
			p++;
			continue;
		}
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])) {
			free(out);
			return NULL;
		}
		char b[3] = { p[0], p[1], 0 };
		out[len++] = (uint8_t)strtoul(b, NULL, 16);
		p += 2;
	}
	*size = len;
	return out;
}

/* text if every byte is printable ASCII or whitespace */
static bool looks_like_text(const uint8_t *buf, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (!isprint(buf[i]) && !isspace(buf[i]))
			return false;
	return size > 0;
}

int cli_load_insns(const char *path, struct bpf_insn **insns, size_t *cnt)
{
	size_t size;
	uint8_t *buf = cli_read_file(path, &size);
	if (!buf)
		return -1;
	if (looks_like_text(buf, size)) {
		char err[256];
		int ret = bpfvm_asm((const char *)buf, insns, cnt, err, sizeof(err));
		free(buf);
		if (ret) {
			fprintf(stderr, "bpfvm: %s: %s\n", path, err);
			return -1;
		}
		return 0;
	}
	if (size % sizeof(struct bpf_insn)) {
		fprintf(stderr, "bpfvm: %s: %zu bytes is not a whole number of 8-byte instructions\n",
			path, size);
		free(buf);
		return -1;
	}
	*insns = (struct bpf_insn *)buf;
	*cnt = size / sizeof(struct bpf_insn);
	return 0;
}
