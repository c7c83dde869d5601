/* sip_uri: SIP, SIPS and tel URIs as views (RFC 3261 19.1, 25.1; RFC 3966), and the
 * ";name=value" parameter lists shared by URIs and header fields.
 *
 * Everything is checked against the ABNF of RFC 3261 25.1 (hosts as corrected by RFC 5954)
 * but nothing is unescaped: %HH stays as written, callers compare per RFC 3261 19.1.4. */
#include "sip/uri.h"

#include "sip/chars.h"

/* ---- character classes (RFC 3261 25.1) ---- */

static bool uri_in(unsigned char c, const char *set)
{
	return c != 0 && strchr(set, c) != NULL;
}

/* the extra characters each part may hold besides unreserved and escaped */
#define URI_USER "&=+$,;?/"  /* user-unreserved */
#define URI_PASSWORD "&=+$," /* password */
#define URI_PARAM "[]/:&+$"  /* param-unreserved */
#define URI_HEADER "[]/?:+$" /* hnv-unreserved */

/* s is non-empty and made only of unreserved, extra and %HH escapes */
static bool uri_run_ok(struct slice s, const char *extra)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			if (s.n - i < 3 || !sip_is_hex((unsigned char)s.p[i + 1]) ||
			    !sip_is_hex((unsigned char)s.p[i + 2]))
				return false;
			i += 2;
		} else if (!sip_is_unreserved(c) && !uri_in(c, extra)) {
			return false;
		}
	}
	return true;
}

/* no SP, no control, no 8-bit byte: a URI is printable ASCII (RFC 3261 25.1, RFC 3986 2) */
static bool uri_visible(struct slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)(s.p[i] - 0x21) > 0x7e - 0x21)
			return false;
	return true;
}

/* index of the first of c1, c2 in s at or after from, or s.n */
static size_t uri_find2(struct slice s, size_t from, char c1, char c2)
{
	while (from < s.n && s.p[from] != c1 && s.p[from] != c2)
		from++;
	return from;
}

/* ---- hosts ---- */

/* dec-octet of RFC 5954 (RFC 3986 3.2.2): 0..255 without leading zeros */
static bool uri_dec_octet(struct slice s)
{
	unsigned long long v;
	if (s.n == 0 || s.n > 3 || (s.n > 1 && s.p[0] == '0'))
		return false;
	return slice_to_u64(s, 255, &v);
}

bool sip_host_is_ipv4(struct slice h)
{
	size_t i = 0;
	for (int k = 0; k < 4; k++) {
		size_t end = uri_find2(h, i, '.', '.');
		if (!uri_dec_octet(slice_sub(h, i, end)) || (k < 3) != (end < h.n))
			return false;
		i = end + 1;
	}
	return true;
}

/* IPv6address of RFC 3986 3.2.2 (RFC 5954 replaces RFC 3261's): eight 16-bit groups, one
 * "::" standing for at least one zero group, an IPv4 tail counting as two. */
bool sip_host_is_ipv6(struct slice h)
{
	size_t i = 0, groups = 0;
	bool gap = false;
	if (h.n < 2)
		return false;
	if (h.p[0] == ':') {
		if (h.p[1] != ':')
			return false;
		gap = true;
		i = 2;
	}
	while (i < h.n) {
		size_t start = i;
		while (i < h.n && i - start < 5 && sip_is_hex((unsigned char)h.p[i]))
			i++;
		if (i < h.n && h.p[i] == '.') {
			if (!sip_host_is_ipv4(slice_sub(h, start, h.n)))
				return false;
			groups += 2;
			break;
		}
		if (i == start || i - start > 4)
			return false;
		groups++;
		if (i == h.n)
			break;
		if (h.p[i] != ':' || ++i == h.n)
			return false; /* a stray character, or a single trailing ':' */
		if (h.p[i] == ':') {
			if (gap)
				return false; /* two "::", or ":::" (RFC 5118 4.9) */
			gap = true;
			i++;
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

/* one domainlabel / toplabel: alphanum, inner '-' allowed */
static bool uri_label_ok(struct slice l)
{
	if (l.n == 0 || !sip_is_alnum((unsigned char)l.p[0]) ||
	    !sip_is_alnum((unsigned char)l.p[l.n - 1]))
		return false;
	for (size_t i = 1; i + 1 < l.n; i++)
		if (!sip_is_alnum((unsigned char)l.p[i]) && l.p[i] != '-')
			return false;
	return true;
}

/* hostname = *( domainlabel "." ) toplabel [ "." ]; toplabel starts with ALPHA, which is what
 * keeps "192.0.2.300" from passing as a name (RFC 3261 25.1). */
bool sip_host_is_name(struct slice h)
{
	size_t i = 0, last = 0;
	if (h.n && h.p[h.n - 1] == '.')
		h.n--;
	if (h.n == 0 || h.n > 255)
		return false;
	while (i <= h.n) {
		size_t end = uri_find2(h, i, '.', '.');
		if (!uri_label_ok(slice_sub(h, i, end)))
			return false;
		last = i;
		i = end + 1;
	}
	return sip_is_alpha((unsigned char)h.p[last]);
}

/* port = 1*DIGIT in 1..65535; ":0" and an empty port are refused (0 means "absent") */
static bool uri_port(struct slice s, unsigned *port)
{
	unsigned long long v;
	if (!slice_to_u64(s, 65535, &v) || v == 0)
		return false;
	*port = (unsigned)v;
	return true;
}

/* hostport = host [ ":" port ], host = hostname / IPv4address / IPv6reference */
static int uri_hostport(struct slice s, struct sip_uri *u)
{
	size_t i;
	if (s.n && s.p[0] == '[') {
		i = slice_find(s, ']');
		if (i == s.n || !sip_host_is_ipv6(slice_sub(s, 1, i)))
			return -SIP_E_URI;
		u->host = slice_sub(s, 1, i);
		u->host_kind = SIP_HOST_IPV6;
		i++;
	} else {
		i = slice_find(s, ':');
		u->host = slice_sub(s, 0, i);
		if (sip_host_is_ipv4(u->host))
			u->host_kind = SIP_HOST_IPV4;
		else if (sip_host_is_name(u->host))
			u->host_kind = SIP_HOST_NAME;
		else
			return -SIP_E_URI; /* also an empty host, or an IPv6 address without [] */
	}
	if (i == s.n)
		return 0;
	if (s.p[i] != ':' || !uri_port(slice_sub(s, i + 1, s.n), &u->port))
		return -SIP_E_URI;
	return 0;
}

/* ---- parameters and headers inside a URI ---- */

/* uri-parameters: pname [ "=" pvalue ], both 1*paramchar; no empty element, no LWS */
static bool uri_params_ok(struct slice s)
{
	size_t i = 0;
	for (;;) {
		size_t end = uri_find2(s, i, ';', ';');
		struct slice el = slice_sub(s, i, end);
		size_t eq = slice_find(el, '=');
		if (!uri_run_ok(slice_sub(el, 0, eq), URI_PARAM))
			return false;
		if (eq < el.n && !uri_run_ok(slice_sub(el, eq + 1, el.n), URI_PARAM))
			return false;
		if (end == s.n)
			return true;
		i = end + 1;
	}
}

/* headers = header *( "&" header ), header = hname "=" hvalue, hvalue may be empty */
static bool uri_headers_ok(struct slice s)
{
	size_t i = 0;
	for (;;) {
		size_t end = uri_find2(s, i, '&', '&');
		struct slice el = slice_sub(s, i, end);
		size_t eq = slice_find(el, '=');
		struct slice value = eq < el.n ? slice_sub(el, eq + 1, el.n) : el;
		if (eq == el.n || !uri_run_ok(slice_sub(el, 0, eq), URI_HEADER) ||
		    (value.n && !uri_run_ok(value, URI_HEADER)))
			return false;
		if (end == s.n)
			return true;
		i = end + 1;
	}
}

/* ---- schemes ---- */

/* SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ] (RFC 3261 19.1.1).
 * The user part may hold ';' and '?' (user-unreserved) but never '@', while nothing after
 * the host may hold '@': so the first '@' ends the userinfo (RFC 4475 3.1.1.2, 3.1.1.9). */
static int uri_sip(struct slice s, struct sip_uri *u)
{
	size_t at = slice_find(s, '@');
	if (at < s.n) {
		struct slice info = slice_sub(s, 0, at);
		size_t colon = slice_find(info, ':');
		u->user = slice_sub(info, 0, colon);
		if (!uri_run_ok(u->user, URI_USER))
			return -SIP_E_URI;
		if (colon < info.n) {
			u->password = slice_sub(info, colon + 1, info.n);
			if (u->password.n && !uri_run_ok(u->password, URI_PASSWORD))
				return -SIP_E_URI;
		}
		s = slice_sub(s, at + 1, s.n);
	}
	size_t end = uri_find2(s, 0, ';', '?');
	int rc = uri_hostport(slice_sub(s, 0, end), u);
	if (rc < 0)
		return rc;
	if (end < s.n && s.p[end] == ';') {
		size_t q = uri_find2(s, end + 1, '?', '?');
		u->params = slice_sub(s, end + 1, q);
		if (!uri_params_ok(u->params))
			return -SIP_E_URI;
		end = q;
	}
	if (end < s.n) {
		u->headers = slice_sub(s, end + 1, s.n);
		if (!uri_headers_ok(u->headers))
			return -SIP_E_URI;
	}
	return 0;
}

/* telephone-subscriber (RFC 3966 3): "+" digits with visual separators, or a local number of
 * hex digits, '*' and '#'; a local number needs phone-context, which is left to the caller. */
static bool uri_tel_number(struct slice s)
{
	bool global = s.n && s.p[0] == '+';
	size_t digits = 0;
	for (size_t i = global; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (global ? sip_is_digit(c) : (sip_is_hex(c) || c == '*' || c == '#'))
			digits++;
		else if (!uri_in(c, "-.()"))
			return false;
	}
	return digits > 0;
}

/* telephone-uri = "tel:" telephone-subscriber *par (RFC 3966 3); tel has no '?' headers */
static int uri_tel(struct slice s, struct sip_uri *u)
{
	size_t semi = slice_find(s, ';');
	u->user = slice_sub(s, 0, semi);
	if (!uri_tel_number(u->user))
		return -SIP_E_URI;
	if (semi < s.n) {
		u->params = slice_sub(s, semi + 1, s.n);
		if (!uri_params_ok(u->params))
			return -SIP_E_URI;
	}
	return 0;
}

int sip_uri_parse(struct slice s, struct sip_uri *u)
{
	*u = (struct sip_uri){0};
	size_t colon = slice_find(s, ':');
	if (colon == s.n || !uri_visible(s))
		return -SIP_E_URI;
	struct slice scheme = slice_sub(s, 0, colon), rest = slice_sub(s, colon + 1, s.n);
	/* schemes are case-insensitive (RFC 3261 19.1.4) */
	if (slice_case_eq(scheme, SLICE_LIT("sip")))
		u->scheme = SIP_SCHEME_SIP;
	else if (slice_case_eq(scheme, SLICE_LIT("sips")))
		u->scheme = SIP_SCHEME_SIPS;
	else if (slice_case_eq(scheme, SLICE_LIT("tel")))
		u->scheme = SIP_SCHEME_TEL;
	else
		return -SIP_E_URI;
	int rc = u->scheme == SIP_SCHEME_TEL ? uri_tel(rest, u) : uri_sip(rest, u);
	if (rc < 0) {
		*u = (struct sip_uri){0};
		return rc;
	}
	return 0;
}

/* ---- parameter lists: URIs and header fields ---- */

/* end of a parameter value starting at i: the next ';' outside a "quoted string" (with
 * \-escapes), or s.n when an opening quote is never closed */
static size_t uri_value_end(struct slice s, size_t i)
{
	bool quoted = false;
	for (; i < s.n; i++) {
		if (quoted && s.p[i] == '\\' && i + 1 < s.n)
			i++;
		else if (s.p[i] == '"')
			quoted = !quoted;
		else if (!quoted && s.p[i] == ';')
			break;
	}
	return i;
}

/* Header params allow LWS around ';' and '=' (RFC 3261 25.1 SEMI, EQUAL); URI params have
 * none, so one walker serves both. An empty element (";;") comes back with an empty name so
 * that strict callers can refuse it (RFC 4475 3.1.2.1); a quoted value keeps its quotes. */
int sip_param_next(struct slice *rest, struct slice *name, struct slice *value)
{
	struct slice s = slice_trim(*rest);
	if (s.n && s.p[0] == ';')
		s = slice_trim(slice_sub(s, 1, s.n));
	if (s.n == 0) {
		*rest = s;
		return 0;
	}
	size_t i = uri_find2(s, 0, ';', '=');
	*name = slice_trim(slice_sub(s, 0, i));
	*value = (struct slice){NULL, 0};
	if (i < s.n && s.p[i] == '=') {
		size_t end = uri_value_end(s, i + 1);
		*value = slice_trim(slice_sub(s, i + 1, end));
		i = end;
	}
	*rest = slice_sub(s, i, s.n);
	return 1;
}

bool sip_param_get(struct slice params, struct slice name, struct slice *value)
{
	struct slice n, v;
	while (sip_param_next(&params, &n, &v) > 0) {
		if (n.n && slice_case_eq(n, name)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}
