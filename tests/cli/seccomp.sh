#!/bin/sh
# tests/cli/seccomp.sh — `bpfvm seccomp`: a small service filter in tcpdump -dd
# form, evaluated for several system calls, architectures and arguments; a
# filter the kernel would refuse, with its message.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }

# arch x86_64 or KILL_THREAD; read/exit_group allowed; openat EACCES; execve
# killed; write allowed for fd 0..2 (args[0] < 3), else EBADF; anything else LOG
cat >"$T/svc.dd" <<'EOF'
{ 0x20, 0, 0, 0x00000004 },
{ 0x15, 0, 15, 0xc000003e },
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 8, 0, 0x00000000 },
{ 0x15, 7, 0, 0x000000e7 },
{ 0x15, 7, 0, 0x00000101 },
{ 0x15, 7, 0, 0x0000003b },
{ 0x15, 0, 8, 0x00000001 },
{ 0x20, 0, 0, 0x00000014 },
{ 0x15, 0, 5, 0x00000000 },
{ 0x20, 0, 0, 0x00000010 },
{ 0x25, 3, 0, 0x00000002 },
{ 0x6, 0, 0, 0x7fff0000 },
{ 0x6, 0, 0, 0x0005000d },
{ 0x6, 0, 0, 0x80000000 },
{ 0x6, 0, 0, 0x00050009 },
{ 0x6, 0, 0, 0x7ffc0000 },
{ 0x6, 0, 0, 0x00000000 },
EOF
run() { "$BPFVM" seccomp "$T/svc.dd" "$@" 2>&1 || fail "bpfvm seccomp $*"; }
expect "$(run --syscall read)" "ALLOW  ret=0x7fff0000  syscall 0 (read) on x86_64"
expect "$(run --syscall exit_group)" "ALLOW"
expect "$(run --syscall openat --args -100,0)" "ERRNO(13 EACCES)"
expect "$(run --syscall 59)" "KILL_PROCESS  ret=0x80000000  syscall 59 (execve)"
expect "$(run --syscall write --args 2,0,0)" "ALLOW"
expect "$(run --syscall write --args 3)" "ERRNO(9 EBADF)"
expect "$(run --syscall write --args 0x100000001)" "ERRNO(9 EBADF)"
expect "$(run --syscall getpid)" "LOG"
expect "$(run --syscall read --arch i386)" "KILL_THREAD"
expect "$(run --syscall 63 --arch aarch64)" "KILL_THREAD  ret=0x00000000  syscall 63 (read) on aarch64"
expect "$(run --syscall openat --json)" '{"syscall":257,"arch":"x86_64","ret":327693,"action":"ERRNO","data":13,"errno":"EACCES"}'
expect "$(run --syscall 336)" "note: recent Linux kernels do not run seccomp filters"
out=$("$BPFVM" seccomp "$T/svc.dd" --syscall frobnicate 2>&1) && fail "unknown name accepted"
expect "$out" "unknown system call 'frobnicate' for x86_64"
out=$("$BPFVM" seccomp "$T/svc.dd" --syscall read --arch sparc 2>&1) && fail "unknown arch accepted"
expect "$out" "unknown architecture 'sparc'"

# a packet load is not a seccomp instruction
printf '{ 0x28, 0, 0, 0 },\n{ 0x16, 0, 0, 0 },\n' >"$T/ldh.dd"
out=$("$BPFVM" seccomp "$T/ldh.dd" --syscall read 2>&1) && fail "ldh accepted"
expect "$out" "insn 0: ldh (opcode 0x28) is a packet load seccomp filters may not use"
printf '{ 0x20, 0, 0, 6 },\n{ 0x16, 0, 0, 0 },\n' >"$T/mis.dd"
out=$("$BPFVM" seccomp "$T/mis.dd" --syscall read 2>&1) && fail "misaligned load accepted"
expect "$out" "insn 0: ld [6]: seccomp filters may only load aligned 32-bit words"
echo "seccomp: all verdicts as expected"
