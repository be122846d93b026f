/*
 * child.c - run one function in a forked child, see child.h.
 *
 * The child sends a status byte before its answer rather than relying on
 * its exit code, which valgrind replaces when it sees a library's leaks.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/child.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((noreturn))
child_main(child_fn fn, void *arg, int fd)
{
	struct buf out = { 0 };
	struct rlimit cpu = { 10, 10 };
	size_t off = 0;

	signal(SIGPIPE, SIG_DFL);
	setrlimit(RLIMIT_CPU, &cpu);
	buf_append(&out, "?", 1);
	out.data[0] = fn(arg, &out) == 0 ? '0' : '1';
	while (off < out.len) {
		ssize_t w = write(fd, out.data + off, out.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(3);
		off += (size_t)w;
	}
	buf_release(&out);
	_exit(0);
}

/* Reads the child's answer until EOF; 1 if the deadline passed first. */
static int
collect(int fd, int timeout_ms, struct buf *got)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;
		int pr;

		if (left <= 0)
			return 1;
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return pr == 0;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		buf_append(got, chunk, (size_t)n);
	}
}

int
child_run(child_fn fn, void *arg, const char *what, int timeout_ms,
    char **out_r, char **err_r)
{
	struct buf got = { 0 };
	int fds[2], status = 0, ret = -1, timed_out;
	pid_t pid;

	if (pipe(fds) < 0) {
		*err_r = xasprintf("cannot start %s: cannot create a pipe: %s",
		    what, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		*err_r = xasprintf("cannot start %s: cannot fork: %s", what,
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fn, arg, fds[1]);
	}
	close(fds[1]);
	timed_out = collect(fds[0], timeout_ms, &got);
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			*err_r = xasprintf("cannot wait for %s: %s", what,
			    strerror(errno));
			goto out;
		}
	}
	if (timed_out) {
		*err_r = xasprintf("%s took longer than %d ms and was stopped",
		    what, timeout_ms);
	} else if (WIFSIGNALED(status)) {
		*err_r = xasprintf("%s crashed with signal %d", what,
		    WTERMSIG(status));
	} else if (got.len == 0 || (got.data[0] != '0' &&
	    got.data[0] != '1')) {
		*err_r = xasprintf("%s failed (exit %d)", what,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else if (got.data[0] == '0') {
		*out_r = xstrdup(got.data + 1);
		ret = 0;
	} else {
		size_t n = got.len - 1;

		/* drop the line break after the last message */
		if (n > 0 && got.data[got.len - 1] == '\n')
			n--;
		*err_r = xstrndup(got.data + 1, n);
	}
out:
	buf_release(&got);
	return ret;
}
