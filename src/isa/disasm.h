/* disasm.h — one instruction as text, for the verifier log and `prog dump`.
 *
 * The text is the assembler's dialect (see bpfvm_asm()), so a printed line can
 * be pasted back into an assembly file.  Whole programs go through
 * bpfvm_disasm(), which also places labels at jump and call targets; this
 * internal entry point prints a single instruction and writes targets as
 * relative offsets (`ja +3`, `jeq %r1, 5, -2`, `call local +7`,
 * `lddw %r1, func +4`), like the kernel's `goto pc+3`.
 */
#ifndef BPFVM_DISASM_H
#define BPFVM_DISASM_H

#include <stddef.h>

#include "bpfvm/insn.h"
#include "isa/isa.h"

/* A buffer of this size always holds one instruction's text, comment included. */
#define DISASM_INSN_MAX 160

/* Print the instruction at insns[pc] (cnt slots in all, so that an lddw can
 * read its second half) into buf as one line without a newline: text, then
 * `  # comment` when there is one (a helper's name; for bytes that do not form
 * a valid instruction, what is wrong with them).  Bytes that cannot be written
 * back exactly from an instruction's text (unknown opcode, reserved field set,
 * register above r10, lddw without a proper second half) print as
 * `.insn 0x<64-bit little-endian word>`.  Output longer than size is
 * truncated, always NUL-terminated when size > 0.
 * Returns the number of slots the instruction occupies (1, or 2 for a
 * complete lddw), or -EINVAL when pc >= cnt. */
int disasm_insn(const struct bpf_insn *insns, size_t cnt, size_t pc, char *buf, size_t size);

/* The operand keyword of a pseudo lddw form, derived from the row's name in
 * opcodes.def ("map_fd" for OP_LDDW_MAP_FD, "func", "map_idx_value", ...);
 * NULL for the plain OP_LDDW and for ops that are not lddw. */
const char *disasm_lddw_kind(enum bpf_op op);

#endif
