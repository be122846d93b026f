/*
 * state_dir.c - the files of one state_dir, and the rule that a lost
 * ledger is never silently replaced (see state_dir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/report.h"
#include "agent/state_dir.h"
#include "agent/xmem.h"
#include "state/db.h"
#include "state/fsfail.h"
#include "state/owner.h"

/* The state file that shows a sorter used this state_dir, or NULL.  Only
 * `run` makes them, and only once it has the ledger (daemon.c).  The
 * token store is no such sign: training may come before the first run. */
static char *
earlier_use(const struct config *c)
{
	char *path = report_path(c->state_dir);

	if (access(path, F_OK) == 0)
		return path;
	free(path);
	path = xasprintf("%s/lock", c->state_dir);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	return NULL;
}

int
state_dir_make(const struct config *c, char **err_r)
{
	int fd;

	if (mkdir(c->state_dir, 0700) < 0) {
		if (errno == EEXIST)
			return 0;
		*err_r = fsfail_message("create state_dir", c->state_dir,
		    errno);
		return -1;
	}
	/* Made by root (say, train before the first start of the service
	 * in the package's /var/lib/mailsift): the daemon's all the same. */
	if ((fd = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || state_file_own(fd, c->state_dir) < 0) {
		*err_r = fsfail_message("set the owner of state_dir",
		    c->state_dir, errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

char *
state_dir_problem(const struct config *c)
{
	struct statvfs fs;

	if (statvfs(c->state_dir, &fs) < 0)
		return errno == ENOENT ? NULL :
		    fsfail_cause(c->state_dir, errno);
	if (fs.f_flag & ST_RDONLY)
		return fsfail_cause(c->state_dir, EROFS);
	if (access(c->state_dir, W_OK) < 0)
		return fsfail_cause(c->state_dir, errno);
	if (fs.f_bavail == 0)
		return fsfail_cause(c->state_dir, ENOSPC);
	return NULL;
}

int
state_dir_ledger_present(const struct config *c)
{
	char *path = config_ledger_db(c);
	int present = db_file_state(path) == DB_FILE_PRESENT;

	free(path);
	return present;
}

int
state_dir_ledger(const struct config *c, struct ledger **ledger_r,
    char **err_r)
{
	char *path = config_ledger_db(c), *used = NULL;
	int state = db_file_state(path), rc;

	*ledger_r = NULL;
	if (state != DB_FILE_PRESENT && (used = earlier_use(c)) != NULL) {
		*err_r = xasprintf("the ledger %s is %s, but this state_dir "
		    "was used before (%s is there): a new ledger would take "
		    "every message in the watched folders as new, and could "
		    "file again mail that was sorted already.  Restore "
		    "ledger.db from a backup if there is one; otherwise run "
		    "'mailsift run -c %s --once --fresh-ledger' once: it "
		    "starts a new ledger that counts every message now in "
		    "the watched folders as sorted (they stay where they "
		    "are), and sorts the mail that arrives after it", path,
		    state == DB_FILE_EMPTY ? "empty" : "missing", used,
		    c->path);
		rc = STATE_DIR_LEDGER_LOST;
	} else {
		rc = ledger_open(path, ledger_r, err_r);
	}
	free(used);
	free(path);
	return rc;
}

/* Reads UIDVALIDITY and UIDNEXT of every watched folder into the new
 * ledger, as if everything below UIDNEXT had been sorted. */
static int
mark_folders(const struct config *c, struct store *store,
    struct ledger *ledger, char **err_r)
{
	enum store_status st = store->ops->connect(store);

	for (size_t i = 0; st == STORE_OK && i < c->folders.nwatch; i++) {
		const char *folder = c->folders.watch[i];
		uint32_t uidvalidity, uidnext;

		st = store->ops->examine(store, folder, &uidvalidity,
		    &uidnext);
		if (st == STORE_OK && ledger_folder_set(ledger, folder,
		    uidvalidity, uidnext > 0 ? uidnext - 1 : 0) < 0) {
			*err_r = xasprintf("cannot write the new ledger: %s",
			    ledger_error(ledger));
			return -1;
		}
	}
	if (st != STORE_OK) {
		*err_r = xasprintf("cannot read the watched folders to start "
		    "a new ledger: %s", store_last_error(store));
		return -1;
	}
	return 0;
}

static int
sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
state_dir_fresh_ledger(const struct config *c, struct store *store,
    char **err_r)
{
	char *path = config_ledger_db(c);
	char *tmp = xasprintf("%s.fresh-%ld", path, (long)getpid());
	struct ledger *ledger = NULL;
	int rc = -1;

	unlink(tmp);
	if (ledger_open(tmp, &ledger, err_r) < 0)
		goto out;
	if (mark_folders(c, store, ledger, err_r) < 0)
		goto out;
	ledger_close(&ledger);
	if (sync_file(tmp) < 0 || rename(tmp, path) < 0) {
		*err_r = fsfail_message("put in place the new ledger", path,
		    errno);
		goto out;
	}
	rc = 0;
out:
	ledger_close(&ledger);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}
