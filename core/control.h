/* control: the daemon's side of the control socket (see core/ctl.h for the language). */
#ifndef SIPTLS_CORE_CONTROL_H
#define SIPTLS_CORE_CONTROL_H

#include "core/daemon.h"

/* Reads one command line from the accepted connection fd, answers it and closes fd. Runs on
 * the main thread; workers are asked through their mailboxes, with a deadline. */
void control_serve(struct daemon *d, int fd);

#endif
