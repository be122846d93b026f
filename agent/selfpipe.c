/*
 * selfpipe.c - the process's signal handler and its two pipes (see
 * selfpipe.h).  The handler does only what is async-signal-safe: it sets
 * a flag and writes one byte to each pipe, keeping errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "agent/selfpipe.h"

/* At most this many signals caught at once (the daemon catches three). */
#define CAUGHT_MAX	8

static int signal_pipe[2] = { -1, -1 };
/* Written by each stop signal and never read. */
static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_requested;
static int caught[CAUGHT_MAX];
static size_t ncaught;

static void
on_signal(int signo)
{
	unsigned char c = (unsigned char)signo;
	int saved = errno;

	if (signo != SIGHUP)
		stop_requested = 1;
	/* A full pipe has a wake-up pending anyway: the write may fail. */
	if (write(signal_pipe[1], &c, 1) < 0)
		errno = saved;
	if (signo != SIGHUP && write(stop_pipe[1], &c, 1) < 0)
		errno = saved;
	errno = saved;
}

static void
close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int
selfpipe_open(const int *signals, size_t n)
{
	struct sigaction sa;
	int saved;

	if (n > CAUGHT_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (ncaught = 0; ncaught < n; ncaught++) {
		if (sigaction(signals[ncaught], &sa, NULL) < 0)
			goto fail;
		caught[ncaught] = signals[ncaught];
	}
	return 0;
fail:
	saved = errno;
	selfpipe_close();
	errno = saved;
	return -1;
}

int
selfpipe_fd(void)
{
	return signal_pipe[0];
}

int
selfpipe_next(void)
{
	unsigned char c;

	if (signal_pipe[0] < 0 || read(signal_pipe[0], &c, 1) != 1)
		return 0;
	return c;
}

int
selfpipe_stop_fd(void)
{
	return stop_pipe[0];
}

const volatile sig_atomic_t *
selfpipe_stop_flag(void)
{
	return &stop_requested;
}

void
selfpipe_close(void)
{
	for (size_t i = 0; i < ncaught; i++)
		signal(caught[i], SIG_DFL);
	ncaught = 0;
	close_pair(signal_pipe);
	close_pair(stop_pipe);
	stop_requested = 0;
}
