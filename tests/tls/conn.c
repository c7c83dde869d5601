/* tests for tls/conn.c: the non-blocking handshake driver over loopback TCP */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tests/tls/conn_fixture.h"
#include "tls/ktls.h"

static struct fx f;

static void teardown(void)
{
	fx_free(&f);
}

TestSuite(tls_conn, .fini = teardown, .timeout = 60);

/* on this host kTLS never takes; where the tls ULP exists OpenSSL 3.0 offloads TLS 1.3 TX */
static enum tls_rl expected_tx(void)
{
	return tls_ktls_probe_once()->ulp ? TLS_RL_KERNEL : TLS_RL_USER;
}

Test(tls_conn, tls13_both_sides_done_and_report)
{
	fx_handshake(&f, TLS1_3_VERSION, false);
	cr_assert_eq(f.c.info.version, TLS1_3_VERSION);
	cr_assert_str_eq(f.c.info.version_name, "TLSv1.3");
	cr_assert_str_eq(f.c.info.cipher, f.s.info.cipher);
	cr_assert_eq(f.c.info.cipher_id >> 8, 0x13, "a TLS 1.3 suite id: %#x", f.c.info.cipher_id);
	cr_assert_str_eq(f.c.info.group, "X25519");
	cr_assert_str_eq(f.s.info.group, "X25519");
	cr_assert_str_eq(f.c.info.peer_cn, "sip.acme.co");
	cr_assert_str_eq(f.c.info.peer_san, "sip.acme.co");
	cr_assert_str_eq(f.s.info.peer_cn, "", "no client certificate was asked for");
	cr_assert_eq(f.c.info.rx, TLS_RL_USER, "OpenSSL 3.0 never offloads TLS 1.3 receive");
	cr_assert_eq(f.c.info.tx, expected_tx());
	cr_assert_eq(f.s.info.tx, expected_tx());
	/* a finished connection stays finished */
	cr_assert_eq(tls_conn_handshake_step(&f.c, tls_conn_now_ns()), TLS_STEP_DONE);
}

Test(tls_conn, tls12_ecdhe_reports_curve)
{
	fx_ctx(&f, TLS1_2_VERSION, false);
	cr_assert_eq(SSL_CTX_set1_groups_list(f.cctx, "P-256"), 1);
	cr_assert_eq(SSL_CTX_set_cipher_list(f.cctx, "ECDHE-ECDSA-AES256-GCM-SHA384"), 1);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_eq(f.s.info.version, TLS1_2_VERSION);
	cr_assert_str_eq(f.s.info.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
	cr_assert_eq(f.s.info.cipher_id, 0xc02c);
	cr_assert_str_eq(f.c.info.group, "prime256v1");
	cr_assert_str_eq(f.s.info.group, "prime256v1");
}

Test(tls_conn, mutual_tls_reports_client_identity)
{
	fx_handshake(&f, TLS1_3_VERSION, true);
	cr_assert_str_eq(f.s.info.peer_cn, "client.acme.co");
	cr_assert_str_eq(f.s.info.peer_san, "client.acme.co");
}

Test(tls_conn, wrong_host_fails_verification)
{
	fx_ctx(&f, TLS1_3_VERSION, false);
	fx_conns(&f, "other.example.net", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_ERROR);
	cr_assert_eq(f.c.error, TLS_CONN_EVERIFY, "%d: %s", f.c.error, f.c.reason);
	cr_assert(strstr(f.c.reason, "hostname mismatch"), "%s", f.c.reason);
	cr_assert_neq(f.sst, TLS_STEP_DONE, "the server saw the client's alert");
}

Test(tls_conn, deadline_already_passed_is_timeout)
{
	fx_ctx(&f, TLS1_3_VERSION, false);
	fx_conns(&f, NULL, 1000000000ull);
	cr_assert_eq(tls_conn_handshake_step(&f.c, f.c.deadline_ns), TLS_STEP_ERROR);
	cr_assert_eq(f.c.error, TLS_CONN_ETIMEOUT);
	cr_assert_str_eq(f.c.reason, "TLS handshake timed out");
	/* an error sticks, even with a time before the deadline */
	cr_assert_eq(tls_conn_handshake_step(&f.c, 0), TLS_STEP_ERROR);
	/* one step before the deadline works normally */
	cr_assert_eq(tls_conn_handshake_step(&f.s, f.s.deadline_ns - 1), TLS_STEP_WANT_READ);
}

Test(tls_conn, silent_peer_times_out)
{
	/* the server end is a bare socket that never answers the ClientHello */
	uint64_t t0;
	enum tls_step st = TLS_STEP_WANT_WRITE;
	fx_ctx(&f, TLS1_3_VERSION, false);
	cr_assert_eq(ths_tcp_pair(AF_INET, &f.cfd, &f.sfd), 0);
	t0 = tls_conn_now_ns();
	cr_assert_eq(tls_conn_init(&f.c, f.cctx, f.cfd, false, t0 + 200000000ull), 0);
	while (st == TLS_STEP_WANT_READ || st == TLS_STEP_WANT_WRITE) {
		struct pollfd p = {f.cfd, fx_events(st), 0};
		poll(&p, 1, 20); /* the worker's timer wheel: wake up now and then */
		st = tls_conn_handshake_step(&f.c, tls_conn_now_ns());
		cr_assert_lt(tls_conn_now_ns() - t0, 3000000000ull, "never timed out");
	}
	cr_assert_eq(st, TLS_STEP_ERROR);
	cr_assert_eq(f.c.error, TLS_CONN_ETIMEOUT, "%d: %s", f.c.error, f.c.reason);
	cr_assert_geq(tls_conn_now_ns() - t0, 200000000ull);
}

/* a peer that speaks something else (here: SIP over plain TCP to a TLS port) */
static void garbage_to(bool server)
{
	static const char junk[] =
	    "OPTIONS sip:proxy.acme.co SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n\r\n";
	struct tls_conn *c = server ? &f.s : &f.c;
	enum tls_step st = TLS_STEP_WANT_WRITE;
	fx_ctx(&f, TLS1_3_VERSION, false);
	cr_assert_eq(ths_tcp_pair(AF_INET, &f.cfd, &f.sfd), 0);
	int peer = server ? f.cfd : f.sfd;
	cr_assert_eq(tls_conn_init(c, server ? f.sctx : f.cctx, server ? f.sfd : f.cfd, server,
	                           tls_conn_now_ns() + 3000000000ull),
	             0);
	cr_assert_eq(write(peer, junk, sizeof junk - 1), (ssize_t)sizeof junk - 1);
	for (int i = 0; i < 200 && (st == TLS_STEP_WANT_READ || st == TLS_STEP_WANT_WRITE); i++) {
		struct pollfd p = {server ? f.sfd : f.cfd, fx_events(st), 0};
		poll(&p, 1, 20);
		st = tls_conn_handshake_step(c, tls_conn_now_ns());
	}
	cr_assert_eq(st, TLS_STEP_ERROR);
	cr_assert_eq(c->error, TLS_CONN_EPROTO, "%d: %s", c->error, c->reason);
	cr_assert_neq(c->reason[0], 0);
	cr_assert_eq(c->info.rx, TLS_RL_NONE, "no record layer after a failure");
}

Test(tls_conn, garbage_to_server_fails_cleanly)
{
	garbage_to(true);
	cr_assert(strstr(f.s.reason, "wrong version number") || strstr(f.s.reason, "http"), "%s",
	          f.s.reason);
}

Test(tls_conn, garbage_to_client_fails_cleanly)
{
	garbage_to(false);
}

Test(tls_conn, peer_closing_mid_handshake_is_eof)
{
	enum tls_step st = TLS_STEP_WANT_WRITE;
	fx_ctx(&f, TLS1_3_VERSION, false);
	cr_assert_eq(ths_tcp_pair(AF_INET, &f.cfd, &f.sfd), 0);
	cr_assert_eq(tls_conn_init(&f.c, f.cctx, f.cfd, false, 0), 0);
	st = tls_conn_handshake_step(&f.c, tls_conn_now_ns());
	cr_assert_eq(st, TLS_STEP_WANT_READ);
	close(f.sfd);
	f.sfd = -1;
	for (int i = 0; i < 200 && st == TLS_STEP_WANT_READ; i++) {
		struct pollfd p = {f.cfd, POLLIN, 0};
		poll(&p, 1, 20);
		st = tls_conn_handshake_step(&f.c, tls_conn_now_ns());
	}
	cr_assert_eq(st, TLS_STEP_ERROR);
	cr_assert(f.c.error == TLS_CONN_EEOF || f.c.error == TLS_CONN_ESYSCALL, "%d: %s", f.c.error,
	          f.c.reason);
}

Test(tls_conn, ktls_rx13_refuses_other_states)
{
	fx_ctx(&f, TLS1_2_VERSION, false);
	SSL_CTX_clear_options(f.cctx, SSL_OP_ENABLE_KTLS);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(tls_conn_ktls_rx13(&f.c), -EOPNOTSUPP, "TLS 1.2");
	cr_assert_eq(f.c.info.rx, TLS_RL_USER, "unchanged");
}

/* issue 7 item 2 for real: the client has consumed the server's session tickets and some data on
 * the user twin, then moves receive into the kernel with the right sequence number */
Test(tls_conn, kernel_tls13_rx_moves_to_kernel_after_tickets)
{
	static uint8_t big[262144], in[65536];
	char out[4096];
	size_t got = 0, sent = 0, rcvd = 0;
	struct tls_rx_result res;
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(
		    "kernel has no tls ULP (CONFIG_TLS): runs in the kTLS VM, see issue 7");
	fx_handshake(&f, TLS1_3_VERSION, false);
	cr_assert_eq(f.s.info.tx, TLS_RL_KERNEL);
	cr_assert_eq(f.c.info.rx, TLS_RL_USER);
	cr_assert_eq(tls_conn_ktls_rx13(&f.s), 0, "server: nothing read yet, sequence 0");
	cr_assert_eq(f.s.info.rx, TLS_RL_KERNEL);
	cr_assert_eq(write(f.sfd, "hello", 5), 5, "kernel TX: plaintext on the fd");
	for (int i = 0; i < 200 && got < 5; i++) {
		struct pollfd p = {f.cfd, POLLIN, 0};
		poll(&p, 1, 20);
		ssize_t n = recv(f.cfd, in, sizeof in, MSG_DONTWAIT);
		struct slice s = slice_make((char *)in, n > 0 ? (size_t)n : 0);
		do {
			cr_assert_eq(tls_record_recv(&f.c.rec, s, out, sizeof out, &res), 0);
			s.n = 0;
			got += res.status == TLS_RX_DATA ? res.plain.n : 0;
		} while (res.status == TLS_RX_DATA);
	}
	cr_assert_eq(got, 5);
	uint64_t seq;
	cr_assert_eq(tls_record_rx_seq(&f.c.rec, &seq), 0);
	cr_assert_geq(seq, 2, "OpenSSL's two tickets and the data record: %lu", (unsigned long)seq);
	cr_assert_eq(tls_conn_ktls_rx13(&f.c), 0);
	cr_assert_eq(f.c.info.rx, TLS_RL_KERNEL);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 13 + (i >> 11));
	for (int i = 0; i < 20000 && rcvd < sizeof big; i++) {
		struct pollfd p[2] = {{f.sfd, POLLOUT, 0}, {f.cfd, POLLIN, 0}};
		poll(p, 2, 10);
		if (sent < sizeof big) {
			ssize_t n = send(f.sfd, big + sent, sizeof big - sent, MSG_DONTWAIT);
			sent += n > 0 ? (size_t)n : 0;
		}
		struct tls_ktls_rx_event ev;
		ssize_t n = tls_ktls_recv(f.cfd, in, sizeof in, &ev);
		if (n > 0) {
			cr_assert_eq(ev.kind, TLS_KTLS_RX_DATA);
			cr_assert_leq(rcvd + (size_t)n, sizeof big);
			cr_assert_arr_eq(in, big + rcvd, (size_t)n);
			rcvd += (size_t)n;
		} else {
			cr_assert(n == -EAGAIN, "kernel receive: %zd", n);
		}
	}
	cr_assert_eq(rcvd, sizeof big);
	/* both ends now have both directions in the kernel: client -> server too */
	cr_assert_eq(write(f.cfd, "bye", 3), 3);
	struct tls_ktls_rx_event ev;
	ssize_t n = -EAGAIN;
	for (int i = 0; i < 100 && n == -EAGAIN; i++) {
		struct pollfd p = {f.sfd, POLLIN, 0};
		poll(&p, 1, 20);
		n = tls_ktls_recv(f.sfd, in, sizeof in, &ev);
	}
	cr_assert_eq(n, 3);
	cr_assert_arr_eq(in, "bye", 3);
}
