/* core_version: what this binary is and what it was built with, for --version. */
#ifndef SIPTLS_CORE_VERSION_H
#define SIPTLS_CORE_VERSION_H

#include <stdio.h>

/* prints "<prog> <version>" then the OpenSSL, liburing and allocator lines */
void core_version_print(FILE *out, const char *prog);
/* the allocator this process really uses: "jemalloc 5.3.0-..." or a sanitizer's */
const char *core_version_allocator(void);

#endif
