/* pktcmd.c — `bpfvm xdp`, `bpfvm tc`, `bpfvm socket`: run a packet program of a
 * clang-built object over a capture file or a live interface.
 *
 * The object is opened, its global variables set (--set), loaded, verified, and
 * its maps filled (--map-set).  Packets then flow through an engine in batches
 * that point at the reader's bytes (no copy).  Each worker (a thread with its
 * own packet runner and "CPU" number) reads the next chunk of a capture file,
 * takes its packets as one batch when its turn comes, runs them, and emits
 * whatever batches are then due, in input order: trace lines, pcap outputs,
 * live transmission.  Counters are per worker, summed at the end (see
 * work_ticket).  Pipes and live interfaces give batches of up to 256 packets.  trace_printk
 * lines and ring-buffer records are streamed to stderr as they come, or, with
 * --trace, printed on stdout before the line of the packet that produced them.
 * At the end: a summary (table or JSON) and the maps (--dump-maps, --top).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpfvm/jit.h"
#include "bpfvm/pkt.h"
#include "bpfvm/verifier.h"
#include "cli.h"
#include "io/capture.h"
#include "io/live.h"
#include "loader/sections.h"

#define BATCH_PKTS 256
#define BATCH_BYTES (1u << 20)	/* a batch stops growing past this much input */
#define ETH_HLEN_ 14
#define NO_MSG UINT32_MAX
#define PROGRESS_MIN_BYTES (8u << 20)	/* captures smaller than this get no bar */
#define XDP_LINEAR (4096 - 256 - 320)	/* a page less headroom and skb_shared_info */

/* what happened to a packet: the runner's actions, then ours */
enum verdict {
	V_ABORTED = BPFVM_PKT_ABORTED,
	V_DROP = BPFVM_PKT_DROP,
	V_PASS = BPFVM_PKT_PASS,
	V_TX = BPFVM_PKT_TX,
	V_REDIRECT = BPFVM_PKT_REDIRECT,
	V_ERROR,	/* the run stopped with an error */
	V_NOT_RUN,	/* a frame no hook would see (runt, too large) */
	V_CNT
};

/* ------------------------------------------------------------ options */

struct map_set {
	const char *map, *key, *value;
};

struct top_req {
	const char *map;
	long n;
};

struct opts {
	const char *cmd;	/* "xdp", "tc", "socket" */
	int hook;		/* BPFVM_PKT_HOOK_* */
	const char *obj, *prog, *in, *iface, *out, *drop_out;
	unsigned threads;
	uint64_t count;		/* 0: every packet */
	int mode;		/* BPFVM_EXEC_* */
	bool trace, json, dump_maps;
	bool unverified;	/* --unverified: load without the verifier, run checked */
	const char **sets;
	size_t set_cnt;
	struct map_set *map_sets;
	size_t map_set_cnt;
	struct top_req *tops;
	size_t top_cnt;
};

static void usage(const char *cmd, FILE *f)
{
	bool xdp = !strcmp(cmd, "xdp"), tc = !strcmp(cmd, "tc");
	fprintf(f, "usage: bpfvm %s OBJ [--prog P] (--in CAPTURE | --iface IF)%s [options]\n\n", cmd,
		tc ? " [--egress]" : "");
	if (xdp)
		fprintf(f, "Run the XDP program of the clang-built object OBJ on every packet of a\n"
			   "capture (pcap or pcapng, Ethernet) or a live interface, as the kernel runs\n"
			   "it at a driver's XDP hook, and count what it decided.\n");
	else if (tc)
		fprintf(f, "Run the TC program (sched_cls, sched_act) of the clang-built object OBJ on\n"
			   "every packet of a capture (pcap or pcapng, Ethernet) or a live interface,\n"
			   "as the kernel runs it at a clsact qdisc, and count what it decided.\n");
	else
		fprintf(f, "Run the socket filter of the clang-built object OBJ on every packet of a\n"
			   "capture (pcap or pcapng, Ethernet) or a live interface, as the kernel runs\n"
			   "it on a packet socket (data at the MAC header; the return value is the\n"
			   "number of bytes to keep, 0 drops), and count what it decided.\n");
	fprintf(f, "  --prog P            the program (function or section name); default: the\n"
		   "                      object's only program of that type\n");
	if (tc)
		fprintf(f, "  --egress            run at egress instead of ingress (at ingress an outer\n"
			   "                      VLAN tag is moved into the skb, as the kernel does)\n");
	fprintf(f,
		"  --in CAPTURE        packets from a capture file (\"-\": stdin)\n"
		"  --iface IF          packets received live on interface IF (AF_PACKET,\n"
		"                      needs CAP_NET_RAW), until Ctrl-C, SIGTERM or --count;\n"
		"%s"
		"  --count N           stop after N packets\n"
		"  --out CAPTURE       write the packets %s\n"
		"                      (as the program left them; pcap, \"-\": stdout)\n"
		"  --drop-out CAPTURE  write the packets it dropped (or aborted, or could not\n"
		"                      run on), as they came in\n",
		xdp ? "                      XDP_TX frames go back out of IF, frames redirected\n"
		      "                      by bpf_redirect or a device map out of that device\n"
		: tc ? "                      frames redirected to a device go out of it\n"
		     : "                      the filter only counts and records them\n",
		xdp ? "passed, sent back (XDP_TX) or redirected"
		: tc ? "passed or redirected" : "the filter kept, cut to its length");
	fprintf(f,
		"  --set VAR=VALUE     before load, set global variable VAR (e.g. a const\n"
		"                      volatile setting): a number (decimal, 0x hex, negative)\n"
		"                      sized to the variable, or hex bytes for variables larger\n"
		"                      than 8 bytes (repeatable)\n"
		"  --map-set MAP KEY VALUE\n"
		"                      after load, store KEY -> VALUE (hex bytes) in MAP; a\n"
		"                      per-CPU map given one value stores it for every CPU\n"
		"                      (repeatable)\n"
		"  --threads N         N worker threads, each its own \"CPU\" 0..N-1 (per-CPU\n"
		"                      maps, bpf_get_smp_processor_id); each takes the packets\n"
		"                      of the next %u KiB of the file (of a pipe: the next\n"
		"                      %d packets) when it is free; outputs and trace lines\n"
		"                      keep the input order (a ring-buffer record goes with\n"
		"                      the packet after which it was read); captures only\n"
		"  --trace             one JSON line per packet on stdout: index, verdict,\n"
		"                      retval, len_in, len_out, redirect (+ error, wire_len,\n"
		"                      frags: XDP fragments past the first page);\n"
		"                      trace_printk lines and ring-buffer records (\"ringbuf\n"
		"                      MAP: HEX\") come before the line of the packet that\n"
		"                      produced them (without --trace: on stderr, as they come);\n"
		"                      the summary goes to stderr, or with --json is the last\n"
		"                      line\n"
		"  --json              print the summary as one JSON object\n"
		"  --dump-maps         print every map of the object at the end\n"
		"  --top MAP:N         print the N entries of MAP with the largest first 64-bit\n"
		"                      counter in the value (repeatable)\n"
		"  --checked | --interp | --jit\n"
		"                      how the program runs; default: JIT-compiled (or the fast\n"
		"                      interpreter) when the verifier accepts it, else the\n"
		"                      checked interpreter; --interp runs only accepted programs\n"
		"  --unverified        load without the verifier (for programs it refuses): the\n"
		"                      program runs in the checked interpreter, every access\n"
		"                      bounds-checked, with an instruction budget\n"
		"OBJ may also be raw bytecode or assembly text (as for bpfvm run): an untyped\n"
		"program, run in the checked interpreter unless --interp or --jit is given.\n"
		"Frames shorter than an Ethernet header, or larger than the hook takes, are not\n"
		"run (the kernel never hands them to a program): they count as NOT_RUN.  Exit\n"
		"status 0 when every packet was read, also when runs stopped with errors (they\n"
		"are counted and reported); 1 when setup, reading or writing failed.\n",
		CAPTURE_CHUNK_SZ / 1024, BATCH_PKTS);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return false;
	*v = strtoull(s, &end, 0);
	return !*end && !errno;
}

/* one option with its arguments; returns the number of argv entries used, 0 for
 * an unknown option, -1 after printing an error */
static int parse_opt(struct opts *o, int argc, char **argv, int i)
{
	const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
	uint64_t n;
	if (cli_opt(a, "--trace", NULL))
		return o->trace = true, 1;
	if (cli_opt(a, "--json", "-j"))
		return o->json = true, 1;
	if (cli_opt(a, "--dump-maps", NULL))
		return o->dump_maps = true, 1;
	if (cli_opt(a, "--checked", NULL))
		return o->mode = BPFVM_EXEC_CHECKED, 1;
	if (cli_opt(a, "--unverified", NULL))
		return o->unverified = true, 1;
	if (cli_opt(a, "--interp", NULL))
		return o->mode = BPFVM_EXEC_INTERP, 1;
	if (cli_opt(a, "--jit", NULL))
		return o->mode = BPFVM_EXEC_JIT, 1;
	if (cli_opt(a, "--egress", NULL) && o->hook == BPFVM_PKT_HOOK_TC_INGRESS)
		return o->hook = BPFVM_PKT_HOOK_TC_EGRESS, 1;
	if (cli_opt(a, "--map-set", NULL)) {
		if (i + 3 >= argc)
			return cli_error(o->cmd, "--map-set takes MAP KEYHEX VALUEHEX"), -1;
		o->map_sets[o->map_set_cnt++] = (struct map_set){ argv[i + 1], argv[i + 2], argv[i + 3] };
		return 4;
	}
	static const char *const with_value[] = { "--prog", "--in", "--iface", "--out", "--drop-out",
						  "--threads", "--count", "--set", "--top" };
	size_t k = 0;
	while (k < sizeof(with_value) / sizeof(with_value[0]) && strcmp(a, with_value[k]))
		k++;
	if (k == sizeof(with_value) / sizeof(with_value[0]))
		return 0;
	if (!v)
		return cli_error(o->cmd, "%s needs a value", a), -1;
	switch (k) {
	case 0: o->prog = v; break;
	case 1: o->in = v; break;
	case 2: o->iface = v; break;
	case 3: o->out = v; break;
	case 4: o->drop_out = v; break;
	case 5:
		if (!parse_u64(v, &n) || n < 1 || n > 1024)
			return cli_error(o->cmd, "--threads takes 1 to 1024, not '%s'", v), -1;
		o->threads = (unsigned)n;
		break;
	case 6:
		if (!parse_u64(v, &n) || !n)
			return cli_error(o->cmd, "--count takes a positive number, not '%s'", v), -1;
		o->count = n;
		break;
	case 7: o->sets[o->set_cnt++] = v; break;
	default: {
		const char *colon = strrchr(v, ':');
		if (!colon || colon == v || !parse_u64(colon + 1, &n) || !n || n > LONG_MAX)
			return cli_error(o->cmd, "--top takes MAP:N (N > 0), not '%s'", v), -1;
		o->tops[o->top_cnt++] = (struct top_req){ v, (long)n };
		break;
	}
	}
	return 2;
}

/* 0, 1 (error printed) or 2 (usage error); *help when --help was asked */
static int parse_args(struct opts *o, int argc, char **argv, bool *help)
{
	*help = false;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (cli_opt(a, "--help", "-h")) {
			*help = true;
			return 0;
		}
		int used = parse_opt(o, argc, argv, i);
		if (used < 0)
			return 1;
		if (used > 0) {
			i += used;
			continue;
		}
		if (a[0] == '-' && a[1])
			return cli_error(o->cmd, "unknown option '%s' (see bpfvm %s --help)", a, o->cmd);
		if (o->obj)
			return cli_error(o->cmd, "more than one object given ('%s', '%s')", o->obj, a);
		o->obj = a;
		i++;
	}
	if (!o->obj)
		return cli_error(o->cmd, "no object file given (see bpfvm %s --help)", o->cmd) + 1;
	if (!o->in == !o->iface)
		return cli_error(o->cmd, "give exactly one of --in CAPTURE and --iface IF (see "
					 "bpfvm %s --help)", o->cmd) + 1;
	if (o->iface && o->threads > 1)
		return cli_error(o->cmd, "--threads works on captures only: a live interface's "
					 "ring is read by one thread");
	bool out_stdout = (o->out && !strcmp(o->out, "-")) || (o->drop_out && !strcmp(o->drop_out, "-"));
	if (out_stdout && o->trace)
		return cli_error(o->cmd, "--trace and an output on stdout (\"-\"): pick one");
	if (o->out && o->drop_out && !strcmp(o->out, o->drop_out))
		return cli_error(o->cmd, "--out and --drop-out name the same file");
	return 0;
}

/* ------------------------------------------------------------- object */

static bool type_fits(int hook, uint32_t type)
{
	switch (hook) {
	case BPFVM_PKT_HOOK_XDP:
		return type == SEC_PROG_XDP;
	case BPFVM_PKT_HOOK_TC_INGRESS:
	case BPFVM_PKT_HOOK_TC_EGRESS:
		return type == SEC_PROG_SCHED_CLS || type == SEC_PROG_SCHED_ACT;
	default:
		return type == SEC_PROG_SOCKET_FILTER;
	}
}

static const char *type_name(uint32_t type)
{
	const char *n = sec_prog_type_name(type);
	return n ? n : "unknown";
}

/* "a (xdp), b (sched_cls)" into buf */
static const char *list_progs(const struct bpfvm_object *obj, char *buf, size_t sz)
{
	size_t len = 0, n = bpfvm_object_prog_cnt(obj);
	buf[0] = 0;
	for (size_t i = 0; i < n && len < sz; i++)
		len += (size_t)snprintf(buf + len, sz - len, "%s%s (%s)", i ? ", " : "",
					bpfvm_object_prog_name(obj, i),
					type_name(bpfvm_object_prog_type(obj, i)));
	if (!n)
		snprintf(buf, sz, "none");
	return buf;
}

/* the program's index in obj, or -1 after printing why there is none */
static int pick_prog(const struct opts *o, const struct bpfvm_object *obj)
{
	char list[1024];
	size_t n = bpfvm_object_prog_cnt(obj), hits = 0;
	int found = -1;
	if (o->prog) {
		found = bpfvm_object_prog_index(obj, o->prog);
		if (found < 0)
			return cli_error(o->cmd, "no program '%s' in %s; its programs: %s", o->prog,
					 o->obj, list_progs(obj, list, sizeof(list))), -1;
		uint32_t t = bpfvm_object_prog_type(obj, (size_t)found);
		if (!type_fits(o->hook, t))
			return cli_error(o->cmd, "program '%s' is a %s program; bpfvm %s runs %s programs",
					 o->prog, type_name(t), o->cmd,
					 o->hook == BPFVM_PKT_HOOK_XDP ? "xdp"
					 : o->hook == BPFVM_PKT_HOOK_SOCKET_FILTER ? "socket_filter"
										   : "sched_cls/sched_act"), -1;
		return found;
	}
	for (size_t i = 0; i < n; i++)
		if (type_fits(o->hook, bpfvm_object_prog_type(obj, i))) {
			hits++;
			found = (int)i;
		}
	if (hits == 1)
		return found;
	list_progs(obj, list, sizeof(list));
	if (!hits)
		return cli_error(o->cmd, "%s has no program bpfvm %s can run; its programs: %s", o->obj,
				 o->cmd, list), -1;
	return cli_error(o->cmd, "%s has %zu programs bpfvm %s can run; pick one with --prog: %s",
			 o->obj, hits, o->cmd, list), -1;
}

/* VALUE as `size` little-endian bytes into out; false when it does not fit */
static bool parse_global(const char *text, size_t size, uint8_t *out)
{
	char *end;
	uint64_t u;
	errno = 0;
	if (text[0] == '-') {
		long long s = strtoll(text, &end, 0);
		if (*end || errno || !*text || (size < 8 && s < -(1ll << (size * 8 - 1))))
			return false;
		u = (uint64_t)s;
	} else {
		u = strtoull(text, &end, 0);
		if (*end || errno || !*text || (size < 8 && u >> (size * 8)))
			return false;
	}
	for (size_t i = 0; i < size; i++)
		out[i] = (uint8_t)(u >> (8 * i));
	return true;
}

/* the size of a global variable larger than 8 bytes, or a negative errno */
static long global_size(const struct bpfvm_object *obj, const char *name)
{
	long size = -ENOSPC;
	for (size_t cap = 4096; size == -ENOSPC && cap <= (64u << 20); cap *= 16) {
		void *buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		size = bpfvm_object_get_global(obj, name, buf, cap);
		free(buf);
	}
	return size;
}

/* --set VAR=HEXBYTES for a variable larger than 8 bytes */
static int set_global_bytes(const struct opts *o, struct bpfvm_object *obj, const char *name,
			    const char *hex)
{
	size_t got;
	long want = global_size(obj, name);
	if (want < 0)
		return cli_error(o->cmd, "--set %s: %s", name, strerror((int)-want));
	uint8_t *bytes = cli_parse_hex(hex, &got);
	if (!bytes)
		return cli_error(o->cmd, "--set %s: a variable of %ld bytes takes hex bytes, not '%s'",
				 name, want, hex);
	int ret = got == (size_t)want ? bpfvm_object_set_global(obj, name, bytes, got) : 0;
	free(bytes);
	if (got != (size_t)want)
		return cli_error(o->cmd, "--set %s: %zu bytes given, the variable has %ld", name, got,
				 want);
	return ret ? cli_error(o->cmd, "--set %s: %s", name, strerror(-ret)) : 0;
}

/* --set VAR=VALUE */
static int apply_set(const struct opts *o, struct bpfvm_object *obj, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[256];
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name))
		return cli_error(o->cmd, "--set takes VAR=VALUE, not '%s'", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = 0;
	uint8_t small[8];
	long size = bpfvm_object_get_global(obj, name, small, sizeof(small));
	if (size == -ENOENT)
		return cli_error(o->cmd, "--set: %s has no global variable '%s'", o->obj, name);
	if (size == -ENOSPC) /* larger than 8 bytes: hex bytes of its size */
		return set_global_bytes(o, obj, name, eq + 1);
	if (size < 0)
		return cli_error(o->cmd, "--set %s: %s", name, strerror((int)-size));
	if (!parse_global(eq + 1, (size_t)size, small))
		return cli_error(o->cmd, "--set %s: '%s' is not a number that fits in %ld byte%s", name,
				 eq + 1, size, size == 1 ? "" : "s");
	int ret = bpfvm_object_set_global(obj, name, small, (size_t)size);
	return ret ? cli_error(o->cmd, "--set %s: %s", name, strerror(-ret)) : 0;
}

static bool is_percpu(uint32_t type)
{
	return type == BPFVM_MAP_TYPE_PERCPU_ARRAY || type == BPFVM_MAP_TYPE_PERCPU_HASH ||
	       type == BPFVM_MAP_TYPE_LRU_PERCPU_HASH;
}

/* a per-CPU map given one value: the same value for every CPU */
static uint8_t *replicate_percpu(struct bpfvm_map *m, const uint8_t *val)
{
	uint32_t vs = bpfvm_map_value_size(m);
	size_t stride = (vs + 7) / 8 * 8, total = bpfvm_map_user_value_size(m);
	uint8_t *all = calloc(1, total);
	for (size_t off = 0; all && off + stride <= total; off += stride)
		memcpy(all + off, val, vs);
	return all;
}

/* --map-set MAP KEY VALUE */
static int apply_map_set(const struct opts *o, struct bpfvm_object *obj, const struct map_set *s)
{
	struct bpfvm_map *m = bpfvm_object_find_map(obj, s->map);
	if (!m)
		return cli_error(o->cmd, "--map-set: %s has no map '%s'", o->obj, s->map);
	size_t ksz, vsz;
	uint8_t *key = cli_parse_hex(s->key, &ksz), *val = cli_parse_hex(s->value, &vsz), *all = NULL;
	int rc = 0;
	if (!key || !val)
		rc = cli_error(o->cmd, "--map-set %s: the %s is not hex bytes: '%s'", s->map,
			       key ? "value" : "key", key ? s->value : s->key);
	else if (ksz != bpfvm_map_key_size(m))
		rc = cli_error(o->cmd, "--map-set %s: the key has %zu bytes, the map's keys %u", s->map,
			       ksz, bpfvm_map_key_size(m));
	else if (vsz == bpfvm_map_value_size(m) && is_percpu(bpfvm_map_type(m)) &&
		 vsz != bpfvm_map_user_value_size(m) && !(all = replicate_percpu(m, val)))
		rc = cli_error(o->cmd, "out of memory");
	else if (!all && vsz != bpfvm_map_user_value_size(m))
		rc = cli_error(o->cmd, "--map-set %s: the value has %zu bytes, the map's values %zu",
			       s->map, vsz, bpfvm_map_user_value_size(m));
	if (!rc) {
		int ret = bpfvm_map_update_elem(m, key, all ? all : val, BPFVM_ANY);
		if (ret)
			rc = cli_error(o->cmd, "--map-set %s: update failed: %s", s->map, strerror(-ret));
	}
	free(key);
	free(val);
	free(all);
	return rc;
}

static const char *mode_name(int mode)
{
	switch (mode) {
	case BPFVM_EXEC_CHECKED: return "checked interpreter";
	case BPFVM_EXEC_INTERP: return "interpreter";
	case BPFVM_EXEC_JIT: return "JIT";
	default: return "?";
	}
}

/* why the verifier refused: the last line of its log before the summary
 * ("processed N insns ...") */
static const char *refusal(char *log)
{
	char *line = NULL, *save = NULL;
	for (char *p = strtok_r(log, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
		if (strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17))
			line = p;
	return line ? line : "(no log)";
}

/* verify the program and settle the execution mode; -1 after printing why not */
static int pick_mode(const struct opts *o, struct bpfvm_prog *prog)
{
	char *log = malloc(1u << 16), jlog[256] = "";
	if (!log)
		return cli_error(o->cmd, "out of memory"), -1;
	log[0] = 0;
	struct bpfvm_verify_opts vo = BPFVM_OPTS_INIT(bpfvm_verify_opts);
	vo.log_level = 1;
	vo.log_buf = log;
	vo.log_size = 1u << 16;
	/* the loader verifies what it loads, as the kernel does */
	bool verified = !o->unverified &&
			(bpfvm_prog_is_verified(prog) || bpfvm_prog_verify(prog, &vo) == 0);
	int mode = o->mode;
	if (o->unverified) {
		free(log);
		if (mode == BPFVM_EXEC_INTERP)
			return cli_error(o->cmd, "--interp and --unverified exclude each other"), -1;
		fprintf(stderr, "bpfvm %s: note: --unverified: %s runs in the checked interpreter\n",
			o->cmd, bpfvm_prog_name(prog));
		return BPFVM_EXEC_CHECKED;
	}
	if (!verified && mode == BPFVM_EXEC_INTERP) {
		cli_error(o->cmd, "--interp runs only programs the verifier accepts; it says: %s",
			  refusal(log));
		free(log);
		return -1;
	}
	if (!verified && mode == BPFVM_EXEC_AUTO)
		fprintf(stderr, "bpfvm %s: note: the verifier refuses %s (the kernel would not load "
				"it): %s; running it in the checked interpreter\n",
			o->cmd, bpfvm_prog_name(prog), refusal(log));
	free(log);
	if (mode == BPFVM_EXEC_AUTO)
		mode = !verified ? BPFVM_EXEC_CHECKED
		       : bpfvm_prog_jit(prog, jlog, sizeof(jlog)) == 0 ? BPFVM_EXEC_JIT
									 : BPFVM_EXEC_INTERP;
	else if (mode == BPFVM_EXEC_JIT && bpfvm_prog_jit(prog, jlog, sizeof(jlog)))
		return cli_error(o->cmd, "--jit: %s", jlog[0] ? jlog : "no JIT for this machine"), -1;
	return mode;
}

/* open, --set, load, pick, --map-set, verify; NULL after printing why */
static struct bpfvm_object *setup_object(const struct opts *o, struct bpfvm_prog **progp,
					 int *mode)
{
	char log[4096] = "";
	struct bpfvm_object_open_opts oo = BPFVM_OPTS_INIT(bpfvm_object_open_opts);
	oo.log_buf = log;
	oo.log_size = sizeof(log);
	if (o->unverified)
		oo.flags |= BPFVM_OBJECT_UNVERIFIED;
	struct bpfvm_object *obj = bpfvm_object_open(o->obj, &oo);
	if (!obj) {
		cli_error(o->cmd, "%s", log[0] ? log : strerror(errno));
		return NULL;
	}
	int idx = pick_prog(o, obj);
	for (size_t i = 0; idx >= 0 && i < o->set_cnt; i++)
		if (apply_set(o, obj, o->sets[i]))
			idx = -1;
	if (idx >= 0)
		bpfvm_object_set_autoload(obj, (size_t)idx, true);
	if (idx >= 0 && bpfvm_object_load(obj)) {
		cli_error(o->cmd, "%s does not load: %s", o->obj, log[0] ? log : "(no log)");
		idx = -1;
	}
	for (size_t i = 0; idx >= 0 && i < o->map_set_cnt; i++)
		if (apply_map_set(o, obj, &o->map_sets[i]))
			idx = -1;
	*progp = idx >= 0 ? bpfvm_object_prog(obj, (size_t)idx) : NULL;
	if (*progp)
		*mode = pick_mode(o, *progp);
	if (!*progp || *mode < 0) {
		bpfvm_object_close(obj);
		return NULL;
	}
	return obj;
}

/* is the file an ELF object (else: bytecode or assembly)? */
static bool is_elf(const char *path)
{
	uint8_t magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return true; /* let the object loader say why it does not open */
	size_t n = fread(magic, 1, 4, f);
	fclose(f);
	return n == 4 && !memcmp(magic, "\177ELF", 4);
}

/* OBJ as raw bytecode or assembly (bpfvm run's formats): an untyped program
 * the hook runs as its own; NULL after printing why */
static struct bpfvm_prog *setup_raw(const struct opts *o, int *mode)
{
	if (o->set_cnt || o->map_set_cnt || o->prog)
		return cli_error(o->cmd, "%s is not an ELF object: --prog, --set and --map-set "
					 "need one", o->obj), NULL;
	struct bpf_insn *insns;
	size_t cnt;
	if (cli_load_insns(o->obj, &insns, &cnt))
		return NULL;
	char log[1024] = "", jlog[256] = "";
	struct bpfvm_prog_opts po = BPFVM_OPTS_INIT(bpfvm_prog_opts);
	po.name = o->obj;
	po.log_buf = log;
	po.log_size = sizeof(log);
	struct bpfvm_prog *prog = bpfvm_prog_from_insns(insns, cnt, &po);
	free(insns);
	if (!prog)
		return cli_error(o->cmd, "%s: %s", o->obj, log[0] ? log : strerror(errno)), NULL;
	/* nothing proves a raw program safe: checked unless the user vouches */
	*mode = o->mode == BPFVM_EXEC_AUTO ? BPFVM_EXEC_CHECKED : o->mode;
	if (*mode == BPFVM_EXEC_JIT && bpfvm_prog_jit(prog, jlog, sizeof(jlog))) {
		bpfvm_prog_free(prog);
		return cli_error(o->cmd, "--jit: %s", jlog[0] ? jlog : "no JIT for this machine"), NULL;
	}
	return prog;
}

/* ------------------------------------------------------------ batches */

struct arena {
	uint8_t *p;
	size_t len, cap;
};

/* append n bytes; returns their offset, or UINT32_MAX when out of memory */
static uint32_t arena_put(struct arena *a, const void *data, size_t n)
{
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		while (cap < a->len + n)
			cap *= 2;
		uint8_t *p = realloc(a->p, cap);
		if (!p)
			return UINT32_MAX;
		a->p = p;
		a->cap = cap;
	}
	if (n)
		memcpy(a->p + a->len, data, n);
	a->len += n;
	return (uint32_t)(a->len - n);
}

/* one packet of a batch, and what the program did with it */
struct pkt_rec {
	const uint8_t *data;		/* the input: the reader's bytes, not a copy */
	uint64_t index, ts_ns, retval, redirect_flags;
	uint32_t caplen, wire_len;
	uint32_t out_off, out_len;	/* out arena (out_off UINT32_MAX: not kept) */
	uint32_t text_off, text_len;	/* trace_printk / ring-buffer lines (--trace) */
	uint32_t msg_off;		/* error message in the text arena, or NO_MSG */
	uint32_t redirect_ifindex;
	struct bpfvm_map *redirect_map;
	uint8_t verdict;		/* enum verdict */
};

/* records of a pcap file taken in bulk (capture_take): rec[at, at + n) once
 * decoded, by the worker that runs them */
struct raw_run {
	const uint8_t *first;
	size_t at, n;
	uint64_t index;
};

/* Packets of a batch point into the source (a capture reader holding them, a
 * live ring block), which keeps them until the batch is emitted. */
struct batch {
	struct pkt_rec *rec;
	size_t cnt, rec_cap, in_bytes;
	struct raw_run *runs;		/* records still to decode into rec */
	size_t run_cnt, run_cap;
	uint64_t end_off;		/* capture offset after its last packet */
	bool done;			/* run, waiting to be emitted */
	struct arena out, text;
};

static void batch_reset(struct batch *b)
{
	b->cnt = b->in_bytes = b->run_cnt = 0;
	b->out.len = b->text.len = 0;
	b->done = false;
}

static void batch_free(struct batch *b)
{
	free(b->rec);
	free(b->runs);
	free(b->out.p);
	free(b->text.p);
}

static bool batch_full(const struct batch *b)
{
	return b->cnt == BATCH_PKTS || b->in_bytes >= BATCH_BYTES;
}

/* room for `more` records; false when out of memory */
static bool batch_room(struct batch *b, size_t more)
{
	if (b->cnt + more <= b->rec_cap)
		return true;
	size_t n = b->rec_cap ? 2 * b->rec_cap : BATCH_PKTS;
	while (n < b->cnt + more)
		n *= 2;
	struct pkt_rec *rec = realloc(b->rec, n * sizeof(*rec));
	if (!rec)
		return false;
	b->rec = rec;
	b->rec_cap = n;
	return true;
}

/* packet p, not yet run */
static void rec_fill(struct pkt_rec *r, const struct capture_pkt *p)
{
	/* field by field: gcc makes a memset of the record a slow rep stos */
	r->data = p->data;
	r->index = p->index;
	r->ts_ns = p->ts_ns;
	r->retval = r->redirect_flags = 0;
	r->caplen = p->caplen;
	r->wire_len = p->len > p->caplen ? p->len : p->caplen;
	r->out_off = r->msg_off = NO_MSG;
	r->out_len = r->text_off = r->text_len = r->redirect_ifindex = 0;
	r->redirect_map = NULL;
	r->verdict = 0;
}

/* add one packet (its bytes stay where they are); false when out of memory */
static bool batch_add(struct batch *b, const struct capture_pkt *p)
{
	if (!batch_room(b, 1))
		return false;
	rec_fill(&b->rec[b->cnt++], p);
	b->in_bytes += p->caplen;
	return true;
}

/* add n records taken in bulk, decoded later (decode_runs); false when out
 * of memory */
static bool batch_add_run(struct batch *b, const uint8_t *first, size_t n, size_t bytes,
			  uint64_t index)
{
	if (!batch_room(b, n))
		return false;
	if (b->run_cnt == b->run_cap) {
		size_t cap = b->run_cap ? 2 * b->run_cap : 16;
		struct raw_run *runs = realloc(b->runs, cap * sizeof(*runs));
		if (!runs)
			return false;
		b->runs = runs;
		b->run_cap = cap;
	}
	b->runs[b->run_cnt++] = (struct raw_run){ first, b->cnt, n, index };
	b->cnt += n;
	b->in_bytes += bytes - 16 * n;
	return true;
}

/* the records of b's runs, into their places */
static void decode_runs(struct batch *b, const struct capture *cap)
{
	for (size_t i = 0; i < b->run_cnt; i++) {
		const struct raw_run *run = &b->runs[i];
		const uint8_t *p = run->first;
		for (size_t k = 0; k < run->n; k++) {
			struct capture_pkt pkt;
			p += capture_record(cap, p, run->index + k, &pkt);
			rec_fill(&b->rec[run->at + k], &pkt);
		}
	}
	b->run_cnt = 0;
}

/* ------------------------------------------------------------- engine */

struct stats {
	uint64_t pkts[V_CNT], bytes[V_CNT], out_bytes;
};

struct engine;

/* one per thread; cache-line aligned so counters are not shared */
struct worker {
	_Alignas(64) struct engine *eng;
	struct bpfvm_pkt_runner *runner;
	struct stats st;
	struct batch *job;		/* the batch being run */
	pthread_t thread;
	bool started;
	char err[512];
};

struct ring {
	struct engine *eng;
	const char *name;
	struct bpfvm_ringbuf_consumer *c;
};

/* a distinct error or not-run message */
struct note {
	char *msg;
	uint64_t first, count;
	bool not_run;
};

struct engine {
	const struct opts *o;
	struct bpfvm_object *obj;
	struct bpfvm_prog *prog;
	int mode;
	struct worker *w;
	unsigned nw;
	struct ring *rings;
	size_t ring_cnt;
	pthread_mutex_t ring_mu;
	bool keep_out;		/* copy output packets (for --out or transmission) */
	struct capture_writer *out, *drop;
	struct live_if *lif;
	FILE *info;		/* where the summary goes */
	/* emission (main thread) */
	struct note *notes;
	size_t note_cnt;
	uint64_t read, emitted, send_errors;
	struct stats total;	/* the workers' counters, merged when they end */
	int fatal;		/* a write or read failed: exit 1 */
	bool write_failed;	/* no more writes (the packets before a read error
				 * are still written) */
	char read_err[CAPTURE_ERR_SZ];	/* why the input ended early */
	uint64_t t0, t1;
	/* capture runs (capture_worker): the reader and the emission are used
	 * under mu; batch number n (a ticket) lives in slot[n % slot_cnt] from
	 * its fill to its emission; batches are filled in ticket order (turn) */
	struct capture *cap;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* a turn passed, a slot became free */
	struct batch *slot;
	size_t slot_cnt;
	uint64_t next_ticket, turn, next_emit;
	unsigned waiting;		/* workers waiting on cv */
	bool input_done;
	/* progress */
	uint64_t cap_size, last_progress;
	bool progress;
};

static volatile sig_atomic_t stop_requested;
static _Thread_local struct worker *tl_worker;
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* a line for the packet being run: kept with it for --trace, else to stderr now */
static void side_line(const char *prefix, const char *text, size_t len)
{
	struct worker *w = tl_worker;
	if (w && w->job && w->eng->o->trace) {
		struct arena *t = &w->job->text;
		arena_put(t, prefix, strlen(prefix));
		arena_put(t, text, len);
		arena_put(t, "\n", 1);
		return;
	}
	pthread_mutex_lock(&print_mu);
	fprintf(stderr, "%s%.*s\n", prefix, (int)len, text);
	pthread_mutex_unlock(&print_mu);
}

static void on_trace(void *ctx, int cpu, const char *msg, const char *line)
{
	(void)ctx;
	(void)cpu;
	(void)msg;
	side_line("", line, strlen(line));
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	const struct ring *r = ctx;
	char prefix[64];
	char *hex = malloc(size * 2 + 1);
	if (!hex)
		return 0;
	for (size_t i = 0; i < size; i++)
		sprintf(hex + 2 * i, "%02x", ((const uint8_t *)data)[i]);
	hex[size * 2] = 0;
	snprintf(prefix, sizeof(prefix), "ringbuf %s: ", r->name);
	side_line(prefix, hex, size * 2);
	free(hex);
	return 0;
}

static void consume_rings(struct engine *e)
{
	if (!e->ring_cnt)
		return;
	pthread_mutex_lock(&e->ring_mu);
	for (size_t i = 0; i < e->ring_cnt; i++)
		bpfvm_ringbuf_consumer_consume(e->rings[i].c);
	pthread_mutex_unlock(&e->ring_mu);
}

static bool forwarded(int v)
{
	return v == V_PASS || v == V_TX || v == V_REDIRECT;
}

/* the output packet into the out arena; skb hooks get their VLAN tag back */
static void keep_output(struct batch *b, struct pkt_rec *r, const struct bpfvm_pkt_result *res,
			bool skb)
{
	if (!skb || !res->vlan_present || res->len < 12) {
		r->out_off = arena_put(&b->out, res->data, res->len);
		return;
	}
	uint8_t tag[4];
	memcpy(tag, &res->vlan_proto, 2); /* network byte order already */
	tag[2] = (uint8_t)(res->vlan_tci >> 8);
	tag[3] = (uint8_t)res->vlan_tci;
	r->out_off = arena_put(&b->out, res->data, 12);
	if (r->out_off != UINT32_MAX && arena_put(&b->out, tag, 4) != UINT32_MAX &&
	    arena_put(&b->out, res->data + 12, res->len - 12) != UINT32_MAX)
		return;
	r->out_off = UINT32_MAX;
}

/* where a redirect goes: bpf_redirect's ifindex, or a device map's entry */
static void note_redirect(struct pkt_rec *r, const struct bpfvm_pkt_result *res)
{
	r->redirect_map = res->redirect_map;
	r->redirect_flags = res->redirect_flags;
	r->redirect_ifindex = res->redirect_ifindex;
	bool devmap = res->redirect_map_type == BPFVM_MAP_TYPE_DEVMAP ||
		      res->redirect_map_type == BPFVM_MAP_TYPE_DEVMAP_HASH;
	if (res->redirect_map) {
		r->redirect_ifindex = 0;
		if (devmap && res->redirect_value) /* struct bpf_devmap_val starts with ifindex */
			memcpy(&r->redirect_ifindex, res->redirect_value, 4);
	}
}

static void record_failure(struct worker *w, struct batch *b, struct pkt_rec *r, int ret)
{
	char msg[600];
	if (w->err[0]) {
		r->verdict = V_ERROR;
		snprintf(msg, sizeof(msg), "%s", w->err);
	} else if (ret == -EINVAL && r->caplen < ETH_HLEN_) {
		r->verdict = V_NOT_RUN;
		snprintf(msg, sizeof(msg), "frame shorter than an Ethernet header (14 bytes): the "
					   "kernel never hands it to a program");
	} else if (ret == -E2BIG) {
		r->verdict = V_NOT_RUN;
		snprintf(msg, sizeof(msg), "%s",
			 w->eng->o->hook == BPFVM_PKT_HOOK_XDP
				 ? "frame larger than XDP takes (73152 bytes: one page and 17 fragments)"
				 : "frame larger than an skb hook takes (65535 bytes)");
	} else {
		r->verdict = V_ERROR;
		snprintf(msg, sizeof(msg), "%s", strerror(-ret));
	}
	r->msg_off = arena_put(&b->text, msg, strlen(msg) + 1);
}

static void run_packet(struct worker *w, struct batch *b, struct pkt_rec *r)
{
	struct engine *e = w->eng;
	struct bpfvm_pkt_result res;
	w->err[0] = 0;
	r->text_off = (uint32_t)b->text.len;
	int ret = bpfvm_pkt_runner_run(w->runner, r->data, r->caplen, &res);
	consume_rings(e);
	r->text_len = (uint32_t)b->text.len - r->text_off;
	if (ret) {
		record_failure(w, b, r, ret);
	} else {
		bool skb = e->o->hook != BPFVM_PKT_HOOK_XDP;
		r->verdict = (uint8_t)res.action;
		r->retval = res.retval;
		r->out_len = res.len + (skb && res.vlan_present ? 4 : 0);
		if (res.action == V_REDIRECT)
			note_redirect(r, &res);
		if (e->keep_out && forwarded(res.action))
			keep_output(b, r, &res, skb);
		if (forwarded(res.action))
			w->st.out_bytes += r->out_len;
	}
	w->st.pkts[r->verdict]++;
	w->st.bytes[r->verdict] += r->caplen;
}

static void process_batch(struct worker *w, struct batch *b)
{
	w->job = b;
	for (size_t i = 0; i < b->cnt; i++)
		run_packet(w, b, &b->rec[i]);
	w->job = NULL;
}

/* a runner for every worker; -1 after printing why not */
static int workers_init(struct engine *e, uint32_t ifindex)
{
	e->w = aligned_alloc(64, e->nw * sizeof(*e->w));
	if (!e->w)
		return cli_error(e->o->cmd, "out of memory"), -1;
	memset(e->w, 0, e->nw * sizeof(*e->w));
	for (unsigned i = 0; i < e->nw; i++) {
		struct worker *w = &e->w[i];
		struct bpfvm_pkt_runner_opts ro = BPFVM_OPTS_INIT(bpfvm_pkt_runner_opts);
		ro.mode = e->mode;
		ro.cpu = (int)i;
		ro.ifindex = ifindex;
		ro.err_buf = w->err;
		ro.err_size = sizeof(w->err);
		w->eng = e;
		w->runner = bpfvm_pkt_runner_new(e->prog, e->o->hook, &ro);
		if (!w->runner)
			return cli_error(e->o->cmd, "cannot run %s here: %s", bpfvm_prog_name(e->prog),
					 strerror(errno)), -1;
	}
	return 0;
}

static void merge_stats(struct stats *to, const struct stats *from)
{
	for (int v = 0; v < V_CNT; v++) {
		to->pkts[v] += from->pkts[v];
		to->bytes[v] += from->bytes[v];
	}
	to->out_bytes += from->out_bytes;
}

static void workers_join(struct engine *e)
{
	for (unsigned i = 0; e->w && i < e->nw; i++)
		if (e->w[i].started) {
			pthread_join(e->w[i].thread, NULL);
			e->w[i].started = false;
		}
}

/* wait for the threads, free the runners, merge the counters into e->total */
static void workers_free(struct engine *e)
{
	workers_join(e);
	for (unsigned i = 0; e->w && i < e->nw; i++) {
		struct worker *w = &e->w[i];
		merge_stats(&e->total, &w->st);
		bpfvm_pkt_runner_free(w->runner);
	}
	free(e->w);
	e->w = NULL;
}

/* a consumer for every ring buffer of the object */
static int rings_init(struct engine *e)
{
	size_t n = e->obj ? bpfvm_object_map_cnt(e->obj) : 0;
	e->rings = calloc(n ? n : 1, sizeof(*e->rings));
	if (!e->rings)
		return -1;
	pthread_mutex_init(&e->ring_mu, NULL);
	for (size_t i = 0; i < n; i++) {
		struct bpfvm_map *m = bpfvm_object_map(e->obj, i);
		if (!m || bpfvm_map_type(m) != BPFVM_MAP_TYPE_RINGBUF)
			continue;
		struct ring *r = &e->rings[e->ring_cnt];
		r->eng = e;
		r->name = bpfvm_map_name(m);
		r->c = bpfvm_ringbuf_consumer_new(m, on_ringbuf, r);
		if (r->c)
			e->ring_cnt++;
	}
	return 0;
}

static void rings_free(struct engine *e)
{
	for (size_t i = 0; i < e->ring_cnt; i++)
		bpfvm_ringbuf_consumer_free(e->rings[i].c);
	free(e->rings);
	if (e->rings)
		pthread_mutex_destroy(&e->ring_mu);
	e->rings = NULL;
	e->ring_cnt = 0;
}

/* ------------------------------------------------------------ emission */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *verdict_name(int hook, int v)
{
	static const char *const xdp[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					   "XDP_REDIRECT" };
	static const char *const tc[] = { "TC_ACT_ABORTED", "TC_ACT_SHOT", "TC_ACT_OK", "TX",
					  "TC_ACT_REDIRECT" };
	static const char *const sock[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };
	if (v == V_ERROR)
		return "ERROR";
	if (v == V_NOT_RUN)
		return "NOT_RUN";
	if (hook == BPFVM_PKT_HOOK_XDP)
		return xdp[v];
	return hook == BPFVM_PKT_HOOK_SOCKET_FILTER ? sock[v] : tc[v];
}

/* does this hook ever give verdict v (rows of the summary shown even at 0)? */
static bool hook_has(int hook, int v)
{
	if (hook == BPFVM_PKT_HOOK_XDP)
		return v <= V_REDIRECT;
	if (hook == BPFVM_PKT_HOOK_SOCKET_FILTER)
		return v == V_DROP || v == V_PASS;
	return v == V_DROP || v == V_PASS || v == V_REDIRECT;
}

static void trace_line(const struct engine *e, const struct batch *b, const struct pkt_rec *r)
{
	if (r->text_len)
		fwrite(b->text.p + r->text_off, 1, r->text_len, stdout);
	bool ran = r->verdict != V_ERROR && r->verdict != V_NOT_RUN;
	printf("{\"index\":%" PRIu64 ",\"verdict\":\"%s\",\"retval\":", r->index,
	       verdict_name(e->o->hook, r->verdict));
	if (ran)
		printf("%" PRIu64, r->retval);
	else
		printf("null");
	printf(",\"len_in\":%u,\"len_out\":%u,\"redirect\":", r->caplen, ran ? r->out_len : 0);
	if (r->verdict == V_REDIRECT && r->redirect_ifindex)
		printf("%u", r->redirect_ifindex);
	else
		printf("null");
	if (r->verdict == V_REDIRECT && r->redirect_map)
		printf(",\"redirect_map\":\"%s\"", bpfvm_map_name(r->redirect_map));
	if (r->verdict == V_REDIRECT && r->redirect_flags)
		printf(",\"redirect_flags\":%" PRIu64, r->redirect_flags);
	if (r->wire_len != r->caplen)
		printf(",\"wire_len\":%u", r->wire_len);
	/* past one page the kernel's XDP buffer goes on in 4 KiB fragments: the
	 * program's data..data_end holds the first XDP_LINEAR bytes */
	if (ran && e->o->hook == BPFVM_PKT_HOOK_XDP && r->caplen > XDP_LINEAR)
		printf(",\"frags\":%u", (r->caplen - XDP_LINEAR + 4095) / 4096);
	if (r->msg_off != NO_MSG) {
		printf(",\"error\":");
		json_str(stdout, (const char *)b->text.p + r->msg_off);
	}
	printf("}\n");
}

/* count an error / not-run message; the first of each kind of error is printed */
static void note_failure(struct engine *e, const struct pkt_rec *r, const char *msg)
{
	for (size_t i = 0; i < e->note_cnt; i++)
		if (!strcmp(e->notes[i].msg, msg)) {
			e->notes[i].count++;
			return;
		}
	struct note *n = realloc(e->notes, (e->note_cnt + 1) * sizeof(*n));
	if (!n)
		return;
	e->notes = n;
	n = &e->notes[e->note_cnt];
	n->msg = strdup(msg);
	if (!n->msg)
		return;
	n->first = r->index;
	n->count = 1;
	n->not_run = r->verdict == V_NOT_RUN;
	e->note_cnt++;
	if (!n->not_run)
		fprintf(stderr, "bpfvm %s: packet %" PRIu64 ": %s\n", e->o->cmd, r->index, msg);
}

static void write_pkt(struct engine *e, struct capture_writer *w, const char *path,
		      const uint8_t *data, uint32_t len, uint32_t wire_len, uint64_t ts)
{
	struct capture_pkt p = { .data = data, .caplen = len, .len = wire_len, .ts_ns = ts };
	if (!w || e->write_failed)
		return;
	if (capture_write(w, &p)) {
		e->fatal = cli_error(e->o->cmd, "%s: write failed", path);
		e->write_failed = true;
	}
}

/* the wire length of an output packet: unchanged lengths keep the original's;
 * a socket filter's cut is a snap length */
static uint32_t out_wire_len(const struct engine *e, const struct pkt_rec *r)
{
	if (r->out_len == r->caplen || e->o->hook == BPFVM_PKT_HOOK_SOCKET_FILTER)
		return r->wire_len > r->out_len ? r->wire_len : r->out_len;
	return r->out_len + (r->wire_len - r->caplen);
}

static void live_transmit(struct engine *e, const struct batch *b, const struct pkt_rec *r)
{
	char err[256];
	int ifindex;
	if (r->verdict == V_TX)
		ifindex = 0;
	else if (r->verdict == V_REDIRECT && r->redirect_ifindex && !(r->redirect_flags & 1))
		ifindex = (int)r->redirect_ifindex;	/* BPF_F_INGRESS ones are not sent */
	else
		return;
	if (r->out_off == UINT32_MAX)
		return;
	if (live_send(e->lif, ifindex, b->out.p + r->out_off, r->out_len, err, sizeof(err)) &&
	    e->send_errors++ == 0)
		fprintf(stderr, "bpfvm %s: packet %" PRIu64 ": %s\n", e->o->cmd, r->index, err);
}

static void emit_batch(struct engine *e, const struct batch *b)
{
	for (size_t i = 0; i < b->cnt; i++) {
		const struct pkt_rec *r = &b->rec[i];
		if (e->o->trace)
			trace_line(e, b, r);
		if (r->msg_off != NO_MSG)
			note_failure(e, r, (const char *)b->text.p + r->msg_off);
		if (forwarded(r->verdict) && r->out_off != UINT32_MAX) {
			write_pkt(e, e->out, e->o->out, b->out.p + r->out_off, r->out_len,
				  out_wire_len(e, r), r->ts_ns);
			if (e->lif)
				live_transmit(e, b, r);
		} else if (!forwarded(r->verdict)) {
			write_pkt(e, e->drop, e->o->drop_out, r->data, r->caplen,
				  r->wire_len, r->ts_ns);
		}
	}
	e->emitted += b->cnt;
}

/* --out and --drop-out; -1 after printing why one does not open */
static int open_outputs(struct engine *e, bool nsec)
{
	char err[CAPTURE_ERR_SZ + 64];
	const struct opts *o = e->o;
	if (o->out && !(e->out = capture_writer_open(o->out, CAPTURE_LINKTYPE_ETHERNET, nsec, err,
						       sizeof(err))))
		return cli_error(o->cmd, "%s", err), -1;
	if (o->drop_out && !(e->drop = capture_writer_open(o->drop_out, CAPTURE_LINKTYPE_ETHERNET,
							     nsec, err, sizeof(err))))
		return cli_error(o->cmd, "%s", err), -1;
	return 0;
}

static void close_outputs(struct engine *e)
{
	if (e->out && capture_writer_close(e->out) && !e->write_failed)
		e->fatal = cli_error(e->o->cmd, "%s: write failed", e->o->out);
	if (e->drop && capture_writer_close(e->drop) && !e->write_failed)
		e->fatal = cli_error(e->o->cmd, "%s: write failed", e->o->drop_out);
	e->out = e->drop = NULL;
}

/* ------------------------------------------------------------ progress */

static void progress_update(struct engine *e, const struct capture *cap, bool done)
{
	if (!e->progress)
		return;
	uint64_t t = now_ns();
	if (!done && t - e->last_progress < 100000000u)
		return;
	e->last_progress = t;
	if (done) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	uint64_t off = capture_offset(cap);
	unsigned pct = e->cap_size ? (unsigned)(off * 100 / e->cap_size) : 0;
	if (pct > 100)
		pct = 100;
	char bar[41];
	memset(bar, '#', pct * 40 / 100);
	memset(bar + pct * 40 / 100, '.', 40 - pct * 40 / 100);
	bar[40] = 0;
	double secs = (double)(t - e->t0) / 1e9;
	fprintf(stderr, "\r[%s] %3u%%  %" PRIu64 " packets  %.2f Mpps", bar, pct, e->emitted,
		secs > 0 ? (double)e->emitted / secs / 1e6 : 0.0);
}

static void progress_init(struct engine *e)
{
	struct stat st;
	const struct opts *o = e->o;
	if (!o->in || !strcmp(o->in, "-") || !isatty(2) || (o->trace && isatty(1)))
		return;
	if (stat(o->in, &st) || (uint64_t)st.st_size < PROGRESS_MIN_BYTES)
		return;
	e->cap_size = (uint64_t)st.st_size;
	e->progress = true;
}

/* ------------------------------------------------------------- sources */

/* Fill b (under e->mu) with the next packets: those that end before `limit`
 * (the first one whole, wherever it ends, so every turn makes progress), at
 * most max_pkts and about max_bytes.  The end of the capture, a read error
 * (printed), --count or a signal ends the input. */
static void fill_from_capture(struct engine *e, struct batch *b, uint64_t limit, size_t max_pkts,
			      size_t max_bytes)
{
	struct capture_pkt p;
	capture_set_limit(e->cap, UINT64_MAX);
	while (b->cnt < max_pkts && b->in_bytes < max_bytes) {
		if (stop_requested || e->fatal || (e->o->count && e->read >= e->o->count)) {
			e->input_done = true;
			break;
		}
		if (b->cnt) { /* the first one is read whatever the limit */
			const uint8_t *first;
			size_t bytes, want = max_pkts - b->cnt;
			uint64_t index;
			if (e->o->count && e->o->count - e->read < want)
				want = (size_t)(e->o->count - e->read);
			size_t n = capture_take(e->cap, want, max_bytes - b->in_bytes, &first, &bytes,
						&index);
			if (n && !batch_add_run(b, first, n, bytes, index)) {
				e->fatal = cli_error(e->o->cmd, "out of memory");
				e->input_done = true;
				break;
			}
			e->read += n;
			if (n)
				continue;
		}
		int ret = capture_next(e->cap, &p);
		if (ret == -EAGAIN)
			break;
		if (ret < 0) {
			snprintf(e->read_err, sizeof(e->read_err), "%s", capture_error(e->cap));
			e->fatal = cli_error(e->o->cmd, "%s", e->read_err);
		}
		if (ret > 0 && !batch_add(b, &p))
			e->fatal = cli_error(e->o->cmd, "out of memory");
		if (ret <= 0 || e->fatal) {
			e->input_done = true;
			break;
		}
		e->read++;
		capture_set_limit(e->cap, limit);
	}
	b->end_off = capture_offset(e->cap);
}

static int batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->rec = calloc(BATCH_PKTS, sizeof(*b->rec));
	b->rec_cap = b->rec ? BATCH_PKTS : 0;
	return b->rec ? 0 : -1;
}

/* the slot of ticket t, once it is t's turn to fill it and it is free (under
 * e->mu) */
static struct batch *wait_turn(struct engine *e, uint64_t t)
{
	while (e->turn != t || t >= e->next_emit + e->slot_cnt) {
		e->waiting++;
		pthread_cond_wait(&e->cv, &e->mu);
		e->waiting--;
	}
	struct batch *b = &e->slot[t % e->slot_cnt];
	batch_reset(b);
	b->end_off = capture_offset(e->cap);
	return b;
}

/* emit, in input order, every run batch whose turn has come (under e->mu);
 * their packets go back to the reader */
static void emit_ready(struct engine *e)
{
	bool freed = false;
	while (e->next_emit < e->next_ticket) {
		struct batch *b = &e->slot[e->next_emit % e->slot_cnt];
		if (!b->done)
			break;
		emit_batch(e, b);
		capture_release(e->cap, b->end_off);
		b->done = false;
		e->next_emit++;
		freed = true;
	}
	if (freed)
		progress_update(e, e->cap, false);
	if (freed && e->waiting)
		pthread_cond_broadcast(&e->cv);
}

/* One ticket of a worker: read the next chunk of the file (outside the lock),
 * wait for the turn, take the packets of that chunk (or, from a pipe, the next
 * BATCH_PKTS), run them outside the lock, emit what is due.  The chunk is read,
 * parsed and run on one CPU; the workers read in parallel; the lock is taken
 * three times per chunk, and nothing is shared per packet.  Under e->mu. */
static void work_ticket(struct worker *w)
{
	struct engine *e = w->eng;
	struct capture_fetch f;
	bool fetched = capture_fetch_claim(e->cap, &f);
	uint64_t t = e->next_ticket++;
	if (fetched) {
		pthread_mutex_unlock(&e->mu);
		capture_fetch_run(&f);
		pthread_mutex_lock(&e->mu);
		capture_fetch_done(e->cap, &f);
	}
	struct batch *b = wait_turn(e, t);
	if (!e->input_done && fetched)
		fill_from_capture(e, b, f.at_end ? UINT64_MAX : f.end, SIZE_MAX, SIZE_MAX);
	else if (!e->input_done)
		fill_from_capture(e, b, UINT64_MAX, BATCH_PKTS, BATCH_BYTES);
	e->turn++;
	if (e->waiting)
		pthread_cond_broadcast(&e->cv);
	if (b->cnt) {
		pthread_mutex_unlock(&e->mu);
		decode_runs(b, e->cap);
		process_batch(w, b);
		pthread_mutex_lock(&e->mu);
	}
	b->done = true;
	emit_ready(e);
}

static void *capture_worker(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->eng;
	tl_worker = w;
	pthread_mutex_lock(&e->mu);
	while (!e->input_done)
		work_ticket(w);
	pthread_mutex_unlock(&e->mu);
	tl_worker = NULL;
	return NULL;
}

/* worker 0 runs on this thread, the others on their own, until the input
 * ends; 1 after printing why a thread did not start */
static int run_workers(struct engine *e)
{
	int rc = 0;
	for (unsigned i = 1; i < e->nw; i++) {
		struct worker *w = &e->w[i];
		w->started = pthread_create(&w->thread, NULL, capture_worker, w) == 0;
		if (!w->started) {
			rc = cli_error(e->o->cmd, "cannot start worker thread %u", i);
			pthread_mutex_lock(&e->mu);
			e->input_done = true;	/* the started ones stop after their batch */
			pthread_cond_broadcast(&e->cv);
			pthread_mutex_unlock(&e->mu);
			break;
		}
	}
	capture_worker(&e->w[0]);
	return rc;
}

/* batch slots per worker: a fast worker runs ahead while a slow one finishes */
#define SLOTS_PER_WORKER 4

static int run_capture(struct engine *e)
{
	char err[CAPTURE_ERR_SZ + 64];
	e->cap = capture_open(e->o->in, err, sizeof(err));
	if (!e->cap)
		return cli_error(e->o->cmd, "%s", err);
	capture_hold(e->cap);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->slot_cnt = SLOTS_PER_WORKER * (size_t)e->nw;
	e->slot = calloc(e->slot_cnt, sizeof(*e->slot));
	int rc = !e->slot || workers_init(e, 1);
	for (size_t i = 0; !rc && i < e->slot_cnt; i++)
		rc = batch_init(&e->slot[i]);
	if (!rc && open_outputs(e, capture_nsec(e->cap)) == 0) {
		progress_init(e);
		e->t0 = now_ns();
		rc = run_workers(e);
		workers_join(e);
		e->t1 = now_ns();
		progress_update(e, e->cap, true);
	} else if (!rc) {
		rc = 1;
	}
	workers_free(e);
	for (size_t i = 0; e->slot && i < e->slot_cnt; i++)
		batch_free(&e->slot[i]);
	free(e->slot);
	e->slot = NULL;
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	capture_close(e->cap);
	e->cap = NULL;
	return rc;
}

/* one block of the AF_PACKET ring: run and emit its packets in batches */
static void run_live_block(struct engine *e, struct live_batch *lb, struct batch *b)
{
	struct capture_pkt p;
	batch_reset(b);
	while (live_batch_next(e->lif, lb, &p) && (!e->o->count || e->read < e->o->count)) {
		p.index = e->read;
		if (batch_full(b)) {
			process_batch(&e->w[0], b);
			emit_batch(e, b);
			batch_reset(b);
		}
		if (!batch_add(b, &p))
			continue; /* out of memory: the packet is lost */
		e->read++;
	}
	process_batch(&e->w[0], b);
	emit_batch(e, b);
	live_batch_done(e->lif, lb);
}

static int live_loop(struct engine *e, struct batch *b)
{
	char err[256];
	tl_worker = &e->w[0];
	while (!stop_requested && (!e->o->count || e->read < e->o->count) && !e->fatal) {
		struct live_batch lb;
		int ret = live_recv(e->lif, &lb, 100, err, sizeof(err));
		if (ret == -EINTR || ret == 0)
			continue;
		if (ret < 0) {
			e->fatal = cli_error(e->o->cmd, "%s: %s", e->o->iface, err);
			break;
		}
		run_live_block(e, &lb, b);
	}
	tl_worker = NULL;
	return e->fatal;
}

static int run_live(struct engine *e)
{
	char err[256];
	e->lif = live_open(e->o->iface, NULL, err, sizeof(err));
	if (!e->lif) {
		bool perm = (errno == EPERM || errno == EACCES) && !strstr(err, "CAP_NET_RAW");
		return cli_error(e->o->cmd, "%s%s", err,
				 perm ? ": receiving from an interface needs CAP_NET_RAW (run as "
					"root, or: setcap cap_net_raw+ep bpfvm)" : "");
	}
	struct batch b;
	int rc = batch_init(&b) || workers_init(e, (uint32_t)live_ifindex(e->lif)) ||
		 open_outputs(e, true);
	if (!rc) {
		fprintf(stderr, "bpfvm %s: running %s on %s (ifindex %d); Ctrl-C to stop\n", e->o->cmd,
			bpfvm_prog_name(e->prog), e->o->iface, live_ifindex(e->lif));
		e->t0 = now_ns();
		rc = live_loop(e, &b);
		e->t1 = now_ns();
	}
	workers_free(e);
	batch_free(&b);
	return rc ? 1 : 0;
}

/* ------------------------------------------------------------- summary */

static const char *hook_name(int hook)
{
	switch (hook) {
	case BPFVM_PKT_HOOK_XDP: return "xdp";
	case BPFVM_PKT_HOOK_TC_INGRESS: return "tc ingress";
	case BPFVM_PKT_HOOK_TC_EGRESS: return "tc egress";
	default: return "socket filter";
	}
}

static const char *mode_key(int mode)
{
	return mode == BPFVM_EXEC_JIT ? "jit" : mode == BPFVM_EXEC_INTERP ? "interp" : "checked";
}

static void totals(const struct stats *s, uint64_t *pkts, uint64_t *bytes)
{
	*pkts = *bytes = 0;
	for (int v = 0; v < V_CNT; v++) {
		*pkts += s->pkts[v];
		*bytes += s->bytes[v];
	}
}

static void summary_json(const struct engine *e, const struct stats *s, uint64_t dt)
{
	FILE *f = e->info;
	uint64_t pkts, bytes;
	totals(s, &pkts, &bytes);
	fprintf(f, "{\"program\":\"%s\",\"hook\":\"%s\",\"source\":", bpfvm_prog_name(e->prog),
		hook_name(e->o->hook));
	json_str(f, e->o->in ? e->o->in : e->o->iface);
	fprintf(f, ",\"mode\":\"%s\",\"threads\":%u,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
		   ",\"out_bytes\":%" PRIu64 ",\"elapsed_ns\":%" PRIu64 ",\"pps\":%.0f",
		mode_key(e->mode), e->nw, pkts, bytes, s->out_bytes, dt,
		dt ? (double)pkts * 1e9 / (double)dt : 0.0);
	fprintf(f, ",\"complete\":%s,\"verdicts\":{", e->fatal || stop_requested ? "false" : "true");
	for (int v = 0, n = 0; v < V_CNT; v++)
		if (hook_has(e->o->hook, v) || s->pkts[v])
			fprintf(f, "%s\"%s\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", n++ ? "," : "",
				verdict_name(e->o->hook, v), s->pkts[v], s->bytes[v]);
	fprintf(f, "},\"errors\":[");
	for (size_t i = 0; i < e->note_cnt; i++) {
		fprintf(f, "%s{\"message\":", i ? "," : "");
		json_str(f, e->notes[i].msg);
		fprintf(f, ",\"first\":%" PRIu64 ",\"count\":%" PRIu64 ",\"not_run\":%s}",
			e->notes[i].first, e->notes[i].count, e->notes[i].not_run ? "true" : "false");
	}
	fprintf(f, "]");
	if (e->read_err[0]) {
		fprintf(f, ",\"read_error\":");
		json_str(f, e->read_err);
	}
	if (e->send_errors)
		fprintf(f, ",\"send_errors\":%" PRIu64, e->send_errors);
}

static void summary_text(const struct engine *e, const struct stats *s, uint64_t dt)
{
	FILE *f = e->info;
	uint64_t pkts, bytes;
	totals(s, &pkts, &bytes);
	fprintf(f, "%s (%s) on %s: %" PRIu64 " packet%s, %" PRIu64 " bytes in %.3f s: %.0f packets/s "
		   "(%s, %u thread%s)%s\n",
		bpfvm_prog_name(e->prog), hook_name(e->o->hook), e->o->in ? e->o->in : e->o->iface,
		pkts, pkts == 1 ? "" : "s", bytes, (double)dt / 1e9, dt ? (double)pkts * 1e9 / (double)dt : 0.0,
		mode_name(e->mode), e->nw, e->nw == 1 ? "" : "s",
		e->fatal ? " [stopped early]" : stop_requested ? " [interrupted]" : "");
	fprintf(f, "  %-16s %10s %7s %12s\n", "verdict", "packets", "share", "bytes");
	for (int v = 0; v < V_CNT; v++)
		if (hook_has(e->o->hook, v) || s->pkts[v])
			fprintf(f, "  %-16s %10" PRIu64 " %6.1f%% %12" PRIu64 "\n",
				verdict_name(e->o->hook, v), s->pkts[v],
				pkts ? 100.0 * (double)s->pkts[v] / (double)pkts : 0.0, s->bytes[v]);
	for (size_t i = 0; i < e->note_cnt; i++)
		fprintf(f, "  %s: %" PRIu64 " packet%s (first: %" PRIu64 "): %s\n",
			e->notes[i].not_run ? "not run" : "error", e->notes[i].count,
			e->notes[i].count == 1 ? "" : "s", e->notes[i].first, e->notes[i].msg);
	if (e->send_errors)
		fprintf(f, "  %" PRIu64 " frames could not be sent\n", e->send_errors);
}

/* the map a --top names, or NULL after printing why */
static struct bpfvm_map *top_map(const struct engine *e, const struct top_req *t)
{
	char name[256];
	size_t len = (size_t)(strrchr(t->map, ':') - t->map);
	snprintf(name, sizeof(name), "%.*s", (int)len, t->map);
	struct bpfvm_map *m = bpfvm_object_find_map(e->obj, name);
	if (!m)
		cli_error(e->o->cmd, "--top: %s has no map '%s'", e->o->obj, name);
	return m;
}

static bool shown_by_top(const struct engine *e, const struct bpfvm_map *m)
{
	for (size_t i = 0; i < e->o->top_cnt; i++) {
		const char *t = e->o->tops[i].map, *n = bpfvm_map_name(m);
		size_t len = (size_t)(strrchr(t, ':') - t);
		if (strlen(n) == len && !strncmp(t, n, len))
			return true;
	}
	return false;
}

/* every map as a JSON array, kept on the summary's one line */
static void dump_maps_json(const struct bpfvm_object *obj, FILE *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m) {
		cli_dump_maps(obj, true, f);
		return;
	}
	cli_dump_maps(obj, true, m);
	fclose(m);
	while (len && text[len - 1] == '\n')
		len--;
	fwrite(text, 1, len, f);
	free(text);
}

/* --dump-maps and --top; returns 1 when a --top map does not exist */
static int print_maps(const struct engine *e)
{
	FILE *f = e->info;
	bool json = e->o->json;
	int rc = 0;
	if (!e->obj)
		return e->o->top_cnt ? cli_error(e->o->cmd, "--top: %s has no maps", e->o->obj) : 0;
	if (e->o->dump_maps && json) {
		fprintf(f, ",\"maps\":");
		dump_maps_json(e->obj, f);
	} else if (e->o->dump_maps) {
		for (size_t i = 0; i < bpfvm_object_map_cnt(e->obj); i++) {
			struct bpfvm_map *m = bpfvm_object_map(e->obj, i);
			if (m && !shown_by_top(e, m))
				cli_dump_map(e->obj, m, 0, false, f);
		}
	}
	if (json && e->o->top_cnt)
		fprintf(f, ",\"top\":[");
	for (size_t i = 0, n = 0; i < e->o->top_cnt; i++) {
		struct bpfvm_map *m = top_map(e, &e->o->tops[i]);
		if (!m) {
			rc = 1;
			continue;
		}
		if (json && n++)
			fputc(',', f);
		cli_dump_map(e->obj, m, e->o->tops[i].n, json, f);
	}
	if (json && e->o->top_cnt)
		fputc(']', f);
	return rc;
}

static int print_summary(struct engine *e)
{
	uint64_t dt = e->t1 > e->t0 ? e->t1 - e->t0 : 0;
	if (e->o->json)
		summary_json(e, &e->total, dt);
	else
		summary_text(e, &e->total, dt);
	int rc = print_maps(e);
	if (e->o->json)
		fprintf(e->info, "}\n");
	fflush(e->info);
	return rc;
}

/* ------------------------------------------------------------ commands */

static void install_signals(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	stop_requested = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

/* CPUs for --threads: at least one per worker, before any map exists */
static int set_cpus(const struct opts *o)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int want = (int)o->threads > online ? (int)o->threads : (int)online;
	if (want > bpfvm_nr_cpus() && bpfvm_set_nr_cpus(want))
		return cli_error(o->cmd, "cannot model %d CPUs for --threads %u", want, o->threads);
	return 0;
}

static int run_engine(const struct opts *o, struct bpfvm_object *obj, struct bpfvm_prog *prog,
		      int mode)
{
	struct engine e;
	memset(&e, 0, sizeof(e));
	e.o = o;
	e.obj = obj;
	e.prog = prog;
	e.mode = mode;
	e.nw = o->threads;
	e.keep_out = o->out || o->iface;
	bool out_stdout = (o->out && !strcmp(o->out, "-")) ||
			  (o->drop_out && !strcmp(o->drop_out, "-"));
	/* stdout may be taken by a capture, or by trace lines (a JSON summary is
	 * one more JSON line there, a table is not) */
	e.info = out_stdout || (o->trace && !o->json) ? stderr : stdout;
	if (rings_init(&e))
		return cli_error(o->cmd, "out of memory");
	struct sigaction old_int, old_term;
	install_signals(&old_int, &old_term);
	bpfvm_trace_set_callback(on_trace, NULL);
	int rc = o->iface ? run_live(&e) : run_capture(&e);
	bpfvm_trace_set_callback(NULL, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close_outputs(&e);
	fflush(stdout);
	if (e.t1 && print_summary(&e))
		rc = 1;
	if (e.lif)
		live_close(e.lif);
	rings_free(&e);
	for (size_t i = 0; i < e.note_cnt; i++)
		free(e.notes[i].msg);
	free(e.notes);
	return rc || e.fatal ? 1 : 0;
}

static int pkt_command(const char *cmd, int hook, int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	o.cmd = cmd;
	o.hook = hook;
	o.threads = 1;
	o.sets = calloc((size_t)argc, sizeof(*o.sets));
	o.map_sets = calloc((size_t)argc, sizeof(*o.map_sets));
	o.tops = calloc((size_t)argc, sizeof(*o.tops));
	bool help = false;
	int rc = !o.sets || !o.map_sets || !o.tops ? cli_error(cmd, "out of memory")
						    : parse_args(&o, argc, argv, &help);
	if (help)
		usage(cmd, stdout);
	if (!rc && !help)
		rc = set_cpus(&o);
	if (!rc && !help) {
		struct bpfvm_prog *prog = NULL;
		struct bpfvm_object *obj = NULL;
		int mode = 0;
		if (is_elf(o.obj))
			obj = setup_object(&o, &prog, &mode);
		else
			prog = setup_raw(&o, &mode);
		rc = prog ? run_engine(&o, obj, prog, mode) : 1;
		if (obj)
			bpfvm_object_close(obj);
		else
			bpfvm_prog_free(prog);
	}
	free(o.sets);
	free(o.map_sets);
	free(o.tops);
	return rc;
}

int cmd_xdp(int argc, char **argv)
{
	return pkt_command("xdp", BPFVM_PKT_HOOK_XDP, argc, argv);
}

int cmd_tc(int argc, char **argv)
{
	return pkt_command("tc", BPFVM_PKT_HOOK_TC_INGRESS, argc, argv);
}

int cmd_socket(int argc, char **argv)
{
	return pkt_command("socket", BPFVM_PKT_HOOK_SOCKET_FILTER, argc, argv);
}
