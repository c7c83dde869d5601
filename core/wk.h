/* wk: the inside of a worker (core/worker.h), shared by its files and by nothing else.
 *
 * worker.c   the loop: waits on the ring, dispatches completions and timers, drains, public API
 * wk_conn.c  connections: table, sending, closing, handshakes, accepting, the upstream pool
 * wk_rx.c    receiving: records into plaintext, backpressure, the I/O completions
 * wk_msg.c   messages: each framed message through the proxy rules (core/proxy.h)
 * wk_txn.c   transactions: what a forwarded request needs to be answered locally
 * wk_ctl.c   control requests: snapshots, clears, counters, configuration switches
 *
 * Everything here runs on the worker's own thread; nothing is locked.
 */
#ifndef SIPTLS_CORE_WK_H
#define SIPTLS_CORE_WK_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "core/daemon.h"
#include "core/ctl.h"
#include "core/log.h"
#include "io/bufring.h"
#include "io/listen.h"
#include "io/mailbox.h"
#include "io/ring.h"
#include "io/sendq.h"
#include "io/timer.h"
#include "sip/reply.h"
#include "sip/scalar.h"
#include "sip/via.h"
#include "tls/conn.h"
#include "tls/ident.h"
#include "tls/sni.h"
#include "core/worker.h"

enum op { OP_NONE = 0, OP_ACCEPT, OP_POLL, OP_RECV, OP_SEND, OP_MAIL, OP_CANCEL };

enum cstate { C_FREE = 0, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSING };

#define MAX_CONNS 65536u
#define TXN_BUCKETS 4096u
#define HDR_CAP CORE_CONF_MAX_HEADERS /* the ceiling of max-header-count */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000

enum tkind { T_CONN = 1, T_TXN, T_ACCEPT };

struct wtimer {
	struct io_timer t; /* first: a popped io_timer is a wtimer */
	uint8_t kind;
};

struct conn {
	struct wtimer timer; /* handshake / connect deadline */
	uint32_t slot, gen;
	enum cstate state;
	bool outbound, recv_armed, send_busy, poll_armed, closing_sent;
	unsigned tenant; /* index */
	int target;      /* outbound: index in d->targets; -1 inbound */
	int fd;
	struct tls_conn tls;
	struct tls_ktls_rxmsg krx; /* kernel receive: the armed recvmsg's header and record type */
	struct io_sendq sq; /* kernel TX, and requests waiting for an upstream handshake */
	char *rx;
	uint32_t rxlen, rxcap;
	struct sip_msg scan;
	struct sockaddr_storage peer, local;
	uint64_t id;
	struct daemon_gen *g; /* the configuration it was made under (a reference) */
	uint64_t last_active; /* ms: the idle timeout counts from here */
	struct daemon_admission adm; /* inbound: what its admission counted (daemon_admit_close) */
	int8_t trusted; /* trusted list: 1 yes, -1 no (-2 logged), 0 undecided (wk_conn_trust) */
	/* backpressure: a connection whose next message cannot be queued on blocked_on stops
	 * reading; receive buffers that were already in flight are held, in order, until then */
	bool paused;
	uint64_t blocked_on;
	struct held_buf {
		uint16_t bid;
		uint32_t len;
		const char *data;
	} * held;
	uint32_t nheld, capheld;
};

struct txn {
	struct wtimer timer;
	struct txn *next;
	char branch[PROXY_BRANCH_LEN];
	uint8_t method;
	bool provisional;
	uint64_t client;   /* inbound connection id */
	uint64_t upstream; /* connection the request went out on */
	char *req;         /* a copy of the request: local 408/503 are built from it */
	uint32_t req_len;
};

struct worker {
	struct daemon *d;
	struct daemon_gen *g; /* the configuration new connections get (a reference) */
	unsigned idx;
	pthread_t thread;
	bool thread_started;
	bool stop_posted;
	bool tearing_down;      /* worker_join_free: releasing must not resume anything */
	struct io_mailbox mbox; /* control requests and the stop wake-up */
	struct worker_mail stop_mail;
	struct io_ring ring;
	struct io_bufring br;
	struct io_wheel *wheel;
	struct io_listener lis[DAEMON_MAX_LISTENERS];
	struct wtimer accept_retry;
	struct conn **conns; /* by slot */
	uint32_t *gens;
	uint32_t next_slot, nconns;
	uint32_t hi_slot; /* highest slot ever used: table walks stop there */
	struct txn *txns[TXN_BUCKETS];
	uint64_t ntxn;
	uint64_t pool[DAEMON_MAX_TARGETS]; /* connection id per target, 0: none */
	uint64_t backoff_until[DAEMON_MAX_TARGETS];
	unsigned backoff_ms[DAEMON_MAX_TARGETS];
	struct sip_hdr hdr[HDR_CAP];       /* the message being handled */
	struct sip_hdr hdr_saved[HDR_CAP]; /* a remembered request being answered */
	char reply[2048];
	bool draining;
	uint64_t drain_deadline;
	struct worker_stats st;
	char max_sendq_peer[80]; /* who had the largest send queue (show ... detail) */
	uint64_t *paused;        /* ids of connections paused by backpressure */
	uint32_t npaused, cappaused;
	struct {
		char *p;
		uint32_t cap;
	} rx_spare; /* the receive buffer an idle connection gave back, for the next (wk_rx.c) */
};

static inline uint64_t wk_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* wk_conn.c */
void wk_addr_text(const struct sockaddr_storage *ss, char *buf, size_t n);
void wk_backoff(struct worker *w, unsigned ti);
void wk_cancel(struct worker *w, uint64_t ud);
void wk_conn_arm_recv(struct worker *w, struct conn *c);
struct conn *wk_conn_by_id(struct worker *w, uint64_t id);
struct conn *wk_conn_by_ud(struct worker *w, uint64_t ud);
void wk_conn_close(struct worker *w, struct conn *c, bool notify);
void wk_conn_flush(struct worker *w, struct conn *c);
void wk_conn_handshake(struct worker *w, struct conn *c);
size_t wk_conn_queued(const struct conn *c);
void wk_conn_release(struct worker *w, struct conn *c);
int wk_conn_send(struct worker *w, struct conn *c, const struct iovec *iov, int n);
int wk_conn_send_bytes(struct worker *w, struct conn *c, const char *p, size_t n);
uint64_t wk_conn_ud(const struct conn *c, enum op op);
void wk_listener_arm(struct worker *w, unsigned i);
void wk_on_accept(struct worker *w, unsigned li, int fd);
void wk_upstream_connected(struct worker *w, struct conn *c);
struct conn *wk_upstream_get(struct worker *w, struct daemon_gen *g, unsigned ti);

/* wk_txn.c */
void wk_txn_add(struct worker *w, const struct proxy_decision *d, const struct sip_msg *m,
                uint64_t client, uint64_t upstream);
void wk_txn_fail_upstream(struct worker *w, uint64_t upstream, unsigned code);
void wk_txn_response(struct worker *w, const struct sip_msg *m, struct slice branch);
void wk_txn_timeout(struct worker *w, struct txn *t);
void wk_txn_unlink_free(struct worker *w, struct txn **pp);

/* wk_msg.c */
void wk_conn_trust(struct conn *c);
void wk_conn_process(struct worker *w, struct conn *c);
void wk_on_scan_error(struct worker *w, struct conn *c, const struct sip_msg *m, int err);

/* wk_rx.c */
void wk_conn_on_data(struct worker *w, struct conn *c, struct slice in);
int wk_krecv_arm(struct worker *w, struct conn *c);
void wk_conn_resume_waiters(struct worker *w, uint64_t on, bool gone);
void wk_on_accept_cqe(struct worker *w, const struct io_uring_cqe *cqe);
void wk_on_poll(struct worker *w, const struct io_uring_cqe *cqe);
void wk_on_recv(struct worker *w, const struct io_uring_cqe *cqe);
void wk_on_send(struct worker *w, const struct io_uring_cqe *cqe);

/* wk_ctl.c */
void wk_on_mail(struct worker *w, struct worker_mail *m);

/* trace.c: debug ccsip messages (core/trace.h). wk_trace is the hook where a message is received
 * or sent: off, it costs the one test of a relaxed flag; on, a copy into the worker's ring. */
void wk_trace_msg(struct worker *w, const struct conn *c, enum core_trace_dir dir,
                  const struct iovec *iov, int n);
static inline void wk_trace(struct worker *w, const struct conn *c, enum core_trace_dir dir,
                            const struct iovec *iov, int n)
{
	if (__builtin_expect(core_trace_on(&w->d->trace), 0))
		wk_trace_msg(w, c, dir, iov, n);
}
static inline void wk_trace_bytes(struct worker *w, const struct conn *c, enum core_trace_dir dir,
                                  const char *p, size_t n)
{
	if (__builtin_expect(core_trace_on(&w->d->trace), 0))
		wk_trace_msg(w, c, dir, &(struct iovec){(void *)(uintptr_t)p, n}, 1);
}

#endif
