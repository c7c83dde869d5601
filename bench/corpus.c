/* Deterministic trunk traffic for the scanner benchmark (see corpus.h). */
#include "bench/corpus.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MIN 400
#define MSG_MAX 1500
#define ACTIVE_CALLS 8

/* ---- deterministic randomness (splitmix64: same bytes on every libc) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static bool rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

static void rng_chars(struct rng *r, char *dst, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		dst[i] = alphabet[rng_below(r, (unsigned)k)];
	dst[n] = '\0';
}

static const char HEX[] = "0123456789abcdef";
static const char ALNUM[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* ---- output: one big buffer, sized up front for MSG_MAX per message ---- */

struct gen {
	struct rng rng;
	char *buf;
	size_t n, cap;
	int style; /* this message's header-name style, see put_name */
};

static void put(struct gen *g, const char *s)
{
	size_t k = strlen(s);
	if (g->n + k >= g->cap)
		abort(); /* cap is MSG_MAX per message plus slack: a generator bug */
	memcpy(g->buf + g->n, s, k);
	g->n += k;
}

__attribute__((format(printf, 2, 3))) static void putf(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
	va_end(ap);
	if (k < 0 || g->n + (size_t)k >= g->cap)
		abort();
	g->n += (size_t)k;
}

/* slice of buf from mark to the current end */
static struct slice since(const struct gen *g, size_t mark)
{
	return slice_make(g->buf + mark, g->n - mark);
}

/* ---- header names: long or compact form, in the case real stacks send ---- */

enum hn {
	HN_VIA,
	HN_FROM,
	HN_TO,
	HN_CALL_ID,
	HN_CSEQ,
	HN_CONTACT,
	HN_CONTENT_TYPE,
	HN_CONTENT_LENGTH,
	HN_MAX_FORWARDS,
	HN_RECORD_ROUTE,
	HN_ROUTE,
	HN_SUPPORTED,
	HN_ALLOW,
	HN_USER_AGENT,
	HN_SERVER,
	HN_EXPIRES,
	HN_SESSION_EXPIRES,
	HN_MIN_SE,
	HN_PAI,
	HN_ACCEPT,
	HN_AUTHORIZATION,
	HN_PCV,
	HN_ALLOW_EVENTS,
	HN_PRIVACY,
	HN_REQUIRE
};

static const struct {
	const char *name;
	char compact; /* RFC 3261 7.3.3 / RFC 4028; 0: none */
} HNAMES[] = {
    [HN_VIA] = {"Via", 'v'},
    [HN_FROM] = {"From", 'f'},
    [HN_TO] = {"To", 't'},
    [HN_CALL_ID] = {"Call-ID", 'i'},
    [HN_CSEQ] = {"CSeq", 0},
    [HN_CONTACT] = {"Contact", 'm'},
    [HN_CONTENT_TYPE] = {"Content-Type", 'c'},
    [HN_CONTENT_LENGTH] = {"Content-Length", 'l'},
    [HN_MAX_FORWARDS] = {"Max-Forwards", 0},
    [HN_RECORD_ROUTE] = {"Record-Route", 0},
    [HN_ROUTE] = {"Route", 0},
    [HN_SUPPORTED] = {"Supported", 'k'},
    [HN_ALLOW] = {"Allow", 0},
    [HN_USER_AGENT] = {"User-Agent", 0},
    [HN_SERVER] = {"Server", 0},
    [HN_EXPIRES] = {"Expires", 0},
    [HN_SESSION_EXPIRES] = {"Session-Expires", 'x'},
    [HN_MIN_SE] = {"Min-SE", 0},
    [HN_PAI] = {"P-Asserted-Identity", 0},
    [HN_ACCEPT] = {"Accept", 0},
    [HN_AUTHORIZATION] = {"Authorization", 0},
    [HN_PCV] = {"P-Charging-Vector", 0},
    [HN_ALLOW_EVENTS] = {"Allow-Events", 'u'},
    [HN_PRIVACY] = {"Privacy", 0},
    [HN_REQUIRE] = {"Require", 0},
};

enum { STYLE_CANON, STYLE_COMPACT, STYLE_LOWER, STYLE_UPPER };

static int pick_style(struct rng *r)
{
	unsigned x = rng_below(r, 100);
	return x < 50 ? STYLE_CANON : x < 75 ? STYLE_COMPACT : x < 90 ? STYLE_LOWER : STYLE_UPPER;
}

/* "Name: " in the message's style, with one header in five in some other style */
static void put_name(struct gen *g, enum hn h)
{
	int style = rng_pct(&g->rng, 20) ? pick_style(&g->rng) : g->style;
	const char *name = HNAMES[h].name;
	char tmp[32];
	size_t k = strlen(name);

	if (style == STYLE_COMPACT && HNAMES[h].compact) {
		tmp[0] = HNAMES[h].compact;
		k = 1;
	} else {
		for (size_t i = 0; i < k; i++) {
			char c = name[i];
			if (style == STYLE_LOWER && c >= 'A' && c <= 'Z')
				c = (char)(c | 0x20);
			if (style == STYLE_UPPER && c >= 'a' && c <= 'z')
				c = (char)(c & ~0x20);
			tmp[i] = c;
		}
	}
	tmp[k] = '\0';
	put(g, tmp);
	put(g, rng_pct(&g->rng, 10) ? ":" : ": ");
}

/* ---- the actors of a call ---- */

struct hop {
	const char *transport;
	char host[48];
	bool v6;
	unsigned port; /* 0: absent */
	char branch[48];
	char received[16];
	bool rport;
};

struct party {
	char user[24];
	char domain[48];
	char display[32];
	char tag[24];
	char contact_host[48];
	unsigned contact_port;
};

struct call {
	int step; /* next message of the call flow, see call_next */
	bool bye_from_b;
	struct party a, b; /* caller (carrier side), callee (our side) */
	struct hop via[3], bvia[2];
	int nvia, nbvia;
	bool joined; /* the lower Via hops share one header line, comma-separated */
	char rr[2][80];
	int nrr;
	char callid[96];
	unsigned cseq;
	char sdp_ip_a[16], sdp_ip_b[16];
	unsigned rtp_a, rtp_b;
	unsigned long long sess_a, sess_b;
};

static void make_branch(struct rng *r, char *dst)
{
	char rnd[32];
	switch (rng_below(r, 3)) {
	case 0: /* reSIProcate / Kamailio style */
		rng_chars(r, rnd, 16, HEX);
		sprintf(dst, "z9hG4bK-524287-1---%s", rnd);
		break;
	case 1:
		rng_chars(r, rnd, 10, HEX);
		sprintf(dst, "z9hG4bK%s.%u", rnd, rng_below(r, 4));
		break;
	default:
		rng_chars(r, rnd, 20, ALNUM);
		sprintf(dst, "z9hG4bK%s", rnd);
		break;
	}
}

static void make_ipv4(struct rng *r, char *dst, const char *net)
{
	sprintf(dst, "%s.%u", net, 1 + rng_below(r, 250));
}

/* the carrier's edge: the hop that talks TLS to us */
static void make_edge_hop(struct rng *r, struct hop *h)
{
	unsigned x = rng_below(r, 100);
	h->v6 = false;
	if (x < 45)
		make_ipv4(r, h->host, rng_pct(r, 50) ? "198.51.100" : "203.0.113");
	else if (x < 93)
		sprintf(h->host, "sbc%u.%s.example.net", 1 + rng_below(r, 9),
		        rng_pct(r, 50) ? "carrier-a" : "voip-trunk-b");
	else {
		sprintf(h->host, "2001:db8:%x::%x", 1 + rng_below(r, 0xfff),
		        1 + rng_below(r, 0xff));
		h->v6 = true;
	}
	h->transport = rng_pct(r, 90) ? "TLS" : "TCP";
	h->port = rng_pct(r, 70) ? (strcmp(h->transport, "TLS") == 0 ? 5061 : 5060) : 0;
	h->received[0] = '\0';
	h->rport = rng_pct(r, 30);
	make_branch(r, h->branch);
}

/* a proxy or UA inside the carrier, behind the edge */
static void make_inner_hop(struct rng *r, struct hop *h)
{
	h->v6 = false;
	make_ipv4(r, h->host, rng_pct(r, 50) ? "10.20.30" : "172.16.4");
	h->transport = rng_pct(r, 60) ? "UDP" : "TCP";
	h->port = rng_pct(r, 80) ? 5060 : 5080;
	h->rport = rng_pct(r, 50);
	if (rng_pct(r, 40))
		make_ipv4(r, h->received, "10.99.1");
	else
		h->received[0] = '\0';
	make_branch(r, h->branch);
}

static void make_e164(struct rng *r, char *dst, const char *cc)
{
	char digits[12];
	rng_chars(r, digits, 9, "0123456789");
	sprintf(dst, "+%s%s", cc, digits);
}

static void call_init(struct call *c, struct rng *r)
{
	static const char *const names[] = {"Alice Example", "Bob",        "Carol Sanchez",
	                                    "Support",       "Hotline DE", ""};
	char id[40];
	memset(c, 0, sizeof(*c));
	make_e164(r, c->a.user, rng_pct(r, 50) ? "4930" : "4989");
	sprintf(c->a.domain, "%s.example.net", rng_pct(r, 50) ? "carrier-a" : "voip-trunk-b");
	snprintf(c->a.display, sizeof(c->a.display), "%s", names[rng_below(r, 6)]);
	rng_chars(r, c->a.tag, 8 + rng_below(r, 8), HEX);
	make_ipv4(r, c->a.contact_host, "198.51.100");
	c->a.contact_port = 5061;

	make_e164(r, c->b.user, rng_pct(r, 50) ? "4940" : "4969");
	sprintf(c->b.domain, "gw%u.trunk.example.com", 1 + rng_below(r, 3));
	rng_chars(r, c->b.tag, 10, ALNUM);
	make_ipv4(r, c->b.contact_host, "192.0.2");
	c->b.contact_port = rng_pct(r, 50) ? 5061 : 0;

	c->nvia = 2 + (int)rng_below(r, 2);
	make_edge_hop(r, &c->via[0]);
	for (int i = 1; i < c->nvia; i++)
		make_inner_hop(r, &c->via[i]);
	c->joined = rng_pct(r, 35);
	c->nbvia = 1 + (int)rng_below(r, 2);
	/* the customer side: its PBX talks TLS to us, maybe behind an internal proxy */
	sprintf(c->bvia[0].host, "pbx%u.customer.example.com", 1 + rng_below(r, 5));
	c->bvia[0].v6 = false;
	c->bvia[0].transport = "TLS";
	c->bvia[0].port = 5061;
	c->bvia[0].rport = rng_pct(r, 50);
	c->bvia[0].received[0] = '\0';
	make_branch(r, c->bvia[0].branch);
	make_inner_hop(r, &c->bvia[1]);

	c->nrr = 1 + (int)rng_below(r, 2);
	sprintf(c->rr[0], "<sip:%s:5061;transport=tls;lr>",
	        c->via[0].v6 ? "sbc1.carrier-a.example.net" : c->via[0].host);
	sprintf(c->rr[1], "<sip:10.20.30.%u;lr;ftag=%s>", 1 + rng_below(r, 250), c->a.tag);

	rng_chars(r, id, 32, HEX);
	if (rng_pct(r, 50))
		sprintf(c->callid, "%s@%s", id, c->a.contact_host);
	else
		sprintf(c->callid, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16,
		        id + 20);
	c->cseq = 1 + rng_below(r, 30000);
	make_ipv4(r, c->sdp_ip_a, "198.51.100");
	make_ipv4(r, c->sdp_ip_b, "192.0.2");
	c->rtp_a = 10000 + 2 * rng_below(r, 10000);
	c->rtp_b = 20000 + 2 * rng_below(r, 10000);
	c->sess_a = 3700000000ull + rng_below(r, 100000000);
	c->sess_b = 3800000000ull + rng_below(r, 100000000);
	c->bye_from_b = rng_pct(r, 40);
}

/* ---- message pieces ---- */

/* one Via element; the first one of a message is recorded in t (the top Via) */
static void put_via_value(struct gen *g, const struct hop *h, struct bench_fields *t)
{
	size_t m;
	put(g, "SIP/2.0/");
	m = g->n;
	put(g, h->transport);
	if (t)
		t->transport = since(g, m);
	put(g, " ");
	if (h->v6)
		put(g, "[");
	m = g->n;
	put(g, h->host);
	if (t)
		t->via_host = since(g, m);
	if (h->v6)
		put(g, "]");
	if (h->port)
		putf(g, ":%u", h->port);
	if (t)
		t->via_port = h->port;
	if (h->rport && !h->received[0])
		put(g, ";rport");
	put(g, ";branch=");
	m = g->n;
	put(g, h->branch);
	if (t)
		t->branch = since(g, m);
	if (h->received[0])
		putf(g, ";received=%s;rport=%u", h->received, 5060 + rng_below(&g->rng, 3000));
}

/* the Via set: each hop on its own line, or the lower hops comma-joined on one */
static void put_vias(struct gen *g, const struct hop *h, int n, bool joined, struct bench_fields *t)
{
	for (int i = 0; i < n; i++) {
		if (i == 0 || !joined) {
			if (i)
				put(g, "\r\n");
			put_name(g, HN_VIA);
		} else {
			put(g, rng_pct(&g->rng, 50) ? ", " : ",");
		}
		put_via_value(g, &h[i], i == 0 ? t : NULL);
	}
	put(g, "\r\n");
}

static void put_request_line(struct gen *g, const char *method, const char *user, const char *host,
                             const char *uparams, struct bench_fields *t)
{
	size_t m = g->n;
	put(g, method);
	t->method = since(g, m);
	put(g, " sip:");
	m = g->n;
	put(g, user);
	t->ruri_user = since(g, m);
	if (*user)
		put(g, "@");
	m = g->n;
	put(g, host);
	t->ruri_host = since(g, m);
	put(g, uparams);
	put(g, " SIP/2.0\r\n");
}

static const char *reason_of(unsigned status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	default:
		return "OK";
	}
}

static void put_status_line(struct gen *g, unsigned status, struct bench_fields *t)
{
	putf(g, "SIP/2.0 %u %s\r\n", status, reason_of(status));
	t->status = status;
}

static void put_from(struct gen *g, const struct party *p, bool tag)
{
	put_name(g, HN_FROM);
	if (p->display[0])
		putf(g, "\"%s\" ", p->display);
	putf(g, "<sip:%s@%s;user=phone>", p->user, p->domain);
	if (tag)
		putf(g, ";tag=%s", p->tag);
	put(g, "\r\n");
}

static void put_to(struct gen *g, const struct party *p, bool tag)
{
	put_name(g, HN_TO);
	putf(g, "<sip:%s@%s;user=phone>", p->user, p->domain);
	if (tag)
		putf(g, ";tag=%s", p->tag);
	put(g, "\r\n");
}

static void put_dialog_ids(struct gen *g, const struct call *c, bool to_tag, unsigned cseq,
                           const char *method)
{
	put_from(g, &c->a, true);
	put_to(g, &c->b, to_tag);
	put_name(g, HN_CALL_ID);
	put(g, c->callid);
	put(g, "\r\n");
	put_name(g, HN_CSEQ);
	putf(g, "%u %s\r\n", cseq, method);
}

static void put_contact(struct gen *g, const struct party *p)
{
	put_name(g, HN_CONTACT);
	putf(g, "<sip:%s@%s", p->user, p->contact_host);
	if (p->contact_port)
		putf(g, ":%u", p->contact_port);
	put(g, ";transport=tls>\r\n");
}

static void put_record_route(struct gen *g, const struct call *c)
{
	put_name(g, HN_RECORD_ROUTE);
	for (int i = 0; i < c->nrr; i++)
		putf(g, "%s%s", i ? "," : "", c->rr[i]);
	put(g, "\r\n");
}

/* the route set seen by in-dialog requests of the caller: the Record-Route in order */
static void put_routes(struct gen *g, const struct call *c)
{
	for (int i = 0; i < c->nrr; i++) {
		put_name(g, HN_ROUTE);
		putf(g, "%s\r\n", c->rr[i]);
	}
}

static void put_line(struct gen *g, enum hn h, const char *value)
{
	put_name(g, h);
	put(g, value);
	put(g, "\r\n");
}

static size_t sdp_body(char *dst, size_t cap, unsigned long long sess, const char *ip,
                       unsigned port, bool answer)
{
	int k = snprintf(dst, cap,
	                 "v=0\r\n"
	                 "o=- %llu %llu IN IP4 %s\r\n"
	                 "s=-\r\n"
	                 "c=IN IP4 %s\r\n"
	                 "t=0 0\r\n"
	                 "m=audio %u RTP/AVP %s\r\n"
	                 "a=rtpmap:8 PCMA/8000\r\n"
	                 "%s"
	                 "a=rtpmap:101 telephone-event/8000\r\n"
	                 "a=fmtp:101 0-16\r\n"
	                 "a=ptime:20\r\n"
	                 "a=sendrecv\r\n",
	                 sess, sess, ip, ip, port, answer ? "8 101" : "8 0 18 101",
	                 answer ? ""
	                        : "a=rtpmap:0 PCMU/8000\r\n"
	                          "a=rtpmap:18 G729/8000\r\n"
	                          "a=fmtp:18 annexb=no\r\n");
	return k > 0 ? (size_t)k : 0;
}

/* Optional headers that real stacks add; used to pad small messages up to MSG_MIN. */
static void put_filler(struct gen *g, int i, bool request)
{
	char v[64];
	switch (i % 5) {
	case 0:
		put_line(g, request ? HN_USER_AGENT : HN_SERVER,
		         request ? "CarrierSBC/7.2.1 (build 4411)" : "siptls-test-uas/1.0");
		break;
	case 1:
		put_line(g, HN_ALLOW,
		         "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER");
		break;
	case 2:
		put_line(g, HN_SUPPORTED, "timer, replaces, 100rel");
		break;
	case 3:
		rng_chars(&g->rng, v, 24, HEX);
		put_name(g, HN_PCV);
		putf(g, "icid-value=%s;orig-ioi=carrier-a.example.net\r\n", v);
		break;
	default:
		put_line(g, HN_ALLOW_EVENTS, "talk, hold, refer, dialog");
		break;
	}
}

/* Pads with filler headers to MSG_MIN, writes Content-Type/-Length and the body; records the
 * message's length in t. */
static void finish(struct gen *g, size_t start, const char *body, size_t blen, bool request,
                   struct bench_fields *t)
{
	/* the shortest the tail can come out: "l:N" CRLF CRLF, "c:application/sdp" CRLF, body */
	char cl[40];
	int k = snprintf(cl, sizeof(cl), "l:%zu\r\n\r\n", blen);
	size_t tail = (size_t)k + blen + (blen ? sizeof("c:application/sdp\r\n") - 1 : 0);
	for (int i = 0; g->n - start + tail < MSG_MIN; i++)
		put_filler(g, i + (int)rng_below(&g->rng, 5), request);
	if (blen)
		put_line(g, HN_CONTENT_TYPE, "application/sdp");
	put_name(g, HN_CONTENT_LENGTH);
	putf(g, "%zu\r\n\r\n", blen);
	if (g->n + blen >= g->cap)
		abort();
	memcpy(g->buf + g->n, body, blen);
	g->n += blen;
	t->len = g->n - start;
}

/* ---- the messages ---- */

static void msg_invite(struct gen *g, struct call *c, struct bench_fields *t)
{
	size_t start = g->n;
	char sdp[1024];
	size_t blen = sdp_body(sdp, sizeof(sdp), c->sess_a, c->sdp_ip_a, c->rtp_a, false);

	put_request_line(g, "INVITE", c->b.user, c->b.domain, ";user=phone", t);
	put_vias(g, c->via, c->nvia, c->joined, t);
	put_record_route(g, c);
	put_line(g, HN_MAX_FORWARDS, "68");
	put_dialog_ids(g, c, false, c->cseq, "INVITE");
	put_contact(g, &c->a);
	put_name(g, HN_PAI);
	if (c->a.display[0])
		putf(g, "\"%s\" ", c->a.display);
	putf(g, "<sip:%s@%s>\r\n", c->a.user, c->a.domain);
	if (rng_pct(&g->rng, 30))
		put_line(g, HN_PRIVACY, "none");
	put_line(g, HN_SESSION_EXPIRES, "1800;refresher=uac");
	put_line(g, HN_MIN_SE, "90");
	put_line(g, HN_SUPPORTED, "timer, replaces, 100rel");
	put_line(g, HN_ALLOW, "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, REFER");
	finish(g, start, sdp, blen, true, t);
}

static void msg_invite_response(struct gen *g, struct call *c, unsigned status,
                                struct bench_fields *t)
{
	size_t start = g->n;
	char sdp[1024];
	size_t blen = 0;

	put_status_line(g, status, t);
	put_vias(g, c->via, c->nvia, c->joined, t);
	if (status > 100)
		put_record_route(g, c);
	put_dialog_ids(g, c, status > 100, c->cseq, "INVITE");
	if (status > 100)
		put_contact(g, &c->b);
	if (status == 200) {
		put_line(g, HN_SESSION_EXPIRES, "1800;refresher=uac");
		put_line(g, HN_REQUIRE, "timer");
		blen = sdp_body(sdp, sizeof(sdp), c->sess_b, c->sdp_ip_b, c->rtp_b, true);
	}
	finish(g, start, sdp, blen, false, t);
}

/* ACK and caller's BYE go to the callee's Contact along the route set, with a new branch */
static void msg_in_dialog(struct gen *g, struct call *c, const char *method, unsigned cseq,
                          struct bench_fields *t)
{
	size_t start = g->n;

	/* a new transaction: every hop makes a new branch (RFC 3261 8.1.1.7, 16.6 step 8) */
	for (int i = 0; i < c->nvia; i++)
		make_branch(&g->rng, c->via[i].branch);
	put_request_line(g, method, c->b.user, c->b.contact_host,
	                 c->b.contact_port ? ":5061;transport=tls" : ";transport=tls", t);
	put_vias(g, c->via, c->nvia, c->joined, t);
	put_routes(g, c);
	put_line(g, HN_MAX_FORWARDS, "69");
	put_dialog_ids(g, c, true, cseq, method);
	finish(g, start, "", 0, true, t);
}

/* the callee hangs up: From/To swap roles, its own Via hops, R-URI is the caller's Contact */
static void msg_bye_from_b(struct gen *g, struct call *c, struct bench_fields *t)
{
	size_t start = g->n;
	put_request_line(g, "BYE", c->a.user, c->a.contact_host, ":5061;transport=tls", t);
	put_vias(g, c->bvia, c->nbvia, false, t);
	put_line(g, HN_MAX_FORWARDS, "70");
	put_from(g, &c->b, true);
	put_to(g, &c->a, true);
	put_name(g, HN_CALL_ID);
	putf(g, "%s\r\n", c->callid);
	put_name(g, HN_CSEQ);
	putf(g, "%u BYE\r\n", 1 + c->cseq % 1000);
	put_line(g, HN_USER_AGENT, "Asterisk PBX 20.5.0");
	finish(g, start, "", 0, true, t);
}

static void msg_bye_ok(struct gen *g, struct call *c, struct bench_fields *t)
{
	size_t start = g->n;
	put_status_line(g, 200, t);
	if (c->bye_from_b) {
		put_vias(g, c->bvia, c->nbvia, false, t);
		put_from(g, &c->b, true);
		put_to(g, &c->a, true);
		put_name(g, HN_CALL_ID);
		putf(g, "%s\r\n", c->callid);
		put_name(g, HN_CSEQ);
		putf(g, "%u BYE\r\n", 1 + c->cseq % 1000);
	} else {
		put_vias(g, c->via, c->nvia, c->joined, t);
		put_dialog_ids(g, c, true, c->cseq + 1, "BYE");
	}
	finish(g, start, "", 0, false, t);
}

/* carrier keep-alive OPTIONS to our gateway, and our answer */
static void msg_options(struct gen *g, struct call *c, bool answer, struct bench_fields *t)
{
	size_t start = g->n;
	if (answer)
		put_status_line(g, 200, t);
	else
		put_request_line(g, "OPTIONS", rng_pct(&g->rng, 50) ? "" : "ping", c->b.domain,
		                 ":5061;transport=tls", t);
	put_vias(g, c->via, 1 + (c->nvia > 2), false, t);
	if (!answer)
		put_line(g, HN_MAX_FORWARDS, "70");
	put_name(g, HN_FROM);
	putf(g, "<sip:ping@%s>;tag=%s\r\n", c->via[0].v6 ? c->a.domain : c->via[0].host, c->a.tag);
	put_name(g, HN_TO);
	putf(g, "<sip:%s>%s%s\r\n", c->b.domain, answer ? ";tag=" : "", answer ? c->b.tag : "");
	put_name(g, HN_CALL_ID);
	putf(g, "%s\r\n", c->callid);
	put_name(g, HN_CSEQ);
	putf(g, "%u OPTIONS\r\n", c->cseq);
	put_line(g, HN_ACCEPT, "application/sdp");
	finish(g, start, "", 0, !answer, t);
}

/* a customer PBX registering through us to the carrier, with digest credentials */
static void msg_register(struct gen *g, struct call *c, bool answer, struct bench_fields *t)
{
	size_t start = g->n;
	char nonce[33], resp[33];
	if (answer)
		put_status_line(g, 200, t);
	else
		put_request_line(g, "REGISTER", "", c->a.domain, "", t);
	put_vias(g, c->bvia, c->nbvia, false, t);
	if (!answer)
		put_line(g, HN_MAX_FORWARDS, "70");
	put_name(g, HN_FROM);
	putf(g, "<sip:%s@%s>;tag=%s\r\n", c->b.user, c->a.domain, c->b.tag);
	put_name(g, HN_TO);
	putf(g, "<sip:%s@%s>%s%s\r\n", c->b.user, c->a.domain, answer ? ";tag=" : "",
	     answer ? c->a.tag : "");
	put_name(g, HN_CALL_ID);
	putf(g, "%s\r\n", c->callid);
	put_name(g, HN_CSEQ);
	putf(g, "%u REGISTER\r\n", c->cseq);
	put_name(g, HN_CONTACT);
	putf(g, "<sip:%s@%s:5061;transport=tls>;expires=3600\r\n", c->b.user, c->b.contact_host);
	if (!answer) {
		rng_chars(&g->rng, nonce, 32, HEX);
		rng_chars(&g->rng, resp, 32, HEX);
		put_name(g, HN_AUTHORIZATION);
		putf(g,
		     "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:%s\", "
		     "response=\"%s\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"%.8s\"\r\n",
		     c->b.user + 1, c->a.domain, nonce, c->a.domain, resp, resp + 8);
	}
	put_line(g, HN_EXPIRES, "3600");
	finish(g, start, "", 0, !answer, t);
}

/* ---- the flow ---- */

enum { FLOW_CALL, FLOW_OPTIONS, FLOW_REGISTER };

struct slot {
	struct call call;
	int flow;
};

static void slot_init(struct slot *s, struct rng *r)
{
	unsigned x = rng_below(r, 100);
	call_init(&s->call, r);
	s->flow = x < 80 ? FLOW_CALL : x < 94 ? FLOW_OPTIONS : FLOW_REGISTER;
}

/* emits the next message of slot s; returns its type, or -1 when the flow is over */
static int slot_next(struct gen *g, struct slot *s, struct bench_fields *t)
{
	struct call *c = &s->call;
	int step = c->step++;
	if (s->flow == FLOW_OPTIONS) {
		if (step > 1)
			return -1;
		msg_options(g, c, step == 1, t);
		return step ? BENCH_T_200_OPTIONS : BENCH_T_OPTIONS;
	}
	if (s->flow == FLOW_REGISTER) {
		if (step > 1)
			return -1;
		msg_register(g, c, step == 1, t);
		return step ? BENCH_T_200_REGISTER : BENCH_T_REGISTER;
	}
	switch (step) {
	case 0:
		msg_invite(g, c, t);
		return BENCH_T_INVITE;
	case 1:
		msg_invite_response(g, c, 100, t);
		return BENCH_T_100;
	case 2:
		msg_invite_response(g, c, 180, t);
		return BENCH_T_180;
	case 3:
		msg_invite_response(g, c, 200, t);
		return BENCH_T_200_INVITE;
	case 4:
		msg_in_dialog(g, c, "ACK", c->cseq, t);
		return BENCH_T_ACK;
	case 5:
		if (c->bye_from_b)
			msg_bye_from_b(g, c, t);
		else
			msg_in_dialog(g, c, "BYE", c->cseq + 1, t);
		return BENCH_T_BYE;
	case 6:
		msg_bye_ok(g, c, t);
		return BENCH_T_200_BYE;
	default:
		return -1;
	}
}

int bench_corpus_make(struct bench_corpus *c, uint32_t nmsg, uint64_t seed)
{
	struct gen g = {.rng = {seed}};
	struct slot slots[ACTIVE_CALLS];

	memset(c, 0, sizeof(*c));
	g.cap = (size_t)nmsg * (MSG_MAX + 200) + 4096;
	g.buf = malloc(g.cap);
	c->truth = calloc(nmsg ? nmsg : 1, sizeof(*c->truth));
	c->type = calloc(nmsg ? nmsg : 1, 1);
	if (!g.buf || !c->truth || !c->type) {
		free(g.buf);
		bench_corpus_free(c);
		return -1;
	}
	for (int i = 0; i < ACTIVE_CALLS; i++)
		slot_init(&slots[i], &g.rng);

	c->min_len = SIZE_MAX;
	for (uint32_t i = 0; i < nmsg;) {
		struct slot *s = &slots[rng_below(&g.rng, ACTIVE_CALLS)];
		struct bench_fields *t = &c->truth[i];
		int type;
		memset(t, 0, sizeof(*t));
		g.style = pick_style(&g.rng);
		type = slot_next(&g, s, t);
		if (type < 0) {
			slot_init(s, &g.rng);
			continue;
		}
		if (t->len < MSG_MIN || t->len > MSG_MAX) {
			fprintf(stderr, "corpus: message %u (%s) is %zu bytes, outside %d-%d\n", i,
			        bench_msg_type_name((enum bench_msg_type)type), t->len, MSG_MIN,
			        MSG_MAX);
			abort();
		}
		c->type[i] = (uint8_t)type;
		c->count[type]++;
		c->min_len = t->len < c->min_len ? t->len : c->min_len;
		c->max_len = t->len > c->max_len ? t->len : c->max_len;
		i++;
	}
	c->buf = g.buf;
	c->len = g.n;
	c->nmsg = nmsg;
	return 0;
}

void bench_corpus_free(struct bench_corpus *c)
{
	free(c->buf);
	free(c->truth);
	free(c->type);
	memset(c, 0, sizeof(*c));
}

const char *bench_msg_type_name(enum bench_msg_type t)
{
	static const char *const names[BENCH_T__COUNT] = {
	    [BENCH_T_INVITE] = "INVITE",
	    [BENCH_T_100] = "100 (INVITE)",
	    [BENCH_T_180] = "180 (INVITE)",
	    [BENCH_T_200_INVITE] = "200 (INVITE)",
	    [BENCH_T_ACK] = "ACK",
	    [BENCH_T_BYE] = "BYE",
	    [BENCH_T_200_BYE] = "200 (BYE)",
	    [BENCH_T_OPTIONS] = "OPTIONS",
	    [BENCH_T_200_OPTIONS] = "200 (OPTIONS)",
	    [BENCH_T_REGISTER] = "REGISTER",
	    [BENCH_T_200_REGISTER] = "200 (REGISTER)",
	};
	return (unsigned)t < BENCH_T__COUNT ? names[t] : "?";
}
