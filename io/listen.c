/* io/listen: address parsing, listen sockets, multishot accept. */
#include "io/listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int io_addr_fail(char *err, size_t errlen, const char *what, struct slice bad,
                        struct slice whole)
{
	if (errlen)
		snprintf(err, errlen, "%s \"%.*s\" in listen address \"%.*s\"", what,
		         SLICE_FMT(bad), SLICE_FMT(whole));
	return -EINVAL;
}

/* splits text into host and port: "[v6]:port" or "v4:port". */
static int io_addr_split(struct slice text, struct slice *host, struct slice *port, bool *v6,
                         char *err, size_t errlen)
{
	size_t colon;

	*v6 = text.n && text.p[0] == '[';
	if (*v6) {
		size_t close = slice_find(text, ']');

		if (close == text.n)
			return io_addr_fail(err, errlen, "missing ']' after", text, text);
		*host = slice_sub(text, 1, close);
		if (close + 1 == text.n || text.p[close + 1] != ':')
			return io_addr_fail(err, errlen, "missing \":PORT\" after",
			                    slice_sub(text, 0, close + 1), text);
		*port = slice_sub(text, close + 2, text.n);
		return 0;
	}
	colon = slice_find(text, ':');
	if (colon == text.n)
		return io_addr_fail(err, errlen, "missing \":PORT\" after", text, text);
	if (slice_find(slice_sub(text, colon + 1, text.n), ':') != text.n - colon - 1)
		return io_addr_fail(err, errlen, "IPv6 address needs brackets ([ADDR]:PORT):", text,
		                    text);
	*host = slice_sub(text, 0, colon);
	*port = slice_sub(text, colon + 1, text.n);
	return 0;
}

static int io_addr_host(struct slice host, bool v6, unsigned port, struct io_addr *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (host.n == 0 || host.n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, host.p, host.n);
	buf[host.n] = '\0';
	memset(out, 0, sizeof(*out));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, buf, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, buf, &s4->sin_addr) != 1)
			return -EINVAL;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*s4);
	}
	return 0;
}

int io_addr_parse(struct slice text, struct io_addr *out, char *err, size_t errlen)
{
	struct slice host, port;
	unsigned long long p;
	bool v6;
	int ret;

	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (text.n == 0)
		return io_addr_fail(err, errlen, "empty address", text, text);
	ret = io_addr_split(text, &host, &port, &v6, err, errlen);
	if (ret < 0)
		return ret;
	if (!slice_to_u64(port, 65535, &p))
		return io_addr_fail(err, errlen, "bad port (0-65535)", port, text);
	if (io_addr_host(host, v6, (unsigned)p, out) < 0)
		return io_addr_fail(err, errlen, v6 ? "bad IPv6 address" : "bad IPv4 address", host,
		                    text);
	return 0;
}

unsigned io_addr_port(const struct io_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return 0;
}

int io_addr_ip(const struct io_addr *a, char *buf, size_t len)
{
	const void *src;

	if (a->ss.ss_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	else if (a->ss.ss_family == AF_INET)
		src = &((const struct sockaddr_in *)&a->ss)->sin_addr;
	else
		return -EAFNOSUPPORT;
	if (!inet_ntop(a->ss.ss_family, src, buf, (socklen_t)len))
		return -ENOSPC;
	return 0;
}

static int io_listen_setopts(int fd, int family, unsigned flags)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if ((flags & IO_LISTEN_REUSEPORT) &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

int io_listen_open(const struct io_addr *a, int backlog, unsigned flags)
{
	int family = a->ss.ss_family;
	int fd, ret;

	if (a->len == 0 || (family != AF_INET && family != AF_INET6))
		return -EAFNOSUPPORT;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = io_listen_setopts(fd, family, flags);
	if (ret == 0 && bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		ret = -errno;
	if (ret == 0 && listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
		ret = -errno;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

int io_listen_port(int fd)
{
	struct io_addr a;

	memset(&a, 0, sizeof(a));
	a.len = sizeof(a.ss);
	if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) < 0)
		return -errno;
	return (int)io_addr_port(&a);
}

int io_listener_arm(struct io_listener *l, struct io_ring *r)
{
	struct io_uring_sqe *sqe;

	if (l->armed)
		return 0;
	sqe = io_ring_sqe(r);
	if (!sqe)
		return -EBUSY;
	/* no peer address: the worker asks getpeername only for the connection table */
	io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, l->ud);
	l->armed = true;
	return 0;
}

int io_listener_take(struct io_listener *l, const struct io_uring_cqe *cqe)
{
	if (!io_cqe_more(cqe))
		l->armed = false;
	if (cqe->res < 0) {
		l->failed++;
		return cqe->res;
	}
	l->accepted++;
	return cqe->res;
}

int io_listener_stop(struct io_listener *l, struct io_ring *r, uint64_t cancel_ud)
{
	if (!l->armed)
		return 0;
	return io_ring_cancel(r, l->ud, cancel_ud);
}
