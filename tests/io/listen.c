/* tests for io/listen.c: address parsing, SO_REUSEPORT, EADDRINUSE, multishot accept,
 * EMFILE back-off, stopping. */
#include "io/listen.h"
#include "helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>

#define OP_ACCEPT 1
#define OP_CANCEL 2

static void parse_ok(const char *text, int family, unsigned port, const char *ip)
{
	struct io_addr a;
	char err[160], buf[64];

	cr_assert_eq(io_addr_parse(slice_cstr(text), &a, err, sizeof(err)), 0, "%s: %s", text, err);
	cr_assert_eq(a.ss.ss_family, family, "%s", text);
	cr_assert_eq(io_addr_port(&a), port, "%s", text);
	cr_assert_eq(io_addr_ip(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, ip, "%s", text);
}

/* parsing fails and the message quotes the offending part */
static void parse_bad(const char *text, const char *named)
{
	struct io_addr a;
	char err[160];

	cr_assert_eq(io_addr_parse(slice_cstr(text), &a, err, sizeof(err)), -EINVAL, "%s", text);
	cr_assert_not_null(strstr(err, named), "error for \"%s\" is \"%s\", lacks \"%s\"", text,
	                   err, named);
	cr_assert_eq(a.len, 0, "no half-filled address on failure");
}

Test(io_listen, parse_good_addresses)
{
	parse_ok("127.0.0.1:5061", AF_INET, 5061, "127.0.0.1");
	parse_ok("0.0.0.0:65535", AF_INET, 65535, "0.0.0.0");
	parse_ok("192.0.2.7:0", AF_INET, 0, "192.0.2.7");
	parse_ok("[::1]:5060", AF_INET6, 5060, "::1");
	parse_ok("[2001:db8::1]:5061", AF_INET6, 5061, "2001:db8::1");
	parse_ok("[::]:1", AF_INET6, 1, "::");
}

Test(io_listen, parse_bad_addresses_name_the_bad_text)
{
	parse_bad("", "empty address");
	parse_bad("127.0.0.1", "missing \":PORT\" after \"127.0.0.1\"");
	parse_bad("127.0.0.1:", "bad port (0-65535) \"\"");
	parse_bad("127.0.0.1:65536", "\"65536\"");
	parse_bad("127.0.0.1:50x", "\"50x\"");
	parse_bad("127.0.0.1:-1", "\"-1\"");
	parse_bad("300.1.1.1:5060", "bad IPv4 address \"300.1.1.1\"");
	parse_bad("sip.example.com:5061", "bad IPv4 address \"sip.example.com\"");
	parse_bad(":5061", "bad IPv4 address \"\"");
	parse_bad("::1:5060", "needs brackets");
	parse_bad("[::1]5060", "missing \":PORT\" after \"[::1]\"");
	parse_bad("[::1:5060", "missing ']'");
	parse_bad("[1.2.3.4]:5060", "bad IPv6 address \"1.2.3.4\"");
	parse_bad("[fe80::zz]:1", "bad IPv6 address \"fe80::zz\"");
	parse_bad("[]:1", "bad IPv6 address \"\"");
}

Test(io_listen, parse_without_error_buffer)
{
	struct io_addr a;

	cr_assert_eq(io_addr_parse(SLICE_LIT("nonsense"), &a, NULL, 0), -EINVAL);
}

Test(io_listen, addr_ip_reports_small_buffer)
{
	struct io_addr a, none = {.len = 0};
	char small[4];

	cr_assert_eq(io_addr_parse(SLICE_LIT("192.0.2.1:1"), &a, NULL, 0), 0);
	cr_assert_eq(io_addr_ip(&a, small, sizeof(small)), -ENOSPC);
	cr_assert_eq(io_addr_ip(&none, small, sizeof(small)), -EAFNOSUPPORT);
	cr_assert_eq(io_listen_open(&none, 8, 0), -EAFNOSUPPORT);
}

Test(io_listen, two_reuseport_listeners_share_a_port)
{
	struct io_addr a;
	int port, fd1 = io_test_listen(IO_LISTEN_REUSEPORT, &port), fd2, flags;
	char text[32];

	snprintf(text, sizeof(text), "127.0.0.1:%d", port);
	cr_assert_eq(io_addr_parse(slice_cstr(text), &a, NULL, 0), 0);
	fd2 = io_listen_open(&a, 16, IO_LISTEN_REUSEPORT);
	cr_assert_geq(fd2, 0, "second SO_REUSEPORT listener: %s", strerror(-fd2));
	cr_assert_eq(io_listen_port(fd2), port);
	flags = fcntl(fd2, F_GETFL);
	cr_assert(flags & O_NONBLOCK);
	cr_assert(fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	close(fd1);
	close(fd2);
}

Test(io_listen, port_in_use_is_eaddrinuse)
{
	struct io_addr a;
	int port, fd = io_test_listen(0, &port); /* held without SO_REUSEPORT */
	char text[32];

	snprintf(text, sizeof(text), "127.0.0.1:%d", port);
	cr_assert_eq(io_addr_parse(slice_cstr(text), &a, NULL, 0), 0);
	cr_assert_eq(io_listen_open(&a, 16, IO_LISTEN_REUSEPORT), -EADDRINUSE);
	cr_assert_eq(io_listen_open(&a, 16, 0), -EADDRINUSE);
	close(fd);
}

Test(io_listen, ipv6_loopback)
{
	struct io_addr a;
	int fd;

	cr_assert_eq(io_addr_parse(SLICE_LIT("[::1]:0"), &a, NULL, 0), 0);
	fd = io_listen_open(&a, 16, IO_LISTEN_REUSEPORT);
	if (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT)
		cr_skip_test("no IPv6 loopback here: %s", strerror(-fd));
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_gt(io_listen_port(fd), 0);
	close(fd);
}

struct accepts {
	struct io_listener *l;
	int fds[16];
	int n;
	int last_err;
	int cancel_res;
	bool cancel_seen;
};

static void on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct accepts *ac = arg;
	int fd;

	if (io_ud_op(cqe->user_data) == OP_CANCEL) {
		ac->cancel_seen = true;
		ac->cancel_res = cqe->res;
		return;
	}
	cr_assert_eq(cqe->user_data, ac->l->ud);
	fd = io_listener_take(ac->l, cqe);
	if (fd < 0) {
		ac->last_err = fd;
		return;
	}
	cr_assert_lt(ac->n, 16);
	ac->fds[ac->n++] = fd;
}

static void pump(struct io_ring *r, struct accepts *ac, int want, bool until_error)
{
	uint64_t deadline = io_test_now_ms() + 3000;

	while (io_test_now_ms() < deadline) {
		if (until_error ? ac->last_err != 0 : ac->n >= want)
			break;
		cr_assert_eq(io_ring_submit_wait(r, 1, 100), 0);
		io_ring_reap(r, on_cqe, ac, 0);
	}
}

Test(io_listen, multishot_accept_several, .timeout = 20)
{
	struct io_listener l = {.ud = io_ud_pack(OP_ACCEPT, 9, 0)};
	struct accepts ac = {.l = &l};
	int port, clients[5];
	struct io_ring r;

	io_test_ring(&r, NULL);
	l.fd = io_test_listen(IO_LISTEN_REUSEPORT, &port);
	cr_assert_eq(io_listener_arm(&l, &r), 0);
	cr_assert_eq(io_listener_arm(&l, &r), 0, "arming twice is a no-op");
	cr_assert_eq(io_ring_submit_wait(&r, 0, 0), 0);
	for (int i = 0; i < 5; i++)
		clients[i] = io_test_connect(port);
	pump(&r, &ac, 5, false);
	cr_assert_eq(ac.n, 5, "accepted %d of 5", ac.n);
	cr_assert_eq(l.accepted, 5u);
	cr_assert(l.armed, "one multishot accept serves them all");
	for (int i = 0; i < 5; i++) {
		cr_assert(fcntl(ac.fds[i], F_GETFL) & O_NONBLOCK);
		close(ac.fds[i]);
		close(clients[i]);
	}
	close(l.fd);
	io_ring_exit(&r);
}

Test(io_listen, emfile_asks_for_backoff, .timeout = 20)
{
	struct io_listener l = {.ud = io_ud_pack(OP_ACCEPT, 1, 0)};
	struct accepts ac = {.l = &l};
	int port, client, fill[1024], nfill = 0;
	struct rlimit lim;
	struct io_ring r;

	io_test_ring(&r, NULL);
	l.fd = io_test_listen(0, &port);
	client = io_test_connect(port);
	/* no descriptor left for the accepted socket: cap the table at our highest fd and fill the
	 * holes below it (Criterion runs each test in its own process, so the cap dies with it) */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
	lim.rlim_cur = (rlim_t)client + 1;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	while (nfill < 1024 && (fill[nfill] = dup(client)) >= 0)
		nfill++;
	cr_assert_eq(errno, EMFILE);
	cr_assert_eq(io_listener_arm(&l, &r), 0);
	pump(&r, &ac, 1, true);
	cr_assert(ac.last_err == -EMFILE || ac.last_err == -ENFILE, "got %d (%s)", ac.last_err,
	          strerror(-ac.last_err));
	cr_assert(io_accept_backoff(ac.last_err));
	cr_assert_not(l.armed, "the kernel ends the multishot on an error: the caller decides");
	cr_assert_eq(l.failed, 1u);
	cr_assert_not(io_accept_backoff(-ECONNABORTED));
	for (int i = 0; i < nfill; i++)
		close(fill[i]);
	close(client);
	close(l.fd);
	io_ring_exit(&r);
}

Test(io_listen, stop_cancels_the_accept, .timeout = 20)
{
	struct io_listener l = {.ud = io_ud_pack(OP_ACCEPT, 2, 0)};
	struct accepts ac = {.l = &l};
	struct io_ring r;
	int port;

	io_test_ring(&r, NULL);
	l.fd = io_test_listen(0, &port);
	cr_assert_eq(io_listener_arm(&l, &r), 0);
	cr_assert_eq(io_ring_submit_wait(&r, 0, 0), 0);
	cr_assert_eq(io_listener_stop(&l, &r, io_ud_pack(OP_CANCEL, 0, 0)), 0);
	pump(&r, &ac, 0, true);
	cr_assert_eq(ac.last_err, -ECANCELED);
	cr_assert_not(l.armed);
	cr_assert_eq(io_listener_stop(&l, &r, io_ud_pack(OP_CANCEL, 0, 0)), 0, "nothing to stop");
	close(l.fd);
	io_ring_exit(&r);
}
