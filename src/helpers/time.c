/* time.c — helpers about time, CPUs and randomness.
 *
 * Userspace meanings: clocks are the host's (CLOCK_MONOTONIC for ktime_get_ns,
 * CLOCK_BOOTTIME for the boot clock, the coarse clock for _coarse), jiffies
 * count at the kernel's common HZ of 250, the "CPU" is the run's worker
 * index, there is one NUMA node, and prandom is a per-thread xorshift.
 */
#include <stdint.h>
#include <time.h>

#include "exec/vm.h"
#include "helpers/helpers.h"

#define UNUSED_ARGS (void)r1, (void)r2, (void)r3, (void)r4, (void)r5

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t helper_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct bpfvm_run *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t helper_ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5, struct bpfvm_run *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t helper_ktime_get_coarse_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, struct bpfvm_run *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

uint64_t helper_jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			  uint64_t r5, struct bpfvm_run *run)
{
	UNUSED_ARGS, (void)run;
	return clock_ns(CLOCK_MONOTONIC) / (1000000000ull / 250);
}

uint64_t helper_get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5, struct bpfvm_run *run)
{
	UNUSED_ARGS;
	return (uint64_t)run->cpu;
}

uint64_t helper_get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfvm_run *run)
{
	UNUSED_ARGS, (void)run;
	return 0;
}

uint64_t helper_get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfvm_run *run)
{
	static _Thread_local uint64_t state;
	UNUSED_ARGS, (void)run;
	if (!state)
		state = clock_ns(CLOCK_MONOTONIC) ^ (uint64_t)(uintptr_t)&state ^ 0x9e3779b97f4a7c15ull;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 16);
}
