/* guard: test inputs placed flush against a PROT_NONE page (picohttpparser's trick).
 *
 * The bytes are read-only and end exactly where an unmapped page begins, so a parser that
 * reads one byte past its input, or writes into it, faults the test instead of passing by
 * luck. The mappings are never unmapped: a test binary makes a few hundred of them. */
#ifndef SIPTLS_TESTS_SUPPORT_GUARD_H
#define SIPTLS_TESTS_SUPPORT_GUARD_H

#include <criterion/criterion.h>

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/slice.h"

static inline struct slice guarded_n(const char *src, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (n + page - 1) / page * page + page;
	char *m = mmap(NULL, len + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(m, MAP_FAILED);
	cr_assert_eq(mprotect(m + len, page, PROT_NONE), 0);
	char *p = m + len - n;
	if (n)
		memcpy(p, src, n);
	cr_assert_eq(mprotect(m, len, PROT_READ), 0);
	return slice_make(p, n);
}

static inline struct slice guarded(const char *lit)
{
	return guarded_n(lit, strlen(lit));
}

#endif
