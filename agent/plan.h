/*
 * plan.h - what happens to one message: kept (with flags) and/or filed
 * into other folders (with flags), and the rule that said so.
 *
 * The daemon (sort.c) makes a plan from the owner's Sieve script or the
 * built-in policy and carries it out; `mailsift preview` (preview.c) makes
 * the plan a script would make today and compares it with the one the
 * ledger recorded.  Both build it here, so the preview cannot drift from
 * what the daemon does.  No I/O: no store, no ledger.
 */
#ifndef MAILSIFT_PLAN_H
#define MAILSIFT_PLAN_H

#include <stddef.h>

#include "sieve/sieve.h"

/* One place a copy of the message goes. */
struct plan_target {
	char *box;			/* owned */
	char **flags;			/* owned */
	size_t nflags;
};

struct plan {
	int keep;			/* the message stays where it is */
	char **keep_flags;		/* owned */
	size_t nkeep_flags;
	struct plan_target *targets;	/* owned; copies, the last one moved
					 * when !keep */
	size_t ntargets;
	char *text;			/* owned; for the ledger and the log,
					 * set by plan_describe() */
	char *rule;			/* owned */
	struct sieve_dup *dups;		/* owned; Sieve duplicate IDs to
					 * record once the plan is done */
	size_t ndups;
};

/* What a plan is made from: the owner's rules and the account's folders
 * as resolved for this connection (all borrowed). */
struct plan_rules {
	const struct sieve_script *script;	/* NULL: built-in policy */
	const char *junk;
	const char *trash;
	double spam_threshold;
	/* the mailboxes Sieve's mailboxexists sees (sieve_env), or NULL */
	char *const *mailboxes;
	size_t nmailboxes;
	/* Sieve's duplicate test: the IDs seen before (sieve_env) */
	int (*dup_lookup)(void *ctx, const char *id, long long *seen_at_r);
	void *dup_ctx;
	/* The owner's form of a folder name Sieve's fileinto wrote (store.h
	 * owner_name), malloc'd, so that "INBOX.Junk" is known as Junk on a
	 * server that spells it so; NULL: names as written. */
	char *(*box_name)(void *arg, const char *box);
	void *box_name_arg;
};

/* The plan for a message of folder (len bytes of msg) with its score
 * (negative: not scored); rescued: the owner once took it out of Junk, so
 * it is never filed there again.  A failed Sieve evaluation keeps the
 * message, with *err_r set (malloc'd; the caller logs it), else *err_r
 * is NULL.  p->text is set. */
void plan_make(const struct plan_rules *r, const char *folder,
    const char *msg, size_t len, double score, int rescued,
    struct plan *p, char **err_r);

/* Writes p->text: "keep +\Seen; copy to 'A' +x; move to 'B'". */
void plan_describe(struct plan *p);

/* Reads back a text plan_describe() wrote (as the ledger keeps it) into
 * p, without rule.  -1 if text is not such a description.  A folder name
 * holding "' +" or "; " followed by "copy to '" can be read wrongly. */
int plan_parse(const char *text, struct plan *p);

/* 1 if a and b put the message in the same places with the same flags
 * (flags in any order, names compared as IMAP does), whatever the rule. */
int plan_same_outcome(const struct plan *a, const struct plan *b);

/* Removes Junk targets: the owner rescued the message from there. */
void plan_respect_rescue(struct plan *p, const char *junk);

/* 1 if p files a copy into box. */
int plan_files_into(const struct plan *p, const char *box);

/* The folder the message ends in: the last target when it is moved, else
 * folder (where it is).  Borrowed. */
const char *plan_final_folder(const struct plan *p, const char *folder);
/* The flags it gets there. */
void plan_final_flags(const struct plan *p, char *const **flags_r,
    size_t *n_r);

/* Mailbox names as IMAP compares them: INBOX in any case, others exactly. */
int plan_same_box(const char *a, const char *b);

void plan_release(struct plan *p);

#endif
