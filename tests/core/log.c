/* tests for core/log.c: levels, the capture hook, truncation, the stderr mirror */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "core/log.h"

struct capture {
	int n, level;
	char line[CORE_LOG_LINE_MAX + 8];
};

static void hook(void *arg, int level, const char *line)
{
	struct capture *c = arg;

	c->n++;
	c->level = level;
	strncpy(c->line, line, sizeof(c->line) - 1);
}

static const struct core_log_opts quiet_info = {.max_level = LOG_INFO};

Test(log, hook_sees_formatted_line_and_level)
{
	struct capture c = {0};

	core_log_open(&quiet_info);
	core_log_set_hook(hook, &c);
	core_log(LOG_CRIT, "%%SIP-2-LISTEN_SOCKET: port=%d, tenant=%u", 8888, 200u);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.level, LOG_CRIT);
	cr_assert_str_eq(c.line, "%SIP-2-LISTEN_SOCKET: port=8888, tenant=200");
	core_log_set_hook(NULL, NULL);
	core_log(LOG_CRIT, "not captured");
	cr_assert_eq(c.n, 1);
}

Test(log, levels_above_max_are_dropped)
{
	struct capture c = {0};

	core_log_open(&quiet_info);
	core_log_set_hook(hook, &c);
	core_log(LOG_DEBUG, "debug");
	cr_assert_eq(c.n, 0);
	cr_assert_not(core_log_enabled(LOG_DEBUG));
	cr_assert(core_log_enabled(LOG_INFO));
	core_log(LOG_INFO, "info");
	cr_assert_eq(c.n, 1);
	core_log_open(&(struct core_log_opts){.max_level = LOG_ERR});
	core_log(LOG_WARNING, "warning");
	cr_assert_eq(c.n, 1);
	core_log(LOG_ERR, "err");
	cr_assert_eq(c.n, 2);
	core_log_set_hook(NULL, NULL);
}

Test(log, long_lines_are_truncated_not_overflowed)
{
	struct capture c = {0};
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	core_log_open(&quiet_info);
	core_log_set_hook(hook, &c);
	core_log(LOG_ERR, "%s", big);
	cr_assert_eq(strlen(c.line), CORE_LOG_LINE_MAX - 1);
	core_log_set_hook(NULL, NULL);
}

Test(log, stderr_mirror, .init = cr_redirect_stderr)
{
	core_log_open(&(struct core_log_opts){.max_level = LOG_INFO, .to_stderr = true});
	core_log(LOG_WARNING, "mirror %d", 1);
	core_log(LOG_DEBUG, "hidden");
	fflush(stderr);
	cr_assert_stderr_eq_str("siptlsd[warning]: mirror 1\n");
}

Test(log, syslog_sink_can_open_and_close)
{
	/* no assertion on the daemon (there may be none): opening, logging and closing must not
	 * crash, and logging after close reopens lazily */
	core_log_open(&(struct core_log_opts){.max_level = LOG_INFO, .to_syslog = true});
	core_log(LOG_INFO, "siptlsd core_log test");
	core_log_close();
	core_log(LOG_INFO, "siptlsd core_log test after close");
	core_log_close();
	cr_assert(core_log_enabled(LOG_INFO));
}
