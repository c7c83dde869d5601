/* Unit tests of uac.c (included to reach its statics): branch matching, the dialog's route set,
 * response handling. No sockets: a connection is a struct with a send buffer. */
#include <criterion/criterion.h>

#include "bench/loadgen/uac.c"

static struct lg_opts o;
static struct lg_thr t;
static struct lg_conn c, *cp = &c;

static void setup(void)
{
	o = (struct lg_opts){.mode = LG_UAC,
	                     .scen = LG_CALL,
	                     .conns = 1,
	                     .window = 1,
	                     .threads = 1,
	                     .timeout_ms = 1000,
	                     .user = "1000",
	                     .port = 5061,
	                     .rate = 1}; /* open loop: a finished unit starts nothing by itself */
	strcpy(o.host, "127.0.0.1");
	memset(&t, 0, sizeof(t));
	t.o = &o;
	t.ops = &uac_ops;
	cr_assert_eq(lg_uac_init_state(&t), 0);
	memset(&c, 0, sizeof(c));
	c.state = LG_C_UP;
	c.gen = 1;
	t.conns = &cp;
	t.nconns = 1;
}

static void teardown(void)
{
	lg_uac_fini(&t);
	free(c.wbuf);
}

TestSuite(loadgen_uac, .init = setup, .fini = teardown);

Test(loadgen_uac, branch_parses)
{
	uint32_t slot, gen;
	cr_assert_eq(parse_branch(SLICE_LIT("z9hG4bKlg1f.2a"), &slot, &gen), 0);
	cr_assert_eq(slot, 31);
	cr_assert_eq(gen, 42);
	cr_assert_eq(parse_branch(SLICE_LIT("z9hG4bKlg0.1"), &slot, &gen), 0);
	cr_assert_eq(slot, 0);
}

Test(loadgen_uac, branch_rejects_others)
{
	static const char *bad[] = {"z9hG4bKxx1.2",
	                            "z9hG4bKlg12",
	                            "z9hG4bKlg.2",
	                            "z9hG4bKlg1.",
	                            "z9hG4bKlg123456789.1",
	                            "z9hG4bKlg1.2.3",
	                            "z9hG4bKlgg.1",
	                            "z9hG4bK",
	                            ""};
	uint32_t slot, gen;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_branch(slice_cstr(bad[i]), &slot, &gen), -1, "%s", bad[i]);
}

Test(loadgen_uac, addr_uri)
{
	struct slice u = addr_uri(SLICE_LIT("\"P\" <sip:p1.test;lr>;x=y"));
	cr_assert(slice_eq(u, SLICE_LIT("sip:p1.test;lr")));
	u = addr_uri(SLICE_LIT("sip:uas@10.0.0.1:5062;expires=60"));
	cr_assert(slice_eq(u, SLICE_LIT("sip:uas@10.0.0.1:5062")));
}

/* scans the message at *off in c's send buffer */
static void next_msg(uint32_t *off, struct sip_msg *m, struct sip_hdr *hdr)
{
	static const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	sip_msg_init(m, hdr, 32);
	int n = sip_msg_scan(c.wbuf + *off, c.wlen - *off, &lim, m);
	cr_assert_gt(n, 0, "unparseable output: %.*s", (int)(c.wlen - *off), c.wbuf + *off);
	*off += (uint32_t)n;
}

static void scan_str(const char *s, struct sip_msg *m, struct sip_hdr *hdr)
{
	static const struct sip_limits lim = SIP_LIMITS_DEFAULT;
	sip_msg_init(m, hdr, 32);
	cr_assert_eq(sip_msg_scan(s, strlen(s), &lim, m), (int)strlen(s));
}

static void assert_routes(const struct sip_msg *m, const char *const *want, unsigned n)
{
	unsigned i = 0;
	for (const struct sip_hdr *h = sip_msg_get(m, SIP_H_ROUTE); h;
	     h = sip_msg_next(m, h), i++) {
		cr_assert_lt(i, n, "more Route headers than Record-Route entries");
		cr_assert(slice_eq(h->value, slice_cstr(want[i])), "Route %u: %.*s", i,
		          SLICE_FMT(h->value));
	}
	cr_assert_eq(i, n);
}

/* RFC 3261 12.1.2: the route set is the Record-Route list in reverse order; 12.2.1.1: the
 * Request-URI is the remote target (Contact) when the first route is a loose router */
Test(loadgen_uac, ack_and_bye_follow_the_route_set)
{
	static const char ok[] = "SIP/2.0 200 OK\r\n"
	                         "Via: SIP/2.0/TLS uac.bench.test:5061;branch=z9hG4bKlg0.1\r\n"
	                         "Record-Route: <sip:p2.test;lr>, <sip:p1.test;lr>\r\n"
	                         "Record-Route: <sip:p0.test;lr>\r\n"
	                         "From: <sip:2000@uac.bench.test>;tag=lg1\r\n"
	                         "To: <sip:1000@127.0.0.1:5061>;tag=uas7\r\n"
	                         "Call-ID: x@uac.bench.test\r\n"
	                         "CSeq: 1 INVITE\r\n"
	                         "Contact: <sip:uas@10.0.0.1:5062;transport=tls>\r\n"
	                         "Content-Length: 0\r\n\r\n";
	static const char *routes[] = {"<sip:p0.test;lr>", "<sip:p1.test;lr>", "<sip:p2.test;lr>"};
	struct sip_hdr hdr[32], h2[32];
	struct sip_msg r, m;
	scan_str(ok, &r, hdr);
	cr_assert_eq(send_ack_bye(&t, &c, &r, 7), 0);
	uint32_t off = 0;
	next_msg(&off, &m, h2);
	cr_assert_eq(m.method_id, SIP_M_ACK);
	cr_assert(slice_eq(m.ruri, SLICE_LIT("sip:uas@10.0.0.1:5062;transport=tls")));
	assert_routes(&m, routes, 3);
	cr_assert(slice_eq(sip_msg_get(&m, SIP_H_TO)->value,
	                   SLICE_LIT("<sip:1000@127.0.0.1:5061>;tag=uas7")));
	cr_assert(slice_eq(sip_msg_get(&m, SIP_H_CSEQ)->value, SLICE_LIT("1 ACK")));
	next_msg(&off, &m, h2);
	cr_assert_eq(m.method_id, SIP_M_BYE);
	cr_assert(slice_eq(m.ruri, SLICE_LIT("sip:uas@10.0.0.1:5062;transport=tls")));
	assert_routes(&m, routes, 3);
	cr_assert(slice_eq(sip_msg_get(&m, SIP_H_CSEQ)->value, SLICE_LIT("2 BYE")));
	/* the BYE is a live transaction its response will find */
	struct sip_via v;
	uint32_t slot, gen;
	cr_assert_eq(sip_via_top(&m, &v), 0);
	cr_assert_eq(parse_branch(v.branch, &slot, &gen), 0);
	cr_assert_eq(t.uac->tx[slot].kind, TX_BYE);
	cr_assert_eq(t.uac->tx[slot].gen, gen);
	cr_assert_eq(off, c.wlen, "nothing after the BYE");
}

Test(loadgen_uac, no_record_route_no_route)
{
	static const char ok[] = "SIP/2.0 200 OK\r\n"
	                         "Via: SIP/2.0/TLS uac.bench.test:5061;branch=z9hG4bKlg0.1\r\n"
	                         "To: <sip:1000@h>;tag=a\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
	                         "Contact: sip:uas@10.0.0.1\r\nContent-Length: 0\r\n\r\n";
	struct sip_hdr hdr[32], h2[32];
	struct sip_msg r, m;
	scan_str(ok, &r, hdr);
	cr_assert_eq(send_ack_bye(&t, &c, &r, 1), 0);
	uint32_t off = 0;
	next_msg(&off, &m, h2);
	cr_assert_null(sip_msg_get(&m, SIP_H_ROUTE));
	cr_assert(slice_eq(m.ruri, SLICE_LIT("sip:uas@10.0.0.1")));
}

Test(loadgen_uac, a_200_without_contact_is_refused)
{
	static const char ok[] = "SIP/2.0 200 OK\r\n"
	                         "Via: SIP/2.0/TLS uac.bench.test:5061;branch=z9hG4bKlg0.1\r\n"
	                         "To: <sip:1000@h>;tag=a\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
	                         "Content-Length: 0\r\n\r\n";
	struct sip_hdr hdr[32];
	struct sip_msg r;
	scan_str(ok, &r, hdr);
	cr_assert_eq(send_ack_bye(&t, &c, &r, 1), -1);
	cr_assert_eq(c.wlen, 0);
	cr_assert_eq(t.uac->outstanding, 0, "no BYE transaction left behind");
}

/* a response finds its transaction by branch: provisional, final, then a duplicate is stray */
Test(loadgen_uac, responses_matched_by_branch)
{
	o.scen = LG_OPTIONS;
	cr_assert_eq(send_options(&t, &c), 0);
	struct sip_hdr hdr[32];
	struct sip_msg m;
	uint32_t off = 0;
	next_msg(&off, &m, hdr);
	cr_assert_eq(m.method_id, SIP_M_OPTIONS);
	struct sip_via v;
	cr_assert_eq(sip_via_top(&m, &v), 0);
	char r100[600], r200[600], resp_bad[512];
	for (int k = 0; k < 2; k++)
		snprintf(k ? r200 : r100, sizeof(r100),
		         "SIP/2.0 %u X\r\nVia: SIP/2.0/TLS uac.bench.test:5061;branch=%.*s\r\n"
		         "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		         k ? 200u : 100u, SLICE_FMT(v.branch));
	snprintf(resp_bad, sizeof(resp_bad),
	         "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS x;branch=z9hG4bKother\r\nCSeq: 1 OPTIONS\r\n"
	         "Content-Length: 0\r\n\r\n");
	struct sip_hdr h2[32];
	scan_str(r100, &m, h2);
	uac_msg(&t, &c, &m);
	cr_assert_eq(t.st.provisional, 1);
	cr_assert_eq(t.st.tx_done, 0);
	scan_str(r200, &m, h2);
	uac_msg(&t, &c, &m);
	cr_assert_eq(t.st.tx_done, 1);
	cr_assert_eq(t.st.lat.n, 1);
	cr_assert_eq(t.uac->outstanding, 0);
	uac_msg(&t, &c, &m); /* the same 200 again */
	cr_assert_eq(t.st.stray, 1);
	cr_assert_eq(t.st.tx_done, 1);
	scan_str(resp_bad, &m, h2);
	uac_msg(&t, &c, &m);
	cr_assert_eq(t.st.bad_resp, 1);
}

Test(loadgen_uac, unexpected_status_counted_by_code)
{
	o.scen = LG_OPTIONS;
	cr_assert_eq(send_options(&t, &c), 0);
	struct sip_hdr hdr[32];
	struct sip_msg m;
	uint32_t off = 0;
	next_msg(&off, &m, hdr);
	struct sip_via v;
	cr_assert_eq(sip_via_top(&m, &v), 0);
	char r503[600];
	snprintf(r503, sizeof(r503),
	         "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/TLS u;branch=%.*s\r\n"
	         "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	         SLICE_FMT(v.branch));
	scan_str(r503, &m, hdr);
	uac_msg(&t, &c, &m);
	cr_assert_eq(t.st.status[503], 1);
	cr_assert_eq(t.st.tx_done, 0);
	cr_assert_eq(t.uac->outstanding, 0);
}

Test(loadgen_uac, timeouts_expire_in_order)
{
	o.scen = LG_OPTIONS;
	t.now = lg_now();
	cr_assert_eq(send_options(&t, &c), 0);
	cr_assert_eq(send_options(&t, &c), 0);
	t.now += 999000000ull; /* 1 ms before the deadline */
	expire(&t);
	cr_assert_eq(t.st.timeouts, 0);
	t.now += 2000000000ull;
	expire(&t);
	cr_assert_eq(t.st.timeouts, 2);
	cr_assert_eq(t.uac->outstanding, 0);
	cr_assert_eq(c.outstanding, 0);
}

/* closed loop: the end of a unit starts the next one on the same connection */
Test(loadgen_uac, closed_loop_starts_the_next_unit)
{
	o.scen = LG_OPTIONS;
	o.rate = 0;
	cr_assert(start_unit(&t, &c));
	struct sip_hdr hdr[32];
	struct sip_msg m;
	uint32_t off = 0;
	next_msg(&off, &m, hdr);
	struct sip_via v;
	cr_assert_eq(sip_via_top(&m, &v), 0);
	char r200[600];
	snprintf(r200, sizeof(r200),
	         "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS u;branch=%.*s\r\nCSeq: 1 OPTIONS\r\n"
	         "Content-Length: 0\r\n\r\n",
	         SLICE_FMT(v.branch));
	struct sip_hdr h2[32];
	scan_str(r200, &m, h2);
	uac_msg(&t, &c, &m);
	cr_assert_eq(t.st.tx_done, 1);
	cr_assert_eq(t.uac->outstanding, 1, "the next OPTIONS is in flight");
	next_msg(&off, &m, hdr);
	cr_assert_eq(m.method_id, SIP_M_OPTIONS);
	/* --count bounds it: with 2 transactions allowed, the third never starts */
	o.count = 2;
	t.count_share = 2;
	scan_str(r200, &m, h2); /* stale branch now: stray */
	uac_msg(&t, &c, &m);
	cr_assert_eq(t.st.stray, 1);
	cr_assert_not(start_unit(&t, &c));
}
