/* Messages: each framed SIP message through the proxy rules, forwarded or answered. (core/wk.h) */
#include "core/wk.h"

/* ---- messages --------------------------------------------------------------------------- */

static void reply_local(struct worker *w, struct conn *c, const struct sip_msg *m, unsigned code)
{
	int n = proxy_reply(&c->g->proxy, m, code, w->reply, sizeof(w->reply));
	if (n > 0 && wk_conn_send_bytes(w, c, w->reply, (size_t)n) == 0) {
		wk_trace_bytes(w, c, CORE_TRACE_OUT, w->reply, (size_t)n);
		w->st.local_replies[code / 100]++;
	}
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
	if (o->n > 0 && wk_conn_send(w, dst, o->iov, o->n) == 0) {
		wk_trace(w, dst, CORE_TRACE_OUT, o->iov, o->n);
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
 * src's buffer and src stops reading until dst drains (wk_conn_resume_waiters). Deciding is free
 * of side effects, so handling the message again later decides the same. */
static bool must_wait(const struct conn *src, const struct conn *dst, const struct out_msg *o)
{
	if (dst == src || o->n <= 0)
		return false;
	return wk_conn_queued(dst) + o->len > io_sendq_limit(&dst->sq);
}

/* `ip address trusted list` (toll-fraud prevention): when the list has entries, requests from
 * an inbound peer outside it are refused, unless its certificate passed the cn-san client check
 * (the guide: "the trusted IP address check is bypassed"). Upstream legs are ours: not checked.
 * Decided once per connection, when its handshake completes (conn_opened): its address and
 * generation never change, and with kTLS both ways the SSL is freed right after. */
void wk_conn_trust(struct conn *c)
{
	uint8_t a[16];
	if (c->outbound || c->g->conf.ntrusted == 0) {
		c->trusted = 1;
		return;
	}
	bool in = admit_addr(&c->peer, a) == 0 &&
	          admit_trusted(c->g->conf.trusted, c->g->conf.ntrusted, a);
	c->trusted = in || (c->tls.ssl && tls_ident_verified(c->tls.ssl)) ? 1 : -1;
}

static bool peer_trusted(struct conn *c)
{
	if (c->trusted == 0)
		wk_conn_trust(c);
	if (c->trusted == -1) { /* the first refusal on this connection: say why, once */
		char peer[80];
		wk_addr_text(&c->peer, peer, sizeof(peer));
		core_log(LOG_NOTICE, "requests from %s refused (403): not in the ip address trusted "
		                     "list and no cn-san verified certificate", peer);
		c->trusted = -2;
	}
	return c->trusted > 0;
}

/* 0 when handled, else the id of the connection the message must wait for */
static uint64_t on_request(struct worker *w, struct conn *c, const struct sip_msg *m)
{
	static __thread struct proxy_decision d; /* large (the edit's scratch): not on the stack */
	struct proxy_in in = {.conn = c->id, .tenant = c->tenant};
	if (!peer_trusted(c)) {
		wk_trace_bytes(w, c, CORE_TRACE_IN, m->raw.p, m->raw.n);
		w->st.requests_in++;
		w->st.untrusted_403++;
		if (m->method_id != SIP_M_ACK) /* an ACK is never answered (RFC 3261 17.2.1) */
			reply_local(w, c, m, 403);
		return 0;
	}
	if (proxy_request(&c->g->proxy, &in, m, &d) < 0) {
		wk_trace_bytes(w, c, CORE_TRACE_IN, m->raw.p, m->raw.n);
		w->st.requests_in++;
		reply_local(w, c, m, 500);
		return 0;
	}
	struct conn *dst = NULL;
	switch (d.verdict) {
	case PROXY_REPLY:
		wk_trace_bytes(w, c, CORE_TRACE_IN, m->raw.p, m->raw.n);
		w->st.requests_in++;
		w->st.reasons[d.reason]++;
		reply_local(w, c, m, d.code);
		return 0;
	case PROXY_DROP:
		wk_trace_bytes(w, c, CORE_TRACE_IN, m->raw.p, m->raw.n);
		w->st.requests_in++;
		w->st.reasons[d.reason]++;
		return 0;
	case PROXY_TO_TARGET:
		/* proxy_target is the first member of daemon_target: the index is the offset */
		dst = wk_upstream_get(
		    w, c->g,
		    (unsigned)((const struct daemon_target *)(const void *)d.target -
		               c->g->targets));
		break;
	case PROXY_TO_CONN:
		dst = wk_conn_by_id(w, d.conn);
		break;
	default:
		return 0;
	}
	struct out_msg o;
	out_gather(&d, &o);
	if (dst && must_wait(c, dst, &o))
		return dst->id; /* counted once, when it is handled */
	wk_trace_bytes(w, c, CORE_TRACE_IN, m->raw.p, m->raw.n);
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
	wk_txn_add(w, &d, m, c->id, dst->id);
	forward_edit(w, c, dst, m, &o);
	return 0;
}

static uint64_t on_response(struct worker *w, struct conn *c, const struct sip_msg *m)
{
	static __thread struct proxy_decision d;
	struct proxy_in in = {.conn = c->id, .tenant = c->tenant};
	proxy_response(&c->g->proxy, &in, m, &d);
	struct conn *dst = d.verdict == PROXY_TO_CONN ? wk_conn_by_id(w, d.conn) : NULL;
	struct out_msg o = {.n = 0};
	if (dst)
		out_gather(&d, &o);
	if (dst && must_wait(c, dst, &o))
		return dst->id;
	wk_trace_bytes(w, c, CORE_TRACE_IN, m->raw.p, m->raw.n);
	w->st.responses_in++;
	w->st.reasons[d.reason]++;
	if (d.verdict != PROXY_TO_CONN)
		return 0;
	wk_txn_response(w, m, slice_make(d.branch, PROXY_BRANCH_LEN));
	if (!dst) {
		w->st.response_no_conn++;
		return 0;
	}
	forward_edit(w, c, dst, m, &o);
	return 0;
}

/* bytes that cannot be framed: answer what can be answered, then the stream is lost */
void wk_on_scan_error(struct worker *w, struct conn *c, const struct sip_msg *m, int err)
{
	char peer[80];
	wk_addr_text(&c->peer, peer, sizeof(peer));
	core_log(LOG_NOTICE, "unparseable SIP from %s at byte %u: %s; closing", peer, m->err_off,
	         sip_err_str(err));
	w->st.scan_errors++;
	if (err == -SIP_E_TOO_BIG)
		w->st.too_big++;
	if (err == -SIP_E_TOO_MANY_HEADERS) /* max-header-count: 400, as for any unframeable head */
		w->st.too_many_headers++;
	if (m->kind == SIP_KIND_REQUEST && sip_msg_get(m, SIP_H_VIA) && m->method_id != SIP_M_ACK)
		reply_local(w, c, m,
		            err == -SIP_E_TOO_BIG   ? 513
		            : err == -SIP_E_VERSION ? 505
		                                    : 400);
	wk_conn_close(w, c, true);
}

/* 0 when m was handled, else the id of the connection it waits for (backpressure) */
static uint64_t handle_message(struct worker *w, struct conn *c, const struct sip_msg *m)
{
	switch (m->kind) {
	case SIP_KIND_PING:
		w->st.pings++;
		wk_conn_send_bytes(w, c, "\r\n", 2); /* RFC 5626 4.4.1: the pong */
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
		wk_cancel(w, wk_conn_ud(c, OP_RECV));
	if (w->npaused == w->cappaused) {
		uint32_t cap = w->cappaused ? w->cappaused * 2 : 16;
		uint64_t *grown = realloc(w->paused, cap * sizeof(*grown));
		if (!grown)
			return; /* resumed by its own next completion instead (see wk_on_recv) */
		w->paused = grown;
		w->cappaused = cap;
	}
	w->paused[w->npaused++] = c->id;
}

/* A peer that sends but does not read: its next message may need local replies (a 100 and a
 * final answer) that its own queue could not take. Rather than drop them, stop reading it until
 * it reads. An empty queue always takes them, whatever the limit. */
static bool own_queue_full(const struct worker *w, const struct conn *c)
{
	size_t q = wk_conn_queued(c);
	return q > 0 && q + 2 * sizeof(w->reply) > io_sendq_limit(&c->sq);
}

/* frames and handles every complete message in c's rx buffer, keeping a partial one */
void wk_conn_process(struct worker *w, struct conn *c)
{
	uint32_t off = 0;
	if (c->paused)
		return;
	while (off < c->rxlen && c->state == C_OPEN) {
		if (own_queue_full(w, c)) { /* resumed when c's own sends drain (wk_on_send) */
			conn_pause(w, c, c->id);
			break;
		}
		int rc = sip_msg_scan(c->rx + off, c->rxlen - off, &c->g->limits, &c->scan);
		if (rc == 0)
			break;
		if (rc < 0) {
			wk_on_scan_error(w, c, &c->scan, rc);
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
	if (c->rxlen == 0) { /* an idle connection holds no buffer: the worker keeps one spare */
		if (w->rx_spare.p == NULL && c->rx) {
			w->rx_spare.p = c->rx;
			w->rx_spare.cap = c->rxcap;
		} else {
			free(c->rx);
		}
		c->rx = NULL;
		c->rxcap = 0;
	}
}
