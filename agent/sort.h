/*
 * sort.h - the per-message pipeline: for each new message in a folder,
 * fetch -> recognise (ledger) -> score (filter) -> decide (Sieve, or the
 * built-in default) -> record the intent -> act on the store -> record the
 * outcome -> advance the folder's UID mark.
 *
 * The engine sees the mail store only through store.h, so it runs against
 * store_mem in unit tests exactly as against IMAP.
 */
#ifndef MAILSIFT_SORT_H
#define MAILSIFT_SORT_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "agent/filter.h"
#include "agent/learn.h"
#include "agent/store.h"
#include "sieve/sieve.h"
#include "state/ledger.h"

struct sorter {
	struct store *store;			/* borrowed */
	struct ledger *ledger;			/* borrowed */
	struct filter *filter;			/* borrowed; NULL: no scores */
	const struct sieve_script *script;	/* borrowed; NULL: built-in */
	struct learner *learner;		/* borrowed; NULL: no learning */
	const char *junk;			/* resolved Junk folder name */
	const char *trash;			/* resolved Trash folder name */
	double spam_threshold;			/* verdicts from scores */
	double ham_threshold;
	size_t max_message_bytes;
	/* Called before each message of a pass (done of total), and once
	 * with done == total at its end; NULL for none. */
	void (*progress)(const char *folder, size_t done, size_t total);
	/* The first look at a folder (no UID mark yet, or a new UIDVALIDITY)
	 * sorts only what the owner has not seen: messages without \Seen
	 * that arrived from the day of first_run_since on.  The others are
	 * left as found (the folder's backlog in the ledger) until a backlog
	 * pass.  0: the first look sorts everything. */
	time_t first_run_since;
	/* A backlog pass sorts, besides new mail, what first looks left as
	 * found: all of it, or what arrived from the day of backlog_since
	 * on if that is not 0. */
	int backlog;
	time_t backlog_since;
	/* Not NULL: touch nothing.  Folders are EXAMINEd, the store and the
	 * ledger are only read, and what the pass would do is printed here,
	 * folder by folder. */
	FILE *dry_run;
	/* Set (by a signal handler) when the pass must end after the
	 * message in hand; NULL for never. */
	const volatile sig_atomic_t *stop;
	/* Seconds before the first retry of a decision the server refused
	 * (doubling for each further one); 0: 60. */
	int retry_seconds;
};

/* Tries of a decision whose action the server refuses, the first one
 * included, before it is left as failed for good. */
#define SORT_MAX_ATTEMPTS	5

struct sort_stats {
	unsigned seen;		/* messages looked at */
	unsigned moved;		/* filed elsewhere */
	unsigned kept;		/* left in place (possibly tagged) */
	unsigned known;		/* already handled earlier: left alone */
	unsigned failed;	/* could not be handled: left in place */
};

/* Sorts every message of folder above the ledger's UID mark (on the
 * first look, and in a backlog pass, see struct sorter), then tries again
 * the decisions of folder the server refused earlier that are due (the
 * message left in place, without the flags it was to get; each try
 * resumes the decision; SORT_MAX_ATTEMPTS in all).  Returns
 * STORE_OK; STORE_CONN_LOST when the caller should reconnect and call
 * again (work done so far is kept and resumed); STORE_FATAL when it cannot
 * go on (store refuses, or the ledger cannot be written: nothing would
 * guarantee exactly-once).  Every message is logged with box, uid and
 * verdict; the caller only logs the status. */
enum store_status sort_folder(struct sorter *s, const char *folder,
    struct sort_stats *stats);

/* Verdict for a score under the sorter's thresholds. */
enum verdict sort_verdict(const struct sorter *s, double score);

#endif
