/* io/sendq: bounded send queue of owned 16 KiB chunks. */
#include "io/sendq.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct io_sendq_chunk {
	struct io_sendq_chunk *next;
	size_t len; /* bytes written into data */
	char data[];
};

/* a chunk is one 16 KiB allocation, header included: a TLS record's worth of payload */
#define IO_SENDQ_CHUNK_DATA (16384 - sizeof(struct io_sendq_chunk))

void io_sendq_init(struct io_sendq *q, size_t limit)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
}

static void io_sendq_free_list(struct io_sendq_chunk *c)
{
	while (c) {
		struct io_sendq_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void io_sendq_free(struct io_sendq *q)
{
	io_sendq_free_list(q->head);
	q->head = q->tail = NULL;
	q->head_off = q->queued = q->in_flight = 0;
	q->busy = false;
}

/* allocates the chunks a push of need bytes beyond the tail's free room takes, before any copy,
 * so a failed allocation leaves the queue as it was. */
static int io_sendq_grow(size_t need, struct io_sendq_chunk **list)
{
	struct io_sendq_chunk **link = list;

	*list = NULL;
	while (need) {
		struct io_sendq_chunk *c = malloc(sizeof(*c) + IO_SENDQ_CHUNK_DATA);

		if (!c) {
			io_sendq_free_list(*list);
			return -ENOMEM;
		}
		c->next = NULL;
		c->len = 0;
		*link = c;
		link = &c->next;
		need -= need < IO_SENDQ_CHUNK_DATA ? need : IO_SENDQ_CHUNK_DATA;
	}
	return 0;
}

static void io_sendq_copy(struct io_sendq *q, const char *p, size_t n)
{
	while (n) {
		assert(q->tail); /* push() chained the chunks for all n bytes before copying */
		size_t room = IO_SENDQ_CHUNK_DATA - q->tail->len;
		size_t k = n < room ? n : room;

		if (room == 0) {
			q->tail = q->tail->next;
			continue;
		}
		memcpy(q->tail->data + q->tail->len, p, k);
		q->tail->len += k;
		p += k;
		n -= k;
	}
}

int io_sendq_push(struct io_sendq *q, const struct iovec *iov, int n)
{
	struct io_sendq_chunk *more;
	size_t total = 0, room;

	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > io_sendq_limit(q))
			return -ENOBUFS;
		total += iov[i].iov_len;
	}
	if (total > io_sendq_space(q))
		return -ENOBUFS;
	if (total == 0)
		return 0;
	room = q->tail ? IO_SENDQ_CHUNK_DATA - q->tail->len : 0;
	if (io_sendq_grow(total > room ? total - room : 0, &more) < 0)
		return -ENOMEM;
	if (!q->tail) {
		q->head = q->tail = more;
	} else {
		/* the new chunks hang off the old tail, which copy leaves once it is full */
		struct io_sendq_chunk *last = q->tail;

		while (last->next)
			last = last->next;
		last->next = more;
	}
	for (int i = 0; i < n; i++)
		io_sendq_copy(q, iov[i].iov_base, iov[i].iov_len);
	q->queued += total;
	if (q->queued > q->high_water)
		q->high_water = q->queued;
	return 0;
}

struct msghdr *io_sendq_batch(struct io_sendq *q, size_t *len)
{
	size_t off = q->head_off, bytes = 0;
	int n = 0;

	if (q->busy || q->queued == 0)
		return NULL;
	for (struct io_sendq_chunk *c = q->head; c && n < IO_SENDQ_IOV_MAX; c = c->next) {
		if (c->len == off)
			break; /* the tail's unwritten room, or an empty spare */
		q->iov[n].iov_base = c->data + off;
		q->iov[n].iov_len = c->len - off;
		bytes += c->len - off;
		n++;
		off = 0;
	}
	memset(&q->msg, 0, sizeof(q->msg));
	q->msg.msg_iov = q->iov;
	q->msg.msg_iovlen = (size_t)n;
	q->in_flight = bytes;
	q->busy = true;
	if (len)
		*len = bytes;
	return &q->msg;
}

int io_sendq_advance(struct io_sendq *q, size_t n)
{
	if (!q->busy || n > q->in_flight)
		return -EINVAL;
	q->busy = false;
	q->in_flight = 0;
	q->queued -= n;
	while (n) {
		size_t left = q->head->len - q->head_off;
		size_t k = n < left ? n : left;

		q->head_off += k;
		n -= k;
		if (q->head_off == q->head->len && q->head->len == IO_SENDQ_CHUNK_DATA) {
			struct io_sendq_chunk *done = q->head;

			q->head = done->next;
			q->head_off = 0;
			if (q->tail == done)
				q->tail = q->head;
			free(done);
		}
	}
	if (q->queued == 0)
		io_sendq_free(q); /* an idle connection keeps no chunk */
	return 0;
}

ssize_t io_sendq_submit(struct io_sendq *q, struct io_ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe;
	struct msghdr *msg;
	size_t len = 0;

	msg = io_sendq_batch(q, &len);
	if (!msg)
		return 0;
	sqe = io_ring_sqe(r);
	if (!sqe) {
		/* the batch never left: hand it out again next time */
		q->busy = false;
		q->in_flight = 0;
		return -EBUSY;
	}
	io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud);
	return (ssize_t)len;
}
