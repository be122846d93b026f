/*
 * child_server.c - one long-lived helper that runs each request in a
 * fresh grandchild, see child_server.h.
 *
 * Caller and helper speak over a socketpair in frames: a header (the
 * length of what follows and a code: the time limit in a request, 0 or 1
 * for an answer or an error in a reply) and the bytes.  Requests are
 * synchronous, so the helper is idle whenever the caller is not waiting
 * on it.  The caller waits for a reply at most the request's limit plus
 * a grace for the helper's own work; a helper that misses it is treated
 * as dead.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/child.h"
#include "agent/child_server.h"

/* What the helper may take beyond a request's limit (forking, reading a
 * large message, a loaded machine) before the caller gives up on it. */
#define SERVER_GRACE_MS	5000
/* Helpers started after the first one before requests run in the
 * caller's own children again. */
#define SERVER_RESTARTS	1
#define NO_DEADLINE	(-1L)

struct child_server {
	child_server_fn fn;
	void *ctx;
	char *what;		/* owned */
	pid_t owner;		/* the process that made the server */
	pid_t pid;		/* the helper, or 0 */
	int fd;			/* the caller's end, or -1 */
	int failures;		/* helpers that died or stopped answering */
};

struct frame {
	uint64_t len;
	int32_t code;
	int32_t pad;
};

/* One request, as the grandchild sees it. */
struct request {
	const struct child_server *cs;
	const char *data;
	size_t len;
	int helper_fd;		/* closed in the grandchild */
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ frames */

/* Waits until fd is ready for events or the deadline passes (never
 * with NO_DEADLINE: the helper waits for its caller as long as it
 * lives). */
static int
await(int fd, short events, long deadline)
{
	for (;;) {
		struct pollfd pfd = { fd, events, 0 };
		long left = deadline == NO_DEADLINE ? -1 : deadline - now_ms();
		int pr;

		if (deadline != NO_DEADLINE && left <= 0)
			return -1;
		pr = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		return pr > 0 ? 0 : -1;
	}
}

static int
send_by(int fd, const void *data, size_t len, long deadline)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n;

		if (await(fd, POLLOUT, deadline) < 0)
			return -1;
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_by(int fd, void *data, size_t len, long deadline)
{
	char *p = data;

	while (len > 0) {
		ssize_t n;

		if (await(fd, POLLIN, deadline) < 0)
			return -1;
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------ helper */

static int
run_request(void *arg, struct buf *out)
{
	const struct request *r = arg;

	/* a grandchild that hangs must not keep the helper's socket open
	 * should the helper die */
	if (r->helper_fd >= 0)
		close(r->helper_fd);
	return r->cs->fn(r->cs->ctx, r->data, r->len, out);
}

/* Every descriptor but stdin, stdout, stderr and fd: the caller's
 * sockets, files and locks are none of the helper's business. */
static void
close_others(int fd)
{
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range(fd < 3 ? 3 : (unsigned)fd + 1, ~0U, 0);
}

static void __attribute__((noreturn))
helper_main(const struct child_server *cs, int fd)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

	/* the caller decides when the helper ends: it closes the socket */
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		signal(stops[i], SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	close_others(fd);
	for (;;) {
		struct request r = { cs, NULL, 0, fd };
		struct frame f;
		char *data, *out = NULL, *err = NULL;
		const char *reply;
		int rc;

		if (recv_by(fd, &f, sizeof(f), NO_DEADLINE) < 0)
			_exit(0);
		data = xmalloc(f.len + 1);
		if (recv_by(fd, data, f.len, NO_DEADLINE) < 0)
			_exit(0);
		data[f.len] = '\0';
		r.data = data;
		r.len = f.len;
		rc = child_run(run_request, &r, cs->what, f.code, &out, &err);
		reply = rc == 0 ? out : err;
		memset(&f, 0, sizeof(f));
		f.len = strlen(reply);
		f.code = rc == 0 ? 0 : 1;
		if (send_by(fd, &f, sizeof(f), NO_DEADLINE) < 0 ||
		    send_by(fd, reply, f.len, NO_DEADLINE) < 0)
			_exit(0);
		free(out);
		free(err);
		free(data);
	}
}

/* ------------------------------------------------------------ caller */

struct child_server *
child_server_new(child_server_fn fn, void *ctx, const char *what)
{
	struct child_server *cs = xcalloc(1, sizeof(*cs));

	cs->fn = fn;
	cs->ctx = ctx;
	cs->what = xstrdup(what);
	cs->owner = getpid();
	cs->fd = -1;
	return cs;
}

pid_t
child_server_pid(const struct child_server *cs)
{
	return cs->pid;
}

static int
start(struct child_server *cs, char **err_r)
{
	int fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
		*err_r = xasprintf("cannot start %s: cannot create a socket: "
		    "%s", cs->what, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		*err_r = xasprintf("cannot start %s: cannot fork: %s",
		    cs->what, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		helper_main(cs, fds[1]);
	close(fds[1]);
	cs->fd = fds[0];
	cs->pid = pid;
	return 0;
}

/* In a forked copy of the caller the helper and its socket are the
 * original's: this process needs one of its own. */
static void
adopt(struct child_server *cs)
{
	if (cs->owner == getpid())
		return;
	if (cs->fd >= 0)
		close(cs->fd);
	cs->fd = -1;
	cs->pid = 0;
	cs->owner = getpid();
}

int
child_server_start(struct child_server *cs, char **err_r)
{
	adopt(cs);
	return cs->pid != 0 ? 0 : start(cs, err_r);
}

/* Kills and reaps the helper (idle, or no longer trusted). */
static void
stop(struct child_server *cs)
{
	if (cs->pid == 0)
		return;
	close(cs->fd);
	kill(cs->pid, SIGKILL);
	while (waitpid(cs->pid, NULL, 0) < 0 && errno == EINTR)
		;
	cs->fd = -1;
	cs->pid = 0;
}

/* One request to the running helper: 0 with its reply, -1 when the
 * helper died or missed the deadline. */
static int
ask(struct child_server *cs, const char *req, size_t len, int timeout_ms,
    int *code_r, char **text_r)
{
	long deadline = now_ms() + timeout_ms + SERVER_GRACE_MS;
	struct frame f = { 0 };
	char *text;

	f.len = len;
	f.code = timeout_ms;
	if (send_by(cs->fd, &f, sizeof(f), deadline) < 0 ||
	    send_by(cs->fd, req, len, deadline) < 0 ||
	    recv_by(cs->fd, &f, sizeof(f), deadline) < 0)
		return -1;
	text = xmalloc(f.len + 1);
	if (recv_by(cs->fd, text, f.len, deadline) < 0) {
		free(text);
		return -1;
	}
	text[f.len] = '\0';
	*code_r = f.code;
	*text_r = text;
	return 0;
}

int
child_server_run(struct child_server *cs, const char *req, size_t len,
    int timeout_ms, char **out_r, char **err_r)
{
	struct request here = { cs, req, len, -1 };
	char *text, *why = NULL;
	int code;

	adopt(cs);
	while (cs->failures <= SERVER_RESTARTS) {
		if (cs->pid == 0 && start(cs, &why) < 0) {
			/* the caller's own child says why, if it fails too */
			free(why);
			cs->failures++;
			continue;
		}
		if (ask(cs, req, len, timeout_ms, &code, &text) == 0) {
			if (code == 0)
				*out_r = text;
			else
				*err_r = text;
			return code == 0 ? 0 : -1;
		}
		stop(cs);
		cs->failures++;
	}
	return child_run(run_request, &here, cs->what, timeout_ms, out_r,
	    err_r);
}

void
child_server_free(struct child_server **cs)
{
	if (*cs == NULL)
		return;
	if ((*cs)->owner == getpid())
		stop(*cs);
	else if ((*cs)->fd >= 0)
		close((*cs)->fd);
	free((*cs)->what);
	free(*cs);
	*cs = NULL;
}
