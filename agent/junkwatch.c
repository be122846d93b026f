/*
 * junkwatch.c - watching the Junk folder while the daemon waits
 * (junkwatch.h).
 *
 * It owns the choice between NOTIFY on the daemon's connection and a
 * second connection, and the second connection's whole life: opening it
 * (EXAMINE, so it never takes \Recent or changes anything), one IDLE per
 * wait of the daemon (so IDLE is renewed at least every poll_interval or
 * idle_restart), its descriptor in the daemon's epoll set only while
 * that IDLE runs, and reopening it with a growing pause after a failure.
 * Whatever it misses while down, a reopening reports as a change: learn.c
 * then looks, and finds what it missed by its own marks.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "agent/junkwatch.h"
#include "agent/log.h"
#include "agent/xmem.h"

#define RETRY_FIRST_MS	5000
#define RETRY_MAX_MS	(300 * 1000)

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
junkwatch_init(struct junkwatch *jw, int epoll_fd, struct store *second)
{
	jw->epoll_fd = epoll_fd;
	jw->second = second;
	jw->fd = -1;
}

/* The second connection failed (why in its last error): it is opened
 * again after a pause that grows with each failure in a row. */
static void
second_failed(struct junkwatch *jw, const char *doing)
{
	if (!jw->complained)
		log_warnx("cannot %s '%s' over a second connection: %s; until "
		    "that works, what comes to it is seen every "
		    "poll_interval", doing, jw->junk,
		    store_last_error(jw->second));
	jw->complained = 1;
	jw->second_ready = 0;
	jw->retry_ms = jw->retry_ms == 0 ? RETRY_FIRST_MS :
	    jw->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : jw->retry_ms * 2;
	jw->retry_at = now_ms() + jw->retry_ms;
}

/* Connects the second connection and opens Junk read-only; 1 if ready. */
static int
second_open(struct junkwatch *jw)
{
	struct store *s = jw->second;
	uint32_t uidvalidity, uidnext;

	if (s->ops->connect(s) != STORE_OK) {
		second_failed(jw, "watch");
		return 0;
	}
	if (s->ops->examine(s, jw->junk, &uidvalidity, &uidnext) !=
	    STORE_OK) {
		second_failed(jw, "open");
		return 0;
	}
	log_info("watching '%s' over a second connection%s", jw->junk,
	    jw->complained ? " again" : "");
	jw->complained = 0;
	jw->retry_ms = 0;
	jw->second_ready = 1;
	return 1;
}

enum store_status
junkwatch_start(struct junkwatch *jw, struct store *main, const char *junk)
{
	enum store_status st;
	int on = 0;

	jw->main = main;
	if (jw->junk == NULL || strcmp(jw->junk, junk) != 0) {
		free(jw->junk);
		jw->junk = xstrdup(junk);
		jw->second_ready = 0;
	}
	if ((st = main->ops->notify(main, junk, &on)) != STORE_OK)
		return st;
	if (on && !jw->notifying)
		log_info("watching '%s' with NOTIFY", junk);
	jw->notifying = on;
	/* The server may say nothing of what happened before: look once. */
	jw->changed = 1;
	return STORE_OK;
}

int
junkwatch_arm(struct junkwatch *jw)
{
	struct store *s = jw->second;
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, changed;

	if (jw->changed)
		return 1;
	if (jw->notifying || s == NULL)
		return 0;
	if (!jw->second_ready) {
		if (now_ms() < jw->retry_at || !second_open(jw))
			return 0;
		/* Whatever came while it was closed. */
		jw->changed = 1;
		return 1;
	}
	if (s->ops->idle_begin(s, &fd, &changed) != STORE_OK) {
		second_failed(jw, "watch");
		return 0;
	}
	if (changed) {
		jw->changed = 1;
		return 1;
	}
	if (fd < 0)
		return 0;	/* no IDLE there: poll_interval it is */
	ev.data.fd = fd;
	if (epoll_ctl(jw->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warn("cannot wait on the second connection");
		s->ops->idle_end(s, &changed);
		jw->changed = changed;
		return changed;
	}
	jw->fd = fd;
	return 0;
}

int
junkwatch_pending(const struct junkwatch *jw)
{
	struct pollfd pfd = { .fd = jw->fd, .events = POLLIN };

	return jw->fd >= 0 && poll(&pfd, 1, 0) > 0;
}

int
junkwatch_disarm(struct junkwatch *jw, int wait_mask)
{
	int changed = jw->changed || (wait_mask & STORE_WAIT_NOTIFIED) != 0;
	int idle_changed = 0;

	jw->changed = 0;
	if (jw->fd >= 0) {
		epoll_ctl(jw->epoll_fd, EPOLL_CTL_DEL, jw->fd, NULL);
		jw->fd = -1;
		if (jw->second->ops->idle_end(jw->second, &idle_changed) !=
		    STORE_OK)
			second_failed(jw, "watch");
		else if (idle_changed)
			changed = 1;
	}
	if (changed)
		log_debug("'%s' may have changed", jw->junk);
	return changed;
}

void
junkwatch_free(struct junkwatch *jw)
{
	if (jw->fd >= 0)
		epoll_ctl(jw->epoll_fd, EPOLL_CTL_DEL, jw->fd, NULL);
	jw->fd = -1;
	store_free(&jw->second);
	free(jw->junk);
	jw->junk = NULL;
}
