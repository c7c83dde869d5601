/* Unit tests of uas.c (included to reach its statics): what it answers, with which headers. */
#include <criterion/criterion.h>

#include "bench/loadgen/uas.c"

static struct lg_opts o;
static struct lg_thr t;
static struct lg_conn c, *cp = &c;

static void setup(void)
{
	o = (struct lg_opts){.mode = LG_UAS, .port = 5062};
	strcpy(o.host, "127.0.0.1");
	memset(&t, 0, sizeof(t));
	t.o = &o;
	t.ops = &uas_ops;
	t.uas = calloc(1, sizeof(*t.uas));
	memset(&c, 0, sizeof(c));
	c.state = LG_C_UP;
	c.gen = 1;
	t.conns = &cp;
	t.nconns = 1;
}

static void teardown(void)
{
	lg_uas_fini(&t);
	free(c.wbuf);
}

TestSuite(loadgen_uas, .init = setup, .fini = teardown);

static const char invite[] =
    "INVITE sip:1000@127.0.0.1:5062 SIP/2.0\r\n"
    "Via: SIP/2.0/TLS proxy.test;branch=z9hG4bKp1, SIP/2.0/TLS uac;branch=z9hG4bKu1\r\n"
    "v: SIP/2.0/TLS origin;branch=z9hG4bKo1\r\n"
    "Record-Route: <sip:proxy.test;lr>\r\n"
    "Max-Forwards: 69\r\n"
    "From: <sip:2000@uac>;tag=f1\r\n"
    "To: <sip:1000@127.0.0.1>\r\n"
    "Call-ID: c1@uac\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:2000@uac>\r\n"
    "Content-Length: 0\r\n\r\n";

static void scan(const char *p, size_t n, struct sip_msg *m, struct sip_hdr *hdr, int want)
{
	static const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	sip_msg_init(m, hdr, 32);
	int rc = sip_msg_scan(p, n, &lim, m);
	if (want)
		cr_assert_eq(rc, want);
	else
		cr_assert_gt(rc, 0, "unparseable: %.*s", (int)n, p);
}

static void request(const char *s)
{
	struct sip_hdr hdr[32];
	struct sip_msg m;
	scan(s, strlen(s), &m, hdr, (int)strlen(s));
	uas_msg(&t, &c, &m);
}

/* the next response in c's send buffer */
static uint32_t off;
static void response(struct sip_msg *m, struct sip_hdr *hdr)
{
	cr_assert_lt(off, c.wlen, "no more responses");
	scan(c.wbuf + off, c.wlen - off, m, hdr, 0);
	off += (uint32_t)m->raw.n;
}

static struct slice header_lines(const struct sip_msg *m, enum sip_hdr_id id, char *buf)
{
	size_t n = 0;
	for (const struct sip_hdr *h = sip_msg_get(m, id); h; h = sip_msg_next(m, h)) {
		memcpy(buf + n, h->line.p, h->line.n);
		n += h->line.n;
	}
	return slice_make(buf, n);
}

Test(loadgen_uas, invite_gets_100_180_200)
{
	request(invite);
	struct sip_hdr rh[32], qh[32];
	struct sip_msg r, q;
	scan(invite, strlen(invite), &q, qh, 0);
	char a[512], b[512];
	struct slice vias = header_lines(&q, SIP_H_VIA, a);
	unsigned codes[] = {100, 180, 200};
	struct slice tag180 = {0};
	off = 0;
	for (int i = 0; i < 3; i++) {
		response(&r, rh);
		cr_assert_eq(r.kind, SIP_KIND_RESPONSE);
		cr_assert_eq(r.status, codes[i]);
		cr_assert(slice_eq(header_lines(&r, SIP_H_VIA, b), vias), "every Via, in order");
		cr_assert(slice_eq(sip_msg_get(&r, SIP_H_RECORD_ROUTE)->value,
		                   SLICE_LIT("<sip:proxy.test;lr>")));
		cr_assert(slice_eq(sip_msg_get(&r, SIP_H_CSEQ)->value, SLICE_LIT("1 INVITE")));
		cr_assert(slice_eq(sip_msg_get(&r, SIP_H_CALL_ID)->value, SLICE_LIT("c1@uac")));
		struct slice to = sip_msg_get(&r, SIP_H_TO)->value;
		if (i == 0) {
			cr_assert(slice_eq(to, SLICE_LIT("<sip:1000@127.0.0.1>")), "100: no tag");
			continue;
		}
		cr_assert(slice_case_prefix(to, SLICE_LIT("<sip:1000@127.0.0.1>;tag=uas")));
		if (i == 1)
			tag180 = to;
		else
			cr_assert(slice_eq(to, tag180), "the 200 has the 180's tag");
		cr_assert(slice_eq(sip_msg_get(&r, SIP_H_CONTACT)->value,
		                   SLICE_LIT("<sip:uas@127.0.0.1:5062;transport=tls>")));
	}
	cr_assert_gt(r.body.n, 100, "the 200 carries the SDP answer");
	cr_assert(
	    slice_eq(sip_msg_get(&r, SIP_H_CONTENT_TYPE)->value, SLICE_LIT("application/sdp")));
	cr_assert_eq(off, c.wlen, "three responses, nothing more");
	cr_assert_eq(t.st.answered[SIP_M_INVITE], 1);
}

Test(loadgen_uas, ack_gets_nothing)
{
	request(
	    "ACK sip:uas@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS u;branch=z9hG4bKa\r\n"
	    "To: <sip:1000@h>;tag=uas1\r\nCall-ID: c\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(c.wlen, 0);
	cr_assert_eq(t.st.answered[SIP_M_ACK], 1);
}

Test(loadgen_uas, bye_keeps_its_to_tag)
{
	request(
	    "BYE sip:uas@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS u;branch=z9hG4bKb\r\n"
	    "To: <sip:1000@h>;tag=uas1\r\nCall-ID: c\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n");
	struct sip_hdr rh[32];
	struct sip_msg r;
	off = 0;
	response(&r, rh);
	cr_assert_eq(r.status, 200);
	cr_assert(slice_eq(sip_msg_get(&r, SIP_H_TO)->value, SLICE_LIT("<sip:1000@h>;tag=uas1")));
	cr_assert_null(sip_msg_get(&r, SIP_H_CONTACT));
	cr_assert_eq(r.body.n, 0);
}

Test(loadgen_uas, ping_gets_pong)
{
	struct sip_hdr hdr[4];
	struct sip_msg m;
	scan("\r\n\r\n", 4, &m, hdr, 4);
	cr_assert_eq(m.kind, SIP_KIND_PING);
	uas_msg(&t, &c, &m);
	cr_assert_eq(c.wlen, 2);
	cr_assert_eq(memcmp(c.wbuf, "\r\n", 2), 0);
}

Test(loadgen_uas, delay_holds_the_final_response)
{
	o.delay_ms = 50;
	t.now = 1000000000ull;
	request(invite);
	struct sip_hdr rh[32];
	struct sip_msg r;
	off = 0;
	response(&r, rh);
	response(&r, rh);
	cr_assert_eq(r.status, 180);
	cr_assert_eq(off, c.wlen, "the 200 waits");
	t.now += 49000000ull;
	cr_assert_eq(uas_tick(&t), 0);
	cr_assert_eq(off, c.wlen, "still waiting 1 ms before");
	cr_assert_eq(uas_next_due(&t), 1000000);
	t.now += 1000000ull;
	cr_assert_eq(uas_tick(&t), 0);
	response(&r, rh);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(uas_next_due(&t), -1);
}

Test(loadgen_uas, delayed_response_to_a_closed_connection_is_dropped)
{
	o.delay_ms = 10;
	request("OPTIONS sip:1000@h SIP/2.0\r\nVia: SIP/2.0/TLS u;branch=z9hG4bKo\r\n"
	        "To: <sip:1000@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(c.wlen, 0);
	c.gen++; /* as lg_close does */
	t.now += 20000000ull;
	uas_tick(&t);
	cr_assert_eq(c.wlen, 0);
	cr_assert_eq(t.uas->qlen, 0);
}
