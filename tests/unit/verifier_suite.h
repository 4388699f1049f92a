/* verifier_suite.h — reading tests/verifier/NAME.data and running one case in
 * bpfvm's verifier; shared by test_verifier.c and test_verifier_kdiff.c.
 *
 * A case file has sections (lines `-- name`), `#` comment lines anywhere:
 *   -- asm          the program (bpfvm_asm dialect; `lddw %r1, map_idx N`
 *                   names map N of the -- maps section)
 *   -- prog-type    xdp (default), socket, tc, tc_act, kprobe, tracepoint,
 *                   cgroup_skb, raw_tp, perf_event
 *   -- maps         one map a line: TYPE key=K value=V entries=N [flags=F]
 *                   [inner=I] (I: index of an earlier map used as the
 *                   map-in-map template)
 *   -- verdict      accept | reject
 *   -- error        a substring the rejection log must contain
 *   -- kernel       skip REASON: do not load this case into the kernel
 * bpfvm_prog_from_insns() (with BPFVM_PROG_DEFER_CHECKS, as the kernel's
 * BPF_PROG_LOAD) refuses malformed bytecode before the verifier sees it: for
 * those cases only the verdict is compared.
 */
#ifndef BPFVM_VERIFIER_SUITE_H
#define BPFVM_VERIFIER_SUITE_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfvm.h"
#include "bpfvm/verifier.h"
#include "exec/vm.h"

#define VS_MAX_MAPS 8

struct vs_map {
	uint32_t type, key, value, entries, flags;
	int inner;		/* -1: none */
	int lock;		/* offset of a bpf_spin_lock in the value, -1: none */
};

struct vs_case {
	char path[512];
	char *asm_text;
	uint32_t prog_type;
	struct vs_map maps[VS_MAX_MAPS];
	int map_cnt;
	int verdict;		/* 1 accept, 0 reject, -1 not given */
	char error[256];
	char kernel_skip[128];
};

static inline char *vs_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

static inline int vs_prog_type(const char *name)
{
	static const struct {
		const char *n;
		int t;
	} types[] = {
		{ "xdp", 6 },		{ "socket", 1 },     { "tc", 3 },	  { "tc_act", 4 },
		{ "kprobe", 2 },	{ "tracepoint", 5 }, { "cgroup_skb", 8 }, { "raw_tp", 17 },
		{ "perf_event", 7 },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].n, name))
			return types[i].t;
	return -1;
}

static inline int vs_parse_map(struct vs_map *m, char *line)
{
	char *save = NULL, *tok = strtok_r(line, " \t", &save);
	if (!tok)
		return -1;
	int t = bpfvm_map_type_from_name(tok);
	if (t < 0)
		return -1;
	memset(m, 0, sizeof(*m));
	m->type = (uint32_t)t;
	m->inner = -1;
	m->lock = -1;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		unsigned long v;
		char key[32];
		if (sscanf(tok, "%31[^=]=%li", key, (long *)&v) != 2)
			return -1;
		if (!strcmp(key, "key"))
			m->key = (uint32_t)v;
		else if (!strcmp(key, "value"))
			m->value = (uint32_t)v;
		else if (!strcmp(key, "entries"))
			m->entries = (uint32_t)v;
		else if (!strcmp(key, "flags"))
			m->flags = (uint32_t)v;
		else if (!strcmp(key, "inner"))
			m->inner = (int)v;
		else if (!strcmp(key, "lock"))
			m->lock = (int)v;
		else
			return -1;
	}
	return 0;
}

/* 0 on success; the case owns asm_text */
static inline int vs_load(struct vs_case *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->prog_type = 6;
	c->verdict = -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char line[1024], sec[32] = "";
	size_t cap = 4096, len = 0;
	c->asm_text = malloc(cap);
	if (!c->asm_text) {
		fclose(f);
		return -ENOMEM;
	}
	c->asm_text[0] = 0;
	int err = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "-- ", 3)) {
			char *name = vs_trim(line + 3);
			char *arg = strchr(name, ' ');
			if (arg)
				*arg++ = 0;
			snprintf(sec, sizeof(sec), "%s", name);
			/* one-line forms: `-- verdict reject`, `-- error text` */
			if (arg) {
				arg = vs_trim(arg);
				if (!strcmp(sec, "verdict"))
					c->verdict = !strcmp(arg, "accept");
				else if (!strcmp(sec, "error"))
					snprintf(c->error, sizeof(c->error), "%s", arg);
				else if (!strcmp(sec, "prog-type")) {
					int t = vs_prog_type(arg);
					if (t < 0)
						err = -EINVAL;
					c->prog_type = (uint32_t)t;
				} else if (!strcmp(sec, "kernel"))
					snprintf(c->kernel_skip, sizeof(c->kernel_skip), "%s", arg);
				sec[0] = 0;
			}
			continue;
		}
		if (line[0] == '#' && strcmp(sec, "error"))
			continue;
		char *t = vs_trim(line);
		if (!strcmp(sec, "asm")) {
			size_t n = strlen(t);
			if (len + n + 2 > cap) {
				cap = (len + n + 2) * 2;
				char *nb = realloc(c->asm_text, cap);
				if (!nb) {
					err = -ENOMEM;
					break;
				}
				c->asm_text = nb;
			}
			memcpy(c->asm_text + len, t, n);
			len += n;
			c->asm_text[len++] = '\n';
			c->asm_text[len] = 0;
		} else if (!*t) {
			continue;
		} else if (!strcmp(sec, "verdict")) {
			c->verdict = !strcmp(t, "accept");
		} else if (!strcmp(sec, "error")) {
			snprintf(c->error, sizeof(c->error), "%s", t);
		} else if (!strcmp(sec, "prog-type")) {
			int pt = vs_prog_type(t);
			if (pt < 0)
				err = -EINVAL;
			c->prog_type = (uint32_t)pt;
		} else if (!strcmp(sec, "maps")) {
			if (c->map_cnt >= VS_MAX_MAPS || vs_parse_map(&c->maps[c->map_cnt++], t))
				err = -EINVAL;
		} else if (!strcmp(sec, "kernel")) {
			snprintf(c->kernel_skip, sizeof(c->kernel_skip), "%s", t);
		}
	}
	fclose(f);
	if (!err && (c->verdict < 0 || !len))
		err = -EINVAL;
	return err;
}

static inline void vs_free(struct vs_case *c)
{
	free(c->asm_text);
	c->asm_text = NULL;
}

struct vs_result {
	int verdict;		/* 1 accept, 0 reject */
	int err;		/* bpfvm's return code */
	bool at_load;		/* refused by bpfvm_prog_from_insns (structure) */
	char *log;		/* malloc'd */
	uint64_t insns;
	uint64_t ns;
};

/* Run the case in bpfvm's verifier. */
static inline int vs_run_bpfvm(const struct vs_case *c, struct vs_result *r)
{
	struct bpfvm_map *maps[VS_MAX_MAPS] = { 0 };
	struct bpf_insn *insns = NULL;
	size_t cnt = 0;
	size_t log_sz = 1 << 20;
	memset(r, 0, sizeof(*r));
	r->log = calloc(1, log_sz);
	if (!r->log)
		return -ENOMEM;
	int ret = 0;
	for (int i = 0; i < c->map_cnt; i++) {
		const struct vs_map *m = &c->maps[i];
		struct bpfvm_map_create_opts mo = BPFVM_OPTS_INIT(bpfvm_map_create_opts);
		mo.map_flags = m->flags;
		if (m->inner >= 0 && m->inner < i)
			mo.inner_map = maps[m->inner];
		if (m->lock >= 0) {
			mo.has_spin_lock = 1;
			mo.spin_lock_off = (uint32_t)m->lock;
		}
		char name[16];
		snprintf(name, sizeof(name), "m%d", i);
		maps[i] = bpfvm_map_create(m->type, name, m->key, m->value, m->entries, &mo);
		if (!maps[i]) {
			snprintf(r->log, log_sz, "map %d: cannot create: %s", i, strerror(errno));
			ret = -errno;
			goto out;
		}
	}
	if (bpfvm_asm(c->asm_text, &insns, &cnt, r->log, log_sz)) {
		ret = -EINVAL;
		goto out;
	}
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.flags = BPFVM_PROG_DEFER_CHECKS;	/* as the kernel's BPF_PROG_LOAD */
	po.log_buf = r->log;
	po.log_size = log_sz;
	po.maps = maps;
	po.map_cnt = (size_t)c->map_cnt;
	struct bpfvm_prog *p = bpfvm_prog_from_insns(insns, cnt, &po);
	if (!p) {
		r->verdict = 0;
		r->err = -errno;
		r->at_load = true;
		goto out;
	}
	p->type = c->prog_type;
	struct bpfvm_verify_stats st;
	memset(&st, 0, sizeof(st));
	struct bpfvm_verify_opts vo = { .sz = sizeof(vo), .log_level = 1, .log_buf = r->log,
					.log_size = log_sz, .stats = &st };
	r->err = bpfvm_prog_verify(p, &vo);
	if (r->err == -ENOSPC) { /* the log did not fit: the verdict alone */
		struct bpfvm_verify_opts v0 = { .sz = sizeof(v0), .stats = &st };
		r->err = bpfvm_prog_verify(p, &v0);
	}
	r->verdict = r->err == 0;
	r->insns = st.insn_processed;
	r->ns = st.duration_ns;
	bpfvm_prog_free(p);
out:
	free(insns);
	for (int i = 0; i < c->map_cnt; i++)
		bpfvm_map_free(maps[i]);
	return ret;
}

static int vs_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the *.data files of dir, sorted; returns the count (names malloc'd) */
static inline int vs_list(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char **names = NULL;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".data"))
			continue;
		char **nn = realloc(names, (size_t)(n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		size_t pl = strlen(dir) + l + 2;
		names[n] = malloc(pl);
		if (!names[n])
			break;
		snprintf(names[n], pl, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), vs_cmp_str);
	*out = names;
	return n;
}

#endif
