/* tests for tls/trustpoint.c: loading, clear errors, CRL flags, OCSP staple file */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "tests/tls/support/fix.h"

static struct tpki pki;

static void setup(void)
{
	cr_assert_eq(tpki_create(&pki), 0);
}

static void teardown(void)
{
	tpki_destroy(&pki);
}

TestSuite(trustpoint, .init = setup, .fini = teardown);

Test(trustpoint, loads_rsa_and_ec_chains)
{
	static const char *const leaves[] = {"server-rsa", "server-ec"};

	for (int i = 0; i < 2; i++) {
		struct tfix_tp f;

		cr_assert_eq(tfix_tp_load(&f, &pki, leaves[i], true, false), 0);
		cr_assert_not_null(f.tp.cert);
		cr_assert_eq(sk_X509_num(f.tp.chain), 1, "the intermediate follows the leaf");
		cr_assert_eq(EVP_PKEY_is_a(f.tp.key, i ? "EC" : "RSA"), 1);
		cr_assert_not_null(f.tp.store);
		cr_assert_not(f.tp.crl_check, "no CRL configured: default is none");
		tls_trustpoint_free(&f.tp);
		cr_assert_null(f.tp.cert);
	}
}

Test(trustpoint, key_mismatch_names_trustpoint_and_files)
{
	struct tfix_tp f;
	char err[512];

	tfix_tp_init(&f, &pki, "server-rsa", true, false);
	snprintf(f.key, sizeof(f.key), "%s", tpki_path(&pki, "server-ec.key"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EKEYREJECTED);
	cr_assert(strstr(err, "trustpoint TP-server-rsa:"), "%s", err);
	cr_assert(strstr(err, f.key) && strstr(err, f.cert), "%s", err);
	cr_assert_null(f.tp.cert, "nothing is left loaded");
}

Test(trustpoint, missing_and_unreadable_files)
{
	struct tfix_tp f;
	char err[512];

	tfix_tp_init(&f, &pki, "server-ec", true, false);
	snprintf(f.cert, sizeof(f.cert), "%s", tpki_path(&pki, "nope.crt"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "TP-server-ec") && strstr(err, f.cert), "%s", err);

	tfix_tp_init(&f, &pki, "server-ec", true, false);
	snprintf(f.ca, sizeof(f.ca), "%s", tpki_path(&pki, "missing-ca.pem"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, f.ca), "%s", err);

	tfix_tp_init(&f, &pki, "server-ec", true, false);
	snprintf(f.key, sizeof(f.key), "%s", pki.dir); /* a directory: fopen works, read fails */
	cr_assert_lt(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), 0);
	cr_assert(strstr(err, "key") && strstr(err, pki.dir), "%s", err);
}

Test(trustpoint, wrong_pem_kind_is_ebadmsg)
{
	struct tfix_tp f;
	char err[512];

	/* a key file given as the certificate, a certificate given as the key */
	tfix_tp_init(&f, &pki, "server-ec", true, false);
	snprintf(f.cert, sizeof(f.cert), "%s", tpki_path(&pki, "server-ec.key"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, f.cert), "%s", err);
	tfix_tp_init(&f, &pki, "server-ec", true, false);
	snprintf(f.key, sizeof(f.key), "%s", tpki_path(&pki, "server-ec.crt"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EBADMSG);
	/* a CRL file that holds no CRL */
	tfix_tp_init(&f, &pki, "server-ec", true, true);
	snprintf(f.crl, sizeof(f.crl), "%s", tpki_path(&pki, "ca.crt"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "CRL") && strstr(err, f.crl), "%s", err);
}

Test(trustpoint, expired_own_certificate)
{
	struct tfix_tp f;
	char err[512];

	tfix_tp_init(&f, &pki, "expired", true, false);
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EKEYEXPIRED);
	cr_assert(strstr(err, "TP-expired") && strstr(err, f.cert) && strstr(err, "expired"), "%s",
	          err);
}

Test(trustpoint, revocation_methods)
{
	struct tfix_tp f;
	char err[512];

	cr_assert_eq(tfix_tp_load(&f, &pki, "server-ec", true, true), 0);
	cr_assert(f.tp.crl_check);
	cr_assert_not(f.tp.crl_soft_fail);
	cr_assert_eq(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(f.tp.store)) &
	                 (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL),
	             X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	tls_trustpoint_free(&f.tp);

	/* crl none: soft fail; none alone: no CRL flags even with a CRL file */
	tfix_tp_init(&f, &pki, "server-ec", true, true);
	f.conf.revocation[1] = TLS_REVOKE_NONE;
	f.conf.n_revocation = 2;
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), 0, "%s", err);
	cr_assert(f.tp.crl_check && f.tp.crl_soft_fail);
	tls_trustpoint_free(&f.tp);
	tfix_tp_init(&f, &pki, "server-ec", true, true);
	f.conf.revocation[0] = TLS_REVOKE_NONE;
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(f.tp.crl_check);
	cr_assert_eq(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(f.tp.store)) &
	                 X509_V_FLAG_CRL_CHECK,
	             0);
	tls_trustpoint_free(&f.tp);

	/* crl without a CRL file, revocation without a CA */
	tfix_tp_init(&f, &pki, "server-ec", true, true);
	f.conf.n_crl = 0;
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "TP-server-ec") && strstr(err, "crl"), "%s", err);
	tfix_tp_init(&f, &pki, "server-ec", false, true);
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EINVAL);
}

Test(trustpoint, ca_only_and_config_errors)
{
	struct tfix_tp f;
	char err[512];

	cr_assert_eq(tfix_tp_load(&f, &pki, NULL, true, false), 0);
	cr_assert_null(f.tp.cert);
	cr_assert_not_null(f.tp.store);
	tls_trustpoint_free(&f.tp);
	tfix_tp_init(&f, &pki, "server-ec", true, false);
	f.conf.key_file = NULL;
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "no key"), "%s", err);
	tfix_tp_init(&f, &pki, "server-ec", true, false);
	f.conf.name = "";
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EINVAL);
}

Test(trustpoint, ocsp_staple_file_must_be_der_ocsp)
{
	struct tfix_tp f;
	char err[512];

	tfix_tp_init(&f, &pki, "server-ec", true, false);
	f.conf.ocsp_staple_file = tpki_path(&pki, "server-ec.crt");
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "OCSP") && strstr(err, "server-ec.crt"), "%s", err);
	tfix_tp_init(&f, &pki, "server-ec", true, false);
	f.conf.ocsp_staple_file = tpki_path(&pki, "none.der");
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -ENOENT);
}

/* ---- OCSP stapling end to end: the server staples its file, the client checks it ---- */

static int staple_run(const char *staple_for, bool revoked, bool client_ocsp, struct tfix_conn *k)
{
	struct tfix_tp stp, ctp;
	struct tls_profile sp, cp;
	char err[256];
	int rc;

	tfix_tp_init(&stp, &pki, "server-ec", true, false);
	if (staple_for) {
		cr_assert_eq(tpki_ocsp_response(&pki, staple_for, revoked, "staple.der"), 0);
		stp.conf.ocsp_staple_file = tpki_path(&pki, "staple.der");
	}
	cr_assert_eq(tls_trustpoint_load(&stp.tp, &stp.conf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stp.tp.staple != NULL, staple_for != NULL);
	tfix_tp_init(&ctp, &pki, "client", true, false);
	if (client_ocsp) {
		ctp.conf.revocation[0] = TLS_REVOKE_OCSP;
		ctp.conf.revocation[1] = TLS_REVOKE_NONE;
		ctp.conf.n_revocation = 2;
	}
	cr_assert_eq(tls_trustpoint_load(&ctp.tp, &ctp.conf, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ctp.tp.ocsp, client_ocsp);
	cr_assert_eq(tls_profile_build(&sp,
	                               &(struct tls_profile_conf){.tag = 1, .trustpoint = &stp.tp},
	                               err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(tls_profile_build(&cp,
	                               &(struct tls_profile_conf){.tag = 2, .trustpoint = &ctp.tp},
	                               err, sizeof(err)),
	             0, "%s", err);
	rc = tfix_run(k, cp.client, sp.server, NULL);
	tls_profile_free(&sp);
	tls_profile_free(&cp);
	tls_trustpoint_free(&stp.tp);
	tls_trustpoint_free(&ctp.tp);
	return rc;
}

Test(trustpoint, ocsp_staple_good_revoked_absent_foreign)
{
	struct tfix_conn k;

	cr_assert_eq(staple_run("server-ec", false, true, &k), 0, "good staple: %s",
	             k.r.client.reason);
	tfix_close(&k);
	cr_assert_neq(staple_run("server-ec", true, true, &k), 0, "revoked staple");
	cr_assert(k.r.client.failed);
	tfix_close(&k);
	cr_assert_neq(staple_run("client", false, true, &k), 0, "a staple for another cert");
	cr_assert(k.r.client.failed);
	tfix_close(&k);
	cr_assert_eq(staple_run(NULL, false, true, &k), 0, "no staple: other methods decide");
	tfix_close(&k);
	cr_assert_eq(staple_run("server-ec", true, false, &k), 0,
	             "revoked staple ignored without ocsp");
	tfix_close(&k);
}

Test(trustpoint, encrypted_key_is_refused_not_prompted)
{
	struct tfix_tp f;
	char err[512];
	FILE *in = fopen(tpki_path(&pki, "server-ec.key"), "r"), *out;
	EVP_PKEY *key = PEM_read_PrivateKey(in, NULL, NULL, NULL);

	fclose(in);
	out = fopen(tpki_path(&pki, "enc.key"), "w");
	cr_assert(key && out);
	cr_assert(PEM_write_PrivateKey(out, key, EVP_aes_128_cbc(), (unsigned char *)"secret", 6,
	                               NULL, NULL));
	fclose(out);
	EVP_PKEY_free(key);
	tfix_tp_init(&f, &pki, "server-ec", true, false);
	snprintf(f.key, sizeof(f.key), "%s", tpki_path(&pki, "enc.key"));
	cr_assert_eq(tls_trustpoint_load(&f.tp, &f.conf, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "encrypted") && strstr(err, "enc.key"), "%s", err);
}
