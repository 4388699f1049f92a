/* cpu.c — the process-wide "CPU" count and the library version. */
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bpfvm.h"

static atomic_int nr_cpus;

BPFVM_API int bpfvm_nr_cpus(void)
{
	int n = atomic_load(&nr_cpus);
	if (n > 0)
		return n;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	n = online > 0 && online < 4096 ? (int)online : 1;
	int expected = 0;
	atomic_compare_exchange_strong(&nr_cpus, &expected, n);
	return atomic_load(&nr_cpus);
}

BPFVM_API int bpfvm_set_nr_cpus(int n)
{
	if (n < 1 || n > 4096)
		return -EINVAL;
	atomic_store(&nr_cpus, n);
	return 0;
}

BPFVM_API const char *bpfvm_version(void)
{
	return "0.1.0";
}
