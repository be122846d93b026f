/*
 * check_selfpipe.c - signals as events (agent/selfpipe.c): each caught
 * signal is read back in order; only stop signals set the flag and the
 * stop descriptor, which stays readable; closing gives the signals their
 * default disposition back.
 */
#include <poll.h>
#include <signal.h>

#include "agent/selfpipe.h"
#include "tests/unit/unit.h"

static int
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

START_TEST(signals_come_back_in_order)
{
	static const int signals[] = { SIGTERM, SIGHUP };

	ck_assert_int_eq(selfpipe_open(signals, 2), 0);
	ck_assert(!readable(selfpipe_fd()));
	ck_assert_int_eq(selfpipe_next(), 0);
	raise(SIGHUP);
	ck_assert(readable(selfpipe_fd()));
	/* A reload is no stop. */
	ck_assert(!*selfpipe_stop_flag());
	ck_assert(!readable(selfpipe_stop_fd()));
	raise(SIGTERM);
	raise(SIGHUP);
	ck_assert_int_eq(selfpipe_next(), SIGHUP);
	ck_assert_int_eq(selfpipe_next(), SIGTERM);
	ck_assert_int_eq(selfpipe_next(), SIGHUP);
	ck_assert_int_eq(selfpipe_next(), 0);
	ck_assert(!readable(selfpipe_fd()));
	selfpipe_close();
}
END_TEST

START_TEST(a_stop_stays_readable)
{
	static const int signals[] = { SIGINT };

	ck_assert_int_eq(selfpipe_open(signals, 1), 0);
	raise(SIGINT);
	ck_assert(*selfpipe_stop_flag());
	ck_assert_int_eq(selfpipe_next(), SIGINT);
	/* Every later wait on it returns at once. */
	ck_assert(readable(selfpipe_stop_fd()));
	ck_assert(readable(selfpipe_stop_fd()));
	selfpipe_close();
	ck_assert(!*selfpipe_stop_flag());
	ck_assert_int_eq(selfpipe_fd(), -1);
	ck_assert_int_eq(selfpipe_stop_fd(), -1);
	ck_assert_int_eq(selfpipe_next(), 0);
}
END_TEST

START_TEST(close_gives_the_default_back)
{
	static const int signals[] = { SIGUSR1 };
	struct sigaction sa;

	ck_assert_int_eq(selfpipe_open(signals, 1), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert(sa.sa_handler != SIG_DFL);
	selfpipe_close();
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert(sa.sa_handler == SIG_DFL);
	/* Closing twice is harmless. */
	selfpipe_close();
}
END_TEST

START_TEST(a_bad_signal_catches_nothing)
{
	static const int signals[] = { SIGUSR2, 12345 };
	struct sigaction sa;

	ck_assert_int_eq(selfpipe_open(signals, 2), -1);
	ck_assert_int_eq(selfpipe_fd(), -1);
	ck_assert_int_eq(sigaction(SIGUSR2, NULL, &sa), 0);
	ck_assert(sa.sa_handler == SIG_DFL);
}
END_TEST

static Suite *
selfpipe_suite(void)
{
	Suite *s = suite_create("selfpipe");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, signals_come_back_in_order);
	tcase_add_test(tc, a_stop_stays_readable);
	tcase_add_test(tc, close_gives_the_default_back);
	tcase_add_test(tc, a_bad_signal_catches_nothing);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(selfpipe_suite)
