/* libFuzzer target for the SIP layer: the input is a TCP/TLS byte stream.
 *
 * Messages are framed and scanned back to back (also with the first one arriving in two
 * pieces, which must give the same answer as in one). For every complete message the field
 * parsers run on Via, From, To, Route, CSeq, Max-Forwards and the Request-URI, every proxy
 * edit runs alone and all together, and local replies are built; each edit and reply is
 * gathered and must scan again as exactly one message, with the change it promised.
 * Any broken promise aborts, so the fuzzer keeps the input as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/addr.h"
#include "sip/edit.h"
#include "sip/msg.h"
#include "sip/reply.h"
#include "sip/scalar.h"
#include "sip/uri.h"
#include "sip/via.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HDR 128
/* an edit or a reply adds a few lines to a message that fit the default limits */
#define FUZZ_OUT (65535 + SIP_EDIT_SCRATCH + 4096)
static const struct sip_limits fuzz_relaxed = {FUZZ_OUT, FUZZ_HDR + 16, 8192 + 1024};

static const struct slice fuzz_via = SLICE_LIT("SIP/2.0/TLS proxy.example.net:5061;"
                                               "branch=z9hG4bK-fuzz-1;rport");
static const struct slice fuzz_rr_out = SLICE_LIT("sip:out.example.net:5061;transport=tls;lr");
static const struct slice fuzz_rr_in = SLICE_LIT("sip:in.example.net:5061;transport=tls;lr");
static const struct slice fuzz_ruri = SLICE_LIT("sips:bob@10.0.0.7:5061");

static char fuzz_out[FUZZ_OUT];

static void fuzz_assert(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz/sip: broken promise: %s\n", what);
		abort();
	}
}

/* a parser's output slice lies inside its input (or is empty) */
static void fuzz_inside(struct slice out, struct slice in, const char *what)
{
	fuzz_assert(out.n == 0 || (out.p >= in.p && out.p + out.n <= in.p + in.n), what);
}

/* ---- field parsers ---- */

static void fuzz_uri(struct slice s)
{
	struct sip_uri u;
	struct slice rest, name, value;

	if (sip_uri_parse(s, &u) < 0)
		return;
	fuzz_inside(u.user, s, "uri user");
	fuzz_inside(u.host, s, "uri host");
	fuzz_inside(u.params, s, "uri params");
	fuzz_inside(u.headers, s, "uri headers");
	rest = u.params;
	for (int i = 0; i < 64 && sip_param_next(&rest, &name, &value) == 1; i++)
		fuzz_inside(name, s, "uri param name");
}

static void fuzz_addr(struct slice s)
{
	struct sip_addr a;

	if (sip_addr_parse(s, &a) < 0)
		return;
	fuzz_inside(a.uri, s, "addr uri");
	fuzz_inside(a.tag, s, "addr tag");
	fuzz_uri(a.uri);
}

/* every element of every header with id, through sip_list_next */
static void fuzz_elements(const struct sip_msg *m, enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_get(m, id); h; h = sip_msg_next(m, h)) {
		struct slice rest = h->value, item;
		while (sip_list_next(&rest, &item) == 1) {
			struct sip_via v;
			fuzz_inside(item, h->value, "list element");
			if (id != SIP_H_VIA) {
				fuzz_addr(item);
			} else if (sip_via_parse(item, &v) == 0) {
				struct slice b;
				fuzz_inside(v.host, item, "via host");
				fuzz_inside(v.branch, item, "via branch");
				/* the response path's branch-only lookup agrees with the full parse */
				if (sip_via_branch(item, &b) != 0 || !slice_eq(b, v.branch))
					abort();
			}
		}
	}
}

static void fuzz_fields(const struct sip_msg *m)
{
	const struct sip_hdr *h;
	struct sip_via top;
	struct sip_cseq c;
	unsigned mf;

	fuzz_elements(m, SIP_H_VIA);
	fuzz_elements(m, SIP_H_ROUTE);
	fuzz_elements(m, SIP_H_RECORD_ROUTE);
	fuzz_elements(m, SIP_H_CONTACT);
	(void)sip_via_top(m, &top);
	if ((h = sip_msg_get(m, SIP_H_FROM)))
		fuzz_addr(h->value);
	if ((h = sip_msg_get(m, SIP_H_TO)))
		fuzz_addr(h->value);
	if ((h = sip_msg_get(m, SIP_H_CSEQ)) && sip_cseq_parse(h->value, &c) == 0)
		fuzz_assert(c.seq < (1u << 31), "cseq range");
	if ((h = sip_msg_get(m, SIP_H_MAX_FORWARDS)) && sip_max_forwards_parse(h->value, &mf) == 0)
		fuzz_assert(mf <= 255, "max-forwards range");
	if (m->kind == SIP_KIND_REQUEST)
		fuzz_uri(m->ruri);
}

/* ---- edits ---- */

enum fuzz_op {
	FUZZ_VIA_PUSH = 1 << 0,
	FUZZ_VIA_POP = 1 << 1,
	FUZZ_ROUTE_POP = 1 << 2,
	FUZZ_MAX_FORWARDS = 1 << 3,
	FUZZ_RR_PUSH = 1 << 4,
	FUZZ_RURI = 1 << 5,
	FUZZ_ALL = (1 << 6) - 1,
};

/* number of comma-separated elements over all headers with id, or -1 when one is bad */
static int fuzz_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	int n = 0, rc = 0;
	for (const struct sip_hdr *h = sip_msg_get(m, id); h; h = sip_msg_next(m, h)) {
		struct slice rest = h->value, item;
		while ((rc = sip_list_next(&rest, &item)) == 1)
			n++;
		if (rc < 0)
			return -1;
	}
	return n;
}

/* the gathered edit scans as one message of exactly its length into m2 */
static void fuzz_gather(const struct sip_edit *e, struct sip_msg *m2, struct sip_hdr *hdr)
{
	struct iovec iov[SIP_EDIT_MAX_IOV];
	size_t total = 0, at = 0;
	const char *last = e->m->raw.p;
	int n = sip_edit_iov(e, iov, SIP_EDIT_MAX_IOV, &total);

	fuzz_assert(n > 0 && total <= sizeof(fuzz_out), "sip_edit_iov");
	for (int i = 0; i < n; i++) {
		const char *p = iov[i].iov_base;
		bool orig = p >= e->m->raw.p && p + iov[i].iov_len <= e->m->raw.p + e->m->raw.n;
		fuzz_assert(orig || (p >= e->scratch && p + iov[i].iov_len <= e->scratch + e->used),
		            "iovec outside message and scratch");
		fuzz_assert(!orig || p >= last, "original pieces out of order");
		if (orig)
			last = p + iov[i].iov_len;
		memcpy(fuzz_out + at, p, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	fuzz_assert(at == total, "iovec total");
	sip_msg_init(m2, hdr, FUZZ_HDR + 16);
	if (sip_msg_scan(fuzz_out, total, &fuzz_relaxed, m2) != (int)total) {
		fprintf(stderr, "fuzz/sip: edit output:\n%.*s\n", (int)total, fuzz_out);
		fuzz_assert(false, "edited message does not scan again");
	}
	fuzz_assert(m2->kind == e->m->kind, "edit changed the kind");
	fuzz_assert(slice_eq(m2->body, e->m->body), "edit changed the body");
}

static void fuzz_check_max_forwards(const struct sip_msg *m, const struct sip_msg *m2)
{
	const struct sip_hdr *was = sip_msg_get(m, SIP_H_MAX_FORWARDS);
	const struct sip_hdr *now = sip_msg_get(m2, SIP_H_MAX_FORWARDS);
	unsigned a = 71, b = 0;

	fuzz_assert(now && sip_max_forwards_parse(now->value, &b) == 0, "new max-forwards");
	if (was)
		fuzz_assert(sip_max_forwards_parse(was->value, &a) == 0, "old max-forwards");
	fuzz_assert(b + 1 == a, "max-forwards not decremented");
}

/* the Record-Route pushed last is the top one, as "<uri>" */
static void fuzz_check_rr(const struct sip_msg *m2)
{
	const struct sip_hdr *h = sip_msg_get(m2, SIP_H_RECORD_ROUTE);
	struct slice rest, top;

	fuzz_assert(h != NULL, "pushed Record-Route missing");
	rest = h->value;
	fuzz_assert(sip_list_next(&rest, &top) == 1 && top.n == fuzz_rr_in.n + 2 &&
	                top.p[0] == '<' && memcmp(top.p + 1, fuzz_rr_in.p, fuzz_rr_in.n) == 0,
	            "pushed Record-Route not on top");
}

/* runs the ops in mask on one edit and checks what each that succeeded promised */
static void fuzz_edit(const struct sip_msg *m, unsigned mask)
{
	struct sip_edit e;
	struct sip_hdr hdr[FUZZ_HDR + 16];
	struct sip_msg m2;
	int via = -1, route = -1, mf = -1, rr = -1, ruri = -1, vpop = -1;
	int vias = fuzz_count(m, SIP_H_VIA), routes = fuzz_count(m, SIP_H_ROUTE);

	sip_edit_init(&e, m);
	if (mask & FUZZ_VIA_POP)
		vpop = sip_edit_via_pop(&e);
	if (mask & FUZZ_RR_PUSH) {
		rr = sip_edit_record_route_push(&e, fuzz_rr_out);
		if (rr == 0)
			rr = sip_edit_record_route_push(&e, fuzz_rr_in);
	}
	if (mask & FUZZ_ROUTE_POP)
		route = sip_edit_route_pop(&e);
	if (mask & FUZZ_MAX_FORWARDS)
		mf = sip_edit_max_forwards(&e);
	if (mask & FUZZ_VIA_PUSH)
		via = sip_edit_via_push(&e, fuzz_via);
	if (mask & FUZZ_RURI)
		ruri = sip_edit_ruri_set(&e, fuzz_ruri);
	fuzz_gather(&e, &m2, hdr);

	if (via == 0)
		fuzz_assert(sip_msg_get(&m2, SIP_H_VIA) &&
		                slice_eq(sip_msg_get(&m2, SIP_H_VIA)->value, fuzz_via),
		            "pushed Via not on top");
	if ((via == 0 || vpop == 0) && vias >= 0)
		fuzz_assert(fuzz_count(&m2, SIP_H_VIA) == vias + (via == 0) - (vpop == 0),
		            "Via element count");
	if (route == 0 && routes >= 0)
		fuzz_assert(fuzz_count(&m2, SIP_H_ROUTE) == routes - 1, "Route element count");
	if (mf == 0)
		fuzz_check_max_forwards(m, &m2);
	if (rr == 0)
		fuzz_check_rr(&m2);
	if (ruri == 0)
		fuzz_assert(slice_eq(m2.ruri, fuzz_ruri), "Request-URI not replaced");
}

/* ---- replies ---- */

/* does s hold "tag" in any case, anywhere? */
static bool fuzz_mentions_tag(struct slice s)
{
	for (size_t i = 0; i + 3 <= s.n; i++)
		if (slice_case_prefix(slice_sub(s, i, s.n), SLICE_LIT("tag")))
			return true;
	return false;
}

/* The reply's To tag, read back by sip_addr_parse, follows RFC 3261 8.2.6.2: the request's
 * tag when it had one, ours on a final or provisional (not 100) reply when it had none.
 * Values that mention "tag" without one (";tag" bare, "tagx=") are left to the unit tests. */
static void fuzz_reply_tag(const struct sip_hdr *req_to, const struct sip_hdr *rsp_to,
                           unsigned code)
{
	struct sip_addr a, b;

	fuzz_assert(rsp_to != NULL, "reply without To");
	if (sip_addr_parse(req_to->value, &a) < 0 || sip_addr_parse(rsp_to->value, &b) < 0)
		return;
	if (a.tag.n)
		fuzz_assert(slice_eq(a.tag, b.tag), "reply changed the To tag");
	else if (!fuzz_mentions_tag(req_to->value))
		fuzz_assert(slice_eq(b.tag, code > 100 ? SLICE_LIT("fz1") : SLICE_LIT("")),
		            "reply To tag");
}

static void fuzz_reply(const struct sip_msg *req, unsigned code, bool complete)
{
	struct sip_hdr hdr[FUZZ_HDR + 16];
	struct sip_msg m2;
	int n =
	    sip_reply_build(req, code, SLICE_LIT("fz1"), SLICE_LIT(""), fuzz_out, sizeof(fuzz_out));

	if (n < 0 || !complete)
		return;
	sip_msg_init(&m2, hdr, FUZZ_HDR + 16);
	if (sip_msg_scan(fuzz_out, (size_t)n, &fuzz_relaxed, &m2) != n) {
		fprintf(stderr, "fuzz/sip: reply:\n%.*s\n", n, fuzz_out);
		fuzz_assert(false, "reply does not scan");
	}
	fuzz_assert(m2.kind == SIP_KIND_RESPONSE && m2.status == code, "reply status");
	fuzz_assert(m2.content_length == 0, "reply Content-Length");
	fuzz_reply_tag(sip_msg_get(req, SIP_H_TO), sip_msg_get(&m2, SIP_H_TO), code);
}

static void fuzz_message(const struct sip_msg *m)
{
	static const unsigned ops[] = {
	    FUZZ_VIA_PUSH, FUZZ_VIA_POP, FUZZ_ROUTE_POP,           FUZZ_MAX_FORWARDS,
	    FUZZ_RR_PUSH,  FUZZ_RURI,    FUZZ_ALL & ~FUZZ_VIA_POP, FUZZ_ALL};

	fuzz_fields(m);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		fuzz_edit(m, ops[i]);
	if (m->kind == SIP_KIND_REQUEST) {
		fuzz_reply(m, 100, true);
		fuzz_reply(m, 483, true);
	}
}

/* the first message arriving in two reads gives the same answer as in one */
static void fuzz_split(const char *buf, size_t len, int whole)
{
	struct sip_hdr hdr[FUZZ_HDR];
	struct sip_msg m;
	const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	size_t cut = len ? (unsigned char)buf[len - 1] * len / 256 : 0;
	int resumed;

	sip_msg_init(&m, hdr, FUZZ_HDR);
	if (sip_msg_scan(buf, cut, &lim, &m) != 0)
		return;
	resumed = sip_msg_scan(buf, len, &lim, &m);
	/* a fresh scan may reject a bad start line before the head is complete, where a
	 * resumed one may wait for the rest: both are allowed, anything else must agree */
	fuzz_assert(resumed == whole || (whole < 0 && resumed == 0), "resumed scan differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_hdr hdr[FUZZ_HDR];
	struct sip_msg m;
	size_t off = 0;

	for (int i = 0; off < size; i++) {
		int n;
		sip_msg_init(&m, hdr, FUZZ_HDR);
		n = sip_msg_scan(buf + off, size - off, &lim, &m);
		if (i == 0)
			fuzz_split(buf, size, n);
		if (n < 0 && m.kind == SIP_KIND_REQUEST)
			fuzz_reply(&m, 400, false); /* what the proxy answers to a broken request */
		if (n <= 0)
			break;
		fuzz_assert((size_t)n <= size - off, "scan claims more than it got");
		if (m.kind == SIP_KIND_REQUEST || m.kind == SIP_KIND_RESPONSE)
			fuzz_message(&m);
		off += (size_t)n;
	}
	return 0;
}
