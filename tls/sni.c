/* sni: SNI send and SNI-based tenant selection. See sni.h. */
#include "tls/sni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/tls1.h>

#include "tls/ident.h"

struct sni_state {
	const struct tls_sni_table *tbl;
	int chosen; /* tenant, or -1 */
};

static int sni_idx = -1;
static pthread_once_t sni_once = PTHREAD_ONCE_INIT;

static void sni_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void sni_init(void)
{
	sni_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, sni_free);
}

static struct sni_state *sni_get(const SSL *ssl)
{
	pthread_once(&sni_once, sni_init);
	return sni_idx < 0 ? NULL : SSL_get_ex_data(ssl, sni_idx);
}

static bool sni_is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
		return true;
	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int tls_sni_client_set(SSL *ssl, const struct tls_profile *p, const char *host)
{
	if (!p->conf.sni_send || !host || !*host || sni_is_ip_literal(host))
		return 0;
	return SSL_set_tlsext_host_name(ssl, host) == 1 ? 1 : -EPROTO;
}

int tls_sni_attach(SSL *ssl, const struct tls_sni_table *tbl)
{
	struct sni_state *st;

	pthread_once(&sni_once, sni_init);
	st = calloc(1, sizeof(*st));
	if (!st || sni_idx < 0)
		goto nomem;
	st->tbl = tbl;
	st->chosen = -1;
	free(SSL_get_ex_data(ssl, sni_idx));
	if (!SSL_set_ex_data(ssl, sni_idx, st))
		goto nomem;
	return 0;
nomem:
	free(st);
	return -ENOMEM;
}

int tls_sni_chosen(const SSL *ssl)
{
	const struct sni_state *st = sni_get(ssl);

	return st ? st->chosen : -1;
}

const struct tls_sni_tenant *tls_sni_lookup(const struct tls_sni_table *tbl, const char *name)
{
	struct slice host = slice_cstr(name ? name : "");

	/* exact names first, so "sip.a.com" beats a "*.a.com" listed before it */
	for (int pass = 0; pass < 2 && host.n; pass++)
		for (unsigned i = 0; i < tbl->n && i < TLS_SNI_MAX; i++) {
			struct slice pat = slice_cstr(tbl->t[i].name ? tbl->t[i].name : "");
			bool wild = pat.n && pat.p[0] == '*';

			if (wild == (pass == 1) && tls_ident_name_match(pat, host))
				return &tbl->t[i];
		}
	return &tbl->dflt;
}

/* RFC 6066 section 3: ServerNameList = uint16 length, then { uint8 type, uint16 len, name }.
 * Copies the first host_name (type 0) into buf; false when there is none or it is malformed. */
static bool sni_parse(const unsigned char *p, size_t n, char *buf, size_t bufn)
{
	size_t list, len;

	if (n < 2)
		return false;
	list = (size_t)p[0] << 8 | p[1];
	if (list + 2 != n)
		return false;
	for (p += 2, n -= 2; n >= 3; p += 3 + len, n -= 3 + len) {
		len = (size_t)p[1] << 8 | p[2];
		if (len > n - 3)
			return false;
		if (p[0] != TLSEXT_NAMETYPE_host_name)
			continue;
		if (len == 0 || len >= bufn || memchr(p + 3, '\0', len))
			return false;
		memcpy(buf, p + 3, len);
		buf[len] = '\0';
		return true;
	}
	return false;
}

int tls_sni_client_hello_cb(SSL *ssl, int *alert, void *arg)
{
	struct sni_state *st = sni_get(ssl);
	const struct tls_sni_tenant *t;
	const unsigned char *ext;
	size_t extlen;
	char name[TLSEXT_MAXLEN_host_name + 1];

	(void)arg;
	if (!st || !st->tbl)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &extlen) ||
	    !sni_parse(ext, extlen, name, sizeof(name)))
		name[0] = '\0';
	t = tls_sni_lookup(st->tbl, name);
	if (!t->profile || tls_profile_switch_server(ssl, t->profile)) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	st->chosen = (int)t->tenant;
	tls_ident_set_tenant(ssl, t->tenant);
	return SSL_CLIENT_HELLO_SUCCESS;
}
