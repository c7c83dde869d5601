/* RFC 4475 "SIP Torture Test Messages", sections 3.1.1 (valid) and 3.1.2 (invalid), run
 * through the stream scanner (sip/msg.c) and the field parsers (uri, via, addr, scalar).
 *
 * The messages are the RFC's, byte for byte, in tests/sip/torture/<tag>.sip (generated from
 * the RFC's own notation by tests/sip/torture/gen.py, which also checks Content-Length).
 * Every message is placed flush against a PROT_NONE page, so reading one byte past the
 * buffer faults, and every prefix of every message is scanned on its own and incrementally.
 *
 * We are a proxy on a stream transport (TCP/TLS): framing is by Content-Length only, and a
 * message the RFC says "a proxy may forward" must scan and keep its routing fields usable.
 *
 * tag        RFC says                                        we assert
 * ---------- ----------------------------------------------- --------------------------------
 * 3.1.1 valid: every element must accept; scan() == file length unless noted, and the fields
 * wsinv      folding everywhere, LWS around : ; = /, compact  14 headers; folded CSeq/Via/To/
 *            forms, escaped quotes, empty Subject, leading   From/Contact values parse; 3 Via
 *            zeros in Max-Forwards and CSeq                  elements; s/v/m compact; MF 68
 * intmeth    unusual token chars in method, R-URI, branch,   method unknown but token; R-URI
 *            tags, Call-ID; quoted NUL/BEL/DEL in To; UTF-8  user/password; quoted NUL in To
 *            header value                                    is part of a quoted-pair
 * esc01      %-escapes in R-URI, To, From, Contact           views keep the escapes as sent
 * escnull    %00 in user parts                               "%00" stays three characters
 * esc02      % is not an escape in method/display/header     RE%47IST%45R is not REGISTER;
 *            names: 2 Contacts, not 3                        C%6Fntact is an unknown header
 * lwsdisp    no LWS between display name and <               From display "caller"
 * longreq    long values, 34 Via in mixed case and forms     43 headers, 34 Via elements
 * dblreq     UDP datagram: REGISTER (CL 0) + trailing INVITE on a stream: REGISTER frames
 *            to be ignored                                   alone (300); then a CRLF pong,
 *                                                            the INVITE by its CL, a bad rest
 * semiuri    ; in the R-URI user part                        user "user;par=u%40example.net"
 * transports UDP SCTP TLS UNKNOWN TCP in Via                 five transports as written
 * mpart01    multipart body with binary (NUL, CR, LF)        body framed by CL 553
 * unreason   UTF-8 reason phrase                             reason as sent
 * noreason   empty reason phrase ("100" SP CRLF)             status 100, reason empty
 * 3.1.2 invalid
 * badinv01   extra ; and , in Via and Contact: 400           scans; sip_via_top -> -SIP_E_VIA
 * clerr      CL larger than the message; on a stream: wait   scan() == 0; completes once
 *                                                            9999 body octets arrived
 * ncl        negative CL: 400                                -SIP_E_CLEN; Via still readable;
 *                                                            err_off at the Content-Length line
 * scalar02   CSeq > 2**32-1, MF 300, Expires > 2**32-1: 400  scans; cseq/max-forwards/expires
 *                                                            parsers (and Contact expires) fail
 * scalarlg   response CSeq, Retry-After too big: discard     scans; cseq and Retry-After fail
 * quotbal    unterminated quote in To: 400                   scans; sip_addr_parse(To) fails
 * ltgtruri   R-URI in <>: 400                                -SIP_E_START_LINE
 * lwsruri    LWS in the R-URI: 400                           -SIP_E_START_LINE
 * lwsstart   several SP in the request line: 400             -SIP_E_START_LINE
 * trws       SP after SIP-Version: 400                       -SIP_E_START_LINE
 * escruri    escaped headers in the R-URI: may 400           scans; R-URI headers non-empty
 *                                                            (the proxy refuses it)
 * baddate    Date not in GMT: a proxy forwards it            scans; routing fields all parse
 * regbadct   Contact with ?headers not in <>: may 400, or    scans; routing fields parse; the
 *            infer <>; a proxy is not concerned              Contact is either refused or an
 *                                                            addr-spec whose URI has headers
 * badaspec   spaces inside <> in To: proxies may forward     scans; routing fields parse;
 *                                                            addr parser does not break
 * baddn      unquoted display names with ',': 400            sip_addr_parse(From/To) fail
 * badvers    SIP/7.0: 505                                    -SIP_E_VERSION, kind REQUEST
 * mismatch01 CSeq method != request method: 400              scans; cseq parses; methods differ
 * mismatch02 same with an unknown method: 501 (or 400)       scans; cseq parses; methods differ
 * bigcode    status 4294967301: drop it                      -SIP_E_START_LINE
 * (start-line errors also put err_off at 0, the offending line)
 * All 32, in torture_all: each prefix alone gives 0 or the message's own error (or, past the
 * end of dblreq's REGISTER, its length); the buffer growing one octet at a time with one
 * sip_msg gives the same answer at the same length; two copies back to back frame twice.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sip/addr.h"
#include "sip/msg.h"
#include "sip/scalar.h"
#include "sip/uri.h"
#include "sip/via.h"

#define TORTURE_DIR SIPTLS_SOURCE_DIR "/tests/sip/torture/"
#define TORTURE_MAX_HDR 128
#define S(lit) SLICE_LIT(lit)

/* ---- the expected outcome of every message ------------------------------------------------ */

enum {
	WANT_ALL = 1,   /* frames the whole file */
	WANT_FIRST = 2, /* frames the first message only (dblreq) */
	WANT_WAIT = 0,  /* incomplete: needs more bytes (clerr) */
};

struct torture_case {
	const char *tag;
	int want; /* WANT_* or a negated sip_err */
};

static const struct torture_case torture_cases[] = {
    {"wsinv", WANT_ALL},
    {"intmeth", WANT_ALL},
    {"esc01", WANT_ALL},
    {"escnull", WANT_ALL},
    {"esc02", WANT_ALL},
    {"lwsdisp", WANT_ALL},
    {"longreq", WANT_ALL},
    {"dblreq", WANT_FIRST},
    {"semiuri", WANT_ALL},
    {"transports", WANT_ALL},
    {"mpart01", WANT_ALL},
    {"unreason", WANT_ALL},
    {"noreason", WANT_ALL},
    {"badinv01", WANT_ALL},
    {"clerr", WANT_WAIT},
    {"ncl", -SIP_E_CLEN},
    {"scalar02", WANT_ALL},
    {"scalarlg", WANT_ALL},
    {"quotbal", WANT_ALL},
    {"ltgtruri", -SIP_E_START_LINE},
    {"lwsruri", -SIP_E_START_LINE},
    {"lwsstart", -SIP_E_START_LINE},
    {"trws", -SIP_E_START_LINE},
    {"escruri", WANT_ALL},
    {"baddate", WANT_ALL},
    {"regbadct", WANT_ALL},
    {"badaspec", WANT_ALL},
    {"baddn", WANT_ALL},
    {"badvers", -SIP_E_VERSION},
    {"mismatch01", WANT_ALL},
    {"mismatch02", WANT_ALL},
    {"bigcode", -SIP_E_START_LINE},
};

#define TORTURE_NCASES (sizeof(torture_cases) / sizeof(torture_cases[0]))

/* ---- files and guard pages ---------------------------------------------------------------- */

struct file {
	char *p;
	size_t n;
};

static struct file file_load(const char *tag)
{
	char path[512];
	snprintf(path, sizeof(path), TORTURE_DIR "%s.sip", tag);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (run tests/sip/torture/gen.py)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	cr_assert_gt(n, 0, "%s is empty", path);
	rewind(f);
	struct file out = {malloc((size_t)n), (size_t)n};
	cr_assert_not_null(out.p);
	cr_assert_eq(fread(out.p, 1, out.n, f), out.n, "short read on %s", path);
	fclose(f);
	return out;
}

/* Writable pages followed by one PROT_NONE page: bytes placed at the end of the writable
 * part touch the guard page, so any read past them faults (picohttpparser's trick). */
struct guard {
	char *base;
	size_t room; /* writable bytes before the guard page */
	size_t page;
};

static struct guard guard_open(size_t need)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t room = need ? (need + page - 1) / page * page : page;
	char *p =
	    mmap(NULL, room + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED, "mmap");
	cr_assert_eq(mprotect(p + room, page, PROT_NONE), 0, "mprotect");
	return (struct guard){p, room, page};
}

static void guard_close(struct guard *g)
{
	if (g->base)
		munmap(g->base, g->room + g->page);
	g->base = NULL;
}

/* copies src[0..n) so that its last byte is the last byte before the guard page */
static const char *guard_place(struct guard *g, const char *src, size_t n)
{
	cr_assert_leq(n, g->room);
	char *dst = g->base + g->room - n;
	memmove(dst, src, n);
	return dst;
}

static const struct sip_limits torture_lim = SIP_LIMITS_DEFAULT;

/* what scanning the whole file must return */
static int want_len(const struct torture_case *c, const struct file *f)
{
	if (c->want == WANT_ALL)
		return (int)f->n;
	if (c->want == WANT_FIRST) {
		/* dblreq's first message has Content-Length 0: it ends with its head */
		const char *end = memmem(f->p, f->n, "\r\n\r\n", 4);
		cr_assert_not_null(end);
		return (int)(end + 4 - f->p);
	}
	return c->want;
}

/* ---- one message per test: scanned flush against the guard page --------------------------- */

static struct {
	struct file f;
	struct guard g;
	const char *buf;
	struct sip_msg m;
	struct sip_hdr hdr[TORTURE_MAX_HDR];
	int rc;
} fx;

static int fx_scan(const char *tag)
{
	fx.f = file_load(tag);
	fx.g = guard_open(fx.f.n);
	fx.buf = guard_place(&fx.g, fx.f.p, fx.f.n);
	sip_msg_init(&fx.m, fx.hdr, TORTURE_MAX_HDR);
	fx.rc = sip_msg_scan(fx.buf, fx.f.n, &torture_lim, &fx.m);
	return fx.rc;
}

static void fx_fini(void)
{
	guard_close(&fx.g);
	free(fx.f.p);
	fx.f.p = NULL;
}

/* ---- assertion helpers ------------------------------------------------------------------ */

static void expect_eq(const char *what, struct slice got, struct slice want)
{
	cr_expect(slice_eq(got, want), "%s: got \"%.*s\" (%zu octets), want \"%.*s\" (%zu)", what,
	          SLICE_FMT(got), got.n, SLICE_FMT(want), want.n);
}

/* scans tag and requires a complete message of the whole file */
static void scan_ok(const char *tag)
{
	int rc = fx_scan(tag);
	cr_assert_eq(rc, (int)fx.f.n, "%s: sip_msg_scan = %d (%s), want %zu", tag, rc,
	             sip_err_str(rc), fx.f.n);
}

static void expect_request(struct slice method, enum sip_method id, struct slice ruri)
{
	cr_expect_eq(fx.m.kind, SIP_KIND_REQUEST);
	expect_eq("method", fx.m.method, method);
	cr_expect_eq(fx.m.method_id, id, "method id %d, want %d", fx.m.method_id, id);
	expect_eq("Request-URI", fx.m.ruri, ruri);
}

static void expect_response(unsigned status, struct slice reason)
{
	cr_expect_eq(fx.m.kind, SIP_KIND_RESPONSE);
	cr_expect_eq(fx.m.status, status, "status %u, want %u", fx.m.status, status);
	expect_eq("reason", fx.m.reason, reason);
}

static const struct sip_hdr *need_hdr(enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_get(&fx.m, id);
	struct slice name = sip_hdr_name(id);
	cr_assert_not_null(h, "no %.*s header", SLICE_FMT(name));
	return h;
}

static const struct sip_hdr *need_named(struct slice name)
{
	const struct sip_hdr *h = sip_msg_find(&fx.m, name);
	cr_assert_not_null(h, "no %.*s header", SLICE_FMT(name));
	return h;
}

/* the header count (a folded field counts once) and the name of the first header of id */
static void expect_nhdr(uint32_t n)
{
	cr_expect_eq(fx.m.nhdr, n, "%u header fields, want %u", fx.m.nhdr, n);
}

static void expect_name(enum sip_hdr_id id, struct slice written)
{
	expect_eq("header name as written", need_hdr(id)->name, written);
}

static void expect_via(const struct sip_via *v, struct slice transport, struct slice host,
                       unsigned port, struct slice branch)
{
	expect_eq("Via protocol", v->protocol, S("SIP"));
	expect_eq("Via version", v->version, S("2.0"));
	expect_eq("Via transport", v->transport, transport);
	expect_eq("Via host", v->host, host);
	cr_expect_eq(v->port, port, "Via port %u, want %u", v->port, port);
	expect_eq("Via branch", v->branch, branch);
}

static void expect_top_via(struct slice transport, struct slice host, unsigned port,
                           struct slice branch)
{
	struct sip_via v;
	int rc = sip_via_top(&fx.m, &v);
	cr_assert_eq(rc, 0, "sip_via_top = %d (%s)", rc, sip_err_str(rc));
	expect_via(&v, transport, host, port, branch);
}

/* every Via element of the message, in order (headers, then comma-separated elements) */
static size_t all_vias(struct sip_via *out, size_t cap)
{
	size_t n = 0;
	for (const struct sip_hdr *h = sip_msg_get(&fx.m, SIP_H_VIA); h;
	     h = sip_msg_next(&fx.m, h)) {
		struct slice rest = h->value, item;
		int rc;
		while ((rc = sip_list_next(&rest, &item)) == 1) {
			cr_assert_lt(n, cap);
			rc = sip_via_parse(item, &out[n]);
			cr_assert_eq(rc, 0, "Via element %zu \"%.*s\": %d (%s)", n, SLICE_FMT(item),
			             rc, sip_err_str(rc));
			n++;
		}
		cr_assert_eq(rc, 0, "sip_list_next on Via: %d", rc);
	}
	return n;
}

static void expect_call_id(struct slice id)
{
	expect_eq("Call-ID", need_hdr(SIP_H_CALL_ID)->value, id);
}

static void expect_cseq(uint32_t seq, struct slice method)
{
	struct sip_cseq c;
	const struct sip_hdr *h = need_hdr(SIP_H_CSEQ);
	int rc = sip_cseq_parse(h->value, &c);
	cr_assert_eq(rc, 0, "sip_cseq_parse(\"%.*s\") = %d", SLICE_FMT(h->value), rc);
	cr_expect_eq(c.seq, seq, "CSeq %u, want %u", c.seq, seq);
	expect_eq("CSeq method", c.method, method);
	cr_expect_eq(c.method_id, sip_method_of(method));
}

static void expect_max_forwards(unsigned want)
{
	unsigned mf = 999;
	const struct sip_hdr *h = need_hdr(SIP_H_MAX_FORWARDS);
	int rc = sip_max_forwards_parse(h->value, &mf);
	cr_assert_eq(rc, 0, "sip_max_forwards_parse(\"%.*s\") = %d", SLICE_FMT(h->value), rc);
	cr_expect_eq(mf, want, "Max-Forwards %u, want %u", mf, want);
}

static void expect_addr_value(struct slice value, struct slice display, struct slice uri,
                              struct slice tag)
{
	struct sip_addr a;
	int rc = sip_addr_parse(value, &a);
	cr_assert_eq(rc, 0, "sip_addr_parse(\"%.*s\") = %d (%s)", SLICE_FMT(value), rc,
	             sip_err_str(rc));
	expect_eq("display name", a.display, display);
	expect_eq("addr URI", a.uri, uri);
	expect_eq("tag", a.tag, tag);
}

static void expect_addr(enum sip_hdr_id id, struct slice display, struct slice uri,
                        struct slice tag)
{
	expect_addr_value(need_hdr(id)->value, display, uri, tag);
}

/* Content-Length as written, as parsed, and the framed body */
static void expect_body(uint32_t clen)
{
	need_hdr(SIP_H_CONTENT_LENGTH);
	cr_expect_eq(fx.m.content_length, clen, "content_length %u, want %u", fx.m.content_length,
	             clen);
	cr_expect_eq(fx.m.body.n, clen, "body %zu octets, want %u", fx.m.body.n, clen);
	cr_expect_eq(fx.m.body.p, fx.buf + fx.m.head_len, "body must follow the head");
	cr_expect_eq(fx.m.head_len + clen, fx.m.raw.n);
}

static void expect_uri(struct slice s, struct sip_uri *u)
{
	int rc = sip_uri_parse(s, u);
	cr_assert_eq(rc, 0, "sip_uri_parse(\"%.*s\") = %d", SLICE_FMT(s), rc);
}

/* What a proxy needs to forward a request (RFC 3261 16.3): a top Via, a CSeq that matches
 * the method, Max-Forwards, From and To that parse, a Request-URI that parses. */
static void expect_forwardable(void)
{
	struct sip_via v;
	struct sip_cseq c;
	struct sip_addr a;
	struct sip_uri u;
	unsigned mf;
	cr_expect_eq(fx.m.kind, SIP_KIND_REQUEST);
	cr_expect_eq(sip_via_top(&fx.m, &v), 0, "top Via");
	cr_expect(slice_case_prefix(v.branch, S("z9hG4bK")), "RFC 3261 branch");
	cr_assert_eq(sip_cseq_parse(need_hdr(SIP_H_CSEQ)->value, &c), 0, "CSeq");
	cr_expect(slice_eq(c.method, fx.m.method), "CSeq method matches the request");
	cr_expect_eq(sip_max_forwards_parse(need_hdr(SIP_H_MAX_FORWARDS)->value, &mf), 0, "MF");
	cr_expect_eq(sip_addr_parse(need_hdr(SIP_H_FROM)->value, &a), 0, "From");
	cr_expect_eq(sip_uri_parse(fx.m.ruri, &u), 0, "Request-URI");
	cr_expect(slice_empty(u.headers), "no headers in the Request-URI");
	need_hdr(SIP_H_TO);
	need_hdr(SIP_H_CALL_ID);
}

/* ---- every message: every prefix, incrementally, back to back --------------------------- */

/* Each prefix on its own (fresh sip_msg, flush against the guard page) must say "incomplete"
 * or give the message's own error; once it holds the whole message, the message's length. */
static size_t first_bad_prefix(const struct file *f, int full, int *got)
{
	struct guard g = guard_open(f->n);
	struct sip_msg m;
	static struct sip_hdr hdr[TORTURE_MAX_HDR];
	size_t bad = 0;
	for (size_t k = 1; k < f->n && !bad; k++) {
		const char *buf = guard_place(&g, f->p, k);
		sip_msg_init(&m, hdr, TORTURE_MAX_HDR);
		int rc = sip_msg_scan(buf, k, &torture_lim, &m);
		bool ok = full > 0 && (size_t)full <= k ? rc == full
		                                        : rc == 0 || (full < 0 && rc == full);
		if (!ok) {
			bad = k;
			*got = rc;
		}
	}
	guard_close(&g);
	return bad;
}

Test(torture_all, every_prefix_alone)
{
	for (size_t i = 0; i < TORTURE_NCASES; i++) {
		const struct torture_case *c = &torture_cases[i];
		struct file f = file_load(c->tag);
		int full = want_len(c, &f), got = 0;
		size_t bad = first_bad_prefix(&f, full, &got);
		cr_expect_eq(bad, 0, "%s: prefix of %zu/%zu octets: %d (%s), want 0 or %d", c->tag,
		             bad, f.n, got, sip_err_str(got), full);
		free(f.p);
	}
}

/* The same buffer growing one octet at a time with one sip_msg (the resume state): the first
 * answer that is not "incomplete" must be the whole file's answer, at the right length. */
Test(torture_all, incremental_one_octet_at_a_time)
{
	for (size_t i = 0; i < TORTURE_NCASES; i++) {
		const struct torture_case *c = &torture_cases[i];
		struct file f = file_load(c->tag);
		struct guard g = guard_open(f.n);
		const char *buf = guard_place(&g, f.p, f.n);
		struct sip_msg m;
		static struct sip_hdr hdr[TORTURE_MAX_HDR];
		int full = want_len(c, &f), rc = 0;
		size_t k = 0;
		sip_msg_init(&m, hdr, TORTURE_MAX_HDR);
		while (rc == 0 && k < f.n)
			rc = sip_msg_scan(buf, ++k, &torture_lim, &m);
		cr_expect_eq(rc, full, "%s: %d (%s) after %zu octets, want %d", c->tag, rc,
		             sip_err_str(rc), k, full);
		if (full > 0)
			cr_expect_eq(k, (size_t)full, "%s: complete at %zu, want %d", c->tag, k,
			             full);
		guard_close(&g);
		free(f.p);
	}
}

/* Whole file flush against the guard page: the outcome of the table. */
Test(torture_all, whole_message_against_guard_page)
{
	for (size_t i = 0; i < TORTURE_NCASES; i++) {
		const struct torture_case *c = &torture_cases[i];
		struct file f = file_load(c->tag);
		struct guard g = guard_open(f.n);
		const char *buf = guard_place(&g, f.p, f.n);
		struct sip_msg m;
		static struct sip_hdr hdr[TORTURE_MAX_HDR];
		sip_msg_init(&m, hdr, TORTURE_MAX_HDR);
		int rc = sip_msg_scan(buf, f.n, &torture_lim, &m), full = want_len(c, &f);
		cr_expect_eq(rc, full, "%s: %d (%s), want %d (%s)", c->tag, rc, sip_err_str(rc),
		             full, full < 0 ? sip_err_str(full) : "length");
		if (rc > 0)
			cr_expect(m.raw.p == buf && m.raw.n == (size_t)rc, "%s: raw", c->tag);
		guard_close(&g);
		free(f.p);
	}
}

/* On a stream the next message's octets follow at once: they must not change the framing. */
Test(torture_all, back_to_back_on_a_stream)
{
	for (size_t i = 0; i < TORTURE_NCASES; i++) {
		const struct torture_case *c = &torture_cases[i];
		if (c->want != WANT_ALL)
			continue;
		struct file f = file_load(c->tag);
		char *two = malloc(2 * f.n);
		cr_assert_not_null(two);
		memcpy(two, f.p, f.n);
		memcpy(two + f.n, f.p, f.n);
		struct guard g = guard_open(2 * f.n);
		const char *buf = guard_place(&g, two, 2 * f.n);
		struct sip_msg m;
		static struct sip_hdr hdr[TORTURE_MAX_HDR];
		sip_msg_init(&m, hdr, TORTURE_MAX_HDR);
		int rc1 = sip_msg_scan(buf, 2 * f.n, &torture_lim, &m);
		sip_msg_init(&m, hdr, TORTURE_MAX_HDR);
		int rc2 = rc1 > 0 ? sip_msg_scan(buf + rc1, 2 * f.n - (size_t)rc1, &torture_lim, &m)
		                  : rc1;
		cr_expect(rc1 == (int)f.n && rc2 == (int)f.n, "%s: %d then %d, want %zu twice",
		          c->tag, rc1, rc2, f.n);
		guard_close(&g);
		free(two);
		free(f.p);
	}
}

/* ---- 3.1.1 valid messages ------------------------------------------------------------------ */

TestSuite(torture_valid, .fini = fx_fini);

/* 3.1.1.1: folding, LWS and compact forms all over; all elements accept it. */
Test(torture_valid, wsinv)
{
	scan_ok("wsinv");
	expect_request(S("INVITE"), SIP_M_INVITE,
	               S("sip:vivekg@chair-dnrc.example.com;unknownparam"));
	struct sip_uri u;
	expect_uri(fx.m.ruri, &u);
	expect_eq("R-URI user", u.user, S("vivekg"));
	expect_eq("R-URI host", u.host, S("chair-dnrc.example.com"));
	expect_eq("R-URI params", u.params, S("unknownparam"));
	expect_nhdr(14);

	/* Via: SIP  /   2.0 CRLF /UDP CRLF 192.0.2.2;... (folded around the slashes) */
	expect_top_via(S("UDP"), S("192.0.2.2"), 0, S("390skdjuw"));
	struct sip_via v[8];
	cr_assert_eq(all_vias(v, 8), 3, "three Via elements (one Via header, one v: with two)");
	expect_via(&v[1], S("TCP"), S("spindle.example.com"), 0, S("z9hG4bK9ikj8"));
	expect_via(&v[2], S("UDP"), S("192.168.255.111"), 0, S("z9hG4bK30239"));
	const struct sip_hdr *via2 = sip_msg_next(&fx.m, need_hdr(SIP_H_VIA));
	cr_assert_not_null(via2);
	expect_eq("second Via name", via2->name, S("v"));

	expect_call_id(S("wsinv.ndaksdj@192.0.2.1"));
	/* cseq: 0009 CRLF "  INVITE": the folded value keeps its CRLF WSP, the parser skips it */
	expect_eq("CSeq value", need_hdr(SIP_H_CSEQ)->value, S("0009\r\n  INVITE"));
	expect_cseq(9, S("INVITE"));
	expect_name(SIP_H_CSEQ, S("cseq"));
	expect_name(SIP_H_MAX_FORWARDS, S("MaX-fOrWaRdS"));
	expect_max_forwards(68);

	expect_name(SIP_H_TO, S("TO"));
	expect_addr(SIP_H_TO, S(""), S("sip:vivekg@chair-dnrc.example.com"), S("1918181833n"));
	expect_addr(SIP_H_FROM, S("\"J Rosenberg \\\\\\\"\""), S("sip:jdrosen@example.com"),
	            S("98asjd8"));

	expect_name(SIP_H_CONTENT_LENGTH, S("Content-Length"));
	expect_body(150);
	cr_expect(slice_case_prefix(fx.m.body, S("v=0\r\n")));

	/* compact forms: s (Subject, empty), v (Via), m (Contact) */
	expect_name(SIP_H_SUBJECT, S("s"));
	expect_eq("Subject", need_hdr(SIP_H_SUBJECT)->value, S(""));
	expect_name(SIP_H_CONTACT, S("m"));
	struct sip_addr a;
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_CONTACT)->value, &a), 0);
	expect_eq("Contact display", a.display, S("\"Quoted string \\\"\\\"\""));
	expect_eq("Contact URI", a.uri, S("sip:jdrosen@example.com"));
	struct slice pv;
	cr_expect(sip_param_get(a.params, S("newparam"), &pv), "newparam");
	expect_eq("newparam", pv, S("newvalue"));
	cr_expect(sip_param_get(a.params, S("secondparam"), &pv), "secondparam");
	expect_eq("secondparam", pv, S(""));
	cr_expect(sip_param_get(a.params, S("q"), &pv), "q");
	expect_eq("q", pv, S("0.33"));

	/* unknown headers keep their folded values; the unusual one is not parsed as params */
	const struct sip_hdr *h = need_named(S("newfangledheader"));
	cr_expect_eq(h->id, SIP_H_OTHER);
	expect_eq("NewFangledHeader", h->value,
	          S("newfangled value\r\n continued newfangled value"));
	expect_eq("UnknownHeaderWithUnusualValue",
	          need_named(S("UnknownHeaderWithUnusualValue"))->value, S(";;,,;;,;"));
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_ROUTE)->value, &a), 0);
	expect_eq("Route URI", a.uri,
	          S("sip:services.example.com;lr;unknownwith=value;unknown-no-value"));
	cr_expect(a.angle);
}

/* 3.1.1.2: the widest character ranges; a quoted NUL (quoted-pair, RFC 3261 25.1) is legal
 * inside the To display name, so a line may hold a NUL octet that is not its end. */
Test(torture_valid, intmeth)
{
	scan_ok("intmeth");
	expect_request(S("!interesting-Method0123456789_*+`.%indeed'~"), SIP_M_OTHER,
	               S("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*"
	                 "pas$wo~d_too.(doesn't-it)@example.com"));
	struct sip_uri u;
	expect_uri(fx.m.ruri, &u);
	expect_eq("R-URI user", u.user, S("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
	expect_eq("R-URI password", u.password, S("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
	expect_eq("R-URI host", u.host, S("example.com"));
	expect_nhdr(8);
	expect_top_via(S("TCP"), S("host1.example.com"), 0, S("z9hG4bK-.!%66*_+`'~"));
	expect_addr(SIP_H_TO,
	            S("\"BEL:\\"
	              "\x07"
	              " NUL:\\"
	              "\x00"
	              " DEL:\\"
	              "\x7f"
	              "\""),
	            S("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com"), S(""));
	expect_addr(SIP_H_FROM, S("token1~` token2'+_ token3*%!.-"), S("sip:mundane@example.com"),
	            S("_token~1'+`*%!-."));
	struct sip_addr a;
	struct slice pv;
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_FROM)->value, &a), 0);
	cr_expect(sip_param_get(a.params, S("fromParam''~+*_!.-%"), &pv), "fromParam");
	expect_eq("fromParam", pv,
	          S("\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8"
	            "\xd0\xb9\""));
	expect_call_id(S("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
	expect_cseq(139122385, S("!interesting-Method0123456789_*+`.%indeed'~"));
	expect_max_forwards(255);
	const struct sip_hdr *h = need_named(S("extensionHeader-!.%*+_`'~"));
	cr_expect_eq(h->id, SIP_H_OTHER);
	expect_eq("extension header", h->value,
	          S("\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb"));
	expect_body(0);
}

/* 3.1.1.3: escapes stay escaped in the views (compare with care, RFC 3261 19.1.4) */
Test(torture_valid, esc01)
{
	scan_ok("esc01");
	expect_request(S("INVITE"), SIP_M_INVITE, S("sip:sips%3Auser%40example.com@example.net"));
	struct sip_uri u;
	expect_uri(fx.m.ruri, &u);
	expect_eq("R-URI user", u.user, S("sips%3Auser%40example.com"));
	expect_eq("R-URI host", u.host, S("example.net"));
	expect_nhdr(9);
	expect_top_via(S("UDP"), S("host5.example.net"), 0, S("z9hG4bKkdjuw"));
	expect_name(SIP_H_CALL_ID, S("i"));
	expect_call_id(S("esc01.239409asdfakjkn23onasd0-3234"));
	expect_cseq(234234, S("INVITE"));
	expect_max_forwards(87);
	expect_addr(SIP_H_TO, S(""), S("sip:%75se%72@example.com"), S(""));
	expect_addr(SIP_H_FROM, S(""), S("sip:I%20have%20spaces@example.net"), S("938"));
	expect_name(SIP_H_CONTENT_TYPE, S("C"));
	expect_eq("Content-Type", need_hdr(SIP_H_CONTENT_TYPE)->value, S("application/sdp"));
	/* Contact: CRLF "  <sip:...>": the value starts after the fold */
	expect_eq("Contact", need_hdr(SIP_H_CONTACT)->value,
	          S("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>"));
	struct sip_addr a;
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_CONTACT)->value, &a), 0);
	expect_uri(a.uri, &u);
	expect_eq("Contact user", u.user, S("cal%6Cer"));
	expect_eq("Contact params", u.params, S("%6C%72;n%61me=v%61lue%25%34%31"));
	expect_body(150);
}

/* 3.1.1.4: %00 is three characters in the view, not a NUL */
Test(torture_valid, escnull)
{
	scan_ok("escnull");
	expect_request(S("REGISTER"), SIP_M_REGISTER, S("sip:example.com"));
	expect_nhdr(9);
	expect_top_via(S("UDP"), S("host5.example.com"), 0, S("z9hG4bKkdjuw"));
	expect_call_id(S("escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd"));
	expect_cseq(14398234, S("REGISTER"));
	expect_max_forwards(70);
	expect_addr(SIP_H_TO, S(""), S("sip:null-%00-null@example.com"), S(""));
	expect_addr(SIP_H_FROM, S(""), S("sip:null-%00-null@example.com"), S("839923423"));
	const struct sip_hdr *c1 = need_hdr(SIP_H_CONTACT), *c2 = sip_msg_next(&fx.m, c1);
	cr_assert_not_null(c2, "two Contact headers");
	cr_expect_null(sip_msg_next(&fx.m, c2));
	struct sip_uri u;
	expect_addr_value(c1->value, S(""), S("sip:%00@host5.example.com"), S(""));
	expect_uri(S("sip:%00%00@host5.example.com"), &u);
	expect_eq("second Contact user", u.user, S("%00%00"));
	expect_addr_value(c2->value, S(""), S("sip:%00%00@host5.example.com"), S(""));
	expect_name(SIP_H_CONTENT_LENGTH, S("L"));
	expect_body(0);
}

/* 3.1.1.5: % is not an escape in a method, a quoted string or a header name */
Test(torture_valid, esc02)
{
	scan_ok("esc02");
	expect_request(S("RE%47IST%45R"), SIP_M_OTHER, S("sip:registrar.example.com"));
	expect_nhdr(10);
	expect_top_via(S("TCP"), S("host.example.com"), 0, S("z9hG4bK209%fzsnel234"));
	expect_call_id(S("esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf"));
	expect_cseq(29344, S("RE%47IST%45R"));
	expect_max_forwards(70);
	expect_addr(SIP_H_TO, S("\"%Z%45\""), S("sip:resource@example.com"), S(""));
	expect_addr(SIP_H_FROM, S("\"%Z%45\""), S("sip:resource@example.com"), S("f232jadfj23"));
	/* two Contact values, not three: C%6Fntact is another (unknown) header */
	const struct sip_hdr *c1 = need_hdr(SIP_H_CONTACT), *c2 = sip_msg_next(&fx.m, c1);
	cr_assert_not_null(c2);
	cr_expect_null(sip_msg_next(&fx.m, c2), "exactly two Contact headers");
	expect_eq("Contact 1", c1->value, S("<sip:alias1@host1.example.com>"));
	expect_eq("Contact 2", c2->value, S("<sip:alias3@host3.example.com>"));
	cr_expect_eq(sip_hdr_id_of(S("C%6Fntact")), SIP_H_OTHER);
	expect_eq("C%6Fntact", need_named(S("C%6Fntact"))->value,
	          S("<sip:alias2@host2.example.com>"));
	expect_name(SIP_H_CONTENT_LENGTH, S("l"));
	expect_body(0);
}

/* 3.1.1.6 */
Test(torture_valid, lwsdisp)
{
	scan_ok("lwsdisp");
	expect_request(S("OPTIONS"), SIP_M_OPTIONS, S("sip:user@example.com"));
	expect_nhdr(7);
	expect_top_via(S("UDP"), S("funky.example.com"), 0, S("z9hG4bKkdjuw"));
	expect_call_id(S("lwsdisp.1234abcd@funky.example.com"));
	expect_cseq(60, S("OPTIONS"));
	expect_max_forwards(70);
	expect_addr(SIP_H_TO, S(""), S("sip:user@example.com"), S(""));
	expect_addr(SIP_H_FROM, S("caller"), S("sip:caller@example.com"), S("323"));
	expect_body(0);
}

/* a string of n copies of unit, for the RFC's <repeat> values */
static struct slice repeat(char *buf, size_t cap, const char *pre, const char *unit, int n,
                           const char *post)
{
	size_t len = (size_t)snprintf(buf, cap, "%s", pre);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s", unit);
	len += (size_t)snprintf(buf + len, cap - len, "%s", post);
	cr_assert_lt(len, cap);
	return slice_make(buf, len);
}

/* 3.1.1.7: long values, and 34 Via elements under every spelling of the name */
Test(torture_valid, longreq)
{
	char b1[512], b2[512];
	scan_ok("longreq");
	expect_request(S("INVITE"), SIP_M_INVITE, S("sip:user@example.com"));
	expect_nhdr(43);
	struct sip_via v[40];
	cr_assert_eq(all_vias(v, 40), 34);
	expect_via(&v[0], S("TCP"), S("sip33.example.com"), 0, S(""));
	expect_via(&v[32], S("TCP"), S("sip1.example.com"), 0, S(""));
	expect_via(&v[33], S("TCP"), S("host.example.com"), 0,
	           repeat(b1, sizeof(b1), "very", "long", 50, "branchvalue"));
	expect_eq("received", v[33].received, S("192.0.2.5"));
	size_t nvia = 0;
	for (const struct sip_hdr *h = need_hdr(SIP_H_VIA); h; h = sip_msg_next(&fx.m, h))
		nvia++;
	cr_expect_eq(nvia, 34, "34 Via headers, %zu found", nvia);
	expect_call_id(repeat(b1, sizeof(b1), "longreq.one", "really", 20, "longcallid"));
	expect_cseq(3882340, S("INVITE"));
	expect_max_forwards(70);
	struct sip_addr a;
	struct sip_uri u;
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_TO)->value, &a), 0);
	expect_eq(
	    "To display", a.display,
	    repeat(b1, sizeof(b1), "\"I have a user name of ", "extreme", 10, " proportion\""));
	expect_uri(a.uri, &u);
	cr_expect_eq(u.port, 6000);
	expect_eq("To tag", a.tag, S(""));
	expect_name(SIP_H_FROM, S("F"));
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_FROM)->value, &a), 0);
	expect_eq("From URI", a.uri,
	          repeat(b1, sizeof(b1), "sip:", "amazinglylongcallername", 5, "@example.net"));
	expect_eq("From tag", a.tag, repeat(b2, sizeof(b2), "12", "982", 50, "424"));
	expect_addr(
	    SIP_H_CONTACT, S(""),
	    repeat(b1, sizeof(b1), "sip:", "amazinglylongcallername", 5, "@host5.example.net"),
	    S(""));
	need_named(repeat(b2, sizeof(b2), "Unknown-", "Long", 20, "-Name"));
	expect_body(150);
}

/* 3.1.1.8: on UDP this datagram is one REGISTER plus trailing octets to discard. A stream has
 * no datagram boundary: the REGISTER frames by its Content-Length (0) and ends with its head.
 * What follows is read as the rest of the stream: the RFC's empty line between the two
 * requests is a lone CRLF, a keep-alive pong (RFC 5626 4.4.1); then the INVITE frames by its
 * own Content-Length (150), although 155 octets follow its head (its SDP has "m =video" and
 * 11-character addresses, and the RFC's archive ends in one more CRLF). The 5 octets left,
 * "C" CRLF CRLF, are a complete head whose start line has no SP: refused, the connection is
 * broken from there on. Nothing but the REGISTER, the pong and the INVITE is ever framed. */
Test(torture_valid, dblreq)
{
	int rc = fx_scan("dblreq");
	cr_assert_eq(rc, 300, "REGISTER alone: %d (%s)", rc, sip_err_str(rc));
	expect_request(S("REGISTER"), SIP_M_REGISTER, S("sip:example.com"));
	expect_nhdr(8);
	expect_top_via(S("UDP"), S("192.0.2.125"), 0, S("z9hG4bKkdjuw23492"));
	expect_name(SIP_H_CALL_ID, S("I"));
	expect_call_id(S("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
	expect_cseq(8, S("REGISTER"));
	expect_max_forwards(8);
	expect_addr(SIP_H_TO, S(""), S("sip:j.user@example.com"), S(""));
	expect_addr(SIP_H_FROM, S(""), S("sip:j.user@example.com"), S("43251j3j324"));
	expect_addr(SIP_H_CONTACT, S(""), S("sip:j.user@host.example.com"), S(""));
	expect_body(0);

	/* the rest of the stream */
	const char *next = fx.buf + rc;
	size_t left = fx.f.n - (size_t)rc;
	sip_msg_init(&fx.m, fx.hdr, TORTURE_MAX_HDR);
	rc = sip_msg_scan(next, left, &torture_lim, &fx.m);
	cr_assert_eq(rc, 2, "CRLF: %d (%s), want a 2-octet pong", rc, sip_err_str(rc));
	cr_expect_eq(fx.m.kind, SIP_KIND_PONG);
	next += rc;
	left -= (size_t)rc;

	sip_msg_init(&fx.m, fx.hdr, TORTURE_MAX_HDR);
	rc = sip_msg_scan(next, left, &torture_lim, &fx.m);
	cr_assert_eq(rc, (int)left - 5, "INVITE: %d (%s), want %zu", rc, sip_err_str(rc), left - 5);
	expect_request(S("INVITE"), SIP_M_INVITE, S("sip:joe@example.com"));
	expect_name(SIP_H_TO, S("t"));
	expect_cseq(8, S("INVITE"));
	cr_expect_eq(fx.m.content_length, 150);

	const char *tail = next + rc;
	expect_eq("left over", slice_make(tail, 5), S("C\r\n\r\n"));
	sip_msg_init(&fx.m, fx.hdr, TORTURE_MAX_HDR);
	rc = sip_msg_scan(tail, 5, &torture_lim, &fx.m);
	cr_expect_eq(rc, -SIP_E_START_LINE, "left over: %d (%s)", rc, sip_err_str(rc));
}

/* 3.1.1.9: the user part may hold ';' (and an escaped '@') */
Test(torture_valid, semiuri)
{
	scan_ok("semiuri");
	expect_request(S("OPTIONS"), SIP_M_OPTIONS, S("sip:user;par=u%40example.net@example.com"));
	struct sip_uri u;
	expect_uri(fx.m.ruri, &u);
	expect_eq("R-URI user", u.user, S("user;par=u%40example.net"));
	expect_eq("R-URI host", u.host, S("example.com"));
	expect_eq("R-URI params", u.params, S(""));
	expect_nhdr(8);
	expect_top_via(S("UDP"), S("192.0.2.1"), 0, S("z9hG4bKkdjuw"));
	expect_call_id(S("semiuri.0ha0isndaksdj"));
	expect_cseq(8, S("OPTIONS"));
	expect_max_forwards(3);
	expect_addr(SIP_H_TO, S(""), S("sip:j_user@example.com"), S(""));
	expect_addr(SIP_H_FROM, S(""), S("sip:caller@example.org"), S("33242"));
	/* Accept is folded twice; split at commas it holds six media ranges */
	struct slice rest = need_named(S("Accept"))->value, item;
	static const char *const accept[] = {"application/sdp", "application/pkcs7-mime",
	                                     "multipart/mixed", "multipart/signed",
	                                     "message/sip",     "message/sipfrag"};
	size_t n = 0;
	while (sip_list_next(&rest, &item) == 1) {
		cr_assert_lt(n, 6);
		expect_eq("Accept item", item, slice_cstr(accept[n]));
		n++;
	}
	cr_expect_eq(n, 6);
	expect_body(0);
}

/* 3.1.1.10: transports we do not speak are still Via syntax */
Test(torture_valid, transports)
{
	scan_ok("transports");
	expect_request(S("OPTIONS"), SIP_M_OPTIONS, S("sip:user@example.com"));
	expect_nhdr(12);
	struct sip_via v[8];
	cr_assert_eq(all_vias(v, 8), 5);
	expect_via(&v[0], S("UDP"), S("t1.example.com"), 0, S("z9hG4bKkdjuw"));
	expect_via(&v[1], S("SCTP"), S("t2.example.com"), 0, S("z9hG4bKklasjdhf"));
	expect_via(&v[2], S("TLS"), S("t3.example.com"), 0, S("z9hG4bK2980unddj"));
	expect_via(&v[3], S("UNKNOWN"), S("t4.example.com"), 0, S("z9hG4bKasd0f3en"));
	expect_via(&v[4], S("TCP"), S("t5.example.com"), 0, S("z9hG4bK0a9idfnee"));
	expect_top_via(S("UDP"), S("t1.example.com"), 0, S("z9hG4bKkdjuw"));
	expect_call_id(S("transports.kijh4akdnaqjkwendsasfdj"));
	expect_cseq(60, S("OPTIONS"));
	expect_max_forwards(70);
	expect_addr(SIP_H_TO, S(""), S("sip:user@example.com"), S(""));
	expect_addr(SIP_H_FROM, S(""), S("sip:caller@example.com"), S("323"));
	expect_body(0);
}

/* 3.1.1.11: the binary part holds NUL, CR and LF octets; only Content-Length frames it */
Test(torture_valid, mpart01)
{
	scan_ok("mpart01");
	expect_request(S("MESSAGE"), SIP_M_MESSAGE, S("sip:kumiko@example.org"));
	expect_nhdr(14);
	expect_top_via(S("UDP"), S("127.0.0.1"), 5070,
	               S("z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-"));
	struct sip_via v;
	cr_assert_eq(sip_via_top(&fx.m, &v), 0);
	cr_expect(v.has_rport);
	cr_expect_eq(v.host_kind, SIP_HOST_IPV4);
	expect_call_id(S("3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA.."));
	expect_cseq(1, S("MESSAGE"));
	expect_max_forwards(70);
	expect_addr(SIP_H_TO, S(""), S("sip:kumiko@example.org"), S(""));
	expect_addr(SIP_H_FROM, S(""), S("sip:fluffy@example.com"), S("2fb0dcc9"));
	expect_addr(SIP_H_ROUTE, S(""), S("sip:127.0.0.1:5080"), S(""));
	expect_eq("Content-Type", need_hdr(SIP_H_CONTENT_TYPE)->value,
	          S("multipart/mixed;boundary=7a9cbec02ceef655"));
	expect_body(553);
	cr_expect_not_null(memchr(fx.m.body.p, '\0', fx.m.body.n), "a NUL in the body");
	expect_eq("body ends", slice_sub(fx.m.body, fx.m.body.n - 24, fx.m.body.n),
	          S("\r\n--7a9cbec02ceef655--\r\n"));
}

/* 3.1.1.12: Reason-Phrase is TEXT-UTF8 */
Test(torture_valid, unreason)
{
	scan_ok("unreason");
	expect_response(200, S("= 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe "
	                       "\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82"
	                       "\xd0\xbe \xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd1\x82\xd1\x8c - "
	                       "\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5"));
	expect_nhdr(8);
	expect_top_via(S("UDP"), S("192.0.2.198"), 0, S("z9hG4bK1324923"));
	expect_call_id(S("unreason.1234ksdfak3j2erwedfsASdf"));
	expect_cseq(35, S("INVITE"));
	expect_addr(SIP_H_TO, S(""), S("sip:user@example.edu"), S("2229"));
	expect_addr(SIP_H_FROM, S(""), S("sip:user@example.com"), S("11141343"));
	expect_body(154);
}

/* 3.1.1.13: "SIP/2.0 100 " CRLF: Reason-Phrase may be empty, its SP may not be dropped */
Test(torture_valid, noreason)
{
	scan_ok("noreason");
	expect_response(100, S(""));
	expect_eq("start line", fx.m.start_line, S("SIP/2.0 100 "));
	expect_nhdr(7);
	expect_top_via(S("UDP"), S("192.0.2.105"), 0, S("z9hG4bK2398ndaoe"));
	expect_call_id(S("noreason.asndj203insdf99223ndf"));
	expect_cseq(35, S("INVITE"));
	expect_addr(SIP_H_TO, S(""), S("sip:user@example.edu"), S("902jndnke3"));
	expect_addr(SIP_H_FROM, S(""), S("sip:user@example.com"), S("39ansfi3"));
	expect_body(0);
}

/* ---- 3.1.2 invalid messages ---------------------------------------------------------------- */

TestSuite(torture_invalid, .fini = fx_fini);

static void scan_err(const char *tag, int err)
{
	int rc = fx_scan(tag);
	cr_assert_eq(rc, err, "%s: sip_msg_scan = %d (%s), want %d (%s)", tag, rc, sip_err_str(rc),
	             err, sip_err_str(err));
	/* msg.h: err_off is the offset of the offending line (for the log) */
	if (err == -SIP_E_START_LINE || err == -SIP_E_VERSION)
		cr_expect_eq(fx.m.err_off, 0, "%s: err_off %u, want 0 (the start line)", tag,
		             fx.m.err_off);
}

/* 3.1.2.1: "Via: ...;;,;,," frames (the scanner does not parse Via) but is no Via: 400.
 * (The Contact's ";;;;" is also invalid; addr.h does not promise to check parameters.) */
Test(torture_invalid, badinv01)
{
	scan_ok("badinv01");
	struct sip_via v;
	int rc = sip_via_top(&fx.m, &v);
	cr_expect_eq(rc, -SIP_E_VIA, "sip_via_top = %d (%s), want -SIP_E_VIA", rc, sip_err_str(rc));
	/* the second element (";" between the commas) is no Via either */
	struct slice rest = need_hdr(SIP_H_VIA)->value, item;
	cr_assert_eq(sip_list_next(&rest, &item), 1);
	cr_assert_eq(sip_list_next(&rest, &item), 1);
	cr_expect_eq(sip_via_parse(item, &v), -SIP_E_VIA, "\"%.*s\"", SLICE_FMT(item));
	expect_cseq(8, S("INVITE"));
}

/* 3.1.2.2: on a stream a too-large Content-Length means "wait for the rest" (the RFC: there
 * is not much to do but wait, and close the connection on a timeout). */
Test(torture_invalid, clerr)
{
	int rc = fx_scan("clerr");
	cr_assert_eq(rc, 0, "clerr: %d (%s), want 0 (incomplete)", rc, sip_err_str(rc));
	/* when the 9999 octets do arrive, that is the message */
	size_t head = (size_t)((const char *)memmem(fx.f.p, fx.f.n, "\r\n\r\n", 4) - fx.f.p) + 4;
	size_t total = head + 9999;
	char *full = calloc(1, total);
	cr_assert_not_null(full);
	memcpy(full, fx.f.p, fx.f.n);
	memset(full + fx.f.n, 'x', total - fx.f.n);
	struct guard g = guard_open(total);
	const char *buf = guard_place(&g, full, total);
	sip_msg_init(&fx.m, fx.hdr, TORTURE_MAX_HDR);
	cr_expect_eq(sip_msg_scan(buf, total - 1, &torture_lim, &fx.m), 0);
	cr_expect_eq(sip_msg_scan(buf, total, &torture_lim, &fx.m), (int)total);
	cr_expect_eq(fx.m.content_length, 9999);
	guard_close(&g);
	free(full);
}

/* 3.1.2.3: 400; what came before the bad Content-Length is kept for that 400 */
Test(torture_invalid, ncl)
{
	scan_err("ncl", -SIP_E_CLEN);
	const char *line = memmem(fx.buf, fx.f.n, "Content-Length: -999", 20);
	cr_assert_not_null(line);
	cr_expect_eq(fx.m.err_off, (uint32_t)(line - fx.buf),
	             "err_off %u, want %td (the Content-Length line, msg.h)", fx.m.err_off,
	             line - fx.buf);
	cr_expect_eq(fx.m.kind, SIP_KIND_REQUEST);
	expect_eq("method", fx.m.method, S("INVITE"));
	struct sip_via v;
	cr_expect_eq(sip_via_top(&fx.m, &v), 0, "the Via for the 400 is still readable");
	expect_eq("Via host", v.host, S("192.0.2.53"));
}

/* 3.1.2.4: 400 for the CSeq; Max-Forwards and the expiries are out of range too */
Test(torture_invalid, scalar02)
{
	scan_ok("scalar02");
	struct sip_cseq c;
	unsigned mf;
	uint32_t exp;
	int rc = sip_cseq_parse(need_hdr(SIP_H_CSEQ)->value, &c);
	cr_expect_eq(rc, -SIP_E_CSEQ, "CSeq 36893488147419103232: %d", rc);
	rc = sip_max_forwards_parse(need_hdr(SIP_H_MAX_FORWARDS)->value, &mf);
	cr_expect_eq(rc, -SIP_E_MAX_FORWARDS, "Max-Forwards 300: %d", rc);
	rc = sip_expires_parse(need_hdr(SIP_H_EXPIRES)->value, &exp);
	cr_expect_eq(rc, -SIP_E_HEADER, "Expires 10**100: %d", rc);
	struct sip_addr a;
	struct slice pv;
	cr_assert_eq(sip_addr_parse(need_hdr(SIP_H_CONTACT)->value, &a), 0);
	cr_assert(sip_param_get(a.params, S("expires"), &pv), "Contact expires");
	expect_eq("Contact expires", pv, S("280297596632815"));
	cr_expect_eq(sip_expires_parse(pv, &exp), -SIP_E_HEADER, "expires 280297596632815");
	/* the parsers do take the largest legal values */
	cr_expect_eq(sip_cseq_parse(S("2147483647 REGISTER"), &c), 0);
	cr_expect_eq(sip_max_forwards_parse(S("255"), &mf), 0);
	cr_expect_eq(sip_expires_parse(S("4294967295"), &exp), 0);
}

/* 3.1.2.5: a response with out-of-range scalars is discarded (the CSeq does not parse) */
Test(torture_invalid, scalarlg)
{
	scan_ok("scalarlg");
	expect_response(503, S("Service Unavailable"));
	expect_top_via(S("TCP"), S("host129.example.com"), 0, S("z9hG4bKzzxdiwo34sw"));
	struct sip_cseq c;
	uint32_t ra;
	cr_expect_eq(sip_cseq_parse(need_hdr(SIP_H_CSEQ)->value, &c), -SIP_E_CSEQ);
	/* Retry-After is delta-seconds like Expires */
	cr_expect_eq(sip_expires_parse(need_named(S("Retry-After"))->value, &ra), -SIP_E_HEADER);
	expect_eq("Warning", need_named(S("Warning"))->value, S("1812 overture \"In Progress\""));
}

/* 3.1.2.6: 400 */
Test(torture_invalid, quotbal)
{
	scan_ok("quotbal");
	struct sip_addr a;
	int rc = sip_addr_parse(need_hdr(SIP_H_TO)->value, &a);
	cr_expect_eq(rc, -SIP_E_ADDR, "To \"Mr. J. User <sip:...>: %d", rc);
	cr_expect_eq(sip_addr_parse(need_hdr(SIP_H_FROM)->value, &a), 0, "From is fine");
}

/* 3.1.2.7 - 3.1.2.10: the request line is broken; the scanner refuses it (400) */
Test(torture_invalid, ltgtruri)
{
	scan_err("ltgtruri", -SIP_E_START_LINE);
}

Test(torture_invalid, lwsruri)
{
	scan_err("lwsruri", -SIP_E_START_LINE);
}

Test(torture_invalid, lwsstart)
{
	scan_err("lwsstart", -SIP_E_START_LINE);
}

Test(torture_invalid, trws)
{
	scan_err("trws", -SIP_E_START_LINE);
}

/* 3.1.2.11: may be refused with 400; a proxy sees the headers in the Request-URI and does */
Test(torture_invalid, escruri)
{
	scan_ok("escruri");
	struct sip_uri u;
	expect_uri(fx.m.ruri, &u);
	expect_eq("R-URI host", u.host, S("example.com"));
	expect_eq("R-URI headers", u.headers, S("Route=%3Csip:example.com%3E"));
	cr_expect(!slice_empty(u.headers), "a proxy must refuse a Request-URI with headers");
}

/* 3.1.2.12: a proxy forwards it (the Date is not its business) */
Test(torture_invalid, baddate)
{
	scan_ok("baddate");
	expect_forwardable();
	expect_eq("Date", need_named(S("Date"))->value, S("Fri, 01 Jan 2010 16:00:00 EST"));
	expect_body(150);
}

/* 3.1.2.13: a proxy forwards it; whoever parses the Contact either refuses it or sees an
 * addr-spec (no <>) whose URI carries headers, which RFC 3261 20.10 forbids. */
Test(torture_invalid, regbadct)
{
	scan_ok("regbadct");
	expect_forwardable();
	struct sip_addr a;
	int rc = sip_addr_parse(need_hdr(SIP_H_CONTACT)->value, &a);
	cr_expect(rc == 0 || rc == -SIP_E_ADDR, "Contact: %d", rc);
	if (rc == 0) {
		struct sip_uri u;
		cr_expect(!a.angle);
		expect_uri(a.uri, &u);
		expect_eq("Contact URI headers", u.headers, S("Route=%3Csip:sip.example.com%3E"));
	}
}

/* 3.1.2.14: parsers must not break; proxies may forward it */
Test(torture_invalid, badaspec)
{
	scan_ok("badaspec");
	expect_forwardable();
	expect_top_via(S("UDP"), S("host4.example.com"), 5060, S("z9hG4bKkdju43234"));
	expect_addr(SIP_H_FROM, S("\"Bell, Alexander\""), S("sip:a.g.bell@example.com"),
	            S("433423"));
	struct sip_addr a;
	int rc = sip_addr_parse(need_hdr(SIP_H_TO)->value, &a);
	cr_expect(rc == 0 || rc == -SIP_E_ADDR, "To \"< sip:... >\": %d", rc);
}

/* 3.1.2.15: 400 (a display name that is not quoted must be tokens) */
Test(torture_invalid, baddn)
{
	scan_ok("baddn");
	struct sip_addr a;
	cr_expect_eq(sip_addr_parse(need_hdr(SIP_H_FROM)->value, &a), -SIP_E_ADDR, "From");
	cr_expect_eq(sip_addr_parse(need_hdr(SIP_H_TO)->value, &a), -SIP_E_ADDR, "To");
}

/* 3.1.2.16: 505 */
Test(torture_invalid, badvers)
{
	scan_err("badvers", -SIP_E_VERSION);
	cr_expect_eq(fx.m.kind, SIP_KIND_REQUEST, "a request: answer 505");
	expect_eq("method", fx.m.method, S("OPTIONS"));
}

/* 3.1.2.17 / 3.1.2.18: a proxy compares the CSeq method with the request method (RFC 3261
 * 8.2 / 16.3): they differ, so 400 (mismatch01) or 501 (mismatch02, unknown method). */
static void expect_method_mismatch(struct slice method, enum sip_method id)
{
	struct sip_cseq c;
	cr_assert_eq(sip_cseq_parse(need_hdr(SIP_H_CSEQ)->value, &c), 0);
	cr_expect_eq(c.seq, 8);
	expect_eq("CSeq method", c.method, S("INVITE"));
	cr_expect_eq(c.method_id, SIP_M_INVITE);
	expect_eq("method", fx.m.method, method);
	cr_expect_eq(fx.m.method_id, id);
	cr_expect(!slice_eq(c.method, fx.m.method), "the methods differ: refuse");
}

Test(torture_invalid, mismatch01)
{
	scan_ok("mismatch01");
	expect_method_mismatch(S("OPTIONS"), SIP_M_OPTIONS);
}

Test(torture_invalid, mismatch02)
{
	scan_ok("mismatch02");
	expect_method_mismatch(S("NEWMETHOD"), SIP_M_OTHER);
	expect_body(138);
}

/* 3.1.2.19: Status-Code is 3DIGIT: drop it */
Test(torture_invalid, bigcode)
{
	scan_err("bigcode", -SIP_E_START_LINE);
}
