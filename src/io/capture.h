/* capture.h — packets from capture files: one reader over pcap and pcapng, and a
 * pcap writer.
 *
 * A reader is opened on a path (streamed through chunks of CAPTURE_CHUNK_SZ
 * filled by large reads, so memory stays flat whatever the file's size) or on
 * bytes in memory (no copy), then yields one packet per capture_next() until the
 * end of the file or the first error.  A packet's bytes point into the chunk (or
 * the memory): no copy per packet.  A caller that wants to keep packets past the
 * next capture_next() (a batch of them) asks the reader to hold them
 * (capture_hold) and gives them back in the order read (capture_release).
 * Threads sharing a reader under their own lock can do the reads of a regular
 * file outside that lock, several at once (capture_fetch_*), and read packets
 * up to the end of a chunk only (capture_set_limit).  Every length in the file
 * is checked before it is used; an error message names the file, the packet
 * index and the byte offset where the file went wrong.  bpfvm runs
 * Ethernet programs, so a pcap file of another link type is refused when opened,
 * and a pcapng packet on a non-Ethernet interface is refused when it is read.
 * A reader or writer belongs to one thread at a time.
 *
 * source.c holds the byte source (memory, or chunks of a file), pcap.c the
 * common part (open, format detection) and the pcap format and writer, pcapng.c
 * pcapng.  The struct capture layout below the "private" line is theirs alone.
 */
#ifndef BPFVM_IO_CAPTURE_H
#define BPFVM_IO_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CAPTURE_MAX_CAPLEN (256u * 1024)	/* largest packet a reader accepts */
#define CAPTURE_LINKTYPE_ETHERNET 1
#define CAPTURE_ERR_SZ 256
#define CAPTURE_CHUNK_SZ (256u * 1024)	/* one read() of a streamed file */

struct capture_pkt {
	const uint8_t *data;	/* caplen bytes, valid until the next capture_next()/close
				 * (held readers: until released) */
	uint32_t caplen;	/* bytes captured */
	uint32_t len;		/* bytes the packet had on the wire (>= caplen) */
	uint64_t ts_ns;		/* nanoseconds since the Unix epoch */
	uint32_t ifindex;	/* pcapng interface number; 0 for pcap */
	uint64_t index;		/* 0-based packet number in the file */
};

enum capture_format { CAPTURE_PCAP = 1, CAPTURE_PCAPNG };

struct capture;

/* Open a capture file ("-" is stdin) and read its file header.  Returns NULL with
 * errno set (ENOENT..., EINVAL for a file that is not a supported capture,
 * EPROTONOSUPPORT for a pcap link type other than Ethernet) and the reason in err. */
struct capture *capture_open(const char *path, char *err, size_t err_sz);
/* The same over `size` bytes at `buf`, which must outlive the reader; `name` is
 * used in messages (NULL: "memory"). */
struct capture *capture_open_mem(const void *buf, size_t size, const char *name,
				 char *err, size_t err_sz);
/* Read the next packet into *pkt.  Returns 1 for a packet, 0 at the clean end of
 * the file, or a negative errno (-EINVAL malformed or truncated file, -EIO read
 * error, -EPROTONOSUPPORT non-Ethernet packet) with capture_error() saying why;
 * after an error every further call returns the same error.  With a limit set,
 * -EAGAIN (no error: nothing consumed) when the next record would end past it. */
int capture_next(struct capture *cap, struct capture_pkt *pkt);
/* Why the last capture_next() failed ("" if it did not). */
const char *capture_error(const struct capture *cap);
enum capture_format capture_format(const struct capture *cap);
/* Does the file carry timestamps finer than microseconds? */
bool capture_nsec(const struct capture *cap);
/* Bytes of the file consumed so far (for progress reports; the mark that
 * capture_release takes). */
uint64_t capture_offset(const struct capture *cap);
/* Hold packets: from now on a packet's bytes stay valid past further
 * capture_next() calls until capture_release() gives back an offset at or past
 * its end.  Memory grows with what is held (whole chunks). */
void capture_hold(struct capture *cap);
/* The packets that ended at or before byte `offset` (capture_offset() taken
 * after them) are no longer needed; their chunks are reused. */
void capture_release(struct capture *cap, uint64_t offset);

/* Stop capture_next() at file offset `limit` (UINT64_MAX: no limit, the
 * default): a record or block that would end past it is not read. */
void capture_set_limit(struct capture *cap, uint64_t limit);

/* Reading ahead outside the caller's lock (a regular file): under the lock,
 * capture_fetch_claim() reserves the next CAPTURE_CHUNK_SZ bytes of the file
 * and a chunk for them (false: nothing to fetch: memory, a pipe, the end of
 * the file); without the lock, capture_fetch_run() reads them; under the lock
 * again, capture_fetch_done() hands them to the reader.  Each claim holds a
 * chunk until the reader is done with it: the caller bounds how many it makes,
 * and finishes every one before capture_close().  capture_next() never waits
 * for a fetch: it reads what it needs itself, and a fetch it overtook is
 * dropped.  Packets that end within [off, end) are the fetch's own. */
struct capture_fetch {
	struct capture_chunk *chunk;
	int fd;
	uint8_t *dst;
	size_t len, got;
	uint64_t off, end;	/* the file range */
	bool failed;
	bool at_end;		/* the range reaches the end of the file (or failed) */
};
bool capture_fetch_claim(struct capture *cap, struct capture_fetch *f);
void capture_fetch_run(struct capture_fetch *f);
void capture_fetch_done(struct capture *cap, struct capture_fetch *f);
void capture_close(struct capture *cap);

/* Taking records in bulk (pcap files only), for a caller that parses them
 * later, elsewhere: capture_take() consumes up to max_pkts whole records
 * that lie back to back in the reader's current buffer, end at or before the
 * limit (capture_set_limit), total at most max_bytes (the first one excepted)
 * and pass every check capture_next() makes; *first points at the first
 * record's header, *bytes is their total size, *index the first one's packet
 * index.  They are consumed and held as if capture_next() had returned them.
 * Returns how many: 0 when the next record needs capture_next() (a pcapng
 * file, the end of the buffer, a record with an error to report).
 * capture_record() decodes one such record (valid while the reader is held,
 * from any thread) and returns its size. */
size_t capture_take(struct capture *cap, size_t max_pkts, size_t max_bytes,
		    const uint8_t **first, size_t *bytes, uint64_t *index);
size_t capture_record(const struct capture *cap, const uint8_t *rec, uint64_t index,
		      struct capture_pkt *pkt);

/* Printable name of a LINKTYPE_* value ("ETHERNET", "LINUX_SLL", ...) or NULL. */
const char *capture_linktype_name(uint32_t linktype);

/* ------------------------------------------------------------ pcap writer */
struct capture_writer;

/* Create (truncate) a pcap file ("-" is stdout) with the given link type and
 * microsecond or nanosecond timestamps.  NULL with errno set and err on failure. */
struct capture_writer *capture_writer_open(const char *path, uint32_t linktype, bool nsec,
					   char *err, size_t err_sz);
/* Append one packet (data, caplen, len, ts_ns of *pkt; len < caplen is raised to
 * caplen).  Returns 0 or a negative errno. */
int capture_write(struct capture_writer *w, const struct capture_pkt *pkt);
/* Flush and close; returns 0, or a negative errno when any write failed. */
int capture_writer_close(struct capture_writer *w);

/* ------------------------------------------- private to pcap.c and pcapng.c */
struct pcapng_if {
	uint32_t linktype;
	uint32_t snaplen;
	uint64_t tsres;		/* units per second, or 0: power of two in tsres_shift */
	uint32_t tsres_shift;
	int64_t tsoffset;	/* seconds added to every timestamp */
};

/* stream mode: buf[i] holds file byte base + i for i in [pos, len); pos moves
 * as bytes are consumed.  A fetched chunk's data starts at CAPTURE_GAP, leaving
 * room for the unconsumed end of the chunk before it. */
#define CAPTURE_GAP (64u * 1024 + 64)
enum { CHUNK_READY, CHUNK_FETCHING, CHUNK_DROPPED };
struct capture_chunk {
	uint8_t *buf;
	size_t cap, len, pos;
	uint64_t base;
	uint64_t first;		/* offset of the first byte handed out from it */
	int state;		/* CHUNK_*: fetched chunks only */
	size_t want;		/* fetched chunks: bytes asked for */
	bool at_end, failed;	/* fetched chunks: the read hit the end / failed */
	struct capture_chunk *next;
};

struct capture {
	enum capture_format format;
	char name[96];
	/* byte source: a file descriptor, or memory */
	int fd;			/* -1: memory */
	bool own_fd;
	bool seekable;		/* a regular file: pread() at file_off */
	bool eof, io_err;	/* reading hit the end / failed */
	uint64_t file_off;	/* next file offset neither read nor claimed */
	uint64_t file_sz;
	const uint8_t *mem;
	size_t mem_sz;
	uint64_t off;		/* bytes consumed */
	struct capture_chunk *cur;	/* stream mode: the chunk being read */
	struct capture_chunk *held, *held_tail;	/* older chunks with held packets */
	struct capture_chunk *ahead, *ahead_tail;	/* fetched or being fetched */
	struct capture_chunk *spare;	/* chunks for reuse */
	size_t spare_cnt;
	bool hold;
	uint64_t pkt_end;	/* offset just past the last packet handed out */
	uint64_t limit;		/* capture_set_limit */
	/* state */
	int err;
	char errmsg[CAPTURE_ERR_SZ];
	uint64_t pkt_index;
	bool nsec;
	bool swap;		/* file byte order differs from ours */
	/* pcap */
	uint32_t snaplen;
	uint32_t linktype;
	/* pcapng: interfaces of the current section */
	struct pcapng_if *ifs;
	size_t if_cnt, if_cap;
};

/* next n bytes of the source: a pointer valid until the next read, or NULL when
 * fewer than n are left (*got says how many were; they are consumed) */
const uint8_t *capture_read(struct capture *cap, size_t n, size_t *got);
/* skip n bytes; returns the number actually skipped */
uint64_t capture_skip(struct capture *cap, uint64_t n);
/* the bytes at the current offset that are in memory now (no read): their
 * count in *avail; capture_consume() moves past n of them */
const uint8_t *capture_peek(const struct capture *cap, size_t *avail);
void capture_consume(struct capture *cap, size_t n);
/* give back the last n bytes read (all from the last capture_read) */
void capture_unread(struct capture *cap, size_t n);
/* would a record of n bytes at the current offset end past the limit? */
bool capture_past_limit(const struct capture *cap, uint64_t n);
/* the byte source of a file descriptor (whose size is file_sz when seekable) */
void capture_source_fd(struct capture *cap, int fd, bool own);
void capture_source_free(struct capture *cap);
/* a short read of `what`, which starts at byte `at`: "truncated file: ..." or a
 * read error; returns the error */
int capture_short_read(struct capture *cap, const char *what, uint64_t at, size_t need,
		       size_t got);
/* record an error (message prefixed with the capture's name); returns err */
int capture_fail(struct capture *cap, int err, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
uint16_t capture_u16(const struct capture *cap, const uint8_t *p);
uint32_t capture_u32(const struct capture *cap, const uint8_t *p);
/* pcapng.c: read the section header whose 4 block-type bytes were consumed */
int pcapng_start(struct capture *cap);
int pcapng_next(struct capture *cap, struct capture_pkt *pkt);

#endif
