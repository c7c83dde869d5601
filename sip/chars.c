#include "sip/chars.h"

#define AL (SIP_CC_ALPHA | SIP_CC_TOKEN | SIP_CC_UNRESERVED)
#define AH (AL | SIP_CC_HEX)
#define DG (SIP_CC_DIGIT | SIP_CC_HEX | SIP_CC_TOKEN | SIP_CC_UNRESERVED)
#define TU (SIP_CC_TOKEN | SIP_CC_UNRESERVED)

const uint8_t sip_cc[256] = {
	['\t'] = SIP_CC_LWS, ['\n'] = SIP_CC_LWS, ['\r'] = SIP_CC_LWS, [' '] = SIP_CC_LWS,
	['0' ... '9'] = DG,
	['a' ... 'f'] = AH, ['g' ... 'z'] = AL,
	['A' ... 'F'] = AH, ['G' ... 'Z'] = AL,
	/* marks that are token characters too */
	['-'] = TU, ['.'] = TU, ['!'] = TU, ['*'] = TU, ['_'] = TU, ['\''] = TU, ['~'] = TU,
	/* token only */
	['%'] = SIP_CC_TOKEN, ['+'] = SIP_CC_TOKEN, ['`'] = SIP_CC_TOKEN,
	/* unreserved only */
	['('] = SIP_CC_UNRESERVED, [')'] = SIP_CC_UNRESERVED,
};
