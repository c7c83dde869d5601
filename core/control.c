/* The daemon's side of the control socket: one command line in, text (or JSON) out.
 *
 * Runs on the main thread. Whatever a worker owns it copies out itself, on its own thread, in
 * answer to a mail (core/worker.h); this side only merges and prints (core/ctl.h). */
#include "core/control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/ctl.h"
#include "core/log.h"
#include "core/worker.h"
#include "tls/pki.h"

/* posts m (already filled in) to worker i and waits for its answer; false if it did not come */
static bool ask(struct daemon *d, unsigned i, struct worker_mail *m)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	if (sem_init(&m->done, 0, 0) != 0)
		return false;
	(void)worker_post(d->workers[i], m); /* queued even when the wake-up write failed */
	while (sem_timedwait(&m->done, &until) != 0) {
		if (errno != EINTR) {
			/* the worker may still answer later into m: never free m then */
			core_log(LOG_ERR, "control: worker %u did not answer", i);
			return false;
		}
	}
	sem_destroy(&m->done);
	return true;
}

static void add_totals(struct ctl_totals *t, const struct worker_mail *m)
{
	const struct worker_stats *s = &m->stats;
	t->active += s->active;
	t->remote_closures += s->remote_closures;
	t->conn_failures += s->conn_failures;
	t->send_failures += s->send_failures;
	t->inactive_ageouts += s->inactive_ageouts;
	t->client_hs_failures += s->tls.client_handshake_failures;
	t->server_hs_failures += s->tls.server_handshake_failures;
	if (s->max_sendq > t->max_sendq) {
		t->max_sendq = s->max_sendq;
		snprintf(t->max_sendq_peer, sizeof(t->max_sendq_peer), "%s", m->max_sendq_peer);
	}
}

#define MAX_LISTEN_ROWS (DAEMON_MAX_LISTENERS * (1 + TLS_SNI_MAX))

/* the listen-socket table: one row per tenant of each socket that opened (tenants sharing an
 * address by SNI share its Conn-Id, as the guide's table lists a tenant per row) */
static size_t listeners(const struct daemon *d, struct ctl_listener *out)
{
	size_t n = 0;
	for (unsigned i = 0; i < d->gen->nlisteners; i++) {
		const struct daemon_listener *l = &d->gen->listeners[i];
		if (!l->up)
			continue;
		for (unsigned k = 0; k <= l->sni.n; k++) {
			out[n].id = i + 1;
			snprintf(out[n].local, sizeof(out[n].local), "%s%s", l->text[0] == '[' ? "" : "[",
				 l->text);
			if (l->text[0] != '[') { /* "1.2.3.4:5061" -> "[1.2.3.4]:5061", as the guide prints */
				char *colon = strrchr(out[n].local, ':');
				if (colon) {
					memmove(colon + 1, colon, strlen(colon) + 1);
					*colon = ']';
				}
			}
			out[n].tenant = k == 0 ? d->gen->tenants[l->tenant].tag : l->sni.t[k - 1].tenant;
			n++;
		}
	}
	return n;
}

/* every worker's rows and counters, merged; mails are heap-allocated per worker (a worker
 * that misses the deadline keeps its mail, which is then leaked on purpose, never reused) */
static int snapshot(struct daemon *d, struct ctl_conn **rows, size_t *nrows, struct ctl_totals *t)
{
	size_t total = 0, cap = 0;
	struct ctl_conn *all = NULL;
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < d->nworkers; i++) {
		struct worker_mail *m = calloc(1, sizeof(*m));
		if (!m) {
			free(all);
			return -ENOMEM;
		}
		m->kind = WORKER_MAIL_SNAPSHOT;
		for (int round = 0; round < 2; round++) {
			m->cap = round ? m->n + 64 : 1024;
			free(m->rows);
			m->rows = calloc(m->cap, sizeof(*m->rows));
			if (!m->rows) {
				free(all);
				free(m);
				return -ENOMEM;
			}
			if (!ask(d, i, m)) { /* m stays the late worker's: leaked, see above */
				free(all);
				return -EIO;
			}
			if (m->n <= m->cap)
				break;
		}
		size_t got = m->n < m->cap ? m->n : m->cap;
		if (total + got > cap) {
			cap = (total + got) * 2;
			struct ctl_conn *grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				free(all);
				free(m->rows);
				free(m);
				return -ENOMEM;
			}
			all = grown;
		}
		if (got) /* all may still be NULL, and memcpy must not see it */
			memcpy(all + total, m->rows, got * sizeof(*all));
		total += got;
		add_totals(t, m);
		free(m->rows);
		free(m);
	}
	*rows = all;
	*nrows = total;
	return 0;
}

static size_t clear(struct daemon *d, const struct ctl_request *r)
{
	size_t closed = 0;
	for (unsigned i = 0; i < d->nworkers; i++) {
		if (r->cmd == CTL_CLEAR_ID && worker_of_public_id(r->id) != i)
			continue;
		struct worker_mail *m = calloc(1, sizeof(*m));
		if (!m)
			break;
		m->kind = WORKER_MAIL_CLEAR;
		m->req = *r;
		if (ask(d, i, m)) {
			closed += m->closed;
			free(m);
		}
	}
	return closed;
}

#define STAT(f) { #f, offsetof(struct worker_stats, f) }

static void print_stats(struct daemon *d, FILE *out, bool json)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		STAT(accepted), STAT(accept_errors), STAT(active), STAT(remote_closures),
		STAT(conn_failures), STAT(handshake_timeouts), STAT(send_failures),
		STAT(requests_in), STAT(responses_in), STAT(pings), STAT(forwarded_requests),
		STAT(forwarded_responses), STAT(scan_errors), STAT(too_big), STAT(timeouts),
		STAT(upstream_unavailable), STAT(response_no_conn), STAT(queue_full),
		STAT(backpressure_pauses),
		STAT(max_sendq), STAT(inactive_ageouts), STAT(refused_max_conns),
		STAT(refused_per_source), STAT(refused_rate), STAT(admit_untracked),
		STAT(untrusted_403), STAT(too_many_headers), STAT(tls.client_handshake_failures),
		STAT(tls.server_handshake_failures), STAT(tls.client_identity_failures),
		STAT(tls.server_identity_failures),
		STAT(tls.ktls_rx13_installs), STAT(tls.ktls_rx13_failures), STAT(tls.ssl_shed),
		STAT(tls.alerts_received), STAT(tls.keyupdates), STAT(tls.tickets_discarded),
		STAT(tls.record_errors),
	};
	uint64_t sum[sizeof(fields) / sizeof(fields[0])] = { 0 };
	uint64_t replies[7] = { 0 }, reasons[PROXY_R__COUNT] = { 0 };
	for (unsigned i = 0; i < d->nworkers; i++) {
		struct worker_mail *m = calloc(1, sizeof(*m));
		if (!m)
			return;
		m->kind = WORKER_MAIL_STATS;
		if (!ask(d, i, m))
			continue;
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			sum[f] += *(const uint64_t *)(const void *)((const char *)&m->stats + fields[f].off);
		for (int k = 1; k < 7; k++)
			replies[k] += m->stats.local_replies[k];
		for (int k = 0; k < PROXY_R__COUNT; k++)
			reasons[k] += m->stats.reasons[k];
		free(m);
	}
	const size_t nf = sizeof(fields) / sizeof(fields[0]);
	if (json) {
		fputc('{', out);
		for (size_t f = 0; f < nf; f++)
			fprintf(out, "%s\"%s\":%" PRIu64, f ? "," : "", fields[f].name, sum[f]);
		for (int k = 1; k < 7; k++)
			fprintf(out, ",\"local_replies_%dxx\":%" PRIu64, k, replies[k]);
		for (int k = 0; k < PROXY_R__COUNT; k++)
			fprintf(out, ",\"decision: %s\":%" PRIu64, proxy_reason_str((enum proxy_reason)k),
				reasons[k]);
		core_trace_print_stats(&d->trace, out, true);
		fputs("}\n", out);
		return;
	}
	for (size_t f = 0; f < nf; f++)
		fprintf(out, "%-34s %" PRIu64 "\n", fields[f].name, sum[f]);
	for (int k = 1; k < 7; k++)
		fprintf(out, "local_replies_%dxx%17s %" PRIu64 "\n", k, "", replies[k]);
	for (int k = 0; k < PROXY_R__COUNT; k++)
		fprintf(out, "decision: %-24s %" PRIu64 "\n", proxy_reason_str((enum proxy_reason)k),
			reasons[k]);
	core_trace_print_stats(&d->trace, out, false);
}

/* ---- show crypto pki: what the current generation loaded (docs/pki.md) ---- */

static bool pki_row(struct ctl_pki_cert **rows, size_t *n, size_t *cap, const char *tp,
		    enum ctl_pki_kind kind, X509 *x)
{
	struct tls_pki_info info = { 0 };
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct ctl_pki_cert *grown = realloc(*rows, c * sizeof(**rows));
		if (!grown)
			return false;
		*rows = grown;
		*cap = c;
	}
	struct ctl_pki_cert *row = &(*rows)[(*n)++];
	memset(row, 0, sizeof(*row));
	snprintf(row->trustpoint, sizeof(row->trustpoint), "%s", tp);
	row->kind = kind;
	if (x && tls_pki_info_get(x, &info) == 0) {
		memcpy(row->subject, info.subject, sizeof(row->subject));
		memcpy(row->issuer, info.issuer, sizeof(row->issuer));
		memcpy(row->serial, info.serial, sizeof(row->serial));
		row->not_before = info.not_before;
		row->not_after = info.not_after;
	}
	return true;
}

/* one trustpoint's rows: its certificate, the chain it serves, the CAs it trusts */
static bool pki_tp_rows(const struct tls_trustpoint *tp, struct ctl_pki_cert **rows, size_t *n,
			size_t *cap)
{
	size_t first = *n;
	bool ok = true;
	if (tp->cert)
		ok = pki_row(rows, n, cap, tp->conf.name, CTL_PKI_OWN, tp->cert);
	for (int i = 0; ok && tp->chain && i < sk_X509_num(tp->chain); i++)
		ok = pki_row(rows, n, cap, tp->conf.name, CTL_PKI_CHAIN, sk_X509_value(tp->chain, i));
	STACK_OF(X509_OBJECT) *objs = tp->store ? X509_STORE_get0_objects(tp->store) : NULL;
	for (int i = 0; ok && objs && i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (x)
			ok = pki_row(rows, n, cap, tp->conf.name, CTL_PKI_CA, x);
	}
	if (ok && *n == first)
		ok = pki_row(rows, n, cap, tp->conf.name, CTL_PKI_NONE, NULL);
	return ok;
}

static void show_pki(struct daemon *d, const struct ctl_request *r, FILE *out)
{
	const struct daemon_gen *g = d->gen;
	struct ctl_pki_cert *rows = NULL;
	size_t n = 0, cap = 0;
	for (unsigned i = 0; i < g->conf.ntp; i++)
		if (!pki_tp_rows(&g->tp[i], &rows, &n, &cap)) {
			free(rows);
			fprintf(out, "%% Out of memory\n");
			return;
		}
	int64_t now = (int64_t)time(NULL);
	if (r->json)
		(void)ctl_print_pki_json(out, rows, n, now);
	else if (r->cmd == CTL_SHOW_TRUSTPT)
		(void)ctl_print_pki_trustpoints(out, rows, n, now);
	else
		(void)ctl_print_pki_certs(out, rows, n, now);
	free(rows);
}

static void answer(struct daemon *d, const struct ctl_request *r, FILE *out)
{
	static struct ctl_listener lis[MAX_LISTEN_ROWS]; /* the main thread's alone */
	size_t nlis = listeners(d, lis);
	struct ctl_conn *rows = NULL;
	size_t nrows = 0;
	struct ctl_totals t;
	switch (r->cmd) {
	case CTL_SHOW_BRIEF:
	case CTL_SHOW_DETAIL:
		if (snapshot(d, &rows, &nrows, &t) < 0) {
			fprintf(out, "%% The workers did not answer; try again\n");
			return;
		}
		if (r->cmd == CTL_SHOW_BRIEF)
			(void)(r->json ? ctl_print_brief_json(out, &t, lis, nlis) : ctl_print_brief(out, &t, lis, nlis));
		else
			(void)(r->json ? ctl_print_detail_json(out, &t, rows, nrows, lis, nlis) :
					 ctl_print_detail(out, &t, rows, nrows, lis, nlis));
		free(rows);
		return;
	case CTL_CLEAR_ID:
	case CTL_CLEAR_TARGET:
		(void)ctl_print_cleared(out, r, clear(d, r));
		return;
	case CTL_SHOW_RUNNING:
		core_conf_write(&d->gen->conf, out);
		return;
	case CTL_SHOW_STATS:
		print_stats(d, out, r->json);
		return;
	case CTL_SHOW_TRUSTPT:
	case CTL_SHOW_CERTS:
		show_pki(d, r, out);
		return;
	case CTL_DEBUG_SIP:
	case CTL_UNDEBUG_SIP:
	case CTL_UNDEBUG_ALL:
		(void)core_trace_command(&d->trace, r->cmd == CTL_DEBUG_SIP, r->cmd == CTL_UNDEBUG_ALL,
					 out);
		return;
	case CTL_RELOAD: {
		char err[512];
		if (daemon_reload(d, err, sizeof(err)) < 0)
			fprintf(out, "%% Reload failed, the running configuration stays: %s\n", err);
		else
			fprintf(out, "Configuration %u loaded: new connections use it, established ones "
				     "keep theirs\n", d->gen->number);
		return;
	}
	case CTL_HELP:
	default:
		(void)ctl_print_help(out);
		return;
	}
}

void control_serve(struct daemon *d, int fd)
{
	char line[CTL_LINE_MAX + 1] = "";
	size_t n = 0;
	struct timeval tv = { 2, 0 }; /* a client that says nothing is not waited for */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < CTL_LINE_MAX && !memchr(line, '\n', n)) {
		ssize_t r = read(fd, line + n, CTL_LINE_MAX - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	char *nl = memchr(line, '\n', n);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		close(fd);
		return;
	}
	struct ctl_request req;
	char err[CTL_ERR_MAX];
	if (!nl && n == CTL_LINE_MAX)
		fprintf(out, "%% Command too long\n");
	else if (ctl_parse(slice_make(line, nl ? (size_t)(nl - line) : n), &req, err, sizeof(err)) < 0)
		fprintf(out, "%s\n", err);
	else
		answer(d, &req, out);
	if (fclose(out) != 0) { /* the reply is incomplete: send none, siptlsctl then says so */
		core_log(LOG_ERR, "control: reply not built: %s", strerror(errno));
		len = 0;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(text);
	close(fd);
}
