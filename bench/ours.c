/* Our scanner: sip_msg_scan frames the message and indexes its headers in one pass over the
 * caller's buffer; sip_via_top and sip_uri_parse decode the top Via and the Request-URI as
 * views. Nothing is allocated or copied. */
#include <string.h>

#include "bench/bench.h"
#include "sip/msg.h"
#include "sip/uri.h"
#include "sip/via.h"

#define OURS_MAX_HEADERS 128

static struct sip_hdr hdrs[OURS_MAX_HEADERS];
static struct sip_limits limits;

static int ours_setup(const char *stream, size_t len)
{
	(void)stream;
	(void)len;
	limits = SIP_LIMITS_DEFAULT;
	return 0;
}

static void ours_release(void)
{
}

static long ours_one(const char *buf, size_t len, struct bench_fields *f)
{
	struct sip_msg m;
	struct sip_via v;
	struct sip_uri u;
	int n;

	memset(f, 0, sizeof(*f));
	sip_msg_init(&m, hdrs, OURS_MAX_HEADERS);
	n = sip_msg_scan(buf, len, &limits, &m);
	if (n <= 0)
		return n < 0 ? n : -1;
	f->len = (size_t)n;
	if (m.kind == SIP_KIND_REQUEST) {
		if (sip_uri_parse(m.ruri, &u) != 0)
			return -SIP_E_URI;
		f->method = m.method;
		f->ruri_user = u.user;
		f->ruri_host = u.host;
	} else if (m.kind == SIP_KIND_RESPONSE) {
		f->status = m.status;
	} else {
		return -1; /* no keep-alives in the corpus */
	}
	if (sip_via_top(&m, &v) != 0)
		return -SIP_E_VIA;
	f->transport = v.transport;
	f->via_host = v.host;
	f->via_port = v.port;
	f->branch = v.branch;
	return n;
}

const struct bench_parser bench_ours = {
    .name = "ours",
    .init = ours_setup,
    .one = ours_one,
    .release = ours_release,
};
