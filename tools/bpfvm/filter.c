/* filter.c — `bpfvm filter`: run a classic BPF socket filter over a capture.
 *
 * The filter is a tcpdump expression (compiled by libpcap when it is installed),
 * or a program from `tcpdump -dd`/`-ddd` text or a raw sock_filter array.  It is
 * translated to eBPF and run on every packet as a socket filter: a result of 0
 * drops the packet, anything else keeps that many bytes of it (all of them for
 * filters compiled by libpcap).  Kept packets go to --out as pcap; the counts go
 * to stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpfvm/cbpf.h"
#include "cli.h"
#include "io/capture.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bpfvm filter 'EXPRESSION' --in CAPTURE [--out CAPTURE] [options]\n"
		"       bpfvm filter --dd FILE | --raw FILE --in CAPTURE [--out CAPTURE] [options]\n\n"
		"Run a classic BPF filter over a pcap or pcapng capture of Ethernet frames, as\n"
		"a Linux socket filter: the program is checked and translated to eBPF as the\n"
		"kernel does; a packet is kept when the filter returns non-zero, cut to the\n"
		"returned number of bytes.\n"
		"  EXPRESSION     a tcpdump filter expression (needs libpcap at run time)\n"
		"  --dd FILE      the program as `tcpdump -dd` or `tcpdump -ddd` text\n"
		"  --raw FILE     the program as a binary array of 8-byte struct sock_filter\n"
		"  --in CAPTURE   packets to filter (\"-\" for stdin)\n"
		"  --out CAPTURE  write the kept packets (pcap; \"-\" for stdout)\n"
		"  -s, --snaplen N  snap length the expression is compiled for (default 262144)\n"
		"  -d, --dump     print the classic program (in tcpdump -d's style)\n"
		"  --xlated       print the classic program and its eBPF translation\n"
		"  --trace        one JSON line per packet: index, lengths, filter result\n"
		"  --json         print the summary as JSON\n");
}

/* the classic program from a file, an expression, or NULL after printing why */
static struct bpfvm_sock_filter *load_program(const char *file, const char *expr,
					      uint32_t snaplen, size_t *cnt)
{
	char err[512] = "";
	struct bpfvm_sock_filter *f = NULL;
	int ret;
	if (file) {
		size_t size;
		uint8_t *buf = cli_read_file(file, &size);
		if (!buf)
			return NULL;
		ret = bpfvm_cbpf_parse(buf, size, &f, cnt, err, sizeof(err));
		free(buf);
		if (ret) {
			cli_error("filter", "%s: %s", file, err[0] ? err : strerror(-ret));
			return NULL;
		}
		return f;
	}
	ret = bpfvm_cbpf_from_expr(expr, CAPTURE_LINKTYPE_ETHERNET, snaplen, &f, cnt, err,
				   sizeof(err));
	if (ret) {
		cli_error("filter", "%s", err[0] ? err : strerror(-ret));
		return NULL;
	}
	return f;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cmd_filter(int argc, char **argv)
{
	const char *expr = NULL, *dd = NULL, *raw = NULL, *in = NULL, *out = NULL;
	uint32_t snaplen = CAPTURE_MAX_CAPLEN;
	int dump = 0;
	bool json = false, trace = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;
		if (cli_opt(a, "--help", "-h")) {
			usage(stdout);
			return 0;
		} else if (cli_opt(a, "--dd", NULL) && has_val) {
			dd = argv[++i];
		} else if (cli_opt(a, "--raw", NULL) && has_val) {
			raw = argv[++i];
		} else if (cli_opt(a, "--in", "-i") && has_val) {
			in = argv[++i];
		} else if (cli_opt(a, "--out", "-o") && has_val) {
			out = argv[++i];
		} else if (cli_opt(a, "--snaplen", "-s") && has_val) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 0);
			if (*end || v == 0 || v > CAPTURE_MAX_CAPLEN)
				return cli_error("filter", "--snaplen takes 1 to %u", CAPTURE_MAX_CAPLEN);
			snaplen = (uint32_t)v;
		} else if (cli_opt(a, "--dump", "-d")) {
			dump = dump ? dump : 1;
		} else if (cli_opt(a, "--xlated", NULL)) {
			dump = 2;
		} else if (cli_opt(a, "--trace", NULL)) {
			trace = true;
		} else if (cli_opt(a, "--json", "-j")) {
			json = true;
		} else if (a[0] == '-' && a[1]) {
			return cli_error("filter", "unknown option '%s' (see bpfvm filter --help)", a);
		} else if (!expr) {
			expr = a;
		} else {
			/* tcpdump style: the rest of the arguments form the expression */
			return cli_error("filter", "give the expression as one argument, in quotes");
		}
	}
	if (!!expr + !!dd + !!raw != 1) {
		usage(stderr);
		return cli_error("filter", "give exactly one of EXPRESSION, --dd FILE, --raw FILE");
	}
	if (!in && !dump) {
		usage(stderr);
		return cli_error("filter", "--in CAPTURE is required");
	}

	size_t cnt;
	struct bpfvm_sock_filter *f = load_program(dd ? dd : raw, expr, snaplen, &cnt);
	if (!f)
		return 1;
	char log[512] = "";
	struct bpfvm_cbpf_opts opts = BPFVM_OPTS_INIT(bpfvm_cbpf_opts);
	opts.name = "filter";
	opts.log_buf = log;
	opts.log_size = sizeof(log);
	struct bpfvm_prog *prog = bpfvm_cbpf_compile(f, cnt, &opts);
	if (dump) {
		char *text = bpfvm_cbpf_disasm(f, cnt);
		if (text)
			fputs(text, stdout);
		free(text);
		if (prog && dump > 1) {
			text = bpfvm_disasm(bpfvm_prog_insns(prog), bpfvm_prog_insn_cnt(prog),
					    BPFVM_DISASM_INDEX);
			if (text) {
				printf("; translated to eBPF:\n%s", text);
				free(text);
			}
		}
	}
	free(f);
	if (!prog) {
		return cli_error("filter", "the filter was refused: %s", log[0] ? log : strerror(errno));
	}
	if (!in) {
		bpfvm_prog_free(prog);
		return 0;
	}

	char err[CAPTURE_ERR_SZ + 64];
	struct capture *cap = capture_open(in, err, sizeof(err));
	if (!cap) {
		bpfvm_prog_free(prog);
		return cli_error("filter", "%s", err);
	}
	struct capture_writer *w = NULL;
	if (out) {
		w = capture_writer_open(out, CAPTURE_LINKTYPE_ETHERNET, capture_nsec(cap), err,
					sizeof(err));
		if (!w) {
			capture_close(cap);
			bpfvm_prog_free(prog);
			return cli_error("filter", "%s", err);
		}
	}
	FILE *info = out && !strcmp(out, "-") ? stderr : stdout;
	uint64_t pkts = 0, kept = 0, bytes = 0, kept_bytes = 0, t0 = now_ns();
	int ret = 0, rc = 0;
	struct capture_pkt pkt;
	while ((ret = capture_next(cap, &pkt)) > 0) {
		struct bpfvm_cbpf_ctx ctx;
		uint32_t r;
		bpfvm_cbpf_ctx_init(&ctx, pkt.data, pkt.caplen, pkt.len);
		int e = bpfvm_cbpf_run_ctx(prog, &ctx, pkt.data, pkt.caplen, &r);
		if (e) {
			rc = cli_error("filter", "packet %" PRIu64 ": the filter failed: %s", pkt.index,
				       strerror(-e));
			break;
		}
		pkts++;
		bytes += pkt.caplen;
		if (trace)
			fprintf(info, "{\"index\":%" PRIu64 ",\"caplen\":%u,\"len\":%u,\"ret\":%u}\n",
				pkt.index, pkt.caplen, pkt.len, r);
		if (!r)
			continue;
		kept++;
		struct capture_pkt o = pkt;
		if (r < o.caplen) /* a socket filter keeps r bytes */
			o.caplen = r;
		kept_bytes += o.caplen;
		if (w && capture_write(w, &o)) {
			rc = cli_error("filter", "%s: write failed", out);
			break;
		}
	}
	uint64_t dt = now_ns() - t0;
	if (ret < 0)
		rc = cli_error("filter", "%s", capture_error(cap));
	if (w && capture_writer_close(w) && !rc)
		rc = cli_error("filter", "%s: write failed", out);
	capture_close(cap);
	bpfvm_prog_free(prog);
	if (json) {
		fprintf(info,
			"{\"packets\":%" PRIu64 ",\"matched\":%" PRIu64 ",\"dropped\":%" PRIu64
			",\"bytes\":%" PRIu64 ",\"matched_bytes\":%" PRIu64 ",\"duration_ns\":%" PRIu64
			",\"complete\":%s}\n",
			pkts, kept, pkts - kept, bytes, kept_bytes, dt, rc ? "false" : "true");
	} else {
		fprintf(info, "%" PRIu64 " packets, %" PRIu64 " matched, %" PRIu64 " dropped\n", pkts,
			kept, pkts - kept);
		fprintf(info, "%" PRIu64 " bytes in, %" PRIu64 " bytes kept; %.0f packets/s\n", bytes,
			kept_bytes, dt ? (double)pkts * 1e9 / (double)dt : 0.0);
	}
	return rc;
}
