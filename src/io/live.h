/* live.h — packets from and to a live network interface (afpacket.c).
 *
 * An AF_PACKET socket bound to one interface in promiscuous mode, receiving into
 * a TPACKET_V3 ring shared with the kernel: live_recv() waits for a block of
 * packets, live_batch_next() walks it, live_batch_done() gives the block back.
 * Frames are handed out as they were on the wire: a VLAN tag the kernel moved
 * out of the frame is put back in.  Frames the host itself sends are not
 * received.  live_send() transmits a whole Ethernet frame on the same socket
 * (XDP_TX, or a redirect to another interface by index).  Opening needs
 * CAP_NET_RAW.  A live_if belongs to one thread; several threads share an
 * interface's traffic by opening one each with the same fanout_id.
 */
#ifndef BPFVM_IO_LIVE_H
#define BPFVM_IO_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/capture.h"

struct live_if;

struct live_opts {
	uint32_t block_size;	/* ring block bytes, a multiple of the page size; default 1 MiB */
	uint32_t block_cnt;	/* ring blocks; default 16 */
	uint32_t block_tmo_ms;	/* a partly filled block is handed over after this; default 10 */
	bool no_promisc;	/* do not put the interface in promiscuous mode */
	uint16_t fanout_id;	/* nonzero: share the interface's frames with the other
				 * sockets of this PACKET_FANOUT group, by flow hash (one
				 * live_if per worker thread) */
};

/* Open interface `ifname`.  NULL with errno set and err filled on failure;
 * EPERM says that CAP_NET_RAW is missing. */
struct live_if *live_open(const char *ifname, const struct live_opts *opts, char *err,
			  size_t err_sz);
void live_close(struct live_if *lif);
int live_ifindex(const struct live_if *lif);
const char *live_name(const struct live_if *lif);

/* a block of received packets; owned by the ring until live_batch_done() */
struct live_batch {
	void *block;
	uint32_t left;		/* packets not yet returned by live_batch_next() */
	const uint8_t *next;	/* next tpacket3_hdr */
};

/* Wait up to timeout_ms (-1: forever) for a block of packets.  Returns the number
 * of packets in *batch (> 0), 0 on timeout, or a negative errno (err filled).
 * Every batch must be given back with live_batch_done() before the next call. */
int live_recv(struct live_if *lif, struct live_batch *batch, int timeout_ms, char *err,
	      size_t err_sz);
/* The next packet of the batch into *pkt (data valid until live_batch_done());
 * false when the batch is exhausted.  pkt->ifindex is the interface index,
 * pkt->index counts packets received on this interface. */
bool live_batch_next(struct live_if *lif, struct live_batch *batch, struct capture_pkt *pkt);
/* Give the block back to the kernel. */
void live_batch_done(struct live_if *lif, struct live_batch *batch);

/* Frames the kernel delivered to the ring and frames it dropped because the
 * ring was full, since the previous call (PACKET_STATISTICS).  0 or -errno. */
int live_stats(struct live_if *lif, uint64_t *received, uint64_t *dropped);

/* Transmit one Ethernet frame out of interface `ifindex` (0: the one lif is bound
 * to).  Returns 0 or a negative errno (err filled). */
int live_send(struct live_if *lif, int ifindex, const void *frame, size_t len, char *err,
	      size_t err_sz);

#endif
