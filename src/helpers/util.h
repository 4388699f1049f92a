/* util.h — what helper implementations share: argument checks in checked
 * mode, safe copies, the printf-style formatter of the printk family. */
#ifndef BPFVM_HELPERS_UTIL_H
#define BPFVM_HELPERS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "bpfvm.h"

/* Stop the run: helper `name`'s argument `argno` (1-5) points to `size` bytes
 * at `addr` that the program may not access.  Returns the value the helper
 * should return (ignored: the run stops). */
uint64_t helper_bad_ptr(struct bpfvm_run *run, const char *name, int argno, uint64_t addr,
			uint64_t size);
/* checked mode: is [p, p+size) accessible?  (always yes for verified programs) */
#define HELPER_MEM_OK(run, p, size, write) \
	(bpfvm_run_check_mem((run), (const void *)(uintptr_t)(p), (size), (write)) == 0)

/* copy host memory that may be unmapped: 0 or -EFAULT */
int helper_safe_copy(void *dst, uint64_t src, size_t size);
/* copy a NUL-terminated string of at most size-1 chars; returns its length
 * including the NUL, or -EFAULT (dst zeroed) */
long helper_safe_copy_str(char *dst, uint64_t src, size_t size);

/* Format like the kernel's bpf_bprintf_prepare + bstr_printf: fmt (fmt_sz
 * bytes, must contain a NUL) with args[arg_cnt] into out (out_sz, always
 * NUL-terminated when out_sz > 0).  Returns the length the full output needs
 * (without the NUL) or -EINVAL for a format the kernel refuses (too many
 * arguments, unsupported conversion, missing NUL). */
long helper_format(char *out, size_t out_sz, const char *fmt, uint64_t fmt_sz,
		   const uint64_t *args, uint32_t arg_cnt);

/* write one trace_printk message to the trace sink (adds the trace_pipe prefix) */
void helper_trace_emit(struct bpfvm_run *run, const char *msg);

#endif
