/* record: kernel and user record layers behind one interface. See record.h. */
#include "tls/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

/* RFC 8446 §5.1: a TLSPlaintext fragment is at most 2^14 bytes */
#define RECORD_MAX 16384

const char *tls_rl_name(enum tls_rl rl)
{
	switch (rl) {
	case TLS_RL_USER:
		return "user";
	case TLS_RL_KERNEL:
		return "kernel";
	default:
		return "none";
	}
}

/* ---- setup: the BIO swap ---- */

static BIO *mem_bio(void)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (b)
		BIO_set_mem_eof_return(b, -1); /* empty = "retry", never EOF */
	return b;
}

/* moves whatever `from` still buffers (a socket BIO: nothing) into `to`. */
static int bio_move(BIO *from, BIO *to)
{
	char buf[4096];
	while (BIO_ctrl_pending(from) > 0) {
		int n = BIO_read(from, buf, sizeof buf);
		if (n <= 0 || BIO_write(to, buf, n) != n)
			return -EIO;
	}
	return 0;
}

int tls_record_setup(struct tls_record *r, SSL *ssl, int fd)
{
	BIO *rb = SSL_get_rbio(ssl), *wb = SSL_get_wbio(ssl);
	memset(r, 0, sizeof *r);
	r->ssl = ssl;
	r->fd = fd;
	r->rx = rb && BIO_get_ktls_recv(rb) ? TLS_RL_KERNEL : TLS_RL_USER;
	r->tx = wb && BIO_get_ktls_send(wb) ? TLS_RL_KERNEL : TLS_RL_USER;
	if (r->rx == TLS_RL_USER) {
		if (!(r->rmem = mem_bio()))
			return -ENOMEM;
		if (rb && bio_move(rb, r->rmem)) {
			BIO_free(r->rmem);
			r->rmem = NULL;
			return -EIO;
		}
		SSL_set0_rbio(ssl, r->rmem); /* drops the SSL's read reference to the socket BIO */
	}
	if (r->tx == TLS_RL_USER) {
		if (!(r->wmem = mem_bio()))
			return -ENOMEM;
		/* a completed handshake has flushed its socket BIO: nothing to move */
		SSL_set0_wbio(ssl, r->wmem);
	}
	return 0;
}

void tls_record_free(struct tls_record *r)
{
	free(r->out.buf);
	r->out.buf = NULL;
	r->out.off = r->out.len = r->out.cap = 0;
}

/* ---- receive ---- */

static void rx_failed(struct tls_record *r, int ssl_err, struct tls_rx_result *res)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_REASON(e);
	(void)r;
	res->status = TLS_RX_ERROR;
	res->reason =
	    ssl_err == SSL_ERROR_SYSCALL ? "TLS receive failed (syscall)" : "TLS record rejected";
	/* OpenSSL reports a received alert as SSL_R_SSLV3_ALERT_* / SSL_R_TLSV1_ALERT_*:
	 * SSL_AD_REASON_OFFSET + AlertDescription (ssl.h) */
	if (e && ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
	    reason < SSL_AD_REASON_OFFSET + 256) {
		res->status = TLS_RX_ALERT;
		res->alert = reason - SSL_AD_REASON_OFFSET;
		res->reason = SSL_alert_desc_string_long(res->alert);
	} else if (e) {
		const char *s = ERR_reason_error_string(e);
		if (s)
			res->reason = s;
	}
	ERR_clear_error();
}

/* follows the record framing (RFC 8446 §5.1: type, version, uint16 length) of fed bytes */
static void count_records(struct tls_record *r, const uint8_t *p, size_t n)
{
	while (n) {
		if (r->rxc.left) {
			size_t k = n < r->rxc.left ? n : r->rxc.left;
			r->rxc.left -= k, p += k, n -= k;
			r->rxc.records += r->rxc.left == 0;
			continue;
		}
		r->rxc.hdr[r->rxc.hdr_len++] = *p++, n--;
		if (r->rxc.hdr_len == sizeof r->rxc.hdr) {
			r->rxc.left = (size_t)r->rxc.hdr[3] << 8 | r->rxc.hdr[4];
			r->rxc.hdr_len = 0;
			r->rxc.records += r->rxc.left == 0;
		}
	}
}

static int recv_user(struct tls_record *r, struct slice in, void *out, size_t cap,
                     struct tls_rx_result *res)
{
	size_t got = 0;
	int rc, err;
	if (in.n && BIO_write(r->rmem, in.p, (int)in.n) != (int)in.n)
		return -ENOMEM;
	count_records(r, (const uint8_t *)in.p, in.n);
	if (r->closed) {
		res->status = TLS_RX_CLOSED;
		return 0;
	}
	if (ERR_peek_error()) /* clearing an empty queue costs more than looking (profile) */
		ERR_clear_error();
	rc = SSL_read_ex(r->ssl, out, cap, &got);
	if (rc == 1) {
		res->status = TLS_RX_DATA;
		res->plain = slice_make(out, got);
		return 0;
	}
	switch ((err = SSL_get_error(r->ssl, rc))) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: /* a memory BIO never blocks; only the kernel-TX twin can */
		res->status = TLS_RX_MORE;
		break;
	case SSL_ERROR_ZERO_RETURN:
		r->closed = true;
		res->status = TLS_RX_CLOSED;
		break;
	default:
		rx_failed(r, err, res);
		break;
	}
	return 0;
}

static int recv_step(struct tls_record *r, struct slice in, void *out, size_t cap,
                     struct tls_rx_result *res)
{
	if (in.n > INT32_MAX || (r->rx == TLS_RL_USER && cap == 0))
		return -EINVAL;
	if (r->rx == TLS_RL_USER)
		return recv_user(r, in, out, cap, res);
	if (r->rx != TLS_RL_KERNEL)
		return -EINVAL;
	/* the kernel decrypted it already: the bytes are the plaintext */
	if (in.n) {
		res->status = TLS_RX_DATA;
		res->plain = in;
	}
	return 0;
}

int tls_record_recv(struct tls_record *r, struct slice in, void *out, size_t cap,
                    struct tls_rx_result *res)
{
	int rc;
	*res = (struct tls_rx_result){.status = TLS_RX_MORE};
	/* a caller that only looks at res must not wait for more after a failure */
	if ((rc = recv_step(r, in, out, cap, res)) < 0) {
		res->status = TLS_RX_ERROR;
		res->reason =
		    rc == -ENOMEM ? "out of memory buffering ciphertext" : "invalid receive call";
	}
	return rc;
}

/* one record that came through kernel receive, classified as ev, its bytes at data[0..n) */
static int recv_kernel_event(struct tls_record *r, struct tls_ktls_rx_event ev, const void *data,
                             size_t n, struct tls_rx_result *res)
{
	*res = (struct tls_rx_result){.status = TLS_RX_MORE};
	if (r->rx != TLS_RL_KERNEL)
		return -EINVAL;
	switch (ev.kind) {
	case TLS_KTLS_RX_DATA:
		res->status = n ? TLS_RX_DATA : TLS_RX_MORE;
		res->plain = slice_make(data, n);
		break;
	case TLS_KTLS_RX_CLOSE:
		r->closed = true;
		res->status = TLS_RX_CLOSED;
		break;
	case TLS_KTLS_RX_ALERT:
		res->status = TLS_RX_ALERT;
		res->alert = ev.alert_desc;
		res->reason = SSL_alert_desc_string_long(ev.alert_desc);
		break;
	case TLS_KTLS_RX_DISCARD: /* TLS 1.3 NewSessionTicket: we never resume as a client */
		break;
	case TLS_KTLS_RX_KEYUPDATE:
		res->status = TLS_RX_KEYUPDATE;
		res->reason = "peer sent KeyUpdate: kernel receive cannot re-key, closing";
		break;
	default:
		res->status = TLS_RX_ERROR;
		res->reason = "unexpected record on kernel receive";
		break;
	}
	return 0;
}

int tls_record_recv_kmsg(struct tls_record *r, const struct tls_ktls_rxmsg *m, size_t n,
                         struct tls_rx_result *res)
{
	return recv_kernel_event(r, tls_ktls_rxmsg_event(m, n), m->iov.iov_base, n, res);
}

int tls_record_recv_kdata(struct tls_record *r, const struct msghdr *msg, const void *data,
                          size_t n, struct tls_rx_result *res)
{
	struct tls_ktls_rx_event ev = {.kind = TLS_KTLS_RX_DATA};
	uint8_t type;
	int rc = tls_ktls_cmsg_record_type(msg, &type);
	if (rc == 0)
		ev = tls_ktls_classify(type, data, n);
	else if (rc != -ENOENT) /* truncated control data: the type is unknown */
		ev.kind = TLS_KTLS_RX_PROTOCOL;
	return recv_kernel_event(r, ev, data, n, res);
}

bool tls_record_rx_pending(const struct tls_record *r)
{
	return r->rx == TLS_RL_USER && (SSL_has_pending(r->ssl) || BIO_ctrl_pending(r->rmem) > 0);
}

int tls_record_rx_seq(const struct tls_record *r, uint64_t *seq)
{
	if (r->rx != TLS_RL_USER)
		return -EINVAL;
	if (r->rxc.left || r->rxc.hdr_len || tls_record_rx_pending(r))
		return -EAGAIN;
	*seq = r->rxc.records;
	return 0;
}

void tls_record_rx_to_kernel(struct tls_record *r)
{
	r->rx = TLS_RL_KERNEL;
}

/* ---- send ---- */

static int ssl_write_all(struct tls_record *r, const void *p, size_t n)
{
	size_t done = 0;
	if (n == 0)
		return 0;
	if (ERR_peek_error()) /* as in recv_user: SSL_get_error needs an empty queue */
		ERR_clear_error();
	/* a memory BIO takes everything: SSL_write_ex writes all of it as records of <= 2^14 */
	if (SSL_write_ex(r->ssl, p, n, &done) != 1 || done != n) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

/* several small iovecs (a SIP message as original slices plus new headers) become full
 * records, not one record each */
static int send_staged(struct tls_record *r, const struct iovec *iov, int iovcnt)
{
	/* one per thread, not per connection: it is empty again when this returns, and 16 KiB per
	 * connection that ever forwarded would be most of an idle connection's memory */
	static __thread uint8_t stage[RECORD_MAX];
	size_t fill = 0;
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;
		while (n) {
			size_t k = n < RECORD_MAX - fill ? n : RECORD_MAX - fill;
			memcpy(stage + fill, p, k);
			fill += k, p += k, n -= k;
			if (fill == RECORD_MAX) {
				if (ssl_write_all(r, stage, fill))
					return -EIO;
				fill = 0;
			}
		}
	}
	return ssl_write_all(r, stage, fill);
}

int tls_record_send(struct tls_record *r, const struct iovec *iov, int iovcnt)
{
	int rc;
	if (r->tx == TLS_RL_KERNEL)
		return TLS_TX_PLAIN;
	if (r->tx != TLS_RL_USER || iovcnt < 0)
		return -EINVAL;
	rc = iovcnt == 1 ? ssl_write_all(r, iov[0].iov_base, iov[0].iov_len)
	                 : send_staged(r, iov, iovcnt);
	return rc ? rc : TLS_TX_CIPHER;
}

/* refills out.buf from wmem; only when the previous view was sent completely. */
static void tx_refill(struct tls_record *r)
{
	size_t pend = BIO_ctrl_pending(r->wmem);
	r->out.off = r->out.len = 0;
	if (pend == 0) {
		if (r->out.cap > 4ul * RECORD_MAX) { /* a burst is over: give the memory back */
			free(r->out.buf);
			r->out.buf = NULL;
			r->out.cap = 0;
		}
		return;
	}
	if (pend > r->out.cap) {
		uint8_t *nb = realloc(r->out.buf, pend);
		if (!nb)
			return; /* stays queued in wmem; the next call retries */
		r->out.buf = nb;
		r->out.cap = pend;
	}
	int n = BIO_read(r->wmem, r->out.buf, (int)pend);
	r->out.len = n > 0 ? (size_t)n : 0;
}

struct slice tls_record_tx_view(struct tls_record *r)
{
	if (r->tx != TLS_RL_USER)
		return (struct slice){0};
	if (r->out.off == r->out.len)
		tx_refill(r);
	return slice_make((const char *)r->out.buf + r->out.off, r->out.len - r->out.off);
}

void tls_record_tx_advance(struct tls_record *r, size_t n)
{
	size_t left = r->out.len - r->out.off;
	r->out.off += n < left ? n : left;
}

int tls_record_close(struct tls_record *r)
{
	if (r->tx == TLS_RL_KERNEL)
		return tls_ktls_send_close_notify(r->fd);
	if (r->tx != TLS_RL_USER)
		return -EINVAL;
	ERR_clear_error();
	/* 0 = our close_notify is out (queued in wmem), 1 = the peer's came too: both fine */
	if (SSL_shutdown(r->ssl) < 0) {
		ERR_clear_error();
		return -EIO;
	}
	return TLS_TX_CIPHER;
}
