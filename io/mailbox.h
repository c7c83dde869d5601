/* io/mailbox: a worker's inbox that any thread may post to, and the wake-up that goes with it.
 *
 * Control commands ("clear connection id N", reload, stats) reach a worker here. Posting is
 * lock-free (a Treiber push); the owner takes the whole list at once and gets it oldest first.
 * The wake-up is an eventfd the owner keeps a multishot poll armed on: any thread can write an
 * eventfd, including the control thread that has no ring, and it works on every kernel we run
 * on. (IORING_OP_MSG_RING, probed as io_ring.has_msg_ring, could carry ring-to-ring wake-ups
 * without a syscall; the mailbox is off the hot path, so one mechanism it is.)
 *
 * The eventfd is written only when a post finds the list empty: a burst of posts costs one
 * write and one wake-up. Messages are the caller's (embed struct io_mail in them); the mailbox
 * never allocates or frees.
 */
#ifndef SIPTLS_IO_MAILBOX_H
#define SIPTLS_IO_MAILBOX_H

#include "io/ring.h"

#include <stdint.h>

struct io_mail {
	struct io_mail *next;
};

struct io_mailbox {
	int efd;                      /* eventfd, non-blocking; -1 when not set up */
	struct io_mail *_Atomic head; /* newest first */
	uint64_t ud;                  /* user_data of the poll's completions */
	bool armed;                   /* the poll is in flight */
	uint64_t wakeups;             /* poll completions seen */
};

/* a mailbox whose poll completions carry ud. Unlike most io structs, a zeroed mailbox is not
 * usable (fd 0 is not its eventfd): init it before posting. */
int io_mailbox_init(struct io_mailbox *m, uint64_t ud) IO_MUST_CHECK;
/* closes the eventfd; messages still posted are not touched (take them first). */
void io_mailbox_exit(struct io_mailbox *m);
/* any thread: appends msg and wakes the owner. 0 or -errno from the eventfd write (the message
 * is queued either way and will be seen at the owner's next take). */
int io_mailbox_post(struct io_mailbox *m, struct io_mail *msg);
/* owner: arms the multishot poll if it is not armed. */
int io_mailbox_arm(struct io_mailbox *m, struct io_ring *r) IO_MUST_CHECK;
/* owner, on a completion with m->ud: resets the eventfd, notes whether to re-arm (call
 * io_mailbox_arm again) and returns what io_mailbox_take would. */
struct io_mail *io_mailbox_on_cqe(struct io_mailbox *m, const struct io_uring_cqe *cqe);
/* owner: takes every posted message, oldest first (a NULL-terminated list), or NULL. */
struct io_mail *io_mailbox_take(struct io_mailbox *m);

#endif
