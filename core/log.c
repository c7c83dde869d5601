/* log: syslog(3) + stderr mirror + test hook. See log.h. */
#include "core/log.h"

#include <stdio.h>

static struct core_log_opts log_opts = {.max_level = LOG_INFO, .to_syslog = true};
static bool log_opened;
static core_log_hook_fn *log_hook;
static void *log_hook_arg;

void core_log_open(const struct core_log_opts *opts)
{
	log_opts = *opts;
	if (log_opts.to_syslog) {
		openlog("siptlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_opened = true;
	}
}

void core_log_close(void)
{
	if (log_opened)
		closelog();
	log_opened = false;
}

bool core_log_enabled(int level)
{
	return level <= log_opts.max_level;
}

void core_log_set_hook(core_log_hook_fn *fn, void *arg)
{
	log_hook_arg = arg;
	log_hook = fn;
}

static const char *log_level_name(int level)
{
	static const char *const names[] = {"emerg",   "alert",  "crit", "err",
	                                    "warning", "notice", "info", "debug"};
	return level >= 0 && level <= LOG_DEBUG ? names[level] : "?";
}

void core_logv(int level, const char *fmt, va_list ap)
{
	char line[CORE_LOG_LINE_MAX];

	if (!core_log_enabled(level))
		return;
	/* ap was started by the caller (core_log's va_start): the analyzer, starting here, cannot
	 * see it. NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_opts.to_syslog) {
		if (!log_opened) {
			openlog("siptlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
			log_opened = true;
		}
		syslog(level, "%s", line);
	}
	if (log_opts.to_stderr)
		fprintf(stderr, "siptlsd[%s]: %s\n", log_level_name(level), line);
	if (log_hook)
		log_hook(log_hook_arg, level, line);
}

void core_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	core_logv(level, fmt, ap);
	va_end(ap);
}
