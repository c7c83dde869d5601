/* core/trace.c: the rings (wrap, drops), the text / pcap / syslog forms, on and off, the
 * workers' hook, and the control commands that drive it. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ctl.h"
#include "core/trace.h"
#include "core/wk.h"

/* the guide's sample INVITE ("Verify SIP TLS Configuration"), with CRLF line ends as on the wire
 * (its To and Content-Length transcription slips corrected) */
#define GUIDE_SDP                                                                                  \
	"v=0\r\no=CiscoSystemsSIP-GW-UserAgent 8437 1929 IN IP4 172.18.201.173\r\ns=STP Call\r\n"  \
	"c=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 18378 RTP/AVP 0 19\r\nc=IN IP4 1.1.1.1\r\n"          \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:19 CN/8000\r\na=ptime:20\r\n"
static const char invite[] = "INVITE sips:777@172.18.203.181 SIP/2.0\r\n"
                             "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419\r\n"
                             "From: <sips:333@172.18.201.173>;tag=581BB98-1663\r\n"
                             "To: <sips:5555555@172.18.197.154>\r\n"
                             "Call-ID: EB5B1948-770611DA-804F9736-BFA4AC35@172.18.201.173\r\n"
                             "Contact: <sips:123@host>\r\n"
                             "Max-Forwards: 70\r\n"
                             "Cseq: 104 INVITE\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 207\r\n"
                             "\r\n" GUIDE_SDP;

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/siptls-trace.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

TestSuite(core_trace, .init = mkdir_tmp, .fini = rm_tmp);

/* a whole file, NUL-terminated; *n its size. NULL when it does not exist. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t r;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, r, m);
	fclose(f);
	fclose(m);
	if (n)
		*n = len;
	return buf;
}

static struct core_trace_rec rec4(enum core_trace_dir d)
{
	struct core_trace_rec r;
	memset(&r, 0, sizeof(r));
	r.ts_ns = 1135795898123456789ull; /* 2005-12-28T18:51:38.123456Z */
	r.key = 42;
	r.conn = 65537;
	r.tenant = 100;
	r.dir = (uint8_t)d;
	r.family = 4;
	inet_pton(AF_INET, "172.18.201.173", r.peer);
	inet_pton(AF_INET, "10.64.100.145", r.local);
	r.peer_port = 38928;
	r.local_port = 5061;
	return r;
}

static int push_str(struct core_trace *t, const char *s)
{
	struct core_trace_rec r = rec4(CORE_TRACE_IN);
	struct iovec v = {(void *)(uintptr_t)s, strlen(s)};
	return core_trace_push(t, 0, &r, &v, 1);
}

/* ---- rings ------------------------------------------------------------------------------ */

Test(core_trace, ring_wraps_and_keeps_every_byte_in_order)
{
	struct core_trace t;
	char path[128], msg[1100];
	snprintf(path, sizeof(path), "%s/wrap.txt", dir);
	cr_assert_eq(core_trace_init(&t, 1, 4096, path), 0);
	cr_assert_eq(t.rings[0].cap, 4096u);
	char err[128];
	cr_assert_eq(core_trace_enable(&t, err, sizeof(err)), 0, "%s", err);
	/* 1000-byte messages (plus their 72-byte records) cross the end of a 4096-byte ring
	 * again and again; a message split in two pieces by the iovec too */
	for (int i = 0; i < 20; i++) {
		memset(msg, 'a' + i % 26, 1000);
		int head = snprintf(msg, sizeof(msg), "MESSAGE %d\n", i);
		msg[head] = 'x';
		msg[999] = '\n';
		struct core_trace_rec r = rec4(CORE_TRACE_OUT);
		struct iovec v[2] = {{msg, 300}, {msg + 300, 700}};
		cr_assert_eq(core_trace_push(&t, 0, &r, v, 2), 0, "message %d", i);
		if (i % 3 == 2)
			cr_assert_eq(core_trace_drain(&t), 3u);
	}
	core_trace_disable(&t); /* the last two, and the file closed */
	struct core_trace_stats s;
	core_trace_stats_get(&t, &s);
	cr_assert_eq(s.traced, 20u);
	cr_assert_eq(s.dropped, 0u);
	cr_assert_eq(s.write_errors, 0u);
	char *text = slurp(path, NULL);
	cr_assert_not_null(text);
	const char *p = text;
	for (int i = 0; i < 20; i++) {
		char want[32];
		snprintf(want, sizeof(want), "\nSent:\nMESSAGE %d\nx", i);
		const char *at = strstr(p, want);
		cr_assert_not_null(at, "message %d missing or out of order", i);
		const char *body = at + strlen(want);
		for (int k = 0; body[k] != '\n'; k++)
			cr_assert_eq(body[k], 'a' + i % 26, "message %d byte %d", i, k);
		p = body;
	}
	free(text);
	core_trace_free(&t);
}

Test(core_trace, full_ring_drops_and_counts_never_overwrites)
{
	struct core_trace t;
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(core_trace_init(&t, 2, 4096, NULL), 0);
	/* 999 bytes -> 72 + 1000 per record: three fit in 4096, the fourth does not */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(push_str(&t, big), 0);
	cr_assert_eq(push_str(&t, big), -ENOBUFS);
	cr_assert_eq(push_str(&t, big), -ENOBUFS);
	struct core_trace_stats s;
	core_trace_stats_get(&t, &s);
	cr_assert_eq(s.traced, 3u);
	cr_assert_eq(s.dropped, 2u);
	/* the other worker's ring is its own */
	struct core_trace_rec r = rec4(CORE_TRACE_IN);
	struct iovec v = {big, 10};
	cr_assert_eq(core_trace_push(&t, 1, &r, &v, 1), 0);
	cr_assert_eq(core_trace_push(&t, 2, &r, &v, 1), -EINVAL); /* no such ring */
	/* draining (no sink: discarded) gives the room back */
	cr_assert_eq(core_trace_drain(&t), 4u);
	cr_assert_eq(push_str(&t, big), 0);
	/* a message larger than the whole ring can never fit: dropped, counted */
	char *huge = malloc(5000);
	memset(huge, 'h', 4999);
	huge[4999] = '\0';
	cr_assert_eq(push_str(&t, huge), -ENOBUFS);
	free(huge);
	core_trace_stats_get(&t, &s);
	cr_assert_eq(s.traced, 5u);
	cr_assert_eq(s.dropped, 3u);
	cr_assert_not(s.on);
	core_trace_free(&t);
}

Test(core_trace, zero_value_traces_nothing)
{
	struct core_trace t;
	char err[128];
	memset(&t, 0, sizeof(t));
	cr_assert_not(core_trace_on(&t));
	cr_assert_eq(push_str(&t, "x"), -EINVAL);
	cr_assert_eq(core_trace_drain(&t), 0u);
	cr_assert_eq(core_trace_enable(&t, err, sizeof(err)), -ENODEV);
	core_trace_disable(&t);
	core_trace_free(&t);
}

/* ---- forms ------------------------------------------------------------------------------ */

static char *text_of(const struct core_trace_rec *r, const char *msg)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	cr_assert_eq(core_trace_write_text(f, r, msg), 0);
	fclose(f);
	return buf;
}

Test(core_trace, text_form_is_the_routers_layout_with_lf_lines)
{
	struct core_trace_rec r = rec4(CORE_TRACE_IN);
	r.len = (uint32_t)strlen(invite);
	char *got = text_of(&r, invite);
	const char *want_head = "2005-12-28T18:51:38.123456Z //SIP/Msg/ccsipDisplayMsg: Conn-Id "
	                        "65537, tenant 100, TLS, "
	                        "peer 172.18.201.173:38928, local 10.64.100.145:5061, 567 bytes\n"
	                        "Received:\n"
	                        "INVITE sips:777@172.18.203.181 SIP/2.0\n"
	                        "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419\n"
	                        "From: <sips:333@172.18.201.173>;tag=581BB98-1663\n";
	cr_assert_eq(strlen(invite), 567u);
	cr_assert_eq(strncmp(got, want_head, strlen(want_head)), 0, "got:\n%s", got);
	cr_assert_null(strchr(got, '\r'));
	/* the body, then one empty line closing the block */
	const char *tail = "\n\nv=0\n", *end = "a=rtpmap:19 CN/8000\na=ptime:20\n\n";
	cr_assert_not_null(strstr(got, tail), "the empty line before the body");
	cr_assert_str_eq(got + strlen(got) - strlen(end), end);
	free(got);

	/* sent, IPv6, no body: the message's own empty line closes the block; a lone CR stays */
	static const char ok[] = "SIP/2.0 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n";
	struct core_trace_rec s = rec4(CORE_TRACE_OUT);
	s.family = 6;
	inet_pton(AF_INET6, "2001:db8::9", s.peer);
	inet_pton(AF_INET6, "2001:db8::1", s.local);
	s.len = (uint32_t)strlen(ok);
	got = text_of(&s, ok);
	cr_assert_str_eq(
	    got, "2005-12-28T18:51:38.123456Z //SIP/Msg/ccsipDisplayMsg: Conn-Id 65537, tenant "
	         "100, TLS, peer [2001:db8::9]:38928, local [2001:db8::1]:5061, 45 bytes\n"
	         "Sent:\nSIP/2.0 200 OK\nX: a\rb\nContent-Length: 0\n\n");
	free(got);
}

struct lines {
	int n;
	char l[64][128];
};

static void take_line(void *arg, const char *line, size_t n)
{
	struct lines *ls = arg;
	cr_assert_lt(ls->n, 64);
	snprintf(ls->l[ls->n++], sizeof(ls->l[0]), "%.*s", (int)n, line);
}

Test(core_trace, syslog_form_is_one_line_per_line)
{
	struct core_trace_rec r = rec4(CORE_TRACE_IN);
	struct lines ls = {0};
	r.len = (uint32_t)strlen(invite);
	core_trace_lines(&r, invite, take_line, &ls);
	/* head, "Received:", 10 header lines, the empty line, 10 SDP lines; no trailing empty */
	cr_assert_eq(ls.n, 2 + 10 + 1 + 10);
	cr_assert_not_null(strstr(ls.l[0], "Conn-Id 65537, tenant 100, TLS, peer 172.18.201.173"));
	cr_assert_str_eq(ls.l[1], "Received:");
	cr_assert_str_eq(ls.l[3], "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419");
	cr_assert_str_eq(ls.l[12], "");
	cr_assert_str_eq(ls.l[22], "a=ptime:20");
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* RFC 1071: a header (or pseudo-header + segment) with its checksum in place sums to 0xffff */
static uint16_t ones_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* one packet of a pcap at p: checks the headers, returns the TCP payload offset and length */
static void check_packet(const uint8_t *p, bool v6, bool in, uint32_t *seq, size_t *off,
                         size_t *len)
{
	uint32_t incl, orig;
	memcpy(&incl, p + 8, 4);
	memcpy(&orig, p + 12, 4);
	cr_assert_eq(incl, orig);
	const uint8_t *eth = p + 16, *ip = eth + 14;
	cr_assert_eq(be16(eth + 12), v6 ? 0x86dd : 0x0800);
	size_t iph = v6 ? 40 : 20, alen = v6 ? 16 : 4;
	const uint8_t *tcp = ip + iph, *src = ip + (v6 ? 8 : 12), *dst = src + alen;
	size_t tcplen = incl - 14 - iph;
	if (v6) {
		cr_assert_eq(ip[0] >> 4, 6);
		cr_assert_eq(be16(ip + 4), tcplen);
		cr_assert_eq(ip[6], 6);
	} else {
		cr_assert_eq(ip[0], 0x45);
		cr_assert_eq(be16(ip + 2), 20 + tcplen);
		cr_assert_eq(ip[9], 6);
		cr_assert_eq(ones_sum(0, ip, 20), 0xffff, "IPv4 header checksum");
	}
	/* direction: received goes peer -> us (5061), sent us -> peer */
	cr_assert_eq(be16(tcp), in ? 38928 : 5061);
	cr_assert_eq(be16(tcp + 2), in ? 5061 : 38928);
	cr_assert_eq(tcp[13], 0x18);
	uint32_t pseudo = ones_sum(0, src, alen) + ones_sum(0, dst, alen) + 6 + (uint32_t)tcplen;
	cr_assert_eq(ones_sum(pseudo, tcp, tcplen), 0xffff, "TCP checksum");
	*seq = be32(tcp + 4);
	*off = (size_t)(tcp + 20 - p);
	*len = tcplen - 20;
}

static uint8_t *pcap_of(const struct core_trace_rec *r, const char *msg, size_t *n,
                        struct core_trace_tcp *tcp)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, n);
	cr_assert_eq(core_trace_write_pcap_header(f), 0);
	cr_assert_eq(core_trace_write_pcap(f, r, msg, tcp), 0);
	fclose(f);
	return (uint8_t *)buf;
}

Test(core_trace, pcap_form_wraps_sip_in_ethernet_ip_tcp)
{
	struct core_trace_rec r = rec4(CORE_TRACE_IN);
	struct core_trace_tcp tcp = {.key = 42, .seq = {1000, 5000}};
	size_t n, off, len;
	uint32_t seq, v;
	r.len = (uint32_t)strlen(invite);
	uint8_t *p = pcap_of(&r, invite, &n, &tcp);
	memcpy(&v, p, 4);
	cr_assert_eq(v, 0xa1b2c3d4u);
	memcpy(&v, p + 20, 4);
	cr_assert_eq(v, 1u, "LINKTYPE_ETHERNET");
	memcpy(&v, p + 24, 4);
	cr_assert_eq(v, 1135795898u);
	memcpy(&v, p + 28, 4);
	cr_assert_eq(v, 123456u);
	check_packet(p + 24, false, true, &seq, &off, &len);
	cr_assert_eq(seq, 1000u);
	cr_assert_eq(len, strlen(invite));
	cr_assert_eq(memcmp(p + 24 + off, invite, len), 0, "the SIP bytes exactly");
	cr_assert_eq(off + len + 24, n);
	cr_assert_eq(tcp.seq[CORE_TRACE_IN], 1000u + 567u);
	cr_assert_eq(tcp.seq[CORE_TRACE_OUT], 5000u);
	free(p);

	/* sent over IPv6: ports swap, our sequence numbers advance */
	r = rec4(CORE_TRACE_OUT);
	r.family = 6;
	inet_pton(AF_INET6, "2001:db8::9", r.peer);
	inet_pton(AF_INET6, "2001:db8::1", r.local);
	r.len = 7;
	p = pcap_of(&r, "OPTIONS", &n, &tcp);
	check_packet(p + 24, true, false, &seq, &off, &len);
	cr_assert_eq(seq, 5000u);
	cr_assert_eq(len, 7u);
	cr_assert_eq(tcp.seq[CORE_TRACE_OUT], 5007u);
	free(p);
}

Test(core_trace, pcap_splits_a_message_longer_than_an_ip_packet)
{
	size_t big = 150000, n, off, len, at = 24, seen = 0;
	char *msg = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		msg[i] = (char)('A' + i % 23);
	msg[big] = '\0';
	struct core_trace_rec r = rec4(CORE_TRACE_IN);
	struct core_trace_tcp tcp = {.key = 42, .seq = {0xfffffff0u, 0}}; /* wraps, as TCP does */
	uint32_t seq, want = 0xfffffff0u;
	r.len = (uint32_t)big;
	uint8_t *p = pcap_of(&r, msg, &n, &tcp);
	int packets = 0;
	while (at < n) {
		check_packet(p + at, false, true, &seq, &off, &len);
		cr_assert_eq(seq, want);
		cr_assert_leq(len, 64000u);
		cr_assert_eq(memcmp(p + at + off, msg + seen, len), 0);
		want += (uint32_t)len;
		seen += len;
		at += off + len;
		packets++;
	}
	cr_assert_eq(packets, 3);
	cr_assert_eq(seen, big);
	free(p);
	free(msg);
}

Test(core_trace, pcap_file_gets_one_header_across_sessions)
{
	struct core_trace t;
	char path[128], err[128];
	size_t n1, n2;
	snprintf(path, sizeof(path), "%s/t.pcap", dir);
	cr_assert_eq(core_trace_init(&t, 1, 1 << 16, path), 0);
	cr_assert_eq(t.form, CORE_TRACE_PCAP);
	cr_assert_eq(core_trace_enable(&t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(push_str(&t, "OPTIONS sips:a SIP/2.0\r\n\r\n"), 0);
	core_trace_disable(&t);
	free(slurp(path, &n1));
	cr_assert_eq(n1, 24u + 16 + 14 + 20 + 20 + 26);
	cr_assert_eq(core_trace_enable(&t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(push_str(&t, "OPTIONS sips:a SIP/2.0\r\n\r\n"), 0);
	core_trace_disable(&t);
	uint8_t *p = (uint8_t *)slurp(path, &n2);
	cr_assert_eq(n2, n1 + 16 + 14 + 20 + 20 + 26, "appended, no second header");
	/* the second packet continues the first one's TCP stream */
	uint32_t s1, s2;
	size_t off, len;
	check_packet(p + 24, false, true, &s1, &off, &len);
	check_packet(p + n1, false, true, &s2, &off, &len);
	cr_assert_eq(s2, s1 + 26);
	free(p);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "decrypted signalling: owner only");
	core_trace_free(&t);
}

/* ---- on, off, the writer ---------------------------------------------------------------- */

Test(core_trace, off_writes_nothing_and_undebug_completes_the_file)
{
	struct core_trace t;
	char path[128];
	size_t n;
	snprintf(path, sizeof(path), "%s/live.txt", dir);
	cr_assert_eq(core_trace_setup(&t, 1, NULL), 0); /* syslog form, off */
	core_trace_free(&t);
	cr_assert_eq(core_trace_init(&t, 1, 1 << 16, path), 0);
	cr_assert_eq(core_trace_start(&t), 0);
	cr_assert_not(core_trace_on(&t));
	cr_assert_null(slurp(path, NULL), "nothing opened while off");

	char *out = NULL;
	size_t outn = 0;
	FILE *o = open_memstream(&out, &outn);
	cr_assert_eq(core_trace_command(&t, true, false, o), 0);
	fflush(o);
	cr_assert(core_trace_on(&t));
	cr_assert_not_null(strstr(out, "SIP Call messages tracing is enabled\n"));
	cr_assert_not_null(strstr(out, "(text)"));
	cr_assert_eq(push_str(&t, "INVITE sips:777@h SIP/2.0\r\nContent-Length: 0\r\n\r\n"), 0);
	/* the writer thread writes it within a few polls */
	char *text = NULL;
	for (int i = 0; i < 100; i++) {
		free(text);
		text = slurp(path, &n);
		if (text && strstr(text, "INVITE sips:777@h SIP/2.0\n"))
			break;
		usleep(10000);
	}
	cr_assert_not_null(text);
	cr_assert_not_null(strstr(text, "INVITE sips:777@h SIP/2.0\n"));
	free(text);
	cr_assert_eq(core_trace_command(&t, false, true, o), 0);
	fclose(o);
	cr_assert_not(core_trace_on(&t));
	cr_assert_not_null(strstr(out, "All possible debugging has been turned off\n"));
	cr_assert_not_null(strstr(out, "Messages traced 1, dropped 0, write errors 0\n"));
	free(out);
	/* off: what a late worker might still copy is never written */
	free(slurp(path, &n));
	size_t before = n;
	cr_assert_eq(push_str(&t, "BYE sips:777@h SIP/2.0\r\n\r\n"), 0);
	usleep(3 * CORE_TRACE_POLL_MS * 1000);
	core_trace_drain(&t);
	free(slurp(path, &n));
	cr_assert_eq(n, before);
	/* and it is not carried into the next session either */
	char err[128];
	cr_assert_eq(core_trace_enable(&t, err, sizeof(err)), 0);
	core_trace_disable(&t);
	text = slurp(path, &n);
	cr_assert_eq(n, before);
	cr_assert_null(strstr(text, "BYE"));
	free(text);
	core_trace_free(&t);
}

struct producer {
	struct core_trace *t;
	int n, ok;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int i = 0; i < p->n; i++) {
		char msg[64];
		snprintf(msg, sizeof(msg), "MESSAGE %06d\r\n\r\n", i);
		if (push_str(p->t, msg) == 0)
			p->ok++;
	}
	return NULL;
}

Test(core_trace, a_worker_racing_the_writer_loses_only_what_it_counts)
{
	struct core_trace t;
	char path[128], err[128];
	snprintf(path, sizeof(path), "%s/race.txt", dir);
	cr_assert_eq(core_trace_init(&t, 1, 4096, path), 0); /* small: it fills, drops happen */
	cr_assert_eq(core_trace_start(&t), 0);
	cr_assert_eq(core_trace_enable(&t, err, sizeof(err)), 0, "%s", err);
	struct producer p = {&t, 20000, 0};
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, produce, &p), 0);
	for (int i = 0; i < 50; i++) { /* the control thread drains too, as undebug does */
		pthread_mutex_lock(&t.mu);
		core_trace_drain(&t);
		pthread_mutex_unlock(&t.mu);
		usleep(200);
	}
	pthread_join(th, NULL);
	core_trace_disable(&t);
	struct core_trace_stats s;
	core_trace_stats_get(&t, &s);
	cr_assert_eq(s.traced, (uint64_t)p.ok);
	cr_assert_eq(s.traced + s.dropped, 20000u);
	cr_assert_gt(s.traced, 0u);
	/* every traced message written once, in order, intact */
	char *text = slurp(path, NULL);
	cr_assert_not_null(text);
	int seen = 0, last = -1;
	for (const char *q = strstr(text, "MESSAGE "); q; q = strstr(q + 1, "MESSAGE ")) {
		int i = atoi(q + 8);
		cr_assert_gt(i, last, "out of order or twice: %d after %d", i, last);
		cr_assert_eq(q[14], '\n');
		last = i;
		seen++;
	}
	cr_assert_eq((uint64_t)seen, s.traced);
	free(text);
	core_trace_free(&t);
}

Test(core_trace, a_file_that_cannot_be_opened_is_refused)
{
	struct core_trace t;
	char *out = NULL;
	size_t outn = 0;
	cr_assert_eq(core_trace_init(&t, 1, 4096, "/nonexistent/dir/trace.txt"), 0);
	FILE *o = open_memstream(&out, &outn);
	cr_assert_lt(core_trace_command(&t, true, false, o), 0);
	fclose(o);
	cr_assert_str_eq(out, "% Cannot start SIP message tracing: /nonexistent/dir/trace.txt: No "
	                      "such file or directory\n");
	cr_assert_not(core_trace_on(&t));
	free(out);
	core_trace_free(&t);
}

Test(core_trace, stats_lines_for_show_stats)
{
	struct core_trace t;
	char *out = NULL;
	size_t outn = 0;
	cr_assert_eq(core_trace_init(&t, 1, 4096, NULL), 0);
	cr_assert_eq(push_str(&t, "x"), 0);
	FILE *o = open_memstream(&out, &outn);
	core_trace_print_stats(&t, o, false);
	core_trace_print_stats(&t, o, true);
	fclose(o);
	cr_assert_str_eq(out, "trace_on                           no\n"
	                      "trace_traced                       1\n"
	                      "trace_dropped                      0\n"
	                      "trace_write_errors                 0\n"
	                      ",\"trace_on\":false,\"trace_traced\":1,\"trace_dropped\":0,"
	                      "\"trace_write_errors\":0");
	free(out);
	core_trace_free(&t);
}

/* ---- the workers' hook ------------------------------------------------------------------ */

Test(core_trace, worker_hook_records_conn_id_tenant_and_addresses)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct daemon_gen *g = calloc(1, sizeof(*g));
	struct worker *w = calloc(1, sizeof(*w));
	struct conn *c = calloc(1, sizeof(*c));
	cr_assert(d && g && w && c);
	cr_assert_eq(core_trace_init(&d->trace, 2, 4096, NULL), 0);
	w->d = d;
	w->idx = 1;
	c->g = g;
	c->slot = 7;
	c->id = 0x1234;
	c->tenant = 2;
	g->tenants[2].tag = 200;
	struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&c->peer;
	p6->sin6_family = AF_INET6; /* a dual-stack socket's IPv4 peer: recorded as IPv4 */
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &p6->sin6_addr);
	p6->sin6_port = htons(40312);
	struct sockaddr_in6 *l6 = (struct sockaddr_in6 *)&c->local;
	l6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &l6->sin6_addr);
	l6->sin6_port = htons(5061);

	/* off: the hook does not touch the ring */
	wk_trace_bytes(w, c, CORE_TRACE_IN, "OPTIONS", 7);
	cr_assert_eq(atomic_load(&d->trace.rings[1].head), 0u);

	atomic_store(&d->trace.on, true);
	wk_trace_bytes(w, c, CORE_TRACE_IN, "OPTIONS", 7);
	struct core_trace_ring *r = &d->trace.rings[1];
	cr_assert_eq(atomic_load(&r->head), sizeof(struct core_trace_rec) + 8);
	cr_assert_eq(atomic_load(&d->trace.rings[0].head), 0u, "the worker's own ring only");
	struct core_trace_rec rec;
	memcpy(&rec, r->buf, sizeof(rec));
	cr_assert_eq(rec.conn, worker_public_id(1, 7));
	cr_assert_eq(rec.key, 0x1234u);
	cr_assert_eq(rec.tenant, 200u);
	cr_assert_eq(rec.dir, CORE_TRACE_IN);
	cr_assert_eq(rec.family, 4);
	cr_assert_eq(rec.len, 7u);
	cr_assert_eq(rec.peer_port, 40312);
	cr_assert_eq(rec.local_port, 5061);
	cr_assert_eq(memcmp(rec.peer, "\xc0\x00\x02\x07", 4), 0);
	cr_assert_eq(memcmp(rec.local, "\xc0\x00\x02\x01", 4), 0);
	cr_assert_eq(memcmp(r->buf + sizeof(rec), "OPTIONS", 7), 0);
	cr_assert_gt(rec.ts_ns, 1700000000ull * 1000000000ull);

	atomic_store(&d->trace.on, false);
	core_trace_free(&d->trace);
	free(c);
	free(w);
	free(g);
	free(d);
}

/* ---- the commands (core/ctl.c) ---------------------------------------------------------- */

Test(core_trace, debug_commands_parse_as_the_router_takes_them)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
	} ok[] = {
	    {"debug ccsip messages", CTL_DEBUG_SIP},
	    {"deb ccsip mess", CTL_DEBUG_SIP},
	    {"DEBUG CCSIP MESSAGES", CTL_DEBUG_SIP},
	    {"undebug all", CTL_UNDEBUG_ALL},
	    {"u all", CTL_UNDEBUG_ALL},
	    {"undebug ccsip messages", CTL_UNDEBUG_SIP},
	    {"no debug ccsip messages", CTL_UNDEBUG_SIP},
	    {"no debug all", CTL_UNDEBUG_ALL},
	    {"show stats", CTL_SHOW_STATS},
	};
	static const struct {
		const char *line, *err;
	} bad[] = {
	    {"debug all", "% Invalid input at 'all': expected ccsip"},
	    {"debug ccsip", "% Incomplete command: expected messages"},
	    {"debug ccsip calls", "% Invalid input at 'calls': expected messages"},
	    {"undebug", "% Incomplete command: expected ccsip | all"},
	    {"no ccsip messages", "% Invalid input at 'ccsip': expected debug"},
	    {"undebug all now", "% Invalid input at 'now': expected end of line"},
	    {"debug ccsip messages | json", "% Invalid input at '|': expected end of line"},
	};
	struct ctl_request r;
	char err[CTL_ERR_MAX];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(ctl_parse(slice_cstr(ok[i].line), &r, err, sizeof(err)), 0, "%s: %s",
		             ok[i].line, err);
		cr_assert_eq(r.cmd, ok[i].cmd, "%s", ok[i].line);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ctl_parse(slice_cstr(bad[i].line), &r, err, sizeof(err)), -EINVAL,
		             "%s", bad[i].line);
		cr_assert_str_eq(err, bad[i].err);
	}
	char *help = NULL;
	size_t n = 0;
	FILE *o = open_memstream(&help, &n);
	cr_assert_eq(ctl_print_help(o), 0);
	fclose(o);
	cr_assert_not_null(strstr(help, "debug ccsip messages"));
	cr_assert_not_null(strstr(help, "undebug all"));
	free(help);
}
