/* io/listen: listen addresses, SO_REUSEPORT listen sockets, multishot accept.
 *
 * Every worker opens its own socket on each listener address (SO_REUSEPORT: the kernel spreads
 * new connections over the workers' sockets) and keeps one multishot accept armed on it.
 */
#ifndef SIPTLS_IO_LISTEN_H
#define SIPTLS_IO_LISTEN_H

#include "core/slice.h"
#include "io/ring.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* an IPv4 or IPv6 socket address, as bind/connect take it */
struct io_addr {
	struct sockaddr_storage ss;
	socklen_t len; /* 0: not set */
};

/* parses "A.B.C.D:PORT" or "[IPv6]:PORT" (port 0..65535; 0 lets the kernel choose). Literal
 * addresses only: a listener binds, it never resolves names. On error returns -EINVAL and
 * writes a message naming the bad text into err (errlen bytes, may be 0). */
int io_addr_parse(struct slice text, struct io_addr *out, char *err, size_t errlen) IO_MUST_CHECK;
/* the port of a (host order). */
unsigned io_addr_port(const struct io_addr *a);
/* the address of a without the port ("192.0.2.1", "2001:db8::1"), for log lines such as the
 * reference's %SIP-2-LISTEN_SOCKET ... ip_addr=A, port=P. Returns 0 or -ENOSPC / -EAFNOSUPPORT. */
int io_addr_ip(const struct io_addr *a, char *buf, size_t len) IO_MUST_CHECK;

#define IO_LISTEN_REUSEPORT 1u /* SO_REUSEPORT: one socket per worker on the same address */

/* a bound, listening, non-blocking, close-on-exec socket with SO_REUSEADDR (and SO_REUSEPORT
 * when asked); IPv6 sockets are V6ONLY so "[::]" and "0.0.0.0" can both be listened on.
 * Returns the fd or -errno: -EADDRINUSE, -EADDRNOTAVAIL, -EACCES ... for the caller to log. */
int io_listen_open(const struct io_addr *a, int backlog, unsigned flags) IO_MUST_CHECK;
/* the local port fd is bound to, or -errno (after binding port 0). */
int io_listen_port(int fd) IO_MUST_CHECK;

/* a listen socket with its multishot accept. Accepted sockets come non-blocking, close-on-exec. */
struct io_listener {
	int fd;
	uint64_t ud; /* user_data of the accept's completions */
	bool armed;  /* a multishot accept is in flight */
	uint64_t accepted;
	uint64_t failed; /* accept completions with an error */
};

/* queues a multishot accept if none is armed. */
int io_listener_arm(struct io_listener *l, struct io_ring *r) IO_MUST_CHECK;
/* interprets an accept completion: the new fd (>= 0) or -errno. Clears armed when the kernel
 * stopped the multishot: the caller re-arms, except after an error io_accept_backoff names, where
 * re-arming at once would spin (the pending connection stays queued, the accept fails again):
 * it waits a timer first. */
int io_listener_take(struct io_listener *l, const struct io_uring_cqe *cqe) IO_MUST_CHECK;
/* stops accepting: cancels the armed accept (it completes -ECANCELED). Does not close fd. */
int io_listener_stop(struct io_listener *l, struct io_ring *r, uint64_t cancel_ud) IO_MUST_CHECK;

/* accept errors that mean "out of descriptors or memory": back off before re-arming. */
static inline bool io_accept_backoff(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

#endif
