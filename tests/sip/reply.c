/* tests for sip/reply.c: every reply is scanned back and checked field by field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sip/msg.h"
#include "sip/reply.h"

#define HDR_CAP 64

static const char invite[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS p2.example.net;branch=z9hG4bK2, SIP/2.0/TLS p1.example.net;"
    "branch=z9hG4bK1\r\n"
    "Max-Forwards: 69\r\n"
    "v: SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9;rport=5061\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@client.atlanta.example.com;transport=tls>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

struct req {
	struct sip_hdr hdr[HDR_CAP];
	struct sip_msg m;
};

struct rsp {
	struct sip_hdr hdr[HDR_CAP];
	struct sip_msg m;
	char buf[4096];
	int n;
};

static void scan_req(struct req *r, const char *msg)
{
	const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	size_t n = strlen(msg);

	sip_msg_init(&r->m, r->hdr, HDR_CAP);
	cr_assert_eq(sip_msg_scan(msg, n, &lim, &r->m), (int)n, "fixture does not scan: %s", msg);
}

/* builds the reply and scans it back as one complete response */
static void build(struct rsp *s, const struct req *r, unsigned code, const char *tag,
                  const char *extra)
{
	const struct sip_limits lim = SIP_LIMITS_DEFAULT;

	s->n = sip_reply_build(&r->m, code, slice_cstr(tag), slice_cstr(extra), s->buf,
	                       sizeof(s->buf));
	cr_assert_gt(s->n, 0, "sip_reply_build: %d", s->n);
	sip_msg_init(&s->m, s->hdr, HDR_CAP);
	cr_assert_eq(sip_msg_scan(s->buf, (size_t)s->n, &lim, &s->m), s->n, "reply:\n%.*s", s->n,
	             s->buf);
	cr_assert_eq(s->m.kind, SIP_KIND_RESPONSE);
	cr_assert_eq(s->m.status, code);
	cr_assert_eq(s->m.content_length, 0);
	cr_assert_eq(s->m.body.n, 0);
}

static void assert_value(const struct sip_hdr *h, const char *want)
{
	cr_assert_not_null(h, "header missing, want %s", want);
	cr_assert(slice_eq(h->value, slice_cstr(want)), "value '%.*s', want '%s'",
	          SLICE_FMT(h->value), want);
}

/* invite with the line starting with `from` replaced by `to` (may be "") */
static const char *variant(const char *from, const char *to)
{
	static char buf[2048];
	const char *at = strstr(invite, from);
	const char *eol;

	cr_assert_not_null(at, "fixture has no %s", from);
	eol = strstr(at, "\r\n") + 2;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - invite), invite, to, eol);
	return buf;
}

Test(reply, reasons)
{
	static const unsigned codes[] = {100, 180, 183, 200, 400, 403, 404, 408, 420,
	                                 480, 481, 483, 487, 500, 503, 504, 505, 513};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct slice r = sip_reply_reason(codes[i]);
		cr_assert(r.n > 0 && !slice_eq(r, SLICE_LIT("Unknown")), "code %u", codes[i]);
	}
	cr_assert(slice_eq(sip_reply_reason(100), SLICE_LIT("Trying")));
	cr_assert(slice_eq(sip_reply_reason(483), SLICE_LIT("Too Many Hops")));
	cr_assert(slice_eq(sip_reply_reason(513), SLICE_LIT("Message Too Large")));
	cr_assert(slice_eq(sip_reply_reason(0), SLICE_LIT("Unknown")));
	cr_assert(slice_eq(sip_reply_reason(499), SLICE_LIT("Unknown")));
}

Test(reply, trying_copies_vias_in_order_and_adds_no_tag)
{
	struct req r;
	struct rsp s;
	const struct sip_hdr *via;

	scan_req(&r, invite);
	build(&s, &r, 100, "abc", "");
	cr_assert(slice_eq(s.m.start_line, SLICE_LIT("SIP/2.0 100 Trying")));
	cr_assert(slice_eq(s.m.reason, SLICE_LIT("Trying")));
	via = sip_msg_get(&s.m, SIP_H_VIA);
	assert_value(via, "SIP/2.0/TLS p2.example.net;branch=z9hG4bK2, SIP/2.0/TLS p1.example.net;"
	                  "branch=z9hG4bK1");
	via = sip_msg_next(&s.m, via);
	assert_value(via, "SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9;"
	                  "rport=5061");
	cr_assert_null(sip_msg_next(&s.m, via));
	assert_value(sip_msg_get(&s.m, SIP_H_FROM),
	             "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl");
	assert_value(sip_msg_get(&s.m, SIP_H_TO), "Bob <sip:bob@biloxi.example.com>");
	assert_value(sip_msg_get(&s.m, SIP_H_CALL_ID), "3848276298220188511@atlanta.example.com");
	assert_value(sip_msg_get(&s.m, SIP_H_CSEQ), "1 INVITE");
	assert_value(sip_msg_get(&s.m, SIP_H_CONTENT_LENGTH), "0");
	/* nothing of the request that a response must not carry */
	cr_assert_null(sip_msg_get(&s.m, SIP_H_MAX_FORWARDS));
	cr_assert_null(sip_msg_get(&s.m, SIP_H_CONTACT));
}

Test(reply, final_response_gets_our_tag)
{
	struct req r;
	struct rsp s;

	scan_req(&r, invite);
	build(&s, &r, 404, "f00d", "");
	cr_assert(slice_eq(s.m.start_line, SLICE_LIT("SIP/2.0 404 Not Found")));
	assert_value(sip_msg_get(&s.m, SIP_H_TO), "Bob <sip:bob@biloxi.example.com>;tag=f00d");
	build(&s, &r, 180, "f00d", "");
	assert_value(sip_msg_get(&s.m, SIP_H_TO), "Bob <sip:bob@biloxi.example.com>;tag=f00d");
}

Test(reply, existing_to_tag_is_kept)
{
	static const char *const tagged[] = {
	    "To: Bob <sip:bob@biloxi.example.com>;tag=314159",
	    "t: <sip:bob@biloxi.example.com>;x=1 ; TAG = 314159",
	    "To: sip:bob@biloxi.example.com;tag=314159",
	};
	for (size_t i = 0; i < sizeof(tagged) / sizeof(tagged[0]); i++) {
		char line[256];
		struct req r;
		struct rsp s;

		snprintf(line, sizeof(line), "%s\r\n", tagged[i]);
		scan_req(&r, variant("To:", line));
		build(&s, &r, 481, "f00d", "");
		assert_value(sip_msg_get(&s.m, SIP_H_TO), strchr(tagged[i], ':') + 2);
	}
}

Test(reply, tag_lookalikes_do_not_count)
{
	static const char *const untagged[] = {
	    /* inside the URI (a URI parameter, not a header parameter) */
	    "To: <sip:bob@biloxi.example.com;tag=1>",
	    /* inside the quoted display name */
	    "To: \"Bob;tag=1\" <sip:bob@biloxi.example.com>",
	    /* another parameter that starts with tag */
	    "To: <sip:bob@biloxi.example.com>;tagx=1",
	};
	for (size_t i = 0; i < sizeof(untagged) / sizeof(untagged[0]); i++) {
		char line[256], want[256];
		struct req r;
		struct rsp s;

		snprintf(line, sizeof(line), "%s\r\n", untagged[i]);
		snprintf(want, sizeof(want), "%s;tag=f00d", untagged[i] + 4);
		scan_req(&r, variant("To:", line));
		build(&s, &r, 200, "f00d", "");
		assert_value(sip_msg_get(&s.m, SIP_H_TO), want);
	}
}

Test(reply, extra_lines_are_added)
{
	struct req r;
	struct rsp s;
	const struct sip_hdr *h;

	scan_req(&r, variant("INVITE", "OPTIONS sip:proxy.example.net SIP/2.0\r\n"));
	build(&s, &r, 200, "t1", "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\nAccept: */*\r\n");
	h = sip_msg_find(&s.m, SLICE_LIT("Allow"));
	assert_value(h, "INVITE, ACK, BYE, CANCEL, OPTIONS");
	assert_value(sip_msg_find(&s.m, SLICE_LIT("Accept")), "*/*");
}

Test(reply, short_buffer_is_nospace)
{
	struct req r;
	char buf[1024];
	int n;

	scan_req(&r, invite);
	n = sip_reply_build(&r.m, 503, SLICE_LIT("x"), SLICE_LIT(""), buf, sizeof(buf));
	cr_assert_gt(n, 0);
	for (int cap = 0; cap < n; cap++)
		cr_assert_eq(
		    sip_reply_build(&r.m, 503, SLICE_LIT("x"), SLICE_LIT(""), buf, (size_t)cap),
		    -SIP_E_NOSPACE, "cap %d", cap);
	cr_assert_eq(sip_reply_build(&r.m, 503, SLICE_LIT("x"), SLICE_LIT(""), buf, (size_t)n), n);
	cr_assert(memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
}

Test(reply, missing_headers)
{
	static const enum sip_hdr_id need[] = {SIP_H_VIA, SIP_H_FROM, SIP_H_TO, SIP_H_CALL_ID,
	                                       SIP_H_CSEQ};
	struct req r;
	char buf[1024];

	scan_req(&r, variant("Call-ID", ""));
	cr_assert_eq(sip_reply_build(&r.m, 400, SLICE_LIT("x"), SLICE_LIT(""), buf, sizeof(buf)),
	             -SIP_E_MISSING);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		struct sip_msg m;

		scan_req(&r, invite);
		m = r.m;
		m.first[need[i]] = 0; /* as if the request had none */
		cr_assert_eq(
		    sip_reply_build(&m, 400, SLICE_LIT("x"), SLICE_LIT(""), buf, sizeof(buf)),
		    -SIP_E_MISSING, "header %d", need[i]);
	}
}

Test(reply, bad_code_or_not_a_request)
{
	struct req r;
	char buf[1024];

	scan_req(&r, invite);
	cr_assert_eq(sip_reply_build(&r.m, 99, SLICE_LIT("x"), SLICE_LIT(""), buf, sizeof(buf)),
	             -SIP_E_START_LINE);
	cr_assert_eq(sip_reply_build(&r.m, 700, SLICE_LIT("x"), SLICE_LIT(""), buf, sizeof(buf)),
	             -SIP_E_START_LINE);
	scan_req(&r, "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS a\r\nFrom: <sip:a@b>\r\n"
	             "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(sip_reply_build(&r.m, 200, SLICE_LIT("x"), SLICE_LIT(""), buf, sizeof(buf)),
	             -SIP_E_START_LINE);
}
