/* source.c — the bytes under the capture readers: memory, or a file read in
 * chunks.
 *
 * capture_read() hands out the next n bytes: straight from memory, or from the
 * current chunk, a buffer of CAPTURE_CHUNK_SZ bytes filled by one large read
 * (pread on a regular file, read on a pipe).  A record that runs past the end of
 * a chunk continues in the next one: the unconsumed end of the old chunk is
 * copied in front of the new chunk's data (fetched chunks keep CAPTURE_GAP bytes
 * free there for it; a longer rest, or a record longer than a chunk, goes
 * through a chunk of its own).  So a record is always whole in one chunk and
 * the bytes are copied once, by the kernel.
 *
 * The old chunk is reused at once, unless the reader holds packets
 * (capture_hold) and one may lie in it: then it waits on the held list until
 * capture_release() passes its end.  Chunks fetched ahead (capture_fetch_*) are
 * queued in file order; the reader switches to the first when it is ready, and
 * reads a range itself when its fetch is still running (the fetch is dropped
 * when it ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/capture.h"

#define SPARE_MAX 8	/* chunks kept for reuse */
#define STD_CHUNK (CAPTURE_GAP + CAPTURE_CHUNK_SZ)

/* ---------------------------------------------------------------- chunks */

/* a chunk of at least `size` bytes: a spare one, or a new one */
static struct capture_chunk *chunk_get(struct capture *cap, size_t size)
{
	struct capture_chunk *c = cap->spare;
	if (c) {
		cap->spare = c->next;
		cap->spare_cnt--;
	} else if (!(c = calloc(1, sizeof(*c)))) {
		return NULL;
	}
	if (c->cap < size) {
		uint8_t *nb = realloc(c->buf, size);
		if (!nb) {
			free(c->buf);
			free(c);
			return NULL;
		}
		c->buf = nb;
		c->cap = size;
	}
	c->next = NULL;
	c->state = CHUNK_READY;
	c->at_end = c->failed = false;
	return c;
}

/* a chunk nobody needs any more: kept for reuse (a few, of the usual size) */
static void chunk_put(struct capture *cap, struct capture_chunk *c)
{
	if (cap->spare_cnt >= SPARE_MAX || c->cap != STD_CHUNK) {
		free(c->buf);
		free(c);
		return;
	}
	c->next = cap->spare;
	cap->spare = c;
	cap->spare_cnt++;
}

static void chunks_free(struct capture_chunk *c)
{
	while (c) {
		struct capture_chunk *next = c->next;
		free(c->buf);
		free(c);
		c = next;
	}
}

/* the current chunk is left at its pos: held when a packet handed out may lie
 * in it, else reused */
static void chunk_retire(struct capture *cap, struct capture_chunk *c)
{
	c->len = c->pos;
	if (!cap->hold || cap->pkt_end <= c->first) {
		chunk_put(cap, c);
		return;
	}
	if (cap->held_tail)
		cap->held_tail->next = c;
	else
		cap->held = c;
	cap->held_tail = c;
}

/* the first chunk fetched ahead, off the queue */
static struct capture_chunk *ahead_pop(struct capture *cap)
{
	struct capture_chunk *h = cap->ahead;
	cap->ahead = h->next;
	if (!cap->ahead)
		cap->ahead_tail = NULL;
	h->next = NULL;
	return h;
}

/* a fetched chunk's bytes are now the reader's: its end is the file's */
static void ahead_taken(struct capture *cap, const struct capture_chunk *h)
{
	cap->eof |= h->at_end;
	cap->io_err |= h->failed;
}

/* ------------------------------------------------------------- reading */

/* up to `room` bytes at dst from the file; 0 at the end, -1 on an error */
static ssize_t file_read(struct capture *cap, uint8_t *dst, size_t room, uint64_t at)
{
	for (;;) {
		ssize_t r = cap->seekable ? pread(cap->fd, dst, room, (off_t)at)
					  : read(cap->fd, dst, room);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

/* read exactly the range of fetch h (still running) into c, which has room */
static void read_range(struct capture *cap, struct capture_chunk *c, const struct capture_chunk *h)
{
	uint64_t at = h->base + CAPTURE_GAP;
	size_t done = 0;
	while (done < h->want) {
		ssize_t r = file_read(cap, c->buf + c->len, h->want - done, at + done);
		if (r <= 0) {
			if (r < 0)
				cap->io_err = true;
			else
				cap->eof = true;
			break;
		}
		c->len += (size_t)r;
		done += (size_t)r;
	}
}

/* Append the next bytes of the file to c until n of its bytes are unconsumed
 * (or the file ends): fetched chunks first, in order, then the file itself.
 * c has room for n bytes and one more chunk. */
static void chunk_extend(struct capture *cap, struct capture_chunk *c, size_t n)
{
	while (c->len - c->pos < n && !cap->eof && !cap->io_err) {
		struct capture_chunk *h = cap->ahead;
		if (h && h->state == CHUNK_READY) {
			ahead_pop(cap);
			memcpy(c->buf + c->len, h->buf + h->pos, h->len - h->pos);
			c->len += h->len - h->pos;
			ahead_taken(cap, h);
			chunk_put(cap, h);
		} else if (h) {	/* overtaken: its fetch will be dropped */
			ahead_pop(cap);
			h->state = CHUNK_DROPPED;
			read_range(cap, c, h);
		} else {
			ssize_t r = file_read(cap, c->buf + c->len, c->cap - c->len, cap->file_off);
			if (r > 0) {
				c->len += (size_t)r;
				cap->file_off += (uint64_t)r;
			}
			cap->eof |= r == 0;
			cap->io_err |= r < 0;
		}
	}
}

/* Make the current chunk hold n unconsumed bytes.  Returns the bytes
 * available: fewer than n at the end of the file or on an error. */
static size_t refill(struct capture *cap, size_t n)
{
	struct capture_chunk *old = cap->cur, *c, *h = cap->ahead;
	size_t rest = old ? old->len - old->pos : 0;
	if (cap->eof || cap->io_err)
		return rest;
	if (h && h->state == CHUNK_READY && rest <= CAPTURE_GAP && rest + h->len - h->pos >= n) {
		c = ahead_pop(cap); /* the rest goes in front of its data */
		c->pos -= rest;
		ahead_taken(cap, c);
	} else {
		c = chunk_get(cap, (n > CAPTURE_GAP ? n : CAPTURE_GAP) + CAPTURE_CHUNK_SZ);
		if (!c) {
			capture_fail(cap, -ENOMEM, "out of memory for %zu bytes", n);
			return rest;
		}
		c->pos = 0;
		c->len = rest;
	}
	c->base = cap->off - c->pos;
	c->first = cap->off;
	if (rest)
		memcpy(c->buf + c->pos, old->buf + old->pos, rest);
	if (old)
		chunk_retire(cap, old);
	cap->cur = c;
	chunk_extend(cap, c, n);
	return c->len - c->pos;
}

const uint8_t *capture_read(struct capture *cap, size_t n, size_t *got)
{
	if (cap->fd < 0) {
		size_t left = cap->mem_sz - (size_t)cap->off;
		const uint8_t *p = cap->mem + cap->off;
		if (left < n) {
			*got = left;
			cap->off += left;
			return NULL;
		}
		*got = n;
		cap->off += n;
		return p;
	}
	struct capture_chunk *c = cap->cur;
	if (!c || c->len - c->pos < n) {
		size_t avail = refill(cap, n);
		c = cap->cur;
		if (avail < n) { /* consumed: what is left of the file */
			*got = avail;
			cap->off += avail;
			if (c)
				c->pos = c->len;
			return NULL;
		}
	}
	const uint8_t *p = c->buf + c->pos;
	c->pos += n;
	cap->off += n;
	*got = n;
	return p;
}

const uint8_t *capture_peek(const struct capture *cap, size_t *avail)
{
	if (cap->fd < 0) {
		*avail = cap->mem_sz - (size_t)cap->off;
		return cap->mem + cap->off;
	}
	const struct capture_chunk *c = cap->cur;
	*avail = c ? c->len - c->pos : 0;
	return c ? c->buf + c->pos : NULL;
}

void capture_consume(struct capture *cap, size_t n)
{
	if (cap->fd >= 0)
		cap->cur->pos += n;
	cap->off += n;
}

uint64_t capture_skip(struct capture *cap, uint64_t n)
{
	if (cap->fd < 0) {
		uint64_t left = cap->mem_sz - cap->off;
		uint64_t k = n < left ? n : left;
		cap->off += k;
		return k;
	}
	uint64_t done = 0;
	while (done < n) {
		struct capture_chunk *c = cap->cur;
		size_t avail = c ? c->len - c->pos : 0;
		if (!avail && !(avail = refill(cap, 1)))
			break;
		c = cap->cur;
		size_t k = n - done < avail ? (size_t)(n - done) : avail;
		c->pos += k;
		cap->off += k;
		done += k;
	}
	return done;
}

void capture_unread(struct capture *cap, size_t n)
{
	if (cap->cur)
		cap->cur->pos -= n;
	cap->off -= n;
}

/* ------------------------------------------------------- limits, holding */

void capture_set_limit(struct capture *cap, uint64_t limit)
{
	cap->limit = limit;
}

bool capture_past_limit(const struct capture *cap, uint64_t n)
{
	return cap->off + n > cap->limit;
}


void capture_hold(struct capture *cap)
{
	cap->hold = true;
}

void capture_release(struct capture *cap, uint64_t offset)
{
	while (cap->held && cap->held->base + cap->held->len <= offset) {
		struct capture_chunk *c = cap->held;
		cap->held = c->next;
		chunk_put(cap, c);
	}
	if (!cap->held)
		cap->held_tail = NULL;
}

/* ------------------------------------------------------------ fetching */

bool capture_fetch_claim(struct capture *cap, struct capture_fetch *f)
{
	if (cap->fd < 0 || !cap->seekable || cap->eof || cap->io_err || cap->err ||
	    cap->file_off >= cap->file_sz)
		return false;
	struct capture_chunk *c = chunk_get(cap, STD_CHUNK);
	if (!c)
		return false;
	c->state = CHUNK_FETCHING;
	c->base = cap->file_off - CAPTURE_GAP;
	c->pos = c->len = CAPTURE_GAP;
	c->want = CAPTURE_CHUNK_SZ;
	if (cap->ahead_tail)
		cap->ahead_tail->next = c;
	else
		cap->ahead = c;
	cap->ahead_tail = c;
	cap->file_off += c->want;
	*f = (struct capture_fetch){ .chunk = c, .fd = cap->fd, .dst = c->buf + CAPTURE_GAP,
				     .len = c->want, .off = c->base + CAPTURE_GAP,
				     .end = cap->file_off };
	return true;
}

void capture_fetch_run(struct capture_fetch *f)
{
	f->got = 0;
	f->failed = false;
	while (f->got < f->len) {
		ssize_t r = pread(f->fd, f->dst + f->got, f->len - f->got, (off_t)(f->off + f->got));
		if (r > 0) {
			f->got += (size_t)r;
		} else if (r == 0 || errno != EINTR) {
			f->failed = r < 0;
			break;
		}
	}
}

void capture_fetch_done(struct capture *cap, struct capture_fetch *f)
{
	struct capture_chunk *c = f->chunk;
	f->at_end = f->got < f->len || f->failed;
	f->chunk = NULL;
	if (c->state == CHUNK_DROPPED) {
		chunk_put(cap, c);
		return;
	}
	c->len = CAPTURE_GAP + f->got;
	c->at_end = f->at_end && !f->failed;
	c->failed = f->failed;
	c->state = CHUNK_READY;
}

/* --------------------------------------------------------- open, close */

void capture_source_fd(struct capture *cap, int fd, bool own)
{
	struct stat st;
	cap->fd = fd;
	cap->own_fd = own;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
		cap->seekable = true;
		cap->file_sz = (uint64_t)st.st_size;
		cap->file_off = (uint64_t)lseek(fd, 0, SEEK_CUR); /* stdin may be a file */
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
}

void capture_source_free(struct capture *cap)
{
	if (cap->own_fd)
		close(cap->fd);
	chunks_free(cap->cur);
	chunks_free(cap->held);
	chunks_free(cap->ahead);
	chunks_free(cap->spare);
	cap->cur = cap->held = cap->ahead = cap->spare = NULL;
}
