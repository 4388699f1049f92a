/* cgroup.c — the cgroups a BPF_MAP_TYPE_CGROUP_ARRAY holds, and whether the
 * calling task is inside one (bpf_current_task_under_cgroup).
 *
 * Userspace stores an operating-system fd of an open cgroup2 directory, as
 * with the kernel's map; anything else is -EBADF, as cgroup_get_from_fd()
 * says (a closed fd, a cgroup v1 directory, a file).  The slot keeps its own
 * duplicate of the fd: the directory stays open, as the kernel's reference
 * keeps the cgroup, however the caller's fd fares.
 *
 * "Under" is the kernel's task_under_cgroup_hierarchy on the default (v2)
 * hierarchy: the task's cgroup is the slot's or a descendant.  The task's
 * cgroup is the "0::" line of /proc/thread-self/cgroup; the slot's is where
 * its directory is now (readlink of /proc/self/fd/N, so renames are
 * followed) relative to the cgroup2 mount holding it, found in
 * /proc/self/mountinfo when it was stored.  A removed cgroup reads as
 * "... (deleted)" and holds nobody.
 */
#include "maps/map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "maps/fdtable.h"

#define CGROUP2_SUPER_MAGIC 0x63677270
#define CG_PATH_MAX 4096

struct map_cgroup {
	int fd;		/* our duplicate of the user's fd */
	char *mnt;	/* mount point of the cgroup2 file system holding it, or NULL */
	char *root;	/* that mount's root inside the hierarchy ("/" unless a bind) */
};

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The cgroup2 mount of device `dev`: its mount point and root. */
static void find_mount(struct map_cgroup *cg, dev_t dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char root[CG_PATH_MAX], mnt[CG_PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &maj, &min, root, mnt) != 4 ||
		    makedev(maj, min) != dev)
			continue;
		unescape(root);
		unescape(mnt);
		cg->mnt = strdup(mnt);
		cg->root = strdup(root);
		if (!cg->mnt || !cg->root) {
			free(cg->mnt);
			free(cg->root);
			cg->mnt = cg->root = NULL;
		}
		break;
	}
	free(line);
	fclose(f);
}

static void cgroup_put(void *obj)
{
	struct map_cgroup *cg = obj;

	close(cg->fd);
	free(cg->mnt);
	free(cg->root);
	free(cg);
}

static void cgroup_get(void *obj)
{
	(void)obj;	/* a slot owns its cgroup alone: never shared */
}

const struct fd_obj_ops map_cgroup_ops = { cgroup_get, cgroup_put, NULL };

struct map_cgroup *map_cgroup_open(int ufd, int *err)
{
	struct statfs sfs;
	struct stat st;
	struct map_cgroup *cg;

	if (ufd < 0 || fstatfs(ufd, &sfs) != 0 || (uint32_t)sfs.f_type != CGROUP2_SUPER_MAGIC ||
	    fstat(ufd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		*err = -EBADF;
		return NULL;
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg) {
		*err = -ENOMEM;
		return NULL;
	}
	cg->fd = fcntl(ufd, F_DUPFD_CLOEXEC, 3);
	if (cg->fd < 0) {
		*err = -errno;
		free(cg);
		return NULL;
	}
	find_mount(cg, st.st_dev);
	return cg;
}

/* The calling thread's cgroup on the default hierarchy, into buf. */
static int task_cgroup(char *buf, size_t size)
{
	FILE *f = fopen("/proc/thread-self/cgroup", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	if (!f)
		f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		size_t n;

		if (strncmp(line, "0::", 3) != 0)
			continue;
		n = strcspn(line + 3, "\n");
		if (n >= size)
			break;
		memcpy(buf, line + 3, n);
		buf[n] = '\0';
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/* Is path `t` the cgroup `c` or below it? */
static bool path_under(const char *t, const char *c)
{
	size_t n = strlen(c);

	while (n > 1 && c[n - 1] == '/')
		n--;
	if (n == 1 && c[0] == '/')
		return true;
	return strncmp(t, c, n) == 0 && (t[n] == '\0' || t[n] == '/');
}

int map_cgroup_task_under(const struct map_cgroup *cg)
{
	char task[CG_PATH_MAX], link[CG_PATH_MAX], proc[64], cgrp[2 * CG_PATH_MAX];
	size_t mlen;
	ssize_t n;

	if (!cg->mnt || task_cgroup(task, sizeof(task)) != 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", cg->fd);
	n = readlink(proc, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	mlen = strlen(cg->mnt);
	if (strcmp(cg->mnt, "/") == 0)
		mlen = 0;
	if (strncmp(link, cg->mnt, mlen) != 0 || (link[mlen] != '\0' && link[mlen] != '/'))
		return 0;	/* moved out of the mount we knew */
	snprintf(cgrp, sizeof(cgrp), "%s%s", strcmp(cg->root, "/") == 0 ? "" : cg->root,
		 link + mlen);
	return path_under(task, cgrp[0] ? cgrp : "/");
}
