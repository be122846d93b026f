/*
 * check_lock.c - the one-sorter lock (state/lock.c): a second process is
 * refused and told the holder's pid; a holder killed with SIGKILL leaves
 * no lock behind; the lock file is 0600 whatever the umask.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/lock.h"
#include "tests/unit/unit.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_lock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* A child that takes the lock, says so on the pipe, and waits to die. */
static pid_t
holder_start(void)
{
	int fds[2];
	char c = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct state_lock *lock = NULL;
		pid_t holder;
		char *err = NULL;

		close(fds[0]);
		c = state_lock_take(dir, &lock, &holder, &err) == 0 ? 'y' : 'n';
		if (write(fds[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	ck_assert_int_eq(c, 'y');
	return pid;
}

START_TEST(second_process_is_told_the_holder)
{
	struct state_lock *lock = NULL;
	char *err = NULL;
	pid_t holder = 0, child = holder_start();
	int status;

	ck_assert_int_eq(state_lock_take(dir, &lock, &holder, &err), 1);
	ck_assert_ptr_null(lock);
	ck_assert_int_eq(holder, child);

	/* SIGKILL: the kernel drops the lock with the process. */
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(state_lock_take(dir, &lock, &holder, &err), 0);
	ck_assert_ptr_nonnull(lock);
	state_lock_release(&lock);
	ck_assert_ptr_null(lock);
}
END_TEST

START_TEST(released_lock_can_be_taken_by_another)
{
	struct state_lock *lock = NULL;
	char *err = NULL;
	pid_t holder = 0, child;
	int status;

	ck_assert_int_eq(state_lock_take(dir, &lock, &holder, &err), 0);
	state_lock_release(&lock);
	child = holder_start();		/* asserts that it got the lock */
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}
END_TEST

START_TEST(lock_file_is_private_whatever_the_umask)
{
	struct state_lock *lock = NULL;
	char *err = NULL, *path = xasprintf("%s/lock", dir);
	struct stat st;
	pid_t holder;
	mode_t old = umask(0);

	ck_assert_int_eq(state_lock_take(dir, &lock, &holder, &err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	state_lock_release(&lock);

	/* A lock file an older mailsift left world-readable. */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(state_lock_take(dir, &lock, &holder, &err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	state_lock_release(&lock);
	umask(old);
	free(path);
}
END_TEST

START_TEST(missing_state_dir_is_explained)
{
	struct state_lock *lock = NULL;
	char *err = NULL, *missing = xasprintf("%s/nope", dir);
	pid_t holder;

	ck_assert_int_eq(state_lock_take(missing, &lock, &holder, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nope/lock"));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	free(err);
	free(missing);
}
END_TEST

static Suite *
lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_process_is_told_the_holder);
	tcase_add_test(tc, released_lock_can_be_taken_by_another);
	tcase_add_test(tc, lock_file_is_private_whatever_the_umask);
	tcase_add_test(tc, missing_state_dir_is_explained);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(lock_suite)
