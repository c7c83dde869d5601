/* Tests for core/ctl.c (command parsing, show printers, the socket) and core/siptlsctl.c (the
 * client, run as a program against a fake daemon). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ctl.h"

/* ---- parsing ---------------------------------------------------------------------------- */

static int parse(const char *line, struct ctl_request *r, char *err)
{
	return ctl_parse(slice_cstr(line), r, err, CTL_ERR_MAX);
}

Test(core_ctl, accepts_every_spelling_and_unique_prefix)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
		bool json;
	} ok[] = {
	    {"show sip-ua connections tcp tls brief", CTL_SHOW_BRIEF, false},
	    {"show sip-ua connections tcp tls detail", CTL_SHOW_DETAIL, false},
	    {"sh sip-ua connections tcp tls detail", CTL_SHOW_DETAIL, false}, /* the guide's */
	    {"sh sip conn t t det", CTL_SHOW_DETAIL, false},
	    {"s si c t t b", CTL_SHOW_BRIEF, false},
	    {"SHOW SIP-UA CONNECTIONS TCP TLS BRIEF", CTL_SHOW_BRIEF, false},
	    {"  show\tsip-ua  connections tcp tls brief \r\n", CTL_SHOW_BRIEF, false},
	    {"show sip-ua connections tcp tls brief | json", CTL_SHOW_BRIEF, true},
	    {"show sip-ua connections tcp tls detail|json", CTL_SHOW_DETAIL, true},
	    {"sh sip conn tcp tls det json", CTL_SHOW_DETAIL, true},
	    {"sh sip conn tcp tls br | j", CTL_SHOW_BRIEF, true},
	    {"show running-config", CTL_SHOW_RUNNING, false},
	    {"sh run", CTL_SHOW_RUNNING, false},
	    {"show running-config | json", CTL_SHOW_RUNNING, true},
	    {"show stats", CTL_SHOW_STATS, false},
	    {"sh st json", CTL_SHOW_STATS, true},
	    {"reload", CTL_RELOAD, false},
	    {"r", CTL_RELOAD, false},
	    {"help", CTL_HELP, false},
	    {"?", CTL_HELP, false},
	    {"clear sip-ua tcp tls connection id 9", CTL_CLEAR_ID, false},
	    {"clear sip tcp tls conn t ipv4:10.105.34.88:8090", CTL_CLEAR_TARGET, false},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct ctl_request r;
		char err[CTL_ERR_MAX] = "";
		cr_assert_eq(parse(ok[i].line, &r, err), 0, "%s: %s", ok[i].line, err);
		cr_assert_eq(r.cmd, ok[i].cmd, "%s", ok[i].line);
		cr_assert_eq(r.json, ok[i].json, "%s", ok[i].line);
	}
}

Test(core_ctl, errors_name_the_word_and_what_was_expected)
{
	static const struct {
		const char *line, *err;
	} bad[] = {
	    {"", "% Incomplete command: expected show | clear | reload | help | ?"},
	    {"   ", "% Incomplete command: expected show | clear | reload | help | ?"},
	    {"foo", "% Invalid input at 'foo': expected show | clear | reload | help | ?"},
	    {"show sip-ua connections tcp tls foo",
	     "% Invalid input at 'foo': expected brief | detail"},
	    {"show sip-ua connections tcp tls", "% Incomplete command: expected brief | detail"},
	    {"show s", "% Ambiguous command at 's': sip-ua | stats"},
	    {"sh sip conn tcp tls d x", "% Invalid input at 'x': expected '| json' or end of line"},
	    {"sh sip conn tcp tls d |", "% Incomplete command: expected json"},
	    {"sh sip conn tcp tls d | xml", "% Invalid input at 'xml': expected json"},
	    {"sh sip conn tcp tls d json x", "% Invalid input at 'x': expected end of line"},
	    {"sh sip conn tcp tls d jsonx",
	     "% Invalid input at 'jsonx': expected '| json' or end of line"},
	    {"show sip-uax",
	     "% Invalid input at 'sip-uax': expected sip-ua | running-config | stats | crypto"},
	    /* the guide's own transcription typo is not taken for tcp */
	    {"clear sip-ua top tls connection id 1", "% Invalid input at 'top': expected tcp"},
	    {"clear sip-ua tcp tls connection", "% Incomplete command: expected id | target"},
	    {"reload now", "% Invalid input at 'now': expected end of line"},
	    {"reload | json", "% Invalid input at '|': expected end of line"},
	    {"clear sip-ua tcp tls connection id 9 json",
	     "% Invalid input at 'json': expected end of line"},
	    {"| json", "% Invalid input at '|': expected show | clear | reload | help | ?"},
	    {"sh\x01w", "% Invalid input at 'sh\\x01w': expected show | clear | reload | help | ?"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     "% Invalid input at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': expected show | clear | "
	     "reload | "
	     "help | ?"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_request r;
		char err[CTL_ERR_MAX];
		cr_assert_eq(parse(bad[i].line, &r, err), -EINVAL, "%s", bad[i].line);
		cr_assert_str_eq(err, bad[i].err, "%s", bad[i].line);
	}
	/* bytes after a NUL still count: the line is a slice, not a C string */
	struct ctl_request r;
	char err[CTL_ERR_MAX];
	cr_assert_eq(ctl_parse(slice_make("reload\0x", 8), &r, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(
	    err, "% Invalid input at 'reload\\x00x': expected show | clear | reload | help | ?");
	/* errlen 0: no message, no write */
	cr_assert_eq(ctl_parse(SLICE_LIT("x"), &r, NULL, 0), -EINVAL);
}

Test(core_ctl, clear_by_id_range)
{
	struct ctl_request r;
	char err[CTL_ERR_MAX];

	cr_assert_eq(parse("clear sip-ua tcp tls connection id 1", &r, err), 0);
	cr_assert_eq(r.id, 1);
	cr_assert_eq(parse("clear sip-ua tcp tls connection id 16380", &r, err), 0);
	cr_assert_eq(r.id, 16380);
	cr_assert_eq(parse("cl sip t t c i 4294967295", &r, err), 0, "%s", err);
	cr_assert_eq(r.cmd, CTL_CLEAR_ID);
	cr_assert_eq(r.id, 4294967295u, "wider than the guide's 16380: ids name worker and slot");
	const char *bad[] = {"0", "4294967296", "-1", "1x", "0x10", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[96], want[CTL_ERR_MAX];
		snprintf(line, sizeof(line), "clear sip-ua tcp tls connection id %s", bad[i]);
		snprintf(want, sizeof(want),
		         "%% Invalid input at '%s': expected a Conn-Id <1-4294967295>", bad[i]);
		cr_assert_eq(parse(line, &r, err), -EINVAL, "%s", line);
		cr_assert_str_eq(err, want);
	}
	cr_assert_eq(parse("clear sip-ua tcp tls connection id", &r, err), -EINVAL);
	cr_assert_str_eq(err, "% Incomplete command: expected a Conn-Id <1-4294967295>");
}

Test(core_ctl, clear_by_target)
{
	struct ctl_request r;
	char err[CTL_ERR_MAX], ip[INET6_ADDRSTRLEN];

	cr_assert_eq(
	    parse("clear sip-ua tcp tls connection target ipv4:10.105.34.88:8090", &r, err), 0);
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&r.target;
	cr_assert_eq(r.cmd, CTL_CLEAR_TARGET);
	cr_assert_eq(s4->sin_family, AF_INET);
	cr_assert_eq(r.target_len, sizeof(*s4));
	cr_assert_eq(ntohs(s4->sin_port), 8090);
	cr_assert_str_eq(inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)), "10.105.34.88");
	cr_assert_eq(r.id, 0, "no id: every connection to the target");

	/* the guide's note: "conn t ipv4:<addr>:<port> id <connid>" */
	cr_assert_eq(parse("clear sip tcp tls conn t IPV4:192.0.2.1:5061 id 10", &r, err), 0, "%s",
	             err);
	cr_assert_eq(r.id, 10);

	cr_assert_eq(
	    parse("clear sip-ua tcp tls connection target ipv6:[2001:db8::1]:5061", &r, err), 0);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&r.target;
	cr_assert_eq(s6->sin6_family, AF_INET6);
	cr_assert_eq(r.target_len, sizeof(*s6));
	cr_assert_eq(ntohs(s6->sin6_port), 5061);
	cr_assert_str_eq(inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)), "2001:db8::1");

	const char *bad[] = {
	    "10.0.0.1:5061",        "ipv4:10.0.0.1",          "ipv4:10.0.0.1:",
	    "ipv4:10.0.0.1:0",      "ipv4:10.0.0.1:65536",    "ipv4:10.0.0.256:5061",
	    "ipv4::5061",           "ipv4:host.example:5061", "ipv6:2001:db8::1:5061",
	    "ipv6:[2001:db8::1]",   "ipv6:[]:5061",           "ipv6:[10.0.0.1]:5061",
	    "ipv4:[10.0.0.1]:5061", "dns:sip.acme.co:5061",   "ipv6:[2001:db8::1]5061",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128], want[CTL_ERR_MAX];
		snprintf(line, sizeof(line), "clear sip-ua tcp tls connection target %s", bad[i]);
		snprintf(want, sizeof(want),
		         "%% Invalid input at '%s': expected ipv4:ADDR:PORT | ipv6:[ADDR]:PORT",
		         bad[i]);
		cr_assert_eq(parse(line, &r, err), -EINVAL, "%s", line);
		cr_assert_str_eq(err, want);
	}
	cr_assert_eq(
	    parse("clear sip-ua tcp tls connection target ipv4:10.0.0.1:5061 idx 3", &r, err),
	    -EINVAL);
	cr_assert_str_eq(err, "% Invalid input at 'idx': expected id");
}

/* ---- the printers ----------------------------------------------------------------------- */

/* the guide's detail example, plus an IPv6 upstream still handshaking */
static const struct ctl_totals tot = {
    .active = 3,
    .send_failures = 0,
    .remote_closures = 3,
    .conn_failures = 1,
    .inactive_ageouts = 0,
    .client_hs_failures = 2,
    .server_hs_failures = 5,
    .max_sendq = 1,
    .max_sendq_peer = "10.105.34.88:8090",
};
static const struct ctl_listener lis[] = {
    {2, "[8.43.21.8]:5061", 0},
    {3, "[10.64.100.145]:5090", 10},
    {65540, "[2001:db8::1]:5061", 100},
};
static const struct ctl_conn conns[] = {
    {.id = 9,
     .remote_ip = "10.105.34.88",
     .remote_port = 38928,
     .local_ip = "10.64.100.145",
     .local_port = 5090,
     .state = "Established",
     .writeq = 0,
     .version = "TLSv1.2",
     .cipher = "ECDHE-RSA-AES256-GCM-SHA384",
     .curve = "P-256",
     .tenant = 10,
     .rl_rx = "kernel",
     .rl_tx = "kernel"},
    {.id = 65537,
     .remote_ip = "2001:db8::9",
     .remote_port = 5061,
     .local_ip = "2001:db8::1",
     .local_port = 40000,
     .state = "Handshaking",
     .tenant = 100,
     .rl_rx = "user",
     .rl_tx = "user",
     .outbound = true},
    {.id = 10,
     .remote_ip = "10.105.34.88",
     .remote_port = 8090,
     .local_ip = "10.64.100.145",
     .local_port = 41000,
     .state = "Established",
     .writeq = 1,
     .version = "TLSv1.2",
     .cipher = "AES256-SHA",
     .curve = "",
     .tenant = 10,
     .rl_rx = "user",
     .rl_tx = "user",
     .outbound = true},
};

static const char listen_table[] = "------ SIP Transport Layer Listen Sockets ------\n"
                                   "Conn-Id Local-Address                            Tenant\n"
                                   "======= ======================================= =======\n"
                                   "      2 [8.43.21.8]:5061:                             0\n"
                                   "      3 [10.64.100.145]:5090:                        10\n"
                                   "  65540 [2001:db8::1]:5061:                         100\n";

/* runs a printer into memory; the text, to be freed */
#define CAPTURE(buf, call)                                                                         \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *out = open_memstream(&(buf), &len_);                                         \
		cr_assert_not_null(out);                                                           \
		cr_assert_eq((call), 0);                                                           \
		fclose(out);                                                                       \
	} while (0)

Test(core_ctl, brief_in_the_guides_layout)
{
	char *text = NULL;
	CAPTURE(text, ctl_print_brief(out, &tot, lis, 3));
	char want[2048];
	snprintf(want, sizeof(want), "%s%s",
	         "Total active connections      : 3\n"
	         "No. of remote closures        : 3\n"
	         "No. of conn. failures         : 1\n"
	         "No. of inactive conn. ageouts : 0\n"
	         "TLS client handshake failures : 2\n"
	         "TLS server handshake failures : 5\n",
	         listen_table);
	cr_assert_str_eq(text, want);
	free(text);
}

Test(core_ctl, detail_groups_by_remote_agent)
{
	char *text = NULL;
	CAPTURE(text, ctl_print_detail(out, &tot, conns, 3, lis, 3));
	char want[4096];
	snprintf(want, sizeof(want), "%s%s",
	         "Total active connections      : 3\n"
	         "No. of send failures          : 0\n"
	         "No. of remote closures        : 3\n"
	         "No. of conn. failures         : 1\n"
	         "No. of inactive conn. ageouts : 0\n"
	         "Max. tls send msg queue size of 1, recorded for 10.105.34.88:8090\n"
	         "TLS client handshake failures : 2\n"
	         "TLS server handshake failures : 5\n"
	         "-----Printing Detailed Connection Report-----\n"
	         "Note:\n"
	         " ** Tuples with no matching socket entry\n"
	         "   - Do 'clear sip <tcp[tls]/udp> conn t ipv4:<addr>:<port>'\n"
	         "     to overcome this error condition\n"
	         " ++ Tuples with mismatched address/port entry\n"
	         "   - Do 'clear sip <tcp[tls]/udp> conn t ipv4:<addr>:<port> id <connid>'\n"
	         "     to overcome this error condition\n"
	         " RX/TX (siptlsd): record layer per direction, kernel (kTLS) or user (OpenSSL)\n"
	         "\n"
	         "Remote-Agent:10.105.34.88, Connections-Count:2\n"
	         " Remote-Port Conn-Id Conn-State  WriteQ-Size Local-Address TLS-Version (contd.)\n"
	         " =========== ======= =========== =========== ============= ===========\n"
	         "       38928       9 Established           0 10.64.100.145 TLSv1.2\n"
	         "        8090      10 Established           1 10.64.100.145 TLSv1.2\n"
	         " Cipher                         Curve       Tenant RX     TX\n"
	         " ============================== =========== ====== ====== ======\n"
	         " ECDHE-RSA-AES256-GCM-SHA384    P-256           10 kernel kernel\n"
	         " AES256-SHA                                     10 user   user\n"
	         "\n"
	         "Remote-Agent:2001:db8::9, Connections-Count:1\n"
	         " Remote-Port Conn-Id Conn-State  WriteQ-Size Local-Address TLS-Version (contd.)\n"
	         " =========== ======= =========== =========== ============= ===========\n"
	         "        5061   65537 Handshaking           0 2001:db8::1   -\n"
	         " Cipher                         Curve       Tenant RX     TX\n"
	         " ============================== =========== ====== ====== ======\n"
	         "                                               100 user   user\n"
	         "\n",
	         listen_table);
	cr_assert_str_eq(text, want);
	free(text);
}

Test(core_ctl, detail_columns_widen_for_long_values)
{
	struct ctl_conn c = conns[0];
	char *text = NULL;
	snprintf(c.local_ip, sizeof(c.local_ip), "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
	snprintf(c.cipher, sizeof(c.cipher), "TLS_CHACHA20_POLY1305_SHA256_AND_SOME_MORE_X");
	CAPTURE(text, ctl_print_detail(out, &tot, &c, 1, NULL, 0));
	cr_assert_not_null(strstr(text, " Remote-Port Conn-Id Conn-State  WriteQ-Size Local-Address"
	                                "                          TLS-Version (contd.)\n"));
	cr_assert_not_null(
	    strstr(text, "           0 2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff TLSv1.2\n"));
	cr_assert_not_null(strstr(text, " TLS_CHACHA20_POLY1305_SHA256_AND_SOME_MORE_X P-256  "));
	cr_assert_not_null(strstr(text, "Connections-Count:1\n"));
	free(text);
}

Test(core_ctl, detail_with_nothing_recorded)
{
	static const struct ctl_totals zero;
	char *text = NULL;
	CAPTURE(text, ctl_print_detail(out, &zero, NULL, 0, NULL, 0));
	cr_assert_not_null(strstr(text, "Max. tls send msg queue size of 0, recorded for -\n"));
	cr_assert_null(strstr(text, "Remote-Agent"));
	cr_assert_not_null(
	    strstr(text, "======= ======================================= =======\n"));
	free(text);
}

/* ---- a small JSON checker (RFC 8259 grammar), enough to prove the printers' output valid --- */

struct json {
	const char *p, *end;
	int depth;
};

static bool json_value(struct json *j);

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool json_string(struct json *j)
{
	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++)
				if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p++))
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
			return false;
		}
	}
	return j->p < j->end && *j->p++ == '"';
}

static bool json_number(struct json *j)
{
	const char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	return j->p > s && j->p[-1] != '-';
}

static bool json_list(struct json *j, char close, bool object)
{
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		json_ws(j);
		if (object) {
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (j->p >= j->end)
			return false;
		char c = *j->p++;
		if (c == close)
			return true;
		if (c != ',')
			return false;
	}
}

static bool json_value(struct json *j)
{
	json_ws(j);
	if (j->p >= j->end || ++j->depth > 32)
		return false;
	bool ok;
	switch (*j->p) {
	case '{':
		j->p++;
		ok = json_list(j, '}', true);
		break;
	case '[':
		j->p++;
		ok = json_list(j, ']', false);
		break;
	case '"':
		ok = json_string(j);
		break;
	case 't':
		ok = json_lit(j, "true");
		break;
	case 'f':
		ok = json_lit(j, "false");
		break;
	case 'n':
		ok = json_lit(j, "null");
		break;
	default:
		ok = json_number(j);
		break;
	}
	j->depth--;
	return ok;
}

static bool json_valid(const char *s)
{
	struct json j = {s, s + strlen(s), 0};
	if (!json_value(&j))
		return false;
	json_ws(&j);
	return j.p == j.end;
}

Test(core_ctl, json_checker_rejects_what_it_should)
{
	cr_assert(json_valid("{\"a\":[1,true,null,\"x\\u0001\"]}\n"));
	cr_assert_not(json_valid("{\"a\":1,}"));
	cr_assert_not(json_valid("{\"a\":\"\x01\"}"));
	cr_assert_not(json_valid("{\"a\":1} x"));
	cr_assert_not(json_valid("{\"a\" 1}"));
	cr_assert_not(json_valid("[\"\\x\"]"));
}

Test(core_ctl, json_forms_are_valid_and_complete)
{
	char *brief = NULL, *detail = NULL;
	CAPTURE(brief, ctl_print_brief_json(out, &tot, lis, 3));
	CAPTURE(detail, ctl_print_detail_json(out, &tot, conns, 3, lis, 3));
	cr_assert(json_valid(brief), "%s", brief);
	cr_assert(json_valid(detail), "%s", detail);
	cr_assert_str_eq(
	    brief,
	    "{\"totals\":{\"active\":3,\"send_failures\":0,\"remote_closures\":3,"
	    "\"conn_failures\":1,\"inactive_ageouts\":0,\"client_handshake_failures\":2,"
	    "\"server_handshake_failures\":5,\"max_sendq\":1,\"max_sendq_peer\":"
	    "\"10.105.34.88:8090\"},\"listeners\":[{\"conn_id\":2,\"local\":\"[8.43.21.8]:5061\","
	    "\"tenant\":0},{\"conn_id\":3,\"local\":\"[10.64.100.145]:5090\",\"tenant\":10},"
	    "{\"conn_id\":65540,\"local\":\"[2001:db8::1]:5061\",\"tenant\":100}]}\n");
	cr_assert_not_null(
	    strstr(detail, "{\"conn_id\":10,\"remote_ip\":\"10.105.34.88\",\"remote_port\":"
	                   "8090,\"local_ip\":\"10.64.100.145\",\"local_port\":41000,"
	                   "\"state\":\"Established\",\"writeq\":1,\"tls_version\":"
	                   "\"TLSv1.2\",\"cipher\":\"AES256-SHA\",\"curve\":\"\",\"tenant\":10,"
	                   "\"record_rx\":\"user\",\"record_tx\":\"user\",\"outbound\":true}"));
	cr_assert_not_null(strstr(detail, "\"conn_id\":65537"));
	free(brief);
	free(detail);
}

Test(core_ctl, json_escapes_and_never_reads_past_a_field)
{
	struct ctl_conn c;
	struct ctl_listener l;
	struct ctl_totals t = tot;
	char *text = NULL;

	memset(&c, 'A', sizeof(c)); /* no NUL anywhere in the strings */
	c.state = "Est\"ab\\lished\n";
	c.rl_rx = c.rl_tx = NULL;
	c.outbound = false;
	memcpy(c.cipher, "q\"\x01\xc3\xa9", 6);
	memset(&l, 'B', sizeof(l));
	CAPTURE(text, ctl_print_detail_json(out, &t, &c, 1, &l, 1));
	cr_assert(json_valid(text), "%s", text);
	cr_assert_not_null(strstr(text, "\"state\":\"Est\\\"ab\\\\lished\\u000a\""));
	cr_assert_not_null(strstr(text, "\"cipher\":\"q\\\"\\u0001\\u00c3\\u00a9\""));
	char ips[INET6_ADDRSTRLEN + 3];
	memset(ips, 'A', sizeof(ips));
	ips[0] = '"';
	memcpy(ips + INET6_ADDRSTRLEN + 1, "\",", 2);
	ips[INET6_ADDRSTRLEN + 2] = '\0';
	cr_assert_not_null(strstr(text, ips),
	                   "exactly sizeof(remote_ip) bytes of an unterminated field");
	free(text);
	text = NULL;
	CAPTURE(text, ctl_print_detail(out, &t, &c, 1, &l, 1));
	cr_assert_not_null(
	    strstr(text, "Remote-Agent:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, "));
	free(text);
}

Test(core_ctl, cleared_answers)
{
	struct ctl_request r;
	char err[CTL_ERR_MAX], *text = NULL;

	cr_assert_eq(parse("clear sip-ua tcp tls connection id 9", &r, err), 0);
	CAPTURE(text, ctl_print_cleared(out, &r, 1));
	cr_assert_str_eq(text, "Closed 1 connection (Conn-Id 9), close_notify sent\n");
	free(text);
	CAPTURE(text, ctl_print_cleared(out, &r, 0));
	cr_assert_str_eq(text, "% No connection with Conn-Id 9\n");
	free(text);
	cr_assert_eq(parse("clear sip tcp tls conn t ipv6:[2001:db8::9]:5061 id 3", &r, err), 0);
	CAPTURE(text, ctl_print_cleared(out, &r, 0));
	cr_assert_str_eq(text,
	                 "% No connection with target ipv6:[2001:db8::9]:5061 with Conn-Id 3\n");
	free(text);
	cr_assert_eq(parse("clear sip tcp tls conn t ipv4:10.105.34.88:8090", &r, err), 0);
	CAPTURE(text, ctl_print_cleared(out, &r, 2));
	cr_assert_str_eq(
	    text, "Closed 2 connections (target ipv4:10.105.34.88:8090), close_notify sent\n");
	free(text);
	CAPTURE(text, ctl_print_help(out));
	cr_assert_not_null(strstr(text, "clear sip-ua tcp tls connection id N"));
	free(text);
}

Test(core_ctl, printers_report_a_failing_stream)
{
	FILE *full = fopen("/dev/full", "w");
	cr_assert_not_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	cr_assert_eq(ctl_print_brief(full, &tot, lis, 3), -EIO);
	fclose(full);
}

/* ---- the socket ------------------------------------------------------------------------- */

static char tmpdir[64];

/* removes what the socket tests made (criterion .fini) */
static void rm_tmpdir(void)
{
	static const char *const made[] = {"/control", "/run/control"};
	char p[128];

	if (tmpdir[0] == '\0')
		return;
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s%s", tmpdir, made[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/run", tmpdir);
	rmdir(p);
	rmdir(tmpdir);
}

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctltest.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

Test(core_ctl, listen_is_private_and_keeps_a_live_socket, .fini = rm_tmpdir)
{
	char path[128];
	struct stat st;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/run/control", tmpdir);
	int fd = ctl_listen(path);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/run", tmpdir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700, "the directory it made");
	snprintf(path, sizeof(path), "%s/run/control", tmpdir);
	cr_assert_eq(ctl_listen(path), -EADDRINUSE, "a daemon is still accepting there");
	close(fd);
	int again = ctl_listen(path); /* stale now: replaced */
	cr_assert_geq(again, 0, "%s", strerror(-again));
	close(again);
	unlink(path);
	int f = open(path, O_CREAT | O_WRONLY, 0600);
	close(f);
	cr_assert_eq(ctl_listen(path), -EADDRINUSE, "a regular file is never removed");
	unlink(path);
	char lng[200];
	memset(lng, 'x', sizeof(lng));
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	cr_assert_eq(ctl_listen(lng), -ENAMETOOLONG);
}

/* ---- siptlsctl against a fake daemon ----------------------------------------------------- */

struct run {
	int status;
	char out[8192], err[2048];
};

static void slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
}

/* runs siptlsctl with argv; when lfd >= 0, accepts one connection on it, checks the request
 * line equals want_req, and answers with reply */
static void run_ctl(const char *const *argv, int lfd, const char *want_req, const char *reply,
                    struct run *res)
{
	int po[2], pe[2];
	cr_assert_eq(pipe(po), 0);
	cr_assert_eq(pipe(pe), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(SIPTLSCTL_PATH, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (lfd >= 0) {
		int c = accept(lfd, NULL, NULL);
		cr_assert_geq(c, 0);
		char req[CTL_LINE_MAX + 1];
		size_t n = 0;
		ssize_t r;
		while (n < CTL_LINE_MAX && (r = read(c, req + n, CTL_LINE_MAX - n)) > 0)
			n += (size_t)r; /* the client half-closes after its line */
		req[n] = '\0';
		cr_assert_str_eq(req, want_req);
		cr_assert_eq(write(c, reply, strlen(reply)), (ssize_t)strlen(reply));
		close(c);
	}
	slurp(po[0], res->out, sizeof(res->out));
	slurp(pe[0], res->err, sizeof(res->err));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	res->status = WEXITSTATUS(st);
}

static int fake_daemon(char *path, size_t n)
{
	make_tmpdir();
	snprintf(path, n, "%s/control", tmpdir);
	int fd = ctl_listen(path);
	cr_assert_geq(fd, 0);
	return fd;
}

Test(core_ctl, siptlsctl_prints_the_answer, .fini = rm_tmpdir)
{
	char path[128];
	struct run res;
	int lfd = fake_daemon(path, sizeof(path));
	const char *argv[] = {"siptlsctl", "--control", path, "sh", "sip",  "conn",
	                      "tcp",       "tls",       "br", "|",  "json", NULL};
	run_ctl(argv, lfd, "sh sip conn tcp tls br | json\n", "{\"totals\":{}}\nsecond line\n",
	        &res);
	cr_assert_eq(res.status, 0, "%s", res.err);
	cr_assert_str_eq(res.out, "{\"totals\":{}}\nsecond line\n");
	cr_assert_str_eq(res.err, "");
	close(lfd);
}

Test(core_ctl, siptlsctl_exit_1_on_a_daemon_error, .fini = rm_tmpdir)
{
	char path[128];
	struct run res;
	int lfd = fake_daemon(path, sizeof(path));
	const char *argv[] = {"siptlsctl", "--control",  path, "clear", "sip-ua", "tcp",
	                      "tls",       "connection", "id", "77",    NULL};
	run_ctl(argv, lfd, "clear sip-ua tcp tls connection id 77\n",
	        "% No connection with Conn-Id 77\n", &res);
	cr_assert_eq(res.status, 1);
	cr_assert_str_eq(res.out, "% No connection with Conn-Id 77\n");
	/* a "%" that is not the error prefix is an answer */
	const char *argv2[] = {"siptlsctl", "--control", path, "show", "stats", NULL};
	run_ctl(argv2, lfd, "show stats\n", "%idle 3\n", &res);
	cr_assert_eq(res.status, 0);
	/* an empty answer means the daemon did not do it */
	run_ctl(argv2, lfd, "show stats\n", "", &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "without an answer"));
	close(lfd);
}

Test(core_ctl, siptlsctl_checks_locally_first)
{
	struct run res;
	/* no daemon at this path: a 1 (not 2) proves nothing was dialled */
	const char *argv[] = {
	    "siptlsctl", "--control", "/nonexistent/ctl", "show", "sip-ua", "conn", "tcp", "tls",
	    "breif",     NULL};
	run_ctl(argv, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 1);
	cr_assert_str_eq(res.err, "% Invalid input at 'breif': expected brief | detail\n");
	cr_assert_str_eq(res.out, "");
	const char *help[] = {"siptlsctl", "--control", "/nonexistent/ctl", "help", NULL};
	run_ctl(help, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 0, "help is answered without a daemon");
	cr_assert_not_null(strstr(res.out, "show sip-ua connections tcp tls brief"));
}

Test(core_ctl, siptlsctl_exit_2_when_unreachable, .fini = rm_tmpdir)
{
	struct run res;
	const char *argv[] = {"siptlsctl", "--control", "/nonexistent/ctl", "reload", NULL};
	run_ctl(argv, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "/nonexistent/ctl: No such file or directory"), "%s",
	                   res.err);

	/* a socket file nobody accepts on */
	char path[128];
	int lfd = fake_daemon(path, sizeof(path));
	close(lfd);
	const char *argv2[] = {"siptlsctl", "--control", path, "reload", NULL};
	run_ctl(argv2, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "Connection refused"), "%s", res.err);
}

Test(core_ctl, siptlsctl_times_out_on_a_silent_daemon, .fini = rm_tmpdir)
{
	char path[128];
	struct run res;
	int lfd = fake_daemon(path, sizeof(path)); /* listens, never accepts: connect succeeds */
	const char *argv[] = {"siptlsctl", "--timeout", "1", "--control", path, "reload", NULL};
	run_ctl(argv, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "no answer within 1 s"), "%s", res.err);
	close(lfd);
}

Test(core_ctl, siptlsctl_options)
{
	struct run res;
	const char *help[] = {"siptlsctl", "--help", NULL};
	run_ctl(help, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 0);
	cr_assert_not_null(strstr(res.out, "--control PATH"));
	cr_assert_not_null(strstr(res.out, CTL_DEFAULT_PATH));
	cr_assert_not_null(strstr(res.out, "Exit status"));
	const char *ver[] = {"siptlsctl", "--version", NULL};
	run_ctl(ver, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 0);
	cr_assert_eq(strncmp(res.out, "siptlsctl ", 10), 0);
	const char *none[] = {"siptlsctl", NULL};
	run_ctl(none, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "no command given"));
	const char *badopt[] = {"siptlsctl", "--frobnicate", "reload", NULL};
	run_ctl(badopt, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	const char *badto[] = {"siptlsctl", "--timeout", "x", "reload", NULL};
	run_ctl(badto, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "--timeout"));
	char longw[CTL_LINE_MAX];
	memset(longw, 'x', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	const char *toolong[] = {"siptlsctl", "show", longw, NULL};
	run_ctl(toolong, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	cr_assert_not_null(strstr(res.err, "too long"));
}

/* ---- show crypto pki -------------------------------------------------------------------- */

Test(core_ctl, show_crypto_pki_parses_with_prefixes_and_json)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
		bool json;
	} ok[] = {
	    {"show crypto pki trustpoints", CTL_SHOW_TRUSTPT, false},
	    {"show crypto pki certificates", CTL_SHOW_CERTS, false},
	    {"sh cry pki tr", CTL_SHOW_TRUSTPT, false},
	    {"sh c p c", CTL_SHOW_CERTS, false},
	    {"SHOW CRYPTO PKI CERTIFICATES | json", CTL_SHOW_CERTS, true},
	    {"sh cry pki trust json", CTL_SHOW_TRUSTPT, true},
	};
	static const struct {
		const char *line, *err;
	} bad[] = {
	    {"show crypto", "% Incomplete command: expected pki"},
	    {"show crypto key", "% Invalid input at 'key': expected pki"},
	    {"show crypto pki", "% Incomplete command: expected trustpoints | certificates"},
	    {"show crypto pki crls",
	     "% Invalid input at 'crls': expected trustpoints | certificates"},
	    {"show crypto pki trustpoints EDGE",
	     "% Invalid input at 'EDGE': expected '| json' or end of line"},
	};
	struct ctl_request r;
	char err[CTL_ERR_MAX];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(parse(ok[i].line, &r, err), 0, "%s: %s", ok[i].line, err);
		cr_assert_eq(r.cmd, ok[i].cmd, "%s", ok[i].line);
		cr_assert_eq(r.json, ok[i].json, "%s", ok[i].line);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].line, &r, err), -EINVAL, "%s", bad[i].line);
		cr_assert_str_eq(err, bad[i].err, "%s", bad[i].line);
	}
}

#define PKI_NOW INT64_C(1758870957) /* 07:15:57 UTC Sep 26 2025 */
#define PKI_DAY INT64_C(86400)

/* EDGE: its certificate (ending in `days` days and 1 hour) and its CA; BARE: nothing */
static void pki_rows(struct ctl_pki_cert *c, int64_t days)
{
	memset(c, 0, 3 * sizeof(*c));
	for (int i = 0; i < 2; i++) {
		snprintf(c[i].trustpoint, sizeof(c[i].trustpoint), "EDGE");
		snprintf(c[i].issuer, sizeof(c[i].issuer), "CN=Test CA");
	}
	c[0].kind = CTL_PKI_OWN;
	snprintf(c[0].subject, sizeof(c[0].subject), "CN=cube.example.com,O=Ex");
	snprintf(c[0].serial, sizeof(c[0].serial), "07");
	c[0].not_before = PKI_NOW - 10 * PKI_DAY;
	c[0].not_after = PKI_NOW + days * PKI_DAY + 3600;
	c[1].kind = CTL_PKI_CA;
	snprintf(c[1].subject, sizeof(c[1].subject), "CN=Test CA");
	snprintf(c[1].serial, sizeof(c[1].serial), "01");
	c[1].not_before = PKI_NOW - 100 * PKI_DAY;
	c[1].not_after = PKI_NOW + 3650 * PKI_DAY;
	snprintf(c[2].trustpoint, sizeof(c[2].trustpoint), "BARE");
	c[2].kind = CTL_PKI_NONE;
}

static char *pki_print(int (*fn)(FILE *, const struct ctl_pki_cert *, size_t, int64_t),
                       const struct ctl_pki_cert *c, size_t n, int64_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	cr_assert_eq(fn(out, c, n, now), 0);
	fclose(out);
	return text;
}

Test(core_ctl, pki_certificates_in_the_routers_layout_with_days_left)
{
	struct ctl_pki_cert c[3];
	char *t;

	pki_rows(c, 12);
	t = pki_print(ctl_print_pki_certs, c, 3, PKI_NOW);
	cr_assert(strstr(t,
	                 "Certificate\n  Status: Available\n  Certificate Serial Number (hex): 07\n"
	                 "  Certificate Usage: General Purpose\n  Issuer:\n    CN=Test CA\n"
	                 "  Subject:\n    CN=cube.example.com,O=Ex\n  Validity Date:\n"
	                 "    start date: 07:15:57 UTC Sep 16 2025\n"
	                 "    end   date: 08:15:57 UTC Oct 08 2025\n"
	                 "    days until expiry: 12\n"
	                 "    ** expires within 30 days: renew it (crypto pki enroll, import)\n"
	                 "  Associated Trustpoints: EDGE\n"),
	          "%s", t);
	cr_assert(strstr(t, "\nCA Certificate\n  Status: Available\n"), "%s", t);
	cr_assert(strstr(t, "    days until expiry: 3650\n  Associated"),
	          "the CA is not flagged: %s", t);
	cr_assert_null(strstr(t, "BARE"), "a trustpoint without certificates has none to list");
	free(t);

	pki_rows(c, 30);
	t = pki_print(ctl_print_pki_certs, c, 3, PKI_NOW);
	cr_assert(strstr(t, "days until expiry: 30\n"), "%s", t);
	cr_assert_null(strstr(t, "**"), "30 days left is not within 30 days: %s", t);
	free(t);

	pki_rows(c, 5);
	t = pki_print(ctl_print_pki_certs, c, 3, PKI_NOW + 6 * PKI_DAY);
	cr_assert(strstr(t, "Status: Expired"), "%s", t);
	cr_assert(strstr(t, "days until expiry: -1\n    ** expired"), "%s", t);
	free(t);
	t = pki_print(ctl_print_pki_certs, c, 3, PKI_NOW - 11 * PKI_DAY);
	cr_assert(strstr(t, "Status: Not yet valid"), "%s", t);
	free(t);

	t = pki_print(ctl_print_pki_certs, c + 2, 1, PKI_NOW);
	cr_assert(strstr(t, "No certificates"), "%s", t);
	free(t);
}

Test(core_ctl, pki_trustpoints_name_the_ca_and_the_certificate)
{
	struct ctl_pki_cert c[3];
	char *t;

	pki_rows(c, 12);
	t = pki_print(ctl_print_pki_trustpoints, c, 3, PKI_NOW);
	cr_assert(strstr(t, "Trustpoint EDGE:\n    Subject Name:\n    CN=Test CA\n"
	                    "          Serial Number (hex): 01\n    Certificate configured.\n"
	                    "    Certificate Subject Name:\n    CN=cube.example.com,O=Ex\n"
	                    "          Serial Number (hex): 07\n"
	                    "          Status: Available, end date: 08:15:57 UTC Oct 08 2025\n"
	                    "          days until expiry: 12\n          ** expires within 30 days"),
	          "%s", t);
	cr_assert(strstr(t, "Trustpoint BARE:\n    No CA certificate (peers cannot be verified).\n"
	                    "    No certificate configured.\n"),
	          "%s", t);
	free(t);
	t = pki_print(ctl_print_pki_trustpoints, c, 0, PKI_NOW);
	cr_assert_str_eq(t, "No trustpoints configured\n");
	free(t);
}

Test(core_ctl, pki_json_groups_by_trustpoint)
{
	struct ctl_pki_cert c[3];
	char *t;

	pki_rows(c, 12);
	snprintf(c[0].subject, sizeof(c[0].subject), "CN=\"q\"\\,O=x");
	t = pki_print(ctl_print_pki_json, c, 3, PKI_NOW);
	cr_assert(json_valid(t), "%s", t);
	cr_assert(strstr(t, "{\"trustpoints\":[{\"name\":\"EDGE\",\"certificates\":[{\"kind\":"
	                    "\"certificate\",\"subject\":\"CN=\\\"q\\\"\\\\,O=x\""),
	          "%s", t);
	cr_assert(strstr(t, "\"days_left\":12},{\"kind\":\"ca\""), "%s", t);
	cr_assert(strstr(t, "{\"name\":\"BARE\",\"certificates\":[]}]}\n"), "%s", t);
	free(t);
	t = pki_print(ctl_print_pki_json, c, 0, PKI_NOW);
	cr_assert_str_eq(t, "{\"trustpoints\":[]}\n");
	free(t);
}

Test(core_ctl, siptlsctl_pki_runs_offline)
{
	struct run res;
	const char *small[] = {"siptlsctl",    "pki",   "--pki-dir", "/nonexistent",
	                       "crypto",       "key",   "generate",  "rsa",
	                       "general-keys", "label", "x",         "modulus",
	                       "1024",         NULL};
	run_ctl(small, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 1, "%s", res.err);
	cr_assert_not_null(strstr(res.err, "below 2048 bits"), "%s", res.err);
	const char *nocfg[] = {"siptlsctl", "pki", "crypto", "pki", "enroll", "TP", NULL};
	run_ctl(nocfg, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 1);
	cr_assert_not_null(strstr(res.err, "needs the configuration"), "%s", res.err);
	const char *typo[] = {"siptlsctl", "pki", "crypto", "pkx", NULL};
	run_ctl(typo, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 1);
	cr_assert_not_null(strstr(res.err, "Invalid input at 'pkx': expected key | pki"), "%s",
	                   res.err);
	const char *none[] = {"siptlsctl", "pki", NULL};
	run_ctl(none, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 2);
	const char *help[] = {"siptlsctl", "pki", "--help", NULL};
	run_ctl(help, -1, NULL, NULL, &res);
	cr_assert_eq(res.status, 0);
	cr_assert_not_null(strstr(res.out, "crypto pki import TP certificate"));
}
