/* tests for io/sendq.c: limits, batches, partial sends, high-water mark, a real sendmsg. */
#include "io/sendq.h"
#include "helpers.h"

#include <stdlib.h>

/* concatenates a batch into out (at most cap bytes); returns its length */
static size_t flatten(const struct msghdr *m, unsigned char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < m->msg_iovlen; i++) {
		cr_assert_leq(n + m->msg_iov[i].iov_len, cap);
		memcpy(out + n, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
		n += m->msg_iov[i].iov_len;
	}
	return n;
}

static void push_pattern(struct io_sendq *q, size_t from, size_t len)
{
	unsigned char *buf = malloc(len);
	struct iovec iov = {buf, len};

	cr_assert_not_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = io_test_byte(from + i);
	cr_assert_eq(io_sendq_push(q, &iov, 1), 0);
	free(buf);
}

static void expect_pattern(const struct msghdr *m, size_t from, size_t len)
{
	unsigned char *out = malloc(len + 1);

	cr_assert_not_null(out);
	cr_assert_eq(flatten(m, out, len + 1), len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(out[i], io_test_byte(from + i), "byte %zu", from + i);
	free(out);
}

Test(io_sendq, push_and_batch_keep_the_bytes)
{
	struct iovec iov[3] = {{"INVITE ", 7}, {"sip:a@b", 7}, {" SIP/2.0\r\n", 10}};
	unsigned char out[64];
	struct io_sendq q;
	struct msghdr *m;
	size_t len = 0;

	io_sendq_init(&q, 0);
	cr_assert_eq(io_sendq_push(&q, iov, 3), 0);
	cr_assert_eq(q.queued, 24);
	m = io_sendq_batch(&q, &len);
	cr_assert_not_null(m);
	cr_assert_eq(len, 24);
	cr_assert_eq(flatten(m, out, sizeof(out)), 24);
	cr_assert_eq(memcmp(out, "INVITE sip:a@b SIP/2.0\r\n", 24), 0);
	cr_assert_eq(m->msg_iovlen, 1, "small pushes share one chunk: one iovec");
	cr_assert_eq(io_sendq_advance(&q, 24), 0);
	cr_assert_eq(q.queued, 0);
	cr_assert_null(q.head, "an empty queue holds no memory");
	cr_assert_null(io_sendq_batch(&q, NULL), "nothing to send");
	io_sendq_free(&q);
}

Test(io_sendq, limit_refuses_whole_pushes)
{
	struct io_sendq q;
	char bytes[100] = {0};
	struct iovec a = {bytes, 60}, b = {bytes, 50}, c = {bytes, 40}, d = {bytes, 1};
	struct iovec two[2] = {{bytes, 30}, {bytes, 30}};

	io_sendq_init(&q, 100);
	cr_assert_eq(io_sendq_push(&q, &a, 1), 0);
	cr_assert_eq(io_sendq_push(&q, &b, 1), -ENOBUFS);
	cr_assert_eq(q.queued, 60, "a refused push adds nothing");
	cr_assert_eq(io_sendq_push(&q, two, 2), -ENOBUFS, "60 more is over, though 30 would fit");
	cr_assert_eq(q.queued, 60);
	cr_assert_eq(io_sendq_space(&q), 40);
	cr_assert_eq(io_sendq_push(&q, &c, 1), 0, "exactly the limit is allowed");
	cr_assert_eq(io_sendq_push(&q, &d, 1), -ENOBUFS);
	cr_assert_eq(q.high_water, 100);
	io_sendq_free(&q);
}

Test(io_sendq, zero_value_is_an_empty_queue_with_the_default_limit)
{
	struct io_sendq q = {0};
	struct iovec big = {NULL, IO_SENDQ_DEFAULT_LIMIT + 1};
	struct iovec none = {NULL, 0};

	cr_assert_eq(io_sendq_limit(&q), IO_SENDQ_DEFAULT_LIMIT);
	cr_assert_eq(io_sendq_push(&q, &big, 1), -ENOBUFS);
	cr_assert_eq(io_sendq_push(&q, &none, 1), 0);
	cr_assert_null(io_sendq_batch(&q, NULL));
	io_sendq_free(&q);
}

Test(io_sendq, partial_send_advances)
{
	struct io_sendq q;
	struct msghdr *m;
	size_t len;

	io_sendq_init(&q, 0);
	push_pattern(&q, 0, 1000);
	m = io_sendq_batch(&q, &len);
	cr_assert_eq(len, 1000);
	cr_assert_null(io_sendq_batch(&q, NULL), "one batch in flight at a time");
	cr_assert_eq(io_sendq_advance(&q, 1001), -EINVAL, "more than was in flight");
	cr_assert_eq(io_sendq_advance(&q, 333), 0);
	cr_assert_eq(io_sendq_advance(&q, 1), -EINVAL, "no batch in flight");
	cr_assert_eq(q.queued, 667);
	m = io_sendq_batch(&q, &len);
	cr_assert_eq(len, 667);
	expect_pattern(m, 333, 667);
	cr_assert_eq(io_sendq_advance(&q, 0), 0, "a zero-byte send keeps everything");
	m = io_sendq_batch(&q, &len);
	expect_pattern(m, 333, 667);
	cr_assert_eq(io_sendq_advance(&q, 667), 0);
	cr_assert_eq(q.queued, 0);
	io_sendq_free(&q);
}

Test(io_sendq, push_while_in_flight_appends_behind)
{
	struct io_sendq q;
	struct msghdr *m;
	size_t len;

	io_sendq_init(&q, 0);
	push_pattern(&q, 0, 100);
	m = io_sendq_batch(&q, &len);
	cr_assert_eq(len, 100);
	push_pattern(&q, 100, 50);
	cr_assert_eq(q.queued, 150);
	expect_pattern(m, 0, 100); /* the in-flight batch did not grow under the kernel */
	cr_assert_eq(io_sendq_advance(&q, 100), 0);
	m = io_sendq_batch(&q, &len);
	cr_assert_eq(len, 50);
	expect_pattern(m, 100, 50);
	cr_assert_eq(io_sendq_advance(&q, 50), 0);
	io_sendq_free(&q);
}

Test(io_sendq, many_chunks_and_iov_max)
{
	size_t total = 400 * 1024, sent = 0, len;
	unsigned batches = 0;
	struct io_sendq q;
	struct msghdr *m;

	io_sendq_init(&q, 1024 * 1024);
	push_pattern(&q, 0, 10);
	push_pattern(&q, 10, total - 10);
	while ((m = io_sendq_batch(&q, &len)) && batches < 100) {
		cr_assert_leq(m->msg_iovlen, IO_SENDQ_IOV_MAX);
		expect_pattern(m, sent, len);
		/* send a bit less than offered when we can: partial sends across chunk edges */
		size_t n = len > 5000 ? len - 4999 : len;
		cr_assert_eq(io_sendq_advance(&q, n), 0);
		sent += n;
		batches++;
	}
	cr_assert_eq(sent, total);
	cr_assert_gt(batches, 1, "400 KiB needs more than 16 chunks: more than one batch");
	cr_assert_eq(q.high_water, total);
	io_sendq_free(&q);
}

Test(io_sendq, high_water_and_resume)
{
	struct io_sendq q;
	size_t len;

	io_sendq_init(&q, 1000);
	push_pattern(&q, 0, 700);
	cr_assert_not(io_sendq_resume(&q), "700 of 1000 is above the low mark");
	cr_assert_not_null(io_sendq_batch(&q, &len));
	cr_assert_eq(io_sendq_advance(&q, 250), 0);
	cr_assert(io_sendq_resume(&q), "450 of 1000 is below half");
	cr_assert_not_null(io_sendq_batch(&q, &len));
	cr_assert_eq(io_sendq_advance(&q, 450), 0);
	push_pattern(&q, 700, 30);
	cr_assert_eq(q.queued, 30);
	cr_assert_eq(q.high_water, 700, "the mark remembers the largest queue");
	io_sendq_free(&q);
}

struct sender {
	struct io_sendq *q;
	int error;
	unsigned completions;
};

static void on_send(void *arg, const struct io_uring_cqe *cqe)
{
	struct sender *s = arg;

	s->completions++;
	if (cqe->res < 0) {
		s->error = cqe->res;
		return;
	}
	cr_assert_eq(io_sendq_advance(s->q, (size_t)cqe->res), 0);
}

Test(io_sendq, submit_over_loopback, .timeout = 30)
{
	size_t total = 300 * 1024, got = 0;
	struct io_sendq q;
	struct sender s = {.q = &q};
	int port, lfd = io_test_listen(0, &port), client, server;
	unsigned char buf[8192];
	uint64_t deadline;
	struct io_ring r;

	io_test_ring(&r, NULL);
	client = io_test_connect(port);
	server = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	cr_assert_geq(server, 0);
	io_sendq_init(&q, 512 * 1024);
	push_pattern(&q, 0, total);
	deadline = io_test_now_ms() + 10000;
	while (got < total && !s.error && io_test_now_ms() < deadline) {
		ssize_t n = io_sendq_submit(&q, &r, server, io_ud_pack(1, 0, 0));

		cr_assert_geq(n, 0);
		cr_assert_eq(io_ring_submit_wait(&r, 0, 0), 0);
		io_ring_reap(&r, on_send, &s, 0);
		/* the client drains what arrived so the sender's partial sends make progress */
		n = recv(client, buf, sizeof(buf), MSG_DONTWAIT);
		for (ssize_t i = 0; i < n; i++)
			cr_assert_eq(buf[i], io_test_byte(got + (size_t)i), "byte %zu",
			             got + (size_t)i);
		if (n > 0)
			got += (size_t)n;
		else
			cr_assert_eq(io_ring_submit_wait(&r, 1, 5), 0);
	}
	cr_assert_eq(s.error, 0, "send failed: %s", strerror(-s.error));
	cr_assert_eq(got, total);
	cr_assert_eq(q.queued, 0);
	cr_assert_eq(io_sendq_submit(&q, &r, server, 0), 0, "nothing left to send");
	io_sendq_free(&q);
	close(client);
	close(server);
	close(lfd);
	io_ring_exit(&r);
}

/* the owner's flush note (io_ring_defer) belongs to the owner: init clears it, but a queue that
 * empties (and frees its chunks) keeps it, so a connection is never noted twice in one pass */
Test(io_sendq, flush_note_survives_draining)
{
	struct io_sendq q;
	size_t len = 0;

	io_sendq_init(&q, 0);
	cr_assert_not(q.flush_noted);
	q.flush_noted = true;
	push_pattern(&q, 0, 100);
	cr_assert_not_null(io_sendq_batch(&q, &len));
	cr_assert_eq(io_sendq_advance(&q, len), 0);
	cr_assert_eq(q.queued, 0);
	cr_assert_null(q.head, "an empty queue keeps no chunk");
	cr_assert(q.flush_noted, "emptying the queue left the note alone");
	io_sendq_free(&q);
	cr_assert(q.flush_noted);
	io_sendq_init(&q, 0);
	cr_assert_not(q.flush_noted, "a new queue starts without a note");
}
