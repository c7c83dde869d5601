/* bench_corpus: deterministic synthetic SIP trunk traffic, as one TLS stream would carry it.
 *
 * The generator plays a carrier trunk talking to a border proxy over TLS: calls (INVITE with
 * SDP, 100, 180, 200 with SDP, ACK, BYE, 200), OPTIONS keep-alives and REGISTERs with their
 * 200s, several calls interleaved. Header names come in mixed case and in compact form (v i f
 * t m l c k x u), 2-3 Via hops (some comma-joined on one line), Record-Route/Route sets, realistic
 * Call-IDs, branches and tags. Every message is 400-1500 bytes; all are back to back in one
 * buffer. The same seed gives the same bytes on every machine (own PRNG, no libc rand).
 *
 * The generator also records, for every message, what a parser must find (its length, the top
 * Via's transport/host/port/branch, the Request-URI's user/host): the ground truth the driver
 * checks every parser against.
 */
#ifndef SIPTLS_BENCH_CORPUS_H
#define SIPTLS_BENCH_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "bench/bench.h"

enum bench_msg_type {
	BENCH_T_INVITE,
	BENCH_T_100,
	BENCH_T_180,
	BENCH_T_200_INVITE,
	BENCH_T_ACK,
	BENCH_T_BYE,
	BENCH_T_200_BYE,
	BENCH_T_OPTIONS,
	BENCH_T_200_OPTIONS,
	BENCH_T_REGISTER,
	BENCH_T_200_REGISTER,
	BENCH_T__COUNT
};

struct bench_corpus {
	char *buf;  /* all messages back to back */
	size_t len; /* bytes used in buf */
	uint32_t nmsg;
	struct bench_fields *truth; /* nmsg entries; slices point into buf */
	uint8_t *type;              /* nmsg entries, enum bench_msg_type */
	uint32_t count[BENCH_T__COUNT];
	size_t min_len, max_len;
};

/* Generates nmsg messages from seed. 0, or -1 when out of memory. */
int bench_corpus_make(struct bench_corpus *c, uint32_t nmsg, uint64_t seed);
void bench_corpus_free(struct bench_corpus *c);
const char *bench_msg_type_name(enum bench_msg_type t);

#endif
