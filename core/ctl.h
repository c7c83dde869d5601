/* ctl: the operators' command language of the control socket — parsing one command line, and
 * printing connection snapshots in the reference guide's layout ("Verify SIP TLS
 * Configuration": show sip-ua connections tcp tls brief | detail) or as JSON.
 *
 * Everything here is pure: ctl_parse reads a line and fills a request, the printers format rows
 * the workers copied out into a FILE *. The daemon owns the socket and the snapshots; siptlsctl
 * uses ctl_parse to report typos without a daemon. See docs/operations.md.
 *
 * Protocol on the socket (a Unix stream socket, 0600): the client sends one command line ending
 * in "\n" (at most CTL_LINE_MAX bytes with it); the daemon answers with text and closes. An
 * answer whose first line starts with "% " is an error (as on the router's console).
 */
#ifndef SIPTLS_CORE_CTL_H
#define SIPTLS_CORE_CTL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/slice.h"

#define CTL_DEFAULT_PATH "/run/siptlsd/control"
/* longest request line, "\n" included; a longer one is answered "% Command too long" */
#define CTL_LINE_MAX 512
/* room for any ctl_parse error text, NUL included (offending words are cut to fit) */
#define CTL_ERR_MAX 256
/* Conn-Ids accepted by "clear ... id N". The guide's router takes 1..16380; our public ids name
 * a worker and a slot in its table (65536 per worker), so they pass 16380 on any busy box and
 * the whole uint32_t range is accepted. 0 is never a connection. */
#define CTL_ID_MAX UINT32_MAX

enum ctl_cmd {
	CTL_SHOW_BRIEF,   /* show sip-ua connections tcp tls brief */
	CTL_SHOW_DETAIL,  /* show sip-ua connections tcp tls detail */
	CTL_CLEAR_ID,     /* clear sip-ua tcp tls connection id N */
	CTL_CLEAR_TARGET, /* clear sip-ua tcp tls connection target ipv4:A:P | ipv6:[A]:P [id N] */
	CTL_SHOW_RUNNING, /* show running-config */
	CTL_SHOW_STATS,   /* show stats: every counter, by worker and in total */
	CTL_SHOW_TRUSTPT, /* show crypto pki trustpoints */
	CTL_SHOW_CERTS,   /* show crypto pki certificates */
	CTL_RELOAD,       /* reload: like SIGHUP */
	CTL_HELP,         /* help, ? */
	CTL_DEBUG_SIP,    /* debug ccsip messages: trace every SIP message (core/trace.h) */
	CTL_UNDEBUG_SIP,  /* no debug ccsip messages, undebug ccsip messages */
	CTL_UNDEBUG_ALL,  /* undebug all, no debug all */
	CTL__COUNT        /* not a command: how many there are */
};

struct ctl_request {
	enum ctl_cmd cmd;
	bool json; /* show ... | json */
	/* CTL_CLEAR_ID: the Conn-Id. CTL_CLEAR_TARGET: 0 for every connection to target, else
	 * only that Conn-Id and only if it goes to target (the guide's "conn t ... id <connid>") */
	uint32_t id;
	struct sockaddr_storage target; /* CTL_CLEAR_TARGET: remote address and port */
	socklen_t target_len;
};

/* Parses one command line as an operator types it: words separated by blanks, each keyword
 * abbreviated to any unique prefix (case-insensitive, as IOS does), an optional trailing
 * "| json" (or "json") after a show. The line may hold any bytes.
 * Returns 0 with *r filled, or -EINVAL with a one-line message in err (when errlen > 0) such as
 *   % Invalid input at 'foo': expected brief | detail
 *   % Ambiguous command at 's': sip-ua | stats
 *   % Incomplete command: expected id | target */
int ctl_parse(struct slice line, struct ctl_request *r, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* ---- snapshots: rows the workers fill, the printers read ---- */

struct ctl_conn {
	uint32_t id; /* public Conn-Id */
	char remote_ip[INET6_ADDRSTRLEN];
	uint16_t remote_port;
	char local_ip[INET6_ADDRSTRLEN];
	uint16_t local_port;
	const char *state; /* "Established", "Handshaking", "Connecting", "Closing"; static */
	uint32_t writeq;   /* bytes queued */
	char version[16];  /* "TLSv1.3"; empty before the handshake */
	char cipher[64];   /* OpenSSL's name, as the guide prints it */
	char curve[32];    /* key exchange group; empty when none (RSA key exchange) */
	unsigned tenant;   /* the tenant's tag */
	const char *rl_rx, *rl_tx; /* record layer per direction: "kernel" / "user"; static */
	bool outbound;
};

struct ctl_listener {
	uint32_t id;    /* Conn-Id of the listen socket */
	char local[80]; /* "[0.0.0.0]:5061" */
	unsigned tenant;
};

struct ctl_totals {
	uint64_t active, remote_closures, conn_failures, send_failures, inactive_ageouts,
	    client_hs_failures, server_hs_failures;
	uint64_t max_sendq;      /* largest send queue recorded, bytes */
	char max_sendq_peer[80]; /* "10.105.34.88:8090"; empty: none recorded */
};

/* ---- printers: 0, or -EIO when out reports an error, -ENOMEM ---- */

/* the guide's brief form: totals, then the listen-socket table */
int ctl_print_brief(FILE *out, const struct ctl_totals *t, const struct ctl_listener *lis,
                    size_t nlis);
/* the guide's detail form: totals, the connections grouped by Remote-Agent (ordered by
 * address, rows within one agent in snapshot order), then the listen-socket table */
int ctl_print_detail(FILE *out, const struct ctl_totals *t, const struct ctl_conn *conns,
                     size_t nconn, const struct ctl_listener *lis, size_t nlis);
/* the same as one JSON object each ({"totals":{..},"listeners":[..]} and, for detail, a flat
 * "connections" array); strings escaped; ends with "\n" */
int ctl_print_brief_json(FILE *out, const struct ctl_totals *t, const struct ctl_listener *lis,
                         size_t nlis);
int ctl_print_detail_json(FILE *out, const struct ctl_totals *t, const struct ctl_conn *conns,
                          size_t nconn, const struct ctl_listener *lis, size_t nlis);
/* the answer to a clear that closed n connections: "Closed 1 connection(s) ..." or, for n == 0,
 * an error line "% No connection ..." naming what was asked */
int ctl_print_cleared(FILE *out, const struct ctl_request *r, size_t n);
/* the command list */
int ctl_print_help(FILE *out);

/* ---- show crypto pki: the certificates of the loaded trustpoints (docs/pki.md) ---- */

enum ctl_pki_kind {
	CTL_PKI_NONE,  /* a trustpoint without any certificate: a row that only names it */
	CTL_PKI_OWN,   /* the trustpoint's own certificate (certificate-file, first) */
	CTL_PKI_CHAIN, /* a certificate served after it (certificate-file, the rest) */
	CTL_PKI_CA,    /* a certificate it trusts (ca-file) */
};

/* one row per certificate, a trustpoint's rows together, its own certificate first */
struct ctl_pki_cert {
	char trustpoint[64];
	enum ctl_pki_kind kind;
	char subject[256], issuer[256]; /* RFC 4514 text */
	char serial[80];                /* hex */
	int64_t not_before, not_after;  /* seconds since the epoch */
};

/* The router's layouts, with the days until expiry added and a note on every certificate that
 * ends within CTL_PKI_WARN_DAYS of now. trustpoints: per trustpoint its CA and its own
 * certificate; certificates: every certificate, own ones first within a trustpoint. */
#define CTL_PKI_WARN_DAYS 30
int ctl_print_pki_trustpoints(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now);
int ctl_print_pki_certs(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now);
/* JSON: {"trustpoints":[{"name":..,"certificates":[{kind,subject,issuer,serial,not_before,
 * not_after (epoch seconds),days_left},..]},..]} for both commands */
int ctl_print_pki_json(FILE *out, const struct ctl_pki_cert *c, size_t n, int64_t now);

/* ---- the socket ---- */

/* Creates the control socket at path, listening, close-on-exec, mode 0600; creates the parent
 * directory (0700) when it is missing. A stale socket file (nobody accepts on it) is replaced;
 * a live one is not: -EADDRINUSE. Returns the fd or -errno (-ENAMETOOLONG for a long path). */
int ctl_listen(const char *path) __attribute__((warn_unused_result));

#endif
