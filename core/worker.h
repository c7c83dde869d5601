/* core_worker: one per-core proxy worker — its own io_uring, listen sockets, connections,
 * upstream pool, transactions and counters. Nothing here is shared with another worker; the
 * daemon reaches a worker only through worker_wake (an eventfd the worker's ring reads).
 */
#ifndef SIPTLS_CORE_WORKER_H
#define SIPTLS_CORE_WORKER_H

#include <semaphore.h>
#include <stdint.h>

#include "core/ctl.h"
#include "core/proxy.h"
#include "io/mailbox.h"
#include "tls/stats.h"

struct daemon;
struct daemon_gen;
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
	uint64_t backpressure_pauses;    /* a connection stopped reading until another drained */
	uint64_t max_sendq;              /* largest send queue seen */
	uint64_t inactive_ageouts;       /* closed by the idle timeout */
	/* admission (core/admit.h): refused at accept, closed before any TLS */
	uint64_t refused_max_conns;      /* max-connections reached */
	uint64_t refused_per_source;     /* the source has max-connections per-source open */
	uint64_t refused_rate;           /* the source opened connections faster than its rate */
	uint64_t admit_untracked;        /* admitted without a per-source count: table set full */
	uint64_t untrusted_403;          /* request from a peer outside the trusted list: 403 */
	uint64_t too_many_headers;       /* more header fields than max-header-count: 400 */
	struct tls_stats tls;
};

enum worker_mail_kind {
	WORKER_MAIL_WAKE,     /* nothing to do but look at the stop flag */
	WORKER_MAIL_SNAPSHOT, /* copy out the connection table and the counters */
	WORKER_MAIL_CLEAR,    /* close the connections a clear command names (close_notify) */
	WORKER_MAIL_STATS,    /* copy out the counters */
	WORKER_MAIL_SWITCH,   /* a reload: take `gen` for new connections */
};

/* A request from the control thread to one worker. The worker fills it on its own thread (so
 * nothing it owns is read by another thread) and then posts `done`; the sender waits on done
 * and owns the message throughout. */
struct worker_mail {
	struct io_mail link; /* first: the mailbox links messages through it */
	enum worker_mail_kind kind;
	struct ctl_conn *rows; /* SNAPSHOT: rows[0..cap) to fill; n: connections seen */
	size_t cap, n;
	struct ctl_request req; /* CLEAR: what to close; closed: how many */
	size_t closed;
	struct worker_stats stats; /* every kind but WAKE: the counters when it ran */
	char max_sendq_peer[80];
	struct daemon_gen *gen; /* SWITCH */
	sem_t done;
};

/* Conn-Ids operators see: worker and slot, never 0 and never a listen socket's small id */
static inline uint32_t worker_public_id(unsigned worker, uint32_t slot)
{
	return (uint32_t)(worker + 1) << 16 | (slot & 0xffffu);
}

static inline unsigned worker_of_public_id(uint32_t id)
{
	return (id >> 16) - 1;
}

/* Creates worker idx of d (not started). NULL on allocation failure. */
struct worker *worker_new(struct daemon *d, unsigned idx);
/* Starts its thread; the listen sockets fds[0..n) (one per daemon listener, -1 for one that
 * failed) become the worker's. 0 or -errno. */
int worker_start(struct worker *w, const int *listen_fds, unsigned n);
/* Wakes the worker so it sees daemon_stopping (drain and exit). Call from one thread. */
void worker_wake(struct worker *w);
/* Makes g the configuration of the worker's new connections; waits (2 s at most) for it. */
void worker_switch(struct worker *w, struct daemon_gen *g);
/* Hands m to the worker (any thread); the worker posts m->done when it has answered. */
int worker_post(struct worker *w, struct worker_mail *m);
/* Waits for the thread to exit, then frees the worker. */
void worker_join_free(struct worker *w);

#endif
