/*
 * check_child_server.c - unit tests of the child server: requests are
 * answered in grandchildren of one helper (the caller forks once), a
 * crash or hang of a grandchild reaches neither the helper nor the
 * caller, a helper that dies is started again and then replaced by the
 * caller's own children, the helper keeps none of the caller's
 * descriptors, ignores stop signals and leaves when its caller is gone;
 * a forked copy of the caller starts a helper of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "agent/child_server.h"
#include "agent/xmem.h"
#include "tests/unit/unit.h"

/* "pid" answers the evaluating process's parent; "crash" and "hang" do
 * what they say; anything else comes back upper-cased. */
static int
serve(void *ctx, const char *req, size_t len, struct buf *out)
{
	ck_assert_ptr_eq(ctx, (void *)serve);
	if (strcmp(req, "pid") == 0) {
		buf_printf(out, "%ld", (long)getppid());
		return 0;
	}
	if (strcmp(req, "crash") == 0)
		abort();	/* SIGSEGV would be caught by ASan */
	if (strcmp(req, "hang") == 0)
		for (;;)
			pause();
	if (strcmp(req, "fail") == 0) {
		buf_appends(out, "refused");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		buf_printf(out, "%c", req[i] >= 'a' && req[i] <= 'z' ?
		    req[i] - 'a' + 'A' : req[i]);
	return 0;
}

static struct child_server *
server(void)
{
	return child_server_new(serve, (void *)serve, "the test server");
}

/* Asks req; returns the answer (the test fails on an error). */
static char *
ask_ok(struct child_server *cs, const char *req)
{
	char *out = NULL, *err = NULL;

	if (child_server_run(cs, req, strlen(req), 5000, &out, &err) < 0)
		ck_abort_msg("%s: %s", req, err);
	return out;
}

static char *
ask_err(struct child_server *cs, const char *req, int timeout_ms)
{
	char *out = NULL, *err = NULL;

	ck_assert_int_eq(child_server_run(cs, req, strlen(req), timeout_ms,
	    &out, &err), -1);
	ck_assert_ptr_null(out);
	return err;
}

/* Which process evaluates: its parent's pid. */
static long
evaluator_parent(struct child_server *cs)
{
	char *out = ask_ok(cs, "pid");
	long pid = atol(out);

	free(out);
	return pid;
}

START_TEST(answers_from_one_helper)
{
	struct child_server *cs = server();
	char before[4096];
	pid_t helper;
	char *out;

	ck_assert_int_eq(child_server_pid(cs), 0);
	unit_children(before, sizeof(before));
	out = ask_ok(cs, "hello");
	ck_assert_str_eq(out, "HELLO");
	free(out);
	helper = child_server_pid(cs);
	ck_assert_int_gt(helper, 0);
	for (int i = 0; i < 50; i++) {
		/* each request runs in a grandchild of the same helper */
		ck_assert_int_eq(evaluator_parent(cs), helper);
		ck_assert_int_eq(child_server_pid(cs), helper);
	}
	/* this process forked the helper and nothing else */
	ck_assert_int_eq(unit_new_child(before), helper);
	out = ask_err(cs, "fail", 5000);
	ck_assert_str_eq(out, "refused");
	free(out);
	child_server_free(&cs);
	ck_assert_ptr_null(cs);
	/* reaped: no zombie left */
	ck_assert_int_eq(waitpid(helper, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_int_eq(unit_new_child(before), 0);
}
END_TEST

START_TEST(crash_and_hang_stay_in_the_grandchild)
{
	struct child_server *cs = server();
	pid_t helper;
	char *err, *out;

	out = ask_ok(cs, "x");
	free(out);
	helper = child_server_pid(cs);
	err = ask_err(cs, "crash", 5000);
	ck_assert_str_eq(err, "the test server crashed with signal 6");
	free(err);
	err = ask_err(cs, "hang", 300);
	ck_assert_str_eq(err, "the test server took longer than 300 ms and "
	    "was stopped");
	free(err);
	/* the same helper goes on answering */
	ck_assert_int_eq(child_server_pid(cs), helper);
	ck_assert_int_eq(evaluator_parent(cs), helper);
	child_server_free(&cs);
}
END_TEST

START_TEST(dead_helper_restarted_then_replaced)
{
	struct child_server *cs = server();
	pid_t first, second;
	char *out;

	ck_assert_int_eq(evaluator_parent(cs), child_server_pid(cs));
	first = child_server_pid(cs);
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	/* the next request finds it dead, reaps it, starts another */
	out = ask_ok(cs, "again");
	ck_assert_str_eq(out, "AGAIN");
	free(out);
	second = child_server_pid(cs);
	ck_assert_int_gt(second, 0);
	ck_assert_int_ne(second, first);
	ck_assert_int_eq(waitpid(first, NULL, WNOHANG), -1);
	ck_assert_int_eq(evaluator_parent(cs), second);
	/* a second death: the caller's own children answer from now on */
	ck_assert_int_eq(kill(second, SIGKILL), 0);
	ck_assert_int_eq(evaluator_parent(cs), getpid());
	ck_assert_int_eq(child_server_pid(cs), 0);
	ck_assert_int_eq(waitpid(second, NULL, WNOHANG), -1);
	out = ask_err(cs, "crash", 5000);
	ck_assert_str_eq(out, "the test server crashed with signal 6");
	free(out);
	child_server_free(&cs);
}
END_TEST

START_TEST(stopped_helper_given_up)
{
	struct child_server *cs = server();
	pid_t first;
	char *out = NULL, *err = NULL;

	ck_assert_int_eq(evaluator_parent(cs), child_server_pid(cs));
	first = child_server_pid(cs);
	/* a helper that stops answering is killed after the request's
	 * limit and a grace, and another one answers */
	ck_assert_int_eq(kill(first, SIGSTOP), 0);
	ck_assert_int_eq(child_server_run(cs, "late", 4, 1000, &out, &err),
	    0);
	ck_assert_str_eq(out, "LATE");
	free(out);
	ck_assert_int_ne(child_server_pid(cs), first);
	ck_assert_int_eq(waitpid(first, NULL, WNOHANG), -1);
	child_server_free(&cs);
}
END_TEST

START_TEST(helper_keeps_no_descriptor)
{
	struct child_server *cs = server();
	char path[64];
	struct dirent *e;
	DIR *dir;
	int fd = open("/dev/null", O_RDONLY), n = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(evaluator_parent(cs), child_server_pid(cs));
	snprintf(path, sizeof(path), "/proc/%ld/fd",
	    (long)child_server_pid(cs));
	dir = opendir(path);
	ck_assert(dir != NULL);
	while ((e = readdir(dir)) != NULL) {
		int n_fd = atoi(e->d_name);

		ck_assert_int_ne(n_fd, fd);
		/* valgrind keeps its own descriptors near the limit */
		if (e->d_name[0] != '.' && n_fd > 2 && n_fd < 1000)
			n++;
	}
	closedir(dir);
	/* its socket only, beside stdin, stdout and stderr */
	ck_assert_int_eq(n, 1);
	close(fd);
	child_server_free(&cs);
}
END_TEST

START_TEST(helper_ignores_stop_signals)
{
	struct child_server *cs = server();
	pid_t helper;

	ck_assert_int_eq(evaluator_parent(cs), child_server_pid(cs));
	helper = child_server_pid(cs);
	ck_assert_int_eq(kill(helper, SIGTERM), 0);
	ck_assert_int_eq(kill(helper, SIGINT), 0);
	ck_assert_int_eq(kill(helper, SIGHUP), 0);
	ck_assert_int_eq(evaluator_parent(cs), helper);
	child_server_free(&cs);
}
END_TEST

START_TEST(forked_copy_starts_its_own)
{
	struct child_server *cs = server();
	pid_t helper, copy;
	int status;

	ck_assert_int_eq(evaluator_parent(cs), child_server_pid(cs));
	helper = child_server_pid(cs);
	copy = fork();
	ck_assert_int_ge(copy, 0);
	if (copy == 0) {
		/* the original's helper and socket are not this process's */
		long parent = evaluator_parent(cs);

		child_server_free(&cs);
		_exit(parent != helper && parent > 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(copy, &status, 0), copy);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the original's helper was neither used nor ended by the copy */
	ck_assert_int_eq(evaluator_parent(cs), helper);
	child_server_free(&cs);
}
END_TEST

START_TEST(started_before_the_first_request)
{
	struct child_server *cs = server();
	char before[4096], *err = NULL;
	pid_t helper;

	unit_children(before, sizeof(before));
	ck_assert_int_eq(child_server_start(cs, &err), 0);
	helper = child_server_pid(cs);
	ck_assert_int_gt(helper, 0);
	ck_assert_int_eq(unit_new_child(before), helper);
	/* started once: the first request finds it */
	ck_assert_int_eq(child_server_start(cs, &err), 0);
	ck_assert_int_eq(evaluator_parent(cs), helper);
	ck_assert_int_eq(unit_new_child(before), helper);
	child_server_free(&cs);
}
END_TEST

/* Is pid gone (or a zombie nobody reaped yet)? */
static int
gone(pid_t pid)
{
	char path[64], line[512], *p;
	FILE *f;
	int done;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	done = fgets(line, sizeof(line), f) == NULL ||
	    (p = strrchr(line, ')')) == NULL || p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return done;
}

START_TEST(helper_leaves_with_its_caller)
{
	int fds[2];
	long helper = 0;
	pid_t caller;

	ck_assert_int_eq(pipe(fds), 0);
	caller = fork();
	ck_assert_int_ge(caller, 0);
	if (caller == 0) {
		struct child_server *cs = server();
		long pid = evaluator_parent(cs);

		/* gone without freeing the server */
		(void)!write(fds[1], &pid, sizeof(pid));
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &helper, sizeof(helper)),
	    (ssize_t)sizeof(helper));
	close(fds[0]);
	ck_assert_int_eq(waitpid(caller, NULL, 0), caller);
	for (int i = 0; i < 200 && !gone((pid_t)helper); i++)
		usleep(50 * 1000);
	ck_assert_msg(gone((pid_t)helper), "helper %ld outlived its caller",
	    helper);
}
END_TEST

static Suite *
child_server_suite(void)
{
	Suite *s = suite_create("child_server");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, answers_from_one_helper);
	tcase_add_test(tc, crash_and_hang_stay_in_the_grandchild);
	tcase_add_test(tc, dead_helper_restarted_then_replaced);
	tcase_add_test(tc, stopped_helper_given_up);
	tcase_add_test(tc, helper_keeps_no_descriptor);
	tcase_add_test(tc, helper_ignores_stop_signals);
	tcase_add_test(tc, helper_leaves_with_its_caller);
	tcase_add_test(tc, forked_copy_starts_its_own);
	tcase_add_test(tc, started_before_the_first_request);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(child_server_suite)
