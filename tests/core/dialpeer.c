/* Tests for core/dialpeer.c: pattern syntax, matching, most-specific selection. */
#include <criterion/criterion.h>

#include "core/dialpeer.h"

static struct core_dialpeer_pattern pat(const char *text)
{
	struct core_dialpeer_pattern p;
	size_t at = 99;
	cr_assert_eq(core_dialpeer_compile(slice_cstr(text), &p, &at), 0, "%s (bad at %zu)", text, at);
	return p;
}

static bool m(const char *pattern, const char *user)
{
	struct core_dialpeer_pattern p = pat(pattern);
	return core_dialpeer_match(&p, slice_cstr(user));
}

Test(core_dialpeer, literals_and_dots)
{
	cr_assert(m("1000", "1000"));
	cr_assert_not(m("1000", "10000"), "a fixed pattern matches the whole user part");
	cr_assert_not(m("1000", "100"));
	cr_assert(m("1...", "1234"));
	cr_assert(m("1...", "1*#9"));
	cr_assert_not(m("1...", "2234"));
	cr_assert_not(m("1...", "12a4"));
	cr_assert(m("+1408.......", "+14085551234"));
	cr_assert_not(m("+1408.......", "14085551234"), "the E.164 plus is literal");
}

Test(core_dialpeer, variable_length)
{
	cr_assert(m("9T", "9"));
	cr_assert(m("9T", "914085551234"));
	cr_assert_not(m("9T", "814085551234"));
	cr_assert(m("91%", "9"));
	cr_assert(m("91%", "9111"));
	cr_assert(m("91+", "91"));
	cr_assert_not(m("91+", "9"));
	cr_assert(m("91?2", "92"));
	cr_assert(m("91?2", "912"));
	cr_assert_not(m("91?2", "9112"));
	cr_assert(m("555$", "555"));
	cr_assert(m("T", "alice"), "T alone is a default route");
	cr_assert(m("T", ""));
	cr_assert_not(m("9T", "9alice"), "after digits, T stays digits");
}

Test(core_dialpeer, sets)
{
	cr_assert(m("[1-5]00", "300"));
	cr_assert_not(m("[1-5]00", "600"));
	cr_assert(m("[^1-5]00", "600"));
	cr_assert_not(m("[^1-5]00", "300"));
	cr_assert(m("[135-7]", "6"));
	cr_assert_not(m("[135-7]", "4"));
	cr_assert(m("[0-9]T", "12345"));
}

Test(core_dialpeer, bad_patterns_name_the_offset)
{
	const struct {
		const char *text;
		size_t at;
	} bad[] = { { "", 0 }, { "12a4", 2 }, { "[5-1]", 0 }, { "[12", 0 }, { "%1", 0 },
		    { "1%%", 2 }, { "1T2", 1 }, { "12$3", 2 }, { "[]", 0 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct core_dialpeer_pattern p;
		size_t at = 99;
		cr_assert_eq(core_dialpeer_compile(slice_cstr(bad[i].text), &p, &at), -1, "%s", bad[i].text);
		cr_assert_eq(at, bad[i].at, "%s: at %zu", bad[i].text, at);
	}
}

Test(core_dialpeer, most_specific_then_preference_then_tag)
{
	struct core_dialpeer peers[] = {
		{ .tag = 1, .pattern = pat("1T") },
		{ .tag = 2, .pattern = pat("1...") },
		{ .tag = 3, .pattern = pat("100.") },
		{ .tag = 4, .pattern = pat("1000") },
		{ .tag = 5, .preference = 1, .pattern = pat("2000") },
		{ .tag = 6, .preference = 0, .pattern = pat("2000") },
		{ .tag = 8, .pattern = pat("3000") },
		{ .tag = 7, .pattern = pat("3000") },
		{ .tag = 10, .pattern = pat("[4-5]000") },
		{ .tag = 9, .pattern = pat("4.00") },
		{ .tag = 11, .pattern = pat("T") },
	};
	size_t n = sizeof(peers) / sizeof(peers[0]);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("1000"))->tag, 4);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("1001"))->tag, 3);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("1234"))->tag, 2);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("12345"))->tag, 1);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("2000"))->tag, 6);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("3000"))->tag, 7);
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("4000"))->tag, 10, "a set is more specific than a dot");
	cr_assert_eq(core_dialpeer_select(peers, n, SLICE_LIT("999"))->tag, 11, "the default route last");
	cr_assert_null(core_dialpeer_select(peers, n - 1, SLICE_LIT("999")));
	cr_assert_null(core_dialpeer_select(peers, n - 1, SLICE_LIT("")));
}

Test(core_dialpeer, hostile_input_is_bounded)
{
	/* many variable elements against a long non-matching string: polynomial, not exponential */
	struct core_dialpeer_pattern p = pat("1%1%1%1%1%1%1%1%1%1%1%1%1%1%1%2");
	char user[129];
	memset(user, '1', 128);
	user[128] = 0;
	cr_assert_not(core_dialpeer_match(&p, slice_make(user, 127)));
	cr_assert_not(core_dialpeer_match(&p, slice_make(user, 128)), "over the length bound: no match");
}
