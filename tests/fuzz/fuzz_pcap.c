/* fuzz_pcap.c — libFuzzer target for the capture readers (io/pcap.c, io/pcapng.c).
 *
 * Each input is read twice: from memory (capture_open_mem) and streamed from a
 * file (capture_open on a memfd), which take different paths through the byte
 * source; the file is read a third time in bulk (capture_take, as the CLI
 * reads pcap files).  All must give the same packets and the same verdict; every packet's
 * bytes are read (so ASan sees any overrun), every error must carry a message.
 * Seeds: examples/demo.pcap cut to a few packets, and small pcapng files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/capture.h"

struct summary {
	int ret, cnt;
	uint64_t sum;	/* over lengths, timestamps and bytes */
	char err[CAPTURE_ERR_SZ];
};

static void add_pkt(struct summary *s, const struct capture_pkt *p);

static void read_all(struct capture *c, struct summary *s)
{
	struct capture_pkt p;
	s->cnt = 0;
	s->sum = 0;
	while ((s->ret = capture_next(c, &p)) > 0)
		add_pkt(s, &p);
	if (s->ret < 0 && !capture_error(c)[0])
		abort(); /* an error without a message */
	/* skip the name prefix, which differs between the two opens */
	const char *m = strchr(capture_error(c), ':');
	snprintf(s->err, sizeof(s->err), "%s", m ? m : "");
}

static void add_pkt(struct summary *s, const struct capture_pkt *p)
{
	if (p->caplen > p->len || p->caplen > CAPTURE_MAX_CAPLEN)
		abort();
	s->sum = s->sum * 31 + p->caplen + p->len + p->ts_ns + p->ifindex;
	for (uint32_t i = 0; i < p->caplen; i++)
		s->sum += p->data[i];
	s->cnt++;
}

/* the same through capture_take (bulk records, as the CLI reads pcap files),
 * held and released as the CLI does, with capture_next where take stops */
static void read_all_take(struct capture *c, struct summary *s)
{
	struct capture_pkt p;
	s->cnt = 0;
	s->sum = 0;
	capture_hold(c);
	for (unsigned k = 0;; k++) {
		const uint8_t *rec = NULL;
		size_t bytes = 0;
		uint64_t index = 0;
		size_t n = capture_take(c, 1 + k % 7, k % 3 ? SIZE_MAX : 200, &rec, &bytes, &index);
		size_t used = 0;
		for (size_t i = 0; i < n; i++) {
			used += capture_record(c, rec + used, index + i, &p);
			if (p.index != (uint64_t)s->cnt)
				abort();
			add_pkt(s, &p);
		}
		if (used != bytes)
			abort();
		if (!n) {
			s->ret = capture_next(c, &p);
			if (s->ret <= 0)
				break;
			add_pkt(s, &p);
		}
		if (k % 5 == 0)
			capture_release(c, capture_offset(c));
	}
	if (s->ret < 0 && !capture_error(c)[0])
		abort();
	const char *m = strchr(capture_error(c), ':');
	snprintf(s->err, sizeof(s->err), "%s", m ? m : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CAPTURE_ERR_SZ];
	struct summary a = { 0 }, b = { 0 };
	struct capture *c = capture_open_mem(data, size, "m", err, sizeof(err));
	if (c) {
		read_all(c, &a);
		capture_close(c);
	} else if (!err[0]) {
		abort();
	}
	static int fd = -1;
	if (fd < 0)
		fd = memfd_create("fuzz_pcap", 0);
	if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct capture *f = capture_open(path, err, sizeof(err));
	if ((c != NULL) != (f != NULL))
		abort(); /* memory and file disagree on the header */
	if (f) {
		read_all(f, &b);
		capture_close(f);
		if (a.ret != b.ret || a.cnt != b.cnt || a.sum != b.sum || strcmp(a.err, b.err))
			abort(); /* memory and file disagree on the packets */
		struct summary t = { 0 };
		f = capture_open(path, err, sizeof(err));
		if (!f)
			abort();
		read_all_take(f, &t);
		capture_close(f);
		if (a.ret != t.ret || a.cnt != t.cnt || a.sum != t.sum || strcmp(a.err, t.err))
			abort(); /* bulk records disagree with capture_next */
	}
	return 0;
}
