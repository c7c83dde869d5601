/* Tests for sip/addr.c: name-addr and addr-spec values (RFC 3261 20.10, 25.1) as written in
 * From, To, Contact and Route, including those of the RFC 4475 torture messages. */
#include <criterion/criterion.h>

#include "tests/support/guard.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sip/addr.h"
#include "sip/uri.h"

#define CRLF "\r\n"

static bool eq(struct slice s, const char *lit)
{
	return slice_eq(s, slice_cstr(lit));
}

static bool inside(struct slice part, struct slice whole)
{
	return part.n == 0 || (part.p >= whole.p && part.p + part.n <= whole.p + whole.n);
}

static void check_ok(struct slice in, struct sip_addr *a)
{
	cr_assert_eq(sip_addr_parse(in, a), 0, "refused %.*s", SLICE_FMT(in));
	cr_assert(inside(a->display, in));
	cr_assert(inside(a->uri, in));
	cr_assert(inside(a->params, in));
	cr_assert(inside(a->tag, in));
}

static void parse_ok(const char *lit, struct sip_addr *a)
{
	check_ok(guarded(lit), a);
}

static void parse_bad(const char *lit)
{
	struct sip_addr a;
	cr_expect_eq(sip_addr_parse(guarded(lit), &a), -SIP_E_ADDR, "accepted %s", lit);
	cr_expect_eq(a.uri.n, 0, "left a URI after refusing %s", lit);
}

Test(sip_addr, quoted_display_and_tag)
{
	struct sip_addr a;
	parse_ok("\"Alice\" <sip:alice@atlanta.com>;tag=1928301774", &a);
	cr_assert(eq(a.display, "\"Alice\""));
	cr_assert(eq(a.uri, "sip:alice@atlanta.com"));
	cr_assert(eq(a.params, "tag=1928301774"));
	cr_assert(eq(a.tag, "1928301774"));
	cr_assert(a.angle);
	cr_assert_not(a.star);
}

Test(sip_addr, token_display_without_params)
{
	struct sip_addr a;
	parse_ok("Bob <sips:bob@biloxi.com>", &a);
	cr_assert(eq(a.display, "Bob"));
	cr_assert(eq(a.uri, "sips:bob@biloxi.com"));
	cr_assert_eq(a.params.n, 0);
	cr_assert_eq(a.tag.n, 0);
	cr_assert(a.angle);
	parse_ok("T. A.   Watson <sip:watson@bell-telephone.com>", &a);
	cr_assert(eq(a.display, "T. A.   Watson"));
}

Test(sip_addr, angle_without_display)
{
	struct sip_addr a;
	parse_ok("  <sip:carol@chicago.com>  ", &a);
	cr_assert_eq(a.display.n, 0);
	cr_assert(eq(a.uri, "sip:carol@chicago.com"));
	cr_assert(a.angle);
}

Test(sip_addr, addr_spec_with_tag)
{
	struct sip_addr a;
	parse_ok("sip:carol@chicago.com;tag=887s", &a);
	cr_assert_not(a.angle);
	cr_assert_eq(a.display.n, 0);
	cr_assert(eq(a.uri, "sip:carol@chicago.com"));
	cr_assert(eq(a.params, "tag=887s"));
	cr_assert(eq(a.tag, "887s"));
	parse_ok("sip:carol@chicago.com", &a);
	cr_assert(eq(a.uri, "sip:carol@chicago.com"));
	cr_assert_eq(a.params.n, 0);
}

Test(sip_addr, contact_star)
{
	struct sip_addr a;
	parse_ok("*", &a);
	cr_assert(a.star);
	cr_assert_eq(a.uri.n, 0);
	parse_ok(" * ", &a);
	cr_assert(a.star);
	parse_ok("<sip:a@example.com>", &a);
	cr_assert_not(a.star);
}

Test(sip_addr, uri_params_stay_in_the_uri)
{
	struct sip_addr a;
	/* RFC 4475 3.1.1.1 wsinv Route */
	parse_ok("<sip:services.example.com;lr;unknownwith=value;unknown-no-value>", &a);
	cr_assert(eq(a.uri, "sip:services.example.com;lr;unknownwith=value;unknown-no-value"));
	cr_assert_eq(a.params.n, 0);
	struct sip_uri u;
	cr_assert_eq(sip_uri_parse(a.uri, &u), 0);
	cr_assert(sip_param_get(u.params, SLICE_LIT("lr"), NULL));
}

/* RFC 4475 3.1.1.1 wsinv: To, From and m (Contact) */
Test(sip_addr, rfc4475_wsinv)
{
	struct sip_addr a;
	parse_ok("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", &a);
	cr_assert(eq(a.uri, "sip:vivekg@chair-dnrc.example.com"));
	cr_assert(eq(a.tag, "1918181833n"));
	parse_ok("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>" CRLF "  ;" CRLF
	         "  tag = 98asjd8",
	         &a);
	cr_assert(eq(a.display, "\"J Rosenberg \\\\\\\"\""));
	cr_assert(eq(a.uri, "sip:jdrosen@example.com"));
	cr_assert(eq(a.tag, "98asjd8"));
	parse_ok("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =" CRLF
	         "      newvalue ;" CRLF "  secondparam ; q = 0.33",
	         &a);
	cr_assert(eq(a.display, "\"Quoted string \\\"\\\"\""));
	cr_assert_eq(a.tag.n, 0);
	struct slice v;
	cr_assert(sip_param_get(a.params, SLICE_LIT("newparam"), &v));
	cr_assert(eq(v, "newvalue"));
	cr_assert(sip_param_get(a.params, SLICE_LIT("q"), &v));
	cr_assert(eq(v, "0.33"));
	cr_assert(sip_param_get(a.params, SLICE_LIT("secondparam"), &v));
}

/* RFC 4475 3.1.1.2 intmeth: quoted-pairs of control characters (NUL included) and a display
 * name of unusual token characters; a UTF-8 quoted parameter value */
Test(sip_addr, rfc4475_intmeth)
{
	static const char to[] =
	    "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F\" "
	    "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
	struct sip_addr a;
	struct slice in = guarded_n(to, sizeof(to) - 1);
	check_ok(in, &a);
	cr_assert_eq(a.display.n, 22); /* through the closing quote, NUL and all */
	cr_assert_eq(a.display.p, in.p);
	cr_assert(eq(a.uri, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com"));
	parse_ok(
	    "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
	    "\"\xD1\x80\xD0\xB0\xD0\xB1\xD0\xBE\xD1\x82\xD0\xB0\xD1\x8E\xD1\x89\xD0\xB8\xD0\xB9\""
	    ";tag=_token~1'+`*%!-.",
	    &a);
	cr_assert(eq(a.display, "token1~` token2'+_ token3*%!.-"));
	cr_assert(eq(a.uri, "sip:mundane@example.com"));
	cr_assert(eq(a.tag, "_token~1'+`*%!-."));
}

/* RFC 4475 3.1.1.3 esc01, 3.1.1.5 esc02, 3.1.1.6 lwsdisp, 3.1.1.7 longreq */
Test(sip_addr, rfc4475_esc_lwsdisp_longreq)
{
	struct sip_addr a;
	parse_ok("<sip:I%20have%20spaces@example.net>;tag=938", &a);
	cr_assert(eq(a.uri, "sip:I%20have%20spaces@example.net"));
	cr_assert(eq(a.tag, "938"));
	parse_ok("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>", &a);
	cr_assert(eq(a.uri, "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"));
	parse_ok("\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23", &a);
	cr_assert(eq(a.display, "\"%Z%45\""));
	cr_assert(eq(a.tag, "f232jadfj23"));
	parse_ok("caller<sip:caller@example.com>;tag=323", &a);
	cr_assert(eq(a.display, "caller"));
	cr_assert(eq(a.uri, "sip:caller@example.com"));
	cr_assert(eq(a.tag, "323"));
	parse_ok("\"I have a user name of extreme proportion\"<sip:user@example.com:6000;"
	         "unknownparam1=verylonglongvalue;unknown-no-value>",
	         &a);
	cr_assert(eq(a.display, "\"I have a user name of extreme proportion\""));
	cr_assert(eq(a.uri, "sip:user@example.com:6000;unknownparam1=verylonglongvalue;"
	                    "unknown-no-value"));
	parse_ok("sip:amazinglylongcallername@example.net;tag=12982982;unknownheaderparam=x;"
	         "unknownValueless",
	         &a);
	cr_assert(eq(a.tag, "12982982"));
	cr_assert(sip_param_get(a.params, SLICE_LIT("unknownValueless"), NULL));
}

/* RFC 4475 3.3.4 unksm2: any absoluteURI may stand in From and To */
Test(sip_addr, rfc4475_unknown_schemes)
{
	struct sip_addr a;
	parse_ok("isbn:2983792873", &a);
	cr_assert(eq(a.uri, "isbn:2983792873"));
	parse_ok("<http://www.example.com>;tag=3234233", &a);
	cr_assert(eq(a.uri, "http://www.example.com"));
	cr_assert(eq(a.tag, "3234233"));
}

/* RFC 5118: IPv6 inside the URI; RFC 5626 style Contact parameters */
Test(sip_addr, ipv6_and_contact_params)
{
	struct sip_addr a;
	parse_ok("\"Caller\" <sip:caller@[2001:db8::1]>", &a);
	cr_assert(eq(a.uri, "sip:caller@[2001:db8::1]"));
	parse_ok("<sip:alice@192.0.2.1;transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-1000-"
	         "8000-AABBCCDDEEFF>\";reg-id=1;expires=3600",
	         &a);
	cr_assert(eq(a.uri, "sip:alice@192.0.2.1;transport=tls"));
	struct slice v;
	cr_assert(sip_param_get(a.params, SLICE_LIT("+sip.instance"), &v));
	cr_assert(eq(v, "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""));
	cr_assert(sip_param_get(a.params, SLICE_LIT("expires"), &v));
	cr_assert(eq(v, "3600"));
	parse_ok("<sip:a@example.com>;received=[2001:db8::1]", &a);
}

Test(sip_addr, quoted_display_with_fold_and_utf8)
{
	struct sip_addr a;
	parse_ok("\"J\xC3\xBCrgen" CRLF " M\xC3\xBCller\" <sip:j@example.com>", &a);
	cr_assert(eq(a.display, "\"J\xC3\xBCrgen" CRLF " M\xC3\xBCller\""));
	parse_ok("\"\" <sip:j@example.com>", &a);
	cr_assert(eq(a.display, "\"\""));
	parse_ok("\"a, b\" <sip:j@example.com>", &a);
	cr_assert(eq(a.display, "\"a, b\""));
}

/* ---- refusals ---- */

Test(sip_addr, refuses_empty)
{
	parse_bad("");
	parse_bad("   ");
	parse_bad(CRLF " ");
}

/* RFC 4475 3.1.2.6 quotbal and friends: a quoted string must end, with valid contents */
Test(sip_addr, refuses_bad_quoted_strings)
{
	parse_bad("\"Mr. J. User <sip:j.user@example.com>");
	parse_bad("\"Mr. J. User <sip:j.user@example.com>;tag=1");
	parse_bad("\"ends with escape\\\" <sip:a@example.com>");
	parse_bad("\"a\x01"
	          "b\" <sip:a@example.com>");
	parse_bad("\"a\nb\" <sip:a@example.com>");
	parse_bad("\"a\rb\" <sip:a@example.com>");
	parse_bad("\"a\r\nb\" <sip:a@example.com>"); /* CRLF not followed by WSP */
	parse_bad("\"a\\\r\" <sip:a@example.com>");  /* quoted-pair excludes CR */
	parse_bad("\"\xff\" <sip:a@example.com>");
	parse_bad("\"\xD1\" <sip:a@example.com>");       /* truncated UTF-8 */
	parse_bad("\"\xD1\x41\" <sip:a@example.com>");   /* bad continuation byte */
	parse_bad("\"\x80\" <sip:a@example.com>");       /* continuation without a lead */
	parse_bad("\"\\\xC3\xA9\" <sip:a@example.com>"); /* quoted-pair is ASCII only */
	parse_bad("\"");
}

/* RFC 4475 3.1.2.15 baddn: unquoted display names hold tokens only */
Test(sip_addr, refuses_non_token_display_names)
{
	parse_bad("Bell, Alexander <sip:a.g.bell@example.com>;tag=43");
	parse_bad("Watson, Thomas <sip:t.watson@example.org>");
	parse_bad("J@ck <sip:jack@example.com>");
	parse_bad("Joe \"x\" <sip:joe@example.com>");
	parse_bad("\"a\" \"b\" <sip:joe@example.com>");
	parse_bad("\"a\" b <sip:joe@example.com>");
	parse_bad("(comment) <sip:joe@example.com>");
	parse_bad("caf\xC3\xA9 <sip:joe@example.com>");
}

Test(sip_addr, refuses_bad_angle_brackets)
{
	parse_bad("<sip:user@example.com");
	parse_bad("Bob <sip:user@example.com;tag=1");
	parse_bad("<>");
	parse_bad("< sip:a@example.com>");
	parse_bad("<sip:a@example.com >");
	parse_bad("<sip:a@example.com>junk");
	parse_bad("<sip:a@example.com> tag=1");
	parse_bad("<sip:a@example.com>>");
	parse_bad("<<sip:a@example.com>>");
	parse_bad("<sip:a@example.com><sip:b@example.com>");
	parse_bad("\"a\" sip:a@example.com");
	parse_bad("sip:a@example.com>");
}

/* RFC 4475 3.1.2.14 badaspec: no LWS inside the brackets (RAQUOT, LAQUOT hug the URI) */
Test(sip_addr, refuses_spaces_within_addr_spec)
{
	parse_bad("\"Watson, Thomas\" < sip:t.watson@example.org >");
	parse_bad("<sip:t.watson @example.org>");
	parse_bad("sip:t.watson @example.org");
}

/* RFC 4475 3.3.12 cparam01 / 3.3.13 cparam02: whose parameter is unknownparam? */
Test(sip_addr, rfc4475_cparam)
{
	struct sip_addr a;
	parse_ok("sip:+19725552222@gw1.example.net;unknownparam", &a);
	cr_assert(eq(a.uri, "sip:+19725552222@gw1.example.net"));
	cr_assert(eq(a.params, "unknownparam"));
	parse_ok("<sip:+19725552222@gw1.example.net;unknownparam>", &a);
	cr_assert(eq(a.uri, "sip:+19725552222@gw1.example.net;unknownparam"));
	cr_assert_eq(a.params.n, 0);
}

Test(sip_addr, refuses_uris_without_scheme)
{
	parse_bad("<alice@example.com>");
	parse_bad("alice@example.com");
	parse_bad("<:x>");
	parse_bad("<sip:>");
	parse_bad("<1sip:a@example.com>");
	parse_bad("sip:");
}

/* RFC 3261 20.10: ',', '?' or ';' in the URI require name-addr (RFC 4475 3.1.2.13 regbadct) */
Test(sip_addr, refuses_addr_spec_with_headers_or_comma)
{
	parse_bad("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
	parse_bad("sip:a,b@example.com");
	struct sip_addr a;
	parse_ok("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", &a); /* 3.3.14 */
	cr_assert(eq(a.uri, "sip:user@example.com?Route=%3Csip:sip.example.com%3E"));
}

/* RFC 4475 3.1.2.1 badinv01 and other bad parameter lists */
Test(sip_addr, refuses_bad_params)
{
	parse_bad("sip:caller@example.net;;tag=134161461246");
	parse_bad("<sip:caller@example.net>;;tag=1");
	parse_bad("<sip:caller@example.net>;");
	parse_bad("<sip:caller@example.net>;tag=1;");
	parse_bad("<sip:caller@example.net>;tag");
	parse_bad("<sip:caller@example.net>;tag=");
	parse_bad("<sip:caller@example.net>;tag=\"1\"");
	parse_bad("<sip:caller@example.net>;tag=1;tag=2");
	parse_bad("<sip:caller@example.net>;x=\"open");
	parse_bad("<sip:caller@example.net>;x=a b");
	parse_bad("<sip:caller@example.net>;=1");
	parse_bad("<sip:caller@example.net>;a@b=1");
	parse_bad("<sip:caller@example.net>;x=<y>");
}

Test(sip_addr, refuses_star_with_anything)
{
	parse_bad("*;expires=0");
	parse_bad("**");
}

Test(sip_addr, star_is_a_token_before_angle)
{
	struct sip_addr a;
	parse_ok("* <sip:a@example.com>", &a); /* '*' is a token character: a display name */
	cr_assert_not(a.star);
	cr_assert(eq(a.display, "*"));
	cr_assert(eq(a.uri, "sip:a@example.com"));
}
