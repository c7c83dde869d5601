/* io/ring: setup with feature probing, waiting with a timeout, batch reaping. */
#include "io/ring.h"

#include <errno.h>
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
