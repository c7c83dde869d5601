/* The framing an engineer writes around a parser that cannot frame a stream (libosip2 and
 * sofia-sip's msg_make both want a complete message and its length): memmem for the empty
 * line, then Content-Length (or its compact form "l", RFC 3261 7.3.3) among the header lines.
 * It is deliberately simple and fast, so that it costs the peers as little as possible; it
 * does not unfold lines or check anything else. */
#include <string.h>

#include "bench/bench.h"

/* value of a Content-Length line, or -1 when the line is another header */
static long clen_of_line(const char *p, const char *end)
{
	static const char name[] = "content-length";
	size_t k = 0;
	unsigned long v = 0;
	int digits = 0;

	if (end - p >= 14 && slice_case_eq(slice_make(p, 14), SLICE_LIT(name)))
		k = 14;
	else if (end - p >= 1 && (*p == 'l' || *p == 'L'))
		k = 1;
	else
		return -1;
	p += k;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p++ != ':')
		return -1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		v = v * 10 + (unsigned long)(*p - '0');
	return digits ? (long)v : -1;
}

long bench_frame_naive(const char *buf, size_t len)
{
	const char *eoh = memmem(buf, len, "\r\n\r\n", 4);
	const char *p, *end;
	long clen = -1;

	if (!eoh)
		return -1;
	end = eoh + 2; /* the last header line's CRLF */
	p = memchr(buf, '\n', (size_t)(end - buf));
	while (p && p + 1 < end) {
		const char *line = p + 1;
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		long v = clen_of_line(line, nl ? nl : end);
		if (v >= 0) {
			clen = v;
			break;
		}
		p = nl;
	}
	if (clen < 0)
		return -1; /* missing Content-Length on a stream (RFC 3261 18.3) */
	if ((size_t)(eoh + 4 - buf) + (size_t)clen > len)
		return -1;
	return (long)(eoh + 4 - buf) + clen;
}
