/* Control requests: connection snapshots, clears, counters and reload switches. (core/wk.h) */
#include "core/wk.h"

/* ---- control requests ------------------------------------------------------------------- */

static const char *state_name(enum cstate s)
{
	switch (s) {
	case C_CONNECTING:
		return "Connecting";
	case C_HANDSHAKE:
		return "Handshaking";
	case C_OPEN:
		return "Established";
	case C_CLOSING:
		return "Closing";
	case C_FREE:
	default:
		return "Free";
	}
}

static void ip_port(const struct sockaddr_storage *ss, char *ip, size_t n, uint16_t *port)
{
	const void *a = ss->ss_family == AF_INET6
	                    ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
	                    : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		snprintf(ip, n, "-");
		*port = 0;
		return;
	}
	inet_ntop(ss->ss_family, a, ip, (socklen_t)n);
	*port = ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
	                                        : ((const struct sockaddr_in *)ss)->sin_port);
}

static void fill_row(struct worker *w, const struct conn *c, struct ctl_conn *r)
{
	memset(r, 0, sizeof(*r));
	r->id = worker_public_id(w->idx, c->slot);
	ip_port(&c->peer, r->remote_ip, sizeof(r->remote_ip), &r->remote_port);
	ip_port(&c->local, r->local_ip, sizeof(r->local_ip), &r->local_port);
	r->state = state_name(c->state);
	r->writeq = (uint32_t)wk_conn_queued(c);
	r->tenant = c->g->tenants[c->tenant].tag;
	r->outbound = c->outbound;
	r->rl_rx = r->rl_tx = "-";
	if (c->state == C_OPEN || (c->state == C_CLOSING && c->tls.info.version_name)) {
		snprintf(r->version, sizeof(r->version), "%s",
		         c->tls.info.version_name ? c->tls.info.version_name : "");
		snprintf(r->cipher, sizeof(r->cipher), "%s",
		         c->tls.info.cipher ? c->tls.info.cipher : "");
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
		bool hit = r->cmd == CTL_CLEAR_ID
		               ? id == r->id
		               : same_peer(&c->peer, &r->target) && (r->id == 0 || r->id == id);
		if (hit) {
			wk_conn_close(w, c, true);
			n++;
		}
	}
	return n;
}

void wk_on_mail(struct worker *w, struct worker_mail *m)
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
		memset(w->pool, 0,
		       sizeof(w->pool)); /* target indexes are the new configuration's */
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
