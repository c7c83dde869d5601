/* tests for tls/record.c: both twins moving data over loopback TCP after a real handshake.
 * The user twin runs everywhere; kernel-mode cases need the tls ULP and skip on hosts without
 * it (they run in the kTLS VM, issue 7). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/bufring.h"
#include "tests/tls/conn_fixture.h"
#include "tls/ktls.h"
#include "tls/record.h"

#define KTLS_SKIP "kernel has no tls ULP (CONFIG_TLS): runs in the kTLS VM, see issue 7"

static struct fx f;

static void teardown(void)
{
	fx_free(&f);
}

TestSuite(tls_record, .fini = teardown, .timeout = 120);

/* one end of a transfer: what it sends, what it expects to receive */
struct end {
	struct tls_conn *c;
	int fd;
	uint8_t *tx;
	size_t txn, txoff; /* plaintext handed to the record layer so far */
	uint8_t *rx;
	size_t rxn, rxgot;
	bool closed;
};

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131u + seed) ^ (i >> 9));
	return p;
}

static void end_init(struct end *e, struct tls_conn *c, int fd, size_t txn, size_t rxn,
                     unsigned seed)
{
	*e = (struct end){.c = c, .fd = fd, .txn = txn, .rxn = rxn};
	e->tx = pattern(txn, seed);
	e->rx = malloc(rxn ? rxn : 1);
	cr_assert(e->rx);
}

static void end_free(struct end *e)
{
	free(e->tx);
	free(e->rx);
}

/* writes n bytes at p to the fd as far as it takes them; returns what went */
static size_t put(int fd, const void *p, size_t n)
{
	ssize_t k = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (k < 0)
		cr_assert(errno == EAGAIN, "send: %s", strerror(errno));
	return k > 0 ? (size_t)k : 0;
}

/* hands the next piece to the record layer (three iovecs: a SIP message is header slices plus
 * new headers) and pushes what is queued onto the fd */
static void end_send(struct end *e)
{
	struct tls_record *r = &e->c->rec;
	if (r->tx == TLS_RL_KERNEL) {
		e->txoff += put(e->fd, e->tx + e->txoff, e->txn - e->txoff);
		return;
	}
	if (tls_record_tx_view(r).n == 0 && e->txoff < e->txn) {
		size_t k = e->txn - e->txoff < 7001 ? e->txn - e->txoff : 7001;
		size_t a = k / 3, b = k / 3;
		struct iovec iov[3] = {{e->tx + e->txoff, a},
		                       {e->tx + e->txoff + a, b},
		                       {e->tx + e->txoff + a + b, k - a - b}};
		cr_assert_eq(tls_record_send(r, iov, 3), TLS_TX_CIPHER);
		e->txoff += k;
	}
	struct slice v = tls_record_tx_view(r);
	if (v.n)
		tls_record_tx_advance(r, put(e->fd, v.p, v.n));
}

static void take(struct end *e, const struct tls_rx_result *res)
{
	cr_assert_leq(e->rxgot + res->plain.n, e->rxn, "more plaintext than was sent");
	memcpy(e->rx + e->rxgot, res->plain.p, res->plain.n);
	e->rxgot += res->plain.n;
}

/* reads what the fd has and runs it through the record layer */
static void end_recv(struct end *e)
{
	static uint8_t in[40000], out[20000];
	struct tls_record *r = &e->c->rec;
	struct tls_rx_result res;
	ssize_t n;
	if (r->rx == TLS_RL_KERNEL) {
		struct tls_ktls_rxmsg m;
		tls_ktls_rxmsg_init(&m, in, sizeof in);
		n = recvmsg(e->fd, &m.msg, MSG_DONTWAIT);
		if (n <= 0)
			return;
		cr_assert_eq(tls_record_recv_kmsg(r, &m, (size_t)n, &res), 0);
		if (res.status == TLS_RX_DATA)
			take(e, &res);
		e->closed = res.status == TLS_RX_CLOSED;
		return;
	}
	n = recv(e->fd, in, sizeof in, MSG_DONTWAIT);
	struct slice s = slice_make((char *)in, n > 0 ? (size_t)n : 0);
	if (n <= 0 && !tls_record_rx_pending(r))
		return;
	do {
		cr_assert_eq(tls_record_recv(r, s, out, sizeof out, &res), 0);
		s.n = 0;
		if (res.status == TLS_RX_DATA)
			take(e, &res);
	} while (res.status == TLS_RX_DATA);
	cr_assert(res.status == TLS_RX_MORE || res.status == TLS_RX_CLOSED, "status %d: %s",
	          res.status, res.reason ? res.reason : "");
	e->closed = res.status == TLS_RX_CLOSED;
}

static bool end_pending_out(struct end *e)
{
	return e->txoff < e->txn || tls_record_tx_view(&e->c->rec).n;
}

/* both directions at once, until each end has everything; then byte-for-byte comparison */
static void transfer(size_t c2s, size_t s2c)
{
	struct end a, b;
	end_init(&a, &f.c, f.cfd, c2s, s2c, 7);
	end_init(&b, &f.s, f.sfd, s2c, c2s, 91);
	for (int i = 0; i < 200000 && (a.rxgot < a.rxn || b.rxgot < b.rxn); i++) {
		struct pollfd p[2] = {{a.fd, POLLIN | (end_pending_out(&a) ? POLLOUT : 0), 0},
		                      {b.fd, POLLIN | (end_pending_out(&b) ? POLLOUT : 0), 0}};
		poll(p, 2, 10);
		end_send(&a);
		end_send(&b);
		end_recv(&a);
		end_recv(&b);
	}
	cr_assert_eq(b.rxgot, c2s, "client->server: %zu of %zu", b.rxgot, c2s);
	cr_assert_eq(a.rxgot, s2c, "server->client: %zu of %zu", a.rxgot, s2c);
	cr_assert(!memcmp(b.rx, a.tx, c2s), "client->server bytes differ");
	cr_assert(!memcmp(a.rx, b.tx, s2c), "server->client bytes differ");
	end_free(&a);
	end_free(&b);
}

Test(tls_record, tls13_one_byte_both_ways)
{
	fx_handshake(&f, TLS1_3_VERSION, false);
	transfer(1, 1);
}

Test(tls_record, tls13_16k_both_ways)
{
	fx_handshake(&f, TLS1_3_VERSION, false);
	transfer(16384, 16384);
}

Test(tls_record, tls13_1m_both_ways_interleaved)
{
	fx_handshake(&f, TLS1_3_VERSION, true);
	transfer(1 << 20, (1 << 20) - 17);
}

Test(tls_record, tls12_1m_both_ways_interleaved)
{
	fx_handshake(&f, TLS1_2_VERSION, false);
	transfer(1 << 20, 1 << 20);
}

Test(tls_record, uneven_directions)
{
	fx_handshake(&f, TLS1_3_VERSION, false);
	transfer(1 << 20, 1);
}

Test(tls_record, user_twin_on_host_without_ulp)
{
	if (tls_ktls_probe_once()->ulp)
		cr_skip_test("the kernel has the tls ULP: see cbc_suite_uses_user_twin");
	fx_handshake(&f, TLS1_2_VERSION, false);
	cr_assert_eq(f.c.rec.rx, TLS_RL_USER);
	cr_assert_eq(f.c.rec.tx, TLS_RL_USER);
	cr_assert_str_eq(tls_rl_name(f.c.rec.tx), "user");
	cr_assert_eq(tls_record_send(&f.c.rec, NULL, -1), -EINVAL);
}

/* the kernel cannot take CBC suites: the user twin, with or without the tls module (issue 7
 * item 5) */
Test(tls_record, cbc_suite_uses_user_twin)
{
	fx_ctx(&f, TLS1_2_VERSION, false);
	cr_assert_eq(SSL_CTX_set_cipher_list(f.cctx, "ECDHE-ECDSA-AES128-SHA"), 1);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_str_eq(f.s.info.cipher, "ECDHE-ECDSA-AES128-SHA");
	cr_assert_eq(f.c.rec.rx, TLS_RL_USER);
	cr_assert_eq(f.c.rec.tx, TLS_RL_USER);
	cr_assert_eq(f.s.rec.rx, TLS_RL_USER);
	cr_assert_eq(f.s.rec.tx, TLS_RL_USER);
	transfer(16384 + 1, 100000);
}

/* the client's first application data leaves right behind its Finished, before the server has
 * even read that: the server's swap to the memory BIO must not lose it */
Test(tls_record, data_right_behind_finished_is_not_lost)
{
	static const char msg[] = "REGISTER sip:acme.co SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	char out[256];
	struct tls_rx_result res;
	fx_ctx(&f, TLS1_3_VERSION, false);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	/* drive only until the client is done: it finishes first in TLS 1.3 */
	for (int i = 0; i < 2000 && f.cst != TLS_STEP_DONE; i++) {
		struct pollfd p[2] = {{f.cfd, fx_events(f.cst), 0}, {f.sfd, POLLIN, 0}};
		poll(p, 2, 2);
		fx_step(&f.c, &f.cst, p[0].revents);
		if (f.sst != TLS_STEP_DONE && p[1].revents)
			f.sst = tls_conn_handshake_step(&f.s, tls_conn_now_ns());
		cr_assert_neq(f.sst, TLS_STEP_ERROR, "%s", f.s.reason);
	}
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_neq(f.sst, TLS_STEP_DONE, "the server must not have read the Finished yet");
	struct iovec iov = {(void *)msg, sizeof msg - 1};
	struct slice v;
	if (tls_record_send(&f.c.rec, &iov, 1) == TLS_TX_PLAIN)
		cr_assert_eq(put(f.cfd, msg, sizeof msg - 1), sizeof msg - 1);
	while ((v = tls_record_tx_view(&f.c.rec)).n)
		tls_record_tx_advance(&f.c.rec, put(f.cfd, v.p, v.n));
	usleep(20000);
	fx_pump(&f);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	/* everything still in the socket: one read, one feed */
	ssize_t n = recv(f.sfd, out, sizeof out, MSG_DONTWAIT);
	cr_assert_gt(n, 0);
	char in[256];
	memcpy(in, out, (size_t)n);
	cr_assert_eq(tls_record_recv(&f.s.rec, slice_make(in, (size_t)n), out, sizeof out, &res),
	             0);
	cr_assert_eq(res.status, TLS_RX_DATA, "status %d", res.status);
	cr_assert(slice_eq(res.plain, SLICE_LIT(msg)));
	cr_assert_eq(tls_record_recv(&f.s.rec, (struct slice){0}, out, sizeof out, &res), 0);
	cr_assert_eq(res.status, TLS_RX_MORE);
}

/* sends close_notify from `from` and runs the peer until it sees it */
static void close_and_expect(struct tls_conn *from, int from_fd, struct tls_conn *to, int to_fd)
{
	struct end e;
	struct slice v;
	int rc = tls_record_close(&from->rec);
	cr_assert(rc == TLS_TX_CIPHER || rc == TLS_TX_PLAIN, "close: %d", rc);
	while ((v = tls_record_tx_view(&from->rec)).n)
		tls_record_tx_advance(&from->rec, put(from_fd, v.p, v.n));
	end_init(&e, to, to_fd, 0, 0, 0);
	for (int i = 0; i < 200 && !e.closed; i++) {
		struct pollfd p = {to_fd, POLLIN, 0};
		poll(&p, 1, 10);
		end_recv(&e);
	}
	cr_assert(e.closed, "close_notify not seen");
	end_free(&e);
}

Test(tls_record, close_notify_is_orderly_close)
{
	fx_handshake(&f, TLS1_3_VERSION, false);
	transfer(1000, 1000);
	close_and_expect(&f.c, f.cfd, &f.s, f.sfd);
	/* closed stays closed */
	struct tls_rx_result res;
	char out[16];
	cr_assert_eq(tls_record_recv(&f.s.rec, (struct slice){0}, out, sizeof out, &res), 0);
	cr_assert_eq(res.status, TLS_RX_CLOSED);
}

Test(tls_record, tls12_server_close_notify)
{
	fx_handshake(&f, TLS1_2_VERSION, false);
	close_and_expect(&f.s, f.sfd, &f.c, f.cfd);
}

Test(tls_record, tampered_record_is_an_error)
{
	static const char msg[] = "INVITE sip:bob@acme.co SIP/2.0";
	char out[64];
	struct tls_rx_result res;
	fx_ctx(&f, TLS1_3_VERSION, false);
	/* user twins on both ends, also where the kernel could take them */
	SSL_CTX_clear_options(f.cctx, SSL_OP_ENABLE_KTLS);
	SSL_CTX_clear_options(f.sctx, SSL_OP_ENABLE_KTLS);
	/* no tickets: the server's alert is then the first record the client reads */
	SSL_CTX_set_num_tickets(f.sctx, 0);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_eq(f.c.rec.tx, TLS_RL_USER);
	struct iovec iov = {(void *)msg, sizeof msg - 1};
	cr_assert_eq(tls_record_send(&f.c.rec, &iov, 1), TLS_TX_CIPHER);
	struct slice v = tls_record_tx_view(&f.c.rec);
	cr_assert_gt(v.n, sizeof msg - 1, "ciphertext is longer than the plaintext");
	cr_assert(!memmem(v.p, v.n, msg, sizeof msg - 1), "no plaintext on the wire");
	char bad[128];
	memcpy(bad, v.p, v.n);
	bad[v.n / 2] ^= 0x40;
	cr_assert_eq(tls_record_recv(&f.s.rec, slice_make(bad, v.n), out, sizeof out, &res), 0);
	cr_assert_eq(res.status, TLS_RX_ERROR, "status %d", res.status);
	cr_assert_not_null(res.reason);
	/* the server answered with a fatal bad_record_mac alert (RFC 8446 §6.2), queued on its user
	 * send twin; the client sees it as an alert with its description */
	struct slice alert = tls_record_tx_view(&f.s.rec);
	cr_assert_gt(alert.n, 0, "the server queued its alert");
	char abuf[128];
	cr_assert_leq(alert.n, sizeof abuf);
	memcpy(abuf, alert.p, alert.n);
	tls_record_tx_advance(&f.s.rec, alert.n);
	cr_assert_eq(tls_record_recv(&f.c.rec, slice_make(abuf, alert.n), out, sizeof out, &res),
	             0);
	cr_assert_eq(res.status, TLS_RX_ALERT, "status %d: %s", res.status, res.reason);
	cr_assert_eq(res.alert, 20, "bad_record_mac");
	cr_assert_str_eq(res.reason, "bad record mac");
	/* a partial record is not an error: the rest is awaited */
	cr_assert_eq(tls_record_recv(&f.s.rec, (struct slice){0}, out, sizeof out, &res), 0);
	cr_assert_neq(res.status, TLS_RX_DATA, "a failed connection yields no more data");
}

Test(tls_record, partial_record_waits_for_more)
{
	char out[64];
	struct tls_rx_result res;
	fx_handshake(&f, TLS1_3_VERSION, false);
	cr_assert_eq(
	    tls_record_recv(&f.s.rec, slice_make("\x17\x03\x03", 3), out, sizeof out, &res), 0);
	cr_assert_eq(res.status, TLS_RX_MORE);
	cr_assert(tls_record_rx_pending(&f.s.rec) || f.s.rec.rxc.hdr_len == 3);
	uint64_t seq;
	cr_assert_eq(tls_record_rx_seq(&f.s.rec, &seq), -EAGAIN);
}

/* ---- kernel twin: control records, with a record layer that says "kernel" ---- */

static void kmsg(struct tls_ktls_rxmsg *m, void *buf, size_t len, int type)
{
	tls_ktls_rxmsg_init(m, buf, len);
	if (type < 0) {
		m->msg.msg_controllen = 0;
		return;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg);
	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_GET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(c) = (unsigned char)type;
}

Test(tls_record, kernel_rx_control_records)
{
	struct tls_record r = {.rx = TLS_RL_KERNEL, .tx = TLS_RL_KERNEL, .fd = -1};
	struct tls_ktls_rxmsg m;
	struct tls_rx_result res;
	uint8_t data[] = "BYE sip:x SIP/2.0", cn[] = {1, 0}, fatal[] = {2, 20};
	uint8_t nst[] = {4, 0, 0, 1, 0xaa}, ku[] = {24, 0, 0, 1, 0};

	kmsg(&m, data, sizeof data, -1);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof data, &res), 0);
	cr_assert_eq(res.status, TLS_RX_DATA);
	cr_assert_eq(res.plain.p, (char *)data, "kernel twin: a view, no copy");
	kmsg(&m, data, sizeof data, TLS_KTLS_CT_APPDATA);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, 4, &res), 0);
	cr_assert_eq(res.status, TLS_RX_DATA);
	cr_assert_eq(res.plain.n, 4);
	kmsg(&m, nst, sizeof nst, TLS_KTLS_CT_HANDSHAKE);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof nst, &res), 0);
	cr_assert_eq(res.status, TLS_RX_MORE, "NewSessionTicket is discarded");
	kmsg(&m, ku, sizeof ku, TLS_KTLS_CT_HANDSHAKE);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof ku, &res), 0);
	cr_assert_eq(res.status, TLS_RX_KEYUPDATE);
	cr_assert(strstr(res.reason, "KeyUpdate"));
	kmsg(&m, fatal, sizeof fatal, TLS_KTLS_CT_ALERT);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof fatal, &res), 0);
	cr_assert_eq(res.status, TLS_RX_ALERT);
	cr_assert_eq(res.alert, 20);
	cr_assert_str_eq(res.reason, "bad record mac");
	kmsg(&m, cn, sizeof cn, TLS_KTLS_CT_ALERT);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof cn, &res), 0);
	cr_assert_eq(res.status, TLS_RX_CLOSED);
	cr_assert(r.closed);
	kmsg(&m, cn, sizeof cn, 20 /* change_cipher_spec: never after the handshake */);
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof cn, &res), 0);
	cr_assert_eq(res.status, TLS_RX_ERROR);
	/* the kernel call on a user receive direction is a caller bug */
	r.rx = TLS_RL_USER;
	cr_assert_eq(tls_record_recv_kmsg(&r, &m, sizeof cn, &res), -EINVAL);
}

Test(tls_record, kernel_twin_passes_plaintext_through)
{
	struct tls_record r = {.rx = TLS_RL_KERNEL, .tx = TLS_RL_KERNEL, .fd = -1};
	struct tls_rx_result res;
	char in[] = "ACK", out[8];
	struct iovec iov = {in, 3};
	cr_assert_eq(tls_record_send(&r, &iov, 1), TLS_TX_PLAIN);
	cr_assert_eq(tls_record_tx_view(&r).n, 0);
	cr_assert_eq(tls_record_recv(&r, slice_make(in, 3), out, sizeof out, &res), 0);
	cr_assert_eq(res.status, TLS_RX_DATA);
	cr_assert_eq(res.plain.p, in);
	cr_assert_eq(tls_record_recv(&r, (struct slice){0}, out, sizeof out, &res), 0);
	cr_assert_eq(res.status, TLS_RX_MORE);
}

/* ---- kernel mode for real: needs the tls ULP ---- */

Test(tls_record, kernel_tls12_both_directions_1m)
{
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(KTLS_SKIP);
	fx_ctx(&f, TLS1_2_VERSION, false);
	cr_assert_eq(SSL_CTX_set_cipher_list(f.cctx, "ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.c.rec.tx, TLS_RL_KERNEL);
	cr_assert_eq(f.c.rec.rx, TLS_RL_KERNEL);
	cr_assert_eq(f.s.rec.rx, TLS_RL_KERNEL);
	transfer(1 << 20, 1 << 20);
	close_and_expect(&f.c, f.cfd, &f.s, f.sfd);
}

Test(tls_record, kernel_tls13_mixed_send_kernel_receive_user)
{
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(KTLS_SKIP);
	fx_handshake(&f, TLS1_3_VERSION, false);
	cr_assert_eq(f.c.rec.tx, TLS_RL_KERNEL);
	cr_assert_eq(f.c.rec.rx, TLS_RL_USER, "OpenSSL 3.0: no TLS 1.3 receive offload");
	transfer(1 << 20, 16384);
	/* close_notify through TLS_SET_RECORD_TYPE, read by the peer's user twin */
	close_and_expect(&f.s, f.sfd, &f.c, f.cfd);
}

/* the user twin counts the records it consumed: the kernel's receive sequence number if receive
 * moves there later (RFC 8446 §5.3: one sequence number per record) */
Test(tls_record, rx_seq_counts_consumed_records)
{
	static uint8_t cipher[4096];
	char out[4096];
	size_t n = 0;
	uint64_t seq = 99;
	struct tls_rx_result res;
	fx_ctx(&f, TLS1_3_VERSION, false);
	SSL_CTX_clear_options(f.sctx, SSL_OP_ENABLE_KTLS);
	SSL_CTX_set_num_tickets(f.sctx, 3);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_eq(tls_record_rx_seq(&f.c.rec, &seq), 0);
	cr_assert_eq(seq, 0, "nothing read since the handshake");
	/* three application records behind the three tickets */
	for (int i = 0; i < 3; i++) {
		struct iovec iov = {(void *)"abc", 3};
		cr_assert_eq(tls_record_send(&f.s.rec, &iov, 1), TLS_TX_CIPHER);
	}
	struct slice v;
	while ((v = tls_record_tx_view(&f.s.rec)).n)
		tls_record_tx_advance(&f.s.rec, put(f.sfd, v.p, v.n));
	for (int i = 0; i < 100 && n < 3 * 25 + 3; i++) { /* tickets first, then 3 x 25 bytes */
		struct pollfd p = {f.cfd, POLLIN, 0};
		poll(&p, 1, 20);
		ssize_t k = recv(f.cfd, cipher + n, sizeof cipher - n, MSG_DONTWAIT);
		n += k > 0 ? (size_t)k : 0;
		if (k <= 0)
			break;
	}
	cr_assert_gt(n, 3 * 25);
	/* fed one byte at a time: mid-record, the count is not known */
	size_t got = 0;
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(tls_record_recv(&f.c.rec, slice_make((char *)cipher + i, 1), out,
		                             sizeof out, &res),
		             0);
		while (res.status == TLS_RX_DATA) {
			got += res.plain.n;
			cr_assert_eq(
			    tls_record_recv(&f.c.rec, (struct slice){0}, out, sizeof out, &res), 0);
		}
		cr_assert_eq(res.status, TLS_RX_MORE);
		if (i == 2)
			cr_assert_eq(tls_record_rx_seq(&f.c.rec, &seq), -EAGAIN, "in a header");
		if (i == 10)
			cr_assert_eq(tls_record_rx_seq(&f.c.rec, &seq), -EAGAIN, "in a body");
	}
	cr_assert_eq(got, 9);
	cr_assert_eq(tls_record_rx_seq(&f.c.rec, &seq), 0);
	cr_assert_eq(seq, 3 + 3, "3 NewSessionTicket records + 3 application records: %lu",
	             (unsigned long)seq);
	cr_assert_eq(tls_record_rx_seq(&f.s.rec, &seq), 0);
	cr_assert_eq(seq, 0, "the server read nothing after the handshake");
	struct tls_record k = {.rx = TLS_RL_KERNEL};
	cr_assert_eq(tls_record_rx_seq(&k, &seq), -EINVAL);
}

Test(tls_record, misuse_is_an_error_in_res_too)
{
	struct tls_record r = {.rx = TLS_RL_NONE};
	struct tls_rx_result res;
	char out[8];
	cr_assert_eq(tls_record_recv(&r, SLICE_LIT("x"), out, sizeof out, &res), -EINVAL);
	cr_assert_eq(res.status, TLS_RX_ERROR, "a caller reading only res does not wait forever");
	cr_assert_not_null(res.reason);
	r.rx = TLS_RL_USER;
	cr_assert_eq(tls_record_recv(&r, SLICE_LIT("x"), out, 0, &res), -EINVAL, "no room");
	cr_assert_eq(res.status, TLS_RX_ERROR);
	cr_assert_eq(tls_record_send(&r, NULL, 0), -EINVAL, "tx not set up");
	cr_assert_eq(tls_record_tx_view(&r).n, 0);
}

/* ---- kernel receive into a provided buffer (the worker's io_uring recvmsg) ---- */

Test(tls_record, kernel_rx_kdata_reads_type_from_msg_and_bytes_from_buffer)
{
	struct tls_record r = {.rx = TLS_RL_KERNEL, .tx = TLS_RL_KERNEL, .fd = -1};
	struct tls_ktls_rxmsg m;
	struct tls_rx_result res;
	char data[] = "OPTIONS sip:x SIP/2.0", other[8] = {0};
	uint8_t fatal[] = {2, 40}, nst[] = {4, 0, 0, 1, 0xaa}, ku[] = {24, 0, 0, 1, 1};

	/* the msghdr's own iovec is empty (buffer select): the bytes come from `data` */
	kmsg(&m, NULL, 0, -1);
	cr_assert_eq(tls_record_recv_kdata(&r, &m.msg, data, 7, &res), 0);
	cr_assert_eq(res.status, TLS_RX_DATA);
	cr_assert_eq(res.plain.p, data, "a view of the provided buffer, no copy");
	cr_assert_eq(res.plain.n, 7);
	kmsg(&m, other, sizeof other, TLS_KTLS_CT_ALERT);
	cr_assert_eq(tls_record_recv_kdata(&r, &m.msg, fatal, sizeof fatal, &res), 0);
	cr_assert_eq(res.status, TLS_RX_ALERT, "classified from data, not from the msg's iovec");
	cr_assert_eq(res.alert, 40);
	cr_assert_str_eq(res.reason, "handshake failure");
	kmsg(&m, NULL, 0, TLS_KTLS_CT_HANDSHAKE);
	cr_assert_eq(tls_record_recv_kdata(&r, &m.msg, nst, sizeof nst, &res), 0);
	cr_assert_eq(res.status, TLS_RX_MORE, "NewSessionTicket: discarded");
	cr_assert_eq(tls_record_recv_kdata(&r, &m.msg, ku, sizeof ku, &res), 0);
	cr_assert_eq(res.status, TLS_RX_KEYUPDATE);
	/* the kernel cut the control data: the type is unknown, never taken for data */
	kmsg(&m, NULL, 0, TLS_KTLS_CT_APPDATA);
	m.msg.msg_flags |= MSG_CTRUNC;
	cr_assert_eq(tls_record_recv_kdata(&r, &m.msg, data, 7, &res), 0);
	cr_assert_eq(res.status, TLS_RX_ERROR);
	r.rx = TLS_RL_USER;
	kmsg(&m, NULL, 0, -1);
	cr_assert_eq(tls_record_recv_kdata(&r, &m.msg, data, 7, &res), -EINVAL);
}

/* ---- the cipher matrix in kernel mode (issue 7 item 4): both directions in the kernel, the SSL
 * freed, then 1 byte and 1 MiB each way interleaved, and close_notify without the SSL ---- */

static void both_kernel_and_shed(void)
{
	cr_assert_eq(f.cst, TLS_STEP_DONE, "client: %s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "server: %s", f.s.reason);
	if (f.s.info.version == TLS1_3_VERSION) {
		/* OpenSSL 3.0 offloads TLS 1.3 send only: receive is ours to install, at sequence 0
		 * on both sides (read-ahead off: nothing was read past the handshake). The client's
		 * kernel receive then meets the server's NewSessionTickets first, as the worker's
		 * does. */
		cr_assert_eq(f.c.rec.rx, TLS_RL_USER);
		cr_assert_eq(tls_conn_ktls_rx13(&f.c), 0, "client receive key");
		cr_assert_eq(tls_conn_ktls_rx13(&f.s), 0, "server receive key");
	}
	struct tls_conn *both[] = {&f.c, &f.s};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(both[i]->rec.rx, TLS_RL_KERNEL, "%s rx", i ? "server" : "client");
		cr_assert_eq(both[i]->rec.tx, TLS_RL_KERNEL, "%s tx", i ? "server" : "client");
		cr_assert_eq(tls_conn_shed(both[i]), 0);
		cr_assert_null(both[i]->ssl);
		cr_assert_null(both[i]->rec.ssl);
		cr_assert_eq(tls_conn_shed(both[i]), -EOPNOTSUPP, "once");
		cr_assert_str_eq(tls_rl_name(both[i]->info.rx), "kernel");
	}
}

static void kernel_matrix(int version, const char *suite, const char *expect)
{
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(KTLS_SKIP);
	fx_ctx(&f, version, true);
	if (version == TLS1_3_VERSION)
		cr_assert_eq(SSL_CTX_set_ciphersuites(f.cctx, suite), 1);
	else
		cr_assert_eq(SSL_CTX_set_cipher_list(f.cctx, suite), 1);
	fx_conns(&f, "sip.acme.co", 20000000000ull);
	fx_pump(&f);
	both_kernel_and_shed();
	/* what show ... detail prints outlives the SSL: static names and our copies */
	cr_assert_str_eq(f.s.info.cipher, expect);
	cr_assert_str_eq(f.c.info.cipher, expect);
	cr_assert_str_eq(f.s.info.version_name, version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
	cr_assert_str_eq(f.s.info.peer_cn, "client.acme.co", "peer identity kept");
	transfer(1, 1);
	transfer(1 << 20, (1 << 20) - 3);
	close_and_expect(&f.c, f.cfd, &f.s, f.sfd);
	close_and_expect(&f.s, f.sfd, &f.c, f.cfd);
}

Test(tls_record, kernel_tls13_aes128gcm_both_ways_shed)
{
	kernel_matrix(TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256");
}

Test(tls_record, kernel_tls13_aes256gcm_both_ways_shed)
{
	kernel_matrix(TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384");
}

Test(tls_record, kernel_tls13_chacha20_both_ways_shed)
{
	kernel_matrix(TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256",
	              "TLS_CHACHA20_POLY1305_SHA256");
}

Test(tls_record, kernel_tls12_aes128gcm_both_ways_shed)
{
	kernel_matrix(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256",
	              "ECDHE-ECDSA-AES128-GCM-SHA256");
}

Test(tls_record, kernel_tls12_aes256gcm_both_ways_shed)
{
	kernel_matrix(TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384",
	              "ECDHE-ECDSA-AES256-GCM-SHA384");
}

Test(tls_record, kernel_tls12_chacha20_both_ways_shed)
{
	kernel_matrix(TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305",
	              "ECDHE-ECDSA-CHACHA20-POLY1305");
}

/* sends one record of `type` with body[0..n) on a kernel-TX socket (TLS_SET_RECORD_TYPE) */
static void send_record(int fd, uint8_t type, const void *body, size_t n)
{
	union {
		char buf[CMSG_SPACE(1)];
		struct cmsghdr align;
	} ctrl = {0};
	struct iovec iov = {(void *)body, n};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = ctrl.buf,
	                     .msg_controllen = sizeof ctrl.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_SET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(c) = type;
	cr_assert_eq(sendmsg(fd, &msg, MSG_NOSIGNAL), (ssize_t)n, "sendmsg: %s", strerror(errno));
}

/* the next thing kernel receive on fd yields (data gathered until a control record) */
static enum tls_rx_status kernel_next(int fd, struct tls_record *r, char *got, size_t *gotn,
                                      struct tls_rx_result *res)
{
	static uint8_t in[4096];
	for (int i = 0; i < 500; i++) {
		struct tls_ktls_rxmsg m;
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 10);
		tls_ktls_rxmsg_init(&m, in, sizeof in);
		ssize_t n = recvmsg(fd, &m.msg, MSG_DONTWAIT);
		if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "recvmsg: %s", strerror(errno));
			continue;
		}
		cr_assert_eq(tls_record_recv_kmsg(r, &m, (size_t)n, res), 0);
		if (res->status != TLS_RX_DATA)
			return res->status;
		memcpy(got + *gotn, res->plain.p, res->plain.n);
		*gotn += res->plain.n;
	}
	return TLS_RX_MORE;
}

/* issue 7 item 3 on a real kernel: what a peer can send after the handshake, one record each,
 * in order: data, a NewSessionTicket (discarded), data, a KeyUpdate, a fatal alert,
 * close_notify. Both ends have shed their SSL; the receiver's recvmsg sees the record types. */
Test(tls_record, kernel_tls13_control_records_in_order)
{
	static const uint8_t nst[] = {4, 0, 0, 9, 0, 0, 0, 60, 1, 2, 3, 4, 0};
	static const uint8_t ku[] = {24, 0, 0, 1, 0}, fatal[] = {2, 40};
	char got[64];
	size_t gotn = 0;
	struct tls_rx_result res;
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(KTLS_SKIP);
	fx_ctx(&f, TLS1_3_VERSION, false);
	SSL_CTX_set_num_tickets(f.sctx, 0); /* our own ticket below is then the first record */
	fx_conns(&f, "sip.acme.co", 20000000000ull);
	fx_pump(&f);
	both_kernel_and_shed();
	cr_assert_eq(write(f.sfd, "abc", 3), 3);
	send_record(f.sfd, TLS_KTLS_CT_HANDSHAKE, nst, sizeof nst);
	cr_assert_eq(write(f.sfd, "def", 3), 3);
	send_record(f.sfd, TLS_KTLS_CT_HANDSHAKE, ku, sizeof ku);
	send_record(f.sfd, TLS_KTLS_CT_ALERT, fatal, sizeof fatal);
	cr_assert_eq(tls_record_close(&f.s.rec), TLS_TX_PLAIN, "close_notify without the SSL");
	cr_assert_eq(kernel_next(f.cfd, &f.c.rec, got, &gotn, &res), TLS_RX_MORE, "the ticket");
	cr_assert_eq(gotn, 3);
	cr_assert_eq(kernel_next(f.cfd, &f.c.rec, got, &gotn, &res), TLS_RX_KEYUPDATE);
	cr_assert_eq(gotn, 6, "data on both sides of the ticket, nothing lost");
	cr_assert_arr_eq(got, "abcdef", 6);
	cr_assert_eq(kernel_next(f.cfd, &f.c.rec, got, &gotn, &res), TLS_RX_ALERT);
	cr_assert_eq(res.alert, 40);
	cr_assert_eq(kernel_next(f.cfd, &f.c.rec, got, &gotn, &res), TLS_RX_CLOSED);
	cr_assert(f.c.rec.closed);
	cr_assert_eq(gotn, 6);
}

/* a CBC suite stays on the user twin even with the tls module: nothing to shed */
Test(tls_record, cbc_suite_keeps_its_ssl)
{
	fx_ctx(&f, TLS1_2_VERSION, false);
	cr_assert_eq(SSL_CTX_set_cipher_list(f.cctx, "ECDHE-ECDSA-AES256-SHA"), 1);
	fx_conns(&f, "sip.acme.co", 20000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_eq(f.s.rec.rx, TLS_RL_USER);
	cr_assert_eq(tls_conn_shed(&f.s), -EOPNOTSUPP);
	cr_assert_not_null(f.s.ssl);
	transfer(3000, 1 << 20);
	close_and_expect(&f.s, f.sfd, &f.c, f.cfd);
}

/* the worker's kernel receive (core/wk_rx.c): one io_uring recvmsg at a time, the bytes in a
 * provided buffer, the record type in the msghdr's control data */
static enum tls_rx_status uring_next(struct io_ring *ring, struct io_bufring *br, int fd,
                                     struct tls_record *r, char *got, size_t *gotn,
                                     struct tls_rx_result *res)
{
	struct tls_ktls_rxmsg m;
	for (int i = 0; i < 100; i++) {
		struct io_uring_sqe *sqe = io_ring_sqe(ring);
		struct io_uring_cqe *cqe;
		char *data = NULL;
		uint16_t bid = 0;
		cr_assert_not_null(sqe);
		tls_ktls_rxmsg_init(&m, NULL, 0);
		io_uring_prep_recvmsg(sqe, fd, &m.msg, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = br->bgid;
		cr_assert_eq(io_uring_submit_and_wait(&ring->ring, 1), 1);
		cr_assert_eq(io_uring_wait_cqe(&ring->ring, &cqe), 0);
		int n = io_bufring_take(br, cqe, &data, &bid);
		io_uring_cqe_seen(&ring->ring, cqe);
		cr_assert_gt(n, 0, "io_uring recvmsg: %d (%s)", n, strerror(n < 0 ? -n : 0));
		cr_assert_eq(tls_record_recv_kdata(r, &m.msg, data, (size_t)n, res), 0);
		if (res->status == TLS_RX_DATA) {
			memcpy(got + *gotn, res->plain.p, res->plain.n);
			*gotn += res->plain.n;
		}
		io_bufring_recycle(br, bid);
		if (res->status != TLS_RX_DATA)
			return res->status;
	}
	return TLS_RX_DATA;
}

Test(tls_record, kernel_rx_through_io_uring_recvmsg)
{
	static const uint8_t nst[] = {4, 0, 0, 1, 0}, fatal[] = {2, 40};
	struct io_ring ring = {0};
	struct io_bufring br = {0};
	char got[64];
	size_t gotn = 0;
	struct tls_rx_result res;
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(KTLS_SKIP);
	cr_assert_eq(io_ring_init(&ring, NULL), 0);
	cr_assert_eq(io_bufring_init(&br, &ring, 7, 8, 16384), 0);
	fx_ctx(&f, TLS1_2_VERSION, false);
	fx_conns(&f, "sip.acme.co", 20000000000ull);
	fx_pump(&f);
	both_kernel_and_shed();
	cr_assert_eq(write(f.sfd, "hello", 5), 5);
	send_record(f.sfd, TLS_KTLS_CT_HANDSHAKE, nst, sizeof nst);
	cr_assert_eq(write(f.sfd, " world", 6), 6);
	send_record(f.sfd, TLS_KTLS_CT_ALERT, fatal, sizeof fatal);
	cr_assert_eq(uring_next(&ring, &br, f.cfd, &f.c.rec, got, &gotn, &res), TLS_RX_MORE,
	             "the ticket: discarded");
	cr_assert_eq(gotn, 5);
	cr_assert_arr_eq(got, "hello", 5);
	cr_assert_eq(uring_next(&ring, &br, f.cfd, &f.c.rec, got, &gotn, &res), TLS_RX_ALERT);
	cr_assert_eq(gotn, 11);
	cr_assert_arr_eq(got, "hello world", 11);
	cr_assert_eq(res.alert, 40);
	io_bufring_exit(&br, &ring);
	io_ring_exit(&ring);
}
