#!/bin/sh
# bench/jit/build.sh — rebuild bench/jit/*.bpf.o from their .bpf.c.
#
# The .bpf.o files are committed so `make bench` needs no BPF toolchain; run
# this after editing a .bpf.c or algos.h.  Needs clang (14 or later) and
# libbpf's headers (Debian: apt-get install -y clang libbpf-dev); CLANG=...
# overrides clang.  Paths in debug info are relative to the repository root,
# as tests/objects/build.sh does it.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CLANG=${CLANG:-clang}
ARCH_INC=/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "build.sh: /usr/include/bpf/bpf_helpers.h missing (apt-get install -y libbpf-dev)" >&2
	exit 1
fi
for src in bench/jit/*.bpf.c; do
	obj=${src%.c}.o
	echo "  CLANG $obj"
	"$CLANG" -O2 -g -target bpf -mcpu=v3 -Wall -Werror \
		-fdebug-prefix-map="$ROOT"=. \
		-I "$ARCH_INC" -c "$src" -o "$obj"
done
