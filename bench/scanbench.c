/* siptls-scanbench: our zero-copy SIP scanner against libosip2, sofia-sip and libre, side by
 * side in one run, on one deterministic stream of trunk traffic (bench/corpus.c).
 *
 * Every parser does the same job per message (bench.h): frame it, index its headers, decode the
 * top Via and the Request-URI. Before timing, each parser's results are checked against the
 * generator's ground truth for every message of the corpus (and so against each other); during
 * timing, every pass over the corpus must end with the same digest. Runs are interleaved
 * (ours, osip, sofia, re, ours, ...) so that machine noise hits all parsers alike, and timed
 * on the thread's CPU clock, so time the scheduler gives to other processes is not counted.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "bench/corpus.h"
#include "core/version.h"

#define PROG "siptls-scanbench"
#define MAX_PARSERS 4
#define MAX_RUNS 1000

static const struct bench_parser *const ALL[MAX_PARSERS] = {&bench_ours, &bench_osip, &bench_sofia,
                                                            &bench_re};

struct opts {
	double seconds;
	unsigned runs;
	unsigned messages;
	unsigned long long seed;
	const char *parsers;
	const char *dump;
	int cpu;
	bool json, check_only;
};

struct sample {
	double msgs_per_s, bytes_per_s;
	double cpu_s, wall_s;
	unsigned long long msgs, bytes;
};

struct result {
	const struct bench_parser *p;
	struct sample run[MAX_RUNS];
	unsigned nrun;
	double med_msgs, min_msgs, max_msgs, med_bytes, min_bytes, max_bytes;
};

/* the work of every pass lands here, so no parser's calls are dead code */
static volatile uint64_t sink;

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: " PROG " [OPTION]...\n"
	    "Measures SIP parsing speed (messages/s and bytes/s on one core) of the siptlsd\n"
	    "scanner and, in the same run, of libosip2, sofia-sip and libre, on one\n"
	    "deterministic stream of SIP trunk traffic (INVITE+SDP, 100/180/200, ACK, BYE, 200,\n"
	    "OPTIONS, REGISTER; 400-1500 bytes each; mixed case and compact header names).\n"
	    "Each parser frames every message, indexes its headers, decodes the top Via and the\n"
	    "Request-URI; results are checked against the generator's ground truth first.\n"
	    "\n"
	    "Options:\n"
	    "  -s, --seconds=S     CPU seconds per timed run (default 1.0)\n"
	    "  -r, --runs=N        timed runs per parser, interleaved between parsers (default 5)\n"
	    "  -m, --messages=N    messages in the corpus (default 2000, about 1.36 MB)\n"
	    "      --seed=N        corpus seed (default 1); same seed, same bytes\n"
	    "  -p, --parsers=LIST  comma-separated subset of: ours,osip,sofia,re (default all)\n"
	    "      --cpu=N         pin the process to CPU N before measuring\n"
	    "      --check         verify every parser against the ground truth, then exit\n"
	    "      --dump=FILE     write the corpus stream to FILE and exit\n"
	    "  -j, --json          print the results as JSON on stdout (progress on stderr)\n"
	    "  -h, --help          print this help and exit\n"
	    "  -V, --version       print version, OpenSSL, liburing and allocator, and exit\n"
	    "\n"
	    "Rates are medians over the runs (min and max shown) of messages and bytes per CPU\n"
	    "second of the measuring thread. \"vs ours\" is a parser's median messages/s\n"
	    "divided by ours; \"ours x\" is the inverse (how many times faster ours is).\n"
	    "Exit status: 0 on success, 1 when a parser disagrees with the ground truth or\n"
	    "fails on the corpus, 2 on bad usage.\n");
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SEED = 256, O_CPU, O_CHECK, O_DUMP };
	static const struct option lo[] = {
	    {"seconds", required_argument, NULL, 's'},  {"runs", required_argument, NULL, 'r'},
	    {"messages", required_argument, NULL, 'm'}, {"seed", required_argument, NULL, O_SEED},
	    {"parsers", required_argument, NULL, 'p'},  {"cpu", required_argument, NULL, O_CPU},
	    {"check", no_argument, NULL, O_CHECK},      {"dump", required_argument, NULL, O_DUMP},
	    {"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},        {0},
	};
	unsigned long long v;
	char *end;
	int c;

	*o = (struct opts){.seconds = 1.0,
	                   .runs = 5,
	                   .messages = 2000,
	                   .seed = 1,
	                   .parsers = "ours,osip,sofia,re",
	                   .cpu = -1};
	while ((c = getopt_long(argc, argv, "s:r:m:p:jhV", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || end == optarg || !(o->seconds > 0 && o->seconds <= 3600))
				goto bad;
			break;
		case 'r':
			if (!parse_uint(optarg, MAX_RUNS, &v) || v == 0)
				goto bad;
			o->runs = (unsigned)v;
			break;
		case 'm':
			if (!parse_uint(optarg, 10000000, &v) || v == 0)
				goto bad;
			o->messages = (unsigned)v;
			break;
		case O_SEED:
			if (!parse_uint(optarg, ~0ull, &v))
				goto bad;
			o->seed = v;
			break;
		case 'p':
			o->parsers = optarg;
			break;
		case O_CPU:
			if (!parse_uint(optarg, CPU_SETSIZE - 1, &v))
				goto bad;
			o->cpu = (int)v;
			break;
		case O_CHECK:
			o->check_only = true;
			break;
		case O_DUMP:
			o->dump = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			core_version_print(stdout, PROG);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
bad:
	for (const struct option *l = lo; l->name; l++)
		if (l->val == c)
			fprintf(stderr, PROG ": bad value '%s' for --%s (see --help)\n", optarg,
			        l->name);
	return -1;
}

/* the parsers named in list, in list order; 0 or -1 */
static int select_parsers(const char *list, const struct bench_parser **out, unsigned *n)
{
	struct slice rest = slice_cstr(list);
	*n = 0;
	while (rest.n) {
		size_t k = slice_find(rest, ',');
		struct slice name = slice_sub(rest, 0, k);
		bool found = false;
		rest = k < rest.n ? slice_sub(rest, k + 1, rest.n) : slice_make(rest.p + k, 0);
		for (unsigned i = 0; i < MAX_PARSERS; i++) {
			if (slice_eq(name, slice_cstr(ALL[i]->name))) {
				for (unsigned j = 0; j < *n; j++)
					if (out[j] == ALL[i])
						goto dup;
				out[(*n)++] = ALL[i];
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, PROG ": unknown parser '%.*s' (ours,osip,sofia,re)\n",
			        SLICE_FMT(name));
			return -1;
		}
	dup:;
	}
	if (*n == 0) {
		fprintf(stderr, PROG ": no parser selected\n");
		return -1;
	}
	return 0;
}

/* ---- verification against the generator's ground truth ---- */

static bool field_differs(const char *parser, uint32_t i, const char *field, struct slice want,
                          struct slice got, bool nocase)
{
	bool same = nocase ? slice_case_eq(want, got) : slice_eq(want, got);
	if (!same)
		fprintf(stderr,
		        PROG ": %s disagrees on message %u: %s is \"%.*s\", expected \"%.*s\"\n",
		        parser, i, field, SLICE_FMT(got), SLICE_FMT(want));
	return !same;
}

static bool num_differs(const char *parser, uint32_t i, const char *field, unsigned long want,
                        unsigned long got)
{
	if (want != got)
		fprintf(stderr, PROG ": %s disagrees on message %u: %s is %lu, expected %lu\n",
		        parser, i, field, got, want);
	return want != got;
}

static bool fields_differ(const char *name, uint32_t i, const struct bench_fields *t,
                          const struct bench_fields *f)
{
	bool bad = false;
	bad |= num_differs(name, i, "framed length", t->len, f->len);
	bad |= num_differs(name, i, "status", t->status, f->status);
	bad |= field_differs(name, i, "method", t->method, f->method, false);
	bad |= field_differs(name, i, "top Via transport", t->transport, f->transport, true);
	bad |= field_differs(name, i, "top Via host", t->via_host, f->via_host, true);
	bad |= num_differs(name, i, "top Via port", t->via_port, f->via_port);
	bad |= field_differs(name, i, "top Via branch", t->branch, f->branch, false);
	bad |= field_differs(name, i, "R-URI user", t->ruri_user, f->ruri_user, false);
	bad |= field_differs(name, i, "R-URI host", t->ruri_host, f->ruri_host, true);
	return bad;
}

/* Every message of the corpus through p, each result compared with the truth; this is also
 * the warm-up pass. 0, or -1 after printing what differed. */
static int verify(const struct bench_parser *p, const struct bench_corpus *c)
{
	size_t off = 0;
	for (uint32_t i = 0; i < c->nmsg; i++) {
		struct bench_fields f;
		const struct bench_fields *t = &c->truth[i];
		long n = p->one(c->buf + off, c->len - off, &f);
		if (n <= 0) {
			size_t eol = slice_find(slice_make(c->buf + off, t->len), '\r');
			fprintf(stderr, PROG ": %s failed (%ld) on message %u: %.*s\n", p->name, n,
			        i, (int)eol, c->buf + off);
			p->release();
			return -1;
		}
		if (fields_differ(p->name, i, t, &f)) {
			p->release();
			return -1;
		}
		off += (size_t)n;
	}
	p->release();
	if (off != c->len) {
		fprintf(stderr, PROG ": %s framed %zu of %zu bytes\n", p->name, off, c->len);
		return -1;
	}
	return 0;
}

/* ---- timing ---- */

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* one pass over the corpus; the digest of everything the parser found */
static uint64_t pass(const struct bench_parser *p, const struct bench_corpus *c)
{
	uint64_t acc = 0;
	size_t off = 0;
	for (uint32_t i = 0; i < c->nmsg; i++) {
		struct bench_fields f;
		long n = p->one(c->buf + off, c->len - off, &f);
		if (n <= 0)
			return 0;
		acc = bench_fold(acc, &f);
		off += (size_t)n;
	}
	p->release();
	return acc;
}

/* passes over the corpus until `seconds` of thread CPU time are spent */
static int timed_run(const struct bench_parser *p, const struct bench_corpus *c, double seconds,
                     uint64_t digest, struct sample *s)
{
	double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC), c1;
	unsigned long long passes = 0;
	do {
		uint64_t d = pass(p, c);
		if (d != digest) {
			fprintf(stderr,
			        PROG ": %s: a timed pass gave digest %016llx, not %016llx\n",
			        p->name, (unsigned long long)d, (unsigned long long)digest);
			return -1;
		}
		sink += d;
		passes++;
		c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	} while (c1 - c0 < seconds);
	s->wall_s = clock_s(CLOCK_MONOTONIC) - w0;
	s->cpu_s = c1 - c0;
	s->msgs = passes * c->nmsg;
	s->bytes = passes * c->len;
	s->msgs_per_s = (double)s->msgs / s->cpu_s;
	s->bytes_per_s = (double)s->bytes / s->cpu_s;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void summarize(struct result *r)
{
	double m[MAX_RUNS], b[MAX_RUNS];
	unsigned n = r->nrun;
	if (n == 0) /* --runs is at least 1; without a run there is no median to take */
		return;
	for (unsigned i = 0; i < n; i++) {
		m[i] = r->run[i].msgs_per_s;
		b[i] = r->run[i].bytes_per_s;
	}
	qsort(m, n, sizeof(double), cmp_double);
	qsort(b, n, sizeof(double), cmp_double);
	r->med_msgs = n % 2 ? m[n / 2] : (m[n / 2 - 1] + m[n / 2]) / 2;
	r->med_bytes = n % 2 ? b[n / 2] : (b[n / 2 - 1] + b[n / 2]) / 2;
	r->min_msgs = m[0];
	r->max_msgs = m[n - 1];
	r->min_bytes = b[0];
	r->max_bytes = b[n - 1];
}

/* ---- output ---- */

static uint64_t truth_digest(const struct bench_corpus *c)
{
	uint64_t acc = 0;
	for (uint32_t i = 0; i < c->nmsg; i++)
		acc = bench_fold(acc, &c->truth[i]);
	return acc;
}

static void print_corpus(FILE *out, const struct bench_corpus *c, const struct opts *o)
{
	fprintf(out, "corpus: %u messages, %zu bytes (mean %.0f, min %zu, max %zu), seed %llu\n",
	        c->nmsg, c->len, (double)c->len / c->nmsg, c->min_len, c->max_len, o->seed);
	fprintf(out, "  mix:");
	for (int t = 0; t < BENCH_T__COUNT; t++)
		fprintf(out, "%s %s %u", t ? "," : "", bench_msg_type_name((enum bench_msg_type)t),
		        c->count[t]);
	fprintf(out, "\n");
}

static const struct result *find_ours(const struct result *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (r[i].p == &bench_ours)
			return &r[i];
	return NULL;
}

static void print_table(const struct result *r, unsigned n, const struct opts *o)
{
	const struct result *ours = find_ours(r, n);
	double best_peer = 0;

	printf(
	    "\n%u runs x %.2f s CPU per parser, interleaved; single thread; medians [min..max]\n\n",
	    o->runs, o->seconds);
	printf("%-6s %12s %25s %8s %19s %8s %7s\n", "parser", "msgs/s", "[min .. max]", "MB/s",
	       "[min .. max]", "vs ours", "ours x");
	for (unsigned i = 0; i < n; i++) {
		char ratio[16] = "-", times[16] = "-";
		if (ours) {
			snprintf(ratio, sizeof(ratio), "%.3f", r[i].med_msgs / ours->med_msgs);
			snprintf(times, sizeof(times), "%.1f", ours->med_msgs / r[i].med_msgs);
		}
		printf("%-6s %12.0f [%10.0f .. %10.0f] %8.1f [%7.1f .. %7.1f] %8s %7s\n",
		       r[i].p->name, r[i].med_msgs, r[i].min_msgs, r[i].max_msgs,
		       r[i].med_bytes / 1e6, r[i].min_bytes / 1e6, r[i].max_bytes / 1e6, ratio,
		       times);
		if (r[i].p != &bench_ours && r[i].med_msgs > best_peer)
			best_peer = r[i].med_msgs;
	}
	if (!ours)
		return;
	printf("\n");
	if (best_peer > 0)
		printf("ours / fastest peer: %.1fx messages/s (goal >= 10x): %s\n",
		       ours->med_msgs / best_peer,
		       ours->med_msgs >= 10 * best_peer ? "met" : "NOT met");
	printf("ours: %.2f GB/s per core (goal >= 1 GB/s): %s\n", ours->med_bytes / 1e9,
	       ours->med_bytes >= 1e9 ? "met" : "NOT met");
}

static void print_json(const struct result *r, unsigned n, const struct bench_corpus *c,
                       const struct opts *o)
{
	const struct result *ours = find_ours(r, n);
	printf("{\n  \"version\": 1,\n  \"allocator\": \"%s\",\n", core_version_allocator());
	printf("  \"corpus\": {\"messages\": %u, \"bytes\": %zu, \"min_len\": %zu, "
	       "\"max_len\": %zu, \"seed\": %llu},\n",
	       c->nmsg, c->len, c->min_len, c->max_len, o->seed);
	printf("  \"seconds_per_run\": %.3f,\n  \"runs\": %u,\n  \"clock\": \"thread-cpu\",\n",
	       o->seconds, o->runs);
	printf("  \"parsers\": [\n");
	for (unsigned i = 0; i < n; i++) {
		printf("    {\"name\": \"%s\", "
		       "\"msgs_per_s\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f}, "
		       "\"bytes_per_s\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f}",
		       r[i].p->name, r[i].med_msgs, r[i].min_msgs, r[i].max_msgs, r[i].med_bytes,
		       r[i].min_bytes, r[i].max_bytes);
		if (ours)
			printf(", \"ratio_to_ours\": %.6f", r[i].med_msgs / ours->med_msgs);
		printf(", \"runs\": [");
		for (unsigned k = 0; k < r[i].nrun; k++)
			printf("%s{\"msgs_per_s\": %.0f, \"bytes_per_s\": %.0f, \"cpu_s\": %.4f, "
			       "\"wall_s\": %.4f}",
			       k ? ", " : "", r[i].run[k].msgs_per_s, r[i].run[k].bytes_per_s,
			       r[i].run[k].cpu_s, r[i].run[k].wall_s);
		printf("]}%s\n", i + 1 < n ? "," : "");
	}
	printf("  ]");
	if (ours) {
		double best = 0;
		for (unsigned i = 0; i < n; i++)
			if (r[i].p != &bench_ours && r[i].med_msgs > best)
				best = r[i].med_msgs;
		printf(",\n  \"goals\": {\"ours_per_fastest_peer\": %.3f, \"ratio_met\": %s, "
		       "\"ours_bytes_per_s\": %.0f, \"gbps_met\": %s}",
		       best > 0 ? ours->med_msgs / best : 0.0,
		       best > 0 && ours->med_msgs >= 10 * best ? "true" : "false", ours->med_bytes,
		       ours->med_bytes >= 1e9 ? "true" : "false");
	}
	printf("\n}\n");
}

static int dump_corpus(const struct bench_corpus *c, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(c->buf, 1, c->len, f) != c->len || fclose(f) != 0) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(stderr, PROG ": wrote %zu bytes (%u messages) to %s\n", c->len, c->nmsg, path);
	return 0;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, PROG ": cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static int measure(struct result *res, unsigned np, const struct bench_corpus *c,
                   const struct opts *o, uint64_t digest)
{
	for (unsigned run = 0; run < o->runs; run++) {
		for (unsigned i = 0; i < np; i++) {
			struct result *r = &res[i];
			if (timed_run(r->p, c, o->seconds, digest, &r->run[r->nrun]) != 0)
				return -1;
			fprintf(stderr, "  run %u/%u %-6s %12.0f msgs/s %8.1f MB/s\n", run + 1,
			        o->runs, r->p->name, r->run[r->nrun].msgs_per_s,
			        r->run[r->nrun].bytes_per_s / 1e6);
			r->nrun++;
		}
	}
	for (unsigned i = 0; i < np; i++)
		summarize(&res[i]);
	return 0;
}

/* set-up and verification of every parser, then the timed runs and the report */
static int run(const struct bench_parser *const *sel, unsigned np, const struct bench_corpus *c,
               const struct opts *o)
{
	static struct result res[MAX_PARSERS];
	FILE *info = o->json ? stderr : stdout;

	print_corpus(info, c, o);
	for (unsigned i = 0; i < np; i++) {
		if (sel[i]->init(c->buf, c->len) != 0) {
			fprintf(stderr, PROG ": %s: library set-up failed\n", sel[i]->name);
			return 1;
		}
		if (verify(sel[i], c) != 0) {
			fprintf(stderr,
			        PROG ": %s does not parse the corpus as the generator wrote "
			             "it; its figures would mean nothing\n",
			        sel[i]->name);
			return 1;
		}
		res[i].p = sel[i];
	}
	fprintf(info, "verified: %u parser(s) agree with the ground truth on all %u messages\n", np,
	        c->nmsg);
	if (o->check_only)
		return 0;
	fflush(info); /* progress goes to stderr: keep the two in order on a terminal */
	if (measure(res, np, c, o, truth_digest(c)) != 0)
		return 1;
	if (o->json)
		print_json(res, np, c, o);
	else
		print_table(res, np, o);
	return 0;
}

int main(int argc, char **argv)
{
	const struct bench_parser *sel[MAX_PARSERS];
	struct bench_corpus corpus;
	struct opts o;
	unsigned np;
	int rc;

	if (parse_args(argc, argv, &o) != 0 || select_parsers(o.parsers, sel, &np) != 0)
		return 2;
	if (o.cpu >= 0 && pin_cpu(o.cpu) != 0)
		return 1;
	if (bench_corpus_make(&corpus, o.messages, o.seed) != 0) {
		fprintf(stderr, PROG ": out of memory for the corpus\n");
		return 1;
	}
	rc = o.dump ? dump_corpus(&corpus, o.dump) : run(sel, np, &corpus, &o);
	bench_corpus_free(&corpus);
	return rc;
}
