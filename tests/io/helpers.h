/* helpers shared by the io tests: ring setup that skips when io_uring is unavailable, loopback
 * sockets, a clock. Everything is static inline: each test binary includes what it uses. */
#ifndef SIPTLS_TESTS_IO_HELPERS_H
#define SIPTLS_TESTS_IO_HELPERS_H

#include "io/listen.h"
#include "io/ring.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* sets r up or skips the test: io_uring may be missing (qemu-user, seccomp'd containers). */
static inline void io_test_ring(struct io_ring *r, const struct io_ring_params *p)
{
	int ret = io_ring_init(r, p);

	if (ret == -ENOSYS || ret == -EPERM || ret == -EOPNOTSUPP)
		cr_skip_test("io_uring unavailable: io_uring_queue_init: %s", strerror(-ret));
	cr_assert_eq(ret, 0, "io_ring_init: %s", strerror(-ret));
}

static inline uint64_t io_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* a listener on 127.0.0.1 with a kernel-chosen port; *port gets it. */
static inline int io_test_listen(unsigned flags, int *port)
{
	struct io_addr a;
	char err[128];
	int fd;

	cr_assert_eq(io_addr_parse(SLICE_LIT("127.0.0.1:0"), &a, err, sizeof(err)), 0, "%s", err);
	fd = io_listen_open(&a, 64, flags);
	cr_assert_geq(fd, 0, "io_listen_open: %s", strerror(-fd));
	*port = io_listen_port(fd);
	cr_assert_gt(*port, 0);
	return fd;
}

/* a blocking client connected to 127.0.0.1:port. */
static inline int io_test_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "connect: %s",
	             strerror(errno));
	return fd;
}

/* the byte at offset i of the test pattern: not periodic at any power of two */
static inline unsigned char io_test_byte(size_t i)
{
	return (unsigned char)((i * 131u + i / 251u) & 0xffu);
}

#endif
