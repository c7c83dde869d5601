/* Receiving: bytes into plaintext and messages, backpressure, and the I/O completions. (core/wk.h)
 */
#include "core/wk.h"

/* An idle connection holds no buffer (wk_conn_process gives it back): the worker's spare
 * saves a malloc and free of ~96 KiB per receive. Its size follows the connection's
 * configuration generation, so a spare from a generation with a smaller max_msg goes. */
static bool conn_rx_room(struct worker *w, struct conn *c)
{
	if (c->rx)
		return true;
	c->rxcap = c->g->limits.max_msg + 2 * 16384 + 64; /* a whole message plus two records */
	if (w->rx_spare.p && w->rx_spare.cap >= c->rxcap) {
		c->rx = w->rx_spare.p; /* c->rxcap may understate it: it comes back as that */
		w->rx_spare.p = NULL;
		return true;
	}
	free(w->rx_spare.p);
	w->rx_spare.p = NULL;
	c->rx = malloc(c->rxcap);
	return c->rx != NULL;
}

/* bytes arrived on c (ciphertext on the user path, plaintext on the kernel path) */
void wk_conn_on_data(struct worker *w, struct conn *c, struct slice in)
{
	if (!conn_rx_room(w, c)) {
		wk_conn_close(w, c, false);
		return;
	}
	c->last_active = wk_now_ms();
	if (c->tls.rec.rx == TLS_RL_KERNEL) {
		if (in.n > c->rxcap - c->rxlen) {
			wk_on_scan_error(w, c, &c->scan, -SIP_E_TOO_BIG);
			return;
		}
		memcpy(c->rx + c->rxlen, in.p, in.n);
		c->rxlen += (uint32_t)in.n;
		wk_conn_process(w, c);
		return;
	}
	for (;;) {
		struct tls_rx_result res;
		if (c->rxcap - c->rxlen <
		    16384) { /* no room for a record: the message is too big */
			wk_on_scan_error(w, c, &c->scan, -SIP_E_TOO_BIG);
			return;
		}
		if (tls_record_recv(&c->tls.rec, in, c->rx + c->rxlen, c->rxcap - c->rxlen, &res) <
		    0) {
			res.status = TLS_RX_ERROR; /* out of memory in the record layer */
			res.reason = "record layer failure";
		}
		in = (struct slice){0};
		if (res.status == TLS_RX_DATA) {
			c->rxlen += (uint32_t)res.plain.n;
			wk_conn_process(w, c);
			if (c->state != C_OPEN)
				return;
			if (!conn_rx_room(w, c)) {
				wk_conn_close(w, c, false);
				return;
			}
			continue;
		}
		wk_conn_flush(w, c); /* the record layer may have queued an answer (KeyUpdate) */
		if (res.status == TLS_RX_MORE)
			return;
		if (res.status == TLS_RX_CLOSED) {
			w->st.remote_closures++;
			wk_conn_close(w, c, true);
		} else {
			char peer[80];
			wk_addr_text(&c->peer, peer, sizeof(peer));
			core_log(LOG_NOTICE, "TLS record from %s: %s; closing", peer,
			         res.reason ? res.reason : "error");
			wk_conn_close(w, c, false);
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
	c->held[c->nheld++] = (struct held_buf){bid, len, data};
	return 0;
}

/* picks up where c stopped: the waiting message, then the buffers held meanwhile */
static void conn_resume(struct worker *w, struct conn *c)
{
	c->paused = false;
	c->blocked_on = 0;
	wk_conn_process(w, c);
	uint32_t i = 0;
	for (; i < c->nheld && !c->paused && c->state == C_OPEN; i++) {
		wk_conn_on_data(w, c, slice_make(c->held[i].data, c->held[i].len));
		if (c->state == C_FREE)
			return; /* released: its held buffers were recycled then */
		io_bufring_recycle(&w->br, c->held[i].bid);
	}
	if (i) /* held may be NULL: nothing was held */
		memmove(c->held, c->held + i, (c->nheld - i) * sizeof(*c->held));
	c->nheld -= i;
	if (c->state == C_OPEN && !c->paused && !c->recv_armed)
		wk_conn_arm_recv(w, c);
}

/* the connections waiting for `on` resume once it has room again (below half its limit, so a
 * queue at the edge does not flap) or is gone */
void wk_conn_resume_waiters(struct worker *w, uint64_t on, bool gone)
{
	const struct conn *x = gone ? NULL : wk_conn_by_id(w, on);
	if (w->npaused == 0 || (x && wk_conn_queued(x) > io_sendq_limit(&x->sq) / 2))
		return;
	uint64_t ready[64];
	uint32_t n = 0, keep = 0;
	for (uint32_t i = 0; i < w->npaused; i++) {
		struct conn *c = wk_conn_by_id(w, w->paused[i]);
		if (c && c->paused && c->blocked_on == on && n < 64)
			ready[n++] = w->paused[i];
		else if (c && c->paused) /* others, and any beyond 64: the next call takes them */
			w->paused[keep++] = w->paused[i];
	}
	w->npaused = keep;
	for (uint32_t i = 0; i < n; i++) {
		struct conn *c = wk_conn_by_id(w, ready[i]);
		if (c && c->paused && c->state == C_OPEN)
			conn_resume(w, c);
	}
}

/* ---- kernel receive: one recvmsg at a time, with the record type -------------------------- */

/* A kTLS-RX socket must be read with recvmsg and room for the TLS_GET_RECORD_TYPE control
 * message: a plain recv fails with EIO at the first non-data record (alert, NewSessionTicket,
 * KeyUpdate). One request is armed at a time (its msghdr lives in c->krx); the data lands in a
 * provided buffer, so an idle connection holds none. A completion carries one record type. */
int wk_krecv_arm(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = io_ring_sqe(&w->ring);
	if (!sqe)
		return -EBUSY;
	/* no iovec length: the kernel takes the whole provided buffer */
	tls_ktls_rxmsg_init(&c->krx, NULL, 0);
	io_uring_prep_recvmsg(sqe, c->fd, &c->krx.msg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = w->br.bgid;
	io_uring_sqe_set_data64(sqe, wk_conn_ud(c, OP_RECV));
	return 0;
}

static void krecv_log(const struct conn *c, const char *what, const char *detail)
{
	char peer[80];
	wk_addr_text(&c->peer, peer, sizeof(peer));
	core_log(LOG_NOTICE, "TLS %s from %s: %s; closing", what, peer, detail);
}

/* A non-data record on kernel receive (RFC 8446 §5.1 ContentType), acted on here. Returns
 * false for application data (the caller passes it on). */
static bool krecv_control(struct worker *w, struct conn *c, const char *data, size_t n)
{
	struct tls_rx_result res;
	if (tls_record_recv_kdata(&c->tls.rec, &c->krx.msg, data, n, &res) < 0) {
		res.status = TLS_RX_ERROR;
		res.reason = "kernel receive on a user-path connection";
	}
	switch (res.status) {
	case TLS_RX_DATA:
		return false;
	case TLS_RX_MORE: /* a TLS 1.3 NewSessionTicket: we never resume, nothing to keep */
		w->st.tls.tickets_discarded++;
		return true;
	case TLS_RX_CLOSED: /* close_notify: answer with ours (RFC 8446 §6.1) and close */
		w->st.remote_closures++;
		wk_conn_close(w, c, true);
		return true;
	case TLS_RX_ALERT:
		w->st.tls.alerts_received++;
		krecv_log(c, "alert", res.reason ? res.reason : "unknown alert");
		wk_conn_close(w, c, false);
		return true;
	case TLS_RX_KEYUPDATE: /* kernel 6.1 cannot re-key receive; an outbound leg reconnects */
		w->st.tls.keyupdates++;
		krecv_log(c, "KeyUpdate", "kernel receive cannot re-key");
		wk_conn_close(w, c, true);
		return true;
	default:
		w->st.tls.record_errors++;
		krecv_log(c, "record", res.reason ? res.reason : "error");
		wk_conn_close(w, c, false);
		return true;
	}
}

/* ---- completions ------------------------------------------------------------------------ */

void wk_on_recv(struct worker *w, const struct io_uring_cqe *cqe)
{
	char *data = NULL;
	uint16_t bid = 0;
	struct conn *c = wk_conn_by_ud(w, cqe->user_data);
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
	if (n > 0 && c->tls.rec.rx == TLS_RL_KERNEL && krecv_control(w, c, data, (size_t)n)) {
		io_bufring_recycle(&w->br, bid);
		if (c->state == C_OPEN && !c->recv_armed && !c->paused)
			wk_conn_arm_recv(w, c);
		return;
	}
	if (n > 0 && c->paused) {
		if (hold(c, bid, data, (uint32_t)n) < 0) {
			io_bufring_recycle(&w->br, bid);
			wk_conn_close(w, c, false); /* out of memory: the stream cannot continue */
		}
		return; /* not re-armed: resumed when what it waits for drains */
	}
	if (n > 0) {
		wk_conn_on_data(w, c, slice_make(data, (size_t)n));
		io_bufring_recycle(&w->br, bid);
	} else if (n == 0) {
		w->st.remote_closures++;
		wk_conn_close(w, c, false);
		return;
	} else if (n != -ENOBUFS && n != -ECANCELED) {
		if (c->tls.rec.rx == TLS_RL_KERNEL) { /* EBADMSG: a record failed authentication */
			w->st.tls.record_errors++;
			krecv_log(c, "kernel receive", strerror(-n));
		}
		wk_conn_close(w, c, false);
		return;
	}
	if (c->state == C_OPEN && !c->recv_armed && !c->paused)
		wk_conn_arm_recv(w, c);
}

void wk_on_send(struct worker *w, const struct io_uring_cqe *cqe)
{
	struct conn *c = wk_conn_by_ud(w, cqe->user_data);
	if (!c)
		return;
	c->send_busy = false;
	if (cqe->res < 0) {
		w->st.send_failures++;
		if (c->state != C_CLOSING)
			wk_conn_close(w, c, false);
		else
			wk_conn_release(w, c);
		return;
	}
	if (c->tls.rec.tx == TLS_RL_USER && c->state >= C_OPEN)
		tls_record_tx_advance(&c->tls.rec, (size_t)cqe->res);
	else if (io_sendq_advance(&c->sq, (size_t)cqe->res) < 0)
		c->state = C_CLOSING;
	if (c->state == C_OPEN)
		wk_conn_resume_waiters(w, c->id, false);
	if (c->state == C_CLOSING) {
		/* finish sending close_notify, then release */
		if (c->tls.rec.tx == TLS_RL_USER && tls_record_tx_view(&c->tls.rec).n) {
			c->state = C_OPEN;
			wk_conn_flush(w, c);
			c->state = C_CLOSING;
		}
		if (!c->send_busy)
			wk_conn_release(w, c);
		return;
	}
	wk_conn_flush(w, c);
}

void wk_on_poll(struct worker *w, const struct io_uring_cqe *cqe)
{
	struct conn *c = wk_conn_by_ud(w, cqe->user_data);
	if (!c)
		return;
	c->poll_armed = false;
	if (cqe->res < 0 && cqe->res != -ECANCELED) {
		wk_conn_close(w, c, false);
		return;
	}
	if (c->state == C_CONNECTING)
		wk_upstream_connected(w, c);
	else if (c->state == C_HANDSHAKE)
		wk_conn_handshake(w, c);
}

void wk_on_accept_cqe(struct worker *w, const struct io_uring_cqe *cqe)
{
	unsigned li = io_ud_id(cqe->user_data);
	if (li >= w->g->nlisteners)
		return;
	struct io_listener *l = &w->lis[li];
	int fd = io_listener_take(l, cqe);
	if (fd >= 0) {
		wk_on_accept(w, li, fd);
	} else if (fd != -ECANCELED) {
		w->st.accept_errors++;
		if (io_accept_backoff(fd)) { /* out of fds: retry from a timer, never spin */
			if (!io_timer_armed(&w->accept_retry.t))
				io_wheel_add(w->wheel, &w->accept_retry.t, wk_now_ms() + 100);
			return;
		}
	}
	wk_listener_arm(w, li);
}
