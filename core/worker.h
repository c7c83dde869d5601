/* core_worker: one per-core proxy worker — its own io_uring, listen sockets, connections,
 * upstream pool, transactions and counters. Nothing here is shared with another worker; the
 * daemon reaches a worker only through worker_wake (an eventfd the worker's ring reads).
 */
#ifndef SIPTLS_CORE_WORKER_H
#define SIPTLS_CORE_WORKER_H

#include <stdint.h>

#include "core/proxy.h"
#include "tls/stats.h"

struct daemon;
struct worker;

/* what a worker counts; the worker is the only writer, readers take snapshots */
struct worker_stats {
	uint64_t accepted, accept_errors;
	uint64_t active;                 /* connections open now */
	uint64_t remote_closures;        /* peer closed (close_notify or EOF) */
	uint64_t conn_failures;          /* upstream connect or handshake failed */
	uint64_t handshake_timeouts;
	uint64_t send_failures;
	uint64_t requests_in, responses_in, pings;
	uint64_t forwarded_requests, forwarded_responses;
	uint64_t local_replies[7];       /* 1xx..6xx by class, [0] unused */
	uint64_t reasons[PROXY_R__COUNT];/* every proxy decision, by reason */
	uint64_t scan_errors;            /* unframeable bytes: 400 when possible, then close */
	uint64_t too_big;                /* 513 and close */
	uint64_t timeouts;               /* 408 sent */
	uint64_t upstream_unavailable;   /* 503 sent: no upstream connection, or it was lost */
	uint64_t response_no_conn;       /* response whose inbound connection is gone: dropped */
	uint64_t queue_full;             /* a send queue at its limit refused a message */
	uint64_t max_sendq;              /* largest send queue seen */
	struct tls_stats tls;
};

/* Creates worker idx of d (not started). NULL on allocation failure. */
struct worker *worker_new(struct daemon *d, unsigned idx);
/* Starts its thread; the listen sockets fds[0..n) (one per daemon listener, -1 for one that
 * failed) become the worker's. 0 or -errno. */
int worker_start(struct worker *w, const int *listen_fds, unsigned n);
/* Wakes the worker so it sees daemon_stopping (drain and exit). Safe from any thread. */
void worker_wake(struct worker *w);
/* Waits for the thread to exit, then frees the worker. */
void worker_join_free(struct worker *w);
/* A snapshot of the counters (racy by design: plain loads of counters one thread writes). */
void worker_stats_read(const struct worker *w, struct worker_stats *out);

#endif
