/* siptls-bench internals: options, per-thread state, connections, statistics.
 *
 * Every thread owns one epoll loop, its connections and its statistics (share nothing). The
 * main thread only reads the statistics, with relaxed atomic loads, once a second for the
 * progress line and once at the end for the summary; owners update them with lg_add().
 */
#ifndef SIPTLS_BENCH_LG_H
#define SIPTLS_BENCH_LG_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "sip/msg.h"

enum lg_mode { LG_UAS, LG_UAC, LG_HANDSHAKE, LG_IDLE };
enum lg_scen { LG_OPTIONS, LG_CALL };

struct lg_opts {
	enum lg_mode mode;
	enum lg_scen scen;
	struct sockaddr_storage addr; /* uac/handshake/idle: target; uas: listen */
	socklen_t addrlen;
	char host[256]; /* as given, for the Request-URI and Contact */
	unsigned port;
	const char *cert, *key, *ca, *sni;
	bool no_verify;
	unsigned conns, window, threads, hs_parallel;
	double rate;         /* open loop: calls/s (call) or transactions/s (options); 0: closed */
	double duration;     /* seconds; 0: no time bound (uac: needs --count) */
	uint64_t count;      /* transactions; 0: no count bound */
	unsigned delay_ms;   /* uas: hold final responses this long */
	unsigned timeout_ms; /* uac: a transaction without a final response is a timeout */
	bool json, quiet;
	const char *user; /* Request-URI user part */
};

/* ---- histogram: log-bucketed, 32 linear sub-buckets per power of two (<= 3.2% error) ---- */
#define LG_HIST_SUB 5
#define LG_HIST_N ((64 - LG_HIST_SUB + 1) << LG_HIST_SUB)
struct lg_hist {
	uint64_t b[LG_HIST_N];
	uint64_t n, max;
};
void lg_hist_add(struct lg_hist *h, uint64_t v);
/* dst += src (src read with relaxed atomics: it may be another thread's) */
void lg_hist_merge(struct lg_hist *dst, const struct lg_hist *src);
/* dst = a - b, bucket by bucket (a taken later than b) */
void lg_hist_diff(struct lg_hist *dst, const struct lg_hist *a, const struct lg_hist *b);
/* the value at quantile q in [0, 1] (middle of its bucket), 0 when empty */
uint64_t lg_hist_quantile(const struct lg_hist *h, double q);

/* ---- statistics, one set per thread ---- */
struct lg_stats {
	uint64_t tx_started, tx_done, calls_started, calls_done, provisional;
	uint64_t timeouts, aborted, conn_fail, conn_lost, parse_err, bad_resp, overload, stray;
	uint64_t hs_done, hs_fail, conns_up, accepted, requests, unexpected_req, held;
	uint64_t status[700]; /* uac: unexpected final statuses; uas: unused */
	uint64_t answered[SIP_M__COUNT];
	struct lg_hist lat; /* ns: request sent -> final response; handshake: connect -> done */
};

static inline void lg_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED); /* single writer: no RMW needed */
}

/* ---- connections ---- */
enum lg_cstate { LG_C_FREE, LG_C_CONNECTING, LG_C_HANDSHAKE, LG_C_UP };

struct lg_conn {
	int fd;
	SSL *ssl;
	uint32_t idx, gen;
	enum lg_cstate state;
	bool dirty, want_out, out_armed;
	uint64_t t0; /* connect or accept time, ns */
	char *rbuf, *wbuf;
	uint32_t rlen, rcap, wlen, wcap;
	uint32_t outstanding; /* uac: transactions in flight on this connection */
	struct lg_conn *next_dirty;
};

struct lg_thr;
struct lg_ops {
	void (*up)(struct lg_thr *t, struct lg_conn *c); /* handshake done */
	void (*msg)(struct lg_thr *t, struct lg_conn *c, const struct sip_msg *m);
	void (*closed)(struct lg_thr *t, struct lg_conn *c); /* before the slot is reused */
	int (*tick)(struct lg_thr *t);         /* each loop pass: 1 when the thread is finished */
	int64_t (*next_due)(struct lg_thr *t); /* ns until the thread wants a tick; -1: none */
};

struct lg_uac;
struct lg_uas;
struct lg_hs;

struct lg_thr {
	const struct lg_opts *o;
	const struct lg_ops *ops;
	SSL_CTX *ctx;
	unsigned id;
	pthread_t tid;
	int ep, lfd;
	struct lg_conn **conns;
	uint32_t nconns, cap, *free, nfree;
	struct lg_conn *dirty;
	uint64_t now, load_start, load_end;
	unsigned conn_share;  /* connections this thread opens */
	uint64_t count_share; /* transactions this thread starts (0: no bound) */
	double rate_share;
	bool finished; /* read by main with atomics */
	struct lg_uac *uac;
	struct lg_uas *uas;
	struct lg_hs *hs;
	struct sip_hdr hdr[96];
	struct lg_stats st;
};

extern volatile int lg_stop_flag; /* set by SIGINT/SIGTERM */

uint64_t lg_now(void);

/* conn.c: the event loop and TLS connections */
int lg_thr_init(struct lg_thr *t);
void lg_thr_fini(struct lg_thr *t);
int lg_listen(struct lg_thr *t);
struct lg_conn *lg_connect(struct lg_thr *t);
void lg_close(struct lg_thr *t, struct lg_conn *c);
struct lg_conn *lg_conn_get(struct lg_thr *t, uint32_t idx, uint32_t gen);
/* room for n more bytes at the end of c's send buffer (NULL: out of memory) */
char *lg_wreserve(struct lg_conn *c, uint32_t n);
void lg_wcommit(struct lg_thr *t, struct lg_conn *c, uint32_t n);
void lg_send(struct lg_thr *t, struct lg_conn *c, const char *p, uint32_t n);
void lg_run(struct lg_thr *t);

/* modes */
int lg_uac_init(struct lg_thr *t);
int lg_uas_init(struct lg_thr *t);
int lg_hs_init(struct lg_thr *t); /* handshake and idle */
/* after lg_thr_fini (closing connections still calls into the mode) */
void lg_uac_fini(struct lg_thr *t);
void lg_uas_fini(struct lg_thr *t);
void lg_hs_fini(struct lg_thr *t);

#endif
