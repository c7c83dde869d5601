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
};

#endif
