/* tests for tls/ident.c: RFC 6125 matching, the cn-san mode matrix over loopback handshakes,
 * the guide's syslog line and the per-side counters */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/log.h"
#include "tests/tls/support/fix.h"

static struct slice S(const char *s) {
	return slice_cstr(s);
}

Test(ident_name, rfc6125_wildcards)
{
	cr_assert(tls_ident_name_match(S("sip.acme.co"), S("SIP.Acme.CO")));
	cr_assert(tls_ident_name_match(S("*.acme.co"), S("pbx.acme.co")));
	cr_assert(tls_ident_name_match(S("*.ACME.co"), S("pbx.acme.CO")));
	cr_assert_not(tls_ident_name_match(S("*.acme.co"), S("acme.co")), "one whole label");
	cr_assert_not(tls_ident_name_match(S("*.acme.co"), S("a.b.acme.co")), "only one label");
	cr_assert_not(tls_ident_name_match(S("*.acme.co"), S(".acme.co")), "empty label");
	cr_assert_not(tls_ident_name_match(S("*.co"), S("acme.co")), "two labels after *");
	cr_assert_not(tls_ident_name_match(S("p*.acme.co"), S("pbx.acme.co")), "partial wildcard");
	cr_assert_not(tls_ident_name_match(S("*.*.co"), S("a.acme.co")), "one wildcard at most");
	cr_assert_not(tls_ident_name_match(S("sip.*.co"), S("sip.acme.co")), "left-most only");
	cr_assert_not(tls_ident_name_match(S("sip.acme.co"), S("sip.acme.com")));
	cr_assert_not(tls_ident_name_match(S(""), S("")));
	cr_assert_not(tls_ident_name_match(S("*"), S("sip")));
}

static X509 *load(const struct tpki *pki, const char *file)
{
	FILE *f = fopen(tpki_path(pki, file), "r");
	X509 *x;

	cr_assert_not_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(x);
	return x;
}

static struct tpki pki;

static void setup(void)
{
	cr_assert_eq(tpki_create(&pki), 0);
}

static void teardown(void)
{
	tpki_destroy(&pki);
}

Test(ident_cert, server_certificate_against_targets, .init = setup, .fini = teardown)
{
	static const struct {
		const char *cert, *target;
		bool ok;
	} rows[] = {
	    {"server-ec", "sip.acme.co", true},
	    {"server-ec", "ALT.acme.co", true},
	    {"server-ec", "other.acme.co", false},
	    {"server-ec", "acme.co", false},
	    {"wildcard", "pbx.acme.co", true},
	    {"wildcard", "a.b.acme.co", false},
	    {"wildcard", "acme.co", false},
	    {"cn-only", "cnonly.acme.co", true},
	    {"cn-only", "other.acme.co", false},
	    {"ip", "127.0.0.1", true},
	    {"ip", "::1", true},
	    {"ip", "[::1]", true},
	    {"ip", "127.0.0.2", false},
	    {"server-ec", "127.0.0.1", false},
	    {"ip", "ip.acme.co", true},
	    /* a SAN dNSName is present: the CN is not consulted (RFC 6125 6.4.4) */
	    {"ip", "ipcn.acme.co", false},
	    {"server-ec", "", false},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char file[64];
		X509 *x;

		snprintf(file, sizeof(file), "%s.crt", rows[i].cert);
		x = load(&pki, file);
		cr_expect_eq(tls_ident_check_server(x, rows[i].target), rows[i].ok, "%s vs %s",
		             rows[i].cert, rows[i].target);
		X509_free(x);
	}
	cr_assert_not(tls_ident_check_server(NULL, "sip.acme.co"));
}

Test(ident_cert, client_certificate_against_permitted, .init = setup, .fini = teardown)
{
	static const char *const exact[] = {"client.acme.co"};
	static const char *const wild[] = {"*.tenant.acme.co"};
	static const char *const shallow[] = {"*.acme.co"};
	static const char *const cn[] = {"nomatch.example", NULL, "PBX1.tenant.acme.co"};
	static const char *const ipcn[] = {"ipcn.acme.co"};
	static const struct {
		const char *cert;
		const char *const *permitted;
		unsigned n;
		bool ok;
	} rows[] = {
	    {"client", exact, 1, true},
	    {"client-other", exact, 1, false},
	    {"client-cn", wild, 1, true},
	    {"client-cn", shallow, 1, false},
	    {"client", shallow, 1, true},
	    {"client-cn", cn, 3, true},
	    {"client", cn, 3, false},
	    {"client", exact, 0, false},
	    /* inbound: the CN counts even beside a SAN (the guide: "CN or SAN") */
	    {"ip", ipcn, 1, true},
	    /* a wildcard certificate only matches the same wildcard entry */
	    {"wildcard", exact, 1, false},
	    {"wildcard", shallow, 1, true},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char file[64];
		X509 *x;

		snprintf(file, sizeof(file), "%s.crt", rows[i].cert);
		x = load(&pki, file);
		cr_expect_eq(tls_ident_check_client(x, rows[i].permitted, rows[i].n), rows[i].ok,
		             "row %zu: %s", i, rows[i].cert);
		X509_free(x);
	}
}

Test(ident_line, format_ipv4_and_ipv6)
{
	struct tls_ident_ctx c = {.tenant = 1};
	struct sockaddr_in *r = (struct sockaddr_in *)&c.remote,
	                   *l = (struct sockaddr_in *)&c.local;
	struct sockaddr_in6 *r6 = (struct sockaddr_in6 *)&c.remote;
	char line[512];

	r->sin_family = l->sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.254", &r->sin_addr);
	r->sin_port = htons(36233);
	inet_pton(AF_INET, "203.0.113.254", &l->sin_addr);
	l->sin_port = htons(3000);
	cr_assert_gt(tls_ident_format_failure(&c, line, sizeof(line)), 0);
	/* the guide's example, byte for byte */
	cr_assert_str_eq(line,
	                 "%SIP-2-TLS_HANDSHAKE_FAILED :Peer certificate identity check failed "
	                 "- remote_addr=198.51.100.254, remote_port=36233, "
	                 "local_addr=203.0.113.254, local_port=3000, vrf=, tenant=1");
	memset(&c.remote, 0, sizeof(c.remote));
	r6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &r6->sin6_addr);
	r6->sin6_port = htons(5061);
	c.tenant = 200;
	tls_ident_format_failure(&c, line, sizeof(line));
	cr_assert(strstr(line, "remote_addr=2001:db8::1, remote_port=5061, local_addr=203.0.113.254"
	                       ", local_port=3000, vrf=, tenant=200"),
	          "%s", line);
}

/* ---- handshake matrix ---- */

struct side {
	const char *leaf;
	enum tls_cn_san_mode mode;
};

struct outcome {
	int rc;
	struct tls_stats cs, ss; /* client's and server's counters */
	bool verified;           /* server: tls_ident_verified */
	bool client_failed, server_failed;
	struct tfix_log log;
	char want_client_line[512], want_server_line[512];
};

static const char *const permitted[] = {"client.acme.co", "*.tenant.acme.co"};

static void run(struct side server, struct side client, const char *target, struct outcome *o)
{
	struct tfix_tp stp, ctp;
	struct tls_profile sp, cp;
	struct tfix_conn k;
	char err[256];
	struct tls_profile_conf sc = {.tag = 1,
	                              .trustpoint = &stp.tp,
	                              .cn_san_mode = server.mode,
	                              .cn_san = {permitted[0], permitted[1]},
	                              .n_cn_san = 2};
	struct tls_profile_conf cc = {.tag = 2,
	                              .trustpoint = &ctp.tp,
	                              .cn_san_mode = client.mode,
	                              .cn_san = {"unused.acme.co"},
	                              .n_cn_san = 1};

	memset(o, 0, sizeof(*o));
	cr_assert_eq(tfix_tp_load(&stp, &pki, server.leaf, true, false), 0);
	cr_assert_eq(tfix_tp_load(&ctp, &pki, client.leaf, true, false), 0);
	cr_assert_eq(tls_profile_build(&sp, &sc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tls_profile_build(&cp, &cc, err, sizeof(err)), 0, "%s", err);
	tfix_log_capture(&o->log);
	o->rc = tfix_run(&k, cp.client, sp.server,
	                 &(struct tfix_opts){.target = target,
	                                     .client_tenant = 10,
	                                     .server_tenant = 20,
	                                     .client_stats = &o->cs,
	                                     .server_stats = &o->ss});
	tfix_log_stop();
	o->verified = tls_ident_verified(k.s);
	o->client_failed = tls_ident_failed(k.c);
	o->server_failed = tls_ident_failed(k.s);
	tls_ident_format_failure(&k.cid, o->want_client_line, sizeof(o->want_client_line));
	tls_ident_format_failure(&k.sid, o->want_server_line, sizeof(o->want_server_line));
	tfix_close(&k);
	tls_profile_free(&sp);
	tls_profile_free(&cp);
	tls_trustpoint_free(&stp.tp);
	tls_trustpoint_free(&ctp.tp);
}

static bool checks_outbound(enum tls_cn_san_mode m)
{
	return m == TLS_CN_SAN_SERVER || m == TLS_CN_SAN_BIDIRECTIONAL;
}

static bool checks_inbound(enum tls_cn_san_mode m)
{
	return m == TLS_CN_SAN_CLIENT || m == TLS_CN_SAN_BIDIRECTIONAL;
}

/* one mode on both ends against every case; what must fail is derived from the mode */
static void matrix(enum tls_cn_san_mode mode)
{
	static const struct {
		const char *server_leaf, *target, *client_leaf;
		bool target_ok, client_ok;
	} rows[] = {
	    {"server-ec", "sip.acme.co", "client", true, true},        /* matching */
	    {"server-rsa", "other.acme.co", "client", false, true},    /* non-matching target */
	    {"server-ec", "sip.acme.co", "client-other", true, false}, /* non-matching client */
	    {"wildcard", "pbx.acme.co", "client-cn", true, true},      /* wildcard both ways */
	    {"wildcard", "a.pbx.acme.co", "client", false, true},      /* wildcard, 2 labels */
	    {"cn-only", "cnonly.acme.co", "client-cn", true, true},    /* CN-only both ways */
	    {"cn-only", "sip.acme.co", "client", false, true},         /* CN-only mismatch */
	    {"ip", "127.0.0.1", "client", true, true},                 /* IP target */
	    {"server-ec", "127.0.0.1", "client", false, true},         /* IP not in SAN */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct outcome o;
		bool out_fail = checks_outbound(mode) && !rows[i].target_ok;
		/* the server only sees the client's certificate if the client went on */
		bool in_fail = !out_fail && checks_inbound(mode) && !rows[i].client_ok;

		run((struct side){rows[i].server_leaf, mode},
		    (struct side){rows[i].client_leaf, mode}, rows[i].target, &o);
		cr_expect_eq(o.rc == 0, !out_fail && !in_fail, "mode %d row %zu", mode, i);
		cr_expect_eq(o.cs.client_identity_failures, out_fail, "mode %d row %zu", mode, i);
		cr_expect_eq(o.ss.server_identity_failures, in_fail, "mode %d row %zu", mode, i);
		cr_expect_eq(o.cs.server_identity_failures + o.ss.client_identity_failures, 0);
		cr_expect_eq(o.client_failed, out_fail);
		cr_expect_eq(o.server_failed, in_fail);
		/* our side's handshake counter: the outbound failure counts on the client, the
		 * inbound one on the server; nothing counts on the wrong side */
		cr_expect_eq(o.cs.client_handshake_failures, out_fail, "mode %d row %zu", mode, i);
		cr_expect_eq(o.ss.server_handshake_failures, out_fail || in_fail, "row %zu", i);
		cr_expect_eq(o.cs.server_handshake_failures + o.ss.client_handshake_failures, 0);
		cr_expect_eq(o.verified, checks_inbound(mode) && !out_fail && !in_fail,
		             "mode %d row %zu", mode, i);
		cr_expect_eq(o.log.n, out_fail || in_fail, "mode %d row %zu", mode, i);
		if (o.log.n) {
			cr_expect_eq(o.log.level[0], LOG_CRIT);
			cr_expect_str_eq(o.log.line[0],
			                 out_fail ? o.want_client_line : o.want_server_line);
		}
	}
}

Test(ident_matrix, off, .init = setup, .fini = teardown)
{
	matrix(TLS_CN_SAN_OFF);
}

Test(ident_matrix, server, .init = setup, .fini = teardown)
{
	matrix(TLS_CN_SAN_SERVER);
}

Test(ident_matrix, client, .init = setup, .fini = teardown)
{
	matrix(TLS_CN_SAN_CLIENT);
}

Test(ident_matrix, bidirectional, .init = setup, .fini = teardown)
{
	matrix(TLS_CN_SAN_BIDIRECTIONAL);
}

Test(ident_matrix, exact_syslog_line_for_inbound_failure, .init = setup, .fini = teardown)
{
	struct outcome o;
	char want[512];
	unsigned lport, rport;

	run((struct side){"server-ec", TLS_CN_SAN_CLIENT}, (struct side){"client-other", 0},
	    "sip.acme.co", &o);
	cr_assert_neq(o.rc, 0);
	cr_assert_eq(o.log.n, 1);
	cr_assert_eq(sscanf(o.want_server_line, "%*[^,], remote_port=%u, %*[^,], local_port=%u",
	                    &rport, &lport),
	             2);
	snprintf(
	    want, sizeof(want),
	    "%%SIP-2-TLS_HANDSHAKE_FAILED :Peer certificate identity check failed - "
	    "remote_addr=127.0.0.1, remote_port=%u, local_addr=127.0.0.1, local_port=%u, vrf=, "
	    "tenant=20",
	    rport, lport);
	cr_assert_str_eq(o.log.line[0], want);
	cr_assert_neq(rport, lport);
	cr_assert_eq(o.ss.server_handshake_failures, 1);
	cr_assert_eq(o.cs.client_handshake_failures, 0,
	             "the client's handshake completed (TLS 1.3)");
}

Test(ident_matrix, chain_failure_counts_but_does_not_log_identity, .init = setup, .fini = teardown)
{
	struct outcome o;

	run((struct side){"server-ec", TLS_CN_SAN_CLIENT}, (struct side){"unknown", 0},
	    "sip.acme.co", &o);
	cr_assert_neq(o.rc, 0);
	cr_assert_eq(o.log.n, 0, "%s", o.log.line[0]);
	cr_assert_eq(o.ss.server_handshake_failures, 1);
	cr_assert_eq(o.ss.server_identity_failures, 0);
	cr_assert_not(o.verified);
}

/* a resumed session runs no certificate verification: the verified mark must still be right */
static void resume(const char *client_leaf, bool want_verified)
{
	struct tfix_tp stp, ctp;
	struct tls_profile sp, cp;
	struct tfix_conn k;
	SSL_SESSION *sess;
	char err[256];
	struct tls_profile_conf sc = {.tag = 1,
	                              .trustpoint = &stp.tp,
	                              .cn_san_mode = TLS_CN_SAN_CLIENT,
	                              .cn_san = {"client.acme.co"},
	                              .n_cn_san = 1};
	struct tls_profile_conf cc = {.tag = 2, .trustpoint = &ctp.tp};

	cr_assert_eq(tfix_tp_load(&stp, &pki, "server-ec", true, false), 0);
	cr_assert_eq(tfix_tp_load(&ctp, &pki, client_leaf, true, false), 0);
	cr_assert_eq(tls_profile_build(&sp, &sc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tls_profile_build(&cp, &cc, err, sizeof(err)), 0, "%s", err);
	/* TLS 1.2 so that a session exists even when the first handshake's check failed */
	SSL_CTX_set_max_proto_version(cp.client, TLS1_2_VERSION);
	SSL_CTX_set_verify(sp.server, SSL_VERIFY_PEER, NULL); /* plain mTLS issues the session */
	cr_assert_eq(tfix_run(&k, cp.client, sp.server, NULL), 0);
	sess = SSL_get1_session(k.c);
	tfix_close(&k);
	cr_assert_not_null(sess);
	SSL_CTX_set_verify(sp.server, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
	                   tls_ident_verify_cb);
	cr_assert_eq(tfix_run(&k, cp.client, sp.server, &(struct tfix_opts){.session = sess}), 0);
	cr_assert(SSL_session_reused(k.s), "the session was resumed");
	cr_assert_eq(tls_ident_verified(k.s), want_verified, "%s", client_leaf);
	tfix_close(&k);
	SSL_SESSION_free(sess);
	tls_profile_free(&sp);
	tls_profile_free(&cp);
	tls_trustpoint_free(&stp.tp);
	tls_trustpoint_free(&ctp.tp);
}

Test(ident_matrix, resumed_session_is_checked_too, .init = setup, .fini = teardown)
{
	resume("client", true);
	resume("client-other", false);
}
