/* sip_addr: name-addr / addr-spec values of From, To, Contact, Route, Record-Route
 * (RFC 3261 20.10, 25.1) as views. */
#ifndef SIPTLS_SIP_ADDR_H
#define SIPTLS_SIP_ADDR_H

#include <stdbool.h>

#include "core/slice.h"
#include "sip/err.h"

struct sip_addr {
	struct slice display; /* token words or a "quoted string" with its quotes; may be empty */
	struct slice uri;     /* inside <...>, or the addr-spec up to the first ';' */
	struct slice params;  /* header parameters after the URI, without the leading ';' */
	struct slice tag;     /* value of the tag parameter, empty when none */
	bool angle;           /* written as name-addr with <...> */
	bool star;            /* Contact: * */
};

/* Parses one element (split at commas first for Contact/Route). 0 or -SIP_E_ADDR. Rejects an
 * unterminated quote or '<', and a display name with characters a token may not hold.
 * The URI is checked for shape only; run sip_uri_parse on a.uri for sip/sips/tel. */
int sip_addr_parse(struct slice s, struct sip_addr *a);

#endif
