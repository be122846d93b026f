/*
 * command.h - runs the owner's shell command (password_command) with a
 * time limit, in a process group of its own, so that the command and
 * everything it started can be stopped together: after the time limit,
 * or at once when the process is asked to stop.
 */
#ifndef MAILSIFT_COMMAND_H
#define MAILSIFT_COMMAND_H

#include "agent/xmem.h"

/* The descriptor that becomes readable when the process should stop (the
 * daemon's stop pipe); a running command is then killed at once.  -1:
 * none.  Process-wide; the descriptor is only polled, never read. */
void command_set_cancel_fd(int fd);

enum command_result {
	COMMAND_OK,		/* *out_r holds what it printed, *status_r
				 * its wait status */
	COMMAND_FAILED,		/* could not be run: *err_r */
	COMMAND_TIMED_OUT,	/* ran past timeout_s; killed */
	COMMAND_CANCELLED	/* the process is stopping; killed */
};

/* Runs `sh -c cmd` with standard output to a pipe, reading it whole into
 * out_r (at most max bytes are kept; the rest is read and dropped, so
 * the command never dies of SIGPIPE), and waits for it to end.  Killed
 * with its process group after timeout_s seconds, counting until it has
 * exited (not only until its output closes), or on cancellation.
 * *err_r is malloc'd (COMMAND_FAILED only). */
enum command_result command_run(const char *cmd, int timeout_s, size_t max,
    struct buf *out_r, int *status_r, char **err_r);

#endif
