/*
 * check_command.c - the owner's shell command under a time limit
 * (agent/command.c): output read whole, a command that hangs killed with
 * its process group after the limit, one that lingers after closing its
 * output too, and a cancellation stops it at once.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/command.h"
#include "tests/unit/unit.h"

/* 1 if `sleep N` is still running ("slee[p]" keeps pgrep's own shell,
 * whose command line holds the pattern, from matching). */
static int
still_running(const char *n)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "pgrep -f 'slee[p] %s' >/dev/null", n);
	return system(cmd) == 0;
}

START_TEST(output_is_read_whole)
{
	struct buf out = { 0 };
	char *err = NULL;
	int status = -1;

	ck_assert_int_eq(command_run("echo secret; seq 1 20000 >/dev/null; "
	    "seq 1 5000; exit 3", 10, 7, &out, &status, &err), COMMAND_OK);
	ck_assert_uint_eq(out.len, 7);
	ck_assert_int_eq(memcmp(out.data, "secret\n", 7), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	buf_release(&out);
}
END_TEST

START_TEST(hanging_command_is_killed_with_its_group)
{
	struct buf out = { 0 };
	char *err = NULL;
	int status;

	ck_assert_int_eq(command_run("sleep 98761; echo late", 1, 64, &out,
	    &status, &err), COMMAND_TIMED_OUT);
	ck_assert(!still_running("98761"));
	ck_assert_int_eq(command_run("echo pw; exec >&-; sleep 98762", 1, 64,
	    &out, &status, &err), COMMAND_TIMED_OUT);
	ck_assert(!still_running("98762"));
	buf_release(&out);
}
END_TEST

START_TEST(cancellation_stops_it_at_once)
{
	struct buf out = { 0 };
	char *err = NULL;
	int status, fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	command_set_cancel_fd(fds[0]);
	ck_assert_int_eq(command_run("sleep 98763", 300, 64, &out, &status,
	    &err), COMMAND_CANCELLED);
	command_set_cancel_fd(-1);
	ck_assert(!still_running("98763"));
	close(fds[0]);
	close(fds[1]);
	buf_release(&out);
}
END_TEST

static Suite *
command_suite(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("command");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, output_is_read_whole);
	tcase_add_test(tc, hanging_command_is_killed_with_its_group);
	tcase_add_test(tc, cancellation_stops_it_at_once);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(command_suite)
