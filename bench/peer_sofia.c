/* sofia-sip (msg_make with sip_default_mclass()): the parser of FreeSWITCH's mod_sofia.
 *
 * msg_make copies the bytes into the message's own buffer (sofia parses in place, writing
 * NULs) and runs msg_extract, which parses the start line and every header into sip_t, the
 * header index (sip_via, sip_request->rq_url, ...). It needs the message's length, so the
 * framing is bench_frame_naive (sofia's own stream framing lives in its transport layer and
 * would copy the rest of the stream per message). */
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "bench/bench.h"

static msg_t *last;
static msg_mclass_t const *mclass;

static int sofia_setup(const char *stream, size_t len)
{
	(void)stream;
	(void)len;
	mclass = sip_default_mclass();
	return mclass ? 0 : -1;
}

static void sofia_release(void)
{
	if (last)
		msg_destroy(last);
	last = NULL;
}

/* "SIP/2.0/TLS" -> "TLS" */
static struct slice transport_of(const char *protocol)
{
	const char *slash = protocol ? strrchr(protocol, '/') : NULL;
	return slice_cstr(slash ? slash + 1 : protocol);
}

static long sofia_one(const char *buf, size_t len, struct bench_fields *f)
{
	long n = bench_frame_naive(buf, len);
	sip_t *sip;

	sofia_release();
	memset(f, 0, sizeof(*f));
	if (n < 0)
		return -1;
	last = msg_make(mclass, 0, buf, n);
	if (!last)
		return -2;
	sip = sip_object(last);
	if (!sip || (sip->sip_flags & MSG_FLG_ERROR) || !sip->sip_via)
		return -3;
	f->len = (size_t)n;
	if (sip->sip_status) {
		f->status = (unsigned)sip->sip_status->st_status;
	} else if (sip->sip_request) {
		f->method = slice_cstr(sip->sip_request->rq_method_name);
		f->ruri_user = slice_cstr(sip->sip_request->rq_url->url_user);
		f->ruri_host = slice_cstr(sip->sip_request->rq_url->url_host);
	} else {
		return -4;
	}
	f->transport = transport_of(sip->sip_via->v_protocol);
	f->via_host = bench_unbracket(slice_cstr(sip->sip_via->v_host));
	f->via_port = sip->sip_via->v_port ? (unsigned)strtoul(sip->sip_via->v_port, NULL, 10) : 0;
	f->branch = slice_cstr(sip->sip_via->v_branch);
	return n;
}

const struct bench_parser bench_sofia = {
    .name = "sofia",
    .init = sofia_setup,
    .one = sofia_one,
    .release = sofia_release,
};
