/* sip_reply: responses the proxy builds itself from a request (RFC 3261 8.2.6): 100 Trying,
 * 200 for OPTIONS to the proxy, and the errors 400/404/408/483/503/513. */
#ifndef SIPTLS_SIP_REPLY_H
#define SIPTLS_SIP_REPLY_H

#include <stddef.h>

#include "core/slice.h"
#include "sip/err.h"
#include "sip/msg.h"

/* the RFC 3261 reason phrase of a code ("Not Found"), or "Unknown" */
struct slice sip_reply_reason(unsigned code);

/* Writes a response with code to out[0..cap): status line, all Via fields in order, From,
 * To (with ";tag=<to_tag>" added when the request's To had none and code > 100), Call-ID,
 * CSeq, any extra header lines given in extra (each ending in CRLF, may be empty), and
 * "Content-Length: 0". Returns the length or -SIP_E_NOSPACE; -SIP_E_MISSING when the request
 * lacks Via, From, To, Call-ID or CSeq (a response cannot then be matched). */
int sip_reply_build(const struct sip_msg *req, unsigned code, struct slice to_tag,
		    struct slice extra, char *out, size_t cap);

#endif
