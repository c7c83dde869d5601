/* lg_hist: a log-bucketed latency histogram (the HdrHistogram idea, fixed precision).
 *
 * Values below 32 have a bucket each; above, every power of two [2^e, 2^(e+1)) is cut into 32
 * equal buckets, so a quantile is off by at most 1/32 of its value, and buckets cover the whole
 * uint64 range (1920 buckets, 15 KiB) with no configuration. */
#include "bench/loadgen/lg.h"

static unsigned bucket_of(uint64_t v)
{
	if (v < (1u << LG_HIST_SUB))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= LG_HIST_SUB */
	unsigned sub = (unsigned)(v >> (e - LG_HIST_SUB)) - (1u << LG_HIST_SUB);
	return ((e - LG_HIST_SUB + 1) << LG_HIST_SUB) + sub;
}

/* the middle of bucket i */
static uint64_t bucket_mid(unsigned i)
{
	unsigned g = i >> LG_HIST_SUB, sub = i & ((1u << LG_HIST_SUB) - 1);
	if (g == 0)
		return sub;
	unsigned shift = g - 1;
	uint64_t low = ((uint64_t)(1u << LG_HIST_SUB) + sub) << shift;
	return low + ((1ull << shift) >> 1);
}

void lg_hist_add(struct lg_hist *h, uint64_t v)
{
	lg_add(&h->b[bucket_of(v)], 1);
	lg_add(&h->n, 1);
	if (v > h->max)
		__atomic_store_n(&h->max, v, __ATOMIC_RELAXED);
}

void lg_hist_merge(struct lg_hist *dst, const struct lg_hist *src)
{
	for (unsigned i = 0; i < LG_HIST_N; i++)
		dst->b[i] += __atomic_load_n(&src->b[i], __ATOMIC_RELAXED);
	dst->n += __atomic_load_n(&src->n, __ATOMIC_RELAXED);
	uint64_t m = __atomic_load_n(&src->max, __ATOMIC_RELAXED);
	if (m > dst->max)
		dst->max = m;
}

void lg_hist_diff(struct lg_hist *dst, const struct lg_hist *a, const struct lg_hist *b)
{
	for (unsigned i = 0; i < LG_HIST_N; i++)
		dst->b[i] = a->b[i] - b->b[i];
	dst->n = a->n - b->n;
	dst->max = a->max;
}

uint64_t lg_hist_quantile(const struct lg_hist *h, double q)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->n + 0.999999), seen = 0;
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < LG_HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = bucket_mid(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
