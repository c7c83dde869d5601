/* ident: CN/SAN identity checks in the verify callback. See ident.h. */
#include "tls/ident.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "core/log.h"
#include "tls/profile.h"

struct ident_state {
	struct tls_ident_ctx ctx;
	char target[TLS_IDENT_HOST_MAX];
	bool verified; /* inbound cn-san matched */
	bool failed;   /* an identity check failed (and was logged) */
	bool counted;  /* the handshake failure was counted */
};

static int ident_idx = -1;
static pthread_once_t ident_once = PTHREAD_ONCE_INIT;

static void ident_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void ident_init(void)
{
	ident_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ident_free);
}

static struct ident_state *ident_get(const SSL *ssl)
{
	pthread_once(&ident_once, ident_init);
	return ident_idx < 0 ? NULL : SSL_get_ex_data(ssl, ident_idx);
}

int tls_ident_attach(SSL *ssl, const struct tls_ident_ctx *ctx)
{
	struct ident_state *st;
	size_t len = ctx->target ? strlen(ctx->target) : 0;

	if (len >= TLS_IDENT_HOST_MAX)
		return -ENAMETOOLONG;
	pthread_once(&ident_once, ident_init);
	st = calloc(1, sizeof(*st));
	if (!st || ident_idx < 0)
		goto nomem;
	st->ctx = *ctx;
	memcpy(st->target, ctx->target ? ctx->target : "", len + 1);
	st->ctx.target = ctx->target ? st->target : NULL;
	free(SSL_get_ex_data(ssl, ident_idx));
	if (!SSL_set_ex_data(ssl, ident_idx, st))
		goto nomem;
	return 0;
nomem:
	free(st);
	return -ENOMEM;
}

void tls_ident_set_tenant(SSL *ssl, unsigned tenant)
{
	struct ident_state *st = ident_get(ssl);

	if (st)
		st->ctx.tenant = tenant;
}

bool tls_ident_failed(const SSL *ssl)
{
	const struct ident_state *st = ident_get(ssl);

	return st && st->failed;
}

void tls_ident_handshake_failed(SSL *ssl)
{
	struct ident_state *st = ident_get(ssl);

	if (!st || st->counted || !st->ctx.stats)
		return;
	st->counted = true;
	if (SSL_is_server(ssl))
		st->ctx.stats->server_handshake_failures++;
	else
		st->ctx.stats->client_handshake_failures++;
}

/* ---- name matching ---- */

bool tls_ident_name_match(struct slice pattern, struct slice name)
{
	struct slice rest;
	size_t dot;

	if (slice_empty(pattern) || slice_empty(name))
		return false;
	if (pattern.n < 2 || pattern.p[0] != '*' || pattern.p[1] != '.')
		return memchr(pattern.p, '*', pattern.n) == NULL && slice_case_eq(pattern, name);
	/* "*.rest": rest needs two labels at least (no "*.com") and no other wildcard */
	rest = slice_sub(pattern, 2, pattern.n);
	if (memchr(rest.p, '*', rest.n) || slice_find(rest, '.') == rest.n)
		return false;
	dot = slice_find(name, '.');
	if (dot == 0 || dot == name.n)
		return false;
	return slice_case_eq(rest, slice_sub(name, dot + 1, name.n));
}

/* "[::1]" -> "::1" in buf; 1 when target is an IPv4 or IPv6 literal */
static bool ident_ip_literal(const char *target, char *buf, size_t n)
{
	unsigned char addr[sizeof(struct in6_addr)];
	size_t len = strlen(target);

	if (len >= 2 && target[0] == '[' && target[len - 1] == ']' && len - 2 < n) {
		memcpy(buf, target + 1, len - 2);
		buf[len - 2] = '\0';
	} else if (len < n) {
		memcpy(buf, target, len + 1);
	} else {
		return false;
	}
	return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

bool tls_ident_check_server(X509 *cert, const char *target)
{
	char ip[INET6_ADDRSTRLEN + 1];

	if (!cert || !target || !*target)
		return false;
	if (ident_ip_literal(target, ip, sizeof(ip)))
		return X509_check_ip_asc(cert, ip, 0) == 1;
	/* SAN dNSNames, the CN only without them (OpenSSL's default); a wildcard only as a
	 * whole left-most label (RFC 6125 6.4.3) */
	return X509_check_host(cert, target, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

static bool ident_permitted(struct slice name, const char *const *permitted, unsigned n)
{
	bool wild = memchr(name.p, '*', name.n) != NULL;

	for (unsigned i = 0; i < n; i++) {
		struct slice p = slice_cstr(permitted[i] ? permitted[i] : "");

		/* a wildcard in the certificate only matches the same entry, literally */
		if (wild ? slice_case_eq(p, name) : tls_ident_name_match(p, name))
			return true;
	}
	return false;
}

static bool ident_asn1_permitted(const ASN1_STRING *s, const char *const *permitted, unsigned n)
{
	const char *p = (const char *)ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);

	/* an embedded NUL would let "good.com\0.evil" pass as "good.com" */
	if (!p || len <= 0 || memchr(p, '\0', (size_t)len))
		return false;
	return ident_permitted(slice_make(p, (size_t)len), permitted, n);
}

bool tls_ident_check_client(X509 *cert, const char *const *permitted, unsigned n)
{
	GENERAL_NAMES *sans;
	const X509_NAME *subj;
	bool ok = false;

	if (!cert)
		return false;
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; !ok && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type == GEN_DNS)
			ok = ident_asn1_permitted(g->d.dNSName, permitted, n);
	}
	GENERAL_NAMES_free(sans);
	subj = X509_get_subject_name(cert);
	for (int i = -1; !ok && (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;)
		ok = ident_asn1_permitted(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)),
		                          permitted, n);
	return ok;
}

/* ---- the failure line ---- */

static void ident_addr(const struct sockaddr_storage *ss, char *buf, size_t n, unsigned *port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	buf[0] = '\0';
	*port = 0;
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)n);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)n);
		*port = ntohs(in6->sin6_port);
	}
}

int tls_ident_format_failure(const struct tls_ident_ctx *ctx, char *buf, size_t n)
{
	char ra[INET6_ADDRSTRLEN], la[INET6_ADDRSTRLEN];
	unsigned rp, lp;

	ident_addr(&ctx->remote, ra, sizeof(ra), &rp);
	ident_addr(&ctx->local, la, sizeof(la), &lp);
	return snprintf(buf, n,
	                "%%SIP-2-TLS_HANDSHAKE_FAILED :Peer certificate identity check failed - "
	                "remote_addr=%s, remote_port=%u, local_addr=%s, local_port=%u, vrf=, "
	                "tenant=%u",
	                ra, rp, la, lp, ctx->tenant);
}

static void ident_fail(SSL *ssl, struct ident_state *st)
{
	static const struct tls_ident_ctx none;
	char line[CORE_LOG_LINE_MAX];

	if (st && st->failed)
		return;
	tls_ident_format_failure(st ? &st->ctx : &none, line, sizeof(line));
	core_log(LOG_CRIT, "%s", line);
	if (!st)
		return;
	st->failed = true;
	if (st->ctx.stats) {
		if (SSL_is_server(ssl))
			st->ctx.stats->server_identity_failures++;
		else
			st->ctx.stats->client_identity_failures++;
	}
	tls_ident_handshake_failed(ssl);
}

/* ---- the verify callback ---- */

static bool ident_wanted(enum tls_cn_san_mode mode, bool server)
{
	if (mode == TLS_CN_SAN_BIDIRECTIONAL)
		return true;
	return server ? mode == TLS_CN_SAN_CLIENT : mode == TLS_CN_SAN_SERVER;
}

/* A resumed session skips certificate verification, so the callback never ran: check the
 * session's client certificate against the current profile now. */
static bool ident_resumed_client_ok(const SSL *ssl)
{
	const struct tls_profile *p = tls_profile_of(ssl);
	X509 *peer;

	if (!SSL_is_server(ssl) || !SSL_session_reused(ssl) || !SSL_is_init_finished(ssl) || !p ||
	    !ident_wanted(p->conf.cn_san_mode, true))
		return false;
	peer = SSL_get0_peer_certificate(ssl);
	return peer && tls_ident_check_client(peer, p->conf.cn_san, p->conf.n_cn_san);
}

bool tls_ident_verified(const SSL *ssl)
{
	struct ident_state *st = ident_get(ssl);

	if (st && !st->verified && !st->failed && ident_resumed_client_ok(ssl))
		st->verified = true;
	return st && st->verified;
}

/* `revocation-check crl none`: a CRL that cannot be found does not fail the chain */
static int ident_chain_error(const struct tls_profile *p, X509_STORE_CTX *x)
{
	const struct tls_trustpoint *tp = p ? p->conf.trustpoint : NULL;

	if (tp && tp->crl_soft_fail && X509_STORE_CTX_get_error(x) == X509_V_ERR_UNABLE_TO_GET_CRL)
		return 1;
	return 0;
}

int tls_ident_verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct tls_profile *p = ssl ? tls_profile_of(ssl) : NULL;
	struct ident_state *st;
	bool server, ok;

	if (!preverify_ok)
		return ident_chain_error(p, x);
	if (!p || X509_STORE_CTX_get_error_depth(x) != 0)
		return 1;
	server = SSL_is_server(ssl);
	if (!ident_wanted(p->conf.cn_san_mode, server))
		return 1;
	st = ident_get(ssl);
	if (server)
		ok = tls_ident_check_client(X509_STORE_CTX_get_current_cert(x), p->conf.cn_san,
		                            p->conf.n_cn_san);
	else
		ok = tls_ident_check_server(X509_STORE_CTX_get_current_cert(x),
		                            st ? st->ctx.target : NULL);
	if (ok) {
		if (server && st)
			st->verified = true;
		return 1;
	}
	X509_STORE_CTX_set_error(x, X509_V_ERR_HOSTNAME_MISMATCH);
	ident_fail(ssl, st);
	return 0;
}
