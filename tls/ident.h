/* ident: CN/SAN identity checks (`cn-san validate server|client|bidirectional`) run inside the
 * certificate verify callback, with the guide's syslog line and per-side failure counters.
 *
 * Outbound (we are the TLS client; mode server or bidirectional): the target we dialled must
 * match the server certificate — an FQDN against its SAN dNSNames (the CN only when there is no
 * dNSName SAN), RFC 6125 section 6.4: case-insensitive, at most one wildcard and only as the
 * whole left-most label; an IP literal against its iPAddress SANs (RFC 6125 section 1.7.2).
 * Inbound (we are the TLS server; mode client or bidirectional): the client certificate's CN or
 * any SAN dNSName must match one of the profile's `cn-san` entries (entries may be "*.domain").
 * Such a connection is marked verified so the caller can skip the trusted-IP check.
 *
 * On a mismatch the handshake fails, the counter of our side counts once, and syslog gets:
 *   %SIP-2-TLS_HANDSHAKE_FAILED :Peer certificate identity check failed - remote_addr=A,
 *   remote_port=P, local_addr=A, local_port=P, vrf=, tenant=T            (one line)
 */
#ifndef SIPTLS_TLS_IDENT_H
#define SIPTLS_TLS_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "core/slice.h"
#include "tls/stats.h"

#define TLS_IDENT_HOST_MAX 256

/* what a connection tells the checks about itself; copied by tls_ident_attach */
struct tls_ident_ctx {
	struct sockaddr_storage local, remote; /* AF_INET or AF_INET6 */
	unsigned tenant;                       /* logged as tenant=T */
	const char *target;                    /* outbound: host dialled (FQDN or IP literal) */
	struct tls_stats *stats;               /* the worker's counters; may be NULL */
};

/* attaches a copy of ctx to ssl (SSL ex_data, freed with the SSL); call before the handshake.
 * 0, -ENAMETOOLONG (target longer than TLS_IDENT_HOST_MAX - 1) or -ENOMEM */
int tls_ident_attach(SSL *ssl, const struct tls_ident_ctx *ctx) __attribute__((warn_unused_result));
/* the tenant logged for this connection (SNI selection changes it); no-op when not attached */
void tls_ident_set_tenant(SSL *ssl, unsigned tenant);
/* did an inbound connection pass the cn-san client check (trusted-IP bypass)? For a resumed
 * session (no certificate verification ran) the session's certificate is checked on first ask. */
bool tls_ident_verified(const SSL *ssl);
/* did this connection fail a CN/SAN identity check? */
bool tls_ident_failed(const SSL *ssl);
/* the handshake driver calls this once a handshake has failed for any reason: counts the
 * failure on our side (client or server) once per connection; no-op without attached stats */
void tls_ident_handshake_failed(SSL *ssl);

/* the verify callback profiles install on both their SSL_CTXs (SSL_CTX_set_verify) */
int tls_ident_verify_cb(int preverify_ok, X509_STORE_CTX *x);

/* RFC 6125 6.4.3: does `pattern` (a name, or "*.rest" with rest holding two labels or more)
 * match the host name `name`? ASCII case-insensitive; '*' stands for exactly one whole label. */
bool tls_ident_name_match(struct slice pattern, struct slice name);
/* outbound check of a certificate against a target (FQDN or IP literal) */
bool tls_ident_check_server(X509 *cert, const char *target);
/* inbound check of a certificate against permitted names (any may be a wildcard) */
bool tls_ident_check_client(X509 *cert, const char *const *permitted, unsigned n);
/* the guide's syslog line for ctx (without the timestamp syslog adds); returns its length */
int tls_ident_format_failure(const struct tls_ident_ctx *ctx, char *buf, size_t n);

#endif
