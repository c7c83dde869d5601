/* keylog: NSS key log file and TLS 1.3 secret hook. See keylog.h. */
#include "tls/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

struct tls_keylog {
	int fd;
	pthread_mutex_t lock;
	unsigned long lines;
};

static int ctx_index = -1, ssl_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void index_init(void)
{
	ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* ---- parsing ---- */

static const struct {
	const char *name;
	enum tls_keylog_label label;
} labels[] = {
    {"CLIENT_RANDOM", TLS_KEYLOG_CLIENT_RANDOM},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET},
    {"CLIENT_TRAFFIC_SECRET_0", TLS_KEYLOG_CLIENT_TRAFFIC_SECRET_0},
    {"SERVER_TRAFFIC_SECRET_0", TLS_KEYLOG_SERVER_TRAFFIC_SECRET_0},
    {"EXPORTER_SECRET", TLS_KEYLOG_EXPORTER_SECRET},
    {"CLIENT_EARLY_TRAFFIC_SECRET", TLS_KEYLOG_EARLY_TRAFFIC_SECRET},
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* decodes exactly 2*n hex digits at p into out; false on a non-hex digit. */
static bool hex_decode(const char *p, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int tls_keylog_parse_line(const char *line, struct tls_keylog_entry *out)
{
	const char *sp1 = strchr(line, ' '), *sp2, *sec;
	size_t hexlen;
	memset(out, 0, sizeof *out);
	if (!sp1 || sp1 == line)
		return -EINVAL;
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strlen(labels[i].name) == (size_t)(sp1 - line) &&
		    !memcmp(labels[i].name, line, (size_t)(sp1 - line)))
			out->label = labels[i].label;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 - (sp1 + 1) != 64 || !hex_decode(sp1 + 1, out->client_random, 32))
		return -EINVAL;
	sec = sp2 + 1;
	hexlen = strlen(sec);
	if (hexlen == 0 || hexlen % 2 || hexlen / 2 > TLS_KEYLOG_SECRET_MAX ||
	    !hex_decode(sec, out->secret, hexlen / 2)) {
		OPENSSL_cleanse(out, sizeof *out);
		return -EINVAL;
	}
	out->secret_len = hexlen / 2;
	return 0;
}

/* ---- sinks ---- */

int tls_keylog_sink_attach(SSL *ssl, struct tls_keylog_sink *sink)
{
	pthread_once(&index_once, index_init);
	if (ssl_index < 0 || !SSL_set_ex_data(ssl, ssl_index, sink))
		return -ENOMEM;
	return 0;
}

void tls_keylog_sink_clear(struct tls_keylog_sink *sink)
{
	OPENSSL_cleanse(sink, sizeof *sink);
}

static void sink_store(struct tls_keylog_sink *sink, const char *line)
{
	struct tls_keylog_entry e;
	if (tls_keylog_parse_line(line, &e))
		return;
	if (e.label == TLS_KEYLOG_CLIENT_TRAFFIC_SECRET_0) {
		memcpy(sink->client_app, e.secret, e.secret_len);
		sink->client_app_len = (uint8_t)e.secret_len;
	} else if (e.label == TLS_KEYLOG_SERVER_TRAFFIC_SECRET_0) {
		memcpy(sink->server_app, e.secret, e.secret_len);
		sink->server_app_len = (uint8_t)e.secret_len;
	}
	OPENSSL_cleanse(&e, sizeof e);
}

/* ---- the file ---- */

static void file_append(struct tls_keylog *kl, const char *line)
{
	/* one write per line: a reader (tshark -o tls.keylog_file) never sees half a line */
	char buf[512];
	size_t n = strlen(line);
	if (n + 1 > sizeof buf)
		return;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a newline follows, no NUL */
	memcpy(buf, line, n);
	buf[n++] = '\n';
	pthread_mutex_lock(&kl->lock);
	if (write(kl->fd, buf, n) == (ssize_t)n)
		kl->lines++;
	pthread_mutex_unlock(&kl->lock);
	OPENSSL_cleanse(buf, n);
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_keylog *kl = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
	struct tls_keylog_sink *sink = SSL_get_ex_data(ssl, ssl_index);
	if (kl)
		file_append(kl, line);
	if (sink)
		sink_store(sink, line);
}

int tls_keylog_open(struct tls_keylog **out, const char *path, tls_keylog_warn_fn *warn,
                    void *warn_arg)
{
	struct tls_keylog *kl = calloc(1, sizeof *kl);
	if (!kl)
		return -ENOMEM;
	kl->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (kl->fd < 0 || fchmod(kl->fd, 0600)) {
		int err = -errno;
		if (kl->fd >= 0)
			close(kl->fd);
		free(kl);
		return err;
	}
	pthread_mutex_init(&kl->lock, NULL);
	if (warn)
		warn("TLS key log is ON: session secrets are being written to the --tls-keylog "
		     "file; anyone who reads it can decrypt the traffic. Debugging only.",
		     warn_arg);
	*out = kl;
	return 0;
}

void tls_keylog_close(struct tls_keylog *kl)
{
	if (!kl)
		return;
	close(kl->fd);
	pthread_mutex_destroy(&kl->lock);
	free(kl);
}

int tls_keylog_install(SSL_CTX *ctx, struct tls_keylog *kl)
{
	pthread_once(&index_once, index_init);
	if (ctx_index < 0 || ssl_index < 0 || !SSL_CTX_set_ex_data(ctx, ctx_index, kl))
		return -ENOMEM;
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

unsigned long tls_keylog_lines(const struct tls_keylog *kl)
{
	unsigned long n;
	pthread_mutex_lock((pthread_mutex_t *)&kl->lock);
	n = kl->lines;
	pthread_mutex_unlock((pthread_mutex_t *)&kl->lock);
	return n;
}
