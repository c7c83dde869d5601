/* Tests for sip/chars.c: the table against RFC 3261 25.1 written out the slow way. */
#include <criterion/criterion.h>

#include <string.h>

#include "sip/chars.h"

static bool in(const char *set, int c)
{
	return c != 0 && strchr(set, c) != NULL;
}

Test(sip_chars, every_byte_matches_the_grammar)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char digit[] = "0123456789";
	static const char hex[] = "0123456789abcdefABCDEF";
	for (int c = 0; c < 256; c++) {
		bool a = in(alpha, c), d = in(digit, c);
		cr_assert_eq(sip_is_alpha((unsigned char)c), a, "alpha %d", c);
		cr_assert_eq(sip_is_digit((unsigned char)c), d, "digit %d", c);
		cr_assert_eq(sip_is_alnum((unsigned char)c), a || d, "alnum %d", c);
		cr_assert_eq(sip_is_hex((unsigned char)c), in(hex, c), "hex %d", c);
		cr_assert_eq(sip_is_token((unsigned char)c), a || d || in("-.!%*_+`'~", c), "token %d", c);
		cr_assert_eq(sip_is_unreserved((unsigned char)c), a || d || in("-_.!~*'()", c),
			     "unreserved %d", c);
		cr_assert_eq(sip_is_lws((unsigned char)c), in(" \t\r\n", c), "lws %d", c);
	}
}
