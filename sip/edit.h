/* sip_edit: the bytes of a forwarded message as an iovec list over the original buffer.
 *
 * A proxy changes a few headers of each message it forwards (RFC 3261 16.6): a Via on top,
 * Max-Forwards minus one, Record-Route, sometimes the Request-URI and the top Route; for
 * responses the top Via goes. Each change is a splice (delete a range of the original, insert
 * a few new bytes there); sip_edit_iov() then yields the message as original slices and new
 * pieces. Unchanged bytes are never copied. New bytes live in the edit's own scratch space.
 *
 * Splices never overlap: one that would touch bytes an earlier one owns (the same operation
 * twice, say) is refused with -SIP_E_MISMATCH. A Record-Route or Max-Forwards inserted where
 * none existed goes at the end of the header fields, just before the empty line.
 *
 * Ownership: an edit borrows the message (and so its buffer); the iovecs point into that
 * buffer and into the edit, so both must outlive the send.
 */
#ifndef SIPTLS_SIP_EDIT_H
#define SIPTLS_SIP_EDIT_H

#include <stdint.h>
#include <sys/uio.h>

#include "core/slice.h"
#include "sip/err.h"
#include "sip/msg.h"

#define SIP_EDIT_MAX_SPLICES 12
#define SIP_EDIT_SCRATCH 1024
/* worst case iovec count: one original piece and one new piece per splice, plus the tail */
#define SIP_EDIT_MAX_IOV (2 * SIP_EDIT_MAX_SPLICES + 1)

struct sip_splice {
	uint32_t off;     /* where, in the original message */
	uint32_t del;     /* original bytes removed from off */
	uint32_t add_off; /* new bytes: scratch[add_off .. add_off + add_n) */
	uint32_t add_n;
	uint32_t seq;     /* insertion order: splices at one offset keep it */
};

struct sip_edit {
	const struct sip_msg *m;
	struct sip_splice sp[SIP_EDIT_MAX_SPLICES];
	uint32_t nsp;
	uint32_t used;
	char scratch[SIP_EDIT_SCRATCH];
};

void sip_edit_init(struct sip_edit *e, const struct sip_msg *m);

/* Inserts "Via: <value>\r\n" above every other Via (requests). */
int sip_edit_via_push(struct sip_edit *e, struct slice value);
/* Removes the top Via element (responses): the whole field if it holds one value, else only
 * its first comma-separated element. -SIP_E_MISSING without a Via. */
int sip_edit_via_pop(struct sip_edit *e);
/* Removes the top Route element, like sip_edit_via_pop. -SIP_E_MISSING without a Route. */
int sip_edit_route_pop(struct sip_edit *e);
/* Removes the top n Route elements in one edit (our own one or two, RFC 5658), across fields:
 * -SIP_E_MISSING when there are fewer. Popping again after a pop overlaps it: use this. */
int sip_edit_route_pop_n(struct sip_edit *e, unsigned n);
/* Max-Forwards minus one; inserts "Max-Forwards: 70" when absent (RFC 3261 16.6 step 3).
 * -SIP_E_MAX_FORWARDS when it is already 0 (the caller answers 483) or malformed. */
int sip_edit_max_forwards(struct sip_edit *e);
/* Inserts "Record-Route: <uri>\r\n" above the existing Record-Route fields. Called twice, the
 * second entry ends up on top (RFC 5658 double record-routing: call with the inbound side's
 * URI last). uri is written inside <> as given (include ";lr"). */
int sip_edit_record_route_push(struct sip_edit *e, struct slice uri);
/* Replaces the Request-URI with uri. */
int sip_edit_ruri_set(struct sip_edit *e, struct slice uri);

/* The edited message as iovecs in iov[0..cap). Returns the count (> 0) or -SIP_E_NOSPACE;
 * *total gets the byte length when total is not NULL. */
int sip_edit_iov(const struct sip_edit *e, struct iovec *iov, unsigned cap, size_t *total);

#endif
