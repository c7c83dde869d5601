/* tests for tls/profile.c: contexts, versions, cipher preference, mutual TLS, revocation, and
 * the real `openssl s_client` against a profile-built server */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
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

TestSuite(profile, .init = setup, .fini = teardown);

static int build(struct tls_profile *p, struct tls_profile_conf c, char *err, size_t n)
{
	int rc = tls_profile_build(p, &c, err, n);

	if (rc)
		cr_log_info("tls_profile_build: %s", err);
	return rc;
}

#define BUILD_OK(p, ...)                                                                           \
	do {                                                                                       \
		char e_[256];                                                                      \
		cr_assert_eq(build((p), (struct tls_profile_conf){__VA_ARGS__}, e_, sizeof(e_)),   \
		             0, "%s", e_);                                                         \
	} while (0)

static struct tls_cipher_list ciphers(const char *const *names, int n)
{
	struct tls_cipher_list l = {.tag = 1};
	char err[512];

	for (int i = 0; i < n; i++)
		cr_assert_eq(tls_cipher_list_add(&l, (unsigned)i + 1, slice_cstr(names[i]), err,
		                                 sizeof(err)),
		             0, "%s", err);
	return l;
}

Test(profile, contexts_carry_ktls_server_preference_no_read_ahead_and_mtls)
{
	struct tfix_tp tp;
	struct tls_profile p;

	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-rsa", true, false), 0);
	BUILD_OK(&p, .tag = 1, .trustpoint = &tp.tp);
	for (int i = 0; i < 2; i++) {
		SSL_CTX *ctx = i ? p.client : p.server;
		uint64_t want = SSL_OP_ENABLE_KTLS | SSL_OP_CIPHER_SERVER_PREFERENCE;

		cr_assert_eq(SSL_CTX_get_options(ctx) & want, want);
		cr_assert_eq(SSL_CTX_get_read_ahead(ctx), 0);
		cr_assert_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION, "default floor");
		cr_assert_eq(SSL_CTX_get_verify_callback(ctx), tls_ident_verify_cb);
	}
	cr_assert_eq(SSL_CTX_get_verify_mode(p.server),
	             SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	cr_assert_eq(SSL_CTX_get_verify_mode(p.client), SSL_VERIFY_PEER);
	tls_profile_free(&p);
	cr_assert_null(p.server);
	tls_trustpoint_free(&tp.tp);
}

Test(profile, version_names)
{
	cr_assert_eq(tls_profile_version("1.0"), TLS1_VERSION);
	cr_assert_eq(tls_profile_version("1.1"), TLS1_1_VERSION);
	cr_assert_eq(tls_profile_version("1.2"), TLS1_2_VERSION);
	cr_assert_eq(tls_profile_version("1.3"), TLS1_3_VERSION);
	cr_assert_eq(tls_profile_version("1.4"), -EINVAL);
	cr_assert_eq(tls_profile_version("TLSv1.2"), -EINVAL);
	cr_assert_eq(tls_profile_version(""), -EINVAL);
	cr_assert_eq(tls_profile_version(NULL), -EINVAL);
}

Test(profile, config_errors)
{
	struct tfix_tp rsa, ec, anon;
	struct tls_profile p;
	char err[256];
	static const char *const ecdsa[] = {"ECDHE_ECDSA_AES128_GCM_SHA256"};
	struct tls_cipher_list l = ciphers(ecdsa, 1);

	cr_assert_eq(tfix_tp_load(&rsa, &pki, "server-rsa", true, false), 0);
	cr_assert_eq(tfix_tp_load(&ec, &pki, "server-ec", true, false), 0);
	cr_assert_eq(tfix_tp_load(&anon, &pki, "server-rsa", false, false), 0);
	cr_assert_eq(build(&p,
	                   (struct tls_profile_conf){.tag = 5,
	                                             .trustpoint = &rsa.tp,
	                                             .min_version = TLS1_2_VERSION,
	                                             .max_version = TLS1_1_VERSION},
	                   err, sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "tls-profile 5") && strstr(err, "ceiling"), "%s", err);
	/* the guide: ECDSA ciphers are not supported with TLS 1.0 (list or key) */
	cr_assert_eq(
	    build(&p,
	          (struct tls_profile_conf){
	              .tag = 6, .trustpoint = &rsa.tp, .ciphers = &l, .min_version = TLS1_VERSION},
	          err, sizeof(err)),
	    -EINVAL);
	cr_assert(strstr(err, "ECDSA"), "%s", err);
	cr_assert_eq(build(&p,
	                   (struct tls_profile_conf){
	                       .tag = 6, .trustpoint = &ec.tp, .min_version = TLS1_VERSION},
	                   err, sizeof(err)),
	             -EINVAL);
	BUILD_OK(&p, .tag = 6, .trustpoint = &rsa.tp, .min_version = TLS1_VERSION);
	cr_assert_eq(SSL_CTX_get_security_level(p.server), 0, "TLS 1.0 needs level 0");
	tls_profile_free(&p);
	BUILD_OK(&p, .tag = 6, .trustpoint = &ec.tp, .min_version = TLS1_1_VERSION, .ciphers = &l);
	tls_profile_free(&p);
	/* identity checks need a CA, client checks need names */
	cr_assert_eq(build(&p,
	                   (struct tls_profile_conf){
	                       .tag = 7, .trustpoint = &anon.tp, .cn_san_mode = TLS_CN_SAN_SERVER},
	                   err, sizeof(err)),
	             -EINVAL);
	cr_assert_eq(build(&p,
	                   (struct tls_profile_conf){
	                       .tag = 7, .trustpoint = &rsa.tp, .cn_san_mode = TLS_CN_SAN_CLIENT},
	                   err, sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "cn-san"), "%s", err);
	tls_trustpoint_free(&rsa.tp);
	tls_trustpoint_free(&ec.tp);
	tls_trustpoint_free(&anon.tp);
}

/* a bare OpenSSL client: no certificate, no verification, versions [lo, hi], cipher string */
static SSL_CTX *raw_client(int lo, int hi, const char *cipher_list)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, lo);
	SSL_CTX_set_max_proto_version(ctx, hi);
	if (cipher_list)
		cr_assert_eq(SSL_CTX_set_cipher_list(ctx, cipher_list), 1);
	return ctx;
}

Test(profile, version_floor_refuses_tls11_by_default)
{
	struct tfix_tp tp;
	struct tls_profile dflt, old;
	struct tfix_conn k;
	SSL_CTX *c11 = raw_client(TLS1_1_VERSION, TLS1_1_VERSION, NULL);

	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-rsa", false, false), 0);
	BUILD_OK(&dflt, .tag = 1, .trustpoint = &tp.tp);
	BUILD_OK(&old, .tag = 2, .trustpoint = &tp.tp, .min_version = TLS1_1_VERSION);
	cr_assert_neq(tfix_run(&k, c11, dflt.server, NULL), 0);
	cr_assert(k.r.server.failed && k.r.client.failed);
	cr_assert(strstr(k.r.server.reason, "unsupported protocol"), "%s", k.r.server.reason);
	tfix_close(&k);
	/* the same client is accepted when 1.1 is asked for */
	cr_assert_eq(tfix_run(&k, c11, old.server, NULL), 0, "%s", k.r.server.reason);
	cr_assert_str_eq(SSL_get_version(k.s), "TLSv1.1");
	tfix_close(&k);
	SSL_CTX_free(c11);
	tls_profile_free(&dflt);
	tls_profile_free(&old);
	tls_trustpoint_free(&tp.tp);
}

Test(profile, tls10_only_when_asked_and_rsa_only)
{
	struct tfix_tp tp;
	struct tls_profile dflt, old;
	struct tfix_conn k;
	SSL_CTX *c10 = raw_client(TLS1_VERSION, TLS1_VERSION, NULL);

	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-rsa", false, false), 0);
	BUILD_OK(&dflt, .tag = 1, .trustpoint = &tp.tp);
	BUILD_OK(&old, .tag = 2, .trustpoint = &tp.tp, .min_version = TLS1_VERSION);
	cr_assert_neq(tfix_run(&k, c10, dflt.server, NULL), 0);
	tfix_close(&k);
	cr_assert_eq(tfix_run(&k, c10, old.server, NULL), 0, "%s", k.r.server.reason);
	cr_assert_str_eq(SSL_get_version(k.s), "TLSv1");
	cr_assert_null(strstr(SSL_get_cipher_name(k.s), "ECDSA"));
	tfix_close(&k);
	SSL_CTX_free(c10);
	tls_profile_free(&dflt);
	tls_profile_free(&old);
	tls_trustpoint_free(&tp.tp);
}

Test(profile, version_ceiling)
{
	struct tfix_tp tp;
	struct tls_profile p;
	struct tfix_conn k;
	SSL_CTX *c13 = raw_client(TLS1_3_VERSION, TLS1_3_VERSION, NULL);
	SSL_CTX *any = raw_client(TLS1_2_VERSION, 0, NULL);

	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-ec", false, false), 0);
	BUILD_OK(&p, .tag = 1, .trustpoint = &tp.tp, .max_version = TLS1_2_VERSION);
	cr_assert_neq(tfix_run(&k, c13, p.server, NULL), 0);
	tfix_close(&k);
	cr_assert_eq(tfix_run(&k, any, p.server, NULL), 0);
	cr_assert_str_eq(SSL_get_version(k.c), "TLSv1.2");
	tfix_close(&k);
	SSL_CTX_free(c13);
	SSL_CTX_free(any);
	tls_profile_free(&p);
	tls_trustpoint_free(&tp.tp);
}

static const char *negotiate(SSL_CTX *client, SSL_CTX *server, char *buf, size_t n)
{
	struct tfix_conn k;

	buf[0] = '\0';
	if (tfix_run(&k, client, server, NULL) == 0)
		snprintf(buf, n, "%s", SSL_get_cipher_name(k.s));
	tfix_close(&k);
	return buf;
}

Test(profile, server_cipher_preference_wins)
{
	static const char *const order_a[] = {"ECDHE_RSA_AES256_GCM_SHA384",
	                                      "ECDHE RSA AES128 GCM SHA256",
	                                      "RSA_WITH_AES_128_CBC_SHA"};
	static const char *const order_b[] = {"RSA WITH AES 128 CBC SHA",
	                                      "ECDHE_RSA_AES128_GCM_SHA256",
	                                      "ECDHE_RSA_AES256_GCM_SHA384"};
	struct tls_cipher_list la = ciphers(order_a, 3), lb = ciphers(order_b, 3);
	struct tfix_tp tp;
	struct tls_profile a, b;
	char got[64];
	/* the client prefers the reverse of the server's order and offers all three */
	SSL_CTX *c =
	    raw_client(TLS1_2_VERSION, TLS1_2_VERSION,
	               "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");

	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-rsa", false, false), 0);
	BUILD_OK(&a, .tag = 1, .trustpoint = &tp.tp, .ciphers = &la);
	BUILD_OK(&b, .tag = 2, .trustpoint = &tp.tp, .ciphers = &lb);
	cr_assert_str_eq(negotiate(c, a.server, got, sizeof(got)), "ECDHE-RSA-AES256-GCM-SHA384");
	cr_assert_str_eq(negotiate(c, b.server, got, sizeof(got)), "AES128-SHA");
	SSL_CTX_free(c);
	/* a client offering only the server's second choice gets it */
	c = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256");
	cr_assert_str_eq(negotiate(c, a.server, got, sizeof(got)), "ECDHE-RSA-AES128-GCM-SHA256");
	SSL_CTX_free(c);
	tls_profile_free(&a);
	tls_profile_free(&b);
	tls_trustpoint_free(&tp.tp);
}

Test(profile, disjoint_cipher_lists_fail)
{
	static const char *const only[] = {"DHE_RSA_AES256_GCM_SHA384"};
	struct tls_cipher_list l = ciphers(only, 1);
	struct tfix_tp tp;
	struct tls_profile p;
	struct tfix_conn k;
	char got[64];
	SSL_CTX *c = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256");
	SSL_CTX *ok = raw_client(TLS1_2_VERSION, TLS1_2_VERSION, "DHE-RSA-AES256-GCM-SHA384");

	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-rsa", false, false), 0);
	BUILD_OK(&p, .tag = 1, .trustpoint = &tp.tp, .ciphers = &l);
	cr_assert_neq(tfix_run(&k, c, p.server, NULL), 0);
	cr_assert(k.r.server.failed);
	cr_assert(strstr(k.r.server.reason, "no shared cipher"), "%s", k.r.server.reason);
	tfix_close(&k);
	cr_assert_str_eq(negotiate(ok, p.server, got, sizeof(got)), "DHE-RSA-AES256-GCM-SHA384");
	SSL_CTX_free(c);
	SSL_CTX_free(ok);
	tls_profile_free(&p);
	tls_trustpoint_free(&tp.tp);
}

Test(profile, tls13_suites_configurable)
{
	struct tls_cipher_list l = {.tag = 3};
	struct tfix_tp tp;
	struct tls_profile p;
	char err[256], got[64];
	SSL_CTX *c = raw_client(TLS1_3_VERSION, TLS1_3_VERSION, NULL);

	cr_assert_eq(tls_cipher_list_set_tls13(&l, slice_cstr("TLS_CHACHA20_POLY1305_SHA256"), err,
	                                       sizeof(err)),
	             0);
	cr_assert_eq(tfix_tp_load(&tp, &pki, "server-ec", false, false), 0);
	BUILD_OK(&p, .tag = 3, .trustpoint = &tp.tp, .ciphers = &l);
	cr_assert_str_eq(negotiate(c, p.server, got, sizeof(got)), "TLS_CHACHA20_POLY1305_SHA256");
	SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256");
	cr_assert_str_eq(negotiate(c, p.server, got, sizeof(got)), "", "disjoint 1.3 suites fail");
	SSL_CTX_free(c);
	tls_profile_free(&p);
	tls_trustpoint_free(&tp.tp);
}

/* the client profile with `client_leaf` (NULL: no certificate) against server-ec's profile */
static int mtls(const char *client_leaf, const char *server_leaf, bool client_crl,
                struct tfix_conn *k)
{
	struct tfix_tp ctp, stp;
	struct tls_profile cp, sp;
	int rc;

	cr_assert_eq(tfix_tp_load(&stp, &pki, server_leaf, true, false), 0);
	cr_assert_eq(tfix_tp_load(&ctp, &pki, client_leaf, true, client_crl), 0);
	BUILD_OK(&sp, .tag = 1, .trustpoint = &stp.tp);
	BUILD_OK(&cp, .tag = 2, .trustpoint = &ctp.tp);
	rc = tfix_run(k, cp.client, sp.server, &(struct tfix_opts){.target = "sip.acme.co"});
	SSL_free(k->c), SSL_free(k->s);
	k->c = k->s = NULL;
	tls_profile_free(&cp);
	tls_profile_free(&sp);
	tls_trustpoint_free(&ctp.tp);
	tls_trustpoint_free(&stp.tp);
	return rc;
}

Test(profile, mutual_tls)
{
	struct tfix_conn k;

	cr_assert_eq(mtls("client", "server-ec", false, &k), 0, "%s", k.r.server.reason);
	tfix_close(&k);
	cr_assert_neq(mtls(NULL, "server-ec", false, &k), 0, "no client certificate");
	cr_assert(k.r.server.failed);
	tfix_close(&k);
	cr_assert_neq(mtls("unknown", "server-ec", false, &k), 0, "client from an unknown CA");
	cr_assert(k.r.server.failed);
	cr_assert_eq(k.r.server.verify_result, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "%ld",
	             k.r.server.verify_result);
	tfix_close(&k);
	cr_assert_neq(mtls("client", "unknown", false, &k), 0, "server from an unknown CA");
	cr_assert(k.r.client.failed);
	tfix_close(&k);
}

Test(profile, revocation_crl_vs_none)
{
	struct tfix_conn k;

	/* the client checks CRLs: the revoked server certificate fails */
	cr_assert_neq(mtls("client", "revoked", true, &k), 0);
	cr_assert(k.r.client.failed);
	cr_assert_eq(k.r.client.verify_result, X509_V_ERR_CERT_REVOKED);
	tfix_close(&k);
	/* revocation-check none: the same certificate passes */
	cr_assert_eq(mtls("client", "revoked", false, &k), 0);
	tfix_close(&k);
	/* crl on, certificate not revoked: passes (the whole chain has CRLs) */
	cr_assert_eq(mtls("client", "server-ec", true, &k), 0, "%s", k.r.client.reason);
	tfix_close(&k);
}

Test(profile, revoked_client_refused_by_server_crl)
{
	struct tfix_tp ctp, stp;
	struct tls_profile cp, sp;
	struct tfix_conn k;

	cr_assert_eq(tfix_tp_load(&stp, &pki, "server-ec", true, true), 0);
	cr_assert_eq(tfix_tp_load(&ctp, &pki, "revoked", true, false), 0);
	BUILD_OK(&sp, .tag = 1, .trustpoint = &stp.tp);
	BUILD_OK(&cp, .tag = 2, .trustpoint = &ctp.tp);
	cr_assert_neq(tfix_run(&k, cp.client, sp.server, NULL), 0);
	cr_assert(k.r.server.failed);
	cr_assert_eq(k.r.server.verify_result, X509_V_ERR_CERT_REVOKED);
	tfix_close(&k);
	tls_profile_free(&cp);
	tls_profile_free(&sp);
	tls_trustpoint_free(&ctp.tp);
	tls_trustpoint_free(&stp.tp);
}

/* writes only the intermediate's CRL (the second in crl.pem) to int-crl.pem */
static const char *intermediate_crl_only(void)
{
	FILE *in = fopen(tpki_path(&pki, "crl.pem"), "r");
	X509_CRL *root = PEM_read_X509_CRL(in, NULL, NULL, NULL);
	X509_CRL *inter = PEM_read_X509_CRL(in, NULL, NULL, NULL);
	const char *path = tpki_path(&pki, "int-crl.pem");
	FILE *out = fopen(path, "w");

	cr_assert(root && inter && out);
	PEM_write_X509_CRL(out, inter);
	fclose(out);
	fclose(in);
	X509_CRL_free(root);
	X509_CRL_free(inter);
	return path;
}

Test(profile, crl_checks_whole_chain_and_none_soft_fails)
{
	struct tfix_tp ctp[2], stp;
	struct tls_profile cp, sp;
	struct tfix_conn k;
	char err[256];
	const char *crl = intermediate_crl_only();

	cr_assert_eq(tfix_tp_load(&stp, &pki, "server-ec", true, false), 0);
	BUILD_OK(&sp, .tag = 1, .trustpoint = &stp.tp);
	for (int soft = 0; soft < 2; soft++) {
		tfix_tp_init(&ctp[soft], &pki, "client", true, true);
		snprintf(ctp[soft].crl, sizeof(ctp[soft].crl), "%s", crl);
		ctp[soft].conf.revocation[1] = TLS_REVOKE_NONE;
		ctp[soft].conf.n_revocation = soft ? 2 : 1;
		cr_assert_eq(tls_trustpoint_load(&ctp[soft].tp, &ctp[soft].conf, err, sizeof(err)),
		             0);
		BUILD_OK(&cp, .tag = 2, .trustpoint = &ctp[soft].tp);
		/* the root's CRL (for the intermediate) is missing */
		if (soft) {
			cr_assert_eq(tfix_run(&k, cp.client, sp.server, NULL), 0, "%s",
			             k.r.client.reason);
		} else {
			cr_assert_neq(tfix_run(&k, cp.client, sp.server, NULL), 0);
			cr_assert_eq(k.r.client.verify_result, X509_V_ERR_UNABLE_TO_GET_CRL);
		}
		tfix_close(&k);
		tls_profile_free(&cp);
		tls_trustpoint_free(&ctp[soft].tp);
	}
	tls_profile_free(&sp);
	tls_trustpoint_free(&stp.tp);
}

Test(profile, expired_peer_certificate_fails)
{
	struct tfix_tp ctp;
	struct tls_profile cp;
	struct tfix_conn k;
	SSL_CTX *s = SSL_CTX_new(TLS_server_method());

	/* our own trustpoint refuses an expired certificate, so serve it with a bare context */
	cr_assert_eq(SSL_CTX_use_certificate_chain_file(s, tpki_path(&pki, "expired.crt")), 1);
	cr_assert_eq(
	    SSL_CTX_use_PrivateKey_file(s, tpki_path(&pki, "expired.key"), SSL_FILETYPE_PEM), 1);
	cr_assert_eq(tfix_tp_load(&ctp, &pki, "client", true, false), 0);
	BUILD_OK(&cp, .tag = 2, .trustpoint = &ctp.tp);
	cr_assert_neq(tfix_run(&k, cp.client, s, NULL), 0);
	cr_assert_eq(k.r.client.verify_result, X509_V_ERR_CERT_HAS_EXPIRED);
	tfix_close(&k);
	SSL_CTX_free(s);
	tls_profile_free(&cp);
	tls_trustpoint_free(&ctp.tp);
}
