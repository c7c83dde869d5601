/* sip_err: why the SIP layer refused bytes. Functions return 0 (or a length) on success and
 * the negated code on failure, e.g. `return -SIP_E_HEADER;`. */
#ifndef SIPTLS_SIP_ERR_H
#define SIPTLS_SIP_ERR_H

enum sip_err {
	SIP_E_OK = 0,
	SIP_E_TOO_BIG,         /* message larger than the limit: answer 513, then close */
	SIP_E_TOO_MANY_HEADERS,/* more header lines than the limit or the caller's array */
	SIP_E_LINE_TOO_LONG,   /* one line longer than the limit */
	SIP_E_START_LINE,      /* request or status line is malformed */
	SIP_E_VERSION,         /* SIP-Version is not SIP/2.0 (answer 505) */
	SIP_E_EOL,             /* bare CR or LF, or a NUL not escaped by '\\', in a line */
	SIP_E_HEADER,          /* a header line is malformed (no colon, bad name, fold first) */
	SIP_E_NO_CLEN,         /* no Content-Length: mandatory on streams (RFC 3261 18.3) */
	SIP_E_CLEN,            /* Content-Length not a number, or two that disagree */
	SIP_E_URI,             /* a URI does not parse */
	SIP_E_VIA,             /* a Via value does not parse */
	SIP_E_ADDR,            /* name-addr / addr-spec does not parse */
	SIP_E_CSEQ,            /* CSeq does not parse or is out of range */
	SIP_E_MAX_FORWARDS,    /* Max-Forwards not a number in 0..255 */
	SIP_E_MISMATCH,        /* CSeq method differs from the request method */
	SIP_E_NOSPACE,         /* an output array or scratch buffer is full */
	SIP_E_MISSING,         /* a header the operation needs is absent */
	SIP_E__COUNT
};

/* a short English reason for err (positive or negated); never NULL. */
const char *sip_err_str(int err);

#endif
