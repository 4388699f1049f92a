#!/bin/sh
# tests/cli/pkt_tc.sh — `bpfvm tc` end to end on examples/demo.pcap.
#
# TC programs from tests/objects: trace_printk lines streamed before each
# packet's trace line (globals.bpf.o with its const volatile settings changed by
# --set), VLAN handling at ingress (the tag the kernel moves into the skb comes
# back in --out) and egress, bpf_skb_vlan_push growing every frame, TC_ACT_SHOT
# at egress, TC_ACT_REDIRECT with its target, and --threads.
# Run from the repository root; $BUILD/bpfvm is the binary.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
CAP=examples/demo.pcap
TCO=tests/objects/pkt_tc.bpf.o
GLO=tests/objects/globals.bpf.o
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
[ -f "$CAP" ] && [ -f "$TCO" ] && [ -f "$GLO" ] || { echo "skipped: test inputs missing"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# expect OUTPUT SUBSTRING
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
printf '{ 0x6, 0, 0, 0x40000 },\n' >"$T/all.dd"
printf '{ 0x80, 0, 0, 0 },\n{ 0x35, 0, 1, 14 },\n{ 0x6, 0, 0, 0x40000 },\n{ 0x6, 0, 0, 0 },\n' >"$T/eth.dd" # len >= 14
pcap_count() { "$BPFVM" filter --dd "$T/all.dd" --in "$1" --json || fail "cannot read $1"; }
# the parameter array io[24] of pkt_tc.bpf.o as hex: zeros N
zeros() { i=0; while [ $i -lt "$1" ]; do printf 0000000000000000; i=$((i + 1)); done; }

# ---- trace_printk: one line per sampled packet, just before its trace line
"$BPFVM" tc "$GLO" --in "$CAP" --set cfg_verbose=1 --set cfg_sample_rate=1 --set cfg_min_len=0 \
	--trace >"$T/trace" 2>"$T/err" || fail "globals: $(cat "$T/err")"
[ "$(grep -c '^{"index":' "$T/trace")" -eq 2916 ] || fail "trace lines"
[ "$(grep -c 'bpf_trace_printk: sampled len=' "$T/trace")" -eq 2913 ] || fail "trace_printk lines"
expect "$(sed -n 1,2p "$T/trace")" "bpf_trace_printk: sampled len=67
{\"index\":0,\"verdict\":\"TC_ACT_OK\",\"retval\":0,\"len_in\":67,\"len_out\":67,\"redirect\":null}"
expect "$(cat "$T/err")" "TC_ACT_OK              2913"
# without --trace they go to stderr, as they come; cfg_min_len keeps short ones out
out=$("$BPFVM" tc "$GLO" --in "$CAP" --set cfg_verbose=1 --set cfg_sample_rate=1 \
	--set cfg_min_len=1500 --json 2>"$T/err") || fail "globals: $out"
expect "$out" '"TC_ACT_OK":{"packets":2913,'
n=$(grep -c 'bpf_trace_printk: sampled len=' "$T/err")
printf '{ 0x80, 0, 0, 0 },\n{ 0x35, 0, 1, 1500 },\n{ 0x6, 0, 0, 0x40000 },\n{ 0x6, 0, 0, 0 },\n' >"$T/big.dd"
want=$("$BPFVM" filter --dd "$T/big.dd" --in "$CAP" --json | sed 's/.*"matched":\([0-9]*\),.*/\1/')
# classic BPF's len is the wire length: one 1514-byte frame was captured as 96
[ "$n" -eq $((want - 1)) ] || fail "$n trace_printk lines for $want - 1 frames of 1500 bytes or more"

# ---- VLAN: at ingress the outer tag moves into the skb and comes back in --out
out=$("$BPFVM" tc "$TCO" --prog tc_ctx --in "$CAP" --out "$T/in.pcap" --json) || fail "tc_ctx: $out"
expect "$out" '"TC_ACT_OK":{"packets":2913,"bytes":1612750}'
"$BPFVM" filter --dd "$T/eth.dd" --in "$CAP" --out "$T/ran.pcap" >/dev/null || fail "filter"
cmp -s "$T/in.pcap" "$T/ran.pcap" || fail "tc ingress changed frames that a no-op program passed"
"$BPFVM" tc "$TCO" --prog tc_ctx --egress --in "$CAP" --out "$T/eg.pcap" >/dev/null || fail "--egress"
cmp -s "$T/eg.pcap" "$T/ran.pcap" || fail "tc egress changed frames that a no-op program passed"
# bpf_skb_vlan_push(htons(0x8100), 42) on every frame: 4 bytes more each, the new
# tag outermost (a tag that was there moves inside)
IO="0100000000000000""8100000000000000""2a00000000000000$(zeros 21)"
out=$("$BPFVM" tc "$TCO" --prog tc_vlan --set "io=$IO" --in "$CAP" --out "$T/vlan.pcap" --json) ||
	fail "tc_vlan: $out"
expect "$out" '"out_bytes":1624402,' # 1612750 + 4 * 2913
expect "$(pcap_count "$T/vlan.pcap")" '"bytes":1624402,'
expect "$(od -An -tx1 -j52 -N6 "$T/vlan.pcap")" "81 00 00 2a 08 00"
# 802.1Q with VLAN 42 outside VLAN 100: vlan 42 and vlan 100 and udp port 16384
cat >"$T/qq.dd" <<'EOF'
{ 0x28, 0, 0, 12 },
{ 0x15, 0, 7, 0x8100 },
{ 0x28, 0, 0, 14 },
{ 0x54, 0, 0, 0xfff },
{ 0x15, 0, 4, 42 },
{ 0x28, 0, 0, 18 },
{ 0x54, 0, 0, 0xfff },
{ 0x15, 0, 1, 100 },
{ 0x6, 0, 0, 0x40000 },
{ 0x6, 0, 0, 0 },
EOF
expect "$("$BPFVM" filter --dd "$T/qq.dd" --in "$T/vlan.pcap" --json)" '"matched":180,'

# ---- TC_ACT_SHOT (tc_ctx returns p[7] >> 8) and TC_ACT_REDIRECT (tc_redir)
out=$("$BPFVM" tc "$TCO" --prog tc_ctx --egress --set "io=$(zeros 7)0002000000000000$(zeros 16)" \
	--in "$CAP" --drop-out "$T/shot.pcap" --json) || fail "shot: $out"
expect "$out" '"hook":"tc egress"'
expect "$out" '"TC_ACT_SHOT":{"packets":2913,"bytes":1612750},"TC_ACT_OK":{"packets":0,'
expect "$(pcap_count "$T/shot.pcap")" '"packets":2916,' # with the 3 runts
out=$("$BPFVM" tc "$TCO" --prog tc_redir --set "io=$(zeros 1)0500000000000000$(zeros 22)" \
	--in "$CAP" --count 2 --trace 2>/dev/null) || fail "redirect: $out"
expect "$out" '{"index":1,"verdict":"TC_ACT_REDIRECT","retval":7,"len_in":83,"len_out":83,"redirect":5}'

# ---- --threads: the same counts and outputs
out=$("$BPFVM" tc "$TCO" --prog tc_vlan --set "io=$IO" --in "$CAP" --out "$T/vlan2.pcap" --threads 2 --json) ||
	fail "--threads 2: $out"
expect "$out" '"threads":2,'
cmp -s "$T/vlan.pcap" "$T/vlan2.pcap" || fail "--threads 2 wrote other packets"
# ---- the interpreter and the JIT: the same verdicts and packets, byte for byte
for prog in tc_ctx tc_vlan tc_redir; do
	for m in --interp --jit; do
		"$BPFVM" tc "$TCO" --prog $prog --set "io=$IO" --in "$CAP" --out "$T/$prog$m.pcap" \
			--trace --dump-maps >"$T/$prog$m.trace" 2>"$T/err" || fail "$prog $m: $(cat "$T/err")"
	done
	cmp -s "$T/$prog--interp.pcap" "$T/$prog--jit.pcap" || fail "$prog: --interp and --jit wrote other packets"
	cmp -s "$T/$prog--interp.trace" "$T/$prog--jit.trace" || fail "$prog: --interp and --jit traces differ"
done
echo "bpfvm tc: trace_printk, VLANs, verdicts and redirects as expected"
