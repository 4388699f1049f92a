# bpfvm — build, test, demo.
#
#   make            libbpfvm.a, libbpfvm.so and the bpfvm command line in build/
#   make check      every test; ends with "N passed, N failed"
#   make demo       builds bpfvm and runs the bundled demo
#   make asan       the tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#   make kdiff-full the kernel-differential test at full size (needs root)
#   make vkdiff     verifier verdicts on random programs vs the kernel (root)
#   make fuzz       libFuzzer targets (needs clang)
#   make bench      benchmarks that print figures
#
# Every src/*/*.c is part of the library; every tests/unit/test_*.c is a test
# program linked against it.  Adding a file needs no edit here.

CC      ?= cc
BUILD   ?= build
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror
OPT     ?= -O2 -g
CFLAGS  ?=
CFLAGS  += $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden -Iinclude -Isrc
LDLIBS  += -lpthread -lm

LIB_SRC   := $(sort $(wildcard src/*/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC  := $(sort $(wildcard tools/bpfvm/*.c))
TOOL_OBJ  := $(TOOL_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
KDIFF_SRC := $(sort $(wildcard tests/kdiff/*.c))
KDIFF_BIN := $(if $(KDIFF_SRC),$(BUILD)/tests/kdiff)
HDRS      := $(wildcard include/*.h include/bpfvm/*.h src/*/*.h src/*/*.def tools/bpfvm/*.h tools/bpfvm/*.def)

all: $(BUILD)/libbpfvm.a $(BUILD)/libbpfvm.so $(BUILD)/bpfvm

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libbpfvm.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libbpfvm.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/bpfvm: $(TOOL_OBJ) $(BUILD)/libbpfvm.a
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libbpfvm.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libbpfvm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libbpfvm.a $(LDLIBS)

$(BUILD)/tests/kdiff: $(KDIFF_SRC) $(wildcard tests/kdiff/*.h) $(BUILD)/libbpfvm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/kdiff -o $@ $(KDIFF_SRC) $(BUILD)/libbpfvm.a $(LDLIBS)

# make check: unit tests, data-driven ISA tests in every execution mode, the CLI
# tests and a quick kernel-differential run.  tests/run-all prints the final count.
check: all $(TEST_BIN) $(KDIFF_BIN)
	@BUILD=$(BUILD) sh tests/run-all

asan:
	$(MAKE) BUILD=build-asan CC=$(if $(filter clang,$(notdir $(CC))),$(CC),gcc) \
	  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -Wno-format-truncation" \
	  LDLIBS="-lpthread -lm -fsanitize=address,undefined" check

kdiff-full: $(KDIFF_BIN)
	$(BUILD)/tests/kdiff --count 10000 --seed $${SEED:-1}

# verifier verdicts on random programs, bpfvm vs this machine's kernel (root)
vkdiff: $(BUILD)/libbpfvm.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS) -o $(BUILD)/tests/vkdiff tests/vkdiff/vkdiff.c $(BUILD)/libbpfvm.a $(LDLIBS)
	$(BUILD)/tests/vkdiff --count $${COUNT:-12000} --seed $${SEED:-31}

demo: all
	@sh examples/demo.sh $(BUILD)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	@mkdir -p build-fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$f -> build-fuzz/$$n"; \
	  clang $(CSTD) -O1 -g -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f $(LIB_SRC) -lpthread -lm || exit 1; done

# bench_jit's native column: the benchmarks' C at -O2, whatever OPT says
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_NATIVE := $(BUILD)/bench/jit_native.o
$(BENCH_NATIVE): bench/jit/native.c bench/jit/algos.h bench/jit/list.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -c $< -o $@

bench: all $(BENCH_NATIVE)
	@mkdir -p $(BUILD)/bench
	@for f in $(BENCH_SRC); do n=$$(basename $$f .c); \
	  x=; [ $$n = bench_jit ] && x=$(BENCH_NATIVE); \
	  $(CC) $(CFLAGS) -Ibench -o $(BUILD)/bench/$$n $$f $$x $(BUILD)/libbpfvm.a $(LDLIBS) || exit 1; \
	  $(BUILD)/bench/$$n || exit 1; done

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all check asan kdiff-full vkdiff demo fuzz bench clean
