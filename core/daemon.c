/* The daemon: configuration -> trustpoints, profiles, tenants, targets, listeners; then the
 * workers, the signals, and the drain. */
#include "core/daemon.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
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

/* ---- building --------------------------------------------------------------------------- */

static const struct tls_trustpoint *loaded_tp(const struct daemon *d, const char *name)
{
	for (unsigned i = 0; name && i < d->conf.ntp; i++)
		if (strcmp(d->conf.tp[i].name, name) == 0)
			return &d->tp[i];
	return NULL;
}

static int build_profile(struct daemon *d, struct tls_profile *p, struct tls_profile_conf *pc,
			 const char *tp_name, char *err, size_t errlen)
{
	pc->trustpoint = loaded_tp(d, tp_name);
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

static void keylog_warn(const char *msg, void *arg)
{
	(void)arg;
	core_log(LOG_WARNING, "%s", msg);
}

static int build_tls(struct daemon *d, char *err, size_t errlen)
{
	int rc;
	if (d->opts.keylog &&
	    (rc = tls_keylog_open(&d->keylog, d->opts.keylog, keylog_warn, NULL)) < 0) {
		snprintf(err, errlen, "--tls-keylog %s: %s", d->opts.keylog, strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < d->conf.ntp; i++)
		if ((rc = tls_trustpoint_load(&d->tp[i], &d->conf.tp[i], err, errlen)) < 0)
			return rc;
	for (unsigned i = 0; i < d->conf.nprofiles; i++) {
		struct core_conf_profile *cp = &d->conf.profiles[i];
		if ((rc = build_profile(d, &d->profiles[i], &cp->tls, cp->trustpoint, err, errlen)) < 0)
			return rc;
	}
	d->nprofiles = d->conf.nprofiles;
	return 0;
}

/* the profile a tenant uses; tenants without one get a profile made from the global default
 * trustpoint (`sip-ua` / `crypto signaling default trustpoint`), built once */
static const struct tls_profile *tenant_profile(struct daemon *d, unsigned tag, char *err, size_t errlen)
{
	for (unsigned i = 0; tag && i < d->nprofiles; i++)
		if (d->conf.profiles[i].tls.tag == tag)
			return &d->profiles[i];
	if (tag) {
		snprintf(err, errlen, "tls-profile %u is not defined", tag);
		return NULL;
	}
	static struct tls_profile_conf dflt; /* borrowed by the built profile for its lifetime */
	if (d->nprofiles == CORE_CONF_MAX_PROFILES) {
		snprintf(err, errlen, "too many tls-profiles");
		return NULL;
	}
	for (unsigned i = d->conf.nprofiles; i < d->nprofiles; i++)
		if (d->profiles[i].conf.tag == 0)
			return &d->profiles[i];
	if (!d->conf.default_trustpoint) {
		snprintf(err, errlen, "a tenant has no tls-profile and there is no default trustpoint "
				      "(sip-ua: crypto signaling default trustpoint NAME)");
		return NULL;
	}
	memset(&dflt, 0, sizeof(dflt));
	struct tls_profile *p = &d->profiles[d->nprofiles];
	if (build_profile(d, p, &dflt, d->conf.default_trustpoint, err, errlen) < 0)
		return NULL;
	d->nprofiles++;
	return p;
}

/* our name on a tenant's side: its listen address, else this host's name */
static void tenant_host(struct daemon *d, unsigned i, const struct core_conf_tenant *t)
{
	char *h = d->tenant_host[i];
	size_t cap = sizeof(d->tenant_host[i]);
	if (t->listen_addr && strcmp(t->listen_addr, "0.0.0.0") != 0 && strcmp(t->listen_addr, "::") != 0) {
		snprintf(h, cap, "%s", t->listen_addr);
	} else if (gethostname(h, cap) != 0 || !h[0]) {
		snprintf(h, cap, "localhost");
	} else if (!strchr(h, '.') && d->conf.domain) {
		size_t n = strlen(h);
		snprintf(h + n, cap - n, ".%s", d->conf.domain);
	}
}

static int build_tenants(struct daemon *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->conf.ntenants; i++) {
		const struct core_conf_tenant *t = &d->conf.tenants[i];
		tenant_host(d, i, t);
		d->tenants[i] = (struct proxy_tenant){ .tag = t->tag, .host = slice_cstr(d->tenant_host[i]),
						       .port = t->listen_port ? t->listen_port : CORE_CONF_DEFAULT_PORT,
						       .sips = t->url_sips };
		if (!(d->tenant_profile[i] = tenant_profile(d, t->profile_tag, err, errlen)))
			return -EINVAL;
	}
	d->ntenants = d->conf.ntenants;
	return 0;
}

static int tenant_index(const struct daemon *d, unsigned tag)
{
	for (unsigned i = 0; i < d->ntenants; i++)
		if (d->tenants[i].tag == tag)
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
static struct daemon_target *target_of(struct daemon *d, const struct core_conf_dialpeer *p,
				       unsigned tenant, char *err, size_t errlen)
{
	const struct core_conf_tenant *t = &d->conf.tenants[tenant];
	const char *host = p->target == CORE_TARGET_HOST ? p->host : t->server_host;
	unsigned port = p->target == CORE_TARGET_HOST ? p->port : t->server_port;
	port = port ? port : CORE_CONF_DEFAULT_PORT;
	if (!host) {
		snprintf(err, errlen, "dial-peer %u: no session target", p->tag);
		return NULL;
	}
	for (unsigned i = 0; i < d->ntargets; i++)
		if (d->targets[i].t.tenant == tenant && d->targets[i].t.port == port &&
		    strcmp(d->targets[i].host, host) == 0)
			return &d->targets[i];
	if (d->ntargets == DAEMON_MAX_TARGETS) {
		snprintf(err, errlen, "more than %d distinct session targets", DAEMON_MAX_TARGETS);
		return NULL;
	}
	struct daemon_target *dt = &d->targets[d->ntargets++];
	snprintf(dt->host, sizeof(dt->host), "%s", host);
	dt->t = (struct proxy_target){ .tenant = tenant, .host = slice_cstr(dt->host), .port = (uint16_t)port };
	char why[256];
	if (resolve(dt, why, sizeof(why)) < 0)
		core_log(LOG_WARNING, "dial-peer %u: %s", p->tag, why);
	return dt;
}

static int build_routes(struct daemon *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->conf.npeers; i++) {
		const struct core_conf_dialpeer *p = &d->conf.peers[i];
		int ti = tenant_index(d, p->tenant_tag);
		size_t at = 0;
		if (ti < 0) {
			snprintf(err, errlen, "dial-peer %u: tenant %u is not defined", p->tag, p->tenant_tag);
			return -EINVAL;
		}
		struct daemon_target *t = target_of(d, p, (unsigned)ti, err, errlen);
		if (!t)
			return -EINVAL;
		struct core_dialpeer *cp = &d->peers[i];
		cp->tag = p->tag;
		cp->preference = p->preference;
		cp->target = &t->t;
		if (core_dialpeer_compile(slice_cstr(p->pattern), &cp->pattern, &at) < 0) {
			snprintf(err, errlen, "dial-peer %u: destination-pattern %s: bad character at %zu",
				 p->tag, p->pattern, at + 1);
			return -EINVAL;
		}
	}
	d->proxy.tenants = d->tenants;
	d->proxy.ntenants = d->ntenants;
	d->proxy.peers = d->peers;
	d->proxy.npeers = d->conf.npeers;
	return core_mac_key_random(&d->proxy.key);
}

/* tenants listening on the same address and port share one listener, told apart by SNI */
static int build_listeners(struct daemon *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->ntenants; i++) {
		const struct core_conf_tenant *t = &d->conf.tenants[i];
		if (!t->listen_port)
			continue;
		char text[80];
		const char *a = t->listen_addr ? t->listen_addr : "0.0.0.0";
		snprintf(text, sizeof(text), strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, t->listen_port);
		struct daemon_listener *l = NULL;
		for (unsigned k = 0; k < d->nlisteners; k++)
			if (strcmp(d->listeners[k].text, text) == 0)
				l = &d->listeners[k];
		if (!l) {
			if (d->nlisteners == DAEMON_MAX_LISTENERS) {
				snprintf(err, errlen, "more than %d listen addresses", DAEMON_MAX_LISTENERS);
				return -EINVAL;
			}
			l = &d->listeners[d->nlisteners++];
			struct io_addr ia;
			if (io_addr_parse(slice_cstr(text), &ia, err, errlen) < 0)
				return -EINVAL;
			memcpy(&l->addr, &ia.ss, ia.len);
			l->addr_len = ia.len;
			snprintf(l->text, sizeof(l->text), "%s", text);
			l->tenant = i;
			l->sni.dflt = (struct tls_sni_tenant){ .tenant = t->tag, .profile = d->tenant_profile[i] };
			continue;
		}
		/* a second tenant on this address: selection by SNI name */
		if (!t->sni_name || l->sni.n == TLS_SNI_MAX) {
			snprintf(err, errlen, "tenants %u and %u share %s: give tenant %u an sni name",
				 d->tenants[l->tenant].tag, t->tag, text, t->tag);
			return -EINVAL;
		}
		l->sni.t[l->sni.n++] = (struct tls_sni_tenant){ .name = t->sni_name, .tenant = t->tag,
								.profile = d->tenant_profile[i] };
		l->shared = true;
	}
	return 0;
}

int daemon_build(struct daemon *d, char *err, size_t errlen)
{
	int rc;
	struct daemon_opts *o = &d->opts;
	o->ring_entries = o->ring_entries ? o->ring_entries : 256;
	o->buf_size = o->buf_size ? o->buf_size : 16384;
	o->buf_count = o->buf_count ? o->buf_count : 1024;
	o->max_msg = o->max_msg ? o->max_msg : 65535;
	o->sendq_limit = o->sendq_limit ? o->sendq_limit : 256 * 1024;
	o->handshake_ms = o->handshake_ms ? o->handshake_ms : 10000;
	o->connect_ms = o->connect_ms ? o->connect_ms : 5000;
	o->txn_ms = o->txn_ms ? o->txn_ms : 32000;
	o->txn_invite_ms = o->txn_invite_ms ? o->txn_invite_ms : 180000;
	o->drain_ms = o->drain_ms ? o->drain_ms : 5000;
	if (!o->workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->workers = n > 0 ? (unsigned)n : 1;
	}
	d->limits = SIP_LIMITS_DEFAULT;
	d->limits.max_msg = o->max_msg;
	if ((rc = build_tls(d, err, errlen)) < 0 || (rc = build_tenants(d, err, errlen)) < 0 ||
	    (rc = build_routes(d, err, errlen)) < 0 || (rc = build_listeners(d, err, errlen)) < 0)
		return rc;
	char probe[160];
	core_log(LOG_INFO, "kernel TLS: %s",
		 tls_ktls_probe_describe(tls_ktls_probe_once(), probe, sizeof(probe)));
	return 0;
}

/* ---- running ---------------------------------------------------------------------------- */

static void log_listen_failure(const struct daemon *d, const struct daemon_listener *l, int err)
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
		 ip, port, d->tenants[l->tenant].tag);
	core_log(LOG_ERR, "listen %s: %s", l->text, strerror(-err));
}

/* one SO_REUSEPORT socket per worker and listener; a listener that fails for the first worker
 * is skipped for all (logged once). Returns how many listeners are up. */
static unsigned open_listeners(struct daemon *d, int *fds)
{
	unsigned up = 0;
	for (unsigned li = 0; li < d->nlisteners; li++) {
		struct io_addr a = { .len = d->listeners[li].addr_len };
		memcpy(&a.ss, &d->listeners[li].addr, a.len);
		bool ok = true;
		for (unsigned w = 0; w < d->nworkers; w++) {
			int fd = ok ? io_listen_open(&a, 1024, IO_LISTEN_REUSEPORT) : -1;
			if (ok && fd < 0) {
				log_listen_failure(d, &d->listeners[li], fd);
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
		d->listeners[li].up = true;
		core_log(LOG_INFO, "listening on %s (tenant %u%s)", d->listeners[li].text,
			 d->tenants[d->listeners[li].tenant].tag, d->listeners[li].shared ? ", SNI" : "");
		up++;
	}
	return up;
}

int daemon_run(struct daemon *d)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit it: only this thread takes them */
	signal(SIGPIPE, SIG_IGN);

	d->nworkers = d->opts.workers;
	int *fds = calloc((size_t)d->nworkers * DAEMON_MAX_LISTENERS, sizeof(int));
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!fds || !d->workers) {
		free(fds);
		return 1;
	}
	for (size_t i = 0; i < (size_t)d->nworkers * DAEMON_MAX_LISTENERS; i++)
		fds[i] = -1;
	if (d->nlisteners && open_listeners(d, fds) == 0) {
		core_log(LOG_CRIT, "no listen socket could be opened: exiting");
		free(fds);
		return 1;
	}
	int status = 0;
	for (unsigned i = 0; i < d->nworkers; i++) {
		d->workers[i] = worker_new(d, i);
		if (!d->workers[i] ||
		    worker_start(d->workers[i], &fds[i * DAEMON_MAX_LISTENERS], d->nlisteners) < 0) {
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
		 d->nlisteners, ctl >= 0 ? ", control " : "", ctl >= 0 ? path : "");
	while (!daemon_stopping(d)) {
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = ctl, .events = POLLIN } };
		if (poll(pf, 2, 1000) <= 0)
			continue; /* a worker that failed sets the stop flag: look at it each second */
		struct signalfd_siginfo si;
		if ((pf[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				core_log(LOG_NOTICE, "signal %u: draining transactions, then exiting", si.ssi_signo);
				daemon_stop(d);
			} else if (si.ssi_signo == SIGHUP) {
				core_log(LOG_NOTICE, "SIGHUP: reload is not supported by this version; "
						     "configuration unchanged");
			}
		}
		if (pf[1].revents & POLLIN) {
			int c = accept4(ctl, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				control_serve(d, c);
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
		worker_join_free(d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	for (unsigned i = 0; i < d->nprofiles; i++)
		tls_profile_free(&d->profiles[i]);
	for (unsigned i = 0; i < CORE_CONF_MAX_TRUSTPOINTS; i++)
		tls_trustpoint_free(&d->tp[i]);
	tls_keylog_close(d->keylog);
	core_conf_free(&d->conf);
}
