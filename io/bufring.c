/* io/bufring: provided-buffer ring, mmap'd and registered by hand (liburing 2.3). */
#include "io/bufring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void io_bufring_free(struct io_bufring *b)
{
	if (b->br)
		munmap(b->br, b->ring_bytes);
	free(b->slab);
	memset(b, 0, sizeof(*b));
}

static int io_bufring_alloc(struct io_bufring *b, unsigned nbufs, unsigned buf_size)
{
	void *ring;

	b->ring_bytes = (size_t)nbufs * sizeof(struct io_uring_buf);
	/* the kernel (before 6.4) pins the ring pages itself and wants them page-aligned */
	ring =
	    mmap(NULL, b->ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (ring == MAP_FAILED)
		return -errno;
	b->br = ring;
	b->slab = malloc((size_t)nbufs * buf_size);
	return b->slab ? 0 : -ENOMEM;
}

int io_bufring_init(struct io_bufring *b, struct io_ring *r, uint16_t bgid, unsigned nbufs,
                    unsigned buf_size)
{
	struct io_uring_buf_reg reg;
	int ret;

	memset(b, 0, sizeof(*b));
	if (nbufs == 0 || nbufs > 32768 || (nbufs & (nbufs - 1)) || buf_size == 0)
		return -EINVAL;
	ret = io_bufring_alloc(b, nbufs, buf_size);
	if (ret < 0) {
		io_bufring_free(b);
		return ret;
	}
	b->nbufs = nbufs;
	b->buf_size = buf_size;
	b->bgid = bgid;
	io_uring_buf_ring_init(b->br);
	for (unsigned i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(b->br, io_bufring_buf(b, (uint16_t)i), buf_size, (uint16_t)i,
		                      io_uring_buf_ring_mask(nbufs), (int)i);
	io_uring_buf_ring_advance(b->br, (int)nbufs);

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)(uintptr_t)b->br;
	reg.ring_entries = nbufs;
	reg.bgid = bgid;
	ret = io_uring_register_buf_ring(&r->ring, &reg, 0);
	if (ret < 0) {
		io_bufring_free(b);
		return ret;
	}
	return 0;
}

void io_bufring_exit(struct io_bufring *b, struct io_ring *r)
{
	if (b->br && r->ready)
		(void)io_uring_unregister_buf_ring(&r->ring, b->bgid);
	io_bufring_free(b);
}

int io_bufring_recv_arm(struct io_bufring *b, struct io_ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_ring_sqe(r);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = b->bgid;
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

static void io_bufring_recycle_bid(struct io_bufring *b, uint16_t bid)
{
	if (bid >= b->nbufs)
		return;
	io_uring_buf_ring_add(b->br, io_bufring_buf(b, bid), b->buf_size, bid,
	                      io_uring_buf_ring_mask(b->nbufs), 0);
	io_uring_buf_ring_advance(b->br, 1);
}

int io_bufring_take(struct io_bufring *b, const struct io_uring_cqe *cqe, char **data,
                    uint16_t *bid)
{
	if (cqe->res == -ENOBUFS) {
		b->dry++;
		return -ENOBUFS;
	}
	if (cqe->res <= 0) {
		/* an empty completion (EOF) may still have consumed a buffer: give it back */
		if (cqe->flags & IORING_CQE_F_BUFFER)
			io_bufring_recycle_bid(b,
			                       (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
		return cqe->res;
	}
	/* a positive result always names its buffer; trust but verify the kernel's bid */
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return -EIO;
	*bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	if (*bid >= b->nbufs || (unsigned)cqe->res > b->buf_size)
		return -EIO;
	*data = io_bufring_buf(b, *bid);
	b->held++;
	b->filled++;
	return cqe->res;
}

void io_bufring_recycle(struct io_bufring *b, uint16_t bid)
{
	io_bufring_recycle_bid(b, bid);
	if (b->held)
		b->held--;
}
