/* tests for tls/cipher.c: names, spellings, ordered lists, TLS 1.3 suites */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tls/cipher.h"

static struct slice S(const char *s) {
	return slice_cstr(s);
}

Test(cipher, guide_underscore_names_map_to_openssl)
{
	static const char *const pairs[][2] = {
	    {"DHE_RSA_AES128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256"},
	    {"DHE_RSA_AES256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384"},
	    {"DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"},
	    {"DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"},
	    {"ECDHE_RSA_AES128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
	    {"ECDHE_RSA_AES256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
	    {"RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
	    {"RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
	    {"ECDHE_ECDSA_AES128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
	    {"ECDHE_ECDSA_AES256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
	};
	bool seen[TLS_CIPHER_COUNT] = {false};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int id = tls_cipher_lookup(S(pairs[i][0]));

		cr_assert_geq(id, 0, "%s", pairs[i][0]);
		cr_assert_str_eq(tls_cipher_openssl_name(id), pairs[i][1]);
		cr_assert_str_eq(tls_cipher_name(id), pairs[i][0]);
		cr_assert_not(seen[id]);
		seen[id] = true;
		/* OpenSSL's own name is accepted too */
		cr_assert_eq(tls_cipher_lookup(S(pairs[i][1])), id);
	}
}

Test(cipher, guide_space_spelling_and_case_accepted)
{
	cr_assert_eq(tls_cipher_lookup(S("DHE RSA WITH AES 128 CBC SHA")),
	             TLS_CIPHER_DHE_RSA_WITH_AES_128_CBC_SHA);
	cr_assert_eq(tls_cipher_lookup(S("  ecdhe rsa  aes256 gcm sha384 ")),
	             TLS_CIPHER_ECDHE_RSA_AES256_GCM_SHA384);
	cr_assert_eq(tls_cipher_lookup(S("rsa_with_aes_256_cbc_sha")),
	             TLS_CIPHER_RSA_WITH_AES_256_CBC_SHA);
}

Test(cipher, unknown_names_rejected)
{
	cr_assert_eq(tls_cipher_lookup(S("RSA_WITH_3DES_EDE_CBC_SHA")), -ENOENT);
	cr_assert_eq(tls_cipher_lookup(S("DHE_RSA_AES128_GCM")), -ENOENT);
	cr_assert_eq(tls_cipher_lookup(S("DHE_RSA_AES128_GCM_SHA2566")), -ENOENT);
	cr_assert_eq(tls_cipher_lookup(S("")), -ENOENT);
	cr_assert_eq(tls_cipher_lookup(S("DHERSA_AES128_GCM_SHA256")), -ENOENT);
}

Test(cipher, unknown_name_error_lists_all_valid_ones)
{
	struct tls_cipher_list l = {.tag = 100};
	char err[1024];

	cr_assert_eq(tls_cipher_list_add(&l, 1, S("RC4_MD5"), err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "RC4_MD5"), "%s", err);
	for (int i = 0; i < TLS_CIPHER_COUNT; i++)
		cr_assert(strstr(err, tls_cipher_name(i)), "%s lacks %s", err, tls_cipher_name(i));
	cr_assert_eq(l.n, 0);
}

Test(cipher, list_is_kept_in_preference_order)
{
	struct tls_cipher_list l = {.tag = 100};
	char err[256], buf[256];

	cr_assert_eq(tls_cipher_list_add(&l, 5, S("RSA_WITH_AES_128_CBC_SHA"), err, sizeof(err)),
	             0);
	cr_assert_eq(tls_cipher_list_add(&l, 1, S("ECDHE_RSA_AES256_GCM_SHA384"), err, sizeof(err)),
	             0);
	cr_assert_eq(
	    tls_cipher_list_add(&l, 3, S("DHE RSA WITH AES 128 CBC SHA"), err, sizeof(err)), 0);
	cr_assert_eq(tls_cipher_list_string(&l, buf, sizeof(buf)), (int)strlen(buf));
	cr_assert_str_eq(buf, "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA:AES128-SHA");
	/* re-entering a preference replaces it */
	cr_assert_eq(tls_cipher_list_add(&l, 3, S("AES256-SHA"), err, sizeof(err)), 0);
	cr_assert_geq(tls_cipher_list_string(&l, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA:AES128-SHA");
	cr_assert_eq(l.n, 3);
	cr_assert_not(tls_cipher_list_has_ecdsa(&l));
	cr_assert_eq(
	    tls_cipher_list_add(&l, 2, S("ECDHE_ECDSA_AES128_GCM_SHA256"), err, sizeof(err)), 0);
	cr_assert(tls_cipher_list_has_ecdsa(&l));
}

Test(cipher, list_errors)
{
	struct tls_cipher_list l = {.tag = 7};
	char err[256], small[8];

	cr_assert_eq(tls_cipher_list_add(&l, 0, S("AES128-SHA"), err, sizeof(err)), -ERANGE);
	cr_assert_eq(tls_cipher_list_add(&l, 11, S("AES128-SHA"), err, sizeof(err)), -ERANGE);
	cr_assert_eq(tls_cipher_list_add(&l, 1, S("AES128-SHA"), err, sizeof(err)), 0);
	cr_assert_eq(tls_cipher_list_add(&l, 2, S("RSA_WITH_AES_128_CBC_SHA"), err, sizeof(err)),
	             -EEXIST);
	cr_assert(strstr(err, "preference 1"), "%s", err);
	cr_assert_eq(tls_cipher_list_add(&l, 2, S("AES256-SHA"), err, sizeof(err)), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(tls_cipher_list_string(&l, small, sizeof(small)), -ENOSPC);
}

Test(cipher, ten_entries_fill_a_list)
{
	struct tls_cipher_list l = {0};
	char err[256], buf[512];

	for (int i = 0; i < TLS_CIPHER_COUNT; i++)
		cr_assert_eq(tls_cipher_list_add(&l, (unsigned)(TLS_CIPHER_COUNT - i),
		                                 S(tls_cipher_name(i)), err, sizeof(err)),
		             0);
	cr_assert_eq(l.n, TLS_CIPHER_MAX);
	cr_assert_geq(tls_cipher_list_string(&l, buf, sizeof(buf)), 0);
	/* preference 1 is the last one added */
	cr_assert(strncmp(buf, "ECDHE-ECDSA-AES256-GCM-SHA384:", 30) == 0, "%s", buf);
}

Test(cipher, tls13_suites)
{
	struct tls_cipher_list l = {0};
	char err[512];

	cr_assert_eq(
	    tls_cipher_list_set_tls13(&l, S("TLS_AES_256_GCM_SHA384 tls_chacha20_poly1305_sha256"),
	                              err, sizeof(err)),
	    0);
	cr_assert_str_eq(l.tls13, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	cr_assert_eq(
	    tls_cipher_list_set_tls13(&l, S("TLS_AES_128_GCM_SHA256:TLS_RC4"), err, sizeof(err)),
	    -ENOENT);
	cr_assert(strstr(err, "TLS_RC4") && strstr(err, "TLS_AES_128_CCM_8_SHA256"), "%s", err);
	/* a failed set leaves the previous value */
	cr_assert_str_eq(l.tls13, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	cr_assert_eq(tls_cipher_list_set_tls13(&l, S(""), err, sizeof(err)), 0);
	cr_assert_str_eq(l.tls13, "");
}
