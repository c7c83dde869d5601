/* siptlsd: command line -> configuration -> daemon. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/version.h"
#include "io/listen.h"

static const char usage[] =
	"Usage: siptlsd -c FILE [options]                 run with a configuration file\n"
	"       siptlsd --check-config -c FILE            load and check it, print it, exit\n"
	"       siptlsd --listen ADDR:PORT --cert F --key F [--ca F] --upstream HOST:PORT [options]\n"
	"                                                 one trunk, no configuration file\n"
	"\n"
	"Configuration:\n"
	"  -c, --config FILE          configuration in the reference dialect (docs/config.md)\n"
	"      --check-config         parse FILE, load its certificates, print the normalised\n"
	"                             configuration and exit (0: good, 1: an error, printed)\n"
	"One trunk (instead of -c): tenant 0 listens on --listen and forwards every request to\n"
	"--upstream over TLS; with --ca both sides must present a certificate chaining to it.\n"
	"      --listen ADDR:PORT     e.g. 0.0.0.0:5061 or [::1]:5061\n"
	"      --cert FILE            our certificate (and chain), PEM\n"
	"      --key FILE             its private key, PEM\n"
	"      --ca FILE              CA bundle: require and verify client certificates, verify\n"
	"                             the upstream's certificate\n"
	"      --upstream HOST:PORT   where requests go (a name or an address)\n"
	"      --cn-san-validate MODE server | client | bidirectional (needs --ca)\n"
	"      --cn-san FQDN          a permitted client name (repeat; '*.domain' allowed)\n"
	"      --sni-send             put the upstream's host name in the ClientHello\n"
	"      --url-sips             Request-URIs toward the upstream use sips:\n"
	"\n"
	"Tuning (defaults in brackets):\n"
	"      --workers N            worker threads, each pinned to a CPU [one per online CPU]\n"
	"      --no-pin               do not pin workers to CPUs\n"
	"      --ring-entries N       io_uring submission queue entries per worker [256]\n"
	"      --buf-size N           provided receive buffer size, bytes [16384]\n"
	"      --buf-count N          provided receive buffers per worker, a power of two [1024]\n"
	"      --max-msg N            largest SIP message accepted, bytes; larger: 513 [65535]\n"
	"      --sendq-limit N        bytes queued per connection before refusing more [262144]\n"
	"      --handshake-timeout MS TLS handshake deadline [10000]\n"
	"      --idle-timeout MS      close connections idle this long; 0: never [0]\n"
	"      --connect-timeout MS   upstream TCP connect deadline [5000]\n"
	"      --txn-timeout MS       no final response within this: 408 [32000]\n"
	"      --invite-timeout MS    INVITE after a provisional (RFC 3261 timer C) [180000]\n"
	"      --drain-timeout MS     on SIGTERM, wait this long for transactions [5000]\n"
	"\n"
	"Admission (each refusal is counted in siptlsctl show stats; a `voice service voip` line of\n"
	"the configuration overrides its flag, docs/config.md):\n"
	"      --max-conns N          inbound connections, all workers; more are closed at accept,\n"
	"                             before TLS [the open-file limit less a quarter, at most 64]\n"
	"      --max-conns-per-source N  inbound connections per source address (IPv6: per /64)\n"
	"                             [no limit]\n"
	"      --conn-rate N          new connections per second per source [no limit]\n"
	"      --conn-burst N         connections a source may open at once before --conn-rate\n"
	"                             applies [the rate]\n"
	"      --max-headers N        header fields per message, 16..256; more: 400 [128]\n"
	"\n"
	"Operations:\n"
	"      --control PATH         the control socket siptlsctl talks to (mode 0600; 'none':\n"
	"                             no socket) [/run/siptlsd/control]\n"
	"\n"
	"Logging and debugging:\n"
	"      --log-level LEVEL      crit|err|warning|notice|info|debug [notice]\n"
	"  -f, --foreground           also write log lines to stderr\n"
	"      --tls-keylog FILE      append TLS secrets in NSS key log format (0600) so a capture\n"
	"                             can be decrypted; defeats TLS for what it records\n"
	"      --trace-sip FILE       trace every SIP message, decrypted, from the start (as\n"
	"                             siptlsctl debug ccsip messages) into FILE (0600): pcap when\n"
	"                             it ends in .pcap (Wireshark, sngrep), else text; without it\n"
	"                             debug ccsip messages writes to syslog (docs/operations.md)\n"
	"  -V, --version              versions of siptlsd, OpenSSL, liburing and the allocator\n"
	"  -h, --help                 this text\n"
	"\n"
	"Signals: SIGTERM/SIGINT stop accepting, let transactions in flight finish up to the drain\n"
	"timeout, then close every connection with close_notify. SIGHUP (or siptlsctl reload)\n"
	"reloads the configuration and certificate files for new connections; established ones\n"
	"keep theirs; a configuration that fails to load leaves the running one in force.\n";

enum {
	O_CHECK = 256, O_LISTEN, O_CERT, O_KEY, O_CA, O_UPSTREAM, O_CNSAN_MODE, O_CNSAN, O_SNI,
	O_SIPS, O_WORKERS, O_NOPIN, O_RING, O_BUFSZ, O_BUFCNT, O_MAXMSG, O_SENDQ, O_HS, O_IDLE,
	O_CONNECT, O_TXN, O_INVITE, O_DRAIN, O_LOGLEVEL, O_KEYLOG, O_CONTROL, O_TRACE,
	O_MAXCONNS, O_MAXSRC, O_RATE, O_BURST, O_MAXHDRS
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },	   { "check-config", no_argument, NULL, O_CHECK },
	{ "listen", required_argument, NULL, O_LISTEN },   { "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },	   { "ca", required_argument, NULL, O_CA },
	{ "upstream", required_argument, NULL, O_UPSTREAM },
	{ "cn-san-validate", required_argument, NULL, O_CNSAN_MODE },
	{ "cn-san", required_argument, NULL, O_CNSAN },	   { "sni-send", no_argument, NULL, O_SNI },
	{ "url-sips", no_argument, NULL, O_SIPS },	   { "workers", required_argument, NULL, O_WORKERS },
	{ "no-pin", no_argument, NULL, O_NOPIN },	   { "ring-entries", required_argument, NULL, O_RING },
	{ "buf-size", required_argument, NULL, O_BUFSZ },  { "buf-count", required_argument, NULL, O_BUFCNT },
	{ "max-msg", required_argument, NULL, O_MAXMSG },  { "sendq-limit", required_argument, NULL, O_SENDQ },
	{ "handshake-timeout", required_argument, NULL, O_HS },
	{ "idle-timeout", required_argument, NULL, O_IDLE },
	{ "connect-timeout", required_argument, NULL, O_CONNECT },
	{ "txn-timeout", required_argument, NULL, O_TXN },
	{ "invite-timeout", required_argument, NULL, O_INVITE },
	{ "drain-timeout", required_argument, NULL, O_DRAIN },
	{ "log-level", required_argument, NULL, O_LOGLEVEL },
	{ "control", required_argument, NULL, O_CONTROL },
	{ "trace-sip", required_argument, NULL, O_TRACE },
	{ "max-conns", required_argument, NULL, O_MAXCONNS },
	{ "max-conns-per-source", required_argument, NULL, O_MAXSRC },
	{ "conn-rate", required_argument, NULL, O_RATE },
	{ "conn-burst", required_argument, NULL, O_BURST },
	{ "max-headers", required_argument, NULL, O_MAXHDRS },
	{ "foreground", no_argument, NULL, 'f' },	   { "tls-keylog", required_argument, NULL, O_KEYLOG },
	{ "version", no_argument, NULL, 'V' },		   { "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *config;
	bool check;
	struct core_conf_trunk trunk;
	const char *listen, *upstream;
	struct core_log_opts log;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* a usage error: one line naming the option and the word at fault; exit status 2 */
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "siptlsd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(siptlsd --help lists the options)\n");
	va_end(ap);
	return 2;
}

/* a number in [min, max] or exit-worthy error */
static int number(const char *opt, const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || s[0] == '-')
		return fail("--%s: '%s' is not a number in %lu..%lu", opt, s, min, max);
	*out = v;
	return 0;
}

static int log_level(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} t[] = { { "crit", LOG_CRIT }, { "err", LOG_ERR }, { "error", LOG_ERR },
		  { "warning", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
		  { "debug", LOG_DEBUG } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].level;
	return -1;
}

/* "host:port" / "[v6]:port" into host and port (host copied into buf) */
static int host_port(const char *opt, const char *s, char *buf, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hn = colon ? (size_t)(colon - s) : 0;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return fail("--%s: '%s' is not [ADDRESS]:PORT", opt, s);
		h = s + 1;
		hn = (size_t)(rb - h);
		colon = rb + 1;
	}
	unsigned long p = 0;
	if (!colon || hn == 0 || hn >= cap)
		return fail("--%s: '%s' is not HOST:PORT", opt, s);
	if (number(opt, colon + 1, 1, 65535, &p))
		return 2;
	memcpy(buf, h, hn);
	buf[hn] = 0;
	*port = (uint16_t)p;
	return 0;
}

static int parse_mode(const char *s, enum tls_cn_san_mode *m)
{
	if (strcmp(s, "server") == 0)
		*m = TLS_CN_SAN_SERVER;
	else if (strcmp(s, "client") == 0)
		*m = TLS_CN_SAN_CLIENT;
	else if (strcmp(s, "bidirectional") == 0)
		*m = TLS_CN_SAN_BIDIRECTIONAL;
	else
		return fail("--cn-san-validate: '%s' is not server, client or bidirectional", s);
	return 0;
}

static int parse_args(int argc, char **argv, struct cli *cli, struct daemon_opts *o)
{
	static char lhost[256], uhost[256];
	unsigned long v = 0; /* read after a failed number() too, then discarded */
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "c:fVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cli->config = optarg; break;
		case O_CHECK: cli->check = true; break;
		case O_LISTEN: rc = host_port("listen", optarg, lhost, sizeof(lhost), &cli->trunk.listen_port);
			cli->trunk.listen_addr = lhost; cli->listen = optarg; break;
		case O_CERT: cli->trunk.cert = optarg; break;
		case O_KEY: cli->trunk.key = optarg; break;
		case O_CA: cli->trunk.ca = optarg; break;
		case O_UPSTREAM: rc = host_port("upstream", optarg, uhost, sizeof(uhost), &cli->trunk.upstream_port);
			cli->trunk.upstream_host = uhost; cli->upstream = optarg; break;
		case O_CNSAN_MODE: rc = parse_mode(optarg, &cli->trunk.cn_san_mode); break;
		case O_CNSAN:
			if (cli->trunk.n_cn_san == TLS_PROFILE_CN_SAN_MAX)
				return fail("--cn-san: more than %d names", TLS_PROFILE_CN_SAN_MAX);
			cli->trunk.cn_san[cli->trunk.n_cn_san++] = optarg;
			break;
		case O_SNI: cli->trunk.sni_send = true; break;
		case O_SIPS: cli->trunk.url_sips = true; break;
		case O_WORKERS: rc = number("workers", optarg, 1, 256, &v); o->workers = (unsigned)v; break;
		case O_NOPIN: o->pin = false; break;
		case O_RING: rc = number("ring-entries", optarg, 8, 32768, &v); o->ring_entries = (unsigned)v; break;
		case O_BUFSZ: rc = number("buf-size", optarg, 512, 1 << 20, &v); o->buf_size = (unsigned)v; break;
		case O_BUFCNT: rc = number("buf-count", optarg, 2, 32768, &v);
			if (rc == 0 && (v & (v - 1)))
				rc = fail("--buf-count: %s is not a power of two", optarg);
			o->buf_count = (unsigned)v; break;
		case O_MAXMSG: rc = number("max-msg", optarg, 1024, 1 << 20, &v); o->max_msg = (uint32_t)v; break;
		case O_SENDQ: rc = number("sendq-limit", optarg, 4096, 1ul << 30, &v); o->sendq_limit = v; break;
		case O_HS: rc = number("handshake-timeout", optarg, 1, 600000, &v); o->handshake_ms = (unsigned)v; break;
		case O_IDLE: rc = number("idle-timeout", optarg, 0, 86400000, &v); o->idle_ms = (unsigned)v; break;
		case O_CONNECT: rc = number("connect-timeout", optarg, 1, 600000, &v); o->connect_ms = (unsigned)v; break;
		case O_TXN: rc = number("txn-timeout", optarg, 1, 3600000, &v); o->txn_ms = (unsigned)v; break;
		case O_INVITE: rc = number("invite-timeout", optarg, 1, 3600000, &v); o->txn_invite_ms = (unsigned)v; break;
		case O_DRAIN: rc = number("drain-timeout", optarg, 0, 3600000, &v); o->drain_ms = (unsigned)v; break;
		case O_LOGLEVEL:
			if ((cli->log.max_level = log_level(optarg)) < 0)
				rc = fail("--log-level: '%s' is not crit|err|warning|notice|info|debug", optarg);
			break;
		case 'f': cli->log.to_stderr = true; break;
		case O_KEYLOG: o->keylog = optarg; break;
		case O_CONTROL: o->control = optarg; break;
		case O_TRACE: o->trace_sip = optarg; break;
		case O_MAXCONNS: rc = number("max-conns", optarg, 1, 10000000, &v);
			o->max_conns = (unsigned)v; break;
		case O_MAXSRC: rc = number("max-conns-per-source", optarg, 1, 1000000, &v);
			o->max_conns_source = (unsigned)v; break;
		case O_RATE: rc = number("conn-rate", optarg, 1, 1000000, &v);
			o->conn_rate = (unsigned)v; break;
		case O_BURST: rc = number("conn-burst", optarg, 1, 1000000, &v);
			o->conn_burst = (unsigned)v; break;
		case O_MAXHDRS: rc = number("max-headers", optarg, 16, CORE_CONF_MAX_HEADERS, &v);
			o->max_headers = (unsigned)v; break;
		case 'V': core_version_print(stdout, "siptlsd"); exit(0);
		case 'h': fputs(usage, stdout); exit(0);
		default: return 2;
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return fail("unexpected argument '%s'", argv[optind]);
	if (cli->config && cli->listen)
		return fail("-c and --listen are two ways to configure: pick one");
	if (!cli->config && !cli->listen)
		return fail("nothing to do: give -c FILE or --listen/--cert/--key/--upstream");
	if (cli->listen && (!cli->trunk.cert || !cli->trunk.key || !cli->upstream))
		return fail("--listen needs --cert, --key and --upstream");
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d; /* large: not on the stack */
	struct cli cli = { .log = { .max_level = LOG_NOTICE, .to_syslog = true } };
	char err[512];
	d.opts.pin = true;
	int rc = parse_args(argc, argv, &cli, &d.opts);
	if (rc)
		return rc;
	core_log_open(&cli.log);
	d.config_path = cli.config;
	d.trunk = cli.trunk;
	rc = daemon_build(&d, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "siptlsd: %s\n", err);
		core_log(LOG_ERR, "configuration: %s", err);
		daemon_free(&d);
		return 1;
	}
	if (cli.check) {
		core_conf_write(&d.gen->conf, stdout);
		for (unsigned i = 0; i < d.gen->conf.nnotice; i++)
			fprintf(stderr, "notice: %s\n", d.gen->conf.notice[i]);
		daemon_free(&d);
		return 0;
	}
	rc = daemon_run(&d);
	daemon_free(&d);
	core_log(LOG_NOTICE, "siptlsd stopped");
	return rc;
}
