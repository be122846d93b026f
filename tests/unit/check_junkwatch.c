/*
 * check_junkwatch.c - junkwatch.c over store_mem: NOTIFY on the daemon's
 * own connection where offered; else the second connection, its IDLE
 * descriptor in the caller's epoll set only while it waits; its failures
 * (connect, Junk missing, a dropped IDLE) logged, paused and retried,
 * never passed on; nothing at all without NOTIFY and junk_idle.  The
 * second connection is a store_mem of its own here: the test plays the
 * server by appending to its Junk.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent/junkwatch.h"
#include "agent/store_mem.h"
#include "tests/unit/unit.h"

static struct store *main_store, *second;	/* second: until handed over */
static struct store *s2;			/* the second, borrowed */
static struct junkwatch jw;
static int epfd;

static void
setup(void)
{
	main_store = store_mem_new();
	second = store_mem_new();
	ck_assert_int_eq(main_store->ops->connect(main_store), STORE_OK);
	store_mem_append(main_store, "INBOX", "Subject: a\n\na\n", 14, NULL);
	store_mem_append(second, "Junk", "Subject: j\n\nj\n", 14, NULL);
	s2 = second;
	epfd = epoll_create1(0);
	ck_assert_int_ge(epfd, 0);
	memset(&jw, 0, sizeof(jw));
}

static void
teardown(void)
{
	junkwatch_free(&jw);
	store_free(&second);
	store_free(&main_store);
	close(epfd);
}

static void
select_inbox(void)
{
	uint32_t v, n;

	ck_assert_int_eq(main_store->ops->select(main_store, "INBOX", &v, &n),
	    STORE_OK);
}

/* 1 if the epoll set has something ready now. */
static int
epoll_ready(void)
{
	struct epoll_event ev;

	return epoll_wait(epfd, &ev, 1, 0);
}

/* One wait of the daemon: arm, main's wait (store_mem never sleeps),
 * disarm; returns what disarm says. */
static int
one_wait(void)
{
	int mask = 0;

	if (!junkwatch_arm(&jw))
		ck_assert_int_eq(main_store->ops->wait(main_store, 0, epfd,
		    &mask), STORE_OK);
	return junkwatch_disarm(&jw, mask);
}

/* Watching starts as in the daemon after it connected: NOTIFY offered or
 * not, the second connection given (it is jw's then) or not. */
static void
start(int notify, int with_second)
{
	store_mem_set_notify(main_store, notify);
	junkwatch_init(&jw, epfd, with_second ? second : NULL);
	if (with_second)
		second = NULL;
	ck_assert_int_eq(junkwatch_start(&jw, main_store, "Junk"), STORE_OK);
	ck_assert_int_eq(jw.notifying, notify);
	select_inbox();
	/* A new session: look once. */
	ck_assert_int_eq(one_wait(), 1);
}

START_TEST(notify_on_the_main_connection)
{
	start(1, 1);
	ck_assert_int_eq(one_wait(), 0);
	store_mem_append(main_store, "Junk", "Subject: s\n\ns\n", 14, NULL);
	ck_assert_int_eq(one_wait(), 1);
	ck_assert_int_eq(one_wait(), 0);
	/* The second connection was never used. */
	ck_assert_int_eq(jw.second_ready, 0);
	ck_assert_int_eq(epoll_ready(), 0);
}
END_TEST

START_TEST(second_connection_idles_on_junk)
{
	start(0, 1);
	/* Opening the second connection: whatever came while it was not
	 * open is news. */
	ck_assert_int_eq(junkwatch_arm(&jw), 1);
	ck_assert_int_eq(jw.second_ready, 1);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 1);
	/* The message that was in Junk at EXAMINE: reported once. */
	ck_assert_int_eq(junkwatch_arm(&jw), 1);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 1);
	/* Now it IDLEs: its descriptor is in the epoll set while it does. */
	ck_assert_int_eq(junkwatch_arm(&jw), 0);
	ck_assert_int_ge(jw.fd, 0);
	ck_assert_int_eq(junkwatch_pending(&jw), 0);
	ck_assert_int_eq(epoll_ready(), 0);
	store_mem_append(s2, "Junk", "Subject: s\n\ns\n", 14, NULL);
	ck_assert_int_eq(junkwatch_pending(&jw), 1);
	ck_assert_int_eq(epoll_ready(), 1);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 1);
	ck_assert_int_eq(jw.fd, -1);
	ck_assert_int_eq(epoll_ready(), 0);
	/* Quiet: no news. */
	ck_assert_int_eq(junkwatch_arm(&jw), 0);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 0);
}
END_TEST

/* Failures of the second connection pause it and are retried; the
 * daemon's own connection never sees them. */
START_TEST(second_connection_failures_retried)
{
	start(0, 1);
	store_mem_fail(s2, "connect", 1, STORE_FATAL, 0);
	ck_assert_int_eq(junkwatch_arm(&jw), 0);
	ck_assert_int_eq(jw.second_ready, 0);
	ck_assert_int_eq(jw.complained, 1);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 0);
	/* Not tried again before the pause is over. */
	store_mem_fail(s2, "connect", 1, STORE_FATAL, 0);
	ck_assert_int_eq(junkwatch_arm(&jw), 0);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 0);
	jw.retry_at = 0;
	ck_assert_int_eq(junkwatch_arm(&jw), 0);	/* that failure */
	ck_assert_int_eq(jw.retry_ms, 10000);		/* the pause grows */
	jw.retry_at = 0;
	ck_assert_int_eq(junkwatch_arm(&jw), 1);	/* opened */
	ck_assert_int_eq(jw.complained, 0);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 1);
	ck_assert_int_eq(junkwatch_arm(&jw), 1);	/* Junk's message */
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 1);
	/* The IDLE breaks: paused again, no news claimed. */
	ck_assert_int_eq(junkwatch_arm(&jw), 0);
	store_mem_fail(s2, "idle_end", 1, STORE_CONN_LOST, 0);
	ck_assert_int_eq(junkwatch_disarm(&jw, 0), 0);
	ck_assert_int_eq(jw.second_ready, 0);
	ck_assert_int_eq(epoll_ready(), 0);
	/* Junk missing on the server: the same. */
	jw.retry_at = 0;
	store_mem_fail(s2, "examine", 1, STORE_BOX_BAD, 0);
	ck_assert_int_eq(junkwatch_arm(&jw), 0);
	ck_assert_int_eq(jw.second_ready, 0);
}
END_TEST

/* Without NOTIFY and without a second connection (imap.junk_idle off):
 * nothing but the news of a new session. */
START_TEST(nothing_without_notify_or_second)
{
	start(0, 0);
	store_mem_append(main_store, "Junk", "Subject: s\n\ns\n", 14, NULL);
	ck_assert_int_eq(one_wait(), 0);
	ck_assert_int_eq(epoll_ready(), 0);
}
END_TEST

static Suite *
junkwatch_suite(void)
{
	Suite *s = suite_create("junkwatch");
	TCase *tc = tcase_create("junkwatch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, notify_on_the_main_connection);
	tcase_add_test(tc, second_connection_idles_on_junk);
	tcase_add_test(tc, second_connection_failures_retried);
	tcase_add_test(tc, nothing_without_notify_or_second);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(junkwatch_suite)
