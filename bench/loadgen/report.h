/* Progress lines (stderr, once a second) and the final summary (text or --json on stdout). */
#ifndef SIPTLS_BENCH_REPORT_H
#define SIPTLS_BENCH_REPORT_H

#include "bench/loadgen/lg.h"

struct lg_progress {
	struct lg_stats *prev; /* merged statistics at the previous line */
};

void lg_progress_init(struct lg_progress *p);
void lg_progress_fini(struct lg_progress *p);
void lg_progress_line(struct lg_progress *p, struct lg_thr *th, unsigned n, const struct lg_opts *o,
                      double secs);
/* prints the summary; returns the exit status (0: nothing failed, 1: something did) */
int lg_report(struct lg_thr *th, unsigned n, const struct lg_opts *o);

#endif
