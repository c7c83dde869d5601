/* handshake: keep --conns fresh connections in flight; each does one full TLS handshake (no
 * session cache, no tickets: nothing to resume), is counted and timed from connect() to the end
 * of the handshake, and is closed with close_notify.
 * idle: open --conns connections, at most --parallel handshakes at a time, then hold them for
 * --duration (counted from when the last handshake ended); connections the peer drops while
 * held are counted as lost. Connect and handshake are bounded by --timeout. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/loadgen/lg.h"

struct lg_hs {
	uint32_t active; /* handshaking (idle) or open (handshake) */
	uint32_t held;
	uint64_t started, stop_at;
	bool said_all_up;
};

static void hs_up(struct lg_thr *t, struct lg_conn *c)
{
	lg_add(&t->st.hs_done, 1);
	lg_hist_add(&t->st.lat, lg_now() - c->t0);
	if (t->o->mode == LG_HANDSHAKE) {
		lg_close(t, c);
		return;
	}
	t->hs->active--;
	t->hs->held++;
	lg_add(&t->st.held, 1);
}

static void hs_closed(struct lg_thr *t, struct lg_conn *c)
{
	struct lg_hs *h = t->hs;
	if (t->o->mode == LG_HANDSHAKE || c->state != LG_C_UP) {
		h->active--;
		return;
	}
	h->held--;
	/* closing at the end is not a loss: st.held keeps what was held until then. A loss is
	 * counted once, by conn.c's lost() that brought us here (counting it here too made the
	 * soak report every dropped connection twice) */
	if (!lg_stop_flag && (!h->stop_at || t->now < h->stop_at))
		__atomic_store_n(&t->st.held, t->st.held - 1, __ATOMIC_RELAXED);
}

static int hs_tick(struct lg_thr *t)
{
	struct lg_hs *h = t->hs;
	bool idle = t->o->mode == LG_IDLE;
	if (lg_stop_flag || (h->stop_at && t->now >= h->stop_at))
		return 1;
	uint32_t par = idle ? t->o->hs_parallel : t->conn_share;
	uint64_t limit = idle ? t->conn_share : t->count_share;
	bool bounded = idle || t->o->count; /* a thread's share of --count may be 0 */
	while (h->active < par && (!bounded || h->started < limit)) {
		h->started++;
		if (!lg_connect(t))
			break; /* counted; try again next pass */
		h->active++;
	}
	if (idle && !h->said_all_up && h->started == limit && h->active == 0) {
		h->said_all_up = true;
		h->stop_at = t->now + (uint64_t)(t->o->duration * 1e9);
		if (!t->o->quiet)
			fprintf(stderr,
			        "siptls-bench: thread %u: %u connections held after %.2f s\n",
			        t->id, h->held, (double)(t->now - t->load_start) / 1e9);
	}
	return !idle && bounded && h->started >= limit && h->active == 0;
}

static const struct lg_ops hs_ops = {
    .up = hs_up,
    .closed = hs_closed,
    .tick = hs_tick,
};

int lg_hs_init(struct lg_thr *t)
{
	t->hs = calloc(1, sizeof(*t->hs));
	if (!t->hs)
		return -1;
	t->ops = &hs_ops;
	t->load_start = lg_now();
	if (t->o->duration > 0 && t->o->mode == LG_HANDSHAKE)
		t->hs->stop_at = t->load_start + (uint64_t)(t->o->duration * 1e9);
	return 0;
}

void lg_hs_fini(struct lg_thr *t)
{
	free(t->hs);
	t->hs = NULL;
}
