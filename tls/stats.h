/* stats: TLS counters of one worker (share-nothing: plain integers, the worker is the only
 * writer; the stats collector reads snapshots through the worker's mailbox).
 *
 * "client" and "server" name OUR role in the handshake, as `show sip-ua connections` prints
 * them: "TLS client handshake failures" are outbound connections we opened (we were the TLS
 * client), "TLS server handshake failures" inbound connections we accepted.
 */
#ifndef SIPTLS_TLS_STATS_H
#define SIPTLS_TLS_STATS_H

#include <stdint.h>

struct tls_stats {
	uint64_t client_handshake_failures; /* any failed outbound handshake */
	uint64_t server_handshake_failures; /* any failed inbound handshake */
	uint64_t client_identity_failures;  /* of those: cn-san server-certificate checks */
	uint64_t server_identity_failures;  /* of those: cn-san client-certificate checks */
	/* kernel TLS (issue 7, docs/record-layer.md) */
	uint64_t ktls_rx13_installs; /* TLS 1.3 receive keys we installed in the kernel */
	uint64_t ktls_rx13_failures; /* ... that failed: that connection stays on the user path */
	uint64_t ssl_shed;           /* SSL objects freed: the kernel had both directions */
	uint64_t alerts_received;    /* error alerts from peers: closed, alert logged */
	uint64_t keyupdates;         /* KeyUpdate on kernel receive (6.1 cannot re-key): closed */
	uint64_t tickets_discarded;  /* NewSessionTicket records on kernel receive, dropped */
	uint64_t record_errors;      /* bad records on receive: decryption or protocol failures */
};

#endif
