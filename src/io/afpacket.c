/* afpacket.c — live interfaces through an AF_PACKET socket and a TPACKET_V3 ring.
 *
 * The socket is created with protocol 0 (it receives nothing yet), given a
 * TPACKET_V3 receive ring of `block_cnt` blocks mapped into our memory, told to
 * skip frames the host sends, bound to the interface with ETH_P_ALL, optionally
 * joined to a PACKET_FANOUT group (worker threads) and put in promiscuous mode.  The kernel fills a block with as many frames as fit and
 * hands it over (block_status TP_STATUS_USER) when it is full or after
 * block_tmo_ms; we read the frames in place and give the block back by writing
 * TP_STATUS_KERNEL.  Blocks are used in order, so one index says which is next.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/live.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

struct live_if {
	int fd;
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t *ring;
	size_t ring_sz;
	uint32_t block_size, block_cnt;
	uint32_t cur;		/* the block to read next */
	uint64_t rx_cnt;
	uint8_t *frame;		/* a frame with its VLAN tag put back */
	size_t frame_sz;
};

static int fail(char *err, size_t err_sz, int e, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
static int fail(char *err, size_t err_sz, int e, const char *fmt, ...)
{
	if (err && err_sz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_sz, fmt, ap);
		va_end(ap);
	}
	return -e;
}

void live_close(struct live_if *lif)
{
	if (!lif)
		return;
	if (lif->ring)
		munmap(lif->ring, lif->ring_sz);
	if (lif->fd >= 0)
		close(lif->fd); /* also leaves promiscuous mode */
	free(lif->frame);
	free(lif);
}

struct live_if *live_open(const char *ifname, const struct live_opts *opts, char *err,
			  size_t err_sz)
{
	struct live_opts o = opts ? *opts : (struct live_opts){ 0 };
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	if (!o.block_size)
		o.block_size = 1u << 20;
	if (!o.block_cnt)
		o.block_cnt = 16;
	if (!o.block_tmo_ms)
		o.block_tmo_ms = 10;
	int e;
	if (o.block_size % (uint32_t)page || o.block_size < 65536 || o.block_cnt > 4096) {
		e = fail(err, err_sz, EINVAL,
			 "%s: ring blocks must be a multiple of the page size (%ld) of at least "
			 "64 KiB, at most 4096 of them",
			 ifname, page);
		errno = -e;
		return NULL;
	}
	struct live_if *lif = calloc(1, sizeof(*lif));
	if (!lif) {
		errno = ENOMEM;
		return NULL;
	}
	lif->fd = -1;
	snprintf(lif->name, sizeof(lif->name), "%s", ifname);
	lif->ifindex = (int)if_nametoindex(ifname);
	if (!lif->ifindex) {
		e = fail(err, err_sz, ENODEV, "%s: no such network interface", ifname);
		goto out;
	}
	lif->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (lif->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			e = fail(err, err_sz, EPERM,
				 "%s: AF_PACKET socket: permission denied: receiving and sending "
				 "raw frames needs CAP_NET_RAW (run as root, or give bpfvm the "
				 "capability: setcap cap_net_raw+ep bpfvm)",
				 ifname);
		else
			e = fail(err, err_sz, errno, "%s: AF_PACKET socket: %s", ifname,
				 strerror(errno));
		goto out;
	}
	int v = TPACKET_V3;
	if (setsockopt(lif->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v))) {
		e = fail(err, err_sz, errno, "%s: TPACKET_V3: %s", ifname, strerror(errno));
		goto out;
	}
	struct tpacket_req3 req = {
		.tp_block_size = o.block_size,
		.tp_block_nr = o.block_cnt,
		.tp_frame_size = 2048,
		.tp_frame_nr = o.block_size / 2048 * o.block_cnt,
		.tp_retire_blk_tov = o.block_tmo_ms,
	};
	if (setsockopt(lif->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		e = fail(err, err_sz, errno, "%s: PACKET_RX_RING of %u x %u bytes: %s", ifname,
			 o.block_cnt, o.block_size, strerror(errno));
		goto out;
	}
	lif->block_size = o.block_size;
	lif->block_cnt = o.block_cnt;
	lif->ring_sz = (size_t)o.block_size * o.block_cnt;
	void *ring = mmap(NULL, lif->ring_sz, PROT_READ | PROT_WRITE, MAP_SHARED, lif->fd, 0);
	if (ring == MAP_FAILED) {
		e = fail(err, err_sz, errno, "%s: mapping the receive ring: %s", ifname,
			 strerror(errno));
		goto out;
	}
	lif->ring = ring;
	v = 1; /* frames we (or the host) send are not input; older kernels lack it */
	(void)setsockopt(lif->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v));
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = lif->ifindex,
	};
	if (bind(lif->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		e = fail(err, err_sz, errno, "%s: bind: %s", ifname, strerror(errno));
		goto out;
	}
	if (o.fanout_id) {
		int fan = (int)o.fanout_id | PACKET_FANOUT_HASH << 16;
		if (setsockopt(lif->fd, SOL_PACKET, PACKET_FANOUT, &fan, sizeof(fan))) {
			e = fail(err, err_sz, errno, "%s: PACKET_FANOUT group %u: %s", ifname,
				 o.fanout_id, strerror(errno));
			goto out;
		}
	}
	if (!o.no_promisc) {
		struct packet_mreq mr = { .mr_ifindex = lif->ifindex, .mr_type = PACKET_MR_PROMISC };
		if (setsockopt(lif->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
			e = fail(err, err_sz, errno, "%s: promiscuous mode: %s", ifname,
				 strerror(errno));
			goto out;
		}
	}
	return lif;
out:
	live_close(lif);
	errno = -e;
	return NULL;
}

int live_ifindex(const struct live_if *lif)
{
	return lif->ifindex;
}

const char *live_name(const struct live_if *lif)
{
	return lif->name;
}

static struct tpacket_block_desc *block_at(struct live_if *lif, uint32_t i)
{
	return (struct tpacket_block_desc *)(lif->ring + (size_t)i * lif->block_size);
}

int live_recv(struct live_if *lif, struct live_batch *batch, int timeout_ms, char *err,
	      size_t err_sz)
{
	for (;;) {
		struct tpacket_block_desc *bd = block_at(lif, lif->cur);
		uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
		if (st & TP_STATUS_USER) {
			uint32_t n = bd->hdr.bh1.num_pkts;
			batch->block = bd;
			batch->left = n;
			batch->next = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			if (n)
				return (int)n;
			live_batch_done(lif, batch); /* an empty block: skip it */
			continue;
		}
		struct pollfd pfd = { .fd = lif->fd, .events = POLLIN | POLLERR };
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fail(err, err_sz, errno, "%s: poll: %s", lif->name, strerror(errno));
		}
		if (r == 0) {
			/* one more look: the block may have been handed over meanwhile */
			st = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
			if (!(st & TP_STATUS_USER))
				return 0;
		}
		if (pfd.revents & POLLERR) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			getsockopt(lif->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (soerr)
				return fail(err, err_sz, soerr, "%s: %s", lif->name, strerror(soerr));
		}
	}
}

bool live_batch_next(struct live_if *lif, struct live_batch *batch, struct capture_pkt *pkt)
{
	while (batch->left) {
		const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)batch->next;
		batch->next += h->tp_next_offset;
		batch->left--;
		const struct sockaddr_ll *sll =
			(const struct sockaddr_ll *)((const uint8_t *)h +
						     TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
		if (sll->sll_pkttype == PACKET_OUTGOING)
			continue;
		const uint8_t *data = (const uint8_t *)h + h->tp_mac;
		uint32_t caplen = h->tp_snaplen, len = h->tp_len;
		if ((h->tp_status & TP_STATUS_VLAN_VALID) && caplen >= 12) {
			/* the NIC or the stack took the tag out: put it back where it was */
			size_t need = (size_t)caplen + 4;
			if (need > lif->frame_sz) {
				uint8_t *nf = realloc(lif->frame, need);
				if (!nf)
					goto plain; /* keep going without the tag */
				lif->frame = nf;
				lif->frame_sz = need;
			}
			uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) && h->hv1.tp_vlan_tpid
						? h->hv1.tp_vlan_tpid
						: ETH_P_8021Q;
			uint16_t tci = (uint16_t)h->hv1.tp_vlan_tci;
			memcpy(lif->frame, data, 12);
			lif->frame[12] = (uint8_t)(tpid >> 8);
			lif->frame[13] = (uint8_t)tpid;
			lif->frame[14] = (uint8_t)(tci >> 8);
			lif->frame[15] = (uint8_t)tci;
			memcpy(lif->frame + 16, data + 12, caplen - 12);
			data = lif->frame;
			caplen += 4;
			len += 4;
		}
plain:
		pkt->data = data;
		pkt->caplen = caplen;
		pkt->len = len < caplen ? caplen : len;
		pkt->ts_ns = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec;
		pkt->ifindex = (uint32_t)lif->ifindex;
		pkt->index = lif->rx_cnt++;
		return true;
	}
	return false;
}

void live_batch_done(struct live_if *lif, struct live_batch *batch)
{
	struct tpacket_block_desc *bd = batch->block;
	if (!bd)
		return;
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	batch->block = NULL;
	batch->left = 0;
	lif->cur = (lif->cur + 1) % lif->block_cnt;
}

int live_stats(struct live_if *lif, uint64_t *received, uint64_t *dropped)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	if (getsockopt(lif->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return -errno;
	*received = st.tp_packets;
	*dropped = st.tp_drops;
	return 0;
}

int live_send(struct live_if *lif, int ifindex, const void *frame, size_t len, char *err,
	      size_t err_sz)
{
	if (len < ETH_HLEN)
		return fail(err, err_sz, EINVAL, "%s: a %zu-byte frame is shorter than an Ethernet header",
			    lif->name, len);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex ? ifindex : lif->ifindex,
		.sll_halen = ETH_ALEN,
	};
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	for (;;) {
		ssize_t n = sendto(lif->fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return fail(err, err_sz, EIO, "%s: sent %zd of %zu bytes", lif->name, n, len);
		if (errno == EINTR)
			continue;
		return fail(err, err_sz, errno, "%s: sending a %zu-byte frame to ifindex %d: %s",
			    lif->name, len, sll.sll_ifindex, strerror(errno));
	}
}
