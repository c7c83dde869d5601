/* core_dialpeer: destination-pattern matching of dial-peers, as the reference platform does.
 *
 * A pattern is matched against the whole user part of the Request-URI. Syntax:
 *   0-9 * #   that character
 *   .         any one digit (0-9, *, #)
 *   [1-5] [^0] [135-7]   one character from (or not from) a set
 *   T         at the end: any number of further digits (variable length); T alone is a
 *             default route matching any user part, digits or not (and an empty one)
 *   %  ?  +   after an element: zero or more / zero or one / one or more of it
 *   + first   a literal '+' (E.164)
 *   $         at the end: nothing may follow (a pattern is anchored there anyway)
 * Among the dial-peers whose pattern matches, the most specific wins: more literal positions,
 * then more set positions, then narrower sets, then fixed length over variable; then the lower preference value,
 * then the lower tag. */
#ifndef SIPTLS_CORE_DIALPEER_H
#define SIPTLS_CORE_DIALPEER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"

#define CORE_DIALPEER_MAX_TOKENS 32

struct core_dialpeer_tok {
	uint16_t set;  /* bit i: '0'+i for i < 10, bit 10 '*', bit 11 '#', bit 12 '+' */
	uint8_t min, max; /* repetitions; max 255 means unbounded */
	uint8_t kind;  /* 0 literal, 1 set/any */
};

struct core_dialpeer_pattern {
	struct core_dialpeer_tok tok[CORE_DIALPEER_MAX_TOKENS];
	uint8_t ntok;
	uint16_t literals, sets; /* specificity: literal and set positions */
	uint16_t width;          /* characters the set positions admit, summed */
	bool variable;
	bool any; /* the pattern "T" alone */
};

/* Compiles text; 0, or -1 with *err_at set to the offset of the offending character. */
int core_dialpeer_compile(struct slice text, struct core_dialpeer_pattern *p, size_t *err_at);
/* does the whole of user match? */
bool core_dialpeer_match(const struct core_dialpeer_pattern *p, struct slice user);
/* > 0 when a is more specific than b, < 0 when less, 0 when equal */
int core_dialpeer_cmp(const struct core_dialpeer_pattern *a, const struct core_dialpeer_pattern *b);

struct core_dialpeer {
	uint32_t tag;        /* dial-peer voice TAG voip */
	uint32_t preference; /* lower wins a tie; 0 by default */
	struct core_dialpeer_pattern pattern;
	void *target;        /* the caller's routing target (tenant, session target) */
};

/* the best matching dial-peer for user among peers[0..n), or NULL */
const struct core_dialpeer *core_dialpeer_select(const struct core_dialpeer *peers, size_t n,
						 struct slice user);

#endif
