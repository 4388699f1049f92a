/* interp.c — the two interpreters: fast (for programs proven safe) and checked.
 *
 * Both are the one loop in interp_body.h, compiled twice.  The checked one
 * bounds-checks every load, store and atomic against the run's memory regions
 * and stops after the run's instruction budget, so a program nobody verified
 * cannot touch host memory or spin forever.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "exec/vm.h"

#if (defined(__GNUC__) || defined(__clang__)) && !defined(BPFVM_NO_COMPUTED_GOTO)
#define VM_COMPUTED_GOTO 1
/* labels as values are a GNU extension; this file uses them on purpose */
#pragma GCC diagnostic ignored "-Wpedantic"
#endif

#define VM_FN vm_interp_fast
#define VM_CHECKED 0
#include "exec/interp_body.h"
#undef VM_FN
#undef VM_CHECKED

#define VM_FN vm_interp_checked
#define VM_CHECKED 1
#include "exec/interp_body.h"
#undef VM_FN
#undef VM_CHECKED
