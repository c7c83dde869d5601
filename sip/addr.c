/* sip_addr: name-addr / addr-spec (RFC 3261 20.10, 25.1) as views.
 *
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *( token LWS ) / quoted-string
 *   from-spec    = ( name-addr / addr-spec ) *( SEMI from-param )
 * The URI is checked for shape only (a scheme, then characters a URI may hold): From and To
 * may carry any absoluteURI (RFC 4475 3.3.4), so sip_uri_parse is the caller's call. */
#include "sip/addr.h"

#include "sip/chars.h"
#include "sip/uri.h"

static bool addr_lws(char c)
{
	return sip_is_lws((unsigned char)c);
}

static bool addr_is_token(struct slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!sip_is_token((unsigned char)s.p[i]))
			return false;
	return s.n > 0;
}

/* bytes in a UTF-8 sequence led by c, per RFC 3261 25.1 UTF8-NONASCII (%xC0-FD); 0: not a lead */
static size_t addr_utf8_len(unsigned char c)
{
	if (c >= 0xc0 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	if (c >= 0xf8 && c <= 0xfb)
		return 5;
	return c >= 0xfc && c <= 0xfd ? 6 : 0;
}

/* length of one qdtext unit at s.p[i] (RFC 3261 25.1): LWS (a fold is CRLF + WSP),
 * %x21 / %x23-5B / %x5D-7E, or one UTF8-NONASCII character; 0 when none fits */
static size_t addr_qdtext(struct slice s, size_t i)
{
	unsigned char c = (unsigned char)s.p[i];
	if (c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'))
		return 1;
	if (c == '\r') {
		bool fold =
		    s.n - i >= 3 && s.p[i + 1] == '\n' && (s.p[i + 2] == ' ' || s.p[i + 2] == '\t');
		return fold ? 3 : 0;
	}
	size_t len = addr_utf8_len(c);
	if (len == 0 || s.n - i < len)
		return 0;
	for (size_t k = 1; k < len; k++)
		if (((unsigned char)s.p[i + k] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* length of the quoted-string at the start of s, 0 when it is not one (unterminated: RFC 4475
 * 3.1.2.6). quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): any ASCII but CR and LF. */
static size_t addr_qstring(struct slice s)
{
	if (s.n < 2 || s.p[0] != '"')
		return 0;
	for (size_t i = 1; i < s.n;) {
		unsigned char c = (unsigned char)s.p[i];
		size_t len;
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (s.n - i < 2 || s.p[i + 1] == '\r' || s.p[i + 1] == '\n' ||
			    (unsigned char)s.p[i + 1] > 0x7f)
				return 0;
			i += 2;
		} else if ((len = addr_qdtext(s, i)) != 0) {
			i += len;
		} else {
			return 0;
		}
	}
	return 0;
}

/* gen-value = token / host / quoted-string */
static bool addr_gen_value(struct slice v)
{
	if (v.n && v.p[0] == '"')
		return addr_qstring(v) == v.n;
	for (size_t i = 0; i < v.n; i++)
		if (!sip_is_token((unsigned char)v.p[i]) && v.p[i] != ':' && v.p[i] != '[' &&
		    v.p[i] != ']')
			return false;
	return v.n > 0;
}

/* The shape of a URI: scheme ":" then printable ASCII that is not a delimiter of this header
 * syntax (no LWS, '<', '>', '"'). Its own grammar is checked by whoever knows the scheme. */
static bool addr_uri_ok(struct slice u)
{
	size_t i = 0;
	if (u.n == 0 || !sip_is_alpha((unsigned char)u.p[0]))
		return false;
	while (i < u.n && (sip_is_alpha((unsigned char)u.p[i]) || sip_is_digit((unsigned char)u.p[i]) ||
	                   u.p[i] == '+' || u.p[i] == '-' || u.p[i] == '.'))
		i++;
	if (i == u.n || u.p[i] != ':' || i + 1 == u.n)
		return false;
	for (; i < u.n; i++) {
		unsigned char c = (unsigned char)u.p[i];
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
			return false;
	}
	return true;
}

/* *( SEMI generic-param ): every name a token, every value a gen-value, no empty element
 * (RFC 4475 3.1.2.1); a tag must be a token (RFC 3261 25.1 tag-param). */
static int addr_params(struct sip_addr *a)
{
	struct slice rest = a->params, name, val;
	if (rest.n == 0 || rest.p[0] == ';' || rest.p[rest.n - 1] == ';')
		return -SIP_E_ADDR;
	while (sip_param_next(&rest, &name, &val) > 0) {
		if (!addr_is_token(name) || (val.p && !addr_gen_value(val)))
			return -SIP_E_ADDR;
		if (slice_case_eq(name, SLICE_LIT("tag"))) {
			if (a->tag.p || !addr_is_token(val))
				return -SIP_E_ADDR; /* twice, bare or quoted */
			a->tag = val;
		}
	}
	return 0;
}

/* after the URI: nothing, or SEMI and parameters */
static int addr_tail(struct slice s, size_t i, struct sip_addr *a)
{
	while (i < s.n && addr_lws(s.p[i]))
		i++;
	if (i == s.n)
		return 0;
	if (s.p[i] != ';')
		return -SIP_E_ADDR;
	a->params = slice_trim(slice_sub(s, i + 1, s.n));
	return addr_params(a);
}

/* LAQUOT addr-spec RAQUOT, '<' at s.p[i]; no LWS inside the brackets */
static int addr_name_addr(struct slice s, size_t i, struct sip_addr *a)
{
	/* s.p[i] is the '<', so s.p is not NULL (slice_sub's NULL case cannot arise) */
	size_t close = i + 1 + slice_find(slice_make(s.p + i + 1, s.n - i - 1), '>');
	if (close == s.n)
		return -SIP_E_ADDR; /* unterminated '<' */
	a->angle = true;
	a->uri = slice_sub(s, i + 1, close);
	if (!addr_uri_ok(a->uri))
		return -SIP_E_ADDR;
	return addr_tail(s, close + 1, a);
}

/* addr-spec: the URI runs to the first ';', which starts the header parameters. A URI with
 * ',', '?' or ';' must be written as name-addr (RFC 3261 20.10; RFC 4475 3.1.2.13 regbadct). */
static int addr_spec(struct slice s, struct sip_addr *a)
{
	size_t semi = slice_find(s, ';');
	a->uri = slice_trim(slice_sub(s, 0, semi));
	if (!addr_uri_ok(a->uri) || slice_find(a->uri, '?') < a->uri.n ||
	    slice_find(a->uri, ',') < a->uri.n)
		return -SIP_E_ADDR;
	return addr_tail(s, (size_t)(a->uri.p + a->uri.n - s.p), a);
}

/* display-name = *( token LWS ) / quoted-string, then '<'. Returns the index of '<', or s.n
 * when s does not start like a name-addr (then it must be an addr-spec). */
static size_t addr_display(struct slice s, struct sip_addr *a)
{
	size_t i = 0, end = 0;
	if (s.p[0] == '"') {
		/* an unterminated or bad quoted string fails as an addr-spec too */
		end = addr_qstring(s);
		if (end == 0)
			return s.n;
		i = end;
		while (i < s.n && addr_lws(s.p[i]))
			i++;
	} else {
		for (;;) {
			size_t word = i;
			while (i < s.n && sip_is_token((unsigned char)s.p[i]))
				i++;
			if (i == word)
				break;
			end = i;
			while (i < s.n && addr_lws(s.p[i]))
				i++;
		}
	}
	if (i == s.n || s.p[i] != '<')
		return s.n;
	a->display = slice_sub(s, 0, end);
	return i;
}

static int addr_parse_fields(struct slice s, struct sip_addr *a)
{
	if (s.n == 0)
		return -SIP_E_ADDR;
	if (s.n == 1 && s.p[0] == '*') {
		a->star = true; /* Contact: * (RFC 3261 10.2.2, 20.10) */
		return 0;
	}
	size_t lt = addr_display(s, a);
	/* a display name of non-token characters (RFC 4475 3.1.2.15 baddn) or an unterminated
	 * quote falls through here and fails as an addr-spec: it holds LWS, '<' or '"' */
	return lt < s.n ? addr_name_addr(s, lt, a) : addr_spec(s, a);
}

int sip_addr_parse(struct slice s, struct sip_addr *a)
{
	*a = (struct sip_addr){0};
	int rc = addr_parse_fields(slice_trim(s), a);
	if (rc < 0)
		*a = (struct sip_addr){0};
	return rc;
}
