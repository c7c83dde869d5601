/* trace: SIP message tracing — per-worker rings, the writer thread, the text / pcap / syslog
 * forms, and the workers' hook (wk_trace_msg). See core/trace.h, docs/operations.md. */
#include "core/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "core/log.h"
#include "core/wk.h"

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* ---- rings ------------------------------------------------------------------------------ */

static void ring_put(struct core_trace_ring *r, uint64_t pos, const void *p, size_t n)
{
	size_t off = (size_t)(pos & (r->cap - 1)), first = r->cap - off;
	if (first > n)
		first = n;
	memcpy(r->buf + off, p, first);
	if (n > first)
		memcpy(r->buf, (const char *)p + first, n - first);
}

static void ring_get(const struct core_trace_ring *r, uint64_t pos, void *p, size_t n)
{
	size_t off = (size_t)(pos & (r->cap - 1)), first = r->cap - off;
	if (first > n)
		first = n;
	memcpy(p, r->buf + off, first);
	if (n > first)
		memcpy((char *)p + first, r->buf, n - first);
}

/* a counter only its ring's worker writes: no read-modify-write instruction needed */
static void bump(atomic_uint_fast64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

int core_trace_push(struct core_trace *t, unsigned i, const struct core_trace_rec *rec,
                    const struct iovec *iov, int n)
{
	if (!t->rings || i >= t->nrings)
		return -EINVAL;
	struct core_trace_ring *r = &t->rings[i];
	size_t len = 0;
	for (int k = 0; k < n; k++)
		len += iov[k].iov_len;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t need = sizeof(*rec) + ALIGN8(len);
	if (len > UINT32_MAX || need > r->cap - (size_t)(head - tail)) {
		bump(&r->dropped);
		return -ENOBUFS;
	}
	struct core_trace_rec h = *rec;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	h.len = (uint32_t)len;
	ring_put(r, head, &h, sizeof(h));
	uint64_t pos = head + sizeof(h);
	for (int k = 0; k < n; k++) {
		ring_put(r, pos, iov[k].iov_base, iov[k].iov_len);
		pos += iov[k].iov_len;
	}
	atomic_store_explicit(&r->head, head + need, memory_order_release);
	bump(&r->traced);
	return 0;
}

/* ---- the forms -------------------------------------------------------------------------- */

/* "2026-11-27T07:41:02.123456Z" */
static void ts_text(uint64_t ns, char *buf, size_t n)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t o = 0;
	if (gmtime_r(&s, &tm))
		o = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + o, n - o, ".%06uZ", (unsigned)(ns % 1000000000u / 1000u));
}

/* "192.0.2.1:5061" or "[2001:db8::1]:5061" */
static void addr_text(uint8_t family, const uint8_t *a, uint16_t port, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	snprintf(buf, n, family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* the router's two lines before a message: where it is logged from, then Received:/Sent: */
static void head_lines(const struct core_trace_rec *r, char *l1, size_t n1)
{
	char ts[40], peer[64], local[64];
	ts_text(r->ts_ns, ts, sizeof(ts));
	addr_text(r->family, r->peer, r->peer_port, peer, sizeof(peer));
	addr_text(r->family, r->local, r->local_port, local, sizeof(local));
	snprintf(l1, n1,
	         "%s //SIP/Msg/ccsipDisplayMsg: Conn-Id %" PRIu32 ", tenant %" PRIu32
	         ", TLS, peer %s, local %s, %" PRIu32 " bytes",
	         ts, r->conn, r->tenant, peer, local, r->len);
}

static const char *dir_word(const struct core_trace_rec *r)
{
	return r->dir == CORE_TRACE_OUT ? "Sent:" : "Received:";
}

void core_trace_lines(const struct core_trace_rec *r, const char *msg, core_trace_line_fn *fn,
                      void *arg)
{
	char l1[256];
	head_lines(r, l1, sizeof(l1));
	fn(arg, l1, strlen(l1));
	fn(arg, dir_word(r), strlen(dir_word(r)));
	for (size_t o = 0; o < r->len;) {
		const char *nl = memchr(msg + o, '\n', r->len - o);
		size_t end = nl ? (size_t)(nl - msg) : r->len, next = nl ? end + 1 : end;
		if (end > o && msg[end - 1] == '\r')
			end--;
		if (next < r->len || end > o) /* the empty line a message ends with is left out */
			fn(arg, msg + o, end - o);
		o = next;
	}
}

int core_trace_write_text(FILE *out, const struct core_trace_rec *r, const char *msg)
{
	char l1[256];
	size_t o = 0;
	head_lines(r, l1, sizeof(l1));
	fprintf(out, "%s\n%s\n", l1, dir_word(r));
	/* CRLF as LF, so the lines read (and grep) as the guide prints them */
	while (o < r->len) {
		const char *cr = memchr(msg + o, '\r', r->len - o);
		size_t end = cr ? (size_t)(cr - msg) : r->len;
		(void)fwrite(msg + o, 1, end - o, out); /* ferror(out) below tells */
		o = end;
		if (cr && (end + 1 == r->len || msg[end + 1] != '\n'))
			fputc('\r', out); /* a lone CR is the message's own byte */
		if (cr)
			o++;
	}
	if (r->len == 0 || msg[r->len - 1] != '\n')
		fputc('\n', out);
	if (r->len < 4 || memcmp(msg + r->len - 4, "\r\n\r\n", 4) != 0)
		fputc('\n', out); /* one empty line after every message */
	return ferror(out) ? -EIO : 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* RFC 1071 ones' complement sum, continued over several pieces (even lengths but the last) */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

int core_trace_write_pcap_header(FILE *out)
{
	/* pcap (tcpdump) file format: magic, v2.4, UTC, snaplen, LINKTYPE_ETHERNET (1) */
	const uint32_t h32[] = {0xa1b2c3d4u};
	const uint16_t ver[] = {2, 4};
	const uint32_t rest[] = {0, 0, 262144, 1};
	(void)fwrite(h32, sizeof(h32), 1, out); /* ferror(out) below tells */
	(void)fwrite(ver, sizeof(ver), 1, out);
	(void)fwrite(rest, sizeof(rest), 1, out);
	return ferror(out) ? -EIO : 0;
}

/* a segment fits any IPv4 or IPv6 packet (their length fields are 16 bits) */
#define PCAP_SEG_MAX 64000u

/* one TCP segment: the headers of Ethernet, IP and TCP built here, then the payload */
static void pcap_segment(FILE *out, const struct core_trace_rec *r, const char *p, size_t n,
                         uint32_t seq, uint32_t ack)
{
	uint8_t h[14 + 40 + 20];
	bool in = r->dir == CORE_TRACE_IN, v6 = r->family == 6;
	const uint8_t *src = in ? r->peer : r->local, *dst = in ? r->local : r->peer;
	size_t alen = v6 ? 16 : 4, iph = v6 ? 40 : 20, hl = 14 + iph + 20;
	uint8_t *ip = h + 14, *tcp = h + 14 + iph;
	memset(h, 0, sizeof(h));
	/* locally administered MACs: ..:01 is the peer, ..:02 is siptlsd */
	h[0] = h[6] = 0x02;
	h[5] = in ? 2 : 1;
	h[11] = in ? 1 : 2;
	put16(h + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(20 + n));
		ip[6] = 6; /* TCP */
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + 20 + n));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	}
	put16(tcp, in ? r->peer_port : r->local_port);
	put16(tcp + 2, in ? r->local_port : r->peer_port);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = 0x18; /* PSH, ACK */
	put16(tcp + 14, 0xffff);
	/* the pseudo-header (RFC 793 3.1, RFC 8200 8.1): addresses, protocol, TCP length */
	uint32_t sum = csum_add(csum_add(0, src, alen), dst, alen) + 6 + (uint32_t)(20 + n);
	sum = csum_add(csum_add(sum, tcp, 20), (const uint8_t *)p, n);
	put16(tcp + 16, csum_fold(sum));
	uint32_t rec[4] = {(uint32_t)(r->ts_ns / 1000000000u),
	                   (uint32_t)(r->ts_ns % 1000000000u / 1000u), (uint32_t)(hl + n),
	                   (uint32_t)(hl + n)};
	(void)fwrite(rec, sizeof(rec), 1, out); /* the caller's ferror(out) tells */
	(void)fwrite(h, 1, hl, out);
	(void)fwrite(p, 1, n, out);
}

int core_trace_write_pcap(FILE *out, const struct core_trace_rec *r, const char *msg,
                          struct core_trace_tcp *tcp)
{
	unsigned d = r->dir == CORE_TRACE_OUT;
	size_t o = 0;
	do { /* an empty message still makes one packet */
		size_t n = r->len - o > PCAP_SEG_MAX ? PCAP_SEG_MAX : r->len - o;
		pcap_segment(out, r, msg + o, n, tcp->seq[d], tcp->seq[!d]);
		tcp->seq[d] += (uint32_t)n;
		o += n;
	} while (o < r->len);
	return ferror(out) ? -EIO : 0;
}

/* ---- the sink --------------------------------------------------------------------------- */

static struct core_trace_tcp *tcp_entry(struct core_trace *t, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	struct core_trace_tcp *e = &t->tcp[(h >> 40) % CORE_TRACE_TCP_SLOTS];
	if (e->key != key) { /* a new stream (or a collision: its numbers restart) */
		e->key = key;
		e->seq[0] = (uint32_t)h;
		e->seq[1] = (uint32_t)(h >> 32);
	}
	return e;
}

static void syslog_line(void *arg, const char *line, size_t n)
{
	(void)arg;
	syslog(LOG_DEBUG, "%.*s", (int)n, line);
}

static void sink_write(struct core_trace *t, const struct core_trace_rec *r, const char *msg)
{
	int rc = 0;
	if (!t->sink)
		return;
	switch (t->form) {
	case CORE_TRACE_PCAP:
		rc = core_trace_write_pcap(t->f, r, msg, tcp_entry(t, r->key));
		break;
	case CORE_TRACE_TEXT:
		rc = core_trace_write_text(t->f, r, msg);
		break;
	case CORE_TRACE_SYSLOG:
	default:
		core_trace_lines(r, msg, syslog_line, NULL);
		break;
	}
	if (rc < 0) {
		atomic_fetch_add_explicit(&t->write_errors, 1, memory_order_relaxed);
		clearerr(t->f);
	}
}

static bool scratch_fit(struct core_trace *t, size_t n)
{
	if (n <= t->scratch_cap)
		return true;
	char *p = realloc(t->scratch, n);
	if (!p)
		return false;
	t->scratch = p;
	t->scratch_cap = n;
	return true;
}

size_t core_trace_drain(struct core_trace *t)
{
	size_t taken = 0;
	for (unsigned i = 0; i < t->nrings; i++) {
		struct core_trace_ring *r = &t->rings[i];
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
		uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
		while (tail != head) {
			struct core_trace_rec h;
			ring_get(r, tail, &h, sizeof(h));
			if (scratch_fit(t, (size_t)h.len + 1)) {
				ring_get(r, tail + sizeof(h), t->scratch, h.len);
				t->scratch[h.len] = '\0';
				sink_write(t, &h, t->scratch);
			} else if (t->sink) {
				atomic_fetch_add_explicit(&t->write_errors, 1,
				                          memory_order_relaxed);
			}
			tail += sizeof(h) + ALIGN8((size_t)h.len);
			/* per record: the worker gets the room back as soon as possible */
			atomic_store_explicit(&r->tail, tail, memory_order_release);
			taken++;
		}
	}
	if (taken && t->f && fflush(t->f) != 0) {
		atomic_fetch_add_explicit(&t->write_errors, 1, memory_order_relaxed);
		clearerr(t->f);
	}
	return taken;
}

/* the file, created 0600 (it holds decrypted signalling), appended to; pcap gets its header
 * when the file is new or empty */
static int sink_open(struct core_trace *t, char *err, size_t errlen)
{
	if (t->form == CORE_TRACE_SYSLOG) {
		t->sink = true;
		return 0;
	}
	int fd = open(t->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", t->path, strerror(e));
		return -e;
	}
	if (!(t->f = fdopen(fd, "a"))) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", t->path, strerror(e));
		return -e;
	}
	if (t->form == CORE_TRACE_PCAP && st.st_size == 0 &&
	    (core_trace_write_pcap_header(t->f) < 0 || fflush(t->f) != 0)) {
		snprintf(err, errlen, "%s: cannot write the pcap header", t->path);
		(void)fclose(t->f); /* already failing: the error is the header's */
		t->f = NULL;
		return -EIO;
	}
	t->sink = true;
	return 0;
}

static void sink_close(struct core_trace *t)
{
	if (t->f && fclose(t->f) != 0)
		atomic_fetch_add_explicit(&t->write_errors, 1, memory_order_relaxed);
	t->f = NULL;
	t->sink = false;
}

/* ---- lifetime --------------------------------------------------------------------------- */

static enum core_trace_form form_of(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (!path)
		return CORE_TRACE_SYSLOG;
	return n >= 5 && strcasecmp(path + n - 5, ".pcap") == 0 ? CORE_TRACE_PCAP : CORE_TRACE_TEXT;
}

int core_trace_init(struct core_trace *t, unsigned nrings, size_t ring_bytes, const char *path)
{
	size_t cap = 4096;
	while (cap < ring_bytes)
		cap <<= 1;
	memset(t, 0, sizeof(*t));
	t->form = form_of(path);
	size_t rbytes = (nrings ? nrings : 1) * sizeof(*t->rings);
	t->rings = aligned_alloc(_Alignof(struct core_trace_ring), rbytes);
	if (t->rings)
		memset(t->rings, 0, rbytes);
	t->tcp = calloc(CORE_TRACE_TCP_SLOTS, sizeof(*t->tcp));
	t->path = path ? strdup(path) : NULL;
	if (!t->rings || !t->tcp || (path && !t->path))
		goto nomem;
	t->nrings = nrings;
	for (unsigned i = 0; i < nrings; i++) {
		/* calloc of this size maps fresh pages: untouched until tracing writes them */
		if (!(t->rings[i].buf = calloc(1, cap)))
			goto nomem;
		t->rings[i].cap = cap;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->mu, NULL);
	t->ready = true;
	return 0;
nomem:
	for (unsigned i = 0; t->rings && i < nrings; i++)
		free(t->rings[i].buf);
	free(t->rings);
	free(t->tcp);
	free(t->path);
	memset(t, 0, sizeof(*t));
	return -ENOMEM;
}

/* the writer: drains every CORE_TRACE_POLL_MS while tracing is on, sleeps while it is off */
static void *writer_main(void *arg)
{
	struct core_trace *t = arg;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		if (!atomic_load_explicit(&t->on, memory_order_relaxed)) {
			pthread_cond_wait(&t->cv, &t->mu);
			continue;
		}
		core_trace_drain(t);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += CORE_TRACE_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->cv, &t->mu, &until);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int core_trace_start(struct core_trace *t)
{
	if (!t->ready)
		return -EINVAL;
	int rc = pthread_create(&t->thread, NULL, writer_main, t);
	if (rc != 0)
		return -rc;
	t->thread_started = true;
	return 0;
}

int core_trace_enable(struct core_trace *t, char *err, size_t errlen)
{
	int rc = 0;
	if (!t->ready) {
		snprintf(err, errlen, "tracing is not available in this process");
		return -ENODEV;
	}
	pthread_mutex_lock(&t->mu);
	if (!atomic_load_explicit(&t->on, memory_order_relaxed)) {
		core_trace_drain(t); /* no sink yet: what an earlier session left is discarded */
		rc = sink_open(t, err, errlen);
		if (rc == 0) {
			atomic_store_explicit(&t->on, true, memory_order_release);
			pthread_cond_signal(&t->cv);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void core_trace_disable(struct core_trace *t)
{
	if (!t->ready)
		return;
	pthread_mutex_lock(&t->mu);
	atomic_store_explicit(&t->on, false, memory_order_relaxed);
	core_trace_drain(t);
	sink_close(t);
	pthread_mutex_unlock(&t->mu);
}

int core_trace_setup(struct core_trace *t, unsigned nrings, const char *path)
{
	char err[256];
	int rc = core_trace_init(t, nrings, CORE_TRACE_RING_BYTES, path);
	if (rc == 0 && (rc = core_trace_start(t)) < 0)
		snprintf(err, sizeof(err), "no writer thread: %s", strerror(-rc));
	else if (rc < 0)
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	else if (path && (rc = core_trace_enable(t, err, sizeof(err))) == 0)
		core_log(LOG_NOTICE, "SIP message tracing on (--trace-sip %s)", path);
	if (rc < 0)
		core_log(LOG_ERR, "SIP message tracing: %s", err);
	return rc;
}

void core_trace_free(struct core_trace *t)
{
	if (!t->ready)
		return;
	if (t->thread_started) {
		pthread_mutex_lock(&t->mu);
		t->stop = true;
		pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->thread, NULL);
	}
	core_trace_disable(t); /* the workers are gone: everything they traced is written */
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	for (unsigned i = 0; i < t->nrings; i++)
		free(t->rings[i].buf);
	free(t->rings);
	free(t->tcp);
	free(t->scratch);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

void core_trace_stats_get(struct core_trace *t, struct core_trace_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < t->nrings; i++) {
		s->traced += atomic_load_explicit(&t->rings[i].traced, memory_order_relaxed);
		s->dropped += atomic_load_explicit(&t->rings[i].dropped, memory_order_relaxed);
	}
	s->write_errors = atomic_load_explicit(&t->write_errors, memory_order_relaxed);
	s->on = core_trace_on(t);
}

/* ---- the control socket's answers ------------------------------------------------------- */

static const char *form_name(enum core_trace_form f)
{
	return f == CORE_TRACE_PCAP ? "pcap" : f == CORE_TRACE_TEXT ? "text" : "syslog";
}

int core_trace_command(struct core_trace *t, bool on, bool all, FILE *out)
{
	char err[256];
	struct core_trace_stats s;
	if (on) {
		int rc = core_trace_enable(t, err, sizeof(err));
		if (rc < 0) {
			fprintf(out, "%% Cannot start SIP message tracing: %s\n", err);
			return rc;
		}
		fputs("SIP Call messages tracing is enabled\n", out);
		if (t->path)
			fprintf(out, "Writing to %s (%s)\n", t->path, form_name(t->form));
		else
			fputs("Writing to syslog (facility daemon, priority debug)\n", out);
		return 0;
	}
	core_trace_disable(t);
	core_trace_stats_get(t, &s);
	fputs(all ? "All possible debugging has been turned off\n"
	          : "SIP Call messages tracing is disabled\n",
	      out);
	fprintf(out, "Messages traced %" PRIu64 ", dropped %" PRIu64 ", write errors %" PRIu64 "\n",
	        s.traced, s.dropped, s.write_errors);
	return 0;
}

void core_trace_print_stats(struct core_trace *t, FILE *out, bool json)
{
	struct core_trace_stats s;
	core_trace_stats_get(t, &s);
	if (json) {
		fprintf(out,
		        ",\"trace_on\":%s,\"trace_traced\":%" PRIu64 ",\"trace_dropped\":%" PRIu64
		        ",\"trace_write_errors\":%" PRIu64,
		        s.on ? "true" : "false", s.traced, s.dropped, s.write_errors);
		return;
	}
	fprintf(out, "%-34s %s\n", "trace_on", s.on ? "yes" : "no");
	fprintf(out, "%-34s %" PRIu64 "\n", "trace_traced", s.traced);
	fprintf(out, "%-34s %" PRIu64 "\n", "trace_dropped", s.dropped);
	fprintf(out, "%-34s %" PRIu64 "\n", "trace_write_errors", s.write_errors);
}

/* ---- the workers' hook (core/wk.h) ------------------------------------------------------ */

/* address and port of ss into the record's form; false when it is not an IP address */
static bool rec_addr(const struct sockaddr_storage *ss, uint8_t *a, uint16_t *port, bool *v6)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		memcpy(a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		*v6 = false;
		return true;
	}
	if (ss->ss_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	*port = ntohs(s6->sin6_port);
	*v6 = !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr); /* a dual-stack socket's IPv4 peer */
	memcpy(a, *v6 ? s6->sin6_addr.s6_addr : s6->sin6_addr.s6_addr + 12, *v6 ? 16 : 4);
	return true;
}

static void v4_mapped(uint8_t *a)
{
	memmove(a + 12, a, 4);
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
}

void wk_trace_msg(struct worker *w, const struct conn *c, enum core_trace_dir dir,
                  const struct iovec *iov, int n)
{
	struct core_trace_rec r;
	bool v6p = false, v6l = false;
	memset(&r, 0, sizeof(r));
	r.key = c->id;
	r.conn = worker_public_id(w->idx, c->slot);
	r.tenant = c->g->tenants[c->tenant].tag;
	r.dir = (uint8_t)dir;
	rec_addr(&c->peer, r.peer, &r.peer_port, &v6p);
	rec_addr(&c->local, r.local, &r.local_port, &v6l); /* upstream: recorded at connect */
	r.family = v6p || v6l ? 6 : 4;
	if (v6p != v6l) /* one side IPv4 (mapped), the other not: both as IPv6 */
		v4_mapped(v6p ? r.local : r.peer);
	(void)core_trace_push(&w->d->trace, w->idx, &r, iov, n);
}
