/* sip_edit: proxy edits (RFC 3261 16.6, 16.7) as splices over the original message.
 *
 * A splice deletes sp.del bytes at sp.off of the original and puts sp.add_n new bytes from the
 * scratch space there. Splices never overlap: two that touch the same original bytes (a
 * deletion inside another deletion, an insertion strictly inside a deleted range) are refused
 * with -SIP_E_MISMATCH, because the result would depend on call order and could cut a header
 * in half. Insertions at one offset are emitted in call order (sp.seq), except for the "push"
 * operations, which merge into their earlier insertion so that the newest field is on top.
 *
 * Every operation checks scratch and splice space before touching the edit, so a failure
 * leaves it as it was.
 */
#include "sip/edit.h"

#include <string.h>

#include "sip/scalar.h"

/* RFC 3261 16.6 step 3: a proxy adds Max-Forwards with this value when the request has none */
#define SIP_EDIT_MAX_FORWARDS_DEFAULT 70

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m)
{
	e->m = m;
	e->nsp = 0;
	e->used = 0;
}

/* ---- splice engine ---- */

/* offset of p inside the message, or UINT32_MAX when p is not inside it */
static uint32_t edit_off(const struct sip_edit *e, const char *p)
{
	const struct slice raw = e->m->raw;
	if (p < raw.p || p > raw.p + raw.n)
		return UINT32_MAX;
	return (uint32_t)(p - raw.p);
}

/* would a splice [off, off + del) disturb bytes another splice already owns? */
static bool edit_conflicts(const struct sip_edit *e, uint32_t off, uint32_t del)
{
	for (uint32_t i = 0; i < e->nsp; i++) {
		const struct sip_splice *s = &e->sp[i];
		if (del && s->del) {
			if (off < s->off + s->del && s->off < off + del)
				return true;
		} else if (s->del) {
			if (off > s->off && off < s->off + s->del)
				return true;
		} else if (del) {
			if (s->off > off && s->off < off + del)
				return true;
		}
	}
	return false;
}

/* Records the splice; the caller has written its add_n new bytes at scratch[used]. */
static int edit_splice(struct sip_edit *e, uint32_t off, uint32_t del, uint32_t add_n)
{
	if (off == UINT32_MAX || off + (uint64_t)del > e->m->raw.n)
		return -SIP_E_HEADER;
	if (e->nsp >= SIP_EDIT_MAX_SPLICES || add_n > SIP_EDIT_SCRATCH - e->used)
		return -SIP_E_NOSPACE;
	if (edit_conflicts(e, off, del))
		return -SIP_E_MISMATCH;
	e->sp[e->nsp] = (struct sip_splice){
	    .off = off, .del = del, .add_off = e->used, .add_n = add_n, .seq = e->nsp};
	e->nsp++;
	e->used += add_n;
	return 0;
}

/* A bounded writer over the free part of the scratch space; ok goes false on overflow. */
struct edit_out {
	char *p;
	uint32_t n, cap;
	bool ok;
};

static struct edit_out edit_out_start(struct sip_edit *e)
{
	return (struct edit_out){e->scratch + e->used, 0, SIP_EDIT_SCRATCH - e->used, true};
}

static void edit_put(struct edit_out *o, struct slice s)
{
	if (!o->ok || s.n > o->cap - o->n) {
		o->ok = false;
		return;
	}
	memcpy(o->p + o->n, s.p, s.n);
	o->n += (uint32_t)s.n;
}

/* No CR, LF or NUL: a value written into a header line must not start a new line (header
 * injection) nor end the head early. */
static bool edit_one_line(struct slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return false;
	return true;
}

/* where a header goes when the message has none of its kind: after the start line */
static uint32_t edit_after_start_line(const struct sip_edit *e)
{
	const struct sip_msg *m = e->m;
	if (m->nhdr)
		return edit_off(e, m->hdr[0].line.p);
	return m->head_len >= 2 ? m->head_len - 2 : UINT32_MAX;
}

/* the insertion splice at off whose new bytes start with prefix, or NULL */
static struct sip_splice *edit_find_insert(struct sip_edit *e, uint32_t off, struct slice prefix)
{
	for (uint32_t i = 0; i < e->nsp; i++) {
		struct sip_splice *s = &e->sp[i];
		if (s->off == off && s->del == 0 && s->add_n >= prefix.n &&
		    memcmp(e->scratch + s->add_off, prefix.p, prefix.n) == 0)
			return s;
	}
	return NULL;
}

/* Inserts the line at off, on top of a line this edit pushed there before: the earlier
 * insertion is rewritten as line + old bytes (its old scratch bytes are left unused). */
static int edit_push_line(struct sip_edit *e, uint32_t off, struct slice name,
                          struct edit_out *line)
{
	struct sip_splice *prev = edit_find_insert(e, off, name);
	if (!line->ok)
		return -SIP_E_NOSPACE;
	if (prev == NULL)
		return edit_splice(e, off, 0, line->n);
	if (prev->add_n > line->cap - line->n)
		return -SIP_E_NOSPACE;
	memcpy(line->p + line->n, e->scratch + prev->add_off, prev->add_n);
	prev->add_off = e->used;
	prev->add_n += line->n;
	e->used += prev->add_n;
	return 0;
}

/* ---- operations ---- */

int sip_edit_via_push(struct sip_edit *e, struct slice value)
{
	const struct sip_hdr *via = sip_msg_get(e->m, SIP_H_VIA);
	uint32_t off = via ? edit_off(e, via->line.p) : edit_after_start_line(e);
	struct edit_out o = edit_out_start(e);

	if (value.n == 0 || !edit_one_line(value))
		return -SIP_E_VIA;
	edit_put(&o, SLICE_LIT("Via: "));
	edit_put(&o, value);
	edit_put(&o, SLICE_LIT("\r\n"));
	return edit_push_line(e, off, SLICE_LIT("Via: "), &o);
}

/* Removes the first n elements of the headers with id, across fields (RFC 3261 7.3.1: "Via:
 * a, b" is the same as two Via fields, so popping one leaves "Via: b"). One splice per field:
 * a field whose every element goes loses its whole line. All or nothing. */
static int edit_pop_n(struct sip_edit *e, enum sip_hdr_id id, unsigned n, int malformed)
{
	const struct sip_hdr *h = sip_msg_get(e->m, id);
	uint32_t save_nsp = e->nsp, save_used = e->used;
	int rc = 0;

	if (h == NULL)
		return -SIP_E_MISSING;
	while (n && h && rc == 0) {
		struct slice rest = h->value, it, next;
		const char *first = NULL;
		unsigned k = 0;
		while (k < n && (rc = sip_list_next(&rest, &it)) == 1) {
			first = first ? first : it.p;
			k++;
		}
		if (rc < 0 || k == 0) {
			rc = malformed;
			break;
		}
		rc = sip_list_next(&rest, &next);
		if (rc < 0) {
			rc = malformed;
			break;
		}
		if (rc == 0)
			rc = edit_splice(e, edit_off(e, h->line.p), (uint32_t)h->line.n, 0);
		else
			rc = edit_splice(e, edit_off(e, first), (uint32_t)(next.p - first), 0);
		n -= k;
		h = sip_msg_next(e->m, h);
	}
	if (rc == 0 && n)
		rc = -SIP_E_MISSING;
	if (rc < 0) {
		e->nsp = save_nsp;
		e->used = save_used;
	}
	return rc;
}

int sip_edit_via_pop(struct sip_edit *e)
{
	return edit_pop_n(e, SIP_H_VIA, 1, -SIP_E_VIA);
}

int sip_edit_route_pop(struct sip_edit *e)
{
	return edit_pop_n(e, SIP_H_ROUTE, 1, -SIP_E_HEADER);
}

int sip_edit_route_pop_n(struct sip_edit *e, unsigned n)
{
	return edit_pop_n(e, SIP_H_ROUTE, n, -SIP_E_HEADER);
}

/* writes v in decimal */
static void edit_put_uint(struct edit_out *o, unsigned v)
{
	char d[12];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	edit_put(o, slice_make(d + i, sizeof(d) - i));
}

int sip_edit_max_forwards(struct sip_edit *e)
{
	const struct sip_hdr *h = sip_msg_get(e->m, SIP_H_MAX_FORWARDS);
	struct edit_out o = edit_out_start(e);
	unsigned v;
	int rc;

	if (h == NULL) {
		/* appended at the end of the head, away from the Via and Route blocks */
		uint32_t end = e->m->head_len >= 2 ? e->m->head_len - 2 : UINT32_MAX;
		if (edit_find_insert(e, end, SLICE_LIT("Max-Forwards:")))
			return -SIP_E_MISMATCH;
		edit_put(&o, SLICE_LIT("Max-Forwards: "));
		edit_put_uint(&o, SIP_EDIT_MAX_FORWARDS_DEFAULT);
		edit_put(&o, SLICE_LIT("\r\n"));
		return o.ok ? edit_splice(e, end, 0, o.n) : -SIP_E_NOSPACE;
	}
	rc = sip_max_forwards_parse(h->value, &v);
	if (rc < 0)
		return rc;
	if (v == 0)
		return -SIP_E_MAX_FORWARDS; /* RFC 3261 16.3 step 2: the caller answers 483 */
	edit_put_uint(&o, v - 1);
	if (!o.ok)
		return -SIP_E_NOSPACE;
	return edit_splice(e, edit_off(e, h->value.p), (uint32_t)h->value.n, o.n);
}

/* Record-Route goes above the existing Record-Route fields (RFC 3261 16.6 step 4: the proxy's
 * entry is the top one). Without any, it goes at the end of the head: not after the start
 * line, where it could land between a pushed Via and the original ones and split the Via
 * block. */
int sip_edit_record_route_push(struct sip_edit *e, struct slice uri)
{
	const struct sip_hdr *rr = sip_msg_get(e->m, SIP_H_RECORD_ROUTE);
	uint32_t off =
	    rr ? edit_off(e, rr->line.p) : (e->m->head_len >= 2 ? e->m->head_len - 2 : UINT32_MAX);
	struct edit_out o = edit_out_start(e);

	if (uri.n == 0 || !edit_one_line(uri) || slice_find(uri, '>') != uri.n)
		return -SIP_E_URI;
	edit_put(&o, SLICE_LIT("Record-Route: <"));
	edit_put(&o, uri);
	edit_put(&o, SLICE_LIT(">\r\n"));
	return edit_push_line(e, off, SLICE_LIT("Record-Route: "), &o);
}

/* A Request-URI may hold no SP (RFC 3261 25.1: Request-Line = Method SP Request-URI SP ...)
 * and no control characters. */
static bool edit_uri_ok(struct slice uri)
{
	if (uri.n == 0)
		return false;
	for (size_t i = 0; i < uri.n; i++) {
		unsigned char c = (unsigned char)uri.p[i];
		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

int sip_edit_ruri_set(struct sip_edit *e, struct slice uri)
{
	struct edit_out o = edit_out_start(e);

	if (e->m->kind != SIP_KIND_REQUEST || e->m->ruri.n == 0)
		return -SIP_E_START_LINE;
	if (!edit_uri_ok(uri))
		return -SIP_E_URI;
	edit_put(&o, uri);
	if (!o.ok)
		return -SIP_E_NOSPACE;
	return edit_splice(e, edit_off(e, e->m->ruri.p), (uint32_t)e->m->ruri.n, o.n);
}

/* ---- output ---- */

static bool edit_before(const struct sip_splice *a, const struct sip_splice *b)
{
	return a->off < b->off || (a->off == b->off && a->seq < b->seq);
}

static int edit_emit(struct iovec *iov, unsigned cap, unsigned *n, const char *p, size_t len)
{
	if (len == 0)
		return 0;
	if (*n >= cap)
		return -SIP_E_NOSPACE;
	iov[*n] = (struct iovec){.iov_base = (void *)p, .iov_len = len};
	(*n)++;
	return 0;
}

int sip_edit_iov(const struct sip_edit *e, struct iovec *iov, unsigned cap, size_t *total)
{
	struct sip_splice sp[SIP_EDIT_MAX_SPLICES];
	const struct slice raw = e->m->raw;
	unsigned n = 0;
	size_t cur = 0, sum = 0;
	int rc = 0;

	/* insertion sort: a dozen splices at most, and equal keys keep their order */
	for (uint32_t i = 0; i < e->nsp; i++) {
		uint32_t j = i;
		for (; j > 0 && edit_before(&e->sp[i], &sp[j - 1]); j--)
			sp[j] = sp[j - 1];
		sp[j] = e->sp[i];
	}
	for (uint32_t i = 0; i < e->nsp && rc == 0; i++) {
		/* several insertions at one offset: the original before it went out already */
		if (sp[i].off > cur) {
			rc = edit_emit(iov, cap, &n, raw.p + cur, sp[i].off - cur);
			sum += sp[i].off - cur;
			cur = sp[i].off;
		}
		if (rc == 0)
			rc = edit_emit(iov, cap, &n, e->scratch + sp[i].add_off, sp[i].add_n);
		sum += sp[i].add_n;
		if (sp[i].off + sp[i].del > cur)
			cur = sp[i].off + sp[i].del;
	}
	if (rc == 0)
		rc = edit_emit(iov, cap, &n, raw.p + cur, raw.n - cur);
	sum += raw.n - cur;
	if (rc < 0)
		return rc;
	if (total)
		*total = sum;
	return (int)n;
}
