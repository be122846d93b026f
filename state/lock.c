/*
 * lock.c - the one-sorter lock on state_dir/lock (see lock.h).
 *
 * fcntl(F_SETLK) rather than flock(): F_GETLK asks the kernel which
 * process holds the lock, so the message names the right pid even when
 * the pid written in the file is stale or half written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/fsfail.h"
#include "state/lock.h"
#include "state/owner.h"

/* A holder that ends between our F_SETLK and F_GETLK leaves nobody to
 * name: try again, a few times. */
#define TAKE_ATTEMPTS	5

struct state_lock {
	int fd;
};

static int
whole_file_lock(int fd, int cmd, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	return fcntl(fd, cmd, fl);
}

/* The pid in the file, for holders the kernel cannot name. */
static pid_t
pid_in_file(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return (pid_t)strtol(text, NULL, 10);
}

static int
write_pid(int fd)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)
		return -1;
	return 0;
}

int
state_lock_take(const char *state_dir, struct state_lock **lock_r,
    pid_t *holder_r, char **err_r)
{
	char *path = xasprintf("%s/lock", state_dir);
	struct flock fl;
	struct stat st;
	int fd, rc = -1;

	*lock_r = NULL;
	*holder_r = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*err_r = fsfail_message("open the lock file", path, errno);
		goto out;
	}
	if (state_file_own(fd, path) < 0) {
		*err_r = fsfail_message("set the owner of the lock file",
		    path, errno);
		goto out;
	}
	/* Whatever the umask or an older mailsift left. */
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0 &&
	    fchmod(fd, st.st_mode & 0600) < 0) {
		*err_r = fsfail_message("make private the lock file", path,
		    errno);
		goto out;
	}
	for (int i = 0; i < TAKE_ATTEMPTS; i++) {
		if (whole_file_lock(fd, F_SETLK, &fl) == 0) {
			if (write_pid(fd) < 0) {
				*err_r = fsfail_message("write the lock file",
				    path, errno);
				goto out;
			}
			*lock_r = xcalloc(1, sizeof(**lock_r));
			(*lock_r)->fd = fd;
			fd = -1;
			rc = 0;
			goto out;
		}
		if (errno != EACCES && errno != EAGAIN) {
			*err_r = fsfail_message("lock the lock file", path,
			    errno);
			goto out;
		}
		if (whole_file_lock(fd, F_GETLK, &fl) == 0 &&
		    fl.l_type != F_UNLCK) {
			*holder_r = fl.l_pid > 0 ? fl.l_pid : pid_in_file(fd);
			rc = 1;
			goto out;
		}
	}
	*holder_r = pid_in_file(fd);
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void
state_lock_release(struct state_lock **lock)
{
	if (*lock == NULL)
		return;
	/* Closing the file drops the lock; the file stays, empty of
	 * meaning, for the next run. */
	close((*lock)->fd);
	free(*lock);
	*lock = NULL;
}
