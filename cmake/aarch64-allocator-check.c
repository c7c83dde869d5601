/* aarch64-allocator-check: proves that an AArch64 binary linked like ours (siptls_core plus
 * siptls_use_allocator's jemalloc) really allocates with jemalloc when run under qemu-user.
 * scripts/cross-arm64.sh builds it against build/arm64/core/libsiptls_core.a and runs it.
 *
 * core_version_allocator() only shows that jemalloc's mallctl is reachable; this also checks
 * that plain malloc() is served by it: jemalloc's per-thread "thread.allocated" counter must
 * grow by at least the size we asked for. Exit 0 and one line on stdout when both hold. */
#include "core/version.h"

#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t check_thread_allocated(void)
{
	uint64_t v = 0;
	size_t sz = sizeof(v);
	if (mallctl("thread.allocated", &v, &sz, NULL, 0) != 0)
		return 0;
	return v;
}

int main(void)
{
	const char *name = core_version_allocator();
	if (strncmp(name, "jemalloc ", 9) != 0) {
		fprintf(stderr, "allocator-check: core_version_allocator() = \"%s\"\n", name);
		return 1;
	}
	const size_t want = 1 << 20;
	uint64_t before = check_thread_allocated();
	char *volatile p = malloc(want);
	uint64_t after = check_thread_allocated();
	if (p == NULL || after < before + want) {
		fprintf(stderr,
		        "allocator-check: malloc(%zu) not seen by jemalloc (%llu -> %llu)\n", want,
		        (unsigned long long)before, (unsigned long long)after);
		free(p);
		return 1;
	}
	free(p);
	printf("allocator-check: %s; malloc(%zu) counted by jemalloc (+%llu bytes)\n", name, want,
	       (unsigned long long)(after - before));
	return 0;
}
