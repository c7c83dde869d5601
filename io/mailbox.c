/* io/mailbox: lock-free multi-producer inbox + eventfd wake-up polled through the ring. */
#include "io/mailbox.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>

int io_mailbox_init(struct io_mailbox *m, uint64_t ud)
{
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0)
		return -errno;
	atomic_init(&m->head, NULL);
	m->ud = ud;
	m->armed = false;
	m->wakeups = 0;
	return 0;
}

void io_mailbox_exit(struct io_mailbox *m)
{
	if (m->efd >= 0)
		close(m->efd);
	m->efd = -1;
}

int io_mailbox_post(struct io_mailbox *m, struct io_mail *msg)
{
	struct io_mail *old = atomic_load_explicit(&m->head, memory_order_relaxed);
	uint64_t one = 1;

	do
		msg->next = old;
	while (!atomic_compare_exchange_weak_explicit(&m->head, &old, msg, memory_order_release,
	                                              memory_order_relaxed));
	/* a non-empty list means a wake-up is already on its way (or the owner is about to take) */
	if (old)
		return 0;
	if (write(m->efd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		return -errno;
	return 0;
}

int io_mailbox_arm(struct io_mailbox *m, struct io_ring *r)
{
	struct io_uring_sqe *sqe;

	if (m->armed)
		return 0;
	sqe = io_ring_sqe(r);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, m->efd, POLLIN);
	io_uring_sqe_set_data64(sqe, m->ud);
	m->armed = true;
	return 0;
}

struct io_mail *io_mailbox_on_cqe(struct io_mailbox *m, const struct io_uring_cqe *cqe)
{
	uint64_t n;
	ssize_t rd;

	if (!io_cqe_more(cqe))
		m->armed = false;
	m->wakeups++;
	/* reset first, take second: a post landing after the take finds the list empty and writes
	 * again, so it cannot be lost. The read fails only with EAGAIN (nothing to reset). */
	rd = read(m->efd, &n, sizeof(n));
	(void)rd;
	return io_mailbox_take(m);
}

struct io_mail *io_mailbox_take(struct io_mailbox *m)
{
	struct io_mail *list = atomic_exchange_explicit(&m->head, NULL, memory_order_acquire);
	struct io_mail *fifo = NULL;

	/* the stack is newest first: reverse it */
	while (list) {
		struct io_mail *next = list->next;

		list->next = fifo;
		fifo = list;
		list = next;
	}
	return fifo;
}
