/* The per-thread event loop: level-triggered epoll over non-blocking sockets, OpenSSL driving
 * each socket directly (SSL_set_fd). Messages are framed with the project's scanner
 * (sip_msg_scan) and handed to the mode; what the mode sends is appended to the connection's
 * send buffer and leaves in one SSL_write per connection per loop pass, so a burst of responses
 * becomes one TLS record rather than one record and one syscall each. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "bench/loadgen/lg.h"

#define LG_LISTEN_TOKEN UINT64_MAX
#define LG_RBUF_MIN 16384u
#define LG_RBUF_MAX (1u << 20)

volatile int lg_stop_flag;
static _Thread_local unsigned said; /* one diagnostic line per kind and thread */

uint64_t lg_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* prints why, once per thread and kind (bit), with OpenSSL's error queue if any */
static void say_once(unsigned bit, const char *what, int err)
{
	if (said & bit)
		return;
	said |= bit;
	char buf[256] = "";
	unsigned long e = ERR_peek_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	else if (err)
		snprintf(buf, sizeof(buf), "%s", strerror(err));
	fprintf(stderr, "siptls-bench: %s%s%s (further ones are only counted)\n", what,
	        buf[0] ? ": " : "", buf);
}

int lg_thr_init(struct lg_thr *t)
{
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	t->lfd = -1;
	return t->ep < 0 ? -errno : 0;
}

void lg_thr_fini(struct lg_thr *t)
{
	for (uint32_t i = 0; i < t->nconns; i++) {
		lg_close(t, t->conns[i]);
		free(t->conns[i]);
	}
	free(t->conns);
	free(t->free);
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->ep >= 0)
		close(t->ep);
}

static struct lg_conn *conn_alloc(struct lg_thr *t)
{
	struct lg_conn *c;
	if (t->nfree) {
		c = t->conns[t->free[--t->nfree]];
	} else {
		if (t->nconns == t->cap) {
			uint32_t cap = t->cap ? t->cap * 2 : 64;
			/* an array of pointers: sizeof(*cs) is meant (clang-tidy 14 cannot be told)
			 * NOLINTNEXTLINE(bugprone-sizeof-expression) */
			struct lg_conn **cs = realloc(t->conns, cap * sizeof(*cs));
			uint32_t *fr = cs ? realloc(t->free, cap * sizeof(*fr)) : NULL;
			if (cs)
				t->conns = cs;
			if (!fr)
				return NULL;
			t->free = fr;
			t->cap = cap;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->idx = t->nconns;
		c->gen = 1;
		t->conns[t->nconns++] = c;
	}
	/* dirty/next_dirty survive: the slot may still be on this pass's dirty list */
	c->fd = -1;
	c->ssl = NULL;
	c->want_out = c->out_armed = false;
	c->rlen = c->wlen = 0;
	c->outstanding = 0;
	c->t0 = t->now;
	return c;
}

static uint64_t ev_token(const struct lg_conn *c)
{
	return (uint64_t)c->gen << 32 | c->idx;
}

static void set_out(struct lg_thr *t, struct lg_conn *c, bool on)
{
	c->want_out = on;
	if (on == c->out_armed)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = ev_token(c)};
	epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->out_armed = on;
}

struct lg_conn *lg_conn_get(struct lg_thr *t, uint32_t idx, uint32_t gen)
{
	if (idx >= t->nconns)
		return NULL;
	struct lg_conn *c = t->conns[idx];
	return c->gen == gen && c->state != LG_C_FREE ? c : NULL;
}

void lg_close(struct lg_thr *t, struct lg_conn *c)
{
	if (c->state == LG_C_FREE)
		return;
	if (t->ops->closed)
		t->ops->closed(t, c);
	if (c->ssl) {
		if (c->state == LG_C_UP)
			SSL_shutdown(
			    c->ssl); /* close_notify, best effort: the socket is non-blocking */
		SSL_free(c->ssl);
	}
	ERR_clear_error();
	close(c->fd); /* also leaves the epoll set */
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->rcap = c->wcap = c->rlen = c->wlen = 0;
	c->fd = -1;
	c->ssl = NULL;
	c->state = LG_C_FREE;
	c->gen++;
	t->free[t->nfree++] = c->idx;
}

static void lost(struct lg_thr *t, struct lg_conn *c)
{
	lg_add(&t->st.conn_lost, 1);
	lg_close(t, c);
}

static void handshake(struct lg_thr *t, struct lg_conn *c)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(c->ssl);
	if (rc == 1) {
		c->state = LG_C_UP;
		set_out(t, c, c->wlen > 0);
		lg_add(&t->st.conns_up, 1);
		t->ops->up(t, c);
		return;
	}
	int e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		set_out(t, c, e == SSL_ERROR_WANT_WRITE);
		return;
	}
	say_once(1, "TLS handshake failed", errno);
	lg_add(&t->st.hs_fail, 1);
	lg_close(t, c);
}

static int ssl_start(struct lg_thr *t, struct lg_conn *c, bool server)
{
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	if (server) {
		SSL_set_accept_state(c->ssl);
	} else {
		SSL_set_connect_state(c->ssl);
		if (t->o->sni) {
			SSL_set_tlsext_host_name(c->ssl, t->o->sni);
			if (t->o->ca && SSL_set1_host(c->ssl, t->o->sni) != 1)
				return -1;
		}
	}
	c->state = LG_C_HANDSHAKE;
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct lg_conn *lg_connect(struct lg_thr *t)
{
	const struct lg_opts *o = t->o;
	int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say_once(2, "socket", errno);
		lg_add(&t->st.conn_fail, 1);
		return NULL;
	}
	nodelay(fd);
	if (connect(fd, (const struct sockaddr *)&o->addr, o->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		say_once(2, "connect", errno);
		close(fd);
		lg_add(&t->st.conn_fail, 1);
		return NULL;
	}
	struct lg_conn *c = conn_alloc(t);
	if (!c) {
		close(fd);
		lg_add(&t->st.conn_fail, 1);
		return NULL;
	}
	c->fd = fd;
	c->t0 = lg_now();
	c->state = LG_C_CONNECTING;
	c->out_armed = c->want_out = true;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = ev_token(c)};
	epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev);
	return c;
}

static void connected(struct lg_thr *t, struct lg_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		say_once(2, "connect", err);
		lg_add(&t->st.conn_fail, 1);
		lg_close(t, c);
		return;
	}
	if (ssl_start(t, c, false) < 0) {
		say_once(1, "TLS setup failed", 0);
		lg_add(&t->st.hs_fail, 1);
		lg_close(t, c);
		return;
	}
	handshake(t, c);
}

int lg_listen(struct lg_thr *t)
{
	const struct lg_opts *o = t->o;
	int one = 1, fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)); /* one socket per thread */
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addrlen) < 0 || listen(fd, 4096) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	t->lfd = fd;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LG_LISTEN_TOKEN};
	return epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void on_accept(struct lg_thr *t)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				say_once(4, "accept", errno);
				lg_add(&t->st.conn_fail, 1);
			}
			return;
		}
		nodelay(fd);
		struct lg_conn *c = conn_alloc(t);
		if (!c) {
			close(fd);
			lg_add(&t->st.conn_fail, 1);
			continue;
		}
		c->fd = fd;
		c->t0 = lg_now();
		c->state = LG_C_HANDSHAKE; /* so lg_close cleans up if ssl_start fails */
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ev_token(c)};
		epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev);
		lg_add(&t->st.accepted, 1);
		if (ssl_start(t, c, true) < 0) {
			lg_add(&t->st.hs_fail, 1);
			lg_close(t, c);
			continue;
		}
		handshake(t, c);
	}
}

char *lg_wreserve(struct lg_conn *c, uint32_t n)
{
	if (c->wcap - c->wlen < n) {
		uint32_t cap = c->wcap ? c->wcap : 4096;
		while (cap - c->wlen < n)
			cap *= 2;
		char *p = realloc(c->wbuf, cap);
		if (!p)
			return NULL;
		c->wbuf = p;
		c->wcap = cap;
	}
	return c->wbuf + c->wlen;
}

void lg_wcommit(struct lg_thr *t, struct lg_conn *c, uint32_t n)
{
	c->wlen += n;
	if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = t->dirty;
		t->dirty = c;
	}
}

void lg_send(struct lg_thr *t, struct lg_conn *c, const char *p, uint32_t n)
{
	char *w = lg_wreserve(c, n);
	if (!w)
		return;
	memcpy(w, p, n);
	lg_wcommit(t, c, n);
}

/* SSL_write of the whole buffer. SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets a retry after
 * WANT_WRITE pass the buffer again from its (possibly moved) start with more bytes appended. */
static void flush(struct lg_thr *t, struct lg_conn *c)
{
	if (c->state != LG_C_UP || c->wlen == 0)
		return;
	ERR_clear_error();
	int n = SSL_write(c->ssl, c->wbuf, (int)c->wlen);
	if (n > 0) {
		c->wlen -= (uint32_t)n; /* n == wlen without SSL_MODE_ENABLE_PARTIAL_WRITE */
		memmove(c->wbuf, c->wbuf + n, c->wlen);
		set_out(t, c, false);
		return;
	}
	int e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE)
		set_out(t, c, true);
	else if (e != SSL_ERROR_WANT_READ)
		lost(t, c);
}

static void flush_dirty(struct lg_thr *t)
{
	while (t->dirty) {
		struct lg_conn *c = t->dirty;
		t->dirty = c->next_dirty;
		c->dirty = false;
		flush(t, c);
	}
}

/* hands every complete message at the start of rbuf to the mode; -1 when c was closed */
static int frame(struct lg_thr *t, struct lg_conn *c)
{
	static const struct sip_limits lim = {LG_RBUF_MAX, 96, 8192};
	uint32_t off = 0, gen = c->gen;
	while (off < c->rlen) {
		struct sip_msg m;
		sip_msg_init(&m, t->hdr, sizeof(t->hdr) / sizeof(t->hdr[0]));
		int n = sip_msg_scan(c->rbuf + off, c->rlen - off, &lim, &m);
		if (n == 0)
			break;
		if (n < 0) {
			fprintf(stderr, "siptls-bench: unparseable message (%s): closing\n",
			        sip_err_str(n));
			lg_add(&t->st.parse_err, 1);
			lg_close(t, c);
			return -1;
		}
		off += (uint32_t)n;
		if (m.kind != SIP_KIND_PONG && t->ops->msg)
			t->ops->msg(t, c, &m);
		if (c->gen != gen)
			return -1;
	}
	if (off) {
		c->rlen -= off;
		memmove(c->rbuf, c->rbuf + off, c->rlen);
	}
	return 0;
}

static int rbuf_room(struct lg_conn *c)
{
	if (c->rcap - c->rlen >= 4096)
		return 0;
	uint32_t cap = c->rcap ? c->rcap * 2 : LG_RBUF_MIN;
	if (cap > LG_RBUF_MAX)
		return -1;
	char *p = realloc(c->rbuf, cap);
	if (!p)
		return -1;
	c->rbuf = p;
	c->rcap = cap;
	return 0;
}

static void readable(struct lg_thr *t, struct lg_conn *c)
{
	for (;;) {
		char scratch[4096], *dst = scratch;
		int room = sizeof(scratch);
		if (t->ops->msg) { /* idle mode has no use for what arrives */
			if (rbuf_room(c) < 0) {
				lg_add(&t->st.parse_err, 1);
				lg_close(t, c);
				return;
			}
			dst = c->rbuf + c->rlen;
			room = (int)(c->rcap - c->rlen);
		}
		ERR_clear_error();
		int n = SSL_read(c->ssl, dst, room);
		if (n > 0) {
			if (!t->ops->msg)
				continue;
			c->rlen += (uint32_t)n;
			if (frame(t, c) < 0)
				return;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return;
		if (e == SSL_ERROR_WANT_WRITE) {
			set_out(t, c, true);
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN && t->o->mode == LG_UAS)
			lg_close(t, c); /* a client that says goodbye is not an error */
		else
			lost(t, c); /* close_notify (uac), EOF, reset or a TLS error */
		return;
	}
}

static void on_event(struct lg_thr *t, uint64_t token, uint32_t events)
{
	if (token == LG_LISTEN_TOKEN) {
		on_accept(t);
		return;
	}
	struct lg_conn *c = lg_conn_get(t, (uint32_t)token, (uint32_t)(token >> 32));
	if (!c)
		return; /* closed earlier in this batch */
	switch (c->state) {
	case LG_C_CONNECTING:
		connected(t, c);
		break;
	case LG_C_HANDSHAKE:
		handshake(t, c);
		break;
	case LG_C_UP:
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			readable(t, c);
		if ((events & EPOLLOUT) && c->state == LG_C_UP && c->gen == (uint32_t)(token >> 32))
			flush(t, c);
		break;
	default:
		break;
	}
}

/* epoll_pwait2 gives the open-loop scheduler sub-millisecond waits; kernels before 5.11 lack
 * it and get epoll_wait's milliseconds (rounded up: never early). */
static int wait_events(struct lg_thr *t, struct epoll_event *ev, int nev, int64_t ns)
{
	static int no_pwait2;
	if (ns > 100000000 || ns < 0)
		ns = 100000000; /* wake at least every 100 ms: stop flag, progress */
	if (!__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
		struct timespec ts = {ns / 1000000000, ns % 1000000000};
		int n = epoll_pwait2(t->ep, ev, nev, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		__atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
	}
	return epoll_wait(t->ep, ev, nev, (int)((ns + 999999) / 1000000));
}

/* connections stuck in connect or handshake longer than --timeout fail (scanned every 100 ms:
 * cheap, and a deadline that late by 100 ms does not matter) */
static void expire_setup(struct lg_thr *t, uint64_t *last)
{
	if (t->now - *last < 100000000u)
		return;
	*last = t->now;
	uint64_t limit = (uint64_t)t->o->timeout_ms * 1000000u;
	for (uint32_t i = 0; i < t->nconns; i++) {
		struct lg_conn *c = t->conns[i];
		if ((c->state != LG_C_CONNECTING && c->state != LG_C_HANDSHAKE) ||
		    t->now - c->t0 < limit)
			continue;
		say_once(8,
		         c->state == LG_C_CONNECTING ? "connect timed out"
		                                     : "TLS handshake timed out",
		         0);
		lg_add(c->state == LG_C_CONNECTING ? &t->st.conn_fail : &t->st.hs_fail, 1);
		lg_close(t, c);
	}
}

void lg_run(struct lg_thr *t)
{
	struct epoll_event ev[256];
	uint64_t last_scan = lg_now();
	for (;;) {
		t->now = lg_now();
		expire_setup(t, &last_scan);
		if (t->ops->tick(t))
			break;
		flush_dirty(t);
		int64_t due = t->ops->next_due ? t->ops->next_due(t) : -1;
		int n = wait_events(t, ev, 256, due);
		if (n < 0 && errno != EINTR)
			break;
		t->now = lg_now();
		for (int i = 0; i < n; i++)
			on_event(t, ev[i].data.u64, ev[i].events);
		flush_dirty(t);
	}
	flush_dirty(t);
	t->load_end = lg_now();
	__atomic_store_n(&t->finished, true, __ATOMIC_RELEASE);
}
