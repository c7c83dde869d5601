/* sip_scalar: CSeq, Max-Forwards and Expires with their ranges enforced. RFC 4475 3.1.2.4
 * (scalar02) and 3.1.2.5 (scalarlg) send values far beyond them on purpose; slice_to_u64
 * refuses overflow instead of wrapping. */
#include "sip/scalar.h"

#include "sip/chars.h"

static bool scalar_lws(char c)
{
	return sip_is_lws((unsigned char)c);
}

/* CSeq = 1*DIGIT LWS Method (RFC 3261 20.16); the number is below 2**31 (8.1.1.5) */
int sip_cseq_parse(struct slice s, struct sip_cseq *c)
{
	unsigned long long seq;
	size_t i = 0, digits, m;
	*c = (struct sip_cseq){0};
	s = slice_trim(s);
	while (i < s.n && (unsigned char)(s.p[i] - '0') < 10u)
		i++;
	digits = i;
	while (i < s.n && scalar_lws(s.p[i]))
		i++;
	m = i;
	while (i < s.n && sip_is_token((unsigned char)s.p[i]))
		i++;
	if (m == digits || i == m || i != s.n ||
	    !slice_to_u64(slice_sub(s, 0, digits), 0x7fffffffu, &seq))
		return -SIP_E_CSEQ;
	c->seq = (uint32_t)seq;
	c->method = slice_sub(s, m, i);
	c->method_id = sip_method_of(c->method);
	return 0;
}

/* Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 20.22) */
int sip_max_forwards_parse(struct slice s, unsigned *out)
{
	unsigned long long v;
	if (!slice_to_u64(slice_trim(s), 255, &v))
		return -SIP_E_MAX_FORWARDS;
	*out = (unsigned)v;
	return 0;
}

/* Expires = delta-seconds, 0..2**32-1 (RFC 3261 20.19) */
int sip_expires_parse(struct slice s, uint32_t *out)
{
	unsigned long long v;
	if (!slice_to_u64(slice_trim(s), 0xffffffffu, &v))
		return -SIP_E_HEADER;
	*out = (uint32_t)v;
	return 0;
}
