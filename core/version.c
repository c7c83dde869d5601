#include "core/version.h"

#include <openssl/crypto.h>

#ifdef SIPTLS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

const char *core_version_allocator(void)
{
#ifdef SIPTLS_HAVE_JEMALLOC
	/* ask the allocator itself: proves jemalloc is what malloc resolved to at run time */
	static char buf[96];
	const char *v = NULL;
	size_t sz = sizeof(v);
	if (mallctl("version", &v, &sz, NULL, 0) != 0 || v == NULL)
		return "jemalloc (version unknown)";
	snprintf(buf, sizeof(buf), "jemalloc %s", v);
	return buf;
#else
	return "libc/sanitizer allocator (this is a sanitizer build: jemalloc is not linked)";
#endif
}

void core_version_print(FILE *out, const char *prog)
{
	fprintf(out, "%s %s\n", prog, SIPTLS_VERSION);
	fprintf(out, "  OpenSSL:   %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(out, "  liburing:  %s (build)\n", SIPTLS_URING_VERSION);
	fprintf(out, "  allocator: %s\n", core_version_allocator());
}
