/* trace.c — bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf.
 *
 * One formatter accepts exactly the conversions the kernel's
 * bpf_bprintf_prepare() accepts (flags "0 +-" and a width, no precision;
 * %d %i %u %x %X with l/ll, %c, %s, %p and its kernel variants) and refuses
 * the rest with -EINVAL, as the kernel does.  Trace lines go to the trace
 * sink — stderr unless the host chose a file descriptor or a callback — in
 * the kernel's trace_pipe line format.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "helpers/util.h"

#define MAX_ARGS 12
#define MAX_STR 512	/* bytes a %s or %pks may take, as MAX_BPRINTF_BUF */

uint64_t helper_bad_ptr(struct bpfvm_run *run, const char *name, int argno, uint64_t addr,
			uint64_t size)
{
	bpfvm_run_abort(run, -EFAULT,
			"helper bpf_%s: argument %d (0x%" PRIx64 ", %" PRIu64
			" bytes) is not memory the program may access",
			name, argno, addr, size);
	return (uint64_t)-EFAULT;
}

/* append to out, tracking the length the whole output needs */
struct sink {
	char *out;
	size_t size, len;
};

static void put(struct sink *s, const char *text, size_t n)
{
	if (s->len < s->size) {
		size_t room = s->size - s->len;
		memcpy(s->out + s->len, text, n < room ? n : room);
	}
	s->len += n;
}

static void putf(struct sink *s, const char *spec, ...)
{
	char buf[MAX_STR + 64];
	va_list ap;
	va_start(ap, spec);
	int n = vsnprintf(buf, sizeof(buf), spec, ap);
	va_end(ap);
	if (n > 0)
		put(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* %pi4 %pI4 %pi6 %pI6: an address read through the pointer */
static void put_ip(struct sink *s, const char *flags, char fam, char kind, uint64_t ptr)
{
	uint8_t a[16];
	char buf[64];
	size_t n = fam == '4' ? 4 : 16;
	if (helper_safe_copy(a, ptr, n)) {
		putf(s, flags, "(efault)");
		return;
	}
	if (fam == '4') {
		snprintf(buf, sizeof(buf), kind == 'i' ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u",
			 a[0], a[1], a[2], a[3]);
	} else {
		char *p = buf;
		for (int i = 0; i < 16; i += 2)
			p += sprintf(p, kind == 'i' ? "%02x%02x" : "%02x%02x%s", a[i], a[i + 1],
				     i < 14 ? ":" : "");
	}
	putf(s, flags, buf);
}

long helper_format(char *out, size_t out_sz, const char *fmt, uint64_t fmt_sz,
		   const uint64_t *args, uint32_t arg_cnt)
{
	if (!fmt || fmt_sz == 0 || !memchr(fmt, 0, fmt_sz))
		return -EINVAL;
	struct sink s = { out, out_sz ? out_sz - 1 : 0, 0 };
	uint32_t used = 0;
	for (size_t i = 0; fmt[i]; i++) {
		unsigned char c = (unsigned char)fmt[i];
		if (!isascii(c) || (!isprint(c) && !isspace(c)))
			return -EINVAL;
		if (c != '%') {
			put(&s, &fmt[i], 1);
			continue;
		}
		if (fmt[i + 1] == '%') {
			put(&s, "%", 1);
			i++;
			continue;
		}
		if (used >= arg_cnt)
			return -EINVAL;
		/* flags and width become a host printf spec */
		char spec[32] = "%";
		size_t sl = 1;
		i++;
		while (strchr("0+- ", fmt[i]) && fmt[i] && sl < 8)
			spec[sl++] = fmt[i++];
		if (fmt[i] >= '1' && fmt[i] <= '9')
			while (isdigit((unsigned char)fmt[i]) && sl < 16)
				spec[sl++] = fmt[i++];
		if (isdigit((unsigned char)fmt[i]))
			return -EINVAL; /* absurdly wide */
		uint64_t v = args[used++];
		char fl[40];
		if (fmt[i] == 'p') {
			char n1 = fmt[i + 1], n2 = n1 ? fmt[i + 2] : 0;
			memcpy(fl, spec, sl);
			strcpy(fl + sl, "s");
			if ((n1 == 'i' || n1 == 'I') && (n2 == '4' || n2 == '6')) {
				put_ip(&s, fl, n2, n1, v);
				i += 2;
			} else if ((n1 == 'k' || n1 == 'u') && n2 == 's') {
				char str[MAX_STR];
				if (helper_safe_copy_str(str, v, sizeof(str)) < 0)
					str[0] = 0;
				putf(&s, fl, str);
				i += 2;
			} else {
				if (n1 == 'K' || n1 == 'x' || n1 == 'B' || n1 == 's' || n1 == 'S')
					i++;
				else if (isalnum((unsigned char)n1))
					return -EINVAL;
				char hex[24];
				snprintf(hex, sizeof(hex), "0x%016" PRIx64, v);
				putf(&s, fl, hex);
			}
			continue;
		}
		if (fmt[i] == 'c') {
			memcpy(fl, spec, sl);
			strcpy(fl + sl, "c");
			putf(&s, fl, (int)(char)v);
			continue;
		}
		if (fmt[i] == 's') {
			char str[MAX_STR];
			if (helper_safe_copy_str(str, v, sizeof(str)) < 0)
				str[0] = 0;
			memcpy(fl, spec, sl);
			strcpy(fl + sl, "s");
			putf(&s, fl, str);
			continue;
		}
		int longs = 0;
		while (fmt[i] == 'l' && longs < 2) {
			longs++;
			i++;
		}
		char conv = fmt[i];
		if (!conv || !strchr("iduxX", conv))
			return -EINVAL;
		memcpy(fl, spec, sl);
		if (conv == 'i' || conv == 'd') {
			strcpy(fl + sl, PRId64);
			putf(&s, fl, longs ? (int64_t)v : (int64_t)(int32_t)v);
		} else {
			strcpy(fl + sl, conv == 'u' ? PRIu64 : conv == 'x' ? PRIx64 : PRIX64);
			putf(&s, fl, longs ? v : (uint64_t)(uint32_t)v);
		}
	}
	if (out_sz)
		out[s.len < out_sz ? s.len : out_sz - 1] = 0;
	return (long)s.len;
}

/* ------------------------------------------------------------ the sink */

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static int sink_fd = 2;
static bpfvm_trace_fn sink_fn;
static void *sink_ctx;

BPFVM_API void bpfvm_trace_set_fd(int fd)
{
	pthread_mutex_lock(&sink_lock);
	sink_fd = fd;
	sink_fn = NULL;
	pthread_mutex_unlock(&sink_lock);
}

BPFVM_API void bpfvm_trace_set_callback(bpfvm_trace_fn fn, void *ctx)
{
	pthread_mutex_lock(&sink_lock);
	sink_fn = fn;
	sink_ctx = ctx;
	pthread_mutex_unlock(&sink_lock);
}

void helper_trace_emit(struct bpfvm_run *run, const char *msg)
{
	char comm[17] = "";
	char line[MAX_STR * 2 + 128];
	struct timespec ts;
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		n--;
	FILE *f = fopen("/proc/self/comm", "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int len = snprintf(line, sizeof(line), "%16.16s-%-7ld [%03d] ..... %5lld.%06ld: bpf_trace_printk: %.*s\n",
			   comm, (long)syscall(SYS_gettid), run->cpu, (long long)ts.tv_sec,
			   ts.tv_nsec / 1000, (int)n, msg);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line))
		len = (int)sizeof(line) - 1;
	pthread_mutex_lock(&sink_lock);
	if (sink_fn) {
		line[len - 1] = 0; /* without the newline */
		sink_fn(sink_ctx, run->cpu, msg, line);
	} else if (sink_fd >= 0) {
		ssize_t w = write(sink_fd, line, (size_t)len);
		(void)w;
	}
	pthread_mutex_unlock(&sink_lock);
}

/* ------------------------------------------------------------ helpers */

uint64_t helper_trace_printk(uint64_t fmt, uint64_t fmt_sz, uint64_t a1, uint64_t a2,
			     uint64_t a3, struct bpfvm_run *run)
{
	char buf[MAX_STR * 2];
	const uint64_t args[3] = { a1, a2, a3 };
	if (!HELPER_MEM_OK(run, fmt, fmt_sz, 0))
		return helper_bad_ptr(run, "trace_printk", 1, fmt, fmt_sz);
	long n = helper_format(buf, sizeof(buf), (const char *)(uintptr_t)fmt, fmt_sz, args, 3);
	if (n < 0)
		return (uint64_t)n;
	helper_trace_emit(run, buf);
	return (uint64_t)n;
}

uint64_t helper_trace_vprintk(uint64_t fmt, uint64_t fmt_sz, uint64_t data, uint64_t data_len,
			      uint64_t r5, struct bpfvm_run *run)
{
	char buf[MAX_STR * 2];
	uint64_t args[MAX_ARGS];
	(void)r5;
	if (data_len % 8 || data_len > MAX_ARGS * 8 || (data_len && !data))
		return (uint64_t)-EINVAL;
	if (!HELPER_MEM_OK(run, fmt, fmt_sz, 0))
		return helper_bad_ptr(run, "trace_vprintk", 1, fmt, fmt_sz);
	if (!HELPER_MEM_OK(run, data, data_len, 0))
		return helper_bad_ptr(run, "trace_vprintk", 3, data, data_len);
	if (data_len)
		memcpy(args, (const void *)(uintptr_t)data, data_len);
	long n = helper_format(buf, sizeof(buf), (const char *)(uintptr_t)fmt, fmt_sz, args,
			       (uint32_t)(data_len / 8));
	if (n < 0)
		return (uint64_t)n;
	helper_trace_emit(run, buf);
	return (uint64_t)n;
}

uint64_t helper_snprintf(uint64_t str, uint64_t str_sz, uint64_t fmt, uint64_t data,
			 uint64_t data_len, struct bpfvm_run *run)
{
	uint64_t args[MAX_ARGS];
	if (data_len % 8 || data_len > MAX_ARGS * 8 || (data_len && !data))
		return (uint64_t)-EINVAL;
	if (!HELPER_MEM_OK(run, str, str_sz, 1))
		return helper_bad_ptr(run, "snprintf", 1, str, str_sz);
	if (!HELPER_MEM_OK(run, data, data_len, 0))
		return helper_bad_ptr(run, "snprintf", 4, data, data_len);
	/* fmt is a constant string (in a read-only map); copy it safely so
	 * an unterminated one cannot make us read past its memory */
	char f[MAX_STR];
	if (!HELPER_MEM_OK(run, fmt, 1, 0) || helper_safe_copy_str(f, fmt, sizeof(f)) < 0)
		return helper_bad_ptr(run, "snprintf", 3, fmt, 1);
	if (data_len)
		memcpy(args, (const void *)(uintptr_t)data, data_len);
	long n = helper_format((char *)(uintptr_t)str, (size_t)str_sz, f, sizeof(f), args,
			       (uint32_t)(data_len / 8));
	if (n < 0)
		return (uint64_t)n;
	return (uint64_t)n + 1;
}
