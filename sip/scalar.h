/* sip_scalar: numeric header fields (RFC 3261 20.16 CSeq, 20.22 Max-Forwards, 20.19 Expires)
 * parsed with their ranges enforced: RFC 4475 3.1.2.4/5 send overlarge values on purpose. */
#ifndef SIPTLS_SIP_SCALAR_H
#define SIPTLS_SIP_SCALAR_H

#include <stdint.h>

#include "core/slice.h"
#include "sip/err.h"
#include "sip/msg.h"

struct sip_cseq {
	uint32_t seq; /* < 2**31 (RFC 3261 8.1.1.5) */
	struct slice method;
	enum sip_method method_id;
};

/* "4711 INVITE" -> 0 or -SIP_E_CSEQ */
int sip_cseq_parse(struct slice s, struct sip_cseq *c);
/* 0..255 -> 0 or -SIP_E_MAX_FORWARDS */
int sip_max_forwards_parse(struct slice s, unsigned *out);
/* delta-seconds, 0..2**32-1 -> 0 or -SIP_E_HEADER */
int sip_expires_parse(struct slice s, uint32_t *out);

#endif
