/* Tests for sip/eol.c: the SIMD and portable line-end searches agree with a naive loop. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "sip/eol.h"

static const char *naive(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == '\r' || *p == '\n' || *p == '\0')
			return p;
	return end;
}

Test(sip_eol, all_implementations_agree_on_every_range)
{
	char buf[96];
	unsigned seed = 12345;
	printf("sip_eol_find uses %s\n", sip_eol_impl());
	for (int round = 0; round < 300; round++) {
		/* mostly printable text with sparse CR, LF, NUL and high bytes */
		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned r = (seed >> 16) % 100;
			buf[i] = r < 2 ? '\r' : r < 4 ? '\n' : r < 5 ? '\0' : r < 8 ? (char)(0x80 + r) :
									 (char)('a' + r % 26);
		}
		for (size_t a = 0; a < sizeof(buf); a += 3)
			for (size_t b = a; b <= sizeof(buf); b++) {
				const char *want = naive(buf + a, buf + b);
				cr_assert_eq(sip_eol_find_swar(buf + a, buf + b), want, "swar [%zu,%zu)", a, b);
				cr_assert_eq(sip_eol_find_simd(buf + a, buf + b), want, "simd [%zu,%zu)", a, b);
				cr_assert_eq(sip_eol_find(buf + a, buf + b), want);
			}
	}
}

Test(sip_eol, each_terminator_at_each_lane)
{
	static const char term[] = { '\r', '\n', '\0' };
	char buf[40];
	for (size_t t = 0; t < sizeof(term); t++)
		for (size_t at = 0; at < 32; at++) {
			memset(buf, 'x', sizeof(buf));
			buf[at] = term[t];
			buf[at + 3] = '\r'; /* a later one must not win */
			cr_assert_eq(sip_eol_find_simd(buf, buf + sizeof(buf)), buf + at);
			cr_assert_eq(sip_eol_find_swar(buf, buf + sizeof(buf)), buf + at);
		}
	memset(buf, 0x8d, sizeof(buf)); /* 0x8d is CR with the high bit: not a line end */
	cr_assert_eq(sip_eol_find_simd(buf, buf + sizeof(buf)), buf + sizeof(buf));
	cr_assert_eq(sip_eol_find_swar(buf, buf + sizeof(buf)), buf + sizeof(buf));
}
