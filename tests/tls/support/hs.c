/* Test handshake helper. See hs.h. */
#include "tests/tls/support/hs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

static int ths_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

int ths_tcp_pair(int family, int *cfd, int *sfd)
{
	struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
	socklen_t len =
	    family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int lfd = socket(family, SOCK_STREAM, 0), c = -1, s = -1, one = 1;

	if (family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	else
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len))
		goto fail;
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ss, len))
		goto fail;
	s = accept(lfd, NULL, NULL);
	if (s < 0 || ths_nonblock(c) || ths_nonblock(s))
		goto fail;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(lfd);
	*cfd = c;
	*sfd = s;
	return 0;
fail:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	if (lfd >= 0)
		close(lfd);
	return -1;
}

SSL *ths_ssl(SSL_CTX *ctx, int fd, bool server)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	SSL_set_fd(ssl, fd);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

static void ths_step(SSL *ssl, struct ths_end *e)
{
	int rc;

	if (e->done || e->failed)
		return;
	ERR_clear_error();
	rc = SSL_do_handshake(ssl);
	if (rc == 1) {
		e->done = true;
		return;
	}
	e->ssl_error = SSL_get_error(ssl, rc);
	if (e->ssl_error == SSL_ERROR_WANT_READ || e->ssl_error == SSL_ERROR_WANT_WRITE)
		return;
	e->failed = true;
	e->err = ERR_peek_error();
	ERR_error_string_n(e->err, e->reason, sizeof(e->reason));
	ERR_clear_error();
	shutdown(SSL_get_fd(ssl), SHUT_WR);
}

int ths_handshake(SSL *client, SSL *server, int timeout_ms, struct ths_result *r)
{
	memset(r, 0, sizeof(*r));
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		struct pollfd p[2] = {{.fd = SSL_get_fd(client), .events = POLLIN},
		                      {.fd = SSL_get_fd(server), .events = POLLIN}};

		ths_step(client, &r->client);
		ths_step(server, &r->server);
		if ((r->client.done || r->client.failed) && (r->server.done || r->server.failed))
			break;
		poll(p, 2, 10);
	}
	r->client.verify_result = SSL_get_verify_result(client);
	r->server.verify_result = SSL_get_verify_result(server);
	return r->client.done && r->server.done ? 0 : -1;
}

/* one byte from `from` to `to` */
static int ths_one_way(SSL *from, SSL *to, int timeout_ms, char byte)
{
	char got = 0;

	if (SSL_write(from, &byte, 1) != 1)
		return -1;
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		struct pollfd p[2] = {{.fd = SSL_get_fd(to), .events = POLLIN},
		                      {.fd = SSL_get_fd(from), .events = POLLIN}};
		int rc = SSL_read(to, &got, 1);

		if (rc == 1)
			return got == byte ? 0 : -1;
		if (SSL_get_error(to, rc) != SSL_ERROR_WANT_READ)
			return -1;
		poll(p, 2, 10);
	}
	return -1;
}

int ths_roundtrip(SSL *client, SSL *server, int timeout_ms)
{
	ERR_clear_error();
	if (ths_one_way(client, server, timeout_ms, 'c') ||
	    ths_one_way(server, client, timeout_ms, 's'))
		return -1;
	ERR_clear_error();
	return 0;
}
