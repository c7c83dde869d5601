/* Progress lines and the final summary, from the threads' statistics merged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/loadgen/report.h"

static const char *mode_name[] = {"uas", "uac", "handshake", "idle"};

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* dst = sum over threads (counters first, then the histogram) */
static void merge(struct lg_stats *dst, struct lg_thr *th, unsigned n)
{
	memset(dst, 0, sizeof(*dst));
	size_t ncounters = offsetof(struct lg_stats, lat) / sizeof(uint64_t);
	for (unsigned i = 0; i < n; i++) {
		const uint64_t *src = (const uint64_t *)&th[i].st;
		uint64_t *d = (uint64_t *)dst;
		for (size_t k = 0; k < ncounters; k++)
			d[k] += ld(&src[k]);
		lg_hist_merge(&dst->lat, &th[i].st.lat);
	}
}

static uint64_t status_errors(const struct lg_stats *s)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < 700; i++)
		n += s->status[i];
	return n;
}

static uint64_t errors(const struct lg_stats *s, enum lg_mode m)
{
	uint64_t n = s->conn_fail + s->hs_fail + s->conn_lost + s->parse_err;
	if (m == LG_UAC)
		n += s->timeouts + s->aborted + s->bad_resp + s->overload + status_errors(s);
	return n;
}

void lg_progress_init(struct lg_progress *p)
{
	p->prev = calloc(1, sizeof(*p->prev));
}

void lg_progress_fini(struct lg_progress *p)
{
	free(p->prev);
	p->prev = NULL;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

void lg_progress_line(struct lg_progress *p, struct lg_thr *th, unsigned n, const struct lg_opts *o,
                      double secs)
{
	struct lg_stats *now = malloc(sizeof(*now)), *d = malloc(sizeof(*d));
	if (!now || !d || !p->prev)
		goto out;
	merge(now, th, n);
	lg_hist_diff(&d->lat, &now->lat, &p->prev->lat);
	const struct lg_stats *b = p->prev;
	switch (o->mode) {
	case LG_UAC:
		fprintf(
		    stderr,
		    "[%5.1f s] tx/s %8llu  calls/s %7llu  errors %llu  p99 %.3f ms  conns %llu\n",
		    secs, (unsigned long long)(now->tx_done - b->tx_done),
		    (unsigned long long)(now->calls_done - b->calls_done),
		    (unsigned long long)errors(now, o->mode), ms(lg_hist_quantile(&d->lat, 0.99)),
		    (unsigned long long)(now->conns_up - now->conn_lost));
		break;
	case LG_UAS:
		fprintf(
		    stderr, "[%5.1f s] requests/s %8llu  connections accepted %llu  errors %llu\n",
		    secs, (unsigned long long)(now->requests - b->requests),
		    (unsigned long long)now->accepted, (unsigned long long)errors(now, o->mode));
		break;
	case LG_HANDSHAKE:
		fprintf(stderr, "[%5.1f s] handshakes/s %6llu  failures %llu  p99 %.3f ms\n", secs,
		        (unsigned long long)(now->hs_done - b->hs_done),
		        (unsigned long long)(now->hs_fail + now->conn_fail),
		        ms(lg_hist_quantile(&d->lat, 0.99)));
		break;
	default:
		fprintf(stderr, "[%5.1f s] held %llu  failed %llu  lost %llu\n", secs,
		        (unsigned long long)now->held,
		        (unsigned long long)now->hs_fail + (unsigned long long)now->conn_fail,
		        (unsigned long long)now->conn_lost);
		break;
	}
	memcpy(p->prev, now, sizeof(*now));
out:
	free(now);
	free(d);
}

static double elapsed(struct lg_thr *th, unsigned n)
{
	double e = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!th[i].load_start)
			continue;
		double s = (double)(th[i].load_end - th[i].load_start) / 1e9;
		if (s > e)
			e = s;
	}
	return e;
}

static double per_s(uint64_t v, double secs)
{
	return secs > 0 ? (double)v / secs : 0;
}

static void text_latency(const struct lg_hist *h, const char *what)
{
	printf(
	    "  latency        p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n"
	    "                 (%s, %llu samples)\n",
	    ms(lg_hist_quantile(h, 0.5)), ms(lg_hist_quantile(h, 0.9)),
	    ms(lg_hist_quantile(h, 0.99)), ms(lg_hist_quantile(h, 0.999)), ms(h->max), what,
	    (unsigned long long)h->n);
}

static void json_latency(const struct lg_hist *h)
{
	printf("\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
	       "\"samples\":%llu}",
	       (double)lg_hist_quantile(h, 0.5) / 1e3, (double)lg_hist_quantile(h, 0.9) / 1e3,
	       (double)lg_hist_quantile(h, 0.99) / 1e3, (double)lg_hist_quantile(h, 0.999) / 1e3,
	       (double)h->max / 1e3, (unsigned long long)h->n);
}

static void text_status(const struct lg_stats *s)
{
	if (!status_errors(s))
		return;
	printf("    unexpected final status:");
	for (unsigned i = 0; i < 700; i++)
		if (s->status[i])
			printf(" %u x%llu", i, (unsigned long long)s->status[i]);
	printf("\n");
}

static void json_errors(const struct lg_stats *s, enum lg_mode m)
{
	printf(
	    "\"errors\":{\"total\":%llu,\"timeouts\":%llu,\"aborted\":%llu,\"conn_failures\":%llu,"
	    "\"tls_failures\":%llu,\"conn_lost\":%llu,\"unparseable\":%llu,\"bad_responses\":%llu,"
	    "\"overload\":%llu,\"status\":{",
	    (unsigned long long)errors(s, m), (unsigned long long)s->timeouts,
	    (unsigned long long)s->aborted, (unsigned long long)s->conn_fail,
	    (unsigned long long)s->hs_fail, (unsigned long long)s->conn_lost,
	    (unsigned long long)s->parse_err, (unsigned long long)s->bad_resp,
	    (unsigned long long)s->overload);
	const char *sep = "";
	for (unsigned i = 0; i < 700; i++)
		if (s->status[i]) {
			printf("%s\"%u\":%llu", sep, i, (unsigned long long)s->status[i]);
			sep = ",";
		}
	printf("}}");
}

static void text_errors(const struct lg_stats *s, enum lg_mode m)
{
	printf("  errors         %llu\n", (unsigned long long)errors(s, m));
	if (!errors(s, m))
		return;
	printf("    timeouts %llu, aborted by a lost connection %llu, connection failures %llu,\n"
	       "    TLS handshake failures %llu, connections lost %llu, unparseable %llu,\n"
	       "    bad responses %llu, overload %llu\n",
	       (unsigned long long)s->timeouts, (unsigned long long)s->aborted,
	       (unsigned long long)s->conn_fail, (unsigned long long)s->hs_fail,
	       (unsigned long long)s->conn_lost, (unsigned long long)s->parse_err,
	       (unsigned long long)s->bad_resp, (unsigned long long)s->overload);
	text_status(s);
}

static void report_uac(const struct lg_stats *s, const struct lg_opts *o, double secs)
{
	bool call = o->scen == LG_CALL;
	if (o->json) {
		printf("{\"mode\":\"uac\",\"scenario\":\"%s\",\"conns\":%u,\"threads\":%u,",
		       call ? "call" : "options", o->conns, o->threads);
		if (o->rate > 0)
			printf("\"rate\":%.1f,", o->rate);
		else
			printf("\"window\":%u,", o->window);
		printf(
		    "\"elapsed_s\":%.3f,\"transactions\":%llu,\"transactions_started\":%llu,"
		    "\"tx_per_s\":%.1f,\"calls\":%llu,\"calls_started\":%llu,\"calls_per_s\":%.1f,",
		    secs, (unsigned long long)s->tx_done, (unsigned long long)s->tx_started,
		    per_s(s->tx_done, secs), (unsigned long long)s->calls_done,
		    (unsigned long long)s->calls_started, per_s(s->calls_done, secs));
		json_latency(&s->lat);
		printf(",");
		json_errors(s, LG_UAC);
		printf(",\"provisional\":%llu,\"stray\":%llu,\"unexpected_requests\":%llu}\n",
		       (unsigned long long)s->provisional, (unsigned long long)s->stray,
		       (unsigned long long)s->unexpected_req);
		return;
	}
	printf("siptls-bench uac: scenario %s, %u connection(s), ", call ? "call" : "options",
	       o->conns);
	if (o->rate > 0)
		printf("open loop at %.0f %s/s", o->rate, call ? "calls" : "OPTIONS");
	else
		printf("closed loop, window %u", o->window);
	printf(", %u thread(s), target %s:%u\n", o->threads, o->host, o->port);
	printf("  elapsed        %.3f s\n", secs);
	printf("  transactions   %llu completed of %llu started, %.1f/s\n",
	       (unsigned long long)s->tx_done, (unsigned long long)s->tx_started,
	       per_s(s->tx_done, secs));
	if (call)
		printf("  calls          %llu completed of %llu started, %.1f/s\n",
		       (unsigned long long)s->calls_done, (unsigned long long)s->calls_started,
		       per_s(s->calls_done, secs));
	text_latency(&s->lat, "request sent -> its final response");
	text_errors(s, LG_UAC);
	printf("  also           %llu provisional responses, %llu stray (late) responses, %llu "
	       "requests from the peer\n",
	       (unsigned long long)s->provisional, (unsigned long long)s->stray,
	       (unsigned long long)s->unexpected_req);
}

static void report_hs(const struct lg_stats *s, const struct lg_opts *o, double secs)
{
	bool idle = o->mode == LG_IDLE;
	if (o->json) {
		printf("{\"mode\":\"%s\",\"conns\":%u,\"threads\":%u,\"elapsed_s\":%.3f,"
		       "\"handshakes\":%llu,\"handshakes_per_s\":%.1f,\"held\":%llu,",
		       mode_name[o->mode], o->conns, o->threads, secs,
		       (unsigned long long)s->hs_done, per_s(s->hs_done, secs),
		       (unsigned long long)s->held);
		json_latency(&s->lat);
		printf(",");
		json_errors(s, o->mode);
		printf("}\n");
		return;
	}
	printf("siptls-bench %s: %u %s, %u thread(s), target %s:%u\n", mode_name[o->mode], o->conns,
	       idle ? "connection(s) to hold" : "handshake(s) in flight", o->threads, o->host,
	       o->port);
	printf("  elapsed        %.3f s\n", secs);
	printf("  handshakes     %llu, %.1f/s\n", (unsigned long long)s->hs_done,
	       per_s(s->hs_done, secs));
	if (idle)
		printf("  held           %llu of %u until the end\n", (unsigned long long)s->held,
		       o->conns);
	text_latency(&s->lat, "connect() -> handshake done");
	text_errors(s, o->mode);
}

static void report_uas(const struct lg_stats *s, const struct lg_opts *o, double secs)
{
	if (o->json) {
		printf("{\"mode\":\"uas\",\"elapsed_s\":%.3f,\"accepted\":%llu,\"requests\":%llu,"
		       "\"invite\":%llu,\"ack\":%llu,\"bye\":%llu,\"options\":%llu,",
		       secs, (unsigned long long)s->accepted, (unsigned long long)s->requests,
		       (unsigned long long)s->answered[SIP_M_INVITE],
		       (unsigned long long)s->answered[SIP_M_ACK],
		       (unsigned long long)s->answered[SIP_M_BYE],
		       (unsigned long long)s->answered[SIP_M_OPTIONS]);
		json_errors(s, LG_UAS);
		printf("}\n");
		return;
	}
	printf(
	    "siptls-bench uas: %.3f s, %llu connection(s) accepted, %llu requests (INVITE %llu, "
	    "ACK %llu, BYE %llu, OPTIONS %llu, other %llu), TLS failures %llu, lost %llu\n",
	    secs, (unsigned long long)s->accepted, (unsigned long long)s->requests,
	    (unsigned long long)s->answered[SIP_M_INVITE],
	    (unsigned long long)s->answered[SIP_M_ACK], (unsigned long long)s->answered[SIP_M_BYE],
	    (unsigned long long)s->answered[SIP_M_OPTIONS],
	    (unsigned long long)(s->requests - s->answered[SIP_M_INVITE] - s->answered[SIP_M_ACK] -
	                         s->answered[SIP_M_BYE] - s->answered[SIP_M_OPTIONS]),
	    (unsigned long long)s->hs_fail, (unsigned long long)s->conn_lost);
}

int lg_report(struct lg_thr *th, unsigned n, const struct lg_opts *o)
{
	struct lg_stats *s = malloc(sizeof(*s));
	if (!s)
		return 2;
	merge(s, th, n);
	double secs = elapsed(th, n);
	int rc = 0;
	switch (o->mode) {
	case LG_UAC:
		report_uac(s, o, secs);
		rc = errors(s, o->mode) || s->tx_done == 0;
		break;
	case LG_UAS:
		report_uas(s, o, secs);
		break;
	case LG_HANDSHAKE:
		report_hs(s, o, secs);
		rc = errors(s, o->mode) || s->hs_done == 0;
		break;
	default:
		report_hs(s, o, secs);
		rc = errors(s, o->mode) || s->held != o->conns;
		break;
	}
	fflush(stdout);
	free(s);
	return rc;
}
