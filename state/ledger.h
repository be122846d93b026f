/*
 * ledger.h - what mailsift did to every message, and how far it got.
 *
 * The ledger is the journal that makes sorting idempotent and crash-safe
 * (mbsync's journal, OpenSMTPD's queue): an intent is recorded before the
 * store is touched and marked done after, the highest processed UID of each
 * folder is kept with its UIDVALIDITY, and every message is known by its
 * content hash so that a re-scan never files it twice.  It also remembers
 * how each message was trained, for exact corrections.
 *
 * state/ledger.c alone owns the schema of ledger.db.
 */
#ifndef MAILSIFT_LEDGER_H
#define MAILSIFT_LEDGER_H

#include <stdint.h>

#include "agent/message.h"
#include "state/fsfail.h"

enum decision_state {
	DECISION_PENDING,	/* intent recorded, store not (fully) changed */
	DECISION_DONE,		/* carried out */
	DECISION_SKIPPED,	/* nothing to do, or could not be read */
	DECISION_FAILED,	/* gave up; the message was left in place */
	DECISION_UNDONE		/* carried out, then undone by the owner */
};

/* One known message (by content). */
struct ledger_message {
	int64_t id;
	char hash[MESSAGE_HASH_LEN + 1];
	char *message_id;	/* owned, or NULL */
	char trained[8];	/* "", "spam" or "ham": what the model holds */
	int rescued;		/* the owner took it out of Junk */
	char *junk_by_us;	/* owned: folder we filed it into as junk, or NULL */
	int decided;		/* number of finished decisions about it */
	char *seen_in;		/* owned: folder where the learner last saw
				 * it, or NULL */
};

/* One change of a message's training (agent/learn.c). */
struct ledger_correction {
	int64_t id;
	int64_t message;	/* ledger_message.id */
	int64_t time_ms;	/* unix milliseconds; 0 on add: now */
	char *folder;		/* owned: where the opinion was seen */
	uint32_t uidvalidity;
	uint32_t uid;
	char *reason;		/* owned, e.g. "moved out of Junk" */
	char old_trained[8];	/* "", "spam" or "ham" */
	char new_trained[8];
	char *message_id;	/* owned, from the message row, may be NULL */
};

/* What the first look at a folder left as found (agent/sort.c): its
 * messages up to uid_max, except the unread ones that arrived from the
 * day of since on, which it sorted.  The owner sorts them on request. */
struct ledger_backlog {
	uint32_t uid_max;	/* 0: nothing left as found */
	int64_t since;		/* unix time; 0 when uid_max is 0 */
	uint32_t left;		/* how many are left, as last counted */
};

/* Where a folder's keyword scan last looked. */
struct ledger_keyword_scan {
	uint32_t uidvalidity;
	uint32_t last_uid;	/* the scan covered UIDs up to here */
	uint64_t modseq;	/* the folder's HIGHESTMODSEQ then */
};

/* The keyword opinion last seen on one UID of a folder. */
struct ledger_keyword {
	uint32_t uid;
	int64_t message;	/* ledger_message.id */
	char opinion[8];	/* "", "spam", "ham" or "both" */
};

/* One decision about one message in one folder. */
struct ledger_decision {
	int64_t id;
	int64_t message;	/* ledger_message.id */
	int64_t time;		/* unix seconds */
	int64_t time_ms;	/* the same in milliseconds (readers fill
				 * it; time * 1000 for a decision older
				 * than this field) */
	char *folder;		/* owned */
	uint32_t uidvalidity;
	uint32_t uid;
	double score;		/* < 0: not scored */
	char *verdict;		/* owned, may be NULL */
	char *rule;		/* owned, may be NULL */
	char *actions;		/* owned: the plan, human-readable */
	enum decision_state state;
	char *dest_folder;	/* owned, may be NULL */
	uint32_t dest_uid;	/* 0 if unknown */
	char *error;		/* owned, may be NULL */
	char *message_id;	/* owned, from the message row, may be NULL */
	char *hash;		/* owned, from the message row (readers fill
				 * it; ledger_decision_begin ignores it) */
	int copies_done;	/* copies of the plan made so far */
	char *temp_flags;	/* owned, may be NULL: flags put on the
				 * original for the copy in flight,
				 * space-separated */
	char *evidence;		/* owned, may be NULL (not scored): the
				 * classifier's evidence, JSON
				 * (agent/evidence.h) */
	char *subject;		/* owned, may be NULL (none, or a decision
				 * older than these fields): Subject and */
	char *sender;		/* From as shown to the owner: decoded,
				 * one line, bounded (message.h) */
	int attempts;		/* times it was tried (1 at first) */
	int64_t retry_at;	/* unix seconds: a failed decision is tried
				 * again then; 0: never */
};

struct ledger;

int ledger_open(const char *path, struct ledger **ledger_r, char **err_r);
void ledger_close(struct ledger **ledger);

/* Frees the page cache; for a process about to sit idle. */
void ledger_release_memory(struct ledger *l);
/* Why the last call on this handle failed, as "PATH: CAUSE; FIX" (see
 * db_failure()); borrowed until the next ledger_error call. */
const char *ledger_error(struct ledger *l);
/* Whether the last call failed, and whether that can pass without
 * touching the ledger (state/fsfail.h): a daemon waits and retries. */
enum state_failure ledger_failure_kind(struct ledger *l);

/* Transactions around a group of calls (nesting not supported). */
int ledger_begin(struct ledger *l);
int ledger_commit(struct ledger *l);
void ledger_rollback(struct ledger *l);

/* 1 and the values if the folder is known, 0 if not, -1 on error. */
int ledger_folder_get(struct ledger *l, const char *folder,
    uint32_t *uidvalidity_r, uint32_t *last_uid_r);
int ledger_folder_set(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t last_uid);
/* The backlog of a known folder: 1 found, 0 folder unknown (*b_r zeroed),
 * -1 error.  ledger_backlog_set() needs the folder's row
 * (ledger_folder_set() first). */
int ledger_backlog_get(struct ledger *l, const char *folder,
    struct ledger_backlog *b_r);
int ledger_backlog_set(struct ledger *l, const char *folder,
    const struct ledger_backlog *b);

/* A message whose fetch broke the connection (a server that crashes on
 * it, a literal longer than asked for, a size that cannot come through
 * within imap.timeout): ledger_unreadable_note counts one more such
 * failure in a row, with its reason; _get gives the count (0: none);
 * _forget clears it once the message could be read.  0 or -1. */
int ledger_unreadable_get(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, int *attempts_r);
int ledger_unreadable_note(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, const char *error);
int ledger_unreadable_forget(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid);

/* Finds a message by content hash: 1 found (m_r filled, release with
 * ledger_message_release), 0 not found, -1 error. */
int ledger_message_find(struct ledger *l, const char *hash,
    struct ledger_message *m_r);
/* Adds a message row (or returns the existing one's id). */
int ledger_message_add(struct ledger *l, const char *hash,
    const char *message_id, int64_t *id_r);
/* 1 if a message with this Message-ID was last seen in junk, or was
 * filed there by mailsift and not rescued since: seen anywhere else, it
 * may be the owner's rescue.  0 if none, -1 on error. */
int ledger_message_id_from_junk(struct ledger *l, const char *message_id,
    const char *junk);
int ledger_message_set_trained(struct ledger *l, int64_t id,
    const char *trained);
int ledger_message_set_rescued(struct ledger *l, int64_t id, int rescued);
int ledger_message_set_junk_by_us(struct ledger *l, int64_t id,
    const char *folder);
/* Where the learner last saw the message (NULL: unknown). */
int ledger_message_set_seen_in(struct ledger *l, int64_t id,
    const char *folder);
void ledger_message_release(struct ledger_message *m);

/* Records a change of training; *id_r (may be NULL) receives its id. */
int ledger_correction_add(struct ledger *l, const struct ledger_correction *c,
    int64_t *id_r);
/* Takes back a correction recorded by mistake (the model change it
 * records could not be made). */
int ledger_correction_delete(struct ledger *l, int64_t id);
/* The newest n corrections (n <= 0: all), newest first, of one message
 * (message = its id) or of all (message = 0).  Array owned by the caller;
 * free with ledger_corrections_free. */
int ledger_corrections_recent(struct ledger *l, int64_t message, int n,
    struct ledger_correction **v_r, size_t *n_r);
void ledger_corrections_free(struct ledger_correction *v, size_t n);

/* Keyword opinions recorded for folder under uidvalidity, ascending by
 * uid; plain array owned by the caller (free()). */
int ledger_keywords_in(struct ledger *l, const char *folder,
    uint32_t uidvalidity, struct ledger_keyword **v_r, size_t *n_r);
int ledger_keyword_set(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, int64_t message,
    const char *opinion);
/* Where folder's keyword scan last looked: 1 found, 0 never, -1 error. */
int ledger_keyword_scan_get(struct ledger *l, const char *folder,
    struct ledger_keyword_scan *scan_r);
int ledger_keyword_scan_set(struct ledger *l, const char *folder,
    const struct ledger_keyword_scan *scan);
/* Sieve's duplicate test (RFC 7352): when id was last recorded, 1 with
 * *seen_at_r, 0 never (or forgotten), -1 error. */
int ledger_duplicate_get(struct ledger *l, const char *id,
    long long *seen_at_r);
/* Records id as seen at t, and forgets every ID older than max_age
 * seconds. */
int ledger_duplicate_mark(struct ledger *l, const char *id, long long t,
    long long max_age);

/* Forgets the record of one uid, or with uid 0 every record of folder
 * under another UIDVALIDITY than uidvalidity. */
int ledger_keyword_forget(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid);

/* Records an intent (state PENDING); *id_r receives the decision id. */
int ledger_decision_begin(struct ledger *l, const struct ledger_decision *d,
    int64_t *id_r);
/* Records how far decision id got: copies_done copies are made, and
 * temp_flags (space-separated, NULL for none) were put on the original
 * for the next one and must come off it. */
int ledger_decision_progress(struct ledger *l, int64_t id, int copies_done,
    const char *temp_flags);
/* Records the outcome of decision id (no retry planned). */
int ledger_decision_finish(struct ledger *l, int64_t id,
    enum decision_state state, const char *dest_folder, uint32_t dest_uid,
    const char *error);
/* Plans another try of failed decision id at unix time when. */
int ledger_decision_retry_at(struct ledger *l, int64_t id, int64_t when);
/* Failed decision id is being tried again: pending once more, one more
 * attempt (then resumed like an interrupted one). */
int ledger_decision_reopen(struct ledger *l, int64_t id);
/* Failed decisions of (folder, uidvalidity) whose next try is due at
 * unix time now, oldest first; free with ledger_decisions_free. */
int ledger_decisions_due(struct ledger *l, const char *folder,
    uint32_t uidvalidity, int64_t now, struct ledger_decision **v_r,
    size_t *n_r);
/* 1 if flags mailsift put on the message at (folder, uidvalidity, uid)
 * for a move or copy may still be on it (a pending decision, or a failed
 * one that could not take them off): they are not the owner's.  0 if
 * not, -1 on error. */
int ledger_flags_in_flight(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid);
/* Decision id: 1 found (d_r filled, release with
 * ledger_decision_release), 0 not found, -1 error. */
int ledger_decision_get(struct ledger *l, int64_t id,
    struct ledger_decision *d_r);
/* The pending decision for (folder, uidvalidity, uid): 1 found, 0 none. */
int ledger_decision_pending(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, struct ledger_decision *d_r);
/* All pending decisions of a folder, oldest first; array owned by the
 * caller, free with ledger_decisions_free. */
int ledger_decisions_pending_in(struct ledger *l, const char *folder,
    struct ledger_decision **v_r, size_t *n_r);
/* The newest n decisions (newest first). */
int ledger_decisions_recent(struct ledger *l, int n,
    struct ledger_decision **v_r, size_t *n_r);
void ledger_decision_release(struct ledger_decision *d);
void ledger_decisions_free(struct ledger_decision *v, size_t n);

const char *decision_state_name(enum decision_state st);

#endif
