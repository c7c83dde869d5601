/* sip_via: one Via element (RFC 3261 20.42, 25.1 via-parm; RFC 3581 rport; RFC 5118 4.5).
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 * SLASH, COLON, SEMI and EQUAL allow LWS on both sides; the scanner leaves folded lines
 * (CRLF + WSP) inside values, so LWS here is any run of SP, HT, CR and LF. */
#include "sip/via.h"

#include <string.h>

#include "sip/chars.h"
#include "sip/msg.h"

static bool via_lws(char c)
{
	return sip_is_lws((unsigned char)c);
}

static void via_skip_lws(struct slice s, size_t *i)
{
	while (*i < s.n && via_lws(s.p[*i]))
		(*i)++;
}

static bool via_is_token(struct slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!sip_is_token((unsigned char)s.p[i]))
			return false;
	return s.n > 0;
}

static bool via_take_token(struct slice s, size_t *i, struct slice *out)
{
	size_t start = *i;
	while (*i < s.n && sip_is_token((unsigned char)s.p[*i]))
		(*i)++;
	*out = slice_sub(s, start, *i);
	return *i > start;
}

/* SLASH = SWS "/" SWS */
static bool via_take_sep(struct slice s, size_t *i, char sep)
{
	via_skip_lws(s, i);
	if (*i == s.n || s.p[*i] != sep)
		return false;
	(*i)++;
	via_skip_lws(s, i);
	return true;
}

static bool via_port(struct slice s, unsigned *port)
{
	unsigned long long v;
	if (!slice_to_u64(s, 65535, &v) || v == 0)
		return false;
	*port = (unsigned)v;
	return true;
}

/* host = hostname / IPv4address / IPv6reference; sets *kind, false when none fits */
static bool via_host_kind(struct slice h, bool bracketed, enum sip_host_kind *kind)
{
	if (bracketed)
		*kind = sip_host_is_ipv6(h) ? SIP_HOST_IPV6 : SIP_HOST_NONE;
	else if (sip_host_is_ipv4(h))
		*kind = SIP_HOST_IPV4;
	else
		*kind = sip_host_is_name(h) ? SIP_HOST_NAME : SIP_HOST_NONE;
	return *kind != SIP_HOST_NONE;
}

/* sent-by = host [ COLON port ] */
static int via_sent_by(struct slice s, size_t *i, struct sip_via *v)
{
	size_t start = *i, end;
	bool bracketed = *i < s.n && s.p[*i] == '[';
	if (bracketed) {
		end = start + slice_find(slice_sub(s, start, s.n), ']');
		if (end == s.n)
			return -SIP_E_VIA;
		v->host = slice_sub(s, start + 1, end);
		*i = end + 1;
	} else {
		/* hostname and IPv4 characters are all token characters; ':' ends the host */
		while (*i < s.n && sip_is_token((unsigned char)s.p[*i]))
			(*i)++;
		v->host = slice_sub(s, start, *i);
	}
	if (!via_host_kind(v->host, bracketed, &v->host_kind))
		return -SIP_E_VIA;
	size_t after = *i;
	if (!via_take_sep(s, i, ':')) {
		*i = after; /* no port: leave the LWS for the caller */
		return 0;
	}
	start = *i;
	while (*i < s.n && (unsigned char)(s.p[*i] - '0') < 10u)
		(*i)++;
	return via_port(slice_sub(s, start, *i), &v->port) ? 0 : -SIP_E_VIA;
}

/* length of the quoted-string at the start of s (RFC 3261 25.1), 0 when it is not one:
 * qdtext is LWS, %x21, %x23-5B, %x5D-7E or UTF8-NONASCII; quoted-pair excludes CR and LF */
static size_t via_qstring(struct slice s)
{
	if (s.n < 2 || s.p[0] != '"')
		return 0;
	for (size_t i = 1; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (++i == s.n || s.p[i] == '\r' || s.p[i] == '\n')
				return 0;
		} else if (c == '\r') {
			/* a fold: CRLF then SP or HT */
			if (s.n - i < 3 || s.p[i + 1] != '\n' ||
			    (s.p[i + 2] != ' ' && s.p[i + 2] != '\t'))
				return 0;
			i += 2;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return 0;
		}
	}
	return 0;
}

/* gen-value = token / host / quoted-string */
static bool via_gen_value(struct slice v)
{
	if (v.n && v.p[0] == '"')
		return via_qstring(v) == v.n;
	for (size_t i = 0; i < v.n; i++)
		if (!sip_is_token((unsigned char)v.p[i]) && v.p[i] != ':' && v.p[i] != '[' &&
		    v.p[i] != ']')
			return false;
	return v.n > 0;
}

/* received = IPv4address / IPv6address (RFC 3261 20.42); RFC 5118 4.5 shows IPv6 also
 * written as a reference in brackets, which is accepted and kept as written. */
static bool via_received_ok(struct slice r)
{
	if (r.n >= 2 && r.p[0] == '[' && r.p[r.n - 1] == ']')
		return sip_host_is_ipv6(slice_sub(r, 1, r.n - 1));
	return sip_host_is_ipv4(r) || sip_host_is_ipv6(r);
}

/* maddr = host */
static bool via_maddr_ok(struct slice m)
{
	enum sip_host_kind k;
	if (m.n >= 2 && m.p[0] == '[' && m.p[m.n - 1] == ']')
		return via_host_kind(slice_sub(m, 1, m.n - 1), true, &k);
	return via_host_kind(m, false, &k);
}

/* checks and records one via-params element */
static bool via_param(struct sip_via *v, struct slice name, struct slice val)
{
	unsigned long long n;
	unsigned port;
	if (!via_is_token(name) || (val.p && !via_gen_value(val)))
		return false;
	if (slice_case_eq(name, SLICE_LIT("branch"))) {
		v->branch = val;
		return via_is_token(val);
	}
	if (slice_case_eq(name, SLICE_LIT("received"))) {
		v->received = val;
		return via_received_ok(val);
	}
	if (slice_case_eq(name, SLICE_LIT("maddr"))) {
		v->maddr = val;
		return via_maddr_ok(val);
	}
	if (slice_case_eq(name, SLICE_LIT("ttl"))) {
		v->ttl = val;
		return val.n <= 3 && slice_to_u64(val, 255, &n); /* ttl = 1*3DIGIT, 0..255 */
	}
	if (slice_case_eq(name, SLICE_LIT("rport"))) {
		/* response-port = "rport" [ EQUAL 1*DIGIT ] (RFC 3581 3) */
		v->has_rport = true;
		v->rport = val;
		return val.p == NULL || via_port(val, &port);
	}
	return true;
}

static int via_params(struct sip_via *v)
{
	struct slice rest = v->params, name, val;
	/* "host;", "host;;x" and "...;x=1;" hold an empty parameter: RFC 4475 3.1.2.1 */
	if (rest.n == 0 || rest.p[0] == ';' || rest.p[rest.n - 1] == ';')
		return -SIP_E_VIA;
	while (sip_param_next(&rest, &name, &val) > 0)
		if (!via_param(v, name, val))
			return -SIP_E_VIA;
	return 0;
}

static int via_parse_fields(struct slice s, struct sip_via *v)
{
	size_t i = 0;
	if (!via_take_token(s, &i, &v->protocol) || !via_take_sep(s, &i, '/') ||
	    !via_take_token(s, &i, &v->version) || !via_take_sep(s, &i, '/') ||
	    !via_take_token(s, &i, &v->transport))
		return -SIP_E_VIA;
	size_t before = i;
	via_skip_lws(s, &i);
	if (i == before)
		return -SIP_E_VIA; /* sent-protocol LWS sent-by: the LWS is required */
	int rc = via_sent_by(s, &i, v);
	if (rc < 0)
		return rc;
	via_skip_lws(s, &i);
	if (i == s.n)
		return 0;
	if (s.p[i] != ';')
		return -SIP_E_VIA;
	v->params = slice_trim(slice_sub(s, i + 1, s.n));
	return via_params(v);
}

int sip_via_parse(struct slice one, struct sip_via *v)
{
	*v = (struct sip_via){0};
	int rc = via_parse_fields(slice_trim(one), v);
	if (rc < 0)
		*v = (struct sip_via){0};
	return rc;
}

/* The params start at the element's first ';': sent-protocol and sent-by hold none (tokens,
 * digits, an IPv6 reference), so this is where via_parse_fields finds them too. */
static int via_branch_of(struct slice one, struct slice *branch)
{
	struct slice s = slice_trim(one), name, val;
	const char *semi = s.n ? memchr(s.p, ';', s.n) : NULL;
	if (semi == NULL)
		return 0;
	struct slice rest = slice_trim(slice_sub(s, (size_t)(semi - s.p) + 1, s.n));
	if (rest.n == 0 || rest.p[0] == ';' || rest.p[rest.n - 1] == ';')
		return -SIP_E_VIA; /* an empty parameter, as in via_params */
	while (sip_param_next(&rest, &name, &val) > 0) {
		if (!via_is_token(name))
			return -SIP_E_VIA;
		if (slice_case_eq(name, SLICE_LIT("branch"))) {
			if (!via_is_token(val))
				return -SIP_E_VIA;
			*branch = val; /* the last one wins, as in via_param */
		}
	}
	return 0;
}

int sip_via_branch(struct slice one, struct slice *branch)
{
	*branch = (struct slice){0};
	int rc = via_branch_of(one, branch);
	if (rc < 0)
		*branch = (struct slice){0};
	return rc;
}

int sip_via_top(const struct sip_msg *m, struct sip_via *v)
{
	const struct sip_hdr *h = sip_msg_get(m, SIP_H_VIA);
	struct slice rest, one;
	*v = (struct sip_via){0};
	if (h == NULL)
		return -SIP_E_MISSING;
	rest = h->value;
	/* Fast path: a Via value holds no quote or '<' before its first comma in practice, and
	 * then the first element ends at that comma; otherwise the full list walk decides. */
	const char *comma = memchr(rest.p, ',', rest.n);
	size_t n = comma ? (size_t)(comma - rest.p) : rest.n;
	if (!memchr(rest.p, '"', n) && !memchr(rest.p, '<', n))
		return sip_via_parse(slice_trim(slice_make(rest.p, n)), v);
	if (sip_list_next(&rest, &one) <= 0)
		return -SIP_E_VIA;
	return sip_via_parse(one, v);
}
