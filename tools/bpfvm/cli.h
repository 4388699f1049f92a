/* cli.h — what the bpfvm command line's files share.
 *
 * Each subcommand lives in its own file as `int cmd_<name>(int argc, char **argv)`
 * (argv[0] is the subcommand's name) and is listed once in commands.def.
 * Shared utilities: reading files, parsing hex, loading a program from a file
 * that holds raw bytecode or assembly.
 */
#ifndef BPFVM_CLI_H
#define BPFVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"

#define CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.def"
#undef CMD

/* read a whole file ("-" is stdin); returns malloc'd bytes (NUL-terminated) or NULL
 * after printing why */
uint8_t *cli_read_file(const char *path, size_t *size);
/* parse hex bytes ("01 02 ff", "0102ff", "0x01,0x02"); returns malloc'd bytes or NULL */
uint8_t *cli_parse_hex(const char *text, size_t *size);
/* load instructions from a file: assembly if it looks like text, else raw
 * little-endian bytecode; prints the reason and returns -1 on failure */
int cli_load_insns(const char *path, struct bpf_insn **insns, size_t *cnt);
/* open an object and, when `load`, load it (*loaded says whether that
 * worked); NULL when it does not even open, with the reason in log */
struct bpfvm_object *cli_open_object(const char *path, bool load, bool *loaded, char *log,
				     size_t log_sz);
/* mapdump.c: print one map (all entries, or the `top` largest by the first
 * 64-bit counter of the value) / every map of an object, BTF-typed */
#include <stdio.h>
int cli_dump_map(const struct bpfvm_object *obj, struct bpfvm_map *m, long top, bool json,
		 FILE *f);
int cli_dump_maps(const struct bpfvm_object *obj, bool json, FILE *f);
/* does argv[i] match --name (or -short)? */
bool cli_opt(const char *arg, const char *longname, const char *shortname);
/* print to stderr "bpfvm <cmd>: ..." and return 1 */
int cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif
