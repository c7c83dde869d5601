/* tests for io/mailbox.c: FIFO take, and the cross-thread wake-up of a waiting ring. */
#include "io/mailbox.h"
#include "helpers.h"

#include <pthread.h>

#define OP_MAIL 3
#define POSTERS 2
#define PER_POSTER 200

struct msg {
	struct io_mail mail; /* first member: the test casts back */
	int poster;
	int seq;
};

Test(io_mailbox, take_is_fifo_and_empties)
{
	struct io_mailbox m;
	struct msg msgs[3] = {{.seq = 0}, {.seq = 1}, {.seq = 2}};
	struct io_mail *list;
	int i = 0;

	cr_assert_eq(io_mailbox_init(&m, 1), 0);
	cr_assert_null(io_mailbox_take(&m));
	for (int k = 0; k < 3; k++)
		cr_assert_eq(io_mailbox_post(&m, &msgs[k].mail), 0);
	for (list = io_mailbox_take(&m); list; list = list->next)
		cr_assert_eq(((struct msg *)list)->seq, i++);
	cr_assert_eq(i, 3);
	cr_assert_null(io_mailbox_take(&m), "a take empties the box");
	io_mailbox_exit(&m);
	cr_assert_eq(m.efd, -1);
}

struct poster {
	struct io_mailbox *m;
	struct msg msgs[PER_POSTER];
	int id;
	unsigned delay_us;
};

static void *poster_main(void *arg)
{
	struct poster *p = arg;

	for (int i = 0; i < PER_POSTER; i++) {
		p->msgs[i].poster = p->id;
		p->msgs[i].seq = i;
		if (p->delay_us && i % 50 == 0)
			usleep(p->delay_us);
		if (io_mailbox_post(p->m, &p->msgs[i].mail) < 0)
			return p; /* the owner sees the count fall short */
	}
	return NULL;
}

struct inbox {
	struct io_mailbox *m;
	int next_seq[POSTERS];
	int total;
	unsigned cqes;
};

static void on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct inbox *in = arg;

	cr_assert_eq(cqe->user_data, in->m->ud);
	cr_assert_geq(cqe->res, 0, "poll failed: %s", strerror(-cqe->res));
	in->cqes++;
	for (struct io_mail *l = io_mailbox_on_cqe(in->m, cqe); l; l = l->next) {
		struct msg *msg = (struct msg *)l;

		cr_assert_eq(msg->seq, in->next_seq[msg->poster], "poster %d out of order",
		             msg->poster);
		in->next_seq[msg->poster]++;
		in->total++;
	}
}

Test(io_mailbox, threads_wake_the_ring, .timeout = 30)
{
	struct io_mailbox m;
	struct inbox in = {.m = &m};
	struct poster p[POSTERS];
	pthread_t th[POSTERS];
	uint64_t deadline;
	struct io_ring r;

	io_test_ring(&r, NULL);
	cr_assert_eq(io_mailbox_init(&m, io_ud_pack(OP_MAIL, 0, 0)), 0);
	cr_assert_eq(io_mailbox_arm(&m, &r), 0);
	cr_assert_eq(io_ring_submit_wait(&r, 0, 0), 0);
	for (int i = 0; i < POSTERS; i++) {
		p[i] = (struct poster){.m = &m, .id = i, .delay_us = 2000};
		cr_assert_eq(pthread_create(&th[i], NULL, poster_main, &p[i]), 0);
	}
	deadline = io_test_now_ms() + 10000;
	while (in.total < POSTERS * PER_POSTER && io_test_now_ms() < deadline) {
		cr_assert_eq(io_mailbox_arm(&m, &r), 0);
		cr_assert_eq(io_ring_submit_wait(&r, 1, 1000), 0);
		io_ring_reap(&r, on_cqe, &in, 0);
	}
	for (int i = 0; i < POSTERS; i++) {
		void *failed;

		pthread_join(th[i], &failed);
		cr_assert_null(failed, "poster %d could not write the eventfd", i);
	}
	cr_assert_eq(in.total, POSTERS * PER_POSTER);
	cr_assert_geq(in.cqes, 1u);
	cr_assert_leq(in.cqes, (unsigned)(POSTERS * PER_POSTER), "one wake-up at most per post");
	io_mailbox_exit(&m);
	io_ring_exit(&r);
}

static void *late_poster(void *arg)
{
	struct poster *p = arg;

	usleep(50 * 1000);
	p->msgs[0].poster = 0;
	p->msgs[0].seq = 0;
	return io_mailbox_post(p->m, &p->msgs[0].mail) < 0 ? p : NULL;
}

Test(io_mailbox, post_ends_a_long_wait, .timeout = 30)
{
	struct io_mailbox m;
	struct inbox in = {.m = &m};
	struct poster *p = calloc(1, sizeof(*p));
	struct io_ring r;
	pthread_t th;
	uint64_t t0;

	io_test_ring(&r, NULL);
	cr_assert_not_null(p);
	cr_assert_eq(io_mailbox_init(&m, io_ud_pack(OP_MAIL, 7, 0)), 0);
	cr_assert_eq(io_mailbox_arm(&m, &r), 0);
	p->m = &m;
	t0 = io_test_now_ms();
	cr_assert_eq(pthread_create(&th, NULL, late_poster, p), 0);
	cr_assert_eq(io_ring_submit_wait(&r, 1, 5000), 0); /* the only way out early: the post */
	io_ring_reap(&r, on_cqe, &in, 0);
	cr_assert_lt(io_test_now_ms() - t0, 2500, "the wait ran to its timeout: no wake-up");
	cr_assert_eq(in.total, 1);
	pthread_join(th, NULL);
	io_mailbox_exit(&m);
	io_ring_exit(&r);
	free(p);
}
