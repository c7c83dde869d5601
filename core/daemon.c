/* The daemon: configuration -> trustpoints, profiles, tenants, targets, listeners; then the
 * workers, the signals, and the drain. */
#include "core/daemon.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "core/control.h"
#include "core/ctl.h"
#include "core/log.h"
#include "core/worker.h"
#include "io/listen.h"
#include "tls/keylog.h"
#include "tls/ktls.h"
#include "tls/pki.h"

/* ---- building --------------------------------------------------------------------------- */

static const struct tls_trustpoint *loaded_tp(const struct daemon_gen *g, const char *name)
{
	for (unsigned i = 0; name && i < g->conf.ntp; i++)
		if (strcmp(g->conf.tp[i].name, name) == 0)
			return &g->tp[i];
	return NULL;
}

static int build_profile(struct daemon *d, struct daemon_gen *g, struct tls_profile *p,
			 struct tls_profile_conf *pc, const char *tp_name, char *err, size_t errlen)
{
	pc->trustpoint = loaded_tp(g, tp_name);
	if (tp_name && !pc->trustpoint) {
		snprintf(err, errlen, "trustpoint %s is not defined", tp_name);
		return -EINVAL;
	}
	int rc = tls_profile_build(p, pc, err, errlen);
	if (rc < 0)
		return rc;
	if (tls_keylog_install(p->server, d->keylog) < 0 || tls_keylog_install(p->client, d->keylog) < 0) {
		snprintf(err, errlen, "out of memory installing the key log callback");
		return -ENOMEM;
	}
	return 0;
}

/* %PKI-4-CERT_EXPIRY_WARNING for each certificate in use that ends within TLS_PKI_WARN_DAYS
 * (docs/pki.md): at load, at reload, and once a day while running */
static void warn_expiring(const struct daemon_gen *g)
{
	char line[CORE_LOG_LINE_MAX];
	time_t now = time(NULL);
	for (unsigned i = 0; i < g->conf.ntp; i++)
		if (tls_pki_expiry_warning(&g->tp[i], now, line, sizeof(line)) > 0)
			core_log(LOG_WARNING, "%s", line);
}

static void keylog_warn(const char *msg, void *arg)
{
	(void)arg;
	core_log(LOG_WARNING, "%s", msg);
}

static int build_tls(struct daemon *d, struct daemon_gen *g, char *err, size_t errlen)
{
	int rc;
	for (unsigned i = 0; i < g->conf.ntp; i++)
		if ((rc = tls_trustpoint_load(&g->tp[i], &g->conf.tp[i], err, errlen)) < 0)
			return rc;
	for (unsigned i = 0; i < g->conf.nprofiles; i++) {
		struct core_conf_profile *cp = &g->conf.profiles[i];
		if ((rc = build_profile(d, g, &g->profiles[i], &cp->tls, cp->trustpoint, err, errlen)) < 0)
			return rc;
	}
	g->nprofiles = g->conf.nprofiles;
	return 0;
}

/* the profile a tenant uses; tenants without one get a profile made from the global default
 * trustpoint (`sip-ua` / `crypto signaling default trustpoint`), built once */
static const struct tls_profile *tenant_profile(struct daemon *d, struct daemon_gen *g, unsigned tag,
					       char *err, size_t errlen)
{
	for (unsigned i = 0; tag && i < g->nprofiles; i++)
		if (g->conf.profiles[i].tls.tag == tag)
			return &g->profiles[i];
	if (tag) {
		snprintf(err, errlen, "tls-profile %u is not defined", tag);
		return NULL;
	}
	struct tls_profile_conf *dflt = &g->default_profile; /* borrowed by the built profile */
	if (g->nprofiles == CORE_CONF_MAX_PROFILES) {
		snprintf(err, errlen, "too many tls-profiles");
		return NULL;
	}
	for (unsigned i = g->conf.nprofiles; i < g->nprofiles; i++)
		if (g->profiles[i].conf.tag == 0)
			return &g->profiles[i];
	if (!g->conf.default_trustpoint) {
		snprintf(err, errlen, "a tenant has no tls-profile and there is no default trustpoint "
				      "(sip-ua: crypto signaling default trustpoint NAME)");
		return NULL;
	}
	memset(dflt, 0, sizeof(*dflt));
	struct tls_profile *p = &g->profiles[g->nprofiles];
	if (build_profile(d, g, p, dflt, g->conf.default_trustpoint, err, errlen) < 0)
		return NULL;
	g->nprofiles++;
	return p;
}

/* RFC 3261 25.1 hostname: labels of alphanumerics and '-', separated by dots */
static bool host_ok(const char *h)
{
	if (!h[0] || h[0] == '-' || h[0] == '.')
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.')
			return false;
	return true;
}

/* our name on a tenant's side: its listen address, else this host's name */
static void tenant_host(struct daemon_gen *g, unsigned i, const struct core_conf_tenant *t)
{
	char *h = g->tenant_host[i];
	size_t cap = sizeof(g->tenant_host[i]);
	if (t->listen_addr && strcmp(t->listen_addr, "0.0.0.0") != 0 && strcmp(t->listen_addr, "::") != 0) {
		snprintf(h, cap, "%s", t->listen_addr);
	} else if (gethostname(h, cap - 1) != 0 || (h[cap - 1] = '\0', !host_ok(h))) {
		/* a box without a name ("(none)" in an initramfs) must still put a valid sent-by in
		 * its Via (RFC 3261 25.1 hostname), or no response would parse as ours */
		core_log(LOG_WARNING, "host name '%s' is not a SIP host; tenant %u uses 'localhost' in "
				      "its Via and Record-Route (set 'bind control source-interface ADDR')",
			 h, t->tag);
		snprintf(h, cap, "localhost");
	} else if (!strchr(h, '.') && g->conf.domain) {
		size_t n = strlen(h);
		snprintf(h + n, cap - n, ".%s", g->conf.domain);
	}
}

static int build_tenants(struct daemon *d, struct daemon_gen *g, char *err, size_t errlen)
{
	for (unsigned i = 0; i < g->conf.ntenants; i++) {
		const struct core_conf_tenant *t = &g->conf.tenants[i];
		tenant_host(g, i, t);
		g->tenants[i] = (struct proxy_tenant){ .tag = t->tag, .host = slice_cstr(g->tenant_host[i]),
						       .port = t->listen_port ? t->listen_port : CORE_CONF_DEFAULT_PORT,
						       .sips = t->url_sips };
		if (!(g->tenant_profile[i] = tenant_profile(d, g, t->profile_tag, err, errlen)))
			return -EINVAL;
	}
	g->ntenants = g->conf.ntenants;
	return 0;
}

static int tenant_index(const struct daemon_gen *g, unsigned tag)
{
	for (unsigned i = 0; i < g->ntenants; i++)
		if (g->tenants[i].tag == tag)
			return (int)i;
	return -1;
}

static int resolve(struct daemon_target *t, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", t->t.port);
	int rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc != 0 || !res) {
		/* not fatal: the target answers 503 until a reload resolves it */
		snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addr_len = res->ai_addrlen;
	t->resolved = true;
	freeaddrinfo(res);
	return 0;
}

/* the target of a dial-peer, shared with every other dial-peer naming the same place */
static struct daemon_target *target_of(struct daemon_gen *g, const struct core_conf_dialpeer *p,
				       unsigned tenant, char *err, size_t errlen)
{
	const struct core_conf_tenant *t = &g->conf.tenants[tenant];
	const char *host = p->target == CORE_TARGET_HOST ? p->host : t->server_host;
	unsigned port = p->target == CORE_TARGET_HOST ? p->port : t->server_port;
	port = port ? port : CORE_CONF_DEFAULT_PORT;
	if (!host) {
		snprintf(err, errlen, "dial-peer %u: no session target", p->tag);
		return NULL;
	}
	for (unsigned i = 0; i < g->ntargets; i++)
		if (g->targets[i].t.tenant == tenant && g->targets[i].t.port == port &&
		    strcmp(g->targets[i].host, host) == 0)
			return &g->targets[i];
	if (g->ntargets == DAEMON_MAX_TARGETS) {
		snprintf(err, errlen, "more than %d distinct session targets", DAEMON_MAX_TARGETS);
		return NULL;
	}
	struct daemon_target *dt = &g->targets[g->ntargets++];
	snprintf(dt->host, sizeof(dt->host), "%s", host);
	dt->t = (struct proxy_target){ .tenant = tenant, .host = slice_cstr(dt->host), .port = (uint16_t)port };
	char why[256];
	if (resolve(dt, why, sizeof(why)) < 0)
		core_log(LOG_WARNING, "dial-peer %u: %s", p->tag, why);
	return dt;
}

static int build_routes(struct daemon *d, struct daemon_gen *g, char *err, size_t errlen)
{
	for (unsigned i = 0; i < g->conf.npeers; i++) {
		const struct core_conf_dialpeer *p = &g->conf.peers[i];
		int ti = tenant_index(g, p->tenant_tag);
		size_t at = 0;
		if (ti < 0) {
			snprintf(err, errlen, "dial-peer %u: tenant %u is not defined", p->tag, p->tenant_tag);
			return -EINVAL;
		}
		struct daemon_target *t = target_of(g, p, (unsigned)ti, err, errlen);
		if (!t)
			return -EINVAL;
		struct core_dialpeer *cp = &g->peers[i];
		cp->tag = p->tag;
		cp->preference = p->preference;
		cp->target = &t->t;
		if (core_dialpeer_compile(slice_cstr(p->pattern), &cp->pattern, &at) < 0) {
			snprintf(err, errlen, "dial-peer %u: destination-pattern %s: bad character at %zu",
				 p->tag, p->pattern, at + 1);
			return -EINVAL;
		}
	}
	g->proxy.tenants = g->tenants;
	g->proxy.ntenants = g->ntenants;
	g->proxy.peers = g->peers;
	g->proxy.npeers = g->conf.npeers;
	g->proxy.key = d->key; /* one key per process: a reload must still know its tokens */
	return 0;
}

/* tenants listening on the same address and port share one listener, told apart by SNI */
static int build_listeners(struct daemon_gen *g, char *err, size_t errlen)
{
	for (unsigned i = 0; i < g->ntenants; i++) {
		const struct core_conf_tenant *t = &g->conf.tenants[i];
		if (!t->listen_port)
			continue;
		char text[80];
		const char *a = t->listen_addr ? t->listen_addr : "0.0.0.0";
		snprintf(text, sizeof(text), strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, t->listen_port);
		struct daemon_listener *l = NULL;
		for (unsigned k = 0; k < g->nlisteners; k++)
			if (strcmp(g->listeners[k].text, text) == 0)
				l = &g->listeners[k];
		if (!l) {
			if (g->nlisteners == DAEMON_MAX_LISTENERS) {
				snprintf(err, errlen, "more than %d listen addresses", DAEMON_MAX_LISTENERS);
				return -EINVAL;
			}
			l = &g->listeners[g->nlisteners++];
			struct io_addr ia;
			if (io_addr_parse(slice_cstr(text), &ia, err, errlen) < 0)
				return -EINVAL;
			memcpy(&l->addr, &ia.ss, ia.len);
			l->addr_len = ia.len;
			snprintf(l->text, sizeof(l->text), "%s", text);
			l->tenant = i;
			l->sni.dflt = (struct tls_sni_tenant){ .tenant = t->tag, .profile = g->tenant_profile[i] };
			continue;
		}
		/* a second tenant on this address: selection by SNI name */
		if (!t->sni_name || l->sni.n == TLS_SNI_MAX) {
			snprintf(err, errlen, "tenants %u and %u share %s: give tenant %u an sni name",
				 g->tenants[l->tenant].tag, t->tag, text, t->tag);
			return -EINVAL;
		}
		l->sni.t[l->sni.n++] = (struct tls_sni_tenant){ .name = t->sni_name, .tenant = t->tag,
								.profile = g->tenant_profile[i] };
		l->shared = true;
	}
	return 0;
}

static void defaults(struct daemon_opts *o)
{
	o->ring_entries = o->ring_entries ? o->ring_entries : 256;
	o->buf_size = o->buf_size ? o->buf_size : 16384;
	o->buf_count = o->buf_count ? o->buf_count : 1024;
	o->max_msg = o->max_msg ? o->max_msg : 65535;
	o->sendq_limit = o->sendq_limit ? o->sendq_limit : (size_t)256 * 1024;
	o->handshake_ms = o->handshake_ms ? o->handshake_ms : 10000;
	o->connect_ms = o->connect_ms ? o->connect_ms : 5000;
	o->txn_ms = o->txn_ms ? o->txn_ms : 32000;
	o->txn_invite_ms = o->txn_invite_ms ? o->txn_invite_ms : 180000;
	o->drain_ms = o->drain_ms ? o->drain_ms : 5000;
	if (!o->workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->workers = n > 0 ? (unsigned)n : 1;
	}
	o->max_headers = o->max_headers ? o->max_headers : SIP_LIMITS_DEFAULT.max_headers;
	/* connections past the fd limit would only make accept fail (EMFILE, then back off):
	 * refused at once below it, they cost nothing, and upstreams and files keep their fds */
	struct rlimit rl;
	if (!o->max_conns && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 10000000) {
		rlim_t reserve = rl.rlim_cur / 4 < DAEMON_FD_RESERVE ? rl.rlim_cur / 4 : DAEMON_FD_RESERVE;
		o->max_conns = rl.rlim_cur > reserve ? (unsigned)(rl.rlim_cur - reserve) : 1;
	}
}

/* ---- admission ---------------------------------------------------------------------------- */

/* the limits of a new generation: each `voice service voip` line overrides its flag */
static void gen_admit(const struct daemon *d, struct daemon_gen *g)
{
	const struct core_conf_limits *l = &g->conf.limits;
	g->limits.max_msg = l->max_msg ? l->max_msg : d->opts.max_msg;
	g->limits.max_headers = l->max_headers ? l->max_headers : d->opts.max_headers;
	g->adm.max_conns = l->max_conns ? l->max_conns : d->opts.max_conns;
	g->adm.src.per_source = l->per_source ? l->per_source : d->opts.max_conns_source;
	g->adm.src.rate = l->rate ? l->rate : d->opts.conn_rate;
	g->adm.src.burst = l->rate ? l->burst : d->opts.conn_burst;
}

enum daemon_admit_verdict daemon_admit_open(struct daemon *d, const struct daemon_gen *g,
					    const struct sockaddr_storage *peer, uint64_t now_ms,
					    struct daemon_admission *a)
{
	uint8_t addr[16];
	memset(a, 0, sizeof(*a));
	unsigned before = atomic_fetch_add_explicit(&d->inbound, 1, memory_order_relaxed);
	if (g->adm.max_conns && before >= g->adm.max_conns) {
		atomic_fetch_sub_explicit(&d->inbound, 1, memory_order_relaxed);
		return DAEMON_REFUSE_TOTAL;
	}
	a->counted = true;
	if ((!g->adm.src.per_source && !g->adm.src.rate) || !d->sources.e || admit_addr(peer, addr) < 0)
		return DAEMON_ADMIT_OK;
	admit_source_key(addr, a->key);
	pthread_mutex_lock(&d->sources_lock);
	enum admit_verdict v = admit_table_open(&d->sources, &g->adm.src, a->key, now_ms);
	pthread_mutex_unlock(&d->sources_lock);
	if (v == ADMIT_OK || v == ADMIT_UNTRACKED) {
		a->tracked = v == ADMIT_OK;
		a->untracked = v == ADMIT_UNTRACKED;
		return DAEMON_ADMIT_OK;
	}
	atomic_fetch_sub_explicit(&d->inbound, 1, memory_order_relaxed);
	a->counted = false;
	return v == ADMIT_RATE ? DAEMON_REFUSE_RATE : DAEMON_REFUSE_SOURCE;
}

void daemon_admit_close(struct daemon *d, const struct daemon_admission *a)
{
	if (a->tracked) {
		pthread_mutex_lock(&d->sources_lock);
		admit_table_close(&d->sources, a->key);
		pthread_mutex_unlock(&d->sources_lock);
	}
	if (a->counted)
		atomic_fetch_sub_explicit(&d->inbound, 1, memory_order_relaxed);
}

static void gen_free(struct daemon_gen *g)
{
	for (unsigned i = 0; i < CORE_CONF_MAX_PROFILES; i++) /* the zero value frees as nothing */
		tls_profile_free(&g->profiles[i]);
	for (unsigned i = 0; i < CORE_CONF_MAX_TRUSTPOINTS; i++)
		tls_trustpoint_free(&g->tp[i]);
	core_conf_free(&g->conf);
	free(g);
}

void daemon_gen_put(struct daemon_gen *g)
{
	if (g && atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1)
		gen_free(g);
}

/* a new generation from the configuration source, with one reference (the caller's) */
static struct daemon_gen *gen_load(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_gen *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&g->refs, 1);
	g->number = d->gen ? d->gen->number + 1 : 1;
	g->limits = SIP_LIMITS_DEFAULT;
	int rc = d->config_path ? core_conf_load(&g->conf, d->config_path, err, errlen)
				: core_conf_one_trunk(&g->conf, &d->trunk, err, errlen);
	if (rc == 0 && (rc = build_tls(d, g, err, errlen)) == 0 && (rc = build_tenants(d, g, err, errlen)) == 0 &&
	    (rc = build_routes(d, g, err, errlen)) == 0)
		rc = build_listeners(g, err, errlen);
	if (rc < 0) {
		gen_free(g);
		return NULL;
	}
	gen_admit(d, g);
	return g;
}

int daemon_build(struct daemon *d, char *err, size_t errlen)
{
	int rc;
	defaults(&d->opts);
	if ((rc = core_mac_key_random(&d->key)) < 0) {
		snprintf(err, errlen, "no random key: %s", strerror(-rc));
		return rc;
	}
	if (d->opts.keylog && (rc = tls_keylog_open(&d->keylog, d->opts.keylog, keylog_warn, NULL)) < 0) {
		snprintf(err, errlen, "--tls-keylog %s: %s", d->opts.keylog, strerror(-rc));
		return rc;
	}
	struct core_mac_key skey;
	if ((rc = core_mac_key_random(&skey)) < 0 ||
	    (rc = admit_table_init(&d->sources, DAEMON_ADMIT_SOURCES, &skey)) < 0 ||
	    (rc = -pthread_mutex_init(&d->sources_lock, NULL)) < 0) {
		snprintf(err, errlen, "source table: %s", strerror(-rc));
		return rc;
	}
	if (!(d->gen = gen_load(d, err, errlen)))
		return -EINVAL;
	warn_expiring(d->gen);
	/* the timeouts are the workers' own (read on every connection): set once, at start */
	const struct core_conf_limits *cl = &d->gen->conf.limits;
	d->opts.handshake_ms = cl->handshake_ms ? cl->handshake_ms : d->opts.handshake_ms;
	d->opts.idle_ms = cl->idle_ms ? cl->idle_ms : d->opts.idle_ms;
	char probe[160];
	core_log(LOG_INFO, "kernel TLS: %s",
		 tls_ktls_probe_describe(tls_ktls_probe_once(), probe, sizeof(probe)));
	return 0;
}

/* the workers' listen sockets were opened for the first generation: a reload keeps them */
static bool same_listeners(const struct daemon_gen *a, const struct daemon_gen *b)
{
	if (a->nlisteners != b->nlisteners)
		return false;
	for (unsigned i = 0; i < a->nlisteners; i++)
		if (strcmp(a->listeners[i].text, b->listeners[i].text) != 0)
			return false;
	return true;
}

int daemon_reload(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_gen *g = gen_load(d, err, errlen);
	if (!g)
		return -EINVAL;
	if (!same_listeners(d->gen, g)) {
		snprintf(err, errlen, "the listen addresses changed: restart siptlsd to apply that");
		daemon_gen_put(g);
		return -EINVAL;
	}
	for (unsigned i = 0; i < g->nlisteners; i++)
		g->listeners[i].up = d->gen->listeners[i].up;
	const struct core_conf_limits *nl = &g->conf.limits;
	if ((nl->handshake_ms && nl->handshake_ms != d->opts.handshake_ms) ||
	    (nl->idle_ms && nl->idle_ms != d->opts.idle_ms))
		core_log(LOG_NOTICE, "reload: handshake-timeout and idle-timeout take effect at the next "
				     "start; the running values stay");
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_switch(d->workers[i], g); /* each takes its own reference */
	struct daemon_gen *old = d->gen;
	d->gen = g; /* the main thread's reference moves to the new generation */
	daemon_gen_put(old);
	core_log(LOG_NOTICE, "configuration %u loaded%s%s: new connections use it, established ones "
			     "keep theirs", g->number, d->config_path ? " from " : "",
		 d->config_path ? d->config_path : "");
	warn_expiring(g);
	return 0;
}

/* ---- running ---------------------------------------------------------------------------- */

static void log_listen_failure(const struct daemon_gen *g, const struct daemon_listener *l, int err)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (l->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&l->addr;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&l->addr;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	}
	/* the reference's own line, so operators' log searches keep working */
	core_log(LOG_CRIT, "%%SIP-2-LISTEN_SOCKET: Failed to open listen socket for ip_addr=%s, port=%u, "
			   "vrf=, transport=TLS, tenant=%u",
		 ip, port, g->tenants[l->tenant].tag);
	core_log(LOG_ERR, "listen %s: %s", l->text, strerror(-err));
}

/* one SO_REUSEPORT socket per worker and listener; a listener that fails for the first worker
 * is skipped for all (logged once). Returns how many listeners are up. */
static unsigned open_listeners(struct daemon *d, int *fds)
{
	struct daemon_gen *g = d->gen;
	unsigned up = 0;
	for (unsigned li = 0; li < g->nlisteners; li++) {
		struct io_addr a = { .len = g->listeners[li].addr_len };
		memcpy(&a.ss, &g->listeners[li].addr, a.len);
		bool ok = true;
		for (unsigned w = 0; w < d->nworkers; w++) {
			int fd = ok ? io_listen_open(&a, 1024, IO_LISTEN_REUSEPORT) : -1;
			if (ok && fd < 0) {
				log_listen_failure(g, &g->listeners[li], fd);
				ok = false;
			}
			fds[w * DAEMON_MAX_LISTENERS + li] = fd;
		}
		if (!ok) {
			for (unsigned w = 0; w < d->nworkers; w++) {
				int *fd = &fds[w * DAEMON_MAX_LISTENERS + li];
				if (*fd >= 0)
					close(*fd);
				*fd = -1;
			}
			continue;
		}
		g->listeners[li].up = true;
		core_log(LOG_INFO, "listening on %s (tenant %u%s)", g->listeners[li].text,
			 g->tenants[g->listeners[li].tenant].tag, g->listeners[li].shared ? ", SNI" : "");
		up++;
	}
	return up;
}

int daemon_run(struct daemon *d)
{
	struct daemon_gen *g = d->gen;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit it: only this thread takes them */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) /* else a peer's reset would kill us mid-send */
		core_log(LOG_ERR, "cannot ignore SIGPIPE: %s", strerror(errno));

	d->nworkers = d->opts.workers;
	int *fds = calloc((size_t)d->nworkers * DAEMON_MAX_LISTENERS, sizeof(int));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sizeof(*p) is meant */
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!fds || !d->workers) {
		free(fds);
		return 1;
	}
	for (size_t i = 0; i < (size_t)d->nworkers * DAEMON_MAX_LISTENERS; i++)
		fds[i] = -1;
	if (core_trace_setup(&d->trace, d->nworkers, d->opts.trace_sip) < 0 && d->opts.trace_sip) {
		free(fds);
		return 1; /* --trace-sip asked for a file that cannot be written: say so at once */
	}
	if (g->nlisteners && open_listeners(d, fds) == 0) {
		core_log(LOG_CRIT, "no listen socket could be opened: exiting");
		free(fds);
		return 1;
	}
	int status = 0;
	for (unsigned i = 0; i < d->nworkers; i++) {
		d->workers[i] = worker_new(d, i);
		if (!d->workers[i] ||
		    worker_start(d->workers[i], &fds[(size_t)i * DAEMON_MAX_LISTENERS],
				 g->nlisteners) < 0) {
			core_log(LOG_CRIT, "cannot start worker %u", i);
			daemon_stop(d);
			status = 1;
			break;
		}
	}
	free(fds);
	int ctl = -1;
	const char *path = d->opts.control ? d->opts.control : CTL_DEFAULT_PATH;
	if (strcmp(path, "none") != 0 && (ctl = ctl_listen(path)) < 0) {
		core_log(LOG_ERR, "control socket %s: %s (show and clear are unavailable)", path,
			 strerror(-ctl));
		ctl = -1;
	}
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	core_log(LOG_NOTICE, "siptlsd running: %u workers, %u listeners%s%s", d->nworkers,
		 g->nlisteners, ctl >= 0 ? ", control " : "", ctl >= 0 ? path : "");
	time_t pki_next = time(NULL) + 86400;
	while (!daemon_stopping(d)) {
		if (time(NULL) >= pki_next) { /* one cheap look a day: certificates age while we run */
			warn_expiring(d->gen);
			pki_next = time(NULL) + 86400;
		}
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = ctl, .events = POLLIN } };
		if (poll(pf, 2, 1000) <= 0)
			continue; /* a worker that failed sets the stop flag: look at it each second */
		struct signalfd_siginfo si;
		if ((pf[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				core_log(LOG_NOTICE, "signal %u: draining transactions, then exiting", si.ssi_signo);
				daemon_stop(d);
			} else if (si.ssi_signo == SIGHUP) {
				char err[512];
				if (daemon_reload(d, err, sizeof(err)) < 0)
					core_log(LOG_ERR, "SIGHUP: reload failed, the running configuration "
							  "stays: %s", err);
			}
		}
		if (pf[1].revents & POLLIN) {
			int c = accept4(ctl, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				control_serve(d, c);
			else if (errno == EMFILE || errno == ENFILE)
				poll(NULL, 0, 100); /* out of fds: the client waits, the loop must not spin */
		}
	}
	if (ctl >= 0) {
		close(ctl);
		unlink(path);
	}
	if (sfd >= 0)
		close(sfd);
	for (unsigned i = 0; i < d->nworkers; i++)
		if (d->workers[i])
			worker_wake(d->workers[i]);
	return status;
}

void daemon_free(struct daemon *d)
{
	for (unsigned i = 0; d->workers && i < d->nworkers; i++)
		worker_join_free(d->workers[i]); /* drops the workers' and connections' references */
	free(d->workers);
	d->workers = NULL;
	core_trace_free(&d->trace); /* after the workers: what they traced is written */
	daemon_gen_put(d->gen);
	d->gen = NULL;
	tls_keylog_close(d->keylog);
	if (d->sources.e) {
		admit_table_free(&d->sources);
		pthread_mutex_destroy(&d->sources_lock);
	}
}
