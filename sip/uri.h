/* sip_uri: SIP, SIPS and tel URIs as views (RFC 3261 19.1, 25.1; RFC 3966).
 *
 * Parsing fills struct sip_uri with slices into the input; nothing is unescaped or copied
 * (compare escaped user parts with care: RFC 3261 19.1.4). */
#ifndef SIPTLS_SIP_URI_H
#define SIPTLS_SIP_URI_H

#include <stdbool.h>

#include "core/slice.h"
#include "sip/err.h"

enum sip_scheme { SIP_SCHEME_SIP = 1, SIP_SCHEME_SIPS, SIP_SCHEME_TEL };
enum sip_host_kind { SIP_HOST_NONE = 0, SIP_HOST_NAME, SIP_HOST_IPV4, SIP_HOST_IPV6 };

struct sip_uri {
	enum sip_scheme scheme;
	struct slice user;     /* sip/sips: before '@' (may be empty); tel: the number */
	struct slice password; /* after "user:" */
	struct slice host;     /* IPv6: without the brackets */
	enum sip_host_kind host_kind;
	unsigned port;         /* 0 when absent */
	struct slice params;   /* after the first ';' up to '?' or the end, e.g. "transport=tls;lr" */
	struct slice headers;  /* after '?' */
};

/* Parses a whole URI (no surrounding <> or spaces). 0, or -SIP_E_URI. */
int sip_uri_parse(struct slice s, struct sip_uri *u);

/* Iterates ";"-separated parameters: name=value or a bare name (value empty, p NULL).
 * Returns 1 with a parameter, 0 at the end. Leading ';' and surrounding LWS are skipped.
 * An empty element (";;") comes back with an empty name; a quoted value keeps its quotes;
 * an unterminated quote runs to the end. */
int sip_param_next(struct slice *rest, struct slice *name, struct slice *value);
/* finds parameter name (case-insensitive) in params; true if present (value may be empty) */
bool sip_param_get(struct slice params, struct slice name, struct slice *value);

/* Host syntax checks on a bare host (brackets removed for IPv6). */
bool sip_host_is_ipv4(struct slice h);
bool sip_host_is_ipv6(struct slice h);
bool sip_host_is_name(struct slice h);

#endif
