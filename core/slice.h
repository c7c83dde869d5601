/* slice: a borrowed view of bytes, passed by value.
 *
 * A slice never owns its bytes: whoever made the buffer it points into keeps it alive for as
 * long as the slice is used (a receive buffer of a connection, a config file image, a string
 * literal). The zero value is the empty slice. Helpers are inline: they sit on the hot path.
 */
#ifndef SIPTLS_CORE_SLICE_H
#define SIPTLS_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
	const char *p;
	size_t n;
};

/* SLICE_LIT("abc"): a slice over a string literal, without strlen at run time. */
#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })
/* printf("%.*s", SLICE_FMT(s)) */
#define SLICE_FMT(s) (int)(s).n, (s).p

static inline struct slice slice_make(const char *p, size_t n);
static inline struct slice slice_cstr(const char *s);
static inline bool slice_empty(struct slice s);
static inline bool slice_eq(struct slice a, struct slice b);
/* ASCII case-insensitive equality (SIP tokens, header names, schemes, parameters). */
static inline bool slice_case_eq(struct slice a, struct slice b);
/* does s start with prefix, ASCII case-insensitively? */
static inline bool slice_case_prefix(struct slice s, struct slice prefix);
/* s without leading and trailing SP, HT, CR and LF (CR/LF: folded header values). */
static inline struct slice slice_trim(struct slice s);
/* bytes [from, to) of s; callers keep from <= to <= s.n. */
static inline struct slice slice_sub(struct slice s, size_t from, size_t to);
/* index of the first c in s, or s.n when there is none. */
static inline size_t slice_find(struct slice s, char c);
/* parses s as a decimal number; false on empty, non-digit or a value above max. */
static inline bool slice_to_u64(struct slice s, unsigned long long max, unsigned long long *out);

/* ---- inline bodies ---- */

static inline unsigned char slice__lower(unsigned char c)
{
	return (unsigned char)((unsigned)c - 'A' < 26u ? c | 0x20u : c);
}

static inline struct slice slice_make(const char *p, size_t n)
{
	return (struct slice){ p, n };
}

static inline struct slice slice_cstr(const char *s)
{
	return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline bool slice_empty(struct slice s)
{
	return s.n == 0;
}

static inline bool slice_eq(struct slice a, struct slice b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool slice_case_eq(struct slice a, struct slice b)
{
	if (a.n != b.n)
		return false;
	for (size_t i = 0; i < a.n; i++)
		if (slice__lower((unsigned char)a.p[i]) != slice__lower((unsigned char)b.p[i]))
			return false;
	return true;
}

static inline bool slice_case_prefix(struct slice s, struct slice prefix)
{
	return s.n >= prefix.n && slice_case_eq(slice_make(s.p, prefix.n), prefix);
}

static inline bool slice__ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline struct slice slice_trim(struct slice s)
{
	while (s.n && slice__ws(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && slice__ws(s.p[s.n - 1]))
		s.n--;
	return s;
}

static inline struct slice slice_sub(struct slice s, size_t from, size_t to)
{
	/* the empty slice's NULL must not be offset, even by 0 (C11 6.5.6) */
	return (struct slice){ s.p ? s.p + from : s.p, to - from };
}

static inline size_t slice_find(struct slice s, char c)
{
	const char *q = s.n ? memchr(s.p, c, s.n) : NULL;
	return q ? (size_t)(q - s.p) : s.n;
}

static inline bool slice_to_u64(struct slice s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (s.n == 0 || s.n > 20)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
		if (d > 9 || d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

#endif
