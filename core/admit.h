/* core_admit: who may connect, and who may send requests — the policy, with no I/O, no clock
 * of its own (callers pass the time) and no locks (the caller serialises a shared table).
 *
 * Three pieces:
 *  - prefixes: `ip address trusted list` entries (`ipv4 ADDR [MASK]`, `ipv4 ADDR/LEN`,
 *    `ipv6 PREFIX/LEN`), parsed, written back and matched. Every address is held in IPv6 form,
 *    IPv4 as ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2), so one match serves both families and an
 *    IPv4 peer reaching a dual-stack socket still matches its ipv4 entries.
 *  - token buckets: new connections per second per source, with a burst.
 *  - the source table: per-source connection counts and buckets in a fixed number of entries,
 *    set-associative (ADMIT_WAYS per set), so a lookup touches one set: O(1) time, bounded
 *    memory whatever the number of peers. The set is chosen by a keyed hash (SipHash with a
 *    per-process random key) so a peer cannot aim many addresses at one set. A source with no
 *    open connection may be evicted (least recently seen first); one with open connections is
 *    never evicted, so its count stays exact. IPv6 sources are keyed by their /64: one host
 *    usually holds a whole /64 (RFC 7934 section 6), and per-address limits would be void.
 */
#ifndef SIPTLS_CORE_ADMIT_H
#define SIPTLS_CORE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/mac.h"
#include "core/slice.h"

#define ADMIT_WAYS 8
#define ADMIT_PREFIX_TEXT 64 /* "ipv4 255.255.255.255 255.255.255.255", "ipv6 .../128" */

/* an address or prefix in IPv6 form; len counts bits of a[] (96 + n for an IPv4 /n) */
struct admit_prefix {
	uint8_t a[16];
	uint8_t len; /* 0..128 */
	bool v4;     /* written as ipv4 (a[] is ::ffff:a.b.c.d) */
};

/* ---- prefixes ---- */

/* `ipv4 ADDR [MASK]` / `ipv4 ADDR/LEN`: addr is "A.B.C.D" or "A.B.C.D/LEN", mask "" or a
 * contiguous dotted mask (not together with /LEN). Host bits beyond the prefix are cleared, as
 * a router does. 0, or -EINVAL with *why set to a static reason. */
int admit_prefix_parse_v4(struct slice addr, struct slice mask, struct admit_prefix *out,
                          const char **why) __attribute__((warn_unused_result));
/* `ipv6 PREFIX/LEN` (or a bare address: /128). 0 or -EINVAL with *why. */
int admit_prefix_parse_v6(struct slice text, struct admit_prefix *out, const char **why)
    __attribute__((warn_unused_result));
/* the normalised config form: "ipv4 ADDR" (/32), "ipv4 ADDR MASK", "ipv6 PREFIX/LEN";
 * returns the length, as snprintf */
int admit_prefix_format(const struct admit_prefix *p, char *buf, size_t n);
/* an AF_INET/AF_INET6 socket address in IPv6 form; -EAFNOSUPPORT for anything else */
int admit_addr(const struct sockaddr_storage *ss, uint8_t out[16]);
bool admit_prefix_match(const struct admit_prefix *p, const uint8_t a[16]);
/* is a in one of list[0..n)? An empty list trusts everyone (no list configured). */
bool admit_trusted(const struct admit_prefix *list, unsigned n, const uint8_t a[16]);

/* ---- token buckets ---- */

struct admit_bucket {
	uint64_t milli;   /* tokens * 1000 */
	uint64_t last_ms; /* when milli was last brought up to date */
};

/* a full bucket at now_ms */
void admit_bucket_init(struct admit_bucket *b, uint32_t burst, uint64_t now_ms);
/* refills rate per second (at most burst), then takes one token: true when there was one.
 * rate 0 means no limit. A clock that went backwards refills nothing. */
bool admit_bucket_take(struct admit_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);

/* ---- the source table ---- */

struct admit_limits {
	uint32_t per_source; /* open connections per source; 0: no limit */
	uint32_t rate;       /* new connections per second per source; 0: no limit */
	uint32_t burst;      /* bucket size; 0: the same as rate */
};

enum admit_verdict {
	ADMIT_OK = 0,     /* admitted and counted: call admit_table_close when it closes */
	ADMIT_UNTRACKED,  /* admitted, not counted: its set is full of sources with connections */
	ADMIT_PER_SOURCE, /* refused: the source is at limits.per_source */
	ADMIT_RATE,       /* refused: the source's bucket is empty */
};

struct admit_entry {
	uint8_t key[16];
	uint32_t conns; /* open connections counted to this source */
	bool used;
	struct admit_bucket bucket;
	uint64_t seen_ms; /* last connection attempt: the eviction order */
};

struct admit_table {
	struct admit_entry *e; /* nsets * ADMIT_WAYS */
	uint32_t nsets;        /* a power of two */
	struct core_mac_key key;
	uint64_t evictions; /* idle sources dropped to make room */
};

/* a table of at least `entries` entries (rounded up to whole sets of a power-of-two count) with
 * the hash keyed by key. 0 or -ENOMEM / -EINVAL (entries 0). */
int admit_table_init(struct admit_table *t, uint32_t entries, const struct core_mac_key *key)
    __attribute__((warn_unused_result));
void admit_table_free(struct admit_table *t);
/* the key a peer address is counted under: itself for IPv4, its /64 for IPv6 */
void admit_source_key(const uint8_t a[16], uint8_t key[16]);
/* a new connection from source key (admit_source_key) at now_ms: the verdict. The rate is
 * checked first and every attempt spends a token, refused ones too (a flood stays refused). */
enum admit_verdict admit_table_open(struct admit_table *t, const struct admit_limits *l,
                                    const uint8_t key[16], uint64_t now_ms);
/* a connection that admit_table_open answered ADMIT_OK has closed */
void admit_table_close(struct admit_table *t, const uint8_t key[16]);
/* connections counted to key now (0 when not in the table) */
uint32_t admit_table_conns(const struct admit_table *t, const uint8_t key[16]);

const char *admit_verdict_str(enum admit_verdict v);

#endif
