/* sni: Server Name Indication (RFC 6066 section 3) in both directions.
 *
 * Outbound, with `sni send`: the target's host name goes into the ClientHello — never an IP
 * literal (RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted").
 * Inbound: several tenants may share one listen address ("remote application selection"); the
 * ClientHello's server name picks the tenant whose profile (certificate, CA, cn-san policy,
 * versions, ciphers) the handshake then uses; no name or an unknown one picks the default.
 * Selection runs in OpenSSL's ClientHello callback, before the version and cipher are chosen,
 * so the chosen tenant's whole policy applies.
 */
#ifndef SIPTLS_TLS_SNI_H
#define SIPTLS_TLS_SNI_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "tls/profile.h"

#define TLS_SNI_MAX 32

struct tls_sni_tenant {
	const char *name;                  /* SNI host name it answers to ("*.domain" allowed) */
	unsigned tenant;                   /* `voice class tenant` number */
	const struct tls_profile *profile; /* built; its server context is used */
};

/* the tenants of one listen address; borrowed by every SSL attached to it */
struct tls_sni_table {
	struct tls_sni_tenant dflt; /* no SNI or unknown name (name unused) */
	struct tls_sni_tenant t[TLS_SNI_MAX];
	unsigned n;
};

/* outbound: sets the SNI of ssl to host when p says `sni send` and host is a DNS name.
 * 1 sent, 0 not sent (not configured, empty or an IP literal), -EPROTO. */
int tls_sni_client_set(SSL *ssl, const struct tls_profile *p, const char *host)
    __attribute__((warn_unused_result));
/* inbound: ssl (made from tbl->dflt.profile->server) selects among tbl's tenants during its
 * handshake; tbl must outlive ssl. 0 or -ENOMEM. */
int tls_sni_attach(SSL *ssl, const struct tls_sni_table *tbl) __attribute__((warn_unused_result));
/* the tenant chosen for ssl (the default's when no SNI matched); -1 before selection or when
 * no table is attached */
int tls_sni_chosen(const SSL *ssl);
/* the table entry tbl picks for a server name (NULL or unknown: &tbl->dflt) */
const struct tls_sni_tenant *tls_sni_lookup(const struct tls_sni_table *tbl, const char *name);
/* the ClientHello callback profiles install on their server contexts (no-op without a table) */
int tls_sni_client_hello_cb(SSL *ssl, int *alert, void *arg);

#endif
