/* io/sendq: a bounded per-connection send queue.
 *
 * The queue owns copies of what it is given, in 16 KiB chunks allocated while bytes wait and
 * freed once sent (an idle connection holds no memory). Copying is deliberate: the bytes a
 * proxied message is made of point into the worker's provided receive buffers (io/bufring.h),
 * and holding those until a slow peer drains its queue would starve every connection of the
 * worker; a SIP message is a few hundred bytes to a few KiB, and the user TLS path copies while
 * encrypting anyway. The copy happens once per message, when it is queued; everything queued for
 * a connection then leaves in one sendmsg of up to IO_SENDQ_IOV_MAX chunks.
 *
 * Limits: a push that would take the queue past its limit is refused whole (-ENOBUFS) so the
 * caller applies backpressure (stops reading from the connections feeding this one) and never
 * sends half a message. io_sendq_resume says when to start reading again (below half the
 * limit, so a queue at the edge does not flap). high_water is the largest queue ever seen.
 *
 * One send at a time: io_sendq_batch hands out the next iovec list and marks it in flight; the
 * send's completion calls io_sendq_advance with the bytes the kernel took (a partial send just
 * leaves the rest for the next batch). Pushes while a send is in flight append behind it.
 */
#ifndef SIPTLS_IO_SENDQ_H
#define SIPTLS_IO_SENDQ_H

#include "io/ring.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define IO_SENDQ_IOV_MAX 16
#define IO_SENDQ_DEFAULT_LIMIT ((size_t)256 * 1024)

struct io_sendq_chunk; /* private */

struct io_sendq {
	struct io_sendq_chunk *head, *tail;
	size_t head_off;   /* bytes of head already sent */
	size_t queued;     /* bytes pushed and not yet sent, in flight included */
	size_t limit;      /* most bytes queued at once; 0: IO_SENDQ_DEFAULT_LIMIT */
	size_t high_water; /* largest queued seen */
	size_t in_flight;  /* bytes of the batch handed out, until io_sendq_advance */
	bool busy;         /* a batch is in flight */
	bool flush_noted;  /* the owner noted this queue for a flush at the end of its ring pass
	                    * (io_ring_defer); the owner sets and clears it */
	/* the batch: the kernel reads these when the SENDMSG is issued, so they live here */
	struct msghdr msg;
	struct iovec iov[IO_SENDQ_IOV_MAX];
};

/* an empty queue with this limit (0: the default). A zeroed struct is an empty queue too. */
void io_sendq_init(struct io_sendq *q, size_t limit);
/* frees every chunk; the queue is empty afterwards. Not while a batch is in flight. */
void io_sendq_free(struct io_sendq *q);

/* copies the n iovecs to the tail, all or nothing: 0, -ENOBUFS (over the limit), -ENOMEM. */
int io_sendq_push(struct io_sendq *q, const struct iovec *iov, int n) IO_MUST_CHECK;
/* the next batch as a msghdr for sendmsg, marked in flight; NULL when the queue is empty or a
 * batch is already in flight. *len (may be NULL) gets the batch's byte count. */
struct msghdr *io_sendq_batch(struct io_sendq *q, size_t *len);
/* the in-flight batch completed having sent n bytes (n <= its length): drops them. 0 or -EINVAL
 * (no batch in flight, or n larger than it). */
int io_sendq_advance(struct io_sendq *q, size_t n) IO_MUST_CHECK;
/* queues a SENDMSG (MSG_NOSIGNAL) of the next batch on fd with user_data ud. Returns the batch
 * length, 0 when there is nothing to send or a send is in flight, -EBUSY when no SQE. */
ssize_t io_sendq_submit(struct io_sendq *q, struct io_ring *r, int fd, uint64_t ud) IO_MUST_CHECK;

static inline size_t io_sendq_limit(const struct io_sendq *q)
{
	return q->limit ? q->limit : IO_SENDQ_DEFAULT_LIMIT;
}

/* bytes that can still be pushed. */
static inline size_t io_sendq_space(const struct io_sendq *q)
{
	return io_sendq_limit(q) - q->queued;
}

/* after a refused push: true once the queue has drained enough to resume reading the feeders. */
static inline bool io_sendq_resume(const struct io_sendq *q)
{
	return q->queued <= io_sendq_limit(q) / 2;
}

#endif
