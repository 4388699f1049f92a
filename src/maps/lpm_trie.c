/* lpm_trie.c — BPF_MAP_TYPE_LPM_TRIE: longest-prefix-match lookups.
 *
 * Keys are struct bpf_lpm_trie_key: a u32 prefix length followed by
 * key_size - 4 bytes of data compared most significant bit first (network
 * order).  The structure is the kernel's (kernel/bpf/lpm_trie.c), a binary
 * trie in which every node carries a prefix and children extend it by at
 * least one bit; "intermediate" nodes exist only to branch and have exactly
 * two children.  So the results — which entry a lookup matches, the errno of
 * each update, and the post-order that get_next_key walks (more specific
 * prefixes before the prefixes that contain them) — are the kernel's.
 *
 * Layout.  A node is small and hot: two child links, prefix length and
 * flags in one word, its pool index, and the data as zero-padded 64-bit words
 * (so prefixes compare a word at a time); 32 bytes for IPv4 and 8-byte keys.
 * A link is not a pointer but one word with the child's place in the pool,
 * its prefix length, and (for data in one word) the shift that brings the
 * key bit choosing the child's own child to bit 0: a lookup knows where to
 * go next as soon as it has loaded the link, so each level of the walk
 * waits for one load and two instructions.
 * Values live apart, in a block indexed like the nodes.  Nodes come from a
 * pool of 2 * max_entries (entries plus at most as many intermediate nodes;
 * index 0 is the empty link) and are recycled, never freed, while the map
 * lives, so value pointers handed to programs stay valid memory (see
 * "Pointer lifetime" in map.h).
 *
 * Concurrency.  Writers (update, delete, and userspace reads that copy a
 * value or walk the order) take a spinlock.  Lookups take no lock: they read
 * a sequence count (odd while a writer changes the structure), walk with
 * atomic loads, and walk again if the count moved — a seqlock.  Recycled
 * nodes are harmless to such a reader: every link points into the pool, the
 * walk is cut after max_prefixlen + 1 steps, and the count sends it round
 * again.  Value-only updates do not move the count.
 */
#include "maps/map.h"

#include <errno.h>
#include <sched.h>
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

#define LPM_NODE_IM (1u << 31)	/* in lpm_node.meta: intermediate, no value, two children */
#define LPM_PLEN_MASK 0xffffu
#define LPM_WORDS (LPM_DATA_SIZE_MAX / 8)

/* A link to a node: its byte offset in the pool << 20 | prefix length << 8
 * | LINK_IM | the shift of bit `prefix length` in a data word (link_shift);
 * 0: none.  A node's prefix length never changes while it is linked; when it
 * turns intermediate or back, the one link to it is rewritten. */
typedef _Atomic uint64_t lpm_link;
#define LINK_OFF_SHIFT 20
#define LINK_PLEN(l) ((uint32_t)((l) >> 8) & 0xfffu)
#define LINK_IM 0x40u		/* the node is intermediate (LPM_NODE_IM) */

struct lpm_node {
	lpm_link child[2];
	atomic_uint meta;		/* prefix length | LPM_NODE_IM */
	atomic_uint idx;		/* position in the pool (and of the value) */
	_Atomic uint64_t data[];	/* the data bytes in order, zero-padded words */
};

struct lpm_trie {
	struct bpfvm_map map;
	map_spinlock_t lock;		/* writers */
	atomic_uint seq;		/* odd while the structure changes */
	lpm_link root;
	uint32_t n_entries;
	uint32_t data_size;
	uint32_t max_prefixlen;
	uint32_t n_words;		/* data words per node */
	uint32_t node_sz;
	uint32_t val_sz;		/* round_up(value_size, 8) */
	uint32_t pool_cnt;
	unsigned char *nodes;
	size_t nodes_sz;
	unsigned char *values;		/* [node index] */
	size_t values_sz;
	uint32_t *free_stack;
	uint32_t free_top;
	uint32_t next_unused;
};

/* A key's data as the nodes hold it: zero-padded words. */
struct lpm_kbuf {
	uint64_t w[LPM_WORDS];
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

/* ------------------------------------------------------ node accessors -- */

#define LD(p) atomic_load_explicit(&(p), memory_order_relaxed)
#define ST(p, v) atomic_store_explicit(&(p), (v), memory_order_relaxed)

static inline struct lpm_node *node_at(const struct lpm_trie *t, uint32_t idx)
{
	return (struct lpm_node *)(t->nodes + (size_t)idx * t->node_sz);
}

/* Where bit `index` (most significant first) of the data is in the word
 * holding it: word_bit() is (w >> link_shift(index)) & 1. */
static inline uint32_t link_shift(uint32_t index)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (index & 63) ^ 7;	/* byte index/8 % 8, bit 7 - index % 8 */
#else
	return 63 - (index & 63);
#endif
}

static inline uint64_t node_link(const struct lpm_trie *t, const struct lpm_node *n)
{
	uint32_t meta = LD(n->meta), plen = meta & LPM_PLEN_MASK;

	return (uint64_t)((const unsigned char *)n - t->nodes) << LINK_OFF_SHIFT |
	       (uint64_t)plen << 8 | (meta & LPM_NODE_IM ? LINK_IM : 0) | link_shift(plen);
}

static inline struct lpm_node *link_node(const struct lpm_trie *t, uint64_t l)
{
	return l ? (struct lpm_node *)(t->nodes + (l >> LINK_OFF_SHIFT)) : NULL;
}

static inline struct lpm_node *child_node(const struct lpm_trie *t, const struct lpm_node *n,
					  int bit)
{
	return link_node(t, LD(n->child[bit]));
}

static inline unsigned char *node_value(const struct lpm_trie *t, const struct lpm_node *n)
{
	return t->values + (size_t)LD(n->idx) * t->val_sz;
}

static inline uint32_t node_plen(const struct lpm_node *n)
{
	return LD(n->meta) & LPM_PLEN_MASK;
}

static inline bool node_im(const struct lpm_node *n)
{
	return LD(n->meta) & LPM_NODE_IM;
}

/* Bit `index` (most significant first) of data held as words. */
static inline int word_bit(uint64_t w, uint32_t index)
{
	return (int)(w >> link_shift(index)) & 1;
}

static inline int key_bit(const struct lpm_kbuf *k, uint32_t index)
{
	return word_bit(k->w[index / 64], index);
}

static inline int node_bit(const struct lpm_node *n, uint32_t index)
{
	return word_bit(LD(n->data[index / 64]), index);
}

/* Leading bits two words (data in memory order) share: 0..64. */
static inline uint32_t word_common_bits(uint64_t a, uint64_t b)
{
	uint64_t diff = a ^ b;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	diff = __builtin_bswap64(diff);
#endif
	return (uint32_t)__builtin_clzll(diff | 1) + (diff == 0);	/* no branch */
}

static void key_load(const struct lpm_trie *t, const void *key, struct lpm_kbuf *k)
{
	k->w[(t->data_size - 1) / 8] = 0;
	memcpy(k->w, key_data(key), t->data_size);
}

static void node_set_data(const struct lpm_trie *t, struct lpm_node *n, const struct lpm_kbuf *k)
{
	for (uint32_t i = 0; i < t->n_words; i++)
		ST(n->data[i], k->w[i]);
}

/* Number of leading bits `node` and the key share, up to the shorter
 * prefix. */
static inline uint32_t longest_prefix_match(const struct lpm_node *node, uint32_t node_plen,
					    uint32_t key_plen, const struct lpm_kbuf *k)
{
	uint32_t limit = node_plen < key_plen ? node_plen : key_plen;
	uint32_t n = word_common_bits(LD(node->data[0]), k->w[0]);

	for (uint32_t i = 1; n == 64 * i && n < limit; i++)
		n += word_common_bits(LD(node->data[i]), k->w[i]);
	return n < limit ? n : limit;
}

static struct lpm_node *lpm_node_alloc(struct lpm_trie *t)
{
	struct lpm_node *n;

	if (t->free_top) {
		n = node_at(t, t->free_stack[--t->free_top]);
	} else if (t->next_unused < t->pool_cnt) {	/* from 1 on */
		n = node_at(t, t->next_unused);
		ST(n->idx, t->next_unused++);
	} else {
		return NULL;
	}
	ST(n->child[0], 0);
	ST(n->child[1], 0);
	return n;
}

static void lpm_node_free(struct lpm_trie *t, struct lpm_node *n)
{
	t->free_stack[t->free_top++] = LD(n->idx);
}

/* ------------------------------------------------------------ locking -- */

/* A writer's section: the lock, and the sequence count made odd before the
 * first structural store (write_mod) and even again at the end. */
struct lpm_write {
	struct lpm_trie *t;
	bool mod;
};

static struct lpm_write trie_write_begin(struct lpm_trie *t)
{
	map_spinlock_lock(&t->lock);
	return (struct lpm_write){ t, false };
}

static void trie_write_mod(struct lpm_write *w)
{
	if (w->mod)
		return;
	w->mod = true;
	ST(w->t->seq, LD(w->t->seq) + 1);
	atomic_thread_fence(memory_order_release);	/* odd before the stores */
}

static void trie_write_end(struct lpm_write *w)
{
	if (w->mod)
		atomic_store_explicit(&w->t->seq, LD(w->t->seq) + 1, memory_order_release);
	map_spinlock_unlock(&w->t->lock);
}

/* A reader's start: an even sequence count (waiting out a writer). */
static uint32_t trie_read_begin(const struct lpm_trie *t)
{
	atomic_uint *seq = &((struct lpm_trie *)t)->seq;

	for (unsigned int spins = 0;; spins++) {
		uint32_t s = atomic_load_explicit(seq, memory_order_acquire);

		if (!(s & 1))
			return s;
		if (spins >= 64)
			sched_yield();	/* the writer may be a preempted thread */
	}
}

static bool trie_read_retry(const struct lpm_trie *t, uint32_t s)
{
	atomic_thread_fence(memory_order_acquire);	/* the walk's loads before the check */
	return LD(((struct lpm_trie *)t)->seq) != s;
}

/* ----------------------------------------------------------- creation -- */

static void trie_free(struct bpfvm_map *m)
{
	struct lpm_trie *t = to_trie(m);

	map_area_free(t->nodes, t->nodes_sz);
	map_area_free(t->values, t->values_sz);
	map_area_free(t->free_stack, (size_t)t->pool_cnt * sizeof(uint32_t));
	free(t);
}

static int trie_alloc_check(const struct map_attr *attr)
{
	if (attr->max_entries == 0)
		return map_attr_err(attr, -EINVAL, "max_entries must not be 0");
	if (!(attr->map_flags & BPFVM_F_NO_PREALLOC))
		return map_attr_err(attr, -EINVAL, "LPM tries need BPF_F_NO_PREALLOC");
	if (attr->map_flags & ~LPM_CREATE_FLAG_MASK)
		return map_attr_err(attr, -EINVAL, "map_flags 0x%x has flags LPM tries do not take",
				    attr->map_flags & ~LPM_CREATE_FLAG_MASK);
	if (!map_flags_access_ok(attr->map_flags))
		return map_attr_err(attr, -EINVAL,
				    "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
	if (attr->key_size < LPM_KEY_SIZE_MIN || attr->key_size > LPM_KEY_SIZE_MAX)
		return map_attr_err(attr, -EINVAL,
				    "key_size %u is invalid: must be 4 (prefixlen) + 1..256 bytes of data",
				    attr->key_size);
	if (attr->value_size < 1 || attr->value_size > LPM_VAL_SIZE_MAX)
		return map_attr_err(attr, -EINVAL, "value_size %u is invalid: must be 1..%u",
				    attr->value_size, LPM_VAL_SIZE_MAX);
	if ((uint64_t)attr->max_entries * 2 > UINT32_MAX)
		return map_attr_err(attr, -E2BIG, "max_entries %u is too large", attr->max_entries);
	return 0;
}

static struct bpfvm_map *trie_alloc(const struct map_attr *attr, int *err)
{
	struct lpm_trie *t;

	*err = trie_alloc_check(attr);
	if (*err)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	map_init(&t->map, attr);
	map_spinlock_init(&t->lock);
	t->data_size = attr->key_size - 4;
	t->max_prefixlen = t->data_size * 8;
	t->n_words = map_round_up(t->data_size, 8) / 8;
	t->node_sz = (uint32_t)sizeof(struct lpm_node) + t->n_words * 8;
	t->val_sz = map_round_up(attr->value_size, 8);
	t->pool_cnt = attr->max_entries * 2 + 1;	/* index 0: no node */
	t->next_unused = 1;
	t->nodes_sz = (size_t)t->pool_cnt * t->node_sz;
	t->values_sz = (size_t)t->pool_cnt * t->val_sz;
	t->nodes = map_area_alloc(t->nodes_sz);
	t->values = map_area_alloc(t->values_sz);
	t->free_stack = map_area_alloc((size_t)t->pool_cnt * sizeof(uint32_t));
	if (!t->nodes || !t->values || !t->free_stack) {
		trie_free(&t->map);
		*err = map_attr_err(attr, -ENOMEM, "cannot allocate %u nodes", t->pool_cnt);
		return NULL;
	}
	return &t->map;
}

/* ------------------------------------------------------------ lookups -- */

/* Longest prefix match of a key that is not longer than max_prefixlen: the
 * kernel's trie_lookup_elem walk, which stops at the first node whose prefix
 * the key does not have and returns the last entry before it.  (Its second
 * way out, a match of max_prefixlen bits, is a node without children.)
 * Writers call it under the lock; readers check the sequence count around
 * it. */
static struct lpm_node *trie_walk(const struct lpm_trie *t, uint32_t key_plen,
				  const struct lpm_kbuf *k)
{
	uint64_t link = LD(((struct lpm_trie *)t)->root);
	struct lpm_node *found = NULL;

	for (uint32_t steps = 0; link && steps <= t->max_prefixlen; steps++) {
		struct lpm_node *node = (struct lpm_node *)(t->nodes + (link >> LINK_OFF_SHIFT));
		uint32_t plen = LINK_PLEN(link);

		if (longest_prefix_match(node, plen, key_plen, k) != plen)
			break;
		found = link & LINK_IM ? found : node;
		link = LD(node->child[key_bit(k, plen)]);
	}
	return found;
}

/* The same for data of at most 8 bytes, in w0: a level waits for one load
 * (the link) and branches only to leave. */
MAP_ALWAYS_INLINE struct lpm_node *trie_walk_word(const struct lpm_trie *t, uint32_t key_plen,
						  uint64_t w0)
{
	uint64_t link = LD(((struct lpm_trie *)t)->root);
	struct lpm_node *found = NULL;

	for (uint32_t steps = 0; link && steps <= t->max_prefixlen; steps++) {
		struct lpm_node *node = (struct lpm_node *)(t->nodes + (link >> LINK_OFF_SHIFT));
		uint32_t plen = LINK_PLEN(link);

		if ((word_common_bits(LD(node->data[0]), w0) < plen) | (key_plen < plen))
			break;
		found = link & LINK_IM ? found : node;
		link = LD(node->child[(w0 >> (link & 63)) & 1]);	/* bit plen of the key */
	}
	return found;
}

/* bpf_map_lookup_elem for data of at most 8 bytes; data_size: the trie's
 * (a constant where it is known). */
MAP_ALWAYS_INLINE void *trie_lookup_word(struct bpfvm_map *m, const void *key,
					 uint32_t data_size)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key), s;
	struct lpm_node *n;
	uint64_t w0 = 0;

	if (key_plen > t->max_prefixlen)
		return NULL;	/* as the kernel: such a key matches nothing */
	memcpy(&w0, key_data(key), data_size);
	do {
		s = trie_read_begin(t);
		n = trie_walk_word(t, key_plen, w0);
	} while (trie_read_retry(t, s));
	return n ? node_value(t, n) : NULL;
}

static void *trie_lookup(struct bpfvm_map *m, const void *key, int cpu)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key), s;
	struct lpm_kbuf k;
	struct lpm_node *n;

	(void)cpu;
	if (t->n_words == 1)
		return trie_lookup_word(m, key, t->data_size);
	if (key_plen > t->max_prefixlen)
		return NULL;
	key_load(t, key, &k);
	do {
		s = trie_read_begin(t);
		n = trie_walk(t, key_plen, &k);
	} while (trie_read_retry(t, s));
	return n ? node_value(t, n) : NULL;
}

/* The JIT's direct calls: IPv4 (4 bytes of data), other data of at most 8
 * bytes. */
static void *trie_lookup_d4(struct bpfvm_map *m, const void *key, int cpu)
{
	(void)cpu;
	return trie_lookup_word(m, key, 4);
}

static void *trie_lookup_d8(struct bpfvm_map *m, const void *key, int cpu)
{
	(void)cpu;
	return trie_lookup_word(m, key, to_trie(m)->data_size);
}

static uintptr_t trie_direct_fn(const struct bpfvm_map *m, enum map_call call)
{
	if (call != MAP_CALL_LOOKUP)
		return 0;
	if (to_trie(m)->data_size == 4)
		return (uintptr_t)trie_lookup_d4;
	return to_trie(m)->data_size <= 8 ? (uintptr_t)trie_lookup_d8 : 0;
}

static int trie_sys_lookup(struct bpfvm_map *m, const void *key, void *value, uint64_t flags)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key);
	struct lpm_write w;
	struct lpm_kbuf k;
	struct lpm_node *n;

	(void)flags;
	if (key_plen > t->max_prefixlen)
		return -ENOENT;
	key_load(t, key, &k);
	w = trie_write_begin(t);	/* the copy must not meet an update */
	n = trie_walk(t, key_plen, &k);
	if (n)
		memcpy(value, node_value(t, n), m->value_size);
	trie_write_end(&w);
	return n ? 0 : -ENOENT;
}

/* ------------------------------------------------------------ updates -- */

/* Adding an entry: BPF_EXIST refuses, a full trie says -ENOSPC. */
static long trie_check_add(struct lpm_trie *t, uint64_t flags)
{
	if (flags == BPFVM_EXIST)
		return -ENOENT;
	if (t->n_entries == t->map.max_entries)
		return -ENOSPC;
	return 0;
}

/* Same prefix as an existing node: replace in place (an intermediate node
 * becomes an entry).  The key's bytes past the prefix are stored too, as the
 * kernel's replacement node carries them (get_next_key shows them). */
static long trie_replace(struct lpm_write *w, lpm_link *slot, struct lpm_node *node,
			 const struct lpm_kbuf *k, const void *value, uint64_t flags)
{
	struct lpm_trie *t = w->t;

	if (!node_im(node)) {
		if (flags == BPFVM_NOEXIST)
			return -EEXIST;
	} else {
		long ret = trie_check_add(t, flags);

		if (ret)
			return ret;
		t->n_entries++;
		trie_write_mod(w);
		ST(node->meta, LD(node->meta) & ~LPM_NODE_IM);
		ST(*slot, node_link(t, node));
	}
	for (uint32_t i = 0; i < t->n_words; i++)
		if (LD(node->data[i]) != k->w[i]) {
			trie_write_mod(w);
			node_set_data(t, node, k);
			break;
		}
	memcpy(node_value(t, node), value, t->map.value_size);
	return 0;
}

/* Link a new entry for the key at *slot, where `node` (or nothing) is and
 * the two share matchlen bits. */
static long trie_insert(struct lpm_write *w, lpm_link *slot,
			struct lpm_node *node, uint32_t matchlen, uint32_t key_plen,
			const struct lpm_kbuf *k, const void *value)
{
	struct lpm_trie *t = w->t;
	struct lpm_node *new_node, *im_node;

	trie_write_mod(w);
	new_node = lpm_node_alloc(t);
	if (!new_node)
		return -ENOMEM;
	ST(new_node->meta, key_plen);
	node_set_data(t, new_node, k);
	memcpy(node_value(t, new_node), value, t->map.value_size);

	if (!node) {
		/* an empty slot */
		ST(*slot, node_link(t, new_node));
	} else if (matchlen == key_plen) {
		/* the new prefix contains node's: insert it above */
		ST(new_node->child[node_bit(node, matchlen)], node_link(t, node));
		ST(*slot, node_link(t, new_node));
	} else {
		/* they diverge at bit matchlen: branch with an intermediate node */
		im_node = lpm_node_alloc(t);
		if (!im_node) {
			lpm_node_free(t, new_node);
			return -ENOMEM;
		}
		ST(im_node->meta, matchlen | LPM_NODE_IM);
		for (uint32_t i = 0; i < t->n_words; i++)
			ST(im_node->data[i], LD(node->data[i]));
		ST(im_node->child[0], node_link(t, key_bit(k, matchlen) ? node : new_node));
		ST(im_node->child[1], node_link(t, key_bit(k, matchlen) ? new_node : node));
		ST(*slot, node_link(t, im_node));
	}
	t->n_entries++;
	return 0;
}

static long trie_update(struct bpfvm_map *m, const void *key, const void *value,
			uint64_t flags, int cpu)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key), matchlen = 0;
	lpm_link *slot;
	struct lpm_node *node;
	struct lpm_write w;
	struct lpm_kbuf k;
	long ret;

	(void)cpu;
	if (flags > BPFVM_EXIST)
		return -EINVAL;
	if (key_plen > t->max_prefixlen)
		return -EINVAL;
	key_load(t, key, &k);

	w = trie_write_begin(t);
	slot = &t->root;
	while ((node = link_node(t, LD(*slot)))) {
		uint32_t plen = node_plen(node);

		matchlen = longest_prefix_match(node, plen, key_plen, &k);
		if (plen != matchlen || plen == key_plen || plen == t->max_prefixlen)
			break;
		slot = &node->child[key_bit(&k, plen)];
	}
	if (node && node_plen(node) == matchlen && matchlen == key_plen) {
		ret = trie_replace(&w, slot, node, &k, value, flags);
	} else {
		ret = trie_check_add(t, flags);
		if (!ret)
			ret = trie_insert(&w, slot, node, matchlen, key_plen, &k, value);
	}
	trie_write_end(&w);
	return ret;
}

/* ------------------------------------------------------------ deletes -- */

static long trie_delete(struct bpfvm_map *m, const void *key, int cpu)
{
	struct lpm_trie *t = to_trie(m);
	uint32_t key_plen = key_prefixlen(key), matchlen = 0;
	lpm_link *trim, *trim2;
	struct lpm_node *node, *parent = NULL;
	uint64_t c0, c1;
	struct lpm_write w;
	struct lpm_kbuf k;
	long ret = 0;

	(void)cpu;
	if (key_plen > t->max_prefixlen)
		return -EINVAL;
	key_load(t, key, &k);
	w = trie_write_begin(t);
	trim = trim2 = &t->root;
	while ((node = link_node(t, LD(*trim)))) {
		uint32_t plen = node_plen(node);

		matchlen = longest_prefix_match(node, plen, key_plen, &k);
		if (plen != matchlen || plen == key_plen)
			break;
		parent = node;
		trim2 = trim;
		trim = &node->child[key_bit(&k, plen)];
	}
	if (!node || node_plen(node) != key_plen || matchlen != key_plen || node_im(node)) {
		ret = -ENOENT;
		goto out;
	}
	t->n_entries--;
	trie_write_mod(&w);
	c0 = LD(node->child[0]);
	c1 = LD(node->child[1]);
	if (c0 && c1) {
		/* still needed to branch: becomes intermediate */
		ST(node->meta, LD(node->meta) | LPM_NODE_IM);
		ST(*trim, node_link(t, node));
		goto out;
	}
	if (parent && node_im(parent) && !c0 && !c1) {
		/* a leaf under an intermediate node: the sibling replaces both */
		ST(*trim2, LD(parent->child[node == child_node(t, parent, 0) ? 1 : 0]));
		lpm_node_free(t, parent);
		lpm_node_free(t, node);
		goto out;
	}
	ST(*trim, c0 ? c0 : c1);
	lpm_node_free(t, node);
out:
	trie_write_end(&w);
	return ret;
}

/* ---------------------------------------------------------- iteration -- */

static void copy_key_out(const struct lpm_trie *t, const struct lpm_node *n, void *next_key)
{
	struct lpm_kbuf k;
	uint32_t plen = node_plen(n);

	for (uint32_t i = 0; i < t->n_words; i++)
		k.w[i] = LD(n->data[i]);
	memcpy(next_key, &plen, 4);
	memcpy((unsigned char *)next_key + 4, k.w, t->data_size);
}

/* The leftmost entry under `node` (intermediate nodes always have two
 * children, so there is one). */
static struct lpm_node *trie_leftmost(const struct lpm_trie *t, struct lpm_node *node)
{
	struct lpm_node *found = NULL;

	while (node) {
		if (node_im(node)) {
			node = child_node(t, node, 0);
		} else {
			struct lpm_node *c0 = child_node(t, node, 0);

			found = node;
			node = c0 ? c0 : child_node(t, node, 1);
		}
	}
	return found;
}

/* The entry after the key's in post-order: the leftmost entry of the next
 * right subtree up the path, else the nearest entry ancestor; NULL when the
 * key's entry is the last; `*missing` when the key is no entry (start over). */
static struct lpm_node *trie_next(struct lpm_trie *t, const void *key, struct lpm_node **stack,
				  bool *missing)
{
	uint32_t key_plen = key_prefixlen(key), matchlen = 0;
	struct lpm_node *node;
	struct lpm_kbuf k;
	int sp = -1;

	key_load(t, key, &k);
	for (node = link_node(t, LD(t->root)); node;) {
		uint32_t plen = node_plen(node);

		stack[++sp] = node;
		matchlen = longest_prefix_match(node, plen, key_plen, &k);
		if (plen != matchlen || plen == key_plen)
			break;
		node = child_node(t, node, key_bit(&k, plen));
	}
	if (!node || node_plen(node) != key_plen || matchlen != key_plen || node_im(node)) {
		*missing = true;
		return NULL;
	}
	*missing = false;
	while (sp > 0) {
		struct lpm_node *parent = stack[sp - 1], *c1 = child_node(t, parent, 1);

		if (child_node(t, parent, 0) == node && c1)
			return trie_leftmost(t, c1);
		if (!node_im(parent))
			return parent;
		node = parent;
		sp--;
	}
	return NULL;
}

/* The kernel's post-order: the leftmost entry first, then trie_next.  A
 * missing or malformed key starts over. */
static int trie_get_next_key(struct bpfvm_map *m, const void *key, void *next_key)
{
	struct lpm_trie *t = to_trie(m);
	struct lpm_node *next = NULL, **stack = NULL;
	bool missing = true;
	struct lpm_write w;
	int err = 0;

	if (key && key_prefixlen(key) <= t->max_prefixlen) {
		stack = malloc(((size_t)t->max_prefixlen + 1) * sizeof(*stack));
		if (!stack)
			return -ENOMEM;
	}
	w = trie_write_begin(t);
	if (!LD(t->root)) {
		err = -ENOENT;
		goto out;
	}
	if (stack)
		next = trie_next(t, key, stack, &missing);
	if (missing)
		next = trie_leftmost(t, link_node(t, LD(t->root)));
	if (next)
		copy_key_out(t, next, next_key);
	else
		err = -ENOENT;
out:
	trie_write_end(&w);
	free(stack);
	return err;
}

/* ------------------------------------------------- checked-mode access -- */

static void trie_value_region(const struct bpfvm_map *m, void **base, size_t *size)
{
	*base = to_trie(m)->values;
	*size = to_trie(m)->values_sz;
}

static int trie_check_access(const struct bpfvm_map *m, const void *p, size_t size)
{
	const struct lpm_trie *t = to_trie(m);
	uintptr_t off = (uintptr_t)p - (uintptr_t)t->values;

	if ((uintptr_t)p < (uintptr_t)t->values || off >= t->values_sz)
		return -EFAULT;
	return off % t->val_sz + size <= m->value_size ? 0 : -EFAULT;
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
	.direct_fn = trie_direct_fn,
};
