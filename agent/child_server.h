/*
 * child_server.h - child_run (child.h) for a caller that runs the same
 * risky function on many requests and whose own heap is large: the
 * daemon, which evaluates the owner's Sieve script on every message.
 *
 * Every fork write-protects the whole heap of the process that forks, so
 * a fork per request costs the caller a copy-on-write fault for each page
 * it touches afterwards.  A child server forks ONE long-lived helper on
 * its first request; the helper inherits what the function needs (the
 * parsed script) and runs each request in a fresh grandchild with
 * child_run, so a crash, hang or leak still reaches only that grandchild,
 * with the same time limits and the same error texts.  The caller never
 * forks per request.
 *
 * The helper leaves when its socket reaches EOF (the caller freed the
 * server or died), ignores the terminal's and the service manager's stop
 * signals (its caller decides), and keeps no file descriptor of the
 * caller's but its end of the socket.  A helper that dies or stops
 * answering is killed, reaped and started again once; after a second
 * failure the server runs each request with child_run from the caller
 * itself, as before.
 */
#ifndef MAILSIFT_CHILD_SERVER_H
#define MAILSIFT_CHILD_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "agent/xmem.h"

/* Answers the len bytes at req in a grandchild, as a child_fn does: the
 * answer (or the error) to out, 0 or -1.  ctx is the server's, as it was
 * when the helper was forked. */
typedef int (*child_server_fn)(void *ctx, const char *req, size_t len,
    struct buf *out);

struct child_server;

/* Forks nothing yet.  what names the work in errors, as for child_run. */
struct child_server *child_server_new(child_server_fn fn, void *ctx,
    const char *what);
/* Runs fn(ctx, req, len) in a grandchild with timeout_ms of wall time
 * and 10 s of CPU; returns as child_run does (*out_r or *err_r,
 * malloc'd).  In a forked copy of the caller it starts a helper of the
 * copy's own. */
int child_server_run(struct child_server *cs, const char *req, size_t len,
    int timeout_ms, char **out_r, char **err_r);
/* Forks the helper now rather than at the first request, for a caller
 * that is about to grow (load libraries, read a backlog): every request
 * forks a copy of the helper, which is cheaper the smaller the caller
 * was when the helper was forked.  -1 with *err_r when it cannot; the
 * first request tries again. */
int child_server_start(struct child_server *cs, char **err_r);
/* The helper's process id, or 0 when none runs. */
pid_t child_server_pid(const struct child_server *cs);
/* Ends and reaps the helper (only in the process that made the server:
 * a forked copy leaves it alone) and frees *cs. */
void child_server_free(struct child_server **cs);

#endif
