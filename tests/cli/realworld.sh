#!/bin/sh
# tests/cli/realworld.sh — BPF objects built by others: Debian's xdp-tools and
# libxdp1 packages (the objects under /usr/lib/<multiarch>/bpf/) and, when
# installed, libbpf-tools (each tool carries its clang-compiled object inside
# the binary; we cut it out at the ELF magic, e_machine 247 = EM_BPF, sized by
# the end of its section header table).
#
# Every object opens and lists its programs (objects needing CO-RE list them
# with a note saying so); the ones bpfvm loads and verifies still do (this
# machine's kernel accepts all of those XDP programs too); xdp-filter's,
# xsk_def_xdp_prog's and the dispatcher's programs run over examples/demo.pcap
# with exact verdict counts (default configuration: empty maps).
# Run from the repository root; $BUILD/bpfvm is the binary.  Exit 77 when the
# packages are not installed (apt-get install xdp-tools libxdp1 libbpf-tools).
BUILD=${BUILD:-build}
BPFVM=$BUILD/bpfvm
CAP=examples/demo.pcap
[ -x "$BPFVM" ] || { echo "skipped: $BPFVM is not built"; exit 77; }
D=
for d in /usr/lib/*/bpf /usr/lib/bpf /usr/lib64/bpf; do
	[ -f "$d/xdp-dispatcher.o" ] && [ -f "$d/xdpfilt_alw_all.o" ] && { D=$d; break; }
done
[ -n "$D" ] || { echo "skipped: xdp-tools/libxdp1 objects not installed (apt-get install xdp-tools libxdp1)"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
n=0

# list OBJ: opens, lists >= 1 program, every one with a known type
list() {
	out=$("$BPFVM" prog list "$1" 2>"$T/err") || fail "prog list $1: $(cat "$T/err")"
	cnt=$(printf '%s\n' "$out" | grep -c '^[0-9][0-9]*: .* section .* type ')
	[ "$cnt" -ge 1 ] || fail "prog list $1: no programs: $out"
	case "$out" in *"type unknown"*) fail "prog list $1: unknown type: $out" ;; esac
	n=$((n + 1))
}
# verified OBJ: every program loads and verifies
verified() {
	"$BPFVM" verify "$1" --log-level 0 >"$T/v" 2>&1 || fail "verify $1: $(cat "$T/v")"
	grep -q REFUSED "$T/v" && fail "verify $1: $(cat "$T/v")"
	n=$((n + 1))
}
# core OBJ: lists, and says why it does not load
core() {
	list "$1"
	expect "$(cat "$T/err")" "needs CO-RE relocations"
}

for f in "$D"/*.o; do
	list "$f"
	case $(basename "$f") in
	xdpdump_bpf.o) expect "$(cat "$T/err")" "needs CO-RE relocations" ;;
	*) verified "$f" ;;
	esac
done
out=$("$BPFVM" prog list "$D/xdp-dispatcher.o")
expect "$out" "xdp_dispatcher  section xdp  type xdp"
expect "$out" "xdp_pass  section xdp  type xdp"

# the network programs run: verdicts over the demo capture (2916 frames, 3
# runts the kernel never hands to XDP)
if [ -f "$CAP" ]; then
	run() { # OBJ VERDICT [--prog P]
		o=$1 v=$2
		shift 2
		out=$("$BPFVM" xdp "$D/$o.o" --in "$CAP" "$@" 2>&1) || fail "xdp $o: $out"
		printf '%s\n' "$out" | grep -Eq "^ *$v +2913 " || fail "xdp $o: expected $v 2913: $out"
		printf '%s\n' "$out" | grep -Eq "^ *NOT_RUN +3 " || fail "xdp $o: expected NOT_RUN 3: $out"
		n=$((n + 1))
	}
	# xdp-filter: allow-by-default objects pass everything with no rules,
	# deny-by-default ones ("dny": FILT_MODE_DENY, VERDICT_MISS = XDP_DROP) drop
	for m in all eth ip tcp udp; do
		run xdpfilt_alw_$m XDP_PASS
		run xdpfilt_dny_$m XDP_DROP
	done
	run xsk_def_xdp_prog XDP_PASS	# empty xsks_map: bpf_redirect_map's default
	run xdpdump_xdp XDP_PASS
	run xdp-dispatcher XDP_PASS --prog xdp_dispatcher
fi

# libbpf-tools: the objects embedded in the tools
if ! dpkg -L libbpf-tools >"$T/files" 2>/dev/null; then
	echo "realworld: $n checks passed (libbpf-tools not installed: embedded objects not checked)"
	exit 0
fi
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
u64() { od -An -tu8 -j "$2" -N8 "$1" | tr -d ' '; }
mkdir "$T/o"
tools=0
for bin in $(grep '^/usr/sbin/' "$T/files"); do
	[ -f "$bin" ] || continue
	for off in $(LC_ALL=C grep -obUaP '\x7fELF' "$bin" | cut -d: -f1); do
		[ "$off" -gt 0 ] || continue
		[ "$(u16 "$bin" $((off + 18)))" = 247 ] || continue
		size=$(( $(u64 "$bin" $((off + 40))) + $(u16 "$bin" $((off + 58))) * $(u16 "$bin" $((off + 60))) ))
		tail -c +$((off + 1)) "$bin" | head -c "$size" >"$T/o/$(basename "$bin").o"
		tools=$((tools + 1))
		break
	done
done
[ "$tools" -ge 1 ] || fail "no embedded BPF object found in libbpf-tools"
for f in "$T"/o/*.o; do
	list "$f"
	b=$(basename "$f" .o)
	case " btrfsdist cachestat ext4dist fsdist nfsdist numamove vfsstat xfsdist " in
	*" $b "*) verified "$f" ;;
	esac
done
[ -f "$T/o/runqslower.o" ] && core "$T/o/runqslower.o"
echo "realworld: $n checks passed ($tools libbpf-tools objects)"
