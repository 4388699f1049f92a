/* fdtable.c — the process-wide table of bpfvm "file descriptors".
 *
 * A growable array of (kind, object, ops) protected by one mutex: installs,
 * closes and fd → object resolutions are rare (loading, map-in-map updates),
 * never on a program's hot path, so simplicity wins.  The lowest free number
 * is reused, as POSIX does for real descriptors.  fd 0 is never handed out so
 * that a zeroed field never names a live object.
 */
#include "maps/fdtable.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define FDTABLE_MAX 1048576	/* like RLIMIT_NOFILE's usual hard ceiling */

struct fd_entry {
	enum fd_kind kind;
	void *obj;
	const struct fd_obj_ops *ops;
};

static pthread_mutex_t fdtable_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fd_entry *fdtable;
static int fdtable_cnt;		/* slots allocated */
static int fdtable_hint = 1;	/* no free slot below this */

int fdtable_install(enum fd_kind kind, void *obj, const struct fd_obj_ops *ops)
{
	int fd;

	if (!obj || !ops || !ops->get || !ops->put || kind == FD_KIND_NONE)
		return -EINVAL;
	pthread_mutex_lock(&fdtable_lock);
	for (fd = fdtable_hint; fd < fdtable_cnt; fd++)
		if (fdtable[fd].kind == FD_KIND_NONE)
			break;
	if (fd >= fdtable_cnt) {
		int n = fdtable_cnt ? fdtable_cnt * 2 : 64;
		struct fd_entry *t;

		if (fd >= FDTABLE_MAX) {
			pthread_mutex_unlock(&fdtable_lock);
			return -EMFILE;
		}
		if (n > FDTABLE_MAX)
			n = FDTABLE_MAX;
		t = realloc(fdtable, (size_t)n * sizeof(*t));
		if (!t) {
			pthread_mutex_unlock(&fdtable_lock);
			return -ENOMEM;
		}
		for (int i = fdtable_cnt; i < n; i++)
			t[i] = (struct fd_entry){ FD_KIND_NONE, NULL, NULL };
		fdtable = t;
		fdtable_cnt = n;
	}
	ops->get(obj);
	fdtable[fd] = (struct fd_entry){ kind, obj, ops };
	fdtable_hint = fd + 1;
	pthread_mutex_unlock(&fdtable_lock);
	return fd;
}

int fdtable_close(int fd)
{
	struct fd_entry e;

	pthread_mutex_lock(&fdtable_lock);
	if (fd <= 0 || fd >= fdtable_cnt || fdtable[fd].kind == FD_KIND_NONE) {
		pthread_mutex_unlock(&fdtable_lock);
		return -EBADF;
	}
	e = fdtable[fd];
	fdtable[fd] = (struct fd_entry){ FD_KIND_NONE, NULL, NULL };
	if (fd < fdtable_hint)
		fdtable_hint = fd;
	pthread_mutex_unlock(&fdtable_lock);
	e.ops->put(e.obj);	/* outside the lock: freeing may close other fds */
	return 0;
}

void *fdtable_get(int fd, enum fd_kind kind, const struct fd_obj_ops **ops_out, int *err)
{
	void *obj = NULL;
	int e = 0;

	pthread_mutex_lock(&fdtable_lock);
	if (fd <= 0 || fd >= fdtable_cnt || fdtable[fd].kind == FD_KIND_NONE) {
		e = -EBADF;
	} else if (fdtable[fd].kind != kind) {
		e = -EINVAL;
	} else {
		obj = fdtable[fd].obj;
		fdtable[fd].ops->get(obj);
		if (ops_out)
			*ops_out = fdtable[fd].ops;
	}
	pthread_mutex_unlock(&fdtable_lock);
	if (err)
		*err = e;
	return obj;
}

void *fdtable_peek(int fd, enum fd_kind kind)
{
	void *obj = NULL;

	pthread_mutex_lock(&fdtable_lock);
	if (fd > 0 && fd < fdtable_cnt && fdtable[fd].kind == kind)
		obj = fdtable[fd].obj;
	pthread_mutex_unlock(&fdtable_lock);
	return obj;
}
