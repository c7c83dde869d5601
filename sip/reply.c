/* sip_reply: responses built by the proxy itself (RFC 3261 8.2.6, 16.7).
 *
 * A response is matched to its request by the top Via branch, and to a dialog by From, To,
 * Call-ID and CSeq, so those are copied from the request as written; the To tag is added
 * when the request had none (8.2.6.2), except on 100 Trying, which never creates a dialog.
 */
#include "sip/reply.h"

#include <limits.h>
#include <string.h>

struct sip_reply_reason_entry {
	unsigned code;
	const char *text;
};

/* RFC 3261 21, plus the codes of the extensions a trunk meets (RFC 3262, 3265, 3329, 4028) */
static const struct sip_reply_reason_entry sip_reply_reasons[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {200, "OK"},
    {202, "Accepted"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {422, "Session Interval Too Small"},
    {423, "Interval Too Brief"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {494, "Security Agreement Required"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
};

struct slice sip_reply_reason(unsigned code)
{
	for (size_t i = 0; i < sizeof(sip_reply_reasons) / sizeof(sip_reply_reasons[0]); i++)
		if (sip_reply_reasons[i].code == code)
			return slice_cstr(sip_reply_reasons[i].text);
	return SLICE_LIT("Unknown");
}

/* ---- To tag ---- */

static struct slice reply_skip_lws(struct slice s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\r' || s.p[0] == '\n'))
		s = slice_sub(s, 1, s.n);
	return s;
}

/* is the parameter starting at p (just after a ';') named "tag"? */
static bool reply_param_is_tag(struct slice p)
{
	p = reply_skip_lws(p);
	if (!slice_case_prefix(p, SLICE_LIT("tag")))
		return false;
	p = reply_skip_lws(slice_sub(p, 3, p.n));
	return p.n == 0 || p.p[0] == '=' || p.p[0] == ';' || p.p[0] == ',';
}

/* Does a To value carry a tag parameter? Parameters are the ';' outside "quotes" and <...>
 * (RFC 3261 20.10: in an addr-spec without <>, every ';' starts a header parameter). */
static bool reply_has_tag(struct slice v)
{
	bool quoted = false, angle = false;

	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
		} else if (angle) {
			angle = c != '>';
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == ';' && reply_param_is_tag(slice_sub(v, i + 1, v.n))) {
			return true;
		}
	}
	return false;
}

/* ---- writer ---- */

struct reply_out {
	char *p;
	size_t n, cap;
	bool ok;
};

static void reply_put(struct reply_out *o, struct slice s)
{
	if (!o->ok || s.n > o->cap - o->n) {
		o->ok = false;
		return;
	}
	if (s.n == 0)
		return; /* s.p may be NULL: memcpy must not see it */
	memcpy(o->p + o->n, s.p, s.n);
	o->n += s.n;
}

static void reply_put_field(struct reply_out *o, struct slice name, struct slice value)
{
	reply_put(o, name);
	reply_put(o, SLICE_LIT(": "));
	reply_put(o, value);
	reply_put(o, SLICE_LIT("\r\n"));
}

static void reply_put_status(struct reply_out *o, unsigned code)
{
	char d[3] = {(char)('0' + code / 100), (char)('0' + code / 10 % 10),
	             (char)('0' + code % 10)};

	reply_put(o, SLICE_LIT("SIP/2.0 "));
	reply_put(o, slice_make(d, sizeof(d)));
	reply_put(o, SLICE_LIT(" "));
	reply_put(o, sip_reply_reason(code));
	reply_put(o, SLICE_LIT("\r\n"));
}

/* RFC 3261 8.2.6.2: To gets our tag unless the request had one (then it is in a dialog) or
 * this is a 100, which must not establish one. */
static void reply_put_to(struct reply_out *o, struct slice to, unsigned code, struct slice tag)
{
	reply_put(o, SLICE_LIT("To: "));
	reply_put(o, to);
	if (code > 100 && tag.n && !reply_has_tag(to)) {
		reply_put(o, SLICE_LIT(";tag="));
		reply_put(o, tag);
	}
	reply_put(o, SLICE_LIT("\r\n"));
}

int sip_reply_build(const struct sip_msg *req, unsigned code, struct slice to_tag,
                    struct slice extra, char *out, size_t cap)
{
	const struct sip_hdr *via = sip_msg_get(req, SIP_H_VIA);
	const struct sip_hdr *from = sip_msg_get(req, SIP_H_FROM);
	const struct sip_hdr *to = sip_msg_get(req, SIP_H_TO);
	const struct sip_hdr *cid = sip_msg_get(req, SIP_H_CALL_ID);
	const struct sip_hdr *cseq = sip_msg_get(req, SIP_H_CSEQ);
	struct reply_out o = {out, 0, cap, true};

	if (code < 100 || code > 699 || req->kind != SIP_KIND_REQUEST)
		return -SIP_E_START_LINE;
	if (!via || !from || !to || !cid || !cseq)
		return -SIP_E_MISSING;
	reply_put_status(&o, code);
	/* 8.2.6.2: every Via, in order, so the response retraces the request's path */
	for (; via; via = sip_msg_next(req, via))
		reply_put_field(&o, SLICE_LIT("Via"), via->value);
	reply_put_field(&o, SLICE_LIT("From"), from->value);
	reply_put_to(&o, to->value, code, to_tag);
	reply_put_field(&o, SLICE_LIT("Call-ID"), cid->value);
	reply_put_field(&o, SLICE_LIT("CSeq"), cseq->value);
	reply_put(&o, extra);
	reply_put(&o, SLICE_LIT("Content-Length: 0\r\n\r\n"));
	if (!o.ok || o.n > INT_MAX)
		return -SIP_E_NOSPACE;
	return (int)o.n;
}
