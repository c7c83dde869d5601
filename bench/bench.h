/* bench: shared types of siptls-scanbench (the scanner benchmark, issue 2 item 7).
 *
 * Every parser under test (ours and the peers) is wrapped in a struct bench_parser whose
 * one() call does, for one message at the start of a stream buffer, the same job: frame it
 * (find its length), index its headers, decode the top Via and the Request-URI. The fields go
 * into a struct bench_fields so that the driver can (a) check that every parser found the same
 * things and (b) fold them into a digest the compiler cannot throw away.
 */
#ifndef SIPTLS_BENCH_BENCH_H
#define SIPTLS_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

/* What each parser must produce per message. Slices may point into the stream buffer (ours)
 * or into the peer's own structures (valid until the next one() or release()). */
struct bench_fields {
	size_t len;             /* framing: bytes of this message in the stream */
	unsigned status;        /* responses: status code; requests: 0 */
	struct slice method;    /* requests */
	struct slice transport; /* top Via: "TLS", "UDP", ... */
	struct slice via_host;  /* top Via sent-by host, IPv6 without brackets */
	unsigned via_port;      /* 0 when absent */
	struct slice branch;    /* top Via branch parameter */
	struct slice ruri_user; /* requests: Request-URI user part (may be empty) */
	struct slice ruri_host; /* requests: Request-URI host */
};

struct bench_parser {
	const char *name;
	/* library set-up, once; 0 or a negative code */
	int (*init)(const char *stream, size_t len);
	/* Frames and parses the message at buf[0..len), fills *f and returns the message length
	 * (> 0), or a negative code. What f points to stays valid until the next call. */
	long (*one)(const char *buf, size_t len, struct bench_fields *f);
	/* frees whatever the last one() kept alive */
	void (*release)(void);
};

extern const struct bench_parser bench_ours, bench_osip, bench_sofia, bench_re;

/* A cheap digest of the fields: the timed loop folds every message into it, so no parser's
 * work is dead code, and all parsers must end a pass over the corpus with the same value. */
static inline uint64_t bench_fold(uint64_t acc, const struct bench_fields *f)
{
	uint64_t x = f->len + 3 * f->branch.n + 5 * f->via_host.n + 7 * (uint64_t)f->via_port +
	             11 * f->ruri_host.n + 13 * f->ruri_user.n + 17 * (uint64_t)f->status +
	             19 * f->transport.n + 23 * f->method.n;
	if (f->branch.n)
		x += (unsigned char)f->branch.p[f->branch.n - 1];
	return (acc ^ x) * 0x100000001b3ull;
}

/* Frames a message the way an engineer would without a stream parser (used for the peers
 * that only parse a message whose length they are told): the end of the head by memmem
 * "\r\n\r\n", then the Content-Length (or "l") header inside the head. Length, or -1. */
long bench_frame_naive(const char *buf, size_t len);

/* "[v6]" -> "v6"; anything else unchanged */
static inline struct slice bench_unbracket(struct slice h)
{
	if (h.n >= 2 && h.p[0] == '[' && h.p[h.n - 1] == ']')
		return slice_make(h.p + 1, h.n - 2);
	return h;
}

#endif
