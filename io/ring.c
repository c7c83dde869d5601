/* io/ring: setup with feature probing, waiting with a timeout, batch reaping. */
#include "io/ring.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Best first. DEFER_TASKRUN needs SINGLE_ISSUER (6.1); both are rejected with -EINVAL by
 * kernels that predate them, which is how we probe: no version parsing. */
static const unsigned io_ring_flag_sets[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
    IORING_SETUP_COOP_TASKRUN,
    0,
};

static void io_ring_probe_ops(struct io_ring *r)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&r->ring);

	if (!probe)
		return;
	r->has_msg_ring = io_uring_opcode_supported(probe, IORING_OP_MSG_RING) != 0;
	io_uring_free_probe(probe);
}

int io_ring_init(struct io_ring *r, const struct io_ring_params *p)
{
	unsigned entries = p && p->entries ? p->entries : 256;
	unsigned cq = p && p->cq_entries ? p->cq_entries : 4 * entries;
	unsigned deny = p ? p->deny_flags : 0;
	int ret = -EINVAL;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < sizeof(io_ring_flag_sets) / sizeof(io_ring_flag_sets[0]); i++) {
		struct io_uring_params up;

		if (io_ring_flag_sets[i] & deny)
			continue;
		memset(&up, 0, sizeof(up));
		up.flags = io_ring_flag_sets[i] | IORING_SETUP_CQSIZE;
		up.cq_entries = cq;
		ret = io_uring_queue_init_params(entries, &r->ring, &up);
		if (ret == 0) {
			r->setup_flags = io_ring_flag_sets[i];
			r->features = up.features;
			r->ready = true;
			io_ring_probe_ops(r);
			return 0;
		}
		/* only "flag unknown" is worth another try: ENOSYS, EPERM, ENOMEM are final */
		if (ret != -EINVAL)
			return ret;
	}
	return ret;
}

void io_ring_exit(struct io_ring *r)
{
	if (r->ready)
		io_uring_queue_exit(&r->ring);
	r->ready = false;
	free(r->deferred);
	r->deferred = NULL;
	r->ndeferred = r->capdeferred = 0;
}

int io_ring_defer(struct io_ring *r, uint64_t key)
{
	if (r->ndeferred == r->capdeferred) {
		unsigned cap = r->capdeferred ? 2 * r->capdeferred : 64;
		uint64_t *grown = realloc(r->deferred, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		r->deferred = grown;
		r->capdeferred = cap;
	}
	r->deferred[r->ndeferred++] = key;
	return 0;
}

unsigned io_ring_defer_run(struct io_ring *r, io_defer_fn *fn, void *arg)
{
	unsigned i = 0;

	/* fn may note more keys (and so move the array): index, never hold a pointer */
	for (; i < r->ndeferred; i++)
		fn(arg, r->deferred[i]);
	r->ndeferred = 0;
	return i;
}

struct io_uring_sqe *io_ring_sqe(struct io_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (sqe)
		return sqe;
	if (io_uring_submit(&r->ring) < 0)
		return NULL;
	return io_uring_get_sqe(&r->ring);
}

int io_ring_submit_wait(struct io_ring *r, unsigned wait_nr, int timeout_ms)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe; /* liburing 2.3 writes through this pointer: never NULL */
	int ret;

	if (wait_nr == 0) {
		ret = io_uring_submit(&r->ring);
		/* with DEFER_TASKRUN, completions are only posted when we enter with GETEVENTS */
		if (ret >= 0 && (r->setup_flags & IORING_SETUP_DEFER_TASKRUN))
			ret = io_uring_get_events(&r->ring);
		return ret < 0 ? ret : 0;
	}
	if (timeout_ms < 0) {
		ret = io_uring_submit_and_wait(&r->ring, wait_nr);
		return ret < 0 ? ret : 0;
	}
	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
	ret = io_uring_submit_and_wait_timeout(&r->ring, &cqe, wait_nr, &ts, NULL);
	if (ret == -ETIME)
		return 0;
	return ret < 0 ? ret : 0;
}

#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15) /* linux 6.12: io_uring_getevents_arg.min_wait_usec */
#endif

/* what io_uring_submit does before entering (liburing's __io_uring_flush_sq, not exported by
 * 2.3): publish the SQEs queued since the last submit; returns how many there are. */
static unsigned io_ring_flush_sq(struct io_ring *r)
{
	struct io_uring_sq *sq = &r->ring.sq;
	unsigned tail = sq->sqe_tail;

	if (sq->sqe_head != tail) {
		sq->sqe_head = tail;
		io_uring_smp_store_release(sq->ktail, tail);
	}
	return tail - *sq->khead;
}

int io_ring_submit_wait_batch(struct io_ring *r, unsigned batch, unsigned min_wait_us,
                              int timeout_ms)
{
	struct __kernel_timespec ts;
	/* liburing 2.3 names min_wait_usec `pad`: same place, same width */
	struct io_uring_getevents_arg arg = {.sigmask = 0, .sigmask_sz = _NSIG / 8};
	unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
	int ret;

	if (!(r->features & IORING_FEAT_MIN_TIMEOUT) || batch <= 1 || min_wait_us == 0 ||
	    timeout_ms < 0)
		return io_ring_submit_wait(r, 1, timeout_ms);
	arg.pad = min_wait_us;
	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
	arg.ts = (uint64_t)(uintptr_t)&ts;
	ret = io_uring_enter2((unsigned)r->ring.ring_fd, io_ring_flush_sq(r), batch, flags,
	                      (sigset_t *)&arg, sizeof(arg));
	if (ret == -ETIME)
		return 0;
	return ret < 0 ? ret : 0;
}

unsigned io_ring_reap(struct io_ring *r, io_cqe_fn *fn, void *arg, unsigned max)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&r->ring, head, cqe)
	{
		if (max && n == max)
			break;
		fn(arg, cqe);
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
	return n;
}

int io_ring_cancel(struct io_ring *r, uint64_t ud, uint64_t cancel_ud)
{
	struct io_uring_sqe *sqe = io_ring_sqe(r);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, ud, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, cancel_ud);
	return 0;
}
