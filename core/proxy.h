/* core_proxy: what the proxy does with one SIP message (RFC 3261 16), without any I/O.
 *
 * A worker scans a message off a connection and asks this module what to do: answer it
 * locally, forward it (to a dial-peer's target, or over a named connection), or drop it.
 * A forward comes with the edited message as a sip_edit (iovecs over the receive buffer).
 * Keeping these rules free of sockets and TLS makes them testable and fuzzable on their own.
 *
 * Identities the proxy hands out and must recognise later are authenticated (core/mac.h):
 *  - our Via branch: "z9hG4bK-sx-" + token(inbound connection id, bound to the client's
 *    branch). It is the same for a request's retransmissions, its CANCEL and its non-2xx ACK,
 *    as a stateless proxy's must be (RFC 3261 16.11), and a response whose top Via does not
 *    verify is dropped, so a peer cannot steer a response to another connection;
 *  - our Record-Route URI: ";sd=i|o" (which side of us it faces), ";sp=TAG" (the dial-peer
 *    of the call) and ";sc=" + token(inbound connection id, bound to side and dial-peer), so
 *    in-dialog requests go back over the caller's connection or on to the dial-peer's target.
 *    When the two sides are different tenants (listeners) we record-route twice, one entry
 *    facing each side (RFC 5658).
 */
#ifndef SIPTLS_CORE_PROXY_H
#define SIPTLS_CORE_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dialpeer.h"
#include "core/mac.h"
#include "core/slice.h"
#include "sip/edit.h"
#include "sip/msg.h"

struct proxy_tenant {
	uint32_t tag;      /* voice class tenant TAG, for logs and show */
	struct slice host; /* our address or name on this tenant's side: Via sent-by, Record-Route */
	uint16_t port;
	bool sips;         /* url sips: Request-URIs and Record-Route toward this tenant use sips: */
};

struct proxy_target { /* a dial-peer's session target */
	uint32_t tenant;  /* index of the outbound tenant */
	struct slice host;
	uint16_t port;
};

struct proxy_conf {
	struct core_mac_key key;
	const struct proxy_tenant *tenants;
	uint32_t ntenants;
	const struct core_dialpeer *peers; /* each peer's target is a const struct proxy_target * */
	size_t npeers;
};

struct proxy_in { /* where the message came from */
	uint64_t conn;   /* connection id */
	uint32_t tenant; /* index of that connection's tenant */
};

enum proxy_verdict {
	PROXY_DROP = 0, /* nothing is sent; `reason` says why (counted) */
	PROXY_REPLY,    /* answer with `code` on the inbound connection (proxy_reply builds it) */
	PROXY_TO_TARGET,/* forward `edit` to `target` over a pooled upstream connection */
	PROXY_TO_CONN,  /* forward `edit` over connection `conn` */
};

enum proxy_reason {
	PROXY_R_OK = 0,
	PROXY_R_NO_ROUTE,     /* 404 */
	PROXY_R_MAX_FORWARDS, /* 483 */
	PROXY_R_LOOP,         /* 482: the request already carries a Via of ours */
	PROXY_R_MALFORMED,    /* 400 */
	PROXY_R_URI_HEADERS,  /* 400: a Request-URI may not carry headers (RFC 4475 3.1.2.11) */
	PROXY_R_LOCAL,        /* answered here: OPTIONS to the proxy */
	PROXY_R_ACK_NO_ROUTE, /* an ACK nobody can take: absorbed (never answered) */
	PROXY_R_VIA_NOT_OURS, /* response whose top Via is not ours or does not verify */
	PROXY_R_TRYING,       /* a 100 from upstream: hop-by-hop, not forwarded */
	PROXY_R_EDIT,         /* the edit ran out of space: 500 */
	PROXY_R__COUNT
};

#define PROXY_BRANCH_PREFIX "z9hG4bK-sx-"
#define PROXY_BRANCH_LEN (sizeof(PROXY_BRANCH_PREFIX) - 1 + CORE_TOKEN_LEN)

struct proxy_decision {
	enum proxy_verdict verdict;
	enum proxy_reason reason;
	unsigned code;                      /* PROXY_REPLY */
	bool trying;                        /* INVITE forwarded: also answer 100 Trying */
	uint64_t conn;                      /* PROXY_TO_CONN */
	const struct core_dialpeer *peer;   /* PROXY_TO_TARGET */
	const struct proxy_target *target;  /* PROXY_TO_TARGET */
	char branch[PROXY_BRANCH_LEN];      /* our branch, the transaction key: the one a forwarded
					     * request got, or a response's verified top Via */
	struct sip_edit edit;               /* forwards: the message to send */
};

/* Decides what to do with request m that arrived as `in`. Always fills d; returns 0, or a
 * negative code only for a broken configuration (a tenant index out of range). */
int proxy_request(const struct proxy_conf *c, const struct proxy_in *in, const struct sip_msg *m,
		  struct proxy_decision *d);
/* Decides what to do with response m: forward over the connection its Via names (top Via
 * removed), or drop. */
int proxy_response(const struct proxy_conf *c, const struct proxy_in *in, const struct sip_msg *m,
		   struct proxy_decision *d);
/* Builds the local response `code` to req into out (see sip_reply_build); the To tag is derived
 * from the dialog identifiers so a retransmitted request gets the same tag. Length or -err. */
int proxy_reply(const struct proxy_conf *c, const struct sip_msg *req, unsigned code, char *out,
		size_t cap);
/* Is branch one of ours (and, if so, which connection does it name)? client_branch is the
 * branch of the Via below ours. */
bool proxy_branch_check(const struct proxy_conf *c, struct slice branch, struct slice client_branch,
			uint64_t *conn);
const char *proxy_reason_str(enum proxy_reason r);

#endif
