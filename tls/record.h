/* record: the record layer of one TLS connection after its handshake, per direction either
 *   kernel - kTLS took that direction (OpenSSL's BIO_get_ktls_send / BIO_get_ktls_recv): the
 *            caller moves PLAINTEXT on the fd (io_uring send / recvmsg) and the kernel does the
 *            records; or
 *   user   - that direction of the SSL is switched to a memory BIO: the caller still moves
 *            CIPHERTEXT on the fd through io_uring, and OpenSSL only encrypts / decrypts.
 * Both twins sit behind the same calls, so the io_uring worker has one code path:
 *
 *   receive: bytes arrived on the fd -> tls_record_recv(in) -> plaintext view | need more |
 *            closed | alert. Kernel twin: `in` is already plaintext and comes back as the view
 *            (no copy); control records come from recvmsg: tls_record_recv_kmsg().
 *   send:    tls_record_send(iovecs) -> TLS_TX_PLAIN (kernel: send the iovecs on the fd as they
 *            are) or TLS_TX_CIPHER (user: records were queued; send tls_record_tx_view() and
 *            report what went with tls_record_tx_advance()).
 *
 * See docs/record-layer.md for the states and the BIO swap. Not thread-safe: a connection
 * belongs to one worker. Functions return 0 (or a status >= 0) or -errno.
 */
#ifndef SIPTLS_TLS_RECORD_H
#define SIPTLS_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <openssl/ssl.h>

#include "core/slice.h"
#include "tls/ktls.h"

/* which record layer a direction got; NONE before tls_record_setup */
enum tls_rl {
	TLS_RL_NONE,
	TLS_RL_USER,
	TLS_RL_KERNEL,
};

/* "kernel" / "user" / "none", as `show ... detail` prints it */
const char *tls_rl_name(enum tls_rl rl);

struct tls_record {
	SSL *ssl; /* borrowed from the connection */
	int fd;
	enum tls_rl rx, tx;
	BIO *rmem, *wmem; /* memory BIOs of the user directions (owned by ssl) */
	/* user TX: ciphertext being sent; buf[off..len) is the view handed out. It is refilled from
	 * wmem only once empty, so the view stays put while an io_uring send of it is in flight. */
	struct {
		uint8_t *buf;
		size_t off, len, cap;
	} out;
	bool closed;    /* close_notify received */
	/* user RX: records fed since setup (RFC 8446 §5.1 headers parsed as the bytes pass), so a
	 * later switch of receive to the kernel knows its sequence number */
	struct {
		uint64_t records; /* complete records fed */
		size_t left;      /* body bytes of the current record still to come */
		uint8_t hdr[5];
		uint8_t hdr_len; /* header bytes of the next record seen so far */
	} rxc;
};

enum tls_rx_status {
	TLS_RX_DATA,      /* res->plain holds plaintext; call again (empty `in`) for more */
	TLS_RX_MORE,      /* all input consumed and no plaintext left: wait for the fd */
	TLS_RX_CLOSED,    /* close_notify: orderly close (RFC 8446 §6.1) */
	TLS_RX_ALERT,     /* the peer sent an error alert: res->alert (RFC 8446 §6.2) */
	TLS_RX_KEYUPDATE, /* kernel receive got a KeyUpdate it cannot follow: close, reconnect */
	TLS_RX_ERROR,     /* bad record, failed decryption, protocol violation: res->reason */
};

struct tls_rx_result {
	enum tls_rx_status status;
	struct slice plain; /* TLS_RX_DATA: in the caller's `out` (user) or in `in` (kernel) */
	int alert;          /* TLS_RX_ALERT: the AlertDescription */
	const char *reason; /* TLS_RX_ALERT / TLS_RX_ERROR: static text */
};

enum tls_tx_mode {
	TLS_TX_PLAIN,  /* kernel TX: send the caller's own plaintext on the fd */
	TLS_TX_CIPHER, /* user TX: ciphertext is queued: send tls_record_tx_view() */
};

/* decides each direction of a connection whose handshake just completed and switches the user
 * directions to memory BIOs. Bytes OpenSSL already holds stay in the SSL (read-ahead is off, so
 * the socket BIO holds none; any a BIO does hold are moved); check tls_record_rx_pending().
 * 0 or -ENOMEM. */
int tls_record_setup(struct tls_record *r, SSL *ssl, int fd) __attribute__((warn_unused_result));
/* frees the record layer's buffers (not the SSL, not the fd). */
void tls_record_free(struct tls_record *r);

/* one receive step; see enum tls_rx_status. Returns 0, or -EINVAL / -ENOMEM with res->status
 * TLS_RX_ERROR as well (so res alone is enough to act on). `in` is everything that arrived on the
 * fd since the last call (user twin: it is all consumed, OpenSSL keeps partial records);
 * out[0..cap) takes plaintext (user twin). The user twin may queue records to send (a KeyUpdate
 * answer): check tls_record_tx_view() afterwards. */
int tls_record_recv(struct tls_record *r, struct slice in, void *out, size_t cap,
                    struct tls_rx_result *res);
/* kernel twin: one recvmsg of m (see tls_ktls_rxmsg_init) returned n > 0 bytes. Data -> DATA
 * with the view in m's buffer; NewSessionTicket -> MORE (discarded); close_notify, alerts,
 * KeyUpdate -> the matching status. */
int tls_record_recv_kmsg(struct tls_record *r, const struct tls_ktls_rxmsg *m, size_t n,
                         struct tls_rx_result *res) __attribute__((warn_unused_result));
/* kernel twin, when the recvmsg used a provided buffer (io_uring IOSQE_BUFFER_SELECT): the
 * record type comes from msg's control data, the n bytes are at data. Same results as
 * tls_record_recv_kmsg; DATA's view is data itself. */
int tls_record_recv_kdata(struct tls_record *r, const struct msghdr *msg, const void *data,
                          size_t n, struct tls_rx_result *res) __attribute__((warn_unused_result));
/* does the user twin hold plaintext or unprocessed records already (call recv with empty in)? */
bool tls_record_rx_pending(const struct tls_record *r);
/* user RX: how many records OpenSSL has consumed since setup, when that is exactly known: no
 * partial record fed, nothing left in the memory BIO or the SSL. 0 and *seq, or -EAGAIN (feed
 * or read more first), -EINVAL (not a user RX direction). */
int tls_record_rx_seq(const struct tls_record *r, uint64_t *seq)
    __attribute__((warn_unused_result));
/* after the caller installed kernel receive keys (tls_conn_ktls_rx13): receive is the kernel
 * twin from now on; OpenSSL never reads this connection again. */
void tls_record_rx_to_kernel(struct tls_record *r);

/* prepares iov[0..iovcnt) for the wire: returns TLS_TX_PLAIN or TLS_TX_CIPHER (see the enum),
 * or -ENOMEM / -EIO. Never blocks, never writes the fd. */
int tls_record_send(struct tls_record *r, const struct iovec *iov, int iovcnt)
    __attribute__((warn_unused_result));
/* user TX: ciphertext waiting to be sent (empty: nothing). Valid until tls_record_tx_advance. */
struct slice tls_record_tx_view(struct tls_record *r);
/* user TX: n bytes of the view were sent. */
void tls_record_tx_advance(struct tls_record *r, size_t n);

/* sends close_notify (RFC 8446 §6.1): user TX -> queued (TLS_TX_CIPHER, send the view); kernel
 * TX -> one sendmsg with TLS_SET_RECORD_TYPE now (0 = TLS_TX_PLAIN, or -EAGAIN / -errno). */
int tls_record_close(struct tls_record *r) __attribute__((warn_unused_result));

#endif
