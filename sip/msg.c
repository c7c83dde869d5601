/* The scanner: frames one SIP message on a byte stream and indexes its header fields.
 *
 * One pass over the head, line by line. Line ends are found 16 bytes at a time (sip/eol.h:
 * SSE2 or NEON, with a portable twin), names are matched to ids, values are only trimmed. The body is skipped by Content-Length. Nothing is
 * copied: every field is a slice into the caller's buffer.
 */
#include "sip/msg.h"

#include <string.h>

#include "sip/chars.h"
#include "sip/eol.h"

/* ---- line ends -------------------------------------------------------------------------- */

/* The CR ending the line at p, skipping quoted-pair NULs (a backslash then NUL is legal in a
 * quoted string, RFC 4475 3.1.1.2); anything else sip_eol_find stops at ends the search. */
static const char *line_end(const char *p, const char *stop)
{
	const char *q = sip_eol_find(p, stop);
	while (q < stop && *q == '\0' && q > p && q[-1] == '\\')
		q = sip_eol_find(q + 1, stop);
	return q;
}

/* ---- names and ids ---------------------------------------------------------------------- */

struct hdr_name {
	const char *name;
	unsigned char len;
	char compact;
};

static const struct hdr_name hdr_names[SIP_H__COUNT] = {
	[SIP_H_VIA] = { "Via", 3, 'v' },
	[SIP_H_ROUTE] = { "Route", 5, 0 },
	[SIP_H_RECORD_ROUTE] = { "Record-Route", 12, 0 },
	[SIP_H_MAX_FORWARDS] = { "Max-Forwards", 12, 0 },
	[SIP_H_CONTENT_LENGTH] = { "Content-Length", 14, 'l' },
	[SIP_H_CALL_ID] = { "Call-ID", 7, 'i' },
	[SIP_H_CSEQ] = { "CSeq", 4, 0 },
	[SIP_H_FROM] = { "From", 4, 'f' },
	[SIP_H_TO] = { "To", 2, 't' },
	[SIP_H_CONTACT] = { "Contact", 7, 'm' },
	[SIP_H_CONTENT_TYPE] = { "Content-Type", 12, 'c' },
	[SIP_H_CONTENT_ENCODING] = { "Content-Encoding", 16, 'e' },
	[SIP_H_SUBJECT] = { "Subject", 7, 's' },
	[SIP_H_SUPPORTED] = { "Supported", 9, 'k' },
	[SIP_H_EVENT] = { "Event", 5, 'o' },
	[SIP_H_ALLOW_EVENTS] = { "Allow-Events", 12, 'u' },
	[SIP_H_REFER_TO] = { "Refer-To", 8, 'r' },
	[SIP_H_SESSION_EXPIRES] = { "Session-Expires", 15, 'x' },
	[SIP_H_IDENTITY] = { "Identity", 8, 'y' },
	[SIP_H_REFERRED_BY] = { "Referred-By", 11, 'b' },
	[SIP_H_REQUIRE] = { "Require", 7, 0 },
	[SIP_H_PROXY_REQUIRE] = { "Proxy-Require", 13, 0 },
	[SIP_H_EXPIRES] = { "Expires", 7, 0 },
};

/* compact forms (RFC 3261 7.3.3 and the extensions named above), by lower-case letter */
static const unsigned char compact_ids[26] = {
	['b' - 'a'] = SIP_H_REFERRED_BY,  ['c' - 'a'] = SIP_H_CONTENT_TYPE,
	['e' - 'a'] = SIP_H_CONTENT_ENCODING, ['f' - 'a'] = SIP_H_FROM,
	['i' - 'a'] = SIP_H_CALL_ID,      ['k' - 'a'] = SIP_H_SUPPORTED,
	['l' - 'a'] = SIP_H_CONTENT_LENGTH, ['m' - 'a'] = SIP_H_CONTACT,
	['o' - 'a'] = SIP_H_EVENT,        ['r' - 'a'] = SIP_H_REFER_TO,
	['s' - 'a'] = SIP_H_SUBJECT,      ['t' - 'a'] = SIP_H_TO,
	['u' - 'a'] = SIP_H_ALLOW_EVENTS, ['v' - 'a'] = SIP_H_VIA,
	['x' - 'a'] = SIP_H_SESSION_EXPIRES, ['y' - 'a'] = SIP_H_IDENTITY,
};

/* Is name (token characters) equal to lower, a lower-case known name, ignoring case? OR-ing
 * 0x20 folds A-Z onto a-z and leaves digits and '-' alone; among bytes a token may hold only
 * letters fold onto letters, so the compare is exact, eight bytes at a time. */
static bool name_is(const char *name, const char *lower, size_t n)
{
	for (; n >= 8; n -= 8, name += 8, lower += 8) {
		uint64_t a, b;
		memcpy(&a, name, 8);
		memcpy(&b, lower, 8);
		if ((a | 0x2020202020202020ull) != b)
			return false;
	}
	for (; n; n--)
		if ((unsigned char)(*name++ | 0x20) != (unsigned char)*lower++)
			return false;
	return true;
}

/* long names by length; lower-case copies of hdr_names for name_is */
static const struct {
	const char *lower;
	unsigned char id;
} long_names[] = {
	{ "to", SIP_H_TO },
	{ "via", SIP_H_VIA },
	{ "cseq", SIP_H_CSEQ },
	{ "from", SIP_H_FROM },
	{ "route", SIP_H_ROUTE },
	{ "event", SIP_H_EVENT },
	{ "call-id", SIP_H_CALL_ID },
	{ "contact", SIP_H_CONTACT },
	{ "subject", SIP_H_SUBJECT },
	{ "require", SIP_H_REQUIRE },
	{ "expires", SIP_H_EXPIRES },
	{ "refer-to", SIP_H_REFER_TO },
	{ "identity", SIP_H_IDENTITY },
	{ "supported", SIP_H_SUPPORTED },
	{ "referred-by", SIP_H_REFERRED_BY },
	{ "record-route", SIP_H_RECORD_ROUTE },
	{ "max-forwards", SIP_H_MAX_FORWARDS },
	{ "content-type", SIP_H_CONTENT_TYPE },
	{ "allow-events", SIP_H_ALLOW_EVENTS },
	{ "proxy-require", SIP_H_PROXY_REQUIRE },
	{ "content-length", SIP_H_CONTENT_LENGTH },
	{ "session-expires", SIP_H_SESSION_EXPIRES },
	{ "content-encoding", SIP_H_CONTENT_ENCODING },
};

/* first index in long_names of each length 0..16 (the table is sorted by length) */
static const unsigned char long_first[18] = {
	0, 0, 0, 1, 2, 4, 6, 6, 11, 13, 14, 14, 15, 19, 20, 21, 22, 23,
};

static enum sip_hdr_id long_id(struct slice n)
{
	if (n.n >= 17)
		return SIP_H_OTHER;
	for (unsigned i = long_first[n.n]; i < long_first[n.n + 1]; i++)
		if (long_names[i].lower[0] == (n.p[0] | 0x20) && name_is(n.p, long_names[i].lower, n.n))
			return (enum sip_hdr_id)long_names[i].id;
	return SIP_H_OTHER;
}

enum sip_hdr_id sip_hdr_id_of(struct slice name)
{
	if (name.n == 1) {
		unsigned c = (unsigned char)name.p[0] | 0x20u;
		return c - 'a' < 26u ? (enum sip_hdr_id)compact_ids[c - 'a'] : SIP_H_OTHER;
	}
	return long_id(name);
}

struct slice sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_H__COUNT || id == SIP_H_OTHER)
		return (struct slice){ 0 };
	return slice_make(hdr_names[id].name, hdr_names[id].len);
}

/* ---- methods ---------------------------------------------------------------------------- */

static const struct slice method_names[SIP_M__COUNT] = {
	[SIP_M_INVITE] = SLICE_LIT("INVITE"),     [SIP_M_ACK] = SLICE_LIT("ACK"),
	[SIP_M_BYE] = SLICE_LIT("BYE"),           [SIP_M_CANCEL] = SLICE_LIT("CANCEL"),
	[SIP_M_OPTIONS] = SLICE_LIT("OPTIONS"),   [SIP_M_REGISTER] = SLICE_LIT("REGISTER"),
	[SIP_M_PRACK] = SLICE_LIT("PRACK"),       [SIP_M_SUBSCRIBE] = SLICE_LIT("SUBSCRIBE"),
	[SIP_M_NOTIFY] = SLICE_LIT("NOTIFY"),     [SIP_M_PUBLISH] = SLICE_LIT("PUBLISH"),
	[SIP_M_INFO] = SLICE_LIT("INFO"),         [SIP_M_REFER] = SLICE_LIT("REFER"),
	[SIP_M_MESSAGE] = SLICE_LIT("MESSAGE"),   [SIP_M_UPDATE] = SLICE_LIT("UPDATE"),
};

/* Methods are case-sensitive (RFC 3261 7.1). */
enum sip_method sip_method_of(struct slice t)
{
	for (int m = 1; m < SIP_M__COUNT; m++)
		if (slice_eq(t, method_names[m]))
			return (enum sip_method)m;
	return SIP_M_OTHER;
}

struct slice sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= SIP_M__COUNT)
		return (struct slice){ 0 };
	return method_names[m];
}

/* ---- character classes ------------------------------------------------------------------ */

static bool all_token(struct slice s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!sip_is_token((unsigned char)s.p[i]))
			return false;
	return true;
}

/* ---- start line ------------------------------------------------------------------------- */

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; literals are case-insensitive (RFC 3261 7.1).
 * 0: SIP/2.0; -SIP_E_VERSION: well-formed but another version; -SIP_E_START_LINE: not one. */
static int check_version(struct slice v)
{
	if (!slice_case_prefix(v, SLICE_LIT("SIP/")))
		return -SIP_E_START_LINE;
	struct slice num = slice_sub(v, 4, v.n);
	size_t dot = slice_find(num, '.');
	unsigned long long a, b;
	if (dot == num.n || !slice_to_u64(slice_sub(num, 0, dot), 999, &a) ||
	    !slice_to_u64(slice_sub(num, dot + 1, num.n), 999, &b))
		return -SIP_E_START_LINE;
	return a == 2 && b == 0 ? 0 : -SIP_E_VERSION;
}

/* Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP each (RFC 4475
 * 3.1.2.9 lwsstart, 3.1.2.10 trws); the URI holds no LWS, '<', '>' or '"' (3.1.2.7, 3.1.2.8). */
static int parse_request_line(struct slice l, struct sip_msg *m)
{
	size_t sp1 = slice_find(l, ' ');
	if (sp1 == l.n)
		return -SIP_E_START_LINE;
	struct slice rest = slice_sub(l, sp1 + 1, l.n);
	size_t sp2 = slice_find(rest, ' ');
	if (sp2 == rest.n)
		return -SIP_E_START_LINE;
	m->method = slice_sub(l, 0, sp1);
	m->ruri = slice_sub(rest, 0, sp2);
	if (!all_token(m->method) || m->ruri.n == 0 || slice_find(m->ruri, ':') == m->ruri.n)
		return -SIP_E_START_LINE;
	for (size_t i = 0; i < m->ruri.n; i++) {
		unsigned char c = (unsigned char)m->ruri.p[i];
		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"')
			return -SIP_E_START_LINE;
	}
	m->method_id = sip_method_of(m->method);
	m->kind = SIP_KIND_REQUEST;
	return check_version(slice_sub(rest, sp2 + 1, rest.n));
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; Status-Code is 3 digits
 * (RFC 4475 3.1.2.19 bigcode). An empty reason is allowed (3.1.1.13 noreason). */
static int parse_status_line(struct slice l, struct sip_msg *m)
{
	size_t sp = slice_find(l, ' ');
	int rc = check_version(slice_sub(l, 0, sp));
	if (rc < 0)
		return rc;
	struct slice rest = sp < l.n ? slice_sub(l, sp + 1, l.n) : (struct slice){ 0 };
	size_t sp2 = slice_find(rest, ' ');
	unsigned long long code;
	if (sp2 != 3 && !(sp2 == rest.n && rest.n == 3))
		return -SIP_E_START_LINE;
	if (!slice_to_u64(slice_sub(rest, 0, 3), 699, &code) || code < 100)
		return -SIP_E_START_LINE;
	m->kind = SIP_KIND_RESPONSE;
	m->status = (unsigned)code;
	m->reason = sp2 < rest.n ? slice_sub(rest, 4, rest.n) : slice_sub(rest, 3, 3);
	return 0;
}

static int parse_start_line(struct slice l, struct sip_msg *m)
{
	m->start_line = l;
	/* a method is a token and '/' is not a token char, so "SIP/" starts only responses */
	if (slice_case_prefix(l, SLICE_LIT("SIP/")))
		return parse_status_line(l, m);
	return parse_request_line(l, m);
}

/* ---- header fields ---------------------------------------------------------------------- */

static void index_header(struct sip_msg *m, uint32_t i)
{
	enum sip_hdr_id id = m->hdr[i].id;
	if (id != SIP_H_OTHER && m->first[id] == 0)
		m->first[id] = (uint16_t)(i + 1);
}

/* message-header = field-name HCOLON field-value, HCOLON = *( SP / HTAB ) ":" SWS */
static int parse_field(const char *line, const char *cr, struct sip_hdr *h)
{
	const char *p = line;
	while (p < cr && sip_is_token((unsigned char)*p))
		p++;
	if (p == line)
		return -SIP_E_HEADER;
	h->name = slice_make(line, (size_t)(p - line));
	while (p < cr && (*p == ' ' || *p == '\t'))
		p++;
	if (p == cr || *p != ':')
		return -SIP_E_HEADER;
	h->value = slice_trim(slice_make(p + 1, (size_t)(cr - p - 1)));
	if (h->value.n == 0)
		h->value.p = cr; /* an empty value still points into the message */
	h->id = sip_hdr_id_of(h->name);
	return 0;
}

/* A line starting with SP or HTAB continues the previous field (RFC 3261 7.3.1): the value
 * grows to the end of this line and keeps the CRLF WSP inside it. */
static int fold_into(struct sip_msg *m, const char *cr)
{
	if (m->nhdr == 0)
		return -SIP_E_HEADER;
	struct sip_hdr *h = &m->hdr[m->nhdr - 1];
	/* value.p points into this field even when it is empty (parse_field) */
	struct slice v = slice_trim(slice_make(h->value.p, (size_t)(cr - h->value.p)));
	if (v.n)
		h->value = v;
	h->line.n = (size_t)(cr + 2 - h->line.p);
	return 0;
}

/* Content-Length: every occurrence must be a number and all must agree (RFC 3261 20.14). */
static int content_length(struct sip_msg *m, uint32_t max)
{
	const struct sip_hdr *h = sip_msg_get(m, SIP_H_CONTENT_LENGTH);
	if (h == NULL)
		return -SIP_E_NO_CLEN;
	unsigned long long first = 0;
	for (bool seen = false; h; h = sip_msg_next(m, h)) {
		unsigned long long v;
		/* a value above the message limit is answered 513, not 400: keep it apart */
		if (!slice_to_u64(h->value, ~0ull, &v) || (seen && v != first)) {
			m->err_off = (uint32_t)(h->line.p - m->start_line.p);
			return -SIP_E_CLEN;
		}
		first = v;
		seen = true;
	}
	if (first > max)
		return -SIP_E_TOO_BIG;
	m->content_length = (uint32_t)first;
	return 0;
}

/* ---- the scanner ------------------------------------------------------------------------ */

void sip_msg_init(struct sip_msg *m, struct sip_hdr *hdr, uint32_t cap)
{
	memset(m, 0, sizeof(*m));
	m->hdr = hdr;
	m->cap = cap;
}

static void reset_fields(struct sip_msg *m)
{
	struct sip_hdr *hdr = m->hdr;
	uint32_t cap = m->cap, scanned = m->scanned_, need = m->need_;
	memset(m, 0, sizeof(*m));
	m->hdr = hdr;
	m->cap = cap;
	m->scanned_ = scanned;
	m->need_ = need;
}

/* RFC 5626 3.5.1: "\r\n\r\n" is a ping, a lone "\r\n" a pong. */
static int scan_keepalive(const char *buf, size_t len, struct sip_msg *m)
{
	if (len < 2)
		return 0;
	if (buf[1] != '\n')
		return -SIP_E_EOL;
	if (len >= 4 && buf[2] == '\r' && buf[3] == '\n') {
		m->kind = SIP_KIND_PING;
		m->raw = slice_make(buf, 4);
		return 4;
	}
	if (len == 2 || (len == 3 && buf[2] == '\r'))
		return 0; /* may still become a ping */
	m->kind = SIP_KIND_PONG;
	m->raw = slice_make(buf, 2);
	return 2;
}

/* Returns the length of the head (> 0), 0 when incomplete, or -error. */
static int scan_head(const char *buf, const char *end, const struct sip_limits *lim,
		     struct sip_msg *m)
{
	uint32_t max_hdr = lim->max_headers < m->cap ? lim->max_headers : m->cap;
	if (max_hdr > UINT16_MAX - 1)
		max_hdr = UINT16_MAX - 1; /* first[] holds 1 + index in 16 bits */
	const char *line = buf;
	for (;;) {
		const char *stop = end - line > (ptrdiff_t)lim->max_line ? line + lim->max_line : end;
		const char *cr = line_end(line, stop);
		m->err_off = (uint32_t)(line - buf);
		if (cr == stop)
			return stop == end ? 0 : -SIP_E_LINE_TOO_LONG;
		if (*cr != '\r')
			return -SIP_E_EOL;
		if (cr + 1 == end)
			return 0;
		if (cr[1] != '\n')
			return -SIP_E_EOL;
		if (cr + 2 - buf > (ptrdiff_t)lim->max_msg)
			return -SIP_E_TOO_BIG;
		int rc;
		if (line == buf) {
			rc = parse_start_line(slice_make(line, (size_t)(cr - line)), m);
		} else if (cr == line) {
			return (int)(cr + 2 - buf); /* the empty line: end of head */
		} else if (*line == ' ' || *line == '\t') {
			rc = fold_into(m, cr);
		} else if (m->nhdr >= max_hdr) {
			rc = -SIP_E_TOO_MANY_HEADERS;
		} else {
			struct sip_hdr *h = &m->hdr[m->nhdr];
			rc = parse_field(line, cr, h);
			if (rc == 0) {
				h->line = slice_make(line, (size_t)(cr + 2 - line));
				index_header(m, m->nhdr++);
			}
		}
		if (rc < 0)
			return rc;
		line = cr + 2;
	}
}

/* Has the end of the head ("\r\n\r\n") arrived since the last look? Keeps a peer that sends
 * one byte at a time from making every call re-parse the whole head. */
static bool head_may_be_complete(const char *buf, size_t len, uint32_t scanned)
{
	size_t from = scanned > 3 ? scanned - 3 : 0;
	return len > from && memmem(buf + from, len - from, "\r\n\r\n", 4) != NULL;
}

int sip_msg_scan(const char *buf, size_t len, const struct sip_limits *lim, struct sip_msg *m)
{
	if (len == 0)
		return 0;
	if (buf[0] == '\r' || buf[0] == '\n')
		return buf[0] == '\n' ? -SIP_E_EOL : scan_keepalive(buf, len, m);
	if (m->need_ && len < m->need_)
		return 0;
	if (m->scanned_ && !m->need_ && !head_may_be_complete(buf, len, m->scanned_)) {
		if (len > lim->max_msg)
			return -SIP_E_TOO_BIG;
		m->scanned_ = (uint32_t)len;
		return 0;
	}
	reset_fields(m);
	int head = scan_head(buf, buf + len, lim, m);
	if (head <= 0) {
		/* skip ahead next time only once the start line proved to be SIP: garbage is
		 * refused as soon as its first line is in, not when the buffer is full */
		if (head == 0 && m->start_line.p)
			m->scanned_ = (uint32_t)len;
		return head;
	}
	m->head_len = (uint32_t)head;
	m->err_off = (uint32_t)head;
	int rc = content_length(m, lim->max_msg);
	if (rc < 0)
		return rc;
	uint64_t total = (uint64_t)head + m->content_length;
	if (total > lim->max_msg)
		return -SIP_E_TOO_BIG;
	if (len < total) {
		m->need_ = (uint32_t)total;
		return 0;
	}
	m->body = slice_make(buf + head, m->content_length);
	m->raw = slice_make(buf, (size_t)total);
	m->scanned_ = m->need_ = 0;
	return (int)total;
}

/* ---- lookups ---------------------------------------------------------------------------- */

const struct sip_hdr *sip_msg_get(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_H__COUNT || id == SIP_H_OTHER || m->first[id] == 0)
		return NULL;
	return &m->hdr[m->first[id] - 1];
}

const struct sip_hdr *sip_msg_next(const struct sip_msg *m, const struct sip_hdr *h)
{
	for (const struct sip_hdr *n = h + 1; n < m->hdr + m->nhdr; n++) {
		if (n->id != h->id)
			continue;
		if (h->id != SIP_H_OTHER || slice_case_eq(n->name, h->name))
			return n;
	}
	return NULL;
}

const struct sip_hdr *sip_msg_find(const struct sip_msg *m, struct slice name)
{
	enum sip_hdr_id id = sip_hdr_id_of(name);
	if (id != SIP_H_OTHER)
		return sip_msg_get(m, id);
	for (uint32_t i = 0; i < m->nhdr; i++)
		if (m->hdr[i].id == SIP_H_OTHER && slice_case_eq(m->hdr[i].name, name))
			return &m->hdr[i];
	return NULL;
}

/* ---- comma lists ------------------------------------------------------------------------ */

int sip_list_next(struct slice *rest, struct slice *item)
{
	for (;;) {
		/* the empty slice's NULL must not be offset, even by 0 (C11 6.5.6) */
		if (rest->p == NULL || rest->n == 0)
			return 0;
		const char *p = rest->p, *end = rest->p + rest->n;
		bool quoted = false;
		int angle = 0;
		const char *q = p;
		for (; q < end; q++) {
			if (quoted) {
				if (*q == '\\' && q + 1 < end)
					q++;
				else if (*q == '"')
					quoted = false;
			} else if (*q == '"') {
				quoted = true;
			} else if (*q == '<') {
				angle = 1;
			} else if (*q == '>') {
				angle = 0;
			} else if (*q == ',' && !angle) {
				break;
			}
		}
		if (quoted || angle)
			return -SIP_E_HEADER;
		*item = slice_trim(slice_make(p, (size_t)(q - p)));
		*rest = q < end ? slice_make(q + 1, (size_t)(end - q - 1)) : slice_make(end, 0);
		if (item->n)
			return 1;
	}
}
