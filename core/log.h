/* log: the process logger — syslog(3) with ident "siptlsd", an optional stderr mirror, and a
 * hook that tests use to capture the exact lines operators will grep for.
 *
 * Levels are syslog's priorities (LOG_CRIT .. LOG_DEBUG), so a message keeps its severity all
 * the way to the syslog daemon. Lines are formatted once into a bounded stack buffer (longer
 * lines are truncated, never allocated) and are safe to emit from any worker thread.
 * Before core_log_open is called, messages go to syslog at every level up to LOG_INFO.
 */
#ifndef SIPTLS_CORE_LOG_H
#define SIPTLS_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

/* longest line emitted, terminating NUL included; longer lines are cut at this size */
#define CORE_LOG_LINE_MAX 1024

struct core_log_opts {
	int max_level;  /* emit priorities <= this (LOG_DEBUG logs everything) */
	bool to_syslog; /* openlog("siptlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON) */
	bool to_stderr; /* mirror every line to stderr (foreground runs, tests) */
};

/* hook called with every emitted line (no trailing newline); set by tests, NULL removes it */
typedef void core_log_hook_fn(void *arg, int level, const char *line);

/* configures the sinks; may be called again (e.g. on reload) */
void core_log_open(const struct core_log_opts *opts);
/* closes the syslog connection; later messages reopen it lazily */
void core_log_close(void);
/* is `level` emitted? Lets callers skip building expensive arguments. */
bool core_log_enabled(int level);
/* logs one line at `level` (LOG_CRIT ...); printf-style */
void core_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void core_logv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* installs (or with fn == NULL removes) the capture hook; the hook runs on the logging thread */
void core_log_set_hook(core_log_hook_fn *fn, void *arg);

#endif
