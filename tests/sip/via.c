/* Tests for sip/via.c: one Via element (RFC 3261 20.42, 25.1; RFC 3581; RFC 5118 4.5), the
 * Via values of the RFC 4475 torture messages, and the top Via of a scanned message. */
#include <criterion/criterion.h>

#include "tests/support/guard.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sip/msg.h"
#include "sip/via.h"

#define CRLF "\r\n"

static bool eq(struct slice s, const char *lit)
{
	return slice_eq(s, slice_cstr(lit));
}

static bool inside(struct slice part, struct slice whole)
{
	return part.n == 0 || (part.p >= whole.p && part.p + part.n <= whole.p + whole.n);
}

static void assert_views_inside(const struct sip_via *v, struct slice in)
{
	const struct slice *all[] = {&v->protocol, &v->version, &v->transport, &v->host,
	                             &v->params,   &v->branch,  &v->received,  &v->maddr,
	                             &v->ttl,      &v->rport};
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		cr_assert(inside(*all[i], in), "view %zu is not inside the input", i);
}

static void parse_ok(const char *lit, struct sip_via *v)
{
	struct slice in = guarded(lit);
	cr_assert_eq(sip_via_parse(in, v), 0, "refused %s", lit);
	assert_views_inside(v, in);
}

static void parse_bad(const char *lit)
{
	struct sip_via v;
	cr_expect_eq(sip_via_parse(guarded(lit), &v), -SIP_E_VIA, "accepted %s", lit);
	cr_expect_eq(v.host.n, 0, "left a host after refusing %s", lit);
}

Test(sip_via, tls_with_port_and_branch)
{
	struct sip_via v;
	parse_ok("SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK776asdhds", &v);
	cr_assert(eq(v.protocol, "SIP"));
	cr_assert(eq(v.version, "2.0"));
	cr_assert(eq(v.transport, "TLS"));
	cr_assert(eq(v.host, "10.0.0.1"));
	cr_assert_eq(v.host_kind, SIP_HOST_IPV4);
	cr_assert_eq(v.port, 5061);
	cr_assert(eq(v.params, "branch=z9hG4bK776asdhds"));
	cr_assert(eq(v.branch, "z9hG4bK776asdhds"));
	cr_assert_eq(v.received.n, 0);
	cr_assert_not(v.has_rport);
}

Test(sip_via, no_params_no_port)
{
	struct sip_via v;
	parse_ok("SIP/2.0/TCP sip33.example.com", &v); /* RFC 4475 3.1.1.7 longreq */
	cr_assert(eq(v.transport, "TCP"));
	cr_assert(eq(v.host, "sip33.example.com"));
	cr_assert_eq(v.host_kind, SIP_HOST_NAME);
	cr_assert_eq(v.port, 0);
	cr_assert_eq(v.params.n, 0);
	cr_assert_eq(v.branch.n, 0);
}

Test(sip_via, rfc3261_example_with_ttl_and_maddr)
{
	struct sip_via v;
	parse_ok(
	    "SIP/2.0/UDP first.example.com:4000;ttl=16;maddr=224.2.0.1;branch=z9hG4bKa7c6a8dlze.1",
	    &v);
	cr_assert(eq(v.host, "first.example.com"));
	cr_assert_eq(v.port, 4000);
	cr_assert(eq(v.ttl, "16"));
	cr_assert(eq(v.maddr, "224.2.0.1"));
	cr_assert(eq(v.branch, "z9hG4bKa7c6a8dlze.1"));
	cr_assert(eq(v.params, "ttl=16;maddr=224.2.0.1;branch=z9hG4bKa7c6a8dlze.1"));
}

/* RFC 4475 3.1.1.1 wsinv: LWS and folds around '/', before sent-by and around ';' '=' */
Test(sip_via, rfc4475_wsinv_folded)
{
	struct sip_via v;
	parse_ok("SIP  /   2.0" CRLF " /UDP" CRLF "    192.0.2.2;branch=390skdjuw", &v);
	cr_assert(eq(v.protocol, "SIP"));
	cr_assert(eq(v.version, "2.0"));
	cr_assert(eq(v.transport, "UDP"));
	cr_assert(eq(v.host, "192.0.2.2"));
	cr_assert(eq(v.branch, "390skdjuw"));
	parse_ok("SIP  / 2.0  / TCP     spindle.example.com   ;" CRLF "  branch  =   z9hG4bK9ikj8",
	         &v);
	cr_assert(eq(v.transport, "TCP"));
	cr_assert(eq(v.host, "spindle.example.com"));
	cr_assert(eq(v.branch, "z9hG4bK9ikj8"));
	parse_ok("SIP  /    2.0   / UDP  192.168.255.111   ; branch=" CRLF " z9hG4bK30239", &v);
	cr_assert(eq(v.host, "192.168.255.111"));
	cr_assert(eq(v.branch, "z9hG4bK30239"));
}

/* RFC 4475 3.1.1.2 intmeth: every token character in the branch */
Test(sip_via, rfc4475_intmeth_branch)
{
	struct sip_via v;
	parse_ok("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~", &v);
	cr_assert(eq(v.branch, "z9hG4bK-.!%66*_+`'~"));
}

/* RFC 4475 3.1.1.10 transports: the transport is kept as written, known or not */
Test(sip_via, rfc4475_transports)
{
	const char *in[] = {"SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw",
	                    "SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
	                    "SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
	                    "SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
	                    "SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee"};
	const char *tr[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
	for (size_t i = 0; i < 5; i++) {
		struct sip_via v;
		parse_ok(in[i], &v);
		cr_assert(eq(v.transport, tr[i]), "%s", in[i]);
		cr_assert_eq(v.host.n, 14);
	}
}

/* RFC 5118 4.5: IPv6 sent-by in brackets, received with or without them */
Test(sip_via, rfc5118_ipv6)
{
	struct sip_via v;
	parse_ok("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111", &v);
	cr_assert(eq(v.host, "2001:db8::9:1"));
	cr_assert_eq(v.host_kind, SIP_HOST_IPV6);
	cr_assert_eq(v.port, 6050);
	parse_ok(
	    "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144;received=[2001:db8::9:255]",
	    &v);
	cr_assert(eq(v.received, "[2001:db8::9:255]"));
	parse_ok("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3;received=2001:db8::9:255", &v);
	cr_assert(eq(v.host, "2001:db8::9:1"));
	cr_assert_eq(v.port, 0);
	cr_assert(eq(v.received, "2001:db8::9:255"));
}

Test(sip_via, rport_flag_and_value)
{
	struct sip_via v;
	parse_ok("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKx", &v);
	cr_assert(v.has_rport);
	cr_assert_eq(v.rport.n, 0);
	cr_assert(eq(v.branch, "z9hG4bKx"));
	parse_ok("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx;received=192.0.2.7;RPORT=5066", &v);
	cr_assert(v.has_rport);
	cr_assert(eq(v.rport, "5066"));
	cr_assert(eq(v.received, "192.0.2.7"));
}

Test(sip_via, lws_around_port_colon_and_lowercase)
{
	struct sip_via v;
	parse_ok("  sip/2.0/tls host.example.com : 5061 ;branch=z9hG4bK1  ", &v);
	cr_assert(eq(v.protocol, "sip"));
	cr_assert(eq(v.transport, "tls"));
	cr_assert(eq(v.host, "host.example.com"));
	cr_assert_eq(v.port, 5061);
	cr_assert(eq(v.branch, "z9hG4bK1"));
}

Test(sip_via, extension_params)
{
	struct sip_via v;
	parse_ok("SIP/2.0/TLS h.example.com;branch=z9hG4bK1;x-note=\"a; b\";flag;alias", &v);
	cr_assert(eq(v.branch, "z9hG4bK1"));
	cr_assert(eq(v.params, "branch=z9hG4bK1;x-note=\"a; b\";flag;alias"));
	struct slice val;
	cr_assert(sip_param_get(v.params, SLICE_LIT("x-note"), &val));
	cr_assert(eq(val, "\"a; b\""));
	parse_ok("SIP/2.0/TLS [::1]:5061;maddr=[2001:db8::1];ttl=0", &v);
	cr_assert(eq(v.maddr, "[2001:db8::1]"));
	cr_assert(eq(v.ttl, "0"));
}

Test(sip_via, refuses_bad_sent_protocol)
{
	parse_bad("");
	parse_bad("   ");
	parse_bad("SIP/2.0 host.example.com"); /* no transport */
	parse_bad("SIP/2.0/ host.example.com");
	parse_bad("SIP//TLS host.example.com");
	parse_bad("/2.0/TLS host.example.com");
	parse_bad("SIP 2.0 TLS host.example.com");
	parse_bad("SIP/2.0/TLS/X host.example.com");
	parse_bad("SIP/2.0/TLShost.example.com;branch=x"); /* no LWS before sent-by */
	parse_bad("SIP/2.0/TLS[::1]:5061");
	parse_bad("SIP/2.0/T\x01S host.example.com");
}

Test(sip_via, refuses_missing_or_bad_host)
{
	parse_bad("SIP/2.0/TLS");
	parse_bad("SIP/2.0/TLS ");
	parse_bad("SIP/2.0/TLS ;branch=z9hG4bK1");
	parse_bad("SIP/2.0/TLS :5061");
	parse_bad("SIP/2.0/TLS ho_st.example.com");
	parse_bad("SIP/2.0/TLS 192.0.2.300");
	parse_bad("SIP/2.0/TLS 2001:db8::1"); /* IPv6 without brackets */
	parse_bad("SIP/2.0/TLS [2001:db8::1");
	parse_bad("SIP/2.0/TLS [2001:db8:::1]");
	parse_bad("SIP/2.0/TLS []");
	parse_bad("SIP/2.0/TLS [example.com]");
}

Test(sip_via, refuses_bad_ports)
{
	parse_bad("SIP/2.0/TLS host.example.com:");
	parse_bad("SIP/2.0/TLS host.example.com:0");
	parse_bad("SIP/2.0/TLS host.example.com:65536");
	parse_bad("SIP/2.0/TLS host.example.com:18446744073709551617");
	parse_bad("SIP/2.0/TLS host.example.com:50a6");
	parse_bad("SIP/2.0/TLS host.example.com:5060:5061");
	parse_bad("SIP/2.0/TLS [::1]:");
	parse_bad("SIP/2.0/TLS [::1]5061");
}

Test(sip_via, refuses_garbage_and_bad_params)
{
	parse_bad("SIP/2.0/TLS host.example.com garbage");
	parse_bad("SIP/2.0/TLS host.example.com (comment)");
	parse_bad("SIP/2.0/TLS host.example.com, SIP/2.0/UDP h2.example.com"); /* not split */
	parse_bad("SIP/2.0/TLS host.example.com;");
	parse_bad("SIP/2.0/UDP 192.0.2.15;;"); /* RFC 4475 3.1.2.1 badinv01 */
	parse_bad("SIP/2.0/TLS host.example.com;;branch=z9hG4bK1");
	parse_bad("SIP/2.0/TLS host.example.com;branch=z9hG4bK1;");
	parse_bad("SIP/2.0/TLS host.example.com;branch");
	parse_bad("SIP/2.0/TLS host.example.com;branch=");
	parse_bad("SIP/2.0/TLS host.example.com;branch=\"z9hG4bK1\"");
	parse_bad("SIP/2.0/TLS host.example.com;branch=a b");
	parse_bad("SIP/2.0/TLS host.example.com;received=example.com");
	parse_bad("SIP/2.0/TLS host.example.com;received=192.0.2");
	parse_bad("SIP/2.0/TLS host.example.com;maddr=ho_st");
	parse_bad("SIP/2.0/TLS host.example.com;ttl=256");
	parse_bad("SIP/2.0/TLS host.example.com;ttl=0016");
	parse_bad("SIP/2.0/TLS host.example.com;rport=0");
	parse_bad("SIP/2.0/TLS host.example.com;rport=abc");
	parse_bad("SIP/2.0/TLS host.example.com;rport=");
	parse_bad("SIP/2.0/TLS host.example.com;x=\"unterminated");
	parse_bad("SIP/2.0/TLS host.example.com;x=\"bad\"tail");
	parse_bad("SIP/2.0/TLS host.example.com;x=<y>");
	parse_bad("SIP/2.0/TLS host.example.com;=y");
	parse_bad("SIP/2.0/TLS host.example.com;a b=c");
}

/* ---- the top Via of a scanned message ---- */

static struct sip_hdr hdrs[16];

static void scan(const char *msg, struct sip_msg *m)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct slice in = guarded(msg);
	sip_msg_init(m, hdrs, 16);
	cr_assert_eq(sip_msg_scan(in.p, in.n, &lim, m), (int)in.n, "scan failed");
}

Test(sip_via, top_is_first_element_of_first_header)
{
	struct sip_msg m;
	struct sip_via v;
	scan("INVITE sip:bob@example.com SIP/2.0" CRLF
	     "v: SIP/2.0/TLS a.example.com:5061;branch=z9hG4bKa , SIP/2.0/UDP b.example.com" CRLF
	     "Via: SIP/2.0/TCP c.example.com;branch=z9hG4bKc" CRLF "Content-Length: 0" CRLF CRLF,
	     &m);
	cr_assert_eq(sip_via_top(&m, &v), 0);
	cr_assert(eq(v.host, "a.example.com"));
	cr_assert_eq(v.port, 5061);
	cr_assert(eq(v.branch, "z9hG4bKa"));
	cr_assert(inside(v.host, m.raw) && inside(v.branch, m.raw));
}

Test(sip_via, top_of_a_response_with_folded_via)
{
	struct sip_msg m;
	struct sip_via v;
	scan("SIP/2.0 200 OK" CRLF "Via: SIP / 2.0" CRLF " / TLS [2001:db8::9:1]:6050" CRLF
	     " ;branch=z9hG4bKf;rport=1" CRLF "Content-Length: 0" CRLF CRLF,
	     &m);
	cr_assert_eq(sip_via_top(&m, &v), 0);
	cr_assert(eq(v.host, "2001:db8::9:1"));
	cr_assert_eq(v.port, 6050);
	cr_assert(eq(v.branch, "z9hG4bKf"));
	cr_assert(eq(v.rport, "1"));
}

Test(sip_via, top_missing)
{
	struct sip_msg m;
	struct sip_via v;
	scan("OPTIONS sip:example.com SIP/2.0" CRLF "Content-Length: 0" CRLF CRLF, &m);
	cr_assert_eq(sip_via_top(&m, &v), -SIP_E_MISSING);
}

Test(sip_via, top_malformed)
{
	struct sip_msg m;
	struct sip_via v;
	scan("OPTIONS sip:example.com SIP/2.0" CRLF "Via: SIP/2.0 nohost" CRLF
	     "Via: SIP/2.0/TLS fine.example.com" CRLF "Content-Length: 0" CRLF CRLF,
	     &m);
	cr_assert_eq(sip_via_top(&m, &v), -SIP_E_VIA,
	             "the first Via counts, not the next good one");
	scan("OPTIONS sip:example.com SIP/2.0" CRLF "Via: SIP/2.0/TLS a.example.com;x=\"open" CRLF
	     "Content-Length: 0" CRLF CRLF,
	     &m);
	cr_assert_eq(sip_via_top(&m, &v), -SIP_E_VIA);
	scan("OPTIONS sip:example.com SIP/2.0" CRLF "Via: ,," CRLF "Content-Length: 0" CRLF CRLF,
	     &m);
	cr_assert_eq(sip_via_top(&m, &v), -SIP_E_VIA);
}

/* ---- sip_via_branch: the branch alone, for the response path ------------------------------ */

static int branch_of(const char *lit, struct slice *b)
{
	struct slice in = guarded(lit);
	int rc = sip_via_branch(in, b);
	cr_assert(inside(*b, in), "branch of %s is not inside the input", lit);
	return rc;
}

/* every element sip_via_parse accepts gives the same branch; the refused ones here are refused
 * for their parameters, which the lookup checks too */
Test(sip_via_branch, agrees_with_the_full_parse)
{
	static const char *const ok[] = {
	    "SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK776asdhds",
	    "SIP/2.0/TLS proxy.example.net:5061;branch=z9hG4bK-stls-abcdefghijklmnopqrstuvw",
	    "SIP/2.0/TCP [2001:db8::9:1]:6050;received=192.0.2.1;branch=z9hG4bKf;rport=1",
	    "SIP/2.0/UDP host.example.com;rport",
	    "SIP/2.0/TLS a.example.com ; BRANCH = z9hG4bKcase ; ttl=1",
	    "SIP/2.0/TLS a.example.com;branch=first;x=y;branch=second",
	    "SIP/2.0/TLS a.example.com;x=\"a;branch=quoted\";branch=z9hG4bKreal",
	    "  SIP / 2.0 / TLS a.example.com\r\n ;branch=z9hG4bKfolded  ",
	};
	static const char *const bad_params[] = {
	    "SIP/2.0/TLS a.example.com;",
	    "SIP/2.0/TLS a.example.com;;branch=z9hG4bKx",
	    "SIP/2.0/TLS a.example.com;branch=z9hG4bKx;",
	    "SIP/2.0/TLS a.example.com;branch=\"z9hG4bKquoted\"",
	    "SIP/2.0/TLS a.example.com;branch=a b",
	    "SIP/2.0/TLS a.example.com;bra{nch=z9hG4bKx",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct sip_via v;
		struct slice b;
		parse_ok(ok[i], &v);
		cr_assert_eq(branch_of(ok[i], &b), 0, "refused %s", ok[i]);
		cr_assert(slice_eq(b, v.branch), "branch of %s differs from the parse", ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad_params) / sizeof(*bad_params); i++) {
		struct slice b;
		parse_bad(bad_params[i]);
		cr_expect_eq(branch_of(bad_params[i], &b), -SIP_E_VIA, "accepted %s",
		             bad_params[i]);
		cr_expect_eq(b.n, 0, "left a branch after refusing %s", bad_params[i]);
	}
}

Test(sip_via_branch, values)
{
	struct slice b;
	cr_assert_eq(branch_of("SIP/2.0/TLS a.example.com;branch=first;branch=second", &b), 0);
	cr_assert(eq(b, "second"), "the last branch wins, as in sip_via_parse");
	cr_assert_eq(branch_of("SIP/2.0/TLS a.example.com:5061", &b), 0);
	cr_assert_eq(b.n, 0, "no parameters: no branch");
	cr_assert_eq(branch_of("SIP/2.0/TLS a.example.com;rport;received=192.0.2.1", &b), 0);
	cr_assert_eq(b.n, 0, "parameters without a branch: no branch");
	cr_assert_eq(branch_of("SIP/2.0/TLS a.example.com;branchx=z9hG4bKnot", &b), 0);
	cr_assert_eq(b.n, 0, "a longer name is not the branch");
	cr_assert_eq(branch_of("SIP/2.0/TLS a.example.com;x=\"branch=z9hG4bKin;q\"", &b), 0);
	cr_assert_eq(b.n, 0, "a branch inside a quoted value is not one");
}

Test(sip_via_branch, malformed)
{
	struct slice b;
	cr_assert_eq(branch_of("", &b), 0);
	cr_assert_eq(b.n, 0);
	cr_assert_eq(branch_of(";", &b), -SIP_E_VIA);
	cr_assert_eq(branch_of(";branch", &b), -SIP_E_VIA, "a branch without a value");
	cr_assert_eq(b.n, 0);
	cr_assert_eq(branch_of(";branch=", &b), -SIP_E_VIA);
	cr_assert_eq(branch_of("x;branch=z9hG4bKa;=v", &b), -SIP_E_VIA, "an empty name");
	cr_assert_eq(b.n, 0, "a refused element leaves no branch, even one found before");
	cr_assert_eq(branch_of("x;branch=z9hG4bKa\r\n;branch=b\"", &b), -SIP_E_VIA);
	cr_assert_eq(b.n, 0);
}

/* a lookup, not a validator: what sip_via_parse refuses outside the parameters is not looked
 * at (the response path authenticates the branch with its token instead) */
Test(sip_via_branch, does_not_check_sent_by)
{
	struct slice b;
	parse_bad("SIP/2.0 nohost;branch=z9hG4bKx");
	cr_assert_eq(branch_of("SIP/2.0 nohost;branch=z9hG4bKx", &b), 0);
	cr_assert(eq(b, "z9hG4bKx"));
	parse_bad("SIP/2.0/TLS a.example.com:99999;branch=z9hG4bKport");
	cr_assert_eq(branch_of("SIP/2.0/TLS a.example.com:99999;branch=z9hG4bKport", &b), 0);
	cr_assert(eq(b, "z9hG4bKport"));
}
