/* Tests for core/proxy.c: RFC 3261 16 decisions over whole dialogs, without sockets. */
#include <criterion/criterion.h>

#include <stdio.h>

#include "core/proxy.h"
#include "sip/addr.h"
#include "sip/uri.h"
#include "sip/via.h"

#define CRLF "\r\n"

static struct proxy_tenant tenants[] = {
	{ .tag = 0, .host = SLICE_LIT("cube.example.com"), .port = 5061, .sips = false },
	{ .tag = 100, .host = SLICE_LIT("203.0.113.254"), .port = 5080, .sips = true },
};
static struct proxy_target acme = { .tenant = 1, .host = SLICE_LIT("sip.acme.co"), .port = 5080 };
static struct proxy_target local = { .tenant = 0, .host = SLICE_LIT("pbx.example.com"), .port = 5061 };
static struct core_dialpeer peers[3];
static struct proxy_conf conf;

static void setup(void)
{
	size_t at;
	cr_assert_eq(core_mac_key_random(&conf.key), 0);
	peers[0] = (struct core_dialpeer){ .tag = 100, .target = &acme };
	cr_assert_eq(core_dialpeer_compile(SLICE_LIT("1..."), &peers[0].pattern, &at), 0);
	peers[1] = (struct core_dialpeer){ .tag = 200, .target = &local };
	cr_assert_eq(core_dialpeer_compile(SLICE_LIT("2..."), &peers[1].pattern, &at), 0);
	peers[2] = (struct core_dialpeer){ .tag = 300, .target = &acme };
	cr_assert_eq(core_dialpeer_compile(SLICE_LIT("96T"), &peers[2].pattern, &at), 0);
	conf.tenants = tenants;
	conf.ntenants = 2;
	conf.peers = peers;
	conf.npeers = 3;
}

TestSuite(core_proxy, .init = setup);

struct scanned {
	char buf[4096];
	struct sip_hdr hdr[64];
	struct sip_msg m;
};

static void scan(struct scanned *s, const char *text, size_t len)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	cr_assert_lt(len, sizeof(s->buf));
	memcpy(s->buf, text, len);
	sip_msg_init(&s->m, s->hdr, 64);
	cr_assert_eq(sip_msg_scan(s->buf, len, &lim, &s->m), (int)len, "%.*s", (int)len, text);
}

/* the forwarded bytes, scanned again */
static void output(const struct proxy_decision *d, struct scanned *out)
{
	struct iovec iov[SIP_EDIT_MAX_IOV];
	size_t total = 0;
	int n = sip_edit_iov(&d->edit, iov, SIP_EDIT_MAX_IOV, &total);
	cr_assert_gt(n, 0);
	char tmp[4096];
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	cr_assert_eq(off, total);
	scan(out, tmp, off);
}

static const char invite[] =
	"INVITE sip:1000@cube.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF
	"Max-Forwards: 70" CRLF
	"From: <sip:2000@pbx.example.com>;tag=a1" CRLF
	"To: <sip:1000@cube.example.com>" CRLF
	"Call-ID: call-1@pbx" CRLF
	"CSeq: 1 INVITE" CRLF
	"Contact: <sip:2000@10.1.1.1:5061;transport=tls>" CRLF
	"Content-Length: 0" CRLF CRLF;

static bool eq(struct slice s, const char *lit)
{
	return slice_eq(s, slice_cstr(lit));
}

static void forward_invite(struct scanned *in, struct proxy_decision *d, struct scanned *out)
{
	scan(in, invite, sizeof(invite) - 1);
	struct proxy_in from = { .conn = 0x0100000200000003ull, .tenant = 0 };
	cr_assert_eq(proxy_request(&conf, &from, &in->m, d), 0);
	cr_assert_eq(d->verdict, PROXY_TO_TARGET, "%s", proxy_reason_str(d->reason));
	output(d, out);
}

Test(core_proxy, initial_invite_is_rewritten_and_double_record_routed)
{
	static struct scanned in, out;
	static struct proxy_decision d;
	forward_invite(&in, &d, &out);
	cr_assert_eq(d.target, &acme);
	cr_assert(d.trying, "an INVITE gets a 100 Trying from us");
	cr_assert(eq(out.m.ruri, "sips:1000@sip.acme.co:5080"), "url sips and the session target");
	struct sip_via v;
	cr_assert_eq(sip_via_top(&out.m, &v), 0);
	cr_assert(eq(v.transport, "TLS"));
	cr_assert(eq(v.host, "203.0.113.254"), "sent-by is our address on the outbound tenant");
	cr_assert_eq(v.port, 5080);
	cr_assert(slice_eq(v.branch, slice_make(d.branch, PROXY_BRANCH_LEN)));
	cr_assert(eq(sip_msg_get(&out.m, SIP_H_MAX_FORWARDS)->value, "69"));
	const struct sip_hdr *rr = sip_msg_get(&out.m, SIP_H_RECORD_ROUTE);
	cr_assert_not_null(rr);
	cr_assert(slice_case_prefix(rr->value, SLICE_LIT("<sips:203.0.113.254:5080;transport=tls;lr;sd=o;")),
		  "top entry faces the callee: %.*s", SLICE_FMT(rr->value));
	const struct sip_hdr *rr2 = sip_msg_next(&out.m, rr);
	cr_assert_not_null(rr2);
	cr_assert(slice_case_prefix(rr2->value, SLICE_LIT("<sip:cube.example.com:5061;transport=tls;lr;sd=i;")));
	cr_assert(eq(sip_msg_get(&out.m, SIP_H_CALL_ID)->value, "call-1@pbx"));

	uint64_t conn = 0;
	cr_assert(proxy_branch_check(&conf, v.branch, SLICE_LIT("z9hG4bKcaller1"), &conn));
	cr_assert_eq(conn, 0x0100000200000003ull);
}

Test(core_proxy, responses_go_back_over_the_named_connection)
{
	static struct scanned in, out, resp;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/TLS 203.0.113.254:5080;branch=%.*s" CRLF
			 "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF
			 "From: <sip:2000@pbx.example.com>;tag=a1" CRLF
			 "To: <sip:1000@cube.example.com>;tag=b2" CRLF "Call-ID: call-1@pbx" CRLF
			 "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF,
			 (int)PROXY_BRANCH_LEN, d.branch);
	scan(&resp, text, (size_t)n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	cr_assert_eq(proxy_response(&conf, &up, &resp.m, &r), 0);
	cr_assert_eq(r.verdict, PROXY_TO_CONN);
	cr_assert_eq(r.conn, 0x0100000200000003ull);
	static struct scanned fwd;
	output(&r, &fwd);
	struct sip_via v;
	cr_assert_eq(sip_via_top(&fwd.m, &v), 0);
	cr_assert(eq(v.branch, "z9hG4bKcaller1"), "our Via is gone");
	cr_assert_eq(fwd.m.status, 180);

	/* a forged branch (another connection id, same tag) is dropped */
	char *b = strstr(text, PROXY_BRANCH_PREFIX) + strlen(PROXY_BRANCH_PREFIX);
	b[15] = b[15] == '4' ? '5' : '4';
	scan(&resp, text, (size_t)n);
	cr_assert_eq(proxy_response(&conf, &up, &resp.m, &r), 0);
	cr_assert_eq(r.verdict, PROXY_DROP);
	cr_assert_eq(r.reason, PROXY_R_VIA_NOT_OURS);

	/* the same branch bound to another client branch is not ours either */
	b[15] = b[15] == '4' ? '5' : '4';
	char *cb = strstr(text, "caller1");
	cb[6] = '2';
	scan(&resp, text, (size_t)n);
	cr_assert_eq(proxy_response(&conf, &up, &resp.m, &r), 0);
	cr_assert_eq(r.verdict, PROXY_DROP);
}

/* a 180 to the forwarded INVITE with the Via lines `vias`, where "@B" stands for our branch */
static struct proxy_decision *answer_with_vias(const struct proxy_decision *d, const char *vias,
					       struct scanned *resp)
{
	static struct proxy_decision r;
	char head[512], text[2048];
	const char *at = strstr(vias, "@B");
	cr_assert(at != NULL);
	int n = snprintf(head, sizeof(head), "%.*s%.*s%s", (int)(at - vias), vias,
			 (int)PROXY_BRANCH_LEN, d->branch, at + 2);
	cr_assert(n > 0 && (size_t)n < sizeof(head));
	n = snprintf(text, sizeof(text),
		     "SIP/2.0 180 Ringing" CRLF "%s"
		     "From: <sip:2000@pbx.example.com>;tag=a1" CRLF
		     "To: <sip:1000@cube.example.com>;tag=b2" CRLF "Call-ID: call-1@pbx" CRLF
		     "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF,
		     head);
	scan(resp, text, (size_t)n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	cr_assert_eq(proxy_response(&conf, &up, &resp->m, &r), 0);
	return &r;
}

/* RFC 3261 7.3.1: "Via: a, b" is "Via: a" "Via: b"; the top two elements are found however
 * they are laid out, quoted commas included, and the caller's Via ends up on top */
Test(core_proxy, response_via_layouts)
{
	static struct scanned in, out, resp, fwd;
	static struct proxy_decision d;
	static const char *const ours[] = {
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B, "
		"SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B," CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1, SIP/2.0/TLS b.example" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B , ,"
		"SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;x=\"a,b\";branch=@B" CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B" CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061;x=\"<,>\";branch=z9hG4bKcaller1" CRLF,
	};
	forward_invite(&in, &d, &out);
	for (size_t i = 0; i < sizeof(ours) / sizeof(*ours); i++) {
		struct proxy_decision *r = answer_with_vias(&d, ours[i], &resp);
		cr_assert_eq(r->verdict, PROXY_TO_CONN, "layout %zu: %s", i, proxy_reason_str(r->reason));
		cr_assert_eq(r->conn, 0x0100000200000003ull, "layout %zu", i);
		output(r, &fwd);
		struct sip_via v;
		cr_assert_eq(sip_via_top(&fwd.m, &v), 0, "layout %zu", i);
		cr_assert(eq(v.branch, "z9hG4bKcaller1"), "layout %zu: our Via is not gone", i);
	}
}

/* what is not a Via pair of ours is dropped: ours alone (no Via left to answer over), ours
 * below another, or the caller's Via changed to one without a branch or with a broken one */
Test(core_proxy, response_via_pairs_not_ours)
{
	static struct scanned in, out, resp;
	static struct proxy_decision d;
	static const char *const not_ours[] = {
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B," CRLF,
		"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B" CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=@B" CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1;" CRLF,
		"Via: SIP/2.0/TLS 203.0.113.254:5080;branch=x@B" CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF,
	};
	forward_invite(&in, &d, &out);
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(*not_ours); i++) {
		struct proxy_decision *r = answer_with_vias(&d, not_ours[i], &resp);
		cr_assert_eq(r->verdict, PROXY_DROP, "case %zu forwarded", i);
		cr_assert_eq(r->reason, PROXY_R_VIA_NOT_OURS, "case %zu", i);
	}
}

Test(core_proxy, upstream_100_is_absorbed)
{
	static struct scanned in, out, resp;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	char text[1024];
	int n = snprintf(text, sizeof(text),
			 "SIP/2.0 100 Trying" CRLF "Via: SIP/2.0/TLS x;branch=%.*s" CRLF
			 "Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKcaller1" CRLF "Content-Length: 0" CRLF CRLF,
			 (int)PROXY_BRANCH_LEN, d.branch);
	scan(&resp, text, (size_t)n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	proxy_response(&conf, &up, &resp.m, &r);
	cr_assert_eq(r.verdict, PROXY_DROP);
	cr_assert_eq(r.reason, PROXY_R_TRYING);
}

/* Builds an in-dialog request whose Route set is the forwarded INVITE's Record-Route, in
 * order (callee side) or reversed (caller side). */
static int in_dialog(char *text, size_t cap, const struct scanned *fwd, bool reversed, const char *method)
{
	const struct sip_hdr *rr1 = sip_msg_get(&fwd->m, SIP_H_RECORD_ROUTE);
	const struct sip_hdr *rr2 = sip_msg_next(&fwd->m, rr1);
	const struct sip_hdr *a = reversed ? rr2 : rr1, *b = reversed ? rr1 : rr2;
	return snprintf(text, cap,
			"%s sip:peer@198.51.100.7:5061;transport=tls SIP/2.0" CRLF
			"Via: SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bKdlg%d" CRLF
			"Route: %.*s, %.*s" CRLF "Max-Forwards: 70" CRLF
			"From: <sip:1000@acme>;tag=b2" CRLF "To: <sip:2000@pbx>;tag=a1" CRLF
			"Call-ID: call-1@pbx" CRLF "CSeq: 2 %s" CRLF "Content-Length: 0" CRLF CRLF,
			method, reversed, SLICE_FMT(a->value), SLICE_FMT(b->value), method);
}

Test(core_proxy, bye_from_the_callee_returns_over_the_callers_connection)
{
	static struct scanned in, out, bye, fwd;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	char text[2048];
	int n = in_dialog(text, sizeof(text), &out, false, "BYE");
	scan(&bye, text, (size_t)n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	cr_assert_eq(proxy_request(&conf, &up, &bye.m, &r), 0);
	cr_assert_eq(r.verdict, PROXY_TO_CONN, "%s", proxy_reason_str(r.reason));
	cr_assert_eq(r.conn, 0x0100000200000003ull);
	output(&r, &fwd);
	cr_assert_null(sip_msg_get(&fwd.m, SIP_H_ROUTE), "both of our Route entries are removed");
	cr_assert(eq(fwd.m.ruri, "sip:peer@198.51.100.7:5061;transport=tls"), "in-dialog R-URI kept");
	struct sip_via v;
	cr_assert_eq(sip_via_top(&fwd.m, &v), 0);
	cr_assert(eq(v.host, "cube.example.com"), "our address on the caller's side");
	cr_assert_null(sip_msg_get(&fwd.m, SIP_H_RECORD_ROUTE), "no Record-Route on in-dialog requests");
}

Test(core_proxy, bye_from_the_caller_goes_to_the_dial_peer_target)
{
	static struct scanned in, out, bye, fwd;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	char text[2048];
	int n = in_dialog(text, sizeof(text), &out, true, "BYE");
	scan(&bye, text, (size_t)n);
	struct proxy_in caller = { .conn = 0x0100000200000003ull, .tenant = 0 };
	cr_assert_eq(proxy_request(&conf, &caller, &bye.m, &r), 0);
	cr_assert_eq(r.verdict, PROXY_TO_TARGET, "%s", proxy_reason_str(r.reason));
	cr_assert_eq(r.target, &acme);
	output(&r, &fwd);
	cr_assert_null(sip_msg_get(&fwd.m, SIP_H_ROUTE));
	cr_assert_not(r.trying);
}

Test(core_proxy, broken_route_after_ours_is_400_not_500)
{
	static struct scanned in, out, bye;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	const struct sip_hdr *rr1 = sip_msg_get(&out.m, SIP_H_RECORD_ROUTE);
	const struct sip_hdr *rr2 = sip_msg_next(&out.m, rr1);
	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "BYE sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/TLS h;branch=z9hG4bKz" CRLF
			 "Route: %.*s, %.*s, <sip:far.example;lr" CRLF "From: <sip:a@b>;tag=1" CRLF
			 "To: <sip:c@d>;tag=2" CRLF "Call-ID: z" CRLF "CSeq: 3 BYE" CRLF "Content-Length: 0" CRLF CRLF,
			 SLICE_FMT(rr1->value), SLICE_FMT(rr2->value));
	scan(&bye, text, (size_t)n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	proxy_request(&conf, &up, &bye.m, &r);
	cr_assert_eq(r.verdict, PROXY_REPLY);
	cr_assert_eq(r.code, 400, "an unterminated Route after ours is the sender's error: %u", r.code);
}

Test(core_proxy, forged_record_route_is_not_ours)
{
	static struct scanned in, out, bye;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	char text[2048];
	int n = in_dialog(text, sizeof(text), &out, false, "BYE");
	char *sp = strstr(text, ";sp=100");
	sp[5] = '2'; /* claim dial-peer 200 with the same token */
	scan(&bye, text, (size_t)n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	proxy_request(&conf, &up, &bye.m, &r);
	cr_assert_neq(r.verdict, PROXY_TO_CONN, "a tampered Route cannot steer to a connection");
}

Test(core_proxy, same_tenant_records_one_entry)
{
	static struct scanned in, out, bye;
	static struct proxy_decision d, r;
	static const char inv[] = "INVITE sip:2000@cube.example.com SIP/2.0" CRLF
				  "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKx" CRLF
				  "From: <sip:1@a>;tag=1" CRLF "To: <sip:2000@b>" CRLF "Call-ID: c2" CRLF
				  "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF;
	scan(&in, inv, sizeof(inv) - 1);
	struct proxy_in from = { .conn = 9, .tenant = 0 };
	proxy_request(&conf, &from, &in.m, &d);
	cr_assert_eq(d.verdict, PROXY_TO_TARGET);
	cr_assert_eq(d.target, &local);
	output(&d, &out);
	cr_assert(eq(sip_msg_get(&out.m, SIP_H_MAX_FORWARDS)->value, "70"), "absent Max-Forwards becomes 70");
	const struct sip_hdr *rr = sip_msg_get(&out.m, SIP_H_RECORD_ROUTE);
	cr_assert_null(sip_msg_next(&out.m, rr));
	cr_assert(strstr(rr->value.p, ";sd=b;") != NULL);
	cr_assert(eq(out.m.ruri, "sip:2000@pbx.example.com:5061"));

	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "BYE sip:2000@10.9.9.9 SIP/2.0" CRLF "Via: SIP/2.0/TLS 10.9.9.9;branch=z9hG4bKb" CRLF
			 "Route: %.*s" CRLF "From: <sip:2000@b>;tag=9" CRLF "To: <sip:1@a>;tag=1" CRLF
			 "Call-ID: c2" CRLF "CSeq: 5 BYE" CRLF "Content-Length: 0" CRLF CRLF,
			 SLICE_FMT(rr->value));
	scan(&bye, text, (size_t)n);
	struct proxy_in callee = { .conn = 55, .tenant = 0 };
	proxy_request(&conf, &callee, &bye.m, &r);
	cr_assert_eq(r.verdict, PROXY_TO_CONN);
	cr_assert_eq(r.conn, 9);
	proxy_request(&conf, &from, &bye.m, &r);
	cr_assert_eq(r.verdict, PROXY_TO_TARGET, "from the caller's own connection: onward");
}

static struct proxy_decision decide(const char *text)
{
	static struct scanned s;
	struct proxy_decision d;
	scan(&s, text, strlen(text));
	struct proxy_in from = { .conn = 1, .tenant = 0 };
	cr_assert_eq(proxy_request(&conf, &from, &s.m, &d), 0);
	return d;
}

#define REQ(line, extra)                                                                           \
	line CRLF "Via: SIP/2.0/TLS 10.1.1.1;branch=z9hG4bKq" CRLF "From: <sip:a@b>;tag=1" CRLF     \
		  "To: <sip:c@d>" CRLF "Call-ID: q1" CRLF extra "Content-Length: 0" CRLF CRLF

Test(core_proxy, local_answers_and_errors)
{
	struct proxy_decision d;
	d = decide(REQ("INVITE sip:9999@x SIP/2.0", "CSeq: 1 INVITE" CRLF));
	cr_assert_eq(d.verdict, PROXY_REPLY);
	cr_assert_eq(d.code, 404);
	d = decide(REQ("ACK sip:9999@x SIP/2.0", "CSeq: 1 ACK" CRLF));
	cr_assert_eq(d.verdict, PROXY_DROP, "an ACK is never answered");
	cr_assert_eq(d.reason, PROXY_R_ACK_NO_ROUTE);
	d = decide(REQ("INVITE sip:1000@x SIP/2.0", "CSeq: 1 INVITE" CRLF "Max-Forwards: 0" CRLF));
	cr_assert_eq(d.code, 483);
	/* found by fuzz_proxy: an ACK is never answered, whatever is wrong with it */
	d = decide(REQ("ACK sip:1000@x SIP/2.0", "CSeq: 1 ACK" CRLF "Max-Forwards: 0" CRLF));
	cr_assert_eq(d.verdict, PROXY_DROP);
	cr_assert_eq(d.reason, PROXY_R_MAX_FORWARDS);
	d = decide(REQ("ACK sip:1000@x SIP/2.0", "CSeq: 1 BYE" CRLF));
	cr_assert_eq(d.verdict, PROXY_DROP, "a malformed ACK is dropped, not answered 400");
	cr_assert_eq(d.reason, PROXY_R_MALFORMED);
	d = decide(REQ("OPTIONS sip:1000@x SIP/2.0", "CSeq: 1 OPTIONS" CRLF "Max-Forwards: 0" CRLF));
	cr_assert_eq(d.code, 200);
	d = decide(REQ("OPTIONS sip:cube.example.com:5061 SIP/2.0", "CSeq: 1 OPTIONS" CRLF));
	cr_assert_eq(d.verdict, PROXY_REPLY);
	cr_assert_eq(d.code, 200);
	cr_assert_eq(d.reason, PROXY_R_LOCAL);
	d = decide(REQ("INVITE sip:1000@x SIP/2.0", "CSeq: 1 BYE" CRLF));
	cr_assert_eq(d.code, 400, "CSeq method mismatch (RFC 4475 3.1.2.17)");
	d = decide(REQ("INVITE sip:1000@x?Route=%3Csip:e%3E SIP/2.0", "CSeq: 1 INVITE" CRLF));
	cr_assert_eq(d.code, 400);
	cr_assert_eq(d.reason, PROXY_R_URI_HEADERS);
	d = decide(REQ("INVITE http://x/1000 SIP/2.0", "CSeq: 1 INVITE" CRLF));
	cr_assert_eq(d.code, 416);
	d = decide(REQ("INVITE sip:1000@x SIP/2.0", "CSeq: 1 INVITE" CRLF "Max-Forwards: 300" CRLF));
	cr_assert_eq(d.code, 400);
	d = decide("INVITE sip:1000@x SIP/2.0" CRLF "Via: SIP/2.0/TLS h;branch=z9hG4bKq" CRLF
		   "From: <sip:a@b>;tag=1" CRLF "To: <sip:c@d>" CRLF "CSeq: 1 INVITE" CRLF
		   "Content-Length: 0" CRLF CRLF);
	cr_assert_eq(d.code, 400, "no Call-ID");
}

Test(core_proxy, a_request_carrying_our_via_is_a_loop)
{
	static struct scanned in, out, again;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	/* the upstream sends it straight back to us */
	memcpy(again.buf, out.buf, out.m.raw.n);
	scan(&again, out.buf, out.m.raw.n);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	proxy_request(&conf, &up, &again.m, &r);
	cr_assert_eq(r.verdict, PROXY_REPLY);
	cr_assert_eq(r.code, 482);
}

Test(core_proxy, local_reply_is_stable_and_tagged)
{
	static struct scanned req, rep;
	scan(&req, invite, sizeof(invite) - 1);
	char a[1024], b[1024];
	int na = proxy_reply(&conf, &req.m, 503, a, sizeof(a));
	int nb = proxy_reply(&conf, &req.m, 503, b, sizeof(b));
	cr_assert_gt(na, 0);
	cr_assert_eq(na, nb);
	cr_assert_eq(memcmp(a, b, (size_t)na), 0, "a retransmission gets the same To tag");
	scan(&rep, a, (size_t)na);
	cr_assert_eq(rep.m.status, 503);
	struct sip_addr to;
	cr_assert_eq(sip_addr_parse(sip_msg_get(&rep.m, SIP_H_TO)->value, &to), 0);
	cr_assert_eq(to.tag.n, 16);
}

Test(core_proxy, local_reply_tag_is_lowercase_hex_of_the_dialog)
{
	static struct scanned req, other, rep, rep2;
	scan(&req, invite, sizeof(invite) - 1);
	char moved[sizeof(invite)];
	memcpy(moved, invite, sizeof(invite));
	memcpy(strstr(moved, "call-1@pbx"), "call-2@pbx", 10); /* another dialog, same length */
	scan(&other, moved, sizeof(invite) - 1);
	char a[1024], b[1024];
	int na = proxy_reply(&conf, &req.m, 408, a, sizeof(a));
	int nb = proxy_reply(&conf, &other.m, 408, b, sizeof(b));
	cr_assert_gt(na, 0);
	cr_assert_gt(nb, 0);
	scan(&rep, a, (size_t)na);
	struct sip_addr to, to2;
	cr_assert_eq(sip_addr_parse(sip_msg_get(&rep.m, SIP_H_TO)->value, &to), 0);
	for (size_t i = 0; i < to.tag.n; i++)
		cr_assert(strchr("0123456789abcdef", to.tag.p[i]) && to.tag.p[i],
			  "tag %.*s: 16 lowercase hex digits", SLICE_FMT(to.tag));
	scan(&rep2, b, (size_t)nb);
	cr_assert_eq(sip_addr_parse(sip_msg_get(&rep2.m, SIP_H_TO)->value, &to2), 0);
	cr_assert_eq(to2.tag.n, 16);
	cr_assert_neq(memcmp(to.tag.p, to2.tag.p, 16), 0, "another Call-ID, another tag");
}

Test(core_proxy, our_via_below_another_is_still_a_loop)
{
	static struct scanned in, out, again;
	static struct proxy_decision d, r;
	forward_invite(&in, &d, &out);
	/* it went through another proxy, which put its Via on top of ours */
	static char buf[4096];
	const char *via = strstr(out.buf, "Via: ");
	cr_assert_not_null(via);
	size_t head = (size_t)(via - out.buf);
	const char extra[] = "Via: SIP/2.0/TLS other.example;branch=z9hG4bKother" CRLF;
	memcpy(buf, out.buf, head);
	memcpy(buf + head, extra, sizeof(extra) - 1);
	memcpy(buf + head + sizeof(extra) - 1, via, out.m.raw.n - head);
	scan(&again, buf, out.m.raw.n + sizeof(extra) - 1);
	struct proxy_in up = { .conn = 77, .tenant = 1 };
	proxy_request(&conf, &up, &again.m, &r);
	cr_assert_eq(r.verdict, PROXY_REPLY);
	cr_assert_eq(r.code, 482);
	/* a branch that only looks like ours (our prefix, a token that does not verify) is not */
	char *tok = strstr(buf, PROXY_BRANCH_PREFIX);
	cr_assert_not_null(tok);
	tok[sizeof(PROXY_BRANCH_PREFIX) - 1] ^= 1;
	scan(&again, buf, out.m.raw.n + sizeof(extra) - 1);
	proxy_request(&conf, &up, &again.m, &r);
	cr_assert_neq(r.code, 482, "a forged branch is not a loop");
}

/* the values we write, byte for byte, for an IPv6 tenant: brackets, port, token lengths */
Test(core_proxy, ipv6_tenant_via_and_record_route_exact)
{
	static struct proxy_tenant v6[] = {
		{ .tag = 0, .host = SLICE_LIT("2001:db8::1"), .port = 5061, .sips = false },
	};
	static struct proxy_target t6 = { .tenant = 0, .host = SLICE_LIT("2001:db8::2"), .port = 0 };
	static struct core_dialpeer p6[1];
	static struct proxy_conf c6;
	static struct scanned in, out;
	static struct proxy_decision d;
	size_t at;
	c6 = conf;
	p6[0] = (struct core_dialpeer){ .tag = 7, .target = &t6 };
	cr_assert_eq(core_dialpeer_compile(SLICE_LIT("1..."), &p6[0].pattern, &at), 0);
	c6.tenants = v6;
	c6.ntenants = 1;
	c6.peers = p6;
	c6.npeers = 1;
	scan(&in, invite, sizeof(invite) - 1);
	struct proxy_in from = { .conn = 5, .tenant = 0 };
	cr_assert_eq(proxy_request(&c6, &from, &in.m, &d), 0);
	cr_assert_eq(d.verdict, PROXY_TO_TARGET, "%s", proxy_reason_str(d.reason));
	output(&d, &out);
	cr_assert(eq(out.m.ruri, "sip:1000@[2001:db8::2]"), "%.*s", SLICE_FMT(out.m.ruri));
	char want[200];
	int n = snprintf(want, sizeof(want), "SIP/2.0/TLS [2001:db8::1]:5061;branch=%.*s",
			 (int)PROXY_BRANCH_LEN, d.branch);
	const struct sip_hdr *via = sip_msg_get(&out.m, SIP_H_VIA);
	cr_assert(slice_eq(via->value, slice_make(want, (size_t)n)), "%.*s", SLICE_FMT(via->value));
	const struct sip_hdr *rr = sip_msg_get(&out.m, SIP_H_RECORD_ROUTE);
	struct slice pre = SLICE_LIT("<sip:[2001:db8::1]:5061;transport=tls;lr;sd=b;sp=7;sc=");
	cr_assert(slice_case_prefix(rr->value, pre), "%.*s", SLICE_FMT(rr->value));
	cr_assert_eq(rr->value.n, pre.n + CORE_TOKEN_LEN + 1, "a %d-character token, then '>'",
		     CORE_TOKEN_LEN);
	cr_assert_null(sip_msg_next(&out.m, rr), "one tenant: one entry");
}

Test(core_proxy, a_host_too_long_for_the_via_is_500_not_cut)
{
	static char big[380];
	memset(big, 'h', sizeof(big));
	static struct proxy_tenant lt[2];
	static struct proxy_conf cl;
	static struct scanned in;
	static struct proxy_decision d;
	lt[0] = tenants[0];
	lt[1] = tenants[1];
	lt[1].host = slice_make(big, sizeof(big));
	cl = conf;
	cl.tenants = lt;
	scan(&in, invite, sizeof(invite) - 1);
	struct proxy_in from = { .conn = 5, .tenant = 0 };
	cr_assert_eq(proxy_request(&cl, &from, &in.m, &d), 0);
	cr_assert_eq(d.verdict, PROXY_REPLY);
	cr_assert_eq(d.code, 500);
	cr_assert_eq(d.reason, PROXY_R_EDIT);
}

/* RFC 3261 19.1.6: a tel: number toward a sip(s): target becomes the user part, its parameters
 * with it, ";user=phone" after the host, and "#" (not a SIP user character) %-escaped; the
 * forward must scan as a request with a parseable Request-URI (fuzz_proxy found it did not) */
Test(core_proxy, tel_number_becomes_an_escaped_user_part)
{
	static struct scanned in, out;
	static struct proxy_decision d;
	static const char tel[] =
		"INVITE tel:967##;phone-context=example.com SIP/2.0" CRLF
		"Via: SIP/2.0/TLS 10.1.1.1:5061;branch=z9hG4bKtel1" CRLF
		"From: <sip:2000@pbx.example.com>;tag=a1" CRLF
		"To: <tel:967##>" CRLF
		"Call-ID: tel-1@pbx" CRLF
		"CSeq: 1 INVITE" CRLF
		"Content-Length: 0" CRLF CRLF;
	scan(&in, tel, sizeof(tel) - 1);
	struct proxy_in from = { .conn = 0x0100000200000003ull, .tenant = 0 };
	cr_assert_eq(proxy_request(&conf, &from, &in.m, &d), 0);
	cr_assert_eq(d.verdict, PROXY_TO_TARGET, "%s", proxy_reason_str(d.reason));
	output(&d, &out);
	cr_assert(eq(out.m.ruri, "sips:967%23%23;phone-context=example.com@sip.acme.co:5080;user=phone"),
		  "%.*s", SLICE_FMT(out.m.ruri));
	struct sip_uri u;
	cr_assert_eq(sip_uri_parse(out.m.ruri, &u), 0);
	cr_assert(eq(u.user, "967%23%23;phone-context=example.com"), "%.*s", SLICE_FMT(u.user));
}
