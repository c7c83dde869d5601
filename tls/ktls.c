/* ktls: probe, TLS 1.3 key install, control records. See ktls.h. */
#include "tls/ktls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* ---- seams ---- */

static const struct tls_ktls_ops libc_ops = {
    .setsockopt = setsockopt,
    .recvmsg = recvmsg,
    .sendmsg = sendmsg,
};

static const struct tls_ktls_ops *ops = &libc_ops;

const struct tls_ktls_ops *tls_ktls_ops_get(void)
{
	return ops;
}

const struct tls_ktls_ops *tls_ktls_ops_set(const struct tls_ktls_ops *o)
{
	const struct tls_ktls_ops *old = ops;
	ops = o ? o : &libc_ops;
	return old;
}

/* ---- probe ---- */

/* a connected loopback TCP pair: the tls ULP attaches only to an established socket. */
static int loopback_pair(int *a, int *b)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sin;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = 0;
	*a = *b = -1;
	if (l < 0)
		return -errno;
	if (bind(l, (struct sockaddr *)&sin, sizeof sin) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &sl))
		err = -errno;
	if (!err && (*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		err = -errno;
	if (!err && connect(*a, (struct sockaddr *)&sin, sizeof sin))
		err = -errno;
	if (!err && (*b = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		err = -errno;
	close(l);
	if (err) {
		if (*a >= 0)
			close(*a);
		*a = -1;
	}
	return err;
}

int tls_ktls_probe_run(struct tls_ktls_probe *out)
{
	int a, b;
	int err = loopback_pair(&a, &b);
	*out = (struct tls_ktls_probe){.ulp = false, .error = err};
	if (err)
		return err;
	if (ops->setsockopt(a, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") == 0)
		out->ulp = true;
	else
		out->error = -errno;
	close(a);
	close(b);
	return 0;
}

static struct tls_ktls_probe probe_result;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe_init(void)
{
	(void)tls_ktls_probe_run(&probe_result);
}

const struct tls_ktls_probe *tls_ktls_probe_once(void)
{
	pthread_once(&probe_once, probe_init);
	return &probe_result;
}

const char *tls_ktls_probe_describe(const struct tls_ktls_probe *p, char *buf, size_t n)
{
	if (p->ulp)
		snprintf(buf, n, "kernel TLS: tls ULP available, record layers may use the kernel");
	else if (p->error == -ENOENT)
		snprintf(buf, n,
		         "kernel TLS: no tls ULP (kernel without CONFIG_TLS or module not "
		         "loaded), every connection uses the user record layer");
	else
		snprintf(buf, n,
		         "kernel TLS: probe failed (%s), every connection uses the user "
		         "record layer",
		         strerror(-p->error));
	return buf;
}

/* ---- TLS 1.3 keys ---- */

int tls_ktls_hkdf_expand_label(const char *md_name, const uint8_t *secret, size_t secret_len,
                               const char *label, uint8_t *out, size_t out_len)
{
	/* RFC 8446 §7.1: struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
	 * opaque context<0..255> = ""; } HkdfLabel; then HKDF-Expand(Secret, HkdfLabel, Length). */
	uint8_t info[2 + 1 + 255 + 1];
	size_t ll = strlen(label);
	if (ll > 255 - 6 || out_len > 0xffff || out_len == 0 || secret_len == 0)
		return -EINVAL;
	info[0] = (uint8_t)(out_len >> 8);
	info[1] = (uint8_t)out_len;
	info[2] = (uint8_t)(6 + ll);
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll);
	info[9 + ll] = 0; /* empty context */

	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name, 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 10 + ll),
	    OSSL_PARAM_construct_end(),
	};
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int rc = kctx && EVP_KDF_derive(kctx, out, out_len, params) == 1 ? 0 : -EIO;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

struct suite13 {
	uint16_t id;
	uint16_t cipher_type;
	const char *md;
	size_t hash_len, key_len, salt_len;
};

static const struct suite13 suites13[] = {
    {0x1301, TLS_CIPHER_AES_GCM_128, "SHA256", 32, 16, 4},
    {0x1302, TLS_CIPHER_AES_GCM_256, "SHA384", 48, 32, 4},
    {0x1303, TLS_CIPHER_CHACHA20_POLY1305, "SHA256", 32, 32, 0},
};

static const struct suite13 *suite13_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof suites13 / sizeof suites13[0]; i++)
		if (suites13[i].id == id)
			return &suites13[i];
	return NULL;
}

/* the kernel splits the 12-byte TLS 1.3 IV into salt (the first salt_len bytes) and iv (the
 * rest); chacha takes all 12 as iv. rec_seq is big-endian (RFC 8446 §5.3). */
static void crypto_fill(struct tls_ktls_crypto *out, const struct suite13 *s, const uint8_t *key,
                        const uint8_t iv[12], uint64_t rec_seq)
{
	unsigned char *k, *ivp, *salt, *seq;
	memset(out, 0, sizeof *out);
	out->u.info.version = TLS_1_3_VERSION;
	out->u.info.cipher_type = s->cipher_type;
	switch (s->cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		k = out->u.aes128.key, ivp = out->u.aes128.iv, salt = out->u.aes128.salt;
		seq = out->u.aes128.rec_seq, out->len = sizeof out->u.aes128;
		break;
	case TLS_CIPHER_AES_GCM_256:
		k = out->u.aes256.key, ivp = out->u.aes256.iv, salt = out->u.aes256.salt;
		seq = out->u.aes256.rec_seq, out->len = sizeof out->u.aes256;
		break;
	default:
		k = out->u.chacha.key, ivp = out->u.chacha.iv, salt = out->u.chacha.salt;
		seq = out->u.chacha.rec_seq, out->len = sizeof out->u.chacha;
		break;
	}
	memcpy(k, key, s->key_len);
	memcpy(salt, iv, s->salt_len);
	memcpy(ivp, iv + s->salt_len, 12 - s->salt_len);
	for (int i = 7; i >= 0; i--, rec_seq >>= 8)
		seq[i] = (unsigned char)rec_seq;
}

int tls_ktls_crypto_tls13(uint16_t suite_id, const uint8_t *secret, size_t secret_len,
                          uint64_t rec_seq, struct tls_ktls_crypto *out)
{
	const struct suite13 *s = suite13_find(suite_id);
	uint8_t key[32], iv[12];
	int rc;
	if (!s)
		return -EOPNOTSUPP;
	if (secret_len != s->hash_len)
		return -EINVAL;
	rc = tls_ktls_hkdf_expand_label(s->md, secret, secret_len, "key", key, s->key_len);
	if (!rc)
		rc = tls_ktls_hkdf_expand_label(s->md, secret, secret_len, "iv", iv, sizeof iv);
	if (!rc)
		crypto_fill(out, s, key, iv, rec_seq);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(iv, sizeof iv);
	return rc;
}

int tls_ktls_install(int fd, bool rx, const struct tls_ktls_crypto *ci)
{
	if (ops->setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") && errno != EEXIST)
		return -errno;
	if (ops->setsockopt(fd, SOL_TLS, rx ? TLS_RX : TLS_TX, &ci->u, ci->len))
		return -errno;
	return 0;
}

/* ---- control records ---- */

int tls_ktls_cmsg_record_type(const struct msghdr *msg, uint8_t *type)
{
	if (msg->msg_flags & MSG_CTRUNC)
		return -EMSGSIZE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_TLS || c->cmsg_type != TLS_GET_RECORD_TYPE)
			continue;
		if (c->cmsg_len < CMSG_LEN(sizeof(uint8_t)))
			return -EMSGSIZE;
		*type = *(const uint8_t *)CMSG_DATA(c);
		return 0;
	}
	return -ENOENT;
}

/* RFC 8446 §4: Handshake { HandshakeType msg_type; uint24 length; body }. Post-handshake, only
 * NewSessionTicket (4), KeyUpdate (24) and CertificateRequest (13, which we never enable) can
 * come; the last is a protocol error for us. */
static enum tls_ktls_rx_kind classify_handshake(const uint8_t *p, size_t n)
{
	enum tls_ktls_rx_kind kind = TLS_KTLS_RX_DISCARD;
	if (n == 0)
		return TLS_KTLS_RX_PROTOCOL;
	while (n) {
		size_t len;
		if (n < 4)
			return TLS_KTLS_RX_PROTOCOL;
		len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		if (p[0] == 24)
			kind = TLS_KTLS_RX_KEYUPDATE;
		else if (p[0] != 4)
			return TLS_KTLS_RX_PROTOCOL;
		/* a message longer than what we got: the caller's buffer cut the record; the type
		 * is known, which is all we decide on */
		if (len >= n - 4)
			break;
		p += 4 + len;
		n -= 4 + len;
	}
	return kind;
}

struct tls_ktls_rx_event tls_ktls_classify(uint8_t type, const uint8_t *body, size_t n)
{
	struct tls_ktls_rx_event ev = {.kind = TLS_KTLS_RX_PROTOCOL, .record_type = type};
	switch (type) {
	case TLS_KTLS_CT_APPDATA:
		ev.kind = TLS_KTLS_RX_DATA;
		break;
	case TLS_KTLS_CT_ALERT:
		/* RFC 8446 §6: struct { AlertLevel level; AlertDescription description; } */
		if (n != 2)
			break;
		ev.alert_level = body[0];
		ev.alert_desc = body[1];
		ev.kind = body[1] == 0 ? TLS_KTLS_RX_CLOSE : TLS_KTLS_RX_ALERT;
		break;
	case TLS_KTLS_CT_HANDSHAKE:
		ev.kind = classify_handshake(body, n);
		break;
	default:
		break;
	}
	return ev;
}

void tls_ktls_rxmsg_init(struct tls_ktls_rxmsg *m, void *buf, size_t len)
{
	memset(m, 0, sizeof *m);
	m->iov = (struct iovec){buf, len};
	m->msg.msg_iov = &m->iov;
	m->msg.msg_iovlen = 1;
	m->msg.msg_control = m->ctrl.buf;
	m->msg.msg_controllen = sizeof m->ctrl.buf;
}

struct tls_ktls_rx_event tls_ktls_rxmsg_event(const struct tls_ktls_rxmsg *m, size_t n)
{
	uint8_t type;
	int rc = tls_ktls_cmsg_record_type(&m->msg, &type);
	if (rc == -ENOENT)
		return (struct tls_ktls_rx_event){.kind = TLS_KTLS_RX_DATA,
		                                  .record_type = TLS_KTLS_CT_APPDATA};
	if (rc)
		return (struct tls_ktls_rx_event){.kind = TLS_KTLS_RX_PROTOCOL};
	return tls_ktls_classify(type, m->iov.iov_base, n);
}

ssize_t tls_ktls_recv(int fd, void *buf, size_t len, struct tls_ktls_rx_event *ev)
{
	struct tls_ktls_rxmsg m;
	ssize_t n;
	tls_ktls_rxmsg_init(&m, buf, len);
	n = ops->recvmsg(fd, &m.msg, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	*ev = n ? tls_ktls_rxmsg_event(&m, (size_t)n)
	        : (struct tls_ktls_rx_event){.kind = TLS_KTLS_RX_DATA};
	return n;
}

void tls_ktls_alertmsg_init(struct tls_ktls_alertmsg *m, uint8_t level, uint8_t desc)
{
	struct cmsghdr *c;
	memset(m, 0, sizeof *m);
	m->body[0] = level;
	m->body[1] = desc;
	m->iov = (struct iovec){m->body, sizeof m->body};
	m->msg.msg_iov = &m->iov;
	m->msg.msg_iovlen = 1;
	m->msg.msg_control = m->ctrl.buf;
	m->msg.msg_controllen = sizeof m->ctrl.buf;
	c = CMSG_FIRSTHDR(&m->msg);
	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_SET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*CMSG_DATA(c) = TLS_KTLS_CT_ALERT;
}

int tls_ktls_send_close_notify(int fd)
{
	struct tls_ktls_alertmsg m;
	ssize_t n;
	tls_ktls_alertmsg_init(&m, 1 /* warning */, 0 /* close_notify */);
	n = ops->sendmsg(fd, &m.msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == 2 ? 0 : -EIO;
}
