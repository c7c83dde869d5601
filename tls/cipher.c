/* cipher: the guide's cipher names and ordered lists. See cipher.h. */
#include "tls/cipher.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct tls_cipher_def {
	const char *guide;   /* as the reference guide lists it (underscore spelling) */
	const char *openssl; /* OpenSSL's name of the same IANA suite */
	bool ecdsa;
};

static const struct tls_cipher_def tls_ciphers[TLS_CIPHER_COUNT] = {
    [TLS_CIPHER_DHE_RSA_AES128_GCM_SHA256] = {"DHE_RSA_AES128_GCM_SHA256",
                                              "DHE-RSA-AES128-GCM-SHA256", false},
    [TLS_CIPHER_DHE_RSA_AES256_GCM_SHA384] = {"DHE_RSA_AES256_GCM_SHA384",
                                              "DHE-RSA-AES256-GCM-SHA384", false},
    [TLS_CIPHER_DHE_RSA_WITH_AES_128_CBC_SHA] = {"DHE_RSA_WITH_AES_128_CBC_SHA",
                                                 "DHE-RSA-AES128-SHA", false},
    [TLS_CIPHER_DHE_RSA_WITH_AES_256_CBC_SHA] = {"DHE_RSA_WITH_AES_256_CBC_SHA",
                                                 "DHE-RSA-AES256-SHA", false},
    [TLS_CIPHER_ECDHE_RSA_AES128_GCM_SHA256] = {"ECDHE_RSA_AES128_GCM_SHA256",
                                                "ECDHE-RSA-AES128-GCM-SHA256", false},
    [TLS_CIPHER_ECDHE_RSA_AES256_GCM_SHA384] = {"ECDHE_RSA_AES256_GCM_SHA384",
                                                "ECDHE-RSA-AES256-GCM-SHA384", false},
    [TLS_CIPHER_RSA_WITH_AES_128_CBC_SHA] = {"RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
    [TLS_CIPHER_RSA_WITH_AES_256_CBC_SHA] = {"RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
    [TLS_CIPHER_ECDHE_ECDSA_AES128_GCM_SHA256] = {"ECDHE_ECDSA_AES128_GCM_SHA256",
                                                  "ECDHE-ECDSA-AES128-GCM-SHA256", true},
    [TLS_CIPHER_ECDHE_ECDSA_AES256_GCM_SHA384] = {"ECDHE_ECDSA_AES256_GCM_SHA384",
                                                  "ECDHE-ECDSA-AES256-GCM-SHA384", true},
};

/* RFC 8446 appendix B.4: the suites OpenSSL 3.0 implements */
static const char *const tls13_suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                           "TLS_AES_128_CCM_8_SHA256"};
#define TLS13_COUNT (sizeof(tls13_suites) / sizeof(tls13_suites[0]))

const char *tls_cipher_name(enum tls_cipher_id id)
{
	return (unsigned)id < TLS_CIPHER_COUNT ? tls_ciphers[id].guide : NULL;
}

const char *tls_cipher_openssl_name(enum tls_cipher_id id)
{
	return (unsigned)id < TLS_CIPHER_COUNT ? tls_ciphers[id].openssl : NULL;
}

bool tls_cipher_is_ecdsa(enum tls_cipher_id id)
{
	return (unsigned)id < TLS_CIPHER_COUNT && tls_ciphers[id].ecdsa;
}

static bool tls_cipher_sep(char c)
{
	return c == ' ' || c == '_' || c == '-' || c == '\t';
}

/* a and b equal when case is ignored and every run of separators counts as one '_' */
static bool tls_cipher_name_eq(struct slice a, const char *b)
{
	size_t i = 0;

	a = slice_trim(a);
	while (i < a.n && *b) {
		if (tls_cipher_sep(a.p[i]) && tls_cipher_sep(*b)) {
			while (i < a.n && tls_cipher_sep(a.p[i]))
				i++;
			while (tls_cipher_sep(*b))
				b++;
			continue;
		}
		if (slice__lower((unsigned char)a.p[i]) != slice__lower((unsigned char)*b))
			return false;
		i++;
		b++;
	}
	return i == a.n && *b == '\0';
}

int tls_cipher_lookup(struct slice name)
{
	for (int i = 0; i < TLS_CIPHER_COUNT; i++)
		if (tls_cipher_name_eq(name, tls_ciphers[i].guide) ||
		    tls_cipher_name_eq(name, tls_ciphers[i].openssl))
			return i;
	return -ENOENT;
}

static void tls_cipher_err_unknown(struct slice name, char *err, size_t errlen)
{
	size_t off;

	if (!errlen)
		return;
	off = (size_t)snprintf(err, errlen, "unknown cipher '%.*s'; valid:", SLICE_FMT(name));
	for (int i = 0; i < TLS_CIPHER_COUNT && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, " %s", tls_ciphers[i].guide);
}

static int tls_cipher_list_find_pref(const struct tls_cipher_list *l, unsigned pref)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->pref[i] == pref)
			return (int)i;
	return -1;
}

int tls_cipher_list_add(struct tls_cipher_list *l, unsigned pref, struct slice name, char *err,
                        size_t errlen)
{
	int id = tls_cipher_lookup(name), at;
	unsigned i;

	if (pref < 1 || pref > TLS_CIPHER_PREF_MAX) {
		snprintf(err, errlen, "cipher preference %u out of range 1..%d", pref,
		         TLS_CIPHER_PREF_MAX);
		return -ERANGE;
	}
	if (id < 0) {
		tls_cipher_err_unknown(name, err, errlen);
		return id;
	}
	for (i = 0; i < l->n; i++)
		if (l->id[i] == id && l->pref[i] != pref) {
			snprintf(err, errlen, "cipher %s already at preference %u",
			         tls_ciphers[id].guide, l->pref[i]);
			return -EEXIST;
		}
	at = tls_cipher_list_find_pref(l, pref);
	if (at >= 0) { /* re-entering a preference replaces it, as a config line would */
		l->id[at] = (uint8_t)id;
		return 0;
	}
	if (l->n == TLS_CIPHER_MAX) {
		snprintf(err, errlen, "cipher list %u is full (%d entries)", l->tag,
		         TLS_CIPHER_MAX);
		return -ENOSPC;
	}
	for (i = l->n; i > 0 && l->pref[i - 1] > pref; i--) {
		l->pref[i] = l->pref[i - 1];
		l->id[i] = l->id[i - 1];
	}
	l->pref[i] = (uint8_t)pref;
	l->id[i] = (uint8_t)id;
	l->n++;
	return 0;
}

static int tls13_lookup(struct slice name)
{
	for (size_t i = 0; i < TLS13_COUNT; i++)
		if (tls_cipher_name_eq(name, tls13_suites[i]))
			return (int)i;
	return -ENOENT;
}

static void tls13_err_unknown(struct slice name, char *err, size_t errlen)
{
	size_t off;

	if (!errlen)
		return;
	off =
	    (size_t)snprintf(err, errlen, "unknown TLS 1.3 suite '%.*s'; valid:", SLICE_FMT(name));
	for (size_t i = 0; i < TLS13_COUNT && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, " %s", tls13_suites[i]);
}

static bool tls13_sep(char c)
{
	return c == ':' || c == ' ' || c == ',' || c == '\t';
}

int tls_cipher_list_set_tls13(struct tls_cipher_list *l, struct slice suites, char *err,
                              size_t errlen)
{
	char out[sizeof(l->tls13)];
	size_t off = 0, i = 0;

	while (i < suites.n) {
		size_t start;
		int id;

		while (i < suites.n && tls13_sep(suites.p[i]))
			i++;
		start = i;
		while (i < suites.n && !tls13_sep(suites.p[i]))
			i++;
		if (i == start)
			break;
		id = tls13_lookup(slice_sub(suites, start, i));
		if (id < 0) {
			tls13_err_unknown(slice_sub(suites, start, i), err, errlen);
			return id;
		}
		if (off + strlen(tls13_suites[id]) + 2 > sizeof(out)) {
			snprintf(err, errlen, "TLS 1.3 suite list too long");
			return -ENOSPC;
		}
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? ":" : "",
		                        tls13_suites[id]);
	}
	memcpy(l->tls13, out, off);
	l->tls13[off] = '\0';
	return 0;
}

int tls_cipher_list_string(const struct tls_cipher_list *l, char *buf, size_t n)
{
	size_t off = 0;

	if (n)
		buf[0] = '\0';
	for (unsigned i = 0; i < l->n; i++) {
		const char *name = tls_ciphers[l->id[i]].openssl;
		size_t need = strlen(name) + (i ? 1 : 0);

		if (off + need + 1 > n)
			return -ENOSPC;
		off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ":" : "", name);
	}
	return (int)off;
}

bool tls_cipher_list_has_ecdsa(const struct tls_cipher_list *l)
{
	for (unsigned i = 0; i < l->n; i++)
		if (tls_ciphers[l->id[i]].ecdsa)
			return true;
	return false;
}
