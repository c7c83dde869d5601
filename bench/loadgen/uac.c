/* uac: transactions over persistent TLS connections, closed loop (W in flight per connection)
 * or open loop (a fixed rate, started on time whatever the answers do, so a slow peer shows up
 * as latency and not as a lower offered load).
 *
 * Every request's Via branch names its transaction slot and the slot's generation
 * ("z9hG4bKlg<slot>.<gen>"), so a response finds its transaction in O(1) and a late response
 * for a slot already reused is recognised as stray. Timeouts all have the same length, so a
 * FIFO of (slot, generation, deadline) in start order is already sorted by deadline.
 *
 * Scenario "call": INVITE -> 100/180/200 -> ACK -> BYE -> 200. The ACK and BYE follow the
 * dialog's route set: the 200's Record-Route in reverse order as Route headers and its Contact
 * as the Request-URI (RFC 3261 12.1.2, 12.2.1.1); the ACK of a 2xx is its own transaction with a
 * branch of its own (RFC 3261 13.2.2.4, 17.1.1.3) and gets no response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/loadgen/lg.h"
#include "sip/via.h"

enum { TX_FREE, TX_OPTIONS, TX_INVITE, TX_BYE };
#define LG_MAX_TX (1u << 22)
#define LG_MAX_RR 16

struct lg_tx {
	uint32_t gen, conn, conn_gen;
	uint8_t kind;
	uint64_t call, t0;
};

struct lg_tmo {
	uint32_t slot, gen;
	uint64_t deadline;
};

struct lg_uac {
	struct lg_tx *tx;
	uint32_t cap, *freel, nfree;
	struct lg_tmo *q;
	size_t qcap, qhead, qlen;
	uint64_t outstanding, reserved, units, call_seq;
	uint32_t up, settled, rr;
	bool loading, stopping;
	uint64_t stop_at, drain_until;
	unsigned pid;
};

/* ---- a tiny appender: callers reserve enough room first ---- */
struct out {
	char *p;
	uint32_t n;
};

static void put(struct out *o, const char *s, size_t n)
{
	memcpy(o->p + o->n, s, n);
	o->n += (uint32_t)n;
}

#define PUT_LIT(o, s) put((o), (s), sizeof(s) - 1)

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_slice(struct out *o, struct slice s)
{
	put(o, s.p, s.n);
}

static void put_num(struct out *o, uint64_t v, unsigned base)
{
	char tmp[24];
	int i = sizeof(tmp);
	do {
		tmp[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	put(o, tmp + i, sizeof(tmp) - (size_t)i);
}

/* ---- transaction table ---- */
static int tx_grow(struct lg_uac *u)
{
	uint32_t cap = u->cap ? u->cap * 2 : 4096;
	if (cap > LG_MAX_TX)
		return -1;
	struct lg_tx *tx = realloc(u->tx, cap * sizeof(*tx));
	if (!tx)
		return -1;
	u->tx = tx;
	uint32_t *fl = realloc(u->freel, cap * sizeof(*fl));
	if (!fl)
		return -1;
	u->freel = fl;
	memset(tx + u->cap, 0, (cap - u->cap) * sizeof(*tx));
	for (uint32_t i = cap; i > u->cap; i--)
		u->freel[u->nfree++] = i - 1;
	u->cap = cap;
	return 0;
}

static int tmo_push(struct lg_uac *u, uint32_t slot, uint32_t gen, uint64_t deadline)
{
	if (u->qlen == u->qcap) {
		size_t cap = u->qcap ? u->qcap * 2 : 4096;
		struct lg_tmo *q = malloc(cap * sizeof(*q));
		if (!q)
			return -1;
		for (size_t i = 0; i < u->qlen; i++)
			q[i] = u->q[(u->qhead + i) % u->qcap];
		free(u->q);
		u->q = q;
		u->qcap = cap;
		u->qhead = 0;
	}
	u->q[(u->qhead + u->qlen++) % u->qcap] = (struct lg_tmo){slot, gen, deadline};
	return 0;
}

/* a new transaction on c, or -1 when the table is full (counted as overload) */
static int tx_new(struct lg_thr *t, struct lg_conn *c, uint8_t kind, uint64_t call)
{
	struct lg_uac *u = t->uac;
	if (u->nfree == 0 && tx_grow(u) < 0) {
		lg_add(&t->st.overload, 1);
		return -1;
	}
	uint32_t i = u->freel[--u->nfree];
	struct lg_tx *x = &u->tx[i];
	x->gen = (x->gen + 1) & 0x7fffffff;
	x->conn = c->idx;
	x->conn_gen = c->gen;
	x->kind = kind;
	x->call = call;
	x->t0 = lg_now();
	if (tmo_push(u, i, x->gen, x->t0 + (uint64_t)t->o->timeout_ms * 1000000u) < 0) {
		x->kind = TX_FREE;
		u->freel[u->nfree++] = i;
		lg_add(&t->st.overload, 1);
		return -1;
	}
	u->outstanding++;
	c->outstanding++;
	lg_add(&t->st.tx_started, 1);
	return (int)i;
}

static void tx_free(struct lg_thr *t, uint32_t i)
{
	struct lg_uac *u = t->uac;
	struct lg_tx *x = &u->tx[i];
	struct lg_conn *c = lg_conn_get(t, x->conn, x->conn_gen);
	if (c)
		c->outstanding--;
	x->kind = TX_FREE;
	u->freel[u->nfree++] = i;
	u->outstanding--;
}

/* ---- requests ---- */
static const char sdp_offer[] = "v=0\r\n"
                                "o=bench 2890844526 2890844526 IN IP4 127.0.0.1\r\n"
                                "s=siptls-bench call\r\n"
                                "c=IN IP4 127.0.0.1\r\n"
                                "t=0 0\r\n"
                                "m=audio 49170 RTP/AVP 0 8 101\r\n"
                                "a=rtpmap:0 PCMU/8000\r\n"
                                "a=rtpmap:8 PCMA/8000\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\n"
                                "a=fmtp:101 0-16\r\n"
                                "a=ptime:20\r\n"
                                "a=sendrecv\r\n";

static void put_ruri(struct lg_thr *t, struct out *o)
{
	PUT_LIT(o, "sip:");
	put_str(o, t->o->user);
	PUT_LIT(o, "@");
	put_str(o, t->o->host);
	PUT_LIT(o, ":");
	put_num(o, t->o->port, 10);
}

static void put_via(struct out *o, uint32_t slot, uint32_t gen)
{
	PUT_LIT(o, "Via: SIP/2.0/TLS uac.bench.test:5061;branch=z9hG4bKlg");
	put_num(o, slot, 16);
	PUT_LIT(o, ".");
	put_num(o, gen, 16);
	PUT_LIT(o, ";rport\r\nMax-Forwards: 70\r\n");
}

/* From, Call-ID: unique per process, thread and call */
static void put_dialog_ids(struct lg_thr *t, struct out *o, uint64_t call)
{
	PUT_LIT(o, "From: \"Bench 2000\" <sip:2000@uac.bench.test>;tag=lg");
	put_num(o, call, 16);
	PUT_LIT(o, "\r\nCall-ID: lg");
	put_num(o, t->uac->pid, 16);
	PUT_LIT(o, "-");
	put_num(o, t->id, 16);
	PUT_LIT(o, "-");
	put_num(o, call, 16);
	PUT_LIT(o, "@uac.bench.test\r\n");
}

static void put_cseq(struct out *o, unsigned n, const char *method)
{
	PUT_LIT(o, "CSeq: ");
	put_num(o, n, 10);
	PUT_LIT(o, " ");
	put_str(o, method);
	PUT_LIT(o, "\r\n");
}

static int send_options(struct lg_thr *t, struct lg_conn *c)
{
	int i = tx_new(t, c, TX_OPTIONS, ++t->uac->call_seq);
	if (i < 0)
		return -1;
	struct out o = {lg_wreserve(c, 1024), 0};
	if (!o.p)
		return -1;
	PUT_LIT(&o, "OPTIONS ");
	put_ruri(t, &o);
	PUT_LIT(&o, " SIP/2.0\r\n");
	put_via(&o, (uint32_t)i, t->uac->tx[i].gen);
	put_dialog_ids(t, &o, t->uac->call_seq);
	PUT_LIT(&o, "To: <");
	put_ruri(t, &o);
	PUT_LIT(&o, ">\r\n");
	put_cseq(&o, 1, "OPTIONS");
	PUT_LIT(&o,
	        "Accept: application/sdp\r\nUser-Agent: siptls-bench\r\nContent-Length: 0\r\n\r\n");
	lg_wcommit(t, c, o.n);
	return 0;
}

static int send_invite(struct lg_thr *t, struct lg_conn *c)
{
	uint64_t call = ++t->uac->call_seq;
	int i = tx_new(t, c, TX_INVITE, call);
	if (i < 0)
		return -1;
	struct out o = {lg_wreserve(c, 2048), 0};
	if (!o.p)
		return -1;
	lg_add(&t->st.calls_started, 1);
	PUT_LIT(&o, "INVITE ");
	put_ruri(t, &o);
	PUT_LIT(&o, " SIP/2.0\r\n");
	put_via(&o, (uint32_t)i, t->uac->tx[i].gen);
	put_dialog_ids(t, &o, call);
	PUT_LIT(&o, "To: <");
	put_ruri(t, &o);
	PUT_LIT(&o, ">\r\n");
	put_cseq(&o, 1, "INVITE");
	PUT_LIT(&o, "Contact: <sip:2000@uac.bench.test:5061;transport=tls>\r\n"
	            "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n"
	            "Supported: timer, replaces\r\n"
	            "Session-Expires: 1800\r\n"
	            "User-Agent: siptls-bench\r\n"
	            "Content-Type: application/sdp\r\n"
	            "Content-Length: ");
	put_num(&o, sizeof(sdp_offer) - 1, 10);
	PUT_LIT(&o, "\r\n\r\n");
	PUT_LIT(&o, sdp_offer);
	lg_wcommit(t, c, o.n);
	return 0;
}

/* starts one unit of work (an OPTIONS transaction or a call) on c if the bounds allow */
static bool start_unit(struct lg_thr *t, struct lg_conn *c)
{
	struct lg_uac *u = t->uac;
	unsigned need = t->o->scen == LG_CALL ? 2 : 1;
	if (u->stopping || (t->o->count && u->reserved + need > t->count_share))
		return false;
	if ((t->o->scen == LG_CALL ? send_invite(t, c) : send_options(t, c)) < 0)
		return false;
	u->reserved += need;
	u->units++;
	return true;
}

/* closed loop: a unit finished on connection (idx, gen): start the next one there */
static void unit_done(struct lg_thr *t, uint32_t idx, uint32_t gen)
{
	if (t->o->rate > 0)
		return;
	struct lg_conn *c = lg_conn_get(t, idx, gen);
	if (c && c->state == LG_C_UP)
		start_unit(t, c);
}

/* ---- responses ---- */

/* "z9hG4bKlg<slot hex>.<gen hex>" */
static int parse_branch(struct slice b, uint32_t *slot, uint32_t *gen)
{
	static const struct slice pre = SLICE_LIT("z9hG4bKlg");
	if (!slice_case_prefix(b, pre))
		return -1;
	uint64_t v[2] = {0, 0};
	unsigned k = 0, digits = 0;
	for (size_t i = pre.n; i < b.n; i++) {
		char ch = b.p[i];
		unsigned d;
		if (ch == '.' && k == 0 && digits) {
			k = 1;
			digits = 0;
			continue;
		}
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else
			return -1;
		if (++digits > 8)
			return -1;
		v[k] = v[k] * 16 + d;
	}
	if (k != 1 || !digits)
		return -1;
	*slot = (uint32_t)v[0];
	*gen = (uint32_t)v[1];
	return 0;
}

/* the URI of a Contact / Route value: inside <...>, else up to the first ';' */
static struct slice addr_uri(struct slice v)
{
	size_t lt = slice_find(v, '<');
	if (lt < v.n) {
		struct slice rest = slice_sub(v, lt + 1, v.n);
		return slice_sub(rest, 0, slice_find(rest, '>'));
	}
	return slice_trim(slice_sub(v, 0, slice_find(v, ';')));
}

/* ACK for a 2xx, then BYE, both along the dialog's route set (RFC 3261 12.1.2, 13.2.2.4) */
static int send_ack_bye(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m, uint64_t call)
{
	const struct sip_hdr *to = sip_msg_get(m, SIP_H_TO), *ct = sip_msg_get(m, SIP_H_CONTACT);
	if (!to || !ct)
		return -1;
	struct slice rr[LG_MAX_RR], target = addr_uri(ct->value);
	unsigned nrr = 0;
	for (const struct sip_hdr *h = sip_msg_get(m, SIP_H_RECORD_ROUTE); h;
	     h = sip_msg_next(m, h)) {
		struct slice rest = h->value, item;
		while (sip_list_next(&rest, &item) == 1)
			if (nrr < LG_MAX_RR)
				rr[nrr++] = item;
	}
	if (target.n == 0)
		return -1;
	int i = tx_new(t, c, TX_BYE, call);
	if (i < 0)
		return -1;
	struct out o = {lg_wreserve(c, 1024 + 2 * (uint32_t)m->raw.n), 0};
	if (!o.p)
		return -1;
	for (int bye = 0; bye < 2; bye++) {
		put_str(&o, bye ? "BYE " : "ACK ");
		put_slice(&o, target);
		PUT_LIT(&o, " SIP/2.0\r\n");
		if (bye) {
			put_via(&o, (uint32_t)i, t->uac->tx[i].gen);
		} else {
			PUT_LIT(&o, "Via: SIP/2.0/TLS uac.bench.test:5061;branch=z9hG4bKlgack");
			put_num(&o, call, 16);
			PUT_LIT(&o, ";rport\r\nMax-Forwards: 70\r\n");
		}
		for (unsigned k = nrr; k-- > 0;) {
			PUT_LIT(&o, "Route: ");
			put_slice(&o, rr[k]);
			PUT_LIT(&o, "\r\n");
		}
		put_dialog_ids(t, &o, call);
		PUT_LIT(&o, "To: ");
		put_slice(&o, to->value);
		PUT_LIT(&o, "\r\n");
		put_cseq(&o, bye ? 2 : 1, bye ? "BYE" : "ACK");
		PUT_LIT(&o, "User-Agent: siptls-bench\r\nContent-Length: 0\r\n\r\n");
	}
	lg_wcommit(t, c, o.n);
	return 0;
}

/* ACK for a non-2xx final response to INVITE: same branch, hop by hop (RFC 3261 17.1.1.3) */
static void send_ack_error(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m,
                           uint32_t slot, uint32_t gen, uint64_t call)
{
	const struct sip_hdr *to = sip_msg_get(m, SIP_H_TO);
	struct out o = {lg_wreserve(c, 1024 + (uint32_t)m->raw.n), 0};
	if (!to || !o.p)
		return;
	PUT_LIT(&o, "ACK ");
	put_ruri(t, &o);
	PUT_LIT(&o, " SIP/2.0\r\n");
	put_via(&o, slot, gen);
	put_dialog_ids(t, &o, call);
	PUT_LIT(&o, "To: ");
	put_slice(&o, to->value);
	PUT_LIT(&o, "\r\n");
	put_cseq(&o, 1, "ACK");
	PUT_LIT(&o, "Content-Length: 0\r\n\r\n");
	lg_wcommit(t, c, o.n);
}

static void unexpected(struct lg_thr *t, unsigned status)
{
	lg_add(&t->st.status[status < 700 ? status : 0], 1);
}

static void on_final(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m, uint32_t slot)
{
	struct lg_tx *x = &t->uac->tx[slot];
	uint64_t call = x->call;
	uint8_t kind = x->kind;
	uint32_t gen = x->gen;
	if (m->status == 200) {
		lg_add(&t->st.tx_done, 1);
		lg_hist_add(&t->st.lat, lg_now() - x->t0);
	} else {
		unexpected(t, m->status);
	}
	tx_free(t, slot);
	if (kind == TX_INVITE && m->status == 200) {
		if (send_ack_bye(t, c, m, call) == 0)
			return; /* the unit goes on with the BYE */
		lg_add(&t->st.bad_resp, 1);
	} else if (kind == TX_INVITE && m->status >= 300) {
		send_ack_error(t, c, m, slot, gen, call);
	} else if (kind == TX_BYE && m->status == 200) {
		lg_add(&t->st.calls_done, 1);
	}
	unit_done(t, c->idx, c->gen);
}

static void uac_msg(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m)
{
	if (m->kind == SIP_KIND_PING) {
		lg_send(t, c, "\r\n", 2); /* RFC 5626 4.4.1 pong */
		return;
	}
	if (m->kind == SIP_KIND_REQUEST) {
		lg_add(&t->st.unexpected_req, 1);
		return;
	}
	struct sip_via v;
	uint32_t slot, gen;
	if (sip_via_top(m, &v) < 0 || parse_branch(v.branch, &slot, &gen) < 0) {
		lg_add(&t->st.bad_resp, 1);
		return;
	}
	struct lg_uac *u = t->uac;
	if (slot >= u->cap || u->tx[slot].gen != gen || u->tx[slot].kind == TX_FREE ||
	    u->tx[slot].conn != c->idx) {
		lg_add(&t->st.stray, 1); /* late: its transaction timed out */
		return;
	}
	if (m->status < 200) {
		lg_add(&t->st.provisional, 1);
		return;
	}
	on_final(t, c, m, slot);
}

/* ---- connection events, timers ---- */
static void uac_up(struct lg_thr *t, struct lg_conn *c)
{
	(void)c;
	t->uac->up++;
	t->uac->settled++;
}

static void uac_closed(struct lg_thr *t, struct lg_conn *c)
{
	struct lg_uac *u = t->uac;
	if (c->state != LG_C_UP) {
		u->settled++;
		return;
	}
	u->up--;
	for (uint32_t i = 0; c->outstanding && i < u->cap; i++) {
		struct lg_tx *x = &u->tx[i];
		if (x->kind != TX_FREE && x->conn == c->idx && x->conn_gen == c->gen) {
			lg_add(&t->st.aborted, 1);
			tx_free(t, i);
		}
	}
}

static void expire(struct lg_thr *t)
{
	struct lg_uac *u = t->uac;
	while (u->qlen && u->q[u->qhead].deadline <= t->now) {
		struct lg_tmo e = u->q[u->qhead];
		u->qhead = (u->qhead + 1) % u->qcap;
		u->qlen--;
		struct lg_tx *x = &u->tx[e.slot];
		if (x->gen != e.gen || x->kind == TX_FREE)
			continue;
		lg_add(&t->st.timeouts, 1);
		uint32_t idx = x->conn, gen = x->conn_gen;
		tx_free(t, e.slot);
		unit_done(t, idx, gen);
	}
}

static struct lg_conn *next_up(struct lg_thr *t)
{
	for (uint32_t k = 0; k < t->nconns; k++) {
		struct lg_conn *c = t->conns[t->uac->rr++ % t->nconns];
		if (c->state == LG_C_UP)
			return c;
	}
	return NULL;
}

static void begin_load(struct lg_thr *t)
{
	struct lg_uac *u = t->uac;
	u->loading = true;
	t->load_start = t->now;
	if (t->o->duration > 0)
		u->stop_at = t->now + (uint64_t)(t->o->duration * 1e9);
	if (t->o->rate > 0)
		return;
	for (unsigned w = 0; w < t->o->window; w++)
		for (uint32_t k = 0; k < t->nconns; k++)
			if (t->conns[k]->state == LG_C_UP)
				start_unit(t, t->conns[k]);
}

/* open loop: start every unit whose time has come (time zero: the first one) */
static void pace(struct lg_thr *t)
{
	struct lg_uac *u = t->uac;
	uint64_t due = (uint64_t)((double)(t->now - t->load_start) * t->rate_share / 1e9) + 1;
	while (u->units < due) {
		struct lg_conn *c = next_up(t);
		if (!c || !start_unit(t, c))
			break;
	}
}

static int uac_tick(struct lg_thr *t)
{
	struct lg_uac *u = t->uac;
	if (!u->loading) {
		if (lg_stop_flag)
			return 1;
		if (u->settled < t->conn_share)
			return 0; /* still connecting */
		if (u->up == 0)
			return 1;
		begin_load(t);
	}
	expire(t);
	if (!u->stopping) {
		unsigned need = t->o->scen == LG_CALL ? 2 : 1;
		if (lg_stop_flag || (u->stop_at && t->now >= u->stop_at) ||
		    (t->o->count && u->reserved + need > t->count_share) || u->up == 0) {
			u->stopping = true;
			u->drain_until = t->now + (uint64_t)t->o->timeout_ms * 1000000u + 50000000u;
		} else if (t->o->rate > 0) {
			pace(t);
		}
	}
	return u->stopping && (u->outstanding == 0 || t->now >= u->drain_until);
}

static int64_t uac_next_due(struct lg_thr *t)
{
	struct lg_uac *u = t->uac;
	int64_t due = -1;
	if (u->qlen)
		due = (int64_t)(u->q[u->qhead].deadline - t->now);
	if (u->loading && !u->stopping && t->o->rate > 0) {
		uint64_t at = t->load_start + (uint64_t)((double)u->units * 1e9 / t->rate_share);
		int64_t d = at > t->now ? (int64_t)(at - t->now) : 0;
		if (due < 0 || d < due)
			due = d;
	}
	return due < 0 ? -1 : due;
}

static const struct lg_ops uac_ops = {
    .up = uac_up,
    .msg = uac_msg,
    .closed = uac_closed,
    .tick = uac_tick,
    .next_due = uac_next_due,
};

/* the mode's state without any connection (unit tests start here) */
static int lg_uac_init_state(struct lg_thr *t)
{
	struct lg_uac *u = calloc(1, sizeof(*u));
	if (!u)
		return -1;
	t->uac = u;
	if (tx_grow(u) < 0)
		return -1;
	u->pid = (unsigned)getpid();
	t->ops = &uac_ops;
	return 0;
}

int lg_uac_init(struct lg_thr *t)
{
	if (lg_uac_init_state(t) < 0)
		return -1;
	struct lg_uac *u = t->uac;
	for (unsigned i = 0; i < t->conn_share; i++)
		if (!lg_connect(t))
			u->settled++;
	return 0;
}

void lg_uac_fini(struct lg_thr *t)
{
	if (!t->uac)
		return;
	free(t->uac->tx);
	free(t->uac->freel);
	free(t->uac->q);
	free(t->uac);
	t->uac = NULL;
}
