/* libre (sip_msg_decode): the parser of baresip.
 *
 * libre decodes from a struct mbuf, as its TCP transport does with a connection's receive
 * buffer: sip_msg_decode reads the head at mb->pos, indexes every header (list + hash table),
 * decodes the top Via and the Request-URI, and leaves mb->pos at the body; the transport then
 * frames the body by the Content-Length header (src/sip/transp.c), and so do we. The stream is
 * copied into one mbuf once, at set-up; messages are decoded in place from it. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* without it re_types.h defines _Bool and bool as signed char, so this file's bool (slice.h's
 * inline functions, bench.h's structs) would differ from every other file's */
#define HAVE_STDBOOL_H 1
#include <re.h>

#include "bench/bench.h"

static struct mbuf *mb;
static const char *base; /* the driver's stream, which mb mirrors byte for byte */
static struct sip_msg *last;

static int re_setup(const char *stream, size_t len)
{
	if (libre_init() != 0)
		return -1;
	mb = mbuf_alloc(len);
	if (!mb || mbuf_write_mem(mb, (const uint8_t *)stream, len) != 0)
		return -1;
	base = stream;
	return 0;
}

static void re_release(void)
{
	last = mem_deref(last);
}

static struct slice pl_slice(const struct pl *pl)
{
	return slice_make(pl->p, pl->l);
}

/* sent-by "host[:port]" or "[v6][:port]" */
static void split_sentby(struct pl sb, struct bench_fields *f)
{
	struct slice s = pl_slice(&sb);
	size_t colon;
	struct pl port;

	if (s.n && s.p[0] == '[') {
		size_t close = slice_find(s, ']');
		f->via_host = slice_sub(s, 1, close);
		colon = close + 1 < s.n ? close + 1 : s.n;
	} else {
		colon = slice_find(s, ':');
		f->via_host = slice_sub(s, 0, colon);
	}
	if (colon < s.n && s.p[colon] == ':') {
		port.p = s.p + colon + 1;
		port.l = s.n - colon - 1;
		f->via_port = pl_u32(&port);
	}
}

static long re_one(const char *buf, size_t len, struct bench_fields *f)
{
	size_t start = (size_t)(buf - base);
	struct sip_msg *msg = NULL;
	uint32_t clen;
	int err;

	re_release();
	memset(f, 0, sizeof(*f));
	mb->pos = start;
	mb->end = start + len;
	err = sip_msg_decode(&msg, mb);
	if (err)
		return -err;
	last = msg;
	if (!pl_isset(&msg->clen))
		return -1; /* a stream needs Content-Length (RFC 3261 18.3) */
	clen = pl_u32(&msg->clen);
	if (mbuf_get_left(mb) < clen)
		return -1;
	f->len = mb->pos + clen - start;
	if (msg->req) {
		f->method = pl_slice(&msg->met);
		f->ruri_user = pl_slice(&msg->uri.user);
		f->ruri_host = pl_slice(&msg->uri.host);
	} else {
		f->status = msg->scode;
	}
	f->transport = slice_cstr(sip_transp_name(msg->via.tp));
	split_sentby(msg->via.sentby, f);
	f->branch = pl_slice(&msg->via.branch);
	return (long)f->len;
}

const struct bench_parser bench_re = {
    .name = "re",
    .init = re_setup,
    .one = re_one,
    .release = re_release,
};
