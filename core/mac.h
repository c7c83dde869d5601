/* core_mac: short authenticated tokens the proxy hands out and must recognise later.
 *
 * Our Via branch names the inbound connection a response must go back to, and our
 * Record-Route URI names the next hop of in-dialog requests. Peers echo both back, so both
 * are authenticated: a token is a 64-bit value plus a 64-bit SipHash-2-4 tag over the value
 * and a context (for a branch, the client's own branch). SipHash is a keyed PRF built for
 * short inputs: about 20 ns here, where an HMAC through OpenSSL 3 costs a microsecond in
 * fetches alone. The key is random per process, so tokens do not survive a restart — neither
 * do the connections they name.
 */
#ifndef SIPTLS_CORE_MAC_H
#define SIPTLS_CORE_MAC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"

struct core_mac_key {
	uint64_t k0, k1;
};

/* text form: 16 hex digits of value then 16 of tag */
#define CORE_TOKEN_LEN 32

/* fills key from the OS random source; 0 or -errno */
int core_mac_key_random(struct core_mac_key *key);
/* SipHash-2-4 of data under key */
uint64_t core_siphash(const struct core_mac_key *key, const void *data, size_t n);

/* writes CORE_TOKEN_LEN characters (no NUL) naming value, bound to context */
void core_token_make(const struct core_mac_key *key, uint64_t value, struct slice context,
		     char out[CORE_TOKEN_LEN]);
/* true, with *value, when text is exactly a token made with key and context */
bool core_token_check(const struct core_mac_key *key, struct slice text, struct slice context,
		      uint64_t *value);

#endif
