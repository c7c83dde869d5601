/* Test fixture for tests/tls/{conn,record,keylog,ktls}.c: contexts from the shared test PKI and
 * a poll loop that drives two tls_conn handshakes over a loopback TCP pair. Static functions in
 * a header (included by each test file; not a test itself). */
#ifndef SIPTLS_TESTS_TLS_CONN_FIXTURE_H
#define SIPTLS_TESTS_TLS_CONN_FIXTURE_H

#include <criterion/criterion.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "tests/tls/support/hs.h"
#include "tests/tls/support/pki.h"
#include "tls/conn.h"
#include "tls/keylog.h"

struct fx {
	struct tpki pki;
	SSL_CTX *sctx, *cctx;
	int cfd, sfd;
	struct tls_conn c, s;
	enum tls_step cst, sst;
};

/* version: TLS1_2_VERSION or TLS1_3_VERSION (min = max); mutual: the server asks for and
 * verifies a client certificate. Both contexts: SSL_OP_ENABLE_KTLS, key-log hook without file. */
static inline void fx_ctx(struct fx *f, int version, bool mutual)
{
	cr_assert_eq(tpki_create(&f->pki), 0, "test PKI");
	f->sctx = SSL_CTX_new(TLS_server_method());
	f->cctx = SSL_CTX_new(TLS_client_method());
	cr_assert(f->sctx && f->cctx);
	SSL_CTX *both[] = {f->sctx, f->cctx};
	for (int i = 0; i < 2; i++) {
		SSL_CTX_set_options(both[i], SSL_OP_ENABLE_KTLS);
		SSL_CTX_set_min_proto_version(both[i], version);
		SSL_CTX_set_max_proto_version(both[i], version);
		cr_assert_eq(tls_keylog_install(both[i], NULL), 0);
		cr_assert_eq(
		    SSL_CTX_load_verify_locations(both[i], tpki_path(&f->pki, "ca.crt"), NULL), 1);
	}
	cr_assert_eq(
	    SSL_CTX_use_certificate_chain_file(f->sctx, tpki_path(&f->pki, "server-ec.crt")), 1);
	cr_assert_eq(SSL_CTX_use_PrivateKey_file(f->sctx, tpki_path(&f->pki, "server-ec.key"),
	                                         SSL_FILETYPE_PEM),
	             1);
	SSL_CTX_set_verify(f->cctx, SSL_VERIFY_PEER, NULL);
	if (mutual) {
		cr_assert_eq(
		    SSL_CTX_use_certificate_chain_file(f->cctx, tpki_path(&f->pki, "client.crt")),
		    1);
		cr_assert_eq(SSL_CTX_use_PrivateKey_file(f->cctx, tpki_path(&f->pki, "client.key"),
		                                         SSL_FILETYPE_PEM),
		             1);
		SSL_CTX_set_verify(f->sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		                   NULL);
	}
}

/* the TCP pair and both tls_conn objects (client verifies host `host`) */
static inline void fx_conns(struct fx *f, const char *host, uint64_t timeout_ns)
{
	uint64_t dl = timeout_ns ? tls_conn_now_ns() + timeout_ns : 0;
	cr_assert_eq(ths_tcp_pair(AF_INET, &f->cfd, &f->sfd), 0);
	cr_assert_eq(tls_conn_init(&f->c, f->cctx, f->cfd, false, dl), 0);
	cr_assert_eq(tls_conn_init(&f->s, f->sctx, f->sfd, true, dl), 0);
	if (host)
		cr_assert_eq(SSL_set1_host(f->c.ssl, host), 1);
	f->cst = f->sst = TLS_STEP_WANT_WRITE;
}

static inline short fx_events(enum tls_step st)
{
	return st == TLS_STEP_WANT_READ ? POLLIN : st == TLS_STEP_WANT_WRITE ? POLLOUT : 0;
}

static inline bool fx_busy(enum tls_step st)
{
	return st == TLS_STEP_WANT_READ || st == TLS_STEP_WANT_WRITE;
}

/* one end's step, only when its fd is ready for what it asked (or on the first call) */
static inline void fx_step(struct tls_conn *c, enum tls_step *st, short revents)
{
	if (fx_busy(*st) && (revents || *st == TLS_STEP_WANT_WRITE))
		*st = tls_conn_handshake_step(c, tls_conn_now_ns());
}

/* drives both handshakes until neither is busy or ~5 s pass (the deadline in the conns decides
 * timeouts; this bound only keeps a broken test from hanging) */
static inline void fx_pump(struct fx *f)
{
	for (int i = 0; i < 5000 && (fx_busy(f->cst) || fx_busy(f->sst)); i++) {
		struct pollfd p[2] = {{f->cfd, fx_events(f->cst), 0},
		                      {f->sfd, fx_events(f->sst), 0}};
		poll(p, 2, 1);
		fx_step(&f->c, &f->cst, p[0].revents);
		fx_step(&f->s, &f->sst, p[1].revents);
	}
}

static inline void fx_handshake(struct fx *f, int version, bool mutual)
{
	fx_ctx(f, version, mutual);
	fx_conns(f, "sip.acme.co", 5000000000ull);
	fx_pump(f);
	cr_assert_eq(f->cst, TLS_STEP_DONE, "client: %s", f->c.reason);
	cr_assert_eq(f->sst, TLS_STEP_DONE, "server: %s", f->s.reason);
}

static inline void fx_free(struct fx *f)
{
	/* after tls_conn_shed the SSL is gone but the record layer is still there */
	if (f->c.ssl || f->c.info.rx != TLS_RL_NONE)
		tls_conn_free(&f->c);
	if (f->s.ssl || f->s.info.rx != TLS_RL_NONE)
		tls_conn_free(&f->s);
	if (f->cfd > 0)
		close(f->cfd);
	if (f->sfd > 0)
		close(f->sfd);
	SSL_CTX_free(f->sctx);
	SSL_CTX_free(f->cctx);
	if (f->pki.dir[0])
		tpki_destroy(&f->pki);
}

#endif
