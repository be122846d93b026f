/*
 * preview.h - what a Sieve script would do to the messages mailsift
 * already sorted: each recent decision's message is read again (EXAMINE,
 * BODY.PEEK: nothing on the server changes, no \Recent is taken), run
 * through the plan the daemon would make today with the score it had
 * then, and compared with what the ledger says happened.  Nothing is
 * written anywhere: the ledger is only read.
 */
#ifndef MAILSIFT_PREVIEW_H
#define MAILSIFT_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "agent/plan.h"
#include "agent/store.h"
#include "state/ledger.h"

struct preview {
	struct store *store;		/* borrowed, connected */
	struct ledger *ledger;		/* borrowed */
	struct plan_rules rules;	/* the script to try, the folders and
					 * the threshold; the mailboxes and
					 * their names are the store's, as in
					 * the daemon */
	size_t max_message_bytes;	/* as the daemon fetched (same hash) */
};

/* One message whose outcome would change. */
struct preview_change {
	struct ledger_decision decision;	/* owned: what happened */
	char *subject;			/* owned, decoded, or NULL */
	char *from;			/* owned, decoded, or NULL */
	struct plan now;		/* the recorded plan, rule from the
					 * ledger */
	struct plan would;		/* what the script would do */
};

struct preview_result {
	size_t examined;		/* decisions compared */
	size_t missing;			/* message no longer in the mailbox */
	size_t unreadable;		/* recorded plan not understood */
	struct preview_change *changes;	/* owned, newest first */
	size_t nchanges;
};

/* Compares the newest n decisions.  A message rescued from Junk stays out
 * of it in both plans, as in the daemon, so a rescue alone is no change.
 * Sieve's duplicate test finds no ID seen before: the ledger keeps when an
 * ID was last seen, not whether it was seen before the decision.
 * Returns STORE_OK, or the store's failure (the ledger's is STORE_FATAL
 * with *err_r set, malloc'd); r holds what was found so far either way;
 * release it with preview_result_release(). */
enum store_status preview_run(const struct preview *pv, int n,
    struct preview_result *r, char **err_r);
void preview_result_release(struct preview_result *r);

#endif
