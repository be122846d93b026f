/*
 * daemon.h - the run loop: connect, sort every watched folder, wait for
 * news (IDLE), reconnect with capped exponential backoff, reload the
 * owner's Sieve script when it changes, stop cleanly on SIGTERM/SIGINT.
 */
#ifndef MAILSIFT_DAEMON_H
#define MAILSIFT_DAEMON_H

#include <time.h>

#include "agent/config.h"

/* How `mailsift run` was asked to run. */
struct run_options {
	int once;		/* one pass over the watched folders, then exit */
	int backlog;		/* also sort what the first look at each folder
				 * left as found (with once) */
	time_t since;		/* backlog: only what arrived from this day on;
				 * 0: all of it */
	int dry_run;		/* print what the pass would do, folder by
				 * folder, on standard output, and change
				 * nothing (with once) */
	int fresh_ledger;	/* replace a lost ledger (state_dir.h) */
};

/* Runs until stopped (or, with once, until one pass is done).  Returns
 * the exit status: 0 ok, 1 runtime failure, 2 configuration problem found
 * at startup (e.g. a broken Sieve script, a lost ledger). */
int daemon_run(const struct config *config, const struct run_options *opts);

#endif
