/* fdtable.h — the process-wide table of bpfvm "file descriptors".
 *
 * The kernel names maps and programs to userspace by file descriptor; bpfvm
 * keeps the same model with its own small integers (>= 1), so the loader can
 * put map fds into lddw instructions and userspace can store program or map
 * fds into PROG_ARRAY / *_OF_MAPS maps.  An entry holds one reference on its
 * object through the object's ops; the object kinds are tagged so that a map
 * fd passed where a program is expected fails with -EINVAL, as in the kernel.
 */
#ifndef BPFVM_MAPS_FDTABLE_H
#define BPFVM_MAPS_FDTABLE_H

#include <stdint.h>

enum fd_kind {
	FD_KIND_NONE = 0,
	FD_KIND_MAP,
	FD_KIND_PROG,
	FD_KIND_PERF_EVENT,	/* one CPU's ring of a bpfvm_perf_buffer */
};

/* How the table (and anyone who got an object from it) manages an object. */
struct fd_obj_ops {
	void (*get)(void *obj);		/* take a reference */
	void (*put)(void *obj);		/* drop one; the last frees */
	uint32_t (*id)(const void *obj);	/* id shown to userspace (may be NULL) */
};

/* Register `obj` under the lowest free fd; the table takes its own reference
 * (ops->get).  Returns the fd or -ENOMEM / -EMFILE. */
int fdtable_install(enum fd_kind kind, void *obj, const struct fd_obj_ops *ops);

/* Remove the entry and drop the table's reference.  0 or -EBADF. */
int fdtable_close(int fd);

/* The object under `fd` with a new reference the caller must drop with
 * (*ops_out)->put(obj).  NULL when there is none (*err = -EBADF) or it is of
 * another kind (*err = -EINVAL). */
void *fdtable_get(int fd, enum fd_kind kind, const struct fd_obj_ops **ops_out, int *err);

/* The object under `fd` without taking a reference (for lookups whose caller
 * already owns the object), or NULL. */
void *fdtable_peek(int fd, enum fd_kind kind);

#endif
