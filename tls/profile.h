/* profile: `voice class tls-profile TAG` — the TLS policy of a trunk, turned into one SSL_CTX
 * per role (server: connections we accept; client: connections we open).
 *
 *   voice class tls-profile 100
 *    cipher 100                      (a struct tls_cipher_list; none: OpenSSL's defaults)
 *    trustpoint CUBE-TrustPoint      (a loaded struct tls_trustpoint)
 *    cn-san validate bidirectional   (server | client | bidirectional)
 *    cn-san 1 sip.acme.co            (permitted client names; "*.acme.co" allowed)
 *    sni send
 *    tls-version min 1.2 max 1.3     (siptlsd's addition; default floor 1.2, no ceiling)
 *
 * Both contexts: the version range, the cipher list in preference order with
 * SSL_OP_CIPHER_SERVER_PREFERENCE, SSL_OP_ENABLE_KTLS, read-ahead off (the record layer must
 * find no partial record buffered when it hands the socket to the kernel), the trustpoint's
 * certificate/key, and tls_ident_verify_cb. With a CA bundle in the trustpoint the server
 * requires a client certificate chaining to it (mutual TLS) and the client verifies the
 * server's chain. Floors below 1.2 lower OpenSSL's security level to 0 (OpenSSL 3 refuses
 * TLS 1.0/1.1's SHA-1 handshake signatures at level 1); ECDSA with TLS 1.0 is refused, as the
 * guide restricts.
 */
#ifndef SIPTLS_TLS_PROFILE_H
#define SIPTLS_TLS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "tls/cipher.h"
#include "tls/trustpoint.h"

enum tls_cn_san_mode {
	TLS_CN_SAN_OFF,    /* no identity check (the chain is still verified with a CA) */
	TLS_CN_SAN_SERVER, /* outbound: the server certificate must name the target */
	TLS_CN_SAN_CLIENT, /* inbound: the client certificate must name a permitted entry */
	TLS_CN_SAN_BIDIRECTIONAL,
};

#define TLS_PROFILE_CN_SAN_MAX 16

struct tls_profile_conf {
	unsigned tag;
	const struct tls_cipher_list *ciphers;   /* borrowed; NULL: OpenSSL's default list */
	const struct tls_trustpoint *trustpoint; /* borrowed, loaded; NULL: anonymous, no CA */
	enum tls_cn_san_mode cn_san_mode;
	const char *cn_san[TLS_PROFILE_CN_SAN_MAX]; /* `cn-san N FQDN` is cn_san[N - 1] */
	unsigned n_cn_san;                          /* entries used (NULL holes are skipped) */
	bool sni_send;
	int min_version; /* TLS1_VERSION .. TLS1_3_VERSION; 0: TLS1_2_VERSION */
	int max_version; /* 0: the highest OpenSSL offers */
};

/* a built profile; the zero value is "not built" and safe to free */
struct tls_profile {
	struct tls_profile_conf conf;
	SSL_CTX *server, *client;
	char cipher_str[256]; /* OpenSSL cipher string of conf.ciphers (empty: default) */
};

/* builds both contexts; 0 or a negative code with err naming the profile and the problem:
 * -EINVAL (inconsistent: ceiling below floor, ECDSA with TLS 1.0, cn-san checks without a CA,
 * client checks without permitted names), -EPROTO (OpenSSL refused a setting), -ENOMEM.
 * conf's pointers are borrowed and must outlive p. */
int tls_profile_build(struct tls_profile *p, const struct tls_profile_conf *conf, char *err,
                      size_t errlen) __attribute__((warn_unused_result));
void tls_profile_free(struct tls_profile *p);
/* the profile whose context an SSL currently uses (after SNI selection: the chosen one) */
const struct tls_profile *tls_profile_of(const SSL *ssl);
/* makes an SSL that was created from another context follow p->server: context, verify mode and
 * callback, options, version range, security level, ciphers (OpenSSL copies those into the SSL
 * at SSL_new, and SSL_set_SSL_CTX only swaps the certificate). 0 or -EPROTO. */
int tls_profile_switch_server(SSL *ssl, const struct tls_profile *p)
    __attribute__((warn_unused_result));
/* parses "1.0" "1.1" "1.2" "1.3" into TLS1_*_VERSION; -EINVAL otherwise */
int tls_profile_version(const char *s) __attribute__((warn_unused_result));

#endif
