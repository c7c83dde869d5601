/* tests for io/ring.c: setup and fallbacks, NOP round trips, waiting, reaping, cancel. */
#include "io/ring.h"
#include "helpers.h"

#include <fcntl.h>

struct reaped {
	uint64_t ud[64];
	int res[64];
	unsigned n;
};

static void record(void *arg, const struct io_uring_cqe *cqe)
{
	struct reaped *rp = arg;

	cr_assert_lt(rp->n, 64u);
	rp->ud[rp->n] = cqe->user_data;
	rp->res[rp->n] = cqe->res;
	rp->n++;
}

/* queues n NOPs with user_data pack(op, first + i, i) */
static void queue_nops(struct io_ring *r, uint8_t op, uint32_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_ring_sqe(r);

		cr_assert_not_null(sqe);
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, io_ud_pack(op, first + i, i));
	}
}

/* waits until want CQEs were reaped into rp, at most 2 s */
static void reap_until(struct io_ring *r, struct reaped *rp, unsigned want)
{
	uint64_t deadline = io_test_now_ms() + 2000;

	while (rp->n < want && io_test_now_ms() < deadline) {
		cr_assert_eq(io_ring_submit_wait(r, 1, 100), 0);
		io_ring_reap(r, record, rp, 0);
	}
	cr_assert_eq(rp->n, want, "got %u completions, wanted %u", rp->n, want);
}

static void nop_round_trip(const struct io_ring_params *p, unsigned *flags)
{
	struct io_ring r;
	struct reaped rp = {.n = 0};

	io_test_ring(&r, p);
	*flags = r.setup_flags;
	queue_nops(&r, 7, 0xabcdef01u, 1);
	reap_until(&r, &rp, 1);
	cr_assert_eq(rp.res[0], 0);
	cr_assert_eq(io_ud_op(rp.ud[0]), 7);
	cr_assert_eq(io_ud_id(rp.ud[0]), 0xabcdef01u);
	io_ring_exit(&r);
}

Test(io_ring, ud_pack_round_trip)
{
	uint64_t ud = io_ud_pack(0xff, 0xffffffffu, IO_UD_EXTRA_MAX);

	cr_assert_eq(io_ud_op(ud), 0xff);
	cr_assert_eq(io_ud_id(ud), 0xffffffffu);
	cr_assert_eq(io_ud_extra(ud), IO_UD_EXTRA_MAX);
	ud = io_ud_pack(3, 42, 0x1234567u); /* extra wider than 24 bits is masked, not spilled */
	cr_assert_eq(io_ud_op(ud), 3);
	cr_assert_eq(io_ud_id(ud), 42);
	cr_assert_eq(io_ud_extra(ud), 0x234567u);
	cr_assert_neq(io_ud_pack(1, 0, 0), 0);
}

Test(io_ring, setup_and_nop_best_flags)
{
	unsigned flags;

	nop_round_trip(NULL, &flags);
	/* whatever took, DEFER_TASKRUN never comes without SINGLE_ISSUER */
	if (flags & IORING_SETUP_DEFER_TASKRUN)
		cr_assert(flags & IORING_SETUP_SINGLE_ISSUER);
}

Test(io_ring, fallback_without_defer_taskrun)
{
	struct io_ring_params p = {.entries = 8, .deny_flags = IORING_SETUP_DEFER_TASKRUN};
	unsigned flags;

	nop_round_trip(&p, &flags);
	cr_assert_eq(flags & IORING_SETUP_DEFER_TASKRUN, 0);
}

Test(io_ring, fallback_to_plain_ring)
{
	struct io_ring_params p = {
	    .entries = 8,
	    .deny_flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
	};
	unsigned flags;

	nop_round_trip(&p, &flags);
	cr_assert_eq(flags, 0);
}

Test(io_ring, sqe_submits_when_full)
{
	struct io_ring_params p = {.entries = 4};
	struct reaped rp = {.n = 0};
	struct io_ring r;

	io_test_ring(&r, &p);
	queue_nops(&r, 1, 100, 10); /* more than the SQ holds: io_ring_sqe submits on the way */
	reap_until(&r, &rp, 10);
	for (unsigned i = 0; i < 10; i++)
		cr_assert_eq(io_ud_extra(rp.ud[i]), i, "completion %u out of order", i);
	io_ring_exit(&r);
}

Test(io_ring, reap_respects_max)
{
	struct reaped rp = {.n = 0};
	struct io_ring r;

	io_test_ring(&r, NULL);
	queue_nops(&r, 1, 0, 5);
	cr_assert_eq(io_ring_submit_wait(&r, 5, 1000), 0);
	cr_assert_eq(io_ring_reap(&r, record, &rp, 2), 2);
	cr_assert_eq(io_ring_reap(&r, record, &rp, 0), 3);
	cr_assert_eq(io_ring_reap(&r, record, &rp, 0), 0);
	io_ring_exit(&r);
}

Test(io_ring, wait_times_out)
{
	struct reaped rp = {.n = 0};
	struct io_ring r;
	uint64_t t0;

	io_test_ring(&r, NULL);
	t0 = io_test_now_ms();
	cr_assert_eq(io_ring_submit_wait(&r, 1, 50), 0);
	cr_assert_geq(io_test_now_ms() - t0, 40);
	cr_assert_lt(io_test_now_ms() - t0, 2000);
	cr_assert_eq(io_ring_reap(&r, record, &rp, 0), 0, "a timeout is not a completion");
	io_ring_exit(&r);
}

Test(io_ring, wait_zero_polls_completions)
{
	struct reaped rp = {.n = 0};
	uint64_t deadline;
	struct io_ring r;

	io_test_ring(&r, NULL);
	queue_nops(&r, 2, 0, 3);
	deadline = io_test_now_ms() + 2000;
	while (rp.n < 3 && io_test_now_ms() < deadline) {
		cr_assert_eq(io_ring_submit_wait(&r, 0, 0), 0);
		io_ring_reap(&r, record, &rp, 0);
	}
	cr_assert_eq(rp.n, 3);
	io_ring_exit(&r);
}

Test(io_ring, cancel_by_user_data)
{
	struct reaped rp = {.n = 0};
	struct io_uring_sqe *sqe;
	struct io_ring r;
	char byte;
	int fds[2];

	io_test_ring(&r, NULL);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	sqe = io_ring_sqe(&r);
	io_uring_prep_read(sqe, fds[0], &byte, 1, 0); /* never completes by itself */
	io_uring_sqe_set_data64(sqe, io_ud_pack(5, 1, 0));
	cr_assert_eq(io_ring_submit_wait(&r, 0, 0), 0);
	cr_assert_eq(io_ring_cancel(&r, io_ud_pack(5, 1, 0), io_ud_pack(6, 0, 0)), 0);
	reap_until(&r, &rp, 2);
	for (unsigned i = 0; i < 2; i++) {
		if (io_ud_op(rp.ud[i]) == 5)
			cr_assert_eq(rp.res[i], -ECANCELED);
		else
			cr_assert_eq(rp.res[i], 1, "the cancel found %d requests", rp.res[i]);
	}
	cr_assert_neq(io_ud_op(rp.ud[0]), io_ud_op(rp.ud[1]));
	close(fds[0]);
	close(fds[1]);
	io_ring_exit(&r);
}

Test(io_ring, exit_twice_is_safe)
{
	struct io_ring r;

	io_test_ring(&r, NULL);
	io_ring_exit(&r);
	io_ring_exit(&r);
	cr_assert_not(r.ready);
}

struct ran {
	uint64_t first[4]; /* the first keys run, in order */
	uint64_t last;
	unsigned n;
	struct io_ring *r;
};

/* records each key; key 1 notes key 100 while running (a flush that queues another) */
static void run_key(void *arg, uint64_t key)
{
	struct ran *rn = arg;

	if (rn->n < 4)
		rn->first[rn->n] = key;
	rn->last = key;
	rn->n++;
	if (key == 1)
		cr_assert_eq(io_ring_defer(rn->r, 100), 0);
}

Test(io_ring, deferred_keys_run_once_in_order)
{
	struct io_ring r;
	struct ran rn = {.n = 0, .r = &r};

	io_test_ring(&r, NULL);
	cr_assert_eq(io_ring_defer_run(&r, run_key, &rn), 0, "nothing noted: nothing runs");
	for (uint64_t k = 1; k <= 70; k++) /* past the first array size (64): it grows */
		cr_assert_eq(io_ring_defer(&r, k), 0);
	cr_assert_eq(io_ring_defer_run(&r, run_key, &rn), 71,
	             "70 noted, and one noted while running");
	cr_assert_eq(rn.n, 71);
	cr_assert_eq(rn.first[0], 1);
	cr_assert_eq(rn.first[1], 2);
	cr_assert_eq(rn.first[3], 4);
	cr_assert_eq(rn.last, 100, "a key noted while running runs in the same call, last");
	rn.n = 0;
	cr_assert_eq(io_ring_defer_run(&r, run_key, &rn), 0, "a run forgets what it ran");
	cr_assert_eq(rn.n, 0);
	io_ring_exit(&r);
	cr_assert_null(r.deferred, "exit frees the notes");
	cr_assert_eq(r.ndeferred, 0);
}

/* the batched wait: completions already there come back (after at most min_wait), and an idle
 * ring still honours the timeout; on kernels without min_wait this is the plain wait */
Test(io_ring, batched_wait_returns_ready_completions)
{
	struct io_ring r;
	struct reaped rp = {.n = 0};
	uint64_t t0;

	io_test_ring(&r, NULL);
	queue_nops(&r, 5, 10, 3);
	t0 = io_test_now_ms();
	cr_assert_eq(io_ring_submit_wait_batch(&r, 32, 2000, 5000), 0);
	cr_assert_lt(io_test_now_ms() - t0, 1000,
	             "3 of 32 ready: back after min_wait, not timeout");
	io_ring_reap(&r, record, &rp, 0);
	cr_assert_eq(rp.n, 3);
	cr_assert_eq(io_ud_id(rp.ud[2]), 12);
	t0 = io_test_now_ms();
	cr_assert_eq(io_ring_submit_wait_batch(&r, 32, 10000, 50), 0, "a timeout is not an error");
	cr_assert_geq(io_test_now_ms() - t0, 40);
	cr_assert_lt(io_test_now_ms() - t0, 2000, "the timeout bounds the wait, min_wait does not");
	cr_assert_eq(io_ring_reap(&r, record, &rp, 0), 0);
	io_ring_exit(&r);
}
