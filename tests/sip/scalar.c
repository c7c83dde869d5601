/* Tests for sip/scalar.c: CSeq, Max-Forwards and Expires with their ranges (RFC 3261 8.1.1.5,
 * 20.16, 20.19, 20.22), including the overlarge values of RFC 4475 3.1.2.4 and 3.1.2.5. */
#include <criterion/criterion.h>

#include "tests/support/guard.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sip/scalar.h"

#define CRLF "\r\n"
#define NELEM(a) (sizeof(a) / sizeof(*(a)))

static bool eq(struct slice s, const char *lit)
{
	return slice_eq(s, slice_cstr(lit));
}

static bool inside(struct slice part, struct slice whole)
{
	return part.n > 0 && part.p >= whole.p && part.p + part.n <= whole.p + whole.n;
}

static void cseq_ok(const char *lit, uint32_t seq, const char *method, enum sip_method id)
{
	struct sip_cseq c;
	struct slice in = guarded(lit);
	cr_assert_eq(sip_cseq_parse(in, &c), 0, "refused %s", lit);
	cr_expect_eq(c.seq, seq, "%s", lit);
	cr_expect(eq(c.method, method), "%s", lit);
	cr_expect(inside(c.method, in), "%s", lit);
	cr_expect_eq(c.method_id, id, "%s", lit);
}

Test(sip_cseq, valid_values)
{
	cseq_ok("4711 INVITE", 4711, "INVITE", SIP_M_INVITE);
	cseq_ok("98176 INVITE", 98176, "INVITE", SIP_M_INVITE);     /* RFC 4475 3.1.1.3 esc01 */
	cseq_ok("0009" CRLF "  INVITE", 9, "INVITE", SIP_M_INVITE); /* 3.1.1.1 wsinv, folded */
	cseq_ok("  1 ACK  ", 1, "ACK", SIP_M_ACK);
	cseq_ok("1\tREGISTER", 1, "REGISTER", SIP_M_REGISTER);
	cseq_ok("0 OPTIONS", 0, "OPTIONS", SIP_M_OPTIONS);
	cseq_ok("2147483647 BYE", 2147483647u, "BYE", SIP_M_BYE); /* 2**31 - 1 */
	cseq_ok("8 CANCEL", 8, "CANCEL", SIP_M_CANCEL);
	cseq_ok("139122385 !interesting-Method0123456789_*+`.%indeed'~", 139122385,
	        "!interesting-Method0123456789_*+`.%indeed'~", SIP_M_OTHER); /* 3.1.1.2 intmeth */
	cseq_ok("3 invite", 3, "invite", SIP_M_OTHER); /* methods are case-sensitive (7.1) */
	cseq_ok("5 NEWMETHOD", 5, "NEWMETHOD", SIP_M_OTHER);
}

Test(sip_cseq, refuses_garbage_and_overlarge)
{
	const char *bad[] = {
	    "",
	    "   ",
	    "INVITE",
	    "4711",
	    "4711 ",
	    "4711INVITE",
	    "4711 INVITE extra",
	    "4711 INVITE,ACK",
	    "4711 <INVITE>",
	    "4711 INV\"ITE",
	    "1 INV" CRLF "ITE",
	    "2147483648 INVITE", /* 2**31: RFC 3261 8.1.1.5 */
	    "4294967296 INVITE",
	    "36893488147419103232 REGISTER", /* RFC 4475 3.1.2.4 scalar02 */
	    "999999999999999999999999999 INVITE",
	    "-1 INVITE",
	    "+1 INVITE",
	    "1.0 INVITE",
	    "0x10 INVITE",
	    "1,2 INVITE",
	    "\x01 INVITE",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct sip_cseq c = {77, SLICE_LIT("junk"), SIP_M_BYE};
		cr_expect_eq(sip_cseq_parse(guarded(bad[i]), &c), -SIP_E_CSEQ, "accepted \"%s\"",
		             bad[i]);
		cr_expect_eq(c.method.n, 0, "left a method after \"%s\"", bad[i]);
	}
}

Test(sip_max_forwards, valid_values)
{
	struct {
		const char *in;
		unsigned v;
	} ok[] = {{"70", 70},     {"0", 0},   {"255", 255},     {" 0068 ", 68}, /* 3.1.1.1 wsinv */
	          {CRLF " 5", 5}, {"87", 87}, {"00000255", 255}};
	for (size_t i = 0; i < NELEM(ok); i++) {
		unsigned v = 999;
		cr_expect_eq(sip_max_forwards_parse(guarded(ok[i].in), &v), 0, "refused \"%s\"",
		             ok[i].in);
		cr_expect_eq(v, ok[i].v, "\"%s\"", ok[i].in);
	}
}

Test(sip_max_forwards, refuses_garbage_and_overlarge)
{
	const char *bad[] = {"256",        "300", /* RFC 4475 3.1.2.4 scalar02 */
	                     "",           " ",      "-1",
	                     "7 0",        "70a",    "+70",
	                     "1.5",        "0x10",   "99999999999999999999999",
	                     "4294967366", "seventy"};
	for (size_t i = 0; i < NELEM(bad); i++) {
		unsigned v = 123;
		cr_expect_eq(sip_max_forwards_parse(guarded(bad[i]), &v), -SIP_E_MAX_FORWARDS,
		             "accepted \"%s\"", bad[i]);
		cr_expect_eq(v, 123, "wrote the output for \"%s\"", bad[i]);
	}
}

Test(sip_expires, valid_values)
{
	struct {
		const char *in;
		uint32_t v;
	} ok[] = {{"0", 0},
	          {"3600", 3600},
	          {" 1 ", 1},
	          {"4294967295", 4294967295u}, /* 2**32 - 1 */
	          {CRLF "\t7200", 7200}};
	for (size_t i = 0; i < NELEM(ok); i++) {
		uint32_t v = 999;
		cr_expect_eq(sip_expires_parse(guarded(ok[i].in), &v), 0, "refused \"%s\"",
		             ok[i].in);
		cr_expect_eq(v, ok[i].v, "\"%s\"", ok[i].in);
	}
}

Test(sip_expires, refuses_garbage_and_overlarge)
{
	const char *bad[] = {"4294967296",
	                     "10000000000000000000000", /* RFC 4475 3.1.2.4 scalar02 */
	                     "280297596632815",         /* scalar02's Contact expires */
	                     "18446744073709551616",
	                     "",
	                     "-1",
	                     "1 0",
	                     "3600;x",
	                     "Thu, 01 Dec 1994 16:00:00 GMT",
	                     "0x10",
	                     "+5"};
	for (size_t i = 0; i < NELEM(bad); i++) {
		uint32_t v = 123;
		cr_expect_eq(sip_expires_parse(guarded(bad[i]), &v), -SIP_E_HEADER,
		             "accepted \"%s\"", bad[i]);
		cr_expect_eq(v, 123, "wrote the output for \"%s\"", bad[i]);
	}
}
