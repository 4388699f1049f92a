/* lpm_trie.c — BPF_MAP_TYPE_LPM_TRIE: longest-prefix-match lookups.
 *
 * Keys are struct bpf_lpm_trie_key: a u32 prefix length followed by
 * key_size - 4 bytes of data compared most significant bit first (network
 * order).  The structure is the kernel's (kernel/bpf/lpm_trie.c), an
 * uncompressed binary trie in which every node carries a prefix and children
 * extend it by at least one bit; "intermediate" nodes exist only to branch
 * and have exactly two children.  So the results — which entry a lookup
 * matches, the errno of each update, and the post-order that get_next_key
 * walks (more specific prefixes before the prefixes that contain them) — are
 * the kernel's.
 *
 * Nodes come from a pool of 2 * max_entries (entries plus at most as many
 * intermediate nodes) and are recycled, never freed, while the map lives, so
 * value pointers handed to programs stay valid memory.  A reader/writer lock
 * (writers preferred) guards the structure: lookups run in parallel.
 */
#include "maps/map.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LPM_DATA_SIZE_MAX 256u
#define LPM_DATA_SIZE_MIN 1u
#define LPM_KEY_SIZE_MIN (4u + LPM_DATA_SIZE_MIN)
#define LPM_KEY_SIZE_MAX (4u + LPM_DATA_SIZE_MAX)
#define LPM_VAL_SIZE_MAX ((1u << 22) - LPM_DATA_SIZE_MAX - 24u)	/* KMALLOC_MAX_SIZE - ... */
#define LPM_CREATE_FLAG_MASK                                                    \
	(BPFVM_F_NO_PREALLOC | BPFVM_F_NUMA_NODE | BPFVM_F_RDONLY | BPFVM_F_RDONLY_PROG | \
	 BPFVM_F_WRONLY | BPFVM_F_WRONLY_PROG)

#define LPM_NODE_IM 1u	/* intermediate: no value, two children */

struct lpm_node {
	struct lpm_node *child[2];
	uint32_t prefixlen;
	uint32_t flags;
	uint32_t idx;		/* position in the pool */
	uint32_t pad;
	unsigned char data[];	/* data_size bytes (padded to 8), then the value */
};

struct lpm_trie {
	struct bpfvm_map map;
	pthread_rwlock_t lock;
	struct lpm_node *root;
	uint32_t n_entries;
	uint32_t data_size;
	uint32_t max_prefixlen;
	uint32_t data_sz8;
	uint32_t node_sz;
	uint32_t pool_cnt;
	unsigned char *nodes;
	size_t nodes_sz;
	uint32_t *free_stack;
	uint32_t free_top;
	uint32_t next_unused;
};

/* struct bpf_lpm_trie_key: the prefix length, then data. */
static inline uint32_t key_prefixlen(const void *key)
{
	uint32_t p;

	memcpy(&p, key, 4);
	return p;
}

static inline const unsigned char *key_data(const void *key)
{
	return (const unsigned char *)key + 4;
}

static inline struct lpm_trie *to_trie(const struct bpfvm_map *m)
{
	return (struct lpm_trie *)m;
}

static inline unsigned char *node_value(const struct lpm_trie *t, struct lpm_node *n)
{
	return n->data + t->data_sz8;
}

static inline int extract_bit(const unsigned char *data, uint32_t index)
{
	return !!(data[index / 8] & (1u << (7 - index % 8)));
}

/* Number of leading bits `node` and the key share, up to the shorter prefix. */
static uint32_t longest_prefix_match(const struct lpm_trie *t, const struct lpm_node *node,
				     uint32_t key_plen, const unsigned char *kdata)
{
	uint32_t limit = node->prefixlen < key_plen ? node->prefixlen : key_plen;
	uint32_t prefixlen = 0;

	for (uint32_t i = 0; i < t->data_size && prefixlen < limit; i++) {
		unsigned char diff = node->data[i] ^ kdata[i];

		if (diff) {
			prefixlen += (uint32_t)__builtin_clz((unsigned int)diff) - 24;
			break;
		}
		prefixlen += 8;
	}
	return prefixlen < limit ? prefixlen : limit;
}

static struct lpm_node *lpm_node_alloc(struct lpm_trie *t)
{
	struct lpm_node *n;
	uint32_t idx;

	if (t->free_top) {
		idx = t->free_stack[--t->free_top];
	} else if (t->next_unused < t->pool_cnt) {
		idx = t->next_unused++;
	} else {
		return NULL;
	}
	n = (struct lpm_node *)(t->nodes + (size_t)idx * t->node_sz);
	n->idx = idx;
	n->child[0] = n->child[1] = NULL;
	n->flags = 0;
	return n;
}

static void lpm_node_free(struct lpm_trie *t, struct lpm_node *n)
{
	t->free_stack[t->free_top++] = n->idx;
}

static void trie_free(struct bpfvm_map *m)
{
	struct lpm_trie *t = to_trie(m);

	pthread_rwlock_destroy(&t->lock);
	map_area_free(t->nodes, t->nodes_sz);
	map_area_free(t->free_stack, (size_t)t->pool_cnt * sizeof(uint32_t));
	free(t);
}

static struct bpfvm_map *trie_alloc(const struct map_attr *attr, int *err)
{
	pthread_rwlockattr_t ra;
	struct lpm_trie *t;

	if (attr->max_entries == 0)
		*err = map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	else if (!(attr->map_flags & BPFVM_F_NO_PREALLOC))
		*err = map_attr_err(attr, -EINVAL, "LPM tries need BPF_F_NO_PREALLOC");
	else if (attr->map_flags & ~LPM_CREATE_FLAG_MASK)
		*err = map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags LPM tries do not take",
				    attr->map_flags & ~LPM_CREATE_FLAG_MASK);
	else if (!map_flags_access_ok(attr->map_flags))
		*err = map_attr_err(attr, -EINVAL,
				    "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
	else if (attr->key_size < LPM_KEY_SIZE_MIN || attr->key_size > LPM_KEY_SIZE_MAX)
		*err = map_attr_err(attr, -EINVAL,
				    "key_size %u is invalid: must be 4 (prefixlen) + 1..256 bytes of data",
				    attr->key_size);
	else if (attr->value_size < 1 || attr->value_size > LPM_VAL_SIZE_MAX)
		*err = map_attr_err(attr, -EINVAL, "value_size %u is invalid: must be 1..%u",
				    attr->value_size, LPM_VAL_SIZE_MAX);
	else
		*err = 0;
	if (*err)
		return NULL;
	if ((uint64_t)attr->max_entries * 2 > UINT32_MAX) {
		*err = map_attr_err(attr, -E2BIG, "max_entries %u is too large", attr->max_entries);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&t->map, attr);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&t->lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	t->data_size = attr->key_size - 4;
	t->max_prefixlen = t->data_size * 8;
	t->data_sz8 = map_round_up(t->data_size, 8);
	t->node_sz = (uint32_t)sizeof(struct lpm_node) + t->data_sz8 +
		     map_round_up(attr->value_size, 8);
	t->pool_cnt = attr->max_entries * 2;
	t->nodes_sz = (size_t)t->pool_cnt * t->node_sz;
	t->nodes = map_area_alloc(t->nodes_sz);
	t->free_stack = map_area_alloc((size_t)t->pool_cnt * sizeof(uint32_t));
	if (!t->nodes || !t->free_stack) {
		trie_free(&t->map);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %u nodes", attr->max_entries * 2);
		return NULL;
	}
	return &t->map;
}

/* Longest prefix match; called with the lock held (either mode). */
static struct lpm_node *trie_match(struct lpm_trie *t, const void *key)
{
	uint32_t key_plen = key_prefixlen(key);
	const unsigned char *kdata = key_data(key);
	struct lpm_node *node, *found = NULL;

	if (key_plen > t->max_prefixlen)
		return NULL;	/* as the kernel: such a key matches nothing */
	for (node = t->root; node;) {
		uint32_t matchlen = longest_prefix_match(t, node, key_plen, kdata);

		if (matchlen == t->max_prefixlen) {
			found = node;
			break;
		}
		if (matchlen < node->prefixlen)
			break;
		if (!(node->flags & LPM_NODE_IM))
			found = node;
		node = node->child[extract_bit(kdata, node->prefixlen)];
	}
	return found;
}

static void *trie_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	struct lpm_trie *t = to_trie(m);
	struct lpm_node *n;

	(void)cpu;
	pthread_rwlock_rdlock(&t->lock);
	n = trie_match(t, key);
	pthread_rwlock_unlock(&t->lock);
	return n ? node_value(t, n) : NULL;
}

static int trie_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	struct lpm_trie *t = to_trie(m);
	struct lpm_node *n;

	(void)flags;
	pthread_rwlock_rdlock(&t->lock);
	n = trie_match(t, key);
	if (n)
		memcpy(value, node_value(t, n), m->value_size);
	pthread_rwlock_unlock(&t->lock);
	return n ? 0 : -ENOENT;
}

/* Adding an entry: BPF_EXIST refuses, a full trie says -ENOSPC. */
static long trie_check_add(struct lpm_trie *t, uint64_t flags)
{
	if (flags == BPFVM_EXIST)
		return -ENOENT;
	if (t->n_entries == t->map.max_entries)
		return -ENOSPC;
	return 0;
}

static long trie_update(struct bpfvm_map *m, const void *key, const void *value,
			uint64_t flags, int cpu)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key), matchlen = 0;
	const unsigned char *kdata = key_data(key);
	struct lpm_node *node, *new_node, *im_node, **slot;
	long ret = 0;

	(void)cpu;
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (key_plen > t->max_prefixlen)
		return -EINVAL;

	pthread_rwlock_wrlock(&t->lock);
	slot = &t->root;
	while ((node = *slot)) {
		matchlen = longest_prefix_match(t, node, key_plen, kdata);
		if (node->prefixlen != matchlen || node->prefixlen == key_plen ||
		    node->prefixlen == t->max_prefixlen)
			break;
		slot = &node->child[extract_bit(kdata, node->prefixlen)];
	}

	/* Same prefix: replace in place (an intermediate node becomes an
	 * entry).  The key's bytes past the prefix are stored too, as the
	 * kernel's replacement node carries them (get_next_key shows them). */
	if (node && node->prefixlen == matchlen && matchlen == key_plen) {
		if (!(node->flags & LPM_NODE_IM)) {
			if (flags == BPFVM_NOEXIST) {
				ret = -EEXIST;
				goto out;
			}
		} else {
			ret = trie_check_add(t, flags);
			if (ret)
				goto out;
			t->n_entries++;
			node->flags &= ~LPM_NODE_IM;
		}
		memcpy(node->data, kdata, t->data_size);
		memcpy(node_value(t, node), value, m->value_size);
		goto out;
	}

	ret = trie_check_add(t, flags);
	if (ret)
		goto out;
	new_node = lpm_node_alloc(t);
	if (!new_node) {
		ret = -ENOMEM;
		goto out;
	}
	new_node->prefixlen = key_plen;
	memcpy(new_node->data, kdata, t->data_size);
	memcpy(node_value(t, new_node), value, m->value_size);

	if (!node) {
		/* an empty slot */
		*slot = new_node;
	} else if (matchlen == key_plen) {
		/* the new prefix contains node's: insert it above */
		new_node->child[extract_bit(node->data, matchlen)] = node;
		*slot = new_node;
	} else {
		/* they diverge at bit matchlen: branch with an intermediate node */
		im_node = lpm_node_alloc(t);
		if (!im_node) {
			lpm_node_free(t, new_node);
			ret = -ENOMEM;
			goto out;
		}
		im_node->prefixlen = matchlen;
		im_node->flags = LPM_NODE_IM;
		memcpy(im_node->data, node->data, t->data_size);
		if (extract_bit(kdata, matchlen)) {
			im_node->child[0] = node;
			im_node->child[1] = new_node;
		} else {
			im_node->child[0] = new_node;
			im_node->child[1] = node;
		}
		*slot = im_node;
	}
	t->n_entries++;
out:
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

static long trie_delete(struct bpfvm_map *m, const void *key, int cpu)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key), matchlen = 0;
	const unsigned char *kdata = key_data(key);
	struct lpm_node *node, *parent = NULL, **trim, **trim2;
	long ret = 0;

	(void)cpu;
	if (key_plen > t->max_prefixlen)
		return -EINVAL;
	pthread_rwlock_wrlock(&t->lock);
	trim = trim2 = &t->root;
	while ((node = *trim)) {
		matchlen = longest_prefix_match(t, node, key_plen, kdata);
		if (node->prefixlen != matchlen || node->prefixlen == key_plen)
			break;
		parent = node;
		trim2 = trim;
		trim = &node->child[extract_bit(kdata, node->prefixlen)];
	}
	if (!node || node->prefixlen != key_plen || node->prefixlen != matchlen ||
	    (node->flags & LPM_NODE_IM)) {
		ret = -ENOENT;
		goto out;
	}
	t->n_entries--;

	if (node->child[0] && node->child[1]) {
		/* still needed to branch: becomes intermediate */
		node->flags |= LPM_NODE_IM;
		goto out;
	}
	if (parent && (parent->flags & LPM_NODE_IM) && !node->child[0] && !node->child[1]) {
		/* a leaf under an intermediate node: the sibling replaces both */
		*trim2 = parent->child[node == parent->child[0] ? 1 : 0];
		lpm_node_free(t, parent);
		lpm_node_free(t, node);
		goto out;
	}
	*trim = node->child[0] ? node->child[0] : node->child[1];
	lpm_node_free(t, node);
out:
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

/* The kernel's post-order: the leftmost entry first; after an entry, the
 * leftmost entry of the next right subtree up the path, else the nearest
 * entry ancestor.  A missing or malformed key starts over. */
static int trie_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	struct lpm_trie *t = to_trie(m);
	struct lpm_node *node, *next_node = NULL, *search_root, **stack = NULL;
	int err = 0, sp = -1;

	pthread_rwlock_rdlock(&t->lock);
	search_root = t->root;
	if (!search_root) {
		err = -ENOENT;
		goto out;
	}
	if (!key || key_prefixlen(key) > t->max_prefixlen)
		goto find_leftmost;

	stack = malloc(((size_t)t->max_prefixlen + 1) * sizeof(*stack));
	if (!stack) {
		err = -ENOMEM;
		goto out;
	}
	{
		uint32_t key_plen = key_prefixlen(key), matchlen = 0;
		const unsigned char *kdata = key_data(key);

		for (node = search_root; node;) {
			stack[++sp] = node;
			matchlen = longest_prefix_match(t, node, key_plen, kdata);
			if (node->prefixlen != matchlen || node->prefixlen == key_plen)
				break;
			node = node->child[extract_bit(kdata, node->prefixlen)];
		}
		if (!node || node->prefixlen != key_plen || node->prefixlen != matchlen ||
		    (node->flags & LPM_NODE_IM))
			goto find_leftmost;
	}
	node = stack[sp];
	while (sp > 0) {
		struct lpm_node *parent = stack[sp - 1];

		if (parent->child[0] == node && parent->child[1]) {
			search_root = parent->child[1];
			goto find_leftmost;
		}
		if (!(parent->flags & LPM_NODE_IM)) {
			next_node = parent;
			goto copy;
		}
		node = parent;
		sp--;
	}
	err = -ENOENT;
	goto out;

find_leftmost:
	/* intermediate nodes always have two children: this ends on an entry */
	for (node = search_root; node;) {
		if (node->flags & LPM_NODE_IM) {
			node = node->child[0];
		} else {
			next_node = node;
			node = node->child[0] ? node->child[0] : node->child[1];
		}
	}
copy:
	memcpy(next_key, &next_node->prefixlen, 4);
	memcpy((unsigned char *)next_key + 4, next_node->data, t->data_size);
out:
	pthread_rwlock_unlock(&t->lock);
	free(stack);
	return err;
}

static void trie_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	*base = to_trie(m)->nodes;
	*size = to_trie(m)->nodes_sz;
}

static int trie_check_access(const struct bpfvm_map *m, const void *p, size_t size)
{
	const struct lpm_trie *t = to_trie(m);
	uintptr_t off = (uintptr_t)p - (uintptr_t)t->nodes, in;
	uint32_t vstart = (uint32_t)sizeof(struct lpm_node) + t->data_sz8;

	if ((uintptr_t)p < (uintptr_t)t->nodes || off >= t->nodes_sz)
		return -EFAULT;
	in = off % t->node_sz;
	return in >= vstart && in - vstart + size <= m->value_size ? 0 : -EFAULT;
}

const struct map_ops lpm_trie_map_ops = {
	.alloc = trie_alloc,
	.free = trie_free,
	.lookup = trie_lookup,
	.update = trie_update,
	.delete = trie_delete,
	.sys_lookup = trie_sys_lookup,
	.get_next_key = trie_get_next_key,
	.lookup_batch = map_generic_lookup_batch,
	.value_region = trie_value_region,
	.check_access = trie_check_access,
};
