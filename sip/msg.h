/* sip_msg: the zero-copy SIP scanner (framing + start line + header index).
 *
 * Input is a byte stream from TCP or TLS. sip_msg_scan() looks at the bytes at the start of a
 * buffer and says: here is one complete message of N bytes / need more bytes / this is broken,
 * and why. A complete message is indexed in place: every field is a struct slice into the
 * caller's buffer. The scanner never allocates, never copies and never writes its input; the
 * header array belongs to the caller (sip_msg_init). Bodies are framed by Content-Length,
 * which is mandatory on streams (RFC 3261 18.3). CRLF keep-alives between messages are
 * reported as their own kind (RFC 5626 4.4.1).
 *
 * Ownership: a sip_msg borrows the buffer it was scanned from and the header array given to
 * sip_msg_init; both must outlive it.
 */
#ifndef SIPTLS_SIP_MSG_H
#define SIPTLS_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"
#include "sip/err.h"

/* Header ids: the headers a proxy or these tools look at get an id (compact forms map to the
 * same id); every other header is SIP_H_OTHER and is still indexed by name. */
enum sip_hdr_id {
	SIP_H_OTHER = 0,
	SIP_H_VIA,              /* v */
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_MAX_FORWARDS,
	SIP_H_CONTENT_LENGTH,   /* l */
	SIP_H_CALL_ID,          /* i */
	SIP_H_CSEQ,
	SIP_H_FROM,             /* f */
	SIP_H_TO,               /* t */
	SIP_H_CONTACT,          /* m */
	SIP_H_CONTENT_TYPE,     /* c */
	SIP_H_CONTENT_ENCODING, /* e */
	SIP_H_SUBJECT,          /* s */
	SIP_H_SUPPORTED,        /* k */
	SIP_H_EVENT,            /* o  (RFC 3265) */
	SIP_H_ALLOW_EVENTS,     /* u  (RFC 3265) */
	SIP_H_REFER_TO,         /* r  (RFC 3515) */
	SIP_H_SESSION_EXPIRES,  /* x  (RFC 4028) */
	SIP_H_IDENTITY,         /* y  (RFC 4474) */
	SIP_H_REFERRED_BY,      /* b  (RFC 3892) */
	SIP_H_REQUIRE,
	SIP_H_PROXY_REQUIRE,
	SIP_H_EXPIRES,
	SIP_H__COUNT
};

enum sip_method {
	SIP_M_OTHER = 0,
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_OPTIONS,
	SIP_M_REGISTER,
	SIP_M_PRACK,
	SIP_M_SUBSCRIBE,
	SIP_M_NOTIFY,
	SIP_M_PUBLISH,
	SIP_M_INFO,
	SIP_M_REFER,
	SIP_M_MESSAGE,
	SIP_M_UPDATE,
	SIP_M__COUNT
};

enum sip_kind {
	SIP_KIND_NONE = 0,  /* nothing recognised yet */
	SIP_KIND_REQUEST,
	SIP_KIND_RESPONSE,
	SIP_KIND_PING,      /* "\r\n\r\n" between messages: answer with a pong (RFC 5626) */
	SIP_KIND_PONG,      /* a lone "\r\n" between messages: nothing to do */
};

struct sip_limits {
	uint32_t max_msg;     /* start line + headers + body, bytes */
	uint32_t max_headers; /* header fields (folded lines count once) */
	uint32_t max_line;    /* one physical line, bytes, CRLF included */
};

/* 64 KiB messages, 128 headers, 8 KiB lines: roomy for real trunks, bounded for hostile ones. */
#define SIP_LIMITS_DEFAULT ((struct sip_limits){ 65535, 128, 8192 })

struct sip_hdr {
	struct slice name;  /* as written, e.g. "v" or "VIA" */
	struct slice value; /* trimmed; a folded value keeps its inner CRLF+WSP */
	struct slice line;  /* the whole field: name through the CRLF of its last line */
	enum sip_hdr_id id;
};

struct sip_msg {
	enum sip_kind kind;
	struct slice raw;        /* the whole message (or the ping/pong bytes) */
	struct slice start_line; /* without its CRLF */
	/* requests */
	struct slice method;
	enum sip_method method_id;
	struct slice ruri;
	/* responses */
	unsigned status;
	struct slice reason;
	/* both */
	struct slice body;
	uint32_t head_len;       /* start line + headers + the empty line */
	uint32_t content_length;
	struct sip_hdr *hdr;     /* caller's array (sip_msg_init) */
	uint32_t nhdr, cap;
	uint16_t first[SIP_H__COUNT]; /* 1 + index in hdr of the first header of each id; 0: none */
	/* on error: offset of the offending line, for the log */
	uint32_t err_off;
	/* private: resume state between calls on the same, growing buffer */
	uint32_t scanned_; /* bytes known to hold no end of head */
	uint32_t need_;    /* total length once the head is complete */
};

/* Prepares m for a new message with hdr[0..cap) as its header array. Call it again before
 * scanning the next message (after consuming one, or after the buffer's start moved). */
void sip_msg_init(struct sip_msg *m, struct sip_hdr *hdr, uint32_t cap);

/* Scans the message at the start of buf[0..len).
 * Returns:
 *   > 0  a complete message (or ping/pong) of that many bytes; m describes it.
 *   0    incomplete: call again with the same buffer plus more bytes (m remembers how far it
 *        looked, so a slow peer does not make the scan quadratic).
 *   < 0  -enum sip_err: the bytes cannot be framed or are not SIP. m keeps what was read
 *        before the error (kind, start line, headers) so a 400 can still be built when the
 *        request line and Via were read; err_off says where it broke. */
int sip_msg_scan(const char *buf, size_t len, const struct sip_limits *lim, struct sip_msg *m);

/* first header with id (not SIP_H_OTHER), or NULL */
const struct sip_hdr *sip_msg_get(const struct sip_msg *m, enum sip_hdr_id id);
/* the next header after h with the same id (SIP_H_OTHER: the same name), or NULL */
const struct sip_hdr *sip_msg_next(const struct sip_msg *m, const struct sip_hdr *h);
/* first header named name (long or compact form, any case), or NULL */
const struct sip_hdr *sip_msg_find(const struct sip_msg *m, struct slice name);

/* header id of a name in any case, long or compact form; SIP_H_OTHER when not known */
enum sip_hdr_id sip_hdr_id_of(struct slice name);
/* canonical long name of id ("Via", "Call-ID", ...); empty slice for SIP_H_OTHER */
struct slice sip_hdr_name(enum sip_hdr_id id);

enum sip_method sip_method_of(struct slice token);
struct slice sip_method_name(enum sip_method m);

/* Splits a comma-separated header value (Via, Route, Record-Route, Contact ...): stores the
 * next element, trimmed, in *item and advances *rest past it and its comma. Commas inside
 * "quoted strings" (with \-escapes) and <...> do not split; empty elements are skipped.
 * Returns 1 with an element, 0 at the end, -SIP_E_HEADER for an unterminated quote or <. */
int sip_list_next(struct slice *rest, struct slice *item);

#endif
