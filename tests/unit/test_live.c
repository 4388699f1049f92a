/* test_live.c — live interfaces (io/afpacket.c) on a veth pair.
 *
 * The test makes its own network namespace with `ip netns add`, puts a veth pair
 * va/vb in it, enters it, opens both ends with live_open() and checks that
 * frames sent into one end arrive byte for byte at the other (a VLAN-tagged
 * frame included: the kernel takes the tag out, the reader puts it back), that
 * a frame sent back out (as XDP_TX would) returns, and that a sender does not
 * receive its own frames.  Without root, or without `ip`, it is skipped (77).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/live.h"
#include "testutil.h"

static char ns[64];

static void cleanup(void)
{
	char cmd[128];
	if (!ns[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns);
	if (system(cmd)) {
		/* already gone */
	}
}

static int sh(const char *fmt, const char *a)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), fmt, a, a);
	return system(cmd);
}

/* a test frame: broadcast, EtherType 0x88b5 (local experimental), payload with
 * a sequence number; `tag` inserts an 802.1Q header first */
static size_t make_frame(uint8_t *f, size_t len, uint16_t seq, int tag)
{
	static const uint8_t hdr[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1 };
	memcpy(f, hdr, 12);
	size_t o = 12;
	if (tag) {
		f[o++] = 0x81;
		f[o++] = 0x00;
		f[o++] = 0x20; /* priority 1, VLAN 42 */
		f[o++] = 42;
	}
	f[o++] = 0x88;
	f[o++] = 0xb5;
	f[o++] = (uint8_t)(seq >> 8);
	f[o++] = (uint8_t)seq;
	for (size_t i = o; i < len; i++)
		f[i] = (uint8_t)(i * 13 + seq);
	return len;
}

/* wait for a frame with EtherType 0x88b5 (after an optional tag) and this
 * sequence number; copy it into out; returns its length or 0 */
static size_t wait_frame(struct live_if *l, uint16_t seq, uint8_t *out, int *seen_other)
{
	for (int tries = 0; tries < 30; tries++) {
		struct live_batch b;
		char err[256];
		int n = live_recv(l, &b, 100, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "live_recv: %s\n", err);
			return 0;
		}
		struct capture_pkt p;
		size_t got = 0;
		while (n && live_batch_next(l, &b, &p)) {
			size_t o = p.caplen >= 18 && p.data[12] == 0x81 ? 16 : 12;
			if (p.caplen < o + 4 || p.data[o] != 0x88 || p.data[o + 1] != 0xb5)
				continue;
			uint16_t s = (uint16_t)(p.data[o + 2] << 8 | p.data[o + 3]);
			if (s != seq) {
				if (seen_other)
					(*seen_other)++;
				continue;
			}
			CHECK_EQ(p.len, p.caplen);
			CHECK_EQ(p.ifindex, (uint32_t)live_ifindex(l));
			CHECK(p.ts_ns > 0);
			memcpy(out, p.data, p.caplen);
			got = p.caplen;
		}
		if (n)
			live_batch_done(l, &b);
		if (got)
			return got;
	}
	return 0;
}

static void test_no_cap(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setuid(65534)) /* nobody: no CAP_NET_RAW */
			_exit(2);
		char err[512] = "";
		errno = 0;
		struct live_if *l = live_open("lo", NULL, err, sizeof(err));
		if (!l && errno == EPERM && strstr(err, "needs CAP_NET_RAW"))
			_exit(0);
		fprintf(stderr, "without CAP_NET_RAW: %s (errno %d)\n", err, errno);
		_exit(1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: needs root to create a network namespace and open AF_PACKET sockets\n");
		return 77;
	}
	if (system("ip -V >/dev/null 2>&1")) {
		printf("skipped: the `ip` command (iproute2) is not installed\n");
		return 77;
	}
	test_no_cap();
	snprintf(ns, sizeof(ns), "bpfvm-live-%d", (int)getpid());
	atexit(cleanup);
	if (sh("ip netns add %s 2>/dev/null", ns)) {
		ns[0] = 0;
		printf("skipped: cannot create a network namespace here (ip netns add failed)\n");
		return 77;
	}
	/* no IPv6 chatter (router solicitations, MLD) on the test links */
	if (sh("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null;"
	       "ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null", ns)) {
		/* not fatal: such frames are ignored below */
	}
	if (sh("ip -n %s link add va type veth peer name vb && ip -n %s link set va up", ns) ||
	    sh("ip -n %s link set vb up && ip -n %s link set lo up", ns)) {
		printf("skipped: cannot create a veth pair in the namespace\n");
		return 77;
	}
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		printf("skipped: cannot enter the namespace: %s\n", strerror(errno));
		return 77;
	}
	close(fd);

	char err[512] = "";
	struct live_if *nope = live_open("nosuch0", NULL, err, sizeof(err));
	CHECK(nope == NULL);
	CHECK_EQ(errno, ENODEV);
	CHECK_CONTAINS(err, "nosuch0: no such network interface");
	struct live_opts small = { .block_size = 1u << 16, .block_cnt = 8, .block_tmo_ms = 5 };
	struct live_if *a = live_open("va", &small, err, sizeof(err));
	CHECK(a != NULL);
	struct live_if *b = a ? live_open("vb", NULL, err, sizeof(err)) : NULL;
	CHECK(b != NULL);
	if (!a || !b) {
		fprintf(stderr, "live_open: %s\n", err);
		live_close(a);
		return TEST_DONE();
	}
	CHECK_STR(live_name(b), "vb");
	usleep(100000); /* let the links come up */

	static uint8_t f[2000], g[2000];
	static const size_t sizes[] = { 60, 64, 333, 1000, 1514 };
	for (uint16_t i = 0; i < 5; i++) {
		size_t len = make_frame(f, sizes[i], (uint16_t)(100 + i), 0);
		CHECK_EQ(live_send(a, 0, f, len, err, sizeof(err)), 0);
		size_t got = wait_frame(b, (uint16_t)(100 + i), g, NULL);
		CHECK_EQ(got, len);
		CHECK(got == len && !memcmp(f, g, len));
	}
	/* VLAN-tagged: the tag comes back where it was */
	size_t len = make_frame(f, 200, 300, 1);
	CHECK_EQ(live_send(a, 0, f, len, err, sizeof(err)), 0);
	size_t got = wait_frame(b, 300, g, NULL);
	CHECK_EQ(got, len);
	CHECK(got == len && !memcmp(f, g, len));
	/* "XDP_TX": b sends the frame back out, a receives it; b does not see it */
	len = make_frame(f, 128, 400, 0);
	CHECK_EQ(live_send(a, 0, f, len, err, sizeof(err)), 0);
	got = wait_frame(b, 400, g, NULL);
	CHECK_EQ(got, len);
	g[6] = 0x02; /* answer from another source address */
	g[11] = 2;
	CHECK_EQ(live_send(b, 0, g, got, err, sizeof(err)), 0);
	static uint8_t h[2000];
	CHECK_EQ(wait_frame(a, 400, h, NULL), got);
	CHECK(!memcmp(g, h, got));
	int others = 0;
	CHECK_EQ(wait_frame(b, 400, h, &others), 0); /* its own frame is not input */
	/* a burst larger than one block of a's ring (64 KiB): nothing lost, in order.
	 * First drain a: blocks we hold are blocks the kernel cannot fill. */
	for (int k = 0; k < 100; k++) {
		struct live_batch bt;
		int n = live_recv(a, &bt, 20, err, sizeof(err));
		if (n <= 0)
			break;
		live_batch_done(a, &bt);
	}
	uint64_t rx0, drop0;
	CHECK_EQ(live_stats(a, &rx0, &drop0), 0);
	int received = 0;
	for (uint16_t i = 0; i < 200; i++) {
		len = make_frame(f, 900, (uint16_t)(1000 + i), 0);
		CHECK_EQ(live_send(b, 0, f, len, err, sizeof(err)), 0);
	}
	uint16_t next = 1000;
	for (int tries = 0; tries < 50 && next < 1200; tries++) {
		struct live_batch bt;
		int n = live_recv(a, &bt, 100, err, sizeof(err));
		CHECK(n >= 0);
		struct capture_pkt p;
		while (n > 0 && live_batch_next(a, &bt, &p)) {
			if (p.caplen < 16 || p.data[12] != 0x88 || p.data[13] != 0xb5)
				continue;
			uint16_t s = (uint16_t)(p.data[14] << 8 | p.data[15]);
			if (s >= 1000) {
				CHECK_EQ(s, next);
				next = (uint16_t)(s + 1);
				received++;
			}
		}
		if (n > 0)
			live_batch_done(a, &bt);
	}
	CHECK_EQ(received, 200);
	uint64_t rx1, drop1;
	CHECK_EQ(live_stats(a, &rx1, &drop1), 0);
	CHECK(rx1 >= 200);
	CHECK_EQ(drop1, 0);
	/* two readers in one fanout group share vb's frames: none lost, none twice */
	struct live_opts fo = { .fanout_id = (uint16_t)(getpid() & 0x7fff) };
	struct live_if *r1 = live_open("vb", &fo, err, sizeof(err));
	struct live_if *r2 = r1 ? live_open("vb", &fo, err, sizeof(err)) : NULL;
	CHECK(r1 && r2);
	if (r1 && r2) {
		for (uint16_t i = 0; i < 64; i++) {
			len = make_frame(f, 100, (uint16_t)(2000 + i), 0);
			f[6] = (uint8_t)i; /* different flows */
			CHECK_EQ(live_send(a, 0, f, len, err, sizeof(err)), 0);
		}
		int seen[64] = { 0 }, total = 0;
		for (int tries = 0; tries < 20 && total < 64; tries++) {
			struct live_if *rs[2] = { r1, r2 };
			for (int k = 0; k < 2; k++) {
				struct live_batch bt;
				int n = live_recv(rs[k], &bt, 20, err, sizeof(err));
				struct capture_pkt p;
				while (n > 0 && live_batch_next(rs[k], &bt, &p)) {
					if (p.caplen < 16 || p.data[12] != 0x88 || p.data[13] != 0xb5)
						continue;
					int s = (p.data[14] << 8 | p.data[15]) - 2000;
					if (s >= 0 && s < 64) {
						seen[s]++;
						total++;
					}
				}
				if (n > 0)
					live_batch_done(rs[k], &bt);
			}
		}
		CHECK_EQ(total, 64);
		for (int i = 0; i < 64; i++)
			CHECK_EQ(seen[i], 1);
	}
	live_close(r1);
	live_close(r2);
	/* frames too short for an Ethernet header are refused before sending */
	CHECK_EQ(live_send(a, 0, f, 10, err, sizeof(err)), -EINVAL);
	CHECK_CONTAINS(err, "shorter than an Ethernet header");
	live_close(a);
	live_close(b);
	return TEST_DONE();
}
