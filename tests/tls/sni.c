/* tests for tls/sni.c: SNI send, tenant selection among several server contexts on one listen
 * address, and the real `openssl s_client` against such a listener */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/log.h"
#include "tests/tls/support/fix.h"

static struct tpki pki;

/* tenant 1 (default): server-ec, no CA, TLS 1.2-1.3.
 * tenant 2 (sip.beta.net): beta (RSA), CA with mutual TLS, cn-san client client.acme.co,
 * TLS 1.2 only, one cipher. Client: trusts the CA, presents "client", cn-san server. */
static struct tfix_tp tp_a, tp_b, tp_c, tp_anon;
static struct tls_profile pa, pb, pc, pc_nosni, pc_anon;
static struct tls_cipher_list lb;
static struct tls_sni_table tbl;

static void build(struct tls_profile *p, struct tls_profile_conf c)
{
	char err[256];

	cr_assert_eq(tls_profile_build(p, &c, err, sizeof(err)), 0, "%s", err);
}

static void setup(void)
{
	char err[256];

	cr_assert_eq(tpki_create(&pki), 0);
	cr_assert_eq(tfix_tp_load(&tp_a, &pki, "server-ec", false, false), 0);
	cr_assert_eq(tfix_tp_load(&tp_b, &pki, "beta", true, false), 0);
	cr_assert_eq(tfix_tp_load(&tp_c, &pki, "client", true, false), 0);
	cr_assert_eq(tfix_tp_load(&tp_anon, &pki, NULL, true, false), 0);
	memset(&lb, 0, sizeof(lb));
	cr_assert_eq(tls_cipher_list_add(&lb, 1, slice_cstr("ECDHE_RSA_AES128_GCM_SHA256"), err,
	                                 sizeof(err)),
	             0);
	build(&pa, (struct tls_profile_conf){.tag = 1, .trustpoint = &tp_a.tp});
	build(&pb, (struct tls_profile_conf){.tag = 2,
	                                     .trustpoint = &tp_b.tp,
	                                     .ciphers = &lb,
	                                     .max_version = TLS1_2_VERSION,
	                                     .cn_san_mode = TLS_CN_SAN_CLIENT,
	                                     .cn_san = {"client.acme.co"},
	                                     .n_cn_san = 1});
	build(&pc, (struct tls_profile_conf){.tag = 3,
	                                     .trustpoint = &tp_c.tp,
	                                     .sni_send = true,
	                                     .cn_san_mode = TLS_CN_SAN_SERVER});
	build(&pc_nosni, (struct tls_profile_conf){
	                     .tag = 4, .trustpoint = &tp_c.tp, .cn_san_mode = TLS_CN_SAN_SERVER});
	build(&pc_anon,
	      (struct tls_profile_conf){.tag = 5, .trustpoint = &tp_anon.tp, .sni_send = true});
	memset(&tbl, 0, sizeof(tbl));
	tbl.dflt = (struct tls_sni_tenant){.tenant = 1, .profile = &pa};
	tbl.t[0] = (struct tls_sni_tenant){.name = "sip.beta.net", .tenant = 2, .profile = &pb};
	tbl.n = 1;
}

static void teardown(void)
{
	tls_profile_free(&pa);
	tls_profile_free(&pb);
	tls_profile_free(&pc);
	tls_profile_free(&pc_nosni);
	tls_profile_free(&pc_anon);
	tls_trustpoint_free(&tp_a.tp);
	tls_trustpoint_free(&tp_b.tp);
	tls_trustpoint_free(&tp_c.tp);
	tls_trustpoint_free(&tp_anon.tp);
	tpki_destroy(&pki);
}

TestSuite(sni, .init = setup, .fini = teardown);

static const char *peer_cn(SSL *ssl, char *buf, size_t n)
{
	X509 *x = SSL_get1_peer_certificate(ssl);

	buf[0] = '\0';
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)n);
	X509_free(x);
	return buf;
}

Test(sni, send_puts_host_name_never_ip_literal)
{
	static const struct {
		const char *target;
		int sent;
	} rows[] = {{"sip.acme.co", 1}, {"127.0.0.1", 0}, {"::1", 0},
	            {"[::1]", 0},       {"", 0},          {NULL, 0}};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		SSL *ssl = SSL_new(pc.client), *off = SSL_new(pc_nosni.client);

		cr_assert_eq(tls_sni_client_set(ssl, &pc, rows[i].target), rows[i].sent, "%zu", i);
		cr_assert_eq(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) != NULL,
		             rows[i].sent == 1);
		cr_assert_eq(tls_sni_client_set(off, &pc_nosni, rows[i].target), 0,
		             "no `sni send`: never");
		SSL_free(ssl);
		SSL_free(off);
	}
}

Test(sni, server_sees_the_name)
{
	struct tfix_conn k;

	cr_assert_eq(
	    tfix_run(&k, pc_anon.client, pa.server,
	             &(struct tfix_opts){.target = "sip.acme.co", .client_profile = &pc_anon}),
	    0);
	cr_assert_str_eq(SSL_get_servername(k.s, TLSEXT_NAMETYPE_host_name), "sip.acme.co");
	cr_assert_eq(tls_sni_chosen(k.s), -1, "no table attached");
	tfix_close(&k);
	cr_assert_eq(
	    tfix_run(&k, pc_anon.client, pa.server,
	             &(struct tfix_opts){.target = "127.0.0.1", .client_profile = &pc_anon}),
	    0);
	cr_assert_null(SSL_get_servername(k.s, TLSEXT_NAMETYPE_host_name));
	tfix_close(&k);
}

Test(sni, lookup_prefers_exact_then_wildcard_then_default)
{
	struct tls_sni_table t = {.dflt = {.tenant = 9}};

	t.t[0] = (struct tls_sni_tenant){.name = "*.acme.co", .tenant = 1};
	t.t[1] = (struct tls_sni_tenant){.name = "sip.acme.co", .tenant = 2};
	t.t[2] = (struct tls_sni_tenant){.name = "sip.beta.net", .tenant = 3};
	t.n = 3;
	cr_assert_eq(tls_sni_lookup(&t, "sip.acme.co")->tenant, 2);
	cr_assert_eq(tls_sni_lookup(&t, "SIP.BETA.NET")->tenant, 3);
	cr_assert_eq(tls_sni_lookup(&t, "pbx.acme.co")->tenant, 1);
	cr_assert_eq(tls_sni_lookup(&t, "a.pbx.acme.co")->tenant, 9);
	cr_assert_eq(tls_sni_lookup(&t, "other.net")->tenant, 9);
	cr_assert_eq(tls_sni_lookup(&t, "")->tenant, 9);
	cr_assert_eq(tls_sni_lookup(&t, NULL)->tenant, 9);
}

/* one connection from client profile cp (target -> SNI) to the shared listener */
static int dial(const struct tls_profile *cp, const char *target, struct tfix_conn *k,
                struct tls_stats *ss)
{
	return tfix_run(k, cp->client, tbl.dflt.profile->server,
	                &(struct tfix_opts){.target = target,
	                                    .client_profile = cp,
	                                    .sni = &tbl,
	                                    .server_tenant = 0,
	                                    .server_stats = ss});
}

Test(sni, selects_tenant_certificate_and_policy)
{
	struct tfix_conn k;
	char cn[64];

	/* SNI sip.beta.net: tenant 2's RSA certificate, its cipher and version ceiling, and its
	 * mutual TLS with the cn-san client check */
	cr_assert_eq(dial(&pc, "sip.beta.net", &k, NULL), 0, "%s / %s", k.r.client.reason,
	             k.r.server.reason);
	cr_assert_eq(tls_sni_chosen(k.s), 2);
	cr_assert_str_eq(peer_cn(k.c, cn, sizeof(cn)), "sip.beta.net");
	cr_assert_str_eq(SSL_get_version(k.s), "TLSv1.2");
	cr_assert_str_eq(SSL_get_cipher_name(k.s), "ECDHE-RSA-AES128-GCM-SHA256");
	cr_assert(tls_ident_verified(k.s), "tenant 2 checked the client's CN/SAN");
	cr_assert_eq(tls_profile_of(k.s), &pb);
	tfix_close(&k);
	/* SNI sip.acme.co (unknown to the table): the default tenant */
	cr_assert_eq(dial(&pc, "sip.acme.co", &k, NULL), 0, "%s", k.r.client.reason);
	cr_assert_eq(tls_sni_chosen(k.s), 1);
	cr_assert_str_eq(peer_cn(k.c, cn, sizeof(cn)), "sip.acme.co");
	cr_assert_str_eq(SSL_get_version(k.s), "TLSv1.3");
	cr_assert_not(tls_ident_verified(k.s));
	cr_assert_null(SSL_get_peer_certificate(k.s), "tenant 1 asks for no client certificate");
	tfix_close(&k);
	/* no SNI (IP target): the default tenant */
	cr_assert_eq(tfix_run(&k, pc_anon.client, pa.server,
	                      &(struct tfix_opts){
	                          .target = "127.0.0.1", .client_profile = &pc_anon, .sni = &tbl}),
	             0);
	cr_assert_eq(tls_sni_chosen(k.s), 1);
	tfix_close(&k);
}

Test(sni, chosen_tenant_policy_rejects_and_logs_its_tenant)
{
	struct tfix_conn k;
	struct tls_stats ss = {0};
	struct tfix_log log;

	/* tenant 2 requires a client certificate: the anonymous client is refused there ... */
	cr_assert_neq(dial(&pc_anon, "sip.beta.net", &k, &ss), 0);
	cr_assert_eq(tls_sni_chosen(k.s), 2);
	cr_assert_eq(ss.server_handshake_failures, 1);
	tfix_close(&k);
	/* ... and a client whose name tenant 2 does not permit fails its cn-san check, logged
	 * with tenant=2 although the connection was attached as tenant 0 */
	{
		struct tfix_tp other;
		struct tls_profile po;
		char err[256];
		struct tls_profile_conf c = {.tag = 6, .trustpoint = &other.tp, .sni_send = true};

		cr_assert_eq(tfix_tp_load(&other, &pki, "client-other", true, false), 0);
		cr_assert_eq(tls_profile_build(&po, &c, err, sizeof(err)), 0, "%s", err);
		tfix_log_capture(&log);
		cr_assert_neq(dial(&po, "sip.beta.net", &k, &ss), 0);
		tfix_log_stop();
		cr_assert_eq(log.n, 1);
		cr_assert(strstr(log.line[0], ", vrf=, tenant=2"), "%s", log.line[0]);
		cr_assert_eq(ss.server_handshake_failures, 2);
		cr_assert_eq(ss.server_identity_failures, 1);
		tfix_close(&k);
		tls_profile_free(&po);
		tls_trustpoint_free(&other.tp);
	}
	/* the default tenant takes the anonymous client */
	cr_assert_eq(dial(&pc_anon, "sip.acme.co", &k, &ss), 0);
	tfix_close(&k);
}

/* ---- the real openssl s_client ---- */

struct sclient {
	pid_t pid;
	int out;   /* its stdout+stderr */
	int stdin; /* held open until the server is done, so s_client stays to read alerts */
};

static int listen_any(unsigned *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, 1) == 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static void sclient_start(struct sclient *sc, unsigned port, const char *servername, bool cert)
{
	int out[2], in[2];
	char connect[32];

	snprintf(connect, sizeof(connect), "127.0.0.1:%u", port);
	cr_assert(pipe(out) == 0 && pipe(in) == 0);
	sc->pid = fork();
	cr_assert_geq(sc->pid, 0);
	if (sc->pid == 0) {
		const char *argv[20] = {"openssl",  "s_client",
		                        "-connect", connect,
		                        "-brief",   "-verify_return_error",
		                        "-CAfile",  tpki_path(&pki, "ca.crt")};
		int n = 8;

		if (servername) {
			argv[n++] = "-servername";
			argv[n++] = servername;
		} else {
			argv[n++] = "-noservername";
		}
		if (cert) {
			argv[n++] = "-cert";
			argv[n++] = tpki_path(&pki, "client.crt");
			argv[n++] = "-cert_chain"; /* -cert reads the leaf only */
			argv[n++] = tpki_path(&pki, "client.crt");
			argv[n++] = "-key";
			argv[n++] = tpki_path(&pki, "client.key");
		}
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(in[1]);
		close(out[0]);
		execvp("openssl", (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	sc->out = out[0];
	sc->stdin = in[1];
}

/* server side: accept, handshake (poll-driven), then read until the client goes */
static SSL *serve_one(int lfd, struct tls_stats *ss)
{
	int fd = accept(lfd, NULL, NULL);
	SSL *ssl;
	struct tls_ident_ctx ic = {.stats = ss};
	socklen_t len = sizeof(ic.local);
	int rc = 0;

	cr_assert_geq(fd, 0);
	getsockname(fd, (struct sockaddr *)&ic.local, &len);
	len = sizeof(ic.remote);
	getpeername(fd, (struct sockaddr *)&ic.remote, &len);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ssl = ths_ssl(tbl.dflt.profile->server, fd, true);
	cr_assert_eq(tls_ident_attach(ssl, &ic), 0);
	cr_assert_eq(tls_sni_attach(ssl, &tbl), 0);
	for (int waited = 0; waited < 10000; waited += 20) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		rc = SSL_do_handshake(ssl);
		if (rc == 1 || SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ)
			break;
		poll(&p, 1, 20);
	}
	if (rc != 1)
		tls_ident_handshake_failed(ssl);
	ERR_clear_error();
	return ssl;
}

/* appends s_client's output to out until it holds `needle` (NULL: until EOF) or timeout_ms */
static void sclient_read(int fd, char *out, size_t n, size_t *got, const char *needle,
                         int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms && *got + 1 < n; waited += 20) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (needle && strstr(out, needle))
			return;
		if (poll(&p, 1, 20) <= 0)
			continue;
		r = read(fd, out + *got, n - 1 - *got);
		if (r <= 0)
			return;
		*got += (size_t)r;
		out[*got] = '\0';
	}
}

static void sclient_finish(struct sclient *sc, SSL *ssl, char *out, size_t n)
{
	size_t got = 0;
	int status;

	out[0] = '\0';
	if (SSL_is_init_finished(ssl)) {
		SSL_write(ssl, "OK\n", 3); /* s_client prints what it reads */
		sclient_read(sc->out, out, n, &got, "OK\n", 10000);
		SSL_shutdown(ssl);
	} else {
		sclient_read(sc->out, out, n, &got, "alert", 10000); /* let it read the alert */
	}
	close(sc->stdin);
	sclient_read(sc->out, out, n, &got, NULL, 10000);
	close(sc->out);
	waitpid(sc->pid, &status, 0);
	close(SSL_get_fd(ssl));
	SSL_free(ssl);
}

static void sclient_run(const char *servername, bool cert, struct tls_stats *ss, char *out,
                        size_t n, int *tenant)
{
	struct sclient sc;
	unsigned port;
	int lfd = listen_any(&port);
	SSL *ssl;

	sclient_start(&sc, port, servername, cert);
	ssl = serve_one(lfd, ss);
	*tenant = tls_sni_chosen(ssl);
	sclient_finish(&sc, ssl, out, n);
	close(lfd);
	cr_log_info("s_client %s %s:\n%s", servername ? servername : "(no SNI)",
	            cert ? "with cert" : "without cert", out);
}

Test(sni, openssl_s_client)
{
	struct tls_stats ss = {0};
	char out[8192];
	int tenant;

	if (system("openssl version >/dev/null 2>&1") != 0)
		cr_skip_test("no openssl CLI");
	signal(SIGPIPE, SIG_IGN);
	/* tenant 2 by SNI, with a client certificate: mutual TLS, RSA cert, TLS 1.2 */
	sclient_run("sip.beta.net", true, &ss, out, sizeof(out), &tenant);
	cr_assert_eq(tenant, 2);
	cr_assert(strstr(out, "CONNECTION ESTABLISHED"), "%s", out);
	cr_assert(strstr(out, "Protocol version: TLSv1.2"), "%s", out);
	cr_assert(strstr(out, "Ciphersuite: ECDHE-RSA-AES128-GCM-SHA256"), "%s", out);
	cr_assert(strstr(out, "CN = sip.beta.net"), "%s", out);
	cr_assert(strstr(out, "Verification: OK"), "%s", out);
	cr_assert(strstr(out, "OK\n"), "the server's data arrived: %s", out);
	cr_assert_eq(ss.server_handshake_failures, 0);
	/* tenant 2 without a client certificate: refused */
	sclient_run("sip.beta.net", false, &ss, out, sizeof(out), &tenant);
	cr_assert_eq(tenant, 2);
	cr_assert(strstr(out, "handshake failure") || strstr(out, "certificate required") ||
	              strstr(out, "alert"),
	          "%s", out);
	cr_assert_eq(ss.server_handshake_failures, 1);
	/* no SNI: the default tenant, TLS 1.3, its EC certificate, no client certificate asked */
	sclient_run(NULL, false, &ss, out, sizeof(out), &tenant);
	cr_assert_eq(tenant, 1);
	cr_assert(strstr(out, "Protocol version: TLSv1.3"), "%s", out);
	cr_assert(strstr(out, "CN = sip.acme.co"), "%s", out);
	cr_assert(strstr(out, "Verification: OK"), "%s", out);
	cr_assert_eq(ss.server_handshake_failures, 1);
}
