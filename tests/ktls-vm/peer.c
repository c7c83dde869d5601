/* ktls-peer: a TLS 1.3 client that sends siptlsd the non-data records a peer can send after the
 * handshake, for tests/ktls-vm/e2e.sh (issue 7 item 3 through the worker, not just the record
 * layer). Needs the kernel's tls module: it uses kernel TLS both ways itself (OpenSSL 3.0 sends,
 * tls_conn_ktls_rx13 receives), so it can put any record type on the wire with
 * TLS_SET_RECORD_TYPE.
 *
 * usage: ktls-peer HOST:PORT CERT KEY CA ACTION
 *   ticket     a NewSessionTicket, then an OPTIONS: exit 0 when its 200 comes back (the
 *              connection survived the ticket)
 *   alert      a fatal handshake_failure alert: exit 0 when siptlsd closes the connection
 *   keyupdate  a KeyUpdate: exit 0 when siptlsd closes the connection
 *   close      close_notify: exit 0 when siptlsd answers with its own close_notify
 * Exit 1: the expectation failed (printed), 2: setup failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "tls/conn.h"
#include "tls/keylog.h"
#include "tls/ktls.h"

static const char options_req[] = "OPTIONS sip:1000@127.0.0.1:5061 SIP/2.0\r\n"
                                  "Via: SIP/2.0/TLS peer.test:5061;branch=z9hG4bKktlspeer1\r\n"
                                  "Max-Forwards: 70\r\n"
                                  "From: <sip:peer@peer.test>;tag=kp1\r\n"
                                  "To: <sip:1000@127.0.0.1>\r\n"
                                  "Call-ID: ktls-peer-1@peer.test\r\n"
                                  "CSeq: 1 OPTIONS\r\n"
                                  "Content-Length: 0\r\n\r\n";

static int die(int rc, const char *what)
{
	fprintf(stderr, "ktls-peer: %s\n", what);
	return rc;
}

static int connect_to(const char *hostport)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd;
	if (!colon || (size_t)(colon - hostport) >= sizeof host)
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static SSL_CTX *make_ctx(const char *cert, const char *key, const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	if (tls_keylog_install(ctx, NULL) || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static int handshake(struct tls_conn *c)
{
	enum tls_step st = TLS_STEP_WANT_WRITE;
	while (st == TLS_STEP_WANT_READ || st == TLS_STEP_WANT_WRITE) {
		struct pollfd p = {c->fd, st == TLS_STEP_WANT_READ ? POLLIN : POLLOUT, 0};
		poll(&p, 1, 100);
		st = tls_conn_handshake_step(c, tls_conn_now_ns());
	}
	return st == TLS_STEP_DONE ? 0 : -1;
}

static int send_record(int fd, uint8_t type, const void *body, size_t n)
{
	union {
		char buf[CMSG_SPACE(1)];
		struct cmsghdr align;
	} ctrl = {{0}};
	struct iovec iov = {(void *)body, n};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = ctrl.buf,
	                     .msg_controllen = sizeof ctrl.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = type;
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

enum outcome { GOT_200, GOT_CLOSE_NOTIFY, GOT_EOF, GOT_NOTHING, GOT_ERROR };

/* reads through kernel receive for up to 10 s: what ended it */
static enum outcome await(int fd)
{
	static char buf[16384];
	size_t have = 0;
	for (int i = 0; i < 100; i++) {
		struct tls_ktls_rx_event ev;
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 100);
		ssize_t n = tls_ktls_recv(fd, buf + have, sizeof buf - 1 - have, &ev);
		if (n == -EAGAIN)
			continue;
		if (n < 0)
			return n == -ECONNRESET ? GOT_EOF : GOT_ERROR;
		if (n == 0)
			return GOT_EOF;
		if (ev.kind == TLS_KTLS_RX_CLOSE)
			return GOT_CLOSE_NOTIFY;
		if (ev.kind != TLS_KTLS_RX_DATA)
			continue; /* siptlsd's own tickets */
		have += (size_t)n;
		buf[have] = 0;
		if (strstr(buf, "SIP/2.0 200 "))
			return GOT_200;
	}
	return GOT_NOTHING;
}

static const char *outcome_name(enum outcome o)
{
	static const char *const names[] = {"200 OK", "close_notify", "EOF", "nothing", "error"};
	return names[o];
}

static int act(int fd, const char *action)
{
	static const uint8_t nst[] = {4, 0, 0, 9, 0, 0, 0, 60, 1, 2, 3, 4, 0};
	static const uint8_t ku[] = {24, 0, 0, 1, 0}, fatal[] = {2, 40};
	enum outcome want, got;
	int rc;
	if (!strcmp(action, "ticket")) {
		rc = send_record(fd, TLS_KTLS_CT_HANDSHAKE, nst, sizeof nst);
		if (!rc)
			rc = send(fd, options_req, sizeof options_req - 1, MSG_NOSIGNAL) ==
			             (ssize_t)(sizeof options_req - 1)
			         ? 0
			         : -1;
		want = GOT_200;
	} else if (!strcmp(action, "alert")) {
		rc = send_record(fd, TLS_KTLS_CT_ALERT, fatal, sizeof fatal);
		want = GOT_EOF;
	} else if (!strcmp(action, "keyupdate")) {
		rc = send_record(fd, TLS_KTLS_CT_HANDSHAKE, ku, sizeof ku);
		want = GOT_CLOSE_NOTIFY; /* closed cleanly: close_notify first */
	} else if (!strcmp(action, "close")) {
		rc = tls_ktls_send_close_notify(fd);
		want = GOT_CLOSE_NOTIFY;
	} else {
		return die(2, "unknown action");
	}
	if (rc)
		return die(2, "sending the record failed");
	got = await(fd);
	printf("ktls-peer %s: got %s, want %s\n", action, outcome_name(got), outcome_name(want));
	return got == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct tls_conn c;
	SSL_CTX *ctx;
	int fd, rc;
	if (argc != 6)
		return die(2,
		           "usage: ktls-peer HOST:PORT CERT KEY CA ticket|alert|keyupdate|close");
	if (!(ctx = make_ctx(argv[2], argv[3], argv[4])))
		return die(2, "TLS context");
	if ((fd = connect_to(argv[1])) < 0)
		return die(2, "connect");
	if (tls_conn_init(&c, ctx, fd, false, tls_conn_now_ns() + 20000000000ull) || handshake(&c))
		return die(2, c.reason[0] ? c.reason : "handshake");
	if (c.rec.tx != TLS_RL_KERNEL || tls_conn_ktls_rx13(&c) || tls_conn_shed(&c))
		return die(2, "kernel TLS both ways");
	rc = act(fd, argv[5]);
	tls_conn_free(&c);
	close(fd);
	SSL_CTX_free(ctx);
	return rc;
}
