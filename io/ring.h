/* io/ring: one worker's io_uring, set up with the best flags the kernel takes.
 *
 * Ownership: a worker thread owns exactly one struct io_ring; it must call io_ring_init on that
 * thread (with IORING_SETUP_SINGLE_ISSUER the kernel binds the ring to the creating task) and
 * is then its only submitter. Other threads reach a worker through io/mailbox.h, never by
 * touching its ring.
 *
 * Calls return 0 (or a count) or a negative errno. -ENOSYS / -EPERM from io_ring_init mean
 * io_uring is not available at all (old kernel, seccomp, qemu-user): callers report and stop.
 */
#ifndef SIPTLS_IO_RING_H
#define SIPTLS_IO_RING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#define IO_MUST_CHECK __attribute__((warn_unused_result))

/* user_data layout: | id (32) | extra (24) | op (8) |
 * op names the handler (the worker's enum), id is the connection slot or listener index and
 * extra carries what the handler needs to reject a stale completion (a slot generation) or a
 * small argument. 0 is never produced by io_ud_pack with op != 0: keep op 0 for "ignore". */
#define IO_UD_EXTRA_MAX 0xffffffu

static inline uint64_t io_ud_pack(uint8_t op, uint32_t id, uint32_t extra);
static inline uint8_t io_ud_op(uint64_t ud);
static inline uint32_t io_ud_id(uint64_t ud);
static inline uint32_t io_ud_extra(uint64_t ud);

/* Setup flags io_ring_init tries, best first; the first the kernel accepts wins:
 *   SINGLE_ISSUER|DEFER_TASKRUN (6.1) > SINGLE_ISSUER|COOP_TASKRUN (6.0) > COOP_TASKRUN (5.19) > 0.
 * DEFER_TASKRUN runs completion work only when we wait, so it lands in our batch, not in an
 * interrupt of the hot loop; COOP_TASKRUN at least avoids the IPI. */
struct io_ring_params {
	unsigned entries;    /* SQ size; 0: 256 */
	unsigned cq_entries; /* CQ size; 0: 4 * entries (multishot ops post bursts) */
	unsigned deny_flags; /* IORING_SETUP_* never to try (tests use it to force fallbacks) */
};

struct io_ring {
	struct io_uring ring;
	unsigned setup_flags; /* the IORING_SETUP_* flags that took */
	unsigned features;    /* IORING_FEAT_* reported by the kernel */
	bool has_msg_ring;    /* IORING_OP_MSG_RING supported (5.18) */
	bool ready;           /* between a successful init and exit */
	/* keys of work deferred to the end of this ring pass (io_ring_defer) */
	uint64_t *deferred;
	unsigned ndeferred, capdeferred;
};

/* sets up r on the calling thread; p may be NULL for defaults. */
int io_ring_init(struct io_ring *r, const struct io_ring_params *p) IO_MUST_CHECK;
/* tears down the ring; safe on a zeroed or already-exited r. */
void io_ring_exit(struct io_ring *r);

/* a fresh SQE; when the SQ is full, submits what is queued and tries again. NULL only when the
 * submit failed (the ring is then unusable for this pass). */
struct io_uring_sqe *io_ring_sqe(struct io_ring *r);

/* submits queued SQEs and waits for at least wait_nr CQEs or timeout_ms (< 0: no timeout).
 * With IORING_FEAT_EXT_ARG (5.11) the timeout travels as an argument, else liburing queues one
 * IORING_OP_TIMEOUT: either way, one timeout per loop pass. Returns 0 on completions or on
 * timeout, -errno otherwise (-EINTR is returned so a signal can stop the loop). */
int io_ring_submit_wait(struct io_ring *r, unsigned wait_nr, int timeout_ms) IO_MUST_CHECK;

/* Like io_ring_submit_wait(r, 1, timeout_ms), but a pass that would wake for one completion
 * collects more first: the kernel (IORING_FEAT_MIN_TIMEOUT, 6.12) lets the wait sleep until
 * batch CQEs are ready or min_wait_us has passed since the call, whichever is first; if nothing
 * at all is ready by then, it waits on for the first one (up to timeout_ms) and returns at once.
 * An idle worker is therefore woken by its first completion as before; a busy one handles
 * completions in batches (one wake-up, one pass of sends) at the price of up to min_wait_us of
 * latency. Kernels without the feature get io_ring_submit_wait(r, 1, timeout_ms). Same
 * returns. */
int io_ring_submit_wait_batch(struct io_ring *r, unsigned batch, unsigned min_wait_us,
                              int timeout_ms) IO_MUST_CHECK;

/* calls fn on every CQE ready now (at most max; 0: no limit) and retires them with one
 * io_uring_cq_advance. Returns how many were handled. fn may queue SQEs, not wait. */
typedef void io_cqe_fn(void *arg, const struct io_uring_cqe *cqe);
unsigned io_ring_reap(struct io_ring *r, io_cqe_fn *fn, void *arg, unsigned max);

/* queues an async cancel of every request whose user_data is ud (e.g. to pause a multishot
 * recv for backpressure, or stop a listener); the cancelled request completes -ECANCELED. The
 * cancel's own CQE carries cancel_ud. */
int io_ring_cancel(struct io_ring *r, uint64_t ud, uint64_t cancel_ud) IO_MUST_CHECK;

/* Deferred work: the owner notes a key (say, a connection with bytes to send) while it handles a
 * pass's completions and runs every noted key once before it submits, so that what a pass
 * produced for one destination leaves in one request instead of one per message. A key noted
 * twice runs twice (callers dedupe; the runner must be idempotent). 0 or -ENOMEM (the caller
 * does the work at once instead). */
int io_ring_defer(struct io_ring *r, uint64_t key) IO_MUST_CHECK;
/* calls fn(arg, key) for every key noted since the last run, in the order noted, and forgets
 * them; keys fn notes meanwhile run in the same call. Returns how many ran. */
typedef void io_defer_fn(void *arg, uint64_t key);
unsigned io_ring_defer_run(struct io_ring *r, io_defer_fn *fn, void *arg);

/* does this CQE promise more (a multishot request still armed)? When false, re-arm. */
static inline bool io_cqe_more(const struct io_uring_cqe *cqe);

/* ---- inline bodies ---- */

static inline uint64_t io_ud_pack(uint8_t op, uint32_t id, uint32_t extra)
{
	return (uint64_t)id << 32 | (uint64_t)(extra & IO_UD_EXTRA_MAX) << 8 | op;
}

static inline uint8_t io_ud_op(uint64_t ud)
{
	return (uint8_t)(ud & 0xffu);
}

static inline uint32_t io_ud_id(uint64_t ud)
{
	return (uint32_t)(ud >> 32);
}

static inline uint32_t io_ud_extra(uint64_t ud)
{
	return (uint32_t)(ud >> 8) & IO_UD_EXTRA_MAX;
}

static inline bool io_cqe_more(const struct io_uring_cqe *cqe)
{
	return (cqe->flags & IORING_CQE_F_MORE) != 0;
}

#endif
