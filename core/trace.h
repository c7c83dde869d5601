/* core_trace: SIP message tracing, the guide's `debug ccsip messages` ("Verify SIP TLS
 * Configuration"): every SIP message a worker receives or sends, decrypted, with its time,
 * direction, Conn-Id, tenant, peer and local address, written by a thread of its own to a text
 * file, a pcap file (Wireshark, sngrep) or syslog. See docs/operations.md, "Tracing SIP
 * messages".
 *
 * Cost. Off: one relaxed atomic load and a predictable branch per message (core_trace_on).
 * On: the worker copies the message into its own single-producer single-consumer ring of fixed
 * size and goes on; when the ring is full the message is dropped and counted, never waited for.
 * The writer thread drains the rings; whoever holds t->mu is the rings' one consumer.
 *
 * Ownership: struct core_trace is embedded in struct daemon; its zero value is valid and
 * traces nothing (core_trace_on is false until core_trace_enable). Rings and the writer thread
 * exist from core_trace_setup to core_trace_free.
 */
#ifndef SIPTLS_CORE_TRACE_H
#define SIPTLS_CORE_TRACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

/* bytes per worker ring: at least 1000 typical INVITEs; memory is touched only when tracing */
#define CORE_TRACE_RING_BYTES (1u << 20)
/* how long the writer sleeps when the rings are empty (ms) */
#define CORE_TRACE_POLL_MS 20

enum core_trace_dir { CORE_TRACE_IN = 0, CORE_TRACE_OUT = 1 };

enum core_trace_form {
	CORE_TRACE_SYSLOG = 0, /* no file: one syslog line per line of each message */
	CORE_TRACE_TEXT,       /* the router's debug layout, one block per message */
	CORE_TRACE_PCAP,       /* a file named *.pcap: Ethernet/IP/TCP around the decrypted SIP */
};

/* one message's description, as it sits in a ring before its bytes */
struct core_trace_rec {
	uint64_t ts_ns;     /* CLOCK_REALTIME, when the worker saw it */
	uint64_t key;       /* the connection's internal id: unique while the daemon runs */
	uint32_t len;       /* bytes of the message that follow */
	uint32_t conn;      /* public Conn-Id, as show ... detail prints it */
	uint32_t tenant;    /* voice class tenant tag */
	uint16_t peer_port; /* host order */
	uint16_t local_port;
	uint8_t dir;    /* enum core_trace_dir */
	uint8_t family; /* 4 or 6 */
	uint8_t pad[6];
	uint8_t peer[16], local[16]; /* IPv4 in the first 4 bytes */
};

/* one worker's ring: the worker alone moves head, the consumer alone moves tail (on separate
 * cache lines; the array is allocated 64-byte aligned) */
struct core_trace_ring {
	_Alignas(64) atomic_uint_fast64_t head;
	atomic_uint_fast64_t traced, dropped; /* the worker's counters (single writer) */
	_Alignas(64) atomic_uint_fast64_t tail;
	char *buf;
	size_t cap; /* a power of two */
};

/* the pcap writer's TCP sequence numbers, per connection and direction (direct-mapped) */
#define CORE_TRACE_TCP_SLOTS 4096
struct core_trace_tcp {
	uint64_t key;
	uint32_t seq[2]; /* next sequence number: [CORE_TRACE_IN] the peer's, [OUT] ours */
};

struct core_trace_stats {
	uint64_t traced;       /* messages copied into a ring */
	uint64_t dropped;      /* messages left out: ring full, or larger than a ring */
	uint64_t write_errors; /* messages (or flushes) the sink refused */
	bool on;
};

struct core_trace {
	atomic_bool on; /* the workers' one test; written rarely, read by every message */
	struct core_trace_ring *rings;
	unsigned nrings;
	bool ready; /* mu, cv and the rings exist */
	/* below: the consumer's, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool thread_started, stop;
	char *path; /* NULL: syslog */
	enum core_trace_form form;
	bool sink; /* open: records go out; closed: drained records are discarded */
	FILE *f;
	char *scratch; /* one message out of a ring */
	size_t scratch_cap;
	struct core_trace_tcp *tcp;
	atomic_uint_fast64_t write_errors;
};

/* is tracing on? The hot path's only cost when it is not. */
static inline bool core_trace_on(const struct core_trace *t)
{
	return atomic_load_explicit(&t->on, memory_order_relaxed);
}

/* Makes nrings rings of ring_bytes (rounded up to a power of two) and remembers path (NULL:
 * syslog; "*.pcap": pcap; else text). 0 or -errno. Does not start tracing. */
int core_trace_init(struct core_trace *t, unsigned nrings, size_t ring_bytes, const char *path)
    __attribute__((warn_unused_result));
/* starts the writer thread. 0 or -errno. */
int core_trace_start(struct core_trace *t) __attribute__((warn_unused_result));
/* init + start + (when path is set: --trace-sip) enable; logs what fails. 0 or -errno. */
int core_trace_setup(struct core_trace *t, unsigned nrings, const char *path)
    __attribute__((warn_unused_result));
/* Tracing on: opens the sink (append; a new pcap file gets its header), drops whatever an
 * earlier session left in the rings, then sets the flag. 0, or -errno with err filled. */
int core_trace_enable(struct core_trace *t, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Tracing off: clears the flag, writes what the rings hold, flushes and closes the sink. When
 * it returns the file is complete (a message a worker was copying at that instant may be left
 * in its ring; it is discarded at the next enable). */
void core_trace_disable(struct core_trace *t);
/* stops the writer, writes what is left, frees everything; the zero value is fine */
void core_trace_free(struct core_trace *t);

/* Producer side (ring's worker only): copies rec (len and ts_ns filled in here) and the bytes
 * of iov[0..n) into ring i. 0, or -ENOBUFS when the ring has no room (counted as dropped). */
int core_trace_push(struct core_trace *t, unsigned i, const struct core_trace_rec *rec,
                    const struct iovec *iov, int n);
/* Consumer side (caller holds t->mu, or is the only thread): writes every record in the rings
 * to the sink (none open: discarded). Returns how many were taken. */
size_t core_trace_drain(struct core_trace *t);

void core_trace_stats_get(struct core_trace *t, struct core_trace_stats *s);

/* ---- formats: pure, one record each; 0 or -EIO ---- */

/* "2026-11-27T07:41:02.123456Z Received: Conn-Id 65537 tenant 0 TLS peer 127.0.0.1:40312
 * local 127.0.0.1:5061 len 612", then the message with CRLF as LF, then an empty line */
int core_trace_write_text(FILE *out, const struct core_trace_rec *r, const char *msg);
/* the pcap file header (LINKTYPE_ETHERNET, microseconds) */
int core_trace_write_pcap_header(FILE *out);
/* one or more Ethernet/IPv4|IPv6/TCP packets carrying msg, sequence numbers from tcp */
int core_trace_write_pcap(FILE *out, const struct core_trace_rec *r, const char *msg,
                          struct core_trace_tcp *tcp);
/* the text form, one line at a time, to fn (syslog uses it) */
typedef void core_trace_line_fn(void *arg, const char *line, size_t n);
void core_trace_lines(const struct core_trace_rec *r, const char *msg, core_trace_line_fn *fn,
                      void *arg);

/* ---- the control socket's answers ---- */

/* debug ccsip messages (on) / no debug ccsip messages (off) / undebug all (off, all): the
 * router's confirmation line and where the trace goes or what it counted; a "% ..." line when
 * the sink cannot be opened. 0 or the enable error. */
int core_trace_command(struct core_trace *t, bool on, bool all, FILE *out);
/* the trace counters in show stats' layout (json: ",\"trace_traced\":N,..." members) */
void core_trace_print_stats(struct core_trace *t, FILE *out, bool json);

#endif
