/*
 * fsfail.c - file-system errors of state files in words the owner can act
 * on (see fsfail.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/fsfail.h"

int
fsfail_is_full(int errnum)
{
	return errnum == ENOSPC || errnum == EDQUOT;
}

char *
fsfail_fix(const char *path, int errnum)
{
	const struct passwd *pw;

	switch (errnum) {
	case ENOSPC:
		return xasprintf("free space on the file system of %s", path);
	case EDQUOT:
		return xasprintf("free space or raise the disk quota on the "
		    "file system of %s", path);
	case EROFS:
		return xasprintf("the file system of %s is mounted read-only: "
		    "remount it read-write, or set state_dir to a writable "
		    "directory", path);
	case EACCES:
	case EPERM:
		pw = getpwuid(geteuid());
		return xasprintf("make %s and its directory writable for user "
		    "%s (chown or chmod), or run mailsift as the user that "
		    "owns them", path, pw != NULL ? pw->pw_name : "?");
	case ENOENT:
		return xasprintf("the directory that would hold %s does not "
		    "exist: create it, or correct the path", path);
	case EIO:
		return xasprintf("the disk holding %s reports errors: check it "
		    "(dmesg) before going on", path);
	default:
		return xasprintf("check the file system of %s", path);
	}
}

char *
fsfail_cause(const char *path, int errnum)
{
	char *fix = fsfail_fix(path, errnum);
	char *msg = xasprintf("%s: %s; %s", path, strerror(errnum), fix);

	free(fix);
	return msg;
}

char *
fsfail_message(const char *action, const char *path, int errnum)
{
	char *cause = fsfail_cause(path, errnum);
	char *msg = xasprintf("cannot %s %s", action, cause);

	free(cause);
	return msg;
}
