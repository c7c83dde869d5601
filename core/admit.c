/* core_admit: prefixes, token buckets and the per-source table (see core/admit.h). */
#include "core/admit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- prefixes --------------------------------------------------------------------------- */

static const uint8_t admit_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int admit_fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

/* s as a NUL-terminated string in buf (false when it does not fit) */
static bool admit_cstr(struct slice s, char *buf, size_t cap)
{
	if (s.n == 0 || s.n >= cap)
		return false;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return true;
}

/* clears every bit of a[] past len */
static void admit_mask(uint8_t a[16], unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* "/LEN" at the end of s: *len, and s shortened; no '/': *len = dflt */
static int admit_split_len(struct slice *s, unsigned max, unsigned dflt, unsigned *len)
{
	size_t slash = slice_find(*s, '/');
	unsigned long long v;

	*len = dflt;
	if (slash == s->n)
		return 0;
	if (!slice_to_u64(slice_sub(*s, slash + 1, s->n), max, &v))
		return -EINVAL;
	*len = (unsigned)v;
	*s = slice_sub(*s, 0, slash);
	return 0;
}

/* a dotted mask's prefix length; -1 when its ones are not contiguous */
static int admit_mask_len(uint32_t m)
{
	int n = 0;

	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	return (n == 32 ? 0 : m << n) == 0 ? n : -1;
}

int admit_prefix_parse_v4(struct slice addr, struct slice mask, struct admit_prefix *out,
                          const char **why)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr in, m;
	bool slash = slice_find(addr, '/') < addr.n;
	unsigned len;

	memset(out, 0, sizeof(*out));
	if (admit_split_len(&addr, 32, 32, &len) < 0)
		return admit_fail(why, "prefix length must be 0..32");
	if (!admit_cstr(addr, buf, sizeof(buf)) || inet_pton(AF_INET, buf, &in) != 1)
		return admit_fail(why, "bad IPv4 address");
	if (mask.n) {
		int ml;

		if (slash)
			return admit_fail(why, "give a mask or a /LEN, not both");
		if (!admit_cstr(mask, buf, sizeof(buf)) || inet_pton(AF_INET, buf, &m) != 1 ||
		    (ml = admit_mask_len(ntohl(m.s_addr))) < 0)
			return admit_fail(why,
			                  "bad network mask (contiguous ones, e.g. 255.255.255.0)");
		len = (unsigned)ml;
	}
	memcpy(out->a, admit_v4_mapped, 12);
	memcpy(out->a + 12, &in, 4);
	out->len = (uint8_t)(96 + len);
	out->v4 = true;
	admit_mask(out->a, out->len);
	return 0;
}

int admit_prefix_parse_v6(struct slice text, struct admit_prefix *out, const char **why)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned len;

	memset(out, 0, sizeof(*out));
	if (admit_split_len(&text, 128, 128, &len) < 0)
		return admit_fail(why, "prefix length must be 0..128");
	if (!admit_cstr(text, buf, sizeof(buf)) || inet_pton(AF_INET6, buf, out->a) != 1)
		return admit_fail(why, "bad IPv6 address");
	out->len = (uint8_t)len;
	admit_mask(out->a, out->len);
	return 0;
}

int admit_prefix_format(const struct admit_prefix *p, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN], m[INET_ADDRSTRLEN];

	if (p->v4) {
		unsigned len = p->len >= 96 ? p->len - 96u : 0;
		uint32_t mask = htonl(len ? 0xffffffffu << (32 - len) : 0);

		inet_ntop(AF_INET, p->a + 12, a, sizeof(a));
		if (len == 32)
			return snprintf(buf, n, "ipv4 %s", a);
		inet_ntop(AF_INET, &mask, m, sizeof(m));
		return snprintf(buf, n, "ipv4 %s %s", a, m);
	}
	inet_ntop(AF_INET6, p->a, a, sizeof(a));
	return snprintf(buf, n, "ipv6 %s/%u", a, p->len);
}

int admit_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;
		memcpy(out, admit_v4_mapped, 12);
		memcpy(out + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;
		memcpy(out, &s6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

bool admit_prefix_match(const struct admit_prefix *p, const uint8_t a[16])
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->a, a, full) != 0)
		return false;
	return rest == 0 || ((p->a[full] ^ a[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool admit_trusted(const struct admit_prefix *list, unsigned n, const uint8_t a[16])
{
	if (n == 0)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (admit_prefix_match(&list[i], a))
			return true;
	return false;
}

/* ---- token buckets ---------------------------------------------------------------------- */

void admit_bucket_init(struct admit_bucket *b, uint32_t burst, uint64_t now_ms)
{
	b->milli = (uint64_t)burst * 1000u;
	b->last_ms = now_ms;
}

bool admit_bucket_take(struct admit_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)(burst ? burst : rate) * 1000u;

	if (rate == 0)
		return true;
	if (now_ms > b->last_ms) {
		/* rate per second = rate milli-tokens per ms; capped before it can overflow */
		uint64_t dt = now_ms - b->last_ms;
		uint64_t add = dt > cap / rate ? cap : dt * rate;
		b->milli = b->milli + add > cap ? cap : b->milli + add;
	}
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	if (b->milli > cap)
		b->milli = cap; /* the limits shrank (a reload) */
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

/* ---- the source table ------------------------------------------------------------------- */

int admit_table_init(struct admit_table *t, uint32_t entries, const struct core_mac_key *key)
{
	uint32_t sets = 1;

	memset(t, 0, sizeof(*t));
	if (entries == 0)
		return -EINVAL;
	while ((uint64_t)sets * ADMIT_WAYS < entries && sets < (1u << 24))
		sets <<= 1;
	t->e = calloc((size_t)sets * ADMIT_WAYS, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->nsets = sets;
	t->key = *key;
	return 0;
}

void admit_table_free(struct admit_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

void admit_source_key(const uint8_t a[16], uint8_t key[16])
{
	memcpy(key, a, 16);
	if (memcmp(a, admit_v4_mapped, 12) != 0)
		memset(key + 8, 0, 8); /* IPv6: the /64 */
}

static struct admit_entry *admit_set(const struct admit_table *t, const uint8_t key[16])
{
	uint64_t h = core_siphash(&t->key, key, 16);
	return &t->e[(size_t)(h & (t->nsets - 1)) * ADMIT_WAYS];
}

static struct admit_entry *admit_find(const struct admit_table *t, const uint8_t key[16])
{
	struct admit_entry *set = admit_set(t, key);

	for (unsigned i = 0; i < ADMIT_WAYS; i++)
		if (set[i].used && memcmp(set[i].key, key, 16) == 0)
			return &set[i];
	return NULL;
}

/* a free way of key's set, else the least recently seen source without connections; NULL
 * when every way holds connections */
static struct admit_entry *admit_victim(struct admit_table *t, const uint8_t key[16])
{
	struct admit_entry *set = admit_set(t, key), *v = NULL;

	for (unsigned i = 0; i < ADMIT_WAYS; i++) {
		if (!set[i].used)
			return &set[i];
		if (set[i].conns == 0 && (!v || set[i].seen_ms < v->seen_ms))
			v = &set[i];
	}
	if (v)
		t->evictions++;
	return v;
}

enum admit_verdict admit_table_open(struct admit_table *t, const struct admit_limits *l,
                                    const uint8_t key[16], uint64_t now_ms)
{
	struct admit_entry *e = admit_find(t, key);

	if (!e) {
		if (!(e = admit_victim(t, key)))
			return ADMIT_UNTRACKED;
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, 16);
		e->used = true;
		admit_bucket_init(&e->bucket, l->burst ? l->burst : l->rate, now_ms);
	}
	e->seen_ms = now_ms;
	if (!admit_bucket_take(&e->bucket, l->rate, l->burst, now_ms))
		return ADMIT_RATE;
	if (l->per_source && e->conns >= l->per_source)
		return ADMIT_PER_SOURCE;
	e->conns++;
	return ADMIT_OK;
}

void admit_table_close(struct admit_table *t, const uint8_t key[16])
{
	struct admit_entry *e = admit_find(t, key);

	if (e && e->conns)
		e->conns--;
}

uint32_t admit_table_conns(const struct admit_table *t, const uint8_t key[16])
{
	const struct admit_entry *e = admit_find(t, key);
	return e ? e->conns : 0;
}

const char *admit_verdict_str(enum admit_verdict v)
{
	switch (v) {
	case ADMIT_OK:
		return "admitted";
	case ADMIT_UNTRACKED:
		return "admitted untracked (source table set full)";
	case ADMIT_PER_SOURCE:
		return "per-source connection limit";
	case ADMIT_RATE:
		return "per-source connection rate";
	default:
		return "?";
	}
}
