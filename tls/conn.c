/* conn: non-blocking handshake driver. See conn.h. */
#include "tls/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "tls/ktls.h"

uint64_t tls_conn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tls_conn_init(struct tls_conn *c, SSL_CTX *ctx, int fd, bool server, uint64_t deadline_ns)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->server = server;
	c->deadline_ns = deadline_ns;
	if (!(c->ssl = SSL_new(ctx)))
		return -ENOMEM;
	/* SSL_set_fd: a socket BIO with BIO_NOCLOSE, the fd stays the caller's */
	if (!SSL_set_fd(c->ssl, fd) || tls_keylog_sink_attach(c->ssl, &c->secrets)) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -ENOMEM;
	}
	/* read-ahead off: OpenSSL reads each record exactly, so no ciphertext beyond the handshake
	 * sits in a buffer when the record layer is decided (see docs/record-layer.md) */
	SSL_set_read_ahead(c->ssl, 0);
	if (server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	return 0;
}

void tls_conn_free(struct tls_conn *c)
{
	tls_record_free(&c->rec);
	SSL_free(c->ssl); /* frees the socket and memory BIOs with it */
	c->ssl = NULL;
	tls_keylog_sink_clear(&c->secrets);
}

/* ---- failure ---- */

static enum tls_step fail(struct tls_conn *c, enum tls_conn_error e, const char *reason)
{
	c->error = e;
	snprintf(c->reason, sizeof c->reason, "%s", reason);
	ERR_clear_error();
	return TLS_STEP_ERROR;
}

static enum tls_step fail_ssl(struct tls_conn *c, int ssl_err)
{
	unsigned long e = ERR_peek_error();
	char buf[160];
	long vr = SSL_get_verify_result(c->ssl);
	if (ssl_err == SSL_ERROR_SYSCALL && !e) {
		c->sys_errno = errno;
		if (errno == 0)
			return fail(c, TLS_CONN_EEOF,
			            "peer closed the connection during the handshake");
		return fail(c, TLS_CONN_ESYSCALL, strerror(errno));
	}
	if (ssl_err == SSL_ERROR_ZERO_RETURN ||
	    (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	     ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
		return fail(c, TLS_CONN_EEOF, "peer closed the connection during the handshake");
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    vr != X509_V_OK) {
		snprintf(buf, sizeof buf, "certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
		return fail(c, TLS_CONN_EVERIFY, buf);
	}
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	else
		snprintf(buf, sizeof buf, "TLS handshake failed (SSL error %d)", ssl_err);
	return fail(c, TLS_CONN_EPROTO, buf);
}

/* ---- what was negotiated ---- */

static void info_group(SSL *ssl, char *out, size_t n)
{
	/* OpenSSL 3.0 has no SSL_get0_group_name; the negotiated group's NID covers TLS 1.3 and
	 * TLS 1.2 ECDHE. Unknown to OBJ (a raw TLS group id): try the ephemeral key. */
	int nid = SSL_get_negotiated_group(ssl);
	const char *sn = nid > 0 ? OBJ_nid2sn(nid) : NULL;
	EVP_PKEY *pk = NULL;
	size_t len = 0;
	out[0] = 0;
	if (sn && nid != NID_undef) {
		snprintf(out, n, "%s", sn);
		return;
	}
	if (SSL_get_peer_tmp_key(ssl, &pk) == 1 && pk) {
		if (EVP_PKEY_get_group_name(pk, out, n, &len) != 1)
			snprintf(out, n, "%s", EVP_PKEY_get0_type_name(pk) ?: "");
		EVP_PKEY_free(pk);
	}
}

/* copies an ASN.1 string, refusing one with an embedded NUL (a classic CN/SAN trick) */
static void copy_asn1(char *out, size_t n, const unsigned char *p, int len)
{
	out[0] = 0;
	if (len <= 0 || memchr(p, 0, (size_t)len) || (size_t)len >= n)
		return;
	memcpy(out, p, (size_t)len);
	out[len] = 0;
}

static void info_first_san(X509 *cert, char *out, size_t n)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	out[0] = 0;
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !out[0]; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *p;
		int len;
		if (g->type == GEN_DNS) {
			p = ASN1_STRING_get0_data(g->d.dNSName);
			copy_asn1(out, n, p, ASN1_STRING_length(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			p = ASN1_STRING_get0_data(g->d.iPAddress);
			len = ASN1_STRING_length(g->d.iPAddress);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, p, out, (socklen_t)n);
		}
	}
	GENERAL_NAMES_free(names);
}

static void info_peer(SSL *ssl, struct tls_conn_info *info)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	X509_NAME *subj = cert ? X509_get_subject_name(cert) : NULL;
	int i = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
	info->peer_cn[0] = info->peer_san[0] = 0;
	if (i >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		copy_asn1(info->peer_cn, sizeof info->peer_cn, ASN1_STRING_get0_data(d),
		          ASN1_STRING_length(d));
	}
	if (cert)
		info_first_san(cert, info->peer_san, sizeof info->peer_san);
}

static void info_fill(struct tls_conn *c)
{
	const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
	c->info.version = SSL_version(c->ssl);
	c->info.version_name = SSL_get_version(c->ssl);
	c->info.cipher = ci ? SSL_CIPHER_get_name(ci) : "";
	c->info.cipher_id = ci ? SSL_CIPHER_get_protocol_id(ci) : 0;
	info_group(c->ssl, c->info.group, sizeof c->info.group);
	info_peer(c->ssl, &c->info);
}

static enum tls_step finish(struct tls_conn *c)
{
	info_fill(c);
	if (tls_record_setup(&c->rec, c->ssl, c->fd))
		return fail(c, TLS_CONN_ESETUP, "out of memory setting up the record layer");
	c->info.rx = c->rec.rx;
	c->info.tx = c->rec.tx;
	/* the receive secret is kept only while kernel receive could still be installed by hand
	 * (TLS 1.3, OpenSSL 3.0: TX offloaded, RX not) */
	if (!(c->info.version == TLS1_3_VERSION && c->rec.tx == TLS_RL_KERNEL &&
	      c->rec.rx == TLS_RL_USER))
		tls_keylog_sink_clear(&c->secrets);
	return TLS_STEP_DONE;
}

int tls_conn_ktls_rx13(struct tls_conn *c)
{
	/* we receive what the peer sends: a server reads under the client's secret */
	const uint8_t *secret = c->server ? c->secrets.client_app : c->secrets.server_app;
	size_t len = c->server ? c->secrets.client_app_len : c->secrets.server_app_len;
	struct tls_ktls_crypto ci;
	uint64_t seq;
	int rc;
	if (c->info.version != TLS1_3_VERSION || c->rec.rx != TLS_RL_USER ||
	    c->rec.tx != TLS_RL_KERNEL)
		return -EOPNOTSUPP;
	if (len == 0)
		return -ENOKEY;
	if ((rc = tls_record_rx_seq(&c->rec, &seq)))
		return rc;
	rc = tls_ktls_crypto_tls13(c->info.cipher_id, secret, len, seq, &ci);
	if (!rc)
		rc = tls_ktls_install(c->fd, true, &ci);
	OPENSSL_cleanse(&ci, sizeof ci);
	if (rc)
		return rc;
	tls_record_rx_to_kernel(&c->rec);
	c->info.rx = TLS_RL_KERNEL;
	tls_keylog_sink_clear(&c->secrets);
	return 0;
}

int tls_conn_shed(struct tls_conn *c)
{
	if (!c->ssl || c->rec.rx != TLS_RL_KERNEL || c->rec.tx != TLS_RL_KERNEL)
		return -EOPNOTSUPP;
	/* info's strings are OpenSSL's static tables (protocol and cipher names), not the SSL's */
	SSL_free(c->ssl); /* the socket BIO is BIO_NOCLOSE: the fd and its kTLS state stay */
	c->ssl = c->rec.ssl = NULL;
	tls_keylog_sink_clear(&c->secrets);
	return 0;
}

enum tls_step tls_conn_handshake_step(struct tls_conn *c, uint64_t now_ns)
{
	int rc, err;
	if (c->error != TLS_CONN_OK)
		return TLS_STEP_ERROR;
	if (c->info.rx != TLS_RL_NONE)
		return TLS_STEP_DONE;
	if (c->deadline_ns && now_ns >= c->deadline_ns)
		return fail(c, TLS_CONN_ETIMEOUT, "TLS handshake timed out");
	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(c->ssl);
	if (rc == 1)
		return finish(c);
	switch ((err = SSL_get_error(c->ssl, rc))) {
	case SSL_ERROR_WANT_READ:
		return TLS_STEP_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_STEP_WANT_WRITE;
	default:
		return fail_ssl(c, err);
	}
}
