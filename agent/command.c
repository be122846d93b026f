/*
 * command.c - the owner's shell command under a time limit (see
 * command.h).
 *
 * The child leads a new process group, and the group is what gets
 * SIGKILL: `sh -c "sleep 1000"` leaves the sleep behind when only the
 * shell is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/command.h"

/* While waiting for a command that closed its output to exit. */
#define EXIT_POLL_MS	20

static int cancel_fd = -1;

void
command_set_cancel_fd(int fd)
{
	cancel_fd = fd;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cancelled(void)
{
	struct pollfd p = { .fd = cancel_fd, .events = POLLIN };

	return cancel_fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Waits for output or cancellation until the deadline: poll's answer,
 * 0 when the deadline passed or -1 when cancelled. */
static int
wait_readable(int fd, long long deadline)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = cancel_fd, .events = POLLIN },
	};

	for (;;) {
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(p, cancel_fd >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && cancel_fd >= 0 && p[1].revents != 0)
			return -1;
		return n;
	}
}

static void __attribute__((noreturn))
child_exec(const char *cmd, int out_fd)
{
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(126);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Reads the command's output until it closes it.  COMMAND_OK at EOF. */
static enum command_result
read_output(int fd, long long deadline, size_t max, struct buf *out)
{
	char chunk[512];

	for (;;) {
		int r = wait_readable(fd, deadline);
		ssize_t n;

		if (r < 0)
			return COMMAND_CANCELLED;
		if (r == 0)
			return COMMAND_TIMED_OUT;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (out->len < max)
			buf_append(out, chunk, (size_t)n < max - out->len ?
			    (size_t)n : max - out->len);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return COMMAND_OK;
}

/* Waits for the command to exit until the deadline. */
static enum command_result
reap(pid_t pid, long long deadline, int *status_r)
{
	for (;;) {
		pid_t r = waitpid(pid, status_r, WNOHANG);

		if (r == pid)
			return COMMAND_OK;
		if (r < 0 && errno != EINTR)
			return COMMAND_FAILED;
		if (cancelled())
			return COMMAND_CANCELLED;
		if (now_ms() >= deadline)
			return COMMAND_TIMED_OUT;
		poll(NULL, 0, EXIT_POLL_MS);
	}
}

enum command_result
command_run(const char *cmd, int timeout_s, size_t max, struct buf *out_r,
    int *status_r, char **err_r)
{
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	enum command_result res;
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		*err_r = xasprintf("cannot create a pipe: %s", strerror(errno));
		return COMMAND_FAILED;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*err_r = xasprintf("cannot fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return COMMAND_FAILED;
	}
	if (pid == 0)
		child_exec(cmd, fds[1]);
	/* Both sides set the group, so a kill right after fork finds it. */
	setpgid(pid, pid);
	close(fds[1]);
	res = read_output(fds[0], deadline, max, out_r);
	close(fds[0]);
	if (res == COMMAND_OK)
		res = reap(pid, deadline, status_r);
	if (res == COMMAND_FAILED)
		*err_r = xasprintf("cannot wait for it: %s", strerror(errno));
	if (res != COMMAND_OK) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return res;
}
