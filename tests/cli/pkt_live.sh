#!/bin/sh
# tests/cli/pkt_live.sh — `bpfvm xdp --iface` on a veth pair in a private network
# namespace.
#
# The test makes a namespace with two veth pairs, va<->vb and vc<->vd, sends
# UDP datagrams out of va (a static neighbour entry, no ARP, IPv6 off: nothing
# else crosses the link), and runs bpfvm on vb:
#   - XDP_TX: every frame comes back out of vb, so va's receive counter grows
#     by the number sent; --out has the frames, --count stops the run;
#   - XDP_REDIRECT to vc's ifindex: the frames leave through vc, vd receives them;
#   - SIGINT ends an open-ended run with the summary and exit status 0.
# Needs root, ip (iproute2) and bash or python3 to send; skips (77) otherwise.
# Run from the repository root; $BUILD/bpfvm is the binary.
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
[ "$(id -u 2>/dev/null)" = 0 ] || { echo "skipped: needs root (network namespaces, CAP_NET_RAW)"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "skipped: no ip command (iproute2)"; exit 77; }
if command -v bash >/dev/null 2>&1; then SENDER=bash
elif command -v python3 >/dev/null 2>&1; then SENDER=python3
else echo "skipped: neither bash nor python3 to send datagrams"; exit 77
fi
NS=bpfvm-live-$$
T=$(mktemp -d) || exit 1
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" 2>"$T/err" || { echo "skipped: cannot create a network namespace: $(cat "$T/err")"; exit 77; }
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
ip -n "$NS" link add va type veth peer name vb || fail "veth va/vb"
ip -n "$NS" link add vc type veth peer name vd || fail "veth vc/vd"
for i in va vb vc vd; do ip -n "$NS" link set "$i" up || fail "link $i up"; done
ip -n "$NS" addr add 10.199.0.1/24 dev va || fail "address"
ip -n "$NS" neigh add 10.199.0.2 lladdr 02:00:00:00:00:02 dev va nud permanent || fail "neighbour"
rx() { in_ns cat "/sys/class/net/$1/statistics/rx_packets"; }
# send N datagrams from va to 10.199.0.2
send() {
	if [ $SENDER = bash ]; then
		in_ns bash -c 'for i in $(seq '"$1"'); do echo "bpfvm $i" >/dev/udp/10.199.0.2/9; done'
	else
		in_ns python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])): s.sendto(b"bpfvm %d" % i, ("10.199.0.2", 9))' "$1"
	fi
}
# start bpfvm in the namespace in the background; wait until it listens
start() {
	# ip netns exec execs bpfvm: $! is bpfvm itself (which catches SIGINT even
	# though a background job starts with it ignored)
	ip netns exec "$NS" "$BPFVM" "$@" >"$T/out" 2>"$T/err" &
	BG=$!
	PIDS="$PIDS $BG"
	i=0
	until grep -q "Ctrl-C to stop" "$T/err" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "bpfvm did not start: $(cat "$T/err")"
		kill -0 $BG 2>/dev/null || fail "bpfvm exited: $(cat "$T/err")"
		sleep 0.1
	done
}
# wait for the background bpfvm, stopping it after 10 s
finish() {
	i=0
	while kill -0 $BG 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill -TERM $BG; break; }
		sleep 0.1
	done
	wait $BG
	RC=$?
	PIDS=""
}

# ---- XDP_TX: the frames come back to va
printf 'mov %%r0, 3\nexit\n' >"$T/tx.s"
before=$(rx va)
start xdp "$T/tx.s" --iface vb --count 5 --json --out "$T/tx.pcap"
send 5
finish
[ $RC -eq 0 ] || fail "xdp --iface exited $RC: $(cat "$T/err")"
expect "$(cat "$T/out")" '"source":"vb",'
expect "$(cat "$T/out")" '"packets":5,'
expect "$(cat "$T/out")" '"XDP_TX":{"packets":5,'
sleep 0.2
after=$(rx va)
[ $((after - before)) -eq 5 ] || fail "va received $((after - before)) frames back, not 5"
printf '{ 0x6, 0, 0, 0x40000 },\n' >"$T/all.dd"
expect "$("$BPFVM" filter --dd "$T/all.dd" --in "$T/tx.pcap" --json)" '"packets":5,'

# ---- XDP_REDIRECT to vc: vd receives them
vc=$(ip -n "$NS" -o link show vc | cut -d: -f1)
printf 'mov %%r1, %s\nmov %%r2, 0\ncall 23\nexit\n' "$vc" >"$T/redir.s"
before=$(rx vd)
start xdp "$T/redir.s" --iface vb --count 4 --trace
send 4
finish
[ $RC -eq 0 ] || fail "redirect run exited $RC: $(cat "$T/err")"
[ "$(grep -c "\"verdict\":\"XDP_REDIRECT\",\"retval\":4,.*\"redirect\":$vc}" "$T/out")" -eq 4 ] ||
	fail "trace: $(cat "$T/out")"
sleep 0.2
after=$(rx vd)
[ $((after - before)) -eq 4 ] || fail "vd received $((after - before)) redirected frames, not 4"

# ---- SIGINT ends an open-ended run; the summary still comes
start tc tests/objects/globals.bpf.o --iface vb
send 3
sleep 0.5
kill -INT $BG
finish
[ $RC -eq 0 ] || fail "SIGINT: exit status $RC: $(cat "$T/err")"
expect "$(cat "$T/out")" "tc_sample (tc ingress) on vb: 3 packets"
expect "$(cat "$T/out")" "[interrupted]"
expect "$(cat "$T/out")" "TC_ACT_OK                 3"

# ---- without CAP_NET_RAW the message says so
if command -v setpriv >/dev/null 2>&1; then
	chmod a+rx "$T" && chmod a+r "$T/tx.s"
	out=$(in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$BPFVM" xdp "$T/tx.s" --iface vb --count 1 2>&1) && fail "ran without CAP_NET_RAW"
	expect "$out" "CAP_NET_RAW"
fi
echo "bpfvm --iface: XDP_TX, redirect and SIGINT on a veth pair as expected"
