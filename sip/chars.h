/* sip_chars: the character classes of RFC 3261 25.1, one table lookup each.
 *
 * Every parser in sip/ asks the same questions of each byte (token char? LWS? hex digit?);
 * one 256-entry table answers them all, with no branches and no strchr per byte. */
#ifndef SIPTLS_SIP_CHARS_H
#define SIPTLS_SIP_CHARS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	SIP_CC_ALPHA = 1 << 0,
	SIP_CC_DIGIT = 1 << 1,
	SIP_CC_HEX = 1 << 2,
	SIP_CC_TOKEN = 1 << 3,      /* alphanum / "-" "." "!" "%" "*" "_" "+" "`" "'" "~" */
	SIP_CC_UNRESERVED = 1 << 4, /* alphanum / mark: "-" "_" "." "!" "~" "*" "'" "(" ")" */
	SIP_CC_LWS = 1 << 5,        /* SP HT CR LF: folded values keep their CRLF inside */
};

extern const uint8_t sip_cc[256];

static inline bool sip_cc_is(unsigned char c, unsigned cls)
{
	return (sip_cc[c] & cls) != 0;
}

static inline bool sip_is_token(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_TOKEN);
}

static inline bool sip_is_lws(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_LWS);
}

static inline bool sip_is_alpha(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_ALPHA);
}

static inline bool sip_is_digit(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_DIGIT);
}

static inline bool sip_is_alnum(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_ALPHA | SIP_CC_DIGIT);
}

static inline bool sip_is_hex(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_HEX);
}

static inline bool sip_is_unreserved(unsigned char c)
{
	return sip_cc_is(c, SIP_CC_UNRESERVED);
}

#endif
