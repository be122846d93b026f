/*
 * owner.c - state files handed to the state directory's owner (see
 * owner.h).  Only root can give a file away, and only root would make
 * one that the directory's owner cannot write; anybody else makes files
 * that are theirs, in a directory they can write.
 */
#include <libgen.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/owner.h"

int
state_file_own(int fd, const char *path)
{
	char *copy;
	struct stat dir;
	int rc;

	if (geteuid() != 0)
		return 0;
	copy = xstrdup(path);
	rc = stat(dirname(copy), &dir);
	free(copy);
	if (rc < 0)
		return -1;
	return fchown(fd, dir.st_uid, dir.st_gid);
}
