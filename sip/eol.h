/* sip_eol: finding where a SIP line ends - the scanner's innermost loop.
 *
 * sip_eol_find returns the first CR, LF or NUL in [p, end), or end. A header line may hold
 * none of the three except its final CRLF (RFC 3261 25.1), so one search both frames the line
 * and validates it. Three implementations give the same answers: SSE2 (x86-64 baseline) or
 * NEON (AArch64) 16 bytes at a time, and portable C 8 bytes at a time (SWAR), which also
 * finishes the tails. All are exported so the tests can hold them to each other.
 */
#ifndef SIPTLS_SIP_EOL_H
#define SIPTLS_SIP_EOL_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define SIP_EOL_IMPL "sse2"
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#define SIP_EOL_IMPL "neon"
#else
#define SIP_EOL_IMPL "swar"
#endif

/* the best available on this CPU architecture (inline: it is the scanner's inner loop) */
static inline const char *sip_eol_find(const char *p, const char *end);
/* portable C, eight bytes per step */
const char *sip_eol_find_swar(const char *p, const char *end);
/* 16 bytes per step with SSE2 or NEON; the SWAR one where neither exists */
const char *sip_eol_find_simd(const char *p, const char *end);
/* "sse2", "neon" or "swar": which one sip_eol_find uses */
const char *sip_eol_impl(void);

/* ---- inline bodies ---- */

static inline uint64_t sip_eol__zero(uint64_t x)
{
	/* high bit set in each zero byte; bytes above the first zero byte may be false
	 * positives (borrow), which is fine: only the lowest one is used */
	return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

static inline const char *sip_eol__swar(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t hit = sip_eol__zero(w) | sip_eol__zero(w ^ 0x0d0d0d0d0d0d0d0dull) |
			       sip_eol__zero(w ^ 0x0a0a0a0a0a0a0a0aull);
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
#endif
	for (; p < end; p++)
		if (*p == '\r' || *p == '\n' || *p == '\0')
			return p;
	return end;
}

static inline const char *sip_eol__simd(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n'), nul = _mm_setzero_si128();
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
					 _mm_cmpeq_epi8(v, nul));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#elif defined(__ARM_NEON)
	const uint8x16_t cr = vdupq_n_u8('\r'), lf = vdupq_n_u8('\n'), nul = vdupq_n_u8(0);
	while (end - p >= 16) {
		uint8x16_t v = vld1q_u8((const uint8_t *)p);
		uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(v, cr), vceqq_u8(v, lf)), vceqq_u8(v, nul));
		/* narrow each byte to a nibble: a 64-bit mask with 4 bits per input byte */
		uint64_t bits = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
		if (bits)
			return p + (__builtin_ctzll(bits) >> 2);
		p += 16;
	}
#endif
	return sip_eol__swar(p, end);
}

static inline const char *sip_eol_find(const char *p, const char *end)
{
	return sip_eol__simd(p, end);
}

#endif
