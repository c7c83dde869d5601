/* ktls: what siptlsd does with the kernel's TLS record layer (Linux CONFIG_TLS) by itself.
 *
 * OpenSSL 3.0 hands a direction to the kernel on its own when SSL_OP_ENABLE_KTLS is set and the
 * tls ULP exists (TLS 1.2 both ways, TLS 1.3 send only). This module holds the rest:
 *   - the startup probe (does the kernel offer the tls ULP at all),
 *   - the TLS 1.3 receive-key helper (traffic secret -> the kernel's crypto_info), which is a
 *     pure function, and the setsockopt that installs it,
 *   - non-data records on a kernel-RX socket: the TLS_GET_RECORD_TYPE control message, parsed by
 *     pure functions, and the recvmsg that asks for it,
 *   - close_notify on a kernel-TX socket (TLS_SET_RECORD_TYPE control message).
 * Every syscall goes through struct tls_ktls_ops, so tests on a host without the tls module
 * replace them with fakes (as s2n-tls does in tls/s2n_ktls.c). Functions return 0 (or a
 * length) or -errno.
 */
#ifndef SIPTLS_TLS_KTLS_H
#define SIPTLS_TLS_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/tls.h>

/* ---- seams ---- */

struct tls_ktls_ops {
	int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
};

/* the ops in use (libc's by default); never NULL. */
const struct tls_ktls_ops *tls_ktls_ops_get(void);
/* replaces the ops (NULL restores libc's) and returns the previous ones. Tests only: not
 * thread-safe against concurrent kTLS calls. */
const struct tls_ktls_ops *tls_ktls_ops_set(const struct tls_ktls_ops *ops);

/* ---- startup probe ---- */

struct tls_ktls_probe {
	bool ulp;  /* setsockopt(TCP_ULP, "tls") worked on a connected loopback TCP socket */
	int error; /* when !ulp: the negative errno (-ENOENT: no CONFIG_TLS) */
};

/* runs the probe now (a loopback TCP pair, through the seams). 0, or -errno when the loopback
 * pair itself could not be made (then out->ulp is false and out->error says why). */
int tls_ktls_probe_run(struct tls_ktls_probe *out);
/* the probe of this process, run once on first use (thread-safe). */
const struct tls_ktls_probe *tls_ktls_probe_once(void);
/* one log line for the probe's result, e.g. "kernel TLS: tls ULP available". Returns buf. */
const char *tls_ktls_probe_describe(const struct tls_ktls_probe *p, char *buf, size_t n);

/* ---- TLS 1.3 receive (or send) keys ---- */

/* the kernel's crypto_info for one direction, as the bytes setsockopt(SOL_TLS, TLS_RX) takes. */
struct tls_ktls_crypto {
	union {
		struct tls_crypto_info info;
		struct tls12_crypto_info_aes_gcm_128 aes128;
		struct tls12_crypto_info_aes_gcm_256 aes256;
		struct tls12_crypto_info_chacha20_poly1305 chacha;
	} u;
	socklen_t len; /* sizeof the member in use */
};

/* HKDF-Expand-Label(secret, label, "", out_len) of RFC 8446 §7.1 with the suite's hash.
 * md_name: "SHA256" or "SHA384". 0 or -EINVAL / -EIO. */
int tls_ktls_hkdf_expand_label(const char *md_name, const uint8_t *secret, size_t secret_len,
                               const char *label, uint8_t *out, size_t out_len)
    __attribute__((warn_unused_result));

/* builds the kernel crypto_info for a TLS 1.3 direction from its traffic secret (RFC 8446
 * §7.3: key = HKDF-Expand-Label(secret, "key", "", key_len), iv = ...("iv", "", 12)).
 * suite_id: the IANA id (0x1301 AES-128-GCM, 0x1302 AES-256-GCM, 0x1303 ChaCha20-Poly1305);
 * rec_seq: the number of records already received (sent) under this secret. Pure.
 * 0, -EINVAL (bad secret length), -EOPNOTSUPP (a suite the kernel cannot take). */
int tls_ktls_crypto_tls13(uint16_t suite_id, const uint8_t *secret, size_t secret_len,
                          uint64_t rec_seq, struct tls_ktls_crypto *out)
    __attribute__((warn_unused_result));

/* attaches the tls ULP (an already attached one is fine) and installs ci for receive (TLS_RX)
 * or send (TLS_TX). 0 or -errno from the kernel (-ENOENT: no tls module). */
int tls_ktls_install(int fd, bool rx, const struct tls_ktls_crypto *ci)
    __attribute__((warn_unused_result));

/* ---- control records (RFC 8446 §5.1 ContentType) ---- */

enum {
	TLS_KTLS_CT_ALERT = 21,
	TLS_KTLS_CT_HANDSHAKE = 22,
	TLS_KTLS_CT_APPDATA = 23,
};

/* what the connection does with one record that came through kernel receive */
enum tls_ktls_rx_kind {
	TLS_KTLS_RX_DATA,      /* application data: hand it on */
	TLS_KTLS_RX_CLOSE,     /* close_notify: orderly close (RFC 8446 §6.1) */
	TLS_KTLS_RX_ALERT,     /* any other alert: close, count, log `alert` */
	TLS_KTLS_RX_DISCARD,   /* TLS 1.3 NewSessionTicket(s): nothing to do */
	TLS_KTLS_RX_KEYUPDATE, /* KeyUpdate: kernel 6.1 cannot re-key receive; close, reconnect */
	TLS_KTLS_RX_PROTOCOL,  /* anything else (unknown type, malformed): close as an error */
};

struct tls_ktls_rx_event {
	enum tls_ktls_rx_kind kind;
	uint8_t record_type;
	uint8_t alert_level; /* TLS_KTLS_RX_ALERT/CLOSE: RFC 8446 §6 AlertLevel */
	uint8_t alert_desc;  /* ... and AlertDescription */
};

/* the record type in msg's TLS_GET_RECORD_TYPE control message (a recvmsg result). Pure.
 * 0 and *type, -ENOENT when msg carries none (plain data), -EMSGSIZE when the kernel truncated
 * the control data (MSG_CTRUNC). */
int tls_ktls_cmsg_record_type(const struct msghdr *msg, uint8_t *type)
    __attribute__((warn_unused_result));
/* classifies one record of `type` whose (decrypted) body starts with body[0..n). Pure.
 * A handshake record may carry several messages: all NewSessionTicket -> DISCARD; any KeyUpdate
 * -> KEYUPDATE; anything else or a cut message header -> PROTOCOL. */
struct tls_ktls_rx_event tls_ktls_classify(uint8_t type, const uint8_t *body, size_t n);

/* a recvmsg header with room for the record-type control message; also what io_uring's
 * prep_recvmsg takes. Set up by tls_ktls_rxmsg_init; one per outstanding receive. It points
 * into itself: do not copy or move it after init. */
struct tls_ktls_rxmsg {
	struct msghdr msg;
	struct iovec iov;
	struct {
		/* aligned as a cmsghdr, not a union with one: glibc's cmsghdr ends in a flexible
		 * array member, which would make this a variable-sized type inside struct conn */
		_Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(uint8_t))];
	} ctrl;
};
void tls_ktls_rxmsg_init(struct tls_ktls_rxmsg *m, void *buf, size_t len);
/* after a recvmsg of m returned n > 0 bytes: what they are. Pure. */
struct tls_ktls_rx_event tls_ktls_rxmsg_event(const struct tls_ktls_rxmsg *m, size_t n);

/* one blocking-free recvmsg through the seam into buf. Returns the byte count (>= 0, 0 = the
 * TCP peer closed without close_notify) with *ev saying what they are, or -errno (-EAGAIN). */
ssize_t tls_ktls_recv(int fd, void *buf, size_t len, struct tls_ktls_rx_event *ev)
    __attribute__((warn_unused_result));

/* a sendmsg header carrying one alert in its own record (TLS_SET_RECORD_TYPE = 21); also what
 * io_uring's prep_sendmsg takes. Points into itself, like tls_ktls_rxmsg. */
struct tls_ktls_alertmsg {
	struct msghdr msg;
	struct iovec iov;
	uint8_t body[2];
	union {
		char buf[CMSG_SPACE(sizeof(uint8_t))];
		struct cmsghdr align;
	} ctrl;
};
void tls_ktls_alertmsg_init(struct tls_ktls_alertmsg *m, uint8_t level, uint8_t desc);
/* sends close_notify (RFC 8446 §6.1) on a kernel-TX socket through the seam. 0, -EAGAIN, or
 * -errno. */
int tls_ktls_send_close_notify(int fd) __attribute__((warn_unused_result));

#endif
