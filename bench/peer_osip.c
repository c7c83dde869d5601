/* libosip2 (osip_message_parse): the parser of eXosip/oSIP based stacks.
 *
 * osip_message_parse wants one complete message and its length, so the framing is
 * bench_frame_naive. It copies the message into its own heap buffer and parses every header
 * into allocated structures (the header index), including the Via list and the Request-URI,
 * which we then read from the structures. Each message is freed before the next is parsed. */
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "bench/bench.h"

static osip_message_t *last;

static int osip_setup(const char *stream, size_t len)
{
	(void)stream;
	(void)len;
	return parser_init() == 0 ? 0 : -1; /* builds osip's header-name lookup tables */
}

static void osip_release(void)
{
	if (last)
		osip_message_free(last);
	last = NULL;
}

static struct slice cstr(const char *s)
{
	return slice_cstr(s);
}

static int osip_top_via(osip_message_t *sip, struct bench_fields *f)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;

	if (osip_message_get_via(sip, 0, &via) < 0 || !via)
		return -1;
	f->transport = cstr(via_get_protocol(via));
	f->via_host = bench_unbracket(cstr(via->host));
	f->via_port = via->port ? (unsigned)strtoul(via->port, NULL, 10) : 0;
	osip_via_param_get_byname(via, (char *)"branch", &br);
	if (!br || !br->gvalue)
		return -1;
	f->branch = cstr(br->gvalue);
	return 0;
}

static long osip_one(const char *buf, size_t len, struct bench_fields *f)
{
	osip_message_t *sip = NULL;
	long n = bench_frame_naive(buf, len);

	osip_release();
	memset(f, 0, sizeof(*f));
	if (n < 0)
		return -1;
	if (osip_message_init(&sip) != 0)
		return -2;
	last = sip;
	if (osip_message_parse(sip, buf, (size_t)n) != 0)
		return -3;
	f->len = (size_t)n;
	if (MSG_IS_RESPONSE(sip)) {
		f->status = (unsigned)sip->status_code;
	} else {
		if (!sip->req_uri)
			return -4;
		f->method = cstr(sip->sip_method);
		f->ruri_user = cstr(sip->req_uri->username);
		f->ruri_host = cstr(sip->req_uri->host);
	}
	if (osip_top_via(sip, f) < 0)
		return -5;
	return n;
}

const struct bench_parser bench_osip = {
    .name = "osip",
    .init = osip_setup,
    .one = osip_one,
    .release = osip_release,
};
