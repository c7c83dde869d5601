/* core_conf: siptlsd's configuration, in memory, and its file form in the reference's dialect.
 *
 * One model is fed two ways: a config file (`siptlsd -c FILE`) written like the reference
 * guide's running-config, or the one-trunk command-line flags (core_conf_one_trunk). The
 * TLS parts are the tls/ module's own conf structs, so the model hands them over unchanged.
 *
 *   ip domain name example.com
 *   crypto pki trustpoint CUBE-TrustPoint
 *    fqdn cube.example.com / subject-name cn=... / subject-alt-name ... / revocation-check crl
 *    rsakeypair L | eckeypair L / ip-address A / serial-number  (enrollment: siptlsctl pki)
 *    certificate-file F / key-file F / ca-file F / crl-file F / ocsp-staple-file F  (ours)
 *   voice class tls-cipher 100        cipher 1 DHE_RSA_AES128_GCM_SHA256 / tls13-ciphers LIST
 *   voice class tls-profile 100       cipher 100 / trustpoint NAME / cn-san validate MODE /
 *                                     cn-san 1 FQDN / sni send / tls-version min 1.2 max 1.3
 *   voice class tenant 100            tls-profile 100 / listen-port secure 5080 /
 *                                     sip-server dns:HOST:PORT | ipv4:ADDR:PORT / url sips /
 *                                     session transport tcp tls / bind control source-interface A
 *   dial-peer voice 100 voip          destination-pattern 1000 / session target sip-server |
 *                                     ipv4:ADDR[:PORT] | dns:HOST[:PORT] / voice-class sip
 *                                     tenant 100 / preference N / session protocol sipv2
 *   sip-ua                            crypto signaling default trustpoint NAME
 *   voice service voip                ip address trusted list / ipv4 ADDR [MASK] | ipv4 ADDR/LEN |
 *                                     ipv6 PREFIX/LEN; (ours) max-connections [per-source] N /
 *                                     connection-rate per-source N [burst B] /
 *                                     handshake-timeout MS / idle-timeout MS /
 *                                     max-message-size N / max-header-count N
 *
 * Lines that only matter on a router are accepted with a notice (core_conf.notice). Anything
 * else is an error naming file, line and word. Indentation does not matter; `!`, `exit` and
 * `end` close a block. Ownership: a core_conf owns every string it points to (its arena).
 */
#ifndef SIPTLS_CORE_CONF_H
#define SIPTLS_CORE_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/admit.h"
#include "core/slice.h"
#include "tls/cipher.h"
#include "tls/profile.h"
#include "tls/trustpoint.h"

#define CORE_CONF_MAX_TRUSTPOINTS 16
#define CORE_CONF_MAX_CIPHERS 16
#define CORE_CONF_MAX_PROFILES 32
#define CORE_CONF_MAX_TENANTS 64
#define CORE_CONF_MAX_DIALPEERS 256
#define CORE_CONF_MAX_NOTICES 32
#define CORE_CONF_DEFAULT_PORT 5061 /* the global tenant 0 listens here (the guide's default) */
#define CORE_CONF_MAX_TRUSTED 256    /* `ip address trusted list` entries */
#define CORE_CONF_MAX_HEADERS 256    /* the ceiling of max-header-count (the worker's array) */

struct core_conf_profile {
	struct tls_profile_conf tls; /* ciphers / trustpoint pointers set by core_conf_resolve */
	unsigned cipher_tag;         /* 0: none */
	const char *trustpoint;      /* NULL: none */
	unsigned line;
};

struct core_conf_tenant {
	unsigned tag;               /* 0 is the global tenant */
	unsigned profile_tag;       /* 0: the global default (sip-ua default trustpoint) */
	const char *listen_addr;    /* bind control source-interface ADDR; NULL: any address */
	uint16_t listen_port;       /* listen-port secure; 0: the tenant does not listen */
	const char *server_host;    /* sip-server; NULL: none */
	uint16_t server_port;
	bool server_dns;            /* dns: (a name) rather than ipv4: */
	bool url_sips;
	const char *sni_name;       /* inbound SNI name selecting this tenant on a shared port */
	unsigned line;
};

enum core_conf_target { CORE_TARGET_NONE, CORE_TARGET_SIP_SERVER, CORE_TARGET_HOST };

struct core_conf_dialpeer {
	unsigned tag;
	const char *pattern;
	const char *description;
	unsigned preference;
	unsigned tenant_tag;       /* voice-class sip tenant N; 0: global */
	enum core_conf_target target;
	const char *host;          /* CORE_TARGET_HOST */
	uint16_t port;             /* 0: 5061 */
	unsigned line;
};

/* `voice service voip` limits (siptlsd's own lines); 0: not set, the flag or its default applies */
struct core_conf_limits {
	unsigned max_conns;      /* max-connections N: inbound connections in total */
	unsigned per_source;     /* max-connections per-source N */
	unsigned rate, burst;    /* connection-rate per-source N [burst B]: new connections/s */
	unsigned handshake_ms;   /* handshake-timeout MS */
	unsigned idle_ms;        /* idle-timeout MS */
	unsigned max_msg;        /* max-message-size BYTES */
	unsigned max_headers;    /* max-header-count N */
};

struct core_conf {
	char *arena; /* owned strings */
	size_t used, cap;
	const char *file;
	const char *domain;          /* ip domain name */
	const char *default_trustpoint;
	struct tls_trustpoint_conf tp[CORE_CONF_MAX_TRUSTPOINTS];
	unsigned tp_line[CORE_CONF_MAX_TRUSTPOINTS];
	unsigned ntp;
	struct tls_cipher_list ciphers[CORE_CONF_MAX_CIPHERS];
	unsigned nciphers;
	struct core_conf_profile profiles[CORE_CONF_MAX_PROFILES];
	unsigned nprofiles;
	struct core_conf_tenant tenants[CORE_CONF_MAX_TENANTS];
	unsigned ntenants;
	struct core_conf_dialpeer peers[CORE_CONF_MAX_DIALPEERS];
	unsigned npeers;
	struct admit_prefix trusted[CORE_CONF_MAX_TRUSTED]; /* empty: every peer is trusted */
	unsigned ntrusted;
	struct core_conf_limits limits;
	const char *notice[CORE_CONF_MAX_NOTICES]; /* "line N: 'dtmf-relay' has no effect here" */
	unsigned nnotice;
};

/* Parses text (a whole file image; name is for messages) into c and resolves references.
 * 0, or -EINVAL with err = "FILE:LINE: what: 'word'". c must be released with core_conf_free
 * either way. */
int core_conf_parse(struct core_conf *c, const char *name, const char *text, size_t len, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/* reads path and parses it; -errno when the file cannot be read (err says so) */
int core_conf_load(struct core_conf *c, const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void core_conf_free(struct core_conf *c);

/* the model of the one-trunk flags: tenant 0 listening on listen_addr:listen_port with a
 * trustpoint of cert/key/ca files, forwarding every request to upstream_host:upstream_port */
struct core_conf_trunk {
	const char *listen_addr;
	uint16_t listen_port;
	const char *cert, *key, *ca;
	const char *upstream_host;
	uint16_t upstream_port;
	enum tls_cn_san_mode cn_san_mode;
	const char *cn_san[TLS_PROFILE_CN_SAN_MAX];
	unsigned n_cn_san;
	bool sni_send, url_sips;
};
int core_conf_one_trunk(struct core_conf *c, const struct core_conf_trunk *t, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Writes the configuration back in the dialect, normalised (`show running-config`). */
void core_conf_write(const struct core_conf *c, FILE *out);

/* lookups by tag or name; NULL when absent */
const struct core_conf_tenant *core_conf_tenant(const struct core_conf *c, unsigned tag);
const struct core_conf_profile *core_conf_profile(const struct core_conf *c, unsigned tag);
const struct tls_trustpoint_conf *core_conf_trustpoint(const struct core_conf *c, const char *name);
const struct tls_cipher_list *core_conf_ciphers(const struct core_conf *c, unsigned tag);

#endif
