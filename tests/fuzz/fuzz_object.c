/* fuzz_object.c — libFuzzer target: whole-object loading.  Arbitrary bytes
 * go through bpfvm_object_open_mem() and, when that succeeds, load (maps
 * created, programs linked and built) and close.  Anything but a clean error
 * is a bug.  Seed it with the tests/objects .o files copied into a scratch corpus
 * directory (libFuzzer writes new inputs into the first directory given). */
#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char log[256];
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	struct bpfvm_object *obj = bpfvm_object_open_mem(data, size, &oo);
	if (!obj)
		return 0;
	bpfvm_object_load(obj);
	bpfvm_object_close(obj);
	return 0;
}
