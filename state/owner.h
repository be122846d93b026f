/*
 * owner.h - a state file belongs to its state directory's owner.  The
 * daemon runs as its own user (the package's `mailsift`); a command the
 * administrator runs as root in that user's state directory (train,
 * undo, status, run --once) must not leave a file there the daemon then
 * cannot write.  Every module of state/ and agent/ that makes a file in a
 * state directory hands it over through here right after making it.
 * (SQLite does the same for the -wal, -shm and journal files it makes:
 * it gives them to the database file's owner.)
 */
#ifndef MAILSIFT_OWNER_H
#define MAILSIFT_OWNER_H

/* When this process runs as root, gives the file open on fd, at path, to
 * the owner and group of the directory path is in.  Otherwise nothing.
 * 0, or -1 with errno. */
int state_file_own(int fd, const char *path);

#endif
