/* testutil.h — the few macros every unit test uses.
 *
 * A test program calls CHECK()/CHECK_EQ() as often as it likes, then ends main()
 * with `return TEST_DONE();`.  Each failed check prints file:line and what was
 * compared; TEST_DONE prints "<name>: N checks, M failed" and returns non-zero
 * when anything failed, which tests/run-all counts.
 */
#ifndef BPFVM_TESTUTIL_H
#define BPFVM_TESTUTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_checks, test_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		test_checks++;                                                 \
		if (!(cond)) {                                                 \
			test_failed++;                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);              \
		test_checks++;                                                  \
		if (va_ != vb_) {                                               \
			test_failed++;                                          \
			fprintf(stderr,                                         \
				"%s:%d: %s == %s failed: 0x%" PRIx64            \
				" != 0x%" PRIx64 "\n",                          \
				__FILE__, __LINE__, #a, #b, va_, vb_);          \
		}                                                               \
	} while (0)

#define CHECK_STR(a, b)                                                         \
	do {                                                                    \
		const char *sa_ = (a), *sb_ = (b);                              \
		test_checks++;                                                  \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                    \
			test_failed++;                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)", \
				sb_ ? sb_ : "(null)");                          \
		}                                                               \
	} while (0)

/* substring match, for error messages */
#define CHECK_CONTAINS(hay, needle)                                             \
	do {                                                                    \
		const char *h_ = (hay), *n_ = (needle);                         \
		test_checks++;                                                  \
		if (!h_ || !strstr(h_, n_)) {                                   \
			test_failed++;                                          \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", \
				__FILE__, __LINE__, h_ ? h_ : "(null)", n_);    \
		}                                                               \
	} while (0)

#define TEST_DONE()                                                             \
	(printf("%s: %d checks, %d failed\n", __FILE__, test_checks, test_failed), \
	 test_failed ? 1 : 0)

#endif
