#include "sip/err.h"

#include <stddef.h>

static const char *const sip_err_text[SIP_E__COUNT] = {
	[SIP_E_OK] = "no error",
	[SIP_E_TOO_BIG] = "message larger than the limit",
	[SIP_E_TOO_MANY_HEADERS] = "too many header fields",
	[SIP_E_LINE_TOO_LONG] = "line longer than the limit",
	[SIP_E_START_LINE] = "malformed request or status line",
	[SIP_E_VERSION] = "unsupported SIP version",
	[SIP_E_EOL] = "line not ended by CRLF (bare CR, LF or NUL)",
	[SIP_E_HEADER] = "malformed header field",
	[SIP_E_NO_CLEN] = "Content-Length missing (mandatory on stream transports)",
	[SIP_E_CLEN] = "malformed or conflicting Content-Length",
	[SIP_E_URI] = "malformed URI",
	[SIP_E_VIA] = "malformed Via",
	[SIP_E_ADDR] = "malformed name-addr or addr-spec",
	[SIP_E_CSEQ] = "malformed or out-of-range CSeq",
	[SIP_E_MAX_FORWARDS] = "Max-Forwards not in 0..255",
	[SIP_E_MISMATCH] = "CSeq method does not match the request method",
	[SIP_E_NOSPACE] = "output space exhausted",
	[SIP_E_MISSING] = "required header missing",
};

const char *sip_err_str(int err)
{
	if (err < 0)
		err = -err;
	if (err >= SIP_E__COUNT || sip_err_text[err] == NULL)
		return "unknown error";
	return sip_err_text[err];
}
