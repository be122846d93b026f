/*
 * fsfail.h - what to tell the owner when a state file cannot be created,
 * opened or written: which file, what went wrong, and what to do about
 * it (free space, remount read-write, fix the owner or mode).  Every
 * module of state/ words its file-system errors through here, so that no
 * message ever advises discarding state that is healthy.
 */
#ifndef MAILSIFT_FSFAIL_H
#define MAILSIFT_FSFAIL_H

/* "cannot ACTION PATH: CAUSE; FIX", malloc'd.  action is e.g. "write the
 * ledger", errnum the errno of the failure. */
char *fsfail_message(const char *action, const char *path, int errnum);

/* "PATH: CAUSE; FIX", malloc'd: for callers that say what failed. */
char *fsfail_cause(const char *path, int errnum);

/* The fix alone for errnum on path, malloc'd: "free space on the file
 * system of PATH", ... */
char *fsfail_fix(const char *path, int errnum);

/* How the last call on a state file failed, for a daemon deciding
 * whether to wait. */
enum state_failure {
	STATE_NO_FAILURE,	/* it did not fail */
	STATE_FAILURE_WAIT,	/* outside the file, can pass by itself or by
				 * an administrator's action (disk full,
				 * read-only, permissions, I/O, a long lock) */
	STATE_FAILURE_BROKEN	/* the file itself (damaged, foreign, ...) */
};

/* 1 if errnum means the file system is full (or the quota used up): a
 * condition that passes when space is freed, so a daemon waits for it. */
int fsfail_is_full(int errnum);

#endif
