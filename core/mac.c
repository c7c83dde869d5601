#include "core/mac.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012), 64-bit output */
uint64_t core_siphash(const struct core_mac_key *key, const void *data, size_t n)
{
	const unsigned char *in = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key->k0, v1 = 0x646f72616e646f6dull ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ key->k0, v3 = 0x7465646279746573ull ^ key->k1;
	size_t full = n & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)n << 56;
	for (size_t i = 0; i < (n & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int core_mac_key_random(struct core_mac_key *key)
{
	unsigned char b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	key->k0 = load_le64(b);
	key->k1 = load_le64(b + 8);
	return 0;
}

/* tag over value (8 bytes, little-endian) followed by the context bytes */
static uint64_t token_tag(const struct core_mac_key *key, uint64_t value, struct slice context)
{
	unsigned char buf[8 + 256];
	size_t n = context.n < 256 ? context.n : 256;
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)(value >> (8 * i));
	if (n)
		memcpy(buf + 8, context.p, n);
	/* a context longer than 256 bytes is folded in by hashing its rest first */
	if (context.n > 256) {
		uint64_t rest = core_siphash(key, context.p + 256, context.n - 256);
		for (int i = 0; i < 8; i++)
			buf[i] ^= (unsigned char)(rest >> (8 * i));
	}
	return core_siphash(key, buf, 8 + n);
}

static void put_hex64(char *out, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
}

static bool get_hex64(const char *in, uint64_t *v)
{
	uint64_t r = 0;
	for (int i = 0; i < 16; i++) {
		unsigned c = (unsigned char)in[i], d;
		if (c - '0' < 10u)
			d = c - '0';
		else if ((c | 0x20u) - 'a' < 6u)
			d = (c | 0x20u) - 'a' + 10;
		else
			return false;
		r = (r << 4) | d;
	}
	*v = r;
	return true;
}

void core_token_make(const struct core_mac_key *key, uint64_t value, struct slice context,
		     char out[CORE_TOKEN_LEN])
{
	put_hex64(out, value);
	put_hex64(out + 16, token_tag(key, value, context));
}

bool core_token_check(const struct core_mac_key *key, struct slice text, struct slice context,
		      uint64_t *value)
{
	uint64_t v, tag;
	if (text.n != CORE_TOKEN_LEN || !get_hex64(text.p, &v) || !get_hex64(text.p + 16, &tag))
		return false;
	/* one 64-bit compare: no early exit a forger could time byte by byte */
	if (tag != token_tag(key, v, context))
		return false;
	*value = v;
	return true;
}
