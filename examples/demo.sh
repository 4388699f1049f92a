#!/bin/sh
# examples/demo.sh — the demo `make demo` runs: a real XDP firewall over a capture.
#
#   sh examples/demo.sh BUILD_DIR        (from the repository root; default: build)
#
# examples/xdp_firewall.bpf.o is the clang-compiled examples/xdp_firewall.bpf.c,
# committed so that no BPF toolchain is needed; examples/demo.pcap is written by
# examples/gen_capture.c.  The capture has an office LAN talking to the outside,
# and hosts of 10.66.0.0/16 scanning and pinging it: the demo puts that range in
# the firewall's blocklist (an LPM trie, key {prefixlen, IPv4 address}), runs the
# program on every packet, and prints the verdicts and the busiest flows from the
# program's `flows` hash map.
set -eu
BUILD=${1:-build}
BPFVM=$BUILD/bpfvm
OBJ=examples/xdp_firewall.bpf.o
CAP=examples/demo.pcap
if [ ! -x "$BPFVM" ]; then
	echo "demo: $BPFVM is not built; run 'make' first" >&2
	exit 1
fi
# blocklist key: prefixlen 16 (u32, little-endian), address 10.66.0.0 (network order)
BLOCK_KEY="10000000 0a420000"

echo "== bpfvm demo: XDP firewall $OBJ on $CAP, blocking 10.66.0.0/16 =="
echo "\$ bpfvm xdp $OBJ --in $CAP --map-set blocklist '$BLOCK_KEY' 01 --top blocklist:10 --top flows:10"
echo
"$BPFVM" xdp "$OBJ" --in "$CAP" --map-set blocklist "$BLOCK_KEY" 01 \
	--top blocklist:10 --top flows:10
echo
echo "(XDP_DROP: packets from the blocked scanners; NOT_RUN: frames shorter than an"
echo " Ethernet header, which no XDP program ever sees.  Try --trace, --out FILE,"
echo " --threads N, --dump-maps or --json; 'bpfvm xdp --help' lists them.)"
