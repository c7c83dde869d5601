/* Tests for sip/msg.c: framing, start lines, header index, limits, keep-alives, lists. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sip/msg.h"

#define CRLF "\r\n"

static const char invite[] =
	"INVITE sip:+15551234567@trunk.example.net;user=phone SIP/2.0" CRLF
	"Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK776asdhds" CRLF
	"v: SIP/2.0/TLS edge.example.com;branch=z9hG4bKnashds8, SIP/2.0/TLS 10.0.0.9;branch=z9hG4bK1" CRLF
	"Max-Forwards: 70" CRLF
	"To: <sip:+15551234567@trunk.example.net>" CRLF
	"f: \"Alice, A.\" <sip:alice@pbx.example.com>;tag=1928301774" CRLF
	"i: a84b4c76e66710@pbx.example.com" CRLF
	"CSeq: 314159 INVITE" CRLF
	"Subject: folded" CRLF
	"  continued here" CRLF
	"X-Custom: one" CRLF
	"x-custom: two" CRLF
	"c: application/sdp" CRLF
	"l: 5" CRLF
	CRLF
	"v=0" CRLF;

static struct sip_hdr hdrs[64];

static int scan(const char *buf, size_t len, struct sip_msg *m)
{
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	sip_msg_init(m, hdrs, 64);
	return sip_msg_scan(buf, len, &lim, m);
}

static bool inside(struct slice s, const char *buf, size_t len)
{
	return s.p >= buf && s.p + s.n <= buf + len;
}

static bool eq(struct slice s, const char *lit)
{
	return slice_eq(s, slice_cstr(lit));
}

Test(sip_msg, frames_and_indexes_an_invite)
{
	struct sip_msg m;
	size_t len = sizeof(invite) - 1;
	cr_assert_eq(scan(invite, len, &m), (int)len);
	cr_assert_eq(m.kind, SIP_KIND_REQUEST);
	cr_assert_eq(m.method_id, SIP_M_INVITE);
	cr_assert(eq(m.ruri, "sip:+15551234567@trunk.example.net;user=phone"));
	cr_assert_eq(m.nhdr, 12);
	cr_assert_eq(m.content_length, 5);
	cr_assert(eq(m.body, "v=0" CRLF));
	cr_assert_eq(m.head_len, len - 5);
	for (uint32_t i = 0; i < m.nhdr; i++) {
		cr_assert(inside(m.hdr[i].name, invite, len));
		cr_assert(inside(m.hdr[i].value, invite, len));
		cr_assert(inside(m.hdr[i].line, invite, len));
		cr_assert_eq(m.hdr[i].line.p, m.hdr[i].name.p);
		cr_assert_eq(m.hdr[i].line.p[m.hdr[i].line.n - 1], '\n');
	}
	const struct sip_hdr *v = sip_msg_get(&m, SIP_H_VIA);
	cr_assert(eq(v->value, "SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK776asdhds"));
	const struct sip_hdr *v2 = sip_msg_next(&m, v);
	cr_assert(eq(v2->name, "v"));
	cr_assert_null(sip_msg_next(&m, v2));
	cr_assert(eq(sip_msg_get(&m, SIP_H_CALL_ID)->value, "a84b4c76e66710@pbx.example.com"));
	cr_assert(eq(sip_msg_get(&m, SIP_H_CONTENT_TYPE)->value, "application/sdp"));
	cr_assert(eq(sip_msg_get(&m, SIP_H_SUBJECT)->value, "folded" CRLF "  continued here"));
	cr_assert(eq(sip_msg_get(&m, SIP_H_SUBJECT)->line, "Subject: folded" CRLF "  continued here" CRLF));
	const struct sip_hdr *x = sip_msg_find(&m, SLICE_LIT("X-CUSTOM"));
	cr_assert(eq(x->value, "one"));
	cr_assert(eq(sip_msg_next(&m, x)->value, "two"));
	cr_assert_null(sip_msg_get(&m, SIP_H_ROUTE));
	cr_assert_eq(sip_msg_find(&m, SLICE_LIT("call-id")), sip_msg_get(&m, SIP_H_CALL_ID));
	cr_assert_eq(sip_msg_find(&m, SLICE_LIT("I")), sip_msg_get(&m, SIP_H_CALL_ID));
}

Test(sip_msg, every_prefix_is_incomplete_never_wrong)
{
	size_t len = sizeof(invite) - 1;
	for (size_t n = 0; n < len; n++) {
		struct sip_msg m;
		cr_assert_eq(scan(invite, n, &m), 0, "prefix %zu", n);
	}
}

Test(sip_msg, byte_at_a_time_resumes_to_the_same_result)
{
	size_t len = sizeof(invite) - 1;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg m;
	sip_msg_init(&m, hdrs, 64);
	int rc = 0;
	size_t n;
	for (n = 1; n <= len && rc == 0; n++)
		rc = sip_msg_scan(invite, n, &lim, &m);
	cr_assert_eq(rc, (int)len);
	cr_assert_eq(n - 1, len);
	cr_assert_eq(m.nhdr, 12);
	cr_assert(eq(m.body, "v=0" CRLF));
}

Test(sip_msg, messages_back_to_back_and_keepalives)
{
	char buf[4096];
	size_t inv = sizeof(invite) - 1;
	static const char opt[] = "OPTIONS sip:proxy.example.com SIP/2.0" CRLF
				  "Via: SIP/2.0/TLS h;branch=z9hG4bKx" CRLF "Content-Length: 0" CRLF CRLF;
	size_t n = 0;
	memcpy(buf + n, "\r\n\r\n", 4), n += 4;
	memcpy(buf + n, invite, inv), n += inv;
	memcpy(buf + n, "\r\n", 2), n += 2;
	memcpy(buf + n, opt, sizeof(opt) - 1), n += sizeof(opt) - 1;

	struct sip_msg m;
	size_t off = 0;
	int kinds[8], k = 0, rc;
	while (off < n && (rc = scan(buf + off, n - off, &m)) > 0) {
		kinds[k++] = m.kind;
		off += (size_t)rc;
	}
	cr_assert_eq(off, n);
	cr_assert_eq(k, 4);
	cr_assert_eq(kinds[0], SIP_KIND_PING);
	cr_assert_eq(kinds[1], SIP_KIND_REQUEST);
	cr_assert_eq(kinds[2], SIP_KIND_PONG);
	cr_assert_eq(kinds[3], SIP_KIND_REQUEST);
	cr_assert_eq(m.method_id, SIP_M_OPTIONS);
}

Test(sip_msg, keepalive_edges)
{
	struct sip_msg m;
	cr_assert_eq(scan("\r", 1, &m), 0);
	cr_assert_eq(scan("\r\n", 2, &m), 0, "a lone CRLF may be the start of a ping");
	cr_assert_eq(scan("\r\n\r", 3, &m), 0);
	cr_assert_eq(scan("\r\nI", 3, &m), 2);
	cr_assert_eq(m.kind, SIP_KIND_PONG);
	cr_assert_eq(scan("\r\n\r\n", 4, &m), 4);
	cr_assert_eq(m.kind, SIP_KIND_PING);
	cr_assert_eq(scan("\rX", 2, &m), -SIP_E_EOL);
	cr_assert_eq(scan("\n", 1, &m), -SIP_E_EOL);
}

Test(sip_msg, responses)
{
	struct sip_msg m;
	static const char ok[] = "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/TLS a;branch=z9hG4bK1" CRLF
				 "Content-Length: 0" CRLF CRLF;
	cr_assert_eq(scan(ok, sizeof(ok) - 1, &m), (int)sizeof(ok) - 1);
	cr_assert_eq(m.kind, SIP_KIND_RESPONSE);
	cr_assert_eq(m.status, 200);
	cr_assert(eq(m.reason, "OK"));

	static const char noreason[] = "SIP/2.0 100 " CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(noreason, sizeof(noreason) - 1, &m), (int)sizeof(noreason) - 1);
	cr_assert_eq(m.status, 100);
	cr_assert_eq(m.reason.n, 0);

	static const char utf8[] = "SIP/2.0 480 Temporarily \xe4\xb8\x8d\xe5\x9c\xa8" CRLF "l: 0" CRLF CRLF;
	cr_assert_gt(scan(utf8, sizeof(utf8) - 1, &m), 0);
	cr_assert_eq(m.status, 480);

	const char *bad[] = {
		"SIP/2.0 4294967301 Big" CRLF "l: 0" CRLF CRLF,
		"SIP/2.0 20 Short" CRLF "l: 0" CRLF CRLF,
		"SIP/2.0 099 Low" CRLF "l: 0" CRLF CRLF,
		"SIP/2.0 700 High" CRLF "l: 0" CRLF CRLF,
		"SIP/2.0  200 OK" CRLF "l: 0" CRLF CRLF,
		"SIP/2.0 2x0 OK" CRLF "l: 0" CRLF CRLF,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(scan(bad[i], strlen(bad[i]), &m), -SIP_E_START_LINE, "%s", bad[i]);
	static const char v7[] = "SIP/7.0 200 OK" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(v7, sizeof(v7) - 1, &m), -SIP_E_VERSION);
}

Test(sip_msg, request_line_rules)
{
	struct sip_msg m;
	const char *bad[] = {
		"INVITE  sip:a@b SIP/2.0" CRLF,          /* two SP (RFC 4475 lwsstart) */
		"INVITE sip:a@b SIP/2.0 " CRLF,          /* trailing SP (trws) */
		"INVITE <sip:a@b> SIP/2.0" CRLF,         /* <> around the URI (ltgtruri) */
		"INVITE sip:a@b; lr SIP/2.0" CRLF,       /* LWS in the URI (lwsruri) */
		"INVITE sip:a@b" CRLF,                   /* no version */
		"INVITE nocolon SIP/2.0" CRLF,           /* not an absoluteURI */
		"INV(TE sip:a@b SIP/2.0" CRLF,           /* method not a token */
		"INVITE sip:a@b SIP/2" CRLF,             /* version not n.n */
		" INVITE sip:a@b SIP/2.0" CRLF,          /* leading SP */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[256];
		int n = snprintf(buf, sizeof(buf), "%sl: 0" CRLF CRLF, bad[i]);
		cr_assert_eq(scan(buf, (size_t)n, &m), -SIP_E_START_LINE, "%s", bad[i]);
	}
	static const char v[] = "INVITE sip:a@b SIP/7.0" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(v, sizeof(v) - 1, &m), -SIP_E_VERSION);
	cr_assert_eq(m.kind, SIP_KIND_REQUEST, "a 505 needs the request line: it stays readable");
	cr_assert_eq(m.method_id, SIP_M_INVITE);

	static const char lower[] = "INVITE sip:a@b sip/2.0" CRLF "l: 0" CRLF CRLF;
	cr_assert_gt(scan(lower, sizeof(lower) - 1, &m), 0, "SIP-Version literal is case-insensitive");
	static const char ext[] = "NEWMETHOD sip:a@b SIP/2.0" CRLF "l: 0" CRLF CRLF;
	cr_assert_gt(scan(ext, sizeof(ext) - 1, &m), 0);
	cr_assert_eq(m.method_id, SIP_M_OTHER);
	cr_assert(eq(m.method, "NEWMETHOD"));
	static const char lc[] = "invite sip:a@b SIP/2.0" CRLF "l: 0" CRLF CRLF;
	cr_assert_gt(scan(lc, sizeof(lc) - 1, &m), 0);
	cr_assert_eq(m.method_id, SIP_M_OTHER, "methods are case-sensitive");
}

Test(sip_msg, content_length_rules)
{
	struct sip_msg m;
	static const char none[] = "BYE sip:a@b SIP/2.0" CRLF "Call-ID: x" CRLF CRLF;
	cr_assert_eq(scan(none, sizeof(none) - 1, &m), -SIP_E_NO_CLEN);
	static const char neg[] = "BYE sip:a@b SIP/2.0" CRLF "X: y" CRLF "Content-Length: -999" CRLF CRLF;
	cr_assert_eq(scan(neg, sizeof(neg) - 1, &m), -SIP_E_CLEN);
	cr_assert_eq(m.err_off, 27, "err_off names the Content-Length line");
	static const char two[] = "BYE sip:a@b SIP/2.0" CRLF "l: 0" CRLF "Content-Length: 1" CRLF CRLF "x";
	cr_assert_eq(scan(two, sizeof(two) - 1, &m), -SIP_E_CLEN);
	static const char same[] = "BYE sip:a@b SIP/2.0" CRLF "l: 1" CRLF "Content-Length: 1" CRLF CRLF "x";
	cr_assert_eq(scan(same, sizeof(same) - 1, &m), (int)sizeof(same) - 1);
	static const char big[] = "BYE sip:a@b SIP/2.0" CRLF "l: 99999999999999999999999" CRLF CRLF;
	cr_assert_eq(scan(big, sizeof(big) - 1, &m), -SIP_E_CLEN);
	static const char over[] = "BYE sip:a@b SIP/2.0" CRLF "l: 70000" CRLF CRLF;
	cr_assert_eq(scan(over, sizeof(over) - 1, &m), -SIP_E_TOO_BIG);
	static const char more[] = "BYE sip:a@b SIP/2.0" CRLF "l: 10" CRLF CRLF "short";
	cr_assert_eq(scan(more, sizeof(more) - 1, &m), 0, "a longer Content-Length waits on a stream");
	static const char junk[] = "BYE sip:a@b SIP/2.0" CRLF "l: 1x" CRLF CRLF;
	cr_assert_eq(scan(junk, sizeof(junk) - 1, &m), -SIP_E_CLEN);
}

Test(sip_msg, line_ends_must_be_crlf)
{
	struct sip_msg m;
	static const char lf[] = "BYE sip:a@b SIP/2.0\nl: 0\n\n";
	cr_assert_eq(scan(lf, sizeof(lf) - 1, &m), -SIP_E_EOL);
	static const char cr[] = "BYE sip:a@b SIP/2.0" CRLF "X: a\rb" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(cr, sizeof(cr) - 1, &m), -SIP_E_EOL);
	cr_assert_eq(m.err_off, 21, "the log can name the broken line");
	static const char nul[] = "BYE sip:a@b SIP/2.0" CRLF "X: a\0b" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(nul, sizeof(nul) - 1, &m), -SIP_E_EOL);
	static const char qnul[] = "BYE sip:a@b SIP/2.0" CRLF "To: \"x\\\0y\" <sip:a@b>" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(qnul, sizeof(qnul) - 1, &m), (int)sizeof(qnul) - 1,
		     "a quoted-pair may escape NUL (RFC 4475 3.1.1.2 intmeth)");
	static const char inj[] = "BYE sip:a@b SIP/2.0" CRLF "X: a\nVia: SIP/2.0/TLS evil" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(inj, sizeof(inj) - 1, &m), -SIP_E_EOL, "no header smuggling with bare LF");
}

Test(sip_msg, malformed_header_lines)
{
	struct sip_msg m;
	const char *bad[] = {
		"NoColonHere" CRLF,
		": empty name" CRLF,
		"Bad Name: x" CRLF,
		"Bad(Name): x" CRLF,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[256];
		int n = snprintf(buf, sizeof(buf), "BYE sip:a@b SIP/2.0" CRLF "%sl: 0" CRLF CRLF, bad[i]);
		cr_assert_eq(scan(buf, (size_t)n, &m), -SIP_E_HEADER, "%s", bad[i]);
		cr_assert_eq(m.err_off, 21);
	}
	static const char fold_first[] = "BYE sip:a@b SIP/2.0" CRLF " folded" CRLF "l: 0" CRLF CRLF;
	cr_assert_eq(scan(fold_first, sizeof(fold_first) - 1, &m), -SIP_E_HEADER);
	static const char ws[] = "BYE sip:a@b SIP/2.0" CRLF "Via  \t:  SIP/2.0/TLS h  " CRLF "l: 0" CRLF CRLF;
	cr_assert_gt(scan(ws, sizeof(ws) - 1, &m), 0, "HCOLON allows WSP before the colon");
	cr_assert(eq(sip_msg_get(&m, SIP_H_VIA)->value, "SIP/2.0/TLS h"));
	static const char empty[] = "BYE sip:a@b SIP/2.0" CRLF "Subject:" CRLF "l: 0" CRLF CRLF;
	cr_assert_gt(scan(empty, sizeof(empty) - 1, &m), 0);
	const struct sip_hdr *s = sip_msg_get(&m, SIP_H_SUBJECT);
	cr_assert_eq(s->value.n, 0);
	cr_assert(inside(s->value, empty, sizeof(empty) - 1));
}

Test(sip_msg, limits)
{
	struct sip_msg m;
	struct sip_limits lim = { .max_msg = 200, .max_headers = 3, .max_line = 40 };
	static const char many[] = "BYE sip:a@b SIP/2.0" CRLF "A: 1" CRLF "B: 2" CRLF "C: 3" CRLF
				   "l: 0" CRLF CRLF;
	sip_msg_init(&m, hdrs, 64);
	cr_assert_eq(sip_msg_scan(many, sizeof(many) - 1, &lim, &m), -SIP_E_TOO_MANY_HEADERS);
	sip_msg_init(&m, hdrs, 2);
	lim.max_headers = 10;
	cr_assert_eq(sip_msg_scan(many, sizeof(many) - 1, &lim, &m), -SIP_E_TOO_MANY_HEADERS,
		     "the caller's array bounds the count too");

	static const char longline[] = "BYE sip:a@b SIP/2.0" CRLF
				       "X: 0123456789012345678901234567890123456789" CRLF "l: 0" CRLF CRLF;
	sip_msg_init(&m, hdrs, 64);
	cr_assert_eq(sip_msg_scan(longline, sizeof(longline) - 1, &lim, &m), -SIP_E_LINE_TOO_LONG);
	sip_msg_init(&m, hdrs, 64);
	cr_assert_eq(sip_msg_scan(longline, 70, &lim, &m), -SIP_E_LINE_TOO_LONG,
		     "a long line is refused before its end arrives");

	char body[512];
	int n = snprintf(body, sizeof(body), "BYE sip:a@b SIP/2.0" CRLF "l: 190" CRLF CRLF);
	sip_msg_init(&m, hdrs, 64);
	cr_assert_eq(sip_msg_scan(body, (size_t)n, &lim, &m), -SIP_E_TOO_BIG);

	/* a head that never ends is refused at max_msg, also on the resume path */
	char endless[400];
	memcpy(endless, "BYE sip:a@b SIP/2.0" CRLF, 21);
	for (int i = 21; i + 7 <= (int)sizeof(endless); i += 7)
		memcpy(endless + i, "X: 12" CRLF, 7);
	lim = (struct sip_limits){ .max_msg = 200, .max_headers = 100, .max_line = 40 };
	sip_msg_init(&m, hdrs, 64);
	cr_assert_eq(sip_msg_scan(endless, 150, &lim, &m), 0);
	cr_assert_eq(sip_msg_scan(endless, 399, &lim, &m), -SIP_E_TOO_BIG);
}

/* The scanner must never read past len: put the message flush against a PROT_NONE page. */
Test(sip_msg, no_read_past_the_end)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
	size_t len = sizeof(invite) - 1;
	for (size_t n = 0; n <= len; n++) {
		char *p = map + pg - n;
		memcpy(p, invite, n);
		struct sip_msg m;
		int rc = scan(p, n, &m);
		cr_assert_eq(rc, n == len ? (int)len : 0);
	}
	munmap(map, (size_t)pg * 2);
}

Test(sip_msg, header_ids_long_and_compact)
{
	static const struct {
		const char *name;
		enum sip_hdr_id id;
	} t[] = {
		{ "Via", SIP_H_VIA },
		{ "v", SIP_H_VIA },
		{ "V", SIP_H_VIA },
		{ "ROUTE", SIP_H_ROUTE },
		{ "record-route", SIP_H_RECORD_ROUTE },
		{ "Max-Forwards", SIP_H_MAX_FORWARDS },
		{ "l", SIP_H_CONTENT_LENGTH },
		{ "content-length", SIP_H_CONTENT_LENGTH },
		{ "i", SIP_H_CALL_ID },
		{ "Call-Id", SIP_H_CALL_ID },
		{ "cseq", SIP_H_CSEQ },
		{ "f", SIP_H_FROM },
		{ "t", SIP_H_TO },
		{ "m", SIP_H_CONTACT },
		{ "c", SIP_H_CONTENT_TYPE },
		{ "e", SIP_H_CONTENT_ENCODING },
		{ "s", SIP_H_SUBJECT },
		{ "k", SIP_H_SUPPORTED },
		{ "o", SIP_H_EVENT },
		{ "u", SIP_H_ALLOW_EVENTS },
		{ "r", SIP_H_REFER_TO },
		{ "x", SIP_H_SESSION_EXPIRES },
		{ "y", SIP_H_IDENTITY },
		{ "b", SIP_H_REFERRED_BY },
		{ "Allow-Events", SIP_H_ALLOW_EVENTS },
		{ "Proxy-Require", SIP_H_PROXY_REQUIRE },
		{ "require", SIP_H_REQUIRE },
		{ "Expires", SIP_H_EXPIRES },
		{ "a", SIP_H_OTHER },
		{ "z", SIP_H_OTHER },
		{ "1", SIP_H_OTHER },
		{ "Vias", SIP_H_OTHER },
		{ "Content-Lengths", SIP_H_OTHER },
		{ "X-Anything-Longer-Than-Sixteen", SIP_H_OTHER },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(sip_hdr_id_of(slice_cstr(t[i].name)), t[i].id, "%s", t[i].name);
	for (int id = 1; id < SIP_H__COUNT; id++)
		cr_assert_eq(sip_hdr_id_of(sip_hdr_name((enum sip_hdr_id)id)), id, "round trip %d", id);
	cr_assert_eq(sip_hdr_name(SIP_H_OTHER).n, 0);
}

Test(sip_msg, methods)
{
	for (int id = 1; id < SIP_M__COUNT; id++)
		cr_assert_eq(sip_method_of(sip_method_name((enum sip_method)id)), id);
	cr_assert_eq(sip_method_of(SLICE_LIT("INVITEX")), SIP_M_OTHER);
	cr_assert_eq(sip_method_of(SLICE_LIT("")), SIP_M_OTHER);
}

Test(sip_msg, comma_lists)
{
	struct slice rest = SLICE_LIT(" <sip:a@x;lr>, \"Doe, J\" <sip:b@y,z>;p=\"q,r\" ,, sip:c@z ");
	struct slice it;
	cr_assert_eq(sip_list_next(&rest, &it), 1);
	cr_assert(eq(it, "<sip:a@x;lr>"));
	cr_assert_eq(sip_list_next(&rest, &it), 1);
	cr_assert(eq(it, "\"Doe, J\" <sip:b@y,z>;p=\"q,r\""));
	cr_assert_eq(sip_list_next(&rest, &it), 1);
	cr_assert(eq(it, "sip:c@z"));
	cr_assert_eq(sip_list_next(&rest, &it), 0);
	cr_assert_eq(sip_list_next(&rest, &it), 0);

	struct slice esc = SLICE_LIT("\"a\\\",b\" <sip:x>, y");
	cr_assert_eq(sip_list_next(&esc, &it), 1);
	cr_assert(eq(it, "\"a\\\",b\" <sip:x>"), "an escaped quote does not end the string");

	struct slice open_q = SLICE_LIT("\"unterminated, x");
	cr_assert_eq(sip_list_next(&open_q, &it), -SIP_E_HEADER);
	struct slice open_a = SLICE_LIT("<sip:a, b");
	cr_assert_eq(sip_list_next(&open_a, &it), -SIP_E_HEADER);
	struct slice none = { 0 };
	cr_assert_eq(sip_list_next(&none, &it), 0);
	struct slice folded = SLICE_LIT("SIP/2.0/TLS a," CRLF " SIP/2.0/TLS b");
	cr_assert_eq(sip_list_next(&folded, &it), 1);
	cr_assert_eq(sip_list_next(&folded, &it), 1);
	cr_assert(eq(it, "SIP/2.0/TLS b"));
}

Test(sip_msg, error_strings)
{
	for (int e = 0; e < SIP_E__COUNT; e++) {
		cr_assert_not_null(sip_err_str(e));
		cr_assert_str_neq(sip_err_str(e), "unknown error", "code %d has no text", e);
		cr_assert_str_eq(sip_err_str(-e), sip_err_str(e));
	}
	cr_assert_str_eq(sip_err_str(SIP_E__COUNT), "unknown error");
}
