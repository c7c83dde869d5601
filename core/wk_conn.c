/* Connections: the table, sending, closing, handshakes, accepting and the upstream pool.
 * (core/wk.h) */
#include "core/wk.h"

/* ---- time and small helpers ------------------------------------------------------------- */

static uint64_t conn_id(const struct worker *w, uint32_t slot, uint32_t gen)
{
	return (uint64_t)w->idx << 48 | (uint64_t)slot << 24 | (gen & 0xffffffu);
}

struct conn *wk_conn_by_id(struct worker *w, uint64_t id)
{
	uint32_t slot = (uint32_t)(id >> 24) & 0xffffffu;
	if ((id >> 48) != w->idx || slot >= MAX_CONNS || !w->conns[slot])
		return NULL;
	struct conn *c = w->conns[slot];
	return (c->gen & 0xffffffu) == (id & 0xffffffu) && c->state != C_FREE ? c : NULL;
}

struct conn *wk_conn_by_ud(struct worker *w, uint64_t ud)
{
	uint32_t slot = io_ud_id(ud);
	if (slot >= MAX_CONNS || !w->conns[slot])
		return NULL;
	struct conn *c = w->conns[slot];
	return (c->gen & IO_UD_EXTRA_MAX) == io_ud_extra(ud) && c->state != C_FREE ? c : NULL;
}

uint64_t wk_conn_ud(const struct conn *c, enum op op)
{
	return io_ud_pack((uint8_t)op, c->slot, c->gen & IO_UD_EXTRA_MAX);
}

void wk_addr_text(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	}
	snprintf(buf, n, "%s:%u", ip, port);
}

/* ---- connection table ------------------------------------------------------------------- */

static struct conn *conn_alloc(struct worker *w, int fd)
{
	for (uint32_t tries = 0; tries < MAX_CONNS; tries++) {
		uint32_t s = w->next_slot++ % MAX_CONNS;
		if (s == 0 || (w->conns[s] && w->conns[s]->state != C_FREE))
			continue; /* slot 0 is never used: id 0 means "none" */
		struct conn *c = w->conns[s];
		if (!c && !(c = w->conns[s] = calloc(1, sizeof(*c))))
			return NULL;
		uint32_t gen = (w->gens[s] + 1) & 0xffffffu;
		memset(c, 0, sizeof(*c));
		c->slot = s;
		c->gen = w->gens[s] = gen ? gen : 1;
		if (s > w->hi_slot)
			w->hi_slot = s;
		c->fd = fd;
		c->target = -1;
		c->timer.kind = T_CONN;
		c->id = conn_id(w, s, c->gen);
		c->g = daemon_gen_get(w->g);
		io_sendq_init(&c->sq, w->d->opts.sendq_limit);
		sip_msg_init(&c->scan, w->hdr, HDR_CAP);
		w->nconns++;
		w->st.active++;
		return c;
	}
	return NULL;
}

void wk_conn_release(struct worker *w, struct conn *c)
{
	if (io_timer_armed(&c->timer.t))
		io_wheel_cancel(w->wheel, &c->timer.t);
	if (c->state >= C_HANDSHAKE)
		tls_conn_free(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
	daemon_admit_close(w->d, &c->adm); /* inbound: its place in the limits is free again */
	memset(&c->adm, 0, sizeof(c->adm));
	io_sendq_free(&c->sq);
	for (uint32_t i = 0; i < c->nheld; i++)
		io_bufring_recycle(&w->br, c->held[i].bid);
	free(c->held);
	c->held = NULL;
	c->nheld = c->capheld = 0;
	free(c->rx);
	if (c->target >= 0 && w->pool[c->target] == c->id)
		w->pool[c->target] = 0;
	c->rx = NULL;
	c->state = C_FREE;
	c->paused = false;
	daemon_gen_put(c->g);
	c->g = NULL;
	w->nconns--;
	w->st.active--;
	if (!w->tearing_down) /* whoever waited for c tries again: a new upstream, or 503 */
		wk_conn_resume_waiters(w, c->id, true);
}

/* ---- sending ----------------------------------------------------------------------------
 *
 * wk_conn_send only queues: the bytes are copied into c's send queue (plaintext on every path)
 * and c is noted on the ring (io_ring_defer). Once the pass's completions are handled, the loop
 * (worker.c) flushes each noted connection once: on the user TLS path everything
 * queued becomes records in one go, and each connection gets at most one send per pass, however
 * many messages the pass produced for it. A send is also what wakes the peer, so fewer sends
 * save the peer's wake-ups as much as our own system calls. */

size_t wk_conn_queued(const struct conn *c)
{
	size_t q = c->sq.queued;
	if (c->state >= C_OPEN && c->tls.rec.tx == TLS_RL_USER)
		q += c->tls.rec.out.len - c->tls.rec.out.off;
	return q;
}

/* user TX: the plaintext queued so far becomes TLS records (several messages share a record).
 * A failure (out of memory, a broken SSL) loses the stream: the socket is shut down, so its
 * receive completes and closes c through the usual path (503 to what waited on it) instead of
 * c being released under a caller. */
static void conn_seal(struct worker *w, struct conn *c)
{
	size_t len;
	struct msghdr *m;
	while ((m = io_sendq_batch(&c->sq, &len)) != NULL) {
		int rc = tls_record_send(&c->tls.rec, m->msg_iov, (int)m->msg_iovlen);
		if (io_sendq_advance(&c->sq, len) < 0 || rc < 0) {
			io_sendq_free(&c->sq);
			w->st.send_failures++;
			shutdown(c->fd, SHUT_RDWR);
			return;
		}
	}
}

void wk_conn_flush(struct worker *w, struct conn *c)
{
	if (c->send_busy || c->fd < 0 || c->state < C_OPEN)
		return;
	struct slice v = {0};
	size_t len = 0;
	bool user = c->tls.rec.tx == TLS_RL_USER;
	if (user && c->sq.queued)
		conn_seal(w, c);
	if (user ? (v = tls_record_tx_view(&c->tls.rec)).n == 0 : c->sq.queued == 0)
		return;
	/* the SQE first: a batch taken from the queue is marked in flight */
	struct io_uring_sqe *sqe = io_ring_sqe(&w->ring);
	if (!sqe)
		return; /* the next completion of this connection flushes again */
	if (user) {
		io_uring_prep_send(sqe, c->fd, v.p, v.n, MSG_NOSIGNAL);
	} else {
		struct msghdr *m = io_sendq_batch(&c->sq, &len);
		if (!m) {
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, io_ud_pack(OP_NONE, 0, 0));
			return;
		}
		io_uring_prep_sendmsg(sqe, c->fd, m, MSG_NOSIGNAL);
	}
	io_uring_sqe_set_data64(sqe, wk_conn_ud(c, OP_SEND));
	c->send_busy = true;
}

static void conn_flush_later(struct worker *w, struct conn *c)
{
	if (c->sq.flush_noted)
		return;
	if (io_ring_defer(&w->ring, c->id) < 0) {
		wk_conn_flush(w, c); /* out of memory for the note: send now, unbatched */
		return;
	}
	c->sq.flush_noted = true;
}

/* Queues iov for c, flushed at the end of the pass; -ENOBUFS when c's queue is at its limit. */
int wk_conn_send(struct worker *w, struct conn *c, const struct iovec *iov, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	size_t limit = io_sendq_limit(&c->sq);
	if (c->state == C_CLOSING)
		return -EPIPE;
	if (wk_conn_queued(c) + len > limit) {
		w->st.queue_full++;
		return -ENOBUFS;
	}
	int rc = io_sendq_push(&c->sq, iov, n);
	if (rc < 0)
		return rc;
	size_t q = wk_conn_queued(c);
	if (q > w->st.max_sendq) {
		w->st.max_sendq = q;
		wk_addr_text(&c->peer, w->max_sendq_peer, sizeof(w->max_sendq_peer));
	}
	conn_flush_later(w, c);
	return 0;
}

int wk_conn_send_bytes(struct worker *w, struct conn *c, const char *p, size_t n)
{
	struct iovec iov = {(void *)(uintptr_t)p, n};
	return wk_conn_send(w, c, &iov, 1);
}

/* ---- closing ---------------------------------------------------------------------------- */

/* A failed wk_cancel (no SQE) is harmless: the request's completion still comes, and a slot's new
 * generation makes it stale. */
void wk_cancel(struct worker *w, uint64_t ud)
{
	if (io_ring_cancel(&w->ring, ud, io_ud_pack(OP_CANCEL, 0, 0)) < 0)
		core_log(LOG_DEBUG, "worker %u: wk_cancel not queued", w->idx);
}

static void conn_cancel_io(struct worker *w, struct conn *c)
{
	if (c->recv_armed)
		wk_cancel(w, wk_conn_ud(c, OP_RECV));
	if (c->poll_armed)
		wk_cancel(w, wk_conn_ud(c, OP_POLL));
}

/* (re-)arms accept on listener i; an error is retried from the accept timer */
void wk_listener_arm(struct worker *w, unsigned i)
{
	if (w->lis[i].fd < 0 || w->lis[i].armed || w->draining)
		return;
	if (io_listener_arm(&w->lis[i], &w->ring) < 0 && !io_timer_armed(&w->accept_retry.t))
		io_wheel_add(w->wheel, &w->accept_retry.t, wk_now_ms() + 100);
}

/* Closes now when no send is in flight, else when it completes (wk_on_send calls back). */
void wk_conn_close(struct worker *w, struct conn *c, bool notify)
{
	if (c->state == C_FREE)
		return;
	if (c->state == C_OPEN) /* what was queued (sends wait for the pass's end) goes first */
		wk_conn_flush(w, c);
	if (c->state != C_CLOSING) {
		bool open = c->state == C_OPEN;
		c->state = C_CLOSING;
		conn_cancel_io(w, c);
		if (c->outbound)
			wk_txn_fail_upstream(w, c->id, 503);
		if (open && notify && !c->closing_sent) {
			c->closing_sent = true;
			if (c->tls.rec.tx == TLS_RL_USER) /* queued behind a send: before close_notify */
				conn_seal(w, c);
			int rc = tls_record_close(&c->tls.rec);
			if (rc == TLS_TX_CIPHER) {
				c->state = C_OPEN; /* let the flush out */
				wk_conn_flush(w, c);
				c->state = C_CLOSING;
			}
		}
	}
	if (!c->send_busy)
		wk_conn_release(w, c);
}

/* ---- handshakes ------------------------------------------------------------------------- */

/* after a failed attempt the target waits before the next: 100 ms, doubling up to 30 s;
 * requests meanwhile get 503 at once instead of piling up behind a dead peer */
void wk_backoff(struct worker *w, unsigned ti)
{
	unsigned b = w->backoff_ms[ti];
	w->backoff_ms[ti] = b ? (b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2) : BACKOFF_MIN_MS;
	w->backoff_until[ti] = wk_now_ms() + w->backoff_ms[ti];
}

static void conn_arm_poll(struct worker *w, struct conn *c, unsigned events)
{
	struct io_uring_sqe *sqe = io_ring_sqe(&w->ring);
	if (!sqe) {
		wk_conn_close(w, c, false);
		return;
	}
	io_uring_prep_poll_add(sqe, c->fd, events);
	io_uring_sqe_set_data64(sqe, wk_conn_ud(c, OP_POLL));
	c->poll_armed = true;
}

void wk_conn_arm_recv(struct worker *w, struct conn *c)
{
	if (c->recv_armed || c->state != C_OPEN)
		return;
	if (c->tls.rec.rx == TLS_RL_KERNEL ? wk_krecv_arm(w, c) == 0 /* control records: wk_rx.c */
	                                   : io_bufring_recv_arm(&w->br, &w->ring, c->fd,
	                                                         wk_conn_ud(c, OP_RECV)) == 0)
		c->recv_armed = true;
	else
		wk_conn_close(w, c, false);
}

/* Kernel TLS for what OpenSSL 3.0 leaves undone (issue 7, docs/record-layer.md): it offloads
 * TLS 1.3 send only, so we install the receive key ourselves, before the first read is armed.
 * Read-ahead is off, so OpenSSL consumed no record after the handshake's last: the sequence
 * number is 0 on both sides, and session tickets that arrive later come through the kernel (and
 * are discarded). Then, with both directions in the kernel, the SSL object goes. */
static void conn_ktls(struct worker *w, struct conn *c)
{
	struct tls_conn *t = &c->tls;
	if (t->info.version == TLS1_3_VERSION && t->rec.tx == TLS_RL_KERNEL &&
	    t->rec.rx == TLS_RL_USER) {
		int rc = tls_conn_ktls_rx13(t);
		if (rc == 0) {
			w->st.tls.ktls_rx13_installs++;
		} else {
			char peer[80];
			wk_addr_text(&c->peer, peer, sizeof(peer));
			w->st.tls.ktls_rx13_failures++;
			core_log(LOG_INFO, "kernel TLS receive for %s not installed: %s; user path",
			         peer, strerror(-rc));
		}
	}
	if (tls_conn_shed(t) == 0)
		w->st.tls.ssl_shed++;
}

/* the handshake finished: pick up the tenant SNI chose, flush what waited, start reading */
static void conn_opened(struct worker *w, struct conn *c)
{
	c->state = C_OPEN;
	if (io_timer_armed(&c->timer.t))
		io_wheel_cancel(w->wheel, &c->timer.t);
	c->last_active = wk_now_ms();
	if (w->d->opts.idle_ms) /* re-armed lazily: activity only moves last_active */
		io_wheel_add(w->wheel, &c->timer.t, c->last_active + w->d->opts.idle_ms);
	if (!c->outbound) {
		int tag = tls_sni_chosen(c->tls.ssl);
		for (unsigned i = 0; tag >= 0 && i < c->g->ntenants; i++)
			if (c->g->tenants[i].tag == (unsigned)tag)
				c->tenant = i;
	}
	wk_conn_trust(c); /* the trusted list's verdict needs the SSL (cn-san) too */
	conn_ktls(w, c); /* after the last look at the SSL (SNI) */
	if (c->outbound) {
		w->backoff_ms[c->target] = 0;
		if (c->tls.rec.tx == TLS_RL_USER) { /* requests queued while connecting: encrypt */
			size_t len;
			struct msghdr *m;
			while ((m = io_sendq_batch(&c->sq, &len)) != NULL) {
				if (tls_record_send(&c->tls.rec, m->msg_iov, (int)m->msg_iovlen) <
				        0 ||
				    io_sendq_advance(&c->sq, len) < 0) {
					wk_conn_close(w, c, false);
					return;
				}
			}
		}
		wk_conn_flush(w, c);
	}
	wk_conn_arm_recv(w, c);
	if (tls_record_rx_pending(&c->tls.rec))
		wk_conn_on_data(w, c, (struct slice){0});
}

void wk_conn_handshake(struct worker *w, struct conn *c)
{
	switch (tls_conn_handshake_step(&c->tls, tls_conn_now_ns())) {
	case TLS_STEP_DONE:
		conn_opened(w, c);
		return;
	case TLS_STEP_WANT_READ:
		conn_arm_poll(w, c, POLLIN);
		return;
	case TLS_STEP_WANT_WRITE:
		conn_arm_poll(w, c, POLLOUT);
		return;
	case TLS_STEP_ERROR:
	default:
		break;
	}
	char peer[80];
	wk_addr_text(&c->peer, peer, sizeof(peer));
	/* counts the failure once, on our side of it (the identity check may have already) */
	tls_ident_handshake_failed(c->tls.ssl);
	if (c->outbound) {
		w->st.conn_failures++;
		wk_backoff(w, (unsigned)c->target);
	}
	if (c->tls.error == TLS_CONN_ETIMEOUT)
		w->st.handshake_timeouts++;
	core_log(LOG_INFO, "TLS handshake with %s failed: %s", peer, c->tls.reason);
	wk_conn_close(w, c, false);
}

/* attaches the identity checks (cn-san) and starts the handshake of a connected fd */
static int conn_start_tls(struct worker *w, struct conn *c, SSL_CTX *ctx, const char *target,
                          const struct tls_sni_table *sni)
{
	socklen_t ll = sizeof(c->local), pl = sizeof(c->peer);
	getsockname(c->fd, (struct sockaddr *)&c->local, &ll);
	getpeername(c->fd, (struct sockaddr *)&c->peer, &pl);
	uint64_t deadline = tls_conn_now_ns() + (uint64_t)w->d->opts.handshake_ms * 1000000u;
	if (tls_conn_init(&c->tls, ctx, c->fd, !c->outbound, deadline) < 0)
		return -ENOMEM;
	c->state = C_HANDSHAKE;
	struct tls_ident_ctx id = {.local = c->local,
	                           .remote = c->peer,
	                           .tenant = c->g->tenants[c->tenant].tag,
	                           .target = target,
	                           .stats = &w->st.tls};
	if (tls_ident_attach(c->tls.ssl, &id) < 0)
		return -ENOMEM;
	if (sni && tls_sni_attach(c->tls.ssl, sni) < 0)
		return -ENOMEM;
	if (c->outbound &&
	    tls_sni_client_set(c->tls.ssl, c->g->tenant_profile[c->tenant], target) < 0)
		return -EPROTO;
	io_wheel_add(w->wheel, &c->timer.t, wk_now_ms() + w->d->opts.handshake_ms);
	wk_conn_handshake(w, c);
	return 0;
}

/* ---- accepting -------------------------------------------------------------------------- */

/* Admission (core/admit.h): a connection over a limit is closed here, before any TLS, so a
 * flood costs an accept and a close, never a handshake. 0, or -1 when fd was closed (counted). */
static int accept_admit(struct worker *w, int fd, struct sockaddr_storage *peer,
                        struct daemon_admission *a)
{
	socklen_t pl = sizeof(*peer);
	enum daemon_admit_verdict v;
	if (getpeername(fd, (struct sockaddr *)peer, &pl) < 0)
		memset(peer, 0, sizeof(*peer)); /* reset already: the handshake fails and counts it */
	switch ((v = daemon_admit_open(w->d, w->g, peer, wk_now_ms(), a))) {
	case DAEMON_ADMIT_OK:
		w->st.admit_untracked += a->untracked;
		return 0;
	case DAEMON_REFUSE_TOTAL:
		w->st.refused_max_conns++;
		break;
	case DAEMON_REFUSE_SOURCE:
		w->st.refused_per_source++;
		break;
	case DAEMON_REFUSE_RATE:
	default:
		w->st.refused_rate++;
		break;
	}
	if (core_log_enabled(LOG_DEBUG)) {
		char text[80];
		wk_addr_text(peer, text, sizeof(text));
		core_log(LOG_DEBUG, "refused connection from %s: %s", text,
		         v == DAEMON_REFUSE_TOTAL    ? "max-connections"
		         : v == DAEMON_REFUSE_SOURCE ? "max-connections per-source"
		                                     : "connection-rate per-source");
	}
	close(fd);
	return -1;
}

void wk_on_accept(struct worker *w, unsigned li, int fd)
{
	const struct daemon_listener *l = &w->g->listeners[li];
	struct sockaddr_storage peer = {0};
	struct daemon_admission adm;
	if (accept_admit(w, fd, &peer, &adm) < 0)
		return;
	struct conn *c = conn_alloc(w, fd);
	if (!c) {
		close(fd);
		daemon_admit_close(w->d, &adm);
		w->st.accept_errors++;
		return;
	}
	c->adm = adm;
	c->peer = peer;
	w->st.accepted++;
	c->tenant = l->tenant;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	const struct tls_profile *p = w->g->tenant_profile[l->tenant];
	if (conn_start_tls(w, c, p->server, NULL, l->shared ? &l->sni : NULL) < 0) {
		w->st.tls.server_handshake_failures++; /* no SSL to count it on: out of memory */
		if (c->state != C_FREE)
			wk_conn_close(w, c, false);
	}
}

/* ---- the upstream pool ------------------------------------------------------------------ */

void wk_upstream_connected(struct worker *w, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	const struct daemon_target *t = &c->g->targets[c->target];
	if (err) {
		core_log(LOG_WARNING, "connect to %s:%u failed: %s", t->host, t->t.port,
		         strerror(err));
		w->st.conn_failures++;
		wk_backoff(w, (unsigned)c->target);
		wk_conn_close(w, c, false);
		return;
	}
	if (io_timer_armed(&c->timer.t))
		io_wheel_cancel(w->wheel, &c->timer.t);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	const struct tls_profile *p = c->g->tenant_profile[c->tenant];
	if (conn_start_tls(w, c, p->client, t->host, NULL) < 0 && c->state != C_FREE)
		wk_conn_close(w, c, false);
}

/* this worker's connection to target ti of configuration g: the pooled one, or a new one
 * being opened; NULL while the target is in its back-off after a failure. A pooled connection
 * serves only requests of its own configuration (target indexes differ between them). */
struct conn *wk_upstream_get(struct worker *w, struct daemon_gen *g, unsigned ti)
{
	struct conn *c = wk_conn_by_id(w, w->pool[ti]);
	if (c && c->state != C_CLOSING && c->g == g && c->target == (int)ti)
		return c;
	const struct daemon_target *t = &g->targets[ti];
	if (!t->resolved || wk_now_ms() < w->backoff_until[ti])
		return NULL;
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		w->st.conn_failures++;
		w->backoff_until[ti] = wk_now_ms() + BACKOFF_MIN_MS;
		return NULL;
	}
	if (!(c = conn_alloc(w, fd))) {
		close(fd);
		return NULL;
	}
	if (c->g != g) { /* a request of an older configuration: its connection is of it too */
		daemon_gen_put(c->g);
		c->g = daemon_gen_get(g);
	}
	c->outbound = true;
	c->target = (int)ti;
	memcpy(&c->peer, &t->addr, t->addr_len); /* known before connect completes: show, logs */
	socklen_t ll = sizeof(c->local); /* bound by connect(): requests may be traced at once */
	if (getsockname(fd, (struct sockaddr *)&c->local, &ll) < 0)
		memset(&c->local, 0, sizeof(c->local));
	c->tenant = t->t.tenant;
	c->state = C_CONNECTING;
	w->pool[ti] = c->id;
	io_wheel_add(w->wheel, &c->timer.t, wk_now_ms() + w->d->opts.connect_ms);
	conn_arm_poll(w, c, POLLOUT);
	return c;
}
