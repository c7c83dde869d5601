/* keylog: the NSS key log (--tls-keylog FILE) and the TLS 1.3 traffic-secret hook for kTLS.
 *
 * One callback is installed on every SSL_CTX we make (SSL_CTX_set_keylog_callback). It does two
 * independent things with each line OpenSSL gives it:
 *   - when a key log file is open, appends the line to it (NSS key log format, which
 *     Wireshark/tshark read to decrypt a capture): off by default, 0600, one write(2) per line
 *     under a mutex, so lines from several workers never interleave;
 *   - when the SSL has a secret sink attached (tls_keylog_sink_attach, done by tls_conn), parses
 *     the TLS 1.3 application traffic secrets (`CLIENT_TRAFFIC_SECRET_0`,
 *     `SERVER_TRAFFIC_SECRET_0`) into it, whether or not a file is open: the kTLS code needs the
 *     receive secret to install TLS_RX itself (OpenSSL 3.0 does not offload TLS 1.3 receive).
 * Writing the key log defeats TLS for everything it records: it is a debugging aid only.
 */
#ifndef SIPTLS_TLS_KEYLOG_H
#define SIPTLS_TLS_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* NSS key log labels we understand (https://nss-crypto.org keylog format; RFC 8446 secrets). */
enum tls_keylog_label {
	TLS_KEYLOG_UNKNOWN,
	TLS_KEYLOG_CLIENT_RANDOM, /* TLS 1.2: the master secret */
	TLS_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET,
	TLS_KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET,
	TLS_KEYLOG_CLIENT_TRAFFIC_SECRET_0,
	TLS_KEYLOG_SERVER_TRAFFIC_SECRET_0,
	TLS_KEYLOG_EXPORTER_SECRET,
	TLS_KEYLOG_EARLY_TRAFFIC_SECRET,
};

#define TLS_KEYLOG_SECRET_MAX 64

/* one parsed line: "LABEL <64 hex client random> <hex secret>" */
struct tls_keylog_entry {
	enum tls_keylog_label label;
	uint8_t client_random[32];
	uint8_t secret[TLS_KEYLOG_SECRET_MAX];
	size_t secret_len;
};

/* parses one key log line (no newline). Pure. 0, or -EINVAL for a malformed line (an unknown
 * label with a well-formed rest is 0 with label TLS_KEYLOG_UNKNOWN). */
int tls_keylog_parse_line(const char *line, struct tls_keylog_entry *out)
    __attribute__((warn_unused_result));

/* where the callback puts the TLS 1.3 application traffic secrets of one SSL. Owned by the
 * connection; the zero value is empty. */
struct tls_keylog_sink {
	uint8_t client_app[TLS_KEYLOG_SECRET_MAX];
	uint8_t server_app[TLS_KEYLOG_SECRET_MAX];
	uint8_t client_app_len, server_app_len;
};

/* attaches sink to ssl (SSL ex_data) so the callback fills it; NULL detaches. 0 or -ENOMEM. */
int tls_keylog_sink_attach(SSL *ssl, struct tls_keylog_sink *sink)
    __attribute__((warn_unused_result));
/* wipes the secrets (OPENSSL_cleanse). */
void tls_keylog_sink_clear(struct tls_keylog_sink *sink);

/* the open key log file, shared by all contexts and threads. */
struct tls_keylog;

/* called once when a key log file is opened, with a warning for the operator's log. */
typedef void tls_keylog_warn_fn(const char *msg, void *arg);

/* opens (creates, mode 0600, append) path and tells warn about it. 0, or -errno. An existing
 * file with wider permissions is narrowed to 0600: it is about to hold session secrets; a
 * symlink is refused (O_NOFOLLOW). */
int tls_keylog_open(struct tls_keylog **out, const char *path, tls_keylog_warn_fn *warn,
                    void *warn_arg) __attribute__((warn_unused_result));
/* closes the file. Call only once no SSL_CTX that uses kl can still handshake. NULL is fine. */
void tls_keylog_close(struct tls_keylog *kl);
/* installs the callback on ctx; kl may be NULL (no file: secrets still reach the sinks).
 * 0 or -ENOMEM. */
int tls_keylog_install(SSL_CTX *ctx, struct tls_keylog *kl) __attribute__((warn_unused_result));
/* lines written so far (for tests and `show` counters). */
unsigned long tls_keylog_lines(const struct tls_keylog *kl);

#endif
