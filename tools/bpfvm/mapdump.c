/* mapdump.c — printing an object's maps for `--dump-maps` and `--top`.
 *
 * Keys and values are rendered through BTF when the object has it
 * (bpfvm_object_format_map_data); per-CPU maps show one value per CPU.
 * `--top MAP:N` sorts a map's entries by the first 64-bit field of the value
 * (summed over CPUs) — the packet or byte counter in typical flow tables.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct entry {
	uint8_t *key;
	uint8_t *value;
	uint64_t weight;
	uint32_t key_size;
};

static bool is_percpu(uint32_t type)
{
	return type == BPFVM_MAP_TYPE_PERCPU_ARRAY || type == BPFVM_MAP_TYPE_PERCPU_HASH ||
	       type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
}

/* can entries be listed with get_next_key + lookup? */
static bool dumpable(uint32_t type)
{
	switch (type) {
	case BPFVM_MAP_TYPE_PROG_ARRAY: case BPFVM_MAP_TYPE_PERF_EVENT_ARRAY:
	case BPFVM_MAP_TYPE_RINGBUF: case BPFVM_MAP_TYPE_QUEUE: case BPFVM_MAP_TYPE_STACK:
	case BPFVM_MAP_TYPE_BLOOM_FILTER: case BPFVM_MAP_TYPE_ARRAY_OF_MAPS:
	case BPFVM_MAP_TYPE_HASH_OF_MAPS:
		return false;
	default:
		return true;
	}
}

/* every (key, value) of the map; returns the count or a negative errno */
static long collect(struct bpfvm_map *m, struct entry **out)
{
	uint32_t ksz = bpfvm_map_key_size(m);
	size_t vsz = bpfvm_map_user_value_size(m);
	size_t cap = 64, n = 0;
	struct entry *e = malloc(cap * sizeof(*e));
	uint8_t *prev = NULL;
	if (!e)
		return -ENOMEM;
	for (;;) {
		uint8_t *key = malloc(ksz ? ksz : 1);
		if (!key)
			break;
		if (bpfvm_map_get_next_key(m, prev, key)) {
			free(key);
			break;
		}
		uint8_t *val = malloc(vsz ? vsz : 1);
		if (!val || bpfvm_map_lookup_elem(m, key, val)) {
			free(val); /* the entry vanished meanwhile: stop here */
			free(key);
			break;
		}
		if (n == cap) {
			struct entry *ne = realloc(e, (cap *= 2) * sizeof(*e));
			if (!ne) {
				free(key);
				free(val);
				break;
			}
			e = ne;
		}
		uint64_t w = 0;
		uint32_t vs = bpfvm_map_value_size(m);
		size_t stride = is_percpu(bpfvm_map_type(m)) ? (vs + 7) / 8 * 8 : vsz;
		for (size_t off = 0; vs >= 8 && off + 8 <= vsz; off += stride) {
			uint64_t x;
			memcpy(&x, val + off, 8);
			w += x;
		}
		e[n++] = (struct entry){ key, val, w, ksz };
		prev = key;
	}
	*out = e;
	return (long)n;
}

static void print_value(const struct bpfvm_object *obj, struct bpfvm_map *m, const uint8_t *val,
			bool json, FILE *f)
{
	char buf[2048];
	uint32_t vs = bpfvm_map_value_size(m);
	if (!is_percpu(bpfvm_map_type(m))) {
		bpfvm_object_format_map_data(obj, m, false, val, vs, json, buf, sizeof(buf));
		fputs(buf, f);
		return;
	}
	size_t stride = (vs + 7) / 8 * 8, cpus = bpfvm_map_user_value_size(m) / stride;
	fputs("[", f);
	for (size_t c = 0; c < cpus; c++) {
		bpfvm_object_format_map_data(obj, m, false, val + c * stride, vs, json, buf, sizeof(buf));
		fprintf(f, "%s%s", c ? ", " : "", buf);
	}
	fputs("]", f);
}

static int cmp_weight(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	return memcmp(x->key, y->key, x->key_size); /* ties: by key bytes, whatever the map order */
}

static void free_entries(struct entry *e, long n)
{
	for (long i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].value);
	}
	free(e);
}

/* one map: all entries, or the top `top` by weight when top > 0 */
int cli_dump_map(const struct bpfvm_object *obj, struct bpfvm_map *m, long top, bool json,
		 FILE *f)
{
	char buf[1024];
	const char *tn = bpfvm_map_type_name(bpfvm_map_type(m));
	if (!dumpable(bpfvm_map_type(m))) {
		if (!json)
			fprintf(f, "map %s (%s): not listable\n", bpfvm_map_name(m), tn ? tn : "?");
		return 0;
	}
	struct entry *e;
	long total = collect(m, &e), n = total;
	if (n < 0)
		return (int)n;
	if (top > 0) {
		qsort(e, (size_t)n, sizeof(*e), cmp_weight);
		if (n > top)
			n = top;
	}
	if (json)
		fprintf(f, "{\"map\":\"%s\",\"type\":\"%s\",\"entries\":[", bpfvm_map_name(m), tn ? tn : "?");
	else
		fprintf(f, "map %s (%s): %ld entr%s%s\n", bpfvm_map_name(m), tn ? tn : "?", n,
			n == 1 ? "y" : "ies", top > 0 ? " (top by first counter)" : "");
	for (long i = 0; i < n; i++) {
		bpfvm_object_format_map_data(obj, m, true, e[i].key, bpfvm_map_key_size(m), json, buf,
					     sizeof(buf));
		if (json)
			fprintf(f, "%s{\"key\":%s,\"value\":", i ? "," : "", buf);
		else
			fprintf(f, "  %s => ", buf);
		print_value(obj, m, e[i].value, json, f);
		fputs(json ? "}" : "\n", f);
	}
	if (json)
		fputs("]}", f);
	free_entries(e, total);
	return 0;
}

int cli_dump_maps(const struct bpfvm_object *obj, bool json, FILE *f)
{
	size_t cnt = bpfvm_object_map_cnt(obj);
	if (json)
		fputs("[", f);
	for (size_t i = 0; i < cnt; i++) {
		struct bpfvm_map *m = bpfvm_object_map(obj, i);
		if (!m)
			continue;
		if (json && i)
			fputs(",", f);
		cli_dump_map(obj, m, 0, json, f);
	}
	if (json)
		fputs("]\n", f);
	return 0;
}
