/* The worker loop: one io_uring, completions dispatched through one switch to small handlers.
 *
 * Life of a connection: accepted (or connected, for the upstream pool) -> TLS handshake driven
 * by poll completions -> open: a multishot recv fills provided buffers, the record layer turns
 * them into plaintext in the connection's rx buffer, the scanner frames messages there and the
 * proxy rules (core/proxy.h) say where each goes -> closing: close_notify, then the fd closes
 * once no send is in flight (the kernel may still read a send's buffer until it completes).
 */
#include "core/wk.h"

static void on_mailbox(struct worker *w, const struct io_uring_cqe *cqe)
{
	struct io_mail *m = io_mailbox_on_cqe(&w->mbox, cqe);
	while (m) {
		struct io_mail *next = m->next; /* the sender may free m once answered */
		wk_on_mail(w, (struct worker_mail *)(void *)m);
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
		wk_on_accept_cqe(w, cqe);
		break;
	case OP_POLL:
		wk_on_poll(w, cqe);
		break;
	case OP_RECV:
		wk_on_recv(w, cqe);
		break;
	case OP_SEND:
		wk_on_send(w, cqe);
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
		wk_txn_timeout(w, (struct txn *)(void *)wt);
	} else if (wt->kind == T_CONN) {
		struct conn *c = (struct conn *)(void *)wt;
		if (c->state == C_OPEN && w->d->opts.idle_ms) {
			uint64_t due = c->last_active + w->d->opts.idle_ms;
			if (wk_now_ms() < due) {
				io_wheel_add(w->wheel, &c->timer.t, due);
			} else {
				w->st.inactive_ageouts++;
				wk_conn_close(w, c, true);
			}
		} else if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
			w->st.handshake_timeouts++;
			if (c->state == C_HANDSHAKE)
				tls_ident_handshake_failed(c->tls.ssl);
			if (c->outbound) {
				w->st.conn_failures++;
				wk_backoff(w, (unsigned)c->target);
			}
			wk_conn_close(w, c, false);
		}
	} else if (wt->kind == T_ACCEPT) {
		for (unsigned i = 0; i < w->g->nlisteners; i++)
			wk_listener_arm(w, i);
	}
}

/* ---- the loop --------------------------------------------------------------------------- */

/* the end of a ring pass: one flush for each connection wk_conn_send noted (wk_conn.c) */
static void flush_noted(void *arg, uint64_t id)
{
	struct worker *w = arg;
	struct conn *c = wk_conn_by_id(w, id);
	if (!c)
		return; /* released meanwhile: its queue went with it */
	c->sq.flush_noted = false;
	wk_conn_flush(w, c);
}

static void start_drain(struct worker *w)
{
	w->draining = true;
	w->drain_deadline = wk_now_ms() + w->d->opts.drain_ms;
	for (unsigned i = 0; i < w->g->nlisteners; i++)
		if (w->lis[i].fd >= 0 &&
		    io_listener_stop(&w->lis[i], &w->ring, io_ud_pack(OP_CANCEL, 0, 0)) < 0)
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
			wk_conn_close(w, w->conns[s], true);
}

static int worker_setup(struct worker *w)
{
	struct io_ring_params rp = {.entries = w->d->opts.ring_entries};
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
	io_wheel_init(w->wheel, wk_now_ms());
	if (io_mailbox_arm(&w->mbox, &w->ring) < 0)
		return -EIO;
	for (unsigned i = 0; i < w->g->nlisteners; i++) {
		w->lis[i].ud = io_ud_pack(OP_ACCEPT, i, 0);
		wk_listener_arm(w, i);
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
		uint64_t now = wk_now_ms();
		int timeout = io_wheel_timeout_ms(w->wheel, now);
		if (timeout < 0 || timeout > 1000)
			timeout = 1000; /* look at the stop flag at least once a second */
		int rc = io_ring_submit_wait(&w->ring, 1, timeout);
		if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EAGAIN) {
			core_log(LOG_CRIT, "worker %u: io_uring wait: %s", w->idx, strerror(-rc));
			break;
		}
		io_ring_reap(&w->ring, on_cqe, w, 0);
		io_wheel_advance(w->wheel, wk_now_ms());
		struct io_timer *t;
		while ((t = io_wheel_pop(w->wheel)) != NULL)
			on_timer(w, t);
		if (daemon_stopping(w->d) && !w->draining)
			start_drain(w);
		io_ring_defer_run(&w->ring, flush_noted, w);
		if (w->draining && !closing && (w->ntxn == 0 || wk_now_ms() >= w->drain_deadline)) {
			closing = true; /* in-flight transactions are done (or out of time) */
			w->drain_deadline = wk_now_ms() + 1000;
			close_all(w);
		}
		if (closing &&
		    (w->nconns == 0 || !sends_pending(w) || wk_now_ms() >= w->drain_deadline))
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
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sizeof(*p) is meant */
	w->conns = calloc(MAX_CONNS, sizeof(*w->conns));
	w->gens = calloc(MAX_CONNS, sizeof(*w->gens));
	w->mbox.efd = -1;
	w->stop_mail.kind = WORKER_MAIL_WAKE;
	for (unsigned i = 0; i < DAEMON_MAX_LISTENERS; i++)
		w->lis[i].fd = -1;
	if (!w->wheel || !w->conns || !w->gens ||
	    io_mailbox_init(&w->mbox, io_ud_pack(OP_MAIL, 0, 0)) < 0) {
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
		core_log(LOG_ERR, "reload: worker %u keeps the old configuration (out of memory)",
		         w->idx);
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
				wk_conn_release(w, w->conns[s]);
			free(w->conns[s]);
		}
	}
	for (unsigned k = 0; k < TXN_BUCKETS; k++)
		while (w->txns[k])
			wk_txn_unlink_free(w, &w->txns[k]);
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
	free(w->rx_spare.p); /* wk_rx.c: the buffer an idle connection gave back */
	free(w->wheel);
	free(w);
}
