/* Tests for core/mac.c: SipHash-2-4 against the paper's vectors, token make/check. */
#include <criterion/criterion.h>

#include "core/mac.h"

static const struct core_mac_key paper_key = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

Test(core_mac, siphash_reference_vectors)
{
	unsigned char msg[64];
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	/* Aumasson & Bernstein, "SipHash: a fast short-input PRF", appendix A and the
	 * reference implementation's vectors: key 00..0f, message 00..(n-1) */
	cr_assert_eq(core_siphash(&paper_key, msg, 0), 0x726fdb47dd0e0e31ull);
	cr_assert_eq(core_siphash(&paper_key, msg, 15), 0xa129ca6149be45e5ull);
	cr_assert_eq(core_siphash(&paper_key, msg, 1), 0x74f839c593dc67fdull);
	cr_assert_eq(core_siphash(&paper_key, msg, 8), 0x93f5f5799a932462ull);
}

Test(core_mac, token_round_trip_and_forgery)
{
	struct core_mac_key k;
	cr_assert_eq(core_mac_key_random(&k), 0);
	char tok[CORE_TOKEN_LEN];
	struct slice ctx = SLICE_LIT("z9hG4bK776asdhds");
	core_token_make(&k, 0x0102000300000007ull, ctx, tok);
	uint64_t v = 0;
	cr_assert(core_token_check(&k, slice_make(tok, sizeof(tok)), ctx, &v));
	cr_assert_eq(v, 0x0102000300000007ull);

	cr_assert_not(core_token_check(&k, slice_make(tok, sizeof(tok)), SLICE_LIT("z9hG4bKother"), &v),
		      "bound to its context");
	char forged[CORE_TOKEN_LEN];
	memcpy(forged, tok, sizeof(tok));
	forged[15] = forged[15] == '8' ? '9' : '8'; /* another connection id, same tag */
	cr_assert_not(core_token_check(&k, slice_make(forged, sizeof(forged)), ctx, &v));
	struct core_mac_key other;
	cr_assert_eq(core_mac_key_random(&other), 0);
	cr_assert_not(core_token_check(&other, slice_make(tok, sizeof(tok)), ctx, &v), "another process");
	cr_assert_not(core_token_check(&k, slice_make(tok, sizeof(tok) - 1), ctx, &v));
	memcpy(forged, tok, sizeof(tok));
	forged[3] = 'g';
	cr_assert_not(core_token_check(&k, slice_make(forged, sizeof(forged)), ctx, &v));
	char longctx[600];
	memset(longctx, 'a', sizeof(longctx));
	core_token_make(&k, 5, slice_make(longctx, sizeof(longctx)), tok);
	longctx[599] = 'b';
	cr_assert_not(core_token_check(&k, slice_make(tok, sizeof(tok)), slice_make(longctx, sizeof(longctx)), &v),
		      "bytes past 256 of a context still count");
}
