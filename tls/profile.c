/* profile: a tls-profile's two SSL_CTXs. See profile.h. */
#include "tls/profile.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "tls/ident.h"
#include "tls/sni.h"

static int profile_idx = -1;
static pthread_once_t profile_once = PTHREAD_ONCE_INIT;

static void profile_init(void)
{
	profile_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

__attribute__((format(printf, 4, 5))) static int profile_err(int rc, char *err, size_t n,
                                                             const char *fmt, ...)
{
	va_list ap;

	if (n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

const struct tls_profile *tls_profile_of(const SSL *ssl)
{
	pthread_once(&profile_once, profile_init);
	return profile_idx < 0 ? NULL : SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), profile_idx);
}

int tls_profile_version(const char *s)
{
	static const struct {
		const char *name;
		int v;
	} versions[] = {{"1.0", TLS1_VERSION},
	                {"1.1", TLS1_1_VERSION},
	                {"1.2", TLS1_2_VERSION},
	                {"1.3", TLS1_3_VERSION}};

	for (size_t i = 0; s && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(s, versions[i].name) == 0)
			return versions[i].v;
	return -EINVAL;
}

static bool profile_key_is_ec(const struct tls_trustpoint *tp)
{
	return tp && tp->key && EVP_PKEY_is_a(tp->key, "EC");
}

static int profile_check(struct tls_profile *p, char *err, size_t n)
{
	const struct tls_profile_conf *c = &p->conf;
	const struct tls_trustpoint *tp = c->trustpoint;
	unsigned names = 0;

	if (c->max_version && c->max_version < c->min_version)
		return profile_err(-EINVAL, err, n, "tls-profile %u: version ceiling below floor",
		                   c->tag);
	/* the guide: "ECDSA ciphers are not supported with TLS version 1.0" */
	if (c->min_version <= TLS1_VERSION &&
	    ((c->ciphers && tls_cipher_list_has_ecdsa(c->ciphers)) || profile_key_is_ec(tp)))
		return profile_err(-EINVAL, err, n,
		                   "tls-profile %u: ECDSA is not supported with TLS 1.0; raise the "
		                   "version floor or use RSA",
		                   c->tag);
	if (c->cn_san_mode != TLS_CN_SAN_OFF && (!tp || !tp->store))
		return profile_err(-EINVAL, err, n,
		                   "tls-profile %u: cn-san validate needs a trustpoint with a CA",
		                   c->tag);
	for (unsigned i = 0; i < c->n_cn_san && i < TLS_PROFILE_CN_SAN_MAX; i++)
		names += c->cn_san[i] != NULL;
	if (c->n_cn_san > TLS_PROFILE_CN_SAN_MAX)
		return profile_err(-EINVAL, err, n, "tls-profile %u: at most %d cn-san entries",
		                   c->tag, TLS_PROFILE_CN_SAN_MAX);
	if ((c->cn_san_mode == TLS_CN_SAN_CLIENT || c->cn_san_mode == TLS_CN_SAN_BIDIRECTIONAL) &&
	    names == 0)
		return profile_err(-EINVAL, err, n,
		                   "tls-profile %u: cn-san validate client needs cn-san entries",
		                   c->tag);
	return 0;
}

static int profile_versions(SSL_CTX *ctx, const struct tls_profile_conf *c)
{
	if (!SSL_CTX_set_min_proto_version(ctx, c->min_version) ||
	    !SSL_CTX_set_max_proto_version(ctx, c->max_version))
		return -EPROTO;
	/* OpenSSL 3 at security level 1 refuses TLS 1.0/1.1 (SHA-1/MD5 signatures) */
	if (c->min_version < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);
	return 0;
}

static int profile_ciphers(SSL_CTX *ctx, const struct tls_profile *p)
{
	if (p->cipher_str[0] && SSL_CTX_set_cipher_list(ctx, p->cipher_str) != 1)
		return -EPROTO;
	if (p->conf.ciphers && p->conf.ciphers->tls13[0] &&
	    SSL_CTX_set_ciphersuites(ctx, p->conf.ciphers->tls13) != 1)
		return -EPROTO;
	return 0;
}

static int profile_verify(SSL_CTX *ctx, const struct tls_profile *p, bool server)
{
	const struct tls_trustpoint *tp = p->conf.trustpoint;
	int mode = SSL_VERIFY_NONE;

	if (tp && tp->store) {
		mode = SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
		if (server) {
			STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(tp->conf.ca_file);

			if (names)
				SSL_CTX_set_client_CA_list(ctx, names);
		}
	}
	SSL_CTX_set_verify(ctx, mode, tls_ident_verify_cb);
	return 0;
}

static SSL_CTX *profile_ctx(struct tls_profile *p, bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	char sid[32];

	if (!ctx)
		return NULL;
	SSL_CTX_set_ex_data(ctx, profile_idx, p);
	/* server preference: the operator's order wins (the guide's "in preference order") */
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_ENABLE_KTLS |
	                             SSL_OP_NO_RENEGOTIATION);
	/* the record layer decides kTLS after the handshake: nothing may be read ahead */
	SSL_CTX_set_read_ahead(ctx, 0);
	/* an idle connection keeps no 16 KiB read and write buffers (about 34 KiB of the ~45 KiB
	 * an idle user-path connection measured without it, bench/README.md): OpenSSL frees them
	 * once a record is done and allocates again when the next arrives */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (profile_versions(ctx, &p->conf) || profile_ciphers(ctx, p) ||
	    (p->conf.trustpoint && tls_trustpoint_apply(p->conf.trustpoint, ctx, server)) ||
	    profile_verify(ctx, p, server))
		goto fail;
	if (server) {
		snprintf(sid, sizeof(sid), "siptls-%u", p->conf.tag);
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid,
		                               (unsigned)strlen(sid));
		SSL_CTX_set_dh_auto(ctx, 1);
		/* no TLS 1.3 session tickets: each one serialises the session, verified client
		 * certificate included, and cost about 290 us of a 906 us handshake (two tickets,
		 * bench/compare). Trunks hold their connections for days; a reconnect pays a full
		 * handshake, and TLS 1.2 session-id resumption still works */
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_client_hello_cb(ctx, tls_sni_client_hello_cb, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_profile_build(struct tls_profile *p, const struct tls_profile_conf *conf, char *err,
                      size_t errlen)
{
	unsigned long e;
	int rc;

	memset(p, 0, sizeof(*p));
	p->conf = *conf;
	if (!p->conf.min_version)
		p->conf.min_version = TLS1_2_VERSION;
	pthread_once(&profile_once, profile_init);
	if (profile_idx < 0)
		return profile_err(-ENOMEM, err, errlen, "tls-profile %u: no ex_data", conf->tag);
	rc = profile_check(p, err, errlen);
	if (rc)
		return rc;
	if (conf->ciphers &&
	    tls_cipher_list_string(conf->ciphers, p->cipher_str, sizeof(p->cipher_str)) < 0)
		return profile_err(-EINVAL, err, errlen, "tls-profile %u: cipher list too long",
		                   conf->tag);
	ERR_clear_error();
	p->server = profile_ctx(p, true);
	p->client = p->server ? profile_ctx(p, false) : NULL;
	if (p->client)
		return 0;
	e = ERR_peek_error();
	profile_err(-EPROTO, err, errlen, "tls-profile %u: OpenSSL refused the settings: %s",
	            conf->tag, e ? ERR_reason_error_string(e) : "?");
	ERR_clear_error();
	tls_profile_free(p);
	return -EPROTO;
}

void tls_profile_free(struct tls_profile *p)
{
	SSL_CTX_free(p->server);
	SSL_CTX_free(p->client);
	memset(p, 0, sizeof(*p));
}

int tls_profile_switch_server(SSL *ssl, const struct tls_profile *p)
{
	SSL_CTX *ctx = p->server;
	const char *tls13 = p->conf.ciphers && p->conf.ciphers->tls13[0]
	                        ? p->conf.ciphers->tls13
	                        : OSSL_default_ciphersuites();

	if (SSL_get_SSL_CTX(ssl) != ctx && !SSL_set_SSL_CTX(ssl, ctx))
		return -EPROTO;
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
	SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
	SSL_clear_options(ssl, SSL_get_options(ssl) & ~SSL_CTX_get_options(ctx));
	SSL_set_options(ssl, SSL_CTX_get_options(ctx));
	SSL_set_security_level(ssl, SSL_CTX_get_security_level(ctx));
	if (!SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx)) ||
	    !SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx)))
		return -EPROTO;
	if (!SSL_set_cipher_list(ssl,
	                         p->cipher_str[0] ? p->cipher_str : OSSL_default_cipher_list()) ||
	    !SSL_set_ciphersuites(ssl, tls13))
		return -EPROTO;
	return 0;
}
