#!/bin/sh
# tests/objects/build.sh — rebuild every tests/objects/*.bpf.o from its .bpf.c.
#
# The .bpf.o files are committed so tests need no BPF toolchain; run this after
# editing a .bpf.c.  Needs clang (14 or later) and libbpf's headers
# (Debian: apt-get install -y clang libbpf-dev).  CLANG=... overrides clang.
#
# Objects are compiled from the repository root with the root mapped to "."
# so the file names in DWARF and BTF line info are "./tests/objects/NAME.bpf.c"
# on every machine, and clang can still read the source for line_info text.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CLANG=${CLANG:-clang}
ARCH_INC=/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "build.sh: /usr/include/bpf/bpf_helpers.h missing (apt-get install -y libbpf-dev)" >&2
	exit 1
fi
for src in tests/objects/*.bpf.c; do
	obj=${src%.c}.o
	echo "  CLANG $obj"
	"$CLANG" -O2 -g -target bpf -mcpu=v3 -Wall -Werror \
		-fdebug-prefix-map="$ROOT"=. \
		-I tests/objects/include -I "$ARCH_INC" -c "$src" -o "$obj"
done
