/* siptls-bench: SIP-over-TLS load generator (UAC, UAS, handshakes, idle connections).
 * Command line -> TLS context -> one event loop per thread -> progress lines -> summary. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "bench/loadgen/lg.h"
#include "bench/loadgen/report.h"
#include "core/version.h"

static const char usage[] =
    "Usage: siptls-bench MODE [options]\n"
    "Modes:\n"
    "  uas        answer SIP over TLS: INVITE -> 100, 180, 200 (SDP, To tag, Contact);\n"
    "             ACK -> nothing; any other request -> 200. Runs until SIGINT/SIGTERM or\n"
    "             --duration.\n"
    "  uac        send transactions over --conns persistent TLS connections and measure them:\n"
    "             closed loop (--window in flight per connection) or open loop (--rate)\n"
    "  handshake  fresh connections, one full TLS handshake each (no resumption): handshakes/s\n"
    "  idle       open --conns TLS connections, then hold them all for --duration (memory\n"
    "             per connection of the peer)\n"
    "\n"
    "TLS and addresses:\n"
    "  -t, --target HOST:PORT   uac/handshake/idle: where to connect [127.0.0.1:5061]\n"
    "  -l, --listen ADDR:PORT   uas: where to listen [127.0.0.1:5062]; the 200's Contact\n"
    "                           names this address\n"
    "      --cert FILE          our certificate chain, PEM (uas: required; others: the client\n"
    "                           certificate for mutual TLS)\n"
    "      --key FILE           its private key, PEM\n"
    "      --ca FILE            uas: require a client certificate chaining to FILE;\n"
    "                           others: verify the server's certificate against FILE\n"
    "                           (without --ca the server is not verified)\n"
    "      --sni NAME           send NAME as SNI; with --ca the server certificate must also\n"
    "                           match NAME (RFC 6125)\n"
    "\n"
    "Load:\n"
    "  -T, --threads N          threads, each with its own epoll loop and an equal share of\n"
    "                           the connections, the rate and the count [1]\n"
    "  -d, --duration S         seconds of load, fractions allowed (uas: exit after S; 0:\n"
    "                           only on a signal) [uac, handshake, idle: 10; uas: 0]\n"
    "  -n, --count N            uac: start at most N transactions (a call is two: INVITE and\n"
    "                           BYE); handshake: N handshakes; 0: only --duration bounds [0]\n"
    "  -s, --scenario NAME      uac: options (OPTIONS -> 200) or call (INVITE -> 100/180/200\n"
    "                           -> ACK -> BYE -> 200, Route set from Record-Route) [call]\n"
    "  -c, --conns N            uac: persistent connections [10]; handshake: handshakes in\n"
    "                           flight [4]; idle: connections to open and hold [100]\n"
    "  -w, --window W           uac closed loop: OPTIONS or calls in flight per connection [1]\n"
    "  -r, --rate R             uac open loop: start R calls/s (call) or OPTIONS/s, whatever\n"
    "                           the answers do, round robin over the connections [0: closed]\n"
    "      --timeout MS         uac: no final response after MS is a timeout; all modes: a\n"
    "                           connect or TLS handshake taking longer fails [5000]\n"
    "      --user USER          uac: Request-URI user part, sip:USER@HOST:PORT of --target\n"
    "                           [1000]\n"
    "      --delay MS           uas: hold every final response MS (100 and 180 go at once) [0]\n"
    "  -p, --parallel N         idle: TLS handshakes in flight while opening [64]\n"
    "\n"
    "Output:\n"
    "      --json               the final summary as one JSON object on stdout\n"
    "  -q, --quiet              no progress line each second (on stderr)\n"
    "  -V, --version            versions of siptls-bench, OpenSSL and the allocator\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit status: 0 when every transaction (or handshake, or connection) succeeded, 1 when\n"
    "any failed or none was made, 2 on a usage or setup error.\n";

enum { O_CERT = 256, O_KEY, O_CA, O_SNI, O_TIMEOUT, O_USER, O_DELAY, O_JSON };

static const struct option longopts[] = {
    {"target", required_argument, NULL, 't'},   {"listen", required_argument, NULL, 'l'},
    {"cert", required_argument, NULL, O_CERT},  {"key", required_argument, NULL, O_KEY},
    {"ca", required_argument, NULL, O_CA},      {"sni", required_argument, NULL, O_SNI},
    {"threads", required_argument, NULL, 'T'},  {"duration", required_argument, NULL, 'd'},
    {"count", required_argument, NULL, 'n'},    {"scenario", required_argument, NULL, 's'},
    {"conns", required_argument, NULL, 'c'},    {"window", required_argument, NULL, 'w'},
    {"rate", required_argument, NULL, 'r'},     {"timeout", required_argument, NULL, O_TIMEOUT},
    {"user", required_argument, NULL, O_USER},  {"delay", required_argument, NULL, O_DELAY},
    {"parallel", required_argument, NULL, 'p'}, {"json", no_argument, NULL, O_JSON},
    {"quiet", no_argument, NULL, 'q'},          {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
};

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "siptls-bench: %s%s%s\n(siptls-bench --help lists the options)\n", what,
	        arg ? ": " : "", arg ? arg : "");
	return 2;
}

static const char *opt_name(int ch)
{
	for (const struct option *lo = longopts; lo->name; lo++)
		if (lo->val == ch)
			return lo->name;
	return "?";
}

static int num(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

/* "host:port" or "[v6]:port" -> o->addr, o->host, o->port */
static int parse_addr(const char *s, struct lg_opts *o)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hn = colon ? (size_t)(colon - s) : 0;
	if (!colon || hn == 0)
		return -1;
	if (s[0] == '[') {
		if (hn < 2 || s[hn - 1] != ']')
			return -1;
		h = s + 1;
		hn -= 2;
	}
	if (hn >= sizeof(o->host))
		return -1;
	memcpy(o->host, h, hn);
	o->host[hn] = 0;
	double p;
	if (num(colon + 1, 1, 65535, &p) < 0)
		return -1;
	o->port = (unsigned)p;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(o->host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int parse_mode(const char *s, enum lg_mode *m)
{
	static const char *names[] = {"uas", "uac", "handshake", "idle"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*m = (enum lg_mode)i;
			return 0;
		}
	return -1;
}

static int parse_opt(int ch, const char *arg, struct lg_opts *o, const char **addr, bool *conns_set)
{
	double v;
	switch (ch) {
	case 't':
	case 'l':
		*addr = arg;
		return 0;
	case O_CERT:
		o->cert = arg;
		return 0;
	case O_KEY:
		o->key = arg;
		return 0;
	case O_CA:
		o->ca = arg;
		return 0;
	case O_SNI:
		o->sni = arg;
		return 0;
	case O_USER:
		o->user = arg;
		return 0;
	case O_JSON:
		o->json = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 's':
		if (strcmp(arg, "options") != 0 && strcmp(arg, "call") != 0)
			return usage_error("--scenario: options or call", arg);
		o->scen = strcmp(arg, "call") == 0 ? LG_CALL : LG_OPTIONS;
		return 0;
	default:
		break;
	}
	/* numbers */
	static const struct {
		int ch;
		double min, max;
	} lim[] = {{'T', 1, 256},           {'d', 0, 86400},       {'n', 0, 1e15},
	           {'c', 1, 1000000},       {'w', 1, 100000},      {'r', 0, 1e8},
	           {O_TIMEOUT, 1, 3600000}, {O_DELAY, 0, 3600000}, {'p', 1, 100000}};
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		if (lim[i].ch != ch)
			continue;
		if (num(arg, lim[i].min, lim[i].max, &v) < 0) {
			fprintf(stderr, "siptls-bench: --%s: '%s' is not a number in %g..%g\n",
			        opt_name(ch), arg, lim[i].min, lim[i].max);
			return 2;
		}
		switch (ch) {
		case 'T':
			o->threads = (unsigned)v;
			break;
		case 'd':
			o->duration = v;
			break;
		case 'n':
			o->count = (uint64_t)v;
			break;
		case 'c':
			o->conns = (unsigned)v;
			*conns_set = true;
			break;
		case 'w':
			o->window = (unsigned)v;
			break;
		case 'r':
			o->rate = v;
			break;
		case O_TIMEOUT:
			o->timeout_ms = (unsigned)v;
			break;
		case O_DELAY:
			o->delay_ms = (unsigned)v;
			break;
		default:
			o->hs_parallel = (unsigned)v;
			break;
		}
		return 0;
	}
	return usage_error("unknown option", NULL);
}

static int parse_args(int argc, char **argv, struct lg_opts *o)
{
	*o = (struct lg_opts){.scen = LG_CALL,
	                      .conns = 10,
	                      .window = 1,
	                      .threads = 1,
	                      .hs_parallel = 64,
	                      .timeout_ms = 5000,
	                      .user = "1000",
	                      .duration = -1};
	const char *addr = NULL;
	bool conns_set = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "t:l:T:d:n:s:c:w:r:p:qVh", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (ch == 'V') {
			core_version_print(stdout, "siptls-bench");
			exit(0);
		}
		if (ch == '?')
			return 2;
		int rc = parse_opt(ch, optarg, o, &addr, &conns_set);
		if (rc)
			return rc;
	}
	if (optind != argc - 1 || parse_mode(argv[optind], &o->mode) < 0)
		return usage_error("one MODE: uas, uac, handshake or idle",
		                   optind < argc ? argv[optind] : NULL);
	if (o->duration < 0)
		o->duration = o->mode == LG_UAS ? 0 : 10;
	if (!conns_set)
		o->conns = o->mode == LG_HANDSHAKE ? 4 : o->mode == LG_IDLE ? 100 : 10;
	if (!addr)
		addr = o->mode == LG_UAS ? "127.0.0.1:5062" : "127.0.0.1:5061";
	if (parse_addr(addr, o) < 0)
		return usage_error("not HOST:PORT (or [v6]:PORT) or does not resolve", addr);
	if (o->mode == LG_UAS && (!o->cert || !o->key))
		return usage_error("uas needs --cert and --key", NULL);
	if (!o->cert != !o->key)
		return usage_error("--cert and --key go together", NULL);
	if (o->mode != LG_UAS && o->duration == 0 && (o->count == 0 || o->mode == LG_IDLE))
		return usage_error("unbounded: give --duration or --count", NULL);
	if (o->threads > o->conns && o->mode != LG_UAS)
		o->threads = o->conns; /* every thread needs a connection */
	return 0;
}

static SSL_CTX *make_ctx(const struct lg_opts *o)
{
	bool server = o->mode == LG_UAS;
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* a retry after WANT_WRITE may pass the send buffer after a realloc, with more bytes */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          (o->mode == LG_IDLE ? SSL_MODE_RELEASE_BUFFERS : 0));
	/* no resumption anywhere: every handshake in handshake mode is a full one */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (server)
		SSL_CTX_set_num_tickets(ctx, 0);
	if (o->cert && (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	                SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
	                SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	if (o->ca) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(
		    ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	lg_stop_flag = 1;
}

static void *thread_main(void *arg)
{
	struct lg_thr *t = arg;
	int rc = lg_thr_init(t);
	if (rc == 0) {
		t->now = lg_now();
		if (t->o->mode == LG_UAS)
			rc = lg_uas_init(t);
		else if (t->o->mode == LG_UAC)
			rc = lg_uac_init(t);
		else
			rc = lg_hs_init(t);
	}
	if (rc == 0)
		lg_run(t);
	else
		lg_stop_flag = 1;
	if (t->load_end == 0)
		t->load_end = lg_now();
	lg_thr_fini(t);
	lg_uac_fini(t);
	lg_uas_fini(t);
	lg_hs_fini(t);
	__atomic_store_n(&t->finished, true, __ATOMIC_RELEASE);
	return rc == 0 ? NULL : (void *)1;
}

static void raise_nofile(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* share i of total over n threads (the first ones take the remainder) */
static uint64_t share(uint64_t total, unsigned n, unsigned i)
{
	return total / n + (i < total % n);
}

static bool all_finished(struct lg_thr *th, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!__atomic_load_n(&th[i].finished, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* progress once a second until every thread is done */
static void watch(struct lg_thr *th, unsigned n, const struct lg_opts *o)
{
	struct lg_progress p;
	lg_progress_init(&p);
	uint64_t start = lg_now(), next = start + 1000000000u;
	while (!all_finished(th, n)) {
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
		uint64_t now = lg_now();
		if (now < next)
			continue;
		if (!o->quiet)
			lg_progress_line(&p, th, n, o, (double)(now - start) / 1e9);
		next += 1000000000u;
	}
	lg_progress_fini(&p);
}

int main(int argc, char **argv)
{
	struct lg_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) /* else a peer's reset kills us mid-send */
		return 2;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	raise_nofile();
	SSL_CTX *ctx = make_ctx(&o);
	if (!ctx) {
		fprintf(stderr, "siptls-bench: TLS setup (--cert/--key/--ca): ");
		ERR_print_errors_fp(stderr);
		return 2;
	}
	struct lg_thr *th = calloc(o.threads, sizeof(*th));
	if (!th)
		return 2;
	for (unsigned i = 0; i < o.threads; i++) {
		struct lg_thr *t = &th[i];
		t->o = &o;
		t->ctx = ctx;
		t->id = i;
		t->conn_share = (unsigned)share(o.conns, o.threads, i);
		t->count_share = share(o.count, o.threads, i);
		t->rate_share = o.rate / o.threads;
		if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
			fprintf(stderr, "siptls-bench: cannot start thread %u\n", i);
			return 2;
		}
	}
	watch(th, o.threads, &o);
	bool setup_failed = false;
	for (unsigned i = 0; i < o.threads; i++) {
		void *ret;
		pthread_join(th[i].tid, &ret);
		setup_failed |= ret != NULL;
	}
	rc = setup_failed ? 2 : lg_report(th, o.threads, &o);
	free(th);
	SSL_CTX_free(ctx);
	return rc;
}
