/*
 * child.h - runs one function in a forked child process and collects its
 * answer: for work that may crash or hang (libsieve) or that would leave
 * memory behind in a long-lived daemon (parsing the system's TLS trust
 * store).  The child shares nothing back but the text it writes.
 */
#ifndef MAILSIFT_CHILD_H
#define MAILSIFT_CHILD_H

#include "agent/xmem.h"

/* Writes its answer (or its error) to out; returns 0 or -1. */
typedef int (*child_fn)(void *arg, struct buf *out);

/* Runs fn(arg, out) in a child with timeout_ms of wall time and 10 s of
 * CPU.  0: *out_r gets the answer.  -1: *err_r gets fn's error, or says
 * that `what` (e.g. "the sieve evaluator") crashed, timed out or could
 * not be started.  The child never returns: it leaves with _exit, so it
 * cannot flush or close anything of the parent's. */
int child_run(child_fn fn, void *arg, const char *what, int timeout_ms,
    char **out_r, char **err_r);

#endif
