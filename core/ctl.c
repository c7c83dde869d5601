/* ctl: command parsing and the show printers of the control socket (see core/ctl.h). */
#include "core/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- parsing --------------------------------------------------------------------------- */

/* a cursor over the words of one line; '|' is a word of its own even when glued to others */
struct ctl_lexer {
	struct slice rest;
	char *err;
	size_t errlen;
};

static bool ctl_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* the next word, or an empty slice at the end of the line */
static struct slice ctl_next(struct ctl_lexer *lx)
{
	struct slice s = lx->rest;
	size_t i = 0, j;

	while (i < s.n && ctl_blank(s.p[i]))
		i++;
	if (i == s.n) {
		lx->rest = slice_sub(s, s.n, s.n);
		return lx->rest;
	}
	j = i + 1;
	if (s.p[i] != '|')
		while (j < s.n && !ctl_blank(s.p[j]) && s.p[j] != '|')
			j++;
	lx->rest = slice_sub(s, j, s.n);
	return slice_sub(s, i, j);
}

static void ctl_err(struct ctl_lexer *lx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ctl_err(struct ctl_lexer *lx, const char *fmt, ...)
{
	va_list ap;

	if (lx->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err, lx->errlen, fmt, ap);
	va_end(ap);
}

/* w made printable for an error line: bytes outside 0x21..0x7e as \xNN, cut after 32 bytes */
static const char *ctl_shown(struct slice w, char *buf, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < w.n && o + 8 < n; i++) {
		unsigned char c = (unsigned char)w.p[i];
		if (i == 32) {
			o += (size_t)snprintf(buf + o, n - o, "...");
			break;
		}
		if (c > 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/* "a | b | c" */
static void ctl_join(const char *const *kw, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " | " : "", kw[i]);
}

static int ctl_invalid(struct ctl_lexer *lx, struct slice w, const char *expected)
{
	char shown[140];

	if (slice_empty(w))
		ctl_err(lx, "%% Incomplete command: expected %s", expected);
	else
		ctl_err(lx, "%% Invalid input at '%s': expected %s",
		        ctl_shown(w, shown, sizeof(shown)), expected);
	return -EINVAL;
}

/* Reads a keyword from kw[0..n): the word must be a unique prefix of one of them (or exactly
 * one of them), as on the router's CLI. Returns its index, or -EINVAL with the error set. */
static int ctl_keyword(struct ctl_lexer *lx, const char *const *kw, size_t n)
{
	char list[160];
	struct slice w = ctl_next(lx);
	int found = -1, count = 0;

	ctl_join(kw, n, list, sizeof(list));
	if (slice_empty(w) || w.p[0] == '|')
		return ctl_invalid(lx, w, list);
	for (size_t i = 0; i < n; i++) {
		struct slice k = slice_cstr(kw[i]);
		if (slice_case_eq(w, k))
			return (int)i;
		if (slice_case_prefix(k, w)) {
			found = (int)i;
			count++;
		}
	}
	if (count == 1)
		return found;
	if (count == 0)
		return ctl_invalid(lx, w, list);
	char shown[140], amb[160];
	size_t o = 0;
	amb[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(amb); i++)
		if (slice_case_prefix(slice_cstr(kw[i]), w))
			o += (size_t)snprintf(amb + o, sizeof(amb) - o, "%s%s", o ? " | " : "",
			                      kw[i]);
	ctl_err(lx, "%% Ambiguous command at '%s': %s", ctl_shown(w, shown, sizeof(shown)), amb);
	return -EINVAL;
}

/* one fixed keyword (abbreviations allowed) */
static int ctl_expect(struct ctl_lexer *lx, const char *kw)
{
	const char *const one[] = {kw};
	int k = ctl_keyword(lx, one, 1);
	return k < 0 ? k : 0;
}

/* the end of the line, or for a show an optional "| json" (or "json", or a prefix of it) first */
static int ctl_tail(struct ctl_lexer *lx, struct ctl_request *r, bool show)
{
	struct slice w = ctl_next(lx);
	bool bar = w.n == 1 && w.p[0] == '|';

	if (slice_empty(w))
		return 0;
	if (!show)
		return ctl_invalid(lx, w, "end of line");
	if (bar)
		w = ctl_next(lx);
	if (slice_empty(w) || !slice_case_prefix(SLICE_LIT("json"), w))
		return ctl_invalid(lx, w, bar ? "json" : "'| json' or end of line");
	r->json = true;
	w = ctl_next(lx);
	return slice_empty(w) ? 0 : ctl_invalid(lx, w, "end of line");
}

static int ctl_conn_id(struct ctl_lexer *lx, uint32_t *id)
{
	struct slice w = ctl_next(lx);
	unsigned long long v;

	if (!slice_to_u64(w, CTL_ID_MAX, &v) || v == 0)
		return ctl_invalid(lx, w, "a Conn-Id <1-4294967295>");
	*id = (uint32_t)v;
	return 0;
}

/* "ipv4:ADDR:PORT" or "ipv6:[ADDR]:PORT" into r->target */
static bool ctl_addr(struct slice w, struct ctl_request *r)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned long long port;
	bool v6 = slice_case_prefix(w, SLICE_LIT("ipv6:"));
	struct slice a;
	size_t colon;

	if (!v6 && !slice_case_prefix(w, SLICE_LIT("ipv4:")))
		return false;
	w = slice_make(w.p + 5, w.n - 5); /* a prefix matched: w.p is not NULL */
	if (v6) {
		colon = slice_find(w, ']');
		if (w.n < 2 || w.p[0] != '[' || colon + 1 >= w.n || w.p[colon + 1] != ':')
			return false;
		a = slice_sub(w, 1, colon);
		colon++;
	} else {
		colon = slice_find(w, ':');
		a = slice_sub(w, 0, colon);
	}
	if (colon >= w.n || a.n == 0 || a.n >= sizeof(ip) || memchr(a.p, '\0', a.n))
		return false;
	if (!slice_to_u64(slice_sub(w, colon + 1, w.n), 65535, &port) || port == 0)
		return false;
	memcpy(ip, a.p, a.n);
	ip[a.n] = '\0';
	memset(&r->target, 0, sizeof(r->target));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->target;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		r->target_len = sizeof(*s6);
		return inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&r->target;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	r->target_len = sizeof(*s4);
	return inet_pton(AF_INET, ip, &s4->sin_addr) == 1;
}

/* clear sip-ua tcp tls connection id N | target ADDR [id N] */
static int ctl_parse_clear(struct ctl_lexer *lx, struct ctl_request *r)
{
	static const char *const how[] = {"id", "target"};
	static const char *const more[] = {"id"};
	int k;

	if ((k = ctl_expect(lx, "sip-ua")) < 0 || (k = ctl_expect(lx, "tcp")) < 0 ||
	    (k = ctl_expect(lx, "tls")) < 0 || (k = ctl_expect(lx, "connection")) < 0 ||
	    (k = ctl_keyword(lx, how, 2)) < 0)
		return k;
	if (k == 0) {
		r->cmd = CTL_CLEAR_ID;
		return ctl_conn_id(lx, &r->id);
	}
	r->cmd = CTL_CLEAR_TARGET;
	struct slice w = ctl_next(lx);
	if (!ctl_addr(w, r))
		return ctl_invalid(lx, w, "ipv4:ADDR:PORT | ipv6:[ADDR]:PORT");
	struct ctl_lexer peek = *lx;
	if (slice_empty(ctl_next(&peek)))
		return 0;
	if ((k = ctl_keyword(lx, more, 1)) < 0)
		return k;
	return ctl_conn_id(lx, &r->id);
}

/* show crypto pki trustpoints | certificates (after "crypto") */
static int ctl_parse_show_pki(struct ctl_lexer *lx, struct ctl_request *r)
{
	static const char *const what[] = {"trustpoints", "certificates"};
	int k;

	if ((k = ctl_expect(lx, "pki")) < 0 || (k = ctl_keyword(lx, what, 2)) < 0)
		return k;
	r->cmd = k == 0 ? CTL_SHOW_TRUSTPT : CTL_SHOW_CERTS;
	return 0;
}

/* show sip-ua connections tcp tls brief|detail | show running-config | show stats |
 * show crypto pki ... */
static int ctl_parse_show(struct ctl_lexer *lx, struct ctl_request *r)
{
	static const char *const what[] = {"sip-ua", "running-config", "stats", "crypto"};
	static const char *const form[] = {"brief", "detail"};
	int k = ctl_keyword(lx, what, 4);

	if (k < 0)
		return k;
	if (k == 3)
		return ctl_parse_show_pki(lx, r);
	if (k == 1)
		r->cmd = CTL_SHOW_RUNNING;
	else if (k == 2)
		r->cmd = CTL_SHOW_STATS;
	else if ((k = ctl_expect(lx, "connections")) < 0 || (k = ctl_expect(lx, "tcp")) < 0 ||
	         (k = ctl_expect(lx, "tls")) < 0 || (k = ctl_keyword(lx, form, 2)) < 0)
		return k;
	else
		r->cmd = k == 0 ? CTL_SHOW_BRIEF : CTL_SHOW_DETAIL;
	return 0;
}

/* debug ccsip messages | undebug all | undebug ccsip messages | no debug (all | ccsip messages),
 * as the guide's router takes them. Returns 1 when the line is not one of these (nothing read),
 * else 0 or -EINVAL. Kept apart from the top-level keywords, whose error lines stay as they were;
 * help lists these. */
static int ctl_parse_debug(struct ctl_lexer *lx, struct ctl_request *r)
{
	static const char *const first[] = {"debug", "undebug", "no"};
	static const char *const what[] = {"ccsip", "all"};
	struct ctl_lexer peek = *lx;
	struct slice w = ctl_next(&peek);
	int kw = -1, k = 0;

	for (int i = 0; i < 3 && !slice_empty(w); i++)
		if (slice_case_prefix(slice_cstr(first[i]), w))
			kw = i;
	if (kw < 0)
		return 1;
	*lx = peek;
	if (kw == 2)
		k = ctl_expect(lx, "debug");
	if (k < 0 || (k = ctl_keyword(lx, what, kw == 0 ? 1 : 2)) < 0)
		return k;
	if (k == 1) {
		r->cmd = CTL_UNDEBUG_ALL;
		return 0;
	}
	r->cmd = kw == 0 ? CTL_DEBUG_SIP : CTL_UNDEBUG_SIP;
	return ctl_expect(lx, "messages");
}

int ctl_parse(struct slice line, struct ctl_request *r, char *err, size_t errlen)
{
	static const char *const top[] = {"show", "clear", "reload", "help", "?"};
	struct ctl_lexer lx = {line, err, errlen};
	int k;

	if (errlen)
		err[0] = '\0';
	memset(r, 0, sizeof(*r));
	if ((k = ctl_parse_debug(&lx, r)) <= 0)
		return k < 0 ? k : ctl_tail(&lx, r, false);
	if ((k = ctl_keyword(&lx, top, 5)) < 0)
		return k;
	switch (k) {
	case 0:
		if ((k = ctl_parse_show(&lx, r)) < 0)
			return k;
		return ctl_tail(&lx, r, true);
	case 1:
		if ((k = ctl_parse_clear(&lx, r)) < 0)
			return k;
		break;
	case 2:
		r->cmd = CTL_RELOAD;
		break;
	default:
		r->cmd = CTL_HELP;
		break;
	}
	return ctl_tail(&lx, r, false);
}

/* ---- text printers ---------------------------------------------------------------------- */

static int ctl_done(FILE *out)
{
	return ferror(out) ? -EIO : 0;
}

/* the guide's counter lines: labels padded to the longest (29) and " : " */
static void ctl_counter(FILE *out, const char *label, uint64_t v)
{
	fprintf(out, "%-29s : %" PRIu64 "\n", label, v);
}

static void ctl_listeners(FILE *out, const struct ctl_listener *lis, size_t n)
{
	fputs("------ SIP Transport Layer Listen Sockets ------\n", out);
	fprintf(out, "%7s %-39s %7s\n", "Conn-Id", "Local-Address", "Tenant");
	fputs("======= ======================================= =======\n", out);
	/* the ':' after the address is the router's separator before a VRF name: we have none */
	for (size_t i = 0; i < n; i++) {
		char local[96];
		snprintf(local, sizeof(local), "%.80s:", lis[i].local);
		fprintf(out, "%7" PRIu32 " %-39s %7u\n", lis[i].id, local, lis[i].tenant);
	}
}

int ctl_print_brief(FILE *out, const struct ctl_totals *t, const struct ctl_listener *lis,
                    size_t nlis)
{
	ctl_counter(out, "Total active connections", t->active);
	ctl_counter(out, "No. of remote closures", t->remote_closures);
	ctl_counter(out, "No. of conn. failures", t->conn_failures);
	ctl_counter(out, "No. of inactive conn. ageouts", t->inactive_ageouts);
	ctl_counter(out, "TLS client handshake failures", t->client_hs_failures);
	ctl_counter(out, "TLS server handshake failures", t->server_hs_failures);
	ctl_listeners(out, lis, nlis);
	return ctl_done(out);
}

/* a sort key per connection: the remote address as bytes, so agents come out in address order
 * (IPv4 before IPv6), and the snapshot position to keep rows of one agent in their order */
struct ctl_key {
	unsigned char fam; /* 1: IPv4, 2: IPv6, 3: not an address (compared as text) */
	unsigned char addr[16];
	const struct ctl_conn *c;
	size_t idx;
};

static int ctl_key_cmp(const void *a, const void *b)
{
	const struct ctl_key *x = a, *y = b;
	int c = (int)x->fam - (int)y->fam;

	if (c == 0 && x->fam == 3)
		c = strncmp(x->c->remote_ip, y->c->remote_ip, sizeof(x->c->remote_ip));
	else if (c == 0)
		c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c == 0)
		c = (x->idx > y->idx) - (x->idx < y->idx);
	return c;
}

static void ctl_key_make(const struct ctl_conn *c, size_t idx, struct ctl_key *k)
{
	char ip[INET6_ADDRSTRLEN];

	memset(k, 0, sizeof(*k));
	k->c = c;
	k->idx = idx;
	memcpy(ip, c->remote_ip, sizeof(ip));
	ip[sizeof(ip) - 1] = '\0';
	if (inet_pton(AF_INET, ip, k->addr) == 1)
		k->fam = 1;
	else if (inet_pton(AF_INET6, ip, k->addr) == 1)
		k->fam = 2;
	else
		k->fam = 3;
}

static bool ctl_same_agent(const struct ctl_conn *a, const struct ctl_conn *b)
{
	return strncmp(a->remote_ip, b->remote_ip, sizeof(a->remote_ip)) == 0;
}

/* n '=' under a column */
static void ctl_rule(FILE *out, int n)
{
	for (int i = 0; i < n; i++)
		fputc('=', out);
}

#define CTL_STR(s) (int)sizeof(s), (s) /* a fixed array printed with %.*s: never past its end */

static const char *ctl_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* one Remote-Agent: the guide's two stacked tables, the second one "(contd.)" */
static void ctl_agent(FILE *out, const struct ctl_conn *conns, const struct ctl_key *keys, size_t n)
{
	const struct ctl_conn *first = &conns[keys[0].idx];
	int lw = 13, cw = 30;

	for (size_t i = 0; i < n; i++) {
		const struct ctl_conn *c = &conns[keys[i].idx];
		int l = (int)strnlen(c->local_ip, sizeof(c->local_ip));
		int w = (int)strnlen(c->cipher, sizeof(c->cipher));
		lw = l > lw ? l : lw;
		cw = w > cw ? w : cw;
	}
	fprintf(out, "\nRemote-Agent:%.*s, Connections-Count:%zu\n", CTL_STR(first->remote_ip), n);
	fprintf(out, " Remote-Port Conn-Id Conn-State  WriteQ-Size %-*s TLS-Version (contd.)\n", lw,
	        "Local-Address");
	fputs(" =========== ======= =========== =========== ", out);
	ctl_rule(out, lw);
	fputs(" ===========\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct ctl_conn *c = &conns[keys[i].idx];
		fprintf(out, " %11u %7" PRIu32 " %-11s %11" PRIu32 " %-*.*s %.*s\n", c->remote_port,
		        c->id, ctl_or(c->state, "-"), c->writeq, lw, CTL_STR(c->local_ip),
		        c->version[0] ? (int)sizeof(c->version) : 1,
		        c->version[0] ? c->version : "-");
	}
	fprintf(out, " %-*s %-11s %6s %-6s %s\n", cw, "Cipher", "Curve", "Tenant", "RX", "TX");
	fputc(' ', out);
	ctl_rule(out, cw);
	fputs(" =========== ====== ====== ======\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct ctl_conn *c = &conns[keys[i].idx];
		fprintf(out, " %-*.*s %-11.*s %6u %-6s %s\n", cw, CTL_STR(c->cipher),
		        CTL_STR(c->curve), c->tenant, ctl_or(c->rl_rx, "-"), ctl_or(c->rl_tx, "-"));
	}
}

static const char ctl_note[] =
    "Note:\n"
    " ** Tuples with no matching socket entry\n"
    "   - Do 'clear sip <tcp[tls]/udp> conn t ipv4:<addr>:<port>'\n"
    "     to overcome this error condition\n"
    " ++ Tuples with mismatched address/port entry\n"
    "   - Do 'clear sip <tcp[tls]/udp> conn t ipv4:<addr>:<port> id <connid>'\n"
    "     to overcome this error condition\n"
    " RX/TX (siptlsd): record layer per direction, kernel (kTLS) or user (OpenSSL)\n";

int ctl_print_detail(FILE *out, const struct ctl_totals *t, const struct ctl_conn *conns,
                     size_t nconn, const struct ctl_listener *lis, size_t nlis)
{
	struct ctl_key *keys = NULL;

	if (nconn && (keys = calloc(nconn, sizeof(*keys))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nconn; i++)
		ctl_key_make(&conns[i], i, &keys[i]);
	if (nconn)
		qsort(keys, nconn, sizeof(*keys), ctl_key_cmp);

	ctl_counter(out, "Total active connections", t->active);
	ctl_counter(out, "No. of send failures", t->send_failures);
	ctl_counter(out, "No. of remote closures", t->remote_closures);
	ctl_counter(out, "No. of conn. failures", t->conn_failures);
	ctl_counter(out, "No. of inactive conn. ageouts", t->inactive_ageouts);
	fprintf(out, "Max. tls send msg queue size of %" PRIu64 ", recorded for %.*s\n",
	        t->max_sendq, t->max_sendq_peer[0] ? (int)sizeof(t->max_sendq_peer) : 1,
	        t->max_sendq_peer[0] ? t->max_sendq_peer : "-");
	ctl_counter(out, "TLS client handshake failures", t->client_hs_failures);
	ctl_counter(out, "TLS server handshake failures", t->server_hs_failures);
	fputs("-----Printing Detailed Connection Report-----\n", out);
	fputs(ctl_note, out);
	for (size_t i = 0, j; i < nconn; i = j) {
		for (j = i + 1;
		     j < nconn && ctl_same_agent(&conns[keys[i].idx], &conns[keys[j].idx]);)
			j++;
		ctl_agent(out, conns, keys + i, j - i);
	}
	free(keys);
	fputc('\n', out);
	ctl_listeners(out, lis, nlis);
	return ctl_done(out);
}

/* ---- JSON printers (RFC 8259) ----------------------------------------------------------- */

/* a JSON string of at most n bytes of s (up to a NUL): quotes, backslash and every control
 * byte escaped (RFC 8259 section 7); bytes >= 0x80 as \u00XX so the output is ASCII and valid
 * whatever the snapshot holds */
static void ctl_json_str(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; s && i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

#define CTL_JSTR(out, a) ctl_json_str(out, a, sizeof(a))

static void ctl_json_totals(FILE *out, const struct ctl_totals *t)
{
	fprintf(out,
	        "\"totals\":{\"active\":%" PRIu64 ",\"send_failures\":%" PRIu64
	        ",\"remote_closures\":%" PRIu64 ",\"conn_failures\":%" PRIu64
	        ",\"inactive_ageouts\":%" PRIu64 ",\"client_handshake_failures\":%" PRIu64
	        ",\"server_handshake_failures\":%" PRIu64 ",\"max_sendq\":%" PRIu64
	        ",\"max_sendq_peer\":",
	        t->active, t->send_failures, t->remote_closures, t->conn_failures,
	        t->inactive_ageouts, t->client_hs_failures, t->server_hs_failures, t->max_sendq);
	CTL_JSTR(out, t->max_sendq_peer);
	fputc('}', out);
}

static void ctl_json_listeners(FILE *out, const struct ctl_listener *lis, size_t n)
{
	fputs(",\"listeners\":[", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s{\"conn_id\":%" PRIu32 ",\"local\":", i ? "," : "", lis[i].id);
		CTL_JSTR(out, lis[i].local);
		fprintf(out, ",\"tenant\":%u}", lis[i].tenant);
	}
	fputc(']', out);
}

static void ctl_json_conn(FILE *out, const struct ctl_conn *c)
{
	fprintf(out, "{\"conn_id\":%" PRIu32 ",\"remote_ip\":", c->id);
	CTL_JSTR(out, c->remote_ip);
	fprintf(out, ",\"remote_port\":%u,\"local_ip\":", c->remote_port);
	CTL_JSTR(out, c->local_ip);
	fprintf(out, ",\"local_port\":%u,\"state\":", c->local_port);
	ctl_json_str(out, ctl_or(c->state, ""), SIZE_MAX);
	fprintf(out, ",\"writeq\":%" PRIu32 ",\"tls_version\":", c->writeq);
	CTL_JSTR(out, c->version);
	fputs(",\"cipher\":", out);
	CTL_JSTR(out, c->cipher);
	fputs(",\"curve\":", out);
	CTL_JSTR(out, c->curve);
	fprintf(out, ",\"tenant\":%u,\"record_rx\":", c->tenant);
	ctl_json_str(out, ctl_or(c->rl_rx, ""), SIZE_MAX);
	fputs(",\"record_tx\":", out);
	ctl_json_str(out, ctl_or(c->rl_tx, ""), SIZE_MAX);
	fprintf(out, ",\"outbound\":%s}", c->outbound ? "true" : "false");
}

int ctl_print_brief_json(FILE *out, const struct ctl_totals *t, const struct ctl_listener *lis,
                         size_t nlis)
{
	fputc('{', out);
	ctl_json_totals(out, t);
	ctl_json_listeners(out, lis, nlis);
	fputs("}\n", out);
	return ctl_done(out);
}

int ctl_print_detail_json(FILE *out, const struct ctl_totals *t, const struct ctl_conn *conns,
                          size_t nconn, const struct ctl_listener *lis, size_t nlis)
{
	fputc('{', out);
	ctl_json_totals(out, t);
	fputs(",\"connections\":[", out);
	for (size_t i = 0; i < nconn; i++) {
		if (i)
			fputc(',', out);
		ctl_json_conn(out, &conns[i]);
	}
	fputc(']', out);
	ctl_json_listeners(out, lis, nlis);
	fputs("}\n", out);
	return ctl_done(out);
}

/* ---- the other answers ----------------------------------------------------------------- */

static void ctl_target_text(const struct ctl_request *r, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (r->target.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&r->target;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
		snprintf(buf, n, "ipv6:[%s]:%u", ip, port);
		return;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&r->target;
	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
	port = ntohs(s4->sin_port);
	snprintf(buf, n, "ipv4:%s:%u", ip, port);
}

int ctl_print_cleared(FILE *out, const struct ctl_request *r, size_t n)
{
	char what[128];

	if (r->cmd == CTL_CLEAR_ID) {
		snprintf(what, sizeof(what), "Conn-Id %" PRIu32, r->id);
	} else {
		char t[80];
		ctl_target_text(r, t, sizeof(t));
		if (r->id)
			snprintf(what, sizeof(what), "target %s with Conn-Id %" PRIu32, t, r->id);
		else
			snprintf(what, sizeof(what), "target %s", t);
	}
	if (n == 0)
		fprintf(out, "%% No connection with %s\n", what);
	else
		fprintf(out, "Closed %zu connection%s (%s), close_notify sent\n", n,
		        n == 1 ? "" : "s", what);
	return ctl_done(out);
}

int ctl_print_help(FILE *out)
{
	fputs(
	    "Commands (any keyword may be shortened to a unique prefix: sh sip conn tcp tls br):\n"
	    "  show sip-ua connections tcp tls brief     totals and the listen sockets\n"
	    "  show sip-ua connections tcp tls detail    the same and every connection, by "
	    "Remote-Agent\n"
	    "  show running-config                       the configuration in use, normalised\n"
	    "  show stats                                every counter\n"
	    "  show crypto pki trustpoints               each trustpoint's CA and certificate\n"
	    "  show crypto pki certificates              every certificate, validity, days left\n"
	    "  clear sip-ua tcp tls connection id N      close Conn-Id N (close_notify first)\n"
	    "  clear sip-ua tcp tls connection target ipv4:ADDR:PORT [id N]\n"
	    "  clear sip-ua tcp tls connection target ipv6:[ADDR]:PORT [id N]\n"
	    "                                            close the connections to that peer\n"
	    "  reload                                    load the configuration again (as SIGHUP)\n"
	    "  debug ccsip messages                      trace every SIP message, decrypted\n"
	    "  undebug all | no debug ccsip messages     stop tracing\n"
	    "  help                                      this list\n"
	    "Append '| json' to a show for JSON.\n",
	    out);
	return ctl_done(out);
}

/* ---- show crypto pki ------------------------------------------------------------------- */

/* whole days from now until t, rounded down; negative once t is past */
static long ctl_days(int64_t t, int64_t now)
{
	int64_t s = t - now;

	return (long)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

/* the router's date form, "07:15:57 UTC Sep 26 2025" */
static const char *ctl_date(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, n, "%H:%M:%S UTC %b %d %Y", &tm) == 0)
		snprintf(buf, n, "?");
	return buf;
}

static const char *ctl_pki_status(const struct ctl_pki_cert *c, int64_t now)
{
	return now > c->not_after ? "Expired" : now < c->not_before ? "Not yet valid" : "Available";
}

static const char *ctl_pki_title(enum ctl_pki_kind k)
{
	return k == CTL_PKI_OWN     ? "Certificate"
	       : k == CTL_PKI_CHAIN ? "Chain Certificate"
	                            : "CA Certificate";
}

/* "days until expiry" and, close to the end, the note an operator must not miss */
static void ctl_pki_days(FILE *out, const struct ctl_pki_cert *c, int64_t now, const char *in)
{
	long d = ctl_days(c->not_after, now);

	fprintf(out, "%sdays until expiry: %ld\n", in, d);
	if (d < 0)
		fprintf(out, "%s** expired: renew it (crypto pki enroll, import)\n", in);
	else if (d < CTL_PKI_WARN_DAYS)
		fprintf(out, "%s** expires within %d days: renew it (crypto pki enroll, import)\n",
		        in, CTL_PKI_WARN_DAYS);
}

static void ctl_pki_cert_text(FILE *out, const struct ctl_pki_cert *c, int64_t now)
{
	char a[40], b[40];

	fprintf(out, "%s\n", ctl_pki_title(c->kind));
	fprintf(out, "  Status: %s\n", ctl_pki_status(c, now));
	fprintf(out, "  Certificate Serial Number (hex): %.*s\n", CTL_STR(c->serial));
	fprintf(out, "  Certificate Usage: %s\n",
	        c->kind == CTL_PKI_OWN ? "General Purpose" : "Signature");
	fprintf(out, "  Issuer:\n    %.*s\n", CTL_STR(c->issuer));
	fprintf(out, "  Subject:\n    %.*s\n", CTL_STR(c->subject));
	fprintf(out, "  Validity Date:\n    start date: %s\n    end   date: %s\n",
	        ctl_date(c->not_before, a, sizeof(a)), ctl_date(c->not_after, b, sizeof(b)));
	ctl_pki_days(out, c, now, "    ");
	fprintf(out, "  Associated Trustpoints: %.*s\n\n", CTL_STR(c->trustpoint));
}

int ctl_print_pki_certs(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now)
{
	size_t shown = 0;

	for (size_t i = 0; i < n; i++)
		if (c[i].kind != CTL_PKI_NONE) {
			ctl_pki_cert_text(out, &c[i], now);
			shown++;
		}
	if (shown == 0)
		fputs("No certificates: no trustpoint holds one (docs/pki.md)\n", out);
	return ctl_done(out);
}

/* one trustpoint: c[0..n) are its rows */
static void ctl_pki_tp_text(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now)
{
	const struct ctl_pki_cert *own = NULL, *ca = NULL;
	char a[40];

	for (size_t i = 0; i < n; i++) {
		if (c[i].kind == CTL_PKI_OWN && !own)
			own = &c[i];
		if (c[i].kind == CTL_PKI_CA && !ca)
			ca = &c[i];
	}
	fprintf(out, "Trustpoint %.*s:\n", CTL_STR(c[0].trustpoint));
	if (ca)
		fprintf(out, "    Subject Name:\n    %.*s\n          Serial Number (hex): %.*s\n",
		        CTL_STR(ca->subject), CTL_STR(ca->serial));
	else
		fputs("    No CA certificate (peers cannot be verified).\n", out);
	if (!own) {
		fputs("    No certificate configured.\n\n", out);
		return;
	}
	fputs("    Certificate configured.\n", out);
	fprintf(out, "    Certificate Subject Name:\n    %.*s\n", CTL_STR(own->subject));
	fprintf(out, "          Serial Number (hex): %.*s\n", CTL_STR(own->serial));
	fprintf(out, "          Status: %s, end date: %s\n", ctl_pki_status(own, now),
	        ctl_date(own->not_after, a, sizeof(a)));
	ctl_pki_days(out, own, now, "          ");
	fputc('\n', out);
}

/* the length of the run of rows of c[0]'s trustpoint */
static size_t ctl_pki_run(const struct ctl_pki_cert *c, size_t n)
{
	size_t j = 1;

	while (j < n && strncmp(c[j].trustpoint, c[0].trustpoint, sizeof(c[0].trustpoint)) == 0)
		j++;
	return j;
}

int ctl_print_pki_trustpoints(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now)
{
	if (n == 0)
		fputs("No trustpoints configured\n", out);
	for (size_t i = 0, j; i < n; i = j) {
		j = i + ctl_pki_run(c + i, n - i);
		ctl_pki_tp_text(out, c + i, j - i, now);
	}
	return ctl_done(out);
}

static void ctl_pki_cert_json(FILE *out, const struct ctl_pki_cert *c, int64_t now)
{
	static const char *const kinds[] = {
	    [CTL_PKI_OWN] = "certificate", [CTL_PKI_CHAIN] = "chain", [CTL_PKI_CA] = "ca"};
	fputs("{\"kind\":", out);
	ctl_json_str(out, c->kind <= CTL_PKI_CA ? kinds[c->kind] : "", SIZE_MAX);
	fputs(",\"subject\":", out);
	CTL_JSTR(out, c->subject);
	fputs(",\"issuer\":", out);
	CTL_JSTR(out, c->issuer);
	fputs(",\"serial\":", out);
	CTL_JSTR(out, c->serial);
	fprintf(out, ",\"not_before\":%" PRId64 ",\"not_after\":%" PRId64 ",\"days_left\":%ld}",
	        c->not_before, c->not_after, ctl_days(c->not_after, now));
}

int ctl_print_pki_json(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now)
{
	fputs("{\"trustpoints\":[", out);
	for (size_t i = 0, j; i < n; i = j) {
		j = i + ctl_pki_run(c + i, n - i);
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		CTL_JSTR(out, c[i].trustpoint);
		fputs(",\"certificates\":[", out);
		for (size_t k = i, m = 0; k < j; k++)
			if (c[k].kind != CTL_PKI_NONE) {
				if (m++)
					fputc(',', out);
				ctl_pki_cert_json(out, &c[k], now);
			}
		fputs("]}", out);
	}
	fputs("]}\n", out);
	return ctl_done(out);
}

/* ---- the socket ------------------------------------------------------------------------- */

/* is somebody accepting on the socket at addr? */
static bool ctl_live(const struct sockaddr_un *addr)
{
	/* non-blocking: a live daemon with a full backlog answers EAGAIN instead of a wait */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return true; /* cannot tell: do not remove it */
	live =
	    connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 || errno != ECONNREFUSED;
	close(fd);
	return live;
}

/* the parent directory of path, 0700, when it is missing (one level: /run/siptlsd) */
static void ctl_mkparent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return; /* bind reports the real problem */
}

int ctl_listen(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	ctl_mkparent(path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || ctl_live(&addr))
			return -EADDRINUSE;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Linux creates the socket file with the socket inode's mode (less the umask): setting it
	 * before bind leaves no moment in which others could connect, without touching the
	 * process-wide umask from a threaded daemon. The chmod after makes it exact. */
	err = fchmod(fd, 0600) == 0 ? 0 : -errno;
	if (err == 0 && bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0)
		err = -errno;
	else if (err == 0 && (chmod(path, 0600) != 0 || listen(fd, 16) != 0)) {
		err = -errno;
		unlink(path); /* bound: leave no file that nobody will accept on */
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
