/* uas: answers every request on every connection: INVITE -> 100, 180, 200 (with an SDP answer,
 * a To tag and a Contact); ACK -> nothing; anything else -> 200. Responses copy Via,
 * Record-Route, From, Call-ID and CSeq from the request and add a To tag (RFC 3261 8.2.6.2,
 * 12.1.1: the Record-Route set goes back in the 2xx so the caller can build its route set).
 * With --delay, final responses wait in a FIFO (one delay for all: start order is due order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/loadgen/lg.h"

struct lg_delayed {
	uint32_t conn, gen, n;
	uint64_t due;
	char *p;
};

struct lg_uas {
	struct lg_delayed *q;
	size_t qcap, qhead, qlen;
	uint64_t tags, stop_at;
};

static const char sdp_answer[] = "v=0\r\n"
                                 "o=uas 1 1 IN IP4 127.0.0.1\r\n"
                                 "s=siptls-bench answer\r\n"
                                 "c=IN IP4 127.0.0.1\r\n"
                                 "t=0 0\r\n"
                                 "m=audio 40000 RTP/AVP 0 101\r\n"
                                 "a=rtpmap:0 PCMU/8000\r\n"
                                 "a=rtpmap:101 telephone-event/8000\r\n"
                                 "a=fmtp:101 0-16\r\n"
                                 "a=ptime:20\r\n"
                                 "a=sendrecv\r\n";

static char *cpy(char *w, const void *p, size_t n)
{
	memcpy(w, p, n);
	return w + n;
}

#define CPY_LIT(w, s) cpy((w), (s), sizeof(s) - 1)

static char *hex(char *w, uint64_t v)
{
	char tmp[16];
	int i = sizeof(tmp);
	do {
		tmp[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	return cpy(w, tmp + i, sizeof(tmp) - (size_t)i);
}

static bool has_tag(struct slice v)
{
	return memmem(v.p, v.n, ";tag=", 5) != NULL;
}

struct resp {
	unsigned code;
	const char *status; /* "200 OK" */
	uint64_t tag;       /* 0: add none */
	bool contact, sdp;
};

/* bytes enough for any response to m */
static uint32_t resp_bound(const struct sip_msg *m)
{
	return m->head_len + 512 + (uint32_t)sizeof(sdp_answer);
}

static uint32_t build(struct lg_thr *t, char *out, const struct sip_msg *m, const struct resp *r)
{
	char *w = CPY_LIT(out, "SIP/2.0 ");
	w = cpy(w, r->status, strlen(r->status));
	w = CPY_LIT(w, "\r\n");
	for (uint32_t i = 0; i < m->nhdr; i++) {
		const struct sip_hdr *h = &m->hdr[i];
		switch (h->id) {
		case SIP_H_VIA:
		case SIP_H_RECORD_ROUTE:
		case SIP_H_FROM:
		case SIP_H_CALL_ID:
		case SIP_H_CSEQ:
			w = cpy(w, h->line.p, h->line.n);
			break;
		case SIP_H_TO:
			if (!r->tag || has_tag(h->value)) {
				w = cpy(w, h->line.p, h->line.n);
				break;
			}
			w = cpy(w, h->line.p, h->line.n - 2); /* without its CRLF */
			w = CPY_LIT(w, ";tag=uas");
			w = hex(w, r->tag);
			w = CPY_LIT(w, "\r\n");
			break;
		default:
			break;
		}
	}
	if (r->contact) {
		w = CPY_LIT(w, "Contact: <sip:uas@");
		w = cpy(w, t->o->host, strlen(t->o->host));
		w += sprintf(w, ":%u;transport=tls>\r\n", t->o->port);
	}
	if (r->sdp)
		w = CPY_LIT(w, "Content-Type: application/sdp\r\n");
	w = CPY_LIT(w, "Server: siptls-bench\r\nContent-Length: ");
	if (r->sdp) {
		w += sprintf(w, "%zu\r\n\r\n", sizeof(sdp_answer) - 1);
		w = CPY_LIT(w, sdp_answer);
	} else {
		w = CPY_LIT(w, "0\r\n\r\n");
	}
	return (uint32_t)(w - out);
}

static void answer_now(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m,
                       const struct resp *r)
{
	char *w = lg_wreserve(c, resp_bound(m));
	if (w)
		lg_wcommit(t, c, build(t, w, m, r));
}

static int delay_push(struct lg_uas *u, struct lg_delayed d)
{
	if (u->qlen == u->qcap) {
		size_t cap = u->qcap ? u->qcap * 2 : 1024;
		struct lg_delayed *q = malloc(cap * sizeof(*q));
		if (!q)
			return -1;
		for (size_t i = 0; i < u->qlen; i++)
			q[i] = u->q[(u->qhead + i) % u->qcap];
		free(u->q);
		u->q = q;
		u->qcap = cap;
		u->qhead = 0;
	}
	u->q[(u->qhead + u->qlen++) % u->qcap] = d;
	return 0;
}

static void answer_final(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m,
                         const struct resp *r)
{
	if (t->o->delay_ms == 0) {
		answer_now(t, c, m, r);
		return;
	}
	struct lg_delayed d = {c->idx, c->gen, 0, t->now + t->o->delay_ms * 1000000ull,
	                       malloc(resp_bound(m))};
	if (!d.p)
		return;
	d.n = build(t, d.p, m, r);
	if (delay_push(t->uas, d) < 0)
		free(d.p);
}

static void uas_msg(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m)
{
	if (m->kind == SIP_KIND_PING) {
		lg_send(t, c, "\r\n", 2); /* RFC 5626 4.4.1 */
		return;
	}
	if (m->kind != SIP_KIND_REQUEST)
		return; /* a response: we send no requests */
	lg_add(&t->st.requests, 1);
	lg_add(&t->st.answered[m->method_id], 1);
	if (m->method_id == SIP_M_ACK)
		return;
	if (m->method_id == SIP_M_INVITE) {
		uint64_t tag = ++t->uas->tags;
		answer_now(t, c, m, &(struct resp){100, "100 Trying", 0, false, false});
		answer_now(t, c, m, &(struct resp){180, "180 Ringing", tag, true, false});
		answer_final(t, c, m, &(struct resp){200, "200 OK", tag, true, true});
		return;
	}
	answer_final(t, c, m, &(struct resp){200, "200 OK", ++t->uas->tags, false, false});
}

static void uas_up(struct lg_thr *t, struct lg_conn *c)
{
	(void)t;
	(void)c;
}

static int uas_tick(struct lg_thr *t)
{
	struct lg_uas *u = t->uas;
	if (lg_stop_flag || (u->stop_at && t->now >= u->stop_at))
		return 1;
	while (u->qlen && u->q[u->qhead].due <= t->now) {
		struct lg_delayed d = u->q[u->qhead];
		u->qhead = (u->qhead + 1) % u->qcap;
		u->qlen--;
		struct lg_conn *c = lg_conn_get(t, d.conn, d.gen);
		if (c && c->state == LG_C_UP)
			lg_send(t, c, d.p, d.n);
		free(d.p);
	}
	return 0;
}

static int64_t uas_next_due(struct lg_thr *t)
{
	struct lg_uas *u = t->uas;
	if (!u->qlen)
		return -1;
	uint64_t due = u->q[u->qhead].due;
	return due > t->now ? (int64_t)(due - t->now) : 0;
}

static const struct lg_ops uas_ops = {
    .up = uas_up,
    .msg = uas_msg,
    .tick = uas_tick,
    .next_due = uas_next_due,
};

int lg_uas_init(struct lg_thr *t)
{
	t->uas = calloc(1, sizeof(*t->uas));
	if (!t->uas)
		return -1;
	t->ops = &uas_ops;
	t->load_start = lg_now();
	if (t->o->duration > 0)
		t->uas->stop_at = t->load_start + (uint64_t)(t->o->duration * 1e9);
	int rc = lg_listen(t);
	if (rc < 0) {
		fprintf(stderr, "siptls-bench: cannot listen on %s:%u: %s\n", t->o->host,
		        t->o->port, strerror(-rc));
		return -1;
	}
	return 0;
}

void lg_uas_fini(struct lg_thr *t)
{
	struct lg_uas *u = t->uas;
	if (!u)
		return;
	for (size_t i = 0; i < u->qlen; i++)
		free(u->q[(u->qhead + i) % u->qcap].p);
	free(u->q);
	free(u);
	t->uas = NULL;
}
