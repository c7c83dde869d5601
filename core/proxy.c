#include "core/proxy.h"

#include <stdio.h>
#include <string.h>

#include "sip/addr.h"
#include "sip/chars.h"
#include "sip/reply.h"
#include "sip/scalar.h"
#include "sip/uri.h"
#include "sip/via.h"

static const char *const reason_text[PROXY_R__COUNT] = {
	[PROXY_R_OK] = "forwarded",
	[PROXY_R_NO_ROUTE] = "no route (404)",
	[PROXY_R_MAX_FORWARDS] = "Max-Forwards exhausted (483)",
	[PROXY_R_LOOP] = "loop detected (482)",
	[PROXY_R_MALFORMED] = "malformed request (400)",
	[PROXY_R_URI_HEADERS] = "Request-URI with headers (400)",
	[PROXY_R_LOCAL] = "answered locally",
	[PROXY_R_ACK_NO_ROUTE] = "ACK without a route absorbed",
	[PROXY_R_VIA_NOT_OURS] = "response Via not ours",
	[PROXY_R_TRYING] = "100 Trying absorbed",
	[PROXY_R_EDIT] = "edit space exhausted (500)",
};

const char *proxy_reason_str(enum proxy_reason r)
{
	return (unsigned)r < PROXY_R__COUNT ? reason_text[r] : "unknown";
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* A bounded writer for the values we build per request (Via, Record-Route, Request-URI, token
 * contexts): what snprintf did here, without the format parsing that showed in the profile.
 * It keeps the first cap - 1 bytes, as snprintf would, and notes whether anything was cut: a
 * header value that was cut is refused (500), never sent with half a host name. */
struct sbuf {
	char *p;
	size_t n, cap;
	bool cut;
};

static struct sbuf sb_start(char *p, size_t cap)
{
	return (struct sbuf){ p, 0, cap, false };
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	size_t room = b->cap - 1 - b->n;
	if (n == 0)
		return; /* an empty slice may have no pointer at all */
	if (n > room) {
		n = room;
		b->cut = true;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void sb_slice(struct sbuf *b, struct slice s)
{
	sb_put(b, s.p, s.n);
}

static void sb_chr(struct sbuf *b, char c)
{
	sb_put(b, &c, 1);
}

static void sb_uint(struct sbuf *b, uint64_t v)
{
	char d[20];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_put(b, d + i, sizeof(d) - i);
}

/* host[:port], an IPv6 literal in brackets (RFC 3261 25.1 hostport) */
static void sb_hostport(struct sbuf *b, struct slice host, uint16_t port)
{
	bool v6 = slice_find(host, ':') < host.n;
	if (v6)
		sb_chr(b, '[');
	sb_slice(b, host);
	if (v6)
		sb_chr(b, ']');
	if (port) {
		sb_chr(b, ':');
		sb_uint(b, port);
	}
}

static void reply(struct proxy_decision *d, unsigned code, enum proxy_reason why)
{
	d->verdict = PROXY_REPLY;
	d->code = code;
	d->reason = why;
}

static bool has_tenant(const struct proxy_conf *c, uint32_t t)
{
	return t < c->ntenants;
}

/* the first n Via elements of m, across fields ("Via: a, b" and "Via: a" "Via: b" alike) */
static unsigned via_elems(const struct sip_msg *m, struct slice *out, unsigned n)
{
	unsigned got = 0;
	for (const struct sip_hdr *h = sip_msg_get(m, SIP_H_VIA); h && got < n; h = sip_msg_next(m, h)) {
		struct slice rest = h->value, it;
		while (got < n && sip_list_next(&rest, &it) == 1)
			out[got++] = it;
	}
	return got;
}

static struct slice branch_of(struct slice via_elem)
{
	struct sip_via v;
	return sip_via_parse(via_elem, &v) == 0 ? v.branch : (struct slice){ 0 };
}

bool proxy_branch_check(const struct proxy_conf *c, struct slice branch, struct slice client_branch,
			uint64_t *conn)
{
	struct slice pre = SLICE_LIT(PROXY_BRANCH_PREFIX);
	if (branch.n != PROXY_BRANCH_LEN || memcmp(branch.p, pre.p, pre.n) != 0)
		return false;
	return core_token_check(&c->key, slice_sub(branch, pre.n, branch.n), client_branch, conn);
}

/* RFC 3261 16.3 step 4: a request that already went through us is a loop. (A legitimate
 * spiral through the same proxy is not a thing a border element between two trunks sees.) */
static bool looped(const struct proxy_conf *c, const struct sip_msg *m)
{
	struct slice v[16];
	unsigned n = via_elems(m, v, 16);
	uint64_t conn;
	for (unsigned i = 0; i < n; i++) {
		/* a branch of ours has our prefix verbatim: an element without it needs no parse */
		if (!memmem(v[i].p, v[i].n, PROXY_BRANCH_PREFIX, sizeof(PROXY_BRANCH_PREFIX) - 1))
			continue;
		struct slice b = branch_of(v[i]);
		struct slice below = i + 1 < n ? branch_of(v[i + 1]) : (struct slice){ 0 };
		if (b.n == PROXY_BRANCH_LEN && proxy_branch_check(c, b, below, &conn))
			return true;
	}
	return false;
}

/* ---- Record-Route and Route ------------------------------------------------------------- */

struct rr_mark { /* what one of our Record-Route entries says */
	char side;   /* 'i' faces the caller, 'o' the callee, 'b' both (one tenant) */
	uint32_t peer;
	uint64_t conn;
	struct slice host; /* the entry's host and port: our address on that side */
	uint16_t port;
};

/* what a Record-Route token is bound to besides the connection: the side it faces, the
 * dial-peer, and the entry's own host and port (which become a Via's sent-by later) */
static int rr_context(char side, uint32_t peer, struct slice host, unsigned port, char *buf,
		      size_t cap)
{
	struct sbuf b = sb_start(buf, cap);
	sb_chr(&b, side);
	sb_chr(&b, '|');
	sb_uint(&b, peer);
	sb_chr(&b, '|');
	sb_slice(&b, host);
	sb_chr(&b, '|');
	sb_uint(&b, port);
	return (int)b.n;
}

/* Is Route element `elem` one of ours? Fills mark when it is. */
static bool route_is_ours(const struct proxy_conf *c, struct slice elem, struct rr_mark *mark)
{
	struct sip_addr a;
	struct sip_uri u;
	struct slice sd, sp, sc;
	unsigned long long peer;
	char ctx[320];
	if (sip_addr_parse(elem, &a) < 0 || sip_uri_parse(a.uri, &u) < 0)
		return false;
	if (!sip_param_get(u.params, SLICE_LIT("sd"), &sd) || sd.n != 1 ||
	    !sip_param_get(u.params, SLICE_LIT("sp"), &sp) || !slice_to_u64(sp, UINT32_MAX, &peer) ||
	    !sip_param_get(u.params, SLICE_LIT("sc"), &sc))
		return false;
	int n = rr_context(sd.p[0], (uint32_t)peer, u.host, u.port, ctx, sizeof(ctx));
	if (!core_token_check(&c->key, sc, slice_make(ctx, (size_t)n), &mark->conn))
		return false;
	mark->side = sd.p[0];
	mark->peer = (uint32_t)peer;
	mark->host = u.host;
	mark->port = (uint16_t)u.port;
	return true;
}

/* RFC 3261 16.4: our own entries on top of the Route set are removed (one, or two when we
 * double-record-routed). Returns how many; marks[0] is the topmost. */
static unsigned routes_of_ours(const struct proxy_conf *c, const struct sip_msg *m,
			       struct rr_mark marks[2])
{
	unsigned n = 0;
	for (const struct sip_hdr *h = sip_msg_get(m, SIP_H_ROUTE); h && n < 2; h = sip_msg_next(m, h)) {
		struct slice rest = h->value, it;
		while (n < 2 && sip_list_next(&rest, &it) == 1) {
			if (!route_is_ours(c, it, &marks[n]))
				return n;
			n++;
		}
	}
	return n;
}

static int push_rr(const struct proxy_conf *c, struct proxy_decision *d, uint32_t tenant, char side,
		   uint32_t peer, uint64_t conn)
{
	const struct proxy_tenant *t = &c->tenants[tenant];
	char ctx[320], tok[CORE_TOKEN_LEN], uri[400];
	int cn = rr_context(side, peer, t->host, t->port, ctx, sizeof(ctx));
	core_token_make(&c->key, conn, slice_make(ctx, (size_t)cn), tok);
	struct sbuf b = sb_start(uri, sizeof(uri));
	sb_slice(&b, t->sips ? SLICE_LIT("sips:") : SLICE_LIT("sip:"));
	sb_hostport(&b, t->host, t->port);
	sb_slice(&b, SLICE_LIT(";transport=tls;lr;sd="));
	sb_chr(&b, side);
	sb_slice(&b, SLICE_LIT(";sp="));
	sb_uint(&b, peer);
	sb_slice(&b, SLICE_LIT(";sc="));
	sb_put(&b, tok, CORE_TOKEN_LEN);
	if (b.cut)
		return -SIP_E_NOSPACE;
	return sip_edit_record_route_push(&d->edit, slice_make(uri, b.n));
}

/* ---- requests --------------------------------------------------------------------------- */

/* RFC 3261 16.3: the checks before a request may be forwarded. 0 or a reply already set.
 * *client_branch gets the top Via's branch (our token binds it). */
static int validate(const struct sip_msg *m, struct sip_uri *ruri, struct slice *client_branch,
		    struct proxy_decision *d)
{
	struct sip_via top;
	struct sip_cseq cseq;
	const struct sip_hdr *cs = sip_msg_get(m, SIP_H_CSEQ);
	if (sip_via_top(m, &top) < 0 || !sip_msg_get(m, SIP_H_CALL_ID) ||
	    !sip_msg_get(m, SIP_H_FROM) || !sip_msg_get(m, SIP_H_TO) || !cs ||
	    sip_cseq_parse(cs->value, &cseq) < 0 || !slice_eq(cseq.method, m->method)) {
		reply(d, 400, PROXY_R_MALFORMED);
		return -1;
	}
	*client_branch = top.branch;
	if (sip_uri_parse(m->ruri, ruri) < 0) {
		reply(d, 416, PROXY_R_MALFORMED); /* not sip:, sips: or tel: */
		return -1;
	}
	if (ruri->headers.n) {
		reply(d, 400, PROXY_R_URI_HEADERS);
		return -1;
	}
	return 0;
}

static bool addressed_to_us(const struct proxy_conf *c, const struct sip_uri *u)
{
	if (u->user.n)
		return false;
	for (uint32_t i = 0; i < c->ntenants; i++)
		if (slice_case_eq(u->host, c->tenants[i].host) &&
		    (u->port == 0 || u->port == c->tenants[i].port))
			return true;
	return false;
}

static const struct core_dialpeer *peer_by_tag(const struct proxy_conf *c, uint32_t tag)
{
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].tag == tag)
			return &c->peers[i];
	return NULL;
}

static bool creates_dialog(enum sip_method m)
{
	return m == SIP_M_INVITE || m == SIP_M_SUBSCRIBE || m == SIP_M_REFER || m == SIP_M_NOTIFY;
}

static void no_route(const struct sip_msg *m, struct proxy_decision *d)
{
	if (m->method_id == SIP_M_ACK) { /* never answer an ACK (RFC 3261 17.2.1) */
		d->verdict = PROXY_DROP;
		d->reason = PROXY_R_ACK_NO_ROUTE;
		return;
	}
	reply(d, 404, PROXY_R_NO_ROUTE);
}

/* a tel: number as a SIP user part (RFC 3261 19.1.6): "#" and anything else a SIP user may not
 * hold unescaped (25.1: unreserved / escaped / user-unreserved) is %-escaped */
static void sb_tel_user(struct sbuf *b, struct slice number)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < number.n; i++) {
		unsigned char ch = (unsigned char)number.p[i];
		if (sip_cc_is(ch, SIP_CC_UNRESERVED) || ch == '%' ||
		    (ch && strchr("&=+$,;?/", ch))) {
			sb_chr(b, (char)ch);
		} else {
			sb_chr(b, '%');
			sb_chr(b, hex[ch >> 4]);
			sb_chr(b, hex[ch & 15]);
		}
	}
}

/* New Request-URI toward a dial-peer's target: same user and parameters, the target's host,
 * and the outbound tenant's scheme (url sip | sips). A tel: number becomes the user part with
 * its parameters (they describe the number) and ";user=phone" (RFC 3261 19.1.6). */
static int rewrite_ruri(const struct proxy_conf *c, const struct sip_uri *u,
			const struct proxy_target *t, struct proxy_decision *d)
{
	char buf[600];
	bool tel = u->scheme == SIP_SCHEME_TEL;
	struct sbuf b = sb_start(buf, sizeof(buf));
	sb_slice(&b, c->tenants[t->tenant].sips ? SLICE_LIT("sips:") : SLICE_LIT("sip:"));
	if (tel) {
		sb_tel_user(&b, u->user);
		if (u->params.n)
			sb_chr(&b, ';');
		sb_tel_user(&b, u->params);
	} else {
		sb_slice(&b, u->user);
	}
	if (u->user.n)
		sb_chr(&b, '@');
	sb_hostport(&b, t->host, t->port);
	if (tel)
		sb_slice(&b, SLICE_LIT(";user=phone"));
	else if (u->params.n)
		sb_chr(&b, ';');
	if (!tel)
		sb_slice(&b, u->params);
	if (b.cut)
		return -SIP_E_NOSPACE;
	return sip_edit_ruri_set(&d->edit, slice_make(buf, b.n));
}

/* client: the branch of the request's top Via (validate parsed it) */
static int push_via(const struct proxy_conf *c, struct slice client, const struct proxy_in *in,
		    struct slice host, uint16_t port, struct proxy_decision *d)
{
	memcpy(d->branch, PROXY_BRANCH_PREFIX, sizeof(PROXY_BRANCH_PREFIX) - 1);
	core_token_make(&c->key, in->conn, client, d->branch + sizeof(PROXY_BRANCH_PREFIX) - 1);
	char via[400];
	struct sbuf b = sb_start(via, sizeof(via));
	sb_slice(&b, SLICE_LIT("SIP/2.0/TLS "));
	sb_hostport(&b, host, port);
	sb_slice(&b, SLICE_LIT(";branch="));
	sb_put(&b, d->branch, PROXY_BRANCH_LEN);
	if (b.cut)
		return -SIP_E_NOSPACE;
	return sip_edit_via_push(&d->edit, slice_make(via, b.n));
}

/* Chooses the next hop; fills d->verdict (TO_TARGET / TO_CONN) or a reply. Returns the number
 * of our Route entries to remove, or -1 when a reply/drop was decided. */
static int next_hop(const struct proxy_conf *c, const struct proxy_in *in, const struct sip_msg *m,
		    const struct sip_uri *ruri, struct rr_mark *via_side, struct proxy_decision *d)
{
	struct rr_mark mk[2];
	unsigned ours = routes_of_ours(c, m, mk);
	if (ours) {
		/* in-dialog: the topmost entry says which side the request came from */
		bool from_caller = mk[0].side == 'i' || (mk[0].side == 'b' && in->conn == mk[0].conn);
		if (!from_caller) {
			d->verdict = PROXY_TO_CONN;
			d->conn = mk[0].conn;
			*via_side = mk[ours - 1]; /* the entry facing the caller */
			return (int)ours;
		}
		d->peer = peer_by_tag(c, mk[0].peer);
	} else {
		if (m->method_id == SIP_M_OPTIONS && addressed_to_us(c, ruri)) {
			reply(d, 200, PROXY_R_LOCAL);
			return -1;
		}
		d->peer = core_dialpeer_select(c->peers, c->npeers, ruri->user);
	}
	d->target = d->peer ? d->peer->target : NULL;
	if (!d->target || !has_tenant(c, d->target->tenant)) {
		no_route(m, d);
		return -1;
	}
	d->verdict = PROXY_TO_TARGET;
	return (int)ours;
}

static int forward_edits(const struct proxy_conf *c, const struct proxy_in *in,
			 const struct sip_msg *m, const struct sip_uri *ruri, struct slice client,
			 int ours, const struct rr_mark *caller_side, struct proxy_decision *d)
{
	int rc = 0;
	sip_edit_init(&d->edit, m);
	if (ours)
		rc = sip_edit_route_pop_n(&d->edit, (unsigned)ours);
	if (rc == 0 && d->verdict == PROXY_TO_TARGET && !ours)
		rc = rewrite_ruri(c, ruri, d->target, d);
	if (rc == 0)
		rc = sip_edit_max_forwards(&d->edit);
	if (rc == 0 && d->verdict == PROXY_TO_TARGET) {
		const struct proxy_tenant *out = &c->tenants[d->target->tenant];
		rc = push_via(c, client, in, out->host, out->port, d);
	} else if (rc == 0) {
		rc = push_via(c, client, in, caller_side->host, caller_side->port, d);
	}
	if (rc == 0 && !ours && creates_dialog(m->method_id)) {
		uint32_t ti = in->tenant, to = d->target->tenant;
		if (ti == to) {
			rc = push_rr(c, d, ti, 'b', d->peer->tag, in->conn);
		} else {
			rc = push_rr(c, d, ti, 'i', d->peer->tag, in->conn);
			if (rc == 0) /* pushed last, so on top: the callee's side */
				rc = push_rr(c, d, to, 'o', d->peer->tag, in->conn);
		}
	}
	return rc;
}

static int decide_request(const struct proxy_conf *c, const struct proxy_in *in,
			  const struct sip_msg *m, struct proxy_decision *d);

/* An ACK is never answered (RFC 3261 17.1.1.3: it has no response); what would have been a
 * local reply to it is a counted drop instead. */
int proxy_request(const struct proxy_conf *c, const struct proxy_in *in, const struct sip_msg *m,
		  struct proxy_decision *d)
{
	int rc = decide_request(c, in, m, d);
	if (rc == 0 && d->verdict == PROXY_REPLY && m->method_id == SIP_M_ACK)
		d->verdict = PROXY_DROP;
	return rc;
}

static int decide_request(const struct proxy_conf *c, const struct proxy_in *in,
			  const struct sip_msg *m, struct proxy_decision *d)
{
	struct sip_uri ruri;
	struct slice client = { 0 };
	struct rr_mark caller_side = { 0 };
	memset(d, 0, offsetof(struct proxy_decision, edit));
	if (!has_tenant(c, in->tenant))
		return -SIP_E_MISSING;
	if (validate(m, &ruri, &client, d) < 0)
		return 0;
	const struct sip_hdr *mf = sip_msg_get(m, SIP_H_MAX_FORWARDS);
	unsigned hops = 70;
	if (mf && sip_max_forwards_parse(mf->value, &hops) < 0) {
		reply(d, 400, PROXY_R_MALFORMED);
		return 0;
	}
	if (looped(c, m)) {
		reply(d, 482, PROXY_R_LOOP);
		return 0;
	}
	int ours = next_hop(c, in, m, &ruri, &caller_side, d);
	if (ours < 0)
		return 0;
	if (hops == 0) { /* RFC 3261 16.3 step 3; OPTIONS may be answered by the proxy itself */
		if (m->method_id == SIP_M_OPTIONS)
			reply(d, 200, PROXY_R_LOCAL);
		else
			reply(d, 483, PROXY_R_MAX_FORWARDS);
		return 0;
	}
	int rc = forward_edits(c, in, m, &ruri, client, ours, &caller_side, d);
	if (rc == -SIP_E_HEADER) /* the Route set after ours does not parse */
		reply(d, 400, PROXY_R_MALFORMED);
	else if (rc < 0)
		reply(d, 500, PROXY_R_EDIT);
	else
		d->reason = PROXY_R_OK;
	d->trying = rc == 0 && m->method_id == SIP_M_INVITE;
	return 0;
}

/* ---- responses -------------------------------------------------------------------------- */

/* The first element of a list value when it holds no quote or '<' (a Via never does in
 * practice): then it ends at the first comma, exactly where sip_list_next would end it, and
 * memchr finds that faster than sip_list_next's walk. False when the walk must decide. */
static bool first_plain(struct slice rest, struct slice *item, struct slice *after)
{
	const char *comma = rest.n ? memchr(rest.p, ',', rest.n) : NULL;
	size_t n = comma ? (size_t)(comma - rest.p) : rest.n;
	if (n == 0 || memchr(rest.p, '"', n) || memchr(rest.p, '<', n))
		return false;
	*item = slice_trim(slice_make(rest.p, n));
	*after = comma ? slice_sub(rest, n + 1, rest.n) : (struct slice){ 0 };
	return item->n > 0;
}

/* the top two Via elements, as via_elems(m, v, 2) finds them */
static unsigned via_top2(const struct sip_msg *m, struct slice v[2])
{
	const struct sip_hdr *h = sip_msg_get(m, SIP_H_VIA);
	struct slice after, unused;
	if (!h || !first_plain(h->value, &v[0], &after))
		return via_elems(m, v, 2);
	if (slice_trim(after).n == 0) { /* "a" or "a," ends the field: the next field's first */
		h = sip_msg_next(m, h);
		if (!h)
			return 1;
		after = h->value;
	}
	return first_plain(after, &v[1], &unused) ? 2 : via_elems(m, v, 2);
}

/* RFC 3261 16.7 step 2: a response is ours when its top Via carries our branch, whose token
 * binds the connection and the branch of the Via below (the client's). Only the two branches
 * are looked up (sip_via_branch): the token authenticates them, and the pop below splits the
 * list again on its own. */
int proxy_response(const struct proxy_conf *c, const struct proxy_in *in, const struct sip_msg *m,
		   struct proxy_decision *d)
{
	struct slice v[2], ours, client;
	(void)in;
	memset(d, 0, offsetof(struct proxy_decision, edit));
	d->reason = PROXY_R_VIA_NOT_OURS;
	if (via_top2(m, v) < 2)
		return 0; /* not ours (no Via left for us to pop), drop */
	/* an element without a usable branch gives an empty one, as branch_of does */
	(void)sip_via_branch(v[0], &ours);
	if (ours.n != PROXY_BRANCH_LEN)
		return 0;
	(void)sip_via_branch(v[1], &client);
	if (!proxy_branch_check(c, ours, client, &d->conn))
		return 0;
	memcpy(d->branch, ours.p, PROXY_BRANCH_LEN); /* the transaction key, checked above */
	if (m->status == 100) {
		d->reason = PROXY_R_TRYING; /* hop by hop: we sent our own */
		return 0;
	}
	sip_edit_init(&d->edit, m);
	if (sip_edit_via_pop(&d->edit) < 0) {
		d->reason = PROXY_R_EDIT;
		return 0;
	}
	d->verdict = PROXY_TO_CONN;
	d->reason = PROXY_R_OK;
	return 0;
}

int proxy_reply(const struct proxy_conf *c, const struct sip_msg *req, unsigned code, char *out,
		size_t cap)
{
	/* a To tag that a retransmission of the request gets again: keyed hash of Call-ID + From */
	const struct sip_hdr *id = sip_msg_get(req, SIP_H_CALL_ID), *from = sip_msg_get(req, SIP_H_FROM);
	uint64_t h = 0;
	if (id)
		h ^= core_siphash(&c->key, id->value.p, id->value.n);
	if (from)
		h ^= core_siphash(&c->key, from->value.p, from->value.n) * 31;
	char tag[16];
	for (int i = 15; i >= 0; i--, h >>= 4)
		tag[i] = "0123456789abcdef"[h & 15]; /* %016llx */
	return sip_reply_build(req, code, slice_make(tag, 16), (struct slice){ 0 }, out, cap);
}
