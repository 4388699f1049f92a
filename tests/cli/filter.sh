#!/bin/sh
# tests/cli/filter.sh — `bpfvm filter` end to end on examples/demo.pcap.
#
# The committed capture is what its generator writes.  Programs from tcpdump
# -dd text and from a raw sock_filter array, with known counts; the socket-filter cut (a filter returning 64 keeps 64 bytes); refused
# programs and broken captures with their messages.  When tcpdump is installed
# (and bpfvm can load libpcap), for every expression in the list below the pcap
# that `bpfvm filter EXPR --out` writes must be byte-for-byte the one that
# `tcpdump -r demo.pcap -w - EXPR` writes: same packets, same order, same bytes.
# Run from the repository root; $BUILD/bpfvm is the binary.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
CAP=examples/demo.pcap
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
[ -f "$CAP" ] || { echo "skipped: $CAP is missing"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# expect OUTPUT SUBSTRING
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }

# ---- examples/demo.pcap is exactly what examples/gen_capture.c writes
if command -v "${CC:-cc}" >/dev/null 2>&1; then
	"${CC:-cc}" -std=c11 -O1 -o "$T/gen" examples/gen_capture.c || fail "gen_capture.c does not build"
	"$T/gen" "$T/demo.pcap" 2>/dev/null || fail "gen_capture failed"
	cmp -s "$T/demo.pcap" "$CAP" || fail "$CAP is not what examples/gen_capture.c writes"
fi

# ---- a tcpdump -dd program: ip and udp
cat >"$T/udp.dd" <<'EOF'
{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 3, 0x00000800 },
{ 0x30, 0, 0, 0x00000017 },
{ 0x15, 0, 1, 0x00000011 },
{ 0x6, 0, 0, 0x00040000 },
{ 0x6, 0, 0, 0x00000000 },
EOF
out=$("$BPFVM" filter --dd "$T/udp.dd" --in "$CAP" --json) || fail "filter --dd: $out"
expect "$out" '"packets":2916,"matched":345,"dropped":2571'
out=$("$BPFVM" filter --dd "$T/udp.dd" --in "$CAP" --out "$T/udp.pcap") || fail "filter --out: $out"
expect "$out" "2916 packets, 345 matched, 2571 dropped"
# the output is a capture whose every packet matches again
out=$("$BPFVM" filter --dd "$T/udp.dd" --in "$T/udp.pcap" --json) || fail "re-filter: $out"
expect "$out" '"packets":345,"matched":345'
# streamed from stdin to stdout
out=$("$BPFVM" filter --dd "$T/udp.dd" --in - --out - <"$CAP" 2>/dev/null | cmp - "$T/udp.pcap") ||
	fail "stdin to stdout differs from --out FILE"

# ---- a raw sock_filter array (little-endian): ldh [12]; jeq #0x806; ret #65535; ret #0
printf '\050\000\000\000\014\000\000\000\025\000\000\001\006\010\000\000\006\000\000\000\377\377\000\000\006\000\000\000\000\000\000\000' >"$T/arp.raw"
out=$("$BPFVM" filter --raw "$T/arp.raw" --in "$CAP" --json) || fail "filter --raw: $out"
expect "$out" '"matched":19,'
expect "$out" '"matched_bytes":1140,'
out=$("$BPFVM" filter --raw "$T/arp.raw" -d) || fail "--dump: $out"
expect "$out" "(001) jeq      #0x806           jt 2	jf 3"

# ---- a socket filter keeps as many bytes as it returns
printf '{ 0x6, 0, 0, 64 },\n' >"$T/r64.dd"
out=$("$BPFVM" filter --dd "$T/r64.dd" --in "$CAP" --json --out "$T/r64.pcap") || fail "ret 64: $out"
expect "$out" '"matched":2916,'
expect "$out" '"matched_bytes":186259,'

# ---- refusals and errors name what is wrong and where
printf '{ 0x34, 0, 0, 0 },\n{ 0x16, 0, 0, 0 },\n' >"$T/div0.dd"
out=$("$BPFVM" filter --dd "$T/div0.dd" --in "$CAP" 2>&1) && fail "division by 0 accepted"
expect "$out" "insn 0: div #0: division by constant 0"
printf '{ 0x28, 0, 0, 12 },\n{ 0x15, 0, 9, 1 },\n' >"$T/bad.dd"
out=$("$BPFVM" filter --dd "$T/bad.dd" --in "$CAP" 2>&1) && fail "bad jump accepted"
expect "$out" "insn 1: jeq jt 0 jf 9 jumps past the last instruction (1)"
printf '{ 0x28, 0, 0 },\n' >"$T/syntax.dd"
out=$("$BPFVM" filter --dd "$T/syntax.dd" --in "$CAP" 2>&1) && fail "bad syntax accepted"
expect "$out" "line 1: expected"
head -c 100000 "$CAP" >"$T/cut.pcap"
out=$("$BPFVM" filter --dd "$T/udp.dd" --in "$T/cut.pcap" 2>&1) && fail "truncated capture accepted"
expect "$out" "truncated file: packet"
expect "$out" "at byte offset"
printf 'not a capture at all' >"$T/junk"
out=$("$BPFVM" filter --dd "$T/udp.dd" --in "$T/junk" 2>&1) && fail "junk accepted"
expect "$out" "not a pcap or pcapng file"
out=$(BPFVM_LIBPCAP=none "$BPFVM" filter 'tcp' --in "$CAP" 2>&1) && fail "expression without libpcap"
expect "$out" "need libpcap"

# ---- against tcpdump, expression by expression
if ! command -v tcpdump >/dev/null 2>&1; then
	echo "classic programs pass; tcpdump comparison skipped: tcpdump is not installed"
	exit 0
fi
if ! "$BPFVM" filter 'ip' --in "$CAP" >/dev/null 2>&1; then
	echo "classic programs pass; tcpdump comparison skipped: bpfvm cannot load libpcap"
	exit 0
fi
n=0
while IFS= read -r e; do
	[ -n "$e" ] || continue
	"$BPFVM" filter "$e" --in "$CAP" --out "$T/b.pcap" >/dev/null || fail "bpfvm filter '$e'"
	tcpdump -r "$CAP" -w "$T/t.pcap" "$e" 2>/dev/null || fail "tcpdump '$e'"
	cmp -s "$T/b.pcap" "$T/t.pcap" || fail "'$e': bpfvm and tcpdump select different packets"
	n=$((n + 1))
done <<'EOF'
tcp
udp
icmp
icmp6
arp
ip
ip6
vlan
vlan 100
vlan 200
vlan 300 and vlan 20
vlan and udp
tcp port 443
tcp port 443 and not net 10.0.0.0/8
udp port 53
port 123
net 10.66.0.0/16
src net 10.66.0.0/16 and tcp[tcpflags] & tcp-syn != 0
not src net 10.66.0.0/16
host 93.184.216.34
host 93.184.216.34 and greater 1000
greater 4000
less 64
len < 14
ip[0] & 0xf > 5
ip[6:2] & 0x1fff != 0
ip[6:2] & 0x3fff != 0
ip6 proto 44
ip6 and udp port 53
icmp[icmptype] == icmp-echo
icmp[icmptype] == icmp-unreach
tcp[tcpflags] & tcp-rst != 0
tcp[tcpflags] == tcp-syn
tcp[13] & 0x12 == 0x12
ether broadcast
ether multicast
ip multicast
ip broadcast
ether host 00:1b:21:aa:00:01
ether src 52:54:00:01:00:32
ether proto 0x88cc
stp
llc
igmp
dst portrange 1-1024
tcp dst portrange 8000-8100
udp and (port 16384 or port 16386)
not ip and not ip6 and not arp
tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420
ether[12:2] = 0x0800 and ip[8] < 50
ip[2:2] > 1400
net 192.168.1.0/24 and not port 443
src host 192.168.1.7 or dst host 192.168.1.7
mpls
ip and len > 1500
EOF
[ $n -ge 40 ] || fail "only $n expressions compared"
echo "$n expressions: bpfvm filter and tcpdump wrote identical captures"
