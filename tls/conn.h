/* conn: one TLS connection: its fd, its SSL, the non-blocking handshake driver, and afterwards
 * its record layer (tls/record.h).
 *
 * The handshake is driven by fd readiness so the io_uring worker can poll: call
 * tls_conn_handshake_step() when the connection starts and again whenever the fd became ready
 * in the direction the last step asked for. Each step checks the caller's deadline (monotonic
 * ns). When a step returns TLS_STEP_DONE, c->info says what was negotiated and c->rec is set up.
 *
 * The SSL_CTX should carry SSL_OP_ENABLE_KTLS (so OpenSSL may hand directions to the kernel) and
 * tls_keylog_install() (so TLS 1.3 traffic secrets reach c->secrets for kTLS receive). Policy
 * (SNI, identity checks, verify mode) is set on the SSL_CTX or on c->ssl between
 * tls_conn_init() and the first step. Read-ahead is switched off here: OpenSSL refuses receive
 * offload with a partial record buffered, and the memory-BIO swap relies on it.
 */
#ifndef SIPTLS_TLS_CONN_H
#define SIPTLS_TLS_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tls/keylog.h"
#include "tls/record.h"

enum tls_step {
	TLS_STEP_DONE,       /* handshake complete: c->info and c->rec are valid */
	TLS_STEP_WANT_READ,  /* call again when the fd is readable */
	TLS_STEP_WANT_WRITE, /* call again when the fd is writable */
	TLS_STEP_ERROR,      /* failed: c->error and c->reason say why; close the fd */
};

enum tls_conn_error {
	TLS_CONN_OK,
	TLS_CONN_ETIMEOUT, /* the caller's deadline passed before the handshake completed */
	TLS_CONN_EPROTO,   /* TLS protocol failure (bad bytes, no shared cipher, alert) */
	TLS_CONN_EVERIFY,  /* the peer's certificate failed verification */
	TLS_CONN_EEOF,     /* the peer closed the TCP connection during the handshake */
	TLS_CONN_ESYSCALL, /* a socket error (c->sys_errno) */
	TLS_CONN_ESETUP,   /* out of memory setting up the record layer */
};

/* what the handshake negotiated, for `show sip-ua connections ... detail` */
struct tls_conn_info {
	int version;              /* TLS1_2_VERSION, TLS1_3_VERSION ... */
	const char *version_name; /* "TLSv1.3" (OpenSSL's static string) */
	const char *cipher;       /* OpenSSL's name, e.g. "TLS_AES_128_GCM_SHA256" */
	uint16_t cipher_id;       /* IANA id, e.g. 0x1301 */
	char group[32];           /* key exchange group, e.g. "X25519", "prime256v1"; "" if none */
	char peer_cn[128];        /* peer certificate subject CN; "" if no certificate / no CN */
	char peer_san[256];       /* its first dNSName (or iPAddress) SAN; "" if none */
	enum tls_rl rx, tx;       /* the record layer each direction got */
};

struct tls_conn {
	SSL *ssl; /* NULL after tls_conn_shed */
	int fd;   /* borrowed: the caller closes it */
	bool server;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
	enum tls_conn_error error;
	int sys_errno;
	char reason[160];
	struct tls_conn_info info;
	struct tls_record rec;
	struct tls_keylog_sink secrets; /* TLS 1.3 application traffic secrets (kTLS receive) */
};

/* CLOCK_MONOTONIC now, in ns */
uint64_t tls_conn_now_ns(void);

/* makes c->ssl for fd (non-blocking, connected) as server or client. 0 or -ENOMEM. On failure
 * nothing needs freeing; on success call tls_conn_free. c must stay where it is until then (the
 * SSL points at c->secrets). */
int tls_conn_init(struct tls_conn *c, SSL_CTX *ctx, int fd, bool server, uint64_t deadline_ns)
    __attribute__((warn_unused_result));
/* one handshake step at time now_ns; see enum tls_step. After DONE or ERROR it repeats itself. */
enum tls_step tls_conn_handshake_step(struct tls_conn *c, uint64_t now_ns);
/* TLS 1.3 with kernel send and user receive (what OpenSSL 3.0 does with the tls module): moves
 * receive to the kernel by installing the peer's application traffic key ourselves (issue 7).
 * Call it between receive steps (after MORE); the sequence number is the count of records the
 * user twin consumed (session tickets included). 0 (c->info.rx is now kernel), -EOPNOTSUPP (not
 * that case), -ENOKEY (no secret: tls_keylog_install missing on the SSL_CTX), -EAGAIN (a
 * partial record or unread plaintext: read on and retry), or -errno from the kernel (the
 * connection stays on the user twin). A KeyUpdate the user twin processed before the switch
 * would make the kernel's key stale: it fails to decrypt (EBADMSG) and the connection closes. */
int tls_conn_ktls_rx13(struct tls_conn *c) __attribute__((warn_unused_result));
/* once the kernel has both directions, OpenSSL has nothing left to do for c: frees the SSL
 * object (an idle connection then costs only our own state; issue 7). c->info (version, cipher,
 * group, peer identity) stays, and so does everything the record layer still does: kernel
 * receive with control records (tls_record_recv_kdata / _kmsg) and close_notify
 * (tls_record_close). 0 (c->ssl is NULL now), -EOPNOTSUPP (a direction is on the user twin). */
int tls_conn_shed(struct tls_conn *c) __attribute__((warn_unused_result));
/* frees the SSL and the record layer and wipes the secrets; does not close the fd. */
void tls_conn_free(struct tls_conn *c);

#endif
