/* libFuzzer target for the control socket's command parser and the show printers.
 *
 * The whole input is one command line for ctl_parse; what it accepts must be a request the
 * daemon can act on (a known command, a Conn-Id in range, a target with an address family
 * and a port), and what it refuses must come with a "% " message. Then the same bytes become
 * snapshot rows — fixed-size strings that need not be NUL-terminated, odd states, large
 * counters — printed in every form into a memory stream, which must not fail.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_parse(const uint8_t *data, size_t size)
{
	struct ctl_request r;
	char err[CTL_ERR_MAX];
	int rc = ctl_parse(slice_make((const char *)data, size), &r, err, sizeof(err));

	if (rc != 0) {
		if (rc != -EINVAL || strncmp(err, "% ", 2) != 0 || memchr(err, '\n', strlen(err)))
			abort();
		return;
	}
	if ((unsigned)r.cmd >= CTL__COUNT)
		abort();
	if (r.cmd == CTL_CLEAR_ID && r.id == 0)
		abort();
	if (r.cmd == CTL_CLEAR_TARGET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&r.target;
		bool v4 =
		    r.target.ss_family == AF_INET && r.target_len == sizeof(struct sockaddr_in);
		bool v6 =
		    r.target.ss_family == AF_INET6 && r.target_len == sizeof(struct sockaddr_in6);
		if (!(v4 || v6) || s4->sin_port == 0) /* sin_port and sin6_port share an offset */
			abort();
	}
	if (r.json && r.cmd != CTL_SHOW_BRIEF && r.cmd != CTL_SHOW_DETAIL &&
	    r.cmd != CTL_SHOW_RUNNING && r.cmd != CTL_SHOW_STATS)
		abort();
}

/* fills a row from input bytes; strings are raw bytes, possibly with no NUL */
static void fuzz_row(const uint8_t *p, size_t n, struct ctl_conn *c)
{
	static const char *const states[] = {"Established", "Handshaking", "Connecting", "Closing",
	                                     NULL};
	unsigned char *raw = (unsigned char *)c;

	for (size_t i = 0; i < sizeof(*c); i++)
		raw[i] = n ? p[i % n] : 0;
	c->state = states[(n ? p[0] : 0) % 5];
	c->rl_rx = (n > 1 && p[1] & 1) ? "kernel" : NULL;
	c->rl_tx = (n > 1 && p[1] & 2) ? "user" : NULL;
	c->outbound = n > 1 && (p[1] & 4);
	if (n > 2 && p[2] & 1) /* some rows with real, often equal, addresses */
		snprintf(c->remote_ip, sizeof(c->remote_ip), "10.0.0.%u", p[2] % 4u);
}

static void fuzz_print(const uint8_t *data, size_t size)
{
	struct ctl_conn conns[6];
	struct ctl_listener lis[2];
	struct ctl_totals t;
	char *buf = NULL;
	size_t len = 0, nconn = size % 7;
	FILE *out = open_memstream(&buf, &len);

	if (out == NULL)
		return;
	for (size_t i = 0; i < nconn; i++)
		fuzz_row(data + i * size / 7, size - i * size / 7, &conns[i]);
	memset(&t, 0xff, sizeof(t));
	memcpy(t.max_sendq_peer, data,
	       size < sizeof(t.max_sendq_peer) ? size : sizeof(t.max_sendq_peer));
	memset(lis, 'A', sizeof(lis));
	if (ctl_print_brief(out, &t, lis, 2) || ctl_print_detail(out, &t, conns, nconn, lis, 2) ||
	    ctl_print_brief_json(out, &t, lis, 2) ||
	    ctl_print_detail_json(out, &t, conns, nconn, lis, 2))
		abort();
	fclose(out);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check_parse(data, size);
	fuzz_print(data, size);
	return 0;
}
