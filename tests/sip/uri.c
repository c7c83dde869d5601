/* Tests for sip/uri.c: SIP/SIPS/tel URIs (RFC 3261 19.1, 25.1; RFC 3966), the URIs of the
 * RFC 4475 torture messages and the IPv6 references of RFC 5118, parameter lists, hosts. */
#include <criterion/criterion.h>

#include "tests/support/guard.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sip/uri.h"

static bool eq(struct slice s, const char *lit)
{
	return slice_eq(s, slice_cstr(lit));
}

/* every non-empty view lies inside the input: nothing was copied */
static bool inside(struct slice part, struct slice whole)
{
	return part.n == 0 || (part.p >= whole.p && part.p + part.n <= whole.p + whole.n);
}

static void assert_views_inside(const struct sip_uri *u, struct slice in)
{
	cr_assert(inside(u->user, in));
	cr_assert(inside(u->password, in));
	cr_assert(inside(u->host, in));
	cr_assert(inside(u->params, in));
	cr_assert(inside(u->headers, in));
}

static struct slice parse_ok(const char *lit, struct sip_uri *u)
{
	struct slice in = guarded(lit);
	cr_assert_eq(sip_uri_parse(in, u), 0, "refused %s", lit);
	assert_views_inside(u, in);
	return in;
}

static void parse_bad(const char *lit)
{
	struct sip_uri u;
	cr_expect_eq(sip_uri_parse(guarded(lit), &u), -SIP_E_URI, "accepted %s", lit);
	cr_expect_eq(u.host.n, 0, "left a host after refusing %s", lit);
}

/* ---- RFC 3261 19.1.3 examples ---- */

Test(sip_uri, plain_user_at_host)
{
	struct sip_uri u;
	parse_ok("sip:alice@atlanta.com", &u);
	cr_assert_eq(u.scheme, SIP_SCHEME_SIP);
	cr_assert(eq(u.user, "alice"));
	cr_assert_eq(u.password.n, 0);
	cr_assert(eq(u.host, "atlanta.com"));
	cr_assert_eq(u.host_kind, SIP_HOST_NAME);
	cr_assert_eq(u.port, 0);
	cr_assert_eq(u.params.n, 0);
	cr_assert_eq(u.headers.n, 0);
}

Test(sip_uri, password_and_params)
{
	struct sip_uri u;
	parse_ok("sips:alice:secretword@atlanta.com;transport=tcp", &u);
	cr_assert_eq(u.scheme, SIP_SCHEME_SIPS);
	cr_assert(eq(u.user, "alice"));
	cr_assert(eq(u.password, "secretword"));
	cr_assert(eq(u.host, "atlanta.com"));
	cr_assert(eq(u.params, "transport=tcp"));
}

Test(sip_uri, telephone_subscriber_user)
{
	struct sip_uri u;
	parse_ok("sip:+1-212-555-1212:1234@gateway.com;user=phone", &u);
	cr_assert(eq(u.user, "+1-212-555-1212"));
	cr_assert(eq(u.password, "1234"));
	cr_assert(eq(u.host, "gateway.com"));
	cr_assert(eq(u.params, "user=phone"));
}

Test(sip_uri, ipv4_host)
{
	struct sip_uri u;
	parse_ok("sip:alice@192.0.2.4", &u);
	cr_assert(eq(u.host, "192.0.2.4"));
	cr_assert_eq(u.host_kind, SIP_HOST_IPV4);
}

Test(sip_uri, params_and_headers_without_user)
{
	struct sip_uri u;
	parse_ok("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", &u);
	cr_assert_eq(u.user.n, 0);
	cr_assert(eq(u.host, "atlanta.com"));
	cr_assert(eq(u.params, "method=REGISTER"));
	cr_assert(eq(u.headers, "to=alice%40atlanta.com"));
}

Test(sip_uri, headers_without_params)
{
	struct sip_uri u;
	parse_ok("sips:alice@atlanta.com?subject=project%20x&priority=urgent", &u);
	cr_assert_eq(u.params.n, 0);
	cr_assert(eq(u.headers, "subject=project%20x&priority=urgent"));
}

Test(sip_uri, semicolon_in_user)
{
	struct sip_uri u;
	parse_ok("sip:alice;day=tuesday@atlanta.com", &u);
	cr_assert(eq(u.user, "alice;day=tuesday"));
	cr_assert(eq(u.host, "atlanta.com"));
	cr_assert_eq(u.params.n, 0);
}

Test(sip_uri, scheme_is_case_insensitive_and_port_parsed)
{
	struct sip_uri u;
	parse_ok("SIP:Alice@AtLanTa.CoM:5061", &u);
	cr_assert_eq(u.scheme, SIP_SCHEME_SIP);
	cr_assert(eq(u.host, "AtLanTa.CoM"));
	cr_assert_eq(u.port, 5061);
	parse_ok("SiPs:h.example.com:65535", &u);
	cr_assert_eq(u.scheme, SIP_SCHEME_SIPS);
	cr_assert_eq(u.port, 65535);
	parse_ok("sip:h.example.com:1", &u);
	cr_assert_eq(u.port, 1);
}

Test(sip_uri, fqdn_with_trailing_dot)
{
	struct sip_uri u;
	parse_ok("sip:host.example.com.", &u);
	cr_assert(eq(u.host, "host.example.com."));
	cr_assert_eq(u.host_kind, SIP_HOST_NAME);
}

/* ---- RFC 4475 3.1.1 ---- */

/* 3.1.1.1 wsinv: the Request-URI and the Route URI */
Test(sip_uri, rfc4475_wsinv)
{
	struct sip_uri u;
	parse_ok("sip:vivekg@chair-dnrc.example.com;unknownparam", &u);
	cr_assert(eq(u.user, "vivekg"));
	cr_assert(eq(u.host, "chair-dnrc.example.com"));
	cr_assert(eq(u.params, "unknownparam"));
	parse_ok("sip:services.example.com;lr;unknownwith=value;unknown-no-value", &u);
	cr_assert(eq(u.host, "services.example.com"));
	cr_assert(eq(u.params, "lr;unknownwith=value;unknown-no-value"));
}

/* 3.1.1.2 intmeth: ';', '?', ',' and '/' in the user part, then a password */
Test(sip_uri, rfc4475_intmeth)
{
	struct sip_uri u;
	parse_ok("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_"
	         "too.(doesn't-it)@example.com",
	         &u);
	cr_assert(eq(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
	cr_assert(eq(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
	cr_assert(eq(u.host, "example.com"));
	cr_assert_eq(u.params.n, 0);
	cr_assert_eq(u.headers.n, 0);
	parse_ok("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com", &u);
	cr_assert(eq(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
	cr_assert_eq(u.password.n, 0);
}

/* 3.1.1.3 esc01: escapes stay as written, in the user and in parameter names and values */
Test(sip_uri, rfc4475_esc01)
{
	struct sip_uri u;
	parse_ok("sip:sips%3Auser%40example.com@example.net", &u);
	cr_assert(eq(u.user, "sips%3Auser%40example.com"));
	cr_assert(eq(u.host, "example.net"));
	parse_ok("sip:I%20have%20spaces@example.net", &u);
	cr_assert(eq(u.user, "I%20have%20spaces"));
	parse_ok("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", &u);
	cr_assert(eq(u.user, "cal%6Cer"));
	cr_assert(eq(u.host, "host5.example.net"));
	cr_assert(eq(u.params, "%6C%72;n%61me=v%61lue%25%34%31"));
}

/* 3.1.1.4 escnull: %00 is a valid escape */
Test(sip_uri, rfc4475_escnull)
{
	struct sip_uri u;
	parse_ok("sip:null-%00-null@example.com", &u);
	cr_assert(eq(u.user, "null-%00-null"));
	parse_ok("sip:%00@host5.example.com", &u);
	cr_assert(eq(u.user, "%00"));
	parse_ok("sip:%00%00@host5.example.com", &u);
	cr_assert(eq(u.user, "%00%00"));
}

/* 3.1.1.5 esc02 and 3.1.1.7 longreq */
Test(sip_uri, rfc4475_esc02_and_longreq)
{
	struct sip_uri u;
	parse_ok("sip:registrar.example.com", &u);
	cr_assert(eq(u.host, "registrar.example.com"));
	parse_ok("sip:user@example.com:6000;unknownparam1=verylonglongvalue;unknowparam2=other;"
	         "unknown-no-value",
	         &u);
	cr_assert_eq(u.port, 6000);
	cr_assert(eq(u.params, "unknownparam1=verylonglongvalue;unknowparam2=other;"
	                       "unknown-no-value"));
}

/* 3.1.1.9 semiuri: an escaped '@' inside a user that holds ';' */
Test(sip_uri, rfc4475_semiuri)
{
	struct sip_uri u;
	parse_ok("sip:user;par=u%40example.net@example.com", &u);
	cr_assert(eq(u.user, "user;par=u%40example.net"));
	cr_assert(eq(u.host, "example.com"));
	cr_assert_eq(u.params.n, 0);
}

/* 3.1.2.11 escruri: the URI itself is well formed; a Request-URI may not carry headers
 * (RFC 3261 19.1.1), which the request-line check refuses from u.headers */
Test(sip_uri, rfc4475_escruri_exposes_headers)
{
	struct sip_uri u;
	parse_ok("sip:user@example.com?Route=%3Csip:example.com%3E", &u);
	cr_assert(eq(u.host, "example.com"));
	cr_assert(eq(u.headers, "Route=%3Csip:example.com%3E"));
}

/* ---- RFC 5118 IPv6 ---- */

Test(sip_uri, rfc5118_ipv6_references)
{
	struct sip_uri u;
	parse_ok("sip:[2001:db8::10]", &u); /* 4.1 */
	cr_assert(eq(u.host, "2001:db8::10"));
	cr_assert_eq(u.host_kind, SIP_HOST_IPV6);
	cr_assert_eq(u.port, 0);
	parse_ok("sip:[2001:db8::10:5070]", &u); /* 4.3: the port is part of the address */
	cr_assert(eq(u.host, "2001:db8::10:5070"));
	cr_assert_eq(u.port, 0);
	parse_ok("sip:[2001:db8::10]:5070", &u); /* 4.4 */
	cr_assert(eq(u.host, "2001:db8::10"));
	cr_assert_eq(u.port, 5070);
	parse_ok("sip:caller@[2001:db8::1]", &u);
	cr_assert(eq(u.user, "caller"));
	cr_assert(eq(u.host, "2001:db8::1"));
	parse_ok("sip:caller@[::ffff:192.0.2.10]", &u); /* 4.7 IPv4-mapped */
	cr_assert(eq(u.host, "::ffff:192.0.2.10"));
	cr_assert_eq(u.host_kind, SIP_HOST_IPV6);
	parse_ok("sip:[2001:db8::192.0.2.1]", &u); /* 4.10 */
	cr_assert(eq(u.host, "2001:db8::192.0.2.1"));
	parse_ok("sips:[2001:db8::1]:5061;lr", &u);
	cr_assert_eq(u.scheme, SIP_SCHEME_SIPS);
	cr_assert_eq(u.port, 5061);
	cr_assert(eq(u.params, "lr"));
}

Test(sip_uri, rfc5118_bad_ipv6)
{
	parse_bad("sip:2001:db8::10");           /* 4.2 ipv6-bad: no brackets */
	parse_bad("sip:[2001:db8:::192.0.2.1]"); /* 4.9: three colons */
	parse_bad("sip:[2001:db8::10");          /* unterminated */
	parse_bad("sip:[2001:db8::10]x");
	parse_bad("sip:[2001:db8::10]:");
	parse_bad("sip:[]");
	parse_bad("sip:[1:2:3:4:5:6:7:8:9]");
	parse_bad("sip:[1::2::3]");
	parse_bad("sip:[12345::1]");
	parse_bad("sip:[192.0.2.1]");
}

/* ---- tel (RFC 3966) ---- */

Test(sip_uri, tel_uris)
{
	struct sip_uri u;
	parse_ok("tel:+1-201-555-0123", &u);
	cr_assert_eq(u.scheme, SIP_SCHEME_TEL);
	cr_assert(eq(u.user, "+1-201-555-0123"));
	cr_assert_eq(u.host.n, 0);
	cr_assert_eq(u.host_kind, SIP_HOST_NONE);
	cr_assert_eq(u.params.n, 0);
	parse_ok("TEL:7042;phone-context=example.com", &u);
	cr_assert(eq(u.user, "7042"));
	cr_assert(eq(u.params, "phone-context=example.com"));
	parse_ok("tel:863-1234;phone-context=+1-914-555", &u);
	cr_assert(eq(u.user, "863-1234"));
	parse_ok("tel:*67#;phone-context=example.com", &u);
	cr_assert(eq(u.user, "*67#"));
	parse_ok("tel:+1(201)555.0123;ext=22", &u);
	cr_assert(eq(u.params, "ext=22"));
}

Test(sip_uri, tel_refusals)
{
	parse_bad("tel:");
	parse_bad("tel:+");
	parse_bad("tel:--");
	parse_bad("tel:+1-A00"); /* hex digits only in local numbers */
	parse_bad("tel:xyz");
	parse_bad("tel:+1555?x=y"); /* no headers in tel */
	parse_bad("tel:+1555;");
	parse_bad("tel:+1555;;a");
}

/* ---- refusals ---- */

Test(sip_uri, refuses_structure_errors)
{
	parse_bad("");
	parse_bad("sip");
	parse_bad("sip:");
	parse_bad("sips:");
	parse_bad("http://example.com/");
	parse_bad("isbn:2983792873");
	parse_bad(":alice@example.com");
	parse_bad("sip:@example.com"); /* user = 1*( ... ) */
	parse_bad("sip:alice@");       /* empty host */
	parse_bad("sip:alice@;lr");
	parse_bad("sip:alice@:5060");
	parse_bad("sip:a:b:c@example.com");  /* ':' is not a password character */
	parse_bad("<sip:user@example.com>"); /* RFC 4475 3.1.2.7 ltgtruri */
}

Test(sip_uri, refuses_spaces_and_controls)
{
	parse_bad("sip:user@example.com; lr"); /* RFC 4475 3.1.2.8 lwsruri */
	parse_bad(" sip:user@example.com");
	parse_bad("sip:user@example.com ");
	parse_bad("sip:us er@example.com");
	parse_bad("sip:user@exa\tmple.com");
	parse_bad("sip:user@example.com\r\n");
	parse_bad("sip:us\x01r@example.com");
	parse_bad("sip:us\x7fr@example.com");
	parse_bad("sip:\xc3\xa9t\xc3\xa9@example.com"); /* UTF-8 must be escaped */
}

Test(sip_uri, refuses_bad_characters_and_escapes)
{
	parse_bad("sip:a%2@example.com");
	parse_bad("sip:a%zz@example.com");
	parse_bad("sip:a%@example.com");
	parse_bad("sip:a\"b@example.com");
	parse_bad("sip:a<b@example.com");
	parse_bad("sip:a#b@example.com");
	parse_bad("sip:a@example.com;x=\"q\"");
	parse_bad("sip:a@example.com;x=%g1");
}

Test(sip_uri, refuses_bad_ports)
{
	parse_bad("sip:a@example.com:0");
	parse_bad("sip:a@example.com:65536");
	parse_bad("sip:a@example.com:4294967297");
	parse_bad("sip:a@example.com:99999999999999999999999");
	parse_bad("sip:a@example.com:");
	parse_bad("sip:a@example.com:50a");
	parse_bad("sip:a@example.com:-1");
	parse_bad("sip:a@example.com:+5060");
	parse_bad("sip:a@example.com:5060:5061");
}

Test(sip_uri, refuses_bad_hosts)
{
	parse_bad("sip:a@192.0.2.256");
	parse_bad("sip:a@192.0.2");
	parse_bad("sip:a@-host.example.com");
	parse_bad("sip:a@host-.example.com");
	parse_bad("sip:a@ho_st.example.com");
	parse_bad("sip:a@host..example.com");
	parse_bad("sip:a@.example.com");
	parse_bad("sip:a@example.123");
	parse_bad("sip:a@b@example.com");
}

Test(sip_uri, refuses_bad_params_and_headers)
{
	parse_bad("sip:a@example.com;");
	parse_bad("sip:a@example.com;;lr");
	parse_bad("sip:a@example.com;lr;");
	parse_bad("sip:a@example.com;x=");
	parse_bad("sip:a@example.com;=x");
	parse_bad("sip:a@example.com;x=y=z");
	parse_bad("sip:a@example.com?");
	parse_bad("sip:a@example.com?x");
	parse_bad("sip:a@example.com?=y");
	parse_bad("sip:a@example.com?x=y&");
	parse_bad("sip:a@example.com;lr?");
}

Test(sip_uri, empty_header_value_is_allowed)
{
	struct sip_uri u;
	parse_ok("sip:a@example.com;lr?subject=&body=x", &u);
	cr_assert(eq(u.params, "lr"));
	cr_assert(eq(u.headers, "subject=&body=x"));
}

/* ---- parameter lists ---- */

Test(sip_param, iterates_uri_params)
{
	struct slice rest = guarded("transport=tls;lr"), whole = rest, n, v;
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "transport"));
	cr_assert(eq(v, "tls"));
	cr_assert(inside(n, whole) && inside(v, whole));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "lr"));
	cr_assert_null(v.p);
	cr_assert_eq(v.n, 0);
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
}

Test(sip_param, header_params_with_lws_and_folds)
{
	/* RFC 4475 3.1.1.1 wsinv: "; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33" */
	struct slice rest =
	    guarded(" ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33 ");
	struct slice n, v;
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "newparam"));
	cr_assert(eq(v, "newvalue"));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "secondparam"));
	cr_assert_null(v.p);
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "q"));
	cr_assert(eq(v, "0.33"));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
}

Test(sip_param, quoted_values_keep_quotes_and_hide_semicolons)
{
	struct slice rest = guarded("a=\"x;y\";b = \"q\\\";r\" ;c"), n, v;
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "a"));
	cr_assert(eq(v, "\"x;y\""));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "b"));
	cr_assert(eq(v, "\"q\\\";r\""));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "c"));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
}

Test(sip_param, unterminated_quote_runs_to_the_end)
{
	struct slice rest = guarded("a=\"x;y"), n, v;
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(v, "\"x;y"));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
}

Test(sip_param, empty_elements_come_back_with_empty_names)
{
	struct slice rest = guarded(";;tag=1"), n, v;
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert_eq(n.n, 0);
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "tag"));
	cr_assert(eq(v, "1"));
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
}

Test(sip_param, empty_value_differs_from_no_value)
{
	struct slice rest = guarded("x=;y"), n, v;
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert(eq(n, "x"));
	cr_assert_not_null(v.p);
	cr_assert_eq(v.n, 0);
	cr_assert_eq(sip_param_next(&rest, &n, &v), 1);
	cr_assert_null(v.p);
}

Test(sip_param, nothing_to_iterate)
{
	struct slice n, v;
	struct slice rest = {0};
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
	rest = guarded(" \r\n ");
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
	rest = guarded(";");
	cr_assert_eq(sip_param_next(&rest, &n, &v), 0);
}

Test(sip_param, get_is_case_insensitive)
{
	struct slice p = guarded("Transport=TLS;LR;maddr=239.255.255.1"), v = SLICE_LIT("junk");
	cr_assert(sip_param_get(p, SLICE_LIT("transport"), &v));
	cr_assert(eq(v, "TLS"));
	cr_assert(inside(v, p));
	cr_assert(sip_param_get(p, SLICE_LIT("lr"), &v));
	cr_assert_null(v.p);
	cr_assert(sip_param_get(p, SLICE_LIT("MADDR"), NULL));
	v = SLICE_LIT("junk");
	cr_assert_not(sip_param_get(p, SLICE_LIT("ttl"), &v));
	cr_assert(eq(v, "junk"), "a miss must not touch *value");
	cr_assert_not(sip_param_get(p, SLICE_LIT("l"), &v)); /* whole names only */
	cr_assert_not(sip_param_get(p, SLICE_LIT(""), &v));
	cr_assert_not(sip_param_get((struct slice){0}, SLICE_LIT("lr"), &v));
}

Test(sip_param, get_does_not_match_inside_quoted_values)
{
	struct slice p = guarded("x=\"a;lr\";tag=7");
	struct slice v;
	cr_assert_not(sip_param_get(p, SLICE_LIT("lr"), &v));
	cr_assert(sip_param_get(p, SLICE_LIT("tag"), &v));
	cr_assert(eq(v, "7"));
}

/* ---- hosts ---- */

Test(sip_host, ipv4)
{
	const char *good[] = {"0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.9"};
	const char *bad[] = {"",         "256.1.1.1",  "1.2.3",    "1.2.3.4.5",
	                     "01.2.3.4", "1..2.3",     "1.2.3.4.", ".1.2.3",
	                     "1.2.3.a",  "1.2.3.1000", "1.2.3.-1", " 1.2.3.4"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_expect(sip_host_is_ipv4(guarded(good[i])), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_expect_not(sip_host_is_ipv4(guarded(bad[i])), "%s", bad[i]);
}

Test(sip_host, ipv6)
{
	const char *good[] = {"::",
	                      "::1",
	                      "1::",
	                      "2001:db8::1",
	                      "1:2:3:4:5:6:7:8",
	                      "::ffff:192.0.2.10",
	                      "1:2:3:4:5:6:1.2.3.4",
	                      "2001:DB8::abcd",
	                      "1::2:3:4:5:6:7",
	                      "fe80::1:2"};
	const char *bad[] = {"",
	                     ":",
	                     ":1",
	                     "1:",
	                     "1:2:3:4:5:6:7:8:9",
	                     "1::2::3",
	                     "2001:db8:::1",
	                     "12345::",
	                     "g::1",
	                     "1:2:3:4:5:6:7:1.2.3.4",
	                     "::1.2.3",
	                     "[::1]",
	                     "1:2:3:4:5:6:7",
	                     "1::2:3:4:5:6:7:8",
	                     "::1.2.3.4:5",
	                     "1.2.3.4",
	                     "::1%25eth0"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_expect(sip_host_is_ipv6(guarded(good[i])), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_expect_not(sip_host_is_ipv6(guarded(bad[i])), "%s", bad[i]);
}

Test(sip_host, names)
{
	const char *good[] = {
	    "example.com",   "a",           "example.com.",  "a-b.c-d", "x1.example.com",
	    "1.example.com", "EXAMPLE.COM", "t4.example.com"};
	const char *bad[] = {"",    ".",       "-a.com", "a-.com",  "a..b",    "1.2.3.4",
	                     "123", "a_b.com", "a.1com", "a.com..", "a b.com", "[::1]"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		cr_expect(sip_host_is_name(guarded(good[i])), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_expect_not(sip_host_is_name(guarded(bad[i])), "%s", bad[i]);
}
