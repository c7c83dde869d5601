/* sip_via: one Via value (RFC 3261 20.42, 18.2.1; RFC 3581 rport) as views. */
#ifndef SIPTLS_SIP_VIA_H
#define SIPTLS_SIP_VIA_H

#include <stdbool.h>

#include "core/slice.h"
#include "sip/err.h"
#include "sip/uri.h"

struct sip_msg;

struct sip_via {
	struct slice protocol;  /* "SIP" */
	struct slice version;   /* "2.0" */
	struct slice transport; /* "TLS", "TCP", "UDP", ... as written */
	struct slice host;      /* sent-by host; IPv6 without brackets */
	enum sip_host_kind host_kind;
	unsigned port;          /* 0 when absent */
	struct slice params;    /* everything after the first ';' */
	struct slice branch, received, maddr, ttl;
	bool has_rport;         /* ";rport" or ";rport=N" */
	struct slice rport;     /* the value when given */
};

/* Parses one Via element (already split at commas, see sip_list_next). 0 or -SIP_E_VIA.
 * LWS (including folded CRLF WSP) is allowed around '/', ';', '=' and before sent-by. */
int sip_via_parse(struct slice one, struct sip_via *v);

/* The branch parameter of one Via element, without parsing the rest: a lookup for the response
 * path, where the branch is authenticated by its own token (core/proxy.c). Whenever
 * sip_via_parse accepts `one`, this gives the same branch (empty when there is none, the last
 * one when repeated). It checks only the parameter list (RFC 3261 25.1 via-params: no empty
 * parameter, token names, a token branch), so it may find a branch in an element whose
 * sent-protocol or sent-by sip_via_parse would refuse. 0 or -SIP_E_VIA (*branch empty). */
int sip_via_branch(struct slice one, struct slice *branch);

/* The first element of the first Via header of m. 0, -SIP_E_MISSING or -SIP_E_VIA. */
int sip_via_top(const struct sip_msg *m, struct sip_via *v);

#endif
