/* core_daemon: the running proxy — configuration turned into TLS contexts, listeners and
 * routing, shared read-only by the workers, plus the workers themselves.
 *
 * Ownership: struct daemon owns the loaded configuration (core_conf), the trustpoints and
 * profiles built from it, the resolved targets and the workers. Workers read it and never
 * write it; each worker owns its ring, connections and counters (core/worker.h).
 */
#ifndef SIPTLS_CORE_DAEMON_H
#define SIPTLS_CORE_DAEMON_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/admit.h"
#include "core/conf.h"
#include "core/proxy.h"
#include "core/trace.h"
#include "sip/msg.h"
#include "tls/profile.h"
#include "tls/sni.h"
#include "tls/trustpoint.h"

struct worker;
struct tls_keylog;

/* the tuning flags (see siptlsd --help); zero values mean the defaults below */
struct daemon_opts {
	unsigned workers;          /* 0: one per online CPU */
	unsigned ring_entries;     /* 256 */
	unsigned buf_size;         /* 16384: one TLS record */
	unsigned buf_count;        /* 1024 per worker */
	uint32_t max_msg;          /* 65535 */
	size_t sendq_limit;        /* 256 KiB per connection */
	unsigned handshake_ms;     /* 10000 */
	unsigned idle_ms;          /* 0: no idle timeout */
	unsigned connect_ms;       /* 5000 */
	unsigned txn_ms;           /* 32000: RFC 3261 timer F / B */
	unsigned txn_invite_ms;    /* 180000: RFC 3261 timer C, after a provisional */
	unsigned drain_ms;         /* 5000: SIGTERM grace for transactions in flight */
	bool pin;                  /* pin each worker to a CPU */
	const char *keylog;        /* --tls-keylog FILE */
	const char *control;       /* --control PATH; NULL: CTL_DEFAULT_PATH; "none": no socket */
	/* admission (core/admit.h); a `voice service voip` line of the configuration overrides */
	unsigned max_conns;        /* inbound connections, all workers; 0: fd limit less 64 */
	unsigned max_conns_source; /* inbound connections per source; 0: no limit */
	unsigned conn_rate;        /* new connections per second per source; 0: no limit */
	unsigned conn_burst;       /* its bucket; 0: conn_rate */
	unsigned max_headers;      /* 128; at most CORE_CONF_MAX_HEADERS */
	const char *trace_sip;     /* --trace-sip FILE: trace from the start (core/trace.h) */
};

#define DAEMON_MAX_LISTENERS 32
#define DAEMON_MAX_TARGETS 64

struct daemon_listener {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char text[80];            /* "ADDR:PORT" as logged */
	unsigned tenant;          /* index into tenants (the default tenant of this address) */
	struct tls_sni_table sni; /* tenants sharing the address, told apart by SNI */
	bool shared;              /* more than one tenant: attach the SNI table */
	bool up;                  /* its sockets opened */
};

/* the admission limits in force for a generation: its configuration's, else the flags' */
struct daemon_admit {
	unsigned max_conns;       /* inbound connections in total */
	struct admit_limits src;  /* per source */
};

/* what daemon_admit_open says of a new inbound connection */
enum daemon_admit_verdict {
	DAEMON_ADMIT_OK,         /* admitted */
	DAEMON_REFUSE_TOTAL,     /* max-connections reached */
	DAEMON_REFUSE_SOURCE,    /* max-connections per-source reached */
	DAEMON_REFUSE_RATE,      /* connection-rate per-source exceeded */
};

/* the DAEMON_ADMIT_OK side of a connection, for daemon_admit_close */
struct daemon_admission {
	bool counted;      /* in the total */
	bool tracked;      /* in the source table under key */
	bool untracked;    /* per-source limits were on, but its table set was full */
	uint8_t key[16];
};

#define DAEMON_ADMIT_SOURCES 65536 /* source table entries (~3 MiB), shared by the workers */
#define DAEMON_FD_RESERVE 64       /* fds the default max_conns leaves (at most a quarter) */

struct daemon_target {
	struct proxy_target t;    /* tenant index, host, port */
	char host[256];
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool resolved;
};

/* Everything one configuration yields, shared read-only by the workers. A reload builds a new
 * generation beside the old; connections keep the generation they were made under until they
 * close, so established calls are untouched (refs counts the holders; the last one frees). */
struct daemon_gen {
	struct core_conf conf;
	struct sip_limits limits;
	struct tls_trustpoint tp[CORE_CONF_MAX_TRUSTPOINTS];
	struct tls_profile profiles[CORE_CONF_MAX_PROFILES];
	struct tls_profile_conf default_profile; /* for tenants without a tls-profile */
	unsigned nprofiles;
	struct proxy_tenant tenants[CORE_CONF_MAX_TENANTS];
	const struct tls_profile *tenant_profile[CORE_CONF_MAX_TENANTS];
	char tenant_host[CORE_CONF_MAX_TENANTS][64];
	unsigned ntenants;
	struct core_dialpeer peers[CORE_CONF_MAX_DIALPEERS];
	struct daemon_target targets[DAEMON_MAX_TARGETS];
	unsigned ntargets;
	struct daemon_listener listeners[DAEMON_MAX_LISTENERS];
	unsigned nlisteners;
	struct proxy_conf proxy;
	struct daemon_admit adm;
	atomic_uint refs;
	unsigned number; /* 1 for the first, then one more per reload */
};

struct daemon {
	struct daemon_opts opts;
	const char *config_path;    /* -c FILE: what a reload reads; NULL for the one-trunk flags */
	struct core_conf_trunk trunk; /* the one-trunk flags, when config_path is NULL */
	struct daemon_gen *gen;     /* the current generation (the main thread's to change) */
	struct core_mac_key key;    /* one per process: tokens must survive a reload */
	struct tls_keylog *keylog;
	struct worker **workers;
	unsigned nworkers;
	atomic_int stop; /* 1: drain then exit; written by any thread (daemon_stop) */
	atomic_uint inbound;          /* inbound connections open, all workers (max-connections) */
	struct admit_table sources;   /* per-source counts and buckets, all workers... */
	pthread_mutex_t sources_lock; /* ...under this lock (connection setup only, never a message) */
	struct core_trace trace; /* debug ccsip messages: the workers test trace.on */
};

/* Loads the configuration (d->config_path, or d->trunk) into a new generation: parses it, loads
 * trustpoints, builds profiles, resolves targets, lays out listeners. The first call makes it
 * d->gen; later ones are reloads (daemon_reload). 0 or -errno with err filled. */
int daemon_build(struct daemon *d, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Reload: a new generation for new connections, if it loads and keeps the same listen
 * addresses; the old one stays in force otherwise. Main thread only. 0 or -errno + err. */
int daemon_reload(struct daemon *d, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Admission of a new inbound connection from peer under g's limits (any worker thread): counts
 * it in the total and, when per-source limits are on, in the source table. On DAEMON_ADMIT_OK
 * *a says what to undo when it closes (daemon_admit_close); a refusal has counted nothing. */
enum daemon_admit_verdict daemon_admit_open(struct daemon *d, const struct daemon_gen *g,
                                            const struct sockaddr_storage *peer, uint64_t now_ms,
                                            struct daemon_admission *a);
void daemon_admit_close(struct daemon *d, const struct daemon_admission *a);
/* drops one reference to g; the last one frees it (any thread) */
void daemon_gen_put(struct daemon_gen *g);
static inline struct daemon_gen *daemon_gen_get(struct daemon_gen *g)
{
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	return g;
}
/* Starts the workers and runs until d->stop and the drain are done. Returns the exit status:
 * 0, or 1 when no listener could be opened. */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);

/* asks everything to drain and exit; safe from any thread */
static inline void daemon_stop(struct daemon *d)
{
	atomic_store_explicit(&d->stop, 1, memory_order_relaxed);
}

static inline bool daemon_stopping(const struct daemon *d)
{
	return atomic_load_explicit(&d->stop, memory_order_relaxed) != 0;
}

#endif
