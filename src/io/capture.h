/* capture.h — packets from capture files: one reader over pcap and pcapng, and a
 * pcap writer.
 *
 * A reader is opened on a path (streamed through a small buffer, so memory stays
 * flat whatever the file's size) or on bytes in memory (no copy), then yields one
 * packet per capture_next() until the end of the file or the first error.  Every
 * length in the file is checked before it is used; an error message names the file,
 * the packet index and the byte offset where the file went wrong.  bpfvm runs
 * Ethernet programs, so a pcap file of another link type is refused when opened,
 * and a pcapng packet on a non-Ethernet interface is refused when it is read.
 * A reader or writer belongs to one thread at a time.
 *
 * pcap.c holds the common part (open, byte source, format detection) and the pcap
 * format and writer; pcapng.c holds pcapng.  The struct capture layout below the
 * "private" line is theirs alone.
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

struct capture_pkt {
	const uint8_t *data;	/* caplen bytes, valid until the next capture_next()/close */
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
 * after an error every further call returns the same error. */
int capture_next(struct capture *cap, struct capture_pkt *pkt);
/* Why the last capture_next() failed ("" if it did not). */
const char *capture_error(const struct capture *cap);
enum capture_format capture_format(const struct capture *cap);
/* Does the file carry timestamps finer than microseconds? */
bool capture_nsec(const struct capture *cap);
/* Bytes of the file consumed so far (for progress reports). */
uint64_t capture_offset(const struct capture *cap);
void capture_close(struct capture *cap);

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

struct capture {
	enum capture_format format;
	char name[96];
	/* byte source: a stream, or memory */
	FILE *f;
	bool own_f;
	const uint8_t *mem;
	size_t mem_sz;
	uint64_t off;		/* bytes consumed */
	uint8_t *buf;		/* stream mode: holds the last read */
	size_t buf_cap;
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
