#!/bin/sh
# tests/cli/prog_jited.sh — `bpfvm prog dump OBJ PROG --jited`: the JIT's
# machine code under the eBPF instruction it came from.
#
# The structure, not the code (which changes with the JIT): the header line
# and the three headings; every eBPF instruction of the xlated dump, in order;
# machine code lines whose offsets run from 0 to the size the header gives
# without a gap or a repeat (so every byte belongs to exactly one heading or
# instruction); objdump's mnemonics when it is installed; raw bytes when
# BPFVM_OBJDUMP is empty or PATH has no objdump; --source lines among them.
# Where there is no JIT (not x86-64), the dump must refuse with a reason.
# Run from the repository root; $BUILD/bpfvm is the binary.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
OBJ=tests/objects/pkt_xdp.bpf.o
PROG=xdp_ctx
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
[ -f "$OBJ" ] || { echo "skipped: $OBJ is missing"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# expect OUTPUT SUBSTRING
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }

out=$("$BPFVM" prog --help) || fail "prog --help"
expect "$out" "--jited"

if [ "$(uname -m)" != x86_64 ]; then
	out=$("$BPFVM" prog dump "$OBJ" "$PROG" --jited 2>&1) && fail "--jited without a JIT: $out"
	expect "$out" "--jited: JIT: no native code generator"
	exit 0
fi

# the instruction indices, in order, of a dump
indices() { sed -n 's/^ *\([0-9][0-9]*\): [^ ].*/\1/p' "$1"; }
# check_dump FILE: headings, instruction order, every byte exactly once
check_dump() {
	head -n 1 "$1" | grep -q "^# $PROG: x86-64 JIT code, [0-9]* bytes" || fail "header: $(head -n 1 "$1")"
	for h in "<prologue and shared routines>:" "<instructions>:" \
		 "<out-of-line code: callx entries, slow paths, fault stubs>:"; do
		grep -qxF "$h" "$1" || fail "no heading '$h' in $1"
	done
	indices "$1" >"$T/idx"
	cmp -s "$T/xlated.idx" "$T/idx" || fail "instructions of $1 differ from the xlated dump"
	size=$(head -n 1 "$1" | sed 's/.*JIT code, \([0-9]*\) bytes.*/\1/')
	# machine code lines: "    OFFSET:  HEX BYTES  [mnemonic]"
	awk -v size="$size" '
		/^ +[0-9a-f]+:  [0-9a-f][0-9a-f]( |$)/ {
			split($0, f, ":  "); off = f[1]; gsub(/ /, "", off)
			n = 0; for (i = 1; i <= length(off); i++)
				n = n * 16 + index("0123456789abcdef", substr(off, i, 1)) - 1
			if (n != next_off) { printf "offset %s where %x was due\n", off, next_off; bad = 1; exit }
			nb = split(f[2], b, " "); cnt = 0
			for (i = 1; i <= nb && b[i] ~ /^[0-9a-f][0-9a-f]$/; i++) cnt++
			next_off += cnt; lines++
		}
		END { if (!bad && next_off != size) { print next_off " of " size " bytes shown"; bad = 1 }
		      if (!bad && !lines) { print "no machine code"; bad = 1 }
		      exit bad }' "$1" || fail "machine code of $1"
}

"$BPFVM" prog dump "$OBJ" "$PROG" >"$T/xlated" || fail "xlated dump"
indices "$T/xlated" >"$T/xlated.idx"
[ "$(wc -l <"$T/xlated.idx")" -gt 10 ] || fail "xlated dump too short"

# ---- raw bytes: objdump turned off, or not on PATH
BPFVM_OBJDUMP= "$BPFVM" prog dump "$OBJ" "$PROG" --jited >"$T/raw" || fail "--jited (raw)"
check_dump "$T/raw"
expect "$(head -n 1 "$T/raw")" "raw bytes (BPFVM_OBJDUMP is empty)"
mkdir "$T/empty"
(PATH="$T/empty" && export PATH && unset BPFVM_OBJDUMP &&
	"$BPFVM" prog dump "$OBJ" "$PROG" --jited >"$T/nopath") || fail "--jited without objdump on PATH"
check_dump "$T/nopath"
expect "$(head -n 1 "$T/nopath")" "raw bytes (objdump not found or failed)"
BPFVM_OBJDUMP="$T/empty/none" "$BPFVM" prog dump "$OBJ" "$PROG" --jited >"$T/bad" ||
	fail "--jited with a missing BPFVM_OBJDUMP"
check_dump "$T/bad"

# ---- disassembled, when objdump is there and knows x86-64
if command -v objdump >/dev/null 2>&1; then
	(unset BPFVM_OBJDUMP; "$BPFVM" prog dump "$OBJ" "$PROG" --jited >"$T/dis") || fail "--jited"
	check_dump "$T/dis"
	if head -n 1 "$T/dis" | grep -q "disassembled by objdump"; then
		grep -Eq '^ +[0-9a-f]+:  [0-9a-f ]+ +(push|ret|mov)' "$T/dis" || fail "no mnemonics in $T/dis"
	else
		echo "note: objdump does not disassemble x86-64 here: $(head -n 1 "$T/dis")"
	fi
else
	echo "note: no objdump: the disassembled form is not tested"
fi

# ---- with the C source lines
BPFVM_OBJDUMP= "$BPFVM" prog dump "$OBJ" "$PROG" --jited --source >"$T/src" || fail "--jited --source"
check_dump "$T/src"
grep -q '^; .* @ .*pkt_xdp\.bpf\.c:[0-9]*$' "$T/src" || fail "no source lines in --jited --source"

# ---- errors
out=$("$BPFVM" prog dump "$OBJ" no_such_prog --jited 2>&1) && fail "unknown program accepted"
expect "$out" "no program 'no_such_prog'"
# ---- BPFVM_JIT_HARDEN=1 blinds constants: mov32 %r1, 0x54432121 (perf_ctx's tc_out)
# is in the plain code and nowhere in the blinded one; results stay the same
PO=tests/objects/perf_ctx.bpf.o
hexbytes() { BPFVM_OBJDUMP= "$BPFVM" prog dump "$PO" tc_out --jited | sed -n 's/^ *[0-9a-f]*:  //p' | tr -d ' \n'; }
plain=$(hexbytes) || fail "dump tc_out"
blinded=$(BPFVM_JIT_HARDEN=1 hexbytes) || fail "dump tc_out blinded"
expect "$plain" "21214354"
case "$blinded" in *21214354*) fail "BPFVM_JIT_HARDEN=1: the constant is in the code" ;; esac
[ ${#blinded} -gt ${#plain} ] || fail "blinded code is not longer"
strip() { echo "$1" | sed 's/"elapsed_ns":[0-9]*,"pps":[0-9]*,//'; }
out1=$("$BPFVM" xdp examples/xdp_firewall.bpf.o --in examples/demo.pcap --json 2>&1) || fail "xdp: $out1"
out2=$(BPFVM_JIT_HARDEN=1 "$BPFVM" xdp examples/xdp_firewall.bpf.o --in examples/demo.pcap --json 2>&1) || fail "xdp hardened: $out2"
[ "$(strip "$out1")" = "$(strip "$out2")" ] || fail "BPFVM_JIT_HARDEN=1 changed the results"
exit 0
