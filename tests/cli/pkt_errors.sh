#!/bin/sh
# tests/cli/pkt_errors.sh — `bpfvm xdp|tc|socket` refuse bad input clearly.
#
# Missing files, captures that are not Ethernet (pcap and pcapng), junk and
# truncated captures, programs that do not exist or do not fit the hook,
# malformed --map-set / --set / --top / --threads / --count, conflicting
# options, outputs that cannot be written: each gives a message naming the
# problem and a non-zero exit status, never a crash (status >= 128).
# Run from the repository root; $BUILD/bpfvm is the binary.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
OBJ=examples/xdp_firewall.bpf.o
CAP=examples/demo.pcap
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
[ -f "$CAP" ] && [ -f "$OBJ" ] || { echo "skipped: $CAP or $OBJ is missing"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# refused MESSAGE ARGS...: bpfvm ARGS fails (not by a signal) and says MESSAGE
refused() {
	want=$1
	shift
	out=$("$BPFVM" "$@" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || fail "accepted: bpfvm $*"
	[ $rc -lt 128 ] || fail "crashed (status $rc): bpfvm $*"
	case "$out" in *"$want"*) ;; *) fail "bpfvm $*: expected '$want' in: $out" ;; esac
}

# ---- files
refused "bpfvm xdp: $T/none.pcap: No such file or directory" xdp "$OBJ" --in "$T/none.pcap"
refused "No such file or directory" xdp "$T/none.o" --in "$CAP"
printf 'not a capture at all' >"$T/junk"
refused "not a pcap or pcapng file" xdp "$OBJ" --in "$T/junk"
# a pcap of Linux cooked frames (link type 113)
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\161\000\000\000' >"$T/sll.pcap"
refused "link type 113 (LINUX_SLL) is not supported" xdp "$OBJ" --in "$T/sll.pcap"
# a pcapng section whose interface is LINUX_SLL, with one 14-byte packet
{
	printf '\012\015\015\012\034\000\000\000\115\074\053\032\001\000\000\000\377\377\377\377\377\377\377\377\034\000\000\000'
	printf '\001\000\000\000\024\000\000\000\161\000\000\000\377\377\000\000\024\000\000\000'
	printf '\006\000\000\000\060\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\016\000\000\000\016\000\000\000'
	printf '\001\002\003\004\005\006\007\010\011\012\013\014\010\000\000\000\060\000\000\000'
} >"$T/sll.pcapng"
refused "interface 0 has link type 113 (LINUX_SLL)" tc tests/objects/globals.bpf.o --in "$T/sll.pcapng"
# a capture cut in the middle of a packet: the packets before it still count
head -c 100000 "$CAP" >"$T/cut.pcap"
refused "truncated file: packet 150" xdp "$OBJ" --in "$T/cut.pcap" --json
expect_out=$("$BPFVM" xdp "$OBJ" --in "$T/cut.pcap" --json 2>/dev/null)
case "$expect_out" in *'"packets":150,'*'"complete":false'*'"read_error":'*) ;;
*) fail "truncated capture: $expect_out" ;; esac

# ---- programs
refused "no program 'nope' in $OBJ; its programs: xdp_firewall (xdp)" xdp "$OBJ" --in "$CAP" --prog nope
refused "has no program bpfvm tc can run; its programs: xdp_firewall (xdp)" tc "$OBJ" --in "$CAP"
refused "has 6 programs bpfvm tc can run; pick one with --prog: tc_ctx (sched_cls)" \
	tc tests/objects/pkt_tc.bpf.o --in "$CAP"
refused "program 'tc_ctx' is a sched_cls program; bpfvm xdp runs xdp programs" \
	xdp tests/objects/pkt_tc.bpf.o --prog tc_ctx --in "$CAP"
printf 'mov %%r0, 3\nexit\n' >"$T/tx.s"
refused "is not an ELF object: --prog, --set and --map-set need one" xdp "$T/tx.s" --in "$CAP" --prog x
printf 'mov %%r0, \n' >"$T/bad.s"
refused "bad.s" xdp "$T/bad.s" --in "$CAP"

# ---- --map-set, --set, --top, numbers
refused "--map-set blocklist: the key has 2 bytes, the map's keys 8" xdp "$OBJ" --in "$CAP" --map-set blocklist 1000 01
refused "--map-set blocklist: the key is not hex bytes: 'zz'" xdp "$OBJ" --in "$CAP" --map-set blocklist zz 01
refused "--map-set blocklist: the value has 2 bytes, the map's values 1" xdp "$OBJ" --in "$CAP" \
	--map-set blocklist 100000000a420000 0101
refused "--map-set: $OBJ has no map 'nomap'" xdp "$OBJ" --in "$CAP" --map-set nomap 00 00
refused "--map-set takes MAP KEYHEX VALUEHEX" xdp "$OBJ" --in "$CAP" --map-set blocklist 10000000
refused "--set cfg_drop_icmp: '300' is not a number that fits in 1 byte" xdp "$OBJ" --in "$CAP" --set cfg_drop_icmp=300
refused "--set cfg_drop_icmp: 'yes' is not a number" xdp "$OBJ" --in "$CAP" --set cfg_drop_icmp=yes
refused "--set: $OBJ has no global variable 'nothere'" xdp "$OBJ" --in "$CAP" --set nothere=1
refused "--set takes VAR=VALUE" xdp "$OBJ" --in "$CAP" --set cfg_drop_icmp
refused "--set io: 2 bytes given, the variable has 192" xdp tests/objects/pkt_xdp.bpf.o --prog xdp_ctx \
	--in "$CAP" --set io=0102
refused "--top takes MAP:N (N > 0), not 'flows'" xdp "$OBJ" --in "$CAP" --top flows
refused "--top: $OBJ has no map 'nomap'" xdp "$OBJ" --in "$CAP" --top nomap:3
refused "--threads takes 1 to 1024, not '0'" xdp "$OBJ" --in "$CAP" --threads 0
refused "--count takes a positive number, not 'many'" xdp "$OBJ" --in "$CAP" --count many

# ---- options
refused "give exactly one of --in CAPTURE and --iface IF" xdp "$OBJ"
refused "give exactly one of --in CAPTURE and --iface IF" xdp "$OBJ" --in "$CAP" --iface lo
refused "no object file given" xdp --in "$CAP"
refused "unknown option '--bogus'" socket "$OBJ" --in "$CAP" --bogus
refused "unknown option '--egress'" xdp "$OBJ" --in "$CAP" --egress
refused "--in needs a value" xdp "$OBJ" --in
refused "--trace and an output on stdout" xdp "$OBJ" --in "$CAP" --trace --out -
refused "--threads works on captures only" xdp "$OBJ" --iface lo --threads 2
refused "$T/no/dir/out.pcap" xdp "$OBJ" --in "$CAP" --out "$T/no/dir/out.pcap"
refused "nosuchif0" xdp "$OBJ" --iface nosuchif0 --count 1

# ---- help is accurate about what exists
for c in xdp tc socket; do
	out=$("$BPFVM" $c --help) || fail "$c --help"
	for o in --prog --in --iface --out --drop-out --threads --trace --json --dump-maps --top \
		--map-set --set --checked --interp --jit --count; do
		case "$out" in *"$o"*) ;; *) fail "bpfvm $c --help does not mention $o" ;; esac
	done
done
case "$("$BPFVM" tc --help)" in *--egress*) ;; *) fail "tc --help lacks --egress" ;; esac
echo "bpfvm xdp/tc/socket: every bad input refused with a message"
