/* Test handshake helper: a connected TCP pair over 127.0.0.1 and a single-threaded, poll-driven
 * loop that runs both ends of a handshake until each has finished or failed. */
#ifndef SIPTLS_TESTS_TLS_HS_H
#define SIPTLS_TESTS_TLS_HS_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct ths_end {
	bool done;          /* SSL_do_handshake returned 1 */
	bool failed;        /* it returned a fatal error */
	int ssl_error;      /* SSL_get_error of the failure */
	unsigned long err;  /* first ERR_get_error of the failure (0 if none) */
	long verify_result; /* SSL_get_verify_result at the end */
	char reason[160];   /* ERR_error_string_n of err */
};

struct ths_result {
	struct ths_end client, server;
};

/* a connected, non-blocking TCP pair on 127.0.0.1 (family AF_INET) or ::1 (AF_INET6);
 * *cfd is the connecting end; 0 or -1 */
int ths_tcp_pair(int family, int *cfd, int *sfd);
/* SSL_new(ctx) bound to fd, in connect (client) or accept state */
SSL *ths_ssl(SSL_CTX *ctx, int fd, bool server);
/* runs both handshakes until each is done or failed, or timeout_ms passes; a failed end has its
 * socket shut for writing so the peer sees EOF instead of waiting. Returns 0 when both ends are
 * done, -1 otherwise (details in *r). In TLS 1.3 the client may report done while the server
 * then rejects its certificate: use ths_roundtrip to see that. */
int ths_handshake(SSL *client, SSL *server, int timeout_ms, struct ths_result *r);
/* after a handshake: writes one byte each way and reads it back; 0 when both arrived */
int ths_roundtrip(SSL *client, SSL *server, int timeout_ms);

#endif
