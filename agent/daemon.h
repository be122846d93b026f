/*
 * daemon.h - the run loop: connect, sort every watched folder, wait for
 * news (IDLE), reconnect with capped exponential backoff, reload the
 * owner's Sieve script when it changes, stop cleanly on SIGTERM/SIGINT.
 */
#ifndef MAILSIFT_DAEMON_H
#define MAILSIFT_DAEMON_H

#include "agent/config.h"

/* Runs until stopped (or, with once, until the backlog is sorted).
 * Returns the exit status: 0 ok, 1 runtime failure, 2 configuration
 * problem found at startup (e.g. a broken Sieve script). */
int daemon_run(const struct config *config, int once);

#endif
