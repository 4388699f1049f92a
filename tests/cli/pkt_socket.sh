#!/bin/sh
# tests/cli/pkt_socket.sh — `bpfvm socket` end to end on examples/demo.pcap.
#
# Socket filters from tests/objects: a legacy-maps filter keeping TCP (its counts
# recomputed with the same test in classic BPF), the "bytes to keep" rule (a
# filter returning 64 keeps 64 bytes of each frame, as `bpfvm filter` does),
# and ring-buffer records streamed per packet (on stdout before each packet's
# trace line, on stderr otherwise), also from several threads.
# Run from the repository root; $BUILD/bpfvm is the binary.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
CAP=examples/demo.pcap
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
for f in "$CAP" tests/objects/sockfilter_legacy.bpf.o tests/objects/pkt_sock.bpf.o \
	tests/objects/ringbuf.bpf.o; do
	[ -f "$f" ] || { echo "skipped: $f is missing"; exit 77; }
done
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# expect OUTPUT SUBSTRING
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
printf '{ 0x6, 0, 0, 0x40000 },\n' >"$T/all.dd"
pcap_count() { "$BPFVM" filter --dd "$T/all.dd" --in "$1" --json || fail "cannot read $1"; }
zeros() { i=0; while [ $i -lt "$1" ]; do printf 0000000000000000; i=$((i + 1)); done; }

# ---- sock_tcp_only: keeps a frame when its byte 23 is 6 (IPPROTO_TCP in an
# untagged IPv4 header), reading it with ld_abs; the same test in classic BPF
printf '{ 0x30, 0, 0, 23 },\n{ 0x15, 0, 1, 6 },\n{ 0x6, 0, 0, 0x40000 },\n{ 0x6, 0, 0, 0 },\n' >"$T/b23.dd"
want=$("$BPFVM" filter --dd "$T/b23.dd" --in "$CAP" --json) || fail "filter: $want"
expect "$want" '"matched":1905,'
expect "$want" '"matched_bytes":1240436,'
out=$("$BPFVM" socket tests/objects/sockfilter_legacy.bpf.o --in "$CAP" --out "$T/tcp.pcap" --json) ||
	fail "sockfilter_legacy: $out"
expect "$out" '"hook":"socket filter"'
expect "$out" '"DROP":{"packets":1008,"bytes":372314},"PASS":{"packets":1905,"bytes":1240436}'
"$BPFVM" filter --dd "$T/b23.dd" --in "$CAP" --out "$T/want.pcap" >/dev/null
cmp -s "$T/tcp.pcap" "$T/want.pcap" || fail "the kept packets differ from classic BPF's"
# its legacy SEC("maps") array counted the protocol bytes it saw: 1905 TCP (0x771)
out=$("$BPFVM" socket tests/objects/sockfilter_legacy.bpf.o --in "$CAP" --dump-maps) || fail "--dump-maps"
expect "$out" "0x06000000 => 0x7107000000000000"

# ---- the return value is the number of bytes to keep (pkt_sock.bpf.o's
# sock_filter returns p[5] = io[5])
out=$("$BPFVM" socket tests/objects/pkt_sock.bpf.o --prog sock_filter \
	--set "io=$(zeros 5)4000000000000000$(zeros 18)" --in "$CAP" --out "$T/r64.pcap" --json) ||
	fail "sock_filter: $out"
expect "$out" '"PASS":{"packets":2913,"bytes":1612750}'
expect "$out" '"out_bytes":186230,'
printf '{ 0x6, 0, 0, 64 },\n' >"$T/r64.dd"
out=$("$BPFVM" filter --dd "$T/r64.dd" --in "$CAP" --json)
expect "$out" '"matched_bytes":186259,' # the same, with the runts' 29 bytes
expect "$(pcap_count "$T/r64.pcap")" '"bytes":186230,'

# ---- ring-buffer records: 32 bytes per packet (time, len, ifindex, head[16])
"$BPFVM" socket tests/objects/ringbuf.bpf.o --in "$CAP" --trace >"$T/trace" 2>"$T/err" ||
	fail "ringbuf: $(cat "$T/err")"
[ "$(grep -c '^ringbuf events: ' "$T/trace")" -eq 2913 ] || fail "ring-buffer lines"
[ "$(grep -c '^{"index":' "$T/trace")" -eq 2916 ] || fail "trace lines"
# the first packet's record comes before its trace line: len 67, ifindex 1, its
# first 16 bytes
l1=$(sed -n 1p "$T/trace")
expect "$l1" "ringbuf events: "
expect "$l1" "4300000001000000001b21aa000152540001002508004500"
expect "$(sed -n 2p "$T/trace")" '{"index":0,"verdict":"DROP","retval":0,"len_in":67,"len_out":0,'
"$BPFVM" socket tests/objects/ringbuf.bpf.o --in "$CAP" --threads 2 --json >"$T/out" 2>"$T/err" ||
	fail "ringbuf --threads 2"
[ "$(grep -c '^ringbuf events: ' "$T/err")" -eq 2913 ] || fail "ring-buffer lines with 2 threads"
expect "$(cat "$T/out")" '"DROP":{"packets":2913,'
# ---- the interpreter and the JIT: the same verdicts, packets and maps
for obj in sockfilter_legacy:sock_tcp_only pkt_sock:sock_filter pkt_sock:sock_ldabs pkt_sock:sock_ldind; do
	prog=${obj#*:}
	obj=${obj%:*}
	for m in --interp --jit; do
		"$BPFVM" socket tests/objects/$obj.bpf.o --prog $prog --in "$CAP" --out "$T/$obj$m.pcap" \
			--trace --dump-maps >"$T/$obj$m.trace" 2>"$T/err" || fail "$prog $m: $(cat "$T/err")"
	done
	cmp -s "$T/$obj--interp.pcap" "$T/$obj--jit.pcap" || fail "$obj: --interp and --jit wrote other packets"
	cmp -s "$T/$obj--interp.trace" "$T/$obj--jit.trace" || fail "$obj: --interp and --jit traces differ"
done
echo "bpfvm socket: verdicts, cut lengths and ring-buffer records as expected"
