/*
 * report.h - the daemon's status file (state_dir/status.json), which
 * `mailsift status` reads: what the daemon is doing, whether the owner's
 * Sieve script is in force or broken, and the sorting counters.  Written
 * atomically (temporary file + rename) so a reader never sees half a file.
 */
#ifndef MAILSIFT_REPORT_H
#define MAILSIFT_REPORT_H

#include <stdint.h>
#include <time.h>

#include "agent/account.h"
#include "agent/sort.h"

struct report {
	char *path;			/* owned: state_dir/status.json */
	const char *account;		/* borrowed: "user@host:port" */
	const char *state;		/* borrowed: "connecting", "sorting",
					 * "idle", "waiting to reconnect",
					 * "paused", "stopped" */
	const char *script_path;	/* borrowed; NULL: built-in policy */
	int script_ok;			/* the script in force parsed cleanly */
	char *script_errors;		/* owned: errors of the newest edit */
	time_t script_loaded;		/* when the script in force was read */
	time_t started;
	time_t last_sync;
	char *last_error;		/* owned: the last connection problem */
	char *paused;			/* owned: why sorting waits (the state
					 * files cannot be written), or NULL */
	int write_errno;		/* of the last failed write, to log a
					 * failure once */
	void *connection;		/* owned (JSON): what the last
					 * connection showed */
	struct sort_stats totals;
};

void report_init(struct report *r, const char *state_dir);
void report_release(struct report *r);
void report_set_error(struct report *r, const char *error);
void report_set_script_errors(struct report *r, const char *errors);
void report_set_paused(struct report *r, const char *reason);
/* Records what a connection showed, with the time it was made. */
void report_set_connection(struct report *r, const struct account_facts *f);
/* Writes the file; logs (once per distinct failure) and returns -1 on
 * error.  On a full disk the old file is overwritten in place.  A report whose path was set to NULL (a dry run's) is not
 * written. */
int report_write(struct report *r);

/* Path of the status file for a state_dir; malloc'd. */
char *report_path(const char *state_dir);

#endif
