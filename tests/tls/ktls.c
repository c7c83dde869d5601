/* tests for tls/ktls.c: the pure parts (cmsg parsing, record classification, TLS 1.3 key
 * derivation) everywhere; the syscall handoff through fake seams; the real kernel in the VM. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "tests/tls/conn_fixture.h"
#include "tls/ktls.h"

#define KTLS_SKIP "kernel has no tls ULP (CONFIG_TLS): runs in the kTLS VM, see issue 7"

TestSuite(tls_ktls, .timeout = 60);

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sscanf(s + 2 * i, "%2hhx", &out[i]), 1);
}

/* ---- control message parsing ---- */

static void with_cmsg(struct tls_ktls_rxmsg *m, int level, int type, uint8_t val)
{
	static uint8_t buf[16];
	tls_ktls_rxmsg_init(m, buf, sizeof buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(c) = val;
}

Test(tls_ktls, cmsg_record_type)
{
	struct tls_ktls_rxmsg m;
	uint8_t t = 0;
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 21);
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), 0);
	cr_assert_eq(t, 21);
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 23);
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), 0);
	cr_assert_eq(t, 23);
}

Test(tls_ktls, cmsg_absent_wrong_or_truncated)
{
	struct tls_ktls_rxmsg m;
	uint8_t t = 99;
	with_cmsg(&m, SOL_SOCKET, TLS_GET_RECORD_TYPE, 21);
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), -ENOENT, "another level");
	with_cmsg(&m, SOL_TLS, TLS_SET_RECORD_TYPE, 21);
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), -ENOENT, "another type");
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 21);
	m.msg.msg_controllen = 0;
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), -ENOENT, "no control data");
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 21);
	m.msg.msg_flags = MSG_CTRUNC;
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), -EMSGSIZE);
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 21);
	CMSG_FIRSTHDR(&m.msg)->cmsg_len = CMSG_LEN(0);
	cr_assert_eq(tls_ktls_cmsg_record_type(&m.msg, &t), -EMSGSIZE, "no room for the type");
	cr_assert_eq(t, 99, "untouched on failure");
}

Test(tls_ktls, rxmsg_event_without_cmsg_is_data)
{
	struct tls_ktls_rxmsg m;
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 21);
	m.msg.msg_controllen = 0;
	cr_assert_eq(tls_ktls_rxmsg_event(&m, 5).kind, TLS_KTLS_RX_DATA);
	with_cmsg(&m, SOL_TLS, TLS_GET_RECORD_TYPE, 21);
	m.msg.msg_flags = MSG_CTRUNC;
	cr_assert_eq(tls_ktls_rxmsg_event(&m, 2).kind, TLS_KTLS_RX_PROTOCOL);
}

/* ---- classification (RFC 8446 §5.1, §6, §4.6) ---- */

Test(tls_ktls, classify_alerts)
{
	const uint8_t cn[] = {1, 0}, fatal[] = {2, 40}, warn_user_cancel[] = {1, 90};
	struct tls_ktls_rx_event e = tls_ktls_classify(21, cn, 2);
	cr_assert_eq(e.kind, TLS_KTLS_RX_CLOSE);
	e = tls_ktls_classify(21, fatal, 2);
	cr_assert_eq(e.kind, TLS_KTLS_RX_ALERT);
	cr_assert_eq(e.alert_level, 2);
	cr_assert_eq(e.alert_desc, 40);
	e = tls_ktls_classify(21, warn_user_cancel, 2);
	cr_assert_eq(e.kind, TLS_KTLS_RX_ALERT);
	cr_assert_eq(tls_ktls_classify(21, cn, 1).kind, TLS_KTLS_RX_PROTOCOL, "short alert");
	cr_assert_eq(tls_ktls_classify(21, fatal, 0).kind, TLS_KTLS_RX_PROTOCOL);
}

Test(tls_ktls, classify_handshake_messages)
{
	const uint8_t nst[] = {4, 0, 0, 2, 0xaa, 0xbb};
	const uint8_t two_nst[] = {4, 0, 0, 1, 0xaa, 4, 0, 0, 0};
	const uint8_t nst_ku[] = {4, 0, 0, 1, 0xaa, 24, 0, 0, 1, 1};
	const uint8_t ku[] = {24, 0, 0, 1, 0};
	const uint8_t cut_body[] = {4, 0, 1, 0, 0xaa}; /* a 256-byte ticket, record cut */
	const uint8_t cut_hdr[] = {4, 0, 0, 1, 0xaa, 4, 0};
	const uint8_t certreq[] = {13, 0, 0, 0};
	cr_assert_eq(tls_ktls_classify(22, nst, sizeof nst).kind, TLS_KTLS_RX_DISCARD);
	cr_assert_eq(tls_ktls_classify(22, two_nst, sizeof two_nst).kind, TLS_KTLS_RX_DISCARD);
	cr_assert_eq(tls_ktls_classify(22, nst_ku, sizeof nst_ku).kind, TLS_KTLS_RX_KEYUPDATE);
	cr_assert_eq(tls_ktls_classify(22, ku, sizeof ku).kind, TLS_KTLS_RX_KEYUPDATE);
	cr_assert_eq(tls_ktls_classify(22, cut_body, sizeof cut_body).kind, TLS_KTLS_RX_DISCARD);
	cr_assert_eq(tls_ktls_classify(22, cut_hdr, sizeof cut_hdr).kind, TLS_KTLS_RX_PROTOCOL);
	cr_assert_eq(tls_ktls_classify(22, certreq, sizeof certreq).kind, TLS_KTLS_RX_PROTOCOL);
	cr_assert_eq(tls_ktls_classify(22, nst, 0).kind, TLS_KTLS_RX_PROTOCOL);
}

Test(tls_ktls, classify_other_types)
{
	const uint8_t b[] = {1};
	cr_assert_eq(tls_ktls_classify(23, b, 1).kind, TLS_KTLS_RX_DATA);
	cr_assert_eq(tls_ktls_classify(20, b, 1).kind, TLS_KTLS_RX_PROTOCOL, "CCS");
	cr_assert_eq(tls_ktls_classify(24, b, 1).kind, TLS_KTLS_RX_PROTOCOL, "heartbeat");
	cr_assert_eq(tls_ktls_classify(0, b, 1).kind, TLS_KTLS_RX_PROTOCOL);
}

/* ---- TLS 1.3 keys: RFC 8448 §3 (simple 1-RTT, TLS_AES_128_GCM_SHA256) ---- */

static const char rfc8448_s_ap[] =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
static const char rfc8448_c_ap[] =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";

Test(tls_ktls, hkdf_expand_label_rfc8448)
{
	uint8_t secret[32], key[16], iv[12], want_key[16], want_iv[12];
	hex(rfc8448_s_ap, secret, 32);
	cr_assert_eq(tls_ktls_hkdf_expand_label("SHA256", secret, 32, "key", key, 16), 0);
	cr_assert_eq(tls_ktls_hkdf_expand_label("SHA256", secret, 32, "iv", iv, 12), 0);
	hex("9f02283b6c9c07efc26bb9f2ac92e356", want_key, 16);
	hex("cf782b88dd83549aadf1e984", want_iv, 12);
	cr_assert_arr_eq(key, want_key, 16);
	cr_assert_arr_eq(iv, want_iv, 12);
	cr_assert_eq(tls_ktls_hkdf_expand_label("SHA256", secret, 32, "key", key, 0), -EINVAL);
	cr_assert_eq(tls_ktls_hkdf_expand_label("NOPE", secret, 32, "key", key, 16), -EIO);
}

Test(tls_ktls, crypto_info_aes128_rfc8448_client)
{
	uint8_t secret[32], key[16], iv[12];
	struct tls_ktls_crypto ci;
	hex(rfc8448_c_ap, secret, 32);
	hex("17422dda596ed5d9acd890e3c63f5051", key, 16);
	hex("5b78923dee08579033e523d9", iv, 12);
	cr_assert_eq(tls_ktls_crypto_tls13(0x1301, secret, 32, 0x0102030405060708ull, &ci), 0);
	cr_assert_eq(ci.len, sizeof(struct tls12_crypto_info_aes_gcm_128));
	cr_assert_eq(ci.u.info.version, TLS_1_3_VERSION);
	cr_assert_eq(ci.u.info.cipher_type, TLS_CIPHER_AES_GCM_128);
	cr_assert_arr_eq(ci.u.aes128.key, key, 16);
	cr_assert_arr_eq(ci.u.aes128.salt, iv, 4, "salt = iv[0..4)");
	cr_assert_arr_eq(ci.u.aes128.iv, iv + 4, 8, "iv = iv[4..12)");
	const uint8_t seq[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	cr_assert_arr_eq(ci.u.aes128.rec_seq, seq, 8, "big-endian sequence number");
}

/* the independent reference: OpenSSL's own TLS13-KDF (a different code path from ours) */
static void ref_expand(const char *md, const uint8_t *secret, size_t sl, const char *label,
                       uint8_t *out, size_t n)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[] = {
	    OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, sl),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, "tls13 ", 6),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label)),
	    OSSL_PARAM_construct_end(),
	};
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
	cr_assert_eq(EVP_KDF_derive(k, out, n, p), 1);
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(kdf);
}

Test(tls_ktls, crypto_info_aes256_matches_openssl_tls13_kdf)
{
	uint8_t secret[48], key[32], iv[12];
	struct tls_ktls_crypto ci;
	for (int i = 0; i < 48; i++)
		secret[i] = (uint8_t)(i * 7 + 3);
	ref_expand("SHA384", secret, 48, "key", key, 32);
	ref_expand("SHA384", secret, 48, "iv", iv, 12);
	cr_assert_eq(tls_ktls_crypto_tls13(0x1302, secret, 48, 0, &ci), 0);
	cr_assert_eq(ci.len, sizeof(struct tls12_crypto_info_aes_gcm_256));
	cr_assert_eq(ci.u.info.cipher_type, TLS_CIPHER_AES_GCM_256);
	cr_assert_arr_eq(ci.u.aes256.key, key, 32);
	cr_assert_arr_eq(ci.u.aes256.salt, iv, 4);
	cr_assert_arr_eq(ci.u.aes256.iv, iv + 4, 8);
	const uint8_t zero[8] = {0};
	cr_assert_arr_eq(ci.u.aes256.rec_seq, zero, 8);
}

Test(tls_ktls, crypto_info_chacha_matches_openssl_tls13_kdf)
{
	uint8_t secret[32], key[32], iv[12];
	struct tls_ktls_crypto ci;
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(255 - i);
	ref_expand("SHA256", secret, 32, "key", key, 32);
	ref_expand("SHA256", secret, 32, "iv", iv, 12);
	cr_assert_eq(tls_ktls_crypto_tls13(0x1303, secret, 32, 2, &ci), 0);
	cr_assert_eq(ci.len, sizeof(struct tls12_crypto_info_chacha20_poly1305));
	cr_assert_eq(ci.u.info.cipher_type, TLS_CIPHER_CHACHA20_POLY1305);
	cr_assert_arr_eq(ci.u.chacha.key, key, 32);
	cr_assert_arr_eq(ci.u.chacha.iv, iv, 12, "chacha: the whole 12-byte iv, no salt");
	cr_assert_eq(ci.u.chacha.rec_seq[7], 2);
}

Test(tls_ktls, crypto_info_rejects)
{
	uint8_t secret[48] = {0};
	struct tls_ktls_crypto ci;
	cr_assert_eq(tls_ktls_crypto_tls13(0x1301, secret, 48, 0, &ci), -EINVAL, "SHA256 is 32");
	cr_assert_eq(tls_ktls_crypto_tls13(0x1302, secret, 32, 0, &ci), -EINVAL, "SHA384 is 48");
	cr_assert_eq(tls_ktls_crypto_tls13(0x1304, secret, 32, 0, &ci), -EOPNOTSUPP, "CCM");
	cr_assert_eq(tls_ktls_crypto_tls13(0xc02b, secret, 32, 0, &ci), -EOPNOTSUPP, "TLS 1.2");
}

/* ---- seams: fakes record the calls ---- */

static struct {
	int calls, ulp_errno, tls_errno;
	int level[4], name[4];
	char val[4][64];
	socklen_t len[4];
	uint8_t sent_type, sent_body[2];
	size_t sent_len;
	int recv_type; /* < 0: no cmsg */
	uint8_t recv_body[2];
} fk;

static int fake_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int i = fk.calls++;
	(void)fd;
	cr_assert_lt(i, 4);
	fk.level[i] = level, fk.name[i] = name, fk.len[i] = len;
	memcpy(fk.val[i], val, len < 64 ? len : 64);
	errno = level == IPPROTO_TCP ? fk.ulp_errno : fk.tls_errno;
	return errno ? -1 : 0;
}

static ssize_t fake_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg);
	(void)fd, (void)flags;
	cr_assert_not_null(c);
	cr_assert_eq(c->cmsg_level, SOL_TLS);
	cr_assert_eq(c->cmsg_type, TLS_SET_RECORD_TYPE);
	fk.sent_type = *CMSG_DATA(c);
	fk.sent_len = msg->msg_iov[0].iov_len;
	memcpy(fk.sent_body, msg->msg_iov[0].iov_base, 2);
	return (ssize_t)fk.sent_len;
}

static ssize_t fake_recvmsg(int fd, struct msghdr *msg, int flags)
{
	(void)fd, (void)flags;
	memcpy(msg->msg_iov[0].iov_base, fk.recv_body, 2);
	if (fk.recv_type < 0) {
		msg->msg_controllen = 0;
	} else {
		struct cmsghdr *c = CMSG_FIRSTHDR(msg);
		c->cmsg_level = SOL_TLS;
		c->cmsg_type = TLS_GET_RECORD_TYPE;
		c->cmsg_len = CMSG_LEN(1);
		*CMSG_DATA(c) = (uint8_t)fk.recv_type;
	}
	return 2;
}

static const struct tls_ktls_ops fakes = {fake_setsockopt, fake_recvmsg, fake_sendmsg};

static void fakes_on(void)
{
	memset(&fk, 0, sizeof fk);
	tls_ktls_ops_set(&fakes);
}

static void fakes_off(void)
{
	tls_ktls_ops_set(NULL);
}

TestSuite(tls_ktls_seams, .init = fakes_on, .fini = fakes_off);

Test(tls_ktls_seams, install_rx_sets_ulp_then_tls_rx)
{
	uint8_t secret[32] = {1};
	struct tls_ktls_crypto ci;
	cr_assert_eq(tls_ktls_crypto_tls13(0x1301, secret, 32, 3, &ci), 0);
	cr_assert_eq(tls_ktls_install(42, true, &ci), 0);
	cr_assert_eq(fk.calls, 2);
	cr_assert_eq(fk.level[0], IPPROTO_TCP);
	cr_assert_eq(fk.name[0], TCP_ULP);
	cr_assert_str_eq(fk.val[0], "tls");
	cr_assert_eq(fk.level[1], SOL_TLS);
	cr_assert_eq(fk.name[1], TLS_RX);
	cr_assert_eq(fk.len[1], sizeof ci.u.aes128);
	cr_assert_arr_eq(fk.val[1], &ci.u, sizeof ci.u.aes128);
}

Test(tls_ktls_seams, install_tolerates_attached_ulp_and_reports_errors)
{
	uint8_t secret[32] = {1};
	struct tls_ktls_crypto ci;
	cr_assert_eq(tls_ktls_crypto_tls13(0x1303, secret, 32, 0, &ci), 0);
	fk.ulp_errno = EEXIST; /* OpenSSL attached it for TX already */
	cr_assert_eq(tls_ktls_install(42, false, &ci), 0);
	cr_assert_eq(fk.name[1], TLS_TX);
	fk.calls = 0;
	fk.ulp_errno = ENOENT;
	cr_assert_eq(tls_ktls_install(42, true, &ci), -ENOENT);
	cr_assert_eq(fk.calls, 1, "no TLS_RX without the ULP");
	fk.calls = 0;
	fk.ulp_errno = 0;
	fk.tls_errno = EBUSY;
	cr_assert_eq(tls_ktls_install(42, true, &ci), -EBUSY);
}

Test(tls_ktls_seams, close_notify_uses_set_record_type)
{
	cr_assert_eq(tls_ktls_send_close_notify(42), 0);
	cr_assert_eq(fk.sent_type, 21);
	cr_assert_eq(fk.sent_len, 2);
	cr_assert_eq(fk.sent_body[0], 1, "warning");
	cr_assert_eq(fk.sent_body[1], 0, "close_notify");
}

Test(tls_ktls_seams, recv_reports_control_records)
{
	uint8_t buf[16];
	struct tls_ktls_rx_event ev;
	fk.recv_type = 21;
	fk.recv_body[0] = 2, fk.recv_body[1] = 51;
	cr_assert_eq(tls_ktls_recv(42, buf, sizeof buf, &ev), 2);
	cr_assert_eq(ev.kind, TLS_KTLS_RX_ALERT);
	cr_assert_eq(ev.alert_desc, 51);
	fk.recv_type = -1;
	cr_assert_eq(tls_ktls_recv(42, buf, sizeof buf, &ev), 2);
	cr_assert_eq(ev.kind, TLS_KTLS_RX_DATA);
}

Test(tls_ktls_seams, probe_with_and_without_module)
{
	struct tls_ktls_probe p;
	char line[160];
	fk.ulp_errno = ENOENT;
	cr_assert_eq(tls_ktls_probe_run(&p), 0);
	cr_assert(!p.ulp);
	cr_assert_eq(p.error, -ENOENT);
	cr_assert(strstr(tls_ktls_probe_describe(&p, line, sizeof line), "no tls ULP"), "%s", line);
	fk.ulp_errno = 0;
	cr_assert_eq(tls_ktls_probe_run(&p), 0);
	cr_assert(p.ulp);
	cr_assert(strstr(tls_ktls_probe_describe(&p, line, sizeof line), "available"));
	cr_assert_eq(fk.level[1], IPPROTO_TCP);
	cr_assert_eq(fk.name[1], TCP_ULP);
}

/* ---- the real kernel ---- */

Test(tls_ktls, real_probe_agrees_with_the_kernel)
{
	struct tls_ktls_probe p;
	cr_assert_eq(tls_ktls_probe_run(&p), 0);
	cr_assert(p.ulp || p.error == -ENOENT, "unexpected probe error %d", p.error);
	cr_assert_eq(p.ulp, tls_ktls_probe_once()->ulp, "the cached probe says the same");
}

/* TLS 1.3: OpenSSL 3.0 offloads send only; install receive ourselves from the key-log secret
 * (the server sends no tickets, so the client's receive sequence is 0) */
Test(tls_ktls, kernel_tls13_manual_rx_install)
{
	static struct fx f;
	if (!tls_ktls_probe_once()->ulp)
		cr_skip_test(KTLS_SKIP);
	fx_ctx(&f, TLS1_3_VERSION, false);
	SSL_CTX_set_num_tickets(f.sctx, 0);
	fx_conns(&f, "sip.acme.co", 5000000000ull);
	fx_pump(&f);
	cr_assert_eq(f.cst, TLS_STEP_DONE, "%s", f.c.reason);
	cr_assert_eq(f.sst, TLS_STEP_DONE, "%s", f.s.reason);
	cr_assert_eq(f.c.rec.tx, TLS_RL_KERNEL);
	cr_assert_eq(f.s.rec.tx, TLS_RL_KERNEL);
	cr_assert_gt(f.c.secrets.server_app_len, 0, "the key-log hook handed over the secret");
	struct tls_ktls_crypto ci;
	cr_assert_eq(tls_ktls_crypto_tls13(f.c.info.cipher_id, f.c.secrets.server_app,
	                                   f.c.secrets.server_app_len, 0, &ci),
	             0);
	cr_assert_eq(tls_ktls_install(f.cfd, true, &ci), 0);
	static const char msg[] = "OPTIONS sip:acme.co SIP/2.0\r\n\r\n";
	cr_assert_eq(write(f.sfd, msg, sizeof msg - 1), (ssize_t)sizeof msg - 1, "kernel TX");
	char buf[64];
	struct tls_ktls_rx_event ev;
	ssize_t n = -EAGAIN;
	for (int i = 0; i < 100 && n == -EAGAIN; i++) {
		struct pollfd p = {f.cfd, POLLIN, 0};
		poll(&p, 1, 20);
		n = tls_ktls_recv(f.cfd, buf, sizeof buf, &ev);
	}
	cr_assert_eq(n, (ssize_t)sizeof msg - 1, "%zd", n);
	cr_assert_eq(ev.kind, TLS_KTLS_RX_DATA);
	cr_assert_arr_eq(buf, msg, sizeof msg - 1);
	cr_assert_eq(tls_ktls_send_close_notify(f.sfd), 0);
	n = -EAGAIN;
	for (int i = 0; i < 100 && n == -EAGAIN; i++) {
		struct pollfd p = {f.cfd, POLLIN, 0};
		poll(&p, 1, 20);
		n = tls_ktls_recv(f.cfd, buf, sizeof buf, &ev);
	}
	cr_assert_eq(n, 2);
	cr_assert_eq(ev.kind, TLS_KTLS_RX_CLOSE);
	fx_free(&f);
}
