/* io/bufring: a provided-buffer ring for multishot recv.
 *
 * One slab of nbufs buffers of buf_size bytes each, and the ring (mmap'd by us: liburing 2.3
 * has io_uring_register_buf_ring but not io_uring_setup_buf_ring) through which the kernel
 * picks a free buffer per completion. A worker owns its bufring, like its ring.
 *
 * A buffer the kernel filled belongs to the caller until io_bufring_recycle gives it back: the
 * SIP scanner's views point into it, so a connection may hold a buffer until its message has
 * been sent. When every buffer is held the kernel ends multishot recvs with -ENOBUFS; that is
 * counted (dry) and the caller re-arms after recycling.
 */
#ifndef SIPTLS_IO_BUFRING_H
#define SIPTLS_IO_BUFRING_H

#include "io/ring.h"

#include <stddef.h>
#include <stdint.h>

struct io_bufring {
	struct io_uring_buf_ring
	    *br; /* mmap'd, ring_bytes long, page-aligned as the kernel wants */
	size_t ring_bytes;
	char *slab; /* nbufs * buf_size bytes, buffer bid at slab + bid * buf_size */
	unsigned nbufs;
	unsigned buf_size;
	uint16_t bgid;
	unsigned held;   /* buffers handed out to the caller and not yet recycled */
	uint64_t dry;    /* completions that found the ring empty (-ENOBUFS) */
	uint64_t filled; /* completions that delivered data */
};

/* sets up and registers the ring as buffer group bgid of r. nbufs: a power of two, at most
 * 32768 (a bid is 16 bits); buf_size: > 0. Returns 0, -EINVAL, -ENOMEM or the register error
 * (-EINVAL on kernels before 5.19). */
int io_bufring_init(struct io_bufring *b, struct io_ring *r, uint16_t bgid, unsigned nbufs,
                    unsigned buf_size) IO_MUST_CHECK;
/* unregisters and frees; safe on a zeroed b. r must still be set up. */
void io_bufring_exit(struct io_bufring *b, struct io_ring *r);

/* queues a multishot recv on fd that picks buffers from b; completions carry ud. */
int io_bufring_recv_arm(struct io_bufring *b, struct io_ring *r, int fd, uint64_t ud) IO_MUST_CHECK;

/* interprets a recv completion: > 0: that many bytes at *data, in buffer *bid (the caller now
 * holds it); 0: the peer closed; -ENOBUFS: the ring ran dry (counted; recycle, then re-arm);
 * other -errno: the recv failed. Whatever it returns, re-arm when !io_cqe_more(cqe). */
int io_bufring_take(struct io_bufring *b, const struct io_uring_cqe *cqe, char **data,
                    uint16_t *bid) IO_MUST_CHECK;

/* gives buffer bid back to the kernel. */
void io_bufring_recycle(struct io_bufring *b, uint16_t bid);

/* the start of buffer bid. */
static inline char *io_bufring_buf(const struct io_bufring *b, uint16_t bid)
{
	return b->slab + (size_t)bid * b->buf_size;
}

#endif
