/* core/admit.c: prefixes (parse, write, match), token buckets, the per-source table. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/admit.h"
#include "core/conf.h"

static const struct core_mac_key key = {0x0123456789abcdefull, 0xfedcba9876543210ull};

/* an address in the table's IPv6 form, from text (IPv4 or IPv6) */
static void addr(const char *text, uint8_t a[16])
{
	struct sockaddr_storage ss = {0};
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1, "%s", text);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1, "%s", text);
	}
	cr_assert_eq(admit_addr(&ss, a), 0);
}

static struct admit_prefix v4(const char *a, const char *mask)
{
	struct admit_prefix p;
	const char *why = NULL;
	cr_assert_eq(admit_prefix_parse_v4(slice_cstr(a), slice_cstr(mask), &p, &why), 0,
	             "%s %s: %s", a, mask, why);
	return p;
}

static struct admit_prefix v6(const char *t)
{
	struct admit_prefix p;
	const char *why = NULL;
	cr_assert_eq(admit_prefix_parse_v6(slice_cstr(t), &p, &why), 0, "%s: %s", t, why);
	return p;
}

static bool in(const struct admit_prefix *p, const char *a)
{
	uint8_t x[16];
	addr(a, x);
	return admit_prefix_match(p, x);
}

static void written(const struct admit_prefix *p, const char *want)
{
	char buf[ADMIT_PREFIX_TEXT];
	int n = admit_prefix_format(p, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
	cr_assert_eq(n, (int)strlen(want));
}

/* ---- prefixes ---- */

Test(admit_prefix, v4_host_matches_only_itself)
{
	struct admit_prefix p = v4("192.0.2.10", "");
	cr_assert(in(&p, "192.0.2.10"));
	cr_assert_not(in(&p, "192.0.2.11"));
	cr_assert_not(in(&p, "10.0.0.1"));
	written(&p, "ipv4 192.0.2.10");
}

Test(admit_prefix, v4_mask_and_len_are_the_same)
{
	struct admit_prefix a = v4("198.51.100.0", "255.255.255.0"), b = v4("198.51.100.0/24", "");
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert(in(&a, "198.51.100.0"));
	cr_assert(in(&a, "198.51.100.255"));
	cr_assert_not(in(&a, "198.51.101.0"));
	cr_assert_not(in(&a, "198.51.99.255"));
	written(&a, "ipv4 198.51.100.0 255.255.255.0");
}

Test(admit_prefix, v4_odd_length_and_host_bits_cleared)
{
	struct admit_prefix p = v4("10.1.2.3", "255.255.240.0"); /* /20: host bits dropped */
	written(&p, "ipv4 10.1.0.0 255.255.240.0");
	cr_assert(in(&p, "10.1.15.255"));
	cr_assert_not(in(&p, "10.1.16.0"));
	struct admit_prefix any = v4("0.0.0.0/0", "");
	cr_assert(in(&any, "203.0.113.9"));
	cr_assert_not(in(&any, "2001:db8::1")); /* IPv4 /0 is all of IPv4, not all of IPv6 */
	written(&any, "ipv4 0.0.0.0 0.0.0.0");
}

Test(admit_prefix, v4_refusals)
{
	struct admit_prefix p;
	const char *why = NULL;
	cr_assert_eq(
	    admit_prefix_parse_v4(SLICE_LIT("10.0.0.0"), SLICE_LIT("255.0.255.0"), &p, &why),
	    -EINVAL);
	cr_assert(strstr(why, "mask"));
	cr_assert_eq(admit_prefix_parse_v4(SLICE_LIT("10.0.0.0/33"), SLICE_LIT(""), &p, &why),
	             -EINVAL);
	cr_assert_eq(
	    admit_prefix_parse_v4(SLICE_LIT("10.0.0.0/8"), SLICE_LIT("255.0.0.0"), &p, &why),
	    -EINVAL);
	cr_assert(strstr(why, "not both"));
	cr_assert_eq(admit_prefix_parse_v4(SLICE_LIT("10.0.0"), SLICE_LIT(""), &p, &why), -EINVAL);
	cr_assert_eq(admit_prefix_parse_v4(SLICE_LIT("2001:db8::1"), SLICE_LIT(""), &p, &why),
	             -EINVAL);
	cr_assert_eq(admit_prefix_parse_v4(SLICE_LIT("10.0.0.0/"), SLICE_LIT(""), &p, &why),
	             -EINVAL);
	cr_assert_eq(admit_prefix_parse_v4(SLICE_LIT(""), SLICE_LIT(""), &p, &why), -EINVAL);
}

Test(admit_prefix, v6_prefixes)
{
	struct admit_prefix p = v6("2001:db8:10::/48");
	cr_assert(in(&p, "2001:db8:10::1"));
	cr_assert(in(&p, "2001:db8:10:ffff::1"));
	cr_assert_not(in(&p, "2001:db8:11::1"));
	cr_assert_not(in(&p, "192.0.2.1"));
	written(&p, "ipv6 2001:db8:10::/48");
	struct admit_prefix odd = v6("2001:db8::/33"); /* a length that splits a byte */
	cr_assert(in(&odd, "2001:db8:7fff::1"));
	cr_assert_not(in(&odd, "2001:db8:8000::1"));
	struct admit_prefix host = v6("2001:db8::9");
	written(&host, "ipv6 2001:db8::9/128");
	cr_assert(in(&host, "2001:db8::9"));
	cr_assert_not(in(&host, "2001:db8::8"));
	struct admit_prefix cleared = v6("2001:db8::1/32");
	written(&cleared, "ipv6 2001:db8::/32");
}

Test(admit_prefix, v6_refusals)
{
	struct admit_prefix p;
	const char *why = NULL;
	cr_assert_eq(admit_prefix_parse_v6(SLICE_LIT("2001:db8::/129"), &p, &why), -EINVAL);
	cr_assert_eq(admit_prefix_parse_v6(SLICE_LIT("2001:db8:::1/64"), &p, &why), -EINVAL);
	cr_assert_eq(admit_prefix_parse_v6(SLICE_LIT("10.0.0.1/8"), &p, &why), -EINVAL);
	cr_assert(strstr(why, "IPv6"));
	cr_assert_eq(admit_prefix_parse_v6(SLICE_LIT("/64"), &p, &why), -EINVAL);
}

Test(admit_prefix, v4_mapped_v6_peer_matches_v4_entries)
{
	struct admit_prefix p = v4("192.0.2.0/24", "");
	cr_assert(in(&p, "::ffff:192.0.2.7"));
	cr_assert_not(in(&p, "::ffff:192.0.3.7"));
}

Test(admit_prefix, written_form_parses_to_the_same_prefix)
{
	const char *inputs[] = {"10.0.0.0/8", "172.16.5.4/12", "192.0.2.1/32", "0.0.0.0/0"};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct admit_prefix a = v4(inputs[i], ""), b;
		char buf[ADMIT_PREFIX_TEXT], w1[32] = "", w2[32] = "";
		const char *why;
		admit_prefix_format(&a, buf, sizeof(buf));
		cr_assert_geq(sscanf(buf, "ipv4 %31s %31s", w1, w2), 1, "%s", buf);
		cr_assert_eq(admit_prefix_parse_v4(slice_cstr(w1), slice_cstr(w2), &b, &why), 0);
		cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "%s", buf);
	}
}

Test(admit_trusted, empty_list_trusts_everyone_and_lists_match_any_entry)
{
	uint8_t a[16], b[16], c[16];
	addr("203.0.113.5", a);
	addr("2001:db8::5", b);
	addr("198.51.100.1", c);
	cr_assert(admit_trusted(NULL, 0, a));
	struct admit_prefix list[2] = {v4("203.0.113.0/24", ""), v6("2001:db8::/32")};
	cr_assert(admit_trusted(list, 2, a));
	cr_assert(admit_trusted(list, 2, b));
	cr_assert_not(admit_trusted(list, 2, c));
	cr_assert_not(admit_trusted(list, 1, b));
}

Test(admit_addr, refuses_other_families)
{
	struct sockaddr_storage ss = {.ss_family = AF_UNIX};
	uint8_t a[16];
	cr_assert_eq(admit_addr(&ss, a), -EAFNOSUPPORT);
}

/* ---- token buckets ---- */

Test(admit_bucket, burst_then_rate)
{
	struct admit_bucket b;
	admit_bucket_init(&b, 3, 1000);
	for (int i = 0; i < 3; i++)
		cr_assert(admit_bucket_take(&b, 2, 3, 1000), "burst token %d", i);
	cr_assert_not(admit_bucket_take(&b, 2, 3, 1000));
	cr_assert_not(admit_bucket_take(&b, 2, 3, 1400)); /* 0.8 token */
	cr_assert(admit_bucket_take(&b, 2, 3, 1500));     /* 1.0 */
	cr_assert_not(admit_bucket_take(&b, 2, 3, 1500));
	/* a long pause refills to the burst, never beyond */
	int got = 0;
	while (admit_bucket_take(&b, 2, 3, 100000))
		got++;
	cr_assert_eq(got, 3);
}

Test(admit_bucket, zero_rate_is_unlimited_and_time_going_back_adds_nothing)
{
	struct admit_bucket b;
	admit_bucket_init(&b, 0, 0);
	for (int i = 0; i < 1000; i++)
		cr_assert(admit_bucket_take(&b, 0, 0, 0));
	admit_bucket_init(&b, 1, 5000);
	cr_assert(admit_bucket_take(&b, 1, 1, 5000));
	cr_assert_not(admit_bucket_take(&b, 1, 1, 1000)); /* the clock went backwards */
	cr_assert_not(admit_bucket_take(&b, 1, 1, 5999));
	cr_assert(admit_bucket_take(&b, 1, 1, 6000));
}

Test(admit_bucket, huge_values_do_not_overflow)
{
	struct admit_bucket b;
	admit_bucket_init(&b, UINT32_MAX, 0);
	cr_assert(admit_bucket_take(&b, UINT32_MAX, UINT32_MAX, UINT64_MAX / 2));
	cr_assert_leq(b.milli, (uint64_t)UINT32_MAX * 1000u);
}

/* ---- the source table ---- */

static void src(const char *text, uint8_t k[16])
{
	uint8_t a[16];
	addr(text, a);
	admit_source_key(a, k);
}

Test(admit_table, per_source_limit_counts_opens_and_closes)
{
	struct admit_table t;
	struct admit_limits l = {.per_source = 2};
	uint8_t a[16], b[16];
	cr_assert_eq(admit_table_init(&t, 64, &key), 0);
	src("192.0.2.1", a);
	src("192.0.2.2", b);
	cr_assert_eq(admit_table_open(&t, &l, a, 0), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, a, 0), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, a, 0), ADMIT_PER_SOURCE);
	cr_assert_eq(admit_table_open(&t, &l, b, 0), ADMIT_OK); /* another source is not affected */
	cr_assert_eq(admit_table_conns(&t, a), 2);
	admit_table_close(&t, a);
	cr_assert_eq(admit_table_conns(&t, a), 1);
	cr_assert_eq(admit_table_open(&t, &l, a, 0), ADMIT_OK);
	admit_table_close(&t, a);
	admit_table_close(&t, a);
	admit_table_close(&t, a); /* one too many: stays at 0 */
	cr_assert_eq(admit_table_conns(&t, a), 0);
	admit_table_free(&t);
}

Test(admit_table, rate_limit_per_source)
{
	struct admit_table t;
	struct admit_limits l = {.rate = 1, .burst = 2};
	uint8_t a[16], b[16];
	cr_assert_eq(admit_table_init(&t, 64, &key), 0);
	src("192.0.2.1", a);
	src("192.0.2.2", b);
	cr_assert_eq(admit_table_open(&t, &l, a, 10), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, a, 10), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, a, 10), ADMIT_RATE);
	cr_assert_eq(admit_table_open(&t, &l, b, 10), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, a, 1010), ADMIT_OK);
	cr_assert_eq(admit_table_conns(&t, a), 3); /* refused attempts are not counted as open */
	admit_table_free(&t);
}

Test(admit_table, ipv6_sources_share_their_64)
{
	struct admit_table t;
	struct admit_limits l = {.per_source = 1};
	uint8_t a[16], b[16], c[16];
	cr_assert_eq(admit_table_init(&t, 64, &key), 0);
	src("2001:db8:1:2::1", a);
	src("2001:db8:1:2:ffff::9", b);
	src("2001:db8:1:3::1", c);
	cr_assert_eq(memcmp(a, b, 16), 0);
	cr_assert_eq(admit_table_open(&t, &l, a, 0), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, b, 0), ADMIT_PER_SOURCE);
	cr_assert_eq(admit_table_open(&t, &l, c, 0), ADMIT_OK);
	uint8_t v4a[16], v4b[16];
	src("192.0.2.1", v4a);
	src("192.0.2.2", v4b);
	cr_assert_neq(memcmp(v4a, v4b, 16), 0); /* IPv4: every address its own source */
	admit_table_free(&t);
}

/* a table of one set: more sources than ways evict idle ones, never ones with connections */
Test(admit_table, bounded_eviction_keeps_counted_sources)
{
	struct admit_table t;
	struct admit_limits l = {.per_source = 1};
	uint8_t k[ADMIT_WAYS * 4][16];
	cr_assert_eq(admit_table_init(&t, 1, &key), 0);
	cr_assert_eq(t.nsets, 1);
	for (unsigned i = 0; i < ADMIT_WAYS * 4; i++) {
		char text[32];
		snprintf(text, sizeof(text), "10.0.%u.%u", i / 200, i % 200 + 1);
		src(text, k[i]);
	}
	/* half the ways hold a connection each */
	for (unsigned i = 0; i < ADMIT_WAYS / 2; i++)
		cr_assert_eq(admit_table_open(&t, &l, k[i], i), ADMIT_OK);
	/* many more sources come and go: each fits by evicting an idle one */
	for (unsigned i = ADMIT_WAYS / 2; i < ADMIT_WAYS * 4; i++) {
		cr_assert_eq(admit_table_open(&t, &l, k[i], 100 + i), ADMIT_OK, "source %u", i);
		admit_table_close(&t, k[i]);
	}
	cr_assert_gt(t.evictions, 0);
	for (unsigned i = 0; i < ADMIT_WAYS / 2; i++) {
		cr_assert_eq(admit_table_conns(&t, k[i]), 1, "counted source %u was evicted", i);
		cr_assert_eq(admit_table_open(&t, &l, k[i], 1000), ADMIT_PER_SOURCE);
	}
	admit_table_free(&t);
}

Test(admit_table, full_set_admits_untracked)
{
	struct admit_table t;
	struct admit_limits l = {.per_source = 5};
	uint8_t k[ADMIT_WAYS + 1][16];
	cr_assert_eq(admit_table_init(&t, 1, &key), 0);
	for (unsigned i = 0; i <= ADMIT_WAYS; i++) {
		char text[32];
		snprintf(text, sizeof(text), "10.1.0.%u", i + 1);
		src(text, k[i]);
	}
	for (unsigned i = 0; i < ADMIT_WAYS; i++)
		cr_assert_eq(admit_table_open(&t, &l, k[i], 0), ADMIT_OK);
	cr_assert_eq(admit_table_open(&t, &l, k[ADMIT_WAYS], 0), ADMIT_UNTRACKED);
	cr_assert_eq(admit_table_conns(&t, k[ADMIT_WAYS]), 0);
	admit_table_close(&t, k[0]); /* now one way is idle: the newcomer fits */
	cr_assert_eq(admit_table_open(&t, &l, k[ADMIT_WAYS], 1), ADMIT_OK);
	admit_table_free(&t);
}

Test(admit_table, sizes_round_up_and_zero_is_refused)
{
	struct admit_table t;
	cr_assert_eq(admit_table_init(&t, 0, &key), -EINVAL);
	cr_assert_eq(admit_table_init(&t, 100, &key), 0);
	cr_assert_geq((uint64_t)t.nsets * ADMIT_WAYS, 100);
	cr_assert_eq(t.nsets & (t.nsets - 1), 0);
	admit_table_free(&t);
	cr_assert_null(t.e);
}

Test(admit_verdict, names)
{
	cr_assert(strstr(admit_verdict_str(ADMIT_RATE), "rate"));
	cr_assert(strstr(admit_verdict_str(ADMIT_PER_SOURCE), "per-source"));
	cr_assert_str_eq(admit_verdict_str((enum admit_verdict)99), "?");
}

/* ---- the configuration lines that fill the prefixes and limits (core/conf.c) ---- */

static struct core_conf conf, conf2;
static char conf_err[512];

static int conf_parse(struct core_conf *c, const char *text)
{
	core_conf_free(c);
	return core_conf_parse(c, "t.cfg", text, strlen(text), conf_err, sizeof(conf_err));
}

static char *conf_text(const struct core_conf *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	core_conf_write(c, f);
	fclose(f);
	return text;
}

static void conf_done(void)
{
	core_conf_free(&conf);
	core_conf_free(&conf2);
}

static const char voip_text[] = "voice service voip\n"
                                " ip address trusted authenticate\n"
                                " ip address trusted list\n"
                                "  ipv4 192.0.2.10\n"
                                "  ipv4 198.51.100.7 255.255.255.0\n"
                                "  ipv4 203.0.113.0/25\n"
                                "  ipv6 2001:db8:1::/48\n"
                                " max-connections 5000\n"
                                " max-connections per-source 20\n"
                                " connection-rate per-source 10 burst 40\n"
                                " handshake-timeout 3000\n"
                                " idle-timeout 600000\n"
                                " max-message-size 32768\n"
                                " max-header-count 64\n"
                                " allow-connections sip to sip\n";

Test(admit_conf, voip_block_fills_trusted_list_and_limits, .fini = conf_done)
{
	uint8_t a[16];
	cr_assert_eq(conf_parse(&conf, voip_text), 0, "%s", conf_err);
	cr_assert_eq(conf.ntrusted, 4);
	addr("198.51.100.200", a); /* the host bits of the masked entry were cleared */
	cr_assert(admit_trusted(conf.trusted, conf.ntrusted, a));
	addr("203.0.113.128", a);
	cr_assert_not(admit_trusted(conf.trusted, conf.ntrusted, a));
	addr("2001:db8:1:5::1", a);
	cr_assert(admit_trusted(conf.trusted, conf.ntrusted, a));
	cr_assert_eq(conf.limits.max_conns, 5000);
	cr_assert_eq(conf.limits.per_source, 20);
	cr_assert_eq(conf.limits.rate, 10);
	cr_assert_eq(conf.limits.burst, 40);
	cr_assert_eq(conf.limits.handshake_ms, 3000);
	cr_assert_eq(conf.limits.idle_ms, 600000);
	cr_assert_eq(conf.limits.max_msg, 32768);
	cr_assert_eq(conf.limits.max_headers, 64);
	cr_assert_geq(conf.nnotice, 2); /* authenticate and allow-connections */
}

Test(admit_conf, written_form_is_a_fixed_point, .fini = conf_done)
{
	cr_assert_eq(conf_parse(&conf, voip_text), 0, "%s", conf_err);
	char *t1 = conf_text(&conf);
	cr_assert(strstr(t1, "  ipv4 198.51.100.0 255.255.255.0\n"), "%s", t1);
	cr_assert(strstr(t1, "  ipv4 203.0.113.0 255.255.255.128\n"), "%s", t1);
	cr_assert(strstr(t1, "  ipv6 2001:db8:1::/48\n"), "%s", t1);
	cr_assert(strstr(t1, " connection-rate per-source 10 burst 40\n"), "%s", t1);
	cr_assert_eq(conf_parse(&conf2, t1), 0, "%s\n%s", conf_err, t1);
	char *t2 = conf_text(&conf2);
	cr_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
}

Test(admit_conf, nothing_set_writes_no_voip_block, .fini = conf_done)
{
	cr_assert_eq(conf_parse(&conf, "voice service voip\n ip address trusted list\n!\n"), 0,
	             "%s", conf_err);
	cr_assert_eq(conf.ntrusted, 0); /* an empty list: everyone is trusted */
	char *t = conf_text(&conf);
	cr_assert_null(strstr(t, "voice service"), "%s", t);
	free(t);
}

Test(admit_conf, lines_after_the_list_belong_to_voip_and_other_blocks_close_it, .fini = conf_done)
{
	cr_assert_eq(conf_parse(&conf, "voice service voip\n ip address trusted list\n"
	                               "  ipv4 10.0.0.0/8\n max-connections 7\n"
	                               "ip domain name example.com\n"),
	             0, "%s", conf_err);
	cr_assert_eq(conf.limits.max_conns, 7);
	cr_assert_str_eq(conf.domain, "example.com");
	/* after max-connections the list is closed: an ipv4 line is no voip command */
	cr_assert_eq(conf_parse(&conf, "voice service voip\n ip address trusted list\n"
	                               " max-connections 7\n ipv4 10.0.0.1\n"),
	             -EINVAL);
	cr_assert(strstr(conf_err, "t.cfg:4:"), "%s", conf_err);
}

Test(admit_conf, errors_name_the_line_and_word, .fini = conf_done)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"voice service voip\n ip address trusted list\n  ipv4 10.0.0.0 255.0.255.0\n",
	     "t.cfg:3: bad network mask"},
	    {"voice service voip\n ip address trusted list\n  ipv4 10.0.0.0/8 255.0.0.0\n",
	     "t.cfg:3: give a mask or a /LEN, not both"},
	    {"voice service voip\n ip address trusted list\n  ipv4 300.0.0.1\n",
	     "t.cfg:3: bad IPv4 address: '300.0.0.1'"},
	    {"voice service voip\n ip address trusted list\n  ipv6 2001:db8::/200\n",
	     "t.cfg:3: prefix length must be 0..128"},
	    {"voice service voip\n ip address trusted list\n  ipv4\n", "t.cfg:3: missing"},
	    {"ip address trusted list\n", "t.cfg:1: sub-command outside a block: 'ip'"},
	    {"ipv4 10.0.0.1\n", "t.cfg:1: sub-command outside a block: 'ipv4'"},
	    {"voice service voip\n ip address untrusted\n", "t.cfg:2: unknown command"},
	    {"voice service voip\n max-connections 0\n", "t.cfg:2: connections must be"},
	    {"voice service voip\n max-connections per-source\n", "t.cfg:2: missing"},
	    {"voice service voip\n connection-rate 5\n", "t.cfg:2: unknown command"},
	    {"voice service voip\n connection-rate per-source 5 bursts 9\n",
	     "t.cfg:2: unknown command"},
	    {"voice service voip\n max-header-count 1000\n",
	     "t.cfg:2: header count must be 16..256"},
	    {"voice service voip\n max-message-size 10\n", "t.cfg:2: message size"},
	    {"voice service voip\n idle-timeout 5 s\n", "t.cfg:2: unexpected argument: 's'"},
	    {"voice service pots\n", "t.cfg:1: unknown command 'voice service pots'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(conf_parse(&conf, cases[i].text), -EINVAL, "case %zu accepted", i);
		cr_assert(strstr(conf_err, cases[i].want), "case %zu: want '%s' in '%s'", i,
		          cases[i].want, conf_err);
	}
}

Test(admit_conf, list_is_bounded, .fini = conf_done)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fputs("voice service voip\n ip address trusted list\n", f);
	for (unsigned i = 0; i <= CORE_CONF_MAX_TRUSTED; i++)
		fprintf(f, "  ipv4 10.%u.%u.0/24\n", i / 256, i % 256);
	fclose(f);
	cr_assert_eq(conf_parse(&conf, text), -EINVAL);
	cr_assert(strstr(conf_err, "more than 256 trusted list entries"), "%s", conf_err);
	free(text);
}
