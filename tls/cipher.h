/* cipher: `voice class tls-cipher TAG` lists — the reference guide's ten cipher names, their
 * OpenSSL equivalents, and an ordered list of up to ten of them.
 *
 *   voice class tls-cipher 100
 *    cipher 1 ECDHE_RSA_AES256_GCM_SHA384
 *    cipher 2 DHE RSA WITH AES 128 CBC SHA      (the guide's own spelling: spaces accepted)
 *
 * Names are matched ASCII case-insensitively with runs of ' ', '_' and '-' treated alike, so
 * the guide's underscore and space spellings and OpenSSL's own names all work. The profile
 * applies the list in preference order with the server's preference winning
 * (SSL_OP_CIPHER_SERVER_PREFERENCE). The ten are TLS 1.2 (and, for the CBC ones, 1.0/1.1)
 * suites; TLS 1.3 suites are a separate, optional list.
 */
#ifndef SIPTLS_TLS_CIPHER_H
#define SIPTLS_TLS_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

enum tls_cipher_id {
	TLS_CIPHER_DHE_RSA_AES128_GCM_SHA256,
	TLS_CIPHER_DHE_RSA_AES256_GCM_SHA384,
	TLS_CIPHER_DHE_RSA_WITH_AES_128_CBC_SHA,
	TLS_CIPHER_DHE_RSA_WITH_AES_256_CBC_SHA,
	TLS_CIPHER_ECDHE_RSA_AES128_GCM_SHA256,
	TLS_CIPHER_ECDHE_RSA_AES256_GCM_SHA384,
	TLS_CIPHER_RSA_WITH_AES_128_CBC_SHA,
	TLS_CIPHER_RSA_WITH_AES_256_CBC_SHA,
	TLS_CIPHER_ECDHE_ECDSA_AES128_GCM_SHA256,
	TLS_CIPHER_ECDHE_ECDSA_AES256_GCM_SHA384,
	TLS_CIPHER_COUNT
};

#define TLS_CIPHER_MAX 10      /* `cipher PREF NAME` entries per list (the guide's limit) */
#define TLS_CIPHER_PREF_MAX 10 /* PREF is 1..10 */

/* one `voice class tls-cipher` list. The zero value is an empty list (OpenSSL's defaults). */
struct tls_cipher_list {
	unsigned tag;
	unsigned n;                   /* entries used */
	uint8_t pref[TLS_CIPHER_MAX]; /* ascending */
	uint8_t id[TLS_CIPHER_MAX];   /* enum tls_cipher_id, same order as pref */
	char tls13[128];              /* TLS 1.3 suites "A:B"; empty: OpenSSL's default */
};

/* the guide's (underscore) name and OpenSSL's name of a cipher; NULL for an invalid id */
const char *tls_cipher_name(enum tls_cipher_id id);
const char *tls_cipher_openssl_name(enum tls_cipher_id id);
/* does the suite authenticate with ECDSA (not allowed with TLS 1.0, per the guide)? */
bool tls_cipher_is_ecdsa(enum tls_cipher_id id);
/* the id of a name in any accepted spelling, or -ENOENT */
int tls_cipher_lookup(struct slice name) __attribute__((warn_unused_result));
/* `cipher PREF NAME`: inserts in preference order; a PREF already present is replaced.
 * Errors: -ERANGE (PREF not 1..10), -ENOENT (unknown name; err lists the valid ones),
 * -EEXIST (the same cipher under another PREF), -ENOSPC (list full). */
int tls_cipher_list_add(struct tls_cipher_list *l, unsigned pref, struct slice name, char *err,
                        size_t errlen) __attribute__((warn_unused_result));
/* TLS 1.3 suites, separated by ':' or spaces, e.g. "TLS_AES_256_GCM_SHA384 TLS_AES_128_GCM_SHA256";
 * -ENOENT naming the bad one and listing the valid ones, -ENOSPC when too long */
int tls_cipher_list_set_tls13(struct tls_cipher_list *l, struct slice suites, char *err,
                              size_t errlen) __attribute__((warn_unused_result));
/* the OpenSSL cipher string of the (TLS <= 1.2) list in preference order, "A:B:C"; returns
 * its length, or -ENOSPC */
int tls_cipher_list_string(const struct tls_cipher_list *l, char *buf, size_t n)
    __attribute__((warn_unused_result));
/* does the list name any ECDSA suite? */
bool tls_cipher_list_has_ecdsa(const struct tls_cipher_list *l);

#endif
