/* Test fixtures for the TLS policy tests: trustpoints from the test PKI, a handshake runner that
 * plays the handshake driver's part (ident attach, SNI, failure counting), and a log capture. */
#ifndef SIPTLS_TESTS_TLS_FIX_H
#define SIPTLS_TESTS_TLS_FIX_H

#include <stdbool.h>

#include "tests/tls/support/hs.h"
#include "tests/tls/support/pki.h"
#include "tls/ident.h"
#include "tls/profile.h"
#include "tls/sni.h"
#include "tls/trustpoint.h"

/* a trustpoint conf with its own copies of the paths (tpki_path's buffers rotate) */
struct tfix_tp {
	char cert[256], key[256], ca[256], crl[256];
	struct tls_trustpoint_conf conf;
	struct tls_trustpoint tp;
};

/* fills f->conf: name "TP-<leaf>", <leaf>.crt/.key (leaf NULL: no certificate), ca.crt when
 * ca, crl.pem with revocation-check crl when crl */
void tfix_tp_init(struct tfix_tp *f, const struct tpki *pki, const char *leaf, bool ca, bool crl);
/* tfix_tp_init + tls_trustpoint_load; 0 or its error */
int tfix_tp_load(struct tfix_tp *f, const struct tpki *pki, const char *leaf, bool ca, bool crl);

struct tfix_opts {
	const char *target;                       /* client: host dialled (ident + SNI) */
	const struct tls_profile *client_profile; /* for SNI send (NULL: no SNI) */
	const struct tls_sni_table *sni;          /* server: SNI selection */
	unsigned client_tenant, server_tenant;
	struct tls_stats *client_stats, *server_stats;
	SSL_SESSION *session; /* client: resume this session */
};

struct tfix_conn {
	int cfd, sfd;
	SSL *c, *s;
	struct ths_result r;
	int rc;                        /* 0: both handshakes done and one byte went each way */
	struct tls_ident_ctx cid, sid; /* what was attached to c and s */
};

/* connects cctx to sctx over 127.0.0.1 and runs the handshake and a round trip; failed ends are
 * reported with tls_ident_handshake_failed, as the driver does */
int tfix_run(struct tfix_conn *k, SSL_CTX *cctx, SSL_CTX *sctx, const struct tfix_opts *o);
void tfix_close(struct tfix_conn *k);

/* captured log lines (core_log hook) */
struct tfix_log {
	int n;
	int level[8];
	char line[8][1024];
};
void tfix_log_capture(struct tfix_log *l); /* starts capturing into l (zeroed) */
void tfix_log_stop(void);

#endif
