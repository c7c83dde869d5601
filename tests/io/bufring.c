/* tests for io/bufring.c: multishot recv into provided buffers over loopback TCP, the ring
 * running dry and re-arming, data integrity over 1 MiB. */
#include "io/bufring.h"
#include "helpers.h"

#include <pthread.h>

#define OP_RECV 1

struct conn_pair {
	int client, server;
};

static struct conn_pair pair_open(void)
{
	struct conn_pair p;
	int port, lfd = io_test_listen(0, &port);

	p.client = io_test_connect(port);
	p.server = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	cr_assert_geq(p.server, 0, "accept: %s", strerror(errno));
	close(lfd);
	return p;
}

struct writer {
	int fd;
	size_t total;
};

/* writes total pattern bytes in odd-sized pieces, then closes */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	unsigned char buf[7001];
	size_t off = 0;

	while (off < w->total) {
		size_t n = w->total - off < sizeof(buf) ? w->total - off : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = io_test_byte(off + i);
		ssize_t k = write(w->fd, buf, n);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	close(w->fd);
	return NULL;
}

struct reader {
	struct io_bufring *b;
	size_t got;
	bool eof;
	bool armed;
	bool hold; /* keep buffers instead of recycling (to run the ring dry) */
	uint16_t held[64];
	unsigned nheld;
	int error;
	unsigned dry_seen;
};

static void on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct reader *rd = arg;
	uint16_t bid = 0;
	char *data = NULL;
	int n;

	cr_assert_eq(io_ud_op(cqe->user_data), OP_RECV);
	if (!io_cqe_more(cqe))
		rd->armed = false;
	n = io_bufring_take(rd->b, cqe, &data, &bid);
	if (n == -ENOBUFS) {
		rd->dry_seen++;
		return;
	}
	if (n == 0) {
		rd->eof = true;
		return;
	}
	if (n < 0) {
		rd->error = n;
		return;
	}
	for (int i = 0; i < n; i++)
		cr_assert_eq((unsigned char)data[i], io_test_byte(rd->got + (size_t)i),
		             "byte %zu differs", rd->got + (size_t)i);
	rd->got += (size_t)n;
	if (rd->hold && rd->nheld < 64)
		rd->held[rd->nheld++] = bid;
	else
		io_bufring_recycle(rd->b, bid);
}

/* runs the loop until EOF or the deadline; re-arms and releases held buffers after a dry spell */
static void run_reader(struct io_ring *r, struct reader *rd, int fd, unsigned ms)
{
	uint64_t deadline = io_test_now_ms() + ms;

	while (!rd->eof && !rd->error && io_test_now_ms() < deadline) {
		if (!rd->armed && rd->dry_seen && rd->nheld) {
			for (unsigned i = 0; i < rd->nheld; i++)
				io_bufring_recycle(rd->b, rd->held[i]);
			rd->nheld = 0;
			rd->hold = false;
		}
		if (!rd->armed) {
			cr_assert_eq(io_bufring_recv_arm(rd->b, r, fd, io_ud_pack(OP_RECV, 0, 0)),
			             0);
			rd->armed = true;
		}
		cr_assert_eq(io_ring_submit_wait(r, 1, 100), 0);
		io_ring_reap(r, on_cqe, rd, 0);
	}
}

Test(io_bufring, init_rejects_bad_sizes)
{
	struct io_bufring b;
	struct io_ring r;

	io_test_ring(&r, NULL);
	cr_assert_eq(io_bufring_init(&b, &r, 0, 0, 4096), -EINVAL);
	cr_assert_eq(io_bufring_init(&b, &r, 0, 3, 4096), -EINVAL);
	cr_assert_eq(io_bufring_init(&b, &r, 0, 65536, 4096), -EINVAL);
	cr_assert_eq(io_bufring_init(&b, &r, 0, 8, 0), -EINVAL);
	cr_assert_eq(io_bufring_init(&b, &r, 0, 8, 4096), 0);
	cr_assert_eq(b.nbufs, 8);
	cr_assert_eq(io_bufring_buf(&b, 1) - io_bufring_buf(&b, 0), 4096);
	io_bufring_exit(&b, &r);
	io_ring_exit(&r);
}

Test(io_bufring, second_group_with_same_id_is_refused)
{
	struct io_bufring a, b;
	struct io_ring r;

	io_test_ring(&r, NULL);
	cr_assert_eq(io_bufring_init(&a, &r, 3, 8, 512), 0);
	cr_assert_lt(io_bufring_init(&b, &r, 3, 8, 512), 0);
	cr_assert_null(b.br, "a failed init frees what it mapped");
	io_bufring_exit(&a, &r);
	io_ring_exit(&r);
}

Test(io_bufring, recv_one_mebibyte_intact, .timeout = 30)
{
	struct writer w = {.total = 1024 * 1024};
	struct conn_pair p = pair_open();
	struct io_bufring b;
	struct reader rd = {.b = &b};
	struct io_ring r;
	pthread_t th;

	io_test_ring(&r, NULL);
	cr_assert_eq(io_bufring_init(&b, &r, 1, 16, 4096), 0);
	w.fd = p.client;
	cr_assert_eq(pthread_create(&th, NULL, writer_main, &w), 0);
	run_reader(&r, &rd, p.server, 10000);
	pthread_join(th, NULL);
	cr_assert_eq(rd.error, 0, "recv failed: %s", strerror(-rd.error));
	cr_assert(rd.eof, "no EOF after %zu bytes", rd.got);
	cr_assert_eq(rd.got, w.total);
	cr_assert_gt(b.filled, 1u, "1 MiB cannot fit one 4 KiB buffer");
	cr_assert_eq(b.held, 0u, "every buffer was recycled");
	close(p.server);
	io_bufring_exit(&b, &r);
	io_ring_exit(&r);
}

Test(io_bufring, ring_runs_dry_and_rearms, .timeout = 30)
{
	struct writer w = {.total = 64 * 1024};
	struct conn_pair p = pair_open();
	struct io_bufring b;
	struct reader rd = {.b = &b, .hold = true};
	struct io_ring r;
	pthread_t th;

	io_test_ring(&r, NULL);
	/* 4 buffers of 256 bytes for 64 KiB held until the ring is dry: it must run dry */
	cr_assert_eq(io_bufring_init(&b, &r, 2, 4, 256), 0);
	w.fd = p.client;
	cr_assert_eq(pthread_create(&th, NULL, writer_main, &w), 0);
	run_reader(&r, &rd, p.server, 10000);
	pthread_join(th, NULL);
	cr_assert_eq(rd.error, 0, "recv failed: %s", strerror(-rd.error));
	cr_assert_geq(rd.dry_seen, 1u);
	cr_assert_eq(b.dry, rd.dry_seen, "every -ENOBUFS is counted");
	cr_assert(rd.eof);
	cr_assert_eq(rd.got, w.total, "no byte lost across the dry spell");
	close(p.server);
	io_bufring_exit(&b, &r);
	io_ring_exit(&r);
}

Test(io_bufring, take_rejects_a_bid_out_of_range)
{
	struct io_uring_cqe cqe = {.res = 10};
	struct io_bufring b = {.nbufs = 4, .buf_size = 64};
	uint16_t bid;
	char *data;

	cqe.flags = IORING_CQE_F_BUFFER | (9u << IORING_CQE_BUFFER_SHIFT);
	cr_assert_eq(io_bufring_take(&b, &cqe, &data, &bid), -EIO);
	cqe.flags = 0; /* data without a buffer */
	cr_assert_eq(io_bufring_take(&b, &cqe, &data, &bid), -EIO);
	cqe.res = -ECONNRESET;
	cr_assert_eq(io_bufring_take(&b, &cqe, &data, &bid), -ECONNRESET);
	cr_assert_eq(b.dry, 0u);
	cqe.res = -ENOBUFS;
	cr_assert_eq(io_bufring_take(&b, &cqe, &data, &bid), -ENOBUFS);
	cr_assert_eq(b.dry, 1u);
}

Test(io_bufring, empty_completion_gives_its_buffer_back)
{
	struct io_uring_cqe cqe = {.res = 0};
	struct io_bufring b;
	struct io_ring r;
	uint16_t bid = 0xffff, tail;
	char *data = NULL;

	io_test_ring(&r, NULL);
	cr_assert_eq(io_bufring_init(&b, &r, 4, 8, 128), 0);
	tail = b.br->tail;
	cqe.flags = IORING_CQE_F_BUFFER | (5u << IORING_CQE_BUFFER_SHIFT);
	cr_assert_eq(io_bufring_take(&b, &cqe, &data, &bid), 0, "EOF");
	cr_assert_null(data, "EOF hands out no data");
	cr_assert_eq(bid, 0xffff);
	cr_assert_eq(b.held, 0u);
	cr_assert_eq((uint16_t)(b.br->tail - tail), 1, "the consumed buffer went back to the ring");
	cqe.res = 100;
	cr_assert_eq(io_bufring_take(&b, &cqe, &data, &bid), 100);
	cr_assert_eq(bid, 5);
	cr_assert_eq(data, io_bufring_buf(&b, 5));
	cr_assert_eq(b.held, 1u);
	io_bufring_recycle(&b, bid);
	cr_assert_eq(b.held, 0u);
	cr_assert_eq((uint16_t)(b.br->tail - tail), 2);
	io_bufring_exit(&b, &r);
	io_ring_exit(&r);
}
