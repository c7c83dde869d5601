/* Transactions: what a forwarded request needs to be answered locally (408, 503). (core/wk.h) */
#include "core/wk.h"

/* ---- transactions ----------------------------------------------------------------------- */

static unsigned txn_bucket(const char *branch)
{
	uint64_t h =
	    1469598103934665603ull; /* FNV-1a: the branch's token is already a PRF output */
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
		if ((*pp)->method == method &&
		    memcmp((*pp)->branch, branch.p, PROXY_BRANCH_LEN) == 0)
			return pp;
	return NULL;
}

void wk_txn_unlink_free(struct worker *w, struct txn **pp)
{
	struct txn *t = *pp;
	*pp = t->next;
	if (io_timer_armed(&t->timer.t))
		io_wheel_cancel(w->wheel, &t->timer.t);
	free(t); /* the request's copy is in the same allocation */
	w->ntxn--;
}

/* remembers a forwarded request so it can still be answered (408, 503) if upstream is not */
void wk_txn_add(struct worker *w, const struct proxy_decision *d, const struct sip_msg *m,
                uint64_t client, uint64_t upstream)
{
	struct slice b = slice_make(d->branch, PROXY_BRANCH_LEN);
	if (m->method_id == SIP_M_ACK || txn_find(w, b, (uint8_t)m->method_id))
		return; /* ACK has no response; a retransmission keeps the first entry */
	/* one allocation for the entry and the request's copy: one malloc and one free per
	 * transaction, and the copy next to the entry it belongs to */
	struct txn *t = malloc(sizeof(*t) + m->raw.n);
	if (!t)
		return; /* out of memory: the request still goes, only a local 408 is lost */
	memset(t, 0, sizeof(*t));
	char *copy = (char *)(t + 1);
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
	io_wheel_add(w->wheel, &t->timer.t, wk_now_ms() + w->d->opts.txn_ms);
}

/* A final answer the client is owed goes even past its queue's limit: an upstream that fails
 * answers all of its transactions in one pass (hundreds, in a burst), the transactions the client
 * opened bound it, and dropping one would leave a request without a final response. */
static int send_owed(struct worker *w, struct conn *c, const char *p, size_t n)
{
	size_t limit = c->sq.limit;
	c->sq.limit = SIZE_MAX;
	int rc = wk_conn_send_bytes(w, c, p, n);
	c->sq.limit = limit;
	return rc;
}

/* answers the request t remembers with code on its client connection, if that still exists */
static void txn_answer(struct worker *w, struct txn *t, unsigned code)
{
	struct conn *c = wk_conn_by_id(w, t->client);
	struct sip_limits lim = w->g->limits;
	struct sip_msg m;
	if (!c || c->state != C_OPEN || t->method == SIP_M_ACK)
		return;
	/* its own header array: this can run while another message is being handled */
	sip_msg_init(&m, w->hdr_saved, HDR_CAP);
	if (sip_msg_scan(t->req, t->req_len, &lim, &m) <= 0)
		return;
	int n = proxy_reply(&w->g->proxy, &m, code, w->reply, sizeof(w->reply));
	if (n > 0 && send_owed(w, c, w->reply, (size_t)n) == 0) {
		wk_trace_bytes(w, c, CORE_TRACE_OUT, w->reply, (size_t)n);
		w->st.local_replies[code / 100]++;
	}
}

void wk_txn_fail_upstream(struct worker *w, uint64_t upstream, unsigned code)
{
	for (unsigned k = 0; k < TXN_BUCKETS; k++) {
		struct txn **pp = &w->txns[k];
		while (*pp) {
			if ((*pp)->upstream == upstream) {
				txn_answer(w, *pp, code);
				w->st.upstream_unavailable++;
				wk_txn_unlink_free(w, pp);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

void wk_txn_timeout(struct worker *w, struct txn *t)
{
	struct txn **pp = txn_find(w, slice_make(t->branch, PROXY_BRANCH_LEN), t->method);
	if (!pp)
		return;
	txn_answer(w, t, 408);
	w->st.timeouts++;
	wk_txn_unlink_free(w, pp);
}

/* a response for a transaction: final ends it, a provisional INVITE one moves to timer C */
void wk_txn_response(struct worker *w, const struct sip_msg *m, struct slice branch)
{
	const struct sip_hdr *cs = sip_msg_get(m, SIP_H_CSEQ);
	struct sip_cseq cseq;
	if (!cs || sip_cseq_parse(cs->value, &cseq) < 0)
		return;
	struct txn **pp = txn_find(w, branch, (uint8_t)cseq.method_id);
	if (!pp)
		return;
	if (m->status >= 200) {
		wk_txn_unlink_free(w, pp);
	} else if ((*pp)->method == SIP_M_INVITE && !(*pp)->provisional) {
		(*pp)->provisional = true;
		io_wheel_cancel(w->wheel, &(*pp)->timer.t);
		io_wheel_add(w->wheel, &(*pp)->timer.t, wk_now_ms() + w->d->opts.txn_invite_ms);
	}
}
