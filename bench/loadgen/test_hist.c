/* Unit tests of hist.c (the file is included to reach its static bucket functions). */
#include <criterion/criterion.h>

#include "bench/loadgen/hist.c"

static struct lg_hist h;

static void reset(void)
{
	memset(&h, 0, sizeof(h));
}

TestSuite(loadgen_hist, .init = reset);

Test(loadgen_hist, empty_is_zero)
{
	cr_assert_eq(lg_hist_quantile(&h, 0.5), 0);
	cr_assert_eq(lg_hist_quantile(&h, 1.0), 0);
}

Test(loadgen_hist, small_values_are_exact)
{
	for (uint64_t v = 0; v < 32; v++)
		lg_hist_add(&h, v);
	cr_assert_eq(h.n, 32);
	cr_assert_eq(lg_hist_quantile(&h, 0.0), 0);
	cr_assert_eq(lg_hist_quantile(&h, 0.5), 15);
	cr_assert_eq(lg_hist_quantile(&h, 1.0), 31);
}

/* every value lands in a bucket whose middle is within 1/32 of it, and buckets grow with v */
Test(loadgen_hist, buckets_monotonic_and_precise)
{
	unsigned prev = 0;
	for (uint64_t v = 1; v < (1ull << 62); v += v / 7 + 1) {
		unsigned b = bucket_of(v);
		cr_assert_geq(b, prev, "bucket of %llu went down", (unsigned long long)v);
		cr_assert_lt(b, LG_HIST_N);
		double mid = (double)bucket_mid(b),
		       err = mid > (double)v ? mid - (double)v : (double)v - mid;
		cr_assert_leq(err, (double)v / 32.0 + 0.5, "value %llu, bucket middle %.0f",
		              (unsigned long long)v, mid);
		prev = b;
	}
	cr_assert_lt(bucket_of(UINT64_MAX), LG_HIST_N);
}

Test(loadgen_hist, uniform_quantiles)
{
	for (uint64_t us = 1; us <= 100000; us++)
		lg_hist_add(&h, us * 1000); /* 1 us .. 100 ms in ns */
	double p50 = (double)lg_hist_quantile(&h, 0.5), p99 = (double)lg_hist_quantile(&h, 0.99);
	cr_assert(p50 > 50e6 * 0.968 && p50 < 50e6 * 1.032, "p50 %.0f", p50);
	cr_assert(p99 > 99e6 * 0.968 && p99 < 99e6 * 1.032, "p99 %.0f", p99);
	cr_assert_eq(h.max, 100000000);
	cr_assert_leq(lg_hist_quantile(&h, 1.0), h.max, "never above the largest value seen");
}

Test(loadgen_hist, huge_value)
{
	lg_hist_add(&h, UINT64_MAX);
	uint64_t q = lg_hist_quantile(&h, 0.5); /* the top bucket works like the others */
	cr_assert_geq(q, UINT64_MAX - UINT64_MAX / 32, "q %llu", (unsigned long long)q);
	cr_assert_eq(h.max, UINT64_MAX);
}

Test(loadgen_hist, merge_and_diff)
{
	static struct lg_hist a, b, d, m;
	for (int i = 0; i < 100; i++)
		lg_hist_add(&a, 1000);
	b = a;
	for (int i = 0; i < 100; i++)
		lg_hist_add(&a, 1000000);
	lg_hist_diff(&d, &a, &b);
	cr_assert_eq(d.n, 100);
	uint64_t q = lg_hist_quantile(&d, 0.01); /* only the new, large values are left */
	cr_assert(q > 968000 && q < 1032000, "q %llu", (unsigned long long)q);
	lg_hist_merge(&m, &a);
	lg_hist_merge(&m, &b);
	cr_assert_eq(m.n, 300);
	cr_assert_eq(m.max, 1000000);
	q = lg_hist_quantile(&m, 0.5); /* 200 of 300 are 1000 */
	cr_assert(q > 968 && q < 1032, "q %llu", (unsigned long long)q);
}
