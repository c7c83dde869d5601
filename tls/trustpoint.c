/* trustpoint: loading and checking PEM files, the trust store, CRLs, OCSP stapling.
 * See trustpoint.h. */
#include "tls/trustpoint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#define TP_ERR(err, n, tp, ...) tp_err((err), (n), (tp)->conf.name, __VA_ARGS__)

__attribute__((format(printf, 4, 5))) static void tp_err(char *err, size_t n, const char *name,
                                                         const char *fmt, ...)
{
	size_t off;
	va_list ap;

	if (!n)
		return;
	off = (size_t)snprintf(err, n, "trustpoint %s: ", name ? name : "?");
	if (off >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(err + off, n - off, fmt, ap);
	va_end(ap);
}

/* encrypted keys are refused rather than prompted for on a terminal the daemon may not have */
static int tp_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* every PEM certificate and CRL of a file; -errno when it cannot be opened, -EBADMSG when it
 * holds no PEM object at all */
static int tp_read_pem(const char *path, STACK_OF(X509_INFO) * *out)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	*out = PEM_X509_INFO_read(f, NULL, tp_no_password, NULL);
	(void)fclose(f); /* opened for reading: its close loses nothing */
	ERR_clear_error();
	if (!*out || sk_X509_INFO_num(*out) == 0) {
		sk_X509_INFO_pop_free(*out, X509_INFO_free);
		*out = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int tp_file_err(struct tls_trustpoint *tp, int rc, const char *what, const char *path,
                       char *err, size_t n)
{
	if (rc == -EBADMSG)
		TP_ERR(err, n, tp, "%s file %s holds no PEM %s", what, path, what);
	else
		TP_ERR(err, n, tp, "cannot read %s file %s: %s", what, path, strerror(-rc));
	return rc;
}

static int tp_load_cert(struct tls_trustpoint *tp, char *err, size_t n)
{
	const char *path = tp->conf.cert_file;
	STACK_OF(X509_INFO) *infos = NULL;
	int rc = tp_read_pem(path, &infos);

	if (rc)
		return tp_file_err(tp, rc, "certificate", path, err, n);
	tp->chain = sk_X509_new_null();
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (!xi->x509)
			continue;
		if (!tp->cert)
			tp->cert = X509_dup(xi->x509);
		else
			sk_X509_push(tp->chain, X509_dup(xi->x509));
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (!tp->cert)
		return tp_file_err(tp, -EBADMSG, "certificate", path, err, n);
	return 0;
}

/* the guide: an expired own certificate is a configuration error, not a runtime surprise */
static int tp_check_validity(struct tls_trustpoint *tp, char *err, size_t n)
{
	if (X509_cmp_current_time(X509_get0_notAfter(tp->cert)) < 0) {
		TP_ERR(err, n, tp, "certificate in %s has expired", tp->conf.cert_file);
		return -EKEYEXPIRED;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(tp->cert)) > 0) {
		TP_ERR(err, n, tp, "certificate in %s is not yet valid", tp->conf.cert_file);
		return -EKEYEXPIRED;
	}
	return 0;
}

static int tp_load_key(struct tls_trustpoint *tp, char *err, size_t n)
{
	const char *path = tp->conf.key_file;
	FILE *f;

	if (!path) {
		TP_ERR(err, n, tp, "certificate %s has no key file", tp->conf.cert_file);
		return -EINVAL;
	}
	f = fopen(path, "r");
	if (!f)
		return tp_file_err(tp, -errno, "key", path, err, n);
	tp->key = PEM_read_PrivateKey(f, NULL, tp_no_password, NULL);
	(void)fclose(f); /* opened for reading: its close loses nothing */
	ERR_clear_error();
	if (!tp->key) {
		TP_ERR(err, n, tp, "key file %s holds no PEM private key (or an encrypted one)",
		       path);
		return -EBADMSG;
	}
	if (X509_check_private_key(tp->cert, tp->key) != 1) {
		ERR_clear_error();
		TP_ERR(err, n, tp, "key %s does not match certificate %s", path,
		       tp->conf.cert_file);
		return -EKEYREJECTED;
	}
	return 0;
}

/* adds every certificate (want_crl false) or CRL (true) of path to the store */
static int tp_store_add(struct tls_trustpoint *tp, const char *path, bool want_crl, char *err,
                        size_t n)
{
	const char *what = want_crl ? "CRL" : "CA certificate";
	STACK_OF(X509_INFO) *infos = NULL;
	int rc = tp_read_pem(path, &infos), added = 0;

	if (rc)
		return tp_file_err(tp, rc, what, path, err, n);
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (!want_crl && xi->x509)
			added += X509_STORE_add_cert(tp->store, xi->x509) == 1;
		if (want_crl && xi->crl)
			added += X509_STORE_add_crl(tp->store, xi->crl) == 1;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	return added ? 0 : tp_file_err(tp, -EBADMSG, what, path, err, n);
}

/* resolves `revocation-check` into flags (see trustpoint.h for the default) */
static int tp_revocation(struct tls_trustpoint *tp, char *err, size_t n)
{
	const struct tls_trustpoint_conf *c = &tp->conf;
	bool crl_seen = false;

	if (c->n_revocation == 0) {
		tp->crl_check = c->n_crl > 0;
		return 0;
	}
	if (c->n_revocation > TLS_TRUSTPOINT_REVOKE_MAX) {
		TP_ERR(err, n, tp, "at most %d revocation-check methods",
		       TLS_TRUSTPOINT_REVOKE_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < c->n_revocation; i++) {
		switch (c->revocation[i]) {
		case TLS_REVOKE_CRL:
			crl_seen = true;
			tp->crl_check = true;
			break;
		case TLS_REVOKE_OCSP:
			tp->ocsp = true;
			break;
		case TLS_REVOKE_NONE:
			tp->crl_soft_fail = crl_seen;
			break;
		default:
			TP_ERR(err, n, tp, "unknown revocation-check method %d", c->revocation[i]);
			return -EINVAL;
		}
	}
	if (tp->crl_check && c->n_crl == 0) {
		TP_ERR(err, n, tp, "revocation-check crl needs a crl file");
		return -EINVAL;
	}
	return 0;
}

static int tp_load_store(struct tls_trustpoint *tp, char *err, size_t n)
{
	int rc;

	if (!tp->conf.ca_file) {
		if (tp->crl_check || tp->ocsp) {
			TP_ERR(err, n, tp, "revocation checking needs a ca file");
			return -EINVAL;
		}
		return 0;
	}
	tp->store = X509_STORE_new();
	if (!tp->store)
		return -ENOMEM;
	rc = tp_store_add(tp, tp->conf.ca_file, false, err, n);
	for (unsigned i = 0; rc == 0 && i < tp->conf.n_crl; i++)
		rc = tp_store_add(tp, tp->conf.crl_files[i], true, err, n);
	/* RFC 5280 6.3: every certificate of the chain, not only the leaf, is checked */
	if (rc == 0 && tp->crl_check)
		X509_STORE_set_flags(tp->store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return rc;
}

static int tp_load_staple(struct tls_trustpoint *tp, char *err, size_t n)
{
	const char *path = tp->conf.ocsp_staple_file;
	unsigned char buf[16384];
	const unsigned char *p = buf;
	OCSP_RESPONSE *resp;
	size_t got;
	FILE *f;
	int len;

	if (!path)
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return tp_file_err(tp, -errno, "OCSP response", path, err, n);
	got = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f); /* opened for reading: its close loses nothing */
	resp = got < sizeof(buf) ? d2i_OCSP_RESPONSE(NULL, &p, (long)got) : NULL;
	len = resp ? i2d_OCSP_RESPONSE(resp, &tp->staple) : -1;
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	if (len <= 0) {
		TP_ERR(err, n, tp, "OCSP response file %s is not a DER OCSP response", path);
		return -EBADMSG;
	}
	tp->staple_len = (size_t)len;
	return 0;
}

int tls_trustpoint_load(struct tls_trustpoint *tp, const struct tls_trustpoint_conf *conf,
                        char *err, size_t errlen)
{
	int rc = 0;

	memset(tp, 0, sizeof(*tp));
	tp->conf = *conf;
	if (!conf->name || !*conf->name) {
		tp_err(err, errlen, "?", "has no name");
		return -EINVAL;
	}
	if (conf->n_crl > TLS_TRUSTPOINT_CRL_MAX) {
		TP_ERR(err, errlen, tp, "at most %d crl files", TLS_TRUSTPOINT_CRL_MAX);
		return -EINVAL;
	}
	if (conf->cert_file) {
		rc = tp_load_cert(tp, err, errlen);
		if (!rc)
			rc = tp_check_validity(tp, err, errlen);
		if (!rc)
			rc = tp_load_key(tp, err, errlen);
	}
	if (!rc)
		rc = tp_revocation(tp, err, errlen);
	if (!rc)
		rc = tp_load_store(tp, err, errlen);
	if (!rc)
		rc = tp_load_staple(tp, err, errlen);
	if (rc)
		tls_trustpoint_free(tp);
	return rc;
}

void tls_trustpoint_free(struct tls_trustpoint *tp)
{
	X509_free(tp->cert);
	sk_X509_pop_free(tp->chain, X509_free);
	EVP_PKEY_free(tp->key);
	X509_STORE_free(tp->store);
	OPENSSL_free(tp->staple);
	memset(tp, 0, sizeof(*tp));
}

/* server: staple our configured response when the client asks (RFC 6066 section 8) */
static int tp_ocsp_serve(SSL *ssl, void *arg)
{
	const struct tls_trustpoint *tp = arg;
	unsigned char *copy;

	if (!tp->staple)
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(tp->staple, tp->staple_len);
	if (!copy || !SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)tp->staple_len)) {
		OPENSSL_free(copy);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* is the stapled response for the peer's leaf, signed by a trusted responder, current, good? */
static int tp_ocsp_verify(SSL *ssl, const struct tls_trustpoint *tp, OCSP_BASICRESP *bs)
{
	STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
	ASN1_GENERALIZEDTIME *this_upd, *next_upd;
	OCSP_CERTID *id;
	int status = -1, reason, ok;

	if (!chain || sk_X509_num(chain) < 2)
		return 0;
	if (OCSP_basic_verify(bs, chain, tp->store, 0) <= 0)
		return 0;
	id = OCSP_cert_to_id(NULL, sk_X509_value(chain, 0), sk_X509_value(chain, 1));
	ok = id && OCSP_resp_find_status(bs, id, &status, &reason, NULL, &this_upd, &next_upd) &&
	     OCSP_check_validity(this_upd, next_upd, 300, -1) && status == V_OCSP_CERTSTATUS_GOOD;
	OCSP_CERTID_free(id);
	return ok;
}

/* client: a staple, when the server sends one, must verify; none leaves it to the others */
static int tp_ocsp_check(SSL *ssl, void *arg)
{
	const struct tls_trustpoint *tp = arg;
	const unsigned char *p = NULL;
	long len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs = NULL;
	int ok = 0;

	if (len <= 0 || !p)
		return 1;
	resp = d2i_OCSP_RESPONSE(NULL, &p, len);
	if (resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL)
		bs = OCSP_response_get1_basic(resp);
	if (bs)
		ok = tp_ocsp_verify(ssl, tp, bs);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return ok;
}

static int tp_apply_ocsp(const struct tls_trustpoint *tp, SSL_CTX *ctx, bool server)
{
	if (server && tp->staple) {
		SSL_CTX_set_tlsext_status_cb(ctx, tp_ocsp_serve);
		SSL_CTX_set_tlsext_status_arg(ctx, (void *)tp);
	} else if (!server && tp->ocsp && tp->store) {
		SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
		SSL_CTX_set_tlsext_status_cb(ctx, tp_ocsp_check);
		SSL_CTX_set_tlsext_status_arg(ctx, (void *)tp);
	}
	return 0;
}

int tls_trustpoint_apply(const struct tls_trustpoint *tp, SSL_CTX *ctx, bool server)
{
	if (tp->cert) {
		if (SSL_CTX_use_certificate(ctx, tp->cert) != 1 ||
		    SSL_CTX_set1_chain(ctx, tp->chain) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, tp->key) != 1)
			return -EPROTO;
	}
	if (tp->store)
		SSL_CTX_set1_cert_store(ctx, tp->store);
	return tp_apply_ocsp(tp, ctx, server);
}
