#!/bin/sh
# tests/cli/run_obj.sh — `bpfvm run OBJ`: one BPF_PROG_TEST_RUN-style run of a
# program from an ELF object.
#
# The first 16 frames of examples/demo.pcap, cut out with od, tail and head, go through
# the demo firewall one `bpfvm run` at a time: the return values must be the
# ones `bpfvm xdp --trace` (the packet runner) reports for the same frames, and
# the output packet the input (the firewall does not rewrite).  Then the
# kernel's test-run rules: frames under 14 bytes refused with EINVAL, ctx_in
# checked, a socket filter's data_out with the Ethernet header zeroed; text and
# JSON output; --repeat; program choice and errors; raw programs as before.
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
# expect OUTPUT SUBSTRING
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# ---- cut the first N frames out of the capture (pcap: 24-byte file header,
# then a 16-byte record header with caplen at +8, little-endian here)
N=16
off=24 i=0
while [ $i -lt $N ]; do
	caplen=$(od -An -tu4 -j$((off + 8)) -N4 "$CAP" | tr -d ' ')
	tail -c +$((off + 17)) "$CAP" | head -c "$caplen" >"$T/p$i"
	[ "$(wc -c <"$T/p$i")" -eq "$caplen" ] || fail "could not cut frame $i"
	off=$((off + 16 + caplen))
	i=$((i + 1))
done

# ---- every frame: test run == packet runner, data_out == data_in
"$BPFVM" xdp "$OBJ" --in "$CAP" --count $N --trace >"$T/trace" 2>/dev/null || fail "xdp --trace"
i=0
while [ $i -lt $N ]; do
	out=$("$BPFVM" run "$OBJ" --data-file "$T/p$i" --json --data-out) || fail "run frame $i: $out"
	want=$(sed -n "$((i + 1))p" "$T/trace" | sed 's/.*"retval":\([0-9]*\),.*/\1/')
	expect "$out" "{\"retval\":$want,"
	expect "$out" "\"data_size_out\":$(wc -c <"$T/p$i" | tr -d ' '),\"data_out\":\"$(hex "$T/p$i")\"}"
	i=$((i + 1))
done
# the text form
out=$("$BPFVM" run "$OBJ" --data "$(hex "$T/p0")" --data-out) || fail "run: $out"
expect "$out" "retval: 2 (0x2)
duration: "
expect "$out" "data_out: 67 bytes
  0000: 00 1b 21 aa 00 01 52 54 00 01 00 25 08 00 45 00"
out=$("$BPFVM" run "$OBJ" --data-file "$T/p0" --repeat 1000 --json) || fail "--repeat: $out"
expect "$out" '{"retval":2,"duration_ns":'

# ---- the kernel's input rules
out=$("$BPFVM" run "$OBJ" --data 0102030405060708090a0b0c0d 2>&1) && fail "13-byte frame accepted"
expect "$out" "XDP frames are at least 14 bytes (Invalid argument)"
# struct xdp_md in: data 0, data_end = the frame's length, data_meta 0
out=$("$BPFVM" run "$OBJ" --data-file "$T/p0" --ctx 000000004300000000000000000000000000000000000000 \
	--data-out --json) || fail "--ctx: $out"
expect "$out" '"ctx_out":"000000004300000000000000000000000000000000000000"'
out=$("$BPFVM" run "$OBJ" --data-file "$T/p0" --ctx 000000004300000004000000000000000000000000000000 2>&1) &&
	fail "data_meta != 0 accepted"
expect "$out" "data_meta must be 0"
# a socket filter's packet starts at the network header; data_out has the
# Ethernet header zeroed
out=$("$BPFVM" run tests/objects/sockfilter_legacy.bpf.o --data-file "$T/p0" --data-out --json) ||
	fail "socket filter: $out"
expect "$out" '"data_out":"0000000000000000000000000000'"$(hex "$T/p0" | cut -c29-)"'"'
# a TC program
out=$("$BPFVM" run tests/objects/globals.bpf.o --data-file "$T/p1" --json) || fail "tc: $out"
expect "$out" '{"retval":0,'

# ---- choosing the program
out=$("$BPFVM" run tests/objects/pkt_tc.bpf.o --data-file "$T/p0" 2>&1) && fail "ambiguous program ran"
expect "$out" "has 6 programs; pick one with --prog: tc_ctx, tc_bytes"
out=$("$BPFVM" run tests/objects/pkt_tc.bpf.o --prog nope --data-file "$T/p0" 2>&1) && fail "unknown --prog"
expect "$out" "no program 'nope' in tests/objects/pkt_tc.bpf.o"
out=$("$BPFVM" run tests/objects/pkt_tc.bpf.o --prog tc_ctx --data-file "$T/p0" --json) || fail "--prog: $out"
expect "$out" '{"retval":0,'
out=$("$BPFVM" run "$OBJ" --data-file "$T/p0" --budget 10 2>&1) && fail "--budget with an object"
expect "$out" "--budget is for raw programs"
out=$("$BPFVM" run "$OBJ" --data zz 2>&1) && fail "bad hex accepted"
expect "$out" "--data: not hex bytes: zz"
out=$("$BPFVM" run "$OBJ" --data-file "$T/none" 2>&1) && fail "missing --data-file"
expect "$out" "cannot open $T/none"

# ---- raw programs keep their behaviour
printf 'mov %%r0, 3\nexit\n' >"$T/tx.s"
expect "$("$BPFVM" run "$T/tx.s")" "0x3"
expect "$("$BPFVM" run "$T/tx.s" --json)" '{"retval":3,"duration_ns":'
out=$("$BPFVM" run "$T/tx.s" --ctx 00 2>&1) && fail "--ctx with a raw program"
expect "$out" "is not an ELF object"
# ---- bpf_for_each_map_elem: the callback reads the key (an ARRAY's index) in every mode
for m in --checked --interp --jit; do
	out=$("$BPFVM" run tests/objects/callbacks.bpf.o --prog each --data-file "$T/p0" $m --json 2>&1) ||
		fail "for_each_map_elem $m: $out"
	expect "$out" '{"retval":2,'
done
echo "bpfvm run OBJ: test runs agree with the packet runner; the kernel's input rules hold"
