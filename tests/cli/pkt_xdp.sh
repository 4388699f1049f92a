#!/bin/sh
# tests/cli/pkt_xdp.sh — `bpfvm xdp` end to end on examples/demo.pcap.
#
# The demo firewall (examples/xdp_firewall.bpf.o) with 10.66.0.0/16 blocked:
# exact per-verdict counts, derived from examples/gen_capture.c (2916 frames; 3
# runts of 6, 10 and 13 bytes that no hook sees; 9 scanners in 10.66.0.0/16
# sending IPv4 only, untagged) and recomputed here with hand-written classic BPF
# programs run by `bpfvm filter` (and with tcpdump when it is installed).  Then
# --out/--drop-out contents, --trace, --threads (same counts, same trace, same
# outputs), --count, stdin, --set, the per-CPU and flow maps, programs that
# rewrite packets, XDP_TX, XDP_REDIRECT and programs that fault.
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
BLOCK="10000000 0a420000" # LPM key {prefixlen 16, 10.66.0.0}
fw() { "$BPFVM" xdp "$OBJ" --in "$CAP" --map-set blocklist "$BLOCK" 01 "$@"; }
# classic BPF counters: every frame; IPv4 from 10.66/16; ICMPv4 not from 10.66/16
printf '{ 0x6, 0, 0, 0x40000 },\n' >"$T/all.dd"
cat >"$T/blocked.dd" <<'EOF'
{ 0x28, 0, 0, 12 },
{ 0x15, 0, 4, 0x800 },
{ 0x20, 0, 0, 26 },
{ 0x54, 0, 0, 0xffff0000 },
{ 0x15, 0, 1, 0x0a420000 },
{ 0x6, 0, 0, 0x40000 },
{ 0x6, 0, 0, 0 },
EOF
cat >"$T/icmp.dd" <<'EOF'
{ 0x28, 0, 0, 12 },
{ 0x15, 0, 6, 0x800 },
{ 0x30, 0, 0, 23 },
{ 0x15, 0, 4, 1 },
{ 0x20, 0, 0, 26 },
{ 0x54, 0, 0, 0xffff0000 },
{ 0x15, 1, 0, 0x0a420000 },
{ 0x6, 0, 0, 0x40000 },
{ 0x6, 0, 0, 0 },
EOF
# pcap_count FILE: '"packets":N,...,"bytes":B' of a capture
pcap_count() { "$BPFVM" filter --dd "$T/all.dd" --in "$1" --json || fail "cannot read $1"; }

# ---- the expected counts, recomputed independently
out=$("$BPFVM" filter --dd "$T/blocked.dd" --in "$CAP" --json) || fail "filter: $out"
expect "$out" '"packets":2916,"matched":202,'
expect "$out" '"matched_bytes":14537,'
out=$("$BPFVM" filter --dd "$T/icmp.dd" --in "$CAP" --json) || fail "filter: $out"
expect "$out" '"matched":26,'
expect "$out" '"matched_bytes":2536,'
if command -v tcpdump >/dev/null 2>&1; then
	n=$(tcpdump -r "$CAP" 'src net 10.66.0.0/16' 2>/dev/null | wc -l)
	[ "$n" -eq 202 ] || fail "tcpdump counts $n packets from 10.66.0.0/16, not 202"
fi

# ---- the firewall: summary table and JSON
out=$(fw) || fail "xdp: $out"
expect "$out" "xdp_firewall (xdp) on $CAP: 2916 packets, 1612779 bytes"
expect "$out" "XDP_DROP                202    6.9%        14537"
expect "$out" "XDP_PASS               2711   93.0%      1598213"
expect "$out" "NOT_RUN                   3    0.1%           29"
expect "$out" "not run: 3 packets (first: 1274): frame shorter than an Ethernet header"
out=$(fw --json) || fail "xdp --json: $out"
expect "$out" '"packets":2916,"bytes":1612779,"out_bytes":1598213,'
expect "$out" '"XDP_ABORTED":{"packets":0,"bytes":0},"XDP_DROP":{"packets":202,"bytes":14537},"XDP_PASS":{"packets":2711,"bytes":1598213},"XDP_TX":{"packets":0,"bytes":0},"XDP_REDIRECT":{"packets":0,"bytes":0},"NOT_RUN":{"packets":3,"bytes":29}'
expect "$out" '"complete":true'
# without the blocklist entry everything that runs passes
out=$("$BPFVM" xdp "$OBJ" --in "$CAP" --json) || fail "xdp: $out"
expect "$out" '"XDP_DROP":{"packets":0,"bytes":0},"XDP_PASS":{"packets":2913,"bytes":1612750}'
# every execution mode gives the same verdicts
for m in --checked --interp --jit; do
	out=$(fw --json $m 2>&1) || { expect "$out" "--jit:"; continue; } # no JIT here
	expect "$out" '"XDP_DROP":{"packets":202,"bytes":14537},"XDP_PASS":{"packets":2711,'
done

# ---- maps: the program's own per-CPU verdict counters and flow table
out=$(fw --top verdicts:4 --top flows:1 --top blocklist:5) || fail "--top: $out"
expect "$out" "2 => [{packets=202, bytes=14537}"
expect "$out" "{prefixlen=16, addr=10.66.0.0} => 1"
# the heavy hitter of gen_capture.c: 93.184.216.34:443 -> 192.168.1.50
printf '{ 0x20, 0, 0, 26 },\n{ 0x15, 0, 3, 0x5db8d822 },\n{ 0x28, 0, 0, 34 },\n{ 0x15, 0, 1, 443 },\n{ 0x6, 0, 0, 0x40000 },\n{ 0x6, 0, 0, 0 },\n' >"$T/hh.dd"
hh=$("$BPFVM" filter --dd "$T/hh.dd" --in "$CAP" --json) || fail "filter: $hh"
expect "$hh" '"matched":414,'
expect "$out" "{saddr=93.184.216.34, daddr=192.168.1.50, sport=443, dport=39436, proto=6, pad=[0, 0, 0]} => {packets=414, bytes=620911}"
out=$(fw --dump-maps --json) || fail "--dump-maps --json: $out"
expect "$out" '"maps":[{"map":"blocklist","type":"lpm_trie","entries":[{"key":{"prefixlen": 16, "addr": "10.66.0.0"},"value":1}]}'
expect "$out" '{"map":"verdicts","type":"percpu_array"'

# ---- --set: a const volatile setting; ICMP dropped too
out=$(fw --set cfg_drop_icmp=1 --json --top verdicts:4) || fail "--set: $out"
expect "$out" '"XDP_DROP":{"packets":228,"bytes":17073},"XDP_PASS":{"packets":2685,'
expect "$out" '{"key":3,"value":[{"packets": 26, "bytes": 2536}'

# ---- --out / --drop-out: the passed and the dropped packets, as tcpdump would pick them
fw --out "$T/pass.pcap" --drop-out "$T/drop.pcap" >/dev/null || fail "--out"
out=$(pcap_count "$T/pass.pcap")
expect "$out" '"packets":2711,'
expect "$out" '"bytes":1598213,'
out=$(pcap_count "$T/drop.pcap")
expect "$out" '"packets":205,' # 202 blocked + 3 runts
expect "$out" '"bytes":14566,'
"$BPFVM" filter --dd "$T/blocked.dd" --in "$T/drop.pcap" --out "$T/drop_ip.pcap" >/dev/null
cmp -s "$T/drop_ip.pcap" "$("$BPFVM" filter --dd "$T/blocked.dd" --in "$CAP" --out "$T/b.pcap" >/dev/null; echo "$T/b.pcap")" ||
	fail "the dropped IPv4 packets differ from the blocked ones"
if command -v tcpdump >/dev/null 2>&1; then
	tcpdump -r "$CAP" -w "$T/t.pcap" 'not src net 10.66.0.0/16' 2>/dev/null
	cmp -s "$T/pass.pcap" "$T/t.pcap" || fail "--out differs from tcpdump's 'not src net 10.66.0.0/16'"
fi
# streamed from stdin to stdout: the same bytes
"$BPFVM" xdp "$OBJ" --in - --map-set blocklist "$BLOCK" 01 --out - <"$CAP" 2>/dev/null |
	cmp -s - "$T/pass.pcap" || fail "stdin to stdout differs from --in FILE --out FILE"

# ---- --trace: one line per packet, the same counts; order kept with --threads
fw --trace >"$T/trace1" 2>"$T/summary1" || fail "--trace"
n=$(grep -c '^{"index":' "$T/trace1")
[ "$n" -eq 2916 ] || fail "--trace printed $n packet lines, not 2916"
[ "$(grep -c '"verdict":"XDP_DROP"' "$T/trace1")" -eq 202 ] || fail "--trace: XDP_DROP lines"
[ "$(grep -c '"verdict":"XDP_PASS","retval":2,' "$T/trace1")" -eq 2711 ] || fail "--trace: XDP_PASS lines"
expect "$(sed -n 1275p "$T/trace1")" '{"index":1274,"verdict":"NOT_RUN","retval":null,"len_in":6,"len_out":0,"redirect":null,"error":"frame shorter than an Ethernet header'
expect "$(grep -m1 '"wire_len"' "$T/trace1")" '"len_in":96,"len_out":96,"redirect":null,"wire_len":1514}'
# the 9000-byte jumbo frame: the first 3520 bytes linear, then 2 fragment pages
expect "$(grep '"len_in":9000' "$T/trace1")" '"verdict":"XDP_PASS","retval":2,"len_in":9000,"len_out":9000,"redirect":null,"frags":2}'
expect "$(cat "$T/summary1")" "XDP_DROP                202"
for t in 2 3; do
	out=$(fw --threads $t --json) || fail "--threads $t: $out"
	expect "$out" '"threads":'$t','
	expect "$out" '"XDP_DROP":{"packets":202,"bytes":14537},"XDP_PASS":{"packets":2711,"bytes":1598213}'
	fw --threads $t --trace --out "$T/pass$t.pcap" >"$T/trace$t" 2>/dev/null || fail "--threads $t --trace"
	cmp -s "$T/trace1" "$T/trace$t" || fail "--threads $t: the trace differs from one thread's"
	cmp -s "$T/pass.pcap" "$T/pass$t.pcap" || fail "--threads $t: --out differs from one thread's"
done
# per-CPU counters: spread over the workers, the same sum
out=$(fw --threads 2 --top verdicts:4) || fail "--threads 2 --top"
sum=$(printf '%s\n' "$out" | sed -n 's/^  2 => //p' | tr ',' '\n' | sed -n 's/.*packets=\([0-9]*\).*/\1/p' |
	awk '{ s += $1 } END { print s }')
[ "$sum" = 202 ] || fail "per-CPU blocked counts sum to '$sum', not 202"

# ---- --count
out=$(fw --count 100 --json) || fail "--count: $out"
expect "$out" '"packets":100,'

# ---- programs that rewrite packets: pkt_xdp.bpf.o's xdp_adjust, parameters in
# its .bss array io[24] (p = io[0..7]): bpf_xdp_adjust_head(+14), _meta(0), _tail(0)
zeros() { i=0; while [ $i -lt "$1" ]; do printf 0000000000000000; i=$((i + 1)); done; }
IO="0e00000000000000$(zeros 2)2400000000000000$(zeros 20)"
out=$("$BPFVM" xdp tests/objects/pkt_xdp.bpf.o --prog xdp_adjust --set "io=$IO" --in "$CAP" \
	--out "$T/adj.pcap" --json) || fail "xdp_adjust: $out"
expect "$out" '"XDP_PASS":{"packets":2913,"bytes":1612750}'
expect "$out" '"out_bytes":1571968,' # 1612750 - 14 * 2913
out=$(pcap_count "$T/adj.pcap")
expect "$out" '"packets":2913,'
expect "$out" '"bytes":1571968,'
# the first frame lost its Ethernet header: its IPv4 header is at the start
expect "$(od -An -tx1 -j40 -N2 "$T/adj.pcap")" "45 00"
# xdp_ctx returns p[2]: 1 is XDP_DROP, 9 no action at all (XDP_ABORTED)
out=$("$BPFVM" xdp tests/objects/pkt_xdp.bpf.o --prog xdp_ctx --set "io=$(zeros 2)0100000000000000$(zeros 21)" \
	--in "$CAP" --json) || fail "xdp_ctx: $out"
expect "$out" '"XDP_DROP":{"packets":2913,'
out=$("$BPFVM" xdp tests/objects/pkt_xdp.bpf.o --prog xdp_ctx --set "io=$(zeros 2)0900000000000000$(zeros 21)" \
	--in "$CAP" --json) || fail "xdp_ctx: $out"
expect "$out" '"XDP_ABORTED":{"packets":2913,'

# ---- raw programs (assembly): XDP_TX, XDP_REDIRECT, and a faulting program
printf 'mov %%r0, 3\nexit\n' >"$T/tx.s"
out=$("$BPFVM" xdp "$T/tx.s" --in "$CAP" --out "$T/tx.pcap" --json) || fail "tx: $out"
expect "$out" '"XDP_TX":{"packets":2913,"bytes":1612750}'
expect "$(pcap_count "$T/tx.pcap")" '"packets":2913,'
printf 'mov %%r1, 7\nmov %%r2, 0\ncall 23\nexit\n' >"$T/redir.s" # bpf_redirect(7, 0)
out=$("$BPFVM" xdp "$T/redir.s" --in "$CAP" --count 3 --trace 2>/dev/null) || fail "redirect: $out"
expect "$out" '{"index":0,"verdict":"XDP_REDIRECT","retval":4,"len_in":67,"len_out":67,"redirect":7}'
printf 'ldxdw %%r0, [%%r1+1000]\nexit\n' >"$T/bad.s"
"$BPFVM" xdp "$T/bad.s" --in "$CAP" --json >"$T/bad.out" 2>"$T/bad.err" || fail "a faulting program made bpfvm fail"
out=$(cat "$T/bad.out")
expect "$out" '"ERROR":{"packets":2913,'
expect "$out" '"message":"insn 0: ldxdw: out-of-bounds load of 8 bytes at ctx+1000 (ctx is 24 bytes)","first":0,"count":2913,"not_run":false'
[ "$(grep -c 'packet 0: insn 0: ldxdw: out-of-bounds' "$T/bad.err")" -eq 1 ] ||
	fail "the error message is not printed exactly once: $(cat "$T/bad.err")"
# ---- frame sizes: 70000 bytes run (in fragments, as the kernel's multi-buffer
# XDP), 80000 bytes are more than one page and 17 fragments; skb hooks take
# at most 65535
{
	printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\000\000\004\000\001\000\000\000'
	printf '\000\000\000\000\000\000\000\000\160\021\001\000\160\021\001\000'
	head -c 70000 /dev/zero
	printf '\000\000\000\000\000\000\000\000\200\070\001\000\200\070\001\000'
	head -c 80000 /dev/zero
} >"$T/jumbo.pcap"
out=$("$BPFVM" xdp "$OBJ" --in "$T/jumbo.pcap" --trace 2>/dev/null) || fail "jumbo: $out"
expect "$out" '{"index":0,"verdict":"XDP_PASS","retval":2,"len_in":70000,"len_out":70000,"redirect":null,"frags":17}'
expect "$out" '{"index":1,"verdict":"NOT_RUN","retval":null,"len_in":80000,"len_out":0,"redirect":null,"error":"frame larger than XDP takes (73152 bytes'
out=$("$BPFVM" tc tests/objects/globals.bpf.o --in "$T/jumbo.pcap" --json) || fail "jumbo tc: $out"
expect "$out" '"NOT_RUN":{"packets":2,"bytes":150000}'
expect "$out" '"message":"frame larger than an skb hook takes (65535 bytes)","first":0,"count":2'
echo "bpfvm xdp: counts, outputs, trace, threads, maps and rewrites as expected"
