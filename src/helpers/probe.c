/* probe.c — safe reads of arbitrary host memory: the bpf_probe_read family.
 *
 * The kernel's probe reads never fault: unmapped memory gives -EFAULT and a
 * zeroed destination.  bpfvm gets the same guarantee from process_vm_readv()
 * on its own process, which reports unmapped ranges instead of crashing.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"

int helper_safe_copy(void *dst, uint64_t src, size_t size)
{
	if (size == 0)
		return 0;
	if (src == 0)
		return -EFAULT;
	struct iovec local = { dst, size };
	struct iovec remote = { (void *)(uintptr_t)src, size };
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)size)
		return 0;
	return -EFAULT;
}

long helper_safe_copy_str(char *dst, uint64_t src, size_t size)
{
	if (size == 0)
		return -EINVAL;
	size_t done = 0;
	while (done < size - 1) {
		/* read up to the end of the source page, so a string that ends
		 * just before unmapped memory is still read */
		uint64_t addr = src + done;
		size_t chunk = 4096 - (size_t)(addr & 4095);
		if (chunk > size - 1 - done)
			chunk = size - 1 - done;
		if (helper_safe_copy(dst + done, addr, chunk)) {
			if (done == 0) {
				memset(dst, 0, size);
				return -EFAULT;
			}
			break;
		}
		void *nul = memchr(dst + done, 0, chunk);
		if (nul)
			return (long)((char *)nul - dst) + 1;
		done += chunk;
	}
	dst[done] = 0;
	return (long)done + 1;
}

static uint64_t probe_read(uint64_t dst, uint64_t size, uint64_t src, struct bpfvm_run *run)
{
	if (bpfvm_run_check_mem(run, (void *)(uintptr_t)dst, size, 1))
		return helper_bad_ptr(run, "probe_read", 1, dst, size);
	if (helper_safe_copy((void *)(uintptr_t)dst, src, (size_t)size)) {
		memset((void *)(uintptr_t)dst, 0, (size_t)size);
		return (uint64_t)-EFAULT;
	}
	return 0;
}

static uint64_t probe_read_str(uint64_t dst, uint64_t size, uint64_t src, struct bpfvm_run *run)
{
	if (bpfvm_run_check_mem(run, (void *)(uintptr_t)dst, size, 1))
		return helper_bad_ptr(run, "probe_read_str", 1, dst, size);
	if (size == 0)
		return 0;
	return (uint64_t)helper_safe_copy_str((char *)(uintptr_t)dst, src, (size_t)size);
}

#define PROBE(name, fn)                                                                  \
	uint64_t helper_##name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,       \
			       uint64_t r5, struct bpfvm_run *run)                       \
	{                                                                                \
		(void)r4, (void)r5;                                                      \
		return fn(r1, r2, r3, run);                                              \
	}
PROBE(probe_read, probe_read)
PROBE(probe_read_user, probe_read)
PROBE(probe_read_kernel, probe_read)
PROBE(probe_read_str, probe_read_str)
PROBE(probe_read_user_str, probe_read_str)
PROBE(probe_read_kernel_str, probe_read_str)
#undef PROBE
