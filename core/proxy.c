#include "core/proxy.h"

#include <stdio.h>
#include <string.h>

#include "sip/addr.h"
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
	int n = snprintf(buf, cap, "%c|%u|%.*s|%u", side, peer, SLICE_FMT(host), port);
	return n < 0 ? 0 : (size_t)n < cap ? n : (int)cap - 1;
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

static struct slice host_port(char *buf, size_t cap, struct slice host, uint16_t port)
{
	bool v6 = slice_find(host, ':') < host.n;
	int n = snprintf(buf, cap, "%s%.*s%s", v6 ? "[" : "", SLICE_FMT(host), v6 ? "]" : "");
	if (port && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, ":%u", port);
	return slice_make(buf, n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1);
}

static int push_rr(const struct proxy_conf *c, struct proxy_decision *d, uint32_t tenant, char side,
		   uint32_t peer, uint64_t conn)
{
	const struct proxy_tenant *t = &c->tenants[tenant];
	char hp[300], ctx[320], tok[CORE_TOKEN_LEN], uri[400];
	int cn = rr_context(side, peer, t->host, t->port, ctx, sizeof(ctx));
	core_token_make(&c->key, conn, slice_make(ctx, (size_t)cn), tok);
	struct slice where = host_port(hp, sizeof(hp), t->host, t->port);
	int n = snprintf(uri, sizeof(uri), "%s:%.*s;transport=tls;lr;sd=%c;sp=%u;sc=%.*s",
			 t->sips ? "sips" : "sip", SLICE_FMT(where), side, peer, CORE_TOKEN_LEN, tok);
	if (n < 0 || (size_t)n >= sizeof(uri))
		return -SIP_E_NOSPACE;
	return sip_edit_record_route_push(&d->edit, slice_make(uri, (size_t)n));
}

/* ---- requests --------------------------------------------------------------------------- */

/* RFC 3261 16.3: the checks before a request may be forwarded. 0 or a reply already set. */
static int validate(const struct sip_msg *m, struct sip_uri *ruri, struct proxy_decision *d)
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

/* New Request-URI toward a dial-peer's target: same user and parameters, the target's host,
 * and the outbound tenant's scheme (url sip | sips). */
static int rewrite_ruri(const struct proxy_conf *c, const struct sip_uri *u,
			const struct proxy_target *t, struct proxy_decision *d)
{
	char hp[300], buf[600];
	struct slice where = host_port(hp, sizeof(hp), t->host, t->port);
	int n = snprintf(buf, sizeof(buf), "%s:%.*s%s%.*s%s%.*s",
			 c->tenants[t->tenant].sips ? "sips" : "sip", SLICE_FMT(u->user),
			 u->user.n ? "@" : "", SLICE_FMT(where), u->params.n ? ";" : "",
			 SLICE_FMT(u->params));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -SIP_E_NOSPACE;
	return sip_edit_ruri_set(&d->edit, slice_make(buf, (size_t)n));
}

static int push_via(const struct proxy_conf *c, const struct sip_msg *m, const struct proxy_in *in,
		    struct slice host, uint16_t port, struct proxy_decision *d)
{
	struct slice top[1];
	struct slice client = via_elems(m, top, 1) ? branch_of(top[0]) : (struct slice){ 0 };
	memcpy(d->branch, PROXY_BRANCH_PREFIX, sizeof(PROXY_BRANCH_PREFIX) - 1);
	core_token_make(&c->key, in->conn, client, d->branch + sizeof(PROXY_BRANCH_PREFIX) - 1);
	char hp[300], via[400];
	struct slice where = host_port(hp, sizeof(hp), host, port);
	int n = snprintf(via, sizeof(via), "SIP/2.0/TLS %.*s;branch=%.*s", SLICE_FMT(where),
			 (int)PROXY_BRANCH_LEN, d->branch);
	if (n < 0 || (size_t)n >= sizeof(via))
		return -SIP_E_NOSPACE;
	return sip_edit_via_push(&d->edit, slice_make(via, (size_t)n));
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
			 const struct sip_msg *m, const struct sip_uri *ruri, int ours,
			 const struct rr_mark *caller_side, struct proxy_decision *d)
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
		rc = push_via(c, m, in, out->host, out->port, d);
	} else if (rc == 0) {
		rc = push_via(c, m, in, caller_side->host, caller_side->port, d);
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
	struct rr_mark caller_side = { 0 };
	memset(d, 0, offsetof(struct proxy_decision, edit));
	if (!has_tenant(c, in->tenant))
		return -SIP_E_MISSING;
	if (validate(m, &ruri, d) < 0)
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
	int rc = forward_edits(c, in, m, &ruri, ours, &caller_side, d);
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

int proxy_response(const struct proxy_conf *c, const struct proxy_in *in, const struct sip_msg *m,
		   struct proxy_decision *d)
{
	struct slice v[2];
	(void)in;
	memset(d, 0, offsetof(struct proxy_decision, edit));
	d->reason = PROXY_R_VIA_NOT_OURS;
	unsigned n = via_elems(m, v, 2);
	struct slice ours = n == 2 ? branch_of(v[0]) : (struct slice){ 0 };
	if (n < 2 || !proxy_branch_check(c, ours, branch_of(v[1]), &d->conn))
		return 0; /* RFC 3261 16.7 step 2: not ours, drop */
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
	char tag[17];
	snprintf(tag, sizeof(tag), "%016llx", (unsigned long long)h);
	return sip_reply_build(req, code, slice_make(tag, 16), (struct slice){ 0 }, out, cap);
}
