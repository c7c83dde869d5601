/* The worker loop: one io_uring, completions dispatched through one switch to small handlers.
 *
 * Life of a connection: accepted (or connected, for the upstream pool) -> TLS handshake driven
 * by poll completions -> open: a multishot recv fills provided buffers, the record layer turns
 * them into plaintext in the connection's rx buffer, the scanner frames messages there and the
 * proxy rules (core/proxy.h) say where each goes -> closing: close_notify, then the fd closes
 * once no send is in flight (the kernel may still read a send's buffer until it completes).
 */
#include "core/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "core/daemon.h"
#include "core/ctl.h"
#include "core/log.h"
#include "io/bufring.h"
#include "io/listen.h"
#include "io/mailbox.h"
#include "io/ring.h"
#include "io/sendq.h"
#include "io/timer.h"
#include "sip/reply.h"
#include "sip/scalar.h"
#include "sip/via.h"
#include "tls/conn.h"
#include "tls/ident.h"
#include "tls/sni.h"

enum op { OP_NONE = 0, OP_ACCEPT, OP_POLL, OP_RECV, OP_SEND, OP_MAIL, OP_CANCEL };

enum cstate { C_FREE = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSING };

#define MAX_CONNS 65536u
#define TXN_BUCKETS 4096u
#define HDR_CAP 128
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000

enum tkind { T_CONN = 1, T_TXN, T_ACCEPT };

struct wtimer {
	struct io_timer t; /* first: a popped io_timer is a wtimer */
	uint8_t kind;
};

struct conn {
	struct wtimer timer; /* handshake / connect deadline */
	uint32_t slot, gen;
	enum cstate state;
	bool outbound, recv_armed, send_busy, poll_armed, closing_sent;
	unsigned tenant;  /* index */
	int target;       /* outbound: index in d->targets; -1 inbound */
	int fd;
	struct tls_conn tls;
	struct io_sendq sq; /* kernel TX, and requests waiting for an upstream handshake */
	char *rx;
	uint32_t rxlen, rxcap;
	struct sip_msg scan;
	struct sockaddr_storage peer, local;
	uint64_t id;
	struct daemon_gen *g;  /* the configuration it was made under (a reference) */
	uint64_t last_active; /* ms: the idle timeout counts from here */
	/* backpressure: a connection whose next message cannot be queued on blocked_on stops
	 * reading; receive buffers that were already in flight are held, in order, until then */
	bool paused;
	uint64_t blocked_on;
	struct held_buf { uint16_t bid; uint32_t len; const char *data; } *held;
	uint32_t nheld, capheld;
};

struct txn {
	struct wtimer timer;
	struct txn *next;
	char branch[PROXY_BRANCH_LEN];
	uint8_t method;
	bool provisional;
	uint64_t client;   /* inbound connection id */
	uint64_t upstream; /* connection the request went out on */
	char *req;         /* a copy of the request: local 408/503 are built from it */
	uint32_t req_len;
};

struct worker {
	struct daemon *d;
	struct daemon_gen *g; /* the configuration new connections get (a reference) */
	unsigned idx;
	pthread_t thread;
	bool thread_started;
	bool stop_posted;
	bool tearing_down; /* worker_join_free: releasing must not resume anything */
	struct io_mailbox mbox; /* control requests and the stop wake-up */
	struct worker_mail stop_mail;
	struct io_ring ring;
	struct io_bufring br;
	struct io_wheel *wheel;
	struct io_listener lis[DAEMON_MAX_LISTENERS];
	struct wtimer accept_retry;
	struct conn **conns; /* by slot */
	uint32_t *gens;
	uint32_t next_slot, nconns;
	uint32_t hi_slot; /* highest slot ever used: table walks stop there */
	struct txn *txns[TXN_BUCKETS];
	uint64_t ntxn;
	uint64_t pool[DAEMON_MAX_TARGETS];       /* connection id per target, 0: none */
	uint64_t backoff_until[DAEMON_MAX_TARGETS];
	unsigned backoff_ms[DAEMON_MAX_TARGETS];
	struct sip_hdr hdr[HDR_CAP];       /* the message being handled */
	struct sip_hdr hdr_saved[HDR_CAP]; /* a remembered request being answered */
	char reply[2048];
	bool draining;
	uint64_t drain_deadline;
	struct worker_stats st;
	char max_sendq_peer[80]; /* who had the largest send queue (show ... detail) */
	uint64_t *paused;        /* ids of connections paused by backpressure */
	uint32_t npaused, cappaused;
};

/* ---- time and small helpers ------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t conn_id(const struct worker *w, uint32_t slot, uint32_t gen)
{
	return (uint64_t)w->idx << 48 | (uint64_t)slot << 24 | (gen & 0xffffffu);
}

static struct conn *conn_by_id(struct worker *w, uint64_t id)
{
	uint32_t slot = (uint32_t)(id >> 24) & 0xffffffu;
	if ((id >> 48) != w->idx || slot >= MAX_CONNS || !w->conns[slot])
		return NULL;
	struct conn *c = w->conns[slot];
	return (c->gen & 0xffffffu) == (id & 0xffffffu) && c->state != C_FREE ? c : NULL;
}

static struct conn *conn_by_ud(struct worker *w, uint64_t ud)
{
	uint32_t slot = io_ud_id(ud);
	if (slot >= MAX_CONNS || !w->conns[slot])
		return NULL;
	struct conn *c = w->conns[slot];
	return (c->gen & IO_UD_EXTRA_MAX) == io_ud_extra(ud) && c->state != C_FREE ? c : NULL;
}

static uint64_t conn_ud(const struct conn *c, enum op op)
{
	return io_ud_pack((uint8_t)op, c->slot, c->gen & IO_UD_EXTRA_MAX);
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t n)
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

static void conn_resume_waiters(struct worker *w, uint64_t on, bool gone);

static void conn_release(struct worker *w, struct conn *c)
{
	if (io_timer_armed(&c->timer.t))
		io_wheel_cancel(w->wheel, &c->timer.t);
	if (c->state >= C_HANDSHAKE)
		tls_conn_free(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
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
		conn_resume_waiters(w, c->id, true);
}

/* ---- sending ---------------------------------------------------------------------------- */

static size_t conn_queued(const struct conn *c)
{
	size_t q = c->sq.queued;
	if (c->state >= C_OPEN && c->tls.rec.tx == TLS_RL_USER)
		q += c->tls.rec.out.len - c->tls.rec.out.off;
	return q;
}

static void conn_flush(struct worker *w, struct conn *c)
{
	if (c->send_busy || c->fd < 0 || c->state < C_OPEN)
		return;
	struct slice v = { 0 };
	size_t len = 0;
	bool user = c->tls.rec.tx == TLS_RL_USER;
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
	io_uring_sqe_set_data64(sqe, conn_ud(c, OP_SEND));
	c->send_busy = true;
}

/* Queues iov for c (encrypting on the user path); -ENOBUFS when c's queue is at its limit. */
static int conn_send(struct worker *w, struct conn *c, const struct iovec *iov, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	size_t limit = io_sendq_limit(&c->sq);
	if (c->state == C_CLOSING)
		return -EPIPE;
	if (conn_queued(c) + len > limit) {
		w->st.queue_full++;
		return -ENOBUFS;
	}
	int rc;
	if (c->state == C_OPEN && c->tls.rec.tx == TLS_RL_USER)
		rc = tls_record_send(&c->tls.rec, iov, n) < 0 ? -EIO : 0;
	else
		rc = io_sendq_push(&c->sq, iov, n);
	if (rc < 0)
		return rc;
	size_t q = conn_queued(c);
	if (q > w->st.max_sendq) {
		w->st.max_sendq = q;
		addr_text(&c->peer, w->max_sendq_peer, sizeof(w->max_sendq_peer));
	}
	conn_flush(w, c);
	return 0;
}

static int conn_send_bytes(struct worker *w, struct conn *c, const char *p, size_t n)
{
	struct iovec iov = { (void *)(uintptr_t)p, n };
	return conn_send(w, c, &iov, 1);
}

/* ---- closing ---------------------------------------------------------------------------- */

static void txn_fail_upstream(struct worker *w, uint64_t upstream, unsigned code);

/* A failed cancel (no SQE) is harmless: the request's completion still comes, and a slot's new
 * generation makes it stale. */
static void cancel(struct worker *w, uint64_t ud)
{
	if (io_ring_cancel(&w->ring, ud, io_ud_pack(OP_CANCEL, 0, 0)) < 0)
		core_log(LOG_DEBUG, "worker %u: cancel not queued", w->idx);
}

static void conn_cancel_io(struct worker *w, struct conn *c)
{
	if (c->recv_armed)
		cancel(w, conn_ud(c, OP_RECV));
	if (c->poll_armed)
		cancel(w, conn_ud(c, OP_POLL));
}

/* (re-)arms accept on listener i; an error is retried from the accept timer */
static void listener_arm(struct worker *w, unsigned i)
{
	if (w->lis[i].fd < 0 || w->lis[i].armed || w->draining)
		return;
	if (io_listener_arm(&w->lis[i], &w->ring) < 0 && !io_timer_armed(&w->accept_retry.t))
		io_wheel_add(w->wheel, &w->accept_retry.t, now_ms() + 100);
}

/* Closes now when no send is in flight, else when it completes (on_send calls back). */
static void conn_close(struct worker *w, struct conn *c, bool notify)
{
	if (c->state == C_FREE)
		return;
	if (c->state != C_CLOSING) {
		bool open = c->state == C_OPEN;
		c->state = C_CLOSING;
		conn_cancel_io(w, c);
		if (c->outbound)
			txn_fail_upstream(w, c->id, 503);
		if (open && notify && !c->closing_sent) {
			c->closing_sent = true;
			int rc = tls_record_close(&c->tls.rec);
			if (rc == TLS_TX_CIPHER) {
				c->state = C_OPEN; /* let the flush out */
				conn_flush(w, c);
				c->state = C_CLOSING;
			}
		}
	}
	if (!c->send_busy)
		conn_release(w, c);
}

/* ---- transactions ----------------------------------------------------------------------- */

static unsigned txn_bucket(const char *branch)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: the branch's token is already a PRF output */
	for (size_t i = 0; i < PROXY_BRANCH_LEN; i++)
		h = (h ^ (unsigned char)branch[i]) * 1099511628211ull;
	return (unsigned)(h % TXN_BUCKETS);
}

static struct txn **txn_find(struct worker *w, struct slice branch, uint8_t method)
{
	if (branch.n != PROXY_BRANCH_LEN)
		return NULL;
	struct txn **pp = &w->txns[txn_bucket(branch.p)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->method == method && memcmp((*pp)->branch, branch.p, PROXY_BRANCH_LEN) == 0)
			return pp;
	return NULL;
}

static void txn_unlink_free(struct worker *w, struct txn **pp)
{
	struct txn *t = *pp;
	*pp = t->next;
	if (io_timer_armed(&t->timer.t))
		io_wheel_cancel(w->wheel, &t->timer.t);
	free(t->req);
	free(t);
	w->ntxn--;
}

/* remembers a forwarded request so it can still be answered (408, 503) if upstream is not */
static void txn_add(struct worker *w, const struct proxy_decision *d, const struct sip_msg *m,
		    uint64_t client, uint64_t upstream)
{
	struct slice b = slice_make(d->branch, PROXY_BRANCH_LEN);
	if (m->method_id == SIP_M_ACK || txn_find(w, b, (uint8_t)m->method_id))
		return; /* ACK has no response; a retransmission keeps the first entry */
	struct txn *t = calloc(1, sizeof(*t));
	char *copy = t ? malloc(m->raw.n) : NULL;
	if (!copy) {
		free(t);
		return; /* out of memory: the request still goes, only a local 408 is lost */
	}
	memcpy(copy, m->raw.p, m->raw.n);
	memcpy(t->branch, d->branch, PROXY_BRANCH_LEN);
	t->method = (uint8_t)m->method_id;
	t->client = client;
	t->upstream = upstream;
	t->req = copy;
	t->req_len = (uint32_t)m->raw.n;
	t->timer.kind = T_TXN;
	unsigned k = txn_bucket(t->branch);
	t->next = w->txns[k];
	w->txns[k] = t;
	w->ntxn++;
	io_wheel_add(w->wheel, &t->timer.t, now_ms() + w->d->opts.txn_ms);
}

/* answers the request t remembers with code on its client connection, if that still exists */
static void txn_answer(struct worker *w, struct txn *t, unsigned code)
{
	struct conn *c = conn_by_id(w, t->client);
	struct sip_limits lim = w->g->limits;
	struct sip_msg m;
	if (!c || c->state != C_OPEN || t->method == SIP_M_ACK)
		return;
	/* its own header array: this can run while another message is being handled */
	sip_msg_init(&m, w->hdr_saved, HDR_CAP);
	if (sip_msg_scan(t->req, t->req_len, &lim, &m) <= 0)
		return;
	int n = proxy_reply(&w->g->proxy, &m, code, w->reply, sizeof(w->reply));
	if (n > 0 && conn_send_bytes(w, c, w->reply, (size_t)n) == 0)
		w->st.local_replies[code / 100]++;
}

static void txn_fail_upstream(struct worker *w, uint64_t upstream, unsigned code)
{
	for (unsigned k = 0; k < TXN_BUCKETS; k++) {
		struct txn **pp = &w->txns[k];
		while (*pp) {
			if ((*pp)->upstream == upstream) {
				txn_answer(w, *pp, code);
				w->st.upstream_unavailable++;
				txn_unlink_free(w, pp);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

static void txn_timeout(struct worker *w, struct txn *t)
{
	struct txn **pp = txn_find(w, slice_make(t->branch, PROXY_BRANCH_LEN), t->method);
	if (!pp)
		return;
	txn_answer(w, t, 408);
	w->st.timeouts++;
	txn_unlink_free(w, pp);
}

/* a response for a transaction: final ends it, a provisional INVITE one moves to timer C */
static void txn_response(struct worker *w, const struct sip_msg *m, struct slice branch)
{
	const struct sip_hdr *cs = sip_msg_get(m, SIP_H_CSEQ);
	struct sip_cseq cseq;
	if (!cs || sip_cseq_parse(cs->value, &cseq) < 0)
		return;
	struct txn **pp = txn_find(w, branch, (uint8_t)cseq.method_id);
	if (!pp)
		return;
	if (m->status >= 200) {
		txn_unlink_free(w, pp);
	} else if ((*pp)->method == SIP_M_INVITE && !(*pp)->provisional) {
		(*pp)->provisional = true;
		io_wheel_cancel(w->wheel, &(*pp)->timer.t);
		io_wheel_add(w->wheel, &(*pp)->timer.t, now_ms() + w->d->opts.txn_invite_ms);
	}
}

/* ---- handshakes ------------------------------------------------------------------------- */

/* after a failed attempt the target waits before the next: 100 ms, doubling up to 30 s;
 * requests meanwhile get 503 at once instead of piling up behind a dead peer */
static void backoff(struct worker *w, unsigned ti)
{
	unsigned b = w->backoff_ms[ti];
	w->backoff_ms[ti] = b ? (b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2) : BACKOFF_MIN_MS;
	w->backoff_until[ti] = now_ms() + w->backoff_ms[ti];
}

static void conn_arm_poll(struct worker *w, struct conn *c, unsigned events)
{
	struct io_uring_sqe *sqe = io_ring_sqe(&w->ring);
	if (!sqe) {
		conn_close(w, c, false);
		return;
	}
	io_uring_prep_poll_add(sqe, c->fd, events);
	io_uring_sqe_set_data64(sqe, conn_ud(c, OP_POLL));
	c->poll_armed = true;
}

static void conn_arm_recv(struct worker *w, struct conn *c)
{
	if (c->recv_armed || c->state != C_OPEN)
		return;
	if (io_bufring_recv_arm(&w->br, &w->ring, c->fd, conn_ud(c, OP_RECV)) == 0)
		c->recv_armed = true;
	else
		conn_close(w, c, false);
}

static void conn_on_data(struct worker *w, struct conn *c, struct slice in);

/* the handshake finished: pick up the tenant SNI chose, flush what waited, start reading */
static void conn_opened(struct worker *w, struct conn *c)
{
	c->state = C_OPEN;
	if (io_timer_armed(&c->timer.t))
		io_wheel_cancel(w->wheel, &c->timer.t);
	c->last_active = now_ms();
	if (w->d->opts.idle_ms) /* re-armed lazily: activity only moves last_active */
		io_wheel_add(w->wheel, &c->timer.t, c->last_active + w->d->opts.idle_ms);
	if (!c->outbound) {
		int tag = tls_sni_chosen(c->tls.ssl);
		for (unsigned i = 0; tag >= 0 && i < c->g->ntenants; i++)
			if (c->g->tenants[i].tag == (unsigned)tag)
				c->tenant = i;
	}
	if (c->outbound) {
		w->backoff_ms[c->target] = 0;
		if (c->tls.rec.tx == TLS_RL_USER) { /* requests queued while connecting: encrypt */
			size_t len;
			struct msghdr *m;
			while ((m = io_sendq_batch(&c->sq, &len)) != NULL) {
				if (tls_record_send(&c->tls.rec, m->msg_iov, (int)m->msg_iovlen) < 0 ||
				    io_sendq_advance(&c->sq, len) < 0) {
					conn_close(w, c, false);
					return;
				}
			}
		}
		conn_flush(w, c);
	}
	conn_arm_recv(w, c);
	if (tls_record_rx_pending(&c->tls.rec))
		conn_on_data(w, c, (struct slice){ 0 });
}

static void conn_handshake(struct worker *w, struct conn *c)
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
	addr_text(&c->peer, peer, sizeof(peer));
	/* counts the failure once, on our side of it (the identity check may have already) */
	tls_ident_handshake_failed(c->tls.ssl);
	if (c->outbound) {
		w->st.conn_failures++;
		backoff(w, (unsigned)c->target);
	}
	if (c->tls.error == TLS_CONN_ETIMEOUT)
		w->st.handshake_timeouts++;
	core_log(LOG_INFO, "TLS handshake with %s failed: %s", peer, c->tls.reason);
	conn_close(w, c, false);
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
	struct tls_ident_ctx id = { .local = c->local, .remote = c->peer,
				    .tenant = c->g->tenants[c->tenant].tag, .target = target,
				    .stats = &w->st.tls };
	if (tls_ident_attach(c->tls.ssl, &id) < 0)
		return -ENOMEM;
	if (sni && tls_sni_attach(c->tls.ssl, sni) < 0)
		return -ENOMEM;
	if (c->outbound && tls_sni_client_set(c->tls.ssl, c->g->tenant_profile[c->tenant], target) < 0)
		return -EPROTO;
	io_wheel_add(w->wheel, &c->timer.t, now_ms() + w->d->opts.handshake_ms);
	conn_handshake(w, c);
	return 0;
}

/* ---- accepting -------------------------------------------------------------------------- */

static void on_accept(struct worker *w, unsigned li, int fd)
{
	const struct daemon_listener *l = &w->g->listeners[li];
	struct conn *c = conn_alloc(w, fd);
	if (!c) {
		close(fd);
		w->st.accept_errors++;
		return;
	}
	w->st.accepted++;
	c->tenant = l->tenant;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	const struct tls_profile *p = w->g->tenant_profile[l->tenant];
	if (conn_start_tls(w, c, p->server, NULL, l->shared ? &l->sni : NULL) < 0) {
		w->st.tls.server_handshake_failures++; /* no SSL to count it on: out of memory */
		if (c->state != C_FREE)
			conn_close(w, c, false);
	}
}

/* ---- the upstream pool ------------------------------------------------------------------ */

static void upstream_connected(struct worker *w, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	const struct daemon_target *t = &c->g->targets[c->target];
	if (err) {
		core_log(LOG_WARNING, "connect to %s:%u failed: %s", t->host, t->t.port, strerror(err));
		w->st.conn_failures++;
		backoff(w, (unsigned)c->target);
		conn_close(w, c, false);
		return;
	}
	if (io_timer_armed(&c->timer.t))
		io_wheel_cancel(w->wheel, &c->timer.t);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	const struct tls_profile *p = c->g->tenant_profile[c->tenant];
	if (conn_start_tls(w, c, p->client, t->host, NULL) < 0 && c->state != C_FREE)
		conn_close(w, c, false);
}

/* this worker's connection to target ti of configuration g: the pooled one, or a new one
 * being opened; NULL while the target is in its back-off after a failure. A pooled connection
 * serves only requests of its own configuration (target indexes differ between them). */
static struct conn *upstream_get(struct worker *w, struct daemon_gen *g, unsigned ti)
{
	struct conn *c = conn_by_id(w, w->pool[ti]);
	if (c && c->state != C_CLOSING && c->g == g && c->target == (int)ti)
		return c;
	const struct daemon_target *t = &g->targets[ti];
	if (!t->resolved || now_ms() < w->backoff_until[ti])
		return NULL;
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 && errno != EINPROGRESS) {
		close(fd);
		w->st.conn_failures++;
		w->backoff_until[ti] = now_ms() + BACKOFF_MIN_MS;
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
	c->tenant = t->t.tenant;
	c->state = C_CONNECTING;
	w->pool[ti] = c->id;
	io_wheel_add(w->wheel, &c->timer.t, now_ms() + w->d->opts.connect_ms);
	conn_arm_poll(w, c, POLLOUT);
	return c;
}

/* ---- messages --------------------------------------------------------------------------- */

static void reply_local(struct worker *w, struct conn *c, const struct sip_msg *m, unsigned code)
{
	int n = proxy_reply(&c->g->proxy, m, code, w->reply, sizeof(w->reply));
	if (n > 0 && conn_send_bytes(w, c, w->reply, (size_t)n) == 0)
		w->st.local_replies[code / 100]++;
}

/* the bytes of a forward, gathered once: their length decides backpressure, then they go */
struct out_msg {
	struct iovec iov[SIP_EDIT_MAX_IOV];
	int n;
	size_t len;
};

static void out_gather(const struct proxy_decision *d, struct out_msg *o)
{
	o->len = 0;
	o->n = sip_edit_iov(&d->edit, o->iov, SIP_EDIT_MAX_IOV, &o->len);
}

static void forward_edit(struct worker *w, struct conn *src, struct conn *dst,
			 const struct sip_msg *m, const struct out_msg *o)
{
	if (o->n > 0 && conn_send(w, dst, o->iov, o->n) == 0) {
		if (m->kind == SIP_KIND_REQUEST)
			w->st.forwarded_requests++;
		else
			w->st.forwarded_responses++;
		return;
	}
	/* the next hop cannot take it now: a request is answered, a response is lost (counted) */
	if (m->kind == SIP_KIND_REQUEST && m->method_id != SIP_M_ACK) {
		w->st.upstream_unavailable++;
		reply_local(w, src, m, 503);
	} else {
		w->st.send_failures++;
	}
}

/* Backpressure (nothing lost): when dst cannot queue this message now, the message stays in
 * src's buffer and src stops reading until dst drains (conn_resume_waiters). Deciding is free
 * of side effects, so handling the message again later decides the same. */
static bool must_wait(const struct conn *src, const struct conn *dst, const struct out_msg *o)
{
	if (dst == src || o->n <= 0)
		return false;
	return conn_queued(dst) + o->len > io_sendq_limit(&dst->sq);
}

/* 0 when handled, else the id of the connection the message must wait for */
static uint64_t on_request(struct worker *w, struct conn *c, const struct sip_msg *m)
{
	static __thread struct proxy_decision d; /* large (the edit's scratch): not on the stack */
	struct proxy_in in = { .conn = c->id, .tenant = c->tenant };
	if (proxy_request(&c->g->proxy, &in, m, &d) < 0) {
		w->st.requests_in++;
		reply_local(w, c, m, 500);
		return 0;
	}
	struct conn *dst = NULL;
	switch (d.verdict) {
	case PROXY_REPLY:
		w->st.requests_in++;
		w->st.reasons[d.reason]++;
		reply_local(w, c, m, d.code);
		return 0;
	case PROXY_DROP:
		w->st.requests_in++;
		w->st.reasons[d.reason]++;
		return 0;
	case PROXY_TO_TARGET:
		/* proxy_target is the first member of daemon_target: the index is the offset */
		dst = upstream_get(w, c->g, (unsigned)((const struct daemon_target *)(const void *)d.target -
							c->g->targets));
		break;
	case PROXY_TO_CONN:
		dst = conn_by_id(w, d.conn);
		break;
	default:
		return 0;
	}
	struct out_msg o;
	out_gather(&d, &o);
	if (dst && must_wait(c, dst, &o))
		return dst->id; /* counted once, when it is handled */
	w->st.requests_in++;
	w->st.reasons[d.reason]++;
	if (!dst) {
		w->st.upstream_unavailable++;
		if (m->method_id != SIP_M_ACK)
			reply_local(w, c, m, 503);
		return 0;
	}
	if (d.trying)
		reply_local(w, c, m, 100);
	txn_add(w, &d, m, c->id, dst->id);
	forward_edit(w, c, dst, m, &o);
	return 0;
}

static uint64_t on_response(struct worker *w, struct conn *c, const struct sip_msg *m)
{
	static __thread struct proxy_decision d;
	struct proxy_in in = { .conn = c->id, .tenant = c->tenant };
	proxy_response(&c->g->proxy, &in, m, &d);
	struct conn *dst = d.verdict == PROXY_TO_CONN ? conn_by_id(w, d.conn) : NULL;
	struct out_msg o = { .n = 0 };
	if (dst)
		out_gather(&d, &o);
	if (dst && must_wait(c, dst, &o))
		return dst->id;
	w->st.responses_in++;
	w->st.reasons[d.reason]++;
	if (d.verdict != PROXY_TO_CONN)
		return 0;
	txn_response(w, m, slice_make(d.branch, PROXY_BRANCH_LEN));
	if (!dst) {
		w->st.response_no_conn++;
		return 0;
	}
	forward_edit(w, c, dst, m, &o);
	return 0;
}

/* bytes that cannot be framed: answer what can be answered, then the stream is lost */
static void on_scan_error(struct worker *w, struct conn *c, const struct sip_msg *m, int err)
{
	char peer[80];
	addr_text(&c->peer, peer, sizeof(peer));
	core_log(LOG_NOTICE, "unparseable SIP from %s at byte %u: %s; closing", peer, m->err_off,
		 sip_err_str(err));
	w->st.scan_errors++;
	if (err == -SIP_E_TOO_BIG)
		w->st.too_big++;
	if (m->kind == SIP_KIND_REQUEST && sip_msg_get(m, SIP_H_VIA) && m->method_id != SIP_M_ACK)
		reply_local(w, c, m, err == -SIP_E_TOO_BIG ? 513 : err == -SIP_E_VERSION ? 505 : 400);
	conn_close(w, c, true);
}

/* 0 when m was handled, else the id of the connection it waits for (backpressure) */
static uint64_t handle_message(struct worker *w, struct conn *c, const struct sip_msg *m)
{
	switch (m->kind) {
	case SIP_KIND_PING:
		w->st.pings++;
		conn_send_bytes(w, c, "\r\n", 2); /* RFC 5626 4.4.1: the pong */
		return 0;
	case SIP_KIND_REQUEST:
		return on_request(w, c, m);
	case SIP_KIND_RESPONSE:
		return on_response(w, c, m);
	case SIP_KIND_PONG:
	case SIP_KIND_NONE:
	default:
		return 0;
	}
}

static void conn_pause(struct worker *w, struct conn *c, uint64_t on)
{
	c->paused = true;
	c->blocked_on = on;
	w->st.backpressure_pauses++;
	if (c->recv_armed)
		cancel(w, conn_ud(c, OP_RECV));
	if (w->npaused == w->cappaused) {
		uint32_t cap = w->cappaused ? w->cappaused * 2 : 16;
		uint64_t *grown = realloc(w->paused, cap * sizeof(*grown));
		if (!grown)
			return; /* resumed by its own next completion instead (see on_recv) */
		w->paused = grown;
		w->cappaused = cap;
	}
	w->paused[w->npaused++] = c->id;
}

/* frames and handles every complete message in c's rx buffer, keeping a partial one */
static void conn_process(struct worker *w, struct conn *c)
{
	uint32_t off = 0;
	if (c->paused)
		return;
	while (off < c->rxlen && c->state == C_OPEN) {
		int rc = sip_msg_scan(c->rx + off, c->rxlen - off, &c->g->limits, &c->scan);
		if (rc == 0)
			break;
		if (rc < 0) {
			on_scan_error(w, c, &c->scan, rc);
			return;
		}
		uint64_t wait = handle_message(w, c, &c->scan);
		sip_msg_init(&c->scan, w->hdr, HDR_CAP);
		if (wait) { /* the message stays at the front of the buffer for later */
			conn_pause(w, c, wait);
			break;
		}
		off += (uint32_t)rc;
	}
	if (c->state == C_FREE)
		return;
	memmove(c->rx, c->rx + off, c->rxlen - off);
	c->rxlen -= off;
	if (c->rxlen == 0) { /* an idle connection holds no buffer */
		free(c->rx);
		c->rx = NULL;
		c->rxcap = 0;
	}
}

static bool conn_rx_room(struct conn *c)
{
	if (c->rx)
		return true;
	c->rxcap = c->g->limits.max_msg + 2 * 16384 + 64; /* a whole message plus two records */
	c->rx = malloc(c->rxcap);
	return c->rx != NULL;
}

/* bytes arrived on c (ciphertext on the user path, plaintext on the kernel path) */
static void conn_on_data(struct worker *w, struct conn *c, struct slice in)
{
	if (!conn_rx_room(c)) {
		conn_close(w, c, false);
		return;
	}
	c->last_active = now_ms();
	if (c->tls.rec.rx == TLS_RL_KERNEL) {
		if (in.n > c->rxcap - c->rxlen) {
			on_scan_error(w, c, &c->scan, -SIP_E_TOO_BIG);
			return;
		}
		memcpy(c->rx + c->rxlen, in.p, in.n);
		c->rxlen += (uint32_t)in.n;
		conn_process(w, c);
		return;
	}
	for (;;) {
		struct tls_rx_result res;
		if (c->rxcap - c->rxlen < 16384) { /* no room for a record: the message is too big */
			on_scan_error(w, c, &c->scan, -SIP_E_TOO_BIG);
			return;
		}
		if (tls_record_recv(&c->tls.rec, in, c->rx + c->rxlen, c->rxcap - c->rxlen, &res) < 0) {
			res.status = TLS_RX_ERROR; /* out of memory in the record layer */
			res.reason = "record layer failure";
		}
		in = (struct slice){ 0 };
		if (res.status == TLS_RX_DATA) {
			c->rxlen += (uint32_t)res.plain.n;
			conn_process(w, c);
			if (c->state != C_OPEN)
				return;
			if (!conn_rx_room(c)) {
				conn_close(w, c, false);
				return;
			}
			continue;
		}
		conn_flush(w, c); /* the record layer may have queued an answer (KeyUpdate) */
		if (res.status == TLS_RX_MORE)
			return;
		if (res.status == TLS_RX_CLOSED) {
			w->st.remote_closures++;
			conn_close(w, c, true);
		} else {
			char peer[80];
			addr_text(&c->peer, peer, sizeof(peer));
			core_log(LOG_NOTICE, "TLS record from %s: %s; closing", peer,
				 res.reason ? res.reason : "error");
			conn_close(w, c, false);
		}
		return;
	}
}

/* ---- backpressure ------------------------------------------------------------------------ */

static int hold(struct conn *c, uint16_t bid, const char *data, uint32_t len)
{
	if (c->nheld == c->capheld) {
		uint32_t cap = c->capheld ? c->capheld * 2 : 4;
		struct held_buf *grown = realloc(c->held, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->held = grown;
		c->capheld = cap;
	}
	c->held[c->nheld++] = (struct held_buf){ bid, len, data };
	return 0;
}

/* picks up where c stopped: the waiting message, then the buffers held meanwhile */
static void conn_resume(struct worker *w, struct conn *c)
{
	c->paused = false;
	c->blocked_on = 0;
	conn_process(w, c);
	uint32_t i = 0;
	for (; i < c->nheld && !c->paused && c->state == C_OPEN; i++) {
		conn_on_data(w, c, slice_make(c->held[i].data, c->held[i].len));
		if (c->state == C_FREE)
			return; /* released: its held buffers were recycled then */
		io_bufring_recycle(&w->br, c->held[i].bid);
	}
	memmove(c->held, c->held + i, (c->nheld - i) * sizeof(*c->held));
	c->nheld -= i;
	if (c->state == C_OPEN && !c->paused && !c->recv_armed)
		conn_arm_recv(w, c);
}

/* the connections waiting for `on` resume once it has room again (below half its limit, so a
 * queue at the edge does not flap) or is gone */
static void conn_resume_waiters(struct worker *w, uint64_t on, bool gone)
{
	const struct conn *x = gone ? NULL : conn_by_id(w, on);
	if (w->npaused == 0 || (x && conn_queued(x) > io_sendq_limit(&x->sq) / 2))
		return;
	uint64_t ready[64];
	uint32_t n = 0, keep = 0;
	for (uint32_t i = 0; i < w->npaused; i++) {
		struct conn *c = conn_by_id(w, w->paused[i]);
		if (c && c->paused && c->blocked_on == on && n < 64)
			ready[n++] = w->paused[i];
		else if (c && c->paused) /* others, and any beyond 64: the next call takes them */
			w->paused[keep++] = w->paused[i];
	}
	w->npaused = keep;
	for (uint32_t i = 0; i < n; i++) {
		struct conn *c = conn_by_id(w, ready[i]);
		if (c && c->paused && c->state == C_OPEN)
			conn_resume(w, c);
	}
}

/* ---- completions ------------------------------------------------------------------------ */

static void on_recv(struct worker *w, const struct io_uring_cqe *cqe)
{
	char *data = NULL;
	uint16_t bid = 0;
	struct conn *c = conn_by_ud(w, cqe->user_data);
	int n = io_bufring_take(&w->br, cqe, &data, &bid);
	bool more = io_cqe_more(cqe);
	if (c && !more)
		c->recv_armed = false;
	if (n > 0 && (!c || c->state != C_OPEN)) {
		io_bufring_recycle(&w->br, bid); /* a late completion of a closed connection */
		return;
	}
	if (!c || c->state != C_OPEN)
		return;
	if (n > 0 && c->paused) {
		if (hold(c, bid, data, (uint32_t)n) < 0) {
			io_bufring_recycle(&w->br, bid);
			conn_close(w, c, false); /* out of memory: the stream cannot continue */
		}
		return; /* not re-armed: resumed when what it waits for drains */
	}
	if (n > 0) {
		conn_on_data(w, c, slice_make(data, (size_t)n));
		io_bufring_recycle(&w->br, bid);
	} else if (n == 0) {
		w->st.remote_closures++;
		conn_close(w, c, false);
		return;
	} else if (n != -ENOBUFS && n != -ECANCELED) {
		conn_close(w, c, false);
		return;
	}
	if (c->state == C_OPEN && !c->recv_armed && !c->paused)
		conn_arm_recv(w, c);
}

static void on_send(struct worker *w, const struct io_uring_cqe *cqe)
{
	struct conn *c = conn_by_ud(w, cqe->user_data);
	if (!c)
		return;
	c->send_busy = false;
	if (cqe->res < 0) {
		w->st.send_failures++;
		if (c->state != C_CLOSING)
			conn_close(w, c, false);
		else
			conn_release(w, c);
		return;
	}
	if (c->tls.rec.tx == TLS_RL_USER && c->state >= C_OPEN)
		tls_record_tx_advance(&c->tls.rec, (size_t)cqe->res);
	else if (io_sendq_advance(&c->sq, (size_t)cqe->res) < 0)
		c->state = C_CLOSING;
	if (c->state == C_OPEN)
		conn_resume_waiters(w, c->id, false);
	if (c->state == C_CLOSING) {
		/* finish sending close_notify, then release */
		if (c->tls.rec.tx == TLS_RL_USER && tls_record_tx_view(&c->tls.rec).n) {
			c->state = C_OPEN;
			conn_flush(w, c);
			c->state = C_CLOSING;
		}
		if (!c->send_busy)
			conn_release(w, c);
		return;
	}
	conn_flush(w, c);
}

static void on_poll(struct worker *w, const struct io_uring_cqe *cqe)
{
	struct conn *c = conn_by_ud(w, cqe->user_data);
	if (!c)
		return;
	c->poll_armed = false;
	if (cqe->res < 0 && cqe->res != -ECANCELED) {
		conn_close(w, c, false);
		return;
	}
	if (c->state == C_CONNECTING)
		upstream_connected(w, c);
	else if (c->state == C_HANDSHAKE)
		conn_handshake(w, c);
}

static void on_accept_cqe(struct worker *w, const struct io_uring_cqe *cqe)
{
	unsigned li = io_ud_id(cqe->user_data);
	if (li >= w->g->nlisteners)
		return;
	struct io_listener *l = &w->lis[li];
	int fd = io_listener_take(l, cqe);
	if (fd >= 0) {
		on_accept(w, li, fd);
	} else if (fd != -ECANCELED) {
		w->st.accept_errors++;
		if (io_accept_backoff(fd)) { /* out of fds: retry from a timer, never spin */
			if (!io_timer_armed(&w->accept_retry.t))
				io_wheel_add(w->wheel, &w->accept_retry.t, now_ms() + 100);
			return;
		}
	}
	listener_arm(w, li);
}

static void on_mail(struct worker *w, struct worker_mail *m);

static void on_mailbox(struct worker *w, const struct io_uring_cqe *cqe)
{
	struct io_mail *m = io_mailbox_on_cqe(&w->mbox, cqe);
	while (m) {
		struct io_mail *next = m->next; /* the sender may free m once answered */
		on_mail(w, (struct worker_mail *)(void *)m);
		m = next;
	}
	if (io_mailbox_arm(&w->mbox, &w->ring) < 0)
		core_log(LOG_ERR, "worker %u: cannot re-arm its mailbox", w->idx);
}

static void on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct worker *w = arg;
	switch ((enum op)io_ud_op(cqe->user_data)) {
	case OP_ACCEPT:
		on_accept_cqe(w, cqe);
		break;
	case OP_POLL:
		on_poll(w, cqe);
		break;
	case OP_RECV:
		on_recv(w, cqe);
		break;
	case OP_SEND:
		on_send(w, cqe);
		break;
	case OP_MAIL:
		on_mailbox(w, cqe);
		break;
	case OP_CANCEL:
	case OP_NONE:
	default:
		break;
	}
}

static void on_timer(struct worker *w, struct io_timer *t)
{
	struct wtimer *wt = (struct wtimer *)t;
	if (wt->kind == T_TXN) {
		txn_timeout(w, (struct txn *)(void *)wt);
	} else if (wt->kind == T_CONN) {
		struct conn *c = (struct conn *)(void *)wt;
		if (c->state == C_OPEN && w->d->opts.idle_ms) {
			uint64_t due = c->last_active + w->d->opts.idle_ms;
			if (now_ms() < due) {
				io_wheel_add(w->wheel, &c->timer.t, due);
			} else {
				w->st.inactive_ageouts++;
				conn_close(w, c, true);
			}
		} else if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
			w->st.handshake_timeouts++;
			if (c->state == C_HANDSHAKE)
				tls_ident_handshake_failed(c->tls.ssl);
			if (c->outbound) {
				w->st.conn_failures++;
				backoff(w, (unsigned)c->target);
			}
			conn_close(w, c, false);
		}
	} else if (wt->kind == T_ACCEPT) {
		for (unsigned i = 0; i < w->g->nlisteners; i++)
			listener_arm(w, i);
	}
}

/* ---- control requests ------------------------------------------------------------------- */

static const char *state_name(enum cstate s)
{
	switch (s) {
	case C_CONNECTING: return "Connecting";
	case C_HANDSHAKE: return "Handshaking";
	case C_OPEN: return "Established";
	case C_CLOSING: return "Closing";
	case C_FREE:
	default: return "Free";
	}
}

static void ip_port(const struct sockaddr_storage *ss, char *ip, size_t n, uint16_t *port)
{
	const void *a = ss->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
						    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		snprintf(ip, n, "-");
		*port = 0;
		return;
	}
	inet_ntop(ss->ss_family, a, ip, (socklen_t)n);
	*port = ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port :
						  ((const struct sockaddr_in *)ss)->sin_port);
}

static void fill_row(struct worker *w, const struct conn *c, struct ctl_conn *r)
{
	memset(r, 0, sizeof(*r));
	r->id = worker_public_id(w->idx, c->slot);
	ip_port(&c->peer, r->remote_ip, sizeof(r->remote_ip), &r->remote_port);
	ip_port(&c->local, r->local_ip, sizeof(r->local_ip), &r->local_port);
	r->state = state_name(c->state);
	r->writeq = (uint32_t)conn_queued(c);
	r->tenant = c->g->tenants[c->tenant].tag;
	r->outbound = c->outbound;
	r->rl_rx = r->rl_tx = "-";
	if (c->state == C_OPEN || (c->state == C_CLOSING && c->tls.info.version_name)) {
		snprintf(r->version, sizeof(r->version), "%s", c->tls.info.version_name ? c->tls.info.version_name : "");
		snprintf(r->cipher, sizeof(r->cipher), "%s", c->tls.info.cipher ? c->tls.info.cipher : "");
		snprintf(r->curve, sizeof(r->curve), "%s", c->tls.info.group);
		r->rl_rx = tls_rl_name(c->tls.rec.rx);
		r->rl_tx = tls_rl_name(c->tls.rec.tx);
	}
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* closes (with close_notify) the connections a clear command names; returns how many */
static size_t clear_conns(struct worker *w, const struct ctl_request *r)
{
	size_t n = 0;
	for (uint32_t s = 1; s <= w->hi_slot; s++) {
		struct conn *c = w->conns[s];
		if (!c || c->state == C_FREE || c->state == C_CLOSING)
			continue;
		uint32_t id = worker_public_id(w->idx, s);
		bool hit = r->cmd == CTL_CLEAR_ID ? id == r->id :
			   same_peer(&c->peer, &r->target) && (r->id == 0 || r->id == id);
		if (hit) {
			conn_close(w, c, true);
			n++;
		}
	}
	return n;
}

static void on_mail(struct worker *w, struct worker_mail *m)
{
	switch (m->kind) {
	case WORKER_MAIL_SNAPSHOT:
		m->n = 0;
		for (uint32_t s = 1; s <= w->hi_slot; s++) {
			const struct conn *c = w->conns[s];
			if (!c || c->state == C_FREE)
				continue;
			if (m->n < m->cap)
				fill_row(w, c, &m->rows[m->n]);
			m->n++;
		}
		break;
	case WORKER_MAIL_CLEAR:
		m->closed = clear_conns(w, &m->req);
		break;
	case WORKER_MAIL_STATS:
		break;
	case WORKER_MAIL_SWITCH: /* a reload: new connections use m->gen from now on */
		daemon_gen_put(w->g);
		w->g = daemon_gen_get(m->gen);
		memset(w->pool, 0, sizeof(w->pool)); /* target indexes are the new configuration's */
		memset(w->backoff_until, 0, sizeof(w->backoff_until));
		memset(w->backoff_ms, 0, sizeof(w->backoff_ms));
		break;
	case WORKER_MAIL_WAKE:
	default:
		return; /* nobody waits on it */
	}
	m->stats = w->st;
	snprintf(m->max_sendq_peer, sizeof(m->max_sendq_peer), "%s", w->max_sendq_peer);
	sem_post(&m->done);
}

/* ---- the loop --------------------------------------------------------------------------- */

static void start_drain(struct worker *w)
{
	w->draining = true;
	w->drain_deadline = now_ms() + w->d->opts.drain_ms;
	for (unsigned i = 0; i < w->g->nlisteners; i++)
		if (w->lis[i].fd >= 0 && io_listener_stop(&w->lis[i], &w->ring, io_ud_pack(OP_CANCEL, 0, 0)) < 0)
			core_log(LOG_WARNING, "worker %u: cannot stop accepting on %s", w->idx,
				 w->g->listeners[i].text);
}

static bool sends_pending(struct worker *w)
{
	for (uint32_t s = 1; s <= w->hi_slot; s++)
		if (w->conns[s] && w->conns[s]->state != C_FREE && w->conns[s]->send_busy)
			return true;
	return false;
}

static void close_all(struct worker *w)
{
	for (uint32_t s = 1; s <= w->hi_slot; s++)
		if (w->conns[s] && w->conns[s]->state != C_FREE)
			conn_close(w, w->conns[s], true);
}

static int worker_setup(struct worker *w)
{
	struct io_ring_params rp = { .entries = w->d->opts.ring_entries };
	int rc = io_ring_init(&w->ring, &rp);
	if (rc < 0) {
		core_log(LOG_CRIT, "worker %u: io_uring unavailable: %s", w->idx, strerror(-rc));
		return rc;
	}
	rc = io_bufring_init(&w->br, &w->ring, 0, w->d->opts.buf_count, w->d->opts.buf_size);
	if (rc < 0) {
		core_log(LOG_CRIT, "worker %u: provided buffers: %s", w->idx, strerror(-rc));
		return rc;
	}
	io_wheel_init(w->wheel, now_ms());
	if (io_mailbox_arm(&w->mbox, &w->ring) < 0)
		return -EIO;
	for (unsigned i = 0; i < w->g->nlisteners; i++) {
		w->lis[i].ud = io_ud_pack(OP_ACCEPT, i, 0);
		listener_arm(w, i);
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	if (w->d->opts.pin) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->idx % (unsigned)CPU_SETSIZE, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (worker_setup(w) < 0) {
		daemon_stop(w->d);
		return NULL;
	}
	bool closing = false;
	for (;;) {
		uint64_t now = now_ms();
		int timeout = io_wheel_timeout_ms(w->wheel, now);
		if (timeout < 0 || timeout > 1000)
			timeout = 1000; /* look at the stop flag at least once a second */
		int rc = io_ring_submit_wait(&w->ring, 1, timeout);
		if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EAGAIN) {
			core_log(LOG_CRIT, "worker %u: io_uring wait: %s", w->idx, strerror(-rc));
			break;
		}
		io_ring_reap(&w->ring, on_cqe, w, 0);
		io_wheel_advance(w->wheel, now_ms());
		struct io_timer *t;
		while ((t = io_wheel_pop(w->wheel)) != NULL)
			on_timer(w, t);
		if (daemon_stopping(w->d) && !w->draining)
			start_drain(w);
		if (w->draining && !closing && (w->ntxn == 0 || now_ms() >= w->drain_deadline)) {
			closing = true; /* in-flight transactions are done (or out of time) */
			w->drain_deadline = now_ms() + 1000;
			close_all(w);
		}
		if (closing && (w->nconns == 0 || !sends_pending(w) || now_ms() >= w->drain_deadline))
			break;
	}
	return NULL;
}

/* ---- public ----------------------------------------------------------------------------- */

struct worker *worker_new(struct daemon *d, unsigned idx)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->d = d;
	w->g = daemon_gen_get(d->gen);
	w->idx = idx;
	w->next_slot = 1;
	w->accept_retry.kind = T_ACCEPT;
	w->wheel = calloc(1, sizeof(*w->wheel));
	w->conns = calloc(MAX_CONNS, sizeof(*w->conns));
	w->gens = calloc(MAX_CONNS, sizeof(*w->gens));
	w->mbox.efd = -1;
	w->stop_mail.kind = WORKER_MAIL_WAKE;
	for (unsigned i = 0; i < DAEMON_MAX_LISTENERS; i++)
		w->lis[i].fd = -1;
	if (!w->wheel || !w->conns || !w->gens || io_mailbox_init(&w->mbox, io_ud_pack(OP_MAIL, 0, 0)) < 0) {
		worker_join_free(w);
		return NULL;
	}
	return w;
}

int worker_start(struct worker *w, const int *listen_fds, unsigned n)
{
	for (unsigned i = 0; i < n && i < DAEMON_MAX_LISTENERS; i++)
		w->lis[i].fd = listen_fds[i];
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0)
		return -rc;
	w->thread_started = true;
	return 0;
}

void worker_wake(struct worker *w)
{
	/* posted once, at stop: the message itself carries nothing */
	if (!w->stop_posted) {
		w->stop_posted = true;
		worker_post(w, &w->stop_mail);
	}
}

void worker_switch(struct worker *w, struct daemon_gen *g)
{
	struct worker_mail *m = calloc(1, sizeof(*m));
	struct timespec until;
	if (!m || sem_init(&m->done, 0, 0) != 0) {
		free(m);
		core_log(LOG_ERR, "reload: worker %u keeps the old configuration (out of memory)", w->idx);
		return;
	}
	m->kind = WORKER_MAIL_SWITCH;
	m->gen = daemon_gen_get(g); /* held until the worker has taken its own */
	(void)worker_post(w, m);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	while (sem_timedwait(&m->done, &until) != 0) {
		if (errno != EINTR) { /* the worker still switches later; the mail stays its */
			core_log(LOG_ERR, "reload: worker %u did not answer in time", w->idx);
			return;
		}
	}
	daemon_gen_put(m->gen);
	sem_destroy(&m->done);
	free(m);
}

int worker_post(struct worker *w, struct worker_mail *m)
{
	if (io_mailbox_post(&w->mbox, &m->link) < 0)
		return -EIO; /* queued anyway: seen at the worker's next wake-up */
	return 0;
}

void worker_join_free(struct worker *w)
{
	if (!w)
		return;
	if (w->thread_started)
		pthread_join(w->thread, NULL);
	w->tearing_down = true;
	if (w->conns) {
		for (uint32_t s = 0; s < MAX_CONNS; s++) {
			if (w->conns[s] && w->conns[s]->state != C_FREE)
				conn_release(w, w->conns[s]);
			free(w->conns[s]);
		}
	}
	for (unsigned k = 0; k < TXN_BUCKETS; k++)
		while (w->txns[k])
			txn_unlink_free(w, &w->txns[k]);
	for (unsigned i = 0; i < DAEMON_MAX_LISTENERS; i++)
		if (w->lis[i].fd >= 0)
			close(w->lis[i].fd);
	if (w->ring.ready) {
		io_bufring_exit(&w->br, &w->ring);
		io_ring_exit(&w->ring);
	}
	io_mailbox_exit(&w->mbox);
	daemon_gen_put(w->g);
	free(w->conns);
	free(w->gens);
	free(w->paused);
	free(w->wheel);
	free(w);
}

